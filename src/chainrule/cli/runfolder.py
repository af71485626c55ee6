"""Reading a run folder back — for ``evaluate``, ``predict`` and ``train --resume`` — as data
from a stranger: every file is checked before it is used, and what is wrong with it is one
:class:`~chainrule.cli.CLIError` naming the file, the key and what was expected.

A run folder is data: config.json (JSON) and checkpoints (.npz arrays plus JSON metadata; no
pickle). The one thing in it that can be code is the model's name: ``"pkg.module:factory"``
names a Python function that would be imported and called. :func:`load_model` rebuilds only
the built-in models unless the user passed ``--trust-model-code`` (the ecosystem's name for
the same choice, from ``trust_remote_code``), so opening a folder someone sent you never runs
their code.
"""
from __future__ import annotations

import math
import os

import numpy as np

from . import CLIError, factories, limits

MAX_CONFIG_BYTES = 16 * 2 ** 20     # a config.json is a few kB; a huge one is not a run's
TRUST_HINT = "--trust-model-code"


# ---------------------------------------------------------------------------- config.json
def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_config(cfg: dict, for_resume: bool) -> list[str]:
    """Every problem of a config.json as text (``key: expected ..., got ...``)."""
    errors = []

    def bad(key, expected):
        got = cfg.get(key, "<missing>")
        shown = repr(got) if len(repr(got)) <= 40 else repr(got)[:37] + "..."
        errors.append(f"{key}: expected {expected}, got {shown}" if key in cfg
                      else f"{key} is missing (expected {expected})")

    model = cfg.get("model")
    if not isinstance(model, str) or not (model in factories.TRAIN_MODELS
                                          or factories.is_factory_name(model)):
        bad("model", "one of " + ", ".join(factories.TRAIN_MODELS) + " or pkg.module:factory")
    if cfg.get("dataset") not in factories.TRAIN_DATASETS:
        bad("dataset", "one of " + ", ".join(factories.TRAIN_DATASETS))
    if cfg.get("task") not in ("classification", "regression"):
        bad("task", "'classification' or 'regression'")
    shape = cfg.get("input_shape")
    shape_ok = (isinstance(shape, list) and len(shape) in (1, 3)
                and all(_int(d) and 1 <= d <= 100_000 for d in shape)
                and math.prod(shape) <= 10 ** 8)
    if not shape_ok:
        bad("input_shape", "a list of 1 or 3 sizes ≥ 1 (features, or channels, height, width)")
    n_out = cfg.get("num_outputs")
    if not (_int(n_out) and 1 <= n_out <= 100_000):
        bad("num_outputs", "an integer ≥ 1")
    classes = cfg.get("classes")
    if cfg.get("task") == "classification":
        if not (isinstance(classes, list) and _int(n_out) and len(classes) == n_out):
            bad("classes", "a list of one name per output")
    pre = cfg.get("preprocess")
    if not isinstance(pre, dict):
        bad("preprocess", "an object with scale, mean and std")
    else:
        features = math.prod(shape) if shape_ok else None
        if not (_number(pre.get("scale")) and pre["scale"] > 0):
            errors.append(f"preprocess.scale: expected a number > 0, got {pre.get('scale')!r}")
        for key in ("mean", "std"):
            v = pre.get(key)
            flat = v if isinstance(v, list) else [v]
            if not (all(_number(x) for x in flat) and (not isinstance(v, list) or
                                                       len(v) in (features, 1))):
                errors.append(f"preprocess.{key}: expected a number or one number per feature "
                              f"({features}), got {str(v)[:40]}")
            elif key == "std" and any(x == 0 for x in flat):
                errors.append("preprocess.std: expected numbers ≠ 0 (inputs are divided by it)")
    split = cfg.get("split")
    if not (isinstance(split, dict) and limits.RANGES["seed"].ok(split.get("seed"))):
        bad("split", "an object with the seed of the test split")
    if "target_scale" in cfg:
        ts = cfg["target_scale"]
        if not (isinstance(ts, list) and len(ts) == 2 and all(_number(x) for x in ts)
                and ts[1] != 0):
            bad("target_scale", "[mean, std] of the regression target, std ≠ 0")
    if cfg.get("family") not in (None, "gaussian", "bernoulli", "poisson"):
        bad("family", "null, 'gaussian', 'bernoulli' or 'poisson'")
    if cfg.get("data_dir") is not None and not isinstance(cfg.get("data_dir"), str):
        bad("data_dir", "a folder path or null")
    if for_resume and cfg.get("model") not in ("glm", "perceptron"):   # estimators: no epochs
        checks = {"optimizer": (lambda v: isinstance(v, str) and v in factories.OPTIMIZER_SPECS,
                                "one of " + ", ".join(factories.OPTIMIZER_SPECS)),
                  "lr": (limits.RANGES["lr"].ok, limits.RANGES["lr"].what),
                  "epochs": (limits.RANGES["epochs"].ok, limits.RANGES["epochs"].what),
                  "seed": (limits.RANGES["seed"].ok, limits.RANGES["seed"].what),
                  "batch_size": (lambda v: str(v).lower() == "full" or (
                      str(v).isdigit() and limits.RANGES["batch_size"].ok(int(v))),
                      limits.RANGES["batch_size"].what),
                  "schedule": (lambda v: v in (None, "constant", "cosine"),
                               "'constant' or 'cosine'"),
                  "weight_decay": (lambda v: v is None or limits.RANGES["weight_decay"].ok(v),
                                   limits.RANGES["weight_decay"].what),
                  "patience": (lambda v: v is None or limits.RANGES["patience"].ok(v),
                               "null or " + limits.RANGES["patience"].what)}
        for key, (ok, what) in checks.items():
            if not ok(cfg.get(key)):
                bad(key, what)
    return errors


def _require_folder(run_dir: str, option: str = "RUN_DIR") -> None:
    if not os.path.exists(run_dir):
        raise CLIError(f"{option} {run_dir} does not exist; expected the folder `chainrule "
                       "train --out` wrote")
    if not os.path.isdir(run_dir):
        raise CLIError(f"{option} {run_dir} is a file; expected the folder `chainrule train "
                       "--out` wrote")


def read_config(run_dir: str, for_resume: bool = False) -> dict:
    """config.json of ``run_dir``, checked (see :func:`_check_config`); every problem is
    reported at once. ``for_resume`` also checks the training options."""
    _require_folder(run_dir, "--resume" if for_resume else "RUN_DIR")
    path = os.path.join(run_dir, "config.json")
    if not os.path.exists(path):
        raise CLIError(f"{run_dir} is not a run folder of `chainrule train`: {path} is missing")
    if os.path.isdir(path) or os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise CLIError(f"{path} is not a run's config.json (a folder, or over "
                       f"{MAX_CONFIG_BYTES // 2 ** 20} MiB)")
    import json
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CLIError(f"{path} is not valid JSON ({e}); the run folder is damaged") from None
    except RecursionError:
        raise CLIError(f"{path} is nested too deeply to be a run's config.json") from None
    except OSError as e:
        raise CLIError(f"{path} cannot be read ({e.strerror or e})") from None
    if not isinstance(cfg, dict):
        raise CLIError(f"{path} holds a JSON {type(cfg).__name__}; expected an object with the "
                       "run's options")
    if isinstance(cfg.get("task"), dict) or "training" in cfg:
        raise CLIError(f"{run_dir} is the folder of an experiment (`chainrule run --out`), not "
                       "of `chainrule train`; evaluate, predict and --resume read train runs")
    errors = _check_config(cfg, for_resume)
    if errors:
        raise CLIError(f"{path} is damaged: " + "; ".join(errors))
    return cfg


# ---------------------------------------------------------------------------- checkpoints
def read_checkpoint(path: str, for_resume: bool = False) -> dict:
    """The state in a checkpoint file, checked to hold a ``model`` of arrays (and, for a
    resume, the training state a Trainer needs)."""
    from ..tensor import Tensor
    from ..train.checkpoint import load_checkpoint
    if not os.path.exists(path):
        run_dir = os.path.dirname(path) or "."
        if os.path.basename(path) == "best.npz":
            raise CLIError(f"{path} is missing: the run has no best checkpoint (an estimator, or "
                           "a run stopped before its first epoch ended); use --checkpoint last")
        raise CLIError(f"{run_dir} has no checkpoint yet ({os.path.basename(path)} is missing): "
                       "the run stopped before its first epoch ended; continue it with "
                       f"`chainrule train --resume {run_dir}`")
    try:
        state = load_checkpoint(path)
    except ValueError as e:
        raise CLIError(f"{path} cannot be read: {e}") from None
    except (OSError, MemoryError) as e:
        raise CLIError(f"{path} cannot be read ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict):
        raise CLIError(f"{path} holds a {type(state).__name__}; expected a training state with "
                       "a 'model'")
    model = state.get("model")
    if not isinstance(model, dict) or not all(isinstance(k, str) and isinstance(
            v, (Tensor, np.ndarray)) for k, v in model.items()):
        raise CLIError(f"{path} has no model weights ('model': expected an object of named "
                       f"arrays, got {type(model).__name__})")
    if for_resume:
        need = {"epoch": int, "global_step": int, "optimizer": dict, "history": dict,
                "rng": dict, "callbacks": list}
        wrong = [k for k, t in need.items() if not isinstance(state.get(k), t)
                 or (t is int and isinstance(state.get(k), bool))]
        opt, rng = state.get("optimizer"), state.get("rng")
        if isinstance(opt, dict) and not (isinstance(opt.get("state"), dict)
                                          and isinstance(opt.get("param_groups"), list)
                                          and all(isinstance(g, dict)
                                                  for g in opt["param_groups"])):
            wrong.append("optimizer state / param_groups")
        if isinstance(rng, dict) and not (isinstance(rng.get("default"), Tensor)
                                          and isinstance(rng.get("loader"), list)
                                          and all(isinstance(g, Tensor) for g in rng["loader"])):
            wrong.append("rng default / loader")
        if wrong or not all(isinstance(c, dict) and "type" in c and isinstance(
                c.get("state"), dict) for c in state["callbacks"]):
            raise CLIError(f"{path} is not a full training checkpoint (bad or missing: "
                           f"{', '.join(wrong) or 'callbacks'}); it cannot be resumed")
    return state


# ---------------------------------------------------------------------------- the model
def check_model_code(config: dict, path: str, trust_model_code: bool) -> None:
    """Refuse a model that is code unless the user said ``--trust-model-code``."""
    name = config["model"]
    if factories.is_factory_name(name) and not trust_model_code:
        raise CLIError(f"{path} names the model {name!r}, which is Python code (a factory "
                       "function that would be imported and run); a run folder is opened as "
                       "data, so only the built-in models are rebuilt. If you trust this folder "
                       f"and that module, pass {TRUST_HINT}")


def load_model(run_dir: str, config: dict, trust_model_code: bool = False,
               which: str = "last"):
    """The model of a run folder with the weights of its checkpoint (``last`` or ``best``), in
    eval mode; every failure is a :class:`CLIError` naming the file."""
    cfg_path = os.path.join(run_dir, "config.json")
    check_model_code(config, cfg_path, trust_model_code)
    name, shape = config["model"], tuple(config["input_shape"])
    if not factories.is_factory_name(name):
        try:
            need = limits.estimate_memory(name, shape, config["num_outputs"], 1, 0)
        except ValueError as e:
            raise CLIError(f"{cfg_path}: {e}") from None
        problem = limits.memory_problem(need, limits.DEFAULT_MAX_MEMORY,
                                        f"{cfg_path}: model {name!r} for inputs {shape}")
        if problem:
            raise CLIError(problem.split("; make it smaller")[0] + "; the run folder is "
                           "damaged or not from chainrule train")
    try:
        model = factories.build_model(name, shape, config["num_outputs"],
                                      family=config.get("family"))
    except ValueError as e:
        raise CLIError(f"{cfg_path}: {e}") from None
    ckpt = os.path.join(run_dir, "checkpoint.npz" if which == "last" else "best.npz")
    state = read_checkpoint(ckpt)["model"]
    _load_weights(model, state, ckpt, cfg_path, math.prod(shape))
    return model


def _load_weights(model, state: dict, ckpt: str, cfg_path: str, features: int) -> None:
    arrays = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in state.items()}
    bad = [k for k, a in arrays.items() if a.dtype.kind not in "biuf" or not np.isfinite(a).all()]
    if bad:
        raise CLIError(f"{ckpt}: weights {', '.join(bad[:3])} hold NaN/Inf or non-numbers; the "
                       "checkpoint cannot make predictions")
    if factories.is_estimator(model) and not hasattr(model, "load_state_dict"):
        known = ("coef_", "intercept_")       # all a scikit-learn-style estimator keeps
        unknown = sorted(set(state) - set(known))
        if unknown or not state:
            raise CLIError(f"{ckpt} does not fit the {type(model).__name__} {cfg_path} "
                           f"describes: expected weights {', '.join(known)}, got "
                           f"{', '.join(sorted(state)) or 'none'}")
        sizes = {"coef_": features, "intercept_": 1}
        wrong = [f"{k} has {arrays[k].size} values, expected {n}" for k, n in sizes.items()
                 if k in arrays and arrays[k].size != n]
        if wrong:
            raise CLIError(f"{ckpt} does not fit the model {cfg_path} describes: "
                           + "; ".join(wrong))
        for k, a in arrays.items():
            setattr(model, k, a)
        return
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError) as e:
        reason = " ".join(str(e).split())
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        raise CLIError(f"{ckpt} does not fit the model {cfg_path} describes ({reason}); the "
                       "run folder is damaged") from None
    model.eval()
