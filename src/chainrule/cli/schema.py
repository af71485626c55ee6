"""The experiment file: the seed's machine-learning flow (define the task, represent the data,
select the data, select the metrics, develop the model) written as TOML, and its validation.

Every key is checked before anything runs; an error names the file, the ``[section]`` and key,
the value found and what is allowed, e.g.::

    examples/bad.toml: [training] optimizer = 'adamm' is not allowed; allowed: sgd, momentum,
    nesterov, adagrad, rmsprop, adam, adamw

The schema (defaults in parentheses; ``*`` = required)::

    [task]       type*        classification | regression
                 target       a name for what is predicted (the dataset's own target name)
    [data]       dataset*     digits | iris | breast_cancer | diabetes | mnist | fashion_mnist | cifar10
                 data_dir     folder with the files of mnist / fashion_mnist / cifar10
                 scaling      none | standard | minmax (standard) — fitted on the training split only
                 one_hot      list of feature columns to one-hot encode ([])
                 basis        none | polynomial | rbf | fourier (none): f(x) = W φ(x; θ₂) + b
                 basis_degree int ≥ 1 (2), for polynomial
                 basis_size   int ≥ 1 (32), centres of rbf / features of fourier
    [selection]  test_size    float in (0, 1) (0.2)
                 val_size     float in [0, 1) (0.0), a fraction of the whole data set
                 stratify     bool (true for classification; must be false for regression)
                 k_fold       0 or an int ≥ 2 (0): k-fold cross-validation on the training split
                 seed         int (0)
    [metrics]    names        list from: accuracy, precision, recall, f1, roc_auc, log_loss
                              (classification) | mse, mae, r2 (regression)
                 average      macro | micro | weighted (macro), for precision / recall / f1
    [model]      name         mlp | linear | glm | perceptron | lenet5 | resnet20 | pkg.module:factory (mlp)
                 hidden       list of ints ≥ 1 ([64]), for mlp
                 activation   relu | tanh | sigmoid | leaky_relu | gelu (relu), for mlp
                 family       gaussian | bernoulli | poisson, for glm (from the task)
    [training]   optimizer    sgd | momentum | nesterov | adagrad | rmsprop | adam | adamw (adam)
                 lr           float > 0 (the optimizer's usual rate)
                 batch_size   "full" | int ≥ 1 (32): full-batch, stochastic (1) or mini-batch GD
                 epochs       int ≥ 1 (50)
                 weight_decay float ≥ 0 (0.0)
"""
from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, packaged as tomli (a dependency on 3.10 only)
    import tomli as tomllib

DATASETS = ("digits", "iris", "breast_cancer", "diabetes", "mnist", "fashion_mnist", "cifar10")
REGRESSION_DATASETS = ("diabetes",)
BINARY_DATASETS = ("breast_cancer",)
FILE_DATASETS = ("mnist", "fashion_mnist", "cifar10")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
MODELS = ("mlp", "linear", "glm", "perceptron", "lenet5", "resnet20")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "gelu")
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mse", "mae", "r2")
_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ExperimentError(ValueError):
    """An experiment file that cannot run; the message names the file, key and what is allowed."""


class _Key:
    def __init__(self, kind, default=None, allowed=None, required=False, check=None, what=None):
        self.kind, self.default, self.allowed = kind, default, allowed
        self.required, self.check, self.what = required, check, what


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


SCHEMA = {
    "task": {
        "type": _Key(str, allowed=("classification", "regression"), required=True),
        "target": _Key(str, what="a string"),
    },
    "data": {
        "dataset": _Key(str, allowed=DATASETS, required=True),
        "data_dir": _Key(str, what="a folder path (a string)"),
        "scaling": _Key(str, "standard", allowed=("none", "standard", "minmax")),
        "one_hot": _Key(list, [], check=lambda v: all(_int(c) and c >= 0 for c in v),
                        what="a list of feature column indices (ints ≥ 0)"),
        "basis": _Key(str, "none", allowed=("none", "polynomial", "rbf", "fourier")),
        "basis_degree": _Key(int, 2, check=lambda v: v >= 1, what="an integer ≥ 1"),
        "basis_size": _Key(int, 32, check=lambda v: v >= 1, what="an integer ≥ 1"),
    },
    "selection": {
        "test_size": _Key(float, 0.2, check=lambda v: 0 < v < 1, what="a number in (0, 1)"),
        "val_size": _Key(float, 0.0, check=lambda v: 0 <= v < 1, what="a number in [0, 1)"),
        "stratify": _Key(bool, None, what="true or false"),
        "k_fold": _Key(int, 0, check=lambda v: v == 0 or v >= 2, what="0 or an integer ≥ 2"),
        "seed": _Key(int, 0, what="an integer"),
    },
    "metrics": {
        "names": _Key(list, None, what="a list of metric names"),
        "average": _Key(str, "macro", allowed=("macro", "micro", "weighted")),
    },
    "model": {
        "name": _Key(str, "mlp", check=lambda v: v in MODELS or bool(_FACTORY.match(v)),
                     what="one of: " + ", ".join(MODELS) + ", or a factory 'pkg.module:function'"),
        "hidden": _Key(list, [64], check=lambda v: all(_int(h) and h >= 1 for h in v),
                       what="a list of integers ≥ 1"),
        "activation": _Key(str, "relu", allowed=ACTIVATIONS),
        "family": _Key(str, None, allowed=("gaussian", "bernoulli", "poisson")),
    },
    "training": {
        "optimizer": _Key(str, "adam", allowed=OPTIMIZERS),
        "lr": _Key(float, None, check=lambda v: v > 0, what="a number > 0"),
        "batch_size": _Key((str, int), 32, check=lambda v: v == "full" or (_int(v) and v >= 1),
                           what='"full" or an integer ≥ 1'),
        "epochs": _Key(int, 50, check=lambda v: v >= 1, what="an integer ≥ 1"),
        "weight_decay": _Key(float, 0.0, check=lambda v: v >= 0, what="a number ≥ 0"),
    },
}
REQUIRED_SECTIONS = ("task", "data")


def _allowed_text(spec: _Key) -> str:
    if spec.allowed:
        return "allowed: " + ", ".join(spec.allowed)
    return f"expected {spec.what}"


def _type_ok(spec: _Key, v) -> bool:
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    for k in kinds:
        if k is float and _num(v):
            return True
        if k is int and _int(v):
            return True
        if k is bool and isinstance(v, bool):
            return True
        if k in (str, list) and isinstance(v, k):
            return True
    return False


def validate(raw: dict, path: str = "<experiment>") -> dict:
    """Check ``raw`` (a parsed TOML document) against :data:`SCHEMA` and return the resolved
    configuration: every section and key present, defaults filled in, cross-key rules applied."""
    def fail(msg):
        raise ExperimentError(f"{path}: {msg}")

    for section in raw:
        if section not in SCHEMA:
            fail(f"unknown section [{section}]; allowed sections: "
                 + ", ".join(f"[{s}]" for s in SCHEMA))
        if not isinstance(raw[section], dict):
            fail(f"{section} must be a table [{section}], got {type(raw[section]).__name__}")
    for section in REQUIRED_SECTIONS:
        if section not in raw:
            fail(f"missing section [{section}]; it needs: "
                 + ", ".join(k for k, s in SCHEMA[section].items() if s.required))
    cfg = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        for key in given:
            if key not in keys:
                fail(f"unknown key [{section}] {key}; allowed keys: {', '.join(keys)}")
        out = {}
        for key, spec in keys.items():
            if key not in given:
                if spec.required:
                    fail(f"[{section}] {key} is required; {_allowed_text(spec)}")
                out[key] = list(spec.default) if isinstance(spec.default, list) else spec.default
                continue
            v = given[key]
            if not _type_ok(spec, v) or (spec.allowed and v not in spec.allowed) or (
                    spec.check is not None and not spec.check(v)):
                verb = "is not allowed" if spec.allowed else "is not valid"
                fail(f"[{section}] {key} = {v!r} {verb}; {_allowed_text(spec)}")
            out[key] = float(v) if spec.kind is float else v
        cfg[section] = out

    # Rules that tie keys together.
    task, data, sel, met, model = (cfg["task"], cfg["data"], cfg["selection"], cfg["metrics"],
                                   cfg["model"])
    regression = task["type"] == "regression"
    if regression != (data["dataset"] in REGRESSION_DATASETS):
        fits = [d for d in DATASETS if (d in REGRESSION_DATASETS) == regression]
        fail(f"[data] dataset = {data['dataset']!r} is not allowed for [task] type = "
             f"{task['type']!r}; allowed: {', '.join(fits)}")
    if data["dataset"] in FILE_DATASETS and not data["data_dir"]:
        fail(f"[data] data_dir is required for dataset {data['dataset']!r}; expected the folder "
             "holding its files")
    if sel["stratify"] is None:
        sel["stratify"] = not regression
    elif sel["stratify"] and regression:
        fail("[selection] stratify = true is not allowed for [task] type = 'regression'; "
             "allowed: false")
    if sel["test_size"] + sel["val_size"] >= 1:
        fail(f"[selection] test_size + val_size = {sel['test_size'] + sel['val_size']:g} leaves "
             "no training data; expected a sum < 1")
    allowed_metrics = REGRESSION_METRICS if regression else CLASSIFICATION_METRICS
    if met["names"] is None:
        met["names"] = ["mse", "r2"] if regression else ["accuracy", "f1"]
    for m in met["names"]:
        if m not in allowed_metrics:
            fail(f"[metrics] names contains {m!r}, which is not allowed for {task['type']}; "
                 f"allowed: {', '.join(allowed_metrics)}")
    if model["name"] == "perceptron" and regression:
        fail("[model] name = 'perceptron' is not allowed for [task] type = 'regression'; "
             "allowed: mlp, linear, glm, or a factory")
    if model["name"] in ("lenet5", "resnet20") and data["dataset"] not in (
            "digits", "mnist", "fashion_mnist", "cifar10"):
        fail(f"[model] name = {model['name']!r} needs an image dataset; allowed [data] dataset: "
             "digits, mnist, fashion_mnist, cifar10")
    if model["name"] in ("lenet5", "resnet20") and (data["basis"] != "none" or data["one_hot"]):
        fail(f"[data] basis / one_hot apply to feature vectors, not to the images of "
             f"[model] name = {model['name']!r}; allowed: basis = 'none', one_hot = []")
    if model["name"] in ("perceptron", "glm") and not regression and (
            data["dataset"] not in BINARY_DATASETS):
        fail(f"[model] name = {model['name']!r} is a binary classifier; allowed [data] dataset: "
             + ", ".join(BINARY_DATASETS))
    if model["family"] is not None and model["name"] != "glm":
        fail(f"[model] family applies to name = 'glm' only, not {model['name']!r}")
    if model["name"] == "glm" and model["family"] is None:
        model["family"] = "gaussian" if regression else "bernoulli"
    if model["name"] == "glm":
        fam_ok = ("gaussian", "poisson") if regression else ("bernoulli",)
        if model["family"] not in fam_ok:
            fail(f"[model] family = {model['family']!r} is not allowed for [task] type = "
                 f"{task['type']!r}; allowed: {', '.join(fam_ok)}")
    return cfg


def load(path: str) -> dict:
    """Read and validate an experiment file; raise :class:`ExperimentError` when it is wrong."""
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ExperimentError(f"{path}: not valid TOML ({e})") from None
    return validate(raw, path)
