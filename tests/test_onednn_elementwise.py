"""oneDNN's elementwise kernels (additions, ReLU's gradient, batch norm's per-channel pass):
the array functions against NumPy, and the layers that use them against torch, with oneDNN
enabled and disabled, on inputs large enough to take the oneDNN path."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.backends import onednn

needs_onednn = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
BIG = (8, 16, 32, 32)          # 131 072 elements: over onednn.ELEMENTWISE_MIN
BOTH = pytest.mark.parametrize("use_onednn", [True, False], ids=["onednn", "numpy"])


def channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def test_big_is_over_the_threshold():
    assert np.prod(BIG) >= onednn.ELEMENTWISE_MIN


@needs_onednn
@pytest.mark.parametrize("call", [
    "onednn.add(x, x)", "onednn.relu(x)", "onednn.relu(x, out=x)",
    "onednn.relu_backward(x, x)", "onednn.channel_affine(x, v, v)",
    "onednn.normalize_rows(x.reshape(32, -1), 1e-5)[0].reshape(x.shape)"])
def test_each_kernel_works_as_a_process_first_onednn_call(call):
    # the library is loaded by whatever comes first, not only by the support checks
    import subprocess
    import sys
    code = ("import numpy as np; from chainrule.backends import onednn; "
            "x = np.ones((4, 8, 4096), np.float32); v = np.ones(8, np.float32); "
            f"y = {call}; assert y.shape == x.shape, y.shape")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@needs_onednn
def test_supported_arrays():
    x = np.zeros(BIG, np.float32)
    assert onednn.elementwise_supported(x) and onednn.elementwise_supported(x, None, x)
    assert onednn.elementwise_supported(channels_last(x), channels_last(x))
    assert not onednn.elementwise_supported(x, channels_last(x))          # orders differ
    assert not onednn.elementwise_supported(x[:, :, ::2])                 # not dense
    assert not onednn.elementwise_supported(x.astype(np.float64))
    assert not onednn.elementwise_supported(x[:1, :1])                    # small: NumPy
    assert not onednn.elementwise_supported(x, np.zeros(BIG[::-1], np.float32))
    with onednn.flags(enabled=False):
        assert not onednn.elementwise_supported(x)


@needs_onednn
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
def test_relu_gradient_matches_numpy(layout):
    rng = np.random.default_rng(0)
    y = np.maximum(rng.standard_normal(BIG).astype(np.float32), 0)
    y.flat[:4] = [np.nan, -0.0, np.inf, 0.0]
    g = rng.standard_normal(BIG).astype(np.float32)
    if layout == "channels_last":
        y, g = channels_last(y), channels_last(g)
    gx = onednn.relu_backward(g, y)
    np.testing.assert_array_equal(gx, g * ~(y <= 0))      # a NaN passes its gradient, as torch
    assert gx.flat[0] == g.flat[0] and gx.strides == g.strides


@needs_onednn
@pytest.mark.parametrize("shape", [(4, 24, 1000), (4000, 24, 1), (4000, 24)])
@pytest.mark.parametrize("add,post", [(False, False), (True, False), (False, True), (True, True)])
def test_channel_affine_matches_numpy(shape, add, post):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    s, t, u = (rng.standard_normal(24).astype(np.float32) for _ in range(3))
    a = rng.standard_normal(x.shape).astype(np.float32) if add else None
    per_channel = (slice(None),) + (None,) * (x.ndim - 2)
    want = x * s[per_channel] + t[per_channel]
    if add:
        want = want + a
    if post:
        want = want * u[per_channel]
    got = onednn.channel_affine(x, s, t, a, u if post else None)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    onednn.channel_affine(x, s, t, a, u if post else None, out=x)       # in place
    np.testing.assert_allclose(x, want, rtol=1e-6, atol=1e-6)


@needs_onednn
def test_channel_affine_refuses_mismatched_shapes():
    x = np.zeros((2, 3, 4), np.float32)
    v = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="onednn.channel_affine: expected x, add, out"):
        onednn.channel_affine(x, np.zeros(4, np.float32), v)
    with pytest.raises(ValueError, match="onednn.channel_affine"):
        onednn.channel_affine(x, v, v, add=np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match="onednn.channel_affine"):
        onednn.channel_affine(x.reshape(2, 3, 2, 2), v, v)
    with pytest.raises(ValueError, match="out C-contiguous"):
        onednn.channel_affine(x, v, v, out=np.zeros((3, 2, 4), np.float32).transpose(1, 0, 2))
    with pytest.raises(ValueError, match="onednn.add: out must have"):
        onednn.add(np.zeros(BIG, np.float32), np.zeros(BIG, np.float32),
                   out=channels_last(np.zeros(BIG, np.float32)))
    with pytest.raises(TypeError, match="onednn.channel_affine: scale must be float32"):
        onednn.channel_affine(x, v.astype(np.float64), v)


@needs_onednn
def test_elementwise_cache_stays_bounded():
    onednn.clear_cache()
    for n in range(onednn.ELEMENTWISE_MIN, onednn.ELEMENTWISE_MIN + 3 * onednn.CACHE_SIZE, 3):
        y = np.maximum(np.linspace(-1, 1, n, dtype=np.float32), 0)
        np.testing.assert_array_equal(onednn.relu_backward(y, y), y * (y > 0))
    assert len(onednn._elementwise_cache.plans) <= onednn.CACHE_SIZE
    onednn.clear_cache()
    assert not onednn._elementwise_cache.plans


def _compare(ours, theirs, rtol=2e-5, atol=2e-5):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


@needs_onednn
@BOTH
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_train_and_eval_match_torch(use_onednn, layout, affine):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(BIG) * 3 + 1).astype(np.float32)
    g = rng.standard_normal(BIG).astype(np.float32)
    if layout == "channels_last":
        x, g = channels_last(x), channels_last(g)
    ours, theirs = cr.nn.BatchNorm2d(16, affine=affine), torch.nn.BatchNorm2d(16, affine=affine)
    if affine:
        w, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
        w[3] = 0.0                                  # a zero γ: that channel's x̄ is 0
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w)), theirs.bias.copy_(torch.tensor(b))
        with cr.no_grad():
            ours.weight.copy_(cr.tensor(w)), ours.bias.copy_(cr.tensor(b))
    with onednn.flags(enabled=use_onednn):
        _train_and_eval_against_torch(ours, theirs, x, g)


def _train_and_eval_against_torch(ours, theirs, x, g):
    """A training then an evaluation call of the two batch-norm modules on x: outputs (and
    their layout), x̄, γ̄, β̄ for output gradient g, and the running statistics."""
    for train in (True, False):
        ours.train(train), theirs.train(train)
        X, XT = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = ours(X), theirs(XT)
        _compare(y, yt)
        assert y.stride() == yt.stride()
        y.backward(cr.tensor(g))
        yt.backward(torch.tensor(g))
        _compare(X.grad, XT.grad, rtol=1e-4, atol=1e-4)
        if ours.affine:
            _compare(ours.weight.grad, theirs.weight.grad, rtol=1e-4, atol=1e-3)
            _compare(ours.bias.grad, theirs.bias.grad, rtol=1e-4, atol=1e-3)
            ours.zero_grad(), theirs.zero_grad()
        _compare(ours.running_mean, theirs.running_mean)
        _compare(ours.running_var, theirs.running_var)


@needs_onednn
@BOTH
@pytest.mark.parametrize("inplace", [False, True])
def test_relu_module_matches_torch(use_onednn, inplace):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(BIG).astype(np.float32)
    x.flat[5] = np.nan
    g = rng.standard_normal(BIG).astype(np.float32)
    with onednn.flags(enabled=use_onednn):
        X, XT = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = cr.nn.ReLU(inplace=inplace)(X * 1)
        yt = torch.nn.ReLU(inplace=inplace)(XT * 1)
        np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
        y.backward(cr.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(X.grad.numpy(), XT.grad.numpy())
        with cr.no_grad():
            np.testing.assert_array_equal(F.relu(cr.tensor(x)).numpy(), np.maximum(x, 0))


@needs_onednn
@BOTH
def test_batch_norm_1d_matches_torch(use_onednn):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((8192, 16)) * 2 - 1).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    with onednn.flags(enabled=use_onednn):
        _train_and_eval_against_torch(cr.nn.BatchNorm1d(16), torch.nn.BatchNorm1d(16), x, g)


@needs_onednn
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
def test_add_matches_numpy(layout):
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(BIG).astype(np.float32) for _ in range(2))
    a.flat[:3] = [np.nan, np.inf, -np.inf]
    if layout == "channels_last":
        a, b = channels_last(a), channels_last(b)
    y = onednn.add(a, b)
    np.testing.assert_array_equal(y, a + b)
    assert y.strides == a.strides
    assert onednn.add(a, b, out=b) is b
    np.testing.assert_array_equal(b, y)


@needs_onednn
def test_parallel_supported_needs_more_than_one_thread():
    x = np.zeros(BIG, np.float32)
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert onednn.elementwise_supported(x) and not onednn.parallel_supported(x)
        cr.set_num_threads(2)
        assert onednn.parallel_supported(x, x)
    finally:
        cr.set_num_threads(before)


@needs_onednn
@pytest.mark.parametrize("threads", [1, 2])
def test_residual_addition_and_gradient_sums_match_torch(threads):
    """y = relu(x·w + x) sums two gradients into x: the forward's addition and the backward's
    sum run on oneDNN at 2 threads."""
    rng = np.random.default_rng(6)
    x, g = (rng.standard_normal(BIG).astype(np.float32) for _ in range(2))
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        X, XT = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = F.relu(X * 0.5 + X), torch.relu(XT * 0.5 + XT)
        np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
        y.backward(cr.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(X.grad.numpy(), XT.grad.numpy())
    finally:
        cr.set_num_threads(before)


@needs_onednn
def test_compiled_step_uses_the_same_relu_gradient_kernel():
    """chainrule.compile's backward calls ReLU's kernel_d_x as the eager engine does: equal
    gradients, a NaN's included."""
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(BIG).astype(np.float32)
    w0.flat[9] = np.nan

    def step(w):
        y = F.relu(w * 2.0)
        loss = (y * y).sum()
        loss.backward()
        return loss
    compiled = cr.compile(step, fullgraph=True)
    for _ in range(2):      # the capture, then a replay
        a, b = cr.tensor(w0, requires_grad=True), cr.tensor(w0, requires_grad=True)
        compiled(a), step(b)
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert "kernel_d_x(" in compiled._last.source


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("shape,layout", [((5,), "C"), ((40, 40), "C"), (BIG, "C"),
                                          (BIG, "channels_last"), ((3, 20011), "C"),
                                          ((300, 70), "transposed"), ((60, 900), "sliced")])
def test_relu_keeps_nan_and_negative_zero_as_torch(threads, inplace, shape, layout):
    """relu(−0.0) is −0.0 and relu(NaN) is NaN in torch; chainrule's NumPy loops (scalar, or
    against rows of zeros with a tail, or zeros of x's shape where x has gaps) and its oneDNN
    kernel (large float32 arrays) give the same bits, in every layout, in place or not."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(np.float32)
    x.flat[:5] = x.flat[-5:] = [np.nan, -0.0, 0.0, -np.inf, np.inf]
    if layout == "channels_last":
        x = channels_last(x)
    view = {"transposed": lambda t: t.t(), "sliced": lambda t: t[:, ::2]}.get(layout, lambda t: t)
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        X, XT = view(cr.tensor(x)), view(torch.tensor(x))   # (views: the loop over x's strides)
        ours = (F.relu_(X) if inplace else F.relu(X)).numpy()
        theirs = (torch.relu_(XT) if inplace else torch.relu(XT)).numpy()
    finally:
        cr.set_num_threads(before)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    assert ours.strides == theirs.strides and (not inplace or ours is X.numpy())


@needs_onednn
def test_relu_refuses_an_out_of_another_shape_or_layout():
    x = np.zeros(BIG, np.float32)
    with pytest.raises(ValueError, match="onednn.relu: out must have x's shape"):
        onednn.relu(x, out=np.zeros(x.size, np.float32))
    with pytest.raises(ValueError, match="onednn.relu: out must have x's shape"):
        onednn.relu(x, out=channels_last(x))


@needs_onednn
@pytest.mark.parametrize("threads", [1, 2])
def test_relu_kernel_gives_torchs_bits_in_place_and_not(threads):
    """onednn.relu is (x > +∞) then max with x: torch's bits for NaN (its payload too), ±0,
    ±∞, subnormals and everything else, in place (out is x) as well, on several threads, and
    over a tail that is not a whole vector."""
    assert onednn.relu_exact()
    rng = np.random.default_rng(9)
    x = rng.standard_normal(BIG[0] * BIG[1] * BIG[2] * BIG[3] + 13).astype(np.float32)
    special = np.array([np.nan, -0.0, 0.0, -np.inf, np.inf, -1e-40, 1e-40], np.float32)
    special = np.append(special, np.uint32(0xFFC0BEEF).view(np.float32))   # negative NaN payload
    where = rng.choice(x.size, 4000, replace=False)
    x[where] = np.resize(special, where.size)
    x[-8:] = special
    want = torch.relu(torch.tensor(x)).numpy().view(np.uint32)
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        np.testing.assert_array_equal(onednn.relu(x).view(np.uint32), want)
        y = x.copy()
        assert onednn.relu(y, out=y) is y
        np.testing.assert_array_equal(y.view(np.uint32), want)
    finally:
        cr.set_num_threads(before)


@needs_onednn
@pytest.mark.parametrize("length", [2, onednn._SHORT_ROWS, onednn._SHORT_ROWS + 1])
def test_channel_affine_on_short_rows_matches_numpy(length):
    """Rows up to _SHORT_ROWS long run as (A, C·L) with repeated vectors: the same values."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2048 // length + 64, 24, length)).astype(np.float32)
    s, t, u = (rng.standard_normal(24).astype(np.float32) for _ in range(3))
    a = rng.standard_normal(x.shape).astype(np.float32)
    expected = (x * s[:, None] + t[:, None] + a) * u[:, None]
    np.testing.assert_allclose(onednn.channel_affine(x, s, t, a, u), expected, rtol=1e-6, atol=1e-6)
    out = x.copy()
    assert onednn.channel_affine(out, s, t, out=out) is out
    np.testing.assert_allclose(out, x * s[:, None] + t[:, None], rtol=1e-6, atol=1e-6)


@needs_onednn
def test_relu_dispatch_threads_and_exactness(monkeypatch):
    """ReLU (in place too) runs on oneDNN with more than one thread and where ``relu_exact``
    holds; at 1 thread, or where the kernel's bits differ from torch's, on NumPy."""
    assert onednn.relu_exact()          # (checked once, before the kernel is watched)
    calls, kernel, exact = [], onednn.relu, onednn.relu_exact
    monkeypatch.setattr(onednn, "relu", lambda x, out=None: calls.append(out is x) or kernel(x, out))
    x = np.random.default_rng(10).standard_normal(BIG).astype(np.float32)
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(2)
        F.relu(cr.tensor(x)), F.relu_(cr.tensor(x.copy()))
        assert calls == [False, True]
        monkeypatch.setattr(onednn, "relu_exact", lambda: False)
        np.testing.assert_array_equal(F.relu_(cr.tensor(x.copy())).numpy(), np.maximum(0, x))
        monkeypatch.setattr(onednn, "relu_exact", exact)
        cr.set_num_threads(1)
        np.testing.assert_array_equal(F.relu_(cr.tensor(x.copy())).numpy(), np.maximum(0, x))
        assert calls == [False, True]
    finally:
        cr.set_num_threads(before)
