"""Convolutions through oneDNN (``torch.backends.mkldnn``'s names), the NumPy kernels kept as
the reference and the fallback.

oneDNN's JIT convolution kernels (register-blocked, ISA-specific: avx2/avx512) run the thin
products of small CNNs faster than im2col + OpenBLAS can. This module gives them to
chainrule at the array level: float32 NumPy arrays in and out (C-contiguous, or channels-last
ones kept so), no Tensors, no graph. The three functions are the three mutually adjoint ops of ``nn.functional.conv``
(y = conv(x, w) + b, its VJP in x and its VJP in w), with y[n, o, i, j] =
b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, g(o)·C/g + c, i·s + p·d, j·s + q·d]:

* ``conv2d_forward(x, w, b, ...) -> y``                  x (N, C, H, W), w (O, C/g, kh, kw) -> (N, O, Ho, Wo)
* ``conv2d_backward_data(gy, w, x_shape, ...) -> gx``    ȳ (N, O, Ho, Wo) -> x̄ (x_shape)
* ``conv2d_backward_weights(x, gy, w_shape, ..., with_bias) -> (gw, gb or None)``

``conv_transpose2d(input, weight)`` is ``conv2d_backward_data(input, weight, out_shape)`` (the
transposed conv's weight (C_in, C_out/g, kh, kw) is the conv's (O, C/g, kh, kw)), its VJP in
the input is ``conv2d_forward`` and in the weight ``conv2d_backward_weights(grad_out, input)``;
``conv1d`` is a conv2d of height 1 (reshape (N, C, L) to (N, C, 1, L)).

Max pooling too (``max_pool2d_forward`` -> (y, workspace), ``max_pool2d_backward``): oneDNN's
JIT pooling reads plain NCHW as it is (its planes regrouped into images of 16 channels,
``_pool_shapes``), 2–5× faster than NumPy's strided maxima, and its workspace records the
winners for the backward; ``nn.functional.max_pool2d`` uses it for float32 inputs without NaN
(oneDNN's maximum drops a NaN, torch's propagates it).

Elementwise passes too, on dense float32 arrays of at least ``ELEMENTWISE_MIN`` elements
(``elementwise_supported``): ``channel_affine`` (y = (x·s + t + a)·u per channel, batch norm's
passes), ``relu_backward``, and with more than one thread (``parallel_supported``) ``add``
and ``relu`` (ReLU's forward, in place too); the "elementwise" section below says what each
saves.

Batch norm in training on channels-last arrays too (``batch_norm_forward`` -> (y, μ, σ²),
``batch_norm_backward`` -> (x̄, γ̄, β̄); ``batch_norm_supported``): oneDNN's JIT batch
normalization reads NHWC as it lies, where NumPy's per-channel passes need an NCHW copy. On
NCHW arrays its layer normalization over rows (``normalize_rows`` -> (x̂, μ_r, σ²_r)) gives
batch norm's statistics per (n, c) on chainrule's threads. Layer norm itself
(``layer_norm_forward`` -> (y, μ_r, σ²_r), ``layer_norm_backward`` -> (x̄, γ̄, β̄)) and
softmax along the last dim (``softmax_forward``, ``softmax_backward``) run there too, one
pass each where NumPy's rules take five or more.

Matrix products too (``matmul``; ``backends.namespace.matmul`` sends the products of Linear's
forward and gradients, ``mm``, ``matmul`` and two-operand ``einsum`` there when
``matmul_supported``): float32 products of at least ``MATMUL_MIN`` multiply-adds, 2-D or
batches, read as they lie in memory (a transposed weight or a chunk is a stride, not a copy).
On AVX-512, OpenBLAS's sgemm took 20–30% longer than oneDNN's brgemm (and than torch's GEMM)
on an MLP's 128×784×256 and 128×256×256 products; they then also share the convolutions'
OpenMP threads instead of waking OpenBLAS's pool (at more than one thread every product that
pool would run goes to oneDNN: ``BLAS_SPLIT_MIN``).

Use: ``ok, why = supports(x.shape, w.shape, x.dtype, stride, padding, dilation, groups)``;
when ``ok`` call the function, else run the NumPy kernel (``why`` says what sent it there;
with ``CHAINRULE_ONEDNN_DEBUG=1`` each reason is logged once per geometry). What falls back:
float64 and every other dtype (the float32 kernels only; float64 is the NumPy reference),
empty tensors, an output size that does not follow from the geometry, and everything when
oneDNN is absent or disabled. Asymmetric padding (top ≠ bottom, 'same' with an even kernel)
runs on oneDNN: its convolutions take left and right pads separately.

Switching: ``enabled`` (a module flag, True unless ``CHAINRULE_ONEDNN=0`` at import) says
whether chainrule may use oneDNN, ``is_available()`` whether it can (the library loads);
``with flags(enabled=False): ...`` turns it off for a block, as ``torch.backends.mkldnn.flags``.

Threads: oneDNN runs on OpenMP (GNU libgomp), whose thread count is set to
``chainrule.get_num_threads()`` for each call and put back after it (``omp_set_num_threads``
in the calling thread, only when it differs), so ``set_num_threads`` governs convolutions as
it does torch's; in a process that imports both, torch and oneDNN share one libgomp, and the
restore keeps chainrule's count from leaking into torch's ops. The BLAS's count is not touched here: the two pools never
run at once (a call returns after its work ends). What remains is libgomp's spinning: its idle
threads spin for a while after each call (GOMP_SPINCOUNT, 300 000 by default) and slow a
multi-thread OpenBLAS product right after (measured, 2 threads on 2 cores: a 128×784×256
product took 1.17 ms after a conv vs 0.36 ms alone; with ``GOMP_SPINCOUNT=10000`` or
``OMP_WAIT_POLICY=PASSIVE`` 0.36 and 0.31 ms). Those variables are read once, when libgomp
loads (perhaps by torch, before chainrule), and are process-wide, so chainrule leaves them to
the user; inside ``backends.cpu.tuned()`` the small dense products of a CNN run on one BLAS
thread anyway, which sidesteps the contention.

Caching: creating a oneDNN primitive costs 1–3 ms, so each (op, shapes, geometry, bias,
threads) keeps its primitives in a bounded LRU cache (``CACHE_SIZE`` entries; ``cache_info``,
``clear_cache``). Layout: mostly the kernels choose their own blocked layouts (``format_tag
any``) and the NCHW arrays are reordered into and out of them around the convolution (through
pooled scratch buffers); where measurement showed oneDNN's GEMM convolution on NCHW faster
(backward-data into ≤ 4 channels; all three ops of 1×1 kernels) the arrays are used as they
are, and where its channels-last (NHWC) kernels were faster, reorders included (the forward
into ≤ 16 channels of a large image, the weight gradient of stride-1 k×k convs), the arrays
are reordered to NHWC (``_heuristic``; ``autotune = True`` or ``CHAINRULE_ONEDNN_AUTOTUNE=1`` times
the three layouts instead). Arrays that are channels-last already (the ``channels_last``
memory format) are read and written as they are, with the NHWC kernels and no reorder.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import math
import os
import platform
import threading
import time
from collections import OrderedDict

import numpy as np

from . import _dnnl, cpu
from .. import _memory_format
from .._modes import DETERMINISM
from .blas import get_num_threads
from ._dnnl import OneDNNError  # noqa: F401  (re-exported: the error a failing call raises)

ENV_VAR, DEBUG_VAR = "CHAINRULE_ONEDNN", "CHAINRULE_ONEDNN_DEBUG"
CACHE_SIZE = 64    # plans kept (LRU); a resnet20 training step uses 23 (8 geometries × 3 ops)

enabled = os.environ.get(ENV_VAR, "1") != "0"
# time the layouts at a plan's first call (off: the measured rule of ``_heuristic``, which a
# busy machine cannot mislead; on, one disturbed timing can keep a 3× slower layout)
autotune = os.environ.get(ENV_VAR + "_AUTOTUNE", "0") not in ("", "0")
debug = os.environ.get(DEBUG_VAR, "0") not in ("", "0")
_log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- switching
def is_available() -> bool:
    """Whether oneDNN can be used: ``libdnnl.so.3`` (the ``onednn`` extra) loads. The first
    call loads it; nothing is loaded at import."""
    return _dnnl.load() is not None


def is_enabled() -> bool:
    """Whether convolutions go to oneDNN now: ``enabled`` and ``is_available()``."""
    return enabled and is_available()


@contextlib.contextmanager
def flags(enabled=False):
    """Set ``enabled`` for the block and put back what it was after (torch.backends.mkldnn.flags):

        with chainrule.backends.onednn.flags(enabled=False):
            y = F.conv2d(x, w)           # the NumPy kernels
    """
    global_state = globals()
    before = global_state["enabled"]
    global_state["enabled"] = bool(enabled)
    try:
        yield
    finally:
        global_state["enabled"] = before


# ---------------------------------------------------------------------------- threads
_omp = None          # (omp_get_max_threads, omp_set_num_threads) of the libgomp libdnnl runs on


def _gomp():
    """(omp_get_max_threads, omp_set_num_threads) of the libgomp libdnnl runs on."""
    global _omp
    if _omp is None:
        # libdnnl's DT_NEEDED libgomp.so.1 is loaded already: dlopen hands back that one
        gomp = ctypes.CDLL("libgomp.so.1")
        gomp.omp_get_max_threads.argtypes, gomp.omp_get_max_threads.restype = [], ctypes.c_int
        gomp.omp_set_num_threads.argtypes, gomp.omp_set_num_threads.restype = [ctypes.c_int], None
        _omp = (gomp.omp_get_max_threads, gomp.omp_set_num_threads)
    return _omp


class _omp_threads:
    """``with _omp_threads() as n:`` runs the block with this thread's OpenMP count at
    chainrule's BLAS count (n), and puts back the count it had.

    The count is an OpenMP per-thread setting (an ICV of the calling thread) and, in a process
    that imports torch too, torch's: both run on one libgomp, and torch.set_num_threads sets
    the same ICV. Leaving chainrule's count behind made torch's following steps run on
    chainrule's thread count (measured: torch at 1 thread ran LeNet-5 4× slower in CPU time
    after chainrule's 2-thread convolutions), hence the restore; both calls cost well under a
    microsecond. The count is in the cache key: oneDNN splits a kernel's work for the thread
    count at creation. (A class, not a generator context manager: it wraps every oneDNN
    call, and costs 0.5 µs instead of 2.)"""

    __slots__ = ("n", "before")

    def __enter__(self):
        get, set_ = _omp or _gomp()
        self.n, self.before = get_num_threads(), get()
        if self.before != self.n:
            set_(self.n)
        return self.n

    def __exit__(self, *exc):
        if self.before != self.n:
            _omp[1](self.before)


def omp_threads():
    """The OpenMP thread count oneDNN's calls from this thread run with (chainrule's BLAS
    count; for tests and benchmarks)."""
    _dnnl.lib()
    with _omp_threads() as n:
        return n


# ---------------------------------------------------------------------------- what runs here
def _pads(padding):
    """(top, bottom, left, right) from an int, a pair (ph, pw) or a 4-tuple."""
    if isinstance(padding, (int, np.integer)):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return (padding[0], padding[0], padding[1], padding[1])
    if len(padding) == 4:
        return padding
    raise ValueError(f"onednn: padding must be an int, a pair or (top, bottom, left, right), got {padding}")


def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)


def _out_size(x_shape, w_shape, stride, pads, dilation):
    (h, w), (kh, kw) = x_shape[2:], w_shape[2:]
    (sh, sw), (dh, dw), (t, b, l, r) = stride, dilation, pads
    return ((h + t + b - dh * (kh - 1) - 1) // sh + 1, (w + l + r - dw * (kw - 1) - 1) // sw + 1)


def _disabled():
    """Why no convolution runs on oneDNN now (switched off, or the library absent), or None."""
    if not enabled:
        return f"disabled (chainrule.backends.onednn.enabled is False; {ENV_VAR}=0 or flags())"
    if not is_available():
        return f"oneDNN is not available: {_dnnl.load_error()}"
    return None


def _checked(x_shape, w_shape, dtype, stride, padding, dilation, groups, out_hw):
    """((stride, pads, dilation, groups), (x, w, y shapes), the reason oneDNN's kernels do not
    take it or None) for one call's arguments; cached, as every layer asks three times a step
    (arguments that are not hashable, such as lists, are converted first)."""
    try:
        return _checked_cached(x_shape, w_shape, dtype, stride, padding, dilation, groups, out_hw)
    except TypeError:   # a list somewhere: the same values as tuples
        return _checked_cached(*[tuple(a) if isinstance(a, (list, np.ndarray)) else a
                                 for a in (x_shape, w_shape, dtype, stride, padding, dilation,
                                           groups, out_hw)])


@functools.lru_cache(maxsize=1024)
def _checked_cached(x_shape, w_shape, dtype, stride, padding, dilation, groups, out_hw):
    dtype, out_hw = np.dtype(dtype), None if out_hw is None else tuple(out_hw)
    stride, pads, dilation = _pair(stride), _pads(padding), _pair(dilation)
    x_shape, w_shape = tuple(int(v) for v in x_shape), tuple(int(v) for v in w_shape)
    why = _unsupported(x_shape, w_shape, dtype, stride, pads, dilation, groups, out_hw)
    y_shape = None if why else (x_shape[0], w_shape[0]) + _out_size(x_shape, w_shape, stride, pads, dilation)
    return (stride, pads, dilation, groups), (x_shape, w_shape, y_shape), why


def _unsupported(x_shape, w_shape, dtype, stride, pads, dilation, groups, out_hw):
    """What in this geometry or dtype oneDNN's kernels do not take, or None."""
    if dtype != np.float32:
        return f"dtype {np.dtype(dtype)}: the oneDNN path is float32 only (float64 is the NumPy reference)"
    if len(x_shape) != 4 or len(w_shape) != 4:
        return f"shapes {tuple(x_shape)}, {tuple(w_shape)}: expected 4-D input and weight"
    if min(x_shape) < 1 or min(w_shape) < 1:
        return f"empty tensor {tuple(x_shape)} or weight {tuple(w_shape)}: nothing for oneDNN to run"
    if groups < 1 or x_shape[1] != w_shape[1] * groups or w_shape[0] % groups:
        return f"input {tuple(x_shape)} and weight {tuple(w_shape)} do not fit groups={groups}"
    if min(stride) < 1 or min(dilation) < 1 or min(pads) < 0:
        return f"stride {stride}, dilation {dilation}, padding {pads}: expected positive strides and dilations, non-negative pads"
    ho, wo = _out_size(x_shape, w_shape, stride, pads, dilation)
    if ho < 1 or wo < 1:
        return f"kernel {tuple(w_shape[2:])} larger than the padded input {tuple(x_shape[2:])}"
    if out_hw is not None and tuple(out_hw) != (ho, wo):
        return (f"output size {tuple(out_hw)} is not the {(ho, wo)} the geometry gives "
                "(output_padding ≥ stride): oneDNN needs the two to agree")
    return None


_explained = set()


def supports(x_shape, w_shape, dtype, stride=1, padding=0, dilation=1, groups=1, out_hw=None):
    """(True, "") if this convolution runs on oneDNN, else (False, the reason).

    x_shape (N, C, H, W) and w_shape (O, C/groups, kh, kw) are the forward's input and weight
    (for a transposed convolution: the shape of its output and its weight); padding an int, a
    pair (ph, pw) or (top, bottom, left, right); ``out_hw`` an explicit (Ho, Wo) where the
    caller has one (the adjoint of a transposed convolution with output_padding). With
    ``CHAINRULE_ONEDNN_DEBUG=1`` (or ``onednn.debug = True``) each reason is logged once per
    geometry."""
    geo, _, why = _checked(x_shape, w_shape, dtype, stride, padding, dilation, groups, out_hw)
    why = _disabled() or why
    if why is None:
        return True, ""
    if debug:
        stride, pads, dilation, _ = geo
        key = (tuple(x_shape), tuple(w_shape), np.dtype(dtype).str, stride, pads, dilation, groups, why)
        if key not in _explained:
            _explained.add(key)
            _log.warning("onednn: conv x%s w%s stride %s pad %s dilation %s groups %d runs on NumPy: %s",
                         tuple(x_shape), tuple(w_shape), stride, pads, dilation, groups, why)
    return False, why


# ---------------------------------------------------------------------------- data addresses
def _address_from_ctypes(a):
    return a.ctypes.data


def _address_from_struct(a):
    # NumPy's PyArrayObject starts with PyObject_HEAD and then its data pointer; CPython's id
    # is the object's address. 0.13 µs against 0.97 for ``a.ctypes.data`` (which builds a
    # helper object), and a convolution gives oneDNN five addresses per call
    return _pointer_at(id(a) + _DATA_OFFSET).value


_pointer_at = ctypes.c_void_p.from_address
_DATA_OFFSET = 2 * ctypes.sizeof(ctypes.c_void_p)     # after ob_refcnt and ob_type


def _checked_address_function():
    """``_address_from_struct`` on CPython where it reads what ``ctypes.data`` says on probe
    arrays (a view, a transposed one, a slice of a large one), else the documented
    ``ctypes.data`` (elsewhere ``id`` is not an address, and reading at it could crash)."""
    if platform.python_implementation() != "CPython":
        return _address_from_ctypes
    probes = [np.zeros(7, np.float32)[2:], np.zeros((3, 4))[::2].T, np.empty(1 << 20, np.uint8)[5:]]
    try:
        if all(_address_from_struct(a) == a.ctypes.data for a in probes):
            return _address_from_struct
    except (ValueError, OSError):     # not CPython's layout
        pass
    return _address_from_ctypes


_address = _checked_address_function()


# ---------------------------------------------------------------------------- scratch buffers
class _Buffers:
    """64-byte-aligned scratch buffers for the blocked copies around a convolution, pooled
    while malloc would give them back to the system.

    Why pooled: with glibc's default settings a fresh multi-megabyte array page-faults on first
    touch, which costs as much as the reorder itself; a training loop asks for the same sizes
    every step. Why not inside ``cpu.tuned()``, where malloc keeps freed memory: a buffer given
    back to malloc is what the next allocation of its size gets, typically the following op's
    output (a batch norm's after its convolution), while the convolution has just left it in
    cache; a pooled one leaves that op a block last touched long ago. Measured, resnet20's
    inference step at 1 thread: 0.87 → 0.93× torch's (training steps: no change)."""

    ALIGN = 64

    def __init__(self, limit_bytes=256 << 20):
        self.limit, self.bytes, self.free = limit_bytes, 0, {}
        self.lock = threading.Lock()

    def take(self, nbytes):
        with self.lock:
            stack = self.free.get(nbytes)
            if stack:
                self.bytes -= nbytes
                return stack.pop()
        raw = np.empty(nbytes + self.ALIGN, np.uint8)
        start = (-_address(raw)) % self.ALIGN
        return raw[start:start + nbytes]

    def give(self, buf):
        if cpu.keeps_freed_memory():
            return
        with self.lock:
            if self.bytes + buf.nbytes <= self.limit:
                self.free.setdefault(buf.nbytes, []).append(buf)
                self.bytes += buf.nbytes


_buffers = _Buffers()


# ---------------------------------------------------------------------------- primitives
_QUERY = {_dnnl.ARG_SRC: _dnnl.query_src_md, _dnnl.ARG_WEIGHTS: _dnnl.query_weights_md,
          _dnnl.ARG_DST: _dnnl.query_dst_md, _dnnl.ARG_DIFF_SRC: _dnnl.query_diff_src_md,
          _dnnl.ARG_DIFF_DST: _dnnl.query_diff_dst_md,
          _dnnl.ARG_DIFF_WEIGHTS: _dnnl.query_diff_weights_md}
_KINDS = ("forward", "backward_data", "backward_weights")
LAYOUTS = ("blocked", "plain", "channels_last")


class _Plan:
    """One convolution's oneDNN primitives, ready to run on arrays of fixed shapes.

    ``args`` maps each argument (DNNL_ARG_*) to its shape and whether it is an output. The
    convolution is created with ``format_tag any`` for data and weights (the kernel picks its
    blocked layout); each argument whose chosen layout differs from plain NCHW/OIHW gets a
    reorder from the user's array (inputs) or into it (outputs), through a pooled buffer.

    Every memory object is created without data (DNNL_MEMORY_NONE) and is pointed at the call's
    arrays before each execute (``_point`` skips the call when the address is the one it has);
    ``run`` holds the plan's lock from the first pointer set to the stream's wait, so two
    threads never share the pointers, and ``close`` (on eviction) waits for a running call
    before destroying anything.
    """

    def __init__(self, kind, args, geo, layout="blocked", nhwc=False):
        self.layout, self.nhwc = layout, nhwc    # nhwc: the caller's activations are channels-last
        self.lock = threading.Lock()
        self.pds, self.mds, self.mems, self.prims = [], [], [], []
        self.addresses = {}       # memory handle -> the data address it was last given
        self.closed = False
        try:
            self._build(kind, args, geo, layout)
        except BaseException:
            self._destroy()
            raise

    # -- creation
    def _md(self, shape, tag):
        md = _dnnl.memory_desc(shape, tag)
        self.mds.append(md)
        return md

    def _channels_last_md(self, shape):
        md = _dnnl.memory_desc_channels_last(shape)
        self.mds.append(md)
        return md

    def _strided_md(self, shape, strides):
        md = _dnnl.memory_desc_strided(shape, strides)
        self.mds.append(md)
        return md

    def _mem(self, md):
        mem = ctypes.c_void_p()
        _dnnl.call("dnnl_memory_create", ctypes.byref(mem), md, _dnnl.engine(), None)
        self.mems.append(mem)
        return mem

    def _primitive(self, pd):
        prim = ctypes.c_void_p()
        _dnnl.call("dnnl_primitive_create", ctypes.byref(prim), pd)
        self.prims.append(prim)
        return prim

    def _build(self, kind, args, geo, layout):
        stride, pads, dilation, groups = geo
        eng = _dnnl.engine()
        user, any_ = {}, {}
        for arg, (shape, _) in args.items():
            if arg in (_dnnl.ARG_WEIGHTS, _dnnl.ARG_DIFF_WEIGHTS) and groups > 1:
                o, c, kh, kw = shape      # oneDNN's grouped weights: (g, O/g, C/g, kh, kw)
                shape = (groups, o // groups, c, kh, kw)
            ndim = len(shape)
            tag = {1: _dnnl.a, 4: _dnnl.abcd, 5: _dnnl.abcde}[ndim]
            weights = arg in (_dnnl.ARG_WEIGHTS, _dnnl.ARG_DIFF_WEIGHTS)
            activation = ndim == 4 and not weights
            user[arg] = (self._channels_last_md(shape) if activation and self.nhwc
                         else self._md(shape, tag))
            # 'plain' pins the activations to the caller's layout (NCHW: oneDNN then runs its
            # GEMM convolution, no reorders), 'channels_last' to NHWC (its brgconv kernels,
            # reordered to and from NCHW arrays); the weights are left free in all three (their
            # reorder costs microseconds)
            if activation and layout == "channels_last":
                any_[arg] = user[arg] if self.nhwc else self._channels_last_md(shape)
            elif ndim > 1 and (layout == "blocked" or weights):
                any_[arg] = self._md(shape, _dnnl.format_tag_any)
            else:
                any_[arg] = user[arg]
        s = _dnnl.dims(stride)
        d = _dnnl.dims([v - 1 for v in dilation])       # oneDNN counts dilation from 0
        pl, pr = _dnnl.dims((pads[0], pads[2])), _dnnl.dims((pads[1], pads[3]))
        A = _dnnl
        src = any_.get(A.ARG_SRC)
        wei = any_.get(A.ARG_WEIGHTS, any_.get(A.ARG_DIFF_WEIGHTS))
        dst = any_.get(A.ARG_DST, any_.get(A.ARG_DIFF_DST))
        bias = any_.get(A.ARG_BIAS, any_.get(A.ARG_DIFF_BIAS))
        if kind == "backward_data":
            src = any_[A.ARG_DIFF_SRC]

        def forward_pd(bias_md):
            pd = ctypes.c_void_p()
            A.call("dnnl_convolution_forward_primitive_desc_create", ctypes.byref(pd), eng,
                   A.forward_training, A.convolution_direct, src, wei, bias_md, dst, s, d, pl, pr, None)
            self.pds.append(pd)
            return pd

        if kind == "forward":
            pd = forward_pd(bias)
        elif kind == "backward_data":
            hint = forward_pd(None)
            pd = ctypes.c_void_p()
            A.call("dnnl_convolution_backward_data_primitive_desc_create", ctypes.byref(pd), eng,
                   A.convolution_direct, src, wei, dst, s, d, pl, pr, hint, None)
            self.pds.append(pd)
        else:
            hint = forward_pd(bias)
            pd = ctypes.c_void_p()
            A.call("dnnl_convolution_backward_weights_primitive_desc_create", ctypes.byref(pd), eng,
                   A.convolution_direct, src, wei, bias, dst, s, d, pl, pr, hint, None)
            self.pds.append(pd)
        self.impl = A.impl_info(pd)

        # each argument: the kernel's layout, and a reorder where it is not the user's
        self.slots = {}           # arg -> (user memory, reorder-or-None, its memory, nbytes)
        self.before, self.after = [], []    # (reorder primitive, ExecArg[2]) to run around it
        exec_args = []
        for arg, (_, is_output) in args.items():
            chosen = A.lib().dnnl_primitive_desc_query_md(pd, _QUERY.get(arg, 255), 0) \
                if arg in _QUERY else user[arg]
            umem = self._mem(user[arg])
            if A.lib().dnnl_memory_desc_equal(chosen, user[arg]):
                self.slots[arg] = (umem, None, None, 0)
                exec_args.append((arg, umem))
                continue
            kmem = self._mem(chosen)
            frm, to = (kmem, umem) if is_output else (umem, kmem)
            rpd = ctypes.c_void_p()
            A.call("dnnl_reorder_primitive_desc_create", ctypes.byref(rpd),
                   chosen if is_output else user[arg], eng, user[arg] if is_output else chosen, eng, None)
            self.pds.append(rpd)
            reorder = self._primitive(rpd)
            pair = (A.ExecArg * 2)((A.ARG_FROM, frm.value), (A.ARG_TO, to.value))
            (self.after if is_output else self.before).append((reorder, pair))
            self.slots[arg] = (umem, reorder, kmem, A.lib().dnnl_memory_desc_get_size(chosen))
            exec_args.append((arg, kmem))
        self.conv = self._primitive(pd)
        self.exec_args = (A.ExecArg * len(exec_args))(*[(arg, m.value) for arg, m in exec_args])
        self.nargs = len(exec_args)
        # the descriptors are copied into the memory objects and primitives: free them now
        for pd_ in self.pds:
            A.call("dnnl_primitive_desc_destroy", pd_)
        for md in self.mds:
            A.call("dnnl_memory_desc_destroy", md)
        self.pds, self.mds = [], []

    def _finish_unreordered(self, pd, mds):
        """The primitive of ``pd`` on the arguments' memory as it is ({arg: descriptor}, no
        reorders: pooling and elementwise plans); the descriptors are freed after."""
        self.slots = {arg: (self._mem(md), None, None, 0) for arg, md in mds.items()}
        self.before, self.after = [], []
        self.conv = self._primitive(pd)
        self.exec_args = (_dnnl.ExecArg * len(self.slots))(
            *[(arg, slot[0].value) for arg, slot in self.slots.items()])
        self.nargs = len(self.slots)
        for pd_ in self.pds:
            _dnnl.call("dnnl_primitive_desc_destroy", pd_)
        for md in self.mds:
            _dnnl.call("dnnl_memory_desc_destroy", md)
        self.pds, self.mds = [], []

    # -- running
    def _point(self, mem, address):
        """Give memory object ``mem`` this data address (a call only when it changed: a
        training loop hands the same pooled buffers, and often the same arrays, every step)."""
        if self.addresses.get(mem.value) != address:
            _dnnl.call("dnnl_memory_set_data_handle", mem, address)
            self.addresses[mem.value] = address

    def run(self, arrays):
        """Run the convolution on ``arrays`` (arg -> C-contiguous float32 array, every argument
        of the plan present). The arrays, and the scratch buffers, stay referenced here until
        the stream's wait returns; every memory object is pointed at this call's arrays before
        anything executes (a stale address from an earlier call is never used)."""
        lib, stream = _dnnl.lib(), _dnnl.stream()
        with self.lock:
            if self.closed:
                raise OneDNNError("onednn: a closed plan was run")
            scratch = []
            try:
                for arg, (umem, reorder, kmem, nbytes) in self.slots.items():
                    self._point(umem, _address(arrays[arg]))
                    if reorder is not None:
                        buf = _buffers.take(nbytes)
                        scratch.append(buf)
                        self._point(kmem, _address(buf))
                for reorder, pair in self.before:
                    _dnnl.call("dnnl_primitive_execute", reorder, stream, 2, pair)
                _dnnl.call("dnnl_primitive_execute", self.conv, stream, self.nargs, self.exec_args)
                for reorder, pair in self.after:
                    _dnnl.call("dnnl_primitive_execute", reorder, stream, 2, pair)
                _dnnl.call("dnnl_stream_wait", stream)
            except BaseException:
                lib.dnnl_stream_wait(stream)   # a failed call may still be writing: let it end
                raise
            finally:
                for buf in scratch:
                    _buffers.give(buf)

    # -- destruction
    def _destroy(self):
        lib = _dnnl._lib
        if lib is None:
            return
        for prim in self.prims:
            lib.dnnl_primitive_destroy(prim)
        for mem in self.mems:
            lib.dnnl_memory_destroy(mem)
        for pd in self.pds:
            lib.dnnl_primitive_desc_destroy(pd)
        for md in self.mds:
            lib.dnnl_memory_desc_destroy(md)
        self.prims, self.mems, self.pds, self.mds = [], [], [], []

    def close(self):
        """Destroy the primitives and memory objects (waits for a running call to end)."""
        with self.lock:
            if not self.closed:
                self.closed = True
                self._destroy()


class _PoolPlan(_Plan):
    """oneDNN's max pooling on plain NCHW arrays, which its JIT kernels take as they are (no
    reorders): ``kind`` 'pool_forward' (src -> dst and the workspace recording each window's
    winner), 'pool_inference' (no workspace) or 'pool_backward' (diff_dst and the workspace ->
    diff_src). ``shapes`` (x_shape, y_shape); ``geo`` (kernel, stride, dilation, (top, bottom,
    left, right)). Runs through ``_Plan.run`` (the same pointer and lock discipline)."""

    def _build(self, kind, shapes, geo, layout):
        A, eng = _dnnl, _dnnl.engine()
        (kernel, stride, dilation, pads), (x_shape, y_shape) = geo, shapes
        md = self._channels_last_md if self.nhwc else lambda shape: self._md(shape, A.abcd)
        src, dst = md(x_shape), md(y_shape)
        window = (A.dims(stride), A.dims(kernel), A.dims([v - 1 for v in dilation]),
                  A.dims((pads[0], pads[2])), A.dims((pads[1], pads[3])))
        fwd = ctypes.c_void_p()
        prop = A.forward_inference if kind == "pool_inference" else A.forward_training
        A.call("dnnl_pooling_forward_primitive_desc_create", ctypes.byref(fwd), eng, prop,
               A.pooling_max, src, dst, *window, None)
        self.pds.append(fwd)
        pd = fwd
        if kind == "pool_backward":
            pd = ctypes.c_void_p()
            A.call("dnnl_pooling_backward_primitive_desc_create", ctypes.byref(pd), eng,
                   A.pooling_max, src, dst, *window, fwd, None)
            self.pds.append(pd)
        self.impl = A.impl_info(pd)
        mds = ({A.ARG_DIFF_DST: dst, A.ARG_DIFF_SRC: src} if kind == "pool_backward" else
               {A.ARG_SRC: src, A.ARG_DST: dst})
        self.workspace_bytes = 0
        if kind != "pool_inference":
            ws = A.lib().dnnl_primitive_desc_query_md(pd, A.query_workspace_md, 0)  # pd's own
            if ws:
                self.workspace_bytes = A.lib().dnnl_memory_desc_get_size(ws)
                mds[A.ARG_WORKSPACE] = ws
        self._finish_unreordered(pd, mds)


def _heuristic(kind, args, geo):
    """The layout to use (without ``autotune``). Measured on LeNet-5's and resnet20's layers
    (AVX-512, 1 thread, CPU time; benchmarks/onednn_layers.py): the blocked direct kernels beat
    oneDNN's GEMM convolution on NCHW 1.5–3× (reorders included), except backward-data into few
    channels (C ≤ 4: LeNet's first layer 1.1 vs 5.4 ms, resnet20's stem 1.06 vs 1.5 ms) and of
    1×1 kernels (0.30 vs 0.51 ms), where the GEMM convolution wins; and the forward into ≤ 16
    channels of a large image (≥ 28×28 outputs), where the channels-last brgconv kernel beats
    the blocked one even with both reorders (resnet20's 16→16 layers 2.01 → 1.60 ms, LeNet's
    first layer 0.56 → 0.43 ms; on smaller images, LeNet's second layer, it loses 0.30 vs 0.38),
    and the weight gradient of a stride-1 k×k (k > 1) conv from ≥ 6 channels, read channels-last
    (resnet20's 16→16, 32→32, 64→64: 1.80 / 1.71 / 1.38 → 1.66 / 1.52 / 1.33 ms, LeNet's second
    layer 0.56 → 0.36 ms; strided, 1×1 or from 1–3 channels it loses 5–40%). A 1×1 kernel is a
    matrix product per image, which the GEMM convolution on NCHW runs with no reorder: faster for
    all three ops (re-measured 2026-12-06 on a Xeon with AMX, 1 and 2 threads: forward 13 of 14
    shapes, e.g. resnet20's downsampling 16→32 265 → 141 µs and 64→64 on 56×56 5.9 → 3.2 ms;
    the weight gradient 12 of 12; the one loss 7%, 256→512 stride 2 on 28×28 at batch 8)."""
    kernel = args.get(_dnnl.ARG_WEIGHTS, args.get(_dnnl.ARG_DIFF_WEIGHTS))[0][-2:]
    if kernel == (1, 1):
        return "plain"
    if kind == "backward_data":
        return "plain" if args[_dnnl.ARG_DIFF_SRC][0][1] <= 4 else "blocked"
    if kind == "forward":
        _, o, ho, wo = args[_dnnl.ARG_DST][0]
        return "channels_last" if o <= 16 and ho * wo >= 28 * 28 else "blocked"
    return "channels_last" if args[_dnnl.ARG_SRC][0][1] >= 6 and geo[0] == (1, 1) else "blocked"


def _timed(plan, arrays):
    start = time.perf_counter()
    plan.run(arrays)
    return time.perf_counter() - start


class _Cache:
    """The plans by (op, shapes, geometry, bias, threads), least recently used evicted first.

    A missing plan is built at its first call, which it also computes: ``_heuristic`` picks its
    layout, or, with ``autotune``, every layout is built and run three times each on the
    call's own arrays and the fastest is kept (what torch.backends.cudnn.benchmark does)."""

    def __init__(self, size):
        self.size, self.plans, self.lock = size, OrderedDict(), threading.Lock()
        self.hits = self.misses = 0

    def run(self, key, kind, shapes, with_bias, geo, arrays, nhwc=False):
        with self.lock:
            plan = self.plans.get(key)
            if plan is not None:
                self.plans.move_to_end(key)
                self.hits += 1
        if plan is not None:
            plan.run(arrays)
            return plan
        plan = self._choose(kind, _args(kind, shapes, with_bias), geo, arrays, nhwc)  # unlocked: ms
        return self._insert(key, plan)

    def get(self, key, make):
        """The plan cached under ``key``, or ``make()``'s, cached (a pooling plan, run by the
        caller)."""
        with self.lock:
            plan = self.plans.get(key)
            if plan is not None:
                self.plans.move_to_end(key)
                self.hits += 1
                return plan
        return self._insert(key, make())

    def _insert(self, key, plan):
        with self.lock:
            self.misses += 1
            old = self.plans.get(key)
            if old is not None:              # another thread built the same plan meanwhile
                plan.close()
                return old
            self.plans[key] = plan
            while len(self.plans) > self.size:
                self.plans.popitem(last=False)[1].close()
        return plan

    @staticmethod
    def _choose(kind, args, geo, arrays, nhwc):
        first = _heuristic(kind, args, geo)
        layouts = sorted(LAYOUTS, key=lambda layout: layout != first) if autotune else [first]
        if nhwc:       # channels-last arrays: the NHWC kernels read and write them as they are
            layouts = ["channels_last"]
        plans, error = [], None
        for layout in layouts:
            try:
                plans.append(_Plan(kind, args, geo, layout, nhwc))
            except OneDNNError as e:          # unimplemented for this layout: try the others
                error = e
        if not plans:
            raise error
        if len(plans) == 1:
            plans[0].run(arrays)
            return plans[0]
        for plan in plans:                    # warm-up: page faults, the JIT's first touch
            plan.run(arrays)
        times = [min(_timed(plan, arrays) for _ in range(3)) for plan in plans]
        best = plans[times.index(min(times))]
        for plan in plans:
            if plan is not best:
                plan.close()
        best.run(arrays)                      # the outputs come from the plan that is kept
        return best

    def clear(self):
        with self.lock:
            for plan in self.plans.values():
                plan.close()
            self.plans.clear()


_cache = _Cache(CACHE_SIZE)


def cache_info():
    """{'size': plans cached, 'maxsize': CACHE_SIZE, 'hits': ..., 'misses': ...}."""
    return {"size": len(_cache.plans), "maxsize": _cache.size, "hits": _cache.hits,
            "misses": _cache.misses}


def clear_cache():
    """Destroy every cached primitive."""
    _cache.clear()
    _elementwise_cache.clear()
    _matmul_cache.clear()


def implementation(kind, x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1, with_bias=False):
    """The oneDNN implementation that runs this convolution op (``kind`` 'forward',
    'backward_data' or 'backward_weights'), e.g. 'brg:avx2'; for benchmarks and debugging."""
    geo, shapes = _geometry("onednn.implementation", x_shape, w_shape, np.float32, stride, padding,
                            dilation, groups, None)
    args = _args(kind, shapes, with_bias)
    arrays = {arg: np.zeros(shape, np.float32) for arg, (shape, _) in args.items()}
    plan = _run(kind, shapes, geo, with_bias, arrays)
    return f"{plan.impl} ({plan.layout})"


# ---------------------------------------------------------------------------- array functions
def _geometry(op, x_shape, w_shape, dtype, stride, padding, dilation, groups, out_hw):
    """(stride, pads, dilation, groups), and (x, w, y shapes); ValueError if it cannot run here."""
    geo, shapes, why = _checked(x_shape, w_shape, dtype, stride, padding, dilation, groups, out_hw)
    why = _disabled() or why
    if why is not None:
        raise ValueError(f"{op}: not supported on oneDNN: {why}")
    return geo, shapes


def _f32(a, op, name, fmt=_memory_format.contiguous_format):
    """``a`` as a float32 array laid out in ``fmt``, C order by default (copied only if it is
    not one)."""
    if a.dtype != np.float32:
        raise TypeError(f"{op}: {name} must be float32, got {a.dtype}")
    return _memory_format.laid_out(a, fmt, op)


def _args(kind, shapes, with_bias):
    """{DNNL_ARG_*: (shape, is_output)} of one op."""
    x_shape, w_shape, y_shape = shapes
    A = _dnnl
    if kind == "forward":
        args = {A.ARG_SRC: (x_shape, False), A.ARG_WEIGHTS: (w_shape, False), A.ARG_DST: (y_shape, True)}
        if with_bias:
            args[A.ARG_BIAS] = ((w_shape[0],), False)
    elif kind == "backward_data":
        args = {A.ARG_DIFF_DST: (y_shape, False), A.ARG_WEIGHTS: (w_shape, False),
                A.ARG_DIFF_SRC: (x_shape, True)}
    elif kind == "backward_weights":
        args = {A.ARG_SRC: (x_shape, False), A.ARG_DIFF_DST: (y_shape, False),
                A.ARG_DIFF_WEIGHTS: (w_shape, True)}
        if with_bias:
            args[A.ARG_DIFF_BIAS] = ((w_shape[0],), True)
    else:
        raise ValueError(f"onednn: kind must be one of {_KINDS}, got {kind!r}")
    return args


def _run(kind, shapes, geo, with_bias, arrays, fmt=_memory_format.contiguous_format):
    """Run one op on ``arrays`` (activations laid out in ``fmt``) with the cached plan (built at
    the first call); returns the plan."""
    nhwc = fmt is _memory_format.channels_last
    with _omp_threads() as threads:
        key = (kind, shapes, geo, with_bias, threads, nhwc)
        return _cache.run(key, kind, shapes, with_bias, geo, arrays, nhwc)


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y = conv(x, w) + b on oneDNN (torch.nn.functional.conv2d on arrays).

    y[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, g(o)·C/g + c, i·s + p·d, j·s + q·d]

    x (N, C, H, W), w (O, C/groups, kh, kw), b (O,) or None -> y (N, O, Ho, Wo), float32,
    Ho = ⌊(H + pT + pB − d(kh − 1) − 1)/s⌋ + 1. padding: int, (ph, pw) or (top, bottom, left,
    right). y is channels-last when x or w is (torch's rule), and is then computed without a
    reorder of x or y. Raises ValueError with the reason where ``supports`` says no."""
    op = "onednn.conv2d_forward"
    geo, shapes = _geometry(op, x.shape, w.shape, x.dtype, stride, padding, dilation, groups, None)
    fmt = _memory_format.suggested(x, w)
    x, w = _f32(x, op, "x", fmt), _f32(w, op, "w")
    arrays = {_dnnl.ARG_SRC: x, _dnnl.ARG_WEIGHTS: w}
    if b is not None:
        if b.shape != (w.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
        arrays[_dnnl.ARG_BIAS] = _f32(b, op, "b")
    y = _memory_format.empty(shapes[2], np.float32, fmt)
    arrays[_dnnl.ARG_DST] = y
    _run("forward", shapes, geo, b is not None, arrays, fmt)
    return y


def conv2d_backward_data(gy, w, x_shape, stride=1, padding=0, dilation=1, groups=1,
                         memory_format=None):
    """x̄ = convᵀ(ȳ, w), the VJP of conv in x (torch.nn.grad.conv2d_input; and
    conv_transpose2d(ȳ, w) without output_padding beyond the geometry's).

    x̄[n, g·C/g + c, i·s + p·d − pT, j·s + q·d − pL] += Σ_o w[o, c, p, q] · ȳ[n, o, i, j]
    (over the o of group g)

    gy (N, O, Ho, Wo), w (O, C/groups, kh, kw), x_shape (N, C, H, W) -> gx (x_shape), float32;
    Ho, Wo must be what the geometry gives for x_shape. gx is laid out in ``memory_format``
    (by default channels-last when gy is, else C order), gy read in that layout."""
    op = "onednn.conv2d_backward_data"
    geo, shapes = _geometry(op, x_shape, w.shape, gy.dtype, stride, padding, dilation, groups,
                            gy.shape[2:])
    if tuple(gy.shape[:2]) != shapes[2][:2]:
        raise ValueError(f"{op}: gy has shape {gy.shape}, expected {shapes[2]}")
    fmt = _memory_format.suggested(gy) if memory_format is None else memory_format
    gy, w = _f32(gy, op, "gy", fmt), _f32(w, op, "w")
    gx = _memory_format.empty(shapes[0], np.float32, fmt)
    _run("backward_data", shapes, geo, False,
         {_dnnl.ARG_DIFF_DST: gy, _dnnl.ARG_WEIGHTS: w, _dnnl.ARG_DIFF_SRC: gx}, fmt)
    return gx


def conv2d_backward_weights(x, gy, w_shape, stride=1, padding=0, dilation=1, groups=1, with_bias=False):
    """(w̄, b̄): the VJPs of conv in w and b (torch.nn.grad.conv2d_weight, and ȳ summed over
    N, H, W for the bias).

    w̄[o, c, p, q] = Σ_{n,i,j} ȳ[n, o, i, j] · x_pad[n, g(o)·C/g + c, i·s + p·d, j·s + q·d],
    b̄[o] = Σ_{n,i,j} ȳ[n, o, i, j]

    x (N, C, H, W), gy (N, O, Ho, Wo), w_shape (O, C/groups, kh, kw) -> gw (w_shape) and gb (O,)
    if ``with_bias`` else None, float32 (x and gy read channels-last as they are when one of
    them is)."""
    op = "onednn.conv2d_backward_weights"
    geo, shapes = _geometry(op, x.shape, w_shape, x.dtype, stride, padding, dilation, groups,
                            gy.shape[2:])
    if tuple(gy.shape[:2]) != shapes[2][:2]:
        raise ValueError(f"{op}: gy has shape {gy.shape}, expected {shapes[2]}")
    fmt = _memory_format.suggested(x, gy)
    x, gy = _f32(x, op, "x", fmt), _f32(gy, op, "gy", fmt)
    gw = np.empty(shapes[1], np.float32)
    arrays = {_dnnl.ARG_SRC: x, _dnnl.ARG_DIFF_DST: gy, _dnnl.ARG_DIFF_WEIGHTS: gw}
    gb = None
    if with_bias:
        gb = arrays[_dnnl.ARG_DIFF_BIAS] = np.empty((shapes[1][0],), np.float32)
    _run("backward_weights", shapes, geo, with_bias, arrays, fmt)
    return gw, gb


# ---------------------------------------------------------------------------- max pooling
def pool_unsupported(x_shape, dtype):
    """Why oneDNN's max pooling does not take this input (x (N, C, H, W), any window), or None:
    switched off or absent, not float32, not 4-D or empty."""
    why = _disabled()
    if why is None and np.dtype(dtype) != np.float32:
        why = f"dtype {np.dtype(dtype)}: the oneDNN path is float32 only"
    if why is None and (len(x_shape) != 4 or min(x_shape) < 1):
        why = f"shape {tuple(x_shape)}: expected a non-empty (N, C, H, W)"
    return why


def _pool_shapes(x_shape, y_shape, fmt):
    """The (N, C, H, W) shapes oneDNN pools x and y as. Each (n, c) plane pools alone, so NCHW
    arrays whose C is not a multiple of 16 but whose N·C is are pooled as N·C/16 images of 16
    channels: the same values, while oneDNN's NCHW kernel gathers 16 channels into its vectors
    and pads a block of fewer (LeNet-5's (64, 6, 28, 28) at 2 threads: forward 124 → 77 µs,
    backward 138 → 80; at 1 thread 195 → 131 and 240 → 144). Else the shapes as they are."""
    n, c = x_shape[:2]
    if fmt is _memory_format.channels_last or c % 16 == 0 or n * c % 16:
        return tuple(x_shape), tuple(y_shape)
    return (n * c // 16, 16, *x_shape[2:]), (n * c // 16, 16, *y_shape[2:])


def _pool_plan(kind, shapes, kernel, stride, dilation, pads, threads, fmt):
    geo = (tuple(kernel), tuple(stride), tuple(dilation), tuple(pads))
    nhwc = fmt is _memory_format.channels_last
    return _cache.get((kind, shapes, geo, threads, nhwc),
                      lambda: _PoolPlan(kind, shapes, geo, "plain", nhwc))


def max_pool2d_forward(x, y_shape, kernel, stride, dilation, pads, training=True):
    """y[n, c, i, j] = max_{p,q} x[n, c, i·s + p·d − pT, j·s + q·d − pL] (padding never wins)
    on oneDNN, and the workspace recording each window's winner for ``max_pool2d_backward``
    (None when not ``training``).

    x (N, C, H, W) float32 -> y ``y_shape`` (N, C, Ho, Wo), channels-last when x is (both read
    and written as they are; the backward must then be given ``channels_last`` too); kernel,
    stride, dilation pairs; pads (top, bottom, left, right), bottom/right grown for ceil_mode
    windows. NaN: oneDNN's maximum drops it (torch's propagates), so callers keep inputs with
    NaN on NumPy."""
    op = "onednn.max_pool2d_forward"
    why = pool_unsupported(x.shape, x.dtype)
    if why is not None:
        raise ValueError(f"{op}: not supported on oneDNN: {why}")
    fmt = _memory_format.suggested(x)
    x = _f32(x, op, "x", fmt)
    y, workspace = _memory_format.empty(y_shape, np.float32, fmt), None
    shapes = _pool_shapes(x.shape, y_shape, fmt)
    arrays = {_dnnl.ARG_SRC: x.reshape(shapes[0]), _dnnl.ARG_DST: y.reshape(shapes[1])}
    with _omp_threads() as threads:
        plan = _pool_plan("pool_forward" if training else "pool_inference", shapes,
                          kernel, stride, dilation, pads, threads, fmt)
        if plan.workspace_bytes:
            workspace = arrays[_dnnl.ARG_WORKSPACE] = np.empty(plan.workspace_bytes, np.uint8)
        plan.run(arrays)
    return y, workspace


def max_pool2d_backward(gy, workspace, x_shape, kernel, stride, dilation, pads,
                        memory_format=_memory_format.contiguous_format):
    """x̄: each ȳ[n, c, i, j] added to its window's maximum (the winner the forward's
    ``workspace`` recorded), zeros elsewhere — the VJP of ``max_pool2d_forward``.
    gy (N, C, Ho, Wo) float32 -> x̄ ``x_shape``; ``memory_format``: the layout the forward ran
    in (its input's), which its workspace follows, and x̄'s."""
    op = "onednn.max_pool2d_backward"
    why = pool_unsupported(x_shape, gy.dtype)
    if why is not None:
        raise ValueError(f"{op}: not supported on oneDNN: {why}")
    fmt = memory_format
    gy, gx = _f32(gy, op, "gy", fmt), _memory_format.empty(tuple(x_shape), np.float32, fmt)
    shapes = _pool_shapes(gx.shape, gy.shape, fmt)   # the forward's, which the workspace follows
    with _omp_threads() as threads:
        plan = _pool_plan("pool_backward", shapes, kernel, stride, dilation, pads, threads, fmt)
        if workspace is None or workspace.nbytes != plan.workspace_bytes:
            raise ValueError(f"{op}: the workspace of this geometry's forward is needed")
        plan.run({_dnnl.ARG_DIFF_DST: gy.reshape(shapes[1]), _dnnl.ARG_WORKSPACE: workspace,
                  _dnnl.ARG_DIFF_SRC: gx.reshape(shapes[0])})
    return gx


# ---------------------------------------------------------------------------- elementwise
# Batch norm's per-channel scale and shift and ReLU are single passes over memory, which
# NumPy runs on one core in two or more loops (a per-channel factor broadcast along a row
# takes its slow strided loop): resnet20's eval forward spent 3.8 ms in batch norm against
# torch's 1.8 (1 thread) and 3.4 against 1.2 (2 threads). oneDNN's binary primitive with
# post-ops does y = (x·s + t + a)·u in one JIT pass on chainrule's thread count, and ReLU's
# gradient ȳ·(y ≠ 0) (a comparison with a multiplying post-op). Measured, 2 MB of float32
# (32×16×32×32), 1 / 2 threads, in cache: x·s + t 50 / 32 µs vs NumPy's 150. ReLU's gradient
# was first the eltwise ReLU's backward (54 / 31 µs in cache, NumPy's 166), which sends a
# NaN's gradient to 0 and so needed a NaN check over y after it: with a new output per call,
# as in a step, 367 / 192 µs against the comparison's 251 / 120.
# Its eltwise ReLU turns NaN into 0 (torch keeps NaN), so ReLU's forward is a comparison
# that gives +0 everywhere, (x > +∞), followed by a max post-op with x as its operand:
# max(+0, x), which keeps x's NaN and −0.0 as torch's and, reading x before writing each
# element, may write over x (ReLU in place; a binary max with a zeros operand first could
# not, oneDNN writing in place only over the first operand). It gains only from the threads,
# like the additions below (2 MB, 2 threads: 30 µs in place, 63 into a new array, NumPy 60 and
# 151; at 1 thread NumPy is 3 µs faster). Below ELEMENTWISE_MIN elements a NumPy loop costs
# no more than the call.
#
# Additions (and ReLU's forward) gain only from the threads: resnet20's 9 residual additions in its eval forward at
# 2 threads take 0.67–0.83 ms on NumPy and 0.44 ms on oneDNN (2.3 vs 0.55 ms in a slow spell
# of the machine), while at 1 thread NumPy's loop is as fast (0.46 vs 0.78 ms). So additions
# of large arrays go to oneDNN when chainrule runs more than one thread (``parallel_supported``).
ELEMENTWISE_MIN = 1 << 16


def _order(a):
    """'C' or 'CL' when ``a`` is one dense block in C order or channels-last, else None."""
    if a.flags.c_contiguous:
        return "C"
    if a.ndim == 4 and _memory_format.is_laid_out(a, _memory_format.channels_last):
        return "CL"
    return None


def elementwise_supported(*arrays, least=ELEMENTWISE_MIN) -> bool:
    """Whether oneDNN's elementwise kernels take these arrays (None entries skipped): enabled
    and installed, not in deterministic mode, float32, at least ``least`` elements (a pass
    NumPy runs in a few loops: ``ELEMENTWISE_MIN``; ``ACTIVATION_MIN`` for the activations NumPy
    computes slowly), all of one shape and dense in the same order (C order, or all
    channels-last). (Deterministic mode runs its products and convolutions on NumPy's BLAS,
    whose thread pool and oneDNN's OpenMP threads would then take turns spinning on the same
    cores: a LeNet-5 step at 2 threads took 28 ms with its elementwise passes on oneDNN, 9.4
    without.)"""
    first = arrays[0]
    if (not enabled or DETERMINISM.enabled or first.size < least
            or first.dtype != np.float32):
        return False
    order = _order(first)
    for a in arrays[1:]:
        if a is not None and (a.dtype != np.float32 or a.shape != first.shape or _order(a) != order):
            return False
    return order is not None and is_available()


def parallel_supported(*arrays) -> bool:
    """``elementwise_supported`` and chainrule running more than one thread (see above)."""
    return elementwise_supported(*arrays) and get_num_threads() > 1


def _flat(a):
    """The 1-D view of a dense array in its memory order (C order or channels-last)."""
    return a.reshape(-1) if a.flags.c_contiguous else a.transpose(0, 2, 3, 1).reshape(-1)


def _post_op_arg(i):
    return _dnnl.ARG_ATTR_MULTIPLE_POST_OP_BASE * (i + 1) | _dnnl.ARG_SRC_1


class _ElementwisePlan(_Plan):
    """One elementwise oneDNN primitive on dense float32 arrays, read and written as they are
    (no reorders). ``kind``: 'add' (src_0 + src_1 -> dst), 'chain' (see ``chain``), 'relu'
    (max(src_0 > src_1, post-op operand) -> dst, src_1 a broadcast +∞) and 'relu_backward'
    ((src_0 ≠ 0)·post-op
    operand -> dst, src_1 a broadcast 0) on 1-D arrays of ``shape`` (n,); 'affine': dst =
    (src·scale + shift + add)·post_scale on (A, C, L) arrays, scale, shift and post_scale per
    channel (C), ``geo`` = (with add, with post_scale). Runs through ``_Plan.run`` (the same
    pointer and lock discipline)."""

    def _build(self, kind, shape, geo, layout):
        A, eng = _dnnl, _dnnl.engine()   # (loads the library before the first descriptor)
        data_tag = {1: A.a, 2: A.ab, 3: A.abc}[len(shape)]
        data = self._md(shape, data_tag)
        if kind == "add":
            pd = self._binary(eng, A.binary_add, data, data)
            mds = {A.ARG_SRC_0: data, A.ARG_SRC_1: data, A.ARG_DST: data}
        elif kind == "relu":
            scalar = self._md((1,), A.a)
            pd = self._binary(eng, A.binary_gt, data, scalar, [(A.binary_max, data)])
            mds = {A.ARG_SRC_0: data, A.ARG_SRC_1: scalar, A.ARG_DST: data, _post_op_arg(0): data}
        elif kind == "chain":   # geo: the first op and each post-op, with scalar or not
            scalar = self._md((1,), A.a)
            (op, b_scalar), posts = geo[0], geo[1:]
            post = [(_CHAIN_OPS[o], scalar if c else data) for o, c in posts]
            pd = self._binary(eng, _CHAIN_OPS[op], data, scalar if b_scalar else data, post)
            mds = {A.ARG_SRC_0: data, A.ARG_SRC_1: scalar if b_scalar else data, A.ARG_DST: data}
            mds.update({_post_op_arg(i): md for i, (_, md) in enumerate(post)})
        elif kind == "relu_backward":
            # ḡ·(y ≠ 0): y is ReLU's output (≥ 0, −0.0 or NaN), and NaN ≠ 0 lets a NaN's
            # gradient pass (torch's y ≤ 0 test) with no separate check; one pass, ḡ as the
            # multiplying post-op operand
            scalar = self._md((1,), A.a)
            pd = self._binary(eng, A.binary_ne, data, scalar, [(A.binary_mul, data)])
            mds = {A.ARG_SRC_0: data, A.ARG_SRC_1: scalar, A.ARG_DST: data, _post_op_arg(0): data}
        else:
            with_add, with_post_scale = geo
            channel = self._md((1, shape[1]) + (1,) * (len(shape) - 2), data_tag)
            post = [(A.binary_add, channel)] + [(A.binary_add, data)] * with_add \
                + [(A.binary_mul, channel)] * with_post_scale
            pd = self._binary(eng, A.binary_mul, data, channel, post)
            mds = {A.ARG_SRC_0: data, A.ARG_SRC_1: channel, A.ARG_DST: data}
            mds.update({_post_op_arg(i): md for i, (_, md) in enumerate(post)})
        self.pds.append(pd)
        self.impl = A.impl_info(pd)
        self._finish_unreordered(pd, mds)

    @staticmethod
    def _binary(eng, alg, src0, src1, post=()):
        """The descriptor of dst = src0 ∘ src1 (dst described as src0) followed by binary
        post-ops ``post``, [(algorithm, operand descriptor)] in order."""
        A, pd = _dnnl, ctypes.c_void_p()
        ops, attr = ctypes.c_void_p(), ctypes.c_void_p()
        A.call("dnnl_post_ops_create", ctypes.byref(ops))
        try:
            for post_alg, md in post:
                A.call("dnnl_post_ops_append_binary", ops, post_alg, md)
            A.call("dnnl_primitive_attr_create", ctypes.byref(attr))
            A.call("dnnl_primitive_attr_set_post_ops", attr, ops)
            A.call("dnnl_binary_primitive_desc_create", ctypes.byref(pd), eng, alg, src0, src1,
                   src0, attr)
        finally:
            A.lib().dnnl_post_ops_destroy(ops)
            if attr:
                A.lib().dnnl_primitive_attr_destroy(attr)
        return pd


# apart from the convolutions': a new size evicts none (batch norm's plans are kept here too)
_elementwise_cache = _Cache(CACHE_SIZE)


def _run_elementwise(kind, shape, geo, arrays):
    with _omp_threads() as threads:
        plan = _elementwise_cache.get((kind, shape, geo, threads),
                                      lambda: _ElementwisePlan(kind, shape, geo, "plain"))
        plan.run(arrays)


def add(a, b, out=None):
    """y = a + b on oneDNN: a, b float32 of one shape and layout (``elementwise_supported``) ->
    y laid out as them, or written into ``out`` (the same shape and layout; may be a or b)."""
    if out is not None and (out.shape != a.shape or _order(out) != _order(a)):
        raise ValueError(f"onednn.add: out must have a's shape {a.shape} and layout")
    y = np.empty_like(a) if out is None else out
    _run_elementwise("add", (a.size,), None, {
        _dnnl.ARG_SRC_0: _flat(a), _dnnl.ARG_SRC_1: _flat(b), _dnnl.ARG_DST: _flat(y)})
    return y


_CHAIN_OPS = {"add": _dnnl.binary_add, "sub": _dnnl.binary_sub, "mul": _dnnl.binary_mul,
              "div": _dnnl.binary_div}


def chain(op, a, b, steps=(), out=None):
    """out = (…((a op b) op₁ c₁) op₂ c₂ …) on oneDNN in one pass: one binary primitive and its
    binary post-ops, each step rounded to float32 before the next (the JIT does not fuse a
    multiply and an add), so the same bits as NumPy's ufuncs applied one after the other. The
    ops: 'add', 'sub', 'mul', 'div' (a post-op's is ``result op cᵢ``); a float32 array
    (``elementwise_supported``); b and each cᵢ an array of a's shape and layout, or a scalar
    (rounded to float32, broadcast; passed at run time, so a plan serves any value); out new
    or given (a's shape and layout; may be any operand: each element of every operand is read
    before that element of out is written). An optimizer's update in one pass over memory
    instead of one per NumPy operation and temporaries: SGD's b ← μ·b + g is
    ``chain("mul", b, μ, [("add", g)], out=b)``."""
    for o, _ in ((op, b), *steps):
        if o not in _CHAIN_OPS:
            raise ValueError(f"onednn.chain: unknown op {o!r}; expected one of {sorted(_CHAIN_OPS)}")
    operands = [b, *[c for _, c in steps]]
    scalar = [not (isinstance(c, np.ndarray) and c.ndim) for c in operands]
    tensors = [c for c, s in zip(operands, scalar) if not s]
    if not elementwise_supported(a, *tensors, out, least=1):
        raise ValueError(f"onednn.chain: expected a, out and the array operands float32 of one "
                         f"shape and layout (oneDNN on, not in deterministic mode), got a "
                         f"{a.shape} {a.dtype}, operands {[(c.shape, str(c.dtype)) for c in tensors]}"
                         f", out {None if out is None else (out.shape, str(out.dtype))}")
    out = np.empty_like(a) if out is None else out
    arrays = [np.full(1, c, np.float32) if s else _flat(c) for c, s in zip(operands, scalar)]
    geo = ((op, scalar[0]),) + tuple((o, s) for (o, _), s in zip(steps, scalar[1:]))
    args = {_dnnl.ARG_SRC_0: _flat(a), _dnnl.ARG_SRC_1: arrays[0], _dnnl.ARG_DST: _flat(out)}
    args.update({_post_op_arg(i): arr for i, arr in enumerate(arrays[1:])})
    _run_elementwise("chain", (a.size,), geo, args)
    return out


_INF = np.full(1, np.inf, np.float32)   # relu's second operand, broadcast


def relu(x, out=None):
    """y = relu(x) = max(0, x) on oneDNN in one pass, bit for bit torch's: −0.0 stays −0.0, a
    NaN stays that NaN, −∞ gives +0. Computed as (x > +∞), which is +0 for every x, followed by
    a max post-op with x as its operand: max(+0, x) returns x on a tie and wherever either is
    NaN (the JIT's vmaxps returns its second operand then; ``relu_exact`` checks it). The
    kernel reads each element of x before it writes that element of y, so ``out`` may be x
    (ReLU in place). x ``elementwise_supported``; out None, x, or of x's shape and layout -> y
    laid out as x."""
    if out is not None and (out.shape != x.shape or _order(out) != _order(x)):
        raise ValueError(f"onednn.relu: out must have x's shape {x.shape} and layout")
    y = np.empty_like(x) if out is None else out
    flat = _flat(x)
    _run_elementwise("relu", (x.size,), None, {
        _dnnl.ARG_SRC_0: flat, _dnnl.ARG_SRC_1: _INF, _dnnl.ARG_DST: _flat(y),
        _post_op_arg(0): flat})
    return y


@functools.lru_cache(maxsize=None)
def relu_exact() -> bool:
    """Whether ``relu`` gives torch's bits on this machine: run once on NaN (with a payload),
    ±0, ±∞ and ordinary values, in place. It depends on the order in which the kernel takes
    max's operands, a detail of the JIT (a reference kernel may differ); where it does not
    hold, ReLU stays on NumPy."""
    special = np.array([np.nan, -0.0, 0.0, -np.inf, np.inf, -1.5, 2.5], np.float32)
    special = np.append(special, np.uint32(0x7FC01234).view(np.float32))   # a NaN's payload
    x = np.resize(special, 1024)
    want = np.where(x < 0, np.float32(0), x).view(np.uint32)
    try:
        return bool(np.array_equal(relu(x, out=x).view(np.uint32), want))
    except OneDNNError:
        return False


_ZERO = np.zeros(1, np.float32)   # relu_backward's second operand, broadcast


def relu_backward(g, y):
    """x̄ = ȳ·I(y ≠ 0), the VJP of y = relu(x) read from its output (≥ 0, −0.0 or NaN), on
    oneDNN in one pass; where y is NaN the gradient passes (ȳ), as torch's threshold_backward.
    A non-finite ȳ where y = 0 gives NaN (0·∞), as chainrule's NumPy rule; torch's gives 0.
    g, y float32 of one shape and layout (``elementwise_supported``) -> x̄ laid out as them."""
    gx = np.empty_like(g)
    _run_elementwise("relu_backward", (g.size,), None, {
        _dnnl.ARG_SRC_0: _flat(y), _dnnl.ARG_SRC_1: _ZERO, _dnnl.ARG_DST: _flat(gx),
        _post_op_arg(0): _flat(g)})
    return gx


_SHORT_ROWS = 64   # channel_affine's rows up to this length run as (A, C·L) (see there)


def channel_affine(x, scale, shift, add=None, post_scale=None, out=None):
    """y = (x·s + t + a)·u per channel on oneDNN, in one pass: x (A, C, L) or (A, C) C-contiguous
    float32 (a channels-last (N, C, H, W) array is (N·H·W, C)); s, t, u (C,) float32, u
    optional; a of x's shape, optional; y new or written into ``out`` (may be x). Batch norm's
    forward is y = x·s + t; its input gradient x̄ = ((x − μ)·a + c + ȳ)·s."""
    op = "onednn.channel_affine"
    c = x.shape[1]
    # (plain comparisons, not generators: this runs for every batch norm call of a step)
    if (x.ndim not in (2, 3) or scale.shape != (c,) or shift.shape != (c,)
            or post_scale is not None and post_scale.shape != (c,)
            or add is not None and add.shape != x.shape
            or out is not None and (out.shape != x.shape or out.dtype != np.float32
                                    or not out.flags.c_contiguous)):
        raise ValueError(f"{op}: expected x, add, out (A, C, L) or (A, C) (out C-contiguous "
                         f"float32) and per-channel vectors (C,), got x {x.shape}, add "
                         f"{None if add is None else add.shape}, out "
                         f"{None if out is None else (out.shape, out.dtype)}, vectors "
                         f"{[v.shape for v in (scale, shift, post_scale) if v is not None]}")
    y = np.empty_like(x, np.float32, "C") if out is None else out
    shape = x.shape
    if x.ndim == 3 and x.shape[2] <= _SHORT_ROWS:
        # (A, C, 1) runs as (A, C): oneDNN 3.2 misreads a (1, C, 1) post-op operand (measured:
        # the shift of channel c landed on other channels). Short rows, (A, C·L) with each
        # vector repeated L times: the kernel's per-channel broadcast costs per row (resnet20's
        # 64×8² layers, 1 thread: 56 → 38 µs; rows of 256 and more gain nothing or lose)
        length = x.shape[2]
        shape = (x.shape[0], c * length)
        if length > 1:
            scale, shift = scale.repeat(length), shift.repeat(length)
            if post_scale is not None:
                post_scale = post_scale.repeat(length)
    arrays = {_dnnl.ARG_SRC_0: _f32(x, op, "x").reshape(shape),
              _dnnl.ARG_SRC_1: _f32(scale, op, "scale"), _dnnl.ARG_DST: y.reshape(shape),
              _post_op_arg(0): _f32(shift, op, "shift")}
    if add is not None:
        arrays[_post_op_arg(1)] = _f32(add, op, "add").reshape(shape)
    if post_scale is not None:
        arrays[_post_op_arg(1 + (add is not None))] = _f32(post_scale, op, "post_scale")
    _run_elementwise("affine", shape, (add is not None, post_scale is not None), arrays)
    return y


class _RowNormPlan(_Plan):
    """oneDNN's layer normalization over the rows of an (R, L) array, with each row's μ_r and
    σ²_r as outputs (``geo`` ε): ``kind`` 'rows' (no scale or shift: dst = (src − μ_r)/√(σ²_r
    + ε)), 'ln_forward' (then ·γ + β, γ and β (L,)) or 'ln_backward' (src, diff_dst, μ, σ², γ
    -> diff_src, diff_scale, diff_shift; oneDNN 3.2 also asks for β, unread). Runs through
    ``_Plan.run``."""

    def _build(self, kind, shape, geo, layout):
        A, eng = _dnnl, _dnnl.engine()
        data, stat, row = self._md(shape, A.ab), self._md(shape[:1], A.a), self._md(shape[1:], A.a)
        flags = 0 if kind == "rows" else A.use_scale | A.use_shift
        fwd = ctypes.c_void_p()
        A.call("dnnl_layer_normalization_forward_primitive_desc_create", ctypes.byref(fwd), eng,
               A.forward_training, data, data, stat, geo, flags, None)
        self.pds.append(fwd)
        mds = {A.ARG_SRC: data, A.ARG_MEAN: stat, A.ARG_VARIANCE: stat}
        if flags:
            mds.update({A.ARG_SCALE: row, A.ARG_SHIFT: row})
        if kind == "ln_backward":
            pd = ctypes.c_void_p()
            A.call("dnnl_layer_normalization_backward_primitive_desc_create", ctypes.byref(pd),
                   eng, A.backward, data, data, data, stat, geo, flags, fwd, None)
            self.pds.append(pd)
            mds.update({A.ARG_DIFF_DST: data, A.ARG_DIFF_SRC: data, A.ARG_DIFF_SCALE: row,
                        A.ARG_DIFF_SHIFT: row})
        else:
            pd = fwd
            mds[A.ARG_DST] = data
        self.impl = A.impl_info(pd)
        self._finish_unreordered(pd, mds)


def _rows_run(kind, x, eps, arrays):
    with _omp_threads() as threads:
        plan = _elementwise_cache.get((kind, x.shape, float(eps), threads),
                                      lambda: _RowNormPlan(kind, x.shape, float(eps), "plain"))
        plan.run(arrays)


def layer_norm_supported(x) -> bool:
    """Whether ``layer_norm_forward`` / ``layer_norm_backward`` take x: a C-contiguous (R, L)
    array ``elementwise_supported`` takes."""
    return x.ndim == 2 and x.flags.c_contiguous and elementwise_supported(x)


def layer_norm_forward(x, weight, bias, eps):
    """y = (x − μ_r)/√(σ²_r + ε)·γ + β over each row r of x (R, L) (``layer_norm_supported``),
    γ and β (L,) float32, on oneDNN in one pass on chainrule's threads -> (y (R, L), μ (R,),
    σ² (R,)), float32; σ² biased. torch's native_layer_norm with the rows flattened."""
    op = "onednn.layer_norm_forward"
    if not layer_norm_supported(x) or weight.shape != x.shape[1:] or bias.shape != x.shape[1:]:
        raise ValueError(f"{op}: expected a C-contiguous float32 (R, L) array of at least "
                         f"{ELEMENTWISE_MIN} elements and γ, β (L,), got x {x.shape} {x.dtype}, "
                         f"γ {weight.shape}, β {bias.shape}")
    y = np.empty_like(x)
    mean, var = np.empty(x.shape[0], np.float32), np.empty(x.shape[0], np.float32)
    A = _dnnl
    _rows_run("ln_forward", x, eps, {
        A.ARG_SRC: x, A.ARG_DST: y, A.ARG_MEAN: mean, A.ARG_VARIANCE: var,
        A.ARG_SCALE: _f32(weight, op, "weight"), A.ARG_SHIFT: _f32(bias, op, "bias")})
    return y, mean, var


def layer_norm_backward(g, x, mean, var, weight, eps):
    """The VJP of ``layer_norm_forward`` from its μ and σ²: with x̂ = (x − μ_r)·r_r, r_r =
    1/√(σ²_r + ε) and ĝ = ȳ·γ: x̄ = r_r·(ĝ − mean_r ĝ − x̂·mean_r(ĝ·x̂)), γ̄ = Σ_r ȳ·x̂,
    β̄ = Σ_r ȳ, on oneDNN. g, x (R, L) as ``layer_norm_supported`` takes them -> (x̄ (R, L),
    γ̄ (L,), β̄ (L,)), float32."""
    op = "onednn.layer_norm_backward"
    if (not layer_norm_supported(x) or g.shape != x.shape or not g.flags.c_contiguous
            or g.dtype != np.float32 or weight.shape != x.shape[1:]
            or mean.shape != x.shape[:1] or var.shape != x.shape[:1]):
        raise ValueError(f"{op}: expected C-contiguous float32 g and x (R, L) of at least "
                         f"{ELEMENTWISE_MIN} elements, μ, σ² (R,) and γ (L,), got g {g.shape} "
                         f"{g.dtype}, x {x.shape} {x.dtype}, μ {mean.shape}, γ {weight.shape}")
    gx = np.empty_like(x)
    gw, gb = np.empty(x.shape[1], np.float32), np.empty(x.shape[1], np.float32)
    A = _dnnl
    _rows_run("ln_backward", x, eps, {
        A.ARG_SRC: x, A.ARG_DIFF_DST: g, A.ARG_MEAN: _f32(mean, op, "mean"),
        A.ARG_VARIANCE: _f32(var, op, "var"), A.ARG_SCALE: _f32(weight, op, "weight"),
        A.ARG_SHIFT: gb,   # (read by no one; oneDNN 3.2 refuses the call without it)
        A.ARG_DIFF_SRC: gx, A.ARG_DIFF_SCALE: gw, A.ARG_DIFF_SHIFT: gb})
    return gx, gw, gb


def normalize_rows(x, eps):
    """x̂ = (x − μ_r)/√(σ²_r + ε) for each row r of x, with the row's mean μ_r and biased
    variance σ²_r: oneDNN's layer normalization (no scale or shift), one pass over each row on
    chainrule's threads. x (R, L) C-contiguous float32 (``elementwise_supported``) -> (x̂
    (R, L), μ (R,), σ² (R,)), float32. Batch norm's statistics at more than one thread."""
    if x.ndim != 2 or not elementwise_supported(x) or not x.flags.c_contiguous:
        raise ValueError(f"onednn.normalize_rows: expected a C-contiguous float32 (R, L) array "
                         f"of at least {ELEMENTWISE_MIN} elements, got {x.shape} {x.dtype}")
    y = np.empty_like(x)
    mean, var = np.empty(x.shape[0], np.float32), np.empty(x.shape[0], np.float32)
    A = _dnnl
    _rows_run("rows", x, eps, {A.ARG_SRC: x, A.ARG_DST: y, A.ARG_MEAN: mean, A.ARG_VARIANCE: var})
    return y, mean, var


# ---------------------------------------------------------------------------- activations
# GELU (exact and tanh), SiLU and the logistic sigmoid as oneDNN's JIT eltwise kernels: NumPy
# has no erf (chainrule's is Python's math.erf per element), so an exact GELU's forward and
# backward over 1M float32 took 165 ms against torch's 0.87 (oneDNN: 1.26 ms at 1 thread, 0.65
# at 2, bit-equal to torch's); SiLU 16 ms and sigmoid 7.8 (oneDNN within 5 and 4 ulps of torch).
_ACTIVATIONS = {"gelu": "eltwise_gelu_erf", "gelu_tanh": "eltwise_gelu_tanh",
                "silu": "eltwise_swish", "sigmoid": "eltwise_logistic"}
# From this many elements they pay (a call costs ~10 µs; NumPy's GELU ~100 ns an element, its
# SiLU ~16): ``elementwise_supported(..., least=ACTIVATION_MIN)``
ACTIVATION_MIN = 1 << 10


class _ActivationPlan(_Plan):
    """oneDNN's eltwise ``geo`` (a key of ``_ACTIVATIONS``) over a flat (n,) array: ``kind``
    'act_forward' (src -> dst) or 'act_backward' (src, diff_dst -> diff_src). Runs through
    ``_Plan.run``."""

    def _build(self, kind, shape, geo, layout):
        A, eng = _dnnl, _dnnl.engine()
        data = self._md(shape, A.a)
        alg, alpha = getattr(A, _ACTIVATIONS[geo]), 1.0 if geo == "silu" else 0.0
        fwd = ctypes.c_void_p()
        A.call("dnnl_eltwise_forward_primitive_desc_create", ctypes.byref(fwd), eng,
               A.forward_training, alg, data, data, alpha, 0.0, None)
        self.pds.append(fwd)
        if kind == "act_forward":
            pd, mds = fwd, {A.ARG_SRC: data, A.ARG_DST: data}
        else:
            pd = ctypes.c_void_p()
            A.call("dnnl_eltwise_backward_primitive_desc_create", ctypes.byref(pd), eng, alg,
                   data, data, data, alpha, 0.0, fwd, None)
            self.pds.append(pd)
            mds = {A.ARG_SRC: data, A.ARG_DIFF_DST: data, A.ARG_DIFF_SRC: data}
        self.impl = A.impl_info(pd)
        self._finish_unreordered(pd, mds)


def _activation_run(kind, name, x, arrays):
    if name not in _ACTIVATIONS:
        raise ValueError(f"onednn.activation: expected one of {sorted(_ACTIVATIONS)}, got {name!r}")
    with _omp_threads() as threads:
        plan = _elementwise_cache.get((kind, (x.size,), name, threads),
                                      lambda: _ActivationPlan(kind, (x.size,), name, "plain"))
        plan.run({arg: _flat(a) for arg, a in arrays.items()})


def activation(name, x):
    """y = f(x) elementwise on oneDNN, f ``name``: 'gelu' (x·Φ(x), Φ = ½(1 + erf(x/√2))),
    'gelu_tanh' (½x(1 + tanh(√(2/π)(x + 0.044715x³)))), 'silu' (x·σ(x)) or 'sigmoid' (σ(x)):
    x as ``elementwise_supported(x, least=ACTIVATION_MIN)`` takes it -> y laid out as x."""
    if not elementwise_supported(x, least=ACTIVATION_MIN):
        raise ValueError(f"onednn.activation: expected a dense float32 array of at least "
                         f"{ACTIVATION_MIN} elements, got {x.shape} {x.dtype}")
    y = np.empty_like(x)
    _activation_run("act_forward", name, x, {_dnnl.ARG_SRC: x, _dnnl.ARG_DST: y})
    return y


def activation_backward(name, g, x):
    """x̄ = ȳ·f′(x) for ``activation(name, x)``, on oneDNN in one pass: g, x of one shape and
    layout, as ``elementwise_supported`` takes them -> x̄ laid out as them."""
    if not elementwise_supported(x, g, least=ACTIVATION_MIN):
        raise ValueError(f"onednn.activation_backward: expected dense float32 g and x of one "
                         f"shape and layout, of at least {ACTIVATION_MIN} elements, got g "
                         f"{g.shape} {g.dtype}, x {x.shape} {x.dtype}")
    gx = np.empty_like(x)
    _activation_run("act_backward", name, x,
                    {_dnnl.ARG_SRC: x, _dnnl.ARG_DIFF_DST: g, _dnnl.ARG_DIFF_SRC: gx})
    return gx


# ---------------------------------------------------------------------------- softmax
class _SoftmaxPlan(_Plan):
    """oneDNN's softmax along the rows of a C-contiguous (A, n) array: ``kind``
    'softmax_forward' (src -> dst) or 'softmax_backward' (dst, diff_dst -> diff_src). Runs
    through ``_Plan.run``."""

    def _build(self, kind, shape, geo, layout):
        A, eng = _dnnl, _dnnl.engine()
        data = self._md(shape, A.ab)
        fwd = ctypes.c_void_p()
        A.call("dnnl_softmax_forward_primitive_desc_create", ctypes.byref(fwd), eng,
               A.forward_training, A.softmax_accurate, data, data, 1, None)
        self.pds.append(fwd)
        if kind == "softmax_forward":
            pd, mds = fwd, {A.ARG_SRC: data, A.ARG_DST: data}
        else:
            pd = ctypes.c_void_p()
            A.call("dnnl_softmax_backward_primitive_desc_create", ctypes.byref(pd), eng,
                   A.softmax_accurate, data, data, data, 1, fwd, None)
            self.pds.append(pd)
            mds = {A.ARG_DST: data, A.ARG_DIFF_DST: data, A.ARG_DIFF_SRC: data}
        self.impl = A.impl_info(pd)
        self._finish_unreordered(pd, mds)


def softmax_supported(x) -> bool:
    """Whether ``softmax_forward`` / ``softmax_backward`` take x: C-contiguous and
    ``elementwise_supported``. (Along the last dim only: oneDNN 3.2 runs any other axis on its
    reference kernel.)"""
    return x.flags.c_contiguous and elementwise_supported(x)


def _softmax_run(kind, rows, arrays):
    with _omp_threads() as threads:
        plan = _elementwise_cache.get((kind, rows, None, threads),
                                      lambda: _SoftmaxPlan(kind, rows, None, "plain"))
        plan.run({arg: a.reshape(rows) for arg, a in arrays.items()})


def softmax_forward(x, out=None):
    """y = softmax(x) along the last dim, on oneDNN in one pass on chainrule's threads (within
    ~1e-7 of NumPy's rule; its log-softmax is not: 3.5e-6 off on log-probabilities near 0, so
    log_softmax stays on NumPy): x as ``softmax_supported`` takes it -> y of its shape,
    float32, written into ``out`` when given (x itself: oneDNN reads each row before writing
    it). Rows with a NaN, +inf or only −inf are the caller's to keep away (oneDNN's maximum
    drops a NaN; torch gives such rows NaN)."""
    if not softmax_supported(x) or x.ndim < 1 or (out is not None and (
            out.shape != x.shape or out.dtype != x.dtype or not out.flags.c_contiguous)):
        raise ValueError(f"onednn.softmax_forward: expected a C-contiguous float32 array of at "
                         f"least {ELEMENTWISE_MIN} elements (and an out of its shape), got "
                         f"{x.shape} {x.dtype}")
    y = np.empty_like(x) if out is None else out
    _softmax_run("softmax_forward", (x.size // x.shape[-1], x.shape[-1]),
                 {_dnnl.ARG_SRC: x, _dnnl.ARG_DST: y})
    return y


def softmax_backward(g, y, out=None):
    """The VJP of ``softmax_forward`` from its output y, x̄ = y·(ȳ − Σ ȳ·y) with the sums
    along the last dim, on oneDNN: g, y as ``softmax_supported`` takes them, of one shape ->
    x̄, float32, written into ``out`` when given (g itself: a caller's scratch)."""
    if (not softmax_supported(y) or g.shape != y.shape or not g.flags.c_contiguous
            or g.dtype != np.float32 or out is not None and (
                out.shape != y.shape or out.dtype != y.dtype or not out.flags.c_contiguous)):
        raise ValueError(f"onednn.softmax_backward: expected C-contiguous float32 g and y of one "
                         f"shape, of at least {ELEMENTWISE_MIN} elements (and an out of that "
                         f"shape), got g {g.shape} {g.dtype}, y {y.shape} {y.dtype}")
    gx = np.empty_like(y) if out is None else out
    _softmax_run("softmax_backward", (y.size // y.shape[-1], y.shape[-1]),
                 {_dnnl.ARG_DST: y, _dnnl.ARG_DIFF_DST: g, _dnnl.ARG_DIFF_SRC: gx})
    return gx


# ---------------------------------------------------------------------------- batch norm
# Batch norm in training, forward and backward, on channels-last arrays, as oneDNN's
# batch-normalization primitive: its JIT kernel reads pixels of whole channels, where NumPy's
# per-channel passes would need an NCHW copy. On NCHW oneDNN takes its slower ``ncsp`` kernel
# instead, which lost to NumPy's passes (``nn.functional.normalization``) inside resnet20's
# training step at 1 and 2 threads (forward 10.1–10.7 vs 7.9–9.2 ms a step, backward 13.2–13.6
# vs 10.7–10.9, at 2 threads), so NCHW stays there. Measured, resnet20's shapes (batch 32;
# 16×32², 32×16², 64×8²), channels-last, 1 thread, forward / backward: 206 / 399, 73 / 143,
# 40 / 44 µs.
class _BatchNormPlan(_Plan):
    """oneDNN's batch normalization with the batch's statistics, on arrays as they lie (no
    reorders): ``kind`` 'bn_forward' (src, scale, shift -> dst, mean, variance) or
    'bn_backward' (src, diff_dst, mean, variance, scale -> diff_src, diff_scale, diff_shift).
    ``shape`` (N, C, H, W), channels-last; ``geo`` ε.
    Runs through ``_Plan.run``."""

    def _build(self, kind, shape, geo, layout):
        A, eng = _dnnl, _dnnl.engine()
        data = self._channels_last_md(shape)
        channel = self._md(shape[1:2], A.a)
        flags = A.use_scale | A.use_shift
        fwd = ctypes.c_void_p()
        A.call("dnnl_batch_normalization_forward_primitive_desc_create", ctypes.byref(fwd), eng,
               A.forward_training, data, data, geo, flags, None)
        self.pds.append(fwd)
        mds = {A.ARG_SRC: data, A.ARG_MEAN: channel, A.ARG_VARIANCE: channel,
               A.ARG_SCALE: channel}
        if kind == "bn_forward":
            pd = fwd
            mds.update({A.ARG_SHIFT: channel, A.ARG_DST: data})
        else:
            pd = ctypes.c_void_p()
            A.call("dnnl_batch_normalization_backward_primitive_desc_create", ctypes.byref(pd),
                   eng, A.backward, data, data, data, geo, flags, fwd, None)
            self.pds.append(pd)
            mds.update({A.ARG_DIFF_DST: data, A.ARG_DIFF_SRC: data, A.ARG_DIFF_SCALE: channel,
                        A.ARG_DIFF_SHIFT: channel})
        self.impl = A.impl_info(pd)
        self._finish_unreordered(pd, mds)


def batch_norm_supported(x, g=None) -> bool:
    """Whether ``batch_norm_forward`` / ``batch_norm_backward`` take x (and ȳ): x (N, C, H, W)
    channels-last and ``elementwise_supported`` (ȳ too, laid out as x)."""
    return x.ndim == 4 and _order(x) == "CL" and elementwise_supported(x, g)


def _batch_norm_run(kind, x, eps, arrays):
    with _omp_threads() as threads:
        plan = _elementwise_cache.get(
            (kind, x.shape, float(eps), threads),
            lambda: _BatchNormPlan(kind, x.shape, float(eps), "plain"))
        plan.run(arrays)


def _channel_vectors(op, c, **vectors):
    """Refuse any of the named per-channel ``vectors`` that is not a contiguous float32 (c,)."""
    for name, v in vectors.items():
        if v.shape != (c,) or v.dtype != np.float32 or not v.flags.c_contiguous:
            raise ValueError(f"{op}: {name} must be a contiguous float32 ({c},) array, got "
                             f"{v.shape} {v.dtype}")


def batch_norm_forward(x, scale, shift, eps):
    """Batch norm with the batch's statistics on oneDNN: μ_c = mean of x[:, c], σ²_c = the
    biased variance, y = (x − μ)/√(σ² + ε)·γ + β. x (N, C, H, W) float32 channels-last
    (``batch_norm_supported``); γ = ``scale``, β = ``shift`` (C,) float32 -> (y laid out as
    x, μ (C,), σ² (C,))."""
    op = "onednn.batch_norm_forward"
    if not batch_norm_supported(x):
        raise ValueError(f"{op}: expected a channels-last float32 (N, C, H, W) array of at "
                         f"least {ELEMENTWISE_MIN} elements, got {x.shape} {x.dtype}")
    c = x.shape[1]
    _channel_vectors(op, c, scale=scale, shift=shift)
    y, mean, var = np.empty_like(x), np.empty(c, np.float32), np.empty(c, np.float32)
    A = _dnnl
    _batch_norm_run("bn_forward", x, eps, {A.ARG_SRC: x, A.ARG_SCALE: scale, A.ARG_SHIFT: shift,
                                           A.ARG_DST: y, A.ARG_MEAN: mean, A.ARG_VARIANCE: var})
    return y, mean, var


def batch_norm_backward(g, x, mean, var, scale, eps):
    """The VJP of ``batch_norm_forward`` on oneDNN (r = 1/√(σ² + ε), n values per channel):
    β̄ = Σ ȳ, γ̄ = r·Σ ȳ·(x − μ), x̄ = γ·r·(ȳ − β̄/n − (x − μ)·r·γ̄/n). ȳ, x as
    ``batch_norm_supported`` takes them, μ, σ² the forward's, γ = ``scale`` (C,) float32 ->
    (x̄ laid out as x, γ̄ (C,), β̄ (C,))."""
    op = "onednn.batch_norm_backward"
    if not batch_norm_supported(x, g):
        raise ValueError(f"{op}: expected channels-last float32 (N, C, H, W) arrays of one "
                         f"shape, of at least {ELEMENTWISE_MIN} elements, got x {x.shape} "
                         f"{x.dtype}, grad {g.shape} {g.dtype}")
    c = x.shape[1]
    _channel_vectors(op, c, mean=mean, var=var, scale=scale)
    gx, gw, gb = np.empty_like(x), np.empty(c, np.float32), np.empty(c, np.float32)
    A = _dnnl
    _batch_norm_run("bn_backward", x, eps, {
        A.ARG_SRC: x, A.ARG_DIFF_DST: g, A.ARG_MEAN: mean, A.ARG_VARIANCE: var,
        A.ARG_SCALE: scale, A.ARG_DIFF_SRC: gx, A.ARG_DIFF_SCALE: gw, A.ARG_DIFF_SHIFT: gb})
    return gx, gw, gb


# ---------------------------------------------------------------------------- matrix products
# Below this many multiply-adds (or under 16 in a dimension) NumPy's sgemm call is as fast: the
# Python around a oneDNN call costs about 10 µs
MATMUL_MIN = 1 << 21
# From this many multiply-adds OpenBLAS's sgemm splits a product over two or more threads of
# its own pool (65536 × its GEMM_MULTITHREAD_THRESHOLD of 4, per thread), whatever the shape;
# see ``backends.namespace.matmul`` for why that matters next to oneDNN's threads
BLAS_SPLIT_MIN = 1 << 19


class _MatmulPlan(_Plan):
    """C = A B on oneDNN's matmul primitive: A (M, K) and B (K, N) float32 read as they lie in
    memory (``geo``: their strides in elements, so a transposed weight needs no copy), C (M, N)
    C-contiguous; or a batch of them, A (B, M, K), B (B, K, N) -> C (B, M, N). ``shape`` =
    (M, K, N) or (B, M, K, N). Runs through ``_Plan.run``."""

    def _build(self, kind, shape, geo, layout):
        *batch, m, k, n = shape
        batch = tuple(batch)
        src = self._strided_md(batch + (m, k), geo[0])
        wei = self._strided_md(batch + (k, n), geo[1])
        dst = self._strided_md(batch + (m, n), (m * n, n, 1)[-len(batch) - 2:])
        pd = ctypes.c_void_p()
        _dnnl.call("dnnl_matmul_primitive_desc_create", ctypes.byref(pd), _dnnl.engine(), src, wei,
                   None, dst, None)
        self.pds.append(pd)
        self.impl = _dnnl.impl_info(pd)
        self._finish_unreordered(pd, {_dnnl.ARG_SRC: src, _dnnl.ARG_WEIGHTS: wei, _dnnl.ARG_DST: dst})


_matmul_cache = _Cache(CACHE_SIZE)


def _element_strides(a):
    """The strides of a's last two dims in elements when one of them is 1 and none is negative
    or 0, else None."""
    s0, s1 = a.strides[-2:]
    size = a.itemsize
    if s0 <= 0 or s1 <= 0 or s0 % size or s1 % size or size not in (s0, s1):
        return None
    return s0 // size, s1 // size


def _batch_strides(a):
    """a (..., R, C) read as one batch (B, R, C): its three strides in elements, when its batch
    dims fall on one stride (as a reshape that needs no copy) and ``_element_strides`` takes its
    matrices; else None (a broadcast or reversed batch dim, a matrix without a unit stride)."""
    inner = _element_strides(a)
    if inner is None:
        return None
    step, count = 0, 1
    for n, s in zip(a.shape[-3::-1], a.strides[-3::-1]):   # the innermost batch dim first
        if n == 1:
            continue
        if count == 1:
            step = s
        elif s != step * count:
            return None
        count *= n
    if count == 1:   # one matrix: any stride past it
        step = a.shape[-2] * a.strides[-2] + a.shape[-1] * a.strides[-1]
    if step <= 0 or step % a.itemsize:
        return None
    return (step // a.itemsize,) + inner


def _matmul_geometry(a, b, instead_of_blas_pool):
    """(shape, strides of a and b in elements) when ``matmul`` takes a @ b (see
    ``matmul_supported``; ``try_matmul`` for ``instead_of_blas_pool``): shape (M, K, N) for 2-D
    operands and for a C-contiguous batch times one matrix (its rows as one (M, K) matrix),
    (B, M, K, N) for batches of one batch shape; else None."""
    if (not enabled or a.ndim < 2 or b.ndim < 2 or a.dtype != np.float32
            or b.dtype != np.float32):
        return None
    (m, k), n = a.shape[-2:], b.shape[-1]
    if b.shape[-2] != k or min(m, k, n) < (1 if instead_of_blas_pool else 16):
        return None
    rows = a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous   # x @ W: all rows at once
    if a.ndim == b.ndim == 2 or rows:
        shape = (a.size // k, k, n)
    elif a.shape[:-2] == b.shape[:-2]:   # batches that broadcast stay NumPy's
        shape = (math.prod(a.shape[:-2]), m, k, n)
    else:
        return None
    if math.prod(shape) < (BLAS_SPLIT_MIN if instead_of_blas_pool else MATMUL_MIN):
        return None
    if len(shape) == 3:
        strides = ((k, 1) if rows else _element_strides(a)), _element_strides(b)
    else:
        strides = _batch_strides(a), _batch_strides(b)
    if None in strides or not is_available():
        return None
    return shape, strides


def matmul_supported(a, b) -> bool:
    """Whether ``matmul`` takes a @ b: enabled and installed, a (M, K) and b (K, N) float32, or
    batches (..., M, K) and (..., K, N) of the same batch shape whose batch dims fall on one
    stride, or a C-contiguous batch (..., M, K) times one (K, N) matrix; each matrix with a unit
    stride along one dimension (C order, a transpose, a slice of rows), at least 16 in every
    dimension of a product and ``MATMUL_MIN`` multiply-adds in all."""
    return _matmul_geometry(a, b, False) is not None


def try_matmul(a, b, instead_of_blas_pool=False):
    """``matmul(a, b)`` where it takes the arrays, else None (one check: a dispatcher's call).
    ``instead_of_blas_pool``: take every product NumPy's BLAS would split over its own threads
    (``BLAS_SPLIT_MIN`` multiply-adds, any dimension sizes) instead of those where oneDNN is
    the faster (``MATMUL_MIN``, 16 in every dimension)."""
    found = _matmul_geometry(a, b, instead_of_blas_pool)
    if found is None:
        return None
    shape, geo = found
    c = np.empty(a.shape[:-1] + b.shape[-1:], np.float32)
    with _omp_threads() as threads:
        plan = _matmul_cache.get((shape, geo, threads),
                                 lambda: _MatmulPlan("matmul", shape, geo, "plain"))
        plan.run({_dnnl.ARG_SRC: a, _dnnl.ARG_WEIGHTS: b, _dnnl.ARG_DST: c})
    return c


class _PackedMatmulPlan(_Plan):
    """C = A B with B in the layout the matmul kernel reads fastest (``format_tag any``): A (M,
    K) C-contiguous, C (M, N) new, ``geo`` the strides of the caller's B (K, N) in elements.
    ``pack`` reorders a B into a buffer once; ``run`` then takes that buffer as the weights
    (pointed at like any argument)."""

    def _build(self, kind, shape, geo, layout):
        A, lib, eng = _dnnl, _dnnl.lib(), _dnnl.engine()
        m, k, n = shape
        src, dst = self._strided_md((m, k), (k, 1)), self._strided_md((m, n), (n, 1))
        user = self._strided_md((k, n), geo)
        pd = ctypes.c_void_p()
        A.call("dnnl_matmul_primitive_desc_create", ctypes.byref(pd), eng, src,
               self._md((k, n), A.format_tag_any), None, dst, None)
        self.pds.append(pd)
        self.impl = A.impl_info(pd)
        packed = lib.dnnl_primitive_desc_query_md(pd, A.query_weights_md, 0)   # owned by pd
        self.packed_bytes = lib.dnnl_memory_desc_get_size(packed)
        rpd = ctypes.c_void_p()
        A.call("dnnl_reorder_primitive_desc_create", ctypes.byref(rpd), user, eng, packed, eng,
               None)
        self.pds.append(rpd)
        self.reorder = self._primitive(rpd)
        self.frm, self.to = self._mem(user), self._mem(packed)
        self.pair = (A.ExecArg * 2)((A.ARG_FROM, self.frm.value), (A.ARG_TO, self.to.value))
        self._finish_unreordered(pd, {A.ARG_SRC: src, A.ARG_WEIGHTS: packed, A.ARG_DST: dst})

    def pack(self, b):
        """B (K, N) with the plan's strides -> its packed copy (a new uint8 buffer)."""
        buf = np.empty(self.packed_bytes + _Buffers.ALIGN, np.uint8)
        start = (-_address(buf)) % _Buffers.ALIGN
        buf = buf[start:start + self.packed_bytes]
        stream = _dnnl.stream()
        with self.lock:
            self._point(self.frm, _address(b))
            self._point(self.to, _address(buf))
            _dnnl.call("dnnl_primitive_execute", self.reorder, stream, 2, self.pair)
            _dnnl.call("dnnl_stream_wait", stream)
        return buf


class PackedMatmul:
    """``A ↦ A B`` for many A (M, K) and one B (K, N): B is reordered once into the layout
    oneDNN's kernel reads fastest, instead of on every call. A recurrent layer multiplies its
    state by the same W_hhᵀ at every time step: (20, 200) @ (200, 800) float32, 2 threads,
    42 µs with B as it lies, 27 µs packed (torch 40), after a 25 µs reorder. Keeps a reference
    to nothing but the packed copy: B may change after (the copy does not)."""

    def __init__(self, shape, strides, b):
        self.key, self.shape = ("packed", shape, strides, get_num_threads()), (shape[0], shape[2])
        self.packed = self._plan().pack(b)

    def _plan(self):
        # from the cache at each call: a plan evicted (closed) meanwhile is rebuilt, and the
        # same geometry and thread count give the same packed layout
        shape, strides = self.key[1:3]
        return _matmul_cache.get(self.key,
                                 lambda: _PackedMatmulPlan("packed", shape, strides, "plain"))

    def __call__(self, a):
        """A (M, K) float32, C-contiguous -> A B (M, N), a new C-contiguous array."""
        if a.shape[0] != self.shape[0] or a.dtype != np.float32 or not a.flags.c_contiguous:
            raise ValueError(f"onednn.PackedMatmul: expected a C-contiguous float32 array of "
                             f"{self.shape[0]} rows, got {a.shape} {a.dtype}")
        c = np.empty(self.shape, np.float32)
        with _omp_threads():
            self._plan().run({_dnnl.ARG_SRC: a, _dnnl.ARG_WEIGHTS: self.packed,
                              _dnnl.ARG_DST: c})
        return c


def packed_matmul(b, m):
    """A :class:`PackedMatmul` multiplying (m, K) arrays by ``b`` (K, N), or None where oneDNN
    does not take the product (``matmul_supported``'s conditions, or oneDNN off or missing)."""
    found = _matmul_geometry(np.empty((m, b.shape[0]), b.dtype), b, False) \
        if b.ndim == 2 and m > 0 else None
    if found is None or len(found[0]) != 3:
        return None
    shape, (_, strides) = found
    with _omp_threads():
        return PackedMatmul(shape, strides, b)


def matmul(a, b):
    """C = A B on oneDNN (its brgemm kernels; on AVX-512 OpenBLAS's sgemm took 20–30% longer,
    torch's as long): a (M, K), b (K, N) as ``matmul_supported`` takes them -> C (M, N),
    C-contiguous float32; batches (..., M, K), (..., K, N) -> (..., M, N). The plan is cached
    per shape, strides and thread count."""
    c = try_matmul(a, b)
    if c is None:
        raise ValueError(f"onednn.matmul: expected float32 (M, K) and (K, N) arrays (or batches "
                         f"of them of one batch shape) with a unit stride, ≥ 16 in each "
                         f"dimension and ≥ {MATMUL_MIN} multiply-adds, got "
                         f"{a.shape} {a.dtype} and {b.shape} {b.dtype}")
    return c
