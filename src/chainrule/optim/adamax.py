"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _adam_hyper, _bump, _check_adam_args, _check_kernel_options,
                        _lerp_, _vec)


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, §7; ``torch.optim.Adamax``).

    Adam's second moment with the L∞ norm: a decaying running maximum of |g|, which needs
    no bias correction::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize);   weight_decay λ:  g_t ← g_t + λ θ_{t−1}
        m_t = β₁ m_{t−1} + (1 − β₁) g_t
        u_t = max(β₂ u_{t−1}, |g_t| + ε)
        θ_t = θ_{t−1} − η / (1 − β₁^t) · m_t / u_t

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η (default 2e-3).  betas (tuple): (β₁, β₂) (default (0.9, 0.999)).
        eps (float): ε (default 1e-8).  weight_decay (float): λ (default 0).
        maximize (bool): ascend instead of descend.

    State per parameter: ``step`` (0-d float32 tensor), ``exp_avg`` (m_t), ``exp_inf`` (u_t).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                              differentiable=differentiable)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, beta1, beta2, weight_decay = _adam_hyper(group)

            def init(state, x):
                state["exp_avg"] = Tensor._make(np.zeros_like(x))
                state["exp_inf"] = Tensor._make(np.zeros_like(x))

            for p, x, g, state, step in self._each_gradient(group, init):
                if weight_decay != 0:
                    g = g + weight_decay * x
                m = _vec(state["exp_avg"]._data)
                u = _vec(state["exp_inf"]._data)
                _lerp_(m, g, 1 - beta1)  # m_t = m + (1 − β₁)(g − m)
                u *= beta2
                np.maximum(u, np.abs(g) + eps, out=u)       # u_t = max(β₂ u, |g| + ε)
                clr = lr / (1 - beta1 ** step)
                x -= clr * (m / u)
                _bump(p)
        return loss
