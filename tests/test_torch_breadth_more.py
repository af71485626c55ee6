"""More of torch's surface against torch itself: casts and metadata of Tensor, cross, cdist,
dist, quantile, trapezoid, matrix_power, logdet, gcd/lcm, heaviside, erfc and friends.

Each case is one line: a function of the library ``L`` (chainrule or torch) and the inputs, run
on both; values, dtypes, shapes and gradients (and second derivatives where torch has them)
must agree, and bad input must raise the same exception type in both."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp, finite_difference_check

R = np.random.default_rng(11)
INF = float("inf")


def x(*shape, lo=None):
    v = R.standard_normal(shape)
    return np.abs(v) + lo if lo is not None else v


def spd(n, batch=()):
    a = R.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def ints(*values, dtype=np.int64):
    return np.array(values, dtype)


NAN_ROWS = np.array([[1.0, 5.0, 2.0, 8.0, 3.0], [3.0, np.nan, 0.0, 1.0, 4.0]])
TIES = np.array([[3.0, 4.0], [0.0, 0.0]]), np.array([[1.0, 2.0], [2.0, 0.0]])

# (id, f(L, *tensors), arrays, second derivatives checked); each in float32 and float64
CASES = [
    ("aminmax", lambda L, a: L.stack(L.aminmax(a)), [x(3, 4)], True),
    ("aminmax_dim", lambda L, a: L.stack(L.aminmax(a, dim=1, keepdim=True)), [x(3, 4)], True),
    ("aminmax_method", lambda L, a: a.aminmax(dim=0).max, [x(3, 4)], True),
    ("cross_dim", lambda L, a, b: L.cross(a, b, dim=1), [x(4, 3), x(1, 3)], True),
    ("cross_method", lambda L, a, b: a.cross(b, dim=0), [x(3, 2), x(3, 2)], True),
    ("cdist", lambda L, a, b: L.cdist(a, b), [x(3, 4), x(5, 4)], False),
    ("cdist_batch", lambda L, a, b: L.cdist(a, b), [x(2, 3, 4), x(5, 4)], False),
    ("cdist_p1", lambda L, a, b: L.cdist(a, b, p=1), [x(3, 4), x(2, 4)], False),
    ("cdist_p3", lambda L, a, b: L.cdist(a, b, p=3), [x(3, 4), x(2, 4)], False),
    ("cdist_pinf", lambda L, a, b: L.cdist(a, b, p=INF), [x(3, 4), x(2, 4)], False),
    ("cdist_pinf_ties", lambda L, a, b: L.cdist(a, b, p=INF), list(TIES), False),
    ("cdist_p0", lambda L, a, b: L.cdist(a, b, p=0), [x(3, 4), x(2, 4)], False),
    ("cdist_zero_dist", lambda L, a, b: L.cdist(a, b), [TIES[0], TIES[0][::-1].copy()], False),
    ("cdist_mm", lambda L, a, b: L.cdist(a, b), [x(30, 3), x(4, 3)], True),
    ("cdist_mm_forced", lambda L, a, b: L.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
     [x(2, 3), x(4, 3)], True),
    ("dist", lambda L, a, b: L.dist(a, b), [x(3, 4), x(4)], True),
    ("dist_p1", lambda L, a, b: a.dist(b, 1), [x(3, 4), x(3, 4)], True),
    ("dist_pinf", lambda L, a, b: L.dist(a, b, INF), [x(3, 4), x(3, 4)], True),
    ("dist_p3", lambda L, a, b: L.dist(a, b, 3), [x(5), x(5)], True),
    ("cosine_similarity", lambda L, a, b: L.cosine_similarity(a, b, 0), [x(3, 4), x(3, 4)], True),
    ("pairwise_distance", lambda L, a, b: L.pairwise_distance(a, b), [x(3, 4), x(3, 4)], True),
    ("concatenate_axis", lambda L, a, b: L.concatenate([a, b], axis=0), [x(2), x(3)], True),
    ("concatenate_dim", lambda L, a, b: L.concatenate((a, b), dim=1), [x(2, 1), x(2, 3)], True),
    ("erfc", lambda L, a: L.erfc(a), [np.array([-3.0, -0.5, 0.0, 0.7, 2.0, 4.0])], True),
    ("erfc_method", lambda L, a: a.erfc(), [x(3, 2)], True),
    ("special_erfc", lambda L, a: L.special.erfc(a), [x(4)], True),
    ("trapezoid", lambda L, y: L.trapezoid(y), [x(3, 5)], True),
    ("trapezoid_dx", lambda L, y: L.trapezoid(y, dx=0.5, dim=0), [x(3, 5)], True),
    ("trapezoid_x", lambda L, y, t: L.trapezoid(y, t, dim=0), [x(4, 2), np.array([0., .5, 2., 3.])],
     True),
    ("trapezoid_x_kw", lambda L, y, t: L.trapezoid(y, x=t), [x(2, 4), x(2, 4)], True),
    ("trapezoid_x_lower_dim", lambda L, y, t: L.trapezoid(y, t), [x(3, 2, 4), x(2, 4)], True),
    ("trapz", lambda L, y, t: L.trapz(y, t), [x(5), np.cumsum(x(5, lo=0.1))], True),
    ("trapz_dx", lambda L, y: L.trapz(y, dx=2.0), [x(2, 3)], True),
    ("cumulative_trapezoid", lambda L, y: L.cumulative_trapezoid(y), [x(3, 5)], True),
    ("cumulative_trapezoid_dx", lambda L, y: L.cumulative_trapezoid(y, dx=0.3, dim=0), [x(4, 2)],
     True),
    ("cumulative_trapezoid_x", lambda L, y, t: L.cumulative_trapezoid(y, x=t),
     [x(2, 4), np.array([0., 1., 1.5, 4.])], True),
    ("matrix_power_3", lambda L, a: L.matrix_power(a, 3), [x(3, 3)], True),
    ("matrix_power_neg", lambda L, a: L.matrix_power(a, -2), [spd(3)], True),
    ("matrix_power_0", lambda L, a: L.matrix_power(a, 0), [x(2, 3, 3)], False),
    ("matrix_power_method", lambda L, a: a.matrix_power(5), [x(2, 2, 2) / 2], True),
    ("linalg_matrix_power", lambda L, a: L.linalg.matrix_power(a, 2), [x(3, 3)], True),
    ("logdet", lambda L, a: L.logdet(a), [spd(3, (2,))], True),
    ("logdet_negative_det", lambda L, a: a.logdet(), [np.diag([-2.0, 3.0])], False),
    ("adjoint", lambda L, a: L.adjoint(a) * 1, [x(2, 3, 4)], True),
    ("adjoint_method", lambda L, a: a.adjoint(), [x(3, 4)], True),
    ("quantile", lambda L, a: L.quantile(a, 0.3), [x(4, 5)], True),
    ("quantile_q_tensor", lambda L, a, q: L.quantile(a, q, dim=1), [x(3, 5), np.array([.1, .95])],
     True),
    ("quantile_keepdim", lambda L, a, q: L.quantile(a, q, dim=0, keepdim=True),
     [x(4, 3), np.array([.25, 1.0])], True),
    ("quantile_keepdim_all", lambda L, a, q: a.quantile(q, keepdim=True), [x(2, 3), np.array([.6])],
     True),
    ("quantile_0d_q", lambda L, a, q: L.quantile(a, q, dim=-1), [x(2, 6), np.array(0.42)], True),
    ("quantile_0d_input", lambda L, a: L.quantile(a, 0.5, dim=0, keepdim=True), [np.array(2.5)],
     True),
    ("quantile_lower", lambda L, a: L.quantile(a, 0.3, 1, interpolation="lower"), [x(3, 6)], True),
    ("quantile_higher", lambda L, a: L.quantile(a, 0.3, 1, interpolation="higher"), [x(3, 6)],
     True),
    ("quantile_midpoint", lambda L, a: L.quantile(a, 0.3, 1, interpolation="midpoint"), [x(3, 6)],
     True),
    ("quantile_nearest", lambda L, a, q: L.quantile(a, q, interpolation="nearest"),
     [x(5), np.array([0.125, 0.375, 0.625, 0.7])], True),
    ("quantile_nan", lambda L, a, q: L.quantile(a, q, dim=1), [NAN_ROWS, np.array([.2, .7])], True),
    ("nanquantile", lambda L, a, q: L.nanquantile(a, q, 1), [NAN_ROWS, np.array([.2, .7])], True),
    ("nanquantile_all_nan", lambda L, a: a.nanquantile(0.5, dim=0),
     [np.array([[np.nan, 1.0], [np.nan, 2.0]])], True),
    ("renorm", lambda L, a: L.renorm(a, 2, 0, 1.5), [x(4, 3) * 1.5], True),
    ("renorm_p1_dim1", lambda L, a: a.renorm(1, 1, 2.0), [x(2, 3, 2)], True),
    ("sum_to_size", lambda L, a: a.sum_to_size(1, 4), [x(3, 4)], True),
    ("sum_to_size_lead", lambda L, a: a.sum_to_size((4,)), [x(2, 3, 4)], True),
    ("sum_to_size_size", lambda L, a: a.sum_to_size(L.Size([3, 1])), [x(3, 4)], True),
    ("real", lambda L, a: a.real * 2, [x(3)], True),
    ("gradient", lambda L, a: L.stack(L.gradient(a)), [x(5, 6)], True),
    ("gradient_spacing", lambda L, a: L.stack(L.gradient(a, spacing=[2.0, 0.5])), [x(5, 6)], True),
    ("gradient_dim_order2", lambda L, a: L.gradient(a, dim=-1, edge_order=2, spacing=1.5)[0],
     [x(4, 3)], True),
    ("gradient_coords", lambda L, a, c0, c1: L.stack(L.gradient(a, spacing=[c0, c1])),
     [x(5, 6), np.cumsum(R.uniform(0.3, 1.5, 5)), np.cumsum(R.uniform(0.3, 1.5, 6))], True),
    ("gradient_coords_order2", lambda L, a, c: L.gradient(a, spacing=(c,), dim=0, edge_order=2)[0],
     [x(5, 2), np.cumsum(R.uniform(0.3, 1.5, 5))], True),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,arrays,double", CASES, ids=[c[0] for c in CASES])
def test_op_matches_torch(name, fn, arrays, double, dtype):
    check(lambda *a: fn(cr, *a), lambda *a: fn(torch, *a), *[a.astype(dtype) for a in arrays],
          double=double and dtype == np.float64, scale=10 if dtype == np.float32 else 1)


# (id, f(L)): no gradients (integer ops, predicates, metadata); values and dtypes must agree
VALUES = [
    ("byte", lambda L: L.tensor([300, -1, 7]).byte()),
    ("char", lambda L: L.tensor([1.7, -1.7, 100.0]).char()),
    ("short", lambda L: L.tensor([1.7, -30000.0]).short()),
    ("gcd", lambda L: L.gcd(L.tensor([12, -18, 0, 0, 7]), L.tensor([8, 12, 5, 0, -21]))),
    ("gcd_promotes", lambda L: L.gcd(L.tensor([12, 18], dtype=L.uint8),
                                     L.tensor([8], dtype=L.int8))),
    ("gcd_0d_other", lambda L: L.tensor([12, 18], dtype=L.int32).gcd(L.tensor(8))),
    ("lcm", lambda L: L.lcm(L.tensor([12, -18, 0, 4]), L.tensor([8, 12, 5, -6]))),
    ("lcm_wraps", lambda L: L.lcm(L.tensor([100], dtype=L.int8), L.tensor([3], dtype=L.int8))),
    ("heaviside", lambda L: L.heaviside(L.tensor([-1.0, 0.0, 2.0, float("nan")]), L.tensor([0.5]))),
    ("heaviside_int", lambda L: L.heaviside(L.tensor([[-1], [0], [2]]), L.tensor([5, 6]))),
    ("heaviside_bool", lambda L: L.tensor([True, False]).heaviside(L.tensor([True]))),
    ("isreal", lambda L: L.isreal(L.tensor([1.0, float("nan")]))),
    ("isreal_int", lambda L: L.tensor([[1, 2]]).isreal()),
    ("cross_int", lambda L: L.cross(L.tensor([1, 2, 3]), L.tensor([3, 4, 5]), dim=0)),
    ("aminmax_int", lambda L: L.stack(L.aminmax(L.tensor([[4, 1], [2, 9]]), dim=0))),
    ("aminmax_bool", lambda L: L.stack(L.aminmax(L.tensor([True, False])))),
    ("aminmax_empty_lane", lambda L: L.aminmax(L.zeros(0, 3), dim=1).min),
    ("matrix_power_int", lambda L: L.matrix_power(L.tensor([[1, 1], [1, 0]]), 10)),
    ("matrix_power_int_0", lambda L: L.linalg.matrix_power(L.tensor([[2, 1], [1, 0]]), 0)),
    ("matrix_power_empty", lambda L: L.matrix_power(L.zeros(3, 0, 0), 2)),
    ("trapezoid_int", lambda L: L.trapezoid(L.tensor([1, 2, 4]))),
    ("trapezoid_int_x", lambda L: L.trapezoid(L.tensor([1, 2, 4]), L.tensor([0, 1, 3]))),
    ("trapezoid_empty", lambda L: L.trapezoid(L.zeros(3, 0))),
    ("cumulative_trapezoid_int", lambda L: L.cumulative_trapezoid(L.tensor([1, 2, 4]), dx=3)),
    ("cumulative_trapezoid_empty", lambda L: L.cumulative_trapezoid(L.zeros(0))),
    ("sum_to_size_int", lambda L: L.arange(12).reshape(3, 4).sum_to_size(4)),
    ("sum_to_size_int32", lambda L: L.arange(6, dtype=L.int32).reshape(2, 3).sum_to_size(1, 3)),
    ("sum_to_size_bool", lambda L: L.tensor([True, True]).sum_to_size(1)),
    ("sum_to_size_all", lambda L: L.ones(2, 3).sum_to_size(())),
    ("logdet_singular", lambda L: L.logdet(L.tensor([[0.0, 0.0], [0.0, 3.0]]))),
    ("scalar_tensor", lambda L: L.scalar_tensor(3)),
    ("scalar_tensor_bool", lambda L: L.scalar_tensor(True)),
    ("scalar_tensor_dtype", lambda L: L.scalar_tensor(3, dtype=L.int64)),
    ("scalar_tensor_of_tensor", lambda L: L.scalar_tensor(L.tensor(2.5, dtype=L.float64))),
    ("concatenate_promotes", lambda L: L.concatenate([L.tensor([1]), L.tensor([0.5])])),
    ("cross_out", lambda L: L.cross(L.ones(3), L.arange(3.0), dim=0, out=L.empty(3))),
    ("cdist_empty", lambda L: L.cdist(L.zeros(0, 3), L.ones(2, 3))),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,fn", VALUES, ids=[c[0] for c in VALUES])
def test_values_match_torch(name, fn):
    a, b = fn(cr), fn(torch)
    assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1], (a.dtype, b.dtype)
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# (id, f(L)): what torch refuses, chainrule refuses with the same exception type
ERRORS = [
    ("cross_no_size_3", lambda L: L.cross(L.ones(2, 4), L.ones(2, 4))),
    ("cross_ndim", lambda L: L.cross(L.ones(4, 3), L.ones(3), dim=-1)),
    ("cross_size", lambda L: L.cross(L.ones(4, 2), L.ones(4, 2), dim=1)),
    ("cdist_1d", lambda L: L.cdist(L.ones(4), L.ones(5, 4))),
    ("cdist_int", lambda L: L.cdist(L.ones(3, 2, dtype=L.int64), L.ones(5, 2))),
    ("cdist_columns", lambda L: L.cdist(L.ones(3, 4), L.ones(5, 3))),
    ("cdist_negative_p", lambda L: L.cdist(L.ones(3, 4), L.ones(5, 4), p=-1)),
    ("cdist_dtypes", lambda L: L.cdist(L.ones(3, 4), L.ones(5, 4, dtype=L.float64))),
    ("cdist_mode", lambda L: L.cdist(L.ones(3, 4), L.ones(5, 4), compute_mode="bad")),
    ("dist_int", lambda L: L.dist(L.tensor([1, 2]), L.tensor([3, 4]))),
    ("quantile_int", lambda L: L.quantile(L.tensor([1, 2]), 0.3)),
    ("quantile_q_dtype", lambda L: L.quantile(L.ones(3), L.tensor([0.4], dtype=L.float64))),
    ("quantile_q_2d", lambda L: L.quantile(L.ones(3), L.tensor([[0.4]]))),
    ("quantile_q_above", lambda L: L.quantile(L.ones(3), 1.4)),
    ("quantile_q_below", lambda L: L.nanquantile(L.ones(3), L.tensor([0.5, -0.1]))),
    ("quantile_interpolation", lambda L: L.quantile(L.ones(3), 0.3, interpolation="cubic")),
    ("quantile_empty", lambda L: L.quantile(L.zeros(2, 0), 0.3, dim=0)),
    ("quantile_q_list", lambda L: L.quantile(L.ones(3), [0.3, 0.5])),
    ("quantile_interpolation_positional", lambda L: L.quantile(L.ones(3), 0.4, 0, True, "lower")),
    ("trapezoid_bool", lambda L: L.trapezoid(L.tensor([True, False]))),
    ("trapezoid_x_length", lambda L: L.trapezoid(L.ones(3, 4), L.tensor([0.0, 1.0, 3.0]))),
    ("trapezoid_x_and_dx", lambda L: L.trapezoid(L.ones(3), x=L.ones(3), dx=1)),
    ("trapezoid_0d", lambda L: L.trapezoid(L.tensor(1.0))),
    ("cumulative_trapezoid_x_shape",
     lambda L: L.cumulative_trapezoid(L.ones(3, 4), L.ones(2, 1, 4))),
    ("matrix_power_non_square", lambda L: L.matrix_power(L.ones(1, 2), 2)),
    ("matrix_power_1d", lambda L: L.matrix_power(L.ones(2), 2)),
    ("matrix_power_int_inverse", lambda L: L.matrix_power(L.tensor([[1, 1], [1, 0]]), -1)),
    ("matrix_power_int_non_square", lambda L: L.matrix_power(L.ones(2, 3, dtype=L.int64), 2)),
    ("logdet_int", lambda L: L.logdet(L.tensor([[1, 0], [0, 3]]))),
    ("logdet_1d", lambda L: L.logdet(L.ones(2))),
    ("logdet_non_square", lambda L: L.logdet(L.ones(1, 2))),
    ("adjoint_1d", lambda L: L.adjoint(L.ones(4))),
    ("renorm_p", lambda L: L.renorm(L.ones(3, 4), -1, 0, 1.0)),
    ("renorm_maxnorm", lambda L: L.ones(3, 4).renorm(2, 0, -1.0)),
    ("renorm_1d", lambda L: L.ones(3).renorm(2, 0, 1.0)),
    ("renorm_dim", lambda L: L.renorm(L.ones(3, 4), 2, 5, 1.0)),
    ("renorm_int", lambda L: L.renorm(L.ones(2, 3, dtype=L.int64), 2, 0, 1.0)),
    ("sum_to_size_not_expandable", lambda L: L.ones(3, 4).sum_to_size(2, 4)),
    ("sum_to_size_more_dims", lambda L: L.ones(3, 4).sum_to_size(3, 4, 1)),
    ("sum_to_size_no_size", lambda L: L.ones(3, 4).sum_to_size()),
    ("heaviside_dtypes", lambda L: L.heaviside(L.ones(3), L.tensor(0.5, dtype=L.float64))),
    ("heaviside_number", lambda L: L.heaviside(L.ones(3), 0.5)),
    ("gcd_float", lambda L: L.gcd(L.tensor([12.0]), L.tensor([8.0]))),
    ("lcm_bool", lambda L: L.lcm(L.tensor([True]), L.tensor([True]))),
    ("aminmax_empty", lambda L: L.aminmax(L.zeros(0))),
    ("aminmax_empty_dim", lambda L: L.aminmax(L.zeros(3, 0), dim=1)),
    ("aminmax_positional_dim", lambda L: L.aminmax(L.ones(3), 0)),
    ("broadcast_shapes_mismatch", lambda L: L.broadcast_shapes((2, 1), (3, 2))),
    ("broadcast_shapes_negative", lambda L: L.broadcast_shapes((-1,))),
    ("broadcast_shapes_float", lambda L: L.broadcast_shapes((2.0,))),
    ("broadcast_tensors_mismatch", lambda L: L.broadcast_tensors(L.ones(2), L.ones(3))),
    ("scalar_tensor_list", lambda L: L.scalar_tensor([3])),
    ("gradient_edge_order", lambda L: L.gradient(L.ones(4), edge_order=3)),
    ("gradient_too_short", lambda L: L.gradient(L.ones(2), edge_order=2)),
    ("gradient_spacing_length", lambda L: L.gradient(L.ones(3, 4), spacing=[1.0])),
    ("gradient_dim", lambda L: L.gradient(L.ones(3, 4), dim=2)),
    ("gradient_dim_twice", lambda L: L.gradient(L.ones(3, 4), dim=[0, 0])),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,fn", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(name, fn):
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(expected.type):
        fn(cr)


@pytest.mark.parametrize("shapes", [((2, 1), (3,), 1, (1, 1, 1)), ((2, 1), [1, 3]), (),
                                    ((0,), (1,)), (torch.Size([4, 1]), 5)])
def test_broadcast_shapes(shapes):
    got = cr.broadcast_shapes(*[cr.Size(s) if isinstance(s, torch.Size) else s for s in shapes])
    assert isinstance(got, cr.Size) and tuple(got) == tuple(torch.broadcast_shapes(*shapes))


def test_tensor_metadata_matches_torch():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    for view in (lambda t: t, lambda t: t[1:], lambda t: t[:, 2], lambda t: t.t(),
                 lambda t: t[1:][2:, 3:], lambda t: t.view(-1)[5:], lambda t: t[2]):
        c, t = view(cr.tensor(base)), view(torch.tensor(base))
        assert c.storage_offset() == t.storage_offset()
        assert (c.nbytes, c.itemsize, c.ndimension(), c.get_device(), c.is_complex()) == \
            (t.nbytes, t.itemsize, t.ndimension(), t.get_device(), t.is_complex())
    c = cr.tensor(base)
    assert c[2].data_ptr() - c.data_ptr() == 2 * 6 * 4 and c.data_ptr() == c[0].data_ptr()
    assert cr.zeros(0).data_ptr() == torch.zeros(0).data_ptr() == 0
    assert c.real is c and cr.real(c) is c and not cr.is_complex(c)
    assert c.sum_to_size(4, 6) is c and torch.tensor(base).sum_to_size(4, 6) is not None
    assert cr.tensor(2.0, dtype=cr.float64).itemsize == 8


def test_casts_do_not_carry_the_graph():
    x = cr.tensor([1.5, -2.0], requires_grad=True)
    assert [t.dtype for t in (x.byte(), x.short(), x.char())] == [cr.uint8, cr.int16, cr.int8]
    assert not x.char().requires_grad and x.real.requires_grad


def test_cross_without_dim_warns_and_takes_the_first_size_3_dim():
    a, b = x(3, 4, 3), x(3, 4, 3)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        got = cr.cross(cr.tensor(a), cr.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_heaviside_backward_raises_as_torch():
    for lib in (cr, torch):
        v = lib.tensor([0.5], requires_grad=True)
        out = lib.heaviside(lib.tensor([-1.0, 0.0, 2.0], requires_grad=True), v)
        assert out.requires_grad
        with pytest.raises(RuntimeError, match="heaviside"):
            out.sum().backward()
    plain = cr.heaviside(cr.tensor([1.0]), cr.tensor([0.0]))
    assert plain.grad_fn is None and not plain.requires_grad


def test_scalar_tensor_requires_grad():
    assert cr.scalar_tensor(3.0, requires_grad=True).requires_grad
    assert cr.scalar_tensor(3.0, dtype=cr.float64).dtype == cr.float64


def test_erfc_is_accurate_in_the_tail():
    """1 − erf(x) would round to 0 long before erfc does."""
    for dtype in (np.float32, np.float64):
        v = np.array([5.0, 9.0, 10.0, 26.0], dtype)
        np.testing.assert_allclose(cr.erfc(cr.tensor(v)).numpy(),
                                   torch.erfc(torch.tensor(v)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", [cr.erfc, lambda a: cr.quantile(a, 0.3, dim=0),
                                lambda a: cr.cdist(a, a.flip(0) * 2),
                                lambda a: cr.renorm(a, 3, 1, 0.5),
                                lambda a: cr.cumulative_trapezoid(a, dx=0.2)])
def test_finite_differences(fn):
    finite_difference_check(fn, x(4, 3))


def test_jvp_matches_torch():
    check_jvp(cr.erfc, torch.erfc, x(5))
    check_jvp(lambda a, q: cr.quantile(a, q, dim=1), lambda a, q: torch.quantile(a, q, dim=1),
              x(3, 5), np.array([0.2, 0.9]))
    check_jvp(lambda a, b: cr.trapezoid(a, b), lambda a, b: torch.trapezoid(a, b), x(2, 4), x(4))


@pytest.mark.parametrize("name,fn,arrays", [
    ("erfc_", lambda L, a: a.erfc_(), [x(3)]),
    ("renorm_", lambda L, a: a.renorm_(2, 0, 1.0), [x(3, 4) * 2]),
    ("heaviside_", lambda L, a: a.heaviside_(L.tensor([0.5], dtype=a.dtype)),
     [np.array([-1.0, 0.0, 2.0])]),
    ("gcd_", lambda L, a: a.gcd_(L.tensor([4])), [ints(6, 9, 12)]),
    ("lcm_", lambda L, a: a.lcm_(L.tensor([4])), [ints(6, 9, 12)]),
])
def test_in_place_matches_torch(name, fn, arrays):
    c, t = cr.tensor(arrays[0]), torch.tensor(arrays[0])
    assert fn(cr, c) is c and fn(torch, t) is t
    np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12)


def test_gradient_refuses_coordinates_of_another_length():
    # torch broadcasts them and returns a tensor of another shape than the input's
    with pytest.raises(RuntimeError,
                       match="coordinates of dim 0 must be a 1-D tensor of its size 3"):
        cr.gradient(cr.ones(3, 4), spacing=[cr.arange(4.0), cr.arange(3.0)])
    assert cr.gradient(cr.tensor([1, 2, 4]))[0].dtype == cr.float32   # integers: the default dtype


def test_typename_as_torch():
    for make in (lambda L: L.ones(2), lambda L: L.ones(2, dtype=L.int64), lambda L: 3,
                 lambda L: None, lambda L: [1], lambda L: L.ones(2, dtype=L.bool)):
        assert cr.typename(make(cr)).replace("chainrule", "torch") == torch.typename(make(torch))
    assert cr.typename(cr.nn.Linear(2, 2)) == "chainrule.nn.modules.linear.Linear"
    assert (cr.typename(cr.nn.Linear)
            == torch.typename(torch.nn.Linear).replace("torch", "chainrule"))


@pytest.mark.parametrize("mode", ["default", "warn", "error", 0, 1, 2, "bad", 3, 1.5])
def test_deterministic_debug_mode_as_torch(mode):
    def outcome(L):
        try:
            L.set_deterministic_debug_mode(mode)
        except Exception as e:
            return type(e), str(e)
        try:
            return (L.get_deterministic_debug_mode(), L.are_deterministic_algorithms_enabled(),
                    L.is_deterministic_algorithms_warn_only_enabled())
        finally:
            L.set_deterministic_debug_mode(0)
    assert outcome(cr) == outcome(torch)


INDEX_REDUCE = [  # (dim, index, input shape, source shape, reduce, include_self)
    (0, [0, 2, 2, 4], (5, 3), (4, 3), "prod", True),
    (0, [0, 2, 2, 4], (5, 3), (4, 3), "prod", False),
    (1, [1, 0, 1], (2, 3), (2, 3), "mean", True), (1, [1, 0, 1], (2, 3), (2, 3), "mean", False),
    (0, [0, 2, 2, 4], (5, 3), (4, 3), "amax", True), (0, [1, 1], (3, 2), (2, 2), "amin", False),
    (-1, [2, 0], (2, 2, 3), (2, 2, 2), "amax", False)]


@pytest.mark.filterwarnings("ignore::UserWarning")   # torch: "index_reduce() is in beta"
@pytest.mark.parametrize("dim,index,shape,src_shape,reduce,include_self", INDEX_REDUCE)
def test_index_reduce_as_torch(dim, index, shape, src_shape, reduce, include_self):
    def fn(L, t, s):
        return t.index_reduce(dim, L.tensor(index), s, reduce, include_self=include_self)
    arrays = [x(*shape), x(*src_shape)]
    check(lambda *a: fn(cr, *a), lambda *a: fn(torch, *a), *arrays, double=reduce == "prod")
    finite_difference_check(lambda *a: fn(cr, *a), *arrays)
    t, s = (cr.tensor(a, requires_grad=True) for a in arrays)
    assert cr.index_reduce(t, dim, cr.tensor(index), s, reduce).grad_fn.name() == \
        "IndexReduceBackward0"
    y = t.detach().clone()
    assert y.index_reduce_(dim, cr.tensor(index), s.detach(), reduce,
                           include_self=include_self) is y
    np.testing.assert_array_equal(y.numpy(), fn(cr, t, s).detach().numpy())


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("call", [
    lambda L: L.ones(3, 5).index_reduce(1, L.tensor([0, 1]), L.ones(3, 2), "sum"),
    lambda L: L.ones(3, 5).index_reduce(1, L.tensor([0.0, 1.0]), L.ones(3, 2), "prod"),
    lambda L: L.ones(3, 5).index_reduce(1, L.tensor([0, 1, 2]), L.ones(3, 2), "prod"),
    lambda L: L.ones(3, 5).index_reduce(1, L.tensor([0, 1]), L.ones(2, 2), "prod"),
    lambda L: L.ones(3, 5).index_reduce(1, L.tensor([0, 7]), L.ones(3, 2), "amax")])
def test_index_reduce_errors_as_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type):
        call(cr)
