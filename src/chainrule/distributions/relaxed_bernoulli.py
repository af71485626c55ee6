"""The relaxed (concrete / Gumbel-sigmoid) Bernoulli distributions."""
from __future__ import annotations

import numbers

from .. import creation
from .._tensor_base import Size
from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import BinaryParams, broadcast_all, clamp_probs

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class LogitRelaxedBernoulli(BinaryParams, Distribution):
    """The logit of a relaxed Bernoulli draw (Maddison et al. 2017, "The Concrete
    Distribution"): with temperature τ and log-odds ℓ,

        x = (ℓ + log u − log(1 − u))/τ,  u ~ U(0, 1);
        log p(x) = log τ + (ℓ − τx) − 2 log(1 + e^(ℓ − τx)).

    Args:
        temperature (Tensor): τ > 0.
        probs (float or Tensor, optional): p (exactly one of probs / logits).
        logits (float or Tensor, optional): ℓ = log(p/(1 − p)).
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        self._given(probs, logits)
        is_scalar = isinstance(probs if probs is not None else logits, numbers.Number)
        batch_shape = Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogitRelaxedBernoulli, _instance)
        batch_shape = Size(batch_shape)
        new.temperature = self.temperature
        self._expand_param(new, batch_shape)
        super(LogitRelaxedBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(creation.rand(shape, dtype=probs.dtype))
        return ((uniforms.log() - (-uniforms).log1p() + probs.log() - (-probs).log1p())
                / self.temperature)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value.mul(self.temperature)
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """A continuous relaxation of Bernoulli(p) on (0, 1): σ of a
    :class:`LogitRelaxedBernoulli` draw. As τ → 0 draws approach {0, 1}; ``rsample`` is
    differentiable in p (the Gumbel-sigmoid trick).

    Args:
        temperature (Tensor): τ > 0.
        probs (float or Tensor, optional): p (exactly one of probs / logits).
        logits (float or Tensor, optional): log(p/(1 − p)).
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        """τ."""
        return self.base_dist.temperature

    @property
    def logits(self):
        """log(p/(1 − p))."""
        return self.base_dist.logits

    @property
    def probs(self):
        """p."""
        return self.base_dist.probs
