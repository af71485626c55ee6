"""chainrule.optim against torch.optim: same parameters, same gradient sequence, 100 steps.

Every optimizer runs over the Cartesian product of its options (the combinations torch
accepts); parameters after 100 steps must agree with torch's to rtol 1e-5. The state dict is
checked three ways mid-run (step 50): a fresh chainrule optimizer loaded from chainrule's dict,
a chainrule optimizer loaded from torch's dict, and a torch optimizer loaded from chainrule's.
"""
import copy
import itertools

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim as optim
from chainrule.nn.utils import (clip_grad_norm_, clip_grad_value_, get_total_norm,
                                parameters_to_vector, vector_to_parameters)

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 100
RTOL, ATOL = 1e-5, 1e-6


def _product(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


def _valid_sgd(kw):
    return not kw["nesterov"] or (kw["momentum"] > 0 and kw["dampening"] == 0)


CASES = (
    [("SGD", dict(lr=0.05, **kw)) for kw in _product(
        momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True], weight_decay=[0, 0.1],
        maximize=[False, True]) if _valid_sgd(kw)]
    + [("Adagrad", dict(lr=0.05, **kw)) for kw in _product(
        lr_decay=[0, 0.01], weight_decay=[0, 0.1], initial_accumulator_value=[0, 0.5],
        eps=[1e-10, 1e-3], maximize=[False, True])]
    + [("RMSprop", dict(lr=0.01, **kw)) for kw in _product(
        alpha=[0.99, 0.6], weight_decay=[0, 0.1], momentum=[0, 0.5], centered=[False, True],
        maximize=[False, True])]
    + [("Adam", dict(lr=0.01, **kw)) for kw in _product(
        betas=[(0.9, 0.999), (0.3, 0.6)], weight_decay=[0, 0.1], amsgrad=[False, True],
        maximize=[False, True], eps=[1e-8])]
    + [("AdamW", dict(lr=0.01, **kw)) for kw in _product(
        betas=[(0.9, 0.999), (0.3, 0.6)], weight_decay=[0, 0.1], amsgrad=[False, True],
        maximize=[False, True])]
    + [("Adafactor", dict(lr=0.01, **kw)) for kw in _product(
        beta2_decay=[-0.8, -0.5], eps=[(None, 1e-3), (1e-6, 1e-2)], d=[1.0, 1.5],
        weight_decay=[0, 0.1], maximize=[False, True])]
)


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items() if k != "lr")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x0 = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    # gradients vary in scale over time, as they do in training
    grads = [[(rng.standard_normal(s) * (0.2 + (t % 7) / 3)).astype(np.float32) for s in SHAPES]
             for t in range(STEPS)]
    return x0, grads


def _groups(params, lr):
    """Two parameter groups: the second with its own lr."""
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr * 0.5}]


def _make(name, kw, x0, lib):
    if lib == "torch":
        params = [torch.tensor(x, requires_grad=True) for x in x0]
        return params, getattr(torch.optim, name)(_groups(params, kw["lr"]), **kw)
    params = [cr.tensor(x, requires_grad=True) for x in x0]
    return params, getattr(optim, name)(_groups(params, kw["lr"]), **kw)


def _step(params, opt, grads, lib):
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g) if lib == "torch" else cr.tensor(g)
    opt.step()


def _to_torch_sd(sd):
    sd = copy.deepcopy(sd)
    for s in sd["state"].values():
        for k, v in s.items():
            if isinstance(v, cr.Tensor):
                s[k] = torch.tensor(np.array(v.numpy()))
    return sd


def _to_numpy(params):
    return [np.array(p.detach().numpy()) for p in params]


def _assert_params(cr_params, torch_params):
    for a, b in zip(_to_numpy(cr_params), _to_numpy(torch_params)):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch_100_steps_and_state_dict_round_trips(case):
    name, kw = case
    x0, grads = _data()
    tp, topt = _make(name, kw, x0, "torch")
    cp, copt = _make(name, kw, x0, "cr")
    half = STEPS // 2
    for t in range(half):
        _step(tp, topt, grads[t], "torch")
        _step(cp, copt, grads[t], "cr")
    _assert_params(cp, tp)

    # the state dict has torch's structure: same param_groups keys, same state keys
    csd, tsd = copy.deepcopy(copt.state_dict()), topt.state_dict()
    assert [set(g) for g in csd["param_groups"]] == [set(g) for g in tsd["param_groups"]]
    assert [g["params"] for g in csd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert {k: set(v) for k, v in csd["state"].items()} == \
        {k: set(v) for k, v in tsd["state"].items()}
    for k, s in csd["state"].items():
        for key, v in s.items():
            np.testing.assert_allclose(v.numpy(), tsd["state"][k][key].numpy(), rtol=RTOL,
                                       atol=ATOL)

    # (1) chainrule -> fresh chainrule, (2) torch -> chainrule, (3) chainrule -> torch
    resumed = []
    for source in ("cr", "torch"):
        params, opt = _make(name, kw, _to_numpy(cp), "cr")
        opt.load_state_dict(csd if source == "cr" else copy.deepcopy(tsd))
        resumed.append((params, opt))
    tp2, topt2 = _make(name, kw, _to_numpy(cp), "torch")
    topt2.load_state_dict(_to_torch_sd(csd))

    for t in range(half, STEPS):
        _step(tp, topt, grads[t], "torch")
        _step(cp, copt, grads[t], "cr")
        _step(tp2, topt2, grads[t], "torch")
        for params, opt in resumed:
            _step(params, opt, grads[t], "cr")
    _assert_params(cp, tp)
    _assert_params(cp, tp2)
    for params, _ in resumed:
        _assert_params(params, tp)
    # the reload was exact for chainrule -> chainrule: bit-identical to the uninterrupted run
    for a, b in zip(_to_numpy(resumed[0][0]), _to_numpy(cp)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_closure_on_a_quadratic_matches_torch(name):
    """step(closure): gradients that depend on the parameters (f(θ) = Σ (Aθ − b)²)."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 4)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    x0 = rng.standard_normal(4).astype(np.float32)
    kw = {"SGD": dict(lr=0.01, momentum=0.9)}.get(name, dict(lr=0.01))

    def run(lib):
        T = torch if lib == "torch" else cr
        p = T.tensor(x0, requires_grad=True)
        opt = (getattr(torch.optim, name) if lib == "torch" else getattr(optim, name))([p], **kw)
        At, bt = T.tensor(A), T.tensor(b)
        losses = []

        def closure():
            opt.zero_grad()
            loss = ((At @ p - bt) ** 2).sum()
            loss.backward()
            return loss
        for _ in range(STEPS):
            losses.append(float(opt.step(closure).detach()))
        return p.detach().numpy(), np.array(losses)

    (cx, cl), (tx, tl) = run("cr"), run("torch")
    np.testing.assert_allclose(cx, tx, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(cl, tl, rtol=1e-4)
    assert cl[-1] < cl[0]


def test_params_without_grad_are_skipped_and_state_is_lazy():
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = cr.ones(3)
    opt.step()
    assert b.tolist() == [1.0, 1.0]
    assert set(opt.state_dict()["state"]) == {0}
    assert float(opt.state[a]["step"]) == 1.0
    # Adagrad, as torch's, creates its state for every parameter at construction
    opt = optim.Adagrad([a, b], initial_accumulator_value=0.25)
    assert set(opt.state_dict()["state"]) == {0, 1}
    np.testing.assert_array_equal(opt.state[b]["sum"].numpy(), [0.25, 0.25])


def test_zero_grad():
    p = cr.ones(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing happens
    assert p.tolist() == [1.0, 1.0, 1.0]


def test_add_param_group_and_param_names():
    a = cr.ones(2, requires_grad=True)
    b = cr.ones(2, requires_grad=True)
    opt = optim.SGD([("a", a)], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [("b", b)], "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9          # default filled in
    assert opt.state_dict()["param_groups"][1]["param_names"] == ["b"]
    a.grad, b.grad = cr.ones(2), cr.ones(2)
    opt.step()
    np.testing.assert_allclose(a.tolist(), [0.9, 0.9])
    np.testing.assert_allclose(b.tolist(), [0.5, 0.5])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    # torch's Adagrad initialises the state of a group added later, too
    ada = optim.Adagrad([a])
    ada.add_param_group({"params": [b]})
    assert b in ada.state and float(ada.state[b]["step"]) == 0.0


def test_step_hooks_run_around_step():
    p = cr.ones(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append(("pre", p.item())))
    opt.register_step_post_hook(lambda o, a, k: seen.append(("post", p.item())))
    p.grad = cr.ones(1)
    opt.step()
    h1.remove()
    opt.step()
    assert seen == [("pre", 1.0), ("post", 0.0), ("post", -1.0)]

    class Logged(optim.SGD):             # a subclass whose step calls super().step()
        def step(self, closure=None):
            return super().step(closure)
    opt = Logged([p], lr=1.0)
    calls = []
    opt.register_step_post_hook(lambda o, a, k: calls.append(1))
    opt.step()
    assert calls == [1] and p.item() == -2.0    # hooks and the update run once


def test_errors_are_clear():
    p = cr.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.Adam(p)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.Adam([np.ones(2)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([p * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.Adam([p]).add_param_group({"params": {cr.ones(1, requires_grad=True)}})
    with pytest.raises(ValueError, match="capturable=True is not supported"):
        optim.Adam([p], capturable=True)
    opt = optim.Adam([p])
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        p.grad = cr.ones(3)                 # refused at the assignment, as torch
    p._grad = cr.ones(3)                    # (forced past it: the optimizer still checks)
    with pytest.raises(RuntimeError, match=r"Adam: gradient of shape \(3,\)"):
        opt.step()
    other = optim.Adam([p, cr.ones(1, requires_grad=True)])
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other.state_dict())


def test_adamw_stays_decoupled_after_loading_an_adam_state_dict():
    p = cr.ones(2, requires_grad=True)
    adam = optim.Adam([p], weight_decay=0.1)
    adamw = optim.AdamW([p])
    adamw.load_state_dict(adam.state_dict())
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


def test_optimizer_step_is_float32_and_records_no_graph():
    p = cr.randn(4, 3, requires_grad=True)
    opt = optim.Adam([p], lr=0.01, weight_decay=np.float64(0.1))
    p.grad = cr.randn(4, 3)
    v = p._version
    opt.step()
    assert p.dtype == cr.float32 and p.grad_fn is None and p.is_leaf
    assert p._version == v + 1
    assert opt.state[p]["exp_avg"].dtype == cr.float32


# ---------------------------------------------------------------------- nn.utils
def _grads_pair(seed=0):
    rng = np.random.default_rng(seed)
    gs = [(rng.standard_normal(s) * 3).astype(np.float32) for s in SHAPES]
    cp = [cr.zeros(*s, requires_grad=True) for s in SHAPES]
    tp = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for c, t, g in zip(cp, tp, gs):
        c.grad, t.grad = cr.tensor(g), torch.tensor(g)
    return cp, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    cp, tp = _grads_pair()
    a = clip_grad_norm_(cp, max_norm, norm_type)
    b = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-5)
    for c, t in zip(cp, tp):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)
    if max_norm < 1:  # clipped: the new total norm is max_norm
        np.testing.assert_allclose(get_total_norm([c.grad for c in cp], norm_type).item(),
                                   max_norm, rtol=1e-4)


def test_clip_grad_norm_edge_cases():
    p = cr.zeros(3, requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0          # no gradients at all
    p.grad = cr.tensor([1e25, 1e25, 0.0])                    # g² overflows float32
    n = clip_grad_norm_(p, 1.0)
    np.testing.assert_allclose(n.item(), 1.4142135e25, rtol=1e-6)
    np.testing.assert_allclose(p.grad.tolist(), [0.70710677, 0.70710677, 0.0], rtol=1e-5)
    p.grad = cr.tensor([float("nan"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="clip_grad_norm_: parameters must be Tensors"):
        clip_grad_norm_([1.0], 1.0)


def test_clip_grad_value_matches_torch():
    cp, tp = _grads_pair(1)
    clip_grad_value_(cp, 0.7)
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    for c, t in zip(cp, tp):
        np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_and_back():
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    cp = [cr.tensor(x, requires_grad=True) for x in xs]
    tp = [torch.tensor(x, requires_grad=True) for x in xs]
    cv, tv = parameters_to_vector(cp), torch.nn.utils.parameters_to_vector(tp)
    np.testing.assert_array_equal(cv.detach().numpy(), tv.detach().numpy())
    w = rng.standard_normal(cv.shape[0]).astype(np.float32)
    (cv * cr.tensor(w)).sum().backward()                     # differentiable, as torch's
    (tv * torch.tensor(w)).sum().backward()
    for c, t in zip(cp, tp):
        np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())
    new = cr.arange(cv.shape[0], dtype=cr.float32)
    vector_to_parameters(new, cp)
    for c, s in zip(cp, SHAPES):
        assert tuple(c.shape) == s
    np.testing.assert_array_equal(parameters_to_vector(cp).detach().numpy(), new.numpy())
    with pytest.raises(RuntimeError, match="expected a 1-D vector of 23 elements"):
        vector_to_parameters(cr.zeros(5), cp)
    with pytest.raises(TypeError, match="expected vec to be a chainrule Tensor"):
        vector_to_parameters(np.zeros(23), cp)


# ---------------------------------------------------------------------- audit additions (issue 5)
EPS_CASES = (
    [("RMSprop", dict(lr=0.01, eps=1e-2, **kw)) for kw in _product(
        centered=[False, True], momentum=[0, 0.5], weight_decay=[0, 0.1])]
    + [(name, dict(lr=0.01, eps=1e-2, **kw)) for name in ("Adam", "AdamW") for kw in _product(
        amsgrad=[False, True], betas=[(0.9, 0.999), (0.5, 0.9)])]
    + [("AdamW", dict(lr=0.01)), ("Adam", dict(lr=0.01)), ("RMSprop", dict(lr=0.01)),
       ("Adagrad", dict(lr=0.05)), ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1))]
)


@pytest.mark.parametrize("case", EPS_CASES, ids=[_ids(c) for c in EPS_CASES])
def test_eps_and_default_options_match_torch_and_round_trip(case):
    """The main grid holds eps at its default for RMSprop / Adam / AdamW; a large eps changes the
    update's denominator (and where eps enters: outside the sqrt, after the bias correction),
    so it is an option combination of its own. Defaults (AdamW's weight_decay=0.01) too."""
    test_matches_torch_100_steps_and_state_dict_round_trips(case)
