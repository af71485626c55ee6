"""Window pooling in any number of spatial dims (max_pool3d, avg_pool3d, integer max pooling),
max unpooling, and the adaptive pools over 1 and 3 dims.

As the 2-D pools of ``pooling.py``, each window pool is a loop over the Πk kernel offsets, each
a vectorised operation on one strided slice of the padded input — never a loop over pixels:

* ``MaxPoolND`` keeps a running maximum and the first offset reaching it (a NaN wins, as in
  torch); its VJP scatters ḡ to the winners (``MaxPoolScatterND``), the adjoint of reading the
  winners (``MaxPoolSelectND``), and each is the other's transpose, so max pooling is
  differentiable to any order. Integer inputs run the same forward (padding = the dtype's
  minimum) and, like torch's, carry no gradient.
* ``AvgPoolND`` is the window sum times the reciprocal divisors; its transpose
  ``AvgPoolNDBackward`` adds ḡ · scale back to every input of the window. int64 inputs get
  torch's integer means (the sum divided, truncated toward zero) and no gradient.
* ``MaxUnpool`` puts each value at its saved flat index in a zero output (the adjoint of reading
  those positions, ``MaxUnpoolGather``).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..._graph import Node
from ..._modes import FORWARD, STATE
from ...ops._util import check_tensor
from ...ops.elementwise import where
from ...tensor import Tensor
from . import pooling
from .pooling import _adaptive_ranges, _pool_sizes, integer_mean, scalar_name

_NAMES = {1: "one", 2: "two", 3: "three"}


def check_input(input, dims, op):
    """(the input's shape as a batch (N, C, *S), whether it was unbatched (C, *S))."""
    check_tensor(input, op)
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: Expected {dims + 1}D or {dims + 2}D (batch mode) tensor for "
                           f"input, got input of shape {tuple(input.shape)}")
    if 0 in input.shape[-dims - 1:]:   # only a batch may be empty, as torch
        raise RuntimeError(f"{op}: Expected input's non-batch dimensions to have positive "
                           f"length, got input of shape {tuple(input.shape)}")
    if input.ndim == dims + 1:
        return (1,) + tuple(input.shape), True
    return tuple(input.shape), False


def pool_args(kernel_size, stride, padding, dilation, dims, op):
    """(kernel, stride, padding, dilation) as ``dims``-tuples, with torch's checks
    (RuntimeError)."""
    def tup(v, name):
        if isinstance(v, (tuple, list)):
            if len(v) == 1:
                v = tuple(v) * dims
            if len(v) != dims:
                raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of "
                                   f"{_NAMES[dims]} ints, got {name}={tuple(v)}")
            out = tuple(v)
        else:
            out = (v,) * dims
        for a in out:
            if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
                raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {v!r}")
        return tuple(int(a) for a in out)
    k = tup(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else tup(stride, "stride")
    p, d = tup(padding, "padding"), tup(dilation, "dilation")
    if any(a <= 0 for a in k):
        raise RuntimeError(f"{op}: kernel_size should be greater than zero, but got "
                           f"kernel_size={k}")
    if any(a <= 0 for a in s):
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={s}")
    if any(a <= 0 for a in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={d}")
    if any(a < 0 for a in p):
        raise RuntimeError(f"{op}: pad must be non-negative, but got pad={p}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                           f"pad={p}, kernel_size={k} and dilation={d}")
    return k, s, p, d


class WindowND:
    """One pooling sweep over an (N, C, *S) input: padding (low, high) per dim — the high side
    grows for ceil_mode windows that overhang — and the output size."""

    def __init__(self, x_shape, kernel, stride, padding, dilation, ceil_mode, op):
        spatial = x_shape[2:]
        self.out = tuple(_pool_sizes(h, k, s, p, d, ceil_mode) for h, k, s, p, d in
                         zip(spatial, kernel, stride, padding, dilation))
        if min(self.out) < 1:
            raise RuntimeError(f"{op}: Given input size: {tuple(x_shape[1:])}. Calculated "
                               f"output size: {(x_shape[1],) + self.out}. Output size is too "
                               "small")
        self.pads = tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - h - p))
                          for h, k, s, p, d, o in
                          zip(spatial, kernel, stride, padding, dilation, self.out))
        self.x_shape, self.kernel = tuple(x_shape), kernel
        self.stride, self.dilation = stride, dilation
        self.padding = padding
        self.out_shape = tuple(x_shape[:2]) + self.out
        self.arg = None

    def padded(self, x, value):
        if not any(lo or hi for lo, hi in self.pads):
            return x
        out = np.full(x.shape[:2] + tuple(h + lo + hi for h, (lo, hi) in
                                           zip(x.shape[2:], self.pads)), value, x.dtype)
        out[(Ellipsis,) + tuple(slice(lo, lo + h) for h, (lo, _) in
                                zip(x.shape[2:], self.pads))] = x
        return out

    def offsets(self):
        """Every kernel offset (a multi-index) in window order (row-major)."""
        return list(itertools.product(*(range(k) for k in self.kernel)))

    def read(self, k):
        """The index of the strided slice of the padded input that offset ``k`` reads."""
        return (Ellipsis,) + tuple(slice(ki * d, ki * d + (o - 1) * s + 1, s) for ki, d, o, s in
                                   zip(k, self.dilation, self.out, self.stride))

    def crop(self):
        return (Ellipsis,) + tuple(slice(lo, lo + h) for h, (lo, _) in
                                   zip(self.x_shape[2:], self.pads))

    def flat_indices(self):
        """The winners as flat indices into Π S (torch's return_indices), int64."""
        spatial = self.x_shape[2:]
        unravel = np.unravel_index(self.arg.astype(np.int64), self.kernel)
        flat = np.zeros(self.arg.shape, np.int64)
        for axis, (kk, o, s, d, p, h) in enumerate(zip(unravel, self.out, self.stride,
                                                       self.dilation, self.padding, spatial)):
            shape = [1] * len(self.out)
            shape[axis] = o
            pos = np.arange(o).reshape(shape) * s + kk * d - p
            flat = flat * h + pos
        return flat


def _spatial_size(index):
    """Π of an (N, C, *S) index's spatial sizes (explicit, so empty batches reshape too)."""
    return int(np.prod(index.shape[2:]))


def _batched(a, x_shape):
    return a.reshape(x_shape) if a.ndim != len(x_shape) else a


def _unbatch_like(out, a, x_shape):
    return out[0] if a.ndim != len(x_shape) else out


def _integer_min(dtype):
    return np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf


class MaxPoolND(Node):
    """y = max over each window (padding = −∞, or the integer dtype's minimum); remembers each
    window's winning offset. VJP: MaxPoolScatterND; JVP: MaxPoolSelectND."""

    params = ("win",)

    def forward(self, x):
        win, shaped = self.win, _batched(x, self.win.x_shape)
        padded = win.padded(shaped, _integer_min(x.dtype))
        offsets = win.offsets()
        slices = [padded[win.read(k)] for k in offsets]
        best = np.array(slices[0])
        for v in slices[1:]:
            np.maximum(best, v, out=best)
        need_arg = STATE.grad_enabled or FORWARD.active or win.want_indices
        if need_arg:
            last = len(offsets) - 1
            arg = np.full(best.shape, last, np.int32)
            for k in range(last - 1, -1, -1):      # the first offset equal to the max wins
                np.copyto(arg, k, where=slices[k] == best)
            if best.dtype.kind == "f" and np.isnan(best).any():  # torch: the last NaN wins
                for k, v in enumerate(slices):
                    np.copyto(arg, k, where=np.isnan(v))
            win.arg = arg
        return _unbatch_like(best, x, win.x_shape)

    def vjp(self, xp, g):
        return xp.apply(MaxPoolScatterND, g, win=self.win)

    def jvp(self, xp, tangents):
        return xp.apply(MaxPoolSelectND, tangents[0], win=self.win)


class MaxPoolSelectND(Node):
    """The linear map "read each window's winner": x-shaped -> output-shaped (a gather)."""

    linear = True
    params = ("win",)

    def forward(self, x):
        win = self.win
        padded = win.padded(_batched(x, win.x_shape), 0)
        out = np.zeros(win.out_shape, x.dtype)
        for i, k in enumerate(win.offsets()):
            out += padded[win.read(k)] * (win.arg == i)
        return _unbatch_like(out, x, win.x_shape)

    def transpose(self, xp, g):
        return xp.apply(MaxPoolScatterND, g, win=self.win)


class MaxPoolScatterND(Node):
    """Its adjoint: add each output's gradient to its window's winner (output- -> x-shaped)."""

    linear = True
    params = ("win",)

    def forward(self, g):
        win = self.win
        shaped = g.reshape(win.out_shape)
        padded = np.zeros(win.x_shape[:2] + tuple(h + lo + hi for h, (lo, hi) in
                                                  zip(win.x_shape[2:], win.pads)), g.dtype)
        for i, k in enumerate(win.offsets()):
            padded[win.read(k)] += shaped * (win.arg == i)
        out = padded[win.crop()]
        return np.ascontiguousarray(out[0] if g.ndim != len(win.x_shape) else out)

    def transpose(self, xp, g):
        return xp.apply(MaxPoolSelectND, g, win=self.win)


class AvgPoolND(Node):
    """y = (Σ over each window, zero padding) · ``scale`` (a number or an array over the output
    positions): linear; its transpose is AvgPoolNDBackward."""

    linear = True
    params = ("win", "scale")

    def forward(self, x):
        win = self.win
        padded = win.padded(_batched(x, win.x_shape), 0)
        out = None
        for k in win.offsets():
            v = padded[win.read(k)]
            out = np.array(v) if out is None else out.__iadd__(v)
        out *= self.scale
        return _unbatch_like(out.astype(x.dtype, copy=False), x, win.x_shape)

    def transpose(self, xp, g):
        return xp.apply(AvgPoolNDBackward, g, win=self.win, scale=self.scale)


class AvgPoolNDBackward(Node):
    """x̄ = Σ over offsets of (ḡ · scale) added back to the slice each offset read."""

    linear = True
    params = ("win", "scale")

    def forward(self, g):
        win = self.win
        shaped = (g.reshape(win.out_shape) * self.scale).astype(g.dtype, copy=False)
        padded = np.zeros(win.x_shape[:2] + tuple(h + lo + hi for h, (lo, hi) in
                                                  zip(win.x_shape[2:], win.pads)), g.dtype)
        for k in win.offsets():
            padded[win.read(k)] += shaped
        out = padded[win.crop()]
        return np.ascontiguousarray(out[0] if g.ndim != len(win.x_shape) else out)

    def transpose(self, xp, g):
        return xp.apply(AvgPoolND, g, win=self.win, scale=self.scale)


MaxPool3D = MaxPoolND.named("MaxPool3DWithIndicesBackward0")
AvgPool3D = AvgPoolND.named("AvgPool3DBackward0")


def max_pool_nd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims,
                op, node=MaxPoolND):
    """Max pooling over the last ``dims`` dims (float or integer input)."""
    shape, _ = check_input(input, dims, op)
    if input._data.dtype.kind not in "fiu":
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(input)}'")
    k, s, p, d = pool_args(kernel_size, stride, padding, dilation, dims, op)
    win = WindowND(shape, k, s, p, d, ceil_mode, op)
    win.want_indices = return_indices
    out = node.apply(input, win=win)
    if return_indices:
        idx = win.flat_indices()
        return out, Tensor._make(idx[0] if input.ndim == dims + 1 else idx)
    return out


def _divisors(win, count_include_pad):
    """Each output position's divisor: the window clipped to the padded input (or, without
    ``count_include_pad``, to the input itself), as an outer product over the dims."""
    total = np.ones((), np.int64)
    for h, k, s, p, o in zip(win.x_shape[2:], win.kernel, win.stride, win.padding, win.out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, h + p)
        size = end - start if count_include_pad else np.minimum(end, h) - np.maximum(start, 0)
        total = np.multiply.outer(total, size)
    return total


def avg_pool_nd(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override, dims, op, node=AvgPoolND):
    """Average pooling over the last ``dims`` dims (floating input)."""
    shape, unbatched = check_input(input, dims, op)
    integer = not input.is_floating_point()
    if integer and input._data.dtype != np.int64:
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(input)}'")
    k, s, p, _ = pool_args(kernel_size, stride, padding, 1, dims, op)
    win = WindowND(shape, k, s, p, (1,) * dims, ceil_mode, op)
    dtype = input._data.dtype
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    if integer:     # int64, as torch: the integer window sum over the divisor, no gradient
        padded = win.padded(input._data.reshape(shape), 0)
        sums = sum(padded[win.read(kk)] for kk in win.offsets())
        divisor = _divisors(win, count_include_pad) if divisor_override is None \
            else int(divisor_override)
        out = integer_mean(sums, divisor)
        return Tensor._make(out[0] if unbatched else out)
    if divisor_override is not None:
        return node.apply(input, win=win, scale=dtype.type(1.0 / float(divisor_override)))
    divisor = _divisors(win, count_include_pad)
    if np.all(divisor == divisor.flat[0]):
        return node.apply(input, win=win, scale=dtype.type(1.0 / float(divisor.flat[0])))
    return node.apply(input, win=win, scale=(1.0 / divisor).astype(dtype))


# ---------------------------------------------------------------------------- max unpooling
class MaxUnpool(Node):
    """out = zeros(N, C, Π out) with out[n, c, index[n, c, i]] = x[n, c, i], shaped ``out_shape``
    (an unbatched input: N = 1 left out): linear (a scatter); its transpose reads those positions
    back (MaxUnpoolGather)."""

    linear = True
    params = ("index", "out_shape")

    def forward(self, x):
        n, c = self.index.shape[:2]
        self.in_shape = x.shape
        size = _spatial_size(self.index)
        out = np.zeros((n, c, int(np.prod(self.out_shape[-(self.index.ndim - 2):]))), x.dtype)
        np.put_along_axis(out, self.index.reshape(n, c, size), x.reshape(n, c, size), -1)
        return out.reshape(self.out_shape)

    def transpose(self, xp, g):
        return xp.apply(MaxUnpoolGather, g, index=self.index, in_shape=self.in_shape,
                        out_shape=self.out_shape)


class MaxUnpoolGather(Node):
    """x̄[n, c, i] = ḡ[n, c, index[n, c, i]] (shaped ``in_shape``): the transpose of MaxUnpool."""

    linear = True
    params = ("index", "in_shape", "out_shape")

    def forward(self, g):
        n, c = self.index.shape[:2]
        total = int(np.prod(self.out_shape[-(self.index.ndim - 2):]))
        return np.take_along_axis(g.reshape(n, c, total),
                                  self.index.reshape(n, c, _spatial_size(self.index)),
                                  -1).reshape(self.in_shape)

    def transpose(self, xp, g):
        return xp.apply(MaxUnpool, g, index=self.index, out_shape=self.out_shape)


MaxUnpool2D = MaxUnpool.named("MaxUnpool2DBackward0")
MaxUnpool3D = MaxUnpool.named("MaxUnpool3DBackward0")


def max_unpool_nd(input, indices, kernel_size, stride, padding, output_size, dims, op,
                  node=MaxUnpool):
    """The partial inverse of max_pool: each value back at its saved flat index, zeros elsewhere."""
    check_tensor(input, op)
    check_tensor(indices, op, "indices")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: Expected {dims + 1}D or {dims + 2}D (batch mode) tensor for "
                           f"input, got input of shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input "
                           f"tensor ({tuple(input.shape)}) but got indices tensor with shape: "
                           f"{tuple(indices.shape)}")
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"{op}: elements in indices should be type int64 but got: "
                           f"{indices.dtype}")
    k, s, p, _ = pool_args(kernel_size, stride, padding, 1, dims, op) if padding is not None \
        else pool_args(kernel_size, stride, 0, 1, dims, op)
    spatial = tuple(input.shape[-dims:])
    default = tuple((i - 1) * si - 2 * pi + ki for i, si, pi, ki in zip(spatial, s, p, k))
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)
        if len(out) == dims + 2 or len(out) == dims + 1:
            out = out[-dims:]
        if len(out) != dims:
            raise ValueError(f"{op}: output_size should be a sequence containing {dims} or "
                             f"{dims + 2} elements, but it has a length of '{len(output_size)}'")
        for o, d, si in zip(out, default, s):
            if not d - si < o < d + si:
                raise ValueError(f"{op}: invalid output_size {out} (dim should be in range "
                                 f"{tuple(dd - ss + 1 for dd, ss in zip(default, s))} to "
                                 f"{tuple(dd + ss - 1 for dd, ss in zip(default, s))})")
    batched = input.ndim == dims + 2
    lead = tuple(input.shape[:2]) if batched else (1, input.shape[0])
    index = indices._data.reshape(lead + spatial)
    total = int(np.prod(out))
    if index.size and (index.min() < 0 or index.max() >= total):
        bad = index.max() if index.max() >= total else index.min()
        raise RuntimeError(f"{op}: Found an invalid max index: {bad} (output volumes are of "
                           f"size {'x'.join(map(str, out))})")
    return node.apply(input, index=index, out_shape=(lead if batched else lead[1:]) + out)


# ---------------------------------------------------------------------------- adaptive pools
def _averaging(size, out, dtype):
    m = np.zeros((out, size), dtype)
    for i, (a, b) in enumerate(_adaptive_ranges(size, out)):
        m[i, a:b] = 1.0 / (b - a)
    return m


class AdaptiveAvgPoolND(Node):
    """y = x with each spatial axis multiplied by its averaging matrix P (row i of P is
    1/|window i| on window i): linear; its transpose multiplies by the Pᵀ."""

    linear = True
    params = ("mats",)

    def forward(self, x):
        return _along_axes(x, self.mats)

    def transpose(self, xp, g):
        return xp.apply(AdaptiveAvgPoolNDBackward, g, mats=self.mats)


class AdaptiveAvgPoolNDBackward(Node):
    """x̄ = ȳ with each spatial axis multiplied by Pᵀ: the transpose of AdaptiveAvgPoolND."""

    linear = True
    params = ("mats",)

    def forward(self, g):
        return _along_axes(g, [m.T for m in self.mats])

    def transpose(self, xp, g):
        return xp.apply(AdaptiveAvgPoolND, g, mats=self.mats)


def _along_axes(x, mats):
    """x with its last len(mats) axes each mapped by a matrix: axis i -> mats[i] @ axis i."""
    d = len(mats)
    for i, m in enumerate(mats):
        axis = x.ndim - d + i
        x = np.moveaxis(np.tensordot(x, m, axes=([axis], [1])), -1, axis)
    return np.ascontiguousarray(x)


AdaptiveAvgPool3D = AdaptiveAvgPoolND.named("AdaptiveAvgPool3DBackward0")


def adaptive_output_size(output_size, spatial, op):
    """torch's output_size: an int or a sequence (None keeps that input size)."""
    d = len(spatial)
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != d:
            raise RuntimeError(f"{op}: output_size must be {d}, got {tuple(output_size)}")
        out = tuple(s if o is None else int(o) for o, s in zip(output_size, spatial))
    else:
        out = (int(output_size),) * d
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 "
                           f"but received {out}")
    if any(s == 0 for s in spatial):
        raise RuntimeError(f"{op}: Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {tuple(spatial)}")
    return out


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Average over adaptive windows giving exactly ``output_size`` (D, H, W): window i of an axis
    of size S covers [⌊i·S/O⌋, ⌈(i+1)·S/O⌉). (N, C, D, H, W) or (C, D, H, W) -> (…, Do, Ho, Wo);
    output 1 is the global mean, recorded as such (as torch)."""
    pooling.check_output_size_arg(input, output_size, 3, "adaptive_avg_pool3d")
    shape, _ = check_input(input, 3, "adaptive_avg_pool3d")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"adaptive_avg_pool3d\" not implemented for "
                                  f"'{scalar_name(input)}'")
    spatial = shape[2:]
    out = adaptive_output_size(output_size, spatial, "adaptive_avg_pool3d")
    if out == (1, 1, 1):
        return input.mean((-3, -2, -1), keepdim=True)
    dtype = input._data.dtype
    return AdaptiveAvgPool3D.apply(input, mats=[_averaging(s, o, dtype)
                                                for s, o in zip(spatial, out)])


# ---------------------------------------------------------------------------- public API
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each window of a signal: out[n, c, i] = max_p x[n, c, i·s + p·d − pad].

    (N, C, L) or (C, L) -> (…, Lo), Lo = ⌊(L + 2·pad − d(k − 1) − 1)/s⌋ + 1 (⌈·⌉ with
    ``ceil_mode``); stride defaults to kernel_size. Computed as torch does, as max_pool2d over a
    height-1 view. Floating input only (torch's max_pool1d has no integer kernel).
    """
    shape, _ = check_input(input, 1, "max_pool1d")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"max_pool1d_impl\" not implemented for '{scalar_name(input)}'")
    k, s, p, d = pool_args(kernel_size, stride, padding, dilation, 1, "max_pool1d")
    WindowND(shape, k, s, p, d, ceil_mode, "max_pool1d")      # torch's size checks, named so
    out = pooling.max_pool2d(input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, (1,) + d,
                             ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each kd×kh×kw window of a volume:

        out[n, c, i, j, l] = max_{p,q,r} x[n, c, i·s₁ + p·d₁ − pad₁, j·s₂ + q·d₂ − pad₂,
                                          l·s₃ + r·d₃ − pad₃]

    Padding counts as −∞; ties go to the first maximum in window order; NaN propagates (as
    torch). (N, C, D, H, W) or (C, D, H, W) -> (…, Do, Ho, Wo), sizes as max_pool2d per dim;
    integer inputs too (no gradient). ``return_indices``: also the flat index into D·H·W of
    each maximum (int64).
    """
    return max_pool_nd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       3, "max_pool3d", node=MaxPool3D)


def _lp_pool(avg, input, norm_type, kernel_size, stride, ceil_mode, window):
    """(Σ over each window of xᵖ)^(1/p), the sum as the window mean of xᵖ times the window size
    (as torch). A window summing to 0 gives 0 with a zero gradient, as torch's: the root reads
    1 there instead, so its infinite slope at 0 never meets the zero behind it (0·∞ = NaN for
    every window of zeros, as after a ReLU)."""
    out = avg(input.pow(norm_type), kernel_size, kernel_size if stride is None else stride, 0,
              ceil_mode).mul(window)
    zero = out == 0
    return where(zero, 0.0, where(zero, 1.0, out).pow(1.0 / norm_type))


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over windows of ``kernel_size``: (Σ_window xᵖ)^(1/p), p =
    ``norm_type`` (p = 1: sum pooling; p → ∞: max pooling). (N, C, L) -> (N, C, Lo)."""
    return _lp_pool(avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode, kernel_size)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """(Σ over each kh×kw window of xᵖ)^(1/p), p = ``norm_type``: (N, C, H, W) -> (N, C, Ho, Wo)."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return _lp_pool(pooling.avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode, kh * kw)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """(Σ over each kd×kh×kw window of xᵖ)^(1/p), p = ``norm_type``:
    (N, C, D, H, W) -> (N, C, Do, Ho, Wo)."""
    kd, kh, kw = (kernel_size,) * 3 if isinstance(kernel_size, int) else kernel_size
    return _lp_pool(avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode, kd * kh * kw)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over each window of a signal, (N, C, L) or (C, L) -> (…, Lo): the window sum
    divided by k (``count_include_pad``: padding counted as zeros) or by the in-bounds count.
    Computed as torch does, as avg_pool2d over a height-1 view."""
    shape, _ = check_input(input, 1, "avg_pool1d")
    k, s, p, _ = pool_args(kernel_size, stride, padding, 1, 1, "avg_pool1d")
    WindowND(shape, k, s, p, (1,), ceil_mode, "avg_pool1d")
    return pooling.avg_pool2d(input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, ceil_mode,
                              count_include_pad).squeeze(-2)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over each kd×kh×kw window: the window sum divided by kd·kh·kw
    (``count_include_pad``), by the in-bounds count, or by ``divisor_override``.
    (N, C, D, H, W) or (C, D, H, W) -> (…, Do, Ho, Wo), sizes as max_pool3d."""
    return avg_pool_nd(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, 3, "avg_pool3d", node=AvgPool3D)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: out[n, c, indices[n, c, i]] = x[n, c, i], zeros
    elsewhere. (N, C, L) or (C, L) -> (…, Lo), Lo = (L − 1)s − 2·pad + k unless ``output_size``
    (within stride − 1 of it) is given."""
    return max_unpool_nd(input, indices, kernel_size, stride, padding, output_size, 1,
                         "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value back at its flat index into Ho·Wo, zeros
    elsewhere. (N, C, H, W) or (C, H, W) -> (…, Ho, Wo), Ho = (H − 1)s − 2·pad + k."""
    return max_unpool_nd(input, indices, kernel_size, stride, padding, output_size, 2,
                         "max_unpool2d", node=MaxUnpool2D)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: each value back at its flat index into Do·Ho·Wo,
    zeros elsewhere. (N, C, D, H, W) or (C, D, H, W) -> (…, Do, Ho, Wo)."""
    return max_unpool_nd(input, indices, kernel_size, stride, padding, output_size, 3,
                         "max_unpool3d", node=MaxUnpool3D)


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Average over adaptive windows giving exactly ``output_size`` positions: window i covers
    [⌊i·L/O⌋, ⌈(i+1)·L/O⌉). (N, C, L) or (C, L) -> (…, O); as torch, adaptive_avg_pool2d
    over a height-1 view."""
    shape, _ = check_input(input, 1, "adaptive_avg_pool1d")
    (o,) = adaptive_output_size(output_size, shape[2:], "adaptive_avg_pool1d")
    return pooling.adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over adaptive windows giving exactly ``output_size`` positions (first maximum wins);
    with ``return_indices`` also each maximum's position (int64). (N, C, L) or (C, L) -> (…, O)."""
    shape, _ = check_input(input, 1, "adaptive_max_pool1d")
    (o,) = adaptive_output_size(output_size, shape[2:], "adaptive_max_pool1d")
    out = pooling.adaptive_max_pool2d(input.unsqueeze(-2), (1, o), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


class AdaptiveMaxPoolND(Node):
    """y = x at each window's maximum, ``index`` (N, C, *O) holding its flat position in Π S:
    linear given the index (a gather); its transpose adds ȳ back at those positions
    (AdaptiveMaxPoolNDBackward; windows overlap, so positions may repeat)."""

    linear = True
    params = ("index", "x_shape")

    def forward(self, x):
        n, c = self.index.shape[:2]
        total = int(np.prod(self.x_shape[-(self.index.ndim - 2):]))
        flat = np.take_along_axis(x.reshape(n, c, total),
                                  self.index.reshape(n, c, _spatial_size(self.index)), -1)
        return flat.reshape(self.index.shape if x.ndim == self.index.ndim
                            else self.index.shape[1:])

    def transpose(self, xp, g):
        return xp.apply(AdaptiveMaxPoolNDBackward, g, index=self.index, x_shape=self.x_shape)


class AdaptiveMaxPoolNDBackward(Node):
    """x̄ = Σ of ȳ over the outputs whose maximum sat at each position: the transpose of
    AdaptiveMaxPoolND (and it of this)."""

    linear = True
    params = ("index", "x_shape")

    def forward(self, g):
        n, c = self.index.shape[:2]
        out = np.zeros((n, c, int(np.prod(self.x_shape[-(self.index.ndim - 2):]))), g.dtype)
        size = _spatial_size(self.index)
        np.add.at(out, (np.arange(n)[:, None, None], np.arange(c)[None, :, None],
                        self.index.reshape(n, c, size)), g.reshape(n, c, size))
        return out.reshape(self.x_shape)

    def transpose(self, xp, g):
        return xp.apply(AdaptiveMaxPoolND, g, index=self.index, x_shape=self.x_shape)


AdaptiveMaxPool3D = AdaptiveMaxPoolND.named("AdaptiveMaxPool3DBackward0")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over adaptive windows giving exactly ``output_size`` (D, H, W) — window i of an axis of
    size S covers [⌊i·S/O⌋, ⌈(i+1)·S/O⌉) — first maximum in window order wins, NaN propagates.
    (N, C, D, H, W) or (C, D, H, W) -> (…, Do, Ho, Wo); with ``return_indices`` also each
    maximum's flat index into D·H·W (int64)."""
    pooling.check_output_size_arg(input, output_size, 3, "adaptive_max_pool3d")
    shape, unbatched = check_input(input, 3, "adaptive_max_pool3d")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"adaptive_max_pool3d_cpu\" not implemented for "
                                  f"'{scalar_name(input)}'")
    n, c = shape[:2]
    spatial = shape[2:]
    out = adaptive_output_size(output_size, spatial, "adaptive_max_pool3d")
    data = input._data.reshape(shape)
    index = np.empty((n, c) + out, np.int64)
    ranges = [_adaptive_ranges(s, o) for s, o in zip(spatial, out)]
    for cell in itertools.product(*(range(o) for o in out)):    # a loop over output cells only
        bounds = [ranges[a][i] for a, i in enumerate(cell)]
        block = data[(Ellipsis,) + tuple(slice(lo, hi) for lo, hi in bounds)]
        block = block.reshape(n, c, int(np.prod(block.shape[2:])))
        nan = np.isnan(block)
        arg = np.where(nan.any(-1), nan.argmax(-1), block.argmax(-1))
        local = np.unravel_index(arg, tuple(hi - lo for lo, hi in bounds))
        flat = np.zeros((n, c), np.int64)
        for (lo, _), pos, size in zip(bounds, local, spatial):
            flat = flat * size + lo + pos
        index[(Ellipsis,) + cell] = flat
    result = AdaptiveMaxPool3D.apply(input, index=index, x_shape=tuple(input.shape))
    if return_indices:
        return result, Tensor._make(index[0] if unbatched else index)
    return result


FractionalMaxPool2D = AdaptiveMaxPoolND.named("FractionalMaxPool2DBackward0")
FractionalMaxPool3D = AdaptiveMaxPoolND.named("FractionalMaxPool3DBackward0")


def _fractional_starts(sample, size, out, pool):
    """torch's pseudo-random window starts along one axis, in the sample's own float dtype
    (so the truncations agree bit for bit): αᵢ = ⌊(i + u)·α⌋ − ⌊u·α⌋ with
    α = (size − pool)/(out − 1), the last start pinned at size − pool. (N, C) -> (N, C, out)."""
    starts = np.empty(sample.shape + (out,), np.int64)
    if out > 1:
        alpha = sample.dtype.type(size - pool) / sample.dtype.type(out - 1)
        i = np.arange(out - 1).astype(sample.dtype)
        starts[..., :-1] = ((i + sample[..., None]) * alpha).astype(np.int64) \
            - (sample * alpha).astype(np.int64)[..., None]
    if out > 0:
        starts[..., -1] = size - pool
    return starts


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                         _random_samples, dims, op, node):
    """Fractional max pooling over the last ``dims`` axes (torch's sample order: W, H for
    two dims; T, H, W for three)."""
    from ...creation import rand   # creation sits beside tensor; imported where it is needed
    check_tensor(input, op)
    if input.ndim not in (dims + 1, dims + 2):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {-dims - 1})")
    words = "tuple of Ints" if dims == 2 else "tuple of three Ints"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    spatial = tuple(input.shape[-dims:])
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) \
            else (output_ratio,) * dims
        if len(ratio) != dims:
            raise ValueError(f"{op} requires output_ratio to either be a single Int or {words}.")
        output_size = [int(s * r) for s, r in zip(spatial, ratio)]
    kernel = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) \
        else (kernel_size,) * dims
    out = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(kernel) != dims:
        raise RuntimeError(f"{op}: kernel_size must either be a single Int or {words}")
    if len(out) != dims:
        raise RuntimeError(f"{op}: output_size must either be a single Int or {words}")
    kernel, out = tuple(int(k) for k in kernel), tuple(int(o) for o in out)
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got {kernel}")
    if min(out) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(out)}: "
                           f"{list(input.shape[:-dims]) + list(out)}")
    batched = input.ndim == dims + 2
    n, c = (input.shape[0] if batched else 1), input.shape[-dims - 1]
    if _random_samples is None:
        _random_samples = rand(n, c, dims, dtype=input.dtype)
    name = f"{op}()" if dims == 2 else f"{op}_out()"
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}: Expected input to have non-zero size for non-batch "
                               f"dimensions, but got{list(input.shape)} with dimension {d} "
                               f"being empty.")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{op}_out_frame\" not implemented for "
                                  f"'{scalar_name(input)}'")
    samples = _random_samples
    if samples.ndim != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.ndim}")
    if samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.shape[0] < n:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples.shape[1] != c:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples.shape[2] != dims:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {dims}; "
                           f"got {samples.shape[2]}.")
    axes = ("height", "width") if dims == 2 else ("time", "height", "width")
    for a, (o, k, s) in enumerate(zip(out, kernel, spatial)):
        # torch's 3-D kernel asks for one more input position than its 2-D one
        if o + k - 1 > s or (dims == 3 and o + k - 1 == s):
            raise RuntimeError(f"{name}: pool {axes[a]} {k} too large relative to input "
                               f"{axes[a]} {s}")
    u = samples._data[:n]
    order = (1, 0) if dims == 2 else (0, 1, 2)    # 2-D samples hold (W, H), 3-D ones (T, H, W)
    starts = [_fractional_starts(u[..., j], s, o, k)
              for j, s, o, k in zip(order, spatial, out, kernel)]
    grid = [st.reshape((n, c) + tuple(o if b == a else 1 for b, o in enumerate(out)))
            for a, st in enumerate(starts)]
    data = input._data.reshape(n, c, int(np.prod(spatial)))
    best = index = None
    for offset in itertools.product(*(range(k) for k in kernel)):   # loop over Πk offsets only
        flat = np.zeros((n, c) + (1,) * dims, np.int64)
        for g, off, s in zip(grid, offset, spatial):
            flat = flat * s + (g + off)
        flat = np.broadcast_to(flat, (n, c) + out)
        val = np.take_along_axis(data, flat.reshape(n, c, -1), -1).reshape(flat.shape)
        if best is None:
            best, index = val.copy(), flat.copy()
            continue
        # a later value wins when strictly greater or NaN (so the last NaN), as torch's loop
        take = (val > best) | np.isnan(val)
        best[take], index[take] = val[take], flat[take]
    result = node.apply(input, index=index, x_shape=tuple(input.shape))
    if return_indices:
        return result, Tensor._make(index if batched else index[0])
    return result


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    r"""2-D fractional max pooling (Graham, 2014): the max over kh×kw windows whose starts
    advance by a pseudo-random stride of ⌊α⌋ or ⌈α⌉, α = (H − kh)/(Ho − 1), so that exactly
    ``output_size`` (or ⌊``output_ratio``·(H, W)⌋) cells come out:

    .. math:: y_{nc,ij} = \max_{0 \le p < k_h,\, 0 \le q < k_w} x_{nc,\, a_i + p,\, b_j + q},
              \quad a_i = \lfloor (i + u)\alpha \rfloor - \lfloor u\alpha \rfloor

    with one u ∈ [0, 1) per (n, c, axis) from ``_random_samples`` (N, C, 2) — (W, H) order —
    drawn as torch's ``rand(N, C, 2)`` when not given, so a shared seed gives torch's windows.
    (N, C, H, W) or (C, H, W) -> (…, Ho, Wo); with ``return_indices`` also each maximum's flat
    index into H·W (int64). The gradient goes back to those maxima."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 2, "fractional_max_pool2d", FractionalMaxPool2D)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    r"""3-D fractional max pooling: :func:`fractional_max_pool2d` over (T, H, W), with
    ``_random_samples`` (N, C, 3) in (T, H, W) order, drawn as torch's ``rand(N, C, 3)`` when
    not given. (N, C, T, H, W) or (C, T, H, W) -> (…, To, Ho, Wo); indices are flat into
    T·H·W."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 3, "fractional_max_pool3d", FractionalMaxPool3D)
