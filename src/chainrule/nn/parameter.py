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
