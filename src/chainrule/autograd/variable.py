"""``Variable``: torch's deprecated wrapper, kept so that old code runs unchanged.

Since PyTorch 0.4 every tensor can record its history, so ``Variable(t, requires_grad=True)``
just returns a tensor: a new leaf sharing ``t``'s memory (``t.detach()``) whose
``requires_grad`` is the flag given. ``isinstance(t, Variable)`` is True for every tensor.
"""
from __future__ import annotations

from .._backprop import execution_engine
from ..tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)`` → ``data.detach()`` with
    ``requires_grad`` set (a Tensor, not a Variable instance, as in torch).

    Raises TypeError when ``data`` is not a Tensor, RuntimeError when ``requires_grad`` is asked
    of a non-floating tensor. ``volatile`` is accepted and ignored (torch ignores it with a
    warning; use ``chainrule.no_grad()``)."""

    # queue_callback(fn): run fn() at the end of the backward pass in progress
    _execution_engine = execution_engine

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            return Tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(bool(requires_grad))
