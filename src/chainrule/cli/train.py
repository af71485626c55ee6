"""``chainrule train``: train a model on a data set and write a run folder.

The default is the main job of the project: a LeNet-style CNN on the 8×8 digits that
scikit-learn ships, trained with Adam for 40 epochs — about 5 s on 2 idle cores, ≥ 97% test
accuracy (98.61% with the default seed).

The data are split once, with the seed: 20% test (stratified), then 10% of the rest for
validation (per-epoch ``val_loss`` / ``val_accuracy``); data sets with their own test split
(MNIST, Fashion-MNIST, CIFAR-10) keep it. Inputs are preprocessed as the run folder records
(pixels divided by their maximum; feature vectors standardized on the training split only).

:func:`train` runs the job in steps, one function each: :func:`load_run_data` (load, split,
preprocess) → :func:`resolve_config` (what config.json records) → :func:`fit_estimator` or
:func:`fit_network` (the fit and the test scores) → :func:`test_metrics` →
:func:`write_run_folder`. :func:`main` adds the command line: :func:`config_from_args` checks
the options first, and the metrics table is printed last.
"""
from __future__ import annotations

import datetime
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import chainrule as cr

from ..backends import cpu
from ..nn import CrossEntropyLoss
from ..optim.lr_scheduler import CosineAnnealingLR
from ..train import Trainer
from ..train import progress as train_progress
from ..train.callbacks import EarlyStopping, GradientMonitor, ModelCheckpoint
from ..train.checkpoint import save_checkpoint
from ..utils.data import DataLoader, TensorDataset
from . import CLIError, factories, limits, schema
from ._compat import metric, train_test_split
from .estimators import estimator_scores, estimator_state, flat_inputs
from .paths import check_writable_dir, prepare_output_dir
from .runs import (Preprocess, RunFiles, save_figures, write_history, write_json,
                   write_tensorboard)

DEFAULTS = {"model": "lenet5", "dataset": "digits", "optimizer": "adam", "lr": None,
            "batch_size": "32", "epochs": 40, "seed": 0, "schedule": "constant",
            "weight_decay": 0.0, "patience": None, "data_dir": None}
# the options that define a run: `--resume` takes them from config.json, not the command line
RUN_OPTIONS = ("model", "dataset", "data_dir", "optimizer", "lr", "batch_size", "epochs",
               "schedule", "seed", "weight_decay", "patience")


def add_parser(sub):
    """Register ``chainrule train`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "train", help="train a model and write a run folder (default: LeNet-style CNN on digits)",
        description="Train a model and write a run folder: config.json first, then after every "
        "epoch history.json/.csv, checkpoint.npz (the last epoch: what --resume continues) and "
        "best.npz (the lowest validation loss); at the end metrics.json, figures/*.png "
        "(matplotlib) and tensorboard/ (only with the tensorboard extra). An interrupted or "
        "diverged run keeps its last complete epoch: `chainrule train --resume RUN_DIR` "
        "continues it. Default: a LeNet-style CNN on the 8x8 digits with Adam.")
    # every run option defaults to None here, so --resume can tell which ones were given
    p.add_argument("--model", metavar="NAME",
                   help="mlp, lenet5, resnet20, glm, perceptron, linear, or pkg.module:factory "
                   "(called as factory(input_shape=..., num_outputs=...); imported from "
                   "PYTHONPATH, not the current directory) (default: lenet5)")
    p.add_argument("--dataset", choices=factories.TRAIN_DATASETS,
                   help="(default: digits; mnist, fashion_mnist and cifar10 need --data-dir)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST / CIFAR-10 files")
    p.add_argument("--download", action="store_true",
                   help="download missing MNIST / Fashion-MNIST / CIFAR-10 files into --data-dir")
    p.add_argument("--optimizer", choices=list(factories.OPTIMIZER_SPECS),
                   help="(default: adam)")
    p.add_argument("--lr", type=limits.flag("lr"),
                   help="learning rate, > 0 (default: the optimizer's usual one, 1e-3 for adam)")
    p.add_argument("--weight-decay", type=limits.flag("weight_decay"),
                   help="L2 penalty of the optimizer, ≥ 0 (default: 0)")
    p.add_argument("--batch-size", type=limits.flag("batch_size", allow_full=True),
                   metavar="full|1|N", help="'full' = full-batch GD, 1 = stochastic GD, N = "
                   "mini-batches of N (default: 32)")
    p.add_argument("--epochs", type=limits.flag("epochs"), help="(default: 40)")
    p.add_argument("--patience", type=limits.flag("patience"), metavar="N",
                   help="early stopping: stop when the validation loss has not improved for N "
                   "epochs (default: train every epoch)")
    p.add_argument("--schedule", choices=("constant", "cosine"),
                   help="learning rate over the epochs: constant, or cosine annealing from "
                   "--lr to 0 (CosineAnnealingLR) (default: constant)")
    p.add_argument("--seed", type=limits.flag("seed"), help="(default: 0)")
    p.add_argument("--out", metavar="RUN_DIR",
                   help="run folder (default: runs/<date>-<time>-<model>-<dataset>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (default: refuse)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run from its last checkpoint, with the options "
                   "its config.json records; ends bit-identical to an uninterrupted run")
    p.add_argument("--trust-model-code", action="store_true",
                   help="with --resume: allow a run whose config.json names a model factory "
                   "(pkg.module:function) to import and run that code")
    p.add_argument("--max-memory", type=limits.parse_size, default=limits.DEFAULT_MAX_MEMORY,
                   metavar="SIZE", help="refuse configurations estimated to need more memory "
                   f"(default: {limits.format_size(limits.DEFAULT_MAX_MEMORY)})")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train data-parallel on N ranks (processes) under MPI (pip install "
                   "chainrule[distributed]); --batch-size stays the global batch, split N ways "
                   "(default: 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bars, no per-epoch lines")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.set_defaults(func=main)
    return p


def parse_batch_size(value) -> int | None:
    """'full' → None (the whole training set as one batch), else a positive int."""
    if str(value).lower() == "full":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not limits.RANGES["batch_size"].ok(n):
        raise CLIError(f"--batch-size must be 'full', 1 or a positive integer, got {value!r}")
    return n


def check_model_name(name: str, dataset: str) -> None:
    """Refuse an unknown model name, or a built-in model that cannot take ``dataset``'s inputs,
    before any data is loaded; a factory is imported and its signature checked."""
    if factories.is_factory_name(name):
        try:
            factories.load_factory(name)
        except ValueError as e:
            raise CLIError(f"--model {str(e).removeprefix('model: ')}") from None
        return
    if name not in factories.TRAIN_MODELS:
        raise CLIError(f"--model {name!r} is not a model; allowed: "
                       f"{', '.join(factories.TRAIN_MODELS)}, or pkg.module:factory"
                       + schema.did_you_mean(name, factories.TRAIN_MODELS))
    _, shape, outputs = limits.DATASET_INFO[dataset]
    if name in ("lenet5", "resnet20") and len(shape) != 3:
        raise CLIError(f"model {name!r} needs images (C, H, W); dataset {dataset!r} has feature "
                       f"vectors of shape {shape}; use --model mlp")
    if name in ("glm", "perceptron") and (outputs > 2 or (name == "perceptron" and outputs != 2)):
        raise CLIError(f"model {name!r} is a binary classifier{' (or, for glm, a regression)' if name == 'glm' else ''}; "
                       f"dataset {dataset!r} has {outputs} classes; use breast_cancer"
                       f"{' or diabetes' if name == 'glm' else ''}, or --model mlp")


def check_memory(config: dict, max_memory: int) -> None:
    """Refuse a configuration estimated to need more than ``max_memory`` bytes."""
    rows, shape, outputs = limits.DATASET_INFO[config["dataset"]]
    n_train = int(rows * (1 - TEST_SIZE) * (1 - VAL_SIZE))
    bs = parse_batch_size(config["batch_size"])
    batch = n_train if bs is None else min(bs, n_train)
    model = config["model"]
    if model not in ("lenet5", "resnet20"):
        shape = (int(np.prod(shape)),)
    problem = limits.memory_problem(
        limits.estimate_memory(model, shape, outputs, batch, rows),
        max_memory, f"--model {model} on --dataset {config['dataset']} with --batch-size "
        f"{config['batch_size']}")
    if problem:
        raise CLIError(problem)


def config_from_args(args) -> dict:
    """The training configuration (the keys of :data:`DEFAULTS`) from the command line, checked
    before any data is loaded, so a typo fails at once. The flags' types have checked their
    ranges (:mod:`.limits`); what ties options together is checked here."""
    config = {k: (getattr(args, k) if getattr(args, k) is not None else DEFAULTS[k])
              for k in RUN_OPTIONS}
    config["batch_size"] = str(config["batch_size"])
    parse_batch_size(config["batch_size"])
    check_model_name(config["model"], config["dataset"])
    if config["dataset"] in ("mnist", "fashion_mnist", "cifar10") and not config["data_dir"]:
        raise CLIError(f"dataset {config['dataset']!r} reads its files from --data-dir (the "
                       "folder holding them); none was given")
    check_memory(config, args.max_memory)
    return config


def config_for_resume(args) -> dict:
    """The configuration of the run ``--resume`` names, from its config.json; options that
    would change the run are refused (they must be those the run started with)."""
    from .runfolder import check_model_code, read_config
    given = [k for k in RUN_OPTIONS if getattr(args, k, None) is not None]
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise CLIError(f"--resume continues {args.resume} with the options its config.json "
                       f"records; drop {flags} (or start a new run with --out)")
    if args.out or args.overwrite:
        raise CLIError("--resume writes into the run folder it continues; drop --out / "
                       "--overwrite")
    saved = read_config(args.resume, for_resume=True)
    check_model_code(saved, os.path.join(args.resume, "config.json"), args.trust_model_code)
    if factories.is_factory_name(saved["model"]):
        check_model_name(saved["model"], saved["dataset"])
    config = {k: saved.get(k, DEFAULTS[k]) for k in RUN_OPTIONS}
    if config["batch_size"] is not None:
        config["batch_size"] = str(config["batch_size"])
    return config


# ---------------------------------------------------------------------------- data
# the held-out fractions: of all rows for the test split, then of the rest for validation
TEST_SIZE, VAL_SIZE = 0.2, 0.1


def split_data(data, seed: int, test_size=TEST_SIZE, val_size=VAL_SIZE):
    """Index arrays (train, val, test) into ``data.X`` — or (train, val, None) when the data
    set has its own test split. Stratified by class for classification."""
    idx = np.arange(len(data.X))
    strat = data.y if data.task == "classification" else None
    if data.X_test is None:
        idx, test = train_test_split(idx, test_size, strat, seed)
    else:
        test = None
    strat = data.y[idx] if data.task == "classification" else None
    train, val = train_test_split(idx, val_size, strat, seed + 1)
    return np.asarray(train), np.asarray(val), (None if test is None else np.asarray(test))


def prepared(data, split, preprocess):
    """{'train': (X, y), 'val': ..., 'test': ...} as preprocessed float32 arrays."""
    train, val, test = split
    out = {"train": (preprocess(data.X[train]), data.y[train]),
           "val": (preprocess(data.X[val]), data.y[val])}
    if test is not None:
        out["test"] = (preprocess(data.X[test]), data.y[test])
    else:
        out["test"] = (preprocess(data.X_test), data.y_test)
    return out


def loader(X, y, batch_size, shuffle, seed=0):
    """A DataLoader over the arrays (X, y) in batches of ``batch_size`` (None: the whole set,
    full-batch GD); shuffled with its own generator seeded by ``seed``, so the batch order
    depends on the seed alone, not on what drew from the global one."""
    ds = TensorDataset(cr.from_numpy(np.ascontiguousarray(X)), cr.from_numpy(np.asarray(y)))
    gen = cr.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(ds, batch_size=batch_size or max(len(ds), 1), shuffle=shuffle,
                      generator=gen)


def input_shape(data) -> tuple:
    """The shape of one sample: (C, H, W) for images, (features,) for tabular data."""
    return tuple(data.image_shape) if data.image_shape else (data.X.shape[1],)


def num_outputs(data) -> int:
    """The model's output size: one score per class, or one value for regression."""
    return len(data.classes) if data.task == "classification" else 1


@dataclass
class RunData:
    """A data set ready to train on: ``data`` as loaded (:class:`factories.Data`), the
    ``preprocess`` fitted on its training rows, and the preprocessed ``sets``
    {'train': (X, y), 'val': ..., 'test': ...}."""
    data: factories.Data
    preprocess: Preprocess
    sets: dict


def load_run_data(config: dict, download: bool = False) -> RunData:
    """Load the configured data set, split it with the seed and preprocess every split with
    what the training rows alone say (no test statistics leak into training)."""
    data = factories.load_data(config["dataset"], config.get("data_dir"), download)
    split = split_data(data, config["seed"])
    pre = Preprocess.fit(data.X[split[0]], scale=data.scale,
                         standardize=data.image_shape is None)
    return RunData(data, pre, prepared(data, split, pre))


def target_scale(y) -> tuple[float, float]:
    """(mean, std) of a regression target on the training rows (std 1 for a constant target):
    networks learn the standardized target, whose size does not depend on the data's units."""
    return float(y.mean()), float(y.std()) or 1.0


def standardized(y, scale) -> np.ndarray:
    """The target ``y`` as (y − mean) / std in float32, with ``scale`` from :func:`target_scale`."""
    mean, std = scale
    return ((y - mean) / std).astype(np.float32)


def resolve_config(config: dict, run: RunData, estimator: bool = False) -> dict:
    """config.json, written before fitting: the options as given, plus what the data decide
    (task, input shape, outputs, classes, preprocessing, split, the regression target's scale)
    and the learning rate used — enough to rebuild model and data, and to resume. An
    estimator (GLM, Perceptron) has no optimizer, learning rate, batches or epochs: None."""
    data = run.data
    resolved = dict(config)
    if estimator:
        resolved.update(optimizer=None, lr=None, batch_size=None, epochs=None,
                        weight_decay=None, patience=None, schedule=None)
    elif resolved["lr"] is None:
        resolved["lr"] = factories.default_lr(config["optimizer"])
    if data.task == "regression" and not estimator:
        resolved["target_scale"] = list(target_scale(run.sets["train"][1]))
    resolved.update({"task": data.task, "input_shape": list(input_shape(data)),
                     "num_outputs": num_outputs(data), "classes": data.classes,
                     "preprocess": run.preprocess.to_dict(),
                     "split": {"test_size": TEST_SIZE, "val_size": VAL_SIZE,
                               "seed": config["seed"],
                               "stratify": data.task == "classification"}})
    return resolved


# ---------------------------------------------------------------------------- metrics
def predicted_labels(scores: np.ndarray) -> np.ndarray:
    """Class labels from scores: the argmax of (N, C) class scores; (N,) labels pass through."""
    return scores.argmax(axis=1) if scores.ndim == 2 else scores


def test_metrics(task, y_true, scores) -> dict:
    """The metrics table: accuracy, macro precision/recall/F1, log-loss (classification) or
    MSE, MAE, R² (regression), from :mod:`chainrule.metrics`."""
    if task == "regression":
        pred = scores.reshape(-1)
        return {"mse": float(metric("mean_squared_error")(y_true, pred)),
                "mae": float(metric("mean_absolute_error")(y_true, pred)),
                "r2": float(metric("r2_score")(y_true, pred))}
    pred = predicted_labels(scores)
    out = {"accuracy": float(metric("accuracy")(y_true, pred)),
           "precision_macro": float(metric("precision")(y_true, pred, average="macro")),
           "recall_macro": float(metric("recall")(y_true, pred, average="macro")),
           "f1_macro": float(metric("f1")(y_true, pred, average="macro"))}
    if scores.ndim == 2:
        z = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        out["log_loss"] = float(metric("log_loss")(y_true, probs,
                                                   labels=list(range(scores.shape[1]))))
    return out


def confusion(run: RunData, scores: np.ndarray):
    """The test confusion matrix (true class × predicted class), or None for regression."""
    if run.data.task != "classification":
        return None
    return np.asarray(metric("confusion_matrix")(
        run.sets["test"][1], predicted_labels(scores),
        labels=list(range(len(run.data.classes)))))


def format_table(metrics: dict, title="test metrics") -> str:
    """The metrics as a two-column table; rates in percent, the rest to 4 decimals."""
    width = max(len(k) for k in metrics)
    lines = [title, "-" * (width + 12)]
    for k, v in metrics.items():
        shown = f"{v * 100:.2f}%" if k in ("accuracy", "precision_macro", "recall_macro",
                                           "f1_macro") else f"{v:.4f}"
        lines.append(f"{k:<{width}}  {shown:>10}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- fitting
@dataclass
class Fit:
    """What fitting leaves: the test ``scores`` (class scores (N, C), or predictions on the
    target's own scale), the ``state`` the checkpoint saves, the per-epoch ``history`` and the
    per-layer gradient norms over the recorded ``grad_steps`` (both empty for estimators)."""
    scores: np.ndarray
    state: dict
    history: dict = field(default_factory=dict)
    grad_norms: dict | None = None
    grad_steps: list | None = None


def fit_estimator(model, run: RunData, resolved: dict) -> Fit:
    """Fit a scikit-learn-style model (GLM, Perceptron) in one call on the training rows."""
    X, y = run.sets["train"]
    model.fit(flat_inputs(X), cr.from_numpy(y))
    resolved["family"] = getattr(model, "family", None)
    scores = estimator_scores(model, flat_inputs(run.sets["test"][0]),
                              run.data.task == "classification")
    return Fit(scores, {"model": estimator_state(model)})


class _MSE:
    """Mean squared error on (N, 1) outputs and (N,) targets."""

    def __call__(self, out, target):
        return ((out.reshape(-1) - target) ** 2).mean()


def gradient_monitor(n_train: int, batch_size: int | None, epochs: int) -> GradientMonitor:
    """A monitor recording the per-layer gradient norms about 300 times over the whole run
    (every step of a short one): enough points for the curve, a small grad_norms.json."""
    steps_per_epoch = max(1, -(-n_train // (batch_size or n_train)))
    return GradientMonitor(every=max(1, steps_per_epoch * epochs // 300))


def progress_output(epochs: int, quiet: bool):
    """How training shows its progress: (the Trainer's ``progress`` argument, callbacks).

    On a terminal, tqdm bars (the Trainer's auto mode); piped or logged, one plain line per
    epoch, since carriage-return bars would fill a log file with partial lines; ``quiet``:
    nothing. The terminal test is :func:`chainrule.train.progress.is_tty`, the Trainer's own.
    """
    if quiet:
        return False, []
    if train_progress.is_tty(sys.stderr):
        return None, []
    return False, [train_progress.EpochLines(epochs)]


def lr_schedule(optimizer, config: dict):
    """The learning-rate scheduler of ``--schedule``: cosine annealing to 0 over the epochs,
    or None for a constant rate."""
    if config.get("schedule", "constant") == "cosine":
        return CosineAnnealingLR(optimizer, T_max=config["epochs"])
    return None


def layer_names(model, norms: dict) -> dict:
    """Gradient norms keyed "3 (Conv2d)" instead of "3": which kind of layer each curve is."""
    kinds = dict(model.named_modules()) if hasattr(model, "named_modules") else {}
    return {(f"{k} ({type(kinds[k]).__name__})" if k in kinds else k): v
            for k, v in norms.items()}


def checkpoint_path(run_dir: str, which: str = "last") -> str:
    """The run folder's checkpoint: ``last`` (checkpoint.npz, what --resume continues) or
    ``best`` (best.npz, the epoch of the lowest validation loss)."""
    return os.path.join(run_dir, "checkpoint.npz" if which == "last" else "best.npz")


def make_trainer(model, run: RunData, config: dict, resolved: dict, run_dir: str, quiet: bool):
    """The Trainer of a run and its callbacks, built the same way for a new run and a resumed
    one (a checkpoint's callback states are matched by type and order): the gradient monitor,
    early stopping (--patience), the last and best checkpoints and the history files written
    after every epoch, and the progress lines."""
    classification = run.data.task == "classification"
    optimizer = factories.make_optimizer(config["optimizer"], model.parameters(), resolved["lr"],
                                         config.get("weight_decay") or 0.0)
    batch_size = parse_batch_size(config["batch_size"])
    monitor = gradient_monitor(len(run.sets["train"][0]), batch_size, config["epochs"])
    progress, lines = progress_output(config["epochs"], quiet or ranks()[0] != 0)
    stopping = ([EarlyStopping("val_loss", patience=config["patience"])]
                if config.get("patience") else [])
    files = [ModelCheckpoint(checkpoint_path(run_dir, "last")),
             ModelCheckpoint(checkpoint_path(run_dir, "best"), monitor="val_loss",
                             save_best_only=True),
             RunFiles(run_dir)]
    if ranks()[0] != 0:     # rank 0 writes the run folder (Trainer.save_checkpoint, too)
        files = files[:2]
    trainer = Trainer(model, CrossEntropyLoss() if classification else _MSE(), optimizer,
                      scheduler=lr_schedule(optimizer, config),
                      metrics=["accuracy"] if classification else None,
                      callbacks=[monitor] + stopping + files + lines, progress=progress)
    return trainer, monitor


def resume_state(run_dir: str, trainer) -> int | None:
    """Load the last checkpoint of ``run_dir`` into ``trainer``; returns the epoch to stop
    after when early stopping had already ended the run, None to train on, and does nothing
    when the run stopped before its first checkpoint (it starts from epoch 0 again)."""
    from .runfolder import read_checkpoint
    path = checkpoint_path(run_dir, "last")
    if not os.path.exists(path):
        return None
    state = read_checkpoint(path, for_resume=True)
    try:
        trainer.load_state_dict(state)
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError, AttributeError,
            OverflowError) as e:
        raise CLIError(f"--resume: {path} does not fit the run config.json describes "
                       f"({type(e).__name__}: {e}); start a new run with --out") from None
    for entry in state.get("callbacks", []):
        if entry.get("type") == "EarlyStopping" and entry["state"].get("stopped_epoch"):
            return int(state["epoch"])
    return None


def fit_network(model, run: RunData, config: dict, resolved: dict, quiet: bool,
                run_dir: str, resume: bool = False) -> Fit:
    """Train a network with the configured optimizer, batch size, epochs and schedule: cross
    entropy for classes, MSE on the standardized target for regression, validation after each
    epoch, the per-layer gradient norms recorded, and the run folder's checkpoints and history
    written after every epoch. ``resume``: continue from the folder's last checkpoint.
    Returns the test scores on the target's own scale."""
    classification = run.data.task == "classification"
    sets = dict(run.sets)
    if not classification:
        for k in ("train", "val"):
            sets[k] = (sets[k][0], standardized(sets[k][1], resolved["target_scale"]))
    trainer, monitor = make_trainer(model, run, config, resolved, run_dir, quiet)
    epochs = config["epochs"]
    if resume:
        epochs = resume_state(run_dir, trainer) or epochs
    history = trainer.fit(loader(*sets["train"], rank_batch_size(config, len(sets["train"][0])),
                                 shuffle=True, seed=config["seed"]),
                          loader(*sets["val"], 512, shuffle=False), epochs=epochs)
    state = trainer.state_dict()        # as training left it: the checkpoint a resume needs
    scores = trainer.predict(loader(*sets["test"], 512, shuffle=False)).numpy()
    if not classification:
        mean, std = resolved["target_scale"]
        scores = scores * std + mean
    return Fit(scores, state, history, layer_names(model, monitor.norms), monitor.steps)


# ---------------------------------------------------------------------------- the run folder
def _run_dir(args) -> str:
    """``--out``, or runs/<date>-<time>-<model>-<dataset> (a factory path made file-safe)."""
    if args.out:
        return args.out
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    model = (args.model or DEFAULTS["model"]).replace(":", "-").replace(".", "-")
    return os.path.join("runs", f"{stamp}-{model}-{args.dataset or DEFAULTS['dataset']}")


def write_run_folder(run_dir: str, config: dict, resolved: dict, run: RunData, fit: Fit,
                     metrics: dict, figures: bool = True) -> None:
    """Finish the run folder (see :mod:`chainrule.cli.runs`; config.json, the checkpoints and
    the history are already there for networks): an estimator's checkpoint, the metrics,
    gradient norms, confusion matrix, figures (unless ``figures`` is False, or without
    matplotlib) and TensorBoard scalars (with the extra)."""
    if not fit.history:             # an estimator: no epochs, one checkpoint at the end
        save_checkpoint(fit.state, checkpoint_path(run_dir, "last"))
    write_history(run_dir, fit.history)
    write_json(os.path.join(run_dir, "metrics.json"), metrics)
    if fit.grad_norms is not None:
        write_json(os.path.join(run_dir, "grad_norms.json"),
                   {"step": fit.grad_steps, **fit.grad_norms})
    matrix = confusion(run, fit.scores)
    if matrix is not None:
        write_json(os.path.join(run_dir, "confusion_matrix.json"), matrix.tolist())
    if figures:
        try:
            save_figures(run_dir, fit.history, matrix, run.data.classes, fit.grad_norms,
                         fit.grad_steps)
        except ImportError as e:      # matplotlib missing: the run itself is complete
            print(f"figures skipped: {e}")
    write_tensorboard(os.path.join(run_dir, "tensorboard"), fit.history, metrics,
                      resolved.get("epochs") or 0)


# ---------------------------------------------------------------------------- data parallel
RANKS_ENV = "CHAINRULE_TRAIN_NPROC"    # set for the ranks `chainrule train --nproc N` starts


def ranks() -> tuple[int, int]:
    """(this rank, the number of ranks): (0, 1) unless a process group is up."""
    from .. import distributed as dist
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def rank_batch_size(config: dict, n_train: int) -> int | None:
    """The batch each rank takes: the global --batch-size divided by the number of ranks
    ('full' on N ranks: each rank's whole shard, ⌈n/N⌉)."""
    return split_batch(parse_batch_size(config["batch_size"]), n_train, "--batch-size")


def split_batch(bs: int | None, n_train: int, what: str) -> int | None:
    """``bs`` (None: the whole data set) divided over the ranks of the process group."""
    world = ranks()[1]
    if world == 1:
        return bs
    if bs is None:
        return -(-n_train // world)
    check_split(bs, world, what)
    return bs // world


def check_split(bs: int | None, nproc: int, what: str) -> None:
    if bs is not None and bs % nproc:
        raise CLIError(f"{what} {bs} does not split over --nproc {nproc} ranks; give a "
                       f"multiple of {nproc}")


def launch_ranks(nproc: int, argv: list, batch_size: int | None, what: str) -> int:
    """Run this command again (``argv``, the chainrule command line) on ``nproc`` ranks under
    MPI (chainrule.distributed.launch); returns mpiexec's exit status (0: every rank did)."""
    from .. import distributed as dist
    check_split(batch_size, nproc, what)
    if not dist.is_available():
        raise CLIError("--nproc needs mpi4py and Open MPI: pip install chainrule[distributed]")
    argv = [a for a in argv if a != "--overwrite"]   # the launcher prepared the folder, once
    os.environ[RANKS_ENV] = str(nproc)
    try:
        return dist.launch(nproc, ["-m", "chainrule"] + argv)
    finally:
        del os.environ[RANKS_ENV]


def in_launched_rank(args) -> bool:
    """Whether this process is one of the ranks ``--nproc`` started (then it joins the group);
    checks ``--nproc``."""
    nproc = getattr(args, "nproc", 1)
    if not isinstance(nproc, int) or nproc < 1:
        raise CLIError(f"--nproc must be a positive number of ranks, got {nproc!r}")
    if nproc > 1 and os.environ.get(RANKS_ENV) == str(nproc):
        join_ranks(nproc)
        return True
    return False


def join_ranks(nproc: int) -> None:
    """In a rank that `chainrule train --nproc N` started: join the process group."""
    from .. import distributed as dist
    dist.init_process_group("mpi")
    if dist.get_world_size() != nproc:
        raise CLIError(f"--nproc {nproc}: this job has {dist.get_world_size()} MPI ranks")


# ---------------------------------------------------------------------------- the job
def train(config: dict, run_dir: str, quiet: bool = False, figures: bool = True,
          resume: bool = False, download: bool = False) -> dict:
    """Train as ``config`` says (the keys of :data:`DEFAULTS`), write the run folder
    ``run_dir`` — config.json first, then after every epoch the checkpoints and the history,
    the rest at the end — and return the test metrics (with ``train_seconds``: data, model and
    fit, up to the test metrics). ``resume``: continue the run in ``run_dir`` from its last
    checkpoint (config.json is kept as it is)."""
    cr.manual_seed(config["seed"])
    t_start = time.perf_counter()
    run = load_run_data(config, download)
    try:
        model = factories.build_model(config["model"], input_shape(run.data),
                                      num_outputs(run.data))
    except MemoryError:
        raise CLIError(f"--model {config['model']}: out of memory while building the model; "
                       "use a smaller one") from None
    estimator = factories.is_estimator(model)
    resolved = resolve_config(config, run, estimator)
    rank, world = ranks()
    if not resume and rank == 0:
        write_json(os.path.join(run_dir, "config.json"), resolved)
    if estimator and world > 1:
        raise CLIError(f"--nproc {world}: --model {config['model']} is fitted in closed form "
                       "or by its own rule, not by gradient steps; drop --nproc")
    if estimator:
        fit = fit_estimator(model, run, resolved)
    else:
        fit = fit_network(model, run, config, resolved, quiet, run_dir, resume)
    metrics = test_metrics(run.data.task, run.sets["test"][1], fit.scores)
    metrics["train_seconds"] = round(time.perf_counter() - t_start, 2)
    if rank == 0:
        write_run_folder(run_dir, config, resolved, run, fit, metrics, figures)
    return metrics


def _epochs_done(run_dir: str) -> int:
    """How many epochs the run folder's history records (0 when none)."""
    from .runs import read_json
    try:
        return len(read_json(os.path.join(run_dir, "history.json")).get("epoch", []))
    except (OSError, ValueError, AttributeError):
        return 0


def main(args) -> int:
    """``chainrule train``: check the options and the output folder, train, print the metrics
    table and where the run folder is. Data and model errors, a diverged run and unwritable
    paths become user errors (exit status 2, one line); Ctrl-C exits with 130 and says how to
    resume."""
    from ..train import NonFiniteError
    in_rank = in_launched_rank(args)
    nproc = args.nproc
    if args.resume:
        config = config_for_resume(args)
        run_dir = args.resume
        check_writable_dir(run_dir, "--resume")
    else:
        config = config_from_args(args)
        run_dir = _run_dir(args)
        if not in_rank:               # the launcher prepared it for the ranks
            prepare_output_dir(run_dir, "--out", args.overwrite)
    if nproc > 1 and not in_rank:
        argv = list(getattr(args, "argv", None) or sys.argv[1:])
        if not args.resume and not args.out:
            argv += ["--out", run_dir]        # one folder for all ranks (the default is timed)
        return launch_ranks(nproc, argv, parse_batch_size(config["batch_size"]), "--batch-size")
    resume_hint = f"chainrule train --resume {run_dir}"
    # only the options that differ from train()'s defaults, so code wrapping train() with its
    # original signature (config, run_dir, quiet, figures) keeps working
    extra = {k: True for k, v in (("resume", args.resume), ("download", args.download)) if v}
    try:
        with cpu.tuned():   # the CPU settings of backends.cpu while the command runs
            metrics = train(config, run_dir, quiet=args.quiet, figures=not args.no_figures,
                            **extra)
    except NonFiniteError as e:
        done = _epochs_done(run_dir)
        kept = (f"{run_dir} keeps the last finite epoch ({done}): `chainrule evaluate "
                f"{run_dir}` reads it" if done else f"no epoch finished, so {run_dir} holds "
                "config.json only")
        lr = config["lr"] if config["lr"] is not None else factories.default_lr(
            config["optimizer"])
        raise CLIError(f"training diverged: {e}; {kept}. Lower --lr (it was {lr:g})"
                       + (f" or --weight-decay ({config['weight_decay']})"
                          if config.get("weight_decay") else "") + ", or try another "
                       "--optimizer") from None
    except KeyboardInterrupt:
        if not os.path.exists(os.path.join(run_dir, "config.json")):
            print("chainrule train: interrupted before training started; nothing to resume",
                  file=sys.stderr)
            return 130
        done = _epochs_done(run_dir)
        print(f"chainrule train: interrupted after {done} complete epoch(s); {run_dir} keeps "
              f"them — continue with: {resume_hint}", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    except ImportError as e:
        raise CLIError(f"{e}") from None
    except OSError as e:
        raise CLIError(f"cannot write the run folder {run_dir}: {e.strerror or e}"
                       + (f" ({e.filename})" if e.filename else "")) from None
    if ranks()[0] != 0:
        return 0
    print(format_table({k: v for k, v in metrics.items() if k != "train_seconds"}))
    print(f"run folder: {run_dir}  ({metrics['train_seconds']:.1f} s)")
    if "accuracy" in metrics:
        print(f"test accuracy: {metrics['accuracy'] * 100:.2f}%")
    return 0
