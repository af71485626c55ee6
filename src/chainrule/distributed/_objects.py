"""Objects as bytes for ``all_gather_object`` / ``broadcast_object_list`` — without pickle.

torch pickles the objects, so a peer can make every rank run code. chainrule sends *data*
only: None, bools, ints, floats, strings, Tensors, NumPy arrays, and lists, tuples and dicts
of these. The bytes are ``[8-byte length][JSON description][raw array bytes ...]``: the JSON
spells the structure, each array is a dtype, a shape and an offset into the raw part.
"""
from __future__ import annotations

import json
import struct

import numpy as np

from ..tensor import Tensor

_DTYPES = {"bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
           "complex64", "complex128"}


def encode(obj, what: str) -> bytes:
    """``obj`` as bytes. Raises TypeError (naming ``what``) for anything that is not data."""
    arrays = []

    def enc(x, path):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int):
            return {"int": str(x)}           # JSON numbers lose big ints in some readers
        if isinstance(x, float):
            return {"float": repr(x)}        # keeps nan / inf / -0.0 exactly
        if isinstance(x, (Tensor, np.ndarray)):
            a = x._data if isinstance(x, Tensor) else x
            if a.dtype.name not in _DTYPES:
                raise TypeError(f"{what}: cannot send an array of dtype {a.dtype} at {path}")
            arrays.append(np.ascontiguousarray(a))
            d = {"array": len(arrays) - 1, "dtype": a.dtype.name, "shape": list(a.shape)}
            if isinstance(x, Tensor):
                d["tensor"] = True
                d["requires_grad"] = bool(x.requires_grad)
            return d
        if isinstance(x, (list, tuple)):
            items = [enc(v, f"{path}[{i}]") for i, v in enumerate(x)]
            return {"list" if isinstance(x, list) else "tuple": items}
        if isinstance(x, dict):
            return {"dict": [[enc(k, f"{path} key"), enc(v, f"{path}[{k!r}]")]
                             for k, v in x.items()]}
        if isinstance(x, (np.integer, np.floating, np.bool_)):
            return enc(x.item(), path)
        raise TypeError(f"{what}: cannot send an object of type {type(x).__name__} at {path}; "
                        f"chainrule sends data only (None, bool, int, float, str, Tensor, "
                        f"NumPy array, and lists, tuples and dicts of these), never pickles")

    structure = enc(obj, "obj")
    raw = b"".join(a.tobytes() for a in arrays)
    offsets, at = [], 0
    for a in arrays:
        offsets.append(at)
        at += a.nbytes
    head = json.dumps({"obj": structure, "offsets": offsets}).encode()
    return struct.pack("<Q", len(head)) + head + raw


def decode(buf) -> object:
    """The object :func:`encode` wrote."""
    buf = memoryview(buf).cast("B")
    (n,) = struct.unpack("<Q", buf[:8])
    head = json.loads(bytes(buf[8:8 + n]))
    base = 8 + n
    offsets = head["offsets"]

    def dec(x):
        if x is None or isinstance(x, (bool, str)):
            return x
        if "int" in x:
            return int(x["int"])
        if "float" in x:
            return float(x["float"])
        if "array" in x:
            dtype = np.dtype(x["dtype"])
            count = int(np.prod(x["shape"], dtype=np.int64))
            start = base + offsets[x["array"]]
            a = np.frombuffer(buf[start:start + count * dtype.itemsize], dtype=dtype,
                              count=count).reshape(x["shape"]).copy()
            if x.get("tensor"):
                t = Tensor._make(a)
                if x["requires_grad"]:
                    t.requires_grad_(True)
                return t
            return a
        if "list" in x:
            return [dec(v) for v in x["list"]]
        if "tuple" in x:
            return tuple(dec(v) for v in x["tuple"])
        if "dict" in x:
            return {dec(k): dec(v) for k, v in x["dict"]}
        raise ValueError(f"malformed object message: {x!r}")

    return dec(head["obj"])
