"""Fetching dataset files: checksum-verified, written atomically (temp file + fsync + rename)."""
from __future__ import annotations

import hashlib
import os

from .._io import atomic_open


def md5(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(urls, directory, filename, checksum) -> str:
    """Try each mirror in turn; keep the file only if its md5 matches ``checksum``."""
    import urllib.request
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, filename)
    errors = []
    for url in urls:
        try:
            with atomic_open(target) as out, urllib.request.urlopen(url, timeout=60) as resp:
                h = hashlib.md5()
                for block in iter(lambda: resp.read(1 << 20), b""):
                    h.update(block)
                    out.write(block)
                if h.hexdigest() != checksum:   # raising here keeps the temporary file out
                    raise ValueError(f"md5 {h.hexdigest()} != expected {checksum}")
            return target
        except Exception as e:  # noqa: BLE001 — any failure means: try the next mirror
            errors.append(f"{url}: {e}")
    raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(errors))
