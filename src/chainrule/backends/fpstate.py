"""IEEE floating-point results without NumPy's warnings, the way torch computes them.

log(0) = −inf, sqrt(−1) = nan, 0/0 = nan, exp(1000) = inf: torch returns these values
silently, NumPy returns the same values and also warns ("divide by zero encountered in
log"), which ``-W error`` or ``warnings.simplefilter("error")`` turns into an exception that
torch code never sees. chainrule runs its array kernels inside :func:`quiet`, which sets NumPy's
error handling to 'ignore' for the current thread (or task) only, and puts it back after: the
caller's own ``np.seterr`` / ``np.errstate`` outside chainrule are untouched.

The engine enters it once per primitive, so it has to be cheap: on NumPy ≥ 2 it sets NumPy's
error-state context variable directly (~0.15 µs, against ~1 µs for ``np.errstate``); on older
NumPy it falls back to ``np.errstate``.
"""
from __future__ import annotations

import numpy as np

try:   # NumPy >= 2: the error state is one context variable
    from numpy._core.umath import _extobj_contextvar as _STATE
    from numpy._core.umath import _make_extobj

    _IGNORE = _make_extobj(all="ignore")

    def enter():
        """Ignore floating-point errors from here; returns the token for :func:`leave`."""
        return _STATE.set(_IGNORE)

    def leave(token) -> None:
        """Restore the error handling :func:`enter` replaced."""
        _STATE.reset(token)

except ImportError:   # pragma: no cover  (NumPy 1.x)
    def enter():
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def leave(token) -> None:
        token.__exit__(None, None, None)


class quiet:
    """``with quiet(): ...``: floating-point errors give IEEE values (inf, nan) silently."""

    __slots__ = ("_token",)

    def __enter__(self):
        self._token = enter()
        return self

    def __exit__(self, *exc):
        leave(self._token)
        return False
