"""Reverse-mode differentiation: backpropagation as a chain of vector-Jacobian products.

Starting from the loss, each node receives ∂L/∂(its output), applies its VJP rule and passes
∂L/∂(its inputs) on to the nodes that produced them. No Jacobian is ever built: each step is a
vector times a Jacobian, whose cost is about that of the forward op. A node runs once all of
its consumers have delivered their gradients (Kahn's algorithm on the graph, iterative, so a
chain of 100,000 ops needs no recursion).
"""
from __future__ import annotations

import contextlib
import heapq
import warnings

import numpy as np

from . import _graph, _memory_format
from ._graph import AccumulateGrad, _edge
from ._modes import FORWARD, STATE, TRACE, attach_tangent, trace_paused
from ._tensor_base import TensorBase
from .backends import onednn
from .backends.fpstate import quiet


def as_tuple(x):
    """A tensor or any iterable of them (a list, ``params.values()``, a generator) as a tuple,
    as torch's autograd takes them."""
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(x)
    if isinstance(x, TensorBase) or not hasattr(x, "__iter__") or isinstance(x, (str, bytes, dict)):
        return (x,)
    return tuple(x)


def _initial_grads(outputs, grad_outputs, op):
    grad_outputs = as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{op}: got {len(outputs)} outputs but {len(grad_outputs)} gradients")
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, TensorBase):
            raise TypeError(f"{op}: outputs must be Tensors, got {type(out).__name__}")
        if out._base_fn is not None and out._base.grad_fn is not out._base_fn:
            prev, STATE.grad_enabled = STATE.grad_enabled, True
            try:                   # a view of a base changed in place: its history afresh
                _graph.rebase_view(out)
            finally:
                STATE.grad_enabled = prev
        if not out.requires_grad:
            raise RuntimeError(
                f"{op}: element {i} of tensors does not require grad and does not have a grad_fn. "
                "Create the leaves with requires_grad=True (or call .requires_grad_()) and do not "
                "compute the loss under no_grad().")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but the output "
                    f"has shape {tuple(out.shape)}. Pass gradient= (a tensor of that shape), or "
                    "reduce the output first, e.g. out.sum().backward().")
            one = np.empty(out._data.shape, out._data.dtype)   # np.ones without its wrapper
            one.fill(1)
            g = out._make(one, False)
            if TRACE.recorder is not None:   # the implicit ∂L/∂L = 1: a capture records ones
                TRACE.recorder.implicit_seed(g)
        elif not isinstance(g, TensorBase):
            g = out._make(np.asarray(g, dtype=out._data.dtype), False)
        if g._data.shape != out._data.shape:
            raise RuntimeError(f"{op}: gradient has shape {tuple(g.shape)} but the output has "
                               f"shape {tuple(out.shape)}")
        if g._data.dtype != out._data.dtype:   # torch casts the seed to the output's dtype
            g = g.to(out.dtype)
        node = _edge(out)
        roots.append((node, g))
    return roots


def _topological_order(roots):
    """Nodes reachable from ``roots``, each listed after every node that feeds it a gradient."""
    dependencies = {}
    stack = [n for n in roots]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for nxt in node._next:
            if nxt is None:
                continue
            dependencies[nxt] = dependencies.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen, dependencies


def _nodes_leading_to(seen, targets):
    """The subset of ``seen`` from which some node of ``targets`` can be reached."""
    needed = set()
    order = []  # post-order: a node after all of its next_functions
    visited = set()
    for start in seen:
        if start in visited:
            continue
        stack = [(start, iter(start._next))]
        visited.add(start)
        while stack:
            node, it = stack[-1]
            advanced = False
            for nxt in it:
                if nxt is not None and nxt not in visited:
                    visited.add(nxt)
                    stack.append((nxt, iter(nxt._next)))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                order.append(node)
    for node in order:
        if node in targets or any(n in needed for n in node._next if n is not None):
            needed.add(node)
    return needed


def _check_nan(node, grads):
    """Anomaly mode: name the node whose backward produced nan (torch's message)."""
    for i, g in enumerate(grads):
        data = getattr(g, "_data", g)
        if data is not None and np.asarray(data).dtype.kind == "f" and np.isnan(data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


_final_callbacks = []   # one list per backward pass in progress (a hook may start another)


class _ExecutionEngine:
    """``torch.autograd.Variable._execution_engine``: ``queue_callback(fn)`` asks the backward
    pass in progress to call ``fn()`` once it has finished, after every gradient is accumulated
    and before ``backward()`` returns (DistributedDataParallel waits for its all-reduces there).
    Callbacks run in the order queued; one may queue another."""

    def queue_callback(self, callback):
        if not _final_callbacks:
            raise RuntimeError("Final callbacks can only be installed during backward pass.")
        _final_callbacks[-1].append(callback)


execution_engine = _ExecutionEngine()


def run_backward(roots, retain_graph, create_graph, targets=None):
    """Propagate gradients from ``roots`` [(node, grad)]. Accumulate into leaves' ``.grad``, or,
    when ``targets`` (a set of nodes) is given, return {node: gradient} for those nodes instead.
    The rules run with IEEE results and no NumPy warnings (d log x at 0 = inf), as torch. Then
    the callbacks queued during the pass run (``_ExecutionEngine.queue_callback``)."""
    if TRACE.recorder is not None:   # a graph capture records the pass as one instruction
        TRACE.recorder.backward(roots, retain_graph, create_graph, targets)
        with trace_paused():
            return run_backward(roots, retain_graph, create_graph, targets)
    with final_callbacks():
        with quiet():
            return _run_backward(roots, retain_graph, create_graph, targets)


@contextlib.contextmanager
def final_callbacks():
    """The scope of one backward pass for ``queue_callback``: the callbacks queued inside run
    at its end, in order (a callback may queue more); ``Tensor.backward(inputs=...)`` wraps
    its accumulation in one too, so that they run after its post-accumulate hooks."""
    callbacks = []
    _final_callbacks.append(callbacks)
    try:
        yield
        i = 0
        while i < len(callbacks):
            callbacks[i]()
            i += 1
    finally:
        _final_callbacks.pop()


def run_post_accumulate_hooks(leaf):
    """``hook(leaf)`` for each hook of ``Tensor.register_post_accumulate_grad_hook``, after
    ``leaf.grad`` holds the accumulated gradient."""
    for hook in tuple(leaf._post_acc_hooks):
        out = hook(leaf)
        if out is not None:   # torch's types: RuntimeError for a Tensor, TypeError otherwise
            name = getattr(hook, "__name__", type(hook).__name__)
            err = RuntimeError if isinstance(out, TensorBase) else TypeError
            raise err(f"Tensor post accumulate grad hooks should return None: hook '{name}' "
                      f"returned {type(out).__name__} (it may change .grad in place instead)")


def _run_backward(roots, retain_graph, create_graph, targets):
    seen, dependencies = _topological_order([n for n, _ in roots])
    needed = _nodes_leading_to(seen, targets) if targets is not None else None
    pending = {}
    for node, g in roots:
        pending[node] = pending[node] + g if node in pending else g
    ready = [(-n.sequence_nr, id(n), n) for n in pending if dependencies.get(n, 0) == 0]
    heapq.heapify(ready)
    heappop, heappush = heapq.heappop, heapq.heappush
    captured = {}
    direct_to_leaves = targets is None
    on_arrays = not create_graph and not FORWARD.active
    pieces = {}     # input node -> (its pending buffer, the regions written into it)
    prev_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph
    try:
        while ready:
            node = heappop(ready)[2]
            if pieces and node in pieces:
                _complete(pieces.pop(node))
            grad = pending.pop(node)
            if node._pre_hooks:
                for hook in node._pre_hooks:
                    grad = _run_hook(hook, grad)
                grad._unshared = False   # a hook may keep the gradient it was shown
            if targets is not None and node in targets:
                captured[node] = grad
            if isinstance(node, AccumulateGrad):
                if targets is None:
                    _accumulate(node.variable, grad, create_graph, adopt=not node._pre_hooks)
                continue
            if needed is not None and node not in needed:
                continue
            if (node.writes_key and on_arrays and not node._post_hooks and not STATE.anomaly
                    and _write_piece(pending, pieces, node, grad)):
                input_grads = (None,)   # written into the input's pending gradient
            else:
                input_grads = node._run_backward(grad)
            if STATE.anomaly:
                _check_nan(node, input_grads)
            if node._post_hooks:
                input_grads = _run_post_hooks(node, input_grads, grad)
            for nxt, g in zip(node._next, input_grads):
                if nxt is None:
                    continue
                if g is not None:
                    if nxt in pending:
                        if pieces and nxt in pieces:
                            _complete(pieces.pop(nxt))
                        pending[nxt] = _add_grads(pending[nxt], g, create_graph)
                    else:
                        pending[nxt] = g
                left = dependencies[nxt] - 1
                dependencies[nxt] = left
                if left == 0:
                    if nxt not in pending:  # no gradient reached it: release its subgraph too
                        _skip(nxt, dependencies, pending, ready)
                    elif direct_to_leaves and type(nxt) is AccumulateGrad and not nxt._pre_hooks:
                        # a leaf's gradient is complete: add it to .grad now (torch also runs
                        # AccumulateGrad first), without a round trip through the heap
                        if pieces and nxt in pieces:
                            _complete(pieces.pop(nxt))
                        g = pending.pop(nxt)
                        _accumulate(nxt.variable, g, create_graph, adopt=True)
                    else:
                        heappush(ready, (-nxt.sequence_nr, id(nxt), nxt))
            if not retain_graph:
                node._release()
    finally:
        STATE.grad_enabled = prev_mode
    return captured


def _region(key, shape):
    """``(dim, start, stop)`` when the basic index ``key`` selects start:stop along one dim and
    all of every other dim (a piece of split, chunk or unbind), else None."""
    if type(key) is not tuple or len(key) > len(shape):
        return None
    region = None
    for d, k in enumerate(key):
        if type(k) is slice:
            if k == _ALL:
                continue
            start, stop, step = k.indices(shape[d])
            if step != 1:
                return None
        elif type(k) is int:
            start = k + shape[d] if k < 0 else k
            stop = start + 1
        else:
            return None
        if region is not None:
            return None
        region = (d, start, max(start, stop))
    return region


_ALL = slice(None)


def _write_piece(pending, pieces, node, grad):
    """The gradient of a piece of an input (``node.writes_key``: a view x[key] that selects one
    range along one dim) written straight into the input's pending gradient, a buffer the first
    piece allocates and ``_complete`` zero-fills where no piece wrote, once the input's
    gradient is complete or another gradient is added to it; False when the gradient has to take
    the ordinary path (an overlap, another dtype, a dense gradient already pending).
    Why: split's transpose made a zero array of the input's shape per piece and the engine
    added them up — for a (16, 128, 384) float32 input in three pieces, with .grad accumulated,
    1451 µs against torch's 309-329, now ~590 (one buffer written piecewise, ~100 µs less than
    a zero-filled one; NumPy copies the pieces on one core). It is also torch's value, which
    concatenates the pieces' gradients: the sum turned a −0.0 of a piece's gradient into +0.0."""
    region = _region(node.key, node.in_shapes[0])
    if region is None:
        return False
    nxt, g = node._next[0], grad._data
    acc = pending.get(nxt)
    if acc is None:
        buf = np.empty(node.in_shapes[0], g.dtype)
        buf[node.key] = g
        acc = pending[nxt] = grad._make(buf)
        acc._unshared = True
        pieces[nxt] = (acc, [region])
        return True
    entry = pieces.get(nxt)
    if entry is None:
        return False
    d, start, stop = region
    fits = acc._data.dtype == g.dtype
    for r in entry[1]:
        if r[0] != d or (start < r[2] and r[1] < stop):
            fits = False
            break
    if not fits:   # the ordinary path adds this gradient to the buffer: complete it first
        _complete(pieces.pop(nxt))
        return False
    acc._data[node.key] = g
    entry[1].append(region)
    return True


def _complete(entry):
    """Zero the parts of a pieces buffer (``_write_piece``) that no piece wrote."""
    acc, regions = entry
    buf = acc._data
    d, at = regions[0][0], 0
    for _, start, stop in sorted(regions, key=lambda r: r[1]):
        if start > at:
            buf[(_ALL,) * d + (slice(at, start),)] = 0
        at = max(at, stop)
    if at < buf.shape[d]:
        buf[(_ALL,) * d + (slice(at, None),)] = 0


def _run_hook(hook, grad):
    """``hook(grad)``: a returned Tensor replaces the gradient, and must keep its shape and dtype."""
    new = hook(grad)
    if new is None:
        return grad
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(new, TensorBase):
        raise TypeError(f"hook '{name}' returned {type(new).__name__}; expected a Tensor or None")
    if new._data.shape != grad._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: expected "
                           f"{tuple(grad.shape)}, got {tuple(new.shape)}")
    if new._data.dtype != grad._data.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.dtype} got "
                           f"{new.dtype})")
    return new


def _run_post_hooks(node, input_grads, grad):
    """torch's Node hooks: hook(grad_inputs, grad_outputs) may return new grad_inputs."""
    for g in input_grads:
        if g is not None:
            g._unshared = False   # a hook may keep the gradients it was shown
    for hook in node._post_hooks:
        new = hook(tuple(input_grads), (grad,))
        if new is not None:
            new = as_tuple(new)
            if len(new) != len(input_grads):
                raise RuntimeError(f"hook on {node.name()} returned {len(new)} gradients, "
                                   f"expected {len(input_grads)}")
            input_grads = list(new)
    return input_grads


def _add_grads(a, b, create_graph):
    """Sum two gradients reaching the same node; a plain backward adds the arrays directly."""
    if (create_graph or FORWARD.active  # forward-over-reverse: the sum carries tangents
            or a._data.dtype != b._data.dtype or a._data.shape != b._data.shape):
        return a + b
    x, y = a._data, b._data
    return a._make(onednn.add(x, y) if onednn.parallel_supported(x, y) else x + y)


def _skip(node, dependencies, pending, ready):
    """A node that got no gradient at all still unblocks the nodes it feeds."""
    stack = [node]
    while stack:
        n = stack.pop()
        for nxt in n._next:
            if nxt is None:
                continue
            dependencies[nxt] -= 1
            if dependencies[nxt] == 0:
                if nxt in pending:
                    heapq.heappush(ready, (-nxt.sequence_nr, id(nxt), nxt))
                else:
                    stack.append(nxt)


def _accumulate(leaf, grad, create_graph, adopt=False):
    if leaf._hooks:
        adopt = False   # a hook may keep the gradient it was shown
        for hook in leaf._hooks:
            grad = _run_hook(hook, grad)
    if leaf.grad is None:
        if create_graph:
            leaf.grad = grad
        elif adopt and grad._unshared and grad._data.strides == leaf._data.strides:
            # nobody else holds it, and it lies as the leaf does: no copy needed
            grad._unshared = False
            leaf.grad = grad
        else:
            # copy: the same gradient array may also flow elsewhere, and .grad is accumulated
            # in place; laid out as the leaf (a channels-last weight or input gets a
            # channels-last .grad, as torch's AccumulateGrad)
            layout = _memory_format.suggested(leaf._data)
            leaf.grad = grad._make(_memory_format.copy(grad._data, layout))
    elif create_graph:
        leaf.grad = leaf.grad + grad
    else:
        acc, x = leaf.grad._data, grad._data
        # large ones on the threads, as torch's (3 MB: 110 vs 230 µs); the size first, as a
        # compiled step's small gradients pay one comparison
        if acc.size >= onednn.ELEMENTWISE_MIN and onednn.parallel_supported(acc, x):
            onednn.add(acc, x, out=acc)
        else:
            np.add(acc, x, out=acc, casting="unsafe")
    if leaf._post_acc_hooks:
        run_post_accumulate_hooks(leaf)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Compute the gradient of ``tensors`` w.r.t. the graph's leaves and add it to their ``.grad``
    (``torch.autograd.backward``)."""
    outputs = as_tuple(tensors)
    roots = _initial_grads(outputs, grad_tensors, "backward")
    retain_graph = create_graph if retain_graph is None else retain_graph
    run_backward(roots, retain_graph, create_graph)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``grad`` with ``is_grads_batched=True``: the first dim of every grad_output indexes
    independent VJPs (torch runs them under vmap; here one backward each), stacked."""
    from .ops.shape import stack
    if grad_outputs is None:
        raise RuntimeError("autograd.grad: is_grads_batched=True needs grad_outputs with a "
                           "leading batch dimension")
    batched = as_tuple(grad_outputs)
    n = batched[0].shape[0]
    if any(g.shape[0] != n for g in batched):
        raise RuntimeError("autograd.grad: is_grads_batched=True: every grad_output must have "
                           f"the same batch size, got {[g.shape[0] for g in batched]}")
    rows = [grad(outputs, inputs, tuple(g[i] for g in batched),
                 retain_graph=True if i < n - 1 else retain_graph, create_graph=create_graph,
                 allow_unused=allow_unused, materialize_grads=materialize_grads)
            for i in range(n)]
    return tuple(None if column[0] is None else stack(column) for column in zip(*rows))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return ``(∂out/∂input for input in inputs)`` without touching any ``.grad``.

    outputs: Tensor or sequence; inputs: Tensor or sequence of Tensors that require grad;
    grad_outputs: the vectors v of the VJPs vᵀJ (default ones for scalar outputs). With
    ``create_graph=True`` the result is itself differentiable (for higher derivatives).
    An input the outputs do not depend on raises, or with ``allow_unused=True`` gets None, or
    with ``materialize_grads=True`` zeros of its shape. ``only_inputs`` is torch's deprecated
    argument, ignored with its warning (only the inputs' gradients are ever computed).
    """
    if only_inputs is not True:
        warnings.warn("autograd.grad: only_inputs is deprecated and ignored (only the inputs' "
                      "gradients are computed); autograd.backward accumulates into other "
                      "leaves", FutureWarning, stacklevel=2)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    allow_unused = bool(allow_unused) or materialize_grads
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    outputs, inputs = as_tuple(outputs), as_tuple(inputs)
    roots = _initial_grads(outputs, grad_outputs, "autograd.grad")
    target_nodes = []
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad; every input must "
                               "be a Tensor with requires_grad=True that the outputs depend on")
        target_nodes.append(_edge(t))
    retain_graph = create_graph if retain_graph is None else retain_graph
    captured = run_backward(roots, retain_graph, create_graph, targets=set(target_nodes))
    result = []
    for i, (t, node) in enumerate(zip(inputs, target_nodes)):
        g = captured.get(node)
        if g is None and not allow_unused:
            raise RuntimeError(f"autograd.grad: input {i} appears not to have been used in the "
                               "graph. Pass allow_unused=True if this is intended.")
        if g is None and materialize_grads:
            g = t._make(np.zeros_like(t._data))
        if g is not None and not create_graph:
            tangent = g._fw_tangent   # forward-over-reverse: the gradient keeps its tangent
            g = g.detach()
            if tangent is not None:
                attach_tangent(g, tangent)   # dropped with the dual level, like any tangent
        result.append(g)
    return tuple(result)

