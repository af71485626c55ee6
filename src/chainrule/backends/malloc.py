"""glibc's malloc told to keep freed memory for the next training step, and put back after.

Why: every step allocates and frees the same large arrays (activations, gradients, columns).
glibc's malloc serves a block at or above its mmap threshold with a fresh mapping and gives
free memory at the top of its heap back to the system as soon as there is more than its trim
threshold of it, so the next step page-faults every 4 KiB page back in; measured, that was a
sixth of a LeNet-5 step. ``tune`` sets the mmap threshold to 32 MiB (the ceiling glibc's own
adaptive threshold climbs to on 64-bit systems) and keeps 16 MiB of free memory at the top of
the heap (M_TOP_PAD). The peak memory of a step does not change (measured on LeNet-5 and
resnet20); only freed memory stays mapped for reuse.

``restore`` puts back glibc's documented defaults (``man mallopt``): M_MMAP_THRESHOLD and
M_TOP_PAD 128 KiB, then returns the free memory kept at the top of the heap (``malloc_trim``).
glibc has no getter for these parameters, so the values that held before ``tune`` cannot be
read back, and one thing cannot be restored at all: glibc's threshold is dynamic by default
(it rises to the size of each mmapped block freed, up to 32 MiB, and the trim threshold with
it), and setting M_MMAP_THRESHOLD or M_TOP_PAD switches that adjustment off for the rest of the
process. After a tuned block the threshold therefore stays fixed at its initial 128 KiB.

Only on Linux with glibc, and never where the user tunes malloc (any ``MALLOC_*`` variable,
or ``glibc.malloc`` in ``GLIBC_TUNABLES``): those settings are the user's to keep.
"""
from __future__ import annotations

import ctypes
import os
import platform

M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3      # mallopt's parameter numbers (malloc.h)
MMAP_THRESHOLD = 32 << 20
TOP_PAD = 16 << 20
DEFAULT_MMAP_THRESHOLD = DEFAULT_TOP_PAD = 128 << 10   # glibc's defaults (man mallopt)

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
    """Put glibc's defaults back and return the kept free memory (see the module docstring)."""
    mallopt, trim = _functions()
    mallopt(M_MMAP_THRESHOLD, DEFAULT_MMAP_THRESHOLD)
    mallopt(M_TOP_PAD, DEFAULT_TOP_PAD)
    trim(0)
