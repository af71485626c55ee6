"""Ordering ops and writing by index against torch: values, indices, gradients (and second
derivatives where torch has them), float32 and float64, negative dims, 0-d and size-1 inputs,
non-contiguous inputs, ties and nan, and the errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp

R = np.random.default_rng(3)
x = lambda *s: R.standard_normal(s)
IDX = np.array([[0, 1, 2, 0], [2, 0, 0, 1]])

VALUED = [   # (id, fn(lib, t) -> tuple or tensor, arrays): first output is differentiable
    ("sort", lambda m, t: m.sort(t, dim=0), [x(3, 4)]),
    ("sort_desc_neg_dim", lambda m, t: t.sort(-1, descending=True), [x(2, 3, 4)]),
    ("sort_stable_ties", lambda m, t: m.sort(t, stable=True), [np.array([[2.0, 1.0, 2.0, 1.0, 0.5]])]),
    ("sort_desc_ties", lambda m, t: m.sort(t, descending=True, stable=True),
     [np.array([2.0, 1.0, 2.0, 1.0, 0.5])]),
    ("sort_nan", lambda m, t: m.sort(t), [np.array([1.0, np.nan, -np.inf, 0.5, np.inf])]),
    ("sort_nan_desc", lambda m, t: m.sort(t, descending=True), [np.array([1.0, np.nan, np.inf, 0.5])]),
    ("sort_0d", lambda m, t: m.sort(t), [np.array(1.5)]),
    ("sort_T", lambda m, t: m.sort(t.T, 1), [x(4, 3)]),
    ("argsort", lambda m, t: (m.argsort(t, dim=1, descending=True),), [x(3, 4)]),
    ("msort", lambda m, t: (m.msort(t),), [x(3, 2)]),
    ("topk", lambda m, t: m.topk(t, 2), [x(3, 5)]),
    ("topk_smallest_dim0", lambda m, t: t.topk(2, dim=0, largest=False), [x(4, 3)]),
    ("kthvalue", lambda m, t: m.kthvalue(t, 2, 0, keepdim=True), [x(4, 3)]),
    ("median_dim", lambda m, t: m.median(t, 1), [x(3, 5)]),
    ("median_even", lambda m, t: t.median(-1, keepdim=True), [x(2, 4)]),
    ("median_all", lambda m, t: (m.median(t),), [x(3, 5)]),
    ("median_all_ties", lambda m, t: (m.median(t),), [np.array([1.0, 2.0, 2.0, 3.0, 2.0])]),
    ("median_nan_row", lambda m, t: m.median(t, 1), [np.array([[1.0, np.nan, 3.0], [2.0, 1.0, 0.0]])]),
    ("nanmedian", lambda m, t: m.nanmedian(t, 1), [np.array([[1.0, np.nan, 3.0, 2.0], [2.0, 1.0, 0.0, 5.0]])]),
    ("nanmedian_all", lambda m, t: (m.nanmedian(t),), [np.array([[1.0, np.nan], [3.0, 2.0]])]),
    ("mode", lambda m, t: m.mode(t, 1), [np.array([[1.0, 2.0, 2.0, 3.0], [4.0, 4.0, 1.0, 1.0]])]),
    ("cummax", lambda m, t: m.cummax(t, 1), [np.array([[1.0, 3.0, 2.0, 3.0, 5.0], [0.0, -1.0, 0.0, 2.0, 1.0]])]),
    ("cummin_dim0", lambda m, t: m.cummin(t, 0), [x(4, 3)]),
    ("cummax_nan", lambda m, t: m.cummax(t, 0), [np.array([1.0, np.nan, 3.0, 0.0])]),
    ("scatter_src", lambda m, t, s: (t.scatter(0, m.tensor(IDX), s),), [x(3, 4), x(2, 4)]),
    ("scatter_value", lambda m, t: (m.scatter(t, 1, m.tensor([[0], [2], [1]]), 1.5),), [x(3, 4)]),
    ("index_add", lambda m, t, s: (m.index_add(t, 0, m.tensor([0, 2, 0]), s, alpha=2.0),), [x(3, 4), x(3, 4)]),
    ("index_add_dim1", lambda m, t, s: (t.index_add(-1, m.tensor([3, 1]), s),), [x(2, 4), x(2, 2)]),
    ("index_copy", lambda m, t, s: (t.index_copy(1, m.tensor([2, 0]), s),), [x(3, 4), x(3, 2)]),
    ("index_fill", lambda m, t: (t.index_fill(1, m.tensor([1, 3]), -2.0),), [x(3, 4)]),
    ("index_put", lambda m, t, v: (t.index_put((m.tensor([0, 2]), m.tensor([1, 3])), v),), [x(3, 4), x(2)]),
    ("index_put_acc", lambda m, t, v: (t.index_put((m.tensor([0, 0, 2]),), v, accumulate=True),),
     [x(3, 4), x(3, 4)]),
    ("index_put_bcast", lambda m, t, v: (m.index_put(t, (m.tensor([1]),), v),), [x(3, 4), x(4)]),
    ("masked_scatter", lambda m, t, s: (t.masked_scatter(m.tensor([[True, False, True, False]]), s),),
     [x(3, 4), x(7)]),
    ("masked_select", lambda m, t: (m.masked_select(t, m.tensor([True, False, True])),), [x(2, 3)]),
    ("masked_select_bcast", lambda m, t: (t.masked_select(m.tensor([[True], [False]])),), [x(3)]),
]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", VALUED, ids=[c[0] for c in VALUED])
def test_values_indices_and_gradients_match_torch(case, dtype):
    _, fn, arrays = case
    arrays = [a.astype(dtype) for a in arrays]
    mine, theirs = fn(cr, *[cr.tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays])
    mine = mine if isinstance(mine, tuple) else (mine,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(mine, theirs):
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        if b.dtype.is_floating_point:   # sums may round in another order
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    if theirs[0].dtype.is_floating_point:
        check(lambda *t: _first(fn(cr, *t)), lambda *t: _first(fn(torch, *t)), *arrays, double=True)


def test_scatter_with_a_larger_src_and_with_reduce_match_torch():
    base, src = x(3, 4), x(2, 5)
    for kw in ({}, {"reduce": "add"}, {"reduce": "multiply"}):
        mine = cr.tensor(base).scatter(0, cr.tensor(IDX), cr.tensor(src), **kw)
        theirs = torch.tensor(base).scatter(0, torch.tensor(IDX), torch.tensor(src), **kw)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)
    leaf = cr.tensor(src, requires_grad=True)      # the unread tail of src gets zero gradient
    cr.tensor(base).scatter(0, cr.tensor(IDX), leaf).sum().backward()
    assert leaf.grad[:, 4].abs().sum().item() == 0 and leaf.grad[:, :4].abs().sum().item() == 8


def test_ties_and_named_results():
    out = cr.sort(cr.tensor([3.0, 1.0, 2.0]))
    assert type(out).__name__ == "sort" and out.values.tolist() == [1.0, 2.0, 3.0]
    assert out.indices.tolist() == [1, 2, 0]
    v, i = cr.topk(cr.tensor([1, 5, 3]), 2)
    assert v.tolist() == [5, 3] and i.tolist() == [1, 2] and v.dtype == cr.int64
    assert cr.tensor([[4, 1], [2, 3]]).argsort(0).tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch(reduce, include_self):
    base, src = x(3, 4), x(2, 4)
    if reduce in ("amax", "amin"):        # ties between self and src share the gradient
        src[0, 1] = base[1, 1]
    fn = lambda m: (lambda t, s: t.scatter_reduce(0, m.tensor(IDX), s, reduce, include_self=include_self))
    check(fn(cr), fn(torch), base, src, double=reduce != "prod")


def test_scatter_reduce_prod_with_zeros_and_integers():
    base, src = x(3, 4), x(2, 4)
    base[0, 0], src[1, 1], src[0, 2], src[1, 2] = 0.0, 0.0, 0.0, 0.0
    fn = lambda m: (lambda t, s: m.scatter_reduce(t, 0, m.tensor(IDX), s, "prod"))
    check(fn(cr), fn(torch), base, src)
    ints = np.arange(12).reshape(3, 4)
    for r in ("sum", "prod", "mean", "amax", "amin"):
        mine = cr.tensor(ints).scatter_reduce(0, cr.tensor(IDX), cr.tensor(ints[:2] + 1), r, include_self=False)
        theirs = torch.tensor(ints).scatter_reduce(0, torch.tensor(IDX), torch.tensor(ints[:2] + 1), r,
                                                   include_self=False)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_in_place_index_writes_match_torch():
    for op, args in [("scatter_", (0, IDX, "src")), ("scatter_add_", (0, IDX, "src")),
                     ("index_add_", (0, np.array([1, 0]), "src")), ("index_copy_", (0, np.array([2, 0]), "src")),
                     ("index_fill_", (1, np.array([0]), 3.0)), ("masked_scatter_", (np.array([True, False, True, False]), "src"))]:
        base, src = x(3, 4), x(2, 4)
        outs = []
        for m in (cr, torch):
            t = m.tensor(base.copy())
            conv = [m.tensor(a) if isinstance(a, np.ndarray) else m.tensor(src) if a == "src" else a
                    for a in args]
            assert getattr(t, op)(*conv) is t
            outs.append(t.numpy())
        np.testing.assert_array_equal(*outs)


@pytest.mark.parametrize("data", [np.array([[0, 1.5, 0], [2, 0, 0]]), np.array(0.0), np.array(3),
                                  np.zeros((2, 0)), np.array([True, False, True])])
def test_nonzero_and_argwhere_match_torch(data):
    mine, theirs = cr.tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(cr.nonzero(mine).numpy(), torch.nonzero(theirs).numpy())
    np.testing.assert_array_equal(cr.argwhere(mine).numpy(), torch.argwhere(theirs).numpy())
    for a, b in zip(mine.nonzero(as_tuple=True), theirs.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert cr.nonzero(mine).dtype == cr.int64


@pytest.mark.parametrize("kwargs", [{}, dict(return_inverse=True), dict(return_counts=True),
                                    dict(return_inverse=True, return_counts=True, dim=0),
                                    dict(return_counts=True, dim=1)])
def test_unique_and_unique_consecutive_match_torch(kwargs):
    data = np.array([[1, 3, 1], [1, 3, 1], [2, 2, 0], [1, 3, 1]])
    for name in ("unique", "unique_consecutive"):
        mine = getattr(cr, name)(cr.tensor(data), **kwargs)
        theirs = getattr(torch, name)(torch.tensor(data), **kwargs)
        mine, theirs = (mine, theirs) if isinstance(mine, tuple) else ((mine,), (theirs,))
        for a, b in zip(mine, theirs):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert cr.tensor([2.0, 1.0, 2.0]).unique().tolist() == [1.0, 2.0]


@pytest.mark.parametrize("call, exc, match", [
    (lambda: cr.topk(cr.ones(3), 4), RuntimeError, "out of range"),
    (lambda: cr.kthvalue(cr.ones(3), 0), RuntimeError, "out of range"),
    (lambda: cr.sort(cr.ones(2, 3), dim=2), IndexError, "dim"),
    (lambda: cr.median(cr.ones(2, 0), 1), IndexError, "non-zero size"),
    (lambda: cr.scatter(cr.ones(3), 0, cr.tensor([3]), cr.ones(1)), RuntimeError, "out of bounds"),
    (lambda: cr.scatter(cr.ones(3), 0, cr.tensor([-1]), cr.ones(1)), RuntimeError, "out of bounds"),
    (lambda: cr.scatter(cr.ones(3), 0, cr.tensor([0]), cr.ones(1, dtype=cr.float64)), RuntimeError, "dtype"),
    (lambda: cr.scatter_reduce(cr.ones(3), 0, cr.tensor([0]), cr.ones(1), "max"), RuntimeError, "reduce"),
    (lambda: cr.index_add(cr.ones(3, 2), 0, cr.tensor([0, 5]), cr.ones(2, 2)), RuntimeError, "out of bounds"),
    (lambda: cr.index_add(cr.ones(3, 2), 0, cr.tensor([0]), cr.ones(2, 2)), RuntimeError, "source"),
    (lambda: cr.masked_select(cr.ones(3), cr.tensor([1, 0, 1])), RuntimeError, "BoolTensor"),
    (lambda: cr.masked_scatter(cr.ones(3), cr.tensor([True, True, False]), cr.ones(1)), RuntimeError, "at least"),
    (lambda: cr.gather(cr.ones(3), 0, cr.tensor([-1])), RuntimeError, "out of bounds"),
])
def test_ordering_and_index_write_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


_MATRIX = [c for c in VALUED if len(c[2]) == 1 and c[2][0].ndim == 2 and not c[0].endswith("_T")]


@pytest.mark.parametrize("case", _MATRIX, ids=[c[0] for c in _MATRIX])
def test_on_non_contiguous_inputs(case):
    """The same values through a transposed (strided) view."""
    _, fn, (a,) = case
    check(lambda t: _first(fn(cr, t.mT)), lambda t: _first(fn(torch, t.mT)),
          np.ascontiguousarray(a.T), double=True)


@pytest.mark.parametrize("name, args", [("sort", ()), ("argsort", ()), ("topk", (0,)),
                                        ("cummax", (0,)), ("msort", ()), ("unique", ()),
                                        ("nonzero", ())])
def test_on_empty_inputs(name, args):
    a = np.zeros((0,))
    mine, theirs = getattr(cr, name)(cr.tensor(a), *args), getattr(torch, name)(torch.tensor(a), *args)
    mine = mine if isinstance(mine, tuple) else (mine,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for p, q in zip(mine, theirs):
        assert tuple(p.shape) == tuple(q.shape)


@pytest.mark.parametrize("case", [c for c in VALUED if c[0] != "median_all_ties"], ids=lambda c: c[0])
def test_jvp_matches_torch_func(case):
    _, fn, arrays = case
    if not np.asarray(_first(fn(torch, *[torch.tensor(a) for a in arrays])).detach()).dtype.kind == "f":
        return
    check_jvp(lambda *t: _first(fn(cr, *t)), lambda *t: _first(fn(torch, *t)), *arrays)
