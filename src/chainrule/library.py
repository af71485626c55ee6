"""User-defined operators, as ``torch.library``: a Python function becomes an operator with a
schema, reachable as ``chainrule.ops.<namespace>.<name>``, with its own gradient formula.

    @chainrule.library.custom_op("mylib::numpy_sin", mutates_args=())
    def numpy_sin(x: chainrule.Tensor) -> chainrule.Tensor:
        return chainrule.from_numpy(np.sin(x.numpy()))

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, grad):                    # x̄ = ȳ·cos x
        x, = ctx.saved_tensors
        return grad * x.cos()

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    chainrule.ops.mylib.numpy_sin(x)            # the same operator, by name
    chainrule.library.opcheck(numpy_sin, (x,))  # {'test_schema': 'SUCCESS', ...}

The contract, as torch's: an operator's outputs never alias its inputs (a kernel returning an
input, or a view of one, raises), and it mutates only the arguments named in ``mutates_args``
(not checked on each call, as in torch; :func:`opcheck` checks it). The kernel runs without
recording a graph; gradients come only from ``register_autograd`` (through
:class:`chainrule.autograd.Function`), and backward through an operator without one raises.
The older :class:`Library` (``define`` a schema string, ``impl`` a kernel) registers into the
same table. chainrule runs on the CPU only: kernels for 'cpu' (or every device, None) are
accepted, other devices raise :class:`~chainrule._device.DeviceUnavailableError`.
"""
from __future__ import annotations

import collections.abc
import inspect
import re
import sys
import types
import typing
import warnings

import numpy as np

from ._device import DeviceUnavailableError
from ._modes import no_grad
from .autograd.function import Function
from .autograd.gradcheck import gradcheck
from . import ops
from . import _op_namespaces as _namespaces   # torch.ops' packet and namespace classes
from .tensor import Tensor

__all__ = ["Library", "custom_op", "define", "impl", "register_autograd", "register_fake",
           "register_kernel", "opcheck", "infer_schema", "CustomOpDef", "OpCheckError"]

_OPS: dict = {}                 # "ns::name" -> _OpDef (the latest definition)
_DEF_NAMESPACES: set = set()    # namespaces held by a Library of kind "DEF"
_TESTS = ("test_schema", "test_autograd_registration", "test_faketensor",
          "test_aot_dispatch_static", "test_aot_dispatch_dynamic")
_DEFAULT_TESTS = ("test_schema", "test_autograd_registration", "test_faketensor",
                  "test_aot_dispatch_dynamic")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------- schemas
class _Arg:
    __slots__ = ("name", "type", "default", "kwarg_only", "mutable", "alias")

    def __init__(self, name, type, default=inspect.Parameter.empty, kwarg_only=False,
                 mutable=False, alias=None):
        self.name, self.type, self.default = name, type, default
        self.kwarg_only, self.mutable, self.alias = kwarg_only, mutable, alias

    def text(self, alias):
        base = self.type.rstrip("?[]")   # the alias annotation sits after the base type
        note = self.alias or (f"(a{alias}!)" if self.mutable else "")   # a schema's own
        marked = base + note + self.type[len(base):]
        return f"{marked} {self.name}" + (
            "" if self.default is inspect.Parameter.empty else f"={_default_text(self.default)}")


def _default_text(value):
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_default_text(v) for v in value) + "]"
    if isinstance(value, float):   # as torch's C++ printer: 17 digits, "2." for a whole number
        text = format(value, ".17g")
        return text if any(c in text for c in ".ein") else text + "."
    return repr(value)


class _Schema:
    """An operator's signature: its arguments (name, type string, default, keyword-only,
    mutated) and its return types (``[]`` for ``()``; ``tuple_return`` for a parenthesised
    list of one or more)."""

    def __init__(self, args, returns, tuple_return):
        self.args, self.returns, self.tuple_return = args, returns, tuple_return

    def text(self, qualname=""):
        parts, star = [], False
        for i, a in enumerate(self.args):   # torch names a mutated argument's alias by its index
            if a.kwarg_only and not star:
                parts.append("*")
                star = True
            parts.append(a.text(i))
        if self.tuple_return or not self.returns:
            ret = "(" + ", ".join(self.returns) + ")"
        else:
            ret = self.returns[0]
        return f"{qualname}({', '.join(parts)}) -> {ret}"


def _split_top(text):
    """Split at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "([" and 1 or ch in ")]" and -1 or 0
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    return parts + [tail] if tail else parts


def _parse_default(text):
    if text == "None":
        return None
    if text in ("True", "False"):
        return text == "True"
    if text[:1] in "\"'":
        return text[1:-1]
    if text.startswith("["):
        return [_parse_default(t) for t in _split_top(text[1:-1])]
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text   # an enum-like word (a memory format, a dtype name): passed as is


_TYPE = re.compile(r"^(Tensor|SymInt|int|float|bool|str|Scalar|ScalarType|Device|Layout|"
                   r"MemoryFormat|Generator|Any)(\([a-z0-9]+!?\))?(\?)?(\[\d*\])?(\?)?$")


def _parse_type(text, where):
    m = _TYPE.match(text.replace(" ", ""))
    if m is None:
        raise RuntimeError(f"{where}: unknown type '{text}' in the schema (chainrule knows "
                           "Tensor, int, SymInt, float, bool, str, Scalar, ScalarType, Device, "
                           "each with ? and [])")
    base, alias, q1, lst, q2 = m.groups()
    return base + (q1 or "") + (lst and "[]" or "") + (q2 or ""), alias


def _parse_schema(text, where):
    """``(Tensor x, int[] s, *, float eps=1e-5) -> (Tensor, Tensor)`` as a :class:`_Schema`."""
    m = re.match(r"^\s*\((.*)\)\s*->\s*(.+?)\s*$", text, re.S)
    if m is None:
        raise RuntimeError(f"{where}: expected a schema '(ARGS) -> RETURNS', got '{text}'")
    args, kwarg_only = [], False
    for part in _split_top(m.group(1)):
        if part == "*":
            kwarg_only = True
            continue
        decl, _, default = part.partition("=")
        pieces = decl.strip().rsplit(None, 1)
        if len(pieces) != 2 or not _IDENT.match(pieces[1]):
            raise RuntimeError(f"{where}: expected 'TYPE NAME' for an argument, got '{part}'")
        type_, alias = _parse_type(pieces[0], where)
        args.append(_Arg(pieces[1], type_,
                         _parse_default(default.strip()) if default else inspect.Parameter.empty,
                         kwarg_only, bool(alias and "!" in alias), alias))
    ret = m.group(2).strip()
    tuple_return = ret.startswith("(")
    items = _split_top(ret[1:-1]) if tuple_return else [ret]
    returns = [_parse_type(r.split()[0], where)[0] for r in items]
    return _Schema(args, returns, tuple_return and bool(returns))


def _annotation_type(ann):
    """The schema type of a Python annotation, or None when the schema has no such type."""
    if ann is Tensor:
        return "Tensor"
    simple = {int: "SymInt", float: "float", bool: "bool", str: "str"}
    if ann in simple:
        return simple[ann]
    dtype_cls = type(getattr(sys.modules["chainrule"], "float32", None))
    if ann is dtype_cls:
        return "ScalarType"
    origin, params = typing.get_origin(ann), typing.get_args(ann)
    if origin in (typing.Union, types.UnionType):
        rest = [p for p in params if p is not type(None)]
        if len(rest) == 1 and len(params) == 2:
            inner = _annotation_type(rest[0])
            return inner + "?" if inner and not inner.endswith("?") else None
        if set(rest) == {int, float, bool}:
            return "Scalar" if len(rest) == len(params) else "Scalar?"
        return None
    if origin in (list, collections.abc.Sequence) and len(params) == 1:
        inner = _annotation_type(params[0])
        if inner in ("Tensor", "Tensor?", "SymInt", "float", "bool", "Scalar"):
            return inner + "[]"
    return None


def infer_schema(prototype_function, /, *, mutates_args, op_name=None):
    """The schema string torch infers from a function's type annotations, e.g.
    ``(Tensor x, SymInt n, *, float s=1.0) -> Tensor``; ``mutates_args`` ("unknown" or the
    names of the Tensor arguments the function mutates) marks those arguments ``Tensor(a!)``.
    Raises ValueError for a missing or unsupported annotation, as torch."""
    return _infer(prototype_function, mutates_args).text(op_name or "")


def _infer(fn, mutates_args):
    try:
        sig = inspect.signature(fn, eval_str=True)
    except (NameError, TypeError):
        sig = inspect.signature(fn)

    def fail(why):
        raise ValueError(f"infer_schema(func): {why} Got func with signature {sig})")

    args = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            fail("We do not support positional-only args, varargs, or varkwargs.")
        if p.annotation is p.empty:
            fail(f"Parameter {p.name} must have a type annotation.")
        type_ = _annotation_type(p.annotation)
        if type_ is None:
            fail(f"Parameter {p.name} has unsupported type {p.annotation}. The valid types are "
                 "Tensor, int, float, bool, str, Scalar (int | float | bool), a dtype, "
                 "Optional of each, and Sequence/List of Tensor, Optional[Tensor], int, "
                 "float, bool.")
        args.append(_Arg(p.name, type_, p.default, p.kind == p.KEYWORD_ONLY))
    if any(a.kwarg_only and a.type.startswith("Tensor") for a in args):
        raise NotImplementedError("custom_op with kwarg-only Tensor args. Please make your "
                                  "tensors not kwarg-only. Got: "
                                  f"{_Schema(args, [], False).text(getattr(fn, '__name__', ''))}"
                                  .split(" -> ")[0] + " -> ...")
    tensors = [a for a in args if a.type.startswith("Tensor")]
    if mutates_args == "unknown":
        for a in tensors:
            a.mutable = True
    else:
        if isinstance(mutates_args, str) or not isinstance(mutates_args, collections.abc.Iterable):
            raise ValueError("mutates_args must be 'unknown' or an iterable of argument names, "
                             f"got {mutates_args!r}")
        missing = set(mutates_args) - {a.name for a in args}
        if missing:
            fail(f"{missing} in mutates_args were not found in the custom op's signature. "
                 "mutates_args should contain the names of all args that the custom op "
                 "mutates, or just the string 'unknown' if you don't know.")
        for a in args:
            a.mutable = a.name in mutates_args
    ret = sig.return_annotation
    if ret is sig.empty:
        fail("No return type annotation was provided. Please add one.")
    if ret is None or ret is type(None):
        return _Schema(args, [], False)
    if typing.get_origin(ret) is tuple or ret is tuple:
        returns = [_annotation_type(r) for r in typing.get_args(ret)]
        if not returns or None in returns:
            fail(f"Return has unsupported type {ret}.")
        return _Schema(args, returns, True)
    single = _annotation_type(ret)
    if single is None:
        fail(f"Return has unsupported type {ret}.")
    return _Schema(args, [single], False)


# ---------------------------------------------------------------------------- operators
def _split_qualname(qualname, where="custom_op"):
    if not isinstance(qualname, str):
        raise TypeError(f"{where}: expected a name 'namespace::opname' (a str), got "
                        f"{type(qualname).__name__}")
    parts = qualname.split("::")
    if len(parts) != 2:
        raise ValueError(f"{where}: expected a name of the form 'namespace::opname', got "
                         f"'{qualname}'")
    ns, name = parts
    name, _, overload = name.partition(".")
    for piece in (ns, name) + ((overload,) if overload else ()):
        if not _IDENT.match(piece):
            raise RuntimeError(f"{where}: '{qualname}' is not a valid operator name: the "
                               "namespace and the name must be Python identifiers")
    return ns, name


def _flat_tensors(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from (t for t in v if isinstance(t, Tensor))


class _OpDef:
    """One operator's table entry: its schema and what is registered for it."""

    def __init__(self, ns, name, schema, custom):
        self.ns, self.name, self.schema, self.custom = ns, name, schema, custom
        self.kernels = {}          # "cpu" / None (every device) / "autograd" -> kernel
        self.fake = None
        self.backward = self.setup_context = None
        self.function = None       # the autograd.Function that records a call

    @property
    def qualname(self):
        return f"{self.ns}::{self.name}"

    def declaration(self):
        return self.schema.text(self.qualname)

    def bind(self, args, kwargs):
        """The positional and keyword-only values of a call, checked against the schema."""
        positional = [a for a in self.schema.args if not a.kwarg_only]
        if len(args) > len(positional):
            raise RuntimeError(f"{self.qualname}() expected at most {len(positional)} "
                               f"argument(s) but received {len(args)} argument(s). "
                               f"Declaration: {self.declaration()}")
        names = {a.name for a in self.schema.args}
        for key in kwargs:
            if key not in names:
                raise RuntimeError(f"{self.qualname}() got an unexpected keyword argument "
                                   f"'{key}'. Declaration: {self.declaration()}")
        values = {}
        for i, a in enumerate(self.schema.args):
            if i < len(args) and not a.kwarg_only:
                value = args[i]
            elif a.name in kwargs:
                value = kwargs[a.name]
            elif a.default is not inspect.Parameter.empty:
                value = a.default
            else:
                raise RuntimeError(f"{self.qualname}() is missing value for argument "
                                   f"'{a.name}'. Declaration: {self.declaration()}")
            self._check_type(a, i, value)
            values[a.name] = value
        pos = tuple(values[a.name] for a in positional)
        kw = {a.name: values[a.name] for a in self.schema.args if a.kwarg_only}
        return pos, kw

    def _check_type(self, arg, position, value):
        ok = True
        if arg.type == "Tensor":
            ok = isinstance(value, Tensor)
        elif arg.type == "Tensor?":
            ok = value is None or isinstance(value, Tensor)
        elif arg.type.startswith("Tensor") and arg.type.endswith("[]"):
            ok = isinstance(value, (list, tuple)) and all(
                isinstance(v, Tensor) or (v is None and "?" in arg.type) for v in value)
        if not ok:
            raise RuntimeError(f"{self.qualname}() Expected a value of type '{arg.type}' for "
                               f"argument '{arg.name}' but instead found type "
                               f"'{type(value).__name__}'.\nPosition: {position}\nValue: "
                               f"{value!r}\nDeclaration: {self.declaration()}")

    def kernel(self):
        for key in ("autograd", "cpu", None):
            if key in self.kernels:
                return self.kernels[key]
        raise NotImplementedError(
            f"Could not run '{self.qualname}' with arguments from the 'CPU' backend: no kernel "
            f"is registered for it (register one with Library.impl, library.impl or "
            "register_kernel)")

    def run_kernel(self, pos, kw):
        """The kernel's result, checked: its structure against the schema's returns, and no
        output aliasing an input or another output (torch's rule)."""
        result = self.kernel()(*pos, **kw)
        if self.custom:   # torch checks on each call for custom_op kernels, not Library ones
            self.check_aliasing(pos, kw, result)
        return result

    def check_aliasing(self, pos, kw, result):
        outs = self._outputs(result)
        seen = [t._data for t in _flat_tensors((*pos, *kw.values()))]
        for o in _flat_tensors(outs):
            if any(np.may_share_memory(o._data, a) for a in seen):
                raise RuntimeError(
                    f"{self.name}: The output of this custom operator (1) must not also be an "
                    "input to this custom operator and (2) may not alias any inputs to this "
                    "custom operator or other returns. The most common way to trigger this "
                    "error is if we have y = custom_op(x) and y and x are the same Tensor. "
                    "Please instead return a clone of the offending output tensor(s) (e.g. "
                    "return x.clone()) or refactor the custom operator to not return y.")
            seen.append(o._data)

    def _outputs(self, result):
        returns = self.schema.returns
        if not returns:
            if result is not None:
                raise RuntimeError(f"{self.qualname}: the kernel returned "
                                   f"{type(result).__name__}, but the schema returns ()")
            return ()
        got = result if self.schema.tuple_return else (result,)
        if self.schema.tuple_return and (not isinstance(result, (tuple, list))
                                         or len(result) != len(returns)):
            raise RuntimeError(f"{self.qualname}: the kernel must return a tuple of "
                               f"{len(returns)} values (schema: {self.declaration()}), got "
                               f"{type(result).__name__}")
        for r, value in zip(returns, got):
            if r == "Tensor" and not isinstance(value, Tensor):
                raise RuntimeError(f"{self.qualname}: Unable to cast {value!r} to Tensor (the "
                                   f"schema returns Tensor: {self.declaration()})")
        return tuple(got)

    def __call__(self, *args, **kwargs):
        pos, kw = self.bind(args, kwargs)
        needs_grad = _grad_enabled() and any(
            t.requires_grad for t in _flat_tensors((*pos, *kw.values())))
        records = self.backward is not None or (self.custom and "autograd" not in self.kernels)
        if not needs_grad or not records or not self.schema.returns:
            if "autograd" in self.kernels:   # it records its own graph
                return self.run_kernel(pos, kw)
            # the kernel's own ops record no graph: gradients come from register_autograd only
            # (a Library kernel at a backend key, without one, records as torch's fallback)
            if self.custom:
                with no_grad():
                    return self.run_kernel(pos, kw)
            result = self.run_kernel(pos, kw)
            ins = {id(t) for t in _flat_tensors((*pos, *kw.values()))}
            if needs_grad and any(o.requires_grad and id(o) not in ins
                                  for o in _flat_tensors(_as_list(result))):
                # torch warns (at backward) that this fallback is deprecated
                warnings.warn(f"{self.qualname}: an autograd kernel was not registered to the "
                              "Autograd key(s) but we are trying to backprop through it. This "
                              "may lead to silently incorrect behavior. If your operator is "
                              "differentiable, register its gradient with register_autograd "
                              "or its kernel to 'Autograd'/'CompositeImplicitAutograd'.",
                              UserWarning, stacklevel=3)
            return result
        return _apply(self, pos, kw)


def _grad_enabled():
    return sys.modules["chainrule"].is_grad_enabled()


class _Meta:
    """The non-Tensor last argument of an operator's Function: how the flat Tensor inputs fold
    back into the call's arguments."""

    def __init__(self, opdef, pos, kw):
        self.opdef, self.kw = opdef, kw
        self.layout = [len(v) if isinstance(v, (list, tuple)) and a.type.endswith("[]")
                       and a.type.startswith("Tensor") else None
                       for a, v in zip([a for a in opdef.schema.args if not a.kwarg_only], pos)]

    def flatten(self, pos):
        flat = []
        for n, v in zip(self.layout, pos):
            flat.extend(v) if n is not None else flat.append(v)
        return flat

    def fold(self, flat):
        pos, i = [], 0
        for n in self.layout:
            if n is None:
                pos.append(flat[i])
                i += 1
            else:
                pos.append(list(flat[i:i + n]))
                i += n
        return tuple(pos)


class _OpFunction(Function):
    """A user-defined operator's call on the autograd tape: forward runs the kernel, backward
    the registered formula (one gradient per positional input, a list for a Tensor[] input)."""

    @staticmethod
    def forward(*flat):
        meta = flat[-1]
        out = meta.opdef.run_kernel(meta.fold(flat[:-1]), meta.kw)
        return tuple(out) if isinstance(out, list) else out

    @staticmethod
    def setup_context(ctx, inputs, output):
        meta = inputs[-1]
        ctx._meta = meta
        op = meta.opdef
        if op.setup_context is not None:
            extra = {"keyword_only_inputs": meta.kw} if meta.kw else {}
            op.setup_context(ctx, meta.fold(inputs[:-1]), output, **extra)

    @staticmethod
    def backward(ctx, *grads):
        meta = ctx._meta
        op = meta.opdef
        if op.backward is None:
            raise RuntimeError(f"Trying to backward through {op.ns}.{op.name}.default but no "
                               "autograd formula was registered. Please use register_autograd "
                               "to add one.")
        result = op.backward(ctx, *grads)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) != len(meta.layout):
            raise RuntimeError(f"{op.qualname}: the backward returned {len(result)} "
                               f"gradient(s), expected {len(meta.layout)} (one per positional "
                               "input; None for one without a gradient)")
        flat = []
        for n, g in zip(meta.layout, result):
            if n is None:
                flat.append(g)
            else:
                flat.extend(g if g is not None else [None] * n)
        return (*flat, None)


def _apply(opdef, pos, kw):
    if opdef.function is None:   # one Function class per operator: its grad_fn name, as torch
        name = f"GeneratedBackwardFor_{opdef.ns}_{opdef.name}_default"
        opdef.function = type(name, (_OpFunction,), {"__module__": __name__})
    meta = _Meta(opdef, pos, kw)
    out = opdef.function.apply(*meta.flatten(pos), meta)
    return list(out) if opdef.schema.returns == ["Tensor[]"] else out


class _Packet(_namespaces.OpOverloadPacket):
    """``ops.<ns>.<name>``: a user-defined operator; its one overload is ``.default``."""

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __getattr__(self, overload):
        if overload != "default":
            raise AttributeError(f"The underlying op of '{self._namespace}.{self.__name__}' "
                                 f"has no overload name '{overload}'")
        op = _namespaces.OpOverload(self, overload)
        op._schema = _OPS[f"{self._namespace}::{self.__name__}"].declaration()
        self.default = op
        return op

    def overloads(self):
        return ["default"]

    def __str__(self):
        return f"{self._namespace}.{self.__name__}"


_NAMESPACES: dict = {}   # ns -> chainrule.ops.<ns>, the namespaces of user-defined operators


def _namespace(ns):
    space = _NAMESPACES.get(ns)
    if space is None:
        if hasattr(ops, ns):   # chainrule.ops also holds the built-in functions and aten
            raise ValueError(f"chainrule.library: the namespace {ns!r} is taken by "
                             f"chainrule.ops.{ns}; choose another name for your operators")
        def resolve(name, ns=ns):
            if f"{ns}::{name}" not in _OPS:
                return None
            # looked up on each call: a later definition of the name takes over, as in torch
            return lambda *args, **kwargs: _OPS[f"{ns}::{name}"](*args, **kwargs)
        space = _NAMESPACES[ns] = _namespaces._OpNamespace(ns, resolve, _Packet)
        setattr(ops, ns, space)
    return space


def _register(opdef):
    space = _namespace(opdef.ns)     # first: a refused namespace registers nothing
    _OPS[opdef.qualname] = opdef
    packet = vars(space).get(opdef.name)
    if packet is not None:   # a new schema: the cached .default describes the old one
        vars(packet).pop("default", None)


def _lookup(op, where):
    """The table entry of a CustomOpDef, OpOverload(Packet) or 'ns::name'."""
    if isinstance(op, CustomOpDef):
        return op._opdef
    if isinstance(op, _namespaces.OpOverload):
        op = op.overloadpacket
    if isinstance(op, _namespaces.OpOverloadPacket):
        op = f"{op._namespace}::{op.__name__}"
    ns, name = _split_qualname(op, where)
    if f"{ns}::{name}" not in _OPS:
        raise AttributeError(f"'_OpNamespace' '{ns}' object has no attribute '{name}'")
    return _OPS[f"{ns}::{name}"]


def _device_key(device_types, where):
    """None (every device) or 'cpu'; another device raises (chainrule computes on the CPU)."""
    if device_types is None:
        return None
    kinds = [device_types] if isinstance(device_types, str) else list(device_types)
    for kind in kinds:
        if not isinstance(kind, str) or kind.lower().split(":")[0] != "cpu":
            raise DeviceUnavailableError(
                f"{where}: device {kind!r} is not available: chainrule runs on the CPU only "
                "(NumPy); register the kernel for 'cpu' or for every device (None)")
    return "cpu"


class CustomOpDef:
    """What :func:`custom_op` returns: the operator, callable like the function it wraps, with
    ``register_kernel``, ``register_fake`` and ``register_autograd`` (torch's CustomOpDef)."""

    def __init__(self, opdef, fn):
        self._opdef, self._init_fn = opdef, fn
        self._namespace, self._name = opdef.ns, opdef.name
        self.__doc__ = getattr(fn, "__doc__", None)

    @property
    def _qualname(self):
        return self._opdef.qualname

    @property
    def _opoverload(self):
        return getattr(getattr(_namespace(self._namespace), self._name), "default")

    def __call__(self, *args, **kwargs):
        return _OPS[self._qualname](*args, **kwargs)   # a later definition takes over

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    def register_kernel(self, device_types, fn=None, /):
        """Use ``fn`` on ``device_types`` ('cpu', or None for every device) instead of the
        decorated function; a decorator when ``fn`` is None. Returns ``fn``."""
        key = _device_key(device_types, f"{self._qualname}.register_kernel")

        def inner(fn):
            self._opdef.kernels[key] = fn
            return fn
        return inner if fn is None else inner(fn)

    def register_fake(self, fn, /):
        """The operator's fake (meta) kernel: outputs of the right shape and dtype without the
        computation (``torch.empty_like(x)``); :func:`opcheck` checks it. Returns ``fn``."""
        self._opdef.fake = fn
        return fn

    def register_autograd(self, backward, /, *, setup_context=None):
        """The operator's gradient: ``setup_context(ctx, inputs, output)`` saves what backward
        needs (keyword-only inputs come as ``keyword_only_inputs=``), ``backward(ctx, *grads)``
        returns one gradient per positional input (x̄ given ȳ; None for a non-Tensor).
        Refused for an operator that mutates its inputs, as torch."""
        _set_autograd(self._opdef, backward, setup_context, repr(self))


def _set_autograd(opdef, backward, setup_context, shown):
    if any(a.mutable for a in opdef.schema.args):
        raise RuntimeError(f"Cannot register autograd formula for non-functional operator "
                           f"{shown} with schema {opdef.declaration()}. Please create a "
                           "functional operator and register an autograd formula for that.")
    if not callable(backward) or (setup_context is not None and not callable(setup_context)):
        raise TypeError(f"register_autograd({shown}): backward and setup_context must be "
                        "callables")
    opdef.backward, opdef.setup_context = backward, setup_context


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
    """Turn ``fn`` into the operator ``name`` ("namespace::opname"), also reachable as
    ``chainrule.ops.namespace.opname``; a decorator when ``fn`` is None.

    ``mutates_args``: the names of the Tensor arguments ``fn`` mutates (``()`` for none, or
    "unknown"). The schema is inferred from ``fn``'s type annotations (Tensor, Optional[Tensor],
    Sequence[Tensor], int, float, bool, str, int | float | bool, a dtype, Optional and Sequence
    of the numbers; returns Tensor, a tuple of them, a list of Tensors, or None), or given as
    ``schema="(Tensor x, float s) -> Tensor"``. ``device_types``: 'cpu' or None. Defining a
    name again replaces the earlier operator, as in torch. Returns a :class:`CustomOpDef`.
    """
    def inner(fn):
        ns, opname = _split_qualname(name)
        parsed = _infer(fn, mutates_args) if schema is None else \
            _parse_schema(schema, f"custom_op({name!r})")
        opdef = _OpDef(ns, opname, parsed, custom=True)
        opdef.kernels[_device_key(device_types, f"custom_op({name!r})")] = fn
        _register(opdef)
        return CustomOpDef(opdef, fn)
    return inner if fn is None else inner(fn)


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """``op.register_kernel(device_types, func)`` for an operator given by name or object."""
    opdef = _lookup(op, "register_kernel")
    key = _device_key(device_types, f"{opdef.qualname}.register_kernel")

    def inner(fn):
        opdef.kernels[key] = fn
        return fn
    return inner if func is None else inner(func)


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1):
    """The fake (meta) kernel of an operator given by name or object; a decorator when
    ``func`` is None. Returns ``func``."""
    opdef = _lookup(op, "register_fake")

    def inner(fn):
        opdef.fake = fn
        return fn
    return inner if func is None else inner(func)


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    """The gradient formula of an operator given by name ("ns::op") or object; see
    :meth:`CustomOpDef.register_autograd`."""
    opdef = _lookup(op, "register_autograd")
    _set_autograd(opdef, backward, setup_context, f"{opdef.qualname}")


# ---------------------------------------------------------------------------- Library
_KEYS = {"cpu": "cpu", "compositeexplicitautograd": None, "": None,
         "compositeimplicitautograd": "autograd", "autograd": "autograd",
         "autogradcpu": "autograd"}


class Library:
    """torch's low-level registration object: ``Library("mylib", "DEF")`` owns the namespace
    (one DEF per namespace), ``"FRAGMENT"`` adds definitions to it, ``"IMPL"`` only kernels.

        lib = Library("mylib", "DEF")
        lib.define("mul3(Tensor x) -> Tensor")
        lib.impl("mul3", lambda x: x * 3, "CPU")
        chainrule.ops.mylib.mul3(x)

    A kernel at "CPU"/"CompositeExplicitAutograd" runs with the graph recorded as ops run (the
    fallback torch warns about); at "Autograd"/"CompositeImplicitAutograd" it is in charge of
    its own gradient; "Meta" is the fake kernel. Other devices raise."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if not _IDENT.match(ns):
            raise ValueError(f"Library: namespace '{ns}' must be a Python identifier")
        if kind == "DEF":
            if ns in _DEF_NAMESPACES:
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; "
                    "please put all of your definitions in a single TORCH_LIBRARY block. If "
                    "you were trying to specify implementations, consider using "
                    "TORCH_LIBRARY_IMPL (which can be duplicated). If you really intended to "
                    "define operators for a single namespace in a distributed way, you can "
                    "use TORCH_LIBRARY_FRAGMENT to explicitly indicate this.")
            _DEF_NAMESPACES.add(ns)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._op_defs = set()

    def __repr__(self):
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema, alias_analysis="", *, tags=()):
        """Declare the operator ``"name(ARGS) -> RETURNS"`` in this namespace; returns its
        name. Declaring a name twice raises RuntimeError, as torch."""
        m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(\(.*)$", schema, re.S)
        if self.kind == "IMPL":
            raise RuntimeError(f'def("{m.group(1) if m else schema}"): Cannot define an '
                               "operator inside of a TORCH_LIBRARY_IMPL block.  All def()s "
                               "should be placed in the (unique) TORCH_LIBRARY block for their "
                               "namespace.")
        if m is None:
            raise RuntimeError(f"Library.define: expected 'name(ARGS) -> RETURNS', got "
                               f"'{schema}'")
        name = m.group(1).split(".")[0]
        parsed = _parse_schema(m.group(2), f"Library.define({schema!r})")
        qualname = f"{self.ns}::{name}"
        if qualname in _OPS:
            raise RuntimeError(
                f"Tried to register an operator ({parsed.text(qualname)}) with the same name "
                "and overload name multiple times. Each overload's schema should only be "
                "registered with a single call to def().")
        _register(_OpDef(self.ns, name, parsed, custom=False))
        self._op_defs.add(qualname)
        return name

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False, allow_override=False):
        """Register ``fn`` as the kernel of ``op_name`` (a name in this namespace or an
        OpOverload) for ``dispatch_key`` ("CPU", "CompositeExplicitAutograd",
        "CompositeImplicitAutograd", "Autograd", "Meta"; default: the library's)."""
        if isinstance(op_name, (_namespaces.OpOverload, _namespaces.OpOverloadPacket)):
            opdef = _lookup(op_name, "Library.impl")
        else:
            opdef = _lookup(f"{self.ns}::{op_name.split('.')[0]}", "Library.impl")
        key = (dispatch_key or self.dispatch_key or "CompositeImplicitAutograd")
        if key.lower() == "meta":
            opdef.fake = fn
            return
        if key.lower() not in _KEYS:
            raise DeviceUnavailableError(
                f"Library.impl({opdef.qualname}): dispatch key '{key}' is not available: "
                "chainrule runs on the CPU only (NumPy); use 'CPU', "
                "'CompositeExplicitAutograd', 'CompositeImplicitAutograd' or 'Autograd'")
        opdef.kernels[_KEYS[key.lower()]] = fn

    def _destroy(self):
        """Remove the operators this library defined (and free a DEF namespace)."""
        for qualname in self._op_defs:
            _OPS.pop(qualname, None)
            ns, name = qualname.split("::")
            vars(_namespace(ns)).pop(name, None)
        self._op_defs.clear()
        if self.kind == "DEF":
            _DEF_NAMESPACES.discard(self.ns)


_FRAGMENTS: dict = {}


def _fragment(ns):
    if ns not in _FRAGMENTS:
        _FRAGMENTS[ns] = Library(ns, "FRAGMENT")
    return _FRAGMENTS[ns]


def define(qualname, schema, *, lib=None, tags=()):
    """Declare the operator ``qualname`` ("ns::name") with ``schema`` ("(Tensor x) -> Tensor"),
    as ``Library(ns, "FRAGMENT").define("name" + schema)``."""
    ns, name = _split_qualname(qualname, "define")
    (lib or _fragment(ns)).define(name + schema, tags=tags)


def impl(qualname, types, func=None, *, lib=None):
    """Register a kernel of ``qualname`` for device ``types`` ("cpu", a sequence of them, or a
    dispatch key such as "CompositeExplicitAutograd"); a decorator when ``func`` is None. As in
    torch, the decorator returns None. Also ``impl(lib, name, dispatch_key)``."""
    if isinstance(qualname, Library):   # torch's older form: impl(lib, name, dispatch_key)
        lib, name, key = qualname, types, func

        def register(fn):
            lib.impl(name, fn, key or "")
            return fn
        return register
    opdef = _lookup(qualname, "impl")
    kinds = [types] if isinstance(types, str) else list(types)

    def register(fn):
        for kind in kinds:
            if kind.lower() in _KEYS:
                opdef.kernels[_KEYS[kind.lower()]] = fn
            else:
                opdef.kernels[_device_key(kind, f"impl({opdef.qualname!r})")] = fn
    if func is None:
        return register
    register(func)


# ---------------------------------------------------------------------------- opcheck
class OpCheckError(Exception):
    """Raised by :func:`opcheck` when a test fails (torch's OpCheckError)."""


def _clone(value):
    if isinstance(value, Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def _arrays(values):
    return [t._data.copy() for t in _flat_tensors(values)]


def _test_schema(opdef, args, kwargs):
    """Runs; outputs alias no input (checked on each call); no argument outside
    ``mutates_args`` changes."""
    pos, kw = opdef.bind(args, kwargs)
    before = [(a, _clone(v)) for a, v in zip(opdef.schema.args, (*pos, *kw.values()))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # test_autograd_registration's subject
        result = opdef(*args, **kwargs)
    outs = [o._data for o in _flat_tensors(_as_list(result))]
    for a, v in zip(opdef.schema.args, (*pos, *kw.values())):
        if any(np.may_share_memory(t._data, o) for t in _flat_tensors([v]) for o in outs):
            raise RuntimeError(f"Argument {a.name} is not defined to alias output but was "
                               "aliasing")
    opdef.check_aliasing(pos, kw, result)   # outputs aliasing one another
    for a, old in before:
        new = pos[[b.name for b in opdef.schema.args if not b.kwarg_only].index(a.name)] \
            if not a.kwarg_only else kw[a.name]
        changed = any(not np.array_equal(x._data, y._data, equal_nan=True)
                      for x, y in zip(_flat_tensors([old]), _flat_tensors([new])))
        if changed and not a.mutable:
            raise RuntimeError(f"Argument {a.name} is not defined as mutable but was mutated")


def _test_autograd(opdef, args, kwargs):
    """With an input requiring grad: an output of a kernel without a registered gradient must
    not require grad (torch's check); with ``register_autograd``, the formula's gradients of
    the float64 inputs must match central finite differences (chainrule's gradcheck)."""
    tensors = list(_flat_tensors((*args, *kwargs.values())))
    if not any(t.requires_grad for t in tensors):
        return
    if opdef.backward is None and not opdef.custom and "autograd" not in opdef.kernels:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # the failure below says it
            outs = opdef(*args, **kwargs)
        ids = {id(t) for t in tensors}
        if any(o.requires_grad and id(o) not in ids for o in _flat_tensors(
                outs if isinstance(outs, (tuple, list)) else [outs])):
            raise AssertionError(
                f"{opdef.qualname}: at least one output of this operator has "
                "requires_grad=True but the operator does not have an autograd kernel "
                "defined at an autograd key (e.g. DispatchKey::Autograd). This could mean "
                "that you have incorrectly registered an autograd kernel to a non-Autograd "
                "DispatchKey, which may lead to silently incorrect results.")
        return
    if opdef.backward is None:
        return
    wrt = [t for t in tensors if t.requires_grad and t.is_floating_point()]
    if not wrt:
        return
    lifted = {id(t): t.detach().double().requires_grad_() for t in wrt}

    def lift(v):
        if isinstance(v, Tensor):
            return lifted.get(id(v), v)
        return type(v)(lift(x) for x in v) if isinstance(v, (list, tuple)) else v
    args64, kwargs64 = lift(args), {k: lift(v) for k, v in kwargs.items()}
    order = list(lifted.values())

    def fn(*leaves):
        swap = {id(a): b for a, b in zip(order, leaves)}

        def put(v):
            if isinstance(v, Tensor):
                return swap.get(id(v), v)
            return type(v)(put(x) for x in v) if isinstance(v, (list, tuple)) else v
        out = opdef(*put(args64), **{k: put(v) for k, v in kwargs64.items()})
        return tuple(out) if isinstance(out, list) else out
    gradcheck(fn, tuple(order))


def _fake_message(opdef):
    return (f"There was no fake impl registered for <CustomOpDef({opdef.qualname})>. This is "
            "necessary for torch.compile/export/fx tracing to work. Please use "
            f"`{opdef.name}.register_fake` to add an fake impl.")


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _test_fake(opdef, args, kwargs):
    """The fake kernel's outputs have the real outputs' structure, shapes and dtypes."""
    if opdef.fake is None:
        raise RuntimeError(_fake_message(opdef))
    with no_grad():
        real = _as_list(opdef(*_clone(args), **_clone(kwargs)))
        fake = _as_list(opdef.fake(*_clone(args), **_clone(kwargs)))
    if len(real) != len(fake):
        raise RuntimeError(f"{opdef.qualname}: the fake kernel returned {len(fake)} outputs, "
                           f"the kernel {len(real)}")
    for i, (r, f) in enumerate(zip(real, fake)):
        if isinstance(r, Tensor) != isinstance(f, Tensor) or isinstance(r, Tensor) and (
                r.shape != f.shape or r.dtype != f.dtype):
            shown = [(tuple(t.shape), t.dtype) if isinstance(t, Tensor) else t for t in (r, f)]
            raise RuntimeError(f"{opdef.qualname}: output {i} of the fake kernel is "
                               f"{shown[1]}, the kernel's is {shown[0]} (shape, dtype)")


def _test_compiled(opdef, args, kwargs):
    """chainrule.compile of a call to the operator gives eager's outputs (a capture that
    cannot follow the kernel replays eagerly, as for any unsupported code)."""
    if opdef.fake is None:
        raise RuntimeError(_fake_message(opdef))
    cr = sys.modules["chainrule"]
    with no_grad(), warnings.catch_warnings():
        # an opaque kernel (NumPy code) makes compile fall back to eager with a warning
        warnings.simplefilter("ignore", UserWarning)
        eager = _as_list(opdef(*_clone(args), **_clone(kwargs)))
        compiled = cr.compile(lambda *a, **k: opdef(*a, **k))
        for _ in range(2):   # the first call captures, the second replays
            got = _as_list(compiled(*_clone(args), **_clone(kwargs)))
    for i, (e, g) in enumerate(zip(eager, got)):
        if isinstance(e, Tensor) and not np.allclose(e._data, g._data, equal_nan=True):
            raise RuntimeError(f"{opdef.qualname}: output {i} under chainrule.compile differs "
                               "from eager mode")


_RUNNERS = {"test_schema": _test_schema, "test_autograd_registration": _test_autograd,
            "test_faketensor": _test_fake, "test_aot_dispatch_static": _test_compiled,
            "test_aot_dispatch_dynamic": _test_compiled}


def opcheck(op, args, kwargs=None, *, test_utils=_DEFAULT_TESTS, raise_exception=True,
            atol=None, rtol=None):
    """Check an operator's registrations on one call ``op(*args, **kwargs)``, as torch's
    opcheck, with what is meaningful without fake tensors:

    - test_schema: it runs, its outputs alias no input, and only ``mutates_args`` change;
    - test_autograd_registration: a kernel without a gradient formula does not hand out
      outputs that require grad; with ``register_autograd``, the formula's gradients match
      float64 finite differences (``chainrule.autograd.gradcheck``; torch checks only that a
      formula is registered);
    - test_faketensor: a fake kernel is registered and its outputs have the real shapes and
      dtypes;
    - test_aot_dispatch_static/dynamic: a fake kernel is registered and the call under
      ``chainrule.compile`` gives eager's outputs.

    Returns ``{test_name: "SUCCESS" or the exception}``; with ``raise_exception`` the first
    failure raises :class:`OpCheckError`."""
    opdef = _lookup(op, "opcheck")
    kwargs = {} if kwargs is None else kwargs
    tests = (test_utils,) if isinstance(test_utils, str) else tuple(test_utils)
    if not set(tests) <= set(_TESTS):
        raise ValueError(f"opcheck(op, ..., test_utils={tests}), expected test_utils to be "
                         f"subset of {_TESTS} but it was not")
    results = {}
    for name in tests:
        try:
            _RUNNERS[name](opdef, args, kwargs)
            results[name] = "SUCCESS"
        except Exception as e:   # each test's failure is reported, as torch
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {e} (scroll up for "
                                   "stack trace)") from e
            results[name] = e
    return results
