"""Indexing primitives: x[key], gather, and their adjoints (scatter-add), as pairs.

Reading elements (getitem, gather) is linear; its transpose writes the gradient back to the
positions read, adding where a position was read more than once — the adjoint op. Each op of a
pair is the other's transpose, so both are differentiable to any order.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .._graph import Node
from .._tensor_base import TensorBase, normalize_dim
from ._util import check_tensor
from .elementwise import MaskedFill, where


def convert_key(key, op):
    """Tensors in an index become arrays; lists become integer/bool arrays (a list read as a
    tuple first where torch reads it so: ``_read_as_tuple``)."""
    if isinstance(key, list) and _read_as_tuple(key):
        warnings.warn(f"{op}: indexing with a list that holds tensors, sequences, slices, None "
                      "or ... is deprecated (torch 2.13 reads it as a tuple of indices, as "
                      "here, and will read it as one index tensor); use x[tuple(seq)]",
                      UserWarning, stacklevel=4)
        key = tuple(key)
    if isinstance(key, tuple):
        return tuple(_convert_one(k, op) for k in key)
    return _convert_one(key, op)


# what torch's legacy rule counts as a multi-dimensional index inside a list
_TUPLE_MARKERS = (TensorBase, list, tuple, range, str, bytes, np.ndarray, slice)


def _read_as_tuple(key):
    """torch's legacy rule for a list index, still applied by torch 2.13 (with a deprecation
    warning): a list of fewer than 32 items of which one is a tensor, a sequence, a slice, None
    or ``...`` indexes as the tuple of its items, so ``x[[rows, cols]]`` is ``x[rows, cols]``
    and ``x[[0, slice(None)]]`` is ``x[0, :]``; a list of ints or bools stays one index array."""
    if len(key) >= 32:
        return False
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, _TUPLE_MARKERS):
            return True
    return False


def _convert_one(k, op):
    if isinstance(k, TensorBase):
        if k._data.dtype.kind not in "biu":
            raise IndexError(f"{op}: tensors used as indices must be long, int, byte or bool "
                             f"tensors, got {k.dtype}")
        if k._data.dtype == np.uint8:   # torch reads a byte tensor as a mask, not as indices
            warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                          "torch.bool instead.", UserWarning, stacklevel=3)
            return k._data.astype(np.bool_)
        return k._data
    if isinstance(k, list):
        arr = np.asarray(k)
        if arr.size and arr.dtype.kind not in "biu":
            raise IndexError(f"{op}: index lists must hold ints or bools, got {arr.dtype}")
        return arr.astype(np.int64) if arr.size == 0 else arr
    if isinstance(k, (str, bytes)):   # torch: TypeError (NumPy would say IndexError)
        raise TypeError(f"{op}: a string is not a valid index, got {k!r}; index with ints, "
                        "slices, None, ..., or integer/bool tensors")
    return k


def _is_int(k):
    if isinstance(k, np.ndarray):
        return k.ndim == 0 and k.dtype.kind in "iu"
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def split_int_key(key):
    """torch's order for a key mixing ints and index tensors: the ints (and 0-d integer tensors)
    select first, then the tensors index what is left, with NumPy's rule for where the
    broadcast index dims go among the remaining indices. NumPy instead counts an int as one
    more index array, so ``zeros(2, 3, 4)[0, :, t]`` (t of length 2) is (3, 2) in torch but
    (2, 3) in NumPy. Returns ``(ints, rest)`` — ``x[key]`` in torch is ``x[ints][rest]`` in
    NumPy, ``ints`` being basic (a view) — or None when NumPy's one-step answer is torch's
    (no int, or no index tensor)."""
    if not isinstance(key, tuple):
        return None
    has_int = has_array = False
    for k in key:
        if _is_int(k):
            has_int = True
        elif isinstance(k, np.ndarray) or isinstance(k, (bool, np.bool_)):
            has_array = True
    if not (has_int and has_array):
        return None
    ints, rest = [], []
    for k in key:
        if _is_int(k):
            ints.append(int(k))
        elif k is None or isinstance(k, (bool, np.bool_)):
            rest.append(k)          # adds a dim: nothing to select
        elif k is Ellipsis:
            ints.append(k)
            rest.append(k)
        else:                       # a slice or an index array: keep the dims it spans
            ints.extend([slice(None)] * (k.ndim if isinstance(k, np.ndarray) and
                                         k.dtype == np.bool_ else 1))
            rest.append(k)
    return tuple(ints), tuple(rest)


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis for k in parts)


class GetItem(Node):
    """y = x[key]; transpose: scatter ḡ into zeros of x's shape, adding repeats (IndexAdd)."""

    linear = True
    params = ("key", "basic")
    data_params = ("key",)   # a tensor's values: traced by a graph capture
    backward_name = "IndexBackward0"

    def forward(self, x):
        self.in_shape = x.shape
        return x[self.key]

    def transpose(self, xp, g):
        return xp.apply(IndexAdd, g, key=self.key, shape=self.in_shape, basic=self.basic)


class GetItemView(GetItem):
    is_view = True  # basic indexing returns a view of x's memory
    writes_key = True   # its transpose: ḡ written at key into zeros (IndexAdd, basic)


class IndexAdd(Node):
    """y = zeros(shape); y[key] += g — the adjoint of GetItem (its transpose is GetItem)."""

    linear = True
    params = ("key", "shape", "basic")
    data_params = ("key",)   # a tensor's values: traced by a graph capture

    def forward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        if self.basic:
            out[self.key] = g  # basic indices never repeat a position
        elif not _add_rows_at(out, self.key, g):
            np.add.at(out, self.key, g)
        return out

    def transpose(self, xp, g):
        return xp.apply(GetItemView if self.basic else GetItem, g, key=self.key, basic=self.basic)


ROWS_AT_MIN = 64   # below this many indices np.add.at costs less than the sorting below


def _add_rows_at(out, key, g):
    """``np.add.at(out, key, g)`` for ``out`` zeros, ``key`` one integer array indexing its
    rows (an embedding's backward), bit for bit, or False where it does not apply: ``key`` of
    another form, out's rows of one element, a dtype other than float32/float64, fewer than
    ``ROWS_AT_MIN`` indices, an index out of range (np.add.at raises its error).

    np.add.at adds row by row, ``out[key[i]] += g[i]`` for i in order: 1.8 ms for 2048 indices
    into an (88, 128) float32 table, against ~50 µs for torch's index_add_, which adds in the
    same order (so its sums are these, bit for bit). Here each row's terms are kept in index
    order and added in "rank passes": pass r adds the r-th term of every row hit more than r
    times in one vectorized add (rows most hit first, so those still going are a prefix),
    ~180 µs; a row hit more than ~√n times is summed down its own block instead
    (np.add.reduce along axis 0 of a (count, D) block, D > 1, adds the rows in order: no
    pairwise summation), so neither loop runs more than ~√n times. The table starts at zero
    and np.add.at adds 0 + g first: summing from the first term instead differs only in the
    sign of a zero, which the final 0 + sum makes +0.0 in both."""
    if type(key) is tuple and len(key) == 1:
        key = key[0]
    if (type(key) is not np.ndarray or key.dtype.kind not in "iu" or out.ndim < 2
            or g.dtype not in (np.float32, np.float64) or key.size < ROWS_AT_MIN
            or g.shape != key.shape + out.shape[1:]):
        return False
    V, n = out.shape[0], key.size
    D = out.size // V if V else 0
    if D < 2:
        return False
    idx = key.reshape(-1)
    lo, hi = int(idx.min()), int(idx.max())
    if lo < -V or hi >= V:
        return False
    idx = idx.astype(np.intp)
    if lo < 0:
        idx[idx < 0] += V
    g2, out2 = g.reshape(n, D), out.reshape(V, D)
    counts = np.bincount(idx, minlength=V)
    # each row's terms in index order (a stable sort: radix for 8/16-bit keys, ~10 µs)
    order = np.argsort(idx.astype(np.uint8 if V <= 256 else np.uint16 if V <= 65536
                                  else np.intp), kind="stable")
    sidx = idx[order]
    ends = np.cumsum(counts)
    rank = np.arange(n) - (ends - counts)[sidx]   # each sorted term's place in its row
    cmax, limit = int(counts.max()), max(8, math.isqrt(n))
    if cmax > limit:
        big = np.flatnonzero(counts > limit)
        for r, e, c in zip(big.tolist(), ends[big].tolist(), counts[big].tolist()):
            out2[r] += np.add.reduce(g2.take(order[e - c:e], axis=0), axis=0)
        counts[big] = 0
        keep = counts[sidx] > 0
        order, sidx, rank = order[keep], sidx[keep], rank[keep]
        cmax = int(counts.max())
        if cmax == 0:
            return True
    G = int(np.count_nonzero(counts))
    rows = np.argsort(-counts, kind="stable")[:G]        # the rows hit, most hit first
    place = np.empty(V, np.intp)
    place[rows] = np.arange(G)
    # rows hit more than r times, r = 0 .. cmax-1, and where pass r's terms start
    active = np.bincount(counts[rows], minlength=cmax + 1)[::-1].cumsum()[::-1][1:]
    starts = np.zeros(cmax, np.intp)
    np.cumsum(active[:-1], out=starts[1:])
    perm = np.empty(len(order), np.intp)
    perm[starts[rank] + place[sidx]] = order
    terms = g2.take(perm, axis=0)                          # pass by pass
    acc = terms[:G]
    for a, s in zip(active[1:].tolist(), starts[1:].tolist()):
        np.add(acc[:a], terms[s:s + a], out=acc[:a])
    out2[rows] += acc
    return True


def _mesh(index, dim):
    """Index arrays selecting x[..., index[...], ...] at ``dim`` (for gather/scatter)."""
    idx = list(np.ogrid[tuple(slice(s) for s in index.shape)])
    idx[dim] = index
    return tuple(idx)


class Gather(Node):
    """out[i][j][k] = x[i][index[i][j][k]][k] (for dim = 1). Transpose: scatter-add into zeros."""

    linear = True
    params = ("dim", "index")
    data_params = ("index",)   # a tensor's values: traced by a graph capture

    def forward(self, x):
        self.in_shape = x.shape
        return x[_mesh(self.index, self.dim)]

    def transpose(self, xp, g):
        return xp.apply(ScatterAdd, g, dim=self.dim, index=self.index, shape=self.in_shape)


class ScatterAdd(Node):
    """out = zeros(shape); out[index at dim] += src — the adjoint of Gather."""

    linear = True
    params = ("dim", "index", "shape")
    data_params = ("index",)   # a tensor's values: traced by a graph capture

    def forward(self, src):
        out = np.zeros(self.shape, dtype=src.dtype)
        np.add.at(out, _mesh(self.index, self.dim), src)
        return out

    def transpose(self, xp, g):
        return xp.apply(Gather, g, dim=self.dim, index=self.index)


class WriteAt(Node):
    """out = x with out[key] = α·src (``accumulate``: out[key] += α·src, repeats adding up),
    ``key`` an advanced index (NumPy's), ``src`` broadcasting to x[key]'s shape; with ``count``,
    src's leading ``count`` elements in row-major order are written (masked_scatter). Linear
    in (x, src) together; transpose: x̄ = ḡ (accumulate) or ḡ with the written positions zeroed,
    s̄rc = α·ḡ[key] (every src element gets the gradient of the position it was written to, as
    torch's, even where a repeated position kept another's value). One primitive, recorded
    under each torch name: scatter, scatter_add, index_add, index_copy, index_put,
    masked_scatter."""

    linear = True
    params = ("key", "accumulate", "alpha", "count")
    data_params = ("key",)   # a tensor's values: traced by a graph capture

    def forward(self, x, src):
        self.src_shape = src.shape
        if self.count is not None:
            src = src.reshape(-1)[:self.count]
        if self.alpha != 1:
            src = src * x.dtype.type(self.alpha)
        out = x.copy()
        if self.accumulate:
            np.add.at(out, self.key, src)
        else:
            out[self.key] = src
        return out

    def transpose(self, xp, g):
        if self.accumulate:
            g_x = g
        else:
            written = np.zeros(xp.data(g).shape, bool)
            written[self.key] = True
            g_x = xp.apply(MaskedFill, g, mask=written, value=0)
        g_src = xp.apply(GetItem, g, key=self.key, basic=False)
        if self.alpha != 1:
            g_src = g_src * self.alpha
        if self.count is not None:    # back into the shape of the whole source, zero past count
            size = int(np.prod(self.src_shape))
            g_src = xp.reshape(xp.apply(IndexAdd, g_src, key=(slice(0, self.count),),
                                        shape=(size,), basic=True), self.src_shape)
        return g_x, g_src


def write_at(name, x, src, key, accumulate=False, alpha=1, count=None):
    """``WriteAt`` recorded under torch's node name ``name``."""
    return _WRITE_NAMED[name].apply(x, src, key=key, accumulate=accumulate, alpha=alpha,
                                    count=count)


_WRITE_NAMED = {name: WriteAt.named(name) for name in (
    "ScatterBackward0", "ScatterAddBackward0", "IndexAddBackward0", "IndexCopyBackward0",
    "IndexPutBackward0", "MaskedScatterBackward0", "ScatterReduceBackward0", "CopySlices",
    "FillBackward0", "FillBackward1", "SliceScatterBackward0", "SelectScatterBackward0",
    "DiagonalScatterBackward0")}


# torch records basic indexing as a chain of select/slice/unsqueeze views, one per index; the
# one node here carries the name of the last (outermost) of them
_VIEW_NAMED = {kind: GetItemView.named(name) for kind, name in (
    ("int", "SelectBackward0"), ("slice", "SliceBackward0"), ("None", "UnsqueezeBackward0"),
    ("alias", "AliasBackward0"), ("split", "SplitBackward0"),
    ("split_sizes", "SplitWithSizesBackward0"), ("unbind", "UnbindBackward0"))}
_IndexSelect = GetItem.named("IndexSelectBackward0")


def _view_kind(key):
    for k in reversed(key if isinstance(key, tuple) else (key,)):
        if k is None:
            return "None"
        if isinstance(k, slice):
            if k != slice(None):
                return "slice"
        elif k is not Ellipsis:
            return "int"
    return "alias"


def _getitem(x, key, basic, kind=None):
    """x[key] recorded under torch's name: ``kind`` names the operation (split, unbind, ...)
    or is read from the key."""
    if not basic:
        return (_IndexSelect if kind == "index_select" else GetItem).apply(x, key=key, basic=False)
    return _VIEW_NAMED[kind or _view_kind(key)].apply(x, key=key, basic=True)


def getitem(input, key):
    """``input[key]`` with ints, slices, None, Ellipsis, bool masks and integer arrays (NumPy
    semantics, as torch's)."""
    key = convert_key(key, "__getitem__")
    parts = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, slice) and k.step is not None and k.step <= 0 for k in parts):
        raise ValueError("__getitem__: step must be greater than zero (use flip() to reverse)")
    basic = _is_basic(key)
    try:
        split = None if basic else split_int_key(key)
        if split is not None:
            return _getitem(_getitem(input, split[0], True), split[1], False)
        return _getitem(input, key, basic)
    except IndexError as e:
        if input.ndim == 0:
            raise IndexError(f"__getitem__: invalid index of a 0-dim tensor ({e}); use "
                             "tensor.item() to get its number") from None
        raise IndexError(f"__getitem__: {e} (tensor shape {tuple(input.shape)})") from None


def _check_index(input, dim, index, op):
    check_tensor(input, op)
    if not isinstance(index, TensorBase) or index._data.dtype.kind not in "iu":
        raise (RuntimeError if isinstance(index, TensorBase) else TypeError)(
            f"{op}: index must be an integer tensor, got "
            f"{getattr(index, 'dtype', type(index).__name__)}")
    d = normalize_dim(dim, input.ndim, op)
    if input.ndim == 0:
        idx = index._data.astype(np.int64)
        if idx.ndim > 1 or idx.size > 1 or (idx.size and idx.reshape(-1)[0] != 0):
            raise RuntimeError(f"{op}: a 0-dim input takes an index of at most one element, 0, "
                               f"got {idx.tolist()}")
        return 0, idx
    if index.ndim != input.ndim:
        raise RuntimeError(f"{op}: index tensor must have the same number of dimensions as input "
                           f"({input.ndim}), got {index.ndim}")
    idx = index._data.astype(np.int64)
    for i, (si, sx) in enumerate(zip(idx.shape, input._data.shape)):
        if i != d and si > sx:
            raise RuntimeError(f"{op}: size of index {tuple(idx.shape)} must not exceed input "
                               f"size {tuple(input.shape)} apart from dimension {d}")
    n = input._data.shape[d] if input.ndim else 1
    # torch refuses negative indices here (NumPy would count them from the end)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise RuntimeError(f"{op}: index {int(idx.max() if idx.max() >= n else idx.min())} is "
                           f"out of bounds for dimension {d} with size {n}")
    return d, idx


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j][k] = input[i][index[i][j][k]][k] (for dim = 1; likewise for other dims).
    ``index`` has input's number of dims and is no larger than input apart from ``dim``; the
    output has index's shape. Gradient: scatter-add of ḡ back to the positions read.
    ``sparse_grad`` (a torch storage option) makes no difference here."""
    if isinstance(index, TensorBase) and index._data.size == 0 and index.ndim != input.ndim:
        return input.reshape(-1)[:0].reshape(index.shape)   # torch reads nothing, checks nothing
    d, idx = _check_index(input, dim, index, "gather")
    if input.ndim == 0:    # a 0-d input is read as one element
        return Gather.apply(input.reshape(1), dim=0, index=idx.reshape(-1)).reshape(idx.shape)
    x = input
    if any(si < sx for i, (si, sx) in enumerate(zip(idx.shape, x._data.shape)) if i != d):
        x = x[tuple(slice(0, si) if i != d else slice(None) for i, si in enumerate(idx.shape))]
    return Gather.apply(x, dim=d, index=idx)


def scatter_add(input, dim, index, src):
    """out = input, then out[index at dim] += src (differentiable in input and src)."""
    d, idx = _check_index(input, dim, index, "scatter_add")
    check_tensor(src, "scatter_add", "src")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if idx.ndim != src.ndim or any(si > ss for si, ss in zip(idx.shape, src._data.shape)):
        raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                           f"{list(input.shape)} apart from dimension {d} and to be no larger "
                           f"size than src {list(src.shape)}")
    if input.ndim == 0:
        return input + src.reshape(-1)[:idx.size].sum(dtype=input.dtype)
    if idx.shape != src._data.shape:
        src = src[tuple(slice(0, s) for s in idx.shape)]
    return write_at("ScatterAddBackward0", input, src, _mesh(idx, d), accumulate=True)


def index_select(input, dim, index):
    """Rows (or slices along ``dim``) picked by a 1-d integer ``index``; a 0-d input reads as
    one element (index 0, giving a 0-d result)."""
    if input.ndim == 0:
        if isinstance(index, TensorBase) and index._data.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{index._data.size} value(s)")
        return index_select(input.reshape(1), dim, index.reshape(1)).reshape(())
    d = normalize_dim(dim, input.ndim, "index_select")
    # torch's types: not a tensor TypeError, a float tensor RuntimeError, not 1-d IndexError
    if not isinstance(index, TensorBase):
        raise TypeError(f"index_select: index must be a 1-d integer tensor, got "
                        f"{type(index).__name__}")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"index_select: index must be a 1-d integer tensor, got {index.dtype}")
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be a 1-d integer tensor, got "
                         f"{index.ndim} dims")
    key = (slice(None),) * d + (index._data.reshape(-1),)
    if index._data.size and index._data.min() < 0:   # torch does not count from the end here
        raise IndexError(f"index_select: index {int(index._data.min())} is out of range for "
                         f"dimension {d} of size {input.shape[d]} (negative indices are not "
                         "allowed)")
    try:
        return _getitem(input, key, False, "index_select")
    except IndexError as e:
        raise IndexError(f"index_select: {e} (tensor shape {tuple(input.shape)})") from None


def masked_fill(input, mask, value):
    """Elements where the bool ``mask`` is True become ``value`` (mask broadcasts to input)."""
    m = mask._data if isinstance(mask, TensorBase) else np.asarray(mask)
    if m.dtype != np.bool_:   # torch: a bool-less tensor is a RuntimeError, a list a TypeError
        exc = RuntimeError if isinstance(mask, TensorBase) else TypeError
        raise exc(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        shape = None
    if shape != input._data.shape:
        raise RuntimeError(f"masked_fill: mask of shape {tuple(m.shape)} does not broadcast to "
                           f"the input's shape {tuple(input.shape)}")
    if isinstance(value, TensorBase):
        if value.ndim != 0:   # one value for every masked element, not a tensor spread over them
            raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s) (shape {tuple(value.shape)})")
        return where(input._make(m), value.to(input.dtype), input)
    if input._data.dtype.kind in "iu" and not isinstance(value, (bool, np.bool_)):
        _check_fits_integer(value, input._data.dtype, "masked_fill")
    # the mask as it is (NumPy broadcasts it): a compiled graph reads a mask computed in the
    # graph from that value, which it could not from a broadcast view of it
    return MaskedFill.apply(input, mask=m, value=value)


def _check_fits_integer(value, dtype, op):
    """torch's overflow check of a number written into an integer tensor: nan, ±inf and values
    past the dtype's range raise instead of wrapping (an unsigned dtype takes negatives down to
    −(max + 1), which wrap, as torch's)."""
    info = np.iinfo(dtype)
    low = info.min if info.min < 0 else -(info.max + 1)
    if not (math.isfinite(value) and low <= value <= info.max):
        raise RuntimeError(f"{op}: value {value} cannot be converted to type {dtype} without "
                           "overflow")
