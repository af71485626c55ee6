"""Turning metric inputs (tensors, arrays, lists) into checked NumPy arrays.

Every check names the metric (``op``) and says what shape or kind it expected and what it got.
"""
from __future__ import annotations

import numpy as np


def as_array(x, name: str, op: str) -> np.ndarray:
    """A NumPy array from a tensor (anything with ``.numpy()``), an array or a list."""
    if not isinstance(x, np.ndarray) and hasattr(x, "numpy"):
        x = x.detach() if hasattr(x, "detach") else x
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype == object:
        flat = arr.reshape(-1).tolist()
        if all(isinstance(v, str) for v in flat):
            return arr.astype(str)
        raise TypeError(f"{op}: {name} must hold numbers or strings, got Python objects "
                        f"(e.g. {type(flat[0]).__name__})" if flat else
                        f"{op}: {name} must hold numbers or strings")
    return arr


def as_1d(x, name: str, op: str) -> np.ndarray:
    """A 1-d array of length n; an (n, 1) column is accepted and flattened."""
    arr = as_array(x, name, op)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{op}: {name} must be 1-d of shape (n_samples,), got shape {arr.shape}")
    return arr


def check_labels(arr: np.ndarray, name: str, op: str) -> np.ndarray:
    """Class labels: integers, booleans, strings, or floats that are whole numbers."""
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{op}: {name} holds continuous values; class labels were expected "
                             "(threshold probabilities or take argmax(1) of scores first)")
    elif arr.dtype.kind not in "biuUS":
        raise ValueError(f"{op}: {name} of dtype {arr.dtype} are not class labels")
    return arr


def label_pair(y_true, y_pred, op: str):
    """Two 1-d label arrays of the same length n ≥ 1, as ``(y_true, y_pred)``."""
    t = as_array(y_true, "y_true", op)
    p = as_array(y_pred, "y_pred", op)
    if p.ndim == 2 and p.shape[1] > 1 and t.ndim <= 1:
        raise ValueError(f"{op}: y_pred must be class labels of shape ({t.size},), got scores of "
                         f"shape {p.shape}; take argmax(1) of the scores first")
    t, p = as_1d(t, "y_true", op), as_1d(p, "y_pred", op)
    if t.shape != p.shape:
        raise ValueError(f"{op}: y_true and y_pred must have the same length, got {t.shape[0]} "
                         f"and {p.shape[0]}")
    if t.size == 0:
        raise ValueError(f"{op}: empty inputs (0 samples)")
    t, p = check_labels(t, "y_true", op), check_labels(p, "y_pred", op)
    if (t.dtype.kind in "US") != (p.dtype.kind in "US"):
        raise ValueError(f"{op}: y_true ({t.dtype}) and y_pred ({p.dtype}) mix string and "
                         "number labels")
    return t, p


def weights(sample_weight, n: int, op: str):
    """None, or a 1-d float array of n non-negative weights."""
    if sample_weight is None:
        return None
    w = as_array(sample_weight, "sample_weight", op).astype(np.float64)
    if w.shape != (n,):
        raise ValueError(f"{op}: sample_weight must have shape ({n},), got {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"{op}: sample_weight must be finite and non-negative")
    return w


def unique_labels(*arrays) -> np.ndarray:
    """The sorted distinct labels of all arrays together."""
    return np.unique(np.concatenate([np.asarray(a).reshape(-1) for a in arrays]))


def encode(values: np.ndarray, classes: np.ndarray):
    """(positions of ``values`` in ``classes`` (any order), mask of values found there)."""
    classes = np.asarray(classes)
    if classes.size == 0:
        return np.zeros(values.shape, np.int64), np.zeros(values.shape, bool)
    sorter = np.argsort(classes, kind="stable")
    ordered = classes[sorter]
    pos = np.searchsorted(ordered, values)
    pos_c = np.minimum(pos, len(ordered) - 1)
    found = (pos < len(ordered)) & (ordered[pos_c] == values)
    return sorter[pos_c].astype(np.int64), found


def check_class_list(labels, op: str) -> np.ndarray:
    """A user's ``labels`` list: 1-d, distinct values."""
    arr = as_array(labels, "labels", op).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{op}: labels must contain at least one label")
    if len(np.unique(arr)) != arr.size:
        raise ValueError(f"{op}: labels must be distinct, got {arr.tolist()}")
    return arr
