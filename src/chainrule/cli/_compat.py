"""The commands' access to data sets, splits, scalers and metrics.

They come from :mod:`chainrule.datasets`, :mod:`chainrule.data` and :mod:`chainrule.metrics`.
Where one of those is not importable in this installation, scikit-learn's function of the same
meaning is used instead (the bundled data sets come from scikit-learn anyway — the `datasets`
extra), so the commands keep working; the results are the same definitions.
"""
from __future__ import annotations

import importlib

import numpy as np


def _chainrule(module: str, name: str):
    try:
        return getattr(importlib.import_module(f"chainrule.{module}"), name)
    except (ImportError, AttributeError):
        return None


def _sklearn(module: str, name: str, what: str):
    try:
        return getattr(importlib.import_module(f"sklearn.{module}"), name)
    except ImportError:
        raise ImportError(f"{what} needs chainrule.{module.split('.')[0]} or scikit-learn: "
                          "pip install 'chainrule[datasets]'") from None


def _np(a):
    return a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else np.asarray(a)


def load_bundled(name: str):
    """(X, y) arrays of a data set scikit-learn ships: digits, iris, breast_cancer, diabetes."""
    fn = _chainrule("datasets", f"load_{name}")
    if fn is not None:
        return fn()
    return _sklearn("datasets", f"load_{name}", f"dataset {name!r}")(return_X_y=True)


def dataset_class(name: str):
    """chainrule.datasets.MNIST / FashionMNIST / CIFAR10 (no fallback: they read files)."""
    cls = _chainrule("datasets", name)
    if cls is None:
        raise ValueError(f"dataset: chainrule.datasets.{name} is not available in this "
                         "installation")
    return cls


def train_test_split(idx, test_size, stratify, seed):
    """Split the index array ``idx`` into (train, test) index arrays, stratified when asked."""
    fn = _chainrule("data", "train_test_split")
    if fn is None:
        fn = _sklearn("model_selection", "train_test_split", "splitting the data")
    a, b = fn(idx, test_size=test_size, stratify=stratify, random_state=seed)
    return _np(a), _np(b)


def kfold(k: int, stratified: bool, seed: int):
    name = "StratifiedKFold" if stratified else "KFold"
    cls = _chainrule("data", name) or _sklearn("model_selection", name, "k-fold selection")
    return cls(n_splits=k, shuffle=True, random_state=seed)


def scaler(kind: str):
    """A fresh StandardScaler / MinMaxScaler (fit on the training rows, then transform)."""
    name = {"standard": "StandardScaler", "minmax": "MinMaxScaler"}[kind]
    return (_chainrule("data", name) or _sklearn("preprocessing", name, "scaling"))()


_SKLEARN_METRICS = {"accuracy": "accuracy_score", "precision": "precision_score",
                    "recall": "recall_score", "f1": "f1_score", "log_loss": "log_loss",
                    "roc_auc": "roc_auc_score", "confusion_matrix": "confusion_matrix",
                    "mean_squared_error": "mean_squared_error",
                    "mean_absolute_error": "mean_absolute_error", "r2_score": "r2_score"}


def metric(name: str):
    """chainrule.metrics.<name>, or scikit-learn's metric of the same definition."""
    fn = _chainrule("metrics", name)
    if fn is not None:
        return lambda *a, **k: _np(fn(*a, **k))
    return _sklearn("metrics", _SKLEARN_METRICS[name], f"metric {name!r}")
