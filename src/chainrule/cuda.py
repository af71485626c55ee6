"""``chainrule.cuda``: answers the questions torch code asks before choosing a device.

chainrule runs on the CPU only, so ``is_available()`` is False and ``device_count()`` is 0; the
usual ``device = 'cuda' if chainrule.cuda.is_available() else 'cpu'`` picks the CPU. Seeding
functions are no-ops and the memory counters read 0, as in torch without a GPU; anything that
needs a GPU raises. ``chainrule.cuda.amp`` holds torch's deprecated ``torch.cuda.amp.autocast``
and ``GradScaler`` (see :mod:`chainrule.amp`).
"""
from __future__ import annotations

import sys

from ._device import DeviceUnavailableError
from .amp import _cuda_amp as amp

# ``from chainrule.cuda.amp import GradScaler`` imports chainrule.cuda.amp as a module: this file
# is a module, not a package, so that name is registered here.
sys.modules[__name__ + ".amp"] = amp

__all__ = ["current_device", "device_count", "empty_cache", "is_available", "manual_seed",
           "manual_seed_all", "max_memory_allocated", "max_memory_reserved", "memory_allocated",
           "memory_reserved", "reset_peak_memory_stats", "synchronize"]


def is_available() -> bool:
    """False: chainrule has no GPU backend."""
    return False


def device_count() -> int:
    """0: no GPU is visible to chainrule."""
    return 0


def manual_seed(seed) -> None:
    """A no-op (there is no GPU generator to seed), as torch without CUDA."""


def manual_seed_all(seed) -> None:
    """A no-op (there is no GPU generator to seed), as torch without CUDA."""


def _unavailable(op):
    raise DeviceUnavailableError(f"chainrule.cuda.{op}: chainrule runs on the CPU only; "
                                 "CUDA is not available (Torch not compiled with CUDA enabled, "
                                 "in torch's words)")


def current_device() -> int:
    _unavailable("current_device")


def synchronize(device=None) -> None:
    _unavailable("synchronize")


def empty_cache() -> None:
    """Release the unoccupied memory of the CUDA caching allocator: a no-op (there is none), as
    in torch without CUDA."""


def memory_allocated(device=None) -> int:
    """The GPU memory occupied by tensors, in bytes: 0 (chainrule allocates none), as in torch
    without CUDA.

    Args:
        device (chainrule.device or int, optional): selected device (ignored).
    """
    return 0


def max_memory_allocated(device=None) -> int:
    """The peak GPU memory occupied by tensors, in bytes: 0, as in torch without CUDA.

    Args:
        device (chainrule.device or int, optional): selected device (ignored).
    """
    return 0


def memory_reserved(device=None) -> int:
    """The GPU memory held by the caching allocator, in bytes: 0, as in torch without CUDA.

    Args:
        device (chainrule.device or int, optional): selected device (ignored).
    """
    return 0


def max_memory_reserved(device=None) -> int:
    """The peak GPU memory held by the caching allocator, in bytes: 0, as in torch without CUDA.

    Args:
        device (chainrule.device or int, optional): selected device (ignored).
    """
    return 0


class _NoCudaStatsError(DeviceUnavailableError, AttributeError):
    """torch's CPU-only build raises AttributeError (its CUDA bindings are missing) when asked to
    reset CUDA memory statistics; this is also chainrule's DeviceUnavailableError."""


def reset_peak_memory_stats(device=None) -> None:
    """Reset the CUDA memory allocator's peak statistics. There is no CUDA: raises (an
    AttributeError, as torch's CPU-only build, and a :class:`DeviceUnavailableError`).

    Args:
        device (chainrule.device or int, optional): selected device.
    """
    raise _NoCudaStatsError("chainrule.cuda.reset_peak_memory_stats: chainrule runs on the CPU "
                            "only; there are no CUDA memory statistics to reset (torch without "
                            "CUDA raises AttributeError here too)")
