"""``default_collate``: merge a list of samples into one batch (``torch.utils.data.default_collate``)."""
from __future__ import annotations

import collections.abc

import numpy as np

from ...ops.shape import stack
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def default_collate(batch):
    """Stack a list of B samples into a batch, recursively:

    - Tensors / NumPy arrays of shape S → one Tensor of shape (B, *S) (dtype kept);
    - Python ints → int64 tensor (B,), floats → float64 tensor (B,) (as torch), bools → bool;
      NumPy scalars keep their dtype;
    - dicts → dict of collated values; tuples and lists → list of collated fields (torch
      returns lists for tuples too); namedtuples → the same namedtuple;
    - strings and bytes → the list unchanged.

    Example: ``default_collate([(x0, 0), (x1, 1)])`` → ``[stack([x0, x1]), tensor([0, 1])]``.
    """
    if not isinstance(batch, (list, tuple)) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got "
                        f"{type(batch).__name__}" + (" of length 0" if hasattr(batch, "__len__")
                                                     else ""))
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {tuple(b.shape) for b in batch}
        if len(shapes) != 1:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"got shapes {sorted(shapes)}")
        if len({b._data.dtype for b in batch}) > 1 or any(b.requires_grad for b in batch):
            return stack(batch)   # torch.stack's promotion (float32 with int64 is float32), graph
        return Tensor._make(np.stack([b._data for b in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                            f"dicts or lists; found numpy array of dtype {elem.dtype}")
        shapes = {b.shape for b in batch}
        if len(shapes) != 1:
            raise RuntimeError(f"default_collate: stack expects each array to be equal size, "
                               f"got shapes {sorted(shapes)}")
        if len({b.dtype for b in batch}) > 1:   # torch's promotion, not NumPy's
            return stack([Tensor._make(np.asarray(b)) for b in batch])
        return Tensor._make(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind in "biuf":
        return Tensor._make(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem).__name__}")


def default_convert(data):
    """Convert one sample without batching it (what a DataLoader with ``batch_size=None``
    applies; ``torch.utils.data.default_convert``): NumPy arrays of numbers and NumPy scalars
    become Tensors sharing their memory, recursively inside dicts, tuples, namedtuples and
    lists; everything else (Tensors, Python numbers, strings) is returned unchanged."""
    if isinstance(data, (np.ndarray, np.generic)):
        return Tensor._make(np.asarray(data)) if data.dtype.kind in "biuf" else data
    if isinstance(data, collections.abc.Mapping):
        out = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):   # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    if isinstance(data, tuple):
        return tuple(default_convert(d) for d in data)
    return data
