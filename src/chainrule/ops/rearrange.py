"""Ops that move elements without changing them: roll, diagonals, sliding windows, repeats,
rotations, grids.

Each is linear in its input, so each primitive declares only its forward and its transpose
(the adjoint that carries the gradient back): rolling back, writing a diagonal into zeros,
adding windows back where they were read. The transposes are primitives too, each the other's
transpose, so every derivative order follows.
"""
from __future__ import annotations

import warnings

import numpy as np

from .._argcompat import _TORCH_NAMES
from .._graph import Node
from .._tensor_base import TensorBase, index_value, normalize_dim
from ._util import check_tensor
from .indexing import index_select
from .shape import expand, flip, reshape, transpose


class Roll(Node):
    """y = x shifted cyclically by ``shifts`` along ``dims``; transpose: roll back."""

    linear = True
    params = ("shifts", "dims")

    def forward(self, x):
        return np.roll(x, self.shifts, self.dims)

    def transpose(self, xp, g):
        return xp.apply(Roll, g, shifts=tuple(-s for s in self.shifts), dims=self.dims)


def roll(input, shifts, dims=None):
    """Shift elements cyclically: y[(i + s) mod n] = x[i] along each of ``dims`` (with no dims,
    along the flattened tensor, keeping the shape)."""
    check_tensor(input, "roll")
    if isinstance(shifts, TensorBase) and shifts.ndim == 0:
        shifts = index_value(shifts, "roll", "shifts")
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims: 0")
        flat = Roll.apply(reshape(input, (-1,)), shifts=shifts, dims=(0,))
        return reshape(flat, tuple(input.shape))
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims: {len(dims)}")
    dims = tuple(normalize_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)


def _diagonal_view(x, offset, dim1, dim2):
    """The diagonal of x over (dim1, dim2) as a writable view (moved to the last dim)."""
    d = np.diagonal(x, offset, dim1, dim2)
    if x.flags.writeable:
        d.flags.writeable = True   # NumPy's view is read-only only by caution: torch's writes
    return d


class Diagonal(Node):
    """y[..., k] = x[..., i + max(−offset, 0), …, i + max(offset, 0), …] over (dim1, dim2), the
    diagonal as the last dim (a view); transpose: write ḡ onto the diagonal of zeros."""

    linear, is_view = True, True
    params = ("offset", "dim1", "dim2")

    def forward(self, x):
        self.in_shape = x.shape
        return _diagonal_view(x, self.offset, self.dim1, self.dim2)

    def transpose(self, xp, g):
        return xp.apply(DiagonalScatter, g, offset=self.offset, dim1=self.dim1, dim2=self.dim2,
                        shape=self.in_shape)


class DiagonalScatter(Node):
    """y = zeros(shape) with its (dim1, dim2) diagonal set to g; transpose: the diagonal."""

    linear = True
    params = ("offset", "dim1", "dim2", "shape")
    backward_name = "DiagEmbedBackward0"

    def forward(self, g):
        out = np.zeros(self.shape, g.dtype)
        _diagonal_view(out, self.offset, self.dim1, self.dim2)[...] = g
        return out

    def transpose(self, xp, g):
        return xp.apply(Diagonal, g, offset=self.offset, dim1=self.dim1, dim2=self.dim2)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal over dims (dim1, dim2) (``offset`` > 0 above the main one), appended as the
    last dim: a view. Shapes: (…, n, …, m, …) -> (…, k)."""
    check_tensor(input, "diagonal")
    d1, d2 = normalize_dim(dim1, input.ndim, "diagonal"), normalize_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


_diagonal = diagonal   # diag's argument is called ``diagonal``, as torch's


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Put the last dim of ``input`` on the (dim1, dim2) diagonal of zeros (two new dims of
    size n + |offset|). Shapes: (…, n) -> (…, n + |offset|, n + |offset|)."""
    check_tensor(input, "diag_embed")
    ndim = input.ndim + 1
    d1, d2 = normalize_dim(dim1, ndim, "diag_embed"), normalize_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input.shape[-1] if input.ndim else 1) + abs(int(offset))
    batch = list(input.shape[:-1])
    shape = [n if i in (d1, d2) else batch.pop(0) for i in range(ndim)]
    x = input if input.ndim else reshape(input, (1,))
    return DiagonalScatter.apply(x, offset=int(offset), dim1=d1, dim2=d2, shape=tuple(shape))


def diag(input, diagonal=0):
    """1-D input: the square matrix with it on diagonal ``diagonal``; 2-D input: that diagonal
    as a 1-D tensor."""
    check_tensor(input, "diag")
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _diagonal(input, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input):
    """Σ of the main diagonal of a 2-D tensor (integers sum to int64)."""
    check_tensor(input, "trace")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return _diagonal(input, 0, 0, 1).sum()


def diagflat(input, offset=0):
    """The flattened input on diagonal ``offset`` of a square matrix."""
    check_tensor(input, "diagflat")
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: with indexing 'ij', output k varies along dim k;
    'xy' swaps the first two dims (Cartesian, as NumPy's default). Each output is an expanded
    view. torch warns when ``indexing`` is not given (and then uses 'ij')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: "
                         f"{indexing}")
    for t in tensors:
        check_tensor(t, "meshgrid", "each input")
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t.ndim}D")
    ts = [reshape(t, (-1,)) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = tuple(t.shape[0] for t in ts)
    grids = []
    for i, t in enumerate(ts):
        shape = tuple(s if j == i else 1 for j, s in enumerate(sizes))
        grids.append(expand(reshape(t, shape), *sizes))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


class Windows(Node):
    """Tensor.unfold: windows of ``size`` every ``step`` along ``dim``, as a new last dim (a
    view); transpose: add each window back where it was read (:class:`WindowsAdd`)."""

    linear, is_view = True, True
    params = ("dim", "size", "step")
    backward_name = "UnfoldBackward0"

    def forward(self, x):
        self.in_shape = x.shape
        n = (x.shape[self.dim] - self.size) // self.step + 1
        shape = x.shape[:self.dim] + (n,) + x.shape[self.dim + 1:] + (self.size,)
        strides = (x.strides[:self.dim] + (x.strides[self.dim] * self.step,)
                   + x.strides[self.dim + 1:] + (x.strides[self.dim],))
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=x.flags.writeable)

    def transpose(self, xp, g):
        return xp.apply(WindowsAdd, g, dim=self.dim, size=self.size, step=self.step,
                        shape=self.in_shape)


class WindowsAdd(Node):
    """y = zeros(shape); each window g[…, w, …, k] added at position w·step + k along ``dim``."""

    linear = True
    params = ("dim", "size", "step", "shape")

    def forward(self, g):
        out = np.zeros(self.shape, g.dtype)
        n = g.shape[self.dim]
        for k in range(self.size):   # one strided slice per offset in the window
            target = [slice(None)] * len(self.shape)
            target[self.dim] = slice(k, k + (n - 1) * self.step + 1, self.step)
            out[tuple(target)] += g[..., k]
        return out

    def transpose(self, xp, g):
        return xp.apply(Windows, g, dim=self.dim, size=self.size, step=self.step)


def unfold(input, dimension, size, step):
    """Tensor.unfold: all windows of ``size`` elements, ``step`` apart, along ``dimension``,
    as a view with the window as a new last dim. Shapes: (…, n, …) -> (…, ⌊(n − size)/step⌋ + 1,
    …, size)."""
    check_tensor(input, "unfold")
    d = normalize_dim(dimension, input.ndim, "unfold") if input.ndim else 0
    n = input.shape[d] if input.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    x = input if input.ndim else reshape(input, (1,))
    out = Windows.apply(x, dim=d, size=size, step=step)
    return out if input.ndim else reshape(out, (size,))


def _repeat_counts(repeats):
    """A tensor of repeat counts: torch's kernel takes int32 and int64 only."""
    counts = repeats._data
    if counts.dtype not in (np.int32, np.int64):
        name = _TORCH_NAMES.get(counts.dtype.name, counts.dtype.name)
        raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for \'{name}\'')
    return counts


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (each slice along ``dim``; of the flattened input when dim is None)
    ``repeats`` times (an int, or one count per element). With only an integer tensor of
    counts, the indices 0, 0, 1, … repeated by those counts."""
    check_tensor(input, "repeat_interleave")
    if repeats is None:   # the counts' own dtype (int32 or int64), as torch
        counts = _repeat_counts(input)
        if counts.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return input._make(np.repeat(np.arange(counts.size, dtype=counts.dtype), counts))
    if isinstance(repeats, TensorBase):
        _repeat_counts(repeats)
    x = reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else normalize_dim(dim, input.ndim, "repeat_interleave")
    n = x.shape[d] if x.ndim else 1
    counts = repeats._data if isinstance(repeats, TensorBase) else np.asarray(repeats)
    if counts.ndim > 1 or counts.dtype.kind not in "iu":
        raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor of integers")
    counts = np.broadcast_to(counts.reshape(-1), (n,)) if counts.size == 1 else counts.reshape(-1)
    if counts.size != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.size} and input.size({d}) = {n}")
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    index = np.repeat(np.arange(n), counts).astype(np.int64)
    if output_size is not None and output_size != index.size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"total of repeats {index.size}")
    return index_select(x if x.ndim else reshape(x, (1,)), d, input._make(index))


def fliplr(input):
    """Reverse the columns (dim 1); needs at least 2 dims."""
    check_tensor(input, "fliplr")
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, [1])


def flipud(input):
    """Reverse the rows (dim 0); needs at least 1 dim."""
    check_tensor(input, "flipud")
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, [0])


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90° k times in the plane of ``dims``, from the first dim toward the second."""
    check_tensor(input, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (normalize_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and "
                           f"dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return transpose(flip(input, [d0]), d0, d1)
    return input.clone()
