"""A run folder is data: `evaluate` and `predict` never import the model factory its
config.json names unless the user passes --trust-model-code, and never import from the current
directory implicitly. The payload module, written here, leaves a marker file when imported."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule.cli import main

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
PAYLOAD = """
import os
with open({marker!r}, "w") as f:          # the side effect a hostile module would have
    f.write("imported")
import chainrule.nn as nn

def make(input_shape, num_outputs):
    return nn.Sequential(nn.Flatten(), nn.Linear(input_shape[0], num_outputs))
"""


def cli(*args):
    return main([str(a) for a in args])


@pytest.fixture
def payload(tmp_path, monkeypatch):
    """(package folder on sys.path holding payload.py, marker path, a run folder naming
    payload:make). The run is trained with the factory (which imports it), then the marker
    and the module are cleared."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    marker = tmp_path / "IMPORTED"
    (pkg / "payload.py").write_text(PAYLOAD.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(pkg))
    run = tmp_path / "run"
    assert cli("train", "--model", "payload:make", "--dataset", "iris", "--epochs", "2",
               "--quiet", "--no-figures", "--out", run) == 0
    assert json.loads((run / "config.json").read_text())["model"] == "payload:make"
    marker.unlink()
    sys.modules.pop("payload", None)
    yield pkg, marker, run
    sys.modules.pop("payload", None)


def test_evaluate_and_predict_do_not_import_without_trust(payload, tmp_path, capsys):
    pkg, marker, run = payload
    np.save(tmp_path / "x.npy", np.ones((1, 4), np.float32))
    for argv in (("evaluate", run), ("predict", run, tmp_path / "x.npy")):
        assert cli(*argv) == 2
        err = capsys.readouterr().err
        assert "names the model 'payload:make', which is Python code" in err
        assert "--trust-model-code" in err
        assert not marker.exists() and "payload" not in sys.modules


def test_with_trust_the_factory_is_imported(payload, tmp_path, capsys):
    pkg, marker, run = payload
    assert cli("evaluate", run, "--trust-model-code") == 0
    assert marker.exists() and "accuracy" in capsys.readouterr().out
    np.save(tmp_path / "x.npy", np.ones((1, 4), np.float32))
    assert cli("predict", run, tmp_path / "x.npy", "--trust-model-code") == 0
    assert capsys.readouterr().out.startswith("sample 0: class")


def test_the_current_directory_is_never_imported_from(tmp_path):
    """`python -m chainrule` puts the current directory first on sys.path; a payload.py there
    (beside a run folder someone sent) is not imported, with or without the flag."""
    marker = tmp_path / "IMPORTED"
    (tmp_path / "payload.py").write_text(PAYLOAD.format(marker=str(marker)))
    run = tmp_path / "run"
    run.mkdir()
    cfg = {"model": "payload:make", "dataset": "iris", "task": "classification",
           "input_shape": [4], "num_outputs": 3, "classes": [0, 1, 2],
           "preprocess": {"scale": 1.0, "mean": 0.0, "std": 1.0}, "split": {"seed": 0}}
    (run / "config.json").write_text(json.dumps(cfg))
    (run / "checkpoint.npz").write_bytes(b"")
    env = dict(os.environ, PYTHONPATH=SRC)
    for flags in ([], ["--trust-model-code"]):
        out = subprocess.run([sys.executable, "-m", "chainrule", "evaluate", "run", *flags],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 2, out.stderr
        assert "Traceback" not in out.stderr
        assert not marker.exists(), flags
    assert "not from the current directory (PYTHONPATH=. adds it)" in out.stderr


def test_train_model_factories_are_checked_before_they_are_called(tmp_path, monkeypatch, capsys):
    """--model os:system names a callable that does not take the documented keywords: refused
    before the call (os.system is never run)."""
    called = []
    monkeypatch.setattr(os, "system", lambda command: called.append(command))
    assert cli("train", "--model", "os:system", "--dataset", "iris", "--out", tmp_path / "r") == 2
    assert "refusing to call it" in capsys.readouterr().err and not called
    assert not (tmp_path / "r").exists()


def test_experiment_factories_need_trust(tmp_path, capsys, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    marker = tmp_path / "IMPORTED"
    (pkg / "payload2.py").write_text(PAYLOAD.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(pkg))
    exp = tmp_path / "e.toml"
    exp.write_text('[task]\ntype = "classification"\n[data]\ndataset = "iris"\n[model]\n'
                   'name = "payload2:make"\n[training]\nepochs = 2\n')
    assert cli("run", exp, "--quiet") == 2
    assert "pass --trust-model-code" in capsys.readouterr().err and not marker.exists()
    assert cli("run", exp, "--quiet", "--trust-model-code") == 0
    assert marker.exists()
    sys.modules.pop("payload2", None)


def test_resume_does_not_import_without_trust(payload, capsys):
    pkg, marker, run = payload
    assert cli("train", "--resume", run, "--quiet", "--no-figures") == 2
    assert "pass --trust-model-code" in capsys.readouterr().err
    assert not marker.exists() and "payload" not in sys.modules
    assert cli("train", "--resume", run, "--quiet", "--no-figures", "--trust-model-code") == 0
    assert marker.exists()
