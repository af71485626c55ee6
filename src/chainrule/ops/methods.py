"""The method table of :class:`chainrule.Tensor`: which function each method and operator is.

``Tensor`` inherits this class, so ``x.sum(1)`` is :func:`chainrule.ops.reduction.sum` and
``a @ b`` is :func:`chainrule.ops.linalg.matmul` — one place to read the whole surface, and
no method attached at run time.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._tensor_base import TensorBase

from .elementwise import (abs, add, allclose, bitwise_and, bitwise_left_shift, bitwise_not,
                          bitwise_or, bitwise_right_shift, bitwise_xor,
                          ceil, clamp, cos, div, eq, equal, erf, erfc, exp, expm1, floor,
                          floor_divide, gcd, ge, gt, heaviside, isfinite, isinf, isnan, lcm, le,
                          log, log1p, logical_and, logical_not, logical_or, logical_xor, lt,
                          maximum, minimum, mul, ne, neg, pow, relu, remainder, round, rsqrt,
                          sigmoid, sign, sin, sqrt, square, sub, tanh, true_divide, where)
from .elementwise import ReluInPlace
from .elementwise import hardshrink, prelu
from .indexing import gather, getitem, index_select, masked_fill, scatter_add
from .linalg import addmm, bmm, dot, matmul, mm, mv, outer
from .reduction import (aminmax, all, amax, amin, any, argmax, argmin, count_nonzero, cumsum,
                        logsumexp, max, mean, min, prod, std, sum, var)
from .shape import (broadcast_to, chunk, clone, expand, flatten, flip, narrow, permute, repeat,
                    reshape, split, squeeze, t, transpose, tril, triu, unbind, unflatten,
                    unsqueeze, view)
from .softmax import log_softmax, softmax
from .elementwise import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                          arctanh, asin, asinh, atan, atan2, atanh, copysign, cosh, erfinv, exp2,
                          fix, fmod, frac, hypot, isclose, isneginf, isposinf, lerp, log2, log10,
                          logaddexp, logaddexp2, sinh, tan, trunc, xlogy)
from .reduction import cumprod, logcumsumexp
from .rearrange import (diag, diag_embed, diagflat, diagonal, trace, fliplr, flipud, repeat_interleave,
                        roll, rot90, unfold)
from .matrix import det, inv, logdet, matrix_power, pinv, slogdet, tensor_norm
from .matrix import (cholesky_inverse, cholesky_legacy, cholesky_solve, lu_legacy,
                     lu_solve_legacy, matrix_exp, triangular_solve)
from .matrix import (eig_removed, geqrf, lstsq_removed, orgqr, ormqr, qr_legacy, solve_removed,
                     svd_uv, symeig_removed)
from .special import digamma, i0, igamma, igammac, lgamma, mvlgamma, polygamma
from .sorting import (argsort, cummax, cummin, kthvalue, median, mode, msort, nanmedian, sort,
                      topk)
from .scatter import (argwhere, index_add, index_copy, index_fill, index_put, index_reduce,
                      masked_scatter, masked_select, nonzero, scatter, scatter_reduce, unique,
                      unique_consecutive)
from .scatter import diagonal_scatter, select_scatter, slice_scatter
from .elementwise import frexp
from .composite import histogram
from .composite import (addbmm, addcdiv, addcmul, addmv, addr, baddbmm, bincount, clamp_max,
                        clamp_min, corrcoef, cov, deg2rad, diff, dsplit, float_power, fmax, fmin,
                        histc, hsplit, inner, is_nonzero, is_same_size, is_signed, isin, kron,
                        logit, moveaxis, movedim, nan_to_num, nanmean, nansum, positive, rad2deg,
                        ravel, reciprocal, select, sgn, signbit, sinc, swapdims, take,
                        take_along_dim, tensor_split, tile, vdot, vsplit)
from .composite import (adjoint, cross, dist, isreal, nanquantile, quantile, renorm, sum_to_size)
from .composite import ldexp, nextafter, put
from .composite import conj, is_conj, is_neg, narrow_copy
from .scatter import nonzero_static
from .shape import as_strided, as_strided_scatter, unsafe_chunk, unsafe_split


def _reflected(fn):
    """``other ∘ self`` for the reflected operators (2 - x calls x.__rsub__(2))."""
    def method(self, other):
        return fn(other, self)
    method.__name__ = f"__r{fn.__name__}__"
    return method


def _equality(fn):
    """``x == other`` / ``x != other``: elementwise against a tensor, a number or an array;
    against anything else (None, a string, a list, a tuple such as ``x.max(1)``), Python's
    identity comparison (False for ==, True for !=), as torch, so that ``x == None`` and
    ``key in (None, "a")`` work."""
    def method(self, other):
        if not isinstance(other, (TensorBase, int, float, complex, np.number, np.ndarray)):
            return NotImplemented
        return fn(self, other)
    method.__name__ = f"__{fn.__name__}__"
    return method


def _in_place(op, fn, kernel=None):
    """``x.op_(...)``: ``fn`` computed out of place, written into x (see Tensor._inplace);
    ``kernel``, for an op without arguments whose derivative reads only its output, is its
    primitive with a forward that writes into its input's memory."""
    def method(self, *args, **kwargs):
        return self._inplace(op, lambda x: fn(x, *args, **kwargs),
                             None if args or kwargs else kernel)
    method.__name__ = op
    return method


class TensorMethods:
    """Tensor's operations, each the function of the same name in :mod:`chainrule.ops`."""

    # arithmetic
    add, sub, mul, div, pow, neg = add, sub, mul, div, pow, neg
    subtract, multiply, divide, negative, true_divide = sub, mul, div, neg, true_divide
    floor_divide, remainder, square, maximum, minimum = floor_divide, remainder, square, maximum, minimum
    exp, log, log1p, expm1, sqrt, rsqrt = exp, log, log1p, expm1, sqrt, rsqrt
    abs, sign, sin, cos, tanh, sigmoid, relu, erf = abs, sign, sin, cos, tanh, sigmoid, relu, erf
    hardshrink, prelu = hardshrink, prelu
    clamp, clip, floor, ceil, round = clamp, clamp, floor, ceil, round
    tan, asin, acos, atan, sinh, cosh = tan, asin, acos, atan, sinh, cosh
    asinh, acosh, atanh, trunc, fix, frac = asinh, acosh, atanh, trunc, fix, frac
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh
    log2, log10, exp2, erfinv, erfc = log2, log10, exp2, erfinv, erfc
    gcd, lcm, heaviside = gcd, lcm, heaviside
    atan2, arctan2, copysign, fmod, hypot = atan2, arctan2, copysign, fmod, hypot
    logaddexp, logaddexp2, xlogy, lerp = logaddexp, logaddexp2, xlogy, lerp

    def where(self, condition, other):
        """``where(condition, self, other)``."""
        return where(condition, self, other)

    # comparisons
    eq, ne, lt, le, gt, ge = eq, ne, lt, le, gt, ge
    isnan, isinf, isfinite, equal, allclose = isnan, isinf, isfinite, equal, allclose
    isposinf, isneginf, isclose = isposinf, isneginf, isclose
    logical_and, logical_or, logical_not = logical_and, logical_or, logical_not
    logical_xor = logical_xor

    # reductions
    sum, mean, prod, max, min, amax, amin = sum, mean, prod, max, min, amax, amin
    argmax, argmin, var, std, logsumexp = argmax, argmin, var, std, logsumexp
    all, any, cumsum, count_nonzero = all, any, cumsum, count_nonzero
    cumprod, logcumsumexp, aminmax = cumprod, logcumsumexp, aminmax
    quantile, nanquantile, sum_to_size = quantile, nanquantile, sum_to_size
    softmax, log_softmax = softmax, log_softmax

    # shape
    reshape, view, flatten, unflatten, squeeze, unsqueeze = (reshape, view, flatten, unflatten,
                                                              squeeze, unsqueeze)
    permute, transpose, swapaxes, t = permute, transpose, transpose, t
    expand, broadcast_to, repeat, narrow, split, chunk = expand, broadcast_to, repeat, narrow, split, chunk
    unbind, clone, tril, triu = unbind, clone, tril, triu

    def flip(self, *dims, **kwargs):
        """``x.flip(0, 1)``, ``x.flip((0, 1))`` or ``x.flip(dims=...)``: torch's method takes
        the dims as varargs too (``torch.flip`` takes one sequence)."""
        return flip(self, *((dims[0] if len(dims) == 1 else dims,) if dims else ()), **kwargs)

    def expand_as(self, other):
        return expand(self, tuple(other.shape))

    def view_as(self, other):
        return view(self, tuple(other.shape))

    def reshape_as(self, other):
        return reshape(self, tuple(other.shape))

    def type_as(self, other):
        return self.to(other.dtype)

    @property
    def T(self):
        """All dims reversed (the transpose of a matrix). torch deprecates it on tensors that
        are not matrices, with a warning (``.mT`` transposes batches of matrices)."""
        if self.ndim != 2:
            warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity "
                          "in these cases." if self.ndim == 0 else
                          "The use of `x.T` on tensors of dimension other than 2 to reverse their "
                          "shape is deprecated and it will throw an error in a future release. "
                          "Consider `x.mT` to transpose batches of matrices or "
                          "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
                          "dimensions of a tensor.", UserWarning, stacklevel=2)
        return permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        """The last two dims swapped (a batch of transposed matrices)."""
        if self.ndim < 2:
            if self.ndim == 0:
                warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the "
                              "identity in these cases.", UserWarning, stacklevel=2)
                return permute(self, ())
            raise RuntimeError(f"Tensor.mT: only supported on matrices or batches of matrices, "
                               f"got a {self.ndim}-D tensor of shape {tuple(self.shape)}")
        return transpose(self, -2, -1)

    @property
    def output_nr(self):
        """Which output of its ``grad_fn`` this tensor is (0 for the first or only one, and for
        leaves and tensors without history)."""
        node, nr = self.__dict__.get("_output_nr", (None, 0))
        return nr if node is not None and node is self.grad_fn else 0

    def resize(self, *sizes):
        """torch's deprecated out-of-place resize: this tensor's elements viewed as ``sizes``,
        which must hold as many elements (a reshape; its gradient is reshaped back)."""
        warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
        return self._resize(sizes)

    def resize_as(self, tensor):
        """torch's deprecated out-of-place ``resize_as``: :meth:`resize` to ``tensor``'s shape."""
        warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
        return self._resize(tuple(tensor.shape))

    def _resize(self, sizes):
        n = int(np.prod(sizes, dtype=np.int64))
        if n != self.numel():
            raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} ({n} elements "
                               f"in total), but the given tensor has a size of "
                               f"{'x'.join(map(str, self.shape))} ({self.numel()} elements). "
                               f"autograd's resize can only change the shape of a given tensor, "
                               f"while preserving the number of elements. ")
        return reshape(self, tuple(sizes))

    @property
    def mH(self):
        """The conjugate transpose of a batch of matrices: ``mT`` (chainrule has no complex
        dtypes)."""
        return transpose(self, -2, -1)

    @property
    def H(self):
        """The conjugate transpose of a matrix (2-D; 0-d and 1-d: itself, as ``t()``)."""
        if self.ndim > 2:
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self.ndim}-D tensor. For batches of matrices, consider using "
                               "tensor.mH")
        return self.t()

    # indexing and linear algebra
    gather, index_select, masked_fill, scatter_add = gather, index_select, masked_fill, scatter_add
    matmul, mm, bmm, mv, dot, outer, addmm = matmul, mm, bmm, mv, dot, outer, addmm
    ger = outer   # (torch's older name)

    # the gamma family (ops/special.py)
    lgamma, digamma, mvlgamma, igamma, igammac = lgamma, digamma, mvlgamma, igamma, igammac
    lgamma_, digamma_ = _in_place("lgamma_", lgamma), _in_place("digamma_", digamma)
    mvlgamma_ = _in_place("mvlgamma_", mvlgamma)
    i0, i0_ = i0, _in_place("i0_", i0)
    igamma_, igammac_ = _in_place("igamma_", igamma), _in_place("igammac_", igammac)

    def polygamma(self, n):
        """ψ⁽ⁿ⁾ of this tensor (torch's method takes n first)."""
        return polygamma(n, self)

    def polygamma_(self, n):
        return self._inplace("polygamma_", lambda x: polygamma(n, x))

    # linear algebra (ops/matrix.py)
    norm, det, slogdet, inverse = tensor_norm, det, slogdet, inv
    logdet, matrix_power, adjoint, cross, dist = logdet, matrix_power, adjoint, cross, dist
    cholesky, cholesky_solve, cholesky_inverse = cholesky_legacy, cholesky_solve, cholesky_inverse
    matrix_exp, triangular_solve, lu, lu_solve = (matrix_exp, triangular_solve, lu_legacy,
                                                  lu_solve_legacy)
    qr, svd, geqrf, orgqr, ormqr = qr_legacy, svd_uv, geqrf, orgqr, ormqr
    # (names torch keeps only to raise, pointing at their torch.linalg replacements)
    solve, lstsq, eig, symeig = solve_removed, lstsq_removed, eig_removed, symeig_removed

    def pinverse(self, rcond=1e-15):
        """The pseudo-inverse, singular values below rcond·σ_max dropped (torch.pinverse)."""
        return pinv(self, rtol=rcond)

    # moving elements (ops/rearrange.py)
    roll, diagonal, diag, diag_embed, diagflat, trace = roll, diagonal, diag, diag_embed, diagflat, trace
    unfold, repeat_interleave, fliplr, flipud, rot90 = unfold, repeat_interleave, fliplr, flipud, rot90

    # ordering (ops/sorting.py) and writing by index (ops/scatter.py)
    sort, argsort, msort, topk, kthvalue = sort, argsort, msort, topk, kthvalue
    median, nanmedian, mode, cummax, cummin = median, nanmedian, mode, cummax, cummin
    scatter, scatter_reduce, index_add, index_copy = scatter, scatter_reduce, index_add, index_copy
    index_reduce = index_reduce
    index_fill, index_put, masked_scatter, masked_select = (index_fill, index_put, masked_scatter,
                                                            masked_select)
    nonzero, argwhere, unique, unique_consecutive = nonzero, argwhere, unique, unique_consecutive
    slice_scatter, select_scatter, diagonal_scatter = (slice_scatter, select_scatter,
                                                       diagonal_scatter)
    frexp, histogram = frexp, histogram

    def split_with_sizes(self, split_sizes, dim=0):
        """Pieces of the given sizes along ``dim`` (they must sum to its size): ``split`` with a
        list of sizes."""
        if isinstance(split_sizes, int) or [s for s in split_sizes if not isinstance(s, int)]:
            raise TypeError(f"split_with_sizes(): argument 'split_sizes' must be a sequence of "
                            f"ints, not {split_sizes!r}")
        if [s for s in split_sizes if s < 0]:   # (``any`` here is the tensor reduction)
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={list(split_sizes)}")
        return split(self, list(split_sizes), dim)

    unsafe_split_with_sizes = split_with_sizes
    unsafe_split, unsafe_chunk, narrow_copy = unsafe_split, unsafe_chunk, narrow_copy
    as_strided, as_strided_scatter, nonzero_static = as_strided, as_strided_scatter, nonzero_static

    # conjugation: the identity on chainrule's real dtypes (ops/composite.py)
    conj, conj_physical, resolve_conj, resolve_neg = conj, conj, conj, conj
    is_conj, is_neg = is_conj, is_neg

    def conj_physical_(self):
        """In-place conjugation: nothing to do on a real tensor; returns ``self``."""
        return self

    # composites (ops/composite.py)
    addbmm, addcdiv, addcmul, addmv, addr, baddbmm = addbmm, addcdiv, addcmul, addmv, addr, baddbmm
    clamp_min, clamp_max, reciprocal, positive, sgn, signbit = (clamp_min, clamp_max, reciprocal,
                                                                positive, sgn, signbit)
    logit, sinc, deg2rad, rad2deg, fmax, fmin = logit, sinc, deg2rad, rad2deg, fmax, fmin
    float_power, nan_to_num, nansum, nanmean = float_power, nan_to_num, nansum, nanmean
    tensor_split, hsplit, vsplit, dsplit = tensor_split, hsplit, vsplit, dsplit

    def tile(self, *dims, **kwargs):
        """Tensor.tile(*dims): the method takes the reps as varargs or one sequence (torch)."""
        if kwargs:
            return tile(self, *dims, **kwargs)
        if not dims:
            raise TypeError('tile() missing 1 required positional arguments: "dims"')
        return tile(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)
    movedim, moveaxis, swapdims, ravel, select = movedim, moveaxis, swapdims, ravel, select
    take, take_along_dim, inner, vdot, kron, diff = take, take_along_dim, inner, vdot, kron, diff
    ldexp, nextafter, put = ldexp, nextafter, put
    ldexp_, put_ = _in_place("ldexp_", ldexp), _in_place("put_", put)
    nextafter_ = _in_place("nextafter_", nextafter)
    cov, corrcoef, isin, histc, bincount = cov, corrcoef, isin, histc, bincount
    is_nonzero, is_same_size, is_signed = is_nonzero, is_same_size, is_signed
    isreal, renorm = isreal, renorm
    absolute, greater, less, greater_equal, less_equal, not_equal = abs, gt, lt, ge, le, ne

    # in place: computed out of place, then written into this tensor's memory (relu_, the
    # in-place op of every CNN's ReLU(inplace=True), straight into it when nothing is recorded:
    # 132 → 55 µs on 2 MB)
    add_, sub_, mul_, div_ = (_in_place("add_", add), _in_place("sub_", sub),
                              _in_place("mul_", mul), _in_place("div_", div))
    pow_, neg_, clamp_, relu_ = (_in_place("pow_", pow), _in_place("neg_", neg),
                                 _in_place("clamp_", clamp), _in_place("relu_", relu, ReluInPlace))
    exp_, sqrt_, sigmoid_, tanh_ = (_in_place("exp_", exp), _in_place("sqrt_", sqrt),
                                    _in_place("sigmoid_", sigmoid), _in_place("tanh_", tanh))
    masked_fill_ = _in_place("masked_fill_", masked_fill)
    scatter_, scatter_add_, scatter_reduce_ = (_in_place("scatter_", scatter),
                                               _in_place("scatter_add_", scatter_add),
                                               _in_place("scatter_reduce_", scatter_reduce))
    index_add_, index_copy_, index_fill_, index_put_ = (
        _in_place("index_add_", index_add), _in_place("index_copy_", index_copy),
        _in_place("index_fill_", index_fill), _in_place("index_put_", index_put))
    index_reduce_ = _in_place("index_reduce_", index_reduce)
    masked_scatter_ = _in_place("masked_scatter_", masked_scatter)
    abs_, absolute_, sign_, sgn_ = (_in_place("abs_", abs), _in_place("absolute_", abs),
                                    _in_place("sign_", sign), _in_place("sgn_", sgn))
    log_, log1p_, log2_, log10_ = (_in_place("log_", log), _in_place("log1p_", log1p),
                                   _in_place("log2_", log2), _in_place("log10_", log10))
    expm1_, exp2_, rsqrt_, square_ = (_in_place("expm1_", expm1), _in_place("exp2_", exp2),
                                      _in_place("rsqrt_", rsqrt), _in_place("square_", square))
    sin_, cos_, tan_, asin_, acos_, atan_ = (
        _in_place("sin_", sin), _in_place("cos_", cos), _in_place("tan_", tan),
        _in_place("asin_", asin), _in_place("acos_", acos), _in_place("atan_", atan))
    sinh_, cosh_, asinh_, acosh_, atanh_ = (
        _in_place("sinh_", sinh), _in_place("cosh_", cosh), _in_place("asinh_", asinh),
        _in_place("acosh_", acosh), _in_place("atanh_", atanh))
    arcsin_, arccos_, arctan_, arcsinh_, arccosh_, arctanh_ = (
        _in_place("arcsin_", asin), _in_place("arccos_", acos), _in_place("arctan_", atan),
        _in_place("arcsinh_", asinh), _in_place("arccosh_", acosh), _in_place("arctanh_", atanh))
    floor_, ceil_, round_, trunc_, fix_, frac_ = (
        _in_place("floor_", floor), _in_place("ceil_", ceil), _in_place("round_", round),
        _in_place("trunc_", trunc), _in_place("fix_", trunc), _in_place("frac_", frac))
    erf_, erfinv_, reciprocal_, negative_ = (_in_place("erf_", erf), _in_place("erfinv_", erfinv),
                                             _in_place("reciprocal_", reciprocal),
                                             _in_place("negative_", neg))
    erfc_, renorm_, heaviside_ = (_in_place("erfc_", erfc), _in_place("renorm_", renorm),
                                  _in_place("heaviside_", heaviside))
    gcd_, lcm_ = _in_place("gcd_", gcd), _in_place("lcm_", lcm)
    clamp_min_, clamp_max_, clip_ = (_in_place("clamp_min_", clamp_min),
                                     _in_place("clamp_max_", clamp_max), _in_place("clip_", clamp))
    logit_, sinc_, deg2rad_, rad2deg_, nan_to_num_ = (
        _in_place("logit_", logit), _in_place("sinc_", sinc), _in_place("deg2rad_", deg2rad),
        _in_place("rad2deg_", rad2deg), _in_place("nan_to_num_", nan_to_num))
    subtract_, multiply_, divide_, true_divide_ = (
        _in_place("subtract_", sub), _in_place("multiply_", mul), _in_place("divide_", div),
        _in_place("true_divide_", div))
    floor_divide_, remainder_, fmod_ = (_in_place("floor_divide_", floor_divide),
                                        _in_place("remainder_", remainder), _in_place("fmod_", fmod))
    atan2_, arctan2_, hypot_, copysign_ = (_in_place("atan2_", atan2), _in_place("arctan2_", atan2),
                                           _in_place("hypot_", hypot),
                                           _in_place("copysign_", copysign))
    lerp_, xlogy_, float_power_ = (_in_place("lerp_", lerp), _in_place("xlogy_", xlogy),
                                   _in_place("float_power_", float_power))
    addcmul_, addcdiv_, addmv_, addr_ = (_in_place("addcmul_", addcmul),
                                         _in_place("addcdiv_", addcdiv),
                                         _in_place("addmv_", addmv), _in_place("addr_", addr))
    baddbmm_, addbmm_, addmm_ = (_in_place("baddbmm_", baddbmm), _in_place("addbmm_", addbmm),
                                 _in_place("addmm_", addmm))
    eq_, ne_, lt_, le_, gt_, ge_ = (_in_place("eq_", eq), _in_place("ne_", ne),
                                    _in_place("lt_", lt), _in_place("le_", le),
                                    _in_place("gt_", gt), _in_place("ge_", ge))
    greater_, greater_equal_, less_, less_equal_, not_equal_ = (
        _in_place("greater_", gt), _in_place("greater_equal_", ge), _in_place("less_", lt),
        _in_place("less_equal_", le), _in_place("not_equal_", ne))
    logical_and_, logical_or_, logical_not_ = (_in_place("logical_and_", logical_and),
                                               _in_place("logical_or_", logical_or),
                                               _in_place("logical_not_", logical_not))
    logical_xor_ = _in_place("logical_xor_", logical_xor)
    tril_, triu_, cumsum_, cumprod_ = (_in_place("tril_", tril), _in_place("triu_", triu),
                                       _in_place("cumsum_", cumsum), _in_place("cumprod_", cumprod))

    def fill_(self, value):
        """Set every element to ``value`` (a number or a 0-d tensor)."""
        if hasattr(value, "_data") and value._data.ndim != 0:
            raise RuntimeError(f"fill_: only supports a 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions (shape {tuple(value.shape)})")
        value = value._data if hasattr(value, "_data") else value
        return self._inplace("fill_", lambda x: x._make(np.full(x._data.shape, value, x._data.dtype)))

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast) into this tensor; differentiable w.r.t. ``src``."""
        if not hasattr(src, "_data"):
            raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
        return self._inplace("copy_", lambda x: broadcast_to(src.to(x.dtype), tuple(x.shape)))

    # operators
    __add__, __sub__, __mul__, __truediv__ = add, sub, mul, div
    __floordiv__, __mod__, __pow__, __matmul__ = floor_divide, remainder, pow, matmul
    __radd__, __rsub__, __rmul__, __rtruediv__ = (_reflected(add), _reflected(sub),
                                                  _reflected(mul), _reflected(div))
    __rfloordiv__, __rmod__, __rpow__, __rmatmul__ = (_reflected(floor_divide),
                                                      _reflected(remainder), _reflected(pow),
                                                      _reflected(matmul))
    __iadd__, __isub__ = _in_place("__iadd__", add), _in_place("__isub__", sub)
    __imul__, __itruediv__ = _in_place("__imul__", mul), _in_place("__itruediv__", div)
    __ipow__ = _in_place("__ipow__", pow)
    __neg__, __abs__, __invert__, __getitem__ = neg, abs, bitwise_not, getitem

    def __pos__(self):
        return self

    __eq__, __ne__ = _equality(eq), _equality(ne)
    __lt__, __le__, __gt__, __ge__ = lt, le, gt, ge
    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor
    __rand__, __ror__ = _reflected(bitwise_and), _reflected(bitwise_or)
    __rxor__ = _reflected(bitwise_xor)
    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift
    __rlshift__, __rrshift__ = _reflected(bitwise_left_shift), _reflected(bitwise_right_shift)
    __iand__, __ior__, __ixor__ = (_in_place("__iand__", bitwise_and), _in_place("__ior__", bitwise_or),
                                   _in_place("__ixor__", bitwise_xor))
    __ilshift__, __irshift__ = (_in_place("__ilshift__", bitwise_left_shift),
                                _in_place("__irshift__", bitwise_right_shift))
    bitwise_and, bitwise_or, bitwise_xor, bitwise_not = bitwise_and, bitwise_or, bitwise_xor, bitwise_not
    bitwise_left_shift, bitwise_right_shift = bitwise_left_shift, bitwise_right_shift
    bitwise_and_, bitwise_or_, bitwise_xor_, bitwise_not_ = (
        _in_place("bitwise_and_", bitwise_and), _in_place("bitwise_or_", bitwise_or),
        _in_place("bitwise_xor_", bitwise_xor), _in_place("bitwise_not_", bitwise_not))
    bitwise_left_shift_, bitwise_right_shift_ = (_in_place("bitwise_left_shift_", bitwise_left_shift),
                                                 _in_place("bitwise_right_shift_", bitwise_right_shift))
