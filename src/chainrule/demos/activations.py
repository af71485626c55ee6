"""Each activation of the deck and its derivative, with the derivative taken by chainrule's
autograd (cards "Activation functions", "Heaviside", "Sigmoid and its derivative", "Tanh",
"ReLU and its derivative", "Leaky ReLU", "requirement to train an MLP by gradient descent").

  Heaviside   H(z) = I(z ≥ 0)                 H'(z) = 0 almost everywhere: no gradient to follow
  sigmoid     σ(z) = 1 / (1 + e^{−z})         σ'(z) = σ(z)(1 − σ(z)) ≤ 1/4
  tanh        (e^z − e^{−z}) / (e^z + e^{−z})  tanh'(z) = 1 − tanh²(z) ≤ 1
  ReLU        max(0, z)                        ReLU'(z) = I(z > 0)
  leaky ReLU  max(εz, z), ε = 0.01             ε for z < 0, 1 for z > 0

Measured on z ∈ [−10, 10]: the largest derivative and the saturated fraction, where
|f'(z)| < 0.005, i.e. where gradient descent barely moves the weights.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

from ._common import report, subplots


def _heaviside(z):
    return F.heaviside(z, cr.tensor(1.0))           # H(0) = 1: the seed's I(z ≥ 0)


ACTIVATIONS = {
    "Heaviside": _heaviside,
    "sigmoid": cr.sigmoid,
    "tanh": cr.tanh,
    "ReLU": F.relu,
    "leaky ReLU": lambda z: F.leaky_relu(z, negative_slope=0.01),
}


def value_and_derivative(fn, z: np.ndarray):
    """f(z) and f'(z) elementwise, the derivative by backpropagation of Σ f(z)."""
    t = cr.tensor(z, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    grad = t.grad.numpy() if t.grad is not None else np.zeros_like(z)
    return y.detach().numpy(), grad


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    z = np.linspace(-10, 10, 2001 if fast else 20001, dtype=np.float32)
    values, grads = {}, {}
    for name, fn in ACTIVATIONS.items():
        values[name], grads[name] = value_and_derivative(fn, z)
    max_grad = {n: float(np.max(np.abs(g))) for n, g in grads.items()}
    saturated = {n: float(np.mean(np.abs(g) < 5e-3)) for n, g in grads.items()}
    s = values["sigmoid"]
    sigmoid_identity_err = float(np.max(np.abs(grads["sigmoid"] - s * (1 - s))))
    relu_is_step = bool(np.array_equal(grads["ReLU"][z != 0], (z[z != 0] > 0).astype(np.float32)))

    fig, axes = subplots(2, 5, figsize=(14, 5), sharex=True)
    for j, name in enumerate(ACTIVATIONS):
        axes[0, j].plot(z, values[name])
        axes[0, j].set_title(name)
        axes[1, j].plot(z, grads[name], color="C1")
        axes[1, j].fill_between(z, 0, 1, where=np.abs(grads[name]) < 5e-3, color="red",
                                alpha=0.12, transform=axes[1, j].get_xaxis_transform())
        axes[1, j].set_xlabel("z")
    axes[0, 0].set_ylabel("f(z)")
    axes[1, 0].set_ylabel("f'(z) by autograd\n(red: |f'| < 0.005)")

    finding = ("activations: on [-10, 10] the saturated share (|f'| < 0.005) is "
               + ", ".join(f"{n} {saturated[n] * 100:.0f}%" for n in ACTIVATIONS)
               + f"; max sigmoid' = {max_grad['sigmoid']:.3f} (= 1/4); Heaviside's gradient is "
               + ("0 everywhere" if max_grad["Heaviside"] == 0 else f"{max_grad['Heaviside']}"))
    return report({"max_derivative": max_grad, "saturated_fraction": saturated,
                   "sigmoid_identity_max_error": sigmoid_identity_err,
                   "relu_derivative_is_step": relu_is_step}, finding, fig, out_dir, "activations")
