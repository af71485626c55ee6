"""SGD's update on oneDNN (``onednn.scaled_add``: x·a + y in one pass, large float32 arrays):
the same bits as NumPy's two passes, in place into either operand, and SGD with every option
equal to itself with oneDNN off and to torch's within float32 rounding."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backends import onednn
from chainrule.optim.optimizer import SCALED_ADD_MIN
from spies import record_calls

pytestmark = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
RNG = np.random.default_rng(5)


def _pair(shape):
    x = (RNG.standard_normal(shape) * 1e3).astype(np.float32)
    y = RNG.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3e38]
    y.reshape(-1)[:8] = [-0.0, -0.0, -np.inf, 1.0, 2.0, -1e-45, 0.0, 3e38]
    return x, y


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("a", [0.9, -0.01, 1e-3, 0.0])
def test_scaled_add_has_numpys_bits_new_and_in_place(threads, a):
    x, y = _pair((1000, 300))
    with np.errstate(all="ignore"):
        want = (x * a + y).view(np.uint32)
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        np.testing.assert_array_equal(onednn.scaled_add(x, a, y).view(np.uint32), want)
        for into in ("x", "y"):
            xs, ys = x.copy(), y.copy()
            out = onednn.scaled_add(xs, a, ys, out=xs if into == "x" else ys)
            assert out is (xs if into == "x" else ys)
            np.testing.assert_array_equal(out.view(np.uint32), want)
    finally:
        cr.set_num_threads(before)


def test_scaled_add_takes_channels_last_arrays_and_refuses_another_layout():
    x, y = (np.ascontiguousarray(a.reshape(8, 16, 32, 64).transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
            for a in _pair((8, 16, 32, 64)))
    with np.errstate(all="ignore"):
        want = x * 0.5 + y
    got = onednn.scaled_add(x, 0.5, y)
    assert got.strides == x.strides
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    with pytest.raises(ValueError, match="onednn.scaled_add: out must have x's shape"):
        onednn.scaled_add(x, 0.5, y, out=np.empty(x.shape, np.float32))


OPTIONS = [dict(momentum=0.9), dict(momentum=0.9, nesterov=True, weight_decay=1e-2),
           dict(momentum=0.5, dampening=0.1, weight_decay=1e-3), dict(momentum=0.9, maximize=True),
           dict()]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_sgd_on_large_parameters_matches_numpy_bit_for_bit_and_torch(monkeypatch, options):
    shape = (SCALED_ADD_MIN // 256 + 3, 256)   # above the size oneDNN takes
    w0 = RNG.standard_normal(shape).astype(np.float32)
    grads = [RNG.standard_normal(shape).astype(np.float32) for _ in range(3)]

    def run(lib):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, **options)
        for g in grads:
            w.grad = lib.tensor(g)
            opt.step()
        return w.detach().numpy()

    calls = record_calls(monkeypatch, onednn, ["scaled_add"])
    fast = run(cr)
    assert calls, "SGD's update did not run on oneDNN"
    monkeypatch.setattr(onednn, "enabled", False)
    del calls[:]
    slow = run(cr)
    assert not calls
    np.testing.assert_array_equal(fast, slow)
    # torch's θ − lr·b is one fused multiply-add: within a rounding of ours
    np.testing.assert_allclose(fast, run(torch), rtol=1e-6, atol=1e-6)
