"""Muon: momentum SGD whose step for a weight matrix is the momentum orthogonalized."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _bump, _lerp_


class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024; ``torch.optim.Muon``) for 2-D parameters (hidden layers'
    weight matrices; give biases, embeddings and the output layer to AdamW).

    The step direction is the momentum B with its singular values pushed towards 1 — roughly
    U Vᵀ for B = U S Vᵀ — by a few Newton–Schulz iterations, so every direction of the matrix
    moves at about the same rate::

        B ← B + (1 − μ)(G − B)                      (momentum buffer, B₀ = 0)
        M = G + μ (B − G)  (nesterov)   or   M = B
        X = M / max(‖M‖_F, ε)   (transposed when M has more rows than columns)
        k times:  A = X Xᵀ,   X ← a X + (b A + c A²) X
        θ ← θ (1 − lr·λ) − lr′ · X,   lr′ = lr·√max(1, rows/cols)  ('original')
                                         or lr·0.2·√max(rows, cols)  ('match_rms_adamw')

    The iteration runs in bfloat16, as torch's: each result is rounded to bfloat16 where torch
    rounds it (chainrule has no bfloat16 tensors; the rounding is applied to float32 arrays),
    so the update is torch's up to the order of the float32 sums inside each product.

    Args:
        params: 2-D parameters, or parameter-group dicts of them.
        lr (float): default 1e-3.  weight_decay (float): λ, decoupled (default 0.1).
        momentum (float): μ (default 0.95).  nesterov (bool): default True.
        ns_coefficients (tuple): (a, b, c) = (3.4445, −4.775, 2.0315).
        eps (float): default 1e-7.  ns_steps (int): k, below 100 (default 5).
        adjust_lr_fn (str): None or 'original', or 'match_rms_adamw'.

    State per parameter: ``momentum_buffer`` (B, the parameter's shape), as torch's.
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, momentum = float(group["lr"]), float(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = self._grad_array(p, "Muon")
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = Tensor._make(np.zeros_like(g))
                buf = state["momentum_buffer"]._data
                _lerp_(buf, g, 1 - momentum)
                if group["nesterov"]:
                    update = g.copy()
                    _lerp_(update, buf, momentum)
                else:
                    update = buf
                ortho = orthogonalize(update, group["ns_coefficients"], group["ns_steps"],
                                      group["eps"])
                x *= 1 - lr * float(group["weight_decay"])
                x -= (_adjusted_lr(lr, group["adjust_lr_fn"], x.shape) * ortho).astype(x.dtype)
                _bump(p)
        return loss


def orthogonalize(m: np.ndarray, coefficients=(3.4445, -4.775, 2.0315), steps=5, eps=1e-7):
    """Muon's Newton–Schulz iteration on a matrix (R, C): X₀ = M/max(‖M‖_F, ε) (of spectral norm
    ≤ 1), then ``steps`` times X ← aX + (bA + cA²)X with A = XXᵀ, on the wide orientation (the
    transpose when R > C, so that A is the smaller Gram matrix). The quintic's coefficients
    raise small singular values fast and leave all of them near [0.7, 1.2], not exactly 1.
    Every stage is rounded to bfloat16, as torch computes it. Returns float32 (R, C)."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if m.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    x = bfloat16_round(m.astype(np.float32))
    tall = m.shape[0] > m.shape[1]
    if tall:
        x = x.T
    norm = bfloat16_round(np.float32(math.sqrt(float(np.dot(x.ravel(), x.ravel())))))
    x = bfloat16_round(x / bfloat16_round(np.maximum(norm, np.float32(eps))))
    for _ in range(steps):
        gram = bfloat16_round(x @ x.T)
        poly = bfloat16_round(np.float32(b) * gram + np.float32(c) * (gram @ gram))
        x = bfloat16_round(np.float32(a) * x + poly @ x)
    return np.ascontiguousarray(x.T if tall else x)


def bfloat16_round(a):
    """float32 values rounded to the nearest bfloat16 (ties to even; the top 16 bits of the
    float32 pattern), kept as float32 — how torch's bfloat16 ops store their results."""
    a = np.asarray(a, np.float32)
    bits = a.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return np.where(np.isnan(a), a, rounded.view(np.float32))


def _adjusted_lr(lr, adjust_lr_fn, shape):
    """lr scaled for a (rows, cols) matrix so that the update's RMS does not depend on it."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr
