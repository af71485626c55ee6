"""ASGD: SGD with a decaying step and a running (Polyak–Ruppert) average of the iterates."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _bump, _check_kernel_options, _vec


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992; ``torch.optim.ASGD``).

    SGD with a step size η_t that decays polynomially and an average ā of the iterates, taken
    from step t₀ on (``state['ax']`` holds it; the parameters themselves follow SGD)::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize);   weight_decay λ_w:  g_t ← g_t + λ_w θ_{t−1}
        θ_t = θ_{t−1}(1 − λ η_{t−1}) − η_{t−1} g_t
        ā_t = ā_{t−1} + μ_{t−1}(θ_t − ā_{t−1})          (ā_t = θ_t while μ = 1)
        η_t = η / (1 + λ η t)^α;   μ_t = 1 / max(1, t − t₀)

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): η (default 1e-2).  lambd (float): λ, the decay term (default 1e-4).
        alpha (float): α, the power of the η decay (default 0.75).
        t0 (float): t₀, the step at which averaging starts (default 1e6).
        weight_decay (float): λ_w (default 0).  maximize (bool): ascend instead of descend.

    State per parameter: ``step``, ``eta`` (η_t) and ``mu`` (μ_t) as 0-d float32 tensors (as
    torch), ``ax`` (ā_t).
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_kernel_options(type(self).__name__, foreach=foreach, capturable=capturable,
                              differentiable=differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, lambd = float(group["lr"]), float(group["lambd"])
            alpha, t0 = float(group["alpha"]), float(group["t0"])
            weight_decay = float(group["weight_decay"])

            def init(state, x):
                state["eta"] = Tensor._make(np.array(lr, np.float32))
                state["mu"] = Tensor._make(np.ones((), np.float32))
                state["ax"] = Tensor._make(np.zeros_like(x))

            for p, x, g, state, step in self._each_gradient(group, init):
                if weight_decay != 0:
                    g = g + weight_decay * x
                eta = float(state["eta"]._data)
                x *= 1 - lambd * eta                        # decay term
                x -= eta * g                                # SGD step
                ax = _vec(state["ax"]._data)
                mu = float(state["mu"]._data)
                if mu != 1:
                    ax += (x - ax) * mu                     # running average
                else:
                    ax[...] = x
                # torch rounds the new η and μ to float32 (torch.as_tensor of a Python float)
                # even when the state was loaded as float64
                state["eta"]._data[...] = np.float32(lr / ((1 + lambd * lr * step) ** alpha))
                state["mu"]._data[...] = np.float32(1 / max(1, step - t0))
                _bump(p)
        return loss
