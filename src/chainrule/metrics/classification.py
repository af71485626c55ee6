"""Label metrics: accuracy, and precision / recall / F-scores with scikit-learn's averages and
``zero_division`` rule."""
from __future__ import annotations

import warnings

import numpy as np

from ._inputs import check_class_list, label_pair, unique_labels, weights
from .confusion import class_counts

_AVERAGES = ("binary", "micro", "macro", "weighted", None)
_MISSING = {"Precision": "predicted", "Recall": "true", "F-score": "true nor predicted"}


class UndefinedMetricWarning(RuntimeWarning):
    """A metric's denominator was 0 (e.g. precision of a class never predicted)."""


def accuracy(y_true, y_pred, normalize: bool = True, sample_weight=None):
    """Accuracy = (1/n) Σ_i 1[ŷ_i = y_i]: the share of exact matches.

    Shapes: y_true, y_pred (n,) class labels (ints, bools or strings). ``normalize=False`` gives
    the number of matches instead; ``sample_weight`` (n,) weighs each sample (Σ w_i 1[ŷ_i = y_i]
    / Σ w_i).
    """
    t, p = label_pair(y_true, y_pred, "accuracy")
    w = weights(sample_weight, t.size, "accuracy")
    hits = t == p
    if normalize:
        return float(np.average(hits, weights=w))
    return int(hits.sum()) if w is None else float(np.dot(hits, w))


def _check_zero_division(zero_division, op):
    if isinstance(zero_division, str):
        if zero_division != "warn":
            raise ValueError(f"{op}: zero_division must be 'warn', 0, 1 or np.nan, "
                             f"got {zero_division!r}")
        return 0.0
    if isinstance(zero_division, (int, float)) and (zero_division in (0, 1) or np.isnan(zero_division)):
        return float(zero_division)
    raise ValueError(f"{op}: zero_division must be 'warn', 0, 1 or np.nan, got {zero_division!r}")


def _divide(num, den, zero_division, what, op, warn):
    """num / den, with ``zero_division``'s value where den = 0 (and a warning for 'warn')."""
    zero = den == 0
    out = num / np.where(zero, 1.0, den)
    if zero.any():
        out[zero] = _check_zero_division(zero_division, op)
        if zero_division == "warn" and warn:
            warnings.warn(f"{op}: {what} is ill-defined and being set to 0.0 in labels with no "
                          f"{_MISSING[what]} samples; use the zero_division parameter to control "
                          "this", UndefinedMetricWarning, stacklevel=4)
    return out


def _nanaverage(values, w=None):
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if w is None or w[keep].sum() == 0:
        return float(values[keep].mean())
    return float(np.average(values[keep], weights=w[keep]))


def precision_recall_fscore_support(y_true, y_pred, beta: float = 1.0, labels=None, pos_label=1,
                                    average=None, sample_weight=None, zero_division="warn",
                                    warn_for=("precision", "recall", "f-score"),
                                    op="precision_recall_fscore_support"):
    """Per-class or averaged (precision, recall, F_β, support).

    Per class c: P = TP/(TP + FP), R = TP/(TP + FN), F_β = (1 + β²)·TP / ((1 + β²)·TP + β²·FN + FP)
    (= (1 + β²)PR/(β²P + R); F1 = 2PR/(P + R)), support = TP + FN (samples of class c).

    Shapes: y_true, y_pred (n,) labels. average: None → arrays (K,) over ``labels`` (default the
    sorted labels present); 'binary' → the ``pos_label`` class only (needs ≤ 2 labels);
    'micro' → from the counts summed over classes; 'macro' → unweighted mean over classes;
    'weighted' → mean weighted by support. A 0/0 ratio takes ``zero_division`` (0, 1 or
    np.nan, which averages skip; 'warn' = 0 with an :class:`UndefinedMetricWarning`).
    Averages return floats and support None.
    """
    if average not in _AVERAGES:
        raise ValueError(f"{op}: average must be one of {_AVERAGES}, got {average!r}")
    _check_zero_division(zero_division, op)
    if beta < 0:
        raise ValueError(f"{op}: beta must be non-negative, got {beta}")
    t, p = label_pair(y_true, y_pred, op)
    w = weights(sample_weight, t.size, op)
    present = unique_labels(t, p)
    if average == "binary":
        if len(present) > 2:
            raise ValueError(f"{op}: target is multiclass ({len(present)} labels) but "
                             "average='binary'; choose average='micro', 'macro', 'weighted' "
                             "or None")
        if pos_label not in present.tolist() and len(present) >= 2:
            raise ValueError(f"{op}: pos_label={pos_label!r} is not a valid label; it should be "
                             f"one of {present.tolist()}")
        classes = np.asarray([pos_label])
    else:
        if pos_label not in (None, 1):
            warnings.warn(f"{op}: pos_label={pos_label!r} is ignored when average={average!r} "
                          "(not 'binary'); use labels=[pos_label] to score a single class",
                          UserWarning, stacklevel=3)
        classes = present if labels is None else check_class_list(labels, op)
    tp, pred, true = class_counts(t, p, classes, w)
    if average == "micro":
        tp, pred, true = (np.array([a.sum()]) for a in (tp, pred, true))
    prec = _divide(tp, pred, zero_division, "Precision", op, "precision" in warn_for)
    rec = _divide(tp, true, zero_division, "Recall", op, "recall" in warn_for)
    if np.isposinf(beta):
        f = rec
    elif beta == 0:
        f = prec
    else:
        b2 = beta * beta
        f = _divide((1 + b2) * tp, b2 * true + pred, zero_division, "F-score", op,
                    "f-score" in warn_for)
    if average is None:
        support = true.astype(np.int64) if w is None else true
        return prec, rec, f, support
    avg_w = true if average == "weighted" else None
    return _nanaverage(prec, avg_w), _nanaverage(rec, avg_w), _nanaverage(f, avg_w), None


def precision(y_true, y_pred, average="binary", labels=None, pos_label=1, sample_weight=None,
              zero_division="warn"):
    """Precision P = TP / (TP + FP): of the samples predicted as the class, the share that are.

    Shapes: y_true, y_pred (n,) labels → a float, or (K,) with ``average=None``. ``average``,
    ``labels``, ``pos_label``, ``zero_division``: as :func:`precision_recall_fscore_support`.
    """
    return precision_recall_fscore_support(y_true, y_pred, 1.0, labels, pos_label, average,
                                           sample_weight, zero_division, ("precision",),
                                           "precision")[0]


def recall(y_true, y_pred, average="binary", labels=None, pos_label=1, sample_weight=None,
           zero_division="warn"):
    """Recall R = TP / (TP + FN): of the samples of the class, the share found.

    Shapes: y_true, y_pred (n,) labels → a float, or (K,) with ``average=None``.
    """
    return precision_recall_fscore_support(y_true, y_pred, 1.0, labels, pos_label, average,
                                           sample_weight, zero_division, ("recall",),
                                           "recall")[1]


def f1(y_true, y_pred, average="binary", labels=None, pos_label=1, sample_weight=None,
       zero_division="warn"):
    """F1 = 2PR / (P + R) = 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall.

    Shapes: y_true, y_pred (n,) labels → a float, or (K,) with ``average=None``.
    """
    return precision_recall_fscore_support(y_true, y_pred, 1.0, labels, pos_label, average,
                                           sample_weight, zero_division, ("f-score",), "f1")[2]


def fbeta(y_true, y_pred, beta: float, average="binary", labels=None, pos_label=1,
          sample_weight=None, zero_division="warn"):
    """F_β = (1 + β²)PR / (β²P + R): recall counts β times as much as precision (β = 1: F1).

    Shapes: y_true, y_pred (n,) labels → a float, or (K,) with ``average=None``.
    """
    return precision_recall_fscore_support(y_true, y_pred, beta, labels, pos_label, average,
                                           sample_weight, zero_division, ("f-score",), "fbeta")[2]
