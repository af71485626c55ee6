"""Parametrizations (``torch.nn.utils.parametrize``): a module's tensor computed from others.

``register_parametrization(module, "weight", P)`` keeps the current weight's preimage under
``P.right_inverse`` as ``module.parametrizations.weight.original`` (or ``original0``,
``original1``, ... when the inverse returns several tensors, as weight norm's (g, v)), and
makes ``module.weight`` a property that returns ``P(original)`` each time it is read, so the
optimizer trains the original and every use sees the parametrized value. Several
parametrizations of one tensor compose in the order they were registered. Assigning to
``module.weight`` goes through the inverses. The state dict holds the originals under
``parametrizations.<name>.original…``, as torch's.

As torch, the property lives on a subclass made for the module (``Parametrized<Class>``), so
other instances of the class are untouched; removing the last parametrization restores the
class.
"""
from __future__ import annotations

import contextlib
import copy

from ..._modes import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "type_before_parametrizations", "ParametrizationList"]

_cache: dict | None = None      # (module id, name) -> value while ``cached()`` is active


@contextlib.contextmanager
def cached():
    """Within the block each parametrized tensor is computed once, at its first read (torch's
    ``parametrize.cached``: e.g. a recurrent layer reading its weight at every step)."""
    global _cache
    outer = _cache
    if outer is None:
        _cache = {}
    try:
        yield
    finally:
        if outer is None:
            _cache = None


def _make_original(value, like):
    """``value`` stored as ``like`` was: a Parameter (keeping requires_grad) or a plain tensor."""
    if isinstance(like, Parameter):
        return Parameter(value.detach(), requires_grad=like.requires_grad)
    return value.detach()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the original tensor(s) they read:
    ``forward()`` = pₙ(… p₂(p₁(original)) …)."""

    def __init__(self, modules, original, unsafe=False):
        if not modules:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        if self.is_tensor:
            if not unsafe and (new.dtype != original.dtype or new.shape != original.shape):
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype or shape, got {new.dtype} {tuple(new.shape)} for "
                                 f"{original.dtype} {tuple(original.shape)}")
            with no_grad():        # the original object itself stays (optimizers hold it)
                original._data = new.detach()._data.astype(original._data.dtype, copy=True)
            self._store("original", original)
        else:
            if not isinstance(new, (tuple, list)):
                raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                 f"tensors, got {type(new).__name__}")
            self.ntensors = len(new)
            for i, t in enumerate(new):
                self._store(f"original{i}", _make_original(t, original))
        if not unsafe:
            value = self()
            if not isinstance(value, Tensor) or value.shape != original.shape \
                    or value.dtype != original.dtype:
                raise ValueError(f"Registering a parametrization may not change the shape or "
                                 f"dtype of the tensor, unless `unsafe` is set: "
                                 f"{original.dtype} {tuple(original.shape)} -> "
                                 f"{getattr(value, 'dtype', type(value).__name__)} "
                                 f"{tuple(getattr(value, 'shape', ()))}")

    def _store(self, name, tensor):
        if isinstance(tensor, Parameter):
            self.register_parameter(name, tensor)
        else:
            self.register_buffer(name, tensor)

    def originals(self):
        return ((self.original,) if self.is_tensor
                else tuple(getattr(self, f"original{i}") for i in range(self.ntensors)))

    def right_inverse(self, value):
        """Set the original(s) so that ``forward()`` gives ``value`` (assignment to the
        parametrized attribute)."""
        with no_grad():
            for module in reversed(self):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            values = (value,) if self.is_tensor else tuple(value)
            if len(values) != len(self.originals()):
                raise ValueError(f"'right_inverse' must return {len(self.originals())} tensors, "
                                 f"got {len(values)}")
            for original, new in zip(self.originals(), values):
                if original.shape != new.shape:
                    raise ValueError(f"the original has shape {tuple(original.shape)}, "
                                     f"'right_inverse' returned {tuple(new.shape)}")
                original._data[...] = new._data
                original._version_box[0] += 1

    def forward(self):
        x = self[0](*self.originals())
        for module in list(self)[1:]:
            x = module(x)
        return x


def _parametrized_property(name):
    def get(self):
        if _cache is not None:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = self.parametrizations[name]()
            return _cache[key]
        return self.parametrizations[name]()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    return property(get, set_, doc=f"``{name}``, computed by its parametrizations.")


def is_parametrized(module, tensor_name=None) -> bool:
    """Whether ``module`` has any parametrization (or one of ``tensor_name``)."""
    found = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(found, ModuleDict):
        return False
    return len(found) > 0 if tensor_name is None else tensor_name in found


def type_before_parametrizations(module) -> type:
    """The module's class before parametrizations replaced it with their subclass."""
    cls = type(module)
    return cls.__bases__[0] if is_parametrized(module) else cls


def _refuse_pickle(self):
    # the class made for the module cannot be found by name when unpickling (torch's refusal)
    raise RuntimeError("Serialization of parametrized modules is only supported through "
                       "state_dict(). See: https://pytorch.org/tutorials/beginner/"
                       "saving_loading_models.html#saving-loading-a-general-checkpoint-for-"
                       "inference-and-or-resuming-training")


def _deepcopy(self, memo):
    # copy.deepcopy goes through __getstate__, which refuses: copy the attributes (torch's way)
    if id(self) in memo:
        return memo[id(self)]
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    return replica


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` = ``parametrization(original)`` (see the module doc).

    Args:
        module: the module holding the parameter or buffer ``tensor_name``.
        parametrization: a Module whose ``forward`` maps the original(s) to the tensor; an
            optional ``right_inverse(tensor)`` maps a tensor back to the original(s) (one
            tensor or a tuple), used at registration and on assignment.
        unsafe: allow the parametrization to change the tensor's shape or dtype.
    Returns: ``module``.
    """
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            value = getattr(module, tensor_name)
            out = parametrization(value)
            if out.shape != value.shape or out.dtype != value.dtype:
                raise ValueError(f"Registering a parametrization may not change the shape or "
                                 f"dtype of the tensor, unless `unsafe` is set: "
                                 f"{value.dtype} {tuple(value.shape)} -> {out.dtype} "
                                 f"{tuple(out.shape)}")
        plist.append(parametrization)
        plist.unsafe = plist.unsafe or unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        cls = type(module)
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,),
                                {"__getstate__": _refuse_pickle, "__deepcopy__": _deepcopy})
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    setattr(type(module), tensor_name, _parametrized_property(tensor_name))
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization`` for ``tensor_name``: the tensor becomes a plain
    parameter (or buffer) again, holding its current parametrized value
    (``leave_parametrized``) or the original (which must then be a single tensor)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            if value.shape != original.shape or value.dtype != original.dtype:
                original = _make_original(value, original)
            else:
                original._data = value.detach()._data.copy()
    elif leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        like = plist.original0
        original = _make_original(value, like)
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        del module.parametrizations
        module.__class__ = type(module).__bases__[0]
    return module
