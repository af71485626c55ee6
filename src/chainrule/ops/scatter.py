"""Writing by index: scatter, scatter_reduce, index_add/copy/fill/put, masked_scatter, and
reading by mask or condition: masked_select, nonzero, unique.

Writing values at positions is linear in the values written: its transpose reads the gradient
back at the same positions (a gather). So scatter, index_copy, index_put and masked_scatter are
each ``where(written, Set(values), input)`` with one primitive, :class:`ScatterSet` or
:class:`IndexSet`, whose transpose is the matching read; the ``where`` sends the rest of the
gradient to ``input``. Sums (scatter_add, index_add, accumulate) use the existing add-at
primitives; max/min/mean reductions are compositions; only the product has its own rule.
"""
from __future__ import annotations

import numpy as np

from .._graph import Node
from .._tensor_base import TensorBase, normalize_dim
from ._util import check_tensor
from .elementwise import where
from .indexing import Gather, GetItem, IndexAdd, ScatterAdd, _check_index, _mesh
from .shape import broadcast_to, expand


class ScatterSet(Node):
    """out = zeros(shape); out[index at dim] = src (a repeated position keeps one of its values).
    Linear in src; transpose: gather ḡ at the same positions (every src element gets the
    gradient of the position it was written to, as torch's)."""

    linear = True
    params = ("dim", "index", "shape")
    backward_name = "ScatterBackward0"

    def forward(self, src):
        out = np.zeros(self.shape, dtype=src.dtype)
        out[_mesh(self.index, self.dim)] = src
        return out

    def transpose(self, xp, g):
        return xp.apply(Gather, g, dim=self.dim, index=self.index)


class IndexSet(Node):
    """out = zeros(shape); out[key] = v (advanced indexing). Linear in v; transpose: ḡ[key]."""

    linear = True
    params = ("key", "shape")
    backward_name = "IndexPutBackward0"

    def forward(self, v):
        out = np.zeros(self.shape, dtype=v.dtype)
        out[self.key] = v
        return out

    def transpose(self, xp, g):
        return xp.apply(GetItem, g, key=self.key, basic=False)


def _written(shape, key):
    mask = np.zeros(shape, bool)
    mask[key] = True
    return mask


def _same_dtype(input, src, op):
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")


def _src_block(src, index):
    """The leading block of ``src`` that ``index`` covers (torch reads only that much)."""
    for i, (si, ss) in enumerate(zip(index.shape, src._data.shape)):
        if si > ss:
            raise RuntimeError(f"scatter: expected index {tuple(index.shape)} to be no larger than "
                               f"src {tuple(src.shape)} apart from nothing (dim {i})")
    return src[tuple(slice(0, s) for s in index.shape)] if index.shape != src._data.shape else src


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """out = input with out[index[i][j]][j] = src[i][j] (dim 0; likewise for other dims), or
    ``value`` everywhere the index points. ``reduce='add'|'multiply'`` combines instead of
    overwriting (as :func:`scatter_reduce` with 'sum' | 'prod')."""
    if src is not None and not isinstance(src, TensorBase):
        src, value = None, src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        if src is None:
            src = input._make(np.full(index.shape, value, input._data.dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    d, idx = _check_index(input, dim, index, "scatter")
    mask = _written(input._data.shape, _mesh(idx, d))
    if src is None:
        if value is None:
            raise TypeError("scatter() missing the src tensor or the value to write")
        return where(input._make(mask), input._make(np.asarray(value, input._data.dtype)), input)
    check_tensor(src, "scatter", "src")
    _same_dtype(input, src, "scatter")
    written = ScatterSet.apply(_src_block(src, idx), dim=d, index=idx, shape=input._data.shape)
    return where(input._make(mask), written, input)


class ScatterProd(Node):
    """out = input · Π src at each position (``include_self``: input counts as a factor; else
    the written positions start from 1). Each factor's partial derivative is the product of the
    other factors at its position; torch's rule computes it without dividing by a zero factor
    (a zero is replaced by 1 and the product taken again), in differentiable ops, so higher
    derivatives follow."""

    params = ("dim", "index", "include_self")
    backward_name = "ScatterReduceBackward0"

    def forward(self, x, src):
        mesh = _mesh(self.index, self.dim)
        out = x.copy()
        if not self.include_self:
            out[mesh] = 1
        np.multiply.at(out, mesh, src)
        return out

    def _prod(self, xp, x, src):
        return xp.apply(ScatterProd, x, src, dim=self.dim, index=self.index,
                        include_self=self.include_self)

    def _partials(self, xp, x, src):
        """(∂out/∂x, ∂out/∂src), elementwise, as values of ``xp``."""
        mesh = _mesh(self.index, self.dim)
        xa, sa = xp.data(x), xp.data(src)
        written = xp.const(_written(xa.shape, mesh))
        one = xp.const(np.ones((), xa.dtype))
        if self.include_self:
            masked_self = xp.where(xp.const(xa == 0), one, x)
            d_x = xp.where(written, self._prod(xp, masked_self, src) / masked_self, one)
        else:
            d_x = xp.where(written, xp.const(np.zeros((), xa.dtype)), one)
        zeros = np.zeros(xa.shape, np.int64)
        np.add.at(zeros, mesh, (sa == 0).astype(np.int64))
        single_zero = (sa == 0) & (zeros[mesh] == 1)
        gather = lambda v: xp.apply(Gather, v, dim=self.dim, index=self.index)
        # a lone zero factor: the product of the others, taken with that zero replaced by 1
        without_zero = gather(self._prod(xp, x, xp.where(xp.const(single_zero), one, src)))
        d_src = xp.where(xp.const(single_zero), without_zero,
                         gather(self._prod(xp, x, src)) / xp.where(xp.const(sa == 0), one, src))
        return d_x, d_src

    def vjp(self, xp, g, x, src):
        d_x, d_src = self._partials(xp, x, src)
        return g * d_x, xp.apply(Gather, g, dim=self.dim, index=self.index) * d_src

    def jvp(self, xp, tangents, x, src):
        tx, tsrc = tangents
        d_x, d_src = self._partials(xp, x, src)
        out = None if tx is None else tx * d_x
        if tsrc is not None:
            spread = xp.apply(ScatterAdd, tsrc * d_src, dim=self.dim, index=self.index,
                              shape=xp.data(x).shape)
            out = spread if out is None else out + spread
        return out


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """out = input, then each src element is combined into out[index at dim] by ``reduce``:
    'sum', 'prod', 'mean', 'amax' or 'amin' (``include_self=False``: the written positions
    start from the src values alone). Gradients as torch's: amax/amin share the gradient evenly
    among the elements equal to the result."""
    d, idx = _check_index(input, dim, index, "scatter_reduce")
    check_tensor(src, "scatter_reduce", "src")
    _same_dtype(input, src, "scatter_reduce")
    src = _src_block(src, idx)
    mesh = _mesh(idx, d)
    written = _written(input._data.shape, mesh)
    mask = input._make(written)
    base = input if include_self else where(mask, input._make(np.zeros((), input._data.dtype)),
                                            input)
    if reduce == "sum":
        return base + ScatterAdd.apply(src, dim=d, index=idx, shape=input._data.shape)
    if reduce == "mean":
        count = np.zeros(input._data.shape, np.int64)
        np.add.at(count, mesh, 1)
        count = count + (1 if include_self else 0)
        total = base + ScatterAdd.apply(src, dim=d, index=idx, shape=input._data.shape)
        safe = input._make(np.maximum(count, 1).astype(input._data.dtype))
        if input._data.dtype.kind in "iub":   # torch floors the integer mean
            return where(mask, total // safe, input)
        return where(mask, total / safe, input)
    if reduce == "prod":
        return ScatterProd.apply(input, src, dim=d, index=idx, include_self=include_self)
    if reduce in ("amax", "amin"):
        ufunc = np.maximum if reduce == "amax" else np.minimum
        value = input._data.copy()
        if not include_self:
            fill = -np.inf if reduce == "amax" else np.inf
            if value.dtype.kind != "f":
                info = np.iinfo(value.dtype)
                fill = info.min if reduce == "amax" else info.max
            value[written] = fill
        ufunc.at(value, mesh, src._data)
        v = input._make(value)
        v_src = input._make(value[mesh])
        src_hit = src == v_src
        # torch counts a tied input element even when include_self=False (it then gets none of
        # the gradient): the count is torch's, the input's term only when it takes part
        self_hit = input == v
        count = self_hit._data.astype(np.int64)
        np.add.at(count, mesh, src_hit._data.astype(np.int64))
        count = input._make(np.maximum(count, 1).astype(value.dtype))
        zero = input._make(np.zeros((), value.dtype))
        # v plus zero-valued terms that carry the gradient: ∂/∂(a tied element) = 1/count
        tied = ScatterAdd.apply(where(src_hit, src - v_src, zero), dim=d, index=idx,
                                shape=value.shape)
        if include_self:
            tied = tied + where(self_hit, input - v, zero)
        return where(mask, v + tied / count, input)
    raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")


def _along(input, dim, index, source, op):
    """(dim, the full index array for ``source`` placing its slices at ``index`` along dim)."""
    check_tensor(input, op)
    d = normalize_dim(dim, input.ndim, op) if input.ndim else 0
    if not isinstance(index, TensorBase) or index._data.dtype.kind not in "iu" or index.ndim > 1:
        raise RuntimeError(f"{op}(): Index is supposed to be a vector of integers")
    idx = index._data.reshape(-1).astype(np.int64)
    n = input.shape[d] if input.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{op}(): index {int(idx.max() if idx.max() >= n else idx.min())} is out "
                         f"of bounds for dimension {d} with size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    if source is None:
        return d, idx
    check_tensor(source, op, "source")
    expected = tuple(len(idx) if i == d else s for i, s in enumerate(input.shape))
    if tuple(source.shape) != expected and not (input.ndim == 0 and source.numel() == len(idx)):
        raise RuntimeError(f"{op}(): source of shape {tuple(source.shape)} does not match the "
                           f"expected shape {expected} (input {tuple(input.shape)}, "
                           f"{len(idx)} indices along dim {d})")
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = len(idx)
    full = np.broadcast_to(idx.reshape(shape), source._data.shape).copy()
    return d, full


def index_add(input, dim, index, source, *, alpha=1):
    """out = input, then out[…, index[i], …] += alpha · source[…, i, …] along ``dim``."""
    d, full = _along(input, dim, index, source, "index_add")
    if input.ndim == 0:
        return input + (source * alpha).sum()
    return input + ScatterAdd.apply(source * alpha if alpha != 1 else source, dim=d, index=full,
                                    shape=input._data.shape)


def index_copy(input, dim, index, source):
    """out = input, then out[…, index[i], …] = source[…, i, …] along ``dim``."""
    d, full = _along(input, dim, index, source, "index_copy")
    _same_dtype(input, source, "index_copy")
    mask = _written(input._data.shape, _mesh(full, d))
    return where(input._make(mask), ScatterSet.apply(source, dim=d, index=full,
                                                     shape=input._data.shape), input)


def index_fill(input, dim, index, value):
    """out = input with every slice ``index[i]`` along ``dim`` set to ``value``."""
    d, idx = _along(input, dim, index, None, "index_fill")
    mask = np.zeros(input._data.shape, bool)
    mask[(slice(None),) * d + (idx,)] = True
    if isinstance(value, TensorBase):
        return where(input._make(mask), value.to(input.dtype), input)
    return where(input._make(mask), input._make(np.asarray(value, input._data.dtype)), input)


def index_put(input, indices, values, accumulate=False):
    """out = input with out[indices] = values (``accumulate``: += , repeats adding up);
    ``indices`` is a tuple of index tensors (advanced indexing), ``values`` broadcasts."""
    check_tensor(input, "index_put")
    key = tuple(k._data if isinstance(k, TensorBase) else np.asarray(k) for k in indices)
    for k in key:
        if k.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    target = np.empty(input._data.shape, np.bool_)[key].shape
    if not isinstance(values, TensorBase):
        values = input._make(np.asarray(values, input._data.dtype))
    _same_dtype(input, values, "index_put")
    values = broadcast_to(values, target) if tuple(values.shape) != target else values
    if accumulate:
        return input + IndexAdd.apply(values, key=key, shape=input._data.shape, basic=False)
    mask = _written(input._data.shape, key)
    return where(input._make(mask), IndexSet.apply(values, key=key, shape=input._data.shape), input)


def masked_scatter(input, mask, source):
    """out = input, with the positions where ``mask`` is True (broadcast to input) filled with
    the leading elements of ``source`` in row-major order."""
    check_tensor(input, "masked_scatter")
    m = mask._data if isinstance(mask, TensorBase) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got {m.dtype}")
    m = np.broadcast_to(m, input._data.shape)
    k = int(m.sum())
    if source.numel() < k:
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements, got "
                           f"{source.numel()}")
    _same_dtype(input, source, "masked_scatter")
    taken = source.reshape(-1)[:k]
    return where(input._make(m), IndexSet.apply(taken, key=m, shape=input._data.shape), input)


_MaskedSelect = GetItem.named("MaskedSelectBackward0")


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True (both broadcast), as a 1-D tensor."""
    check_tensor(input, "masked_select")
    m = mask._data if isinstance(mask, TensorBase) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: the mask's shape {tuple(m.shape)} and the input's "
                           f"{tuple(input.shape)} cannot be broadcast together") from None
    x = expand(input, *shape) if shape != input._data.shape else input
    return _MaskedSelect.apply(x, key=np.broadcast_to(m, shape), basic=False)


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, row-major order; with
    ``as_tuple``, one 1-D tensor per dim."""
    check_tensor(input, "nonzero")
    found = np.argwhere(input._data).astype(np.int64)
    if as_tuple:
        if input.ndim == 0:
            return (input._make(found[:, 0] if found.shape[1] else np.zeros(found.shape[0], np.int64)),)
        return tuple(input._make(np.ascontiguousarray(found[:, i])) for i in range(input.ndim))
    return input._make(found)


def argwhere(input):
    """The indices of the nonzero elements, (n, ndim) int64 (``nonzero`` without as_tuple)."""
    return nonzero(input)


def _unique_results(input, values, inverse, counts, return_inverse, return_counts):
    out = [input._make(values)]
    if return_inverse:
        out.append(input._make(inverse.astype(np.int64)))
    if return_counts:
        out.append(input._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), with ``return_inverse`` where each element went and
    ``return_counts`` how often each occurs; with ``dim``, the distinct slices along it.
    Not differentiable (as torch)."""
    check_tensor(input, "unique")
    data = input._data
    if dim is None:
        values, inverse, counts = np.unique(data.reshape(-1), return_inverse=True,
                                            return_counts=True)
        inverse = inverse.reshape(data.shape)
    else:
        d = normalize_dim(dim, input.ndim, "unique")
        values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    return _unique_results(input, values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values (or slices along ``dim``) to one."""
    check_tensor(input, "unique_consecutive")
    data = input._data
    d = None if dim is None else normalize_dim(dim, input.ndim, "unique_consecutive")
    x = data.reshape(-1) if d is None else np.moveaxis(data, d, 0)
    if x.shape[0] == 0:
        new = np.zeros(0, bool)
    else:
        differs = (x[1:] != x[:-1]).reshape(x.shape[0] - 1, -1).any(axis=1)
        new = np.concatenate([[True], differs])
    starts = np.flatnonzero(new)
    values = x[starts] if d is None else np.moveaxis(x[starts], 0, d)
    inverse = np.cumsum(new) - 1
    counts = np.diff(np.append(starts, x.shape[0]))
    if d is None:
        inverse = inverse.reshape(data.shape)
    return _unique_results(input, values, inverse, counts, return_inverse, return_counts)


