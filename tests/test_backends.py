"""chainrule.backends.cpu: `import chainrule` changes no process-wide setting (BLAS threads,
malloc); `tuned()` blocks turn on the malloc tuning and the BLAS-thread policy, nest, and put
back what they changed (also after an error); the opt-outs; Linear and conv outside a block
never touch the BLAS's thread count, and give the same results inside."""
import json
import os
import platform
import subprocess
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import chainrule as cr
from chainrule import nn
from chainrule.backends import blas, cpu, onednn
from chainrule.nn.functional import conv_kernels

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Whether glibc's malloc serves a block by mmap is read from its count of mmapped blocks
# (mallinfo2().hblks) while the block lives. Default malloc mmaps blocks from 128 KiB up, but
# its threshold is dynamic: freeing a mmapped block raises it to that block's size, so each
# probe is 1 MiB larger than the last (all under the 32 MiB the tuning sets, and leaves: see
# backends.malloc). keepcost is the free memory at the top of the heap.
PROBE = r"""
import ctypes, json, sys
import numpy, threadpoolctl

libc = ctypes.CDLL(None)
size_t = ctypes.c_size_t if hasattr(libc, "mallinfo2") else ctypes.c_int   # glibc < 2.33: mallinfo
class MallInfo(ctypes.Structure):
    _fields_ = [(name, size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
mallinfo = getattr(libc, "mallinfo2", None) or libc.mallinfo
mallinfo.restype = MallInfo
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

sizes = iter(range(1, 32))
def mmapped():
    before = mallinfo().hblks
    block = libc.malloc(next(sizes) << 20)
    during = mallinfo().hblks
    libc.free(block)
    return during > before

def kept_mib():
    return mallinfo().keepcost >> 20

def blas_threads():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info()]

out = {"before_import": mmapped(), "threads_before_import": blas_threads()}
import chainrule
from chainrule.backends import cpu
out["after_import"] = mmapped()
out["threads_after_import"] = blas_threads()
out["matplotlib"] = "matplotlib" in sys.modules
out["heavy"] = sorted(m for m in ("PIL", "torch", "sklearn", "scipy", "tqdm", "safetensors",
                                                          "mpi4py")
                      if m in sys.modules)
with cpu.tuned():
    out["tuned"] = [cpu.is_tuned(), mmapped()]
    with cpu.tuned():
        out["nested"] = [cpu.is_tuned(), mmapped()]
        with cpu.tuned(enabled=False):
            out["off_inside"] = [cpu.is_tuned(), mmapped()]
        out["back_on"] = [cpu.is_tuned(), mmapped()]
    out["outer"] = [cpu.is_tuned(), mmapped()]
    out["kept_inside"] = kept_mib()
out["kept_after"] = kept_mib()
out["after"] = [cpu.is_tuned(), mmapped()]
try:
    with cpu.tuned():
        raise KeyError
except KeyError:
    out["after_error"] = [cpu.is_tuned(), mmapped()]
out["threads_after"] = blas_threads()
print(json.dumps(out))
"""


def _run(script, *args, **env):
    """Run ``script`` in a fresh interpreter with this one's PYTHONPATH and no malloc settings
    or tuning switch of its own, plus ``env``; its stdout."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", cpu.ENV_VAR)}
    return subprocess.run([sys.executable, "-c", script, *args], env={**base, **env}, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def restore_threads():
    before = cr.get_num_threads()
    yield
    cr.set_num_threads(before)


# --------------------------------------------------------------------------- import, tuned()
@pytest.mark.skipif(not GLIBC, reason="the malloc probe reads glibc's mallinfo")
def test_import_changes_nothing_and_tuned_blocks_nest_and_restore():
    out = json.loads(_run(PROBE))
    assert out["threads_after_import"] == out["threads_before_import"]
    assert out["matplotlib"] is False
    assert out["heavy"] == []            # optional extras are imported on first use only
    assert out["before_import"] is True and out["after_import"] is True     # malloc untouched
    # [settings on, the probe's block mmapped]: on = served from the heap, and after a block
    # too (the threshold stays at glibc's adaptive ceiling), but the kept memory is returned
    assert out["tuned"] == out["nested"] == out["back_on"] == out["outer"] == [True, False]
    assert out["off_inside"] == out["after"] == out["after_error"] == [False, False]
    assert out["kept_inside"] >= 16 and out["kept_after"] < 1
    assert out["threads_after"] == out["threads_before_import"]


@pytest.mark.skipif(not GLIBC, reason="the malloc probe reads glibc's mallinfo")
def test_the_environment_switches_the_settings_off():
    out = json.loads(_run(PROBE, **{cpu.ENV_VAR: "0"}))
    for key in ("tuned", "nested", "off_inside", "back_on", "outer", "after", "after_error"):
        assert out[key] == [False, True], key


@pytest.mark.skipif(not GLIBC, reason="the malloc probe reads glibc's mallinfo")
def test_a_users_own_malloc_settings_are_left_alone():
    out = json.loads(_run(PROBE, MALLOC_ARENA_MAX="2"))
    assert out["tuned"] == [True, True]          # the thread policy is on, malloc untouched


# a "training step": 13 MiB in arrays of 1 to 4 MiB allocated, touched and freed together, 20 times
STEP_LOOP = """
import resource, sys, numpy as np
from chainrule.backends import cpu
def step():
    arrays = [np.ones(1 << s, np.float32) for s in (18, 19, 20, 20, 19)]
    return sum(float(a[-1]) for a in arrays)
if sys.argv[1] == "after":     # the loop after a tuned block has been left
    with cpu.tuned():
        step()
with cpu.tuned(enabled=sys.argv[1] == "tuned"):
    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not GLIBC, reason="the malloc tuning is glibc's")
def test_tuned_malloc_page_faults_far_less_in_a_step_loop():
    tuned, untuned = int(_run(STEP_LOOP, "tuned")), int(_run(STEP_LOOP, "untuned"))
    assert tuned < 0.5 * untuned, (tuned, untuned)


@pytest.mark.skipif(not GLIBC, reason="the malloc tuning is glibc's")
def test_after_a_tuned_block_large_arrays_are_not_fresh_mappings():
    """Leaving a block must not leave malloc mapping every large array afresh (a fixed 128 KiB
    threshold did: each array page-faulted in at each use, 4× slower elementwise ops)."""
    tuned, after = int(_run(STEP_LOOP, "tuned")), int(_run(STEP_LOOP, "after"))
    assert after < 2 * tuned + 200, (tuned, after)


def test_tuned_reads_the_switch_at_entry_and_an_argument_overrides_it(monkeypatch):
    monkeypatch.setenv(cpu.ENV_VAR, "0")
    with cpu.tuned():
        assert not cpu.is_tuned()
        with cpu.tuned(enabled=True):
            assert cpu.is_tuned()
        assert not cpu.is_tuned()
    monkeypatch.setenv(cpu.ENV_VAR, "1")
    with pytest.raises(KeyError):
        with cpu.tuned():
            assert cpu.is_tuned()
            raise KeyError
    assert not cpu.is_tuned()


# --------------------------------------------------------------------------- the BLAS policy
def _spy_on_products(monkeypatch):
    """For every np.matmul chainrule makes: the thread counts threadpool_info() reads at that
    moment and the name of the Python thread making it."""
    seen, matmul = [], np.matmul

    def spy(*args, **kwargs):
        seen.append((tuple(lib["num_threads"] for lib in threadpool_info()),
                     threading.current_thread().name))
        return matmul(*args, **kwargs)
    monkeypatch.setattr(np, "matmul", spy)
    return seen


def _linear_and_conv_steps():
    """A small dense layer (3·10⁶ multiply-adds, under SMALL_PRODUCT) and a convolution of six
    images, each a forward and a backward; returns outputs and gradients."""
    rng = np.random.default_rng(0)
    cr.manual_seed(0)
    dense, conv = nn.Linear(400, 120), nn.Conv2d(3, 4, 3, padding=1)
    x = cr.tensor(rng.standard_normal((64, 400)).astype(np.float32), requires_grad=True)
    img = cr.tensor(rng.standard_normal((6, 3, 8, 8)).astype(np.float32), requires_grad=True)
    y, z = dense(x), conv(img)
    (y.sum() + (z * z).sum()).backward()
    return [t.detach().numpy() for t in (y, x.grad, dense.weight.grad, dense.bias.grad,
                                         z, img.grad, conv.weight.grad)]


@pytest.fixture
def numpy_conv():
    """The NumPy convolution kernels (whose thread policy these tests watch), not oneDNN's."""
    with onednn.flags(enabled=False):
        yield


def test_outside_tuned_linear_and_conv_leave_the_blas_threads_alone(restore_threads, numpy_conv,
                                                                   monkeypatch):
    assert blas.found()
    cr.set_num_threads(2)
    monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", 1)       # one chunk per image
    counts = tuple(lib["num_threads"] for lib in threadpool_info())
    seen = _spy_on_products(monkeypatch)
    _linear_and_conv_steps()
    assert len(seen) > 10
    assert set(seen) == {(counts, threading.current_thread().name)}


def test_inside_tuned_the_policy_runs_and_the_results_are_the_same(restore_threads, numpy_conv,
                                                                   monkeypatch):
    """The same spy sees the policy at work inside a block (one BLAS thread for the small
    products, the convolution's chunks on the pool); the results equal those outside, bit for
    bit for the dense layer, within float32 rounding for the convolution (whose chunks sum
    the weight gradient in another order)."""
    cr.set_num_threads(2)
    monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", 1)
    outside = _linear_and_conv_steps()
    counts = tuple(lib["num_threads"] for lib in threadpool_info())
    seen = _spy_on_products(monkeypatch)
    with cpu.tuned(enabled=True):
        inside = _linear_and_conv_steps()
    assert cr.get_num_threads() == 2
    assert any(c != counts for c, _ in seen)
    assert any(name.startswith("chainrule") for _, name in seen)
    for a, b in zip(outside[:4], inside[:4]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(outside[4:], inside[4:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
def test_inside_tuned_a_small_product_on_onednn_keeps_chainrules_threads(restore_threads,
                                                                         monkeypatch):
    """The one-BLAS-thread rule is for NumPy's BLAS (whose threads spin on after a call); a
    product oneDNN's matmul takes runs on chainrule's count, inside a block as outside."""
    cr.set_num_threads(2)
    seen, real = [], onednn.try_matmul

    def spy(*args):
        c = real(*args)
        seen.append((c is not None, cr.get_num_threads()))
        return c
    monkeypatch.setattr(onednn, "try_matmul", spy)
    dense = nn.Linear(400, 120)   # 64·400·120 = 3·10⁶ multiply-adds: under SMALL_PRODUCT
    x = cr.randn(64, 400, requires_grad=True)
    with cpu.tuned(enabled=True):
        dense(x).backward(cr.randn(64, 120))   # (a dense ȳ: sum()'s is a broadcast view)
    assert 64 * 400 * 120 < cpu.SMALL_PRODUCT
    assert [count for taken, count in seen if taken] == [2, 2, 2]   # forward, x̄, W̄


@pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
@pytest.mark.parametrize("threads, tuned", [(2, False), (2, True), (1, False)])
@pytest.mark.parametrize("rows, fan_in, fan_out", [(64, 120, 84), (1000, 256, 10), (2000, 256, 10)])
def test_products_blas_would_split_go_to_onednn(restore_threads, monkeypatch, threads, tuned,
                                                rows, fan_in, fan_out):
    """At more than one thread, a product large enough for OpenBLAS to split over its own
    (spinning) thread pool goes to oneDNN, a thin one too (an MLP's last layer at evaluation
    batches), unless a tuned() block runs it on one BLAS thread (under SMALL_PRODUCT); at one
    thread there is no pool and NumPy keeps it. The values agree either way."""
    macs = rows * fan_in * fan_out    # LeNet-5's 120 -> 84; an MLP's 256 -> 10
    assert macs >= onednn.BLAS_SPLIT_MIN and (macs < onednn.MATMUL_MIN or fan_out < 16)
    on_onednn = threads > 1 and (not tuned or macs >= cpu.SMALL_PRODUCT)
    cr.set_num_threads(threads)
    seen, real = [], onednn.try_matmul

    def spy(*args):
        c = real(*args)
        seen.append(c is not None)
        return c
    monkeypatch.setattr(onednn, "try_matmul", spy)
    dense = nn.Linear(fan_in, fan_out)
    x = cr.randn(rows, fan_in, requires_grad=True)
    g = cr.randn(rows, fan_out)
    with cpu.tuned(enabled=tuned):
        y = dense(x)
        y.backward(g)
    assert seen == [on_onednn] * 3            # forward, x̄, W̄
    w = dense.weight.detach().numpy()
    x64, g64, w64 = (a.astype(np.float64) for a in (x.detach().numpy(), g.numpy(), w))
    for got, want in [(y, x64 @ w64.T + dense.bias.detach().numpy()), (x.grad, g64 @ w64),
                      (dense.weight.grad, g64.T @ x64)]:    # sums of up to 1000 products
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-4, atol=1e-4)


def test_trainer_fit_and_the_cli_run_inside_tuned_blocks(monkeypatch, tmp_path):
    """Who turns the settings on: Trainer.fit for its loop, `chainrule train` for the command."""
    from chainrule.cli import main as cli_main
    from chainrule.cli import train as cli_train
    from chainrule.train import Callback, Trainer
    from chainrule.utils.data import DataLoader, TensorDataset

    seen = []

    class Probe(Callback):
        def on_batch_begin(self, trainer, step):
            seen.append(cpu.is_tuned())

    model = nn.Linear(3, 2)
    data = DataLoader(TensorDataset(cr.randn(8, 3), cr.tensor([0, 1] * 4)), batch_size=4)
    Trainer(model, nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1),
            callbacks=[Probe()]).fit(data, epochs=1)
    assert seen == [True, True] and not cpu.is_tuned()

    def fake_train(config, run_dir, quiet, figures):
        seen.append(("cli", cpu.is_tuned()))
        raise ValueError("stop here")

    monkeypatch.setattr(cli_train, "train", fake_train)
    assert cli_main(["train", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert seen[-1] == ("cli", True) and not cpu.is_tuned()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_an_outer_product_equals_numpys_matmul(dtype):
    """An inner dimension of 1 (a Linear weight's gradient at batch 1) is the broadcast product,
    not NumPy's slow matmul loop: the same values and dtype."""
    from chainrule.backends.namespace import matmul
    rng = np.random.default_rng(0)
    a, b = ((rng.standard_normal(shape) * 4).astype(dtype) for shape in ((5, 1), (1, 7)))
    got = matmul(a, b)
    np.testing.assert_array_equal(got, np.matmul(a, b))
    assert got.dtype == np.matmul(a, b).dtype and got.shape == (5, 7)
