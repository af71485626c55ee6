"""``torch.autograd.functional``'s API: jacobian, hessian, vjp, jvp, hvp, vhp.

``inputs`` is a tensor or a tuple of tensors; results mirror that structure (a tuple of
Jacobians for a tuple of inputs). They reuse :mod:`chainrule.func`.
"""
from __future__ import annotations

from .. import func as _func


def _wrap(inputs):
    return (inputs, False) if isinstance(inputs, tuple) else ((inputs,), True)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀJ). ``v`` may be omitted for a single-element output."""
    args, single = _wrap(inputs)
    out, fn = _func.vjp(func, *args)
    if v is None:
        if out.numel() != 1:
            raise RuntimeError("vjp: v can only be omitted when the output has one element")
        from ..creation import ones_like
        v = ones_like(out)
    grads = fn(v)
    return out, grads[0] if single else grads


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v). ``v`` may be omitted for a single-element input."""
    args, single = _wrap(inputs)
    if v is None:
        if len(args) != 1 or args[0].numel() != 1:
            raise RuntimeError("jvp: v can only be omitted for a single one-element input")
        from ..creation import ones_like
        v = ones_like(args[0])
    vs = (v,) if single else tuple(v)
    return _func.jvp(func, args, vs)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs (output.shape + input.shape per pair), by reverse mode
    (one VJP per output) or ``strategy='forward-mode'`` (one JVP per input)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    args, single = _wrap(inputs)
    transform = _func.jacrev if strategy == "reverse-mode" else _func.jacfwd
    argnums = 0 if single else tuple(range(len(args)))
    return transform(func, argnums)(*args)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func (input.shape + input.shape per pair)."""
    args, single = _wrap(inputs)
    argnums = 0 if single else tuple(range(len(args)))
    return _func.hessian(func, argnums)(*args)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H·v) without building H (forward-over-reverse)."""
    args, single = _wrap(inputs)
    vs = (v,) if single else tuple(v)
    out, hv = _func.hvp(func, args, vs)
    return out, hv


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀH) without building H (reverse-over-reverse)."""
    args, single = _wrap(inputs)
    vs = (v,) if single else tuple(v)
    return _func.vhp(func, args, vs)
