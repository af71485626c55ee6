"""Arguments torch accepts on many functions, handled once for all of them.

* ``out=``: :func:`with_out` wraps a function of the ``chainrule`` namespace so that
  ``chainrule.add(a, b, out=t)`` computes ``add(a, b)`` and writes it into ``t`` — resized like
  torch's when its shape differs (silently when ``t`` is empty, with torch's deprecation
  UserWarning otherwise), cast into ``t``'s dtype when the cast is within the same kind (int into
  float is fine, float into int raises RuntimeError as torch), and returned. ``out=`` does not
  take part in autograd: with grad mode on, an ``out`` or an argument that requires grad raises
  torch's RuntimeError. Tensor methods (``x.add(...)``) take no ``out``, as in torch.
  :func:`with_creation_out` does the same for creation functions (``zeros(3, out=t)``), whose
  result takes ``out``'s dtype when no ``dtype`` is given.
* ``axis=`` / ``keepdims=``: :func:`numpy_aliases` renames NumPy's spellings to ``dim`` /
  ``keepdim`` on reductions, as torch's argument parser does; giving both spellings of one
  argument raises TypeError.

A leaf module: it knows tensors only through :class:`~chainrule._tensor_base.TensorBase`.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from ._modes import STATE
from ._tensor_base import TensorBase

# torch's ScalarType names, which its out= messages use
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}


def qualified_name(obj) -> str:
    """torch.typename of a non-tensor: a class's or function's own dotted path, an instance's
    class's ('chainrule.nn.modules.linear.Linear'), builtins bare ('int', 'NoneType')."""
    module, qualname = getattr(obj, "__module__", "") or "", ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def torch_type_name(dtype) -> str:
    """torch's name of a dtype in messages (``Float`` for float32, ``Long`` for int64)."""
    return _TORCH_NAMES.get(dtype.name, dtype.name)


def _check_out_tensor(out, op):
    if not isinstance(out, TensorBase):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")


def _requires_grad(args, kwargs):
    for a in (*args, *kwargs.values()):
        if isinstance(a, TensorBase) and a.requires_grad:
            return True
        if isinstance(a, (list, tuple)) and any(isinstance(b, TensorBase) and b.requires_grad
                                                for b in a):
            return True
    return False


def _no_autograd(op):
    raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                       "differentiation, but one of the arguments requires grad.")


def write_out(result, out, op, exact_dtype=False):
    """Copy ``result`` into ``out`` (resizing ``out`` as torch does) and return ``out``."""
    _check_out_tensor(out, op)
    src, dst = result._data, out._data
    if exact_dtype and src.dtype != dst.dtype:
        raise RuntimeError(f"{op}: Expected out tensor to have dtype {src.dtype}, but got "
                           f"{dst.dtype} instead")
    if not np.can_cast(src.dtype, dst.dtype, casting="same_kind"):
        raise RuntimeError(f"{op}: result type {torch_type_name(result.dtype)} can't be cast to "
                           f"the desired output type {torch_type_name(out.dtype)}")
    if src.shape != dst.shape:
        if dst.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(dst.shape)}, which does not match the required output shape "
                f"{list(src.shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=4)
        out._data = np.empty(src.shape, dst.dtype)
    out._data[...] = src
    out._version_box[0] += 1
    return out


def _write_all(result, out, op):
    """One result into one ``out``; a (values, indices) result into a pair of outs."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{op}(): argument 'out' must be a tuple of {len(result)} Tensors, "
                            f"got {type(out).__name__}")
        written = [write_out(r, o, op, exact_dtype=r._data.dtype.kind in "iu")
                   for r, o in zip(result, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    return write_out(result, out, op)


def with_out(fn, op=None):
    """``fn`` with torch's ``out=`` keyword (see the module docstring)."""
    op = op or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        outs = (out if isinstance(out, (tuple, list)) and all(isinstance(o, TensorBase)
                                                              for o in out) else (out,))
        for o in outs:
            _check_out_tensor(o, op)
        if STATE.grad_enabled and (any(o.requires_grad for o in outs)
                                   or _requires_grad(args, kwargs)):
            _no_autograd(op)
        return _write_all(fn(*args, **kwargs), out, op)
    wrapper.__wrapped_out__ = True
    return wrapper


def with_creation_out(fn):
    """``fn`` (a creation function with a ``dtype`` keyword) with torch's ``out=``: the result
    takes ``out``'s dtype unless ``dtype`` is given, which must then equal it."""
    op = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        _check_out_tensor(out, op)
        if STATE.grad_enabled and (out.requires_grad or kwargs.get("requires_grad")):
            _no_autograd(op)
        dtype = kwargs.get("dtype")
        if dtype is not None and dtype is not out.dtype:
            raise RuntimeError(f"{op}: dtype {torch_type_name(dtype)} does not match dtype of "
                               f"out parameter ({torch_type_name(out.dtype)})")
        kwargs["dtype"] = out.dtype
        result = fn(*args, **kwargs)
        if op in _RANGE_FACTORIES:
            result = _range_into(result, out, op)
        return write_out(result, out, op)
    return wrapper


# torch's range factories fill ``out`` in its own shape when the element counts agree, and
# otherwise resize it to 1-D (arange with its own warning, linspace and logspace silently)
_RANGE_FACTORIES = ("arange", "linspace", "logspace")


def _range_into(result, out, op):
    """``result`` (1-D) shaped for ``out``: reshaped to out's shape when the counts agree (the
    values in out's logical order, as torch writes them), else ``out`` emptied to be resized."""
    src, dst = result._data, out._data
    if src.shape == dst.shape:
        return result
    if src.size == dst.size:
        return result._make(src.reshape(dst.shape))
    if op == "arange" and dst.size:
        warnings.warn(f"The number of elements in the out tensor of shape {list(dst.shape)} is "
                      f"{dst.size} which does not match the computed number of elements "
                      f"{src.size}. Note that this may occur as a result of rounding error. The "
                      f"out tensor will be resized to a tensor of shape ({src.size},).",
                      UserWarning, stacklevel=3)
    out._data = np.empty((0,), dst.dtype)
    return result


def variadic(keyword, first=0):
    """Decorate ``fn(*first_args, *values)`` — a size or dims given as ints or as one sequence
    (``zeros(2, 3)``, ``x.permute((1, 0))``) — so that it also takes them as torch's keyword
    (``zeros(size=(2, 3))``, ``x.permute(dims=(1, 0))``); ``first`` positional arguments
    (``input``) come before them. Both at once raise torch's TypeError."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if keyword in kwargs:
                if len(args) > first:
                    raise TypeError(f"{fn.__name__}() got multiple values for argument "
                                    f"'{keyword}'")
                args = (*args, kwargs.pop(keyword))
            return fn(*args, **kwargs)
        return wrapper
    return decorate


def numpy_aliases(fn):
    """``fn`` also accepting NumPy's ``axis`` for ``dim`` and ``keepdims`` for ``keepdim``."""
    op = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
                if numpy_name in kwargs:
                    if torch_name in kwargs:
                        raise TypeError(f"{op}() got both '{torch_name}' and its alias "
                                        f"'{numpy_name}'")
                    kwargs[torch_name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)
    return wrapper
