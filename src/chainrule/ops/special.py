"""The gamma family: log Γ, its derivatives ψ (digamma) and ψ⁽ⁿ⁾ (polygamma), multivariate
log Γ — elementwise primitives whose derivative is the next function of the family.

NumPy has none of them, so they are computed here (SciPy is not a runtime dependency):
log Γ by Python's ``math.lgamma`` per element; ψ⁽ⁿ⁾ by the recurrence
ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + 1) − (−1)ⁿ n!/xⁿ⁺¹ up to x ≥ 10 and then the asymptotic series
ψ⁽ⁿ⁾(x) ≈ (−1)ⁿ⁺¹ [(n − 1)!/xⁿ + n!/(2xⁿ⁺¹) + Σₖ B₂ₖ (2k + n − 1)!/((2k)! x²ᵏ⁺ⁿ)] (ψ = ψ⁽⁰⁾ with
log x − 1/(2x) − Σₖ B₂ₖ/(2k x²ᵏ)), accurate to a few ulps of float64; ψ(x) for x < 0 through
the reflection ψ(1 − x) − ψ(x) = π cot(πx). Poles: ψ(0) = −∞ and ψ(−n) = nan, as torch.
"""
from __future__ import annotations

import math

import numpy as np

from .._graph import Node
from ._util import check_tensor
from .elementwise import _apply_binary, _elementwise, _float_operands, to_float

_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
def _lgamma_one(v):
    """log |Γ(v)| of one number: +∞ at the poles 0, −1, −2, … and at ±∞; nan stays nan."""
    if math.isnan(v):
        return math.nan
    if math.isinf(v) or (v <= 0 and v == int(v)):
        return math.inf
    try:
        return math.lgamma(v)
    except OverflowError:   # log Γ past the float range (v ≳ 2.6e305): ∞, as torch
        return math.inf


_lgamma_all = np.frompyfunc(_lgamma_one, 1, 1)


def _lgamma(x):
    return np.asarray(_lgamma_all(x), dtype=x.dtype)


def _polygamma_array(n, x):
    """ψ⁽ⁿ⁾ on a float64 array (see the module docstring)."""
    x = np.asarray(x, np.float64)
    if n == 0:
        reflect = x < 0.5
        y = np.where(reflect, 1 - x, x)
    else:
        y = x.copy()
    acc = np.zeros_like(y)
    sign = (-1) ** (n + 1)
    fact = math.factorial(n)
    small = np.isfinite(y) & (y < 10)
    while small.any():   # shift up: ψ⁽ⁿ⁾(y) = ψ⁽ⁿ⁾(y + 1) − (−1)ⁿ n!/yⁿ⁺¹
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(small, sign * fact / y ** (n + 1), 0.0)
        acc += term
        y = np.where(small, y + 1, y)
        small = np.isfinite(y) & (y < 10)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = 1 / y
        if n == 0:
            series = np.log(y) - 0.5 * inv
            for k, b in enumerate(_BERNOULLI, 1):
                series -= b / (2 * k) * inv ** (2 * k)
        else:
            series = math.factorial(n - 1) * inv ** n + fact / 2 * inv ** (n + 1)
            for k, b in enumerate(_BERNOULLI, 1):
                series += b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * inv ** (2 * k + n)
            series *= sign
        out = series + acc
        if n == 0:
            out = np.where(reflect, out - math.pi / np.tan(math.pi * x), out)
            out = np.where(x == 0, np.copysign(np.inf, -x), out)   # ψ(±0) = ∓∞, as torch
    # at the poles 0, −1, −2, …: ψ is NaN but at ±0, ψ⁽ⁿ⁾ its limit from the right,
    # (−1)ⁿ⁺¹·∞ (torch's signs); at −∞ nothing (the poles accumulate): NaN
    poles = (x <= 0) & (x == np.floor(x)) & ~((n == 0) & (x == 0))
    out = np.where(poles, np.nan if n == 0 else sign * np.inf, out)
    return np.where(x == -np.inf, np.nan, out) if n else out


def _digamma(x):
    return _polygamma_array(0, x).astype(x.dtype)


Lgamma = _elementwise("Lgamma", _lgamma, "y = log|Γ(x)|;  y′ = ψ(x).",
                      d_x=lambda xp, x: xp.apply(Digamma, x))
Digamma = _elementwise("Digamma", _digamma, "y = ψ(x) = Γ′(x)/Γ(x);  y′ = ψ⁽¹⁾(x).",
                       d_x=lambda xp, x: xp.apply(Polygamma, x, n=1))


class Polygamma(Node):
    """y = ψ⁽ⁿ⁾(x), the n-th derivative of ψ;  y′ = ψ⁽ⁿ⁺¹⁾(x)."""

    elementwise = True
    params = ("n",)
    backward_name = "PolygammaBackward0"

    def forward(self, x):
        return _polygamma_array(self.n, x).astype(x.dtype)

    def d_x(self, xp, x):
        return xp.apply(Polygamma, x, n=self.n + 1)


def lgamma(input):
    """log |Γ(x)| elementwise (+∞ at the poles 0, −1, −2, …). Its derivative is ψ(x)."""
    check_tensor(input, "lgamma")
    return Lgamma.apply(to_float(input))


def digamma(input):
    """ψ(x) = d/dx log Γ(x) elementwise (ψ(0) = −∞, nan at negative integers, as torch)."""
    check_tensor(input, "digamma")
    return Digamma.apply(to_float(input))


def polygamma(n, input):
    """ψ⁽ⁿ⁾(x), the n-th derivative of ψ (n ≥ 0; n = 0 is :func:`digamma`)."""
    check_tensor(input, "polygamma")
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n}")
    if n == 0:
        return digamma(input)
    return Polygamma.apply(to_float(input), n=n)


def mvlgamma(input, p):
    """The multivariate log-gamma log Γ_p(x) = p(p − 1)/4 · log π + Σᵢ₌₀^{p−1} log Γ(x − i/2)
    (defined for x > (p − 1)/2; elsewhere the sum's value, ∞ at its poles, as torch 2.13,
    which no longer refuses such elements)."""
    check_tensor(input, "mvlgamma")
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    x = to_float(input)
    total = p * (p - 1) / 4 * math.log(math.pi)
    out = lgamma(x)
    for i in range(1, p):
        out = out + lgamma(x - i / 2)
    return out + total


# ------------------------------------------------------------ modified Bessel functions I₀, I₁
# Both from their two classical expansions, in float64 (float32 and float16 round the result):
#   |x| ≤ 20: the power series I₀(x) = Σₖ (x²/4)ᵏ/(k!)²,  I₁(x) = (x/2) Σₖ (x²/4)ᵏ/(k!(k+1)!),
#             whose terms are all positive (no cancellation: a few ulps), summed until a term
#             no longer changes the sum (at most ~60 terms at |x| = 20);
#   |x| > 20: the asymptotic series e^{−|x|} Iᵥ(|x|) ≈ (2π|x|)^{−1/2} Σₖ (−1)ᵏ aₖ(ν)/|x|ᵏ with
#             aₖ(ν) = Πⱼ₌₁ᵏ (4ν² − (2j − 1)²) / (k! 8ᵏ), cut at 30 terms: the terms shrink
#             until k ≈ 2|x| > 40, and the 30th is below 10⁻¹⁷ of the first there.
# The exponentially scaled forms (i0e, i1e) come from the same sums, so they stay finite where
# I₀ and I₁ overflow (|x| > 709.78, as torch's e^|x|·s form). I₀(±∞) and I₁(±∞) are NaN, as
# torch's (its form reads ∞·0 there); i0e(±∞) = 0, i1e(±∞) = ±0.
_SERIES_LIMIT = 20.0
_ASYMPTOTIC_TERMS = 30


def _bessel_series(nu, a):
    """Σₖ (a²/4)ᵏ/(k!(k+ν)!) for ν ∈ {0, 1}, a = |x| ≤ 20 (float64 array). The rounding error
    ε of q = a²/4 would grow to k·ε in the k-th term (up to 10 ulps near a = 20); q's exact
    error (Dekker's product) is added back to first order: Σₖ tₖ(1 + kε) = Σ tₖ + ε Σ k tₖ."""
    p = a * a
    hi = a * 134217729.0   # Veltkamp's split of a into 26-bit halves: a·a = p + err exactly
    ah = hi - (hi - a)
    al = a - ah
    err = ((ah * ah - p) + 2 * ah * al) + al * al
    eps = np.where(p > 0, err / np.where(p > 0, p, 1.0), 0.0)
    q = p / 4
    term = np.ones_like(a)
    total, moment = term.copy(), np.zeros_like(a)
    for k in range(1, 200):
        term = term * q / (k * (k + nu))
        new = total + term
        if np.array_equal(new, total):
            break
        total = new
        moment = moment + k * term
    return total + eps * moment


def _bessel_asymptotic(nu, a):
    """e^{−a} Iᵥ(a) for a > 20 by the asymptotic series (float64 array)."""
    term = np.ones_like(a)
    total = term.copy()
    for k in range(1, _ASYMPTOTIC_TERMS):
        term = -term * (4 * nu * nu - (2 * k - 1) ** 2) / (k * 8 * a)
        total = total + term
    return total / np.sqrt(2 * math.pi * a)


def _bessel(nu, x, scaled):
    """Iᵥ(x) (``scaled``: e^{−|x|} Iᵥ(x)) for ν ∈ {0, 1}, elementwise on a float array."""
    v = np.asarray(x, np.float64)
    a = np.abs(v)
    big = a > _SERIES_LIMIT
    with np.errstate(over="ignore", invalid="ignore"):
        # each branch on the elements it serves (the others read a harmless stand-in; NaN is
        # put back at the end), and not at all when no element needs it
        small_a = np.where(big | np.isnan(a), 0.0, a)
        series = _bessel_series(nu, small_a) if not big.all() else small_a
        if nu == 1:
            series = series * small_a / 2
        if scaled:
            series = series * np.exp(-small_a)
        out = series
        if big.any():
            big_a = np.where(big, a, 2 * _SERIES_LIMIT)
            asym = _bessel_asymptotic(nu, big_a)
            if not scaled:   # e^a overflows past a ≈ 709.78: ∞ there, as torch's (and NaN at
                asym = np.exp(big_a) * asym   # ±∞, where it computes e^∞·0, as torch's)
                asym = np.where(big_a == np.inf, np.nan, asym)
            out = np.where(big, asym, series)
    out = np.where(np.isnan(v), v, out)
    if nu == 1:
        out = np.where(v < 0, -out, out)   # I₁ is odd (I₁(−0) = +0, as torch's)
    return out.astype(np.asarray(x).dtype, copy=False)


def _i1_derivative(xp, x, out):
    # I₁′(x) = I₀(x) − I₁(x)/x, with its limit ½ at x = 0 (x read as 1 there, so that the
    # unused branch adds no 0/0 to higher derivatives)
    safe = xp.where(x == 0, 1.0, x)
    return xp.where(x == 0, 0.5, xp.apply(I0, x) - out / safe)


def _i1e_derivative(xp, x, out):
    # (e^{−|x|} I₁)′ = e^{−|x|} I₀ − e^{−|x|} I₁·(sgn x + 1/x), limit ½ at 0 (torch's i1e_backward)
    safe = xp.where(x == 0, 1.0, x)
    return xp.where(x == 0, 0.5, xp.apply(I0e, x) - out * (xp.sign(x) + 1 / safe))


I0 = _elementwise("I0", lambda x: _bessel(0, x, False),
                  "y = I₀(x) = Σₖ (x²/4)ᵏ/(k!)²;  y′ = I₁(x).",
                  d_x=lambda xp, x: xp.apply(I1, x))
I0e = _elementwise("I0e", lambda x: _bessel(0, x, True),
                   "y = e^{−|x|} I₀(x);  y′ = e^{−|x|} I₁(x) − sgn(x)·y.",
                   backward_name="SpecialI0EBackward0",
                   d_x=lambda xp, x, out: xp.apply(I1e, x) - xp.sign(x) * out)
I1 = _elementwise("I1", lambda x: _bessel(1, x, False),
                  "y = I₁(x) = (x/2) Σₖ (x²/4)ᵏ/(k!(k+1)!);  y′ = I₀(x) − y/x (½ at x = 0).",
                  backward_name="SpecialI1Backward0", d_x=_i1_derivative)
I1e = _elementwise("I1e", lambda x: _bessel(1, x, True),
                   "y = e^{−|x|} I₁(x);  y′ = e^{−|x|} I₀(x) − y·(sgn x + 1/x) (½ at x = 0).",
                   backward_name="SpecialI1EBackward0", d_x=_i1e_derivative)


def i0(input):
    """The modified Bessel function of the first kind of order zero, elementwise:

    .. math:: I_0(x) = \\sum_{k=0}^{\\infty} \\frac{(x^2/4)^k}{(k!)^2}

    Shape: that of ``input``; integer input gives the default float dtype. Its derivative
    is :math:`I_1(x)` (:func:`chainrule.special.i1`)."""
    check_tensor(input, "i0")
    return I0.apply(to_float(input))


def i0e(input):
    """The exponentially scaled :math:`I_0`: :math:`e^{-|x|} I_0(x)`, elementwise (finite
    for every finite x, where :func:`i0` overflows past |x| ≈ 714)."""
    check_tensor(input, "special.i0e")
    return I0e.apply(to_float(input))


def i1(input):
    """The modified Bessel function of the first kind of order one, elementwise:

    .. math:: I_1(x) = \\frac{x}{2} \\sum_{k=0}^{\\infty} \\frac{(x^2/4)^k}{k!\\,(k+1)!}

    Shape: that of ``input``; integer input gives the default float dtype."""
    check_tensor(input, "special.i1")
    return I1.apply(to_float(input))


def i1e(input):
    """The exponentially scaled :math:`I_1`: :math:`e^{-|x|} I_1(x)`, elementwise."""
    check_tensor(input, "special.i1e")
    return I1e.apply(to_float(input))


# ------------------------------------------------------------------ incomplete gamma
_IGAM_EPS = 2.0 ** -53
_IGAM_MAXITER = 20000


def _igam_pair(a, x):
    """(P, Q) = (γ(a, x), Γ(a, x)) / Γ(a), the regularised incomplete gamma functions, in
    float64. Each point uses the form that converges for it and the other as its complement:
    the power series γ(a, x) = xᵃe⁻ˣ Σₙ xⁿ/(a(a+1)…(a+n)) where x < a + 1, Legendre's continued
    fraction for Γ(a, x) (modified Lentz) elsewhere. Edge values as torch: NaN for a < 0 or
    x < 0 and at a = x = 0; P = 1 at a = 0 < x and at x = ∞; P = 0 at x = 0 < a and at a = ∞."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    p = np.full(a.shape, np.nan)
    q = np.full(a.shape, np.nan)
    ok = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    with np.errstate(all="ignore"):
        log_pre = np.where(ok, a * np.log(np.where(ok, x, 1.0)) - x - _lgamma(np.where(ok, a, 1.0)),
                           0.0)
        series = ok & (x < a + 1)
        if series.any():
            aa, xx = a[series], x[series]
            term = 1.0 / aa
            total = term.copy()
            n, live = 0, np.ones(aa.shape, bool)
            while live.any() and n < _IGAM_MAXITER:
                n += 1
                term = np.where(live, term * xx / (aa + n), 0.0)
                total += term
                live = np.abs(term) > np.abs(total) * _IGAM_EPS
            ps = np.minimum(total * np.exp(log_pre[series]), 1.0)
            p[series], q[series] = ps, 1.0 - ps
        frac = ok & ~series
        if frac.any():
            aa, xx = a[frac], x[frac]
            tiny = 1e-300
            b = xx + 1.0 - aa
            c = np.full(aa.shape, 1.0 / tiny)
            d = 1.0 / b
            h = d.copy()
            i, live = 0, np.ones(aa.shape, bool)
            while live.any() and i < _IGAM_MAXITER:
                i += 1
                an = -i * (i - aa)
                b = b + 2.0
                d = an * d + b
                d = np.where(np.abs(d) < tiny, tiny, d)
                c = b + an / c
                c = np.where(np.abs(c) < tiny, tiny, c)
                d = 1.0 / d
                delta = np.where(live, d * c, 1.0)
                h = h * delta
                live = np.abs(delta - 1.0) > _IGAM_EPS
            qs = np.minimum(np.exp(log_pre[frac]) * h, 1.0)
            p[frac], q[frac] = 1.0 - qs, qs
    valid = (a >= 0) & (x >= 0)
    one = valid & (((a == 0) & (x > 0)) | ((x == np.inf) & (a < np.inf)))
    zero = valid & (((x == 0) & (a > 0)) | ((a == np.inf) & (x < np.inf)))
    p = np.where(one, 1.0, np.where(zero, 0.0, p))
    q = np.where(one, 0.0, np.where(zero, 1.0, q))
    return p, q


def _igamma(a, x):
    return _igam_pair(a, x)[0].astype(np.result_type(a, x))


def _igammac(a, x):
    return _igam_pair(a, x)[1].astype(np.result_type(a, x))


def _igamma_d_a(xp, a, b):
    # torch has no derivative in a (it would need ∂γ/∂a, a series of its own)
    raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")


def _igammac_d_a(xp, a, b):
    raise NotImplementedError("the derivative for 'igammac: input' is not implemented.")


def _gamma_density(xp, a, x):
    """x^(a−1)e^(−x)/Γ(a), the x-derivative of P(a, x)."""
    return xp.exp((a - 1) * xp.log(x) - x - xp.apply(Lgamma, a))


Igamma = _elementwise("Igamma", _igamma, "y = P(a, x) = γ(a, x)/Γ(a);  ∂y/∂x = x^(a−1)e^(−x)/Γ(a) "
                      "(no derivative in a, as torch).",
                      d_a=_igamma_d_a, d_b=lambda xp, a, b: _gamma_density(xp, a, b))
Igammac = _elementwise("Igammac", _igammac, "y = Q(a, x) = Γ(a, x)/Γ(a) = 1 − P(a, x);  "
                       "∂y/∂x = −x^(a−1)e^(−x)/Γ(a) (no derivative in a, as torch).",
                       d_a=_igammac_d_a, d_b=lambda xp, a, b: -_gamma_density(xp, a, b))


def igamma(input, other):
    """The regularised lower incomplete gamma function P(a, x) = (1/Γ(a)) ∫₀ˣ tᵃ⁻¹e⁻ᵗ dt with
    a = ``input``, x = ``other`` (broadcast): the CDF of Gamma(a, 1) at x. Differentiable in x
    only (as torch). NaN for a < 0 or x < 0."""
    a, x = _float_operands(input, other, "igamma")
    return _apply_binary(Igamma, a, x, "igamma")


def igammac(input, other):
    """The regularised upper incomplete gamma function Q(a, x) = 1 − P(a, x) (see
    :func:`igamma`), computed directly where P is near 1."""
    a, x = _float_operands(input, other, "igammac")
    return _apply_binary(Igammac, a, x, "igammac")
