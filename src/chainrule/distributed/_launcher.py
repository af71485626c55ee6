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


def launch(n: int, argv) -> int:
    """Run ``python argv[0] argv[1:]...`` on ``n`` ranks under mpiexec; returns its exit
    status (0 when every rank succeeded).

    Example::

        >>> from chainrule.distributed import launch
        >>> launch(2, ["train.py", "--epochs", "3"])
        0
    """
    return subprocess.call(mpiexec_command(n, argv))
