"""Headless Chromium on the built site: the rendered DOM of a page and a screenshot of it.

Used by tests/test_docs_site.py and by ``make docs-screenshot`` (``python
tools/docsite/browser.py SITE_DIR docs/figures/site-home.png``), which refreshes the home-page
picture the README shows. Chromium is Debian's ``chromium`` package (``make docs`` and
``make test`` install it when it is missing and apt-get is there).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    env = os.environ.get("CHROMIUM")
    if env and shutil.which(env):
        return shutil.which(env)
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    # A fresh profile per call (no state between pages); --no-sandbox because CI runs as root;
    # the virtual-time budget lets the page's scripts (KaTeX) finish before the dump.
    with tempfile.TemporaryDirectory(prefix="chainrule-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
               "--virtual-time-budget=5000", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(path: str, timeout: float = 60) -> str:
    """The DOM of the local HTML file ``path`` after its scripts ran."""
    r = _run(["--dump-dom", "file://" + os.path.abspath(path)], timeout)
    if r.returncode != 0 or "<html" not in r.stdout:
        raise RuntimeError(f"chromium --dump-dom {path} failed ({r.returncode}): {r.stderr[-800:]}")
    return r.stdout


def screenshot(path: str, out: str, size=(1280, 900), timeout: float = 60) -> str:
    """A PNG screenshot of the local HTML file ``path``, written to ``out``."""
    out = os.path.abspath(out)
    if os.path.exists(out):
        os.remove(out)
    r = _run([f"--window-size={size[0]},{size[1]}", f"--screenshot={out}",
              "file://" + os.path.abspath(path)], timeout)
    if not os.path.exists(out):
        raise RuntimeError(f"chromium --screenshot {path} failed ({r.returncode}): "
                           f"{r.stderr[-800:]}")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tools/docsite/browser.py SITE_DIR OUT.png")
    print(screenshot(os.path.join(sys.argv[1], "index.html"), sys.argv[2]))
