"""The ONNX graph under construction: names, nodes, initializers, constants folded at export.

:class:`Builder` walks a captured :class:`~chainrule.fx.Graph` in order and asks the table of
:mod:`chainrule.onnx._ops` to emit each primitive as ONNX nodes. Values whose inputs are all
known at export time (parameters, buffers, constants and what is computed from them alone)
are folded: the primitive's own ``forward`` runs once, here, on the arrays (``Node.run``), and
the result becomes an initializer only if some node reads it.
"""
from __future__ import annotations

import numpy as np

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class UnsupportedOperatorError(RuntimeError):
    """A primitive of the captured graph has no ONNX mapping (torch's
    ``torch.onnx.errors.UnsupportedOperatorError``); the message names the primitive."""


class Builder:
    """Collects the nodes and initializers of one exported graph.

    ``names[value.index]`` is the ONNX name of each value emitted so far; ``consts`` holds the
    arrays of values known at export time (folded), materialised as initializers on first use.
    """

    def __init__(self, onnx, graph, opset, fold, params_as_inputs):
        self.onnx, self.graph, self.opset, self.fold = onnx, graph, opset, fold
        self.nodes, self.initializers = [], {}
        self.names, self.consts = {}, {}
        self.param_inputs = []           # (name, array) of state fed as graph inputs
        # every value's own name is reserved for it; fresh() names avoid them all
        self.used = {v.name for v in graph.values}
        self.claimed = set()             # input/output names given by the caller
        self.producer = {}               # value index -> the Op that made it
        self._params_as_inputs = params_as_inputs

    # ------------------------------------------------------------------ names
    def fresh(self, hint: str) -> str:
        """A name no other tensor of the graph has, built from ``hint``."""
        name, i = hint, 0
        while name in self.used:
            i += 1
            name = f"{hint}_{i}"
        self.used.add(name)
        return name

    def own_name(self, v) -> str:
        """The ONNX name of a value: its captured name, unless the caller claimed that name
        for another input or output."""
        return v.name if v.name not in self.claimed else self.fresh(v.name)

    def y(self, op) -> str:
        """The ONNX name of ``op``'s output (fixed before emission: outputs may be renamed)."""
        return self.names[op.out.index]

    # ------------------------------------------------------------------ values
    def is_const(self, v) -> bool:
        return v.index in self.consts

    def const_of(self, v):
        """The array of a value known at export time, or None."""
        return self.consts.get(v.index)

    def value(self, v, dtype=None) -> str:
        """The ONNX name of value ``v`` (cast to ``dtype`` when given and different)."""
        arr = self.consts.get(v.index)
        if arr is not None:
            if dtype is not None and arr.dtype != np.dtype(dtype):
                return self.constant(arr.astype(dtype), v.name)
            if v.index not in self.names:
                self.names[v.index] = self.constant(arr, self.own_name(v), exact=True)
            return self.names[v.index]
        name = self.names[v.index]
        if dtype is not None and v.dtype != np.dtype(dtype):
            return self.node("Cast", [name], to=self.dtype(dtype), hint=name + "/cast")
        return name

    def inp(self, op, i, dtype=None) -> str:
        """The name of ``op``'s input ``i``; ``dtype="out"`` casts it to the output's dtype."""
        return self.value(op.inputs[i], op.out.dtype if dtype == "out" else dtype)

    def constant(self, array, hint="const", exact=False) -> str:
        """An initializer holding ``array``; ``exact`` keeps the name ``hint`` if it is free."""
        array = np.asarray(array)
        name = hint if exact and hint not in self.claimed else self.fresh(hint)
        self.initializers[name] = array
        return name

    def scalar(self, number, dtype, hint="const") -> str:
        return self.constant(np.asarray(number, dtype=dtype), hint)

    def ints(self, values, hint="const") -> str:
        """An int64 1-D initializer (axes, shapes, slice bounds)."""
        return self.constant(np.asarray(list(values), dtype=np.int64), hint)

    def dtype(self, dtype) -> int:
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # ------------------------------------------------------------------ nodes
    def node(self, op_type, inputs, out=None, hint=None, **attrs) -> str:
        """Append one ONNX node; returns its output's name (``out``, or a fresh one)."""
        if out is None:
            out = self.fresh(hint or op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(
            op_type, list(inputs), [out], name=self.fresh("/" + out), **attrs))
        return out

    # ------------------------------------------------------------------ opset-dependent forms
    def reduce(self, op_type, x, axes, keepdims, out=None, hint=None) -> str:
        """ReduceSum/ReduceMean/ReduceMax over ``axes`` (None: all): axes are an input from
        opset 13 (ReduceSum) or 18 (the others), an attribute before."""
        kw = {"keepdims": int(bool(keepdims))}
        inputs = [x]
        if axes is not None:
            if op_type == "ReduceSum" or self.opset >= 18:
                inputs.append(self.ints(axes, "axes"))
            else:
                kw["axes"] = list(axes)
        return self.node(op_type, inputs, out=out, hint=hint, **kw)

    def squeeze(self, x, axes, out=None) -> str:
        return self.node("Squeeze", [x, self.ints(axes, "axes")], out=out)

    def unsqueeze(self, x, axes, out=None) -> str:
        return self.node("Unsqueeze", [x, self.ints(axes, "axes")], out=out)
