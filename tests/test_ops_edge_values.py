"""Edge values where an op's answer is easy to get silently wrong, against torch (and float64
truth): sums over leading dims of many float32 values, variance of offset data."""
import numpy as np
import pytest
import torch

import chainrule as cr


def _offset(shape, dtype=np.float32, seed=0):
    return (1e4 + np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("shape, dim", [((100000, 2), 0), ((3000, 64), 0), ((300, 7, 5), 0),
                                        ((300, 7, 5), (0, 1)), ((40, 30, 8), (0, 1)),
                                        ((257, 3), 0), ((1000, 1), 0)])
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
def test_float32_reductions_over_leading_dims_keep_their_digits(shape, dim, name):
    """NumPy adds along a leading axis one row after another: the mean of 10⁵ values near 10⁴
    came out 7 off (and the variance 56 instead of 1); torch's (cascade sums, float64
    accumulators for var) keep float32's digits, as chainrule must."""
    a = _offset(shape)
    truth = getattr(a.astype(np.float64), name)(dim, **({"ddof": 1} if name in ("var", "std") else {}))
    mine = getattr(cr.tensor(a), name)(dim)
    theirs = getattr(torch.tensor(a), name)(dim).numpy()
    assert mine.dtype == cr.float32 and tuple(mine.shape) == theirs.shape
    scale = np.abs(truth).max()
    mine_error = np.abs(mine.numpy() - truth).max() / scale
    theirs_error = np.abs(theirs - truth).max() / scale
    assert mine_error <= max(4 * theirs_error, 4e-7), (mine_error, theirs_error)


def test_leading_dim_sums_keep_shapes_keepdim_and_float16_accumulation():
    x = np.random.default_rng(1).standard_normal((600, 3, 4)).astype(np.float32)
    for dim, keepdim in [((0,), True), ((0, 1), True), ((0, 1), False), (0, False)]:
        mine, theirs = cr.tensor(x).sum(dim, keepdim=keepdim), torch.tensor(x).sum(dim, keepdim=keepdim)
        assert tuple(mine.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=2e-6, atol=2e-5)
    h = np.random.default_rng(2).random((5000, 4)).astype(np.float16)   # float32 accumulator
    mine, theirs = cr.tensor(h).sum(0), torch.tensor(h).sum(0)
    assert mine.dtype == cr.float16
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_gradients_of_leading_dim_reductions_as_torch():
    a = _offset((700, 3)).astype(np.float64) - 1e4
    for name in ("sum", "mean", "var", "std"):
        t, c = torch.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
        getattr(t, name)(0).pow(2).sum().backward()
        getattr(c, name)(0).pow(2).sum().backward()
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


_WRAPPING = {   # a Python int out of the tensor's integer range: torch wraps it around
    "lt": lambda L, x: x < 300, "eq": lambda L, x: x == -1, "add": lambda L, x: x + (-3),
    "radd": lambda L, x: 300 + x, "sub": lambda L, x: x - 300, "rsub": lambda L, x: 300 - x,
    "mul": lambda L, x: x * 300, "floordiv": lambda L, x: x // 300, "mod": lambda L, x: x % 300,
    "fmod": lambda L, x: L.fmod(x, 300), "and": lambda L, x: x & 300, "or": lambda L, x: x | -1,
    "xor": lambda L, x: x ^ 256, "div_floor": lambda L, x: L.div(x, 300, rounding_mode="floor"),
    "iadd": lambda L, x: x.clone().add_(-3), "imul": lambda L, x: x.clone().mul_(300),
    "truediv": lambda L, x: x / 300, "rtruediv": lambda L, x: 600 / (x + 1),
    "int8": lambda L, x: L.tensor([1, 2], dtype=L.int8) + 200,
    "int32": lambda L, x: L.tensor([1], dtype=L.int32) + 2 ** 31,
}


@pytest.mark.parametrize("name", list(_WRAPPING))
def test_out_of_range_python_ints_wrap_as_torch(name):
    """uint8 image code compares and shifts with ints past 255 (chainrule raised OverflowError,
    NumPy's rule); true division takes the number itself."""
    mine = _WRAPPING[name](cr, cr.tensor([0, 200, 255], dtype=cr.uint8))
    theirs = _WRAPPING[name](torch, torch.tensor([0, 200, 255], dtype=torch.uint8))
    assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("make", [lambda L, x: x ** 300, lambda L, x: L.where(x > 100, x, 300),
                                  lambda L, x: x.masked_fill(x > 0, 300),
                                  lambda L, x: L.full((2,), 300, dtype=L.uint8)])
def test_out_of_range_python_ints_refused_where_torch_refuses_them(make):
    for lib in (torch, cr):
        with pytest.raises(RuntimeError, match="overflow"):
            make(lib, lib.tensor([0, 200, 255], dtype=lib.uint8))
    with pytest.raises(OverflowError):    # past int64, for every op
        cr.tensor([1, 2]) + 2 ** 70


def _values_and_grads(lib, fn, *values, dtype="float32"):
    xs = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in values]
    y = fn(lib, *xs)
    y.sum().backward()
    return [y.detach().numpy()] + [x.grad.numpy() for x in xs]


def _same_bits(mine, theirs):
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))   # −0.0 included


_SPECIALS = [float("nan"), -0.3, 0.3, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 7.0, float("inf"),
             float("-inf")]


@pytest.mark.parametrize("fn", [
    lambda L, x: L.nn.functional.softshrink(x, 0.5), lambda L, x: L.nn.functional.hardshrink(x),
    lambda L, x: L.nn.functional.threshold(x, 0.5, -3.0), lambda L, x: L.nn.functional.hardtanh(x),
    lambda L, x: L.nn.functional.relu6(x),
    lambda L, x: L.nn.functional.threshold(x * 1, 0.5, -3.0, inplace=True)],
    ids=["softshrink", "hardshrink", "threshold", "hardtanh", "relu6", "threshold_"])
def test_piecewise_activations_keep_nan_and_signed_zero_as_torch(fn):
    """A NaN stays NaN and passes its gradient on (torch tests the dead zone, x ≤ t); the dead
    zone's zero keeps x's sign (torch's x·0)."""
    _same_bits(_values_and_grads(cr, fn, _SPECIALS), _values_and_grads(torch, fn, _SPECIALS))


def test_addmm_beta_zero_ignores_input_and_alpha_zero_the_product_as_torch():
    nan = float("nan")
    for lib in (torch, cr):
        assert lib.addmm(lib.full((2, 2), nan), lib.ones(2, 2), lib.ones(2, 2), beta=0).tolist() \
            == [[2.0, 2.0], [2.0, 2.0]]
        assert lib.addmm(lib.ones(2, 2), lib.full((2, 2), nan), lib.ones(2, 2), alpha=0).tolist() \
            == [[1.0, 1.0], [1.0, 1.0]]
        with pytest.raises(RuntimeError):     # input must broadcast to the product, any beta
            lib.addmm(lib.ones(3, 2, 2), lib.ones(2, 2), lib.ones(2, 2), beta=2)


@pytest.mark.parametrize("args", [("int64", "float64", ()), ("int64", "int64", (2,)),
                                  ("float32", "int64", (2,)), ("float64", "int32", (2,)),
                                  ("bool", "int64", (2,))])
def test_ldexp_result_dtype_as_torch(args):
    a_dtype, b_dtype, b_shape = args
    dtypes = [str(lib.ldexp(lib.tensor([1, 2], dtype=getattr(lib, a_dtype)),
                            lib.ones(b_shape, dtype=getattr(lib, b_dtype))).dtype).split(".")[1]
              for lib in (torch, cr)]
    assert dtypes[0] == dtypes[1]


@pytest.mark.parametrize("values", [[1.0, float("nan"), 2.0], [float("nan"), 1.0, float("nan")],
                                    [2.0, 2.0, 1.0]])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_of_everything_shares_a_nan_results_gradient_among_the_nans_as_torch(values, name):
    fn = lambda L, x: getattr(x, name)()   # noqa: E731
    np.testing.assert_array_equal(_values_and_grads(cr, fn, values)[1],
                                  _values_and_grads(torch, fn, values)[1])


def test_atan2_gradient_is_zero_at_the_origin_as_torch():
    fn = lambda L, y, x: L.atan2(y, x)    # noqa: E731
    ys, xs = [0.0, -0.0, 1.0, 3.0, 0.0], [0.0, 0.0, 0.0, -2.0, -0.0]
    mine, theirs = _values_and_grads(cr, fn, ys, xs), _values_and_grads(torch, fn, ys, xs)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def test_logit_gradient_outside_and_at_the_ends_of_0_1_as_torch():
    fn = lambda L, x: L.logit(x)    # noqa: E731
    values = [2.5, 0.0, 1.0, 0.5, -0.1, 0.25]
    for a, b in zip(_values_and_grads(cr, fn, values), _values_and_grads(torch, fn, values)):
        np.testing.assert_allclose(a, b, rtol=1e-6)      # nan, ±inf in the same places


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-6)])
def test_log_ndtr_keeps_the_left_tail_as_torch(dtype, rtol):
    """log Φ(−40) = −804.6: log(ndtr(x)) was −inf from x ≈ −8; the gradient φ/Φ ≈ −x there.
    Oracle: torch in float64 (its float32 gradient is off by 4% at −1000)."""
    values = [-1000.0, -60.0, -40.0, -37.5, -37.0, -20.0, -13.5, -12.5, -10.0, -5.0, -1.0, 0.0,
              3.0, 10.0, float("nan"), float("-inf"), float("inf")]
    fn = lambda L, x: L.special.log_ndtr(x)    # noqa: E731
    mine = _values_and_grads(cr, fn, values, dtype=dtype)
    truth = _values_and_grads(torch, fn, values, dtype="float64")
    assert mine[0].dtype == np.dtype(dtype)
    nan = 14   # the NaN input: NaN out, and its slope is 1
    assert np.isnan(mine[0][nan]) and mine[1][nan] == 1.0   # here (torch's formula gives NaN)
    truth[1][nan] = 1.0
    for a, b in zip(mine, truth):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-30)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_stays_in_the_graph_with_zero_gradients_as_torch(mode):
    """A loss reached only through div(..., rounding_mode) backpropagates zeros (it raised:
    the quotient was a constant)."""
    fn = lambda L, a, b: L.div(a, b, rounding_mode=mode)    # noqa: E731
    a, b = [3.0, -3.5, 1.0, 0.0, -0.0], [2.0, 2.0, 0.0, 0.0, 3.0]
    _same_bits(_values_and_grads(cr, fn, a, b), _values_and_grads(torch, fn, a, b))


@pytest.mark.parametrize("norm_type", [1, 2, 3, 1.5])
def test_lp_pool_gradient_is_zero_on_windows_of_zeros_as_torch(norm_type):
    """A window of zeros (as after a ReLU) gave a NaN gradient that spread to every weight."""
    values = [[[-1.0, -2.0, 0.0, 0.0, 1.0, 2.0, 0.5, 1.0]]]
    fn = lambda L, x: L.nn.functional.lp_pool1d(x, norm_type, 2)    # noqa: E731
    for a, b in zip(_values_and_grads(cr, fn, values, dtype="float64"),
                    _values_and_grads(torch, fn, values, dtype="float64")):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    fn2 = lambda L, x: L.nn.functional.lp_pool2d(x, norm_type, 2)    # noqa: E731
    grid = [[[[0.0, 0.0, 1.0, 2.0], [0.0, 0.0, 3.0, 1.0]]]]
    for a, b in zip(_values_and_grads(cr, fn2, grid, dtype="float64"),
                    _values_and_grads(torch, fn2, grid, dtype="float64")):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("mode, padding", [("reflect", 4), ("circular", 5)])
def test_conv_padding_modes_check_the_padding_size_as_torch(mode, padding):
    for lib in (torch, cr):
        with pytest.raises(RuntimeError, match="Padding"):
            lib.nn.Conv1d(1, 1, 3, padding=padding, padding_mode=mode)(lib.ones(1, 1, 4))


@pytest.mark.parametrize("make, shape", [
    (lambda L: L.nn.LayerNorm(4), (0, 4)), (lambda L: L.nn.GroupNorm(1, 3), (0, 3, 2)),
    (lambda L: L.nn.InstanceNorm1d(3), (0, 3, 4)), (lambda L: L.nn.Flatten(), (0, 3, 2)),
    (lambda L: L.nn.Flatten(0, 1), (3, 0, 2)), (lambda L: L.nn.BatchNorm1d(3), (0, 3)),
    (lambda L: L.nn.BatchNorm2d(3), (0, 3, 2, 2)), (lambda L: L.nn.BatchNorm1d(3, affine=False), (0, 3))],
    ids=["layer_norm", "group_norm", "instance_norm", "flatten", "flatten_0_1", "batch_norm1d",
         "batch_norm2d", "batch_norm_no_affine"])
def test_empty_batches_pass_forward_and_backward_as_torch(make, shape):
    """A last batch filtered down to nothing: empty outputs, zero parameter gradients, the
    running statistics untouched (batch norm counts the batch, as torch)."""
    results = []
    for lib in (torch, cr):
        x = lib.zeros(*shape, requires_grad=True)
        module = make(lib)
        y = module(x)
        y.sum().backward()
        results.append((tuple(y.shape), tuple(x.grad.shape),
                        [p.grad.tolist() for p in module.parameters()],
                        [b.tolist() for b in module.buffers()]))
    assert results[0] == results[1]


def test_p0_distances_stay_in_the_graph_as_torch():
    a = cr.tensor([[1.0, 0.0, 2.0], [float("nan"), 1.0, 1.0]], requires_grad=True)
    y = cr.nn.functional.pairwise_distance(a, cr.tensor([[1.0, 3.0, 0.0]]), p=0)
    assert y.requires_grad and y.tolist() == [3.0, 3.0]
    y.sum().backward()                  # (raised: the count was a constant)
    assert not a.grad.numpy().any()


def test_zero_remainders_take_the_dividends_sign_as_torch():
    """NumPy signs a zero remainder as the divisor (0 % −1 = −0.0), torch as the dividend."""
    fn = lambda L, a, b: L.remainder(a, b)    # noqa: E731
    a, b = [0.0, -0.0, 2.0, -2.0, 5.5, -5.5, 1.0], [-1.0, 1.0, -1.0, 1.0, -2.0, 2.0, float("inf")]
    _same_bits(_values_and_grads(cr, fn, a, b), _values_and_grads(torch, fn, a, b))


# ============================================================================ linalg, special
def _grad_pair(fn, value, **kw):
    out = []
    for lib in (torch, cr):
        a = lib.tensor(value, dtype=lib.float64, requires_grad=True)
        y = fn(lib, a, **kw)
        weights = lib.arange(y.numel(), dtype=lib.float64).reshape(tuple(y.shape))
        (y * weights).sum().backward()
        out.append((_np(y), _np(a.grad)))
    return out


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("value, kw", [
    (np.eye(2), {}), (np.diag([2.0, 2.0, 1.0]), {}), (np.zeros((2, 2)), {}),
    (np.diag([3.0, 1.0]), {"atol": 1.5}), (np.random.default_rng(0).standard_normal((3, 4)), {}),
    (np.random.default_rng(1).standard_normal((2, 4, 3)), {}),
    ([[2.0, 5.0], [1.0, -3.0]], {"hermitian": True}), ([[2.0, 5.0], [1.0, -3.0]], {"rcond": 0.1})],
    ids=["identity", "repeated", "zero", "atol", "wide", "tall_batch", "hermitian", "rcond"])
def test_pinv_and_its_gradient_as_torch(value, kw):
    """The gradient is the pseudo-inverse's own rule: through the SVD it was NaN wherever
    singular values repeat (the identity, an orthogonal matrix, 0)."""
    (yt, gt), (yc, gc) = _grad_pair(lambda L, a, **k: L.linalg.pinv(a, **k), value, **kw)
    np.testing.assert_allclose(yc, yt, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gc, gt, rtol=1e-8, atol=1e-10)


def test_matrix_rank_and_pinv_take_torchs_older_arguments_and_tensor_tolerances():
    a = [[2.0, 5.0], [1.0, -3.0]]
    for lib in (torch, cr):
        A = lib.tensor(a)
        assert lib.linalg.matrix_rank(A, tol=0.5).item() == 2
        assert lib.linalg.matrix_rank(A, atol=lib.tensor(0.5)).item() == 2
        u = lib.tensor([1.0, 2.0, 3.0])
        assert lib.linalg.matrix_rank(lib.outer(u, lib.tensor([1.0, -1.0, 2.0])),
                                      hermitian=True).item() == 3   # the lower triangle's
    batch = np.random.default_rng(2).standard_normal((2, 2, 2))
    np.testing.assert_allclose(
        cr.linalg.pinv(cr.tensor(batch), atol=cr.tensor([0.1, 5.0], dtype=cr.float64)).numpy(),
        torch.linalg.pinv(torch.tensor(batch), atol=torch.tensor([0.1, 5.0], dtype=torch.float64)).numpy(),
        rtol=1e-10, atol=1e-12)


def test_det_of_nan_is_nan_and_its_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    """det's backward went through A⁻¹ and raised for a singular matrix (a batch holding one).
    The cofactor matrix is the derivative there (finite differences agree; torch 2.13 returns
    0)."""
    for lib in (torch, cr):
        assert np.isnan(lib.linalg.det(lib.tensor([[float("nan"), 1.0], [1.0, 1.0]])).item())
    for value in ([[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
                  [[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]]):
        a = cr.tensor(value, dtype=cr.float64, requires_grad=True)
        cr.linalg.det(a).sum().backward()
        v, h = np.array(value), 1e-6
        numeric = np.zeros_like(v)
        for index in np.ndindex(v.shape):
            e = np.zeros_like(v)
            e[index] = h
            numeric[index] = (np.linalg.det(v + e) - np.linalg.det(v - e)).sum() / (2 * h)
        np.testing.assert_allclose(a.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ord", [0.5, -0.5, -1.0, 1.5, 3.0])
@pytest.mark.parametrize("values", [[3.0, 0.0, -4.0, 0.0], [3.0, 1.0, -4.0, 2.0], [0.0, 0.0]])
def test_vector_norm_gradient_at_zero_entries_as_torch(ord, values):
    """|x|^p's slope at 0 is infinite for p < 1: the gradient there was NaN (torch's is 0)."""
    (yt, gt), (yc, gc) = _grad_pair(lambda L, x: L.linalg.vector_norm(x, ord), values)
    np.testing.assert_allclose(yc, yt, rtol=1e-12)
    np.testing.assert_allclose(gc, gt, rtol=1e-10, atol=1e-12)


def test_multivariate_normal_reads_only_scale_trils_lower_triangle():
    out = []
    for lib in (torch, cr):
        L = lib.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=lib.float64, requires_grad=True)
        d = lib.distributions.MultivariateNormal(lib.zeros(2, dtype=lib.float64), scale_tril=L)
        d.log_prob(lib.tensor([0.5, -0.3], dtype=lib.float64)).backward()
        out.append(L.grad.numpy())
    assert out[1][0, 1] == 0.0
    np.testing.assert_allclose(out[1], out[0], rtol=1e-12)


def test_special_functions_keep_their_digits_in_the_tails_as_torch():
    t = torch.tensor([1 - 1e-12, 1 - 1e-15, -1 + 1e-14, 0.999, 0.5, 1e-300], dtype=torch.float64)
    np.testing.assert_allclose(cr.erfinv(cr.tensor(t.numpy())).numpy(), torch.erfinv(t).numpy(),
                               rtol=1e-13)   # was 5.47 for 5.676 at 1 − 1e-15
    p = torch.tensor([1e-300, 1e-20, 1e-10, 0.01, 0.3, 0.9, 0.0, 1.0], dtype=torch.float64)
    np.testing.assert_allclose(cr.special.ndtri(cr.tensor(p.numpy())).numpy(),
                               torch.special.ndtri(p).numpy(), rtol=1e-13)   # was −inf
    big = [1e308, 1e300, -1e308]
    np.testing.assert_array_equal(cr.lgamma(cr.tensor(big, dtype=cr.float64)).numpy(),
                                  torch.lgamma(torch.tensor(big, dtype=torch.float64)).numpy())


def test_digamma_and_polygamma_at_signed_zeros_and_poles_as_torch():
    x = [0.0, -0.0, -1.0, -2.0, 1.0, 2.5]
    for n in range(4):
        mine = cr.polygamma(n, cr.tensor(x, dtype=cr.float64)).numpy()
        theirs = torch.polygamma(n, torch.tensor(x, dtype=torch.float64)).numpy()
        if n == 1:     # (torch's trigamma at a negative integer: a large finite number)
            theirs[2:4] = np.inf
        np.testing.assert_allclose(mine, theirs, rtol=1e-8)
    assert np.isnan(cr.polygamma(1, cr.tensor([-np.inf], dtype=cr.float64)).item())


@pytest.mark.parametrize("eps", [None, 0.0, 0.1])
def test_logit_with_eps_clamps_and_zeroes_the_gradient_outside_as_torch(eps):
    fn = lambda L, x: L.logit(x, eps)    # noqa: E731
    values = [-0.5, 0.0, 0.05, 0.3, 0.5, 1.0, 1.5]
    for a, b in zip(_values_and_grads(cr, fn, values), _values_and_grads(torch, fn, values)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_entr_and_its_gradient_at_zero_negative_and_infinite_values_as_torch():
    fn = lambda L, x: L.special.entr(x)    # noqa: E731
    values = [-1.0, 0.0, -0.0, 0.5, float("inf"), float("nan"), 2.0]
    for a, b in zip(_values_and_grads(cr, fn, values), _values_and_grads(torch, fn, values)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "clamp_min", "relu6", "hardtanh", "threshold", "clamp"])
def test_masked_rules_select_so_an_infinite_gradient_at_an_inactive_unit_gives_zero(name):
    """sqrt(relu(x)): √'s slope is infinite at the zeros relu makes, and torch's relu, clamp,
    hardtanh and threshold backward select ḡ, giving 0 there; a product gave 0·∞ = NaN, which
    spread to every weight before it."""
    fns = {"relu": lambda L, x: L.relu(x), "clamp_min": lambda L, x: x.clamp(min=0),
           "relu6": lambda L, x: L.nn.functional.relu6(x),
           "hardtanh": lambda L, x: L.nn.functional.hardtanh(x, 0.0, 6.0),
           "threshold": lambda L, x: L.nn.functional.threshold(x, 0.0, 0.0),
           "clamp": lambda L, x: x.clamp(0.0, 3.0)}
    fn = lambda L, x: fns[name](L, x).sqrt()    # noqa: E731
    values = [-1.0, 0.0, -0.0, 4.0, 9.0, float("nan")]
    for dtype in ("float32", "float64"):
        for a, b in zip(_values_and_grads(cr, fn, values, dtype=dtype),
                        _values_and_grads(torch, fn, values, dtype=dtype)):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    x = cr.tensor(values, dtype=cr.float64, requires_grad=True)     # and recorded (2nd order)
    g, = cr.autograd.grad(fns[name](cr, x).sqrt().sum(), x, create_graph=True)
    assert not np.isnan(g.detach().numpy()[:5]).any()


def test_ties_keep_the_first_operand_so_signed_zeros_follow_torch():
    """NumPy's maximum/minimum/clip return the second operand of a tie, torch the first: max(−0,
    0) is −0.0 in torch, and clamp/ELU of −0.0 stay −0.0."""
    a, b = [-0.0, 0.0, -0.0, 0.0, float("nan"), 1.0], [0.0, -0.0, -0.0, 0.0, 1.0, float("nan")]
    for fn in (lambda L, x, y: L.maximum(x, y), lambda L, x, y: L.minimum(x, y),
               lambda L, x, y: L.clamp(x, min=0.0), lambda L, x, y: L.clamp(x, 0.0, 0.5),
               lambda L, x, y: L.nn.functional.elu(x), lambda L, x, y: L.nn.functional.selu(x)):
        mine, theirs = (fn(L, L.tensor(a), L.tensor(b)).numpy() for L in (cr, torch))
        np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(np.signbit(mine), np.signbit(theirs))
