"""Normalization: batch norm (statistics over the batch), layer, RMS, group and instance norm (over
features, groups of channels, or each channel of a sample), local response norm, p-norm scaling."""
from __future__ import annotations

import math
import numpy as np

from ... import _memory_format
from ..._dtype import from_numpy_dtype
from ..._modes import DETERMINISM
from ..._graph import Node
from ...backends import onednn
from ...ops._util import check_tensor
from ...ops.indexing import IndexAdd
from ...ops.shape import pad
from ...tensor import Tensor
from ._optional import NOT_GIVEN, given, optional
from .channel_sums import BLAS_FLOATS, channel_dots, channel_sums
from .distance import _p_norm


def check_dtypes(op: str, input, *tensors):
    """torch's CPU norm kernels: none for integer or bool inputs, and the parameters and running
    statistics must have the input's dtype (a float16 input with float32 ones is torch's one
    mixed case); chainrule would otherwise compute a float32 layer in float64 unnoticed."""
    dt = getattr(input, "_data", None)
    if dt is None:
        return
    dt = dt.dtype
    if dt.kind != "f":
        raise NotImplementedError(f"{op}: \"{op}\" not implemented for {input.dtype} input "
                                  f"(expected floating point; use input.float())")
    for t in tensors:
        if t is not None and t._data.dtype != dt and not (dt.itemsize == 2 and
                                                           t._data.dtype.itemsize == 4):
            raise RuntimeError(f"{op}: mixed dtype (CPU): all inputs must share same datatype, "
                               f"got input {input.dtype} and parameters {t.dtype} (convert the "
                               f"input or the module, e.g. module.to(input.dtype))")


def _normalized(x, dims, eps):
    """x̂ = (x − μ)/√(σ² + ε) with batch statistics, in differentiable ops; returns (x̂, 1/√(σ² + ε))."""
    centred = x - x.mean(dims, keepdim=True)
    inv_std = ((centred * centred).mean(dims, keepdim=True) + eps).rsqrt()
    return centred * inv_std, inv_std


def _statistics(node, xp, x):
    """(μ, 1/√(σ² + ε)) over ``node.dims``: the forward's own arrays in a plain backward; rebuilt
    from x in differentiable ops when recording, so that a VJP built on them is differentiable
    in x as well."""
    if not xp.recording:
        return node.mean, node.inv_std
    mean = x.mean(node.dims, keepdim=True)
    centred = x - mean
    return mean, ((centred * centred).mean(node.dims, keepdim=True) + node.eps).rsqrt()


def _cast(xp, v, dtype):
    """``v`` (an array or a Tensor of the rule) in the NumPy ``dtype``."""
    if xp.data(v).dtype == dtype:
        return v
    return v.astype(dtype) if isinstance(v, np.ndarray) else v.to(from_numpy_dtype(dtype))


def _per_channel(v, x3):
    """Per-channel values v (C,) shaped to combine with x3 (N, C, L): as a (C, L) array when the
    batch repeats it a few times (NumPy's loop over two contiguous rows runs ~2× faster than
    over a row and a broadcast (C, 1)), else as (C, 1)."""
    n, c, length = x3.shape
    return np.repeat(v, length).reshape(c, length) if n >= 4 and length > 1 else v[:, None]


def _pixel_rows(x):
    """A channels-last x (N, C, H, W) as rows of whole pixels, (N·H·W/k, k·C) with k·C ≤ 1024
    where the pixel count allows (a view), and k: a per-channel vector tiled k times combines
    with every row, in NumPy's contiguous loop over rows of up to 1024 elements (over rows of
    C alone its loop runs 3–8× slower)."""
    n, c, h, w = x.shape
    k = math.gcd(n * h * w, max(1, 1024 // c))
    return x.transpose(0, 2, 3, 1).reshape(-1, k * c), k


def _centred(x3, mean):
    """x3 − μ per channel, x3 (N, C, L), μ (C,): a new array (in one oneDNN pass on chainrule's
    threads where it takes x3: x·1 + (−μ), the same values)."""
    if onednn.elementwise_supported(x3):
        return onednn.channel_affine(x3, np.ones_like(mean), -mean)
    return x3 - _per_channel(mean, x3)


# Batch norm's statistics from raw sums, Σx and Σx², save a pass over x and the centred copy,
# but σ² = E[x²] − μ² loses accuracy as μ²/σ² grows (its relative rounding error is about
# (1 + 2μ²/σ²) times a sum's). Used while μ² ≤ UNCENTRED_MAX·σ² in every channel (resnet20's
# layers measured up to 6), else the two-pass statistics on x − μ, as torch's. Measured in
# float32 with |μ| up to 2.8σ: y and x̄ within 1.7e-6 and 1.1e-6 of float64 (relative to their
# largest value; torch's 2e-7, the two-pass code's 3e-7), inside torch.testing's tolerances.
UNCENTRED_MAX = 8.0


def _uncentred_ok(mean, var):
    """Whether the statistics (and the backward's sums) may be taken uncentred (see above)."""
    return bool(np.logical_and.reduce(mean * mean <= UNCENTRED_MAX * var, None))


def _channel_affine(src, s, t, out):
    """y = src·s + t per channel, src (N, C, L), s, t (C,): batch norm's last pass in training
    (written into ``out``, None or src itself)."""
    if onednn.elementwise_supported(src):
        return onednn.channel_affine(src, s, t, out=out)
    out = np.multiply(src, _per_channel(s, src), out=out)
    out += _per_channel(t, src)
    return out


def _rows_affine(xh, scale, shift, shape):
    """y = x̂_r·s_r + t_r over the rows (n, c) of x̂ (N·C, L), written over x̂; y of ``shape``
    (N, C, L): batch norm's last pass in training from the rows' statistics."""
    rows = (1, xh.shape[0], xh.shape[1])     # the rows as channel_affine's channels
    return onednn.channel_affine(xh.reshape(rows), scale, shift, out=xh.reshape(rows)).reshape(shape)


_HALF_BLOCK = 1 << 16   # elements per block of the half-precision forward (float64: 512 kB)


def _blocks(shape):
    """(rows, cols) slices covering a (R, L) array in blocks of at most _HALF_BLOCK elements:
    whole rows at a time, or pieces of one row when a row is longer."""
    n_rows, length = shape
    step_l = min(max(length, 1), _HALF_BLOCK)
    step_r = max(1, _HALF_BLOCK // step_l)
    for i in range(0, n_rows, step_r):
        for j in range(0, max(length, 1), step_l):
            yield slice(i, i + step_r), slice(j, j + step_l)


def _into(buffer, block):
    """``block`` converted into the start of the flat ``buffer`` (its dtype), viewed in
    ``block``'s shape."""
    view = buffer[:block.size].reshape(block.shape)
    view[...] = block
    return view


def _half_affine(x3, a, t):
    """y = x·a + t per channel of a half-precision x3 (N, C, L), a and t (C,) float32, as
    torch's CPU kernel: one fused multiply-add per element (float64 here: exact for a half x
    times a float32 a), rounded to float32, then to x's dtype. Blocks keep temporaries small."""
    n, c, length = x3.shape
    rows = x3.reshape(n * c, length)
    x32 = np.empty((min(_HALF_BLOCK, rows.size),), np.float32)
    y64 = np.empty(x32.shape, np.float64)
    a_rows, t_rows = np.tile(a.astype(np.float64), n), np.tile(t.astype(np.float32), n)
    out = np.empty(rows.shape, x3.dtype)
    for r_, l_ in _blocks(rows.shape):
        part = _into(x32, rows[r_, l_])
        y = np.multiply(part, a_rows[r_, None], out=y64[:part.size].reshape(part.shape))
        y += t_rows[r_, None]
        out[r_, l_] = _into(x32, y)
    return out.reshape(x3.shape)


def _moments(x3):
    """(μ, σ², x − μ or None) of x3 (N, C, L) per channel: μ and the biased σ² of shape (C,);
    x − μ as a new (N, C, L) array when the statistics needed it (see UNCENTRED_MAX)."""
    n = x3.shape[0] * x3.shape[2]
    mean = channel_sums(x3) / n
    var = channel_dots(x3, x3) / n - mean * mean
    if _uncentred_ok(mean, var):
        return mean, var, None
    centred = _centred(x3, mean)
    return mean, channel_dots(centred, centred) / n, centred


# With more than one thread, batch norm's forward takes its statistics from the rows (n, c)
# of x (N·C, L): oneDNN's layer normalization gives each row's μ_r and σ²_r, and the row
# normalized, x̂_r, in one pass on chainrule's threads (the BLAS sums above run on one, and
# switching from them to oneDNN's threads costs too). The channel's statistics follow from
# the law of total variance, μ = mean_n μ_r, σ² = mean_n (σ²_r + (μ_r − μ)²), whose terms are
# all ≥ 0 (no cancellation, for any μ), and y = x̂_r·√(σ²_r + ε_r)·s + ((μ_r − μ)·s + β) is
# written over x̂ in a second pass. ε_r, the smallest normal float32, only keeps a constant
# row's x̂ at 0 (not 0/0). Rows shorter than ROW_MIN stay on the sums (a row costs the
# kernel more than its elements).
ROW_MIN = 256
_ROW_EPS = float(np.finfo(np.float32).tiny)


def _by_rows(x3):
    """Whether batch norm's forward on x3 (N, C, L) takes the rows' statistics (see above)."""
    return x3.shape[2] >= ROW_MIN and not DETERMINISM.enabled and onednn.parallel_supported(x3)


def _normalization_jvp(tangents, x, w, dims, eps, shape):
    """ẏ of y = x̂·γ + β, x̂ normalized over ``dims`` (γ, β, their tangents viewed as ``shape``):
    ẏ = (ẋ − mean ẋ − x̂·mean(ẋ x̂))·r·γ + x̂·γ̇ + β̇."""
    tx, tw, tb = tangents[:3]
    xh, inv_std = _normalized(x, dims, eps)
    terms = []
    if tx is not None:
        dxh = (tx - tx.mean(dims, keepdim=True) - xh * (tx * xh).mean(dims, keepdim=True)) * inv_std
        terms.append(dxh * w.reshape(shape) if given(w) else dxh)
    if tw is not None:
        terms.append(xh * tw.reshape(shape))
    if tb is not None:
        terms.append(tb.reshape(shape).expand(tuple(x.shape)))
    return _total(terms)


def _total(terms):
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _on_onednn(x, g=None):
    """Whether batch norm in training runs on oneDNN (``onednn.batch_norm_supported``; not in
    deterministic mode: its sums are split by the thread count)."""
    return not DETERMINISM.enabled and onednn.batch_norm_supported(x, g)


def _vector(v, c, fill):
    """γ or β as a contiguous float32 (C,) array for oneDNN (a layer norm's of several dims
    flattened); ``fill`` (1 or 0) where not given."""
    return (np.ascontiguousarray(v, np.float32).reshape(-1) if given(v)
            else np.full(c, fill, np.float32))


class BatchNormTrain(Node):
    """y = x̂·γ + β, x̂ = (x − μ_B)/√(σ²_B + ε) with the batch's per-channel statistics, as one
    node (torch's native_batch_norm); inputs x, γ, β, each of γ and β given or not (γ, β reshaped
    to broadcast over x).

    Fused because a training step spends a fifth of its time here: the forward takes Σx and
    Σx² per channel as BLAS dot products (``channel_sums``, ``channel_dots``; from x − μ
    when μ² > UNCENTRED_MAX·σ²) and writes y = x·s + (β − μ·s) in one pass (s = γ/√(σ² + ε)),
    or, with more than one thread, takes them from each row (n, c) on oneDNN (ROW_MIN);
    only x is saved (x̂ is rebuilt in backward), so no normalized copy stays alive until
    backward. Channels-last float32 arrays take oneDNN's batch-norm primitive instead
    (``onednn.batch_norm_forward``), which reads them as they lie where NumPy's passes
    would need an NCHW copy (a channels-last resnet20 step: 110 vs 140 ms, 1 thread).
    VJP (n values per channel, r = 1/√(σ² + ε), s = γ·r):
    β̄ = Σ ȳ,  γ̄ = r·Σ ȳ·(x − μ),  x̄ = ȳ·s + (x − μ)·(−s·r·γ̄/n) − s·β̄/n.
    JVP: ẏ = (ẋ − mean ẋ − x̂·mean(ẋ x̂))·r·γ + x̂·γ̇ + β̇.
    """

    params = ("dims", "eps", "momentum")
    backward_name = "NativeBatchNormBackward0"
    non_differentiable = ("running_mean", "running_var")
    mutated_inputs = (3, 4)   # the running estimates, updated in place by forward
    # x̄ reads x and γ, γ̄ reads x, β̄ neither; no rule reads the running estimates, so a later
    # forward updating them (the same layer called twice before backward, or the stacked
    # buffers of a vmapped ensemble) is no error, as in torch
    grad_reads = ((0, 1), (0,), (), (), ())
    # how the last forward made y from x once its statistics were known, for ``recompute``:
    # ("rows", s, t) or ("sums", s, t, μ or None); None where it cannot be repeated from here
    recipe = None

    def forward(self, x, w, b, running_mean, running_var):
        # the statistics, and the running estimates' update r ← (1 − m)·r + m·stat, happen
        # here, on the arrays, so that a captured graph (chainrule.fx) replays them too
        c, m = x.shape[1], self.momentum
        shape = (1, c) + (1,) * (x.ndim - 2)
        self.recipe = None
        if _on_onednn(x):
            out, mean, var = onednn.batch_norm_forward(x, _vector(w, c, 1.0), _vector(b, c, 0.0),
                                                       self.eps)
            r = 1.0 / np.sqrt(var + self.eps)
        else:
            out, mean, var, r = self._numpy_forward(x, w, b)
        self.mean, self.var = mean.reshape(shape), var.reshape(shape)
        self.inv_std = r.reshape(shape).astype(x.dtype)
        if given(running_mean):
            running_mean *= (1 - m)
            running_mean += m * mean
        if given(running_var):
            n = x.size // c
            running_var *= (1 - m)
            running_var += m * (var * (n / (n - 1))).astype(running_var.dtype)
        return out

    def _numpy_forward(self, x, w, b):
        """(y, μ, σ², r) off the batch-norm primitive (from the rows' statistics or the channels'
        sums): y laid out as x, the rest (C,)."""
        dtype, fmt = x.dtype, _memory_format.suggested(x)
        repeatable = dtype in BLAS_FLOATS and x.flags.c_contiguous
        x = np.ascontiguousarray(x)    # (a channels-last x: its statistics on an NCHW copy)
        if dtype not in BLAS_FLOATS:
            out, mean, var, r = self._half_forward(x.reshape(x.shape[0], x.shape[1], -1), w, b)
            self.recipe = None
            return _memory_format.laid_out(out.reshape(x.shape), fmt), mean, var, r
        x3 = x.reshape(x.shape[0], x.shape[1], -1)
        if _by_rows(x3):
            out, mean, var, r = self._forward_by_rows(x3, w, b)
        else:
            out, mean, var, r = self._forward_by_sums(x3, w, b)
        if not repeatable:
            self.recipe = None
        return (_memory_format.laid_out(out.reshape(x.shape).astype(dtype, copy=False), fmt),
                mean, var, r)

    def recompute(self, x):
        """y of the last forward again, bit for bit, from the same x (a C-contiguous array of
        the forward's dtype) and the per-channel coefficients that forward kept (``recipe``):
        the same kernels on the same values. ``chainrule.compile`` calls it to rebuild a
        ReLU's input in the backward instead of keeping the ReLU's output alive from the
        forward (rematerialization). None when the forward left no recipe."""
        if self.recipe is None:
            return None
        kind, s, t, *mean = self.recipe
        x3 = x.reshape(x.shape[0], x.shape[1], -1)
        if kind == "rows":
            n, c, length = x3.shape
            return _rows_affine(onednn.normalize_rows(x3.reshape(n * c, length), _ROW_EPS)[0],
                                s, t, x3.shape).reshape(x.shape)
        centred = None if mean[0] is None else _centred(x3, mean[0])
        return _channel_affine(x3 if centred is None else centred, s, t, centred).reshape(x.shape)

    def _half_forward(self, x3, w, b):
        """(y, μ, σ², r) of a half-precision x3 (N, C, L) by torch's CPU recipe: μ and σ² as
        float32 (from float64 sums), μ and r = 1/√(σ² + ε) rounded to the half dtype (the
        statistics torch keeps), a = γ·r and t = β − μ·a in float32, then y = x·a + t as one
        fused multiply-add per element (in float64, exact for a half x times a float32 a)
        rounded to float32 and to the half dtype: torch's values bit for bit, except where
        torch's float32 sums (8 lanes) over millions of elements round μ or r to the
        neighbouring half value. y (N, C, L), the rest (C,) float32. Blocks of the rows (n, c)
        keep the temporaries small."""
        dtype, (n, c, length) = x3.dtype, x3.shape
        rows, count = x3.reshape(n * c, length), max(n * length, 1)
        x32 = np.empty((min(_HALF_BLOCK, rows.size),), np.float32)
        sums, squares = np.zeros(n * c), np.zeros(n * c)
        # one pass: Σx and Σx² in float64 (a half x squares exactly in float32), so
        # σ² = E[x²] − μ² loses nothing that float32 statistics would keep
        for r_, l_ in _blocks(rows.shape):
            part = _into(x32, rows[r_, l_])
            sums[r_] += np.add.reduce(part, 1, dtype=np.float64)
            squares[r_] += np.add.reduce(np.square(part, out=part), 1, dtype=np.float64)
        mean64 = np.add.reduce(sums.reshape(n, c), 0) / count
        var64 = np.maximum(np.add.reduce(squares.reshape(n, c), 0) / count - mean64 * mean64, 0)
        mean, var = mean64.astype(np.float32), var64.astype(np.float32)
        r = (np.float32(1) / np.sqrt(var + np.float32(self.eps))).astype(np.float32)
        half = lambda v: v.astype(dtype).astype(np.float32)     # noqa: E731
        a = half(r) * (w.astype(np.float32) if given(w) else np.float32(1))
        t = (b.astype(np.float32) if given(b) else np.float32(0)) - half(mean) * a
        return _half_affine(x3, a, t), mean, var, r

    def _forward_by_rows(self, x3, w, b):
        """(y, μ, σ², r) from the rows' statistics (see ROW_MIN): x3 (N, C, L) C-contiguous
        float32, y as x3, μ, σ², r (C,) float32."""
        n, c, length = x3.shape
        xh, mu_r, var_r = onednn.normalize_rows(x3.reshape(n * c, length), _ROW_EPS)
        # on (N, C) and (C,) arrays, in float64 (np.add.reduce: np.mean's wrapper costs more
        # than these small sums)
        mu_r, var_r = mu_r.reshape(n, c).astype(np.float64), var_r.reshape(n, c)
        mean = np.add.reduce(mu_r, 0) / n
        dev = mu_r - mean
        var = np.add.reduce(var_r + dev * dev, 0) / n
        r = 1.0 / np.sqrt(var + self.eps)
        s = w * r if given(w) else r
        scale = np.sqrt(var_r + _ROW_EPS) * s
        shift = dev * s + b if given(b) else dev * s
        scale, shift = (v.astype(np.float32).reshape(-1) for v in (scale, shift))
        self.recipe = ("rows", scale, shift)
        return _rows_affine(xh, scale, shift, x3.shape), *(v.astype(np.float32)
                                                           for v in (mean, var, r))

    def _forward_by_sums(self, x3, w, b):
        """(y, μ, σ², r) from the channels' sums (``_moments``): y (N, C, L) as x3."""
        mean, var, centred = _moments(x3)
        r = 1.0 / np.sqrt(var + self.eps)
        # y = x·s + (β − μ·s), s = γ·r; or (x − μ)·s + β over the centred copy where there is one
        s = w * r if given(w) else r
        beta = b if given(b) else np.zeros_like(s)
        src, t = (x3, beta - mean * s) if centred is None else (centred, beta)
        self.recipe = ("sums", s, t, None if centred is None else mean)
        return _channel_affine(src, s, t, centred), mean, var, r

    def vjp(self, xp, g, x, w):
        if not xp.recording and x.dtype in BLAS_FLOATS:
            return self._array_vjp(g, x, w)
        mean, r = _statistics(self, xp, x)
        n = xp.data(x).size // self.mean.size
        centred = x - mean
        gb = xp.sum(g, self.dims, True)
        gw = xp.sum(g * centred, self.dims, True) * r
        scale = xp.reshape(w, self.mean.shape) * r if given(w) else r
        # three passes over per-channel coefficients instead of one temporary per term
        gx = xp.affine(g, scale, centred, -scale * r * gw / n, -scale * gb / n)
        _, need_w, need_b = self.needs_input_grad[:3]
        c = self.mean.size
        # half-precision inputs: the statistics are float32, the gradients the inputs' dtypes
        like_w = xp.data(w).dtype if given(w) else xp.data(x).dtype
        return (_cast(xp, gx, xp.data(x).dtype),
                _cast(xp, xp.reshape(gw, (c,)), like_w) if need_w else None,
                _cast(xp, xp.reshape(gb, (c,)), like_w) if need_b else None, None, None)

    def _array_vjp(self, g, x, w):
        """The VJP above on arrays, in as few passes over x and ȳ as NumPy allows (x̄ laid out
        as x)."""
        c = x.shape[1]
        _, need_w, need_b = self.needs_input_grad[:3]
        if _on_onednn(x, g):
            gx, gw, gb = onednn.batch_norm_backward(g, x, self.mean.reshape(c), self.var.reshape(c),
                                                    _vector(w, c, 1.0), self.eps)
            return gx, gw if need_w else None, gb if need_b else None, None, None
        fmt = _memory_format.suggested(x)
        x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
        n_ = x.shape[0]
        x3, g3 = x.reshape(n_, c, -1), g.reshape(n_, c, -1)
        n = n_ * x3.shape[2]
        r, mean = self.inv_std.reshape(c), self.mean.reshape(c)
        gb = channel_sums(g3)
        # Σ ȳ·(x − μ) = Σ ȳ·x − μ·Σ ȳ where the forward's statistics allow it (UNCENTRED_MAX)
        centred = None if _uncentred_ok(mean, self.var.reshape(c)) else _centred(x3, mean)
        if centred is None:
            gw = (channel_dots(g3, x3) - mean * gb) * r
        else:
            gw = channel_dots(g3, centred) * r
        s = w * r if given(w) else r
        # x̄ = ȳ·s + (x − μ)·(−s·r·γ̄/n) − s·β̄/n = ((x − μ)·a − β̄/n + ȳ)·s, a = −r·γ̄/n;
        # from x: (x·a + (−β̄/n − μ·a) + ȳ)·s
        a = -r * gw / n
        src, t = (x3, -gb / n - mean * a) if centred is None else (centred, -gb / n)
        if onednn.elementwise_supported(src, g3):
            gx = onednn.channel_affine(src, a, t, g3, s, out=centred)
        else:
            gx = np.multiply(src, _per_channel(s * a, x3), out=centred)
            gx += _per_channel(s * t, x3)
            gx += np.multiply(g3, _per_channel(s, x3))
        gx = _memory_format.laid_out(gx.reshape(x.shape), fmt)
        return gx, gw if need_w else None, gb if need_b else None, None, None

    def jvp(self, xp, tangents, x, w):
        return _normalization_jvp(tangents, x, w, self.dims, self.eps, self.mean.shape)


_FOLDED = {}        # the exact bytes of a layer's vectors -> its coefficients (see _folded)
_FOLDED_MAX = 256   # layers remembered; the table starts afresh beyond


def _folded(x, w, b, running_mean, running_var, eps):
    """(μ, r, s, t) of batch norm in evaluation, in x's dtype: r = 1/√(r_σ² + ε), s = γ·r,
    t = β − r_μ·s per channel (s, t of shape (C,); μ, r shaped (1, C, 1, …) for the rules).

    Remembered by the exact bytes of r_μ, r_σ², γ and β (with their dtypes, ε and x's dtype):
    computing them is a dozen NumPy calls on (C,) vectors, ~40 µs of a layer's call inside a
    network's step (the step's kernels evict the interpreter's data), against ~10 for the
    lookup. A key is the values themselves, not a version counter: a running statistic written
    through ``.data`` or ``numpy()`` moves no version, but it changes the bytes. The cached
    arrays are read-only copies."""
    key = (x.dtype, x.ndim, eps, running_mean.dtype, running_mean.tobytes(), running_var.dtype,
           running_var.tobytes(), given(w) and (w.dtype, w.tobytes()),
           given(b) and (b.dtype, b.tobytes()))
    found = _FOLDED.get(key)
    if found is not None:
        return found
    mean = running_mean.astype(x.dtype)   # (a copy: the entry must not alias the buffer)
    inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype, copy=False)
    scale = w * inv_std if given(w) else inv_std
    shift = b - mean * scale if given(b) else -(mean * scale)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    found = mean.reshape(shape), inv_std.reshape(shape), scale, shift
    for a in found:
        a.flags.writeable = False
    if len(_FOLDED) >= _FOLDED_MAX:
        _FOLDED.clear()
    _FOLDED[key] = found
    return found


class BatchNormEval(BatchNormTrain):
    """y = x·s + t with the running statistics (constants here): s = γ·r, r = 1/√(r_σ² + ε),
    t = β − r_μ·s — torch's native_batch_norm in evaluation, one node with edges x, γ, β.
    VJP: x̄ = ȳ·s,  γ̄ = Σ ȳ·(x − r_μ)·r,  β̄ = Σ ȳ.  JVP: ẏ = ẋ·s + (x − r_μ)·r·γ̇ + β̇."""

    params = ("dims", "eps")
    backward_name = "NativeBatchNormBackward0"
    mutated_inputs = ()

    def forward(self, x, w, b, running_mean, running_var):
        n, c = x.shape[:2]
        self.mean, self.inv_std, scale, shift = _folded(x, w, b, running_mean, running_var,
                                                        self.eps)
        if x.dtype not in BLAS_FLOATS:   # half precision: torch's float32 coefficients, fused
            r = np.float32(1) / np.sqrt(running_var.astype(np.float32) + np.float32(self.eps))
            a = r * (w.astype(np.float32) if given(w) else np.float32(1))
            t = (b.astype(np.float32) if given(b) else np.float32(0)) \
                - running_mean.astype(np.float32) * a
            x3 = np.ascontiguousarray(x).reshape(n, c, -1)
            return _memory_format.laid_out(_half_affine(x3, a, t).reshape(x.shape),
                                           _memory_format.suggested(x))
        if onednn.elementwise_supported(x):    # one pass, on chainrule's threads
            if x.flags.c_contiguous:
                return onednn.channel_affine(x.reshape(n, c, -1), scale, shift).reshape(x.shape)
            out = onednn.channel_affine(x.transpose(0, 2, 3, 1).reshape(-1, c), scale,
                                        shift)        # channels-last: rows of pixels
            return out.reshape(n, *x.shape[2:], c).transpose(0, 3, 1, 2)
        if _memory_format.suggested(x) is _memory_format.channels_last:   # stays channels-last
            rows, k = _pixel_rows(x)
            out = np.multiply(rows, np.tile(scale, k))
            out += np.tile(shift, k)
            return out.reshape(n, *x.shape[2:], c).transpose(0, 3, 1, 2)
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))
        out = np.multiply(x3, _per_channel(scale, x3))
        out += _per_channel(shift, x3)
        return out.reshape(x.shape)

    def vjp(self, xp, g, x, w):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        r, c = xp.const(self.inv_std), self.mean.size
        gx = (g * (xp.reshape(w, self.mean.shape) * r if given(w) else r)) if need_x else None
        gw = (xp.reshape(xp.sum(g * (x - xp.const(self.mean)), self.dims, True) * r, (c,))
              if need_w else None)
        gb = xp.reshape(xp.sum(g, self.dims, True), (c,)) if need_b else None
        return gx, gw, gb, None, None

    def jvp(self, xp, tangents, x, w):
        tx, tw, tb = tangents[:3]
        shape, r = self.mean.shape, xp.const(self.inv_std)
        terms = []
        if tx is not None:
            terms.append(tx * (w.reshape(shape) * r if given(w) else r))
        if tw is not None:
            terms.append((x - xp.const(self.mean)) * r * tw.reshape(shape))
        if tb is not None:
            terms.append(tb.reshape(shape).expand(tuple(x.shape)))
        return _total(terms)


class LayerNorm(Node):
    """y = x̂·γ + β, x̂ = (x − μ)/√(σ² + ε) with μ, σ² (biased) over the trailing ``dims`` of each
    sample; γ, β (the normalized shape) given or not — torch's native_layer_norm, one node.
    VJP (n values per sample, r = 1/√(σ² + ε), ĝ = ȳ·γ):
    x̄ = r·(ĝ − mean ĝ − x̂·mean(ĝ·x̂)),  γ̄ = Σ_samples ȳ·x̂,  β̄ = Σ_samples ȳ.
    JVP: ẏ = (ẋ − mean ẋ − x̂·mean(ẋ x̂))·r·γ + x̂·γ̇ + β̇."""

    params = ("dims", "eps")
    backward_name = "NativeLayerNormBackward0"
    rows = None   # (μ, σ²) of each row when the forward ran on oneDNN (x as (R, L) rows)

    def forward(self, x, w, b):
        n = math.prod(x.shape[x.ndim - len(self.dims):])
        if n and onednn.layer_norm_supported(x2 := x.reshape(-1, n)):   # one pass, on the threads
            y, mean, var = onednn.layer_norm_forward(x2, _vector(w, n, 1), _vector(b, n, 0),
                                                     self.eps)
            self.rows = mean, var
            stat_shape = x.shape[:x.ndim - len(self.dims)] + (1,) * len(self.dims)
            self.mean = mean.reshape(stat_shape)
            self.inv_std = (1.0 / np.sqrt(var + np.float32(self.eps))).reshape(stat_shape)
            return y.reshape(x.shape)
        self.rows = None   # (a compiled replay runs one node again: no stale rows)
        self.mean = x.mean(axis=self.dims, keepdims=True)
        out = x - self.mean
        self.inv_std = (1.0 / np.sqrt((out * out).mean(axis=self.dims, keepdims=True) + self.eps)
                        ).astype(x.dtype, copy=False)
        out *= self.inv_std
        if given(w):
            out *= w
        if given(b):
            out += b
        return out

    def vjp(self, xp, g, x, w):
        if self.rows is not None and not xp.recording:   # a plain backward of oneDNN's forward
            n = x.size // self.rows[0].size
            g2 = g.reshape(-1, n)
            if onednn.layer_norm_supported(g2):
                gx, gw, gb = onednn.layer_norm_backward(g2, x.reshape(-1, n), *self.rows,
                                                        _vector(w, n, 1), self.eps)
                need_x, need_w, need_b = self.needs_input_grad
                shape = x.shape[x.ndim - len(self.dims):]
                return (gx.reshape(x.shape) if need_x else None,
                        gw.reshape(shape) if need_w else None,
                        gb.reshape(shape) if need_b else None)
        mean, r = _statistics(self, xp, x)
        xh = (x - mean) * r
        gh = g * w if given(w) else g
        n = math.prod(x.shape[d] for d in self.dims)   # (not size // mean's size: N may be 0)
        gx = (gh - xp.sum(gh, self.dims, True) / n - xh * (xp.sum(gh * xh, self.dims, True) / n)) * r
        _, need_w, need_b = self.needs_input_grad
        # γ̄, β̄ full-sized: the engine sums them back over the samples to γ's and β's shape
        return gx, (g * xh if need_w else None), (g if need_b else None)

    def jvp(self, xp, tangents, x, w):
        shape = tuple(x.shape[x.ndim - len(self.dims):])
        return _normalization_jvp(tangents, x, w, self.dims, self.eps, shape)


class Embedding(Node):
    """y[..., :] = weight[index[...], :]: linear in the weight; its transpose adds each ȳ row
    into the row of the weight it was read from (none into ``padding_idx``'s row)."""

    linear = True
    params = ("index", "padding_idx", "scale_grad_by_freq")
    data_params = ("index",)   # a tensor's values: traced by a graph capture
    padding_idx = None
    scale_grad_by_freq = False   # each row's gradient divided by its index's count in ``index``

    def forward(self, weight):
        self.w_shape = weight.shape
        return weight[self.index]

    def transpose(self, xp, g):
        dtype = xp.data(g).dtype
        if self.scale_grad_by_freq:
            counts = np.bincount(self.index.ravel(), minlength=self.w_shape[0])
            g = g * xp.const((1.0 / counts[self.index])[..., None].astype(dtype))
        if self.padding_idx is not None:
            g = g * xp.const((self.index != self.padding_idx)[..., None].astype(dtype))
        return xp.apply(IndexAdd, g, key=self.index, shape=self.w_shape, basic=False)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β per channel (dim 1).

    Training: μ, σ² are the batch statistics over every dim but 1 (σ² biased), and the running
    estimates move as r ← (1 − momentum)·r + momentum·stat (running var uses the unbiased σ²).
    Evaluation: the running estimates are used, folded (as torch) into one scale and shift per
    channel: y = x·s + t, s = γ/√(r_σ² + ε), t = β − r_μ·s.  Shapes: input (N, C), (N, C, L) or
    (N, C, H, W); running stats, weight, bias (C,).
    """
    check_tensor(input, "batch_norm")
    check_dtypes("batch_norm", input, weight, bias, running_mean, running_var)
    x = input._data   # (shapes and dtypes read off the arrays: this runs for every layer)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {x.shape}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != (c,):
            raise RuntimeError(f"batch_norm: {name} must have shape ({c},) (should contain {c} "
                               f"elements), got {t._data.shape}")
    dims = (0,) + tuple(range(2, x.ndim))
    # γ, β of another dtype than x (which torch refuses) are applied after the node
    fused = (weight is None or weight._data.dtype == x.dtype) and (
        bias is None or bias._data.dtype == x.dtype)
    affine = (optional(weight), optional(bias)) if fused else (NOT_GIVEN, NOT_GIVEN)
    if training and x.size == 0:   # an empty batch: an empty output, the statistics untouched,
        shape = (1, c) + (1,) * (x.ndim - 2)   # γ and β zero gradients (as torch)
        out = input * 1 if weight is None else input * weight.reshape(shape)
        return out if bias is None else out + bias.reshape(shape)
    if training:
        n = x.size // c
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input size {x.shape}")
        for running in (running_mean, running_var):   # the forward updates them in place
            if running is not None:
                running._version_box[0] += 1
        out = BatchNormTrain.apply(input, *affine, optional(running_mean), optional(running_var),
                                   dims=dims, eps=eps, momentum=momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                               "evaluation mode")
        out = BatchNormEval.apply(input, *affine, running_mean, running_var, dims=dims, eps=eps)
    if fused:
        return out
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out.to(input.dtype)   # float16 input, float32 parameters: float16 out, as torch


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """y = (x − μ)/√(σ² + ε)·γ + β with μ, σ² (biased) over the last len(normalized_shape) dims."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(f"layer_norm: input's trailing shape "
                           f"{tuple(input.shape[input.ndim - k:])} != normalized_shape "
                           f"{normalized_shape} (input of shape {tuple(input.shape)})")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(f"layer_norm: {name} must have shape {normalized_shape}, got "
                             f"{tuple(t.shape)}")
    dims = tuple(range(input.ndim - k, input.ndim))
    check_dtypes("layer_norm", input, weight, bias)
    if all(t is None or t.dtype is input.dtype for t in (weight, bias)):
        return LayerNorm.apply(input, optional(weight), optional(bias), dims=dims, eps=eps)
    out = LayerNorm.apply(input, NOT_GIVEN, NOT_GIVEN, dims=dims, eps=eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.to(input.dtype)   # float16 input, float32 parameters: float16 out, as torch


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False) -> Tensor:
    """Rows of ``weight`` picked by integer ``input``: out[..., :] = weight[input[...], :].
    The row at ``padding_idx`` gets no gradient; with ``max_norm`` the referenced rows whose
    ``norm_type``-norm exceeds it are first scaled down in place, as torch; with
    ``scale_grad_by_freq`` each row's gradient is divided by how often its index occurs in
    ``input`` (weight̄[k] = Σ_{i: input_i = k} ȳ_i / count(k)).
    Shapes: input (*), weight (V, D), out (*, D)."""
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected indices of type Long or Int, got {input.dtype}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {tuple(weight.shape)}")
    v = weight.shape[0]
    if input.numel() and (input._data.min() < 0 or input._data.max() >= v):
        raise IndexError(f"embedding: index out of range for a table of {v} rows (indices in "
                         f"[{int(input._data.min())}, {int(input._data.max())}])")
    if padding_idx is not None:
        padding_idx %= v
    if max_norm is not None:
        _renorm_(weight, input._data, max_norm, norm_type)
    return Embedding.apply(weight, index=input._data, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))


def _renorm_(weight, idx, max_norm, norm_type):
    """torch's embedding_renorm_: rows referenced by ``idx`` whose p-norm exceeds ``max_norm``
    are scaled in place (no gradient) to max_norm/(norm + 1e-7)."""
    rows = np.unique(idx)
    w = weight._data
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
    weight._version_box[0] += 1



# ---------------------------------------------------------------------------- group, instance, p-norm
class GroupNorm(Node):
    """y = x̂·γ + β, x̂ = (x − μ)/√(σ² + ε) with μ, σ² (biased) over each sample's group of
    C/G channels and all their positions; γ, β per channel (given or not) — torch's
    native_group_norm, one node.
    VJP (per sample and group: m values, r = 1/√(σ² + ε), ĝ = ȳ·γ):
    x̄ = r·(ĝ − mean ĝ − x̂·mean(ĝ·x̂)),  γ̄ = Σ_{n, positions} ȳ·x̂,  β̄ = Σ_{n, positions} ȳ.
    JVP: ẏ = (ẋ − mean ẋ − x̂·mean(ẋ x̂))·r·γ + x̂·γ̇ + β̇ (means per group)."""

    params = ("groups", "eps")
    backward_name = "NativeGroupNormBackward0"

    def forward(self, x, w, b):
        n, c = x.shape[:2]
        xr = x.reshape(n, self.groups, c // self.groups * math.prod(x.shape[2:]))  # (N may be 0)
        self.mean = xr.mean(axis=2, keepdims=True)
        centred = xr - self.mean
        self.inv_std = (1.0 / np.sqrt((centred * centred).mean(axis=2, keepdims=True) + self.eps)
                        ).astype(x.dtype, copy=False)
        out = (centred * self.inv_std).reshape(x.shape)
        shape = (1, c) + (1,) * (x.ndim - 2)
        if given(w):
            out *= w.reshape(shape)
        if given(b):
            out += b.reshape(shape)
        return out

    def _grouped(self, xp, x):
        """(x viewed as (N, G, m), x̂ in that view, r) — recomputed in differentiable ops when
        recording, the forward's statistics otherwise."""
        shape = tuple(x.shape)
        m = shape[1] // self.groups * math.prod(shape[2:])   # (explicit: N may be 0)
        xr = xp.reshape(x, (shape[0], self.groups, m))
        if xp.recording:
            centred = xr - xp.sum(xr, (2,), True) / m
            r = (xp.sum(centred * centred, (2,), True) / m + self.eps).rsqrt()
        else:
            centred, r = xr - self.mean, self.inv_std
        return m, centred * r, r

    def vjp(self, xp, g, x, w):
        shape = tuple(x.shape)
        c, cshape = shape[1], (1, shape[1]) + (1,) * (len(shape) - 2)
        m, xh, r = self._grouped(xp, x)
        gh = xp.reshape(g * xp.reshape(w, cshape) if given(w) else g, tuple(xp.data(xh).shape))
        gx = (gh - xp.sum(gh, (2,), True) / m - xh * (xp.sum(gh * xh, (2,), True) / m)) * r
        _, need_w, need_b = self.needs_input_grad
        dims = (0,) + tuple(range(2, len(shape)))
        gw = xp.reshape(xp.sum(g * xp.reshape(xh, shape), dims), (c,)) if need_w else None
        gb = xp.reshape(xp.sum(g, dims), (c,)) if need_b else None
        return xp.reshape(gx, shape), gw, gb

    def jvp(self, xp, tangents, x, w):
        tx, tw, tb = tangents[:3]
        shape = tuple(x.shape)
        cshape = (1, shape[1]) + (1,) * (len(shape) - 2)
        m, xh, r = self._grouped(xp, x)
        terms = []
        if tx is not None:
            t = tx.reshape(tuple(xh.shape))
            dxh = ((t - t.sum(2, True) / m - xh * ((t * xh).sum(2, True) / m)) * r).reshape(shape)
            terms.append(dxh * w.reshape(cshape) if given(w) else dxh)
        if tw is not None:
            terms.append(xh.reshape(shape) * tw.reshape(cshape))
        if tb is not None:
            terms.append(tb.reshape(cshape).expand(shape))
        return _total(terms)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """y = (x − μ_g)/√(σ²_g + ε)·γ + β: the C channels of each sample split into ``num_groups``
    groups, μ_g, σ²_g (biased) over a group's channels and positions; γ, β per channel.
    Independent of the batch (unlike batch norm). Shapes: input (N, C, *), weight, bias (C,)."""
    check_tensor(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but "
                           f"received {input.ndim}")
    c = input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"group_norm: Expected {name} to be a vector of size equal to the "
                               f"number of channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    check_dtypes("group_norm", input, weight, bias)
    if all(t is None or t.dtype is input.dtype for t in (weight, bias)):
        return GroupNorm.apply(input, optional(weight), optional(bias), groups=num_groups, eps=eps)
    shape = (1, c) + (1,) * (input.ndim - 2)
    out = GroupNorm.apply(input, NOT_GIVEN, NOT_GIVEN, groups=num_groups, eps=eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out.to(input.dtype)   # float16 input, float32 parameters: float16 out, as torch


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = (x − μ_nc)/√(σ²_nc + ε)·γ_c + β_c, μ_nc, σ²_nc (biased) over the positions of each
    sample's channel — batch norm on the input viewed as (1, N·C, *), as torch computes it.

    With ``use_input_stats`` the running estimates (if given) move by ``momentum`` towards the
    batch's average of the per-instance statistics (the variance unbiased); without, they are
    used instead of the input's. Shapes: input (N, C, *), running stats, weight, bias (C,)."""
    check_tensor(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *) with at least one "
                         f"position dim, got {tuple(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats and input.numel() and input.numel() // (n * c) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    x = input.reshape((1, n * c) + tuple(input.shape[2:]))

    def tiled(t):
        return None if t is None else Tensor._make(np.tile(t._data, n))
    rm, rv = tiled(running_mean), tiled(running_var)
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    for running, tile in ((running_mean, rm), (running_var, rv)):
        if use_input_stats and running is not None:
            running._data[...] = tile._data.reshape(n, c).mean(axis=0)
            running._version_box[0] += 1
    return out.reshape(tuple(input.shape))


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """v / max(‖v‖_p, ε) along ``dim``: each vector scaled to unit p-norm (ε guards zero
    vectors). Shapes: (*) -> (*)."""
    check_tensor(input, "normalize")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"normalize: linalg.vector_norm: Expected a floating point tensor as "
                           f"input, got {input.dtype}")
    denom = _p_norm(input, p, dim, True).clamp_min(eps).expand_as(input)
    result = input / denom
    if out is not None:
        return out.copy_(result)
    return result


def rms_norm(input, normalized_shape, weight=None, eps=None) -> Tensor:
    """y = x / √(mean(x²) + ε)·γ, the mean over the last len(normalized_shape) dims (RMSNorm:
    layer norm without centring or shift); ε defaults to the dtype's machine epsilon, as torch.
    Shapes: input (*, *normalized_shape), weight normalized_shape -> input's shape. A composite,
    as torch's."""
    check_tensor(input, "rms_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(shape)}, expected input with "
                           f"shape [*{', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: weight must have shape {shape}, got {tuple(weight.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """y_c = x_c / (k + α/n·Σ_{c′} x_{c′}²)^β, the sum over the n = ``size`` channels around c
    (zero-padded: ⌊n/2⌋ before, ⌊(n−1)/2⌋ after), as AlexNet's LRN and torch's.
    Shapes: (N, C, *) -> same. A composite."""
    check_tensor(input, "local_response_norm")
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got "
                         f"{input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = pad(sq, tuple(widths))
    window = padded.narrow(1, 0, c)
    for j in range(1, size):
        window = window + padded.narrow(1, j, c)
    div = (window * (alpha / size) + k) ** beta
    return input / div
