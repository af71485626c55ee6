"""The deck's hand-wired network for XOR: one hidden layer of two step units.

    h₁ = H(x₁ + x₂ − 1.5)      an AND gate
    h₂ = H(x₁ + x₂ − 0.5)      an OR gate
    y₁ = H(h₂ − h₁ − 0.5)      OR and not AND = XOR

No training: the weights are exact. It shows why depth matters — the hidden layer maps XOR's
four points to a space where one line separates them.
"""
from __future__ import annotations

from ..creation import tensor
from ..nn import Heaviside, Linear, Sequential


def xor_network() -> Sequential:
    """The 2-2-1 step network above: ``xor_network()(X)`` gives [0, 1, 1, 0] for
    X = [[0, 0], [0, 1], [1, 0], [1, 1]]. Shapes: (N, 2) -> (N, 1)."""
    hidden, out = Linear(2, 2), Linear(2, 1)
    hidden.weight._data[...] = tensor([[1.0, 1.0], [1.0, 1.0]])._data   # rows: AND unit, OR unit
    hidden.bias._data[...] = tensor([-1.5, -0.5])._data
    out.weight._data[...] = tensor([[-1.0, 1.0]])._data                # −AND + OR
    out.bias._data[...] = tensor([-0.5])._data
    return Sequential(hidden, Heaviside(0.0), out, Heaviside(0.0))
