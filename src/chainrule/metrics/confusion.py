"""The confusion matrix, and the per-class counts (TP, predicted, true) the other label metrics
are built from."""
from __future__ import annotations

import numpy as np

from ._inputs import as_array, check_class_list, encode, label_pair, unique_labels, weights


def confusion_matrix(y_true, y_pred, labels=None, sample_weight=None, normalize=None) -> np.ndarray:
    """C[i, j] = number (or total weight) of samples of true class i predicted as class j.

    Shapes: y_true, y_pred (n,) labels → C (K, K), rows = truth, columns = prediction, classes in
    the order of ``labels`` (default: the sorted labels present in either array). Samples whose
    true or predicted label is not in ``labels`` are left out. ``normalize``: None (counts),
    'true' (C[i, j] / Σ_j C[i, j], rows sum to 1), 'pred' (columns sum to 1) or 'all' (C / n);
    empty rows or columns give 0.
    """
    op = "confusion_matrix"
    t, p = label_pair(y_true, y_pred, op)
    w = weights(sample_weight, t.size, op)
    if labels is None:
        classes = unique_labels(t, p)
    else:
        classes = check_class_list(labels, op)
        if not np.isin(classes, t).any():
            raise ValueError(f"{op}: none of labels {classes.tolist()} occurs in y_true")
    ti, t_ok = encode(t, classes)
    pi, p_ok = encode(p, classes)
    keep = t_ok & p_ok
    k = len(classes)
    flat = ti[keep] * k + pi[keep]
    if w is None:
        cm = np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.int64)
    else:
        cm = np.bincount(flat, weights=w[keep], minlength=k * k).reshape(k, k)
        if as_array(sample_weight, "sample_weight", op).dtype.kind in "iub":   # integer weights: integer counts
            cm = cm.astype(np.int64)
    if normalize is None:
        return cm
    axes = {"true": 1, "pred": 0, "all": None}
    if normalize not in axes:
        raise ValueError(f"{op}: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = cm / cm.sum(axis=axes[normalize], keepdims=axes[normalize] is not None)
    return np.nan_to_num(out)


def class_counts(t, p, classes, w):
    """Per class c of ``classes``: (TP_c, predicted_c = TP_c + FP_c, true_c = TP_c + FN_c) as
    float arrays, counting every sample (also those whose labels are not in ``classes``)."""
    ones = np.ones(t.size) if w is None else w
    ti, t_ok = encode(t, classes)
    pi, p_ok = encode(p, classes)
    k = len(classes)
    hit = t_ok & p_ok & (ti == pi)
    tp = np.bincount(ti[hit], weights=ones[hit], minlength=k)
    pred = np.bincount(pi[p_ok], weights=ones[p_ok], minlength=k)
    true = np.bincount(ti[t_ok], weights=ones[t_ok], minlength=k)
    return tp, pred, true
