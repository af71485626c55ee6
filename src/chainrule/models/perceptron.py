"""The perceptron (Rosenblatt 1958): f(x; θ) = I(wᵀx + b ≥ 0) = H(wᵀx + b).

It is trained by the perceptron learning rule, not by gradient descent — the step function's
gradient is zero almost everywhere. For every misclassified sample, w ← w + η (y − ŷ) x and
b ← b + η (y − ŷ). On linearly separable data this reaches zero errors in finitely many
epochs (Novikoff's theorem); a single perceptron draws one line, so on XOR it cannot.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor


class ConvergenceWarning(UserWarning):
    """A fit stopped at its iteration limit without converging."""


def _array(x, name, op):
    arr = x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} must be numeric, got dtype {arr.dtype}")
    return arr


class Perceptron:
    """A binary classifier ŷ = H(wᵀx + b) with scikit-learn's fit/predict/score.

    Args:
        max_epochs: passes over the data before giving up (never loops forever).
        lr: the learning rate η of the update w ← w + η (y − ŷ) x.
        shuffle, seed: visit samples in a random (seeded) order each epoch.

    After ``fit``: ``coef_`` (w, shape (n_features,)), ``intercept_`` (b), ``converged_``,
    ``n_epochs_`` and ``errors_`` (misclassifications per epoch). When it stops without
    converging, ``converged_`` is False and a :class:`ConvergenceWarning` is issued.
    """

    def __init__(self, max_epochs: int = 100, lr: float = 1.0, shuffle: bool = True, seed: int = 0):
        if max_epochs < 1:
            raise ValueError(f"Perceptron: max_epochs must be >= 1, got {max_epochs}")
        self.max_epochs, self.lr, self.shuffle, self.seed = max_epochs, lr, shuffle, seed

    def fit(self, X, y) -> "Perceptron":
        """Learn w, b from X (n_samples, n_features) and 0/1 labels y (n_samples,)."""
        X = _array(X, "X", "Perceptron.fit").astype(np.float64)
        y = _array(y, "y", "Perceptron.fit").reshape(-1)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"Perceptron.fit: expected X (n, d) and y (n,), got {X.shape} and {y.shape}")
        if not np.all(np.isin(y, (0, 1))):
            raise ValueError("Perceptron.fit: labels must be 0 or 1")
        rng = np.random.default_rng(self.seed)
        w, b = np.zeros(X.shape[1]), 0.0
        self.errors_, self.converged_ = [], False
        for epoch in range(1, self.max_epochs + 1):
            order = rng.permutation(len(y)) if self.shuffle else np.arange(len(y))
            errors = 0
            for i in order:  # the rule is sequential by nature: each update changes the next ŷ
                pred = 1.0 if X[i] @ w + b >= 0 else 0.0
                if pred != y[i]:
                    w += self.lr * (y[i] - pred) * X[i]
                    b += self.lr * (y[i] - pred)
                    errors += 1
            self.errors_.append(errors)
            if errors == 0:
                self.converged_ = True
                break
        self.n_epochs_ = epoch
        self.coef_, self.intercept_ = w, b
        if not self.converged_:
            warnings.warn(f"Perceptron did not converge in {self.max_epochs} epochs "
                          f"({errors} errors in the last one): the classes are not linearly "
                          "separable by this perceptron", ConvergenceWarning, stacklevel=2)
        return self

    def decision_function(self, X) -> np.ndarray:
        """wᵀx + b for each row of X."""
        if not hasattr(self, "coef_"):
            raise RuntimeError("Perceptron: call fit before predict")
        return _array(X, "X", "Perceptron.predict").astype(np.float64) @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        """H(wᵀx + b) ∈ {0, 1} (int64)."""
        return (self.decision_function(X) >= 0).astype(np.int64)

    def score(self, X, y) -> float:
        """Accuracy of predict(X) against y."""
        return float(np.mean(self.predict(X) == _array(y, "y", "Perceptron.score").reshape(-1)))
