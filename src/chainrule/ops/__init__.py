"""The differentiable primitives and the functions built on them.

Each primitive (a :class:`~chainrule._graph.Node` subclass) declares its forward and its
derivative rule together in one of: ``elementwise``, ``reduction``, ``shape``, ``indexing``,
``linalg``, ``softmax``; ``methods`` is the table that makes them Tensor methods and operators.
"""
from __future__ import annotations

from .elementwise import (abs, add, allclose, bitwise_and, bitwise_left_shift, bitwise_not,
                          bitwise_or, bitwise_right_shift, bitwise_xor,
                          cast, ceil, clamp, clip, cos, div, eq, equal, erf, erfc, exp, expm1,
                          floor, floor_divide, gcd, ge, gt, heaviside, isfinite, isinf, isnan, lcm,
                          le, log, log1p, logical_and, logical_not, logical_or, logical_xor, lt,
                          maximum, minimum, mul, ne, neg, pow, relu, remainder, round, rsqrt,
                          sigmoid, sign, sin, sqrt, square, sub, tanh, true_divide, where)
from .indexing import gather, getitem, index_select, masked_fill, scatter_add
from .linalg import addmm, bmm, dot, ger, matmul, mm, mv, outer
from .reduction import (aminmax, all, amax, amin, any, argmax, argmin, count_nonzero, cumsum,
                        logsumexp, max, mean, min, prod, std, std_mean, sum, var, var_mean)
from .shape import (alias, broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, clone,
                    concat, concatenate, expand, flatten, flip, narrow, pad, permute, repeat,
                    reshape, split, squeeze, stack, swapaxes, t, transpose, tril, triu, unbind,
                    unflatten, unsqueeze, view)
from .softmax import log_softmax, softmax
from .elementwise import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                          arctanh, asin, asinh, atan, atan2, atanh, copysign, cosh, erfinv, exp2,
                          fix, fmod, frac, hypot, isclose, isneginf, isposinf, lerp, log2, log10,
                          logaddexp, logaddexp2, sinh, tan, trunc, xlogy)
from .reduction import cumprod, logcumsumexp
from .rearrange import (diag, diag_embed, diagflat, diagonal, trace, fliplr, flipud, meshgrid,
                        repeat_interleave, roll, rot90)
from .einsum import einsum
from .special import digamma, i0, igamma, igammac, lgamma, mvlgamma, polygamma
from .matrix import det, inv as inverse, logdet, matrix_power, pinv as _pinv, slogdet
from .matrix import svd_uv as svd
from .matrix import (cholesky_inverse, cholesky_legacy as cholesky, cholesky_solve,
                     lu_legacy as lu, lu_solve_legacy as lu_solve, lu_unpack, matrix_exp,
                     triangular_solve)
from .matrix import (chain_matmul, eig_removed as eig, geqrf, lstsq_removed as lstsq,
                     matrix_rank_removed as matrix_rank, orgqr, ormqr, qr_legacy as qr,
                     solve_removed as solve, symeig_removed as symeig)


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, singular values below rcond·σ_max dropped (torch.pinverse)."""
    return _pinv(input, rtol=rcond)
from .sorting import (argsort, cummax, cummin, kthvalue, median, mode, msort, nanmedian, sort,
                      topk)
from .scatter import (argwhere, index_add, index_copy, index_fill, index_put, index_reduce,
                      masked_scatter, masked_select, nonzero, scatter, scatter_reduce, unique,
                      unique_consecutive)
from .scatter import diagonal_scatter, select_scatter, slice_scatter
from .elementwise import frexp
from .composite import fill, histogram, histogramdd
from .composite import (addbmm, addcdiv, addcmul, addmv, addr, atleast_1d, atleast_2d, atleast_3d,
                        baddbmm, bincount, block_diag, bucketize, cartesian_prod, clamp_max,
                        clamp_min, column_stack, combinations, corrcoef, cov, deg2rad, diff,
                        dsplit, dstack, float_power, fmax, fmin, gradient, histc, hsplit, hstack,
                        inner,
                        is_nonzero, is_same_size, is_signed, isin, kron, ldexp, logit, moveaxis,
                        movedim, nan_to_num, nanmean, nansum, nextafter, positive, put, rad2deg,
                        ravel, reciprocal, row_stack, rsub, searchsorted, select, sgn, signbit,
                        sinc, swapdims, take,
                        take_along_dim, tensor_split, tensordot, tile, vander, vdot, vsplit,
                        vstack)
from .composite import (alias_copy, as_strided_copy, conj, conj_physical, detach_copy,
                        diagonal_copy, expand_copy, is_conj, is_neg, narrow_copy, permute_copy,
                        resolve_conj, resolve_neg, select_copy, slice_copy, split_copy,
                        split_with_sizes_copy, squeeze_copy, t_copy, transpose_copy, unbind_copy,
                        unfold_copy, unsqueeze_copy, view_copy)
from .scatter import nonzero_static
from .shape import (as_strided, as_strided_scatter, constant_pad_nd, unsafe_chunk, unsafe_split,
                    unsafe_split_with_sizes)
from .composite import (adjoint, cdist, cross, cumulative_trapezoid, dist, isreal, nanquantile,
                        quantile, renorm, trapezoid, trapz)

subtract, multiply, divide, negative = sub, mul, div, neg
absolute, greater, less, greater_equal, less_equal, not_equal = abs, gt, lt, ge, le, ne

# torch's out= keyword on the namespace functions that take it in torch (Tensor methods take
# none): one wrapper, see chainrule._argcompat. The primitives' own modules stay unwrapped.
from .._argcompat import with_out as _with_out  # noqa: E402

_OUT_OPS = (
    "abs", "absolute", "acos", "acosh", "add", "addmm", "all", "amax", "amin", "any", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "asin",
    "asinh", "atan", "atan2", "atanh", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor",
    "bmm", "cat", "ceil", "clamp", "clip", "concat", "concatenate", "copysign", "cos", "cosh",
    "cross", "cumprod", "cumsum", "div", "divide", "dot", "eq", "erf", "erfc", "erfinv", "exp",
    "exp2", "expm1", "fix", "floor", "floor_divide", "fmod", "frac", "gather", "gcd", "ge", "ger",
    "greater", "greater_equal", "gt", "heaviside", "hypot", "i0", "index_select", "isneginf",
    "isposinf", "lcm", "le", "lerp", "less", "less_equal", "log", "log10", "log1p", "log2",
    "logaddexp", "logaddexp2", "logcumsumexp", "logical_and", "logical_not", "logical_or",
    "logical_xor",
    "logsumexp", "lt", "matmul", "matrix_power", "max", "maximum", "mean", "min", "minimum", "mm",
    "mul", "multiply", "mv", "nanquantile", "ne", "neg", "negative", "not_equal", "outer", "pow",
    "prod", "quantile", "remainder", "renorm", "round", "rsqrt", "sigmoid", "sign", "sin", "sinh",
    "sqrt", "square", "stack", "std", "sub", "subtract", "sum", "tan", "tanh", "tril", "triu",
    "true_divide", "trunc", "var", "where", "xlogy")
for _name in _OUT_OPS:
    globals()[_name] = _with_out(globals()[_name], _name)
del _name


def _function_of(method):
    """torch.abs_(x) and friends: the in-place method as a function."""
    def fn(input, *args, **kwargs):
        return getattr(input, method)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = method
    fn.__doc__ = f"``input.{method}(...)``: the in-place method, as a function (torch.{method})."
    return fn


(abs_, neg_, exp_, log_, sqrt_, rsqrt_, sin_, cos_, tan_, tanh_, sigmoid_, relu_, clamp_,
 floor_, ceil_, round_, trunc_, frac_, reciprocal_, sign_, square_, erf_, log1p_, expm1_,
 zero_, fill_, clamp_min_, clamp_max_) = (_function_of(m) for m in (
    "abs_", "neg_", "exp_", "log_", "sqrt_", "rsqrt_", "sin_", "cos_", "tan_", "tanh_",
    "sigmoid_", "relu_", "clamp_", "floor_", "ceil_", "round_", "trunc_", "frac_", "reciprocal_",
    "sign_", "square_", "erf_", "log1p_", "expm1_", "zero_", "fill_", "clamp_min_", "clamp_max_"))
(acos_, acosh_, asin_, asinh_, atan_, atanh_, arccos_, arccosh_, arcsin_, arcsinh_, arctan_,
 arctanh_, cosh_, sinh_, log2_, log10_, exp2_, erfc_, fix_, negative_, clip_, deg2rad_, rad2deg_,
 sinc_, logit_, nan_to_num_, gcd_, lcm_, ldexp_, xlogy_, addmv_, index_put_, detach, detach_,
 is_inference, get_device) = (_function_of(m) for m in (
    "acos_", "acosh_", "asin_", "asinh_", "atan_", "atanh_", "arccos_", "arccosh_", "arcsin_",
    "arcsinh_", "arctan_", "arctanh_", "cosh_", "sinh_", "log2_", "log10_", "exp2_", "erfc_",
    "fix_", "negative_", "clip_", "deg2rad_", "rad2deg_", "sinc_", "logit_", "nan_to_num_",
    "gcd_", "lcm_", "ldexp_", "xlogy_", "addmv_", "index_put_", "detach", "detach_",
    "is_inference", "get_device"))
i0_, split_with_sizes = _function_of("i0_"), _function_of("split_with_sizes")
conj_physical_ = _function_of("conj_physical_")

from ._aten import aten, prim, prims   # torch.ops.aten, .prims, .prim: operators by schema name
from ._aten import CUSTOM_NAMESPACES as _CUSTOM_NAMESPACES  # noqa: E402


def __getattr__(name):
    """``ops.<namespace>`` for a namespace of operators defined with chainrule.library."""
    namespace = _CUSTOM_NAMESPACES.get(name)
    if namespace is None:
        raise AttributeError(f"module 'chainrule.ops' has no attribute '{name}' (no operator "
                             "namespace of that name was defined with chainrule.library)")
    return namespace
