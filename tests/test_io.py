"""chainrule._io: the one atomic-write helper, and that every file the library writes through
it (run folders, checkpoints, figures, graphs) gets the mode a plain open() gives: 0o666
masked by the umask — not mkstemp's 0o600, not a hard-coded 0o644."""
import contextlib
import os
import re
import stat

import pytest

import chainrule as cr
from chainrule import _io
from chainrule._io import atomic_open, atomic_write_bytes, atomic_write_text
from chainrule.cli import main
from chainrule.train import save_checkpoint

# umask → the mode a new file must have; 0o077 makes a hard-coded 0o644 fail
MODES = [(0o022, 0o644), (0o077, 0o600), (0o027, 0o640)]


@contextlib.contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def file_modes(root) -> dict:
    """{path relative to root: permission bits} of every file below root."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            out[os.path.relpath(path, root)] = stat.S_IMODE(os.stat(path).st_mode)
    return out


def cli(*args):
    return main([str(a) for a in args])


# ---------------------------------------------------------------------- the helper
@pytest.mark.parametrize("mask, mode", MODES, ids=oct)
def test_written_files_get_the_mode_open_gives(tmp_path, mask, mode):
    with umask(mask):
        with atomic_open(tmp_path / "a.bin") as f:
            f.write(b"\x00\x01")
        with atomic_open(tmp_path / "b.txt", "w") as f:
            f.write("π\n")
        atomic_write_bytes(tmp_path / "c.bin", b"c")
        atomic_write_text(tmp_path / "d.txt", "d")
        with open(tmp_path / "plain", "w") as f:      # what the helper must agree with
            f.write("x")
    assert file_modes(tmp_path) == {"a.bin": mode, "b.txt": mode, "c.bin": mode,
                                    "d.txt": mode, "plain": mode}
    assert (tmp_path / "b.txt").read_bytes() == "π\n".encode("utf-8")


def test_umask_is_read_without_proc_too(monkeypatch):
    with umask(0o027):
        assert _io._umask() == 0o027

        def no_proc(*args, **kwargs):          # macOS, BSD: no /proc/self/status
            raise FileNotFoundError(2, "No such file or directory", args[0])
        monkeypatch.setattr(_io, "open", no_proc, raising=False)
        assert _io._umask() == 0o027
        assert os.umask(0o027) == 0o027      # the fallback put the mask back


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux's /proc only")
def test_umask_is_read_from_proc_without_setting_it(monkeypatch):
    def no_set(mask):          # setting the mask, even back, races with other threads
        raise AssertionError("os.umask called")
    with umask(0o027):
        monkeypatch.setattr(_io.os, "umask", no_set)
        try:
            assert _io._umask() == 0o027
        finally:
            monkeypatch.undo()         # before umask() puts the old mask back


def test_replaces_the_file_and_creates_missing_folders(tmp_path):
    target = tmp_path / "new" / "deeper" / "f.txt"
    atomic_write_text(target, "one\r\nline\n")
    assert target.read_bytes() == b"one\r\nline\n"          # newlines written as given
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["f.txt"]


@pytest.mark.parametrize("existed", [True, False])
def test_a_writer_that_raises_leaves_the_target_untouched(tmp_path, existed):
    target = tmp_path / "f.bin"
    if existed:
        target.write_bytes(b"old contents")
    with pytest.raises(OSError, match="No space left"):
        with atomic_open(target) as f:
            f.write(b"half of the new")
            f.flush()
            raise OSError(28, "No space left on device")
    if existed:
        assert target.read_bytes() == b"old contents"
    assert sorted(os.listdir(tmp_path)) == (["f.bin"] if existed else [])   # no temp file


def test_a_failing_rename_removes_the_temporary_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", dst)
    monkeypatch.setattr(_io.os, "replace", refuse)
    with pytest.raises(PermissionError):
        atomic_write_bytes(tmp_path / "f.bin", b"data")
    assert os.listdir(tmp_path) == []


def test_unsupported_modes_are_refused(tmp_path):
    for mode in ("r", "a", "ab", "w+", "x"):
        message = f"atomic_open: mode must be one of 'wb', 'w', 'wt', got '{mode}'"
        with pytest.raises(ValueError, match=re.escape(message)):
            with atomic_open(tmp_path / "f", mode):
                pass
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------- what the library writes
@pytest.mark.parametrize("mask, mode", MODES[:2], ids=oct)
def test_a_train_run_folder_has_the_umask_modes(tmp_path, capsys, mask, mode):
    run_dir = tmp_path / "run"
    with umask(mask):      # the CLI tests' small classification run, with its figures
        assert cli("train", "--model", "mlp", "--dataset", "iris", "--epochs", "2",
                   "--out", run_dir, "--quiet") == 0
    modes = file_modes(run_dir)
    for name in ("config.json", "history.json", "history.csv", "metrics.json",
                 "confusion_matrix.json", "grad_norms.json", "checkpoint.npz",
                 "figures/loss.png", "figures/accuracy.png", "figures/confusion_matrix.png",
                 "figures/grad_norms.png"):
        assert name in modes, name
    assert modes == {name: mode for name in modes}       # tensorboard/ included, if written


@pytest.mark.parametrize("mask, mode", MODES[:2], ids=oct)
def test_checkpoints_have_the_umask_modes(tmp_path, mask, mode):
    pytest.importorskip("safetensors")
    state = {"model": {"w": cr.ones(2, 3)}, "epoch": 1}
    with umask(mask):
        save_checkpoint(state, tmp_path / "c.npz")
        save_checkpoint(state, tmp_path / "c.safetensors")
        save_checkpoint(state, tmp_path / "c.npz")            # replacing keeps the rule
    assert file_modes(tmp_path) == {"c.npz": mode, "c.safetensors": mode}


@pytest.mark.parametrize("mask, mode", MODES[:2], ids=oct)
def test_demo_figure_and_findings_have_the_umask_modes(tmp_path, capsys, mask, mode):
    pytest.importorskip("matplotlib")
    with umask(mask):
        assert cli("demo", "xor", "--fast", "--out", tmp_path) == 0
    assert file_modes(tmp_path) == {"xor.png": mode, "xor.json": mode}


@pytest.mark.parametrize("mask, mode", MODES[:2], ids=oct)
def test_graph_output_has_the_umask_modes(tmp_path, capsys, mask, mode):
    with umask(mask):
        assert cli("graph", "-o", tmp_path / "g.svg") == 0
    assert file_modes(tmp_path) == {"g.svg": mode}   # one file, drawn with or without Graphviz
