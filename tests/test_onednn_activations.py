"""GELU (exact and tanh) and SiLU through oneDNN's eltwise kernels (float32 arrays of at least
onednn.ELEMENTWISE_MIN elements, the ``onednn`` extra) against torch: values and gradients, the
special values (NaN, ±inf, ±0), a compiled training step (the kernel as a method of the
node), double backward (the rules), and NumPy's path in deterministic mode."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.backends import onednn
from spies import record_calls

pytestmark = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
RNG = np.random.default_rng(13)
CASES = [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {})]


def _x(shape=(64, 32, 64)):
    x = (RNG.standard_normal(shape) * 4).astype(np.float32)
    x.reshape(-1)[:7] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30]
    return x


@pytest.fixture
def calls(monkeypatch):
    """The names of oneDNN's activation functions as they run."""
    return record_calls(monkeypatch, onednn, ["activation", "activation_backward"])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("op, kw", CASES, ids=["gelu", "gelu_tanh", "silu"])
def test_activation_on_onednn_matches_torch(calls, threads, op, kw):
    x = _x()
    g = RNG.standard_normal(x.shape).astype(np.float32)
    before = cr.get_num_threads()
    out = []
    try:
        cr.set_num_threads(threads)
        for lib in (cr, torch):
            xs = lib.tensor(x, requires_grad=True)
            y = getattr(F if lib is cr else torch.nn.functional, op)(xs, **kw)
            y.backward(lib.tensor(g))
            out.append((y.detach().numpy(), xs.grad.numpy()))
    finally:
        cr.set_num_threads(before)
    assert calls == ["activation", "activation_backward"]
    # (torch's tanh-GELU derivative is 0 where |x| > ~5.5; its formula, oneDNN's and chainrule's
    # NumPy rule alike, leaves up to 3e-6 there)
    for a, b, atol in zip(*out, (1e-6, 4e-6 if kw else 1e-6)):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=atol)


def test_a_compiled_training_step(calls):
    """A compiled step that runs its own backward: the generated code calls each node's kernel
    (a method: GELU's reads its ``approximate``)."""
    x = np.nan_to_num(_x((16, 32, 16, 16)), posinf=0.0, neginf=0.0) % 5
    w = cr.tensor(RNG.standard_normal((16, 32, 16, 16)).astype(np.float32))
    model = cr.nn.Sequential(cr.nn.Conv2d(32, 32, 1), cr.nn.GELU(), cr.nn.Conv2d(32, 32, 1),
                             cr.nn.SiLU())
    xs = cr.tensor(x)

    def step(t):
        model.zero_grad()
        loss = (model(t) * w).sum()
        loss.backward()
        return loss
    eager = step(xs).item()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    compiled = cr.compile(step)
    for _ in range(2):
        calls.clear()
        loss = compiled(xs).item()
        assert calls.count("activation_backward") == 2      # GELU's and SiLU's, each call
    assert compiled.counters.replays == 1
    assert "kernel_d_x" in compiled._cache[next(iter(compiled._cache))].source
    assert abs(loss - eager) <= 1e-5 * abs(eager)
    for p, want in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op, kw", CASES, ids=["gelu", "gelu_tanh", "silu"])
def test_double_backward_and_deterministic_mode_keep_the_rules(calls, op, kw):
    x = np.clip(_x(), -6, 6)
    x = np.nan_to_num(x)
    grads = []
    for lib in (cr, torch):
        xs = lib.tensor(x, requires_grad=True)
        y = getattr(F if lib is cr else torch.nn.functional, op)(xs, **kw)
        gx, = (cr.autograd.grad if lib is cr else torch.autograd.grad)((y * y).sum(), [xs],
                                                                        create_graph=True)
        if lib is cr:   # recorded: the rule in differentiable ops, not oneDNN's kernel
            assert "activation_backward" not in calls
        gx.sum().backward()   # (through y's node too: a plain backward, on oneDNN)
        grads.append((gx.detach().numpy(), xs.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    calls.clear()
    cr.use_deterministic_algorithms(True)
    try:
        y = getattr(F, op)(cr.tensor(x), **kw)
    finally:
        cr.use_deterministic_algorithms(False)
    assert calls == []
    want = getattr(torch.nn.functional, op)(torch.tensor(x), **kw).numpy()
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=2e-6)


def test_the_array_functions_refuse_what_they_do_not_take():
    x = np.ones((512, 128), np.float32)
    with pytest.raises(ValueError, match=r"onednn\.activation: expected a dense float32"):
        onednn.activation("gelu", x.astype(np.float64))
    with pytest.raises(ValueError, match=r"onednn\.activation: expected one of"):
        onednn.activation("mish", x)
    with pytest.raises(ValueError, match=r"onednn\.activation_backward: expected dense"):
        onednn.activation_backward("gelu", x[:, :64], x)


def test_small_activations_take_onednn_from_activation_min(calls):
    """A call costs ~10 µs and NumPy's GELU ~100 ns an element: from ACTIVATION_MIN elements on
    (a batch of 8 × 128 features), not only from ELEMENTWISE_MIN."""
    for shape, on in [((8, 128), True), ((8, 64), False)]:
        calls.clear()
        x = RNG.standard_normal(shape).astype(np.float32)
        xs, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        F.gelu(xs).backward(cr.ones(*shape))
        torch.nn.functional.gelu(xt).backward(torch.ones(shape))
        assert calls == (["activation", "activation_backward"] if on else []), shape
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert 8 * 64 < onednn.ACTIVATION_MIN <= 8 * 128 < onednn.ELEMENTWISE_MIN
