"""Resizing feature maps: nearest-neighbour and (bi)linear interpolation, as torch's
``interpolate``.

Both are linear maps of the input, written as products with small interpolation matrices
(out = A_h · x · A_wᵀ for images), so their gradients and JVPs come from matmul's, and the
work is a few GEMMs — no loop over pixels.
"""
from __future__ import annotations

import math

import numpy as np

from ...ops._util import check_tensor
from ...tensor import Tensor


def _source_index_nearest(size_in, size_out, scale):
    """torch's 'nearest': src = min(⌊dst · scale⌋, in − 1)."""
    return np.minimum((np.arange(size_out) * scale).astype(np.int64), size_in - 1)


def _linear_matrix(size_in, size_out, scale, align_corners, dtype):
    """(out, in) matrix of linear-interpolation weights along one axis (torch's conventions:
    align_corners maps the corner pixels' centres onto each other; otherwise the half-pixel
    rule src = (dst + ½)·scale − ½, clamped at 0)."""
    if align_corners:
        step = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        src = np.arange(size_out) * step
    else:
        src = np.maximum((np.arange(size_out) + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
    hi = np.minimum(lo + 1, size_in - 1)
    frac = src - lo
    m = np.zeros((size_out, size_in), dtype)
    np.add.at(m, (np.arange(size_out), lo), 1 - frac)
    np.add.at(m, (np.arange(size_out), hi), frac)
    return Tensor._make(m)


def _sizes(spatial, size, scale_factor):
    """Output sizes and the source/destination scales torch uses for them."""
    d = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * d
        if len(out) != d:
            raise ValueError(f"interpolate: size must have {d} entries for this input, got {size}")
        out = tuple(int(o) for o in out)
        _positive_sizes(spatial, out)
        return out, tuple(i / o for i, o in zip(spatial, out))
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * d
    if len(factors) != d:
        raise ValueError(f"interpolate: scale_factor must have {d} entries, got {scale_factor}")
    if not all(f > 0 and math.isfinite(f) for f in factors):
        raise ValueError(f"interpolate: scale_factor must be positive and finite, got {scale_factor}")
    out = tuple(int(math.floor(i * f)) for i, f in zip(spatial, factors))
    _positive_sizes(spatial, out)
    return out, tuple(1.0 / f for f in factors)


def _positive_sizes(spatial, out):
    if min(out, default=1) < 1 or min(spatial, default=1) < 1:
        raise RuntimeError(f"interpolate: input and output sizes should be greater than 0, but "
                           f"got input {tuple(spatial)} and output {tuple(out)}")


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None) -> Tensor:
    """Resize a batch of signals or images.

    Input (N, C, L) with mode 'nearest' or 'linear', or (N, C, H, W) with 'nearest' or
    'bilinear'; give either ``size`` or ``scale_factor``. 'nearest' copies
    x[⌊i·in/out⌋]; (bi)linear interpolation is separable, out = A_h · x · A_wᵀ, with torch's
    ``align_corners`` convention (default False). Output (N, C, *size).

    Example:
        >>> interpolate(chainrule.randn(1, 3, 8, 8), scale_factor=2, mode='bilinear').shape
        (1, 3, 16, 16)
    """
    check_tensor(input, "interpolate")
    if input.ndim not in (3, 4):
        raise ValueError(f"interpolate: expected input (N, C, L) or (N, C, H, W), got "
                         f"{tuple(input.shape)}")
    linear = {3: "linear", 4: "bilinear"}[input.ndim]
    if mode not in ("nearest", linear):
        raise ValueError(f"interpolate: mode must be 'nearest' or {linear!r} for a "
                         f"{input.ndim}-D input, got {mode!r}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear")
    spatial = tuple(input.shape[2:])
    out_size, scales = _sizes(spatial, size, scale_factor)
    if mode == "nearest":
        idx = [_source_index_nearest(i, o, s) for i, o, s in zip(spatial, out_size, scales)]
        if input.ndim == 3:
            return input[:, :, idx[0]]
        return input[:, :, idx[0][:, None], idx[1][None, :]]
    dtype = input._data.dtype
    mats = [_linear_matrix(i, o, s, bool(align_corners), dtype)
            for i, o, s in zip(spatial, out_size, scales)]
    if input.ndim == 3:
        return input @ mats[0].T
    return mats[0] @ input @ mats[1].T
