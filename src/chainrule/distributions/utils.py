"""Helpers shared by the distributions (``torch.distributions.utils``)."""
from __future__ import annotations

import numbers

from .. import creation
from .._dtype import finfo, get_default_dtype
from .._modes import enable_grad
from ..ops import broadcast_tensors, clamp, log, log1p, sigmoid
from ..nn import functional as F
from ..tensor import Tensor

euler_constant = 0.57721566490153286060   # Euler–Mascheroni γ

__all__ = ["broadcast_all", "euler_constant", "clamp_probs", "lazy_property", "logits_to_probs",
           "tril_matrix_to_vec", "vec_to_tril_matrix",
           "probs_to_logits"]


def broadcast_all(*values):
    """The values broadcast against each other as tensors. Python numbers become tensors of the
    first tensor's dtype (the default dtype when all are numbers).

    Raises ValueError for anything that is neither a number nor a Tensor."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), get_default_dtype())
        values = [v if isinstance(v, Tensor) else creation.tensor(v, dtype=dtype) for v in values]
    return broadcast_tensors(*values)


def _standard_normal(shape, dtype):
    """N(0, 1) draws of ``shape`` (torch's ``empty(shape).normal_()``, the same stream)."""
    return creation.empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) for a binary event, softmax over the last dim otherwise."""
    if is_binary:
        return sigmoid(logits)
    return F.softmax(logits, dim=-1)


def clamp_probs(probs):
    """probs clamped to [eps, 1 − eps], eps the machine epsilon of probs' dtype."""
    eps = finfo(probs.dtype).eps
    return clamp(probs, min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p − log(1 − p) for a binary event, log p otherwise (p clamped away from 0 and 1)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return log(ps_clamped) - log1p(-ps_clamped)
    return log(ps_clamped)


class lazy_property:
    """A property computed on first access and then stored on the instance (``Categorical``'s
    ``probs`` from ``logits`` and vice versa). It is computed with grad enabled, as torch's:
    a first access inside ``sample`` (under ``no_grad``) must not cache a value cut off from
    the parameters' graph."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


class BinaryParams:
    """The parameter of a distribution over binary trials, given as ``probs`` p or as
    ``logits`` log(p/(1 − p)) — exactly one —, the other computed on first use. Mixed into
    Bernoulli, Binomial, NegativeBinomial and LogitRelaxedBernoulli."""

    def _given(self, probs, logits, *others):
        """Store the given one of probs/logits (as ``_param`` too), broadcast with ``others``
        (numbers or tensors, cast to its dtype); returns the broadcast others."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, value = ("probs", probs) if probs is not None else ("logits", logits)
        *others, param = broadcast_all(*others, value)
        setattr(self, name, param)
        self._param = param
        return [o.type_as(param) for o in others]

    def _expand_param(self, new, batch_shape):
        """Give ``new`` (an expand's instance) the stored probs/logits expanded to batch_shape."""
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(batch_shape))
                new._param = getattr(new, name)

    @lazy_property
    def logits(self):
        """log p − log(1 − p)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """sigmoid(logits)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        """The shape of the given parameter."""
        return self._param.size()


def _tril_mask(n, diag):
    arange = creation.arange(n)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The entries of the (batched) D×D ``mat`` on and below diagonal ``diag``, row by row,
    as a vector of the last dim."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of :func:`tril_matrix_to_vec`: a (batched) D×D matrix, zero above diagonal
    ``diag``, filled row by row from the last dim of ``vec`` (of length D(D+1)/2 + …)."""
    # D solves D(D + 1)/2 + diag·D − |diag|(diag + 1)/2 = len(vec)
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = finfo(vec.dtype).eps
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag)] = vec
    return mat
