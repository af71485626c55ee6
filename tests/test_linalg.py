"""chainrule.linalg against torch.linalg: values, gradients and second derivatives (float32
and float64, batched), the published rules against float64 finite differences, and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp, finite_difference_check

R = np.random.default_rng(12)


def x(*s):
    return R.standard_normal(s)


def spd(*batch, n=3):
    a = R.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def well(*batch, n=3):
    return R.standard_normal(batch + (n, n)) + 3 * np.eye(n)


# (id, fn(lib, *tensors) — with lib.linalg, arrays); outputs with a sign gauge (eigenvectors,
# singular vectors) enter through gauge-invariant expressions, as any meaningful loss does
CASES = [
    ("inv", lambda m, a: m.linalg.inv(a), [well(2)]),
    ("det", lambda m, a: m.linalg.det(a), [well(2)]),
    ("slogdet", lambda m, a: m.linalg.slogdet(a)[1], [well(2)]),
    ("solve_matrix", lambda m, a, b: m.linalg.solve(a, b), [well(2), x(2, 3, 2)]),
    ("solve_vector", lambda m, a, b: m.linalg.solve(a, b), [well(), x(3)]),
    ("solve_batch_bcast", lambda m, a, b: m.linalg.solve(a, b), [well(), x(2, 3, 4)]),
    ("solve_right", lambda m, a, b: m.linalg.solve(a, b, left=False), [well(), x(2, 3)]),
    ("cholesky", lambda m, a: m.linalg.cholesky(a), [spd(2)]),
    ("cholesky_upper", lambda m, a: m.linalg.cholesky(a, upper=True), [spd()]),
    ("qr_Q", lambda m, a: m.linalg.qr(a).Q, [x(4, 3)]),
    ("qr_R", lambda m, a: m.linalg.qr(a).R, [x(2, 3, 3)]),
    ("qr_both", lambda m, a: m.linalg.qr(a).Q.sum() * m.linalg.qr(a).R, [x(4, 2)]),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a), [spd(2)]),
    ("eigh_vectors", lambda m, a: (lambda e: (e.eigenvectors * e.eigenvectors) * e.eigenvalues)(m.linalg.eigh(a)),
     [spd()]),
    ("eigh_upper", lambda m, a: (lambda e: e.eigenvectors @ m.diag_embed(e.eigenvalues ** 2) @ e.eigenvectors.mT)(
        m.linalg.eigh(a, UPLO="U")), [spd()]),
    ("svdvals", lambda m, a: m.linalg.svdvals(a), [x(2, 4, 3)]),
    ("svd_U_tall", lambda m, a: (lambda u: u * u)(m.linalg.svd(a, full_matrices=False).U), [x(4, 3)]),
    ("svd_Vh_wide", lambda m, a: (lambda v: v * v)(m.linalg.svd(a, full_matrices=False).Vh), [x(3, 5)]),
    ("svd_all", lambda m, a: (lambda r: r.U @ m.diag_embed(r.S.sqrt()) @ r.Vh)(m.linalg.svd(a, full_matrices=False)),
     [x(3, 3)]),
    # torch.svd, the older interface: V itself, thin factors by default (some=True)
    ("svd_uv", lambda m, a: (lambda r: r.U @ m.diag_embed(r.S.sqrt()) @ r.V.mT)(m.svd(a)),
     [x(2, 4, 3)]),
    ("svd_uv_S", lambda m, a: m.svd(a, compute_uv=False).S, [x(3, 5)]),
    ("pinv", lambda m, a: m.linalg.pinv(a), [x(4, 3)]),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, [x(5, 3), x(5, 2)]),
    ("vector_norm2", lambda m, a: m.linalg.vector_norm(a), [x(3, 4)]),
    ("vector_norm_dim", lambda m, a: m.linalg.vector_norm(a, 3, dim=1, keepdim=True), [x(3, 4)]),
    ("vector_norm_inf", lambda m, a: m.linalg.vector_norm(a, float("inf"), dim=0), [x(3, 4)]),
    ("vector_norm_half", lambda m, a: m.linalg.vector_norm(a, 0.5), [x(5)]),
    ("vector_norm_1", lambda m, a: m.linalg.vector_norm(a, 1, (0, 1)), [x(2, 3, 2)]),
    ("matrix_norm_fro", lambda m, a: m.linalg.matrix_norm(a), [x(2, 3, 4)]),
    ("matrix_norm_nuc", lambda m, a: m.linalg.matrix_norm(a, "nuc"), [x(3, 4)]),
    ("matrix_norm_2", lambda m, a: m.linalg.matrix_norm(a, 2, keepdim=True), [x(2, 3, 3)]),
    ("matrix_norm_1", lambda m, a: m.linalg.matrix_norm(a, 1), [x(3, 4)]),
    ("matrix_norm_neg_inf", lambda m, a: m.linalg.matrix_norm(a, -float("inf"), dim=(0, 1)), [x(3, 4)]),
    ("norm_default", lambda m, a: m.linalg.norm(a), [x(2, 3, 4)]),
    ("norm_ord_matrix", lambda m, a: m.linalg.norm(a, "fro"), [x(3, 4)]),
    ("tensor_norm", lambda m, a: a.norm(), [x(3, 4)]),
    ("tensor_norm_p_dim", lambda m, a: a.norm(p=1, dim=1), [x(3, 4)]),
    ("torch_norm_nuc", lambda m, a: m.norm(a, "nuc"), [x(3, 3)]),
    ("matrix_power", lambda m, a: m.linalg.matrix_power(a, 3), [x(3, 3) / 2]),
    ("matrix_power_neg", lambda m, a: m.linalg.matrix_power(a, -2), [well()]),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [x(2, 3), x(3, 4), x(4)]),
    ("cross", lambda m, a, b: m.linalg.cross(a, b), [x(2, 3), x(1, 3)]),
    ("vecdot", lambda m, a, b: m.linalg.vecdot(a, b, dim=0), [x(3, 2), x(3, 2)]),
    ("tensor_inverse_det", lambda m, a: a.inverse() * a.det(), [well()]),
]

NO_DOUBLE = {"lstsq", "pinv"}   # torch's own double backward of these goes through branches


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_linalg_matches_torch(case, dtype):
    name, fn, arrays = case
    check(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *[a.astype(dtype) for a in arrays],
          double=name not in NO_DOUBLE, scale=300 if dtype == np.float32 else 10)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in (
    "inv", "det", "slogdet", "solve_matrix", "cholesky", "qr_both", "eigh_vectors", "svd_U_tall",
    "svd_Vh_wide", "svd_all", "svd_uv", "svdvals", "pinv", "matrix_norm_nuc")], ids=lambda c: c[0])
def test_published_rules_against_finite_differences(case):
    name, fn, arrays = case
    # cholesky and eigh read one triangle: differentiate them as functions of a symmetric A
    sym = name in ("cholesky", "eigh_vectors")
    f = (lambda a: fn(cr, (a + a.mT) / 2)) if sym else (lambda *t: fn(cr, *t))
    finite_difference_check(f, *arrays, rtol=1e-5, atol=1e-6)


def test_svd_uv_shapes_and_zero_filled_factors_as_torch():
    a = x(2, 5, 3)
    for kw in ({}, {"some": False}, {"compute_uv": False}, {"some": False, "compute_uv": False}):
        mine, theirs = cr.svd(cr.tensor(a), **kw), torch.svd(torch.tensor(a), **kw)
        assert mine._fields == ("U", "S", "V")
        assert [tuple(t.shape) for t in mine] == [tuple(t.shape) for t in theirs], kw
        np.testing.assert_allclose(mine.S.numpy(), theirs.S.numpy(), rtol=1e-12)
        if kw.get("compute_uv") is False:
            assert not mine.U.numpy().any() and not mine.V.numpy().any()


def test_values_of_outputs_with_no_gradient_match_torch():
    a, b = x(5, 3), x(5, 2)
    for kw in ({}, {"driver": "gelsd"}):
        mine = cr.linalg.lstsq(cr.tensor(a), cr.tensor(b), **kw)
        theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), **kw)
        for p, q in zip(mine, theirs):
            assert tuple(p.shape) == tuple(q.shape)
            np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12)
    low_rank = x(4, 2) @ x(2, 4)
    assert cr.linalg.matrix_rank(cr.tensor(low_rank)).item() == torch.linalg.matrix_rank(torch.tensor(low_rank)).item() == 2
    sign, logabs = cr.linalg.slogdet(cr.tensor(-np.eye(3)))
    assert sign.item() == -1 and logabs.item() == 0
    q, r = cr.linalg.qr(cr.tensor(a), mode="complete")
    tq, tr = torch.linalg.qr(torch.tensor(a), mode="complete")
    np.testing.assert_allclose(q.numpy(), tq.numpy(), atol=1e-12)
    np.testing.assert_allclose(r.numpy(), tr.numpy(), atol=1e-12)
    u, s, vh = cr.linalg.svd(cr.tensor(a))
    assert tuple(u.shape) == (5, 5) and tuple(vh.shape) == (3, 3)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: cr.linalg.inv(cr.zeros(3, 3)), cr.linalg.LinAlgError, "singular"),
    (lambda: cr.linalg.inv(cr.ones(2, 3)), RuntimeError, "square"),
    (lambda: cr.linalg.inv(cr.ones(3)), RuntimeError, "at least 2 dimensions"),
    (lambda: cr.linalg.cholesky(-cr.eye(2)), cr.linalg.LinAlgError, "positive-definite"),
    (lambda: cr.linalg.solve(cr.eye(3), cr.ones(2)), RuntimeError, "Incompatible shapes"),
    (lambda: cr.linalg.det(cr.eye(2, dtype=cr.int64)), RuntimeError, "floating point"),
    (lambda: cr.linalg.qr(cr.ones(2, 2), mode="full"), RuntimeError, "mode"),
    (lambda: cr.linalg.eigh(cr.eye(2), UPLO="X"), RuntimeError, "UPLO"),
    # (the forward runs, as torch's; differentiating R without Q raises)
    (lambda: cr.linalg.qr(cr.ones(2, 3, requires_grad=True), mode="r").R.sum().backward(),
     RuntimeError, "derivative"),
    (lambda: cr.linalg.qr(cr.ones(3, 2, requires_grad=True), mode="complete").Q.sum().backward(),
     RuntimeError, "not differentiable"),
    (lambda: cr.linalg.matrix_norm(cr.ones(2, 2), 3), RuntimeError, "Order"),
    (lambda: cr.linalg.norm(cr.ones(2, 2, 2), 2), RuntimeError, "1D or 2D"),
    (lambda: cr.linalg.cross(cr.ones(2), cr.ones(2)), RuntimeError, "length 3"),
])
def test_linalg_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_linalg_error_is_a_runtime_error_like_torchs():
    assert issubclass(cr.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize("case", [c for c in CASES if len(c[2]) == 1 and c[2][0].ndim == 2],
                         ids=lambda c: c[0])
def test_on_non_contiguous_inputs(case):
    """The same matrices through a transposed (strided) view."""
    name, fn, (a,) = case
    check(lambda t: fn(cr, t.mT), lambda t: fn(torch, t.mT), np.ascontiguousarray(a.T),
          double=name not in NO_DOUBLE, scale=10)


@pytest.mark.parametrize("name", ["inv", "det", "cholesky", "eigvalsh", "svdvals", "norm"])
def test_on_empty_batches(name):
    mine = getattr(cr.linalg, name)(cr.zeros(0, 2, 2) + cr.eye(2))
    theirs = getattr(torch.linalg, name)(torch.zeros(0, 2, 2) + torch.eye(2))
    assert tuple(mine.shape) == tuple(theirs.shape)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in ("cholesky", "cholesky_upper", "eigvalsh",
                                                                   "eigh_vectors", "eigh_upper")],
                         ids=lambda c: c[0])
def test_linalg_jvp_matches_torch_func(case):
    """(cholesky and eigh read one triangle; their JVPs are compared on symmetric inputs in
    tests/cases_linalg.py through the shared forward-mode tests)"""
    _, fn, arrays = case
    check_jvp(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *arrays, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("shape, mode", [((3, 4), "reduced"), ((3, 4), "complete"),
                                         ((2, 3, 5), "reduced"), ((3, 3), "complete")])
def test_qr_of_wide_matrices_differentiates_as_torch(shape, mode):
    """m < n: A = [X | Y], Q and R_X from X's QR, R = [R_X | QᵀY] (it raised at forward)."""
    a = R.standard_normal(shape)
    fn = lambda m, A: (lambda r: r.Q @ r.R * 1.5 + r.R.abs())(m.linalg.qr(A, mode=mode))  # noqa: E731
    check(lambda t: fn(cr, t), lambda t: fn(torch, t), a, double=False, scale=10)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 3)])
def test_full_svd_of_non_square_matrices_differentiates_its_thin_part_as_torch(shape):
    """The columns past min(m, n) complete a basis and get no gradient (torch drops theirs);
    it raised at forward when A required grad."""
    a = R.standard_normal(shape)
    k = min(shape[-2:])

    def fn(m, A):
        u, s, vh = m.linalg.svd(A)
        assert tuple(u.shape)[-1] == shape[-2] and tuple(vh.shape)[-2] == shape[-1]
        return u[..., :, :k] @ m.diag_embed(s.sqrt()) @ vh[..., :k, :] + (u @ u.mT).sum() * 0
    check(lambda t: fn(cr, t), lambda t: fn(torch, t), a, double=False, scale=10)
