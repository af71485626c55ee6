"""Classic edge filters on a real photo (cards "Sobel Filter", "Horizontal / Vertical Sobel",
"Gradient Magnitude", "Laplacian Operator"):

    G_x = [[−1, 0, +1], [−2, 0, +2], [−1, 0, +1]]   horizontal derivative: vertical edges
    G_y = [[−1, −2, −1], [0, 0, 0], [+1, +2, +1]]   vertical derivative: horizontal edges
    |G| = √(G_x² + G_y²)                            edge strength
    ∇²I with [[0, 1, 0], [1, −4, 1], [0, 1, 0]]     second derivative, isotropic

The photo is scikit-image's ``camera`` when scikit-image is installed, else scikit-learn's
bundled ``china.jpg`` in grey (both ship inside the packages; nothing is downloaded). The
measured finding: on a synthetic vertical and a horizontal step, G_x answers only the first
and G_y only the second; on the photo, the share of pixels that are edges.
"""
from __future__ import annotations

import numpy as np

from chainrule.vision import filters

from ._common import report, subplots


def photo():
    """(name, grey image float32 in [0, 1]) of a real photo shipped inside a package."""
    try:
        from skimage import data
        return "scikit-image camera", data.camera().astype(np.float32) / 255.0
    except ImportError:
        pass
    try:
        from sklearn.datasets import load_sample_image
        rgb = load_sample_image("china.jpg").astype(np.float32) / 255.0
        return "scikit-learn china.jpg", rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    except ImportError:
        raise ImportError("the filters demo needs a real photo from scikit-image "
                          "(pip install scikit-image) or scikit-learn "
                          "(pip install 'chainrule[datasets]')") from None


def _np(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    name, img = photo()
    if fast:
        img = img[::2, ::2].copy()
    gx = _np(filters.sobel(img, axis=1))
    gy = _np(filters.sobel(img, axis=0))
    mag = _np(filters.gradient_magnitude(img))
    lap = _np(filters.laplacian(img, neighbours=4))
    mag_err = float(np.max(np.abs(mag - np.sqrt(gx ** 2 + gy ** 2))))
    edge_share = float(np.mean(mag > 0.5))

    vstep = np.zeros((16, 16), np.float32)
    vstep[:, 8:] = 1.0                      # a vertical edge
    hstep = np.ascontiguousarray(vstep.T)   # a horizontal edge
    inner = (slice(2, -2), slice(2, -2))    # away from the borders' padding
    resp = {}
    for sname, s in (("vertical", vstep), ("horizontal", hstep)):
        resp[sname] = {"Gx": float(np.abs(_np(filters.sobel(s, axis=1))[inner]).sum()),
                       "Gy": float(np.abs(_np(filters.sobel(s, axis=0))[inner]).sum())}

    fig, axes = subplots(1, 5, figsize=(17, 3.6))
    for ax, (title, a, cmap) in zip(axes, [(name, img, "gray"), ("Sobel Gx", gx, "RdBu_r"),
                                           ("Sobel Gy", gy, "RdBu_r"), ("|G|", mag, "magma"),
                                           ("Laplacian", lap, "RdBu_r")]):
        lim = np.percentile(np.abs(a), 99)
        kw = {"vmin": -lim, "vmax": lim} if cmap == "RdBu_r" else {}
        ax.imshow(a, cmap=cmap, **kw)
        ax.set_title(title), ax.set_xticks([]), ax.set_yticks([])

    finding = (f"filters: on a vertical step Gx sums {resp['vertical']['Gx']:.0f} and Gy "
               f"{resp['vertical']['Gy']:.0f}; on a horizontal step Gx {resp['horizontal']['Gx']:.0f}, "
               f"Gy {resp['horizontal']['Gy']:.0f}; on {name} ({img.shape[0]}x{img.shape[1]}) "
               f"{edge_share * 100:.1f}% of pixels have |G| > 0.5")
    return report({"photo": name, "shape": list(img.shape), "step_response": resp,
                   "edge_share": edge_share, "magnitude_identity_max_err": mag_err,
                   "laplacian_mean": float(lap.mean())}, finding, fig, out_dir, "filters")
