"""The log-normal distribution exp(N(μ, σ²))."""
from __future__ import annotations

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform

__all__ = ["LogNormal"]


class LogNormal(TransformedDistribution):
    """The law of exp(X), X ~ N(μ, σ²), on (0, ∞):

        log p(y) = log N(log y; μ, σ²) − log y,    mean e^(μ + σ²/2), mode e^(μ − σ²),
        var (e^(σ²) − 1)·e^(2μ + σ²),    H = H(N(μ, σ²)) + μ.

    ``rsample`` is exp(μ + σε), ε ~ N(0, 1) (the normal's stream).

    Args:
        loc (float or Tensor): μ, the mean of log Y.
        scale (float or Tensor): σ > 0, the standard deviation of log Y.
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        """μ."""
        return self.base_dist.loc

    @property
    def scale(self):
        """σ."""
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self):
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc
