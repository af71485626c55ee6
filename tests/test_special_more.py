"""chainrule.special's Bessel, Airy, erfcx, xlog1py, zeta and orthogonal-polynomial functions:
values against SciPy (accuracy) and torch (edge values, dtypes, differentiability), gradients
against torch and float64 finite differences."""
import numpy as np
import pytest
import scipy.special as sc
import torch

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from oracle import check

S = cr.special
INF, NAN = np.inf, np.nan
EDGES = np.array([-INF, -1e300, -1e6, -800, -104, -30, -25.0000001, -25, -12.0001, -12, -2.5,
                  -2, -1, -1e-5, -0.0, 0.0, 1e-300, 1e-5, 0.5, 1, 1.9999999, 2,
                  2.0000001, 2.5, 3, 20, 24.99, 25, 25.01, 30, 100, 103.95, 200, 700, 800, 1e6,
                  1e300, INF, NAN])
GRID = np.concatenate([np.linspace(-60, 60, 2401), np.logspace(-12, 3, 400),
                       -np.logspace(-12, 2, 300)])


def _ours(name, x):
    return getattr(S, name)(cr.tensor(x)).numpy()


def _torch(name, x):
    return getattr(torch.special, name)(torch.tensor(x)).numpy()


def _same_edges(a, b):
    """NaN where the other is NaN, infinities equal."""
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    inf = np.isinf(a) | np.isinf(b)
    np.testing.assert_array_equal(a[inf], b[inf])


# the accurate reference (SciPy's float64 kernels, or an identity) on the domain it serves
SCIPY = {"bessel_j0": (sc.j0, GRID), "bessel_j1": (sc.j1, GRID),
         "bessel_y0": (sc.y0, np.abs(GRID)), "bessel_y1": (sc.y1, np.abs(GRID)),
         "modified_bessel_i0": (sc.i0, GRID), "modified_bessel_i1": (sc.i1, GRID),
         "modified_bessel_k0": (sc.k0, np.abs(GRID)), "modified_bessel_k1": (sc.k1, np.abs(GRID)),
         "scaled_modified_bessel_k0": (sc.k0e, np.abs(GRID)),
         "scaled_modified_bessel_k1": (sc.k1e, np.abs(GRID)),
         "spherical_bessel_j0": (lambda x: sc.spherical_jn(0, x), GRID),
         "airy_ai": (lambda x: sc.airy(x)[0], np.linspace(-60, 100, 3201)),
         "erfcx": (sc.erfcx, np.concatenate([GRID / 2, [1e4, 1e10, 1e300]]))}
# torch 2.13's float64 J, Y and Ai kernels carry errors up to ~10⁻⁶ (float32-grade Cephes
# fits); against them only that level is asked
TORCH_TOL = {"bessel_j0": 1e-5, "bessel_j1": 1e-5, "bessel_y0": 1e-5, "bessel_y1": 1e-5,
             "airy_ai": 1e-5}


@pytest.mark.parametrize("name", sorted(SCIPY))
def test_values_match_scipy(name):
    fn, x = SCIPY[name]
    ref = fn(x)
    # absolute floor: at the zeros of J, Y and Ai only absolute digits exist; Ai(−60)'s phase
    # ζ = (2/3)·60^{3/2} ≈ 310 itself rounds by 3·10⁻¹⁴ (in both)
    np.testing.assert_allclose(_ours(name, x), ref, rtol=2e-13,
                               atol=1e-13 if name == "airy_ai" else 2e-15)


@pytest.mark.parametrize("name", sorted(SCIPY))
def test_values_and_edges_match_torch(name):
    ours, ref = _ours(name, EDGES), _torch(name, EDGES)
    _same_edges(ours, ref)
    fin = np.isfinite(ref) & (np.abs(EDGES) < 1e5)   # (past 1e5 torch's phase is off, below)
    tol = TORCH_TOL.get(name, 1e-13)
    np.testing.assert_allclose(ours[fin], ref[fin], rtol=tol, atol=tol)
    g = GRID[np.abs(GRID) < 50]
    np.testing.assert_allclose(_ours(name, g), _torch(name, g), rtol=tol, atol=tol)


def test_large_arguments_keep_their_phase():
    # sin and cos of x itself, not of x − π/4 rounded (torch's J₀(10³⁰⁰) has no right digit);
    # values from mpmath (50 digits)
    x = np.array([1e6, 1e300])
    np.testing.assert_allclose(_ours("bessel_j0", x), [3.3104301373987376e-4,
                                                      -7.860673062724093e-151], rtol=1e-12)
    np.testing.assert_allclose(_ours("airy_ai", np.array([-1e4])), [0.02705738360464258],
                               rtol=1e-11)


def test_least_subnormal():
    # x/2 underflows to 0 there: torch's K₀ reads log 0 (∞) and its K₁ NaN; ln x − ln 2 instead
    x = np.array([5e-324])
    k0 = -(np.log(5e-324) - np.log(2)) - np.euler_gamma   # K₀(x) = −ln(x/2) − γ + O(x²)
    np.testing.assert_allclose(_ours("modified_bessel_k0", x), [k0], rtol=1e-15)
    assert _ours("modified_bessel_k1", x)[0] == np.inf and _ours("bessel_y1", x)[0] == -np.inf
    np.testing.assert_allclose(_ours("bessel_y0", x), _torch("bessel_y0", x), rtol=1e-14)


@pytest.mark.parametrize("name", sorted(SCIPY))
def test_dtypes_and_no_gradient(name):
    assert _ours(name, np.array([0.5], np.float32)).dtype == np.float32
    assert getattr(S, name)(cr.tensor([1, 2])).dtype is cr.float32   # integers: default float
    x = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    assert getattr(S, name)(x).requires_grad == (name == "erfcx")   # torch: only erfcx has one
    with pytest.raises(NotImplementedError, match=f"{name}_cpu\" not implemented for 'Half'"):
        getattr(S, name)(cr.tensor([1.0]).half())
    with pytest.raises(TypeError, match=name):
        getattr(S, name)(1.0)


def test_float32_matches_torch():
    x = np.linspace(-8, 8, 161).astype(np.float32)
    for name in ("modified_bessel_k0", "erfcx", "spherical_bessel_j0", "modified_bessel_i1"):
        np.testing.assert_allclose(_ours(name, x), _torch(name, x), rtol=2e-6, atol=1e-7)


# ---------------------------------------------------------------------------- erfcx
def test_erfcx_gradient():
    x = np.array([-5.0, -1.0, -0.0, 0.3, 2.0, 10.0, 40.0])
    check(S.erfcx, torch.special.erfcx, x, double=True)
    check(S.erfcx, torch.special.erfcx, x.astype(np.float32))
    t = cr.tensor([-2.0, 0.1, 1.5, 30.0], dtype=cr.float64, requires_grad=True)
    assert gradcheck(S.erfcx, (t,), check_forward_ad=True) and gradgradcheck(S.erfcx, (t,))
    assert S.erfcx(t).grad_fn.name() == "SpecialErfcxBackward0"


# ---------------------------------------------------------------------------- xlog1py
def test_xlog1py_values_and_gradients():
    a = np.array([0.0, 0.0, 0.0, 1.0, -2.0, 3.0, NAN, 0.0, 2.0])
    b = np.array([-1.0, -3.0, NAN, -1.0, 0.5, 1e-20, 1.0, INF, -0.5])
    check(S.xlog1py, torch.special.xlog1py, a, b)   # (0, ≤ −1): 0 and ∂/∂a = 0, as torch
    r = np.random.default_rng(0)
    check(S.xlog1py, torch.special.xlog1py, r.standard_normal((3, 1)), r.random(4), double=True)
    check(S.xlog1py, torch.special.xlog1py, np.float32([0.5, 2]), np.float32([[1], [3]]))
    args = (cr.tensor([0.5, -1.2], dtype=cr.float64, requires_grad=True),
            cr.tensor([0.3, 2.0], dtype=cr.float64, requires_grad=True))
    assert gradcheck(S.xlog1py, args, check_forward_ad=True) and gradgradcheck(S.xlog1py, args)


def test_xlog1py_numbers_and_dtypes():
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    assert S.xlog1py(2.0, y).grad_fn.name() == "SpecialXlog1PyBackward1"
    assert S.xlog1py(y, 2).grad_fn.name() == "SpecialXlog1PyBackward2"
    np.testing.assert_allclose(S.xlog1py(2.0, y).detach().numpy(), 2 * np.log1p([1.0, 2.0]),
                               rtol=1e-6)
    assert S.xlog1py(cr.tensor([1, 2]), cr.tensor([1, 2])).dtype is cr.float32
    assert S.xlog1py(cr.tensor([1.0]).half(), 2).dtype is cr.float16   # as torch: half works
    with pytest.raises(RuntimeError, match="xlog1py"):
        S.xlog1py(cr.ones(2), cr.ones(3))


# ---------------------------------------------------------------------------- zeta
def test_zeta_values_match_torch_and_scipy():
    xs = np.array([-INF, -2, 0.5, 1, 1.0001, 1.5, 2, 3, 4.5, 10, 30, 100, INF, NAN])
    qs = np.array([-INF, -3, -2.5, -1, -0.5, 0, 1e-10, 0.3, 1, 2, 9, 9.5, 100, 1e10, INF, NAN])
    x, q = np.meshgrid(xs, qs)
    ours = S.zeta(cr.tensor(x), cr.tensor(q)).numpy()
    np.testing.assert_allclose(ours, torch.special.zeta(torch.tensor(x), torch.tensor(q)),
                               rtol=1e-13, equal_nan=True)
    fin = np.isfinite(x) & (q > 0) & np.isfinite(q)
    np.testing.assert_allclose(ours[fin], sc.zeta(x[fin], q[fin]), rtol=1e-13)
    assert S.zeta(cr.tensor([2, 3]), 1).dtype is cr.float32
    assert S.zeta(2, cr.tensor([1.0], dtype=cr.float64)).dtype is cr.float64


def test_zeta_gradient_in_q_only():
    x, q = np.array([2.0, 3.5, 6.0]), np.array([0.5, 2.0, 11.0])
    check(lambda a, b: S.zeta(a.detach(), b), lambda a, b: torch.special.zeta(a.detach(), b),
          x, q, double=True)
    t = cr.tensor(q, requires_grad=True)
    assert gradcheck(lambda v: S.zeta(cr.tensor(x), v), (t,), check_forward_ad=True)
    assert S.zeta(3.0, t).grad_fn.name() == "SpecialZetaBackward1"
    assert S.zeta(cr.tensor(x, requires_grad=True), 2.0).grad_fn.name() == "SpecialZetaBackward2"
    with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented"):
        S.zeta(cr.tensor(x, requires_grad=True), t).sum().backward()
    with pytest.raises(NotImplementedError, match="zeta_cpu"):
        S.zeta(cr.tensor([2.0]).half(), 1.0)


# ---------------------------------------------------------------------------- polynomials
POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]
PX = np.array([-INF, -3, -1.5, -1, -0.99, -0.5, -0.0, 0.0, 1e-17, 1e-300, 0.25, 0.5, 0.7, 0.99,
               1, 1.01, 1.5, 3, 10, INF, NAN])
PN = np.array([-5, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 20, 50, 129, 300, NAN, INF, 2.7,
               -0.5, 1e30])
SCIPY_POLY = {"chebyshev_polynomial_t": sc.eval_chebyt, "chebyshev_polynomial_u": sc.eval_chebyu,
              "shifted_chebyshev_polynomial_t": sc.eval_sh_chebyt,
              "shifted_chebyshev_polynomial_u": sc.eval_sh_chebyu,
              "hermite_polynomial_h": sc.eval_hermite, "hermite_polynomial_he": sc.eval_hermitenorm,
              "laguerre_polynomial_l": sc.eval_laguerre, "legendre_polynomial_p": sc.eval_legendre}


@pytest.mark.parametrize("name", POLYS)
def test_polynomial_matches_torch(name):
    x, n = np.meshgrid(PX, PN)
    # torch reads an uninitialised value for x = NaN, n ≥ 2 in some of its kernels (inf or
    # NaN by chance): those entries are left out; chainrule gives NaN there
    keep = ~(np.isnan(x) & (n >= 2) & (n < 2.0 ** 63))
    ours = getattr(S, name)(cr.tensor(x), cr.tensor(n)).numpy()
    ref = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)).numpy()
    # near-zero values (T₂₀(½) = 0 …) carry absolute errors of either closed form
    np.testing.assert_allclose(ours[keep], ref[keep], rtol=1e-11, atol=1e-13, equal_nan=True)
    assert np.isnan(ours[~keep]).all() and ours.dtype == np.float64
    x32, n32 = x[n <= 20].astype(np.float32), n[n <= 20].astype(np.float32)
    ok = ~(np.isnan(x32) & (n32 >= 2))
    ours32 = getattr(S, name)(cr.tensor(x32), cr.tensor(n32)).numpy()
    ref32 = getattr(torch.special, name)(torch.tensor(x32), torch.tensor(n32)).numpy()
    np.testing.assert_allclose(ours32[ok], ref32[ok], rtol=5e-5, atol=2e-5, equal_nan=True)


@pytest.mark.parametrize("name", sorted(SCIPY_POLY))
def test_polynomial_matches_scipy(name):
    x = np.linspace(-2, 2, 81)[:, None]
    n = np.arange(0, 25)[None, :]
    ref = SCIPY_POLY[name](n, x)
    scale = np.abs(ref).max(axis=0)   # per degree: the values' size sets the absolute digits
    ours = getattr(S, name)(cr.tensor(x), cr.tensor(n)).numpy()
    np.testing.assert_allclose(ours / scale, ref / scale, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name", POLYS)
def test_polynomial_operands(name):
    f, t = getattr(S, name), getattr(torch.special, name)
    x = np.array([[0.3], [-0.6]])
    for n in (3, 2.9, -1):   # n a number: truncated to an integer, negative gives 0
        np.testing.assert_allclose(f(cr.tensor(x), n).numpy(), t(torch.tensor(x), n), rtol=1e-12)
    np.testing.assert_allclose(f(0.3, cr.tensor([1, 4])).numpy(), t(0.3, torch.tensor([1, 4])),
                               rtol=1e-6)
    assert f(cr.tensor(x), cr.tensor([1, 2, 3])).shape == (2, 3)
    if "chebyshev" in name:   # |x| < 1 and a large n: the closed form, no million steps
        np.testing.assert_allclose(f(cr.tensor(x), 10 ** 6).numpy(), t(torch.tensor(x), 10 ** 6),
                                   rtol=1e-8, atol=1e-8)
    assert f(cr.tensor([1, 2]), cr.tensor([1, 2])).dtype is cr.float32
    assert f(cr.tensor([0.5]), cr.tensor([2.0], dtype=cr.float64)).dtype is cr.float64
    assert not f(cr.tensor([0.5], requires_grad=True), 3).requires_grad
    with pytest.raises(RuntimeError, match=f"{name}: shapes"):
        f(cr.ones(2), cr.ones(3))
    with pytest.raises(NotImplementedError, match=f"{name}_cpu"):
        f(cr.tensor([0.5]).half(), 2)
