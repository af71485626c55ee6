"""The continuous Bernoulli distribution CB(λ) on [0, 1]."""
from __future__ import annotations

import math
import numbers

from .. import creation
from .._tensor_base import Size
from ..nn import functional as F
from ..ops import where
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """Continuous Bernoulli distribution (Loaiza-Ganem & Cunningham 2019) with parameter
    λ = ``probs`` ∈ (0, 1) or ``logits`` = log(λ/(1 − λ)) — exactly one:

        p(x) = C(λ) λˣ (1 − λ)¹⁻ˣ on [0, 1],    C(λ) = 2 atanh(1 − 2λ)/(1 − 2λ) (2 at λ = ½),
        F(x) = (λˣ(1 − λ)¹⁻ˣ + λ − 1)/(2λ − 1).

    Within ``lims`` of ½ (where these forms are 0/0) Taylor expansions in λ − ½ are used, as
    torch. ``rsample`` is ``icdf(u)``, u ~ U(0, 1) (differentiable in λ). ``probs`` is clamped
    to [eps, 1 − eps]; λ is not a probability, nor ``logits`` a log-odds.

    Args:
        probs (float or Tensor): λ in [0, 1].
        logits (float or Tensor): log(λ/(1 − λ)).
        lims (tuple of float): the interval around ½ of the Taylor forms.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = the parameter's shape; event_shape = ().
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
            # torch checks the unclamped probs only when validate_args is given explicitly
            if validate_args is not None:
                if not bool(self.arg_constraints["probs"].check(self.probs).all()):
                    raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.size()
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = Size(batch_shape)
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape))
                new._param = getattr(new, name)
        super(ContinuousBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _outside_unstable_region(self):
        return self.probs.le(self._lims[0]) | self.probs.gt(self._lims[1])

    def _cut_probs(self):
        return where(self._outside_unstable_region(), self.probs,
                     self._lims[0] * creation.ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """log C(λ), the log normalising constant as a function of probs."""
        cut_probs = self._cut_probs()
        below = where(cut_probs.le(0.5), cut_probs, creation.zeros_like(cut_probs))
        above = where(cut_probs.ge(0.5), cut_probs, creation.ones_like(cut_probs))
        log_norm = ((cut_probs.neg().log1p() - cut_probs.log()).abs().log()
                    - where(cut_probs.le(0.5), (-2.0 * below).log1p(), (2.0 * above - 1.0).log()))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / (cut_probs.neg().log1p()
                                                         - cut_probs.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    @property
    def variance(self):
        cut_probs = self._cut_probs()
        vars_ = (cut_probs * (cut_probs - 1.0) / (1.0 - 2.0 * cut_probs).pow(2)
                 + 1.0 / (cut_probs.neg().log1p() - cut_probs.log()).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._outside_unstable_region(), vars_, taylor)

    @lazy_property
    def logits(self):
        """log λ − log(1 − λ)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """sigmoid(logits), clamped to [eps, 1 − eps]."""
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        """The shape of the given parameter."""
        return self._param.size()

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = creation.rand(shape, dtype=self.probs.dtype)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (-F.binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._cont_bern_log_norm())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = ((cut_probs.pow(value) * (1.0 - cut_probs).pow(1.0 - value) + cut_probs - 1.0)
                / (2.0 * cut_probs - 1.0))
        unbounded_cdfs = where(self._outside_unstable_region(), cdfs, value)
        return where(value.le(0.0), creation.zeros_like(value),
                     where(value.ge(1.0), creation.ones_like(value), unbounded_cdfs))

    def icdf(self, value):
        """(log1p(−λ + u(2λ − 1)) − log1p(−λ)) / (log λ − log1p(−λ)); u near λ = ½."""
        cut_probs = self._cut_probs()
        return where(self._outside_unstable_region(),
                     ((-cut_probs + value * (2.0 * cut_probs - 1.0)).log1p()
                      - cut_probs.neg().log1p()) / (cut_probs.log() - cut_probs.neg().log1p()),
                     value)

    def entropy(self):
        log_probs0 = self.probs.neg().log1p()
        log_probs1 = self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """log C as a function of the natural parameter x = logits."""
        out_unst_reg = x.le(self._lims[0] - 0.5) | x.gt(self._lims[1] - 0.5)
        cut_nat_params = where(out_unst_reg, x, (self._lims[0] - 0.5) * creation.ones_like(x))
        log_norm = cut_nat_params.expm1().abs().log() - cut_nat_params.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return where(out_unst_reg, log_norm, taylor)
