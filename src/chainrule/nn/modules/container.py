"""Containers: Sequential (the deck's composition f_L(…f_1(x))), ModuleList, ModuleDict."""
from __future__ import annotations

from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """Chain modules: forward(x) = f_L(f_{L−1}(…(f_1(x))…)).

    ``Sequential(m1, m2, ...)`` names them "0", "1", ...; ``Sequential(OrderedDict(...))``
    keeps the given names.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __add__(self, other):
        """A new Sequential running this one's modules, then ``other``'s (the same objects)."""
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def __mul__(self, times: int):
        """A new Sequential running this one's modules ``times`` times over (the same objects,
        so their parameters are shared)."""
        if not isinstance(times, int) or isinstance(times, bool):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(times)}")
        if times <= 0:
            raise ValueError(f"Non-positive multiplication factor {times} for {type(self)}")
        return Sequential(*(list(self) * times))

    __rmul__ = __mul__

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self))]

    def append(self, module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> "Sequential":
        for m in modules:
            self.append(m)
        return self

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(idx, len(self))]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        for key in (keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys))]]):
            del self._modules[key]
        # torch renumbers the remaining children 0..n-1 (their state_dict keys change with them)
        _renumber(self, list(self._modules.values()))

    def insert(self, index: int, module) -> "Sequential":
        _insert(self, index, module)
        return self

    def pop(self, idx: int = -1):
        module = self[idx]
        del self[idx]
        return module


def _index(idx, n):
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for a container of length {n}")
    return idx % n


def _renumber(container, modules):
    """Re-register ``modules`` under the keys "0", "1", ... (torch's list semantics)."""
    container._modules.clear()
    for i, m in enumerate(modules):
        container.add_module(str(i), m)


def _insert(container, index, module):
    n = len(container)
    if not -n <= index <= n:
        raise IndexError(f"index {index} is out of range for a container of length {n}")
    modules = list(container._modules.values())
    modules.insert(index, module)
    _renumber(container, modules)


class ModuleList(Module):
    """A list of modules, registered so their parameters are found."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __add__(self, other):
        """A new ModuleList of this one's modules followed by ``other``'s (the same objects)."""
        return ModuleList([*self, *other])

    def append(self, module) -> "ModuleList":
        self.add_module(str(len(self)), module)
        return self

    def __repr__(self):
        """torch's: runs of equal entries print once, as ``(i-j): n x <repr>``."""
        reprs = [repr(m) for m in self._modules.values()]
        if not reprs:
            return type(self).__name__ + "()"
        runs = [[0, 0, reprs[0]]]
        for i, r in enumerate(reprs[1:], 1):
            if r == runs[-1][2]:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}").replace(
            "\n", "\n  ") for a, b, r in runs]
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"

    def extend(self, modules) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self)))]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self))), module)

    def __delitem__(self, idx):
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[_index(idx, len(modules))]
        _renumber(self, modules)

    def insert(self, index: int, module) -> None:
        _insert(self, index, module)

    def pop(self, idx: int = -1):
        module = self[idx]
        del self[idx]
        return module


class ModuleDict(Module):
    """A dict of modules by name."""

    def __init__(self, modules=None):
        super().__init__()
        if modules:
            self.update(modules)

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


def _as_parameter(value):
    """Tensors stored in a parameter container become Parameters (torch's rule); other values
    (None, numbers) are kept as plain attributes."""
    from ..parameter import Parameter
    if isinstance(value, Parameter) or not hasattr(value, "_data"):
        return value
    return Parameter(value)


class ParameterList(Module):
    """A list of parameters, registered under "0", "1", … so ``parameters()``, ``state_dict()``
    and optimizers find them; a plain tensor appended becomes a Parameter."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        for v in values or ():
            self.append(v)

    def _set(self, i, value):
        value = _as_parameter(value)
        if hasattr(value, "_data"):
            self.register_parameter(str(i), value)
        else:
            self._parameters.pop(str(i), None)
            object.__setattr__(self, str(i), value)

    def append(self, value) -> "ParameterList":
        self._size += 1
        self._set(self._size - 1, value)
        return self

    def extend(self, values) -> "ParameterList":
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values) -> "ParameterList":
        return self.extend(values)

    def __len__(self):
        return self._size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        key = str(_index(idx, self._size))
        return self._parameters[key] if key in self._parameters else getattr(self, key)

    def __setitem__(self, idx, value):
        self._set(_index(idx, self._size), value)

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def extra_repr(self):
        lines = []
        for i, p in enumerate(self):
            if hasattr(p, "_data"):
                size = "x".join(str(s) for s in p.shape)
                lines.append(f"  ({i}): Parameter containing: [{p.dtype} of size {size}]")
            else:
                lines.append(f"  ({i}): Object of type: {type(p).__name__}")
        return "\n".join(lines)


def _tensor_type(p):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor"}
    return names.get(str(p.dtype).split(".")[-1], "Tensor")


class ParameterDict(Module):
    """A dict of parameters by name (insertion-ordered; a plain dict given to the constructor
    or ``update`` is taken in sorted key order, as torch's), registered so ``parameters()``
    and ``state_dict()`` find them; a plain tensor stored becomes a Parameter."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return self._parameters[key] if key in self._parameters else getattr(self, key)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        value = _as_parameter(value)
        if hasattr(value, "_data"):
            self.register_parameter(key, value)
        else:
            self._parameters.pop(key, None)
            object.__setattr__(self, key, value)

    def __delitem__(self, key):
        del self._keys[key]
        if key in self._parameters:
            del self._parameters[key]
        else:
            object.__delattr__(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def values(self):
        return [self[k] for k in self._keys]

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> "ParameterDict":
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None) -> "ParameterDict":
        return ParameterDict({k: default for k in keys})

    def update(self, values) -> None:
        if not hasattr(values, "items") and not isinstance(values, (list, tuple)):
            raise TypeError(f"ParametersDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(values).__name__}")
        if isinstance(values, (OrderedDict, ParameterDict)):
            items = values.items()
        elif hasattr(values, "items"):   # a plain mapping: its keys sorted, as torch's
            items = sorted(values.items())
        else:
            items = values
        for pair in items:
            key, value = pair
            self[key] = value

    def extra_repr(self):
        lines = []
        for k, p in self.items():
            if hasattr(p, "_data"):
                size = "x".join(str(s) for s in p.shape)
                lines.append(f"  ({k}): Parameter containing: [chainrule.{_tensor_type(p)} of "
                             f"size {size}]")
            else:
                lines.append(f"  ({k}): Object of type: {type(p).__name__}")
        return "\n".join(lines)
