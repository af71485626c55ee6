"""Activation checkpointing (``torch.utils.checkpoint``): trade compute for memory by not
keeping a segment's intermediate activations for the backward pass and recomputing them when
the gradient reaches the segment.

``checkpoint(fn, *args)`` returns ``fn(*args)``; its backward recomputes ``fn`` (with the random
state it first ran with, so dropout draws the same masks) and differentiates the recomputed
graph. Only the inputs, the outputs and the random state stay alive between forward and backward.

* ``use_reentrant=True`` (torch's default, with a warning when not given): the gradient flows
  to the tensor arguments; parameters used inside get theirs from a nested backward pass into
  their ``.grad``, so at least one argument must require grad (else a warning, and no gradients
  at all), and ``autograd.grad`` cannot see through the segment.
* ``use_reentrant=False``: the segment is an ordinary part of the graph — parameters and
  arguments get their gradients through it, whether or not an argument requires grad, and
  ``autograd.grad`` works. The leaves the segment reads are found from one recorded forward,
  whose graph is then dropped.
"""
from __future__ import annotations

import contextlib
import warnings

from .. import _backprop
from .._graph import AccumulateGrad, _sequence
from .._modes import STATE, enable_grad, no_grad
from .._rng import DEFAULT
from ..autograd.function import Function
from ..ops import cat
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def noop_context_fn():
    """The default ``context_fn``: no context around the forward and the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


_REENTRANT_WARNING = ("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Starting in PyTorch 2.9, calling checkpoint without use_reentrant "
                      "will raise an exception. use_reentrant=False is recommended, but if you need "
                      "to preserve the current default behavior, you can pass use_reentrant=True. "
                      "Refer to docs for more details on the differences between the two variants.")


class _Segment:
    """What the backward pass needs: the function, the arguments, the random state."""

    def __init__(self, function, args, kwargs, preserve, context_fn):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.context_fn = context_fn
        self.rng = DEFAULT.clone() if preserve else None
        self.structure = None        # per output: ("packed", shape, offset) or ("plain", value)

    def run(self, args):
        _, recompute_context = self.context_fn()
        with recompute_context:
            return self.function(*args, **self.kwargs)

    @contextlib.contextmanager
    def replay_rng(self):
        """The random state of the first run, and afterwards the state of now."""
        if self.rng is None:
            yield
            return
        now = DEFAULT.clone()
        _copy_stream(self.rng.clone(), DEFAULT)
        try:
            yield
        finally:
            _copy_stream(now, DEFAULT)

    def pack(self, out):
        """The differentiable outputs flattened into one tensor (a Function has one output);
        other outputs are kept aside. Returns (packed or None, single)."""
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        pieces, structure, offset, dtype = [], [], 0, None
        for o in outs:
            if isinstance(o, Tensor) and o.is_floating_point() and (dtype is None or o.dtype == dtype):
                dtype = o.dtype
                pieces.append(o.detach().reshape(-1))
                structure.append(("packed", tuple(o.shape), offset))
                offset += o.numel()
            else:
                structure.append(("plain", o.detach() if isinstance(o, Tensor) else o))
        self.structure, self.single = structure, single
        return (cat(pieces) if pieces else None)

    def unpack(self, packed):
        outs = []
        for entry in self.structure:
            if entry[0] == "packed":
                _, shape, offset = entry
                n = 1
                for s in shape:
                    n *= s
                outs.append(packed[offset:offset + n].reshape(shape))
            else:
                outs.append(entry[1])
        return outs[0] if self.single else tuple(outs)

    def differentiable(self, out):
        outs = (out,) if not isinstance(out, tuple) else out
        return [o for o, e in zip(outs, self.structure) if e[0] == "packed"]


def _copy_stream(src, dst):
    for slot in type(dst).__slots__:
        setattr(dst, slot, getattr(src, slot))


class _CheckpointFunction(Function):
    """The segment as one node: forward hands back the outputs computed without a graph;
    backward recomputes the segment with a graph and differentiates it."""

    @staticmethod
    def forward(ctx, segment, reentrant, n_args, *tensors):
        ctx.segment, ctx.reentrant, ctx.n_args = segment, reentrant, n_args
        return segment.packed

    @staticmethod
    def backward(ctx, grad):
        segment = ctx.segment
        args = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
                for a in segment.args]
        with segment.replay_rng(), enable_grad():
            out = segment.run(args)
        outs = segment.differentiable(out)
        grads = [grad[e[2]:e[2] + o.numel()].reshape(o.shape)
                 for o, e in zip(outs, [e for e in segment.structure if e[0] == "packed"])]
        pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
        arg_tensors = [a for a in args if isinstance(a, Tensor)]
        if ctx.reentrant:
            # torch's reentrant checkpoint: a nested backward fills the parameters' .grad
            if pairs:
                _backprop.backward([o for o, _ in pairs], [g for _, g in pairs])
            arg_grads = [a.grad if a.requires_grad else None for a in arg_tensors]
            return (None, None, None) + tuple(arg_grads)
        leaves = segment.leaves
        wrt = [a for a in arg_tensors if a.requires_grad] + list(leaves)
        found = _backprop.grad([o for o, _ in pairs], wrt, [g for _, g in pairs],
                               allow_unused=True) if pairs and wrt else [None] * len(wrt)
        found = iter(found)
        arg_grads = [next(found) if a.requires_grad else None for a in arg_tensors]
        return (None, None, None) + tuple(arg_grads) + tuple(found)


def _leaves_of(outputs, first_node, own):
    """The leaf tensors requiring grad that ``outputs`` were computed from within this segment
    (but the segment's own detached arguments ``own``), or None when the segment also reads
    non-leaf tensors of an enclosing graph (then it cannot be cut out and recomputed alone)."""
    own = {id(t) for t in own}
    leaves, seen, stack = {}, set(), [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            if id(node.variable) not in own:
                leaves[id(node.variable)] = node.variable
            continue
        if getattr(node, "sequence_nr", first_node) < first_node:
            return None
        stack.extend(node._next)
    return list(leaves.values())


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)``, with its activations recomputed during backward instead
    of kept (see the module docstring for the two modes).

    Args:
        function: the segment to run.
        args: its arguments (tensors and other values).
        use_reentrant (bool): torch's two implementations; None means True, with a warning.
        context_fn: returns two context managers, for the forward run and the recomputation
            (``use_reentrant=False`` only).
        preserve_rng_state (bool, keyword): recompute with the random state of the first run
            (default True), so dropout masks agree.
        determinism_check, debug, early_stop: accepted as torch's.
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if not STATE.grad_enabled:
        return function(*args, **kwargs)
    segment = _Segment(function, args, kwargs, preserve, context_fn)
    tensors = [a for a in args if isinstance(a, Tensor)]
    if use_reentrant:
        if not any(t.requires_grad for t in tensors):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        with no_grad():
            out = segment.run(list(args))
        leaves = []
    else:
        # one recorded run on detached arguments finds the leaves (parameters) the segment
        # reads; its graph is dropped once the outputs' values are taken
        forward_context, _ = context_fn()
        first = _next_sequence_nr()
        own = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
               for a in args]
        with forward_context:
            out = function(*own, **kwargs)
        outs = (out,) if not isinstance(out, tuple) else out
        leaves = _leaves_of([o for o in outs if isinstance(o, Tensor)], first,
                            [a for a in own if isinstance(a, Tensor)])
        if leaves is None:       # reads an enclosing graph's non-leaf tensors: run it plainly
            with segment.replay_rng():
                return function(*args, **kwargs)
    segment.leaves = leaves
    segment.packed = segment.pack(out)
    if segment.packed is None:
        return out
    packed = _CheckpointFunction.apply(segment, use_reentrant, len(tensors), *tensors, *leaves)
    return segment.unpack(packed)


def _next_sequence_nr():
    """The sequence number the next recorded node will get (nodes of the segment have it or
    later ones; the enclosing graph's nodes earlier ones)."""
    n = next(_sequence)
    return n + 1


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or a list of modules/functions) on ``input`` in
    ``segments`` chunks, checkpointing all chunks but the last."""
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    if hasattr(functions, "children") and callable(functions.children):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
