"""The scikit-learn-style models (GLM, Perceptron: ``fit``/``predict``, no optimizer, no epochs)
as the commands use them: their inputs, their test scores and the state a checkpoint keeps.
``train``, ``evaluate`` and ``run`` share these, so an estimator scores the same in all three."""
from __future__ import annotations

import numpy as np

import chainrule as cr

from ._compat import to_numpy


def flat_inputs(X: np.ndarray) -> cr.Tensor:
    """Samples (N, ...) as the (N, features) Tensor an estimator takes: images are flattened."""
    return cr.from_numpy(np.ascontiguousarray(X.reshape(len(X), -1)))


def estimator_scores(model, inputs, classification: bool = True) -> np.ndarray:
    """What the metrics read from an estimator: class probabilities (N, C) for a classifier
    with ``predict_proba`` (a binary one's (N,) probabilities become [1 − p, p]), otherwise
    its predictions (N,). ``inputs`` is the (N, features) Tensor of :func:`flat_inputs`."""
    if classification and hasattr(model, "predict_proba"):
        p = to_numpy(model.predict_proba(inputs))
        return p if p.ndim == 2 else np.stack([1 - p, p], axis=1)
    return to_numpy(model.predict(inputs))


def estimator_state(model) -> dict:
    """The fitted estimator's weights for the checkpoint: its ``state_dict()``, or else its
    scikit-learn-style ``coef_`` and ``intercept_`` as arrays."""
    if hasattr(model, "state_dict"):
        return dict(model.state_dict())
    return {k: to_numpy(getattr(model, k)) for k in ("coef_", "intercept_") if hasattr(model, k)}
