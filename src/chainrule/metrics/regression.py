"""Regression metrics: MSE, RMSE, MAE, R² (scikit-learn's multi-output conventions)."""
from __future__ import annotations

import warnings

import numpy as np

from ._inputs import as_array, weights
from .classification import UndefinedMetricWarning

_MULTIOUTPUT = ("raw_values", "uniform_average")


def _targets(y_true, y_pred, sample_weight, multioutput, op, allowed=_MULTIOUTPUT):
    """(y_true, y_pred) as (n, m) float arrays — (n,) and (n, 1) both mean one output —,
    the weights (n,) or None, and the output weights (m,) or a string."""
    t = as_array(y_true, "y_true", op)
    p = as_array(y_pred, "y_pred", op)
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{op}: {name} must be numeric, got dtype {a.dtype}")
        if a.ndim not in (1, 2):
            raise ValueError(f"{op}: {name} must have shape (n,) or (n, n_outputs), got {a.shape}")
    t = t.reshape(len(t), -1).astype(np.float64)
    p = p.reshape(len(p), -1).astype(np.float64)
    if t.shape != p.shape:
        raise ValueError(f"{op}: y_true and y_pred must have the same shape, got "
                         f"{as_array(y_true, 'y_true', op).shape} and "
                         f"{as_array(y_pred, 'y_pred', op).shape}")
    if t.shape[0] == 0:
        raise ValueError(f"{op}: empty inputs (0 samples)")
    w = weights(sample_weight, t.shape[0], op)
    if isinstance(multioutput, str):
        if multioutput not in allowed:
            raise ValueError(f"{op}: multioutput must be one of {allowed} or an array of "
                             f"{t.shape[1]} output weights, got {multioutput!r}")
    else:
        multioutput = as_array(multioutput, "multioutput", op).astype(np.float64).reshape(-1)
        if multioutput.shape != (t.shape[1],):
            raise ValueError(f"{op}: multioutput has {multioutput.size} weights for "
                             f"{t.shape[1]} outputs")
    return t, p, w, multioutput


def _combine(per_output, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        return float(per_output.mean())
    return float(np.average(per_output, weights=multioutput))


def mean_squared_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """MSE = (1/n) Σ_i (y_i − ŷ_i)² (weighted: Σ w_i (y_i − ŷ_i)² / Σ w_i).

    Shapes: y_true, y_pred (n,) or (n, m) (an (n,) and an (n, 1) array may be mixed). For m
    outputs: 'uniform_average' (default) averages the m MSEs, 'raw_values' returns them (m,),
    an (m,) array weighs them.
    """
    t, p, w, mo = _targets(y_true, y_pred, sample_weight, multioutput, "mean_squared_error")
    return _combine(np.average((t - p) ** 2, axis=0, weights=w), mo)


def root_mean_squared_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """RMSE = √MSE per output (then averaged as ``multioutput`` says). Shapes as MSE."""
    t, p, w, mo = _targets(y_true, y_pred, sample_weight, multioutput, "root_mean_squared_error")
    return _combine(np.sqrt(np.average((t - p) ** 2, axis=0, weights=w)), mo)


def mean_absolute_error(y_true, y_pred, sample_weight=None, multioutput="uniform_average"):
    """MAE = (1/n) Σ_i |y_i − ŷ_i| (weighted: Σ w_i |y_i − ŷ_i| / Σ w_i). Shapes as MSE."""
    t, p, w, mo = _targets(y_true, y_pred, sample_weight, multioutput, "mean_absolute_error")
    return _combine(np.average(np.abs(t - p), axis=0, weights=w), mo)


def r2_score(y_true, y_pred, sample_weight=None, multioutput="uniform_average",
             force_finite: bool = True):
    """R² = 1 − Σ_i (y_i − ŷ_i)² / Σ_i (y_i − ȳ)², the share of the target's variance explained
    (1 is perfect, 0 is predicting the mean, negative is worse than that).

    Shapes as MSE; 'variance_weighted' weighs the outputs' R² by their variances. A constant
    target has R² = 1 if predicted exactly, else 0 (``force_finite=False``: nan / −inf).
    Fewer than two samples: nan, with a warning.
    """
    op = "r2_score"
    t, p, w, mo = _targets(y_true, y_pred, sample_weight, multioutput, op,
                           _MULTIOUTPUT + ("variance_weighted",))
    if t.shape[0] < 2:
        warnings.warn(f"{op}: R² is not well-defined with fewer than two samples",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    ww = 1.0 if w is None else w[:, None]
    num = np.sum(ww * (t - p) ** 2, axis=0)
    den = np.sum(ww * (t - np.average(t, axis=0, weights=w)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = 1 - num / den
    if force_finite:
        scores = np.where(den != 0, scores, np.where(num == 0, 1.0, 0.0))
        scores = np.where((num == 0) & (den != 0), 1.0, scores)
    if isinstance(mo, str) and mo == "variance_weighted":
        return float(np.average(scores, weights=den)) if np.any(den != 0) else float(scores.mean())
    return _combine(scores, mo)
