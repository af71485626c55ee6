"""``chainrule.signal.windows`` — torch.signal.windows: SciPy-style window functions of length M.

Each is written with chainrule's ops exactly as torch's Python source writes it with torch's
(a ``linspace`` of sample points, then elementwise ops), so values agree to an ulp or two and
``requires_grad=True`` gives a result with torch's history. ``sym=True`` (default): the
symmetric window (for filter design); ``sym=False``: the periodic one (for spectral analysis),
the symmetric window of length M + 1 without its last point. Only float32 and float64.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .. import _dtype
from .._dtype import as_dtype
from ..creation import arange, empty, linspace, ones, tensor
from ..ops import abs, cos, exp, i0, sin, sqrt

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _checks(name, M, dtype, layout):
    """torch's window checks; the dtype the window is made in."""
    dt = _dtype.get_default_dtype() if dtype is None else as_dtype(dtype)
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and str(layout) not in ("torch.strided", "strided"):
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dt not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dt}")
    return dt


def _short(M, dt, requires_grad, one=True):
    """The window of length 0 (empty) or 1 ([1]), or None for M ≥ 2 (M ≥ 1 with ``one=False``)."""
    if M == 0:
        return empty((0,), dtype=dt, requires_grad=requires_grad)
    if M == 1 and one:
        return ones((1,), dtype=dt, requires_grad=requires_grad)
    return None


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False):
    """The exponential (Poisson) window, w[n] = exp(−|n − c|/τ), shape (M,); c = ``center``
    (default (M − 1)/2, or M/2 when not ``sym``; only for ``sym=False``), τ = ``tau`` > 0."""
    dt = _checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    short = _short(M, dt, requires_grad, one=False)
    if short is not None:
        return short
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    k = linspace(-center * constant, (-center + (M - 1)) * constant, M, dtype=dt,
                 requires_grad=requires_grad)
    return exp(-abs(k))


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The cosine (sine) window, w[n] = sin(π(n + ½)/M), shape (M,) (M + 1 in the denominator
    when not ``sym``)."""
    dt = _checks("cosine", M, dtype, layout)
    short = _short(M, dt, requires_grad, one=False)
    if short is not None:
        return short
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    k = linspace(0.5 * constant, (0.5 + (M - 1)) * constant, M, dtype=dt,
                 requires_grad=requires_grad)
    return sin(k)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Gaussian window, w[n] = exp(−(n − (M − 1)/2)²/(2σ²)), shape (M,); σ = ``std`` > 0."""
    dt = _checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    short = _short(M, dt, requires_grad, one=False)
    if short is not None:
        return short
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = linspace(start * constant, (start + (M - 1)) * constant, M, dtype=dt,
                 requires_grad=requires_grad)
    return exp(-(k ** 2))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Kaiser window, w[n] = I₀(β√(1 − (2n/(M − 1) − 1)²))/I₀(β), shape (M,); β = ``beta``
    ≥ 0 (I₀: :func:`chainrule.i0`)."""
    dt = _checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    short = _short(M, dt, requires_grad)
    if short is not None:
        return short
    t = dt.np.type
    b = t(beta)
    start = -b
    constant = t(2.0) * b / t(M if not sym else M - 1)
    end = np.minimum(b, start + t(M - 1) * constant)
    k = linspace(float(start), float(end), M, dtype=dt, requires_grad=requires_grad)
    beta_t = tensor(b, dtype=dt)
    return i0(sqrt(beta_t * beta_t - k ** 2)) / i0(beta_t)


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The generalised cosine window, w[n] = Σᵢ (−1)ⁱ aᵢ cos(2πin/(M − 1)), shape (M,)
    (M in the denominator when not ``sym``); ``a`` a non-empty list of coefficients."""
    dt = _checks("general_cosine", M, dtype, layout)
    short = _short(M, dt, requires_grad)
    if short is not None:
        return short
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = linspace(0, (M - 1) * constant, M, dtype=dt, requires_grad=requires_grad)
    a_i = tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dt, requires_grad=requires_grad)
    i = arange(a_i.shape[0], dtype=a_i.dtype, requires_grad=a_i.requires_grad)
    return (a_i.unsqueeze(-1) * cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """The generalised Hamming window, w[n] = α − (1 − α) cos(2πn/(M − 1)), shape (M,)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hamming window, w[n] = 0.54 − 0.46 cos(2πn/(M − 1)), shape (M,)."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window, w[n] = ½ − ½ cos(2πn/(M − 1)), shape (M,)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window, w[n] = 0.42 − 0.5 cos(2πn/(M − 1)) + 0.08 cos(4πn/(M − 1)),
    shape (M,)."""
    _checks("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Bartlett (triangular) window, w[n] = 1 − |2n/(M − 1) − 1|, shape (M,)."""
    dt = _checks("bartlett", M, dtype, layout)
    short = _short(M, dt, requires_grad)
    if short is not None:
        return short
    constant = 2 / (M if not sym else M - 1)
    k = linspace(-1, -1 + (M - 1) * constant, M, dtype=dt, requires_grad=requires_grad)
    return 1 - abs(k)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The minimum 4-term Blackman–Harris window of Nuttall, a general cosine window with
    a = (0.3635819, 0.4891775, 0.1365995, 0.0106411), shape (M,)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)
