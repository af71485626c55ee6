"""Rewrites of a captured graph before it is replayed (``chainrule.compile``).

* :func:`fold_batch_norm` — in a graph with no gradient (inference), a convolution followed by
  eval-mode batch norm becomes one convolution with scaled weights and a shifted bias:
  conv(x, w)·s + (b − μ)·s + β = conv(x, w·s) + ((b − μ)·s + β), s = γ/√(σ² + ε). The rounding
  differs from eager's (x·s after the convolution instead of inside it): equal within float32
  rounding, not bit for bit.
* :func:`constants` — the ops that read only state (parameters, buffers, constants) and need
  no gradient: the transposed weights of a Linear layer in inference, the folded weights
  above. A replay computes them once and again only when a tensor they read changes (its
  version counter moves: an optimizer step, ``load_state_dict``, an in-place op).
* :func:`eliminate_dead_ops` — ops whose result nothing uses, and that change nothing.

Elementwise ops that can overwrite an input that dies with them run in place (see
``program._in_place``): the memory of a Linear layer's output serves its ReLU too.
"""
from __future__ import annotations

import numpy as np

from .._graph import Node
from ..nn.functional._optional import NOT_GIVEN, given
from ..nn.functional.conv import Conv
from ..nn.functional.normalization import BatchNormEval
from .graph import Backward, Call, Op, Value, Write


class FoldedConvWeight(Node):
    """w·s per output channel, s = γ/√(σ² + ε) (γ = 1 when not given): a convolution's weight
    with the eval-mode batch norm after it folded in. Shapes: w (O, C, kh, kw), γ, σ² (O,).
    Made only in inference graphs, so it declares no derivative."""

    params = ("eps",)
    differentiable = False

    def forward(self, w, gamma, var):
        s = _bn_scale(gamma, var, self.eps, w.dtype)
        return w * s.reshape((-1,) + (1,) * (w.ndim - 1))


class FoldedConvBias(Node):
    """(b − μ)·s + β, s = γ/√(σ² + ε): the bias of a convolution with the eval-mode batch norm
    after it folded in (b = 0, γ = 1, β = 0 when not given). Shapes: all (O,). No derivative
    (inference graphs only)."""

    params = ("eps",)
    differentiable = False

    def forward(self, b, gamma, beta, mean, var):
        dtype = b.dtype if given(b) else gamma.dtype if given(gamma) else mean.dtype
        s = _bn_scale(gamma, var, self.eps, dtype)
        out = ((b if given(b) else 0) - mean.astype(dtype)) * s
        return out + beta if given(beta) else out


def _bn_scale(gamma, var, eps, dtype):
    inv_std = (1.0 / np.sqrt(var + eps)).astype(dtype)
    return gamma * inv_std if given(gamma) else inv_std


def reads(ins) -> list:
    """The values an instruction reads."""
    if isinstance(ins, Op):
        return [*ins.inputs, *ins.array_params.values()]
    if isinstance(ins, Write):
        return [ins.value]
    if isinstance(ins, Backward):
        return [v for r, g in ins.roots for v in (r, g) if v is not None]
    if isinstance(ins, Value) and ins.source is not None:
        return [ins.source]
    return []


def _uses(graph):
    """{value index: number of reads}: by instructions and by the output."""
    count = {}
    for v in [v for ins in graph.instructions for v in reads(ins)] + graph.output_values():
        count[v.index] = count.get(v.index, 0) + 1
    return count


def _new_value(graph, name, like, shape=None):
    v = Value(len(graph.values), "op", name, like.shape if shape is None else shape, like.dtype)
    graph.values.append(v)
    return v


def _not_given(graph):
    """The state value standing for an optional input not given (made when first needed)."""
    for v in graph.values:
        if v.kind == "state" and v.tensor is NOT_GIVEN:
            return v
    v = Value(len(graph.values), "state", "_not_given", NOT_GIVEN.shape, NOT_GIVEN._data.dtype,
              tensor=NOT_GIVEN)
    graph.values.append(v)
    return v


def is_inference(graph) -> bool:
    """No gradient anywhere: no backward inside, no op result that requires grad."""
    return not any(isinstance(i, Backward) or isinstance(i, Op) and i.out.requires_grad
                   for i in graph.instructions)


def fold_batch_norm(graph) -> int:
    """Fold each eval-mode batch norm into the convolution before it (inference graphs only);
    returns how many were folded."""
    if not is_inference(graph):
        return 0
    uses = _uses(graph)
    producer = {ins.out.index: ins for ins in graph.instructions if isinstance(ins, Op)}
    folded, out = 0, []
    for ins in graph.instructions:
        conv = producer.get(ins.inputs[0].index) if isinstance(ins, Op) and \
            ins.prim is BatchNormEval else None
        if conv is None or conv.prim is not Conv or uses.get(conv.out.index) != 1:
            out.append(ins)
            continue
        x, w = conv.inputs[:2]
        b = conv.inputs[2] if len(conv.inputs) == 3 else _not_given(graph)
        gamma, beta, mean, var = ins.inputs[1:5]
        eps = ins.params["eps"]
        w2 = _new_value(graph, f"{w.name}_folded", w)
        b2 = _new_value(graph, f"{conv.out.name}_bias_folded", w, shape=(w.shape[0],))
        out.remove(conv)
        out += [Op(0, FoldedConvWeight, {"eps": eps}, (w, gamma, var), w2),
                Op(0, FoldedConvBias, {"eps": eps}, (b, gamma, beta, mean, var), b2),
                Op(0, Conv, conv.params, (x, w2, b2), ins.out)]
        folded += 1
    graph.instructions = out
    _renumber(graph)
    return folded


def _written(graph):
    """Ids of the version counters of the tensors a replay may change (write targets, tensors
    an op updates in place, parameters of a replayed optimizer step or zero_grad): a detached
    tensor shares its base's counter."""
    ids = set()
    for ins in graph.instructions:
        if isinstance(ins, Write):
            ids.add(id(ins.target.tensor._version_box))
        elif isinstance(ins, Op):
            ids.update(id(ins.inputs[i].tensor._version_box) for i in ins.prim.mutated_inputs)
        elif isinstance(ins, Call):
            owner = ins.args[0]
            groups = getattr(owner, "param_groups", None)
            params = [p for g in groups for p in g["params"]] if groups is not None else \
                list(owner.parameters()) if hasattr(owner, "parameters") else []
            ids.update(id(p._version_box) for p in params)
    return ids


def constants(graph) -> set:
    """The indices of the ops computed from state alone, with no gradient, reading no tensor
    that the replay itself changes (those are computed once per change of what they read)."""
    written = _written(graph)
    const, folded = set(), set()
    for ins in graph.instructions:
        if not isinstance(ins, Op) or ins.out.requires_grad or ins.prim.mutated_inputs \
                or ins.array_params:
            continue
        if all(v.index in const or v.kind == "state" and id(v.tensor._version_box) not in written
               for v in ins.inputs):
            const.add(ins.out.index)
            folded.add(ins.index)
    return folded


def eliminate_dead_ops(graph) -> int:
    """Drop the ops whose results nothing reads and that update nothing; returns how many."""
    removed = 0
    while True:
        uses = _uses(graph)
        dead = [i for i in graph.instructions if isinstance(i, Op) and not i.prim.mutated_inputs
                and uses.get(i.out.index, 0) == 0]
        if not dead:
            break
        graph.instructions = [i for i in graph.instructions if i not in dead]
        removed += len(dead)
    _renumber(graph)
    return removed


def _renumber(graph):
    for k, ins in enumerate(graph.instructions):
        if isinstance(ins, Op):
            ins.index = k


def optimize(graph) -> dict:
    """Run the rewrites in place; returns what each did."""
    return {"batch_norms_folded": fold_batch_norm(graph),
            "dead_ops_removed": eliminate_dead_ops(graph)}
