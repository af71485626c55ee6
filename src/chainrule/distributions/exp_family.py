"""The exponential families (``torch.distributions.ExponentialFamily``)."""
from __future__ import annotations

from .. import autograd
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of distributions whose density is

        p(x; θ) = exp(⟨t(x), θ⟩ − F(θ) + k(x)),

    θ the natural parameters (``_natural_params``), F the log-normaliser
    (``_log_normalizer``), k the carrier measure (``_mean_carrier_measure`` = E[k(X)]). Since
    ∇F(θ) = E[t(X)], the entropy is H = F(θ) − ⟨θ, ∇F(θ)⟩ − E[k(X)] and the KL divergence
    between two members of one family is the Bregman divergence of F, both computed here by
    automatic differentiation of F (a closed form in a subclass takes precedence)."""

    @property
    def _natural_params(self):
        """The natural parameters θ, a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(θ), the log of the normalising constant."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[k(X)]."""
        raise NotImplementedError

    def entropy(self):
        """H = F(θ) − ⟨θ, ∇F(θ)⟩ − E[k(X)], by differentiating F."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result += lg_normal
        for p, g in zip(nparams, gradients):
            result -= (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
