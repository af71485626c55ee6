"""``torch.autograd.grad_mode``'s names: the switches live in :mod:`chainrule._modes`."""
import functools
import threading

from .._modes import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "set_multithreading_enabled", "is_multithreading_enabled", "is_view_replay_enabled"]


_THREAD = threading.local()


def is_multithreading_enabled() -> bool:
    """Whether backward may run on worker threads (torch's thread-local flag, default True).
    chainrule's backward always runs on the calling thread; the flag is recorded for code that
    sets and reads it."""
    return getattr(_THREAD, "multithreading", True)


class set_multithreading_enabled:
    """``set_multithreading_enabled(mode)`` sets :func:`is_multithreading_enabled` for this
    thread at once, like torch (also when built as a decorator); in a ``with`` block the previous
    value comes back on exit, and a decorated function runs with ``mode`` and restores the flag
    after each call. chainrule's backward is single-threaded either way."""

    def __init__(self, mode: bool) -> None:
        self.prev = is_multithreading_enabled()
        _THREAD.multithreading = bool(mode)
        self.mode = mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        _THREAD.multithreading = self.prev
        return False

    def clone(self) -> "set_multithreading_enabled":
        """A fresh copy with the same mode (torch's API for decorators)."""
        return self.__class__(self.mode)

    def __call__(self, fn):
        mode = self.mode   # as torch, building the decorator has already set the flag

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = is_multithreading_enabled()
            _THREAD.multithreading = bool(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _THREAD.multithreading = prev
        return wrapper


def is_view_replay_enabled() -> bool:
    """False: chainrule never replays views in autograd (torch's
    ``_force_original_view_tracking`` has no counterpart here), so the answer is always torch's
    default."""
    return False
