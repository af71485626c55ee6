"""Layer norm through oneDNN (float32 rows of at least onednn.ELEMENTWISE_MIN elements, the
``onednn`` extra) against torch: values and the three gradients with and without γ, β, one and
several normalized dims, 1 and 2 threads, a non-contiguous input and ȳ, double backward (the
differentiable NumPy rule), and what stays on NumPy (float64, deterministic mode)."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.backends import onednn
from spies import record_calls

pytestmark = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
RNG = np.random.default_rng(11)


@pytest.fixture
def calls(monkeypatch):
    """The names of oneDNN's layer-norm functions as they run."""
    return record_calls(monkeypatch, onednn, ["layer_norm_forward", "layer_norm_backward"])


def _both(shape, normalized, affine, transpose=False):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    w = (RNG.standard_normal(normalized) + 1).astype(np.float32) if affine else None
    b = RNG.standard_normal(normalized).astype(np.float32) if affine else None
    out = []
    for lib, fn in ((cr, F.layer_norm), (torch, torch.nn.functional.layer_norm)):
        xs = lib.tensor(x.swapaxes(0, 1) if transpose else x).requires_grad_()
        ws = None if w is None else lib.tensor(w, requires_grad=True)
        bs = None if b is None else lib.tensor(b, requires_grad=True)
        y = fn(xs.swapaxes(0, 1) if transpose else xs, normalized, ws, bs, 1e-5)
        y.backward(lib.tensor(g))
        out.append([y.detach().numpy(), xs.grad.numpy()]
                   + ([ws.grad.numpy(), bs.grad.numpy()] if affine else []))
    return out


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape, normalized, affine", [
    ((64, 32, 128), (128,), True), ((64, 32, 128), (128,), False),
    ((16, 32, 16, 16), (32, 16, 16), True), ((4096, 48), (48,), True)])
def test_layer_norm_on_onednn_matches_torch(calls, threads, shape, normalized, affine):
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        ours, theirs = _both(shape, normalized, affine)
    finally:
        cr.set_num_threads(before)
    assert calls == ["layer_norm_forward", "layer_norm_backward"]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-4)


def test_a_non_contiguous_input_and_gradient(calls):
    ours, theirs = _both((32, 64, 128), (128,), True, transpose=True)
    assert calls == ["layer_norm_forward", "layer_norm_backward"]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-4)


def test_double_backward_takes_the_differentiable_rule(calls):
    x = RNG.standard_normal((64, 1024)).astype(np.float32)
    w = RNG.standard_normal(1024).astype(np.float32)
    grads = []
    for lib, fn in ((cr, F.layer_norm), (torch, torch.nn.functional.layer_norm)):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = fn(xs, (1024,), ws, None, 1e-5)
        gx, = (cr.autograd.grad if lib is cr else torch.autograd.grad)(
            (y * y).sum(), [xs], create_graph=True)
        if lib is cr:   # recorded: the rule in differentiable ops, not oneDNN's kernel
            assert calls == ["layer_norm_forward"]
        (gx * gx).sum().backward()   # (through y's node too: a plain backward, on oneDNN)
        grads.append((gx.detach().numpy(), xs.grad.numpy(), ws.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("case", ["float64", "deterministic", "small"])
def test_what_stays_on_numpy(calls, case):
    shape = (8, 16) if case == "small" else (64, 32, 128)
    x = RNG.standard_normal(shape)
    x = x if case == "float64" else x.astype(np.float32)
    cr.use_deterministic_algorithms(case == "deterministic")
    try:
        y = F.layer_norm(cr.tensor(x, requires_grad=True), shape[-1:])
        y.backward(cr.ones(*shape, dtype=y.dtype))
    finally:
        cr.use_deterministic_algorithms(False)
    assert calls == []
    want = torch.nn.functional.layer_norm(torch.tensor(x), shape[-1:])
    np.testing.assert_allclose(y.detach().numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def test_the_array_functions_refuse_what_they_do_not_take():
    x = np.ones((512, 128), np.float32)
    v = np.ones(128, np.float32)
    for args in [(x[:, ::2].copy()[:, :64], v, v), (x.T, v, v), (x.astype(np.float64), v, v),
                 (x, v[:64], v), (np.ones((8, 16), np.float32), v[:16], v[:16])]:
        with pytest.raises(ValueError, match=r"onednn\.layer_norm_forward: expected"):
            onednn.layer_norm_forward(*args, 1e-5)
    y, mean, var = onednn.layer_norm_forward(x, v, v, 1e-5)
    with pytest.raises(ValueError, match=r"onednn\.layer_norm_backward: expected"):
        onednn.layer_norm_backward(x, x, mean[:10], var, v, 1e-5)
