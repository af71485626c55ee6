"""Activation functions (``torch.nn.functional``): each adds the non-linearity that lets stacked
layers represent more than one linear map. Each docstring gives g(z) and g'(z)."""
from __future__ import annotations

import math

import numpy as np

from ... import _sampling
from ..._graph import Node
from ..._rng import stream as _rng_stream
from ...backends import onednn
from ...backends.namespace import ArrayOps
from ...backends.namespace import softplus as _softplus
from ...backends.namespace import where as _where
from ...creation import as_tensor
from ...ops import elementwise as ew
from ...ops._util import check_tensor
from ...ops.elementwise import to_float
from ...ops.elementwise import Hardshrink, PreluKernel, hardshrink, prelu  # noqa: F401  (F.*)
from ...ops.shape import cat
from ...ops.softmax import implicit_dim
from ...ops.softmax import log_softmax as _log_softmax
from ...ops.softmax import softmax as _softmax
from ...tensor import Tensor
from .pooling import scalar_name

sigmoid = ew.sigmoid  # σ(a) = 1/(1+e^{−a}); σ' = σ(1−σ); stable for |a| ≤ 1e4


def _floating(input, op: str, kernel: str):
    """torch has no integer or bool kernel for most activations ("elu_cpu" not implemented for
    'Long'): refuse those inputs as torch does instead of computing them in float."""
    check_tensor(input, op)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: \"{kernel}\" not implemented for '{scalar_name(input)}' "
                                  f"(expected a floating-point input; use input.float())")
tanh = ew.tanh        # g(z) = (e^z − e^{−z})/(e^z + e^{−z}); g' = 1 − g²


def relu(input, inplace: bool = False) -> Tensor:
    """ReLU(z) = max(0, z) = z·I(z > 0);  ReLU'(z) = I(z > 0).

    Shapes: input (*), output (*). ``inplace=True`` overwrites ``input`` and returns it (while
    recording, its history then ends in this ReLU, as torch's relu_).
    """
    if inplace:
        return input.relu_()   # on a leaf that requires grad: torch's in-place error
    return ew.relu(input)


class LeakyRelu(Node):
    """g(z) = max(εz, z) for ε ≪ 1 (z for z > 0, εz otherwise); g'(z) = 1 or ε."""

    elementwise = True
    params = ("slope",)

    def forward(self, x):
        negative = np.asarray(x * x.dtype.type(self.slope))   # (0-d: a scalar made an array)
        if 0 < self.slope <= 1:   # then εz ≤ z exactly where z > 0: one pass, the same bits
            return np.maximum(x, negative, out=negative)
        return _where(x > 0, x, negative)

    def d_x(self, xp, x):
        a = xp.data(x)
        return xp.const(_where(a > 0, np.ones((), a.dtype), np.asarray(self.slope, a.dtype)))

    def kernel_d_x(self, g, x):   # ḡ·g′ on arrays: ḡ where z > 0, else ḡ·ε (the same bits)
        return _where(x > 0, g, g * g.dtype.type(self.slope))


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Leaky ReLU g(z) = max(εz, z), ε = ``negative_slope``: a small slope for z < 0 keeps
    "dead" units trainable.  g'(z) = 1 for z > 0, ε otherwise."""
    _floating(input, "leaky_relu", "leaky_relu_cpu")
    if isinstance(negative_slope, (str, bytes)) or not np.isscalar(negative_slope):
        raise TypeError(f"leaky_relu: argument 'negative_slope' must be a Number, not "
                        f"{type(negative_slope).__name__}")
    if inplace:
        return input._inplace("leaky_relu_",
                              lambda x: _LeakyReluInplace.apply(x, slope=negative_slope))
    return LeakyRelu.apply(input, slope=negative_slope)


class Heaviside(Node):
    """H(x) = 1 for x > 0, 0 for x < 0, ``values`` at x = 0 (torch.heaviside's convention);
    H′ = 0 wherever it exists (torch's gradient for x, and none for ``values``)."""

    def forward(self, x, values):
        return np.where(x > 0, 1, np.where(x < 0, 0, values)).astype(x.dtype)

    def vjp(self, xp, g):
        return xp.zeros_like(g), None

    def jvp(self, xp, tangents, out):
        return xp.zeros_like(out)


def heaviside(input, values) -> Tensor:
    """The Heaviside step H(x): 1 for x > 0, 0 for x < 0 and ``values`` at 0 — the perceptron's
    activation f(x) = H(wᵀx + b).

    Its derivative is 0 everywhere except at 0, where it does not exist, so the backward pass
    returns zeros: a loss built on a step gives every weight a zero gradient, and gradient
    descent cannot move. That is why trainable networks use differentiable activations
    (sigmoid, tanh, ReLU) and why the perceptron has its own learning rule.
    """
    check_tensor(input, "heaviside")
    values = values if isinstance(values, Tensor) else as_tensor(values, input.dtype)
    return Heaviside.apply(to_float(input) if input.requires_grad else input, values.to(input.dtype))


class Elu(Node):
    """ELU(z) = λz for z > 0, λα(e^{sz} − 1) otherwise (λ = ``scale``, s = ``input_scale``, both 1
    for ELU; SELU and CELU are the same rule, as in torch);  ELU′(z) = λ or λαs·e^{sz} (the
    latter at 0, as torch)."""

    elementwise = True
    params = ("alpha", "scale", "input_scale")
    scale = input_scale = 1.0

    def forward(self, x):
        # e^z of the negative part only: the positive side never overflows (nor warns)
        neg = np.minimum(0, x)   # (x second: a tie gives x, so −0.0 maps to −0.0, as torch)
        if self.input_scale != 1:
            neg = neg * x.dtype.type(self.input_scale)
        out = _where(x > 0, x, (self.alpha * np.expm1(neg)).astype(x.dtype, copy=False))
        return out if self.scale == 1 else out * x.dtype.type(self.scale)

    def d_x(self, xp, x):
        s, lam = self.input_scale, self.scale
        if s == 1 and lam == 1:
            return xp.where(x > 0, 1.0, self.alpha * xp.exp(xp.clamp(x, None, 0)))
        return xp.where(x > 0, lam, (lam * self.alpha * s) * xp.exp(xp.clamp(x, None, 0) * s))


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(z) = z for z > 0, α(e^z − 1) otherwise;  derivative 1 or αe^z."""
    _floating(input, "elu", "elu_cpu")
    if inplace:
        return input._inplace("elu_", lambda x: _EluInplace.apply(x, alpha=alpha))
    return Elu.apply(to_float(input), alpha=alpha)


# √(2/π) and the cubic's coefficient of GELU's tanh approximation; 1/√2 and 1/√(2π) of the exact one
_K, _C = math.sqrt(2 / math.pi), 0.044715
_R2, _R2PI = 1 / math.sqrt(2), 1 / math.sqrt(2 * math.pi)


class Gelu(Node):
    """GELU(z) = z·Φ(z) = ½z(1 + erf(z/√2));  GELU′(z) = Φ(z) + z·φ(z), φ(z) = e^{−z²/2}/√(2π).

    ``approximate='tanh'``: ½z(1 + tanh u), u = √(2/π)(z + 0.044715 z³), computed as z·σ(2u)
    (the same function: σ keeps its tail where 1 + tanh u rounds to a float32 ulp);
    derivative σ(2u) + z·σ(2u)(1 − σ(2u))·2u′, u′ = √(2/π)(1 + 3·0.044715 z²).
    """

    elementwise = True
    params = ("approximate",)

    def forward(self, x):
        if onednn.elementwise_supported(x, least=onednn.ACTIVATION_MIN):   # (NumPy has no erf)
            return onednn.activation("gelu_tanh" if self.approximate == "tanh" else "gelu", x)
        if self.approximate == "tanh":
            return x * ew._sigmoid(2 * _K * (x + _C * x * x * x))
        return 0.5 * x * (1 + ew.Erf.forward(x * _R2))

    def d_x(self, xp, x):
        if self.approximate == "tanh":
            s = xp.sigmoid(2 * _K * (x + _C * x * x * x))
            return s + x * s * (1 - s) * (2 * _K) * (1 + 3 * _C * x * x)
        return 0.5 * (1 + xp.apply(ew.Erf, x * _R2)) + x * xp.exp(-0.5 * x * x) * _R2PI

    def kernel_d_x(self, g, x):
        if onednn.elementwise_supported(x, g, least=onednn.ACTIVATION_MIN):
            return onednn.activation_backward(
                "gelu_tanh" if self.approximate == "tanh" else "gelu", g, x)
        return g * self.d_x(ArrayOps, x)


def gelu(input, approximate: str = "none") -> Tensor:
    """GELU(z) = z·Φ(z), Φ the standard normal CDF = ½(1 + erf(z/√2)); with
    ``approximate='tanh'``: ½z(1 + tanh(√(2/π)(z + 0.044715 z³))).

    Derivative (exact) Φ(z) + z·φ(z), φ the standard normal density; (tanh) with
    u = √(2/π)(z + 0.044715 z³): ½(1 + tanh u) + ½z(1 − tanh² u)·√(2/π)(1 + 3·0.044715 z²)."""
    _floating(input, "gelu", "GeluKernelImpl")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    return Gelu.apply(to_float(input), approximate=approximate)


class Silu(Node):
    """SiLU(z) = z·σ(z) (swish);  SiLU′(z) = σ(z)(1 + z(1 − σ(z)))."""

    elementwise = True

    def forward(self, x):
        if onednn.elementwise_supported(x, least=onednn.ACTIVATION_MIN):
            return onednn.activation("silu", x)
        return x * ew._sigmoid(x)

    def d_x(self, xp, x):
        s = xp.sigmoid(x)
        return s * (1 + x * (1 - s))

    def kernel_d_x(self, g, x):
        if onednn.elementwise_supported(x, g, least=onednn.ACTIVATION_MIN):
            return onednn.activation_backward("silu", g, x)
        return g * self.d_x(ArrayOps, x)


def silu(input, inplace: bool = False) -> Tensor:
    """SiLU(z) = z·σ(z) (swish);  derivative σ(z)(1 + z(1 − σ(z)))."""
    _floating(input, "silu", "silu_cpu")
    if inplace:
        return input._inplace("silu_", Silu.apply)
    return Silu.apply(to_float(input))


class Softplus(Node):
    """y = (1/β) log(1 + e^{βx}) (as max(βx, 0) + log1p(e^{−|βx|}): never overflows), and y = x
    where βx exceeds ``threshold`` (None: nowhere);  dy/dx = σ(βx) (1 above the threshold)."""

    elementwise = True
    params = ("beta", "threshold")
    beta, threshold = 1.0, None

    def forward(self, x):
        bx = x * x.dtype.type(self.beta) if self.beta != 1 else x
        out = _softplus(bx)
        if self.beta != 1:
            out /= x.dtype.type(self.beta)
        return out if self.threshold is None else _where(bx > self.threshold, x, out)

    def d_x(self, xp, x):
        bx = x * self.beta if self.beta != 1 else x
        s = xp.sigmoid(bx)
        return s if self.threshold is None else xp.where(bx > self.threshold, 1.0, s)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus(z) = (1/β) log(1 + e^{βz}), linear (= z) where βz > threshold; derivative σ(βz)."""
    _floating(input, "softplus", "softplus_cpu")
    return Softplus.apply(to_float(input), beta=beta, threshold=threshold)


class Hardtanh(Node):
    """Clip to [min_val, max_val];  derivative 1 strictly inside, 0 elsewhere (at the bounds too:
    torch's hardtanh, unlike clamp, passes no gradient there)."""

    elementwise = True
    params = ("min_val", "max_val")

    def forward(self, x):
        return np.clip(x, self.min_val, self.max_val).astype(x.dtype, copy=False)

    def d_x(self, xp, x):
        # (as torch's test, so that a NaN passes its gradient on)
        return ~((x <= self.min_val) | (x >= self.max_val))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clip to [min_val, max_val];  derivative 1 strictly inside (min_val, max_val), 0 elsewhere.

    Not ``clamp``: clamp passes the gradient at the bounds themselves, torch's hardtanh does not."""
    check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val} "
                         f"and max_val={max_val}")
    if inplace:
        return input._inplace("hardtanh_", lambda x: Hardtanh.apply(x, min_val=min_val,
                                                                     max_val=max_val))
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


class LogSigmoid(Node):
    """log σ(z) = −log(1 + e^{−z}) (−softplus(−z): stable for large |z|);  derivative σ(−z)."""

    elementwise = True

    def forward(self, x):
        return -_softplus(-x)

    def d_x(self, xp, x):
        return xp.sigmoid(-x)


# torch's names for the in-place forms, whose nodes torch records as other overloads
_EluInplace = Elu.named("EluBackward1")
_LeakyReluInplace = LeakyRelu.named("LeakyReluBackward1")


def logsigmoid(input) -> Tensor:
    """log σ(z) = −log(1 + e^{−z}), stable for large |z|;  derivative σ(−z) = 1 − σ(z)."""
    _floating(input, "logsigmoid", "log_sigmoid_cpu")
    return LogSigmoid.apply(to_float(input))


# ---------------------------------------------------------------------------- more activations
# (torch.nn.functional's remaining pointwise non-linearities: each a rule of the table's form, the
# local derivative written once, or a composite where torch's own graph is one)

class Celu(Elu):
    """CELU(z) = max(0, z) + min(0, α(e^{z/α} − 1)): ELU with input scale 1/α;  derivative 1 or
    e^{z/α}. As torch's derivative formula, the backward's 1/α is taken of α rounded to float32
    (the forward's in double)."""

    backward_name = "CeluBackward0"

    def d_x(self, xp, x):
        s = 1.0 / float(np.float32(self.alpha))
        return xp.where(x > 0, 1.0, (self.alpha * s) * xp.exp(xp.clamp(x, None, 0) * s))


_Celu = Celu
_CeluInplace = Celu.named("CeluBackward1")
# SELU's constants (Klambauer et al. 2017): the fixed point mean 0, variance 1
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _unary_inplace(input, inplace, op, node, kernel=None, **params):
    _floating(input, op, kernel or op + "_cpu")
    if inplace:
        return input._inplace(op + "_", lambda x: node.apply(x, **params))
    return node.apply(to_float(input), **params)


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU(z) = max(0, z) + min(0, α(e^{z/α} − 1));  derivative 1 for z > 0, e^{z/α} otherwise.

    Continuously differentiable for every α (ELU only for α = 1). Shapes: (*) -> (*)."""
    check_tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _unary_inplace(input, inplace, "celu", _CeluInplace if inplace else _Celu, "elu_cpu",
                          alpha=alpha, input_scale=1.0 / alpha)


def selu(input, inplace: bool = False) -> Tensor:
    """SELU(z) = λ·(z for z > 0, α(e^z − 1) otherwise), λ ≈ 1.0507, α ≈ 1.6733: the constants
    that make mean 0, variance 1 a fixed point of a SELU layer (self-normalizing networks).
    Derivative λ or λαe^z. Shapes: (*) -> (*)."""
    return _unary_inplace(input, inplace, "selu", _EluInplace if inplace else Elu, "elu_cpu",
                          alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def relu6(input, inplace: bool = False) -> Tensor:
    """ReLU6(z) = min(max(0, z), 6) = hardtanh(z, 0, 6);  derivative 1 on (0, 6), 0 elsewhere."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Hardswish(Node):
    """Hardswish(z) = z·min(max(z + 3, 0), 6)/6;  derivative 0 for z ≤ −3, z/3 + ½ for
    −3 < z < 3, 1 for z ≥ 3 (torch's choices at ±3)."""

    elementwise = True

    def forward(self, x):
        return x * np.minimum(np.maximum(x + 3, 0), 6) / 6

    def d_x(self, xp, x):
        return xp.where(x <= -3, 0.0, xp.where(x < 3, x / 3 + 0.5, 1.0))


def hardswish(input, inplace: bool = False) -> Tensor:
    """Hardswish(z) = z·ReLU6(z + 3)/6 (MobileNetV3's cheap swish);  derivative 0, z/3 + ½, 1
    on z ≤ −3, (−3, 3), z ≥ 3. Shapes: (*) -> (*)."""
    return _unary_inplace(input, inplace, "hardswish", Hardswish)


class Hardsigmoid(Node):
    """Hardsigmoid(z) = min(max(z + 3, 0), 6)/6;  derivative 1/6 on (−3, 3), 0 elsewhere."""

    elementwise = True

    def forward(self, x):
        return np.minimum(np.maximum(x + 3, 0), 6) / 6

    def d_x(self, xp, x):
        # torch's kernel multiplies by the float constant 1.0f/6.0f in every dtype
        return xp.where((x > -3) & (x < 3), xp.ones_like(x) * _SIXTH_F32, 0.0)


_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """Hardsigmoid(z) = ReLU6(z + 3)/6, a piecewise-linear σ;  derivative 1/6 on (−3, 3), 0
    elsewhere. Shapes: (*) -> (*)."""
    return _unary_inplace(input, inplace, "hardsigmoid", Hardsigmoid)


class Mish(Node):
    """Mish(z) = z·tanh(softplus(z));  Mish′(z) = t + z·σ(z)(1 − t²), t = tanh(softplus(z))."""

    elementwise = True

    def forward(self, x):
        return x * np.tanh(_softplus(x))

    def d_x(self, xp, x):
        t = xp.tanh(xp.apply(Softplus, x, beta=1.0, threshold=None))
        return t + x * xp.sigmoid(x) * (1 - t * t)


def mish(input, inplace: bool = False) -> Tensor:
    """Mish(z) = z·tanh(log(1 + e^z));  derivative t + z·σ(z)(1 − t²), t = tanh(softplus z).
    Shapes: (*) -> (*)."""
    return _unary_inplace(input, inplace, "mish", Mish)


def softsign(input) -> Tensor:
    """Softsign(z) = z/(1 + |z|);  derivative 1/(1 + |z|)² (a composite: torch records it as a
    division too). Shapes: (*) -> (*)."""
    check_tensor(input, "softsign")
    input = to_float(input)
    return input / (input.abs() + 1)


def tanhshrink(input) -> Tensor:
    """Tanhshrink(z) = z − tanh z;  derivative tanh² z (a composite, as torch's).
    Shapes: (*) -> (*)."""
    check_tensor(input, "tanhshrink")
    input = to_float(input)
    return input - input.tanh()


class Softshrink(Node):
    """y = z − λ for z > λ, z + λ for z < −λ, 0 between (soft thresholding, the proximal map of
    λ|z|);  y′ = I(|z| > λ)."""

    elementwise = True
    params = ("lambd",)

    def forward(self, x):
        lam = x.dtype.type(self.lambd)
        # x·0 in the dead zone, as torch: a NaN stays NaN, −0.3 gives −0.0
        return _where(x > lam, x - lam, _where(x < -lam, x + lam, x * 0))

    def d_x(self, xp, x):
        return ~((x >= -self.lambd) & (x <= self.lambd))   # (a NaN passes, as torch)


def softshrink(input, lambd: float = 0.5) -> Tensor:
    """Softshrink(z) = z − λ·sign(z) where |z| > λ, else 0;  derivative I(|z| > λ).
    λ must be ≥ 0 (RuntimeError otherwise, as torch). Shapes: (*) -> (*)."""
    _floating(input, "softshrink", "softshrink_check")
    if not lambd >= 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) for input dtype "
                           f"{input.dtype}, but found {lambd}")
    return Softshrink.apply(to_float(input), lambd=lambd)


class Threshold(Node):
    """y = z where z > threshold, ``value`` elsewhere;  y′ = I(z > threshold)."""

    elementwise = True
    params = ("threshold", "value")

    def forward(self, x):
        # torch's test, x ≤ threshold, keeps a NaN (x > threshold would replace it)
        return _where(x <= self.threshold, np.asarray(self.value, x.dtype), x)

    def d_x(self, xp, x):
        return ~(x <= self.threshold)


_ThresholdInplace = Threshold.named("ThresholdBackward1")


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """y = z if z > threshold else value;  derivative I(z > threshold). Shapes: (*) -> (*)."""
    check_tensor(input, "threshold")
    if inplace:
        return input._inplace("threshold_", lambda x: _ThresholdInplace.apply(
            x, threshold=threshold, value=value))
    return Threshold.apply(input, threshold=threshold, value=value)


class Glu(Node):
    """GLU(x) = a ⊗ σ(b), a and b the two halves of x along ``dim``;
    ∂/∂a = σ(b), ∂/∂b = a·σ(b)(1 − σ(b)) (the VJP concatenates the two halves' gradients)."""

    params = ("dim",)

    def _halves(self, x):
        n = x.shape[self.dim] // 2
        lead = (slice(None),) * self.dim
        return x[lead + (slice(0, n),)], x[lead + (slice(n, None),)]

    def forward(self, x):
        a, b = self._halves(x)
        return a * ew._sigmoid(b)

    def vjp(self, xp, g, x):
        a, b = self._halves(x)
        s = xp.sigmoid(b)
        parts = (g * s, g * a * s * (1 - s))
        if xp.recording:
            return cat(parts, self.dim)
        return np.concatenate(parts, self.dim)

    def jvp(self, xp, tangents, x):
        a, b = self._halves(x)
        ta, tb = self._halves(tangents[0])
        s = xp.sigmoid(b)
        return ta * s + a * s * (1 - s) * tb


def glu(input, dim: int = -1) -> Tensor:
    """GLU(x) = a ⊗ σ(b), x split in halves a, b along ``dim`` (a gated linear unit).

    Shapes: (*₁, 2M, *₂) -> (*₁, M, *₂). Derivatives σ(b) in a, a·σ(b)(1 − σ(b)) in b."""
    _floating(input, "glu", "glu_cpu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    dim %= input.ndim
    if input.shape[dim] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    return Glu.apply(to_float(input), dim=dim)


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(z)_i = e^{z_i}/Σ_j e^{z_j} along ``dim`` (stable: the max is subtracted).
    Without ``dim``, torch's deprecated implicit choice (0 for 0-, 1-, 3-d inputs, else 1), with
    its warning. Shapes: (*) -> (*)."""
    check_tensor(input, "softmax")
    if dim is None:
        dim = implicit_dim(input.ndim, "softmax", _stacklevel - 1)
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log softmax(z)_i = z_i − log Σ_j e^{z_j} along ``dim`` (the log-sum-exp trick). Without
    ``dim``, torch's deprecated implicit choice, with its warning. Shapes: (*) -> (*)."""
    check_tensor(input, "log_softmax")
    if dim is None:
        dim = implicit_dim(input.ndim, "log_softmax", _stacklevel - 1)
    return _log_softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmin(z)_i = e^{−z_i}/Σ_j e^{−z_j} = softmax(−z) along ``dim``.
    Shapes: (*) -> (*)."""
    check_tensor(input, "softmin")
    if dim is None:
        dim = implicit_dim(input.ndim, "softmin", _stacklevel - 1)
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(-input, dim)


# torch's in-place spellings: the function with inplace=True, overwriting and returning ``input``
def relu_(input) -> Tensor:
    """In-place :func:`relu`: input ← max(0, input)."""
    return relu(input, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return _threshold(input, threshold, value, inplace=True)


_threshold = threshold


def elu_(input, alpha: float = 1.0) -> Tensor:
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def celu_(input, alpha: float = 1.0) -> Tensor:
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def selu_(input) -> Tensor:
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


class RreluWithNoise(Node):
    """y = z·a, a = 1 for z > 0 and the slope drawn (training) or (l + u)/2 (evaluation)
    otherwise, a fixed in forward;  y′ = a (no second derivative)."""

    elementwise = True
    params = ("noise",)

    def forward(self, x):
        return x * self.noise

    def d_x(self, xp):
        return xp.const(self.noise)


_RreluInplace = RreluWithNoise.named("RreluWithNoiseBackward1")


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU (Xu et al. 2015): y = z for z > 0, a·z otherwise, with a ~ U(lower,
    upper) drawn per non-positive element while training (torch's draws: one 53-bit uniform per
    such element, in order, from the global stream) and a = (lower + upper)/2 in evaluation.
    Derivative 1 or a. Shapes: (*) -> (*)."""
    _floating(input, "rrelu", "leaky_relu_cpu")
    if lower > upper:
        raise RuntimeError("rrelu: Lower bound should be less than or equal to the upper bound")
    x = input._data
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    # torch converts the bounds to the op's math type (float for float16/32) before drawing
    lo, hi = (float(np.float32(lower)), float(np.float32(upper))) if dt != np.float64 else (lower, upper)
    noise = np.ones(x.shape, dt)
    low = x <= 0
    if training:
        k = int(np.count_nonzero(low))
        u = _sampling._u53(_rng_stream(None), k)
        noise[low] = (u * (hi - lo) + lo).astype(dt)   # C order: torch's contiguous traversal
    else:
        noise[low] = dt.type((lo + hi) / 2)
    if inplace:
        return input._inplace("rrelu_", lambda t: _RreluInplace.apply(t, noise=noise))
    return RreluWithNoise.apply(to_float(input), noise=noise)


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_softmax(logits, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax (Concrete) distribution: y = softmax((logits + g)/τ),
    g = −log E, E ~ Exp(1) (Gumbel noise, torch's draws). ``hard``: the one-hot of argmax y in
    the forward, with y's gradient (the straight-through estimator: y_hard − sg(y) + y).
    Shapes: (*, K) -> same. ``eps`` is unused, as in torch."""
    check_tensor(logits, "gumbel_softmax", "logits")
    noise = Tensor._make(np.empty(tuple(logits.shape), logits._data.dtype)).exponential_()
    gumbels = -noise.log()
    y_soft = _softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    axis = dim % logits.ndim if logits.ndim else 0
    y = y_soft._data
    hard_np = np.zeros_like(y)
    np.put_along_axis(hard_np, np.expand_dims(y.argmax(axis), axis), 1.0, axis)
    return Tensor._make(hard_np) - y_soft.detach() + y_soft
