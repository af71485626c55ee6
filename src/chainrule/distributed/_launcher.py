"""Launching a script on N ranks (``python -m chainrule.distributed.run -n N script.py``).

It runs the ``mpiexec`` of the installed Open MPI wheel (``pip install chainrule[distributed]``)
as ``mpiexec -n N python script.py args...``, adding ``--allow-run-as-root`` when run as root
and ``--oversubscribe`` when N exceeds the CPU count. Each rank is a separate Python process
running the whole script, so:

- seed per purpose: the same seed on every rank for what must agree (model initialisation,
  ``DistributedSampler(seed=...)``), ``seed + rank`` for what must differ (dropout, augmentation);
- only rank 0 should print or write files (``if dist.get_rank() == 0: print(...)``).

The exit status is mpiexec's: 0 when every rank exited with 0.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig

__all__ = ["launch", "find_mpiexec", "mpiexec_command"]


def find_mpiexec() -> str:
    """The path of ``mpiexec``: the Open MPI wheel's (next to ``sys.executable``, or in the
    interpreter's scripts directory), else one on ``PATH``.

    Raises:
        FileNotFoundError: no mpiexec (``pip install chainrule[distributed]``).
    """
    for folder in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        path = os.path.join(folder, "mpiexec")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which("mpiexec")
    if found:
        return found
    raise FileNotFoundError("chainrule.distributed.run: mpiexec not found; install Open MPI: "
                            "pip install chainrule[distributed]")


def mpiexec_command(n: int, argv, mpiexec: str | None = None) -> list:
    """The command line that runs ``python argv...`` on ``n`` ranks."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"launch: n must be a positive number of ranks, got {n!r}")
    argv = list(argv)
    if not argv:
        raise ValueError("launch: give the script to run (and its arguments)")
    cmd = [mpiexec or find_mpiexec()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    if n > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    return cmd + ["-n", str(n), sys.executable] + argv


_RULE = "-" * 74      # the frame of Open MPI's multi-line notices
_NOTICES = (
    # a rank killed by a signal
    (re.compile(r"noticed that process rank (\d+) with PID (\d+) on node (\S+) exited on\s+"
                r"signal (\d+) \(([^)]*)\)"),
     "rank {0} (pid {1}) was killed by signal {3} ({4})"),
    # a rank exited with a non-zero status: Open MPI then ends the others
    (re.compile(r"exited with non-zero status.*Process name:\s*\[[^,\]]*,(\d+)\]\s*"
                r"Exit code:\s*(\d+)", re.S),
     "rank {0} exited with status {1}; the other ranks were stopped"),
    # a rank exited without MPI_Finalize (e.g. before init_process_group)
    (re.compile(r"process rank (\d+) with PID (\d+) on node (\S+) (?:exiting|calling)"),
     "rank {0} (pid {1}) exited without finishing MPI; the other ranks were stopped"),
)


def _summarise(block: str) -> str | None:
    """One line for a multi-line notice of Open MPI's launcher that it recognises."""
    for pattern, text in _NOTICES:
        m = pattern.search(block)
        if m:
            return f"chainrule.distributed.run: {text.format(*m.groups())}"
    return None


def _forward_stderr(stream, out):
    """Copy mpiexec's stderr to ``out`` line by line, condensing the launcher's framed notices
    (a dozen lines about prterun) into one line each; other text passes unchanged."""
    block = None
    for line in stream:
        if block is None:
            if line.rstrip("\n") == _RULE:
                block = [line]
            else:
                out.write(line)
                out.flush()
            continue
        block.append(line)
        if line.rstrip("\n") == _RULE:
            summary = _summarise("".join(block))
            out.write(summary + "\n" if summary else "".join(block))
            out.flush()
            block = None
    if block:
        out.write("".join(block))
        out.flush()


def launch(n: int, argv) -> int:
    """Run ``python argv[0] argv[1:]...`` on ``n`` ranks under mpiexec; returns its exit
    status (0 when every rank succeeded).

    Open MPI's own multi-line notices on stderr (a rank killed, a rank that exited with an
    error) are condensed to one line each, e.g.
    ``chainrule.distributed.run: rank 1 (pid 4242) was killed by signal 9 (Killed)``.

    Example::

        >>> from chainrule.distributed import launch
        >>> launch(2, ["train.py", "--epochs", "3"])
        0
    """
    proc = subprocess.Popen(mpiexec_command(n, argv), stderr=subprocess.PIPE, text=True,
                            errors="replace")
    try:
        _forward_stderr(proc.stderr, sys.stderr)
    finally:
        proc.stderr.close()
        code = proc.wait()
    return code
