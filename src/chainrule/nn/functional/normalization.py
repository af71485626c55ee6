"""Normalization: batch norm (statistics over the batch) and layer norm (over features)."""
from __future__ import annotations

import numpy as np

from ..._graph import Node
from ...ops._util import check_tensor
from ...ops import where
from ...tensor import Tensor


def _normalized(x, dims, eps):
    """x̂ = (x − μ)/√(σ² + ε) with batch statistics, in differentiable ops; returns (x̂, 1/√(σ² + ε))."""
    centred = x - x.mean(dims, keepdim=True)
    inv_std = ((centred * centred).mean(dims, keepdim=True) + eps).rsqrt()
    return centred * inv_std, inv_std


class BatchNormTrain(Node):
    """y = x̂·γ + β, x̂ = (x − μ_B)/√(σ²_B + ε) with the batch's per-channel statistics, as one
    node; inputs (x) or (x, γ, β) (γ, β reshaped to broadcast over x).

    Fused because a training step spends a tenth of its time here: the forward is one pass
    x·s + t with per-channel s = γ/√(σ² + ε), t = β − μ·s, and only x is saved (x̂ is rebuilt
    in backward), so no normalized, scaled and shifted copies stay alive until backward.
    VJP (n values per channel, r = 1/√(σ² + ε), s = γ·r):
    β̄ = Σ ȳ,  γ̄ = r·Σ ȳ·(x − μ),  x̄ = ȳ·s + (x − μ)·(−s·r·γ̄/n) − s·β̄/n.
    JVP: ẏ = (ẋ − mean ẋ − x̂·mean(ẋ x̂))·r·γ + x̂·γ̇ + β̇.
    """

    params = ("dims", "eps", "mean", "var")

    def forward(self, x, w=None, b=None):
        # the batch statistics (mean, var) come in as parameters: the caller also needs them
        self.inv_std = (1.0 / np.sqrt(self.var + self.eps)).astype(x.dtype)
        if w is None:
            return (x - self.mean) * self.inv_std
        scale = w.reshape(self.mean.shape) * self.inv_std
        out = x * scale
        out += b.reshape(self.mean.shape) - self.mean * scale
        return out

    def _statistics(self, xp, x):
        """(μ, 1/√(σ² + ε)): the forward's own on arrays; rebuilt from x in differentiable ops
        when recording, so that the VJP below is differentiable in x as well."""
        if not xp.recording:
            return self.mean, self.inv_std
        mean = x.mean(self.dims, keepdim=True)
        centred = x - mean
        return mean, ((centred * centred).mean(self.dims, keepdim=True) + self.eps).rsqrt()

    def vjp(self, xp, g, x, w):
        mean, r = self._statistics(xp, x)
        n = xp.data(x).size // self.mean.size
        centred = x - mean
        gb = xp.sum(g, self.dims, True)
        gw = xp.sum(g * centred, self.dims, True) * r
        scale = r if w is None else xp.reshape(w, self.mean.shape) * r
        # three passes over per-channel coefficients instead of one temporary per term
        gx = xp.affine(g, scale, centred, -scale * r * gw / n, -scale * gb / n)
        if len(self.needs_input_grad) == 1:
            return gx
        c = self.mean.size
        return gx, xp.reshape(gw, (c,)), xp.reshape(gb, (c,))

    def jvp(self, xp, tangents, x, w):
        tx, tw, tb = (tuple(tangents) + (None, None))[:3]
        shape = self.mean.shape
        xh, inv_std = _normalized(x, self.dims, self.eps)
        terms = []
        if tx is not None:
            dxh = (tx - tx.mean(self.dims, keepdim=True) -
                   xh * (tx * xh).mean(self.dims, keepdim=True)) * inv_std
            terms.append(dxh if w is None else dxh * w.reshape(shape))
        if tw is not None:
            terms.append(xh * tw.reshape(shape))
        if tb is not None:
            terms.append(tb.reshape(shape).expand(tuple(x.shape)))
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β per channel (dim 1).

    Training: μ, σ² are the batch statistics over every dim but 1 (σ² biased), and the running
    estimates move as r ← (1 − momentum)·r + momentum·stat (running var uses the unbiased σ²).
    Evaluation: the running estimates are used, folded (as torch) into one scale and shift per
    channel: y = x·s + t, s = γ/√(r_σ² + ε), t = β − r_μ·s.  Shapes: input (N, C), (N, C, L) or
    (N, C, H, W); running stats, weight, bias (C,).
    """
    check_tensor(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},), got {tuple(t.shape)}")
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input size {tuple(input.shape)}")
        mean = input._data.mean(axis=dims, keepdims=True)
        var = input._data.var(axis=dims, keepdims=True)
        fused = (weight is not None and bias is not None and
                 weight.dtype is input.dtype and bias.dtype is input.dtype)
        affine = (input, weight, bias) if fused else (input,)
        out = BatchNormTrain.apply(*affine, dims=dims, eps=eps, mean=mean, var=var)
        if running_mean is not None:
            running_mean._data *= (1 - momentum)
            running_mean._data += momentum * mean.reshape(c)
            running_mean._version_box[0] += 1
        if running_var is not None:
            unbiased = var.reshape(c) * (n / (n - 1))
            running_var._data *= (1 - momentum)
            running_var._data += momentum * unbiased.astype(running_var._data.dtype)
            running_var._version_box[0] += 1
        if fused:
            return out
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required in eval mode")
        inv_std = Tensor._make((1.0 / np.sqrt(running_var._data + eps)).astype(input._data.dtype))
        scale = inv_std if weight is None else weight * inv_std
        shift = -running_mean * scale if bias is None else bias - running_mean * scale
        return input * scale.reshape(shape) + shift.reshape(shape)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """y = (x − μ)/√(σ² + ε)·γ + β with μ, σ² (biased) over the last len(normalized_shape) dims."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise ValueError(f"layer_norm: input's trailing shape {tuple(input.shape[input.ndim - k:])} "
                         f"!= normalized_shape {normalized_shape}")
    dims = tuple(range(input.ndim - k, input.ndim))
    mean = input.mean(dims, keepdim=True)
    centred = input - mean
    out = centred * ((centred * centred).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False) -> Tensor:
    """Rows of ``weight`` picked by integer ``input``: out[..., :] = weight[input[...], :].
    The row at ``padding_idx`` gets no gradient.  Shapes: input (*), weight (V, D), out (*, D)."""
    if input._data.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, got {input.dtype}")
    v = weight.shape[0]
    if input.numel() and (input._data.min() < -v or input._data.max() >= v):
        raise IndexError(f"embedding: index out of range for a table of {v} rows")
    out = weight[input._data]
    if padding_idx is not None:
        keep = Tensor._make(np.asarray(input._data != (padding_idx % v))[..., None])
        out = where(keep, out, out.detach())
    return out
