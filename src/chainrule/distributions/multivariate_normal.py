"""The multivariate normal distribution N(μ, Σ)."""
from __future__ import annotations

import math

from .. import creation
from .._tensor_base import Size
from .. import linalg
from ..ops import broadcast_shapes
from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property

__all__ = ["MultivariateNormal"]


def _solve_lower(L, b):
    """L⁻¹b for lower-triangular L, L and b broadcast over their batch dims; only L's lower
    triangle is read (torch's triangular solve: a gradient lands in no other entry)."""
    batch = broadcast_shapes(tuple(L.shape[:-2]), tuple(b.shape[:-2]))
    return linalg.solve_triangular(L.expand(batch + tuple(L.shape[-2:])),
                                   b.expand(batch + tuple(b.shape[-2:])), upper=False)


def _precision_to_scale_tril(P):
    # Σ = P⁻¹ = L Lᵀ with L lower: from the Cholesky factor of P with its axes reversed
    Lf = linalg.cholesky(P.flip((-2, -1)))
    L_inv = Lf.flip((-2, -1)).transpose(-2, -1)
    eye = creation.eye(P.shape[-1], dtype=P.dtype)
    return _solve_lower(L_inv, eye.expand(L_inv.shape))


class MultivariateNormal(Distribution):
    """Multivariate normal distribution with mean ``loc`` (…, k) and one of
    ``covariance_matrix`` Σ, ``precision_matrix`` Σ⁻¹ or ``scale_tril`` L (Σ = L Lᵀ, L lower
    triangular with a positive diagonal), each (…, k, k):

        log p(x) = −½ (k log 2π + ‖L⁻¹(x − μ)‖²) − Σᵢ log Lᵢᵢ,
        H = ½ k (1 + log 2π) + Σᵢ log Lᵢᵢ.

    ``rsample`` is μ + L ε with ε ~ N(0, I) (differentiable in μ and L).

    Shape: batch_shape = broadcast(loc.shape[:-1], matrix.shape[:-2]); event_shape = (k,).
    """
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril "
                             "may be specified.")
        matrix, name = next((m, n) for m, n in ((scale_tril, "scale_tril"),
                                                 (covariance_matrix, "covariance_matrix"),
                                                 (precision_matrix, "precision_matrix"))
                            if m is not None)
        if matrix.dim() < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(MultivariateNormal, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _full(self, t):
        return t.expand(tuple(self._batch_shape) + tuple(self._event_shape) * 2)

    @lazy_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._full(L.matmul(L.mT))

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._full(linalg.inv(L.matmul(L.mT)))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc.dtype)
        return self.loc + self._unbroadcasted_scale_tril.matmul(eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        y = _solve_lower(self._unbroadcasted_scale_tril, diff.unsqueeze(-1)).squeeze(-1)
        M = y.pow(2).sum(-1)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return H
        return H.expand(self._batch_shape)
