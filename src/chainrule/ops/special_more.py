"""More of torch.special: Bessel functions of the first and second kind (J₀, J₁, Y₀, Y₁), the
modified ones (I₀, I₁, K₀, K₁, e^x·K₀, e^x·K₁), the Airy function Ai, the spherical j₀, the
scaled complementary error function erfcx, x·log1p(y), the Hurwitz zeta function and the
classical orthogonal polynomials (Chebyshev T, U, V, W and their shifted forms, Hermite H and
He, Laguerre L, Legendre P).

All are computed in float64 with NumPy (no SciPy at runtime) from classical expansions, each
on the range where it keeps float64's digits:

* J₀, J₁, Y₀, Y₁: power series for x < 2; Miller's backward recurrence for 2 ≤ x ≤ 25, which
  also gives Y₀ and Y₁ through Neumann's sums Y₀ = (2/π)(ln(x/2) + γ)J₀ − (4/π) Σₖ (−1)ᵏ J₂ₖ/k
  (and its derivative for Y₁); Hankel's asymptotic expansion for x > 25.
* K₀, K₁: power series for x ≤ 2; Steed's continued fraction (Temme's CF2, which yields
  e^x·K directly, so the scaled forms never overflow) beyond.
* Ai: for x ≥ 2.5 Ai(x) = (1/π)√(x/3)·K_{1/3}(ζ), ζ = (2/3)x^{3/2}, by the same continued
  fraction; on [−12, 2.5] a Taylor expansion about the nearest point of a 0.25-spaced grid
  (Ai'' = x·Ai gives the coefficients; the grid is summed once from the Maclaurin series in
  60-digit decimals); below −12 the asymptotic expansion in ζ.

As torch: none of these is differentiable except erfcx, xlog1py (both arguments) and zeta (in
its second argument q only); the others return results that do not require grad. They accept
float32 and float64 (integers and bools compute in the default float dtype); float16 is
refused as torch's CPU kernels refuse it (xlog1py takes it).
"""
from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np

from ._util import check_tensor
from .array_function import array_function
from .elementwise import _apply_binary, _elementwise, _float_operands, to_float
from .special import _bessel
from .._tensor_base import TensorBase

_GAMMA = 0.57721566490153286060651209008240243   # Euler's γ
_TWO_OVER_PI = 2 / math.pi
_SQRT1_2 = math.sqrt(0.5)
_LN2 = math.log(2)   # ln(a/2) as ln a − ln 2: a/2 underflows to 0 for the least subnormal


def _check_float(x, op):
    """torch's CPU kernels of these functions exist for float32 and float64 only."""
    if x._data.dtype not in (np.float32, np.float64):
        name = {"float16": "Half"}.get(x._data.dtype.name, str(x.dtype))
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'{name}\'')


def _in_float64(fn):
    """fn on a float64 copy of the array, rounded back to the array's dtype."""
    def run(x):
        with np.errstate(all="ignore"):
            return np.asarray(fn(np.asarray(x, np.float64))).astype(x.dtype, copy=False)
    return run


def _unary(fn, input, op):
    check_tensor(input, op)
    x = to_float(input)
    _check_float(x, op)
    return array_function(_in_float64(fn), x)


# ------------------------------------------------------------------ J₀, J₁, Y₀, Y₁
_MILLER_START = 80   # J₈₀(25) ≈ 10⁻³¹: the recurrence's start adds nothing below 25
_HANKEL_FROM = 25.0
_SERIES_BELOW = 2.0


def _bessel_jy_series(a):
    """(J₀, J₁, Y₀, Y₁) at 0 < a < 2 from their power series in q = a²/4 (terms ≤ 1: no
    cancellation worth a digit)."""
    q = -a * a / 4
    t0 = np.ones_like(a)   # (−q)ᵏ/(k!)²
    t1 = np.ones_like(a)   # (−q)ᵏ/(k!(k+1)!)
    j0, j1s = t0.copy(), t1.copy()
    y0s = np.zeros_like(a)
    y1s = 1 - 2 * _GAMMA + 0 * a   # ψ(1) + ψ(2)
    harmonic = 0.0
    for k in range(1, 40):
        t0 = t0 * q / (k * k)
        t1 = t1 * q / (k * (k + 1))
        harmonic += 1 / k
        j0 = j0 + t0
        j1s = j1s + t1
        y0s = y0s - harmonic * t0   # (−1)^{k+1} H_k qᵏ/(k!)² with q = a²/4
        y1s = y1s + (2 * harmonic + 1 / (k + 1) - 2 * _GAMMA) * t1
    j1 = a / 2 * j1s
    log_term = (np.log(a) - _LN2)
    y0 = _TWO_OVER_PI * ((log_term + _GAMMA) * j0 + y0s)
    y1 = -_TWO_OVER_PI / a + _TWO_OVER_PI * log_term * j1 - a / (2 * math.pi) * y1s
    return j0, j1, y0, y1


def _bessel_jy_miller(a):
    """(J₀, J₁, Y₀, Y₁) for 2 ≤ a ≤ 25: J_k by the recurrence J_{k−1} = (2k/a)J_k − J_{k+1}
    run downwards (stable that way), normalised by J₀ + 2ΣJ₂ₖ = 1; Y₀, Y₁ from Neumann's sums."""
    n = _MILLER_START
    # running sums (memory of one array each): J_{k+1}, J_k and the three sums, all in the
    # recurrence's arbitrary scale until the normalisation
    up2, up1 = np.zeros_like(a), np.full_like(a, 1e-30)   # J_{k+1}, J_k for k = n
    norm, y0_sum, y1_sum = np.zeros_like(a), np.zeros_like(a), np.zeros_like(a)
    for k in range(n, 0, -1):
        m = k - 1
        jm = (2 * k / a) * up1 - up2
        if m % 2 == 0 and m:
            norm = norm + 2 * jm
            y0_sum = y0_sum + (1 if (m // 2) % 2 == 0 else -1) * jm / (m // 2)
        elif m % 2:
            kk = (m + 1) // 2   # (−1)^kk (J_{2kk−1} − J_{2kk+1})/kk, J_{2kk+1} = up2
            y1_sum = y1_sum + (1 if kk % 2 == 0 else -1) * (jm - up2) / kk
        up2, up1 = up1, jm
    norm = norm + up1
    j0, j1 = up1 / norm, up2 / norm
    y0_sum, y1_sum = y0_sum / norm, y1_sum / norm
    log_term = (np.log(a) - _LN2) + _GAMMA
    y0 = _TWO_OVER_PI * log_term * j0 - 2 * _TWO_OVER_PI * y0_sum
    y1 = _TWO_OVER_PI * (log_term * j1 - j0 / a) + _TWO_OVER_PI * y1_sum
    return j0, j1, y0, y1


def _hankel_pq(nu, a, terms=40):
    """Hankel's P and Q for order ν at large a: P = Σ (−1)ᵏ a₂ₖ/a²ᵏ, Q = Σ (−1)ᵏ a₂ₖ₊₁/a²ᵏ⁺¹
    with aₖ = Πⱼ₌₁ᵏ (4ν² − (2j − 1)²)/(k!·8ᵏ)."""
    p, q = np.ones_like(a), np.zeros_like(a)
    term = np.ones_like(a)
    mu = 4 * nu * nu
    for k in range(1, terms):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8 * a)
        if k % 2:
            q = q + (term if k % 4 == 1 else -term)
        else:
            p = p + (term if k % 4 == 0 else -term)
    return p, q


def _bessel_jy_hankel(a):
    """(J₀, J₁, Y₀, Y₁) for a > 25: √(2/(πa))·(P cos χ − Q sin χ) and (P sin χ + Q cos χ)
    with χ = a − π/4 (ν = 0), a − 3π/4 (ν = 1), the phase shifts taken exactly through sin a
    and cos a (a − π/4 would round away the digits of a large a)."""
    s, c = np.sin(a), np.cos(a)
    amp = np.sqrt(_TWO_OVER_PI / a)
    p0, q0 = _hankel_pq(0, a)
    p1, q1 = _hankel_pq(1, a)
    cos0, sin0 = (c + s) * _SQRT1_2, (s - c) * _SQRT1_2
    cos1, sin1 = (s - c) * _SQRT1_2, -(s + c) * _SQRT1_2
    return (amp * (p0 * cos0 - q0 * sin0), amp * (p1 * cos1 - q1 * sin1),
            amp * (p0 * sin0 + q0 * cos0), amp * (p1 * sin1 + q1 * cos1))


def _bessel_jy(x):
    """(J₀, J₁, Y₀, Y₁) of a float64 array, each range by its own method."""
    a = np.abs(x)
    out = [np.full(x.shape, np.nan) for _ in range(4)]
    for sel, method in (((a > 0) & (a < _SERIES_BELOW), _bessel_jy_series),
                        ((a >= _SERIES_BELOW) & (a <= _HANKEL_FROM), _bessel_jy_miller),
                        (a > _HANKEL_FROM, _bessel_jy_hankel)):   # a = ∞: NaN, as torch
        if sel.any():
            for o, v in zip(out, method(a[sel])):
                o[sel] = v
    j0, j1, y0, y1 = out
    zero = a == 0
    j0 = np.where(zero, 1.0, j0)
    j1 = np.where(zero, 0.0, j1)
    j1 = np.where(x < 0, -j1, np.where(zero, x, j1))   # odd: J₁(−0) = −0
    y0 = np.where(zero, -np.inf, np.where(x < 0, np.nan, y0))
    y1 = np.where(zero, -np.inf, np.where(x < 0, np.nan, y1))
    return j0, j1, y0, y1


def bessel_j0(input):
    """The Bessel function of the first kind of order zero, elementwise:

    .. math:: J_0(x) = \\sum_{k \\ge 0} \\frac{(-x^2/4)^k}{(k!)^2}

    Shape: that of ``input``. Not differentiable (as torch); NaN at ±∞."""
    return _unary(lambda x: _bessel_jy(x)[0], input, "bessel_j0")


def bessel_j1(input):
    """The Bessel function of the first kind of order one (odd in x), elementwise:

    .. math:: J_1(x) = \\frac{x}{2} \\sum_{k \\ge 0} \\frac{(-x^2/4)^k}{k!\\,(k+1)!}

    Shape: that of ``input``. Not differentiable (as torch)."""
    return _unary(lambda x: _bessel_jy(x)[1], input, "bessel_j1")


def bessel_y0(input):
    """The Bessel function of the second kind of order zero, elementwise:
    :math:`Y_0(x) = \\frac{2}{\\pi}(\\ln\\frac{x}{2} + \\gamma) J_0(x) + \\frac{2}{\\pi}
    \\sum_{k \\ge 1} (-1)^{k+1} H_k \\frac{(x^2/4)^k}{(k!)^2}`. −∞ at 0, NaN for x < 0.
    Shape: that of ``input``. Not differentiable (as torch)."""
    return _unary(lambda x: _bessel_jy(x)[2], input, "bessel_y0")


def bessel_y1(input):
    """The Bessel function of the second kind of order one, elementwise:
    :math:`Y_1(x) = -\\frac{2}{\\pi x} + \\frac{2}{\\pi}\\ln\\frac{x}{2} J_1(x) - \\frac{x}{2\\pi}
    \\sum_{k \\ge 0} (\\psi(k+1) + \\psi(k+2)) \\frac{(-x^2/4)^k}{k!(k+1)!}`. −∞ at 0, NaN for
    x < 0. Shape: that of ``input``. Not differentiable (as torch)."""
    return _unary(lambda x: _bessel_jy(x)[3], input, "bessel_y1")


def spherical_bessel_j0(input):
    """The spherical Bessel function of the first kind of order zero, :math:`j_0(x) =
    \\sin(x)/x` (1 at 0, 0 at ±∞), elementwise. Not differentiable (as torch)."""
    def j0(x):
        small = np.abs(x) < 1e-4   # 1 − x²/6 + x⁴/120 there: sin(x)/x has no better digits
        safe = np.where(small, 1.0, x)
        out = np.where(small, 1 - x * x / 6 * (1 - x * x / 20), np.sin(safe) / safe)
        return np.where(np.isinf(x), 0.0, out)
    return _unary(j0, input, "spherical_bessel_j0")


# ------------------------------------------------------------------ I₀, I₁, K₀, K₁
def modified_bessel_i0(input):
    """The modified Bessel function of the first kind of order zero,
    :math:`I_0(x) = \\sum_k (x^2/4)^k/(k!)^2` (the values of :func:`chainrule.special.i0`; ∞
    where it overflows, NaN at ±∞ as torch). Not differentiable (as torch)."""
    return _unary(lambda x: _bessel(0, x, False), input, "modified_bessel_i0")


def modified_bessel_i1(input):
    """The modified Bessel function of the first kind of order one,
    :math:`I_1(x) = \\frac{x}{2}\\sum_k (x^2/4)^k/(k!(k+1)!)` (odd; ±∞ where it overflows,
    NaN at ±∞, +0 at −0 as torch). Not differentiable (as torch)."""
    return _unary(lambda x: np.where(x == 0, 0.0, _bessel(1, x, False)), input,
                  "modified_bessel_i1")


def _bessel_k_series(a):
    """(K₀, K₁) for 0 < a ≤ 2: K₀ = −(ln(a/2) + γ)I₀ + Σₖ Hₖ qᵏ/(k!)² and K₁ = 1/a + ln(a/2)I₁
    − (a/4) Σₖ (ψ(k+1) + ψ(k+2)) qᵏ/(k!(k+1)!), q = a²/4."""
    q = a * a / 4
    t0, t1 = np.ones_like(a), np.ones_like(a)
    i0, i1s = t0.copy(), t1.copy()
    k0s = np.zeros_like(a)
    k1s = 1 - 2 * _GAMMA + 0 * a
    harmonic = 0.0
    for k in range(1, 30):
        t0 = t0 * q / (k * k)
        t1 = t1 * q / (k * (k + 1))
        harmonic += 1 / k
        i0, i1s = i0 + t0, i1s + t1
        k0s = k0s + harmonic * t0
        k1s = k1s + (2 * harmonic + 1 / (k + 1) - 2 * _GAMMA) * t1
    log_term = (np.log(a) - _LN2)
    k0 = -(log_term + _GAMMA) * i0 + k0s
    k1 = 1 / a + log_term * a / 2 * i1s - a / 4 * k1s
    return k0, k1


def _bessel_k_scaled_cf(nu, a):
    """(e^a K_ν(a), e^a K_{ν+1}(a)) for a ≥ 2 and |ν| ≤ ½ by Steed's continued fraction CF2
    (Thompson and Barnett; Temme's normalisation by the sum S): e^a K_ν = √(π/(2a))/S."""
    mu2 = nu * nu
    b = 2 * (1 + a)
    d = 1 / b
    h = delh = d
    q1, q2 = np.zeros_like(a), np.ones_like(a)
    a1 = 0.25 - mu2
    q = c = a1 + 0 * a
    an = -a1
    s = 1 + q * delh
    live = np.ones(a.shape, bool)
    for i in range(2, 20000):
        an = an - 2 * (i - 1)
        c = -an * c / i
        qnew = (q1 - b * q2) / an
        q1, q2 = q2, qnew
        q = q + c * qnew
        b = b + 2
        d = 1 / (b + an * d)
        delh = (b * d - 1) * delh
        h = h + np.where(live, delh, 0.0)
        dels = q * delh
        s = s + np.where(live, dels, 0.0)
        live = live & (np.abs(dels) >= 1e-17 * np.abs(s))
        if not live.any():
            break
    h = a1 * h
    knu = np.sqrt(math.pi / (2 * a)) / s
    return knu, knu * (nu + a + 0.5 - h) / a


def _bessel_k(x, scaled):
    """(K₀, K₁) (``scaled``: e^x·K) of a float64 array: NaN for x < 0, ∞ at 0, 0 at ∞."""
    out0, out1 = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    small = (x > 0) & (x <= 2)
    if small.any():
        k0, k1 = _bessel_k_series(x[small])
        if scaled:
            k0, k1 = k0 * np.exp(x[small]), k1 * np.exp(x[small])
        out0[small], out1[small] = k0, k1
    big = (x > 2) & np.isfinite(x)
    if big.any():
        k0, k1 = _bessel_k_scaled_cf(0.0, x[big])
        if not scaled:
            k0, k1 = k0 * np.exp(-x[big]), k1 * np.exp(-x[big])
        out0[big], out1[big] = k0, k1
    for o in (out0, out1):
        o[x == 0] = np.inf
        o[x == np.inf] = 0.0
    return out0, out1


def modified_bessel_k0(input):
    """The modified Bessel function of the second kind of order zero,
    :math:`K_0(x) = -(\\ln\\frac{x}{2} + \\gamma) I_0(x) + \\sum_{k \\ge 1} H_k
    \\frac{(x^2/4)^k}{(k!)^2}`: ∞ at 0, NaN for x < 0. Not differentiable (as torch)."""
    return _unary(lambda x: _bessel_k(x, False)[0], input, "modified_bessel_k0")


def modified_bessel_k1(input):
    """The modified Bessel function of the second kind of order one, :math:`K_1(x) =
    -K_0'(x)` (≈ 1/x near 0): ∞ at 0, NaN for x < 0. Not differentiable (as torch)."""
    return _unary(lambda x: _bessel_k(x, False)[1], input, "modified_bessel_k1")


def scaled_modified_bessel_k0(x):
    """:math:`e^x K_0(x)`, finite where :math:`K_0` underflows. Not differentiable (as
    torch)."""
    return _unary(lambda v: _bessel_k(v, True)[0], x, "scaled_modified_bessel_k0")


def scaled_modified_bessel_k1(x):
    """:math:`e^x K_1(x)`, finite where :math:`K_1` underflows. Not differentiable (as
    torch)."""
    return _unary(lambda v: _bessel_k(v, True)[1], x, "scaled_modified_bessel_k1")


# ------------------------------------------------------------------ Airy Ai
_AI0 = Decimal("0.355028053887817239260063186004183176397979174")
_AIP0 = Decimal("-0.258819403792806798405183560189203963479091138")
_AIRY_STEP = 0.25
_AIRY_LOW, _AIRY_HIGH = -12.0, 2.5
_AIRY_ZERO_FROM = 103.892   # Ai below the smallest subnormal from here (torch's cut)
_airy_grid_cache = []


def _airy_grid():
    """(Ai, Ai') on the grid _AIRY_LOW, …, _AIRY_HIGH (step ¼), from the Maclaurin series
    Ai(x) = Σ aₙxⁿ, (n + 2)(n + 1)aₙ₊₂ = aₙ₋₁, summed in 60-digit decimals: its terms reach
    e^{(2/3)|x|^{3/2}} ≈ 10¹² at x = −12, which float64 could not cancel."""
    if not _airy_grid_cache:
        with localcontext() as ctx:
            ctx.prec = 60
            coef = [_AI0, _AIP0, Decimal(0)]
            while len(coef) < 400:
                n = len(coef) - 2
                coef.append(coef[n - 1] / ((n + 2) * (n + 1)))
            points = np.arange(_AIRY_LOW, _AIRY_HIGH + _AIRY_STEP / 2, _AIRY_STEP)
            values, slopes = [], []
            for p in points:
                x = Decimal(float(p))
                val = slope = Decimal(0)
                for n in range(len(coef) - 1, 0, -1):   # Horner, both sums at once
                    val = val * x + coef[n]
                    slope = slope * x + n * coef[n]
                val = val * x + coef[0]
                values.append(float(val))
                slopes.append(float(slope))
        _airy_grid_cache.append((points, np.array(values), np.array(slopes)))
    return _airy_grid_cache[0]


def _airy_taylor(x):
    """Ai on [_AIRY_LOW, _AIRY_HIGH] from the nearest grid point x₀ (|h| ≤ ⅛): Ai(x₀ + h) =
    Σ cₙhⁿ with (n + 2)(n + 1)cₙ₊₂ = x₀cₙ + cₙ₋₁."""
    points, values, slopes = _airy_grid()
    i = np.clip(np.rint((x - _AIRY_LOW) / _AIRY_STEP).astype(np.int64), 0, len(points) - 1)
    x0, h = points[i], x - points[i]
    c_prev2, c_prev, c = np.zeros_like(x), values[i], slopes[i]   # c₋₁, c₀, c₁
    total = c_prev + c * h
    hn = h.copy()
    for n in range(0, 30):   # cₙ₊₂ from cₙ (c_prev) and cₙ₋₁ (c_prev2)
        c_next = (x0 * c_prev + c_prev2) / ((n + 2) * (n + 1))
        hn = hn * h
        total = total + c_next * hn
        c_prev2, c_prev, c = c_prev, c, c_next
    return total


def _two_prod(a, b):
    """(p, e) with p = fl(a·b) and a·b = p + e exactly (Dekker's product by Veltkamp splits;
    e is NaN where a·b overflows)."""
    p = a * b

    def split(v):
        hi = v * 134217729.0
        hi = hi - (hi - v)
        return hi, v - hi
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_thirds_power(a):
    """ζ = (2/3)a^{3/2} as hi + lo, accurate to ~10⁻³² relative: Ai's phase for x = −10⁴ is
    ζ ≈ 6.7·10⁵, where one rounding of ζ alone would move Ai by 10⁻¹⁰ (relative 10⁻⁹)."""
    r = np.sqrt(a)
    sq, sq_err = _two_prod(r, r)
    r_lo = ((a - sq) - sq_err) / (2 * r)          # √a = r + r_lo
    t, t_err = _two_prod(a, r)
    t_lo = t_err + a * r_lo                       # a√a = t + t_lo
    hi = 2 * t / 3
    m, m_err = _two_prod(hi, np.full_like(hi, 3.0))
    lo = (((2 * t - m) - m_err) + 2 * t_lo) / 3
    return hi, np.where(np.isfinite(lo), lo, 0.0)


def _airy_negative(x):
    """Ai(x) for x < _AIRY_LOW: π^{−½}|x|^{−¼}[sin(ζ + π/4)·P − cos(ζ + π/4)·Q] with
    P = Σ (−1)ᵏu₂ₖζ^{−2k}, Q = Σ (−1)ᵏu₂ₖ₊₁ζ^{−2k−1}, uₖ = uₖ₋₁(6k−5)(6k−3)(6k−1)/((2k−1)216k)."""
    a = -x
    zeta, zeta_lo = _two_thirds_power(a)
    p, q = np.ones_like(a), np.zeros_like(a)
    u, zpow = 1.0, np.ones_like(a)
    for k in range(1, 30):
        u = u * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216 * k)
        zpow = zpow / zeta
        sign = 1 if (k // 2) % 2 == 0 else -1
        if k % 2:
            q = q + sign * u * zpow
        else:
            p = p + sign * u * zpow
    s, c = np.sin(zeta), np.cos(zeta)
    s, c = s + zeta_lo * c, c - zeta_lo * s   # the phase's low part: sin(ζ + δ) ≈ sin ζ + δ cos ζ
    return ((s + c) * p - (c - s) * q) * _SQRT1_2 / (math.sqrt(math.pi) * np.sqrt(np.sqrt(a)))


def _airy_ai(x):
    out = np.full(x.shape, np.nan)
    mid = (x >= _AIRY_LOW) & (x <= _AIRY_HIGH)
    if mid.any():
        out[mid] = _airy_taylor(x[mid])
    low = x < _AIRY_LOW
    if low.any():
        out[low] = _airy_negative(x[low])
    high = (x > _AIRY_HIGH) & (x <= _AIRY_ZERO_FROM)
    if high.any():
        v = x[high]
        zeta = 2 / 3 * v * np.sqrt(v)
        k13 = _bessel_k_scaled_cf(1 / 3, zeta)[0] * np.exp(-zeta)
        out[high] = np.sqrt(v / 3) / math.pi * k13
    out[(x > _AIRY_ZERO_FROM) & np.isfinite(x)] = 0.0
    return out


def airy_ai(x):
    """The Airy function Ai, the solution of y'' = x·y that decays as x → ∞:

    .. math:: \\mathrm{Ai}(x) = \\frac{1}{\\pi}\\int_0^\\infty
              \\cos\\left(\\frac{t^3}{3} + x t\\right) dt

    elementwise (oscillating for x < 0; 0 from x ≈ 103.9, NaN at ±∞ as torch). Not
    differentiable (as torch)."""
    return _unary(_airy_ai, x, "airy_ai")


# ------------------------------------------------------------------ erfcx
_INV_SQRT_PI = 1 / math.sqrt(math.pi)
_erfc_scalar = np.frompyfunc(math.erfc, 1, 1)


def _exp_square(x):
    """e^{x²} with x² split exactly (Veltkamp/Dekker): e^{p}(1 + err) for x² = p + err, so
    the rounding of x² (relative 10⁻¹⁶, absolute up to 10⁻¹³ at x ≈ 26) costs nothing."""
    p, err = _two_prod(x, x)
    # err ≤ ulp(p)/2: tiny wherever e^p is finite; beyond (p ≳ 709, e^p = ∞) it is not used
    return np.exp(p) * (1 + np.where(np.abs(err) < 1, err, 0.0))


def _erfcx_positive(a):
    """e^{a²}erfc(a) for a ≥ 0: the product below 26 (erfc(26) ≈ 6·10⁻²⁹⁶ still normal);
    beyond, the asymptotic series (a√π)⁻¹ Σ (−1)ᵏ(2k − 1)!!/(2a²)ᵏ (the 10th term < 10⁻³⁰)."""
    out = np.empty_like(a)
    near = a < 26
    if near.any():
        v = a[near]
        out[near] = _exp_square(v) * np.asarray(_erfc_scalar(v), np.float64)
    far = ~near
    if far.any():
        v = a[far]
        inv = 1 / (2 * v * v)
        total, term = np.ones_like(v), np.ones_like(v)
        for k in range(1, 12):
            term = -term * (2 * k - 1) * inv
            total = total + term
        out[far] = total * _INV_SQRT_PI / v
    return out


def _erfcx(x):
    v = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        a = np.where(np.isnan(v), 0.0, np.abs(v))
        pos = _erfcx_positive(a)
        out = np.where(v < 0, 2 * _exp_square(a) - pos, pos)   # erfcx(−a) = 2e^{a²} − erfcx(a)
        out = np.where(np.isnan(v), v, out)
    return out.astype(np.asarray(x).dtype, copy=False)


Erfcx = _elementwise("Erfcx", _erfcx, "y = e^{x²} erfc(x);  y′ = 2x·y − 2/√π.",
                     backward_name="SpecialErfcxBackward0",
                     d_x=lambda xp, x, out: 2 * x * out - 2 * _INV_SQRT_PI)


def erfcx(input):
    """The scaled complementary error function, elementwise:

    .. math:: \\mathrm{erfcx}(x) = e^{x^2}\\,\\mathrm{erfc}(x)

    finite (≈ 1/(x√π)) where erfc underflows; ∞ for x ≲ −26.6. Shape: that of ``input``.
    Differentiable: :math:`\\mathrm{erfcx}'(x) = 2x\\,\\mathrm{erfcx}(x) - 2/\\sqrt{\\pi}`."""
    check_tensor(input, "erfcx")
    x = to_float(input)
    _check_float(x, "erfcx")
    return Erfcx.apply(x)


# ------------------------------------------------------------------ xlog1py
def _xlog1py(a, b):
    with np.errstate(all="ignore"):
        out = a * np.log1p(b)
    return np.where((a == 0) & ~np.isnan(b), np.zeros((), out.dtype), out).astype(out.dtype)


Xlog1py = _elementwise("Xlog1py", _xlog1py, "y = a·log1p(b) (0 where a = 0 unless b is NaN);  "
                       "∂y/∂a = log1p(b) (0 where a = 0 and b ≤ −1, as torch),  "
                       "∂y/∂b = a/(1 + b).", backward_name="SpecialXlog1PyBackward0",
                       d_a=lambda xp, a, b: xp.where((xp.data(a) == 0) & (xp.data(b) <= -1),
                                                     0.0, xp.log1p(b)),
                       d_b=lambda xp, a, b: a / (1 + b))
_Xlog1pyNumberSelf = Xlog1py.named("SpecialXlog1PyBackward1")
_Xlog1pyNumberOther = Xlog1py.named("SpecialXlog1PyBackward2")


def _pick(prim, first, second, input, other):
    """torch's overload names: a Python number as ``input`` (1) or as ``other`` (2)."""
    if not isinstance(input, TensorBase):
        return first
    return prim if isinstance(other, TensorBase) else second


def xlog1py(input, other):
    """:math:`\\text{input} \\cdot \\log(1 + \\text{other})` elementwise (broadcast), 0 where
    input = 0 unless other is NaN. Either argument may be a Python number. Differentiable in
    both: ∂/∂input = log1p(other), ∂/∂other = input/(1 + other)."""
    a, b = _float_operands(input, other, "xlog1py")
    prim = _pick(Xlog1py, _Xlog1pyNumberSelf, _Xlog1pyNumberOther, input, other)
    return _apply_binary(prim, a, b, "xlog1py")


# ------------------------------------------------------------------ Hurwitz zeta
# B₂ₖ/(2k)! for the Euler–Maclaurin tail
_EM_COEF = tuple(b / math.factorial(2 * k) for k, b in enumerate(
    (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
     -174611 / 330, 854513 / 138, -236364091 / 2730), 1))


def _zeta_array(x, q):
    """ζ(x, q) = Σₙ (q + n)^{−x} by Euler–Maclaurin: the terms f(q + n) summed until q + N > 9
    (N ≥ 9), then ∫ − ½f + Σₖ B₂ₖ/(2k)! · x(x+1)…(x+2k−2)(q+N)^{−x−2k+1}; each element stops
    once a term no longer moves its sum (as Cephes, which torch follows: ζ(∞, 1) = 1). Edge
    values as torch: ∞ at x = 1, NaN for x < 1; for q ≤ 0: ∞ at integers q, NaN unless x is an
    integer; NaN at q = ∞."""
    x, q = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(q, np.float64))
    eps = 2.0 ** -53
    with np.errstate(all="ignore"):
        s = q ** -x
        a = q.copy()
        b = np.zeros_like(s)
        # the edge values set below need no sum (and q = −∞ would never reach a > 9)
        done = (x <= 1) | ((q <= 0) & ((q == np.floor(q)) | (x != np.floor(x))))
        i = 0
        while True:   # terminates: a ≤ 9 fails after ≤ 9 − q steps, at once for NaN or +∞
            more = ~done & ((i < 9) | (a <= 9))
            if not more.any():
                break
            i += 1
            a = np.where(more, a + 1, a)
            b = np.where(more, a ** -x, b)
            s = np.where(more, s + b, s)
            done |= more & (-eps * s < b) & (b < eps * s)
        s = np.where(done, s, s + b * a / (x - 1) - 0.5 * b)
        fact = np.ones_like(x)
        power = b / a   # a^{−x−1}
        for k, coef in enumerate(_EM_COEF):
            fact = fact * x if k == 0 else fact * (x + 2 * k - 1) * (x + 2 * k)
            t = coef * fact * power
            s = np.where(done, s, s + t)
            done |= np.abs(t / s) < eps
            power = power / (a * a)
        out = s
    out = np.where((q <= 0) & (x != np.floor(x)), np.nan, out)
    out = np.where((q <= 0) & (q == np.floor(q)), np.inf, out)
    out = np.where(x < 1, np.nan, out)
    return np.where(x == 1, np.inf, out)


def _zeta(x, q):
    return _zeta_array(x, q).astype(np.result_type(x, q), copy=False)


def _zeta_d_x(xp, a, b):
    raise NotImplementedError("the derivative for 'zeta' is not implemented.")


Zeta = _elementwise("Zeta", _zeta, "y = ζ(x, q) = Σₙ (q + n)^{−x};  ∂y/∂q = −x·ζ(x + 1, q) "
                    "(no derivative in x, as torch).", backward_name="SpecialZetaBackward0",
                    d_a=_zeta_d_x, d_b=lambda xp, a, b: -a * xp.apply(Zeta, a + 1, b))
_ZetaNumberSelf = Zeta.named("SpecialZetaBackward1")
_ZetaNumberOther = Zeta.named("SpecialZetaBackward2")


def zeta(input, other):
    """The Hurwitz zeta function, elementwise (broadcast), x = ``input``, q = ``other``:

    .. math:: \\zeta(x, q) = \\sum_{n=0}^{\\infty} \\frac{1}{(q + n)^x}

    (q = 1: Riemann's ζ). ∞ at x = 1, NaN for x < 1. Either argument may be a Python number.
    Differentiable in q only (as torch): ∂ζ/∂q = −x·ζ(x + 1, q)."""
    a, b = _float_operands(input, other, "zeta")
    _check_float(a, "zeta")
    prim = _pick(Zeta, _ZetaNumberSelf, _ZetaNumberOther, input, other)
    return _apply_binary(prim, a, b, "zeta")


# ------------------------------------------------------------------ orthogonal polynomials
# torch's kernels, rule for rule: n is truncated to an integer (NaN, ±∞ and values past int64
# read as negative, as C's cast gives); n < 0 gives 0; special values at the ends of the
# interval; for |x| < 1 and n past a small bound the trigonometric closed form; otherwise the
# three-term recurrence, computed in the input's own dtype as torch's (float32 rounds and
# overflows in float32; where a float32 step overflows on both sides chainrule gives NaN, where
# torch's H gives ∞). Each rule set lists (condition, value) pairs, the first match winning.
def _degree(n):
    ok = np.isfinite(n) & (np.abs(n) < 2.0 ** 63)
    return np.where(ok, np.trunc(np.where(ok, n, 0)), -1.0)


def _recurrence(p, q, limit, step):
    """r = step(k, p, q); p, q = q, r for k = 2 … limit (per element; limit ≤ 1: no step).
    Stops early once every element still stepping is NaN (it stays NaN)."""
    top = int(limit.max()) if limit.size else 0
    for k in range(2, top + 1):
        upd = k <= limit
        if not (upd & ~np.isnan(q)).any():
            break
        r = step(k, p, q)
        p, q = np.where(upd, q, p), np.where(upd, r, q)
    return q


def _select(rules, default):
    """The value of the first (condition, value) pair that holds, else ``default``."""
    out = default
    for cond, value in reversed(rules):
        out = np.where(cond, value, out)
    return out


def _cheb_like(x, n, first, big_n, closed, ends, ends_known=True):
    """The Chebyshev family: p₀ = 1, p₁ = ``first``(x), pₖ = 2x·pₖ₋₁ − pₖ₋₂."""
    dt = x.dtype.type
    two = dt(2)
    closed_here = (n > big_n) & (np.abs(x) < 1)
    served = closed_here | ((np.abs(x) == 1) & ends_known)   # by a closed form or end value
    limit = np.where(served, 0, n)
    q = _recurrence(np.ones_like(x), first, limit, lambda k, p, q: two * x * q - p)
    rules = [(n < 0, 0)] + ends + [(closed_here, closed), (n == 0, 1), (n == 1, first)]
    return _select(rules, q)


def _cheb_start_and_closed(kind, y, n, fallback):
    """The Chebyshev polynomial of ``kind`` at y: its p₁ and its closed form in θ = arccos y
    (for |y| < 1), with ``fallback`` where that form's divisor is 0 (or 1, for V and W)."""
    theta = np.arccos(y)
    if kind == "t":
        return y, np.cos(n * theta)
    if kind == "u":
        s = np.sin(theta)
        return y + y, np.where(s != 0, np.sin((n + 1) * theta) / s,
                               (n + 1) * np.cos((n + 1) * theta) / y)
    if kind == "v":
        return y + y - 1, np.where(np.sin(theta / 2) != 1,
                                   np.cos((n + 0.5) * theta) / np.cos(theta / 2), fallback)
    return y + y + 1, np.where(np.cos(theta / 2) != 1,
                               np.sin((n + 0.5) * theta) / np.sin(theta / 2), fallback)


def _chebyshev(kind, big_n):
    """T, U, V, W: torch's values at x = ±1 (which also serve V's and W's closed forms where
    their divisor vanishes), the closed form for |x| < 1 and n > ``big_n``."""
    def run(x, n):
        with np.errstate(all="ignore"):
            odd = n % 2 == 1
            sign = np.where(odd, -1, 1)
            end = {"t": np.where(x > 0, 1, sign), "u": np.where(x > 0, n + 1, sign * (n + 1)),
                   "v": np.where(x > 0, 1, sign * (n + n + 1)),
                   "w": np.where(x > 0, n + n + 1, sign)}[kind]
            first, closed = _cheb_start_and_closed(kind, x, n, end)
            return _cheb_like(x, n, first, big_n, closed, [(np.abs(x) == 1, end)])
    return run


def _shifted(kind, big_n):
    """The shifted form p*(x) = p(2x − 1), with torch's own values at x = 1 and x = 0 and its
    own bound for the closed form."""
    def run(x, n):
        with np.errstate(all="ignore"):
            y = x + x - 1
            odd = n % 2 == 1
            sign = np.where(odd, -1, 1)
            at_one = {"t": 1, "u": n + 1, "v": 1, "w": n + n + 1}[kind]
            at_zero = {"t": sign, "u": sign * (n + 1), "v": sign * (n + n + 1), "w": sign}[kind]
            first, closed = _cheb_start_and_closed(kind, y, n, at_zero)
            # 2x − 1 rounds to −1 for 0 < x < 2⁻⁵⁴: the recurrence runs there, as torch's
            core = _cheb_like(y, n, first, big_n, closed, [], ends_known=False)
            return _select([(n < 0, 0), (x == 1, at_one), (x == 0, at_zero)], core)
    return run


_poly_t, _poly_u, _poly_v, _poly_w = (_chebyshev(k, b) for k, b in zip("tuvw", (6, 8, 8, 8)))
_poly_shifted_t, _poly_shifted_u, _poly_shifted_v, _poly_shifted_w = (
    _shifted(k, b) for k, b in zip("tuvw", (6, 6, 6, 4)))


def _poly_h(x, n):
    with np.errstate(all="ignore"):
        first = x + x
        q = _recurrence(np.ones_like(x), first, n, lambda k, p, q: first * q - (2 * (k - 1)) * p)
        return _select([(n < 0, 0), (n == 0, 1), (n == 1, first)], q)


def _poly_he(x, n):
    with np.errstate(all="ignore"):
        q = _recurrence(np.ones_like(x), x, n, lambda k, p, q: x * q - (k - 1) * p)
        return _select([(n < 0, 0), (n == 0, 1), (n == 1, x)], q)


def _poly_l(x, n):
    with np.errstate(all="ignore"):
        first = 1 - x
        q = _recurrence(np.ones_like(x), first, n,
                        lambda k, p, q: ((2 * (k - 1) + (1 - x)) * q - (k - 1) * p) / k)
        return _select([(n < 0, 0), (np.abs(x) == 0, 1), (n == 0, 1), (n == 1, first)], q)


def _poly_p(x, n):
    with np.errstate(all="ignore"):
        q = _recurrence(np.ones_like(x), x, n,
                        lambda k, p, q: ((2 * k - 1) * x * q - (k - 1) * p) / k)
        odd = n % 2 == 1
        return _select([(n < 0, 0), (np.abs(x) == 1, np.where((x > 0) | ~odd, 1, -1)),
                        (n == 0, 1), (n == 1, x)], q)


def _polynomial(kernel, name, equation):
    def forward(x, n):
        x, n = np.broadcast_arrays(x, n)
        # n in x's dtype, so that n·arccos(x) rounds as torch's kernel rounds it in float32
        deg = _degree(n.astype(np.float64)).astype(x.dtype)
        out = kernel(x, deg)
        return np.asarray(out).astype(x.dtype, copy=False)

    def fn(input, n):
        x, m = _float_operands(input, n, name)
        _check_float(x, name)
        try:
            np.broadcast_shapes(x._data.shape, m._data.shape)
        except ValueError:
            raise RuntimeError(f"{name}: shapes {tuple(x.shape)} and {tuple(m.shape)} cannot "
                               "be broadcast together") from None
        return array_function(forward, x, m)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{equation.rstrip(',')}.\n\n    Elementwise in ``input`` = x and ``n`` (a "
                  "tensor or a number; the two broadcast), n truncated to an integer and 0 for "
                  "n < 0, as torch's kernel.\n    Not differentiable (as torch).")
    return fn


chebyshev_polynomial_t = _polynomial(
    _poly_t, "chebyshev_polynomial_t", "The Chebyshev polynomial of the first kind "
    ":math:`T_n(x)`: T₀ = 1, T₁ = x, Tₙ₊₁ = 2xTₙ − Tₙ₋₁ (= cos(n·arccos x) for |x| < 1),")
chebyshev_polynomial_u = _polynomial(
    _poly_u, "chebyshev_polynomial_u", "The Chebyshev polynomial of the second kind "
    ":math:`U_n(x)`: U₀ = 1, U₁ = 2x, Uₙ₊₁ = 2xUₙ − Uₙ₋₁ (= sin((n+1)θ)/sin θ, x = cos θ),")
chebyshev_polynomial_v = _polynomial(
    _poly_v, "chebyshev_polynomial_v", "The Chebyshev polynomial of the third kind "
    ":math:`V_n(x)`: V₀ = 1, V₁ = 2x − 1, Vₙ₊₁ = 2xVₙ − Vₙ₋₁ (= cos((n+½)θ)/cos(θ/2)),")
chebyshev_polynomial_w = _polynomial(
    _poly_w, "chebyshev_polynomial_w", "The Chebyshev polynomial of the fourth kind "
    ":math:`W_n(x)`: W₀ = 1, W₁ = 2x + 1, Wₙ₊₁ = 2xWₙ − Wₙ₋₁ (= sin((n+½)θ)/sin(θ/2)),")
shifted_chebyshev_polynomial_t = _polynomial(
    _poly_shifted_t, "shifted_chebyshev_polynomial_t", "The shifted Chebyshev polynomial of "
    "the first kind :math:`T^*_n(x) = T_n(2x - 1)`,")
shifted_chebyshev_polynomial_u = _polynomial(
    _poly_shifted_u, "shifted_chebyshev_polynomial_u", "The shifted Chebyshev polynomial of "
    "the second kind :math:`U^*_n(x) = U_n(2x - 1)`,")
shifted_chebyshev_polynomial_v = _polynomial(
    _poly_shifted_v, "shifted_chebyshev_polynomial_v", "The shifted Chebyshev polynomial of "
    "the third kind :math:`V^*_n(x) = V_n(2x - 1)`,")
shifted_chebyshev_polynomial_w = _polynomial(
    _poly_shifted_w, "shifted_chebyshev_polynomial_w", "The shifted Chebyshev polynomial of "
    "the fourth kind :math:`W^*_n(x) = W_n(2x - 1)`,")
hermite_polynomial_h = _polynomial(
    _poly_h, "hermite_polynomial_h", "The physicists' Hermite polynomial :math:`H_n(x)`: "
    "H₀ = 1, H₁ = 2x, Hₙ₊₁ = 2xHₙ − 2nHₙ₋₁,")
hermite_polynomial_he = _polynomial(
    _poly_he, "hermite_polynomial_he", "The probabilists' Hermite polynomial "
    ":math:`He_n(x)`: He₀ = 1, He₁ = x, Heₙ₊₁ = x·Heₙ − n·Heₙ₋₁,")
laguerre_polynomial_l = _polynomial(
    _poly_l, "laguerre_polynomial_l", "The Laguerre polynomial :math:`L_n(x)`: L₀ = 1, "
    "L₁ = 1 − x, (n+1)Lₙ₊₁ = (2n + 1 − x)Lₙ − nLₙ₋₁ (1 at x = 0),")
legendre_polynomial_p = _polynomial(
    _poly_p, "legendre_polynomial_p", "The Legendre polynomial :math:`P_n(x)`: P₀ = 1, "
    "P₁ = x, (n+1)Pₙ₊₁ = (2n+1)xPₙ − nPₙ₋₁,")

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "erfcx", "xlog1py", "zeta", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
           "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]
