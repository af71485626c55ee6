"""Moving elements and einsum against torch: roll, diagonals, windows, repeats, rotations,
grids, einsum (hypothesis over random equations), bit shifts, view(dtype), where with numbers:
values, gradients, second derivatives, float32 and float64, and the errors."""
import importlib
import string

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import chainrule as cr
from oracle import check, check_jvp

R = np.random.default_rng(4)
x = lambda *s: R.standard_normal(s)

CASES = [
    ("roll", lambda m, t: m.roll(t, (1, -2), (0, 1)), [x(3, 4)]),
    ("roll_flat", lambda m, t: t.roll(3), [x(2, 3)]),
    ("roll_T", lambda m, t: m.roll(t.T, 1, -1), [x(3, 4)]),
    ("diagonal", lambda m, t: m.diagonal(t, 1), [x(3, 4)]),
    ("diagonal_dims", lambda m, t: t.diagonal(-1, 2, 0), [x(3, 2, 4)]),
    ("diag_1d", lambda m, t: m.diag(t, -1), [x(3)]),
    ("diag_2d", lambda m, t: t.diag(1), [x(3, 4)]),
    ("diag_embed", lambda m, t: m.diag_embed(t, 1, 0, 2), [x(2, 3)]),
    ("diagflat", lambda m, t: m.diagflat(t, -1), [x(2, 2)]),
    ("unfold", lambda m, t: t.unfold(1, 3, 2), [x(2, 7)]),
    ("unfold_overlap", lambda m, t: t.unfold(0, 2, 1), [x(4, 3)]),
    ("unfold_0d", lambda m, t: t.unfold(0, 1, 1), [np.array(2.0)]),
    ("repeat_interleave", lambda m, t: m.repeat_interleave(t, 2), [x(2, 3)]),
    ("repeat_interleave_dim", lambda m, t: t.repeat_interleave(m.tensor([1, 0, 3]), dim=1), [x(2, 3)]),
    ("fliplr", lambda m, t: m.fliplr(t), [x(2, 3)]),
    ("flipud", lambda m, t: t.flipud(), [x(3)]),
    ("rot90", lambda m, t: m.rot90(t), [x(2, 3)]),
    ("rot90_k3_dims", lambda m, t: t.rot90(3, [2, 0]), [x(2, 3, 4)]),
    ("rot90_k2", lambda m, t: m.rot90(t, -2), [x(2, 3)]),
    ("meshgrid_ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij")[1], [x(3), x(2)]),
    ("meshgrid_xy", lambda m, a, b: m.stack(m.meshgrid(a, b, indexing="xy")), [x(3), x(2)]),
    ("where_scalar", lambda m, t: m.where(t > 0, t, 2.5), [x(3, 4)]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rearrangements_match_torch(case, dtype):
    _, fn, arrays = case
    check(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *[a.astype(dtype) for a in arrays],
          double=True)


def test_views_share_memory_like_torch():
    a = cr.zeros(3, 3)
    a.diagonal().add_(1)
    windows = cr.arange(6.0).unfold(0, 2, 2)
    assert a.numpy().trace() == 3 and windows.tolist() == [[0, 1], [2, 3], [4, 5]]
    base = cr.arange(6.0)
    base.unfold(0, 3, 3)[1, 0] = -1
    assert base.tolist() == [0, 1, 2, -1, 4, 5]


EINSUM = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
          ("...ij,...jk", [(2, 1, 2, 3), (5, 3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
          ("i,i", [(3,), (3,)]), ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]),
          ("iij->ji", [(2, 2, 3)]), ("ab,cd,bc->ad", [(2, 3), (4, 5), (3, 4)]),
          ("ij->ji", [(2, 3)]), ("i...->...", [(2, 3, 4)]), ("ab,ab->b", [(1, 3), (2, 3)]),
          ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("equation, shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_matches_torch(equation, shapes, dtype):
    arrays = [x(*s).astype(dtype) for s in shapes]
    check(lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *arrays,
          double=True, scale=10 if dtype == np.float32 else 1)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_einsum_random_equations_match_torch(data):
    letters = string.ascii_lowercase[:5]
    sizes = {c: data.draw(st.integers(1, 3)) for c in letters}
    n_ops = data.draw(st.integers(1, 3))
    terms = [data.draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3)) for _ in range(n_ops)]
    seen = sorted(set("".join("".join(t) for t in terms)))
    out = data.draw(st.lists(st.sampled_from(seen), unique=True, max_size=len(seen))) if seen else []
    equation = ",".join("".join(t) for t in terms) + "->" + "".join(out)
    arrays = [x(*[sizes[c] for c in t]) for t in terms]
    check(lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *arrays)


@pytest.mark.parametrize("equation, shapes", [
    ("bqd,bkd->bqk", [(8, 64, 32), (8, 64, 32)]), ("bhqk,bhkd->bhqd", [(2, 4, 64, 64), (2, 4, 64, 32)]),
    ("nc,ck->kn", [(256, 64), (64, 48)]), ("abc,cd->dba", [(16, 8, 64), (64, 96)]),
    ("bij,bj->bi", [(16, 64, 128), (16, 128)])])
def test_einsum_of_two_runs_as_a_matrix_product_and_matches_torch(equation, shapes):
    """Two float operands: one batched product (on oneDNN's threads at 2 threads, over
    onednn.BLAS_SPLIT_MIN multiply-adds), values and gradients as torch's; an integer or a
    broadcast operand keeps NumPy's einsum."""
    from chainrule.ops.einsum import _pair_as_matmul
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(2)
        arrays = [x(*s).astype(np.float32) for s in shapes]
        check(lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *arrays,
              scale=10)
    finally:
        cr.set_num_threads(before)
    ta, tb, out = equation.replace("->", ",").split(",")
    a, b = (x(*s) for s in shapes)
    np.testing.assert_allclose(_pair_as_matmul(ta, tb, out, a, b), np.einsum(equation, a, b),
                               rtol=1e-12, atol=1e-12)
    assert _pair_as_matmul(ta, tb, out, a.astype(np.int64), b.astype(np.int64)) is None
    assert _pair_as_matmul(ta, tb, out, np.broadcast_to(a[:1], a.shape), b) is None


@pytest.mark.parametrize("equation, shapes", [
    ("bcl,cd,de->ble", [(8, 16, 64), (16, 32), (32, 24)]), ("ab,cd,bc->ad", [(6, 7), (8, 9), (7, 8)]),
    ("abc,cd,de,ef->abf", [(3, 4, 5), (5, 6), (6, 7), (7, 8)]), ("i,i,i->", [(50,), (50,), (50,)]),
    ("bij,bjk,bkl->bil", [(4, 5, 6), (4, 6, 7), (4, 7, 8)])])
def test_einsum_of_three_or_more_runs_as_products_of_two_and_matches_torch(monkeypatch, equation,
                                                                           shapes):
    """Three or more float operands: products of two along NumPy's greedy path (at 2 threads on
    oneDNN's threads, where NumPy's einsum would wake its BLAS's own pool), values and
    gradients as torch's; an integer or a broadcast operand keeps NumPy's einsum."""
    module = importlib.import_module("chainrule.ops.einsum")   # (ops.einsum is the function)
    pairs = []
    real = module._pair_as_matmul
    monkeypatch.setattr(module, "_pair_as_matmul",
                        lambda *args: pairs.append(args[:3]) or real(*args))
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(2)
        arrays = [x(*s).astype(np.float32) for s in shapes]
        cr.einsum(equation, *[cr.tensor(v) for v in arrays])
        ins, out = equation.split("->")
        assert len(pairs) == ins.count(",") and pairs[-1][2] == out   # n − 1 products
        # (float32 sums of up to 512 products, in another order than torch's: atol 1e-4)
        check(lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *arrays,
              scale=100)
    finally:
        cr.set_num_threads(before)
    a = [x(*s) for s in shapes]
    want = np.einsum(equation, *a)
    np.testing.assert_allclose(module._pairwise(ins.split(","), out, a), want, rtol=1e-12,
                               atol=1e-12)
    assert module._pairwise(ins.split(","), out, [v.astype(np.int64) for v in a]) is None
    assert module._pairwise(ins.split(","), out, [np.broadcast_to(a[0][:1], a[0].shape)]
                            + a[1:]) is None


def test_einsum_list_form_and_errors():
    a, b = cr.ones(2, 3), cr.ones(3, 4)
    assert tuple(cr.einsum("ij,jk", [a, b]).shape) == (2, 4)
    for eq, ops, exc in [("ij,jk->ik", (a,), RuntimeError), ("ij->ik", (a,), RuntimeError),
                         ("ijk->i", (a,), RuntimeError), ("ij,ij->i", (a, cr.ones(2, 4)), RuntimeError),
                         ("ij,jk->ik", (a, cr.ones(3, 4, dtype=cr.float64)), RuntimeError)]:
        with pytest.raises(exc):
            cr.einsum(eq, *ops)
        with pytest.raises(exc):
            torch.einsum(eq, *[torch.tensor(o.numpy()) for o in ops])


def test_shifts_and_bitwise_operators_match_torch():
    a, b = np.array([1, -8, 5, 7]), np.array([64, 1, 70, 2])
    for fn in (lambda m, p, q: p << 2, lambda m, p, q: p >> 1, lambda m, p, q: 3 << (q % 4),
               lambda m, p, q: m.bitwise_left_shift(p, q), lambda m, p, q: m.bitwise_right_shift(p, q),
               lambda m, p, q: 12 >> (q % 3), lambda m, p, q: 6 ^ p, lambda m, p, q: p.bitwise_and(q),
               lambda m, p, q: p.bitwise_not()):
        np.testing.assert_array_equal(fn(cr, cr.tensor(a), cr.tensor(b)).numpy(),
                                      fn(torch, torch.tensor(a), torch.tensor(b)).numpy())
    t = cr.tensor(a)
    t <<= 1
    t ^= 3
    assert t.tolist() == ((a << 1) ^ 3).tolist()
    with pytest.raises(NotImplementedError):
        cr.tensor([1.5]) << 1


@pytest.mark.parametrize("src, dst", [("float32", "int32"), ("float32", "uint8"), ("float32", "float64"),
                                      ("int8", "int32"), ("float64", "float16"), ("int64", "float64")])
def test_view_as_dtype_matches_torch(src, dst):
    base = np.arange(8).astype(src).reshape(2, 4)
    mine = cr.tensor(base).view(getattr(cr, dst))
    theirs = torch.tensor(base).view(getattr(torch, dst))
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_where_with_numbers_gives_torchs_dtypes():
    c = np.array([True, False])
    for a, b in [(1.0, 0), (1, 0), (True, False), (2, 0.5)]:
        assert str(cr.where(cr.tensor(c), a, b).dtype)[10:] == str(torch.where(torch.tensor(c), a, b).dtype)[6:]
        np.testing.assert_array_equal(cr.where(cr.tensor(c), a, b).numpy(), torch.where(torch.tensor(c), a, b).numpy())


@pytest.mark.parametrize("call, exc, match", [
    (lambda: cr.roll(cr.ones(2, 2), (1, 2), 0), RuntimeError, "align"),
    (lambda: cr.diagonal(cr.ones(2, 2), 0, 1, 1), RuntimeError, "identical"),
    (lambda: cr.diag(cr.ones(2, 2, 2)), RuntimeError, "1D or 2D"),
    (lambda: cr.ones(3).unfold(0, 4, 1), RuntimeError, "maximum size"),
    (lambda: cr.ones(3).unfold(0, 2, 0), RuntimeError, "step"),
    (lambda: cr.repeat_interleave(cr.ones(3), cr.tensor([1, 2])), RuntimeError, "same size"),
    (lambda: cr.fliplr(cr.ones(3)), RuntimeError, ">= 2-d"),
    (lambda: cr.rot90(cr.ones(2, 2), 1, [0, 0]), RuntimeError, "different"),
    (lambda: cr.flip(cr.ones(2, 2), [0, -2]), RuntimeError, "multiple times"),
    (lambda: cr.meshgrid(cr.ones(2, 2), indexing="ij"), RuntimeError, "1D"),
    (lambda: cr.meshgrid(cr.ones(2), indexing="yx"), ValueError, "indexing"),
    (lambda: cr.ones(2, 3).view(cr.float64), RuntimeError, "divisible"),
    (lambda: cr.ones(3, 2).T.view(cr.float16), RuntimeError, "stride"),
])
def test_rearrangement_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_meshgrid_without_indexing_warns_like_torch():
    with pytest.warns(UserWarning, match="indexing argument"):
        grids = cr.meshgrid(cr.arange(2), cr.arange(3))
    assert tuple(grids[0].shape) == (2, 3)


_MATRIX = [c for c in CASES if len(c[2]) == 1 and c[2][0].ndim == 2 and not c[0].endswith("_T")]


@pytest.mark.parametrize("case", _MATRIX, ids=[c[0] for c in _MATRIX])
def test_on_non_contiguous_inputs(case):
    """The same values through a transposed (strided) view."""
    _, fn, (a,) = case
    check(lambda t: fn(cr, t.mT), lambda t: fn(torch, t.mT), np.ascontiguousarray(a.T), double=True)


@pytest.mark.parametrize("name, call", [("roll", lambda m, t: m.roll(t, 1)),
                                        ("diag", lambda m, t: m.diag(t)),
                                        ("repeat_interleave", lambda m, t: m.repeat_interleave(t, 2)),
                                        ("flipud", lambda m, t: m.flipud(t)),
                                        ("einsum", lambda m, t: m.einsum("i,i->", t, t))])
def test_on_empty_inputs(name, call):
    mine, theirs = call(cr, cr.zeros(0)), call(torch, torch.zeros(0))
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rearrangement_jvp_matches_torch_func(case):
    _, fn, arrays = case
    check_jvp(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *arrays)


@pytest.mark.parametrize("equation, shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_jvp_matches_torch_func(equation, shapes):
    check_jvp(lambda *t: cr.einsum(equation, *t), lambda *t: torch.einsum(equation, *t),
              *[x(*s) for s in shapes])
