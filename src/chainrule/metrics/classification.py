"""Classification metrics: accuracy, precision / recall / F1, confusion matrix, ROC AUC, log loss."""
from __future__ import annotations

import warnings

import numpy as np

from ._inputs import as_array, labels_pair

_AVERAGES = ("binary", "micro", "macro", "weighted", None)


def accuracy(y_true, y_pred, normalize: bool = True):
    """Share of exact matches, (1/n) Σ I(ŷ_i = y_i) (the count when ``normalize=False``)."""
    t, p = labels_pair(y_true, y_pred, "accuracy")
    correct = (t == p).sum()
    return float(correct / t.size) if normalize else int(correct)


def top_k_accuracy(y_true, y_score, k: int = 2, labels=None) -> float:
    """Share of samples whose true class is among the k highest scores. y_score (n, C)."""
    t = as_array(y_true, "y_true", "top_k_accuracy").reshape(-1)
    s = as_array(y_score, "y_score", "top_k_accuracy").astype(np.float64)
    if s.ndim != 2 or s.shape[0] != t.size:
        raise ValueError(f"top_k_accuracy: expected y_score of shape ({t.size}, n_classes), got {s.shape}")
    classes = np.arange(s.shape[1]) if labels is None else np.asarray(labels)
    pos = np.searchsorted(classes, t)
    # rank by a stable sort, reversed: among tied scores the later class ranks first (sklearn's rule)
    ranked = np.argsort(s, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return float(np.mean((ranked == pos[:, None]).any(1)))


def confusion_matrix(y_true, y_pred, labels=None, normalize=None) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j (rows: truth).
    ``normalize``: None, 'true' (rows sum to 1), 'pred' (columns) or 'all'."""
    t, p = labels_pair(y_true, y_pred, "confusion_matrix")
    classes = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    index = {c: i for i, c in enumerate(classes.tolist())}
    keep = np.array([a in index and b in index for a, b in zip(t.tolist(), p.tolist())], bool)
    ti = np.array([index[a] for a in t[keep].tolist()], np.int64)
    pi = np.array([index[b] for b in p[keep].tolist()], np.int64)
    cm = np.zeros((len(classes), len(classes)), np.int64)
    np.add.at(cm, (ti, pi), 1)
    if normalize is None:
        return cm
    axis = {"true": 1, "pred": 0, "all": None}
    if normalize not in axis:
        raise ValueError(f"confusion_matrix: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        total = cm.sum(axis=axis[normalize], keepdims=axis[normalize] is not None)
        return np.nan_to_num(cm / total)


def _zero_division(num, den, zero_division, what, op):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / np.where(den == 0, 1, den)
    if np.any(den == 0):
        if zero_division == "warn":
            warnings.warn(f"{op}: {what} is ill-defined and being set to 0.0 for labels with no "
                          "samples; use zero_division to control this", RuntimeWarning, stacklevel=4)
            value = 0.0
        else:
            value = float(zero_division)
        out = np.where(den == 0, value, out)
    return out


def precision_recall_f1(y_true, y_pred, average="binary", labels=None, pos_label=1,
                        zero_division="warn", op="precision_recall_f1"):
    """(precision, recall, F1) with P = TP/(TP+FP), R = TP/(TP+FN), F1 = 2PR/(P+R).

    average: 'binary' (the ``pos_label`` class), 'micro' (global counts), 'macro' (unweighted
    class mean), 'weighted' (mean weighted by class support) or None (per class arrays).
    """
    if average not in _AVERAGES:
        raise ValueError(f"{op}: average must be one of {_AVERAGES}, got {average!r}")
    t, p = labels_pair(y_true, y_pred, op)
    present = np.unique(np.concatenate([t, p]))
    if average == "binary":
        if len(present) > 2:
            raise ValueError(f"{op}: average='binary' needs 2 classes, got {len(present)}; choose "
                             "average='micro', 'macro' or 'weighted'")
        classes = np.asarray([pos_label])
    else:
        classes = present if labels is None else np.asarray(labels)
    cm_classes = np.union1d(present, classes)
    cm = confusion_matrix(t, p, labels=cm_classes)
    idx = np.searchsorted(cm_classes, classes)
    tp = np.diag(cm)[idx].astype(np.float64)
    pred_pos = cm.sum(0)[idx].astype(np.float64)
    true_pos = cm.sum(1)[idx].astype(np.float64)
    if average == "micro":
        tp, pred_pos, true_pos = tp.sum(keepdims=True), pred_pos.sum(keepdims=True), true_pos.sum(keepdims=True)
    prec = _zero_division(tp, pred_pos, zero_division, "Precision", op)
    rec = _zero_division(tp, true_pos, zero_division, "Recall", op)
    f = _zero_division(2 * tp, pred_pos + true_pos, zero_division, "F-score", op)
    if average is None:
        return prec, rec, f
    if average == "weighted":
        w = true_pos
        if w.sum() == 0:
            return 0.0, 0.0, 0.0
        return tuple(float(np.average(v, weights=w)) for v in (prec, rec, f))
    return tuple(float(v.mean()) for v in (prec, rec, f))


def precision(y_true, y_pred, average="binary", labels=None, pos_label=1, zero_division="warn"):
    """Precision TP/(TP + FP): of the samples predicted positive, the share that are."""
    return precision_recall_f1(y_true, y_pred, average, labels, pos_label, zero_division, "precision")[0]


def recall(y_true, y_pred, average="binary", labels=None, pos_label=1, zero_division="warn"):
    """Recall TP/(TP + FN): of the positive samples, the share found."""
    return precision_recall_f1(y_true, y_pred, average, labels, pos_label, zero_division, "recall")[1]


def f1(y_true, y_pred, average="binary", labels=None, pos_label=1, zero_division="warn"):
    """F1 = 2PR/(P + R), the harmonic mean of precision and recall."""
    return precision_recall_f1(y_true, y_pred, average, labels, pos_label, zero_division, "f1")[2]


def classification_report(y_true, y_pred, labels=None, target_names=None, digits: int = 2) -> str:
    """A text table of per-class precision, recall, F1 and support, with accuracy and averages."""
    t, p = labels_pair(y_true, y_pred, "classification_report")
    classes = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    names = [str(c) for c in classes] if target_names is None else list(target_names)
    prec, rec, f, = precision_recall_f1(t, p, None, classes, zero_division=0.0)
    support = confusion_matrix(t, p, labels=classes).sum(1)
    width = max(12, max(len(n) for n in names))
    head = f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1-score':>9} {'support':>9}"
    rows = [head, ""]
    for n, a, b, c, s in zip(names, prec, rec, f, support):
        rows.append(f"{n:>{width}} {a:>9.{digits}f} {b:>9.{digits}f} {c:>9.{digits}f} {s:>9}")
    rows.append("")
    total = int(support.sum())
    rows.append(f"{'accuracy':>{width}} {'':>9} {'':>9} {accuracy(t, p):>9.{digits}f} {total:>9}")
    for avg in ("macro", "weighted"):
        a, b, c = precision_recall_f1(t, p, avg, classes, zero_division=0.0)
        rows.append(f"{avg + ' avg':>{width}} {a:>9.{digits}f} {b:>9.{digits}f} {c:>9.{digits}f} {total:>9}")
    return "\n".join(rows) + "\n"


def _binary_auc(t, s):
    """Area under the ROC curve = P(score of a random positive > random negative), ties ½
    (the Mann–Whitney U statistic, with average ranks for ties)."""
    pos = t.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc: only one class present in y_true; ROC AUC is not defined")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # average ranks over tied groups
    boundaries = np.flatnonzero(np.diff(sorted_s)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(s)]])
    for a, b in zip(starts, ends):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(y_true, y_score, average="macro", multi_class="ovr", labels=None) -> float:
    """ROC AUC. Binary: y_score (n,) scores of the positive class. Multiclass: y_score (n, C)
    probabilities, one-vs-rest AUC per class averaged 'macro' or 'weighted' (by prevalence)."""
    t = as_array(y_true, "y_true", "roc_auc").reshape(-1)
    s = as_array(y_score, "y_score", "roc_auc").astype(np.float64)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim == 1:
        if s.size != t.size:
            raise ValueError(f"roc_auc: y_true has {t.size} samples, y_score {s.size}")
        classes = np.unique(t)
        if len(classes) > 2:
            raise ValueError("roc_auc: 1-d scores need binary labels; pass (n, C) scores for multiclass")
        return _binary_auc(t == classes[-1], s)
    if multi_class != "ovr":
        raise ValueError(f"roc_auc: only multi_class='ovr' is supported, got {multi_class!r}")
    if average not in ("macro", "weighted"):
        raise ValueError(f"roc_auc: average must be 'macro' or 'weighted', got {average!r}")
    classes = np.unique(t) if labels is None else np.asarray(labels)
    if s.shape != (t.size, len(classes)):
        raise ValueError(f"roc_auc: expected y_score of shape ({t.size}, {len(classes)}), got {s.shape}")
    aucs = np.array([_binary_auc(t == c, s[:, i]) for i, c in enumerate(classes)])
    if average == "weighted":
        return float(np.average(aucs, weights=[(t == c).sum() for c in classes]))
    return float(aucs.mean())


def log_loss(y_true, y_pred, eps="auto", labels=None) -> float:
    """Cross-entropy −(1/n) Σ_i log p_i[y_i] of predicted probabilities y_pred (n, C) or, for
    binary labels, (n,) probabilities of the positive class. Probabilities are clipped to
    [eps, 1 − eps] (eps = the dtype's machine epsilon) and rows renormalised, as scikit-learn."""
    t = as_array(y_true, "y_true", "log_loss").reshape(-1)
    p = as_array(y_pred, "y_pred", "log_loss").astype(np.float64)
    classes = np.unique(t) if labels is None else np.asarray(labels)
    if p.ndim == 1:
        p = np.stack([1 - p, p], axis=1)
    if p.shape[0] != t.size or p.shape[1] != max(len(classes), 2):
        raise ValueError(f"log_loss: y_pred of shape {p.shape} does not match {t.size} samples of "
                         f"{len(classes)} classes")
    e = np.finfo(p.dtype).eps if eps == "auto" else eps
    p = np.clip(p, e, 1 - e)
    p = p / p.sum(1, keepdims=True)
    idx = np.searchsorted(classes, t)
    return float(-np.mean(np.log(p[np.arange(t.size), idx])))
