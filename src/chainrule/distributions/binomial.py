"""The binomial distribution."""
from __future__ import annotations

from .. import creation
from .._modes import no_grad
from .._tensor_base import Size
from . import constraints
from .distribution import Distribution
from .utils import BinaryParams

__all__ = ["Binomial"]


def _clamp_by_zero(x):
    """max(x, 0) with gradient ½ at 0 (as torch's)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(BinaryParams, Distribution):
    """The number of successes in n independent Bernoulli(p) trials:

        log P(k) = log C(n, k) + k log p + (n − k) log(1 − p),    mean np,    var np(1 − p),
        mode ⌊(n + 1)p⌋ (at most n).

    Give exactly one of ``probs`` or ``logits``. ``sample`` is torch's sampler on torch's stream
    (``torch.binomial``).

    Args:
        total_count (int or Tensor): n ≥ 0. Default 1.
        probs (Tensor, optional): p ∈ [0, 1].
        logits (Tensor, optional): log(p/(1 − p)).
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        (self.total_count,) = self._given(probs, logits, total_count)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_param(new, batch_shape)
        super(Binomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return creation.binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        """With logit ℓ: k·ℓ − log k! − log (n − k)! + log n! − n·(max(ℓ, 0) + log(1 + e^(−|ℓ|))),
        finite for p near 0 or 1."""
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = (self.total_count + 1).lgamma()
        log_factorial_k = (value + 1).lgamma()
        log_factorial_nmk = (self.total_count - value + 1).lgamma()
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * (-self.logits.abs()).exp().log1p() - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        """−Σₖ P(k) log P(k) over k = 0 … n (one n for the whole batch)."""
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by "
                                      "`enumerate_support`.")
        values = creation.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
