"""``python -m chainrule.distributed.run -n N script.py args...``: run a script on N ranks.

The command-line face of :func:`chainrule.distributed.launch` (see its module,
:mod:`chainrule.distributed._launcher`, for what it adds to mpiexec's command line).
"""
from __future__ import annotations

import sys

from ._launcher import launch

__all__ = ["main"]


def main(args=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(
        prog="python -m chainrule.distributed.run",
        description="Run a training script on N ranks (one process each) under MPI.")
    parser.add_argument("-n", "--nproc", "--nproc-per-node", "--nproc_per_node", type=int,
                        default=1, dest="n", help="number of ranks (processes)")
    parser.add_argument("script", help="the Python script every rank runs")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="its arguments")
    ns = parser.parse_args(args)
    try:
        return launch(ns.n, [ns.script] + ns.script_args)
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))


if __name__ == "__main__":
    sys.exit(main())
