"""Small runnable examples: ``python -m chainrule.examples.xor`` (bare tensors, ``backward()``
and a hand-written SGD step), and the experiment files of ``chainrule run`` (``*.toml`` in this
folder, shipped inside the package): ``chainrule run iris_mlp`` runs one by name,
``chainrule examples`` lists them and ``chainrule examples NAME`` prints one to copy."""
from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def experiments() -> list[str]:
    """The names of the experiment files shipped with chainrule (``iris_mlp`` ...), sorted."""
    return sorted(f[:-5] for f in os.listdir(HERE) if f.endswith(".toml"))


def experiment_path(name: str) -> str | None:
    """The path of the shipped experiment file ``name`` (with or without ``.toml``), or None."""
    base = name[:-5] if name.endswith(".toml") else name
    if base not in experiments():
        return None
    return os.path.join(HERE, base + ".toml")


def describe(name: str) -> str:
    """The first comment line of an experiment file: what it runs."""
    with open(experiment_path(name), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                text = line.lstrip("# ").strip()
                return text.split(": `chainrule run")[0].rstrip(":")
    return ""
