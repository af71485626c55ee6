"""An optional tensor input that was not given (a convolution's ``bias=None``), as torch records it.

A torch node keeps one edge per declared input, and the edge of an optional input not given is
``None``: ``conv2d(x, w).grad_fn.next_functions`` is ``((x's node, 0), (w's node, 0), (None, 0))``.
A chainrule primitive gets the same edges by taking :data:`NOT_GIVEN` in that input's place: a
Tensor that needs no gradient (so its edge is None) and that its forward and rules recognise with
:func:`given`.
"""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor

NOT_GIVEN = Tensor._make(np.empty(0, np.float32))
_NOT_GIVEN_DATA = NOT_GIVEN._data
_NOT_GIVEN_DATA.flags.writeable = False


def optional(t):
    """``t``, or :data:`NOT_GIVEN` for None: the value to pass to ``apply`` for an optional input."""
    return NOT_GIVEN if t is None else t


def given(v) -> bool:
    """Whether a value a forward or a rule received (an array or a Tensor) is a given input."""
    return v is not None and v is not NOT_GIVEN and v is not _NOT_GIVEN_DATA
