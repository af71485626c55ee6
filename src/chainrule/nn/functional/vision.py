"""Resizing feature maps (torch's ``interpolate``, every mode) and pixel (un)shuffle.

Every interpolation mode but 'area' is separable: along each spatial axis the output is a fixed
linear map of the input, out = A · x, with A (out, in) holding torch's weights for that axis
('nearest': one 1 per row; 'linear': two taps; 'bicubic': four, Keys' kernel with a = −0.75,
borders clamped; antialias: a filter stretched over the whole source window, each row
normalised). An N-d resize is one such product per axis, recorded as one linear node under
torch's name (``UpsampleBilinear2DBackward0``, ...) whose transpose applies the Aᵀ — so it is
differentiable to any order and its JVP is itself. 'nearest' reads its rows by index rather
than by product (so an inf stays an inf, not 0·inf). 'area' is adaptive average pooling.

uint8 images follow torch's CPU integer kernels: 'nearest' copies; 'bilinear'/'bicubic' use the
antialias kernel's weights rounded to int16 with the precision Pillow picks, each axis a pass
whose sums are rounded back to uint8 (the width first) — the same numbers torch returns.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..._graph import Node
from ...ops._util import check_tensor
from ...tensor import Tensor
from . import pooling, pooling_nd
from .pooling import scalar_name

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_NEEDS = {"linear": 3, "bilinear": 4, "trilinear": 5}


# ---------------------------------------------------------------------------- per-axis weights
def _nearest_index(size_in, size_out, scale, exact):
    """torch's source index, computed in float32 as torch's kernel does:
    'nearest' ⌊dst·s⌋, 'nearest-exact' ⌊(dst + ½)·s⌋, clamped to the input; s = 1/scale_factor
    when one is used, else in/out."""
    s = np.float32(1.0 / scale) if scale else np.float32(size_in) / np.float32(size_out)
    dst = np.arange(size_out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(dst * s).astype(np.int64), size_in - 1)


def _area_scale(size_in, size_out, scale, align_corners):
    """torch's area_pixel_compute_scale."""
    if align_corners:
        return (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
    return 1.0 / scale if scale else size_in / size_out


def _source(size_in, size_out, scale, align_corners, cubic, dtype):
    """torch's area_pixel_compute_source_index, in the input's precision (float32 or float64)."""
    s = dtype.type(_area_scale(size_in, size_out, scale, align_corners))
    dst = np.arange(size_out, dtype=dtype)
    if align_corners:
        return s * dst
    # torch's compiled s·(dst + ½) − ½ is one fused multiply-add (a single rounding): the
    # product and difference in a wider type, rounded once
    wide = np.float64 if dtype == np.float32 else np.longdouble
    src = (wide(s) * (dst + dtype.type(0.5)).astype(wide) - wide(0.5)).astype(dtype)
    return src if cubic else np.maximum(src, dtype.type(0))


def _linear_taps(size_in, size_out, scale, align_corners, dtype):
    """Two taps per output, (1 − λ, λ) at ⌊src⌋ and the next pixel (the last one repeats):
    (indices (out, 2), weights (out, 2))."""
    src = _source(size_in, size_out, scale, align_corners, False, dtype)
    lo = np.minimum(src.astype(np.int64), size_in - 1)
    hi = np.minimum(lo + 1, size_in - 1)
    lam = np.minimum(np.maximum(src - lo.astype(dtype), dtype.type(0)), dtype.type(1))
    return np.stack([lo, hi], 1), np.stack([1 - lam, lam], 1)


def _matrix(taps, size_in):
    """The (out, in) matrix of a set of taps (repeated indices add up)."""
    idx, w = taps
    m = np.zeros((idx.shape[0], size_in), w.dtype)
    np.add.at(m, (np.arange(idx.shape[0])[:, None], idx), w)
    return m


def _cubic_taps(size_in, size_out, scale, align_corners, dtype):
    """Four taps per output: Keys' cubic convolution (a = −0.75, torch's) on the pixels
    ⌊src⌋ − 1 … ⌊src⌋ + 2, indices clamped to the border."""
    a = dtype.type(-0.75)
    src = _source(size_in, size_out, scale, align_corners, True, dtype)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0.astype(dtype)

    def near(x):        # |x| ≤ 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):         # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    one = dtype.type(1)
    weights = np.stack([far(t + one), near(t), near(one - t), far(2 * one - t)], 1)
    idx = np.clip(i0[:, None] + np.arange(-1, 3), 0, size_in - 1)
    return idx, weights


def _aa_weights(size_in, size_out, scale, align_corners, cubic, antialias):
    """torch's (and Pillow's) separable-resampling weights, float64 (out, in): output i averages
    the source window around centre = s·(i + ½) with a bilinear or bicubic filter, stretched by
    s when downsampling with antialias; each row normalised to sum 1."""
    s = _area_scale(size_in, size_out, scale, align_corners)
    interp = 4 if cubic else 2
    support = interp * 0.5 * s if antialias and s >= 1.0 else interp * 0.5
    invscale = 1.0 / s if antialias and s >= 1.0 else 1.0
    delta = 0.5 if align_corners and not antialias else 0.0
    a = -0.5 if antialias else -0.75

    def filt(x):
        x = np.abs(x)
        if not cubic:
            return np.where(x < 1.0, 1.0 - x, 0.0)
        return np.where(x <= 1.0, ((a + 2) * x - (a + 3)) * x * x + 1,
                        np.where(x < 2.0, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    m = np.zeros((size_out, size_in))
    for i in range(size_out):
        center = s * (i + 0.5 - delta)
        lo = max(int(center - support + 0.5 + delta), 0)
        hi = min(int(center + support + 0.5 + delta), size_in)
        w = filt((np.arange(lo, hi) - center + 0.5 - delta) * invscale)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0 else w
    return m


# ---------------------------------------------------------------------------- the node
def _along(x, axis, op, transposed=False):
    """x with one axis mapped: ('take', idx, n_in) reads entries; ('taps', idx, w, n_in) sums
    w[:, t]·x[idx[:, t]] over t in order, in x's precision (torch's arithmetic); ('mat', A)
    multiplies by A. Transposed: the adjoint (add back, or multiply by the matrix's Aᵀ)."""
    kind = op[0]
    if kind == "take" and not transposed:
        return np.take(x, op[1], axis=axis)
    if kind == "take":
        _, idx, n_in = op
        moved = np.moveaxis(x, axis, 0)
        out = np.zeros((n_in,) + moved.shape[1:], x.dtype)
        np.add.at(out, idx, moved)
        return np.moveaxis(out, 0, axis)
    if kind == "taps" and not transposed:
        _, idx, w, _ = op
        shape = [1] * x.ndim
        shape[axis] = -1
        w = w.astype(x.dtype, copy=False)
        out = np.take(x, idx[:, 0], axis=axis) * w[:, 0].reshape(shape)
        for t in range(1, idx.shape[1]):
            out += np.take(x, idx[:, t], axis=axis) * w[:, t].reshape(shape)
        return out
    m = _matrix(op[1:3], op[3]) if kind == "taps" else op[1]
    m = m.T if transposed else m
    return np.moveaxis(np.tensordot(x, m.astype(x.dtype, copy=False), axes=([axis], [1])), -1, axis)


class Resample(Node):
    """y = x with spatial axis i mapped by ``ops[i]`` (a gather, taps or an (out, in) matrix):
    linear; its transpose applies the transposed maps (ResampleBackward)."""

    linear = True
    params = ("ops",)

    def forward(self, x):
        d = len(self.ops)
        for i in reversed(range(d)):        # the last axis first, as torch's inner loop
            x = _along(x, x.ndim - d + i, self.ops[i])
        return np.ascontiguousarray(x)

    def transpose(self, xp, g):
        return xp.apply(ResampleBackward, g, ops=self.ops)


class ResampleBackward(Node):
    """x̄ = ȳ with spatial axis i mapped by the transpose of ``ops[i]``."""

    linear = True
    params = ("ops",)

    def forward(self, g):
        d = len(self.ops)
        for i, op in enumerate(self.ops):
            g = _along(g, g.ndim - d + i, op, transposed=True)
        return np.ascontiguousarray(g)

    def transpose(self, xp, g):
        return xp.apply(Resample, g, ops=self.ops)


_NODES = {}


def _node(mode, d, antialias):
    """Resample under torch's node name for this mode and dimensionality."""
    stem = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
            "bilinear": "Bilinear", "bicubic": "Bicubic", "trilinear": "Trilinear"}[mode]
    name = f"Upsample{stem}{d}D{'Aa' if antialias else ''}Backward0"
    if name not in _NODES:
        _NODES[name] = Resample.named(name)
    return _NODES[name]


# ---------------------------------------------------------------------------- uint8
def _uint8_pass(x, axis, weights):
    """One integer resampling pass along ``axis`` (torch's/Pillow's): weights rounded to int16
    at the highest precision (at most 22 bits) keeping the largest below 2¹⁵, sums rounded back
    to uint8."""
    w_max = np.abs(weights).max()
    precision = 0
    while precision < 22:
        if int(0.5 + w_max * (1 << (precision + 1))) >= (1 << 15):
            break
        precision += 1
    v = weights * (1 << precision)
    w16 = np.where(v < 0, v - 0.5, v + 0.5).astype(np.int64)     # C's truncation after ±½
    acc = np.moveaxis(np.tensordot(x.astype(np.int64), w16, axes=([axis], [1])), -1, axis)
    acc = (acc + (1 << (precision - 1))) >> precision if precision else acc
    return np.clip(acc, 0, 255).astype(np.uint8)


def _uint8_resample(x, out_size, scales, align_corners, cubic, antialias):
    """(N, C, H, W) uint8 -> (N, C, Ho, Wo) uint8: the width pass, then the height pass (each
    only where that size changes), as torch's CPU kernel."""
    data = x
    for axis in (3, 2):
        n_in, n_out = data.shape[axis], out_size[axis - 2]
        if n_in == n_out:
            continue
        if antialias:
            weights = _aa_weights(n_in, n_out, scales[axis - 2], align_corners, cubic, True)
        else:
            build = _cubic_taps if cubic else _linear_taps
            weights = _matrix(build(n_in, n_out, scales[axis - 2], align_corners,
                                    np.dtype(np.float64)), n_in)
        data = _uint8_pass(data, axis, weights)
    return data


# ---------------------------------------------------------------------------- public API
def _sizes(input, size, scale_factor, recompute_scale_factor):
    """Output sizes, and the scale factors the kernels use (None: in/out), as torch computes."""
    spatial = tuple(input.shape[2:])
    d = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (tuple, list)):
            if len(size) != d:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(spatial)} and output size of {size}. Please provide "
                                 f"input tensor in (N, C, d1, d2, ...,dK) format and output size "
                                 f"in (o1, o2, ...,oK) format.")
            out = tuple(int(o) for o in size)
        else:
            out = (int(size),) * d
        scales = (None,) * d
    elif scale_factor is not None:
        if isinstance(scale_factor, (tuple, list)):
            if len(scale_factor) != d:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(spatial)} and scale_factor of shape {scale_factor}. "
                                 f"Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                                 f"and scale_factor in (s1, s2, ...,sK) format.")
            factors = tuple(float(f) for f in scale_factor)
        else:
            factors = (float(scale_factor),) * d
        if not all(math.isfinite(f) for f in factors):
            raise ValueError(f"interpolate: scale_factor must be finite, got {scale_factor}")
        out = tuple(int(math.floor(float(i) * f)) for i, f in zip(spatial, factors))
        scales = (None,) * d if recompute_scale_factor else factors
    else:
        raise ValueError("either size or scale_factor should be defined")
    if min(out) < 1 or min(spatial) < 1:
        axes = ("D", "H", "W")[3 - d:]
        fmt = lambda v: ", ".join(f"{a}: {s}" for a, s in zip(axes, v))   # noqa: E731
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({fmt(spatial)}) output ({fmt(out)})")
    return out, tuple(s if s and s > 0 else None for s in scales)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False) -> Tensor:
    """Resize a batch of signals (N, C, L), images (N, C, H, W) or volumes (N, C, D, H, W).

    Give ``size`` or ``scale_factor`` (output size ⌊in·factor⌋). Modes, as torch:

    * 'nearest': out[i] = x[⌊i·s⌋]; 'nearest-exact': x[⌊(i + ½)·s⌋] (s = 1/scale_factor, or
      in/out with ``size`` or ``recompute_scale_factor``);
    * 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D): separable linear interpolation at
      src = (i + ½)·s − ½ (clamped at 0), or src = i·(in − 1)/(out − 1) with ``align_corners``;
    * 'bicubic' (4-D): Keys' cubic convolution, a = −0.75, border pixels repeated;
    * 'area': adaptive average pooling to the output size.

    ``antialias`` (bilinear/bicubic, 4-D): when downsampling, the filter widens to the whole
    source window (as PIL). uint8 input is supported for 'nearest', 'nearest-exact', 'bilinear'
    and 'bicubic' (torch's integer rounding); floating inputs are differentiable.
    Output (N, C, *size).

    Example:
        >>> interpolate(chainrule.randn(1, 3, 8, 8), scale_factor=2, mode='bilinear').shape
        (1, 3, 16, 16)
    """
    check_tensor(input, "interpolate")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if mode not in _MODES or input.ndim not in (3, 4, 5) or (mode == "bicubic"
                                                              and input.ndim != 4):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    if mode in _NEEDS and input.ndim != _NEEDS[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_NEEDS[mode]}D input")
    out_size, scales = _sizes(input, size, scale_factor, recompute_scale_factor)
    spatial, d = tuple(input.shape[2:]), input.ndim - 2
    kind = input._data.dtype
    if mode == "area":
        fn = {1: pooling_nd.adaptive_avg_pool1d, 2: pooling.adaptive_avg_pool2d,
              3: pooling_nd.adaptive_avg_pool3d}[d]
        if kind.kind != "f":
            raise NotImplementedError(f"\"adaptive_avg_pool{d}d\" not implemented for "
                                      f"'{scalar_name(input)}'")
        return fn(input, out_size)
    if mode in ("nearest", "nearest-exact"):
        if kind.kind != "f" and kind != np.uint8:
            raise NotImplementedError(f"\"compute_indices_weights_nearest\" not implemented for "
                                      f"'{scalar_name(input)}'")
        ops = [("take", _nearest_index(i, o, s, mode == "nearest-exact"), i)
               for i, o, s in zip(spatial, out_size, scales)]
        return _node(mode, d, False).apply(input, ops=ops)
    cubic = mode == "bicubic"
    if kind == np.uint8 and mode in ("bilinear", "bicubic"):
        return Tensor._make(_uint8_resample(input._data, out_size, scales, align_corners, cubic,
                                            antialias))
    if kind.kind != "f":
        raise NotImplementedError(f"\"compute_indices_weights_{'cubic' if cubic else 'linear'}\" "
                                  f"not implemented for '{scalar_name(input)}'")
    if antialias:
        ops = [("mat", _aa_weights(i, o, s, align_corners, cubic, True).astype(kind))
               for i, o, s in zip(spatial, out_size, scales)]
    else:
        build = _cubic_taps if cubic else _linear_taps
        ops = [("taps",) + build(i, o, s, align_corners, kind) + (i,)
               for i, o, s in zip(spatial, out_size, scales)]
    return _node(mode, d, antialias).apply(input, ops=ops)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", UserWarning, stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None) -> Tensor:
    """Deprecated alias of :func:`interpolate` (torch warns, and so does this)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear',
    align_corners=True)``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------- pixel shuffle
def _shuffle(x, r):
    """(…, C·r², H, W) -> (…, C, H·r, W·r): out[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]."""
    *lead, c, h, w = x.shape
    y = x.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return np.ascontiguousarray(y).reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def _unshuffle(x, r):
    """(…, C, H·r, W·r) -> (…, C·r², H, W), the inverse (and transpose) of _shuffle."""
    *lead, c, h, w = x.shape
    k = len(lead)
    y = x.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return np.ascontiguousarray(y).reshape(tuple(lead) + (c * r * r, h // r, w // r))


class PixelShuffle(Node):
    """A permutation of the entries (linear); its transpose is its inverse, PixelUnshuffle."""

    linear = True
    params = ("r",)

    def forward(self, x):
        return _shuffle(x, self.r)

    def transpose(self, xp, g):
        return xp.apply(PixelUnshuffle, g, r=self.r)


class PixelUnshuffle(Node):
    """The inverse permutation of PixelShuffle (linear); its transpose is PixelShuffle."""

    linear = True
    params = ("r",)

    def forward(self, x):
        return _unshuffle(x, self.r)

    def transpose(self, xp, g):
        return xp.apply(PixelShuffle, g, r=self.r)


def _factor(v, op, name):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(v).__name__}")
    if v <= 0:
        raise RuntimeError(f"{op}: {name} must be greater than 0, but got {name}: {v}")
    return int(v)


def pixel_shuffle(input, upscale_factor) -> Tensor:
    """Rearrange (*, C·r², H, W) -> (*, C, H·r, W·r) (sub-pixel convolution's upsampling):

        out[…, c, h·r + i, w·r + j] = x[…, c·r² + i·r + j, h, w]
    """
    check_tensor(input, "pixel_shuffle")
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if input.shape[-3] % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{input.shape[-3]} is not divisible by {r * r}")
    return PixelShuffle.apply(input, r=r)


def channel_shuffle(input, groups) -> Tensor:
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, C, *) with C = g·k,

        out[:, i·g + j] = x[:, j·k + i]

    i.e. the channels viewed as (g, k), transposed to (k, g) and flattened back."""
    check_tensor(input, "channel_shuffle")
    g = _factor(groups, "channel_shuffle", "groups")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)


def pixel_unshuffle(input, downscale_factor) -> Tensor:
    """Rearrange (*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of pixel_shuffle:

        out[…, c·r² + i·r + j, h, w] = x[…, c, h·r + i, w·r + j]
    """
    check_tensor(input, "pixel_unshuffle")
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    for axis, name in ((-2, "height"), (-1, "width")):
        if input.shape[axis] % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({axis})={input.shape[axis]} is "
                               f"not divisible by {r}")
    return PixelUnshuffle.apply(input, r=r)
