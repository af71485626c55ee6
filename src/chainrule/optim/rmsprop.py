"""RMSprop: Adagrad with an exponentially decaying average of squared gradients."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import (Optimizer, _bump, _chain, _check_kernel_options, _lerp_, _new_step,
                        _step_count, _vec)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012; ``torch.optim.RMSprop``).

    Replaces Adagrad's ever-growing sum s_t = Σ g_t² by an exponentially decaying average, so
    the step size adapts to recent gradient scale and does not vanish — suited to the noisy,
    non-stationary objectives of deep learning (the deck's "How does RMSprop improve upon
    Adagrad?")::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize);   g_t ← g_t + λ θ_{t−1}   (weight_decay λ)
        v_t = α v_{t−1} + (1 − α) g_t²
        centered:  ḡ_t = α ḡ_{t−1} + (1 − α) g_t,   ṽ_t = v_t − ḡ_t²   else ṽ_t = v_t
        momentum μ > 0:  b_t = μ b_{t−1} + g_t / (√ṽ_t + ε),   θ_t = θ_{t−1} − η b_t
        else:            θ_t = θ_{t−1} − η g_t / (√ṽ_t + ε)

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η (default 1e-2).  alpha (float): α (default 0.99).  eps (float): ε (1e-8).
        weight_decay (float): λ (default 0).  momentum (float): μ (default 0).
        centered (bool): normalise by the variance estimate instead of the second moment.
        maximize (bool): ascend instead of descend.

    State per parameter: ``step``, ``square_avg`` (v_t), ``momentum_buffer`` (when μ > 0),
    ``grad_avg`` (ḡ_t, when centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_kernel_options("RMSprop", capturable=capturable, foreach=foreach,
                              differentiable=differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = self._grad_array(p, "RMSprop")
                state = self.state[p]
                if not state:  # lazy initialisation, as torch
                    state["step"] = _new_step()
                    state["square_avg"] = Tensor._make(np.zeros_like(x))
                    if momentum > 0:
                        state["momentum_buffer"] = Tensor._make(np.zeros_like(x))
                    if centered:
                        state["grad_avg"] = Tensor._make(np.zeros_like(x))
                _step_count(state)
                x, g = _vec(x), _vec(g)   # a 0-d parameter as a 1-element view (see _vec)
                if maximize:
                    g = np.negative(g)
                if weight_decay != 0:
                    g = _chain("mul", x, weight_decay, [("add", g)])       # λθ + g
                v = _vec(state["square_avg"]._data)
                g2 = _chain("mul", g, 1 - alpha, [("mul", g)])             # (1 − α) g²
                _chain("mul", v, alpha, [("add", g2)], out=v)              # v_t = α v + …
                if centered:
                    ga = _vec(state["grad_avg"]._data)
                    _lerp_(ga, g, 1 - alpha)                # ḡ_t = ḡ + (1 − α)(g − ḡ)
                    avg = np.multiply(ga, ga)
                    np.subtract(v, avg, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    b = _vec(state["momentum_buffer"]._data)
                    _chain("mul", b, momentum, [("add", _chain("div", g, avg))], out=b)
                    _chain("mul", b, -lr, [("add", x)], out=x)             # θ ← −η·b + θ
                else:
                    _chain("div", g, avg, [("mul", -lr), ("add", x)], out=x)   # θ − η·g/avg
                _bump(p)
        return loss
