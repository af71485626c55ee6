"""``cr.save`` / ``cr.load`` (torch's ``torch.save`` / ``torch.load``) and ``cr.from_dlpack``.

chainrule never pickles, in either direction. ``save`` stores *data* — Tensors, NumPy arrays,
numbers, strings, None, and dicts, lists and tuples of them: a Tensor, a ``state_dict()``, an
optimizer's ``state_dict()``, a dict of all of these — in the checkpoint format of
:mod:`chainrule.train.checkpoint` (each array under a key that spells its path, plus a JSON
description of the rest). The container follows the file name:

- ``*.safetensors`` → a safetensors file (needs the optional ``safetensors`` package). A flat
  ``{name: Tensor}`` dict (a ``state_dict``) keeps its names as the tensor names, so
  ``safetensors.torch.load_file(path)`` gives torch the same keys; chainrule's JSON sits in the
  header's ``__metadata__``, which no reader takes for a tensor.
- anything else (``.pt``, ``.pth``, ``.npz``, ...) → chainrule's ``.npz`` format: a NumPy zip
  archive of the arrays plus the uint8 array ``__chainrule_meta__`` holding the JSON; NumPy
  alone reads it (``np.load(path, allow_pickle=False)``).

``load`` recognises the container from the file's first bytes (not its name) and reads
chainrule's files, any safetensors file (one written by ``safetensors.torch.save_file`` comes
back as a flat ``{name: Tensor}`` dict) and any plain ``.npz`` of numeric arrays. It refuses a
``torch.save`` file (a pickle, possibly inside a zip) instead of unpickling it, and NumPy's
object arrays are never unpickled (``allow_pickle=False``), so loading a file runs no code from
it: every load is what torch calls ``weights_only=True``, whatever ``weights_only`` says.

Deliberate differences from torch: modules and other arbitrary objects cannot be saved (save
``model.state_dict()``); tensors that shared memory when saved come back as separate tensors;
``mmap=True`` is accepted but the file is read into memory.
"""
from __future__ import annotations

import io
import json
import os
import struct
import zipfile

import numpy as np

from . import _dtype
from ._device import check_device, device
from ._io import atomic_write_bytes
from .tensor import Tensor
from .train import checkpoint as _ckpt

__all__ = ["save", "load", "from_dlpack"]

# what chainrule's dtypes can hold, by safetensors' dtype names
_ST_DTYPES = {"BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "F32", "F64"}
_TORCH_HINT = ("chainrule reads its own files (cr.save) and safetensors files. Convert it once "
               "in torch: from safetensors.torch import save_file; "
               "save_file(model.state_dict(), 'model.safetensors'); then "
               "model.load_state_dict(cr.load('model.safetensors'))")


# ------------------------------------------------------------------------------------ save
def save(obj, f, *, format: str | None = None) -> None:
    """Save ``obj`` to ``f`` as ``torch.save`` does, without pickle.

    Args:
        obj: a Tensor (any shape, 0-d and empty included), a ``state_dict()``, an optimizer's
            ``state_dict()``, or dicts / lists / tuples of these and of numbers, strings, None,
            dtypes, devices and numeric NumPy arrays. Tensors keep their dtype, shape,
            ``requires_grad`` and whether they are a ``Parameter``; dict keys keep their type
            (int, str, tuple), an OrderedDict stays one, a ``Size`` a ``Size``.
        f: a path (``str`` or ``os.PathLike``), written atomically (the old file stays whole
            if anything fails), or a binary file object open for writing (the bytes are written
            at its position).
        format: ``'npz'`` or ``'safetensors'``; by default it follows the path's extension
            (``.safetensors`` → safetensors, anything else → npz) and is npz for file objects.

    Raises:
        TypeError: ``obj`` is (or holds) an ``nn.Module``, an optimizer or any other object that
            is not data — save its ``state_dict()`` instead.

    Example::

        >>> cr.save(model.state_dict(), "model.safetensors")
        >>> model.load_state_dict(cr.load("model.safetensors"))
    """
    _check_saveable(obj, [])
    is_path = isinstance(f, (str, os.PathLike))
    if format is None:
        format = "safetensors" if is_path and os.fspath(f).endswith(".safetensors") else "npz"
    elif format not in ("npz", "safetensors"):
        raise ValueError(f"save: format must be 'npz' or 'safetensors', got {format!r}")
    if not is_path and not callable(getattr(f, "write", None)):
        raise TypeError(f"save: f must be a path (str or os.PathLike) or a binary file object "
                        f"with write(), got {type(f).__name__}")
    try:
        data = _ckpt.encode_state(obj, format)
    except TypeError as e:
        raise TypeError(str(e).replace("checkpoint:", "save:", 1)) from None
    if is_path:
        atomic_write_bytes(f, data)
    else:
        f.write(data)


def _check_saveable(obj, path):
    """TypeError for a Module / optimizer / scheduler / other object, naming what to save."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_saveable(v, path + [str(k)])
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_saveable(v, path + [str(i)])
        return
    if isinstance(obj, (Tensor, np.ndarray, np.generic, str, int, float, _dtype.dtype, device)) \
            or obj is None:
        return
    from . import nn, optim
    where = f" at '{'/'.join(path)}'" if path else ""
    name = type(obj).__name__
    if isinstance(obj, nn.Module):
        raise TypeError(f"save: cannot save a Module ({name}){where}: chainrule never pickles, "
                        "so it saves data, not objects. Save model.state_dict() and restore "
                        "with model.load_state_dict(cr.load(f)) on a model built by your code")
    if isinstance(obj, optim.Optimizer):
        raise TypeError(f"save: cannot save an optimizer ({name}){where}: save "
                        "optimizer.state_dict() and restore with "
                        "optimizer.load_state_dict(cr.load(f))")
    if callable(getattr(obj, "state_dict", None)):
        raise TypeError(f"save: cannot save a {name} object{where}: save its state_dict() "
                        "(chainrule saves data, never pickled objects)")
    raise TypeError(f"save: cannot save a value of type {name}{where} (expected Tensors, "
                    "numeric arrays, numbers, strings, None, dtypes, devices, dicts, lists or "
                    "tuples; chainrule never pickles)")


# ------------------------------------------------------------------------------------ load
def load(f, map_location=None, weights_only=None, mmap=None, **pickle_load_args):
    """Load what :func:`save` wrote (or a safetensors / numeric ``.npz`` file), as ``torch.load``.

    Args:
        f: a path (``str`` or ``os.PathLike``) or a binary file object open for reading (read
            from its position to the end).
        map_location: where tensors go, in any of torch's forms — None, ``'cpu'``,
            ``cr.device('cpu')``, a dict mapping saved locations to new ones (``{'cuda:0':
            'cpu'}``), or a callable ``(tensor, location) -> tensor or None`` called with each
            tensor and ``'cpu'``. Every tensor is on the CPU; mapping to another device raises
            chainrule's device error (a RuntimeError, as torch's without CUDA).
        weights_only: accepted (True, False or None) for torch compatibility; loading is always
            weights-only-safe — nothing is ever unpickled.
        mmap: accepted (True needs a path, as torch); the file is read into memory.

    Returns:
        the saved object: Tensors come back as Tensors (a saved Parameter as a Parameter, with
        ``requires_grad`` as saved), tuples as tuples, int dict keys as ints. A safetensors or
        ``.npz`` file not written by chainrule gives a flat ``{name: Tensor}`` dict.

    Raises:
        FileNotFoundError: no file at the path.
        ValueError: the file is a ``torch.save`` pickle (refused, with how to convert it), is
            damaged, holds object arrays, or is not a format chainrule reads.

    Example::

        >>> model.load_state_dict(cr.load("model.pt", map_location="cpu", weights_only=True))
    """
    if pickle_load_args:
        raise TypeError(f"load: unexpected arguments {sorted(pickle_load_args)} (chainrule never "
                        "unpickles, so it takes no pickle options)")
    for flag, value in (("weights_only", weights_only), ("mmap", mmap)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"load: {flag} must be True, False or None, got {value!r}")
    mapper = _map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"load: no file at '{name}'")
        with open(name, "rb") as fh:
            data = fh.read()
    else:
        if mmap:
            raise ValueError("load: f must be a file path in order to use the mmap argument")
        if not callable(getattr(f, "read", None)):
            raise TypeError(f"load: f must be a path (str or os.PathLike) or a binary file "
                            f"object with read(), got {type(f).__name__}")
        name = getattr(f, "name", None) or "<file object>"
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"load: the file object gave {type(data).__name__}, expected bytes "
                            "(open the file in binary mode, 'rb')")
        data = bytes(data)
    obj = _decode(data, str(name))
    return obj if mapper is None else _map_tensors(obj, mapper)


def _decode(data: bytes, name: str):
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _decode_zip(data, name)
    if len(data) >= 10:      # safetensors: u64 header length, then the JSON header
        (n,) = struct.unpack("<Q", data[:8])
        if 8 + n <= len(data) and data[8:9] == b"{":
            return _decode_safetensors(data, n, name)
    if data[:1] == b"\x80" or data[:1] in (b"(", b"]", b"}"):
        raise ValueError(f"load: '{name}' is a pickle (the legacy torch.save format) and "
                         f"chainrule never unpickles. {_TORCH_HINT}")
    raise ValueError(f"load: '{name}' is neither a chainrule file (.npz) nor a safetensors file "
                     f"({len(data)} bytes starting {data[:8]!r})")


def _decode_zip(data: bytes, name: str):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.namelist()
    except zipfile.BadZipFile as e:
        raise ValueError(f"load: '{name}' is not a readable .npz file (truncated or corrupt?): "
                         f"{e}") from None
    if any(m.endswith(".pkl") or m.endswith("/version") or m == "version" for m in members):
        raise ValueError(f"load: '{name}' was written by torch.save (a zip archive holding a "
                         f"pickle) and chainrule never unpickles. {_TORCH_HINT}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as e:
        raise ValueError(f"load: '{name}' is not a readable .npz file: {e}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"load: '{name}' is not a readable .npz file (truncated or corrupt?): "
                         f"{e}") from None
    if _ckpt._META in arrays:
        meta = _ckpt._parse_meta(arrays.pop(_ckpt._META).tobytes(), name)
        return _ckpt.unflatten_state(arrays, meta)
    return _flat(arrays, name)


def _decode_safetensors(data: bytes, n: int, name: str):
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"load: '{name}' has an unreadable safetensors header ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"load: '{name}' has a safetensors header that is not an object")
    meta = header.get("__metadata__") or {}
    infos = {k: v for k, v in header.items() if k != "__metadata__"}
    for k, v in infos.items():
        dt = v.get("dtype") if isinstance(v, dict) else None
        if dt not in _ST_DTYPES:
            raise ValueError(f"load: tensor '{k}' in '{name}' has dtype {dt}, which chainrule "
                             f"cannot hold (it has {', '.join(sorted(_ST_DTYPES))}); convert it "
                             "in torch first, e.g. {k: v.float() for k, v in sd.items()}")
    st = _ckpt._safetensors_numpy()
    try:
        arrays = st.load(data)
    except Exception as e:     # safetensors raises its own SafetensorError for damaged files
        raise ValueError(f"load: '{name}' is not a readable safetensors file: {e}") from None
    if isinstance(meta, dict) and _ckpt._META in meta:
        return _ckpt.unflatten_state(arrays, _ckpt._parse_meta(meta[_ckpt._META].encode("utf-8"),
                                                               name))
    # a foreign file: a flat dict, in the order of the tensors in the file
    order = sorted(infos, key=lambda k: tuple(infos[k].get("data_offsets", (0, 0))))
    return _flat({k: arrays[k] for k in order}, name)


def _flat(arrays, name):
    out = {}
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf" or a.dtype.kind == "u" and a.dtype.itemsize > 1:
            raise ValueError(f"load: array '{k}' in '{name}' has dtype {a.dtype}, which "
                             "chainrule cannot hold")
        out[k] = Tensor._make(np.array(a))
    return out


# ----------------------------------------------------------------------------- map_location
def _map_location(map_location):
    """None (nothing to do) or a function applied to every loaded tensor; a device other than
    the CPU raises now, before the file is read."""
    op = "load(map_location=...)"
    if map_location is None:
        return None
    if isinstance(map_location, dict):
        check_device(map_location.get("cpu", "cpu"), op)    # every saved tensor is on 'cpu'
        return None
    if callable(map_location) and not isinstance(map_location, type):
        def apply(t):
            out = map_location(t, "cpu")
            if out is None:
                return t
            if not isinstance(out, Tensor):
                raise TypeError(f"{op}: the callable returned {type(out).__name__}, expected a "
                                "Tensor or None")
            return out
        return apply
    check_device(map_location, op)
    return None


def _map_tensors(obj, fn):
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map_tensors(v, fn) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_map_tensors(v, fn) for v in obj)
    if isinstance(obj, list):
        return [_map_tensors(v, fn) for v in obj]
    return obj


# ----------------------------------------------------------------------------------- DLPack
def from_dlpack(ext_tensor) -> Tensor:
    """A Tensor sharing memory with ``ext_tensor``, any CPU object with ``__dlpack__`` (a torch
    tensor, a NumPy array, a JAX CPU array, ...), as ``torch.from_dlpack``: writes through either
    side are seen by the other. Built on ``np.from_dlpack``, so no copy is made.

    Raises:
        TypeError: ``ext_tensor`` has no ``__dlpack__`` (a bare DLPack capsule is not accepted).
        BufferError / RuntimeError: the producer refuses (a torch tensor that requires grad, a
            GPU tensor, a dtype NumPy lacks such as bfloat16).
    """
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a torch tensor, a "
                        f"NumPy array, ...), got {type(ext_tensor).__name__}")
    array = np.from_dlpack(ext_tensor)
    if array.dtype.kind not in "biuf" or array.dtype.kind == "u" and array.dtype.itemsize > 1:
        raise TypeError(f"from_dlpack: dtype {array.dtype} has no chainrule counterpart")
    return Tensor._make(array)
