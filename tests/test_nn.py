"""nn modules, activations and losses against torch: forward, every gradient, state_dict keys,
train/eval, hooks, init statistics, errors."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F
import torch.nn.functional as TF

RNG = np.random.default_rng(0)


def _pair(array, grad=True):
    return cr.tensor(array, requires_grad=grad), torch.tensor(array, requires_grad=grad)


def _close(a, b, rtol=1e-5, atol=1e-6):
    a = a.detach().numpy() if isinstance(a, cr.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def check_fn(cr_fn, torch_fn, *arrays, rtol=1e-5, atol=1e-6, grad_args=None):
    """Same inputs into both; compare the output and every input's gradient."""
    grad_args = range(len(arrays)) if grad_args is None else grad_args
    cs, ts = zip(*[_pair(a, i in grad_args and a.dtype.kind == "f") for i, a in enumerate(arrays)])
    oc, ot = cr_fn(*cs), torch_fn(*ts)
    _close(oc, ot, rtol, atol)
    g = RNG.standard_normal(ot.shape).astype(arrays[0].dtype)
    oc.backward(cr.tensor(g))
    ot.backward(torch.tensor(g))
    for i in grad_args:
        _close(cs[i].grad, ts[i].grad, rtol, atol)


def _x(*shape, scale=1.0, dtype=np.float64):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


# ------------------------------------------------------------------ activations
ACTIVATIONS = [
    (F.relu, TF.relu), (F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh),
    (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1)),
    (F.elu, TF.elu), (F.gelu, TF.gelu),
    (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    (F.silu, TF.silu), (F.softplus, TF.softplus),
    (lambda x: F.softplus(x, beta=2, threshold=3), lambda x: TF.softplus(x, beta=2, threshold=3)),
    (lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1)),
    (lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1)),
    (F.logsigmoid, TF.logsigmoid), (F.hardtanh, TF.hardtanh),
]


@pytest.mark.parametrize("fns", ACTIVATIONS, ids=lambda f: getattr(f[1], "__name__", "lambda"))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_matches_torch(fns, dtype):
    check_fn(fns[0], fns[1], _x(4, 5, scale=3, dtype=dtype))


@pytest.mark.parametrize("fns", [(F.sigmoid, torch.sigmoid), (F.softplus, TF.softplus),
                                 (F.logsigmoid, TF.logsigmoid),
                                 (lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0))])
def test_activations_are_stable_at_1e4(fns):
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], np.float32)
    c, t = fns[0](cr.tensor(x)), fns[1](torch.tensor(x))
    assert np.all(np.isfinite(c.numpy()))
    _close(c, t)


def test_heaviside_values_convention_and_zero_gradient():
    x = cr.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    for v in (0.0, 0.5, 1.0):
        out = F.heaviside(x, v)
        ref = torch.heaviside(torch.tensor([-2.0, 0.0, 3.0]), torch.tensor(v))
        _close(out, ref)
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert nn.Heaviside(1.0)(cr.tensor([0.0])).tolist() == [1.0]


@pytest.mark.parametrize("module, ref", [
    (nn.ReLU(), torch.nn.ReLU()), (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (nn.ELU(0.5), torch.nn.ELU(0.5)),
    (nn.GELU(), torch.nn.GELU()), (nn.SiLU(), torch.nn.SiLU()), (nn.Softplus(), torch.nn.Softplus()),
    (nn.Softmax(dim=-1), torch.nn.Softmax(dim=-1)), (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
])
def test_activation_modules(module, ref):
    check_fn(module, ref, _x(3, 4))
    assert repr(module) == repr(ref)


def test_inplace_relu_on_non_leaf_records_the_graph():
    xc, xt = _pair(_x(3, 4))
    oc = (xc * 2).relu_() if False else F.relu(xc * 2, inplace=True)
    ot = TF.relu(xt * 2, inplace=True)
    oc.sum().backward()
    ot.sum().backward()
    _close(xc.grad, xt.grad)


# ------------------------------------------------------------------ losses
def _logits(n=6, c=5, scale=2.0):
    return _x(n, c, scale=scale)


LOSS_CASES = [
    ("mse", lambda a, b, r: F.mse_loss(a, b, reduction=r), lambda a, b, r: TF.mse_loss(a, b, reduction=r)),
    ("l1", lambda a, b, r: F.l1_loss(a, b, reduction=r), lambda a, b, r: TF.l1_loss(a, b, reduction=r)),
    ("huber", lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=0.7),
     lambda a, b, r: TF.huber_loss(a, b, reduction=r, delta=0.7)),
    ("smooth_l1", lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.5),
     lambda a, b, r: TF.smooth_l1_loss(a, b, reduction=r, beta=0.5)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: c[0])
def test_regression_losses(case, reduction):
    _, fc, ft = case
    check_fn(lambda a, b: fc(a, b, reduction), lambda a, b: ft(a, b, reduction), _x(4, 3), _x(4, 3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"ignore_index": 1},
                                     {"label_smoothing": 0.2},
                                     {"weight": True, "label_smoothing": 0.1, "ignore_index": 2}])
def test_cross_entropy_class_indices(options, reduction):
    target = np.array([0, 1, 2, 3, 4, 1])
    w = RNG.random(5) + 0.5

    def kw(lib):
        out = dict(options, reduction=reduction)
        if options.get("weight"):
            out["weight"] = lib.tensor(w)
        return out
    check_fn(lambda z: F.cross_entropy(z, cr.tensor(target), **kw(cr)),
             lambda z: TF.cross_entropy(z, torch.tensor(target), **kw(torch)), _logits())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_nd_and_probabilities(reduction):
    target = RNG.integers(0, 3, (2, 4, 5))
    check_fn(lambda z: F.cross_entropy(z, cr.tensor(target), reduction=reduction),
             lambda z: TF.cross_entropy(z, torch.tensor(target), reduction=reduction),
             _x(2, 3, 4, 5))
    probs = RNG.random((6, 5))
    probs /= probs.sum(1, keepdims=True)
    for ls in (0.0, 0.3):
        check_fn(lambda z, p: F.cross_entropy(z, p, reduction=reduction, label_smoothing=ls),
                 lambda z, p: TF.cross_entropy(z, p, reduction=reduction, label_smoothing=ls),
                 _logits(), probs, grad_args=[0])


def test_cross_entropy_exact_at_logits_1e4():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]], np.float32)
    t = np.array([1, 1])
    check_fn(lambda a: F.cross_entropy(a, cr.tensor(t)), lambda a: TF.cross_entropy(a, torch.tensor(t)), z)


def test_nll_loss_matches_torch():
    target = np.array([4, 0, 1, 1, 2, 3])
    lp = np.log(RNG.dirichlet(np.ones(5), 6))
    check_fn(lambda a: F.nll_loss(a, cr.tensor(target)), lambda a: TF.nll_loss(a, torch.tensor(target)), lp)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_family(reduction):
    p = RNG.uniform(0.05, 0.95, (4, 3))
    y = RNG.integers(0, 2, (4, 3)).astype(np.float64)
    w = RNG.random((4, 3))
    check_fn(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
             lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), p, y, grad_args=[0])
    check_fn(lambda a, b: F.binary_cross_entropy(a, b, weight=cr.tensor(w), reduction=reduction),
             lambda a, b: TF.binary_cross_entropy(a, b, weight=torch.tensor(w), reduction=reduction),
             p, y, grad_args=[0])
    z = _x(4, 3, scale=3)
    pw = RNG.random(3) + 0.5
    check_fn(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                             pos_weight=cr.tensor(pw), weight=cr.tensor(w)),
             lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                              pos_weight=torch.tensor(pw), weight=torch.tensor(w)),
             z, y)


def test_bce_with_logits_stable_at_1e4():
    z = np.array([1e4, -1e4, 0.0], np.float32)
    y = np.array([0.0, 1.0, 1.0], np.float32)
    check_fn(lambda a, b: F.binary_cross_entropy_with_logits(a, b),
             lambda a, b: TF.binary_cross_entropy_with_logits(a, b), z, y, grad_args=[0])


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    inp = np.log(RNG.dirichlet(np.ones(4), 3))
    tgt = RNG.dirichlet(np.ones(4), 3)
    tgt[0, 1] = 0.0
    if log_target:
        tgt = np.log(tgt + 1e-3)
    check_fn(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
             lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), inp, tgt,
             grad_args=[0])


@pytest.mark.parametrize("log_input, full", [(True, False), (False, False), (True, True)])
def test_poisson_and_gaussian_nll(log_input, full):
    y = RNG.poisson(3, (5,)).astype(np.float64)
    inp = _x(5) if log_input else RNG.uniform(0.5, 4, 5)
    check_fn(lambda a, b: F.poisson_nll_loss(a, b, log_input=log_input, full=full),
             lambda a, b: TF.poisson_nll_loss(a, b, log_input=log_input, full=full), inp, y,
             grad_args=[0])
    var = RNG.uniform(0.2, 2, (5,))
    check_fn(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=full),
             lambda a, b, v: TF.gaussian_nll_loss(a, b, v, full=full), _x(5), _x(5), var)


@pytest.mark.parametrize("cls, ref, args", [
    (nn.MSELoss, torch.nn.MSELoss, ()), (nn.L1Loss, torch.nn.L1Loss, ()),
    (nn.HuberLoss, torch.nn.HuberLoss, ()), (nn.SmoothL1Loss, torch.nn.SmoothL1Loss, ()),
])
def test_loss_modules(cls, ref, args):
    for r in ("mean", "sum", "none"):
        check_fn(cls(reduction=r), ref(reduction=r), _x(3, 2), _x(3, 2))


def test_loss_errors():
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(cr.zeros(2), cr.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match=r"mse_loss: target size \(3,\) must be the same as input size \(2,\)"):
        F.mse_loss(cr.zeros(2), cr.zeros(3))
    with pytest.raises(IndexError, match="out of bounds for 3 classes"):
        F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 5]))
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(cr.zeros(2, 3, 4), cr.tensor([0, 1]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


# ------------------------------------------------------------------ layers and Module
def _copy_to_torch(module, ref):
    assert list(module.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(5, 3), lambda lib: lib.nn.Linear(5, 3, bias=False),
    lambda lib: lib.nn.Sequential(lib.nn.Linear(5, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)),
    lambda lib: lib.nn.LayerNorm(5), lambda lib: lib.nn.BatchNorm1d(5),
    lambda lib: lib.nn.BatchNorm1d(5, affine=False, momentum=None),
    lambda lib: lib.nn.BatchNorm1d(5, track_running_stats=False),
])
def test_layers_train_and_eval(make):
    module, ref = make(cr), make(torch)
    _copy_to_torch(module, ref)
    x = _x(6, 5, dtype=np.float32)
    for mode in ("train", "eval", "train"):
        getattr(module, mode)()
        getattr(ref, mode)()
        check_fn(module, ref, x, rtol=1e-4, atol=1e-5)
    for (k, a), b in zip(module.state_dict().items(), ref.state_dict().values()):
        _close(a, b, rtol=1e-5, atol=1e-6)


def test_batchnorm2d_running_stats_and_eval():
    bn, ref = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for _ in range(3):
        check_fn(bn, ref, _x(4, 3, 5, 5, dtype=np.float32), rtol=1e-4, atol=1e-5)
    _close(bn.running_mean, ref.running_mean)
    _close(bn.running_var, ref.running_var)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    ref.eval()
    check_fn(bn, ref, _x(2, 3, 4, 4, dtype=np.float32), rtol=1e-4, atol=1e-5)


def test_bilinear_and_embedding():
    bl, ref = nn.Bilinear(3, 4, 2), torch.nn.Bilinear(3, 4, 2)
    _copy_to_torch(bl, ref)
    check_fn(bl, ref, _x(5, 3, dtype=np.float32), _x(5, 4, dtype=np.float32), rtol=1e-4, atol=1e-5)
    emb, tref = nn.Embedding(6, 3, padding_idx=2), torch.nn.Embedding(6, 3, padding_idx=2)
    _copy_to_torch(emb, tref)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    oc, ot = emb(cr.tensor(idx)), tref(torch.tensor(idx))
    _close(oc, ot)
    oc.sum().backward()
    ot.sum().backward()
    _close(emb.weight.grad, tref.weight.grad)


def test_dropout_inverted_scaling_and_eval_identity():
    d = nn.Dropout(0.25)
    x = cr.ones(20000)
    out = d(x).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.02
    d.eval()
    assert d(x) is x


def test_module_registration_traversal_and_state_dict():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.head = nn.Linear(3, 1)
            self.register_buffer("steps", cr.zeros(1))
            self.register_buffer("scratch", cr.zeros(1), persistent=False)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["body.0.weight", "body.0.bias", "head.weight", "head.bias"]
    assert list(net.state_dict()) == ["steps", "body.0.weight", "body.0.bias", "head.weight", "head.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "head"]
    assert len(list(net.children())) == 2 and len(list(net.buffers())) == 2
    net.eval()
    assert not any(m.training for m in net.modules())
    net.zero_grad()
    net(cr.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    other = Net()
    other.load_state_dict(net.state_dict())
    _close(other.head.weight, net.head.weight.detach())
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: \"steps\""):
        other.load_state_dict({k: v for k, v in net.state_dict().items() if k != "steps"})
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        other.load_state_dict({**net.state_dict(), "head.weight": np.zeros((2, 3))})
    bad = {**net.state_dict(), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError, match="Unexpected key"):
        other.load_state_dict(bad)
    assert other.load_state_dict(bad, strict=False).unexpected_keys == ["extra"]
    net.double()
    assert net.head.weight.dtype == cr.float64


def test_module_repr_matches_torch():
    mine = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(3), nn.Flatten(),
                         nn.BatchNorm2d(4, affine=False))
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                              torch.nn.BatchNorm1d(3), torch.nn.Flatten(), torch.nn.BatchNorm2d(4, affine=False))
    assert repr(mine) == repr(ref)


def test_hooks_fire_like_torch():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))

    mine, ref = build(cr), build(torch)
    _copy_to_torch(mine, ref)
    logs = {"cr": [], "torch": []}

    def attach(model, key):
        model[0].register_forward_pre_hook(lambda m, args: logs[key].append(("pre", tuple(args[0].shape))))
        h = model[0].register_forward_hook(lambda m, a, out: logs[key].append(("fwd", tuple(out.shape))))
        model[2].register_full_backward_hook(
            lambda m, gi, go: logs[key].append(("bwd", np.array(gi[0].detach().numpy()),
                                                np.array(go[0].detach().numpy()))))
        return h

    hc, ht = attach(mine, "cr"), attach(ref, "torch")
    x = _x(5, 3, dtype=np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mine(xc).sum().backward()
    ref(xt).sum().backward()
    assert [e[0] for e in logs["cr"]] == [e[0] for e in logs["torch"]] == ["pre", "fwd", "bwd"]
    assert logs["cr"][:2] == logs["torch"][:2]
    np.testing.assert_allclose(logs["cr"][2][1], logs["torch"][2][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logs["cr"][2][2], logs["torch"][2][2], rtol=1e-5, atol=1e-6)
    _close(xc.grad, xt.grad)
    hc.remove()
    mine(xc)
    assert [e[0] for e in logs["cr"]].count("fwd") == 1


def test_forward_hook_can_replace_output():
    lin = nn.Linear(2, 2)
    lin.register_forward_hook(lambda m, a, out: out * 0)
    assert lin(cr.ones(1, 2)).tolist() == [[0.0, 0.0]]


# ------------------------------------------------------------------ init
def test_init_statistics_and_gain():
    for name in ("linear", "sigmoid", "tanh", "relu", "selu"):
        assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.2))
    w = cr.empty(400, 300)
    nn.init.xavier_uniform_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / 700)) < 2e-3
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 300)) < 2e-3
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    assert np.abs(w.numpy()).max() <= 1 / math.sqrt(300) + 1e-7
    q = cr.empty(6, 4)
    nn.init.orthogonal_(q)
    np.testing.assert_allclose(q.numpy().T @ q.numpy(), np.eye(4), atol=1e-5)
    lin = nn.Linear(50, 10)
    assert np.abs(lin.bias.detach().numpy()).max() <= 1 / math.sqrt(50)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(cr.empty(3))


def test_module_errors():
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'weight'"):
        nn.Linear(2, 2).weight = 3
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        nn.Linear(2, 2).nope
    with pytest.raises(RuntimeError, match="input's last dim must equal in_features"):
        nn.Linear(3, 2)(cr.zeros(4, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(cr.zeros(2, 3))


def test_fused_linear_and_cross_entropy_are_twice_differentiable_with_jvp():
    x = cr.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    w = cr.tensor(RNG.standard_normal((5, 4)), requires_grad=True)
    b = cr.tensor(RNG.standard_normal(5), requires_grad=True)
    assert F.linear(x, w, b).grad_fn.name() == "LinearBackward"
    assert cr.autograd.gradcheck(F.linear, (x, w, b), check_forward_ad=True)
    assert cr.autograd.gradgradcheck(F.linear, (x, w, b))
    z = cr.tensor(RNG.standard_normal((6, 4)), requires_grad=True)
    t = cr.tensor([0, 3, 1, 1, 2, 0])
    for reduction in ("mean", "sum"):
        assert F.cross_entropy(z, t, reduction=reduction).grad_fn.name() == "_CrossEntropyIndicesBackward"
        fn = lambda a: F.cross_entropy(a, t, reduction=reduction)
        assert cr.autograd.gradcheck(fn, (z,), check_forward_ad=True)
        assert cr.autograd.gradgradcheck(fn, (z,))
