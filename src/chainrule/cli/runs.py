"""The run folder that ``chainrule train`` writes and ``evaluate`` / ``predict`` read, in the
order it is written::

    RUN_DIR/config.json          the resolved configuration (every option, the data split, the
                                 input preprocessing), enough to rebuild the model and its data;
                                 written before the first epoch
    RUN_DIR/checkpoint.npz       after every epoch: the last epoch's full training state (model,
                                 optimizer, scheduler, callbacks, random states: what
                                 `chainrule train --resume` continues; chainrule.train.checkpoint,
                                 no pickle)
    RUN_DIR/best.npz             after every epoch that lowered the validation loss: that state
    RUN_DIR/history.json, .csv   after every epoch: loss, accuracy, validation loss/accuracy, lr,
                                 time per epoch so far
    RUN_DIR/metrics.json         at the end: the test-set metrics
    RUN_DIR/confusion_matrix.json  the test confusion matrix (classification)
    RUN_DIR/grad_norms.json      per-layer gradient norms over training: "step" and one list
                                 per layer with parameters (what figures/grad_norms.png draws)
    RUN_DIR/figures/*.png        loss and accuracy curves, confusion matrix, gradient norms
    RUN_DIR/tensorboard/         TensorBoard event files (only with the `tensorboard` extra)

A run that was interrupted (Ctrl-C, a kill) or diverged (NaN/Inf) keeps config.json and its
last complete epoch: `evaluate` reads it and `train --resume` continues it.

Every file but TensorBoard's event log (appended to as it goes, by the `tensorboard` package) is
written atomically by :mod:`chainrule._io` (temp file, fsync, rename), so a crash never leaves
half a file.
"""
from __future__ import annotations

import csv
import io
import json
import os

import numpy as np

from .._io import atomic_write_text
from ..train.callbacks import Callback


def write_json(path: str, obj) -> None:
    """``obj`` as indented JSON (NumPy scalars and arrays as plain numbers and lists)."""
    atomic_write_text(path, json.dumps(obj, indent=2, default=_jsonable) + "\n")


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot write {type(o).__name__} as JSON")


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_history(run_dir: str, history: dict) -> None:
    """history.json (dict of per-epoch lists) and history.csv (one row per epoch)."""
    write_json(os.path.join(run_dir, "history.json"), history)
    keys = list(history)
    rows = max((len(v) for v in history.values()), default=0)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(keys)
    for i in range(rows):
        w.writerow([history[k][i] if i < len(history[k]) else "" for k in keys])
    atomic_write_text(os.path.join(run_dir, "history.csv"), buf.getvalue())


class RunFiles(Callback):
    """Writes the run folder's history (history.json, history.csv) after every epoch, once
    the epoch's checkpoints are written (it comes after them in the callback list): a run
    stopped at any moment shows the epochs its checkpoint holds."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir

    def on_epoch_complete(self, trainer, epoch, logs):
        write_history(self.run_dir, trainer.history)


class Preprocess:
    """Input preprocessing fitted on the training split and saved in config.json:
    x ↦ (x / scale − mean) / std, with ``mean``/``std`` per feature (tabular data, fitted on
    the training split only) or scalars (images)."""

    def __init__(self, scale=1.0, mean=0.0, std=1.0):
        self.scale = float(scale)
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)

    @classmethod
    def fit(cls, X, scale=1.0, standardize=False):
        if not standardize:
            return cls(scale)
        Z = X.reshape(len(X), -1) / scale
        std = Z.std(axis=0)
        return cls(scale, Z.mean(axis=0), np.where(std > 0, std, 1.0))

    def __call__(self, X):
        shape = X.shape
        Z = X.reshape(len(X), -1).astype(np.float32) / np.float32(self.scale)
        return ((Z - self.mean) / self.std).astype(np.float32).reshape(shape)

    def to_dict(self):
        return {"scale": self.scale, "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d):
        return cls(d["scale"], d["mean"], d["std"])


def tensorboard_writer(log_dir: str):
    """A minimal scalar writer on the `tensorboard` package's event-file writer, or None when
    the `tensorboard` extra is not installed (then no event files are written)."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        return None

    class _Writer:
        def __init__(self):
            self._w = EventFileWriter(log_dir)

        def add_scalar(self, tag, value, step):
            import time
            summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
            self._w.add_event(Event(wall_time=time.time(), step=int(step), summary=summary))

        def close(self):
            self._w.close()

    return _Writer()


def write_tensorboard(log_dir: str, history: dict, metrics: dict, step: int) -> None:
    """The run's curves (every history key but ``epoch``, at its epoch) and its test metrics
    (as ``test/<name>`` at ``step``) as TensorBoard scalars; nothing without the extra."""
    tb = tensorboard_writer(log_dir)
    if tb is None:
        return
    for key, values in history.items():
        if key != "epoch":
            for epoch, v in zip(history.get("epoch", range(1, len(values) + 1)), values):
                tb.add_scalar(key, v, epoch)
    for key, v in metrics.items():
        tb.add_scalar(f"test/{key}", v, step)
    tb.close()


# ---------------------------------------------------------------------------- figures
def save_figures(run_dir: str, history: dict, confusion=None, class_names=None,
                 grad_norms=None, grad_steps=None) -> list[str]:
    """PNG figures of a run; returns their paths. Needs matplotlib (the `viz` extra)."""
    from ..demos._common import save_figure, subplots
    fig_dir = os.path.join(run_dir, "figures")
    paths = []
    epochs = history.get("epoch", list(range(1, len(history.get("loss", [])) + 1)))
    if history.get("loss"):
        fig, ax = subplots(figsize=(5, 3.5))
        ax.plot(epochs, history["loss"], "o-", ms=3, label="training loss")
        if history.get("val_loss"):
            ax.plot(epochs, history["val_loss"], "s-", ms=3, label="validation loss")
        ax.set_xlabel("epoch"), ax.set_ylabel("loss"), ax.set_yscale("log"), ax.legend()
        ax.set_title("Loss")
        paths.append(save_figure(fig, fig_dir, "loss"))
    acc_keys = [k for k in ("accuracy", "val_accuracy") if history.get(k)]
    if acc_keys:
        fig, ax = subplots(figsize=(5, 3.5))
        for k in acc_keys:
            ax.plot(epochs, history[k], "o-", ms=3, label=k.replace("_", " "))
        ax.set_xlabel("epoch"), ax.set_ylabel("accuracy"), ax.legend(), ax.set_title("Accuracy")
        paths.append(save_figure(fig, fig_dir, "accuracy"))
    if confusion is not None:
        cm = np.asarray(confusion)
        fig, ax = subplots(figsize=(4.5, 4))
        ax.imshow(cm, cmap="Blues")
        n = cm.shape[0]
        labels = class_names if class_names is not None else list(range(n))
        ax.set_xticks(range(n), labels), ax.set_yticks(range(n), labels)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
        ax.set_xlabel("predicted"), ax.set_ylabel("true"), ax.set_title("Confusion matrix (test)")
        paths.append(save_figure(fig, fig_dir, "confusion_matrix"))
    if grad_norms:
        fig, ax = subplots(figsize=(6, 3.5))
        for layer, norms in grad_norms.items():
            ax.plot(grad_steps[:len(norms)] if grad_steps else range(len(norms)), norms,
                    lw=1, label=layer)
        ax.set_yscale("log"), ax.set_xlabel("step"), ax.set_ylabel("‖∂L/∂θ‖ of the layer")
        ax.set_title("Per-layer gradient norms")
        ax.legend(fontsize=7, ncol=2)
        paths.append(save_figure(fig, fig_dir, "grad_norms"))
    return paths
