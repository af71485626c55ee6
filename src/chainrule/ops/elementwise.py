"""Elementwise primitives: their forward on arrays, VJP and JVP rules side by side.

For y = f(x) elementwise the Jacobian is diagonal, so the VJP is ḡ·f'(x) and the JVP is
f'(x)·ẋ — the same product; binary ops broadcast, and the VJP undoes it with `unbroadcast`.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.node import Node, plain_backward
from ..tensor import Tensor
from ._util import (check_tensor, fresh_grad, operands, scalar_tensor, sum_tangents, to_float,
                    unbroadcast)


def _apply_binary(cls, a, b, op):
    try:
        return cls.apply(a, b)
    except ValueError:
        try:
            np.broadcast_shapes(a._data.shape, b._data.shape)
        except ValueError:
            raise ValueError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                             "broadcast together") from None
        raise


def _binary_shapes(node, a, b):
    node.shapes = (a.shape, b.shape)


# ---------------------------------------------------------------------------- binary
class Add(Node):
    save_inputs = False

    def forward(self, a, b):
        _binary_shapes(self, a, b)
        return a + b

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if na else None,
                unbroadcast(g, self.shapes[1]) if nb else None)

    def jvp(self, ta, tb):
        return sum_tangents(self._out.shape, ta, tb)


class Sub(Node):
    save_inputs = False

    def forward(self, a, b):
        _binary_shapes(self, a, b)
        return a - b

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if na else None,
                unbroadcast(-g, self.shapes[1]) if nb else None)

    def jvp(self, ta, tb):
        return sum_tangents(self._out.shape, ta, None if tb is None else -tb)


class Mul(Node):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        gd = g._data
        if gd.dtype == a._data.dtype == b._data.dtype and plain_backward():  # same, on arrays
            return (unbroadcast(fresh_grad(gd * b._data), a._data.shape) if na else None,
                    unbroadcast(fresh_grad(gd * a._data), b._data.shape) if nb else None)
        return (unbroadcast(g * b, a.shape) if na else None,
                unbroadcast(g * a, b.shape) if nb else None)

    def jvp(self, ta, tb):
        a, b = self.inputs
        return sum_tangents(self._out.shape, None if ta is None else ta * b,
                            None if tb is None else a * tb)


class Div(Node):
    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (unbroadcast(g / b, a.shape) if na else None,
                unbroadcast(-g * a / (b * b), b.shape) if nb else None)

    def jvp(self, ta, tb):
        a, b = self.inputs
        return sum_tangents(self._out.shape, None if ta is None else ta / b,
                            None if tb is None else -tb * a / (b * b))


class Pow(Node):
    """a ** b for two tensors: ∂/∂a = b·a^(b−1), ∂/∂b = a^b·log a (taken as 0 where a = 0, b ≥ 0)."""

    def forward(self, a, b):
        return a ** b

    def _dlog(self, a, b):
        # d(a^b)/db = a^b log a; at a = 0 the limit is 0 for b > 0, so avoid 0 * -inf = nan
        safe = where(a == 0, 1.0, a)
        return where((a == 0) & (b >= 0), 0.0, (a ** b) * log(safe))

    def backward(self, g):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (unbroadcast(g * b * a ** (b - 1), a.shape) if na else None,
                unbroadcast(g * self._dlog(a, b), b.shape) if nb else None)

    def jvp(self, ta, tb):
        a, b = self.inputs
        return sum_tangents(self._out.shape, None if ta is None else ta * b * a ** (b - 1),
                            None if tb is None else tb * self._dlog(a, b))


class PowScalar(Node):
    """x ** c for a Python number c: d/dx = c·x^(c−1)."""

    def forward(self, x):
        return x ** self.exponent

    def _derivative(self, x):
        c = self.exponent
        return zeros_like_(x) if c == 0 else c * x ** (c - 1) if c != 1 else ones_like_(x)

    def backward(self, g):
        return g * self._derivative(self.inputs[0])

    def jvp(self, t):
        return t * self._derivative(self.inputs[0])


class Maximum(Node):
    """max(a, b) elementwise; at ties each input gets half the gradient (as torch)."""

    pick_greater = True

    def forward(self, a, b):
        return np.maximum(a, b) if self.pick_greater else np.minimum(a, b)

    def _weights(self):
        a, b = self.inputs
        ad, bd = a._data, b._data
        wins = (ad > bd) if self.pick_greater else (ad < bd)
        wa = np.where(ad == bd, 0.5, wins).astype(ad.dtype)
        return Tensor._make(wa), Tensor._make((1 - wa).astype(ad.dtype))

    def backward(self, g):
        a, b = self.inputs
        wa, wb = self._weights()
        na, nb = self.needs_input_grad
        return (unbroadcast(g * wa, a.shape) if na else None,
                unbroadcast(g * wb, b.shape) if nb else None)

    def jvp(self, ta, tb):
        wa, wb = self._weights()
        return sum_tangents(self._out.shape, None if ta is None else ta * wa,
                            None if tb is None else tb * wb)


class Minimum(Maximum):
    pick_greater = False


def add(input, other, *, alpha=1) -> Tensor:
    """out = input + alpha · other (broadcasting)."""
    a, b = operands(input, other, "add")
    if alpha != 1:
        b = mul(b, alpha)
    return _apply_binary(Add, a, b, "add")


def _not_for_bool(a, op, exc=NotImplementedError, hint=""):
    """torch defines no arithmetic of this kind on bool tensors (the operands' common dtype)."""
    if a._data.dtype.kind == "b":
        raise exc(f"{op}: not supported for bool tensors{hint}")


def sub(input, other, *, alpha=1) -> Tensor:
    """out = input − alpha · other (broadcasting)."""
    for t in (input, other):     # torch refuses a bool tensor on either side, whatever the other
        if isinstance(t, Tensor):
            _not_for_bool(t, "sub", RuntimeError, "; use ^ (logical_xor) or ~ instead")
    a, b = operands(input, other, "sub")
    if alpha != 1:
        b = mul(b, alpha)
    return _apply_binary(Sub, a, b, "sub")


def mul(input, other) -> Tensor:
    """out = input · other elementwise (broadcasting)."""
    a, b = operands(input, other, "mul")
    return _apply_binary(Mul, a, b, "mul")


def div(input, other, *, rounding_mode=None) -> Tensor:
    """out = input / other (true division: integer inputs give float32, like torch)."""
    a, b = operands(input, other, "div")
    if rounding_mode is not None:
        return _rounded_div(a, b, rounding_mode)
    if a._data.dtype.kind != "f":
        a, b = to_float(a), to_float(b)
    return _apply_binary(Div, a, b, "div")


def _no_integer_zero_divisor(a, b, op):
    """Integer division by zero has no value (NumPy would return 0 with a warning): raise, as
    torch does. Floating division by zero gives ±inf or nan, as IEEE says."""
    if a._data.dtype.kind in "iub" and b._data.dtype.kind in "iub" and not b._data.all():
        raise RuntimeError(f"{op}: ZeroDivisionError (an integer divisor is zero)")


def _rounded_div(a, b, mode, op="div"):
    if mode not in ("floor", "trunc"):
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {mode!r}")
    _no_integer_zero_divisor(a, b, op)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.floor_divide(a._data, b._data) if mode == "floor" else np.trunc(a._data / b._data)
    return Tensor._make(q.astype(a._data.dtype))


def floor_divide(input, other) -> Tensor:
    """⌊input / other⌋ elementwise; not differentiable."""
    a, b = operands(input, other, "floor_divide")
    _not_for_bool(a, "floor_divide")
    return _rounded_div(a, b, "floor", "floor_divide")


def remainder(input, other) -> Tensor:
    """input − ⌊input/other⌋·other (Python's %, sign of the divisor); not differentiable."""
    a, b = operands(input, other, "remainder")
    _not_for_bool(a, "remainder")
    _no_integer_zero_divisor(a, b, "remainder")
    return Tensor._make(np.mod(a._data, b._data))


def true_divide(input, other) -> Tensor:
    return div(input, other)


def pow(input, exponent) -> Tensor:
    """out = input ** exponent; exponent a Python number or a tensor (broadcasting)."""
    if isinstance(exponent, Tensor) or not isinstance(input, Tensor):
        a, b = operands(input, exponent, "pow")
        _not_for_bool(a, "pow")
        return _apply_binary(Pow, a, b, "pow")
    check_tensor(input, "pow")
    if not isinstance(exponent, (int, float, np.number)) or isinstance(exponent, bool):
        raise TypeError(f"pow: exponent must be a Tensor or a number, got {type(exponent).__name__}")
    if input._data.dtype.kind != "f":
        if isinstance(exponent, float):
            input = to_float(input)
        elif exponent < 0:
            raise RuntimeError("pow: integers to negative integer powers are not allowed")
        elif input._data.dtype.kind == "b":          # bool ** int is int64 (torch's promotion)
            input = cast(input, _dtype.int64)
    return PowScalar.apply(input, exponent=exponent)


def maximum(input, other) -> Tensor:
    """Elementwise max(input, other); ties split the gradient evenly."""
    a, b = operands(input, other, "maximum")
    return _apply_binary(Maximum, a, b, "maximum")


def minimum(input, other) -> Tensor:
    """Elementwise min(input, other); ties split the gradient evenly."""
    a, b = operands(input, other, "minimum")
    return _apply_binary(Minimum, a, b, "minimum")


# ---------------------------------------------------------------------------- unary
class Neg(Node):
    save_inputs = False

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g

    def jvp(self, t):
        return -t


class Exp(Node):
    """y = eˣ, dy/dx = y."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        return np.exp(x)

    def backward(self, g):
        return g * self.output

    def jvp(self, t):
        return t * self.output


class Log(Node):
    """y = ln x, dy/dx = 1/x."""

    def forward(self, x):
        return np.log(x)

    def backward(self, g):
        return g / self.inputs[0]

    def jvp(self, t):
        return t / self.inputs[0]


class Log1p(Node):
    """y = ln(1 + x), dy/dx = 1/(1 + x); accurate for tiny x."""

    def forward(self, x):
        return np.log1p(x)

    def backward(self, g):
        return g / (1 + self.inputs[0])

    def jvp(self, t):
        return t / (1 + self.inputs[0])


class Expm1(Node):
    """y = eˣ − 1, dy/dx = y + 1; accurate for tiny x."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        return np.expm1(x)

    def backward(self, g):
        return g * (self.output + 1)

    def jvp(self, t):
        return t * (self.output + 1)


class Sqrt(Node):
    """y = √x, dy/dx = 1/(2y)."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, g):
        return g / (2 * self.output)

    def jvp(self, t):
        return t / (2 * self.output)


class Rsqrt(Node):
    """y = 1/√x, dy/dx = −y³/2."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        return 1 / np.sqrt(x)

    def backward(self, g):
        return -0.5 * g * self.output ** 3

    def jvp(self, t):
        return -0.5 * t * self.output ** 3


class Abs(Node):
    """y = |x|, dy/dx = sign(x) (0 at 0, as torch)."""

    def forward(self, x):
        return np.abs(x)

    def backward(self, g):
        return g * sign(self.inputs[0])

    def jvp(self, t):
        return t * sign(self.inputs[0])


class Sign(Node):
    """sign(x); the derivative is 0 (torch returns zero gradients, not None)."""

    save_inputs = False

    def forward(self, x):
        return np.sign(x)

    def backward(self, g):
        return zeros_like_(g)

    def jvp(self, t):
        return zeros_like_(t)


class Sin(Node):
    def forward(self, x):
        return np.sin(x)

    def backward(self, g):
        return g * cos(self.inputs[0])

    def jvp(self, t):
        return t * cos(self.inputs[0])


class Cos(Node):
    def forward(self, x):
        return np.cos(x)

    def backward(self, g):
        return -g * sin(self.inputs[0])

    def jvp(self, t):
        return -t * sin(self.inputs[0])


class Tanh(Node):
    """y = (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ), dy/dz = 1 − y²."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g):
        y = self.output
        return g * (1 - y * y)

    def jvp(self, t):
        y = self.output
        return t * (1 - y * y)


class Sigmoid(Node):
    """σ(a) = 1/(1 + e⁻ᵃ), σ'(a) = σ(a)(1 − σ(a)).

    Computed as 1/(1+e^{-|a|}) or e^{-|a|}/(1+e^{-|a|}) by sign, so e^{...} never overflows:
    finite and exact for |a| up to 1e4 and beyond.
    """

    save_inputs = False
    save_output = True

    def forward(self, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def backward(self, g):
        y = self.output
        return g * y * (1 - y)

    def jvp(self, t):
        y = self.output
        return t * y * (1 - y)


class Relu(Node):
    """g(z) = max(0, z) = z·I(z > 0); g'(z) = I(z > 0) (0 at z = 0, as torch).

    Saves its output, not its input (I(y > 0) = I(z > 0)), as torch: in a conv → norm → ReLU
    stack the input is then freed at once instead of living until backward."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        return np.maximum(x, 0)

    def _mask(self):
        y = self._out
        return Tensor._make((y > 0).astype(y.dtype))

    def backward(self, g):
        y = self._out
        if g._data.dtype == y.dtype and plain_backward():  # ḡ·I(y > 0) on the arrays
            return Tensor._make(np.multiply(g._data, y > 0))
        return g * self._mask()

    def jvp(self, t):
        return t * self._mask()


class Clamp(Node):
    """Clip to [min, max]; gradient 1 inside the closed interval, 0 outside (as torch)."""

    def forward(self, x):
        return np.clip(x, self.min, self.max)

    def _mask(self):
        x = self.inputs[0]._data
        inside = np.ones(x.shape, dtype=bool)
        if self.min is not None:
            inside &= x >= self.min
        if self.max is not None:
            inside &= x <= self.max
        return Tensor._make(inside.astype(x.dtype))

    def backward(self, g):
        return g * self._mask()

    def jvp(self, t):
        return t * self._mask()


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Node):
    """erf(x) = 2/√π ∫₀ˣ e^{−t²} dt, derivative 2/√π · e^{−x²}.

    NumPy has no erf, so it is evaluated with Python's math.erf per element (exact, slower).
    """

    def forward(self, x):
        return np.asarray(_erf(x), dtype=x.dtype)  # frompyfunc gives a Python float for 0-d x

    def _derivative(self):
        x = self.inputs[0]
        return (2 / math.sqrt(math.pi)) * exp(-(x * x))

    def backward(self, g):
        return g * self._derivative()

    def jvp(self, t):
        return t * self._derivative()


class Cast(Node):
    """Change of dtype; between floating dtypes the gradient is cast back."""

    save_inputs = False

    def forward(self, x):
        self.source = x.dtype
        return x.astype(self.dtype.np)

    def backward(self, g):
        return cast(g, _dtype.from_numpy_dtype(self.source))

    def jvp(self, t):
        return cast(t, self.dtype)


class Where(Node):
    """out = a where cond else b; cond is a constant mask."""

    def forward(self, a, b):
        _binary_shapes(self, a, b)
        return np.where(self.cond, a, b)

    save_inputs = False

    def backward(self, g):
        na, nb = self.needs_input_grad
        zero = scalar_tensor(0, g.dtype)
        c = Tensor._make(self.cond)
        return (unbroadcast(where(c, g, zero), self.shapes[0]) if na else None,
                unbroadcast(where(c, zero, g), self.shapes[1]) if nb else None)

    def jvp(self, ta, tb):
        shape = self._out.shape
        za = ta if ta is not None else scalar_tensor(0, _dtype.from_numpy_dtype(self._out.dtype))
        zb = tb if tb is not None else scalar_tensor(0, _dtype.from_numpy_dtype(self._out.dtype))
        return sum_tangents(shape, where(Tensor._make(self.cond), za, zb))


def _unary(cls, op):
    def fn(input):
        check_tensor(input, op)
        return cls.apply(to_float(input))
    fn.__name__ = op
    fn.__qualname__ = op
    fn.__doc__ = (cls.__doc__ or f"Elementwise {op}.").strip().splitlines()[0] + (
        f"\n\n    Shapes: input (*), output (*) — same shape. VJP and JVP in :class:`{cls.__name__}`.")
    return fn


exp = _unary(Exp, "exp")
log = _unary(Log, "log")
log1p = _unary(Log1p, "log1p")
expm1 = _unary(Expm1, "expm1")
sqrt = _unary(Sqrt, "sqrt")
rsqrt = _unary(Rsqrt, "rsqrt")
sin = _unary(Sin, "sin")
cos = _unary(Cos, "cos")
tanh = _unary(Tanh, "tanh")
sigmoid = _unary(Sigmoid, "sigmoid")
erf = _unary(Erf, "erf")


def neg(input) -> Tensor:
    """out = −input."""
    check_tensor(input, "neg")
    if input._data.dtype.kind == "b":
        raise TypeError("neg: negation of a bool tensor is not supported; use ~ (logical_not)")
    return Neg.apply(input)


def abs(input) -> Tensor:
    """out = |input|; derivative sign(input)."""
    check_tensor(input, "abs")
    return Abs.apply(input)


def relu(input) -> Tensor:
    """ReLU(z) = max(0, z); derivative I(z > 0)."""
    check_tensor(input, "relu")
    return Relu.apply(input)


def sign(input) -> Tensor:
    """−1, 0 or +1 by the sign of each element; its derivative is zero wherever it exists."""
    check_tensor(input, "sign")
    return Sign.apply(input)


def clamp(input, min=None, max=None) -> Tensor:
    """Clip each element to [min, max] (either bound may be None; tensors allowed)."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if input._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        input = to_float(input)
    return Clamp.apply(input, min=min, max=max)


clip = clamp


def where(condition, input, other) -> Tensor:
    """Elementwise choice: input where condition is True, else other (all broadcast)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: expected condition to be a bool tensor, got {cond.dtype}")
    a, b = operands(input, other, "where")
    try:
        shape = np.broadcast_shapes(cond.shape, a._data.shape, b._data.shape)
    except ValueError:
        raise ValueError(f"where: shapes {tuple(cond.shape)} (condition), {tuple(a.shape)} and "
                         f"{tuple(b.shape)} cannot be broadcast together") from None
    if cond.shape != shape:
        cond = np.broadcast_to(cond, shape)
    return Where.apply(a, b, cond=cond)


def cast(input: Tensor, dtype) -> Tensor:
    """Convert to ``dtype``; differentiable when both dtypes are floating."""
    dtype = _dtype.as_dtype(dtype)
    if input._data.dtype == dtype.np:
        return input
    if dtype.is_floating_point and input._data.dtype.kind == "f":
        return Cast.apply(input, dtype=dtype)
    return Tensor._make(input._data.astype(dtype.np))


def zeros_like_(x: Tensor) -> Tensor:
    return Tensor._make(np.zeros_like(x._data))


def ones_like_(x: Tensor) -> Tensor:
    return Tensor._make(np.ones_like(x._data))


# ---------------------------------------------------------------------------- comparisons & logic
def _compare(ufunc, op):
    def fn(input, other) -> Tensor:
        a, b = operands(input, other, op)
        try:
            return Tensor._make(ufunc(a._data, b._data))
        except ValueError:
            raise ValueError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                             "broadcast together") from None
    fn.__name__ = op
    fn.__doc__ = f"Elementwise comparison ``{op}``; returns a bool tensor (not differentiable)."
    return fn


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")


def _bitwise(ufunc, op):
    def fn(input, other) -> Tensor:
        a, b = operands(input, other, op)
        if a._data.dtype.kind not in "biu":
            raise TypeError(f"{op}: expected bool or integer tensors, got {a.dtype}")
        return Tensor._make(ufunc(a._data, b._data))
    fn.__name__ = op
    return fn


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def logical_not(input) -> Tensor:
    return Tensor._make(np.logical_not(input._data))


def bitwise_not(input) -> Tensor:
    if input._data.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: expected bool or integer tensor, got {input.dtype}")
    return Tensor._make(np.invert(input._data))


def isnan(input) -> Tensor:
    return Tensor._make(np.isnan(input._data))


def isinf(input) -> Tensor:
    return Tensor._make(np.isinf(input._data))


def isfinite(input) -> Tensor:
    return Tensor._make(np.isfinite(input._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def floor(input) -> Tensor:
    """Round down; not differentiable (its derivative is 0 almost everywhere)."""
    return Tensor._make(np.floor(input._data))


def ceil(input) -> Tensor:
    return Tensor._make(np.ceil(input._data))


def round(input, *, decimals=0) -> Tensor:
    return Tensor._make(np.round(input._data, decimals))
