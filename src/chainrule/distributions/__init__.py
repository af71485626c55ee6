"""Probability distributions (``torch.distributions``): parameterised families with sampling
(``sample``; ``rsample`` where the draw is a differentiable function of the parameters, the
reparameterisation trick), scoring (``log_prob``, ``entropy``, ``cdf``) and closed-form
``kl_divergence``. Draws come from chainrule's torch-compatible generator, so a seeded
script samples what torch samples.

Implemented: Distribution, Normal, MultivariateNormal, Uniform, Bernoulli, Categorical,
OneHotCategorical, Independent, Exponential, Laplace, Cauchy, Gumbel, HalfNormal, LogNormal,
Gamma, Chi2, Beta, Dirichlet, StudentT, Poisson, HalfCauchy, Pareto, Weibull, Geometric,
Binomial, Multinomial, RelaxedBernoulli, RelaxedOneHotCategorical (their logit-space bases
LogitRelaxedBernoulli, ExpRelaxedCategorical in their modules, as torch), NegativeBinomial,
InverseGamma, Kumaraswamy, FisherSnedecor, LogisticNormal, MixtureSameFamily, ExponentialFamily,
TransformedDistribution; constraints; transforms; kl_divergence / register_kl.
"""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .negative_binomial import NegativeBinomial
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform,
                         IndependentTransform, PowerTransform, ReshapeTransform, SigmoidTransform,
                         SoftmaxTransform, SoftplusTransform, StickBreakingTransform, TanhTransform,
                         Transform, identity_transform)
from .uniform import Uniform
from .weibull import Weibull

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial",
           "Categorical", "Cauchy", "Chi2", "ComposeTransform", "Dirichlet",
           "Distribution", "ExpTransform", "Exponential", "ExponentialFamily",
           "FisherSnedecor", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal",
           "Independent", "IndependentTransform", "InverseGamma", "Kumaraswamy",
           "Laplace", "LogNormal", "LogisticNormal", "MixtureSameFamily", "Multinomial",
           "MultivariateNormal", "NegativeBinomial", "Normal", "OneHotCategorical",
           "Pareto", "Poisson", "PowerTransform", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "ReshapeTransform", "SigmoidTransform",
           "SoftmaxTransform", "SoftplusTransform", "StickBreakingTransform",
           "StudentT", "TanhTransform", "Transform", "TransformedDistribution",
           "Uniform", "Weibull", "constraints", "identity_transform", "kl_divergence",
           "register_kl", "transforms"]
