"""The logistic-normal distribution on the simplex."""
from __future__ import annotations

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """A distribution on the K-simplex: a Normal(loc, scale) vector in ℝᴷ⁻¹ pushed through
    :class:`~chainrule.distributions.transforms.StickBreakingTransform` (an alternative to the
    Dirichlet with a reparameterised draw and correlated components).

    Args:
        loc (float or Tensor): the normal's mean, shape (..., K − 1).
        scale (float or Tensor): its standard deviation > 0.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = loc.shape[:-1]; event_shape = (K,).
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        """The normal's mean."""
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        """The normal's standard deviation."""
        return self.base_dist.base_dist.scale
