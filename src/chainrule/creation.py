"""Functions that create tensors: from data, filled with constants, ranges, and random draws."""
from __future__ import annotations

import math

import numpy as np

from . import _dtype
from ._dtype import as_dtype, from_numpy_dtype
from .random import _rng
from .tensor import Tensor, to_array as _to_array


def _finish(arr, requires_grad) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Copy ``data`` (list, scalar, NumPy array, Tensor) into a new leaf tensor.

    dtype is inferred like torch: Python floats -> float32, ints -> int64, bools -> bool;
    NumPy arrays and NumPy scalars keep their dtype.
    """
    return _finish(_to_array(data, dtype, "tensor"), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a Tensor or NumPy array when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) is data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype).np == data.dtype):
        from_numpy_dtype(data.dtype)
        return Tensor._make(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"{op}: size must be non-negative ints, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype):
    return (as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()).np


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros of shape ``size`` (float32 unless ``dtype`` is given)."""
    return _finish(np.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones of shape ``size``."""
    return _finish(np.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor of shape ``size`` (zero-filled here, never garbage)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (dtype inferred from it)."""
    _check_fill(fill_value, "full")
    dt = as_dtype(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    return _finish(np.full(_size((size,), "full"), fill_value, dt.np), requires_grad)


def _check_fill(value, op):
    if not isinstance(value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"{op}: fill_value must be a number, got {type(value).__name__}")


def _like(t, dtype, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return (t.shape, as_dtype(dtype).np if dtype is not None else t._data.dtype)


def zeros_like(input, *, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(input, dtype, "zeros_like")
    return _finish(np.zeros(shape, dt), requires_grad)


def ones_like(input, *, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(input, dtype, "ones_like")
    return _finish(np.ones(shape, dt), requires_grad)


def empty_like(input, *, dtype=None, requires_grad=False) -> Tensor:
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, requires_grad=False) -> Tensor:
    shape, dt = _like(input, dtype, "full_like")
    _check_fill(fill_value, "full_like")
    return _finish(np.full(shape, fill_value, dt), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) spaced by ``step``;
    int64 when all arguments are ints, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) / step < 0:
        raise ValueError(f"arange: upper bound and larger bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step})")
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
    dt = as_dtype(dtype) if dtype is not None else (_dtype.int64 if ints else _dtype.get_default_dtype())
    n = max(0, math.ceil((end - start) / step))
    arr = (start + step * np.arange(n, dtype=np.float64)) if not ints else np.arange(start, end, step)
    return _finish(arr.astype(dt.np), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False) -> Tensor:
    return _finish((base ** np.linspace(start, end, steps)).astype(_float_dtype(dtype)), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The n×m identity matrix (m defaults to n)."""
    n, m = _size((n, n if m is None else m), "eye")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    arr = _rng(generator).random(_size(size, "rand"), dtype=np.float64)
    return _finish(arr.astype(_float_dtype(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples N(0, 1)."""
    arr = _rng(generator).standard_normal(_size(size, "randn"))
    return _finish(arr.astype(_float_dtype(dtype)), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` also works)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size)")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    arr = _rng(generator).integers(low, high, size=_size((size,), "randint"))
    return Tensor._make(arr.astype(as_dtype(dtype).np if dtype is not None else np.int64))


def randperm(n, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    arr = _rng(generator).permutation(int(n))
    return Tensor._make(arr.astype(as_dtype(dtype).np if dtype is not None else np.int64))


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Samples N(mean, std²); mean and std may be tensors (broadcast) or floats with ``size``."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError("normal: std must be non-negative")
    shape = _size((size,), "normal") if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    arr = _rng(generator).normal(m, s, size=shape)
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    dt = as_dtype(dtype).np if dtype is not None else (like._data.dtype if like is not None
                                                       else _dtype.get_default_dtype().np)
    return _finish(arr.astype(dt), requires_grad)


def rand_like(input, *, dtype=None, generator=None, requires_grad=False) -> Tensor:
    _like(input, None, "rand_like")
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, generator=None, requires_grad=False) -> Tensor:
    _like(input, None, "randn_like")
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None) -> Tensor:
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """Draw 0/1 with probability ``input`` (or the scalar ``p``) elementwise."""
    prob = input._data if p is None else np.full(input.shape, p)
    arr = _rng(generator).random(prob.shape) < prob
    return Tensor._make(arr.astype(input._data.dtype))
