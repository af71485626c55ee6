"""Pooling: downsample feature maps so small shifts of the input barely change the output.

max_pool2d picks, per window, the first maximum (torch's tie rule) and is computed as a
``gather`` of those positions — so its VJP (scatter-add to the winners) and JVP come from the
gather primitive. avg_pool2d is a depthwise convolution with a constant kernel divided by the
window counts; adaptive pooling uses averaging matrices (P_h x P_wᵀ) or per-cell gathers.
"""
from __future__ import annotations

import math

import numpy as np

from ...ops import gather
from ...ops._util import check_tensor
from ...tensor import Tensor
from .conv import Geometry, _pair, _windows, conv2d


def _pool_sizes(h, k, s, p, d, ceil_mode):
    """Output length of a pooling window sweep (torch's formula, incl. the ceil_mode rule that the
    last window must start inside the input or its left padding)."""
    span = h + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= h + p:
        out -= 1
    return out


def _check4d(input, op):
    check_tensor(input, op)
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W) or (C, H, W), got {tuple(input.shape)}")
    return input, False


def _pool_args(kernel_size, stride, padding, dilation, op):
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == [] or stride == () else _pair(stride, "stride", op)
    p, d = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: pad should be at most half of effective kernel size, got "
                         f"padding={p}, kernel_size={k}")
    return k, s, p, d


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each k×k window: out[n, c, i, j] = max_{p,q} x[n, c, i·s + p·d − pad, j·s + q·d − pad].

    Padding counts as −∞. Shapes: (N, C, H, W) -> (N, C, Ho, Wo). With ``return_indices``
    also returns the flat index (into H·W) of each maximum.
    """
    x, unbatched = _check4d(input, "max_pool2d")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pool_args(kernel_size, stride, padding, dilation,
                                                         "max_pool2d")
    n, c, h, w = x.shape
    ho = _pool_sizes(h, kh, sh, ph, dh, ceil_mode)
    wo = _pool_sizes(w, kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(f"max_pool2d: output size ({ho}, {wo}) is too small for input {tuple(x.shape)}")
    # pad with −inf (extra on the bottom/right for ceil_mode windows that overhang)
    extra_h = max(0, (ho - 1) * sh + dh * (kh - 1) + 1 - (h + 2 * ph))
    extra_w = max(0, (wo - 1) * sw + dw * (kw - 1) + 1 - (w + 2 * pw))
    data = x._data
    if ph or pw or extra_h or extra_w:
        data = np.pad(data, ((0, 0), (0, 0), (ph, ph + extra_h), (pw, pw + extra_w)),
                      constant_values=-np.inf)
    geo = Geometry((sh, sw), (0, 0), (dh, dw), 1, (kh, kw))
    win = _windows(data, geo, ho, wo)                                  # (N, C, kh, kw, Ho, Wo)
    best = win.reshape(n, c, kh * kw, ho, wo).argmax(axis=2)            # first max in window order
    bp, bq = np.divmod(best, kw)
    rows = np.arange(ho)[:, None] * sh + bp * dh - ph
    cols = np.arange(wo)[None, :] * sw + bq * dw - pw
    index = (rows * w + cols).reshape(n, c, ho * wo)
    out = gather(x.reshape(n, c, h * w), 2, Tensor._make(index)).reshape(n, c, ho, wo)
    idx = Tensor._make(index.reshape(n, c, ho, wo))
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over each k×k window (a depthwise convolution with a kernel of ones, divided by the
    window's count: k², the in-bounds count when ``count_include_pad=False``, or
    ``divisor_override``). Shapes: (N, C, H, W) -> (N, C, Ho, Wo)."""
    x, unbatched = _check4d(input, "avg_pool2d")
    (kh, kw), (sh, sw), (ph, pw), _ = _pool_args(kernel_size, stride, padding, 1, "avg_pool2d")
    n, c, h, w = x.shape
    ho = _pool_sizes(h, kh, sh, ph, 1, ceil_mode)
    wo = _pool_sizes(w, kw, sw, pw, 1, ceil_mode)
    extra_h = max(0, (ho - 1) * sh + kh - (h + 2 * ph))
    extra_w = max(0, (wo - 1) * sw + kw - (w + 2 * pw))
    if extra_h or extra_w:
        from ...ops import pad
        x = pad(x, (0, extra_w, 0, extra_h))
    ones = Tensor._make(np.ones((c, 1, kh, kw), x._data.dtype))
    sums = conv2d(x, ones, stride=(sh, sw), padding=(ph, pw), groups=c)
    if divisor_override is not None:
        divisor = np.full((ho, wo), float(divisor_override))
    else:
        def counts(size, k, s, p, out):
            start = np.arange(out) * s - p
            end = np.minimum(start + k, size + p)          # windows end at the padded border
            if count_include_pad:
                return end - start
            return np.minimum(end, size) - np.maximum(start, 0)
        divisor = np.outer(counts(h, kh, sh, ph, ho), counts(w, kw, sw, pw, wo))
    out = sums / Tensor._make(divisor.astype(x._data.dtype))
    return out.squeeze(0) if unbatched else out


def _adaptive_ranges(size, out):
    """torch's adaptive windows: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) for i < out."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _output_size(output_size, h, w, op):
    oh, ow = _pair(output_size if output_size is not None else (h, w), "output_size", op) \
        if not isinstance(output_size, (tuple, list)) else (output_size[0] or h, output_size[1] or w)
    return int(oh), int(ow)


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over adaptive windows giving exactly ``output_size`` (e.g. 1 = global average
    pooling). Computed as P_h · x · P_wᵀ with averaging matrices P."""
    x, unbatched = _check4d(input, "adaptive_avg_pool2d")
    h, w = x.shape[2:]
    oh, ow = _output_size(output_size, h, w, "adaptive_avg_pool2d")

    def matrix(size, out):
        m = np.zeros((out, size), x._data.dtype)
        for i, (a, b) in enumerate(_adaptive_ranges(size, out)):
            m[i, a:b] = 1.0 / (b - a)
        return Tensor._make(m)
    if (oh, ow) == (1, 1):
        out = x.mean((2, 3), keepdim=True)
    else:
        out = matrix(h, oh) @ x @ matrix(w, ow).T
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows giving exactly ``output_size`` (first maximum wins)."""
    x, unbatched = _check4d(input, "adaptive_max_pool2d")
    n, c, h, w = x.shape
    oh, ow = _output_size(output_size, h, w, "adaptive_max_pool2d")
    data = x._data
    index = np.empty((n, c, oh, ow), np.int64)
    for i, (a, b) in enumerate(_adaptive_ranges(h, oh)):   # a loop over output cells only
        for j, (e, f) in enumerate(_adaptive_ranges(w, ow)):
            block = data[:, :, a:b, e:f].reshape(n, c, -1).argmax(-1)
            r, q = np.divmod(block, f - e)
            index[:, :, i, j] = (a + r) * w + (e + q)
    out = gather(x.reshape(n, c, h * w), 2, Tensor._make(index.reshape(n, c, -1))).reshape(n, c, oh, ow)
    idx = Tensor._make(index)
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero whole channels with probability p (scaling the rest by 1/(1−p)): (N, C, H, W)."""
    from ...random import _rng
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected (N, C, H, W) or (C, H, W), got {tuple(input.shape)}")
    shape = tuple(input.shape[:-2]) + (1, 1)
    keep = _rng(generator).random(shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    out = input * Tensor._make((keep * scale).astype(input._data.dtype))
    return input.copy_(out) if inplace else out


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None) -> Tensor:
    """Resize (N, C, H, W) images: 'nearest' (src = ⌊dst·in/out⌋) or 'bilinear' (separable
    linear interpolation, out = A_h · x · A_wᵀ, with torch's align_corners convention)."""
    x, unbatched = _check4d(input, "interpolate")
    h, w = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size or scale_factor")
    if size is not None:
        oh, ow = _pair(size, "size", "interpolate")
        scales = (h / oh, w / ow)
    else:
        fh, fw = (scale_factor, scale_factor) if not isinstance(scale_factor, (tuple, list)) else scale_factor
        oh, ow = int(math.floor(h * fh)), int(math.floor(w * fw))
        scales = (1 / fh, 1 / fw)
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError("interpolate: align_corners only applies to 'bilinear'")
        rows = np.minimum((np.arange(oh) * scales[0]).astype(np.int64), h - 1)
        cols = np.minimum((np.arange(ow) * scales[1]).astype(np.int64), w - 1)
        out = x[:, :, rows[:, None], cols[None, :]]
    elif mode == "bilinear":
        def matrix(size_in, size_out, scale):
            if align_corners:
                src = np.arange(size_out) * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0)
            else:
                src = np.maximum((np.arange(size_out) + 0.5) * scale - 0.5, 0)
            lo = np.minimum(np.floor(src).astype(np.int64), size_in - 1)
            hi = np.minimum(lo + 1, size_in - 1)
            frac = src - lo
            m = np.zeros((size_out, size_in), x._data.dtype)
            np.add.at(m, (np.arange(size_out), lo), 1 - frac)
            np.add.at(m, (np.arange(size_out), hi), frac)
            return Tensor._make(m)
        out = matrix(h, oh, scales[0]) @ x @ matrix(w, ow, scales[1]).T
    else:
        raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")
    return out.squeeze(0) if unbatched else out
