"""``Parameter``: a leaf tensor that a Module registers as one of its learnable weights;
``Buffer``; the uninitialized parameters and buffers of lazy modules."""
from __future__ import annotations

import sys

import numpy as np

from .. import creation
from .._device import check_device
from .._dtype import as_dtype, from_numpy_dtype
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it as a Module attribute registers it, and
    it requires grad by default.

    Args:
        data (Tensor or array): the initial value (its memory is shared, not copied).
        requires_grad (bool): default True.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.zeros((0,), np.float32)
        elif isinstance(data, Tensor):
            array = data._data
        else:
            array = np.asarray(data)
        self._data = array
        self._version_box = [0]
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):
        return (Parameter, (Tensor._make(self._data.copy()), self.requires_grad))


class _BufferMeta(type):
    # ``isinstance(t, Buffer)``: any tensor Buffer(...) returned (torch's check, by a flag)
    def __instancecheck__(cls, instance):
        return (isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)) \
            or type.__instancecheck__(cls, instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that is module state but not a learnable weight (a running mean): assigning it
    as a Module attribute registers it as a buffer, as ``register_buffer`` does — torch's
    ``nn.Buffer``. ``Buffer(data, persistent=True)`` returns ``data`` detached (sharing its
    memory), flagged; ``persistent=False`` keeps it out of ``state_dict``.

    Example::

        self.steps = nn.Buffer(chainrule.zeros((), dtype=chainrule.int64))
    """

    def __new__(cls, data=None, *, persistent=True):
        t = Tensor._make(np.empty(0, np.float32)) if data is None else data.detach()
        if data is not None and data.requires_grad:
            t.requires_grad_(True)
        t.persistent = persistent
        t._is_buffer = True
        return t


_UNINIT_USE = ("Attempted to use an uninitialized parameter in {op}. This error happens when you "
               "are using a `LazyModule` or explicitly manipulating "
               "`chainrule.nn.parameter.{cls}` objects. When using LazyModules Call `forward` "
               "with a dummy batch to initialize the parameters before calling chainrule "
               "functions")


def _user_facing_op(frame):
    """The name of the chainrule function that read the values: the innermost caller that is
    not a private helper (``_unary``, ``_arr``), so the error names ``linear`` or ``__add__``."""
    while frame is not None:
        name = frame.f_code.co_name
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            return name
        frame = frame.f_back
    return "an operation"


class UninitializedTensorMixin:
    """A parameter or buffer whose shape is not known yet (a lazy module's, until its first
    call): it has a dtype, a device and ``requires_grad``, but no values — any operation that
    reads them raises ValueError, ``.shape`` raises RuntimeError, as torch.
    :meth:`materialize` gives it a shape and turns it, in place, into ``cls_to_become``
    (a Parameter or a Tensor), so references to it (an optimizer's) stay valid."""

    cls_to_become = None

    def _init_placeholder(self, requires_grad, device, dtype):
        check_device(device, type(self).__name__)
        # the placeholder lives in the instance dict under ``_data``, hidden behind the
        # ``_data`` property below until materialize swaps the class
        self.__dict__["_data"] = creation.empty(0, dtype=dtype)._data
        self._version_box = [0]
        self._requires_grad = bool(requires_grad)

    @property
    def _data(self):
        # every op reads its inputs' arrays through ``_data``: this is the one place that
        # refuses an uninitialized tensor (torch's __torch_function__ guard)
        raise ValueError(_UNINIT_USE.format(op=_user_facing_op(sys._getframe(1)),
                                            cls=type(self).__name__))

    @_data.setter
    def _data(self, array):
        self.__dict__["_data"] = array

    def _placeholder(self):
        return self.__dict__["_data"]

    def _retype(self, np_dtype):
        """Change the dtype it will materialize with (``module.double()`` before the first
        call), as torch's ``Module._apply`` casts the placeholder."""
        self.__dict__["_data"] = self._placeholder().astype(np_dtype)

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give it ``shape`` (uninitialized values) and turn it into ``cls_to_become`` in
        place, with its dtype unless ``dtype`` is given.

        Args:
            shape (tuple): the shape of the materialized tensor.
            device: the device (the CPU only). dtype: the floating dtype (default: its own).
        """
        check_device(device, "materialize")
        np_dtype = self._placeholder().dtype if dtype is None else as_dtype(dtype).np
        array = np.empty(tuple(shape), np_dtype)
        array[...] = 0   # (chainrule's empty tensors are zero-filled, never garbage)
        self.__class__ = self.cls_to_become
        self._data = array

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into "
            "an initialized one. Call `forward` to initialize the parameters before accessing "
            "their attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           "`forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    # what torch lets through to the placeholder: metadata, and casts (plain empty tensors)
    @property
    def dtype(self):
        return from_numpy_dtype(self._placeholder().dtype)

    @property
    def ndim(self):
        return self._placeholder().ndim

    @property
    def data(self):
        return Tensor._make(self._placeholder())

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    def size(self, dim=None):
        return Tensor._make(self._placeholder()).size(dim)

    def is_floating_point(self):
        return self._placeholder().dtype.kind == "f"

    def _cast(name):
        def cast(self, *args, **kwargs):
            return getattr(Tensor._make(self._placeholder(), self._requires_grad),
                           name)(*args, **kwargs)
        cast.__name__ = name
        cast.__doc__ = f"``{name}`` of its (empty) placeholder: a plain empty tensor, as torch."
        return cast

    to, cpu, half, float, double = _cast("to"), _cast("cpu"), _cast("half"), _cast("float"), \
        _cast("double")
    char, short, int, long = _cast("char"), _cast("short"), _cast("int"), _cast("long")
    del _cast

    def numpy(self, *, force=False):
        return Tensor._make(self._data).numpy(force=force)   # (``_data`` refuses)

    def requires_grad_(self, requires_grad=True):
        # torch refuses it either way (a lazy module's ``requires_grad_(False)`` included)
        return Tensor.requires_grad_(Tensor._make(self._data), requires_grad)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (type(self), (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, None, self.dtype)
        return memo[id(self)]


def is_lazy(param) -> bool:
    """Whether ``param`` is an :class:`UninitializedParameter` or :class:`UninitializedBuffer`."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (a lazy module's ``weight`` before its first
    call); :meth:`materialize` makes it a :class:`Parameter` in place. Any use of its values
    before then raises ValueError; its dtype, device and ``requires_grad`` are set now.

    Args: requires_grad=True, device=None, dtype=None (the default float dtype).
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        self._init_placeholder(requires_grad, device, dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy batch norm's ``running_mean``);
    :meth:`materialize` makes it a plain :class:`Tensor` in place. Assigned as a module
    attribute it registers as a buffer (``persistent`` says whether ``state_dict`` keeps it).

    Args: requires_grad=False, device=None, dtype=None, persistent=True.
    """

    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        self._init_placeholder(requires_grad, device, dtype)
        self.persistent = persistent
        self._is_buffer = True
