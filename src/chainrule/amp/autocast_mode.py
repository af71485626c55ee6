"""``chainrule.autocast`` (``torch.autocast``): the context manager / decorator of mixed precision.

chainrule has no GPU and no bfloat16 tensors (``chainrule.bfloat16`` is a name only), so
autocast's lower-precision casts are not performed: an enabled region runs every op in its
inputs' own dtypes (full precision) and says so once per process with a UserWarning.
Everything else follows torch: the signature, the validation of ``device_type``, the per-device
enabled flag and dtype that :func:`is_autocast_enabled` and :func:`get_autocast_dtype` report
(restored on exit, nestable, thread-local), and the warn-and-disable answers of torch's
CPU-only build (``device_type='cuda'``; a dtype autocast does not support).
"""
from __future__ import annotations

import functools
import threading
import warnings

from .. import _dtype
from .._device import device as _device
from ..tensor import Tensor

__all__ = ["autocast", "autocast_decorator", "custom_bwd", "custom_fwd", "get_autocast_dtype",
           "is_autocast_available", "is_autocast_enabled"]

# device types torch's autocast accepts, with torch's default dtypes: bfloat16 for 'cpu', 'hpu',
# 'xla', 'maia', float16 for the others (only names here: no casts are made, see above)
_AUTOCAST_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mps", "mtia", "hpu", "xla", "maia")
_BFLOAT16_DEFAULT = ("cpu", "hpu", "xla", "maia")
_SUPPORTED_DTYPES = (_dtype.bfloat16, _dtype.float16)

_PRECISION_WARNED = False                  # the "no casts are performed" warning, once a process


class _State(threading.local):
    """The autocast state of one thread (torch's is thread-local): an enabled flag and a dtype
    per device type, and whether the (cast) weight cache is enabled."""

    def __init__(self):
        self.enabled = {t: False for t in _AUTOCAST_DEVICE_TYPES}
        self.dtype = {t: _dtype.bfloat16 if t in _BFLOAT16_DEFAULT else _dtype.float16
                      for t in _AUTOCAST_DEVICE_TYPES}
        self.cache_enabled = True


_STATE = _State()


def _device_type(device_type: str) -> str:
    """The device type of a device string ('cuda:0' -> 'cuda'), validated as torch does: a string
    that names no device raises torch's RuntimeError; a device autocast does not support raises
    a RuntimeError too."""
    kind = _device(device_type).type
    if kind not in _AUTOCAST_DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return kind


def is_autocast_available(device_type: str) -> bool:
    r"""Return a bool indicating if autocast is available on :attr:`device_type`.

    Args:
        device_type (str): Device type to use, e.g. ``'cuda'`` or ``'cpu'`` (the ``type``
            attribute of a :class:`chainrule.device`).

    Example::

        >>> chainrule.amp.is_autocast_available("cpu")
        True
    """
    return _device(device_type).type in _AUTOCAST_DEVICE_TYPES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    r"""Return a bool indicating if autocast is enabled for :attr:`device_type` in the current
    thread (``'cuda'`` when :attr:`device_type` is not given, as torch).

    In chainrule an enabled region computes in full precision (see :class:`autocast`); this
    reports the region's setting, so code that branches on it behaves as under torch.

    Args:
        device_type (str, optional): Device type to query. Default: ``'cuda'``.

    Example::

        >>> with chainrule.autocast("cpu"):
        ...     chainrule.is_autocast_enabled("cpu")
        True
    """
    return _STATE.enabled[_device_type("cuda" if device_type is None else device_type)]


def get_autocast_dtype(device_type: str):
    r"""Return the autocast dtype of :attr:`device_type` in the current thread: the ``dtype`` of
    the innermost :class:`autocast` region for that device type, or the default.

    The defaults are torch's: ``bfloat16`` for the CPU (and 'hpu', 'xla', 'maia'), ``float16``
    for CUDA and the others — names of the dtype no cast is made to (see :class:`autocast`).

    Args:
        device_type (str): Device type to query, e.g. ``'cpu'``.
    """
    return _STATE.dtype[_device_type(device_type)]


def autocast_decorator(autocast_instance, func):
    """Wrap ``func`` so that every call runs inside ``autocast_instance``."""
    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)

    return decorate_autocast


class autocast:
    r"""Instances of :class:`autocast` serve as context managers or decorators that allow regions
    of your script to run in mixed precision.

    .. note::
        chainrule does not perform autocast's lower-precision casts: it has no GPU and no
        bfloat16 tensors, so inside an enabled region ops run in their inputs' own dtypes and
        results are computed in full precision. Entering the first enabled region of a process
        warns once (UserWarning). Scripts written for torch's mixed precision run unchanged,
        with the same numbers as without autocast.

    As in torch's CPU-only build, ``device_type='cuda'`` with ``enabled=True`` warns that CUDA is
    not available and disables autocast, and a ``dtype`` autocast does not support (anything but
    ``bfloat16`` and ``float16``) warns and disables it.
    :func:`chainrule.is_autocast_enabled` and :func:`chainrule.get_autocast_dtype` report the
    region's setting; regions nest, and ``autocast(enabled=False)`` subregions turn it off.

    Example::

        >>> model = nn.Linear(4, 2)
        >>> with chainrule.autocast(device_type="cpu"):
        ...     output = model(chainrule.randn(3, 4))      # float32, as without autocast

        >>> class AutocastModel(nn.Module):
        ...     @chainrule.autocast(device_type="cpu")
        ...     def forward(self, input): ...

    Args:
        device_type (str, required): Device type to use: ``'cuda'``, ``'cpu'``, ``'mps'``,
            ``'xpu'``, ... (the ``type`` attribute of a :class:`chainrule.device`). A string that
            names no device raises RuntimeError.
        dtype (chainrule.dtype, optional): Data type for ops run in autocast. Default: ``None``,
            meaning :func:`chainrule.get_autocast_dtype` of :attr:`device_type`.
        enabled (bool, optional): Whether autocasting should be enabled in the region.
            Default: ``True``
        cache_enabled (bool, optional): Whether the weight cache inside autocast should be
            enabled (kept for torch's API; there is no cache to fill). Default: ``None``, meaning
            the current setting (``True``).
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        kind = _device_type(device_type)
        self.device = kind
        self.fast_dtype = get_autocast_dtype(kind) if dtype is None else dtype
        self._cache_enabled = _STATE.cache_enabled if cache_enabled is None else cache_enabled
        if enabled:
            if kind == "cuda":
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                              stacklevel=2)
                enabled = False
            elif self.fast_dtype not in _SUPPORTED_DTYPES:
                name = kind.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                              f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                              + ", ".join(map(str, _SUPPORTED_DTYPES)) + " currently.",
                              stacklevel=2)
                enabled = False
        self._enabled = bool(enabled)

    def __enter__(self):
        global _PRECISION_WARNED
        if self._enabled and not _PRECISION_WARNED:
            _PRECISION_WARNED = True
            warnings.warn("chainrule.autocast: chainrule does not perform autocast's "
                          "lower-precision casts (it has no GPU and no bfloat16); ops in autocast "
                          "regions run in their inputs' own dtypes, so results are computed in "
                          "full precision. This warning is shown once per process.",
                          UserWarning, stacklevel=2)
        self.prev = _STATE.enabled[self.device]
        self.prev_fastdtype = _STATE.dtype[self.device]
        self.prev_cache_enabled = _STATE.cache_enabled
        _STATE.enabled[self.device] = self._enabled
        _STATE.dtype[self.device] = self.fast_dtype
        _STATE.cache_enabled = self._cache_enabled
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _STATE.enabled[self.device] = self.prev
        _STATE.dtype[self.device] = self.prev_fastdtype
        _STATE.cache_enabled = self.prev_cache_enabled
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                f"Did you mean to use autocast as a context manager? For example:\n"
                f"    with torch.autocast(device_type=...):\n"
                f"        output = model(input)")
        return autocast_decorator(self, func)


def _cast(value, dtype):
    """``value`` with its floating tensors (not float64) cast to ``dtype``, into containers."""
    if isinstance(value, Tensor):
        return value.to(dtype) if value.is_floating_point() and value.dtype is not _dtype.float64 \
            else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, dict):
        return {k: _cast(v, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for the ``forward`` of a custom ``autograd.Function`` (torch.amp.custom_fwd):
    it records the autocast state for :func:`custom_bwd`; with ``cast_inputs``, inside an
    enabled autocast region, floating inputs (but float64) are cast to that dtype and forward
    runs with autocast off. (Autocast itself casts nothing in chainrule; ``cast_inputs`` does.)"""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx, enabled = args[0], is_autocast_enabled(device_type)
        ctx._dtype = get_autocast_dtype(device_type)
        ctx._fwd_used_autocast = enabled and cast_inputs is None
        if cast_inputs is None or not enabled:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, cast_inputs), **_cast(kwargs, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for the ``backward`` of a custom ``autograd.Function`` (torch.amp.custom_bwd):
    backward runs in the autocast state its :func:`custom_fwd` forward ran in."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
