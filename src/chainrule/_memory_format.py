"""Memory formats (``torch.memory_format``): the order in which a tensor's elements lie in memory.

A tensor's shape is logical — (N, C, H, W) for images whatever the layout — and its strides say
where each element lives. ``contiguous_format`` is C order (the last dim varies fastest);
``channels_last`` keeps an (N, C, H, W) tensor's channels innermost, as (N, H, W, C) in memory
(strides (H·W·C, 1, W·C, C)), ``channels_last_3d`` the same for (N, C, D, H, W);
``preserve_format`` (the default of ``clone`` and the ``*_like`` functions) keeps a dense
source's strides (a clone) or its channels-last layout (the ``*_like`` functions).
Convolution kernels that read channels innermost (oneDNN's brgconv) run on channels-last
arrays without the reorders an NCHW array costs, and elementwise ops, batch norm, ReLU and
pooling keep the layout, so a model and its input converted once
(``model.to(memory_format=chainrule.channels_last)``, ``x.to(memory_format=...)``) stay in it.

Layouts are NumPy strides: a channels-last array is ``np.empty((N, H, W, C)).transpose(0, 3, 1,
2)``. As torch's, ``view`` of such a tensor across its channel and spatial dims raises (use
``reshape`` or ``flatten``, which copy).
"""
from __future__ import annotations

import numpy as np


class memory_format:
    """One of ``contiguous_format``, ``channels_last``, ``channels_last_3d``, ``preserve_format``
    (torch.memory_format); compared by identity."""

    __slots__ = ("name", "order")

    def __init__(self, name, order):
        self.name, self.order = name, order     # order: the dims from outermost to innermost

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):          # pickles as the module attribute: one object per format
        return self.name


contiguous_format = memory_format("contiguous_format", None)
channels_last = memory_format("channels_last", (0, 2, 3, 1))
channels_last_3d = memory_format("channels_last_3d", (0, 2, 3, 4, 1))
preserve_format = memory_format("preserve_format", None)


def _checked(fmt, ndim, op):
    """``fmt`` validated for a tensor of ``ndim`` dims (TypeError for a non-format, RuntimeError
    for a channels-last format of the wrong rank, as torch)."""
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}: memory_format must be a chainrule.memory_format "
                        f"(chainrule.contiguous_format, channels_last, ...), got {fmt!r}")
    if fmt.order is not None and ndim != len(fmt.order):
        raise RuntimeError(f"{op}: required rank {len(fmt.order)} tensor to use {fmt.name} "
                           f"format, got a tensor of {ndim} dims")
    return fmt


def is_laid_out(arr: np.ndarray, fmt: memory_format, op="is_contiguous") -> bool:
    """Whether ``arr`` is dense in ``fmt``'s order (dims of size 1 may have any stride, as
    torch); ``preserve_format`` asks for C order, as torch's is_contiguous. A channels-last
    format on a tensor of another rank is False."""
    if not isinstance(fmt, memory_format):
        _checked(fmt, arr.ndim, op)
    if fmt.order is None:
        return arr.flags.c_contiguous
    if arr.ndim != len(fmt.order):
        return False
    expect = arr.itemsize
    for d in reversed(fmt.order):
        if arr.shape[d] != 1:
            if arr.strides[d] != expect:
                return False
            expect *= arr.shape[d]
    return True


def _strides_like(arr, order):
    """torch's is_channels_last_strides_2d/3d: the strides grow from the channel dim through
    the spatial dims (innermost first) to the batch dim, so the layout reads as channels-last;
    ties of size-1 dims resolve to NCHW (an (N, 1, 1, 1) or a sliced (N, 1, 1, W) array)."""
    shape, strides = arr.shape, arr.strides
    if strides[1] == 0:
        return False
    least = 0
    for d in (1,) + tuple(reversed(order[1:-1])) + (0,):
        if shape[d] == 0 or strides[d] < least or (d == 0 and least == strides[1]):
            return False
        least = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True


def suggested(*arrays: np.ndarray) -> memory_format:
    """The channels-last format of the first of ``arrays`` whose strides read as channels-last
    (torch's suggest_memory_format: by the order of the strides), else ``contiguous_format``;
    for a convolution's input and weight, torch's rule for its output's layout."""
    for arr in arrays:
        fmt = channels_last if arr.ndim == 4 else channels_last_3d if arr.ndim == 5 else None
        if fmt is not None and _strides_like(arr, fmt.order):
            return fmt
    return contiguous_format


def empty(shape, dtype, fmt: memory_format) -> np.ndarray:
    """An uninitialised array of the logical ``shape`` laid out in ``fmt`` (C order for
    ``contiguous_format``)."""
    if fmt.order is None:
        return np.empty(shape, dtype)
    physical = np.empty(tuple(shape[d] for d in fmt.order), dtype)
    return physical.transpose(np.argsort(fmt.order))


def laid_out(arr: np.ndarray, fmt: memory_format, op="contiguous") -> np.ndarray:
    """``arr`` itself when it is already laid out in ``fmt`` (any layout for
    ``preserve_format``), else a copy that is."""
    fmt = _checked(fmt, arr.ndim, op)
    if fmt is preserve_format or is_laid_out(arr, fmt):
        return arr
    return copy(arr, fmt, op)


def converted(arr: np.ndarray, fmt: memory_format, op="to") -> np.ndarray:
    """torch's ``to(memory_format=fmt)`` on arrays: ``arr`` itself when its suggested format
    already is ``fmt`` (or ``fmt`` is ``preserve_format``), else a copy laid out in ``fmt`` —
    so a C-ordered (N, 1, H, W) array is re-strided as channels-last, as torch does."""
    fmt = _checked(fmt, arr.ndim, op)
    if fmt is preserve_format or suggested(arr) is fmt:
        return arr
    return copy(arr, fmt, op)


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _dense(arr: np.ndarray) -> bool:
    """Whether ``arr``'s elements fill a block of memory without gaps or overlaps, in some order
    of its dims (positive strides; dims of size 1 ignored)."""
    expect = arr.itemsize
    for stride, size in sorted((s, n) for s, n in zip(arr.strides, arr.shape) if n != 1):
        if stride != expect:
            return False
        expect *= size
    return True


def copy(arr: np.ndarray, fmt: memory_format, op="clone", dtype=None) -> np.ndarray:
    """A new array with ``arr``'s values (cast to ``dtype`` if given) laid out in ``fmt``;
    ``preserve_format`` (torch's rule) keeps ``arr``'s strides when it is dense (a transpose,
    a channels-last array) and makes anything else (a strided slice) C-ordered."""
    fmt = _checked(fmt, arr.ndim, op)
    dtype = arr.dtype if dtype is None else np.dtype(dtype)
    if fmt is preserve_format:
        if not (arr.size and _dense(arr)) or arr.strides == _c_strides(arr.shape, arr.itemsize):
            return np.array(arr, dtype, order="C")
        steps = tuple(s // arr.itemsize * dtype.itemsize for s in arr.strides)
        out = np.lib.stride_tricks.as_strided(np.empty(arr.size, dtype), arr.shape, steps)
    else:
        out = empty(arr.shape, dtype, fmt)
    np.copyto(out, arr, casting="unsafe")
    return out


def dim_order(sizes, strides, check=False, contiguous=False, channels_last=False):
    """Tensor.dim_order's permutation: C order and channels-last directly, else an insertion
    sort of the dims by stride from innermost out (torch's rule for an elementwise result's
    layout: a stride of 0 compares as nothing, equal strides order by size). ``check`` raises
    RuntimeError where two neighbours in the result could swap."""
    n = len(sizes)
    if n < 2 or (contiguous and not channels_last):
        return tuple(range(n))
    if channels_last and not contiguous:
        return (0, *range(2, n), 1)

    def ge(a, b):   # a ≥ b, or b divides a (a, b ≥ 0), as torch's comparison
        return True if b == 0 else False if a == 0 else a >= b or a % b == 0

    def order(a, b):   # > 0: dim a lies outside dim b in memory
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa == sb:
            return 0 if ge(sizes[b], sizes[a]) else 1
        return -1 if ge(sb, sa) else 1 if ge(sa, sb) else 0

    perm = list(reversed(range(n)))    # sorted innermost first
    for i in range(1, n):
        j = i
        for k in reversed(range(i)):
            c = order(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    if check and any(order(a, b) != -1 for a, b in zip(perm, perm[1:])):
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(reversed(perm))
