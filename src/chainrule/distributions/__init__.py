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
TransformedDistribution, ContinuousBernoulli, GeneralizedPareto, VonMises,
LowRankMultivariateNormal, OneHotCategoricalStraightThrough, Wishart, LKJCholesky; constraints;
transforms; constraint_registry (biject_to / transform_to); kl_divergence / register_kl.
"""
from . import constraint_registry, constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .logistic_normal import LogisticNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .negative_binomial import NegativeBinomial
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform,
                         CorrCholeskyTransform, CumulativeDistributionTransform, ExpTransform,
                         IndependentTransform, LowerCholeskyTransform, PositiveDefiniteTransform,
                         PowerTransform, ReshapeTransform, SigmoidTransform, SoftmaxTransform,
                         SoftplusTransform, StackTransform, StickBreakingTransform, TanhTransform,
                         Transform, identity_transform)
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

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
           "register_kl", "transforms", "CatTransform", "ContinuousBernoulli",
           "CorrCholeskyTransform", "CumulativeDistributionTransform", "GeneralizedPareto",
           "LKJCholesky", "LowRankMultivariateNormal", "LowerCholeskyTransform",
           "OneHotCategoricalStraightThrough", "PositiveDefiniteTransform", "StackTransform",
           "VonMises", "Wishart", "biject_to", "constraint_registry", "transform_to"]
