"""The experiment file: the seed's machine-learning flow (define the task, represent the data,
select the data, select the metrics, develop the model) written as TOML, and its validation.

Every key is checked before anything runs, every problem is reported at once (one line:
``exp.toml: 3 problems: (1) ... (2) ...``), and an error names the file, the ``[section]`` and
key, the value found, what is allowed and, for a misspelt key or value, the closest allowed one
(difflib), e.g.::

    examples/bad.toml: [training] optimizer = 'adamm' is not allowed; allowed: sgd, momentum,
    nesterov, adagrad, rmsprop, adam, adamw; did you mean 'adam'?

The numeric ranges are those of :mod:`chainrule.cli.limits`, shared with the command-line flags
(``--lr 0`` is refused like ``lr = 0.0``); after the keys and the rules between them, the memory
the configured model would need is estimated and refused above ``--max-memory`` (4 GiB).

The schema (defaults in parentheses; ``*`` = required)::

    [task]       type*        classification | regression
                 target       a name for what is predicted (the dataset's own target name)
    [data]       dataset*     digits | iris | breast_cancer | diabetes | mnist | fashion_mnist | cifar10
                 data_dir     folder with the files of mnist / fashion_mnist / cifar10
                 scaling      none | standard | minmax (standard) — fitted on the training split only
                 one_hot      list of feature columns to one-hot encode ([])
                 basis        none | polynomial | rbf | fourier (none): f(x) = W φ(x; θ₂) + b
                 basis_degree int 1 … 10 (2), for polynomial (at most 1,000,000 monomials)
                 basis_size   int 1 … 1,000,000 (32), centres of rbf / features of fourier
    [selection]  test_size    float in (0, 1) (0.2)
                 val_size     float in [0, 1) (0.0), a fraction of the whole data set
                 stratify     bool (true for classification; must be false for regression)
                 k_fold       0 or an int 2 … 1000 (0): k-fold cross-validation on the training
                              split (at most its rows)
                 seed         int 0 … 2³² − 1 (0)
    [metrics]    names        non-empty list from: accuracy, precision, recall, f1, roc_auc, log_loss
                              (classification) | mse, mae, r2 (regression)
                 average      macro | micro | weighted (macro), for precision / recall / f1
    [model]      name         mlp | linear | glm | perceptron | lenet5 | resnet20 | pkg.module:factory (mlp)
                              (a factory is code: `chainrule run --trust-model-code`)
                 hidden       list of at most 100 ints ≥ 1 ([64]), for mlp
                 activation   relu | tanh | sigmoid | leaky_relu | gelu (relu), for mlp
                 family       gaussian | bernoulli | poisson, for glm (from the task)
    [training]   optimizer    sgd | momentum | nesterov | adagrad | rmsprop | adam | adamw (adam)
                 lr           float > 0, finite (the optimizer's usual rate)
                 batch_size   "full" | int 1 … 10⁹ (32): full-batch, stochastic (1) or mini-batch GD
                 epochs       int 1 … 1,000,000 (50)
                 weight_decay float ≥ 0, finite (0.0)
"""
from __future__ import annotations

import difflib
import math
import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, packaged as tomli (a dependency on 3.10 only)
    import tomli as tomllib

from .factories import OPTIMIZER_SPECS
from .limits import (DATASET_INFO, DEFAULT_MAX_MEMORY, MAX_BASIS_FEATURES, MAX_HIDDEN_LAYERS,
                     RANGES, basis_features, estimate_memory, memory_problem)

DATASETS = ("digits", "iris", "breast_cancer", "diabetes", "mnist", "fashion_mnist", "cifar10")
REGRESSION_DATASETS = ("diabetes",)
BINARY_DATASETS = ("breast_cancer",)
FILE_DATASETS = ("mnist", "fashion_mnist", "cifar10")
OPTIMIZERS = tuple(OPTIMIZER_SPECS)     # sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw
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


def _in(name):
    """The check of range ``name`` of :mod:`chainrule.cli.limits` (shared with the flags)."""
    return RANGES[name].ok


def _what(name):
    return RANGES[name].what


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
        "basis_degree": _Key(int, 2, check=_in("basis_degree"), what=_what("basis_degree")),
        "basis_size": _Key(int, 32, check=_in("basis_size"), what=_what("basis_size")),
    },
    "selection": {
        "test_size": _Key(float, 0.2, check=lambda v: 0 < v < 1, what="a number in (0, 1)"),
        "val_size": _Key(float, 0.0, check=lambda v: 0 <= v < 1, what="a number in [0, 1)"),
        "stratify": _Key(bool, None, what="true or false"),
        "k_fold": _Key(int, 0, check=lambda v: v == 0 or RANGES["k_fold"].ok(v),
                       what=_what("k_fold")),
        "seed": _Key(int, 0, check=_in("seed"), what=_what("seed")),
    },
    "metrics": {
        "names": _Key(list, None, check=lambda v: len(v) > 0 and all(isinstance(m, str)
                                                                      for m in v),
                      what="a non-empty list of metric names"),
        "average": _Key(str, "macro", allowed=("macro", "micro", "weighted")),
    },
    "model": {
        "name": _Key(str, "mlp", check=lambda v: v in MODELS or bool(_FACTORY.match(v)),
                     what="one of: " + ", ".join(MODELS) + ", or a factory 'pkg.module:function'"),
        "hidden": _Key(list, [64], check=lambda v: len(v) <= MAX_HIDDEN_LAYERS and all(
            _in("hidden_size")(h) for h in v),
            what=f"a list of at most {MAX_HIDDEN_LAYERS} integers ≥ 1"),
        "activation": _Key(str, "relu", allowed=ACTIVATIONS),
        "family": _Key(str, None, allowed=("gaussian", "bernoulli", "poisson")),
    },
    "training": {
        "optimizer": _Key(str, "adam", allowed=OPTIMIZERS),
        "lr": _Key(float, None, check=_in("lr"), what=_what("lr")),
        "batch_size": _Key((str, int), 32, check=lambda v: v == "full" or RANGES[
            "batch_size"].ok(v), what=_what("batch_size")),
        "epochs": _Key(int, 50, check=_in("epochs"), what=_what("epochs")),
        "weight_decay": _Key(float, 0.0, check=_in("weight_decay"), what=_what("weight_decay")),
    },
}
REQUIRED_SECTIONS = ("task", "data")


def did_you_mean(word, choices) -> str:
    """'; did you mean 'x'?' for the closest of ``choices`` (difflib), or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


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


def _check_value(spec: _Key, v) -> bool:
    if not _type_ok(spec, v):
        return False
    if spec.allowed and v not in spec.allowed:
        return False
    if spec.kind is float and not math.isfinite(v):      # TOML has inf and nan
        return False
    return spec.check is None or bool(spec.check(v))


def _shown(v) -> str:
    """A value as an error shows it: repr, cut short (a TOML string can be megabytes)."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _keys(raw: dict, errors: list) -> dict:
    """The sections and keys checked one by one: every problem appended to ``errors``, the
    values that passed (defaults for the rest) returned."""
    for section in raw:
        if section not in SCHEMA:
            errors.append(f"unknown section [{section}]; allowed sections: "
                          + ", ".join(f"[{s}]" for s in SCHEMA) + did_you_mean(section, SCHEMA))
        elif not isinstance(raw[section], dict):
            errors.append(f"{section} must be a table [{section}], got "
                          f"{type(raw[section]).__name__}")
    for section in REQUIRED_SECTIONS:
        if section not in raw:
            errors.append(f"missing section [{section}]; it needs: "
                          + ", ".join(k for k, s in SCHEMA[section].items() if s.required))
    cfg = {}
    for section, keys in SCHEMA.items():
        given = raw.get(section, {})
        given = given if isinstance(given, dict) else {}
        for key in given:
            if key not in keys:
                errors.append(f"unknown key [{section}] {key}; allowed keys: {', '.join(keys)}"
                              + did_you_mean(key, keys))
        out = {}
        for key, spec in keys.items():
            default = list(spec.default) if isinstance(spec.default, list) else spec.default
            if key not in given:
                if spec.required and section in raw:
                    errors.append(f"[{section}] {key} is required; {_allowed_text(spec)}")
                out[key] = default
                continue
            v = given[key]
            if not _check_value(spec, v):
                verb = "is not allowed" if spec.allowed else "is not valid"
                hint = did_you_mean(v, spec.allowed) if spec.allowed and isinstance(v, str) else ""
                errors.append(f"[{section}] {key} = {_shown(v)} {verb}; {_allowed_text(spec)}"
                              + hint)
                out[key] = default
                continue
            out[key] = float(v) if spec.kind is float else v
        cfg[section] = out
    return cfg


def _rules(cfg: dict, errors: list) -> None:
    """The rules that tie keys together (run only on values that passed their own check)."""
    task, data, sel, met, model = (cfg["task"], cfg["data"], cfg["selection"], cfg["metrics"],
                                   cfg["model"])
    regression = task["type"] == "regression"
    if task["type"] is None or data["dataset"] is None:
        return                              # already reported: required
    if regression != (data["dataset"] in REGRESSION_DATASETS):
        fits = [d for d in DATASETS if (d in REGRESSION_DATASETS) == regression]
        errors.append(f"[data] dataset = {data['dataset']!r} is not allowed for [task] type = "
                      f"{task['type']!r}; allowed: {', '.join(fits)}")
    if data["dataset"] in FILE_DATASETS and not data["data_dir"]:
        errors.append(f"[data] data_dir is required for dataset {data['dataset']!r}; expected "
                      "the folder holding its files")
    rows, shape, _ = DATASET_INFO[data["dataset"]]
    if len(shape) == 1:
        bad = [c for c in data["one_hot"] if c >= shape[0]]
        if bad:
            errors.append(f"[data] one_hot column {bad[0]} does not exist; dataset "
                          f"{data['dataset']!r} has {shape[0]} feature columns "
                          f"(0 … {shape[0] - 1})")
    if sel["stratify"] is None:
        sel["stratify"] = not regression
    elif sel["stratify"] and regression:
        errors.append("[selection] stratify = true is not allowed for [task] type = "
                      "'regression'; allowed: false")
    if sel["test_size"] + sel["val_size"] >= 1:
        errors.append(f"[selection] test_size + val_size = "
                      f"{sel['test_size'] + sel['val_size']:g} leaves no training data; "
                      "expected a sum < 1")
    elif sel["k_fold"] and data["dataset"] not in FILE_DATASETS:
        n_train = int(rows * (1 - sel["test_size"] - sel["val_size"]))
        if sel["k_fold"] > n_train:
            errors.append(f"[selection] k_fold = {sel['k_fold']} is more folds than the about "
                          f"{n_train} training rows of {data['dataset']!r}; expected at most "
                          f"{n_train}")
    allowed_metrics = REGRESSION_METRICS if regression else CLASSIFICATION_METRICS
    if met["names"] is None:
        met["names"] = ["mse", "r2"] if regression else ["accuracy", "f1"]
    for m in met["names"]:
        if m not in allowed_metrics:
            errors.append(f"[metrics] names contains {_shown(m)}, which is not allowed for "
                          f"{task['type']}; allowed: {', '.join(allowed_metrics)}"
                          + did_you_mean(m, allowed_metrics))
    if model["name"] == "perceptron" and regression:
        errors.append("[model] name = 'perceptron' is not allowed for [task] type = "
                      "'regression'; allowed: mlp, linear, glm, or a factory")
    if model["name"] in ("lenet5", "resnet20") and data["dataset"] not in (
            "digits", "mnist", "fashion_mnist", "cifar10"):
        errors.append(f"[model] name = {model['name']!r} needs an image dataset; allowed "
                      "[data] dataset: digits, mnist, fashion_mnist, cifar10")
    if model["name"] in ("lenet5", "resnet20") and (data["basis"] != "none" or data["one_hot"]):
        errors.append(f"[data] basis / one_hot apply to feature vectors, not to the images of "
                      f"[model] name = {model['name']!r}; allowed: basis = 'none', one_hot = []")
    if model["name"] in ("perceptron", "glm") and not regression and (
            data["dataset"] not in BINARY_DATASETS):
        errors.append(f"[model] name = {model['name']!r} is a binary classifier; allowed "
                      "[data] dataset: " + ", ".join(BINARY_DATASETS))
    if model["family"] is not None and model["name"] != "glm":
        errors.append(f"[model] family applies to name = 'glm' only, not {model['name']!r}")
    if model["name"] == "glm" and model["family"] is None:
        model["family"] = "gaussian" if regression else "bernoulli"
    if model["name"] == "glm":
        fam_ok = ("gaussian", "poisson") if regression else ("bernoulli",)
        if model["family"] not in fam_ok:
            errors.append(f"[model] family = {model['family']!r} is not allowed for [task] "
                          f"type = {task['type']!r}; allowed: {', '.join(fam_ok)}")


def memory_needed(cfg: dict) -> int:
    """The estimated bytes a run of the configuration needs (see :mod:`.limits`); features of
    tabular data as the data set has them (one-hot columns are not counted)."""
    data, model, sel, tr = cfg["data"], cfg["model"], cfg["selection"], cfg["training"]
    rows, shape, outputs = DATASET_INFO[data["dataset"]]
    image = model["name"] in ("lenet5", "resnet20")
    if not image:
        shape = (math.prod(shape),)
    n_train = max(1, int(rows * (1 - sel["test_size"] - sel["val_size"])))
    batch = n_train if tr["batch_size"] == "full" else min(tr["batch_size"], n_train)
    return estimate_memory(model["name"], shape, outputs, batch, rows, hidden=model["hidden"],
                           basis="none" if image else data["basis"],
                           basis_degree=data["basis_degree"], basis_size=data["basis_size"])


def validate(raw: dict, path: str = "<experiment>", max_memory: int = DEFAULT_MAX_MEMORY) -> dict:
    """Check ``raw`` (a parsed TOML document) against :data:`SCHEMA` and return the resolved
    configuration: every section and key present, defaults filled in, cross-key rules applied,
    and the memory the run would need within ``max_memory`` bytes. Every problem is collected
    first; one :class:`ExperimentError` reports them all."""
    errors: list[str] = []
    cfg = _keys(raw, errors)
    if not errors:
        _rules(cfg, errors)
    if not errors:
        if cfg["data"]["basis"] != "none":     # how many features the basis would make
            _, shape, _ = DATASET_INFO[cfg["data"]["dataset"]]
            n = basis_features(cfg["data"]["basis"], math.prod(shape),
                               cfg["data"]["basis_degree"], cfg["data"]["basis_size"])
            if n > MAX_BASIS_FEATURES:
                errors.append(f"[data] basis = {cfg['data']['basis']!r} with basis_degree = "
                              f"{cfg['data']['basis_degree']} makes {n:,} features of the "
                              f"{math.prod(shape)} columns; expected at most "
                              f"{MAX_BASIS_FEATURES:,}: lower basis_degree")
    if not errors:
        problem = memory_problem(memory_needed(cfg), max_memory,
                                 f"[model] {cfg['model']['name']!r} on {cfg['data']['dataset']!r}")
        if problem:
            errors.append(problem)
    if len(errors) == 1:
        raise ExperimentError(f"{path}: {errors[0]}")
    if errors:
        raise ExperimentError(f"{path}: {len(errors)} problems: "
                              + " ".join(f"({i}) {e}" for i, e in enumerate(errors, 1)))
    return cfg


def load(path: str, max_memory: int = DEFAULT_MAX_MEMORY) -> dict:
    """Read and validate an experiment file; raise :class:`ExperimentError` when it is wrong."""
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ExperimentError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExperimentError(f"{path}: is a folder; expected an experiment file (.toml)") from None
    except tomllib.TOMLDecodeError as e:
        raise ExperimentError(f"{path}: not valid TOML ({e})") from None
    except UnicodeDecodeError:
        raise ExperimentError(f"{path}: not a text file (not UTF-8); expected an experiment "
                              "file in TOML") from None
    except (OSError, RecursionError) as e:
        raise ExperimentError(f"{path}: cannot be read "
                              f"({getattr(e, 'strerror', None) or type(e).__name__})") from None
    return validate(raw, path, max_memory)
