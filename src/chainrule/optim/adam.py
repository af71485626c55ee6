"""Adam: momentum (first moment) and RMSprop scaling (second moment) with bias correction."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _bump, _chain, _check_adam_args, _check_kernel_options, _lerp_,
                        _new_step, _step_count, _vec)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015; ``torch.optim.Adam``).

    Tracks the decaying mean of the gradients (1st moment, momentum) and of their squares
    (uncentered variance, 2nd moment, as RMSprop) and divides one by the root of the other —
    the deck's "How does the Adam optimizer combine momentum and adaptive learning rates?"
    Both averages start at 0, so they are divided by 1 − β^t to remove that bias::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
        weight_decay λ:  g_t ← g_t + λ θ_{t−1}      (AdamW / decoupled: θ_{t−1} ← θ_{t−1}(1 − ηλ))
        m_t = β₁ m_{t−1} + (1 − β₁) g_t
        v_t = β₂ v_{t−1} + (1 − β₂) g_t²
        amsgrad:  v̂_t = max(v̂_{t−1}, v_t)   else v̂_t = v_t
        θ_t = θ_{t−1} − η / (1 − β₁^t) · m_t / (√v̂_t / √(1 − β₂^t) + ε)

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η (default 1e-3).  betas (tuple): (β₁, β₂) (default (0.9, 0.999)).
        eps (float): ε (default 1e-8).  weight_decay (float): λ (default 0).
        amsgrad (bool): use the running maximum of v_t (Reddi et al., 2018).
        maximize (bool): ascend instead of descend.
        decoupled_weight_decay (bool): decay the weights directly (AdamW) instead of adding λθ
            to the gradient.

    State per parameter: ``step`` (0-d float32 tensor), ``exp_avg`` (m_t), ``exp_avg_sq`` (v_t),
    ``max_exp_avg_sq`` (v̂_t, with amsgrad).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                              differentiable=differentiable, fused=fused)
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        name = type(self).__name__
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = self._grad_array(p, name)
                state = self.state[p]
                if not state:  # lazy initialisation, as torch
                    state["step"] = _new_step()
                    state["exp_avg"] = Tensor._make(np.zeros_like(x))
                    state["exp_avg_sq"] = Tensor._make(np.zeros_like(x))
                    if amsgrad:
                        state["max_exp_avg_sq"] = Tensor._make(np.zeros_like(x))
                step = _step_count(state)
                x, g = _vec(x), _vec(g)   # a 0-d parameter as a 1-element view (see _vec)
                if maximize:
                    g = np.negative(g)
                if weight_decay != 0:
                    if decoupled:
                        _chain("mul", x, 1 - lr * weight_decay, out=x)   # θ ← θ (1 − ηλ)
                    else:
                        g = _chain("mul", x, weight_decay, [("add", g)])   # λθ + g
                m = _vec(state["exp_avg"]._data)
                v = _vec(state["exp_avg_sq"]._data)
                _lerp_(m, g, 1 - beta1)                     # m_t = m + (1 − β₁)(g − m)
                g2 = _chain("mul", g, 1 - beta2, [("mul", g)])            # (1 − β₂) g²
                _chain("mul", v, beta2, [("add", g2)], out=v)             # v_t = β₂ v + …
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    vmax = _vec(state["max_exp_avg_sq"]._data)
                    np.maximum(vmax, v, out=vmax)
                    denom = np.sqrt(vmax)
                else:
                    denom = np.sqrt(v)
                _chain("div", denom, bias_correction2_sqrt, [("add", eps)], out=denom)
                # θ ← θ − η_t·m/denom, as (m/denom)·(−η_t) + θ: the same value
                _chain("div", m, denom, [("mul", -step_size), ("add", x)], out=x)
                _bump(p)
        return loss
