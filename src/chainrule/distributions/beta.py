"""The beta distribution on [0, 1]."""
from __future__ import annotations

import numbers

from .. import creation
from .._tensor_base import Size
from ..ops import stack
from . import constraints
from .dirichlet import Dirichlet
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Beta"]


class Beta(ExponentialFamily):
    """Beta distribution with concentrations α (``concentration1``) and β (``concentration0``),
    the first coordinate of Dirichlet([α, β]):

        log p(x) = (α − 1) log x + (β − 1) log(1 − x) − log B(α, β),
        mean α/(α + β), var αβ/((α + β)²(α + β + 1)).

    ``rsample`` is the Dirichlet's first coordinate (torch's sampler, implicit gradients).

    Args:
        concentration1 (float or Tensor): α > 0.
        concentration0 (float or Tensor): β > 0.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = broadcast(α, β).shape; event_shape = ().
    """
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        if (isinstance(concentration1, numbers.Number)
                and isinstance(concentration0, numbers.Number)):
            both = creation.tensor([float(concentration1), float(concentration0)])
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            both = stack([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(both, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        super(Beta, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def concentration1(self):
        """α."""
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        """β."""
        return self._dirichlet.concentration[..., 1]

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return x.lgamma() + y.lgamma() - (x + y).lgamma()
