"""torch names added together: the Bessel functions I₀/I₁ (torch.i0, torch.special.i0/i0e/i1/i1e),
the window functions, frexp, histogram, asarray, fill, empty_strided, the in-place comparison
aliases, split_with_sizes, slice/select/diagonal_scatter, Tensor.prelu/hardshrink/nextafter_/
mvlgamma_ — each against torch on the same inputs, gradients by backward() and float64 finite
differences."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp, finite_difference_check, to_np

RNG = np.random.default_rng(0)
X64 = np.concatenate([RNG.uniform(-30, 30, 40), [0.0, -0.0, 1e-8, 19.99, 20.01, -20.5, 0.5]])
EDGES = np.array([np.inf, -np.inf, np.nan, 700.0, 709.0, 710.0, -715.0, 1e300])


def _same(a, b, rtol=0.0, atol=0.0, ulps=None):
    a, b = to_np(a), to_np(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


# ------------------------------------------------------------------ I₀, I₁ and scaled forms
BESSEL = [(cr.i0, torch.i0), (cr.special.i0, torch.special.i0), (cr.special.i0e, torch.special.i0e),
          (cr.special.i1, torch.special.i1), (cr.special.i1e, torch.special.i1e)]


@pytest.mark.parametrize("fc, ft", BESSEL)
def test_bessel_values_float64_and_edges(fc, ft):
    _same(fc(cr.tensor(X64)), ft(torch.tensor(X64)), rtol=2e-15)
    big = np.linspace(-700, 700, 201)
    _same(fc(cr.tensor(big)), ft(torch.tensor(big)), rtol=3e-15)
    _same(fc(cr.tensor(EDGES)), ft(torch.tensor(EDGES)), rtol=3e-15)   # inf, nan, overflow as torch
    zeros = fc(cr.tensor([0.0, -0.0])).numpy()   # I₁(−0) is +0 in torch
    np.testing.assert_array_equal(np.signbit(zeros),
                                  np.signbit(ft(torch.tensor([0.0, -0.0])).numpy()))


@pytest.mark.parametrize("fc, ft", BESSEL)
def test_bessel_dtypes(fc, ft):
    x32 = X64.astype(np.float32)
    _same(fc(cr.tensor(x32)), ft(torch.tensor(x32)), rtol=2e-6)
    _same(fc(cr.tensor([1, 2, -3])), ft(torch.tensor([1, 2, -3])), rtol=1e-6)   # int -> float32


@pytest.mark.parametrize("fc, ft", BESSEL)
def test_bessel_gradients(fc, ft):
    x = np.array([-25.0, -3.0, -0.7, 0.0, 0.4, 2.5, 21.0, 30.0])
    check(fc, ft, x, double=True)
    check_jvp(fc, ft, x)
    finite_difference_check(fc, np.array([-4.0, -1.3, 0.2, 2.5, 6.0]), rtol=1e-6)


def test_bessel_methods_and_errors():
    x = cr.tensor([0.5, 1.5])
    _same(x.i0(), torch.tensor([0.5, 1.5]).i0(), rtol=2e-7)
    y = x.clone()
    assert y.i0_() is y
    _same(y, torch.tensor([0.5, 1.5]).i0_(), rtol=2e-7)
    out = cr.empty(2)
    assert cr.i0(x, out=out) is out
    _same(out, torch.i0(torch.tensor([0.5, 1.5])), rtol=2e-7)
    with pytest.raises(TypeError, match="i0"):
        cr.i0([1.0])


# ------------------------------------------------------------------------ window functions
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 2, 3, 8, 31, 64])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(name, length, periodic):
    for cd, td, atol in [(cr.float32, torch.float32, 3e-7), (cr.float64, torch.float64, 2e-15)]:
        a = getattr(cr, name)(length, periodic, dtype=cd)
        b = getattr(torch, name)(length, periodic, dtype=td)
        _same(a, b, atol=atol)
    _same(getattr(cr, name)(length), getattr(torch, name)(length), atol=3e-7)   # default dtype


def test_window_parameters_and_flags():
    _same(cr.hamming_window(9, False, 0.5, 0.3), torch.hamming_window(9, False, 0.5, 0.3),
          atol=3e-7)
    _same(cr.kaiser_window(9, False, 5.0), torch.kaiser_window(9, False, 5.0), atol=3e-7)
    _same(cr.kaiser_window(10, True, 0.0), torch.kaiser_window(10, True, 0.0), atol=0)
    w = cr.hann_window(4, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.shape == (4,)


@pytest.mark.parametrize("name", WINDOWS)
def test_window_errors(name):
    for args, kw, exc in [((-1,), {}, RuntimeError), ((3,), {"dtype": cr.int64}, RuntimeError),
                          ((3.0,), {}, TypeError)]:
        tkw = {"dtype": torch.int64} if kw else {}
        with pytest.raises(exc) as ours:
            getattr(cr, name)(*args, **kw)
        with pytest.raises(exc) as theirs:
            getattr(torch, name)(*args, **tkw)
        assert str(theirs.value).split(",")[0].split(" got")[0][:30] in str(ours.value)


# ----------------------------------------------------------------------------------- frexp
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_frexp_values(dtype):
    x = np.array([0.0, -0.0, 1.0, -3.5, 1e-3, 6e4, np.inf, -np.inf, np.nan], dtype)
    mc, ec = cr.frexp(cr.tensor(x))
    mt, et = torch.frexp(torch.tensor(x))
    _same(mc, mt)
    _same(ec, et)
    assert cr.tensor(x).frexp().exponent.dtype is cr.int32
    sub = np.array([1e-40], np.float32)   # a float32 subnormal: exponent below −126
    _same(cr.frexp(cr.tensor(sub))[1], torch.frexp(torch.tensor(sub))[1])


def test_frexp_gradient_and_errors():
    x = np.array([0.3, -5.0, 1024.0, 0.0, 7e-5])
    check(lambda t: cr.frexp(t).mantissa, lambda t: torch.frexp(t).mantissa, x)
    finite_difference_check(lambda t: cr.frexp(t)[0], np.array([0.3, -5.0, 1000.0]))
    with pytest.raises(RuntimeError, match="only supports floating-point"):
        cr.frexp(cr.tensor([1, 2]))
    assert "mantissa=" in repr(cr.frexp(cr.tensor([2.0])))


# ------------------------------------------------------------------------------- histogram
HIST_CASES = [
    (np.array([1.0, 2, 2, 3, 5]), 4, {}),
    (np.array([2.0, 2]), 4, {}),                          # a range of width 0: widened by ½
    (np.array([], np.float32), 4, {}),                    # empty input: (0, 1)
    (np.array([1.0, 2, 2, 3, 5]), 4, {"range": (0.0, 1.0)}),
    (np.array([1.0, 2, 2, 3, 5]), 4, {"range": (1.0, 1.0)}),
    (RNG.standard_normal((7, 9)).astype(np.float32), 10, {}),
    (RNG.standard_normal(200), 13, {"range": (-1.5, 2.0), "density": True}),
    (RNG.standard_normal(50).astype(np.float32), 5, {"weight": True}),
    (RNG.standard_normal(50), 6, {"weight": True, "density": True}),
]


@pytest.mark.parametrize("data, bins, kw", HIST_CASES)
def test_histogram_int_bins(data, bins, kw):
    kc, kt = dict(kw), dict(kw)
    if kw.get("weight"):
        w = RNG.uniform(0, 2, data.shape).astype(data.dtype)
        kc["weight"], kt["weight"] = cr.tensor(w), torch.tensor(w)
    hc, ec = cr.histogram(cr.tensor(data), bins, **kc)
    ht, et = torch.histogram(torch.tensor(data), bins, **kt)
    _same(ec, et)
    _same(hc, ht, rtol=1e-6 if data.dtype == np.float32 else 1e-12)
    assert type(cr.tensor(data).histogram(bins, **kc)).__name__ == "histogram"


def test_histogram_tensor_bins():
    x = np.array([1.0, 2, 2, 3, 5, 6, 7.5, -1], np.float32)
    edges = np.array([0.0, 2.0, 6.0], np.float32)
    for kw in [{}, {"density": True}]:
        a = cr.histogram(cr.tensor(x), cr.tensor(edges), weight=cr.tensor(x * 0 + 2), **kw)
        b = torch.histogram(torch.tensor(x), torch.tensor(edges), weight=torch.tensor(x * 0 + 2),
                            **kw)
        _same(a.hist, b.hist, rtol=1e-7)
        _same(a.bin_edges, b.bin_edges)


@pytest.mark.parametrize("call, exc", [
    (lambda m, x: m.histogram(x, 4, range=(3.0, 1.0)), RuntimeError),
    (lambda m, x: m.histogram(x, 0), RuntimeError),
    (lambda m, x: m.histogram(x, m.tensor([1.0])), RuntimeError),
    (lambda m, x: m.histogram(x, m.tensor([0, 2, 6])), RuntimeError),
    (lambda m, x: m.histogram(x, m.tensor([[0.0, 2.0]])), RuntimeError),
    (lambda m, x: m.histogram(x, 3, weight=m.ones(4)), RuntimeError),
    (lambda m, x: m.histogram(x, 3, weight=m.ones(5, dtype=m.float64)), RuntimeError),
    (lambda m, x: m.histogram(x, 3, range=(0.0, float("inf"))), RuntimeError),
    (lambda m, x: m.histogram(m.tensor([1.0, float("nan")]), 3), RuntimeError),
    (lambda m, x: m.histogram(m.tensor([1, 2]), 3), NotImplementedError),
    (lambda m, x: m.histogram(x, m.tensor([0.0, 2.0]), range=(0.0, 1.0)), TypeError),
])
def test_histogram_errors(call, exc):
    with pytest.raises(exc) as theirs:
        call(torch, torch.tensor([1.0, 2, 2, 3, 5]))
    with pytest.raises(exc) as ours:
        call(cr, cr.tensor([1.0, 2, 2, 3, 5]))
    if exc is RuntimeError:
        assert str(theirs.value).split(",")[0][:45] in str(ours.value)


# --------------------------------------------------------------------------------- asarray
def test_asarray_shares_and_copies():
    n = np.ones(3)
    t = cr.asarray(n)
    t[0] = 5.0
    assert n[0] == 5.0 and t.dtype is cr.float64            # shares a NumPy array, as torch
    strided = np.arange(6.0)[::2]
    cr.asarray(strided)[1] = -1.0
    assert strided[1] == -1.0
    c = cr.asarray(n, copy=True)
    c[0] = 0.0
    assert n[0] == 5.0
    assert cr.asarray(n, dtype=cr.float32).dtype is cr.float32
    a = cr.ones(3)
    assert cr.asarray(a) is a and cr.asarray(a, copy=False) is a
    assert not np.shares_memory(cr.asarray(a, copy=True).numpy(), a.numpy())
    _same(cr.asarray([1, 2.5]), torch.asarray([1, 2.5]))
    _same(cr.asarray([1, 2]), torch.asarray([1, 2]))
    _same(cr.asarray(3.5), torch.asarray(3.5))
    _same(cr.asarray(np.float64(3.5)), torch.asarray(np.float64(3.5)))
    buf = bytearray(np.array([1, 2], np.int32).tobytes())
    _same(cr.asarray(buf, dtype=cr.int32), torch.asarray(buf, dtype=torch.int32))


def test_asarray_requires_grad_and_errors():
    a = cr.ones(3)
    r = cr.asarray(a, requires_grad=True)
    assert r is a and a.requires_grad     # torch sets the flag on the shared leaf itself
    b = cr.ones(3, requires_grad=True)
    with pytest.warns(UserWarning, match="unspecified requires_grad"):
        assert cr.asarray(b) is b
    y = cr.asarray(b * 2, copy=True, requires_grad=True)   # a copy keeps its history
    y.sum().backward()
    _same(b.grad, torch.full((3,), 2.0))
    assert cr.asarray([1.0, 2.0], requires_grad=True).requires_grad
    for obj, kw, msg in [(cr.ones(2), {"dtype": cr.float64, "copy": False}, "can't alias tensor"),
                         (np.ones(2), {"dtype": cr.float32, "copy": False}, "can't alias tensor"),
                         ([1.0, 2.0], {"copy": False}, "arbitrary sequence")]:
        with pytest.raises(ValueError, match=msg):
            cr.asarray(obj, **kw)
    with pytest.raises(ValueError, match="can't alias tensor"):
        torch.asarray(torch.ones(2), dtype=torch.float64, copy=False)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.asarray([1, 2], requires_grad=True)


# ---------------------------------------------------------------------------- fill, strided
def test_fill():
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    _same(cr.fill(cr.tensor(x), 2.5), torch.fill(torch.tensor(x), 2.5))
    _same(cr.fill(cr.tensor([1, 2]), 2.7), torch.fill(torch.tensor([1, 2]), 2.7))
    v = np.array(1.5)
    check(lambda a, b: cr.fill(a, b), lambda a, b: torch.fill(a, b), x, v)
    xc = cr.tensor(x, requires_grad=True)
    out = cr.fill(xc, 3.0)
    assert out.grad_fn.name() == "FillBackward0"
    out.sum().backward()
    _same(xc.grad, torch.zeros(2, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        cr.fill(cr.ones(2), cr.ones(2))
    with pytest.raises(TypeError):
        cr.fill(cr.ones(2), "a")


@pytest.mark.parametrize("size, stride", [((2, 3), (1, 2)), ((2, 3), (0, 1)), ((2, 3), (5, 1)),
                                          ((0, 3), (1, 1)), ((), ()), ((4,), (3,))])
def test_empty_strided(size, stride):
    a, b = cr.empty_strided(size, stride), torch.empty_strided(size, stride)
    assert a.shape == b.shape and a.stride() == b.stride() and a.dtype is cr.float32
    c = cr.ones(2, dtype=cr.float64).new_empty_strided(size, stride, requires_grad=True)
    assert c.stride() == b.stride() and c.dtype is cr.float64 and c.requires_grad
    assert cr.empty_strided(size, stride, dtype=cr.int32).dtype is cr.int32


def test_empty_strided_overlap_and_errors():
    x = cr.empty_strided((2, 3), (0, 1))
    x.zero_()
    x[0, 0] = 4.0
    t = torch.empty_strided((2, 3), (0, 1)).zero_()
    t[0, 0] = 4.0
    _same(x, t)   # a stride 0 shows one element in every row, as torch
    for size, stride, exc in [((2, 3), (1,), RuntimeError), ((2, -3), (1, 1), RuntimeError),
                              ((2, 3), (-1, 1), RuntimeError)]:
        with pytest.raises(exc):
            torch.empty_strided(size, stride)
        with pytest.raises(exc, match="empty_strided"):
            cr.empty_strided(size, stride)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.empty_strided((2,), (1,), dtype=cr.int64, requires_grad=True)


# -------------------------------------------------------------------- Tensor method aliases
@pytest.mark.parametrize("name",
                         ["greater_", "greater_equal_", "less_", "less_equal_", "not_equal_"])
def test_comparison_in_place_aliases(name):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    a, b = cr.tensor(x), torch.tensor(x)
    assert getattr(a, name)(cr.tensor(y)) is a
    getattr(b, name)(torch.tensor(y))
    _same(a, b)
    a, b = cr.tensor(x), torch.tensor(x)
    _same(getattr(a, name)(2.0), getattr(b, name)(2.0))


def test_split_with_sizes():
    x = np.arange(10.0).reshape(2, 5)
    check(lambda t: cr.cat([p * (i + 1)
                            for i, p in enumerate(t.split_with_sizes([2, 3], dim=1))], 1),
          lambda t: torch.cat([p * (i + 1)
                               for i, p in enumerate(t.split_with_sizes([2, 3], dim=1))], 1), x)
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        cr.ones(5).split_with_sizes([2, 2])
    with pytest.raises(TypeError):
        cr.ones(5).split_with_sizes(2)


def test_prelu_hardshrink_nextafter_mvlgamma_methods():
    x = np.array([[-1.5, 0.2, 0.7], [2.0, -0.3, -4.0]])
    w = np.array([0.25, 0.1, -0.5])
    check(lambda a, b: a.prelu(b), lambda a, b: a.prelu(b), x, w, double=True)
    check(lambda a: a.hardshrink(0.5), lambda a: a.hardshrink(0.5), x)
    check(lambda a: a.hardshrink(lambd=0.25), lambda a: a.hardshrink(lambd=0.25), x)
    _same(cr.nn.functional.hardshrink(cr.tensor(x)),
          torch.nn.functional.hardshrink(torch.tensor(x)))
    a, b = cr.tensor(x), torch.tensor(x)
    assert a.nextafter_(cr.tensor(0.0)) is a
    _same(a, b.nextafter_(torch.tensor(0.0)))
    a, b = cr.tensor(x + 6), torch.tensor(x + 6)
    assert a.mvlgamma_(3) is a
    _same(a, b.mvlgamma_(3), rtol=1e-13)
    with pytest.raises(NotImplementedError, match="hardshrink"):
        cr.tensor([1, 2]).hardshrink()


# ------------------------------------------------------------------------------ the scatters
SCATTERS = [
    (lambda m, a, s: m.slice_scatter(a, s, 1, 1, 3), (3, 4), (3, 2)),
    (lambda m, a, s: m.slice_scatter(a, s, start=-2), (3, 4), (2, 4)),
    (lambda m, a, s: m.slice_scatter(a, s, 0, 0, 5, 2), (5, 2), (3, 2)),
    (lambda m, a, s: a.slice_scatter(s, dim=-1, start=1, end=100, step=2), (2, 5), (2, 2)),
    (lambda m, a, s: m.select_scatter(a, s, 0, -1), (3, 4), (4,)),
    (lambda m, a, s: a.select_scatter(s, 1, 2), (2, 3, 4), (2, 4)),
    (lambda m, a, s: m.diagonal_scatter(a, s), (3, 4), (3,)),
    (lambda m, a, s: m.diagonal_scatter(a, s, 2), (3, 4), (2,)),
    (lambda m, a, s: m.diagonal_scatter(a, s, -1), (3, 4), (2,)),
    (lambda m, a, s: a.diagonal_scatter(s, 1, 1, 0), (3, 4), (2,)),
    (lambda m, a, s: m.diagonal_scatter(a, s, 0, 0, 2), (2, 3, 4), (3, 2)),
]


@pytest.mark.parametrize("fn, ashape, sshape", SCATTERS)
def test_scatters(fn, ashape, sshape):
    a, s = RNG.standard_normal(ashape), RNG.standard_normal(sshape)
    check(lambda x, y: fn(cr, x, y), lambda x, y: fn(torch, x, y), a, s, double=True)
    check_jvp(lambda x, y: fn(cr, x, y), lambda x, y: fn(torch, x, y), a, s)
    finite_difference_check(lambda x, y: fn(cr, x, y), a, s)


def test_scatter_names_casts_and_errors():
    x = cr.zeros(3, 4, requires_grad=True)
    assert cr.slice_scatter(x, cr.ones(3, 2), 1, 1, 3).grad_fn.name() == "SliceScatterBackward0"
    assert cr.select_scatter(x, cr.ones(4), 0, 0).grad_fn.name() == "SelectScatterBackward0"
    assert cr.diagonal_scatter(x, cr.ones(3)).grad_fn.name() == "DiagonalScatterBackward0"
    _same(cr.slice_scatter(cr.zeros(3, 4), cr.ones(3, 4, dtype=cr.float64)),
          torch.slice_scatter(torch.zeros(3, 4), torch.ones(3, 4, dtype=torch.float64)))
    for call, exc in [(lambda m: m.slice_scatter(m.zeros(3, 4), m.ones(3, 3), 1, 1, 3),
                       RuntimeError),
                      (lambda m: m.slice_scatter(m.zeros(3, 4), m.ones(1, 4), start=5),
                       RuntimeError),
                      (lambda m: m.slice_scatter(m.zeros(3, 4), m.ones(3, 4), step=0),
                       RuntimeError),
                      (lambda m: m.slice_scatter(m.zeros(3, 4), m.ones(3, 4), dim=2), IndexError),
                      (lambda m: m.select_scatter(m.zeros(3, 4), m.ones(4), 0, 3), IndexError),
                      (lambda m: m.select_scatter(m.zeros(3, 4), m.ones(3), 0, 0), RuntimeError),
                      (lambda m: m.diagonal_scatter(m.zeros(3, 4), m.ones(4)), RuntimeError)]:
        with pytest.raises(exc) as theirs:
            call(torch)
        with pytest.raises(exc) as ours:
            call(cr)
        if "expected src" in str(theirs.value):
            assert str(theirs.value) in str(ours.value)


# ------------------------------------------------------------------------- nn.init.dirac_/eye_
@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((6, 3, 3, 3), 1), ((6, 2, 3), 2),
                                           ((4, 6, 3, 3, 3), 2), ((2, 4, 3), 1)])
def test_dirac(shape, groups):
    _same(cr.nn.init.dirac_(cr.empty(*shape), groups),
          torch.nn.init.dirac_(torch.empty(*shape), groups))


def test_eye_and_init_errors():
    for shape in [(3, 4), (4, 3)]:
        _same(cr.nn.init.eye_(cr.empty(*shape)), torch.nn.init.eye_(torch.empty(*shape)))
    for call in [lambda m: m.nn.init.dirac_(m.empty(3, 3)),
                 lambda m: m.nn.init.dirac_(m.empty(6, 2, 3), 4),
                 lambda m: m.nn.init.eye_(m.empty(2, 2, 2))]:
        with pytest.raises(ValueError):
            call(torch)
        with pytest.raises(ValueError):
            call(cr)


def test_no_warnings_on_plain_calls():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.kaiser_window(16)
        cr.special.i1(cr.tensor([0.0, 800.0]))
        cr.histogram(cr.tensor([1.0, 2.0]), 2, density=True)


# ------------------------------------------------------------------------ signal.windows
SIGNAL = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "hamming", "hann", "kaiser",
          "nuttall"]


@pytest.mark.parametrize("name", SIGNAL)
@pytest.mark.parametrize("M", [0, 1, 2, 5, 8, 31])
def test_signal_windows(name, M):
    for sym in (True, False):
        for cd, td, atol in [(cr.float32, torch.float32, 3e-7), (cr.float64, torch.float64, 3e-15)]:
            _same(getattr(cr.signal.windows, name)(M, sym=sym, dtype=cd),
                  getattr(torch.signal.windows, name)(M, sym=sym, dtype=td), atol=atol)


def test_signal_window_parameters_and_errors():
    W, T = cr.signal.windows, torch.signal.windows
    for call in [lambda m: m.general_cosine(7, a=[0.5, 0.3, 0.2]),
                 lambda m: m.general_hamming(6, alpha=0.6),
                 lambda m: m.gaussian(9, std=0.7),
                 lambda m: m.exponential(6, center=1.0, sym=False, tau=2.0),
                 lambda m: m.kaiser(8, beta=3.0, sym=False)]:
        _same(call(W), call(T), atol=3e-7)
    a, b = W.gaussian(5, std=0.7, requires_grad=True), T.gaussian(5, std=0.7, requires_grad=True)
    assert a.requires_grad and a.grad_fn.name() == b.grad_fn.name() == "ExpBackward0"
    for call in [lambda m: m.hann(-1), lambda m: m.gaussian(3, std=0.0),
                 lambda m: m.exponential(3, center=1.0), lambda m: m.kaiser(3, beta=-1.0),
                 lambda m: m.general_cosine(3, a=[])]:
        with pytest.raises(ValueError) as theirs:
            call(T)
        with pytest.raises(ValueError) as ours:
            call(W)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="float32 or float64"):
        W.hann(3, dtype=cr.float16)
