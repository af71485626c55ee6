"""The Tensor: an n-d NumPy array plus what reverse- and forward-mode differentiation need.

A Tensor holds ``_data`` (a NumPy array), ``requires_grad``, ``grad`` and ``grad_fn`` — the
graph node that produced it (``None`` for leaves). Arithmetic, reductions and shape ops are
attached from :mod:`chainrule.ops`; this module keeps the data structure, conversion,
printing, and the entry to backpropagation.
"""
from __future__ import annotations

import numpy as np

from . import _dtype
from ._dtype import as_dtype, from_numpy_dtype


class Size(tuple):
    """A tensor's shape: a tuple of ints (``torch.Size``)."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"chainrule.Size({list(self)})"


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Create tensors with :func:`chainrule.tensor`, :func:`chainrule.zeros` and friends. Set
    ``requires_grad=True`` on a floating-point leaf to have ``loss.backward()`` fill its
    ``.grad`` with ∂loss/∂tensor.
    """

    __array_priority__ = 1000  # numpy_array + tensor defers to Tensor.__radd__

    # defaults shared by all instances; _make sets only what differs
    requires_grad = False
    grad = None
    grad_fn = None
    _base = None          # the tensor this one is a view of
    _fw_tangent = None    # forward-mode tangent (inside forward_ad.dual_level)
    _accumulator = None   # weak reference to this leaf's AccumulateGrad node
    _hooks = None         # gradient hooks of a leaf
    _retains_grad = False
    _unshared = False     # a fresh gradient from a VJP that nothing else holds: the engine may
                          # adopt it as a leaf's .grad instead of copying it

    def __init__(self, data, *, dtype=None, requires_grad=False):
        from .creation import _to_array
        self._data = _to_array(data, dtype, "Tensor")
        self._version_box = [0]
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array, requires_grad=False):
        """Wrap a NumPy array without copying or checks (internal fast path)."""
        t = cls.__new__(cls)
        t._data = array if type(array) is np.ndarray else np.asarray(array)
        t._version_box = [0]
        if requires_grad:
            t.requires_grad = True
        return t

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_normalize_dim(dim, self.ndim, "size")]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def dtype(self) -> _dtype.dtype:
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_box[0]

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force=False) -> np.ndarray:
        """The underlying NumPy array (shared memory, as in torch)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be "
                               "converted to a Python scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is "
                               "ambiguous; use .any() or .all()")
        return bool(self._data.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    __hash__ = object.__hash__  # == is elementwise, identity stays the hash (as in torch)

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, detached from the graph."""
        return self.detach()

    @data.setter
    def data(self, value: "Tensor"):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's memory, with no history."""
        t = Tensor._make(self._data)
        t._version_box = self._version_box
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    def _copy(self) -> "Tensor":
        return Tensor._make(self._data.copy())

    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)`` casts (differentiably between floating dtypes); ``to('cpu')`` is a no-op."""
        target = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                target = a.dtype
            elif not (isinstance(a, str) and a.startswith("cpu")):
                target = a
        if target is None:
            return self
        from .ops.elementwise import cast
        return cast(self, as_dtype(target))

    def type(self, dtype=None):
        if dtype is None:
            return f"chainrule.{self.dtype.name.capitalize()}Tensor"
        return self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def bool(self):
        return self.to(_dtype.bool_)

    def cpu(self):
        return self

    def contiguous(self):
        return self if self._data.flags.c_contiguous else self.clone()

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place on a leaf; only floating-point tensors can require grad."""
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only Tensors of floating point dtype can require "
                               f"gradients, got {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                               "variables; use .detach() to get a tensor without history")
        self.requires_grad = bool(requires_grad)
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
        import weakref
        ref = weakref.ref(self)

        def store(grad):
            t = ref()
            if t is not None:
                if t.grad is None:
                    t.grad = grad if grad.requires_grad else grad.detach()._copy()
                else:
                    t.grad = t.grad + grad
        self.grad_fn.register_prehook(store)
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
            return self.grad_fn.register_prehook(hook)
        from .autograd.node import _RemovableHandle
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagate from this tensor: add ∂self/∂leaf (times ``gradient``) to every leaf's
        ``.grad``. ``gradient`` is required unless the tensor has one element."""
        engine = _engine()
        if inputs is not None:
            inputs = engine._as_tuple(inputs)
            grads = engine.grad(self, inputs, gradient, retain_graph, create_graph,
                                allow_unused=True)
            for t, g in zip(inputs, grads):
                if g is not None:
                    t.grad = g if t.grad is None else t.grad + g
            return
        engine.backward(self, gradient, retain_graph, create_graph)

    # ------------------------------------------------------------------ in-place updates
    def _check_inplace(self, op: str):
        from .autograd.grad_mode import STATE
        if STATE.grad_enabled and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                                   "in-place operation. Wrap the update in `with chainrule.no_grad():`")
            if self._base is not None:
                raise RuntimeError(f"{op}: in-place operations on a view of a tensor that requires "
                                   "grad are not supported; use an out-of-place op instead")

    def _inplace(self, op: str, compute):
        """Apply ``compute(x) -> Tensor`` in place: write the result into this tensor's memory,
        bump its version, and (when recording) make the result's node this tensor's grad_fn."""
        from .autograd.grad_mode import STATE
        self._check_inplace(op)
        recording = STATE.grad_enabled
        if recording and self.requires_grad:
            old = Tensor._make(self._data.copy(), True)  # the pre-update value, same history
            old.grad_fn = self.grad_fn
        else:
            old = self.detach()
        if self._fw_tangent is not None:  # forward mode: the update's JVP starts from this tangent
            from .autograd.forward_ad import attach_tangent
            attach_tangent(old, self._fw_tangent)
        result = compute(old)
        if result.shape != self.shape:
            raise RuntimeError(f"{op}: output with shape {tuple(self.shape)} doesn't match the "
                               f"broadcast shape {tuple(result.shape)}")
        if not np.can_cast(result._data.dtype, self._data.dtype, casting="same_kind"):
            raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the desired "
                               f"output type {self.dtype}")
        self._data[...] = result._data
        self._version_box[0] += 1
        if recording and result.requires_grad:
            self.grad_fn = result.grad_fn
            self.requires_grad = True
            self._retains_grad = False
        elif recording and self.grad_fn is not None:  # the new value no longer depends on history
            self.grad_fn, self.requires_grad = None, False
        if result._fw_tangent is not None or self._fw_tangent is not None:
            from .autograd.forward_ad import attach_tangent
            attach_tangent(self, result._fw_tangent)  # None: the new value has zero tangent
        return self

    def __setitem__(self, key, value):
        from .autograd.grad_mode import STATE
        if self.requires_grad and STATE.grad_enabled:
            raise RuntimeError("__setitem__: index assignment into a tensor that requires grad is "
                               "not supported; build the value out of place (e.g. with where or "
                               "cat), or assign under chainrule.no_grad()")
        from .ops.indexing import _convert_key
        key = _convert_key(key, self, "__setitem__")
        value_tangent = value._fw_tangent if isinstance(value, Tensor) else None
        if self._fw_tangent is not None or value_tangent is not None:
            # forward mode: the assigned entries take the value's tangent (zero for a constant)
            from .autograd.forward_ad import attach_tangent
            tangent = (np.zeros_like(self._data) if self._fw_tangent is None
                       else self._fw_tangent._data.copy())
            tangent[key] = 0 if value_tangent is None else value_tangent._data
            attach_tangent(self, Tensor._make(tangent))
        value = value._data if isinstance(value, Tensor) else value
        try:
            self._data[key] = value
        except ValueError as e:   # NumPy's message, named; a shape mismatch is torch's RuntimeError
            exc = RuntimeError if "broadcast" in str(e) else ValueError
            raise exc(f"__setitem__: {e} (tensor shape {tuple(self.shape)})") from None
        self._version_box[0] += 1

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        from ._printing import tensor_repr
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)
        return str(self)

    def __reduce__(self):
        return (_rebuild, (self._data, self.requires_grad))


def _engine():
    """chainrule.autograd.engine, imported once (it imports this module, so not at the top)."""
    global _ENGINE
    if _ENGINE is None:
        from .autograd import engine
        _ENGINE = engine
    return _ENGINE


_ENGINE = None


def _rebuild(array, requires_grad):
    t = Tensor._make(np.array(array))
    t.requires_grad = requires_grad
    return t


def _normalize_dim(dim, ndim, op):
    """Map a possibly negative dim into range(ndim); 0-d tensors accept dims -1 and 0."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, "
                         f"{n - 1}], but got {dim})")
    return dim % n if ndim else 0
