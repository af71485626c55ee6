"""The multilayer perceptron: f(x; θ) = f_L(f_{L−1}(…(f_1(x))…)), each f_l(h) = g(W_l h + b_l)."""
from __future__ import annotations

from .. import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
                "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU, "silu": nn.SiLU,
                "identity": nn.Identity, "softmax": lambda: nn.Softmax(dim=-1)}


def _activation(name, what):
    if isinstance(name, nn.Module):
        return name
    if name not in _ACTIVATIONS:
        raise ValueError(f"MLP: unknown {what} {name!r}; choose one of {sorted(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]()


class MLP(nn.Sequential):
    """A fully connected feed-forward network: Linear, activation, ..., Linear[, output activation].

    Args:
        in_features: input size.  hidden_sizes: list of hidden widths (may be empty).
        out_features: output size.  activation: 'relu', 'tanh', 'sigmoid', ... between layers.
        output_activation: optional activation after the last layer.
    Shapes: (*, in_features) -> (*, out_features). state_dict keys are those of the same
    ``torch.nn.Sequential`` ("0.weight", "0.bias", "2.weight", ...).
    """

    def __init__(self, in_features: int, hidden_sizes, out_features: int, activation="relu",
                 output_activation=None):
        sizes = [in_features, *hidden_sizes, out_features]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(_activation(activation, "activation"))
        if output_activation is not None:
            layers.append(_activation(output_activation, "output_activation"))
        super().__init__(*layers)
