"""Argument checks shared by the ops: tensors, dims."""
from __future__ import annotations

from .._tensor_base import TensorBase, normalize_dim


def check_tensor(x, op: str, name: str = "input"):
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def normalize_dims(dim, ndim: int, op: str):
    """None -> all dims; int or sequence -> sorted tuple of non-negative dims (no repeats)."""
    if dim is None:
        return tuple(range(ndim))
    # validated even for a 0-d tensor (which accepts only -1 and 0, as torch), then dropped there
    if isinstance(dim, (list, tuple)):
        dims = tuple(normalize_dim(d, ndim, op) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return tuple(sorted(dims)) if ndim else ()
    dims = (normalize_dim(dim, ndim, op),)
    return dims if ndim else ()


def keepdim_shape(shape, dims):
    """``shape`` with the reduced ``dims`` set to 1 (what keepdim=True gives)."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))
