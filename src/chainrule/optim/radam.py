"""RAdam: Adam with a rectified (variance-corrected) adaptive step."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _adam_hyper, _bump, _check_adam_args, _check_kernel_options,
                        _lerp_, _vec)


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2019; ``torch.optim.RAdam``).

    Early on the second moment v_t rests on few samples and its variance is large; RAdam takes
    plain momentum steps until the length ρ_t of the approximated simple moving average exceeds
    5, then Adam steps scaled by the rectification r_t::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
        weight_decay λ:  g_t ← g_t + λ θ_{t−1}   (decoupled: θ_{t−1} ← θ_{t−1}(1 − ηλ))
        m_t = β₁ m_{t−1} + (1 − β₁) g_t;   v_t = β₂ v_{t−1} + (1 − β₂) g_t²
        m̂_t = m_t / (1 − β₁^t)
        ρ_∞ = 2/(1 − β₂) − 1;   ρ_t = ρ_∞ − 2 t β₂^t / (1 − β₂^t)
        ρ_t > 5:  l_t = √(1 − β₂^t) / (√v_t + ε)
                  r_t = √((ρ_t − 4)(ρ_t − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_t))
                  θ_t = θ_{t−1} − η m̂_t l_t r_t
        else:     θ_t = θ_{t−1} − η m̂_t

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η (default 1e-3).  betas (tuple): (β₁, β₂) (default (0.9, 0.999)).
        eps (float): ε (default 1e-8).  weight_decay (float): λ (default 0).
        decoupled_weight_decay (bool): decay the weights directly (RAdamW).
        maximize (bool): ascend instead of descend.

    State per parameter: ``step`` (0-d float32 tensor), ``exp_avg`` (m_t), ``exp_avg_sq`` (v_t).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                              differentiable=differentiable)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, beta1, beta2, weight_decay = _adam_hyper(group)

            def init(state, x):
                state["exp_avg"] = Tensor._make(np.zeros_like(x))
                state["exp_avg_sq"] = Tensor._make(np.zeros_like(x))

            for p, x, g, state, step in self._each_gradient(group, init):
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * x
                m = _vec(state["exp_avg"]._data)
                v = _vec(state["exp_avg_sq"]._data)
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * (g * g)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                m_hat = m / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = bias_correction2 ** 0.5 / (np.sqrt(v) + eps)
                    x -= m_hat * lr * adaptive * rect
                else:
                    x -= m_hat * lr
                _bump(p)
        return loss
