"""The relaxed one-hot categorical (concrete / Gumbel-softmax) distributions."""
from __future__ import annotations

from .. import creation
from .._tensor_base import Size
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(Distribution):
    """The log of a relaxed one-hot categorical draw (Maddison et al. 2017; Jang et al. 2017):
    with temperature τ and logits ℓ over K classes,

        x = s − logsumexp(s),  s = (ℓ + g)/τ,  g = −log(−log u) Gumbel noise;
        log p(x) = log Γ(K) + (K − 1) log τ + Σ (ℓ − τx − logsumexp(ℓ − τx)).

    Args:
        temperature (Tensor): τ > 0.
        probs (Tensor, optional): class probabilities (exactly one of probs / logits).
        logits (Tensor, optional): unnormalised log-probabilities.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = param.shape[:-1]; event_shape = (K,).
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = Size(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        super(ExpRelaxedCategorical, new).__init__(batch_shape, self.event_shape,
                                                   validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        """The shape of the given parameter."""
        return self._categorical.param_shape

    @property
    def logits(self):
        """Normalised log-probabilities."""
        return self._categorical.logits

    @property
    def probs(self):
        """Class probabilities."""
        return self._categorical.probs

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(creation.rand(shape, dtype=self.logits.dtype))
        gumbels = -((-(uniforms.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value):
        K = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = (creation.full_like(self.temperature, float(K)).lgamma()
                     - self.temperature.log().mul(-(K - 1)))
        score = logits - value.mul(self.temperature)
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A continuous relaxation of OneHotCategorical on the simplex: exp of an
    :class:`ExpRelaxedCategorical` draw, i.e. softmax((ℓ + g)/τ). As τ → 0 draws approach
    one-hot vectors; ``rsample`` is differentiable in the logits (the Gumbel-softmax trick).

    Args:
        temperature (Tensor): τ > 0.
        probs (Tensor, optional): class probabilities (exactly one of probs / logits).
        logits (Tensor, optional): unnormalised log-probabilities.
        validate_args (bool, optional): check the arguments.
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        """τ."""
        return self.base_dist.temperature

    @property
    def logits(self):
        """Normalised log-probabilities."""
        return self.base_dist.logits

    @property
    def probs(self):
        """Class probabilities."""
        return self.base_dist.probs
