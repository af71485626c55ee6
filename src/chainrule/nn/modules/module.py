"""``Module``: the base of every layer and model (mirrors ``torch.nn.Module``).

A module owns parameters (learnable tensors), buffers (state that is not learned, such as
BatchNorm's running mean) and submodules, all registered by attribute assignment. Their dotted
names (``layer1.0.conv1.weight``) are the keys of ``state_dict()`` — the same keys torch gives
the same architecture, so weights move between the two as dicts of arrays.
"""
from __future__ import annotations

import functools
import itertools
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ... import _dtype, _memory_format
from ..._argcompat import qualified_name
from ..._device import check_device
from ..._graph import HookHandle
from ..._modes import STATE, TRACE
from ..._tensor_base import Size, parse_to_args
from ...ops.shape import alias
from ...tensor import _LEGACY_TYPES, Tensor
from ..parameter import Buffer, Parameter, is_lazy


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns; prints as torch's when every key matched."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _WithKwargs:
    """A forward (pre-)hook registered with ``with_kwargs=True``: called with the keyword
    arguments too."""

    __slots__ = ("fn", "always_call")

    def __init__(self, fn, always_call=False):
        self.fn, self.always_call = fn, always_call


class _AlwaysCalled:
    """A forward hook registered with ``always_call=True`` (called also when forward raises)."""

    __slots__ = ("fn",)
    always_call = True

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)


_EXTRA_STATE = "_extra_state"   # a state_dict's key suffix for get_extra_state()
_HOOK_IDS = itertools.count()    # hook keys: registration order, unique across modules


class Module:
    """Base class of all neural-network modules; subclasses define ``forward``.

    Example::

        class TwoLayer(cr.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = cr.nn.Linear(4, 8)
                self.fc2 = cr.nn.Linear(8, 1)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    training: bool
    _version = 1   # this module's state_dict format (in _metadata), raised when it changes

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_post_hooks"] = OrderedDict()
        d["_state_dict_pre_hooks"] = OrderedDict()
        d["_state_dict_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):  # abstract: every module defines its computation
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if TRACE.recorder is not None:   # a graph capture guards on the training flag it saw
            TRACE.recorder.module(self)
        if self._forward_pre_hooks:   # (guarded: this runs for every module call)
            for hook in list(self._forward_pre_hooks.values()):
                if type(hook) is _WithKwargs:
                    result = hook.fn(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of "
                                               f"(new_args, new_kwargs), but got {result}.")
                        args, kwargs = result
                    continue
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        hooked = bool(self._backward_hooks or self._backward_pre_hooks) and STATE.grad_enabled
        if hooked:
            args, state = self._track_inputs(args)
        try:
            out = self.forward(*args, **kwargs)
        except BaseException:
            if self._forward_hooks:
                self._run_always_called_hooks(args, kwargs)
            raise
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook.fn(self, args, kwargs, out) if type(hook) is _WithKwargs \
                    else hook(self, args, out)
                if result is not None:
                    out = result
        if hooked and isinstance(out, Tensor) and out.requires_grad:
            out = self._track_output(out, state)
        return out

    def _run_always_called_hooks(self, args, kwargs):
        """After ``forward`` raised: the forward hooks registered with ``always_call=True``,
        with output None, as torch; an error in one is a warning, the forward's error wins."""
        for hook in list(self._forward_hooks.values()):
            if getattr(hook, "always_call", False):
                try:
                    if type(hook) is _WithKwargs:
                        hook.fn(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
                except Exception as e:   # noqa: BLE001  (reported, then the original re-raised)
                    warnings.warn(f"forward hook with ``always_call=True`` raised an exception "
                                  f"that was silenced as another error was raised in forward: "
                                  f"{e}", stacklevel=3)

    # Full backward hooks: inputs and output pass through identity nodes whose gradient hooks
    # collect grad_output and grad_input; the user hooks run once every input's gradient is in.
    def _track_inputs(self, args):
        state = {"grad_input": [None] * len(args), "grad_output": (None,), "remaining": 0}
        new = list(args)
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                new[i] = alias(a)
                state["remaining"] += 1
                new[i].grad_fn._add_pre_hook(
                    lambda g, i=i: self._on_grad_input(state, i, g))
        return tuple(new), state

    def _on_grad_input(self, state, i, grad):
        state["grad_input"][i] = grad
        state["remaining"] -= 1
        if state["remaining"] == 0:
            return self._run_backward_hooks(state)[i]
        return None

    def _track_output(self, out, state):
        out = alias(out)

        def on_grad_output(grad):
            for hook in list(self._backward_pre_hooks.values()):   # may replace grad_output
                result = hook(self, (grad,))
                if result is not None:
                    grad = result[0] if isinstance(result, (tuple, list)) else result
            state["grad_output"] = (grad,)
            if state["remaining"] == 0:  # no input needs a gradient: fire now, as torch does
                self._run_backward_hooks(state)
            return grad
        out.grad_fn._add_pre_hook(on_grad_output)
        return out

    def _run_backward_hooks(self, state):
        grad_input = tuple(state["grad_input"])
        for hook in list(self._backward_hooks.values()):
            result = hook(self, grad_input, state["grad_output"])
            if result is not None:
                grad_input = tuple(result)
        return grad_input

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        # torch's order: a Parameter, then a name that is a parameter, a Module, a name that is
        # a child, a buffer, a plain attribute (also before __init__, when no store exists yet)
        d = self.__dict__
        if "_parameters" not in d:
            for kind, what in ((Parameter, "parameters"), (Module, "module"), (Buffer, "buffer")):
                if isinstance(value, kind):
                    raise AttributeError(f"cannot assign {what} before Module.__init__() call")
            object.__setattr__(self, name, value)
            return
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            self._forget(name, keep=params)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{qualified_name(value)}' as parameter '{name}' "
                                "(chainrule.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep=modules)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{qualified_name(value)}' as child module '{name}' "
                                "(chainrule.nn.Module or None expected)")
            modules[name] = None
        elif isinstance(value, Buffer):   # nn.Buffer(t): registered as register_buffer does
            self.register_buffer(name, value, value.persistent)
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{qualified_name(value)}' as buffer '{name}' "
                                "(chainrule.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """Drop ``name`` from every store but ``keep``, where a replaced entry keeps its place
        (as torch: ``seq[0] = new_layer`` must not move layer 0 after the others)."""
        for store in (self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        """Add a parameter (or None) under ``name``."""
        if "." in name or not name:
            raise KeyError(f"parameter name can't contain \".\" or be empty, got {name!r}")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (chainrule.nn.Parameter or None required)")
        if name in self._buffers or name in self._modules:   # (a plain attribute is replaced)
            raise KeyError(f"attribute '{name}' already exists")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a buffer: module state saved in ``state_dict`` (when persistent) but not learned."""
        if "." in name or not name:
            raise KeyError(f"buffer name can't contain \".\" or be empty, got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(chainrule.Tensor or None required)")
        if name not in self._buffers and hasattr(self, name):   # a parameter, module, attribute
            raise KeyError(f"attribute '{name}' already exists")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module) -> None:
        """Register ``module`` as the child ``name`` (replacing one of that name in place)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):   # torch's checks and messages
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        if name not in self._modules and hasattr(self, name):
            raise KeyError(f"attribute '{name}' already exists")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        mod = self
        for part in target.split(".") if target else []:
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{part}`")
            mod = mod._modules[part]
        return mod

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target`` (``"bn.running_mean"``); AttributeError if none."""
        return self._member(target, "_buffers", "buffer")

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        """Replace (or, unless ``strict``, add) the submodule at dotted path ``target``."""
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        prefix, _, name = target.rpartition(".")
        if not name:
            raise ValueError("Cannot set the submodule without a target name!")
        parent = self.get_submodule(prefix)
        if strict and name not in parent._modules:
            raise AttributeError(f"{type(parent).__name__} has no attribute `{name}`")
        setattr(parent, name, module)

    def share_memory(self) -> "Module":
        """Move every parameter, buffer and gradient to shared memory
        (:meth:`Tensor.share_memory_`), so that processes forked afterwards
        (``chainrule.multiprocessing``) train one model together, Hogwild-style. Returns self."""
        for t in (*self.parameters(), *self.buffers()):
            t.share_memory_()
            if getattr(t, "grad", None) is not None:
                t.grad.share_memory_()
        return self

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"fc.weight"``); AttributeError if none."""
        return self._member(target, "_parameters", "parameter")

    def _member(self, target, store, kind):
        prefix, _, name = target.rpartition(".")
        mod = self.get_submodule(prefix)
        if name not in getattr(mod, store):
            raise AttributeError(f"{type(mod).__name__} has no {kind} `{name}`")
        return getattr(mod, store)[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Yield (dotted name, module) for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if self in memo and remove_duplicate:
            return
        memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, prefix + ("." if prefix else "") + name,
                                               remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, mod in modules:
            for name, value in getattr(mod, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        """Yield (dotted name, parameter); shared parameters (and modules) appear once unless
        ``remove_duplicate=False``."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout active, BatchNorm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():   # each child's own train(), which a subclass may extend
            child.train(mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (to None by default, as torch)."""
        if TRACE.recorder is not None:
            return TRACE.recorder.call(Module.zero_grad, self, set_to_none)
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad._data[...] = 0

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every submodule (children first) and self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def half(self) -> "Module":
        """Cast floating parameters and buffers to float16, in place."""
        return self.to(_dtype.float16)

    def bfloat16(self) -> "Module":
        """Refused, as :meth:`Tensor.bfloat16`: chainrule has no bfloat16 tensors."""
        return self.to(_dtype.bfloat16)

    def float(self) -> "Module":
        """Cast floating parameters and buffers to float32, in place."""
        return self.to(_dtype.float32)

    def double(self) -> "Module":
        """Cast floating parameters and buffers to float64, in place."""
        return self.to(_dtype.float64)

    def to(self, *args, **kwargs) -> "Module":
        """``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``: casts floating parameters and
        buffers in place. The device must be the CPU ('cpu', ``chainrule.device('cpu')``, None);
        any other raises RuntimeError, as chainrule runs on the CPU only.
        ``memory_format=chainrule.channels_last``: lays out the 4-D and 5-D parameters and
        buffers (a convolution's weights) that way, as torch (a rank it does not fit raises)."""
        fmt = kwargs.pop("memory_format", None)
        dt, _ = parse_to_args(args, kwargs, "Module.to")
        if fmt is not None and fmt is not _memory_format.preserve_format:
            for t in list(self.parameters()) + list(self.buffers()):
                if t.ndim in (4, 5):
                    t._data = _memory_format.converted(t._data, fmt, "Module.to")
        if dt is None:
            return self
        if not dt.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dt}")
        for t in list(self.parameters()) + list(self.buffers()):
            if is_lazy(t):   # no values yet: it will materialize with this dtype
                if t.is_floating_point():
                    t._retype(dt.np)
                continue
            if t._data.dtype.kind == "f":
                t._data = t._data.astype(dt.np)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(dt.np)
        return self

    def type(self, dst_type):
        """Cast every floating parameter and buffer to ``dst_type`` (a dtype, a legacy type
        such as ``chainrule.DoubleTensor``, or its name), in place; returns the module."""
        if isinstance(dst_type, str) and dst_type.split(".")[-1] in _LEGACY_TYPES:
            dst_type = _LEGACY_TYPES[dst_type.split(".")[-1]]
        return self.to(getattr(dst_type, "dtype", dst_type))

    def cpu(self):
        return self

    def cuda(self, device=None):
        """Always raises: chainrule runs on the CPU only."""
        check_device("cuda", "Module.cuda")

    # ------------------------------------------------------------------ state
    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict of every parameter and persistent buffer by dotted name (and a
        module's ``get_extra_state()`` under ``prefix + "_extra_state"`` where it defines one).

        Values are tensors sharing memory with the module (detached unless ``keep_vars``);
        ``{k: v.numpy() for k, v in sd.items()}`` gives the arrays. Built as torch's: each
        module saves its own entries (:meth:`_save_to_state_dict`) and calls each child's
        ``state_dict`` with the child's prefix, so a subclass may override either; the dict's
        ``_metadata`` holds each module's format ``version``. State-dict pre- and post-hooks
        run around each module's part.
        """
        if args:   # torch's deprecated positional form: (destination, prefix, keep_vars)
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.state_dict for details.", FutureWarning,
                          stacklevel=2)
            destination, prefix, keep_vars = (list(args) + [destination, prefix, keep_vars]
                                              [len(args):])[:3]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self.__dict__.get("_state_dict_pre_hooks", {}).values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=destination, prefix=prefix + name + ".",
                                 keep_vars=keep_vars)
        for hook in self.__dict__.get("_state_dict_hooks", {}).values():
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                destination = result
        return destination

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own entries (not its children's) into ``destination``."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def get_extra_state(self):
        """State beyond parameters and buffers to save in ``state_dict`` (under
        ``"_extra_state"``): a subclass that overrides this must also override
        :meth:`set_extra_state`."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called. Please file an issue at "
                           "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
                           "to report this bug.")

    def set_extra_state(self, state):
        """Restore what :meth:`get_extra_state` returned, at ``load_state_dict``."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called. Please file an issue at "
                           "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
                           "to report this bug.")

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values (tensors, or NumPy arrays) into parameters and buffers by name; with
        ``assign``, make the values themselves the parameters and buffers (their dtype and
        memory; a parameter keeps its ``requires_grad``), as torch.

        Shapes must match (a 1-element 1-D value loads into a 0-d entry, torch's rule for old
        checkpoints); with ``strict`` every key must match too. Returns
        ``(missing_keys, unexpected_keys)``; raises RuntimeError listing every problem. Loaded
        as torch's: each module, parents first, gets the entries under its prefix in
        :meth:`_load_from_state_dict` (which a subclass may override, e.g. to rename old
        keys), after its load pre-hooks; its load post-hooks see the keys left over.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        # a copy, as torch makes: hooks may rename keys without touching the caller's dict
        state_dict = OrderedDict(state_dict)

        def load(module, local, prefix=""):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(local, prefix, local_metadata, True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)},
                         child_prefix)
            keys = _IncompatibleKeys(missing, unexpected)
            for hook in module.__dict__.get("_load_state_dict_post_hooks", {}).values():
                if hook(module, keys) is not None:
                    raise RuntimeError("Hooks registered with "
                                       "``register_load_state_dict_post_hook`` are not expected "
                                       "to return new values, if incompatible_keys need to be "
                                       "modified, it should be done inplace.")
        load(self, state_dict)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Load this module's own entries from ``state_dict`` (the entries under ``prefix``),
        recording missing and unexpected keys and errors, after the load pre-hooks. A subclass
        overrides it to read other formats (``local_metadata["version"]`` is the saved
        module's ``_version``; None when the dict has no ``_metadata``)."""
        for hook in self.__dict__.get("_load_state_dict_pre_hooks", {}).values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        local = {k: v for k, v in self._parameters.items() if v is not None}
        local.update((k, v) for k, v in self._buffers.items()
                     if v is not None and k not in self._non_persistent_buffers)
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if is_lazy(value):
                if is_lazy(target):   # both uninitialized: nothing to copy
                    continue
                value.shape   # noqa: B018  (raises torch's error: load into a lazy module)
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            if array.dtype.kind not in "biuf":
                error_msgs.append(f'While copying the parameter named "{key}", expected a '
                                  f"Tensor or array from checkpoint but received {type(value)}")
                continue
            if target._data.ndim == 0 and array.shape == (1,):   # torch 0.3's 1-D scalars
                array, value = array[0], array[0]
            if array.shape != target._data.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{Size(array.shape)} from checkpoint, the shape in current "
                                  f"model is {Size(target._data.shape)}.")
                continue
            if assign:
                value = value if isinstance(value, Tensor) else Tensor._make(np.asarray(array))
                if name in self._parameters:
                    setattr(self, name, Parameter(value, requires_grad=target.requires_grad))
                else:
                    self._buffers[name] = value
                continue
            target._data[...] = array
            target._version_box[0] += 1
        extra = prefix + _EXTRA_STATE
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra in state_dict:
                self.set_extra_state(state_dict[extra])
            elif strict:
                missing_keys.append(extra)
        elif strict and extra in state_dict:
            unexpected_keys.append(extra)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra:
                    head, *rest = key[len(prefix):].split(".", 1)
                    if (head not in self._modules) if rest else (head not in local):
                        unexpected_keys.append(key)

    # ------------------------------------------------------------------ hooks
    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs) -> None`` runs before :meth:`load_state_dict` copies
        anything, once for each place this module holds in the loaded tree.

        ``prefix`` is this module's dotted name plus "." ("" at the root); ``state_dict`` is
        the loader's copy of the entries under ``prefix`` (all of them at the root; the
        caller's dict is untouched), so the hook may rename the keys it owns, e.g. to read
        checkpoints saved under older names; keys it drops are not loaded. Returns a handle
        whose ``remove()`` unregisters the hook.
        """
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """As :meth:`register_load_state_dict_pre_hook`; without ``with_module`` the hook is
        called without the module argument (torch's older private form)."""
        if with_module:
            # (a partial, not a lambda: the module still pickles and deep-copies)
            hook = functools.partial(hook, self)
        return self._add_hook(self._load_state_dict_pre_hooks, hook)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys) -> None`` runs after this module and its children
        have loaded; it may edit ``incompatible_keys.missing_keys`` / ``unexpected_keys`` in
        place (what ``strict`` then reports). Returns a removable handle."""
        return self._add_hook(self._load_state_dict_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars) -> None`` runs before this module's part of a
        ``state_dict`` is saved."""
        return self._add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata) -> None`` runs after this
        module's part of a ``state_dict`` (its children's included) is saved; it may edit
        the dict in place."""
        return self._add_hook(self._state_dict_hooks, hook)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args) -> None or new args`` runs before ``forward``; with
        ``with_kwargs``, ``hook(module, args, kwargs) -> None or (new_args, new_kwargs)``.
        ``prepend``: run it before the hooks already registered."""
        return self._add_hook(self._forward_pre_hooks,
                              _WithKwargs(hook) if with_kwargs else hook, prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """``hook(module, args, output) -> None or new output`` runs after ``forward``; with
        ``with_kwargs``, ``hook(module, args, kwargs, output)``. ``prepend``: before the hooks
        already registered; ``always_call``: also when ``forward`` raises (output None)."""
        if with_kwargs or always_call:
            hook = _WithKwargs(hook, always_call) if with_kwargs else _AlwaysCalled(hook)
        return self._add_hook(self._forward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output) -> None or new grad_output`` runs when the gradient
        w.r.t. the module's output arrives, before the gradients w.r.t. its inputs are
        computed (the returned one flows on instead)."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output) -> None or new grad_input`` runs when the
        gradients w.r.t. the module's inputs have been computed."""
        return self._add_hook(self._backward_hooks, hook, prepend)

    @staticmethod
    def _add_hook(store, hook, prepend=False):
        key = next(_HOOK_IDS)
        store[key] = hook
        if prepend:
            store.move_to_end(key, last=False)
        return HookHandle(store, key)

    # ------------------------------------------------------------------ printing
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))
