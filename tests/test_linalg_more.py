"""The rest of torch.linalg's solvers and factorizations against torch: the *_ex variants
(info, check_errors), LU (lu_factor(_ex), lu, lu_unpack, lu_solve, torch.lu), the Cholesky
solves (cholesky_solve, cholesky_inverse), triangular_solve, matrix_exp, vander, tensorinv,
tensorsolve, householder_product — values, pivots, gradients, second derivatives, JVPs, float64
finite differences and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp, check_jvp_fd, finite_difference_check

R = np.random.default_rng(21)


def x(*s):
    return R.standard_normal(s)


def well(*batch, n=3):
    return R.standard_normal(batch + (n, n)) + 3 * np.eye(n)


def chol(*batch, n=3):
    a = R.standard_normal(batch + (n, n))
    return np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + n * np.eye(n))


def spd(*batch, n=3):
    c = chol(*batch, n=n)
    return c @ np.swapaxes(c, -1, -2)


def lower(*batch, n=3):
    return np.tril(well(*batch, n=n))


_LU, _PIV = (t.numpy() for t in torch.linalg.lu_factor(torch.tensor(x(2, 3, 3))))


def piv(m):
    return m.tensor(_PIV)


# (id, fn(lib, *tensors), float64 arrays); each case runs in float32 and float64
CASES = [
    ("solve_ex", lambda m, a, b: m.linalg.solve_ex(a, b).result, [well(2), x(2, 3, 2)]),
    ("solve_ex_right_vector", lambda m, a, b: m.linalg.solve_ex(a, b, left=False).result,
     [well(), x(2, 3)]),
    ("inv_ex", lambda m, a: m.linalg.inv_ex(a).inverse, [well(2)]),
    ("cholesky_ex", lambda m, a: m.linalg.cholesky_ex(a).L, [spd(2)]),
    ("cholesky_ex_upper", lambda m, a: m.linalg.cholesky_ex(a, upper=True).L, [spd()]),
    ("cholesky_solve", lambda m, b, l: m.cholesky_solve(b, l), [x(2, 3, 2), chol(2)]),
    ("cholesky_solve_bcast_upper", lambda m, b, u: m.cholesky_solve(b, u, upper=True),
     [x(2, 3, 4), chol().T]),
    ("cholesky_solve_method", lambda m, b, l: b.cholesky_solve(l), [x(3, 1), chol()]),
    ("cholesky_inverse", lambda m, l: m.cholesky_inverse(l), [chol(2)]),
    ("cholesky_inverse_upper_method", lambda m, u: u.cholesky_inverse(upper=True), [chol().T]),
    ("triangular_solve", lambda m, b, a: m.triangular_solve(b, a).solution,
     [x(2, 3, 2), lower(2).swapaxes(-1, -2)]),
    ("triangular_solve_lower_t",
     lambda m, b, a: (lambda r: r.solution + r.cloned_coefficient.sum())(
        m.triangular_solve(b, a, upper=False, transpose=True)), [x(3, 2), well()]),
    ("triangular_solve_unit_method", lambda m, b, a: b.triangular_solve(a, unitriangular=True)[0],
     [x(3, 3), x(2, 3, 3)]),
    ("lu_factor", lambda m, a: m.linalg.lu_factor(a).LU, [x(2, 4, 4)]),
    ("lu_factor_tall", lambda m, a: m.linalg.lu_factor_ex(a).LU, [x(5, 3)]),
    ("lu_factor_wide", lambda m, a: m.linalg.lu_factor(a).LU, [x(2, 3, 5)]),
    ("lu_PLU", lambda m, a: (lambda r: r.P @ r.L * 2 + r.U.sum())(m.linalg.lu(a)), [x(4, 4)]),
    ("lu_tall_L", lambda m, a: m.linalg.lu(a).L, [x(2, 5, 3)]),
    ("lu_wide_U", lambda m, a: m.linalg.lu(a).U, [x(3, 5)]),
    ("lu_unpack",
     lambda m, a: (lambda f: (lambda r: r.L + r.U)(m.lu_unpack(*f)))(m.linalg.lu_factor(a)),
     [x(3, 3)]),
    ("torch_lu_method", lambda m, a: a.lu()[0] + m.lu(a, get_infos=True).LU, [x(3, 3)]),
    ("lu_solve", lambda m, lu, b: m.linalg.lu_solve(lu, piv(m), b), [_LU, x(2, 3, 2)]),
    ("lu_solve_adjoint_bcast", lambda m, lu, b: m.linalg.lu_solve(lu, piv(m), b, adjoint=True),
     [_LU, x(3, 4)]),
    ("lu_solve_right", lambda m, lu, b: m.linalg.lu_solve(lu, piv(m), b, left=False),
     [_LU, x(2, 2, 3)]),
    ("lu_solve_right_adjoint",
     lambda m, lu, b: m.linalg.lu_solve(lu, piv(m), b, left=False, adjoint=True),
     [_LU, x(2, 2, 3)]),
    ("lu_solve_of_factor", lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b),
     [x(2, 3, 3), x(2, 3, 2)]),
    ("torch_lu_solve_method", lambda m, b, lu: b.lu_solve(lu, piv(m)) + m.lu_solve(b, lu, piv(m)),
     [x(2, 3, 2), _LU]),
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a), [x(2, 3, 3)]),
    ("matrix_exp_scaled", lambda m, a: m.matrix_exp(a), [x(4, 4) * 2]),
    ("matrix_exp_small_method", lambda m, a: a.matrix_exp(), [x(3, 3) * 0.01]),
    ("vander", lambda m, a: m.linalg.vander(a), [x(2, 3)]),
    ("vander_N", lambda m, a: m.linalg.vander(a, N=5), [x(4)]),
    ("tensorinv", lambda m, a: m.linalg.tensorinv(a, ind=1), [well(n=4).reshape(4, 2, 2)]),
    ("tensorsolve", lambda m, a, b: m.linalg.tensorsolve(a, b),
     [well(n=6).reshape(2, 3, 6), x(2, 3)]),
    ("tensorsolve_dims", lambda m, a, b: m.linalg.tensorsolve(a, b, dims=(0,)),
     [well(n=6).reshape(2, 3, 6).transpose(2, 0, 1), x(2, 3)]),
    ("householder_product", lambda m, a, t: m.linalg.householder_product(a, t), [x(4, 3), x(2)]),
    ("householder_product_batch", lambda m, a, t: m.linalg.householder_product(a, t),
     [x(2, 3, 3), x(2, 3)]),
]

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, dtype):
    name, fn, arrays = case
    with warnings.catch_warnings():   # (torch.lu and triangular_solve are deprecated in torch)
        warnings.simplefilter("ignore")
        check(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *[a.astype(dtype) for a in arrays],
              double=True, scale=300 if dtype == np.float32 else 10)


FD = ["solve_ex", "inv_ex", "cholesky_inverse", "triangular_solve", "lu_factor", "lu_factor_tall",
      "lu_factor_wide", "lu_PLU", "lu_solve", "lu_solve_adjoint_bcast", "lu_solve_right",
      "lu_solve_of_factor", "matrix_exp", "matrix_exp_scaled", "vander", "tensorinv", "tensorsolve",
      "householder_product_batch", "cholesky_solve"]


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in FD], ids=lambda c: c[0])
def test_against_finite_differences(case):
    name, fn, arrays = case
    if name.startswith("cholesky"):   # only the factor's triangle is read: differentiate that
        f = ((lambda l: fn(cr, l.tril())) if name == "cholesky_inverse"
             else (lambda b, l: fn(cr, b, l.tril())))
    else:
        f = lambda *t: fn(cr, *t)  # noqa: E731
    finite_difference_check(f, *arrays, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["solve_ex", "inv_ex", "cholesky_solve", "lu_factor",
                                  "lu_factor_tall", "lu_factor_wide", "lu_solve",
                                  "lu_solve_adjoint_bcast",
                                  "matrix_exp", "matrix_exp_scaled", "householder_product"])
def test_jvp_matches_torch_func(name):
    _, fn, arrays = next(c for c in CASES if c[0] == name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_jvp(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *arrays, rtol=1e-7, atol=1e-8)


def test_triangular_solve_jvp_reads_only_the_triangle():
    """torch's forward mode for triangular_solve multiplies the whole tangent of A (its
    backward and its forward value read one triangle); ours differentiates the value, so the
    two agree on tangents inside the triangle, and ours agrees with finite differences."""
    def fn(m, b, a):
        return m.triangular_solve(b, a.triu()).solution
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_jvp(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), x(2, 3, 2), well(2), rtol=1e-7,
                  atol=1e-8)
    check_jvp_fd(lambda b, a: cr.triangular_solve(b, a).solution, x(3, 2), well())


SINGULAR = np.array([[0., 0, 1], [0, 0, 2], [1, 2, 3]])


@pytest.mark.parametrize("a", [x(5, 5), x(4, 6), x(6, 4), x(2, 3, 4, 4), SINGULAR, np.zeros((2, 2)),
                               np.ones((3, 3)), np.stack([np.eye(3), SINGULAR]),
                               np.zeros((0, 3, 3))],
                         ids=["square", "wide", "tall", "batch", "singular", "zero", "ones",
                              "mixed", "empty"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lu_pivots_info_and_factors_match_lapack(a, dtype):
    a = a.astype(dtype)
    mine, theirs = cr.linalg.lu_factor_ex(cr.tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
    assert mine.pivots.dtype == cr.int32 and mine.info.dtype == cr.int32
    np.testing.assert_array_equal(mine.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(mine.LU.numpy(), theirs.LU.numpy(), rtol=1e-5, atol=1e-5)
    for p, q in zip(cr.linalg.lu(cr.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        assert tuple(p.shape) == tuple(q.shape)
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-5)


def test_ex_variants_report_info_and_give_lapacks_inf_nan():
    s = np.stack([np.eye(2), np.zeros((2, 2))])
    for mine, theirs in [(cr.linalg.solve_ex(cr.tensor(s), cr.ones(2, 2, dtype=cr.float64)),
                          torch.linalg.solve_ex(torch.tensor(s),
                                                torch.ones(2, 2, dtype=torch.float64))),
                         (cr.linalg.inv_ex(cr.tensor(s)), torch.linalg.inv_ex(torch.tensor(s))),
                         (cr.linalg.solve_ex(cr.zeros(2, 2), cr.ones(2)),
                          torch.linalg.solve_ex(torch.zeros(2, 2), torch.ones(2)))]:
        assert mine.info.dtype == cr.int32
        np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
        # (nan and inf where torch's)
        np.testing.assert_array_equal(mine[0].numpy(), theirs[0].numpy())
    a = np.array([[4., 2, 1], [2, 1, 3], [1, 3, 9]])
    mine, theirs = cr.linalg.cholesky_ex(cr.tensor(a)), torch.linalg.cholesky_ex(torch.tensor(a))
    assert mine.info.item() == theirs.info.item() == 2
    np.testing.assert_array_equal(mine.L.numpy(), theirs.L.numpy())
    good = spd()
    batch = np.stack([good, -np.eye(3)])
    mine = cr.linalg.cholesky_ex(cr.tensor(batch, requires_grad=True))
    np.testing.assert_array_equal(mine.info.numpy(),
                                  torch.linalg.cholesky_ex(torch.tensor(batch)).info.numpy())
    np.testing.assert_allclose(mine.L[0].detach().numpy(), np.linalg.cholesky(good), rtol=1e-12)
    assert mine.L.requires_grad   # (the factored matrix keeps its gradient)


def test_lu_unpack_options_and_torch_lu_tuples():
    lu, p = cr.linalg.lu_factor(cr.tensor(x(3, 3)))
    P, L, U = cr.lu_unpack(lu, p, unpack_data=False)
    assert tuple(L.shape) == tuple(U.shape) == (0,) and tuple(P.shape) == (3, 3)
    P, L, U = cr.lu_unpack(lu, p, unpack_pivots=False)
    assert tuple(P.shape) == (0,) and tuple(L.shape) == (3, 3)
    assert len(cr.lu(cr.tensor(SINGULAR))) == 2   # (torch.lu does not raise for a singular A)
    assert cr.lu(cr.tensor(SINGULAR), get_infos=True).info.item() == 2


S2 = cr.tensor([[1., 2.], [2., 4.]])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: cr.linalg.lu_factor(S2), cr.linalg.LinAlgError,
     r"torch.linalg.lu_factor: U\[2,2\] is zero"),
    (lambda: cr.linalg.lu_factor(cr.stack([S2, S2])), cr.linalg.LinAlgError,
     r"\(Batch element 0\): U\[2,2\]"),
    (lambda: cr.linalg.lu_factor_ex(S2, check_errors=True), cr.linalg.LinAlgError,
     "lu_factor_ex: U"),
    (lambda: cr.linalg.lu_factor(S2, pivot=False), RuntimeError, "without pivoting"),
    (lambda: cr.linalg.lu_factor(cr.ones(3)), RuntimeError, "at least 2 dimensions"),
    (lambda: cr.linalg.solve_ex(S2, cr.ones(2, 1), check_errors=True), cr.linalg.LinAlgError,
     "solve_ex: The solver failed because the input matrix is singular"),
    (lambda: cr.linalg.inv_ex(cr.stack([cr.eye(2), S2]), check_errors=True), cr.linalg.LinAlgError,
     r"inv_ex: \(Batch element 1\): The diagonal element 2 is zero"),
    (lambda: cr.linalg.cholesky_ex(-cr.eye(3), check_errors=True), cr.linalg.LinAlgError,
     "leading minor of order 1 is not positive-definite"),
    (lambda: cr.linalg.inv_ex(cr.ones(2, 3)), RuntimeError, "square"),
    (lambda: cr.linalg.lu_solve(cr.eye(3), cr.tensor([1, 2, 3], dtype=cr.int32), cr.ones(3)),
     RuntimeError,
     "B must have at least 2 dimensions"),
    (lambda: cr.linalg.lu_solve(cr.eye(3), cr.tensor([1, 2, 3], dtype=cr.int32), cr.ones(2, 3)),
     RuntimeError,
     r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 2x3\)"),
    (lambda: cr.linalg.lu_solve(cr.eye(3), cr.tensor([1, 2, 3], dtype=cr.int32),
                                cr.ones(3, 2, dtype=cr.float64)),
     RuntimeError, "same dtype"),
    (lambda: cr.lu_unpack(cr.eye(3), cr.ones(3, dtype=cr.int64)), RuntimeError, "int32"),
    (lambda: cr.lu_unpack(cr.eye(3), cr.tensor([1, 5, 3], dtype=cr.int32)), RuntimeError,
     "lu_unpack must be between 1 and"),
    (lambda: cr.linalg.lu_solve(cr.eye(3), cr.tensor([1, 2, 3]), cr.ones(3, 1)), RuntimeError,
     "scalar type torch.int32"),
    (lambda: cr.linalg.lu_solve(cr.eye(3), cr.tensor([1, 2], dtype=cr.int32), cr.ones(3, 1)),
     RuntimeError,
     "Number of pivots per batch"),
    (lambda: cr.linalg.lu_solve(cr.eye(3), cr.tensor([1, 2, 7], dtype=cr.int32), cr.ones(3, 1)),
     RuntimeError,
     "lu_solve must be between 1 and"),
    (lambda: cr.cholesky_solve(cr.ones(3, 2), cr.eye(2)), RuntimeError,
     "Incompatible matrix sizes for cholesky_solve"),
    (lambda: cr.cholesky_solve(cr.ones(2, 3), cr.ones(2, 3)), RuntimeError, "square"),
    (lambda: cr.cholesky_inverse(cr.ones(2, 3)), RuntimeError,
     "cholesky_inverse: A must be batches of square"),
    (lambda: cr.triangular_solve(cr.ones(3, 2), cr.eye(2)), RuntimeError,
     "Incompatible matrix sizes for triangular_solve"),
    (lambda: cr.linalg.matrix_exp(cr.ones(2, 3)), RuntimeError,
     "matrix_exp: A must be batches of square"),
    (lambda: cr.linalg.matrix_exp(cr.ones(2, 2, dtype=cr.int64)), RuntimeError, "floating point"),
    (lambda: cr.linalg.vander(cr.ones(2, 3), N=1), RuntimeError, "N must be greater than 1"),
    (lambda: cr.linalg.vander(cr.ones(3, dtype=cr.bool)), RuntimeError, "but got Bool"),
    (lambda: cr.linalg.tensorinv(cr.ones(2, 3), ind=1), RuntimeError, "3 != 2"),
    (lambda: cr.linalg.tensorinv(cr.ones(2, 2), ind=0), RuntimeError, "strictly positive"),
    (lambda: cr.linalg.tensorsolve(cr.ones(2, 3, 5), cr.ones(2, 3)), RuntimeError, "5 != 6"),
    (lambda: cr.linalg.householder_product(cr.ones(2, 3), cr.ones(2)), RuntimeError,
     r"input.shape\[-2\] must be"),
    (lambda: cr.linalg.householder_product(cr.ones(3, 2), cr.ones(3)), RuntimeError,
     r"greater than or equal to tau"),
    (lambda: cr.linalg.householder_product(cr.ones(2, 3, 2), cr.ones(3, 2)), RuntimeError,
     "batch dimensions of tau"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_vander_of_integers_is_int64_as_torch():
    a = np.array([1, 2, 3], np.int32)
    mine, theirs = cr.linalg.vander(cr.tensor(a)), torch.linalg.vander(torch.tensor(a))
    assert str(mine.dtype) == "chainrule.int64" and theirs.dtype == torch.int64
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def sym(*batch, n=4):
    a = R.standard_normal(batch + (n, n))
    return a + np.swapaxes(a, -1, -2)


ANTI = np.eye(4)[::-1] * np.array([1., 2, 3, 4])   # symmetric, zero diagonal: 2×2 blocks only


@pytest.mark.parametrize("a", [sym(3), sym(2, 2, n=6), ANTI + ANTI.T, np.array([[1., 5], [7, 1]]),
                               np.zeros((2, 2)), sym(n=1), np.zeros((0, 3, 3))],
                         ids=["batch", "batch6", "two_by_two", "lower_read", "singular", "one",
                              "empty"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ldl_factor_and_solve_match_lapack(a, dtype):
    a = a.astype(dtype)
    mine, theirs = (cr.linalg.ldl_factor_ex(cr.tensor(a)),
                    torch.linalg.ldl_factor_ex(torch.tensor(a)))
    np.testing.assert_array_equal(mine.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(mine.LD.numpy(), theirs.LD.numpy(), rtol=1e-5, atol=1e-5)
    if a.size and not mine.info.numpy().any():
        b = x(*a.shape[:-1], 2).astype(dtype)
        np.testing.assert_allclose(cr.linalg.ldl_solve(*cr.linalg.ldl_factor(cr.tensor(a)),
                                                       cr.tensor(b)).numpy(),
                                   torch.linalg.ldl_solve(*torch.linalg.ldl_factor(torch.tensor(a)),
                                                          torch.tensor(b)).numpy(),
                                   rtol=1e-4, atol=1e-4)


def test_ldl_solve_broadcasts_and_neither_ldl_op_differentiates_as_torch():
    a, b = sym(), x(2, 4, 3)
    LD, p = cr.linalg.ldl_factor(cr.tensor(a))
    np.testing.assert_allclose(cr.linalg.ldl_solve(LD, p, cr.tensor(b)).numpy(),
                               np.linalg.solve(a, b), rtol=1e-9)
    with pytest.raises(RuntimeError,
                       match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
        cr.linalg.ldl_factor(cr.tensor(a, requires_grad=True)).LD.sum().backward()
    with pytest.raises(RuntimeError,
                       match="derivative for aten::linalg_ldl_solve is not implemented"):
        cr.linalg.ldl_solve(LD, p, cr.tensor(b, requires_grad=True)).sum().backward()


@pytest.mark.parametrize("call, match", [
    (lambda: cr.linalg.ldl_factor(cr.zeros(2, 2)), r"ldl_factor: D\[1,1\] is zero"),
    (lambda: cr.linalg.ldl_factor_ex(cr.zeros(3, 2, 2), check_errors=True),
     r"\(Batch element 0\): D\[1,1\]"),
    (lambda: cr.linalg.ldl_factor(cr.ones(2, 3)), "square"),
    (lambda: cr.linalg.ldl_solve(cr.eye(2), cr.tensor([1, 2], dtype=cr.int32), cr.ones(2)),
     "at least 2 dimensions"),
    (lambda: cr.linalg.ldl_solve(cr.eye(2), cr.tensor([1, 2], dtype=cr.int32), cr.ones(3, 1)),
     "Incompatible matrix sizes"),
    (lambda: cr.linalg.ldl_solve(cr.eye(2), cr.tensor([1, 2], dtype=cr.int32),
                                 cr.ones(2, 1, dtype=cr.float64)), "same dtype"),
    (lambda: cr.linalg.ldl_solve(cr.eye(2), cr.tensor([1, 3], dtype=cr.int32), cr.ones(2, 1)),
     "entries"),
])
def test_ldl_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 3), (2, 3, 0), (0, 3, 3)])
@pytest.mark.parametrize("name",
                         ["lu_factor_ex", "lu", "matrix_exp", "inv_ex", "cholesky_ex",
                          "ldl_factor_ex"])
def test_empty_shapes_as_torch(name, shape):
    try:
        theirs = getattr(torch.linalg, name)(torch.zeros(shape))
    except RuntimeError as e:   # (a non-square shape where the op needs a square one)
        with pytest.raises(RuntimeError, match="square"):
            getattr(cr.linalg, name)(cr.zeros(*shape))
        assert "square" in str(e)
        return
    mine = getattr(cr.linalg, name)(cr.zeros(*shape))
    mine, theirs = (t if isinstance(t, tuple) else (t,) for t in (mine, theirs))
    assert [tuple(t.shape) for t in mine] == [tuple(t.shape) for t in theirs]


def test_compiled_functions_never_replay_a_stale_factorization():
    """The factorizations' pivots are data of A: a graph capture refuses them (compile runs the
    function eagerly) rather than replay the first input's factors on the next one."""
    def f(a):
        return (cr.linalg.lu_solve(*cr.linalg.lu_factor(a), cr.ones(3, 1, dtype=a.dtype))
                + cr.linalg.ldl_factor(a + a.mT).LD.sum())
    compiled = cr.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for a in (x(3, 3), x(3, 3)):
            np.testing.assert_allclose(compiled(cr.tensor(a)).numpy(), f(cr.tensor(a)).numpy())
