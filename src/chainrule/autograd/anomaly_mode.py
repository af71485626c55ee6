"""Anomaly detection (torch.autograd.detect_anomaly): while it is on, every gradient a node's
backward produces is checked, and the first nan raises a RuntimeError naming that node — the
place a nan enters backpropagation, rather than the loss where it surfaces."""
from __future__ import annotations

import functools

from .._modes import STATE


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return STATE.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection checks for nan (always, when it is on)."""
    return STATE.anomaly


class set_detect_anomaly:
    """Turn anomaly detection on or off: at once when called, and back to the previous mode
    at the end of a ``with`` block (torch's semantics)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = STATE.anomaly
        STATE.anomaly = bool(mode) and bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self.prev
        return False


class detect_anomaly:
    """Context manager and decorator: anomaly detection on inside (see the module doc)."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = STATE.anomaly
        STATE.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapped
