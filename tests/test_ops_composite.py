"""The composite ops (ops/composite.py) against torch: values, gradients and second derivatives
through the oracle harness, float32 and float64, plus their edge cases and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp

R = np.random.default_rng(7)


def x(*shape, lo=None):
    v = R.standard_normal(shape)
    return np.abs(v) + lo if lo is not None else v


def _torch_vander(v, n, increasing=False):
    """torch.vander's own formula (a cumulative product) without its in-place step, whose
    backward torch 2.13 refuses ("modified by an inplace operation")."""
    out = torch.cat([torch.ones_like(v)[:, None], torch.cumprod(v[:, None].expand(-1, n - 1), 1)], 1)
    return out if increasing else out.flip(1)


def test_vander_values_equal_torchs():
    v = torch.tensor([0.0, 1.5, -2.0, 3.0])
    np.testing.assert_array_equal(cr.vander(cr.tensor(v.numpy()), 5).numpy(), torch.vander(v, 5).numpy())


# (id, chainrule fn, torch fn, arrays); each runs in float32 and float64 with double backward
CASES = [
    ("reciprocal", lambda a: a.reciprocal(), lambda a: a.reciprocal(), [x(3, 4, lo=0.5)]),
    ("positive", cr.positive, torch.positive, [x(3)]),
    ("sgn", cr.sgn, torch.sgn, [x(3, 4)]),
    ("logit", cr.logit, torch.logit, [R.uniform(0.05, 0.95, (3, 4))]),
    ("logit_eps", lambda a: cr.logit(a, 0.2), lambda a: torch.logit(a, 0.2),
     [R.uniform(0.01, 0.99, (5, 4))]),
    ("sinc", cr.sinc, torch.sinc, [np.array([0.7, 0.3, -1.2, 2.5, 0.05])]),
    ("deg2rad", cr.deg2rad, torch.deg2rad, [x(3, 2) * 90]),
    ("rad2deg", cr.rad2deg, torch.rad2deg, [x(3, 2)]),
    ("fmax", cr.fmax, torch.fmax, [x(3, 4), x(4)]),
    ("fmin", cr.fmin, torch.fmin, [x(3, 1), x(1, 4)]),
    ("fmax_nan", cr.fmax, torch.fmax, [np.array([1.0, np.nan, 3.0, np.nan]),
                                       np.array([np.nan, 2.0, 1.0, np.nan])]),
    ("float_power", cr.float_power, torch.float_power, [x(3, lo=0.5), x(3)]),
    ("float_power_scalar", lambda a: cr.float_power(a, 2.5), lambda a: torch.float_power(a, 2.5),
     [x(4, lo=0.1)]),
    ("nan_to_num", lambda a: cr.nan_to_num(a, nan=1.5, posinf=9.0),
     lambda a: torch.nan_to_num(a, nan=1.5, posinf=9.0),
     [np.array([0.5, np.nan, np.inf, -np.inf, -2.0])]),
    ("nansum", lambda a: cr.nansum(a, 1), lambda a: torch.nansum(a, 1),
     [np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, 4.0]])]),
    ("nanmean", lambda a: cr.nanmean(a, 0, keepdim=True), lambda a: torch.nanmean(a, 0, keepdim=True),
     [np.array([[1.0, np.nan, 2.0], [3.0, 5.0, 4.0]])]),
    ("clamp_min", lambda a: a.clamp_min(0.1), lambda a: a.clamp_min(0.1), [x(3, 4)]),
    ("clamp_max", lambda a: cr.clamp_max(a, 0.1), lambda a: torch.clamp_max(a, 0.1), [x(3, 4)]),
    ("addcmul", lambda a, b, c: cr.addcmul(a, b, c, value=0.5),
     lambda a, b, c: torch.addcmul(a, b, c, value=0.5), [x(3, 4), x(4), x(3, 1)]),
    ("addcdiv", lambda a, b, c: cr.addcdiv(a, b, c, value=-2),
     lambda a, b, c: torch.addcdiv(a, b, c, value=-2), [x(3, 4), x(3, 4), x(3, 4, lo=0.5)]),
    ("addmv", lambda a, m, v: cr.addmv(a, m, v, beta=0.5, alpha=2),
     lambda a, m, v: torch.addmv(a, m, v, beta=0.5, alpha=2), [x(3), x(3, 4), x(4)]),
    ("addr", lambda a, u, v: cr.addr(a, u, v, alpha=3), lambda a, u, v: torch.addr(a, u, v, alpha=3),
     [x(3, 4), x(3), x(4)]),
    ("baddbmm", lambda a, b, c: cr.baddbmm(a, b, c, beta=2), lambda a, b, c: torch.baddbmm(a, b, c, beta=2),
     [x(2, 3, 4), x(2, 3, 5), x(2, 5, 4)]),
    ("baddbmm_beta0", lambda a, b, c: cr.baddbmm(a, b, c, beta=0),
     lambda a, b, c: torch.baddbmm(a, b, c, beta=0), [np.full((2, 3, 4), np.nan), x(2, 3, 5), x(2, 5, 4)]),
    ("addbmm", cr.addbmm, torch.addbmm, [x(3, 4), x(2, 3, 5), x(2, 5, 4)]),
    ("atleast_3d", cr.atleast_3d, torch.atleast_3d, [x(4)]),
    ("atleast_2d_0d", cr.atleast_2d, torch.atleast_2d, [np.array(2.0)]),
    ("hstack", lambda a, b: cr.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [x(2, 3), x(2, 1)]),
    ("hstack_1d", lambda a, b: cr.hstack((a, b)), lambda a, b: torch.hstack((a, b)), [x(3), x(2)]),
    ("vstack", lambda a, b: cr.vstack([a, b]), lambda a, b: torch.vstack([a, b]), [x(3), x(2, 3)]),
    ("dstack", lambda a, b: cr.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [x(2, 3), x(2, 3)]),
    ("column_stack", lambda a, b: cr.column_stack([a, b]), lambda a, b: torch.column_stack([a, b]),
     [x(3), x(3, 2)]),
    ("tensor_split_int", lambda a: cr.tensor_split(a, 3, dim=1)[1],
     lambda a: torch.tensor_split(a, 3, dim=1)[1], [x(2, 7)]),
    ("tensor_split_idx", lambda a: cr.tensor_split(a, [1, 5, 9])[1],
     lambda a: torch.tensor_split(a, [1, 5, 9])[1], [x(7, 2)]),
    ("hsplit", lambda a: a.hsplit(2)[1], lambda a: a.hsplit(2)[1], [x(3, 4)]),
    ("vsplit", lambda a: cr.vsplit(a, [1])[0], lambda a: torch.vsplit(a, [1])[0], [x(3, 4)]),
    ("tile", lambda a: a.tile((2, 1, 3)), lambda a: a.tile((2, 1, 3)), [x(2, 3)]),
    ("movedim", lambda a: cr.movedim(a, (0, 2), (2, 0)), lambda a: torch.movedim(a, (0, 2), (2, 0)),
     [x(2, 3, 4)]),
    ("moveaxis", lambda a: a.moveaxis(0, -1), lambda a: a.moveaxis(0, -1), [x(2, 3, 4)]),
    ("swapdims", lambda a: a.swapdims(0, 1), lambda a: a.swapdims(0, 1), [x(2, 3)]),
    ("ravel", lambda a: a.mT.ravel(), lambda a: a.mT.ravel(), [x(2, 3)]),
    ("select", lambda a: a.select(1, -1), lambda a: a.select(1, -1), [x(2, 3, 4)]),
    ("take", lambda a: cr.take(a, cr.tensor([[0, -1], [5, 2]])),
     lambda a: torch.take(a, torch.tensor([[0, -1], [5, 2]])), [x(2, 3)]),
    ("take_along_dim", lambda a: cr.take_along_dim(a, cr.tensor([[0], [2]]), 1),
     lambda a: torch.take_along_dim(a, torch.tensor([[0], [2]]), 1), [x(2, 3)]),
    ("take_along_dim_bcast", lambda a: cr.take_along_dim(a, cr.tensor([[[1, 0]]]), 2),
     lambda a: torch.take_along_dim(a, torch.tensor([[[1, 0]]]), 2), [x(2, 3, 4)]),
    ("take_along_flat", lambda a: cr.take_along_dim(a, cr.tensor([3, 0])),
     lambda a: torch.take_along_dim(a, torch.tensor([3, 0])), [x(2, 3)]),
    ("tensordot", lambda a, b: cr.tensordot(a, b, ([1, 0], [0, 2])),
     lambda a, b: torch.tensordot(a, b, ([1, 0], [0, 2])), [x(2, 3, 4), x(3, 5, 2)]),
    ("tensordot_int", lambda a, b: cr.tensordot(a, b, 1), lambda a, b: torch.tensordot(a, b, 1),
     [x(2, 3), x(3, 4)]),
    ("inner", cr.inner, torch.inner, [x(2, 3), x(4, 3)]),
    ("vdot", cr.vdot, torch.vdot, [x(5), x(5)]),
    ("kron", cr.kron, torch.kron, [x(2, 3), x(3, 2)]),
    ("kron_ndim", cr.kron, torch.kron, [x(2), x(3, 2)]),
    ("diff", lambda a: cr.diff(a, n=2, dim=0), lambda a: torch.diff(a, n=2, dim=0), [x(5, 3)]),
    ("diff_pre_app", lambda a, p: a.diff(prepend=p, append=p),
     lambda a, p: a.diff(prepend=p, append=p), [x(2, 4), x(2, 1)]),
    ("vander", lambda a: cr.vander(a, 4), lambda a: _torch_vander(a, 4), [x(3)]),
    ("vander_inc", lambda a: cr.vander(a, increasing=True),
     lambda a: _torch_vander(a, 3, increasing=True), [np.array([0.0, 1.5, -2.0])]),
    ("cartesian_prod", cr.cartesian_prod, torch.cartesian_prod, [x(2), x(3), x(2)]),
    ("combinations", lambda a: cr.combinations(a, 3), lambda a: torch.combinations(a, 3), [x(5)]),
    ("combinations_rep", lambda a: cr.combinations(a, with_replacement=True),
     lambda a: torch.combinations(a, with_replacement=True), [x(3)]),
    ("block_diag", cr.block_diag, torch.block_diag, [x(2, 3), x(3), np.array(1.5)]),
    ("cov", cr.cov, torch.cov, [x(3, 6)]),
    ("cov_1d_corr0", lambda a: cr.cov(a, correction=0), lambda a: torch.cov(a, correction=0), [x(6)]),
    ("cov_weights", lambda a: cr.cov(a, fweights=cr.tensor([1, 2, 1, 3]), aweights=cr.tensor([0.5, 1, 2, 1.0], dtype=a.dtype)),
     lambda a: torch.cov(a, fweights=torch.tensor([1, 2, 1, 3]), aweights=torch.tensor([0.5, 1, 2, 1.0], dtype=a.dtype)),
     [x(2, 4)]),
    ("corrcoef", cr.corrcoef, torch.corrcoef, [x(3, 7)]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_composite_matches_torch(case, dtype):
    _, fc, ft, arrays = case
    check(fc, ft, *[a.astype(dtype) for a in arrays], double=True,
          scale=10 if dtype == np.float32 else 1)


@pytest.mark.parametrize("op", ["abs_", "sin_", "log1p_", "reciprocal_", "clamp_min_", "sgn_",
                                "floor_", "round_", "ceil_", "erf_", "logit_", "tanh_", "square_", "atan2_",
                                "addcmul_", "hypot_", "lerp_", "eq_", "cumsum_", "tril_"])
def test_in_place_variants_match_torch(op):
    a = R.uniform(0.05, 0.45, (3, 3))
    extra = {"clamp_min_": (0.3,), "atan2_": (a.T.copy(),), "hypot_": (a.T.copy(),),
             "addcmul_": (a.T.copy(), a), "lerp_": (a.T.copy(), 0.3), "eq_": (a.T.copy(),),
             "cumsum_": (1,)}.get(op, ())
    leaf_c = cr.tensor(a, requires_grad=True)
    leaf_t = torch.tensor(a, requires_grad=True)
    yc, yt = leaf_c * 2, leaf_t * 2
    args_c = [cr.tensor(v) if isinstance(v, np.ndarray) else v for v in extra]
    args_t = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in extra]
    out_c, out_t = getattr(yc, op)(*args_c), getattr(yt, op)(*args_t)
    assert out_c is yc and out_t is yt
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    if op == "eq_":     # torch keeps a zero-gradient node after an in-place comparison
        return
    assert yc.requires_grad == yt.requires_grad
    yc.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(leaf_c.grad.numpy(), leaf_t.grad.numpy(force=True), rtol=1e-12)


def test_sinc_and_nan_to_num_gradients_at_their_special_points():
    for fn in ("sinc", "nan_to_num", "floor", "round"):
        v = np.array([0.0, np.inf, np.nan, 1.0])
        c, t = cr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        getattr(cr, fn)(c).sum().backward()
        getattr(torch, fn)(t).sum().backward()
        np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy(force=True))


@pytest.mark.parametrize("name, args", [
    ("isin", lambda m: (m.tensor([1, 2, 5, 7]), m.tensor([2, 7, 9]))),
    ("isin", lambda m: (m.tensor([[1, 2], [3, 4]]), 3)),
    ("bucketize", lambda m: (m.tensor([[0.5, 1.0], [3.0, 9.0]]), m.tensor([1.0, 3.0, 5.0]))),
    ("searchsorted", lambda m: (m.tensor([[1, 3, 5], [2, 4, 6]]), m.tensor([[3, 6], [1, 4]]))),
    ("histc", lambda m: (m.tensor([0.0, 1.0, 1.0, 2.5, 4.0, -1.0]), 4, 0, 3)),
    ("histc", lambda m: (m.tensor([1.0, 2.0, 1.0]),)),
    ("bincount", lambda m: (m.tensor([0, 1, 1, 3]),)),
    ("tril_indices", lambda m: (4, 3, -1)),
    ("triu_indices", lambda m: (3, 5, 1)),
])
def test_counting_and_search_match_torch(name, args):
    mine, theirs = getattr(cr, name)(*args(cr)), getattr(torch, name)(*args(torch))
    assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_searchsorted_and_bucketize_options_match_torch():
    seq, vals = [1.0, 2.0, 2.0, 4.0], [[2.0, 0.0], [4.0, 5.0]]
    for kw in ({"right": True}, {"side": "right"}, {"out_int32": True}):
        mine = cr.searchsorted(cr.tensor(seq), cr.tensor(vals), **kw)
        theirs = torch.searchsorted(torch.tensor(seq), torch.tensor(vals), **kw)
        assert str(mine.dtype)[-5:] == str(theirs.dtype)[-5:]
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    w = torch.tensor([0.5, 1.0, 2.0, 0.25], dtype=torch.float32)
    mine = cr.bincount(cr.tensor([0, 2, 2, 5]), weights=cr.tensor(w.numpy()), minlength=8)
    theirs = torch.bincount(torch.tensor([0, 2, 2, 5]), weights=w, minlength=8)
    assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy())


def test_predicates_and_constants_match_torch():
    for v in ([0.0], [2], [True]):
        assert cr.is_nonzero(cr.tensor(v)) == torch.is_nonzero(torch.tensor(v))
    for dt in ("float32", "int64", "uint8", "bool", "int8"):
        assert cr.tensor([1]).to(getattr(cr, dt)).is_signed() == torch.tensor([1]).to(getattr(torch, dt)).is_signed()
    assert cr.is_same_size(cr.ones(2, 3), cr.zeros(2, 3)) and not cr.ones(2).is_same_size(cr.ones(3))
    assert (cr.pi, cr.e, cr.inf) == (torch.pi, torch.e, torch.inf) and cr.newaxis is None
    np.testing.assert_array_equal(cr.signbit(cr.tensor([-0.0, 0.0, -2.0])).numpy(), [True, False, True])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: cr.is_nonzero(cr.ones(2)), RuntimeError, "more than one value"),
    (lambda: cr.is_nonzero(cr.ones(0)), RuntimeError, "no values"),
    (lambda: cr.hsplit(cr.ones(3, 5), 2), RuntimeError, "not divisible"),
    (lambda: cr.vsplit(cr.ones(3), 1), RuntimeError, "at least 2 dimension"),
    (lambda: cr.take(cr.ones(2, 2), cr.tensor([4])), IndexError, "out of range"),
    (lambda: cr.select(cr.ones(2, 2), 0, 2), IndexError, "out of range"),
    (lambda: cr.tensordot(cr.ones(2, 3), cr.ones(2, 3), 1), RuntimeError, "contracted dimensions"),
    (lambda: cr.inner(cr.ones(2, 3), cr.ones(2)), RuntimeError, "last dimension must match"),
    (lambda: cr.addcdiv(cr.ones(2), cr.tensor([1, 2]), cr.tensor([1, 2])), RuntimeError, "addcdiv"),
    (lambda: cr.addmv(cr.ones(4), cr.ones(3, 2), cr.ones(2)), RuntimeError, "addmv"),
    (lambda: cr.movedim(cr.ones(2, 3), (0, 1), (1,)), RuntimeError, "movedim"),
    (lambda: cr.bincount(cr.tensor([-1, 2])), RuntimeError, "non-negative"),
    (lambda: cr.positive(cr.tensor([True])), TypeError, "bool"),
    (lambda: cr.searchsorted(cr.tensor([1, 2]), cr.tensor([1]), side="middle"), RuntimeError, "side"),
    (lambda: cr.diff(cr.tensor(1.0)), RuntimeError, "one-dimensional"),
    (lambda: cr.cov(cr.ones(2, 2, 2)), RuntimeError, "two or fewer"),
])
def test_composite_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# torch's own take_along_dim(dim=None) refuses a strided input (it views it flat)
_MATRIX_CASES = [c for c in CASES if len(c[3]) == 1 and c[3][0].ndim == 2
                 and c[0] != "take_along_flat"]


@pytest.mark.parametrize("case", _MATRIX_CASES, ids=[c[0] for c in _MATRIX_CASES])
def test_composites_on_non_contiguous_inputs(case):
    """The same values through a transposed (strided) view: the op must not assume a layout."""
    _, fc, ft, (a,) = case
    check(lambda t: fc(t.mT), lambda t: ft(t.mT), np.ascontiguousarray(a.T), double=True)


POINTWISE = ["reciprocal", "sgn", "logit", "sinc", "deg2rad", "rad2deg", "nan_to_num", "signbit"]


@pytest.mark.parametrize("shape", [(), (0,), (2, 0), (1, 1)], ids=["0d", "empty", "empty2d", "size1"])
@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_composites_on_0d_empty_and_size1(name, shape):
    a = R.uniform(0.1, 0.9, shape)
    mine, theirs = getattr(cr, name)(cr.tensor(a)), getattr(torch, name)(torch.tensor(a))
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy().astype(mine.numpy().dtype), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_composite_jvp_matches_torch_func(case):
    _, fc, ft, arrays = case
    check_jvp(fc, ft, *[a.astype(np.float64) for a in arrays])
