"""Memory formats (torch.memory_format): channels_last tensors and modules, against torch.

Strides are compared with torch's own (both count elements), so a layout that differs from
torch's fails here; values and gradients against torch; the convolution and max pooling paths
with oneDNN on and off."""
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
import torch.nn.functional as TF
from chainrule.backends import onednn

CL, TCL = cr.channels_last, torch.channels_last
RNG = np.random.default_rng(0)


def pair(shape, cl=True):
    a = RNG.standard_normal(shape).astype(np.float32)
    x, t = cr.tensor(a), torch.tensor(a)
    return (x.to(memory_format=CL), t.to(memory_format=TCL)) if cl else (x, t)


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def test_formats_are_torchs_names():
    assert repr(CL) == "chainrule.channels_last" and isinstance(CL, cr.memory_format)
    assert {cr.contiguous_format, cr.channels_last, cr.channels_last_3d, cr.preserve_format} \
        == {cr.contiguous_format, CL, cr.channels_last_3d, cr.preserve_format}
    assert pickle.loads(pickle.dumps(CL)) is CL


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (1, 3, 4, 1)])
def test_to_contiguous_clone_and_is_contiguous_as_torch(shape):
    x, t = pair(shape, cl=False)
    y, u = x.to(memory_format=CL), t.to(memory_format=TCL)
    assert y.stride() == u.stride()
    for fmt, tfmt in ((cr.contiguous_format, torch.contiguous_format), (CL, TCL)):
        assert y.is_contiguous(memory_format=fmt) == u.is_contiguous(memory_format=tfmt)
        assert x.is_contiguous(memory_format=fmt) == t.is_contiguous(memory_format=tfmt)
    assert y.contiguous().stride() == u.contiguous().stride()
    assert y.clone().stride() == u.clone().stride()
    assert y.clone(memory_format=cr.contiguous_format).stride() == u.clone(
        memory_format=torch.contiguous_format).stride()
    assert (y.to(memory_format=CL) is y) == (u.to(memory_format=TCL) is u)
    assert (y.contiguous(memory_format=CL) is y) == (u.contiguous(memory_format=TCL) is u)
    assert y.double().stride() == u.double().stride()
    close(y, u, 0)


def test_like_functions_and_empty_keep_or_take_the_format():
    y, u = pair((2, 3, 4, 5))
    for name in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        assert getattr(cr, name)(y).stride() == getattr(torch, name)(u).stride(), name
        assert getattr(cr, name)(y, memory_format=cr.contiguous_format).stride() == \
            getattr(torch, name)(u, memory_format=torch.contiguous_format).stride(), name
    assert cr.full_like(y, 2.0).stride() == torch.full_like(u, 2.0).stride()
    assert cr.randint_like(y, 5).stride() == torch.randint_like(u, 5).stride()
    assert cr.empty(2, 3, 4, 5, memory_format=CL).stride() == torch.empty(
        2, 3, 4, 5, memory_format=TCL).stride()
    np.testing.assert_array_equal(cr.full_like(y, 2.0).numpy(), 2.0)


def test_errors_as_torch():
    x = cr.zeros(2, 3, 4)
    for call in (lambda: x.contiguous(memory_format=CL), lambda: x.to(memory_format=CL),
                 lambda: x.clone(memory_format=CL),
                 lambda: cr.zeros(2, 3, 4, 5).contiguous(memory_format=cr.channels_last_3d),
                 lambda: cr.nn.Conv3d(2, 2, 3).to(memory_format=CL)):
        with pytest.raises(RuntimeError, match="required rank"):
            call()
    with pytest.raises(RuntimeError, match="preserve memory format"):
        cr.zeros(2, 3).t().contiguous(memory_format=cr.preserve_format)
    with pytest.raises(TypeError, match="memory_format"):
        x.to(memory_format=3)
    assert not x.is_contiguous(memory_format=CL)      # another rank: False, as torch


def test_module_to_lays_out_the_4d_parameters():
    m, tm = cr.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)
    assert m.to(memory_format=CL) is m
    tm.to(memory_format=TCL)
    assert m.weight.stride() == tm.weight.stride() and m.bias.stride() == tm.bias.stride()
    lin = cr.nn.Linear(3, 2).to(memory_format=CL)
    assert lin.weight.is_contiguous()


@pytest.mark.parametrize("enabled", [True, False], ids=["onednn", "numpy"])
@pytest.mark.parametrize("op", ["conv", "conv_stride2_1x1", "conv_transpose", "max_pool",
                                "max_pool_overlap", "avg_pool", "batch_norm_train",
                                "batch_norm_eval", "relu", "gelu", "add", "bias_add"])
def test_ops_keep_channels_last_with_torchs_values_and_gradients(enabled, op):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32) * 0.2
    w1 = rng.standard_normal((16, 8, 1, 1)).astype(np.float32)
    mean, var = rng.standard_normal(8).astype(np.float32), rng.random(8).astype(np.float32) + .5
    ops = {
        "conv": lambda L, F_, t: F_.conv2d(t, L.tensor(w), padding=1),
        "conv_stride2_1x1": lambda L, F_, t: F_.conv2d(t, L.tensor(w1), stride=2),
        "conv_transpose": lambda L, F_, t: F_.conv_transpose2d(t, L.tensor(w), stride=2, padding=1),
        "max_pool": lambda L, F_, t: F_.max_pool2d(t, 2),
        "max_pool_overlap": lambda L, F_, t: F_.max_pool2d(t, 3, 2, 1),
        "avg_pool": lambda L, F_, t: F_.avg_pool2d(t, 2),
        "batch_norm_train": lambda L, F_, t: F_.batch_norm(t, None, None, training=True),
        "batch_norm_eval": lambda L, F_, t: F_.batch_norm(t, L.tensor(mean), L.tensor(var)),
        "relu": lambda L, F_, t: F_.relu(t),
        "gelu": lambda L, F_, t: F_.gelu(t),
        "add": lambda L, F_, t: t + t * 2,
        "bias_add": lambda L, F_, t: t + L.tensor(mean).reshape(1, 8, 1, 1),
    }
    x, t = pair((4, 8, 10, 10))
    x.requires_grad_(), t.requires_grad_()
    with onednn.flags(enabled=enabled):
        y, u = ops[op](cr, F, x), ops[op](torch, TF, t)
        assert y.stride() == u.stride()
        close(y, u, 2e-5)
        g = RNG.standard_normal(tuple(u.shape)).astype(np.float32)
        y.backward(cr.tensor(g).to(memory_format=CL))
        u.backward(torch.tensor(g).to(memory_format=TCL))
    close(x.grad, t.grad, 2e-5)
    assert x.grad.stride() == t.grad.stride()


def test_relu_in_place_keeps_the_layout():
    x, t = pair((2, 16, 8, 8))
    with cr.no_grad():
        cr.nn.ReLU(inplace=True)(x)
    torch.relu_(t)
    assert x.stride() == t.stride()
    close(x, t, 0)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_resnet_in_channels_last_matches_nchw(train):
    """A residual network converted with .to(memory_format=channels_last) computes what it
    computes on NCHW (float32 rounding), with its weight gradients laid out as the weights."""
    cr.manual_seed(0)
    m = cr.models.resnet20()
    ref = cr.models.resnet20()
    ref.load_state_dict(m.state_dict())
    m.to(memory_format=CL)
    m.train(train), ref.train(train)
    x = cr.randn(4, 3, 16, 16)
    y = cr.tensor([1, 2, 3, 0])
    out, out_ref = m(x.to(memory_format=CL)), ref(x)
    close(out, out_ref, 1e-4)
    if train:
        F.cross_entropy(out, y).backward()
        F.cross_entropy(out_ref, y).backward()
        scale = max(p.grad.abs().max().item() for p in ref.parameters())
        for p, q in zip(m.parameters(), ref.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-4 * scale)
            assert p.grad.stride() == p.stride()


@pytest.mark.parametrize("enabled", [True, False], ids=["onednn", "numpy"])
@pytest.mark.parametrize("xs, ws, kw", [
    ((2, 8, 9, 7), (8, 1, 3, 3), dict(groups=8, padding=1)),
    ((2, 8, 9, 7), (4, 4, 3, 3), dict(groups=2, dilation=2, padding=(1, 2))),
    ((2, 6, 10, 10), (5, 6, 5, 5), dict(stride=2, padding=2)),
    ((2, 6, 10, 10), (5, 6, 4, 4), dict(padding="same")),
], ids=["depthwise", "groups_dilation", "stride", "same_even_kernel"])
def test_channels_last_convolution_geometries(enabled, xs, ws, kw):
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (xs, ws, (ws[0],)))
    ours = [cr.tensor(x).to(memory_format=CL), cr.tensor(w), cr.tensor(b)]
    theirs = [torch.tensor(x).to(memory_format=TCL), torch.tensor(w), torch.tensor(b)]
    for t in ours + theirs:
        t.requires_grad_()
    with onednn.flags(enabled=enabled):
        y, u = F.conv2d(*ours, **kw), TF.conv2d(*theirs, **kw)
        assert y.stride() == u.stride()
        close(y, u, 2e-5)
        g = RNG.standard_normal(tuple(u.shape)).astype(np.float32)
        y.backward(cr.tensor(g))
        u.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        close(a.grad, t.grad, 5e-5)
    assert ours[0].grad.stride() == theirs[0].grad.stride()


LAYOUTS = [lambda L: L.ones(2, 3, 4, 5),
           lambda L: L.ones(2, 3, 4, 5).to(memory_format=L.channels_last),
           lambda L: L.ones(1, 3, 1, 5).to(memory_format=L.channels_last),
           lambda L: L.ones(2, 1, 4, 1),
           lambda L: L.ones(3, 4).permute(1, 0)[:, :2], lambda L: L.ones(()), lambda L: L.ones(5),
           lambda L: L.ones(2, 3, 4).permute(2, 0, 1), lambda L: L.ones(4, 1).expand(4, 3),
           lambda L: L.ones(3, 4, 5)[:, ::2].transpose(0, 2),
           lambda L: L.ones(2, 3, 4, 5, 6).to(memory_format=L.channels_last_3d)]


@pytest.mark.parametrize("make", LAYOUTS)
@pytest.mark.parametrize("check", [False, True, [], "formats"])
def test_dim_order_as_torch(make, check):
    def outcome(L):
        arg = [L.contiguous_format, L.channels_last] if check == "formats" else check
        try:
            return make(L).dim_order(ambiguity_check=arg)
        except RuntimeError as e:
            return str(e)
    assert outcome(cr) == outcome(torch)
