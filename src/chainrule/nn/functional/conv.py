"""Convolution as three mutually adjoint primitives, each an im2col plus a matmul.

For y = conv(x, w) (deep learning's conv2d is a cross-correlation:
y[n, o, i, j] = Σ_{c,p,q} w[o, c, p, q] · x_pad[n, c, i·s + p·d, j·s + q·d]):

* ``Conv``           (x, w[, b]) -> y
* ``ConvTranspose``  (y, w) -> x-shaped:  the VJP of conv w.r.t. x (and torch's conv_transpose2d)
* ``ConvWeight``     (x, y) -> w-shaped:  the VJP of conv w.r.t. w

The bilinear form B(x, y, w) = ⟨conv(x, w), y⟩ = ⟨x, convT(y, w)⟩ = ⟨convW(x, y), w⟩ makes each
one's VJP an application of the other two, so convolution is differentiable to any order; and
each is bilinear, so its JVP is op(ẋ, w) + op(x, ẇ).

With cols = im2col(x) (N, C·kh·kw, Ho·Wo), the windows of x side by side, the three are, per
image and group, y = W·cols, cols̄ = Wᵀ·ȳ followed by col2im (the adjoint of im2col), and
w̄ = Σ_n ȳ·colsᵀ. The reference implementation below says exactly that in a few lines; the
nodes run the fast kernels of ``conv_kernels`` (chunks of images sized for the cache, a second
column layout, a workspace, threads), which tests/test_conv.py checks against it.
"""
from __future__ import annotations

import numpy as np

from . import conv_kernels, conv_nd
from ... import _memory_format
from ..._graph import Node
from ._optional import NOT_GIVEN, given, optional
from ...ops._util import check_tensor
from ...ops.linalg import bilinear_jvp
from ...tensor import Tensor


class Geometry:
    """Stride, padding, dilation and groups of a 2-D convolution, with the sizes they imply.

    ``padding`` is (top, bottom, left, right); the pair form (ph, pw) means symmetric padding.
    """

    __slots__ = ("stride", "pads", "dilation", "groups", "kernel")

    def __init__(self, stride, padding, dilation, groups, kernel):
        if len(padding) == 2:
            padding = (padding[0], padding[0], padding[1], padding[1])
        self.stride, self.pads, self.dilation = tuple(stride), tuple(padding), tuple(dilation)
        self.groups, self.kernel = groups, tuple(kernel)

    @property
    def padding(self):
        """Symmetric (ph, pw) padding (the top and left pads)."""
        return (self.pads[0], self.pads[2])

    def out_size(self, h, w):
        (sh, sw), (dh, dw), (kh, kw) = self.stride, self.dilation, self.kernel
        t, b, l, r = self.pads
        return ((h + t + b - dh * (kh - 1) - 1) // sh + 1, (w + l + r - dw * (kw - 1) - 1) // sw + 1)

    def replace(self, **fields):
        """This geometry with some of its fields (stride, pads, dilation, groups, kernel) changed."""
        now = {name: getattr(self, name) for name in self.__slots__}
        now.update(fields)
        return Geometry(now["stride"], now["pads"], now["dilation"], now["groups"], now["kernel"])


# ---------------------------------------------------------------------------- reference
# The plain algorithm, for reading and for testing the fast kernels against: whole batch at
# once, np.pad, one matmul per op. Shapes: x (N, C, H, W), w (O, C/g, kh, kw), y (N, O, Ho, Wo).
def im2col(x, geo, ho, wo):
    """x -> columns (N, C·kh·kw, Ho·Wo), rows (c, p, q) and columns (i, j), unfold's layout:

        cols[n, (c, p, q), (i, j)] = x_pad[n, c, i·s + p·d, j·s + q·d]

    read through a strided view of the zero-padded x (no copy), then copied once by reshape."""
    t, b, l, r = geo.pads
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    n, c = x.shape[:2]
    sn, sc, sy, sx = xp.strides
    windows = np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, ho, wo), (sn, sc, sy * dh, sx * dw, sy * sh, sx * sw), writeable=False)
    return windows.reshape(n, c * kh * kw, ho * wo)


def col2im(cols, x_shape, geo, ho, wo):
    """The adjoint of im2col: columns (N, C·kh·kw, Ho·Wo) -> ``x_shape``, summing overlaps:

        x_pad[n, c, i·s + p·d, j·s + q·d] += cols[n, (c, p, q), (i, j)]

    one strided slice-add per kernel offset (p, q) into a zero-padded image, padding cut off."""
    n, c, h, w = x_shape
    t, b, l, r = geo.pads
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    xp = np.zeros((n, c, h + t + b, w + l + r), cols.dtype)
    cols = cols.reshape(n, c, kh, kw, ho, wo)
    for p in range(kh):
        for q in range(kw):
            xp[:, :, p * dh: p * dh + (ho - 1) * sh + 1: sh,
               q * dw: q * dw + (wo - 1) * sw + 1: sw] += cols[:, :, p, q]
    return xp[:, :, t:t + h, l:l + w].copy()


def reference_conv(x, w, geo, ho, wo, bias=None):
    """y = conv(x, w) + b: per image n and group g, y[n, g] = W_g · cols[n, g], with
    W_g (O/g, C/g·kh·kw) and cols[n, g] (C/g·kh·kw, Ho·Wo) the group's rows of im2col(x)."""
    n, o, g, k = x.shape[0], w.shape[0], geo.groups, w.shape[1] * w.shape[2] * w.shape[3]
    cols = im2col(x, geo, ho, wo).reshape(n, g, k, ho * wo)
    y = np.matmul(w.reshape(g, o // g, k), cols).reshape(n, o, ho, wo)
    return y if bias is None else y + bias[:, None, None]


def reference_conv_transpose(y, w, geo, x_shape):
    """x = convT(y, w), the adjoint of conv in x: per image and group cols̄[n, g] = W_gᵀ · y[n, g]
    (C/g·kh·kw, Ho·Wo), then x = col2im(cols̄)."""
    n, o, ho, wo = y.shape
    g, k = geo.groups, w.shape[1] * w.shape[2] * w.shape[3]         # k = C/g·kh·kw
    cols = np.matmul(w.reshape(g, o // g, k).transpose(0, 2, 1), y.reshape(n, g, o // g, ho * wo))
    return col2im(cols.reshape(n, g * k, ho * wo), x_shape, geo, ho, wo)


def reference_conv_weight(x, y, geo, w_shape):
    """w̄ = convW(x, ȳ), the adjoint of conv in w: per group w̄_g = Σ_n ȳ[n, g] · cols[n, g]ᵀ
    (O/g, C/g·kh·kw); an empty batch gives zeros."""
    n, o, ho, wo = y.shape
    g, k = geo.groups, x.shape[1] // geo.groups * geo.kernel[0] * geo.kernel[1]
    cols = im2col(x, geo, ho, wo).reshape(n, g, k, ho * wo)
    gw = np.matmul(y.reshape(n, g, o // g, ho * wo), cols.transpose(0, 1, 3, 2)).sum(0)
    return gw.reshape(w_shape)


# ---------------------------------------------------------------------------- the nodes
# conv1d is a conv2d of height 1: each node takes 3-D arrays (N, C, L) too, viewed as (N, C, 1, L)
def _lift(a):
    """(N, C, L) -> (N, C, 1, L), a view; a 4-D array as it is."""
    return a[:, :, None] if a.ndim == 3 else a


def _lift_shape(shape):
    return tuple(shape[:2]) + (1,) + tuple(shape[2:]) if len(shape) == 3 else tuple(shape)


def _drop(a, flat):
    """The lifted result back to 3-D when the inputs were."""
    return a[:, :, 0] if flat else a


def _with_bias_jvp(out, tb, shape):
    """The bias's share of the JVP, ḃ broadcast over every dim but the channels, added to ``out``."""
    if tb is None:
        return out
    term = tb.reshape((1, -1) + (1,) * (len(shape) - 2))
    return term.expand(tuple(shape)) if out is None else out + term


class Conv(Node):
    """y = conv(x, w) + b: x (N, C, H, W), w (O, C/g, kh, kw), b (O,) or not given -> y (N, O, Ho, Wo)
    (3-D x, w: conv1d). torch's ``convolution``, recorded as one node with its three edges."""

    params = ("geo", "out_hw")
    backward_name = "ConvolutionBackward0"
    grad_reads = ((1,), (0,), ())   # x̄ reads w, w̄ reads x, b̄ neither
    out_hw = None    # an explicit (Ho, Wo): the adjoint of a transposed conv with output_padding
                     # ignores the extra rows/columns that output_padding added

    def forward(self, x, w, b=None):
        flat, x, w = x.ndim == 3, _lift(x), _lift(w)
        hw = _lift_shape((0, 0) + self.out_hw)[2:] if self.out_hw else x.shape[2:]
        ho, wo = hw if self.out_hw else self.geo.out_size(*hw)
        return _drop(conv_kernels.conv(x, w, self.geo, ho, wo, b if given(b) else None), flat)

    def vjp(self, xp, g, x, w):
        need, geo = self.needs_input_grad, self.geo
        gx = xp.apply(ConvTranspose, g, w, geo=geo, x_shape=tuple(x.shape),
                      memory_format=_memory_format.suggested(xp.data(x))) if need[0] else None
        gw = xp.apply(ConvWeight, x, g, geo=geo, w_shape=tuple(w.shape)) if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (conv_nd.bias_grad(xp, g) if need[2] else None)

    def jvp(self, xp, tangents, x, w):
        out = bilinear_jvp(lambda a, b: Conv.apply(a, b, geo=self.geo, out_hw=self.out_hw),
                            x, w, tangents[0], tangents[1])
        return _with_bias_jvp(out, tangents[2] if len(tangents) == 3 else None, self._out.shape)


class ConvTranspose(Node):
    """x = convT(y, w) + b: the adjoint of conv in x. y (N, O, Ho, Wo), w (O, C/g, kh, kw),
    b (C,) or not given -> x (``x_shape``) (3-D y, w: conv1d's); torch's conv_transpose2d.
    ``memory_format``: x's layout (the VJP of a conv: its input's), None: y's."""

    params = ("geo", "x_shape", "memory_format")
    memory_format = None

    def forward(self, y, w, b=None):
        flat = y.ndim == 3
        x = conv_kernels.conv_transpose(_lift(y), _lift(w), self.geo, _lift_shape(self.x_shape),
                                        None if flat else self.memory_format)
        if given(b):
            x += b.reshape(-1, 1, 1)
        return _drop(x, flat)

    def vjp(self, xp, g, y, w):
        need = self.needs_input_grad
        gy = xp.apply(Conv, g, w, geo=self.geo, out_hw=tuple(y.shape[2:])) if need[0] else None
        gw = xp.apply(ConvWeight, g, y, geo=self.geo, w_shape=tuple(w.shape)) if need[1] else None
        if len(need) == 2:
            return gy, gw
        return gy, gw, (conv_nd.bias_grad(xp, g) if need[2] else None)

    def jvp(self, xp, tangents, y, w):
        op = lambda a, b: ConvTranspose.apply(a, b, geo=self.geo, x_shape=self.x_shape)  # noqa: E731
        out = bilinear_jvp(op, y, w, tangents[0], tangents[1])
        return _with_bias_jvp(out, tangents[2] if len(tangents) == 3 else None, self._out.shape)


class ConvWeight(Node):
    """w̄ = convW(x, ȳ): the adjoint of conv in w. x (N, C, H, W), ȳ (N, O, Ho, Wo) -> ``w_shape``
    (3-D: conv1d's): Σ over images and positions of ȳ · columnsᵀ, one GEMM per chunk of images."""

    params = ("geo", "w_shape")

    def forward(self, x, y):
        gw = conv_kernels.conv_weight(_lift(x), _lift(y), self.geo, _lift_shape(self.w_shape))
        return gw.reshape(self.w_shape)

    def vjp(self, xp, g, x, y):
        nx, ny = self.needs_input_grad
        gx = xp.apply(ConvTranspose, y, g, geo=self.geo, x_shape=tuple(x.shape)) if nx else None
        gy = xp.apply(Conv, x, g, geo=self.geo, out_hw=tuple(y.shape[2:])) if ny else None
        return gx, gy

    def jvp(self, xp, tangents, x, y):
        return bilinear_jvp(lambda a, b: ConvWeight.apply(a, b, geo=self.geo, w_shape=self.w_shape),
                             x, y, *tangents)


# a transposed convolution called as such: torch records it as the same one "convolution" node
_ConvTransposeOp = ConvTranspose.named("ConvolutionBackward0")


# ---------------------------------------------------------------------------- public API
def _int(v, name, op):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got "
                        f"{type(v).__name__} {v!r}")
    return int(v)


def _pair(v, name, op):
    if type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
        return v   # a module's own (stride, stride): every forward call, checked as cheaply
    return _ntuple(v, 2, name, op)


def _same_dtypes(input, weight, bias, op, bias_added_in_place=False):
    """torch refuses a convolution whose operands differ in dtype (it does not promote); its
    1-D and 2-D transposed convolutions add the bias in place instead, so a bias of another
    dtype is cast to the output's where that cast is allowed. Returns the bias to use."""
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"{op}: input type ({input.dtype}) and weight type ({weight.dtype}) "
                           f"should be the same")
    if bias is None or bias.dtype is input.dtype:
        return bias
    if not bias_added_in_place:
        raise RuntimeError(f"{op}: input type ({input.dtype}) and bias type ({bias.dtype}) "
                           f"should be the same")
    if bias.is_floating_point() and not input.is_floating_point():
        raise RuntimeError(f"{op}: result type {bias.dtype} can't be cast to the desired output "
                           f"type {input.dtype}")
    return bias.to(input.dtype)


def _check_geometry(stride, padding, dilation, op):
    """torch's checks of the convolution arguments (RuntimeError, as torch, at the call)."""
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if not isinstance(padding, str) and min(padding) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got "
                           f"dilation={dilation}")


_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def _check(input, weight, groups, op, transposed=False, dims=2):
    check_tensor(input, op)
    check_tensor(weight, op, "weight")
    x_shape, w_shape = input._data.shape, weight._data.shape   # (read once: every call)
    if len(x_shape) != dims + 2:
        raise RuntimeError(f"{op}: expected {dims + 1}D (unbatched) or {dims + 2}D (batched) "
                           f"input of shape (N, C, {_SPATIAL[dims]}), got input of "
                           f"shape {x_shape}")
    if len(w_shape) != dims + 2:
        raise RuntimeError(f"{op}: expected weight of {dims + 2} dims, got {w_shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups!r}")
    if 0 in w_shape[2:]:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got weight of "
                           f"shape {w_shape}")
    if not transposed and w_shape[0] == 0:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be at least 1 at "
                           f"dimension 0, but got weight of size {w_shape}")
    c = x_shape[1]
    if c % groups or (not transposed and w_shape[0] % groups):
        raise RuntimeError(f"{op}: channels ({c} in, {w_shape[0]} out) must be divisible by "
                           f"groups={groups}")
    expected = w_shape[0] if transposed else w_shape[1] * groups
    if c != expected:
        raise RuntimeError(f"{op}: input has {c} channels but the weight {w_shape} "
                           f"expects {expected} (groups={groups})")


def _unbatched(fn, input, weight, *args, dims=2):
    """torch's unbatched call: a (C, *spatial) input runs as a batch of one."""
    if isinstance(input, Tensor) and input.ndim == dims + 1 and isinstance(weight, Tensor) \
            and weight.ndim == dims + 2:
        return fn(input.unsqueeze(0), weight, *args).squeeze(0)
    return None


def _same_padding(dilation, kernel):
    """'same' padding (top, bottom, left, right): total d(k − 1) per axis, any odd extra unit at
    the bottom/right (as torch)."""
    pads = []
    for d, k in zip(dilation, kernel):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def _convolution(input, weight, bias, stride, padding, dilation, groups, op):
    """conv2d, or conv1d as a conv2d of height 1 (3-D input and weight; stride, padding and
    dilation already given as pairs for the two dims): one ``Conv`` node."""
    kernel = _lift_shape(tuple(weight.shape))[2:]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   "convolutions")
            padding = _same_padding(dilation, kernel)
        else:
            raise RuntimeError(f"{op}: Invalid padding string {padding!r}: padding must be "
                               f"an int, a pair, 'same' or 'valid'")
    _check_geometry(stride, padding, dilation, op)
    geo = Geometry(stride, padding, dilation, groups, kernel)
    ho, wo = geo.out_size(*_lift_shape(tuple(input.shape))[2:])
    if ho < 1 or wo < 1:
        raise RuntimeError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the "
                           f"padded input {tuple(input.shape[2:])} + 2×{geo.padding}")
    _same_dtypes(input, weight, bias, op)
    if bias is None:
        return Conv.apply(input, weight, NOT_GIVEN, geo=geo)
    if tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"{op}: bias must have shape ({weight.shape[0]},), got "
                           f"{tuple(bias.shape)}")
    return Conv.apply(input, weight, bias, geo=geo)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D cross-correlation: out[n, o] = b[o] + Σ_c w[o, c] ⋆ x[n, c] (the deep-learning "conv").

    out[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, g(o)·C/g + c, i·s + p·d, j·s + q·d]

    Args:
        input (N, C, H, W); weight (O, C/groups, kh, kw); bias (O,) or None.
        stride, dilation: int or pair.  padding: int, pair, 'valid' (0) or 'same' (output size
        = input size for stride 1; any odd extra zero goes to the bottom/right, as torch).
        groups: split channels into groups convolved separately (groups = C: depthwise).
    Output: (N, O, Ho, Wo), Ho = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.

    Example:
        >>> x = chainrule.randn(8, 3, 32, 32); w = chainrule.randn(16, 3, 3, 3)
        >>> conv2d(x, w, padding=1).shape
        (8, 16, 32, 32)
    """
    out = _unbatched(conv2d, input, weight, bias, stride, padding, dilation, groups)
    if out is not None:
        return out
    _check(input, weight, groups, "conv2d")
    stride, dilation = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    if not isinstance(padding, str):
        padding = _pair(padding, "padding", "conv2d")
    return _convolution(input, weight, bias, stride, padding, dilation, groups, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D cross-correlation: input (N, C, L), weight (O, C/groups, k) -> (N, O, Lo); computed
    as a conv2d of height 1 (the same node, on views of the arrays)."""
    out = _unbatched(conv1d, input, weight, bias, stride, padding, dilation, groups, dims=1)
    if out is not None:
        return out
    check_tensor(input, "conv1d")
    check_tensor(weight, "conv1d", "weight")
    if input.ndim != 3 or weight.ndim != 3:
        raise RuntimeError(f"conv1d: expected input (N, C, L) or (C, L) and weight (O, C/g, k), "
                           f"got {tuple(input.shape)} and {tuple(weight.shape)}")
    _check(input, weight, groups, "conv1d", dims=1)

    def one(v, name):
        if isinstance(v, (tuple, list)):
            if len(v) != 1:
                raise RuntimeError(f"conv1d: expected {name} to be a single integer value or a "
                                   f"list of 1 values to match the convolution dimensions, but "
                                   f"got {name}={list(v)}")
            v = v[0]
        return (1, _int(v, name, "conv1d"))
    pad = padding if isinstance(padding, str) else (0, one(padding, "padding")[1])
    return _convolution(input, weight, bias, one(stride, "stride"), pad,
                        one(dilation, "dilation"), groups, "conv1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed convolution (the gradient of conv2d w.r.t. its input; "deconvolution").

    input (N, C_in, H, W); weight (C_in, C_out/groups, kh, kw); bias (C_out,) or None; output
    (N, C_out, Ho, Wo) with Ho = (H − 1)s − 2p + d(kh − 1) + output_padding + 1.
    """
    out = _unbatched(conv_transpose2d, input, weight, bias, stride, padding, output_padding,
                     groups, dilation)
    if out is not None:
        return out
    _check(input, weight, groups, "conv_transpose2d", transposed=True)
    bias = _same_dtypes(input, weight, bias, "conv_transpose2d", bias_added_in_place=True)
    stride, padding = _pair(stride, "stride", "conv_transpose2d"), _pair(padding, "padding", "conv_transpose2d")
    dilation = _pair(dilation, "dilation", "conv_transpose2d")
    output_padding = _pair(output_padding, "output_padding", "conv_transpose2d")
    _check_geometry(stride, padding, dilation, "conv_transpose2d")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"conv_transpose2d: output_padding {output_padding} must be smaller than "
                         f"either stride {stride} or dilation {dilation}")
    kernel = tuple(weight.shape[2:])
    n, _, h, w = input.shape
    size = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
            zip((h, w), stride, padding, dilation, kernel, output_padding)]
    if min(size) < 1:
        raise RuntimeError(f"conv_transpose2d: output size {tuple(size)} is too small")
    c = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c,):
        raise RuntimeError(f"conv_transpose2d: bias must have shape ({c},), got "
                           f"{tuple(bias.shape)}")
    geo = Geometry(stride, padding, dilation, groups, kernel)
    x_shape = (n, c, size[0], size[1])
    return _ConvTransposeOp.apply(input, weight, optional(bias), geo=geo, x_shape=x_shape)


class Unfold(Node):
    """im2col as an op: (N, C, H, W) -> (N, C·kh·kw, L): linear; its transpose is Fold."""

    linear = True
    params = ("geo",)
    backward_name = "Im2ColBackward0"

    def forward(self, x):
        ho, wo = self.geo.out_size(*x.shape[2:])
        self.x_shape = x.shape
        return conv_kernels.im2col(x, self.geo, ho, wo)

    def transpose(self, xp, g):
        return xp.apply(Fold, g, geo=self.geo, x_shape=self.x_shape)


class Fold(Node):
    """col2im as an op: (N, C·kh·kw, L) -> (N, C, H, W), summing overlaps: linear; its transpose
    is Unfold."""

    linear = True
    params = ("geo", "x_shape")
    backward_name = "Col2ImBackward0"

    def forward(self, cols):
        ho, wo = self.geo.out_size(*self.x_shape[2:])
        return conv_kernels.col2im(cols, self.x_shape, self.geo, ho, wo)

    def transpose(self, xp, g):
        return xp.apply(Unfold, g, geo=self.geo)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks (im2col): (N, C, H, W) -> (N, C·kh·kw, L), L = Ho·Wo; an
    unbatched (C, H, W) -> (C·kh·kw, L)."""
    check_tensor(input, "unfold")
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    if input.ndim != 4:
        raise RuntimeError(f"unfold: expected input (N, C, H, W) or (C, H, W), got "
                           f"{tuple(input.shape)}")
    geo = Geometry(_pair(stride, "stride", "unfold"), _pair(padding, "padding", "unfold"),
                   _pair(dilation, "dilation", "unfold"), 1, _pair(kernel_size, "kernel_size", "unfold"))
    return Unfold.apply(input, geo=geo)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks back into an image (col2im): (N, C·kh·kw, L) -> (N, C, H, W); an
    unbatched (C·kh·kw, L) -> (C, H, W)."""
    check_tensor(input, "fold")
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding,
                    stride).squeeze(0)
    kernel = _pair(kernel_size, "kernel_size", "fold")
    geo = Geometry(_pair(stride, "stride", "fold"), _pair(padding, "padding", "fold"),
                   _pair(dilation, "dilation", "fold"), 1, kernel)
    h, w = _pair(output_size, "output_size", "fold")
    k = kernel[0] * kernel[1]
    if input.ndim != 3 or input.shape[1] % k:
        raise RuntimeError(f"fold: expected input (N, C·{k}, L), got {tuple(input.shape)}")
    ho, wo = geo.out_size(h, w)
    if input.shape[2] != ho * wo:
        raise RuntimeError(f"fold: expected L = {ho * wo} blocks for output {h}×{w}, got "
                           f"{input.shape[2]}")
    return Fold.apply(input, geo=geo, x_shape=(input.shape[0], input.shape[1] // k, h, w))


# ---------------------------------------------------------------------------- 3-D, and 1-D transposed
def _ntuple(v, n, name, op):
    """An int or a sequence of ``n`` ints as an n-tuple, with torch's error for a wrong length."""
    if isinstance(v, (tuple, list)):
        if len(v) == 1 and n > 1:
            v = tuple(v) * n
        if len(v) != n:
            raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of "
                               f"{n} values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return tuple(_int(a, name, op) for a in v)
    return (_int(v, name, op),) * n


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-D cross-correlation (volumes, video):

        out[n, o, i, j, l] = b[o] + Σ_{c,p,q,r} w[o, c, p, q, r] · x_pad[n, g(o)·C/g + c,
                                                       i·s₁ + p·d₁, j·s₂ + q·d₂, l·s₃ + r·d₃]

    Args:
        input (N, C, D, H, W) or unbatched (C, D, H, W); weight (O, C/groups, kd, kh, kw);
        bias (O,) or None. stride, dilation: int or triple. padding: int, triple, 'valid' or
        'same' (stride 1 only; an odd extra zero goes to the far side, as torch).
    Output: (N, O, Do, Ho, Wo), Do = ⌊(D + 2p − d(k − 1) − 1)/s⌋ + 1 per dim.

    Example:
        >>> conv3d(chainrule.randn(2, 3, 8, 8, 8), chainrule.randn(4, 3, 3, 3, 3), padding=1).shape
        (2, 4, 8, 8, 8)
    """
    out = _unbatched(conv3d, input, weight, bias, stride, padding, dilation, groups, dims=3)
    if out is not None:
        return out
    op = "conv3d"
    _check(input, weight, groups, op, dims=3)
    stride, dilation = _ntuple(stride, 3, "stride", op), _ntuple(dilation, 3, "dilation", op)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * 3
        elif padding == "same":
            if stride != (1, 1, 1):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   "convolutions")
            same = _same_padding(dilation, kernel)
            pads = tuple(zip(same[::2], same[1::2]))
        else:
            raise RuntimeError(f"{op}: Invalid padding string {padding!r}: padding must be "
                               f"an int, a triple, 'same' or 'valid'")
        _check_geometry(stride, (0,), dilation, op)
    else:
        padding = _ntuple(padding, 3, "padding", op)
        _check_geometry(stride, padding, dilation, op)
        pads = tuple((p, p) for p in padding)
    geo = conv_nd.GeometryND(stride, pads, dilation, groups, kernel)
    size = geo.out_size(tuple(input.shape[2:]))
    if min(size) < 1:
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(input.shape[2:], pads))
        dilated = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        raise RuntimeError(f"{op}: Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, dilated))}). Kernel size can't be greater "
                           f"than actual input size")
    _same_dtypes(input, weight, bias, op)
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"{op}: bias must have shape ({weight.shape[0]},), got "
                           f"{tuple(bias.shape)}")
    return conv_nd.ConvND.apply(input, weight, optional(bias), geo=geo)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, dims,
                    op):
    """conv_transpose1d (the 2-D node on height-1 views) or conv_transpose3d (the N-d node)."""
    _check(input, weight, groups, op, transposed=True, dims=dims)
    stride, padding = _ntuple(stride, dims, "stride", op), _ntuple(padding, dims, "padding", op)
    dilation = _ntuple(dilation, dims, "dilation", op)
    output_padding = _ntuple(output_padding, dims, "output_padding", op)
    _check_geometry(stride, padding, dilation, op)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or "
                           f"dilation, but got output_padding={output_padding}, "
                           f"stride={stride}, dilation={dilation}")
    kernel = tuple(weight.shape[2:])
    size = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1 for i, s, p, d, k, o in
                 zip(input.shape[2:], stride, padding, dilation, kernel, output_padding))
    if min(size) < 1:
        raise RuntimeError(f"{op}: Given input size per channel: {tuple(input.shape[2:])}, "
                           f"calculated output size per channel: {size}. Output size is too "
                           "small")
    bias = _same_dtypes(input, weight, bias, op, bias_added_in_place=dims == 1)
    c = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c,):
        raise RuntimeError(f"{op}: bias must have shape ({c},), got {tuple(bias.shape)}")
    x_shape = (input.shape[0], c) + size
    b = optional(bias)
    if dims == 1:
        geo = Geometry((1,) + stride, (0,) + padding, (1,) + dilation, groups, (1,) + kernel)
        out = _ConvTransposeOp.apply(input, weight, b, geo=geo, x_shape=x_shape)
    else:
        geo = conv_nd.GeometryND(stride, tuple((p, p) for p in padding), dilation, groups, kernel)
        out = conv_nd.ConvTransposeNDOp.apply(input, weight, b, geo=geo, x_shape=x_shape)
    return out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """1-D transposed convolution (the adjoint of conv1d in its input):

        out[n, c] = b[c] + Σ_{i,p} x[n, o, i] · w[o, c, p] placed at i·s + p·d − padding

    input (N, C_in, L) or (C_in, L); weight (C_in, C_out/groups, k); bias (C_out,) or None.
    Output (N, C_out, Lo), Lo = (L − 1)s − 2p + d(k − 1) + output_padding + 1.
    """
    out = _unbatched(conv_transpose1d, input, weight, bias, stride, padding, output_padding,
                     groups, dilation, dims=1)
    if out is not None:
        return out
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """3-D transposed convolution (the adjoint of conv3d in its input).

    input (N, C_in, D, H, W) or unbatched; weight (C_in, C_out/groups, kd, kh, kw); bias (C_out,)
    or None. Output (N, C_out, Do, Ho, Wo), Do = (D − 1)s − 2p + d(k − 1) + output_padding + 1.
    """
    out = _unbatched(conv_transpose3d, input, weight, bias, stride, padding, output_padding,
                     groups, dilation, dims=3)
    if out is not None:
        return out
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3, "conv_transpose3d")
