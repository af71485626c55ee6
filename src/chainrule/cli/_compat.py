"""The commands' access to data sets, splits, scalers and metrics — :mod:`chainrule.datasets`,
:mod:`chainrule.data` and :mod:`chainrule.metrics` — in the one shape the commands use:
index arrays in, NumPy arrays out."""
from __future__ import annotations

import numpy as np


def to_numpy(a) -> np.ndarray:
    """A chainrule Tensor (anything with ``.numpy()``) or array-like as a NumPy array: the one
    conversion the commands use on what the library returns."""
    return a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else np.asarray(a)


def load_bundled(name: str):
    """(X, y) of a data set scikit-learn ships: digits, iris, breast_cancer, diabetes."""
    from .. import datasets
    return getattr(datasets, f"load_{name}")()


def dataset_class(name: str):
    """chainrule.datasets.MNIST / FashionMNIST / CIFAR10."""
    from .. import datasets
    return getattr(datasets, name)


def train_test_split(idx, test_size, stratify, seed):
    """Split the index array ``idx`` into (train, test) index arrays, stratified when asked."""
    from ..data import train_test_split as split
    a, b = split(idx, test_size=test_size, stratify=stratify, random_state=seed)
    return to_numpy(a), to_numpy(b)


def kfold(k: int, stratified: bool, seed: int):
    from .. import data
    cls = data.StratifiedKFold if stratified else data.KFold
    return cls(n_splits=k, shuffle=True, random_state=seed)


def scaler(kind: str):
    """A fresh StandardScaler / MinMaxScaler (fit on the training rows, then transform)."""
    from .. import data
    return {"standard": data.StandardScaler, "minmax": data.MinMaxScaler}[kind]()


def metric(name: str):
    """chainrule.metrics.<name>, returning NumPy values."""
    from .. import metrics
    fn = getattr(metrics, name)
    return lambda *a, **k: to_numpy(fn(*a, **k))
