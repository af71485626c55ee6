"""Writing by index: scatter, scatter_reduce, index_add/copy/fill/put, masked_scatter, and
reading by mask or condition: masked_select, nonzero, unique.

Writing values at positions is linear in (input, values) together: its transpose reads the
gradient back at the written positions for the values and zeroes them for the input. So scatter,
scatter_add, index_add, index_copy, index_put and masked_scatter are one primitive,
:class:`~chainrule.ops.indexing.WriteAt`, recorded under each torch name; writing a number
(scatter's value form, index_fill) is a masked fill. scatter_reduce is one node too: for sum,
mean, amax and amin the result is, around its inputs, a ⊙ input + scatter_add(b ⊙ src) with
weights fixed in forward (:class:`ScatterReduce`); the product has its own rule.
"""
from __future__ import annotations

import numpy as np

from .._graph import Node
from .._tensor_base import TensorBase, normalize_dim
from ._util import check_tensor
from .elementwise import MaskedFill, where, wrapped_int
from .indexing import Gather, GetItem, ScatterAdd, _check_index, _mesh, write_at
from .shape import broadcast_to, expand


def _written(shape, key):
    mask = np.zeros(shape, bool)
    mask[key] = True
    return mask


def _same_dtype(input, src, op):
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")


def _src_block(src, index, input, d, op):
    """The leading block of ``src`` that ``index`` covers (torch reads only that much)."""
    if src.ndim != index.ndim or any(si > ss for si, ss in zip(index.shape, src._data.shape)):
        raise RuntimeError(f"{op}(): Expected index {list(index.shape)} to be no larger than self "
                           f"{list(input.shape)} apart from dimension {d} and to be no larger "
                           f"size than src {list(src.shape)}")
    return src[tuple(slice(0, s) for s in index.shape)] if index.shape != src._data.shape else src


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """out = input with out[index[i][j]][j] = src[i][j] (dim 0; likewise for other dims), or
    ``value`` everywhere the index points. ``reduce='add'|'multiply'`` combines instead of
    overwriting (as :func:`scatter_reduce` with 'sum' | 'prod'; torch records no gradient for
    that form, chainrule gives scatter_reduce's).

    Shapes: input (*), index with input's number of dims, no larger than src, nor than input
    apart from ``dim``; out (*). Gradients: ∂/∂input = ḡ with the written positions zeroed,
    ∂/∂src = ḡ gathered at index (src beyond index's extent gets zero). A position written
    twice keeps one of the values (unspecified in torch too).

    Example: ``scatter(zeros(3), 0, tensor([2, 0]), tensor([5., 7.]))`` is ``[7., 0., 5.]``."""
    if src is not None and not isinstance(src, TensorBase):
        src, value = None, src
    if isinstance(input, TensorBase) and input.ndim == 0:   # one element: as a 1-element vector
        _check_index(input, dim, index, "scatter")
        flat = src if src is None else src.reshape(-1)
        return scatter(input.reshape(1), 0, index.reshape(-1), flat, value=value,
                       reduce=reduce).reshape(())
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        if src is None:
            src = input._make(np.full(index.shape, value, input._data.dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    d, idx = _check_index(input, dim, index, "scatter")
    if src is None:
        if value is None:
            raise TypeError("scatter() missing the src tensor or the value to write")
        mask = _written(input._data.shape, _mesh(idx, d))
        return _ScatterValue.apply(input, mask=mask, value=value)
    check_tensor(src, "scatter", "src")
    _same_dtype(input, src, "scatter")
    return write_at("ScatterBackward0", input, _src_block(src, idx, input, d, "scatter"), _mesh(idx, d))


_ScatterValue = MaskedFill.named("ScatterBackward1")
_IndexFill = MaskedFill.named("IndexFillBackward0")


class ScatterProd(Node):
    """out = input · Π src at each position (``include_self``: input counts as a factor; else
    the written positions start from 1). Each factor's partial derivative is the product of the
    other factors at its position; torch's rule computes it without dividing by a zero factor
    (a zero is replaced by 1 and the product taken again), in differentiable ops, so higher
    derivatives follow."""

    params = ("dim", "index", "include_self")
    data_params = ("index",)   # a tensor's values: traced by a graph capture
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
    start from the src values alone). Integer mean floors, as torch's. Shapes as
    :func:`scatter`'s. Gradients as torch's: sum: ḡ and ḡ gathered; mean: those over the count;
    prod: the product of the other factors (without dividing by a zero); amax/amin share the
    gradient evenly among the elements equal to the result."""
    d, idx = _check_index(input, dim, index, "scatter_reduce")
    check_tensor(src, "scatter_reduce", "src")
    if input.ndim == 0:     # one element: as a 1-element vector
        return scatter_reduce(input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
                              include_self=include_self).reshape(())
    _same_dtype(input, src, "scatter_reduce")
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    src = _src_block(src, idx, input, d, "scatter_reduce")
    return _reduce_into(input, d, idx, src, reduce, include_self, (ScatterProd, ScatterReduce))


def _reduce_into(input, d, idx, src, reduce, include_self, nodes):
    """scatter_reduce on checked arguments (idx: src's full index array along d) through
    ``nodes`` = (the prod node, the node of the other reductions)."""
    if reduce == "prod":
        return nodes[0].apply(input, src, dim=d, index=idx, include_self=include_self)
    value, a, b = _reduced(input._data, src._data, _mesh(idx, d), reduce, include_self)
    if value.dtype.kind != "f":     # integers: nothing to differentiate
        return input._make(value)
    return nodes[1].apply(input, src, value=value, a=a, b=b, dim=d, index=idx)


def _reduced(x, src, mesh, reduce, include_self):
    """(out, a, b) for sum, mean, amax and amin: the result, and the constant weights that make
    it out = a ⊙ x + scatter_add(b ⊙ src) around the given inputs."""
    written = _written(x.shape, mesh)
    count = np.zeros(x.shape, np.int64)
    np.add.at(count, mesh, 1)
    one = x.dtype.type(1)
    if reduce in ("sum", "mean"):
        total = x.copy() if include_self else np.where(written, 0, x).astype(x.dtype)
        np.add.at(total, mesh, src)
        if reduce == "sum":
            a = np.ones(x.shape, x.dtype) if include_self else (~written).astype(x.dtype)
            return total, a, np.ones(src.shape, x.dtype)
        count = count + (1 if include_self else 0)
        safe = np.maximum(count, 1)
        if x.dtype.kind in "iub":   # torch floors the integer mean
            return np.where(written, total // safe.astype(x.dtype), x).astype(x.dtype), None, None
        out = np.where(written, total / safe.astype(x.dtype), x).astype(x.dtype)
        a = np.where(written, (one if include_self else 0) / safe.astype(x.dtype), one)
        return out, a.astype(x.dtype), (one / safe.astype(x.dtype))[mesh]
    ufunc = np.maximum if reduce == "amax" else np.minimum
    value = x.copy()
    if not include_self:
        if value.dtype.kind == "f":
            fill = -np.inf if reduce == "amax" else np.inf
        else:
            info = np.iinfo(value.dtype) if value.dtype.kind in "iu" else None
            fill = (info.min if reduce == "amax" else info.max) if info else reduce == "amin"
        value[written] = fill
    ufunc.at(value, mesh, src)
    out = np.where(written, value, x).astype(x.dtype)
    if x.dtype.kind != "f":
        return out, None, None
    # the gradient is shared evenly among the elements equal to the result; torch counts a
    # tied input element even when include_self=False (it then gets none of the gradient)
    src_hit = src == out[mesh]
    self_hit = x == out
    ties = self_hit.astype(np.int64)
    np.add.at(ties, mesh, src_hit.astype(np.int64))
    share = one / np.maximum(ties, 1).astype(x.dtype)
    a = np.where(written, (self_hit & include_self) * share, one).astype(x.dtype)
    return out, a, (src_hit * share[mesh]).astype(x.dtype)


class ScatterReduce(Node):
    """out = scatter_reduce(x, src) for sum, mean, amax, amin: computed in forward, together with
    constant weights a, b (per reduction, see :func:`_reduced`) such that around these inputs
    out = a ⊙ x + scatter_add(b ⊙ src). VJP: x̄ = ḡ ⊙ a, s̄rc = gather(ḡ) ⊙ b; JVP:
    a ⊙ ẋ + scatter_add(b ⊙ ṡrc). The weights are locally constant, so higher derivatives
    are zero, as torch's."""

    params = ("value", "a", "b", "dim", "index")
    data_params = ("index",)   # a tensor's values: traced by a graph capture
    backward_name = "ScatterReduceBackward0"

    def forward(self, x, src):
        return self.value.copy()

    def vjp(self, xp, g):
        return (g * xp.const(self.a),
                xp.apply(Gather, g, dim=self.dim, index=self.index) * xp.const(self.b))

    def jvp(self, xp, tangents):
        tx, tsrc = tangents
        out = None if tx is None else tx * xp.const(self.a)
        if tsrc is not None:
            spread = xp.apply(ScatterAdd, tsrc * xp.const(self.b), dim=self.dim,
                              index=self.index, shape=self.a.shape)
            out = spread if out is None else out + spread
        return out


# how each op treats an index outside [0, n): index_fill counts negatives from the end;
# index_add refuses any with a RuntimeError, index_copy with an IndexError naming itself
_OUT_OF_BOUNDS = {"index_add": (RuntimeError, ""), "index_copy": (IndexError, "index_copy_(): "),
                  "index_fill": (IndexError, ""), "index_reduce": (IndexError, "")}


def _along(input, dim, index, source, op):
    """(dim, the full index array for ``source`` placing its slices at ``index`` along dim)."""
    check_tensor(input, op)
    d = normalize_dim(dim, input.ndim, op)
    if op == "index_fill" and not (isinstance(index, TensorBase) and index._data.dtype == np.int64):
        raise IndexError(f"{op}_(): Expected dtype int64 for index, got "
                         f"{getattr(index, 'dtype', type(index).__name__)}")
    if not isinstance(index, TensorBase) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}_(): Expected dtype int32/int64 for index")
    if index.ndim > 1:
        raise IndexError(f"{op}_(): Index is supposed to be a vector, but got dim: {index.ndim} "
                         f"with size: {list(index.shape)}")
    if op == "index_copy" and index._data.dtype != np.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                           f"{index.dtype}")
    idx = index._data.reshape(-1).astype(np.int64)
    n = input.shape[d] if input.ndim else 1
    low = -n if op == "index_fill" else 0
    if idx.size and (idx.min() < low or idx.max() >= n):
        exc, prefix = _OUT_OF_BOUNDS[op]
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {d} with size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    if source is None:
        return d, idx
    check_tensor(source, op, "source")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}_(): self ({input.dtype}) and source ({source.dtype}) must have "
                           f"the same scalar type")
    expected = tuple(len(idx) if i == d else s for i, s in enumerate(input.shape))
    if op == "index_add" and tuple(source.shape) != expected and (
            input.ndim == 0 or source.ndim != input.ndim):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    if tuple(source.shape) != expected and not (input.ndim == 0 and source.numel() == 1
                                                and len(idx) == 1):
        raise RuntimeError(f"{op}(): source of shape {tuple(source.shape)} does not match the "
                           f"expected shape {expected} (input {tuple(input.shape)}, "
                           f"{len(idx)} indices along dim {d})")
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = len(idx)
    full = np.broadcast_to(idx.reshape(shape), source._data.shape).copy()
    return d, full


def index_add(input, dim, index, source, *, alpha=1):
    """out = input, then out[…, index[i], …] += alpha · source[…, i, …] along ``dim``
    (repeated indices add up). Shapes: input (*), index (k,), source as input with k along
    ``dim``. Gradients: ∂/∂input = ḡ, ∂/∂source = alpha · ḡ[…, index, …]."""
    d, full = _along(input, dim, index, source, "index_add")
    if input.ndim == 0:
        return index_add(input.reshape(1), dim, index, source.reshape(1), alpha=alpha) \
            .reshape(())
    if input._data.dtype.kind in "iu":   # torch casts alpha to the integer dtype (2.5 -> 2;
        alpha = wrapped_int(int(alpha), input._data.dtype)   # −1 as uint8 is 255)
    return write_at("IndexAddBackward0", input, source, _mesh(full, d), accumulate=True,
                    alpha=alpha)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """out = input, then each slice source[…, i, …] is combined into out[…, index[i], …]
    along ``dim`` by ``reduce``: 'prod', 'mean', 'amax' or 'amin' (``include_self=False``:
    the slices written start from the source values alone). It is :func:`scatter_reduce` with
    index broadcast over source's shape, so values and gradients are those. Shapes as
    :func:`index_add`'s."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d, full = _along(input, dim, index, source, "index_reduce")
    if input.ndim == 0:
        return index_reduce(input.reshape(1), 0, index.reshape(-1), source.reshape(-1), reduce,
                            include_self=include_self).reshape(())
    return _reduce_into(input, d, full, source, reduce, include_self,
                        (IndexReduceProd, IndexReduce))


class IndexReduceProd(ScatterProd):
    """index_reduce's 'prod': :class:`ScatterProd` under torch's name for it."""
    backward_name = "IndexReduceBackward0"


class IndexReduce(ScatterReduce):
    """index_reduce's 'mean', 'amax', 'amin': :class:`ScatterReduce` under torch's name."""
    backward_name = "IndexReduceBackward0"


def index_copy(input, dim, index, source):
    """out = input, then out[…, index[i], …] = source[…, i, …] along ``dim``. Shapes as
    :func:`index_add`'s; index int64. Gradients: ∂/∂input = ḡ with the copied slices zeroed,
    ∂/∂source = ḡ[…, index, …]."""
    d, full = _along(input, dim, index, source, "index_copy")
    if input.ndim == 0:
        return where(input._make(np.ones((), bool)), source.reshape(()), input)
    return write_at("IndexCopyBackward0", input, source, _mesh(full, d))


def index_fill(input, dim, index, value):
    """out = input with every slice ``index[i]`` along ``dim`` set to ``value`` (negative
    indices count from the end). Gradient: ḡ with those slices zeroed."""
    if input.ndim == 0:   # torch: one element, index 0 or −1
        return index_fill(input.reshape(1), dim, index, value).reshape(())
    d, idx = _along(input, dim, index, None, "index_fill")
    mask = np.zeros(input._data.shape, bool)
    mask[(slice(None),) * d + (idx,)] = True
    if isinstance(value, TensorBase):
        return where(input._make(mask), value.to(input.dtype), input)
    return _IndexFill.apply(input, mask=mask, value=value)


def index_put(input, indices, values, accumulate=False):
    """out = input with out[indices] = values (``accumulate``: += , repeats adding up);
    ``indices`` is a tuple of index tensors (advanced indexing: out[i₀[j], i₁[j], …]),
    ``values`` a tensor broadcasting to the indexed shape. Gradients: ∂/∂input = ḡ (with the
    written positions zeroed unless ``accumulate``), ∂/∂values = ḡ[indices]."""
    check_tensor(input, "index_put")
    for i, k in enumerate(indices):
        if not isinstance(k, TensorBase):
            raise TypeError(f"index_put(): expected Tensor as element {i} in argument 1, but got "
                            f"{type(k).__name__}")
    if not isinstance(values, TensorBase):
        raise TypeError(f"index_put(): argument 'values' (position 3) must be Tensor, not "
                        f"{type(values).__name__}")
    key = tuple(k._data for k in indices)
    for k in key:
        if k.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    n_dims = sum(k.ndim if k.dtype == np.bool_ else 1 for k in key)
    if n_dims > input.ndim:
        raise IndexError(f"index_put(): too many indices for tensor of dimension {input.ndim} "
                         f"(got {n_dims})")
    for k, size in zip(key, input.shape):
        if k.dtype != np.bool_ and k.size and (k.min() < -size or k.max() >= size):
            bad = int(k.max() if k.max() >= size else k.min())
            raise IndexError(f"index {bad} is out of bounds for dimension with size {size}")
    target = np.empty(input._data.shape, np.bool_)[key].shape
    _same_dtype(input, values, "index_put")
    try:
        values = broadcast_to(values, target) if tuple(values.shape) != target else values
    except (RuntimeError, ValueError):
        raise RuntimeError(f"index_put(): shape mismatch: value tensor of shape "
                           f"{list(values.shape)} cannot be broadcast to indexing result of shape "
                           f"{list(target)}") from None
    return write_at("IndexPutBackward0", input, values, key, accumulate=bool(accumulate))


def masked_scatter(input, mask, source):
    """out = input, with the positions where ``mask`` is True (broadcast to input) filled with
    the leading elements of ``source`` in row-major order (input and mask broadcast together;
    source needs at least as many elements as the mask has Trues). Gradients: ∂/∂input = ḡ
    where the mask is False, ∂/∂source = ḡ[mask] in its leading elements, zero after."""
    check_tensor(input, "masked_scatter")
    # the out-of-place form broadcasts self with the mask (torch names the in-place op here)
    input, m = _with_mask(input, mask, "masked_scatter", "masked_scatter_")
    k = int(m.sum())
    if source.numel() < k:
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements, got "
                           f"{source.numel()}")
    _same_dtype(input, source, "masked_scatter")
    return write_at("MaskedScatterBackward0", input, source, m, count=k)


_MaskedSelect = GetItem.named("MaskedSelectBackward0")


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True (both broadcast), as a 1-D tensor."""
    check_tensor(input, "masked_select")
    x, m = _with_mask(input, mask, "masked_select", "masked_select")
    return _MaskedSelect.apply(x, key=m, basic=False)


def _with_mask(input, mask, op, dtype_op):
    """(input, mask as an array) broadcast to their common shape; the mask must be bool
    (``dtype_op`` names the op in that error, as torch's message does)."""
    m = mask._data if isinstance(mask, TensorBase) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{dtype_op}: expected BoolTensor for mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the mask's shape {tuple(m.shape)} and the input's "
                           f"{tuple(input.shape)} cannot be broadcast together") from None
    if shape != input._data.shape:
        input = expand(input, *shape)
    return input, np.broadcast_to(m, shape)


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


def nonzero_static(input, *, size, fill_value=-1):
    """:func:`nonzero` with a fixed number of rows: the first ``size`` index rows, padded with
    ``fill_value`` when there are fewer. Shape: (size, ndim), int64."""
    check_tensor(input, "nonzero_static")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size!r}")
    found = np.argwhere(input._data).astype(np.int64)[:size]
    out = np.full((int(size), input.ndim), fill_value, np.int64)
    out[:len(found)] = found
    return input._make(out)


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


def _unique_dim(input, dim, op):
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dim(dim, input.ndim, op)
    if any(n == 0 for i, n in enumerate(input.shape) if i != d):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    return d


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), with ``return_inverse`` where each element went and
    ``return_counts`` how often each occurs; with ``dim``, the distinct slices along it.
    Not differentiable (as torch)."""
    check_tensor(input, "unique")
    data = input._data
    if dim is None:
        # torch keeps every nan apart (nan != nan)
        values, inverse, counts = np.unique(data.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        inverse = inverse.reshape(data.shape)
    else:
        d = _unique_dim(input, dim, "unique")
        values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    return _unique_results(input, values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values (or slices along ``dim``) to one; without
    ``dim`` the input is flattened. ``return_inverse``: the run each element belongs to (input's
    shape, int64); ``return_counts``: each run's length. Not differentiable (as torch)."""
    check_tensor(input, "unique_consecutive")
    data = input._data
    d = None if dim is None else _unique_dim(input, dim, "unique_consecutive")
    x = data.reshape(-1) if d is None else np.moveaxis(data, d, 0)
    if x.shape[0] <= 1:
        new = np.ones(x.shape[0], bool)
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




# ------------------------------------------------ embedding a slice, a select or a diagonal
def _embed(name, input, src, key, op):
    """out = input with out[key] = src (src cast to input's dtype; its shape must equal that
    of input[key]): the one primitive :class:`WriteAt`, recorded under ``name``."""
    check_tensor(input, op)
    check_tensor(src, op, "src")
    target = np.empty(input._data.shape, np.bool_)[key].shape
    if tuple(src.shape) != target:
        raise RuntimeError(f"{op}: expected src to have a size equal to the slice of self. src "
                           f"size = {list(src.shape)}, slice size = {list(target)}")
    if src._data.dtype != input._data.dtype:
        src = src.to(input.dtype)
    return write_at(name, input, src, key)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim`` replaced by ``src``
    (src of the shape of that slice; start/end clamp to the dim, negative ones count from its
    end, step > 0). Gradients: ∂/∂input = ḡ with the slice zeroed, ∂/∂src = ḡ[slice]."""
    check_tensor(input, "slice_scatter")
    d = normalize_dim(dim, input.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice_scatter: slice step must be positive")
    key = (slice(None),) * d + (slice(start, end, step),)
    return _embed("SliceScatterBackward0", input, src, key, "slice_scatter")


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src`` (src of
    input's shape without ``dim``). Gradients: ∂/∂input = ḡ with that slice zeroed,
    ∂/∂src = ḡ.select(dim, index)."""
    check_tensor(input, "select_scatter")
    d = normalize_dim(dim, input.ndim, "select_scatter")
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select_scatter: select(): index {index} out of range for tensor of "
                         f"size {list(input.shape)} at dimension {dim}")
    key = (slice(None),) * d + (index % size,)
    return _embed("SelectScatterBackward0", input, src, key, "select_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``
    (src of that diagonal's shape: input's without dim1 and dim2, the diagonal's length
    last). Gradients: ∂/∂input = ḡ off the diagonal (0 on it), ∂/∂src = ḡ's diagonal."""
    check_tensor(input, "diagonal_scatter")
    d1 = normalize_dim(dim1, input.ndim, "diagonal_scatter")
    d2 = normalize_dim(dim2, input.ndim, "diagonal_scatter")
    if d1 == d2:
        raise RuntimeError(f"diagonal_scatter: diagonal dimensions cannot be identical {dim1}, "
                           f"{dim2}")
    shape = input._data.shape
    # the diagonal's positions as index arrays (one per dim) of the diagonal's own shape
    positions = np.diagonal(np.arange(int(np.prod(shape))).reshape(shape), int(offset), d1, d2)
    key = np.unravel_index(positions, shape)
    return _embed("DiagonalScatterBackward0", input, src, key, "diagonal_scatter")
