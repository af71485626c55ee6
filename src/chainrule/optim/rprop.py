"""Rprop: resilient backpropagation — per-weight step sizes driven by gradient signs only."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _bump, _check_kernel_options, _vec


class Rprop(Optimizer):
    r"""Rprop (Riedmiller & Braun, 1993; ``torch.optim.Rprop``).

    Each weight keeps its own step size Δ, grown while the gradient keeps its sign and shrunk
    when it flips; only the sign of the gradient moves the weight::

        s = sign(g_t · g_{t−1})
        Δ_t = clamp(Δ_{t−1} · (η₊ if s > 0, η₋ if s < 0, 1 if s = 0), Δ_min, Δ_max)
        g_t ← 0 where s < 0   (no move after a sign flip; the next step sees s = 0)
        θ_t = θ_{t−1} − sign(g_t) · Δ_t

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): the initial Δ (default 1e-2).  etas (tuple): (η₋, η₊) (default (0.5, 1.2)).
        step_sizes (tuple): (Δ_min, Δ_max) (default (1e-6, 50)).
        maximize (bool): ascend instead of descend.

    State per parameter: ``step``, ``prev`` (the last gradient used), ``step_size`` (Δ).
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                              differentiable=differentiable)
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            eta_minus, eta_plus = (float(e) for e in group["etas"])
            lo, hi = (float(s) for s in group["step_sizes"])
            lr = float(group["lr"])

            def init(state, x):
                state["prev"] = Tensor._make(np.zeros_like(x))
                state["step_size"] = Tensor._make(np.full_like(x, lr))

            for p, x, g, state, _ in self._each_gradient(group, init):
                prev, size = _vec(state["prev"]._data), _vec(state["step_size"]._data)
                sign = np.sign(g * prev)
                factor = np.where(sign > 0, eta_plus, np.where(sign < 0, eta_minus, 1.0))
                factor = factor.astype(x.dtype)
                np.clip(size * factor, lo, hi, out=size)
                g = np.where(factor == eta_minus, 0, g).astype(x.dtype)
                x -= np.sign(g) * size
                prev[...] = g
                _bump(p)
        return loss
