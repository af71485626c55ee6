"""True 2-D convolution next to cross-correlation.

The deck's discrete convolution flips the kernel:

    S(i, j) = (I ∗ K)(i, j) = Σ_m Σ_n I(i − m, j − n) K(m, n)

while deep learning's "conv2d" slides the kernel unflipped (cross-correlation):

    C(i, j) = Σ_m Σ_n I(i + m, j + n) K(m, n).

For a learned kernel the difference does not matter: the network simply learns the flipped
kernel. For a fixed kernel (Sobel, Laplacian) it flips the sign of odd kernels, so
``convolve2d`` here is the mathematician's convolution and ``correlate2d`` the network's.
Modes follow scipy.signal: 'full' (every overlap, (H+kh−1)×(W+kw−1)), 'same' (the input's
size, centred as SciPy does) and 'valid' (only full overlaps).
"""
from __future__ import annotations

import numpy as np

from ..creation import as_tensor
from ..nn.functional.conv import conv2d
from ..ops import pad
from ..tensor import Tensor

_MODES = ("full", "same", "valid")


def _as_image(x, name, op):
    t = x if isinstance(x, Tensor) else as_tensor(np.asarray(x))
    if t.ndim != 2:
        raise ValueError(f"{op}: expected a 2-D {name} (H, W), got shape {tuple(t.shape)}")
    return t if t.is_floating_point() else t.float()


def correlate2d(image, kernel, mode: str = "full") -> Tensor:
    """Cross-correlation C(i, j) = Σ_m Σ_n I(i + m, j + n) K(m, n) (scipy.signal.correlate2d
    with zero boundary). image (H, W), kernel (kh, kw) -> 2-D tensor sized by ``mode``."""
    if mode not in _MODES:
        raise ValueError(f"correlate2d: mode must be one of {_MODES}, got {mode!r}")
    img, ker = _as_image(image, "image", "correlate2d"), _as_image(kernel, "kernel", "correlate2d")
    if ker.dtype is not img.dtype:
        ker = ker.to(img.dtype)
    kh, kw = ker.shape
    h, w = img.shape
    x = img.reshape(1, 1, h, w)
    if mode == "full":
        x = pad(x, (kw - 1, kw - 1, kh - 1, kh - 1))
    elif mode == "same":  # scipy centres the output: (k−1)//2 zeros before, k//2 after
        x = pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
    out = conv2d(x, ker.reshape(1, 1, kh, kw))
    return out.reshape(out.shape[2], out.shape[3])


def convolve2d(image, kernel, mode: str = "full") -> Tensor:
    """True convolution S(i, j) = Σ_m Σ_n I(i − m, j − n) K(m, n): correlation with the kernel
    flipped in both axes (scipy.signal.convolve2d with zero boundary)."""
    if mode not in _MODES:
        raise ValueError(f"convolve2d: mode must be one of {_MODES}, got {mode!r}")
    ker = _as_image(kernel, "kernel", "convolve2d").flip((0, 1))
    img = _as_image(image, "image", "convolve2d")
    if mode == "same":  # scipy's 'same' for convolution centres the other way round
        kh, kw = ker.shape
        full = correlate2d(img, ker, "full")
        top, left = (kh - 1) // 2, (kw - 1) // 2
        return full[top: top + img.shape[0], left: left + img.shape[1]]
    return correlate2d(img, ker, mode)
