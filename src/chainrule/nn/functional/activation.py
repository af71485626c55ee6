"""Activation functions (``torch.nn.functional``): each adds the non-linearity that lets stacked
layers represent more than one linear map. Each docstring gives g(z) and g'(z)."""
from __future__ import annotations

import math

import numpy as np

from ..._graph import Node
from ..._modes import STATE
from ...ops import elementwise as ew
from ...ops._util import check_tensor
from ...ops.elementwise import to_float
from ...ops.softmax import log_softmax, softmax  # noqa: F401  (re-exported)
from ...tensor import Tensor

sigmoid = ew.sigmoid  # σ(a) = 1/(1+e^{−a}); σ' = σ(1−σ); stable for |a| ≤ 1e4
tanh = ew.tanh        # g(z) = (e^z − e^{−z})/(e^z + e^{−z}); g' = 1 − g²


def relu(input, inplace: bool = False) -> Tensor:
    """ReLU(z) = max(0, z) = z·I(z > 0);  ReLU'(z) = I(z > 0).

    Shapes: input (*), output (*). ``inplace=True`` overwrites ``input`` when no graph is being
    recorded for it; while recording, chainrule returns a new tensor instead (an in-place op on
    a recorded tensor costs a copy here, so out-of-place is the faster way to the same result).
    """
    if inplace and not (STATE.grad_enabled and input.requires_grad):
        return input.relu_()
    return ew.relu(input)


class LeakyRelu(Node):
    """g(z) = max(εz, z) for ε ≪ 1 (z for z > 0, εz otherwise); g'(z) = 1 or ε."""

    elementwise = True
    params = ("slope",)

    def forward(self, x):
        return np.where(x > 0, x, x * x.dtype.type(self.slope))

    def d_x(self, xp, x):
        return xp.const(np.where(xp.data(x) > 0, 1, self.slope).astype(xp.data(x).dtype))


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Leaky ReLU g(z) = max(εz, z), ε = ``negative_slope``: a small slope for z < 0 keeps
    "dead" units trainable.  g'(z) = 1 for z > 0, ε otherwise."""
    check_tensor(input, "leaky_relu")
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
    values = values if isinstance(values, Tensor) else Tensor._make(
        np.asarray(values, dtype=input._data.dtype))
    return Heaviside.apply(to_float(input) if input.requires_grad else input, values.to(input.dtype))


class Elu(Node):
    """ELU(z) = z for z > 0, α(e^z − 1) otherwise;  ELU′(z) = 1 or αe^z (α at 0, as torch)."""

    elementwise = True
    params = ("alpha",)

    def forward(self, x):
        # e^z of the negative part only: the positive side never overflows (nor warns)
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)

    def d_x(self, xp, x):
        return xp.where(x > 0, 1.0, self.alpha * xp.exp(xp.clamp(x, None, 0)))


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(z) = z for z > 0, α(e^z − 1) otherwise;  derivative 1 or αe^z."""
    check_tensor(input, "elu")
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
        if self.approximate == "tanh":
            return x * ew._sigmoid(2 * _K * (x + _C * x * x * x))
        return 0.5 * x * (1 + ew.Erf.forward(x * _R2))

    def d_x(self, xp, x):
        if self.approximate == "tanh":
            s = xp.sigmoid(2 * _K * (x + _C * x * x * x))
            return s + x * s * (1 - s) * (2 * _K) * (1 + 3 * _C * x * x)
        return 0.5 * (1 + xp.apply(ew.Erf, x * _R2)) + x * xp.exp(-0.5 * x * x) * _R2PI


def gelu(input, approximate: str = "none") -> Tensor:
    """GELU(z) = z·Φ(z), Φ the standard normal CDF = ½(1 + erf(z/√2)); with
    ``approximate='tanh'``: ½z(1 + tanh(√(2/π)(z + 0.044715 z³))).

    Derivative (exact) Φ(z) + z·φ(z), φ the standard normal density; (tanh) with
    u = √(2/π)(z + 0.044715 z³): ½(1 + tanh u) + ½z(1 − tanh² u)·√(2/π)(1 + 3·0.044715 z²)."""
    check_tensor(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(to_float(input), approximate=approximate)


class Silu(Node):
    """SiLU(z) = z·σ(z) (swish);  SiLU′(z) = σ(z)(1 + z(1 − σ(z)))."""

    elementwise = True

    def forward(self, x):
        return x * ew._sigmoid(x)

    def d_x(self, xp, x):
        s = xp.sigmoid(x)
        return s * (1 + x * (1 - s))


def silu(input, inplace: bool = False) -> Tensor:
    """SiLU(z) = z·σ(z) (swish);  derivative σ(z)(1 + z(1 − σ(z)))."""
    check_tensor(input, "silu")
    if inplace:
        return input._inplace("silu_", Silu.apply)
    return Silu.apply(to_float(input))


class Softplus(Node):
    """y = (1/β) log(1 + e^{βx}) (np.logaddexp: never overflows), and y = x where βx exceeds
    ``threshold`` (None: nowhere);  dy/dx = σ(βx) (1 above the threshold), smooth elsewhere."""

    elementwise = True
    params = ("beta", "threshold")
    beta, threshold = 1.0, None

    def forward(self, x):
        bx = x * x.dtype.type(self.beta) if self.beta != 1 else x
        out = np.logaddexp(x.dtype.type(0), bx)
        if self.beta != 1:
            out /= x.dtype.type(self.beta)
        return out if self.threshold is None else np.where(bx > self.threshold, x, out)

    def d_x(self, xp, x):
        bx = x * self.beta if self.beta != 1 else x
        s = xp.sigmoid(bx)
        return s if self.threshold is None else xp.where(bx > self.threshold, 1.0, s)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus(z) = (1/β) log(1 + e^{βz}), linear (= z) where βz > threshold; derivative σ(βz)."""
    check_tensor(input, "softplus")
    return Softplus.apply(to_float(input), beta=beta, threshold=threshold)


class Hardtanh(Node):
    """Clip to [min_val, max_val];  derivative 1 strictly inside, 0 elsewhere (at the bounds too:
    torch's hardtanh, unlike clamp, passes no gradient there)."""

    elementwise = True
    params = ("min_val", "max_val")

    def forward(self, x):
        return np.clip(x, self.min_val, self.max_val).astype(x.dtype, copy=False)

    def d_x(self, xp, x):
        return (x > self.min_val) & (x < self.max_val)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clip to [min_val, max_val];  derivative 1 strictly inside (min_val, max_val), 0 elsewhere.

    Not ``clamp``: clamp passes the gradient at the bounds themselves, torch's hardtanh does not."""
    check_tensor(input, "hardtanh")
    if inplace:
        return input._inplace("hardtanh_", lambda x: Hardtanh.apply(x, min_val=min_val,
                                                                     max_val=max_val))
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


class LogSigmoid(Node):
    """log σ(z) = −log(1 + e^{−z}) (np.logaddexp: stable for large |z|);  derivative σ(−z)."""

    elementwise = True

    def forward(self, x):
        return -np.logaddexp(x.dtype.type(0), -x)

    def d_x(self, xp, x):
        return xp.sigmoid(-x)


# torch's names for the in-place forms, whose nodes torch records as other overloads
_EluInplace = Elu.named("EluBackward1")
_LeakyReluInplace = LeakyRelu.named("LeakyReluBackward1")


def logsigmoid(input) -> Tensor:
    """log σ(z) = −log(1 + e^{−z}), stable for large |z|;  derivative σ(−z) = 1 − σ(z)."""
    check_tensor(input, "logsigmoid")
    return LogSigmoid.apply(to_float(input))
