"""Convolution as three mutually adjoint primitives, each an im2col plus one batched GEMM.

For y = conv(x, w) (deep learning's conv2d is a cross-correlation:
y[n, o, i, j] = Σ_{c,p,q} w[o, c, p, q] · x_pad[n, c, i·s + p·d, j·s + q·d]):

* ``Conv``           (x, w) -> y
* ``ConvTranspose``  (y, w) -> x-shaped:  the VJP of conv w.r.t. x (and torch's conv_transpose2d)
* ``ConvWeight``     (x, y) -> w-shaped:  the VJP of conv w.r.t. w

The bilinear form B(x, y, w) = ⟨conv(x, w), y⟩ = ⟨x, convT(y, w)⟩ = ⟨convW(x, y), w⟩ makes each
one's VJP an application of the other two, so convolution is differentiable to any order; and
each is bilinear, so its JVP is op(ẋ, w) + op(x, ẇ).

im2col reads the k×k windows through a strided *view* (no Python loop over pixels or images),
copies them once into a (groups, C/g·kh·kw, N·Ho·Wo) matrix, and one matmul does the rest.
col2im (the adjoint) adds the columns back with one strided slice-add per kernel offset.
"""
from __future__ import annotations

import numpy as np

from ...autograd.node import Node
from ...ops._util import check_tensor
from ...tensor import Tensor


class Geometry:
    """Stride, padding, dilation and groups of a 2-D convolution, with the sizes they imply."""

    __slots__ = ("stride", "padding", "dilation", "groups", "kernel")

    def __init__(self, stride, padding, dilation, groups, kernel):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups, self.kernel = groups, kernel

    def out_size(self, h, w):
        (sh, sw), (ph, pw), (dh, dw), (kh, kw) = self.stride, self.padding, self.dilation, self.kernel
        return ((h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)


def _windows(xp, geo, ho, wo):
    """View of xp (N, C, Hp, Wp) as (N, C, kh, kw, Ho, Wo) windows; no copy."""
    n, c = xp.shape[:2]
    sn, sc, sh_, sw_ = xp.strides
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    return np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, ho, wo), (sn, sc, sh_ * dh, sw_ * dw, sh_ * sh, sw_ * sw), writeable=False)


def _pad(x, geo):
    ph, pw = geo.padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def im2col(x, geo, ho, wo):
    """x (N, C, H, W) -> columns (g, C/g·kh·kw, N·Ho·Wo), one copy."""
    n, c = x.shape[:2]
    g = geo.groups
    win = _windows(_pad(x, geo), geo, ho, wo)                       # (N, C, kh, kw, Ho, Wo)
    win = win.reshape(n, g, c // g, *geo.kernel, ho, wo)
    cols = np.ascontiguousarray(win.transpose(1, 2, 3, 4, 0, 5, 6))  # (g, C/g, kh, kw, N, Ho, Wo)
    return cols.reshape(g, (c // g) * geo.kernel[0] * geo.kernel[1], n * ho * wo)


def col2im(cols, x_shape, geo, ho, wo):
    """The adjoint of im2col: columns (g, C/g·kh·kw, N·Ho·Wo) -> x (N, C, H, W), summing overlaps."""
    n, c, h, w = x_shape
    (sh, sw), (ph, pw), (dh, dw), (kh, kw) = geo.stride, geo.padding, geo.dilation, geo.kernel
    cols = cols.reshape(c, kh, kw, n, ho, wo)
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for p in range(kh):          # one strided slice-add per kernel offset, never per pixel
        for q in range(kw):
            xp[:, :, p * dh: p * dh + sh * (ho - 1) + 1: sh, q * dw: q * dw + sw * (wo - 1) + 1: sw] += \
                cols[:, p, q].transpose(1, 0, 2, 3)
    return xp[:, :, ph: ph + h, pw: pw + w]


def _to_channels_first(y2, n, ho, wo):
    """(O, N·Ho·Wo) -> contiguous (N, O, Ho, Wo)."""
    return np.ascontiguousarray(y2.reshape(-1, n, ho, wo).transpose(1, 0, 2, 3))


def _from_channels_first(y, g):
    """(N, O, Ho, Wo) -> (g, O/g, N·Ho·Wo)."""
    n, o = y.shape[:2]
    return y.transpose(1, 0, 2, 3).reshape(g, o // g, -1)


class Conv(Node):
    """y = conv(x, w): x (N, C, H, W), w (O, C/g, kh, kw) -> y (N, O, Ho, Wo)."""

    def forward(self, x, w):
        geo = self.geo
        ho, wo = geo.out_size(*x.shape[2:])
        cols = im2col(x, geo, ho, wo)
        y2 = np.matmul(w.reshape(geo.groups, w.shape[0] // geo.groups, -1), cols)  # (g, O/g, NL)
        return _to_channels_first(y2.reshape(w.shape[0], -1), x.shape[0], ho, wo)

    def backward(self, g):
        x, w = self.inputs
        nx, nw = self.needs_input_grad
        gx = ConvTranspose.apply(g, w, geo=self.geo, x_shape=x.shape) if nx else None
        gw = ConvWeight.apply(x, g, geo=self.geo, w_shape=w.shape) if nw else None
        return gx, gw

    def jvp(self, tx, tw):
        x, w = self.inputs
        out = None if tx is None else Conv.apply(tx, w, geo=self.geo)
        if tw is not None:
            term = Conv.apply(x, tw, geo=self.geo)
            out = term if out is None else out + term
        return out


class ConvTranspose(Node):
    """x = convT(y, w): the adjoint of conv in x. y (N, O, Ho, Wo), w (O, C/g, kh, kw) ->
    x (``x_shape``)."""

    def forward(self, y, w):
        geo = self.geo
        ho, wo = y.shape[2:]
        g = geo.groups
        wg = w.reshape(g, w.shape[0] // g, -1)                       # (g, O/g, K)
        cols = np.matmul(wg.transpose(0, 2, 1), _from_channels_first(y, g))  # (g, K, NL)
        return col2im(cols, self.x_shape, geo, ho, wo)

    def backward(self, g):
        y, w = self.inputs
        ny, nw = self.needs_input_grad
        gy = Conv.apply(g, w, geo=self.geo) if ny else None
        gw = ConvWeight.apply(g, y, geo=self.geo, w_shape=w.shape) if nw else None
        return gy, gw

    def jvp(self, ty, tw):
        y, w = self.inputs
        out = None if ty is None else ConvTranspose.apply(ty, w, geo=self.geo, x_shape=self.x_shape)
        if tw is not None:
            term = ConvTranspose.apply(y, tw, geo=self.geo, x_shape=self.x_shape)
            out = term if out is None else out + term
        return out


class ConvWeight(Node):
    """w̄ = convW(x, ȳ): the adjoint of conv in w. x (N, C, H, W), ȳ (N, O, Ho, Wo) -> ``w_shape``."""

    def forward(self, x, y):
        geo = self.geo
        ho, wo = y.shape[2:]
        cols = im2col(x, geo, ho, wo)                                   # (g, K, NL)
        gw = np.matmul(_from_channels_first(y, geo.groups), cols.transpose(0, 2, 1))  # (g, O/g, K)
        return gw.reshape(self.w_shape)

    def backward(self, g):
        x, y = self.inputs
        nx, ny = self.needs_input_grad
        gx = ConvTranspose.apply(y, g, geo=self.geo, x_shape=x.shape) if nx else None
        gy = Conv.apply(x, g, geo=self.geo) if ny else None
        return gx, gy

    def jvp(self, tx, ty):
        x, y = self.inputs
        out = None if tx is None else ConvWeight.apply(tx, y, geo=self.geo, w_shape=self.w_shape)
        if ty is not None:
            term = ConvWeight.apply(x, ty, geo=self.geo, w_shape=self.w_shape)
            out = term if out is None else out + term
        return out


# ---------------------------------------------------------------------------- public API
def _pair(v, name, op):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair, got {v}")
        return tuple(int(a) for a in v)
    return (int(v), int(v))


def _check(input, weight, groups, op, transposed=False):
    check_tensor(input, op)
    check_tensor(weight, op, "weight")
    if input.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {tuple(input.shape)}")
    if weight.ndim != 4:
        raise ValueError(f"{op}: expected weight of 4 dims, got {tuple(weight.shape)}")
    c = input.shape[1]
    if groups < 1 or c % groups or (not transposed and weight.shape[0] % groups):
        raise ValueError(f"{op}: channels ({c} in, {weight.shape[0]} out) must be divisible by "
                         f"groups={groups}")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if c != expected:
        raise ValueError(f"{op}: input has {c} channels but the weight {tuple(weight.shape)} "
                         f"expects {expected} (groups={groups})")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D cross-correlation: out[n, o] = b[o] + Σ_c w[o, c] ⋆ x[n, c] (the deep-learning "conv").

    Args:
        input (N, C, H, W); weight (O, C/groups, kh, kw); bias (O,) or None.
        stride, dilation: int or pair.  padding: int, pair, 'valid' (0) or 'same' (output size
        = input size for stride 1; any odd extra zero goes to the bottom/right, as torch).
        groups: split channels into groups convolved separately (groups = C: depthwise).
    Output: (N, O, Ho, Wo), Ho = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1.
    """
    _check(input, weight, groups, "conv2d")
    stride, dilation = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            padding = tuple(t // 2 for t in total)
            extra = [t % 2 for t in total]
            if any(extra):
                from ...ops import pad
                input = pad(input, (0, extra[1], 0, extra[0]))
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    padding = _pair(padding, "padding", "conv2d")
    geo = Geometry(stride, padding, dilation, groups, kernel)
    ho, wo = geo.out_size(*input.shape[2:])
    if ho < 1 or wo < 1:
        raise ValueError(f"conv2d: kernel {kernel} (dilation {dilation}) is larger than the padded "
                         f"input {tuple(input.shape[2:])} + 2×{padding}")
    if input.dtype is not weight.dtype:
        raise TypeError(f"conv2d: input ({input.dtype}) and weight ({weight.dtype}) must have the "
                        "same dtype")
    out = Conv.apply(input, weight, geo=geo)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D cross-correlation: input (N, C, L), weight (O, C/groups, k) -> (N, O, Lo); computed
    as a conv2d of height 1."""
    check_tensor(input, "conv1d")
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: expected input (N, C, L) and weight (O, C/g, k), got "
                         f"{tuple(input.shape)} and {tuple(weight.shape)}")
    one = lambda v: v if isinstance(v, str) else (1, v[0] if isinstance(v, (tuple, list)) else v)
    pad = padding if isinstance(padding, str) else (0, padding[0] if isinstance(padding, (tuple, list)) else padding)
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, one(stride), pad, one(dilation), groups)
    return out.squeeze(2)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed convolution (the gradient of conv2d w.r.t. its input; "deconvolution").

    input (N, C_in, H, W); weight (C_in, C_out/groups, kh, kw); output (N, C_out, Ho, Wo) with
    Ho = (H − 1)s − 2p + d(kh − 1) + output_padding + 1.
    """
    _check(input, weight, groups, "conv_transpose2d", transposed=True)
    stride, padding = _pair(stride, "stride", "conv_transpose2d"), _pair(padding, "padding", "conv_transpose2d")
    dilation = _pair(dilation, "dilation", "conv_transpose2d")
    output_padding = _pair(output_padding, "output_padding", "conv_transpose2d")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than "
                         f"either stride {stride} or dilation {dilation}")
    kernel = tuple(weight.shape[2:])
    n, _, h, w = input.shape
    size = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
            zip((h, w), stride, padding, dilation, kernel, output_padding)]
    if min(size) < 1:
        raise ValueError(f"conv_transpose2d: output size {tuple(size)} is too small")
    geo = Geometry(stride, padding, dilation, groups, kernel)
    out = ConvTranspose.apply(input, weight, geo=geo,
                              x_shape=(n, weight.shape[1] * groups, size[0], size[1]))
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


class Unfold(Node):
    """im2col as an op: (N, C, H, W) -> (N, C·kh·kw, L); its VJP is Fold."""

    save_inputs = False

    def forward(self, x):
        ho, wo = self.geo.out_size(*x.shape[2:])
        self.x_shape = x.shape
        cols = im2col(x, self.geo, ho, wo)[0]                     # (K, N·L)
        return np.ascontiguousarray(cols.reshape(cols.shape[0], x.shape[0], -1).transpose(1, 0, 2))

    def backward(self, g):
        return Fold.apply(g, geo=self.geo, x_shape=self.x_shape)

    def jvp(self, t):
        return Unfold.apply(t, geo=self.geo)


class Fold(Node):
    """col2im as an op: (N, C·kh·kw, L) -> (N, C, H, W), summing overlaps; its VJP is Unfold."""

    save_inputs = False

    def forward(self, cols):
        n, c, h, w = self.x_shape
        ho, wo = self.geo.out_size(h, w)
        flat = cols.transpose(1, 0, 2).reshape(1, cols.shape[1], -1)
        return np.ascontiguousarray(col2im(flat, self.x_shape, self.geo, ho, wo))

    def backward(self, g):
        return Unfold.apply(g, geo=self.geo)

    def jvp(self, t):
        return Fold.apply(t, geo=self.geo, x_shape=self.x_shape)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks (im2col): (N, C, H, W) -> (N, C·kh·kw, L), L = Ho·Wo."""
    check_tensor(input, "unfold")
    if input.ndim != 4:
        raise ValueError(f"unfold: expected input (N, C, H, W), got {tuple(input.shape)}")
    geo = Geometry(_pair(stride, "stride", "unfold"), _pair(padding, "padding", "unfold"),
                   _pair(dilation, "dilation", "unfold"), 1, _pair(kernel_size, "kernel_size", "unfold"))
    return Unfold.apply(input, geo=geo)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks back into an image (col2im): (N, C·kh·kw, L) -> (N, C, H, W)."""
    check_tensor(input, "fold")
    kernel = _pair(kernel_size, "kernel_size", "fold")
    geo = Geometry(_pair(stride, "stride", "fold"), _pair(padding, "padding", "fold"),
                   _pair(dilation, "dilation", "fold"), 1, kernel)
    h, w = _pair(output_size, "output_size", "fold")
    k = kernel[0] * kernel[1]
    if input.ndim != 3 or input.shape[1] % k:
        raise ValueError(f"fold: expected input (N, C·{k}, L), got {tuple(input.shape)}")
    ho, wo = geo.out_size(h, w)
    if input.shape[2] != ho * wo:
        raise ValueError(f"fold: expected L = {ho * wo} blocks for output {h}×{w}, got {input.shape[2]}")
    return Fold.apply(input, geo=geo, x_shape=(input.shape[0], input.shape[1] // k, h, w))
