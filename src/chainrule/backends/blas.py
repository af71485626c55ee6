"""The thread count of NumPy's BLAS, read and set at run time (torch's get/set_num_threads).

NumPy has no API for its BLAS's threads. threadpoolctl, when it is installed, finds the BLAS
among the loaded shared libraries (OpenBLAS, MKL, BLIS, FlexiBLAS) and calls its own thread
functions; chainrule keeps the libraries NumPy ships (inside its package or its wheel's
``numpy.libs``) so that a SciPy or torch BLAS loaded beside it is left alone, or, for a NumPy
built against a system BLAS, every BLAS found. Without threadpoolctl the OpenBLAS in
``numpy.libs`` is called through ctypes, as threadpoolctl does. Where neither finds a BLAS
(macOS Accelerate, ...) the count reads 1 and setting it does nothing.

The libraries are looked up at the first call, not at import, and nothing here is called by
chainrule unless a user asks (``set_num_threads``) or a ``backends.cpu.tuned()`` block runs.
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np

try:
    from threadpoolctl import ThreadpoolController
except ImportError:     # an optional dependency: the ctypes lookup below covers NumPy's OpenBLAS
    ThreadpoolController = None

_lock = threading.Lock()   # the count is process-wide: read-modify-write under one lock
_found = None              # ((get, set), ...), one pair per BLAS library; () when there is none


def _numpy_dir():
    return os.path.realpath(os.path.dirname(np.__file__))


def _by_threadpoolctl():
    """(get, set) pairs of the BLAS libraries threadpoolctl finds, NumPy's own where it ships one.
    An OpenBLAS's pair is its own two C functions, bound once: threadpoolctl's methods look the
    symbol up on every call (a swap to one thread and back: 2.3 µs through them, 1.4 bound
    once), and a small product swaps twice."""
    libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    numpy_dir = _numpy_dir()      # .../numpy, and the wheel's .../numpy.libs beside it
    own = [lib for lib in libraries if os.path.realpath(lib.filepath).startswith(numpy_dir)]
    return tuple(_openblas_functions(lib.filepath) or (lib.get_num_threads, lib.set_num_threads)
                 for lib in own or libraries)


def _openblas_functions(path):
    """(get, set): OpenBLAS's thread functions in the library at ``path`` (SciPy's and NumPy's
    builds name them with a prefix and a suffix), or None where it has none."""
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")):
        get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
        set_ = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
        if get is not None and set_ is not None:
            get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
            return get, set_
    return None


def _by_ctypes():
    """(get, set) of the OpenBLAS in NumPy's wheel (``numpy.libs``), or () if not found."""
    for path in sorted(glob.glob(os.path.join(_numpy_dir() + ".libs", "*openblas*"))):
        functions = _openblas_functions(path)
        if functions is not None:
            return (functions,)
    return ()


def _libraries():
    global _found
    if _found is None:
        _found = _by_threadpoolctl() if ThreadpoolController is not None else _by_ctypes()
    return _found


def found() -> bool:
    """Whether a BLAS whose threads chainrule can set was found."""
    return bool(_libraries())


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS products use (1 where the count cannot be read);
    ``torch.get_num_threads``. It starts at the BLAS's own default (``OPENBLAS_NUM_THREADS``,
    ``OMP_NUM_THREADS``, else the number of cores); inside ``backends.cpu.tuned()`` it is also
    the number of threads a convolution's chunks are spread over."""
    libraries = _libraries()
    return max(1, libraries[0][0]() or 1) if libraries else 1


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for BLAS products (and, inside ``backends.cpu.tuned()``, for
    convolutions); ``torch.set_num_threads``. A no-op where NumPy's BLAS cannot be reached."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    with _lock:
        for _, set_ in _libraries():
            set_(n)


def swap_num_threads(n: int) -> int:
    """Set the count to ``n`` and return the count it had, as one step under the lock (so that
    threads swapping and swapping back restore in turn); no-op returning 1 without a BLAS."""
    libraries = _libraries()
    if not libraries:
        return 1
    with _lock:
        before = max(1, libraries[0][0]() or 1)
        if before != n:
            for _, set_ in libraries:
                set_(n)
    return before
