"""Devices: chainrule computes on the CPU with NumPy, and says so when asked for another device.

``chainrule.device`` mirrors ``torch.device`` (``.type``, ``.index``, ``device(type='cpu')``,
equal to the string ``'cpu'``), so code written for torch — ``x.to(device)``,
``nn.Linear(3, 4, device=device)``, ``x.device == 'cpu'`` — runs unchanged on the CPU. Asking for
any other device ('cuda', 'cuda:0', 'mps', ...) raises one clear :class:`DeviceUnavailableError`
(a RuntimeError — NotImplementedError, as torch for a device whose kernels it lacks — and an
AssertionError too, the type torch's CPU build raises for CUDA), instead
of silently computing on the CPU or failing later with an unrelated message.

This module imports nothing from chainrule: every layer may use it.
"""
from __future__ import annotations

import re

# torch's device types; anything else is not a device name at all
_KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")
_SPEC = re.compile(r"^([a-z_]+)(?::(\d+))?$")


class DeviceUnavailableError(NotImplementedError, AssertionError):
    """Raised when a tensor or module is asked to live on a device other than the CPU.

    A RuntimeError (through NotImplementedError, what torch raises for a device it has no kernels
    for, e.g. 'mps' on Linux) and an AssertionError (what torch's CPU-only build raises for
    'cuda'), so every ``except`` that works with torch catches it."""


class device:
    """Where a tensor lives: ``device('cpu')``, ``device('cpu', 0)``, ``device('cpu:0')``.

    Other device types can be *named* (so ``device('cuda')`` can be built and compared, as in
    torch), but no tensor can be put there: creating or moving one raises.
    """

    __slots__ = ("index", "type")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(): index must be None when passing a device")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            raise DeviceUnavailableError(
                f"device({type}): an integer names an accelerator, and chainrule runs on the CPU "
                "only (no accelerator is available); use 'cpu'")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or a device, got {_typename(type)}")
        m = _SPEC.match(type)
        if m is None or m.group(1) not in _KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start of "
                               f"device string: {type}")
        if m.group(2) is not None:
            if index is not None:
                raise RuntimeError(f"device(): type (string) must not include an index because "
                                   f"index was passed explicitly: {type}")
            index = int(m.group(2))
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index < 0):
            raise RuntimeError(f"device(): device index must be a non-negative int, got {index!r}")
        self.type, self.index = m.group(1), index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


def _typename(x):
    return type(x).__name__


CPU = device("cpu")


def check_device(dev, op: str):
    """Validate a ``device=`` argument: None, 'cpu', 'cpu:N' or a cpu ``device`` pass (returns the
    CPU device); any other device raises :class:`DeviceUnavailableError` naming ``op``."""
    if dev is None:
        return CPU
    try:
        d = dev if isinstance(dev, device) else device(dev)
    except DeviceUnavailableError as e:
        raise DeviceUnavailableError(f"{op}: {e}") from None
    except RuntimeError as e:
        raise RuntimeError(f"{op}: {e}") from None
    except TypeError:
        raise TypeError(f"{op}: device must be a string or a chainrule.device, got "
                        f"{_typename(dev)}") from None
    if d.type != "cpu":
        hint = " (chainrule.cuda.is_available() is False)" if d.type == "cuda" else ""
        raise DeviceUnavailableError(
            f"{op}: device {str(d)!r} is not available{hint}: chainrule runs on the CPU only "
            "(NumPy); use device='cpu' or leave device unset")
    return CPU


def is_device_like(x) -> bool:
    """True for arguments of ``.to(...)`` that name a device rather than a dtype."""
    if isinstance(x, device):
        return True
    if isinstance(x, str):
        m = _SPEC.match(x)
        return m is not None and m.group(1) in _KNOWN_TYPES
    return isinstance(x, int) and not isinstance(x, bool)


def set_default_device(device) -> None:
    """torch's ``set_default_device``: chainrule's only device is the CPU, so ``'cpu'`` (or a
    cpu ``device``, or None) is accepted and changes nothing; any other device raises
    :class:`DeviceUnavailableError` (a RuntimeError)."""
    check_device(device, "set_default_device")


def get_default_device() -> device:
    """``device(type='cpu')``: where chainrule creates every tensor."""
    return CPU


class layout:
    """How a tensor's elements are stored (``torch.layout``). chainrule's tensors are dense
    NumPy arrays with strides, so :data:`strided` is its only layout; torch's sparse layouts
    have no chainrule counterpart. Compared by identity; pickles as the module attribute."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return self.name


strided = layout("strided")


def check_factory(op: str, device=None, layout=None, pin_memory=None):
    """Validate a factory function's tensor options, as torch's: ``device`` (see
    :func:`check_device`), ``layout`` (None or :data:`strided`; chainrule has no sparse
    tensors) and ``pin_memory`` (None or False: pinned memory needs an accelerator, which
    torch's CPU-only build refuses with the same RuntimeError)."""
    check_device(device, op)
    if layout is not None and layout is not strided:
        raise RuntimeError(f"{op}: layout {layout!r} is not supported: chainrule tensors are "
                           "dense (layout=chainrule.strided)")
    if pin_memory:
        raise RuntimeError(f"{op}: pin_memory=True requires a CUDA or other accelerator backend; "
                           "no pinned memory allocator is available on this system.")
