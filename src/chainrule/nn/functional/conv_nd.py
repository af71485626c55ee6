"""Convolution in any number of spatial dims (conv3d, conv_transpose3d): the three adjoint
primitives of ``conv.py`` written once for d dims, on the plain NumPy algorithm.

For y = conv(x, w), with x_pad the zero-padded input and k = (k₁, …, k_d) the kernel offsets:

    y[n, o, i] = Σ_{c,k} w[o, c, k] · x_pad[n, g(o)·C/g + c, i·s + k·dil]     (i, k multi-indices)

* ``ConvND``          (x, w[, b]) -> y
* ``ConvTransposeND`` (y, w[, b]) -> x-shaped: the adjoint of conv in x (torch's conv_transposeNd)
* ``ConvWeightND``    (x, y) -> w-shaped: the adjoint of conv in w

Each is im2col (the windows of x, read through one strided view of the padded input and copied
once into columns (N, C·Πk, ΠO)) and one batched GEMM per group, or that GEMM followed by col2im
(a strided slice-add per kernel offset). As in 2-D, the bilinear form ⟨conv(x, w), y⟩ =
⟨x, convT(y, w)⟩ = ⟨convW(x, y), w⟩ makes each one's VJP an application of the other two, so
they are differentiable to any order, and each is bilinear, so its JVP is op(ẋ, w) + op(x, ẇ).
The tuned 2-D kernels (and oneDNN) stay with conv1d/conv2d; these serve the rarer 3-D layers.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..._graph import Node
from ...ops.linalg import bilinear_jvp
from ._optional import given
from .channel_sums import BLAS_FLOATS, channel_sums


def bias_grad(xp, g):
    """b̄ = Σ ȳ over every dim but the channels: g (N, C, *S) -> (C,). On a dense array, as
    matrix-vector products (``channel_sums``: LeNet-5's (64, 6, 28, 28), 55 → 21 µs)."""
    data = xp.data(g)
    if (not xp.recording and data.dtype in BLAS_FLOATS and data.flags.c_contiguous
            and data.size):
        return channel_sums(data.reshape(data.shape[0], data.shape[1], -1))
    return xp.sum(g, (0,) + tuple(range(2, g.ndim)))


class GeometryND:
    """Stride, per-dim (low, high) padding, dilation, groups and kernel of a d-dim convolution."""

    __slots__ = ("stride", "pads", "dilation", "groups", "kernel")

    def __init__(self, stride, pads, dilation, groups, kernel):
        self.stride, self.dilation, self.kernel = tuple(stride), tuple(dilation), tuple(kernel)
        self.pads, self.groups = tuple(tuple(p) for p in pads), groups

    def out_size(self, spatial):
        """O_i = ⌊(S_i + lo_i + hi_i − dil_i(k_i − 1) − 1)/s_i⌋ + 1 per dim."""
        return tuple((s + lo + hi - d * (k - 1) - 1) // st + 1 for s, (lo, hi), d, k, st in
                     zip(spatial, self.pads, self.dilation, self.kernel, self.stride))


def im2col_nd(x, geo, out):
    """x (N, C, *S) -> columns (N, C·Πk, ΠO), rows (c, k₁…k_d), columns (i₁…i_d):

        cols[n, (c, k), i] = x_pad[n, c, i·s + k·dil]"""
    n, c = x.shape[:2]
    widths = ((0, 0), (0, 0)) + geo.pads
    xp = np.pad(x, widths) if any(lo or hi for lo, hi in geo.pads) else x
    sp = xp.strides[2:]
    view = np.lib.stride_tricks.as_strided(
        xp, (n, c) + geo.kernel + tuple(out),
        xp.strides[:2] + tuple(a * d for a, d in zip(sp, geo.dilation))
        + tuple(a * s for a, s in zip(sp, geo.stride)), writeable=False)
    return view.reshape(n, c * int(np.prod(geo.kernel)), int(np.prod(out)))


def col2im_nd(cols, x_shape, geo, out):
    """The adjoint of im2col_nd: x_pad[n, c, i·s + k·dil] += cols[n, (c, k), i], padding cut off."""
    n, c = x_shape[:2]
    spatial = x_shape[2:]
    xp = np.zeros((n, c) + tuple(s + lo + hi for s, (lo, hi) in zip(spatial, geo.pads)),
                  cols.dtype)
    cols = cols.reshape((n, c) + geo.kernel + tuple(out))
    for k in itertools.product(*(range(kk) for kk in geo.kernel)):
        idx = tuple(slice(ki * d, ki * d + (o - 1) * s + 1, s) for ki, d, o, s in
                    zip(k, geo.dilation, out, geo.stride))
        xp[(slice(None), slice(None)) + idx] += cols[(slice(None), slice(None)) + k]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, geo.pads))
    return xp[(slice(None), slice(None)) + crop].copy()


def conv_nd(x, w, geo, out):
    """y = conv(x, w): per image n and group g, y[n, g] = W_g · cols[n, g]."""
    n, o, g = x.shape[0], w.shape[0], geo.groups
    k, size = int(np.prod(w.shape[1:])), int(np.prod(out))
    cols = im2col_nd(x, geo, out).reshape(n, g, k, size)
    return np.matmul(w.reshape(g, o // g, k), cols).reshape((n, o) + tuple(out))


def conv_transpose_nd(y, w, geo, x_shape):
    """x = convT(y, w): cols̄[n, g] = W_gᵀ · y[n, g], then col2im."""
    n, o = y.shape[:2]
    out = y.shape[2:]
    g, k, size = geo.groups, int(np.prod(w.shape[1:])), int(np.prod(out))
    cols = np.matmul(w.reshape(g, o // g, k).transpose(0, 2, 1), y.reshape(n, g, o // g, size))
    return col2im_nd(cols.reshape(n, g * k, size), x_shape, geo, out)


def conv_weight_nd(x, y, geo, w_shape):
    """w̄ = Σ_n ȳ[n, g] · cols[n, g]ᵀ per group (zeros for an empty batch)."""
    n, o = y.shape[:2]
    g, k, size = geo.groups, int(np.prod(w_shape[1:])), int(np.prod(y.shape[2:]))
    cols = im2col_nd(x, geo, y.shape[2:]).reshape(n, g, k, size)
    gw = np.matmul(y.reshape(n, g, o // g, size), cols.transpose(0, 1, 3, 2)).sum(0)
    return gw.reshape(w_shape).astype(x.dtype, copy=False)


def _bias_view(b, d):
    return b.reshape((-1,) + (1,) * d)


def _bias_jvp(out, tb, shape):
    """The bias's share of the JVP, ḃ broadcast over all dims but the channels, added to ``out``."""
    if tb is None:
        return out
    term = tb.reshape((1, -1) + (1,) * (len(shape) - 2))
    return term.expand(tuple(shape)) if out is None else out + term


class ConvND(Node):
    """y = conv(x, w) + b: x (N, C, *S), w (O, C/g, *k), b (O,) or not given -> (N, O, *O_sp);
    ``out_sp``, when given, fixes the output size (the adjoint of a transposed conv whose
    output_padding added rows that no window reads)."""

    params = ("geo", "out_sp")
    backward_name = "ConvolutionBackward0"
    out_sp = None

    def forward(self, x, w, b=None):
        out = self.out_sp or self.geo.out_size(x.shape[2:])
        y = conv_nd(x, w, self.geo, out)
        if b is not None and given(b):
            y += _bias_view(b, len(out))
        return y

    def vjp(self, xp, g, x, w):
        need, geo = self.needs_input_grad, self.geo
        gx = xp.apply(ConvTransposeND, g, w, geo=geo, x_shape=tuple(x.shape)) if need[0] else None
        gw = xp.apply(ConvWeightND, x, g, geo=geo, w_shape=tuple(w.shape)) if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (bias_grad(xp, g) if need[2] else None)

    def jvp(self, xp, tangents, x, w):
        out = bilinear_jvp(lambda a, b: ConvND.apply(a, b, geo=self.geo, out_sp=self.out_sp),
                            x, w, tangents[0], tangents[1])
        tb = tangents[2] if len(tangents) == 3 else None
        shape = (x.shape[0], w.shape[0]) + tuple(self.out_sp or self.geo.out_size(x.shape[2:]))
        return _bias_jvp(out, tb, shape)


class ConvTransposeND(Node):
    """x = convT(y, w) + b: y (N, O, *O_sp), w (O, C/g, *k), b (C,) or not given -> ``x_shape``."""

    params = ("geo", "x_shape")

    def forward(self, y, w, b=None):
        x = conv_transpose_nd(y, w, self.geo, self.x_shape)
        if b is not None and given(b):
            x += _bias_view(b, len(self.x_shape) - 2)
        return x

    def vjp(self, xp, g, y, w):
        need, geo = self.needs_input_grad, self.geo
        gy = (xp.apply(ConvND, g, w, geo=geo, out_sp=tuple(y.shape[2:])) if need[0] else None)
        gw = xp.apply(ConvWeightND, g, y, geo=geo, w_shape=tuple(w.shape)) if need[1] else None
        if len(need) == 2:
            return gy, gw
        return gy, gw, (bias_grad(xp, g) if need[2] else None)

    def jvp(self, xp, tangents, y, w):
        op = lambda a, b: ConvTransposeND.apply(a, b, geo=self.geo, x_shape=self.x_shape)  # noqa: E731
        out = bilinear_jvp(op, y, w, tangents[0], tangents[1])
        tb = tangents[2] if len(tangents) == 3 else None
        return _bias_jvp(out, tb, self.x_shape)


class ConvWeightND(Node):
    """w̄ = convW(x, ȳ): x (N, C, *S), ȳ (N, O, *O_sp) -> ``w_shape``."""

    params = ("geo", "w_shape")

    def forward(self, x, y):
        return conv_weight_nd(x, y, self.geo, self.w_shape)

    def vjp(self, xp, g, x, y):
        nx, ny = self.needs_input_grad
        gx = xp.apply(ConvTransposeND, y, g, geo=self.geo, x_shape=tuple(x.shape)) if nx else None
        gy = xp.apply(ConvND, x, g, geo=self.geo, out_sp=tuple(y.shape[2:])) if ny else None
        return gx, gy

    def jvp(self, xp, tangents, x, y):
        return bilinear_jvp(lambda a, b: ConvWeightND.apply(a, b, geo=self.geo,
                                                            w_shape=self.w_shape),
                            x, y, *tangents)


# a transposed convolution called as such: torch records it as the same "convolution" node
ConvTransposeNDOp = ConvTransposeND.named("ConvolutionBackward0")
