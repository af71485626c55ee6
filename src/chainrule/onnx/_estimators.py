"""The scikit-learn-style models (fitted by NumPy code, not Modules) as Modules to export:
their prediction functions are small graphs of chainrule primitives."""
from __future__ import annotations

import numpy as np

from .. import nn
from ..creation import tensor
from ..models.glm import GLM
from ..models.perceptron import Perceptron
from ..nn.functional.activation import heaviside
from ..ops import exp, sigmoid


class _Linear(nn.Module):
    """η = Xw + b from a fitted estimator's ``coef_`` (d,) and ``intercept_``, in ``dtype``."""

    def __init__(self, coef, intercept, dtype):
        super().__init__()
        self.linear = nn.Linear(len(coef), 1)
        self.linear.weight._data = np.asarray(coef, dtype).reshape(1, -1).copy()
        self.linear.bias._data = np.asarray([intercept], dtype)

    def eta(self, x):
        return self.linear(x).squeeze(-1)


class GLMMean(_Linear):
    """A fitted GLM's ``predict``: μ = g⁻¹(Xw + b) — η, σ(η) or e^η.  (N, d) -> (N,)."""

    def __init__(self, glm, dtype):
        super().__init__(glm.coef_, glm.intercept_, dtype)
        self.family = glm.family

    def forward(self, x):
        eta = self.eta(x)
        if self.family == "bernoulli":
            return sigmoid(eta)
        return exp(eta) if self.family == "poisson" else eta


class PerceptronStep(_Linear):
    """A fitted perceptron's decision: H(Xw + b) with H(0) = 1 (``predict``'s wᵀx + b ≥ 0),
    as 0/1 in the input's floating dtype.  (N, d) -> (N,)."""

    def forward(self, x):
        eta = self.eta(x)
        return heaviside(eta, tensor(1.0, dtype=eta.dtype))


def as_module(model, args):
    """``model`` itself, or the Module computing a fitted GLM's or Perceptron's prediction in
    the dtype of the first example argument."""
    if not isinstance(model, (GLM, Perceptron)):
        if not callable(model):
            raise TypeError(f"chainrule.onnx.export: model must be an nn.Module, a function, a "
                            f"fitted GLM or Perceptron, got {type(model).__name__}")
        return model
    if not hasattr(model, "coef_"):
        raise RuntimeError(f"chainrule.onnx.export: the {type(model).__name__} is not fitted; "
                           "call fit first")
    dtype = args[0]._data.dtype if args and hasattr(args[0], "_data") else np.float32
    if dtype.kind != "f":
        dtype = np.dtype(np.float32)
    return GLMMean(model, dtype) if isinstance(model, GLM) else PerceptronStep(model.coef_,
                                                                              model.intercept_,
                                                                              dtype)

