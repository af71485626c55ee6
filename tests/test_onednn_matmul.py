"""oneDNN's matmul behind chainrule's large 2-D float32 products (Linear's forward and
gradients, mm, matmul): the array function against NumPy in every layout it reads, its
refusals, its plan cache, and Linear against torch with oneDNN enabled and disabled."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backends import onednn

needs_onednn = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
M, K, N = 64, 200, 192          # 2.46 million multiply-adds: over onednn.MATMUL_MIN


def test_the_shapes_are_over_the_threshold():
    assert M * K * N >= onednn.MATMUL_MIN


def _layouts(rng):
    """(name, a, b): a (M, K) and b (K, N) as C-ordered arrays, transposes and row slices."""
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    a_wide = rng.standard_normal((M, K + 24)).astype(np.float32)[:, 5:5 + K]   # row stride > K
    return [("C @ C", a, b), ("C @ transposed", a, np.ascontiguousarray(b.T).T),
            ("transposed @ C", np.ascontiguousarray(a.T).T, b), ("sliced rows @ C", a_wide, b)]


@needs_onednn
@pytest.mark.parametrize("threads", [1, 2])
def test_matmul_matches_numpy_in_every_layout(threads):
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        for name, a, b in _layouts(np.random.default_rng(0)):
            assert onednn.matmul_supported(a, b), name
            c = onednn.matmul(a, b)
            assert c.shape == (M, N) and c.dtype == np.float32 and c.flags.c_contiguous
            np.testing.assert_allclose(c, np.matmul(a.astype(np.float64), b), rtol=2e-5,
                                       atol=2e-4, err_msg=name)
    finally:
        cr.set_num_threads(before)


@needs_onednn
def test_matmul_keeps_nan_inf_and_subnormals_as_numpy():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    a[0], b[:, 0] = 1e-39, 1.0          # a sum of subnormals (no flush to zero)
    a[1, 3], a[2, 4] = np.nan, np.inf
    c, want = onednn.matmul(a, b), a @ b
    assert c[0, 0] == want[0, 0] != 0
    np.testing.assert_array_equal(np.isnan(c), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(c), np.isinf(want))


@needs_onednn
def test_matmul_refuses_what_it_does_not_read():
    a = np.ones((M, K), np.float32)
    b = np.ones((K, N), np.float32)
    refused = {
        "float64": (a.astype(np.float64), b),
        "small": (a[:4], b[:, :4]),
        "a row": (a[:1], b),
        "3-d": (a[None], b),
        "reversed rows": (a[::-1], b),
        "no unit stride": (a[:, ::2], b[::2]),
        "a broadcast": (np.broadcast_to(np.ones(K, np.float32), (M, K)), b),
        "inner sizes differ": (a, b[1:]),
    }
    for name, (x, y) in refused.items():
        assert not onednn.matmul_supported(x, y), name
        with pytest.raises(ValueError, match=r"onednn\.matmul: expected float32 \(M, K\)"):
            onednn.matmul(x, y)
    with onednn.flags(enabled=False):
        assert not onednn.matmul_supported(a, b)


@needs_onednn
def test_matmul_cache_stays_bounded():
    onednn.clear_cache()
    rng = np.random.default_rng(1)
    b = rng.standard_normal((K, N)).astype(np.float32)
    for m in range(64, 64 + 2 * onednn.CACHE_SIZE):
        a = rng.standard_normal((m, K)).astype(np.float32)
        np.testing.assert_allclose(onednn.matmul(a, b), a @ b, rtol=1e-4, atol=1e-3)
    assert len(onednn._matmul_cache.plans) <= onednn.CACHE_SIZE
    onednn.clear_cache()
    assert not onednn._matmul_cache.plans


@needs_onednn
@pytest.mark.parametrize("use_onednn", [True, False], ids=["onednn", "numpy"])
def test_linear_matches_torch(use_onednn):
    """A Linear layer's output and its three gradients (x̄ = ȳW, W̄ = ȳᵀx, b̄), whose products all
    take the oneDNN path at this size, against torch's."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((M, K)).astype(np.float32)
    g = rng.standard_normal((M, N)).astype(np.float32)
    ours, theirs = cr.nn.Linear(K, N), torch.nn.Linear(K, N)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    X, XT = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with onednn.flags(enabled=use_onednn):
        y = ours(X)
        y.backward(cr.tensor(g))
    yt = theirs(XT)
    yt.backward(torch.tensor(g))
    for a, b in [(y, yt), (X.grad, XT.grad), (ours.weight.grad, theirs.weight.grad),
                 (ours.bias.grad, theirs.bias.grad)]:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-4)


@needs_onednn
def test_deterministic_mode_keeps_products_on_numpy(monkeypatch):
    calls = []
    real = onednn.try_matmul
    monkeypatch.setattr(onednn, "try_matmul", lambda *args: calls.append(1) or real(*args))
    a, b = cr.randn(M, K), cr.randn(K, N)
    cr.use_deterministic_algorithms(True)
    try:
        got = cr.mm(a, b).numpy()
    finally:
        cr.use_deterministic_algorithms(False)
    assert not calls
    np.testing.assert_array_equal(got, np.matmul(a.numpy(), b.numpy()))
    cr.mm(a, b)
    assert len(calls) == 1


def test_small_and_other_products_take_numpy():
    """Below the threshold, in float64 and batched, chainrule's matmul is NumPy's, bit for bit."""
    rng = np.random.default_rng(3)
    for a, b in [(rng.standard_normal((8, 9)).astype(np.float32), rng.standard_normal((9, 7)).astype(np.float32)),
                 (rng.standard_normal((M, K)), rng.standard_normal((K, N))),
                 (rng.standard_normal((2, M, K)).astype(np.float32), rng.standard_normal((K, N)).astype(np.float32))]:
        np.testing.assert_array_equal(cr.matmul(cr.tensor(a), cr.tensor(b)).numpy(), np.matmul(a, b))
