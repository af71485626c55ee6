"""Shared helpers of the demos: lazy matplotlib, atomic figure saving, timing."""
from __future__ import annotations

import os
import tempfile
import time


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
    """Save ``fig`` as ``out_dir/name.png`` atomically (temp file + rename); return the path."""
    plt = pyplot()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.png")
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
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
