"""Fetching dataset files: checksum-verified, written atomically (temp file + fsync + rename)."""
from __future__ import annotations

import hashlib
import os
import tempfile


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
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
                while True:
                    block = resp.read(1 << 20)
                    if not block:
                        break
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            got = md5(tmp)
            if got != checksum:
                raise ValueError(f"md5 {got} != expected {checksum}")
            os.replace(tmp, target)
            return target
        except Exception as e:  # noqa: BLE001 — any failure means: try the next mirror
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(errors))
