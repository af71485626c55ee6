"""Adagrad: per-parameter learning rates shrunk by the accumulated squared gradients."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _bump, _check_kernel_options, _new_step, _step_count, _vec


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011; ``torch.optim.Adagrad``).

    Each coordinate gets its own step size, inversely proportional to the root of the sum of
    its squared gradients so far — the deck's s_t = Σ g_t² — so rarely-updated (sparse)
    features keep large steps. Its drawback, also on the deck: s_t only grows, so the step size
    decays towards zero and learning can stop early (RMSprop fixes this)::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize);   g_t ← g_t + λ θ_{t−1}   (weight_decay λ)
        η̃_t = η / (1 + (t − 1) · lr_decay)
        s_t = s_{t−1} + g_t²                       (s_0 = initial_accumulator_value)
        θ_t = θ_{t−1} − η̃_t · g_t / (√s_t + ε)

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η (default 1e-2).  lr_decay (float): default 0.
        weight_decay (float): λ (default 0).  initial_accumulator_value (float): s_0 (default 0).
        eps (float): ε (default 1e-10).  maximize (bool): ascend instead of descend.

    State per parameter (created at construction, as torch): ``step`` (0-d float32 tensor),
    ``sum`` (s_t, shape of the parameter).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_kernel_options("Adagrad", foreach=foreach, differentiable=differentiable,
                              fused=fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = _new_step()
        state["sum"] = Tensor._make(np.full_like(p._data, group["initial_accumulator_value"]))

    def add_param_group(self, param_group):
        # torch's Adagrad creates its state eagerly, for every parameter of every group
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            weight_decay = float(group["weight_decay"])
            eps = float(group["eps"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = self._grad_array(p, "Adagrad")
                state = self.state[p]
                if not state:
                    self._init_state(p, group)
                step = _step_count(state)
                x, g = _vec(x), _vec(g)   # a 0-d parameter as a 1-element view (see _vec)
                if maximize:
                    g = np.negative(g)
                if weight_decay != 0:
                    d = np.multiply(x, weight_decay)
                    d += g
                    g = d
                clr = lr / (1 + (step - 1) * lr_decay)
                s = _vec(state["sum"]._data)
                tmp = np.multiply(g, g)
                s += tmp                                    # s_t = s_{t−1} + g²
                std = np.sqrt(s)
                std += eps
                np.divide(g, std, out=tmp)
                tmp *= -clr
                x += tmp
                _bump(p)
        return loss
