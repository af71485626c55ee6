"""NAdam: Adam with Nesterov momentum (the momentum step looks ahead)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _adam_hyper, _bump, _check_adam_args, _check_kernel_options,
                        _lerp_, _vec)


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016; ``torch.optim.NAdam``).

    Adam whose first-moment term applies the *next* step's momentum (Nesterov), with a momentum
    schedule μ_t that warms up with ``momentum_decay`` ψ::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
        weight_decay λ:  g_t ← g_t + λ θ_{t−1}   (decoupled: θ_{t−1} ← θ_{t−1}(1 − ηλ))
        μ_t = β₁ (1 − ½ · 0.96^{t ψ}),   μ_{t+1} = β₁ (1 − ½ · 0.96^{(t+1) ψ})
        Π_t = Π_{t−1} μ_t                                (mu_product, Π_0 = 1)
        m_t = β₁ m_{t−1} + (1 − β₁) g_t
        v_t = β₂ v_{t−1} + (1 − β₂) g_t²
        d_t = √(v_t / (1 − β₂^t)) + ε
        θ_t = θ_{t−1} − η (1 − μ_t)/(1 − Π_t) · g_t / d_t − η μ_{t+1}/(1 − Π_t μ_{t+1}) · m_t / d_t

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η (default 2e-3).  betas (tuple): (β₁, β₂) (default (0.9, 0.999)).
        eps (float): ε (default 1e-8).  weight_decay (float): λ (default 0).
        momentum_decay (float): ψ (default 4e-3).
        decoupled_weight_decay (bool): decay the weights directly (NAdamW).
        maximize (bool): ascend instead of descend.

    State per parameter: ``step`` and ``mu_product`` (0-d float32 tensors, as torch), ``exp_avg``
    (m_t), ``exp_avg_sq`` (v_t).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                              differentiable=differentiable)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, beta1, beta2, weight_decay = _adam_hyper(group)
            psi = float(group["momentum_decay"])

            def init(state, x):
                state["mu_product"] = Tensor._make(np.ones((), np.float32))
                state["exp_avg"] = Tensor._make(np.zeros_like(x))
                state["exp_avg_sq"] = Tensor._make(np.zeros_like(x))

            for p, x, g, state, step in self._each_gradient(group, init):
                bias_correction2 = 1 - beta2 ** step
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * x
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
                mu_product = state["mu_product"]._data
                mu_product *= mu                      # kept in float32, as torch's
                mu_prod = float(mu_product)
                mu_product_next = mu_prod * mu_next
                m = _vec(state["exp_avg"]._data)
                v = _vec(state["exp_avg_sq"]._data)
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * (g * g)
                denom = np.sqrt(v / bias_correction2)
                denom += eps
                x += (-lr * (1.0 - mu) / (1.0 - mu_prod)) * (g / denom)
                x += (-lr * mu_next / (1.0 - mu_product_next)) * (m / denom)
                _bump(p)
        return loss
