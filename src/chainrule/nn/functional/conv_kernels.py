"""The fast kernels of convolution: conv, its two adjoints (conv_transpose, conv_weight), and
im2col/col2im for unfold/fold. They compute what the short reference in ``conv.py`` computes
(im2col, one matmul, col2im), tuned by measurement (see ``benchmarks/``); tests/test_conv.py
checks that the two agree.

Layout: the kh×kw windows are read through a strided *view* of the zero-padded input and copied
into columns for a chunk of m images at a time, sized to stay in cache (``CHUNK_BYTES``); each
of the three ops is then one GEMM per chunk (y = W·cols, w̄ᵀ += cols·ȳᵀ, cols̄ = Wᵀ·ȳ; with
groups, one per group). The columns are (C·kh·kw, m·Ho·Wo), or, when a window row of all
channels is longer than an output row, one row per pixel (m·Ho·Wo, kh·kw·C) from a
channels-last copy (``_by_pixel``), which copies and multiplies faster there.

Several images per GEMM, not one: CNN channel counts (16–64 output rows) leave OpenBLAS at a
third of its speed on one image's thin product; a few images, not the whole batch: whole-batch
columns (19 MB in resnet20's first stage) round-trip through main memory. The price is a
transposing copy of the outputs, which are kh·kw times smaller than the columns. The weight
gradient rebuilds its columns rather than keeping the forward's (cheap in cache, and nothing
large lives until backward). col2im (the adjoint of im2col) adds the columns back with one
strided slice-add per kernel offset (kh·kw vectorised adds, never a loop over pixels or
images), clipped to the unpadded image so no padded buffer is built.

Threads: the chunks go through ``backends.cpu.parallel_map``: inside ``backends.cpu.tuned()``
they run on a pool of Python threads, one BLAS thread each (OpenBLAS's own threading gains
nothing on products this thin), and the chunks are sized so that every thread gets one;
outside, they run one after another on the BLAS as configured.

Large intermediates that never leave this module come from a small pool (``_Workspace``).

oneDNN: with the optional ``onednn`` extra installed, each of the three ops first asks
``backends.onednn.supports`` and, where it may, runs oneDNN's convolution kernels instead (the
ones torch uses; float32, 1.3–2× faster than the NumPy path per layer, see
``benchmarks/README.md``). Everything else — float64, empty batches, an output size the
geometry does not give, ``onednn.enabled = False`` (or ``CHAINRULE_ONEDNN=0``), deterministic
mode — runs the NumPy kernels below, which stay the reference the tests compare against.
"""
from __future__ import annotations

import threading

import numpy as np

from ..._modes import DETERMINISM
from ... import _memory_format
from ...backends import onednn
from ...backends.cpu import parallel_map, workers


# ---------------------------------------------------------------------------- scratch memory
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
release = _WORKSPACE.give


# ---------------------------------------------------------------------------- columns
def _pad(x, geo):
    """Zero padding (np.zeros + one slice copy: several times faster than np.pad)."""
    t, b, l, r = geo.pads
    if not (t or b or l or r):
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + t + b, w + l + r), x.dtype)
    xp[:, :, t:t + h, l:l + w] = x
    return xp


def _windows(xp, geo, ho, wo):
    """View of xp (N, C, Hp, Wp) as (N, C, kh, kw, Ho, Wo) windows; no copy."""
    n, c = xp.shape[:2]
    sn, sc, sh_, sw_ = xp.strides
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    return np.lib.stride_tricks.as_strided(
        xp, (n, c, kh, kw, ho, wo), (sn, sc, sh_ * dh, sw_ * dw, sh_ * sh, sw_ * sw), writeable=False)


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


# ---------------------------------------------------------------------------- col2im
def _valid(offset, pad, stride, size, out):
    """Output positions i in [i0, i1) whose input position i·stride + offset − pad is inside
    [0, size), and that first input position."""
    a = pad - offset
    i0 = max(0, -(-a // stride))
    i1 = min(out, (size - 1 + a) // stride + 1)
    return i0, i1, i0 * stride - a


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


def col2im(cols, x_shape, geo, ho, wo):
    """The adjoint of im2col: columns (N, C·kh·kw, Ho·Wo) -> x (N, C, H, W), summing overlaps."""
    n, c, _, _ = x_shape
    kh, kw = geo.kernel
    x = np.zeros(x_shape, dtype=cols.dtype)
    _add_columns(cols.reshape(n, c, kh, kw, ho, wo), x, geo)
    return x


# ---------------------------------------------------------------------------- chunks and GEMMs
# columns per GEMM, sized for the caches near a core: on the 2-core machine measured, 1.5 and
# 3 MiB tie with one BLAS thread and 3 MiB is ~10% faster with two (resnet20 training step)
CHUNK_BYTES = 3 << 20


def _batches(n, c, geo, ho, wo, itemsize):
    """Slices of a batch of n images, of equal sizes (±1), whose columns (c·kh·kw rows, Ho·Wo
    entries per image) take at most about CHUNK_BYTES over all the chunks running at once
    (``backends.cpu.workers()``), and at least one chunk per worker (at least one image each;
    an empty batch gets one empty slice, so the weight gradient is still a sum, of nothing).

    Why: columns built for the whole batch (19 MB for resnet20's first stage) go out to main
    memory and come back for the GEMM; built and consumed a few images at a time they stay in
    cache, which halves a forward convolution's time on one core (measured: 10.2 -> 4.9 ms).
    Equal sizes and one chunk per worker keep every thread of ``parallel_map`` busy."""
    per_image = max(c * geo.kernel[0] * geo.kernel[1] * ho * wo * itemsize, 1)
    # deterministic mode: the same chunks (so the same grouping of the weight gradient's sum)
    # whatever the thread count
    threads = DETERMINISM.CHUNKS if DETERMINISM.enabled else workers()
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


# ---------------------------------------------------------------------------- the three ops
def _on_onednn(x_shape, w_shape, dtype, geo, out_hw):
    """Whether oneDNN runs this convolution (x_shape: the forward's input; out_hw its output).
    Not in deterministic mode: oneDNN's partition of the work follows the thread count."""
    return not DETERMINISM.enabled and onednn.supports(
        x_shape, w_shape, dtype, geo.stride, geo.pads, geo.dilation, geo.groups, out_hw)[0]


def conv(x, w, geo, ho, wo, bias=None):
    """y = conv(x, w) + bias -> (N, O, Ho, Wo): for each chunk of images, one GEMM of the weight
    with their columns, then a copy into NCHW (which also adds the bias)."""
    if _on_onednn(x.shape, w.shape, x.dtype, geo, (ho, wo)):
        return onednn.conv2d_forward(x, w, bias, geo.stride, geo.pads, geo.dilation, geo.groups)
    y = _conv_numpy(x, w, geo, ho, wo, bias)
    fmt = _memory_format.suggested(x, w)      # channels-last in, channels-last out (torch's rule)
    return y if fmt is _memory_format.contiguous_format else _memory_format.laid_out(y, fmt)


def _conv_numpy(x, w, geo, ho, wo, bias):
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
    return conv(y, flipped, geo.replace(pads=(top, bottom, left, right)), h, wd)


def conv_transpose(y, w, geo, x_shape, memory_format=None):
    """x = convT(y, w) -> ``x_shape``, laid out in ``memory_format`` (None: channels-last when
    y is, else C order): a correlation where that is cheaper, else for each chunk of images the
    columns Wᵀ·ȳ (one GEMM) added back into x (col2im)."""
    fmt = _memory_format.suggested(y) if memory_format is None else memory_format
    if _on_onednn(x_shape, w.shape, y.dtype, geo, y.shape[2:]):
        return onednn.conv2d_backward_data(y, w, x_shape, geo.stride, geo.pads, geo.dilation,
                                           geo.groups, fmt)
    return _memory_format.laid_out(_conv_transpose_numpy(y, w, geo, x_shape), fmt)


def _conv_transpose_numpy(y, w, geo, x_shape):
    x = _transpose_by_correlation(y, w, geo, x_shape)
    if x is not None:
        return x
    n, o, ho, wo = y.shape
    (kh, kw), c = geo.kernel, x_shape[1]
    x = np.zeros(x_shape, y.dtype)

    def chunk(b):
        y2 = _channel_major(y[b])
        cols = _gemm(w.reshape(o, -1), y2, geo.groups, transpose_a=True,   # (C·kh·kw, m·L)
                     out=_WORKSPACE.take((c * kh * kw, y2.shape[1]), y.dtype))
        _add_columns(cols.reshape(c, kh, kw, -1, ho, wo).transpose(3, 0, 1, 2, 4, 5), x[b], geo)
        release(y2)
        release(cols)

    parallel_map(chunk, _batches(n, c, geo, ho, wo, y.itemsize))
    return x


def conv_weight(x, y, geo, w_shape):
    """w̄ = convW(x, ȳ) -> ``w_shape``: Σ over chunks of images of columns · ȳ (one GEMM per
    chunk and group), the parts summed in chunk order (the same bits on any thread count)."""
    if _on_onednn(x.shape, w_shape, x.dtype, geo, y.shape[2:]):
        return onednn.conv2d_backward_weights(x, y, w_shape, geo.stride, geo.pads, geo.dilation,
                                              geo.groups)[0]
    g = geo.groups
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
    return np.ascontiguousarray(gw).reshape(w_shape)
