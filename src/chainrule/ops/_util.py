"""Helpers shared by the primitives: undoing broadcasting, operand promotion, dim handling."""
from __future__ import annotations

import numpy as np

from .._dtype import result_type
from ..autograd.node import plain_backward
from ..tensor import Tensor, _normalize_dim


def unbroadcast(grad: Tensor, shape) -> Tensor:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving back ``shape``.

    Broadcasting copies an input along new leading axes and along its size-1 axes; the VJP of a
    copy is a sum, so ∂L/∂input = Σ over those axes of ∂L/∂output. Every broadcasting
    primitive undoes it here, in one place.
    """
    gshape = grad._data.shape
    shape = tuple(shape)
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and gshape[lead + i] != 1)
    if plain_backward():  # the same sum and reshape on the array
        g = np.add.reduce(grad._data, axis=axes) if axes else grad._data
        return Tensor._make(g.reshape(shape) if g.shape != shape else g)
    if axes:
        grad = grad.sum(dim=axes)
    return grad.reshape(shape) if grad._data.shape != shape else grad


def broadcast_view(x: np.ndarray, shape) -> np.ndarray:
    """``np.broadcast_to(x, shape)``: a read-only view, stride 0 along the copied dims.

    np.broadcast_to spends ~4 µs in Python per call, more than the whole VJP of a small sum;
    for a contiguous ``x`` the same view is built directly by the ndarray constructor over x's
    memory. ``shape`` must be a valid broadcast target of ``x.shape`` (callers check).
    """
    if x.ndim == 0:   # a full reduction's gradient: every stride 0
        out = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    if x.size == 0 or not (x.flags.c_contiguous or x.flags.f_contiguous):
        return np.broadcast_to(x, shape)
    lead = len(shape) - x.ndim
    strides = (0,) * lead + tuple([0 if n == 1 else st for n, st in zip(x.shape, x.strides)])
    out = np.ndarray(shape, x.dtype, x, 0, strides)
    out.flags.writeable = False
    return out


def fresh_grad(array: np.ndarray) -> Tensor:
    """Wrap a gradient array a VJP has just made (returned once, referenced nowhere else):
    delivered straight to a leaf, the engine may adopt it as ``.grad`` without a copy."""
    t = Tensor._make(array)
    t._unshared = True
    return t


def scalar_tensor(value, dtype) -> Tensor:
    return Tensor._make(np.array(value, dtype=dtype.np))


def operands(a, b, op: str):
    """Promote a pair of Tensors/Python scalars to Tensors of their torch result dtype."""
    if type(a) is Tensor and type(b) is Tensor and a._data.dtype == b._data.dtype:
        return a, b
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    try:
        dt = result_type(a, b)
    except TypeError:
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{op}: unsupported operand type {type(bad).__name__}; expected a Tensor "
                        "or a Python number") from None
    return as_operand(a, dt), as_operand(b, dt)


def as_operand(x, dt) -> Tensor:
    if isinstance(x, Tensor):
        if x._data.dtype == dt.np:
            return x
        from .elementwise import cast
        return cast(x, dt)
    return scalar_tensor(x, dt)


def to_float(x: Tensor) -> Tensor:
    """Integer and bool inputs of floating ops compute in the default float dtype, like torch."""
    if x._data.dtype.kind == "f":
        return x
    from .._dtype import float32
    from .elementwise import cast
    return cast(x, float32)


def check_tensor(x, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def normalize_dims(dim, ndim: int, op: str):
    """None -> all dims; int or sequence -> sorted tuple of non-negative dims (no repeats)."""
    if dim is None:
        return tuple(range(ndim))
    # validated even for a 0-d tensor (which accepts only -1 and 0, as torch), then dropped there
    if isinstance(dim, (list, tuple)):
        dims = tuple(_normalize_dim(d, ndim, op) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return tuple(sorted(dims)) if ndim else ()
    dims = (_normalize_dim(dim, ndim, op),)
    return dims if ndim else ()


def keepdim_shape(shape, dims):
    """``shape`` with the reduced ``dims`` set to 1 (what keepdim=True gives)."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def sum_tangents(shape, *terms):
    """Add the non-None tangent terms and broadcast to ``shape`` (None when all are None)."""
    total = None
    for t in terms:
        if t is not None:
            total = t if total is None else total + t
    if total is not None and total._data.shape != tuple(shape):
        total = total.expand(tuple(shape))
    return total
