"""The small datasets bundled with scikit-learn, as tensors (the embedded default for examples)."""
from __future__ import annotations

import numpy as np

from .._extras import require
from ..creation import tensor


def _sklearn():
    return require("sklearn.datasets", "chainrule.datasets.load_* read the copies it ships")


def _classification(name, images=False):
    d = getattr(_sklearn(), name)()
    X = d.images[:, None] if images else d.data
    return tensor(np.asarray(X, np.float32)), tensor(np.asarray(d.target, np.int64))


def load_digits(images: bool = False):
    """8×8 handwritten digits: X (1797, 64) float32 in [0, 16] — or (1797, 1, 8, 8) with
    ``images=True`` — and y (1797,) int64 in 0..9."""
    return _classification("load_digits", images)


def load_iris():
    """Iris flowers: X (150, 4) float32 measurements, y (150,) int64 species 0..2."""
    return _classification("load_iris")


def load_breast_cancer():
    """Wisconsin breast cancer: X (569, 30) float32 features, y (569,) int64 (1 = benign)."""
    return _classification("load_breast_cancer")


def load_diabetes():
    """Diabetes progression (regression): X (442, 10) float32, y (442,) float32."""
    d = _sklearn().load_diabetes()
    return tensor(np.asarray(d.data, np.float32)), tensor(np.asarray(d.target, np.float32))
