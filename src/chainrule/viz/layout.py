"""A layered drawing of a DAG with matplotlib, for machines without Graphviz.

The output sits on the top layer; every other node one layer below the lowest node that consumes
it (a longest-path layering), and each layer is ordered by the mean position of its consumers
(two barycentre sweeps), which keeps edges from crossing much on the chains a network makes.
Drawn on a ``matplotlib.figure.Figure`` directly — pyplot and the global backend are untouched.
"""
from __future__ import annotations

import io
from collections import defaultdict

_COLORS = {"op": "#ffffff", "leaf": "#e8f5d0", "output": "#d0e8ff"}


def _missing_matplotlib():
    raise ImportError("chainrule.viz draws without Graphviz through matplotlib, which is not "
                      "installed: pip install chainrule[viz]") from None


def layers(graph):
    """{node id: layer}, the output at 0 and each node below all of its consumers."""
    consumers = defaultdict(list)
    for src, dst, _ in graph.edges:
        a, b = (src, dst) if graph.direction == "forward" else (dst, src)
        consumers[a].append(b)      # a feeds b
    depth = {}

    def visit(n):
        if n in depth:
            return depth[n]
        depth[n] = 1 + max((visit(c) for c in consumers[n]), default=-1)
        return depth[n]
    for node in graph.nodes:
        visit(node.id)
    return depth, consumers


def positions(graph):
    """{node id: (x, y)}: y = −layer, x the slot in the layer after the barycentre sweeps."""
    depth, consumers = layers(graph)
    rows = defaultdict(list)
    for node in graph.nodes:
        rows[depth[node.id]].append(node.id)
    x = {}
    for d in sorted(rows):
        if d:   # order by the mean slot of the consumers one layer up (already placed)
            rows[d].sort(key=lambda n: sum(x[c] for c in consumers[n] if c in x)
                         / max(1, sum(c in x for c in consumers[n])))
        width = len(rows[d])
        for i, n in enumerate(rows[d]):
            x[n] = i - (width - 1) / 2
    return {n: (x[n], -depth[n]) for n in x}


def draw(graph):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        _missing_matplotlib()
    pos = positions(graph)
    width = max(1, max((sum(1 for p in pos.values() if p[1] == y) for y in
                        {p[1] for p in pos.values()}), default=1))
    height = 1 + max((-p[1] for p in pos.values()), default=0)
    fig = Figure(figsize=(max(4.0, 2.3 * width), max(3.0, 1.1 * height)))
    ax = fig.add_subplot()
    ax.set_axis_off()
    for src, dst, label in graph.edges:
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        # an edge that skips layers bends, so it does not run behind the boxes between
        bend = 0.35 if abs(y1 - y0) > 1 and x0 == x1 else 0.0
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="#555555", shrinkA=14, shrinkB=14,
                                    linewidth=0.9, connectionstyle=f"arc3,rad={bend}"))
        if label:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, label, fontsize=7, color="#444444",
                    ha="center", va="center", backgroundcolor="white")
    for node in graph.nodes:
        x, y = pos[node.id]
        text = node.label + (f"\n{node.detail}" if node.detail else "")
        ax.text(x, y, text, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.4" if node.kind != "op" else "square,pad=0.4",
                          facecolor=_COLORS[node.kind], edgecolor="#333333"))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    fig.tight_layout()
    return fig


def to_bytes(fig, fmt: str) -> bytes:
    """The figure as ``fmt`` bytes; SVG keeps its text as text (searchable, selectable) and
    carries no date, so the same graph gives the same file."""
    import matplotlib
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "chainrule"}):
        fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()
