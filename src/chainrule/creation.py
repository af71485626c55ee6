"""Functions that create tensors: from data, filled with constants, ranges, and random draws."""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import _dtype, _memory_format, _sampling
from ._argcompat import variadic, with_creation_out
from ._device import check_device, check_factory
from ._dtype import as_dtype, from_numpy_dtype
from ._mathfun import linspace_like_torch
from ._modes import TRACE
from ._rng import stream as _stream
from .ops.special import _bessel
from .tensor import Tensor, shape_arg as _size, strided_zeros, to_array as _to_array
from ._argcompat import torch_type_name


def _finish(arr, requires_grad) -> Tensor:
    t = Tensor._make(arr)
    if TRACE.recorder is not None:   # made from Python data alone: a constant of a capture
        TRACE.recorder.constant(t)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False,
           pin_memory=False) -> Tensor:
    """Copy ``data`` (list, scalar, NumPy array, Tensor) into a new leaf tensor.

    dtype is inferred like torch: Python floats -> float32, ints -> int64, bools -> bool;
    NumPy arrays and NumPy scalars keep their dtype.
    """
    check_factory("tensor", device, None, pin_memory)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than chainrule.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    return _finish(_to_array(data, dtype, "tensor"), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a Tensor or NumPy array when no conversion is needed."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) is data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype).np == data.dtype):
        from_numpy_dtype(data.dtype)
        return Tensor._make(data)
    return _finish(_to_array(data, dtype, "as_tensor"), False)   # no copy-construct warning


_BUFFERS = (bytes, bytearray, memoryview)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None) -> Tensor:
    """``obj`` as a tensor: a Tensor, a NumPy array or scalar, an object with Python's buffer
    protocol (bytes, bytearray, memoryview: its bytes read as ``dtype``, default the default
    float dtype), a number, or a (nested) sequence of them.

    A Tensor or NumPy array is shared, not copied, when ``dtype`` leaves its dtype as it is
    and ``copy`` is not True (writes to one show in the other); ``copy=True`` always copies,
    ``copy=False`` refuses (ValueError) what it cannot share. ``requires_grad`` None: a
    tensor's own flag (with torch's warning when it is set); True/False: set on the result,
    which for a shared leaf tensor is the tensor itself (as torch). A copy of a tensor keeps
    its history (``clone``/``to`` are differentiable)."""
    check_device(device, "asarray")
    dt = as_dtype(dtype) if dtype is not None else None
    if isinstance(obj, Tensor):
        same = dt is None or dt is obj.dtype
        if copy is False and not same:
            raise ValueError(f"can't alias tensor with dtype '{torch_type_name(obj.dtype)}' into "
                             f"dtype '{torch_type_name(dt)}'.")
        out = (obj.clone() if same else obj.to(dt)) if copy else (obj if same else obj.to(dt))
        if requires_grad is None:
            if obj.requires_grad:
                warnings.warn("asarray: unspecified requires_grad now defaults to "
                              "obj.requires_grad instead of False. Pass requires_grad=False "
                              "explicitly to get the old behavior and silence this warning.",
                              UserWarning, stacklevel=2)
            return out
        if not requires_grad and out.grad_fn is not None:
            return out.detach()
        return (out.requires_grad_(bool(requires_grad)) if out.requires_grad != requires_grad
                else out)
    if isinstance(obj, np.ndarray):
        same = dt is None or dt.np == obj.dtype
        if copy is False and not same:
            raise ValueError(f"can't alias tensor with dtype "
                             f"'{torch_type_name(from_numpy_dtype(obj.dtype))}' into dtype "
                             f"'{torch_type_name(dt)}'.")
        out = (Tensor._make(obj) if from_numpy_dtype(obj.dtype) and same and not copy
               else _finish(_to_array(obj, dt, "asarray"), False))
    elif isinstance(obj, _BUFFERS):
        arr = np.frombuffer(obj, (dt or _dtype.get_default_dtype()).np)
        out = Tensor._make(arr.copy() if copy or not arr.flags.writeable else arr)
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        out = _finish(_to_array(obj, dt, "asarray"), False)
    return out.requires_grad_(True) if requires_grad else out


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialised tensor (here zeros, never garbage) of shape ``size`` whose element
    ``i`` lies at offset Σ iₖ·strideₖ of its memory (strides in elements, ≥ 0; a stride 0
    repeats one element along its dim, as torch's "overlapped" tensors). Default float dtype
    unless ``dtype`` is given. Shapes: size (d₀, …, dₙ₋₁), stride of the same length."""
    check_factory("empty_strided", device, layout, pin_memory)
    arr = strided_zeros(size, stride, _float_dtype(dtype), "empty_strided")
    return _finish(arr, requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False) -> Tensor:
    """An uninitialised (here zero) dense tensor of shape ``size`` whose dims lie in memory in
    the order ``physical_layout`` (outermost first; NHWC is (0, 2, 3, 1)):
    ``t.stride(physical_layout[i])`` is the i-th contiguous stride of the permuted sizes."""
    check_factory("empty_permuted", device, layout, pin_memory)
    shape = _size((size,), "empty_permuted")
    order = [int(d) for d in physical_layout]
    if len(order) != len(shape):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(shape)} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    for i, d in enumerate(order):
        if not 0 <= d < len(shape):
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and "
                               f"{len(shape) - 1}, but got {d} at index {i}).  NB: negative dims "
                               f"not currently supported; file an issue if you want it.")
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    stride, step = [0] * len(shape), 1
    for d in reversed(order):
        stride[d] = step
        step *= max(shape[d], 1)
    return empty_strided(shape, stride, dtype=dtype, layout=layout, device=device,
                         requires_grad=requires_grad, pin_memory=pin_memory)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def _float_dtype(dtype):
    return (as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()).np


@with_creation_out
@variadic("size")
def zeros(*size, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    """A tensor of zeros of shape ``size`` (float32 unless ``dtype`` is given)."""
    check_factory("zeros", device, layout, pin_memory)
    return _finish(np.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad)


@with_creation_out
@variadic("size")
def ones(*size, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """A tensor of ones of shape ``size``."""
    check_factory("ones", device, layout, pin_memory)
    return _finish(np.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad)


@with_creation_out
@variadic("size")
def empty(*size, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=_memory_format.contiguous_format) -> Tensor:
    """An uninitialised tensor of shape ``size`` (zero-filled here, never garbage), laid out in
    ``memory_format`` (``chainrule.channels_last`` for a 4-D size: (N, H, W, C) in memory)."""
    check_factory("empty", device, layout, pin_memory)
    out = zeros(*size, dtype=dtype, requires_grad=requires_grad)
    if memory_format is _memory_format.contiguous_format:
        return out
    if memory_format is _memory_format.preserve_format:
        raise RuntimeError("empty: preserve memory format is unsupported by the empty operator")
    out._data = _memory_format.laid_out(out._data, memory_format, "empty")
    return out


@with_creation_out
def full(size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (dtype inferred from it)."""
    check_factory("full", device, layout, pin_memory)
    if isinstance(fill_value, Tensor) and fill_value.ndim == 0:   # a 0-d tensor is a Scalar
        fill_value = fill_value.item()
    _check_fill(fill_value, "full")
    dt = as_dtype(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    value = _to_array(fill_value, dt, "full")
    return _finish(np.full(_size((size,), "full"), value, dt.np), requires_grad)


def _check_fill(value, op):
    if not isinstance(value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"{op}: fill_value must be a number, got {type(value).__name__}")


def _like(t, dtype, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return (t.shape, as_dtype(dtype).np if dtype is not None else t._data.dtype)


def _laid_out_like(input, dt, memory_format, op):
    """An uninitialised array of ``input``'s shape and dtype ``dt`` in ``memory_format``
    (``preserve_format``: channels-last when ``input`` is, else C order)."""
    fmt = _memory_format._checked(memory_format, input.ndim, op)
    if fmt is _memory_format.preserve_format:
        fmt = _memory_format.suggested(input._data)
    return _memory_format.empty(input.shape, dt, fmt)


def _filled_like(input, value, dtype, requires_grad, memory_format, op):
    _, dt = _like(input, dtype, op)
    out = _laid_out_like(input, dt, memory_format, op)
    out[...] = value
    return _finish(out, requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               pin_memory=False,
               memory_format=_memory_format.preserve_format) -> Tensor:
    """Zeros of ``input``'s shape (and dtype unless given), laid out in ``memory_format``."""
    check_factory("zeros_like", device, layout, pin_memory)
    return _filled_like(input, 0, dtype, requires_grad, memory_format, "zeros_like")


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
              memory_format=_memory_format.preserve_format) -> Tensor:
    """Ones of ``input``'s shape (and dtype unless given), laid out in ``memory_format``."""
    check_factory("ones_like", device, layout, pin_memory)
    return _filled_like(input, 1, dtype, requires_grad, memory_format, "ones_like")


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               pin_memory=False,
               memory_format=_memory_format.preserve_format) -> Tensor:
    """An "uninitialised" tensor like ``input`` (zero-filled here, never garbage)."""
    check_factory("empty_like", device, layout, pin_memory)
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad, memory_format=memory_format)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              pin_memory=False,
              memory_format=_memory_format.preserve_format) -> Tensor:
    """``fill_value`` in ``input``'s shape (and dtype unless given), laid out in
    ``memory_format``."""
    check_factory("full_like", device, layout, pin_memory)
    _check_fill(fill_value, "full_like")
    _, dt = _like(input, dtype, "full_like")
    return _filled_like(input, _to_array(fill_value, dt, "full_like"), dtype, requires_grad,
                        memory_format, "full_like")


@with_creation_out
def arange(start=0, end=None, step=1, *, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) spaced by ``step``;
    int64 when all arguments are ints (one-element integer tensors count as ints), else float32.
    ``arange(n)`` and ``arange(end=n)`` start at 0."""
    check_factory("arange", device, layout, pin_memory)
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if (end - start) / step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                         f"(start={start}, end={end}, step={step})")
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
    dt = as_dtype(dtype) if dtype is not None else (_dtype.int64 if ints else _dtype.get_default_dtype())
    _refuse_bool(dt.np, "arange")
    # the length: exact integer arithmetic for ints (no float rounding of huge bounds)
    n = max(0, -(-(end - start) // step) if ints else math.ceil((end - start) / step))
    if not ints and dt.np.kind in "iu":
        # torch computes an integer range from start and step truncated first (arange(0, 5,
        # 2.5, dtype=int64) is [0, 2, 4]; a step truncated to 0 is refused); its length from
        # the truncated ends too for int64, from the given values for the narrower dtypes
        start, end, step, given = int(start), int(end), int(step), step
        if step == 0:
            raise ValueError(f"arange: step must be nonzero (step {given} truncates to 0 for "
                             f"{dt})")
        if dt is _dtype.int64:
            n = max(0, -(-(end - start) // step))
        ints = True
    arr = start + step * np.arange(n, dtype=np.float64 if not ints else np.int64)
    return _finish(arr.astype(dt.np), requires_grad)


@with_creation_out
def linspace(start, end, steps, *, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    check_factory("linspace", device, layout, pin_memory)
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    dt = np.dtype(_float_dtype(dtype))
    _refuse_bool(dt, "linspace")
    if dt in (np.float32, np.float64) and steps > 1:
        return _finish(linspace_like_torch(start, end, steps, dt.type), requires_grad)
    return _finish(_integral_points(start, end, steps, dt).astype(dt), requires_grad)


def _refuse_bool(dt, op):
    """torch has no bool kernel for a range (a NotImplementedError, a RuntimeError subclass)."""
    if np.dtype(dt) == np.bool_:
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'Bool\'')


def _integral_points(start, end, steps, dt):
    """torch's points for an integer (or float16) output, in float64: the ends converted to
    the integer dtype first, then start + step·i for the first half and end − step·(n−1−i) for
    the second (the caller's cast truncates toward zero)."""
    start, end = (float(v.item() if isinstance(v, Tensor) else v) for v in (start, end))
    if dt.kind in "biu":
        start, end = float(int(start)), float(int(end))
    if steps <= 1:
        return np.full(steps, start)
    step = (end - start) / (steps - 1)
    idx = np.arange(steps)
    return np.where(idx < steps // 2, start + step * idx, end - step * (steps - 1 - idx))


@with_creation_out
def logspace(start, end, steps, base=10.0, *, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    """``steps`` powers base^p, p evenly spaced from ``start`` to ``end`` inclusive (integer
    outputs: the ends truncated to integers first and each power truncated, as torch)."""
    check_factory("logspace", device, layout, pin_memory)
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    dt = np.dtype(_float_dtype(dtype))
    _refuse_bool(dt, "logspace")
    with np.errstate(invalid="ignore", over="ignore"):   # a negative base: nan, as torch
        values = float(base) ** _integral_points(start, end, steps, dt)
    return _finish(values.astype(dt), requires_grad)


@with_creation_out
def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False) -> Tensor:
    """The n×m identity matrix (m defaults to n)."""
    check_factory("eye", device, layout, pin_memory)
    n, m = _size((n, n if m is None else m), "eye")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def _triangle_indices(np_indices, op):
    def fn(row, col, offset=0, *, dtype=None, device=None, layout=None, requires_grad=False,
           pin_memory=False) -> Tensor:
        check_factory(op, device, layout, pin_memory)
        if row < 0 or col < 0:
            raise RuntimeError(f"{op}: row must be non-negative, got {row}" if row < 0 else
                               f"{op}: col must be non-negative, got {col}")
        dt = np.int64 if dtype is None else as_dtype(dtype).np
        if np.dtype(dt).kind not in "iu":
            raise RuntimeError(f'"{op}" not implemented for \'{as_dtype(dtype)}\'')
        rows, cols = np_indices(row, offset, col)
        return _finish(np.stack([rows, cols]).astype(dt).reshape(2, -1), requires_grad)
    fn.__name__ = fn.__qualname__ = op
    return fn


tril_indices = _triangle_indices(np.tril_indices, "tril_indices")
tril_indices.__doc__ = """The (row, col) indices of the lower triangle of a row×col matrix (the
diagonal ``offset`` and below), as a (2, N) int64 tensor in row-major order."""
triu_indices = _triangle_indices(np.triu_indices, "triu_indices")
triu_indices.__doc__ = """The (row, col) indices of the upper triangle of a row×col matrix (the
diagonal ``offset`` and above), as a (2, N) int64 tensor in row-major order."""


def _float_like(shape, dtype, op):
    dt = np.dtype(_float_dtype(dtype))
    if dt.kind != "f":   # torch's type: no kernel for the dtype
        raise NotImplementedError(f"{op}: expected a floating-point dtype, got {as_dtype(dtype)}")
    return np.empty(shape, dt)


@with_creation_out
@variadic("size")
def rand(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """Uniform samples on [0, 1): torch's numbers for the same seed (float32: 24 random bits,
    float64: 53)."""
    check_factory("rand", device, layout, pin_memory)
    like = _float_like(_size(size, "rand"), dtype, "rand")
    return _finish(_sampling.uniform(_stream(generator), like), requires_grad)


@with_creation_out
@variadic("size")
def randn(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    """Standard normal samples N(0, 1) by torch's Box–Muller (its numbers for the same seed)."""
    check_factory("randn", device, layout, pin_memory)
    like = _float_like(_size(size, "randn"), dtype, "randn")
    return _finish(_sampling.normal(_stream(generator), like), requires_grad)


@with_creation_out
def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None, device=None,
            requires_grad=False, pin_memory=False) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` also works): draw mod range +
    low, as torch (int64 unless ``dtype`` is given)."""
    check_factory("randint", device, layout, pin_memory)
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low, high, size) or randint(high, size)")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    dt = as_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    if dt.kind in "iu":   # bounds the dtype cannot hold would wrap around silently
        info = np.iinfo(dt)
        if low < info.min:
            raise RuntimeError(f"randint: from is out of bounds for {as_dtype(dt)} (low={low}, "
                               f"the dtype holds [{info.min}, {info.max}])")
        if high - 1 > info.max:
            raise RuntimeError(f"randint: to - 1 is out of bounds for {as_dtype(dt)} (high={high}, "
                               f"the dtype holds [{info.min}, {info.max}])")
    like = np.empty(_size((size,), "randint"), dt)
    out = _sampling.random_from_to(_stream(generator), like, int(low), int(high))
    return _finish(out, requires_grad)


@with_creation_out
def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False) -> Tensor:
    """A random permutation of 0..n-1 (torch's Fisher–Yates: the same permutation for the same
    seed)."""
    check_factory("randperm", device, layout, pin_memory)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"randperm: n must be an int, got {type(n).__name__}")
    arr = _sampling.randperm(_stream(generator), int(n))
    return _finish(arr.astype(as_dtype(dtype).np if dtype is not None else np.int64, copy=False),
                   requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Samples N(mean, std²). With float mean and std and a ``size``: ``empty(size).normal_(mean,
    std)``; with tensors (broadcast): ``z = N(0, 1)`` of the broadcast shape, then ``z·std + mean``
    as two rounded operations in the result dtype, as torch."""
    check_device(device, "normal")
    m_t, s_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not m_t and not s_t:
        if size is None:
            raise TypeError("normal: with float mean and std, size is required")
        like = _float_like(_size((size,), "normal"), dtype, "normal")
        return _finish(_sampling.normal(_stream(generator), like, mean, std), requires_grad)
    m = mean._data if m_t else mean
    s = std._data if s_t else std
    if not np.all(np.asarray(s) >= 0):   # a negative or nan std: torch's RuntimeError
        raise RuntimeError("normal: expects all elements of std >= 0.0 (got a negative or nan "
                           "std)")
    like_t = mean if m_t else std
    dt = as_dtype(dtype).np if dtype is not None else like_t._data.dtype
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    z = _sampling.normal(_stream(generator), np.empty(shape, dt))
    out = z * np.asarray(s, dt) + np.asarray(m, dt)   # out.mul_(std).add_(mean)
    return _finish(out.astype(dt, copy=False), requires_grad)


def _sampling_layout(input, dt, memory_format, op):
    """The array a ``*_like`` draw fills, in memory order: ``input``'s own layout when it is a
    dense permutation (torch's empty_like keeps it), else C order; or ``memory_format``'s."""
    if memory_format is _memory_format.preserve_format:
        return (_sampling.dense_like(input._data) if dt == input._data.dtype
                else np.empty(input.shape, dt))
    return _laid_out_like(input, dt, memory_format, op)


def rand_like(input, *, dtype=None, layout=None, device=None, generator=None, requires_grad=False,
              pin_memory=False,
              memory_format=_memory_format.preserve_format) -> Tensor:
    """``rand`` of ``input``'s shape; drawn in the order of ``input``'s memory layout when it is
    a dense permutation (torch's empty_like keeps that layout)."""
    check_factory("rand_like", device, layout, pin_memory)
    _, dt = _like(input, dtype, "rand_like")
    like = _sampling_layout(input, dt, memory_format, "rand_like")
    return _finish(_sampling.uniform(_stream(generator), like), requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, generator=None, requires_grad=False,
               pin_memory=False,
               memory_format=_memory_format.preserve_format) -> Tensor:
    check_factory("randn_like", device, layout, pin_memory)
    _, dt = _like(input, dtype, "randn_like")
    like = _sampling_layout(input, dt, memory_format, "randn_like")
    return _finish(_sampling.normal(_stream(generator), like), requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, generator=None,
                 requires_grad=False, pin_memory=False,
                 memory_format=_memory_format.preserve_format) -> Tensor:
    check_factory("randint_like", device, layout, pin_memory)
    if high is None:
        low, high = 0, low
    _, dt = _like(input, dtype, "randint_like")
    like = _sampling_layout(input, dt, memory_format, "randint_like")
    if high <= low:
        raise RuntimeError(f"randint_like: expected low < high, got low={low}, high={high}")
    return _finish(_sampling.random_from_to(_stream(generator), like, int(low), int(high)),
                   requires_grad)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 draws with probability ``input`` elementwise (or the scalar ``p``), in ``input``'s
    dtype: u < p with torch's uniforms (53 bits for float64 probabilities, 24 otherwise)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: expected a Tensor, got {type(input).__name__}")
    return input.bernoulli(p, generator=generator)


def binomial(count, prob, generator=None) -> Tensor:
    """Binomial(count, prob) draws elementwise (``count`` and ``prob`` broadcast, both floating,
    one dtype): torch's sampler (Hörmann's BTRS where the smaller tail's mean is ≥ 10, a sum
    of geometric waiting times otherwise) on torch's stream. The result carries no gradient."""
    for name, t in (("count", count), ("prob", prob)):
        if not isinstance(t, Tensor):
            raise TypeError(f"binomial: expected {name} to be a Tensor, got {type(t).__name__}")
    if count.dtype != prob.dtype:
        raise RuntimeError(f"binomial: expected count and prob to have the same dtype, got "
                           f"{count.dtype} and {prob.dtype}")
    out = _sampling.binomial(_stream(generator), count.detach().numpy(), prob.detach().numpy())
    return Tensor._make(out)


def poisson(input, generator=None) -> Tensor:
    """Poisson(λ) counts with the rates ``input`` elementwise, in ``input``'s (floating) dtype:
    torch's sampler (Hörmann's transformed rejection for λ ≥ 10, a product of uniforms below)
    on torch's stream, so a seeded call draws torch's counts. The result carries no gradient."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson: expected a Tensor, got {type(input).__name__}")
    return Tensor._make(_sampling.poisson(_stream(generator), input.detach().numpy()))


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Indices sampled from the rows of ``input`` (weights, not necessarily normalised).

    Shapes: (C,) -> (num_samples,); (N, C) -> (N, num_samples), int64. Without replacement (or
    for one sample) torch's exponential race: the top ``num_samples`` of wᵢ / Eᵢ, Eᵢ ~ Exp(1);
    with replacement, a binary search of u ~ U[0, 1) in the normalised cumulative weights.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: expected a Tensor, got {type(input).__name__}")
    return input.multinomial(num_samples, replacement, generator=generator)


# ------------------------------------------------------------------- window functions
# Each computed as torch's kernel does, operation for operation in the output dtype (float32
# scalars against a float32 range), so the values agree to the last bit or two (NumPy's and
# torch's cos may differ by an ulp). ``periodic``: the window of length N + 1 without its last
# point (for spectral analysis: the window repeats with period N); length 0 gives an empty
# tensor and length 1 the single value 1 whatever the window.
def _window(name, window_length, periodic, dtype, device, requires_grad):
    """The checks every window makes (torch's window_function_checks) and its sample points:
    (``n``, the float range 0..M−1 in the output dtype, M = N (+1 if periodic); or a finished
    tensor for N ≤ 1; the dtype)."""
    check_device(device, name)
    if not isinstance(window_length, (int, np.integer)) or isinstance(window_length, bool):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    dt = as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if dt.np.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if window_length <= 1:
        return _finish(np.ones(window_length, dt.np), requires_grad), dt
    m = window_length + 1 if periodic else window_length
    return np.arange(m, dtype=dt.np), dt


def _window_done(w, window_length, dt, requires_grad):
    return _finish(np.ascontiguousarray(w[:window_length]).astype(dt.np, copy=False), requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """The generalised Hamming window of length N (1-D, shape (N,)):

    .. math:: w[n] = \\alpha - \\beta \\cos\\left(\\frac{2\\pi n}{M - 1}\\right),\\quad
              0 \\le n < N

    with M = N + 1 if ``periodic`` (the last point dropped) else N. Default dtype unless
    ``dtype`` (a floating dtype) is given; N = 0 gives an empty tensor, N = 1 gives [1]."""
    check_factory("hamming_window", device, layout, pin_memory)
    return _hamming("hamming_window", window_length, periodic, alpha, beta, dtype, device,
                    requires_grad)


def _hamming(name, window_length, periodic, alpha, beta, dtype, device, requires_grad):
    n, dt = _window(name, window_length, periodic, dtype, device, requires_grad)
    if isinstance(n, Tensor):
        return n
    t = dt.np.type
    w = np.cos(n * t(2 * math.pi / (n.size - 1))) * t(-beta) + t(alpha)
    return _window_done(w, window_length, dt, requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False, pin_memory=False) -> Tensor:
    """The Hann window, w[n] = ½ − ½ cos(2πn/(M − 1)) = sin²(πn/(M − 1)), shape (N,):
    :func:`hamming_window` with α = β = ½ (M = N + 1 if ``periodic``, else N)."""
    check_factory("hann_window", device, layout, pin_memory)
    return _hamming("hann_window", window_length, periodic, 0.5, 0.5, dtype, device,
                    requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False, pin_memory=False) -> Tensor:
    """The Blackman window, shape (N,):

    .. math:: w[n] = 0.42 - 0.5 \\cos\\left(\\frac{2\\pi n}{M - 1}\\right)
              + 0.08 \\cos\\left(\\frac{4\\pi n}{M - 1}\\right)

    (M = N + 1 if ``periodic``, else N; N = 0: empty, N = 1: [1])."""
    check_factory("blackman_window", device, layout, pin_memory)
    n, dt = _window("blackman_window", window_length, periodic, dtype, device, requires_grad)
    if isinstance(n, Tensor):
        return n
    t = dt.np.type
    x = n * t(math.pi / (n.size - 1))
    w = np.cos(x * t(4)) * t(0.08) - np.cos(x * t(2)) * t(0.5) + t(0.42)
    return _window_done(w, window_length, dt, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False, pin_memory=False) -> Tensor:
    """The Bartlett (triangular) window, shape (N,):
    w[n] = 2n/(M − 1) for n ≤ (M − 1)/2, else 2 − 2n/(M − 1)
    (M = N + 1 if ``periodic``, else N; N = 0: empty, N = 1: [1])."""
    check_factory("bartlett_window", device, layout, pin_memory)
    n, dt = _window("bartlett_window", window_length, periodic, dtype, device, requires_grad)
    if isinstance(n, Tensor):
        return n
    t = dt.np.type
    w = n * t(2 / (n.size - 1))
    half = ((n.size - 1) >> 1) + 1
    w[half:] = t(2) - w[half:]
    return _window_done(w, window_length, dt, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """The Kaiser window, shape (N,):

    .. math:: w[n] = \\frac{I_0\\left(\\beta \\sqrt{\\left|1 - \\left(\\frac{n - \\alpha}
              {\\alpha}\\right)^2\\right|}\\right)}{I_0(\\beta)},\\quad \\alpha = \\frac{M - 1}{2}

    with :math:`I_0` the modified Bessel function (:func:`chainrule.i0`), M = N + 1 if
    ``periodic`` else N; N = 0: empty, N = 1: [1]. ``beta`` sets the shape (0: rectangular)."""
    check_factory("kaiser_window", device, layout, pin_memory)
    n, dt = _window("kaiser_window", window_length, periodic, dtype, device, requires_grad)
    if isinstance(n, Tensor):
        return n
    # torch's kernel works in float for float32 (its opmath type) and double for double
    t = np.float64 if dt.np == np.float64 else np.float32
    alpha = t((n.size - 1) / 2.0)
    r = (n.astype(t) - alpha) / alpha
    arg = t(beta) * np.sqrt(np.abs(t(1) - r * r))
    w = _bessel(0, arg, False) / _bessel(0, np.asarray(t(beta)), False)
    return _window_done(w, window_length, dt, requires_grad)
