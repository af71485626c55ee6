"""Capture: run a function once, eagerly, and record what it did as a :class:`~.graph.Graph`.

While a capture runs, the engine reports to the :class:`Recorder` (through
``chainrule._modes.TRACE``): every primitive applied (``Node.apply``), every ``backward()``,
every optimizer step or ``zero_grad`` (replayed as calls), every in-place write, every random
mask drawn by dropout, every module called (its ``training`` flag becomes a guard). What
cannot be replayed faithfully makes the capture *unsupported*, with the reason:

* a tensor's value read into Python (``.item()``, ``bool(t)``, ``.tolist()``, ``.numpy()``):
  the Python code may branch on it — data-dependent control flow;
* random numbers drawn outside an op that says how to draw them again;
* a custom ``autograd.Function`` (its backward is Python code), ``autograd.grad``,
  ``backward(create_graph=True)``, index assignment, in-place view ops;
* a tensor from outside the call modified in place by code the capture did not see.

Tensors from outside the call (parameters, buffers, constants) become ``"state"`` values,
read afresh at every run; so weights an optimizer updates are always current.
"""
from __future__ import annotations

import inspect
import weakref

import numpy as np

from .. import _rng
from .._modes import TRACE
from ..tensor import Tensor
from .graph import Backward, Call, Graph, Op, Value, Write, op_name


_COMPUTED_OUTSIDE = ("a tensor computed outside the recorded primitives (a comparison, a cast "
                     "to another dtype, argmax, ...) feeds the graph")


class Unsupported(RuntimeError):
    """A function did something a captured graph cannot replay (see :mod:`chainrule.fx.capture`);
    ``chainrule.compile(..., fullgraph=True)`` raises it, otherwise the function runs eagerly."""


class Recorder:
    """Receives the engine's reports during one capture and builds the graph."""

    def __init__(self, names=None):
        self.values, self.instructions = [], []
        # maps by identity that keep nothing alive, so that a capture's memory is an eager
        # call's: each intermediate can be freed as soon as the call drops it
        self.by_tensor = _Identity()   # tensor -> Value
        self.by_array = _Identity()    # array -> Value of an op's result (to spot aliases)
        self.by_node = _Identity()     # recorded node -> Value (backward() names roots by node)
        self.names = names or {}  # id(tensor) -> a parameter's or buffer's dotted name
        self.versions = {}       # id(state tensor) -> (tensor, version when first read)
        self.written = set()     # ids of the version counters of tensors a recorded write,
                                 # call or op updates (a detached view shares its base's)
        self.modules = {}
        self.reasons = []
        self.sources = 0
        self._counts = {}
        self.born = _Identity()        # tensor made during the capture outside an op (not
                                       # marked a constant): a comparison's, a cast's ... result
        self.array_of = _Identity()    # array -> the Value it is the array of
        self.constant_arrays = _Identity()   # arrays of constants made in the call -> True
        self.seeds = _Identity()       # backward()'s implicit ones -> True

    # ------------------------------------------------------------------ values
    def _new(self, kind, name, array, **kw):
        v = Value(len(self.values), kind, self._unique(name), array.shape, array.dtype, **kw)
        self.values.append(v)
        return v

    def _unique(self, name):
        n = self._counts.get(name, 0)
        self._counts[name] = n + 1
        return name if n == 0 else f"{name}_{n}"

    def bind(self, t, v):
        self.by_tensor[t] = v
        if self.array_of.get(t._data) is None:
            self.array_of[t._data] = v

    def input(self, t, name):
        v = self._new("input", name, t._data, requires_grad=t.requires_grad)
        self.bind(t, v)
        return v

    def value_of(self, t) -> Value:
        """The value a tensor stands for; a tensor first seen here is state from outside, or,
        when it wraps an op's result array (``detach``), an alias of that result."""
        v = self.by_tensor.get(t)
        if v is not None:
            return v
        src = self.by_array.get(t._data)
        if src is not None:
            v = self._new("alias", src.name + "_detached", t._data, source=src)
            self.instructions.append(v)
        else:
            if t.grad_fn is not None and t.requires_grad:
                self.unsupported("a tensor from outside the call carries autograd history "
                                 f"({t.grad_fn.name()}); pass it as an argument")
            if t in self.born:
                self.unsupported(_COMPUTED_OUTSIDE)
            name = self.names.get(id(t)) or "_tensor_constant"
            v = self._new("state", name, t._data, tensor=t, requires_grad=t.requires_grad)
            self.versions[id(t)] = (t, t._version_box[0])
        self.bind(t, v)
        return v

    # ------------------------------------------------------------------ reports from the engine
    def op(self, prim, params, inputs, result):
        values = [self.value_of(t) for t in inputs]
        out = self._new("op", op_name(prim, params), result._data,
                        requires_grad=result.requires_grad)
        op = Op(len(self.instructions), prim, params, values, out)
        op.views = op.views or any(np.may_share_memory(result._data, t._data) for t in inputs)
        for name, p in params.items():
            self._array_parameter(op, name, p)
        self.instructions.append(op)
        self.bind(result, out)
        self.by_array[result._data] = out
        if result.grad_fn is not None:
            self.by_node[result.grad_fn] = out
        for i in prim.mutated_inputs:
            self.written.add(id(inputs[i]._version_box))

    def _array_parameter(self, op, name, p, nested=False):
        """An array parameter that is the array of a value of the graph is read from that
        value at every run (``op.array_params``); one made from a tensor outside the recorded
        primitives is refused, and so is a parameter the primitive declares as data
        (``data_params``: an index, a mask) whose array cannot be traced to a value. Inside a
        tuple (an index key) only the arrays of state (constants, parameters) may stay."""
        if isinstance(p, (tuple, list)) and not nested:
            for item in p:
                self._array_parameter(op, name, item, nested=True)
            return
        if not isinstance(p, np.ndarray):
            return
        chain = [p]   # the array and the arrays it is a view of
        while chain[-1].base is not None:
            chain.append(chain[-1].base)
        if any(a in self.constant_arrays for a in chain):
            return   # (a view of) a constant made from Python data
        owner = next((v for v in map(self.array_of.get, chain) if v is not None), None)
        if owner is not None:
            if not nested and self.array_of.get(p) is owner:
                op.array_params[name] = owner   # the value's own array: read at every run
            elif owner.kind != "state":
                self.unsupported(f"{op.name}'s parameter {name!r} holds a view of a tensor's "
                                 "values, or holds them inside a tuple")
            return   # else (a view of) a parameter's or constant's memory, which it follows
        born = {id(t._data) for t in self.born.objects()}
        if any(id(a) in born for a in chain):
            self.unsupported(_COMPUTED_OUTSIDE)
        elif name in op.prim.data_params:   # an index or mask converted from a tensor
            self.unsupported(f"{op.name}'s parameter {name!r} holds values the capture cannot "
                             "trace back to a tensor (converted to another dtype?)")
        # else: an array made from shapes or Python numbers, a constant

    def detached(self, t, source):
        """``t = source.detach()``: ``source``'s value, through which no gradient flows."""
        self.born.pop(t)
        value = self.value_of(source)
        if value.kind in ("op", "random", "alias") or value.requires_grad:
            value = self._new("alias", value.name + "_detached", t._data, source=value)
            self.instructions.append(value)
        self.bind(t, value)

    def constant(self, t):
        """``t`` was made from Python data alone (``chainrule.tensor([...])``, ``zeros``, a
        scalar operand): a constant, whatever the inputs."""
        self.born.pop(t)
        self.constant_arrays[t._data] = True

    def implicit_seed(self, t):
        """``t`` holds the ones ``backward()`` starts from when given no gradient: recorded as
        ``None`` in the Backward instruction (a replay makes them, or keeps what they give)."""
        self.constant(t)
        self.seeds[t] = True

    def backward(self, roots, retain_graph, create_graph, targets):
        if targets is not None:
            return self.unsupported("autograd.grad or backward(inputs=...)")
        if create_graph:
            return self.unsupported("backward(create_graph=True)")
        pairs = []
        for node, grad in roots:
            root = self.by_node.get(node)
            if root is None:
                return self.unsupported(f"backward() from a tensor made outside the call "
                                        f"({node.name()})")
            pairs.append((root, None if grad in self.seeds else self.value_of(grad)))
        self.instructions.append(Backward(pairs))

    def call(self, fn, *args, **kwargs):
        """Record ``fn(*args, **kwargs)`` to be replayed as it is, and run it unrecorded."""
        owner = args[0]
        if kwargs.get("closure") is not None or len(args) > 1 and callable(args[1]):
            self.unsupported(f"{type(owner).__name__}.step(closure)")
        label = f"{type(owner).__name__}.{fn.__name__}"
        self.instructions.append(Call(fn, args, kwargs, label))
        for p in _parameters_of(owner):
            self.written.add(id(p._version_box))
        recorder, TRACE.recorder = TRACE.recorder, None
        try:
            return fn(*args, **kwargs)
        finally:
            TRACE.recorder = recorder

    def write(self, target, result):
        value = self.value_of(result)
        old = self.by_tensor.get(target)
        if old is None or old.kind in ("state", "input"):
            target_value = old if old is not None else self.value_of(target)
            self.instructions.append(Write(target_value, value))
            self.written.add(id(target._version_box))
        self.bind(target, value)   # later reads of the tensor see the new value

    def source(self, t, draw):
        """``t`` holds random numbers: a replay gets fresh ones from ``draw()``."""
        v = self._new("random", "random", t._data, draw=draw)
        self.instructions.append(v)
        self.bind(t, v)
        self.sources += 1

    def module(self, m):
        self.modules[id(m)] = m

    def python_value(self, t, what):
        self.unsupported(f"{what} reads a tensor's value into Python (data-dependent control "
                         "flow)")

    def unsupported(self, reason):
        if reason not in self.reasons:
            self.reasons.append(reason)

    # ------------------------------------------------------------------ the end
    def finish(self, output, inputs, argnames, rng_changed) -> Graph:
        owned = self._name_module_state()
        for ins in self.instructions:
            if isinstance(ins, Write) and ins.target.kind == "state" and \
                    id(ins.target.tensor) not in owned:
                self.unsupported("an in-place update of a tensor that is not a parameter or "
                                 "buffer of a module the call uses (a replay would keep its "
                                 "value from one call to the next)")
        if rng_changed and not self.sources:
            self.unsupported("it draws random numbers outside an op that a replay can redraw")
        for key, (t, version) in self.versions.items():
            if id(t._version_box) not in self.written and t._version_box[0] != version:
                name = self.names.get(key, f"a {list(t.shape)} tensor")
                self.unsupported(f"{name} was modified in place by code the capture does not see")
        return Graph(self.values, self.instructions, inputs, self._output(output), argnames)

    def _name_module_state(self):
        """Name the state values that are parameters or buffers of the modules called, after
        the first module called (the model, in a training step); returns their ids."""
        owned = {}
        for m in reversed(list(self.modules.values())):   # the first module's names win
            owned.update((id(t), name) for name, t in (*m.named_parameters(),
                                                        *m.named_buffers()))
        counts = {}
        for v in self.values:
            if v.kind == "state" and v.name.startswith("_tensor_constant") and id(v.tensor) in owned:
                name = owned[id(v.tensor)]
                counts[name] = counts.get(name, 0) + 1
                v.name = name if counts[name] == 1 else f"{name}_{counts[name] - 1}"
        return set(owned) | set(self.names)

    def _output(self, tree):
        if isinstance(tree, Tensor):
            return self.value_of(tree)
        if isinstance(tree, (tuple, list)):
            items = [self._output(x) for x in tree]
            return tuple(items) if isinstance(tree, tuple) else items
        if isinstance(tree, dict):
            return {k: self._output(x) for k, x in tree.items()}
        return tree


def capture(fn, args, kwargs, names=None, signature_of=None):
    """Run ``fn(*args, **kwargs)`` once, eagerly, recording it.

    Returns ``(graph, output, recorder)``: ``output`` is the call's real result (so a capture
    costs one eager call and nothing is run twice); ``recorder.reasons`` lists what makes the
    graph unsupported (empty when it can be replayed).
    """
    if TRACE.recorder is not None:
        raise RuntimeError("chainrule.fx: a capture is already running (nested capture)")
    recorder = Recorder(names)
    argnames = _argument_names(signature_of or fn, args, kwargs)
    flat = flatten_tensors((args, kwargs))
    inputs = [recorder.input(t, name) for t, name in zip(flat, _input_names(argnames, flat, args,
                                                                             kwargs))]
    rng_before = _rng.DEFAULT.get_state()
    make = Tensor.__dict__["_make"]

    def tracked(array, requires_grad=False):   # every Tensor made while the capture runs
        t = make.__func__(array, requires_grad)
        recorder.born[t] = True
        return t

    TRACE.recorder = recorder
    Tensor._make = staticmethod(tracked)
    try:
        output = fn(*args, **kwargs)
    finally:
        TRACE.recorder = None
        Tensor._make = make
    graph = recorder.finish(output, inputs, argnames, _rng.DEFAULT.get_state() != rng_before)
    return graph, output, recorder


class _Identity:
    """{object: value} by identity, holding only weak references: a dead object's id may be
    reused by a new one, so a lookup checks that the reference still points at its key."""

    def __init__(self):
        self._items = {}

    def __setitem__(self, obj, value):
        self._items[id(obj)] = (weakref.ref(obj), value)

    def get(self, obj, default=None):
        item = self._items.get(id(obj))
        return item[1] if item is not None and item[0]() is obj else default

    def __contains__(self, obj):
        item = self._items.get(id(obj))
        return item is not None and item[0]() is obj

    def pop(self, obj):
        if obj in self:
            del self._items[id(obj)]

    def objects(self):
        """The keys still alive."""
        return [o for o in (ref() for ref, _ in self._items.values()) if o is not None]


def flatten_tensors(tree) -> list:
    """The Tensors in nested tuples, lists and dicts, depth first (dicts in insertion order)."""
    if isinstance(tree, Tensor):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [t for x in tree for t in flatten_tensors(x)]
    if isinstance(tree, dict):
        return [t for x in tree.values() for t in flatten_tensors(x)]
    return []


def _argument_names(fn, args, kwargs):
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    names = [params[i] if i < len(params) and params[i] not in ("args", "kwargs") else f"arg{i}"
             for i in range(len(args))]
    return names + list(kwargs)


def _input_names(argnames, flat, args, kwargs):
    """A name for each flattened tensor: its argument's name, numbered within a container."""
    names = []
    for name, value in zip(argnames, list(args) + list(kwargs.values())):
        n = len(flatten_tensors(value))
        names += [name] if n == 1 and isinstance(value, Tensor) else \
            [f"{name}_{i}" for i in range(n)]
    return names


def _parameters_of(owner):
    """The tensors an optimizer or module updates when a recorded call runs."""
    groups = getattr(owner, "param_groups", None)
    if groups is not None:
        return [p for g in groups for p in g["params"]]
    parameters = getattr(owner, "parameters", None)
    return list(parameters()) if callable(parameters) else []
