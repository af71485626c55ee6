"""What a user's ``pip install chainrule`` gets: the wheel works with NumPy alone, a feature
whose extra is missing says in one line which extra to install, the example experiment files
ship inside the wheel, and no module of the library imports torch (torch is a test oracle only).

The wheel test builds the wheel from this checkout and installs it with ``--no-deps`` plus
NumPy into a fresh virtual environment (from the package index pip is configured with, or the
wheel of NumPy already installed here when the index has none), then runs the ``chainrule``
command there.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "chainrule"


def _imports_torch(path: Path) -> list[int]:
    """The lines of ``path`` that import torch (``import torch...``, ``from torch... import``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
                a.name == "torch" or a.name.startswith("torch.") for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "torch" or node.module.startswith("torch.")):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", None)) in ("import_module", "__import__") and node.args \
                and isinstance(node.args[0], ast.Constant) \
                and str(node.args[0].value).split(".")[0] == "torch":
            lines.append(node.lineno)
    return lines


# The one place the library touches torch: a conversion *to* torch tensors, which imports it
# when called (the caller asked for torch objects); never at import time.
ALLOWED = {"src/chainrule/utils/interop.py": "to_torch(obj) returns torch tensors"}


def test_no_module_of_the_library_imports_torch():
    found = {str(p.relative_to(ROOT)): ln for p in sorted(SRC.rglob("*.py"))
             if (ln := _imports_torch(p))}
    unexpected = {p: ln for p, ln in found.items() if p not in ALLOWED}
    assert not unexpected, f"torch is a test dependency only; imported by {unexpected}"
    # the allowed one imports it inside the function only
    for p in ALLOWED:
        tree = ast.parse((ROOT / p).read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not any(n.lineno in found.get(p, []) for n in top), p


def test_importing_every_module_of_the_library_loads_no_torch():
    code = ("import importlib, pkgutil, sys, chainrule\n"
            "for m in pkgutil.walk_packages(chainrule.__path__, 'chainrule.'):\n"
            "    if '.distributed' in m.name or m.name.endswith('__main__'):\n"
            "        continue    # needs mpi4py (an extra); its modules are scanned above\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(k for k in sys.modules if k == 'torch' or k.startswith('torch.')))")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_the_torch_scan_finds_the_forms_it_looks_for(tmp_path):
    f = tmp_path / "m.py"
    for code in ("import torch", "import torch.nn as nn", "from torch import nn",
                 "from torch.utils import data", "def f():\n    import torch\n",
                 "import importlib\nimportlib.import_module('torch.func')"):
        f.write_text(code)
        assert _imports_torch(f), code
    for code in ("import torchvision_like", "from .torch import x", "x = 'import torch'",
                 "from torchinfo import summary"):
        f.write_text(code)
        assert not _imports_torch(f), code


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # built from a copy, so the build's egg-info and build/ stay out of the checkout
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(out), str(tree)], capture_output=True, text=True,
                       timeout=300, cwd=out, env=_clean_env())
    assert r.returncode == 0, r.stderr[-2000:]
    [whl] = out.glob("chainrule-*.whl")
    return whl


def test_the_wheel_ships_the_example_experiment_files(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("chainrule/examples/")
               and n.endswith(".toml")}
    on_disk = {p.name for p in (SRC / "examples").glob("*.toml")}
    assert shipped == on_disk and {"iris_mlp.toml", "diabetes_rbf.toml"} <= shipped
    assert not any("tests/" in n or n.startswith("torch") for n in names)


@pytest.fixture(scope="module")
def bare_venv(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel and NumPy only."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    py = venv / "bin" / "python"
    # pip of this interpreter installs into the new environment (--python): no pip bootstrap
    # (ensurepip) and no network beyond the configured index; NumPy is found there, else the
    # wheel cache holds it.
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                        "--no-deps", str(wheel), "numpy"], capture_output=True, text=True,
                       timeout=300, env=_clean_env())
    assert r.returncode == 0, r.stderr[-2000:]
    return venv


def _clean_env():
    """The environment without PYTHONPATH: the checkout's src/ must not stand in for the
    installed package (pip would take it as installed already)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _run(venv, *args, cwd):
    exe = venv / "bin" / "chainrule"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=_clean_env())


def test_in_a_bare_install_train_names_the_missing_extra_in_one_line(bare_venv, tmp_path):
    r = _run(bare_venv, "train", "--epochs", "1", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert lines == ["chainrule train: error: this needs scikit-learn (chainrule.datasets.load_* "
                     "read the copies it ships) — pip install chainrule[datasets]"], r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_in_a_bare_install_demos_name_the_viz_extra(bare_venv, tmp_path):
    r = _run(bare_venv, "demo", "convolution", "--fast", "--out", str(tmp_path / "f"),
             cwd=tmp_path)
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("chainrule demo: error: ") and "matplotlib" in line
    assert "pip install" in line and "chainrule[viz]" in line


def test_in_a_bare_install_the_examples_are_there_by_name(bare_venv, tmp_path):
    r = _run(bare_venv, "examples", cwd=tmp_path)
    assert r.returncode == 0 and "iris_mlp" in r.stdout and "diabetes_rbf" in r.stdout
    r = _run(bare_venv, "run", "iris_mlp", "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("iris_mlp.toml: valid")
    assert "site-packages" in r.stdout            # the copy inside the installed package
    r = _run(bare_venv, "run", "iris_mlp", "--epochs", "1", cwd=tmp_path)
    assert r.returncode == 2 and "pip install chainrule[datasets]" in r.stderr


def test_examples_command_lists_prints_and_run_finds_them_by_name(capsys):
    from chainrule.cli import main
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("diabetes_rbf  Regression with learnable radial basis")
    assert "iris_mlp      The seed's machine-learning flow" in out
    assert main(["examples", "iris_mlp"]) == 0
    assert capsys.readouterr().out == (SRC / "examples" / "iris_mlp.toml").read_text("utf-8")
    assert main(["examples", "iris"]) == 2
    assert capsys.readouterr().err.strip() == ("chainrule examples: error: no example named "
                                               "'iris'; the examples are: diabetes_rbf, iris_mlp")
    assert main(["run", "iris_mlp.toml", "--check"]) == 0
    assert capsys.readouterr().out.strip() == f"{SRC / 'examples' / 'iris_mlp.toml'}: valid"
    assert main(["run", "iris_mpl", "--check"]) == 2
    assert capsys.readouterr().err.strip() == (
        "chainrule run: error: iris_mpl: no such file, nor a shipped example (diabetes_rbf, "
        "iris_mlp); did you mean 'iris_mlp'?")


def test_a_missing_extra_is_named_by_the_command_whatever_raised_it(monkeypatch, capsys):
    from chainrule import _extras
    from chainrule.cli import _error_kind
    assert _error_kind(ModuleNotFoundError("No module named 'tqdm'", name="tqdm")) == \
        "this needs tqdm — pip install chainrule[progress]"
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(_extras.MissingExtra, match=r"^this needs scikit-learn \(x\) — "
                       r"pip install chainrule\[datasets\]$"):
        _extras.require("sklearn.datasets", "x")
    assert _error_kind(ModuleNotFoundError("No module named 'foo'", name="foo")) is None
