"""Atomic file writes: a temporary file in the target's folder, flushed and fsync'ed, then
renamed over the target — readers see the old file or the new one, never half of one."""
from __future__ import annotations

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb"):
    """``with atomic_open(path) as f: f.write(...)``; an exception inside the block leaves the
    previous file (if any) untouched and removes the temporary one."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
