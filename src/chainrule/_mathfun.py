"""Floating-point building blocks that reproduce torch's CPU sampling kernels bit for bit.

Three kinds of arithmetic appear in those kernels, and NumPy alone gives none of them exactly:

* **fused multiply-add**: torch's CPU kernels are compiled for AVX2/AVX-512 with FMA, and the
  compiler fuses ``x·(to − from) + from`` (uniform), ``z·std + mean`` (normal) into one FMA,
  rounded once. :func:`fma32` and :func:`fma64` compute RN(a·b + c) exactly: the product is
  split exactly (in float64 for float32 inputs; Dekker's two-product for float64), the sum
  exactly (two-sum), and the two tails are added with *round-to-odd*, which makes the final
  round-to-nearest correct (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums:
  proved algorithms using rounding to odd", IEEE TC 2008).
* **the platform's libm** (``log``, ``log1p``, ``sin``, ``cos``, ``tan``, ``exp`` in double): torch
  calls the C library; NumPy's SIMD versions may differ in the last bit. Python's ``math``
  module calls the same C library, so :func:`libm` maps a ``math`` function over an array.
* **torch's float32 Box–Muller** (``randn`` of ≥ 16 contiguous float32 values): it evaluates
  ``log`` and ``sin``/``cos`` with the Cephes-style polynomials of ``avx_mathfun.h`` on eight
  lanes, every step a float32 operation (the compiler fusing each multiply into the add that
  consumes it). :func:`log_ps` and :func:`sincos_ps` repeat those steps in NumPy float32.
"""
from __future__ import annotations

import numpy as np

_f32 = np.float32
_SPLIT = 134217729.0   # 2**27 + 1: Veltkamp's splitter for float64


# ------------------------------------------------------------------ exact fused multiply-add
def _two_sum(a, b):
    """s + e = a + b exactly, s = RN(a + b) (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(x):
    c = _SPLIT * x
    hi = c - (c - x)
    return hi, x - hi


def _two_prod(a, b):
    """p + e = a·b exactly, p = RN(a·b) (Dekker; no overflow for the magnitudes used here)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _add_round_odd(a, b):
    """RO(a + b) in float64: round to nearest, then, if inexact and the result is even, step
    to the neighbour on the side of the true sum (that neighbour is odd)."""
    s, e = _two_sum(a, b)
    even = (s.view(np.int64) & 1) == 0
    fix = (e != 0) & even
    if fix.any():
        s = np.where(fix, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)
    return s


def fma64(a, b, c) -> np.ndarray:
    """RN(a·b + c) in float64, elementwise (broadcasting), as C's ``fma``."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    c = np.asarray(c, np.float64)
    if b.ndim == 0 and c.ndim == 0 and b == 1.0 and c == 0.0:
        return a.copy()                            # a·1 + 0 = a, exactly
    uh = a * b
    ah, al = _split(a)
    bh, bl = _split(b)                             # a scalar b is split once
    ul = ((ah * bh - uh) + ah * bl + al * bh) + al * bl   # a·b = uh + ul exactly
    th, tl = _two_sum(c, uh)
    return th + _add_round_odd(tl, ul)


_MIDPOINT_MASK, _MIDPOINT = np.int64((1 << 29) - 1), np.int64(1 << 28)
_F32_MIN_NORMAL = 2.0 ** -126


def fma32(a, b, c) -> np.ndarray:
    """RN(a·b + c) in float32. a·b is exact in float64 (24 + 24 bits), so s = RN₆₄(a·b + c) is
    one rounding; rounding s again to float32 can only go wrong when s sits exactly on a
    float32 midpoint (or in float32's subnormal range): those few elements are redone with
    round-to-odd in float64 (53 ≥ 24 + 2 bits), which makes the second rounding correct."""
    p = np.multiply(a, b, dtype=np.float64)
    p, c = np.broadcast_arrays(p, np.asarray(c, np.float64))
    s = p + c
    hard = (s.view(np.int64) & _MIDPOINT_MASK) == _MIDPOINT
    hard |= np.abs(s) < _F32_MIN_NORMAL
    if hard.any():
        s[hard] = _add_round_odd(p[hard], c[hard])
    return s.astype(_f32)


# ------------------------------------------------------------------ the C library, elementwise
def libm(fn, x) -> np.ndarray:
    """``fn`` (a ``math`` function: the C library's double version) over a float64 array."""
    x = np.asarray(x, np.float64)
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


# ------------------------------------------------------------------ avx_mathfun in float32
# Cephes coefficients, as float32 constants (the polynomials of Pommier's sse/avx_mathfun)
_LOG_P = [_f32(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1,
                            -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
                            2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)]
_LOG_Q1, _LOG_Q2 = _f32(-2.12194440e-4), _f32(0.693359375)   # ln 2 = Q2 − Q1, split
_SQRTHF = _f32(0.707106781186547524)
_FOPI = _f32(1.27323954473516)                               # 4/π
_DP = [_f32(-0.78515625), _f32(-2.4187564849853515625e-4), _f32(-3.77489497744594108e-8)]
_COS_P = [_f32(2.443315711809948E-005), _f32(-1.388731625493765E-003),
          _f32(4.166664568298827E-002)]
_SIN_P = [_f32(-1.9515295891E-4), _f32(8.3321608736E-3), _f32(-1.6666654611E-1)]
_MIN_NORM = np.array(0x00800000, np.int32).view(_f32)
_ONE, _HALF, _ZERO = _f32(1), _f32(0.5), _f32(0)


def log_ps(x) -> np.ndarray:
    """Natural log of float32 ``x`` > 0 as ``log256_ps``: x = m·2ᵉ with m ∈ [√½, √2),
    log x = e·ln 2 + log m, log m from a degree-9 polynomial in (m − 1)."""
    x = np.maximum(np.asarray(x, _f32), _MIN_NORM)   # the kernel's inputs are in (0, 1]
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_f32) + _ONE
    m = ((bits & ~0x7F800000) | _HALF.view(np.int32)).view(_f32)   # mantissa in [0.5, 1)
    small = m < _SQRTHF
    e = e - np.where(small, _ONE, _ZERO)
    m = (m - _ONE) + np.where(small, m, _ZERO)                      # 2m − 1 or m − 1
    z = m * m
    y = np.full_like(m, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = fma32(y, m, p)
    y = y * m
    y = fma32(y, z, e * _LOG_Q1)     # y·z + e·Q1: the first product is the one fused
    y = y - z * _HALF                # z·½ is exact: fused or not, one rounding
    return fma32(e, _LOG_Q2, m + y)


def sincos_ps(x):
    """(sin x, cos x) of float32 ``x`` as ``sincos256_ps``: reduce by the octant j of x·4/π
    (π/4 split in three parts), then a sine or cosine polynomial per octant."""
    x = np.asarray(x, _f32)
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * _FOPI).astype(np.int32)          # truncation, as cvttps
    j = (j + 1) & ~1
    y = j.astype(_f32)
    sign_sin = sign_sin ^ ((j & 4) != 0)
    poly_sin_first = (j & 2) == 0
    sign_cos = ((~(j - 2)) & 4) != 0
    for dp in _DP:
        x = fma32(y, dp, x)
    z = x * x
    c = np.full_like(x, _COS_P[0])
    c = fma32(c, z, _COS_P[1])
    c = fma32(c, z, _COS_P[2])
    c = c * z
    c = fma32(c, z, -(z * _HALF))             # c·z − z/2 with the product c·z fused
    c = c + _ONE
    s = np.full_like(x, _SIN_P[0])
    s = fma32(s, z, _SIN_P[1])
    s = fma32(s, z, _SIN_P[2])
    s = s * z
    s = fma32(s, x, x)
    # the kernel selects with masks and adds zeros: (a + 0) and (a − 0) keep a's bits
    sin = np.where(poly_sin_first, s, c)
    cos = np.where(poly_sin_first, c, s)
    return np.where(sign_sin, -sin, sin), np.where(sign_cos, -cos, cos)


def linspace_like_torch(start, end, steps, t):
    """torch's CPU linspace, rounding for rounding, in the output's precision t: step =
    (end − start)/(steps − 1); the first half counts up from start, RN(start + step·i), the
    second half down from end, RN(end − step·(steps − 1 − i)), each a fused multiply-add
    (one rounding), so both ends are exact and the halves mirror each other."""
    fma = fma32 if t is np.float32 else fma64
    start, end = t(start), t(end)
    step = (end - start) / t(steps - 1)
    idx = np.arange(steps)
    fi = idx.astype(t)
    up = np.asarray(fma(step, fi, start), t)
    down = np.asarray(fma(-step, t(steps - 1) - fi, end), t)
    return np.where(idx < steps // 2, up, down)
