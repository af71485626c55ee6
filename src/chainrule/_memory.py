"""Let a training loop reuse the memory it freed in the previous step (glibc's malloc only).

Why: every step allocates and frees the same large arrays (activations, gradients, columns).
glibc's malloc hands arrays above its mmap threshold a fresh mapping each time and returns the
top of its heap to the system as soon as it is free, so the next step page-faults every 4 KiB
page back in; measured, that was a sixth of a LeNet-5 step. chainrule therefore sets, once at
import, the mmap threshold to 32 MiB (the ceiling glibc's own adaptive threshold climbs to)
and keeps 16 MiB of free memory at the top of the heap. The peak memory of a step does not
change (measured on LeNet-5 and resnet20); only freed memory stays mapped for reuse.

Set ``CHAINRULE_MALLOC_TUNING=0``, or any glibc ``MALLOC_*`` variable, to leave malloc alone.
"""
from __future__ import annotations

import ctypes
import os
import platform

M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3      # mallopt's parameter numbers (malloc.h)
MMAP_THRESHOLD = 32 << 20
TOP_PAD = 16 << 20


def tune_malloc() -> bool:
    """Apply the settings above; True when they were applied."""
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0":
        return False
    if any(name.startswith("MALLOC_") for name in os.environ):   # the user tunes malloc
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TOP_PAD, TOP_PAD))


TUNED = tune_malloc()
