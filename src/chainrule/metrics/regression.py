"""Regression metrics: MSE, MAE, R²."""
from __future__ import annotations

import numpy as np

from ._inputs import as_array


def _pair(y_true, y_pred, op):
    t, p = as_array(y_true, "y_true", op).astype(np.float64), as_array(y_pred, "y_pred", op).astype(np.float64)
    if t.shape != p.shape:
        raise ValueError(f"{op}: y_true and y_pred must have the same shape, got {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError(f"{op}: empty inputs")
    return t, p


def mean_squared_error(y_true, y_pred) -> float:
    """MSE = (1/n) Σ (y − ŷ)²."""
    t, p = _pair(y_true, y_pred, "mean_squared_error")
    return float(np.mean((t - p) ** 2))


def mean_absolute_error(y_true, y_pred) -> float:
    """MAE = (1/n) Σ |y − ŷ|."""
    t, p = _pair(y_true, y_pred, "mean_absolute_error")
    return float(np.mean(np.abs(t - p)))


def r2_score(y_true, y_pred) -> float:
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (1.0 is perfect; a constant target gives 1.0 if predicted
    exactly, else 0.0, as scikit-learn). Multi-output targets average the per-column R²."""
    t, p = _pair(y_true, y_pred, "r2_score")
    if t.ndim == 1:
        t, p = t[:, None], p[:, None]
    ss_res = ((t - p) ** 2).sum(0)
    ss_tot = ((t - t.mean(0)) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1),
                          np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())
