"""Shared helpers of the demos: figures drawn without pyplot, optional atomic saving, the
result that shows its figure inline in Jupyter, timing.

The demos draw on a ``matplotlib.figure.Figure`` made directly (not through pyplot), so
running one never touches matplotlib's backend or pyplot's list of open figures: in a Jupyter
notebook the inline backend stays in charge, in a script nothing pops up, and a figure is freed
as soon as nothing refers to it.
"""
from __future__ import annotations

import io
import os
import time

from .._io import atomic_open


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``(fig, axes)`` like ``pyplot.subplots`` but on a standalone ``Figure`` (no backend, no
    pyplot state); ``kwargs`` go to ``Figure`` (``figsize``, ``dpi`` …) except ``sharex`` /
    ``sharey`` / ``squeeze`` / ``subplot_kw`` / ``gridspec_kw``, which go to ``Figure.subplots``.
    Raises an ImportError naming the extra when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("chainrule draws its figures with matplotlib, which is not "
                          "installed: pip install 'chainrule[viz]'") from None
    grid = {k: kwargs.pop(k) for k in ("sharex", "sharey", "squeeze", "subplot_kw", "gridspec_kw")
            if k in kwargs}
    fig = Figure(**kwargs)
    return fig, fig.subplots(nrows, ncols, **grid)


def png_bytes(fig, dpi: int = 80) -> bytes:
    """The figure rendered as PNG bytes (what Jupyter displays inline)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def save_figure(fig, out_dir: str, name: str, dpi: int = 80) -> str:
    """Save ``fig`` as ``out_dir/name.png`` atomically (creating ``out_dir``); return the path.
    The figure stays usable (it is not registered with pyplot, so nothing needs closing)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.png")
    with atomic_open(path, "wb") as f:
        f.write(png_bytes(fig, dpi))
    return path


class DemoResult(dict):
    """A demo's measured numbers (a plain dict: JSON-serialisable as it is) plus ``fig``, the
    ``matplotlib.figure.Figure`` it drew. As the last expression of a Jupyter cell it shows the
    finding and the figure inline (``_repr_png_``); ``result.fig`` can be redrawn, restyled or
    saved again."""

    def __init__(self, values: dict, fig=None):
        super().__init__(values)
        self.fig = fig

    def _repr_png_(self):
        return None if self.fig is None else png_bytes(self.fig)

    def _repr_pretty_(self, p, cycle):
        p.text(self.get("finding", dict.__repr__(self)))


def report(result: dict, finding: str, fig, out_dir: str | None, name: str) -> DemoResult:
    """Print the one-line finding; save ``fig`` as ``out_dir/name.png`` when ``out_dir`` is
    given; return ``result`` as a :class:`DemoResult` with ``finding`` and ``figure`` (the PNG's
    path, or None when not saved) added and ``fig`` attached."""
    print(finding)
    result["finding"] = finding
    result["figure"] = None if out_dir is None else save_figure(fig, out_dir, name)
    return DemoResult(result, fig)


def best_time(fn, repeat: int = 3) -> float:
    """The smallest wall time of ``repeat`` calls of ``fn()`` (seconds): the least noisy estimate."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
