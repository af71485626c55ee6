"""True 2-D convolution vs cross-correlation (card "discrete 2D image convolution"):

    convolution        S(i, j) = (I ∗ K)(i, j) = Σ_m Σ_n I(i − m, j − n) K(m, n)   (kernel flipped)
    cross-correlation  S(i, j) = (I ⋆ K)(i, j) = Σ_m Σ_n I(i + m, j + n) K(m, n)   (what conv2d does)

``chainrule.vision.convolve2d`` and ``correlate2d`` against ``chainrule.nn.functional.conv2d``:
on an image holding one bright pixel, convolution stamps the kernel itself and correlation
stamps it rotated by 180°; conv2d equals correlation; convolving equals correlating with the
flipped kernel. For a learned kernel the flip does not matter — the net learns the flipped one.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import vision

from ._common import report, subplots

# an asymmetric kernel, so that its flip is visibly different
KERNEL = np.array([[1, 2, 0], [0, 3, 0], [0, 0, -1]], dtype=np.float32)


def _np(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    impulse = np.zeros((7, 7), dtype=np.float32)
    impulse[3, 3] = 1.0
    conv = _np(vision.convolve2d(impulse, KERNEL, mode="same"))
    corr = _np(vision.correlate2d(impulse, KERNEL, mode="same"))
    conv_stamps_kernel = bool(np.allclose(conv[2:5, 2:5], KERNEL))
    corr_stamps_flipped = bool(np.allclose(corr[2:5, 2:5], KERNEL[::-1, ::-1]))

    rng = np.random.default_rng(0)
    size = 32 if fast else 128
    img = rng.standard_normal((size, size)).astype(np.float32)
    corr_img = _np(vision.correlate2d(img, KERNEL, mode="valid"))
    conv2d_img = F.conv2d(cr.tensor(img[None, None]), cr.tensor(KERNEL[None, None])).numpy()[0, 0]
    conv_img = _np(vision.convolve2d(img, KERNEL, mode="valid"))
    flipped = _np(vision.correlate2d(img, np.ascontiguousarray(KERNEL[::-1, ::-1]), mode="valid"))
    err_conv2d = float(np.max(np.abs(conv2d_img - corr_img)))
    err_flip = float(np.max(np.abs(conv_img - flipped)))
    differ = float(np.max(np.abs(conv_img - corr_img)))

    fig, axes = subplots(1, 4, figsize=(12, 3.2))
    for ax, (title, a) in zip(axes, [("kernel K", KERNEL), ("image: one bright pixel", impulse),
                                     ("convolution I ∗ K", conv), ("cross-correlation (conv2d)", corr)]):
        ax.imshow(a, cmap="RdBu_r", vmin=-3, vmax=3)
        ax.set_title(title, fontsize=9), ax.set_xticks([]), ax.set_yticks([])

    finding = (f"convolution: an impulse convolved stamps K (match: {conv_stamps_kernel}), "
               f"correlated stamps K rotated 180° (match: {corr_stamps_flipped}); "
               f"|conv2d − correlate2d| = {err_conv2d:.1e}, |convolve2d − correlate2d(flip K)| = "
               f"{err_flip:.1e}, while convolve2d and correlate2d differ by up to {differ:.2f}")
    return report({"conv_stamps_kernel": conv_stamps_kernel,
                   "corr_stamps_flipped_kernel": corr_stamps_flipped,
                   "conv2d_vs_correlate2d_max_err": err_conv2d,
                   "convolve_vs_flipped_correlate_max_err": err_flip,
                   "convolve_vs_correlate_max_diff": differ}, finding, fig, out_dir, "convolution")
