"""Adafactor: Adam's second moment kept as a row and a column factor instead of a full matrix."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_kernel_options, _lerp_, _new_step,
                        _step_count, _vec)


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018; ``torch.optim.Adafactor``, torch's variant).

    RMSprop's running mean of g² costs one number per weight. For a matrix gradient G (R×C;
    a tensor of more dims is a batch of matrices over its last two) Adafactor keeps only the
    running means of its rows' and columns' mean squares and rebuilds the estimate as their
    outer product (the best rank-one fit in the sense of the paper): R + C numbers instead of
    R·C. There is no first moment, and the step is relative to the parameter's own scale::

        β̂₂ₜ = t^(beta2_decay)                                 (the weight of the new square)
        ρₜ = min(lr, 1/√t),   αₜ = max(ε₂, RMS(θₜ₋₁)) · ρₜ     (RMS(x) = ‖x‖₂ / √numel)
        θ ← θ·(1 − lr·λ)                                      (weight_decay λ)
        matrix:  r ← r + β̂₂ₜ (mean_C(G²) − r),   c ← c + β̂₂ₜ (mean_R(G²) − c)
                 V̂ = r cᵀ / max(mean_R(r), ε₁)              (r: R×1, c: 1×C)
        vector:  v ← v + β̂₂ₜ (g² − v),   V̂ = v
        U = G / √max(V̂, ε₁²),   θ ← θ − αₜ / max(1, RMS(U)/d) · U

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): the cap on ρₜ (default 1e-2).  beta2_decay (float): ≤ 0 (default −0.8).
        eps (tuple): (ε₁, ε₂) = (None, 1e-3); ε₁ None is the parameter dtype's machine epsilon.
        d (float): the clipping threshold on RMS(U), ≥ 1 (default 1).
        weight_decay (float): λ, decoupled as in AdamW (default 0).
        maximize (bool): ascend instead of descend.

    State per parameter: ``step`` (0-d float32 tensor) and, for a gradient of 2 or more dims,
    ``row_var`` (its shape with the last dim 1) and ``col_var`` (with the second-to-last dim
    1), else ``variance`` (the gradient's shape) — torch's names and shapes.
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        _check_kernel_options("Adafactor", foreach=foreach)
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, decay = float(group["lr"]), float(group["beta2_decay"])
            eps1, eps2 = group["eps"]
            d, weight_decay = float(group["d"]), float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = self._grad_array(p, "Adafactor")
                if group["maximize"]:
                    g = np.negative(g)
                state = self.state[p]
                if not state:
                    state["step"] = _new_step()
                    if g.ndim > 1:
                        state["row_var"] = Tensor._make(np.zeros(g.shape[:-1] + (1,), g.dtype))
                        state["col_var"] = Tensor._make(
                            np.zeros(g.shape[:-2] + (1, g.shape[-1]), g.dtype))
                    else:
                        state["variance"] = Tensor._make(np.zeros_like(g))
                if eps1 is None:   # as torch: the first parameter's dtype sets it for the group
                    eps1 = float(np.finfo(x.dtype).eps)
                t = _step_count(state)
                x, g = _vec(x), _vec(g)   # a 0-d parameter as a 1-element view (see _vec)
                if x.size == 0:    # nothing to update (torch's step divides by numel = 0 here)
                    continue
                weight = t ** decay                             # β̂₂ₜ
                rho = min(lr, 1 / t ** 0.5)
                alpha = max(eps2, _rms(x)) * rho
                if weight_decay != 0:
                    x *= 1 - lr * weight_decay
                squares = np.multiply(g, g)
                if g.ndim > 1:
                    row, col = state["row_var"]._data, state["col_var"]._data
                    _lerp_(row, squares.mean(axis=-1, keepdims=True), weight)
                    _lerp_(col, squares.mean(axis=-2, keepdims=True), weight)
                    v = np.matmul(row, col)                     # r cᵀ: (…, R, 1) @ (…, 1, C)
                    v /= np.maximum(row.mean(axis=-2, keepdims=True), eps1)
                else:
                    variance = _vec(state["variance"]._data)
                    _lerp_(variance, squares, weight)
                    v = variance.copy()
                np.maximum(v, eps1 * eps1, out=v)
                update = np.sqrt(v, out=v)
                # rsqrt, then times G (torch's order)
                np.divide(1, update, out=update)
                update *= g
                denom = max(1.0, _rms(update) / d)
                update *= -alpha / denom
                x += update
                _bump(p)
        return loss


def _rms(a: np.ndarray) -> float:
    """‖a‖₂ / √numel, in float64 (the scale the step is relative to)."""
    return float(np.sqrt(np.dot(a.ravel().astype(np.float64), a.ravel()))) / math.sqrt(a.size)
