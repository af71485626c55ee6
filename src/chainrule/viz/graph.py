"""The computational graph as a picture: nodes, edges with shapes, two levels of detail.

``graph(loss, params=dict(model.named_parameters()))`` walks the recorded nodes from the output
back to the leaves (the chain the deck's backpropagation card runs along). At
``detail="layers"`` each recorded node is one box under torch's name (``AddmmBackward0``); at
``detail="primitives"`` a node that fuses several steps for speed is drawn as the chain of
primitives it computes — ``AddmmBackward0`` as ``matmul → add``, ``LogSoftmaxBackward0`` as
``logsumexp → sub``, ``NllLossBackward0`` as ``gather → neg → mean`` — so the picture shows the
equations of the deck even where the engine runs one fused node. ``direction="forward"`` draws
the tangent flow of forward mode (inputs → output) instead of the gradient flow.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

from .. import fx
from .._graph import AccumulateGrad
from .._io import atomic_open

# a fused node -> the primitives it computes, in order: (name, which of the node's inputs feed
# it); each step also takes the previous step's result
EXPANSIONS = {
    "AddmmBackward0": [("matmul", (1, 2)), ("add", (0,))],
    "MmBackward0": [("matmul", (0, 1))],
    "TBackward0": [("transpose", (0,))],
    "LogSoftmaxBackward0": [("logsumexp", (0,)), ("sub", (0,))],
    "SoftmaxBackward0": [("exp", (0,)), ("sum", ()), ("div", ())],
    "NllLossBackward0": [("gather", (0,)), ("neg", ()), ("mean", ())],
    "MseLossBackward0": [("sub", (0, 1)), ("square", ()), ("mean", ())],
    "BinaryCrossEntropyWithLogitsBackward0": [("logsigmoid", (0,)), ("mul", (1,)), ("neg", ()),
                                              ("mean", ())],
    "ConvolutionBackward0": [("im2col", (0,)), ("matmul", (1,)), ("add", (2,))],
    "NativeBatchNormBackward0": [("sub mean", (0,)), ("div std", ()), ("mul", (1,)),
                                 ("add", (2,))],
    "NativeLayerNormBackward0": [("sub mean", (0,)), ("div std", ()), ("mul", (1,)),
                                 ("add", (2,))],
}


@dataclass
class Node:
    """One box of the picture: an operation (``kind="op"``) or a leaf tensor."""
    id: int
    label: str
    kind: str = "op"           # "op" | "leaf" | "output"
    detail: str = ""           # a second line: a shape, the recorded node it belongs to


@dataclass
class Graph:
    """Nodes and edges (``(src, dst, label)``, src feeding dst) of a computational graph."""
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    direction: str = "backward"

    # ------------------------------------------------------------ output formats
    def to_dot(self, name: str = "graph") -> str:
        """Graphviz DOT source, the output on top and the leaves at the bottom."""
        lines = [f'digraph "{name}" {{', "  rankdir=TB;" if self.direction == "backward"
                 else "  rankdir=BT;", '  node [fontname="Helvetica"];']
        style = {"op": "shape=box", "leaf": 'shape=ellipse, style=filled, fillcolor="#e8f5d0"',
                 "output": 'shape=ellipse, style=filled, fillcolor="#d0e8ff"'}
        for n in self.nodes:
            label = _escape(n.label) + (f"\\n{_escape(n.detail)}" if n.detail else "")
            lines.append(f'  n{n.id} [label="{label}", {style[n.kind]}];')
        for src, dst, label in self.edges:
            lines.append(f'  n{src} -> n{dst} [label="{_escape(label)}"];')
        lines.append("}")
        return "\n".join(lines)

    def to_figure(self):
        """A matplotlib ``Figure`` of the graph in a layered layout (no Graphviz, no pyplot:
        the global backend is never touched)."""
        from . import layout
        return layout.draw(self)

    def save(self, path: str, engine: str = "auto") -> str:
        """Write the picture to ``path`` (.svg, .png, .pdf or .dot), atomically. ``engine``:
        'graphviz' (needs ``dot``), 'matplotlib', or 'auto' (Graphviz when installed)."""
        fmt = os.path.splitext(path)[1].lstrip(".").lower()
        if fmt in ("dot", "gv"):
            data = self.to_dot().encode()
        elif fmt not in ("svg", "png", "pdf"):
            raise ValueError(f"viz.Graph.save: the file must end in .svg, .png, .pdf or .dot, "
                             f"got {path!r}")
        elif engine == "graphviz" or (engine == "auto" and shutil.which("dot")):
            dot = shutil.which("dot")
            if dot is None:
                raise RuntimeError("viz.Graph.save: Graphviz's `dot` is not installed; use "
                                   "engine='matplotlib' (or 'auto')")
            data = subprocess.run([dot, f"-T{fmt}"], input=self.to_dot().encode(),
                                  capture_output=True, check=True).stdout
        elif engine in ("auto", "matplotlib"):
            from . import layout
            data = layout.to_bytes(self.to_figure(), fmt)
        else:
            raise ValueError(f"viz.Graph.save: engine must be 'auto', 'graphviz' or "
                             f"'matplotlib', got {engine!r}")
        with atomic_open(path) as f:
            f.write(data)
        return path

    def _repr_svg_(self):
        from . import layout
        return layout.to_bytes(self.to_figure(), "svg").decode()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self._repr_svg_(), "text/plain": repr(self)}

    def __repr__(self):
        ops = sum(n.kind == "op" for n in self.nodes)
        leaves = sum(n.kind == "leaf" for n in self.nodes)
        return f"Graph({ops} operations, {leaves} leaves, {len(self.edges)} edges)"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _short(name: str) -> str:
    """torch's node name as an operation: 'ReluBackward0' -> 'relu'."""
    base = name.split("Backward")[0]
    return "".join("_" + c.lower() if c.isupper() and i else c.lower()
                   for i, c in enumerate(base))


def graph(tensor, params=None, detail: str = "primitives", direction: str = "backward") -> Graph:
    """The graph that produced ``tensor``.

    Args:
        tensor: an output with a ``grad_fn`` (e.g. a loss); or a captured graph
            (``chainrule.fx.Graph`` or ``GraphModule``), drawn in the order it runs: inputs and
            parameters at the bottom, one box per primitive, arrays' shapes on the edges.
        params: ``dict(model.named_parameters())`` (or any name → tensor dict): leaves are
            labelled with these names (``fc1.weight``) instead of only their shapes.
        detail: ``"primitives"`` (fused nodes opened into their chain of primitives) or
            ``"layers"`` (one box per recorded node, torch's names).
        direction: ``"backward"`` (the gradient flows from the output to the leaves: edges
            carry ∂L/∂(tensor) of the shape shown) or ``"forward"`` (forward mode: tangents flow
            from the leaves to the output).
    """
    if isinstance(tensor, (fx.Graph, fx.GraphModule)):
        return _captured(tensor if isinstance(tensor, fx.Graph) else tensor.graph)
    if detail not in ("primitives", "layers"):
        raise ValueError(f"viz.graph: detail must be 'primitives' or 'layers', got {detail!r}")
    if direction not in ("backward", "forward"):
        raise ValueError(f"viz.graph: direction must be 'backward' or 'forward', got "
                         f"{direction!r}")
    names = {id(t): name for name, t in (params or {}).items()}
    g = Graph(direction=direction)
    flow = "ṫ" if direction == "forward" else "ḡ"
    out = Node(0, "output", "output", str(tuple(tensor.shape)))
    g.nodes.append(out)
    root = tensor.grad_fn
    if root is None:
        return g
    built = {}   # recorded node -> (id of the box its result leaves from, ids its inputs enter)

    def add(label, kind="op", detail_text=""):
        n = Node(len(g.nodes), label, kind, detail_text)
        g.nodes.append(n)
        return n.id

    def build(node):
        if node in built:
            return built[node]
        if isinstance(node, AccumulateGrad):
            v = node.variable
            name = names.get(id(v))
            leaf = add(name or "leaf", "leaf", str(tuple(v.shape)))
            built[node] = (leaf, None)
            return built[node]
        name = node.name()
        steps = EXPANSIONS.get(name) if detail == "primitives" else None
        if not steps:
            label = _short(name) if detail == "primitives" else name
            box = add(label, "op", name if detail == "primitives" and label != name else "")
            entries = [[box] for _ in node._next]
        else:
            ids = [add(step, "op", name if i == 0 else "") for i, (step, _) in enumerate(steps)]
            for a, b in zip(ids, ids[1:]):
                g.edges.append((a, b, ""))
            entries = [[] for _ in node._next]
            for step_id, (_, inputs) in zip(ids, steps):
                for i in inputs:
                    if i < len(entries):
                        entries[i].append(step_id)
            entries = [e or [ids[0]] for e in entries]
            box = ids[-1]
        built[node] = (box, entries)
        for nxt, targets in zip(node._next, entries):
            if nxt is None:
                continue
            src, _ = build(nxt)
            shape = (tuple(nxt.variable.shape) if isinstance(nxt, AccumulateGrad)
                     else nxt.out_shape)
            for entry in targets:
                g.edges.append((src, entry, f"{flow} {shape}"))
        return built[node]

    top, _ = build(root)
    g.edges.append((top, out.id, f"{flow} {tuple(tensor.shape)}"))
    if direction == "backward":      # gradients flow from the output down to the leaves
        g.edges = [(dst, src, label) for src, dst, label in g.edges]
    return g


def _captured(captured) -> Graph:
    """The picture of a captured graph: a leaf per argument and parameter, a box per op (a
    backward, write or call as one more box), the outputs on top; edges carry the shapes."""
    g = Graph(direction="forward")
    box = {}

    def add(label, kind, detail_text=""):
        g.nodes.append(Node(len(g.nodes), label, kind, detail_text))
        return len(g.nodes) - 1

    def source(v):
        if v.index not in box:   # an argument, a parameter or a constant: a leaf
            box[v.index] = add(v.name, "leaf", str(v.shape))
        return box[v.index]

    for ins in captured.instructions:
        if isinstance(ins, fx.Op):
            here = box[ins.out.index] = add(ins.name, "op", ins.prim._node_type.__name__)
            for v in ins.inputs:
                g.edges.append((source(v), here, str(v.shape)))
        elif isinstance(ins, fx.Value):
            box[ins.index] = add("random" if ins.kind == "random" else "detach", "op")
            if ins.source is not None:
                g.edges.append((source(ins.source), box[ins.index], str(ins.shape)))
        elif isinstance(ins, fx.Backward):
            here = add("backward", "op", "chain of VJPs")
            for v, _ in ins.roots:
                g.edges.append((source(v), here, str(v.shape)))
        elif isinstance(ins, fx.Write):
            here = add(f"write {ins.target.name}", "op")
            g.edges.append((source(ins.value), here, str(ins.value.shape)))
        else:
            add(ins.label, "op")
    for v in captured.output_values():
        out = add("output", "output", str(v.shape))
        g.edges.append((source(v), out, str(v.shape)))
    return g
