"""torch's older linear-algebra names against torch: torch.qr / torch.svd and their methods,
LAPACK's packed QR (geqrf, orgqr, ormqr), chain_matmul, the randomized svd_lowrank /
pca_lowrank (torch's random draws, so equal results), histogramdd, and the removed names
(solve, lstsq, eig, matrix_rank, symeig) that only raise — values, gradients, float64 finite
differences and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp, check_jvp_fd, finite_difference_check

R = np.random.default_rng(23)


def x(*s):
    return R.standard_normal(s)


def first_nonneg(u):
    """Fix each singular vector's sign (first entry ≥ 0), so factors compare across libraries."""
    return u * u[..., :1, :].sign()


_A, _TAU = (t.numpy() for t in torch.geqrf(torch.tensor(x(2, 5, 3))))
_AW, _TAUW = (t.numpy() for t in torch.geqrf(torch.tensor(x(3, 4))))


# (id, fn(lib, *tensors), float64 arrays); each case runs in float32 and float64
CASES = [
    ("qr", lambda m, a: (lambda r: r.Q * 2 + r.R.sum())(m.qr(a)), [x(2, 4, 3)]),
    ("qr_complete_wide", lambda m, a: (lambda r: r.Q * 2 + r.R.sum())(m.qr(a, some=False)),
     [x(3, 5)]),
    ("qr_method_Q", lambda m, a: a.qr()[0], [x(3, 3)]),
    ("qr_method_R_tall", lambda m, a: a.qr(some=True).R, [x(5, 2)]),
    ("svd_S", lambda m, a: m.svd(a).S, [x(2, 4, 3)]),
    ("svd_UV", lambda m, a: (lambda r: first_nonneg(r.U).sum(-1) + first_nonneg(r.V).sum())(
        m.svd(a)), [x(4, 3)]),
    ("svd_method_wide_V", lambda m, a: first_nonneg(a.svd()[2]), [x(2, 3, 5)]),
    ("svd_no_uv_S", lambda m, a: m.svd(a, compute_uv=False).S, [x(3, 4)]),
    ("orgqr", lambda m, a, t: m.orgqr(a, t), [_A, _TAU]),
    ("orgqr_method", lambda m, a, t: a.orgqr(t), [_A[0], _TAU[0]]),
    ("ormqr", lambda m, a, t, c: m.ormqr(a, t, c), [_A, _TAU, x(2, 5, 2)]),
    ("ormqr_transpose", lambda m, a, t, c: m.ormqr(a, t, c, transpose=True),
     [_A, _TAU, x(2, 5, 4)]),
    ("ormqr_right", lambda m, a, t, c: m.ormqr(a, t, c, left=False), [_A, _TAU, x(2, 3, 5)]),
    ("ormqr_right_transpose_method", lambda m, a, t, c: a.ormqr(t, c, False, True),
     [_A[1], _TAU[1], x(2, 5)]),
    ("ormqr_wide", lambda m, a, t, c: m.ormqr(a, t, c), [_AW, _TAUW, x(3, 2)]),
    ("chain_matmul", lambda m, a, b, c: m.chain_matmul(a, b, c), [x(2, 3), x(3, 4), x(4, 2)]),
    ("chain_matmul_one", lambda m, a: m.chain_matmul(a), [x(2, 3)]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, dtype):
    name, fn, arrays = case
    with warnings.catch_warnings():   # (torch.qr and chain_matmul are deprecated in torch)
        warnings.simplefilter("ignore")
        check(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *[a.astype(dtype) for a in arrays],
              scale=300 if dtype == np.float32 else 10)


FD = ["qr", "qr_complete_wide", "svd_S", "svd_UV", "svd_method_wide_V", "svd_no_uv_S", "orgqr",
      "ormqr", "ormqr_transpose", "ormqr_right", "ormqr_wide", "chain_matmul"]


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in FD], ids=lambda c: c[0])
def test_against_finite_differences(case):
    name, fn, arrays = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finite_difference_check(lambda *t: fn(cr, *t), *arrays, rtol=1e-5, atol=1e-6)


def test_qr_and_svd_results_and_warnings():
    a = x(4, 3)
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        r = cr.qr(cr.tensor(a), some=False)
    assert type(r).__name__ == "qr" and r._fields == ("Q", "R")
    assert tuple(r.Q.shape) == (4, 4) and tuple(r.R.shape) == (4, 3)
    np.testing.assert_allclose((r.Q @ r.R).numpy(), a, atol=1e-12)
    full, thin = cr.svd(cr.tensor(a), some=False), cr.tensor(a).svd()
    assert full._fields == ("U", "S", "V") and tuple(full.U.shape) == (4, 4)
    assert tuple(thin.U.shape) == (4, 3) and tuple(thin.V.shape) == (3, 3)
    np.testing.assert_allclose((thin.U * thin.S @ thin.V.mT).numpy(), a, atol=1e-12)
    mine, theirs = cr.svd(cr.tensor(a), compute_uv=False), torch.svd(torch.tensor(a),
                                                                    compute_uv=False)
    for p, q in zip(mine, theirs):   # U and V zero-filled, as torch's
        np.testing.assert_allclose(p.numpy(), q.numpy(), atol=1e-12)
        assert tuple(p.shape) == tuple(q.shape)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 4, 3), (3, 0), (0, 2, 2)],
                         ids=["tall", "wide", "square", "batch", "empty_cols", "empty_batch"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_geqrf_is_lapacks(shape, dtype):
    a = x(*shape).astype(dtype)
    mine, theirs = cr.geqrf(cr.tensor(a)), torch.geqrf(torch.tensor(a))
    assert mine._fields == ("a", "tau") and type(mine).__name__ == "geqrf"
    for p, q in zip(mine, theirs):   # LAPACK's signs: R's diagonal as torch's, not made positive
        assert tuple(p.shape) == tuple(q.shape) and p.dtype == getattr(cr, str(q.dtype)[6:])
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cr.tensor(a).geqrf().tau.numpy(), theirs.tau.numpy(), atol=1e-5)


def test_geqrf_feeds_orgqr_and_ormqr_and_is_not_differentiable():
    a = x(5, 3)
    g = cr.geqrf(cr.tensor(a, requires_grad=True))
    q = cr.orgqr(*g)
    np.testing.assert_allclose(cr.ormqr(*g, cr.eye(5, dtype=cr.float64)).detach().numpy()[:, :3],
                               q.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose((q @ g.a.triu()[:3]).detach().numpy(), a, atol=1e-12)
    assert g.a.requires_grad and g.tau.requires_grad
    with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not implemented"):
        g.a.sum().backward()
    with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not implemented"):
        torch.geqrf(torch.tensor(a, requires_grad=True)).a.sum().backward()


def _d(*s, dtype=np.float64):
    return x(*s).astype(dtype)


@pytest.mark.parametrize("args, kwargs", [
    ((_d(5), _d(3), _d(5, 4)), {}),
    ((_d(5, 3), _d(2, 3), _d(5, 4)), {}),
    ((_d(5, 3), _d(3), _d(5)), {}),
    ((_d(5, 3), _d(3), _d(2, 5, 4)), {}),
    ((_d(2, 5, 3), _d(3, 3), _d(2, 5, 2)), {}),
    ((_d(5, 3), _d(3), _d(4, 4)), {}),
    ((_d(5, 3), _d(3), _d(5, 4)), {"left": False}),
    ((_d(5, 3), _d(4), _d(5, 4)), {}),
    ((_d(5, 3), _d(2), _d(4, 5)), {"left": False}),
    ((_d(5, 3), _d(3, dtype=np.float32), _d(5, 4)), {}),
    ((_d(5, 3), _d(3), _d(5, 4, dtype=np.float32)), {}),
], ids=["input_1d", "tau_ndim", "other_1d", "other_ndim", "tau_batch", "other_rows", "other_cols",
        "tau_too_long", "tau_short_right", "tau_dtype", "other_dtype"])
def test_ormqr_errors_match_torch(args, kwargs):
    with pytest.raises(RuntimeError) as theirs:
        torch.ormqr(*map(torch.tensor, args), **kwargs)
    with pytest.raises(RuntimeError) as mine:
        cr.ormqr(*map(cr.tensor, args), **kwargs)
    assert str(mine.value) == str(theirs.value)


def test_chain_matmul_warns_and_errors_as_torch():
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        cr.chain_matmul(cr.ones(2, 2), cr.ones(2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args in [(), (x(3),), (x(2, 3), x(3))]:
            with pytest.raises(RuntimeError) as theirs:
                torch.chain_matmul(*map(torch.tensor, args))
            with pytest.raises(RuntimeError) as mine:
                cr.chain_matmul(*map(cr.tensor, args))
            assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize("name, call", [
    ("solve", lambda m, a: m.solve(a, a)), ("lstsq", lambda m, a: m.lstsq(a, a)),
    ("eig", lambda m, a: m.eig(a)), ("matrix_rank", lambda m, a: m.matrix_rank(a)),
    ("symeig", lambda m, a: m.symeig(a, eigenvectors=True)),
    ("Tensor.solve", lambda m, a: a.solve(a)), ("Tensor.lstsq", lambda m, a: a.lstsq(a)),
    ("Tensor.eig", lambda m, a: a.eig(eigenvectors=True)),
    ("Tensor.symeig", lambda m, a: a.symeig()),
])
def test_removed_names_raise_as_torch(name, call):
    with pytest.raises(RuntimeError) as theirs:
        call(torch, torch.eye(2))
    with pytest.raises(RuntimeError) as mine:
        call(cr, cr.eye(2))
    assert str(mine.value).startswith(str(theirs.value))   # (eig adds chainrule's eigh hint)
    assert "linalg" in str(mine.value)
    assert not hasattr(torch.Tensor, "matrix_rank") and not hasattr(cr.Tensor, "matrix_rank")


# ---------------------------------------------------------------------------- randomized SVD / PCA
@pytest.mark.parametrize("fn", [
    lambda m, a: m.svd_lowrank(a, q=3),
    lambda m, a: m.svd_lowrank(a.mT, q=4, niter=1),
    lambda m, a: m.svd_lowrank(a, q=3, M=a.mean(-2, keepdim=True)),
    lambda m, a: m.pca_lowrank(a),
    lambda m, a: m.pca_lowrank(a, q=2, center=False, niter=0),
], ids=["svd_lowrank", "wide_niter1", "with_M", "pca", "pca_uncentered"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lowrank_with_torchs_random_draws_equals_torch(fn, dtype):
    a = (x(2, 8, 3) @ x(2, 3, 6) + 0.01 * x(2, 8, 6)).astype(dtype)
    torch.manual_seed(5)
    cr.manual_seed(5)
    ta, ca = torch.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
    theirs, mine = fn(torch, ta), fn(cr, ca)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-9)
    (u, s, v), (ut, st, vt) = ([t.detach().numpy() for t in r] for r in (mine, theirs))
    # the last SVD's signs are LAPACK's choice (NumPy's and torch's builds differ): a singular
    # pair (uᵢ, vᵢ) is compared up to one sign for both
    sign = np.sign((u * ut).sum(-2, keepdims=True))
    for p, q in [(u * sign, ut), (s, st), (v * sign, vt)]:
        assert p.shape == q.shape
        np.testing.assert_allclose(p, q, **tol)
    g = R.standard_normal(tuple(theirs[1].shape)).astype(dtype)
    (theirs[1] * torch.tensor(g)).sum().backward()
    (mine[1] * cr.tensor(g)).sum().backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), **tol)


def test_lowrank_recovers_a_low_rank_matrix_and_checks_arguments():
    a = x(10, 3) @ x(3, 7)
    U, S, V = cr.svd_lowrank(cr.tensor(a), q=5)
    np.testing.assert_allclose((U * S @ V.mT).numpy(), a, atol=1e-10)
    np.testing.assert_allclose(S.numpy()[:3], torch.linalg.svdvals(torch.tensor(a))[:3],
                               rtol=1e-10)
    U, S, V = cr.pca_lowrank(cr.tensor(a), q=3)
    c = a - a.mean(0)
    np.testing.assert_allclose((U * S @ V.mT).numpy(), c, atol=1e-10)
    np.testing.assert_allclose(S.numpy(), torch.linalg.svdvals(torch.tensor(c))[:3], rtol=1e-10)
    finite_difference_check(lambda t: (cr.manual_seed(0), cr.svd_lowrank(t, q=3))[1][1], x(6, 4))
    for kwargs, msg in [(dict(q=8), r"q\(=8\) must be non-negative integer and not greater than "
                         r"min\(m, n\)=7"), (dict(niter=-1), r"niter\(=-1\) must be")]:
        with pytest.raises(ValueError, match=msg):
            torch.pca_lowrank(torch.tensor(a), **kwargs)
        with pytest.raises(ValueError, match=msg):
            cr.pca_lowrank(cr.tensor(a), **kwargs)


# ---------------------------------------------------------------------------- histogramdd
_PTS = x(40, 2)
_EDGES = [np.array([-1.0, 0.0, 0.5, 2.0]), np.array([-2.0, 1.0])]


@pytest.mark.parametrize("args, kwargs", [
    ((_PTS, 3), {}),
    ((_PTS, [2, 4]), {"range": [-1.0, 1.0, -2.0, 0.5]}),
    ((_PTS, [3, 2]), {"weight": np.abs(x(40)), "density": True}),
    ((x(4, 5, 3), 2), {"density": True}),
    ((_PTS, "edges"), {"weight": x(40)}),
    ((np.ones((4, 2)), 2), {}),
    ((np.zeros((0, 2)), [1, 2]), {}),
    ((np.array([[0., 1.], [1., 0.], [2., 0.], [2., 2.]]), [3, 3]),
     {"weight": np.array([1., 2., 4., 8.])}),
], ids=["int_bins", "range", "weight_density", "batched_3d", "edges_weight", "flat_range",
        "empty", "torch_doc_example"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogramdd_matches_torch(args, kwargs, dtype):
    def run(m):
        pts, bins = args
        b = [m.tensor(e.astype(dtype)) for e in _EDGES] if bins == "edges" else bins
        kw = {k: m.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
              for k, v in kwargs.items()}
        return m.histogramdd(m.tensor(pts.astype(dtype)), b, **kw)
    mine, theirs = run(cr), run(torch)
    assert type(mine).__name__ == "histogramdd" and isinstance(mine.bin_edges, tuple)
    assert mine.hist.dtype == getattr(cr, str(theirs.hist.dtype)[6:])
    np.testing.assert_allclose(mine.hist.numpy(), theirs.hist.numpy(), rtol=1e-5)
    assert len(mine.bin_edges) == len(theirs.bin_edges)
    for p, q in zip(mine.bin_edges, theirs.bin_edges):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.histogramdd(m.randn(6, 2), bins=[2, 3, 4]),
    lambda m: m.histogramdd(m.randn(6, 2), bins=[2, 3], range=[0., 1.]),
    lambda m: m.histogramdd(m.randn(5), bins=2),
    lambda m: m.histogramdd(m.randn(6, 2), bins=[m.tensor([0., 1.])]),
    lambda m: m.histogramdd(m.randn(6, 2), bins=2, weight=m.ones(5)),
    lambda m: m.histogramdd(m.randn(6, 2), bins=0),
    lambda m: m.histogramdd(m.randn(6, 2), bins=2, range=[1., 0., 0., 1.]),
    lambda m: m.histogramdd(m.randn(6, 2), bins=[m.tensor([0., 1.], dtype=m.float64),
                                                 m.tensor([0., 1.])]),
], ids=["bins_count", "range_len", "input_1d", "edges_count", "weight_shape", "bins_zero",
        "min_gt_max", "edges_dtype"])
def test_histogramdd_errors_match_torch(call):
    with pytest.raises(RuntimeError) as theirs:
        call(torch)
    with pytest.raises(RuntimeError) as mine:
        call(cr)
    assert str(mine.value) == str(theirs.value)
    with pytest.raises(NotImplementedError, match="\"histogramdd\" not implemented for 'Long'"):
        cr.histogramdd(cr.ones(3, 2, dtype=cr.int64), 2)


# ---------------------------------------------------------------------------- lobpcg
def _spd(*batch, m=10):
    a = R.standard_normal(batch + (m, m))
    return a @ np.swapaxes(a, -1, -2) + m * np.eye(m)


_LA, _LB, _LX = _spd(2), _spd(2), x(2, 10, 2)
_Q = np.linalg.qr(x(10, 10))[0]
_SPREAD = (_Q * np.arange(1.0, 11.0)) @ _Q.T   # eigenvalues 1…10: gaps of 1 at both ends


def _lobpcg_args(m, kw):
    named = {"B": _LB, "X": _LX, "iK": np.linalg.inv(_LA[0])}
    return {k: m.tensor(named[v]) if k in ("B", "X", "iK") else v for k, v in kw.items()}


@pytest.mark.parametrize("kw", [
    dict(k=2), dict(k=2, largest=False), dict(k=1, B="B"), dict(X="X"),
    dict(X="X", method="basic", largest=False), dict(k=2, niter=2), dict(k=3, n=3),
    dict(k=2, iK="iK", method="basic"), dict(k=2, ortho_bparams={"ortho_use_drop": True}),
], ids=["largest", "smallest", "generalized", "start_X", "basic_smallest", "niter", "n",
        "preconditioned", "ortho_drop"])
def test_lobpcg_matches_torch_step_for_step(kw):
    torch.manual_seed(1)
    cr.manual_seed(1)
    Et, Xt = torch.lobpcg(torch.tensor(_LA), **_lobpcg_args(torch, kw))
    Ec, Xc = cr.lobpcg(cr.tensor(_LA), **_lobpcg_args(cr, kw))
    np.testing.assert_allclose(Ec.numpy(), Et.numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(Xc.numpy()), np.abs(Xt.numpy()), atol=1e-7)
    if not {"niter", "B", "iK"} & kw.keys():   # converged: A's extreme eigenvalues
        e = torch.linalg.eigvalsh(torch.tensor(_LA)).numpy()
        k = Ec.shape[-1]
        want = e[..., :k] if kw.get("largest") is False else e[..., ::-1][..., :k]
        np.testing.assert_allclose(Ec.numpy(), want, rtol=1e-10)


def test_lobpcg_float32_and_tracker_see_torchs_iterates():
    a = _LA[0].astype(np.float32)
    seen = {torch: [], cr: []}
    for m in (torch, cr):
        m.manual_seed(3)
        E, X = m.lobpcg(m.tensor(a), k=2, tracker=lambda w, m=m: seen[m].append(
            (w.ivars["istep"], w.ivars["converged_count"], w.E.numpy().copy())))
        assert E.dtype == m.float32 and X.dtype == m.float32
    assert [s[:2] for s in seen[cr]] == [s[:2] for s in seen[torch]]
    for (_, _, mine), (_, _, theirs) in zip(seen[cr], seen[torch]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4)


@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_gradient_matches_torch_and_finite_differences(largest):
    a = _SPREAD
    ta, ca = torch.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
    torch.manual_seed(0)
    cr.manual_seed(0)
    # (converged well: the rules assume exact eigenpairs, and torch's differs from ours by
    # its own formula's sensitivity to the residual)
    (Et, Xt), (Ec, Xc) = (torch.lobpcg(ta, k=2, largest=largest, tol=1e-12),
                          cr.lobpcg(ca, k=2, largest=largest, tol=1e-12))
    assert Ec.grad_fn is not None and Xc.grad_fn is not None
    gE, gX = x(2), x(10, 2)
    sign = np.sign((Xt.detach().numpy() * Xc.detach().numpy()).sum(0))   # (vectors' gauge)
    ((Et * torch.tensor(gE)).sum() + (Xt * torch.tensor(gX * sign)).sum()).backward()
    ((Ec * cr.tensor(gE)).sum() + (Xc * cr.tensor(gX)).sum()).backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), rtol=1e-6, atol=1e-7)

    def f(t):   # the values and the projector U Uᵀ (free of the vectors' signs) of a
        cr.manual_seed(0)   # symmetric matrix, converged well below the step's effect
        E, U = cr.lobpcg((t + t.mT) / 2, k=2, largest=largest, tol=1e-11, niter=300)
        return cr.cat([E, (U @ U.mT).reshape(-1)])
    finite_difference_check(f, a, eps=1e-4, rtol=1e-5, atol=1e-6)
    check_jvp_fd(f, a, eps=1e-4, rtol=1e-5, atol=1e-6)   # forward mode (torch's has none)


def test_lobpcg_errors_as_torch():
    for kw, exc in [(dict(k=4), ValueError), (dict(n=5), ValueError)]:
        with pytest.raises(exc) as theirs:
            torch.lobpcg(torch.tensor(_LA[0]), **kw)
        with pytest.raises(exc) as mine:
            cr.lobpcg(cr.tensor(_LA[0]), **kw)
        assert str(mine.value) == str(theirs.value)
    with pytest.raises(AssertionError, match="A must be square"):
        cr.lobpcg(cr.ones(9, 10))
    for m in (torch, cr):
        E, _ = m.lobpcg(m.tensor(_LA[0], requires_grad=True), k=1,
                        B=m.tensor(_LB[0], requires_grad=True))
        with pytest.raises(ValueError, match="does not support backward with B != I"):
            E.sum().backward()


@pytest.mark.parametrize("name", ["qr", "svd_S", "orgqr", "chain_matmul", "ormqr", "ormqr_right"])
def test_jvp_matches_torch_func(name):
    _, fn, arrays = next(c for c in CASES if c[0] == name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name.startswith("ormqr"):   # torch's ormqr has no forward mode: finite differences
            check_jvp_fd(lambda *t: fn(cr, *t), *arrays)
        else:
            check_jvp(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *arrays, rtol=1e-7,
                      atol=1e-8)
