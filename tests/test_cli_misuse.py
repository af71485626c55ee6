"""The `chainrule` command used carelessly or with hostile files: every case is a user error
answered by one line — ``chainrule CMD: error: ...`` naming the option or file, exit status 2 —
and never a traceback. The table is run in-process through ``chainrule.cli.main`` (fast); the
few things that need a real process (SIGINT, SIGKILL) are in tests/test_cli_resume.py.

Each case builds what it needs in its own folder from two small run folders trained once per
module (an MLP on iris, an MLP on the 8×8 digits), then runs one command line.
"""
import io
import json
import os
import shutil
import struct
import sys
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.train.checkpoint import save_checkpoint

TRACEBACK = "Traceback (most recent call last)"
META = "__chainrule_meta__"
FORMAT = "chainrule-checkpoint/1"


def run_cli(argv):
    """(exit status, stdout, stderr) of ``chainrule *argv`` in-process; argparse's own exits
    (--help) come back as their status."""
    import contextlib
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:         # only --help / --version exit this way
            code = e.code
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------- base run folders
TRAIN_FAST = ("--epochs", "2", "--quiet", "--no-figures")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("base")
    for name, args in (("iris", ("--model", "mlp", "--dataset", "iris")),
                       ("digits", ("--model", "mlp", "--dataset", "digits", "--epochs", "1"))):
        code, _, err = run_cli(["train", *args, *TRAIN_FAST, "--out", root / name])
        assert code == 0, err
    return root


class Ctx:
    """What a case's setup gets: its own folder ``tmp`` and copies of the base runs."""

    def __init__(self, tmp, base):
        self.tmp, self.base = tmp, base

    def run(self, name="iris"):
        """A fresh copy of base run ``name`` (iris or digits) to damage."""
        dst = self.tmp / f"run-{name}"
        if not dst.exists():
            shutil.copytree(self.base / name, dst)
        return dst

    def config(self, mutate, name="iris"):
        """A copy of a run whose config.json ``mutate(cfg)`` changed in place (or replaced,
        when it returns a list: a config.json that is not an object)."""
        d = self.run(name)
        cfg = json.loads((d / "config.json").read_text())
        new = mutate(cfg)
        (d / "config.json").write_text(json.dumps(new if isinstance(new, list) else cfg))
        return d

    def ckpt_bytes(self, data: bytes, name="iris"):
        d = self.run(name)
        (d / "checkpoint.npz").write_bytes(data)
        return d

    def ckpt_meta(self, meta_text: str, arrays=None, name="iris"):
        """A copy of a run whose checkpoint holds ``arrays`` and the JSON text ``meta_text``."""
        buf = io.BytesIO()
        payload = dict(arrays or {})
        payload[META] = np.frombuffer(meta_text.encode("utf-8"), dtype=np.uint8)
        np.savez(buf, **payload)
        return self.ckpt_bytes(buf.getvalue(), name)

    def ckpt_state(self, state, name="iris"):
        d = self.run(name)
        save_checkpoint(state, d / "checkpoint.npz")
        return d

    def file(self, name, data: bytes | str):
        p = self.tmp / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return p

    def npy(self, name, array):
        p = self.tmp / name
        np.save(p, array, allow_pickle=True)
        return p

    def toml(self, text, name="exp.toml"):
        return self.file(name, text)


@dataclass
class Case:
    id: str
    argv: Callable[[Ctx], list]       # the command line, built in the case's folder
    message: str                       # part of the one-line error
    code: int = 2


def C(id, argv, message, code=2):
    return Case(id, argv if callable(argv) else (lambda ctx, a=argv: list(a)), message, code)


# ---------------------------------------------------------------------------- helpers for cases
def model_state(ctx, fill=None, shape_of=None):
    """The iris run's model weights, optionally all set to ``fill`` or one reshaped."""
    from chainrule.train.checkpoint import load_checkpoint
    state = load_checkpoint(ctx.base / "iris" / "checkpoint.npz")["model"]
    out = {}
    for k, v in state.items():
        a = v.numpy().copy()
        if fill is not None:
            a[...] = fill
        if shape_of == k:
            a = np.zeros((a.shape[0] + 1,) + a.shape[1:], a.dtype)
        out[k] = cr.from_numpy(a)
    return out


def png_header(width, height):
    """A PNG whose header claims width × height pixels (a decompression bomb's signature)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00"))
            + chunk(b"IEND", b""))


GOOD = '[task]\ntype = "classification"\n[data]\ndataset = "iris"\n'
REG = '[task]\ntype = "regression"\n[data]\ndataset = "diabetes"\n'


def exp(text, *extra):
    """`chainrule run` on an experiment file with ``text`` (and extra flags)."""
    return lambda ctx: ["run", ctx.toml(text), *extra]


def train(*args):
    """`chainrule train` on iris into the case's folder, plus ``args``."""
    return lambda ctx: ["train", "--model", "mlp", "--dataset", "iris", *TRAIN_FAST,
                        "--out", ctx.tmp / "out", *args]


def evaluate_on(make_dir, *extra):
    return lambda ctx: ["evaluate", make_dir(ctx), *extra]


def predict_on(make_dir, make_input=None, *extra):
    def argv(ctx):
        inp = make_input(ctx) if make_input else ctx.npy("x.npy", np.ones((2, 4), np.float32))
        return ["predict", make_dir(ctx), inp, *extra]
    return argv


# ---------------------------------------------------------------------------- the corpus
CASES = [
    # -- the command line itself
    C("no-command", [], "the following arguments are required: COMMAND"),
    C("unknown-command", ["trian"], "invalid choice: 'trian'"),
    C("unknown-command-suggests", ["evalute"], "did you mean 'evaluate'?"),
    C("unknown-option", ["train", "--epoks", "3"], "unrecognized arguments: --epoks 3"),
    C("unknown-option-suggests", ["train", "--lerning-rate", "1"], "unrecognized arguments"),
    C("unknown-option-suggests-close", ["train", "--qiet"], "did you mean --quiet?"),
    C("bad-choice-optimizer", ["train", "--optimizer", "adamm"], "did you mean 'adam'?"),
    C("bad-choice-dataset", ["train", "--dataset", "iriss"], "did you mean 'iris'?"),
    C("bad-choice-schedule", ["train", "--schedule", "linear"], "argument --schedule"),
    C("lr-zero", ["train", "--lr", "0"], "argument --lr: '0' is not valid; expected a number > 0"),
    C("lr-negative", ["train", "--lr", "-0.1"], "argument --lr"),
    C("lr-inf", ["train", "--lr", "inf"], "argument --lr: 'inf' is not valid"),
    C("lr-nan", ["train", "--lr", "nan"], "argument --lr: 'nan' is not valid"),
    C("lr-text", ["train", "--lr", "fast"], "argument --lr: 'fast' is not valid"),
    C("epochs-zero", ["train", "--epochs", "0"], "argument --epochs: '0' is not valid"),
    C("epochs-huge", ["train", "--epochs", str(10 ** 12)], "expected an integer ≥ 1 and ≤ 1,000,000"),
    C("epochs-fraction", ["train", "--epochs", "1.5"], "argument --epochs: '1.5' is not valid"),
    C("batch-zero", ["train", "--batch-size", "0"], "argument --batch-size: '0' is not valid"),
    C("batch-negative", ["train", "--batch-size", "-3"], "argument --batch-size"),
    C("batch-word", ["train", "--batch-size", "half"], "argument --batch-size: 'half'"),
    C("batch-huge", ["train", "--batch-size", str(10 ** 12)], "argument --batch-size"),
    C("seed-negative", ["train", "--seed", "-1"], "argument --seed: '-1' is not valid"),
    C("seed-huge", ["train", "--seed", str(2 ** 40)], "expected an integer ≥ 0 and ≤ 4294967295"),
    C("weight-decay-negative", ["train", "--weight-decay", "-1"], "argument --weight-decay"),
    C("weight-decay-inf", ["train", "--weight-decay", "inf"], "argument --weight-decay: 'inf'"),
    C("patience-zero", ["train", "--patience", "0"], "argument --patience: '0' is not valid"),
    C("max-memory-zero", ["train", "--max-memory", "0"], "is not a memory size"),
    C("max-memory-unit", ["train", "--max-memory", "4XB"], "is not a memory size"),
    C("evaluate-no-run", ["evaluate"], "the following arguments are required: RUN_DIR"),
    C("predict-no-input", lambda ctx: ["predict", ctx.base / "iris"],
      "the following arguments are required: INPUT"),
    C("predict-top-zero", lambda ctx: ["predict", ctx.base / "iris", "x.npy", "--top", "0"],
      "argument --top: '0' is not valid"),
    C("evaluate-bad-checkpoint-choice", ["evaluate", "r", "--checkpoint", "first"],
      "argument --checkpoint: invalid choice"),
    C("graph-batch-zero", ["graph", "--batch", "0"], "argument --batch: '0' is not valid"),
    C("graph-batch-huge", ["graph", "--batch", "100000"], "argument --batch"),
    C("graph-hidden-words", lambda ctx: ["graph", "--hidden", "a,b", "-o", ctx.tmp / "g.dot"],
      "--hidden must be comma-separated integers"),
    C("graph-hidden-zero", lambda ctx: ["graph", "--hidden", "0", "-o", ctx.tmp / "g.dot"],
      "--hidden sizes must be ≥ 1"),
    C("graph-hidden-huge", lambda ctx: ["graph", "--hidden", "1000000000", "-o",
                                        ctx.tmp / "g.dot"], "--max-memory"),
    C("graph-extension", lambda ctx: ["graph", "-o", ctx.tmp / "g.txt"], "-o must end in .dot"),
    C("graph-lenet-on-iris", lambda ctx: ["graph", "--model", "lenet5", "--dataset", "iris",
                                          "-o", ctx.tmp / "g.dot"], "needs images"),
    C("demo-unknown", ["demo", "nope"], "unknown demo 'nope'"),
    C("demo-suggests", ["demo", "residul"], "did you mean 'residual'?"),
    C("run-epochs-zero", lambda ctx: ["run", ctx.toml(GOOD), "--epochs", "0"],
      "argument --epochs: '0' is not valid"),
    C("resume-with-options", lambda ctx: ["train", "--resume", ctx.run(), "--lr", "0.1"],
      "drop --lr"),
    C("resume-with-out", lambda ctx: ["train", "--resume", ctx.run(), "--out", ctx.tmp / "o"],
      "drop --out"),
    C("resume-missing", lambda ctx: ["train", "--resume", ctx.tmp / "nope"],
      "--resume", ),
    C("resume-a-file", lambda ctx: ["train", "--resume", ctx.file("f", "x")], "is a file"),
    C("resume-not-a-run", lambda ctx: ["train", "--resume", ctx.tmp], "is not a run folder"),
    C("resume-damaged-checkpoint", lambda ctx: ["train", "--resume", ctx.ckpt_bytes(b"junk"),
                                                "--quiet"], "cannot be read"),
    C("resume-not-full-checkpoint",
      lambda ctx: ["train", "--resume", ctx.ckpt_state({"model": model_state(ctx)}), "--quiet"],
      "is not a full training checkpoint"),
    C("resume-factory-untrusted", lambda ctx: ["train", "--resume", ctx.config(
        lambda c: c.update(model="payload_never_imported:make"))], "pass --trust-model-code"),
    C("resume-factory-trusted-missing", lambda ctx: ["train", "--resume", ctx.config(
        lambda c: c.update(model="payload_never_imported:make")), "--trust-model-code"],
      "cannot load factory"),
    C("resume-damaged-config", lambda ctx: ["train", "--resume", ctx.config(
        lambda c: c.update(optimizer="adamm"))], "optimizer: expected one of"),

    # -- models: names, factories (code), shapes
    C("model-unknown", train("--model", "lenet"), "did you mean 'lenet5'?"),
    C("model-os-system", train("--model", "os:system"),
      "must accept factory(input_shape=..., num_outputs=...)"),
    C("model-json-loads", train("--model", "json:loads"), "refusing to call it"),
    C("model-no-module", train("--model", "no_such_module_xyz:make"),
      "cannot load factory 'no_such_module_xyz:make'"),
    C("model-no-attribute", train("--model", "json:no_such_factory"), "has no attribute"),
    C("model-a-class", train("--model", "builtins:dict"), "not a function returning a model"),
    C("model-a-constant", train("--model", "math:pi"), "not a function returning a model"),
    C("model-three-colons", train("--model", "a:b:c"), "is not a model"),
    C("lenet-on-iris", train("--model", "lenet5"), "needs images"),
    C("resnet-on-iris", train("--model", "resnet20"), "needs images"),
    C("perceptron-on-iris", train("--model", "perceptron"), "binary classifier"),
    C("glm-on-digits", lambda ctx: ["train", "--model", "glm", "--dataset", "digits",
                                    "--out", ctx.tmp / "o"], "binary classifier"),
    C("mnist-without-data-dir", train("--dataset", "mnist"), "reads its files from --data-dir"),
    C("mnist-empty-data-dir", lambda ctx: ["train", "--dataset", "mnist", "--data-dir", ctx.tmp,
                                           "--out", ctx.tmp / "o"], "not found"),
    C("cifar-empty-data-dir", lambda ctx: ["train", "--dataset", "cifar10", "--data-dir", ctx.tmp,
                                           "--out", ctx.tmp / "o"], "cifar-10-batches-py"),
    C("mnist-data-dir-a-file", lambda ctx: ["train", "--dataset", "mnist", "--data-dir",
                                            ctx.file("f", "x"), "--out", ctx.tmp / "o"],
      "dataset 'mnist'"),

    # -- memory: refused before anything is built
    C("memory-full-batch-limit", train("--batch-size", "full", "--max-memory", "1KB"),
      "more than the limit of"),
    C("memory-lenet-limit", lambda ctx: ["train", "--max-memory", "100KB", "--out", ctx.tmp / "o"],
      "raise the limit with --max-memory"),
    C("memory-hidden-huge", exp(GOOD + "[model]\nhidden = [1000000000000]\n"),
      "would need about"),
    C("memory-hidden-wide-deep", exp(GOOD + "[model]\nhidden = [100000, 100000, 100000]\n"),
      "more than the limit"),
    C("memory-rbf-centres", exp(REG + "[data]\n" if False else
                                '[task]\ntype = "regression"\n[data]\ndataset = "diabetes"\n'
                                'basis = "rbf"\nbasis_size = 1000000\n'
                                "[training]\nbatch_size = \"full\"\n"), "--max-memory"),
    C("memory-run-limit-flag", lambda ctx: ["run", ctx.toml(GOOD), "--max-memory", "1KB"],
      "more than the limit of 1 KiB" if False else "more than the limit of"),
    C("basis-size-huge", exp(REG.replace('"diabetes"\n', '"diabetes"\nbasis = "rbf"\n'
                                         'basis_size = 1000000000000\n')),
      "[data] basis_size = 1000000000000 is not valid"),
    C("basis-degree-1000", exp(REG.replace('"diabetes"\n', '"diabetes"\nbasis = "polynomial"\n'
                                           'basis_degree = 1000\n')),
      "[data] basis_degree = 1000 is not valid; expected an integer ≥ 1 and ≤ 10"),
    C("basis-degree-too-many-features",
      exp('[task]\ntype = "classification"\n[data]\ndataset = "breast_cancer"\n'
          'basis = "polynomial"\nbasis_degree = 6\n'), "features of the 30 columns"),

    # -- experiment files: every value range-checked, all problems at once
    C("toml-lr-zero", exp(GOOD + "[training]\nlr = 0.0\n"),
      "[training] lr = 0.0 is not valid; expected a number > 0"),
    C("toml-lr-inf", exp(GOOD + "[training]\nlr = inf\n"), "[training] lr = inf is not valid"),
    C("toml-lr-nan", exp(GOOD + "[training]\nlr = nan\n"), "[training] lr = nan is not valid"),
    C("toml-lr-negative", exp(GOOD + "[training]\nlr = -1\n"), "[training] lr = -1"),
    C("toml-lr-string", exp(GOOD + "[training]\nlr = \"fast\"\n"), "lr = 'fast' is not valid"),
    C("toml-weight-decay-inf", exp(GOOD + "[training]\nweight_decay = inf\n"),
      "[training] weight_decay = inf is not valid"),
    C("toml-weight-decay-negative", exp(GOOD + "[training]\nweight_decay = -0.5\n"),
      "weight_decay = -0.5"),
    C("toml-epochs-huge", exp(GOOD + "[training]\nepochs = 1000000000000\n"),
      "[training] epochs = 1000000000000 is not valid; expected an integer ≥ 1 and ≤ 1,000,000"),
    C("toml-epochs-zero", exp(GOOD + "[training]\nepochs = 0\n"), "epochs = 0 is not valid"),
    C("toml-epochs-float", exp(GOOD + "[training]\nepochs = 2.5\n"), "epochs = 2.5 is not valid"),
    C("toml-batch-zero", exp(GOOD + "[training]\nbatch_size = 0\n"), "batch_size = 0"),
    C("toml-batch-word", exp(GOOD + "[training]\nbatch_size = \"half\"\n"), "batch_size = 'half'"),
    C("toml-optimizer-typo", exp(GOOD + "[training]\noptimizer = \"adamm\"\n"),
      "did you mean 'adam'?"),
    C("toml-test-size-zero", exp(GOOD + "[selection]\ntest_size = 0.0\n"),
      "test_size = 0.0 is not valid; expected a number in (0, 1)"),
    C("toml-test-size-one", exp(GOOD + "[selection]\ntest_size = 1\n"), "test_size = 1"),
    C("toml-val-size-negative", exp(GOOD + "[selection]\nval_size = -0.1\n"), "val_size = -0.1"),
    C("toml-no-training-rows", exp(GOOD + "[selection]\ntest_size = 0.5\nval_size = 0.5\n"),
      "leaves no training data"),
    C("toml-k-fold-one", exp(GOOD + "[selection]\nk_fold = 1\n"), "k_fold = 1 is not valid"),
    C("toml-k-fold-huge", exp(GOOD + "[selection]\nk_fold = 1000000\n"), "k_fold = 1000000"),
    C("toml-k-fold-more-than-rows", exp(GOOD + "[selection]\nk_fold = 500\n"),
      "more folds than the about 120 training rows"),
    C("toml-seed-negative", exp(GOOD + "[selection]\nseed = -1\n"), "seed = -1 is not valid"),
    C("toml-stratify-string", exp(GOOD + "[selection]\nstratify = \"yes\"\n"),
      "stratify = 'yes' is not valid; expected true or false"),
    C("toml-stratify-regression", exp(REG + "[selection]\nstratify = true\n"),
      "stratify = true is not allowed for [task] type = 'regression'"),
    C("toml-metrics-empty", exp(GOOD + "[metrics]\nnames = []\n"),
      "[metrics] names = [] is not valid; expected a non-empty list of metric names"),
    C("toml-metrics-typo", exp(GOOD + "[metrics]\nnames = [\"acuracy\"]\n"),
      "did you mean 'accuracy'?"),
    C("toml-metrics-wrong-task", exp(GOOD + "[metrics]\nnames = [\"r2\"]\n"),
      "names contains 'r2', which is not allowed for classification"),
    C("toml-metrics-not-strings", exp(GOOD + "[metrics]\nnames = [1, 2]\n"), "names = [1, 2]"),
    C("toml-average", exp(GOOD + "[metrics]\naverage = \"mean\"\n"),
      "average = 'mean' is not allowed; allowed: macro, micro, weighted"),
    C("toml-key-typo", exp(GOOD.replace("dataset", "datset")),
      "unknown key [data] datset; allowed keys: dataset, data_dir"),
    C("toml-key-typo-suggests", exp(GOOD + "[training]\nlearning_rate = 0.1\n"),
      "unknown key [training] learning_rate"),
    C("toml-key-typo-close", exp(GOOD + "[training]\nepoch = 3\n"), "did you mean 'epochs'?"),
    C("toml-section-typo", exp(GOOD + "[trainig]\n"), "did you mean 'training'?"),
    C("toml-section-not-table", exp("model = 3\n" + GOOD), "model must be a table [model]"),
    C("toml-missing-task", exp('[data]\ndataset = "iris"\n'), "missing section [task]"),
    C("toml-missing-type", exp('[task]\n[data]\ndataset = "iris"\n'), "[task] type is required"),
    C("toml-type-typo", exp(GOOD.replace('"classification"', '"clasification"')),
      "did you mean 'classification'?"),
    C("toml-dataset-for-task", exp(GOOD.replace("classification", "regression")),
      "dataset = 'iris' is not allowed for [task] type = 'regression'"),
    C("toml-one-hot-out-of-range", exp(GOOD + "one_hot = [99]\n"),
      "one_hot column 99 does not exist; dataset 'iris' has 4 feature columns"),
    C("toml-one-hot-negative", exp(GOOD + "one_hot = [-1]\n"), "one_hot = [-1] is not valid"),
    C("toml-hidden-zero", exp(GOOD + "[model]\nhidden = [0]\n"), "hidden = [0] is not valid"),
    C("toml-hidden-string", exp(GOOD + "[model]\nhidden = \"64\"\n"), "hidden = '64'"),
    C("toml-hidden-too-deep", exp(GOOD + "[model]\nhidden = [" + ", ".join(["2"] * 101) + "]\n"),
      "a list of at most 100 integers"),
    C("toml-activation", exp(GOOD + "[model]\nactivation = \"relu6\"\n"),
      "did you mean 'relu'?"),
    C("toml-model-typo", exp(GOOD + "[model]\nname = \"lenet\"\n"), "name = 'lenet' is not valid"),
    C("toml-family-on-mlp", exp(GOOD + "[model]\nfamily = \"gaussian\"\n"),
      "family applies to name = 'glm' only"),
    C("toml-glm-family", exp(REG + "[model]\nname = \"glm\"\nfamily = \"bernoulli\"\n"),
      "family = 'bernoulli' is not allowed for [task] type = 'regression'"),
    C("toml-perceptron-regression", exp(REG + "[model]\nname = \"perceptron\"\n"),
      "name = 'perceptron' is not allowed for [task] type = 'regression'"),
    C("toml-perceptron-multiclass", exp(GOOD + "[model]\nname = \"perceptron\"\n"),
      "is a binary classifier"),
    C("toml-lenet-on-iris", exp(GOOD + "[model]\nname = \"lenet5\"\n"), "needs an image dataset"),
    C("toml-basis-on-images", exp('[task]\ntype = "classification"\n[data]\ndataset = "digits"\n'
                                  'basis = "rbf"\n[model]\nname = "lenet5"\n'),
      "basis / one_hot apply to feature vectors"),
    C("toml-mnist-no-data-dir", exp('[task]\ntype = "classification"\n[data]\n'
                                    'dataset = "mnist"\n'), "data_dir is required"),
    C("toml-long-string-cut", exp(GOOD + "[training]\noptimizer = \"" + "x" * 10000 + "\"\n"),
      "optimizer = 'xxxxxxxx"),
    C("toml-many-problems", exp(GOOD + "[training]\nlr = 0.0\nepochs = 0\noptimizer = \"adamm\"\n"),
      "3 problems: (1)"),
    C("toml-not-toml", exp("[task\n"), "not valid TOML"),
    C("toml-binary", lambda ctx: ["run", ctx.file("bin.toml", bytes(range(256)) * 4)],
      "not a text file (not UTF-8)"),
    C("toml-directory", lambda ctx: ["run", ctx.tmp], "is a folder; expected an experiment file"),
    C("toml-missing", lambda ctx: ["run", ctx.tmp / "none.toml"], "no such file"),
    C("toml-empty", exp(""), "missing section [task]"),
    C("toml-factory-untrusted", exp(GOOD + "[model]\nname = \"os:system\"\n"),
      "pass --trust-model-code"),
    C("toml-factory-trusted-bad-signature",
      lambda ctx: ["run", ctx.toml(GOOD + "[model]\nname = \"os:system\"\n"),
                   "--trust-model-code"], "refusing to call it"),

    # -- damaged run folders: evaluate
    C("eval-missing-folder", lambda ctx: ["evaluate", ctx.tmp / "nope"], "does not exist"),
    C("eval-a-file", lambda ctx: ["evaluate", ctx.file("f", "x")], "is a file"),
    C("eval-not-a-run", lambda ctx: ["evaluate", ctx.tmp], "is not a run folder"),
    C("eval-config-not-json", lambda ctx: ["evaluate", (lambda d: (
        (d / "config.json").write_text("{nope"), d)[1])(ctx.run())], "is not valid JSON"),
    C("eval-config-binary", lambda ctx: ["evaluate", (lambda d: (
        (d / "config.json").write_bytes(bytes(range(256))), d)[1])(ctx.run())],
      "is not valid JSON"),
    C("eval-config-a-list", evaluate_on(lambda ctx: ctx.config(lambda c: [1, 2])),
      "holds a JSON list"),
    C("eval-config-deep", lambda ctx: ["evaluate", (lambda d: (
        (d / "config.json").write_text("[" * 200000 + "]" * 200000), d)[1])(ctx.run())],
      "config.json"),
    C("eval-config-no-model", evaluate_on(lambda ctx: ctx.config(lambda c: c.pop("model"))),
      "model is missing"),
    C("eval-config-no-preprocess", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.pop("preprocess"))), "preprocess is missing"),
    C("eval-config-shape-string", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(input_shape="4"))), "input_shape: expected a list"),
    C("eval-config-shape-zero", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(input_shape=[0]))), "input_shape"),
    C("eval-config-shape-huge", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(input_shape=[100000, 100000, 3]))), "input_shape"),
    C("eval-config-shape-wrong", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(input_shape=[5]))), "preprocess.mean"),
    C("eval-config-outputs", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(num_outputs=-1))), "num_outputs"),
    C("eval-config-classes", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(classes=[0]))), "classes: expected a list of one name per output"),
    C("eval-config-task", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(task="ranking"))), "task: expected"),
    C("eval-config-dataset", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(dataset="imagenet"))), "dataset: expected one of"),
    C("eval-config-model-unknown", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(model="transformer"))), "model: expected one of"),
    C("eval-config-std-zero", evaluate_on(lambda ctx: ctx.config(
        lambda c: c["preprocess"].update(std=[0, 0, 0, 0]))), "preprocess.std"),
    C("eval-config-scale-nan", lambda ctx: ["evaluate", (lambda d: (
        (d / "config.json").write_text((d / "config.json").read_text().replace(
            '"scale": 1.0', '"scale": NaN')), d)[1])(ctx.run())], "preprocess.scale"),
    C("eval-config-split", evaluate_on(lambda ctx: ctx.config(lambda c: c.pop("split"))),
      "split is missing"),
    C("eval-config-num-outputs-mismatch", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(num_outputs=2, classes=[0, 1]))), "does not fit the model"),
    C("eval-experiment-folder", lambda ctx: ["evaluate", (lambda d: (
        d.mkdir(), (d / "config.json").write_text(json.dumps(
            {"task": {"type": "classification"}, "training": {}})), d)[2])(ctx.tmp / "exp")],
      "is the folder of an experiment"),
    C("eval-config-lenet-tiny-images", evaluate_on(lambda ctx: ctx.config(lambda c: c.update(
        model="lenet5", input_shape=[1, 3, 3], preprocess={"scale": 1.0, "mean": 0.0,
                                                            "std": 1.0}))),
      "needs images of at least 4×4 pixels"),
    C("eval-config-lenet-odd-size", evaluate_on(lambda ctx: ctx.config(lambda c: c.update(
        model="lenet5", input_shape=[2, 30, 30], preprocess={"scale": 1.0, "mean": 0.0,
                                                              "std": 1.0}))),
      "LeNet5 takes 28×28 or 32×32 images"),
    C("eval-config-resnet-weights", evaluate_on(lambda ctx: ctx.config(lambda c: c.update(
        model="resnet20", input_shape=[3, 2, 2], preprocess={"scale": 1.0, "mean": 0.0,
                                                              "std": 1.0}))),
      "does not fit the model"),
    C("eval-factory-untrusted", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(model="payload_never_imported:make"))), "pass --trust-model-code"),
    C("eval-factory-trusted-missing", evaluate_on(lambda ctx: ctx.config(
        lambda c: c.update(model="payload_never_imported:make")), "--trust-model-code"),
      "cannot load factory"),
    C("eval-no-checkpoint", lambda ctx: ["evaluate", (lambda d: (
        (d / "checkpoint.npz").unlink(), d)[1])(ctx.run())],
      "has no checkpoint yet"),
    C("eval-no-best", lambda ctx: ["evaluate", (lambda d: (
        (d / "best.npz").unlink(), d)[1])(ctx.run()), "--checkpoint", "best"],
      "best.npz is missing"),
    C("eval-ckpt-text", evaluate_on(lambda ctx: ctx.ckpt_bytes(b"hello, not a checkpoint\n")),
      "is not a readable .npz checkpoint"),
    C("eval-ckpt-truncated", evaluate_on(lambda ctx: ctx.ckpt_bytes(
        (ctx.base / "iris" / "checkpoint.npz").read_bytes()[:300])), "cannot be read"),
    C("eval-ckpt-random", evaluate_on(lambda ctx: ctx.ckpt_bytes(
        np.random.default_rng(0).bytes(5000))), "cannot be read"),
    C("eval-ckpt-empty", evaluate_on(lambda ctx: ctx.ckpt_bytes(b"")), "cannot be read"),
    C("eval-ckpt-a-folder", lambda ctx: ["evaluate", (lambda d: (
        (d / "checkpoint.npz").unlink(), (d / "checkpoint.npz").mkdir(), d)[2])(ctx.run())],
      "cannot be read"),
    C("eval-ckpt-pickle", evaluate_on(lambda ctx: ctx.ckpt_bytes(
        (lambda b: (np.savez(b, x=np.array([object()], dtype=object)), b.getvalue())[1])(
            io.BytesIO()))), "cannot be read"),
    C("eval-ckpt-no-meta", evaluate_on(lambda ctx: ctx.ckpt_bytes(
        (lambda b: (np.savez(b, w=np.zeros(3)), b.getvalue())[1])(io.BytesIO()))),
      "is not a chainrule checkpoint"),
    C("eval-ckpt-meta-not-json", evaluate_on(lambda ctx: ctx.ckpt_meta("{not json")),
      "unreadable metadata"),
    C("eval-ckpt-meta-not-utf8", evaluate_on(lambda ctx: ctx.ckpt_bytes(
        (lambda b: (np.savez(b, **{META: np.arange(200, 256, dtype=np.uint8)}),
                    b.getvalue())[1])(io.BytesIO()))), "unreadable metadata"),
    C("eval-ckpt-meta-list", evaluate_on(lambda ctx: ctx.ckpt_meta("[1, 2]")),
      "the metadata is a list"),
    C("eval-ckpt-meta-format", evaluate_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": "other/9", "state": {}}))), "unknown checkpoint format"),
    C("eval-ckpt-meta-no-state", evaluate_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": FORMAT}))), "has no 'state'"),
    C("eval-ckpt-state-list", evaluate_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": FORMAT, "state": [1, 2]}))), "holds a list"),
    C("eval-ckpt-no-model", evaluate_on(lambda ctx: ctx.ckpt_state({"epoch": 3})),
      "has no model weights"),
    C("eval-ckpt-model-not-arrays", evaluate_on(lambda ctx: ctx.ckpt_state({"model": 5})),
      "has no model weights"),
    C("eval-ckpt-model-strings", evaluate_on(lambda ctx: ctx.ckpt_state(
        {"model": {"fc1.weight": "abc"}})), "has no model weights"),
    C("eval-ckpt-dict-malformed", evaluate_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": FORMAT, "state": {"__dict__": 5}}))), "malformed metadata"),
    C("eval-ckpt-tensor-ref-unhashable", evaluate_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": FORMAT, "state": {"__tensor__": [1]}}))), "malformed metadata"),
    C("eval-ckpt-missing-array", evaluate_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": FORMAT, "state": {"__dict__": [["model", {"__dict__": [
            ["w", {"__tensor__": "nope"}]]}]]}}))), "is missing array 'nope'"),
    C("eval-ckpt-unknown-entry", evaluate_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": FORMAT, "state": {"__evil__": 1}}))), "malformed metadata entry"),
    C("eval-ckpt-nested-200k", evaluate_on(lambda ctx: ctx.ckpt_meta(
        '{"format": "' + FORMAT + '", "state": ' + "[" * 200000 + "]" * 200000 + "}")),
      "nested too deeply"),
    C("eval-ckpt-nested-decoded", evaluate_on(lambda ctx: ctx.ckpt_meta(
        '{"format": "' + FORMAT + '", "state": ' + '{"__tuple__": [' * 3000 + "1"
        + "]}" * 3000 + "}")), "cannot be read"),
    C("eval-ckpt-wrong-shape", evaluate_on(lambda ctx: ctx.ckpt_state(
        {"model": model_state(ctx, shape_of="fc1.weight")})), "does not fit the model"),
    C("eval-ckpt-missing-weight", evaluate_on(lambda ctx: ctx.ckpt_state(
        {"model": {k: v for k, v in list(model_state(ctx).items())[1:]}})),
      "does not fit the model"),
    C("eval-ckpt-nan-weights", evaluate_on(lambda ctx: ctx.ckpt_state(
        {"model": model_state(ctx, fill=np.nan)})), "hold NaN/Inf"),
    C("eval-other-dataset-shape", lambda ctx: ["evaluate", ctx.base / "iris", "--dataset",
                                               "digits"], "has inputs of shape (1, 8, 8)"),
    C("eval-other-dataset-files", lambda ctx: ["evaluate", ctx.base / "iris", "--dataset",
                                               "mnist"], "reads its files from --data-dir"),

    # -- damaged run folders: predict reads them the same way
    C("predict-missing-folder", lambda ctx: ["predict", ctx.tmp / "nope", "x.npy"],
      "does not exist"),
    C("predict-not-a-run", lambda ctx: ["predict", ctx.tmp, "x.npy"], "is not a run folder"),
    C("predict-config-not-json", predict_on(lambda ctx: (lambda d: (
        (d / "config.json").write_text("]"), d)[1])(ctx.run())), "is not valid JSON"),
    C("predict-config-no-model", predict_on(lambda ctx: ctx.config(lambda c: c.pop("model"))),
      "model is missing"),
    C("predict-config-no-preprocess", predict_on(lambda ctx: ctx.config(
        lambda c: c.pop("preprocess"))), "preprocess is missing"),
    C("predict-config-shape-string", predict_on(lambda ctx: ctx.config(
        lambda c: c.update(input_shape="abc"))), "input_shape"),
    C("predict-config-no-classes", predict_on(lambda ctx: ctx.config(
        lambda c: c.__delitem__("classes"))), "classes is missing"),
    C("predict-factory-untrusted", predict_on(lambda ctx: ctx.config(
        lambda c: c.update(model="os:system"))), "pass --trust-model-code"),
    C("predict-ckpt-text", predict_on(lambda ctx: ctx.ckpt_bytes(b"text")), "cannot be read"),
    C("predict-ckpt-truncated", predict_on(lambda ctx: ctx.ckpt_bytes(
        (ctx.base / "iris" / "checkpoint.npz").read_bytes()[:-100])), "cannot be read"),
    C("predict-ckpt-random", predict_on(lambda ctx: ctx.ckpt_bytes(
        np.random.default_rng(1).bytes(3000))), "cannot be read"),
    C("predict-ckpt-no-meta", predict_on(lambda ctx: ctx.ckpt_bytes(
        (lambda b: (np.savez(b, a=np.ones(2)), b.getvalue())[1])(io.BytesIO()))),
      "is not a chainrule checkpoint"),
    C("predict-ckpt-meta-list", predict_on(lambda ctx: ctx.ckpt_meta("[]")), "metadata is a list"),
    C("predict-ckpt-state-list", predict_on(lambda ctx: ctx.ckpt_meta(
        json.dumps({"format": FORMAT, "state": []}))), "holds a list"),
    C("predict-ckpt-no-model", predict_on(lambda ctx: ctx.ckpt_state({"history": {}})),
      "has no model weights"),
    C("predict-ckpt-wrong-shape", predict_on(lambda ctx: ctx.ckpt_state(
        {"model": model_state(ctx, shape_of="fc1.bias")})), "does not fit the model"),
    C("predict-ckpt-nested", predict_on(lambda ctx: ctx.ckpt_meta("[" * 200000 + "]" * 200000)),
      "nested too deeply"),
    C("predict-no-checkpoint", predict_on(lambda ctx: (lambda d: (
        (d / "checkpoint.npz").unlink(), d)[1])(ctx.run())), "has no checkpoint yet"),

    # -- predict inputs
    C("input-missing", lambda ctx: ["predict", ctx.base / "iris", ctx.tmp / "none.npy"],
      "no such file"),
    C("input-folder", lambda ctx: ["predict", ctx.base / "iris", ctx.tmp], "is a folder"),
    C("input-text-npy", predict_on(lambda ctx: ctx.base / "iris",
                                   lambda ctx: ctx.file("t.npy", "just text\n")),
      "chainrule never unpickles"),
    C("input-truncated-npy", predict_on(lambda ctx: ctx.base / "iris", lambda ctx: ctx.file(
        "t.npy", (lambda p: p.read_bytes()[:-8])(ctx.npy("full.npy", np.ones((5, 4)))))),
      "is not a plain .npy array (Failed to read all data"),
    C("input-random-npy", predict_on(lambda ctx: ctx.base / "iris", lambda ctx: ctx.file(
        "r.npy", np.random.default_rng(2).bytes(999))), "chainrule never unpickles"),
    C("input-empty-npy", predict_on(lambda ctx: ctx.base / "iris", lambda ctx: ctx.file(
        "e.npy", b"")), "cannot be read as a .npy array"),
    C("input-empty-batch", predict_on(lambda ctx: ctx.base / "iris",
                                      lambda ctx: ctx.npy("z.npy", np.zeros((0, 4)))),
      "holds an empty array of shape (0, 4)"),
    C("input-strings", predict_on(lambda ctx: ctx.base / "iris",
                                  lambda ctx: ctx.npy("s.npy", np.array(["a", "b", "c", "d"]))),
      "holds <U1 values; expected numbers"),
    C("input-objects", predict_on(lambda ctx: ctx.base / "iris", lambda ctx: ctx.npy(
        "o.npy", np.array([1, "x", None, 2.0], dtype=object))), "chainrule never unpickles"),
    C("input-complex", predict_on(lambda ctx: ctx.base / "iris", lambda ctx: ctx.npy(
        "c.npy", np.ones(4, np.complex64))), "expected numbers"),
    C("input-wrong-shape", predict_on(lambda ctx: ctx.base / "iris",
                                      lambda ctx: ctx.npy("w.npy", np.zeros((3, 5)))),
      "holds an array of shape (3, 5); the model takes one sample of shape (4,)"),
    C("input-nan", predict_on(lambda ctx: ctx.base / "iris",
                              lambda ctx: ctx.npy("n.npy", np.array([1, np.nan, 2, 3.0]))),
      "contains NaN or infinite values (first at index (1,))"),
    C("input-inf", predict_on(lambda ctx: ctx.base / "iris",
                              lambda ctx: ctx.npy("i.npy", np.array([[1, 2, 3, np.inf]]))),
      "contains NaN or infinite values"),
    C("input-overflowing", predict_on(lambda ctx: ctx.base / "iris", lambda ctx: ctx.npy(
        "big.npy", np.full((1, 4), 3e38, np.float32))), "is not finite"),
    C("input-npz-renamed", predict_on(lambda ctx: ctx.base / "iris", lambda ctx: ctx.file(
        "z.npy", (lambda b: (np.savez(b, a=np.ones(4)), b.getvalue())[1])(io.BytesIO()))),
      "is not a .npy array (a .npz archive?)"),
    C("input-image-for-features", predict_on(lambda ctx: ctx.base / "iris",
                                             lambda ctx: ctx.file("x.png", png_header(8, 8))),
      "the model takes feature vectors of shape (4,)"),
    C("input-png-bomb", predict_on(lambda ctx: ctx.base / "digits",
                                   lambda ctx: ctx.file("bomb.png", png_header(30000, 30000))),
      "too large"),
    C("input-png-big", predict_on(lambda ctx: ctx.base / "digits",
                                  lambda ctx: ctx.file("big.png", png_header(8000, 8000))),
      "more than 50,000,000"),
    C("input-png-truncated", predict_on(lambda ctx: ctx.base / "digits",
                                        lambda ctx: ctx.file("t.png", png_header(8, 8)[:30])),
      "cannot read image"),
    C("input-text-png", predict_on(lambda ctx: ctx.base / "digits",
                                   lambda ctx: ctx.file("t.png", "not an image")),
      "cannot read image"),
    C("input-random-jpg", predict_on(lambda ctx: ctx.base / "digits", lambda ctx: ctx.file(
        "r.jpg", b"\xff\xd8\xff" + np.random.default_rng(3).bytes(500))), "cannot read image"),

    # -- output paths: checked before any work
    C("out-is-a-file", lambda ctx: ["train", "--out", ctx.file("f", "x")],
      "is a file, not a folder"),
    C("out-under-a-file", lambda ctx: ["train", "--out", ctx.file("f", "x") / "run"],
      "is a file, so no folder can be made under it"),
    C("out-dangling-symlink", lambda ctx: ["train", "--out", (lambda p: (
        os.symlink(ctx.tmp / "gone", p), p)[1])(ctx.tmp / "link")], "which does not exist"),
    C("out-existing-run", lambda ctx: ["train", "--out", ctx.run()],
      "already holds a run; pass --overwrite"),
    C("out-unwritable", lambda ctx: ["train", "--out", "/proc/chainrule-run"],
      "cannot be written"),
    C("run-out-is-a-file", lambda ctx: ["run", ctx.toml(GOOD), "--out", ctx.file("f", "x")],
      "is a file, not a folder"),
    C("run-out-under-a-file", lambda ctx: ["run", ctx.toml(GOOD), "--out",
                                           ctx.file("f", "x") / "d"], "is a file, so no folder"),
    C("run-out-dangling-symlink", lambda ctx: ["run", ctx.toml(GOOD), "--out", (lambda p: (
        os.symlink(ctx.tmp / "gone", p), p)[1])(ctx.tmp / "link")], "which does not exist"),
    C("run-out-existing", lambda ctx: ["run", ctx.toml(GOOD), "--out", ctx.run()],
      "already holds a run"),
    C("run-out-unwritable", lambda ctx: ["run", ctx.toml(GOOD), "--out", "/proc/chainrule-x"],
      "cannot be written"),
    C("graph-out-a-folder", lambda ctx: ["graph", "-o", (lambda d: (d.mkdir(), d)[1])(
        ctx.tmp / "g.dot")], "is a folder; give a file name"),
    C("graph-out-under-a-file", lambda ctx: ["graph", "-o", ctx.file("f", "x") / "g.dot"],
      "is a file, so no folder can be made under it"),
    C("demo-out-a-file", lambda ctx: ["demo", "residual", "--fast", "--out", ctx.file("f", "x")],
      "is a file, not a folder"),

    # -- training that diverges: one line, the folder keeps what finished
    C("diverge-lr-huge", train("--optimizer", "sgd", "--lr", "1e10"), "training diverged"),
    C("diverge-weight-decay", train("--optimizer", "sgd", "--weight-decay", "1e30"),
      "or --weight-decay"),
    C("diverge-run-lr", exp(GOOD + "[training]\noptimizer = \"sgd\"\nlr = 1e10\nepochs = 3\n"),
      "training diverged"),
    C("diverge-run-weight-decay", exp(GOOD + "[training]\noptimizer = \"sgd\"\n"
                                      "weight_decay = 1e30\nepochs = 3\n"), "training diverged"),
]


def _ids():
    seen = set()
    for c in CASES:
        assert c.id not in seen, c.id
        seen.add(c.id)
    return [c.id for c in CASES]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 150 and len(set(_ids())) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_misuse_is_one_line_exit_2_no_traceback(case, base, tmp_path):
    argv = case.argv(Ctx(tmp_path, base))
    code, out, err = run_cli(argv)
    assert TRACEBACK not in err and TRACEBACK not in out
    assert code == case.code, (code, err)
    lines = [ln for ln in err.splitlines() if ": error: " in ln]
    assert len(lines) == 1, err                      # one error line
    assert case.message in lines[0], lines[0]
    assert lines[0].startswith("chainrule"), lines[0]


# ---------------------------------------------------------------------------- beyond the table
def test_missing_extras_are_one_line_errors(base, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)            # Pillow not installed
    code, _, err = run_cli(["predict", base / "digits", tmp_path / "x.png"])
    assert code == 2 and "no such file" in err                # the file is checked first
    (tmp_path / "x.png").write_bytes(png_header(8, 8))
    code, _, err = run_cli(["predict", base / "digits", tmp_path / "x.png"])
    assert code == 2 and "needs Pillow: pip install 'chainrule[viz]'" in err
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "sklearn", None)        # scikit-learn not installed
    code, _, err = run_cli(["train", "--model", "mlp", "--dataset", "iris", *TRAIN_FAST,
                            "--out", tmp_path / "r"])
    assert code == 2 and "scikit-learn" in err and TRACEBACK not in err


def test_missing_matplotlib_skips_the_figures_only(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)     # import fails
    code, out, err = run_cli(["train", "--model", "mlp", "--dataset", "iris", "--epochs", "1",
                              "--quiet", "--out", tmp_path / "r"])
    assert code == 0 and "figures skipped" in out and (tmp_path / "r" / "metrics.json").exists()


def test_an_internal_error_asks_for_a_report(tmp_path, monkeypatch):
    from chainrule.cli import train as train_mod
    monkeypatch.setattr(train_mod, "test_metrics", lambda *a: {}["boom"])
    code, _, err = run_cli(["train", "--model", "mlp", "--dataset", "iris", *TRAIN_FAST,
                            "--out", tmp_path / "r"])
    assert code == 1 and TRACEBACK not in err
    assert "internal error: KeyError" in err and "please report it" in err
    monkeypatch.setenv("CHAINRULE_TRACEBACK", "1")            # for the one debugging it
    with pytest.raises(KeyError):
        main(["train", "--model", "mlp", "--dataset", "iris", *TRAIN_FAST,
              "--out", str(tmp_path / "r2")])


def test_read_only_output_folder_fails_before_training(tmp_path, monkeypatch):
    """A folder that refuses files (read-only; as root chmod does not stop writes, so the
    refusal is simulated where the probe writes) fails in the first second, not after the
    epochs."""
    import tempfile
    from chainrule.cli import train as train_mod
    trained = []
    monkeypatch.setattr(train_mod, "train", lambda *a, **k: trained.append(1))
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
    else:
        real = tempfile.mkstemp

        def refuse(*a, dir=None, **k):
            if dir is not None and os.path.abspath(dir).startswith(str(ro)):
                raise PermissionError(13, "Permission denied", dir)
            return real(*a, dir=dir, **k)
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, _, err = run_cli(["train", "--model", "mlp", "--dataset", "iris", "--out", ro / "run"])
    assert code == 2 and "cannot be written (Permission denied)" in err and not trained
    code, _, err = run_cli(["run", "iris_mlp", "--out", ro / "exp"])   # the shipped example
    assert code == 2 and "cannot be written" in err


def test_overwrite_replaces_an_earlier_run_and_keeps_other_files(base, tmp_path):
    run = tmp_path / "r"
    shutil.copytree(base / "iris", run)
    (run / "notes.txt").write_text("mine")
    code, _, err = run_cli(["train", "--model", "mlp", "--dataset", "iris", "--epochs", "1",
                            "--quiet", "--no-figures", "--out", run, "--overwrite"])
    assert code == 0, err
    assert json.loads((run / "config.json").read_text())["epochs"] == 1
    assert (run / "notes.txt").read_text() == "mine"


def test_a_diverged_run_keeps_its_last_finite_epoch(tmp_path):
    """SGD with lr 5 on iris is finite for a few epochs, then NaN: the folder keeps the last
    finite epoch, evaluate reads it, and the message says how many epochs it holds."""
    run = tmp_path / "r"
    code, _, err = run_cli(["train", "--model", "mlp", "--dataset", "iris", "--optimizer", "sgd",
                            "--lr", "5", "--epochs", "40", "--quiet", "--no-figures",
                            "--out", run])
    assert code == 2 and "training diverged" in err and TRACEBACK not in err
    if "keeps the last finite epoch" in err:
        done = json.loads((run / "history.json").read_text())["epoch"][-1]
        assert f"keeps the last finite epoch ({done})" in err
        code, out, err = run_cli(["evaluate", run])
        assert code == 0 and "accuracy" in out, err
    else:
        assert "holds config.json only" in err


def test_cli_and_toml_agree_on_ranges(tmp_path):
    """The same value is refused by the flag and by the file, with the same expectation."""
    from chainrule.cli.limits import RANGES
    for flag, key, value in (("--lr", "lr", "0"), ("--epochs", "epochs", "0"),
                             ("--weight-decay", "weight_decay", "-1"),
                             ("--epochs", "epochs", str(10 ** 12)),
                             ("--batch-size", "batch_size", "0"), ("--lr", "lr", "inf")):
        code, _, err = run_cli(["train", flag, value])
        assert code == 2 and RANGES[key].what in err, err
        path = tmp_path / "e.toml"
        path.write_text(GOOD + f"[training]\n{key} = {value}\n")
        code, _, err = run_cli(["run", path])
        assert code == 2 and RANGES[key].what in err, err
