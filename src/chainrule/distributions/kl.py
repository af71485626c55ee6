"""KL divergence between two distributions, KL(p ‖ q) = E_p[log p(X) − log q(X)], with the
closed forms registered per pair of types (``torch.distributions.kl``)."""
from __future__ import annotations

import math
import warnings

from ..nn import functional as F
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .multivariate_normal import MultivariateNormal, _solve_lower
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform
from .utils import _sum_rightmost

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY = {}
_KL_MEMOIZE = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fun(p, q)`` as KL(p ‖ q) for p of ``type_p`` and q of ``type_q``
    (and their subclasses, the most specific registration winning)."""
    for t, name in ((type_p, "type_p"), (type_q, "type_q")):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"Expected {name} to be a Distribution subclass but got {t}")

    def decorator(fun):
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()
        return fun
    return decorator


def _dispatch_kl(type_p, type_q):
    """The most specific registered pair, ordering by p's class first (and warning when
    ordering by q first would pick a different function)."""
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    depth_p, depth_q = type_p.__mro__.index, type_q.__mro__.index
    left = min(matches, key=lambda m: (depth_p(m[0]), depth_q(m[1])))
    right = min(matches, key=lambda m: (depth_q(m[1]), depth_p(m[0])))
    if _KL_REGISTRY[left] is not _KL_REGISTRY[right]:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                      f"Please register_kl({left[0].__name__}, {right[1].__name__})",
                      RuntimeWarning, stacklevel=2)
    return _KL_REGISTRY[left]


def kl_divergence(p, q):
    """KL(p ‖ q) = ∫ p(x) log(p(x)/q(x)) dx, batched over the batch shape.

    Raises NotImplementedError when no closed form is registered for the pair of types."""
    try:
        fun = _KL_MEMOIZE[type(p), type(q)]
    except KeyError:
        fun = _dispatch_kl(type(p), type(q))
        _KL_MEMOIZE[type(p), type(q)] = fun
    if fun is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {p.__class__.__name__} "
                                  f"and q type {q.__class__.__name__}")
    return fun(p, q)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    # p·log(p/q) + (1−p)·log((1−p)/(1−q)) with log p = −softplus(−logit), log(1−p) = −softplus(logit)
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1[q.probs == 0] = math.inf
    t1[p.probs == 0] = 0
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2[q.probs == 1] = math.inf
    t2[p.probs == 1] = 0
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t[(q.probs == 0).expand_as(t)] = math.inf
    t[(p.probs == 0).expand_as(t)] = 0
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    # ½(σp²/σq² + (μp − μq)²/σq² − 1 − log(σp²/σq²))
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    # ½(tr(Σq⁻¹Σp) + (μq − μp)ᵀΣq⁻¹(μq − μp) − k) + log|Lq| − log|Lp|, from the Cholesky
    # factors: tr(Σq⁻¹Σp) = ‖Lq⁻¹Lp‖², the quadratic form ‖Lq⁻¹(μq − μp)‖²
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event "
                         "shapes cannot be computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_log_det = (Lq.diagonal(dim1=-2, dim2=-1).log().sum(-1)
                    - Lp.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    trace = _solve_lower(Lq, Lp).pow(2).sum((-2, -1))
    mahalanobis = _solve_lower(Lq, (q.loc - p.loc).unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)
    return half_log_det + 0.5 * (trace + mahalanobis - p.event_shape[0])


@register_kl(Normal, Uniform)
def _kl_normal_uniform(p, q):
    # the normal's support is the whole line, the uniform's an interval: ∞ everywhere
    return (p.loc * 0 + q.low * 0) + math.inf


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    # log(√(2π)σ/(b − a)) + ((b − a)²/12 + ((a + b)/2 − μ)²)/(2σ²)
    width = p.high - p.low
    log_ratio = (math.sqrt(2 * math.pi) * q.scale / width).log()
    spread = width.pow(2) / 12 + ((p.high + p.low) / 2 - q.loc).pow(2)
    return log_ratio + 0.5 * spread / q.scale.pow(2)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    result[(q.low > p.low) | (q.high < p.high)] = math.inf
    return result


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
