"""User-defined differentiable functions, as ``torch.autograd.Function``.

    class Exp(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

``forward`` runs on Tensors without recording; ``backward`` returns one gradient per forward
argument (None for non-tensors). An optional ``jvp(ctx, *tangents)`` enables forward mode
(a floating input without a tangent gets zeros, as in torch).
"""
from __future__ import annotations

import numpy as np

from .._dtype import from_numpy_dtype
from .._graph import Node, _edge, _sequence
from .._modes import FORWARD, STATE, TRACE, attach_tangent, forward_suspended, no_grad
from ..tensor import Tensor


class FunctionCtx:
    """The ``ctx`` passed to forward/backward: save tensors and facts for the backward pass."""

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):   # facts go on ctx as attributes
                raise TypeError(f"save_for_backward: can only save variables, but argument {i} is "
                                f"of type {type(t).__name__} (store it as ctx.<name> instead)")
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable = tensors


class _CustomNode(Node):
    """The node of a custom Function: its backward is the user's, on Tensors. Each Function
    records nodes of its own subclass, named ``<Function>Backward`` as torch names them."""

    array_rules = False

    @classmethod
    def of(cls, fn_cls) -> type:
        node_type = fn_cls.__dict__.get("_node_type")
        if node_type is None:
            name = fn_cls.__name__ + "Backward"
            node_type = type(name, (cls,), {"__module__": fn_cls.__module__, "__qualname__": name},
                             node_type=True)
            fn_cls._node_type = node_type
        return node_type

    def _vjp(self, xp, g):
        grads = self.fn_cls.backward(self.ctx, g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != self.n_args:
            raise RuntimeError(f"{self.fn_cls.__name__}.backward returned {len(grads)} gradients, "
                               f"expected {self.n_args} (one per forward argument)")
        out = []
        dtypes = getattr(self, "in_dtypes", None) or (None,) * len(self.tensor_positions)
        for i, dtype in zip(self.tensor_positions, dtypes):
            g = grads[i]
            if g is not None and not isinstance(g, Tensor):
                raise RuntimeError(f"{self.fn_cls.__name__}.backward: expected Variable or None "
                                   f"(got {type(g).__name__}) as the gradient of argument {i}")
            if g is not None and dtype is not None and g._data.dtype != dtype:   # torch casts
                g = g.to(from_numpy_dtype(dtype))
            out.append(g)
        return tuple(out)

    def _release(self):
        super()._release()
        self.ctx.saved_tensors = ()


class Function:
    """Base class for custom ops: define static ``forward(ctx, ...)`` and ``backward(ctx, grad)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):  # abstract: subclasses define it
        raise NotImplementedError("Function subclasses must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):  # abstract: subclasses define it
        raise NotImplementedError("Function subclasses must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args, **kwargs):
        if TRACE.recorder is not None:   # its backward is Python code a replay cannot run
            TRACE.recorder.unsupported(f"the custom autograd.Function {cls.__name__}")
        ctx = FunctionCtx()
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad(), forward_suspended():
            out = cls.forward(ctx, *args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a single Tensor, got "
                            f"{type(out).__name__}")
        inputs = [args[i] for i in positions]
        result = Tensor._make(out._data)
        if FORWARD.active and hasattr(cls, "jvp") and any(t._fw_tangent is not None for t in inputs):
            # like torch, a floating Tensor input without a tangent gets zeros (materialized)
            tangents = [(a._fw_tangent if a._fw_tangent is not None else
                         Tensor._make(np.zeros(a._data.shape, a._data.dtype)))
                        if isinstance(a, Tensor) and a._data.dtype.kind == "f" else None for a in args]
            with forward_suspended():
                attach_tangent(result, cls.jvp(ctx, *tangents))
        if STATE.grad_enabled and any(t.requires_grad for t in inputs) and out._data.dtype.kind == "f":
            node = _CustomNode.of(cls)()
            node.fn_cls, node.ctx, node.n_args = cls, ctx, len(args)
            node.tensor_positions = positions
            node.needs_input_grad = tuple(t.requires_grad for t in inputs)
            node._next = tuple(_edge(t) for t in inputs)
            node.sequence_nr = next(_sequence)
            node.out_shape = out._data.shape
            node.in_shapes = tuple(t._data.shape for t in inputs)
            node.in_dtypes = tuple(t._data.dtype for t in inputs)
            result.requires_grad = True
            result.grad_fn = node
        return result
