"""Callbacks: code that runs at fixed points of :class:`~chainrule.train.Trainer`'s loop.

The loop, per batch: forward → loss → backward → ``on_after_backward`` → optimizer step →
``on_batch_end``; per epoch: validation, the scheduler, ``on_epoch_end``, then
``on_epoch_complete`` (the epoch's state is final: where checkpoints are written).
"""
from __future__ import annotations

import copy
import math
import os
import warnings

import numpy as np

from ..nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from ..optim.lr_scheduler import ReduceLROnPlateau

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
           "GradientClipping", "GradientMonitor"]


class Callback:
    """Base class; override the hooks you need. ``trainer`` gives access to the model, the
    optimizer, ``trainer.epoch`` (completed epochs), ``trainer.global_step`` and the history.
    ``state_dict`` / ``load_state_dict`` let a resumed run continue the callback's state."""

    def on_fit_begin(self, trainer): pass
    def on_fit_end(self, trainer): pass
    def on_epoch_begin(self, trainer, epoch): pass
    def on_batch_begin(self, trainer, step): pass
    def on_after_backward(self, trainer, step): pass
    def on_batch_end(self, trainer, step, logs): pass
    def on_epoch_end(self, trainer, epoch, logs): pass
    def on_epoch_complete(self, trainer, epoch, logs): pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def _mode_for(monitor, mode, who):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if any(s in monitor for s in ("acc", "f1", "auc", "precision", "recall",
                                                    "r2")) else "min"
    return mode


def _monitored(logs, monitor, who):
    if monitor not in logs:
        raise KeyError(f"{who}: monitored quantity '{monitor}' is not in the epoch's logs "
                       f"(available: {sorted(logs)})")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs; optionally put back the best epoch's weights at the end.

    Args:
        monitor (str): a key of the epoch logs (``'val_loss'``, ``'val_accuracy'``, ``'loss'``…).
        min_delta (float): the smallest change that counts as an improvement.
        patience (int): epochs without improvement before stopping.
        mode: ``'min'``, ``'max'`` or ``'auto'`` (max for accuracy-like names).
        restore_best_weights (bool): load the best epoch's model weights when stopping.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False):
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.mode = _mode_for(monitor, mode, "EarlyStopping")
        self.restore_best_weights = restore_best_weights
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.best_weights = None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer, epoch, logs):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._improved(value):
            self.best, self.wait, self.best_epoch = value, 0, epoch
            if self.restore_best_weights:
                self.best_weights = {k: v._copy() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.wait = state["best"], state["wait"]
        self.best_epoch, self.stopped_epoch = state["best_epoch"], state["stopped_epoch"]
        self.best_weights = state["best_weights"]


class ModelCheckpoint(Callback):
    """Write a full training checkpoint (model, optimizer, scheduler, RNG states, epoch,
    history, callbacks) at the end of epochs, atomically.

    Args:
        filepath (str): where to write; may contain format fields of the epoch logs and
            ``{epoch}`` (completed epochs), e.g. ``"runs/ckpt-{epoch:03d}.npz"``. The extension
            picks the container: ``.npz`` or ``.safetensors``.
        monitor, mode: the quantity deciding the best epoch (for ``save_best_only``).
        save_best_only (bool): write only when ``monitor`` improved.
        every_n_epochs (int): write every n-th epoch.

    ``last_path`` and ``best_path`` name the files written.
    """

    def __init__(self, filepath, monitor="val_loss", mode="auto", save_best_only=False,
                 every_n_epochs=1):
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.mode = _mode_for(monitor, mode, "ModelCheckpoint")
        self.save_best_only = save_best_only
        self.every_n_epochs = every_n_epochs
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_path = None
        self.best_path = None

    def on_epoch_complete(self, trainer, epoch, logs):
        if epoch % self.every_n_epochs:
            return
        path = self.filepath.format(epoch=epoch, **logs)
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best, self.best_path = value, path
        self.last_path = path  # before saving, so the checkpoint records itself
        trainer.save_checkpoint(path)

    def state_dict(self):
        return {"best": self.best, "last_path": self.last_path, "best_path": self.best_path}

    def load_state_dict(self, state):
        self.best, self.last_path, self.best_path = (state["best"], state["last_path"],
                                                     state["best_path"])


class LearningRateScheduler(Callback):
    """Drive the learning rate from the loop.

    ``schedule`` is either a chainrule LR scheduler — stepped after each epoch
    (``interval='epoch'``) or each batch (``'step'``, e.g. OneCycleLR); a ReduceLROnPlateau
    is given ``logs[monitor]`` (default ``'val_loss'`` when there is validation data, else
    ``'loss'``) — or a function ``schedule(epoch, lr) -> lr`` applied to every parameter group
    at the start of each epoch (Keras style).
    """

    def __init__(self, schedule, interval="epoch", monitor=None):
        if interval not in ("epoch", "step"):
            raise ValueError(f"LearningRateScheduler: interval must be 'epoch' or 'step', got "
                             f"{interval!r}")
        self.schedule = schedule
        self.interval = interval
        self.monitor = monitor
        self._is_scheduler = hasattr(schedule, "step") and hasattr(schedule, "state_dict")
        if not self._is_scheduler and not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be an LR scheduler or a "
                            f"function (epoch, lr) -> lr, got {type(schedule).__name__}")

    def _plateau(self):
        return isinstance(self.schedule, ReduceLROnPlateau)

    def on_epoch_begin(self, trainer, epoch):
        if not self._is_scheduler:
            for group in trainer.optimizer.param_groups:
                group["lr"] = float(self.schedule(epoch, group["lr"]))

    def on_batch_end(self, trainer, step, logs):
        if self._is_scheduler and self.interval == "step":
            if self._plateau():
                self.schedule.step(logs["loss"])
            else:
                self.schedule.step()

    def on_epoch_end(self, trainer, epoch, logs):
        if self._is_scheduler and self.interval == "epoch":
            if self._plateau():
                monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
                self.schedule.step(_monitored(logs, monitor, "LearningRateScheduler"))
            else:
                self.schedule.step()

    def state_dict(self):
        return {"scheduler": self.schedule.state_dict()} if self._is_scheduler else {}

    def load_state_dict(self, state):
        if self._is_scheduler and "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])


class GradientClipping(Callback):
    """Clip gradients after backward, before the optimizer step — the remedy for exploding
    gradients: ``max_norm`` rescales all gradients jointly (:func:`clip_grad_norm_`),
    ``clip_value`` clamps each entry (:func:`clip_grad_value_`). ``last_norm`` is the total
    norm before clipping."""

    def __init__(self, max_norm=None, clip_value=None, norm_type=2.0, error_if_nonfinite=False):
        if max_norm is None and clip_value is None:
            raise ValueError("GradientClipping: give max_norm or clip_value")
        self.max_norm, self.clip_value = max_norm, clip_value
        self.norm_type, self.error_if_nonfinite = norm_type, error_if_nonfinite
        self.last_norm = None

    def on_after_backward(self, trainer, step):
        params = list(trainer.model.parameters())
        if self.max_norm is not None:
            self.last_norm = float(clip_grad_norm_(params, self.max_norm, self.norm_type,
                                                   self.error_if_nonfinite))
        if self.clip_value is not None:
            clip_grad_value_(params, self.clip_value)


class GradientMonitor(Callback):
    """Record the gradient norm of every layer at every step (every ``every`` steps), measured
    after backward and before any clipping — the deck's vanishing and exploding gradients made
    visible while training.

    A layer is a module owning parameters (``fc1`` for ``fc1.weight`` and ``fc1.bias``); its
    norm is ‖(∂L/∂θ for θ in the layer)‖₂. Norms below ``vanishing`` or above ``exploding``
    are flagged by :meth:`summary` and, with ``warn=True``, warned about once per layer.

    Attributes:
        steps: the global steps recorded.
        norms: dict layer → list of norms (one per recorded step).
    """

    def __init__(self, every=1, vanishing=1e-6, exploding=1e3, warn=False):
        self.every, self.vanishing, self.exploding, self.warn = every, vanishing, exploding, warn
        self.steps: list[int] = []
        self.norms: dict[str, list[float]] = {}
        self._warned = set()

    def on_after_backward(self, trainer, step):
        if step % self.every:
            return
        self.steps.append(step)
        for layer, sq in trainer.layer_grad_sq_norms().items():
            norm = math.sqrt(sq) if math.isfinite(sq) else sq
            self.norms.setdefault(layer, []).append(norm)
            if self.warn and layer not in self._warned and (norm < self.vanishing
                                                            or norm > self.exploding):
                self._warned.add(layer)
                kind = "vanishing" if norm < self.vanishing else "exploding"
                warnings.warn(f"GradientMonitor: {kind} gradient in layer '{layer}' at step "
                              f"{step} (norm {norm:.3g})", RuntimeWarning, stacklevel=2)

    def as_array(self) -> np.ndarray:
        """The norms as an array of shape (recorded steps, layers), layers in model order."""
        return np.array([self.norms[k] for k in self.norms]).T

    def summary(self) -> str:
        """A table: per layer, the first, median, last and max recorded norm, and a flag."""
        lines = [f"{'layer':<24}{'first':>11}{'median':>11}{'last':>11}{'max':>11}  flag"]
        for layer, vals in self.norms.items():
            v = np.asarray(vals)
            med = float(np.median(v))
            flag = ("vanishing" if med < self.vanishing else
                    "exploding" if med > self.exploding else "")
            lines.append(f"{layer:<24}{v[0]:>11.3e}{med:>11.3e}{v[-1]:>11.3e}{v.max():>11.3e}"
                         f"  {flag}")
        return "\n".join(lines)

    def state_dict(self):
        return {"steps": list(self.steps), "norms": copy.deepcopy(self.norms)}

    def load_state_dict(self, state):
        self.steps = list(state["steps"])
        self.norms = {k: list(v) for k, v in state["norms"].items()}
