"""Memory formats (``torch.memory_format``): the order in which a tensor's elements are laid
out. ``contiguous_format`` is row-major (NCHW for images); ``channels_last`` stores the
channels innermost (NHWC: strides (HWC, 1, WC, C)), ``channels_last_3d`` likewise for 5-d
tensors (NDHWC). The shape and the values do not change, only the strides: NumPy arrays carry
any strides, and elementwise ops keep the layout of their input as torch's do."""
from __future__ import annotations

import numpy as np

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format"]


class memory_format:
    """A memory layout; compare by identity (``chainrule.channels_last``)."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"chainrule.{self._name}"

    def __reduce__(self):
        return self._name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

_RANK = {channels_last: 4, channels_last_3d: 5}


def check_format(fmt, op):
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be chainrule.memory_format, not "
                        f"{type(fmt).__name__}")


def _channels_last_order(ndim):
    """The axes from outermost to innermost: N, the spatial dims, C."""
    return (0,) + tuple(range(2, ndim)) + (1,)


def in_format(arr: np.ndarray, fmt, op="is_contiguous") -> bool:
    """Whether ``arr`` is laid out densely in ``fmt`` (size-1 dims may have any stride, as
    torch's check)."""
    check_format(fmt, op)
    if fmt is contiguous_format or fmt is preserve_format:
        return bool(arr.flags.c_contiguous)
    if arr.ndim != _RANK[fmt]:
        return False
    expected = arr.itemsize
    for axis in reversed(_channels_last_order(arr.ndim)):
        if arr.shape[axis] != 1 and arr.strides[axis] != expected:
            return False
        expected *= arr.shape[axis]
    return True


def to_format(arr: np.ndarray, fmt, op="to") -> np.ndarray:
    """``arr``'s values laid out in ``fmt`` (itself when already so)."""
    check_format(fmt, op)
    if fmt is preserve_format:
        return arr
    if fmt is contiguous_format:
        return np.ascontiguousarray(arr)
    rank = _RANK[fmt]
    if arr.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")
    if in_format(arr, fmt):
        return arr
    order = _channels_last_order(rank)
    return np.ascontiguousarray(arr.transpose(order)).transpose(np.argsort(order))
