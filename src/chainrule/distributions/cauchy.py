"""The Cauchy (Lorentz) distribution."""
from __future__ import annotations

import math

from .. import creation
from .._tensor_base import Size
from . import constraints
from .distribution import Distribution

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """Cauchy distribution with median x₀ and half width γ (the ratio of two N(0, 1) draws):

        log p(x) = −log π − log γ − log(1 + ((x − x₀)/γ)²),    F(x) = atan((x − x₀)/γ)/π + ½,
        H = log 4πγ;    mean NaN and variance ∞ (undefined moments).

    ``rsample`` is x₀ + γ·c with c from torch's ``cauchy_`` stream.

    Args:
        loc (float or Tensor): median x₀.
        scale (float or Tensor): half width γ > 0.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = broadcast(loc, scale).shape (``()`` for two numbers); event_shape = ().
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        batch_shape = self._broadcast_params(loc=loc, scale=scale)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Cauchy, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self):
        return creation.full(self._extended_shape(), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return creation.full(self._extended_shape(), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = creation.empty(shape, dtype=self.loc.dtype).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (-math.log(math.pi) - self.scale.log()
                - (((value - self.loc) / self.scale) ** 2).log1p())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        """x₀ + γ·tan(π(p − ½))."""
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
