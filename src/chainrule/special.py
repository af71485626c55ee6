"""``chainrule.special`` — torch.special's names for chainrule's special functions (the same
functions as ``chainrule.erf``, ``chainrule.lgamma`` … , gathered under torch's spelling)."""
import math as _math

import numpy as np

from ._dtype import float16, float32, float64, get_default_dtype
from .nn.functional import log_softmax, softmax
from .ops import (digamma, erf, erfc, erfinv, exp2, expm1, log1p, logit, logsumexp, mvlgamma,
                  polygamma, round, sigmoid as expit, sinc, xlogy)
from .ops import igamma as gammainc, igammac as gammaincc, lgamma as gammaln
from .ops.elementwise import _elementwise, _erfinv, erfc_inverse_of_log, to_float
from .ops.special import i0, i0e, i1, i1e
from .ops.special_more import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1,
                               chebyshev_polynomial_t, chebyshev_polynomial_u,
                               chebyshev_polynomial_v, chebyshev_polynomial_w, erfcx,
                               hermite_polynomial_h, hermite_polynomial_he,
                               laguerre_polynomial_l, legendre_polynomial_p,
                               modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
                               modified_bessel_k1, scaled_modified_bessel_k0,
                               scaled_modified_bessel_k1, shifted_chebyshev_polynomial_t,
                               shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
                               shifted_chebyshev_polynomial_w, spherical_bessel_j0, xlog1py, zeta)

psi = digamma
multigammaln = mvlgamma


def _entr(x):
    out = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, -np.inf))
    return np.where(np.isnan(x), x, out).astype(x.dtype, copy=False)


_Entr = _elementwise("Entr", _entr, "y = −x log x (0 at 0, −∞ for x < 0);  y′ = −(log x + 1): "
                     "+∞ at 0, NaN for x < 0 (as torch).", backward_name="SpecialEntrBackward0",
                     d_x=lambda xp, x: -(xp.log(x) + 1))


def entr(input):
    """−x log x elementwise (0 at x = 0, −∞ for x < 0). Integer input gives the default
    float dtype."""
    return _Entr.apply(to_float(input))


def ndtr(input):
    """Φ(x) = erfc(−x/√2)/2, the standard normal CDF (as torch: erfc keeps the left tail's
    digits, where (1 + erf(x/√2))/2 cancels to 0 from x ≈ −8.3)."""
    return erfc(input * -_SQRT1_2) / 2


def _ndtri(p):
    a = np.asarray(p, np.float64)
    x = np.array(_erfinv(2 * a - 1) * _math.sqrt(2))   # (an array, 0-d included: x[low])
    low = (a > 0) & (a < 0.25)   # −√2·erfc⁻¹(2p): 2p − 1 would round p's digits away
    if low.any():
        x[low] = -_math.sqrt(2) * erfc_inverse_of_log(np.log(2 * a[low]))
    return x.astype(np.asarray(p).dtype, copy=False)


_Ndtri = _elementwise("Ndtri", _ndtri, "y = Φ⁻¹(p);  y′ = √(2π)·e^{y²/2}.",
                      d_x=lambda xp, out: _math.sqrt(2 * _math.pi) * xp.exp(out * out / 2))


def ndtri(input):
    """Φ⁻¹(p), the standard normal quantile: √2·erfinv(2p − 1), and −√2·erfc⁻¹(2p) for
    p < 0.25 so that small p keep their digits (Φ⁻¹(10⁻³⁰⁰) = −37.04…; 2p − 1 rounds to −1).
    Integer input gives the default float dtype."""
    return _Ndtri.apply(to_float(input))


_SQRT1_2 = _math.sqrt(0.5)
_LOG_SQRT_2PI = 0.5 * _math.log(2 * _math.pi)
# below these erfc(−x/√2)/2 leaves the dtype's normal range (float64, float32): the asymptotic
# series takes over, accurate to 10⁻¹³ and 10⁻⁸ there
_TAIL = {"float64": -37.0, "float32": -13.0}


def log_ndtr(input):
    """log Φ(x), accurate in both tails: log1p(−Φ(−x)) for x > −1; log(erfc(−x/√2)/2) down
    to x = −37 (float32: −13); below, where erfc underflows, Φ's asymptotic series
    log Φ(x) = −x²/2 − log(−x√(2π)) + log(1 − 1/x² + 3/x⁴ − 15/x⁶ + 105/x⁸)
    (log Φ(−40) = −804.608…, where log(ndtr(x)) is −inf). Each branch reads a clamped copy
    of x, so that no branch's infinite slope leaks into the gradient of another. Integer input
    gives the default float dtype, float16 is computed in float32."""
    from .ops.elementwise import isnan, where
    x = input if input.dtype in (float32, float64) else input.to(
        float32 if input.dtype is float16 else get_default_dtype())
    tail = _TAIL[x.dtype.name]
    right = where(x > -1, x, 0.0)
    upper = (-ndtr(-right)).log1p()
    middle = ndtr(x.clamp(tail, -1.0)).log()
    t = x.clamp(max=tail)
    u = 1 / (t * t)
    series = 1 - u * (1 - u * (3 - u * (15 - u * 105)))
    lower = -0.5 * t * t - (-t).log() - _LOG_SQRT_2PI + series.log()
    out = where(x > -1, upper, where(x > tail, middle, lower))
    out = where(isnan(x), x, out)
    return out.to(float16) if input.dtype is float16 else out


__all__ = ["digamma", "psi", "polygamma", "gammaln", "gammainc", "gammaincc", "multigammaln", "erf",
           "erfc", "erfinv",
           "expit", "logit", "exp2", "expm1", "log1p", "logsumexp", "softmax", "log_softmax",
           "xlogy", "sinc", "round", "entr", "ndtr", "ndtri", "log_ndtr", "i0", "i0e", "i1", "i1e",
           "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "erfcx", "xlog1py", "zeta", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
           "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]
