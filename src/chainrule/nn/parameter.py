"""``Parameter``: a leaf tensor that a Module registers as one of its learnable weights."""
from __future__ import annotations

import numpy as np

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
