"""A restricted unpickler for data files: it rebuilds dicts, lists, strings, bytes, numbers and
NumPy arrays, and refuses every other class or function a file names — unpickling a crafted
file can otherwise run any code (``os.system`` through ``__reduce__``)."""
from __future__ import annotations

import io
import pickle

import numpy as np

_RECONSTRUCT = np.array(0).__reduce__()[0]          # numpy's ndarray rebuilder, any numpy version

# The only globals a CIFAR python batch names: an ndarray is pickled as
# _reconstruct(ndarray, (0,), b'b') plus its state, its dtype as dtype('u1', 0, 1) plus state.
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,    # files written by NumPy 1.x
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,   # ... and by NumPy 2.x
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` knows only :data:`ALLOWED`."""

    def __init__(self, file, source: str, owner: str):
        super().__init__(file, encoding="bytes")
        self.source, self.owner = source, owner

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"{self.owner}: refusing to load {module}.{name} from {self.source}: a data batch "
                "may only hold dicts, lists, strings, numbers and NumPy arrays (the file is not a "
                "genuine batch, or was re-saved in another format)") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"{self.owner}: {self.source} refers to a persistent object; "
                                     "not a data batch")


def safe_loads(data: bytes, source: str, owner: str):
    """Unpickle ``data`` allowing only plain containers and NumPy arrays. Python 2 strings load
    as bytes. Raises ``pickle.UnpicklingError`` for forbidden content and ValueError for a file
    that is not a pickle at all."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), source, owner).load()
    except pickle.UnpicklingError as e:
        if str(e).startswith(owner + ":"):
            raise
        raise ValueError(f"{owner}: {source} is corrupt or not a pickled data batch ({e})") from None
    except Exception as e:  # noqa: BLE001 — any parse failure (EOF, bad opcode) is a corrupt file
        raise ValueError(f"{owner}: {source} is corrupt or not a pickled data batch "
                         f"({type(e).__name__}: {e})") from None
