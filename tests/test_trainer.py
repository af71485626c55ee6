"""chainrule.train: the Trainer loop, callbacks, NaN/Inf detection and checkpoints."""
import io
import json
import os
import sys
import types

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule._io import atomic_open
from chainrule.train import (Callback, EarlyStopping, GradientClipping, GradientMonitor,
                             LearningRateScheduler, ModelCheckpoint, NonFiniteError, Trainer,
                             checkpoint, load_checkpoint, save_checkpoint)
from chainrule.utils.data import DataLoader, TensorDataset


# ---------------------------------------------------------------------- data and models
def _digits():
    """sklearn's 8×8 digits, standardised with the training split's statistics."""
    try:
        from chainrule.datasets import load_digits
        X, y = load_digits()
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)
    except ImportError:
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        X, y = X.astype(np.float32), y.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(X))
    tr, te = perm[:1400], perm[1400:]
    mean, std = X[tr].mean(0), X[tr].std(0) + 1e-3
    X = ((X - mean) / std).astype(np.float32)
    return X[tr], y[tr], X[te], y[te]


DIGITS = _digits()


def _loaders(n=None, batch_size=32, seed=1):
    Xtr, ytr, Xte, yte = DIGITS
    if n is not None:
        Xtr, ytr, Xte, yte = Xtr[:n], ytr[:n], Xte[:n // 2], yte[:n // 2]
    train = DataLoader(TensorDataset(cr.tensor(Xtr), cr.tensor(ytr)), batch_size=batch_size,
                       shuffle=True, generator=cr.Generator().manual_seed(seed))
    val = DataLoader(TensorDataset(cr.tensor(Xte), cr.tensor(yte)), batch_size=128)
    return train, val


def _mlp(hidden=64, dropout=0.0):
    layers = [nn.Linear(64, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, 10))


def _params(model):
    return {k: np.array(v.detach().numpy()) for k, v in model.state_dict().items()}


# ---------------------------------------------------------------------- training
def test_mlp_on_digits_reaches_97_percent():
    cr.manual_seed(0)
    train, test = _loaders()
    model = _mlp(64)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt,
                      scheduler=optim.lr_scheduler.CosineAnnealingLR(opt, T_max=15),
                      metrics=["accuracy"])
    history = trainer.fit(train, test, epochs=15)
    assert history["epoch"] == list(range(1, 16))
    assert history["loss"][-1] < history["loss"][0] / 5
    result = trainer.evaluate(test)
    assert result["accuracy"] >= 0.97, result
    assert history["val_accuracy"][-1] == result["accuracy"]
    pred = trainer.predict(test)
    assert tuple(pred.shape) == (len(DIGITS[3]), 10)
    acc = float((pred.numpy().argmax(1) == DIGITS[3]).mean())
    assert acc == result["accuracy"]
    assert history["lr"][0] == 3e-3 and history["lr"][-1] < 1e-4     # the schedule ran
    assert trainer.global_step == 15 * len(train)


@pytest.mark.parametrize("batch_size,steps_per_epoch", [(100, 1), (1, 100), (16, 7)])
def test_full_batch_stochastic_and_mini_batch_modes(batch_size, steps_per_epoch):
    cr.manual_seed(0)
    train, _ = _loaders(n=100, batch_size=batch_size)
    model = _mlp(16)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05))
    history = trainer.fit(train, epochs=2)
    assert trainer.global_step == 2 * steps_per_epoch
    assert len(history["loss"]) == 2 and all(np.isfinite(history["loss"]))


def test_plain_callable_metrics_and_named_metrics_agree():
    cr.manual_seed(0)
    train, val = _loaders(n=200)
    model = _mlp(16)

    def top1(y_true, y_pred):           # receives NumPy arrays: targets and raw scores
        return float((y_pred.argmax(1) == y_true).mean())
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-2),
                      metrics={"accuracy": "accuracy", "top1": top1})
    h = trainer.fit(train, val, epochs=2)
    assert h["accuracy"] == h["top1"] and h["val_accuracy"] == h["val_top1"]
    with pytest.raises(ValueError, match="unknown metric 'no_such_metric'"):
        Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()),
                metrics=["no_such_metric"])


# ---------------------------------------------------------------------- resume
class _Interrupt(Callback):
    """Simulates a crash (Ctrl-C) in the middle of an epoch."""

    def __init__(self, at_step):
        self.at_step = at_step

    def on_batch_end(self, trainer, step, logs):
        if step == self.at_step:
            raise KeyboardInterrupt


def _resumable_run(epochs, ckpt=None, resume=None, interrupt_at=None, seed=0):
    """A run using every source of state: dropout (global RNG), a seeded shuffling loader,
    an unseeded shuffling validation loader, Adam (amsgrad), a per-step OneCycleLR, and
    stateful callbacks."""
    cr.manual_seed(seed)
    Xtr, ytr, Xte, yte = DIGITS
    train = DataLoader(TensorDataset(cr.tensor(Xtr[:320]), cr.tensor(ytr[:320])),
                       batch_size=32, shuffle=True, generator=cr.Generator().manual_seed(7))
    val = DataLoader(TensorDataset(cr.tensor(Xte[:128]), cr.tensor(yte[:128])), batch_size=32,
                     shuffle=True)
    model = _mlp(32, dropout=0.3)
    opt = optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=4 * 10)
    callbacks = [EarlyStopping("val_loss", patience=10), GradientMonitor()]
    if ckpt:
        callbacks.append(ModelCheckpoint(ckpt))
    if interrupt_at:
        callbacks.append(_Interrupt(interrupt_at))
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=callbacks,
                      metrics=["accuracy"])
    try:
        trainer.fit(train, val, epochs=epochs, resume=resume)
    except KeyboardInterrupt:
        pass
    return trainer


@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_interrupted_then_resumed_run_is_bit_identical(tmp_path, ext):
    if ext == "safetensors":
        pytest.importorskip("safetensors")
    ckpt = str(tmp_path / f"last.{ext}")
    full = _resumable_run(epochs=4)
    # crash in the middle of epoch 3 (step 25 of 40); the last checkpoint is from epoch 2
    crashed = _resumable_run(epochs=4, ckpt=ckpt, interrupt_at=25)
    assert crashed.global_step == 25 and load_checkpoint(ckpt)["epoch"] == 2
    # a new process would start from other seeds: the checkpoint must restore them all
    resumed = _resumable_run(epochs=4, ckpt=ckpt, resume=ckpt, seed=12345)
    assert resumed.epoch == 4 and resumed.global_step == full.global_step == 40
    for k, v in _params(full.model).items():
        np.testing.assert_array_equal(_params(resumed.model)[k], v)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert resumed.history[key] == full.history[key], key
    a, b = full.optimizer.state_dict(), resumed.optimizer.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for i in a["state"]:
        for k in a["state"][i]:
            np.testing.assert_array_equal(a["state"][i][k].numpy(), b["state"][i][k].numpy())
    assert resumed.callbacks[1].norms == full.callbacks[1].norms
    assert resumed.scheduler.get_last_lr() == full.scheduler.get_last_lr()


# ---------------------------------------------------------------------- NaN / Inf
class _Faulty(nn.Module):
    """Identity until ``broken`` is set; then it outputs NaN (a deterministic fault)."""

    def __init__(self):
        super().__init__()
        self.broken = False

    def forward(self, x):
        return x * float("nan") if self.broken else x


class _BreakAt(Callback):
    def __init__(self, module, step):
        self.module, self.step = module, step

    def on_batch_begin(self, trainer, step):
        if step == self.step:
            self.module.broken = True


class _Times(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


class _SqrtAbs(nn.Module):
    """√|x|: finite forward, infinite derivative at x = 0 — a gradient that explodes."""

    def forward(self, x):
        return x.abs().sqrt()


def test_injected_nan_in_forward_names_the_step_and_layer():
    cr.manual_seed(0)
    train, _ = _loaders(n=96, batch_size=32)     # 3 steps per epoch
    faulty = _Faulty()
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Dropout(0.5), faulty,
                          nn.Linear(16, 10))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01),
                      callbacks=[_BreakAt(faulty, 5)])
    before = _params(model)
    with pytest.raises(NonFiniteError, match=r"epoch 2, step 5 .*output of layer '3' "
                                             r"\(_Faulty\)") as info:
        trainer.fit(train, epochs=3)
    assert (info.value.step, info.value.epoch, info.value.layer, info.value.where) == \
        (5, 2, "3", "forward")
    assert trainer.global_step == 4                  # it stopped before the bad update
    after = _params(model)
    assert all(np.isfinite(v).all() for v in after.values())
    assert any(not np.array_equal(before[k], after[k]) for k in before)


def test_nan_parameter_and_nan_input_and_loss_are_named():
    cr.manual_seed(0)
    train, _ = _loaders(n=64, batch_size=32)
    model = _mlp(16)

    class Poison(Callback):
        def on_batch_end(self, trainer, step, logs):
            if step == 3:
                model[2].weight._data[1, 2] = np.inf

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01),
                      callbacks=[Poison()])
    with pytest.raises(NonFiniteError, match=r"step 4 .*parameter '2.weight' of layer '2'") as e:
        trainer.fit(train, epochs=3)
    assert e.value.where == "parameter" and e.value.layer == "2"

    X = cr.tensor(DIGITS[0][:8].copy())
    X._data[3, 5] = np.nan
    loader = DataLoader(TensorDataset(X, cr.tensor(DIGITS[1][:8])), batch_size=8)
    trainer = Trainer(_mlp(16), nn.CrossEntropyLoss(), optim.SGD(_mlp(16).parameters()))
    with pytest.raises(NonFiniteError, match=r"step 1 .*the input batch contains NaN") as e:
        trainer.fit(loader, epochs=1)
    assert e.value.where == "input"

    def bad_loss(out, y):
        return (out.sum() * 0 - 1).log()
    model = _mlp(16)
    trainer = Trainer(model, bad_loss, optim.SGD(model.parameters()))
    with pytest.raises(NonFiniteError, match=r"the loss function produced it") as e:
        trainer.fit(train, epochs=1)
    assert e.value.where == "loss" and e.value.layer is None


def test_non_finite_gradient_names_the_layer_where_it_appeared():
    cr.manual_seed(0)
    train, _ = _loaders(n=64, batch_size=32)
    # x·0 is exactly 0, where d√|x|/dx is infinite: 0·∞ = NaN flows back into layer 0 (after a
    # ReLU it would not: its backward selects, as torch's, and gives 0 at inactive units)
    model = nn.Sequential(nn.Linear(64, 16), _Times(0.0), _SqrtAbs(), nn.Linear(16, 10))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01))
    with pytest.raises(NonFiniteError, match=r"non-finite gradient at epoch 1, step 1 .*layer "
                                             r"'0' \(parameter '0\.") as e:
        trainer.fit(train, epochs=1)
    assert e.value.where == "gradient" and e.value.layer == "0"
    assert trainer.global_step == 0


# ---------------------------------------------------------------------- callbacks
def test_early_stopping_stops_and_restores_best_weights():
    cr.manual_seed(0)
    train, val = _loaders(n=200)
    model = _mlp(16)
    # lr so large that validation loss gets worse after the first epochs
    es = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    snap = {}

    class Snapshot(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snap[epoch] = _params(trainer.model)

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=2.0),
                      callbacks=[Snapshot(), es])
    h = trainer.fit(train, val, epochs=30)
    assert trainer.epoch < 30 and es.stopped_epoch == trainer.epoch
    assert es.wait == 2
    best = int(np.argmin(h["val_loss"])) + 1
    assert es.best_epoch == best and es.best == min(h["val_loss"])
    for k, v in _params(model).items():
        np.testing.assert_array_equal(v, snap[best][k])
    with pytest.raises(KeyError, match="monitored quantity 'val_acc' is not in the epoch's logs"):
        Trainer(_mlp(16), nn.CrossEntropyLoss(), optim.SGD(_mlp(16).parameters()),
                callbacks=[EarlyStopping("val_acc")]).fit(train, epochs=1)


def test_gradient_clipping_and_monitor():
    cr.manual_seed(0)
    train, _ = _loaders(n=128, batch_size=32)
    model = _mlp(16)
    clip = GradientClipping(max_norm=0.05)
    seen = []

    class After(Callback):       # runs after clipping: the gradients the optimizer sees
        def on_after_backward(self, trainer, step):
            g = [p.grad.numpy().ravel() for p in trainer.model.parameters()]
            seen.append(float(np.linalg.norm(np.concatenate(g))))

    mon = GradientMonitor()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                      callbacks=[mon, clip, After()])
    trainer.fit(train, epochs=2)
    assert len(seen) == 8 and max(seen) <= 0.05 * (1 + 1e-4)
    assert clip.last_norm > 0.05                          # the raw norm was larger
    assert mon.steps == list(range(1, 9)) and list(mon.norms) == ["0", "2"]
    arr = mon.as_array()
    assert arr.shape == (8, 2) and (arr > 0.05).any()     # recorded before clipping
    assert "layer" in mon.summary() and "0 " in mon.summary()


def test_gradient_monitor_shows_vanishing_gradients_in_a_deep_sigmoid_net():
    """The deck's vanishing gradient: through many saturating sigmoids the first layer's
    gradient is orders of magnitude smaller than the last layer's."""
    cr.manual_seed(0)
    train, _ = _loaders(n=64, batch_size=64)
    layers = [nn.Linear(64, 32), nn.Sigmoid()]
    for _ in range(8):
        layers += [nn.Linear(32, 32), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 10))
    mon = GradientMonitor(vanishing=1e-4, warn=True)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01),
                      callbacks=[mon])
    with pytest.warns(RuntimeWarning, match="vanishing gradient in layer '0'"):
        trainer.fit(train, epochs=1)
    first, last = mon.norms["0"][0], mon.norms[str(len(layers))][0]
    assert first < last * 1e-3
    assert "vanishing" in mon.summary().splitlines()[1]


def test_learning_rate_scheduler_callback_with_a_function():
    cr.manual_seed(0)
    train, _ = _loaders(n=64)
    model = _mlp(16)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                      callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / epoch)])
    h = trainer.fit(train, epochs=3)
    np.testing.assert_allclose(h["lr"], [0.1, 0.05, 0.1 / 3])


def test_reduce_lr_on_plateau_through_the_trainer():
    cr.manual_seed(0)
    train, val = _loaders(n=64)
    model = _mlp(16)
    opt = optim.SGD(model.parameters(), lr=1e-6)
    # demanding a 50% improvement per epoch: epoch 2 is "bad" and the lr is halved after it
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=0.5)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=sched)
    h = trainer.fit(train, val, epochs=3)
    assert h["lr"] == [1e-6, 1e-6, 5e-7]        # the lr each epoch ran with
    assert sched.best == h["val_loss"][0]      # fed val_loss, not the training loss


# ---------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trips_nested_state_without_pickle(tmp_path):
    state = {
        "model": {"w": cr.randn(3, 2), "b": cr.zeros(2)},
        "optimizer": {"state": {0: {"step": cr.tensor(3.0), "buf": cr.ones(2)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "fused": None,
                                        "params": [0]}]},
        "floats": [float("inf"), -float("inf"), 0.1 + 0.2, 1e-310],
        "nan": float("nan"), "np": np.float32(1.5), "arr": np.arange(4, dtype=np.int16),
        "flags": np.array([True, False]), "empty": {}, "tuple_key": {(1, "a"): "x"},
        "text": "héllo", "u8": cr.get_rng_state(),
    }
    for ext in ["npz"] + (["safetensors"] if _has_safetensors() else []):
        path = tmp_path / f"c.{ext}"
        save_checkpoint(state, path)
        back = load_checkpoint(path)
        np.testing.assert_array_equal(back["model"]["w"].numpy(), state["model"]["w"].numpy())
        assert list(back["optimizer"]["state"]) == [0]           # int keys stay ints
        assert back["optimizer"]["state"][0]["step"].shape == ()
        assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
        assert back["floats"] == state["floats"] and np.isnan(back["nan"])
        assert type(back["np"]) is np.float32 and back["np"] == 1.5
        assert back["arr"].dtype == np.int16 and back["flags"].dtype == np.bool_
        assert back["empty"] == {} and back["tuple_key"] == {(1, "a"): "x"}
        assert back["text"] == "héllo"
        np.testing.assert_array_equal(back["u8"].numpy(), state["u8"].numpy())
    # the npz opens with allow_pickle=False and carries its structure as JSON
    with np.load(tmp_path / "c.npz", allow_pickle=False) as z:
        meta = json.loads(z["__chainrule_meta__"].tobytes())
    assert meta["format"] == "chainrule-checkpoint/1"
    with pytest.raises(TypeError, match="cannot store a value of type object at 'bad/0'"):
        save_checkpoint({"bad": [object()]}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def _has_safetensors():
    try:
        import safetensors.numpy  # noqa: F401
        return True
    except ImportError:
        return False


def test_checkpoint_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(ValueError, match="not a readable .npz checkpoint"):
        load_checkpoint(tmp_path / "junk.npz")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not a chainrule checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[safetensors\]'"):
        save_checkpoint({"a": cr.ones(1)}, tmp_path / "a.safetensors")


def test_a_checkpoint_write_failing_midway_leaves_the_previous_one_intact(tmp_path,
                                                                           monkeypatch):
    cr.manual_seed(0)
    train, _ = _loaders(n=64)
    model = _mlp(16)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3))
    path = tmp_path / "ckpt.npz"
    trainer.fit(train, epochs=1)
    trainer.save_checkpoint(path)
    good = path.read_bytes()
    trainer.fit(train, epochs=2)

    def half_then_fail(path, data):      # the disk fills up halfway through the file
        with atomic_open(path, "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            raise OSError(28, "No space left on device")
    monkeypatch.setattr(checkpoint, "atomic_write_bytes", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        trainer.save_checkpoint(path)
    assert path.read_bytes() == good                         # untouched
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]      # no temporary file left behind
    assert load_checkpoint(path)["epoch"] == 1
    # and a fresh trainer resumes from it
    model2 = _mlp(16)
    t2 = Trainer(model2, nn.CrossEntropyLoss(), optim.Adam(model2.parameters(), 1e-3))
    t2.load_checkpoint(path)
    assert t2.epoch == 1 and t2.global_step == len(train)
    monkeypatch.undo()
    trainer.save_checkpoint(path)                             # a healthy write replaces it
    assert load_checkpoint(path)["epoch"] == 2


def test_model_checkpoint_best_only_and_filename_fields(tmp_path):
    cr.manual_seed(0)
    train, val = _loaders(n=128)
    model = _mlp(16)
    mc = ModelCheckpoint(str(tmp_path / "ep{epoch:02d}-{val_loss:.3f}.npz"), save_best_only=True)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-2),
                      callbacks=[mc])
    h = trainer.fit(train, val, epochs=3)
    files = sorted(os.listdir(tmp_path))
    best = int(np.argmin(h["val_loss"])) + 1
    assert mc.best_path == str(tmp_path / f"ep{best:02d}-{min(h['val_loss']):.3f}.npz")
    assert os.path.basename(mc.best_path) in files
    assert load_checkpoint(mc.best_path)["epoch"] == best


# ---------------------------------------------------------------------- progress output
class _TTY(io.StringIO):
    def isatty(self):
        return True


def _fit_small(progress):
    cr.manual_seed(0)
    train, _ = _loaders(n=64)
    model = _mlp(8)
    Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
            progress=progress).fit(train, epochs=2)


def test_progress_is_quiet_off_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    _fit_small(None)
    assert sys.stderr.getvalue() == ""
    _fit_small(False)
    assert sys.stderr.getvalue() == "" and capsys.readouterr().out == ""


def test_progress_plain_when_tqdm_is_missing(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _TTY())
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    _fit_small(None)
    lines = sys.stderr.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  loss ")


def test_progress_uses_tqdm_bars_on_a_terminal(monkeypatch):
    made = []

    class FakeTqdm:
        def __init__(self, total, desc, **kw):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            made.append(self)

        def update(self, k):
            self.n += k

        def set_postfix(self, **kw):
            pass

        def set_postfix_str(self, s):
            self.postfix = s

        def close(self):
            self.closed = True
    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    monkeypatch.setattr(sys, "stderr", _TTY())
    _fit_small(None)
    assert [(b.desc, b.total, b.n, b.closed) for b in made] == \
        [("epoch 1/2", 2, 2, True), ("epoch 2/2", 2, 2, True)]
    assert made[0].postfix.startswith("loss ")
