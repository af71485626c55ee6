"""Pooling makes features invariant to small shifts (card "purpose of Pooling layers").

Each 8×8 digit is padded to 12×12 and shifted by one pixel (right, down, diagonal). The
features are 8 fixed 3×3 filters + ReLU (``F.conv2d``), read out (a) as they are, (b) after
2×2 max pooling (``F.max_pool2d``), (c) after 2×2 average pooling, (d) after global max pooling
(``F.adaptive_max_pool2d(·, 1)``). Measured: the relative change ‖f(x) − f(shift x)‖ / ‖f(x)‖,
averaged over the images and shifts — the smaller, the more shift-invariant.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.vision import filters

from ._common import report, subplots
from ._data import digits

READOUTS = {
    "no pooling": lambda h: h,
    "2x2 max pool": lambda h: F.max_pool2d(h, 2),
    "2x2 avg pool": lambda h: F.avg_pool2d(h, 2),
    "global max pool": lambda h: F.adaptive_max_pool2d(h, 1),
}


def kernels():
    """8 fixed 3×3 filters: the Sobel pair, their negatives, both Laplacians, two diagonals."""
    sx, sy = np.asarray(filters.SOBEL_X, np.float32), np.asarray(filters.SOBEL_Y, np.float32)
    l4, l8 = np.asarray(filters.LAPLACIAN_4, np.float32), np.asarray(filters.LAPLACIAN_8, np.float32)
    d1 = np.array([[2, 1, 0], [1, 0, -1], [0, -1, -2]], np.float32)
    return np.stack([sx, sy, -sx, -sy, -l4, -l8, d1, -d1])[:, None]


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    _, (X, _) = digits()
    X = X[:100] if fast else X
    Xp = np.pad(X, ((0, 0), (0, 0), (2, 2), (2, 2)))
    W = cr.tensor(kernels())
    with cr.no_grad():
        def features(imgs):
            return F.relu(F.conv2d(cr.tensor(np.ascontiguousarray(imgs)), W, padding=1))
        base = features(Xp)
        change = {name: [] for name in READOUTS}
        for dy, dx in ((0, 1), (1, 0), (1, 1)):
            shifted = features(np.roll(Xp, (dy, dx), axis=(2, 3)))
            for name, readout in READOUTS.items():
                a = readout(base).numpy().reshape(len(X), -1)
                b = readout(shifted).numpy().reshape(len(X), -1)
                change[name].append(np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1))
    rel = {n: float(np.mean(v)) for n, v in change.items()}

    fig, ax = subplots(figsize=(6, 3.5))
    ax.bar(list(rel), list(rel.values()), color=["C3", "C0", "C2", "C1"])
    ax.set_ylabel("‖f(x) − f(shifted x)‖ / ‖f(x)‖"), ax.set_title("Feature change under a 1-pixel shift")
    ax.tick_params(axis="x", labelsize=8)

    finding = "pooling: relative feature change under a 1-pixel shift: " + ", ".join(
        f"{n} {v:.2f}" for n, v in rel.items())
    return report({"relative_change": rel, "images": len(X)}, finding, fig, out_dir, "pooling")
