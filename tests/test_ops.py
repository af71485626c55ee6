"""Every differentiable primitive of the core against torch (values, gradients, double
backward) and finite differences; broadcasting, 0-d, empty and non-contiguous inputs."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr
from oracle import check, finite_difference_check

R = np.random.default_rng(0)


def x(*shape, lo=None, dtype=np.float64):
    a = R.standard_normal(shape)
    if lo is not None:  # a positive domain (log, sqrt, ...)
        a = np.abs(a) + lo
    return a.astype(dtype)


def u(*shape, lo=-0.9, hi=0.9):
    """Uniform in (lo, hi): the domain of asin, acos, atanh, erfinv."""
    return R.uniform(lo, hi, shape)


# (id, chainrule fn, torch fn, input arrays, double-backward?)
UNARY = [
    ("neg", lambda a: -a, lambda a: -a, [x(3, 4)], False),
    ("exp", cr.exp, torch.exp, [x(3, 4)], True),
    ("log", cr.log, torch.log, [x(3, 4, lo=0.5)], True),
    ("log1p", cr.log1p, torch.log1p, [x(3, 4, lo=0.1)], True),
    ("expm1", cr.expm1, torch.expm1, [x(3, 4)], True),
    ("sqrt", cr.sqrt, torch.sqrt, [x(3, 4, lo=0.5)], True),
    ("rsqrt", cr.rsqrt, torch.rsqrt, [x(3, 4, lo=0.5)], True),
    ("abs", cr.abs, torch.abs, [x(3, 4)], False),
    ("sign", cr.sign, torch.sign, [x(3, 4)], False),
    ("sin", cr.sin, torch.sin, [x(3, 4)], True),
    ("cos", cr.cos, torch.cos, [x(3, 4)], True),
    ("tanh", cr.tanh, torch.tanh, [x(3, 4)], True),
    ("sigmoid", cr.sigmoid, torch.sigmoid, [x(3, 4)], True),
    ("relu", cr.relu, torch.relu, [x(3, 4)], False),
    ("erf", cr.erf, torch.erf, [x(3, 4)], True),
    ("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [x(3, 4)], True),
    ("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, [x(3, 4, lo=0.5)], True),
    ("pow_neg", lambda a: a ** -2, lambda a: a ** -2, [x(3, 4, lo=0.5)], True),
    ("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [x(3, 4)], True),
    ("clamp", lambda a: a.clamp(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [x(3, 4)], False),
    ("clamp_min", lambda a: cr.clamp(a, min=0.1), lambda a: torch.clamp(a, min=0.1), [x(3, 4)], False),
    ("square", lambda a: a.square(), lambda a: a.square(), [x(3, 4)], True),
    ("tan", cr.tan, torch.tan, [u(3, 4, lo=-1.2, hi=1.2)], True),
    ("asin", cr.asin, torch.asin, [u(3, 4)], True),
    ("acos", lambda a: a.acos(), lambda a: a.acos(), [u(3, 4)], True),
    ("atan", cr.atan, torch.atan, [x(3, 4)], True),
    ("sinh", cr.sinh, torch.sinh, [x(3, 4)], True),
    ("cosh", lambda a: a.cosh(), lambda a: a.cosh(), [x(3, 4)], True),
    ("asinh", cr.asinh, torch.asinh, [x(3, 4)], True),
    ("acosh", cr.acosh, torch.acosh, [x(3, 4, lo=1.2)], True),
    ("atanh", lambda a: a.atanh(), lambda a: a.atanh(), [u(3, 4)], True),
    ("trunc", cr.trunc, torch.trunc, [x(3, 4) * 3], False),
    ("frac", lambda a: a.frac(), lambda a: a.frac(), [x(3, 4) * 3], False),
    ("log2", cr.log2, torch.log2, [x(3, 4, lo=0.5)], True),
    ("log10", lambda a: a.log10(), lambda a: a.log10(), [x(3, 4, lo=0.5)], True),
    ("exp2", cr.exp2, torch.exp2, [x(3, 4)], True),
    ("erfinv", cr.erfinv, torch.erfinv, [u(3, 4, lo=-0.99, hi=0.99)], True),
]

BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [x(3, 4), x(4)], False),
    ("add_alpha", lambda a, b: cr.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5), [x(3, 1), x(1, 4)], False),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [x(2, 3, 4), x(3, 1)], False),
    ("rsub", lambda a: 3.0 - a, lambda a: 3.0 - a, [x(3)], False),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [x(3, 4), x(3, 4)], True),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [x(3, 4), x(4, lo=0.5)], True),
    ("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [x(4, lo=0.5)], True),
    ("pow", lambda a, b: a ** b, lambda a, b: a ** b, [x(3, 4, lo=0.5), x(3, 4)], True),
    ("maximum", cr.maximum, torch.maximum, [x(3, 4), x(4)], False),
    ("minimum", cr.minimum, torch.minimum, [x(3, 4), x(3, 1)], False),
    ("maximum_ties", cr.maximum, torch.maximum, [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])], False),
    ("where", lambda a, b: cr.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b), [x(3, 4), x(4)], True),
    ("atan2", cr.atan2, torch.atan2, [x(3, 4), x(4)], True),
    ("copysign", cr.copysign, torch.copysign, [x(3, 4), x(4)], True),
    ("fmod", cr.fmod, torch.fmod, [x(3, 4) * 3, x(4, lo=0.5)], True),
    ("remainder", cr.remainder, torch.remainder, [x(3, 4) * 3, x(4, lo=0.5)], True),
    ("hypot", lambda a, b: a.hypot(b), lambda a, b: a.hypot(b), [x(3, 4), x(3, 1)], True),
    ("logaddexp", cr.logaddexp, torch.logaddexp, [x(3, 4), x(4)], True),
    ("logaddexp2", cr.logaddexp2, torch.logaddexp2, [x(3, 4), x(3, 1)], True),
    ("xlogy", cr.xlogy, torch.xlogy, [x(3, 4), x(4, lo=0.5)], True),
    ("xlogy_zeros", cr.xlogy, torch.xlogy, [np.array([0.0, 1.5, 0.0, -2.0]), np.array([0.5, 2.0, 3.0, 0.7])], True),
    ("lerp", lambda a, b: cr.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), [x(3, 4), x(4)], True),
    ("lerp_far_weight", lambda a, b: a.lerp(b, 0.8), lambda a, b: a.lerp(b, 0.8), [x(3, 4), x(3, 4)], True),
    ("lerp_tensor_weight", cr.lerp, torch.lerp, [x(3, 4), x(4), u(3, 1, lo=-0.5, hi=1.5)], True),
    ("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, [x(3, 4), x(4, 5)], True),
    ("matmul_1d_1d", lambda a, b: a @ b, lambda a, b: a @ b, [x(4), x(4)], True),
    ("matmul_1d_2d", lambda a, b: a @ b, lambda a, b: a @ b, [x(4), x(4, 5)], True),
    ("matmul_2d_1d", lambda a, b: a @ b, lambda a, b: a @ b, [x(3, 4), x(4)], True),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, [x(2, 3, 4), x(2, 4, 5)], True),
    ("matmul_broadcast", lambda a, b: a @ b, lambda a, b: a @ b, [x(2, 1, 3, 4), x(5, 4, 2)], True),
    ("matmul_shared_weight", lambda a, b: a @ b, lambda a, b: a @ b, [x(2, 3, 4), x(4, 5)], True),
    ("matmul_1d_batched", lambda a, b: a @ b, lambda a, b: a @ b, [x(4), x(2, 4, 5)], True),
    ("outer", cr.outer, torch.outer, [x(3), x(4)], True),
    ("mm", cr.mm, torch.mm, [x(2, 3), x(3, 2)], True),
    ("bmm", cr.bmm, torch.bmm, [x(2, 2, 3), x(2, 3, 2)], True),
    ("mv", cr.mv, torch.mv, [x(2, 3), x(3)], True),
    ("dot", cr.dot, torch.dot, [x(3), x(3)], True),
]

REDUCTIONS = [
    ("sum_all", lambda a: a.sum(), lambda a: a.sum()),
    ("sum_dim", lambda a: a.sum(1), lambda a: a.sum(1)),
    ("sum_tuple_keepdim", lambda a: a.sum((0, -1), keepdim=True), lambda a: a.sum((0, -1), keepdim=True)),
    ("mean_all", lambda a: a.mean(), lambda a: a.mean()),
    ("mean_neg_dim", lambda a: a.mean(-2), lambda a: a.mean(-2)),
    ("prod_all", lambda a: a.prod(), lambda a: a.prod()),
    ("prod_dim", lambda a: a.prod(1, keepdim=True), lambda a: a.prod(1, keepdim=True)),
    ("amax", lambda a: a.amax(1), lambda a: a.amax(1)),
    ("amin_tuple", lambda a: a.amin((0, 2)), lambda a: a.amin((0, 2))),
    ("max_all", lambda a: a.max(), lambda a: a.max()),
    ("min_all", lambda a: a.min(), lambda a: a.min()),
    ("max_dim_values", lambda a: a.max(1)[0], lambda a: a.max(1)[0]),
    ("min_dim_keepdim", lambda a: a.min(-1, keepdim=True).values, lambda a: a.min(-1, keepdim=True).values),
    ("var", lambda a: a.var(), lambda a: a.var()),
    ("var_dim_correction0", lambda a: a.var(1, correction=0), lambda a: a.var(1, correction=0)),
    ("var_unbiased_false", lambda a: a.var(0, False, True), lambda a: a.var(0, False, True)),
    ("std_tuple", lambda a: a.std((0, 2)), lambda a: a.std((0, 2))),
    ("logsumexp", lambda a: a.logsumexp(1), lambda a: a.logsumexp(1)),
    ("logsumexp_tuple", lambda a: cr.logsumexp(a, (0, 2), keepdim=True), lambda a: torch.logsumexp(a, (0, 2), keepdim=True)),
    ("softmax", lambda a: a.softmax(1), lambda a: a.softmax(1)),
    ("log_softmax", lambda a: a.log_softmax(-1), lambda a: a.log_softmax(-1)),
    ("cumsum", lambda a: a.cumsum(1), lambda a: a.cumsum(1)),
    ("cumprod", lambda a: a.cumprod(1), lambda a: a.cumprod(1)),
    ("cumprod_neg_dim", lambda a: cr.cumprod(a, -1), lambda a: torch.cumprod(a, -1)),
    ("logcumsumexp", lambda a: a.logcumsumexp(-1), lambda a: a.logcumsumexp(-1)),
    ("logcumsumexp_dim0", lambda a: cr.logcumsumexp(a, 0), lambda a: torch.logcumsumexp(a, 0)),
]

SHAPE = [
    ("reshape", lambda a: a.reshape(4, 6), lambda a: a.reshape(4, 6)),
    ("view_infer", lambda a: a.view(-1, 3), lambda a: a.view(-1, 3)),
    ("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1)),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2)),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1)),
    ("T", lambda a: a.T, lambda a: a.permute(2, 1, 0)),
    ("squeeze", lambda a: a[:, :1].squeeze(1), lambda a: a[:, :1].squeeze(1)),
    ("squeeze_all", lambda a: a[:1, :1].squeeze(), lambda a: a[:1, :1].squeeze()),
    ("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1)),
    ("expand", lambda a: a[:, :1].expand(2, 5, 4), lambda a: a[:, :1].expand(2, 5, 4)),
    ("broadcast_to", lambda a: cr.broadcast_to(a, (3, 2, 3, 4)), lambda a: torch.broadcast_to(a, (3, 2, 3, 4))),
    ("repeat", lambda a: a.repeat(2, 1, 1, 2), lambda a: a.repeat(2, 1, 1, 2)),
    ("cat", lambda a: cr.cat([a, a * 2], 1), lambda a: torch.cat([a, a * 2], 1)),
    ("stack", lambda a: cr.stack([a, a.exp()], -1), lambda a: torch.stack([a, a.exp()], -1)),
    ("split", lambda a: a.split(2, 2)[1], lambda a: a.split(2, 2)[1]),
    ("split_sizes", lambda a: a.split([1, 2], 1)[1], lambda a: a.split([1, 2], 1)[1]),
    ("chunk", lambda a: a.chunk(3, -1)[-1], lambda a: a.chunk(3, -1)[-1]),
    ("pad", lambda a: cr.pad(a, (1, 2, 0, 1)), lambda a: torch.nn.functional.pad(a, (1, 2, 0, 1))),
    ("pad_value", lambda a: cr.pad(a, (1, 1), value=2.0), lambda a: torch.nn.functional.pad(a, (1, 1), value=2.0)),
    ("pad_crop", lambda a: cr.pad(a, (-1, 2, 1, -1)), lambda a: torch.nn.functional.pad(a, (-1, 2, 1, -1))),
    ("pad_reflect", lambda a: cr.pad(a, (2, 1), mode="reflect"), lambda a: torch.nn.functional.pad(a, (2, 1), mode="reflect")),
    ("pad_replicate", lambda a: cr.pad(a, (2, 1), mode="replicate"), lambda a: torch.nn.functional.pad(a, (2, 1), mode="replicate")),
    ("pad_circular", lambda a: cr.pad(a, (2, 1), mode="circular"), lambda a: torch.nn.functional.pad(a, (2, 1), mode="circular")),
    ("tril", lambda a: a.tril(), lambda a: a.tril()),
    ("triu_k", lambda a: cr.triu(a, 1), lambda a: torch.triu(a, 1)),
    ("flip", lambda a: a.flip((0, 2)), lambda a: a.flip((0, 2))),
    ("masked_fill", lambda a: a.masked_fill(a > 0.5, -1.0), lambda a: a.masked_fill(a > 0.5, -1.0)),
    ("clone", lambda a: a.clone(), lambda a: a.clone()),
    ("unbind", lambda a: a.unbind(1)[2], lambda a: a.unbind(1)[2]),
    ("narrow", lambda a: a.narrow(2, 1, 2), lambda a: a.narrow(2, 1, 2)),
]

INDEX = [
    ("int", lambda a: a[1], lambda a: a[1]),
    ("slice_step", lambda a: a[:, 1:3, ::2], lambda a: a[:, 1:3, ::2]),
    ("none_ellipsis", lambda a: a[None, ..., 1], lambda a: a[None, ..., 1]),
    ("neg_int", lambda a: a[-1, -2], lambda a: a[-1, -2]),
    ("bool_mask", lambda a: a[a > 0], lambda a: a[a > 0]),
    ("int_array_repeats", lambda a: a[[0, 1, 1, 0]], lambda a: a[[0, 1, 1, 0]]),
    ("int_tensor_2d", lambda a: a[:, cr.tensor([[0, 2], [2, 2]])], lambda a: a[:, torch.tensor([[0, 2], [2, 2]])]),
    ("mixed", lambda a: a[1:, [0, 2], 1], lambda a: a[1:, [0, 2], 1]),
    ("gather", lambda a: a.gather(1, cr.tensor([[[0, 1, 1, 0]], [[2, 2, 0, 1]]])),
     lambda a: a.gather(1, torch.tensor([[[0, 1, 1, 0]], [[2, 2, 0, 1]]]))),
    ("index_select", lambda a: a.index_select(2, cr.tensor([3, 0, 3])),
     lambda a: a.index_select(2, torch.tensor([3, 0, 3]))),
    ("scatter_add", lambda a: a.scatter_add(1, cr.tensor([[[0, 1, 1, 0]], [[2, 2, 0, 1]]]), a[:, :1] * 3),
     lambda a: a.scatter_add(1, torch.tensor([[[0, 1, 1, 0]], [[2, 2, 0, 1]]]), a[:, :1] * 3)),
]


@pytest.mark.parametrize("case", UNARY + BINARY, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_and_matmul(case, dtype):
    _, fc, ft, arrays, double = case
    check(fc, ft, *[a.astype(dtype) for a in arrays], double=double and dtype == np.float64,
          scale=10 if "matmul" in case[0] or case[0] in ("bmm", "mm", "dot") else 1)


@pytest.mark.parametrize("case", REDUCTIONS, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reductions(case, dtype):
    _, fc, ft = case
    check(fc, ft, x(2, 3, 4, dtype=dtype), double=dtype == np.float64, scale=10)


@pytest.mark.parametrize("case", SHAPE + INDEX, ids=lambda c: c[0])
def test_shape_and_indexing(case):
    _, fc, ft = case
    check(fc, ft, x(2, 3, 4), double=True)


# sign has a zero derivative and maximum_ties samples its kink: both are checked against torch
SMOOTH = [c for c in UNARY + BINARY if c[0] not in ("sign", "maximum_ties")]


@pytest.mark.parametrize("case", SMOOTH, ids=lambda c: c[0])
def test_finite_differences_elementwise(case):
    _, fc, _, arrays, _ = case
    finite_difference_check(fc, *[a[..., :3] if a.ndim and a.shape[-1] > 3 and case[0][:6] not in ("matmul", "mm", "bmm", "mv", "dot", "outer") else a for a in arrays])


@pytest.mark.parametrize("case", REDUCTIONS + SHAPE + INDEX, ids=lambda c: c[0])
def test_finite_differences_reductions_shapes_indexing(case):
    finite_difference_check(case[1], x(2, 3, 4))


def test_prod_with_zeros_matches_torch():
    a = x(3, 4)
    a[1, 2] = 0.0
    a[2, 0] = a[2, 3] = 0.0
    for fc, ft in [(lambda t: t.prod(1), lambda t: t.prod(1)), (lambda t: t.prod(), lambda t: t.prod()),
                   (lambda t: t.prod(0), lambda t: t.prod(0))]:
        check(fc, ft, a)


def test_amax_ties_share_gradient_and_max_dim_picks_first():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    check(lambda t: t.amax(1), lambda t: t.amax(1), a)
    check(lambda t: t.max(), lambda t: t.max(), a)
    check(lambda t: t.max(1).values, lambda t: t.max(1).values, a)
    assert cr.tensor(a).max(1).indices.tolist() == torch.tensor(a).max(1).indices.tolist()
    assert cr.tensor(a).argmin(1).tolist() == torch.tensor(a).argmin(1).tolist()
    assert cr.tensor(a).argmax().item() == torch.tensor(a).argmax().item()


@settings(max_examples=25, deadline=None, derandomize=True)  # the same cases on every run
@given(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=3))
def test_broadcasting_binary_ops(shapes):
    a, b = (R.standard_normal(s) for s in shapes.input_shapes)
    for fc, ft in [(lambda p, q: p * q + p, lambda p, q: p * q + p), (lambda p, q: p - q, lambda p, q: p - q),
                   (cr.maximum, torch.maximum)]:
        check(fc, ft, a, b)


@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (1,), (1, 1), (0, 2, 1)])
def test_zero_dim_and_empty(shape):
    a = R.standard_normal(shape)
    for fc, ft in [(lambda t: (t * t).sum(), lambda t: (t * t).sum()), (lambda t: t.exp() * 2, lambda t: t.exp() * 2),
                   (lambda t: t.reshape(-1), lambda t: t.reshape(-1)), (lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(0)),
                   (lambda t: t.sum(-1) if t.ndim else t.sum(), lambda t: t.sum(-1) if t.ndim else t.sum())]:
        check(fc, ft, a)


def test_non_contiguous_inputs():
    a = x(4, 5)
    for fc, ft in [(lambda t: t.T @ t[:, ::2], lambda t: t.T @ t[:, ::2]),
                   (lambda t: (t.T[1:, ::2].exp() * t.T[1:, ::2]).sum(0), lambda t: (t.T[1:, ::2].exp() * t.T[1:, ::2]).sum(0)),
                   (lambda t: t.T.softmax(0), lambda t: t.T.softmax(0)),
                   (lambda t: t.T.reshape(-1), lambda t: t.T.reshape(-1))]:
        check(fc, ft, a, double=True)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stability_at_1e4(fn, dtype):
    a = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4, -1e4, -1e4 + 2.0]], dtype)
    fc = (lambda t: getattr(cr, fn)(t, 1))
    ft = (lambda t: getattr(torch, fn)(t, 1))
    out = fc(cr.tensor(a))
    assert np.all(np.isfinite(out.numpy()))
    check(fc, ft, a)


def test_cast_gradients_and_promotion():
    check(lambda t: (t.float() * 2).double().sum(), lambda t: (t.float() * 2).double().sum(), x(3))
    check(lambda t: t * cr.tensor([1, 2, 3]), lambda t: t * torch.tensor([1, 2, 3]), x(3, dtype=np.float32))



# ---------------------------------------------------------------------------- edge shapes, every op
# positive operands keep log/sqrt/pow/div in their domain; sign and ties are covered above
ELEMENTWISE = [c for c in UNARY + BINARY if not any(k in c[0] for k in ("matmul", "mm", "mv", "dot", "outer"))]


@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (1,), (1, 1)], ids=str)
@pytest.mark.parametrize("case", ELEMENTWISE, ids=lambda c: c[0])
def test_every_elementwise_op_on_0d_empty_and_size1(case, shape):
    _, fc, ft, arrays, double = case
    check(fc, ft, *[np.asarray(np.abs(R.standard_normal(shape)) + 0.5) for _ in arrays], double=double)


def _strided(t):
    """A transposed, strided view (6, 4) -> (3, 4); asserts chainrule really got one."""
    v = t.T[::2]
    assert not isinstance(v, cr.Tensor) or not v._data.flags.c_contiguous
    return v


@pytest.mark.parametrize("case", ELEMENTWISE, ids=lambda c: c[0])
def test_every_elementwise_op_on_non_contiguous_inputs(case):
    """The op reads a transposed, strided view of each input (values, gradients through the
    view, double backward); and cr.as_tensor of a strided NumPy view, which keeps its strides."""
    _, fc, ft, arrays, double = case
    positive = all(a.min() > 0 for a in arrays)
    bases = [R.standard_normal((4, 6)) for _ in arrays]
    bases = [np.abs(b) + 0.5 if positive else b for b in bases]
    check(lambda *ts: fc(*map(_strided, ts)), lambda *ts: ft(*map(_strided, ts)), *bases, double=double)
    views = [b.T[::2] for b in bases]
    ts = [cr.as_tensor(v) for v in views]
    assert not ts[0]._data.flags.c_contiguous
    np.testing.assert_allclose(fc(*ts).numpy(), ft(*[torch.as_tensor(v) for v in views]).numpy(), rtol=1e-12)


_LAYOUTS = {   # (base shape, view) pairs giving (2, 3, 4) views that are not C-contiguous
    "transposed": ((3, 4, 2), lambda t: t.permute(2, 0, 1)),
    "sliced": ((2, 6, 8), lambda t: t[:, ::2, ::2]),
}


@pytest.mark.parametrize("case", REDUCTIONS + SHAPE + INDEX, ids=lambda c: c[0])
@pytest.mark.parametrize("layout", list(_LAYOUTS))
def test_reductions_shapes_indexing_on_non_contiguous_inputs(case, layout):
    _, fc, ft = case
    shape, view = _LAYOUTS[layout]
    assert not view(cr.zeros(*shape))._data.flags.c_contiguous
    if case[0] == "view_infer":   # no view exists for these strides: test_view_shares_memory_or_refuses
        fc = ft = (lambda t: t.reshape(-1, 3))
    check(lambda t: fc(view(t)), lambda t: ft(view(t)), R.standard_normal(shape), double=True, scale=10)


DIM_OPS = [   # reductions and shape ops with negative dims, on shapes with size-0 and size-1 dims
    ("sum", lambda t: t.sum(-1)), ("sum_keepdim", lambda t: t.sum(-2, keepdim=True)), ("sum_all", lambda t: t.sum()),
    ("mean", lambda t: t.mean(-2)), ("prod", lambda t: t.prod(-1)), ("prod_all", lambda t: t.prod()),
    ("var", lambda t: t.var(-1)), ("std_correction0", lambda t: t.std(-2, correction=0)),
    ("logsumexp", lambda t: t.logsumexp(-1)), ("softmax", lambda t: t.softmax(-1)),
    ("log_softmax", lambda t: t.log_softmax(-2)), ("cumsum", lambda t: t.cumsum(-1)),
    ("cumprod", lambda t: t.cumprod(-1)), ("logcumsumexp", lambda t: t.logcumsumexp(-2)),
    ("flatten", lambda t: t.flatten()), ("transpose", lambda t: t.transpose(-1, -2)),
    ("unsqueeze", lambda t: t.unsqueeze(-3)), ("squeeze", lambda t: t.squeeze(-1)),
    ("expand", lambda t: t.expand(2, -1, -1)), ("repeat", lambda t: t.repeat(1, 2)),
    ("tril", lambda t: t.tril(-1)), ("split", lambda t: t.split(1, -2)[0] if t.shape[-2] else t),
    ("chunk", lambda t: t.chunk(2, -2)[0]), ("flip", lambda t: t.flip(-1)), ("permute", lambda t: t.permute(-1, 0)),
]


@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (1, 4), (0, 3), (3, 0), (0, 0)], ids=str)
@pytest.mark.parametrize("case", DIM_OPS, ids=lambda c: c[0])
def test_dim_ops_on_size0_and_size1_dims(case, shape):
    """var/std over one element are NaN in torch too (N − 1 = 0): NaNs must sit in the same places."""
    check(case[1], case[1], R.standard_normal(shape), double=True, scale=10)


@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (1, 4)], ids=str)
@pytest.mark.parametrize("fn", [lambda t: t.amax(-1), lambda t: t.amin((-1, -2)), lambda t: t.max(-2).values,
                                lambda t: t.min(-1, keepdim=True)[0], lambda t: t.max()])
def test_max_min_on_size1_dims(fn, shape):
    check(fn, fn, R.standard_normal(shape), double=True)


BROADCAST_BINARY = [c for c in BINARY if c[0] in
                    ("add", "add_alpha", "sub", "mul", "div", "pow", "maximum", "minimum", "where")]


def test_broadcast_selection_is_real():
    assert len(BROADCAST_BINARY) == 9


@settings(max_examples=25, deadline=None, derandomize=True)  # the same cases on every run
@given(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=3))
def test_broadcasting_every_binary_op(shapes):
    """Each binary primitive's VJP must undo the broadcast (sum over the expanded dims)."""
    a, b = (R.standard_normal(s) for s in shapes.input_shapes)
    for name, fc, ft, _, double in BROADCAST_BINARY:
        args = (np.abs(a) + 0.5, np.abs(b) + 0.5) if name in ("pow", "div") else (a, b)  # in the domain
        check(fc, ft, *args, double=double)


@settings(max_examples=25, deadline=None, derandomize=True)  # the same cases on every run
@given(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_matmul_broadcasts_batch_dims(batch, n, k, m):
    """Hypothesis batch shapes for (…, n, k) @ (…, k, m): each gradient sums over the batch dims
    its operand was broadcast along."""
    sa, sb = batch.input_shapes
    check(lambda p, q: p @ q, lambda p, q: p @ q, R.standard_normal(sa + (n, k)),
          R.standard_normal(sb + (k, m)), double=True, scale=10)


def test_std_of_a_constant_group_has_zero_gradient_like_torch():
    """√var has an infinite slope at var = 0; torch defines std's derivative there as 0 (not
    NaN), in reverse and forward mode. Only the constant row is affected."""
    a = np.array([[1.5, 1.5, 1.5], [1.0, 2.0, 4.0]])
    for fn in [lambda t: t.std(1), lambda t: t.std(-1, keepdim=True, correction=0),
               lambda t: t[:1].std(), lambda t: t[:, :1].std(1, correction=0)]:
        check(fn, fn, a)
        _, jv_c = cr.func.jvp(fn, (cr.tensor(a),), (cr.tensor(a[::-1].copy()),))
        _, jv_t = torch.func.jvp(fn, (torch.tensor(a),), (torch.tensor(a[::-1].copy()),))
        np.testing.assert_allclose(jv_c.numpy(), jv_t.numpy(), rtol=1e-12, atol=1e-12)
    g = cr.tensor(a, requires_grad=True)
    g.std(1).sum().backward()
    assert g.grad[0].tolist() == [0.0, 0.0, 0.0]
    finite_difference_check(lambda t: t[1:].std(1), a)   # the non-constant row, unchanged


def test_max_min_of_a_0d_tensor_along_dim_like_torch():
    for fn in [lambda t: t.max(0).values * 3, lambda t: t.min(-1, keepdim=True).values]:
        check(fn, fn, np.array(2.5))
    assert cr.tensor(2.5).max(0).indices.item() == 0 and cr.tensor(2.5).max(0).indices.ndim == 0


def test_view_shares_memory_or_refuses():
    """view is reshape without a copy: writes through a view reach the base, and strides no
    view can express raise (as torch) instead of silently copying."""
    for lib in (cr, torch):
        base = lib.zeros(2, 3)
        base.view(3, 2)[0, 1] = 5.0
        base[:, :1].view(2)[1] = 7.0                      # strided, yet a view exists
        assert base.tolist() == [[0.0, 5.0, 0.0], [7.0, 0.0, 0.0]]
        with pytest.raises(RuntimeError, match="view size is not compatible|view: size .* is not compatible"):
            base.T.view(6)
        assert base.T.reshape(6).tolist() == [0.0, 7.0, 5.0, 0.0, 0.0, 0.0]   # reshape copies instead


def test_in_place_random_fills_draw_from_the_default_generators_stream():
    """x.uniform_() and cr.rand share one stream: reseeding replays both, in order."""
    runs = []
    for _ in range(2):
        cr.manual_seed(7)
        runs.append([cr.empty(5).uniform_(-1, 1).tolist(), cr.rand(5).tolist(),
                     cr.empty(4).normal_().tolist(), cr.get_rng_state().tolist()])
    assert runs[0] == runs[1]
    g = cr.Generator().manual_seed(3)
    mine = cr.empty(6).uniform_(generator=g).tolist()
    assert mine == cr.empty(6).uniform_(generator=cr.Generator().manual_seed(3)).tolist()
    with pytest.raises(TypeError, match="generator must be a chainrule.Generator"):
        cr.empty(2).uniform_(generator=object())



# ---------------------------------------------------------------------------- issue 14 extras
_SPECIAL = np.array([0.0, -0.0, -1.5, np.inf, -np.inf, np.nan, 2.0, 1e-9])
PREDICATES = [   # (id, chainrule fn, torch fn, arrays): bool tensors (or Python bools), no gradient
    ("isfinite", cr.isfinite, torch.isfinite, [_SPECIAL]),
    ("isnan", lambda a: a.isnan(), lambda a: a.isnan(), [_SPECIAL]),
    ("isinf", cr.isinf, torch.isinf, [_SPECIAL]),
    ("isposinf", cr.isposinf, torch.isposinf, [_SPECIAL]),
    ("isneginf", lambda a: a.isneginf(), lambda a: a.isneginf(), [_SPECIAL]),
    ("isclose", cr.isclose, torch.isclose, [_SPECIAL, _SPECIAL + np.array([1e-9, 0, 1e-4, 0, 1.0, 0, 0, 0])]),
    ("isclose_tols_nan", lambda a, b: a.isclose(b, rtol=1e-3, atol=0.0, equal_nan=True),
     lambda a, b: a.isclose(b, rtol=1e-3, atol=0.0, equal_nan=True), [_SPECIAL, _SPECIAL * (1 + 1e-4)]),
    ("isclose_broadcast", cr.isclose, torch.isclose, [x(3, 4), np.zeros(4)]),
    ("allclose", cr.allclose, torch.allclose, [x(3, 4), x(3, 4)]),
    ("allclose_true", lambda a, b: a.allclose(b + 1e-9), lambda a, b: a.allclose(b + 1e-9), [x(3, 4)] * 2),
    ("allclose_nan", lambda a: cr.allclose(a, a, equal_nan=True), lambda a: torch.allclose(a, a, equal_nan=True), [_SPECIAL]),
    ("equal", cr.equal, torch.equal, [x(3), x(3)]),
    ("equal_true", lambda a: a.equal(a * 1), lambda a: a.equal(a * 1), [x(3)]),
    ("equal_shapes", lambda a, b: cr.equal(a, b), lambda a, b: torch.equal(a, b), [np.zeros(3), np.zeros((1, 3))]),
]


@pytest.mark.parametrize("case", PREDICATES, ids=lambda c: c[0])
def test_predicates_as_torch(case):
    _, fc, ft, arrays = case
    mine = fc(*[cr.tensor(a, requires_grad=True) for a in arrays])
    theirs = ft(*[torch.tensor(a, requires_grad=True) for a in arrays])
    if isinstance(theirs, bool):
        assert type(mine) is bool and mine == theirs
    else:
        assert str(mine.dtype) == "chainrule.bool" and not mine.requires_grad
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_cumprod_with_zeros_matches_torch():
    """Zeros (one, several, leading, trailing): gradients, double backward and forward mode."""
    a = x(4, 5)
    a[0, 2] = 0.0
    a[1, 1] = a[1, 3] = 0.0
    a[2, 0] = 0.0
    a[3, 4] = 0.0
    for dim in (1, 0):
        check(lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), a, double=True)
    v = R.standard_normal(a.shape)
    _, mine = cr.func.jvp(lambda t: t.cumprod(1), (cr.tensor(a),), (cr.tensor(v),))
    _, theirs = torch.func.jvp(lambda t: t.cumprod(1), (torch.tensor(a),), (torch.tensor(v),))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_logcumsumexp_is_stable():
    a = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-300.0, -310.0, -290.0, -305.0]])
    check(lambda t: t.logcumsumexp(1), lambda t: t.logcumsumexp(1), a, double=True)


def test_erfinv_inverts_erf_to_rounding():
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [0.0, 1e-300, -1e-12, 0.5]])
    mine, theirs = cr.erfinv(cr.tensor(y)).numpy(), torch.erfinv(torch.tensor(y)).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-300)
    edge = np.array([1.0, -1.0, 1.5, np.nan])
    np.testing.assert_array_equal(cr.erfinv(cr.tensor(edge)).numpy(), torch.erfinv(torch.tensor(edge)).numpy())
    f32 = cr.erfinv(cr.tensor(y[:5].astype(np.float32)))
    assert f32.dtype == cr.float32


def test_new_binary_ops_promote_and_take_numbers_as_torch():
    i, f = np.array([3, -4, 5]), np.array([1.5, -2.0, 0.25], np.float32)
    for name in ("atan2", "copysign", "fmod", "remainder", "hypot", "logaddexp", "logaddexp2",
                 "xlogy"):
        for p, q in ((i, i), (i, f), (f, 2.0), (f, -3), (f, f)):
            if name in ("hypot", "logaddexp", "logaddexp2", "atan2") and not isinstance(q, np.ndarray):
                continue   # torch takes tensors only there
            if name == "hypot" and p.dtype.kind == "i":
                continue   # torch: hypot not implemented for integers
            if name in ("logaddexp", "logaddexp2") and p.dtype.kind == "i":
                continue
            cq = cr.tensor(q) if isinstance(q, np.ndarray) else q
            tq = torch.tensor(q) if isinstance(q, np.ndarray) else q
            mine, theirs = getattr(cr, name)(cr.tensor(p), cq), getattr(torch, name)(torch.tensor(p), tq)
            assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1], (name, p, q)
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)
    for name in ("copysign", "fmod", "remainder", "xlogy"):   # a number operand: torch's other node name
        mine = getattr(cr, name)(cr.tensor(f, requires_grad=True), 2.0)
        theirs = getattr(torch, name)(torch.tensor(f, requires_grad=True), 2.0)
        assert mine.grad_fn.name() == theirs.grad_fn.name()
    assert cr.trunc(cr.tensor([3, -4])).tolist() == [3, -4]
    assert cr.cumprod(cr.tensor([1, 2, 3]), 0).dtype == cr.int64
