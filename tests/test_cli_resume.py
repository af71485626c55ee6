"""Every training run of the `chainrule` command is resumable: config.json is written first,
then after every epoch the checkpoints (last, best) and the history; Ctrl-C (SIGINT) or a kill
(SIGKILL) mid-epoch leaves a folder that `evaluate` reads, and `train --resume` continues it
to weights bit-identical to an uninterrupted run. Temporary files of killed writes are removed
at the next write into the folder.

The signal tests run `chainrule train` in a real process on iris (a few ms per epoch) that stops
at the third batch of its second epoch, says so with a marker file, and waits there for the
signal: it lands mid-epoch however fast or slow the machine is, and the wait changes no number.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from chainrule import _io
from chainrule.cli import main
from chainrule.train.checkpoint import load_checkpoint

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
RUN = ["--model", "mlp", "--dataset", "iris", "--batch-size", "16", "--epochs", "8",
       "--schedule", "cosine", "--patience", "20", "--quiet", "--no-figures"]
TRACEBACK = "Traceback (most recent call last)"

# the child: `chainrule train`, which, once the first epoch's checkpoint is on disk, marks its
# third batch (the file named by CHAINRULE_TEST_MARK) and waits there for the test's signal;
# Ctrl-C's default handling is put back, as a shell running make in the background ignores it
CHILD = """
import os, signal, sys, time
from chainrule.cli import main, runs
signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal, also where the
                                                           # test runs in the background (SIG_IGN)
out, mark, batches = sys.argv[sys.argv.index("--out") + 1], os.environ["CHAINRULE_TEST_MARK"], []
def on_batch_end(self, trainer, step, logs):
    if os.path.exists(os.path.join(out, "checkpoint.npz")):
        batches.append(step)
        if len(batches) == 3:
            open(mark, "w").close()
            time.sleep(120)
runs.RunFiles.on_batch_end = on_batch_end
sys.exit(main(sys.argv[1:]))
"""


def cli(*args):
    return main([str(a) for a in args])


def weights(run_dir, name="checkpoint.npz"):
    return {k: v.numpy() for k, v in load_checkpoint(os.path.join(run_dir, name))["model"].items()}


def assert_bit_identical(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert wa[k].dtype == wb[k].dtype and np.array_equal(wa[k], wb[k]), k
    ha = json.loads(open(os.path.join(a, "history.json")).read())
    hb = json.loads(open(os.path.join(b, "history.json")).read())
    for key in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert ha[key] == hb[key], key


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run."""
    d = tmp_path_factory.mktemp("ref") / "run"
    assert cli("train", *RUN, "--out", d) == 0
    return d


def start_child(run_dir, mark):
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
               CHAINRULE_TEST_MARK=str(mark))
    return subprocess.Popen([sys.executable, "-c", CHILD, "train", *RUN, "--out", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_for(path, proc, timeout=60.0):
    t0 = time.monotonic()
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, f"{path} did not appear"
        time.sleep(0.005)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_signal_mid_epoch_then_resume_is_bit_identical(sig, reference, tmp_path, capsys):
    run, mark = tmp_path / "run", tmp_path / "mid-epoch"
    proc = start_child(run, mark)
    wait_for(mark, proc)               # the first epoch is on disk, the second half-way through
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert TRACEBACK not in err, err
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "interrupted after" in err and f"chainrule train --resume {run}" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    done = load_checkpoint(run / "checkpoint.npz")["epoch"]
    assert 1 <= done < 8, done                        # stopped mid-run, kept what finished
    assert json.loads((run / "config.json").read_text())["epochs"] == 8
    # the history is written after the checkpoints: a kill between them leaves it one behind
    assert len(json.loads((run / "history.json").read_text())["epoch"]) in (done - 1, done)
    assert not (run / "metrics.json").exists()
    capsys.readouterr()
    assert cli("evaluate", run) == 0                  # the interrupted folder evaluates
    assert "accuracy" in capsys.readouterr().out
    assert cli("train", "--resume", run, "--quiet", "--no-figures") == 0
    assert_bit_identical(reference, run)
    assert json.loads((run / "metrics.json").read_text())["accuracy"] == json.loads(
        (reference / "metrics.json").read_text())["accuracy"]
    assert not [n for n in os.listdir(run) if n.endswith(".tmp")]


def test_resume_in_process_and_a_finished_run(reference, tmp_path, monkeypatch, capsys):
    """Ctrl-C raised inside the third epoch's history write (after its checkpoint): exit 130,
    then --resume ends bit-identical; resuming a finished run only rewrites its results."""
    from chainrule.cli import runs
    run = tmp_path / "run"
    real = runs.RunFiles.on_epoch_complete

    def interrupt(self, trainer, epoch, logs):
        real(self, trainer, epoch, logs)
        if epoch == 3:
            raise KeyboardInterrupt
    monkeypatch.setattr(runs.RunFiles, "on_epoch_complete", interrupt)
    assert cli("train", *RUN, "--out", run) == 130
    assert "interrupted after 3 complete epoch(s)" in capsys.readouterr().err
    monkeypatch.setattr(runs.RunFiles, "on_epoch_complete", real)
    assert cli("train", "--resume", run, "--quiet", "--no-figures") == 0
    assert_bit_identical(reference, run)
    assert cli("train", "--resume", run, "--quiet", "--no-figures") == 0   # nothing left to do
    assert_bit_identical(reference, run)


def test_interrupted_before_the_first_epoch_restarts_from_zero(reference, tmp_path, monkeypatch,
                                                               capsys):
    from chainrule.cli import runs
    run = tmp_path / "run"
    monkeypatch.setattr(runs.RunFiles, "on_batch_end",
                        lambda self, *a: (_ for _ in ()).throw(KeyboardInterrupt), raising=False)
    assert cli("train", *RUN, "--out", run) == 130
    assert "interrupted after 0 complete epoch(s)" in capsys.readouterr().err
    assert (run / "config.json").exists() and not (run / "checkpoint.npz").exists()
    assert cli("evaluate", run) == 2
    assert "has no checkpoint yet" in capsys.readouterr().err
    monkeypatch.delattr(runs.RunFiles, "on_batch_end")
    assert cli("train", "--resume", run, "--quiet", "--no-figures") == 0
    assert_bit_identical(reference, run)


def test_early_stopping_and_best_checkpoint(tmp_path, capsys):
    """--patience stops when the validation loss stalls; best.npz holds the best epoch, which
    `evaluate --checkpoint best` measures."""
    run = tmp_path / "run"
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--optimizer", "sgd", "--lr", "3",
               "--epochs", "60", "--patience", "2", "--quiet", "--no-figures", "--out", run) in (0, 2)
    hist = json.loads((run / "history.json").read_text())
    best_epoch = load_checkpoint(run / "best.npz")["epoch"]
    assert hist["val_loss"][best_epoch - 1] == min(hist["val_loss"][:len(hist["epoch"])])
    capsys.readouterr()
    assert cli("evaluate", run, "--checkpoint", "best") == 0
    assert "accuracy" in capsys.readouterr().out
    run2 = tmp_path / "run2"
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--epochs", "200", "--patience",
               "1", "--lr", "0.05", "--quiet", "--no-figures", "--out", run2) == 0
    assert len(json.loads((run2 / "history.json").read_text())["epoch"]) < 200
    cfg = json.loads((run2 / "config.json").read_text())
    assert cfg["patience"] == 1


def test_weight_decay_and_download_reach_the_library(tmp_path, monkeypatch):
    from chainrule.cli import _compat, factories
    made = []
    real = factories.make_optimizer
    monkeypatch.setattr(factories, "make_optimizer",
                        lambda *a, **k: made.append((a, k)) or real(*a, **k))
    assert cli("train", "--model", "mlp", "--dataset", "iris", "--weight-decay", "0.01",
               "--epochs", "1", "--quiet", "--no-figures", "--out", tmp_path / "r") == 0
    assert made[-1][0][3] == 0.01
    assert json.loads((tmp_path / "r" / "config.json").read_text())["weight_decay"] == 0.01
    calls = []

    class Fake:
        def __init__(self, root, train=True, download=False):
            calls.append(download)
            raise RuntimeError("MNIST: files not found")
    monkeypatch.setattr(_compat, "dataset_class", lambda name: Fake)
    assert cli("train", "--dataset", "mnist", "--data-dir", tmp_path, "--download",
               "--out", tmp_path / "m") == 2
    assert calls == [True]


# ---------------------------------------------------------------------------- stale temp files
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temp_files_are_removed_at_the_next_write(tmp_path):
    dead = tmp_path / f".checkpoint.npz.{_dead_pid()}.k3j_x9q2.tmp"
    dead.write_bytes(b"half a checkpoint")
    live_proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = tmp_path / f".history.json.{live_proc.pid}.ab12cd34.tmp"
        live.write_bytes(b"being written")
        mine = tmp_path / f".metrics.json.{os.getpid()}.zz99zz99.tmp"
        mine.write_bytes(b"another thread of ours")
        other = tmp_path / "notes.tmp"
        other.write_text("not ours")
        _io.atomic_write_text(tmp_path / "config.json", "{}")
        assert not dead.exists()                           # its writer is gone
        assert live.exists() and mine.exists() and other.exists()
        assert sorted(os.listdir(tmp_path)) == sorted(
            ["config.json", live.name, mine.name, "notes.tmp"])
    finally:
        live_proc.kill()
        live_proc.wait()
    _io.atomic_write_text(tmp_path / "config.json", "{}")
    assert not live.exists()                               # now its writer is gone too


def test_temp_names_carry_the_writer_pid(tmp_path, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(os.path.basename(a)),
                                                     real(a, b))[1])
    _io.atomic_write_bytes(tmp_path / "f.bin", b"x")
    (name,) = seen
    assert name.startswith(f".f.bin.{os.getpid()}.") and name.endswith(".tmp")
    assert _io._TEMP_NAME.match(name)


def test_a_killed_checkpoint_write_is_cleaned_by_the_resume(reference, tmp_path):
    """A SIGKILL inside a checkpoint write leaves its temporary file; the resumed run's first
    write removes it (simulated: the temp file of a dead writer placed in the folder)."""
    run = tmp_path / "run"
    assert cli("train", *RUN, "--out", run) == 0
    stale = run / f".checkpoint.npz.{_dead_pid()}.q1w2e3r4.tmp"
    stale.write_bytes(b"\x00" * 100)
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["epochs"] == 8
    assert cli("train", "--resume", run, "--quiet", "--no-figures") == 0
    assert not stale.exists()
