"""Adadelta, Adamax, NAdam, RAdam, ASGD, Adafactor, LBFGS and the PolynomialLR / CyclicLR /
LambdaLR / MultiplicativeLR schedules against torch (issue 14).

Same structure as test_optim.py, in float64 so agreement is checked to rtol 1e-10: same
initial parameters and gradient sequence, 10 steps, parameters and every state entry compared;
the state dict (same keys as torch's) is reloaded mid-run — chainrule's into a fresh chainrule
optimizer, torch's into chainrule, chainrule's into torch — and every copy resumes like torch.
"""
import copy

import numpy as np
import pytest
import torch
from test_optim import SHAPES, _groups, _ids, _product, _to_numpy, _to_torch_sd

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import lr_scheduler

STEPS = 10
RTOL, ATOL = 1e-10, 1e-13

CASES = (
    [("Adadelta", dict(lr=1.0, **kw)) for kw in _product(
        rho=[0.9, 0.5], eps=[1e-6, 1e-2], weight_decay=[0, 0.1], maximize=[False, True])]
    + [("Adamax", dict(lr=0.02, **kw)) for kw in _product(
        betas=[(0.9, 0.999), (0.5, 0.8)], eps=[1e-8, 1e-1], weight_decay=[0, 0.1],
        maximize=[False, True])]
    + [("NAdam", dict(lr=0.02, **kw)) for kw in _product(
        betas=[(0.9, 0.999), (0.5, 0.8)], momentum_decay=[4e-3, 0.5], weight_decay=[0, 0.1],
        decoupled_weight_decay=[False, True], maximize=[False, True])]
    + [("RAdam", dict(lr=0.02, **kw)) for kw in _product(
        betas=[(0.9, 0.999), (0.5, 0.6)], weight_decay=[0, 0.1],
        decoupled_weight_decay=[False, True], maximize=[False, True])]
    + [("ASGD", dict(lr=0.05, **kw)) for kw in _product(
        lambd=[1e-4, 0.5], alpha=[0.75, 0.5], t0=[1e6, 3], weight_decay=[0, 0.1],
        maximize=[False, True])]
    + [("Adafactor", dict(lr=0.05, **kw)) for kw in _product(
        beta2_decay=[-0.8, -0.3], eps=[(None, 1e-3), (1e-4, 0.5)], d=[1.0, 1.2],
        weight_decay=[0, 0.1], maximize=[False, True])]
    + [(name, {}) for name in ("Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Adafactor")]
)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x0 = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * (0.2 + (t % 7) / 3) for s in SHAPES]
             for t in range(STEPS)]
    return x0, grads


def _make(name, kw, x0, lib):
    lr = kw.get("lr", 0.01)
    if lib == "torch":
        params = [torch.tensor(x, requires_grad=True) for x in x0]
        return params, getattr(torch.optim, name)(_groups(params, lr), **kw)
    params = [cr.tensor(x, requires_grad=True) for x in x0]
    return params, getattr(optim, name)(_groups(params, lr), **kw)


def _step(params, opt, grads, lib):
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g) if lib == "torch" else cr.tensor(g)
    opt.step()


def _assert_params(cr_params, torch_params):
    for a, b in zip(_to_numpy(cr_params), _to_numpy(torch_params)):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def _assert_states(csd, tsd):
    assert [set(g) for g in csd["param_groups"]] == [set(g) for g in tsd["param_groups"]]
    assert {k: set(v) for k, v in csd["state"].items()} == \
        {k: set(v) for k, v in tsd["state"].items()}
    for k, s in csd["state"].items():
        for key, v in s.items():
            t = tsd["state"][k][key]
            assert v.numpy().dtype == t.numpy().dtype, (k, key)
            np.testing.assert_allclose(v.numpy(), t.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch_and_state_dict_round_trips(case):
    name, kw = case
    x0, grads = _data()
    tp, topt = _make(name, kw, x0, "torch")
    cp, copt = _make(name, kw, x0, "cr")
    half = STEPS // 2
    for t in range(half):
        _step(tp, topt, grads[t], "torch")
        _step(cp, copt, grads[t], "cr")
    _assert_params(cp, tp)
    csd, tsd = copy.deepcopy(copt.state_dict()), copy.deepcopy(topt.state_dict())
    _assert_states(csd, tsd)

    # resumed copies: chainrule <- chainrule, chainrule <- torch, torch <- chainrule, and the
    # reference torch <- torch (loading casts float state to the parameters' dtype, in both)
    resumed = []
    for source in (csd, tsd):
        params, opt = _make(name, kw, _to_numpy(cp), "cr")
        opt.load_state_dict(copy.deepcopy(source))
        resumed.append((params, opt))
    torch_resumed = []
    for source in (_to_torch_sd(csd), tsd):
        params, opt = _make(name, kw, _to_numpy(cp), "torch")
        opt.load_state_dict(copy.deepcopy(source))
        torch_resumed.append((params, opt))
    for t in range(half, STEPS):
        _step(tp, topt, grads[t], "torch")
        _step(cp, copt, grads[t], "cr")
        for params, opt in resumed:
            _step(params, opt, grads[t], "cr")
        for params, opt in torch_resumed:
            _step(params, opt, grads[t], "torch")
    _assert_params(cp, tp)
    _assert_states(copt.state_dict(), topt.state_dict())
    ref = torch_resumed[1]
    _assert_params(torch_resumed[0][0], ref[0])
    for params, opt in resumed:
        _assert_params(params, ref[0])
        _assert_states(opt.state_dict(), ref[1].state_dict())


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Adafactor"])
def test_errors_and_defaults_match_torch(name):
    p, tp = cr.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    c, t = getattr(optim, name)([p]), getattr(torch.optim, name)([tp])
    assert c.defaults == t.defaults or \
        {k: v for k, v in c.defaults.items()} == {k: (tuple(v) if k == "betas" else v)
                                                  for k, v in t.defaults.items()}
    bad = [dict(lr=-1), dict(weight_decay=-0.5)]
    if name != "ASGD":
        bad.append(dict(eps=-1))
    if name in ("Adamax", "NAdam", "RAdam"):
        bad += [dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1))]
    if name == "Adadelta":
        bad.append(dict(rho=1.5))
    if name == "NAdam":
        bad.append(dict(momentum_decay=-1))
    if name == "Adafactor":
        bad[-1:] = [dict(eps=(-1.0, 1e-3)), dict(eps=(None, -1.0)), dict(beta2_decay=0.5),
                    dict(d=0.5)]
    for kw in bad:
        with pytest.raises(ValueError) as torch_err:
            getattr(torch.optim, name)([tp], **kw)
        with pytest.raises(ValueError) as cr_err:
            getattr(optim, name)([p], **kw)
        assert str(cr_err.value) == str(torch_err.value)
    if name == "Adafactor":   # no differentiable option in torch's signature either
        for lib, params in ((torch.optim, [tp]), (optim, [p])):
            with pytest.raises(TypeError, match="differentiable"):
                lib.Adafactor(params, differentiable=True)
        return
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        getattr(optim, name)([p], differentiable=True)


# ---------------------------------------------------------------------- LBFGS
def _rosenbrock(T, p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [100, 3])
def test_lbfgs_on_rosenbrock_matches_torch(line_search_fn, history_size):
    kw = dict(lr=1 if line_search_fn else 0.002, max_iter=20, history_size=history_size,
              line_search_fn=line_search_fn)

    def run(lib):
        T = torch if lib == "torch" else cr
        Opt = torch.optim.LBFGS if lib == "torch" else optim.LBFGS
        p = T.tensor(np.array([-1.5, 2.0]), requires_grad=True)
        opt = Opt([p], **kw)
        iterates, losses = [], []

        def closure():
            opt.zero_grad()
            loss = _rosenbrock(T, p)
            loss.backward()
            return loss
        for _ in range(5):
            losses.append(float(opt.step(closure).detach()))
            iterates.append(np.array(p.detach().numpy()))
        return np.array(iterates), np.array(losses), opt

    (ci, cl, copt), (ti, tl, topt) = run("cr"), run("torch")
    np.testing.assert_allclose(ci, ti, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(cl, tl, rtol=1e-8, atol=1e-14)
    cs, ts = copt.state_dict()["state"][0], topt.state_dict()["state"][0]
    assert set(cs) == set(ts)
    assert cs["func_evals"] == ts["func_evals"] and cs["n_iter"] == ts["n_iter"]
    assert len(cs["old_dirs"]) == len(ts["old_dirs"]) <= history_size
    np.testing.assert_allclose(cs["d"].numpy(), ts["d"].numpy(), rtol=1e-6, atol=1e-8)  # d → 0 at the optimum
    if line_search_fn:
        assert cl[-1] < 1e-6                    # converged to the minimum (1, 1)


def test_lbfgs_state_dict_round_trip_and_errors():
    def make():
        p = cr.tensor(np.array([-1.5, 2.0]), requires_grad=True)
        opt = optim.LBFGS([p], max_iter=4, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = _rosenbrock(cr, p)
            loss.backward()
            return loss
        return p, opt, closure
    p, opt, closure = make()
    opt.step(closure)
    sd = copy.deepcopy(opt.state_dict())
    p2, opt2, closure2 = make()
    p2.data = cr.tensor(p.detach().numpy().copy())
    opt2.load_state_dict(sd)
    for _ in range(3):
        opt.step(closure)
        opt2.step(closure2)
    np.testing.assert_array_equal(p.detach().numpy(), p2.detach().numpy())

    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [p2]}])
    with pytest.raises(TypeError, match="LBFGS.step: missing 1 required positional argument "
                                        "'closure'"):   # torch's type: the argument is required
        opt.step()


# ---------------------------------------------------------------------- schedulers
def _sched_pair(make_sched, opt_name="SGD", opt_kw=None, epochs=30):
    opt_kw = opt_kw or dict(lr=0.1, momentum=0.9)
    out = []
    for lib in ("torch", "cr"):
        Opt = getattr(torch.optim if lib == "torch" else optim, opt_name)
        mod = torch.optim.lr_scheduler if lib == "torch" else lr_scheduler
        ps = [(torch if lib == "torch" else cr).ones(2, requires_grad=True) for _ in range(2)]
        opt = Opt([{"params": ps[:1]}, {"params": ps[1:], "lr": opt_kw["lr"] * 0.5}], **opt_kw)
        sched = make_sched(mod, opt)
        lrs, moms = [], []
        for _ in range(epochs):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
            g = opt.param_groups[0]
            moms.append(g["betas"][0] if "betas" in g else g.get("momentum"))
        out.append((np.array(lrs), moms, sched, opt))
    return out


SCHEDULES = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=12, power=2.0),
    "PolynomialLR-default": lambda m, o: m.PolynomialLR(o),
    "CyclicLR": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=3,
                                                    step_size_down=5, mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                  mode="exp_range", gamma=0.95),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                 scale_fn=lambda x: 0.5 ** x,
                                                 scale_mode="iterations", cycle_momentum=False),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_scheduler_lrs_match_torch_over_30_steps(name):
    (tl, tm, ts, _), (cl, cm, cs, _) = _sched_pair(SCHEDULES[name])
    np.testing.assert_allclose(cl, tl, rtol=1e-12)
    np.testing.assert_allclose(np.array(cm, float), np.array(tm, float), rtol=1e-12)


def test_cyclic_lr_cycles_adam_beta1_and_round_trips():
    make = lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=5)
    (tl, tm, ts, _), (cl, cm, cs, copt) = _sched_pair(make, "Adam", dict(lr=0.001))
    np.testing.assert_allclose(cl, tl, rtol=1e-12)
    np.testing.assert_allclose(cm, tm, rtol=1e-12)
    assert set(ts.state_dict()) - set(cs.state_dict()) <= {"_get_lr_called_within_step"}
    # resume: a fresh scheduler loaded from the state dict continues the same sequence
    sd = copy.deepcopy(cs.state_dict())
    resumed = lr_scheduler.CyclicLR(copt, 0.001, 0.01, step_size_up=5)
    resumed.load_state_dict(sd)
    a = []
    for _ in range(10):
        copt.step()
        resumed.step()
        a.append(resumed.get_last_lr())
    ref = _sched_pair(make, "Adam", dict(lr=0.001), epochs=40)[0][0][30:]
    np.testing.assert_allclose(np.array(a), ref, rtol=1e-12)
    with pytest.raises(ValueError, match="mode must be"):
        lr_scheduler.CyclicLR(copt, 0.1, 1.0, mode="sawtooth")
    sgd = optim.SGD([cr.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="must support momentum"):
        lr_scheduler.CyclicLR(optim.Adagrad([cr.ones(1, requires_grad=True)]), 0.1, 1.0)
    lr_scheduler.CyclicLR(sgd, 0.1, 1.0)   # SGD has a momentum default (0): accepted


def test_polynomial_lr_state_dict_round_trip():
    (tl, _, ts, _), (cl, _, cs, copt) = _sched_pair(
        lambda m, o: m.PolynomialLR(o, total_iters=40, power=0.5))
    assert set(ts.state_dict()) - set(cs.state_dict()) <= {"_get_lr_called_within_step"}
    sched = lr_scheduler.PolynomialLR(copt, total_iters=40, power=0.5)
    sched.load_state_dict(copy.deepcopy(cs.state_dict()))
    ref = _sched_pair(lambda m, o: m.PolynomialLR(o, total_iters=40, power=0.5), epochs=36)[0][0]
    got = []
    for _ in range(6):
        copt.step()
        sched.step()
        got.append(sched.get_last_lr())
    np.testing.assert_allclose(np.array(got), ref[30:], rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_foreach_and_fused_are_accepted_with_torchs_numbers(name):
    """foreach=True / fused=True choose among torch's kernels for the same update: accepted,
    the same steps as torch's."""
    rng = np.random.default_rng(0)
    w0, grads = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(3)]
    for flag in ("foreach", "fused"):
        if flag == "fused" and name == "RMSprop":
            continue   # torch has no fused RMSprop
        p, tp = cr.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
        opt = getattr(optim, name)([p], lr=0.1, **{flag: True})
        topt = getattr(torch.optim, name)([tp], lr=0.1, **{flag: True})
        for g in grads:
            p.grad, tp.grad = cr.tensor(g), torch.tensor(g)
            opt.step(), topt.step()
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-12)


ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Adadelta",
       "ASGD", "Rprop", "Adafactor"]
OPTIONS = {"SGD": dict(momentum=0.9), "Adam": dict(amsgrad=True), "AdamW": dict(amsgrad=True),
           "RMSprop": dict(centered=True, momentum=0.5)}


@pytest.mark.parametrize("name", ALL)
def test_zero_dim_parameter_as_torch(name):
    # a learnable scalar (a temperature, nn.Parameter(torch.tensor(1.0))): NumPy's ufuncs return
    # scalars for 0-d operands, which the in-place updates could not write into (TypeError)
    kw = dict(lr=0.1, **OPTIONS.get(name, {}))
    tp, p = torch.tensor(0.5, requires_grad=True), cr.tensor(0.5, requires_grad=True)
    topt, opt = getattr(torch.optim, name)([tp], **kw), getattr(optim, name)([p], **kw)
    for g in (0.3, -1.0, 2.0):
        tp.grad, p.grad = torch.tensor(g), cr.tensor(g)
        topt.step(), opt.step()
    np.testing.assert_allclose(p.item(), tp.item(), rtol=1e-6)
    assert p.shape == () and p._data.ndim == 0
    assert {k: tuple(v.shape) for k, v in opt.state[p].items()} == \
        {k: tuple(v.shape) for k, v in topt.state[tp].items()}


def test_adafactor_leaves_an_empty_parameter_as_it_is():
    # torch's step divides by the parameter's numel, 0, and raises ZeroDivisionError
    for shape in [(0,), (3, 0)]:
        p = cr.zeros(shape, requires_grad=True)
        opt = optim.Adafactor([p])
        p.grad = cr.ones(shape)
        opt.step()
        assert p.shape == shape and float(opt.state[p]["step"]) == 1.0


# ---------------------------------------------------------------------- Muon
@pytest.mark.parametrize("kw", [{}, dict(nesterov=False, momentum=0.9),
                                dict(adjust_lr_fn="match_rms_adamw", weight_decay=0.0),
                                dict(ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5), lr=0.05)])
def test_muon_as_torch(kw):
    # its Newton-Schulz iteration rounds to bfloat16 at torch's places: the parameters agree up
    # to a bfloat16 ulp of the update where the float32 sums inside a product round otherwise
    rng = np.random.default_rng(3)
    shapes = [(6, 4), (4, 6), (16, 16)]
    x0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    tp = [torch.tensor(x, requires_grad=True) for x in x0]
    cp = [cr.tensor(x, requires_grad=True) for x in x0]
    topt, copt = torch.optim.Muon(tp, **kw), optim.Muon(cp, **kw)
    for _ in range(10):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        for t, c, g in zip(tp, cp, grads):
            t.grad, c.grad = torch.tensor(g), cr.tensor(g)
        topt.step(), copt.step()
    for t, c in zip(tp, cp):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=0, atol=2e-4)
        np.testing.assert_allclose(copt.state[c]["momentum_buffer"].numpy(),
                                   topt.state[t]["momentum_buffer"].numpy(), rtol=1e-6, atol=1e-7)


def test_muon_orthogonalizes_like_torch_and_checks_as_torch():
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns
    from chainrule.optim.muon import bfloat16_round, orthogonalize
    rng = np.random.default_rng(4)
    v = np.append(rng.standard_normal(10000).astype(np.float32), [np.inf, -0.0, 1e-40])
    np.testing.assert_array_equal(bfloat16_round(v), torch.tensor(v).bfloat16().float().numpy())
    for shape in [(8, 5), (5, 8), (64, 16)]:
        m = rng.standard_normal(shape).astype(np.float32)
        want = torch_ns(torch.tensor(m), (3.4445, -4.775, 2.0315), 5, 1e-7).float().numpy()
        got = orthogonalize(m)   # a few bfloat16 ulps apart where a float32 sum rounds otherwise
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-2)
        assert np.abs(got - want).mean() < 2e-3
    for bad in [dict(lr=-1.0), dict(momentum=-0.5), dict(weight_decay=-1.0),
                dict(adjust_lr_fn="other")]:
        with pytest.raises(ValueError) as expected:
            torch.optim.Muon([torch.ones(2, 2, requires_grad=True)], **bad)
        with pytest.raises(ValueError) as got:
            optim.Muon([cr.ones(2, 2, requires_grad=True)], **bad)
        assert str(got.value) == str(expected.value)
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        optim.Muon([cr.ones(3, requires_grad=True)])


@pytest.mark.parametrize("name", ["SGD", "Adam", "LBFGS"])
def test_zero_dim_parameter_keeps_its_shape_in_closures_and_custom_steps(name):
    # the 0-d handling stays inside the update rules: a closure sees the parameter as it is,
    # and a user's own step that rebinds p.data keeps its update
    seen = []
    for L in (torch, cr):
        p = L.nn.Parameter(L.tensor(2.0))
        opt = getattr(L.optim, name)([p], lr=0.1)

        def closure():
            opt.zero_grad()
            loss = (p - 1.0) ** 2
            seen.append((L.__name__, tuple(p.shape), tuple(loss.shape)))
            loss.backward()
            return loss
        opt.step(closure)
        assert tuple(p.grad.shape) == ()
    assert {s[1:] for s in seen} == {((), ())}

    class Rebinding(cr.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            for group in self.param_groups:
                for q in group["params"]:
                    self.state[q]["ndim"] = q.dim()
                    q.data = q.data - group["lr"] * q.grad.data
    t = cr.nn.Parameter(cr.tensor(2.0))
    opt = Rebinding([t])
    t.grad = cr.tensor(1.0)
    opt.step()
    assert t.item() == pytest.approx(1.9) and opt.state[t]["ndim"] == 0
