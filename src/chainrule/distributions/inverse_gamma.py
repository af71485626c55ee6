"""The inverse gamma distribution 1/Gamma(α, β)."""
from __future__ import annotations

import math

from ..ops import where
from . import constraints
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """The law of 1/X, X ~ Gamma(α, β) (a conjugate prior for a normal variance):

        log p(y) = α log β − log Γ(α) − (α + 1) log y − β/y,    mean β/(α − 1) (∞ for α ≤ 1),
        mode β/(α + 1),    var β²/((α − 1)²(α − 2)) (∞ for α ≤ 2),
        H = α + log β + log Γ(α) − (1 + α)ψ(α).

    Args:
        concentration (float or Tensor): α > 0.
        rate (float or Tensor): β > 0.
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        """α."""
        return self.base_dist.concentration

    @property
    def rate(self):
        """β."""
        return self.base_dist.rate

    @property
    def mean(self):
        result = self.rate / (self.concentration - 1)
        return where(self.concentration > 1, result, math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        result = self.rate.square() / ((self.concentration - 1).square() * (self.concentration - 2))
        return where(self.concentration > 2, result, math.inf)

    def entropy(self):
        return (self.concentration + self.rate.log() + self.concentration.lgamma()
                - (1 + self.concentration) * self.concentration.digamma())
