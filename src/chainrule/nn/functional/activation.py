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
        return input._inplace("leaky_relu_", lambda x: LeakyRelu.apply(x, slope=negative_slope))
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


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(z) = z for z > 0, α(e^z − 1) otherwise;  derivative 1 or αe^z."""
    check_tensor(input, "elu")
    mask = Tensor._make(input._data > 0)
    # the negative branch reads the input through where, not minimum(input, 0): minimum splits
    # the gradient of a tie, which would make ELU'(0) = α/2 where torch (and the formula) give α
    out = ew.where(mask, input, ew.expm1(ew.where(mask, 0.0, input)) * alpha)
    return input.copy_(out) if inplace else out


def gelu(input, approximate: str = "none") -> Tensor:
    """GELU(z) = z·Φ(z), Φ the standard normal CDF = ½(1 + erf(z/√2)); with
    ``approximate='tanh'``: ½z(1 + tanh(√(2/π)(z + 0.044715 z³))).

    Derivative (exact) Φ(z) + z·φ(z), φ the standard normal density; (tanh) with
    u = √(2/π)(z + 0.044715 z³): ½(1 + tanh u) + ½z(1 − tanh² u)·√(2/π)(1 + 3·0.044715 z²)."""
    check_tensor(input, "gelu")
    if approximate == "tanh":
        inner = (input + 0.044715 * input ** 3) * math.sqrt(2 / math.pi)
        # ½(1 + tanh u) = σ(2u): the same function, but σ keeps its tail (1 + tanh u rounds to
        # a float32 ulp, 6e-8, where the true value is ~1e-9) in forward and backward alike
        return input * ew.sigmoid(2 * inner)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * input * (1 + ew.erf(input * (1 / math.sqrt(2))))


def silu(input, inplace: bool = False) -> Tensor:
    """SiLU(z) = z·σ(z) (swish);  derivative σ(z)(1 + z(1 − σ(z)))."""
    out = input * ew.sigmoid(input)
    return input.copy_(out) if inplace else out


class Softplus(Node):
    """y = log(1 + eˣ) (np.logaddexp: never overflows); dy/dx = σ(x), smooth everywhere."""

    elementwise = True

    def forward(self, x):
        return np.logaddexp(x.dtype.type(0), x)

    def d_x(self, xp, x):
        return xp.sigmoid(x)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus(z) = (1/β) log(1 + e^{βz}), linear (= z) where βz > threshold; derivative σ(βz)."""
    check_tensor(input, "softplus")
    scaled = to_float(input) * beta if beta != 1 else to_float(input)
    smooth = Softplus.apply(scaled)
    if beta != 1:
        smooth = smooth / beta
    return ew.where(Tensor._make(scaled._data > threshold), input, smooth)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """Clip to [min_val, max_val];  derivative 1 strictly inside (min_val, max_val), 0 elsewhere.

    Not ``clamp``: clamp passes the gradient at the bounds themselves, torch's hardtanh does not."""
    check_tensor(input, "hardtanh")
    inside = Tensor._make((input._data > min_val) & (input._data < max_val))
    return ew.where(inside, input, ew.clamp(input, min_val, max_val).detach())


def logsigmoid(input) -> Tensor:
    """log σ(z) = −log(1 + e^{−z}), stable for large |z|."""
    return -Softplus.apply(-to_float(input))
