"""Shared helpers of the demos: lazy matplotlib, atomic figure saving, timing."""
from __future__ import annotations

import os
import time

from .._io import atomic_open


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend, or an ImportError naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("chainrule demos draw their figures with matplotlib, which is not "
                          "installed: pip install 'chainrule[viz]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, out_dir: str, name: str, dpi: int = 80) -> str:
    """Save ``fig`` as ``out_dir/name.png`` atomically and close it; return the path."""
    plt = pyplot()
    path = os.path.join(out_dir, f"{name}.png")
    try:
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)      # a figure left open holds its memory until the process ends
    return path


def report(result: dict, finding: str, figure: str) -> dict:
    """Print the one-line finding and return ``result`` with ``finding`` and ``figure`` added."""
    print(finding)
    result["finding"] = finding
    result["figure"] = figure
    return result


def best_time(fn, repeat: int = 3) -> float:
    """The smallest wall time of ``repeat`` calls of ``fn()`` (seconds): the least noisy estimate."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
