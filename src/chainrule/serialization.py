"""``cr.save`` / ``cr.load`` (torch's ``torch.save`` / ``torch.load``) and ``cr.from_dlpack``.

``save`` stores *data* — Tensors, NumPy arrays, numbers, strings, None, and dicts, lists and
tuples of them: a Tensor, a ``state_dict()``, an optimizer's ``state_dict()``, a dict of all of
these — without pickle, in the checkpoint format of :mod:`chainrule.train.checkpoint` (each
array under a key that spells its path, plus a JSON description of the rest). The container
follows the file name:

- ``*.safetensors`` → a safetensors file (needs the optional ``safetensors`` package). A flat
  ``{name: Tensor}`` dict (a ``state_dict``) keeps its names as the tensor names, so
  ``safetensors.torch.load_file(path)`` gives torch the same keys; chainrule's JSON sits in the
  header's ``__metadata__``, which no reader takes for a tensor.
- anything else (``.pt``, ``.pth``, ``.npz``, ...) → chainrule's ``.npz`` format: a NumPy zip
  archive of the arrays plus the uint8 array ``__chainrule_meta__`` holding the JSON; NumPy
  alone reads it (``np.load(path, allow_pickle=False)``).

Anything else — a Module, an optimizer, any Python object, or a container holding one — is
pickled, as ``torch.save`` does, into torch's zip layout (``archive/data.pkl`` plus each tensor
storage's bytes in ``archive/data/<key>``; :mod:`chainrule._torch_pickle`).

``load`` recognises the container from the file's first bytes (not its name) and reads
chainrule's files, any safetensors file (one written by ``safetensors.torch.save_file`` comes
back as a flat ``{name: Tensor}`` dict), any plain ``.npz`` of numeric arrays, and files written
by ``torch.save`` (zip and legacy formats) — without importing torch. Pickles follow torch's
contract: by default (``weights_only=None`` or ``True``) they go through a restricted unpickler
that rebuilds only tensors, Parameters, dtypes, devices, ``Size`` and plain containers, and
refuses any other global with ``pickle.UnpicklingError``; objects unpickle only with an explicit
``weights_only=False``, which runs code from the file — use it for files you trust. The
pickle-free formats never unpickle, whatever ``weights_only`` says (NumPy's object arrays are
refused: ``allow_pickle=False``).

Deliberate differences from torch: tensors saved in the pickle-free formats that shared memory
come back as separate tensors (in pickled files they share, as torch's); ``mmap=True`` is
accepted but the file is read into memory; ``torch.save`` files holding torch objects other
than tensors and containers (a pickled ``torch.nn.Module``) cannot be rebuilt without torch.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np

from . import _dtype
from . import _torch_pickle as _tp
from ._device import check_device, device
from ._io import atomic_write_bytes
from .tensor import Tensor
from ._torch_pickle import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .train import checkpoint as _ckpt

__all__ = ["save", "load", "from_dlpack", "add_safe_globals", "safe_globals", "get_safe_globals",
           "clear_safe_globals"]

# what chainrule's dtypes can hold, by safetensors' dtype names
_ST_DTYPES = {"BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "F32", "F64"}


# ------------------------------------------------------------------------------------ save
def save(obj, f, *, format: str | None = None) -> None:
    """Save ``obj`` to ``f`` as ``torch.save`` does.

    Data is saved without pickle; anything else is pickled (as torch does), and then loads only
    with ``load(f, weights_only=False)``.

    Args:
        obj: data — a Tensor (any shape, 0-d and empty included), a ``state_dict()``, an
            optimizer's ``state_dict()``, or dicts / lists / tuples of these and of numbers,
            strings, None, dtypes, devices and numeric NumPy arrays — is written pickle-free
            (tensors keep their dtype, shape, ``requires_grad`` and whether they are a
            ``Parameter``; dict keys keep their type, an OrderedDict stays one, a ``Size`` a
            ``Size``). Anything else (a Module, an optimizer, any picklable object, or a
            container holding one) is pickled into torch's zip layout, tensors sharing memory
            still sharing it when loaded.
        f: a path (``str`` or ``os.PathLike``), written atomically (the old file stays whole
            if anything fails), or a binary file object open for writing (the bytes are written
            at its position).
        format: ``'npz'`` or ``'safetensors'`` for data; by default it follows the path's
            extension (``.safetensors`` → safetensors, anything else → npz) and is npz for file
            objects. Pickled objects ignore ``'npz'``; ``'safetensors'`` refuses them.

    Raises:
        TypeError: ``obj`` holds an object but ``format`` (or the file name) asks for
            safetensors, which holds tensors only; or ``obj`` cannot be pickled.

    Example::

        >>> cr.save(model.state_dict(), "model.safetensors")
        >>> model.load_state_dict(cr.load("model.safetensors"))
        >>> cr.save(model, "model.pt")                       # the whole object, pickled
        >>> model = cr.load("model.pt", weights_only=False)  # only for files you trust
    """
    is_path = isinstance(f, (str, os.PathLike))
    if format is None:
        format = "safetensors" if is_path and os.fspath(f).endswith(".safetensors") else "npz"
    elif format not in ("npz", "safetensors"):
        raise ValueError(f"save: format must be 'npz' or 'safetensors', got {format!r}")
    if not is_path and not callable(getattr(f, "write", None)):
        raise TypeError(f"save: f must be a path (str or os.PathLike) or a binary file object "
                        f"with write(), got {type(f).__name__}")
    what = _first_object(obj, [])
    if what is None:
        try:
            data = _ckpt.encode_state(obj, format)
        except TypeError as e:
            raise TypeError(str(e).replace("checkpoint:", "save:", 1)) from None
    elif format == "safetensors":
        raise TypeError(f"save: a safetensors file holds tensors only, but obj holds {what}: "
                        "save model.state_dict() there, or the object to a .pt file (pickled)")
    else:
        try:
            data = _tp.save_objects(obj)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            raise TypeError(f"save: cannot pickle {what}: {e}") from None
    if is_path:
        atomic_write_bytes(f, data)
    else:
        f.write(data)


def _first_object(obj, path):
    """None when ``obj`` is plain data (saved pickle-free), else a description of the first
    object in it that is not, with where it sits."""
    if isinstance(obj, dict):
        found = (_first_object(v, path + [str(k)]) for k, v in obj.items())
        return next((w for w in found if w is not None), None)
    if isinstance(obj, (list, tuple)):
        found = (_first_object(v, path + [str(i)]) for i, v in enumerate(obj))
        return next((w for w in found if w is not None), None)
    if isinstance(obj, (Tensor, np.ndarray, np.generic, str, int, float, _dtype.dtype, device)) \
            or obj is None:
        if isinstance(obj, np.ndarray) and obj.dtype.kind not in "biuf":
            return f"a NumPy array of dtype {obj.dtype}" + (f" at '{'/'.join(path)}'"
                                                             if path else "")
        return None
    where = f" at '{'/'.join(path)}'" if path else ""
    return f"a {type(obj).__name__} object{where}"


# ------------------------------------------------------------------------------------ load
def load(f, map_location=None, weights_only=None, mmap=None, **pickle_load_args):
    """Load what :func:`save` or ``torch.save`` wrote (or a safetensors / numeric ``.npz``
    file), as ``torch.load``, without importing torch.

    Args:
        f: a path (``str`` or ``os.PathLike``) or a binary file object open for reading (read
            from its position to the end).
        map_location: where tensors go, in any of torch's forms — None (where they were saved),
            ``'cpu'``, ``cr.device('cpu')``, a dict mapping saved locations to new ones
            (``{'cuda:0': 'cpu'}``), or a callable ``(storage, location) -> storage or None``
            (for chainrule's pickle-free files it gets each tensor and ``'cpu'``). Every tensor
            lands on the CPU; a file saved on a GPU needs ``map_location='cpu'`` (or a dict or
            callable that maps it there), and any other target raises chainrule's device error.
        weights_only: for pickled files (``torch.save``'s, and chainrule's pickled objects):
            True or None (the default, as torch's since 2.6) unpickles through a restricted
            unpickler that rebuilds only tensors, Parameters, dtypes, devices, ``Size`` and
            dicts / OrderedDicts / lists / tuples / sets of them and of numbers and strings;
            False unpickles anything, running code the file names — only for files you trust.
            Pickle-free files load the same either way.
        mmap: accepted (True needs a path, as torch); the file is read into memory.
        pickle_load_args: ``encoding`` (for Python 2 pickles) with ``weights_only=False``.

    Returns:
        the saved object: Tensors come back as Tensors (a saved Parameter as a Parameter, with
        ``requires_grad`` as saved; from a pickled file with the saved strides and storage
        offset, tensors that shared a storage sharing it), tuples as tuples, int dict keys as
        ints. A safetensors or ``.npz`` file not written by chainrule gives a flat
        ``{name: Tensor}`` dict.

    Raises:
        FileNotFoundError: no file at the path.
        pickle.UnpicklingError: a weights-only load met a global outside the allowlist (the
            message names it; ``weights_only=False`` loads it if you trust the source), or a
            pickled file is damaged, big-endian, or holds tensors chainrule cannot represent
            (bfloat16, complex, quantized, sparse).
        ValueError: the file is damaged, holds object arrays, or is not a format chainrule
            reads.

    Example::

        >>> model.load_state_dict(cr.load("model.pt", map_location="cpu", weights_only=True))
    """
    for flag, value in (("weights_only", weights_only), ("mmap", mmap)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"load: {flag} must be True, False or None, got {value!r}")
    weights_only = weights_only is not False
    extra = set(pickle_load_args) - {"encoding"}
    if extra or pickle_load_args and weights_only:
        raise TypeError(f"load: unexpected arguments {sorted(pickle_load_args)} (only "
                        "'encoding', and only with weights_only=False)")
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
    kind = _kind(data, str(name))
    if kind in ("zip-pickle", "legacy-pickle"):
        reader = _tp.load_zip if kind == "zip-pickle" else _tp.load_legacy
        restore = _tp.storage_restorer(map_location)
        if not weights_only:
            return reader(data, str(name), weights_only=False, restore=restore,
                          encoding=pickle_load_args.get("encoding", "utf-8"))
        try:
            return reader(data, str(name), weights_only=True, restore=restore)
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(_tp.weights_only_message(str(e))) from None
    mapper = _map_location(map_location)
    obj = _decode(data, str(name), kind)
    return obj if mapper is None else _map_tensors(obj, mapper)


def _kind(data: bytes, name: str) -> str:
    """Which container ``data`` is, by its first bytes: 'zip', 'zip-pickle' (torch.save's or
    chainrule's pickled objects), 'safetensors', 'legacy-pickle'."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                members = z.namelist()
        except zipfile.BadZipFile as e:
            raise ValueError(f"load: '{name}' is not a readable .npz file (truncated or "
                             f"corrupt?): {e}") from None
        return "zip-pickle" if _tp.is_pickle_zip(members) else "zip"
    if len(data) >= 10:      # safetensors: u64 header length, then the JSON header
        (n,) = struct.unpack("<Q", data[:8])
        if 8 + n <= len(data) and data[8:9] == b"{":
            return "safetensors"
    if data[:1] == b"\x80":
        return "legacy-pickle"
    if len(data) > 262 and data[257:262] == b"ustar":
        raise ValueError(f"load: '{name}' is a tar archive (torch.save's format before "
                         "PyTorch 0.4), which chainrule does not read; re-save it with a "
                         "current torch")
    raise ValueError(f"load: '{name}' is neither a chainrule file (.npz), a safetensors file "
                     f"nor a torch.save file ({len(data)} bytes starting {data[:8]!r})")


def _decode(data: bytes, name: str, kind: str):
    if kind == "safetensors":
        (n,) = struct.unpack("<Q", data[:8])
        return _decode_safetensors(data, n, name)
    return _decode_zip(data, name)


def _decode_zip(data: bytes, name: str):
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
