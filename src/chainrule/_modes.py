"""The switches ops read: is the graph being recorded, is a dual level open, must results be
deterministic.

A leaf module (it imports nothing from chainrule), so that the tensor, the primitives and the
engine can all read the switches without importing each other.

* **Grad mode** — ``no_grad``, ``enable_grad``, ``set_grad_enabled`` (context managers and
  decorators, as torch's). Under ``no_grad`` no op records a node, so inference costs only the
  forward arithmetic.
* **Forward mode** — whether a ``forward_ad.dual_level`` is open (``FORWARD.level``) and
  active (not suspended while a JVP rule runs), and every object given a tangent inside it, so
  that leaving the level drops them all.
* **Deterministic algorithms** — ``use_deterministic_algorithms(True)`` (torch's name): results
  independent of the thread count (see ``DETERMINISM``).
"""
from __future__ import annotations

import contextlib
import functools
import warnings
import weakref


class _GradState:
    grad_enabled = True
    inference = False   # inside inference_mode(): new tensors are inference tensors
    anomaly = False     # detect_anomaly(): backward checks every gradient for nan


STATE = _GradState()


class _TraceState:
    """The graph capture in progress (``chainrule.fx``), or None: ops, backward calls, optimizer
    steps and conversions to Python values report to ``recorder`` while one runs. A leaf here so
    the primitives and the tensor can report without importing ``fx``, which sits far above."""

    recorder = None


TRACE = _TraceState()


@contextlib.contextmanager
def trace_paused():
    """Run a block unrecorded by the capture in progress (a backward pass or an optimizer step
    that the capture has recorded as one instruction)."""
    recorder, TRACE.recorder = TRACE.recorder, None
    try:
        yield
    finally:
        TRACE.recorder = recorder


def is_grad_enabled() -> bool:
    """True when ops record the computational graph."""
    return STATE.grad_enabled


class _GradMode:
    """Sets recording to ``self.mode`` inside a ``with`` block or a decorated function."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = STATE.grad_enabled
            STATE.grad_enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                STATE.grad_enabled = prev
        return wrapper


class no_grad(_GradMode):
    """Disable graph recording inside the block (or the decorated function)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(_GradMode):
    """Enable graph recording inside the block, e.g. within a ``no_grad`` region."""

    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(mode)`` switches recording at once when called, like torch; used in a
    ``with`` block it is undone on exit, used as a decorator it applies per call only."""

    def __init__(self, mode: bool):
        super().__init__(mode)
        self._prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        STATE.grad_enabled = self._prev  # a decorator must not change the mode at definition time
        return super().__call__(fn)


class inference_mode:
    """``inference_mode(mode=True)``: a ``with`` block or decorator (also bare, ``@inference_mode``)
    for inference, as torch's. With ``mode`` True, graph recording is off (as under ``no_grad``)
    and every tensor made inside reports ``is_inference()`` True; such a tensor cannot later be
    saved for backward, take ``requires_grad``, or be updated in place outside inference mode
    (RuntimeError, torch's messages). ``inference_mode(False)`` turns inference mode off and
    grad mode on inside its block, as torch does. Unlike torch, chainrule gains no speed over
    ``no_grad`` (it has no version counters or view tracking to skip). An inference tensor is
    refused by a recorded op exactly when the op's node saves its inputs for backward (``mul``,
    ``matmul``: yes; ``add``, ``cat``: no, as in torch); where chainrule's rule saves other
    values than torch's, the two may differ."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):   # bare @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = (STATE.grad_enabled, STATE.inference)
        STATE.grad_enabled, STATE.inference = not self.mode, self.mode
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled, STATE.inference = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled() -> bool:
    """True inside an ``inference_mode()`` block."""
    return STATE.inference


def check_inference_inputs(inputs):
    """Refuse to save inference tensors for backward (torch's RuntimeError)."""
    for t in inputs:
        if t._is_inference:
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors "
                "created in inference mode in computation tracked by autograd. To work around "
                "this, you can make a clone to get a normal tensor and use it in autograd, or "
                "use `chainrule.no_grad()` instead of `chainrule.inference_mode()`.")


# ---------------------------------------------------------------------------- determinism
class _Determinism:
    """By default the chunked convolution kernels size their chunks by the thread count, so the
    weight gradient's sum over images is grouped differently at 1 and 2 threads and results
    differ in the last bits (and drift apart over training). Deterministic mode fixes the
    grouping (chunks are sized as for ``CHUNKS`` threads, whatever the count), so every thread
    count gives the same bits; the convolutions also stay on the NumPy kernels, since oneDNN
    splits its work by the thread count. 2: more, smaller chunks cost more at 2 threads than
    they save (LeNet-5 at 2 threads: 88 steps/s with 2, 74 with 4, 58 with 8)."""

    enabled = False
    warn_only = False
    CHUNKS = 2


DETERMINISM = _Determinism()


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Make results bit-identical for any thread count (``torch.use_deterministic_algorithms``).

    chainrule has no nondeterministic kernel (nothing sums in a race), so ``warn_only`` changes
    nothing but is kept for torch's interface."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be a bool, got {type(mode).__name__}")
    DETERMINISM.enabled, DETERMINISM.warn_only = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return DETERMINISM.enabled


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return DETERMINISM.enabled and DETERMINISM.warn_only


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """torch's other spelling of :func:`use_deterministic_algorithms`: 'default' (0) turns it
    off, 'warn' (1) on with ``warn_only``, 'error' (2) on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, "
                           f"but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """0 (off), 1 (on, warn only) or 2 (on): see :func:`set_deterministic_debug_mode`."""
    if not DETERMINISM.enabled:
        return 0
    return 1 if DETERMINISM.warn_only else 2


# ---------------------------------------------------------------------------- matmul precision
_MATMUL_PRECISION = {"value": "highest"}


def set_float32_matmul_precision(precision: str) -> None:
    """torch's hint for the internal precision of float32 matrix products: 'highest' (full
    float32), 'high' (TF32 or bfloat16×3 allowed), 'medium' (bfloat16 allowed).

    chainrule's products are NumPy/BLAS or oneDNN float32 ones, 'highest' whatever the hint —
    what torch computes on CPUs without reduced-precision matrix units. The setting is recorded and
    reported by :func:`get_float32_matmul_precision`; an unknown name warns and changes
    nothing, as torch."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _MATMUL_PRECISION["value"] = precision


def get_float32_matmul_precision() -> str:
    """The last precision given to :func:`set_float32_matmul_precision` ('highest' at start)."""
    return _MATMUL_PRECISION["value"]


# ---------------------------------------------------------------------------- forward mode
class _ForwardState:
    active = False      # inside a dual_level() and not suspended
    level = None        # the open level's number (0), or None
    duals: list = []    # (weak reference, attribute) of every object given a tangent at this level


FORWARD = _ForwardState()


@contextlib.contextmanager
def forward_suspended():
    """Evaluate JVP rules without propagating tangents of tangents (first-order forward mode)."""
    prev = FORWARD.active
    FORWARD.active = False
    try:
        yield
    finally:
        FORWARD.active = prev


def attach_tangent(obj, tangent, attr="_fw_tangent"):
    """Give ``obj`` (a Tensor, or a node caching its output's tangent in ``attr``) a tangent that
    is dropped when the current dual level exits, so no tangent outlives its level."""
    setattr(obj, attr, tangent)
    if FORWARD.level is not None and tangent is not None:
        FORWARD.duals.append((weakref.ref(obj), attr))


_WARN_ALWAYS = {"value": False}


def set_warn_always(b: bool) -> None:
    """torch's switch that makes its warn-once warnings fire every time. chainrule's warnings go
    through Python's ``warnings`` module (whose filters decide repeats), so the flag is
    recorded for :func:`is_warn_always_enabled` only."""
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _WARN_ALWAYS["value"] = b


def is_warn_always_enabled() -> bool:
    """The flag :func:`set_warn_always` last set (default False)."""
    return _WARN_ALWAYS["value"]


_INTEROP = {"value": None}


def get_num_interop_threads() -> int:
    """Threads torch would use for inter-op parallelism (running independent ops at once;
    default: the CPUs this process may use). chainrule runs one op at a time, so the number is
    recorded, not used; intra-op threads are :func:`chainrule.get_num_threads`."""
    if _INTEROP["value"] is None:
        import os
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        _INTEROP["value"] = len(cpus) if cpus else (os.cpu_count() or 1)
    return _INTEROP["value"]


def set_num_interop_threads(n: int) -> None:
    """Record the inter-op thread count (a positive int) for :func:`get_num_interop_threads`."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _INTEROP["value"] = n
