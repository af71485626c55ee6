"""Forward-mode automatic differentiation with dual tensors (mirrors ``torch.autograd.forward_ad``).

A dual tensor carries a primal value x and a tangent ẋ. Every primitive's JVP rule maps input
tangents to the output tangent in the same forward pass, ẏ = J_f(x) ẋ, so one pass gives one
directional derivative. Getting a full gradient of a scalar loss of n inputs takes n passes —
the cost the seed deck contrasts with reverse mode, which gets all n in one backward pass.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)
"""
from __future__ import annotations

import contextlib
import weakref
from collections import namedtuple


class _State:
    active = False      # inside a dual_level()
    level = None
    duals: list = []    # weak references to tensors holding a tangent at this level


STATE = _State()

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


@contextlib.contextmanager
def suspended():
    """Evaluate JVP rules without propagating tangents of tangents (first-order forward mode)."""
    prev = STATE.active
    STATE.active = False
    try:
        yield
    finally:
        STATE.active = prev


def attach_tangent(t, tangent):
    t._fw_tangent = tangent
    STATE.duals.append(weakref.ref(t))


class dual_level:
    """Context manager inside which dual tensors live; their tangents are dropped on exit."""

    def __enter__(self):
        if STATE.active:
            raise RuntimeError("forward_ad.dual_level: nested dual levels are not supported")
        STATE.active, STATE.level, STATE.duals = True, 0, []
        return 0

    def __exit__(self, *exc):
        for ref in STATE.duals:
            t = ref()
            if t is not None:
                t._fw_tangent = None
        STATE.active, STATE.level, STATE.duals = False, None, []
        return False


def _require_level(fn):
    if not STATE.active:
        raise RuntimeError(f"forward_ad.{fn}: must be called inside a `with dual_level():` block")


def make_dual(tensor, tangent, *, level=None):
    """Return a view of ``tensor`` that carries ``tangent`` (same shape and dtype, floating)."""
    from ..ops.shape import alias
    _require_level("make_dual")
    if tangent.shape != tensor.shape or tangent.dtype is not tensor.dtype:
        raise ValueError(f"make_dual: tangent must match the primal; primal is {tensor.dtype} "
                         f"{tuple(tensor.shape)}, tangent is {tangent.dtype} {tuple(tangent.shape)}")
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"make_dual: expected a floating-point primal, got {tensor.dtype}")
    with suspended():
        dual = alias(tensor)
    attach_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """Return ``(primal, tangent)``; tangent is None when ``tensor`` carries none."""
    from ..ops.shape import alias
    tangent = tensor._fw_tangent if STATE.active else None
    with suspended():
        primal = alias(tensor)
    return UnpackedDualTensor(primal, tangent)
