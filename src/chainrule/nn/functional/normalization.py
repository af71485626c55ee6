"""Normalization: batch norm (statistics over the batch) and layer norm (over features)."""
from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...ops._util import check_tensor
from ...tensor import Tensor


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β per channel (dim 1).

    Training: μ, σ² are the batch statistics over every dim but 1 (σ² biased), and the running
    estimates move as r ← (1 − momentum)·r + momentum·stat (running var uses the unbiased σ²).
    Evaluation: the running estimates are used.  Shapes: input (N, C), (N, C, L) or
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
        mean = input.mean(dims, keepdim=True)
        centred = input - mean
        var = (centred * centred).mean(dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                m = momentum
                running_mean._data *= (1 - m)
                running_mean._data += m * mean._data.reshape(c)
                running_mean._version_box[0] += 1
        if running_var is not None:
            with no_grad():
                unbiased = var._data.reshape(c) * (n / (n - 1))
                running_var._data *= (1 - momentum)
                running_var._data += momentum * unbiased.astype(running_var._data.dtype)
                running_var._version_box[0] += 1
        out = centred * (var + eps).rsqrt()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required in eval mode")
        scale = Tensor._make((1.0 / np.sqrt(running_var._data + eps)).astype(input._data.dtype))
        out = (input - running_mean.reshape(shape)) * scale.reshape(shape)
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
        from ...ops import where
        keep = Tensor._make(np.asarray(input._data != (padding_idx % v))[..., None])
        out = where(keep, out, out.detach())
    return out
