"""The Laplace (double-exponential) distribution."""
from __future__ import annotations


from .. import creation
from .._dtype import finfo
from .._tensor_base import Size
from . import constraints
from .distribution import Distribution

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Laplace distribution with location μ and scale b:

        log p(x) = −log 2b − |x − μ|/b,    H = 1 + log 2b,    mean μ, var 2b².

    ``rsample`` is μ − b·sign(u)·log(1 − |u|), u ~ U(eps − 1, 1) (torch's ``uniform_`` stream).

    Args:
        loc (float or Tensor): μ.
        scale (float or Tensor): b > 0.
        validate_args (bool, optional): check the arguments.

    Shape: batch_shape = broadcast(loc, scale).shape (``()`` for two numbers); event_shape = ().
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        batch_shape = self._broadcast_params(loc=loc, scale=scale)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Laplace, batch_shape, _instance, "loc", "scale")

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        # eps − 1 as the low end keeps |u| < 1, so log1p(−|u|) stays finite
        u = creation.empty(shape, dtype=self.loc.dtype).uniform_(finfo(self.loc.dtype).eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        """½ − ½·sign(x − μ)·expm1(−|x − μ|/b)."""
        if self._validate_args:
            self._validate_sample(value)
        return (0.5 - 0.5 * (value - self.loc).sign()
                * (-(value - self.loc).abs() / self.scale).expm1())

    def icdf(self, value):
        """μ − b·sign(p − ½)·log(1 − 2|p − ½|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
