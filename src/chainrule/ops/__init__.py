"""The differentiable primitives and the functions built on them.

Each primitive (a :class:`~chainrule.autograd.node.Node` subclass) keeps its forward, VJP and
JVP rules together in one of: ``elementwise``, ``reduction``, ``shape``, ``indexing``,
``linalg``, ``softmax``. This module also attaches them to :class:`Tensor` as methods and
Python operators.
"""
from __future__ import annotations

from ..tensor import Tensor
from . import elementwise as _ew
from . import indexing as _ix
from . import linalg as _la
from . import reduction as _red
from . import shape as _sh
from . import softmax as _sm
from .elementwise import (abs, add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor,
                          cast, ceil, clamp, clip, cos, div, eq, equal, erf, exp, expm1, floor,
                          floor_divide, ge, gt, isfinite, isinf, isnan, le, log, log1p, logical_and,
                          logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg,
                          pow, relu, remainder, round, rsqrt, sigmoid, sign, sin, sqrt, sub,
                          tanh, true_divide, where)
from .indexing import gather, getitem, index_select, masked_fill, scatter_add
from .linalg import addmm, bmm, dot, ger, matmul, mm, mv, outer
from .reduction import (all, amax, amin, any, argmax, argmin, count_nonzero, cumsum, logsumexp,
                        max, mean, min, prod, std, std_mean, sum, var, var_mean)
from .shape import (alias, broadcast_tensors, broadcast_to, cat, chunk, clone, concat, expand,
                    flatten, flip, narrow, pad, permute, repeat, reshape, split, squeeze, stack,
                    swapaxes, t, transpose, tril, triu, unbind, unflatten, unsqueeze, view)
from .softmax import log_softmax, softmax

subtract, multiply, divide, negative = sub, mul, div, neg
absolute, greater, less, greater_equal, less_equal, not_equal = abs, gt, lt, ge, le, ne

def square(input):
    """x² elementwise."""
    return pow(input, 2)


def _reflected(fn):
    def r(self, other):
        return fn(other, self)
    return r


def _inplace(op, fn):
    def method(self, *args, **kwargs):
        return self._inplace(op, lambda x: fn(x, *args, **kwargs))
    method.__name__ = op
    return method


def _size_args(fn):
    """Methods taking sizes as varargs or one tuple: x.view(2, 3) or x.view((2, 3))."""
    def method(self, *sizes):
        return fn(self, *sizes)
    method.__name__ = fn.__name__
    return method


def _fill_(self, value):
    with_value = value._data if isinstance(value, Tensor) else value
    return self._inplace("fill_", lambda x: _full_like_graphless(x, with_value))


def _full_like_graphless(x, value):
    import numpy as np
    return Tensor._make(np.full(x._data.shape, value, dtype=x._data.dtype))


def _zero_(self):
    return _fill_(self, 0)


def _copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast) into this tensor; differentiable w.r.t. ``src``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
    return self._inplace("copy_", lambda x: broadcast_to(src.to(x.dtype), tuple(x.shape)))


def _random_fill(name, sample):
    def method(self, *args, generator=None, **kwargs):
        from ..random import _rng
        rng = _rng(generator)
        return self._inplace(name, lambda x: Tensor._make(
            sample(rng, x._data.shape, *args, **kwargs).astype(x._data.dtype)))
    method.__name__ = name
    return method


_METHODS = {
    # arithmetic
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg,
    "subtract": sub, "multiply": mul, "divide": div, "negative": neg, "true_divide": true_divide,
    "floor_divide": floor_divide, "remainder": remainder, "square": square,
    "maximum": maximum, "minimum": minimum, "where": lambda self, cond, other: where(cond, self, other),
    "exp": exp, "log": log, "log1p": log1p, "expm1": expm1, "sqrt": sqrt, "rsqrt": rsqrt,
    "abs": abs, "sign": sign, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid,
    "relu": relu, "erf": erf, "clamp": clamp, "clip": clamp, "floor": floor, "ceil": ceil,
    "round": round,
    # comparisons
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "logical_and": logical_and, "logical_or": logical_or,
    "logical_not": logical_not, "equal": equal, "allclose": allclose,
    # reductions
    "sum": sum, "mean": mean, "prod": prod, "max": max, "min": min, "amax": amax, "amin": amin,
    "argmax": argmax, "argmin": argmin, "var": var, "std": std, "logsumexp": logsumexp,
    "all": all, "any": any, "cumsum": cumsum, "count_nonzero": count_nonzero,
    "softmax": softmax, "log_softmax": log_softmax,
    # shape
    "reshape": _size_args(reshape), "view": _size_args(view), "flatten": flatten,
    "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "permute": _size_args(permute), "transpose": transpose, "swapaxes": transpose, "t": t,
    "expand": _size_args(expand), "broadcast_to": broadcast_to, "repeat": _size_args(repeat),
    "narrow": narrow, "split": split, "chunk": chunk, "unbind": unbind, "clone": clone,
    "flip": flip, "tril": tril, "triu": triu,
    "expand_as": lambda self, other: expand(self, tuple(other.shape)),
    "view_as": lambda self, other: view(self, tuple(other.shape)),
    "reshape_as": lambda self, other: reshape(self, tuple(other.shape)),
    "type_as": lambda self, other: self.to(other.dtype),
    # indexing & linear algebra
    "gather": gather, "index_select": index_select, "masked_fill": masked_fill,
    "scatter_add": scatter_add,
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "outer": outer,
    # in-place
    "add_": _inplace("add_", add), "sub_": _inplace("sub_", sub), "mul_": _inplace("mul_", mul),
    "div_": _inplace("div_", div), "pow_": _inplace("pow_", pow), "neg_": _inplace("neg_", neg),
    "clamp_": _inplace("clamp_", clamp), "relu_": _inplace("relu_", relu),
    "exp_": _inplace("exp_", exp), "sqrt_": _inplace("sqrt_", sqrt),
    "sigmoid_": _inplace("sigmoid_", sigmoid), "tanh_": _inplace("tanh_", tanh),
    "masked_fill_": _inplace("masked_fill_", masked_fill),
    "fill_": _fill_, "zero_": _zero_, "copy_": _copy_,
    "uniform_": _random_fill("uniform_", lambda rng, shape, a=0.0, b=1.0: rng.uniform(a, b, shape)),
    "normal_": _random_fill("normal_", lambda rng, shape, mean=0.0, std=1.0:
                            rng.normal(mean, std, shape)),
    "bernoulli_": _random_fill("bernoulli_", lambda rng, shape, p=0.5: rng.random(shape) < p),
    "exponential_": _random_fill("exponential_", lambda rng, shape, lambd=1.0:
                                 rng.exponential(1 / lambd, shape)),
}

_OPERATORS = {
    "__add__": add, "__radd__": _reflected(add), "__iadd__": _inplace("__iadd__", add),
    "__sub__": sub, "__rsub__": _reflected(sub), "__isub__": _inplace("__isub__", sub),
    "__mul__": mul, "__rmul__": _reflected(mul), "__imul__": _inplace("__imul__", mul),
    "__truediv__": div, "__rtruediv__": _reflected(div), "__itruediv__": _inplace("__itruediv__", div),
    "__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide),
    "__mod__": remainder, "__rmod__": _reflected(remainder),
    "__pow__": pow, "__rpow__": _reflected(pow), "__ipow__": _inplace("__ipow__", pow),
    "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs,
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__rand__": _reflected(bitwise_and), "__ror__": _reflected(bitwise_or),
    "__invert__": bitwise_not, "__getitem__": getitem,
}

for _name, _fn in {**_METHODS, **_OPERATORS}.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(lambda self: permute(self, tuple(reversed(range(self.ndim)))),
                    doc="All dims reversed (the transpose of a matrix).")
Tensor.mT = property(lambda self: transpose(self, -2, -1),
                     doc="The last two dims swapped (a batch of transposed matrices).")
Tensor.__hash__ = object.__hash__
