"""``chainrule.special`` — torch.special's names for chainrule's special functions (the same
functions as ``chainrule.erf``, ``chainrule.lgamma`` … , gathered under torch's spelling)."""
import math as _math

from .nn.functional import log_softmax, softmax
from .ops import (digamma, erf, erfc, erfinv, exp2, expm1, log1p, logit, logsumexp, mvlgamma,
                  polygamma, round, sigmoid as expit, sinc, xlogy)
from .ops import lgamma as gammaln

psi = digamma
multigammaln = mvlgamma


def entr(input):
    """−x log x elementwise (0 at x = 0, −∞ for x < 0)."""
    from .ops.elementwise import where
    safe = where(input > 0, input, 1.0)
    out = -input * safe.log()
    return where(input < 0, -_math.inf, where(input == 0, 0.0, out))


def ndtr(input):
    """Φ(x) = (1 + erf(x/√2))/2, the standard normal CDF."""
    return (1 + erf(input / _math.sqrt(2))) / 2


def ndtri(input):
    """Φ⁻¹(p) = √2 erfinv(2p − 1), the standard normal quantile."""
    return erfinv(2 * input - 1) * _math.sqrt(2)


def log_ndtr(input):
    """log Φ(x)."""
    return ndtr(input).log()


__all__ = ["digamma", "psi", "polygamma", "gammaln", "multigammaln", "erf", "erfc", "erfinv",
           "expit", "logit", "exp2", "expm1", "log1p", "logsumexp", "softmax", "log_softmax",
           "xlogy", "sinc", "round", "entr", "ndtr", "ndtri", "log_ndtr"]
