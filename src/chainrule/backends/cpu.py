"""chainrule's CPU settings, on for a block: ``with chainrule.backends.cpu.tuned(): ...``.

``import chainrule`` changes no process-wide setting. Two that make training steps faster are
changed only inside a ``tuned()`` block (``Trainer.fit``, the CLI's ``train`` and ``run`` and
the benchmarks open one around their loops):

1. malloc: glibc's malloc keeps freed memory for the next step (mmap threshold 32 MiB, 16 MiB
   kept at the top of the heap); ``backends.malloc`` says why, and what leaving restores.
   With that, oneDNN's scratch buffers go back to malloc after each convolution instead of
   into a pool, so that the next op's output reuses memory still in cache (``keeps_freed_memory``).
2. BLAS threads: a dense 2-D product under ``SMALL_PRODUCT`` multiply-adds that NumPy's BLAS
   runs (not oneDNN's matmul, on chainrule's count) uses one BLAS thread (``for_product``),
   and a convolution's chunks of images run on a pool of Python threads, as
   many as the BLAS has threads, each calling a one-thread BLAS (``parallel_map``). The BLAS's
   count is lowered for the length of each such call and put back after it.

Outside a block, Linear and conv just call NumPy: the BLAS's thread count is never changed, and
a convolution's chunks run one after another on the BLAS's threads as configured (at more than
one thread, the products OpenBLAS would split over its own pool go to oneDNN's matmul instead,
where it is installed: ``backends.namespace.matmul`` says why).

Why the thread policy (measured on 2 cores): OpenBLAS splits every product over all its
threads, and for the thin, cache-sized products of a convolution (16–64 rows) handing half of
one to a second thread costs more than it saves (resnet20 trained *slower* with 2 BLAS threads
than with 1), while whole chunks of images on two Python threads (NumPy releases the GIL in its
copies and products) took its step from 165–179 to 145–155 ms. And after a multi-threaded call
OpenBLAS's helper threads spin a while, taking the cores the convolutions' workers need: a
LeNet-5 step took 8.9 ms with its dense layers on 2 BLAS threads and 6.7 ms on one, while a
128×784×256 product still gains 1.8× from 2 threads (hence the size limit).

Turning it off: ``tuned(enabled=False)`` (inside an enabled block too: that block runs
untuned), or ``CHAINRULE_CPU_TUNING=0`` in the environment, which makes ``tuned()`` without an
argument change nothing. The malloc part alone is skipped where the user sets malloc up
(``MALLOC_*`` variables, ``glibc.malloc`` tunables).

The settings are process-wide, as what they change is: a block entered in one thread is on for
every thread until it exits. Blocks nest, and each exit puts back the state its entry found,
also when the block raises.
"""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from . import malloc
from .blas import get_num_threads, swap_num_threads

ENV_VAR = "CHAINRULE_CPU_TUNING"
SMALL_PRODUCT = 1 << 22     # multiply-adds below which a dense product runs on one BLAS thread

_lock = threading.Lock()
_blocks = []            # (token, enabled) of every open tuned() block, innermost last
_active = False         # the innermost open block is enabled: the thread policy is on
_malloc_tuned = False   # malloc.tune() is in effect and is undone when the policy goes off
_NOTHING = contextlib.nullcontext()
_pool = None            # ((workers, pid), ThreadPoolExecutor): a forked child has no workers


def _settle():
    """Make the settings those of the innermost open block (untuned when none is open)."""
    global _active, _malloc_tuned
    _active = bool(_blocks) and _blocks[-1][1]
    if _active and not _malloc_tuned:
        _malloc_tuned = malloc.tune()
    elif not _active and _malloc_tuned:
        malloc.restore()
        _malloc_tuned = False


@contextlib.contextmanager
def tuned(enabled=None):
    """Run the block with chainrule's CPU settings on (``enabled=True``, the default) or off
    (``enabled=False``); ``enabled=None`` reads ``CHAINRULE_CPU_TUNING`` ("0" means off).

        with chainrule.backends.cpu.tuned():
            for x, y in loader:
                ...                      # a training loop: malloc tuned, BLAS thread policy on

    See the module docstring for what is changed; on exit, even by an exception, the settings
    go back to what the block's entry found."""
    if enabled is None:
        enabled = os.environ.get(ENV_VAR, "1") != "0"
    block = (object(), bool(enabled))
    with _lock:
        _blocks.append(block)
        _settle()
    try:
        yield
    finally:
        with _lock:
            _blocks.remove(block)     # by identity (its token), wherever it sits
            _settle()


def is_tuned() -> bool:
    """Whether the settings are on now (a ``tuned()`` block is open and enabled)."""
    return _active


def keeps_freed_memory() -> bool:
    """Whether glibc's malloc now keeps freed memory mapped for reuse (``malloc.tune`` by an
    open ``tuned()`` block), so that freeing a large buffer costs no page faults later."""
    return _malloc_tuned


def workers() -> int:
    """How many chunks of work ``parallel_map`` runs at once: the BLAS's thread count inside
    ``tuned()``, else 1."""
    return get_num_threads() if _active else 1


class one_thread_each:
    """``with one_thread_each() as n:`` runs the block with a one-thread BLAS; n is the count it
    had before (the number of workers to spread independent work over). The count is restored
    even after an error. (A class, not a generator context manager: it wraps every small
    product: 1.65 µs instead of 2.25, the swaps included.)"""

    __slots__ = ("before",)

    def __enter__(self):
        self.before = swap_num_threads(1)
        return self.before

    def __exit__(self, *exc):
        if self.before != 1:
            swap_num_threads(self.before)


def for_product(multiply_adds):
    """The context to run one dense product of that many multiply-adds in: a one-thread BLAS
    when the settings are on and the product is small (under SMALL_PRODUCT, e.g. LeNet-5's
    400→120 layer at batch 64: 3·10⁶), else nothing changed."""
    return one_thread_each() if _active and multiply_adds < SMALL_PRODUCT else _NOTHING


def parallel_map(fn, items):
    """[fn(item) for item in items], in order. With the settings on, the items are spread over
    as many Python threads as the BLAS has threads, each calling a one-thread BLAS (serial when
    there is one thread or one item); with them off, a plain loop on the BLAS as configured."""
    global _pool
    if not _active:
        return [fn(item) for item in items]
    with one_thread_each() as threads:
        if threads == 1 or len(items) < 2:
            return [fn(item) for item in items]
        if _pool is None or _pool[0] != (threads, os.getpid()):
            _pool = ((threads, os.getpid()), ThreadPoolExecutor(threads, thread_name_prefix="chainrule"))
        return list(_pool[1].map(fn, items))
