"""A minimal ctypes binding of oneDNN's C API (v3.2), just what ``backends.onednn`` needs.

Written from oneDNN v3.2's public headers (``include/oneapi/dnnl/dnnl.h``, ``dnnl_types.h``,
``dnnl_common_types.h``, ``dnnl_common.h``); every enum value below was checked by compiling
those headers and printing them (the binary, post-op and batch-norm ones, added
later, by reading v3.2's header and checking the primitives' results against NumPy, float64
references and torch in the tests). The library comes from the ``onednn`` extra
(``pip install chainrule[onednn]``, the ``onednn-cpu-gomp`` wheel, which puts ``libdnnl.so.3``
in ``<env>/lib`` and ships no headers).

What is here: finding and loading the library (``load``), the constants, the argument and
result types of the functions used, one check that turns a non-zero ``dnnl_status_t`` into a
``OneDNNError`` naming the call and the status, and the one CPU engine and in-order stream
(``engine()``, ``stream()``), created at their first use. Nothing is loaded at import.
"""
from __future__ import annotations

import ctypes
import glob
import os
import sys
import threading

LIBRARY = "libdnnl.so.3"
DISTRIBUTION = "onednn-cpu-gomp"
INSTALL_HINT = "pip install 'chainrule[onednn]'  (the onednn-cpu-gomp wheel)"

# ---------------------------------------------------------------------------- constants
# dnnl_status_t
STATUS = {0: "dnnl_success", 1: "dnnl_out_of_memory", 2: "dnnl_invalid_arguments",
          3: "dnnl_unimplemented", 4: "dnnl_last_impl_reached", 5: "dnnl_runtime_error",
          6: "dnnl_not_required", 7: "dnnl_invalid_graph", 8: "dnnl_invalid_graph_op",
          9: "dnnl_invalid_shape", 10: "dnnl_invalid_data_type"}
# dnnl_data_type_t
f32 = 3
# dnnl_format_tag_t
format_tag_any, a, ab, abc, abcd, abcde = 1, 2, 3, 4, 5, 6
# dnnl_prop_kind_t
forward_training, forward_inference, backward = 64, 96, 128
# dnnl_normalization_flags_t
use_scale, use_shift = 0x2, 0x4
# dnnl_alg_kind_t
convolution_direct = 0x1
binary_add, binary_mul, binary_max, binary_gt, binary_ne = 0x1fff0, 0x1fff1, 0x1fff2, 0x1fff7, 0x1fffb
binary_div, binary_sub = 0x1fff4, 0x1fff5
softmax_accurate = 0x30000
eltwise_logistic, eltwise_gelu_tanh, eltwise_swish, eltwise_gelu_erf = 0x29, 0x2b, 0x2c, 0x31
# dnnl_engine_kind_t, dnnl_stream_flags_t
cpu, stream_default_flags = 1, 1
# dnnl_query_t
query_impl_info_str = 8
query_src_md, query_diff_src_md, query_weights_md, query_diff_weights_md = 129, 130, 131, 132
query_dst_md, query_diff_dst_md, query_workspace_md = 133, 134, 135
# dnnl_alg_kind_t
pooling_max = 0x1ff
# execution argument indices (DNNL_ARG_*)
ARG_SRC, ARG_DST, ARG_WEIGHTS, ARG_BIAS = 1, 17, 33, 41
ARG_DIFF_SRC, ARG_DIFF_DST, ARG_DIFF_WEIGHTS, ARG_DIFF_BIAS = 129, 145, 161, 169
ARG_FROM, ARG_TO = 1, 17
ARG_WORKSPACE = 64
ARG_MEAN, ARG_VARIANCE, ARG_SCALE, ARG_SHIFT = 49, 50, 51, 52
ARG_DIFF_SCALE, ARG_DIFF_SHIFT = 255, 256
ARG_SRC_0, ARG_SRC_1 = 1, 2
ARG_ATTR_MULTIPLE_POST_OP_BASE = 32768   # post-op i's argument: BASE·(i + 1) | ARG_SRC_1
MAX_NDIMS = 12      # dnnl_dims_t is int64_t[DNNL_MAX_NDIMS]

# ---------------------------------------------------------------------------- types
p = ctypes.c_void_p          # every oneDNN handle is a pointer to an opaque struct
pp = ctypes.POINTER(ctypes.c_void_p)
Dims = ctypes.c_int64 * MAX_NDIMS


class ExecArg(ctypes.Structure):
    """dnnl_exec_arg_t: {int arg; dnnl_memory_t memory;} (16 bytes, memory at offset 8)."""
    _fields_ = [("arg", ctypes.c_int), ("memory", ctypes.c_void_p)]


class Version(ctypes.Structure):
    """dnnl_version_t."""
    _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int),
                ("hash", ctypes.c_char_p), ("cpu_runtime", ctypes.c_uint),
                ("gpu_runtime", ctypes.c_uint)]


def dims(values):
    """A dnnl_dims_t holding ``values`` (the rest zero)."""
    return Dims(*values)


# name: (restype, argtypes); restype int = dnnl_status_t, checked by ``call``
_I = ctypes.c_int
_SIGNATURES = {
    "dnnl_version": (ctypes.POINTER(Version), []),
    "dnnl_engine_create": (_I, [pp, _I, ctypes.c_size_t]),
    "dnnl_engine_destroy": (_I, [p]),
    "dnnl_stream_create": (_I, [pp, p, ctypes.c_uint]),
    "dnnl_stream_wait": (_I, [p]),
    "dnnl_stream_destroy": (_I, [p]),
    "dnnl_memory_desc_create_with_tag": (_I, [pp, _I, Dims, _I, _I]),
    "dnnl_memory_desc_create_with_strides": (_I, [pp, _I, Dims, _I, Dims]),
    "dnnl_memory_desc_destroy": (_I, [p]),
    "dnnl_memory_desc_equal": (_I, [p, p]),
    "dnnl_memory_desc_get_size": (ctypes.c_size_t, [p]),
    "dnnl_memory_create": (_I, [pp, p, p, p]),
    "dnnl_memory_set_data_handle": (_I, [p, p]),
    "dnnl_memory_destroy": (_I, [p]),
    "dnnl_primitive_desc_query": (_I, [p, _I, _I, p]),
    "dnnl_primitive_desc_query_md": (p, [p, _I, _I]),
    "dnnl_primitive_desc_destroy": (_I, [p]),
    "dnnl_primitive_create": (_I, [pp, p]),
    "dnnl_primitive_execute": (_I, [p, p, _I, ctypes.POINTER(ExecArg)]),
    "dnnl_primitive_destroy": (_I, [p]),
    "dnnl_reorder_primitive_desc_create": (_I, [pp, p, p, p, p, p]),
    "dnnl_convolution_forward_primitive_desc_create":
        (_I, [pp, p, _I, _I, p, p, p, p, Dims, Dims, Dims, Dims, p]),
    "dnnl_convolution_backward_data_primitive_desc_create":
        (_I, [pp, p, _I, p, p, p, Dims, Dims, Dims, Dims, p, p]),
    "dnnl_convolution_backward_weights_primitive_desc_create":
        (_I, [pp, p, _I, p, p, p, p, Dims, Dims, Dims, Dims, p, p]),
    "dnnl_pooling_forward_primitive_desc_create":
        (_I, [pp, p, _I, _I, p, p, Dims, Dims, Dims, Dims, Dims, p]),
    "dnnl_pooling_backward_primitive_desc_create":
        (_I, [pp, p, _I, p, p, Dims, Dims, Dims, Dims, Dims, p, p]),
    "dnnl_binary_primitive_desc_create": (_I, [pp, p, _I, p, p, p, p]),
    "dnnl_batch_normalization_forward_primitive_desc_create":
        (_I, [pp, p, _I, p, p, ctypes.c_float, ctypes.c_uint, p]),
    "dnnl_batch_normalization_backward_primitive_desc_create":
        (_I, [pp, p, _I, p, p, p, ctypes.c_float, ctypes.c_uint, p, p]),
    "dnnl_layer_normalization_forward_primitive_desc_create":
        (_I, [pp, p, _I, p, p, p, ctypes.c_float, ctypes.c_uint, p]),
    "dnnl_layer_normalization_backward_primitive_desc_create":
        (_I, [pp, p, _I, p, p, p, p, ctypes.c_float, ctypes.c_uint, p, p]),
    "dnnl_matmul_primitive_desc_create": (_I, [pp, p, p, p, p, p, p]),
    "dnnl_softmax_forward_primitive_desc_create": (_I, [pp, p, _I, _I, p, p, _I, p]),
    "dnnl_eltwise_forward_primitive_desc_create":
        (_I, [pp, p, _I, _I, p, p, ctypes.c_float, ctypes.c_float, p]),
    "dnnl_eltwise_backward_primitive_desc_create":
        (_I, [pp, p, _I, p, p, p, ctypes.c_float, ctypes.c_float, p, p]),
    "dnnl_softmax_backward_primitive_desc_create": (_I, [pp, p, _I, p, p, p, _I, p, p]),
    "dnnl_primitive_attr_create": (_I, [pp]),
    "dnnl_primitive_attr_destroy": (_I, [p]),
    "dnnl_primitive_attr_set_post_ops": (_I, [p, p]),
    "dnnl_post_ops_create": (_I, [pp]),
    "dnnl_post_ops_destroy": (_I, [p]),
    "dnnl_post_ops_append_binary": (_I, [p, _I, p]),
}


class OneDNNError(RuntimeError):
    """A oneDNN call returned a status other than dnnl_success."""


# ---------------------------------------------------------------------------- loading
_lock = threading.Lock()
_lib = None          # the loaded CDLL
_load_error = None   # why it could not be loaded (a string), once tried
_engine = None
_stream = None


def _candidates():
    """Paths where libdnnl.so.3 may be, best first, each once: the active environment's lib/
    (where the wheel puts it), the files the onednn-cpu-gomp distribution lists, then the plain
    soname (LD_LIBRARY_PATH, the system's). A generator, so that the distribution's metadata is
    read only when the first places fail: importlib.metadata scans every entry of sys.path and
    keeps ~1.5 MB of caches (and pathlib, email and calendar imported) for the process's life."""
    seen = set()

    def existing(paths):
        for path in paths:
            if path not in seen and os.path.exists(path):
                seen.add(path)
                yield path

    yield from existing(os.path.join(prefix, "lib", LIBRARY) for prefix in (sys.prefix, sys.base_prefix))
    yield from existing(_distribution_files())
    yield from existing(sorted(glob.glob(os.path.join(sys.prefix, "lib*", LIBRARY))))
    yield LIBRARY


def _distribution_files():
    try:
        import importlib.metadata as metadata
        dist = metadata.distribution(DISTRIBUTION)
        return [str(dist.locate_file(f)) for f in dist.files or () if f.name == LIBRARY]
    except Exception:    # not installed, or metadata unreadable: the other places remain
        return []


def load():
    """The loaded library, or None if it cannot be loaded (``load_error()`` says why)."""
    global _lib, _load_error
    if _lib is not None or _load_error is not None:
        return _lib
    with _lock:
        if _lib is not None or _load_error is not None:
            return _lib
        errors = []
        for path in _candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                errors.append(str(e))
                continue
            try:
                for name, (restype, argtypes) in _SIGNATURES.items():
                    fn = getattr(lib, name)
                    fn.restype, fn.argtypes = restype, argtypes
                version = lib.dnnl_version().contents
            except AttributeError as e:
                errors.append(f"{path}: {e}")
                continue
            if version.major != 3:
                errors.append(f"{path}: oneDNN {version.major}.{version.minor} (need 3.x)")
                continue
            _lib = lib
            return _lib
        _load_error = f"{LIBRARY} not found ({'; '.join(errors[-1:])}); {INSTALL_HINT}"
        return None


def load_error():
    """Why the library could not be loaded (None if it loaded or was not tried yet)."""
    return _load_error


def lib():
    """The loaded library; raises OneDNNError saying how to install it when absent."""
    if load() is None:
        raise OneDNNError(f"oneDNN is not available: {_load_error}")
    return _lib


def version():
    """(major, minor, patch) of the loaded library."""
    v = lib().dnnl_version().contents
    return (v.major, v.minor, v.patch)


def call(name, *args):
    """Call ``name`` and raise OneDNNError if it returns a status other than dnnl_success."""
    status = getattr(_lib, name)(*args)
    if status != 0:
        raise OneDNNError(f"oneDNN: {name} failed with {STATUS.get(status, 'status')} ({status})")


def engine():
    """The CPU engine (index 0), created at the first call."""
    global _engine, _stream
    if _engine is None:
        lib()       # before taking the lock: a first load takes it too (a Lock is not re-entrant)
        with _lock:
            if _engine is None:
                handle = ctypes.c_void_p()
                call("dnnl_engine_create", ctypes.byref(handle), cpu, 0)
                s = ctypes.c_void_p()
                call("dnnl_stream_create", ctypes.byref(s), handle, stream_default_flags)
                _stream, _engine = s, handle
    return _engine


def stream():
    """The in-order CPU stream primitives run on (the CPU runtime is synchronous; ``wait``
    still ends each call so that the arrays' lifetimes are obvious)."""
    engine()
    return _stream


# ---------------------------------------------------------------------------- helpers
def memory_desc(shape, tag):
    """A new f32 memory descriptor of ``shape`` with format ``tag`` (destroy it after use)."""
    md = ctypes.c_void_p()
    call("dnnl_memory_desc_create_with_tag", ctypes.byref(md), len(shape), dims(shape), f32, tag)
    return md


def memory_desc_strided(shape, strides):
    """A new f32 memory descriptor of ``shape`` with ``strides`` in elements (destroy it after
    use)."""
    md = ctypes.c_void_p()
    call("dnnl_memory_desc_create_with_strides", ctypes.byref(md), len(shape), dims(shape), f32,
         dims(strides))
    return md


def memory_desc_channels_last(shape):
    """A new f32 memory descriptor of a 4-D ``shape`` (N, C, H, W) laid out channels-last (NHWC:
    strides (H·W·C, 1, W·C, C) in elements; destroy it after use)."""
    n, c, h, w = shape
    return memory_desc_strided(shape, (h * w * c, 1, w * c, c))


def impl_info(pd):
    """The name of the implementation a primitive descriptor chose (e.g. 'brg:avx2', 'gemm:jit')."""
    out = ctypes.c_char_p()
    call("dnnl_primitive_desc_query", pd, query_impl_info_str, 0, ctypes.byref(out))
    return out.value.decode()
