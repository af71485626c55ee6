"""The Poisson distribution on the non-negative integers."""
from __future__ import annotations


from .. import creation
from .._modes import no_grad
from .._tensor_base import Size
from ..ops import xlogy
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Poisson"]


class Poisson(ExponentialFamily):
    """Poisson distribution with rate λ ≥ 0 (counts of events at rate λ per unit time):

        log p(k) = k log λ − λ − log k!,    mean = var = λ,    mode ⌊λ⌋.

    ``sample`` is torch's sampler on torch's stream (``torch.poisson``); no ``rsample``.

    Args:
        rate (float or Tensor): λ ≥ 0.
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        batch_shape = self._broadcast_params(rate=rate)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Poisson, batch_shape, _instance, "rate")

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return creation.poisson(self.rate.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - (value + 1).lgamma()

    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()
