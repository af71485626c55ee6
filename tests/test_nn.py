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
    with pytest.raises(RuntimeError, match=r"mse_loss: target size \(3,\) must be the same as input size \(2,\)"):
        F.mse_loss(cr.zeros(2), cr.zeros(3))
    with pytest.raises(IndexError, match="out of bounds for 3 classes"):
        F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 5]))
    with pytest.raises(RuntimeError, match="expected target of shape"):
        F.cross_entropy(cr.zeros(2, 3, 4), cr.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


# ------------------------------------------------------------------ layers and Module
def _copy_to_torch(module, ref):
    assert list(module.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})


def _check_modes(module, ref, x, modes):
    """Outputs and gradients against torch in each mode in turn, then the state_dicts (running
    statistics included)."""
    for mode in modes:
        getattr(module, mode)()
        getattr(ref, mode)()
        check_fn(module, ref, x, rtol=1e-4, atol=1e-5)
    for a, b in zip(module.state_dict().values(), ref.state_dict().values()):
        _close(a, b, rtol=1e-5, atol=1e-6)


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
    _check_modes(module, ref, x, ("train", "eval", "train"))


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

    hc = attach(mine, "cr")
    attach(ref, "torch")
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


def test_linear_and_cross_entropy_nodes_are_twice_differentiable_with_jvp():
    x = cr.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    w = cr.tensor(RNG.standard_normal((5, 4)), requires_grad=True)
    b = cr.tensor(RNG.standard_normal(5), requires_grad=True)
    assert F.linear(x, w, b).grad_fn.next_functions[0][0].name() == "AddmmBackward0"
    assert cr.autograd.gradcheck(F.linear, (x, w, b), check_forward_ad=True)
    assert cr.autograd.gradgradcheck(F.linear, (x, w, b))
    z = cr.tensor(RNG.standard_normal((6, 4)), requires_grad=True)
    t = cr.tensor([0, 3, 1, 1, 2, 0])
    for reduction in ("mean", "sum"):
        assert F.cross_entropy(z, t, reduction=reduction).grad_fn.name() == "NllLossBackward0"
        fn = lambda a: F.cross_entropy(a, t, reduction=reduction)
        assert cr.autograd.gradcheck(fn, (z,), check_forward_ad=True)
        assert cr.autograd.gradgradcheck(fn, (z,))


# ------------------------------------------------------------------ audit additions (issue 4)
def test_containers_identity_flatten_unflatten_match_torch():
    """ModuleList / ModuleDict / Identity / Flatten / Unflatten: same state_dict keys, outputs,
    gradients and repr as torch's."""
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Identity(), n.Flatten(), n.Unflatten(1, (3, 4)), n.Flatten(0, 1),
                            n.ModuleList([n.Linear(4, 3), n.Tanh()])[0],
                            n.ModuleDict({"act": n.ReLU(), "out": n.Linear(3, 2)})["out"])
    mine, ref = build(cr), build(torch)
    _copy_to_torch(mine, ref)
    check_fn(mine, ref, _x(2, 3, 4, dtype=np.float32), rtol=1e-5, atol=1e-6)
    assert repr(mine) == repr(ref)

    def lists(lib):
        n = lib.nn
        ml = n.ModuleList([n.Linear(2, 2)])
        ml.append(n.ReLU())
        ml.extend([n.Linear(2, 1)])
        ml.insert(1, n.Tanh())
        md = n.ModuleDict({"b": n.Linear(1, 1), "a": n.Linear(1, 2)})
        md["c"] = n.Sigmoid()
        holder = n.Module()
        holder.layers, holder.heads = ml, md
        return holder
    mine, ref = lists(cr), lists(torch)
    assert list(mine.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in ref.named_modules()]
    assert repr(mine.layers) == repr(ref.layers) and repr(mine.heads) == repr(ref.heads)
    assert list(mine.heads.keys()) == list(ref.heads.keys()) == ["b", "a", "c"]
    assert len(mine.layers) == len(ref.layers) == 4
    assert [type(m).__name__ for m in mine.layers[1:3]] == ["Tanh", "ReLU"]

    def edit(lib):                       # removal renumbers the children, as torch's lists do
        n = lib.nn
        seq = n.Sequential(n.Linear(1, 2), n.ReLU(), n.Linear(2, 3), n.Tanh())
        del seq[1]
        seq.insert(0, n.Identity())
        seq.append(n.Linear(3, 1))
        popped = seq.pop(2)
        ml = n.ModuleList([n.Linear(1, 1), n.ReLU(), n.Linear(1, 2)])
        del ml[0]
        ml.pop(0)
        md = n.ModuleDict({"a": n.ReLU(), "b": n.Linear(2, 2)})
        md.pop("a")
        holder = n.Module()
        holder.seq, holder.ml, holder.md = seq, ml, md
        return holder, type(popped).__name__
    (mine, pc), (ref, pt) = edit(cr), edit(torch)
    assert pc == pt
    assert list(mine.state_dict()) == list(ref.state_dict())
    assert repr(mine) == repr(ref)


def test_module_buffers_requires_grad_apply_and_to_dtype_like_torch():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 1))
    mine, ref = build(cr), build(torch)
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert len(list(mine.buffers())) == len(list(ref.buffers())) == 3
    assert mine.requires_grad_(False) is mine
    assert not any(p.requires_grad for p in mine.parameters())
    mine.requires_grad_()
    assert all(p.requires_grad for p in mine.parameters())
    # apply visits children before the module itself, as torch's (post-order)
    seen_c, seen_t = [], []
    mine.apply(lambda m: seen_c.append(type(m).__name__))
    ref.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_c == seen_t
    mine.apply(lambda m: nn.init.constant_(m.weight, 0.5) if isinstance(m, nn.Linear) else None)
    assert np.all(mine[0].weight.detach().numpy() == 0.5) and mine[0].weight.requires_grad
    assert mine.to(cr.float64) is mine
    assert all(t.dtype == cr.float64 for t in mine.state_dict().values()
               if t.dtype.is_floating_point)
    assert mine[1].num_batches_tracked.dtype == cr.int64      # integer buffers keep their dtype
    assert mine.float()[0].weight.dtype == cr.float32
    p = nn.Parameter(cr.zeros(2))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    assert repr(nn.Parameter(cr.zeros(2))).startswith("Parameter containing:")


def test_functional_init_matches_torch_statistics():
    """Each init_ against torch's on the same shape: the two samples come from one distribution
    (Kolmogorov-Smirnov), and the constant inits are exact."""
    stats = pytest.importorskip("scipy.stats")
    cases = [
        ("uniform_", dict(a=-0.3, b=0.7)), ("normal_", dict(mean=0.2, std=0.5)),
        ("xavier_uniform_", dict(gain=1.3)), ("xavier_normal_", dict()),
        ("kaiming_uniform_", dict(a=math.sqrt(5))), ("kaiming_uniform_", dict(mode="fan_out")),
        ("kaiming_normal_", dict(nonlinearity="relu")),
        ("kaiming_normal_", dict(a=0.1, mode="fan_out", nonlinearity="leaky_relu")),
    ]
    for name, kw in cases:
        c, t = cr.empty(120, 80), torch.empty(120, 80)
        out = getattr(nn.init, name)(c, **kw)
        assert out is c
        getattr(torch.nn.init, name)(t, **kw)
        p = stats.ks_2samp(c.numpy().ravel(), t.numpy().ravel()).pvalue
        assert p > 1e-4, (name, kw, p)
    for name, args, value in [("constant_", (0.3,), 0.3), ("zeros_", (), 0.0), ("ones_", (), 1.0)]:
        c = cr.empty(3, 4, requires_grad=True)
        getattr(nn.init, name)(c, *args)
        assert np.all(c.detach().numpy() == np.float32(value)) and c.grad_fn is None
    c = cr.empty(5, 9)
    nn.init.orthogonal_(c, gain=2.0)                             # wide: orthogonal rows
    np.testing.assert_allclose(c.numpy() @ c.numpy().T, 4 * np.eye(5), atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(60, 40), lambda lib: lib.nn.Bilinear(30, 20, 10),
    lambda lib: lib.nn.Embedding(50, 40), lambda lib: lib.nn.LayerNorm(30),
    lambda lib: lib.nn.BatchNorm1d(30),
], ids=["Linear", "Bilinear", "Embedding", "LayerNorm", "BatchNorm1d"])
def test_every_layer_initializes_with_torchs_default_scheme(make):
    stats = pytest.importorskip("scipy.stats")
    cr.manual_seed(0)
    torch.manual_seed(0)
    mine, ref = make(cr), make(torch)
    for (k, a), b in zip(mine.state_dict().items(), ref.state_dict().values()):
        a, b = a.numpy().ravel().astype(np.float64), b.numpy().ravel().astype(np.float64)
        if np.all(b == b[0]):                                    # constants: exactly equal
            np.testing.assert_array_equal(a, b, err_msg=k)
        else:                                                    # random: same distribution
            assert stats.ks_2samp(a, b).pvalue > 1e-4, k


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.LayerNorm(5, elementwise_affine=False),
    lambda lib: lib.nn.LayerNorm([4, 5], eps=1e-3),
    lambda lib: lib.nn.LayerNorm(5, bias=False),
    lambda lib: lib.nn.BatchNorm1d(4, momentum=0.3, eps=1e-3),
], ids=["ln-noaffine", "ln-2d-eps", "ln-nobias", "bn1d-3d-momentum"])
def test_normalization_options_train_and_eval(make):
    module, ref = make(cr), make(torch)
    _copy_to_torch(module, ref)
    with torch.no_grad():
        for p in ref.parameters():                 # non-trivial affine parameters
            p.copy_(torch.tensor(_x(*p.shape, dtype=np.float32)))
    module.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x = _x(3, 4, 5, dtype=np.float32)
    _check_modes(module, ref, x, ("train", "train", "eval"))


def test_dropout_edges_and_functional_match_torch():
    x = cr.tensor(_x(50, 40, dtype=np.float32), requires_grad=True)
    assert F.dropout(x, 0.0) is x or np.array_equal(F.dropout(x, 0.0).detach().numpy(), x.detach().numpy())
    np.testing.assert_array_equal(F.dropout(x, 1.0).detach().numpy(),
                                  TF.dropout(torch.tensor(x.detach().numpy()), 1.0).numpy())
    assert F.dropout(x, 0.5, training=False) is x
    cr.manual_seed(3)
    out = F.dropout(x, 0.4)
    out.sum().backward()
    mask = out.detach().numpy() != 0
    # backward uses the same mask and scale as forward: grad = mask / (1 − p)
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.6, rtol=1e-6)
    assert abs(1 - mask.mean() - 0.4) < 0.03
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))


@pytest.mark.parametrize("module, ref", [
    (nn.ELU(alpha=2.0), torch.nn.ELU(alpha=2.0)), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(beta=2.0, threshold=5.0)),
    (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)), (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()),
], ids=["elu-alpha", "gelu-tanh", "softplus-beta", "softmax-0", "logsoftmax-1", "leaky-default"])
def test_activation_module_options(module, ref):
    x = np.random.default_rng(11).standard_normal((3, 4, 5)) * 3
    check_fn(module, ref, x)
    # float32: torch's tanh-GELU rounds 1 + tanh(u) to 0 in the left tail (x ≈ −5: the true
    # gradient is ~4e-7, torch gives 0); chainrule computes σ(2u) and keeps it, so allow 2e-6
    check_fn(module, ref, x.astype(np.float32), atol=2e-6)
    assert repr(module) == repr(ref)


def test_heaviside_module_and_functional_vs_torch_and_docstrings():
    x = np.array([-1e4, -1.0, 0.0, 0.0, 2.0, 1e4])
    for v in (0.0, 0.5, 1.0):
        c = cr.tensor(x, requires_grad=True)
        out = nn.Heaviside(v)(c)
        _close(out, torch.heaviside(torch.tensor(x), torch.tensor(v, dtype=torch.float64)))
        out.sum().backward()
        assert np.all(c.grad.numpy() == 0.0)
    assert "gradient" in nn.Heaviside.__doc__ and "gradient descent" in nn.Heaviside.__doc__
    assert "derivative" in F.heaviside.__doc__.lower()
    # each activation's docstring gives the equation and its derivative
    for fn in (F.sigmoid, F.tanh, F.relu, F.leaky_relu, F.elu, F.gelu, F.silu, F.softplus,
               F.softmax, F.log_softmax):
        doc = fn.__doc__
        assert "=" in doc and any(s in doc.lower() for s in ("derivative", "'", "∂", "dy/dz")), fn


def test_sigmoid_tanh_and_softmax_stable_at_1e4_in_float64_with_gradients():
    x = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4]])
    for cf, tf in [(F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh), (F.logsigmoid, TF.logsigmoid),
                   (lambda a: F.softmax(a, 1), lambda a: TF.softmax(a, 1)),
                   (lambda a: F.log_softmax(a, 1), lambda a: TF.log_softmax(a, 1)),
                   (F.softplus, TF.softplus), (F.silu, TF.silu), (F.elu, TF.elu), (F.gelu, TF.gelu)]:
        for dtype in (np.float32, np.float64):
            xc = cr.tensor(x.astype(dtype), requires_grad=True)
            out = cf(xc)
            out.sum().backward()
            assert np.all(np.isfinite(out.detach().numpy())) and np.all(np.isfinite(xc.grad.numpy()))
            check_fn(cf, tf, x.astype(dtype))


# --- losses: the modules (every option) against torch's modules
LOSS_MODULES = [
    ("BCELoss", dict(), "prob"), ("BCELoss", dict(weight="w"), "prob"),
    ("BCEWithLogitsLoss", dict(), "logit"),
    ("BCEWithLogitsLoss", dict(weight="w", pos_weight="pw"), "logit"),
    ("CrossEntropyLoss", dict(), "ce"),
    ("CrossEntropyLoss", dict(weight="cw", ignore_index=2, label_smoothing=0.15), "ce"),
    ("CrossEntropyLoss", dict(weight="cw", label_smoothing=0.2), "ce-prob"),
    ("CrossEntropyLoss", dict(weight="cw", ignore_index=0), "ce-nd"),
    ("NLLLoss", dict(), "nll"), ("NLLLoss", dict(weight="cw", ignore_index=1), "nll"),
    ("NLLLoss", dict(weight="cw"), "nll-nd"),
    ("PoissonNLLLoss", dict(), "poisson"), ("PoissonNLLLoss", dict(log_input=False, full=True, eps=1e-3), "poisson+"),
    ("GaussianNLLLoss", dict(), "gauss"), ("GaussianNLLLoss", dict(full=True, eps=1e-2), "gauss-1"),
    ("KLDivLoss", dict(), "kl"), ("KLDivLoss", dict(log_target=True), "kl-log"),
    ("HuberLoss", dict(delta=0.4), "reg"), ("SmoothL1Loss", dict(beta=0.0), "reg"),
    ("SmoothL1Loss", dict(beta=2.0), "reg"),
]


def _loss_inputs(kind):
    r = np.random.default_rng(5)
    if kind == "prob":
        return [r.uniform(0.02, 0.98, (4, 3)), r.integers(0, 2, (4, 3)).astype(np.float64)], [0]
    if kind == "logit":
        return [r.standard_normal((4, 3)) * 3, r.random((4, 3))], [0, 1]
    if kind in ("ce", "nll"):
        z = r.standard_normal((7, 4)) * 2
        z = np.log(r.dirichlet(np.ones(4), 7)) if kind == "nll" else z
        return [z, np.array([0, 1, 2, 3, 2, 1, 0])], [0]
    if kind in ("ce-nd", "nll-nd"):
        z = r.standard_normal((2, 4, 3, 2))
        return [z, r.integers(0, 4, (2, 3, 2))], [0]
    if kind == "ce-prob":
        return [r.standard_normal((5, 4)), r.dirichlet(np.ones(4), 5)], [0]
    if kind == "poisson":
        return [r.standard_normal(6), r.poisson(2, 6).astype(np.float64)], [0]
    if kind == "poisson+":
        return [r.uniform(0.1, 3, 6), r.poisson(2, 6).astype(np.float64)], [0]
    if kind == "gauss":
        return [r.standard_normal((5, 2)), r.standard_normal((5, 2)), r.uniform(0.1, 2, (5, 2))], [0, 1, 2]
    if kind == "gauss-1":                                        # one variance per sample
        return [r.standard_normal((5, 2)), r.standard_normal((5, 2)), r.uniform(0.001, 2, (5, 1))], [0, 2]
    if kind in ("kl", "kl-log"):
        t = r.dirichlet(np.ones(4), 3)
        return [np.log(r.dirichlet(np.ones(4), 3)), np.log(t) if kind == "kl-log" else t], [0, 1]
    return [r.standard_normal((4, 3)), r.standard_normal((4, 3))], [0, 1]


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", LOSS_MODULES, ids=lambda c: f"{c[0]}-{c[2]}-{len(c[1])}")
def test_loss_modules_every_option_match_torch(case, reduction):
    name, opts, kind = case
    r = np.random.default_rng(9)
    tensors = {"w": r.random((4, 3)) + 0.1, "pw": r.random(3) + 0.5, "cw": r.random(4) + 0.2}

    def make(lib):
        kw = {k: (lib.tensor(tensors[v]) if isinstance(v, str) else v) for k, v in opts.items()}
        return getattr(lib.nn, name)(reduction=reduction, **kw)
    arrays, grad_args = _loss_inputs(kind)
    mine, ref = make(cr), make(torch)
    check_fn(mine, ref, *arrays, grad_args=grad_args, rtol=1e-7, atol=1e-9)
    assert repr(mine) == repr(ref)


@pytest.mark.parametrize("case", [
    ("ce-smooth", lambda a, t, lib: (F if lib is cr else TF).cross_entropy(a, t, label_smoothing=0.1)),
    ("ce-weight-ignore", lambda a, t, lib: (F if lib is cr else TF).cross_entropy(
        a, t, weight=lib.tensor([1.0, 2.0, 0.5]), ignore_index=0, reduction="sum")),
    ("nll-logsoftmax", lambda a, t, lib: (F if lib is cr else TF).nll_loss(
        (F if lib is cr else TF).log_softmax(a, 1), t)),
], ids=lambda c: c[0] if isinstance(c, tuple) else None)
def test_logit_losses_finite_and_torch_exact_at_1e4(case):
    _, fn = case
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [3.0, -1e4, 1e4]], np.float32)
    t = np.array([1, 0, 2])
    c = cr.tensor(z, requires_grad=True)
    out = fn(c, cr.tensor(t), cr)
    out.backward()
    assert np.isfinite(out.item()) and np.all(np.isfinite(c.grad.numpy()))
    check_fn(lambda a: fn(a, cr.tensor(t), cr), lambda a: fn(a, torch.tensor(t), torch), z)
    probs = np.array([[0.2, 0.8, 0.0], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], np.float32)
    check_fn(lambda a: F.cross_entropy(a, cr.tensor(probs), label_smoothing=0.1),
             lambda a: TF.cross_entropy(a, torch.tensor(probs), label_smoothing=0.1), z)
    pw = np.array([2.0, 0.5, 1.0], np.float32)
    check_fn(lambda a: F.binary_cross_entropy_with_logits(a, cr.tensor(probs), pos_weight=cr.tensor(pw)),
             lambda a: TF.binary_cross_entropy_with_logits(a, torch.tensor(probs), pos_weight=torch.tensor(pw)),
             z)


def test_hooks_edge_cases_like_torch():
    """Pre-hooks that replace the input, several hooks in registration order, with_kwargs
    off, removal, and a backward hook whose module input needs no gradient."""
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Sigmoid(), lib.nn.Linear(4, 2))
    mine, ref = build(cr), build(torch)
    _copy_to_torch(mine, ref)
    logs = {"cr": [], "torch": []}

    def attach(model, key, lib):
        model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))       # replaces input
        model[1].register_forward_hook(lambda m, a, o: logs[key].append("f1"))
        h2 = model[1].register_forward_hook(lambda m, a, o: logs[key].append("f2"))
        model[0].register_full_backward_hook(
            lambda m, gi, go: logs[key].append(("b0", gi[0] is None, tuple(go[0].shape))))
        model[2].register_full_backward_hook(
            lambda m, gi, go: (gi[0] * 3,))                                      # replaces grad_input
        return h2
    h_c, h_t = attach(mine, "cr", cr), attach(ref, "torch", torch)
    x = _x(5, 3, dtype=np.float32)
    oc, ot = mine(cr.tensor(x)), ref(torch.tensor(x))    # input does not require grad
    _close(oc, ot)
    oc.sum().backward()
    ot.sum().backward()
    assert logs["cr"] == logs["torch"], (logs["cr"], logs["torch"])
    for a, b in zip(mine.parameters(), ref.parameters()):
        _close(a.grad, b.grad, rtol=1e-5, atol=1e-6)
    h_c.remove()
    h_t.remove()
    mine(cr.tensor(x))
    ref(torch.tensor(x))
    assert logs["cr"] == logs["torch"]


@pytest.mark.parametrize("fns", ACTIVATIONS + [
    (lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0)),
    (lambda x: F.hardtanh(x, -0.5, 1.0), lambda x: TF.hardtanh(x, -0.5, 1.0)),
    (lambda x: F.softplus(x, beta=1, threshold=0.5), lambda x: TF.softplus(x, beta=1, threshold=0.5)),
], ids=lambda f: getattr(f[1], "__name__", "lambda"))
def test_activation_gradients_at_kinks_and_ties_match_torch(fns):
    """Random inputs never hit a kink; these do: 0, ±0.5, ±1 (hardtanh's bounds, softplus's
    threshold) — where a max/min/clamp formulation can split or pass a gradient torch does not."""
    x = np.array([[-20.0, -1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 20.0]])
    for dtype in (np.float32, np.float64):
        check_fn(fns[0], fns[1], x.astype(dtype))
