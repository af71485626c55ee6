"""The table: chainrule primitive -> the ONNX nodes that compute it.

Each entry is one small function ``emit(b, op)`` that reads ``op``'s parameters (those the
primitive declares, see its class in :mod:`chainrule.ops` or :mod:`chainrule.nn.functional`),
appends nodes through the :class:`~._builder.Builder` ``b`` and names its last node's output
``b.y(op)``. A primitive recorded under another torch name (``Reshape.named("ViewBackward0")``)
is a subclass of the one in the table and finds its entry through the class hierarchy.

Shapes a primitive bakes in at capture time (a view's target shape, an expand's size) are
written so that a dynamic axis (``dynamic_axes``) stays free: the leading dimensions a reshape
keeps become ONNX's ``0`` ("copy this dimension"), an inferred one ``-1``, an expand's
unchanged dimensions ``1`` (ONNX's Expand broadcasts both ways).
"""
from __future__ import annotations

import math

import numpy as np

from ..nn.functional import activation as act
from ..nn.functional.attention import Attention, causal_mask
from ..nn.functional.recurrent import RecurrentLayer
from ..nn.functional import conv, normalization, pooling
from ..ops import elementwise as ew
from ..ops import indexing, linalg, reduction, shape
from ..ops.array_function import ArrayFunction
from ..ops.softmax import LogSoftmax, Softmax
from ._builder import INT64_MAX, UnsupportedOperatorError

TABLE = {}


def emits(*prims):
    """Register the decorated function as the emitter of ``prims``."""
    def register(fn):
        for p in prims:
            TABLE[p] = fn
        return fn
    return register


def emitter_of(prim):
    """The emitter of a primitive class (or of the primitive it is a named variant of)."""
    for cls in prim.__mro__:
        fn = TABLE.get(cls)
        if fn is not None:
            return fn
    return None


def unsupported(op, why):
    return UnsupportedOperatorError(
        f"chainrule.onnx.export: the primitive {op.prim.__name__!r} ({op.name}) {why}")


# ---------------------------------------------------------------------------- elementwise
_UNARY = {ew.Relu: "Relu", ew.Tanh: "Tanh", ew.Sigmoid: "Sigmoid", ew.Exp: "Exp",
          ew.Log: "Log", ew.Sqrt: "Sqrt", ew.Abs: "Abs", ew.Neg: "Neg", ew.Sin: "Sin",
          ew.Cos: "Cos", ew.Tan: "Tan", ew.Erf: "Erf", ew.Floor: "Floor", ew.Ceil: "Ceil",
          ew.Sign: "Sign", ew.Asin: "Asin", ew.Acos: "Acos", ew.Atan: "Atan", ew.Sinh: "Sinh",
          ew.Cosh: "Cosh", ew.Asinh: "Asinh", ew.Acosh: "Acosh", ew.Atanh: "Atanh",
          ew.Round: "Round"}
_BINARY = {ew.Add: "Add", ew.Sub: "Sub", ew.Mul: "Mul", ew.Div: "Div", ew.Pow: "Pow",
           ew.Maximum: "Max", ew.Minimum: "Min"}


def _unary(b, op):
    b.node(_UNARY[_base(op.prim, _UNARY)], [b.inp(op, 0)], out=b.y(op))


def _binary(b, op):
    b.node(_BINARY[_base(op.prim, _BINARY)], [b.inp(op, 0, "out"), b.inp(op, 1, "out")],
           out=b.y(op))


def _base(prim, table):
    return next(c for c in prim.__mro__ if c in table)


emits(*_UNARY)(_unary)
emits(*_BINARY)(_binary)


@emits(ew.Rsqrt)
def _rsqrt(b, op):
    b.node("Reciprocal", [b.node("Sqrt", [b.inp(op, 0)])], out=b.y(op))


@emits(ew.AddScaled)      # a + α·b, and SubScaled: a − α·b
def _add_scaled(b, op):
    dt = op.out.dtype
    scaled = b.node("Mul", [b.inp(op, 1, "out"), b.scalar(op.params["alpha"], dt, "alpha")])
    kind = "Sub" if issubclass(op.prim, ew.SubScaled) else "Add"
    b.node(kind, [b.inp(op, 0, "out"), scaled], out=b.y(op))


@emits(ew.Rsub)           # c − x
def _rsub(b, op):
    b.node("Sub", [b.scalar(op.params["value"], op.out.dtype, "value"), b.inp(op, 0, "out")],
           out=b.y(op))


@emits(ew.PowScalar)      # xᶜ
def _pow_scalar(b, op):
    b.node("Pow", [b.inp(op, 0, "out"), b.scalar(op.params["exponent"], op.out.dtype,
                                                 "exponent")], out=b.y(op))


@emits(ew.PowOfNumber)    # cˣ
def _pow_of_number(b, op):
    b.node("Pow", [b.scalar(op.params["base"], op.out.dtype, "base"), b.inp(op, 0, "out")],
           out=b.y(op))


@emits(ew.Clamp)
def _clamp(b, op):
    dt = op.out.dtype
    lo, hi = op.params.get("min"), op.params.get("max")
    inputs = [b.inp(op, 0), "" if lo is None else b.scalar(lo, dt, "min"),
              "" if hi is None else b.scalar(hi, dt, "max")]
    while inputs[-1] == "":
        inputs.pop()
    b.node("Clip", inputs, out=b.y(op))


def _unbroadcast(mask):
    """A captured mask with every axis along which it does not change cut to size 1: the mask
    was broadcast to the traced shape, and must broadcast to another batch size."""
    mask = np.asarray(mask, bool)
    for axis in range(mask.ndim):
        first = mask.take([0], axis)
        if mask.shape[axis] > 1 and (mask == first).all():
            mask = first
    return mask


def _mask(b, op, name):
    """A where's or masked_fill's mask: the graph's value when it was computed in the graph
    (``op.array_params``), else the captured constant."""
    value = op.array_params.get(name)
    if value is not None:
        return b.value(value)
    return b.constant(_unbroadcast(op.params[name]), name)


@emits(ew.Where)          # y = a where cond else b
def _where(b, op):
    b.node("Where", [_mask(b, op, "cond"), b.inp(op, 0, "out"), b.inp(op, 1, "out")],
           out=b.y(op))


@emits(ew.MaskedFill)     # y = value where mask else x
def _masked_fill(b, op):
    b.node("Where", [_mask(b, op, "mask"), b.scalar(op.params["value"], op.out.dtype, "value"),
                     b.inp(op, 0)], out=b.y(op))


_ARRAY_FUNCTIONS = {np.greater: "Greater", np.less: "Less", np.equal: "Equal",
                    np.greater_equal: "GreaterOrEqual", np.less_equal: "LessOrEqual",
                    np.logical_and: "And", np.logical_or: "Or", np.logical_xor: "Xor",
                    np.logical_not: "Not", np.isnan: "IsNaN"}


@emits(ArrayFunction)     # comparisons, logic, casts to integer or bool dtypes
def _array_function(b, op):
    fn = op.params["fn"]
    inputs = [b.value(v) for v in op.inputs]
    if fn is np.not_equal:
        b.node("Not", [b.node("Equal", inputs)], out=b.y(op))
    elif fn in _ARRAY_FUNCTIONS:
        b.node(_ARRAY_FUNCTIONS[fn], inputs, out=b.y(op))
    elif getattr(fn, "func", None) is np.ndarray.astype:
        b.node("Cast", inputs, out=b.y(op), to=b.dtype(op.out.dtype))
    else:
        raise unsupported(op, f"computes {getattr(fn, '__name__', fn)!r}, which has no ONNX "
                              "mapping")


@emits(ew.Cast)
def _cast(b, op):
    b.node("Cast", [b.inp(op, 0)], out=b.y(op), to=b.dtype(op.out.dtype))


@emits(shape.Clone, shape.Alias)
def _identity(b, op):
    b.node("Identity", [b.inp(op, 0)], out=b.y(op))


# ---------------------------------------------------------------------------- activations
@emits(act.LeakyRelu)
def _leaky_relu(b, op):
    b.node("LeakyRelu", [b.inp(op, 0)], out=b.y(op), alpha=float(op.params["slope"]))


@emits(act.Elu)           # λ·(x if x > 0 else α(e^{s·x} − 1)); ELU when λ = s = 1
def _elu(b, op):
    p, dt = op.params, op.out.dtype
    alpha = float(p["alpha"])
    scale, input_scale = float(p.get("scale", 1.0)), float(p.get("input_scale", 1.0))
    x = b.inp(op, 0)
    if scale == 1.0 and input_scale == 1.0:
        b.node("Elu", [x], out=b.y(op), alpha=alpha)
        return
    sx = b.node("Mul", [x, b.scalar(input_scale, dt, "input_scale")])
    neg = b.node("Mul", [b.node("Sub", [b.node("Exp", [sx]), b.scalar(1, dt, "one")]),
                         b.scalar(alpha, dt, "alpha")])
    picked = b.node("Where", [b.node("Greater", [x, b.scalar(0, dt, "zero")]), x, neg])
    b.node("Mul", [picked, b.scalar(scale, dt, "scale")], out=b.y(op))


@emits(act.Gelu)
def _gelu(b, op):
    """½x(1 + erf(x/√2)); ``approximate='tanh'``: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    dt, x = op.out.dtype, b.inp(op, 0)
    if op.params.get("approximate", "none") == "tanh":
        cube = b.node("Mul", [b.node("Mul", [x, x]), x])
        inner = b.node("Add", [x, b.node("Mul", [cube, b.scalar(0.044715, dt, "c")])])
        t = b.node("Tanh", [b.node("Mul", [inner, b.scalar(math.sqrt(2 / math.pi), dt, "k")])])
    else:
        t = b.node("Erf", [b.node("Div", [x, b.scalar(math.sqrt(2.0), dt, "sqrt2")])])
    half_x = b.node("Mul", [x, b.scalar(0.5, dt, "half")])
    b.node("Mul", [half_x, b.node("Add", [t, b.scalar(1, dt, "one")])], out=b.y(op))


@emits(act.Silu)          # x·σ(x)
def _silu(b, op):
    x = b.inp(op, 0)
    b.node("Mul", [x, b.node("Sigmoid", [x])], out=b.y(op))


@emits(act.Heaviside)     # 1 where x > 0, 0 where x < 0, ``values`` elsewhere (x = 0, NaN)
def _heaviside(b, op):
    dt, x = op.out.dtype, b.inp(op, 0)
    zero, one = b.scalar(0, dt, "zero"), b.scalar(1, dt, "one")
    inner = b.node("Where", [b.node("Less", [x, zero]), zero, b.inp(op, 1, "out")])
    b.node("Where", [b.node("Greater", [x, zero]), one, inner], out=b.y(op))


@emits(act.Softplus)      # (1/β) log(1 + e^{βx}), x where βx > threshold
def _softplus(b, op):
    dt, x = op.out.dtype, b.inp(op, 0)
    beta, threshold = float(op.params.get("beta", 1.0)), op.params.get("threshold")
    bx = x if beta == 1.0 else b.node("Mul", [x, b.scalar(beta, dt, "beta")])
    y = b.node("Softplus", [bx])
    if beta != 1.0:
        y = b.node("Div", [y, b.scalar(beta, dt, "beta")])
    if threshold is None:
        b.node("Identity", [y], out=b.y(op))
        return
    above = b.node("Greater", [bx, b.scalar(threshold, dt, "threshold")])
    b.node("Where", [above, x, y], out=b.y(op))


@emits(act.Hardtanh)
def _hardtanh(b, op):
    dt = op.out.dtype
    b.node("Clip", [b.inp(op, 0), b.scalar(op.params["min_val"], dt, "min"),
                    b.scalar(op.params["max_val"], dt, "max")], out=b.y(op))


@emits(act.Threshold)     # x where x > threshold, value elsewhere
def _threshold(b, op):
    dt, x = op.out.dtype, b.inp(op, 0)
    above = b.node("Greater", [x, b.scalar(op.params["threshold"], dt, "threshold")])
    b.node("Where", [above, x, b.scalar(op.params["value"], dt, "value")], out=b.y(op))


@emits(Softmax)
def _softmax(b, op):
    b.node("Softmax", [b.inp(op, 0)], out=b.y(op), axis=int(op.params["dim"]))


@emits(LogSoftmax)
def _log_softmax(b, op):
    b.node("LogSoftmax", [b.inp(op, 0)], out=b.y(op), axis=int(op.params["dim"]))


# ---------------------------------------------------------------------------- linear algebra
@emits(linalg.Addmm)      # bias + A·B; a Linear layer's addmm(bias, x, Wᵀ) reads W with transB
def _addmm(b, op):
    bias, a, m = op.inputs
    src = b.producer.get(m.index)
    trans_b = 0
    if (src is not None and issubclass(src.prim, shape.Permute)
            and tuple(src.params["dims"]) == (1, 0)):
        m, trans_b = src.inputs[0], 1
    inputs = [b.value(a, op.out.dtype), b.value(m, op.out.dtype)]
    if bias.shape == (op.out.shape[1],) or bias.shape in ((), (1,)):
        b.node("Gemm", inputs + [b.value(bias, op.out.dtype)], out=b.y(op), transB=trans_b)
    else:                 # a bias Gemm cannot take unidirectionally: add it after
        prod = b.node("Gemm", inputs, transB=trans_b)
        b.node("Add", [prod, b.value(bias, op.out.dtype)], out=b.y(op))


@emits(linalg.MatMul, linalg.Mv, linalg.Dot)
def _matmul(b, op):
    b.node("MatMul", [b.inp(op, 0, "out"), b.inp(op, 1, "out")], out=b.y(op))


@emits(Attention)         # D ⊙ softmax(Q Kᵀ·s + B) V; a row masked throughout gets weights 0
def _attention(b, op):
    dt, params = op.out.dtype, op.params
    rank = len(op.inputs[1].shape)
    kt = b.node("Transpose", [b.inp(op, 1)], perm=list(range(rank - 2)) + [rank - 1, rank - 2])
    scores = b.node("Mul", [b.node("MatMul", [b.inp(op, 0), kt]),
                            b.scalar(params["scale"], dt, "scale")])
    if params["causal"]:
        above = causal_mask(op.inputs[0].shape[-2], op.inputs[1].shape[-2])
        scores = b.node("Where", [b.constant(above, "causal"), b.scalar(-np.inf, dt, "minus_inf"),
                                  scores])
    if params["has_bias"]:
        scores = b.node("Add", [scores, b.inp(op, 3, "out")])
        dead = b.node("Equal", [b.reduce("ReduceMax", scores, [-1], True),
                                b.scalar(-np.inf, dt, "minus_inf")])
        zero = b.scalar(0, dt, "zero")
        weights = b.node("Softmax", [b.node("Where", [dead, zero, scores])], axis=-1)
        weights = b.node("Where", [dead, zero, weights])
    else:
        weights = b.node("Softmax", [scores], axis=-1)
    if params["has_noise"]:
        weights = b.node("Mul", [weights, b.inp(op, len(op.inputs) - 1, "out")])
    b.node("MatMul", [weights, b.inp(op, 2)], out=b.y(op))


# ONNX's gate orders: LSTM i, o, f, c (torch's i, f, g, o); GRU z, r, h (torch's r, z, n)
_ONNX_GATES = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


@emits(RecurrentLayer)    # one layer in one direction: ONNX's LSTM, GRU or RNN operator
def _recurrent_layer(b, op):
    mode, reverse = op.params["mode"], op.params["reverse"]
    hidden = op.inputs[4].shape[1]
    rows = np.concatenate([np.arange(g * hidden, (g + 1) * hidden) for g in _ONNX_GATES[mode]])
    order = b.ints(rows, "gate_order")
    axis0 = b.ints([0], "axis0")

    def gates(i, name):   # a weight or bias with its gate blocks in ONNX's order, (1, ...)
        reordered = b.node("Gather", [b.inp(op, i, op.out.dtype), order], axis=0, hint=name)
        return b.node("Unsqueeze", [reordered, axis0])

    def state(i, name):   # (1, N, H); zeros (the layers' default) left out: ONNX's default,
        known = b.const_of(op.inputs[i])   # and the batch axis then stays free
        if known is not None and not known.any():
            return ""
        return b.node("Unsqueeze", [b.inp(op, i), axis0], hint=name)

    inputs = [b.inp(op, 0), gates(3, "W"), gates(4, "R")]
    if op.inputs[5].shape != (0,):   # biases given (both or neither: the layers' bias flag)
        inputs.append(b.node("Concat", [gates(5, "Wb"), gates(6, "Rb")], axis=1, hint="B"))
    else:
        inputs.append("")
    inputs += ["", state(1, "initial_h")]
    attrs = {"hidden_size": int(hidden), "direction": "reverse" if reverse else "forward"}
    if mode == "LSTM":
        inputs.append(state(2, "initial_c"))
    elif mode == "GRU":
        attrs["linear_before_reset"] = 1   # r scales W_hn h + b_hn, as torch's GRU
    else:
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"]
    ys, y_c = b.fresh("Y"), b.fresh("Y_c")
    outputs = [ys] + (["", y_c] if mode == "LSTM" else [])
    b.nodes.append(b.onnx.helper.make_node(
        {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN"), inputs, outputs,
        name=b.fresh("/" + ys), **attrs))
    # Y (L, 1, N, H) -> (L, N, H); an LSTM's output has c_L as its row L
    if mode == "LSTM":
        ys = b.node("Squeeze", [ys, b.ints([1], "axis1")])
        b.node("Concat", [ys, y_c], out=b.y(op), axis=0)
    else:
        b.node("Squeeze", [ys, b.ints([1], "axis1")], out=b.y(op))


# ---------------------------------------------------------------------------- shapes
@emits(shape.Reshape)
def _reshape(b, op):
    """The target shape with the leading dimensions kept from the input written as 0 and a
    ``-1`` of the call kept, so that a dynamic batch axis stays free."""
    src, out = op.inputs[0].shape, op.out.shape
    asked = tuple(op.params.get("shape", out))
    target, keep = list(out), True
    for i, n in enumerate(out):
        if keep and i < len(src) and src[i] == n and n != 0:
            target[i] = 0
        else:
            keep = False
            if i < len(asked) and asked[i] == -1 and len(asked) == len(out):
                target[i] = -1
    b.node("Reshape", [b.inp(op, 0), b.ints(target, "shape")], out=b.y(op))


@emits(shape.Permute)
def _permute(b, op):
    b.node("Transpose", [b.inp(op, 0)], out=b.y(op), perm=[int(d) for d in op.params["dims"]])


@emits(shape.BroadcastTo)
def _expand(b, op):
    src, out = op.inputs[0].shape, op.out.shape
    pad = len(out) - len(src)
    target = [1 if i >= pad and src[i - pad] == n else n for i, n in enumerate(out)]
    b.node("Expand", [b.inp(op, 0), b.ints(target, "shape")], out=b.y(op))


@emits(shape.Cat)         # cat, and stack (recorded as a cat of unsqueezed pieces)
def _cat(b, op):
    names = [b.value(v, op.out.dtype) for v in op.inputs]
    b.node("Concat", names, out=b.y(op), axis=int(op.params["dim"]))


@emits(shape.Flip)
def _flip(b, op):
    dims = [int(d) for d in op.params["dims"]]
    n = len(dims)
    b.node("Slice", [b.inp(op, 0), b.ints([-1] * n, "starts"), b.ints([np.iinfo(np.int64).min] * n,
                                                                        "ends"),
                     b.ints(dims, "axes"), b.ints([-1] * n, "steps")], out=b.y(op))


@emits(shape.Pad)
def _pad(b, op):
    widths = op.params["widths"]
    pads = [int(lo) for lo, _ in widths] + [int(hi) for _, hi in widths]
    value = op.params.get("value", 0)
    b.node("Pad", [b.inp(op, 0), b.ints(pads, "pads"),
                   b.scalar(value, op.out.dtype, "value")], out=b.y(op), mode="constant")


@emits(indexing.GetItem)
def _getitem(b, op):
    """Basic indexing (ints, slices, None, ...) as Slice, then Squeeze for the integers and
    Unsqueeze for the Nones; whole-axis slices emit nothing (a dynamic axis stays free)."""
    if not op.params.get("basic", False):
        raise unsupported(op, "with an advanced (tensor or list) index has no ONNX mapping; "
                          "index with integers and slices")
    key = op.params["key"]
    key = key if isinstance(key, tuple) else (key,)
    ndim = len(op.inputs[0].shape)
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - used) + key[i + 1:]
    else:
        key = key + (slice(None),) * (ndim - used)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for k in key:
        if k is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, slice):
            if k != slice(None):
                step = 1 if k.step is None else int(k.step)
                lo = k.start if k.start is not None else (0 if step > 0 else INT64_MAX)
                hi = k.stop if k.stop is not None else (INT64_MAX if step > 0 else -INT64_MAX - 1)
                starts.append(int(lo)), ends.append(int(hi)), axes.append(axis)
                steps.append(step)
            out_axis += 1
        elif isinstance(k, (int, np.integer)):
            k = int(k)
            starts.append(k), ends.append(k + 1 if k != -1 else INT64_MAX), axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        else:
            raise unsupported(op, f"with the index {k!r} has no ONNX mapping")
        axis += 1
    x = b.inp(op, 0)
    if starts:
        x = b.node("Slice", [x, b.ints(starts, "starts"), b.ints(ends, "ends"),
                             b.ints(axes, "axes"), b.ints(steps, "steps")])
    if squeeze:
        x = b.squeeze(x, squeeze)
    if unsqueeze:
        x = b.unsqueeze(x, unsqueeze)
    b.node("Identity", [x], out=b.y(op))


# ---------------------------------------------------------------------------- reductions
@emits(reduction.Sum)     # Sum and Mean (a subclass)
def _sum(b, op):
    dims = op.params.get("dims")
    axes = None if dims is None else [int(d) for d in dims]
    kind = "ReduceMean" if issubclass(op.prim, reduction.Mean) else "ReduceSum"
    b.reduce(kind, b.inp(op, 0), axes, op.params.get("keepdim", False), out=b.y(op))


@emits(reduction.Amax)
def _amax(b, op):
    dims = op.params.get("dims")
    axes = None if dims is None else [int(d) for d in dims]
    kind = "ReduceMin" if issubclass(op.prim, reduction.Amin) else "ReduceMax"
    b.reduce(kind, b.inp(op, 0), axes, op.params.get("keepdim", False), out=b.y(op))


# ---------------------------------------------------------------------------- layers
def _hw_pads(pads):
    """chainrule's (top, bottom, left, right) as ONNX's [top, left, bottom, right]."""
    t, bot, l, r = (int(p) for p in pads)
    return [t, l, bot, r]


@emits(conv.Conv)
def _conv(b, op):
    """2-D convolution; a 3-D (N, C, L) input is conv1d (chainrule runs it as H = 1)."""
    ndim = len(op.inputs[0].shape)
    if ndim not in (3, 4) or op.params.get("out_hw"):
        raise unsupported(op, "has an ONNX mapping for (N, C, L) and (N, C, H, W) inputs only")
    geo = op.params["geo"]
    x, w = b.inp(op, 0), b.inp(op, 1, op.out.dtype)
    inputs = [x, w]
    if len(op.inputs) > 2 and op.inputs[2].shape != (0,):    # bias given
        inputs.append(b.inp(op, 2, op.out.dtype))
    kernel, stride, dilation = (list(map(int, v)) for v in (geo.kernel, geo.stride, geo.dilation))
    pads = _hw_pads(geo.pads)
    if ndim == 3:          # the width axis alone: pads (left, right)
        kernel, stride, dilation, pads = kernel[1:], stride[1:], dilation[1:], [pads[1], pads[3]]
    b.node("Conv", inputs, out=b.y(op), kernel_shape=kernel, strides=stride, dilations=dilation,
           pads=pads, group=int(geo.groups))


def _window(op):
    win = op.params["win"]
    if len(op.inputs[0].shape) != 4:
        raise unsupported(op, "has an ONNX mapping for 4-D (N, C, H, W) inputs only")
    return win


@emits(pooling.MaxPool2D)  # the window's pads already hold ceil_mode's overhang
def _max_pool(b, op):
    win = _window(op)
    b.node("MaxPool", [b.inp(op, 0)], out=b.y(op), kernel_shape=[int(k) for k in win.kernel],
           strides=[int(s) for s in win.stride], dilations=[int(d) for d in win.dilation],
           pads=_hw_pads(win.pads))


@emits(pooling.AvgPool2D)  # (window sum)·scale = AveragePool(counting the pads)·(scale·kh·kw)
def _avg_pool(b, op):
    win = _window(op)
    dilation = [int(d) for d in win.dilation]
    kw = {}
    if dilation != [1, 1]:
        if b.opset < 19:
            raise unsupported(op, "with dilation needs opset_version >= 19")
        kw["dilations"] = dilation
    area = int(np.prod(win.kernel))
    scale = np.asarray(op.params["scale"], dtype=np.float64) * area
    whole = np.allclose(scale, 1.0, rtol=0, atol=1e-12)
    y = b.node("AveragePool", [b.inp(op, 0)], out=b.y(op) if whole else None,
               kernel_shape=[int(k) for k in win.kernel], strides=[int(s) for s in win.stride],
               pads=_hw_pads(win.pads), count_include_pad=1, **kw)
    if not whole:
        b.node("Mul", [y, b.constant(scale.astype(op.out.dtype), "divisor_scale")], out=b.y(op))


@emits(pooling.AdaptiveAvgPool2D)   # P_h · x · P_wᵀ
def _adaptive_avg_pool(b, op):
    dt = op.out.dtype
    rows = b.node("MatMul", [b.constant(op.params["ph"].astype(dt), "ph"), b.inp(op, 0)])
    b.node("MatMul", [rows, b.constant(op.params["pw"].T.astype(dt), "pw_t")], out=b.y(op))


@emits(normalization.LayerNorm)   # over the trailing dims: LayerNormalization (opset 17)
def _layer_norm(b, op):
    x, w, bias = op.inputs
    dt, n = op.out.dtype, len(x.shape)
    dims = sorted(d % n for d in op.params["dims"])
    if dims != list(range(n - len(dims), n)):
        raise unsupported(op, f"over dims {op.params['dims']} (not the trailing ones) has no "
                          "ONNX mapping")
    if b.opset < 17:
        raise unsupported(op, "needs opset_version >= 17 (LayerNormalization)")
    shape = x.shape[n - len(dims):]
    scale = b.value(w, dt) if w.shape != (0,) else b.constant(np.ones(shape, dt), "ones")
    inputs = [b.value(x), scale]
    if bias.shape != (0,):
        inputs.append(b.value(bias, dt))
    b.node("LayerNormalization", inputs, out=b.y(op), axis=-len(dims),
           epsilon=float(op.params["eps"]))


@emits(normalization.BatchNormEval)
def _batch_norm(b, op):
    x, w, bias, mean, var = op.inputs
    dt, c = op.out.dtype, x.shape[1]
    if tuple(op.params["dims"]) != (0,) + tuple(range(2, len(x.shape))):
        raise unsupported(op, f"over dims {op.params['dims']} has no ONNX mapping")
    scale = b.value(w, dt) if w.shape != (0,) else b.constant(np.ones(c, dt), "ones")
    shift = b.value(bias, dt) if bias.shape != (0,) else b.constant(np.zeros(c, dt), "zeros")
    b.node("BatchNormalization", [b.value(x), scale, shift, b.value(mean, dt), b.value(var, dt)],
           out=b.y(op), epsilon=float(op.params["eps"]))

