"""Metrics of scores rather than labels: top-k accuracy and the area under the ROC curve."""
from __future__ import annotations

import warnings

import numpy as np

from ._inputs import as_1d, as_array, check_class_list, check_labels, encode, weights
from .classification import UndefinedMetricWarning


def _score_array(y_score, n, op) -> np.ndarray:
    s = as_array(y_score, "y_score", op)
    if s.dtype.kind not in "biuf":
        raise ValueError(f"{op}: y_score must be numeric scores, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if s.ndim == 0 or s.ndim > 2 or s.shape[0] != n:
        raise ValueError(f"{op}: expected y_score of shape ({n},) or ({n}, n_classes) for {n} "
                         f"samples, got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{op}: y_score contains NaN or infinity")
    return s


def _sorted_labels(labels, op):
    classes = check_class_list(labels, op)
    if np.any(np.sort(classes) != classes):
        raise ValueError(f"{op}: labels must be sorted (y_score's columns follow them), got "
                         f"{classes.tolist()}")
    return classes


def _columns(t, n_columns, labels, op):
    """The classes that y_score's columns stand for: ``labels``; else the sorted labels of
    y_true when there are as many; else 0..C−1 when y_true holds such integers."""
    if labels is not None:
        classes = _sorted_labels(labels, op)
        if len(classes) != n_columns:
            raise ValueError(f"{op}: {len(classes)} labels but y_score has {n_columns} columns")
        missing = np.setdiff1d(t, classes)
        if missing.size:
            raise ValueError(f"{op}: y_true contains labels not in labels: {missing.tolist()}")
        return classes
    classes = np.unique(t)
    if len(classes) == n_columns:
        return classes
    if t.dtype.kind in "iub" and t.min() >= 0 and t.max() < n_columns:
        return np.arange(n_columns)
    raise ValueError(f"{op}: y_true has {len(classes)} classes {classes.tolist()[:10]} but y_score "
                     f"has {n_columns} columns; pass labels (one per column, sorted)")


def top_k_accuracy(y_true, y_score, k: int = 2, normalize: bool = True, sample_weight=None,
                   labels=None):
    """Top-k accuracy = (1/n) Σ_i 1[y_i is among the k classes with the highest scores s_i].

    Shapes: y_true (n,) labels; y_score (n, C) scores or probabilities, column j for class
    ``labels[j]`` (default: the sorted labels of y_true, or 0..C−1 when y_true holds class
    indices and some classes are absent). Among tied scores the higher column ranks first
    (scikit-learn's rule). Binary y_true may come with (n,) scores of the positive class: for
    k = 1 a sample is a hit when (s > 0.5 for probabilities, s > 0 otherwise) matches it.
    ``normalize=False`` counts hits.
    """
    op = "top_k_accuracy"
    t = check_labels(as_1d(y_true, "y_true", op), "y_true", op)
    if t.size == 0:
        raise ValueError(f"{op}: empty inputs (0 samples)")
    s = _score_array(y_score, t.size, op)
    w = weights(sample_weight, t.size, op)
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{op}: k must be a positive integer, got {k!r}")
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    n_columns = 2 if s.ndim == 1 else s.shape[1]
    classes = _columns(t, n_columns, labels, op)
    if k >= len(classes):
        warnings.warn(f"{op}: k={k} is at least the number of classes ({len(classes)}): every "
                      "sample is a hit and the score is meaningless", UndefinedMetricWarning,
                      stacklevel=2)
    idx, _ = encode(t, classes)
    if s.ndim == 1:
        threshold = 0.5 if s.min() >= 0 and s.max() <= 1 else 0.0
        hits = (s > threshold).astype(np.int64) == idx if k == 1 else np.ones(t.size, bool)
    else:
        top = np.argsort(s, axis=1, kind="mergesort")[:, ::-1][:, :k]
        hits = (top == idx[:, None]).any(axis=1)
    if normalize:
        return float(np.average(hits, weights=w))
    return int(hits.sum()) if w is None else float(np.dot(hits, w))


def _binary_auc(positive, score, w, op) -> float:
    """Area under the ROC curve (TPR against FPR over all thresholds, trapezoidal rule), which
    equals P(s⁺ > s⁻) + ½·P(s⁺ = s⁻) for a random positive and negative (Mann–Whitney U)."""
    if positive.all() or not positive.any():
        warnings.warn(f"{op}: only one class is present in y_true; ROC AUC is not defined "
                      "(returning nan)", UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    w = np.ones(score.size) if w is None else w
    order = np.argsort(-score, kind="mergesort")
    s, y, w = score[order], positive[order], w[order]
    ends = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]     # last index of each distinct score
    tps = np.cumsum(w * y)[ends]
    fps = np.cumsum(w * ~y)[ends]
    if tps[-1] == 0 or fps[-1] == 0:
        return float("nan")
    tpr = np.r_[0.0, tps] / tps[-1]
    fpr = np.r_[0.0, fps] / fps[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def roc_auc(y_true, y_score, average="macro", multi_class="ovr", labels=None, sample_weight=None):
    """ROC AUC = ∫ TPR d(FPR) = P(s⁺ > s⁻) + ½·P(s⁺ = s⁻): the probability that a random
    positive scores above a random negative (ties count ½).

    Binary: y_true (n,) with two labels (the greater is positive), y_score (n,) scores of the
    positive class (an (n, 2) array is read from its second column). Multiclass: y_score (n, C)
    probabilities (rows sum to 1; apply softmax to logits), one-vs-rest AUC_c of each class
    against the rest, averaged 'macro' (mean over classes), 'weighted' (by class prevalence) or
    None (the (C,) array). If y_true has a single class the AUC is undefined: nan, with a warning.
    """
    op = "roc_auc"
    t = check_labels(as_1d(y_true, "y_true", op), "y_true", op)
    if t.size == 0:
        raise ValueError(f"{op}: empty inputs (0 samples)")
    s = _score_array(y_score, t.size, op)
    w = weights(sample_weight, t.size, op)
    present = np.unique(t)
    binary = len(present) <= 2 and (labels is None or len(labels) <= 2)
    if s.ndim == 2 and s.shape[1] <= 2 and binary:
        s = s[:, -1]
    if s.ndim == 1:
        if not binary:
            raise ValueError(f"{op}: y_true has {len(present)} classes but y_score has shape "
                             f"{s.shape}; pass (n, n_classes) probabilities for multiclass")
        return _binary_auc(t == present[-1], s, w, op)
    if multi_class != "ovr":
        raise ValueError(f"{op}: only multi_class='ovr' (one-vs-rest) is supported, got "
                         f"{multi_class!r}")
    if average not in ("macro", "weighted", None):
        raise ValueError(f"{op}: average must be 'macro', 'weighted' or None for multiclass, "
                         f"got {average!r}")
    if not np.allclose(s.sum(axis=1), 1.0):
        raise ValueError(f"{op}: multiclass y_score must be probabilities whose rows sum to 1 "
                         "(apply softmax to logits first)")
    if labels is not None:
        classes = _columns(t, s.shape[1], labels, op)
    elif len(present) != s.shape[1]:
        raise ValueError(f"{op}: y_true has {len(present)} classes but y_score has {s.shape[1]} "
                         "columns; pass labels (one per column, sorted)")
    else:
        classes = present
    aucs = np.array([_binary_auc(t == c, s[:, j], w, op) for j, c in enumerate(classes)])
    if average is None:
        return aucs
    if average == "weighted":
        prevalence = np.array([(t == c).sum() if w is None else w[t == c].sum() for c in classes],
                              np.float64)
        if prevalence.sum() == 0:
            return 0.0
        aucs[prevalence == 0] = 0.0
        return float(np.average(aucs, weights=prevalence))
    return float(aucs.mean())
