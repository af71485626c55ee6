"""Batch norm in training, the array paths behind ``BatchNormTrain``: NumPy's passes, which
take the statistics and the gradient's sums from raw sums while μ² ≤ UNCENTRED_MAX·σ² and from
x − μ beyond; with more than one thread, the forward's statistics from the rows (n, c) on
oneDNN; and oneDNN's batch-normalization primitive for channels-last arrays. Each against a
float64 reference or torch, and each dispatch checked."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional.normalization as normalization
from chainrule.backends import onednn

needs_onednn = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
SHAPE = (8, 16, 32, 32)       # over onednn.ELEMENTWISE_MIN


def channels_last(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def reference(x, g, w, b, eps=1e-5):
    """y, x̄, γ̄, β̄ and the biased σ² of batch norm in training, in float64."""
    x, g = x.astype(np.float64), g.astype(np.float64)
    axes, shape = (0, 2, 3), (1, -1, 1, 1)
    mean, var = x.mean(axes), x.var(axes)
    r = 1 / np.sqrt(var + eps)
    xhat = (x - mean.reshape(shape)) * r.reshape(shape)
    gb, gw = g.sum(axes), (g * xhat).sum(axes)
    n = x.size // x.shape[1]
    gx = (w * r).reshape(shape) * (g - (gb / n).reshape(shape) - xhat * (gw / n).reshape(shape))
    return xhat * w.reshape(shape) + b.reshape(shape), gx, gw, gb, var


def data(mean, seed=0, layout="nchw"):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(SHAPE) + mean).astype(np.float32)
    g = rng.standard_normal(SHAPE).astype(np.float32)
    w = rng.uniform(0.5, 1.5, 16).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    if layout == "channels_last":
        x, g = channels_last(x), channels_last(g)
    return x, g, w, b


def layer(x, g, w, b):
    """(y, x̄, γ̄, β̄, running_var) of chainrule's BatchNorm2d in training on x, ȳ = g."""
    bn = cr.nn.BatchNorm2d(16, momentum=1.0)      # momentum 1: running_var is the batch's
    with cr.no_grad():
        bn.weight.copy_(cr.tensor(w)), bn.bias.copy_(cr.tensor(b))
    X = cr.tensor(x, requires_grad=True)
    y = bn(X)
    y.backward(cr.tensor(g))
    return y.detach().numpy(), X.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy(), bn.running_var.numpy()


def torch_layer(x, g, w, b):
    """``layer`` on torch's BatchNorm2d."""
    bn = torch.nn.BatchNorm2d(16, momentum=1.0)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(w)), bn.bias.copy_(torch.tensor(b))
    X = torch.tensor(x, requires_grad=True)
    y = bn(X)
    y.backward(torch.tensor(g))
    return (y.detach().numpy(), X.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy(),
            bn.running_var.numpy())


def count_calls(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def close(ours, expected, rtol, atol):
    for o, e in zip(ours, expected):
        np.testing.assert_allclose(o, e, rtol=rtol, atol=atol)


@pytest.mark.parametrize("use_onednn", [True, False], ids=["onednn", "numpy"])
@pytest.mark.parametrize("mean", [0.0, 2.5, -2.5])
def test_uncentred_statistics_match_float64(monkeypatch, use_onednn, mean):
    """μ² ≤ 8σ² (σ = 1 here): raw sums, no x − μ array, and float32 accuracy all the same."""
    centred = count_calls(monkeypatch, normalization, "_centred")
    x, g, w, b = data(mean)
    with onednn.flags(enabled=use_onednn):
        y, gx, gw, gb, rv = layer(x, g, w, b)
    ry, rgx, rgw, rgb, var = reference(x, g, w, b)
    close((y, gx), (ry, rgx), rtol=1e-5, atol=2e-5)
    close((gw, gb, rv), (rgw, rgb, var * x.size / 16 / (x.size / 16 - 1)), rtol=1e-5, atol=1e-3)
    assert not centred


def at_threads(threads, fn, *args):
    before = cr.get_num_threads()
    cr.set_num_threads(threads)
    try:
        return fn(*args)
    finally:
        cr.set_num_threads(before)


def as_accurate_as_torch(ours, x, g, w, b):
    ry, rgx, rgw, rgb, var = reference(x, g, w, b)
    for o, t, r in zip(ours, torch_layer(x, g, w, b), (ry, rgx, rgw, rgb)):
        # within a few times torch's float32 error (both round μ of |x| ≈ 1000; the raw sums
        # would be off by about eps·μ²/σ², 10⁻¹ relative, at μ = −1000)
        scale = np.abs(r).max()
        assert np.abs(o - r).max() <= 4 * np.abs(t - r).max() + 1e-6 * scale


@pytest.mark.parametrize("mean", [10.0, -1000.0])
def test_a_large_mean_takes_the_centred_statistics(monkeypatch, mean):
    """μ² > 8σ²: σ² = E[x²] − μ² would lose digits, so x − μ is formed (forward and backward),
    and the result keeps torch's accuracy."""
    centred = count_calls(monkeypatch, normalization, "_centred")
    x, g, w, b = data(mean, seed=1)
    ours = at_threads(1, layer, x, g, w, b)
    assert len(centred) == 2
    as_accurate_as_torch(ours, x, g, w, b)


@needs_onednn
@pytest.mark.parametrize("mean", [0.0, 2.5, 10.0, -1000.0])
def test_two_threads_take_the_statistics_from_the_rows(monkeypatch, mean):
    """With more than one thread the forward's statistics come from oneDNN's rows (n, c):
    torch's accuracy for any mean, with no x − μ copy in the forward."""
    rows = count_calls(monkeypatch, onednn, "normalize_rows")
    centred = count_calls(monkeypatch, normalization, "_centred")
    x, g, w, b = data(mean, seed=6)
    x[0, 3] = 1.5                                  # a constant row: x̂ = 0 there, not 0/0
    ours = at_threads(2, layer, x, g, w, b)
    assert len(rows) == 1 and len(centred) == (mean ** 2 > 8)    # the backward's own rule
    as_accurate_as_torch(ours, x, g, w, b)
    var = reference(x, g, w, b)[4]
    np.testing.assert_allclose(ours[4], var * x.size / 16 / (x.size / 16 - 1), rtol=2e-6)


@needs_onednn
@pytest.mark.parametrize("case", ["one thread", "short rows", "deterministic"])
def test_the_rows_statistics_only_where_they_pay(monkeypatch, case):
    rows = count_calls(monkeypatch, onednn, "normalize_rows")
    x, g, w, b = data(0.5, seed=7)
    threads = 1 if case == "one thread" else 2
    if case == "short rows":     # 8×8 rows (under normalization.ROW_MIN), as many elements
        x, g = (a.reshape(8, 16, 16, 8, 8).transpose(0, 2, 1, 3, 4).reshape(128, 16, 8, 8)
                for a in (x, g))
        assert x.size >= onednn.ELEMENTWISE_MIN
    cr.use_deterministic_algorithms(case == "deterministic")
    try:
        at_threads(threads, layer, x, g, w, b)
    finally:
        cr.use_deterministic_algorithms(False)
    assert not rows


@needs_onednn
def test_normalize_rows_matches_float64():
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((64, 2048)) * 3 + 7).astype(np.float32)
    x[5] = -2.0                                    # a constant row
    xh, mean, var = onednn.normalize_rows(x, 1e-5)
    x64 = x.astype(np.float64)
    m, v = x64.mean(1), x64.var(1)
    np.testing.assert_allclose(mean, m, rtol=1e-6)
    np.testing.assert_allclose(var, v, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(xh, (x64 - m[:, None]) / np.sqrt(v[:, None] + 1e-5),
                               rtol=1e-5, atol=1e-5)
    assert not xh[5].any()
    with pytest.raises(ValueError,
                       match=r"onednn.normalize_rows: expected a C-contiguous float32 \(R, L\)"):
        onednn.normalize_rows(x.T, 1e-5)
    with pytest.raises(ValueError, match="onednn.normalize_rows"):
        onednn.normalize_rows(x.astype(np.float64), 1e-5)


def test_float64_gradients_by_finite_differences():
    """The uncentred and the centred paths, in float64, against central differences."""
    for mean in (0.5, 50.0):
        x = cr.tensor(np.random.default_rng(2).standard_normal((4, 3, 5, 5)) + mean, requires_grad=True)
        w = cr.tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
        b = cr.tensor(np.array([0.1, -0.2, 0.3]), requires_grad=True)
        assert cr.autograd.gradcheck(
            lambda x, w, b: cr.nn.functional.batch_norm(x, None, None, w, b, training=True),
            (x, w, b))


@needs_onednn
def test_batch_norm_supported_takes_channels_last_only():
    x = channels_last(np.zeros(SHAPE, np.float32))
    assert onednn.batch_norm_supported(x) and onednn.batch_norm_supported(x, x)
    assert not onednn.batch_norm_supported(np.zeros(SHAPE, np.float32))    # NCHW: NumPy's
    assert not onednn.batch_norm_supported(x.astype(np.float64))
    assert not onednn.batch_norm_supported(x, np.zeros(SHAPE, np.float32))  # ȳ laid out otherwise
    assert not onednn.batch_norm_supported(x[:1, :, :2])                    # small
    with onednn.flags(enabled=False):
        assert not onednn.batch_norm_supported(x)


@needs_onednn
@pytest.mark.parametrize("threads", [1, 2])
def test_onednn_primitive_matches_float64(threads):
    x, g, w, b = data(1.0, seed=3, layout="channels_last")
    before = cr.get_num_threads()
    cr.set_num_threads(threads)
    try:
        y, mean, var = onednn.batch_norm_forward(x, w, b, 1e-5)
        gx, gw, gb = onednn.batch_norm_backward(g, x, mean, var, w, 1e-5)
    finally:
        cr.set_num_threads(before)
    ry, rgx, rgw, rgb, rvar = reference(x, g, w, b)
    close((y, gx, mean, var), (ry, rgx, x.astype(np.float64).mean((0, 2, 3)), rvar),
          rtol=1e-5, atol=2e-5)
    close((gw, gb), (rgw, rgb), rtol=1e-5, atol=1e-3)
    assert y.strides == x.strides and gx.strides == x.strides     # laid out as x


@needs_onednn
def test_channels_last_layers_run_on_the_primitive_and_match_torch(monkeypatch):
    forward = count_calls(monkeypatch, onednn, "batch_norm_forward")
    backward = count_calls(monkeypatch, onednn, "batch_norm_backward")
    x, g, w, b = data(-0.5, seed=4, layout="channels_last")
    ours = layer(x, g, w, b)
    assert len(forward) == 1 and len(backward) == 1
    theirs = torch_layer(x, g, w, b)
    close(ours[:2], theirs[:2], rtol=1e-4, atol=1e-4)
    close(ours[2:], theirs[2:], rtol=1e-4, atol=1e-3)
    assert ours[0].strides == x.strides


@needs_onednn
def test_deterministic_mode_keeps_batch_norm_on_numpy(monkeypatch):
    """oneDNN splits the statistics' sums by thread count; deterministic mode must not."""
    forward = count_calls(monkeypatch, onednn, "batch_norm_forward")
    x, g, w, b = data(0.0, seed=5, layout="channels_last")
    cr.use_deterministic_algorithms(True)
    try:
        results = []
        for threads in (1, 2):
            before = cr.get_num_threads()
            cr.set_num_threads(threads)
            try:
                results.append(layer(x, g, w, b))
            finally:
                cr.set_num_threads(before)
    finally:
        cr.use_deterministic_algorithms(False)
    assert not forward
    for a, c in zip(*results):
        np.testing.assert_array_equal(a, c)


@needs_onednn
def test_the_primitive_refuses_what_it_does_not_take():
    x, g, w, b = data(0.0, layout="channels_last")
    with pytest.raises(ValueError, match="batch_norm_forward: expected a channels-last float32"):
        onednn.batch_norm_forward(np.ascontiguousarray(x), w, b, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm_forward: scale must be a contiguous float32 \(16,\)"):
        onednn.batch_norm_forward(x, w[:8], b, 1e-5)
    with pytest.raises(ValueError, match="batch_norm_backward: expected channels-last"):
        onednn.batch_norm_backward(np.ascontiguousarray(g), x, b, w, w, 1e-5)
    with pytest.raises(ValueError, match=r"batch_norm_backward: var must be a contiguous float32"):
        onednn.batch_norm_backward(g, x, b, w.astype(np.float64), w, 1e-5)


@needs_onednn
@pytest.mark.parametrize("case", ["1d", "float16"])
def test_the_rows_statistics_for_batch_norm_1d_and_half_precision_vs_torch(monkeypatch, case):
    """(N, C, L) inputs of BatchNorm1d take the rows' statistics at two threads too, and give
    torch's values; float16 ones take torch's own half-precision recipe (statistics rounded to
    float16, one fused multiply-add per element) and give its values bit for bit."""
    rows = count_calls(monkeypatch, onednn, "normalize_rows")
    rng = np.random.default_rng(9)
    shape, dtype = ((16, 8, 1024), np.float32) if case == "1d" else ((8, 16, 32, 32), np.float16)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    ours = (cr.nn.BatchNorm1d if case == "1d" else cr.nn.BatchNorm2d)(shape[1]).to(
        cr.float32 if case == "1d" else cr.float16)
    theirs = (torch.nn.BatchNorm1d if case == "1d" else torch.nn.BatchNorm2d)(shape[1]).to(
        torch.float32 if case == "1d" else torch.float16)
    y = at_threads(2, lambda: ours(cr.tensor(x)).detach().numpy())
    assert len(rows) == (1 if case == "1d" else 0) and y.dtype == dtype
    expected = theirs(torch.tensor(x)).detach().numpy()
    tol = 1e-5 if case == "1d" else 0
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(),
                               rtol=tol or 2e-3)   # float16 running estimates: within an ulp


def test_a_layer_called_twice_before_backward_as_torch():
    """A training BatchNorm called twice (its running estimates updated by the second call)
    and then one backward: no in-place error, as torch (the rules never read the estimates);
    the same for the stacked buffers of a vmapped ensemble."""
    import copy

    import torch
    got = []
    for lib in (cr, torch):
        lib.manual_seed(0)
        bn = lib.nn.BatchNorm1d(3)
        x = lib.randn(5, 3, requires_grad=True)
        (bn(x).sum() + (bn(x * 2) ** 2).sum()).backward()
        models = [lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2)) for _ in range(3)]
        params, buffers = lib.func.stack_module_state(models)
        base = copy.deepcopy(models[0])
        out = lib.vmap(lambda p, b, v: lib.func.functional_call(base, (p, b), (v,)))(
            params, buffers, lib.randn(3, 4, 3))
        out.pow(3).sum().backward()   # (Σ y² of a normalized y is flat in the weights)
        got.append([x.grad.numpy(), bn.running_var.numpy(), params["0.weight"].grad.numpy(),
                    buffers["1.running_mean"].numpy()])
    for a, b in zip(*got):   # float32 normalization: rounding of the batch statistics
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5)


def test_evaluation_coefficients_follow_every_write_to_the_vectors():
    """Evaluation's folded coefficients are remembered by the vectors' bytes: after a write
    through ``.data``, ``numpy()`` or an in-place op (not all of which move a version) the next
    call gives what the coefficients computed afresh give, and torch's output; one layer's
    vectors serve 1-D and 2-D inputs apart; the remembered arrays are read-only."""
    rng = np.random.default_rng(3)
    mine, ref = cr.nn.BatchNorm2d(16).eval(), torch.nn.BatchNorm2d(16).eval()
    x = rng.standard_normal((4, 16, 5, 5)).astype(np.float32)
    writes = [lambda m: None, lambda m: m.running_mean.data.add_(0.5),
              lambda m: m.running_var.numpy().__imul__(2), lambda m: m.weight.data.mul_(-1),
              lambda m: m.bias.data.fill_(0.25)]
    for write in writes:
        with cr.no_grad(), torch.no_grad():
            write(mine), write(ref)
            got, want = mine(cr.tensor(x)), ref(torch.tensor(x))
            normalization._FOLDED.clear()
            fresh = mine(cr.tensor(x))
        np.testing.assert_array_equal(got.numpy(), fresh.numpy())   # what the table gave
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    flat = cr.nn.BatchNorm1d(16).eval()
    flat.load_state_dict(mine.state_dict())
    with cr.no_grad():
        np.testing.assert_array_equal(flat(cr.tensor(x[:, :, 0, 0])).numpy(),
                                      mine(cr.tensor(x[:, :, :1, :1])).numpy()[:, :, 0, 0])
    assert all(not a.flags.writeable for entry in normalization._FOLDED.values() for a in entry)
    assert mine.running_mean._data.flags.writeable   # the layer's own buffers untouched
