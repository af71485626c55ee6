"""The negative binomial distribution."""
from __future__ import annotations

from .. import creation
from .._modes import no_grad
from .._tensor_base import Size
from ..nn import functional as F
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import BinaryParams, lazy_property

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryParams, Distribution):
    """The number of successes before ``total_count`` failures of Bernoulli(p) trials
    (a Gamma–Poisson mixture, r = ``total_count``):

        log P(k) = log Γ(r + k) − log k! − log Γ(r) + r log(1 − p) + k log p,
        mean r·p/(1 − p),    var mean/(1 − p).

    ``sample`` draws λ ~ Gamma(r, (1 − p)/p), then Poisson(λ) (torch's samplers and stream).

    Args:
        total_count (float or Tensor): r ≥ 0 (need not be an integer).
        probs (Tensor, optional): p ∈ [0, 1) (exactly one of probs / logits).
        logits (Tensor, optional): log(p/(1 − p)).
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        (self.total_count,) = self._given(probs, logits, total_count)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_param(new, batch_shape)
        super(NegativeBinomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(), validate_args=False)

    def sample(self, sample_shape=Size()):
        with no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return creation.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = (self.total_count * F.logsigmoid(-self.logits)
                                 + value * F.logsigmoid(self.logits))
        log_normalization = (-(self.total_count + value).lgamma() + (1.0 + value).lgamma()
                             + self.total_count.lgamma())
        # r = k = 0: P(0) = 1, where the lgamma terms are ∞ − ∞
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
