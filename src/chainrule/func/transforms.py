"""The transforms of :mod:`chainrule.func`, built on the reverse-mode engine and dual tensors."""
from __future__ import annotations

import functools

import numpy as np

from ..autograd import engine, forward_ad
from ..autograd.grad_mode import STATE, enable_grad, no_grad
from ..ops import stack
from ..ops.shape import alias
from ..tensor import Tensor


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _check_tensors(values, what, op):
    for v in values:
        if not isinstance(v, Tensor):
            raise TypeError(f"{op}: {what} must be Tensors or tuples of Tensors, got {type(v).__name__}")
        if not v.is_floating_point():
            raise TypeError(f"{op}: {what} must be floating point, got {v.dtype}")


def _lift(x):
    """A fresh differentiable input sharing x's value. It stays attached to x's graph (and keeps
    x's forward tangent) when x is part of an outer transform, so transforms compose."""
    if x.requires_grad:
        return alias(x)                 # a non-leaf in the outer graph
    with no_grad():
        leaf = alias(x)                 # carries x's tangent when a dual level is active
    return leaf.requires_grad_(True)


def _argnums(argnums, n, op):
    nums = _tuple(argnums)
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise ValueError(f"{op}: argnums {argnums} out of range for a function of {n} arguments")
    return tuple(a % n for a in nums)


def _call(f, args, has_aux, op):
    out = f(*args)
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError(f"{op}: has_aux=True needs f to return (output, aux)")
        return out
    return out, None


def _detach(x, keep):
    if keep or not isinstance(x, Tensor):
        return x
    d = x.detach()
    d._fw_tangent = x._fw_tangent  # forward-mode tangents survive (forward-over-reverse)
    return d


def vjp(func, *primals, has_aux=False):
    """Run ``func(*primals)`` and return ``(output, vjp_fn[, aux])``; ``vjp_fn(v)`` gives
    vᵀJ as a tuple with one entry per primal (reverse mode: one backward pass per call)."""
    _check_tensors(primals, "primals", "vjp")
    keep = any(p.requires_grad for p in primals)
    with enable_grad():
        inputs = tuple(_lift(p) for p in primals)
        output, aux = _call(func, inputs, has_aux, "vjp")
    outputs = _tuple(output)
    _check_tensors(outputs, "outputs", "vjp")

    def vjp_fn(cotangents):
        cot = _tuple(cotangents)
        if len(cot) != len(outputs):
            raise ValueError(f"vjp: expected {len(outputs)} cotangents, got {len(cot)}")
        for c, o in zip(cot, outputs):
            if tuple(c.shape) != tuple(o.shape):
                raise ValueError(f"vjp: cotangent of shape {tuple(c.shape)} for an output of shape "
                                 f"{tuple(o.shape)}")
        live = [(o, c) for o, c in zip(outputs, cot) if o.requires_grad]
        if not live:
            return tuple(_zeros(p) for p in primals)
        grads = engine.grad([o for o, _ in live], inputs, [c for _, c in live], retain_graph=True,
                            create_graph=keep or STATE.grad_enabled and keep, allow_unused=True)
        return tuple(_detach(g, keep) if g is not None else _zeros(p) for g, p in zip(grads, primals))

    out = tuple(_detach(o, keep) for o in outputs) if isinstance(output, tuple) else _detach(output, keep)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _zeros(p):
    return Tensor._make(np.zeros(p.shape, p._data.dtype))


def jvp(func, primals, tangents, *, has_aux=False):
    """Return ``(func(*primals), J·tangents[, aux])`` in one forward pass with dual tensors."""
    primals, tangents = _tuple(primals), _tuple(tangents)
    _check_tensors(primals, "primals", "jvp")
    _check_tensors(tangents, "tangents", "jvp")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    for p, t in zip(primals, tangents):
        if tuple(p.shape) != tuple(t.shape):
            raise ValueError(f"jvp: tangent of shape {tuple(t.shape)} for a primal of shape {tuple(p.shape)}")
    with forward_ad.dual_level():
        duals = tuple(forward_ad.make_dual(p, t.to(p.dtype)) for p, t in zip(primals, tangents))
        output, aux = _call(func, duals, has_aux, "jvp")
        outs = _tuple(output)
        _check_tensors(outs, "outputs", "jvp")
        pairs = [forward_ad.unpack_dual(o) for o in outs]
        values = tuple(p.primal for p in pairs)
        derivs = tuple(p.tangent if p.tangent is not None else _zeros(o) for p, o in zip(pairs, outs))
    if not isinstance(output, tuple):
        values, derivs = values[0], derivs[0]
    return (values, derivs, aux) if has_aux else (values, derivs)


def grad_and_value(func, argnums=0, has_aux=False):
    """``grad_and_value(f)(*args)`` returns (∇f, f) for a scalar-valued f (reverse mode)."""
    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args), "grad")
        keep = any(isinstance(a, Tensor) and a.requires_grad for a in args)
        with enable_grad():
            inputs = list(args)
            for i in nums:
                _check_tensors((args[i],), "differentiated arguments", "grad")
                inputs[i] = _lift(args[i])
            value, aux = _call(func, inputs, has_aux, "grad")
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise RuntimeError(f"grad: f must return a scalar tensor, got "
                               f"{tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__}")
        wrt = [inputs[i] for i in nums]
        if value.requires_grad:
            grads = engine.grad(value, wrt, retain_graph=keep, create_graph=keep, allow_unused=True)
        else:
            grads = [None] * len(wrt)
        grads = tuple(_detach(g, keep) if g is not None else _zeros(w) for g, w in zip(grads, wrt))
        result = grads if isinstance(argnums, tuple) else grads[0]
        value = _detach(value, keep)
        return (result, (value, aux)) if has_aux else (result, value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``grad(f)(*args)`` = ∂f/∂args[argnums] for a scalar-valued f (one reverse pass)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args):
        g, value = gv(*args)
        return (g, value[1]) if has_aux else g
    return wrapper


def _basis(shape, dtype):
    """The standard basis of a tensor space, one one-hot tensor at a time."""
    n = int(np.prod(shape))
    for k in range(n):
        e = np.zeros(n, dtype)
        e[k] = 1
        yield Tensor._make(e.reshape(shape))


def jacrev(func, argnums=0, has_aux=False):
    """Jacobian by reverse mode: one VJP per output element. Result shape: output.shape +
    input.shape (tuples mirror tuple outputs / tuple argnums)."""
    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args), "jacrev")
        fixed = list(args)

        def partial(*diff):
            for i, d in zip(nums, diff):
                fixed[i] = d
            return func(*fixed)
        res = vjp(partial, *[args[i] for i in nums], has_aux=has_aux)
        output, vjp_fn = res[0], res[1]
        outs = _tuple(output)
        per_output = []
        for j, o in enumerate(outs):
            rows = []
            for e in _basis(tuple(o.shape), o._data.dtype):
                cot = tuple(e if k == j else _zeros(q) for k, q in enumerate(outs))
                rows.append(vjp_fn(cot if isinstance(output, tuple) else cot[0]))
            jac = []
            for a, i in enumerate(nums):
                p = args[i]
                if rows:
                    block = stack([r[a] for r in rows]).reshape(tuple(o.shape) + tuple(p.shape))
                else:
                    block = Tensor._make(np.zeros(tuple(o.shape) + tuple(p.shape), p._data.dtype))
                jac.append(block)
            per_output.append(tuple(jac) if isinstance(argnums, tuple) else jac[0])
        result = tuple(per_output) if isinstance(output, tuple) else per_output[0]
        return (result, res[2]) if has_aux else result
    return wrapper


def jacfwd(func, argnums=0, has_aux=False):
    """Jacobian by forward mode: one JVP per input element. Result shape: output.shape +
    input.shape."""
    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args), "jacfwd")
        columns = {i: [] for i in nums}   # per argnum: list of (outputs tangents) per basis dir
        output = aux = None
        for i in nums:
            p = args[i]
            _check_tensors((p,), "differentiated arguments", "jacfwd")
            for e in _basis(tuple(p.shape), p._data.dtype):
                tangents = tuple(e if k == i else _zeros(args[k]) for k in nums)
                fixed = list(args)

                def partial(*diff):
                    for k, d in zip(nums, diff):
                        fixed[k] = d
                    return func(*fixed)
                res = jvp(partial, tuple(args[k] for k in nums), tangents, has_aux=has_aux)
                output, deriv = res[0], res[1]
                aux = res[2] if has_aux else None
                columns[i].append(_tuple(deriv))
        if output is None:  # every differentiated argument is empty
            output = func(*args)
            output = output[0] if has_aux else output
        outs = _tuple(output)
        per_output = []
        for j, o in enumerate(outs):
            jac = []
            for i in nums:
                p = args[i]
                if columns[i]:
                    cols = stack([c[j] for c in columns[i]], dim=-1)     # o.shape + (n,)
                    block = cols.reshape(tuple(o.shape) + tuple(p.shape))
                else:
                    block = Tensor._make(np.zeros(tuple(o.shape) + tuple(p.shape), p._data.dtype))
                jac.append(block)
            per_output.append(tuple(jac) if isinstance(argnums, tuple) else jac[0])
        result = tuple(per_output) if isinstance(output, tuple) else per_output[0]
        return (result, aux) if has_aux else result
    return wrapper


def hessian(func, argnums=0):
    """∂²f/∂x² of a scalar f, by forward-over-reverse: jacfwd(jacrev(f)). Shape:
    input.shape + input.shape."""
    return jacfwd(jacrev(func, argnums), argnums)


def hvp(func, primals, tangents):
    """(f(x), H·v) for scalar f, forward-over-reverse: the JVP of ∇f along v. Never builds H."""
    primals, tangents = _tuple(primals), _tuple(tangents)
    value = func(*primals)
    gradient = grad(func, argnums=tuple(range(len(primals))))
    _, hv = jvp(gradient, primals, tangents)
    return value.detach(), hv if len(primals) > 1 else hv[0]


def vhp(func, primals, tangents):
    """(f(x), vᵀH) for scalar f, reverse-over-reverse: the VJP of ∇f with v. Never builds H."""
    primals, tangents = _tuple(primals), _tuple(tangents)
    value = func(*primals)
    gradient = grad(func, argnums=tuple(range(len(primals))))
    _, fn = vjp(gradient, *primals)
    vh = fn(tangents)
    return value.detach(), vh if len(primals) > 1 else vh[0]
