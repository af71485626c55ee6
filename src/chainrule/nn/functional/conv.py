"""Convolution as three mutually adjoint primitives, each an im2col plus batched GEMMs.

For y = conv(x, w) (deep learning's conv2d is a cross-correlation:
y[n, o, i, j] = Σ_{c,p,q} w[o, c, p, q] · x_pad[n, c, i·s + p·d, j·s + q·d]):

* ``Conv``           (x, w[, b]) -> y
* ``ConvTranspose``  (y, w) -> x-shaped:  the VJP of conv w.r.t. x (and torch's conv_transpose2d)
* ``ConvWeight``     (x, y) -> w-shaped:  the VJP of conv w.r.t. w

The bilinear form B(x, y, w) = ⟨conv(x, w), y⟩ = ⟨x, convT(y, w)⟩ = ⟨convW(x, y), w⟩ makes each
one's VJP an application of the other two, so convolution is differentiable to any order; and
each is bilinear, so its JVP is op(ẋ, w) + op(x, ẇ).

Layout (chosen by measurement, see ``benchmarks/``): the kh×kw windows are read through a
strided *view* of the zero-padded input and copied into columns for a chunk of m images at a
time, sized to stay in cache (``CHUNK_BYTES``); each of the three ops is then one GEMM per chunk
(y = W·cols, w̄ += cols·ȳ, cols̄ = Wᵀ·ȳ; with groups, one per group). The columns are
(C·kh·kw, m·Ho·Wo), or, when a window row of all channels is longer than an output row, one row
per pixel (m·Ho·Wo, kh·kw·C) from a channels-last copy (``_by_pixel``), which copies and
multiplies faster there. The chunks run on a pool of threads, one BLAS thread each
(``chainrule._blas.parallel_map``): OpenBLAS's own threading gains nothing on products this thin.
Several images per GEMM, not one: CNN channel counts (16–64 output rows) leave OpenBLAS at a
third of its speed on one image's thin product; a few images, not the whole batch: whole-batch
columns (19 MB in resnet20's first stage) round-trip through main memory. The price is a
transposing copy of the outputs, which are kh·kw times smaller than the columns. The weight
gradient rebuilds its columns rather than keeping the forward's (cheap in cache, and nothing
large lives until backward). col2im (the adjoint of im2col) adds the columns back with one
strided slice-add per kernel offset (kh·kw vectorised adds, never a loop over pixels or
images), clipped to the unpadded image so no padded buffer is built.
"""
from __future__ import annotations

import threading

import numpy as np

from ..._blas import get_num_threads, parallel_map
from ..._graph import Node
from ...ops._util import check_tensor
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


def _windows(xp, geo, ho, wo):
    """View of xp (N, C, Hp, Wp) as (N, C, kh, kw, Ho, Wo) windows; no copy."""
    n, c = xp.shape[:2]
    sn, sc, sh_, sw_ = xp.strides
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    return np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, ho, wo), (sn, sc, sh_ * dh, sw_ * dw, sh_ * sh, sw_ * sw), writeable=False)


def _pad(x, geo):
    """Zero padding (np.zeros + one slice copy: several times faster than np.pad)."""
    t, b, l, r = geo.pads
    if not (t or b or l or r):
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + t + b, w + l + r), x.dtype)
    xp[:, :, t:t + h, l:l + w] = x
    return xp


class _Workspace:
    """A small pool of scratch arrays for the large intermediates that never leave this module
    (im2col columns, the transposed GEMM's columns, the per-image weight-gradient products).

    Why: a fresh multi-megabyte array is a fresh mapping whose first touch page-faults every
    4 KiB page; on the machines measured that costs as much as the copy itself. Arrays taken
    here go back with ``give`` once their last use is over, so a training loop reuses the same
    memory every step. Only arrays this module allocated and never exposed are given back.
    """

    def __init__(self, limit_bytes=256 << 20):
        self.limit, self.bytes, self.free = limit_bytes, 0, {}
        self.lock = threading.Lock()

    def take(self, shape, dtype):
        key = (shape, np.dtype(dtype).str)
        with self.lock:
            stack = self.free.get(key)
            if stack:
                arr = stack.pop()
                self.bytes -= arr.nbytes
                return arr
        return np.empty(shape, dtype)

    def give(self, arr):
        if arr is None:
            return
        with self.lock:
            if self.bytes + arr.nbytes > self.limit:
                return                      # over budget: let it be freed
            self.free.setdefault((arr.shape, arr.dtype.str), []).append(arr)
            self.bytes += arr.nbytes


_WORKSPACE = _Workspace()


def im2col(x, geo, ho, wo):
    """x (N, C, H, W) -> columns (N, C·kh·kw, Ho·Wo), rows ordered (c, p, q); one copy
    (the layout of ``unfold``)."""
    n, c = x.shape[:2]
    kh, kw = geo.kernel
    win = _windows(_pad(x, geo), geo, ho, wo)
    return np.ascontiguousarray(win).reshape(n, c * kh * kw, ho * wo)


def _columns(x, geo, ho, wo):
    """x (N, C, H, W) -> workspace columns (C·kh·kw, N·Ho·Wo): rows (c, p, q), columns (n, i, j).

    Images sit side by side in the columns so that one GEMM covers several of them: with
    per-image GEMMs the small channel counts of CNNs (16–64 rows) leave OpenBLAS at a third of
    its speed. Give the array back with ``release`` once its last use is over."""
    n, c = x.shape[:2]
    kh, kw = geo.kernel
    win = _windows(_pad(x, geo), geo, ho, wo).transpose(1, 2, 3, 0, 4, 5)
    cols = _WORKSPACE.take((c * kh * kw, n * ho * wo), x.dtype)
    np.copyto(cols.reshape(win.shape), win)
    return cols


def _pixel_columns(x, geo, ho, wo):
    """x (N, C, H, W) -> workspace columns (N·Ho·Wo, kh·kw·C): one row per output pixel (n, i, j),
    its entries ordered (p, q, c).

    Built from a channels-last padded copy of x, in which each window row is kw·C contiguous
    numbers, so the copy moves long runs where ``_columns`` moves runs of Wo (10 in LeNet's second
    convolution); and OpenBLAS multiplies these columns by the weight about 1.2–1.7× faster."""
    n, c, h, w = x.shape
    t, b, l, r = geo.pads
    xp = np.zeros((n, h + t + b, w + l + r, c), x.dtype)
    xp[:, t:t + h, l:l + w] = x.transpose(0, 2, 3, 1)
    sn, sh_, sw_, sc = xp.strides
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    win = np.lib.stride_tricks.as_strided(
        xp, (n, ho, wo, kh, kw, c), (sn, sh_ * sh, sw_ * sw, sh_ * dh, sw_ * dw, sc), writeable=False)
    cols = _WORKSPACE.take((n * ho * wo, kh * kw * c), x.dtype)
    np.copyto(cols.reshape(win.shape), win)
    return cols


def _by_pixel(c, wo, geo):
    """Whether conv and its weight gradient use ``_pixel_columns`` rather than ``_columns``: when
    a window row of all channels (kw·C numbers) is longer than an output row (Wo), and without
    groups (whose blocks the (p, q, c) order would interleave).

    Measured on one thread: the resnet20 training step is 12% faster with pixel rows for its
    3×3 convolutions (kw·C = 48, 96, 192 against Wo = 32, 16, 8), LeNet-5's 2% (its second
    convolution: 30 against 10); its first convolution (5 against 28) and 1×1 convolutions
    (e.g. 16 against 16) run 2× slower with them."""
    return geo.groups == 1 and geo.kernel[1] * c > wo


def _channel_major(y):
    """y (N, O, H, W) -> workspace array (O, N·H·W), the GEMM layout of ``_columns``."""
    n, o, h, w = y.shape
    out = _WORKSPACE.take((o, n * h * w), y.dtype)
    np.copyto(out.reshape(o, n, h, w), y.transpose(1, 0, 2, 3))
    return out


def _pixel_major(y):
    """y (N, O, H, W) -> workspace array (N·H·W, O): one row per output pixel."""
    n, o, h, w = y.shape
    out = _WORKSPACE.take((n * h * w, o), y.dtype)
    np.copyto(out.reshape(n, h, w, o), y.transpose(0, 2, 3, 1))
    return out


release = _WORKSPACE.give


def _valid(offset, pad, stride, size, out):
    """Output positions i in [i0, i1) whose input position i·stride + offset − pad is inside
    [0, size), and that first input position."""
    a = pad - offset
    i0 = max(0, -(-a // stride))
    i1 = min(out, (size - 1 + a) // stride + 1)
    return i0, i1, i0 * stride - a


def col2im(cols, x_shape, geo, ho, wo):
    """The adjoint of im2col: columns (N, C·kh·kw, Ho·Wo) -> x (N, C, H, W), summing overlaps."""
    n, c, _, _ = x_shape
    kh, kw = geo.kernel
    x = np.zeros(x_shape, dtype=cols.dtype)
    _add_columns(cols.reshape(n, c, kh, kw, ho, wo), x, geo)
    return x


def _add_columns(cols, x, geo):
    """x += col2im(cols): cols (N, C, kh, kw, Ho, Wo) (any strides), x (N, C, H, W)."""
    h, w = x.shape[2:]
    ho, wo = cols.shape[4:]
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    t, _, l, _ = geo.pads
    for p in range(kh):            # one strided slice-add per kernel offset, never per pixel
        i0, i1, r0 = _valid(p * dh, t, sh, h, ho)
        if i0 >= i1:
            continue
        rows = slice(r0, r0 + (i1 - i0 - 1) * sh + 1, sh)
        for q in range(kw):
            j0, j1, c0 = _valid(q * dw, l, sw, w, wo)
            if j0 >= j1:
                continue
            x[:, :, rows, c0: c0 + (j1 - j0 - 1) * sw + 1: sw] += cols[:, :, p, q, i0:i1, j0:j1]


# columns per GEMM, sized for the caches near a core: on the 2-core machine measured, 1.5 and
# 3 MiB tie with one BLAS thread and 3 MiB is ~10% faster with two (resnet20 training step)
CHUNK_BYTES = 3 << 20


def _batches(n, c, geo, ho, wo, itemsize):
    """Slices of a batch of n images, of equal sizes (±1), whose columns (c·kh·kw rows, Ho·Wo
    entries per image) take at most about CHUNK_BYTES over all threads (the chunks of the
    BLAS's threads run at once), and at least one chunk per thread (at least
    one image each; an empty batch gets one empty slice, so the weight gradient is still a sum,
    of nothing).

    Why: columns built for the whole batch (19 MB for resnet20's first stage) go out to main
    memory and come back for the GEMM; built and consumed a few images at a time they stay in
    cache, which halves a forward convolution's time on one core (measured: 10.2 -> 4.9 ms).
    Equal sizes and one chunk per thread keep every thread of ``parallel_map`` busy."""
    per_image = max(c * geo.kernel[0] * geo.kernel[1] * ho * wo * itemsize, 1)
    threads = get_num_threads()
    budget = max(CHUNK_BYTES // threads, 1)      # the columns of all threads' chunks together
    count = min(max(-(-n * per_image // budget), threads, 1), max(n, 1))
    bounds = [n * i // count for i in range(count + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _gemm(a, b, g, transpose_a=False, out=None):
    """Grouped GEMM: a (g·M, K) and b (g·K, P) -> (g·M, P), block i of a times block i of b;
    ``transpose_a`` transposes each block of a first."""
    a = a.reshape(g, a.shape[0] // g, a.shape[1])
    b = b.reshape(g, b.shape[0] // g, b.shape[1])
    if transpose_a:
        a = a.transpose(0, 2, 1)
    res = np.matmul(a, b, out=None if out is None else out.reshape(g, a.shape[1], b.shape[2]))
    return res.reshape(g * a.shape[1], b.shape[2])


def _conv(x, w, geo, ho, wo, bias=None):
    """y = conv(x, w) + bias -> (N, O, Ho, Wo): for each chunk of images, one GEMM of the weight
    with their columns, then a copy into NCHW (which also adds the bias)."""
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    by_pixel = _by_pixel(c, wo, geo)
    w2 = w.transpose(0, 2, 3, 1).reshape(o, -1) if by_pixel else w.reshape(o, -1)
    y = np.empty((n, o, ho, wo), x.dtype)

    def chunk(b):
        if by_pixel:   # (m·Ho·Wo, K) · (K, O)
            cols = _pixel_columns(x[b], geo, ho, wo)
            y2 = np.matmul(cols, w2.T, out=_WORKSPACE.take((cols.shape[0], o), x.dtype))
            y_cm = y2.reshape(-1, ho, wo, o).transpose(0, 3, 1, 2)
        else:          # (O, K) · (K, m·Ho·Wo)
            cols = _columns(x[b], geo, ho, wo)
            y2 = _gemm(w2, cols, geo.groups, out=_WORKSPACE.take((o, cols.shape[1]), x.dtype))
            y_cm = y2.reshape(o, -1, ho, wo).transpose(1, 0, 2, 3)
        if bias is None:
            np.copyto(y[b], y_cm)
        else:
            np.add(y_cm, bias[:, None, None], out=y[b])
        release(cols)
        release(y2)

    parallel_map(chunk, _batches(n, c, geo, ho, wo, x.itemsize))
    return y


def _transpose_by_correlation(y, w, geo, x_shape):
    """For stride 1, convT(y, w) is itself a correlation: of y zero-padded by d(k − 1) − p with
    the kernel flipped and its in/out channels swapped (per group). Its columns are y's, one
    GEMM and no col2im, which moves less memory when y's columns are no bigger than x's
    (e.g. 'same' 3×3 convolutions). Returns None where the GEMM + col2im route is cheaper or the
    padding would be negative."""
    if geo.stride != (1, 1):
        return None
    n, o, ho, wo = y.shape
    _, c, h, wd = x_shape
    if o * h * wd > 1.25 * c * ho * wo:
        return None
    (kh, kw), (dh, dw), g = geo.kernel, geo.dilation, geo.groups
    t, _, l, _ = geo.pads
    top, left = dh * (kh - 1) - t, dw * (kw - 1) - l
    bottom, right = h + dh * (kh - 1) - ho - top, wd + dw * (kw - 1) - wo - left
    if min(top, bottom, left, right) < 0:
        return None
    flipped = w.reshape(g, o // g, c // g, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    flipped = np.ascontiguousarray(flipped).reshape(c, o // g, kh, kw)
    return _conv(y, flipped, Geometry((1, 1), (top, bottom, left, right), (dh, dw), g, (kh, kw)),
                 h, wd)


def _bilinear_jvp(op, a, b, ta, tb):
    """The JVP of a bilinear op: op(ȧ, b) + op(a, ḃ), leaving out an absent tangent."""
    out = None if ta is None else op(ta, b)
    if tb is not None:
        term = op(a, tb)
        out = term if out is None else out + term
    return out


class Conv(Node):
    """y = conv(x, w) + b: x (N, C, H, W), w (O, C/g, kh, kw), b (O,) optional -> y (N, O, Ho, Wo)."""

    params = ("geo", "out_hw")
    out_hw = None    # an explicit (Ho, Wo): the adjoint of a transposed conv with output_padding
                     # ignores the extra rows/columns that output_padding added

    def forward(self, x, w, b=None):
        ho, wo = self.out_hw or self.geo.out_size(x.shape[2], x.shape[3])
        return _conv(x, w, self.geo, ho, wo, b)

    def vjp(self, xp, g, x, w):
        need, geo = self.needs_input_grad, self.geo
        gx = xp.apply(ConvTranspose, g, w, geo=geo, x_shape=tuple(x.shape)) if need[0] else None
        gw = xp.apply(ConvWeight, x, g, geo=geo, w_shape=tuple(w.shape)) if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (xp.sum(g, (0, 2, 3)) if need[2] else None)

    def jvp(self, xp, tangents, x, w):
        tb = tangents[2] if len(tangents) == 3 else None
        out = _bilinear_jvp(lambda a, b: Conv.apply(a, b, geo=self.geo, out_hw=self.out_hw),
                            x, w, tangents[0], tangents[1])
        if tb is not None:
            term = tb.reshape(1, -1, 1, 1)
            out = term.expand(tuple(self._out.shape)) if out is None else out + term
        return out


class ConvTranspose(Node):
    """x = convT(y, w): the adjoint of conv in x. y (N, O, Ho, Wo), w (O, C/g, kh, kw) ->
    x (``x_shape``)."""

    params = ("geo", "x_shape")

    def forward(self, y, w):
        geo = self.geo
        x = _transpose_by_correlation(y, w, geo, self.x_shape)
        if x is not None:
            return x
        n, o, ho, wo = y.shape
        (kh, kw), c = geo.kernel, self.x_shape[1]
        x = np.zeros(self.x_shape, y.dtype)

        def chunk(b):
            y2 = _channel_major(y[b])
            cols = _gemm(w.reshape(o, -1), y2, geo.groups, transpose_a=True,   # (C·kh·kw, m·L)
                         out=_WORKSPACE.take((c * kh * kw, y2.shape[1]), y.dtype))
            _add_columns(cols.reshape(c, kh, kw, -1, ho, wo).transpose(3, 0, 1, 2, 4, 5), x[b], geo)
            release(y2)
            release(cols)

        parallel_map(chunk, _batches(n, c, geo, ho, wo, y.itemsize))
        return x

    def vjp(self, xp, g, y, w):
        ny, nw = self.needs_input_grad
        gy = xp.apply(Conv, g, w, geo=self.geo, out_hw=tuple(y.shape[2:])) if ny else None
        gw = xp.apply(ConvWeight, g, y, geo=self.geo, w_shape=tuple(w.shape)) if nw else None
        return gy, gw

    def jvp(self, xp, tangents, y, w):
        return _bilinear_jvp(lambda a, b: ConvTranspose.apply(a, b, geo=self.geo, x_shape=self.x_shape),
                             y, w, *tangents)


class ConvWeight(Node):
    """w̄ = convW(x, ȳ): the adjoint of conv in w. x (N, C, H, W), ȳ (N, O, Ho, Wo) -> ``w_shape``:
    Σ over images and positions of ȳ · columnsᵀ, one GEMM per chunk of images."""

    params = ("geo", "w_shape")

    def forward(self, x, y):
        geo, g = self.geo, self.geo.groups
        n, o, ho, wo = y.shape
        c = x.shape[1]
        by_pixel = _by_pixel(c, wo, geo)

        def chunk(b):  # w̄ᵀ per group (g, C/g·kh·kw, O/g) of a chunk of images
            cols = _pixel_columns(x[b], geo, ho, wo) if by_pixel else _columns(x[b], geo, ho, wo)
            cols_kp = cols.T if by_pixel else cols
            y_rows = _pixel_major(y[b])
            # columns (K, P) · ȳ (P, O): OpenBLAS runs this orientation about twice as fast as
            # ȳ (O, P) · columnsᵀ
            part = np.matmul(cols_kp.reshape(g, cols_kp.shape[0] // g, cols_kp.shape[1]),
                             y_rows.reshape(y_rows.shape[0], g, o // g).transpose(1, 0, 2))
            release(cols)
            release(y_rows)
            return part

        parts = parallel_map(chunk, _batches(n, c, geo, ho, wo, x.itemsize))
        gw_t = parts[0]
        for part in parts[1:]:    # summed in chunk order: the same result on any thread count
            gw_t += part
        gw = gw_t.transpose(0, 2, 1)
        if by_pixel:   # (O, kh, kw, C) -> (O, C, kh, kw)
            gw = gw.reshape(o, *geo.kernel, c).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(gw).reshape(self.w_shape)

    def vjp(self, xp, g, x, y):
        nx, ny = self.needs_input_grad
        gx = xp.apply(ConvTranspose, y, g, geo=self.geo, x_shape=tuple(x.shape)) if nx else None
        gy = xp.apply(Conv, x, g, geo=self.geo, out_hw=tuple(y.shape[2:])) if ny else None
        return gx, gy

    def jvp(self, xp, tangents, x, y):
        return _bilinear_jvp(lambda a, b: ConvWeight.apply(a, b, geo=self.geo, w_shape=self.w_shape),
                             x, y, *tangents)


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


def _same_padding(dilation, kernel):
    """'same' padding (top, bottom, left, right): total d(k − 1) per axis, any odd extra unit at
    the bottom/right (as torch)."""
    pads = []
    for d, k in zip(dilation, kernel):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


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
    _check(input, weight, groups, "conv2d")
    stride, dilation = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided convolutions")
            padding = _same_padding(dilation, kernel)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        padding = _pair(padding, "padding", "conv2d")
    geo = Geometry(stride, padding, dilation, groups, kernel)
    ho, wo = geo.out_size(*input.shape[2:])
    if ho < 1 or wo < 1:
        raise ValueError(f"conv2d: kernel {kernel} (dilation {dilation}) is larger than the padded "
                         f"input {tuple(input.shape[2:])} + 2×{geo.padding}")
    if input.dtype is not weight.dtype:
        raise TypeError(f"conv2d: input ({input.dtype}) and weight ({weight.dtype}) must have the "
                        "same dtype")
    if bias is None:
        return Conv.apply(input, weight, geo=geo)
    if tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"conv2d: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    if bias.dtype is not weight.dtype:
        return Conv.apply(input, weight, geo=geo) + bias.reshape(1, -1, 1, 1)
    return Conv.apply(input, weight, bias, geo=geo)


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
    """im2col as an op: (N, C, H, W) -> (N, C·kh·kw, L): linear; its transpose is Fold."""

    linear = True
    params = ("geo",)

    def forward(self, x):
        ho, wo = self.geo.out_size(*x.shape[2:])
        self.x_shape = x.shape
        return im2col(x, self.geo, ho, wo)

    def transpose(self, xp, g):
        return xp.apply(Fold, g, geo=self.geo, x_shape=self.x_shape)


class Fold(Node):
    """col2im as an op: (N, C·kh·kw, L) -> (N, C, H, W), summing overlaps: linear; its transpose
    is Unfold."""

    linear = True
    params = ("geo", "x_shape")

    def forward(self, cols):
        ho, wo = self.geo.out_size(*self.x_shape[2:])
        return col2im(cols, self.x_shape, self.geo, ho, wo)

    def transpose(self, xp, g):
        return xp.apply(Unfold, g, geo=self.geo)


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
