"""``torch.autograd.functional``'s API: jacobian, hessian, vjp, jvp, hvp, vhp.

``inputs`` is a tensor or a tuple of tensors and results mirror that structure (a tuple of
Jacobians for a tuple of inputs; a tuple over outputs, each a tuple over inputs, when both are
tuples). For f: Rⁿ → Rᵐ with Jacobian J ∈ R^{m×n}:

    vjp → vᵀJ (one backward pass)        jvp → J·v (one forward pass with tangents)
    jacobian → J (m VJPs, or n JVPs with strategy="forward-mode")
    hessian → H = ∂²f/∂x² (forward-over-reverse)
    hvp → H·v, vhp → vᵀH (one pass each; H never formed)

``create_graph=True`` keeps the results differentiable w.r.t. inputs that require grad (they are
detached otherwise, as in torch). ``strict=True`` raises when an output is independent of an
input (a Jacobian that is identically zero). ``vectorize`` is accepted and has no effect: the
rows or columns are computed one pass at a time. They reuse :mod:`chainrule.func`.
"""
from __future__ import annotations

import numpy as np

from .. import func as _func
from .._backprop import grad as _grad
from .._modes import enable_grad
from ..tensor import Tensor


def _as_tuple(inputs, op, what="inputs"):
    single = not isinstance(inputs, tuple)
    args = (inputs,) if single else inputs
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            raise TypeError(f"{op}: the {what} must be a Tensor or a tuple of Tensors, but entry "
                            f"{i} is {type(a).__name__}")
    return args, single


def _prepare(args, create_graph):
    """Without create_graph the results must not hang on the caller's graph: cut the inputs."""
    return args if create_graph else tuple(a.detach() for a in args)


def _check_strict(func, args, op, order=1):
    """strict=True: every output must depend on every input (order 2: so must the gradient)."""
    with enable_grad():
        xs = tuple(a.detach().requires_grad_() for a in args)
        outs = func(*xs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        if order == 2:   # the gradient's blocks take the outputs' place
            if not outs[0].requires_grad:
                outs = (None,) * len(xs)
            else:
                outs = _grad(outs[0], xs, create_graph=True, allow_unused=True)
        for j, o in enumerate(outs):
            deps = ((None,) * len(xs) if o is None or not o.requires_grad else
                    _grad(o, xs, Tensor._make(_ones(o)), retain_graph=True, allow_unused=True))
            for i, d in enumerate(deps):
                if d is None:
                    what = "output" if order == 1 else "gradient block"
                    raise RuntimeError(f"{op}: {what} {j} of the user-provided function is "
                                       f"independent of input {i}. This is not allowed in strict "
                                       "mode.")


def _outputs_checked(func, op):
    """func, refusing an output that is not a Tensor or a tuple of Tensors as torch's
    autograd.functional does (torch.func's transforms, which do the work, take any pytree)."""
    def checked(*args):
        out = func(*args)
        for i, o in enumerate(out if isinstance(out, tuple) else (out,)):
            if not isinstance(o, Tensor):
                raise TypeError(f"The outputs of the user-provided function given to {op} must "
                                f"be either a Tensor or a tuple of Tensors but the value at index "
                                f"{i} has type {type(o).__name__}.")
        return out
    return checked


def _ones(o):
    return np.ones(o._data.shape, o._data.dtype)


def _finish(x, create_graph):
    if create_graph or x is None:
        return x
    if isinstance(x, tuple):
        return tuple(_finish(e, create_graph) for e in x)
    return x.detach()


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀJ)``: the vector-Jacobian product, one backward pass. ``v`` is shaped
    like the output (a tuple for a tuple output) and may be omitted for a one-element output."""
    args, single = _as_tuple(inputs, "vjp")
    if strict:
        _check_strict(func, args, "vjp")
    out, fn = _func.vjp(_outputs_checked(func, "vjp"), *_prepare(args, create_graph))
    if v is None:
        outs = out if isinstance(out, tuple) else (out,)
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("vjp: v can only be omitted when the function returns a single "
                               "one-element tensor")
        v = Tensor._make(_ones(outs[0]))
    grads = fn(v)
    return _finish(out, create_graph), _finish(grads[0] if single else grads, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J·v)``: the Jacobian-vector product, one forward pass with dual tensors.
    ``v`` is shaped like ``inputs`` and may be omitted for a single one-element input."""
    args, single = _as_tuple(inputs, "jvp")
    if strict:
        _check_strict(func, args, "jvp")
    if v is None:
        if len(args) != 1 or args[0].numel() != 1:
            raise RuntimeError("jvp: v can only be omitted for a single one-element input")
        v = Tensor._make(_ones(args[0]))
    vs, _ = _as_tuple(v, "jvp", "v")
    if len(vs) != len(args):
        raise RuntimeError(f"jvp: v has {len(vs)} entries for {len(args)} inputs")
    out, jv = _func.jvp(_outputs_checked(func, "jvp"), _prepare(args, create_graph), vs)
    return _finish(out, create_graph), _finish(jv, create_graph)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """J = ∂func/∂inputs, each block of shape output.shape + input.shape: by reverse mode (one
    VJP per output element, the default) or ``strategy='forward-mode'`` (one JVP per input
    element) — pick the mode whose side is smaller."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    args, single = _as_tuple(inputs, "jacobian")
    if strict:
        _check_strict(func, args, "jacobian")
    transform = _func.jacrev if strategy == "reverse-mode" else _func.jacfwd
    argnums = 0 if single else tuple(range(len(args)))
    func = _outputs_checked(func, "jacobian")
    return _finish(transform(func, argnums)(*_prepare(args, create_graph)), create_graph)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """H = ∂²func/∂inputs² of a scalar func (input.shape + input.shape per pair; a tuple of
    tuples for a tuple of inputs), by forward-over-reverse (n JVPs of the gradient)."""
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError("hessian: outer_jacobian_strategy must be 'reverse-mode' or "
                         f"'forward-mode', got {outer_jacobian_strategy!r}")
    args, single = _as_tuple(inputs, "hessian")
    if strict:
        _check_strict(func, args, "hessian", order=2)
    argnums = 0 if single else tuple(range(len(args)))
    func = _outputs_checked(func, "hessian")
    return _finish(_func.hessian(func, argnums)(*_prepare(args, create_graph)), create_graph)


def _second_order(transform, func, inputs, v, create_graph, strict, op):
    args, single = _as_tuple(inputs, op)
    if strict:
        _check_strict(func, args, op, order=2)
    if v is None:
        if len(args) != 1 or args[0].numel() != 1:
            raise RuntimeError(f"{op}: v can only be omitted for a single one-element input")
        v = Tensor._make(_ones(args[0]))
    vs, _ = _as_tuple(v, op, "v")
    if len(vs) != len(args):
        raise RuntimeError(f"{op}: v has {len(vs)} entries for {len(args)} inputs")
    out, res = transform(_outputs_checked(func, op), _prepare(args, create_graph), vs)
    return _finish(out, create_graph), _finish(res, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H·v)`` for a scalar func, forward-over-reverse: the JVP of ∇func along
    v. O(n) memory; the n×n Hessian is never formed."""
    return _second_order(_func.hvp, func, inputs, v, create_graph, strict, "hvp")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀH)`` for a scalar func, reverse-over-reverse: the VJP of ∇func with
    cotangent v. The Hessian is never formed."""
    return _second_order(_func.vhp, func, inputs, v, create_graph, strict, "vhp")
