"""chainrule.backends.onednn: the three convolution ops against torch's (conv2d,
torch.nn.grad.conv2d_input / conv2d_weight) over a grid of shapes and geometries, both
layouts, the primitive cache's bound, the thread count, the fallback reasons, and the
``enabled`` / ``flags()`` switch. The value tests are skipped only where libdnnl.so.3 (the
``onednn`` extra, part of the ``test`` extra) is absent."""
import itertools
import logging
import subprocess
import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backends import _dnnl, onednn

needs_onednn = pytest.mark.skipif(
    not onednn.is_available(), reason=f"oneDNN is not installed: {_dnnl.load_error()}")


def close(a, b):
    """float32 agreement: 1e-5 relative, with an absolute floor scaled to the values (sums of
    hundreds of products of either sign cancel)."""
    b = np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(b).max(initial=0))))


def torch_ops(x, w, b, gy, stride, padding, dilation, groups):
    """torch's forward, input gradient, weight gradient (and bias gradient) for these arrays;
    padding (top, bottom, left, right) is applied by F.pad so asymmetric pads work too."""
    t, bo, l, r = padding
    tx, tw, tgy = torch.tensor(x), torch.tensor(w), torch.tensor(gy)
    xp = torch.nn.functional.pad(tx, (l, r, t, bo))
    y = torch.nn.functional.conv2d(xp, tw, None if b is None else torch.tensor(b), stride, 0, dilation, groups)
    gxp = torch.nn.grad.conv2d_input(tuple(xp.shape), tw, tgy, stride, 0, dilation, groups)
    gx = gxp[:, :, t:t + x.shape[2], l:l + x.shape[3]]
    gw = torch.nn.grad.conv2d_weight(xp, tuple(w.shape), tgy, stride, 0, dilation, groups)
    return y.numpy(), gx.numpy(), gw.numpy(), gy.sum((0, 2, 3))


def check_all(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32) if bias else None
    pads = onednn._pads(padding)
    ok, why = onednn.supports(x_shape, w_shape, np.float32, stride, padding, dilation, groups)
    assert ok, why
    y = onednn.conv2d_forward(x, w, b, stride, padding, dilation, groups)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    ty, tgx, tgw, tgb = torch_ops(x, w, b, gy, onednn._pair(stride), pads, onednn._pair(dilation), groups)
    assert y.shape == ty.shape and y.dtype == np.float32
    close(y, ty)
    gx = onednn.conv2d_backward_data(gy, w, x_shape, stride, padding, dilation, groups)
    assert gx.shape == x_shape and gx.dtype == np.float32
    close(gx, tgx)
    gw, gb = onednn.conv2d_backward_weights(x, gy, w_shape, stride, padding, dilation, groups, with_bias=bias)
    assert gw.shape == w_shape and gw.dtype == np.float32
    close(gw, tgw)
    if bias:
        close(gb, tgb)
    else:
        assert gb is None


GRID = [(n, c, k, s, p) for n, c, k, s, p in itertools.product((1, 3), (1, 3, 16), (1, 3, 5), (1, 2), (0, 1, 2))]


@needs_onednn
@pytest.mark.parametrize("n,c,k,s,p", GRID)
def test_values_match_torch_over_a_grid(n, c, k, s, p):
    o = {1: 3, 3: 16, 16: 5}[c]                 # output channels differ from the input's
    h, w = 6 + k, 9 + k                         # non-square, odd and even sizes
    check_all((n, c, h, w), (o, c, k, k), stride=s, padding=p, bias=(n + k) % 2 == 0, seed=n * 100 + c * 10 + k)


@needs_onednn
@pytest.mark.parametrize("case", [
    dict(x_shape=(2, 4, 9, 12), w_shape=(6, 2, 3, 3), groups=2, padding=1),
    dict(x_shape=(2, 8, 10, 10), w_shape=(8, 1, 3, 3), groups=8, padding=1, stride=2),   # depthwise
    dict(x_shape=(2, 3, 13, 11), w_shape=(4, 3, 3, 3), dilation=2, padding=2),
    dict(x_shape=(2, 3, 13, 11), w_shape=(4, 3, 3, 2), dilation=(2, 3), stride=(2, 1), padding=(1, 2)),
    dict(x_shape=(2, 3, 8, 9), w_shape=(4, 3, 4, 2), padding=(1, 2, 0, 1)),               # asymmetric
    dict(x_shape=(1, 2, 5, 5), w_shape=(3, 2, 5, 5), padding=0),                          # 1×1 output
    dict(x_shape=(4, 3, 7, 8), w_shape=(5, 3, 3, 3), stride=3, padding=1, bias=False),
])
def test_groups_dilation_asymmetric_padding(case):
    check_all(**case)


@needs_onednn
@pytest.mark.parametrize("layout", onednn.LAYOUTS)
def test_each_layout_matches_torch(monkeypatch, layout):
    """Each layout the autotuner chooses between computes the same convolution."""
    monkeypatch.setattr(onednn, "autotune", False)
    monkeypatch.setattr(onednn, "_heuristic", lambda kind, args, geo: layout)
    onednn.clear_cache()
    try:
        check_all((3, 3, 10, 9), (16, 3, 3, 3), stride=2, padding=1)
        check_all((2, 16, 8, 8), (8, 16, 1, 1), stride=2)
        check_all((2, 8, 9, 7), (8, 2, 3, 3), padding=(1, 2), dilation=2, groups=4)
        assert all(plan.layout == layout for plan in onednn._cache.plans.values())
    finally:
        onednn.clear_cache()


@needs_onednn
def test_autotune_keeps_one_plan_per_op_and_matches_torch(monkeypatch):
    monkeypatch.setattr(onednn, "autotune", True)
    onednn.clear_cache()
    try:
        check_all((2, 3, 10, 9), (8, 3, 3, 3), stride=2, padding=1)
        assert onednn.cache_info()["size"] == 3
        assert {plan.layout for plan in onednn._cache.plans.values()} <= set(onednn.LAYOUTS)
    finally:
        onednn.clear_cache()


@needs_onednn
def test_engine_before_any_other_call_loads_the_library():
    """engine() as a process's first oneDNN call loads the library (it used to take the
    module's lock and then wait on it forever in load())."""
    code = "from chainrule.backends import _dnnl; _dnnl.engine(); print(_dnnl.version())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("(3,")


@needs_onednn
def test_heuristic_layouts():
    """The GEMM convolution on NCHW for backward-data into few channels and for all three ops
    of 1×1 kernels; channels-last for the forward into ≤ 16 channels of a large image and for
    the weight gradient of stride-1 k×k convs from ≥ 6 channels."""
    assert onednn.implementation("backward_data", (64, 1, 28, 28), (6, 1, 5, 5), 1, 2).endswith("(plain)")
    assert onednn.implementation("backward_data", (8, 16, 8, 8), (32, 16, 1, 1), 2).endswith("(plain)")
    assert onednn.implementation("forward", (8, 16, 8, 8), (32, 16, 3, 3), 1, 1).endswith("(blocked)")
    assert onednn.implementation("forward", (2, 16, 32, 32), (16, 16, 3, 3), 1, 1).endswith("(channels_last)")
    assert onednn.implementation("forward", (2, 16, 32, 32), (32, 16, 3, 3), 1, 1).endswith("(blocked)")
    assert onednn.implementation("backward_weights", (2, 6, 14, 14), (16, 6, 5, 5)).endswith("(channels_last)")
    assert onednn.implementation("backward_weights", (2, 16, 16, 16), (32, 16, 3, 3), 2, 1).endswith("(blocked)")
    assert onednn.implementation("backward_weights", (2, 3, 16, 16), (16, 3, 3, 3), 1, 1).endswith("(blocked)")
    for kind in ("forward", "backward_weights"):    # resnet20's downsampling shortcut
        assert onednn.implementation(kind, (2, 16, 32, 32), (32, 16, 1, 1), 2).endswith("(plain)")
    assert onednn.implementation("forward", (2, 64, 8, 8), (256, 64, 1, 1)).endswith("(plain)")


@needs_onednn
def test_conv1d_and_conv_transpose2d_mappings():
    """conv1d is a conv2d of height 1; conv_transpose2d(input, weight) is backward_data with
    the transposed conv's output shape as x_shape."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 17)).astype(np.float32)
    w = rng.standard_normal((5, 3, 4)).astype(np.float32)
    y = onednn.conv2d_forward(x[:, :, None], w[:, :, None], None, (1, 2), (0, 1))[:, :, 0]
    close(y, torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), stride=2, padding=1).numpy())
    inp = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    wt = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)         # (C_in, C_out, kh, kw)
    expect = torch.nn.functional.conv_transpose2d(torch.tensor(inp), torch.tensor(wt), stride=2, padding=1,
                                                  output_padding=1).numpy()
    out = onednn.conv2d_backward_data(inp, wt, expect.shape, stride=2, padding=1)
    close(out, expect)


@needs_onednn
def test_non_contiguous_inputs_are_copied():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 10, 3)).astype(np.float32).transpose(0, 3, 1, 2)   # (2, 3, 9, 10)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)[:, :, ::-1]
    y = onednn.conv2d_forward(x, w, None, 1, 1)
    close(y, torch.nn.functional.conv2d(torch.tensor(np.ascontiguousarray(x)),
                                        torch.tensor(w.copy()), padding=1).numpy())


@needs_onednn
def test_cache_is_bounded_and_results_stay_right():
    onednn.clear_cache()
    rng = np.random.default_rng(5)
    w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
    tw = torch.tensor(w)
    for i in range(onednn.CACHE_SIZE + 20):
        x = rng.standard_normal((1, 1, 3 + i % 40, 3 + i // 40)).astype(np.float32)
        close(onednn.conv2d_forward(x, w), torch.nn.functional.conv2d(torch.tensor(x), tw).numpy())
        assert onednn.cache_info()["size"] <= onednn.CACHE_SIZE
    info = onednn.cache_info()
    assert info["size"] == onednn.CACHE_SIZE == info["maxsize"]
    # an evicted geometry is rebuilt and still right; a cached one is a hit
    x = rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    close(onednn.conv2d_forward(x, w), torch.nn.functional.conv2d(torch.tensor(x), tw).numpy())
    hits = onednn.cache_info()["hits"]
    onednn.conv2d_forward(x, w)
    assert onednn.cache_info()["hits"] == hits + 1
    onednn.clear_cache()
    assert onednn.cache_info()["size"] == 0


@needs_onednn
def test_thread_count_follows_chainrule():
    """A plan is made for the thread count it runs with; results agree across counts."""
    before, torch_before = cr.get_num_threads(), torch.get_num_threads()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    try:
        onednn.clear_cache()
        cr.set_num_threads(1)
        y1 = onednn.conv2d_forward(x, w, None, 1, 1)
        assert onednn.omp_threads() == cr.get_num_threads()
        cr.set_num_threads(2)
        y2 = onednn.conv2d_forward(x, w, None, 1, 1)
        assert onednn.omp_threads() == cr.get_num_threads()
        if cr.get_num_threads() == 2:         # a BLAS whose count chainrule can set
            assert onednn.cache_info()["size"] == 2
            torch.set_num_threads(1)          # torch shares the libgomp: chainrule's count
            onednn.conv2d_forward(x, w, None, 1, 1)   # is used for the call and put back after
            assert onednn.omp_threads() == 2 and torch.get_num_threads() == 1
        close(y1, y2)
    finally:
        cr.set_num_threads(before)
        torch.set_num_threads(torch_before)
        onednn.clear_cache()


# ---------------------------------------------------------------------------- fallbacks
@needs_onednn
@pytest.mark.parametrize("args,reason", [
    (((2, 3, 8, 8), (4, 3, 3, 3), np.float64), "float32 only"),
    (((0, 3, 8, 8), (4, 3, 3, 3), np.float32), "empty tensor"),
    (((2, 3, 2, 2), (4, 3, 3, 3), np.float32), "larger than the padded input"),
    (((2, 4, 8, 8), (4, 3, 3, 3), np.float32), "do not fit groups=1"),
])
def test_fallback_reasons(args, reason):
    ok, why = onednn.supports(*args)
    assert not ok and reason in why


@needs_onednn
def test_output_size_that_does_not_follow_is_refused():
    """The adjoint of a transposed conv whose output_padding (< dilation) is ≥ stride: its
    output (1, 1) is smaller than the (2, 2) the geometry gives."""
    ok, why = onednn.supports((1, 2, 9, 9), (2, 2, 3, 3), np.float32, 2, 0, 3, 1, out_hw=(1, 1))
    assert not ok and "output_padding" in why
    assert onednn.supports((1, 2, 9, 9), (2, 2, 3, 3), np.float32, 2, 0, 3, 1, out_hw=(2, 2))[0]


@needs_onednn
def test_direct_calls_refuse_what_supports_refuses():
    x64 = np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"onednn.conv2d_forward: not supported on oneDNN: dtype float64"):
        onednn.conv2d_forward(x64, x64[:, :, :3, :3])
    x = np.zeros((1, 1, 5, 5), np.float32)
    with pytest.raises(TypeError, match=r"onednn.conv2d_forward: w must be float32, got float64"):
        onednn.conv2d_forward(x, x64[:, :, :3, :3])
    with pytest.raises(ValueError, match=r"conv2d_backward_data: gy has shape \(1, 2, 3, 3\), expected \(1, 1, 3, 3\)"):
        onednn.conv2d_backward_data(np.zeros((1, 2, 3, 3), np.float32), x[:, :, :3, :3], (1, 1, 5, 5))
    with pytest.raises(ValueError, match="padding must be an int, a pair or"):
        onednn.supports((1, 1, 5, 5), (1, 1, 3, 3), np.float32, 1, (1, 2, 3))


@needs_onednn
def test_debug_logs_each_reason_once(monkeypatch, caplog):
    monkeypatch.setattr(onednn, "debug", True)
    monkeypatch.setattr(onednn, "_explained", set())
    with caplog.at_level(logging.WARNING, logger="chainrule.backends.onednn"):
        for _ in range(3):
            onednn.supports((2, 3, 8, 8), (4, 3, 3, 3), np.float64)
    assert len(caplog.records) == 1 and "runs on NumPy: dtype float64" in caplog.records[0].message


def test_enabled_and_flags():
    assert onednn.enabled is True          # CHAINRULE_ONEDNN is not set to 0 in the tests
    with onednn.flags(enabled=False):
        assert onednn.enabled is False and not onednn.is_enabled()
        ok, why = onednn.supports((2, 3, 8, 8), (4, 3, 3, 3), np.float32)
        assert not ok and "disabled" in why
        with onednn.flags(enabled=True):
            assert onednn.enabled is True
        assert onednn.enabled is False
    assert onednn.enabled is True
    with pytest.raises(KeyError):
        with onednn.flags(enabled=False):
            raise KeyError("restored after an error too")
    assert onednn.enabled is True
    assert onednn.is_enabled() == onednn.is_available()


def test_environment_variable_disables_at_import():
    import subprocess
    import sys
    code = "from chainrule.backends import onednn; print(onednn.enabled, onednn.supports((1,1,4,4),(1,1,3,3),'float32')[1])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "CHAINRULE_ONEDNN": "0"}).stdout
    assert out.startswith("False disabled")


@needs_onednn
def test_loading_from_the_environment_reads_no_package_metadata():
    """Where the wheel put the library (the environment's lib/), loading it does not go through
    importlib.metadata, which scans sys.path and keeps its caches for the process's life."""
    import os
    if not os.path.exists(os.path.join(sys.prefix, "lib", _dnnl.LIBRARY)):
        pytest.skip("the library is not in this environment's lib/")
    code = ("import sys; from chainrule.backends import _dnnl; "
            "before = 'importlib.metadata' in sys.modules; assert _dnnl.load() is not None; "
            "print(before, 'importlib.metadata' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[1] == out[0], out      # imported by the load: True after False


def test_absent_library_says_how_to_install(monkeypatch):
    monkeypatch.setattr(_dnnl, "_lib", None)
    monkeypatch.setattr(_dnnl, "_load_error", None)
    monkeypatch.setattr(_dnnl, "_candidates", lambda: ["/nonexistent/libdnnl.so.3"])
    assert not onednn.is_available()
    ok, why = onednn.supports((1, 1, 4, 4), (1, 1, 3, 3), np.float32)
    assert not ok and "pip install 'chainrule[onednn]'" in why
    with pytest.raises(onednn.OneDNNError, match="oneDNN is not available"):
        _dnnl.lib()


@needs_onednn
def test_failing_call_names_the_function_and_status():
    with pytest.raises(onednn.OneDNNError,
                       match=r"dnnl_memory_desc_create_with_tag failed with dnnl_invalid_arguments \(2\)"):
        _dnnl.memory_desc((2, -3, 4, 4), _dnnl.abcd)


def test_data_addresses_agree_with_ctypes():
    """The fast address read (the array struct's data pointer) where it agrees with NumPy's own
    ``ctypes.data`` on probes, which it must then do on any array."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((4, 5, 6)).astype(np.float32), np.zeros(0), np.zeros(())]
    arrays += [arrays[0][1:, ::2], arrays[0].transpose(2, 0, 1), np.frombuffer(bytearray(64), np.uint8)]
    assert onednn._address in (onednn._address_from_struct, onednn._address_from_ctypes)
    for a in arrays:
        assert onednn._address(a) == a.ctypes.data


@needs_onednn
def test_scratch_buffers_pooled_only_while_malloc_would_give_them_back(monkeypatch):
    """The blocked copies' buffers are pooled outside ``cpu.tuned()`` (a fresh one would
    page-fault); inside, where malloc keeps freed memory, they go back to malloc, for the next
    op's output to reuse while in cache. The results are the same either way."""
    from chainrule.backends import cpu
    monkeypatch.setattr(onednn, "autotune", False)
    monkeypatch.setattr(onednn, "_heuristic", lambda kind, args, geo: "blocked")   # reorders
    monkeypatch.setattr(onednn, "_buffers", onednn._Buffers())
    onednn.clear_cache()
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 16, 10, 10)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    want = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    try:
        close(onednn.conv2d_forward(x, w, None, 1, 1), want)
        pooled = onednn._buffers.bytes
        assert pooled > 0
        with cpu.tuned():
            keeps = cpu.keeps_freed_memory()
            onednn._buffers.free.clear()
            onednn._buffers.bytes = 0
            close(onednn.conv2d_forward(x, w, None, 1, 1), want)
            assert onednn._buffers.bytes == (0 if keeps else pooled)
        assert not cpu.keeps_freed_memory()
    finally:
        onednn.clear_cache()
