"""``chainrule.compile(model, backend="onnxruntime")``: inference through ONNX Runtime.

The first call with a new input signature (the shapes and dtypes of the tensor arguments,
and the other arguments' values) exports the model in memory (:func:`~.to_model_proto`, every
size static, so ONNX Runtime can plan and fuse the whole graph: batch-norm into convolution,
bias and activation into the GEMM) and opens an ``onnxruntime.InferenceSession`` on it; later
calls with that signature run the session. Up to ``cache_size_limit`` sessions are kept (the
least recently used goes first).

It is inference only: outputs are plain Tensors that never require grad. A module in training
mode, or an argument that requires grad while grad mode is on, is refused with a RuntimeError
(put the model in ``eval()`` and call it under ``chainrule.no_grad()``). The weights are read
at export: after changing them (training, ``load_state_dict``), call ``reset()``.

:mod:`chainrule.onnx` registers this backend with ``chainrule.fx.compile.register_backend``;
the exporter registers itself here (:func:`register_exporter`), since ``_export`` imports
this module's ``TENSOR``.
"""
from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np

from .. import nn
from .._extras import require
from .._modes import STATE
from ..fx.capture import flatten_tensors
from ..fx.compile import static_part
from ..tensor import Tensor

_EXPORTER = []     # [export_graph] of chainrule.onnx._export, once registered


class _Slot:
    """Where a Tensor stands in the structure of a model's result."""

    def __repr__(self):
        return "TENSOR"


TENSOR = _Slot()


def register_exporter(export_graph):
    """Set the function ``(model, args) -> (ModelProto, output tree)`` the sessions use: the
    output tree is the call's result with each Tensor replaced by :data:`TENSOR`."""
    _EXPORTER[:] = [export_graph]


def session_options(ort):
    """The session settings: every graph optimization (constant folding, node fusions, layout
    changes); ONNX Runtime's default thread count (one intra-op thread per physical core)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class _Session:
    """One exported signature: the session and how to rebuild the output tree."""

    def __init__(self, ort, model, args, kwargs):
        if not _EXPORTER:
            raise RuntimeError("compile(backend='onnxruntime'): import chainrule.onnx first")
        # the keyword arguments always go last, so a trailing dict argument stays an argument
        proto, self.output_tree = _EXPORTER[0](model, tuple(args) + (dict(kwargs),))
        self.session = ort.InferenceSession(proto.SerializeToString(), session_options(ort),
                                            providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def __call__(self, flat):
        feeds = {name: np.ascontiguousarray(t._data) for name, t in zip(self.input_names, flat)}
        outs = iter(self.session.run(None, feeds))
        return _fill(self.output_tree, outs)


class OnnxRuntimeFunction:
    """What ``chainrule.compile(fn, backend="onnxruntime")`` returns for a function of
    Tensors: call it as ``fn``; see :mod:`chainrule.onnx.runtime`."""

    def __init__(self, fn, cache_size_limit=8):
        self._fn, self.cache_size_limit = fn, cache_size_limit
        self._sessions = OrderedDict()
        self.exports = 0              # sessions built (one per new signature)
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args, **kwargs):
        module = self._fn if isinstance(self._fn, nn.Module) else None
        if module is not None and module.training:
            raise RuntimeError("compile(backend='onnxruntime') runs inference only: the module "
                               "is in training mode; call model.eval() first (or compile with "
                               "backend='chainrule' to train)")
        flat = flatten_tensors((args, kwargs))
        if STATE.grad_enabled and any(t.requires_grad for t in flat):
            raise RuntimeError("compile(backend='onnxruntime') runs inference only and returns "
                               "no gradients, but an input requires grad; call it under "
                               "chainrule.no_grad() (or use backend='chainrule')")
        key = _signature(args, kwargs, flat)
        session = self._sessions.get(key)
        if session is None:
            ort = require("onnxruntime", "compile(backend='onnxruntime')")
            session = _Session(ort, self._fn, args, kwargs)
            self.exports += 1
            self._sessions[key] = session
            while len(self._sessions) > self.cache_size_limit:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        return session(flat)

    def reset(self):
        """Forget every session: the next call exports again (after the weights changed)."""
        self._sessions.clear()


class OnnxRuntimeModule(nn.Module):
    """What ``chainrule.compile(module, backend="onnxruntime")`` returns: a Module whose calls
    run ``_orig_mod`` exported to ONNX Runtime (its parameters are ``_orig_mod``'s, under
    ``_orig_mod.`` keys, as torch's compiled modules)."""

    def __init__(self, mod, cache_size_limit=8):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled"] = OnnxRuntimeFunction(mod, cache_size_limit)
        self.training = mod.training

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def train(self, mode: bool = True):
        self._orig_mod.train(mode)
        self.training = mode
        return self

    def reset(self):
        """Forget every session: the next call exports again (after the weights changed)."""
        self._compiled.reset()

    @property
    def exports(self) -> int:
        return self._compiled.exports


def compile_onnxruntime(model, cache_size_limit=8):
    """``model`` (a Module or a function of Tensors) running in ONNX Runtime, for inference:
    an :class:`OnnxRuntimeModule` or :class:`OnnxRuntimeFunction` with ``model``'s interface;
    see :mod:`chainrule.onnx.runtime`. Needs the ``onnx`` extra."""
    require("onnx", "compile(backend='onnxruntime')")
    require("onnxruntime", "compile(backend='onnxruntime')")
    if isinstance(model, nn.Module):
        return OnnxRuntimeModule(model, cache_size_limit)
    return OnnxRuntimeFunction(model, cache_size_limit)


def _signature(args, kwargs, flat):
    """The arguments' non-tensor values and their tensors' shapes and dtypes."""
    return static_part((args, kwargs)), tuple((t._data.shape, t._data.dtype.str) for t in flat)


def _fill(tree, outs):
    """The output tree with each TENSOR replaced by the next session output, as a Tensor."""
    if tree is TENSOR:
        return Tensor._make(next(outs))
    if isinstance(tree, (tuple, list)):
        items = [_fill(x, outs) for x in tree]
        return tuple(items) if isinstance(tree, tuple) else items
    if isinstance(tree, dict):
        return {k: _fill(x, outs) for k, x in tree.items()}
    return tree
