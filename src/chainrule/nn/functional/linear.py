"""The affine map of a fully connected layer."""
from __future__ import annotations

import numpy as np

from ..._graph import Node
from ...backends.cpu import for_product
from ...ops._util import check_tensor
from ...tensor import Tensor


class Linear(Node):
    """y = x Wᵀ + b as one node (one GEMM, bias added in place).

    VJP: x̄ = ȳ W,  W̄ = ȳᵀ x (batch dims folded into one GEMM),  b̄ = Σ_batch ȳ.
    JVP: ẏ = ẋ Wᵀ + x Ẇᵀ + ḃ.
    """

    def forward(self, x, w, b=None):
        with for_product(x.size * w.shape[0]):
            out = np.matmul(x, w.T)
        if b is not None:
            out += b
        return out

    def vjp(self, xp, g, x, w):
        need = self.needs_input_grad
        g2 = xp.reshape(g, (-1, g.shape[-1]))
        with for_product(xp.data(x).size * w.shape[0]):
            gx = xp.matmul(g, w) if need[0] else None
            gw = xp.matmul(xp.mT(g2), xp.reshape(x, (-1, x.shape[-1]))) if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (xp.sum(g2, 0) if need[2] else None)

    def jvp(self, xp, tangents, x, w):
        tx, tw = tangents[0], tangents[1]
        out = None if tx is None else tx @ w.mT
        if tw is not None:
            out = x @ tw.mT if out is None else out + x @ tw.mT
        if len(tangents) == 3 and tangents[2] is not None:
            tb = tangents[2]
            out = tb.expand(tuple(self._out.shape)) if out is None else out + tb
        return out


def linear(input, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b — the deck's baseline y = f(x·W) before its activation f.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,),
    output (*, out_features).
    """
    check_tensor(input, "linear")
    x, w = input._data, weight._data   # checks on the arrays: this runs for every layer call
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise RuntimeError(f"linear: input's last dim must equal in_features; input has shape "
                           f"{tuple(input.shape)}, weight has shape {tuple(weight.shape)}")
    if bias is not None and bias._data.shape != (w.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    if w.ndim != 2 or x.dtype != w.dtype or (bias is not None and bias._data.dtype != w.dtype):
        return (input @ weight.T) if bias is None else input @ weight.T + bias  # promotes, checks
    return Linear.apply(input, weight) if bias is None else Linear.apply(input, weight, bias)


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
