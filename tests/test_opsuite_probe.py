"""Op cases from other projects' op suites (tinygrad's test_ops and more), one line each.

Each case runs the same lambda through chainrule and torch: ``fn(m, *xs)`` where ``m`` is the
module (``chainrule`` or ``torch``) and ``xs`` the inputs. ``op`` compares the forward (shape,
dtype, values) and the gradient of ⟨out, r⟩ for a random r; ``err`` compares the exception type.
Every case here failed before the fix it guards.
"""
import math

import numpy as np
import pytest
import torch

import chainrule as cr


def _inputs(mod, shapes, vals, grad, low, high):
    if vals is not None:
        ts = [mod.tensor(v) for v in vals]
    else:
        rng = np.random.default_rng(0)
        ts = [mod.tensor(rng.uniform(low, high, s).astype(np.float32)) for s in shapes]
    return [t.requires_grad_() if grad and t.dtype.is_floating_point else t for t in ts]


def _leaves(out):
    return [x for o in out for x in _leaves(o)] if isinstance(out, (tuple, list)) else [out]


def op(fn, shapes=(), vals=None, fwd=False, low=-2.0, high=2.0, rtol=1e-5, atol=1e-6):
    """fn(m, *xs) in chainrule and in torch: same shapes, dtypes, values and gradients."""
    cs = _inputs(cr, shapes, vals, not fwd, low, high)
    ts = _inputs(torch, shapes, vals, not fwd, low, high)
    oc, ot = _leaves(fn(cr, *cs)), _leaves(fn(torch, *ts))
    assert len(oc) == len(ot)
    for c, t in zip(oc, ot):
        assert tuple(c.shape) == tuple(t.shape), (tuple(c.shape), tuple(t.shape))
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (c.dtype, t.dtype)
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    wrt = [(c, t) for c, t in zip(cs, ts) if t.requires_grad]
    outs = [(c, t) for c, t in zip(oc, ot) if t.requires_grad]
    if fwd or not wrt or not outs:
        return
    rng = np.random.default_rng(1)
    rs = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for _, t in outs]
    lc = sum((c * cr.tensor(r)).sum() for (c, _), r in zip(outs, rs))
    lt = sum((t * torch.tensor(r)).sum() for (_, t), r in zip(outs, rs))
    gc = cr.autograd.grad(lc, [c for c, _ in wrt], allow_unused=True)
    gt = torch.autograd.grad(lt, [t for _, t in wrt], allow_unused=True)
    for a, b, (_, t) in zip(gc, gt, wrt):
        a = np.zeros(tuple(t.shape)) if a is None else a.numpy()
        b = np.zeros(tuple(t.shape)) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=max(rtol, 1e-5), atol=max(atol, 1e-5))


def err(fn, shapes=(), vals=None):
    """fn(m, *xs) raises in torch, and raises the same kind of error in chainrule."""
    with pytest.raises(Exception) as te:
        fn(torch, *_inputs(torch, shapes, vals, False, -2, 2))
    kind = next(k for k in (IndexError, TypeError, ValueError, RuntimeError) if isinstance(te.value, k))
    with pytest.raises(kind):
        fn(cr, *_inputs(cr, shapes, vals, False, -2, 2))


# ------------------------------------------------ cosine_similarity broadcasts before the norms
def test_cosine_similarity_broadcasts_first():
    op(lambda m, x, y: m.nn.functional.cosine_similarity(x, y, dim=0), [(5, 3), (1, 3)])
    op(lambda m, x, y: m.nn.functional.cosine_similarity(x, y), [(4, 1, 3), (1, 5, 3)])
    op(lambda m, x, y: m.nn.functional.cosine_similarity(x, y, dim=-1), [(2, 1), (2, 4)])


# ------------------------------------------------ cat: a 1-D empty tensor joins any shape (legacy)
def test_cat_skips_legacy_empty_1d():
    op(lambda m, x, y: m.cat((x, y), 0), [(0,), (2, 3)])
    op(lambda m, x, y: m.cat((x, y)), [(2, 3), (0,)])
    op(lambda m, x, y, z: m.cat([x, y, z], 1), [(2, 3), (0,), (2, 2)])
    op(lambda m, x: m.cat([m.tensor([], dtype=m.float64), x]), [(2, 3)])


def test_cat_still_checks_shapes():
    err(lambda m, x, y: m.cat((x, y)), [(2, 3), (2, 4)])
    err(lambda m, x, y: m.cat((x, y)), [(2, 3), (1,)])


# ------------------------------------------------ Tensor.tile takes an int and varargs
def test_tile_method_forms():
    op(lambda m, x: x.tile(2), [(8,)])
    op(lambda m, x: x.tile(2, 3), [(2, 4)])
    op(lambda m, x: x.tile((2, 1, 1)), [(2, 4)])
    op(lambda m, x: x.tile(dims=(2,)), [(2, 4)])
    err(lambda m, x: m.tile(x, 2), [(2,)])
    err(lambda m, x: x.tile(), [(2,)])
    err(lambda m, x: x.tile(-1), [(2,)])


# ------------------------------------------------ an empty dim list reduces every dim
@pytest.mark.parametrize("dim", [(), []])
def test_empty_dim_list_reduces_all(dim):
    op(lambda m, x: x.sum(dim=dim), [(3, 4, 5)])
    op(lambda m, x: x.mean(dim), [(3, 4)])
    # torch's var/std gradient is ±inf with an empty dim list (it divides by N − 1 with N = 1);
    # chainrule's is the gradient of the value: the values are compared here
    op(lambda m, x: x.var(dim), [(3, 4)], fwd=True)
    op(lambda m, x: x.std(dim, keepdim=True), [(3, 4)], fwd=True)
    op(lambda m, x: m.var_mean(x, dim), [(3, 4)], fwd=True)
    x = cr.tensor(np.arange(12.0).reshape(3, 4) ** 1.5, requires_grad=True)
    g_empty, = cr.autograd.grad(x.std(dim), [x])
    g_all, = cr.autograd.grad(x.std(), [x])
    np.testing.assert_allclose(g_empty.numpy(), g_all.numpy(), rtol=1e-12)
    op(lambda m, x: x.amax(dim), [(3, 4)])
    op(lambda m, x: x.amin(dim, True), [(3, 4)])
    op(lambda m, x: x.nansum(dim), [(3, 4)])
    op(lambda m, x: x.norm(dim=dim), [(3, 4)])
    op(lambda m, x: x.count_nonzero(dim), vals=[[[1, 0], [2, 3]]])
    op(lambda m, x: x.sum(dim), vals=[[True, False, True]])
    op(lambda m, x: x.any(dim), vals=[[True, False]])   # any/all keep the shape (torch)


# ------------------------------------------------ flip of a 0-d tensor (dim 0 wraps, as torch)
def test_flip_0d():
    op(lambda m, x: x.flip(0), [()])
    op(lambda m, x: x.flip(-1), [()])
    op(lambda m, x: m.flip(x, (0,)), [()])


# ------------------------------------------------ logcumsumexp gradient across a wide span
def test_logcumsumexp_grad_wide_span():
    op(lambda m, x: x.logcumsumexp(0), vals=[[0.0, 100.0]])
    op(lambda m, x: x.logcumsumexp(0), vals=[[0.0, 100.0, -50.0, 3.0]])
    op(lambda m, x: x.logcumsumexp(1), vals=[[[-80.0, 0.0, 20.0], [5.0, 1.0, -2.0]]])
    x = cr.tensor([0.0, 100.0, -50.0, 3.0], requires_grad=True)     # second order still recorded
    g, = cr.autograd.grad((x.logcumsumexp(0) * cr.tensor([1.0, 2.0, -1.0, 0.5])).sum(), [x],
                          create_graph=True)
    assert g.dtype == cr.float32 and np.isfinite(g.detach().numpy()).all() and g.requires_grad


# ------------------------------------------------ one_hot raises torch's error types
def test_one_hot_error_types():
    err(lambda m: m.nn.functional.one_hot(m.tensor([0, 5]), 4))
    err(lambda m: m.nn.functional.one_hot(m.tensor([-1, 2]), 4))
    err(lambda m: m.nn.functional.one_hot(m.tensor([1, 2]), -2))
    err(lambda m: m.nn.functional.one_hot(m.tensor([1.0, 2.0]), 4))
    err(lambda m: m.nn.functional.one_hot(m.tensor([], dtype=m.int64)))
    err(lambda m: m.nn.functional.one_hot(m.tensor([1, 2]), 2.5))


# ------------------------------------------------ poisson_nll_loss(full=True): Stirling term in y
@pytest.mark.parametrize("log_input", [False, True])
def test_poisson_nll_full_target_gradient(log_input):
    f = lambda m, x, y: m.nn.functional.poisson_nll_loss(x.abs(), y.abs() * 2, log_input=log_input,
                                                       full=True, reduction="none")
    op(f, [(4, 5), (4, 5)], rtol=1e-4, atol=1e-5)
    op(lambda m, x, y: m.nn.functional.poisson_nll_loss(x, y, full=True), vals=[[0.5, 1.0, 2.0], [0.5, 1.0, 3.0]])


# ------------------------------------------------ integer reductions keep the dtype asked for
@pytest.mark.parametrize("dt", ["uint8", "int8", "int16", "int32", "bool"])
def test_integer_reduction_dtypes(dt):
    v = [[100, 0, 101], [7, 1, 3]]
    op(lambda m, x: x.to(getattr(m, dt)).cumsum(0), vals=[v])
    op(lambda m, x: x.to(getattr(m, dt)).cumsum(1, dtype=m.int32), vals=[v])
    op(lambda m, x: x.to(getattr(m, dt)).sum(dtype=m.int32), vals=[v])
    op(lambda m, x: x.to(getattr(m, dt)).sum(1, dtype=m.int8), vals=[v])    # wraps as int8
    op(lambda m, x: x.to(getattr(m, dt)).prod(0, dtype=m.int16), vals=[v])
    op(lambda m, x: x.to(getattr(m, dt)).cumprod(1, dtype=m.int16), vals=[v])
    op(lambda m, x: x.to(getattr(m, dt)).nansum(dtype=m.int32), vals=[v])


# ------------------------------------------------ linalg: half precision and mixed dtypes refused
def test_linalg_half_and_mixed_dtypes_raise_runtime_error():
    for f in (lambda m, x: m.linalg.det(x.half()), lambda m, x: m.linalg.inv(x.half()),
              lambda m, x: m.linalg.slogdet(x.half()), lambda m, x: m.linalg.svdvals(x.half()),
              lambda m, x: m.linalg.qr(x.half()), lambda m, x: m.linalg.eigvalsh(x.half()),
              lambda m, x: m.linalg.solve(x, x.half()), lambda m, x: m.linalg.solve(x, x.double()),
              lambda m, x: m.linalg.cholesky(x.half()), lambda m, x: m.linalg.pinv(x.half())):
        err(f, [(3, 3)])
    op(lambda m, x, y: m.linalg.solve(x @ x.mT + m.eye(3), y), [(3, 3), (3, 2)], rtol=1e-4, atol=1e-5)


# ------------------------------------------------ in-place writes through views record on the base
def prog(fn):
    """fn(m) -> (tensors to compare, leaves whose .grad to compare) after fn ran backward."""
    outs = {}
    for m in (cr, torch):
        values, leaves = fn(m)
        outs[m] = [np.asarray(v.tolist() if hasattr(v, "tolist") else v, np.float64) for v in values] + \
                  [np.asarray(leaf.grad.tolist(), np.float64) for leaf in leaves]
    for a, b in zip(outs[cr], outs[torch]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def _aug_assign(m):   # x[:, 0] *= 2 and friends: Python's get, in-place op, set
    a = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    x = a * 1
    x[:, 0] *= 2
    x[1] += a[0] ** 2
    x[..., 1:] -= 0.5 * a[:, :2]
    (x * m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    return [x], [a]


def _other_views(m):   # view / T / diagonal / narrow / select / permute / unsqueeze windows
    a = m.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0], [0.5, 1.5, 2.5]], requires_grad=True)
    w = m.tensor(0.25, requires_grad=True)
    x = a.exp() * 1
    x.view(-1)[1:3] += 10 * w
    x.T[2, 1] = a[0, 0] ** 2
    x.diagonal().mul_(3)
    x.narrow(1, 0, 1).sub_(a[:, :1] ** 2)
    x.select(0, 2).add_(w)
    x.permute(1, 0)[0].clamp_(max=2.0)
    x.unsqueeze(0)[0, 1, ::2].mul_(a[1, ::2])
    (x ** 2 * m.arange(9.0).reshape(3, 3)).sum().backward()
    return [x], [a, w]


def _base_without_grad(m):   # a constant base picks up the history of what is written into it
    w = m.tensor(2.0, requires_grad=True)
    base = m.zeros(2, 3)
    base[0:1].add_(w)
    base[1][2] = w * 3
    base.T[1].mul_(w)
    (base * m.tensor([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]])).sum().backward()
    return [base], [w]


def _noncontiguous_base(m):
    a = m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    x = (a * 1).T          # a view of a * 1: writes land in that tensor
    x[1, 1:] *= a[0, 0]
    y = x.contiguous()
    (y * m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    return [y], [a]


def _strided_root(m):   # a base that is itself not C-contiguous (from_numpy of a transpose)
    w = m.tensor([0.5, -1.0], requires_grad=True)
    base = m.from_numpy(np.arange(6.0, dtype=np.float32).reshape(2, 3).T)
    base[1].mul_(w)
    base.T[1, ::2] += w
    (base * m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    return [base], [w]


def _view_used_after(m):
    a = m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x = a * 2
    v = x[1:3]
    v.mul_(a[:2])
    ((v * 3).sum() + (x ** 2).sum()).backward()
    return [x, v], [a]


@pytest.mark.parametrize("fn", [_aug_assign, _other_views, _base_without_grad, _noncontiguous_base,
                                _strided_root, _view_used_after])
def test_inplace_on_views_with_grad(fn):
    prog(fn)


def _constant_times_param(m):   # x.mul_(w): Mul saved x, whose memory the write overwrote
    w = m.tensor([2.0, 3.0], requires_grad=True)
    x = m.ones(2)
    x.mul_(w)
    x.div_(w + 1)
    y = m.ones(2, 3)
    y.addcmul_(w[:, None], m.ones(2, 3) * 2)
    ((x * x).sum() + (y ** 2).sum()).backward()
    return [x, y], [w]


def test_inplace_on_constant_with_grad_value():
    prog(_constant_times_param)


def _overwritten_whole(m):   # zero_ / fill_ / copy_ of a constant: still requires grad, gradient 0
    a = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x, y, z = a * 2, a * 3, a + 1
    x.zero_()
    y.fill_(0.5)
    z.copy_(m.tensor([1.0, 2.0, 3.0]))
    assert x.requires_grad and y.requires_grad and z.requires_grad
    (x.sum() + (y * a).sum() + (z * z).sum()).backward()
    return [x, y, z], [a]


def test_inplace_overwrite_keeps_zero_gradient_link():
    prog(_overwritten_whole)


def test_inplace_on_views_errors():
    def saved_then_modified(m):   # sin saved its input; the write through a view invalidates it
        y = m.ones(3, requires_grad=True) * 1
        s = y.sin()
        y[0] += 1
        s.sum().backward()
    err(saved_then_modified)
    err(lambda m: m.ones(3, requires_grad=True)[0].add_(1))   # a view of a leaf
    err(lambda m: (m.ones(2, 2, requires_grad=True) * 1).__setitem__(0, m.ones(3)))
    with pytest.raises(RuntimeError, match="shows some entries of its base twice"):
        (cr.ones(4, requires_grad=True) * 1).unfold(0, 2, 1).mul_(2)   # torch allows; refused


def test_setitem_drops_leading_unit_dims_with_grad():
    def f(m):
        w = m.ones(1, 1, requires_grad=True)
        z = m.zeros(2, 2)
        z[0, 1] = w * 2
        z[1][0] = w * 5
        (z * 3).sum().backward()
        return [z], [w]
    prog(f)


def test_helpers_catch_a_wrong_result():
    with pytest.raises(AssertionError):
        op(lambda m, x: x * 2 if m is cr else x * 3, [(3,)])
    with pytest.raises(AssertionError):
        op(lambda m, x: x.exp() if m is cr else x.exp().detach() * 0 + x.exp().detach() + x * 0, [(3,)])
    assert math.isfinite(1.0)
