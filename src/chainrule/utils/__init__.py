"""Utilities (``torch.utils``): :mod:`chainrule.utils.data` — datasets, samplers, DataLoader;
:func:`to_torch` — chainrule tensors (also nested in state dicts) to torch tensors."""
from . import data
from .interop import to_torch

__all__ = ["data", "to_torch"]
