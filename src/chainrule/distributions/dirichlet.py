"""The Dirichlet distribution on the probability simplex."""
from __future__ import annotations

from .._tensor_base import Size
from ..nn import functional as F
from ..ops import xlogy
from . import constraints
from ._reparam import _sample_dirichlet
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Dirichlet distribution with concentration α ∈ (0, ∞)ᴷ over the simplex {x ≥ 0, Σx = 1}:

        log p(x) = Σ (αᵢ − 1) log xᵢ + log Γ(α₀) − Σ log Γ(αᵢ),  α₀ = Σαᵢ;
        mean α/α₀, var αᵢ(α₀ − αᵢ)/(α₀²(α₀ + 1)),
        H = Σ log Γ(αᵢ) − log Γ(α₀) − (K − α₀)ψ(α₀) − Σ (αᵢ − 1)ψ(αᵢ).

    ``rsample`` normalises Gamma(αᵢ, 1) draws (torch's sampler and stream); its gradient is
    torch's implicit one through the Beta marginals (see ``_reparam``).

    Args:
        concentration (Tensor): α, shape (..., K), every entry > 0.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = concentration.shape[:-1]; event_shape = (K,).
    """
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration - 1.0, value).sum(-1)
                + self.concentration.sum(-1).lgamma() - self.concentration.lgamma().sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """(α − 1)₊ normalised; where every αᵢ < 1 the density peaks at a vertex: one-hot at
        the largest coordinate."""
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        mode[mask] = F.one_hot(mode[mask].argmax(dim=-1), concentrationm1.shape[-1]).to(mode)
        return mode

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (self.concentration.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma()
                - ((self.concentration - 1.0) * self.concentration.digamma()).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()
