"""The affine map of a fully connected layer."""
from __future__ import annotations

from ...ops._util import check_tensor
from ...tensor import Tensor


def linear(input, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b — the deck's baseline y = f(x·W) before its activation f.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,),
    output (*, out_features).
    """
    check_tensor(input, "linear")
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(f"linear: input's last dim must equal in_features; input has shape "
                           f"{tuple(input.shape)}, weight has shape {tuple(weight.shape)}")
    out = input @ weight.T
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """y_k = x₁ᵀ A_k x₂ + b_k.  Shapes: input1 (*, in1), input2 (*, in2),
    weight (out, in1, in2), bias (out,), output (*, out)."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input batch shapes differ: {tuple(input1.shape)} vs "
                           f"{tuple(input2.shape)}")
    # (*, 1, 1, in1) @ (out, in1, in2) -> (*, out, 1, in2); then · x2
    left = input1.unsqueeze(-2).unsqueeze(-2) @ weight
    out = (left.squeeze(-2) * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias
