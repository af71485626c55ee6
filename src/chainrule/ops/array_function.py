"""Functions of arrays with no derivative — comparisons, logic, casts to integer or bool
dtypes, argmax, all/any — applied as one primitive, :class:`ArrayFunction`, so that a graph
capture (:mod:`chainrule.fx`) records them like any op (a mask computed from the inputs is
computed again at every replay); they are never recorded for autograd."""
from __future__ import annotations

from .._graph import Node


class ArrayFunction(Node):
    """out = fn(*arrays) with no derivative (``differentiable = False``: no node is recorded,
    the result never requires grad, as torch's comparisons and integer casts).
    Shapes: whatever ``fn`` gives."""

    params = ("fn",)
    differentiable = False

    def forward(self, *xs):
        return self.fn(*xs)


def array_function(fn, *inputs):
    """``fn`` on the inputs' arrays, as a Tensor: ``array_function(np.greater, a, b)``."""
    return ArrayFunction.apply(*inputs, fn=fn)
