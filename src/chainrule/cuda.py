"""``chainrule.cuda``: answers the questions torch code asks before choosing a device.

chainrule runs on the CPU only, so ``is_available()`` is False and ``device_count()`` is 0; the
usual ``device = 'cuda' if chainrule.cuda.is_available() else 'cpu'`` picks the CPU. Seeding
functions are no-ops, as in torch without a GPU; anything that needs a GPU raises.
"""
from __future__ import annotations

from ._device import DeviceUnavailableError

__all__ = ["current_device", "device_count", "is_available", "manual_seed", "manual_seed_all",
           "synchronize"]


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
