"""The BLAS's thread count, read and set at run time, and a pool of worker threads.

NumPy has no API for its BLAS's threads, so OpenBLAS (the library NumPy's wheels bundle) is
found among the shared libraries NumPy ships and called through ctypes, as threadpoolctl does.
Where it is not found (macOS Accelerate, MKL builds, ...) everything here degrades to "one
thread, nothing to change".

Why chainrule needs it: OpenBLAS splits every product over all its threads, and for the thin,
cache-sized products of a convolution (16–64 rows) handing half of one to a second thread costs
more than it saves; on the 2-core machine measured, resnet20 trains *slower* with 2 BLAS
threads than with 1. Convolutions instead give whole chunks of images to a pool of Python
threads (NumPy releases the GIL in its copies and products), each calling a one-thread BLAS.
"""
from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_lock = threading.Lock()
_functions = None     # (get, set) of the bundled OpenBLAS, () when there is none
_pool = None          # ((workers, pid), ThreadPoolExecutor)


def _openblas():
    """(get_num_threads, set_num_threads) of the OpenBLAS NumPy uses, or () if not found."""
    global _functions
    if _functions is None:
        found = ()
        libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
        for path in sorted(glob.glob(os.path.join(libs, "*openblas*"))):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
                get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                    found = (get, set_)
                    break
            if found:
                break
        _functions = found
    return _functions


def get_num_threads() -> int:
    """The number of threads chainrule's BLAS products and convolutions use (1 where the BLAS's
    count cannot be read); ``torch.get_num_threads``. It starts at OpenBLAS's own default
    (``OPENBLAS_NUM_THREADS``, else the number of cores)."""
    functions = _openblas()
    return max(1, functions[0]()) if functions else 1


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for BLAS products and convolutions (``torch.set_num_threads``). A no-op
    where NumPy's BLAS is not OpenBLAS, whose threads chainrule cannot reach."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    functions = _openblas()
    if functions:
        with _lock:
            functions[1](n)


@contextlib.contextmanager
def one_thread_each():
    """Run the block with a single-threaded BLAS; yields the thread count it had before (the
    number of workers to spread independent work over)."""
    functions = _openblas()
    if not functions:
        yield 1
        return
    get, set_ = functions
    with _lock:       # the count is process-wide: nested or concurrent users restore in turn
        before = get()
        if before > 1:
            set_(1)
    try:
        yield max(1, before)
    finally:
        if before > 1:
            with _lock:
                set_(before)


# multiply-adds below which a product runs on one BLAS thread (see ``for_product``)
SMALL_PRODUCT = 1 << 22


def for_product(multiply_adds):
    """The threading for one product of that many multiply-adds: the BLAS's own threads when it
    is large, a single thread when it is small (under SMALL_PRODUCT, e.g. LeNet-5's 400→120
    layer at batch 64, 3·10⁶).

    Why: after a multi-threaded call OpenBLAS's helper threads spin for a while waiting for the
    next one, and on a small machine they take the cores that the convolutions' workers need.
    Measured on 2 cores: a LeNet-5 step takes 8.9 ms with its dense layers on 2 BLAS threads and
    6.7 ms with them on one, while a 128×784×256 product still gains 1.8× from 2 threads."""
    return one_thread_each() if multiply_adds < SMALL_PRODUCT else contextlib.nullcontext()


def parallel_map(fn, items):
    """[fn(item) for item in items], spread over the BLAS's threads (as Python threads each
    calling a one-thread BLAS); in order, and serial when there is one thread or one item."""
    global _pool
    with one_thread_each() as threads:
        if threads == 1 or len(items) < 2:
            return [fn(item) for item in items]
        if _pool is None or _pool[0] != (threads, os.getpid()):   # a forked child has no workers
            _pool = ((threads, os.getpid()), ThreadPoolExecutor(threads, thread_name_prefix="chainrule"))
        return list(_pool[1].map(fn, items))
