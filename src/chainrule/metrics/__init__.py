"""Evaluation metrics (the deck's "select metrics" step), with scikit-learn's conventions.

Inputs may be chainrule tensors, NumPy arrays or lists: class labels, or scores/probabilities
where the metric needs them. Pure NumPy; scikit-learn is only the tests' oracle.
"""
from .classification import (accuracy, classification_report, confusion_matrix, f1, log_loss,
                             precision, precision_recall_f1, recall, roc_auc, top_k_accuracy)
from .regression import mean_absolute_error, mean_squared_error, r2_score

accuracy_score, f1_score, precision_score, recall_score = accuracy, f1, precision, recall
roc_auc_score = roc_auc

__all__ = ["accuracy", "top_k_accuracy", "precision", "recall", "f1", "precision_recall_f1",
           "confusion_matrix", "classification_report", "roc_auc", "log_loss",
           "mean_squared_error", "mean_absolute_error", "r2_score"]
