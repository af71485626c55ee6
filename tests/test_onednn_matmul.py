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


def _batches(rng):
    """(name, a, b): batches of products, as attention and torch.matmul make them: C order,
    a transposed view, the chunks of a wider array (row stride > K), four dims whose batch dims
    fall on one stride, one matrix, and a contiguous batch of rows times one matrix."""
    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)
    qkv = f32(3, 40, 3 * 24)
    q, k, v = qkv[..., :24], qkv[..., 24:48], qkv[..., 48:]
    return [("C @ C", f32(3, 40, 24), f32(3, 24, 32)),
            ("q @ kᵀ (chunks, a transposed view)", q, k.transpose(0, 2, 1)),
            ("scores @ v (a chunk)", f32(3, 40, 40), v),
            ("4-d: heads", f32(2, 3, 40, 24), f32(2, 3, 40, 32).transpose(0, 1, 3, 2)[..., :24, :]),
            ("one matrix in a batch", f32(1, 40, 24), f32(1, 24, 32)),
            ("rows @ one matrix", f32(2, 5, 40, 24), f32(24, 32))]


@needs_onednn
@pytest.mark.parametrize("threads", [1, 2])
def test_batched_matmul_matches_numpy(threads, monkeypatch):
    monkeypatch.setattr(onednn, "BLAS_SPLIT_MIN", 1)   # small batches, taken all the same
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        for name, a, b in _batches(np.random.default_rng(5)):
            c = onednn.try_matmul(a, b, True)
            assert c is not None, name
            assert c.shape == np.broadcast_shapes(a.shape[:-1] + (1,), b.shape[:-2] + (1, b.shape[-1])) \
                and c.dtype == np.float32 and c.flags.c_contiguous, name
            np.testing.assert_allclose(c, np.matmul(a.astype(np.float64), b), rtol=2e-5,
                                       atol=2e-4, err_msg=name)
    finally:
        cr.set_num_threads(before)


@needs_onednn
def test_batched_matmul_refuses_batches_it_does_not_read(monkeypatch):
    monkeypatch.setattr(onednn, "BLAS_SPLIT_MIN", 1)   # refused for their layout, not their size
    a = np.ones((2, 3, 40, 24), np.float32)
    b = np.ones((2, 3, 24, 32), np.float32)
    refused = {
        "batches that broadcast": (a, b[:1]),
        "a batch and a matrix, not C-contiguous": (a[:, :, :, ::-1], b[0, 0]),
        "batch dims on two strides": (a.transpose(1, 0, 2, 3), np.ones((3, 2, 24, 32), np.float32)),
        "a broadcast batch dim": (np.broadcast_to(a[:1], a.shape), b),
        "a matrix without a unit stride": (np.ones((2, 3, 40, 48), np.float32)[..., ::2], b),
    }
    for name, (x, y) in refused.items():
        assert onednn.try_matmul(x, y, True) is None, name
    np.testing.assert_array_equal(cr.matmul(cr.tensor(a), cr.tensor(b[:1])).numpy(),
                                  np.matmul(a, b[:1]))


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
        "batches that broadcast": (a[None], b[None, None]),
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
                 (rng.standard_normal((2, M, K)).astype(np.float32),
                  rng.standard_normal((1, K, N)).astype(np.float32))]:
        np.testing.assert_array_equal(cr.matmul(cr.tensor(a), cr.tensor(b)).numpy(), np.matmul(a, b))


@needs_onednn
@pytest.mark.parametrize("use_onednn", [True, False], ids=["onednn", "numpy"])
def test_attention_products_match_torch_at_two_threads(use_onednn):
    """Batched products (q kᵀ over the chunks of one projection, then scores @ v, over heads)
    and their gradients against torch's: at 2 threads they are over onednn.BLAS_SPLIT_MIN and
    take oneDNN's batched matmul (chunks and transposes read through their strides)."""
    before = cr.get_num_threads()
    rng = np.random.default_rng(6)
    qkv = rng.standard_normal((2, 4, 64, 96)).astype(np.float32)
    g = rng.standard_normal((2, 4, 64, 32)).astype(np.float32)
    assert 2 * 4 * 64 * 32 * 64 >= onednn.BLAS_SPLIT_MIN
    try:
        cr.set_num_threads(2)
        outs = []
        for lib in (cr, torch):
            x = lib.tensor(qkv, requires_grad=True)
            q, k, v = x.chunk(3, dim=-1)
            with onednn.flags(enabled=use_onednn):
                y = ((q @ k.transpose(-2, -1)) / 8.0).softmax(-1) @ v
                y.backward(lib.tensor(g))
            outs.append((y.detach().numpy(), x.grad.numpy()))
    finally:
        cr.set_num_threads(before)
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@needs_onednn
@pytest.mark.parametrize("threads", [1, 2])
def test_products_oneDNN_cannot_read_in_place_are_copied_for_it_at_two_threads(threads):
    """A transposed batch times a matrix, and a broadcast (zero-stride) gradient: over
    BLAS_SPLIT_MIN at 2 threads they run on oneDNN from contiguous copies (NumPy's BLAS would
    spin its own pool beside oneDNN's), at 1 thread on NumPy; the values are NumPy's either way."""
    from chainrule.backends.namespace import matmul
    rng = np.random.default_rng(9)
    t = rng.standard_normal((32, 16, 256)).astype(np.float32)
    w = rng.standard_normal((16, 64)).astype(np.float32)
    ones = np.broadcast_to(np.float32(1), (32, 256, 64))
    cases = {"transposed batch @ matrix": (t.transpose(0, 2, 1), w),
             "zero strides @ matrix": (ones, w.T),
             "matrix @ zero strides": (t.reshape(-1, 256).T, np.broadcast_to(np.float32(0.5),
                                                                            (512, 64)))}
    before = cr.get_num_threads()
    calls = []
    real = onednn.try_matmul

    def spy(a, b, *rest):
        c = real(a, b, *rest)
        calls.append(c is not None)
        return c
    try:
        cr.set_num_threads(threads)
        onednn.try_matmul = spy
        for name, (a, b) in cases.items():
            assert a.size * b.shape[-1] >= onednn.BLAS_SPLIT_MIN, name   # multiply-adds
            del calls[:]
            c = matmul(a, b)
            assert calls[-1] is (threads == 2), name
            np.testing.assert_allclose(c, np.matmul(a.astype(np.float64), b), rtol=2e-5,
                                       atol=2e-4, err_msg=name)
    finally:
        onednn.try_matmul = real
        cr.set_num_threads(before)


# ------------------------------------------------------------------ one B packed for many A
@needs_onednn
@pytest.mark.parametrize("threads", [1, 2])
def test_packed_matmul_matches_numpy_in_every_layout_of_b(threads):
    """The packed product equals NumPy's for B as it lies (C order, a transposed view), and it
    copied B: changing B after packing changes nothing."""
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        for name, a, b in _layouts(np.random.default_rng(1))[:2]:
            packed = onednn.packed_matmul(b, M)
            assert packed is not None, name
            expected = np.matmul(a.astype(np.float64), b)
            b_before = b.copy()
            b *= 3
            c = packed(a)
            b[...] = b_before
            assert c.shape == (M, N) and c.dtype == np.float32 and c.flags.c_contiguous
            np.testing.assert_allclose(c, expected, rtol=2e-5, atol=2e-4, err_msg=name)
            np.testing.assert_allclose(packed(2 * a), 2 * expected, rtol=2e-5, atol=4e-4)
    finally:
        cr.set_num_threads(before)


@needs_onednn
def test_packed_matmul_outlives_its_plan_in_the_cache():
    """A plan evicted from the bounded cache (closed) between packing and use is rebuilt."""
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((M, K), (K, N)))
    packed = onednn.packed_matmul(b, M)
    first = packed(a)
    onednn.clear_cache()
    np.testing.assert_array_equal(packed(a), first)


@needs_onednn
def test_packed_matmul_refuses_what_matmul_refuses_and_checks_its_operand():
    rng = np.random.default_rng(2)
    b = rng.standard_normal((K, N)).astype(np.float32)
    assert onednn.packed_matmul(b.astype(np.float64), M) is None        # float64
    assert onednn.packed_matmul(b[:8, :8], M) is None                    # under MATMUL_MIN
    assert onednn.packed_matmul(b, 0) is None
    with onednn.flags(enabled=False):
        assert onednn.packed_matmul(b, M) is None
    packed = onednn.packed_matmul(b, M)
    for bad in (np.ones((M + 1, K), np.float32), np.ones((M, K)), np.ones((K, M), np.float32).T):
        with pytest.raises(ValueError, match=r"onednn.PackedMatmul: expected a C-contiguous "
                                             r"float32 array of 64 rows"):
            packed(bad)


def test_product_with_takes_numpy_in_deterministic_mode_and_for_small_products(monkeypatch):
    """``namespace.product_with``: one B for many A, equal to ``matmul`` on each, whichever
    kernel runs (packed oneDNN, or NumPy's where oneDNN does not take the product)."""
    from chainrule.backends import namespace
    rng = np.random.default_rng(3)
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    calls = []
    monkeypatch.setattr(onednn, "packed_matmul", lambda *args: calls.append(args))
    cr.use_deterministic_algorithms(True)
    try:
        np.testing.assert_array_equal(namespace.product_with(b, M)(a), namespace.matmul(a, b))
    finally:
        cr.use_deterministic_algorithms(False)
    assert calls == []
    monkeypatch.undo()
    small = rng.standard_normal((5, 7))
    np.testing.assert_array_equal(namespace.product_with(small, 3)(small[:3, :5]),
                                  small[:3, :5] @ small)
