"""Generalized linear models, from the deck's exponential-family density

    p(y | x, w, σ²) = exp[ (y η − A(η)) / σ² + log h(y, σ²) ],   η = wᵀx + b,

where A is the log-partition function: its derivative A'(η) = E[y] = μ is the mean and
A''(η) = Var[y]/σ². With the canonical link, η = g(μ) and:

    family      link g(μ)          A(η)            log h(y, σ²)
    gaussian    identity  μ        η²/2            −y²/(2σ²) − ½ log(2πσ²)
    bernoulli   logit log μ/(1−μ)  log(1 + e^η)    0                     (σ² = 1)
    poisson     log      log μ     e^η             −log y!               (σ² = 1)

Fitting maximises the log-likelihood by Newton's method: θ ← θ − H⁻¹∇ℓ, with the gradient
and Hessian of the negative log-likelihood from chainrule's autodiff (reverse mode twice:
each Hessian row is the gradient of one gradient component, ``create_graph=True``). For the
canonical link this is IRLS, since H = Xᵀ diag(A''(η)) X.
"""
from __future__ import annotations

import math

import numpy as np

from .. import autograd
from ..creation import tensor
from ..ops import exp, log1p, relu
from ..tensor import Tensor

_CANONICAL = {"gaussian": "identity", "bernoulli": "logit", "poisson": "log"}


def _log_partition(family, eta):
    if family == "gaussian":
        return 0.5 * eta * eta
    if family == "bernoulli":
        return relu(eta) + log1p(exp(-eta.abs()))   # log(1 + e^η) without overflow
    return exp(eta)


def _np(x, name):
    arr = x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)
    return arr.astype(np.float64)


class GLM:
    """A generalized linear model fitted by maximum likelihood (see the module docstring).

    Args:
        family: 'gaussian', 'bernoulli' or 'poisson'.
        link: None or the family's canonical link ('identity', 'logit', 'log').
        max_iter, tol: Newton iterations and the gradient-norm tolerance.

    After ``fit(X, y)``: ``coef_`` (n_features,), ``intercept_``, ``n_iter_``, ``scale_`` (σ²:
    the MLE RSS/n for the Gaussian, 1 otherwise). ``predict`` returns the mean μ = g⁻¹(η).
    """

    def __init__(self, family: str = "gaussian", link=None, max_iter: int = 100, tol: float = 1e-10):
        if family not in _CANONICAL:
            raise ValueError(f"GLM: family must be one of {sorted(_CANONICAL)}, got {family!r}")
        if link is not None and link != _CANONICAL[family]:
            raise ValueError(f"GLM: only the canonical link is supported; for {family!r} that is "
                             f"{_CANONICAL[family]!r}, got {link!r}")
        self.family, self.link = family, _CANONICAL[family]
        self.max_iter, self.tol = max_iter, tol

    # ----------------------------------------------------------------- likelihood
    def _nll(self, theta, X, y):
        """−Σ_n (y_n η_n − A(η_n)): the negative log-likelihood up to terms free of θ."""
        eta = X @ theta[:-1] + theta[-1]
        return (_log_partition(self.family, eta) - y * eta).sum()

    def _check(self, X, y):
        X, y = _np(X, "X"), _np(y, "y").reshape(-1)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"GLM.fit: expected X (n, d) and y (n,), got {X.shape} and {y.shape}")
        if self.family == "bernoulli" and not np.all(np.isin(y, (0, 1))):
            raise ValueError("GLM.fit: the bernoulli family needs 0/1 targets")
        if self.family == "poisson" and (np.any(y < 0) or np.any(y != np.round(y))):
            raise ValueError("GLM.fit: the poisson family needs non-negative integer counts")
        return X, y

    def fit(self, X, y) -> "GLM":
        """Maximise the likelihood of y (n,) given X (n, d) by Newton's method with step halving."""
        X, y = self._check(X, y)
        Xt, yt = tensor(X), tensor(y)
        theta = np.zeros(X.shape[1] + 1)
        if self.family == "poisson":
            theta[-1] = math.log(max(y.mean(), 1e-12))
        elif self.family == "gaussian":
            theta[-1] = y.mean()
        loss = self._nll(tensor(theta), Xt, yt).item()
        for it in range(1, self.max_iter + 1):
            grad, hess = self._grad_hessian(theta, Xt, yt)
            if np.max(np.abs(grad)) < self.tol * max(1.0, len(y)):
                break
            step = np.linalg.solve(hess + 1e-12 * np.eye(len(theta)), grad)
            t = 1.0
            while t > 1e-10:  # step halving keeps every iterate an improvement
                new = theta - t * step
                new_loss = self._nll(tensor(new), Xt, yt).item()
                if np.isfinite(new_loss) and new_loss <= loss:
                    break
                t /= 2
            if abs(loss - new_loss) <= 1e-15 * max(1.0, abs(loss)):
                theta, loss = new, new_loss
                break
            theta, loss = new, new_loss
        self.n_iter_ = it
        self.coef_, self.intercept_ = theta[:-1].copy(), float(theta[-1])
        eta = X @ self.coef_ + self.intercept_
        self.scale_ = float(np.mean((y - eta) ** 2)) if self.family == "gaussian" else 1.0
        return self

    def _grad_hessian(self, theta, X, y):
        """∇ and ∇² of the NLL at θ by reverse mode (the Hessian row by row)."""
        th = tensor(theta, requires_grad=True)
        (g,) = autograd.grad(self._nll(th, X, y), th, create_graph=True)
        rows = [autograd.grad(g[i], th, retain_graph=True)[0].numpy() for i in range(len(theta))]
        return g.detach().numpy(), np.stack(rows)

    # ----------------------------------------------------------------- using the fit
    def linear_predictor(self, X) -> np.ndarray:
        """η = Xw + b."""
        if not hasattr(self, "coef_"):
            raise RuntimeError("GLM: call fit before predict")
        return _np(X, "X") @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        """The mean μ = g⁻¹(η): η, σ(η) or e^η."""
        eta = self.linear_predictor(X)
        if self.family == "bernoulli":
            return 1 / (1 + np.exp(-eta))
        return np.exp(eta) if self.family == "poisson" else eta

    def predict_proba(self, X) -> np.ndarray:
        """For the bernoulli family: [P(y=0), P(y=1)] per row, shape (n, 2)."""
        if self.family != "bernoulli":
            raise ValueError("GLM.predict_proba: only for the bernoulli family")
        p = self.predict(X)
        return np.stack([1 - p, p], axis=1)

    def log_likelihood(self, X, y) -> float:
        """Σ_n log p(y_n | x_n) including log h(y, σ²), with σ² = ``scale_``."""
        X, y = self._check(X, y)
        eta = self.linear_predictor(X)
        if self.family == "gaussian":
            s2 = self.scale_
            return float(np.sum((y * eta - eta ** 2 / 2) / s2 - y ** 2 / (2 * s2)
                                - 0.5 * np.log(2 * np.pi * s2)))
        if self.family == "bernoulli":
            return float(np.sum(y * eta - np.logaddexp(0, eta)))
        from math import lgamma
        log_fact = np.array([lgamma(v + 1) for v in y])
        return float(np.sum(y * eta - np.exp(eta) - log_fact))

    def deviance(self, X, y) -> float:
        """2·(ℓ_saturated − ℓ_model) with σ² = 1: Σ(y−μ)², −2Σ[y log μ + (1−y) log(1−μ)],
        or 2Σ[y log(y/μ) − (y − μ)]."""
        X, y = self._check(X, y)
        mu = self.predict(X)
        if self.family == "gaussian":
            return float(np.sum((y - mu) ** 2))
        if self.family == "bernoulli":
            eta = self.linear_predictor(X)
            return float(2 * np.sum(np.logaddexp(0, eta) - y * eta))
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
        return float(2 * np.sum(ylogy - (y - mu)))
