"""The affine map of a fully connected layer."""
from __future__ import annotations

import numpy as np

from ...ops._util import check_tensor
from ...ops.linalg import Addmm, _Mm
from ...ops.shape import Reshape, _UnsafeView, reshape, t
from ...tensor import Tensor

_Squeeze4 = Reshape.named("SqueezeBackward4")   # torch's name for the squeeze of a 1-d input's row


def linear(input, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b — the deck's baseline y = f(x·W) before its activation f.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,),
    output (*, out_features).

    Recorded as torch records it: ``addmm(b, x, Wᵀ)`` (``mm`` without a bias) on the rows of x
    flattened to 2-d, so the graph reads AddmmBackward0 ← TBackward0 ← the weight.
    """
    check_tensor(input, "linear")
    x, w = input._data, weight._data   # checks on the arrays: this runs for every layer call
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise RuntimeError(f"linear: input's last dim must equal in_features; input has shape "
                           f"{tuple(input.shape)}, weight has shape {tuple(weight.shape)}")
    odd_bias = bias is not None and bias._data.shape != (w.shape[0],)
    if odd_bias:   # torch adds any bias that broadcasts to the output without growing it
        out_shape = x.shape[:-1] + w.shape[:1]
        try:
            fits = np.broadcast_shapes(out_shape, bias._data.shape) == out_shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not broadcast to "
                               f"the output's shape {out_shape} (expected ({weight.shape[0]},))")
    if (w.ndim != 2 or x.dtype != w.dtype or odd_bias
            or (bias is not None and bias._data.dtype != w.dtype)):
        wt1 = t(weight)   # torch's t(): a 1-d weight stays a vector, a 3-d one is refused
        return (input @ wt1) if bias is None else input @ wt1 + bias  # promotes, checks
    rows = input if x.ndim == 2 else input.reshape(-1, x.shape[-1])
    wt = t(weight)
    out = _Mm.apply(rows, wt) if bias is None else Addmm.apply(bias, rows, wt)
    if x.ndim == 2:
        return out
    shape = x.shape[:-1] + (w.shape[0],)
    # torch's names for the reshape back: a view after addmm, else squeeze (1-d) or unsafe view
    return reshape(out, shape, _as=Reshape if bias is not None else
                   _Squeeze4 if x.ndim == 1 else _UnsafeView)


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
