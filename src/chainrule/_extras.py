"""The optional extras of ``pip install chainrule[...]``, and the one-line error a feature
raises when the package it needs is missing.

Core chainrule needs NumPy only. A feature that needs more imports it through :func:`require`,
which raises :class:`MissingExtra` (an ImportError) whose text names the package and the extra
that installs it, e.g. ``this needs scikit-learn — pip install chainrule[datasets]``; the
``chainrule`` command prints that text as its one-line error. A leaf: it imports nothing of
chainrule.
"""
from __future__ import annotations

import importlib

# importable module -> (package to install, extra of chainrule that installs it)
EXTRAS = {
    "sklearn": ("scikit-learn", "datasets"),
    "matplotlib": ("matplotlib", "viz"),
    "PIL": ("Pillow", "viz"),
    "tqdm": ("tqdm", "progress"),
    "safetensors": ("safetensors", "safetensors"),
    "tensorboard": ("tensorboard", "tensorboard"),
    "threadpoolctl": ("threadpoolctl", "cpu"),
    "mpi4py": ("mpi4py", "distributed"),
    "mkdocs": ("mkdocs", "docs"),
    "nbformat": ("nbformat", "notebooks"),
    "onnx": ("onnx", "onnx"),
    "onnxruntime": ("onnxruntime", "onnx"),
}


class MissingExtra(ImportError):
    """An optional package is not installed; the message names the extra that installs it."""


def message(module: str, purpose: str | None = None) -> str:
    """``this needs PACKAGE (purpose) — pip install chainrule[EXTRA]`` for ``module``."""
    package, extra = EXTRAS[module.split(".")[0]]
    why = f" ({purpose})" if purpose else ""
    return f"this needs {package}{why} — pip install chainrule[{extra}]"


def require(module: str, purpose: str | None = None):
    """Import and return ``module``, or raise :class:`MissingExtra` naming its extra."""
    top = module.split(".")[0]
    try:
        importlib.import_module(top)      # first the package: a cached submodule is not enough
        return importlib.import_module(module)
    except ImportError as e:
        if getattr(e, "name", None) not in (None, top, module) and \
                not (getattr(e, "name", "") or "").startswith(top + "."):
            raise           # the package is there but broken: not a missing extra
        raise MissingExtra(message(module, purpose)) from None


def missing_extra(e: BaseException) -> str | None:
    """The one-line text for an ImportError of a module an extra installs, else None."""
    if isinstance(e, MissingExtra):
        return str(e)
    name = getattr(e, "name", None) if isinstance(e, ImportError) else None
    if name and name.split(".")[0] in EXTRAS:
        return message(name)
    return None
