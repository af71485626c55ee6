"""Lazy modules (``nn.LazyLinear`` & co., ``UninitializedParameter``, ``LazyModuleMixin``)
against torch: shapes inferred at the first call, weights drawn as torch's under the same
seed, outputs and gradients, the class swap, state dicts, errors and reprs."""
import copy
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr


def _np(t):
    return t.detach().numpy()


def _same(a, b, rtol=1e-5, atol=1e-6):
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _same_state(mine, theirs):
    sd, ref = mine.state_dict(), theirs.state_dict()
    assert list(sd) == list(ref)
    for k in ref:
        _same(sd[k], ref[k])


def _pair(make, seed=0):
    """make(nn) built with torch's and chainrule's nn, each right after the same seed."""
    torch.manual_seed(seed)
    theirs = make(torch.nn)
    cr.manual_seed(seed)
    return make(cr.nn), theirs


def test_eager_linear_draws_torchs_weights():
    mine, theirs = _pair(lambda nn: nn.Linear(3, 4))
    _same_state(mine, theirs)


def test_lazy_linear_infers_in_features_and_becomes_linear():
    mine, theirs = _pair(lambda nn: nn.LazyLinear(4))
    assert repr(mine) == repr(theirs) == "LazyLinear(in_features=0, out_features=4, bias=True)"
    assert mine.has_uninitialized_params() and theirs.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    xm, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cr.manual_seed(1)
    torch.manual_seed(1)
    ym, yt = mine(xm), theirs(xt)
    assert type(mine) is cr.nn.Linear and type(theirs) is torch.nn.Linear
    assert repr(mine) == repr(theirs) == "Linear(in_features=3, out_features=4, bias=True)"
    assert mine.in_features == 3 and not mine._forward_pre_hooks
    assert not hasattr(mine, "_initialize_hook") and not hasattr(mine, "_load_hook")
    _same_state(mine, theirs)
    _same(ym, yt)
    (ym ** 2).sum().backward()
    (yt ** 2).sum().backward()
    _same(xm.grad, xt.grad)
    _same(mine.weight.grad, theirs.weight.grad)
    _same(mine.bias.grad, theirs.bias.grad)


CASES = [   # (class, args, kwargs, input shape)
    ("LazyLinear", (5,), {"bias": False}, (2, 3, 6)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 8)),
    ("LazyConv2d", (4, 3), {"groups": 2, "stride": 2}, (2, 6, 7, 7)),
    ("LazyConv2d", (3, 2), {"padding_mode": "reflect", "padding": 1}, (3, 5, 5)),
    ("LazyConv3d", (2, 2), {"bias": False}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2}, (2, 4, 5, 5)),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), {"momentum": None}, (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), {"affine": False}, (2, 2, 3, 3, 3)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 6)),
    ("LazyInstanceNorm2d", (), {"track_running_stats": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {"bias": False}, (2, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CASES)
def test_lazy_module_matches_torch(name, args, kwargs, shape):
    mine, theirs = _pair(lambda nn: getattr(nn, name)(*args, **kwargs))
    assert repr(mine) == repr(theirs)
    assert [type(v).__name__ for v in mine.state_dict().values()] == \
        [type(v).__name__ for v in theirs.state_dict().values()]
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    xm, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = mine(xm), theirs(xt)
    assert type(mine).__name__ == type(theirs).__name__ == name[4:]
    assert repr(mine) == repr(theirs)
    _same_state(mine, theirs)
    _same(ym, yt, atol=1e-5)
    g = np.random.default_rng(2).standard_normal(yt.shape).astype(np.float32)
    ym.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    _same(xm.grad, xt.grad, atol=1e-5)
    for (k, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters()):
        _same(p.grad, q.grad, atol=1e-4)


def test_uninitialized_parameter_and_buffer():
    p, q = cr.nn.UninitializedParameter(), torch.nn.UninitializedParameter()
    assert repr(p) == str(p) == repr(q) == "<UninitializedParameter>"
    assert isinstance(p, cr.nn.Parameter) and p.requires_grad and p.is_leaf and p.grad is None
    assert p.dtype == cr.float32 and tuple(p.size()) == (0,) and p.ndim == 1
    assert cr.nn.parameter.is_lazy(p) and not cr.nn.parameter.is_lazy(cr.nn.Parameter(cr.ones(1)))
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        p.shape
    for use in (lambda: p + 1, lambda: p.sum(), lambda: cr.nn.functional.linear(cr.ones(2, 3), p),
                lambda: p.detach(), lambda: p.numpy(), lambda: p.requires_grad_(False)):
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in"):
            use()
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized"):
        p.share_memory_()
    assert p.double().dtype == cr.float64 and tuple(p.double().shape) == (0,)
    d = copy.deepcopy(cr.nn.UninitializedParameter(dtype=cr.float64))
    assert type(d) is cr.nn.UninitializedParameter and d.dtype == cr.float64
    assert repr(pickle.loads(pickle.dumps(p))) == "<UninitializedParameter>"
    p.materialize((2, 3))
    assert type(p) is cr.nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
    b = cr.nn.UninitializedBuffer()
    assert isinstance(b, cr.nn.Buffer) and b.persistent and not b.requires_grad
    b.materialize((3,), dtype=cr.float64)
    assert type(b) is cr.Tensor and b.dtype == cr.float64 and tuple(b.shape) == (3,)


def test_state_dict_of_uninitialized_and_loading_into_lazy():
    lazy = cr.nn.LazyLinear(4)
    sd = lazy.state_dict()
    assert [repr(v) for v in sd.values()] == ["<UninitializedParameter>"] * 2
    assert repr(torch.nn.LazyLinear(4).state_dict()) == repr(sd).replace("chainrule", "torch")
    assert repr(cr.nn.LazyLinear(4).load_state_dict(sd)) == "<All keys matched successfully>"
    # a materialized (torch) state dict into a fresh lazy module: loaded, kept at the first call
    full = torch.nn.Linear(3, 4)
    fresh = cr.nn.LazyLinear(4)
    fresh.load_state_dict({k: cr.tensor(v.numpy()) for k, v in full.state_dict().items()})
    assert type(fresh) is cr.nn.LazyLinear and type(fresh.weight) is cr.nn.Parameter
    assert tuple(fresh.weight.shape) == (4, 3) and fresh.in_features == 0
    x = np.ones((2, 3), np.float32)
    _same(fresh(cr.tensor(x)), full(torch.tensor(x)))
    assert type(fresh) is cr.nn.Linear and fresh.in_features == 3
    _same_state(fresh, full)
    with pytest.raises(AssertionError, match="in_features inferred from input: 5 is not equal"):
        again = cr.nn.LazyLinear(4)
        again.load_state_dict(fresh.state_dict())
        again(cr.ones(2, 5))
    # an uninitialized state dict into an initialized module: torch's error
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        cr.nn.Linear(3, 4).load_state_dict(cr.nn.LazyLinear(4).state_dict())
    # batch norm: parameters and buffers alike
    bn_t = torch.nn.BatchNorm2d(3)
    bn_t(torch.randn(2, 3, 4, 4))
    bn = cr.nn.LazyBatchNorm2d()
    bn.load_state_dict({k: cr.tensor(v.numpy()) for k, v in bn_t.state_dict().items()})
    assert not bn.has_uninitialized_params()
    _same_state(bn, bn_t)


def test_dtype_before_the_first_call_and_errors():
    m = cr.nn.LazyLinear(4).double()
    assert m.weight.dtype == cr.float64
    m(cr.ones(2, 3, dtype=cr.float64))
    assert m.weight.dtype == cr.float64 and m.bias.dtype == cr.float64
    assert cr.nn.LazyConv2d(2, 3, dtype=cr.float64).weight.dtype == cr.float64
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input "
                                           "to LazyConv2d"):
        cr.nn.LazyConv2d(4, 3)(cr.ones(3, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        cr.nn.LazyConv2d(4, 3, groups=2)(cr.ones(1, 3, 5, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        cr.nn.LazyBatchNorm2d()(cr.ones(3, 3))
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        cr.nn.LazyLinear(3).requires_grad_(False)
    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented"):
        class Half(cr.nn.modules.lazy.LazyModuleMixin, cr.nn.Module):
            def forward(self, x):
                return x
        Half()(cr.ones(1))
    assert repr(copy.deepcopy(cr.nn.LazyLinear(2)).weight) == "<UninitializedParameter>"
    assert repr(pickle.loads(pickle.dumps(cr.nn.LazyConv1d(2, 3)))) == \
        repr(torch.nn.LazyConv1d(2, 3))


def test_reprs_before_the_first_call():
    for name, args in [("LazyConv2d", (8, 3)), ("LazyBatchNorm2d", ()),
                       ("LazyInstanceNorm2d", ()), ("LazyConvTranspose2d", (3, 2))]:
        assert repr(getattr(cr.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_optimizer_built_before_the_dry_run_steps_the_materialized_parameters():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.LazyLinear(2)
        opt = lib.optim.Adam(m.parameters(), lr=0.1)
        x = lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
        for _ in range(2):
            opt.zero_grad()
            m(x).pow(2).sum().backward()
            opt.step()
        return m
    _same_state(run(cr), run(torch))


def test_sequential_of_lazy_layers_trains_as_torch():
    def run(lib):
        lib.manual_seed(0)
        nn = lib.nn
        net = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
                            nn.Flatten(), nn.LazyLinear(3))
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((4, 2, 5, 5)).astype(np.float32))
        y = lib.tensor(rng.integers(0, 3, 4))
        net(x)   # the dry run
        assert [type(m).__name__ for m in net] == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten",
                                                   "Linear"]
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, net
    (mine, net), (theirs, ref) = run(cr), run(torch)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5)
    _same_state(net, ref)


def test_weight_norm_refuses_an_uninitialized_weight():
    for lib in (torch, cr):
        with pytest.raises(ValueError, match="can't have uninitialized parameters"):
            lib.nn.utils.weight_norm(lib.nn.LazyLinear(3))


def test_a_users_lazy_module():
    def run(lib):
        class Scale(lib.nn.modules.lazy.LazyModuleMixin, lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.gain = lib.nn.UninitializedParameter()
                self.register_buffer("seen", lib.nn.UninitializedBuffer())

            def initialize_parameters(self, x):
                self.gain.materialize((x.shape[-1],))
                self.seen.materialize((x.shape[-1],))
                lib.nn.init.normal_(self.gain)
                self.seen.zero_()

            def forward(self, x):
                return x * self.gain
        lib.manual_seed(0)
        m = Scale()
        assert m.has_uninitialized_params()
        out = m(lib.ones(2, 3))
        assert type(m) is Scale and not m.has_uninitialized_params()
        return out, m
    (mine, m), (theirs, t) = run(cr), run(torch)
    _same(mine, theirs)
    _same_state(m, t)
