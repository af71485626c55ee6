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
from ..train.callbacks import GradientMonitor
from ..train.checkpoint import save_checkpoint
from ..utils.data import DataLoader, TensorDataset
from . import CLIError, factories
from ._compat import metric, train_test_split
from .estimators import estimator_scores, estimator_state, flat_inputs
from .runs import Preprocess, save_figures, write_history, write_json, write_tensorboard

DEFAULTS = {"model": "lenet5", "dataset": "digits", "optimizer": "adam", "lr": None,
            "batch_size": "32", "epochs": 40, "seed": 0, "schedule": "constant"}


def add_parser(sub):
    """Register ``chainrule train`` and its options on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "train", help="train a model and write a run folder (default: LeNet-style CNN on digits)",
        description="Train a model and write a run folder: config.json, history.json/.csv, "
        "metrics.json, checkpoint.npz, figures/*.png (matplotlib), tensorboard/ (only with the "
        "tensorboard extra). Default: a LeNet-style CNN on the 8x8 digits with Adam.")
    p.add_argument("--model", default=DEFAULTS["model"], metavar="NAME",
                   help="mlp, lenet5, resnet20, glm, perceptron, linear, or pkg.module:factory "
                   "(called as factory(input_shape=..., num_outputs=...)) (default: lenet5)")
    p.add_argument("--dataset", default=DEFAULTS["dataset"], choices=factories.TRAIN_DATASETS,
                   help="(default: digits; mnist, fashion_mnist and cifar10 need --data-dir)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST / CIFAR-10 files")
    p.add_argument("--optimizer", default=DEFAULTS["optimizer"],
                   choices=list(factories.OPTIMIZER_SPECS), help="(default: adam)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: the optimizer's usual one, 1e-3 for adam)")
    p.add_argument("--batch-size", default=DEFAULTS["batch_size"], metavar="full|1|N",
                   help="'full' = full-batch GD, 1 = stochastic GD, N = mini-batches of N "
                   "(default: 32)")
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], help="(default: 40)")
    p.add_argument("--schedule", default=DEFAULTS["schedule"], choices=("constant", "cosine"),
                   help="learning rate over the epochs: constant, or cosine annealing from "
                   "--lr to 0 (CosineAnnealingLR) (default: constant)")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="(default: 0)")
    p.add_argument("--out", metavar="RUN_DIR",
                   help="run folder (default: runs/<date>-<time>-<model>-<dataset>)")
    p.add_argument("--quiet", action="store_true", help="no progress bars, no per-epoch lines")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.set_defaults(func=main)
    return p


def parse_batch_size(value) -> int | None:
    """'full' → None (the DataLoader's whole-data-set batch), else a positive int."""
    if str(value).lower() == "full":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise CLIError(f"--batch-size must be 'full', 1 or a positive integer, got {value!r}")
    return n


def config_from_args(args) -> dict:
    """The training configuration (the keys of :data:`DEFAULTS` plus ``data_dir``) from the
    command line, checked before any data is loaded, so a typo fails at once."""
    if args.epochs < 1:
        raise CLIError(f"--epochs must be ≥ 1, got {args.epochs}")
    parse_batch_size(args.batch_size)
    return {"model": args.model, "dataset": args.dataset, "optimizer": args.optimizer,
            "lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs,
            "seed": args.seed, "data_dir": args.data_dir, "schedule": args.schedule}


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
    """A DataLoader over the arrays (X, y); shuffled with its own generator seeded by ``seed``,
    so the batch order depends on the seed alone, not on what drew from the global one."""
    ds = TensorDataset(cr.from_numpy(np.ascontiguousarray(X)), cr.from_numpy(np.asarray(y)))
    gen = cr.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=gen)


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


def load_run_data(config: dict) -> RunData:
    """Load the configured data set, split it with the seed and preprocess every split with
    what the training rows alone say (no test statistics leak into training)."""
    data = factories.load_data(config["dataset"], config.get("data_dir"))
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


def resolve_config(config: dict, run: RunData) -> dict:
    """config.json before fitting: the options as given, plus what the data decide (task,
    input shape, outputs, classes, preprocessing, split) — enough to rebuild model and data.
    Fitting adds what it settles (the learning rate used, the target's scale, ...)."""
    data = run.data
    resolved = dict(config)
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
    """Fit a scikit-learn-style model (GLM, Perceptron) in one call on the training rows; it
    has no optimizer, learning rate, batches or epochs, which ``resolved`` records as None."""
    X, y = run.sets["train"]
    model.fit(flat_inputs(X), cr.from_numpy(y))
    resolved["family"] = getattr(model, "family", None)
    resolved["optimizer"] = resolved["lr"] = resolved["batch_size"] = None
    resolved["epochs"] = None
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


def fit_network(model, run: RunData, config: dict, resolved: dict, quiet: bool) -> Fit:
    """Train a network with the configured optimizer, batch size, epochs and schedule: cross
    entropy for classes, MSE on the standardized target for regression, validation after each
    epoch and the per-layer gradient norms recorded. Records the learning rate used (and the
    target's scale) in ``resolved``; returns the test scores on the target's own scale."""
    classification = run.data.task == "classification"
    sets = dict(run.sets)
    optimizer = factories.make_optimizer(config["optimizer"], model.parameters(), config["lr"])
    resolved["lr"] = optimizer.param_groups[0]["lr"]
    if not classification:
        scale = target_scale(sets["train"][1])
        resolved["target_scale"] = list(scale)
        for k in ("train", "val"):
            sets[k] = (sets[k][0], standardized(sets[k][1], scale))
    batch_size = parse_batch_size(config["batch_size"])
    monitor = gradient_monitor(len(sets["train"][0]), batch_size, config["epochs"])
    progress, lines = progress_output(config["epochs"], quiet)
    trainer = Trainer(model, CrossEntropyLoss() if classification else _MSE(), optimizer,
                      scheduler=lr_schedule(optimizer, config),
                      metrics=["accuracy"] if classification else None,
                      callbacks=[monitor] + lines, progress=progress)
    history = trainer.fit(loader(*sets["train"], batch_size, shuffle=True, seed=config["seed"]),
                          loader(*sets["val"], 512, shuffle=False), epochs=config["epochs"])
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
    model = args.model.replace(":", "-").replace(".", "-")
    return os.path.join("runs", f"{stamp}-{model}-{args.dataset}")


def write_run_folder(run_dir: str, config: dict, resolved: dict, run: RunData, fit: Fit,
                     metrics: dict, figures: bool = True) -> None:
    """Write the run folder (see :mod:`chainrule.cli.runs`): checkpoint, config, history,
    metrics, gradient norms, confusion matrix, figures (unless ``figures`` is False, or
    without matplotlib) and TensorBoard scalars (with the extra)."""
    save_checkpoint(fit.state, os.path.join(run_dir, "checkpoint.npz"))
    write_json(os.path.join(run_dir, "config.json"), resolved)
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
                      config["epochs"] or 0)


# ---------------------------------------------------------------------------- the job
def train(config: dict, run_dir: str, quiet: bool = False, figures: bool = True) -> dict:
    """Train as ``config`` says (the keys of :data:`DEFAULTS` plus ``data_dir``), write the
    run folder ``run_dir`` and return the test metrics (with ``train_seconds``: data, model
    and fit, up to the test metrics)."""
    cr.manual_seed(config["seed"])
    t_start = time.perf_counter()
    run = load_run_data(config)
    model = factories.build_model(config["model"], input_shape(run.data), num_outputs(run.data))
    os.makedirs(run_dir, exist_ok=True)    # an unusable --out fails before the training
    resolved = resolve_config(config, run)
    if factories.is_estimator(model):
        fit = fit_estimator(model, run, resolved)
    else:
        fit = fit_network(model, run, config, resolved, quiet)
    metrics = test_metrics(run.data.task, run.sets["test"][1], fit.scores)
    metrics["train_seconds"] = round(time.perf_counter() - t_start, 2)
    write_run_folder(run_dir, config, resolved, run, fit, metrics, figures)
    return metrics


def main(args) -> int:
    """``chainrule train``: check the options, train, print the metrics table and where the
    run folder is; data and model errors become user errors (exit status 2, no traceback)."""
    config = config_from_args(args)
    run_dir = _run_dir(args)
    try:
        with cpu.tuned():   # the CPU settings of backends.cpu while the command runs
            metrics = train(config, run_dir, quiet=args.quiet, figures=not args.no_figures)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    print(format_table({k: v for k, v in metrics.items() if k != "train_seconds"}))
    print(f"run folder: {run_dir}  ({metrics['train_seconds']:.1f} s)")
    if "accuracy" in metrics:
        print(f"test accuracy: {metrics['accuracy'] * 100:.2f}%")
    return 0
