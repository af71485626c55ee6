"""Switches for graph recording: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Each works as a context manager and as a decorator, like torch's. Under ``no_grad`` no op
records a node, so inference costs only the forward arithmetic.
"""
from __future__ import annotations

import functools


class _State:
    grad_enabled = True


STATE = _State()


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
