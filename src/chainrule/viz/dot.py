"""Draw the computational graph behind a tensor (the deck's "computational graph" card):
operations are nodes, and the tensors that flow between them are edges labelled with shapes."""
from __future__ import annotations

import os
import shutil
import subprocess

from .._io import atomic_open
from .._graph import AccumulateGrad


def to_dot(tensor, name: str = "graph") -> str:
    """Graphviz DOT source of the graph that produced ``tensor``.

    Op nodes are boxes named after their backward function (``MulBackward``), leaves are
    ellipses with their shape, and each edge carries the shape of the tensor passing along it.
    """
    # the name is quoted: the default, "graph", is a DOT keyword and unquoted is a syntax error
    lines = [f'digraph "{name}" {{', "  rankdir=BT;", '  node [fontname="Helvetica"];']
    out_id = "output"
    lines.append(f'  {out_id} [label="output\\n{tuple(tensor.shape)}", shape=ellipse, '
                 'style=filled, fillcolor="#d0e8ff"];')
    root = tensor.grad_fn
    if root is None:
        lines.append("}")
        return "\n".join(lines)
    ids = {}

    def node_id(n):
        if n not in ids:
            ids[n] = f"n{len(ids)}"
            if isinstance(n, AccumulateGrad):
                v = n.variable
                label = f"leaf\\n{tuple(v.shape)}"
                lines.append(f'  {ids[n]} [label="{label}", shape=ellipse, style=filled, '
                             'fillcolor="#e8f5d0"];')
            else:
                lines.append(f'  {ids[n]} [label="{n.name()}", shape=box];')
        return ids[n]

    lines.append(f'  {node_id(root)} -> {out_id} [label="{tuple(tensor.shape)}"];')
    stack, seen = [root], {root}
    while stack:
        n = stack.pop()
        for nxt in n._next:
            if nxt is None:
                continue
            shape = tuple(nxt.variable.shape) if isinstance(nxt, AccumulateGrad) else nxt.out_shape
            lines.append(f'  {node_id(nxt)} -> {node_id(n)} [label="{shape}"];')
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    lines.append("}")
    return "\n".join(lines)


def render(tensor, path: str, format: str | None = None) -> str:
    """Write the graph to ``path`` as SVG, PNG or PDF (by extension) using Graphviz's ``dot``;
    a ``.dot`` path writes the source. Files are written atomically. Returns ``path``."""
    fmt = format or os.path.splitext(path)[1].lstrip(".").lower() or "svg"
    source = to_dot(tensor)
    if fmt in ("dot", "gv"):
        data = source.encode()
    else:
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError("viz.render: Graphviz's `dot` program is not installed, so only DOT "
                               "source can be written (use a .dot path, or install Graphviz, "
                               "e.g. `apt-get install graphviz`)")
        data = subprocess.run([dot, f"-T{fmt}"], input=source.encode(), capture_output=True,
                              check=True).stdout
    with atomic_open(path) as f:
        f.write(data)
    return path
