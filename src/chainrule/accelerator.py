"""``chainrule.accelerator``: torch's device-agnostic accelerator queries.

chainrule computes with NumPy on the CPU and has no accelerator, so code written as
``dev = torch.accelerator.current_accelerator() or 'cpu'`` picks the CPU.
"""
from __future__ import annotations

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """False: no accelerator backend."""
    return False


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (as torch on a machine without one)."""
    return None


def device_count() -> int:
    """0: no accelerator device is visible."""
    return 0
