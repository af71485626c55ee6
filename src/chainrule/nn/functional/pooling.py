"""Pooling: downsample feature maps so small shifts of the input barely change the output.

Both window pools are loops over the kh×kw kernel offsets, each a vectorised operation on one
strided slice of the (padded) input — never a loop over pixels or images:

* max_pool2d keeps a running maximum and the offset that produced it; a later offset replaces it
  only when strictly greater (or NaN), so ties go to the first maximum in window order, as torch.
  Its VJP scatters the gradient back to the winners (``MaxPoolScatter``); that scatter's VJP is
  the matching gather (``MaxPoolSelect``) and vice versa, so max pooling is differentiable to
  any order, and its JVP is the gather of the tangent.
* avg_pool2d is a window sum times the reciprocal window counts (``AvgPool2D``), whose adjoint
  ``AvgPool2DBackward`` adds the scaled gradient back to every offset's slice.

Each pooling is one node, named as torch's (``MaxPool2DWithIndicesBackward0``,
``AvgPool2DBackward0``, ...), and takes an unbatched (C, H, W) input as it is.
"""
from __future__ import annotations


import numpy as np

from ..._graph import Node
from ..._modes import DETERMINISM, FORWARD, STATE
from ... import _memory_format
from ...backends import onednn
from ...ops.indexing import ScatterAdd
from ...ops._util import check_tensor
from ...tensor import Tensor
from .conv import _pair
from .conv_kernels import _valid


_SCALAR = {"b": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long",
           "f2": "Half", "f4": "Float", "f8": "Double", "c8": "ComplexFloat",
           "c16": "ComplexDouble"}


def scalar_name(t):
    """torch's name for a tensor's dtype in its "not implemented for 'Long'" errors."""
    d = t._data.dtype
    return _SCALAR.get("b" if d.kind == "b" else f"{d.kind}{d.itemsize}", str(t.dtype))


def integer_mean(sums, divisor):
    """sums / divisor for int64 pooling, truncated toward zero as C++'s integer division."""
    q = np.abs(sums) // np.abs(divisor)
    return np.where((sums < 0) != (np.asarray(divisor) < 0), -q, q).astype(np.int64)


def _pool_sizes(h, k, s, p, d, ceil_mode):
    """Output length of a pooling window sweep (torch's formula, incl. the ceil_mode rule that the
    last window must start inside the input or its left padding)."""
    span = h + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= h + p:
        out -= 1
    return out


def _check4d(input, op):
    """(the input's shape as a batch, (N, C, H, W); whether it is one unbatched (C, H, W) image)."""
    check_tensor(input, op)
    if input.ndim == 3:
        return (1,) + tuple(input.shape), True
    if input.ndim != 4:
        raise RuntimeError(f"{op}: expected input (N, C, H, W) or (C, H, W) (non-empty 3D or 4D "
                           f"tensor), got {tuple(input.shape)}")
    return tuple(input.shape), False


def _pool_args(kernel_size, stride, padding, dilation, op):
    """(kernel, stride, padding, dilation) as pairs, with torch's checks (RuntimeError)."""
    for name, v in (("kernel_size", kernel_size), ("stride", stride), ("padding", padding),
                    ("dilation", dilation)):
        if isinstance(v, (tuple, list)) and len(v) not in (1, 2) and not (name == "stride"
                                                                         and len(v) == 0):
            raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of two "
                               f"ints, got {name}={tuple(v)}")
    one = lambda v, name: _pair(tuple(v) * 2 if isinstance(v, (tuple, list)) and len(v) == 1
                                else v, name, op)
    k = one(kernel_size, "kernel_size")
    s = k if stride is None or stride == [] or stride == () else one(stride, "stride")
    p, d = one(padding, "padding"), one(dilation, "dilation")
    if any(ki <= 0 for ki in k):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got "
                           f"kernel_size={k}")
    if any(si == 0 for si in s):
        raise RuntimeError(f"{op}: stride should not be zero, got stride={s}")
    if any(si < 0 for si in s):
        raise RuntimeError(f"{op}: stride should be greater than zero, got stride={s}")
    if any(di <= 0 for di in d):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={d}")
    if any(pi < 0 for pi in p):
        raise RuntimeError(f"{op}: pad must be non-negative, but got padding={p}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, got "
                           f"padding={p}, kernel_size={k}")
    return k, s, p, d


class _Window:
    """The geometry of one pooling sweep over an (N, C, H, W) input: padding (pt, pb, pl, pr) —
    the bottom/right parts grow for ceil_mode windows that overhang — and the output size."""

    def __init__(self, x_shape, kernel, stride, padding, dilation, ceil_mode):
        n, c, h, w = x_shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
        self.ho = _pool_sizes(h, kh, sh, ph, dh, ceil_mode)
        self.wo = _pool_sizes(w, kw, sw, pw, dw, ceil_mode)
        extra_h = max(0, (self.ho - 1) * sh + dh * (kh - 1) + 1 - (h + 2 * ph))
        extra_w = max(0, (self.wo - 1) * sw + dw * (kw - 1) + 1 - (w + 2 * pw))
        self.x_shape, self.kernel, self.stride, self.dilation = tuple(x_shape), kernel, stride, dilation
        self.pads = (ph, ph + extra_h, pw, pw + extra_w)
        self.out_shape = (n, c, self.ho, self.wo)
        self.want_indices = False   # max_pool2d(return_indices=True): find the winners always
        self.workspace = None       # oneDNN's record of the winners, when it pooled
        self.layout = _memory_format.contiguous_format   # the input's, set by the forward
        self.source = None          # (x, y) of a oneDNN pooling: the offsets, when asked for
        # windows overlap unless the stride clears the dilated kernel on both axes
        self.overlap = sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1

    @property
    def arg(self):
        """The winning offset of each window (N, C, Ho, Wo), in window order; after a oneDNN
        pooling, worked out from its input and output at the first request."""
        if "_arg" not in self.__dict__:
            x, best = self.source
            padded = self.padded(x, -np.inf)
            self._arg = _winners([self.slice_of_padded(padded, p, q)
                                  for _, p, q in self.offsets()], best)
        return self._arg

    @arg.setter
    def arg(self, value):
        self._arg = value

    def padded(self, x, value):
        t, b, l, r = self.pads
        if not (t or b or l or r):
            return x
        n, c, h, w = x.shape
        out = np.full((n, c, h + t + b, w + l + r), value, x.dtype)
        out[:, :, t:t + h, l:l + w] = x
        return out

    def offsets(self):
        """(k, p, q) for every kernel offset in window order (row-major)."""
        kh, kw = self.kernel
        return [(p * kw + q, p, q) for p in range(kh) for q in range(kw)]

    def slice_of_padded(self, xp, p, q):
        """The strided slice of the padded input that kernel offset (p, q) reads: (N, C, Ho, Wo)."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        r, c = p * dh, q * dw
        return xp[:, :, r: r + sh * (self.ho - 1) + 1: sh, c: c + sw * (self.wo - 1) + 1: sw]

    def clipped(self, p, q):
        """For kernel offset (p, q): the output block [i0:i1, j0:j1] whose reads fall inside the
        unpadded input, and the matching strided input slices — or None if none does."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        h, w = self.x_shape[2:]
        i0, i1, r0 = _valid(p * dh, self.pads[0], sh, h, self.ho)
        j0, j1, c0 = _valid(q * dw, self.pads[2], sw, w, self.wo)
        if i0 >= i1 or j0 >= j1:
            return None
        return ((slice(i0, i1), slice(j0, j1)),
                (slice(r0, r0 + (i1 - i0 - 1) * sh + 1, sh), slice(c0, c0 + (j1 - j0 - 1) * sw + 1, sw)))


def _batched(a):
    """An unbatched (C, H, W) array as a batch of one (a view), and whether it was unbatched:
    the pooling nodes take both, as torch's (one node, no unsqueeze/squeeze around it)."""
    return (a[None], True) if a.ndim == 3 else (a, False)


def _winners(slices, best):
    """Each window's winning offset: the first in window order whose value is the maximum —
    found by walking the offsets backwards and letting each equal one overwrite (int8
    arithmetic, no masked copies); a NaN wins, the last NaN kept (torch's rule)."""
    last = len(slices) - 1
    arg = np.full(best.shape, last, np.int8 if last < 127 else np.int32)
    for k in range(last - 1, -1, -1):
        eq = (slices[k] == best).view(np.int8).astype(arg.dtype, copy=False)
        arg -= eq * (arg - arg.dtype.type(k))
    if np.isnan(best).any():
        for k, v in enumerate(slices):
            arg = np.where(np.isnan(v), arg.dtype.type(k), arg)
    return arg


def _on_onednn(x, win):
    """Whether oneDNN's max pooling runs this call: float32 (not in deterministic mode, as the
    convolutions), no NaN in x (oneDNN's maximum drops a NaN; torch's propagates it) and no
    −inf (oneDNN starts each window at −FLT_MAX, so a window of −inf would give −FLT_MAX)."""
    if DETERMINISM.enabled or onednn.pool_unsupported(x.shape, x.dtype) is not None:
        return False
    # NumPy's minimum propagates NaN: the smallest element is > −inf iff there is neither a NaN
    # nor a −inf (one SIMD pass, 3x faster than add.reduce, and it cannot overflow)
    return np.minimum.reduce(x, None) > -np.inf   # (empty x is refused above)


class MaxPool2D(Node):
    """y = max over each window (padding = −∞); remembers the winning offset per output.
    VJP: send ḡ to each window's winner (MaxPoolScatter); JVP: read the tangent there
    (MaxPoolSelect)."""

    params = ("win",)
    backward_name = "MaxPool2DWithIndicesBackward0"

    def forward(self, x):
        win, (x, unbatched) = self.win, _batched(x)
        winners = STATE.grad_enabled or FORWARD.active or win.want_indices   # may be asked for
        win.layout = _memory_format.suggested(x)   # x̄'s (and oneDNN's workspace's)
        if not win.want_indices and _on_onednn(x, win):
            best, win.workspace = onednn.max_pool2d_forward(
                x, win.out_shape, win.kernel, win.stride, win.dilation, win.pads, winners)
            if winners:    # the offsets themselves only if a JVP or double backward asks
                win.source = (x, best)
            return best[0] if unbatched else best
        win.workspace = None   # (a compiled replay reuses the window: none from a call before)
        # padding never wins: −∞, or an integer input's smallest value
        padded = win.padded(x, np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf)
        slices = [win.slice_of_padded(padded, p, q) for _, p, q in win.offsets()]
        best = _memory_format.empty(slices[0].shape, x.dtype, win.layout)   # laid out as x
        np.copyto(best, slices[0])              # running maximum (np.maximum propagates NaN)
        for v in slices[1:]:
            np.maximum(best, v, out=best)
        if winners:    # the window object belongs to this call: the winners live there
            win.arg = _winners(slices, best)
        return best[0] if unbatched else best

    def vjp(self, xp, g):
        return xp.apply(MaxPoolScatter, g, win=self.win)

    def jvp(self, xp, tangents):
        return xp.apply(MaxPoolSelect, tangents[0], win=self.win)


class MaxPoolSelect(Node):
    """The linear map "read each window's winner": x-shaped -> output-shaped (a gather)."""

    linear = True
    params = ("win",)

    def forward(self, x):
        win, (x, unbatched) = self.win, _batched(x)
        padded = win.padded(x, 0)
        out = np.zeros(win.out_shape, x.dtype)
        for k, p, q in win.offsets():
            out += win.slice_of_padded(padded, p, q) * (win.arg == k)
        return out[0] if unbatched else out

    def transpose(self, xp, g):
        return xp.apply(MaxPoolScatter, g, win=self.win)


class MaxPoolScatter(Node):
    """Its adjoint: send each output's gradient to its window's winner: output- -> x-shaped
    (torch's max_pool2d_with_indices_backward)."""

    linear = True
    params = ("win",)
    backward_name = "MaxPool2DWithIndicesBackwardBackward0"

    def forward(self, g):
        win, (g, unbatched) = self.win, _batched(g)
        if win.workspace is not None and g.dtype == np.float32:
            gx = onednn.max_pool2d_backward(g, win.workspace, win.x_shape, win.kernel,
                                            win.stride, win.dilation, win.pads, win.layout)
            return gx[0] if unbatched else gx
        gx = _memory_format.empty(win.x_shape, g.dtype, win.layout)
        gx.fill(0)
        for k, p, q in win.offsets():
            blocks = win.clipped(p, q)
            if blocks is None:
                continue
            (bi, bj), (ri, rj) = blocks
            mask = win.arg[:, :, bi, bj] == k
            if win.overlap:      # windows share inputs: accumulate
                gx[:, :, ri, rj] += g[:, :, bi, bj] * mask
            else:                # each input is read by one (window, offset) at most: write
                np.multiply(g[:, :, bi, bj], mask, out=gx[:, :, ri, rj])
        return gx[0] if unbatched else gx

    def transpose(self, xp, g):
        return xp.apply(MaxPoolSelect, g, win=self.win)


def _window_sum(win, x):
    """Σ over each window (zero padding): (N, C, H, W) -> (N, C, Ho, Wo), laid out as x."""
    padded = win.padded(x, 0)
    win.layout = _memory_format.suggested(x)
    out = None
    for _, p, q in win.offsets():
        v = win.slice_of_padded(padded, p, q)
        if out is None:
            out = _memory_format.empty(v.shape, v.dtype, win.layout)
            np.copyto(out, v)
        else:
            out += v
    return out


def _window_sum_adjoint(win, g):
    """Its adjoint: add each output's value to every input of its window (laid out as the
    forward's x)."""
    gx = _memory_format.empty(win.x_shape, g.dtype, win.layout)
    gx.fill(0)
    for _, p, q in win.offsets():
        blocks = win.clipped(p, q)
        if blocks is not None:
            (bi, bj), (ri, rj) = blocks
            gx[:, :, ri, rj] += g[:, :, bi, bj]
    return gx


class AvgPool2D(Node):
    """y = (Σ over each window) · ``scale``, the reciprocal of each window's divisor (a number, or
    an (Ho, Wo) array where the windows' counts differ): linear; its transpose is
    AvgPool2DBackward, which adds ḡ · scale back to every input of the window."""

    linear = True
    params = ("win", "scale")
    backward_name = "AvgPool2DBackward0"

    def forward(self, x):
        x, unbatched = _batched(x)
        out = _window_sum(self.win, x)
        out *= self.scale
        return out[0] if unbatched else out

    def transpose(self, xp, g):
        return xp.apply(AvgPool2DBackward, g, win=self.win, scale=self.scale)


class AvgPool2DBackward(Node):
    """x̄ = window-sum adjoint of (ḡ · scale): the transpose of AvgPool2D (and it of this)."""

    linear = True
    params = ("win", "scale")
    backward_name = "AvgPool2DBackwardBackward0"

    def forward(self, g):
        g, unbatched = _batched(g)
        gx = _window_sum_adjoint(self.win, g * self.scale)
        return gx[0] if unbatched else gx

    def transpose(self, xp, g):
        return xp.apply(AvgPool2D, g, win=self.win, scale=self.scale)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each k×k window: out[n, c, i, j] = max_{p,q} x[n, c, i·s + p·d − pad, j·s + q·d − pad].

    Padding counts as −∞; ties go to the first maximum in window order (row-major), NaN
    propagates — both as torch. Shapes: (N, C, H, W) -> (N, C, Ho, Wo) with
    Ho = ⌊(H + 2·pad − d(k − 1) − 1)/s⌋ + 1 (⌈·⌉ with ``ceil_mode``); stride defaults to
    kernel_size. With ``return_indices`` also returns the flat index (into H·W) of each maximum.
    Integer inputs are pooled too, as torch's CPU kernel: their dtype, no gradient.

    Example:
        >>> max_pool2d(chainrule.randn(8, 6, 28, 28), 2).shape
        (8, 6, 14, 14)
    """
    shape, unbatched = _check4d(input, "max_pool2d")
    if input._data.dtype.kind not in "fiu":     # integers pool too, as torch's CPU kernel
        raise NotImplementedError(f"\"max_pool2d\" not implemented for '{scalar_name(input)}'")
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, "max_pool2d")
    win = _Window(shape, k, s, p, d, ceil_mode)
    if win.ho < 1 or win.wo < 1:
        raise RuntimeError(f"max_pool2d: output size ({win.ho}, {win.wo}) is too small for "
                           f"input {shape}")
    win.want_indices = return_indices
    out = MaxPool2D.apply(input, win=win)
    if return_indices:
        bp, bq = np.divmod(win.arg.astype(np.int64), k[1])
        rows = np.arange(win.ho)[:, None] * s[0] + bp * d[0] - p[0]
        cols = np.arange(win.wo)[None, :] * s[1] + bq * d[1] - p[1]
        idx = Tensor._make(rows * shape[3] + cols)
        return out, (idx.squeeze(0) if unbatched else idx)
    return out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over each k×k window: the window sum divided by k² (``count_include_pad``, padding
    counted as zeros), by the in-bounds count (``count_include_pad=False``), or by
    ``divisor_override``. Shapes: (N, C, H, W) -> (N, C, Ho, Wo), sizes as max_pool2d.
    An int64 input gives int64 means truncated toward zero (torch's CPU kernel; no gradient)."""
    shape, unbatched = _check4d(input, "avg_pool2d")
    (kh, kw), (sh, sw), (ph, pw), _ = _pool_args(kernel_size, stride, padding, 1, "avg_pool2d")
    n, c, h, w = shape
    win = _Window(shape, (kh, kw), (sh, sw), (ph, pw), (1, 1), ceil_mode)
    ho, wo = win.ho, win.wo
    if ho < 1 or wo < 1:
        raise RuntimeError(f"avg_pool2d: output size ({ho}, {wo}) is too small for input {shape}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    integer = not input.is_floating_point()
    if integer and input._data.dtype != np.int64:
        raise NotImplementedError(f"\"avg_pool2d\" not implemented for '{scalar_name(input)}'")
    if divisor_override is not None and not integer:
        return AvgPool2D.apply(input, win=win, scale=1.0 / float(divisor_override))

    def counts(size, k, s, p, out):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, size + p)          # windows end at the padded border
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)
    divisor = np.outer(counts(h, kh, sh, ph, ho), counts(w, kw, sw, pw, wo))
    if integer:     # int64, as torch: the integer window sum over the divisor, no gradient
        sums = _window_sum(win, input._data.reshape(shape))
        out = integer_mean(sums, divisor if divisor_override is None else int(divisor_override))
        return Tensor._make(out[0] if unbatched else out)
    if np.all(divisor == divisor.flat[0]):
        return AvgPool2D.apply(input, win=win, scale=1.0 / float(divisor.flat[0]))
    return AvgPool2D.apply(input, win=win, scale=(1.0 / divisor).astype(input._data.dtype))


def _adaptive_ranges(size, out):
    """torch's adaptive windows: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) for i < out."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def check_output_size_arg(input, output_size, dims, op):
    """torch's checks of an adaptive pool's ``output_size`` before any other: a sequence on an
    input without a dim before its spatial ones is a ValueError, one of the wrong length a
    RuntimeError."""
    if not isinstance(output_size, (tuple, list)):
        return
    check_tensor(input, op)
    if input.ndim <= len(output_size):
        raise ValueError(f"{op}: Input dimension should be at least {len(output_size) + 1}, got "
                         f"an input of shape {tuple(input.shape)}")
    if len(output_size) != dims:
        raise RuntimeError(f"{op}: output_size must be {dims}, got {tuple(output_size)}")


def _output_size(output_size, h, w, op):
    """(Ho, Wo) from an int, a pair, or a pair with None for "the input's size"."""
    if isinstance(output_size, (tuple, list)):
        oh, ow = (h if output_size[0] is None else output_size[0],
                  w if output_size[1] is None else output_size[1])
    else:
        oh, ow = _pair(output_size if output_size is not None else (h, w), "output_size", op)
    if oh < 0 or ow < 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{oh}, {ow}}}")
    return int(oh), int(ow)


class AdaptiveAvgPool2D(Node):
    """y = P_h · x · P_wᵀ over the last two dims, P the averaging matrices (row i of P_h is
    1/|window i| on window i's rows): linear; its transpose x̄ = P_hᵀ · ȳ · P_w, two products."""

    linear = True
    params = ("ph", "pw")
    backward_name = "AdaptiveAvgPool2DBackward0"

    def forward(self, x):
        return np.matmul(np.matmul(self.ph, x), self.pw.T)

    def transpose(self, xp, g):
        return xp.matmul(xp.matmul(xp.const(self.ph.T), g), xp.const(self.pw))


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over adaptive windows giving exactly ``output_size`` (e.g. 1 = global average
    pooling, the mean over H and W, which torch records as such). Computed as P_h · x · P_wᵀ
    with averaging matrices P."""
    check_output_size_arg(input, output_size, 2, "adaptive_avg_pool2d")
    shape, unbatched = _check4d(input, "adaptive_avg_pool2d")
    h, w = shape[2:]
    oh, ow = _output_size(output_size, h, w, "adaptive_avg_pool2d")

    def matrix(size, out):
        m = np.zeros((out, size), input._data.dtype)
        for i, (a, b) in enumerate(_adaptive_ranges(size, out)):
            m[i, a:b] = 1.0 / (b - a)
        return m
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    return AdaptiveAvgPool2D.apply(input, ph=matrix(h, oh), pw=matrix(w, ow))


class AdaptiveMaxPool2D(Node):
    """y = x at each window's maximum, ``index`` (…, Ho, Wo) holding its flat position in H·W:
    linear given the index; its transpose scatter-adds ȳ back to those positions."""

    linear = True
    params = ("index",)
    backward_name = "AdaptiveMaxPool2DBackward0"

    def forward(self, x):
        self.x_shape = x.shape
        lead = x.shape[:-2]
        flat = np.take_along_axis(x.reshape(lead + (-1,)), self.index.reshape(lead + (-1,)), -1)
        return flat.reshape(self.index.shape)

    def transpose(self, xp, g):
        lead, (h, w) = self.x_shape[:-2], self.x_shape[-2:]
        gx = xp.apply(ScatterAdd, xp.reshape(g, lead + (-1,)), dim=len(lead),
                      index=self.index.reshape(lead + (-1,)), shape=lead + (h * w,))
        return xp.reshape(gx, self.x_shape)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive windows giving exactly ``output_size`` (first maximum wins)."""
    check_output_size_arg(input, output_size, 2, "adaptive_max_pool2d")
    shape, unbatched = _check4d(input, "adaptive_max_pool2d")
    n, c, h, w = shape
    oh, ow = _output_size(output_size, h, w, "adaptive_max_pool2d")
    data = input._data.reshape(shape)
    index = np.empty((n, c, oh, ow), np.int64)
    for i, (a, b) in enumerate(_adaptive_ranges(h, oh)):   # a loop over output cells only
        for j, (e, f) in enumerate(_adaptive_ranges(w, ow)):
            block = data[:, :, a:b, e:f].reshape(n, c, -1).argmax(-1)
            r, q = np.divmod(block, f - e)
            index[:, :, i, j] = (a + r) * w + (e + q)
    if unbatched:
        index = index[0]
    out = AdaptiveMaxPool2D.apply(input, index=index)
    return (out, Tensor._make(index)) if return_indices else out
