"""torch's CPU sampling algorithms on NumPy arrays: same stream in, same bits out.

Each function takes a :class:`~chainrule._rng.Stream` and ``like``, the array to be filled (only
its shape, dtype and strides are read), and returns a new array of ``like``'s shape holding what
torch's kernel writes into a tensor of that layout:

* **order**: torch's kernels draw one value per element in TensorIterator order, which visits
  memory in address order (dimensions sorted by stride), so ``t = empty(5, 7).t();
  t.uniform_()`` fills the 35 floats of the underlying buffer in sequence. :func:`_arrange`
  places the draws accordingly.
* **uniform** U(a, b): float32 takes 24 bits of one 32-bit draw, float64 53 bits of a 64-bit
  draw; x ∈ [0, 1) becomes RN(x·(b − a) + a) (one fused multiply-add), and a value that
  rounds up to b is replaced by a.
* **normal** N(μ, σ²), Box–Muller: ≥ 16 elements of a contiguous tensor: all uniforms first,
  then blocks of 16 (u₁ = 1 − the first 8, u₂ = the last 8): r = √(−2 ln u₁), θ = 2πu₂,
  out = r cos θ·σ + μ and r sin θ·σ + μ; when 16 ∤ n the last 16 elements are drawn again and
  transformed again. float32 evaluates ln and sin/cos with avx_mathfun's polynomials, float64
  with the C library. Otherwise one scalar at a time in double: u₁, u₂ (53 bits each),
  r = √(−2 log1p(−u₂)), θ = 2πu₁, return r cos θ and cache r sin θ for the next scalar draw.
* **integers**: ``random_(from, to)`` is ``draw mod (to − from) + from``, with a 64-bit draw
  when the range is ≥ 2²⁸, else a 32-bit one; ``randperm(n)`` swaps position i with
  i + (draw mod (n − i)) for i = 0 … n − 2.
* **bernoulli**, **exponential**, **cauchy**, **log-normal**, **geometric**: the inverse-CDF
  transforms of one 53-bit uniform each (bernoulli with a float32 ``p`` tensor: 24 bits).
* **multinomial**: with replacement, binary search of a 53-bit uniform in the normalised
  cumulative sum; without replacement (or one sample), torch's exponential race:
  argmax / top-k of p / E with E ~ Exp(1).

Every case above was checked bit for bit against torch 2.13 on CPU (``tests/test_random_torch.py``).
"""
from __future__ import annotations

import math

import numpy as np

from ._mathfun import fma32, fma64, libm, log_ps, sincos_ps
from ._rng import Stream

_f32, _f64, _u64 = np.float32, np.float64, np.uint64
_MASK24, _MASK53 = _u64((1 << 24) - 1), _u64((1 << 53) - 1)
_TWO_PI = 2.0 * math.pi
_RANDPERM_SMALL = (2 ** 32 - 1) // 20   # torch keeps 32-bit draws below this n
_ROWS_PER_CHUNK = 4096                  # Box–Muller blocks of 16 transformed per NumPy pass


# ------------------------------------------------------------------ layout
def _iteration_axes(like: np.ndarray) -> list:
    """Axes from outermost to innermost in TensorIterator's order (by decreasing stride)."""
    if like.flags.c_contiguous:
        return list(range(like.ndim))
    return sorted(range(like.ndim), key=lambda a: -abs(like.strides[a]))


def _arrange(flat: np.ndarray, like: np.ndarray) -> np.ndarray:
    """The values ``flat`` (in draw order) as an array of ``like``'s shape."""
    axes = _iteration_axes(like)
    if axes == list(range(like.ndim)):
        return flat.reshape(like.shape)
    vals = flat.reshape([like.shape[a] for a in axes])
    return vals.transpose(np.argsort(axes))


def _in_order(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``values`` (``like``'s shape) read in ``like``'s iteration order: the inverse of _arrange."""
    return values.transpose(_iteration_axes(like)).ravel()


def dense_like(like: np.ndarray) -> np.ndarray:
    """A stand-in for ``torch.empty_like(like)``: it keeps ``like``'s stride order when ``like``
    is non-overlapping and dense (a transpose, a permutation), else it is C-contiguous."""
    axes = _iteration_axes(like)
    expect = like.itemsize
    for a in reversed(axes):
        if like.shape[a] != 1 and like.strides[a] != expect:
            return np.empty(like.shape, like.dtype)
        expect *= like.shape[a]
    return like


# ------------------------------------------------------------------ uniform numbers
def _u24(s: Stream, n: int) -> np.ndarray:
    """n float32 uniforms on [0, 1): 24 bits of one 32-bit draw each."""
    return (s.random(n) & _MASK24).astype(_f32) * _f32(2.0 ** -24)


def _u53(s: Stream, n: int) -> np.ndarray:
    """n float64 uniforms on [0, 1): 53 bits of one 64-bit draw each."""
    return (s.random64(n) & _MASK53).astype(_f64) * 2.0 ** -53


def _below53(s: Stream, n: int, p: float) -> np.ndarray:
    """``_u53(s, n) < p`` without the uniforms: u = k·2⁻⁵³ with k = z & (2⁵³ − 1) an integer,
    so u < p ⟺ k < ⌈p·2⁵³⌉ exactly (scaling by 2⁵³ is exact). k's top 21 bits are the low 21
    of the first (high) 32-bit draw of z, its low 32 bits the second draw: the first decides,
    shifted up to drop its other bits, except where it ties the threshold's (one draw in
    2²¹), where the second does. For 1M draws the float64 uniforms cost 5 ms of passes over
    8 MB arrays, this ~1.4 ms (the 2M raw draws themselves ~5 ms)."""
    t = math.ceil(p * 2.0 ** 53)
    if t >= 1 << 53:
        s.random32(2 * n)          # the stream advances all the same
        return np.ones(n, bool)
    words = s.random32(2 * n)
    top = np.left_shift(words[0::2], np.uint32(11))     # (k >> 32) << 11, as uint32
    t_top = np.uint32((t >> 32) << 11)
    hit = top < t_top
    ties = np.flatnonzero(top == t_top)
    if ties.size:
        hit[ties] = words[1::2][ties] < (t & 0xFFFFFFFF)
    return hit


def _check_float(like, op):
    if like.dtype.kind != "f":
        # torch's type: no kernel for the dtype ("normal_kernel_cpu" not implemented for 'Long')
        raise NotImplementedError(f"{op}: expected a floating-point tensor, got dtype {like.dtype}")


def uniform(s: Stream, like: np.ndarray, a: float = 0.0, b: float = 1.0) -> np.ndarray:
    """U(a, b) in torch's ``uniform_`` (see the module docstring)."""
    _check_float(like, "uniform_")
    a, b = float(a), float(b)
    if not a <= b:
        raise RuntimeError(f"uniform_: expects to return a [from, to) range, but found "
                           f"from={a} > to={b}")
    n = like.size
    if like.dtype == _f64:
        v = _u53(s, n)
        if (a, b) != (0.0, 1.0):                   # x·1 + 0 = x < 1: nothing to do
            v = fma64(v, b - a, a)
            v[v == b] = a
    else:   # float32, and float16 through float32 arithmetic (torch's opmath)
        v = _u24(s, n)
        if (a, b) != (0.0, 1.0) or like.dtype != _f32:
            lo, hi = _f32(a), _f32(b)
            v = fma32(v, hi - lo, lo).astype(like.dtype, copy=False)
            v[v == like.dtype.type(b)] = like.dtype.type(a)
    return _arrange(v, like)


# ------------------------------------------------------------------ normal numbers
def _box_muller16_f32(u: np.ndarray, mean, std) -> np.ndarray:
    """torch's AVX2 Box–Muller on rows of 16 float32 uniforms."""
    u1, u2 = _f32(1) - u[:, :8], u[:, 8:]
    radius = np.sqrt(_f32(-2) * log_ps(u1))
    sin, cos = sincos_ps(_f32(_TWO_PI) * u2)
    return np.concatenate([fma32(radius * cos, std, mean), fma32(radius * sin, std, mean)], axis=1)


def _box_muller16_f64(u: np.ndarray, mean, std) -> np.ndarray:
    """torch's scalar Box–Muller on rows of 16 float64 uniforms (C library log, cos, sin)."""
    u1, u2 = 1.0 - u[:, :8], u[:, 8:]
    radius = np.sqrt(-2.0 * libm(math.log, u1))
    theta = _TWO_PI * u2
    return np.concatenate([fma64(radius * libm(math.cos, theta), std, mean),
                           fma64(radius * libm(math.sin, theta), std, mean)], axis=1)


def _normal_fill(s: Stream, n: int, dtype, mean: float, std: float) -> np.ndarray:
    """torch's ``normal_fill`` for n ≥ 16 contiguous values."""
    if dtype == _f64:
        draw, bm, m, sd = _u53, _box_muller16_f64, mean, std
    else:
        draw, bm, m, sd = _u24, _box_muller16_f32, _f32(mean), _f32(std)
    full = n - n % 16
    if dtype in (_f32, _f64):
        data = draw(s, n)                 # all uniforms first, transformed in place
    else:                                 # float16: 16 at a time in float32, then cast
        data = np.empty(n, _f32)
        data[:full] = draw(s, full)
    rows = data[:full].reshape(-1, 16)
    for i in range(0, len(rows), _ROWS_PER_CHUNK):   # chunks that stay in cache
        rows[i:i + _ROWS_PER_CHUNK] = bm(rows[i:i + _ROWS_PER_CHUNK], m, sd)
    if n % 16:                            # the last 16 are drawn and transformed again
        data[n - 16:] = bm(draw(s, 16).reshape(1, 16), m, sd).ravel()
    return data.astype(dtype, copy=False)


def normal_scalars(s: Stream, n: int, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """n draws of torch's scalar ``normal_distribution<double>``, in float64; uses and updates
    the stream's cached sample."""
    out = np.empty(n, _f64)
    k = 0
    if n and s.next_double_normal is not None:
        out[0] = s.next_double_normal
        s.next_double_normal = None
        k = 1
    m = n - k
    pairs = (m + 1) // 2
    if pairs:
        u = _u53(s, 2 * pairs)
        r = np.sqrt(-2.0 * libm(math.log1p, -u[1::2]))
        theta = _TWO_PI * u[0::2]
        z = np.empty(2 * pairs, _f64)
        z[0::2] = r * libm(math.cos, theta)   # returned now
        z[1::2] = r * libm(math.sin, theta)   # cached, returned by the next draw
        out[k:] = z[:m]
        if m % 2:
            s.next_double_normal = float(z[-1])
    return fma64(out, std, mean) if n else out


def normal(s: Stream, like: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """N(mean, std²) in torch's ``normal_`` (see the module docstring)."""
    _check_float(like, "normal_")
    mean, std = float(mean), float(std)
    if not std >= 0.0:
        raise RuntimeError(f"normal_: expects std >= 0.0, but found std {std}")
    n = like.size
    if n >= 16 and like.flags.c_contiguous:
        return _normal_fill(s, n, like.dtype, mean, std).reshape(like.shape)
    return _arrange(normal_scalars(s, n, mean, std).astype(like.dtype), like)


def log_normal(s: Stream, like: np.ndarray, mean: float = 1.0, std: float = 2.0) -> np.ndarray:
    """exp(N(mean, std²)), one scalar normal draw per element."""
    _check_float(like, "log_normal_")
    if not std > 0.0:
        raise RuntimeError(f"log_normal_: expects std > 0.0, but found std={std}")
    z = normal_scalars(s, like.size, float(mean), float(std))
    return _arrange(libm(math.exp, z).astype(like.dtype), like)


# ------------------------------------------------------------------ integers
_INT_MAX = {np.dtype(t): np.iinfo(t).max for t in (np.int8, np.int16, np.int32, np.int64,
                                                    np.uint8)}
_FLOAT_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, np.dtype(np.float64): 53}


def random_from_to(s: Stream, like: np.ndarray, low: int, high: int) -> np.ndarray:
    """Integers uniform on [low, high) as torch: (draw mod (high − low)) + low."""
    rng = int(high) - int(low)
    if rng <= 0:
        raise RuntimeError(f"random_: expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    n = like.size
    draws = s.random64(n) if rng >= 1 << 28 else s.random(n)
    v = (draws % _u64(rng)) + _u64(int(low) % (1 << 64))   # wraps mod 2⁶⁴, as uint64 in C
    return _arrange(v.view(np.int64).astype(like.dtype), like)


def random_bits(s: Stream, like: np.ndarray) -> np.ndarray:
    """``random_()`` without bounds: [0, max] for integers, [0, 2^mantissa] for floats."""
    dt = like.dtype
    n = like.size
    if dt == np.bool_:
        v = s.random(n) & _u64(1)
    elif dt in (np.int64, np.float64):
        mod = 1 << 63 if dt == np.int64 else (1 << 53) + 1
        v = s.random64(n) % _u64(mod)
    elif dt.kind == "f":
        v = s.random(n) % _u64((1 << _FLOAT_DIGITS[dt]) + 1)
    else:
        v = s.random(n) % _u64(_INT_MAX[dt] + 1)
    return _arrange(v.astype(dt), like)


def randperm(s: Stream, n: int) -> np.ndarray:
    """torch's CPU ``randperm`` as int64."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    if n >= _RANDPERM_SMALL:
        return _randperm_inside_out(s, n)
    if n < 2:
        return np.arange(n, dtype=np.int64)
    steps = np.arange(n - 1, dtype=np.int64)
    # step i swaps positions i and t_i = i + (draw mod (n − i))
    t = (s.random(n - 1) % (n - steps).astype(_u64)).astype(np.int64) + steps
    return _resolve_swaps(t, n)


def _resolve_swaps(t: np.ndarray, n: int) -> np.ndarray:
    """The array after ``for i: a[i], a[t[i]] = a[t[i]], a[i]`` on a = 0..n−1, t[i] ≥ i,
    without the serial loop.

    Position i is final after step i: it receives what sat at t[i] just before, which is the
    value the last earlier step aimed at t[i] carried there (or t[i] itself, untouched). A step
    j carries v(j), the value at position j just before step j; so v(j) is v(p) for the last
    earlier step p aimed at j (or j). These "last earlier step aimed at the same place" links
    form a forest, resolved by pointer jumping in O(n log n)."""
    steps = np.arange(len(t), dtype=np.int64)
    order = np.argsort(t, kind="stable")             # by target, then by step
    t_sorted, s_sorted = t[order], steps[order]
    same = np.zeros(len(t), bool)
    same[1:] = t_sorted[1:] == t_sorted[:-1]
    # prev[i]: the last step before i aimed at the same target as i (−1: none)
    prev = np.full(len(t), -1, np.int64)
    prev[s_sorted[same]] = s_sorted[np.flatnonzero(same) - 1]
    # parent[k]: the last step before k aimed at position k (−1: none); such steps are ≤ k
    positions = np.arange(n, dtype=np.int64)
    last = np.searchsorted(t_sorted, positions, side="right") - 1
    parent = np.full(n, -1, np.int64)
    ok = last >= 0
    ok[ok] = t_sorted[last[ok]] == positions[ok]
    hit = np.flatnonzero(ok)
    cand = last[hit]
    is_self = s_sorted[cand] == hit                  # step k aimed at k itself: look one back
    back = cand - 1
    usable = ~is_self | ((back >= 0) & (t_sorted[np.maximum(back, 0)] == hit))
    parent[hit[usable]] = np.where(is_self[usable], s_sorted[np.maximum(back, 0)[usable]],
                                   s_sorted[cand[usable]])
    v = np.where(parent >= 0, parent, positions)     # pointer jumping to the roots
    while True:
        nxt = v[v]
        if np.array_equal(nxt, v):
            break
        v = nxt
    out = np.empty(n, np.int64)
    out[:-1] = np.where(prev >= 0, v[np.maximum(prev, 0)], t)
    out[-1] = v[n - 1]
    return out


def _randperm_inside_out(s: Stream, n: int) -> np.ndarray:
    """torch's algorithm for n ≥ (2³² − 1)/20: the inside-out shuffle with 64-bit draws
    (a Python loop; at this size torch itself takes seconds)."""
    a = np.empty(n, np.int64)
    z = s.random64(n)
    for i in range(n):
        j = int(z[i]) % (i + 1)
        a[i] = a[j]
        a[j] = i
    return a


# ------------------------------------------------------------------ other distributions
def bernoulli_scalar(s: Stream, like: np.ndarray, p: float) -> np.ndarray:
    """1 with probability p: u < p, u a 53-bit uniform."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_: expects p to be in [0, 1], but got p={p}")
    return _arrange(_below53(s, like.size, p).astype(like.dtype), like)


def bernoulli_tensor(s: Stream, like: np.ndarray, p: np.ndarray) -> np.ndarray:
    """1 with probability p[i] (broadcast to ``like``): u < p with a 53-bit uniform for a
    float64 ``p``, a 24-bit float32 one otherwise."""
    p = np.broadcast_to(p, like.shape)
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("bernoulli_: expects all elements of p to be in [0, 1]")
    p_seq = _in_order(p, like)
    if p.dtype == _f64:
        hit = _u53(s, like.size) < p_seq
    else:
        hit = _u24(s, like.size) < p_seq.astype(_f32)
    return _arrange(hit.astype(like.dtype), like)


def exponential(s: Stream, like: np.ndarray, lambd: float = 1.0) -> np.ndarray:
    """Exp(λ): −(1/λ)·log1p(−u)."""
    _check_float(like, "exponential_")
    lambd = float(lambd)
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
    v = (-1.0 / lambd) * libm(math.log1p, -_u53(s, like.size))
    return _arrange(v.astype(like.dtype), like)


def cauchy(s: Stream, like: np.ndarray, median: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """Cauchy(median, σ): median + σ·tan(π(u − ½))."""
    _check_float(like, "cauchy_")
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_: expects sigma > 0.0, but found sigma={sigma}")
    t = libm(math.tan, math.pi * (_u53(s, like.size) - 0.5))
    return _arrange(fma64(float(sigma), t, float(median)).astype(like.dtype), like)


def geometric(s: Stream, like: np.ndarray, p: float) -> np.ndarray:
    """Geometric(p) on {1, 2, …}: ⌈ln u / ln(1 − p)⌉."""
    p = float(p)
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_: expects p to be in (0, 1), but got p={p}")
    u = _u53(s, like.size)
    with np.errstate(divide="ignore"):
        v = np.ceil(libm(_log_or_ninf, u) / math.log1p(-p))
    return _arrange(v.astype(like.dtype), like)


def _log_or_ninf(x):
    return math.log(x) if x > 0.0 else -math.inf


def multinomial(s: Stream, probs: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """Indices drawn from the rows of ``probs`` (1-d or 2-d), int64."""
    rows = probs.reshape(-1, probs.shape[-1])
    if not replacement or num_samples == 1:
        # exponential race: argmax / top-k of p / E, E ~ Exp(1) in probs' dtype
        e = exponential(s, np.empty(rows.shape, rows.dtype), 1.0)
        q = rows / e
        if num_samples == 1:
            out = np.argmax(q, axis=-1)[:, None]
        else:
            out = np.argsort(-q, axis=-1, kind="stable")[:, :num_samples]
    else:
        out = np.empty((rows.shape[0], num_samples), np.int64)
        for i, row in enumerate(rows):
            cum = np.cumsum(row)                 # sequential, in probs' dtype, as torch
            cum = cum / cum[-1]
            cum[-1] = 1
            u = _u53(s, num_samples)
            out[i] = np.searchsorted(cum.astype(_f64), u, side="left")
    return out.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))


def dropout_noise(s: Stream, like: np.ndarray, p: float) -> np.ndarray:
    """torch's dropout mask: ``empty_like(x).bernoulli_(1 − p).div_(1 − p)``."""
    keep = 1.0 - p
    like = dense_like(like)
    hit = _below53(s, like.size, keep)   # bernoulli_scalar's, divided in one pass
    return _arrange(np.divide(hit, like.dtype.type(keep), dtype=like.dtype), like)


# ------------------------------------------------------------------ gamma, Dirichlet, Poisson
class _Cursor:
    """Scalar draws for torch's serial rejection samplers (gamma, Poisson), whose number of
    draws per element depends on the values: 53-bit uniforms and scalar ``normal_distribution
    <double>`` normals (Box–Muller on two uniforms, the sine cached) read from one block of
    64-bit words drawn ahead on a copy of the stream; ``close`` advances the stream by exactly
    the words used and hands back the normal cache."""

    def __init__(self, s: Stream):
        self.s, self.ahead, self.words, self.pos, self.used = s, s.clone(), [], 0, 0
        self.cached = s.next_double_normal

    def uniform(self) -> float:
        if self.pos == len(self.words):
            self.words = ((self.ahead.random64(4096) & _MASK53).astype(_f64) * 2.0 ** -53).tolist()
            self.pos = 0
        self.pos += 1
        self.used += 1
        return self.words[self.pos - 1]

    def normal(self) -> float:
        if self.cached is not None:
            z, self.cached = self.cached, None
            return z
        theta = _TWO_PI * self.uniform()
        r = math.sqrt(-2.0 * math.log1p(-self.uniform()))
        self.cached = r * math.sin(theta)
        return r * math.cos(theta)

    def close(self) -> None:
        self.s.random64(self.used)
        self.s.next_double_normal = self.cached


_THIRD_F = float(_f32(1.0) / _f32(3.0))    # the float constant 1.0f/3.0f of torch's kernel
_SQUEEZE_F = float(_f32(0.0331))


def _gamma_one(cur: _Cursor, alpha: float, single: bool) -> float:
    """One Gamma(alpha, 1) draw: Marsaglia–Tsang's squeeze-and-reject on y = (1 + c·x)³, with
    alpha < 1 boosted to alpha + 1 and scaled by U^(1/alpha) — torch's ``sample_gamma``. With
    ``single`` (a float32 alpha) the steps torch takes in float are rounded to float."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        inv = float(_f32(1.0) / _f32(alpha)) if single else 1.0 / alpha
        scale *= math.pow(1.0 - cur.uniform(), inv)
        alpha = float(_f32(alpha) + _f32(1.0)) if single else alpha + 1.0
    d = float(_f32(alpha) - _f32(_THIRD_F)) if single else alpha - _THIRD_F
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = cur.normal()
            y = 1.0 + c * x
            if not y <= 0:                 # torch's `while (y <= 0)`: a NaN y leaves the loop
                break
        v = y * y * y
        u = 1.0 - cur.uniform()
        xx = x * x
        if u < 1.0 - _SQUEEZE_F * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def standard_gamma(s: Stream, alpha: np.ndarray) -> np.ndarray:
    """Gamma(alpha, 1) draws, one per element in C order, in alpha's dtype and at least its
    smallest normal number (torch's ``_standard_gamma``)."""
    _check_float(alpha, "_standard_gamma")
    single = alpha.dtype != _f64
    cur = _Cursor(s)
    try:
        v = [_gamma_one(cur, a, single) for a in np.ascontiguousarray(alpha).ravel().tolist()]
    finally:
        cur.close()
    out = np.asarray(v, _f64).astype(alpha.dtype)
    tiny = np.finfo(alpha.dtype).tiny
    return np.where(tiny < out, out, tiny).reshape(alpha.shape)   # std::max(tiny, x): NaN -> tiny


def sample_dirichlet(s: Stream, alpha: np.ndarray) -> np.ndarray:
    """Dirichlet(alpha) draws over the last dim (torch's ``_sample_dirichlet``): Gamma(αᵢ, 1)
    in double, normalised by their sum, kept inside [tiny, 1) of alpha's dtype."""
    _check_float(alpha, "_sample_dirichlet")
    cur = _Cursor(s)
    try:
        g = [max(np.finfo(_f64).tiny, _gamma_one(cur, a, False))     # NaN -> tiny, as std::max
             for a in np.ascontiguousarray(alpha).ravel().tolist()]
    finally:
        cur.close()
    g = np.asarray(g, _f64).reshape(alpha.shape)
    out = (g / g.sum(-1, keepdims=True)).astype(alpha.dtype)
    fi = np.finfo(alpha.dtype)
    return np.minimum(np.maximum(out, fi.tiny),
                      np.nextafter(alpha.dtype.type(1), alpha.dtype.type(0)))


def _poisson_one(cur: _Cursor, lam: float) -> float:
    """One Poisson(lam) draw: Hörmann's transformed rejection (PTRS) for lam ≥ 10, else the
    product of uniforms until it falls below e^(−lam) (torch's ``sample_poisson``)."""
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = cur.uniform() - 0.5
            v = cur.uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return float(k)
            if k < 0 or (us < 0.013 and v > us):
                continue
            lhs = ((math.log(v) if v > 0 else -math.inf) + math.log(invalpha)
                   - math.log(a / (us * us) + b))
            if lhs <= -lam + k * loglam - math.lgamma(k + 1.0):
                return float(k)
    if lam == 0:
        return 0.0
    enlam, x, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= cur.uniform()
        if prod > enlam:
            x += 1
        else:
            return float(x)


def poisson(s: Stream, rate: np.ndarray) -> np.ndarray:
    """Poisson(rate) counts, one per element in C order, in rate's dtype (torch's ``poisson``)."""
    _check_float(rate, "poisson")
    flat = np.ascontiguousarray(rate).ravel().astype(_f64)
    if not (flat >= 0).all():
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    cur = _Cursor(s)
    try:
        v = [_poisson_one(cur, lam) for lam in flat.tolist()]
    finally:
        cur.close()
    return np.asarray(v, _f64).astype(rate.dtype).reshape(rate.shape)


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287)


def _stirling_tail(k: float) -> float:
    """log k! − (Stirling's approximation of it), tabulated below 10."""
    if k < 10:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(cur: _Cursor, count: float, prob: float, single: bool) -> float:
    """Count geometric waiting times until they pass ``count`` (small count·prob)."""
    logprob = float(np.log1p(_f32(-prob))) if single else math.log1p(-prob)
    geom_sum, num_geom = 0.0, 0.0
    while True:
        u = cur.uniform()
        geom_sum += math.ceil((math.log(u) if u > 0 else -math.inf) / logprob)
        if geom_sum > count:
            return num_geom
        num_geom += 1


def _btrs(cur: _Cursor, count: float, prob: float, single: bool) -> float:
    """Hörmann's transformed rejection with squeeze (BTRS) for count·prob ≥ 10. With
    ``single`` the products torch forms in float are rounded to float."""
    if single:
        n, p = _f32(count), _f32(prob)
        stddev = float(np.sqrt(n * p * (_f32(1) - p)))
        c = float(n * p) + 0.5
        r = float(p / (_f32(1) - p))
        m = float(np.floor((n + _f32(1)) * p))
    else:
        stddev = math.sqrt(count * prob * (1 - prob))
        c = count * prob + 0.5
        r = prob / (1 - prob)
        m = math.floor((count + 1) * prob)
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * stddev
    while True:
        u = cur.uniform() - 0.5
        v = cur.uniform()
        us = 0.5 - abs(u)
        k = float(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b)) if v > 0 else -math.inf
        upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                 + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(count - k))
        if v <= upper:
            return k


def _binomial_one(cur: _Cursor, count: float, prob: float, single: bool) -> float:
    """One Binomial(count, prob) draw (torch's ``sample_binomial``): BTRS where the mean of
    the smaller tail is ≥ 10, inversion otherwise; prob > ½ by symmetry."""
    if math.isnan(count):
        return math.nan                    # the waiting-time loop would never pass a NaN count
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        mean = float(_f32(count) * _f32(prob)) if single else count * prob
        if mean >= 10.0:
            return _btrs(cur, count, prob, single)
        return _binomial_inversion(cur, count, prob, single)
    if prob > 0.5:
        q = float(_f32(1.0 - prob)) if single else 1.0 - prob
        mean = float(_f32(count) * _f32(q)) if single else count * q
        if mean >= 10.0:
            return count - _btrs(cur, count, q, single)
        return count - _binomial_inversion(cur, count, q, single)
    return math.nan


def binomial(s: Stream, count: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Binomial(count, prob) draws, one per element of the broadcast shape in C order, in
    count's dtype (torch's ``binomial``)."""
    _check_float(count, "binomial")
    count, prob = np.broadcast_arrays(count, prob)
    single = count.dtype != _f64
    cur = _Cursor(s)
    try:
        v = [_binomial_one(cur, n, p, single)
             for n, p in zip(count.ravel().tolist(), prob.ravel().tolist())]
    finally:
        cur.close()
    return np.asarray(v, _f64).astype(count.dtype).reshape(count.shape)
