"""Output folders, checked before any work starts: a command that would train for minutes and
then fail to write its results must fail in the first second instead.

:func:`prepare_output_dir` makes sure a folder can hold the run: it is not a file, no part of
the path above it is a file, it is not a dangling symbolic link, it is created (with its
parents) if missing, a probe file can be written into it, and it does not already hold a run
unless the user said ``--overwrite`` (then the earlier run's files are removed, and only
those: anything else the user keeps there stays).
"""
from __future__ import annotations

import os
import shutil
import tempfile

from . import CLIError

# the files and folders a run folder of `train` or `run` consists of (see runs.py)
RUN_FILES = ("config.json", "history.json", "history.csv", "metrics.json", "results.json",
             "confusion_matrix.json", "grad_norms.json", "checkpoint.npz", "best.npz")
RUN_FOLDERS = ("figures", "tensorboard")


def is_run_folder(path: str) -> bool:
    """Whether ``path`` holds (part of) a run of `chainrule train` or `chainrule run`."""
    return any(os.path.lexists(os.path.join(path, name)) for name in ("config.json",
                                                                       "checkpoint.npz"))


def check_writable_dir(path: str, option: str) -> None:
    """Create ``path`` (and its parents) if needed and prove it takes a file, or raise
    :class:`CLIError` naming ``option`` and what is wrong."""
    if os.path.islink(path) and not os.path.exists(path):
        raise CLIError(f"{option} {path} is a symbolic link to {os.readlink(path)}, which does "
                       "not exist; remove the link or give another folder")
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"{option} {path} is a file, not a folder; give a folder path")
    parent = os.path.abspath(path)
    while parent and not os.path.exists(parent):   # the first part of the path that exists
        if os.path.islink(parent):
            raise CLIError(f"{option} {path}: {parent} is a symbolic link to a missing target")
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise CLIError(f"{option} {path}: {parent} is a file, so no folder can be made under "
                       "it; give another path")
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".chainrule-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        reason = e.strerror or str(e)
        raise CLIError(f"{option} {path} cannot be written ({reason}); give a folder you can "
                       "write to") from None


def prepare_output_dir(path: str, option: str = "--out", overwrite: bool = False) -> None:
    """Check ``path`` as an output folder (see the module docstring); with ``overwrite`` an
    earlier run's files in it are removed, without it an earlier run is an error."""
    if os.path.isdir(path) and is_run_folder(path):
        if not overwrite:
            raise CLIError(f"{option} {path} already holds a run; pass --overwrite to replace "
                           "it, or give another folder"
                           + (" (or continue it: chainrule train --resume "
                              f"{path})" if option == "--out" else ""))
    check_writable_dir(path, option)
    if overwrite:
        remove_run(path)


def remove_run(path: str) -> None:
    """Remove the files of an earlier run (:data:`RUN_FILES`, :data:`RUN_FOLDERS`) from
    ``path``, so nothing of it mixes with the new run."""
    for name in RUN_FILES:
        p = os.path.join(path, name)
        if os.path.lexists(p) and not os.path.isdir(p):
            os.unlink(p)
    for name in RUN_FOLDERS:
        p = os.path.join(path, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)


def check_output_file(path: str, option: str) -> None:
    """Check that the file ``path`` can be written: its folder exists or can be made and takes
    a file, and ``path`` itself is not a folder."""
    if os.path.isdir(path):
        raise CLIError(f"{option} {path} is a folder; give a file name")
    if os.path.islink(path) and not os.path.exists(path):
        raise CLIError(f"{option} {path} is a symbolic link to {os.readlink(path)}, which does "
                       "not exist; remove the link or give another file")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CLIError(f"{option} {path}: {folder} is a file, so no folder can be made under "
                       "it; give another path")
    check_writable_dir(folder, option)
