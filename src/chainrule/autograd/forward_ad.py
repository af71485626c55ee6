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

from collections import namedtuple

from .._modes import FORWARD, attach_tangent, forward_suspended
from .._tensor_base import TensorBase
from ..ops.shape import alias

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


def enter_dual_level() -> int:
    """Open a dual level (the functional form of ``with dual_level():``); returns its number."""
    if FORWARD.level is not None:
        raise RuntimeError("forward_ad.dual_level: nested dual levels are not supported "
                           "(one level of forward mode at a time)")
    FORWARD.active, FORWARD.level, FORWARD.duals = True, 0, []
    return 0


def exit_dual_level(*, level=None) -> None:
    """Close the open dual level; every tangent attached inside it is dropped."""
    if FORWARD.level is None:
        raise RuntimeError("forward_ad.exit_dual_level: no dual level is open")
    if level is not None and level != FORWARD.level:
        raise RuntimeError(f"forward_ad.exit_dual_level: level {level} is not the open level "
                           f"{FORWARD.level}")
    for ref, attr in FORWARD.duals:
        obj = ref()
        if obj is not None:
            setattr(obj, attr, None)
    FORWARD.active, FORWARD.level, FORWARD.duals = False, None, []


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
    if FORWARD.level is None:
        raise RuntimeError(f"forward_ad.{fn}: must be called inside a `with dual_level():` block")


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` (primal x) that carries ``tangent`` (ẋ, same shape and dtype,
    floating point). Ops on it compute y = f(x) and ẏ = J_f(x)·ẋ together. Gradients of the
    view flow back to ``tensor`` as usual, so forward mode composes with reverse mode."""
    _require_level("make_dual")
    if not isinstance(tensor, TensorBase) or not isinstance(tangent, TensorBase):
        raise TypeError(f"make_dual: expected Tensors, got {type(tensor).__name__} and "
                        f"{type(tangent).__name__}")
    if tangent.shape != tensor.shape or tangent.dtype is not tensor.dtype:
        raise ValueError(f"make_dual: tangent must match the primal; primal is {tensor.dtype} "
                         f"{tuple(tensor.shape)}, tangent is {tangent.dtype} {tuple(tangent.shape)}")
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"make_dual: expected a floating-point primal, got {tensor.dtype}")
    with forward_suspended():
        dual = alias(tensor)
    attach_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of a dual tensor: a view of its value and its tangent J·ẋ
    (``None`` when it carries none, or outside a dual level)."""
    tangent = tensor._fw_tangent if FORWARD.level is not None else None
    with forward_suspended():
        primal = alias(tensor)
    return UnpackedDualTensor(primal, tangent)
