"""The Tensor: an n-d NumPy array plus what reverse- and forward-mode differentiation need.

A Tensor holds ``_data`` (a NumPy array), ``requires_grad``, ``grad`` and ``grad_fn`` — the
graph node that produced it (``None`` for leaves); those fields and the metadata come from
:class:`~chainrule._tensor_base.TensorBase`. Its operations (arithmetic, reductions, shape ops,
indexing, linear algebra) come from the method table :class:`~chainrule.ops.methods.TensorMethods`.
This module adds construction, conversion, the entry to backpropagation, in-place updates and
printing: the Tensor sits above the primitives, which never import it.
"""
from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import _dtype, _graph, _memory_format, _sampling
from ._argcompat import variadic
from ._backprop import (as_tuple, backward as _backward, final_callbacks as _final_callbacks,
                        grad as _grad, run_post_accumulate_hooks as _run_post_accumulate_hooks)
from ._device import check_device, check_factory
from ._dtype import as_dtype, from_numpy_dtype
from ._graph import _Maker, _RemovableHandle
from ._modes import STATE, TRACE, attach_tangent
from ._printing import tensor_repr
from ._rng import stream as _stream
from ._tensor_base import (Size, TensorBase, index_value, normalize_dim,  # noqa: F401  (Size)
                           parse_to_args)
from .backends.fpstate import quiet
from .ops.elementwise import cast
from .ops.indexing import _check_fits_integer, convert_key, split_int_key, write_at
from .ops.methods import TensorMethods

_new = object.__new__


def to_array(data, dtype, op) -> np.ndarray:
    """Convert data to a new NumPy array with torch's dtype inference."""
    target = None if dtype is None else as_dtype(dtype).np
    if isinstance(data, TensorBase):
        arr = data._data.copy()
    elif isinstance(data, (np.ndarray, np.generic)):   # NumPy keeps its dtype (as torch)
        arr = np.array(data)
    else:
        data = _scalar_tensors(data, op)
        try:
            arr = np.array(data)
        except (ValueError, TypeError, OverflowError) as e:
            # torch: ragged nesting is a ValueError ("expected sequence of length ...")
            exc = ValueError if isinstance(e, ValueError) else TypeError
            raise exc(f"{op}: could not convert {type(data).__name__} to a tensor: {e}") from None
        if (arr.dtype == np.uint64 or arr.dtype.kind == "O") and arr.size:
            # Python ints past int64 (NumPy: uint64 / object)
            arr = _big_ints(arr, target, op)
        elif arr.dtype.kind == "f" and target is None:
            # Python floats -> float32; a sequence of NumPy arrays or tensors keeps theirs (torch;
            # judged by the first element, as a homogeneous sequence is the case that matters)
            arr = arr.astype(_carried_float(data) or _dtype.get_default_dtype().np)
        elif (arr.dtype.kind in "iu" and arr.dtype not in _CARRIED_INTS
              and (target is None or arr.dtype.kind == "u")):
            # Python ints -> int64; NumPy integer scalars of a narrower supported width keep it
            # (NumPy already widens a mix with Python ints to int64, as torch); uint16/32
            # scalars, which chainrule has no dtype for, are int64
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biuf":   # the exception types torch raises for strings, objects
        exc = {"U": ValueError, "S": ValueError, "O": RuntimeError}.get(arr.dtype.kind, TypeError)
        exc = TypeError if arr.ndim == 0 and exc is ValueError else exc  # a bare string
        raise exc(f"{op}: expected numbers, got data of NumPy dtype {arr.dtype}")
    from_numpy_dtype(arr.dtype)  # raises for unsupported widths
    if target is not None:
        if target.kind in "iu" and arr.dtype.kind in "fiu" and arr.size:
            _check_fits(arr, target, op)
        with quiet():   # float64 -> float16 past its range is inf, silently (as torch)
            arr = arr.astype(target, copy=False)
    return arr


def _scalar_tensors(data, op):
    """A nested sequence holds Tensors only as numbers (torch converts each with item()): a
    (1,)-shaped one is a number too, and one of several elements is torch's ValueError, not a
    stack. Only walked when the first leaf is a Tensor (as :func:`_carried_float` judges), so a
    long list of Python numbers costs nothing here."""
    first = data
    while isinstance(first, (list, tuple)) and len(first):
        first = first[0]
    if not isinstance(first, TensorBase):
        return data

    def number(x):
        if isinstance(x, (list, tuple)):
            return [number(v) for v in x]
        if isinstance(x, TensorBase):
            if x._data.size != 1:
                raise ValueError(f"{op}: only one element tensors can be converted to Python "
                                 f"scalars, got a sequence holding a tensor of shape "
                                 f"{tuple(x.shape)} (use torch.stack to join tensors)")
            return x._data.reshape(())
        return x
    return number(data)


_CARRIED_INTS = tuple(np.dtype(d) for d in ("int8", "int16", "int32", "uint8"))


def _carried_float(data):
    """The floating dtype of the first leaf of nested sequence ``data`` when that leaf is a
    NumPy array or scalar or a Tensor (which carry their dtype); None for a Python number."""
    while isinstance(data, (list, tuple)) and len(data):
        data = data[0]
    dt = getattr(data, "dtype", None)
    if isinstance(data, TensorBase):
        dt = data._data.dtype
    return dt if dt is not None and np.dtype(dt).kind == "f" else None


def shape_arg(size, op):
    """A size given as ints or as one tuple/list (``zeros(2, 3)``, ``zeros((2, 3))``), checked."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if any(isinstance(s, TensorBase) for s in size):   # one-element integer tensors, as torch
        size = tuple(index_value(s, op, "size") if isinstance(s, TensorBase) else s for s in size)
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}: size must be a tuple of ints, got {tuple(size)} (an element "
                            f"of type {type(s).__name__})")
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension "
                           f"{min(size)}: {list(size)}")
    return tuple(int(s) for s in size)


def strided_zeros(size, stride, np_dtype, op) -> np.ndarray:
    """Zeros of shape ``size`` laid out with element steps ``stride`` over a buffer of exactly
    the storage torch's empty_strided allocates (1 + Σ (nᵢ − 1)·sᵢ elements; none when a size
    is 0); overlapping layouts (a stride 0) show one element at several indices, as torch's.
    Negative strides have no such buffer (torch: a storage size overflow) and are refused."""
    shape = shape_arg((size,), op)
    if isinstance(stride, (int, np.integer)) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in stride):
        raise TypeError(f"{op}(): argument 'stride' must be a tuple of ints, not {stride!r}")
    stride = tuple(int(s) for s in stride)
    if len(shape) != len(stride):
        raise RuntimeError(f"{op}: dimensionality of sizes ({len(shape)}) must match "
                           f"dimensionality of strides ({len(stride)})")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"{op}: Storage size calculation overflowed with sizes={list(shape)} "
                           f"and strides={list(stride)} (negative strides are not supported)")
    dt = np.dtype(np_dtype)
    storage = 0 if 0 in shape else 1 + sum((n - 1) * s for n, s in zip(shape, stride))
    buf = np.zeros(storage, dt)
    return np.lib.stride_tricks.as_strided(buf, shape, tuple(s * dt.itemsize for s in stride))


def _big_ints(arr, target, op):
    """Python ints beyond int64: only a floating target can hold them (torch raises otherwise,
    where NumPy would wrap them around or keep Python objects)."""
    if target is not None and target.kind == "f":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            pass
    elif arr.dtype.kind == "O" and not all(isinstance(v, int) for v in arr.flat):
        return arr      # not numbers at all: the caller says so
    raise ValueError(f"{op}: Overflow when unpacking long long: the value does not fit in int64 "
                     f"(got values up to {max(abs(int(v)) for v in arr.flat)})")


def _check_fits(arr, target, op):
    """Numbers converted to integers must be finite and in range (NumPy would wrap or give
    -2⁶³ silently; torch raises). As torch, negative ints may wrap into unsigned types."""
    info = np.iinfo(target)
    lo, hi = (float(np.min(arr)), float(np.max(arr))) if arr.dtype.kind == "f" else \
        (int(np.min(arr)), int(np.max(arr)))   # nan propagates to both
    low = -info.max if info.min == 0 else info.min
    # Python compares a float with an int exactly (NumPy would round the int to a float)
    if not (np.isfinite(lo) and np.isfinite(hi) and int(lo) >= low and int(hi) <= info.max):
        raise RuntimeError(f"{op}: value cannot be converted to type {target.name} without "
                           f"overflow (got values in [{lo}, {hi}])")


class Tensor(TensorBase, TensorMethods):
    """An n-dimensional array that can record the operations applied to it.

    Create tensors with :func:`chainrule.tensor`, :func:`chainrule.zeros` and friends. Set
    ``requires_grad=True`` on a floating-point leaf to have ``loss.backward()`` fill its
    ``.grad`` with ∂loss/∂tensor.
    """

    def __init__(self, *data, dtype=None, requires_grad=False):
        """``Tensor(data)`` (torch's legacy constructor: the default float dtype unless
        ``dtype`` says otherwise), ``Tensor(2, 3)`` or ``Tensor(size)`` (zeros of that shape —
        torch leaves them uninitialized), ``Tensor()`` (empty)."""
        if not data or all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                           for d in data) or (len(data) == 1 and isinstance(data[0], Size)):
            shape = tuple(data[0]) if len(data) == 1 and isinstance(data[0], Size) else data
            data = (np.zeros(shape if data else (0,)),)
        if len(data) != 1:
            raise TypeError(f"Tensor(): expected sizes (ints) or one sequence of data, got "
                            f"{len(data)} arguments")
        if dtype is None:
            dtype = _dtype.get_default_dtype()
        self._data = to_array(data[0], dtype, "Tensor")
        self._version_box = [0]
        if STATE.inference:
            self._is_inference = True
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(array, requires_grad=False):
        """Wrap a NumPy array without copying or checks (internal fast path). Always a plain
        Tensor, also when called on a subclass's instance (a Parameter's ops give Tensors)."""
        t = _new(Tensor)
        t._data = array if type(array) is np.ndarray else np.asarray(array)
        t._version_box = [0]
        if requires_grad:
            t._requires_grad = True
        if STATE.inference:
            t._is_inference = True
        return t

    # ------------------------------------------------------------------ conversion
    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, detached from the graph."""
        return self.detach()

    @data.setter
    def data(self, value: "Tensor"):
        self._data = value._data if isinstance(value, TensorBase) else np.asarray(value)

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's memory, with no history."""
        t = Tensor._make(self._data)
        t._version_box = self._version_box
        t._is_inference = self._is_inference
        if TRACE.recorder is not None:   # a capture: the same value, with no gradient through it
            TRACE.recorder.detached(t, self)
        return t

    def __contains__(self, element) -> bool:
        """``element in t``: any element equal to ``element`` (a number or a tensor broadcast
        against ``t``), as torch; anything else is torch's RuntimeError, not a silent False."""
        if not isinstance(element, (TensorBase, bool, int, float, np.number, np.bool_)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element)}.")
        return bool((self == element).any())

    def detach_(self) -> "Tensor":
        """Detach this tensor from its graph in place (a leaf that requires no grad). A view
        shares its base's history, so torch refuses it: ``detach()`` makes a new tensor."""
        if self._base is not None:
            raise RuntimeError("detach_: Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def _copy(self) -> "Tensor":
        return Tensor._make(self._data.copy())

    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)``, ``to(device, dtype)``, ``to(other)``: casts (differentiably between
        floating dtypes); the device must be the CPU ('cpu', ``chainrule.device('cpu')``, None),
        any other raises RuntimeError. Returns ``self`` when nothing changes and ``copy`` is
        False, as torch."""
        fmt = kwargs.pop("memory_format", _memory_format.preserve_format)
        target, copy = parse_to_args(args, kwargs, "Tensor.to")
        out = self if target is None else cast(self, target)
        if _memory_format.converted(out._data, fmt, "Tensor.to") is not out._data:
            return out.clone(memory_format=fmt)
        return out.clone() if copy and out is self else out

    def type(self, dtype=None, non_blocking=False):
        """Without an argument, the legacy type name ('chainrule.FloatTensor'); with a dtype,
        a legacy type (``chainrule.LongTensor``) or its name, the tensor converted to it."""
        if dtype is None:
            return f"chainrule.{_LEGACY_NAMES[self.dtype.name]}"
        if isinstance(dtype, str) and dtype.split(".")[-1] in _LEGACY_TYPES:
            dtype = _LEGACY_TYPES[dtype.split(".")[-1]]
        return self.to(getattr(dtype, "dtype", dtype))

    def _cast_method(name, dtype_name):
        def cast(self, memory_format=_memory_format.preserve_format):
            return self.to(getattr(_dtype, dtype_name), memory_format=memory_format)
        cast.__name__, cast.__qualname__ = name, f"Tensor.{name}"
        cast.__doc__ = (f"``self.to({dtype_name.rstrip('_')})``: this tensor when it already "
                        "has that dtype and memory format, else a converted copy.")
        return cast

    float, double, half = (_cast_method("float", "float32"), _cast_method("double", "float64"),
                           _cast_method("half", "float16"))
    long, int, short = (_cast_method("long", "int64"), _cast_method("int", "int32"),
                        _cast_method("short", "int16"))
    char, byte, bool = (_cast_method("char", "int8"), _cast_method("byte", "uint8"),
                        _cast_method("bool", "bool_"))
    del _cast_method

    def bfloat16(self, memory_format=_memory_format.preserve_format):
        """Refused: chainrule has no bfloat16 tensors (``as_dtype`` says why)."""
        return self.to(_dtype.bfloat16)

    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """Always raises: chainrule runs on the CPU only."""
        check_device("cuda" if device is None or isinstance(device, int) else device,
                     "Tensor.cuda")
        check_device("cuda", "Tensor.cuda")   # cuda('cpu') asks for a GPU too

    def contiguous(self, memory_format=_memory_format.contiguous_format):
        """This tensor if its elements lie densely in ``memory_format``'s order (C order by
        default), else a copy that is (differentiable)."""
        fmt = _memory_format._checked(memory_format, self.ndim, "contiguous")
        if _memory_format.is_laid_out(self._data, fmt):
            return self
        if fmt is _memory_format.preserve_format:
            raise RuntimeError("contiguous: preserve memory format is unsupported by the "
                               "contiguous operator")
        return self.clone(memory_format=fmt)

    # ------------------------------------------------------------------ new tensors like this one
    # torch's Tensor.new_*: same dtype (and device) as ``self`` unless ``dtype`` is given
    def _new_like(self, arr, op, dtype, device, requires_grad, layout=None, pin_memory=None):
        check_factory(op, device, layout, pin_memory)
        t = Tensor._make(arr)
        return t.requires_grad_(True) if requires_grad else t

    def new(self, *args, device=None):
        """The legacy constructor of old code, with this tensor's dtype: ``x.new()`` (empty),
        ``x.new(2, 3)`` or ``x.new(size)`` (uninitialised — here zeros — of that shape),
        ``x.new([1, 2])`` (from data), ``x.new(t)`` (t itself, of the same dtype)."""
        check_device(device, "new")
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != self.dtype:
                raise TypeError(f"new(): expected a tensor of dtype {self.dtype}, got "
                                f"{args[0].dtype}")
            return args[0]
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
            return Tensor._make(np.array(args[0], dtype=self._data.dtype))
        if len(args) == 1 and isinstance(args[0], (float, bool, complex)):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
            raise TypeError(f"new(): expected sizes as ints, got {args!r}")
        return Tensor._make(np.zeros(shape if shape else (0,), dtype=self._data.dtype))

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> "Tensor":
        """A new leaf holding a copy of ``data``, of this tensor's dtype unless ``dtype`` is
        given (also for data of another kind: ``int_tensor.new_tensor([1.5])`` is int64)."""
        if isinstance(data, TensorBase):
            warnings.warn("To copy construct from a tensor, it is recommended to use "
                          "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                          ".requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                          UserWarning, stacklevel=2)
        arr = to_array(data, self.dtype if dtype is None else dtype, "new_tensor")
        return self._new_like(arr, "new_tensor", dtype, device, requires_grad)

    def _new_filled(self, op, size, fill, dtype, device, requires_grad, layout, pin_memory):
        np_dtype = self._data.dtype if dtype is None else as_dtype(dtype).np
        shape = shape_arg(size, op)
        arr = np.empty(shape, np_dtype) if fill is None else np.full(shape, fill, np_dtype)
        return self._new_like(arr, op, dtype, device, requires_grad, layout, pin_memory)

    @variadic("size", first=1)
    def new_zeros(self, *size, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> "Tensor":
        """Zeros of shape ``size``, of this tensor's dtype unless ``dtype`` is given."""
        return self._new_filled("new_zeros", size, 0, dtype, device, requires_grad, layout,
                                pin_memory)

    @variadic("size", first=1)
    def new_ones(self, *size, dtype=None, layout=None, device=None, requires_grad=False,
                 pin_memory=False) -> "Tensor":
        """Ones of shape ``size``, of this tensor's dtype unless ``dtype`` is given."""
        return self._new_filled("new_ones", size, 1, dtype, device, requires_grad, layout,
                                pin_memory)

    @variadic("size", first=1)
    def new_empty(self, *size, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> "Tensor":
        """An uninitialized tensor of shape ``size``, of this tensor's dtype by default."""
        return self._new_filled("new_empty", size, None, dtype, device, requires_grad, layout,
                                pin_memory)

    def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                          requires_grad=False, pin_memory=False) -> "Tensor":
        """An uninitialised tensor (here zeros) of shape ``size`` with element steps ``stride``
        (see :func:`chainrule.empty_strided`), of this tensor's dtype unless ``dtype`` is given."""
        np_dtype = self._data.dtype if dtype is None else as_dtype(dtype).np
        arr = strided_zeros(size, stride, np_dtype, "new_empty_strided")
        return self._new_like(arr, "new_empty_strided", dtype, device, requires_grad, layout,
                                pin_memory)

    def new_full(self, size, fill_value, *, dtype=None, layout=None, device=None,
                 requires_grad=False, pin_memory=False) -> "Tensor":
        """``fill_value`` everywhere in shape ``size``, of this tensor's dtype by default."""
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"new_full(): argument 'size' must be tuple of ints, not "
                            f"{type(size).__name__}")
        return self._new_filled("new_full", (size,), fill_value, dtype, device, requires_grad,
                                layout, pin_memory)

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place on a leaf; only floating-point tensors can require grad."""
        if not isinstance(requires_grad, (bool, np.bool_)):   # requires_grad_("no") is truthy
            raise TypeError(f"requires_grad_(): argument 'requires_grad' must be bool, not "
                            f"{type(requires_grad).__name__}")
        if requires_grad and self._is_inference and not STATE.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only Tensors of floating point dtype can require "
                               f"gradients, got {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                               "variables; use .detach() to get a tensor without history")
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: can't retain_grad on a Tensor that has "
                                   "requires_grad=False")
            return
        if self._retains_grad:
            return
        ref = weakref.ref(self)

        def store(grad):
            t = ref()
            if t is not None:
                if t.grad is None:
                    t.grad = grad if grad.requires_grad else grad.detach()._copy()
                else:
                    t.grad = t.grad + grad
        self.grad_fn._add_pre_hook(store)
        self._retain_hook = store
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``.remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't "
                               "require gradient")
        if self.grad_fn is not None:
            store = self.__dict__.get("_retain_hook")
            hooks = self.grad_fn._pre_hooks
            if store is not None and hooks and store in hooks:
                # as torch: the retained .grad is the gradient after every hook of the tensor,
                # whether the hook was registered before or after retain_grad()
                hooks.insert(hooks.index(store), hook)
                return _RemovableHandle(hooks, hook)
            return self.grad_fn._add_pre_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after a backward pass has added this leaf's gradient into
        ``self.grad`` (``torch.Tensor.register_post_accumulate_grad_hook``): the hook sees the
        accumulated ``.grad`` and must return None. Leaves only; ``autograd.grad`` accumulates
        nothing and so calls no such hook. Returns a handle with ``.remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                               "tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(hook)
        return _RemovableHandle(self._post_acc_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagate from this tensor: add ∂self/∂leaf (times ``gradient``) to every leaf's
        ``.grad``. ``gradient`` is required unless the tensor has one element."""
        if inputs is not None:
            inputs = as_tuple(inputs)
            with _final_callbacks():   # queued callbacks run after the hooks below
                grads = _grad(self, inputs, gradient, retain_graph, create_graph,
                              allow_unused=True)
                for t, g in zip(inputs, grads):
                    if g is not None:
                        t.grad = g if t.grad is None else t.grad + g
                        if t._post_acc_hooks:
                            _run_post_accumulate_hooks(t)
            return
        _backward(self, gradient, retain_graph, create_graph)

    # ------------------------------------------------------------------ in-place updates
    def _restride_in_place(self, op: str, compute):
        """torch's in-place view ops (``t_``, ``unsqueeze_`` …): this tensor becomes
        ``compute(self)``, a view of its old self, keeping its memory; its history continues
        through the view's node."""
        self._check_inplace(op)
        if TRACE.recorder is not None:
            TRACE.recorder.unsupported(f"the in-place view op {op}")
        result = compute(self)
        self._data = result._data
        if result.grad_fn is not None:
            self.grad_fn = result.grad_fn
        return self

    def t_(self):
        """Transpose in place (a 2-D tensor's dims swapped)."""
        return self._restride_in_place("t_", lambda x: x.t())

    def transpose_(self, dim0, dim1):
        """Swap two dims in place."""
        return self._restride_in_place("transpose_", lambda x: x.transpose(dim0, dim1))

    swapdims_ = swapaxes_ = transpose_

    def unsqueeze_(self, dim):
        """Insert a size-1 dim in place."""
        return self._restride_in_place("unsqueeze_", lambda x: x.unsqueeze(dim))

    def squeeze_(self, dim=None):
        """Remove size-1 dims in place."""
        return self._restride_in_place("squeeze_", lambda x: x.squeeze(dim))

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim (one dim: an int)."""
        steps = tuple(st // self._data.itemsize for st in self._data.strides)
        return steps if dim is None else steps[normalize_dim(dim, self.ndim, "stride")]

    def dim_order(self, *, ambiguity_check=False):
        """The dims from outermost to innermost in memory, as torch: (0, 1, 2, 3) for C order,
        (0, 2, 3, 1) for channels-last; ties (equal strides, size-1 dims) keep the logical
        order. ``ambiguity_check``: True raises RuntimeError where another order would describe
        the same memory; a list of memory formats accepts such a tensor when it is laid out in
        exactly one of them."""
        formats = ambiguity_check if isinstance(ambiguity_check, list) else []
        if not isinstance(ambiguity_check, bool) and not (
                isinstance(ambiguity_check, list)
                and all(isinstance(f, _memory_format.memory_format) for f in formats)):
            raise TypeError("The ambiguity_check argument must be a bool or a list of memory "
                            "formats.")
        sizes, strides = self.shape, self.stride()
        ambiguous = any(a == b for a, b in zip(strides, strides[1:])) or 1 in sizes
        if (ambiguity_check is True or isinstance(ambiguity_check, list)) and ambiguous and \
                sum(self.is_contiguous(memory_format=f) for f in formats) != 1:
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                               "exact one of the given memory formats.")
        return _memory_format.dim_order(sizes, strides, check=bool(ambiguity_check),
                                        contiguous=self.is_contiguous(),
                                        channels_last=self.is_contiguous(
                                            memory_format=_memory_format.channels_last))

    def fill_diagonal_(self, fill_value, wrap=False):
        """Write ``fill_value`` on the main diagonal (all dims equal, or 2-D; ``wrap``: tall
        matrices restart the diagonal every ncols + 1 rows), in place."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise RuntimeError("fill_diagonal_: all dimensions of input must be of equal length"
                               if self.ndim > 2 else "dimensions must larger than 1")
        mask = np.zeros(self._data.shape, bool)
        if self.ndim == 2:
            rows, cols = self._data.shape
            step = cols + 1
            limit = rows * cols if wrap else min(rows, cols) * cols
            mask.reshape(-1)[:limit:step] = True
        else:
            idx = np.arange(self._data.shape[0])
            mask[(idx,) * self.ndim] = True
        value = self._make(np.asarray(fill_value, self._data.dtype))
        return self._inplace("fill_diagonal_", lambda x: x.where(~self._make(mask), value))

    def apply_(self, callable):
        """Replace each element v by ``callable(v)`` (a Python function, element by element;
        slow, and not differentiable — as torch's, for CPU tensors)."""
        self._check_inplace("apply_")
        out = np.vectorize(callable, otypes=[self._data.dtype])(self._data)
        self._data[...] = out
        self._version_box[0] += 1
        return self

    def map_(self, tensor, callable):
        """Replace each element a by ``callable(a, b)``, b the matching element of ``tensor``
        (broadcast), element by element; not differentiable."""
        self._check_inplace("map_")
        other = np.broadcast_to(tensor._data, self._data.shape)
        self._data[...] = np.vectorize(callable, otypes=[self._data.dtype])(self._data, other)
        self._version_box[0] += 1
        return self

    def _check_inplace(self, op: str):
        if self._is_inference and not STATE.inference:
            raise RuntimeError(f"{op}: Inplace update to inference tensor outside InferenceMode is "
                               "not allowed. You can make a clone to get a normal tensor before "
                               "doing inplace update.")
        if not self._data.flags.writeable and 0 in self._data.strides and self._data.size > 1:
            raise RuntimeError(f"{op}: unsupported operation: more than one element of the "
                               "written-to tensor refers to a single memory location (an expand"
                               "ed view). Please clone() the tensor before performing the operation.")
        if STATE.grad_enabled and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                                   "in-place operation. Wrap the update in `with chainrule.no_grad():`")
            # a view (self._base is not None) is written through its base: see _inplace

    def _inplace(self, op: str, compute, kernel=None):
        """Apply ``compute(x) -> Tensor`` in place: write the result into this tensor's memory,
        bump its version, and (when recording) make the result's node this tensor's grad_fn.
        ``kernel``: the op's primitive with a forward that writes into its input's memory, for
        an op whose derivative reads only its output (ReLU). On a floating tensor with no
        tangent, outside a capture, it runs instead of ``compute`` and the copy: always when
        nothing is recorded, and as the recorded node when the tensor is not a view (the
        rule then reads this tensor's memory, checked by its version; no old value is kept)."""
        self._check_inplace(op)
        recording = STATE.grad_enabled
        recorded = recording and (self.requires_grad or self._base is not None)
        into = (kernel is not None and self._fw_tangent is None and TRACE.recorder is None
                and self._data.dtype.kind == "f")
        if into and not recorded:
            kernel.run(self._data)
            self._version_box[0] += 1
            return self
        # a view written in place while gradients are recorded: the write is recorded on the
        # base (base[region] = new value, torch's CopySlices), so the base's later uses see it;
        # the view then reads its value and history back from the base
        key = None
        if recording and self._base is not None and self._fw_tangent is None and (
                self.requires_grad or self._base.requires_grad):
            key = _region_in_base(self, self._base)
            if key is None:
                raise RuntimeError(f"{op}: in-place operation on this view of a tensor that "
                                   "requires grad is not supported (it shows some entries of its "
                                   "base twice, or reinterprets its dtype); use an out-of-place "
                                   "op instead")
        elif recording and self._base is not None and self._fw_tangent is None:
            key = False   # decided once the result is known: only if it requires grad
        if key:
            fresh = self._base[key]   # the view's value with the base's current history
            old = Tensor._make(fresh._data.copy(), fresh.requires_grad)
            old.grad_fn = fresh.grad_fn
        elif recording and self.requires_grad and kernel is not None:
            old = self     # the op's rule reads only its output: the old value need not be kept
        elif recording and self.requires_grad:
            old = Tensor._make(self._data.copy(), True)  # the pre-update value, same history
            old.grad_fn = self.grad_fn
        else:
            old = self.detach()
        if self._fw_tangent is not None:  # forward mode: the update's JVP starts from this tangent
            attach_tangent(old, self._fw_tangent)
        result = kernel.apply(old) if into and old is self else compute(old)
        if recording and result.requires_grad and not old.requires_grad:
            # a constant updated with a value that requires grad (x.mul_(w)): the rule may have
            # saved ``old``, which aliases the memory about to be overwritten; recompute from a
            # copy of the pre-update value (what torch saves for an in-place op)
            old = Tensor._make(self._data.copy())
            if self._fw_tangent is not None:
                attach_tangent(old, self._fw_tangent)
            result = compute(old)
        if result.shape != self.shape:
            raise RuntimeError(f"{op}: output with shape {tuple(self.shape)} doesn't match the "
                               f"broadcast shape {tuple(result.shape)}")
        if not np.can_cast(result._data.dtype, self._data.dtype, casting="same_kind"):
            raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the desired "
                               f"output type {self.dtype}")
        if recording and old.requires_grad and not result.requires_grad and not key:
            # a value that no longer depends on the history (zero_, fill_, copy_ of a constant):
            # the tensor keeps requiring grad, its history passing a zero gradient (as torch's)
            result = write_at("CopySlices", old, result.to(self.dtype), Ellipsis)
        if key is False and result.requires_grad:
            key = _region_in_base(self, self._base)
            if key is None:
                raise RuntimeError(f"{op}: writing a value that requires grad into this view is "
                                   "not supported (it shows some entries of its base twice, or "
                                   "reinterprets its dtype); use an out-of-place op instead")
        if key:
            self._base._setitem_recorded(key, result)
            _rebase_view(self, key)
            self._retains_grad = False
            return self
        if result._data is not self._data:   # (a kernel wrote it there already)
            self._data[...] = result._data
        self._version_box[0] += 1
        if TRACE.recorder is not None:   # a captured graph replays the write
            TRACE.recorder.write(self, result)
        if recording and result.requires_grad:
            self.grad_fn = result.grad_fn
            self._requires_grad = True
            self._retains_grad = False
            if old is self and result.grad_fn._out is result._data:
                # the rule's saved output is now this tensor's memory (the copy can go), checked
                # against its version, as torch's relu_ saves self
                result.grad_fn._out = self._data
                result.grad_fn._out_version = (self._version_box, self._version_box[0])
        elif recording and self.grad_fn is not None:  # the new value no longer depends on history
            self.grad_fn, self._requires_grad = None, False
        if result._fw_tangent is not None or self._fw_tangent is not None:
            attach_tangent(self, result._fw_tangent)  # None: the new value has zero tangent
        return self

    def __setitem__(self, key, value):
        if STATE.grad_enabled and (self.requires_grad or
                                   isinstance(value, Tensor) and value.requires_grad):
            return self._setitem_recorded(key, value)
        if TRACE.recorder is not None:
            TRACE.recorder.unsupported("index assignment (__setitem__)")
        key = convert_key(key, "__setitem__")
        split = split_int_key(key)
        value_tangent = value._fw_tangent if isinstance(value, Tensor) else None
        if self._fw_tangent is not None or value_tangent is not None:
            # forward mode: the assigned entries take the value's tangent (zero for a constant)
            tangent = (np.zeros_like(self._data) if self._fw_tangent is None
                       else self._fw_tangent._data.copy())
            target = tangent if split is None else tangent[split[0]]
            target[key if split is None else split[1]] = (0 if value_tangent is None
                                                          else value_tangent._data)
            attach_tangent(self, Tensor._make(tangent))
        value = value._data if isinstance(value, Tensor) else value
        if isinstance(value, float) and self._data.dtype.kind in "iu":   # nan, inf, 1e30: torch's
            _check_fits_integer(value, self._data.dtype, "__setitem__")   # error, not NumPy's
        try:
            if split is None:
                self._data[key] = value
            else:   # torch's order: the ints select a view first (see split_int_key)
                self._data[split[0]][split[1]] = value
        except ValueError as e:   # NumPy's message, named; a shape mismatch is torch's RuntimeError
            exc = RuntimeError if "broadcast" in str(e) else ValueError
            raise exc(f"__setitem__: {e} (tensor shape {tuple(self.shape)})") from None
        self._version_box[0] += 1

    def _setitem_recorded(self, key, value):
        """``self[key] = value`` when a gradient flows through it (torch's CopySlices): this
        tensor becomes out = old with out[key] = value, so ∂/∂old = ḡ with the written entries
        zeroed and ∂/∂value = ḡ[key], summed back over the dims ``value`` was broadcast along.
        ``y = x.clone(); y[0] = 0`` and ``out = zeros(n); out[i] = f(x)`` both train."""
        op = "__setitem__"
        if TRACE.recorder is not None:
            TRACE.recorder.unsupported("index assignment (__setitem__)")
        key = convert_key(key, op)
        if split_int_key(key) is not None:
            raise RuntimeError(f"{op}: with a gradient through it, a key mixing ints and index "
                               "tensors is not supported; use index tensors for every indexed dim")
        if not isinstance(value, Tensor):
            value = Tensor._make(np.asarray(value, dtype=self._data.dtype))
        elif value._data.dtype != self._data.dtype:
            value = value.to(self.dtype)
        target = np.empty(self._data.shape, np.bool_)[key].shape
        extra = value.ndim - len(target)   # leading size-1 dims of the value drop (torch, NumPy)
        if extra > 0 and all(n == 1 for n in value._data.shape[:extra]):
            value = value.reshape(value._data.shape[extra:])
        if value._data.shape != target:
            try:
                value = value.expand(target)
            except (RuntimeError, ValueError):
                raise RuntimeError(f"{op}: shape mismatch: value tensor of shape "
                                   f"{list(value.shape)} cannot be broadcast to indexing result "
                                   f"of shape {list(target)}") from None
        return self._inplace(op, lambda old: write_at("CopySlices", old, value, key))

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        """A 0-d tensor formats as its Python number (f"{loss}" gives 0.25, as torch); others as
        str(self)."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __reduce__(self):
        return (_rebuild, (self._data, self.requires_grad))


    # ------------------------------------------------------------------ random fills
    # Each fill draws torch's numbers for torch's layout (see chainrule._sampling): the same
    # seed gives the same values, in the same elements, as the torch method of the same name.
    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with draws from U(a, b)."""
        return self._random_fill("uniform_", _sampling.uniform, generator, a, b)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with draws from N(mean, std²)."""
        return self._random_fill("normal_", _sampling.normal, generator, mean, std)

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1 with probability p (a float, or a tensor broadcast to this one), else 0."""
        if isinstance(p, Tensor):
            return self._random_fill("bernoulli_", _sampling.bernoulli_tensor, generator, p._data)
        return self._random_fill("bernoulli_", _sampling.bernoulli_scalar, generator, p)

    def bernoulli(self, p=None, *, generator=None):
        """A new tensor of 0/1 draws: 1 with probability ``self`` elementwise (or the scalar
        ``p``), in this tensor's dtype (``chainrule.bernoulli``)."""
        like = _sampling.dense_like(self._data)
        if p is not None:
            return Tensor._make(_sampling.bernoulli_scalar(_stream(generator), like, p))
        if self._data.dtype.kind != "f":   # probabilities of an integer dtype: torch has no kernel
            raise NotImplementedError(f"bernoulli: \"bernoulli_tensor_cpu_p_\" not implemented for "
                                      f"{self.dtype} probabilities (use input.float())")
        return Tensor._make(_sampling.bernoulli_tensor(_stream(generator), like, self._data))

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """Indices drawn from the rows of this 1-d or 2-d tensor of weights
        (``chainrule.multinomial``): (C,) → (num_samples,), (N, C) → (N, num_samples), int64."""
        w = self._data
        if w.ndim not in (1, 2):
            raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim}")
        if w.dtype.kind != "f":
            raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got "
                               f"{self.dtype}")
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
                or num_samples <= 0:
            raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples, got {num_samples}")
        if not replacement and num_samples > w.shape[-1]:
            raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > "
                               f"prob_dist.size(-1) ({w.shape[-1]}) samples without replacement")
        if not np.isfinite(w).all() or (w < 0).any():
            raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                               "element < 0")
        if (w.reshape(-1, w.shape[-1]).sum(-1) <= 0).any():
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities "
                               "<= 0)")
        out = _sampling.multinomial(_stream(generator), w, int(num_samples), bool(replacement))
        return Tensor._make(out)

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill with draws from the exponential distribution of rate λ: −ln(1 − u)/λ."""
        return self._random_fill("exponential_", _sampling.exponential, generator, lambd)

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill with draws from the Cauchy distribution: median + σ·tan(π(u − ½))."""
        return self._random_fill("cauchy_", _sampling.cauchy, generator, median, sigma)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fill with exp(N(mean, std²))."""
        return self._random_fill("log_normal_", _sampling.log_normal, generator, mean, std)

    def geometric_(self, p, *, generator=None):
        """Fill with the number of Bernoulli(p) trials up to the first success: ⌈ln u / ln(1−p)⌉."""
        return self._random_fill("geometric_", _sampling.geometric, generator, p)

    def random_(self, from_=None, to=None, *, generator=None):
        """Fill with integers: ``random_(to)`` on [0, to), ``random_(from_, to)`` on [from_, to),
        ``random_()`` on [0, 2^mantissa] (floats) or [0, max] (integers)."""
        if from_ is not None and to is None and not isinstance(from_, bool):
            from_, to = 0, from_     # random_(to)
        if from_ is None and to is None:
            return self._random_fill("random_", _sampling.random_bits, generator)
        return self._random_fill("random_", _sampling.random_from_to, generator,
                                 0 if from_ is None else int(from_), int(to))

    def _random_fill(self, op, sample, generator, *args):
        s = _stream(generator)
        return self._inplace(op, lambda x: Tensor._make(sample(s, self._data, *args)))


_Maker._make = Tensor._make   # a node's saved output (grad_fn._saved_result) is shown as a Tensor


def _region_in_base(view, base):
    """The entries of ``base`` that ``view`` shows, as an advanced-indexing key (one int64
    index tensor per base dim, each of the view's shape), read off the memory layouts of the
    two arrays; None when the view is no plain strided window of its base (it reinterprets the
    dtype, shows an entry twice, or the base is 0-d)."""
    b, v = base._data, view._data
    it = b.itemsize
    if b.dtype != v.dtype or b.ndim == 0 or any(st % it for st in b.strides + v.strides):
        return None
    start = v.__array_interface__["data"][0] - b.__array_interface__["data"][0]
    if start % it:
        return None

    def offsets(a):   # each element's offset from a's first element, in elements
        off = np.zeros(a.shape, np.int64)
        for d, (n, st) in enumerate(zip(a.shape, a.strides)):
            off = off + (np.arange(n, dtype=np.int64) * (st // it)).reshape(
                (1,) * d + (n,) + (1,) * (a.ndim - d - 1))
        return off
    if v.size == 0:
        flat = np.zeros(v.shape, np.int64)
    elif b.flags.c_contiguous:   # memory offsets are the base's C indices: no inverse map
        flat = offsets(v) + start // it
        if flat.min() < 0 or flat.max() >= b.size or np.unique(flat).size != flat.size:
            return None
    else:
        pb, pv = offsets(b), offsets(v) + start // it
        lo = pb.min()
        inverse = np.full(pb.max() - lo + 1, -1, np.int64)   # memory offset -> base C index
        inverse[(pb - lo).reshape(-1)] = np.arange(b.size)
        rel = pv - lo
        if rel.min() < 0 or rel.max() >= inverse.size:
            return None
        flat = inverse[rel]
        if (flat < 0).any() or np.unique(flat).size != flat.size:
            return None
    return tuple(Tensor._make(i.astype(np.int64, copy=False)) for i in np.unravel_index(flat, b.shape))


def _rebase_view(view, key=None):
    """Give ``view`` the history of ``base[region]``: its base has changed in place since the
    view's history was taken (an in-place op on the base, or on another view of it), so the
    old history no longer computes the values the view now shows (torch rebases such views
    the same way). ``key``: the region, if known."""
    base = view._base
    key = _region_in_base(view, base) if key is None else key
    if key is None:
        raise RuntimeError("a view whose base was modified in place is used, and it cannot be "
                           "re-read from the base (it shows some entries twice, or reinterprets "
                           "the dtype); clone() the view before modifying its base")
    fresh = base[key]
    view.grad_fn, view._requires_grad = fresh.grad_fn, fresh.requires_grad
    view._base_fn = base.grad_fn


_graph.rebase_view = _rebase_view


def _rebuild(array, requires_grad):
    t = Tensor._make(np.array(array))
    t._requires_grad = requires_grad
    return t


# torch's legacy tensor types: ``FloatTensor([1, 2])``, ``LongTensor(2, 3)``, and
# ``isinstance(x, FloatTensor)`` (true for a float32 tensor)
_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


class _LegacyType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls):
        return f"<class 'chainrule.{cls.__name__}'>"


def _legacy_type(name, dt):
    def __new__(cls, *data, requires_grad=False):
        return Tensor(*data, dtype=cls.dtype, requires_grad=requires_grad)
    return _LegacyType(name, (), {"dtype": dt, "__new__": __new__, "__module__": "chainrule",
                                  "__doc__": f"torch's legacy constructor of {dt} tensors: "
                                             f"``{name}(data)`` or ``{name}(*sizes)``."})


_LEGACY_TYPES = {name: _legacy_type(name, getattr(_dtype, dt if dt != "bool" else "bool_"))
                 for dt, name in _LEGACY_NAMES.items()}
