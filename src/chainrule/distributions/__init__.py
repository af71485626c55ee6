"""Probability distributions (``torch.distributions``): parameterised families with sampling
(``sample``; ``rsample`` where the draw is a differentiable function of the parameters, the
reparameterisation trick), scoring (``log_prob``, ``entropy``, ``cdf``) and closed-form
``kl_divergence``. Draws come from chainrule's torch-compatible generator, so a seeded
script samples what torch samples.

Implemented: Distribution, Normal, MultivariateNormal, Uniform, Bernoulli, Categorical,
OneHotCategorical, Independent; constraints; kl_divergence / register_kl.
"""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl"]
