"""Adadelta: RMSprop whose step size is the running RMS of past updates (no global lr needed)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _bump, _check_kernel_options, _vec


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012; ``torch.optim.Adadelta``).

    Scales the gradient by the ratio of two running RMS values — of past updates and of past
    gradients — so the update has the units of θ::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize);   weight_decay λ:  g_t ← g_t + λ θ_{t−1}
        v_t = ρ v_{t−1} + (1 − ρ) g_t²
        Δ_t = √(u_{t−1} + ε) / √(v_t + ε) · g_t
        u_t = ρ u_{t−1} + (1 − ρ) Δ_t²
        θ_t = θ_{t−1} − η Δ_t

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η, a multiplier of Δ (default 1.0).  rho (float): ρ (default 0.9).
        eps (float): ε (default 1e-6).  weight_decay (float): λ (default 0).
        maximize (bool): ascend instead of descend.

    State per parameter: ``step`` (0-d float32 tensor), ``square_avg`` (v_t), ``acc_delta`` (u_t).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                              differentiable=differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])

            def init(state, x):
                state["square_avg"] = Tensor._make(np.zeros_like(x))
                state["acc_delta"] = Tensor._make(np.zeros_like(x))

            for p, x, g, state, step in self._each_gradient(group, init):
                if weight_decay != 0:
                    g = g + weight_decay * x
                v = _vec(state["square_avg"]._data)
                u = _vec(state["acc_delta"]._data)
                v *= rho
                v += (1 - rho) * (g * g)                    # v_t = ρ v + (1 − ρ) g²
                std = np.sqrt(v + eps)
                delta = np.sqrt(u + eps)
                delta /= std
                delta *= g                                  # Δ_t = √(u + ε)/√(v + ε) · g
                u *= rho
                u += (1 - rho) * (delta * delta)            # u_t = ρ u + (1 − ρ) Δ²
                delta *= -lr
                x += delta
                _bump(p)
        return loss
