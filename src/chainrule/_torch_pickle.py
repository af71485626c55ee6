"""Reading ``torch.save`` files without torch, and pickling whole objects, for ``cr.load`` /
``cr.save`` (:mod:`chainrule.serialization`).

A ``torch.save`` file (the zip format, torch's default since 1.6) is a zip archive holding
``<archive>/data.pkl`` — a pickle whose tensors refer to storages by a persistent id
``('storage', storage_type, key, location, numel)`` — and each storage's raw bytes in
``<archive>/data/<key>``. The legacy format (``_use_new_zipfile_serialization=False``) is a
stream of pickles: magic number, protocol version, system info, the object, the list of
storage keys, then each storage as an int64 element count and its bytes.

Unpickling runs whatever callables a file names, so by default (``weights_only=True``, torch's
default since 2.6) the pickle goes through :class:`WeightsUnpickler`, whose ``find_class`` knows
only what torch's own weights-only unpickler allows (``torch/_weights_only_unpickler.py``):
tensor and Parameter rebuilders, storage types, dtypes, ``torch.Size``, ``torch.device``,
``OrderedDict``/``Counter`` and a few builtins, each mapped onto its chainrule counterpart.
Any other global raises ``pickle.UnpicklingError`` with torch's message. Only an explicit
``weights_only=False`` unpickles arbitrary objects.

Whole objects that ``cr.save`` cannot write as data (a Module, an optimizer, any Python
object) are pickled into the same zip layout: tensors are rebuilt by
:func:`_rebuild_tensor` from storages in ``data/<key>``, so tensors that shared memory still
do after loading.
"""
from __future__ import annotations

import _compat_pickle
import io
import pickle
import sys
import zipfile
from collections import Counter, OrderedDict

import numpy as np

from . import _dtype
from ._device import check_device, device
from ._tensor_base import Size, memory_root
from .tensor import Tensor

# element type of each storage class torch pickles (torch.storage._dtype_to_storage_type_map)
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    "UntypedStorage": np.uint8,
}
_BY_NP_NAME = {np.dtype(v).name: k for k, v in _STORAGE_DTYPES.items() if k != "ByteStorage"}
_BY_NP_NAME["uint8"] = "ByteStorage"
# storages torch allows whose element type chainrule has no dtype for
_FOREIGN_STORAGES = ("BFloat16Storage", "ComplexDoubleStorage", "ComplexFloatStorage",
                     "QInt8Storage", "QInt32Storage", "QUInt8Storage", "QUInt4x2Storage",
                     "QUInt2x4Storage")
_CR_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8",
              "bool")
# dtypes in torch's allowlist that chainrule cannot hold
_FOREIGN_DTYPES = ("bfloat16", "complex32", "complex64", "complex128", "qint8", "qint32",
                   "quint8", "quint4x2", "quint2x4", "uint16", "uint32", "uint64", "bits8",
                   "bits16", "bits1x8", "bits2x4", "bits4x2", "float8_e4m3fn", "float8_e5m2",
                   "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
                   "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1", "int2",
                   "int3", "int4", "int5", "int6", "int7", "per_tensor_affine",
                   "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
                   "per_channel_affine_float_qparams")
# torch's rebuilders for tensors chainrule has no counterpart of
_FOREIGN_REBUILDS = ("_rebuild_qtensor", "_rebuild_sparse_tensor",
                     "_rebuild_meta_tensor_no_storage", "_rebuild_nested_tensor",
                     "_rebuild_wrapper_subclass", "_rebuild_device_tensor_from_numpy",
                     "_rebuild_device_tensor_from_cpu_tensor")
# modules never unpickled, even with weights_only=False in torch's allowlist (torch's blocklist)
_BLOCKED = ("sys", "os", "posix", "nt")

UNSAFE_MESSAGE = (
    "Re-running `chainrule.load` with `weights_only` set to `False` will likely succeed, but it "
    "can result in arbitrary code execution. Do it only if you got the file from a trusted "
    "source.")
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class _StorageType:
    """What a pickled storage class (``torch.FloatStorage``, ...) stands for: its element type."""

    def __init__(self, name):
        self.name = name

    @property
    def np_dtype(self):
        if self.name not in _STORAGE_DTYPES:
            raise pickle.UnpicklingError(
                f"the file holds a torch.{self.name}, whose element type chainrule has no dtype "
                "for (it has " + ", ".join(_CR_DTYPES) + "); convert it in torch first, e.g. "
                "{k: v.float() for k, v in state_dict.items()}")
        return np.dtype(_STORAGE_DTYPES[self.name])


class _ForeignDtype:
    """A torch dtype chainrule lacks: loads as a value, refuses to type a tensor."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


def _cr_dtype(dt, op):
    if isinstance(dt, _ForeignDtype):
        raise pickle.UnpicklingError(f"{op}: the file holds a tensor of dtype {dt!r}, which "
                                     "chainrule has no dtype for (it has "
                                     + ", ".join(_CR_DTYPES) + ")")
    return dt


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                    backward_hooks=None, metadata=None):
    """A Tensor viewing ``storage`` (a 1-D NumPy array) at ``storage_offset`` with ``size`` and
    ``stride`` in elements, as torch's ``_rebuild_tensor_v2``; the bounds are checked, so a
    crafted file cannot make a view reach past its storage."""
    size, stride = tuple(size), tuple(stride)
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise pickle.UnpicklingError(f"load: a tensor's storage must come from the file's "
                                     f"storages, got {type(storage).__name__}")
    if len(size) != len(stride) or not all(isinstance(v, int) and v >= 0
                                            for v in size + stride + (storage_offset,)):
        raise pickle.UnpicklingError(f"load: bad tensor geometry in the file: size {size}, "
                                     f"stride {stride}, offset {storage_offset}")
    n = int(np.prod(size, dtype=np.int64)) if size else 1
    if n and storage_offset + sum((s - 1) * st for s, st in zip(size, stride)) >= storage.size:
        raise pickle.UnpicklingError(
            f"load: a tensor of size {size}, stride {stride} at offset {storage_offset} reaches "
            f"past its storage of {storage.size} elements (damaged or crafted file)")
    base = storage[storage_offset:] if n else storage[:0]
    item = storage.itemsize
    array = np.lib.stride_tricks.as_strided(base, size, tuple(st * item for st in stride),
                                            writeable=True)
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    """torch's rebuilder for dtypes pickled with an ``UntypedStorage`` (bytes): reinterpret."""
    dt = _cr_dtype(dtype, "load")
    return _rebuild_tensor(_reinterpret(storage, dt.np), storage_offset, size, stride,
                           requires_grad, backward_hooks, metadata)


def _reinterpret(storage, dt):
    if not isinstance(storage, np.ndarray) or storage.nbytes % dt.itemsize:
        raise pickle.UnpicklingError(f"load: a storage of {getattr(storage, 'nbytes', '?')} "
                                     f"bytes cannot hold {dt} elements (damaged file?)")
    return storage.view(np.uint8).view(dt)


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks=None, state=None):
    """A Parameter sharing ``data``'s memory, as torch's ``_rebuild_parameter``."""
    from .nn.parameter import Parameter
    p = Parameter(data, requires_grad)
    p._data = data._data          # keep sharing the storage (the constructor may copy)
    if state:
        for k, v in (state.items() if isinstance(state, dict) else ()):
            setattr(p, k, v)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch's rebuilder for tensors carrying attributes (``t.foo = 1``): rebuild, then set
    them; only plain Tensors and Parameters."""
    from .nn.parameter import Parameter
    if new_type not in (Tensor, Parameter):
        raise pickle.UnpicklingError(f"load: cannot rebuild a tensor of type {new_type!r}")
    t = func(*args)
    if new_type is Parameter and not isinstance(t, Parameter):
        t = _rebuild_parameter(t, t.requires_grad)
    if isinstance(state, tuple):
        state = state[0]
    for k, v in (state or {}).items():
        setattr(t, k, v)
    return t


def _torch_device(type_or_str, index=None):
    return device(type_or_str) if index is None else device(type_or_str, index)


def _get_layout(name):
    from ._device import strided
    if name != "torch.strided":
        raise pickle.UnpicklingError(f"load: layout {name} has no chainrule counterpart "
                                     "(only torch.strided)")
    return strided


def _refuse_rebuild(name):
    def refuse(*args, **kwargs):
        raise pickle.UnpicklingError(f"load: the file holds a tensor rebuilt by torch._utils."
                                     f"{name} (quantized, sparse, nested, meta or non-CPU "
                                     "wrapper), which chainrule cannot hold")
    return refuse


def _allowed_globals():
    """torch's weights-only allowlist, by the names torch pickles, as chainrule objects."""
    from codecs import encode

    from .nn.parameter import Parameter
    rc = {
        "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
        "torch.nn.parameter.Parameter": Parameter, "torch.Size": Size, "torch.Tensor": Tensor,
        "torch.device": _torch_device, "torch.serialization._get_layout": _get_layout,
        "_codecs.encode": encode, "builtins.bytearray": bytearray, "builtins.set": set,
        "builtins.complex": complex,
        "torch._utils._rebuild_tensor": _rebuild_tensor_v1,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.storage.UntypedStorage": _StorageType("UntypedStorage"),
        # chainrule's own object files name its rebuilders
        "chainrule._torch_pickle._rebuild_tensor": _rebuild_tensor,
        "chainrule._torch_pickle._rebuild_parameter": _rebuild_parameter,
    }
    for name in list(_STORAGE_DTYPES) + list(_FOREIGN_STORAGES):
        rc.setdefault(f"torch.{name}", _StorageType(name))
    for name in _CR_DTYPES:
        rc[f"torch.{name}"] = getattr(_dtype, "bool_" if name == "bool" else name)
    for name in _FOREIGN_DTYPES:
        rc[f"torch.{name}"] = _ForeignDtype(name)
    for name in _FOREIGN_REBUILDS:
        rc[f"torch._utils.{name}"] = _refuse_rebuild(name)
    return rc


# the globals a user marked safe (torch.serialization.add_safe_globals): callables, or
# (callable, "module.qualname") pairs naming them as a file does
_USER_GLOBALS: list = []


def _user_allowed() -> dict:
    allowed = {}
    for entry in _USER_GLOBALS:
        obj, path = entry if isinstance(entry, tuple) else (
            entry, f"{entry.__module__}.{entry.__qualname__}")
        allowed[path] = obj
    return allowed


def add_safe_globals(safe_globals) -> None:
    """Mark ``safe_globals`` (classes or functions, or ``(obj, "module.qualname")`` pairs) as
    allowed in a ``weights_only`` load: a pickled object of such a class loads without
    ``weights_only=False`` (torch.serialization.add_safe_globals)."""
    for entry in safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not callable(entry[0]) or not isinstance(entry[1], str):
                raise TypeError(f"add_safe_globals: expected a callable or a (callable, str) "
                                f"pair, got {entry!r}")
        elif not callable(entry):
            raise TypeError(f"add_safe_globals: expected a callable or a (callable, str) pair, "
                            f"got {entry!r}")
    _USER_GLOBALS.extend(safe_globals)


def get_safe_globals() -> list:
    """The globals marked safe with :func:`add_safe_globals` (a copy)."""
    return list(_USER_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every global marked safe."""
    _USER_GLOBALS.clear()


class safe_globals:
    """``with safe_globals([...]):`` — :func:`add_safe_globals` for the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        self.saved = get_safe_globals()
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _USER_GLOBALS[:] = self.saved


def _unsupported_global(full_path):
    if full_path.startswith("builtins."):
        full_path = full_path[len("builtins."):]
    return (f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. "
            "chainrule.load(f, weights_only=False) loads it if you trust the source of the file.")


def weights_only_message(message: str) -> str:
    """torch's wording around a weights-only refusal (``torch.serialization._get_wo_message``)."""
    if "was not an allowed global by default" in message:
        return ("Weights only load failed. This file can still be loaded, to do so you have "
                "two options, do those steps only if you trust the source of the checkpoint. "
                f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, save only the data (e.g. "
                "model.state_dict(): tensors and containers), which loads with "
                "weights_only=True.\n\tWeightsUnpickler error: "
                + message)
    return f"Weights only load failed. {UNSAFE_MESSAGE}\n\n{message}"


class _Unpickler(pickle.Unpickler):
    """Unpickler for torch's and chainrule's pickle files: storages come from ``storages``;
    ``weights_only`` restricts the globals to :func:`_allowed_globals`."""

    def __init__(self, file, storages, *, weights_only, restore, legacy=False,
                 encoding="utf-8"):
        super().__init__(file, encoding=encoding)
        self.storages, self.weights_only, self.restore = storages, weights_only, restore
        self.legacy, self.allowed = legacy, {**_allowed_globals(), **_user_allowed()}
        self.views = {}

    def find_class(self, module, name):
        # protocol 2 (torch's) names Python 2 modules (__builtin__.set); map them as torch does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full_path = f"{module}.{name}"
        if module in _BLOCKED and self.weights_only:
            raise pickle.UnpicklingError(f"Trying to load unsupported GLOBAL {full_path} whose "
                                         f"module {module} is blocked.")
        if full_path in self.allowed:
            return self.allowed[full_path]
        if self.weights_only:
            raise pickle.UnpicklingError(_unsupported_global(full_path))
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(
                f"load: the file holds a torch object ({full_path}), which chainrule cannot "
                "rebuild without torch: load it in torch and save its state_dict()")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if type(pid) is not tuple or not pid or pid[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got "
                                         f"{pid!r:.60}")
        if self.legacy:
            storage_type, key, location, numel, view = pid[1:6]
        else:
            storage_type, key, location, numel = pid[1:5]
            view = None
        if isinstance(storage_type, str) and storage_type in _BY_NP_NAME:   # chainrule's files
            storage_type = _StorageType(_BY_NP_NAME[storage_type])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"load: a storage's type must be a storage class, got "
                                         f"{storage_type!r:.60}")
        location = location.decode("ascii") if isinstance(location, bytes) else str(location)
        key = key.decode("ascii") if isinstance(key, bytes) else str(key)
        dt = storage_type.np_dtype
        if type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError(f"load: bad storage size {numel!r:.40} in the file")
        if key not in self.storages:
            self.storages[key] = self.storages.read(key, dt, numel, location, self.restore)
        storage = self.storages[key]
        if storage.dtype != dt:      # one storage read as two types (an untyped storage)
            storage = _reinterpret(storage, dt)
        if view is not None:
            view_key, offset, view_size = view
            if view_key not in self.views:
                self.views[view_key] = storage[offset:offset + view_size]
            storage = self.views[view_key]
        return storage


class _Storages(dict):
    """Storages by key, read on first use by ``reader(key) -> bytes``."""

    def __init__(self, reader, name):
        super().__init__()
        self.reader, self.name = reader, name

    def read(self, key, dt, numel, location, restore):
        if self.reader is None:
            raise pickle.UnpicklingError(f"load: '{self.name}' has a storage in a legacy header "
                                         "(damaged or crafted file)")
        raw = self.reader(key)
        if raw is None:                      # legacy: filled after the pickle, see load_legacy
            return restore(np.zeros(numel, dt), location)
        if len(raw) < numel * dt.itemsize:
            raise pickle.UnpicklingError(f"load: storage '{key}' in '{self.name}' holds "
                                         f"{len(raw)} bytes, expected {numel * dt.itemsize} "
                                         "(truncated file?)")
        return restore(np.frombuffer(raw, dt, count=numel).copy(), location)


def is_pickle_zip(members) -> str | None:
    """The archive's top folder if the zip holds a ``<archive>/data.pkl`` (torch.save's format
    or chainrule's object files), else None."""
    for m in members:
        parts = m.split("/")
        if len(parts) == 2 and parts[1] == "data.pkl":
            return parts[0]
    return None


def load_zip(data: bytes, name: str, *, weights_only: bool, restore, encoding="utf-8"):
    """The object in a torch.save zip file (or a chainrule object file)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = set(z.namelist())
        prefix = is_pickle_zip(members)
        order = z.read(f"{prefix}/byteorder").decode("ascii", "replace") \
            if f"{prefix}/byteorder" in members else sys.byteorder
        if order != "little":
            raise pickle.UnpicklingError(f"load: '{name}' was saved on a {order}-endian machine; "
                                         "chainrule reads little-endian files only")

        def reader(key):
            member = f"{prefix}/data/{key}"
            if member not in members:
                raise pickle.UnpicklingError(f"load: '{name}' lacks the storage {member}")
            return z.read(member)

        storages = _Storages(reader, name)
        pkl = io.BytesIO(z.read(f"{prefix}/data.pkl"))
        return _Unpickler(pkl, storages, weights_only=weights_only, restore=restore,
                          encoding=encoding).load()


def load_legacy(data: bytes, name: str, *, weights_only: bool, restore, encoding="utf-8"):
    """The object in a legacy (non-zip) ``torch.save`` file."""
    f = io.BytesIO(data)

    def header():
        return _Unpickler(f, _Storages(None, name), weights_only=True, restore=restore).load()

    if header() != LEGACY_MAGIC:
        raise pickle.UnpicklingError(f"load: '{name}' is a pickle but not a torch.save file "
                                     "(no torch magic number)")
    version = header()
    if version != LEGACY_PROTOCOL:
        raise pickle.UnpicklingError(f"load: '{name}': unsupported legacy protocol version "
                                     f"{version}")
    info = header()
    if isinstance(info, dict) and info.get("little_endian") is False:
        raise pickle.UnpicklingError(f"load: '{name}' was saved on a big-endian machine; "
                                     "chainrule reads little-endian files only")
    storages = _Storages(lambda key: None, name)
    obj = _Unpickler(f, storages, weights_only=weights_only, restore=restore, legacy=True,
                     encoding=encoding).load()
    keys = header()
    for key in keys:
        key = str(key)
        if key not in storages:
            raise pickle.UnpicklingError(f"load: '{name}' lists storage '{key}' that the "
                                         "object does not use (damaged file?)")
        st = storages[key]
        count = np.frombuffer(f.read(8), "<i8")
        raw = f.read(st.nbytes)
        if count.size != 1 or int(count[0]) != st.size or len(raw) != st.nbytes:
            raise pickle.UnpicklingError(f"load: storage '{key}' in '{name}' is truncated or "
                                         "damaged")
        st[:] = np.frombuffer(raw, st.dtype)
    return obj


# ------------------------------------------------------------------------- saving objects
class _Pickler(pickle.Pickler):
    """Pickler writing each tensor as ``_rebuild_tensor(storage, offset, size, stride, ...)``
    with its storage (the memory it views) saved once, under a persistent id."""

    def __init__(self, file, storages):
        super().__init__(file, protocol=2)
        self.storages = storages          # id(root) -> (key, root array)

    def reducer_override(self, obj):
        from .nn.parameter import Parameter
        if type(obj) not in (Tensor, Parameter):     # subclasses pickle by their own reduce
            return NotImplemented
        if type(obj) is Parameter:
            return (_rebuild_parameter, (obj.detach(), obj.requires_grad))
        a = obj._data
        root = memory_root(a)
        item = a.itemsize
        start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        if root.dtype == a.dtype and root.flags.c_contiguous and start % item == 0 \
                and all(s >= 0 and s % item == 0 for s in a.strides):
            offset, stride = start // item, tuple(s // item for s in a.strides)
        else:                     # reinterpreted or negatively strided memory: save a copy
            root = np.ascontiguousarray(a)
            offset, stride = 0, tuple(s // item for s in root.strides)
        if id(root) not in self.storages:     # the root is kept alive there: ids stay unique
            self.storages[id(root)] = (str(len(self.storages)), root.reshape(-1), root)
        key, flat, _ = self.storages[id(root)]
        return (_rebuild_tensor, (_PersistentStorage(key, flat), offset, tuple(a.shape), stride,
                                  bool(obj.requires_grad), OrderedDict()))

    def persistent_id(self, obj):
        if isinstance(obj, _PersistentStorage):
            return ("storage", obj.array.dtype.name, obj.key, "cpu", int(obj.array.size))
        return None


class _PersistentStorage:
    def __init__(self, key, array):
        self.key, self.array = key, array


def save_objects(obj) -> bytes:
    """``obj`` pickled into torch.save's zip layout (``archive/data.pkl`` + ``archive/data/``)."""
    storages = {}
    pkl = io.BytesIO()
    _Pickler(pkl, storages).dump(obj)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl.getvalue())
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        z.writestr("archive/.format", "chainrule-pickle\n")
        for key, flat, _ in storages.values():
            z.writestr(f"archive/data/{key}", np.ascontiguousarray(flat).astype(
                flat.dtype.newbyteorder("<"), copy=False).tobytes())
    return out.getvalue()


def storage_restorer(map_location, op="load(map_location=...)"):
    """``restore(storage, location) -> storage`` for torch's ``map_location`` forms: None (the
    saved location), a device or its name, a dict from saved location to new one, or a
    callable ``(storage, location) -> storage or None`` (called with the storage as a 1-D
    Tensor). A target other than the CPU raises chainrule's device error."""
    def check(target, location):
        if isinstance(target, str) and target.startswith("cuda") and target == location:
            raise RuntimeError(
                f"{op}: Attempting to deserialize object on a CUDA device ({location}) but "
                "chainrule runs on the CPU only. If you are running on a CPU-only machine, "
                "please use chainrule.load with map_location='cpu' to map your storages to "
                "the CPU.")
        check_device(target, op)

    def restore(storage, location):
        if isinstance(map_location, dict):
            check(map_location.get(location, location), location)
        elif callable(map_location) and not isinstance(map_location, (device, type)):
            out = map_location(Tensor._make(storage), location)
            if out is None:
                check(location, location)
                return storage
            if not isinstance(out, Tensor) or out.shape != (storage.size,) or \
                    out._data.dtype != storage.dtype:
                raise TypeError(f"{op}: the callable must return None or a 1-D Tensor of "
                                f"{storage.size} {storage.dtype} elements (the storage it was "
                                f"given), got {out!r:.80}")
            return out._data
        else:
            check(location if map_location is None else map_location, location)
        return storage
    return restore
