"""``chainrule.compile``: capture a function or module once, then replay the captured graph.

Each call is checked against *guards*: the shapes, dtypes and ``requires_grad`` of the tensor
arguments, the other arguments' values, grad mode, and the ``training`` flag of every module
the capture saw. A call that passes the guards of a cached graph replays it; one that does
not is captured anew (its result is the eager result of that run), up to ``cache_size_limit``
graphs per function, after which calls run eagerly. A capture that meets something it cannot
replay (:mod:`chainrule.fx.capture` lists what) makes those guards run eagerly from then on,
with a warning naming the reason — or raises :class:`~.capture.Unsupported` when
``fullgraph=True``.
"""
from __future__ import annotations

import functools
import warnings

from .. import nn
from .._modes import STATE, TRACE
from ..tensor import Tensor
from .capture import Unsupported, capture, flatten_tensors
from .program import MISS, Program

# name -> compile_fn(model) for the backends other packages add (chainrule.onnx adds
# "onnxruntime"); "chainrule", the replay of the captured graph, is built in
BACKENDS = {}
# torch's backend names, accepted so that ported scripts run: each replays chainrule's graph
TORCH_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")
MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class CompileCounters:
    """How a compiled callable's calls went: ``captures`` (graphs captured), ``replays``,
    ``eager`` (calls run eagerly: unsupported graphs and calls past the cache limit)."""

    def __init__(self):
        self.captures = self.replays = self.eager = 0

    def __repr__(self):
        return f"CompileCounters(captures={self.captures}, replays={self.replays}, eager={self.eager})"


class _Eager:
    """A cache entry for guards whose capture was unsupported: run eagerly."""

    def __init__(self, reasons):
        self.reasons = reasons


class CompiledFunction:
    """What ``chainrule.compile(fn)`` returns for a function: call it as ``fn``."""

    def __init__(self, fn, *, fullgraph=False, backend="chainrule", cache_size_limit=8,
                 names=None, modules=(), signature_of=None):
        self._fn = fn
        self._signature_of = signature_of or fn
        self.fullgraph, self.backend = fullgraph, backend
        self.cache_size_limit = cache_size_limit
        self.counters = CompileCounters()
        self._cache = {}
        self._names = names or {}
        self._modules = list(modules)   # whose training flags are guarded
        self._warned = set()
        self._last = None
        functools.update_wrapper(self, fn)

    @property
    def graphs(self) -> list:
        """The captured graphs (one per set of guards), oldest first."""
        return [e.graph for e in self._cache.values() if isinstance(e, Program)]

    def _key(self, args, kwargs, flat):
        tensors = tuple((t._data.shape, t._data.dtype, t.requires_grad) for t in flat)
        return (tensors, static_part(args), static_part(tuple(sorted(kwargs.items()))),
                STATE.grad_enabled, tuple(m.training for m in self._modules))

    def __call__(self, *args, **kwargs):
        last = self._last   # the fast path: the graph the previous call ran, if its guards pass
        if last is not None and not kwargs and TRACE.recorder is None:
            out = last._run(args, True)
            if out is not MISS:
                self.counters.replays += 1
                return out
        if TRACE.recorder is not None:   # inside another capture: be part of that graph
            return self._fn(*args, **kwargs)
        flat = flatten_tensors((args, kwargs))
        key = self._key(args, kwargs, flat)
        entry = self._cache.get(key)
        if isinstance(entry, Program) and entry.guard_state() is None:
            self.counters.replays += 1
            self._last = entry if entry.guarded else None
            return entry(flat)
        if isinstance(entry, _Eager) or (entry is None and
                                         len(self._cache) >= self.cache_size_limit):
            if entry is None:
                self._note(f"the cache holds {self.cache_size_limit} graphs "
                           "(cache_size_limit); this call runs eagerly")
            self.counters.eager += 1
            return self._fn(*args, **kwargs)
        return self._capture(key, args, kwargs)

    def _capture(self, key, args, kwargs):
        graph, output, recorder = capture(self._fn, args, kwargs, self._names,
                                          signature_of=self._signature_of)
        self.counters.captures += 1
        if recorder.reasons:
            reason = "; ".join(recorder.reasons)
            if self.fullgraph:
                raise Unsupported(f"chainrule.compile(fullgraph=True): {_name(self._fn)} cannot "
                                  f"be captured: {reason}")
            self._note(f"{_name(self._fn)} runs eagerly: {reason}")
            self._cache[key] = _Eager(recorder.reasons)
            return output
        known = {id(m) for m in self._modules}
        new_modules = [m for i, m in recorder.modules.items() if i not in known]
        if new_modules:   # guard their training flags from now on: the key's shape changes
            self._modules += new_modules
            key = key[:-1] + (tuple(m.training for m in self._modules),)
            self._cache = {k: e for k, e in self._cache.items() if len(k[-1]) == len(key[-1])}
        tensors_only = not kwargs and all(isinstance(a, Tensor) for a in args)
        program = self._cache[key] = Program(
            graph, _name(self._fn), guards=(key[3], self._modules) if tensors_only else None)
        self._last = program if tensors_only else None
        return output

    def _note(self, message):
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(f"chainrule.compile: {message}", stacklevel=3)

    def reset(self):
        """Forget every captured graph (``torch._dynamo.reset()`` for this callable)."""
        self._cache.clear()
        self._last = None


class OptimizedModule(nn.Module):
    """What ``chainrule.compile(module)`` returns: a Module whose calls replay the captured
    graph of ``_orig_mod``'s forward; its parameters are ``_orig_mod``'s (torch's layout:
    ``state_dict`` keys start with ``_orig_mod.``)."""

    def __init__(self, mod, **options):
        super().__init__()
        self._orig_mod = mod
        self._wrap(options)
        self.training = mod.training

    def _wrap(self, options):
        mod = self._orig_mod
        names = {id(t): name for name, t in (*mod.named_parameters(), *mod.named_buffers())}
        self.__dict__["_compiled"] = CompiledFunction(mod.__call__, names=names,
                                                      modules=list(mod.modules()),
                                                      signature_of=mod.forward, **options)

    def __getstate__(self):
        # captured graphs hold ids of this process's tensors: pickle the options, capture anew
        state = dict(self.__dict__)
        c = state.pop("_compiled")
        state["_compile_options"] = dict(fullgraph=c.fullgraph, backend=c.backend,
                                         cache_size_limit=c.cache_size_limit)
        return state

    def __setstate__(self, state):
        state = dict(state)
        options = state.pop("_compile_options")
        self.__dict__.update(state)
        self._wrap(options)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name):
        """Attributes not found here are the original module's (``compiled.fc1``), as torch's."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules", {})
            if "_orig_mod" not in modules:
                raise
            return getattr(modules["_orig_mod"], name)

    def train(self, mode: bool = True):
        self._orig_mod.train(mode)
        self.training = mode
        return self

    @property
    def counters(self):
        return self._compiled.counters

    @property
    def graphs(self):
        return self._compiled.graphs


def compile(model=None, *, fullgraph=False, dynamic=None, backend="chainrule", mode=None,
            options=None, disable=False, cache_size_limit=8):
    """Capture ``model`` (a function or a Module) on its first call and replay the graph.

    ``compiled = chainrule.compile(model)`` has ``model``'s interface. Forward, backward (a
    compiled Module's outputs carry a ``CompiledFunctionBackward`` node) and whole training
    steps (a function that calls ``loss.backward()`` and ``optimizer.step()``) replay without
    eager mode's per-op overhead, with the same numbers.

    Args:
        model: a function or ``nn.Module``; without it, a decorator (``@chainrule.compile()``).
        fullgraph: raise :class:`~chainrule.fx.Unsupported` instead of running eagerly when
            the function cannot be captured.
        dynamic: accepted for torch's signature; each new input shape is a new capture.
        backend: ``"chainrule"`` (replay the graph) or ``"onnxruntime"`` (inference through
            ONNX Runtime; needs the ``onnx`` extra); torch's names (``"inductor"``,
            ``"eager"``, ``"aot_eager"``, ``"cudagraphs"``) replay chainrule's graph.
        mode, options: accepted for torch's signature (``"default"``, ``"reduce-overhead"``,
            ``"max-autotune"``); chainrule has one way to run a graph.
        disable: return ``model`` itself.
        cache_size_limit: graphs kept per callable before new guards run eagerly.

    Example::

        step = chainrule.compile(train_step)      # def train_step(x, y): ... loss.backward(); opt.step()
        for x, y in loader:
            loss = step(x, y)
    """
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable,
                                 cache_size_limit=cache_size_limit)
    if backend in TORCH_BACKENDS:
        backend = "chainrule"
    if backend != "chainrule" and backend not in BACKENDS:
        raise ValueError(f"compile: unknown backend {backend!r}; expected one of "
                         f"{('chainrule', *BACKENDS, *TORCH_BACKENDS)}")
    if mode not in MODES:
        raise RuntimeError(f"compile: unrecognized mode={mode!r}; expected one of "
                           f"{[m for m in MODES if m]}")
    if not callable(model):
        raise TypeError(f"compile: expected a function or an nn.Module, got {type(model).__name__}")
    if disable:
        return model
    if backend != "chainrule":
        return BACKENDS[backend](model)
    kw = dict(fullgraph=fullgraph, backend=backend, cache_size_limit=cache_size_limit)
    if isinstance(model, nn.Module):
        return OptimizedModule(model, **kw)
    return CompiledFunction(model, **kw)


def register_backend(name: str, compile_fn) -> None:
    """Make ``chainrule.compile(model, backend=name)`` return ``compile_fn(model)`` (torch's
    ``torch._dynamo.register_backend``, for a whole model rather than an FX graph)."""
    BACKENDS[name] = compile_fn


def static_part(value):
    """The non-tensor part of (nested) arguments, as a hashable guard: each Tensor stands as
    the class ``Tensor``; an unhashable value as its type and id."""
    if isinstance(value, Tensor):
        return Tensor
    if isinstance(value, (tuple, list)):
        return (type(value),) + tuple(static_part(v) for v in value)
    if isinstance(value, dict):
        return (dict,) + tuple((k, static_part(v)) for k, v in value.items())
    try:
        hash(value)
    except TypeError:
        return (type(value), id(value))
    return value


def _name(fn):
    return getattr(fn, "__qualname__", None) or type(fn).__name__
