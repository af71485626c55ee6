"""softmax and log_softmax along one dim, computed with the log-sum-exp trick.

softmax(x)_i = e^{x_i − m} / Σ_j e^{x_j − m} with m = max_j x_j: every exponent is ≤ 0, so
nothing overflows at |x| = 1e4, and the max term is exactly 1, so the sum never underflows.
log_softmax(x) = x − logsumexp(x) is never log(0) for finite x — the form cross-entropy needs.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._graph import Node
from .._tensor_base import normalize_dim
from ..backends import onednn
from ._util import check_tensor


def _on_onednn(x, dim) -> bool:
    """Whether this softmax runs on oneDNN (``backends.onednn.softmax_forward``): along the last
    dim of a large float32 array whose every row has a finite maximum (no NaN, no +inf, not
    all −inf: the rows NumPy's rule below gives torch's NaN; a row with some −inf, a mask, is
    fine). Checked as: the maximum of all elements is finite (no NaN, no +inf anywhere), and
    no row that starts with −inf is −inf throughout (a causal mask never hides the first
    column). On (16, 4, 128, 128) the row maxima (NumPy's reduce along a short last dim) took
    900 µs, these two 145 + 56; oneDNN's softmax itself ~300."""
    if dim != x.ndim - 1 or not onednn.softmax_supported(x):
        return False
    top = np.maximum.reduce(x.reshape(-1))   # NaN if there is one (np.maximum propagates it)
    if not -np.inf < top < np.inf:
        return False
    rows = x.reshape(-1, x.shape[-1])
    masked = rows[:, 0] == -np.inf
    if masked.any():
        return bool((np.maximum.reduce(rows[masked], axis=1) > -np.inf).all())
    return True


def shifted(x, dim):
    """x − max(x) along ``dim``: every exponent ≤ 0. A row whose max is −inf is shifted by 0
    (all −inf: 0/0 = nan, as torch); a +inf max shifts to inf − inf = nan, as torch."""
    m = np.maximum.reduce(x, axis=dim, keepdims=True)   # (np.max's wrapper costs ~1.5 µs)
    return x - np.where(m == -np.inf, 0, m)


def softmax_array(x, dim, overwrite=False):
    """softmax(x) along ``dim`` on an array, and whether oneDNN computed it (``_on_onednn``)
    or NumPy's rule; ``overwrite``: oneDNN may write it over x (the caller's scratch)."""
    if x.size == 0:
        return x.copy(), False
    if _on_onednn(x, dim):
        return onednn.softmax_forward(x, out=x if overwrite else None), True
    e = np.exp(shifted(x, dim))
    return e / np.add.reduce(e, axis=dim, keepdims=True), False


class Softmax(Node):
    """y = softmax(x). VJP: x̄ = y ⊙ (ȳ − Σ_j ȳ_j y_j); JVP: ẏ = y ⊙ (ẋ − Σ_j ẋ_j y_j) — the
    same symmetric Jacobian diag(y) − y yᵀ applied to a vector."""

    params = ("dim",)
    on_onednn = False   # the forward ran on oneDNN

    def forward(self, x):
        # (set each call: a compiled replay reuses a node)
        out, self.on_onednn = softmax_array(x, self.dim)
        return out

    def _jacobian_times(self, xp, v, out):
        return out * (v - xp.sum(v * out, self.dim, True))

    def vjp(self, xp, g, out):
        if (self.on_onednn and not xp.recording and g.dtype == out.dtype
                and g.shape == out.shape and g.flags.c_contiguous):   # oneDNN's forward's
            return onednn.softmax_backward(g, out)
        return self._jacobian_times(xp, g, out)

    def jvp(self, xp, tangents, out):
        return self._jacobian_times(xp, tangents[0], out)


class LogSoftmax(Node):
    """y = x − logsumexp(x). VJP: x̄ = ȳ − softmax(x)·Σ_j ȳ_j; JVP: ẏ = ẋ − Σ_j softmax_j ẋ_j."""

    params = ("dim",)

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        z = shifted(x, self.dim)   # (a new array: written over below, one temporary fewer)
        lse = np.log(np.add.reduce(np.exp(z), axis=self.dim, keepdims=True))
        if z.ndim == 0:
            return np.asarray(z - lse)
        z -= lse
        return z

    def vjp(self, xp, g, out):
        if xp.recording or out.ndim == 0:
            return g - xp.exp(out) * xp.sum(g, self.dim, True)
        # on arrays the same operations into one buffer: (700, 10000) float32 30 → 17 ms
        e = np.exp(out)
        e *= np.add.reduce(g, axis=self.dim, keepdims=True)
        return np.subtract(g, e, out=e)

    def jvp(self, xp, tangents, out):
        t = tangents[0]
        return t - xp.sum(xp.exp(out) * t, self.dim, True)


def _floating(input, op):
    if input._data.dtype.kind != "f":   # torch has no integer kernel (pass dtype= to cast first)
        raise NotImplementedError(f"{op}: not implemented for integer or bool input "
                                  f"({input.dtype}); pass dtype=chainrule.float32 or call .float()")


def implicit_dim(ndim: int, op: str, stacklevel: int) -> int:
    """torch's legacy choice when ``torch.nn.functional.softmax`` (log_softmax, softmin) is given
    no dim: 0 for 0-, 1- and 3-d inputs, else 1 — with torch's deprecation warning, since the
    class dimension it guesses is often the wrong one."""
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", UserWarning, stacklevel=stacklevel + 1)
    return 0 if ndim in (0, 1, 3) else 1


def _dim(input, dim, op):
    check_tensor(input, op)
    if dim is None:
        raise TypeError(f"{op}: argument 'dim' must be an int, not None (the dim to normalize "
                        f"over, e.g. dim=-1)")
    return normalize_dim(dim, input.ndim, op)


def softmax(input, dim, *, dtype=None):
    """softmax(x)_i = exp(x_i) / Σ_j exp(x_j) along ``dim``; same shape as input.

    Derivative ∂s_i/∂x_j = s_i(δ_ij − s_j), so the VJP is s ⊙ (g − Σ_j g_j s_j)."""
    if dtype is not None:
        input = input.to(dtype)
    if check_tensor(input, "softmax").ndim == 0:     # dim still checked: only -1 or 0
        return softmax(input.reshape(1), _dim(input, dim, "softmax")).reshape(())
    _floating(input, "softmax")
    return Softmax.apply(input, dim=_dim(input, dim, "softmax"))


def log_softmax(input, dim, *, dtype=None):
    """log softmax(x)_i = x_i − log Σ_j exp(x_j) along ``dim``; same shape as input.

    Derivative ∂ℓ_i/∂x_j = δ_ij − softmax(x)_j, so the VJP is g − softmax(x)·Σ_j g_j."""
    if dtype is not None:
        input = input.to(dtype)
    if check_tensor(input, "log_softmax").ndim == 0:     # dim still checked: only -1 or 0
        return log_softmax(input.reshape(1), _dim(input, dim, "log_softmax")).reshape(())
    _floating(input, "log_softmax")
    return LogSoftmax.apply(input, dim=_dim(input, dim, "log_softmax"))
