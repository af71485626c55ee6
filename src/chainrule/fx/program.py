"""Replay: run a captured :class:`~.graph.Graph` on new arguments, forward and backward.

The forward runs each primitive's ``forward`` on arrays, in the captured order, with none of
eager mode's per-op bookkeeping (no Tensor per intermediate, no recording decision, no version
counters). The backward is the deck's chain of vector-Jacobian products, run from the same
declared rules the eager engine uses (``Node.array_vjp``), over a plan fixed at capture time:
the ops between the root and the leaves in reverse order, each with the inputs it needs
gradients for. Values no later instruction needs are dropped as soon as they are dead.
"""
from __future__ import annotations

import numpy as np

from .._backprop import _accumulate
from .._graph import Node, _edge, _sequence
from .._modes import STATE
from ..backends.fpstate import enter as _fp_enter, leave as _fp_leave
from ..tensor import Tensor
from .graph import Backward, Call, Op, Value, Write

_new = object.__new__
_OP, _BACKWARD, _WRITE, _CALL, _RANDOM, _ALIAS = range(6)


class _Held:
    """What a rule reads an input through (``inputs[i]._data``), without a Tensor."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data


class Program:
    """A graph made ready to run: flat steps over a list of array slots."""

    def __init__(self, graph):
        self.graph = graph
        values = graph.values
        self.n_slots = len(values)
        self.inputs = [v.index for v in graph.inputs]
        self.state = [(v.index, v.tensor) for v in graph.state]
        self.state_guard = [(v.tensor, v.shape, v.dtype, v.requires_grad) for v in graph.state]
        self.plans = {}
        steps = []
        for i, ins in enumerate(graph.instructions):
            if isinstance(ins, Op):
                steps.append((_OP, (ins.index, ins.prim._node_type, ins.params or None,
                                    tuple(v.index for v in ins.inputs), ins.out.index)))
            elif isinstance(ins, Backward):
                plan = _backward_plan(graph, i, [r for r, _ in ins.roots])
                grads = tuple((r.index, None if g is None else g.index) for r, g in ins.roots)
                steps.append((_BACKWARD, (plan, grads)))
            elif isinstance(ins, Write):
                steps.append((_WRITE, (ins.target, ins.value.index)))
            elif isinstance(ins, Call):
                steps.append((_CALL, (ins.fn, ins.args, ins.kwargs)))
            elif isinstance(ins, Value):
                steps.append((_RANDOM, (ins.index, ins.draw)) if ins.kind == "random"
                             else (_ALIAS, (ins.index, ins.source.index)))
        self.has_backward = any(kind == _BACKWARD for kind, _ in steps)
        outs = [v for v in graph.output_values() if v.kind == "op" and v.requires_grad]
        # a graph that does not run its own backward gets one through the eager engine
        self.output_plans = {} if self.has_backward else {
            v.index: _backward_plan(graph, len(graph.instructions), [v]) for v in outs}
        self.steps = _with_frees(steps, graph, list(self.output_plans.values()))
        plans = [*self.output_plans.values(), *[step[0] for kind, step in steps
                                                if kind == _BACKWARD]]
        self.keep = {s[0] for plan in plans for s in plan[0]}   # ops whose node backward uses

    def guard_state(self) -> str | None:
        """Why the tensors from outside no longer fit the graph (None when they do)."""
        for t, shape, dtype, requires_grad in self.state_guard:
            d = t._data
            if d.shape != shape or d.dtype != dtype or t.requires_grad != requires_grad:
                return "a parameter or buffer changed shape, dtype or requires_grad"
        return None

    def __call__(self, flat_args):
        """Run on the flattened argument tensors; returns the output tree of Tensors."""
        slots = [None] * self.n_slots
        for i, t in zip(self.inputs, flat_args):
            slots[i] = t._data
        for i, t in self.state:
            slots[i] = t._data
        nodes = {}
        keep = self.keep
        fp = _fp_enter()   # IEEE results without NumPy warnings, as in eager ops
        try:
            for kind, step in self.steps:
                if kind == _OP:
                    index, node_type, params, ins, out = step
                    node = _new(node_type)
                    if params is not None:
                        node.__dict__.update(params)
                    slots[out] = node.forward(*[slots[i] for i in ins])
                    if index in keep:
                        nodes[index] = node
                elif kind is None:          # values dead from here on
                    for i in step:
                        slots[i] = None
                elif kind == _BACKWARD:
                    plan, roots = step
                    seeds = {r: (np.ones_like(slots[r]) if g is None else slots[g])
                             for r, g in roots}
                    grads = _run_plan(plan, seeds, slots, nodes)
                    for leaf_index, leaf in plan[1]:
                        g = grads.get(leaf_index)
                        if g is not None:
                            tensor = leaf if leaf is not None else _input_tensor(
                                self, leaf_index, flat_args)
                            _accumulate(tensor, Tensor._make(g), False)
                elif kind == _WRITE:
                    target, value = step
                    t = target.tensor if target.kind == "state" else \
                        flat_args[self.inputs.index(target.index)]
                    t._data[...] = slots[value]
                    t._version_box[0] += 1
                elif kind == _CALL:
                    fn, args, kwargs = step
                    fn(*args, **kwargs)
                elif kind == _RANDOM:
                    slots[step[0]] = step[1]()
                else:
                    slots[step[0]] = slots[step[1]]
        finally:
            _fp_leave(fp)
        return self._outputs(self.graph.output, slots, nodes, flat_args, {})

    def _outputs(self, tree, slots, nodes, flat_args, made):
        if isinstance(tree, Value):
            if tree.kind == "state":
                return tree.tensor
            if tree.kind == "input":
                return _input_tensor(self, tree.index, flat_args)
            t = made.get(tree.index)
            if t is None:
                t = made[tree.index] = Tensor._make(slots[tree.index])
                plan = self.output_plans.get(tree.index)
                if plan is not None and STATE.grad_enabled:
                    _attach_backward(t, tree.index, plan, slots, nodes, self, flat_args)
            return t
        if isinstance(tree, (tuple, list)):
            items = [self._outputs(x, slots, nodes, flat_args, made) for x in tree]
            return tuple(items) if isinstance(tree, tuple) else items
        if isinstance(tree, dict):
            return {k: self._outputs(x, slots, nodes, flat_args, made) for k, x in tree.items()}
        return tree


def _input_tensor(program, index, flat_args):
    return flat_args[program.inputs.index(index)]


def _backward_plan(graph, upto, roots):
    """(steps, leaves): the ops before instruction ``upto`` that carry gradient from the leaves
    to ``roots``, last first, as (op index, output slot, input slots, needs_input_grad, input
    shapes); and the leaves reached, as (slot, Tensor or None for an argument)."""
    reach = {r.index for r in roots}
    steps = []
    for ins in reversed(graph.instructions[:upto]):
        if isinstance(ins, Op) and ins.out.requires_grad and ins.out.index in reach:
            needs = tuple(v.requires_grad for v in ins.inputs)
            steps.append((ins.index, ins.out.index, tuple(v.index for v in ins.inputs), needs,
                          tuple(v.shape for v in ins.inputs)))
            reach.update(v.index for v, need in zip(ins.inputs, needs) if need)
    leaves = [(v.index, v.tensor) for v in graph.values
              if v.kind in ("input", "state") and v.requires_grad and v.index in reach]
    return steps, leaves


def _run_plan(plan, seeds, slots, nodes):
    """The chain of VJPs: {slot: gradient array} for every value the plan reaches."""
    grads = dict(seeds)
    for index, out, ins, needs, shapes in plan[0]:
        g = grads.pop(out, None)
        if g is None:
            continue
        node = nodes[index]
        node.inputs = [_Held(slots[i]) for i in ins]
        node._out = slots[out]
        node.needs_input_grad, node.in_shapes = needs, shapes
        for i, r in zip(ins, node.array_vjp(g)):
            if r is not None:
                prev = grads.get(i)
                grads[i] = r if prev is None else prev + r
    return grads


def _with_frees(steps, graph, output_plans):
    """The steps with ``(None, slots)`` inserted where values die: after the last step that
    reads them (an op, a write, an alias, a backward whose rules read an op's inputs and
    output). Returned values, and those the eager engine's backward of the outputs will read,
    live to the end."""
    last = {}
    for i, (kind, step) in enumerate(steps):
        if kind == _OP:
            for s in step[3]:
                last[s] = i
        elif kind in (_WRITE, _ALIAS):
            last[step[1]] = i
        elif kind == _BACKWARD:
            plan, roots = step
            for _, out, ins, _, _ in plan[0]:
                for s in (out, *ins):
                    last[s] = i
            for r, g in roots:
                last[r] = i
                if g is not None:
                    last[g] = i
    forever = {v.index for v in graph.output_values()}
    forever.update(s for plan in output_plans for _, out, ins, _, _ in plan[0] for s in (out, *ins))
    frees = {}
    for s, i in last.items():
        if s not in forever:
            frees.setdefault(i, []).append(s)
    out = []
    for i, step in enumerate(steps):
        out.append(step)
        if i in frees:
            out.append((None, tuple(frees[i])))
    return out


class CompiledFunctionBackward(Node):
    """The node of a compiled call's output (torch's name): its VJP runs the captured graph's
    backward plan, and the eager engine carries the gradients on into the leaves."""

    def _vjp(self, xp, g):
        if xp.recording:
            raise RuntimeError("CompiledFunctionBackward: a compiled graph's backward cannot be "
                               "differentiated again (create_graph=True); run the model eagerly")
        grads = _run_plan(self._plan, {self._root: g}, self._slots, self._nodes)
        return [grads.get(i) for i, _ in self._plan[1]]

    def _release(self):
        super()._release()
        self._slots = self._nodes = None


def _attach_backward(t, root, plan, slots, nodes, program, flat_args):
    node = _new(CompiledFunctionBackward)
    leaves = [leaf if leaf is not None else _input_tensor(program, i, flat_args)
              for i, leaf in plan[1]]
    node._plan, node._root, node._slots, node._nodes = plan, root, slots, nodes
    node.needs_input_grad = (True,) * len(leaves)
    node._next = tuple(t.grad_fn or _edge(t) for t in leaves)
    node.in_shapes = tuple(t._data.shape for t in leaves)
    node.sequence_nr = next(_sequence)
    node.out_shape = t._data.shape
    t.requires_grad = True
    t.grad_fn = node
