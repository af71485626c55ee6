"""What training shows while it runs: tqdm bars on a terminal, tqdm's notebook bars in Jupyter
(when ipywidgets is installed), or one plain line per epoch
(``epoch 3/40  loss 0.1234  accuracy 0.9700  val_loss ...``) where bars would not read well.

The :class:`~chainrule.train.Trainer` draws the bars (:class:`Progress`); :class:`EpochLines`
is the callback that prints the plain lines into a pipe or a log file, where carriage-return
bars would leave a trail of partial lines. Both format an epoch with :func:`epoch_line`.
"""
from __future__ import annotations

import sys

from .callbacks import Callback

__all__ = ["EpochLines", "Progress", "epoch_line", "format_logs", "in_notebook", "is_tty"]


def is_tty(stream) -> bool:
    """Whether ``stream`` is a terminal; False for streams without ``isatty`` or closed ones
    (pytest's capture, a StringIO, a closed log file), which must not stop a training run."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter kernel (IPython's ``IPKernelApp``: the notebook,
    JupyterLab, VS Code's notebooks), where stderr is not a terminal yet output is read live.
    Looked up without importing IPython, so a plain script pays nothing."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except (AttributeError, TypeError):     # a foreign or half-built shell: not a notebook
        return False


def _has_widgets() -> bool:
    """Whether ipywidgets (tqdm's notebook bar is a widget) can be imported."""
    import importlib.util
    try:
        return importlib.util.find_spec("ipywidgets") is not None
    except (ImportError, ValueError):
        return False


def format_logs(logs: dict) -> str:
    """``loss 0.1234  accuracy 0.9700``: floats to 4 decimals, anything else as it prints."""
    return "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in logs.items())


def epoch_line(epoch: int, epochs: int, logs: dict) -> str:
    """The one-line summary of an epoch: ``epoch 3/40  loss 0.1234  accuracy 0.9700 ...``."""
    return f"epoch {epoch}/{epochs}  {format_logs(logs)}"


class Progress:
    """The Trainer's progress display. ``enabled`` is True, False or None (auto: on when stderr
    is a terminal or the code runs in a Jupyter notebook, off otherwise — pipes and log files
    get :class:`EpochLines` from the CLI instead).

    When enabled: tqdm bars (``tqdm.auto``: a terminal bar, or in Jupyter the notebook widget
    bar); one plain line per epoch instead when tqdm (the optional 'progress' extra) is missing,
    or in Jupyter when ipywidgets is (tqdm's notebook bar needs it). In Jupyter the plain lines
    go to stdout, the cell's ordinary output; elsewhere to stderr."""

    def __init__(self, enabled):
        notebook = in_notebook()
        self.stream = sys.stdout if notebook else sys.stderr
        if enabled is None:
            enabled = notebook or is_tty(sys.stderr)
        self.enabled = bool(enabled)
        self.tqdm = None
        if self.enabled and (_has_widgets() or not notebook):
            try:
                from tqdm.auto import tqdm
                self.tqdm = tqdm
            except ImportError:
                self.tqdm = None
        self.bar = None

    def epoch_begin(self, epoch, epochs, total):
        """Open the epoch's bar (``total`` batches; None when the loader has no length)."""
        if self.enabled and self.tqdm is not None:
            self.bar = self.tqdm(total=total, desc=f"epoch {epoch}/{epochs}", leave=True,
                                 file=self.stream, dynamic_ncols=True)

    def batch_end(self, loss):
        """Advance the bar by one batch and show its loss."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def epoch_end(self, epoch, epochs, logs):
        """Close the bar with the epoch's logs, or print the plain line without tqdm."""
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs))
            self.close()
        elif self.enabled:
            print(epoch_line(epoch, epochs, logs), file=self.stream, flush=True)

    def close(self):
        """Close a bar left open (training stopped by an exception mid-epoch)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EpochLines(Callback):
    """Print :func:`epoch_line` to stderr after every epoch of ``epochs``: the progress shown
    when stderr is not a terminal (a pipe, a log file, CI)."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def on_epoch_complete(self, trainer, epoch, logs):
        print(epoch_line(epoch, self.epochs, logs), file=sys.stderr, flush=True)
