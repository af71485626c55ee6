"""Checkpoints: nested training state (model, optimizer, scheduler, RNG, epoch) on disk, safely.

No pickle is involved anywhere. A nested state — dicts, lists, tuples, numbers, strings,
None, Tensors and NumPy arrays — is split into

- its arrays, stored under flat keys that spell their path (``model/fc1.weight``,
  ``optimizer/state/0/exp_avg``), and
- a JSON description of everything else, in which each array is a reference to its key.
  Dict keys keep their type (the optimizer's state is keyed by int), tuples stay tuples,
  OrderedDicts (a ``state_dict()``) OrderedDicts, and floats round-trip exactly (JSON carries
  repr(float); inf and nan included). Dtypes, devices and ``Size`` values are stored by name,
  as torch's ``weights_only`` loader allows them.

Two containers: ``.npz`` (NumPy only; the JSON is a uint8 array ``__chainrule_meta__`` and the
file loads with ``allow_pickle=False``) and ``.safetensors`` (the ``safetensors`` extra; the
JSON goes in the header's metadata). Files are written atomically by
:func:`chainrule._io.atomic_write_bytes` (temporary file in the same directory, fsync, rename
over the target): a crash or error mid-write leaves the previous checkpoint untouched.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np

from .. import _dtype
from .._device import device
from .._io import atomic_write_bytes
from .._tensor_base import Size
from ..tensor import Tensor

__all__ = ["save_checkpoint", "load_checkpoint", "flatten_state", "unflatten_state"]

_META = "__chainrule_meta__"
_FORMAT = "chainrule-checkpoint/1"


# ---------------------------------------------------------------------- (un)flattening
def flatten_state(state) -> tuple[dict, dict]:
    """Split a nested state into ``(arrays, meta)``: flat ``{key: ndarray}`` and a JSON-able
    description of the rest."""
    arrays: dict[str, np.ndarray] = {}

    def key_for(path):
        key = "/".join(path) or "_"
        base, n = key, 1
        while key in arrays or key == _META:
            key, n = f"{base}#{n}", n + 1
        return key

    def enc(obj, path):
        if isinstance(obj, Tensor):
            k = key_for(path)
            arrays[k] = np.asarray(obj._data, order="C")
            entry = {"__tensor__": k}
            if _is_parameter(obj):          # torch.save keeps a Parameter a Parameter
                entry["parameter"] = True
            if obj.requires_grad:           # ... and a tensor's requires_grad
                entry["requires_grad"] = True
            return entry
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise TypeError(f"checkpoint: cannot store a NumPy array of dtype {obj.dtype} at "
                                f"'{'/'.join(path)}' (numbers only, no pickle)")
            k = key_for(path)
            arrays[k] = np.asarray(obj, order="C")
            return {"__ndarray__": k}
        if isinstance(obj, np.generic):  # keep NumPy scalar types exact
            k = key_for(path)
            arrays[k] = np.asarray(obj)
            return {"__npscalar__": k}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            entry = {"__dict__": [[enc_key(k, path), enc(v, path + [str(k)])]
                                  for k, v in obj.items()]}
            if isinstance(obj, OrderedDict):
                entry["ordered"] = True
            return entry
        if isinstance(obj, _dtype.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, device):
            return {"__device__": str(obj)}
        if isinstance(obj, Size):
            return {"__size__": [int(v) for v in obj]}
        if isinstance(obj, tuple):
            return {"__tuple__": [enc(v, path + [str(i)]) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [enc(v, path + [str(i)]) for i, v in enumerate(obj)]
        raise TypeError(f"checkpoint: cannot store a value of type {type(obj).__name__} at "
                        f"'{'/'.join(path)}' (expected Tensors, arrays, numbers, strings, None, "
                        "dtypes, devices, dicts, lists or tuples)")

    def enc_key(k, path):
        if k is None or isinstance(k, (bool, int, float, str)):
            return k
        if isinstance(k, np.integer):
            return int(k)
        if isinstance(k, tuple):
            return {"__tuple__": [enc_key(v, path) for v in k]}
        raise TypeError(f"checkpoint: cannot store a dict key of type {type(k).__name__} at "
                        f"'{'/'.join(path)}'")

    meta = {"format": _FORMAT, "state": enc(state, [])}
    return arrays, meta


def unflatten_state(arrays, meta):
    """Rebuild the nested state from ``flatten_state``'s output (arrays become Tensors).
    Metadata that ``flatten_state`` cannot have written (a damaged or hand-made file) raises
    ValueError naming what is wrong, never a TypeError or RecursionError from inside."""
    if not isinstance(meta, dict):
        raise ValueError(f"load_checkpoint: the metadata is a {type(meta).__name__}, expected "
                         "an object with 'format' and 'state'")
    if "state" not in meta and meta.get("format") == _FORMAT:
        raise ValueError("load_checkpoint: the metadata has no 'state'")
    try:
        return _unflatten(arrays, meta)
    except RecursionError:
        raise ValueError("load_checkpoint: the metadata is nested too deeply to be a "
                         "checkpoint") from None
    except (TypeError, KeyError, AttributeError, IndexError) as e:
        raise ValueError(f"load_checkpoint: malformed metadata ({type(e).__name__}: {e})") \
            from None


def _unflatten(arrays, meta):
    if meta.get("format") != _FORMAT:
        raise ValueError(f"load_checkpoint: unknown checkpoint format {meta.get('format')!r} "
                         f"(expected {_FORMAT!r})")

    def get(key):
        if key not in arrays:
            raise ValueError(f"load_checkpoint: the checkpoint is missing array '{key}'")
        return arrays[key]

    def dec(obj):
        if isinstance(obj, list):
            return [dec(v) for v in obj]
        if isinstance(obj, dict):
            if "__tensor__" in obj:
                return _make_tensor(np.array(get(obj["__tensor__"])), obj)
            if "__ndarray__" in obj:
                return np.array(get(obj["__ndarray__"]))
            if "__npscalar__" in obj:
                return get(obj["__npscalar__"])[()]
            if "__tuple__" in obj:
                return tuple(dec(v) for v in obj["__tuple__"])
            if "__dict__" in obj:
                items = [(dec_key(k), dec(v)) for k, v in obj["__dict__"]]
                return OrderedDict(items) if obj.get("ordered") else dict(items)
            if "__dtype__" in obj:
                return _dtype._lookup_name(obj["__dtype__"])
            if "__device__" in obj:
                return device(obj["__device__"])
            if "__size__" in obj:
                return Size(int(v) for v in obj["__size__"])
            raise ValueError(f"load_checkpoint: malformed metadata entry {sorted(obj)}")
        return obj

    def dec_key(k):
        if isinstance(k, dict) and "__tuple__" in k:
            return tuple(dec_key(v) for v in k["__tuple__"])
        return k

    return dec(meta["state"])


def _is_parameter(t) -> bool:
    from ..nn.parameter import Parameter
    return isinstance(t, Parameter)


def _make_tensor(array, entry):
    """The Tensor of one ``__tensor__`` entry: a Parameter, and requiring grad, as it was saved
    (files without these flags give plain Tensors that do not require grad)."""
    requires_grad = entry.get("requires_grad") is True
    if entry.get("parameter") is True:
        from ..nn.parameter import Parameter
        return Parameter(Tensor._make(array), requires_grad=requires_grad)
    return Tensor._make(array, requires_grad=requires_grad and array.dtype.kind in "fc")


def _format_for(path, format):
    if format is not None:
        if format not in ("npz", "safetensors"):
            raise ValueError(f"save_checkpoint: format must be 'npz' or 'safetensors', got "
                             f"{format!r}")
        return format
    return "safetensors" if os.fspath(path).endswith(".safetensors") else "npz"


def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError("checkpoints in .safetensors need the optional 'safetensors' package: "
                          "pip install 'chainrule[safetensors]' (or save as .npz)") from None
    return st


def save_checkpoint(state, path, format=None) -> None:
    """Save a nested ``state`` (see module docstring) to ``path`` atomically.

    ``format`` is ``'npz'`` or ``'safetensors'``; by default it follows the file extension
    (``.safetensors`` → safetensors, anything else → npz).
    """
    atomic_write_bytes(path, encode_state(state, _format_for(path, format)))


def encode_state(state, format: str) -> bytes:
    """The bytes of a checkpoint file holding ``state``; ``format`` is 'npz' or 'safetensors'.
    The arrays sit under their path keys, so a flat ``{name: Tensor}`` dict (a state_dict) keeps
    its names as they are, and the JSON goes where no reader takes it for an array."""
    arrays, meta = flatten_state(state)
    blob = json.dumps(meta, allow_nan=True)
    if format == "safetensors":
        st = _safetensors_numpy()
        return st.save(arrays, metadata={_META: blob})
    buf = io.BytesIO()
    payload = dict(arrays)
    payload[_META] = np.frombuffer(blob.encode("utf-8"), dtype=np.uint8)
    # the .npz layout written entry by entry (np.savez's keywords would swallow keys named
    # "file" or "allow_pickle")
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for name, array in payload.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def load_checkpoint(path, format=None):
    """Load a state saved by :func:`save_checkpoint` (arrays come back as chainrule Tensors)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_checkpoint: no checkpoint at '{path}'")
    if _format_for(path, format) == "safetensors":
        st = _safetensors_numpy()
        from safetensors import safe_open
        with safe_open(path, framework="numpy") as f:
            header = f.metadata() or {}
        if _META not in header:
            raise ValueError(f"load_checkpoint: '{path}' is not a chainrule checkpoint (no "
                             f"{_META} metadata)")
        arrays = st.load_file(path)
        meta = _parse_meta(header[_META].encode("utf-8"), path)
    else:
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except ValueError as e:
            raise ValueError(f"load_checkpoint: '{path}' is not a readable .npz checkpoint: "
                             f"{e}") from None
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"load_checkpoint: '{path}' is not a readable .npz checkpoint "
                             f"(truncated or corrupt?): {e}") from None
        if _META not in arrays:
            raise ValueError(f"load_checkpoint: '{path}' is not a chainrule checkpoint (no "
                             f"{_META} entry)")
        meta = _parse_meta(arrays.pop(_META).tobytes(), path)
    return unflatten_state(arrays, meta)


def _parse_meta(blob: bytes, path: str):
    """The JSON metadata of a checkpoint; ValueError (not a decode or recursion error from
    inside ``json``) when it is not readable JSON."""
    try:
        return json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"load_checkpoint: '{path}' has unreadable metadata ({e})") from None
    except RecursionError:
        raise ValueError(f"load_checkpoint: '{path}' has metadata nested too deeply to be a "
                         "checkpoint") from None
