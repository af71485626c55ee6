"""The captured graph: chainrule's intermediate representation of one call of a function.

A :class:`Graph` is a straight-line program over arrays, in the order the call ran:

* :class:`Value` — one array: an argument (``"input"``), a tensor from outside the call read
  afresh at every run (``"state"``: a parameter, a buffer, a constant), an op's result
  (``"op"``), random numbers drawn afresh at every run (``"random"``), or the same array as
  another value with no gradient through it (``"alias"``: ``detach``);
* :class:`Op` — one primitive of :mod:`chainrule.ops` (a :class:`~chainrule._graph.Node`
  subclass) with its parameters, input values and output value: the deck's computational
  graph, whose backward is the chain of the primitives' own VJP rules;
* :class:`Backward` — ``loss.backward()`` inside the call: the chain of VJPs from its roots,
  accumulated into the ``.grad`` of the leaves it reaches;
* :class:`Write` — an in-place update of a tensor from outside (``buffer.add_(1)``);
* :class:`Call` — a call replayed as it is (``optimizer.step()``, ``optimizer.zero_grad()``);
* a ``"random"`` or ``"alias"`` :class:`Value` itself, where the call made it.

``graph.code`` prints it as Python, the way ``torch.fx`` prints a GraphModule.
"""
from __future__ import annotations

import functools
import re

import numpy as np


class Value:
    """One array of a captured graph, with the shape and dtype it had when captured."""

    __slots__ = ("index", "kind", "name", "shape", "dtype", "tensor", "source", "draw",
                 "requires_grad")

    def __init__(self, index, kind, name, shape, dtype, *, tensor=None, source=None, draw=None,
                 requires_grad=False):
        self.index, self.kind, self.name = index, kind, name
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.tensor = tensor            # "state": the Tensor read at every run
        self.source = source            # "alias": the value it repeats
        self.draw = draw                # "random": a function returning a fresh array
        self.requires_grad = requires_grad

    def __repr__(self):
        return f"%{self.name}: {self.kind} {list(self.shape)} {self.dtype}"


class Op:
    """One primitive applied: ``out = prim(*inputs, **params)``."""

    __slots__ = ("index", "prim", "params", "inputs", "out", "name", "array_params", "views")

    def __init__(self, index, prim, params, inputs, out):
        self.index, self.prim, self.params = index, prim, dict(params)
        self.inputs, self.out = tuple(inputs), out
        self.name = op_name(prim, params)
        self.array_params = {}   # parameter name -> the Value whose array it is, at every run
        self.views = prim.is_view  # its result shares memory with an input (a view, or the
                                   # input itself): found true at capture for any primitive

    def __repr__(self):
        return f"{self.out.name} = {self.name}({', '.join(v.name for v in self.inputs)})"


class Backward:
    """``backward()`` from ``roots`` [(value, its gradient value or None for ones)]."""

    __slots__ = ("roots",)

    def __init__(self, roots):
        self.roots = tuple(roots)


class Write:
    """``target[...] = value`` for a tensor from outside the call (an in-place update)."""

    __slots__ = ("target", "value")

    def __init__(self, target, value):
        self.target, self.value = target, value


class Call:
    """``fn(*args, **kwargs)`` replayed as it is; ``label`` names it in the printed code."""

    __slots__ = ("fn", "args", "kwargs", "label")

    def __init__(self, fn, args, kwargs, label):
        self.fn, self.args, self.kwargs, self.label = fn, args, kwargs, label


class Graph:
    """Values and instructions of one captured call; see the module docstring.

    ``inputs``: the argument values, in the order the call's tensors were flattened;
    ``output``: the call's result with every Tensor replaced by its :class:`Value`.
    """

    def __init__(self, values, instructions, inputs, output, argnames=()):
        self.values, self.instructions = values, instructions
        self.inputs, self.output = inputs, output
        self.argnames = tuple(argnames)

    @property
    def ops(self) -> list:
        """The primitives applied, in order."""
        return [ins for ins in self.instructions if isinstance(ins, Op)]

    @property
    def state(self) -> list:
        """The values read from tensors outside the call (parameters, buffers, constants)."""
        return [v for v in self.values if v.kind == "state"]

    def output_values(self) -> list:
        """The values the call returns, in the order they appear in its result."""
        return [v for v in _leaves(self.output) if isinstance(v, Value)]

    @property
    def code(self) -> str:
        """The graph as Python source, one line per instruction, shapes in comments."""
        args = ", ".join(["self", *self.argnames])
        lines = [f"def forward({args}):"]
        for v in self.values:
            if v.kind == "state":
                lines.append(f"    {_ident(v.name)} = {_state_expr(v)}")
        for ins in self.instructions:
            lines.append("    " + _instruction_code(ins))
        lines.append(f"    return {_output_code(self.output)}")
        return "\n".join(lines) + "\n"

    def __str__(self):
        rows = [f"graph({', '.join(v.name for v in self.inputs)}):"]
        for ins in self.instructions:
            if isinstance(ins, Op):
                params = ", ".join(f"{k}={_show(p)}" for k, p in ins.params.items())
                rows.append(f"    %{ins.out.name} : {list(ins.out.shape)} {ins.out.dtype} = "
                            f"{ins.name}({', '.join('%' + v.name for v in ins.inputs)}"
                            f"{', ' if params and ins.inputs else ''}{params})")
            else:
                rows.append("    " + _instruction_code(ins))
        rows.append(f"    return {_output_code(self.output)}")
        return "\n".join(rows)

    __repr__ = __str__


def op_name(prim, params=None) -> str:
    """torch's snake-case name of a primitive, from its node's name: ``AddmmBackward0`` ->
    ``addmm``, ``NativeBatchNormBackward0`` -> ``native_batch_norm``; a primitive that takes
    a function (``ArrayFunction``'s ``fn``) is named after the function: ``greater``."""
    fn = (params or {}).get("fn")
    if isinstance(fn, functools.partial):   # partial(np.all, axis=1); partial(_index, np.argmax)
        fn = next((a for a in fn.args if callable(a)), fn.func) if \
            fn.func.__name__.startswith("_") else fn.func
    if callable(fn) and getattr(fn, "__name__", "").isidentifier():
        return fn.__name__
    name = re.sub(r"Backward\d*$", "", prim._node_type.__name__)
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


def _ident(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident.isidentifier() else "_" + ident


def _state_expr(v) -> str:
    """How the code reaches a state value: ``self.fc1.weight``; ``self.get_parameter("0.weight")``
    where a part of the name is no identifier; a constant by its own name."""
    if v.name.startswith("_"):   # a constant: its value when small
        data = v.tensor._data
        if data.size <= 4:
            return f"tensor({data.tolist()!r})"
        return f"<constant {list(data.shape)} {data.dtype}>"
    if all(part.isidentifier() for part in v.name.split(".")):
        return f"self.{v.name}"
    getter = "get_parameter" if type(v.tensor).__name__ == "Parameter" else "get_buffer"
    return f"self.{getter}({v.name!r})"


def _show(p) -> str:
    if isinstance(p, np.ndarray):
        return f"<array {list(p.shape)} {p.dtype}>"
    text = repr(p)
    return text if len(text) <= 40 else text[:37] + "..."


def _instruction_code(ins) -> str:
    if isinstance(ins, Op):
        args = [_ident(v.name) for v in ins.inputs]
        args += [f"{k}={_ident(ins.array_params[k].name) if k in ins.array_params else _show(p)}"
                 for k, p in ins.params.items() if k != "fn"]   # fn: the op's name
        out = ins.out
        return f"{_ident(out.name)} = {ins.name}({', '.join(args)})  # {list(out.shape)} {out.dtype}"
    if isinstance(ins, Backward):
        roots = ", ".join(_ident(v.name) + ("" if g is None else f" (grad {_ident(g.name)})")
                          for v, g in ins.roots)
        return f"backward({roots})"
    if isinstance(ins, Write):
        return f"{_state_expr(ins.target)}.copy_({_ident(ins.value.name)})"
    if isinstance(ins, Value):
        made = (f"{_ident(ins.source.name)}.detach()" if ins.kind == "alias" else
                f"random({list(ins.shape)}, {ins.dtype})")
        return f"{_ident(ins.name)} = {made}"
    return f"{ins.label}()"


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        for x in tree:
            yield from _leaves(x)
    elif isinstance(tree, dict):
        for x in tree.values():
            yield from _leaves(x)
    else:
        yield tree


def _output_code(tree) -> str:
    if isinstance(tree, Value):
        return _ident(tree.name)
    if isinstance(tree, (tuple, list)):
        inner = ", ".join(_output_code(x) for x in tree)
        return f"({inner}{',' if len(tree) == 1 else ''})" if isinstance(tree, tuple) else f"[{inner}]"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_output_code(x)}" for k, x in tree.items()) + "}"
    return repr(tree)
