"""Utilities (``torch.utils``): :mod:`chainrule.utils.data` — datasets, samplers, DataLoader;
:mod:`chainrule.utils.checkpoint` — activation checkpointing;
:func:`to_torch` — chainrule tensors (also nested in state dicts) to torch tensors."""
from . import data
from . import checkpoint  # activation checkpointing (torch.utils.checkpoint)
from .interop import to_torch

__all__ = ["data", "checkpoint", "to_torch"]
