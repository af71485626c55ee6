"""Forward-mode automatic differentiation with dual tensors (mirrors ``torch.autograd.forward_ad``).

A dual tensor carries a primal value x and a tangent ẋ (same shape). Every primitive's JVP rule
maps its input tangents to its output tangent *in the same forward pass*,

    ẏ = J_f(x) ẋ = Σ_i (∂f/∂x_i) ẋ_i ,       J_f(x) = ∂f(x)/∂x ∈ R^{m×n},

so one pass through f: Rⁿ → Rᵐ yields one Jacobian-vector product J·ẋ (one column of J when ẋ is
a basis vector e_k) at a small constant multiple of the cost of f. No reverse pass and no graph
are needed. This is the deck's "Forward-Mode Differentiation": derivatives travel from the
inputs upward. Its drawback for training is the other side of the same coin: the gradient of a
scalar loss L: Rⁿ → R needs all n columns of its 1×n Jacobian, i.e. n forward passes, whereas
reverse mode (backprop, a chain of vector-Jacobian products vᵀJ) gets all n in one backward pass
("Why is Reverse-Mode highly efficient": the output dimension, 1, is far smaller than n).

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)      # jvp = J_f(primal) · tangent

Tangents are first order: a JVP rule runs with forward mode suspended, so no tangent of a
tangent is formed (one dual level at a time, like torch's low-level API). Tangents do flow
through backward passes run inside the level — the VJP rules are ordinary ops — which is how
forward-over-reverse gets Hessian-vector products H·v = J_{∇f}(x)·v without forming H.
"""
from __future__ import annotations

import contextlib
import weakref
from collections import namedtuple


class _State:
    active = False      # inside a dual_level() and not suspended
    level = None        # the open level's number (0), or None
    duals: list = []    # (weak reference, attribute) of every object given a tangent at this level


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


def attach_tangent(obj, tangent, attr="_fw_tangent"):
    """Give ``obj`` (a Tensor, or a node caching its output's tangent in ``attr``) a tangent that
    is dropped when the current dual level exits, so no tangent outlives its level."""
    setattr(obj, attr, tangent)
    if STATE.level is not None and tangent is not None:
        STATE.duals.append((weakref.ref(obj), attr))


def enter_dual_level() -> int:
    """Open a dual level (the functional form of ``with dual_level():``); returns its number."""
    if STATE.level is not None:
        raise RuntimeError("forward_ad.dual_level: nested dual levels are not supported "
                           "(one level of forward mode at a time)")
    STATE.active, STATE.level, STATE.duals = True, 0, []
    return 0


def exit_dual_level(*, level=None) -> None:
    """Close the open dual level; every tangent attached inside it is dropped."""
    if STATE.level is None:
        raise RuntimeError("forward_ad.exit_dual_level: no dual level is open")
    if level is not None and level != STATE.level:
        raise RuntimeError(f"forward_ad.exit_dual_level: level {level} is not the open level "
                           f"{STATE.level}")
    for ref, attr in STATE.duals:
        obj = ref()
        if obj is not None:
            setattr(obj, attr, None)
    STATE.active, STATE.level, STATE.duals = False, None, []


class dual_level:
    """Context manager inside which dual tensors live; their tangents are dropped on exit.

    Mirrors ``torch.autograd.forward_ad.dual_level``: ``with dual_level() as level:`` gives the
    level's number (always 0: levels do not nest)."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def _require_level(fn):
    if STATE.level is None:
        raise RuntimeError(f"forward_ad.{fn}: must be called inside a `with dual_level():` block")


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` (primal x) that carries ``tangent`` (ẋ, same shape and dtype,
    floating point). Ops on it compute y = f(x) and ẏ = J_f(x)·ẋ together. Gradients of the
    view flow back to ``tensor`` as usual, so forward mode composes with reverse mode."""
    from ..ops.shape import alias
    from ..tensor import Tensor
    _require_level("make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual: expected Tensors, got {type(tensor).__name__} and "
                        f"{type(tangent).__name__}")
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
    """``(primal, tangent)`` of a dual tensor: a view of its value and its tangent J·ẋ
    (``None`` when it carries none, or outside a dual level)."""
    from ..ops.shape import alias
    tangent = tensor._fw_tangent if STATE.level is not None else None
    with suspended():
        primal = alias(tensor)
    return UnpackedDualTensor(primal, tangent)
