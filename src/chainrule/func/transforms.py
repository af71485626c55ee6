"""The transforms of :mod:`chainrule.func`, built on the reverse-mode engine and dual tensors.

Notation: f: Rⁿ → Rᵐ (inputs and outputs flattened), J = J_f(x) = ∂f(x)/∂x ∈ R^{m×n}.

* reverse mode, ``vjp``: v ∈ Rᵐ ↦ vᵀJ ∈ Rⁿ — one backward pass (a chain of VJPs, one per
  primitive), whatever n is;
* forward mode, ``jvp``: u ∈ Rⁿ ↦ J·u ∈ Rᵐ — one forward pass carrying tangents, whatever m is.

Each pass costs a small constant times one evaluation of f, so the full J costs m passes in
reverse mode (``jacrev``, rows eᵢᵀJ) and n passes in forward mode (``jacfwd``, columns J·e_k).
For a training loss m = 1 and n is the number of parameters: reverse mode needs one pass where
forward mode needs n — the deck's "Why is Reverse-Mode highly efficient" (the scalar output is
much smaller than the parameter dimension), and why backprop never builds a full Jacobian.
"""
from __future__ import annotations

import functools

import numpy as np

from .._backprop import grad as _grad
from .._modes import FORWARD, attach_tangent, enable_grad, no_grad
from ..autograd import forward_ad
from ..ops import stack
from ..ops.shape import alias
from ..tensor import Tensor


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _check_tensors(values, what, op):
    for v in values:
        if not isinstance(v, Tensor):
            raise TypeError(f"{op}: {what} must be Tensors or tuples of Tensors, got {type(v).__name__}")
        if not v.is_floating_point():   # torch: jvp's ValueError, the reverse modes' RuntimeError
            exc = ValueError if op in ("jvp", "jacfwd") else RuntimeError
            raise exc(f"{op}: {what} must be floating point (only Tensors of floating point dtype "
                      f"can require gradients), got {v.dtype}")


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
    if not nums:
        raise RuntimeError(f"{op}: argnums must be an int or a non-empty tuple of ints")
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool) or not -n <= a < n:
            raise RuntimeError(f"{op}: argnums {argnums} out of range for a function of {n} "
                               f"arguments")
    nums = tuple(a % n for a in nums)
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"{op}: argnums {argnums} repeats an argument (argnums elements must "
                           f"be unique)")
    return nums


def _call(f, args, has_aux, op):
    out = f(*args)
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError(f"{op}: has_aux=True needs f to return (output, aux)")
        return out
    return out, None


def _detach(x, keep):
    """The result handed back to the caller: cut from this transform's graph unless an outer
    reverse-mode transform needs it (``keep``). A forward tangent survives, registered with the
    dual level so that it ends with it (forward-over-reverse reads it)."""
    if keep or not isinstance(x, Tensor):
        return x
    d = x.detach()
    if x._fw_tangent is not None:
        attach_tangent(d, x._fw_tangent)
    return d


def _zeros(p):
    return Tensor._make(np.zeros(p.shape, p._data.dtype))


def _with_args(func, args, nums):
    """f restricted to the arguments at ``nums`` (the others fixed to ``args``)."""
    def partial(*diff):
        full = list(args)
        for i, d in zip(nums, diff):
            full[i] = d
        return func(*full)
    return partial


# ---------------------------------------------------------------------------- reverse mode
def vjp(func, *primals, has_aux=False):
    """Reverse mode: ``(output, vjp_fn[, aux])`` with ``vjp_fn(v) = vᵀJ``.

    ``output = func(*primals)``; ``vjp_fn`` takes cotangents v shaped like the output (a tuple
    for a tuple output) and returns a tuple with one entry per primal,
    (vᵀ ∂f/∂primal_i)_i — one backward pass per call, reusing the recorded graph, never forming
    J. A primal may be a pytree (dict/tuple/list of tensors, e.g. a model's parameters); its
    entry is then the same pytree of gradients. Mirrors ``torch.func.vjp``.
    """
    flat = [leaf for p in primals for leaf in _tree_leaves(p)]
    _check_tensors(flat, "primals", "vjp")
    # an outer reverse-mode transform differentiates through us: keep our graph for it
    keep = any(p.requires_grad for p in flat)
    with enable_grad():
        lifted = [_lift(p) for p in flat]
        inputs = _unflatten(primals, lifted)
        output, aux = _call(func, inputs, has_aux, "vjp")
    outputs = _tree_leaves(output)   # the output may be a pytree, its cotangent the same pytree
    _check_tensors(outputs, "outputs", "vjp")

    def vjp_fn(cotangents):
        cot = _tree_leaves(cotangents)
        if len(cot) != len(outputs):
            raise ValueError(f"vjp: expected {len(outputs)} cotangents, got {len(cot)}")
        for c, o in zip(cot, outputs):
            if not isinstance(c, Tensor):
                raise TypeError(f"vjp: cotangents must be Tensors, got {type(c).__name__}")
            if tuple(c.shape) != tuple(o.shape):
                raise ValueError(f"vjp: cotangent of shape {tuple(c.shape)} for an output of shape "
                                 f"{tuple(o.shape)}")
        live = [(o, c) for o, c in zip(outputs, cot) if o.requires_grad]
        if not live:   # no output depends on the primals: vᵀJ = 0
            return _unflatten(primals, [_zeros(p) for p in flat])
        grads = _grad([o for o, _ in live], lifted, [c.to(o.dtype) for o, c in live],
                      retain_graph=True, create_graph=keep, allow_unused=True)
        return _unflatten(primals, [_detach(g, keep) if g is not None else _zeros(p)
                                    for g, p in zip(grads, flat)])

    out = _unflatten((output,), [_detach(o, keep) for o in outputs])[0]
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _unflatten(trees, leaves):
    """The tuple of pytrees shaped as ``trees`` whose leaves are ``leaves`` (in order)."""
    it = iter(leaves)
    return tuple(_tree_map(lambda _: next(it), t) for t in trees)


# ---------------------------------------------------------------------------- forward mode
def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """Forward mode: ``(func(*primals), J·tangents[, aux])`` in a single forward pass.

    Each primal becomes a dual tensor carrying its tangent u_i; every primitive's JVP rule pushes
    tangents forward with the values, so the output's tangent is Σ_i (∂f/∂primal_i)·u_i. No
    backward pass, no graph needed. Mirrors ``torch.func.jvp`` (primals and tangents: a tensor or
    tuples of equal length and shapes; a primal may be a pytree, its tangent then the same
    pytree; ``strict=True``: an output independent of the primals raises, instead of getting
    a zero tangent). Inside another forward-mode transform (``jacfwd(jacfwd(f))``) J·u is
    found by two reverse passes instead, since tangents here are first order.
    """
    primals, tangents = _tuple(primals), _tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    trees = primals   # each primal may be a pytree; its tangent has the same structure
    primals = [leaf for p in trees for leaf in _tree_leaves(p)]
    flat_tangents = [leaf for t in tangents for leaf in _tree_leaves(t)]
    _check_tensors(primals, "primals", "jvp")
    _check_tensors(flat_tangents, "tangents", "jvp")
    if [_structure(p) for p in trees] != [_structure(t) for t in tangents]:
        raise RuntimeError("jvp: Expected primals and tangents to have the same python "
                           "structure (the same nesting of tuples, lists and dicts)")
    tangents = flat_tangents
    for p, t in zip(primals, tangents):
        if tuple(p.shape) != tuple(t.shape):
            raise ValueError(f"jvp: tangent of shape {tuple(t.shape)} for a primal of shape {tuple(p.shape)}")
    if FORWARD.level is not None:   # jvp inside jvp (jacfwd(jacfwd(f))): tangents are first order
        return _jvp_by_double_vjp(func, trees, primals, tangents, has_aux, strict)
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(p, t.to(p.dtype)) for p, t in zip(primals, tangents)]
        output, aux = _call(func, _unflatten(trees, duals), has_aux, "jvp")
        outs = _tree_leaves(output)
        _check_tensors(outs, "outputs", "jvp")
        pairs = [forward_ad.unpack_dual(o) for o in outs]
        values = tuple(p.primal for p in pairs)
        if strict and any(p.tangent is None for p in pairs):
            raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is "
                               "independent of the inputs. This is not allowed with strict=True.")
        derivs = tuple(p.tangent if p.tangent is not None else _zeros(o) for p, o in zip(pairs, outs))
    values, derivs = _unflatten((output,), values)[0], _unflatten((output,), derivs)[0]
    return (values, derivs, aux) if has_aux else (values, derivs)


def _jvp_by_double_vjp(func, trees, primals, tangents, has_aux, strict=False):
    """J·u in reverse mode, for a jvp nested in another forward-mode transform: g(v) = vᵀJ is
    linear in the cotangent v, so J·u is the VJP of g with cotangent u (two backward passes).
    The outer level's tangents ride through both passes, as in forward-over-reverse."""
    keep = any(p.requires_grad for p in primals)
    with enable_grad():
        inputs = [_lift(p) for p in primals]
        output, aux = _call(func, _unflatten(trees, inputs), has_aux, "jvp")
        outs = _tree_leaves(output)
        _check_tensors(outs, "outputs", "jvp")
        cots = [_zeros(o).requires_grad_(True) for o in outs]
        live = [(o, v) for o, v in zip(outs, cots) if o.requires_grad]
        derivs = [None] * len(outs)
        if live:
            vjps = _grad([o for o, _ in live], inputs, [v for _, v in live], retain_graph=True,
                         create_graph=True, allow_unused=True)
            pairs = [(g, t) for g, t in zip(vjps, tangents) if g is not None and g.requires_grad]
            if pairs:
                derivs = _grad([g for g, _ in pairs], cots, [t.to(g.dtype) for g, t in pairs],
                               retain_graph=keep, create_graph=keep, allow_unused=True)
    if strict and not all(o.requires_grad for o in outs):
        raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is "
                           "independent of the inputs. This is not allowed with strict=True.")
    values = tuple(_detach(o, keep) for o in outs)
    derivs = tuple(_detach(d, keep) if d is not None else _zeros(o) for d, o in zip(derivs, outs))
    values, derivs = _unflatten((output,), values)[0], _unflatten((output,), derivs)[0]
    return (values, derivs, aux) if has_aux else (values, derivs)


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``: the value at the primals and the linear map u ↦ J·u there.

    ``jvp_fn(*tangents)`` returns J·tangents (the output's structure: a tensor or a tuple), for
    as many tangents as needed. Mirrors ``torch.func.linearize`` (primals: tensors; each
    tangent must have its primal's shape and dtype, else RuntimeError). Each ``jvp_fn`` call
    is one forward-mode pass of ``func`` at the primals (torch traces func once instead).
    """
    _check_tensors(primals, "primals", "linearize")
    output = func(*primals)
    specs = [(tuple(p.shape), p.dtype) for p in primals]

    def jvp_fn(*tangents):
        if len(tangents) != len(specs):
            raise RuntimeError(f"linearize: expected {len(specs)} tangents (one per primal), got "
                               f"{len(tangents)}")
        _check_tensors(tangents, "tangents", "linearize")
        for i, (t, (shape, dtype)) in enumerate(zip(tangents, specs)):
            if tuple(t.shape) != shape:
                raise RuntimeError(f"tangent:{i} with shape {tuple(t.shape)} doesn't match the "
                                   f"shape {shape} of the corresponding primal.")
            if t.dtype != dtype:
                raise RuntimeError(f"tangent:{i} with dtype {t.dtype} doesn't match the dtype "
                                   f"{dtype} of the corresponding primal.")
        return jvp(func, primals, tangents)[1]
    return output, jvp_fn


# ---------------------------------------------------------------------------- gradients
def grad_and_value(func, argnums=0, has_aux=False):
    """``grad_and_value(f)(*args)`` returns ``(∇f, f(args))`` for a scalar-valued f.

    ∇f = ∂f/∂args[argnums] = 1ᵀJ: one VJP with the cotangent 1, i.e. one backward pass for any
    number of parameters. ``argnums`` a tuple gives a tuple of gradients; with ``has_aux`` f
    returns ``(value, aux)`` and the result is ``(∇f, (value, aux))``; keyword arguments go to f
    undifferentiated. Mirrors torch.func.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):   # keyword arguments pass through, not differentiated
        nums = _argnums(argnums, len(args), "grad")
        keep = any(isinstance(a, Tensor) and a.requires_grad for a in _tree_leaves(args))
        with enable_grad():
            inputs = list(args)
            for i in nums:
                # an argument may be a pytree (tuple/list/dict of tensors, e.g. a model's
                # parameters for functional_call): each leaf is differentiated
                _check_tensors(_tree_leaves(args[i]), "differentiated arguments", "grad")
                inputs[i] = _tree_map(_lift, args[i])
            value, aux = _call(functools.partial(func, **kwargs) if kwargs else func, inputs,
                               has_aux, "grad")
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise RuntimeError(f"grad: f must return a scalar tensor, got "
                               f"{tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__}")
        wrt = [leaf for i in nums for leaf in _tree_leaves(inputs[i])]
        if value.requires_grad and wrt:
            grads = _grad(value, wrt, retain_graph=keep, create_graph=keep, allow_unused=True)
        else:
            grads = [None] * len(wrt)
        flat = iter([_detach(g, keep) if g is not None else _zeros(w) for g, w in zip(grads, wrt)])
        grads = tuple(_tree_map(lambda _: next(flat), inputs[i]) for i in nums)
        result = grads if isinstance(argnums, tuple) else grads[0]
        value = _detach(value, keep)
        return (result, (value, aux)) if has_aux else (result, value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``grad(f)(*args) = ∂f/∂args[argnums]`` for a scalar-valued f, by one reverse pass
    (``(∇f, aux)`` with ``has_aux``). Mirrors ``torch.func.grad``."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


# ---------------------------------------------------------------------------- Jacobians
def _basis(shape, dtype):
    """The standard basis e_0, e_1, … of a tensor space, one one-hot tensor at a time."""
    n = int(np.prod(shape))
    for k in range(n):
        e = np.zeros(n, dtype)
        e[k] = 1
        yield Tensor._make(e.reshape(shape))


def _assemble(outs, args, nums, block, argnums, output):
    """Jacobian blocks in torch.func's structure: per output (a tuple for a tuple output), per
    argnum (a tuple for a tuple argnums), each of shape output.shape + input.shape."""
    per_output = []
    for j, o in enumerate(outs):
        jac = tuple(block(j, o, a, args[i]) for a, i in enumerate(nums))
        per_output.append(jac if isinstance(argnums, tuple) else jac[0])
    return _unflatten((output,), per_output)[0]


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian by reverse mode: row i of J is e_iᵀJ, one VJP per output element (m
    backward passes over one recorded forward). Cheap when outputs are few; a scalar loss
    needs one pass. Result shape: output.shape + input.shape. Mirrors ``torch.func.jacrev``
    (``chunk_size``, how many rows torch's vmap computes at once, changes nothing here: the
    rows are computed one by one)."""
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args), "jacrev")
        res = vjp(_with_args(func, args, nums), *[args[i] for i in nums], has_aux=has_aux)
        output, vjp_fn = res[0], res[1]
        outs = _tree_leaves(output)
        rows = []   # rows[j][r] = the VJP of output j's r-th basis cotangent, per argnum
        for j, o in enumerate(outs):
            rows_j = []
            for e in _basis(tuple(o.shape), o._data.dtype):
                cot = [e if k == j else _zeros(q) for k, q in enumerate(outs)]
                rows_j.append(vjp_fn(_unflatten((output,), cot)[0]))
            rows.append(rows_j)

        def block(j, o, a, p):   # p may be a pytree: one block per leaf, in its structure
            index = iter(range(len(_tree_leaves(p))))

            def leaf_block(leaf, k):
                shape = tuple(o.shape) + tuple(leaf.shape)
                if not rows[j]:  # an empty output
                    return Tensor._make(np.zeros(shape, leaf._data.dtype))
                return stack([_tree_leaves(r[a])[k] for r in rows[j]]).reshape(shape)
            return _tree_map(lambda leaf: leaf_block(leaf, next(index)), p)
        result = _assemble(outs, args, nums, block, argnums, output)
        return (result, res[2]) if has_aux else result
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian by forward mode: column k of J is J·e_k, one JVP (one forward pass with
    tangents) per input element — n passes for n inputs, so a scalar loss of n parameters costs
    n forward passes where ``jacrev`` needs one. Cheap when inputs are few. Result shape:
    output.shape + input.shape. Mirrors ``torch.func.jacfwd`` (``randomness``: as vmap's)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums(argnums, len(args), "jacfwd")
        for i in nums:   # an argument may be a pytree: each leaf gets its own block
            _check_tensors(_tree_leaves(args[i]), "differentiated arguments", "jacfwd")
        partial = _with_args(func, args, nums)
        primals = tuple(args[i] for i in nums)
        leaves = [_tree_leaves(p) for p in primals]
        columns = {}   # (argnum position, leaf): the output tangents of each basis direction
        output = aux = None
        for a, k in [(a, k) for a, ls in enumerate(leaves) for k in range(len(ls))]:
            cols = columns[a, k] = []
            for e in _basis(tuple(leaves[a][k].shape), leaves[a][k]._data.dtype):
                tangents = tuple(_unflatten((p,), [e if (b, m) == (a, k) else _zeros(q)
                                                   for m, q in enumerate(leaves[b])])[0]
                                 for b, p in enumerate(primals))
                res = jvp(partial, primals, tangents, has_aux=has_aux)
                output, deriv = res[0], res[1]
                aux = res[2] if has_aux else None
                cols.append(_tree_leaves(deriv))
        if output is None:  # every differentiated argument is empty: no JVP ran
            output, aux = _call(func, args, has_aux, "jacfwd")
        outs = _tree_leaves(output)

        def block(j, o, a, p):
            index = iter(range(len(leaves[a])))

            def leaf_block(leaf, k):
                shape = tuple(o.shape) + tuple(leaf.shape)
                cols = columns[a, k]
                if not cols:
                    return Tensor._make(np.zeros(shape, leaf._data.dtype))
                return stack([c[j] for c in cols], dim=-1).reshape(shape)   # o.shape + (n,)
            return _tree_map(lambda leaf: leaf_block(leaf, next(index)), p)
        result = _assemble(outs, args, nums, block, argnums, output)
        return (result, aux) if has_aux else result
    return wrapper


# ---------------------------------------------------------------------------- second order
def hessian(func, argnums=0):
    """H = ∂²f/∂x² of a scalar f, by forward-over-reverse: jacfwd(jacrev(f)) — n JVPs, each
    pushing a tangent e_k through one forward and one backward pass, giving column H·e_k. Shape:
    input.shape + input.shape (nested tuples for tuple argnums). Mirrors ``torch.func.hessian``."""
    return jacfwd(jacrev(func, argnums), argnums)


def hvp(func, primals, tangents):
    """``(f(x), H·v)`` for a scalar f, by forward-over-reverse: H·v = J_{∇f}(x)·v is the JVP of
    the gradient along v — one forward pass with tangents plus one backward pass whose VJP ops
    carry tangents. Costs O(1) gradient evaluations and memory O(n); H (n×n) is never formed.
    ``primals``/``tangents``: a tensor or tuples; the result mirrors them."""
    primals, tangents = _tuple(primals), _tuple(tangents)
    single = len(primals) == 1
    gradient = grad_and_value(func, argnums=tuple(range(len(primals))))
    # grad_and_value returns (∇f, f): ∇f is differentiated, f rides along as aux
    _, hv, f_value = jvp(gradient, primals, tangents, has_aux=True)
    return f_value.detach(), hv[0] if single else hv


def vhp(func, primals, tangents):
    """``(f(x), vᵀH)`` for a scalar f, by reverse-over-reverse: vᵀH is the VJP of the gradient
    with cotangent v (one backward pass through a backward pass built with create_graph).
    H is never formed. For a symmetric H, vᵀH = (H·v)ᵀ."""
    primals, tangents = _tuple(primals), _tuple(tangents)
    single = len(primals) == 1
    gradient = grad_and_value(func, argnums=tuple(range(len(primals))))
    _, fn, f_value = vjp(gradient, *primals, has_aux=True)
    vh = fn(tangents)
    return f_value.detach(), vh[0] if single else vh


# ---------------------------------------------------------------------------- batching
def _tree_leaves(x):
    """The leaves of a pytree of tuples, lists and dicts, in ``_tree_map``'s order."""
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in _tree_leaves(v)]
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _tree_leaves(v)]
    return [x]


def _structure(x):
    """A pytree's nesting with its leaves blanked: equal for trees that match."""
    return _tree_map(lambda _: None, x)


def _tree_map(fn, x):
    if isinstance(x, (tuple, list)):
        return type(x)(_tree_map(fn, v) for v in x)
    if isinstance(x, dict):
        return {k: _tree_map(fn, v) for k, v in x.items()}
    return fn(x)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dim of its inputs (torch.func.vmap's interface): ``in_dims`` says
    which dim of each argument is the batch (None: not batched; a tuple: one per argument),
    ``out_dims`` where the batch dim goes in the outputs; keyword arguments go to ``func``
    unbatched.

    chainrule runs ``func`` once per batch element and stacks the results (NumPy has no
    batching rules), so it is as fast as a Python loop — the semantics are torch's, the speed
    is not; every op inside stays differentiable. ``randomness`` is accepted as 'error',
    'different' or 'same'; only 'different' (independent draws per element) is what a loop
    gives, and random ops under 'error' are not detected.
    """
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got "
                         f"{randomness!r}")

    @functools.wraps(func)
    def batched(*args, **kwargs):   # keyword arguments pass through, not batched
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims is not compatible with the structure of inputs: "
                             f"{len(dims)} in_dims for {len(args)} arguments")
        sizes = set()

        def size_of(x, d):
            if d is not None and not isinstance(x, Tensor):
                raise ValueError(f"vmap: Got in_dim={d} for an input but the input is of type "
                                 f"{type(x).__name__}. We cannot vmap over non-Tensor arguments, "
                                 f"please use None as the respective in_dim")
            if d is not None:
                if isinstance(d, bool) or not isinstance(d, int):
                    raise ValueError(f"vmap: expected `in_dims` to be int or a tuple matching the "
                                     f"structure of inputs, got {type(d).__name__}")
                if not -max(x.ndim, 1) <= d < max(x.ndim, 1) or x.ndim == 0:
                    raise ValueError(f"vmap: Got in_dim={d} for an input, but that input is a "
                                     f"Tensor of dimensionality {x.ndim} so expected in_dim to "
                                     f"satisfy -{x.ndim} <= in_dim < {x.ndim}")
                sizes.add(x.shape[d])
        for x, d in zip(args, dims):
            _tree_map(lambda v: size_of(v, d), x)
        if len(sizes) != 1:
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sorted(sizes)}" if sizes else
                             "vmap: at least one input must be batched (in_dims not all None)")
        n = sizes.pop()
        outs = []
        for i in range(n):
            sliced = [x if d is None else _tree_map(
                lambda v, d=d: v.select(d, i) if isinstance(v, Tensor) else v, x)
                for x, d in zip(args, dims)]
            outs.append(func(*sliced, **kwargs))
        first = outs[0]

        def tensor_leaf(v):
            if not isinstance(v, Tensor):
                raise ValueError(f"vmap: {getattr(func, '__name__', 'func')} must only return "
                                 f"Tensors, got type {type(v).__name__}")
        _tree_map(tensor_leaf, first)
        if isinstance(first, tuple):
            od = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
            return tuple(_tree_stack([o[k] for o in outs], od[k]) for k in range(len(first)))
        return _tree_stack(outs, out_dims)
    return batched


def _tree_stack(outs, dim):
    """Per-element results stacked leaf by leaf (a dict of gradients stacks per key)."""
    first = outs[0]
    if isinstance(first, dict):
        return {k: _tree_stack([o[k] for o in outs], dim) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_tree_stack([o[k] for o in outs], dim) for k in range(len(first)))
    return stack(outs, dim)
