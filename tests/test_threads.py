"""Threads: chainrule.get/set_num_threads reach NumPy's BLAS (through threadpoolctl, or ctypes
without it); inside backends.cpu.tuned() small dense products run on one BLAS thread and
convolutions spread chunks of images over Python threads, each with a one-thread BLAS, in a
fixed order of summation; outside, nothing changes the BLAS's thread count."""
import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.backends import blas, cpu, onednn
from chainrule.nn.functional import conv_kernels


@pytest.fixture
def restore_threads():
    before = cr.get_num_threads()
    yield
    cr.set_num_threads(before)


def test_numpys_blas_is_found_and_its_thread_count_set(restore_threads):
    assert blas.found(), "NumPy's BLAS was not found"
    for n in (1, 2, 3):
        cr.set_num_threads(n)
        assert cr.get_num_threads() == n
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
            cr.set_num_threads(bad)


def test_without_threadpoolctl_numpys_openblas_is_reached_through_ctypes(restore_threads, monkeypatch):
    """The fallback finds the same library: a count set through it is the one threadpoolctl
    (the default path) reads back, and the other way round."""
    by_threadpoolctl = blas._by_threadpoolctl()
    monkeypatch.setattr(blas, "ThreadpoolController", None)
    monkeypatch.setattr(blas, "_found", None)
    for n in (3, 1):
        cr.set_num_threads(n)                 # through ctypes
        assert [get() for get, _ in by_threadpoolctl] == [n]
    by_threadpoolctl[0][1](2)
    assert cr.get_num_threads() == 2


def test_one_thread_each_restores_the_count_even_after_an_error(restore_threads):
    cr.set_num_threads(2)
    with pytest.raises(KeyError):
        with cpu.one_thread_each() as workers:
            assert (workers, cr.get_num_threads()) == (2, 1)
            raise KeyError
    assert cr.get_num_threads() == 2


@pytest.mark.parametrize("threads", [1, 2])
def test_tuned_parallel_map_keeps_order_and_uses_one_worker_per_thread(restore_threads, threads):
    cr.set_num_threads(threads)
    barrier = threading.Barrier(threads, timeout=10)   # every worker must be running at once

    def work(i):
        barrier.wait()
        return i * i, threading.current_thread().name, cr.get_num_threads()
    with cpu.tuned(enabled=True):
        out = cpu.parallel_map(work, list(range(2 * threads)))
    assert [r[0] for r in out] == [i * i for i in range(2 * threads)]
    assert len({r[1] for r in out}) == threads
    assert all(r[2] == 1 for r in out)                  # each worker's BLAS runs one thread
    assert cr.get_num_threads() == threads


def test_untuned_parallel_map_is_a_loop_on_the_blas_as_configured(restore_threads):
    cr.set_num_threads(2)
    out = cpu.parallel_map(lambda i: (i, threading.current_thread(), cr.get_num_threads()), [0, 1, 2])
    assert out == [(i, threading.current_thread(), 2) for i in range(3)]
    assert cpu.workers() == 1


def test_tuned_conv_gives_the_same_bits_on_one_and_two_threads(restore_threads, monkeypatch):
    """Chunks run concurrently but the weight gradient sums their parts in chunk order: with
    the same chunks (here one image each), the thread count does not change a bit (the NumPy
    kernels; oneDNN's are left out here)."""
    monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", 1)
    monkeypatch.setattr(onednn, "enabled", False)
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((6, 8, 9, 9), np.float32), rng.standard_normal((5, 8, 3, 3), np.float32)
    results = []
    for threads in (1, 2):
        cr.set_num_threads(threads)
        x, w = cr.tensor(x0, requires_grad=True), cr.tensor(w0, requires_grad=True)
        with cpu.tuned(enabled=True):
            y = F.conv2d(x, w, padding=1, stride=2)
            (y * y).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_small_products_run_on_one_blas_thread_only_when_tuned(restore_threads):
    cr.set_num_threads(2)
    with cpu.for_product(cpu.SMALL_PRODUCT - 1):
        assert cr.get_num_threads() == 2
    with cpu.tuned(enabled=True):
        with cpu.for_product(cpu.SMALL_PRODUCT - 1):
            assert cr.get_num_threads() == 1
        with cpu.for_product(cpu.SMALL_PRODUCT):
            assert cr.get_num_threads() == 2
    assert cr.get_num_threads() == 2
