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

import contextlib
import functools

import numpy as np

from .._dtype import from_numpy_dtype
from .._graph import Node, _edge, _sequence
from .._modes import FORWARD, STATE, TRACE, attach_tangent, forward_suspended, no_grad
from ..ops import cat
from ..tensor import Tensor


class FunctionCtx:
    """The ``ctx`` passed to forward/backward: save tensors and facts for the backward pass."""

    materialize_grads = True
    non_differentiable = ()

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):   # facts go on ctx as attributes
                raise TypeError(f"save_for_backward: can only save variables, but argument {i} is "
                                f"of type {type(t).__name__} (store it as ctx.<name> instead)")
        self.saved_tensors = tensors

    def save_for_forward(self, *tensors):
        """Tensors for the ``jvp`` staticmethod (forward mode): inside ``jvp``,
        ``ctx.saved_tensors`` gives these, as torch's ``save_for_forward``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):   # torch's type: AssertionError
                raise AssertionError(f"save_for_forward expects all arguments to be tensors, but "
                                     f"argument {i} is of type {type(t).__name__}; save "
                                     f"non-tensors as attributes on ctx")
        self.saved_for_forward = tensors

    def mark_non_differentiable(self, *tensors):
        """Outputs that get no gradient (indices, masks): they do not require grad, and their
        gradient in ``backward`` is zeros (or None without materialized grads)."""
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors):
        """Inputs that forward modified in place and returns: the caller gets that same tensor
        back, its history now this Function's node (torch's ``mark_dirty``)."""
        self.dirty = tensors

    def set_materialize_grads(self, value):
        """Whether ``backward`` gets zeros (True, the default) or None for the gradient of an
        output that received none."""
        self.materialize_grads = bool(value)


def once_differentiable(fn):
    """Decorate a ``backward`` that is not itself differentiable: it runs without recording,
    so its result carries no graph (``torch.autograd.function.once_differentiable``)."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper


@contextlib.contextmanager
def _forward_saved(ctx):
    """``ctx.saved_tensors`` is what ``save_for_forward`` saved while ``jvp`` runs."""
    if not hasattr(ctx, "saved_for_forward"):
        yield
        return
    saved = getattr(ctx, "saved_tensors", ())
    ctx.saved_tensors = ctx.saved_for_forward
    try:
        yield
    finally:
        ctx.saved_tensors = saved


def _is_dirty(ctx, t):
    return any(t is d for d in getattr(ctx, "dirty", ()))


def _take_dirty(cls, ctx, inputs):
    """Check the tensors given to mark_dirty and bump their versions (torch counts the mark as
    a write): inputs only; a leaf that requires grad cannot be modified in place while
    recording, and a view's in-place history is not rewritten here."""
    for d in getattr(ctx, "dirty", ()):
        if not any(d is t for t in inputs):
            raise RuntimeError(f"{cls.__name__}: mark_dirty was given a tensor that is not an "
                               f"input of forward (only inputs modified in place are dirty)")
        if STATE.grad_enabled and d.requires_grad and d.grad_fn is None:
            raise RuntimeError(f"{cls.__name__}: a leaf Variable that requires grad has been used "
                               f"in an in-place operation.")
        if STATE.grad_enabled and d._base is not None and (d.requires_grad
                                                           or d._base.requires_grad):
            raise RuntimeError(f"{cls.__name__}: mark_dirty of a view of a tensor that requires "
                               f"grad is not supported; clone() it before the Function")
        d._version_box[0] += 1


def _non_differentiable(ctx, t):
    return any(t is m for m in ctx.non_differentiable)


def _save_outputs(ctx, outs, results):
    """A saved output is, in backward, the output the caller got (with its grad_fn), not the
    unrecorded tensor forward made: a backward using it is then differentiable again
    (create_graph / gradgradcheck), as torch's saved outputs are."""
    saved = getattr(ctx, "saved_tensors", ())
    if any(s is o for s in saved for o in outs):
        ctx.saved_tensors = tuple(next((r for o, r in zip(outs, results) if s is o), s)
                                  for s in saved)


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
        layout = getattr(self, "layout", None)
        if layout is not None:      # several outputs, packed into one flat tensor
            gs = []
            for entry in layout:
                if entry[0] == "packed":
                    _, offset, shape = entry
                    n = int(np.prod(shape, dtype=np.int64))
                    gs.append(g[offset:offset + n].reshape(shape))
                elif self.ctx.materialize_grads and isinstance(entry[1], Tensor):
                    gs.append(Tensor._make(np.zeros(entry[1]._data.shape, entry[1]._data.dtype)))
                else:
                    gs.append(None)
            grads = self.fn_cls.backward(self.ctx, *gs)
        else:
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
            if cls.setup_context is not Function.setup_context:
                # torch's newer style: forward(*args) without ctx, then setup_context
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        if isinstance(out, tuple):
            return cls._apply_several(ctx, args, positions, out)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple, got "
                            f"{type(out).__name__}")
        inputs = [args[i] for i in positions]
        _take_dirty(cls, ctx, inputs)
        if _non_differentiable(ctx, out):
            return Tensor._make(out._data)
        result = out if _is_dirty(ctx, out) else Tensor._make(out._data)
        tangent = cls._output_tangents(ctx, args, inputs)
        if tangent is not None:
            attach_tangent(result, tangent)
        if STATE.grad_enabled and any(t.requires_grad for t in inputs) and out._data.dtype.kind == "f":
            node = cls._node(ctx, args, positions, inputs, out._data.shape)
            node.in_dtypes = tuple(t._data.dtype for t in inputs)
            result._requires_grad = True
            result.grad_fn = node
            result._retains_grad = False
            _save_outputs(ctx, (out,), (result,))
        return result

    @classmethod
    def _node(cls, ctx, args, positions, inputs, out_shape):
        """The recorded node of one call: its edges to the tensor inputs."""
        node = _CustomNode.of(cls)()
        node.fn_cls, node.ctx, node.n_args = cls, ctx, len(args)
        node.tensor_positions = positions
        node.needs_input_grad = tuple(t.requires_grad for t in inputs)
        node._next = tuple(_edge(t) for t in inputs)
        node.sequence_nr = next(_sequence)
        node.out_shape = out_shape
        node.in_shapes = tuple(t._data.shape for t in inputs)
        return node

    @classmethod
    def _output_tangents(cls, ctx, args, inputs):
        """The user's ``jvp`` on the inputs' forward tangents (None outside forward mode)."""
        if not (FORWARD.active and hasattr(cls, "jvp")
                and any(t._fw_tangent is not None for t in inputs)):
            return None
        # like torch, a floating Tensor input without a tangent gets zeros (materialized)
        tangents = [(a._fw_tangent if a._fw_tangent is not None else
                     Tensor._make(np.zeros(a._data.shape, a._data.dtype)))
                    if isinstance(a, Tensor) and a._data.dtype.kind == "f" else None for a in args]
        with forward_suspended(), _forward_saved(ctx):
            return cls.jvp(ctx, *tangents)

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Save what backward needs, for a ``forward(*inputs)`` written without ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def _apply_several(cls, ctx, args, positions, outs):
        """A forward returning a tuple: the differentiable outputs (floating, not marked
        non-differentiable, one dtype) are packed into one flat tensor recorded as the node;
        each output is a slice of it, so backward gets one gradient per output."""
        inputs = [args[i] for i in positions]
        _take_dirty(cls, ctx, inputs)
        results = [o if _is_dirty(ctx, o) else Tensor._make(o._data) if isinstance(o, Tensor)
                   else o for o in outs]
        diff = [i for i, o in enumerate(outs) if isinstance(o, Tensor)
                and o._data.dtype.kind == "f" and not _non_differentiable(ctx, o)]
        tangents = cls._output_tangents(ctx, args, inputs)
        if not (STATE.grad_enabled and diff and any(t.requires_grad for t in inputs)):
            return cls._with_tangents(results, diff, tangents)
        dtypes = {outs[i]._data.dtype for i in diff}
        if len(dtypes) > 1:
            raise TypeError(f"{cls.__name__}.forward: differentiable outputs of several dtypes "
                            f"({sorted(str(d) for d in dtypes)}) are not supported; cast them to one")
        layout, offset, pieces = [], 0, []
        for i, o in enumerate(outs):
            if i in diff:
                layout.append(("packed", offset, o._data.shape))
                pieces.append(o._data.reshape(-1))
                offset += o._data.size
            else:
                layout.append(("plain", o))
        packed = Tensor._make(np.concatenate(pieces))
        node = cls._node(ctx, args, positions, inputs, packed._data.shape)
        node.layout = layout
        packed._requires_grad = True
        packed.grad_fn = node
        select = cls.__dict__.get("_select_output")
        if select is None:    # named like cls, so each output's grad_fn prints as torch's
            select = type(cls.__name__, (_SelectOutput,), {"__module__": cls.__module__})
            cls._select_output = select
        for i, entry in zip(range(len(outs)), layout):
            if entry[0] == "packed":
                selected = select.apply(packed, entry[1], entry[2])
                if _is_dirty(ctx, outs[i]):   # the caller's own tensor takes the new history
                    outs[i].grad_fn, outs[i]._requires_grad = selected.grad_fn, True
                    outs[i]._retains_grad = False
                    selected = outs[i]
                results[i] = selected
                results[i]._output_nr = (results[i].grad_fn, i)   # Tensor.output_nr, as torch
        _save_outputs(ctx, outs, results)
        return cls._with_tangents(results, diff, tangents)

    @classmethod
    def _with_tangents(cls, results, diff, tangents):
        """The outputs, each differentiable one carrying its tangent from ``jvp`` (a tuple, one
        per output; None for an output without one)."""
        if tangents is not None:
            tangents = tangents if isinstance(tangents, tuple) else (tangents,)
            if len(tangents) != len(results):
                raise RuntimeError(f"{cls.__name__}.jvp returned {len(tangents)} tangents, "
                                   f"expected {len(results)} (one per forward output)")
            for i in diff:
                if tangents[i] is not None:
                    attach_tangent(results[i], tangents[i])
        return tuple(results)


class _SelectOutput(Function):
    """One output of a several-output Function: a slice of the packed outputs, reshaped."""

    @staticmethod
    def forward(ctx, packed, offset, shape):
        n = int(np.prod(shape, dtype=np.int64))
        ctx.offset, ctx.n, ctx.total = offset, n, packed.shape[0]
        return packed[offset:offset + n].reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        before = Tensor._make(np.zeros(ctx.offset, grad._data.dtype))
        after = Tensor._make(np.zeros(ctx.total - ctx.offset - ctx.n, grad._data.dtype))
        return cat([before, grad.reshape(-1), after]), None, None
