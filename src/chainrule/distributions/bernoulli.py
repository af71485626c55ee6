"""The Bernoulli distribution on {0, 1}."""
from __future__ import annotations

import math
import numbers

from .. import creation
from .._modes import no_grad
from .._tensor_base import Size
from ..nn import functional as F
from . import constraints
from .exp_family import ExponentialFamily
from .utils import BinaryParams, broadcast_all

__all__ = ["Bernoulli"]


class Bernoulli(BinaryParams, ExponentialFamily):
    """Bernoulli distribution given by ``probs`` p or ``logits`` (log-odds, p = sigmoid(logits)),
    exactly one of them:

        log p(x) = x·log p + (1 − x)·log(1 − p) = −BCEWithLogits(logits, x),
        H = BCEWithLogits(logits, p).

    Samples are 0./1. in the parameter's dtype (``bernoulli(probs)``).

    Shape: batch_shape = param.shape (``()`` for a number); event_shape = ().
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._given(probs, logits)
        is_scalar = isinstance(probs if probs is not None else logits, numbers.Number)
        batch_shape = Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = Size(batch_shape)
        self._expand_param(new, batch_shape)
        super(Bernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        mode[self.probs == 0.5] = math.nan
        return mode

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return creation.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        values = creation.arange(2, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self):
        return (self.probs.logit(),)

    def _log_normalizer(self, x):
        return x.exp().log1p()
