"""The classification report: per-class precision, recall, F1 and support as a text table."""
from __future__ import annotations

import numpy as np

from ._inputs import check_class_list, label_pair, unique_labels
from .classification import precision_recall_fscore_support

_HEADERS = ["precision", "recall", "f1-score", "support"]


def classification_report(y_true, y_pred, labels=None, target_names=None, sample_weight=None,
                          digits: int = 2, output_dict: bool = False, zero_division="warn"):
    """A text table (scikit-learn's layout) of per-class P = TP/(TP+FP), R = TP/(TP+FN),
    F1 = 2PR/(P+R) and support, then accuracy (or the micro average when ``labels`` leaves
    classes out), the macro and the support-weighted averages.

    Shapes: y_true, y_pred (n,) labels; ``labels`` (K,) picks and orders the rows,
    ``target_names`` (K,) names them. ``output_dict=True`` returns
    {name: {'precision', 'recall', 'f1-score', 'support'}, 'accuracy': float, ...} instead.
    """
    op = "classification_report"
    t, p = label_pair(y_true, y_pred, op)
    present = unique_labels(t, p)
    if labels is None:
        classes, micro_is_accuracy = present, True
    else:
        classes = check_class_list(labels, op)
        micro_is_accuracy = set(classes.tolist()) >= set(present.tolist())
    if target_names is None:
        names = [str(c) for c in classes.tolist()]
    else:
        names = [str(n) for n in target_names]
        if len(names) != len(classes):
            raise ValueError(f"{op}: {len(classes)} classes but {len(names)} target_names; pass "
                             "labels to say which classes the names are for")
    prf = dict(labels=classes, sample_weight=sample_weight, zero_division=zero_division, op=op)
    prec, rec, f, support = precision_recall_fscore_support(t, p, average=None, **prf)
    total = support.sum()
    averages = []
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else average + " avg"
        averages.append((heading, *precision_recall_fscore_support(t, p, average=average, **prf)[:3]))
    if output_dict:
        report = {n: dict(zip(_HEADERS, (float(a), float(b), float(c), float(s))))
                  for n, a, b, c, s in zip(names, prec, rec, f, support)}
        for heading, a, b, c in averages:
            report[heading] = float(c) if heading == "accuracy" else \
                dict(zip(_HEADERS, (a, b, c, float(total))))
        return report
    width = max(max(len(n) for n in names), len("weighted avg"), digits)
    lines = ["{:>{w}s} ".format("", w=width) + "".join(f" {h:>9}" for h in _HEADERS), ""]
    row = "{:>{w}s} " + " {:>9.{d}f}" * 3 + " {:>9}"
    for n, a, b, c, s in zip(names, prec, rec, f, support):
        lines.append(row.format(n, a, b, c, _count(s), w=width, d=digits))
    lines.append("")
    for heading, a, b, c in averages:
        if heading == "accuracy":
            lines.append("{:>{w}s} ".format(heading, w=width) + f" {'':>9} {'':>9}"
                         + f" {c:>9.{digits}f} {_count(total):>9}")
        else:
            lines.append(row.format(heading, a, b, c, _count(total), w=width, d=digits))
    return "\n".join(lines) + "\n"


def _count(s):
    """A support count as printed: an int, or a float total of sample weights."""
    return np.asarray(s).item()
