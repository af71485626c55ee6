"""Log loss (cross-entropy) of predicted class probabilities."""
from __future__ import annotations

import warnings

import numpy as np

from ._inputs import as_1d, as_array, check_class_list, check_labels, encode, weights


def log_loss(y_true, y_pred, labels=None, sample_weight=None, normalize: bool = True) -> float:
    """Log loss = −(1/n) Σ_i log p_i[y_i], the mean cross-entropy of the true classes.

    Shapes: y_true (n,) labels; y_pred (n, C) probabilities, column j for the j-th smallest of
    ``labels`` (default: of the labels in y_true), or (n,) probabilities of the positive
    (greater) class for binary labels. Probabilities are clipped to [ε, 1 − ε] with ε the machine epsilon
    of y_pred's float type, and not renormalised (rows that do not sum to 1 warn), as
    scikit-learn ≥ 1.5. ``normalize=False`` sums instead of averaging; ``sample_weight`` (n,)
    weighs the terms.
    """
    op = "log_loss"
    t = check_labels(as_1d(y_true, "y_true", op), "y_true", op)
    p = as_array(y_pred, "y_pred", op)
    if p.dtype.kind not in "biuf":
        raise ValueError(f"{op}: y_pred must be probabilities, got dtype {p.dtype}")
    p = p.astype(np.float32 if p.dtype == np.float32 else np.float64)
    if p.ndim == 0 or p.ndim > 2 or p.shape[0] != t.size:
        raise ValueError(f"{op}: expected y_pred of shape ({t.size},) or ({t.size}, n_classes) for "
                         f"{t.size} samples, got {p.shape}")
    if t.size == 0:
        raise ValueError(f"{op}: empty inputs (0 samples)")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"{op}: y_pred must be probabilities in [0, 1], got values in "
                         f"[{p.min():g}, {p.max():g}] (apply softmax or sigmoid first)")
    w = weights(sample_weight, t.size, op)
    classes = np.unique(t) if labels is None else check_class_list(labels, op)
    if len(classes) < 2:
        raise ValueError(f"{op}: y_true contains only the label {classes.tolist()}; pass "
                         "labels=[...] with all the classes" if labels is None else
                         f"{op}: labels must name at least two classes, got {classes.tolist()}")
    if p.ndim == 1 or p.shape[1] == 1:
        p = p.reshape(-1, 1)
        p = np.concatenate([1 - p, p], axis=1)
    if p.shape[1] != len(classes):
        raise ValueError(f"{op}: y_pred has {p.shape[1]} columns but there are {len(classes)} "
                         f"classes {classes.tolist()[:10]}; pass labels (one per column, sorted)")
    idx, found = encode(t, np.sort(classes))
    if not found.all():
        raise ValueError(f"{op}: y_true contains labels not in labels: "
                         f"{np.unique(t[~found]).tolist()}")
    eps = np.finfo(p.dtype).eps
    if not np.allclose(p.sum(axis=1), 1, rtol=np.sqrt(eps), atol=0):
        warnings.warn(f"{op}: the rows of y_pred do not sum to one; pass probabilities",
                      UserWarning, stacklevel=2)
    picked = np.clip(p[np.arange(t.size), idx], eps, 1 - eps).astype(np.float64)
    losses = -np.log(picked)
    if normalize:
        return float(np.average(losses, weights=w))
    return float(losses.sum() if w is None else np.dot(losses, w))
