"""`chainrule export RUN_DIR --format onnx`: a trained run folder as an ONNX file whose outputs
equal the run's model on preprocessed inputs, at any batch size; misuse is one line, status 2."""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from test_cli_misuse import TRACEBACK, run_cli

from chainrule.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, args in (("lenet", ("--model", "lenet5", "--dataset", "digits", "--epochs", "1")),
                       ("perceptron", ("--model", "perceptron", "--dataset", "breast_cancer"))):
        code, _, err = run_cli(["train", *args, "--quiet", "--no-figures", "--out", root / name])
        assert code == 0, err
    return root


def _inputs(run_dir, n):
    """n preprocessed test inputs of the run, and the run's model outputs for them."""
    from chainrule.cli import factories
    from chainrule.cli.estimators import estimator_scores, flat_inputs
    from chainrule.cli.evaluate import load_run, scores_of
    config, model, pre = load_run(str(run_dir))
    data = factories.load_data(config["dataset"], None)
    X = pre(data.X[:n].astype(np.float32))
    if factories.is_estimator(model):
        return flat_inputs(X).numpy(), estimator_scores(model, flat_inputs(X), False)
    return X, scores_of(model, X, config)


def test_export_lenet_run(runs, capsys):
    run = runs / "lenet"
    assert main(["export", str(run), "--format", "onnx"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {run / 'model.onnx'} (ONNX opset 17): input 'input' "
                          "['batch', 1, 8, 8] float32")
    proto = onnx.load(str(run / "model.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert meta["chainrule.run"]["model"] == "lenet5"
    assert set(meta["chainrule.preprocess"]) == {"scale", "mean", "std"}
    session = ort.InferenceSession(str(run / "model.onnx"), providers=["CPUExecutionProvider"])
    for n in (1, 7):
        X, want = _inputs(run, n)
        got, = session.run(["output"], {"input": X})
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_export_estimator_run_to_a_chosen_file(runs, tmp_path, capsys):
    target = tmp_path / "sub" / "p.onnx"
    assert main(["export", str(runs / "perceptron"), "-o", str(target), "--opset", "18"]) == 0
    assert "output 'output' ['batch']" in capsys.readouterr().out
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    X, want = _inputs(runs / "perceptron", 20)
    got, = session.run(None, {"input": X})
    assert (got == want).all()


@pytest.mark.parametrize("argv,message", [
    (["--format", "tflite"], "argument --format: invalid choice: 'tflite'"),
    (["--opset", "5"], "--opset 5 is not valid; expected 13"),
    (["--opset", "x"], "argument --opset: invalid int value"),
    (["-o", "{tmp}"], "is a folder; give a file name"),
])
def test_export_misuse(runs, tmp_path, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run_cli(["export", runs / "lenet", *argv])
    assert code == 2 and out == "" and TRACEBACK not in err
    [line] = err.strip().splitlines()
    assert line.startswith("chainrule export: error: ") and message in line


def test_export_of_a_missing_run_folder(tmp_path):
    code, _, err = run_cli(["export", tmp_path / "nope"])
    assert code == 2 and "does not exist" in err and TRACEBACK not in err


def test_export_without_the_onnx_extra(runs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    code, _, err = run_cli(["export", runs / "lenet", "-o", tmp_path / "m.onnx"])
    assert code == 2 and TRACEBACK not in err
    assert err.strip() == ("chainrule export: error: this needs onnx (chainrule export --format "
                           "onnx) — pip install chainrule[onnx]")
    assert not (tmp_path / "m.onnx").exists()
