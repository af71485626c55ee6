"""The generalised Pareto distribution GPD(μ, σ, ξ)."""
from __future__ import annotations

import math
import numbers

from .. import creation
from .._tensor_base import Size
from ..ops import isclose, where
from . import constraints
from .distribution import Distribution

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Generalised Pareto distribution with location μ (``loc``), scale σ and shape ξ
    (``concentration``), z = (x − μ)/σ:

        log p(x) = −log σ − (1/ξ + 1) log(1 + ξz)   (−log σ − z at ξ = 0),
        S(x) = (1 + ξz)^(−1/ξ)   (e^(−z) at ξ = 0),    F⁻¹(u) = μ + σ((1 − u)^(−ξ) − 1)/ξ.

    Support [μ, ∞) for ξ ≥ 0, [μ, μ − σ/ξ] for ξ < 0. ``rsample`` is ``icdf(u)``, u ~ U(0, 1);
    mean μ + σ/(1 − ξ) (NaN for ξ ≥ 1), variance σ²/((1 − ξ)²(1 − 2ξ)) (NaN for ξ ≥ ½),
    H = log σ + ξ + 1.

    Args:
        loc (float or Tensor): μ.
        scale (float or Tensor): σ > 0.
        concentration (float or Tensor): ξ.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = broadcast(loc, scale, concentration).shape; event_shape = ().
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        batch_shape = self._broadcast_params(loc=loc, scale=scale, concentration=concentration)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(GeneralizedPareto, batch_shape, _instance, "loc", "scale",
                                   "concentration")

    def _safe_conc(self):
        """(ξ ≈ 0 mask, ξ with those entries replaced by 1 so no branch divides by 0)."""
        conc = self.concentration
        eq_zero = isclose(conc, creation.zeros_like(conc))
        return eq_zero, where(eq_zero, creation.ones_like(conc), conc)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = creation.rand(shape, dtype=self.loc.dtype)
        return self.icdf(u)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_conc()
        y = 1 / safe_conc + creation.ones_like(z)
        where_nonzero = where(y == 0, y, y * (safe_conc * z).log1p())
        log_scale = (math.log(self.scale) if isinstance(self.scale, numbers.Real)
                     else self.scale.log())
        return -log_scale - where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_conc()
        where_nonzero = -(safe_conc * z).log1p() / safe_conc
        return where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        """log P(X ≤ value) = log1p(−S(value))."""
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        eq_zero, safe_conc = self._safe_conc()
        logu = (-value).log1p()
        where_nonzero = self.loc + self.scale / safe_conc * (-safe_conc * logu).expm1()
        where_zero = self.loc - self.scale * logu
        return where(eq_zero, where_zero, where_nonzero)

    @property
    def mean(self):
        conc = self.concentration
        valid = conc < 1
        safe_conc = where(valid, conc, creation.full_like(conc, 0.5))
        result = self.loc + self.scale / (1 - safe_conc)
        return where(valid, result, creation.full_like(result, math.nan))

    @property
    def variance(self):
        conc = self.concentration
        valid = conc < 0.5
        safe_conc = where(valid, conc, creation.full_like(conc, 0.25))
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return where(valid, result, creation.full_like(result, math.nan))

    def entropy(self):
        ans = self.scale.log() + self.concentration + 1
        return ans.broadcast_to(self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = where(self.concentration < 0, lower - self.scale / self.concentration,
                      creation.full_like(lower, math.inf))
        return constraints.interval(lower, upper)
