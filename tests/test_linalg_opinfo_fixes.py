"""Differences from torch that torch's own OpInfo samples found in chainrule.linalg, each pinned
against torch: lstsq's outputs in the graph, norms of empty matrices, pinv's cutoff at rtol = 1,
matrix_exp's float32 accuracy, gradients and solves on empty inputs, slogdet's sign."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import assert_close, check, finite_difference_check

R = np.random.default_rng(31)
INF = float("inf")


def x(*s):
    return R.standard_normal(s)


def distinct_singular_values(*shape):
    """torch's OpInfo matrices: U diag(1 + 1/s) Vᵀ, s = 2, −3, 4, …, so σ ∈ [2/3, 3/2] with
    values such as 1.5 that make σ_max exactly a candidate for the cutoff."""
    u, _, vh = np.linalg.svd(x(*shape), full_matrices=False)
    s = np.arange(2.0, min(shape[-2:]) + 2)
    s[1::2] *= -1
    return (u * (1 + 1 / s)) @ vh


# ---------------------------------------------------------------------------- lstsq
LSTSQ = [
    ("tall", (5, 3), (5, 2), None), ("wide", (3, 5), (3, 2), None),
    ("square", (4, 4), (4, 3), None), ("batched", (2, 5, 3), (2, 5, 2), None),
    ("broadcast_A", (1, 5, 3), (2, 5, 2), None), ("broadcast_B", (2, 3, 5), (1, 3, 2), None),
    ("vector", (5, 3), (5,), None), ("batched_vector", (2, 3, 5), (2, 3), None),
    ("gelsd", (5, 3), (5, 2), "gelsd"), ("gelss_wide", (3, 5), (3, 2), "gelss"),
    ("gels", (2, 5, 3), (2, 5, 2), "gels"),
]


@pytest.mark.parametrize("case", LSTSQ, ids=[c[0] for c in LSTSQ])
def test_lstsq_solution_value_and_gradients_match_torch(case):
    _, sa, sb, driver = case
    check(lambda a, b: cr.linalg.lstsq(a, b, driver=driver).solution,
          lambda a, b: torch.linalg.lstsq(a, b, driver=driver).solution, x(*sa), x(*sb))


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss"])
def test_lstsq_of_rank_deficient_A_differentiates_as_torchs(driver):
    a = x(6, 2) @ x(2, 4)   # rank 2: the minimum-norm solution, through the pseudo-inverse
    check(lambda a, b: cr.linalg.lstsq(a, b, driver=driver).solution,
          lambda a, b: torch.linalg.lstsq(a, b, driver=driver).solution, a, x(6, 3), scale=100)


@pytest.mark.parametrize("driver", ["gelsd", "gelss", "gels"])
def test_lstsq_residuals_value_and_gradients_match_torch(driver):
    check(lambda a, b: cr.linalg.lstsq(a, b, driver=driver).residuals,
          lambda a, b: torch.linalg.lstsq(a, b, driver=driver).residuals, x(2, 6, 3), x(2, 6, 2))


@pytest.mark.parametrize("sa, sb", [((5, 3), (5, 2)), ((3, 5), (3, 2)), ((2, 4, 3), (2, 4))])
def test_lstsq_solution_against_finite_differences(sa, sb):
    finite_difference_check(lambda a, b: cr.linalg.lstsq(a, b).solution, x(*sa), x(*sb))


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd"])
def test_lstsq_outputs_in_the_graph_as_torchs(driver):
    a, b = x(3, 5), x(3, 2)   # wide: the residuals are empty, torch's still require grad
    ct = cr.linalg.lstsq(cr.tensor(a, requires_grad=True), cr.tensor(b), driver=driver)
    tt = torch.linalg.lstsq(torch.tensor(a, requires_grad=True), torch.tensor(b), driver=driver)
    assert [t.requires_grad for t in ct] == [t.requires_grad for t in tt] == [True, True,
                                                                             False, False]
    assert [tuple(t.shape) for t in ct] == [tuple(t.shape) for t in tt]


def test_lstsq_shape_and_dtype_errors_as_torchs():
    with pytest.raises(RuntimeError, match="input.dim\\(\\) must be greater or equal"):
        cr.linalg.lstsq(cr.randn(5, 3), cr.randn(2, 5, 2))
    with pytest.raises(RuntimeError, match="input.size\\(-2\\) should match other.size\\(-2\\)"):
        cr.linalg.lstsq(cr.randn(5, 3), cr.randn(4, 2))
    with pytest.raises(RuntimeError, match="Expected input and other to have the same dtype"):
        cr.linalg.lstsq(cr.randn(5, 3, dtype=cr.float64), cr.randn(5, 2))


# ---------------------------------------------------------------------------- empty norms
@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0), (2, 0, 0)])
@pytest.mark.parametrize("ord", [INF, -INF, 1, -1, 2, -2, "fro", "nuc"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norms_of_empty_matrices_as_torchs(shape, ord, keepdim):
    a = np.zeros(shape)

    def run(lib):
        t = lib.tensor(a, requires_grad=True)
        try:
            out = lib.linalg.matrix_norm(t, ord, keepdim=keepdim)
        except IndexError:   # a min over no values
            return "IndexError"
        if shape == (0, 0):   # linalg.norm takes the same path for a 2-D input and an ord
            assert_close(lib.linalg.norm(t, ord, keepdim=keepdim), out)
        return tuple(out.shape), out.tolist(), out.requires_grad

    assert run(cr) == run(torch)


# ---------------------------------------------------------------------------- pinv cutoff
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("rtol", [1.0, 0.99, 0.8, "tensor"])
def test_pinv_cutoff_at_the_largest_singular_value_as_torchs(rtol, hermitian):
    a = distinct_singular_values(2, 5, 5)
    if hermitian:
        a = a + np.swapaxes(a, -1, -2)
    r = (lambda lib: lib.tensor(np.array([1.0, 0.9]))) if rtol == "tensor" else lambda lib: rtol
    check(lambda t: cr.linalg.pinv(t, rtol=r(cr), hermitian=hermitian),
          lambda t: torch.linalg.pinv(t, rtol=r(torch), hermitian=hermitian), a)


def test_pinv_and_matrix_rank_default_rtol_per_batch_element_as_torchs():
    a = distinct_singular_values(2, 4, 4)
    u, s, vh = np.linalg.svd(a[0])
    a[0] = (u * np.array([1.5, 1.0, 0.7, 0.0])) @ vh   # σ_min a rounding error: n·ε drops it
    atol = np.array([0.0, 0.8])   # rtol = n·ε where atol is 0, else 0
    for fn in ("pinv", "matrix_rank"):
        got = getattr(cr.linalg, fn)(cr.tensor(a), atol=cr.tensor(atol))
        want = getattr(torch.linalg, fn)(torch.tensor(a), atol=torch.tensor(atol))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------- matrix_exp
def test_matrix_exp_float32_as_accurate_as_torchs():
    # OpInfo's float32 batch: norms ~ 27, results ~ 1e5; an entry ~ 0.1 there is cancellation,
    # where torch's own float32 result is off by 2e-3 relative, so compare against float64
    torch.manual_seed(0)
    a = torch.empty(5, 5, 5).uniform_(-9, 9)
    exact = torch.linalg.matrix_exp(a.double()).numpy()
    scale = np.abs(exact).max((-2, -1), keepdims=True)
    err_cr = np.abs(cr.linalg.matrix_exp(cr.tensor(a.numpy())).numpy() - exact) / scale
    err_torch = np.abs(torch.linalg.matrix_exp(a).numpy() - exact) / scale
    assert err_cr.max() < 1e-5 and err_cr.max() < 3 * err_torch.max()
    got = cr.linalg.matrix_exp(cr.tensor(a.numpy().astype(np.float64))).numpy()
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-10 * scale.max())


# ---------------------------------------------------------------------------- empty inputs
@pytest.mark.parametrize("fn", [lambda m, a: m.linalg.eigvalsh(a),
                                lambda m, a: m.linalg.eigh(a, UPLO="U").eigenvalues,
                                lambda m, a: m.linalg.svdvals(a),
                                lambda m, a: m.linalg.svd(a, full_matrices=False).S],
                         ids=["eigvalsh", "eigh", "svdvals", "svd_S"])
@pytest.mark.parametrize("shape", [(0, 5, 5), (2, 0, 0)])
def test_spectral_gradients_on_empty_batches(fn, shape):
    check(lambda a: fn(cr, a), lambda a: fn(torch, a), np.zeros(shape))


def test_ldl_solve_with_empty_factors_as_torchs():
    ld, piv, b = np.zeros((0, 0)), np.zeros((0,), np.int32), np.zeros((0, 5))
    got = cr.linalg.ldl_solve(cr.tensor(ld), cr.tensor(piv), cr.tensor(b))
    want = torch.linalg.ldl_solve(torch.tensor(ld), torch.tensor(piv), torch.tensor(b))
    assert tuple(got.shape) == tuple(want.shape) == (0, 5)


@pytest.mark.parametrize("m, n", [(0, 0), (5, 5), (4, 2)])
def test_householder_product_without_reflectors_is_differentiable_as_torchs(m, n):
    check(cr.linalg.householder_product, torch.linalg.householder_product, x(m, n), x(0))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 2, 2)])
def test_slogdet_sign_in_the_graph_with_a_zero_gradient_as_torchs(shape):
    a = x(*shape) + 2 * np.eye(shape[-1])
    check(lambda t: cr.linalg.slogdet(t).sign, lambda t: torch.linalg.slogdet(t).sign, a)
    check(lambda t: cr.linalg.slogdet(t).sign * cr.linalg.slogdet(t).logabsdet,
          lambda t: torch.linalg.slogdet(t).sign * torch.linalg.slogdet(t).logabsdet, a)
    assert not cr.linalg.slogdet(cr.tensor(a)).sign.requires_grad


# ---------------------------------------------------------------------------- cond
COND = [None, 2, -2, 1, -1, INF, -INF, "fro", "nuc"]


@pytest.mark.parametrize("p", COND, ids=str)
def test_cond_value_and_gradients_match_torch(p):
    shape = (2, 4, 3) if p in (None, 2, -2) else (2, 3, 3)
    a = x(*shape)
    check(lambda t: cr.linalg.cond(t, p), lambda t: torch.linalg.cond(t, p), a,
          grad=p in (None, 2, -2, "nuc"))
    if p not in (None, 2, -2, "nuc"):   # torch's backward fails here (it masks A⁻¹ in place)
        norm = torch.linalg.matrix_norm
        check(lambda t: cr.linalg.cond(t, p), lambda t: norm(t, p) * norm(torch.linalg.inv(t), p),
              a)


@pytest.mark.parametrize("p", [None, -2, 1, "fro", "nuc"], ids=str)
def test_cond_against_finite_differences(p):
    finite_difference_check(lambda a: cr.linalg.cond(a, p), x(3, 3) + 2 * np.eye(3))


@pytest.mark.parametrize("a", [np.zeros((0, 0)), np.zeros((2, 0, 0)), np.zeros((0, 3)),
                               np.ones((3, 3)), np.zeros((2, 2)),
                               np.array([[[1.0, 2], [2, 4]], [[1, 0], [0, 2]]])],
                         ids=["empty", "empty_batch", "empty_wide", "ones", "zeros", "singular"])
@pytest.mark.parametrize("p", COND, ids=str)
def test_cond_of_empty_and_singular_matrices_as_torchs(a, p):
    def run(lib):
        try:
            return lib.linalg.cond(lib.tensor(a), p).numpy()
        except RuntimeError as e:
            return str(e)
    got, want = run(cr), run(torch)
    assert type(got) is type(want)
    if isinstance(want, str):
        assert got == want
    else:   # 1e-4: σ_min of a singular matrix is a rounding error that LAPACKs round apart
        np.testing.assert_allclose(got, want, rtol=1e-4)


def test_cond_errors_as_torchs():
    for p in (3, 0, "abc"):
        with pytest.raises(RuntimeError, match="linalg.cond got an invalid norm type"):
            cr.linalg.cond(cr.eye(3), p)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.linalg.cond(cr.ones(3))
    with pytest.raises(RuntimeError, match=r"linalg.cond\(ord=1\): A must be batches of square"):
        cr.linalg.cond(cr.ones(2, 3), 1)
