"""Ordering ops: sort, argsort, topk, kthvalue, median, mode, cummax/cummin.

Each finds, on the arrays, *which* element goes where (an index), then reads the values with a
gather — a linear primitive whose transpose scatters the gradient back to the chosen elements
(torch's rule for every one of these ops). So one derivative rule serves them all, under each
op's torch name. Ties are broken as a stable sort breaks them (the first occurrence first),
which is torch's order for sort; for kthvalue, median along a dim and mode (quickselect and
introsort kernels in torch) the index among tied values may differ from torch's, the values
never do. NaN counts as larger than every number, as in torch.
"""
from __future__ import annotations


import numpy as np

from .. import return_types

from .._graph import Node
from .._tensor_base import normalize_dim
from ._util import check_tensor
from .reduction import MaxAlong as Selected

# one gather (the dim dropped unless keepdim) under each op's torch name
_SortBackward = Selected.named("SortBackward0")
_TopkBackward = Selected.named("TopkBackward0")
_KthvalueBackward = Selected.named("KthvalueBackward0")
_MedianBackward = Selected.named("MedianBackward1")
_NanmedianBackward = Selected.named("NanmedianBackward1")
_ModeBackward = Selected.named("ModeBackward0")
_CummaxBackward = Selected.named("CummaxBackward0")
_CumminBackward = Selected.named("CumminBackward0")

sort_result = return_types.sort


def _order(x, axis, descending):
    """Stable argsort along ``axis``; NaN sorts as the largest value (last ascending, first
    descending), integers descend through their bitwise complement (no overflow)."""
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        if descending:
            return np.lexsort((-x, ~nan), axis=axis)
        return np.argsort(x, axis=axis, kind="stable")
    return np.argsort(np.invert(x) if descending else x, axis=axis, kind="stable")


def _dim(input, dim, op):
    return normalize_dim(dim, input.ndim, op)   # a 0-d tensor takes dims -1 and 0 only


def _no_bool(input, op, kernel):
    """torch's CPU kernels for these ops have no bool version."""
    if input._data.dtype == np.bool_:
        if op == "topk":
            raise RuntimeError("topk does not support bool dtypes on CPU")
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _nonempty(input, d, op):
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def _take(node, input, d, index, keepdim=True):
    """input's values at ``index`` along ``d`` (one recorded gather), the dim dropped unless
    ``keepdim``."""
    return node.apply(input, dim=d, index=index, keepdim=keepdim)


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices): ``input`` sorted along ``dim`` (ascending unless ``descending``) and
    where each value came from: values[…, j, …] = input[…, indices[…, j, …], …]. Always stable
    (``stable`` is accepted for torch's signature): equal values keep their order, as torch's
    ``stable=True``; nan sorts as the largest value.
    where each value came from. Stable (ties keep their order). Shapes: (*) -> (*), (*) int64.
    The gradient of values flows back to the element each came from."""
    check_tensor(input, "sort")
    d = _dim(input, dim, "sort")
    if input.ndim == 0:
        return sort_result(input.clone(), input._make(np.zeros((), np.int64)))
    index = _order(input._data, d, descending)
    return sort_result(_take(_SortBackward, input, d, index), input._make(index))


def argsort(input, dim=-1, descending=False, stable=False):
    """The int64 indices that sort ``input`` along ``dim`` (:func:`sort`'s ``indices``; not
    differentiable). Shapes: (*) -> (*)."""
    return sort(input, dim, descending, stable).indices


def msort(input):
    """``input`` sorted along dim 0 (:func:`sort`'s values). Shapes: (*) -> (*)."""
    return sort(input, 0).values


topk_result = return_types.topk


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) elements along
    ``dim``, in sorted order. Shapes: (…, n, …) -> (…, k, …), indices int64; the gradient of
    values goes back to the chosen elements. Among equal values the earlier one comes first;
    with ``sorted=False`` the order is still sorted (torch's is then unspecified)."""
    check_tensor(input, "topk")
    _no_bool(input, "topk", "topk")
    d = _dim(input, dim, "topk")
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k ({k}) out of range for a dimension of size {n}")
    if input.ndim == 0:
        return topk_result(input.clone(), input._make(np.zeros((), np.int64)))
    index = np.take(_order(input._data, d, largest), np.arange(k), axis=d)
    return topk_result(_take(_TopkBackward, input, d, index), input._make(index))


def _kth(input, k, dim, keepdim, op, node, result):
    _no_bool(input, op, "kthvalue_cpu")
    d = _dim(input, dim, op)
    _nonempty(input, d, op)
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"{op}(): selected number k ({k}) out of range for a dimension of "
                           f"size {n}")
    if input.ndim == 0:
        return result(input.clone(), input._make(np.zeros((), np.int64)))
    index = np.take(_order(input._data, d, False), [k - 1], axis=d)
    values = _take(node, input, d, index, keepdim)
    return result(values, input._make(index if keepdim else index.squeeze(d)))


kthvalue_result = return_types.kthvalue


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element (1-based) along ``dim``, the dim dropped
    unless ``keepdim``: (…, n, …) -> (…, …), indices int64; the gradient goes to that element.
    With ties the index is that of a stable sort; torch's CPU kernel (a quickselect) may
    return another of the tied elements."""
    check_tensor(input, "kthvalue")
    return _kth(input, k, dim, keepdim, "kthvalue", _KthvalueBackward, kthvalue_result)


median_result = return_types.median


class _EvenlyShared(Node):
    """y = v, a value of x found in forward (median, nanmedian of the whole tensor), whose
    gradient torch shares evenly among the elements equal to it: with w = [x = v]/#{x = v},
    VJP x̄ = ḡ·w, JVP ẏ = Σ w·ẋ (w a constant: the choice of v is locally fixed)."""

    params = ("value", "weight")
    backward_name = "MedianBackward0"

    def forward(self, x):
        return np.asarray(self.value, x.dtype)

    def vjp(self, xp, g):
        return g * xp.const(self.weight)

    def jvp(self, xp, tangents):
        return xp.sum(tangents[0] * xp.const(self.weight), tuple(range(self.weight.ndim)))


_NanmedianAll = _EvenlyShared.named("NanmedianBackward0")


def _evenly(input, value, node):
    """``value`` (a number of ``input``'s dtype) recorded as ``node``: its gradient shared
    evenly among the elements equal to it (nan counting as equal to nan)."""
    data = input._data
    if data.dtype.kind != "f":    # integers: nothing to differentiate
        return input._make(np.asarray(value, data.dtype))
    hit = (data == value) | (np.isnan(data) & np.isnan(value))
    weight = (hit / max(int(hit.sum()), 1)).astype(data.dtype)
    return node.apply(input, value=value, weight=weight)


def _empty_median(input):
    """torch's median of no elements: nan, cast to the dtype (as its CPU kernel does)."""
    with np.errstate(invalid="ignore"):
        return input._make(np.array(np.nan).astype(input._data.dtype))


def median(input, dim=None, keepdim=False):
    """The lower median: the ⌊(n − 1)/2⌋-th smallest element (nan if any is nan), not the mean
    of the two middle ones. Without ``dim``: one value (0-d), its gradient shared evenly among
    the elements equal to it (torch's rule); with ``dim``: (values, indices) along it, the dim
    dropped unless ``keepdim``, the gradient going to the index. A row holding nan gives nan
    at its first nan. With ties the index is that of a stable sort (torch's CPU kernel may
    return another of the tied elements)."""
    check_tensor(input, "median")
    if dim is None:
        _no_bool(input, "median", "median_cpu")
        data = input._data.reshape(-1)
        if data.size == 0:
            return _empty_median(input)
        value = np.sort(data, kind="stable")[(data.size - 1) // 2]
        if data.dtype.kind == "f" and np.isnan(data).any():
            value = data.dtype.type(np.nan)
        return _evenly(input, value, _EvenlyShared)
    _no_bool(input, "median", "median_out")
    d = _dim(input, dim, "median")
    _nonempty(input, d, "median")
    n = input.shape[d] if input.ndim else 1
    if input.ndim == 0:
        return median_result(input.clone(), input._make(np.zeros((), np.int64)))
    order = _order(input._data, d, False)
    index = np.take(order, [(n - 1) // 2], axis=d)
    if input._data.dtype.kind == "f":   # a row holding nan has median nan, at its first nan
        nan = np.isnan(input._data)
        first_nan = np.argmax(nan, axis=d)
        index = np.where(np.expand_dims(nan.any(axis=d), d),
                         np.expand_dims(first_nan, d), index)
    values = _take(_MedianBackward, input, d, index, keepdim)
    return median_result(values, input._make(index if keepdim else index.squeeze(d)))


nanmedian_result = return_types.nanmedian


def nanmedian(input, dim=None, keepdim=False):
    """:func:`median` ignoring nan: the lower median of the numbers (nan where all are nan).
    Shapes and gradients as :func:`median`'s."""
    check_tensor(input, "nanmedian")
    data = input._data
    if data.dtype.kind != "f":
        out = median(input, dim, keepdim)
        return out if dim is None else nanmedian_result(*out)
    if dim is None:
        numbers = np.sort(data[~np.isnan(data)], kind="stable")
        if data.size == 0:
            return _empty_median(input)
        value = numbers[(numbers.size - 1) // 2] if numbers.size else data.dtype.type(np.nan)
        return _evenly(input, value, _NanmedianAll)
    d = _dim(input, dim, "nanmedian")
    _nonempty(input, d, "median")     # torch's message names median() here too
    if input.ndim == 0:
        return nanmedian_result(input.clone(), input._make(np.zeros((), np.int64)))
    order = _order(data, d, False)                       # nan last
    count = np.sum(~np.isnan(data), axis=d, keepdims=True)
    position = np.maximum(count - 1, 0) // 2
    index = np.take_along_axis(order, position, axis=d)
    values = _take(_NanmedianBackward, input, d, index, keepdim)
    return nanmedian_result(values, input._make(index if keepdim else index.squeeze(d)))


mode_result = return_types.mode


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and the index of its last occurrence, the dim dropped unless ``keepdim``;
    the gradient goes to that element. torch's CPU kernel gives the last occurrence for rows of
    up to 16 elements (its sort is then an insertion sort); for longer rows its index is another
    occurrence of the same value. nan values count as one value here (in torch a row with nan
    sorts in an undefined order)."""
    check_tensor(input, "mode")
    d = _dim(input, dim, "mode")
    _nonempty(input, d, "mode")
    if input.ndim == 0:
        return mode_result(input.clone(), input._make(np.zeros((), np.int64)))
    x = np.moveaxis(input._data, d, -1)
    rows = x.reshape(-1, x.shape[-1])
    n = rows.shape[1]
    if rows.shape[0] == 0:
        index = np.zeros(0, np.int64)
    else:
        # runs of equal values in each stably sorted row (nans one run); a run's length is
        # its end − its start + 1, found for every element by running max/min of positions
        order = np.argsort(rows, axis=1, kind="stable")
        ordered = np.take_along_axis(rows, order, axis=1)
        same = ordered[:, 1:] == ordered[:, :-1]
        if ordered.dtype.kind == "f":
            same |= np.isnan(ordered[:, 1:]) & np.isnan(ordered[:, :-1])
        starts = np.concatenate([np.ones((len(rows), 1), bool), ~same], axis=1)
        ends = np.concatenate([~same, np.ones((len(rows), 1), bool)], axis=1)
        at = np.arange(n)
        start = np.maximum.accumulate(np.where(starts, at, 0), axis=1)
        end = np.minimum.accumulate(np.where(ends, at, n)[:, ::-1], axis=1)[:, ::-1]
        first = np.argmax(end - start, axis=1)       # the longest run, the smallest value first
        last = end[np.arange(len(rows)), first]      # its last element: the last occurrence
        index = order[np.arange(len(rows)), last]
    index = np.expand_dims(index.reshape(x.shape[:-1]), d)
    values = _take(_ModeBackward, input, d, index, keepdim)
    return mode_result(values, input._make(index if keepdim else index.squeeze(d)))


cummax_result = return_types.cummax
cummin_result = return_types.cummin


def _cumulative_extreme(input, dim, op, accumulate, node, result):
    check_tensor(input, op)
    d = _dim(input, dim, op)
    if input.ndim == 0:
        return result(input.clone(), input._make(np.zeros((), np.int64)))
    x = np.moveaxis(input._data, d, 0)
    # torch's rule: a tie moves the index forward (>= / <=), a nan takes over and each later nan
    # moves it again; the running extreme of ``accumulate`` already propagates nan
    best = accumulate.accumulate(x, axis=0)
    hit = x == best
    if x.dtype.kind == "f":
        hit |= np.isnan(x)
    at = np.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    index = np.maximum.accumulate(np.where(hit, at, 0), axis=0) if x.shape[0] else \
        np.zeros(x.shape, np.int64)
    index = index.astype(np.int64, copy=False)
    index = np.moveaxis(index, 0, d)
    return result(_take(node, input, d, index), input._make(index))


def cummax(input, dim):
    """(values, indices): the running maximum along ``dim`` and where it was found (the latest
    of equal values)."""
    return _cumulative_extreme(input, dim, "cummax", np.maximum, _CummaxBackward, cummax_result)


def cummin(input, dim):
    """(values, indices): the running minimum along ``dim`` and where it was found (the latest
    of equal values)."""
    return _cumulative_extreme(input, dim, "cummin", np.minimum, _CumminBackward, cummin_result)
