"""Ordering ops and writing by index, on the edges: 0-d, empty, integer, bool and nan inputs
against torch, torch's exception type for every refused input, gradients (and second
derivatives) of gather/scatter_add and the fused writes, torch's node names, transposed
inputs, and torch's indices on random ties (cummax/cummin/mode)."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check

R = np.random.default_rng(7)
x = lambda *s: R.standard_normal(s)
IDX = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])


# ---------------------------------------------------------------- parity on edge inputs
_Z = np.array(2.5)
_IDX5 = np.array([[0, 1, 2, 0, 1], [2, 0, 0, 1, 2]])

PARITY = [   # (id, fn(lib, *tensors), arrays): every output's values, shape and dtype as torch's
    ("median_int", lambda m, t: m.median(t), [np.array([[3, 1, 2], [5, 4, 0]])]),
    ("median_empty", lambda m, t: m.median(t), [np.zeros(0)]),
    ("median_empty_int", lambda m, t: m.median(t), [np.zeros(0, np.int64)]),
    ("nanmedian_int_dim", lambda m, t: m.nanmedian(t, 1), [np.array([[3, 1, 2], [5, 4, 0]])]),
    ("nanmedian_all_nan", lambda m, t: m.nanmedian(t, 1), [np.array([[np.nan, np.nan], [1.0, np.nan]])]),
    ("median_0d", lambda m, t: m.median(t, -1, True), [_Z]),
    ("kthvalue_0d", lambda m, t: m.kthvalue(t, 1, 0), [_Z]),
    ("mode_0d", lambda m, t: m.mode(t), [_Z]),
    ("mode_int_ties", lambda m, t: m.mode(t, 0), [np.array([[1, 2], [2, 2], [1, 0], [3, 0]])]),
    ("mode_empty_rows", lambda m, t: m.mode(t, 1), [np.zeros((0, 3))]),
    ("cummax_empty", lambda m, t: m.cummax(t, 1), [np.zeros((2, 0))]),
    ("cummin_int", lambda m, t: m.cummin(t, -1), [np.array([[3, 1, 1, 2, 0, 0]])]),
    ("topk_k0", lambda m, t: m.topk(t, 0), [np.ones((2, 3))]),
    ("sort_int_desc", lambda m, t: m.sort(t, descending=True, stable=True), [np.array([3, 1, 3, 2, 1])]),
    ("sort_uint8_desc", lambda m, t: m.sort(t, descending=True, stable=True), [np.array([3, 0, 255, 3], np.uint8)]),
    ("sort_bool", lambda m, t: m.sort(t, stable=True), [np.array([True, False, True])]),
    ("gather_0d", lambda m, t: m.gather(t, 0, m.tensor([0])), [_Z]),
    ("gather_int32_index", lambda m, t: m.gather(t, 1, m.tensor(_IDX5[:, :3].astype(np.int32))), [R.standard_normal((3, 5))]),
    ("gather_sparse_grad", lambda m, t: m.gather(t, 1, m.tensor(_IDX5), sparse_grad=False), [R.standard_normal((3, 5))]),
    ("scatter_0d", lambda m, t, s: m.scatter(t, 0, m.tensor(0), s), [_Z, np.array(-1.0)]),
    ("scatter_0d_value", lambda m, t: m.scatter(t, 0, m.tensor([0]), 4.0), [_Z]),
    ("scatter_add_0d", lambda m, t, s: m.scatter_add(t, 0, m.tensor([0]), s), [_Z, np.array([-1.0])]),
    ("scatter_reduce_0d", lambda m, t, s: m.scatter_reduce(t, 0, m.tensor(0), s, "amax"), [_Z, np.array(3.0)]),
    ("scatter_empty_index", lambda m, t, s: m.scatter(t, 0, m.tensor(np.zeros((0, 5), np.int64)), s),
     [R.standard_normal((3, 5)), R.standard_normal((2, 5))]),
    ("scatter_reduce_int_amax", lambda m, t, s: m.scatter_reduce(t, 1, m.tensor(_IDX5), s, "amax"),
     [np.arange(10).reshape(2, 5) * 7 - 30, _IDX5 + 1]),
    ("scatter_reduce_int_amin_excl", lambda m, t, s: m.scatter_reduce(t, 1, m.tensor(_IDX5), s, "amin",
                                                                      include_self=False),
     [np.arange(10).reshape(2, 5) * 7 - 30, _IDX5 + 1]),
    ("index_add_int_alpha", lambda m, t, s: m.index_add(t, 0, m.tensor([0, 0]), s, alpha=2.5),
     [np.arange(6).reshape(2, 3), np.ones((2, 3), np.int64)]),
    ("index_add_0d", lambda m, t, s: m.index_add(t, 0, m.tensor(0), s), [_Z, np.array(1.0)]),
    ("index_copy_0d", lambda m, t, s: m.index_copy(t, 0, m.tensor([0]), s), [_Z, np.array([1.0])]),
    ("index_fill_negative", lambda m, t: m.index_fill(t, 0, m.tensor([-1]), 1.0), [np.zeros((3, 2))]),
    ("index_put_negative", lambda m, t, v: m.index_put(t, (m.tensor([0, -1]),), v), [np.zeros((3, 2)), np.ones(2)]),
    ("masked_scatter_mask_broadcasts_self", lambda m, t, s: m.masked_scatter(t, m.tensor(np.ones((2, 1, 3), bool)), s),
     [R.standard_normal((2, 3)), R.standard_normal(12)]),
    ("unique_nan_apart", lambda m, t: m.unique(t, return_counts=True), [np.array([np.nan, 1.0, np.nan])]),
    ("unique_0d", lambda m, t: m.unique(t, return_inverse=True, return_counts=True), [_Z]),
    ("unique_empty_selected_dim", lambda m, t: m.unique(t, dim=0, return_inverse=True, return_counts=True),
     [np.zeros((0, 3))]),
    ("unique_dim_neg", lambda m, t: m.unique(t, dim=-1, return_inverse=True, return_counts=True),
     [_IDX5[:, [0, 1, 0, 3]]]),
    ("unique_consecutive_0d", lambda m, t: m.unique_consecutive(t, return_inverse=True, return_counts=True), [_Z]),
    ("unique_consecutive_dim", lambda m, t: m.unique_consecutive(t, dim=1, return_inverse=True, return_counts=True),
     [_IDX5[:, [0, 0, 1, 1, 0]]]),
]


@pytest.mark.parametrize("case", PARITY, ids=[c[0] for c in PARITY])
def test_edge_inputs_match_torch(case):
    _, fn, arrays = case
    mine, theirs = fn(cr, *[cr.tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays])
    if isinstance(theirs, tuple):
        assert isinstance(mine, tuple) and len(mine) == len(theirs)
        if hasattr(theirs, "_fields") and hasattr(type(theirs), "__name__"):   # torch.return_types
            assert type(mine).__name__ == type(theirs).__name__.split(".")[-1]
    mine = mine if isinstance(mine, tuple) else (mine,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(mine, theirs):
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, equal_nan=True)


# ---------------------------------------------------------------- errors: torch's types
TORCH_ERRORS = [   # (id, fn(lib)): torch raises; chainrule must raise the same type, naming the op
    ("sort_0d_dim1", lambda m: m.sort(m.tensor(1.0), 1)),
    ("median_0d_dim1", lambda m: m.median(m.tensor(1.0), 1)),
    ("cummax_dim2", lambda m: m.cummax(m.ones(2, 3), 2)),
    ("kthvalue_empty_dim", lambda m: m.kthvalue(m.zeros(2, 0), 1)),
    ("mode_empty_dim", lambda m: m.mode(m.zeros(2, 0))),
    ("nanmedian_empty_dim", lambda m: m.nanmedian(m.zeros(2, 0), 1)),
    ("topk_bool", lambda m: m.topk(m.tensor([True, False]), 1)),
    ("kthvalue_bool", lambda m: m.kthvalue(m.tensor([True, False]), 1)),
    ("median_bool", lambda m: m.median(m.tensor([True, False]))),
    ("median_bool_dim", lambda m: m.median(m.tensor([True, False]), 0)),
    ("scatter_float_index", lambda m: m.scatter(m.zeros(3), 0, m.tensor([0.0]), m.ones(1))),
    ("scatter_index_ndim", lambda m: m.scatter(m.zeros(3, 2), 0, m.tensor([0]), m.ones(1))),
    ("scatter_reduce_bad", lambda m: m.scatter(m.zeros(3), 0, m.tensor([0]), m.ones(1), reduce="mean")),
    ("scatter_add_dtype", lambda m: m.scatter_add(m.zeros(3), 0, m.tensor([0]), m.ones(1, dtype=m.float64))),
    ("scatter_add_src_small", lambda m: m.scatter_add(m.zeros(3, 5), 0, m.tensor(_IDX5), m.ones(2, 3))),
    ("scatter_add_negative", lambda m: m.scatter_add(m.zeros(3), 0, m.tensor([-1]), m.ones(1))),
    ("scatter_src_small", lambda m: m.scatter(m.zeros(3, 5), 0, m.tensor(_IDX5), m.ones(2, 3))),
    ("scatter_reduce_src_small", lambda m: m.scatter_reduce(m.zeros(3, 5), 0, m.tensor(_IDX5), m.ones(2, 3), "sum")),
    ("gather_negative", lambda m: m.gather(m.zeros(3, 2), 1, m.tensor([[-1]]))),
    ("gather_too_big", lambda m: m.gather(m.zeros(3, 2), 1, m.tensor([[2]]))),
    ("gather_0d_index_1", lambda m: m.gather(m.tensor(1.0), 0, m.tensor([1]))),
    ("index_add_negative", lambda m: m.index_add(m.zeros(3, 2), 0, m.tensor([0, -1]), m.ones(2, 2))),
    ("index_add_2d_index", lambda m: m.index_add(m.zeros(3, 2), 0, m.tensor([[0, 1]]), m.ones(2, 2))),
    ("index_add_dtype", lambda m: m.index_add(m.zeros(3, 2), 0, m.tensor([0, 1]), m.ones(2, 2, dtype=m.float64))),
    ("index_add_0d_source_1d", lambda m: m.index_add(m.tensor(1.0), 0, m.tensor([0]), m.ones(1))),
    ("index_copy_negative", lambda m: m.index_copy(m.zeros(3, 2), 0, m.tensor([0, -1]), m.ones(2, 2))),
    ("index_copy_out", lambda m: m.index_copy(m.zeros(3, 2), 0, m.tensor([0, 3]), m.ones(2, 2))),
    ("index_copy_int32", lambda m: m.index_copy(m.zeros(3, 2), 0, m.tensor([0, 1], dtype=m.int32), m.ones(2, 2))),
    ("index_fill_out", lambda m: m.index_fill(m.zeros(3, 2), 0, m.tensor([3]), 1.0)),
    ("index_put_number", lambda m: m.index_put(m.zeros(3), (m.tensor([0]),), 1.0)),
    ("index_put_none", lambda m: m.index_put(m.zeros(3), (None,), m.ones(1))),
    ("index_put_float_index", lambda m: m.index_put(m.zeros(3), (m.tensor([0.0]),), m.ones(1))),
    ("index_put_out", lambda m: m.index_put(m.zeros(3), (m.tensor([3]),), m.ones(1))),
    ("index_put_shape", lambda m: m.index_put(m.zeros(3, 2), (m.tensor([0, 1]),), m.ones(3))),
    ("masked_scatter_no_broadcast", lambda m: m.masked_scatter(m.zeros(3), m.tensor([True, False]), m.ones(3))),
    ("masked_select_no_broadcast", lambda m: m.masked_select(m.zeros(3), m.tensor([True, False]))),
    ("unique_0d_dim", lambda m: m.unique(m.tensor(1.0), dim=0)),
    ("unique_empty_other_dim", lambda m: m.unique(m.zeros(0, 3), dim=1)),
    ("unique_consecutive_empty_other_dim", lambda m: m.unique_consecutive(m.zeros(0, 3), dim=1)),
]


@pytest.mark.parametrize("case", TORCH_ERRORS, ids=[c[0] for c in TORCH_ERRORS])
def test_errors_have_torchs_type(case):
    _, fn = case
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as mine:
        fn(cr)
    assert type(mine.value) is type(theirs.value), (mine.value, theirs.value)
    assert str(mine.value)


def test_negative_and_out_of_range_indices_say_so():
    for call in (lambda: cr.gather(cr.zeros(3, 2), 1, cr.tensor([[-1]])),
                 lambda: cr.scatter_add(cr.zeros(3), 0, cr.tensor([-1]), cr.ones(1)),
                 lambda: cr.index_add(cr.zeros(3, 2), 0, cr.tensor([0, -1]), cr.ones(2, 2))):
        with pytest.raises(RuntimeError, match=r"index -1 is out of bounds for dimension \d with size"):
            call()
    with pytest.raises(IndexError, match=r"index_copy_\(\): index 3 is out of bounds"):
        cr.index_copy(cr.zeros(3, 2), 0, cr.tensor([0, 3]), cr.ones(2, 2))


# ---------------------------------------------------------------- gradients of the existing and fused writes
GRADS = [   # (id, fn(lib, *tensors), arrays): value, gradient and second derivative against torch
    ("gather_dim0", lambda m, t: m.gather(t, 0, m.tensor(_IDX5[:, :3])), [x(3, 4)]),
    ("gather_repeats", lambda m, t: t.gather(-1, m.tensor([[0, 0, 2], [1, 1, 1]])), [x(2, 3)]),
    ("gather_0d", lambda m, t: m.gather(t, 0, m.tensor([0, 0][:1])), [np.array(1.5)]),
    ("scatter_add", lambda m, t, s: m.scatter_add(t, 0, m.tensor(IDX), s), [x(3, 4), x(2, 4)]),
    ("scatter_0d", lambda m, t, s: m.scatter(t, 0, m.tensor(0), s), [np.array(1.5), np.array(-2.0)]),
    ("scatter_reduce_0d", lambda m, t, s: m.scatter_reduce(t, 0, m.tensor([0]), s, "sum"),
     [np.array(1.5), np.array([-2.0])]),
    ("index_add_0d", lambda m, t, s: m.index_add(t, 0, m.tensor(0), s, alpha=3.0), [np.array(1.5), np.array(2.0)]),
    ("index_copy_dup", lambda m, t, s: m.index_copy(t, 0, m.tensor([1, 1]), s), [x(3, 2), x(2, 2)]),
    ("masked_scatter_bcast_self", lambda m, t, s: m.masked_scatter(t, m.tensor(np.array([[[True, False, True]], [[False, True, True]]])), s),
     [x(2, 3), x(9)]),
    ("median_all_even", lambda m, t: m.median(t), [np.array([[4.0, 1.0], [3.0, 2.0]])]),
    ("nanmedian_all_ties", lambda m, t: m.nanmedian(t), [np.array([2.0, np.nan, 2.0, 1.0, 3.0])]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GRADS, ids=[c[0] for c in GRADS])
def test_gradients_match_torch(case, dtype):
    _, fn, arrays = case
    check(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *[a.astype(dtype) for a in arrays], double=True)


def test_single_nodes_under_torchs_names():
    t, s = cr.randn(3, 4, requires_grad=True), cr.randn(2, 4, requires_grad=True)
    idx = cr.tensor(IDX)
    assert cr.median(t).grad_fn.name() == "MedianBackward0"
    assert cr.nanmedian(t).grad_fn.name() == "NanmedianBackward0"
    assert t.scatter(0, idx, s).grad_fn.name() == "ScatterBackward0"
    assert t.scatter(0, idx, 1.0).grad_fn.name() == "ScatterBackward1"
    assert t.scatter_add(0, idx, s).grad_fn.name() == "ScatterAddBackward0"
    assert t.index_add(0, cr.tensor([0, 2]), s).grad_fn.name() == "IndexAddBackward0"
    assert t.index_copy(0, cr.tensor([0, 2]), s).grad_fn.name() == "IndexCopyBackward0"
    assert t.index_put((cr.tensor([0, 2]),), s).grad_fn.name() == "IndexPutBackward0"
    assert t.masked_scatter(cr.tensor([True, False, True, False]), s).grad_fn.name() == "MaskedScatterBackward0"
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            out = t.scatter_reduce(0, idx, s, reduce, include_self=include_self)
            assert out.grad_fn.name() == "ScatterReduceBackward0"
    assert [n.name() for n, _ in t.scatter(0, idx, s).grad_fn.next_functions] == ["torch::autograd::AccumulateGrad"] * 2


def test_mode_ties_and_nan_are_documented_choices():
    """mode picks the smallest of the most frequent values and, as torch's CPU kernel for rows of
    up to 16 elements (an insertion sort), the last occurrence; with nan chainrule counts the
    nans as one value (torch's comparisons with nan leave its sort order undefined)."""
    v, i = cr.mode(cr.tensor([3.0, 1.0, 3.0, 1.0, 2.0]))
    assert (v.item(), i.item()) == (1.0, 3) == tuple(x.item() for x in torch.mode(torch.tensor([3.0, 1.0, 3.0, 1.0, 2.0])))
    v, i = cr.mode(cr.tensor([np.nan, 1.0, np.nan]))
    assert np.isnan(v.item()) and i.item() == 2


def test_scatter_add_with_a_larger_src_reads_only_the_indexed_block():
    """torch computes the value but its backward refuses (a gradient of index's shape for src);
    chainrule gives src's unread part a zero gradient."""
    base, src = x(3, 4), x(2, 5)
    mine = cr.tensor(base).scatter_add(1, cr.tensor(IDX[:, :2]), cr.tensor(src))
    theirs = torch.tensor(base).scatter_add(1, torch.tensor(IDX[:, :2]), torch.tensor(src))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)
    leaf = cr.tensor(src, requires_grad=True)
    cr.tensor(base).scatter_add(1, cr.tensor(IDX[:, :2]), leaf).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), np.pad(np.ones((2, 2)), ((0, 0), (0, 3))))


WRITES_T = [   # (id, fn(lib, input, src)) on a transposed (strided) input of shape (3, 4)
    ("scatter", lambda m, t, s: t.scatter(0, m.tensor(IDX), s)),
    ("scatter_add", lambda m, t, s: m.scatter_add(t, 0, m.tensor(IDX), s)),
    ("scatter_reduce_amax", lambda m, t, s: t.scatter_reduce(0, m.tensor(IDX), s, "amax")),
    ("index_add", lambda m, t, s: t.index_add(0, m.tensor([2, 0]), s)),
    ("index_put", lambda m, t, s: t.index_put((m.tensor([2, 0]),), s)),
    ("masked_scatter", lambda m, t, s: t.masked_scatter(m.tensor([True, False, True, False]), s)),
]


@pytest.mark.parametrize("case", WRITES_T, ids=[c[0] for c in WRITES_T])
def test_writes_on_non_contiguous_inputs(case):
    _, fn = case
    base, src = x(4, 3), x(4, 2)      # src read through its transpose as well
    check(lambda t, s: fn(cr, t.mT, s.mT), lambda t, s: fn(torch, t.mT, s.mT), base, src, double=True)


def test_cummax_cummin_and_mode_match_torch_on_random_ties_and_nan():
    """Many short rows with ties (and nan for cummax/cummin): torch's indices exactly (mode's
    rows stay within the 16 elements where torch's kernel picks the last occurrence)."""
    rng = np.random.default_rng(5)
    for trial in range(40):
        a = rng.integers(0, 4, (3, int(rng.integers(1, 17)))).astype(float)
        if trial % 2:
            a[rng.random(a.shape) < 0.2] = np.nan
        for name in ("cummax", "cummin") + (("mode",) if trial % 2 == 0 else ()):
            v, i = getattr(cr, name)(cr.tensor(a), 1)
            tv, ti = getattr(torch, name)(torch.tensor(a), 1)
            np.testing.assert_array_equal(v.numpy(), tv.numpy())
            np.testing.assert_array_equal(i.numpy(), ti.numpy())
