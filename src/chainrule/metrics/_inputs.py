"""Turning metric inputs (tensors, arrays, lists) into checked NumPy arrays."""
from __future__ import annotations

import numpy as np


def as_array(x, name: str, op: str) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        x = x.detach().numpy()
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{op}: {name} must be numeric or string labels, got objects")
    return arr


def labels_pair(y_true, y_pred, op: str):
    """Two 1-d label arrays of equal length."""
    t = as_array(y_true, "y_true", op).reshape(-1) if np.ndim(as_array(y_true, "y_true", op)) <= 1 \
        else _reject_2d(y_true, op)
    p = as_array(y_pred, "y_pred", op)
    if p.ndim > 1:
        raise ValueError(f"{op}: y_pred must be 1-d class labels, got shape {p.shape}; take "
                         "argmax(1) of scores first")
    p = p.reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"{op}: y_true and y_pred must have the same length, got {t.shape[0]} "
                         f"and {p.shape[0]}")
    if t.size == 0:
        raise ValueError(f"{op}: empty inputs")
    return t, p


def _reject_2d(y, op):
    raise ValueError(f"{op}: y_true must be 1-d class labels, got shape {np.shape(as_array(y, 'y_true', op))}")
