"""Probability distributions (``torch.distributions``): parameterised families with sampling
(``sample``; ``rsample`` where the draw is a differentiable function of the parameters, the
reparameterisation trick), scoring (``log_prob``, ``entropy``, ``cdf``) and closed-form
``kl_divergence``. Draws come from chainrule's torch-compatible generator, so a seeded
script samples what torch samples.

Implemented: Distribution, Normal, MultivariateNormal, Uniform, Bernoulli, Categorical,
OneHotCategorical, Independent, Exponential, Laplace, Cauchy, Gumbel, HalfNormal, LogNormal,
TransformedDistribution; constraints; transforms; kl_divergence / register_kl.
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .categorical import Categorical
from .cauchy import Cauchy
from .distribution import Distribution
from .exponential import Exponential
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .laplace import Laplace
from .log_normal import LogNormal
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform,
                         IndependentTransform, PowerTransform, SigmoidTransform, SoftmaxTransform,
                         SoftplusTransform, TanhTransform, Transform, identity_transform)
from .uniform import Uniform

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Categorical", "Cauchy", "ComposeTransform",
           "Distribution", "ExpTransform", "Exponential", "Gumbel", "HalfNormal", "Independent",
           "IndependentTransform", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "PowerTransform", "SigmoidTransform", "SoftmaxTransform",
           "SoftplusTransform", "TanhTransform", "Transform", "TransformedDistribution", "Uniform",
           "constraints", "identity_transform", "kl_divergence", "register_kl", "transforms"]
