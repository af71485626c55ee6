"""Pictures of the computational graph (the deck's "computational graph" card).

:func:`graph` builds a :class:`Graph` from a tensor: leaves named after the model's parameters,
tensor shapes on the edges, torch's node names, and at ``detail="primitives"`` each fused node
opened into the chain of primitive operations it stands for (matmul, add, logsumexp, gather …).
It draws itself as SVG/PNG without Graphviz (a layered layout drawn with matplotlib), through
Graphviz when ``dot`` is installed, and inline in Jupyter. :func:`to_dot` and :func:`render` are
the plain DOT writer of the recorded nodes.
"""
from .dot import render, to_dot
from .graph import Graph, graph

__all__ = ["Graph", "graph", "render", "to_dot"]
