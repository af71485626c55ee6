"""Functions old PyTorch code still calls: ``torch.range`` (end inclusive, deprecated),
``torch.set_default_tensor_type`` (deprecated since 2.1), ``torch.unravel_index``."""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from . import _dtype
from ._device import check_device
from .tensor import _LEGACY_TYPES, Tensor

__all__ = ["range", "set_default_tensor_type", "unravel_index"]


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """``start, start + step, …`` up to and including ``end`` — deprecated in torch (it warns),
    ``arange`` excludes ``end``. Values are start + i·step in float64, then cast; the dtype is
    the default dtype unless given (also for integer arguments, as torch)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
                  "which produces values in [start, end).", UserWarning, stacklevel=2)
    check_device(device, "range")
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    n = int(math.floor((end - start) / step)) + 1
    values = start + step * np.arange(n, dtype=np.float64)
    out = Tensor._make(values.astype(dt.np))
    return out.requires_grad_(True) if requires_grad else out


def set_default_tensor_type(t):
    """Set the default floating dtype from a legacy tensor type (``torch.DoubleTensor``) or
    its name ('torch.FloatTensor'); deprecated in torch for ``set_default_dtype``. CUDA types
    raise: chainrule runs on the CPU only."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if isinstance(t, str):
        parts = t.split(".")
        if "cuda" in parts:
            check_device("cuda", "set_default_tensor_type")
        if parts[-1] not in _LEGACY_TYPES:
            raise TypeError(f"invalid type: '{t}'")
        t = _LEGACY_TYPES[parts[-1]]
    dtype = getattr(t, "dtype", None)
    if dtype is None or not dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _dtype.set_default_dtype(dtype)


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in a tensor of ``shape`` (row-major), one int64
    tensor per dim, each shaped like ``indices``."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index: expected 'indices' to be a Tensor, got "
                        f"{type(indices).__name__}")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    # coordinate k = (index // stride_k) mod shape_k, floor division (torch's formula: a
    # negative index counts from the end, one past the end wraps)
    if not shape:
        return ()
    flat = indices._data.astype(np.int64)[..., None]
    strides = np.cumprod((shape[1:] + (1,))[::-1])[::-1].astype(np.int64)
    coords = np.floor_divide(flat, strides) % np.asarray(shape, np.int64)
    return tuple(Tensor._make(np.array(coords[..., k])) for k in builtins.range(len(shape)))
