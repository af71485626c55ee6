"""The one door to mpi4py: imported on first use, never by ``import chainrule``."""
from __future__ import annotations

_INSTALL_HINT = ("chainrule.distributed needs mpi4py and Open MPI: "
                 "pip install chainrule[distributed]")


def available() -> bool:
    """Whether mpi4py can be imported (found on the path; nothing is imported or initialised)."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def mpi4py_module():
    """The ``mpi4py`` package, configured so that importing ``mpi4py.MPI`` does not yet call
    ``MPI_Init`` (init_process_group calls it under a watchdog, since it blocks until every
    rank has started MPI)."""
    try:
        import mpi4py
    except ImportError:
        raise ImportError(_INSTALL_HINT) from None
    import sys
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.initialize = False
        mpi4py.rc.finalize = False     # finalised (or skipped when a peer is lost) by atexit
    return mpi4py


def MPI():
    """``mpi4py.MPI`` (the module), with the install hint when it is missing."""
    mpi4py_module()
    try:
        from mpi4py import MPI as mod
    except ImportError as e:      # mpi4py present but its MPI library is not
        raise ImportError(f"{_INSTALL_HINT} ({e})") from None
    return mod
