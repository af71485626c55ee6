"""Feature scaling fitted on training data: StandardScaler and MinMaxScaler."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def _as_2d(X, op):
    is_tensor = isinstance(X, Tensor)
    arr = X.detach().numpy() if is_tensor else np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{op}: expected X of shape (n_samples, n_features), got {arr.shape}")
    return arr, is_tensor


def _like(result, is_tensor, dtype):
    result = result.astype(dtype if np.dtype(dtype).kind == "f" else np.float64, copy=False)
    return Tensor._make(result) if is_tensor else result


class _Scaler:
    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def _check_fitted(self, X, op):
        if not hasattr(self, "n_features_in_"):
            raise RuntimeError(f"{op}: call fit on the training split first")
        arr, is_tensor = _as_2d(X, op)
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(f"{op}: X has {arr.shape[1]} features, the scaler was fitted on "
                             f"{self.n_features_in_}")
        return arr, is_tensor


class StandardScaler(_Scaler):
    """z = (x − μ)/σ per feature, with μ, σ (population std) from the data given to ``fit``.
    Fit it on the training split only. Constant features keep σ = 1 (as scikit-learn)."""

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean, self.with_std = with_mean, with_std

    def fit(self, X, y=None) -> "StandardScaler":
        arr, _ = _as_2d(X, "StandardScaler.fit")
        a = arr.astype(np.float64)
        self.mean_ = a.mean(0) if self.with_mean else np.zeros(a.shape[1])
        std = a.std(0)
        self.scale_ = np.where(std > 0, std, 1.0) if self.with_std else np.ones(a.shape[1])
        self.var_ = a.var(0)
        self.n_features_in_ = a.shape[1]
        return self

    def transform(self, X):
        arr, is_tensor = self._check_fitted(X, "StandardScaler.transform")
        return _like((arr - self.mean_) / self.scale_, is_tensor, arr.dtype)

    def inverse_transform(self, X):
        arr, is_tensor = self._check_fitted(X, "StandardScaler.inverse_transform")
        return _like(arr * self.scale_ + self.mean_, is_tensor, arr.dtype)


class MinMaxScaler(_Scaler):
    """x' = (x − min)/(max − min)·(b − a) + a per feature, [a, b] = ``feature_range``, with
    min and max from the training split. Constant features map to a."""

    def __init__(self, feature_range=(0, 1), clip: bool = False):
        if feature_range[0] >= feature_range[1]:
            raise ValueError(f"MinMaxScaler: feature_range must be increasing, got {feature_range}")
        self.feature_range, self.clip = tuple(feature_range), clip

    def fit(self, X, y=None) -> "MinMaxScaler":
        arr, _ = _as_2d(X, "MinMaxScaler.fit")
        a = arr.astype(np.float64)
        self.data_min_, self.data_max_ = a.min(0), a.max(0)
        span = self.data_max_ - self.data_min_
        lo, hi = self.feature_range
        self.scale_ = (hi - lo) / np.where(span > 0, span, 1.0)
        self.min_ = lo - self.data_min_ * self.scale_
        self.n_features_in_ = a.shape[1]
        return self

    def transform(self, X):
        arr, is_tensor = self._check_fitted(X, "MinMaxScaler.transform")
        out = arr * self.scale_ + self.min_
        if self.clip:
            out = np.clip(out, *self.feature_range)
        return _like(out, is_tensor, arr.dtype)

    def inverse_transform(self, X):
        arr, is_tensor = self._check_fitted(X, "MinMaxScaler.inverse_transform")
        return _like((arr - self.min_) / self.scale_, is_tensor, arr.dtype)
