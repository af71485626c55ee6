"""glibc's malloc told to keep freed memory for the next training step, and put back after.

Why: every step allocates and frees the same large arrays (activations, gradients, columns).
glibc's malloc serves a block at or above its mmap threshold with a fresh mapping and gives
free memory at the top of its heap back to the system as soon as there is more than its trim
threshold of it, so the next step page-faults every 4 KiB page back in; measured, that was a
sixth of a LeNet-5 step. ``tune`` sets the mmap threshold to 32 MiB (the ceiling glibc's own
adaptive threshold climbs to on 64-bit systems) and keeps 16 MiB of free memory at the top of
the heap (M_TOP_PAD). The peak memory of a step does not change (measured on LeNet-5 and
resnet20); only freed memory stays mapped for reuse.

``restore`` cannot put back what held before ``tune``: glibc has no getter for these
parameters, and its mmap threshold is adaptive by default (freeing a mmapped block raises it to
that block's size, up to 32 MiB, and the trim threshold to twice that), which setting
M_MMAP_THRESHOLD or M_TOP_PAD switches off for the rest of the process. So ``restore`` leaves
malloc where glibc's own rule leaves a process that has freed a block at that 32 MiB ceiling:
mmap threshold 32 MiB, trim threshold 64 MiB, M_TOP_PAD back to its 128 KiB default; then it
returns the free memory kept at the top of the heap (``malloc_trim``). It used to put back the
initial defaults (threshold 128 KiB), but with the adaptation off that threshold stays fixed,
and every array of 128 KiB or more was then a fresh mapping, page-faulted in at each use, for
the rest of the process: after a tuned block, 2 MB elementwise ops ran 4× slower (597 vs 145
µs, torch's too), resnet20's evaluation at 2 threads 28 instead of 43 steps/s.

Only on Linux with glibc, and never where the user tunes malloc (any ``MALLOC_*`` variable,
or ``glibc.malloc`` in ``GLIBC_TUNABLES``): those settings are the user's to keep.
"""
from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3   # mallopt's parameter numbers (malloc.h)
MMAP_THRESHOLD = 32 << 20     # also glibc's ceiling for its adaptive threshold (64-bit)
TOP_PAD = 16 << 20
DEFAULT_TOP_PAD = 128 << 10   # glibc's default (man mallopt)

_libc = None     # (mallopt, malloc_trim) of glibc, () elsewhere; looked up at the first use


def _functions():
    global _libc
    if _libc is None:
        _libc = ()
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                lib = ctypes.CDLL(None)
                mallopt, trim = lib.mallopt, lib.malloc_trim
            except (OSError, AttributeError):
                return _libc
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
            _libc = (mallopt, trim)
    return _libc


def user_tuned() -> bool:
    """Whether the environment carries the user's own malloc settings."""
    return (any(name.startswith("MALLOC_") for name in os.environ)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""))


def tune() -> bool:
    """Apply the settings above; True when they were applied (glibc, no user settings)."""
    functions = () if user_tuned() else _functions()
    if not functions:
        return False
    mallopt = functions[0]
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TOP_PAD, TOP_PAD):
        return True
    restore()            # half applied (glibc refused a value): leave nothing changed behind
    return False


def restore() -> None:
    """Leave malloc as glibc's adaptive rule leaves it at its ceiling and return the kept free
    memory (see the module docstring)."""
    mallopt, trim = _functions()
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD)
    mallopt(M_TOP_PAD, DEFAULT_TOP_PAD)
    trim(0)
