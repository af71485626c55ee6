"""torch's ATen-level names against torch: the ``*_copy`` variants of views, unsafe_split /
unsafe_chunk, constant_pad_nd, as_strided (+ _copy, _scatter), native_layer_norm /
batch_norm / group_norm / dropout, the conj family on real tensors and nonzero_static."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, check_jvp, finite_difference_check

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((2, 3, 4))

# (name, args after the input, input array): each *_copy against torch's, values and gradients
COPIES = [
    ("t_copy", (), A), ("transpose_copy", (0, 2), B), ("permute_copy", ((2, 0, 1),), B),
    ("squeeze_copy", (0,), A[None]), ("unsqueeze_copy", (1,), A), ("view_copy", ((4, 3),), A),
    ("expand_copy", ((2, 3, 4),), A[:, :1]), ("diagonal_copy", (1, 1, 2), B),
    ("unfold_copy", (1, 2, 1), A), ("alias_copy", (), A), ("narrow_copy", (1, 1, 2), A),
    ("select_copy", (1, -1), A), ("slice_copy", (1, 1, 10, 2), A),
    ("as_strided_copy", ((2, 2), (1, 2), 1), A),
]
SPLITS = [("unbind_copy", (1,)), ("split_copy", (2, 1)), ("split_with_sizes_copy", ([1, 2],)),
          ("unsafe_split", (2, 1)), ("unsafe_chunk", (3, 1)),
          ("unsafe_split_with_sizes", ([3, 1], 1))]


@pytest.mark.parametrize("name,args,a", COPIES, ids=[c[0] for c in COPIES])
def test_copy_variants(name, args, a):
    check(lambda x: getattr(cr, name)(x, *args), lambda x: getattr(torch, name)(x, *args), a)
    x = cr.tensor(a.copy())
    out = getattr(cr, name)(x, *args)
    assert out.is_contiguous()
    out.add_(1.0)   # a copy: the input is left alone
    np.testing.assert_array_equal(x.numpy(), a)


@pytest.mark.parametrize("name,args", SPLITS, ids=[s[0] for s in SPLITS])
def test_split_variants(name, args):
    fn = cr.Tensor.unsafe_split_with_sizes if name == "unsafe_split_with_sizes" else getattr(
        cr, name)
    tfn = getattr(torch, name)
    check(lambda x: cr.cat([p.reshape(-1) for p in fn(x, *args)]),
          lambda x: torch.cat([p.reshape(-1) for p in tfn(x, *args)]), A)
    x = cr.tensor(A.copy())
    pieces = fn(x, *args)
    assert isinstance(pieces, tuple) and len(pieces) == len(tfn(torch.tensor(A), *args))
    pieces[0].mul_(0.0)
    assert (x.numpy() == 0).any() == name.startswith("unsafe")   # unsafe_*: views, as torch


def test_copy_variant_extras():
    x = cr.tensor(A, requires_grad=True)
    d = cr.detach_copy(x)
    assert not d.requires_grad and np.array_equal(d.numpy(), A)
    assert cr.view_copy(cr.tensor(A.astype(np.float32)), cr.int32).dtype == cr.int32
    assert tuple(x.narrow_copy(0, 1, 2).shape) == (2, 4)
    with pytest.raises(RuntimeError):
        cr.narrow_copy(x, 3, 0, 1)
    with pytest.raises(IndexError):
        cr.narrow_copy(x, -3, 0, 1)
    with pytest.raises(RuntimeError, match="0-dim"):
        cr.narrow_copy(cr.tensor(1.0), 0, 0, 1)
    with pytest.raises(RuntimeError):
        cr.slice_copy(x, 0, 0, 2, 0)


def test_constant_pad_nd():
    check(lambda x: cr.constant_pad_nd(x, (1, 2, -1, 1), 2.5),
          lambda x: torch.constant_pad_nd(x, (1, 2, -1, 1), 2.5), A)
    check(lambda x: cr.constant_pad_nd(x, (2, 0)), lambda x: torch.constant_pad_nd(x, (2, 0)), B)
    with pytest.raises(RuntimeError):
        cr.constant_pad_nd(cr.tensor(A), (1, 2, 3))


# (size, stride, offset, view of the input): as_strided's values and gradient against torch
STRIDED = [((2, 2), (1, 2), 1, lambda t: t), ((2,), (1,), None, lambda t: t[1:]),
           ((3, 3), (1, 1), 0, lambda t: t), ((4, 3), (1, 4), 0, lambda t: t.t()),
           ((2, 2), (0, 1), 2, lambda t: t.expand(2, 3, 4)), ((0, 2), (1, 1), 0, lambda t: t),
           ((3, 2), (4, 2), 0, lambda t: t[:, ::2]),
           ((2, 2), (1, 2), None, lambda t: t.reshape(-1)[2:8]),   # a part of a larger memory
           ((2, 2), (1, 2), 8, lambda t: t.reshape(-1)[2:8])]


@pytest.mark.parametrize("size,stride,offset,view", STRIDED)
def test_as_strided(size, stride, offset, view):
    check(lambda x: cr.as_strided(view(x), size, stride, offset),
          lambda x: torch.as_strided(view(x), size, stride, offset), A)
    check(lambda x: view(x).as_strided(size, stride, offset),
          lambda x: view(x).as_strided(size, stride, offset), A)


def test_as_strided_view_jvp_and_errors():
    x = cr.tensor(A.copy())
    cr.as_strided(x, (2,), (5,)).mul_(0.0)   # a view: writes reach the input
    assert x[0, 0].item() == 0 and x[1, 1].item() == 0 and x[0, 1].item() == A[0, 1]
    finite_difference_check(lambda x: cr.as_strided(x, (3, 2), (1, 3), 2), A)
    check_jvp(lambda x: cr.as_strided(x, (3, 2), (1, 3), 2),
              lambda x: torch.as_strided(x, (3, 2), (1, 3), 2), A)
    for args in [((2, 2), (-1, 2)), ((20, 2), (1, 2)), ((2, 2), (1,))]:
        with pytest.raises(RuntimeError):
            cr.as_strided(cr.tensor(A), *args)


def test_as_strided_scatter():
    s = rng.standard_normal((2, 2))
    out = cr.as_strided_scatter(cr.tensor(A), cr.tensor(s), (2, 2), (1, 2), 1)
    ref = torch.as_strided_scatter(torch.tensor(A), torch.tensor(s), (2, 2), (1, 2), 1)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    # the gradient of src as torch's; of input by finite differences (torch's input gradient
    # fails its own gradcheck: it keeps ḡ at the overwritten positions instead of zeroing them)
    check(lambda x, y: cr.as_strided_scatter(x.detach(), y, (2, 2), (1, 2), 1),
          lambda x, y: torch.as_strided_scatter(x.detach(), y, (2, 2), (1, 2), 1), A, s)
    finite_difference_check(lambda x, y: cr.as_strided_scatter(x, y, (2, 2), (2, 1), 0), A, s)
    x = cr.tensor(A.copy())
    cr.as_strided_scatter(x, cr.tensor(s), (2, 2), (1, 2)).add_(1.0)   # a new tensor
    np.testing.assert_array_equal(x.numpy(), A)
    with pytest.raises(RuntimeError, match="src"):
        cr.as_strided_scatter(x, cr.tensor(s), (2, 3), (1, 2))


def _both(fn, tfn, *arrays):
    """Every output of a multi-output op as torch's; the gradient through every output that
    requires grad."""
    cs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    oc, ot = fn(*cs), tfn(*ts)
    for c, t in zip(oc, ot):
        assert tuple(c.shape) == tuple(t.shape) and str(c.dtype)[10:] == str(t.dtype)[6:]
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
    # which statistics are differentiable follows torch (group norm's are, the others' not)
    assert [o.requires_grad for o in oc] == [o.requires_grad for o in ot]
    ws = [rng.standard_normal(tuple(o.shape)) for o in ot]
    sum((o * cr.tensor(w)).sum() for o, w in zip(oc, ws) if o.requires_grad).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(ot, ws) if o.requires_grad).backward()
    for c, t in zip(cs, ts):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_native_norms():
    x = rng.standard_normal((2, 6, 5)).astype(np.float32)
    w, b = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    _both(lambda x, w, b: cr.native_layer_norm(x, (6, 5), w, b, 1e-5),
          lambda x, w, b: torch.native_layer_norm(x, (6, 5), w, b, 1e-5),
          x.astype(np.float64), w, b)
    _both(lambda x: cr.native_layer_norm(x, 5, None, None, 1e-5),
          lambda x: torch.native_layer_norm(x, (5,), None, None, 1e-5), x)
    _both(lambda x, w, b: cr.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5),
          lambda x, w, b: torch.native_group_norm(x, w, b, 2, 6, 5, 3, 1e-5),
          x.astype(np.float64), w[:, 0], b[:, 0])
    _both(lambda x, w, b: cr.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5),
          lambda x, w, b: torch.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5),
          x.astype(np.float64), w[:, 0], b[:, 0])
    rm, rv = cr.zeros(6), cr.ones(6)
    trm, trv = torch.zeros(6), torch.ones(6)
    out = cr.native_batch_norm(cr.tensor(x), None, None, rm, rv, True, 0.1, 1e-5)
    ref = torch.native_batch_norm(torch.tensor(x), None, None, trm, trv, True, 0.1, 1e-5)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
    out = cr.native_batch_norm(cr.tensor(x), None, None, rm, rv, False, 0.1, 1e-5)
    ref = torch.native_batch_norm(torch.tensor(x), None, None, trm, trv, False, 0.1, 1e-5)
    assert [tuple(o.shape) for o in out] == [tuple(r.shape) for r in ref]
    np.testing.assert_allclose(out[0].numpy(), ref[0].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        cr.native_layer_norm(cr.tensor(x), (), None, None, 1e-5)
    with pytest.raises(RuntimeError):
        cr.native_group_norm(cr.tensor(x), None, None, 2, 6, 4, 3, 1e-5)


def test_native_dropout():
    x = rng.standard_normal((4, 5)).astype(np.float32)
    cr.manual_seed(3)
    torch.manual_seed(3)
    c, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (oc, mc), (ot, mt) = cr.native_dropout(c, 0.3, True), torch.native_dropout(t, 0.3, True)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-6)
    assert mc.dtype == cr.bool and np.array_equal(mc.numpy(), mt.numpy())
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    oc, mc = cr.native_dropout(c, 0.3, False)
    assert oc is not c and np.array_equal(oc.detach().numpy(), x) and mc.numpy().all()
    oc, mc = cr.native_dropout(c, 1.0, None)
    assert not oc.detach().numpy().any() and not mc.numpy().any()
    with pytest.raises(RuntimeError):
        cr.native_dropout(c, 1.5, True)


def test_conj_family_and_nonzero_static():
    x, tx = cr.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    for name in ("conj", "conj_physical", "resolve_conj", "resolve_neg"):   # as torch: itself
        assert getattr(cr, name)(x) is x and getattr(x, name)() is x
        assert getattr(torch, name)(tx) is tx
    assert x.conj_physical_() is x and cr.conj_physical_(x) is x
    assert not cr.is_conj(x) and not cr.is_neg(x) and not x.is_conj() and not x.is_neg()
    for a, kw in [(np.array([0, 1, 2, 0, 3]), dict(size=2)),
                  (np.array([[0, 1], [2, 0.0]]), dict(size=4, fill_value=-7)),
                  (np.array(3.0), dict(size=2)), (np.array([1, 0, 1]), dict(size=0))]:
        c, t = cr.nonzero_static(cr.tensor(a), **kw), torch.nonzero_static(torch.tensor(a), **kw)
        assert c.dtype == cr.int64 and np.array_equal(c.numpy(), t.numpy())
    assert np.array_equal(cr.tensor([0, 5]).nonzero_static(size=2).numpy(), [[1], [-1]])
    with pytest.raises(RuntimeError, match="size"):
        cr.nonzero_static(cr.tensor([1.0]), size=-1)
