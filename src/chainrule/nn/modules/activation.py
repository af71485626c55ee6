"""Activation modules: thin wrappers of ``chainrule.nn.functional``; each docstring gives g and g'."""
from __future__ import annotations

from .. import functional as F
from .module import Module


class ReLU(Module):
    """ReLU(z) = max(0, z) = z·I(z > 0);  ReLU'(z) = I(z > 0)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """g(z) = max(εz, z), ε = negative_slope ≪ 1;  g'(z) = 1 for z > 0, ε otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """σ(a) = 1/(1 + e^{−a});  σ'(a) = σ(a)(1 − σ(a)). Saturates (σ' → 0) for large |a|."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(z) = (e^z − e^{−z})/(e^z + e^{−z}), zero-centred in (−1, 1);  tanh' = 1 − tanh²."""

    def forward(self, input):
        return F.tanh(input)


class Heaviside(Module):
    """The step H(x) (1 for x > 0, 0 for x < 0, ``values`` at 0); its gradient is zero, so it
    cannot be trained by gradient descent (see ``functional.heaviside``)."""

    def __init__(self, values: float = 0.0):
        super().__init__()
        self.values = values

    def forward(self, input):
        return F.heaviside(input, self.values)


class ELU(Module):
    """ELU(z) = z for z > 0, α(e^z − 1) otherwise;  derivative 1 or αe^z."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(Module):
    """GELU(z) = z·Φ(z) (exact, via erf) or its tanh approximation;  derivative (exact)
    Φ(z) + z·φ(z), φ the standard normal density (see ``functional.gelu`` for tanh's)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """SiLU(z) = z·σ(z);  derivative σ(z)(1 + z(1 − σ(z)))."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input, self.inplace)


class Softplus(Module):
    """Softplus(z) = (1/β) log(1 + e^{βz}) (linear above ``threshold``);  derivative σ(βz)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax(z)_i = e^{z_i}/Σ_j e^{z_j} along ``dim`` (stable: max subtracted);
    ∂s_i/∂z_j = s_i(δ_ij − s_j)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax(z)_i = z_i − log Σ_j e^{z_j} (the log-sum-exp trick);
    ∂ℓ_i/∂z_j = δ_ij − softmax(z)_j."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
