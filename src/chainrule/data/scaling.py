"""Feature scaling fitted on the training split: StandardScaler and MinMaxScaler.

Fit on the training rows only, then transform the training, validation and test rows with the
training statistics — fitting on all rows would leak the held-out data into the model.
NaNs are treated as missing: ignored by ``fit``, kept by ``transform``.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor

_EPS = np.finfo(np.float64).eps


def _as_2d(X, op):
    is_tensor = isinstance(X, Tensor)
    arr = X.detach().numpy() if is_tensor else np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{op}: X must be numeric, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{op}: expected X of shape (n_samples, n_features), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{op}: X has no samples (shape {arr.shape})")
    return arr, is_tensor


def _like(result, is_tensor, dtype):
    """The result in X's float type (float32 stays float32; integers become float64), as a
    tensor if X was one."""
    result = result.astype(dtype if np.dtype(dtype).kind == "f" else np.float64, copy=False)
    return Tensor._make(np.ascontiguousarray(result)) if is_tensor else result


def _safe_scale(scale, constant=None):
    """Scales of (near-)constant features set to 1, so they are not blown up."""
    scale = scale.copy()
    small = scale < 10 * _EPS
    scale[small if constant is None else small | constant] = 1.0
    return scale


class _Scaler:
    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``: for the training split."""
        return self.fit(X).transform(X)

    def _check_fitted(self, X, op):
        if not hasattr(self, "n_features_in_"):
            raise RuntimeError(f"{op}: this scaler is not fitted; call fit on the training split "
                               "first")
        arr, is_tensor = _as_2d(X, op)
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(f"{op}: X has {arr.shape[1]} features, the scaler was fitted on "
                             f"{self.n_features_in_}")
        return arr, is_tensor

    @staticmethod
    def _fit_array(X, op):
        arr, _ = _as_2d(X, op)
        a = arr.astype(np.float64)
        if np.isinf(a).any():
            raise ValueError(f"{op}: X contains infinity")
        if np.isnan(a).all(axis=0).any():
            raise ValueError(f"{op}: a feature of X is all NaN")
        return a


class StandardScaler(_Scaler):
    """Standardisation z = (x − μ) / σ per feature, with the mean μ and the population standard
    deviation σ = √((1/n) Σ (x − μ)²) of the rows given to ``fit`` — the training split only.
    Constant features keep σ = 1 (they become 0). X: (n_samples, n_features), a tensor or an
    array; transforms return the same kind, float32 kept. Fitted: ``mean_``, ``var_``,
    ``scale_`` (n_features,), ``n_samples_seen_``.
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean, self.with_std = with_mean, with_std

    def fit(self, X, y=None) -> "StandardScaler":
        """Learn μ and σ of each feature from the training rows X (n, d)."""
        a = self._fit_array(X, "StandardScaler.fit")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, var = np.nanmean(a, axis=0), np.nanvar(a, axis=0)
        n = np.sum(~np.isnan(a), axis=0)
        self.n_samples_seen_ = int(n[0]) if np.all(n == n[0]) else n
        self.mean_ = mean if self.with_mean or self.with_std else None    # as scikit-learn
        self.var_ = var if self.with_std else None
        if self.with_std:
            constant = var <= n * _EPS * var + (n * mean * _EPS) ** 2    # rounding noise only
            self.scale_ = _safe_scale(np.sqrt(var), constant)
        else:
            self.scale_ = None
        self.n_features_in_ = a.shape[1]
        return self

    def transform(self, X):
        """z = (X − μ) / σ with the fitted μ, σ. X (n, d) → (n, d)."""
        arr, is_tensor = self._check_fitted(X, "StandardScaler.transform")
        out = arr.astype(np.float64)
        if self.with_mean:
            out = out - self.mean_
        if self.with_std:
            out = out / self.scale_
        return _like(out, is_tensor, arr.dtype)

    def inverse_transform(self, X):
        """x = z·σ + μ: back to the original units. X (n, d) → (n, d)."""
        arr, is_tensor = self._check_fitted(X, "StandardScaler.inverse_transform")
        out = arr.astype(np.float64)
        if self.with_std:
            out = out * self.scale_
        if self.with_mean:
            out = out + self.mean_
        return _like(out, is_tensor, arr.dtype)


class MinMaxScaler(_Scaler):
    """Min-max scaling x' = (x − min) / (max − min) · (b − a) + a per feature into
    [a, b] = ``feature_range``, with min and max of the rows given to ``fit`` — the training
    split only (held-out rows may land outside [a, b]; ``clip=True`` clips them). Constant
    features map to a. Fitted: ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``,
    ``min_`` (x' = x·scale_ + min_).
    """

    def __init__(self, feature_range=(0, 1), clip: bool = False):
        if len(feature_range) != 2 or not feature_range[0] < feature_range[1]:
            raise ValueError(f"MinMaxScaler: feature_range must be (min, max) with min < max, got "
                             f"{tuple(feature_range)}")
        self.feature_range, self.clip = tuple(feature_range), clip

    def fit(self, X, y=None) -> "MinMaxScaler":
        """Learn each feature's min and max from the training rows X (n, d)."""
        a = self._fit_array(X, "MinMaxScaler.fit")
        self.data_min_, self.data_max_ = np.nanmin(a, axis=0), np.nanmax(a, axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        lo, hi = self.feature_range
        self.scale_ = (hi - lo) / _safe_scale(self.data_range_)
        self.min_ = lo - self.data_min_ * self.scale_
        self.n_samples_seen_ = a.shape[0]
        self.n_features_in_ = a.shape[1]
        return self

    def transform(self, X):
        """x' = x·scale_ + min_. X (n, d) → (n, d)."""
        arr, is_tensor = self._check_fitted(X, "MinMaxScaler.transform")
        out = arr.astype(np.float64) * self.scale_ + self.min_
        if self.clip:
            out = np.clip(out, *self.feature_range)
        return _like(out, is_tensor, arr.dtype)

    def inverse_transform(self, X):
        """x = (x' − min_) / scale_. X (n, d) → (n, d)."""
        arr, is_tensor = self._check_fitted(X, "MinMaxScaler.inverse_transform")
        return _like((arr.astype(np.float64) - self.min_) / self.scale_, is_tensor, arr.dtype)
