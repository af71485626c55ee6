"""The computational graph's nodes.

A :class:`Node` is one recorded primitive. Subclasses define, side by side:

* ``forward(*arrays) -> array`` on raw NumPy arrays (may stash non-tensor facts on ``self``);
* ``backward(grad) -> tuple`` — the vector-Jacobian product (VJP): given ∂L/∂out, return
  ∂L/∂input_i = gradᵀ J_i for each input (``None`` where not needed). It is written with
  chainrule's own differentiable ops on Tensors, so ``create_graph=True`` differentiates the
  backward pass itself and higher derivatives come for free;
* ``jvp(*tangents) -> Tensor`` — the Jacobian-vector product for forward mode:
  ṫ_out = Σ_i J_i ṫ_i (a tangent of ``None`` means zero).

Inside ``backward``/``jvp``, ``self.inputs`` holds the input Tensors and ``self.output`` the
output Tensor (when the class sets ``save_output``). ``self.needs_input_grad[i]`` says
whether input i needs a gradient.

A few hot VJP rules also compute straight on the arrays when :func:`plain_backward` is true (a
backward that records no graph and carries no forward-mode tangents): the same arithmetic
without one Tensor dispatch per op, which dominates the cost of small ops.
"""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from . import forward_ad as _fw
from .grad_mode import STATE

_sequence = itertools.count()


class Node:
    """One primitive recorded in the graph; see the module docstring."""

    save_inputs = True   # keep the input Tensors for backward (False when the VJP needs only shapes)
    save_output = False  # keep the output array; ``self.output`` rebuilds a Tensor around it
    is_view = False      # output shares memory (and the in-place version counter) with input 0

    inputs = None
    needs_input_grad = ()
    next_functions = ()
    _pre_hooks = None
    _released = False
    _out = None
    _out_tangent = None
    _saved_versions = None

    def forward(self, *arrays):  # abstract: every primitive defines it
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):  # abstract: every differentiable primitive defines it
        raise NotImplementedError(f"{type(self).__name__} has no backward (VJP) rule")

    def jvp(self, *tangents):  # abstract: every primitive with forward-mode support defines it
        raise NotImplementedError(f"{type(self).__name__} has no forward-mode (JVP) rule")

    # ------------------------------------------------------------------ recording
    @classmethod
    def apply(cls, *inputs, **params):
        """Run the primitive on Tensors ``inputs``; record a node when a gradient may be needed."""
        # This runs for every op (and for every op inside a VJP), so it is kept lean: no
        # generator expressions, Tensor._make inlined, the recording work only when recording.
        node = _new(cls)
        if params:
            node.__dict__.update(params)
        n = len(inputs)
        if n == 1:
            out = node.forward(inputs[0]._data)
        elif n == 2:
            out = node.forward(inputs[0]._data, inputs[1]._data)
        else:
            out = node.forward(*[t._data for t in inputs])
        result = _new(Tensor)
        result._data = out if type(out) is _ndarray else _asarray(out)
        record = False
        if STATE.grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    record = True
                    break
        if cls.is_view:
            src = inputs[0]
            result._version_box = src._version_box
            result._base = src if src._base is None else src._base
        else:
            result._version_box = [0]
        if record:
            result.requires_grad = True
            if n == 2:   # unrolled for the common arities (a list comprehension is a call)
                a, b = inputs
                node.needs_input_grad = (a.requires_grad, b.requires_grad)
                node.next_functions = (a.grad_fn or _edge(a), b.grad_fn or _edge(b))
            elif n == 1:
                a = inputs[0]
                node.needs_input_grad = (True,)
                node.next_functions = (a.grad_fn or _edge(a),)
            else:
                node.needs_input_grad = tuple([t.requires_grad for t in inputs])
                node.next_functions = tuple([t.grad_fn or _edge(t) for t in inputs])
            node.sequence_nr = next(_sequence)
            node.out_shape = result._data.shape
            result.grad_fn = node
        if _fw.STATE.active:
            _forward_tangent(node, inputs, result)
        if record:
            if cls.save_inputs:
                node.inputs = inputs
                node._saved_versions = (
                    (inputs[0]._version_box[0],) if n == 1 else
                    (inputs[0]._version_box[0], inputs[1]._version_box[0]) if n == 2 else
                    tuple([t._version_box[0] for t in inputs]))
            else:
                node.inputs = None
            if cls.save_output:
                node._out = result._data
                node._out_version = (result._version_box, result._version_box[0])
            else:
                node._out = None
        return result

    @property
    def output(self):
        """The output as a Tensor whose grad_fn is this node when the node is recorded (so the VJP
        and JVP rules are themselves differentiable)."""
        recorded = bool(self.next_functions)
        t = Tensor._make(self._out, recorded)
        if recorded:
            t.grad_fn = self
        if self._out_tangent is not None:
            _fw.attach_tangent(t, self._out_tangent)
        return t

    # ------------------------------------------------------------------ running backward
    def name(self) -> str:
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def register_prehook(self, hook):
        """hook(grad) -> grad or None, called with the output's gradient before the VJP."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        return _RemovableHandle(self._pre_hooks, hook)

    def _has_saved(self):
        return self.save_inputs or self.save_output

    def _check_saved(self):
        if self._released and (self.save_inputs or self.save_output):
            raise RuntimeError(
                f"Trying to backward through the graph a second time (in {self.name()}): its saved "
                "tensors were freed after the first backward. Pass retain_graph=True to the first "
                "backward() or autograd.grad() call if you need to backward twice.")
        versions = self._saved_versions   # set when the inputs were saved for backward
        if versions is not None and self.inputs is not None:
            for t, v in zip(self.inputs, versions):
                if t._version_box[0] != v:
                    _raise_modified(self, t, v)
        if self.save_output and self._out is not None:
            box, v = self._out_version
            if box[0] != v:
                _raise_modified(self, self.output, v, box[0])

    def _run_backward(self, grad):
        if self._released or self._saved_versions is not None or self.save_output:
            self._check_saved()   # (nothing to check for a node that saved nothing)
        grads = self.backward(grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self.next_functions):
            raise RuntimeError(f"{self.name()}: backward returned {len(grads)} gradients for "
                               f"{len(self.next_functions)} inputs")
        return grads

    def _release(self):
        """Free what backward needed (called after a backward without retain_graph)."""
        self._released = True
        self.inputs = None
        self._out = None
        self._out_tangent = None


def _forward_tangent(node, inputs, result):
    """Forward mode: when an input carries a tangent, give ``result`` its JVP."""
    for t in inputs:
        if t._fw_tangent is not None:
            break
    else:
        return
    node.inputs = inputs
    node._out = result._data
    with _fw.suspended():
        tangent = node.jvp(*[t._fw_tangent for t in inputs])
    if tangent is not None:
        _fw.attach_tangent(result, tangent)
        _fw.attach_tangent(node, tangent, "_out_tangent")  # dropped with the level, like result's


def plain_backward() -> bool:
    """True inside a backward pass that builds no graph (no ``create_graph``) and propagates no
    forward-mode tangents: a VJP rule may then work on the arrays and wrap the result."""
    return not STATE.grad_enabled and not _fw.STATE.active


class AccumulateGrad(Node):
    """The sink of a leaf tensor: gradients arriving here are summed into ``leaf.grad``."""

    save_inputs = False

    def __init__(self, variable):
        self.variable = variable
        self.sequence_nr = -1  # leaves run last

    def name(self):
        return "AccumulateGrad"

    def _release(self):
        pass


class _RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _edge(t):
    """The node an input's gradient flows to: its grad_fn, its leaf accumulator, or None."""
    if t.grad_fn is not None:
        return t.grad_fn
    if not t.requires_grad:
        return None
    acc = t._accumulator() if t._accumulator is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accumulator = weakref.ref(acc)
    return acc


def _raise_modified(node, t, expected, current=None):
    current = t._version_box[0] if current is None else current
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} {list(t.shape)}] is at version {current}; expected version "
        f"{expected} instead (needed by {node.name()}). Use an out-of-place op (x = x * 2, not "
        "x *= 2) or .clone() the tensor before modifying it.")


from ..tensor import Tensor  # noqa: E402  (tensor.py imports nothing from here at module level)

_new = object.__new__       # Node and Tensor define no __new__: allocate without the lookup
_ndarray = np.ndarray
_asarray = np.asarray
