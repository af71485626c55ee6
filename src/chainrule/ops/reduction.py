"""Reductions: sum, mean, prod, amax/amin, max/min, var/std, logsumexp, argmax/argmin.

The VJP of a reduction over some dims broadcasts the incoming gradient back over those dims
(a sum copies each input once into the output, so each input receives the output's gradient),
then weighs it by ∂y/∂x: 1 for a sum, Π_{j≠i} x_j for a product, the share of a tied maximum,
softmax(x) for logsumexp.
"""
from __future__ import annotations

import builtins
import functools
import math
import warnings

import numpy as np

from .. import _dtype, return_types
from .._argcompat import numpy_aliases
from .._graph import Node
from .._tensor_base import TensorBase
from ._util import check_tensor, keepdim_shape, normalize_dims
from .array_function import array_function
from .elementwise import maximum, minimum, to_float
from .indexing import Gather
from .shape import Flip



def _expand_back(xp, g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape (a view, no copy)."""
    if not keepdim and g.ndim:
        g = xp.reshape(g, keepdim_shape(in_shape, dims))
    return g if g.shape == in_shape else xp.expand(g, in_shape)   # (Size == tuple compares)


def _keep(xp, y, in_shape, dims, keepdim):
    """The output with its reduced dims kept (size 1), to broadcast against the input."""
    return y if keepdim else xp.reshape(y, keepdim_shape(in_shape, dims))


ROWS_BLOCK = 128   # rows a block of ``_sum_rows`` adds one after another


def _sum_rows(x2, dtype):
    """Σ over axis 0 of a C-contiguous (N, M) array, accurately: NumPy adds along axis 0 one row
    after another (its pairwise summation runs only along the contiguous axis), an error that
    grows with N (float32: the mean of 10⁵ values near 10⁴ off by 7); here blocks of
    ``ROWS_BLOCK`` rows are summed and the block sums summed again the same way, so the error
    grows with ROWS_BLOCK·log N instead. Narrow rows (M < 16, where NumPy's loop over M is
    slow too) are transposed once and summed pairwise."""
    n, m = x2.shape
    if n < 2 * ROWS_BLOCK:
        return np.add.reduce(x2, 0, dtype)
    if m < 16:
        return np.add.reduce(np.ascontiguousarray(x2.T), 1, dtype)
    k = n // ROWS_BLOCK
    blocks = np.add.reduce(x2[:k * ROWS_BLOCK].reshape(k, ROWS_BLOCK, m), 1, dtype)
    total = _sum_rows(blocks, None)
    if k * ROWS_BLOCK < n:
        total += np.add.reduce(x2[k * ROWS_BLOCK:], 0, dtype)
    return total


def sum_dims(x, dims, keepdim=False, dtype=None):
    """``np.add.reduce(x, dims, dtype, None, keepdim)``, summing leading dims of float32 or
    float16 data accurately (``_sum_rows``); dims: a tuple of non-negative ints or None."""
    if (dims and x.dtype.char in "fe" and dims == tuple(range(len(dims)))
            and len(dims) < x.ndim and x.flags.c_contiguous):
        lead = x.shape[:len(dims)]
        n = math.prod(lead)
        if n >= 2 * ROWS_BLOCK:
            out = _sum_rows(x.reshape(n, -1), dtype).reshape(x.shape[len(dims):])
            return out.reshape((1,) * len(dims) + out.shape) if keepdim else out
    # np.add.reduce(x, axis, dtype, out, keepdims): np.sum minus its Python wrapper, and
    # positional, as keywords cost a small sum half its time
    return np.add.reduce(x, dims, dtype, None, keepdim)


def accumulated_sum(x, dims, keepdim, divisor=None):
    """Σ_dims x (÷ divisor), float16 summed in float32 and rounded once at the end, as torch (a
    float16 running sum overflows past 65504 long before the mean would)."""
    wide = x.dtype.char == "e"   # float16 (either byte order; a cheaper test than == np.float16)
    out = sum_dims(x, dims, keepdim, np.float32 if wide else None)
    if divisor is not None:
        out = out / divisor
    if not wide:
        return out
    with np.errstate(over="ignore"):   # past float16's range is inf, silently, as torch
        return out.astype(np.float16)


class Sum(Node):
    """y = Σ_dims x: linear; its transpose broadcasts ḡ back over the summed dims."""

    linear = True
    params = ("dims", "keepdim")

    def forward(self, x):
        self.in_shape = x.shape
        return accumulated_sum(x, self.dims, self.keepdim)

    def transpose(self, xp, g):
        return _expand_back(xp, g, self.in_shape, self.dims, self.keepdim)


class Mean(Sum):
    """y = (1/n) Σ_dims x over the n averaged elements: linear; its transpose spreads ḡ/n back."""

    backward_name = "MeanBackward0"

    def forward(self, x):
        self.in_shape = x.shape
        with np.errstate(invalid="ignore", divide="ignore"):   # the mean of nothing is nan
            return accumulated_sum(x, self.dims, self.keepdim, self._count())

    def _count(self):
        n = 1
        for d in self.dims:
            n *= self.in_shape[d]
        return n

    def transpose(self, xp, g):
        n = self._count()
        return _expand_back(xp, g / n if n else g, self.in_shape, self.dims, self.keepdim)


class _WeightedReduction(Node):
    """A reduction whose derivative is a weight per input element, w = ∂y/∂x (``weights``):
    VJP x̄ = broadcast(ȳ)·w, JVP ẏ = Σ_dims ẋ·w."""

    params = ("dims", "keepdim")

    def vjp(self, xp, g, x, out):
        return _expand_back(xp, g, x.shape, self.dims, self.keepdim) * self.weights(xp, x, out)

    def jvp(self, xp, tangents, x, out):
        return xp.sum(tangents[0] * self.weights(xp, x, out), self.dims, self.keepdim)


class Prod(_WeightedReduction):
    """y = Π_dim x;  ∂y/∂x_i = Π_{j≠i} x_j."""

    def forward(self, x):
        return np.prod(x, axis=self.dims, keepdims=self.keepdim)

    def weights(self, xp, x, out):
        """y/x when no x is zero (differentiable); otherwise from exclusive cumulative products
        from both ends, without dividing (exact; a constant for double backward)."""
        a = xp.data(x)
        if not np.any(a == 0):
            return _keep(xp, out, a.shape, self.dims, self.keepdim) / x
        every = len(self.dims) != 1          # a product of every element: of the flattened array
        b, ax = (a.reshape(-1), 0) if every else (a, self.dims[0])
        ones = np.ones_like(np.take(b, [0], ax))
        left = np.cumprod(np.concatenate([ones, b], ax), ax)  # left[i] = Π b[:i]
        right = np.flip(np.cumprod(np.concatenate([ones, np.flip(b, ax)], ax), ax), ax)  # Π b[i:]
        n = b.shape[ax]
        weights = np.take(left, range(n), ax) * np.take(right, range(1, n + 1), ax)
        return xp.const(weights.reshape(a.shape))


class Amax(_WeightedReduction):
    """y = max over dims; the gradient is shared evenly among tied maxima (torch's amax rule)."""

    greatest = True

    def forward(self, x):
        f = np.max if self.greatest else np.min
        return f(x, axis=self.dims, keepdims=self.keepdim)

    def weights(self, xp, x, out):
        x, out = xp.data(x), xp.data(out)
        mask = (x == _keep(np, out, x.shape, self.dims, self.keepdim)).astype(x.dtype)
        return xp.const(mask / mask.sum(axis=self.dims, keepdims=True))


class Amin(Amax):
    greatest = False


class LogSumExp(_WeightedReduction):
    backward_name = "LogsumexpBackward0"

    """y = log Σ exp(x) = m + log Σ exp(x − m), m = max x: the log-sum-exp trick.

    Subtracting the max keeps every exponent ≤ 0, so nothing overflows (finite at |x| = 1e4)
    and the largest term contributes exactly e⁰ = 1, so nothing underflows to log(0).
    ∂y/∂x = exp(x − y) = softmax(x).
    """

    def forward(self, x):
        m = np.max(x, axis=self.dims, keepdims=True) if x.size else np.zeros(
            keepdim_shape(x.shape, self.dims), x.dtype)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) rows: keep the exact limit
        out = np.log(np.sum(np.exp(x - m), axis=self.dims, keepdims=True)) + m
        return out if self.keepdim else np.squeeze(out, axis=self.dims)

    def weights(self, xp, x, out):
        return xp.exp(x - _keep(xp, out, x.shape, self.dims, self.keepdim))


class MaxAlong(Gather):
    """The values of max(x, dim): x at the argmax along ``dim`` (``index``, kept-dim shape, found
    in forward), the dim dropped unless ``keepdim``. Linear in x for that index: its transpose
    scatters ḡ back to the argmax (Gather's)."""

    params = ("dim", "index", "keepdim")
    backward_name = "MaxBackward0"

    def forward(self, x):
        out = super().forward(x)
        return out if self.keepdim else out.squeeze(self.dim)

    def transpose(self, xp, g):
        return super().transpose(xp, g if self.keepdim else xp.reshape(g, self.index.shape))


class Var(Node):
    """σ² = Σ_dims (x − x̄)² / (n − c) over the n reduced elements (c: the correction, 1 =
    Bessel's);  VJP x̄ = ḡ·2(x − x̄)/(n − c);  JVP σ̇² = Σ_dims 2(x − x̄)·ẋ / (n − c)."""

    params = ("dims", "correction", "keepdim")
    backward_name = "VarBackward0"
    op = "var"

    def forward(self, x):
        return self._variance(x).astype(x.dtype, copy=False)

    def _variance(self, x):
        """σ², float16/32 computed in float64 as torch accumulates them (x̄ and the squares keep
        their digits when the values sit far from 0: 10⁴ + N(0, 1) in float32 gives σ² to
        10⁻⁷ instead of 10⁻⁵)."""
        self.n = 1
        for d in self.dims:
            self.n *= x.shape[d]
        if self.n <= self.correction:
            warnings.warn(f"{self.op}(): degrees of freedom is <= 0 "
                          f"({self.n} values, correction {self.correction})", UserWarning,
                          stacklevel=6)
        wide = x if x.dtype.char not in "fe" else x.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):   # n ≤ c: nan or inf, as torch
            centred = wide - sum_dims(wide, self.dims, True) / self.n
            return (sum_dims(centred * centred, self.dims, self.keepdim)
                    / builtins.max(self.n - self.correction, 0))

    def _slope(self, xp, x):
        """2(x − x̄)/(n − c): ∂σ²/∂x."""
        dof = self.n - self.correction
        centred = x - xp.sum(x, self.dims, True) / self.n
        return centred * (2.0 / dof if dof > 0 else np.nan)

    def vjp(self, xp, g, x):
        return _expand_back(xp, g, x.shape, self.dims, self.keepdim) * self._slope(xp, x)

    def jvp(self, xp, tangents, x):
        return xp.sum(tangents[0] * self._slope(xp, x), self.dims, self.keepdim)


class Std(Var):
    """σ = √σ²;  ∂σ/∂x = (x − x̄)/((n − c)·σ), 0 where σ = 0 (as torch, not 0·∞)."""

    backward_name = "StdBackward0"
    op = "std"

    def forward(self, x):
        return np.sqrt(self._variance(x)).astype(x.dtype, copy=False)

    def _slope(self, xp, x, out):
        std = _keep(xp, out, x.shape, self.dims, self.keepdim)
        zero = xp.data(std) == 0
        half_over_std = 0.5 / xp.where(zero, 1.0, std)   # the 1 only keeps nan out of the rule
        return super()._slope(xp, x) * xp.where(zero, 0.0, half_over_std)

    def vjp(self, xp, g, x, out):
        return _expand_back(xp, g, x.shape, self.dims, self.keepdim) * self._slope(xp, x, out)

    def jvp(self, xp, tangents, x, out):
        return xp.sum(tangents[0] * self._slope(xp, x, out), self.dims, self.keepdim)


# torch's CPU scans run float32 in float64 and float16 in float32, rounding each output once:
# a float32 running sum of 10⁵ × 0.1 drifts to 9998.6 where torch gives 10000
_SCAN_DTYPE = {np.dtype(np.float32): np.float64, np.dtype(np.float16): np.float32}


def _accumulate(scan, x, dim):
    """``scan`` (np.cumsum or np.cumprod) of x along ``dim``, in torch's accumulation dtype."""
    if x.dtype.kind in "biu":   # every integer and bool scan is int64 (NumPy's uint8 one: uint64)
        return scan(x, axis=dim, dtype=np.int64) if x.ndim else x.astype(np.int64)
    if not x.ndim:
        return x.copy()
    wide = _SCAN_DTYPE.get(x.dtype)
    if wide is None:
        return scan(x, axis=dim)
    return scan(x, axis=dim, dtype=wide).astype(x.dtype)


class CumSum(Node):
    """y_i = Σ_{j≤i} x_j: linear; transpose x̄_j = Σ_{i≥j} ȳ_i (a reversed cumulative sum)."""

    linear = True
    params = ("dim",)
    backward_name = "CumsumBackward0"

    def forward(self, x):
        return _accumulate(np.cumsum, x, self.dim)

    def transpose(self, xp, g):
        if not g.ndim:
            return g
        flip = (self.dim,)
        return xp.apply(Flip, xp.apply(CumSum, xp.apply(Flip, g, dims=flip), dim=self.dim),
                        dims=flip)


def _cumsum(xp, t, dim):
    return xp.apply(CumSum, t, dim=dim)


def _rcumsum(xp, t, dim):
    """Σ_{k≥i} t_k along ``dim`` (CumSum's transpose), differentiable."""
    flip = (dim,)
    return xp.apply(Flip, xp.apply(CumSum, xp.apply(Flip, t, dims=flip), dim=dim), dims=flip)


class CumProd(Node):
    """y_k = Π_{j≤k} x_j;  ∂y_k/∂x_i = Π_{j≤k, j≠i} x_j (i ≤ k).

    Without zeros the VJP is x̄ = revcumsum(ȳ·y)/x. With zeros (as torch's rule): before the
    first zero z of a lane the same formula holds (the terms k ≥ z vanish, y_k = 0 there), after
    it every gradient is 0, and at z it is Σ_{k≥z} ȳ_k·P_k, P the cumulative product with x_z
    replaced by 1 — the exclusive products, computed without dividing by 0. Each part is written
    with differentiable ops, so double backward and forward mode hold with zeros too."""

    params = ("dim",)
    backward_name = "CumprodBackward0"

    def forward(self, x):
        return _accumulate(np.cumprod, x, self.dim)

    def _zeros(self, xp, x):
        """For x with zeros: (x with 1 from its first zero on — safe to divide by —, the masks
        before / at / after each lane's first zero, that zero x_z broadcast along the lane, x with
        x_z replaced by 1, its cumulative product); None without zeros."""
        a = xp.data(x)
        zero = a == 0
        if not zero.any():
            return None
        seen = np.cumsum(zero, axis=self.dim)
        first = zero & (seen == 1)
        before, at, after = ((m.astype(a.dtype)) for m in (seen == 0, first, (seen > 0) & ~first))
        x1 = xp.where(first, 1.0, x)
        xz = xp.sum(x * xp.const(at), (self.dim,), True)
        return (xp.where(seen == 0, x, 1.0), xp.const(before), xp.const(at), xp.const(after), xz,
                x1, xp.apply(CumProd, x1, dim=self.dim))

    def vjp(self, xp, g, x, out):
        if not g.ndim:
            return (g,)
        parts = self._zeros(xp, x)
        if parts is None:
            return (_rcumsum(xp, g * out, self.dim) / x,)
        # after z the gradient is x_z · (the gradient of the lane with x_z = 1): 0, with the
        # derivative in x_z that double backward needs
        safe, before, at, after, xz, x1, p1 = parts
        return (before * _rcumsum(xp, g * out, self.dim) / safe
                + at * _rcumsum(xp, g * p1, self.dim)
                + after * xz * self.vjp(xp, g, x1, p1)[0],)

    def jvp(self, xp, tangents, x, out):
        t = tangents[0]
        if not t.ndim:
            return t
        parts = self._zeros(xp, x)
        if parts is None:
            return out * _cumsum(xp, t / x, self.dim)
        safe, before, at, after, xz, x1, p1 = parts
        return (before * out * _cumsum(xp, t / safe, self.dim)
                + (1 - before) * (p1 * _cumsum(xp, t * at, self.dim)
                                  + xz * self.jvp(xp, [t * (1 - at)], x1, p1)))


def _to(xp, t, dtype):
    """``t`` cast to ``dtype`` inside a rule: an array, or a Tensor (a recorded, differentiable
    cast) when the rule is being differentiated again."""
    return t.to(_dtype.from_numpy_dtype(dtype)) if xp.recording else t.astype(dtype, copy=False)


class LogCumSumExp(Node):
    """y_k = ln Σ_{j≤k} e^{x_j};  ∂y_k/∂x_i = e^{x_i − y_k} (i ≤ k). Both the VJP
    e^{x−m}·revcumsum(ȳ·e^{m−y}) and the JVP e^{m−y}·cumsum(ẋ·e^{x−m}) are shifted by the lane's
    largest output m (a constant: it cancels), so they stay finite while the outputs of a lane
    span less than ~700."""

    params = ("dim",)
    backward_name = "LogcumsumexpBackward0"

    def forward(self, x):
        return np.logaddexp.accumulate(x, axis=self.dim) if x.ndim and x.size else x.copy()

    def _shift(self, xp, out):
        o = xp.data(out)
        if not o.size:
            return xp.const(np.zeros_like(o))
        m = np.max(o, axis=self.dim, keepdims=True)
        return xp.const(np.where(np.isfinite(m), m, 0).astype(o.dtype, copy=False))

    def vjp(self, xp, g, x, out):
        if not g.ndim or not g.size:
            return (g,)
        # e^{m−y} reaches e^{span}: in float32 a span of ~88 overflows, so narrow floats
        # compute in float64 (finite up to a span of ~700) and the result is cast back
        dt = xp.data(x).dtype
        if dt.itemsize < 8:
            g, x, out = (_to(xp, t, np.float64) for t in (g, x, out))
        m = self._shift(xp, out)
        gx = xp.exp(x - m) * _rcumsum(xp, g * xp.exp(m - out), self.dim)
        return (_to(xp, gx, dt) if dt.itemsize < 8 else gx,)

    def jvp(self, xp, tangents, x, out):
        t = tangents[0]
        if not t.ndim or not t.size:
            return t
        m = self._shift(xp, out)
        return xp.exp(m - out) * _cumsum(xp, t * xp.exp(x - m), self.dim)


# torch's names for overloads: over all elements (…0) or over given dims (…1)
_SumDims = Sum.named("SumBackward1")
_MeanDims = Mean.named("MeanBackward1")
_ProdDim = Prod.named("ProdBackward1")
class _Everywhere(Amax):
    """max() / min() of every element: as amax's rule, but a NaN result is shared among the NaN
    elements (torch's evenly_distribute_backward; amax's gives NaN everywhere)."""

    def weights(self, xp, x, out):
        x, out = xp.data(x), xp.data(out)
        mask = ((x == out) | (np.isnan(x) & np.isnan(out))).astype(x.dtype)
        return xp.const(mask / mask.sum())


class _EverywhereMin(_Everywhere):
    greatest = False


_MaxAll, _MinAll = _Everywhere.named("MaxBackward1"), _EverywhereMin.named("MinBackward1")
_MinAlong = MaxAlong.named("MinBackward0")


def _dims(input, dim, op):
    check_tensor(input, op)
    return normalize_dims(_all_if_empty(dim), input.ndim, op)


def _all_if_empty(dim):
    """torch's rule for sum, mean, var, std, amax ...: an empty dim list reduces every dim."""
    return None if isinstance(dim, (tuple, list)) and not dim else dim


@numpy_aliases
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Σ over ``dim`` (int, tuple, or None for all). Shapes: (*) -> reduced dims removed
    (kept as size 1 with keepdim). Bool and integer inputs sum to int64, like torch."""
    dims = _dims(input, dim, "sum")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bui" and input._data.dtype != np.int64:
        input = input.to(_dtype.int64)
    return _int_dtype(input, (Sum if dim is None else _SumDims).apply(input, dims=dims,
                                                                        keepdim=keepdim))


def _int_dtype(input, out):
    """NumPy widens sums and products of small integers to int64; torch keeps the integer dtype
    it was asked for (wrapping around as that dtype does; a bool sum is any, a bool product
    all). Integer results have no gradient."""
    if input._data.dtype.kind in "biu" and out._data.dtype != input._data.dtype:
        return out.to(input.dtype)
    return out


@numpy_aliases
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim``: (1/n) Σ x. Floating inputs only (as torch)."""
    dims = _dims(input, dim, "mean")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"mean: could not infer output dtype; input dtype must be floating "
                           f"point, got {input.dtype}. Use .float() first.")
    return (Mean if dim is None else _MeanDims).apply(input, dims=dims, keepdim=keepdim)


@numpy_aliases
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Π over one dim (or all elements when dim is None)."""
    check_tensor(input, "prod")
    if isinstance(dim, (tuple, list)):
        raise TypeError("prod: dim must be an int or None (as torch)")
    dims = normalize_dims(dim, input.ndim, "prod")
    if dtype is None and input._data.dtype.kind in "biu":   # integers multiply in int64 (torch)
        dtype = _dtype.int64
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return _int_dtype(input, Prod.apply(input, dims=tuple(range(input.ndim)), keepdim=keepdim))
    if not dims:  # a 0-d input
        return _int_dtype(input, input * 1)
    return _int_dtype(input, _ProdDim.apply(input, dims=dims, keepdim=keepdim))


@numpy_aliases
def amax(input, dim=(), keepdim=False):
    """Max over ``dim`` (all dims when empty); ties share the gradient evenly."""
    dims = _dims(input, dim, "amax")
    _nonempty(input, dims, "amax", full=_all_if_empty(dim) is None)
    return Amax.apply(input, dims=dims, keepdim=keepdim)


@numpy_aliases
def amin(input, dim=(), keepdim=False):
    """Min over ``dim`` (all dims when empty); ties share the gradient evenly."""
    dims = _dims(input, dim, "amin")
    _nonempty(input, dims, "amin", full=_all_if_empty(dim) is None)
    return Amin.apply(input, dims=dims, keepdim=keepdim)


aminmax_result = return_types.aminmax


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (all elements when None), as :func:`amin` and :func:`amax` give
    them: ties share each gradient evenly. Returns a named tuple ``(min, max)``.
    Shapes: (*) -> (*) without ``dim`` (size 1 with ``keepdim``), each."""
    reduced = () if dim is None else dim
    return aminmax_result(amin(input, reduced, keepdim), amax(input, reduced, keepdim))


def _nonempty(input, dims, op, full=False):
    if (full or not dims) and input.numel() == 0:   # torch: RuntimeError, IndexError for arg*
        raise (IndexError if op.startswith("arg") else RuntimeError)(
            f"{op}: Expected reduction dim to be specified for input.numel() == 0. Specify the "
            f"reduction dim with the 'dim' argument (input has shape {tuple(input.shape)})")
    if builtins.any(input._data.shape[d] == 0 for d in dims):
        raise IndexError(f"{op}: expected reduction dim to have non-zero size; input has shape "
                         f"{tuple(input.shape)}")


def _indices(fn, x, **kw):
    """``fn`` (argmax or argmin) of x as int64 indices."""
    return np.asarray(fn(x, **kw), np.int64)


def _flat_index(fn, x, shape):
    """``fn`` (argmax or argmin) of x flattened, as an int64 index of ``shape`` (() or 1s)."""
    return np.asarray(fn(x.reshape(-1)), np.int64).reshape(shape)


def _arg(fn, op, bools=False):
    def arg(input, dim=None, keepdim=False):
        check_tensor(input, op)
        if input._data.dtype == np.bool_ and not bools:   # torch's argmax has no bool kernel
            raise RuntimeError(f"{op}(): does not support bool input (use input.int())")
        if dim is None:
            _nonempty(input, (), op)
            shape = (1,) * input.ndim if keepdim else ()
            return array_function(functools.partial(_flat_index, fn, shape=shape), input)
        d = normalize_dims(dim, input.ndim, op)
        if not d:
            return input._make(np.zeros((), np.int64))
        _nonempty(input, d, op)
        return array_function(functools.partial(_indices, fn, axis=d[0], keepdims=keepdim),
                              input)
    arg.__name__ = op
    arg.__doc__ = f"Index of the {op[3:]}imum over ``dim`` (first occurrence); int64, not differentiable."
    return arg


argmax = numpy_aliases(_arg(np.argmax, "argmax"))
argmin = numpy_aliases(_arg(np.argmin, "argmin"))
_argmax_any, _argmin_any = _arg(np.argmax, "argmax", True), _arg(np.argmin, "argmin", True)  # max(dim)


def _max_min(input, dim, keepdim, other, op):
    if isinstance(dim, TensorBase):  # torch.max(a, b) is the elementwise maximum
        dim, other = None, dim
    if other is not None:
        return (maximum if op == "max" else minimum)(input, other)
    if dim is None:
        _nonempty(input, (), op)
        dims = tuple(range(input.ndim))
        return (_MaxAll if op == "max" else _MinAll).apply(input, dims=dims, keepdim=False)
    _nonempty(input, normalize_dims(dim, input.ndim, op), op)   # the error names max, not argmax
    result = return_types.max if op == "max" else return_types.min
    if input.ndim == 0:  # a 0-d tensor is its own max along dim 0 (or -1), at index 0
        return result(input.clone(), input._make(np.zeros((), np.int64)))
    index = (_argmax_any if op == "max" else _argmin_any)(input, dim, keepdim=True)
    along = MaxAlong if op == "max" else _MinAlong
    values = along.apply(input, dim=normalize_dims(dim, input.ndim, op)[0], index=index._data,
                         keepdim=keepdim)
    return result(values, index if keepdim else index.squeeze(dim))


@numpy_aliases
def max(input, dim=None, keepdim=False, *, other=None):
    """``max(x)``: the largest element; ``max(x, dim)``: (values, indices) along dim, the
    gradient going to the first maximum; ``max(a, b)``: elementwise maximum."""
    return _max_min(check_tensor(input, "max"), dim, keepdim, other, "max")


@numpy_aliases
def min(input, dim=None, keepdim=False, *, other=None):
    """Like :func:`max`, for the minimum."""
    return _max_min(check_tensor(input, "min"), dim, keepdim, other, "min")


def _bool_dim(dim, unbiased):
    """torch's overload ``var(input, unbiased)``: a bool in dim's place is ``unbiased``."""
    return (None, dim) if isinstance(dim, bool) and unbiased is None else (dim, unbiased)


def _var_args(input, dim, unbiased, correction, op):
    dim, unbiased = _bool_dim(dim, unbiased)
    if isinstance(unbiased, bool):
        if correction is not None:
            raise ValueError(f"{op}: pass either unbiased or correction, not both")
        correction = 1 if unbiased else 0
    if check_tensor(input, op)._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: std and var only support floating point and complex dtypes, "
                           f"got {input.dtype}")
    return input, _dims(input, dim, op), 1 if correction is None else correction


@numpy_aliases
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance Σ(x − x̄)² / (N − correction); correction defaults to 1 (Bessel), as torch."""
    input, dims, correction = _var_args(input, dim, unbiased, correction, "var")
    return Var.apply(input, dims=dims, correction=correction, keepdim=keepdim)


@numpy_aliases
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation √var (see :func:`var`). Where a group's elements are all equal
    (var = 0) the derivative is 0, as torch defines it, not 0·∞ = NaN."""
    input, dims, correction = _var_args(input, dim, unbiased, correction, "std")
    return Std.apply(input, dims=dims, correction=correction, keepdim=keepdim)


@numpy_aliases
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, unbiased = _bool_dim(dim, unbiased)
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@numpy_aliases
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, unbiased = _bool_dim(dim, unbiased)
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@numpy_aliases
def logsumexp(input, dim, keepdim=False):
    """log Σ exp(x) over ``dim``, computed stably with the log-sum-exp trick (see LogSumExp)."""
    input = to_float(check_tensor(input, "logsumexp"))
    dims = normalize_dims(dim, input.ndim, "logsumexp")
    return LogSumExp.apply(input, dims=dims, keepdim=keepdim)


@numpy_aliases
def all(input, dim=None, keepdim=False):
    axis = None if dim is None else normalize_dims(dim, input.ndim, "all")
    return _byte_kept(input, array_function(functools.partial(np.all, axis=axis, keepdims=keepdim),
                                            input))


@numpy_aliases
def any(input, dim=None, keepdim=False):
    axis = None if dim is None else normalize_dims(dim, input.ndim, "any")
    return _byte_kept(input, array_function(functools.partial(np.any, axis=axis, keepdims=keepdim),
                                            input))


def _byte_kept(input, out):
    """torch's all/any of a uint8 tensor answer in uint8 (0/1), every other dtype in bool."""
    if (isinstance(input, TensorBase) and input._data.dtype == np.uint8
            and isinstance(out, TensorBase)):
        return out._make(out._data.astype(np.uint8))
    return out


@numpy_aliases
def count_nonzero(input, dim=None):
    axis = None if _all_if_empty(dim) is None else normalize_dims(dim, input.ndim, "count_nonzero")
    return input._make(np.asarray(np.count_nonzero(input._data, axis=axis), np.int64))


@numpy_aliases
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``; differentiable (its VJP is a reversed cumsum)."""
    d = normalize_dims(dim, input.ndim, "cumsum")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":   # bool and integer inputs add up in int64 (torch)
        input = input.to(_dtype.int64)
    return _int_dtype(input, CumSum.apply(input, dim=d[0] if d else 0))




@numpy_aliases
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``; differentiable, zeros included (see :class:`CumProd`).
    Bool and integer inputs give int64, like torch."""
    check_tensor(input, "cumprod")
    d = normalize_dims(dim, input.ndim, "cumprod")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    if input._data.dtype.kind != "f":
        data = input._data
        return _int_dtype(input, input._make(np.cumprod(data, axis=d[0]) if data.ndim else data.copy()))
    return CumProd.apply(input, dim=d[0] if d else 0)


@numpy_aliases
def logcumsumexp(input, dim):
    """ln Σ_{j≤k} e^{x_j} along ``dim``, stable; differentiable."""
    check_tensor(input, "logcumsumexp")
    if input._data.dtype.kind != "f":   # torch has no integer or bool kernel
        raise NotImplementedError(f"logcumsumexp: \"logcumsumexp_out_cpu\" not implemented for "
                                  f"{input.dtype} (use input.float())")
    d = normalize_dims(dim, input.ndim, "logcumsumexp")
    return LogCumSumExp.apply(to_float(input), dim=d[0] if d else 0)
