"""Graph capture: record one call of a function or module as a graph of primitives, print it as
code, draw it, replay it (``chainrule.compile``) and export it (``chainrule.onnx.export``).

chainrule captures by *running* the call once on example inputs (as ``torch.jit.trace`` and
``torch.export`` do), so every primitive, with its parameters, input and output shapes, is
known; ``torch.fx.symbolic_trace``'s proxies are not needed. The graph is the computational
graph of the deck's first cards, made explicit::

    gm = chainrule.fx.symbolic_trace(model, example_inputs=(x,))
    print(gm.code)          # def forward(self, x): addmm = addmm(fc1_bias, x, permute) ...
    gm(x)                   # replays the graph
"""
from __future__ import annotations

from .. import nn
from .capture import Unsupported, capture, flatten_tensors
from .compile import CompileCounters, CompiledFunction, OptimizedModule, compile, register_backend
from .graph import Backward, Call, Graph, Op, Value, Write
from .program import Program

__all__ = ["Backward", "Call", "CompileCounters", "CompiledFunction", "Graph", "GraphModule",
           "Op", "OptimizedModule", "Program", "Unsupported", "Value", "Write", "capture_graph",
           "compile", "register_backend", "symbolic_trace"]


class GraphModule(nn.Module):
    """A module whose forward is a captured graph (``torch.fx.GraphModule``): ``.graph``,
    ``.code``, ``print_readable()``; it shares ``root``'s parameters and buffers, under the
    same ``state_dict`` keys. Its graph was captured for one set of input shapes; calling it
    with others raises (``chainrule.compile`` captures again instead)."""

    def __init__(self, root, graph):
        super().__init__()
        if isinstance(root, nn.Module):   # the same tensors under the same names, as torch's
            self._parameters, self._buffers = root._parameters, root._buffers
            self._modules = root._modules
            self.training = root.training
        self.__dict__["graph"] = graph
        self.__dict__["_program"] = Program(graph)

    @property
    def code(self) -> str:
        return self.graph.code

    def print_readable(self, print_output: bool = True) -> str:
        text = "class GraphModule(chainrule.nn.Module):\n" + "\n".join(
            "    " + line for line in self.code.splitlines()) + "\n"
        if print_output:
            print(text)
        return text

    def forward(self, *args, **kwargs):
        flat = flatten_tensors((args, kwargs))
        expected = [(v.shape, v.dtype) for v in self.graph.inputs]
        got = [(tuple(t.shape), t._data.dtype) for t in flat]
        if got != expected:
            raise RuntimeError(f"GraphModule: the graph was captured for inputs "
                               f"{_describe(expected)}, got {_describe(got)}; capture it again "
                               "for these shapes, or use chainrule.compile, which does")
        return self._program(flat)


def capture_graph(fn, *args, **kwargs) -> Graph:
    """The graph of one call ``fn(*args, **kwargs)`` (a function or a module); raises
    :class:`Unsupported`, with the reason, if the call cannot be replayed from it."""
    names = _names(fn)
    signature = fn.forward if isinstance(fn, nn.Module) else fn
    graph, _, recorder = capture(fn, args, kwargs, names, signature_of=signature)
    if recorder.reasons:
        raise Unsupported(f"capture: {'; '.join(recorder.reasons)}")
    return graph


def symbolic_trace(root, concrete_args=None, *, example_inputs=None) -> GraphModule:
    """The :class:`GraphModule` of ``root`` (a module or function) called on ``example_inputs``
    (a tuple of arguments). chainrule records a graph by running one call, so the example
    inputs are required; ``concrete_args`` (torch's) are extra keyword arguments fixed for the
    trace."""
    if example_inputs is None:
        raise TypeError("symbolic_trace: chainrule records the graph by running one call; pass "
                        "example_inputs=(x,) with tensors of the shapes you will use")
    if not isinstance(example_inputs, (tuple, list)):
        example_inputs = (example_inputs,)
    graph = capture_graph(root, *example_inputs, **(concrete_args or {}))
    return GraphModule(root, graph)


def _names(fn):
    if isinstance(fn, nn.Module):
        return {id(t): name for name, t in (*fn.named_parameters(), *fn.named_buffers())}
    return None


def _describe(specs):
    return ", ".join(f"{list(s)} {d}" for s, d in specs)
