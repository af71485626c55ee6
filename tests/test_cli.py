"""The `chainrule` command: help everywhere, train → evaluate → predict, `run` on the example
experiments, the documented validation errors, `graph`, `demo`."""
import json
import os
import shutil
from xml.etree import ElementTree
import subprocess
import sys

import numpy as np
import pytest

from chainrule.cli import SUBCOMMANDS, main, schema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "src", "chainrule", "examples")   # shipped in the wheel


def cli(*args):
    return main([str(a) for a in args])


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        cli(command, "--help")
    assert e.value.code == 0
    assert "usage: chainrule " + command in capsys.readouterr().out


def test_python_dash_m_and_top_level_help():
    out = subprocess.run([sys.executable, "-m", "chainrule", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0
    for command in SUBCOMMANDS:
        assert command in out.stdout


# ---------------------------------------------------------------------------- train round trip
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run") / "lenet"
    assert cli("train", "--epochs", "5", "--out", d, "--quiet") == 0
    return d


def test_train_writes_the_run_folder(run_dir):
    for name in ("config.json", "history.json", "history.csv", "metrics.json", "checkpoint.npz",
                 "figures/loss.png", "figures/accuracy.png", "figures/confusion_matrix.png",
                 "figures/grad_norms.png"):
        assert (run_dir / name).exists(), name
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["model"] == "lenet5" and cfg["dataset"] == "digits"
    assert cfg["optimizer"] == "adam" and cfg["lr"] == 1e-3 and cfg["epochs"] == 5
    assert cfg["input_shape"] == [1, 8, 8] and cfg["num_outputs"] == 10
    hist = json.loads((run_dir / "history.json").read_text())
    assert hist["epoch"] == [1, 2, 3, 4, 5] and len(hist["val_accuracy"]) == 5
    assert hist["loss"][-1] < hist["loss"][0]
    rows = (run_dir / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 6 and "val_loss" in rows[0]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.8                        # 5 of the default 40 epochs
    cm = np.array(json.loads((run_dir / "confusion_matrix.json").read_text()))
    assert cm.shape == (10, 10) and cm.sum() == 360         # 20% of 1797, stratified
    assert np.trace(cm) / cm.sum() == pytest.approx(metrics["accuracy"])
    try:        # the `tensorboard` extra: event files that TensorBoard reads back
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        assert not (run_dir / "tensorboard").exists()
    else:
        ea = EventAccumulator(str(run_dir / "tensorboard"))
        ea.Reload()
        assert [e.value for e in ea.Scalars("loss")] == pytest.approx(hist["loss"])
        assert ea.Scalars("test/accuracy")[0].value == pytest.approx(metrics["accuracy"])


def test_evaluate_reproduces_the_test_metrics(run_dir, capsys):
    from chainrule.cli.evaluate import evaluate
    metrics = json.loads((run_dir / "metrics.json").read_text())
    again = evaluate(str(run_dir))
    assert again["accuracy"] == pytest.approx(metrics["accuracy"])
    assert again["log_loss"] == pytest.approx(metrics["log_loss"], rel=1e-5)
    assert cli("evaluate", run_dir) == 0
    assert "accuracy" in capsys.readouterr().out
    assert cli("evaluate", run_dir, "--dataset", "iris") == 2
    assert "dataset 'iris' has inputs of shape (4,)" in capsys.readouterr().err


def test_predict_npy_and_image(run_dir, tmp_path, capsys):
    from sklearn.datasets import load_digits
    from chainrule.cli.predict import predict
    d = load_digits()
    X, y = d.data.astype(np.float32), d.target
    np.save(tmp_path / "batch.npy", X[:50])
    pred, probs, classes = predict(str(run_dir), str(tmp_path / "batch.npy"))
    assert probs.shape == (50, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert np.mean(pred == y[:50]) > 0.8
    np.save(tmp_path / "one.npy", X[7].reshape(8, 8))       # one image, no channel axis
    assert cli("predict", run_dir, tmp_path / "one.npy") == 0
    assert "sample 0: class" in capsys.readouterr().out
    from PIL import Image                                   # an image file: dark ink on white
    img = (255 - X[0].reshape(8, 8) * 255 / 16).astype(np.uint8)
    Image.fromarray(img).resize((64, 64), Image.NEAREST).save(tmp_path / "digit.png")
    pred, probs, _ = predict(str(run_dir), str(tmp_path / "digit.png"))
    assert pred.shape == (1,) and probs.shape == (1, 10)
    assert pred[0] == y[0]
    np.save(tmp_path / "wrong.npy", np.zeros((3, 5), np.float32))
    assert cli("predict", run_dir, tmp_path / "wrong.npy") == 2
    assert "the model takes one sample of shape (1, 8, 8)" in capsys.readouterr().err


def test_evaluate_and_predict_refuse_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert cli("evaluate", tmp_path) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_train_options_mlp_full_batch_and_errors(tmp_path, capsys):
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--optimizer", "momentum",
               "--batch-size", "full", "--epochs", "5", "--schedule", "cosine",
               "--out", tmp_path / "r", "--quiet", "--no-figures") == 0
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["lr"] == 0.05 and cfg["batch_size"] == "full" and cfg["task"] == "classification"
    lrs = json.loads((tmp_path / "r" / "history.json").read_text())["lr"]
    assert lrs[0] == pytest.approx(0.05) and all(a > b for a, b in zip(lrs, lrs[1:]))
    assert not (tmp_path / "r" / "figures").exists()
    assert cli("train", "--batch-size", "zero", "--out", tmp_path / "x") == 2
    assert "argument --batch-size: 'zero' is not valid; expected \"full\" or an integer ≥ 1" \
        in capsys.readouterr().err
    assert cli("train", "--model", "lenet5", "--dataset", "iris", "--out", tmp_path / "y") == 2
    assert "needs images" in capsys.readouterr().err
    assert cli("train", "--dataset", "mnist", "--out", tmp_path / "z") == 2
    assert "--data-dir" in capsys.readouterr().err


@pytest.mark.parametrize("dataset,prefix", [("iris", ""), ("digits", "1.")])
def test_run_folders_saved_with_numbered_mlp_keys_still_load(dataset, prefix, tmp_path, capsys):
    """Run folders written when MLP was an unnamed Sequential hold "0.weight", "2.weight", ...
    (under "1." behind the Flatten of image data sets); evaluate reads them as before."""
    from chainrule.cli.evaluate import evaluate
    from chainrule.train.checkpoint import load_checkpoint, save_checkpoint
    run = tmp_path / dataset
    assert cli("train", "--model", "mlp", "--dataset", dataset, "--epochs", "2", "--out", run,
               "--quiet", "--no-figures") == 0
    state = load_checkpoint(run / "checkpoint.npz")
    keys = list(state["model"])
    assert keys[:2] == [prefix + "fc1.weight", prefix + "fc1.bias"]
    grad_norm_layers = [k for k in json.loads((run / "grad_norms.json").read_text()) if k != "step"]
    assert grad_norm_layers[0] == prefix + "fc1 (Linear)"

    def numbered(key):                              # fcK -> child 2(K-1) of the Sequential
        layer, rest = key[len(prefix):].split(".", 1)
        return prefix + str(2 * (int(layer[2:]) - 1)) + "." + rest
    state["model"] = {numbered(k): v for k, v in state["model"].items()}
    assert list(state["model"])[:3] == [prefix + "0.weight", prefix + "0.bias", prefix + "2.weight"]
    save_checkpoint(state, run / "checkpoint.npz")
    metrics = json.loads((run / "metrics.json").read_text())
    assert evaluate(str(run))["accuracy"] == pytest.approx(metrics["accuracy"])
    assert cli("evaluate", run) == 0 and "accuracy" in capsys.readouterr().out


# ---------------------------------------------------------------------------- run EXPERIMENT.toml
@pytest.mark.parametrize("name", ["iris_mlp.toml", "diabetes_rbf.toml"])
def test_run_example_experiments(name, tmp_path, capsys):
    path = os.path.join(EXAMPLES, name)
    assert cli("run", path, "--out", tmp_path, "--quiet") == 0
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "results.json").read_text())
    if name.startswith("iris"):
        assert len(results["folds"]) == 5 and "5-fold CV" in out
        assert results["test"]["accuracy"] > 0.85
        assert results["cv_mean"]["accuracy"] > 0.85
        assert set(results["test"]) == {"accuracy", "f1_macro", "log_loss"}
    else:
        assert results["n_val"] > 0
        assert results["test"]["r2"] > 0.25     # measured 0.34 (a linear fit of the raw features: ~0.45)
        assert set(results["test"]) == {"mse", "mae", "r2"}


def _write(tmp_path, text):
    p = tmp_path / "exp.toml"
    p.write_text(text)
    return str(p)


GOOD = '[task]\ntype = "classification"\n[data]\ndataset = "iris"\n'


@pytest.mark.parametrize("text, message", [
    (GOOD + "[training]\noptimizer = \"adamm\"\n",
     "[training] optimizer = 'adamm' is not allowed; allowed: sgd, momentum, nesterov, adagrad, "
     "rmsprop, adam, adamw"),
    (GOOD.replace("dataset", "datset"),
     "unknown key [data] datset; allowed keys: dataset, data_dir, scaling"),
    (GOOD + "[trainig]\n", "unknown section [trainig]; allowed sections: [task], [data]"),
    ('[data]\ndataset = "iris"\n', "missing section [task]; it needs: type"),
    ('[task]\n[data]\ndataset = "iris"\n',
     "[task] type is required; allowed: classification, regression"),
    (GOOD + "[training]\nepochs = 0\n", "[training] epochs = 0 is not valid; expected an integer ≥ 1"),
    (GOOD + "[training]\nlr = \"fast\"\n", "[training] lr = 'fast' is not valid; expected a number > 0"),
    (GOOD + "[training]\nbatch_size = \"half\"\n",
     "[training] batch_size = 'half' is not valid; expected \"full\" or an integer ≥ 1"),
    (GOOD + "[selection]\ntest_size = 1.5\n",
     "[selection] test_size = 1.5 is not valid; expected a number in (0, 1)"),
    (GOOD + "[metrics]\nnames = [\"r2\"]\n",
     "[metrics] names contains 'r2', which is not allowed for classification; allowed: accuracy"),
    (GOOD.replace("classification", "regression"),
     "[data] dataset = 'iris' is not allowed for [task] type = 'regression'; allowed: diabetes"),
    (GOOD + "[model]\nname = \"lenet\"\n",
     "[model] name = 'lenet' is not valid; expected one of: mlp, linear, glm, perceptron, lenet5"),
    (GOOD + "[model]\nname = \"perceptron\"\n",
     "[model] name = 'perceptron' is a binary classifier; allowed [data] dataset: breast_cancer"),
    ("[task\n", "not valid TOML"),
])
def test_bad_experiment_files_give_the_documented_errors(tmp_path, capsys, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(schema.ExperimentError) as e:
        schema.load(path)
    assert str(e.value).startswith(path + ": ")
    assert message in str(e.value)
    assert cli("run", path) == 2                       # the command: no traceback, exit 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule run: error: " + path) and message in err


def test_missing_experiment_file(tmp_path, capsys):
    assert cli("run", tmp_path / "none.toml") == 2
    assert "none.toml: no such file" in capsys.readouterr().err


def test_defaults_are_filled_in(tmp_path):
    cfg = schema.load(_write(tmp_path, GOOD))
    assert cfg["training"] == {"optimizer": "adam", "lr": None, "batch_size": 32, "epochs": 50,
                               "weight_decay": 0.0}
    assert cfg["selection"]["stratify"] is True
    assert cfg["metrics"]["names"] == ["accuracy", "f1"]


# ---------------------------------------------------------------------------- graph, demo
@pytest.mark.parametrize("has_dot", [False, True])
def test_graph_draws_svg_with_or_without_graphviz(tmp_path, capsys, monkeypatch, has_dot):
    if has_dot and shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed on this machine")
    if not has_dot:
        monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "g.svg"
    assert cli("graph", "--model", "mlp", "-o", out) == 0
    svg = out.read_text()
    ElementTree.fromstring(svg)                      # a valid SVG document
    assert "fc1.weight" in svg and "matmul" in svg and "gather" in svg   # names, primitives, loss
    printed = capsys.readouterr().out
    assert ("Graphviz" if has_dot else "matplotlib") in printed
    assert cli("graph", "--detail", "layers", "-o", tmp_path / "g.dot") == 0
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith('digraph "graph" {')          # quoted: `digraph graph` is invalid DOT
    assert "AddmmBackward0" in dot and "TBackward0" in dot and "ReluBackward0" in dot
    assert cli("graph", "-o", tmp_path / "g.txt") == 2


def test_demo_list_and_unknown(capsys):
    assert cli("demo", "--list") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 16 and "residual" in out
    assert cli("demo", "nope") == 2
    assert "unknown demo 'nope'" in capsys.readouterr().err


def test_demo_writes_figure_and_json(tmp_path, capsys):
    assert cli("demo", "cross-entropy-stability", "--fast", "--out", tmp_path) == 0
    result = json.loads((tmp_path / "cross-entropy-stability.json").read_text())
    assert result["stable_all_finite"]
    assert (tmp_path / "cross-entropy-stability.png").exists()


@pytest.mark.parametrize("model, dataset", [("glm", "diabetes"), ("perceptron", "breast_cancer"),
                                            ("mlp", "diabetes")])
def test_train_estimators_and_regression_round_trip(model, dataset, tmp_path, capsys):
    from chainrule.cli.evaluate import evaluate
    run = tmp_path / "r"
    assert cli("train", "--model", model, "--dataset", dataset, "--epochs", "30", "--out", run,
               "--quiet", "--no-figures") == 0
    metrics = json.loads((run / "metrics.json").read_text())
    again = evaluate(str(run))
    if dataset == "diabetes":       # R² on the target's own scale, before and after reloading
        assert metrics["r2"] > 0.15 and again["r2"] == pytest.approx(metrics["r2"], rel=1e-5)
        from sklearn.datasets import load_diabetes
        np.save(tmp_path / "x.npy", load_diabetes().data[:2].astype(np.float32))
        capsys.readouterr()
        assert cli("predict", run, tmp_path / "x.npy") == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2 and all(25 < float(ln.split()[-1]) < 346 for ln in lines)
    else:
        assert metrics["accuracy"] > 0.9 and again["accuracy"] == metrics["accuracy"]


def _write_idx(path, array, magic):
    import gzip
    import struct
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_train_lenet5_on_mnist_files_and_a_factory_model(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 200), ("t10k", 16)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz",
                   rng.integers(0, 256, (n, 28, 28)), 2051)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), 2049)
    run = tmp_path / "mnist-run"
    assert cli("train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", tmp_path,
               "--epochs", "1", "--out", run, "--quiet", "--no-figures") == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["input_shape"] == [1, 28, 28] and cfg["preprocess"]["scale"] == 255.0
    assert json.loads((run / "confusion_matrix.json").read_text()) and \
        np.sum(json.loads((run / "confusion_matrix.json").read_text())) == 16  # MNIST's own test set
    # --model pkg.module:factory
    (tmp_path / "mymodels.py").write_text(
        "import chainrule.nn as nn\n"
        "def tiny(input_shape, num_outputs):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(input_shape[0], num_outputs))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    run2 = tmp_path / "factory-run"
    assert cli("train", "--model", "mymodels:tiny", "--dataset", "iris", "--epochs", "3",
               "--out", run2, "--quiet", "--no-figures") == 0
    from chainrule.cli.evaluate import evaluate
    assert evaluate(str(run2), trust_model_code=True)["accuracy"] == json.loads(
        (run2 / "metrics.json").read_text())["accuracy"]
    assert cli("train", "--model", "mymodels:nope", "--dataset", "iris", "--out", run2) == 2
    assert "cannot load factory 'mymodels:nope'" in capsys.readouterr().err


def test_representation_one_hot_and_scaling_fit_on_training_rows():
    from chainrule.cli.experiment import Representation
    X = np.array([[0, 1.0], [1, 3.0], [2, 5.0], [1, 7.0]], np.float32)
    rep = Representation({"one_hot": [0], "scaling": "standard", "basis": "none"}, image=False,
                         scale=1.0).fit(X[:3])
    Z = rep(X)
    assert Z.shape == (4, 4)                         # column 1 kept, column 0 → 3 categories
    np.testing.assert_allclose(Z[:3, 0].mean(), 0, atol=1e-6)   # standardized on rows 0-2 only
    np.testing.assert_allclose(Z[3, 0], (7 - 3) / np.std([1, 3, 5]), rtol=1e-5)
    unseen = rep(np.array([[9, 1.0]], np.float32))   # a category never seen → all zeros
    assert np.allclose(unseen[0, 1:] * rep.scaler.scale_[1:] + rep.scaler.mean_[1:], 0)


def test_run_with_basis_one_hot_and_validation(tmp_path, capsys):
    path = _write(tmp_path,
                  '[task]\ntype = "classification"\n[data]\ndataset = "iris"\none_hot = [3]\n'
                  'basis = "polynomial"\nbasis_degree = 2\n[selection]\nval_size = 0.2\n'
                  '[metrics]\nnames = ["accuracy", "precision", "recall", "roc_auc"]\n'
                  'average = "weighted"\n[training]\nepochs = 40\nlr = 0.01\n')
    assert cli("run", path, "--out", tmp_path / "o", "--quiet") == 0
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert res["n_val"] == 30 and res["n_test"] == 30
    assert set(res["test"]) == {"accuracy", "precision_weighted", "recall_weighted", "roc_auc"}
    assert res["test"]["accuracy"] > 0.8 and res["test"]["roc_auc"] > 0.9


# ---------------------------------------------------------------------------- every train option
def _spy_optimizer(monkeypatch):
    """Record the optimizer `chainrule train` builds and count its steps."""
    from chainrule.cli import factories
    made, real = [], factories.make_optimizer

    def spy(*a, **k):
        opt = real(*a, **k)
        step = opt.step
        opt.steps = 0

        def counted(*a, **k):
            opt.steps += 1
            return step(*a, **k)
        opt.step = counted
        made.append(opt)
        return opt
    monkeypatch.setattr(factories, "make_optimizer", spy)
    return made


@pytest.mark.parametrize("name, cls, options", [
    ("sgd", "SGD", {"momentum": 0, "nesterov": False}),
    ("momentum", "SGD", {"momentum": 0.9, "nesterov": False}),
    ("nesterov", "SGD", {"momentum": 0.9, "nesterov": True}),
    ("adagrad", "Adagrad", {}), ("rmsprop", "RMSprop", {}), ("adam", "Adam", {}),
    ("adamw", "AdamW", {}),
])
def test_train_every_optimizer(name, cls, options, tmp_path, monkeypatch):
    made = _spy_optimizer(monkeypatch)
    run = tmp_path / name
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--optimizer", name, "--epochs", "4",
               "--out", run, "--quiet", "--no-figures") == 0
    (opt,) = made
    assert type(opt).__name__ == cls
    for key, value in options.items():
        assert opt.param_groups[0][key] == value, key
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["optimizer"] == name and cfg["lr"] == opt.param_groups[0]["lr"]
    loss = json.loads((run / "history.json").read_text())["loss"]
    assert loss[-1] < loss[0]                               # it trained


def test_train_batch_sizes_lr_and_seed(tmp_path, monkeypatch):
    """--batch-size full / 1 / N give 1, n and ⌈n/N⌉ steps per epoch; --lr is used and recorded;
    the same --seed repeats a run exactly, another seed does not."""
    from chainrule.cli import factories
    from chainrule.cli.train import split_data
    n = len(split_data(factories.load_data("iris"), 0)[0])    # training rows of the split
    made = _spy_optimizer(monkeypatch)
    for bs, steps in (("full", 1), ("1", n), ("16", -(-n // 16))):
        assert cli("train", "--model", "mlp", "--dataset", "iris", "--batch-size", bs, "--epochs", "2",
                   "--lr", "0.02", "--out", tmp_path / bs, "--quiet", "--no-figures") == 0
        assert made[-1].steps == 2 * steps, bs
        assert made[-1].param_groups[0]["lr"] == 0.02
        cfg = json.loads((tmp_path / bs / "config.json").read_text())
        assert cfg["batch_size"] == bs and cfg["lr"] == 0.02
    history = lambda d: json.loads((tmp_path / d / "history.json").read_text())
    for d, seed in (("again", "0"), ("other", "1")):
        assert cli("train", "--model", "mlp", "--dataset", "iris", "--batch-size", "16", "--epochs", "2",
                   "--lr", "0.02", "--seed", seed, "--out", tmp_path / d, "--quiet", "--no-figures") == 0
    assert history("again")["loss"] == history("16")["loss"]
    assert history("other")["loss"] != history("16")["loss"]


def test_train_records_per_layer_gradient_norms(run_dir):
    norms = json.loads((run_dir / "grad_norms.json").read_text())
    steps = norms.pop("step")
    # the default CNN: two convolutions and three linear layers, one curve each over training
    assert sorted(k.split(" ")[1] for k in norms) == ["(Conv2d)"] * 2 + ["(Linear)"] * 3
    assert len(steps) > 50 and steps == sorted(steps)
    assert all(len(v) == len(steps) and all(x > 0 for x in v) for v in norms.values())
    with open(run_dir / "figures" / "grad_norms.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_train_prints_epoch_lines_and_the_metrics_table(tmp_path, capsys, monkeypatch):
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--epochs", "3", "--out", tmp_path / "a",
               "--no-figures") == 0
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.startswith("epoch ")]   # not a terminal: plain lines
    assert [ln.split()[1] for ln in lines] == ["1/3", "2/3", "3/3"] and "val_accuracy" in lines[0]
    assert out.startswith("test metrics\n---") and "accuracy" in out and "log_loss" in out
    assert "test accuracy:" in out.splitlines()[-1]
    # on a terminal: tqdm progress bars, one per epoch
    pytest.importorskip("tqdm")
    import chainrule.train.progress as progress_mod   # the one terminal test, CLI and Trainer
    monkeypatch.setattr(progress_mod, "is_tty", lambda stream: True)
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--epochs", "2", "--out", tmp_path / "b",
               "--no-figures") == 0
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and ("it/s" in err or "s/it" in err)
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--epochs", "2", "--out", tmp_path / "c",
               "--no-figures", "--quiet") == 0
    assert capsys.readouterr().err == ""                  # --quiet: neither bars nor lines


def _write_cifar(root, sizes, rng):
    import pickle
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name, n in zip(names, sizes):
        batch = {b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                 b"labels": rng.integers(0, 10, n).tolist()}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=4))   # bytes as bytes, no _codecs


def test_train_fashion_mnist_and_resnet20_on_cifar10_files(tmp_path, capsys):
    rng = np.random.default_rng(1)
    fm = tmp_path / "fm"
    fm.mkdir()
    for prefix, n in (("train", 100), ("t10k", 12)):
        _write_idx(fm / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 2051)
        _write_idx(fm / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n), 2049)
    assert cli("train", "--model", "mlp", "--dataset", "fashion_mnist", "--data-dir", fm, "--epochs", "1",
               "--out", tmp_path / "fm-run", "--quiet", "--no-figures") == 0
    cfg = json.loads((tmp_path / "fm-run" / "config.json").read_text())
    assert cfg["dataset"] == "fashion_mnist" and cfg["input_shape"] == [1, 28, 28]
    _write_cifar(tmp_path / "c10", (20, 20, 20, 20, 20, 6), rng)   # val: 10% of 100
    run = tmp_path / "c10-run"
    assert cli("train", "--model", "resnet20", "--dataset", "cifar10", "--data-dir", tmp_path / "c10",
               "--epochs", "1", "--batch-size", "16", "--out", run, "--quiet", "--no-figures") == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"] == "resnet20" and cfg["input_shape"] == [3, 32, 32]
    assert np.sum(json.loads((run / "confusion_matrix.json").read_text())) == 6   # CIFAR's test batch
    from PIL import Image                          # predict on a colour image file
    Image.fromarray(rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)).save(tmp_path / "x.png")
    capsys.readouterr()
    assert cli("predict", run, tmp_path / "x.png") == 0
    assert capsys.readouterr().out.startswith("sample 0: class ")


def test_missing_data_files_are_user_errors_not_tracebacks(tmp_path, capsys, run_dir):
    assert cli("train", "--dataset", "cifar10", "--data-dir", tmp_path, "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule train: error: dataset 'cifar10': ") and "cifar-10-batches-py" in err
    assert cli("train", "--dataset", "fashion_mnist", "--data-dir", tmp_path, "--out", tmp_path / "r") == 2
    assert "chainrule train: error: dataset 'fashion_mnist': FashionMNIST: " in capsys.readouterr().err
    _write_cifar(tmp_path / "evil", (12, 12, 12, 12, 12, 4), np.random.default_rng(0))
    import pickle                  # a batch naming a global the restricted unpickler refuses
    (tmp_path / "evil" / "cifar-10-batches-py" / "test_batch").write_bytes(
        pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [complex(1, 2)]}))
    assert cli("train", "--dataset", "cifar10", "--data-dir", tmp_path / "evil", "--out", tmp_path / "r") == 2
    assert "refusing to load builtins.complex" in capsys.readouterr().err
    assert cli("evaluate", run_dir, "--dataset", "mnist") == 2
    assert "chainrule evaluate: error: dataset 'mnist' reads its files from --data-dir" in capsys.readouterr().err
    path = _write(tmp_path, '[task]\ntype = "classification"\n[data]\ndataset = "mnist"\n'
                            f'data_dir = "{tmp_path}"\n[model]\nname = "mlp"\n')
    assert cli("run", path) == 2
    assert capsys.readouterr().err.startswith("chainrule run: error: dataset 'mnist': ")


def test_graph_of_every_model(tmp_path, capsys):
    """The CNNs are drawn on images by default (lenet5: digits, resnet20: CIFAR-10)."""
    for model, op, ops in (("linear", "AddmmBackward0", 3), ("lenet5", "ConvolutionBackward0", 13),
                           ("resnet20", "ConvolutionBackward0", 60)):
        out = tmp_path / f"{model}.dot"
        assert cli("graph", "--model", model, "-o", out) == 0
        dot = out.read_text()
        assert op in dot and dot.count("shape=box") >= ops, model
    assert cli("graph", "--model", "lenet5", "--dataset", "iris", "-o", tmp_path / "x.dot") == 2
    assert "chainrule graph: error: model 'lenet5' needs images" in capsys.readouterr().err


def test_demo_all_runs_every_demo(tmp_path, capsys, monkeypatch):
    """`chainrule demo all` runs the 16 demos in order, one JSON finding each (the demos
    themselves are run and checked in tests/test_demos.py)."""
    from chainrule import demos
    ran = []

    def fake(name, fast=False, out_dir="."):
        ran.append((name, fast))
        return {"finding": f"{name}: measured", "figure": os.path.join(out_dir, name + ".png")}
    monkeypatch.setattr(demos, "run", fake)
    assert cli("demo", "all", "--fast", "--out", tmp_path) == 0
    assert ran == [(name, True) for name in demos.DEMOS] and len(ran) == 16
    assert all((tmp_path / f"{name}.json").exists() for name in demos.DEMOS)
