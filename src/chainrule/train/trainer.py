"""The training loop (the deck's "3 steps of the neural network training loop"):

1. forward pass — a batch through the model to the loss L(y, y*);
2. backward pass — the chain rule from L back to every weight (``loss.backward()``);
3. weight update — the optimizer scales the gradients by the learning rate and steps,

repeated over mini-batches and epochs, with validation, metrics, learning-rate schedules,
callbacks, NaN/Inf detection, progress bars and resumable checkpoints around it.
"""
from __future__ import annotations

import contextlib
import math
import time

import numpy as np

from .. import distributed as dist
from .. import metrics as crm
from .._modes import no_grad
from ..backends import cpu
from ..nn.parallel import DistributedDataParallel
from ..optim.lr_scheduler import OneCycleLR
from ..random import default_generator, get_rng_state, set_rng_state
from ..tensor import Tensor
from ..utils.data import DataLoader, DistributedSampler, RandomSampler
from .callbacks import Callback, LearningRateScheduler
from .checkpoint import load_checkpoint, save_checkpoint
from .progress import Progress

__all__ = ["Trainer", "NonFiniteError"]


class NonFiniteError(FloatingPointError):
    """Training produced NaN or Inf. ``epoch``, ``step`` (global optimizer step, 1-based),
    ``layer`` (where it first appeared, or None) and ``where`` ('input', 'parameter', 'forward',
    'loss' or 'gradient') say where."""

    def __init__(self, message, *, epoch, step, layer, where):
        super().__init__(message)
        self.epoch, self.step, self.layer, self.where = epoch, step, layer, where


# ---------------------------------------------------------------------- metrics
# Metrics of these names compare class labels: model scores are turned into labels first.
_LABEL_METRICS = {"accuracy", "precision", "recall", "f1", "f1_score", "precision_score",
                  "recall_score", "accuracy_score", "confusion_matrix", "balanced_accuracy"}


def _to_labels(y_true, y_pred):
    """Scores → labels: argmax over classes for (N, C) scores; threshold 0.5 for (N,) or
    (N, 1) probabilities against binary labels; labels pass through."""
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] > 1:
        return y_pred.argmax(axis=-1)
    if y_pred.dtype.kind == "f":
        p = y_pred.reshape(y_true.shape) if y_pred.size == y_true.size else y_pred
        if np.all((p >= 0) & (p <= 1)):
            return (p >= 0.5).astype(y_true.dtype)
        return (p >= 0).astype(y_true.dtype)  # logits
    return y_pred


def _builtin_accuracy(y_true, y_pred):
    return float(np.mean(np.asarray(y_true).reshape(-1) == np.asarray(y_pred).reshape(-1)))


def _resolve_metrics(metrics) -> dict:
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        items = list(metrics.items())
    else:
        if isinstance(metrics, (str, Tensor)) or callable(metrics):
            metrics = [metrics]
        items = [(m if isinstance(m, str) else getattr(m, "__name__", f"metric{i}"), m)
                 for i, m in enumerate(metrics)]
    out = {}
    for name, m in items:
        if isinstance(m, str):
            fn = None
            try:
                fn = getattr(crm, m, None)
            except ImportError:
                pass
            if fn is None and m in ("accuracy", "acc"):
                fn = _builtin_accuracy
            if fn is None:
                raise ValueError(f"Trainer: unknown metric '{m}' (not in chainrule.metrics); "
                                 "pass a callable metric(y_true, y_pred) instead")
            if m in _LABEL_METRICS or fn is _builtin_accuracy:
                fn = _labels_then(fn)
            m = fn
        if not callable(m):
            raise TypeError(f"Trainer: metric '{name}' must be a callable metric(y_true, y_pred) "
                            f"or a name from chainrule.metrics, got {type(m).__name__}")
        out[name] = m
    return out


def _labels_then(fn):
    def metric(y_true, y_pred):
        return fn(y_true, _to_labels(y_true, y_pred))
    metric.__name__ = getattr(fn, "__name__", "metric")
    return metric


# ---------------------------------------------------------------------- helpers
def _unpack(batch):
    """A batch → (inputs tuple, target or None): ``x``, ``(x,)``, ``(x, y)``, ``(x1, x2, y)``."""
    if isinstance(batch, Tensor) or isinstance(batch, np.ndarray):
        return (batch,), None
    if isinstance(batch, (list, tuple)):
        if len(batch) == 1:
            return (batch[0],), None
        if len(batch) >= 2:
            return tuple(batch[:-1]), batch[-1]
    raise TypeError(f"Trainer: a batch must be a Tensor, (inputs, target) or (x1, ..., target); "
                    f"got {type(batch).__name__}"
                    + (f" of length {len(batch)}" if hasattr(batch, "__len__") else ""))


def _batch_len(inputs) -> int:
    x = inputs[0]
    return int(x.shape[0]) if getattr(x, "ndim", 0) else 1


def _array(t) -> np.ndarray:
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _layer_of(param_name: str) -> str:
    return param_name.rsplit(".", 1)[0] if "." in param_name else param_name


class Trainer:
    """Train ``model`` with ``loss_fn`` and ``optimizer``: forward → loss → backward → step.

    Args:
        model: a :class:`chainrule.nn.Module` (anything callable with ``parameters()``,
            ``named_parameters()``, ``state_dict()``, ``load_state_dict()``, ``train()``/``eval()``).
        loss_fn: ``loss_fn(output, target)`` → scalar tensor (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: a :mod:`chainrule.optim` optimizer over the model's parameters.
        scheduler: an LR scheduler, stepped once per epoch — or per batch when
            ``scheduler_interval='step'`` (the default for OneCycleLR). ReduceLROnPlateau gets
            ``val_loss`` (or ``loss`` without validation data).
        metrics: names from :mod:`chainrule.metrics` (``"accuracy"``; scores are turned into
            labels for label metrics), callables ``metric(y_true, y_pred)`` receiving NumPy
            arrays of the epoch's targets and raw model outputs, or a dict name → either.
        callbacks: :class:`Callback` s (EarlyStopping, ModelCheckpoint, GradientClipping,
            GradientMonitor, LearningRateScheduler, ...).
        detect_anomaly (bool): check the loss and the gradients for NaN/Inf at every step and
            stop with a :class:`NonFiniteError` naming the step and the layer (default True).
        progress: True / False / None (auto: tqdm bars when stderr is a terminal, notebook bars
            or plain epoch lines in Jupyter, silent otherwise).

    Under an initialised process group (``chainrule.distributed.init_process_group``, every rank
    running the same script) the same code trains data-parallel: the model is wrapped in
    :class:`~chainrule.nn.parallel.DistributedDataParallel` (or given wrapped), a train
    :class:`DataLoader` without a :class:`DistributedSampler` is rebuilt with one (its
    ``batch_size`` is per rank; shuffled with rank 0's seed of the loader's or the global
    generator, ``set_epoch`` each epoch), the epoch's loss and metrics are over all ranks'
    batches, and only rank 0 shows progress and writes checkpoints. Checkpoints hold the bare
    model's ``state_dict`` (no ``module.`` prefix), so they resume on any number of ranks.
    Validation runs on the full ``val_loader`` on each rank (the replicas are identical).

    ``fit`` returns ``history``: a dict of per-epoch lists — ``epoch``, ``loss``, each metric,
    ``val_loss`` and ``val_<metric>`` with validation data, ``lr`` (group 0) and ``time`` (s).

    Example::

        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3),
                          metrics=["accuracy"],
                          callbacks=[EarlyStopping("val_accuracy", patience=3),
                                     ModelCheckpoint("runs/last.npz")])
        history = trainer.fit(train_loader, val_loader, epochs=20)
        trainer.fit(train_loader, val_loader, epochs=20, resume="runs/last.npz")  # after a crash
    """

    def __init__(self, model, loss_fn, optimizer, scheduler=None, metrics=None, callbacks=None,
                 *, scheduler_interval=None, detect_anomaly=True, progress=None):
        self.model = model
        self.distributed = dist.is_initialized()
        self.rank = dist.get_rank() if self.distributed else 0
        self.world_size = dist.get_world_size() if self.distributed else 1
        if isinstance(model, DistributedDataParallel):
            self._net, self._ddp = model.module, model
        else:
            self._net = model
            self._ddp = DistributedDataParallel(model) if self.distributed else None
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.metrics = _resolve_metrics(metrics)
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer: callbacks must be Callback instances, got "
                                f"{type(cb).__name__}")
        if scheduler is not None:
            if scheduler_interval is None:
                scheduler_interval = "step" if isinstance(scheduler, OneCycleLR) else "epoch"
            self._scheduler_cb = LearningRateScheduler(scheduler, scheduler_interval)
        else:
            self._scheduler_cb = None
        self.detect_anomaly = detect_anomaly
        self.progress = progress
        self.history: dict[str, list] = {}
        self.epoch = 0            # completed epochs
        self.global_step = 0      # optimizer steps taken
        self.stop_training = False
        self._train_loader = None
        self._pending_loader_states = None
        self._grad_cache = None
        self._rng_before = None

    # ------------------------------------------------------------------ parts of the loop
    def _all_callbacks(self):
        return ([self._scheduler_cb] if self._scheduler_cb is not None else []) + self.callbacks

    def _named_params(self):
        if hasattr(self.model, "named_parameters"):
            return list(self.model.named_parameters())
        return [(f"param{i}", p) for i, g in enumerate(self.optimizer.param_groups)
                for p in g["params"]]

    def _forward(self, inputs):
        if self._ddp is not None and self._net.training:
            return self._ddp(*inputs)     # the all-reduce of the gradients comes with it
        return self._net(*inputs)

    def grad_sq_norms(self) -> dict:
        """Squared L2 norm of each parameter's gradient at this step (cached per step)."""
        if self._grad_cache is None:
            out = {}
            for name, p in self._named_params():
                if p.grad is None:
                    continue
                g = p.grad._data.reshape(-1)
                with np.errstate(over="ignore", invalid="ignore"):
                    sq = float(np.dot(g, g))
                if math.isinf(sq) and np.isfinite(g).all():  # overflow of g², not an inf
                    g64 = g.astype(np.float64)
                    sq = float(np.dot(g64, g64))
                out[name] = sq
            self._grad_cache = out
        return self._grad_cache

    def layer_grad_sq_norms(self) -> dict:
        """Squared gradient norm per layer (module owning the parameters), in model order."""
        out = {}
        for name, sq in self.grad_sq_norms().items():
            layer = _layer_of(name)
            out[layer] = out.get(layer, 0.0) + sq
        return out

    def _train_step(self, batch, epoch, step_in_epoch):
        inputs, target = _unpack(batch)
        self.optimizer.zero_grad()
        if self.detect_anomaly:  # to replay this forward (same dropout masks) if it fails
            self._rng_before = default_generator.get_state()
        out = self._forward(inputs)
        loss = self.loss_fn(out, target)
        value = float(loss.item())
        if self.detect_anomaly and self.distributed:
            self._check_loss_on_all_ranks(inputs, value, epoch, step_in_epoch)
        elif self.detect_anomaly and not math.isfinite(value):
            self._raise_forward(inputs, value, epoch, step_in_epoch)
        loss.backward()
        self._grad_cache = None
        if self.detect_anomaly:
            sq = self.grad_sq_norms()
            if not all(math.isfinite(v) for v in sq.values()):
                self._raise_gradient(sq, epoch, step_in_epoch)
        for cb in self._all_callbacks():
            cb.on_after_backward(self, self.global_step + 1)
        self.optimizer.step()
        self.global_step += 1
        return value, out, target, _batch_len(inputs)

    # ------------------------------------------------------------------ NaN / Inf
    def _where(self, epoch, step_in_epoch):
        return f"at epoch {epoch}, step {self.global_step + 1} (batch {step_in_epoch + 1} of " \
               f"the epoch)"

    def _check_loss_on_all_ranks(self, inputs, value, epoch, step_in_epoch):
        """Every rank stops at the step where any rank's loss is not finite (a rank left alone
        would wait in the next all-reduce); all replay the forward together (its collectives,
        SyncBatchNorm's, must match), then each raises: the failing ranks with the diagnosis."""
        flags = Tensor._make(np.zeros(self.world_size, np.int64))
        flags._data[self.rank] = 0 if math.isfinite(value) else 1
        dist.all_reduce(flags)
        bad = [r for r in range(self.world_size) if flags._data[r]]
        if not bad:
            return
        replay = self._first_nonfinite_module(inputs)
        if self.rank in bad:
            self._raise_forward(inputs, value, epoch, step_in_epoch, replay)
        raise NonFiniteError(
            f"non-finite loss on rank(s) {', '.join(map(str, bad))} "
            f"{self._where(epoch, step_in_epoch)} (this is rank {self.rank}; that rank names "
            "the cause)", epoch=epoch, step=self.global_step + 1, layer=None, where="loss")

    def _raise_forward(self, inputs, value, epoch, step_in_epoch, replay=None):
        where = self._where(epoch, step_in_epoch)
        kind = "nan" if math.isnan(value) else "inf"
        step = self.global_step + 1
        for x in inputs:
            if isinstance(x, Tensor) and x._data.dtype.kind == "f" and not np.isfinite(x._data).all():
                raise NonFiniteError(f"non-finite loss ({kind}) {where}: the input batch "
                                     "contains NaN/Inf", epoch=epoch, step=step, layer=None,
                                     where="input")
        for name, p in self._named_params():
            if not np.isfinite(p._data).all():
                layer = _layer_of(name)
                raise NonFiniteError(
                    f"non-finite loss ({kind}) {where}: parameter '{name}' of layer '{layer}' "
                    "holds NaN/Inf (set by an earlier optimizer step: lower the learning rate or "
                    "clip gradients)", epoch=epoch, step=step, layer=layer, where="parameter")
        layer, cls = self._first_nonfinite_module(inputs) if replay is None else replay
        if layer is not None:
            raise NonFiniteError(
                f"non-finite loss ({kind}) {where}: NaN/Inf first appeared in the output of "
                f"layer '{layer}' ({cls})", epoch=epoch, step=step, layer=layer, where="forward")
        raise NonFiniteError(f"non-finite loss ({kind}) {where}: the model's outputs are finite; "
                             "the loss function produced it", epoch=epoch, step=step, layer=None,
                             where="loss")

    def _first_nonfinite_module(self, inputs):
        """Re-run the forward with hooks on the leaf modules; the first (in execution order)
        whose output is non-finite is where NaN/Inf appeared. The replay uses the same random
        numbers as the failed forward (dropout masks); modules that update state in forward
        (batch-norm running statistics) see one extra batch, which no longer matters once
        training stops."""
        if not hasattr(self.model, "named_modules"):
            return None, None
        found = []
        handles = []

        def make_hook(name):
            def hook(module, args, output):
                outs = output if isinstance(output, (tuple, list)) else (output,)
                if not found and any(isinstance(o, Tensor) and o._data.dtype.kind == "f"
                                     and not np.isfinite(o._data).all() for o in outs):
                    found.append((name, type(module).__name__))
            return hook
        for name, module in self.model.named_modules():
            if name and not any(True for _ in module.children()) \
                    and hasattr(module, "register_forward_hook"):
                handles.append(module.register_forward_hook(make_hook(name)))
        state = default_generator.get_state()
        try:
            if self._rng_before is not None:  # replay with the failed forward's random draws
                default_generator.set_state(self._rng_before)
            with no_grad():
                self._forward(inputs)
        finally:
            default_generator.set_state(state)
            for h in handles:
                h.remove()
        return found[0] if found else (None, None)

    def _raise_gradient(self, sq, epoch, step_in_epoch):
        bad = [name for name, v in sq.items() if not math.isfinite(v)]
        # backward runs from the output towards the input: the non-finite parameter closest
        # to the output (last in model order) is where it first appeared
        first = bad[-1]
        layer = _layer_of(first)
        others = sorted({_layer_of(b) for b in bad} - {layer})
        tail = f"; it then reached {', '.join(repr(o) for o in others)}" if others else ""
        raise NonFiniteError(
            f"non-finite gradient {self._where(epoch, step_in_epoch)}: NaN/Inf first appeared in "
            f"the gradient of layer '{layer}' (parameter '{first}'){tail}", epoch=epoch,
            step=self.global_step + 1, layer=layer, where="gradient")

    # ------------------------------------------------------------------ fit / evaluate
    def fit(self, train_loader, val_loader=None, epochs=1, resume=None) -> dict:
        """Train for ``epochs`` epochs in total (counting those already done when resuming).

        Args:
            train_loader: iterable of batches ``(x, y)`` (a :class:`DataLoader`).
            val_loader: batches for validation after each epoch (``val_loss``, ``val_<metric>``).
            epochs (int): the epoch to stop after.
            resume: a checkpoint path (from ModelCheckpoint / ``save_checkpoint``) to continue
                from. Model, optimizer, scheduler, callbacks, history and the random states
                (global generator and the loader's) are restored, so the resumed run ends
                bit-identical to one that was never interrupted.

        Returns:
            the history dict.
        """
        if self.distributed:
            train_loader = self._shard(train_loader)
        self._train_loader = train_loader
        if resume is not None:
            self.load_checkpoint(resume)
        elif self._pending_loader_states is not None:
            self._restore_loader_states(self._pending_loader_states)
        self._pending_loader_states = None
        self.stop_training = False
        progress = Progress(self.progress if self.rank == 0 else False)
        callbacks = self._all_callbacks()
        for cb in callbacks:
            cb.on_fit_begin(self)
        try:
            with cpu.tuned():   # CPU settings for the loop (backends.cpu; CHAINRULE_CPU_TUNING=0: off)
                while self.epoch < epochs and not self.stop_training:
                    epoch = self.epoch + 1
                    self._run_epoch(epoch, epochs, train_loader, val_loader, progress, callbacks)
        finally:
            progress.close()
        for cb in callbacks:
            cb.on_fit_end(self)
        return self.history

    def _run_epoch(self, epoch, epochs, loader, val_loader, progress, callbacks):
        start = time.perf_counter()
        for cb in callbacks:
            cb.on_epoch_begin(self, epoch)
        lr = float(self.optimizer.param_groups[0]["lr"])
        if isinstance(getattr(loader, "sampler", None), DistributedSampler):
            loader.sampler.set_epoch(epoch - 1)     # a new order per epoch, the same on all ranks
        if hasattr(self.model, "train"):
            self.model.train()
        try:
            total = len(loader)
        except TypeError:
            total = None
        progress.epoch_begin(epoch, epochs, total)
        loss_sum, count = 0.0, 0
        outs, targets = [], []
        for i, batch in enumerate(loader):
            for cb in callbacks:
                cb.on_batch_begin(self, self.global_step + 1)
            value, out, target, n = self._train_step(batch, epoch, i)
            loss_sum += value * n
            count += n
            if self.metrics and target is not None:
                outs.append(np.array(_array(out.detach())))
                targets.append(np.array(_array(target)))
            logs = {"loss": value, "batch_size": n}
            for cb in callbacks:
                cb.on_batch_end(self, self.global_step, logs)
            progress.batch_end(value)
        if self.distributed:   # the epoch over every rank's batches
            loss_sum, count, outs, targets = self._gather_epoch(loss_sum, count, outs, targets)
        logs = {"loss": loss_sum / max(count, 1)}
        if self.metrics and outs:
            logs.update(self._compute_metrics(targets, outs, prefix=""))
        if val_loader is not None:
            val = self.evaluate(val_loader)
            logs.update({f"val_{k}": v for k, v in val.items()})
        self.epoch = epoch
        for cb in callbacks:
            cb.on_epoch_end(self, epoch, logs)
        logs_record = {"epoch": epoch, **logs, "lr": lr,
                       "time": time.perf_counter() - start}
        for k, v in logs_record.items():
            self.history.setdefault(k, []).append(v)
        for cb in callbacks:
            cb.on_epoch_complete(self, epoch, logs)
        progress.epoch_end(epoch, epochs, logs)

    def _compute_metrics(self, targets, outs, prefix):
        y_true = np.concatenate([t.reshape(t.shape[0], *t.shape[1:]) if t.ndim else t[None]
                                 for t in targets])
        y_pred = np.concatenate([o if o.ndim else o[None] for o in outs])
        return {prefix + name: _scalar(fn(y_true, y_pred)) for name, fn in self.metrics.items()}

    @contextlib.contextmanager
    def _inference(self):
        """Eval mode (no dropout, batch-norm on its running statistics) without recording
        graphs, for :meth:`evaluate` and :meth:`predict`; a model that was training is put
        back in training mode afterwards, also when the loop raises."""
        was_training = getattr(self.model, "training", None)
        if hasattr(self.model, "eval"):
            self.model.eval()
        try:
            with no_grad():
                yield
        finally:
            if was_training and hasattr(self.model, "train"):
                self.model.train()

    def evaluate(self, loader) -> dict:
        """Loss (sample-weighted mean over batches) and metrics on ``loader``, in eval mode
        without recording graphs. Returns ``{"loss": ..., "<metric>": ...}``."""
        loss_sum, count, outs, targets = 0.0, 0, [], []
        with self._inference():
            for batch in loader:
                inputs, target = _unpack(batch)
                out = self._forward(inputs)
                n = _batch_len(inputs)
                if target is not None:
                    loss_sum += float(self.loss_fn(out, target).item()) * n
                    count += n
                    if self.metrics:
                        outs.append(np.array(_array(out)))
                        targets.append(np.array(_array(target)))
        logs = {"loss": loss_sum / count if count else float("nan")}
        if self.metrics and outs:
            logs.update(self._compute_metrics(targets, outs, prefix=""))
        return logs

    def predict(self, loader) -> Tensor:
        """The model's outputs on every batch of ``loader`` (targets, if any, are ignored),
        concatenated along the first dimension, computed in eval mode under no_grad."""
        outs = []
        with self._inference():
            for batch in loader:
                inputs, _ = _unpack(batch)
                outs.append(_array(self._forward(inputs)))
        if not outs:
            raise ValueError("Trainer.predict: the loader yielded no batches")
        return Tensor._make(np.concatenate(outs))

    # ------------------------------------------------------------------ data parallel
    def _shard(self, loader):
        """``loader`` with a DistributedSampler (this rank's share of each epoch), unless it
        has one already or is not a map-style DataLoader (then the caller shards it)."""
        if (not isinstance(loader, DataLoader) or loader._iterable
                or isinstance(loader.sampler, DistributedSampler)
                or loader.batch_size is None):
            return loader
        shuffle = isinstance(loader.sampler, RandomSampler)
        gen = loader.generator if loader.generator is not None else default_generator
        seed = [int(gen.initial_seed()) % 2 ** 63]
        dist.broadcast_object_list(seed, src=0)      # one order for all ranks
        sampler = DistributedSampler(loader.dataset, shuffle=shuffle, seed=seed[0],
                                     drop_last=loader.drop_last)
        return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler,
                          num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                          drop_last=loader.drop_last, generator=loader.generator)

    def _gather_epoch(self, loss_sum, count, outs, targets):
        totals = [None] * self.world_size
        dist.all_gather_object(totals, [loss_sum, count])
        loss_sum, count = sum(t[0] for t in totals), sum(t[1] for t in totals)
        if self.metrics and outs:
            parts = [None] * self.world_size
            dist.all_gather_object(parts, [np.concatenate([o if o.ndim else o[None] for o in outs]),
                                           np.concatenate([t if t.ndim else t[None] for t in targets])])
            outs, targets = [p[0] for p in parts], [p[1] for p in parts]
        return loss_sum, count, outs, targets

    # ------------------------------------------------------------------ checkpoints
    def _generators(self, loader):
        """The random generators a loader's shuffling draws from (deduplicated, in order)."""
        if loader is None:
            return []
        found = []
        cands = [getattr(loader, "generator", None), getattr(loader, "sampler", None),
                 getattr(getattr(loader, "batch_sampler", None), "sampler", None)]
        for c in cands:
            g = c if c is None or hasattr(c, "get_state") else getattr(c, "generator", None)
            if g is not None and hasattr(g, "get_state") and all(g is not f for f in found):
                found.append(g)
        return found

    def state_dict(self) -> dict:
        """Everything a resumed run needs: model, optimizer, scheduler, callbacks, history,
        counters and the random states (global generator and the train loader's)."""
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": dict(self._net.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "callbacks": [{"type": type(cb).__name__, "state": cb.state_dict()}
                          for cb in self.callbacks],
            "history": self.history,
            "rng": {"default": get_rng_state(),
                    "loader": [g.get_state() for g in self._generators(self._train_loader)]},
        }

    def load_state_dict(self, state: dict) -> None:
        self._net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            if state.get("scheduler") is None:
                raise ValueError("Trainer.load_state_dict: the checkpoint has no scheduler state "
                                 "but this trainer has a scheduler")
            self.scheduler.load_state_dict(state["scheduler"])
        # callbacks are matched by type, in order; one without a saved state starts afresh
        saved_cbs = list(state.get("callbacks", []))
        for cb in self.callbacks:
            for i, entry in enumerate(saved_cbs):
                if entry["type"] == type(cb).__name__:
                    cb.load_state_dict(saved_cbs.pop(i)["state"])
                    break
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        set_rng_state(state["rng"]["default"])
        saved = state["rng"]["loader"]
        if self._train_loader is None:  # restored when fit() is given its loader
            self._pending_loader_states = saved
            return
        self._restore_loader_states(saved)

    def _restore_loader_states(self, saved):
        gens = self._generators(self._train_loader)
        if len(gens) != len(saved):
            raise ValueError(f"Trainer.load_state_dict: the checkpoint has {len(saved)} loader "
                             f"generator states, the train loader has {len(gens)} generators")
        for g, s in zip(gens, saved):
            g.set_state(s)

    def save_checkpoint(self, path, format=None) -> None:
        """Write :meth:`state_dict` to ``path`` atomically (``.npz``, or ``.safetensors`` with
        the 'safetensors' extra); see :mod:`chainrule.train.checkpoint`."""
        state = self.state_dict()
        if self.rank == 0:   # one writer; the other ranks hold the same state
            save_checkpoint(state, path, format=format)
        if self.distributed:
            dist.barrier()   # written before any rank goes on (and may read it)

    def load_checkpoint(self, path, format=None) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` (the train loader whose
        shuffling should be restored must have been passed to ``fit`` or set first)."""
        self.load_state_dict(load_checkpoint(path, format=format))


def _scalar(v):
    if isinstance(v, Tensor):
        v = v._data
    if isinstance(v, np.ndarray) and v.size == 1:
        return float(v.reshape(()))
    if isinstance(v, (np.floating, np.integer)):
        return float(v)
    return v
