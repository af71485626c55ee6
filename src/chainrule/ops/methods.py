"""The method table of :class:`chainrule.Tensor`: which function each method and operator is.

``Tensor`` inherits this class, so ``x.sum(1)`` is :func:`chainrule.ops.reduction.sum` and
``a @ b`` is :func:`chainrule.ops.linalg.matmul` — one place to read the whole surface, and
no method attached at run time.
"""
from __future__ import annotations

import numpy as np

from .elementwise import (abs, add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor,
                          ceil, clamp, cos, div, eq, equal, erf, exp, expm1, floor, floor_divide,
                          ge, gt, isfinite, isinf, isnan, le, log, log1p, logical_and,
                          logical_not, logical_or, lt, maximum, minimum, mul, ne, neg, pow, relu,
                          remainder, round, rsqrt, sigmoid, sign, sin, sqrt, square, sub, tanh,
                          true_divide, where)
from .indexing import gather, getitem, index_select, masked_fill, scatter_add
from .linalg import bmm, dot, matmul, mm, mv, outer
from .reduction import (all, amax, amin, any, argmax, argmin, count_nonzero, cumsum, logsumexp,
                        max, mean, min, prod, std, sum, var)
from .shape import (broadcast_to, chunk, clone, expand, flatten, flip, narrow, permute, repeat,
                    reshape, split, squeeze, t, transpose, tril, triu, unbind, unflatten,
                    unsqueeze, view)
from .softmax import log_softmax, softmax
from .elementwise import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                          arctanh, asin, asinh, atan, atan2, atanh, copysign, cosh, erfinv, exp2,
                          fix, fmod, frac, hypot, isclose, isneginf, isposinf, lerp, log2, log10,
                          logaddexp, logaddexp2, sinh, tan, trunc, xlogy)
from .reduction import cumprod, logcumsumexp


def _reflected(fn):
    """``other ∘ self`` for the reflected operators (2 - x calls x.__rsub__(2))."""
    def method(self, other):
        return fn(other, self)
    method.__name__ = f"__r{fn.__name__}__"
    return method


def _in_place(op, fn):
    """``x.op_(...)``: ``fn`` computed out of place, written into x (see Tensor._inplace)."""
    def method(self, *args, **kwargs):
        return self._inplace(op, lambda x: fn(x, *args, **kwargs))
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
    clamp, clip, floor, ceil, round = clamp, clamp, floor, ceil, round
    tan, asin, acos, atan, sinh, cosh = tan, asin, acos, atan, sinh, cosh
    asinh, acosh, atanh, trunc, fix, frac = asinh, acosh, atanh, trunc, fix, frac
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh
    log2, log10, exp2, erfinv = log2, log10, exp2, erfinv
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

    # reductions
    sum, mean, prod, max, min, amax, amin = sum, mean, prod, max, min, amax, amin
    argmax, argmin, var, std, logsumexp = argmax, argmin, var, std, logsumexp
    all, any, cumsum, count_nonzero = all, any, cumsum, count_nonzero
    cumprod, logcumsumexp = cumprod, logcumsumexp
    softmax, log_softmax = softmax, log_softmax

    # shape
    reshape, view, flatten, unflatten, squeeze, unsqueeze = (reshape, view, flatten, unflatten,
                                                              squeeze, unsqueeze)
    permute, transpose, swapaxes, t = permute, transpose, transpose, t
    expand, broadcast_to, repeat, narrow, split, chunk = expand, broadcast_to, repeat, narrow, split, chunk
    unbind, clone, flip, tril, triu = unbind, clone, flip, tril, triu

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
        """All dims reversed (the transpose of a matrix)."""
        return permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        """The last two dims swapped (a batch of transposed matrices)."""
        return transpose(self, -2, -1)

    # indexing and linear algebra
    gather, index_select, masked_fill, scatter_add = gather, index_select, masked_fill, scatter_add
    matmul, mm, bmm, mv, dot, outer = matmul, mm, bmm, mv, dot, outer

    # in place: computed out of place, then written into this tensor's memory
    add_, sub_, mul_, div_ = (_in_place("add_", add), _in_place("sub_", sub),
                              _in_place("mul_", mul), _in_place("div_", div))
    pow_, neg_, clamp_, relu_ = (_in_place("pow_", pow), _in_place("neg_", neg),
                                 _in_place("clamp_", clamp), _in_place("relu_", relu))
    exp_, sqrt_, sigmoid_, tanh_ = (_in_place("exp_", exp), _in_place("sqrt_", sqrt),
                                    _in_place("sigmoid_", sigmoid), _in_place("tanh_", tanh))
    masked_fill_ = _in_place("masked_fill_", masked_fill)

    def fill_(self, value):
        """Set every element to ``value``."""
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

    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = eq, ne, lt, le, gt, ge
    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor
    __rand__, __ror__ = _reflected(bitwise_and), _reflected(bitwise_or)
