"""softmax and log_softmax along one dim, computed with the log-sum-exp trick.

softmax(x)_i = e^{x_i − m} / Σ_j e^{x_j − m} with m = max_j x_j: every exponent is ≤ 0, so
nothing overflows at |x| = 1e4, and the max term is exactly 1, so the sum never underflows.
log_softmax(x) = x − logsumexp(x) is never log(0) for finite x — the form cross-entropy needs.
"""
from __future__ import annotations

import numpy as np

from ..autograd.node import Node
from ..tensor import Tensor, _normalize_dim
from ._util import check_tensor, to_float


def _shifted(x, dim):
    m = np.max(x, axis=dim, keepdims=True)
    return x - np.where(np.isfinite(m), m, 0)


class Softmax(Node):
    """y = softmax(x). VJP: x̄ = y ⊙ (ȳ − Σ_j ȳ_j y_j); JVP: ẏ = y ⊙ (ẋ − Σ_j ẋ_j y_j)."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        e = np.exp(_shifted(x, self.dim))
        return e / np.sum(e, axis=self.dim, keepdims=True)

    def _apply_jacobian(self, v):
        y = self.output
        return y * (v - (v * y).sum(self.dim, keepdim=True))

    def backward(self, g):
        return self._apply_jacobian(g)

    def jvp(self, t):
        return self._apply_jacobian(t)


class LogSoftmax(Node):
    """y = x − logsumexp(x). VJP: x̄ = ȳ − softmax(x)·Σ_j ȳ_j; JVP: ẏ = ẋ − Σ_j softmax_j ẋ_j."""

    save_inputs = False
    save_output = True

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        z = _shifted(x, self.dim)
        return z - np.log(np.sum(np.exp(z), axis=self.dim, keepdims=True))

    def backward(self, g):
        return g - self.output.exp() * g.sum(self.dim, keepdim=True)

    def jvp(self, t):
        return t - (self.output.exp() * t).sum(self.dim, keepdim=True)


def _dim(input, dim, op):
    check_tensor(input, op)
    if dim is None:  # torch's legacy implicit choice
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return _normalize_dim(dim, input.ndim, op)


def softmax(input, dim=None, *, dtype=None) -> Tensor:
    """softmax(x)_i = exp(x_i) / Σ_j exp(x_j) along ``dim``; same shape as input.

    Derivative ∂s_i/∂x_j = s_i(δ_ij − s_j), so the VJP is s ⊙ (g − Σ_j g_j s_j)."""
    if dtype is not None:
        input = input.to(dtype)
    if check_tensor(input, "softmax").ndim == 0:     # dim still checked: only -1 or 0
        return softmax(input.reshape(1), _dim(input, dim, "softmax")).reshape(())
    return Softmax.apply(to_float(input), dim=_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, *, dtype=None) -> Tensor:
    """log softmax(x)_i = x_i − log Σ_j exp(x_j) along ``dim``; same shape as input.

    Derivative ∂ℓ_i/∂x_j = δ_ij − softmax(x)_j, so the VJP is g − softmax(x)·Σ_j g_j."""
    if dtype is not None:
        input = input.to(dtype)
    if check_tensor(input, "log_softmax").ndim == 0:     # dim still checked: only -1 or 0
        return log_softmax(input.reshape(1), _dim(input, dim, "log_softmax")).reshape(())
    return LogSoftmax.apply(to_float(input), dim=_dim(input, dim, "log_softmax"))
