"""The gamma distribution Gamma(concentration, rate)."""
from __future__ import annotations


from .._dtype import finfo
from .._tensor_base import Size
from ..ops import igamma, xlogy
from . import constraints
from ._reparam import _standard_gamma
from .exp_family import ExponentialFamily

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    """Gamma distribution with shape α (``concentration``) and rate β:

        log p(x) = α log β + (α − 1) log x − βx − log Γ(α),    mean α/β, var α/β²,
        mode max((α − 1)/β, 0),    H = α − log β + log Γ(α) + (1 − α)ψ(α).

    ``rsample`` is G/β with G ~ Gamma(α, 1) drawn by torch's Marsaglia–Tsang sampler (the same
    stream, the same values); its gradient in α is the implicit one, dG/dα = −(∂F/∂α)/p, with
    torch's approximations (see ``_reparam``).

    Args:
        concentration (float or Tensor): α > 0.
        rate (float or Tensor): β > 0.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = broadcast(concentration, rate).shape; event_shape = ().
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        batch_shape = self._broadcast_params(concentration=concentration, rate=rate)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, batch_shape, _instance, "concentration", "rate")

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        # keep draws that underflowed in the division positive (outside the graph)
        value.detach().clamp_(min=finfo(value.dtype).tiny)
        return value

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - self.concentration.lgamma())

    def cdf(self, value):
        """P(α, βx), the regularised lower incomplete gamma function (differentiable in x and
        β, not in α, as torch)."""
        if self._validate_args:
            self._validate_sample(value)
        return igamma(self.concentration, self.rate * value)

    def entropy(self):
        return (self.concentration - self.rate.log() + self.concentration.lgamma()
                + (1.0 - self.concentration) * self.concentration.digamma())

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()
