"""chainrule.amp (autocast, GradScaler), chainrule.cuda.amp and the cuda memory queries, against
torch's CPU build.

GradScaler('cpu') runs torch's algorithm: the same tiny model, weights and batches in both
libraries — including a batch whose gradients are inf/NaN — must give the same scale, the same
skipped steps, the same parameters and the same state_dict after every step. autocast performs
no casts in chainrule (it warns once); its state, validation, warnings and errors follow torch.
"""
import pickle
import threading
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.amp import autocast_mode


def _record(fn):
    """(result or exception type, [(warning category, message)]) of fn()."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001 - the exception type is what we compare
            result = type(e)
    return result, [(w.category, str(w.message)) for w in caught]


def _same_outcome(cr_fn, torch_fn):
    """Both raise the same exception type, or both return; the warnings' categories agree."""
    (rc, wc), (rt, wt) = _record(cr_fn), _record(torch_fn)
    if isinstance(rt, type) and issubclass(rt, Exception):
        assert isinstance(rc, type) and issubclass(rc, rt), (rc, rt)
    else:
        assert not (isinstance(rc, type) and issubclass(rc, Exception)), rc
    assert [c for c, _ in wc] == [c for c, _ in wt], (wc, wt)
    return rc, rt, wc, wt


# ---------------------------------------------------------------------------------- GradScaler

def _models():
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    w2, b2 = rng.standard_normal((1, 4)).astype(np.float32), rng.standard_normal(1).astype(np.float32)
    out = []
    for lib in (cr, torch):
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1))
        with lib.no_grad():
            for p, v in zip(model.parameters(), (w1, b1, w2, b2)):
                p.copy_(lib.tensor(v))
        out.append(model)
    return out


def _batches(n=8):
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(n)]
    ys = [rng.standard_normal((5, 1)).astype(np.float32) for _ in range(n)]
    xs[3][0, 0] = np.inf        # this step's gradients are inf/NaN: it must be skipped
    return xs, ys


def _train(lib, model, make_opt, scaler, xs, ys, clip_at=()):
    """The usual AMP loop; per step: (scale, skipped?, parameters, state_dict)."""
    opt = make_opt(lib, model)
    history = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        opt.zero_grad()
        # (no autocast here: torch's would really compute in bfloat16)
        loss = lib.nn.functional.mse_loss(model(lib.tensor(x)), lib.tensor(y))
        scaler.scale(loss).backward()
        if i in clip_at:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        before = [p.detach().numpy().copy() for p in model.parameters()]
        ret = scaler.step(opt)
        scaler.update()
        after = [p.detach().numpy().copy() for p in model.parameters()]
        skipped = all(np.array_equal(a, b) for a, b in zip(before, after))
        history.append((scaler.get_scale(), skipped, after, scaler.state_dict(), ret))
    return history


def _sgd(lib, model):
    return lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def _adam(lib, model):
    return lib.optim.Adam(model.parameters(), lr=0.01)


@pytest.mark.parametrize("make_opt", [_sgd, _adam])
def test_grad_scaler_training_matches_torch(make_opt):
    xs, ys = _batches()
    kw = {"init_scale": 2.0 ** 10, "growth_factor": 4.0, "backoff_factor": 0.25,
          "growth_interval": 2}
    runs = [_train(lib, m, make_opt, lib.amp.GradScaler("cpu", **kw), xs, ys, clip_at=(1, 5))
            for lib, m in zip((cr, torch), _models())]
    for step, (c, t) in enumerate(zip(*runs)):
        assert c[0] == t[0], (step, c[0], t[0])                  # the scale
        assert c[1] == t[1], step                                # skipped or not
        for a, b in zip(c[2], t[2]):                             # the parameters
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert c[3] == t[3], (step, c[3], t[3])                  # the state_dict
        assert c[4] is None and t[4] is None
    assert [c[1] for c in runs[0]] == [False, False, False, True, False, False, False, False]


def test_grad_scaler_state_dict_round_trips_between_libraries():
    xs, ys = _batches()
    scalers = [lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3) for lib in (cr, torch)]
    for lib, m, s in zip((cr, torch), _models(), scalers):
        _train(lib, m, _sgd, s, xs[:5], ys[:5])
    state = scalers[1].state_dict()
    assert set(state) == {"scale", "growth_factor", "backoff_factor", "growth_interval",
                          "_growth_tracker"}
    assert scalers[0].state_dict() == state
    fresh_cr, fresh_torch = cr.amp.GradScaler("cpu"), torch.amp.GradScaler("cpu")
    fresh_cr.load_state_dict(state)
    fresh_torch.load_state_dict(scalers[0].state_dict())
    assert fresh_cr.state_dict() == fresh_torch.state_dict() == state
    assert fresh_cr.get_scale() == state["scale"]
    clone = pickle.loads(pickle.dumps(scalers[0]))
    assert clone.state_dict() == state
    _same_outcome(lambda: fresh_cr.load_state_dict({}), lambda: fresh_torch.load_state_dict({}))


def test_grad_scaler_scales_nested_outputs():
    for lib in (cr, torch):
        s = lib.amp.GradScaler("cpu", init_scale=4.0)
        a, b, c = lib.tensor([1.0, 2.0]), lib.tensor(3.0), lib.tensor([[0.5]])
        out = s.scale([a, (b, c)])
        assert type(out) is list and type(out[1]) is tuple
        np.testing.assert_array_equal(out[0].numpy(), [4.0, 8.0])
        assert out[1][0].item() == 12.0 and out[1][1].item() == 2.0
        assert out[0].dtype == lib.float32
        lazy = s.scale(x for x in (a, b))
        assert not isinstance(lazy, (list, tuple))
        assert [t.sum().item() for t in lazy] == [12.0, 12.0]
    _same_outcome(lambda: cr.amp.GradScaler("cpu").scale(3.0),
                  lambda: torch.amp.GradScaler("cpu").scale(3.0))


def test_grad_scaler_scale_is_differentiable_and_keeps_dtype():
    for lib in (cr, torch):
        w = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        loss = (w * w).sum()
        scaled = lib.amp.GradScaler("cpu", init_scale=16.0).scale(loss)
        assert scaled.dtype == lib.float64
        scaled.backward()
        np.testing.assert_array_equal(w.grad.numpy(), [32.0, -64.0])


def _one_backward(lib, scaler, dtype=None):
    p = lib.tensor([1.0, 2.0], requires_grad=True, dtype=dtype or lib.float32)
    opt = lib.optim.SGD([p], lr=0.1)
    scaler.scale((p * p).sum()).backward()
    return p, opt


@pytest.mark.parametrize("misuse", [
    "unscale_twice", "unscale_after_step", "step_twice", "closure", "update_before_scale",
    "unscale_before_scale", "fp16_grads", "growth_factor", "backoff_factor", "new_scale_grad"])
def test_grad_scaler_errors_match_torch(misuse):
    def run(lib):
        if misuse == "growth_factor":
            return lib.amp.GradScaler("cpu", growth_factor=1.0)
        if misuse == "backoff_factor":
            return lib.amp.GradScaler("cpu", backoff_factor=1.0)
        s = lib.amp.GradScaler("cpu")
        if misuse == "update_before_scale":
            return s.update()
        if misuse == "unscale_before_scale":
            return s.unscale_(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1))
        _, opt = _one_backward(lib, s, lib.float16 if misuse == "fp16_grads" else None)
        if misuse == "unscale_twice":
            s.unscale_(opt)
            return s.unscale_(opt)
        if misuse == "unscale_after_step":
            s.step(opt)
            return s.unscale_(opt)
        if misuse == "step_twice":
            s.step(opt)
            return s.step(opt)
        if misuse == "closure":
            return s.step(opt, closure=lambda: None)
        if misuse == "fp16_grads":
            return s.step(opt)
        if misuse == "new_scale_grad":
            s.step(opt)
            return s.update(lib.tensor(2.0, requires_grad=True))
        raise AssertionError(misuse)

    _, rt, _, _ = _same_outcome(lambda: run(cr), lambda: run(torch))
    assert isinstance(rt, type) and issubclass(rt, Exception)


def test_grad_scaler_unscale_divides_grads_and_update_sets_new_scale():
    for lib in (cr, torch):
        s = lib.amp.GradScaler("cpu", init_scale=8.0)
        p, opt = _one_backward(lib, s)
        np.testing.assert_array_equal(p.grad.numpy(), [16.0, 32.0])
        s.unscale_(opt)
        np.testing.assert_array_equal(p.grad.numpy(), [2.0, 4.0])
        assert s.step(opt) is None
        s.update(3.0)
        assert s.get_scale() == 3.0
        p, opt = _one_backward(lib, s)
        s.step(opt)
        s.update(lib.tensor(5.0))
        assert s.get_scale() == 5.0
        s.set_growth_factor(3.0)
        s.set_backoff_factor(0.1)
        s.set_growth_interval(7)
        assert (s.get_growth_factor(), s.get_backoff_factor(), s.get_growth_interval()) == \
            (3.0, 0.1, 7)


def test_grad_scaler_step_returns_the_optimizer_steps_value():
    for lib in (cr, torch):
        class Stepper(lib.optim.SGD):
            def step(self, closure=None):
                super().step()
                return "stepped"

        for enabled in (True, False):
            s = lib.amp.GradScaler("cpu", enabled=enabled)
            p = lib.tensor([1.0], requires_grad=True)
            opt = Stepper([p], lr=0.1)
            s.scale(p.sum()).backward()
            assert s.step(opt) == "stepped"


def test_grad_scaler_disabled_is_a_pass_through():
    for lib in (cr, torch):
        s = lib.amp.GradScaler("cpu", enabled=False)
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.5)
        loss = (p * p).sum()
        assert s.scale(loss) is loss
        loss.backward()
        s.unscale_(opt)
        np.testing.assert_array_equal(p.grad.numpy(), [2.0, 4.0])
        assert s.step(opt) is None
        np.testing.assert_array_equal(p.detach().numpy(), [0.0, 0.0])
        s.update()
        s.load_state_dict({})
        assert (s.get_scale(), s.state_dict(), s.is_enabled()) == (1.0, {}, False)


def test_grad_scaler_cuda_device_warns_and_disables_like_torch():
    for kwargs in ({}, {"device": "cuda"}, {"enabled": False}):
        rc, rt, wc, wt = _same_outcome(lambda kw=kwargs: cr.amp.GradScaler(**kw),
                                       lambda kw=kwargs: torch.amp.GradScaler(**kw))
        assert rc.is_enabled() is rt.is_enabled() is False
        assert [m for _, m in wc] == [m for _, m in wt]
        assert rc.get_scale() == 1.0
    for kwargs in ({}, {"enabled": False}, {"init_scale": 4.0}):
        rc, rt, wc, wt = _same_outcome(lambda kw=kwargs: cr.cuda.amp.GradScaler(**kw),
                                       lambda kw=kwargs: torch.cuda.amp.GradScaler(**kw))
        assert wc[0][0] is FutureWarning
        assert [m for _, m in wc] == [m for _, m in wt]
        assert rc.is_enabled() is rt.is_enabled() is False
    assert cr.GradScaler is cr.amp.GradScaler
    assert cr.amp.GradScaler("cpu").is_enabled()


# ------------------------------------------------------------------------------------ autocast

@pytest.fixture
def fresh_warning():
    """Forget that the once-per-process autocast warning was shown (and restore afterwards)."""
    saved = autocast_mode._PRECISION_WARNED
    autocast_mode._PRECISION_WARNED = False
    yield
    autocast_mode._PRECISION_WARNED = saved


def test_autocast_warns_once_and_computes_in_full_precision(fresh_warning):
    model = cr.nn.Linear(3, 2)
    x = cr.randn(4, 3)
    expected = model(x).detach().numpy()
    out, caught = _record(lambda: _run_in(cr.autocast("cpu"), lambda: model(x)))
    assert [c for c, _ in caught] == [UserWarning]
    assert "does not perform autocast" in caught[0][1] and "full precision" in caught[0][1]
    assert out.dtype == cr.float32
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    _, again = _record(lambda: _run_in(cr.autocast("cpu"), lambda: model(x)))
    assert again == []


def test_autocast_disabled_does_nothing(fresh_warning):
    _, caught = _record(lambda: _run_in(cr.autocast("cpu", enabled=False), lambda: None))
    assert caught == []
    assert autocast_mode._PRECISION_WARNED is False


def _run_in(ctx, fn):
    with ctx:
        return fn()


def _state(lib, device_type="cpu"):
    return lib.is_autocast_enabled(device_type), str(lib.get_autocast_dtype(device_type))


def test_autocast_state_as_context_manager_and_decorator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for lib in (cr, torch):
            assert lib.autocast is lib.amp.autocast
            assert lib.is_autocast_enabled() is False and lib.is_autocast_enabled("cpu") is False
            with lib.autocast("cpu", dtype=lib.float16):
                assert _state(lib)[0] is True and _state(lib)[1].endswith("float16")
                assert lib.is_autocast_enabled("cuda") is False
                with lib.autocast("cpu", enabled=False):
                    assert _state(lib)[0] is False and _state(lib)[1].endswith("float16")
                assert _state(lib)[0] is True
            assert lib.is_autocast_enabled("cpu") is False

            @lib.autocast("cpu", dtype=lib.float16)
            def forward(x, lib=lib):
                """doc"""
                return x * 2, lib.is_autocast_enabled("cpu")

            out, inside = forward(lib.ones(2))
            assert inside is True and lib.is_autocast_enabled("cpu") is False
            assert out.dtype == lib.float32 and forward.__doc__ == "doc"
            seen = []

            def look(lib=lib, seen=seen):
                seen.append(lib.is_autocast_enabled("cpu"))

            with lib.autocast("cpu", dtype=lib.float16):
                t = threading.Thread(target=look)
                t.start()
                t.join()
            assert seen == [False]       # the autocast state is thread-local
        # the default dtypes are torch's (bfloat16 a name only here)
        for device in ("cpu", "cuda", "mps", "xla"):
            assert str(cr.get_autocast_dtype(device)).split(".")[1] == \
                str(torch.get_autocast_dtype(device)).split(".")[1]


def test_autocast_with_bfloat16_runs_in_full_precision():
    """torch's CPU mixed-precision line runs unchanged (nothing is cast: the same numbers as
    without autocast), while a bfloat16 tensor is refused with the reason."""
    x, w = cr.randn(4, 3), cr.randn(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with cr.autocast(device_type="cpu", dtype=cr.bfloat16):
            assert _state(cr) == (True, "chainrule.bfloat16")
            y = cr.nn.functional.linear(x, w)
    assert y.dtype == cr.float32 and cr.equal(y, cr.nn.functional.linear(x, w))
    assert x.dtype != cr.bfloat16 and cr.bfloat16.is_floating_point
    for make in (lambda: cr.zeros(2, dtype=cr.bfloat16), lambda: x.to(cr.bfloat16),
                 lambda: x.bfloat16(), lambda: cr.tensor([1.0], dtype="bfloat16"),
                 lambda: cr.promote_types(cr.bfloat16, cr.float32)):
        with pytest.raises(TypeError, match="no bfloat16 tensors"):
            make()


@pytest.mark.parametrize("args, kwargs", [
    (("cuda",), {}), (("cuda",), {"enabled": False}), (("cpu",), {"dtype": "float32"}),
    (("cpu",), {"dtype": "float64"}), (("cpu",), {"dtype": "float32", "enabled": False}),
    (("foo",), {}), (("cpux",), {}), ((1,), {}), (("meta",), {"dtype": "float16"})])
def test_autocast_warnings_and_errors_match_torch(args, kwargs, fresh_warning):
    def make(lib):
        kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        with lib.autocast(*args, **kw) as ctx:
            return ctx._enabled, _state(lib, args[0])

    rc, rt, wc, wt = _same_outcome(lambda: make(cr), lambda: make(torch))
    if isinstance(rt, tuple):
        assert rc[0] is rt[0] is False                  # disabled in both, as torch says
        assert rc[1][0] is False and rc[1][1].split(".")[1] == rt[1][1].split(".")[1]
        if args == ("cuda",):
            assert [m for _, m in wc] == [m for _, m in wt]


def test_autocast_decorating_a_non_callable_raises_type_error():
    _same_outcome(lambda: cr.autocast("cpu", enabled=False)(3),
                  lambda: torch.autocast("cpu", enabled=False)(3))


def test_autocast_queries_validate_the_device_type():
    for query in ("is_autocast_enabled", "get_autocast_dtype"):
        _same_outcome(lambda q=query: getattr(cr, q)("foo"),
                      lambda q=query: getattr(torch, q)("foo"))
    assert cr.amp.is_autocast_available("cpu") and torch.amp.is_autocast_available("cpu")


def test_cuda_amp_autocast_is_deprecated_and_disabled_like_torch(fresh_warning):
    for kwargs in ({}, {"enabled": False}):
        rc, rt, wc, wt = _same_outcome(
            lambda kw=kwargs: _run_in(cr.cuda.amp.autocast(**kw), _cuda_on(cr)),
            lambda kw=kwargs: _run_in(torch.cuda.amp.autocast(**kw), _cuda_on(torch)))
        assert rc is rt is False
        assert [m for _, m in wc] == [m for _, m in wt]
    assert issubclass(cr.cuda.amp.autocast, cr.autocast)
    from chainrule.cuda.amp import GradScaler, autocast  # noqa: F401  (torch scripts import so)


def _cuda_on(lib):
    return lambda: lib.is_autocast_enabled("cuda")


# ----------------------------------------------------------------------------- cuda memory

@pytest.mark.parametrize("name", ["empty_cache", "memory_allocated", "max_memory_allocated",
                                  "memory_reserved", "max_memory_reserved",
                                  "reset_peak_memory_stats"])
def test_cuda_memory_queries_match_torch_without_cuda(name):
    rc, rt, _, _ = _same_outcome(lambda: getattr(cr.cuda, name)(),
                                 lambda: getattr(torch.cuda, name)())
    assert rc == rt or issubclass(rc, rt)


def test_custom_fwd_and_bwd_as_torch():
    # a custom Function's forward under autocast with cast_inputs: float16 inputs arrive as
    # float32 and forward runs with autocast off; backward runs in forward's autocast state
    def run(L):
        seen = []

        class Scale(L.autograd.Function):
            @staticmethod
            @L.amp.custom_fwd(device_type="cpu", cast_inputs=L.float32)
            def forward(ctx, x, k):
                seen.append((str(x.dtype).split(".")[1], L.is_autocast_enabled("cpu")))
                ctx.k = k
                return x * k

            @staticmethod
            @L.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                seen.append(L.is_autocast_enabled("cpu"))
                return g * ctx.k, None

        x = L.ones(3, dtype=L.float16, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with L.autocast(device_type="cpu"):
                y = Scale.apply(x, 2.0)
            y.sum().backward()
            z = Scale.apply(L.ones(2, requires_grad=True), 3.0)   # outside autocast: as is
        return seen, str(y.dtype).split(".")[1], x.grad.tolist(), str(z.dtype).split(".")[1]
    assert run(cr) == run(torch)
    with pytest.raises(ValueError, match="device_type"):
        cr.amp.custom_fwd(device_type=None)
