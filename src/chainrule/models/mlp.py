"""The multilayer perceptron: f(x; θ) = f_L(f_{L−1}(…(f_1(x))…)), each f_l(h) = g(W_l h + b_l)."""
from __future__ import annotations

from collections import OrderedDict
from itertools import pairwise

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

    With sizes n_0 = in_features, n_1, …, n_{L−1} = hidden_sizes, n_L = out_features, layer l
    computes h_l = g(W_l h_{l−1} + b_l) with W_l of shape (n_l, n_{l−1}), g the activation for
    l < L, the output activation (or none) for l = L.

    Args:
        in_features: input size.  hidden_sizes: list of hidden widths (may be empty).
        out_features: output size.  activation: 'relu', 'tanh', 'sigmoid', ... between layers.
        output_activation: optional activation after the last layer.

    Shapes: (*, in_features) -> (*, out_features).

    The layers are named as in PyTorch tutorials (an ``nn.Sequential(OrderedDict(...))``):
    ``fc1``, ``act1``, ``fc2``, ``act2``, …, ``fcL`` and ``out_act``, so ``state_dict()`` keys
    are ``fc1.weight``, ``fc1.bias``, ``fc2.weight``, … ``fcL.bias`` (activations own no
    parameters) — the keys of ``torch.nn.Sequential(OrderedDict(...))`` with the same names.
    ``mlp[0]`` is still ``fc1``, and ``len``/iteration run over the layers in order.
    ``load_state_dict`` also accepts the numbered keys of the plain ``nn.Sequential`` that MLP
    was before (``0.weight``, ``0.bias``, ``2.weight``, …): index i becomes the i-th name.
    """

    def __init__(self, in_features: int, hidden_sizes, out_features: int, activation="relu",
                 output_activation=None):
        sizes = [in_features, *hidden_sizes, out_features]
        layers = OrderedDict()
        for i, (a, b) in enumerate(pairwise(sizes), start=1):
            layers[f"fc{i}"] = nn.Linear(a, b)
            if i < len(sizes) - 1:
                layers[f"act{i}"] = _activation(activation, "activation")
        if output_activation is not None:
            layers["out_act"] = _activation(output_activation, "output_activation")
        super().__init__(layers)
        # (a bound method, not a closure: the model still pickles and deep-copies)
        self._register_load_state_dict_pre_hook(self._rename_numbered_keys)

    def _rename_numbered_keys(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Checkpoints saved when MLP was a plain Sequential: ``prefix + "2.weight"`` ->
        ``prefix + "fc2.weight"`` (the name of child 2), unless the new key is already there."""
        names = list(self._modules)
        for key in [k for k in state_dict if k.startswith(prefix)]:
            index, dot, rest = key[len(prefix):].partition(".")
            if dot and index.isdigit() and int(index) < len(names):
                new = prefix + names[int(index)] + "." + rest
                if new not in state_dict:
                    state_dict[new] = state_dict.pop(key)
