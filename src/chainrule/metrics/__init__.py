"""Evaluation metrics (the deck's "select metrics" step), with scikit-learn's conventions.

Inputs may be chainrule tensors, NumPy arrays or lists: class labels, or scores/probabilities
where the metric needs them. Pure NumPy; scikit-learn is only the tests' oracle. Each function
also answers to scikit-learn's name (``accuracy_score``, ``f1_score``, ``roc_auc_score``, ...).
"""
from .classification import (UndefinedMetricWarning, accuracy, f1, fbeta, precision,
                             precision_recall_fscore_support, recall)
from .confusion import confusion_matrix
from .probability import log_loss
from .ranking import roc_auc, top_k_accuracy
from .regression import mean_absolute_error, mean_squared_error, r2_score, root_mean_squared_error
from .report import classification_report

accuracy_score, precision_score, recall_score, f1_score, fbeta_score = (
    accuracy, precision, recall, f1, fbeta)
roc_auc_score, top_k_accuracy_score = roc_auc, top_k_accuracy

__all__ = ["accuracy", "top_k_accuracy", "precision", "recall", "f1", "fbeta",
           "precision_recall_fscore_support", "confusion_matrix", "classification_report",
           "roc_auc", "log_loss", "mean_squared_error", "root_mean_squared_error",
           "mean_absolute_error", "r2_score", "UndefinedMetricWarning",
           "accuracy_score", "precision_score", "recall_score", "f1_score", "fbeta_score",
           "roc_auc_score", "top_k_accuracy_score"]
