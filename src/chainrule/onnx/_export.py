"""``chainrule.onnx.export``: one captured call of a model, written as an ONNX model."""
from __future__ import annotations

import inspect
import os
import tempfile
import warnings

import numpy as np

from .. import nn
from .._extras import require
from .._modes import no_grad
from ..fx import Unsupported, capture_graph
from ..fx.graph import Op, Value
from ..tensor import Tensor
from ._builder import Builder, UnsupportedOperatorError
from ._estimators import as_module
from ._ops import emitter_of
from .runtime import TENSOR, register_exporter

MIN_OPSET = 13


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=17, do_constant_folding=True, export_params=True, verbose=False):
    """Export ``model`` as an ONNX model (``torch.onnx.export``'s interface).

    chainrule runs ``model(*args)`` once in evaluation mode under ``no_grad`` (a module in
    training mode is switched to ``eval()`` for the call and back after), records the
    primitives it applies (:func:`chainrule.fx.capture_graph`) and writes each as ONNX nodes.
    Parameters and buffers become initializers named as in ``state_dict()``
    (``fc1.weight``).

    Args:
        model: an ``nn.Module`` or a function of Tensors; also a fitted
            :class:`~chainrule.models.GLM` (exported as its mean μ = g⁻¹(Xw + b), shape (N,))
            or :class:`~chainrule.models.Perceptron` (ŷ = H(Xw + b) as int64, shape (N,)).
        args: the example input: a Tensor, or a tuple of Tensors (a trailing dict holds
            keyword arguments).
        f: a path (written atomically: a temporary file in the same folder, then renamed) or
            a binary file object.
        input_names, output_names: names of the graph's inputs and outputs, in order (default:
            the argument names of ``forward``, and ``output`` / ``output_0``, ``output_1``...).
        dynamic_axes: ``{name: [axis, ...]}`` or ``{name: {axis: "dim_name"}}`` for the inputs
            and outputs whose sizes vary (e.g. ``{"input": {0: "batch"}}``); the shapes the
            capture baked in (view targets, expand sizes) are written so those axes stay free.
        opset_version: the ONNX opset, 13 … the installed onnx's newest (default 17).
        do_constant_folding: compute at export what depends on parameters and constants only.
        export_params: write the parameters into the model (False: they become graph inputs
            named after them, after the model's own inputs).
        verbose: print the exported graph.

    Raises:
        UnsupportedOperatorError: a primitive of the call has no ONNX mapping (named).
        RuntimeError: the call cannot be captured (it reads tensor values into Python,
            draws random numbers, updates state in place...).
        ValueError, TypeError: bad names, axes, opset or arguments.

    Example::

        chainrule.onnx.export(model, chainrule.randn(1, 1, 28, 28), "lenet.onnx",
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    """
    data = to_model_proto(model, args, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset_version,
                          do_constant_folding=do_constant_folding,
                          export_params=export_params).SerializeToString()
    if verbose:
        onnx = require("onnx", "ONNX export")
        proto = onnx.load_from_string(data)
        printer = getattr(onnx, "printer", None)
        print(printer.to_text(proto.graph) if printer is not None else
              onnx.helper.printable_graph(proto.graph))
    _write(f, data)


def to_model_proto(model, args, input_names=None, output_names=None, dynamic_axes=None,
                   opset_version=17, do_constant_folding=True, export_params=True):
    """The ``onnx.ModelProto`` :func:`export` writes (same arguments, without ``f``)."""
    return export_graph(model, args, input_names, output_names, dynamic_axes, opset_version,
                        do_constant_folding, export_params)[0]


def export_graph(model, args, input_names=None, output_names=None, dynamic_axes=None,
                 opset_version=17, do_constant_folding=True, export_params=True):
    """(ModelProto, the captured :class:`~chainrule.fx.Graph` it was built from)."""
    onnx = require("onnx", "ONNX export")
    newest = onnx.defs.onnx_opset_version()
    if (not isinstance(opset_version, int) or isinstance(opset_version, bool)
            or not MIN_OPSET <= opset_version <= newest):
        raise ValueError(f"chainrule.onnx.export: opset_version must be an int in "
                         f"{MIN_OPSET}..{newest} (the installed onnx's newest), got "
                         f"{opset_version!r}")
    args, kwargs = _split_args(args)
    model = as_module(model, args)
    graph = _capture(model, args, kwargs)
    defaults = default_input_names(model, args, kwargs, graph)
    if input_names is None:
        input_names = defaults
    elif len(list(input_names)) <= len(defaults):
        input_names = list(input_names) + defaults[len(list(input_names)):]
    proto = build_model(onnx, graph, input_names, output_names, dynamic_axes, opset_version,
                        do_constant_folding, export_params, _doc(model))
    return proto, graph


def default_input_names(model, args, kwargs, graph):
    """The graph inputs' names: a module's ``forward`` argument names (``x``), as torch's
    exporter names them, where each argument is one Tensor; the captured names otherwise."""
    names = [v.name for v in graph.inputs]
    if not isinstance(model, nn.Module) or kwargs or len(names) != len(args) or \
            not all(isinstance(a, Tensor) for a in args):
        return names
    try:
        params = [p for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return names
    return [params[i].name if i < len(params) else n for i, n in enumerate(names)]


def _split_args(args):
    if isinstance(args, Tensor):
        return (args,), {}
    if isinstance(args, list):
        args = tuple(args)
    if not isinstance(args, tuple):
        raise TypeError(f"chainrule.onnx.export: args must be a Tensor or a tuple of them, got "
                        f"{type(args).__name__}")
    if args and isinstance(args[-1], dict):
        return args[:-1], dict(args[-1])
    return args, {}


def _capture(model, args, kwargs):
    was_training = isinstance(model, nn.Module) and model.training
    if was_training:
        model.eval()
    try:
        with no_grad():
            graph = capture_graph(model, *args, **kwargs)
            _check_constants(model, args, kwargs, graph)
            return graph
    except Unsupported as e:
        raise RuntimeError(f"chainrule.onnx.export: the call cannot be exported: {e}") from None
    finally:
        if was_training:
            model.train()


def _constants(graph):
    """The arrays a graph holds as fixed: its constants, and the array parameters of its ops
    that are not values of the graph (``op.array_params``: a mask computed by a comparison is
    exported as that comparison)."""
    arrays = [v.tensor._data for v in graph.state if v.name.startswith("_tensor_constant")]
    for op in graph.ops:
        arrays += [p for k, p in op.params.items()
                   if isinstance(p, np.ndarray) and k not in op.array_params]
    return arrays


def _check_constants(model, args, kwargs, graph):
    """Refuse a graph whose constants depend on the inputs.

    Tensors that no recorded primitive made (a comparison ``x > 0``, an integer cast, ``argmax``
    build their results outside the declared primitives) enter a captured graph as constants,
    frozen at the example's values. A second capture on other floating inputs shows them: a
    constant of the call that changes with the inputs would be exported wrongly. The same holds
    for an array parameter of a recorded op, such as the condition of ``where(x > 0, x, y)``."""
    first = _constants(graph)
    if not first:
        return
    rng = np.random.default_rng(0)

    def other(x):
        if isinstance(x, Tensor) and x._data.dtype.kind == "f":
            d = x._data
            return x._make((d * 0.5 + rng.standard_normal(d.shape) * (1 + np.abs(d).max(initial=0)))
                           .astype(d.dtype))
        if isinstance(x, (tuple, list)):
            return type(x)(other(v) for v in x)
        if isinstance(x, dict):
            return {k: other(v) for k, v in x.items()}
        return x
    try:
        second = _constants(capture_graph(model, *other(args), **other(kwargs)))
    except Exception:     # noqa: BLE001 — the model refuses other values: nothing to compare
        return
    if len(first) != len(second) or any(a.shape != b.shape or not np.array_equal(a, b)
                                        for a, b in zip(first, second)):
        raise RuntimeError(
            "chainrule.onnx.export: the call cannot be exported: it computes a tensor from its "
            "inputs with an operation the capture does not record (a comparison such as x > 0, "
            "an integer cast, argmax, ...), which would be frozen into the graph as a constant; "
            "use recorded operations (chainrule.heaviside, clamp, relu, where on a fixed mask)")


def _doc(model):
    return f"chainrule export of {type(model).__name__}"


# ---------------------------------------------------------------------------- the graph
def build_model(onnx, graph, input_names=None, output_names=None, dynamic_axes=None,
                opset=17, fold=True, export_params=True, doc=""):
    """The ModelProto of a captured :class:`~chainrule.fx.Graph`."""
    helper = onnx.helper
    for ins in graph.instructions:
        if not isinstance(ins, (Op, Value)) or getattr(ins, "kind", "alias") == "random":
            what = type(ins).__name__ if not isinstance(ins, Value) else "a random draw"
            raise RuntimeError(f"chainrule.onnx.export: the call does more than compute its "
                               f"outputs ({what}: a backward, an optimizer step, an in-place "
                               "update or random numbers); export a model in eval mode")
    inputs, outputs = list(graph.inputs), graph.output_values()
    if not outputs:
        raise ValueError("chainrule.onnx.export: the call returns no Tensor to export")
    in_names = _names(input_names, [v.name for v in inputs], "input_names")
    out_names = _names(output_names, ["output"] if len(outputs) == 1 else
                       [f"output_{i}" for i in range(len(outputs))], "output_names")
    if len(set(in_names + out_names)) != len(in_names) + len(out_names):
        raise ValueError(f"chainrule.onnx.export: input and output names must be distinct, got "
                         f"{in_names + out_names}")
    dims = _dynamic_dims(dynamic_axes, dict(zip(in_names, [v.shape for v in inputs])),
                         dict(zip(out_names, [v.shape for v in outputs])))

    b = Builder(onnx, graph, opset, fold, not export_params)
    b.claimed = set(in_names + out_names)
    b.used |= b.claimed
    for v, name in zip(inputs, in_names):
        b.names[v.index] = name
    param_inputs = []
    for v in graph.state:
        if export_params or v.name.startswith("_tensor_constant") or v.shape == (0,):
            b.consts[v.index] = v.tensor._data
        else:
            b.names[v.index] = b.own_name(v)
            param_inputs.append(v)
    for ins in graph.instructions:
        if isinstance(ins, Value):            # an alias (detach): the same array
            src = ins.source.index
            if src in b.consts:
                b.consts[ins.index] = b.consts[src]
            else:
                b.names[ins.index] = b.names[src]
            continue
        b.producer[ins.out.index] = ins
        if fold and all(v.index in b.consts for v in ins.inputs):
            b.consts[ins.out.index] = ins.prim.run(*[b.consts[v.index] for v in ins.inputs],
                                                   **ins.params)
            continue
        emit = emitter_of(ins.prim)
        if emit is None:
            raise UnsupportedOperatorError(
                f"chainrule.onnx.export: no ONNX mapping for the primitive "
                f"{ins.prim.__name__!r} ({ins.name}), used as {ins.out.name} = {ins.name}("
                f"{', '.join(v.name for v in ins.inputs)}); export a model built from the "
                "mapped primitives (chainrule.onnx.SUPPORTED_PRIMITIVES lists them)")
        b.names[ins.out.index] = b.own_name(ins.out)
        emit(b, ins)

    # the outputs under their names: rename an op's result, else copy it with Identity
    seen = {}
    for v, name in zip(outputs, out_names):
        seen[v.index] = seen.get(v.index, 0) + 1
    renames = {}
    for v, name in zip(outputs, out_names):
        if (v.kind == "op" and v.index not in b.consts and seen[v.index] == 1
                and b.names[v.index] not in renames):
            renames[b.names[v.index]] = name
        else:
            b.node("Identity", [b.value(v)], out=name)
    for node in b.nodes:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    nodes, live = _live_nodes(b.nodes, out_names)

    graph_inputs = [_info(helper, name, v.dtype, v.shape, dims.get(name, {}))
                    for v, name in zip(inputs, in_names)]
    graph_inputs += [_info(helper, b.names[v.index], v.dtype, v.shape, {}) for v in param_inputs]
    inits = [onnx.numpy_helper.from_array(np.ascontiguousarray(a), name)
             for name, a in b.initializers.items() if name in live]
    graph_outputs = [helper.make_tensor_value_info(name, b.dtype(v.dtype), None)
                     for v, name in zip(outputs, out_names)]
    g = helper.make_graph(nodes, "chainrule", graph_inputs, graph_outputs, inits)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(g, opset_imports=opsets, producer_name="chainrule",
                              producer_version=_version(), doc_string=doc,
                              ir_version=helper.find_min_ir_version_for(opsets))
    _output_shapes(onnx, model, outputs, out_names, dims)
    onnx.checker.check_model(model)
    return model


def _version():
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("chainrule")
    except (ImportError, PackageNotFoundError):
        return "unknown"


def _names(given, default, what):
    if given is None:
        return list(default)
    given = list(given)
    if len(given) > len(default) or not all(isinstance(n, str) and n for n in given):
        raise ValueError(f"chainrule.onnx.export: {what} must be at most {len(default)} "
                         f"non-empty strings (one per {what.split('_')[0]}), got {given}")
    return given + list(default[len(given):])


def _dynamic_dims(dynamic_axes, in_shapes, out_shapes):
    """{tensor name: {axis: dim name}} from torch's two forms of ``dynamic_axes``."""
    dims = {}
    shapes = {**in_shapes, **out_shapes}
    for name, axes in (dynamic_axes or {}).items():
        if name not in shapes:
            warnings.warn(f"chainrule.onnx.export: dynamic_axes names {name!r}, which is not an "
                          f"input or output name ({', '.join(shapes)}); it is ignored",
                          stacklevel=4)
            continue
        if isinstance(axes, dict):
            named = {int(a): str(n) for a, n in axes.items()}
        elif isinstance(axes, (list, tuple)):
            named = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        else:
            raise TypeError(f"chainrule.onnx.export: dynamic_axes[{name!r}] must be a list of "
                            f"axes or a dict {{axis: name}}, got {type(axes).__name__}")
        rank = len(shapes[name])
        for a in named:
            if not -rank <= a < rank:
                raise ValueError(f"chainrule.onnx.export: dynamic_axes[{name!r}] names axis {a},"
                                 f" but {name} has {rank} dimensions")
        dims[name] = {a % rank: n for a, n in named.items()}
    return dims


def _info(helper, name, dtype, shape, dynamic):
    dims = [dynamic.get(i, n) for i, n in enumerate(shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                         dims)


def _live_nodes(nodes, out_names):
    """The nodes the outputs depend on (in order), and every tensor name they read or write."""
    live, keep = set(out_names), []
    for node in reversed(nodes):
        if any(o in live for o in node.output):
            keep.append(node)
            live.update(node.input)
    return keep[::-1], live


def _output_shapes(onnx, model, outputs, out_names, dims):
    """Each output's shape: the names ``dynamic_axes`` gives, then what ONNX shape inference
    derives from the inputs (a dynamic input's axis flows through), else the traced size."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph.output
    except Exception:     # noqa: BLE001 — inference is a refinement; the traced sizes stay
        inferred = []
    found = {o.name: o.type.tensor_type.shape for o in inferred
             if o.type.tensor_type.HasField("shape")}
    for out, v, name in zip(model.graph.output, outputs, out_names):
        shape = out.type.tensor_type.shape
        shape.Clear()
        known = found.get(name)
        for i, n in enumerate(v.shape):
            d = shape.dim.add()
            if i in dims.get(name, {}):
                d.dim_param = dims[name][i]
            elif known is not None and i < len(known.dim) and known.dim[i].HasField("dim_param"):
                d.dim_param = known.dim[i].dim_param
            else:
                d.dim_value = n


def _write(f, data: bytes):
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"chainrule.onnx.export: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")



def _session_export(model, args):
    """What compile(backend="onnxruntime") exports: every size static, and the structure of
    the result (Tensors as ``TENSOR``) to rebuild it from the session's outputs."""
    proto, graph = export_graph(model, args)
    return proto, _structure(graph.output)


def _structure(tree):
    if isinstance(tree, Value):
        return TENSOR
    if isinstance(tree, (tuple, list)):
        items = [_structure(x) for x in tree]
        return tuple(items) if isinstance(tree, tuple) else items
    if isinstance(tree, dict):
        return {k: _structure(x) for k, x in tree.items()}
    return tree


register_exporter(_session_export)
