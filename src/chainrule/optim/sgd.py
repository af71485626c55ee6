"""Stochastic gradient descent with optional momentum and Nesterov momentum (``torch.optim.SGD``)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _bump, _chain, _check_kernel_options, required


class SGD(Optimizer):
    r"""Gradient descent, θ_{t+1} = θ_t − η g_t, with optional momentum.

    The deck's momentum rule v_t = γ v_{t−1} + η g_t, θ_{t+1} = θ_t − v_t accumulates an
    exponentially weighted sum of past gradients, speeding travel along directions where the
    gradient is consistent and damping oscillation across a ravine. torch (and chainrule) keep
    η outside the buffer, which is the same trajectory for a constant η::

        g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
        g_t ← g_t + λ θ_{t−1}                         (weight_decay λ ≠ 0)
        b_t ← g_t  if t = 1  else  μ b_{t−1} + (1 − τ) g_t   (momentum μ ≠ 0, dampening τ)
        g_t ← g_t + μ b_t  if nesterov  else  b_t
        θ_t ← θ_{t−1} − η g_t

    Whether the gradients come from the whole data set, one sample or a mini-batch (the deck's
    batch / stochastic / mini-batch gradient descent) is the DataLoader's ``batch_size``.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr (float): learning rate η (default 1e-3).
        momentum (float): μ (default 0).
        dampening (float): τ (default 0).
        weight_decay (float): L2 penalty λ (default 0).
        nesterov (bool): Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize (bool): ascend the objective instead of descending.

    State per parameter (only with momentum): ``momentum_buffer`` (shape of the parameter).

    Example::

        opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_kernel_options("SGD", foreach=foreach, differentiable=differentiable, fused=fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss if one is given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            # float(): a NumPy float64 scalar would promote the float32 update to float64
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                x = p._data
                g = self._grad_array(p, "SGD")
                owned = False  # whether g is a scratch array we may overwrite
                if maximize:
                    g = np.negative(g)
                    owned = True
                if weight_decay != 0:
                    g, owned = _chain("mul", x, weight_decay, [("add", g)]), True  # λθ + g
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        state["momentum_buffer"] = buf = Tensor._make(np.array(g))
                        b = buf._data
                    else:
                        b = buf._data
                        if dampening == 0:
                            _chain("mul", b, momentum, [("add", g)], out=b)  # b ← μ·b + g
                        else:
                            b *= momentum
                            b += np.multiply(g, 1 - dampening)
                    if nesterov:
                        g = _chain("mul", b, momentum, [("add", g if owned else p.grad._data)],
                                   out=g if owned else None)            # μ·b + g
                    else:
                        g = b
                _chain("mul", g, -lr, [("add", x)], out=x)              # θ ← −lr·g + θ
                _bump(p)
        return loss
