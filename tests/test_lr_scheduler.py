"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler.

Each scheduler drives an SGD (or Adam) optimizer with two parameter groups for 100 steps on a
fixed gradient sequence; the learning rates from get_last_lr(), the groups' momentum / betas
and the parameters must match torch (rtol 1e-5). At step 50 the optimizer and scheduler state
dicts are loaded into fresh objects, which must continue identically.
"""
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import lr_scheduler as crs

TS = torch.optim.lr_scheduler
STEPS = 100
RTOL = 1e-5


def warmup(t):
    return min(1.0, (t + 1) / 10)


def decay(t):
    return 0.97


# (name, kwargs builder, optimizer) — builders get the library's scheduler module so nested
# schedulers (SequentialLR) are built from the same library.
CASES = [
    ("LambdaLR", lambda m, o: dict(lr_lambda=warmup), "SGD"),
    ("LambdaLR", lambda m, o: dict(lr_lambda=[warmup, lambda t: 0.95 ** t]), "SGD"),
    ("MultiplicativeLR", lambda m, o: dict(lr_lambda=decay), "SGD"),
    ("StepLR", lambda m, o: dict(step_size=7), "SGD"),
    ("StepLR", lambda m, o: dict(step_size=30, gamma=0.5), "Adam"),
    ("MultiStepLR", lambda m, o: dict(milestones=[10, 25, 25, 60], gamma=0.3), "SGD"),
    ("ConstantLR", lambda m, o: dict(factor=0.25, total_iters=12), "SGD"),
    ("LinearLR", lambda m, o: dict(), "SGD"),
    ("LinearLR", lambda m, o: dict(start_factor=0.1, end_factor=0.6, total_iters=40), "Adam"),
    ("ExponentialLR", lambda m, o: dict(gamma=0.95), "SGD"),
    ("CosineAnnealingLR", lambda m, o: dict(T_max=30), "SGD"),
    ("CosineAnnealingLR", lambda m, o: dict(T_max=100, eta_min=1e-3), "Adam"),
    ("OneCycleLR", lambda m, o: dict(max_lr=0.5, total_steps=STEPS + 1), "SGD"),
    ("OneCycleLR", lambda m, o: dict(max_lr=[0.5, 0.2], epochs=5, steps_per_epoch=21,
                                     anneal_strategy="linear", three_phase=True), "SGD"),
    ("OneCycleLR", lambda m, o: dict(max_lr=0.01, total_steps=STEPS + 1, pct_start=0.25,
                                     div_factor=10.0, final_div_factor=100.0), "Adam"),
    ("OneCycleLR", lambda m, o: dict(max_lr=0.1, total_steps=STEPS + 1,
                                     cycle_momentum=False), "SGD"),
    ("SequentialLR", lambda m, o: dict(
        schedulers=[m.LinearLR(o, start_factor=0.1, total_iters=10),
                    m.CosineAnnealingLR(o, T_max=90)], milestones=[10]), "SGD"),
    ("SequentialLR", lambda m, o: dict(
        schedulers=[m.ConstantLR(o, factor=0.5, total_iters=5), m.ExponentialLR(o, gamma=0.9),
                    m.StepLR(o, step_size=10)], milestones=[20, 50]), "SGD"),
]


def _ids(case):
    name, build, opt = case
    return f"{name}-{opt}-{CASES.index(case)}"


def _build(lib, name, build, opt_name, x0):
    T, O, M = ((torch, torch.optim, TS) if lib == "torch" else (cr, optim, crs))
    params = [T.tensor(x, requires_grad=True) for x in x0]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]
    if opt_name == "SGD":
        opt = O.SGD(groups, lr=0.1, momentum=0.9)
    else:
        opt = O.Adam(groups, lr=0.01)
    sched = getattr(M, name)(opt, **build(M, opt))
    return params, opt, sched


def _record(opt, sched):
    lrs = list(sched.get_last_lr())
    assert lrs == [g["lr"] for g in opt.param_groups]
    extra = [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]
    return [float(v) for v in lrs], extra


def _run_step(lib, params, opt, sched, grads):
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g) if lib == "torch" else cr.tensor(g)
    opt.step()
    sched.step()


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_schedule_matches_torch_and_state_dict_round_trips(case):
    name, build, opt_name = case
    rng = np.random.default_rng(0)
    x0 = [rng.standard_normal(s).astype(np.float32) for s in [(3,), (2, 2)]]
    grads = [[rng.standard_normal(x.shape).astype(np.float32) for x in x0] for _ in range(STEPS)]
    tparams, topt, tsched = _build("torch", name, build, opt_name, x0)
    cparams, copt, csched = _build("cr", name, build, opt_name, x0)
    tlog, clog = [_record(topt, tsched)], [_record(copt, csched)]
    resumed = None
    for t in range(STEPS):
        if t == STEPS // 2:
            opt_sd = copy.deepcopy(copt.state_dict())
            sched_sd = copy.deepcopy(csched.state_dict())
            resumed = _build("cr", name, build, opt_name,
                             [np.array(p.detach().numpy()) for p in cparams])
            resumed[1].load_state_dict(opt_sd)
            resumed[2].load_state_dict(sched_sd)
            rlog = clog[:-1] + [_record(resumed[1], resumed[2])]
        _run_step("torch", tparams, topt, tsched, grads[t])
        _run_step("cr", cparams, copt, csched, grads[t])
        tlog.append(_record(topt, tsched))
        clog.append(_record(copt, csched))
        if resumed is not None:
            _run_step("cr", *resumed, grads[t])
            rlog.append(_record(resumed[1], resumed[2]))
    np.testing.assert_allclose([lr for lr, _ in clog], [lr for lr, _ in tlog], rtol=RTOL)
    np.testing.assert_allclose([m for _, m in clog], [m for _, m in tlog], rtol=RTOL)
    assert len({tuple(lr) for lr, _ in tlog}) > 1 or name == "ReduceLROnPlateau"  # lr changed
    for c, t in zip(cparams, tparams):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=1e-6)
    assert rlog == clog
    for c, r in zip(cparams, resumed[0]):
        np.testing.assert_array_equal(c.detach().numpy(), r.detach().numpy())


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=3, threshold=0.01, threshold_mode="abs"),
    dict(patience=2, cooldown=4, min_lr=[0.01, 0.002], factor=0.3),
    dict(mode="min", patience=0, threshold=0.05, threshold_mode="rel", min_lr=0.02, eps=1e-3),
]


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(kw):
    rng = np.random.default_rng(3)
    # a metric that improves, plateaus with noise, improves again, then plateaus
    metric = np.concatenate([np.linspace(1.0, 0.5, 20), 0.5 + 0.01 * rng.standard_normal(30),
                             np.linspace(0.5, 0.2, 10), 0.2 + 0.02 * rng.standard_normal(40)])
    if kw.get("mode") == "max":
        metric = -metric
    tp = [torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)]
    cp = [cr.ones(2, requires_grad=True), cr.ones(1, requires_grad=True)]
    topt = torch.optim.SGD([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.05}], lr=0.1)
    copt = optim.SGD([{"params": cp[:1]}, {"params": cp[1:], "lr": 0.05}], lr=0.1)
    ts, cs = TS.ReduceLROnPlateau(topt, **kw), crs.ReduceLROnPlateau(copt, **kw)
    tl, cl = [], []
    for t, m in enumerate(metric):
        if t == 50:  # state dict round trip into a fresh scheduler
            sd = copy.deepcopy(cs.state_dict())
            cs = crs.ReduceLROnPlateau(copt, **kw)
            cs.load_state_dict(sd)
        ts.step(float(m))
        cs.step(cr.tensor(m))  # a 0-d tensor, as torch accepts
        tl.append(ts.get_last_lr())
        cl.append(cs.get_last_lr())
    np.testing.assert_allclose(cl, tl, rtol=RTOL)
    assert len({tuple(x) for x in tl}) > 1


def test_two_schedulers_on_one_optimizer_compose_like_torch():
    def run(T, O, M):
        p = T.ones(1, requires_grad=True)
        opt = O.SGD([p], lr=1.0)
        a, b = M.ExponentialLR(opt, gamma=0.9), M.StepLR(opt, step_size=3, gamma=0.5)
        out = []
        for _ in range(20):
            p.grad = T.ones(1)
            opt.step()
            a.step()
            b.step()
            out.append(opt.param_groups[0]["lr"])
        return out
    np.testing.assert_allclose(run(cr, optim, crs), run(torch, torch.optim, TS), rtol=RTOL)


@pytest.mark.parametrize("name,kw", [("StepLR", dict(step_size=3)),
                                     ("MultiStepLR", dict(milestones=[2, 5])),
                                     ("ExponentialLR", dict(gamma=0.8)),
                                     ("CosineAnnealingLR", dict(T_max=10)),
                                     ("LinearLR", dict(total_iters=4))])
def test_step_with_epoch_uses_the_closed_form_like_torch(name, kw):
    out = []
    for T, O, M in ((cr, optim, crs), (torch, torch.optim, TS)):
        p = T.ones(1, requires_grad=True)
        opt = O.SGD([p], lr=1.0)
        s = getattr(M, name)(opt, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [3, 7, 1, 6]:
                opt.step()
                s.step(e)
                out.append(s.get_last_lr()[0])
    np.testing.assert_allclose(out[:4], out[4:], rtol=RTOL)


def test_scheduler_before_optimizer_step_warns():
    p = cr.ones(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    s = crs.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()


def test_scheduler_state_dict_is_plain_data():
    p = cr.ones(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    scheds = [crs.MultiStepLR(opt, [3, 3, 8]), crs.LambdaLR(opt, warmup),
              crs.OneCycleLR(opt, max_lr=1.0, total_steps=10)]
    for s in scheds:
        sd = s.state_dict()
        assert "optimizer" not in sd
        if "lr_lambdas" in sd:
            assert sd["lr_lambdas"] == [None]  # functions are not saved (as torch)
    assert scheds[0].state_dict()["milestones"] == {3: 2, 8: 1}


def test_scheduler_errors():
    p = cr.ones(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        crs.StepLR(object(), 3)
    with pytest.raises(ValueError, match="either total_steps OR"):
        crs.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        crs.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        crs.SequentialLR(opt, [crs.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(KeyError, match="initial_lr"):
        crs.StepLR(optim.SGD([p], lr=1.0), 3, last_epoch=4)
    s = crs.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    opt.step()
    s.step()
    s.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        s.step()
    assert math.isclose(crs.CosineAnnealingLR(opt, T_max=5).get_last_lr()[0], opt.param_groups[0]["lr"])


# ---------------------------------------------------------------------- audit additions (issue 5)
MORE_CASES = [
    ("OneCycleLR", lambda m, o: dict(max_lr=0.3, total_steps=STEPS + 1, base_momentum=0.7,
                                     max_momentum=0.99, anneal_strategy="linear", pct_start=0.4),
     "SGD"),
    ("OneCycleLR", lambda m, o: dict(max_lr=[0.02, 0.01], total_steps=STEPS + 1, three_phase=True,
                                     base_momentum=0.8, max_momentum=0.9), "Adam"),
    ("MultiStepLR", lambda m, o: dict(milestones=[30, 80]), "Adam"),
    ("ExponentialLR", lambda m, o: dict(gamma=0.9), "Adam"),
    ("CosineAnnealingLR", lambda m, o: dict(T_max=20, eta_min=0.01), "SGD"),   # past T_max: rises
    ("LambdaLR", lambda m, o: dict(lr_lambda=lambda t: 1 / (1 + t)), "Adam"),
    ("LinearLR", lambda m, o: dict(start_factor=1.0, end_factor=0.05, total_iters=60), "SGD"),
    ("SequentialLR", lambda m, o: dict(
        schedulers=[m.LinearLR(o, start_factor=0.2, total_iters=5),
                    m.MultiStepLR(o, milestones=[10, 30], gamma=0.5)], milestones=[5]), "Adam"),
]


@pytest.mark.parametrize("case", MORE_CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(MORE_CASES)])
def test_more_scheduler_options_match_torch_and_round_trip(case):
    """Options the main grid leaves at their defaults: OneCycleLR's momentum range (SGD
    momentum, Adam beta1), MultiStepLR's default gamma, eta_min past T_max, LinearLR decaying,
    SequentialLR on Adam."""
    test_schedule_matches_torch_and_state_dict_round_trips(case)
