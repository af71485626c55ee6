"""Flatten parameters into one vector and back (for second-order methods, line searches,
weight averaging, or measuring ‖θ‖)."""
from __future__ import annotations

from ...ops import cat, reshape
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the flattened ``parameters`` into one 1-D tensor of length Σ numel(p)
    (differentiable, as torch's: gradients flow back to each parameter)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, got {type(p).__name__}")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D tensor ``vec`` into ``parameters`` (reshaped to each
    parameter's shape). As in torch, each parameter's data then shares ``vec``'s memory."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a chainrule Tensor, but got "
                        f"{type(vec).__name__}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of {total} elements (the "
                           f"parameters' total size), got shape {tuple(vec.shape)}")
    data = vec._data
    pointer = 0
    for p in params:
        n = p.numel()
        chunk = data[pointer:pointer + n].reshape(p._data.shape)
        if chunk.dtype != p._data.dtype:
            chunk = chunk.astype(p._data.dtype)
        p._data = chunk
        p._version_box[0] += 1
        pointer += n
