"""Atomic file writes, the one way chainrule writes a file: a temporary file in the target's
folder, flushed and fsync'ed, given the permissions a plain ``open()`` would give, then renamed
over the target (and the folder fsync'ed) — readers see the old file or the new one, never half
of one, and a crash or an error mid-write leaves the old file as it was.

Every file the package writes goes through :func:`atomic_open` (run folders, checkpoints,
figures, graphs, downloaded data); :func:`atomic_write_bytes` and :func:`atomic_write_text` are
one-line uses of it for data already in memory.

A process killed mid-write (SIGKILL, power loss) cannot remove its temporary file. The
temporary names carry the writer's process id (``.NAME.PID.RANDOM.tmp``), so the next write
into the same folder recognises the temporary files of writers that no longer run and removes
them (:func:`remove_stale_temps`); a live writer's file is never touched.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "remove_stale_temps"]

_MODES = ("wb", "w", "wt")
# a temporary file of atomic_open: "." + target name + "." + writer's pid + "." + mkstemp's
# random part (letters, digits, "_") + ".tmp"
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)\.[a-z0-9_]+\.tmp$")


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", *, encoding: str = "utf-8", newline: str | None = None):
    """``with atomic_open(path, mode) as f: f.write(...)`` writes ``path`` atomically.

    ``mode`` is ``'wb'`` (bytes, the default) or ``'w'``/``'wt'`` (text in ``encoding``, UTF-8
    unless told, so a file reads the same on every machine; ``newline`` as for ``open()``).
    Missing folders on the way to ``path`` are created. The finished file has mode
    ``0o666 & ~umask``, as ``open()`` gives a new file (``mkstemp`` alone would leave 0o600).

    An exception inside the block removes the temporary file and leaves the previous file (if
    any) untouched; the exception propagates.
    """
    if mode not in _MODES:
        raise ValueError(f"atomic_open: mode must be one of {', '.join(map(repr, _MODES))}, got "
                         f"{mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temps(directory)
    # the temporary file sits beside the target: os.replace is atomic only within a filesystem;
    # its name carries our pid, so a later write can tell whether its writer still runs
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp",
                               prefix=f".{os.path.basename(path)}.{os.getpid()}.")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        text = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **text) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):    # os.fdopen may have failed: tmp is still there
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (on this machine); unknown counts as alive."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)             # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True                 # it exists but is someone else's, or we cannot tell
    return True


def remove_stale_temps(directory) -> list[str]:
    """Remove the temporary files that :func:`atomic_open` writers left in ``directory`` when
    they were killed mid-write (their process no longer runs); returns the paths removed.

    Called at every write into a folder, so a run folder is clean again after the next
    checkpoint. A file whose writer still runs (another process writing the same folder right
    now) is left alone; only names of the ``.NAME.PID.RANDOM.tmp`` form are considered.
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None or _alive(int(m.group("pid"))):
            continue
        with contextlib.suppress(OSError):      # another writer may clean it at the same time
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically, encoded as ``encoding``, newlines as given."""
    with atomic_open(path, "w", encoding=encoding, newline="") as f:
        f.write(text)


def _umask() -> int:
    """The process's umask, read without changing it.

    ``os.umask`` can only read the mask by setting a new one and then putting the old one back;
    the umask is process-wide, so for that instant a file created by another thread would get
    the wrong mode. Linux (since 4.7) shows the mask read-only as the ``Umask:`` line of
    /proc/self/status, so that is read first; the set-and-restore trick is the fallback
    elsewhere (macOS, BSD). It is read at every write, not cached, because a program may change
    its umask between writes.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable: fsync the folder that holds the new directory entry.

    Not every platform can open a folder for fsync (Windows cannot), and the file's contents are
    already on disk, so a failure here is not an error of the write.
    """
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
