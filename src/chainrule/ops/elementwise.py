"""Elementwise primitives as a table of rules, and the functions built on them.

For y = f(x₁, …, xₙ) elementwise the Jacobian in each input is diagonal, so a rule states only
the local derivatives ∂y/∂xᵢ — one line each in the table below, written with the namespace
``xp`` so that they are themselves differentiable; the engine applies them as ḡ·∂y/∂xᵢ (VJP,
summed back over broadcast dims) and Σᵢ ṫᵢ·∂y/∂xᵢ (JVP). Rules with parameters (xᶜ, clamp,
where) are small classes of the same form. Ops that are linear in their inputs (add, sub, neg,
cast) are declared linear instead, with their transpose.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import _argcompat, _dtype, _memory_format, return_types
from .._dtype import result_type
from .._graph import Node, select
from .._modes import TRACE
from .array_function import array_function
from .._tensor_base import TensorBase
from ..backends import onednn
from ..backends.namespace import sigmoid as _sigmoid
from ..backends.namespace import sign as _sign
from ..backends.namespace import where as _where
from ._util import check_tensor


# ---------------------------------------------------------------------------- the rules
def _elementwise(name, forward, doc, backward_name=None, kernels=(), **derivatives):
    """An elementwise primitive from its forward on arrays and its local derivatives
    ``d_<input>=lambda xp, <values>: ∂y/∂input``, each asking for the values it needs by name:
    the inputs (``x``; ``a``, ``b``) or the output (``out``). ``backward_name``: torch's name for
    the recorded node where it is not ``<name>Backward0``; ``kernels``: {"d_<input>": f(g,
    <values>)} computing ḡ·∂y/∂input in one call, for a plain backward on arrays, into a new
    array (as ḡ·∂y/∂input would be: a compiled replay hands it to a leaf as its ``.grad``)."""
    inputs = tuple(d[2:] for d in derivatives)
    body = {"__doc__": doc, "__module__": __name__, "elementwise": True, "_input_names": inputs,
            "forward": staticmethod(forward), "backward_name": backward_name}
    body.update({d: staticmethod(f) for d, f in derivatives.items()})
    body.update({"kernel_" + d: staticmethod(f) for d, f in dict(kernels).items()})
    return type(name, (Node,), body)


_ZEROS = {}   # dtype -> a read-only flat array of zeros, grown to the largest input seen
_ZEROS_MAX = 1 << 23   # elements: larger inputs take the scalar loop rather than hold a buffer
_ZERO_ROW = 16384      # elements of the zeros NumPy's ReLU reads again and again (64 KiB: in L2)


def _zeros_flat(x, size=None):
    """``size`` (default x.size) zeros of x's dtype, 1-D, a view of one cached read-only
    buffer per dtype (at most ``_ZEROS_MAX`` elements: 32 MiB of float32)."""
    size = x.size if size is None else size
    buf = _ZEROS.get(x.dtype)
    if buf is None or buf.size < size:
        buf = np.zeros(size, x.dtype)
        buf.flags.writeable = False
        _ZEROS[x.dtype] = buf
    return buf[:size]


def _memory_order(x):
    """x's elements in the order they lie in memory, as a 1-D view; None when x is not dense
    (a slice with gaps, a broadcast)."""
    if x.flags.c_contiguous:
        return x.reshape(-1)
    y = x.transpose(np.argsort(x.strides, kind="stable")[::-1])   # channels-last, a transpose
    return y.reshape(-1) if y.flags.c_contiguous else None


def _relu(x, out=None):
    # Large float32 arrays with more than one thread: oneDNN's one pass on all of them, in place
    # too, bit-equal to torch's (see onednn.relu; 2 MB, Xeon, 2 threads: 30 µs in place, 63 into
    # a new array, against NumPy's 60 and 151 on one core; at 1 thread NumPy's rows below are
    # 3 µs faster). Otherwise max(0, x) with the zero first: NumPy's maximum returns its second
    # operand on a tie and keeps a NaN from either, so −0.0 stays −0.0 and NaN stays NaN, as
    # torch's relu. Against an array of zeros NumPy runs its vectorized loop; against the
    # scalar 0 a branchy one, 2–7× slower on mixed signs (numpy 2.4, 2 MB of float32: 89 vs
    # 617 µs). The zeros are one 64 KiB row, which x's memory is cut into rows against.
    # ``out``: chainrule.compile's replay and relu_ write into the input's buffer.
    if onednn.parallel_supported(x, out) and onednn.relu_exact():
        return onednn.relu(x, out)
    if x.dtype.kind == "f" and 1024 <= x.size <= _ZEROS_MAX:
        flat = _memory_order(x) if out is None or out is x else None
        if flat is not None:
            out = np.empty_like(x) if out is None else out   # x's layout: its order lines up
            _max_zero_rows(flat, flat if out is x else _memory_order(out))
            return out
        return np.maximum(_zeros_flat(x).reshape(x.shape), x, out=out)
    return np.maximum(0, x, out=out)


def _max_zero_rows(src, dst):
    """dst = max(0, src) over 1-D arrays, as rows of ``_ZERO_ROW`` against one row of zeros."""
    n = src.size
    rows, tail = divmod(n, _ZERO_ROW)
    zeros = _zeros_flat(src, min(n, _ZERO_ROW))
    if rows:
        main = rows * _ZERO_ROW
        np.maximum(zeros, src[:main].reshape(rows, _ZERO_ROW), out=dst[:main].reshape(rows, _ZERO_ROW))
    if tail:
        np.maximum(zeros[:tail], src[n - tail:], out=dst[n - tail:])


def _relu_derivative(xp, out):
    return ~(out <= 0)      # I(y > 0), and 1 at NaN: a NaN passes its gradient on, as torch's


def _relu_backward(g, out):
    # ḡ where y > 0 (or NaN), else +0: a select, as torch's threshold_backward, so that an
    # infinite ḡ at an inactive unit (relu(x).sqrt()) gives 0, not 0·∞ = NaN. On oneDNN (large
    # float32 arrays) one pass multiplies by the mask instead: the same values for a finite ḡ
    # (±0 at inactive units), NaN there for an infinite one — checking ḡ first would cost
    # as much as the pass itself (measured: a dot of ḡ with zeros, 128 vs 119 µs for 2 MB)
    if onednn.elementwise_supported(g, out):
        return onednn.relu_backward(g, out)
    return select(_relu_derivative(np, out), g)


def _rsqrt(x):
    return 1 / np.sqrt(x)


_math_erf = np.frompyfunc(math.erf, 1, 1)
_math_erfc = np.frompyfunc(math.erfc, 1, 1)
_SCIPY_SPECIAL = []   # [scipy.special, or None when SciPy is not installed], looked up once


def _scipy_special():
    if not _SCIPY_SPECIAL:
        try:
            import scipy.special as special   # optional (the `cpu` extra): never required
        except ImportError:
            special = None
        _SCIPY_SPECIAL.append(special)
    return _SCIPY_SPECIAL[0]


def _erf_like(x, name, scalar):
    """erf or erfc of x. NumPy has none: Python's ``math`` function per element (glibc's, as
    torch's; frompyfunc gives an object array, or a Python float for 0-d x). For float16 and
    float32, SciPy's where installed, in float64 and rounded: 7× faster (1M float32: 147 →
    21 ms, the cost of GELU's exact form without oneDNN) and, rounded, the same values as
    ``math``'s on 10M samples; float64 keeps ``math``'s bits (SciPy's differ by up to 3 ulp)."""
    special = _scipy_special() if x.dtype.itemsize < 8 and x.dtype.kind == "f" else None
    if special is not None:
        return np.asarray(getattr(special, name)(x.astype(np.float64)), dtype=x.dtype)
    return np.asarray(scalar(x), dtype=x.dtype)


def _erf(x):
    return _erf_like(x, "erf", _math_erf)


def _erfc(x):
    return _erf_like(x, "erfc", _math_erfc)


_TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)

# The table: y = f(x) and its local derivative(s). The derivative of ReLU asks for the output,
# not the input (I(y > 0) = I(x > 0)), as torch: in a conv → norm → ReLU stack the input is then
# freed at once instead of living until backward. At a tie, max and min give each input half.
def _multiply(a, b, _least=onednn.ELEMENTWISE_MIN, _numpy=np.multiply):
    # Large float32 arrays on more than one thread: oneDNN's one pass, as Add's sums (4 MB times
    # a number: 305 µs on NumPy's one core, ~195 on oneDNN's two threads, torch's 156). The
    # same bits as NumPy's product (IEEE), checked on every float32 bit pattern class; only a
    # NaN times a NaN may return the other operand's NaN, so a NaN number stays on NumPy.
    # (Sizes first, with the names bound: a compiled step's small product pays ~0.1 µs.)
    if a.size < _least and b.size < _least or a.dtype != b.dtype:
        return _numpy(a, b)
    if b.ndim == 0 and a.ndim:
        if onednn.parallel_supported(a) and not np.isnan(b):
            return onednn.chain("mul", a, b[()])
    elif a.ndim == 0 and b.ndim:
        if onednn.parallel_supported(b) and not np.isnan(a):
            return onednn.chain("mul", b, a[()])
    elif onednn.parallel_supported(a, b):   # one shape and layout: a·b in that order
        return onednn.chain("mul", a, b)
    return _numpy(a, b)


Mul = _elementwise("Mul", _multiply, "y = a·b;  ∂y/∂a = b,  ∂y/∂b = a.",
                   d_a=lambda xp, b: b, d_b=lambda xp, a: a)
Div = _elementwise("Div", np.true_divide, "y = a/b;  ∂y/∂a = 1/b,  ∂y/∂b = −a/b².",
                   d_a=lambda xp, b: 1 / b, d_b=lambda xp, a, b: -a / (b * b))
def _pow_d_exponent(xp, a, b, out):
    # aᵇ·ln a, with torch's 0 at a = 0, b ≥ 0 (the limit). ln is taken of 1 there, so that
    # the unused branch adds no 0·∞ = nan to higher derivatives; at a = 0, b < 0 it stays
    # ∞·(−∞) = −∞, as torch's.
    zero = (a == 0) & (b >= 0)
    return xp.where(zero, 0.0, out * xp.log(xp.where(zero, 1.0, a)))


Pow = _elementwise("Pow", np.power, "y = aᵇ;  ∂y/∂a = b·aᵇ⁻¹ (0 where b = 0),  ∂y/∂b = aᵇ·ln a (0 at a = 0, b ≥ 0: "
                   "the limit, where the formula gives 0·(−∞)).", backward_name="PowBackward1",
                   d_a=lambda xp, a, b: xp.where(b == 0, 0.0, b * a ** (b - 1)),
                   d_b=lambda xp, a, b, out: _pow_d_exponent(xp, a, b, out))
def _maximum(a, b):
    return np.maximum(b, a)   # NumPy returns the second operand of a tie, torch the first (±0)


def _minimum(a, b):
    return np.minimum(b, a)


Maximum = _elementwise("Maximum", _maximum, "y = max(a, b);  ∂y/∂a = I(a > b) + ½·I(a = b).",
                       d_a=lambda xp, a, b: (a > b) + (a == b) * 0.5,
                       d_b=lambda xp, a, b: (b > a) + (a == b) * 0.5)
Minimum = _elementwise("Minimum", _minimum, "y = min(a, b);  ∂y/∂a = I(a < b) + ½·I(a = b).",
                       d_a=lambda xp, a, b: (a < b) + (a == b) * 0.5,
                       d_b=lambda xp, a, b: (b < a) + (a == b) * 0.5)
Nextafter = _elementwise("Nextafter", np.nextafter, "y = the float after a towards b;  "
                         "∂y/∂a = 1, ∂y/∂b = 0 (torch's: the step is below rounding).",
                         d_a=lambda xp: 1.0, d_b=lambda xp: 0.0)
Exp = _elementwise("Exp", np.exp, "y = eˣ;  y′ = y.", d_x=lambda xp, out: out)
Log = _elementwise("Log", np.log, "y = ln x;  y′ = 1/x.", d_x=lambda xp, x: 1 / x)
Log1p = _elementwise("Log1p", np.log1p, "y = ln(1 + x), accurate for tiny x;  y′ = 1/(1 + x).",
                     d_x=lambda xp, x: 1 / (1 + x), backward_name="Log1PBackward0")
Expm1 = _elementwise("Expm1", np.expm1, "y = eˣ − 1, accurate for tiny x;  y′ = y + 1.",
                     d_x=lambda xp, out: out + 1)
Sqrt = _elementwise("Sqrt", np.sqrt, "y = √x;  y′ = 1/(2y).", d_x=lambda xp, out: 0.5 / out)
Rsqrt = _elementwise("Rsqrt", _rsqrt, "y = 1/√x;  y′ = −y³/2.",
                     d_x=lambda xp, out: -0.5 * (out * out * out))   # torch's y³ is y·y·y
Abs = _elementwise("Abs", np.abs, "y = |x|;  y′ = sign x (0 at 0, as torch).",
                   d_x=lambda xp, x: xp.sign(x))
Sign = _elementwise("Sign", _sign, "y = sign x (0 at NaN, as torch);  y′ = 0 (zero gradients, as "
                    "torch, not None).",
                    d_x=lambda xp, out: xp.zeros_like(out))
Sin = _elementwise("Sin", np.sin, "y = sin x;  y′ = cos x.", d_x=lambda xp, x: xp.cos(x))
Cos = _elementwise("Cos", np.cos, "y = cos x;  y′ = −sin x.", d_x=lambda xp, x: -xp.sin(x))
Tanh = _elementwise("Tanh", np.tanh, "y = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ);  y′ = 1 − y².",
                    d_x=lambda xp, out: 1 - out * out)
Sigmoid = _elementwise("Sigmoid", _sigmoid, "σ(x) = 1/(1 + e⁻ˣ);  σ′ = σ(1 − σ).",
                       d_x=lambda xp, out: out * (1 - out))
Relu = _elementwise("Relu", _relu, "g(z) = max(0, z) = z·I(z > 0);  g′(z) = I(z > 0) (0 at 0; "
                    "1 at nan, so a nan passes its gradient on, as torch's).",
                    d_x=_relu_derivative, kernels={"d_x": _relu_backward})


class ReluInPlace(Relu):
    """relu_: ReLU writing max(0, x) into x's own memory. Its rule reads only the output, so a
    recorded relu_ keeps nothing of the old value (torch's relu_ saves self)."""

    backward_name = "ReluBackward0"
    forward = staticmethod(lambda x: _relu(x, out=x))


Erf = _elementwise("Erf", _erf, "erf(x) = 2/√π ∫₀ˣ e^{−t²} dt;  erf′(x) = 2/√π · e^{−x²}.",
                   d_x=lambda xp, x: _TWO_OVER_ROOT_PI * xp.exp(-(x * x)))
Erfc = _elementwise("Erfc", _erfc, "erfc(x) = 1 − erf(x), accurate where erf(x) → 1;  "
                    "erfc′(x) = −2/√π · e^{−x²}.",
                    d_x=lambda xp, x: -_TWO_OVER_ROOT_PI * xp.exp(-(x * x)))
Tan = _elementwise("Tan", np.tan, "y = tan x;  y′ = 1 + y².", d_x=lambda xp, out: 1 + out * out)
Asin = _elementwise("Asin", np.arcsin, "y = arcsin x;  y′ = 1/√(1 − x²).",
                    d_x=lambda xp, x: 1 / xp.sqrt(1 - x * x))
Acos = _elementwise("Acos", np.arccos, "y = arccos x;  y′ = −1/√(1 − x²).",
                    d_x=lambda xp, x: -1 / xp.sqrt(1 - x * x))
Atan = _elementwise("Atan", np.arctan, "y = arctan x;  y′ = 1/(1 + x²).",
                    d_x=lambda xp, x: 1 / (1 + x * x))
Sinh = _elementwise("Sinh", np.sinh, "y = sinh x;  y′ = cosh x.", d_x=lambda xp, x: xp.cosh(x))
Cosh = _elementwise("Cosh", np.cosh, "y = cosh x;  y′ = sinh x.", d_x=lambda xp, x: xp.sinh(x))
Asinh = _elementwise("Asinh", np.arcsinh, "y = arsinh x;  y′ = 1/√(x² + 1).",
                     d_x=lambda xp, x: 1 / xp.sqrt(x * x + 1))
Acosh = _elementwise("Acosh", np.arccosh, "y = arcosh x;  y′ = 1/√(x² − 1).",
                     d_x=lambda xp, x: 1 / xp.sqrt((x - 1) * (x + 1)))
Atanh = _elementwise("Atanh", np.arctanh, "y = artanh x;  y′ = 1/(1 − x²).",
                     d_x=lambda xp, x: 1 / (1 - x * x))
Trunc = _elementwise("Trunc", np.trunc, "y = x rounded toward 0;  y′ = 0 (zero gradients, as torch).",
                     d_x=lambda xp: 0.0)
Floor = _elementwise("Floor", np.floor, "y = ⌊x⌋;  y′ = 0 (zero gradients, as torch).",
                     d_x=lambda xp: 0.0)
Ceil = _elementwise("Ceil", np.ceil, "y = ⌈x⌉;  y′ = 0 (zero gradients, as torch).",
                    d_x=lambda xp: 0.0)
Round = _elementwise("Round", np.rint, "y = x rounded half to even;  y′ = 0 (as torch).",
                     d_x=lambda xp: 0.0)
Frac = _elementwise("Frac", lambda x: x - np.trunc(x), "y = x − trunc x (sign of x);  y′ = 1.",
                    d_x=lambda xp: 1.0)


def _frexp_scale(xp, x, out):
    # m/x = 2⁻ᵉ for finite nonzero x; torch's grad/2ᵉ reads e = 0 (a factor 1) at 0, ±∞, NaN
    ordinary = (x != 0) & (xp.abs(x) < math.inf)
    return xp.where(ordinary, out / xp.where(ordinary, x, 1.0), 1.0)


Frexp = _elementwise("Frexp", lambda x: np.frexp(x)[0],
                     "m = mantissa of x = m·2ᵉ, ½ ≤ |m| < 1;  ∂m/∂x = 2⁻ᵉ (1 where e = 0).",
                     d_x=_frexp_scale)
_LN2, _LN10 = math.log(2), math.log(10)
Log2 = _elementwise("Log2", np.log2, "y = log₂ x;  y′ = 1/(x ln 2).",
                    d_x=lambda xp, x: 1 / (x * _LN2))
Log10 = _elementwise("Log10", np.log10, "y = log₁₀ x;  y′ = 1/(x ln 10).",
                     d_x=lambda xp, x: 1 / (x * _LN10))
Exp2 = _elementwise("Exp2", np.exp2, "y = 2ˣ;  y′ = y ln 2.", d_x=lambda xp, out: out * _LN2)


def erfc_inverse_of_log(log_u, z=None):
    """z ≥ 0.47 with erfc(z) = u, from log u (float64 arrays; u ≤ 0.5, down to the smallest
    double): Newton on log erfc(z) = log u, which is close to linear in z² out there, from
    ``z`` or from √(−log u); six steps reach float64's last digits from either start."""
    z = np.sqrt(-log_u) if z is None else z
    for _ in range(6):
        e = _erfc(z)
        z = z + (np.log(e) - log_u) * e / (_TWO_OVER_ROOT_PI * np.exp(-(z * z)))
    return z


def _erfinv(y):
    """erf⁻¹ in NumPy alone: Giles' approximation (single precision), then two Newton steps on
    erf (each squares the relative error: float64 rounding), and for |y| ≥ 0.5 on log erfc
    (``erfc_inverse_of_log``: the last digits near ±1 too); ±1 → ±inf, |y| > 1 → nan."""
    a = np.asarray(y, dtype=np.float64)
    inside = np.abs(a) < 1
    t = np.where(inside, a, 0.0)
    w = -np.log((1 - t) * (1 + t))
    c = w - 2.5
    p = 2.81022636e-08
    for k in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = k + p * c
    d = np.sqrt(w) - 3
    q = -0.000200214257
    for k in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = k + q * d
    x = np.where(w < 5, p, q) * t
    for _ in range(2):
        x = x - (_erf(x) - t) / (_TWO_OVER_ROOT_PI * np.exp(-(x * x)))
    x = np.array(x)   # (a 0-d input's arithmetic gives a NumPy scalar, which takes no x[tail])
    tail = np.abs(t) >= 0.5
    if tail.any():   # (1 − |t| is exact; Giles' fit is for float32's range of t: a far start)
        x[tail] = np.copysign(erfc_inverse_of_log(np.log(1 - np.abs(t[tail])), np.abs(x[tail])),
                              t[tail])
    out = np.where(inside, x, np.where(np.abs(a) == 1, np.copysign(np.inf, a), np.nan))
    return out.astype(np.asarray(y).dtype, copy=False)


Erfinv = _elementwise("Erfinv", _erfinv, "y = erf⁻¹ x;  y′ = √π/2 · e^{y²}.",
                      d_x=lambda xp, out: (1 / _TWO_OVER_ROOT_PI) * xp.exp(out * out))


def _copysign(a, b):
    return np.copysign(a, b)


def _xlogy(x, y):
    # 0 where x = 0 (unless y is nan), as torch
    return np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y)).astype(
        np.result_type(x, y), copy=False)


def _lerp(a, b, w):
    # torch's formula: from the nearer end, so weight 1 gives ``end`` exactly
    d = b - a
    return np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w)).astype(
        np.result_type(a, b, w), copy=False)


class Logit(Node):
    """y = log(z/(1 − z)), z = x clamped to [eps, 1 − eps] when ``eps`` is given (torch's
    x < eps ? eps : x > 1 − eps ? 1 − eps : x);  y′ = 1/(x(1 − x)): without eps inf at 0 and
    1 and NaN outside [0, 1], with eps 0 outside [eps, 1 − eps] (as torch)."""

    elementwise = True
    params = ("eps",)
    backward_name = "LogitBackward0"

    def forward(self, x):
        if self.eps is not None:
            low, high = x.dtype.type(self.eps), x.dtype.type(1 - self.eps)
            x = np.where(x < low, low, np.where(x > high, high, x))
        return np.log(x / (1 - x))

    def d_x(self, xp, x):
        data = xp.data(x)
        low, high, fill = (0, 1, np.nan) if self.eps is None else (self.eps, 1 - self.eps, 0.0)
        return xp.where(xp.const((data < low) | (data > high)), fill, 1 / (x * (1 - x)))


def _atan2_reciprocal(xp, a, b):
    """1/(a² + b²), 0 where that is infinite: torch's rule, a zero gradient at the origin."""
    r = 1 / (a * a + b * b)
    return xp.where(xp.const(np.isinf(xp.data(r))), 0.0, r)


Atan2 = _elementwise("Atan2", np.arctan2, "y = atan2(a, b);  ∂y/∂a = b/(a² + b²),  "
                     "∂y/∂b = −a/(a² + b²) (0 at a = b = 0, as torch).",
                     d_a=lambda xp, a, b: b * _atan2_reciprocal(xp, a, b),
                     d_b=lambda xp, a, b: -a * _atan2_reciprocal(xp, a, b))
Copysign = _elementwise("Copysign", _copysign, "y = |a|·sign b;  ∂y/∂a = ±1 (the sign flip; 0 "
                        "at a = 0, as torch),  ∂y/∂b = 0.",
                        d_a=lambda xp, a, out: xp.sign(a) * xp.sign(out),
                        d_b=lambda xp: 0.0)
Fmod = _elementwise("Fmod", np.fmod, "y = a − trunc(a/b)·b (C's fmod, sign of a);  ∂y/∂a = 1,  "
                    "∂y/∂b = −trunc(a/b).", backward_name="FmodBackward1",
                    d_a=lambda xp: 1.0,
                    d_b=lambda xp, a, b: xp.const(-np.trunc(xp.data(a) / xp.data(b))))
def _remainder(a, b):
    # NumPy gives a zero remainder b's sign (−0.0 for 0 % −1), torch a's (its fmod's): as torch
    r = np.remainder(a, b)
    return np.copysign(r, np.where(r == 0, a, r))


Remainder = _elementwise("Remainder", _remainder, "y = a − ⌊a/b⌋·b (Python's %, sign of b);  "
                         "∂y/∂a = 1,  ∂y/∂b = −⌊a/b⌋.", backward_name="RemainderBackward1",
                         d_a=lambda xp: 1.0,
                         d_b=lambda xp, a, b: xp.const(-np.floor(xp.data(a) / xp.data(b))))
Hypot = _elementwise("Hypot", np.hypot, "y = √(a² + b²);  ∂y/∂a = a/y,  ∂y/∂b = b/y.",
                     d_a=lambda xp, a, out: a / out, d_b=lambda xp, b, out: b / out)
Logaddexp = _elementwise("Logaddexp", np.logaddexp, "y = ln(eᵃ + eᵇ);  ∂y/∂a = σ(a − b),  "
                         "∂y/∂b = σ(b − a).",
                         d_a=lambda xp, a, b: xp.sigmoid(a - b),
                         d_b=lambda xp, a, b: xp.sigmoid(b - a))
Logaddexp2 = _elementwise("Logaddexp2", np.logaddexp2, "y = log₂(2ᵃ + 2ᵇ);  ∂y/∂a = "
                          "σ((a − b) ln 2),  ∂y/∂b = σ((b − a) ln 2).",
                          d_a=lambda xp, a, b: xp.sigmoid((a - b) * _LN2),
                          d_b=lambda xp, a, b: xp.sigmoid((b - a) * _LN2))
Xlogy = _elementwise("Xlogy", _xlogy, "y = a·ln b (0 where a = 0);  ∂y/∂a = ln b (0 where a = 0 "
                     "and b ≤ 0, as torch),  ∂y/∂b = a/b.",
                     d_a=lambda xp, a, b: xp.where((xp.data(a) == 0) & (xp.data(b) <= 0), 0.0,
                                                   xp.log(b)),
                     d_b=lambda xp, a, b: a / b)
Lerp = _elementwise("Lerp", _lerp, "y = a + w·(b − a);  ∂y/∂a = 1 − w,  ∂y/∂b = w,  "
                    "∂y/∂w = b − a.", backward_name="LerpBackward1",
                    d_a=lambda xp, w: 1 - w, d_b=lambda xp, w: w, d_w=lambda xp, a, b: b - a)


class LerpScalar(Node):
    """y = a + w·(b − a) for a number w;  ∂y/∂a = 1 − w,  ∂y/∂b = w."""

    elementwise = True
    params = ("weight",)
    backward_name = "LerpBackward0"

    def forward(self, a, b):
        return _lerp(a, b, np.asarray(self.weight, a.dtype))

    def d_a(self, xp):
        return 1 - self.weight

    def d_b(self, xp):
        return self.weight


class PowScalar(Node):
    """y = xᶜ for a Python number c;  y′ = c·xᶜ⁻¹."""

    elementwise = True
    params = ("exponent",)
    backward_name = "PowBackward0"

    def forward(self, x):
        return _pow_number(x, self.exponent)

    def d_x(self, xp, x):
        c = self.exponent
        return (xp.zeros_like(x) if c == 0 else xp.ones_like(x) if c == 1
                else c * xp.apply(PowScalar, x, exponent=c - 1))


# torch's float kernel takes products and a reciprocal for these exponents (2 is NumPy's square
# too): its bits, and 25× NumPy's pow at 3 (minGPT's GELU, x³: 78 → 3 ms on 1.5M elements)
_POWERS = {3: lambda x: x * x * x, -2: lambda x: 1 / (x * x), -0.5: lambda x: 1 / np.sqrt(x)}


def _pow_number(x, c):
    """xᶜ for a Python number c, as torch's CPU kernel computes it."""
    fast = _POWERS.get(c) if x.dtype in (np.float32, np.float64) else None
    return fast(x) if fast is not None else x ** c


class Clamp(Node):
    """Clip to [min, max];  derivative 1 inside the closed interval, 0 outside (as torch)."""

    elementwise = True
    params = ("min", "max")
    backward_name = "ClampBackward1"

    def forward(self, x):
        if x.dtype.kind != "f" or self.min != 0 and self.max != 0:
            return np.clip(x, self.min, self.max)
        # a bound of 0 ties with ±0.0: bound first, x second, as NumPy returns the second
        # operand of a tie and torch x (clamp(−0.0, min=0) is −0.0)
        out = x if self.min is None else np.maximum(x.dtype.type(self.min), x)
        return out if self.max is None else np.minimum(x.dtype.type(self.max), out)

    def d_x(self, xp, x):
        lo, hi = self.min, self.max
        return (x >= lo) if hi is None else (x <= hi) if lo is None else (x >= lo) & (x <= hi)


class Where(Node):
    """y = a where cond else b (cond a constant bool array): linear in (a, b); transpose
    (ḡ where cond else 0, ḡ where ¬cond else 0) — a choice, not a product with the mask, so a
    nan or inf in ḡ stays out of the branch not taken (as torch's)."""

    linear = True
    params = ("cond",)
    data_params = ("cond",)   # a tensor's values: traced by a graph capture

    def forward(self, a, b):
        return _where(self.cond, a, b)

    def transpose(self, xp, g):
        cond = xp.const(self.cond)
        if not xp.recording and np.isfinite(g).all():
            # the same values as the choice, 16× faster: NumPy's where runs a branchy loop
            # (2 MB under a random mask: 1.9 ms, against 0.12 ms for the product with the mask)
            return (g * self.cond if self.needs_input_grad[0] else None,
                    g * ~self.cond if self.needs_input_grad[1] else None)
        return (xp.where(cond, g, 0.0) if self.needs_input_grad[0] else None,
                xp.where(cond, 0.0, g) if self.needs_input_grad[1] else None)


class Add(Node):
    """y = a + b: linear; transpose (ḡ, ḡ)."""

    linear = True

    def forward(self, a, b):
        if onednn.parallel_supported(a, b):   # large, same shape, several threads
            return onednn.add(a, b)
        return a + b

    def transpose(self, xp, g):
        return g, g


class Sub(Node):
    """y = a − b: linear; transpose (ḡ, −ḡ)."""

    linear = True

    def forward(self, a, b):
        return a - b

    def transpose(self, xp, g):
        return g, -g


class Neg(Node):
    """y = −x: linear; transpose −ḡ."""

    linear = True

    def forward(self, x):
        return -x

    def transpose(self, xp, g):
        return -g


class Cast(Node):
    """Change of floating dtype: linear; the transpose casts the gradient back."""

    linear = True
    params = ("dtype",)
    backward_name = "ToCopyBackward0"

    def forward(self, x):
        self.source = _dtype.from_numpy_dtype(x.dtype)
        return _memory_format.copy(x, _memory_format.preserve_format, "to", self.dtype.np)

    def transpose(self, xp, g):
        return xp.apply(Cast, g, dtype=self.source)


def wrapped_int(value, np_dtype):
    """A Python int as C's conversion into an integer dtype, as torch's scalars: it wraps
    around (−3 as uint8 is 253) where NumPy 2 refuses it."""
    return np.array(value, np.int64).astype(np_dtype)[()] if np_dtype.kind in "iu" else value


class AddScaled(Node):
    """y = a + α·b (torch's add with ``alpha``): linear; transpose (ḡ, α·ḡ)."""

    linear = True
    params = ("alpha",)
    backward_name = "AddBackward0"

    def forward(self, a, b):
        return a + wrapped_int(self.alpha, b.dtype) * b

    def transpose(self, xp, g):
        return g, g * self.alpha


class SubScaled(AddScaled):
    """y = a − α·b: linear; transpose (ḡ, −α·ḡ)."""

    backward_name = "SubBackward0"

    def forward(self, a, b):
        return a - wrapped_int(self.alpha, b.dtype) * b

    def transpose(self, xp, g):
        return g, g * -self.alpha


# ---- a Python number on one side: a parameter of the node, not an input (torch's edges)
class Rsub(Node):
    """y = c − x for a number c;  y′ = −1."""

    elementwise = True
    params = ("value",)
    backward_name = "RsubBackward1"

    def forward(self, x):
        return self.value - x

    def d_x(self, xp):
        return -1


class PowOfNumber(Node):
    """y = cˣ for a number c;  y′ = cˣ·ln c (0 where c = 0 and x ≥ 0: the limit, as torch)."""

    elementwise = True
    params = ("base",)
    backward_name = "PowBackward2"

    def forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):   # 0⁻¹ = inf, (−2)^½ = nan
            return self.base ** x

    def d_x(self, xp, x, out):
        if self.base == 0:   # torch's 0ˣ·ln 0 = −∞ for x < 0 (0ˣ = ∞), its limit 0 for x ≥ 0
            return xp.where(xp.const(xp.data(x) >= 0), 0.0, out * -np.inf)
        with np.errstate(invalid="ignore"):   # a negative base: ln c is nan, as torch's
            return out * float(np.log(self.base))


class MaskedFill(Node):
    """y = value where mask else x (a number value);  ∂y/∂x = ¬mask."""

    elementwise = True
    params = ("mask", "value")
    data_params = ("mask",)   # a tensor's values: traced by a graph capture

    def forward(self, x):
        m = self.mask
        if (x.size >= FILL_BITS_MIN and 4 * m.size <= x.size and x.flags.c_contiguous
                and x.dtype.kind in "fiu" and x.dtype.itemsize in _UINT):
            fill = np.where(_TRUE, self.value, x.reshape(-1)[:1])   # the value as where makes it
            if fill.dtype == x.dtype:
                return _fill_bits(x, m, fill)
        return _where(m, self.value, x).astype(x.dtype, copy=False)

    def d_x(self, xp):
        return xp.const(~self.mask)


FILL_BITS_MIN = 1 << 16
_TRUE = np.ones(1, bool)
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _fill_bits(x, mask, fill):
    """``np.where(mask, fill, x)`` for a mask that broadcasts over x (attention's causal mask),
    by the bits: (x AND NOT on) OR (on AND fill), ``on`` all ones where the mask holds, made
    at the mask's size. NumPy's where runs a branchy loop: (16, 4, 128, 128) float32 under a
    (128, 128) mask 745 µs, this ~495 (torch's 525)."""
    bits = _UINT[x.dtype.itemsize]
    on = np.negative(mask.astype(bits))
    out = np.empty(x.shape, x.dtype)
    o = out.view(bits)
    np.bitwise_and(x.view(bits), ~on, out=o)
    np.bitwise_or(o, on & fill.view(bits)[0], out=o)
    return out


# ---- a Python number as the second operand: torch's other overload names (an input here)
_CopysignNumber = Copysign.named("CopysignBackward1")
_FmodNumber = Fmod.named("FmodBackward0")
_RemainderNumber = Remainder.named("RemainderBackward0")
_XlogyNumber = Xlogy.named("XlogyBackward2")


# ---------------------------------------------------------------------------- operands
_NUMBERS = (float, int)   # by exact type: bool (an int subclass) and NumPy scalars take the walk


def operands(a, b, op: str, wrap=False):
    """Promote a pair of Tensors/Python scalars to Tensors of their torch result dtype.
    ``wrap``: a Python int outside an integer result dtype's range wraps around into it, as
    torch's arithmetic, comparison and bitwise ops do (``uint8_tensor + (-3)``, ``< 300``);
    without it such a number is refused (``as_operand``)."""
    if type(a) is type(b) and isinstance(a, TensorBase) and a._data.dtype == b._data.dtype:
        return a, b
    # a floating tensor and a Python float or int (``x * 0.5``, ``1 - p``): the tensor's dtype
    # is the result's (a number never promotes a floating tensor), without result_type's walk
    if type(b) in _NUMBERS and isinstance(a, TensorBase) and a._data.dtype.kind == "f":
        return a, as_operand(b, a.dtype, a, op, wrap)
    if type(a) in _NUMBERS and isinstance(b, TensorBase) and b._data.dtype.kind == "f":
        return as_operand(a, b.dtype, b, op, wrap), b
    a_is, b_is = isinstance(a, TensorBase), isinstance(b, TensorBase)
    if not a_is and not b_is:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        # a NumPy array beside a tensor is a constant tensor of its dtype (torch converts it:
        # float32 tensor + float64 array is float64)
        like = a if a_is else b
        a, b = (like._make(np.asarray(v)) if isinstance(v, np.ndarray) else v for v in (a, b))
        return operands(a, b, op, wrap)
    try:
        dt = result_type(a, b)
    except TypeError:
        bad = b if a_is else a
        raise TypeError(f"{op}: unsupported operand type {type(bad).__name__}; expected a Tensor "
                        "or a Python number") from None
    like = a if a_is else b
    return as_operand(a, dt, like, op, wrap), as_operand(b, dt, like, op, wrap)


def as_operand(x, dt, like, op=None, wrap=False):
    """``x`` (a Tensor or a Python number) as a Tensor of dtype ``dt``; a Python int out of
    an integer ``dt``'s range wraps around (``wrap``, C's conversion through int64, as torch)
    or raises RuntimeError, as torch's checked conversion."""
    if isinstance(x, TensorBase):
        return x if x._data.dtype == dt.np else cast(x, dt)
    try:
        array = np.array(x, dtype=dt.np)
    except OverflowError:
        if not -2 ** 63 <= x < 2 ** 63:    # past int64: torch's OverflowError too
            raise
        if not wrap:
            raise RuntimeError(f"{op or 'as_operand'}: value {x} cannot be converted to "
                               f"{dt} without overflow") from None
        array = np.array(x, np.int64).astype(dt.np)
    t = like._make(array)
    if TRACE.recorder is not None:   # a Python number: a constant of a capture
        TRACE.recorder.constant(t)
    return t


def to_float(x):
    """Integer and bool inputs of floating ops compute in the default float dtype, like torch."""
    return x if x._data.dtype.kind == "f" else cast(x, _dtype.get_default_dtype())


def _apply_binary(cls, a, b, op, **params):
    try:
        return cls.apply(a, b, **params)
    except ValueError:
        try:
            np.broadcast_shapes(a._data.shape, b._data.shape)
        except ValueError:
            raise RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                             "broadcast together") from None
        raise


# ---------------------------------------------------------------------------- binary functions
def add(input, other, *, alpha=1):
    """out = input + alpha · other (broadcasting)."""
    a, b = operands(input, other, "add", wrap=True)
    if alpha != 1:
        _check_alpha(a, alpha, "add")
        return _apply_binary(AddScaled, a, b, "add", alpha=alpha)
    return _apply_binary(Add, a, b, "add")


def _check_alpha(a, alpha, op):
    """torch: a float ``alpha`` would turn an integer sum into a float one; refused."""
    if a._data.dtype.kind in "biu" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a "
                           f"floating point number, got alpha={alpha}")


def _not_for_bool(a, op, exc=NotImplementedError, hint=""):
    """torch defines no arithmetic of this kind on bool tensors (the operands' common dtype)."""
    if a._data.dtype.kind == "b":
        raise exc(f"{op}: not supported for bool tensors{hint}")


def sub(input, other, *, alpha=1):
    """out = input − alpha · other (broadcasting)."""
    for t in (input, other):     # torch refuses a bool tensor on either side, whatever the other
        if isinstance(t, TensorBase):
            _not_for_bool(t, "sub", RuntimeError, "; use ^ (logical_xor) or ~ instead")
    a, b = operands(input, other, "sub", wrap=True)
    if alpha != 1:
        _check_alpha(a, alpha, "sub")
        return _apply_binary(SubScaled, a, b, "sub", alpha=alpha)
    if not isinstance(input, TensorBase):   # number − tensor: torch's rsub
        return Rsub.apply(b, value=a._data)
    return _apply_binary(Sub, a, b, "sub")


def mul(input, other):
    """out = input · other elementwise (broadcasting)."""
    a, b = operands(input, other, "mul", wrap=True)
    return _apply_binary(Mul, a, b, "mul")


def div(input, other, *, rounding_mode=None):
    """out = input / other (true division: integer inputs give float32, like torch)."""
    if rounding_mode is None:   # a Python int divides as the float it is (uint8 / 300)
        input, other = (float(v) if type(v) is int else v for v in (input, other))
    a, b = operands(input, other, "div", wrap=True)
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


DivFloor = _elementwise("DivFloor", np.floor_divide, "y = ⌊a/b⌋ (Python's //);  zero "
                        "gradients, as torch.", backward_name="DivBackward2",
                        d_a=lambda xp: 0.0, d_b=lambda xp: 0.0)
DivTrunc = _elementwise("DivTrunc", lambda a, b: np.trunc(a / b), "y = trunc(a/b);  zero "
                        "gradients, as torch.", backward_name="DivBackward2",
                        d_a=lambda xp: 0.0, d_b=lambda xp: 0.0)


def _rounded_div(a, b, mode, op="div"):
    if mode not in ("floor", "trunc"):
        raise RuntimeError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {mode!r}")
    if a._data.dtype.kind == "f":   # a node: the quotient stays in the graph (zero gradients)
        return _apply_binary(DivFloor if mode == "floor" else DivTrunc, a, b, op)
    if a._data.dtype.kind == "b":
        raise NotImplementedError(f'"div_{mode}_cpu" not implemented for \'Bool\'')
    _no_integer_zero_divisor(a, b, op)
    q = np.floor_divide(a._data, b._data)
    if mode == "trunc":   # exact in integers (a float quotient loses digits past 2**53)
        q = q + ((q * b._data != a._data) & ((a._data < 0) != (b._data < 0)))
    return a._make(q.astype(a._data.dtype))


def floor_divide(input, other):
    """⌊input / other⌋ elementwise; not differentiable."""
    a, b = operands(input, other, "floor_divide", wrap=True)
    _not_for_bool(a, "floor_divide")
    return _rounded_div(a, b, "floor", "floor_divide")


def remainder(input, other):
    """input − ⌊input/other⌋·other (Python's %, sign of the divisor); differentiable for
    floating operands: ∂/∂input = 1, ∂/∂other = −⌊input/other⌋."""
    a, b = operands(input, other, "remainder", wrap=True)
    _not_for_bool(a, "remainder")
    return _modulo(a, b, other, "remainder", np.mod, Remainder, _RemainderNumber)


def _modulo(a, b, other, op, integer_kernel, prim, number_prim):
    """remainder/fmod of promoted operands: integers on the array kernel (not differentiable),
    floats through the primitive (the number overload's node name for a Python number)."""
    if a._data.dtype.kind != "f":
        _no_integer_zero_divisor(a, b, op)
        return a._make(integer_kernel(a._data, b._data))
    return _apply_binary(prim if isinstance(other, TensorBase) else number_prim, a, b, op)


def true_divide(input, other):
    return div(input, other)


def pow(input, exponent):
    """out = input ** exponent; exponent a Python number or a tensor (broadcasting)."""
    if isinstance(exponent, TensorBase) or not isinstance(input, TensorBase):
        a, b = operands(input, exponent, "pow")
        _not_for_bool(a, "pow")
        if a._data.dtype.kind in "iu":   # integers: no gradient; negative exponents allowed
            return a._make(_integer_power(a._data, b._data))
        if not isinstance(input, TensorBase):   # number ** tensor
            return PowOfNumber.apply(b, base=a._data)
        return _apply_binary(Pow, a, b, "pow")
    check_tensor(input, "pow")
    if not isinstance(exponent, (int, float, np.number)) or isinstance(exponent, bool):
        raise TypeError(f"pow: exponent must be a Tensor or a number, got {type(exponent).__name__}")
    if input._data.dtype.kind != "f":
        if isinstance(exponent, float):
            input = to_float(input)
        elif exponent < 0:
            raise RuntimeError("pow: integers to negative integer powers are not allowed")
        elif input._data.dtype.kind in "iu" and exponent > np.iinfo(input._data.dtype).max:
            raise RuntimeError(f"pow: value {exponent} cannot be converted to {input.dtype} "
                               "without overflow")
        elif input._data.dtype.kind == "b":          # bool ** int is int64 (torch's promotion)
            input = cast(input, _dtype.int64)
    return PowScalar.apply(input, exponent=exponent)


def _integer_power(a, b):
    """aᵇ on integer arrays (broadcast) with torch's results for b < 0, which NumPy refuses:
    the integer part of 1/a⁻ᵇ, i.e. 1 for a = 1, ±1 for a = −1 (by b's parity), else 0."""
    negative = b < 0
    if not negative.any():
        return np.power(a, b)
    power = np.power(a, np.where(negative, 0, b))
    inverse = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(negative, inverse, power).astype(power.dtype, copy=False)


def square(input):
    """x² elementwise."""
    return pow(input, 2)


def maximum(input, other):
    """Elementwise max(input, other); ties split the gradient evenly."""
    a, b = operands(input, other, "maximum")
    return _apply_binary(Maximum, a, b, "maximum")


def minimum(input, other):
    """Elementwise min(input, other); ties split the gradient evenly."""
    a, b = operands(input, other, "minimum")
    return _apply_binary(Minimum, a, b, "minimum")


# ---------------------------------------------------------------------------- unary functions
def _unary(cls, op):
    def fn(input):
        check_tensor(input, op)
        return cls.apply(to_float(input))
    fn.__name__ = op
    fn.__qualname__ = op
    fn.__doc__ = (cls.__doc__ or f"Elementwise {op}.").strip().splitlines()[0] + (
        f"\n\n    Shapes: input (*), output (*) — same shape. The derivative rule is "
        f":class:`{cls.__name__}`'s.")
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
tan = _unary(Tan, "tan")
asin = _unary(Asin, "asin")
acos = _unary(Acos, "acos")
atan = _unary(Atan, "atan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")
asinh = _unary(Asinh, "asinh")
acosh = _unary(Acosh, "acosh")
atanh = _unary(Atanh, "atanh")
frac = _unary(Frac, "frac")
log2 = _unary(Log2, "log2")
log10 = _unary(Log10, "log10")
exp2 = _unary(Exp2, "exp2")
erfinv = _unary(Erfinv, "erfinv")
erfc = _unary(Erfc, "erfc")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def trunc(input):
    """Round toward zero; integer tensors are returned as they are (a copy), as torch."""
    check_tensor(input, "trunc")
    if input._data.dtype.kind != "f":
        return input._make(input._data.copy())
    return Trunc.apply(input)


fix = trunc


def frexp(input):
    """Split each element into mantissa and exponent, x = mantissa · 2^exponent with
    0.5 ≤ |mantissa| < 1 (0, ±∞ and NaN: themselves with exponent 0). Returns
    ``(mantissa, exponent)`` (``return_types.frexp``): mantissa of input's floating dtype and
    shape, exponent int32. Differentiable in the mantissa: ∂m/∂x = 2^−exponent."""
    check_tensor(input, "frexp")
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    exponent = np.frexp(input._data)[1].astype(np.int32)
    return return_types.frexp(Frexp.apply(input), input._make(exponent))


def _float_operands(input, other, op):
    """The promoted operands of a floating binary op (fmod keeps integers, as torch)."""
    a, b = operands(input, other, op, wrap=op == "fmod")
    if a._data.dtype.kind != "f" and op != "fmod":
        a, b = to_float(a), to_float(b)
    return a, b


def atan2(input, other):
    """atan2(input, other): the angle of the point (other, input), in (−π, π]."""
    a, b = _float_operands(input, other, "atan2")
    return _apply_binary(Atan2, a, b, "atan2")


arctan2 = atan2


def copysign(input, other):
    """|input| with the sign of other (−0 counts as negative)."""
    a, b = _float_operands(input, other, "copysign")
    if not isinstance(other, TensorBase):
        return _apply_binary(_CopysignNumber, a, b, "copysign")
    return _apply_binary(Copysign, a, b, "copysign")


def fmod(input, other):
    """C's fmod: input − trunc(input/other)·other, with the sign of input."""
    a, b = _float_operands(input, other, "fmod")
    return _modulo(a, b, other, "fmod", np.fmod, Fmod, _FmodNumber)


def hypot(input, other):
    """√(input² + other²) without overflow."""
    a, b = _float_operands(input, other, "hypot")
    return _apply_binary(Hypot, a, b, "hypot")


def logaddexp(input, other):
    """ln(e^input + e^other), stable."""
    a, b = _float_operands(input, other, "logaddexp")
    return _apply_binary(Logaddexp, a, b, "logaddexp")


def logaddexp2(input, other):
    """log₂(2^input + 2^other), stable."""
    a, b = _float_operands(input, other, "logaddexp2")
    return _apply_binary(Logaddexp2, a, b, "logaddexp2")


def xlogy(input, other):
    """input · ln(other), 0 where input = 0 (unless other is nan)."""
    a, b = _float_operands(input, other, "xlogy")
    if not isinstance(other, TensorBase):
        return _apply_binary(_XlogyNumber, a, b, "xlogy")
    return _apply_binary(Xlogy, a, b, "xlogy")


def lerp(input, end, weight):
    """input + weight·(end − input); weight a number or a tensor (broadcasting)."""
    check_tensor(input, "lerp")
    check_tensor(end, "lerp")
    if input._data.dtype != end._data.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `end` but got {end.dtype}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"lerp: not implemented for {input.dtype}")
    if isinstance(weight, TensorBase):
        if weight._data.dtype != input._data.dtype:
            raise RuntimeError(f"lerp: expected dtype {input.dtype} for `weight` but got "
                               f"{weight.dtype}")
        try:
            return Lerp.apply(input, end, weight)
        except ValueError:
            raise RuntimeError(f"lerp: shapes {tuple(input.shape)}, {tuple(end.shape)} and "
                               f"{tuple(weight.shape)} cannot be broadcast together") from None
    return _apply_binary(LerpScalar, input, end, "lerp", weight=weight)


def neg(input):
    """out = −input."""
    check_tensor(input, "neg")
    if input._data.dtype.kind == "b":
        raise RuntimeError("neg: negation of a bool tensor is not supported; use ~ (logical_not)")
    return Neg.apply(input)


def abs(input):
    """out = |input|; derivative sign(input)."""
    check_tensor(input, "abs")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("abs: \"abs_cpu\" not implemented for 'Bool'")
    return Abs.apply(input)


def relu(input):
    """ReLU(z) = max(0, z); derivative I(z > 0)."""
    check_tensor(input, "relu")
    return Relu.apply(input)


def sign(input):
    """−1, 0 or +1 by the sign of each element; its derivative is zero wherever it exists.
    A bool tensor is its own sign (a copy), as torch."""
    check_tensor(input, "sign")
    if input._data.dtype.kind == "b":
        return input._make(input._data.copy())
    return Sign.apply(input)


def clamp(input, min=None, max=None):
    """Clip each element to [min, max] (either bound may be None; tensors allowed)."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, TensorBase) or isinstance(max, TensorBase):
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


def where(condition, input=None, other=None):
    """Elementwise choice: input where condition is True, else other (all broadcast).
    ``where(condition)`` alone: the indices where it holds, one int64 tensor per dim
    (``nonzero(as_tuple=True)``)."""
    cond = condition._data if isinstance(condition, TensorBase) else np.asarray(condition)
    if input is None and other is None:
        check_tensor(condition, "where", "condition")
        return tuple(condition._make(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(cond)))
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where: expected condition to be a bool tensor, got {cond.dtype}")
    if not isinstance(input, TensorBase) and not isinstance(other, TensorBase):
        # two numbers: the dtype of Python scalars (bool, int64 or the default float dtype)
        like = condition if isinstance(condition, TensorBase) else None
        if like is None:
            raise TypeError("where: expected a Tensor condition when both values are numbers")
        input = like._make(np.asarray(input, result_type(input, other).np))
    a, b = operands(input, other, "where")
    try:
        shape = np.broadcast_shapes(cond.shape, a._data.shape, b._data.shape)
    except ValueError:
        raise RuntimeError(f"where: shapes {tuple(cond.shape)} (condition), {tuple(a.shape)} and "
                         f"{tuple(b.shape)} cannot be broadcast together") from None
    if cond.shape != shape:
        cond = np.broadcast_to(cond, shape)
    return Where.apply(a, b, cond=cond)


def cast(input, dtype):
    """Convert to ``dtype``; differentiable when both dtypes are floating."""
    dtype = _dtype.as_dtype(dtype)
    if input._data.dtype == dtype.np:
        return input
    if dtype.is_floating_point and input._data.dtype.kind == "f":
        return Cast.apply(input, dtype=dtype)
    return array_function(functools.partial(np.ndarray.astype, dtype=dtype.np), input)


# ---------------------------------------------------------------------------- comparisons & logic
def _compare(ufunc, op):
    def fn(input, other):
        a, b = operands(input, other, op, wrap=True)
        try:
            return array_function(ufunc, a, b)
        except ValueError:
            raise RuntimeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
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


def _bitwise(ufunc, op, kinds="biu"):
    def fn(input, other):
        a, b = operands(input, other, op, wrap=True)
        if a._data.dtype.kind not in kinds:
            # torch: no kernel for floats (NotImplementedError), not a bad argument type
            raise NotImplementedError(f"{op}: expected {'bool or ' * ('b' in kinds)}integer "
                                      f"tensors, got {a.dtype}")
        return array_function(ufunc, a, b)
    fn.__name__ = fn.__qualname__ = op
    return fn


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift")
bitwise_left_shift.__doc__ = "out = input · 2^other for integers (0 once shifted past the width)."
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift")
bitwise_right_shift.__doc__ = "out = ⌊input / 2^other⌋ for integers (an arithmetic shift)."
gcd = _bitwise(np.gcd, "gcd", kinds="iu")
gcd.__doc__ = ("out = the greatest common divisor of |input| and |other| (integers, broadcasting; "
               "gcd(0, 0) = 0). Not differentiable.")
lcm = _bitwise(np.lcm, "lcm", kinds="iu")
lcm.__doc__ = ("out = the least common multiple of |input| and |other| (integers, broadcasting; 0 "
               "when either is 0; wraps around past the dtype's range). Not differentiable.")


class Heaviside(Node):
    """H(x) = 0 for x < 0 (and nan), ``values`` at x = 0, 1 for x > 0. torch defines no
    derivative: the output requires grad, and differentiating it raises RuntimeError."""

    backward_name = "NotImplemented"

    def forward(self, x, values):
        return np.where(x == 0, values, x > 0).astype(x.dtype, copy=False)

    def vjp(self, xp, g):
        raise RuntimeError("derivative for aten::heaviside is not implemented")

    jvp = vjp


def heaviside(input, values):
    """The Heaviside step: out = 0 where input < 0, ``values`` where input = 0, 1 where
    input > 0. Shapes: input and values broadcast; both tensors of one dtype (as torch).
    No derivative (torch has none)."""
    check_tensor(input, "heaviside")
    check_tensor(values, "heaviside", "values")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return _apply_binary(Heaviside, input, values, "heaviside")


def logical_not(input):
    return array_function(np.logical_not, input)


def bitwise_not(input):
    if input._data.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: expected bool or integer tensor, got {input.dtype}")
    return array_function(np.invert, input)


def _predicate(ufunc, op, doc):
    def fn(input):
        check_tensor(input, op)
        return array_function(ufunc, input)
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = doc + " Returns a bool tensor (not differentiable)."
    return fn


isnan = _predicate(np.isnan, "isnan", "True where an element is nan.")
isinf = _predicate(np.isinf, "isinf", "True where an element is +inf or −inf.")
isposinf = _predicate(np.isposinf, "isposinf", "True where an element is +inf.")
isneginf = _predicate(np.isneginf, "isneginf", "True where an element is −inf.")
isfinite = _predicate(np.isfinite, "isfinite", "True where an element is neither inf nor nan.")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input − other| ≤ atol + rtol·|other| elementwise (equal infinities are close; nan is
    close to nan only with ``equal_nan``); a bool tensor, not differentiable."""
    check_tensor(input, "isclose")
    check_tensor(other, "isclose")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"isclose: {input.dtype} did not match {other.dtype}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol < 0:
            raise RuntimeError(f"isclose: {name} must be greater than or equal to zero, but got "
                               f"{tol}")
    a, b = input._data, other._data
    try:
        if a.dtype.kind in "fc":
            close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
        else:
            close = np.abs(a.astype(np.float64) - b) <= atol + rtol * np.abs(b.astype(np.float64))
    except ValueError:
        raise RuntimeError(f"isclose: shapes {tuple(input.shape)} and {tuple(other.shape)} cannot "
                           "be broadcast together") from None
    return input._make(np.asarray(close))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when every element of ``isclose(input, other, ...)`` is: |a − b| ≤ atol + rtol·|b|,
    a and b broadcast; both of one dtype, as torch."""
    check_tensor(input, "allclose")
    check_tensor(other, "allclose", "other")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"allclose: {input.dtype} did not match {other.dtype}")
    try:
        np.broadcast_shapes(input._data.shape, other._data.shape)
    except ValueError:
        raise RuntimeError(f"allclose: the shapes {tuple(input.shape)} and {tuple(other.shape)} "
                           "cannot be broadcast together") from None
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def _rounding(cls, op):
    def fn(input):
        check_tensor(input, op)
        if input._data.dtype.kind != "f":   # integers are already whole: a copy, as torch
            return input._make(input._data.copy())
        return cls.apply(input)
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = cls.__doc__ + " Integer tensors are returned as they are (a copy)."
    return fn


floor = _rounding(Floor, "floor")
ceil = _rounding(Ceil, "ceil")
_round = _rounding(Round, "round")


class RoundDecimals(Node):
    """y = round(x · 10ᵈ) / 10ᵈ (half to even);  y′ = 0. torch's RoundBackward1."""
    elementwise = True
    params = ("decimals",)
    backward_name = "RoundBackward1"

    def forward(self, x):
        return np.round(x, self.decimals)

    def d_x(self, xp):
        return 0.0


def round(input, *, decimals=0):
    """Round to ``decimals`` places, halves to even; zero gradients, as torch."""
    if decimals == 0:
        return _round(input)
    check_tensor(input, "round")
    if input._data.dtype.kind != "f":   # torch's type and words
        raise NotImplementedError(f"\"round_cpu\" not implemented for '{input.dtype}' with decimals")
    return RoundDecimals.apply(input, decimals=decimals)


# ------------------------------------- activations that are also Tensor methods (torch's)
class Hardshrink(Node):
    """y = z where |z| > λ, 0 on [−λ, λ];  y′ = I(|z| > λ)."""

    elementwise = True
    params = ("lambd",)

    def forward(self, x):
        return _where((x >= -self.lambd) & (x <= self.lambd), np.zeros((), x.dtype), x)

    def d_x(self, xp, x):
        return ~((x >= -self.lambd) & (x <= self.lambd))   # (a NaN passes, as torch)


def hardshrink(input, lambd: float = 0.5):
    """Hardshrink(z) = z if |z| > λ else 0;  derivative I(|z| > λ). Shapes: (*) -> (*)."""
    check_tensor(input, "hardshrink")
    if input._data.dtype.kind != "f":   # torch has no integer kernel
        raise NotImplementedError(f"hardshrink: \"hardshrink_cpu\" not implemented for "
                                  f"'{_argcompat.torch_type_name(input.dtype)}' (expected a "
                                  f"floating-point input; use input.float())")
    return Hardshrink.apply(input, lambd=lambd)


class PreluKernel(Node):
    """y = z for z > 0, a·z otherwise, a (broadcast over z) learnt;  ∂y/∂z = 1 or a,
    ∂y/∂a = 0 or z."""

    elementwise = True

    def forward(self, x, w):
        return _where(x > 0, x, w * x)

    def d_x(self, xp, x, w):
        return xp.where(x > 0, xp.ones_like(x), w + xp.zeros_like(x))

    def d_w(self, xp, x):
        return xp.where(x > 0, 0.0, x)


def prelu(input, weight):
    """PReLU(z) = max(0, z) + a·min(0, z), a learnt per channel (dim 1) or shared.

    Shapes: input (N, C, *) (or fewer dims: one channel), weight (C,) or (1,) (or 0-d).
    Derivatives 1 or a in z, 0 or z in a."""
    check_tensor(input, "prelu")
    check_tensor(weight, "prelu", "weight")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype} and "
                           f"{weight.dtype}")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != n:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. "
                               f"Found parameter numbers = {n} and channel size = {channels}.")
    shape = ((1, n) + (1,) * (input.ndim - 2)) if input.ndim >= 2 else (1,) * input.ndim
    return PreluKernel.apply(input, weight.reshape(shape))
