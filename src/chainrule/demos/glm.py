"""Generalized linear models, the three families of the deck's GLM card fitted to real data:

    p(y | x, w, σ²) = exp[ (y η − A(η)) / σ² + log h(y, σ²) ],   η = wᵀx + b

  Gaussian   A(η) = η²/2          identity link   diabetes progression (scikit-learn's diabetes)
  Bernoulli  A(η) = log(1 + e^η)  logit link      malignant or benign (breast cancer)
  Poisson    A(η) = e^η           log link        counts drawn as y ~ Poisson(e^{xᵀw*}) on the
                                                  diabetes features (scikit-learn ships no count data)

``chainrule.models.GLM`` fits each by maximum likelihood with chainrule's autodiff; the
measured finding is how close its coefficients come to scikit-learn's unpenalized fits
(LinearRegression, LogisticRegression(C=inf), PoissonRegressor(alpha=0)) and how well
each model predicts held-out data.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule import models

from ._common import report, subplots


def _np(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _standardized(X, n_train):
    mu, sd = X[:n_train].mean(0), X[:n_train].std(0)
    return ((X - mu) / sd).astype(np.float64)


def problems(fast):
    """{family: (X_train, y_train, X_test, y_test)} on standardized real features."""
    from sklearn.datasets import load_breast_cancer, load_diabetes
    rng = np.random.default_rng(0)
    out = {}
    d = load_diabetes()
    order = rng.permutation(len(d.target))
    X, y = d.data[order], d.target[order].astype(np.float64)
    n = int(0.75 * len(y))
    Xs = _standardized(X, n)
    out["gaussian"] = (Xs[:n], y[:n], Xs[n:], y[n:])
    w_true = np.linspace(-0.3, 0.3, Xs.shape[1])
    counts = rng.poisson(np.exp(0.5 + Xs @ w_true)).astype(np.float64)
    out["poisson"] = (Xs[:n], counts[:n], Xs[n:], counts[n:])
    b = load_breast_cancer()
    order = rng.permutation(len(b.target))
    X, y = b.data[order], b.target[order].astype(np.float64)
    n = int(0.75 * len(y))
    # the first 10 features (the cell nuclei's mean measurements): with all 30 the classes are
    # almost separable and the unpenalized maximum-likelihood coefficients run off to infinity
    Xs = _standardized(X, n)[:, :10]
    out["bernoulli"] = (Xs[:n], y[:n], Xs[n:], y[n:])
    return out


def sklearn_coef(family, X, y):
    from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor
    if family == "gaussian":
        m = LinearRegression().fit(X, y)
        return m.coef_, m.intercept_
    if family == "bernoulli":
        m = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(X, y)   # unpenalized
        return m.coef_[0], m.intercept_[0]
    m = PoissonRegressor(alpha=0.0, tol=1e-10, max_iter=10000).fit(X, y)
    return m.coef_, m.intercept_


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    results, preds = {}, {}
    for family, (Xtr, ytr, Xte, yte) in problems(fast).items():
        glm = models.GLM(family)
        glm.fit(cr.tensor(Xtr), cr.tensor(ytr))
        coef = np.concatenate([_np(glm.coef_).reshape(-1), np.atleast_1d(_np(glm.intercept_))])
        c, b = sklearn_coef(family, Xtr, ytr)
        ref = np.concatenate([np.ravel(c), np.atleast_1d(b)])
        rel = float(np.max(np.abs(coef - ref)) / np.max(np.abs(ref)))
        pred = _np(glm.predict(cr.tensor(Xte))).reshape(-1)
        r = {"max_rel_coef_diff_vs_sklearn": rel, "n_train": len(ytr), "n_test": len(yte)}
        if family == "bernoulli":
            r["accuracy"] = float(np.mean((pred >= 0.5).astype(float) == yte)
                                  if pred.min() >= 0 and pred.max() <= 1 and not
                                  np.array_equal(np.unique(pred), [0, 1])
                                  else np.mean(pred == yte))
        else:
            r["r2"] = float(1 - np.sum((yte - pred) ** 2) / np.sum((yte - yte.mean()) ** 2))
        results[family], preds[family] = r, (yte, pred)

    fig, axes = subplots(1, 3, figsize=(13, 4))
    titles = {"gaussian": "Gaussian (identity): diabetes", "bernoulli": "Bernoulli (logit): "
              "breast cancer", "poisson": "Poisson (log): counts"}
    for ax, (fam, (yt, p)) in zip(axes, preds.items()):
        if fam == "bernoulli":
            ax.hist([p[yt == 0], p[yt == 1]], bins=20, label=["benign=0", "malignant=1"][::-1])
            ax.set_xlabel("predicted mean μ = σ(η)"), ax.legend(fontsize=8)
        else:
            ax.scatter(yt, p, s=8, alpha=0.6)
            lo, hi = min(yt.min(), p.min()), max(yt.max(), p.max())
            ax.plot([lo, hi], [lo, hi], "k--", lw=1)
            ax.set_xlabel("observed y"), ax.set_ylabel("predicted mean μ")
        ax.set_title(titles[fam], fontsize=10)

    finding = ("glm: coefficients vs scikit-learn (max rel. diff) " + ", ".join(
        f"{f} {r['max_rel_coef_diff_vs_sklearn']:.1e}" for f, r in results.items())
        + f"; held out: Gaussian R² {results['gaussian']['r2']:.2f}, Bernoulli accuracy "
        f"{results['bernoulli']['accuracy'] * 100:.1f}%, Poisson R² {results['poisson']['r2']:.2f}")
    return report({"families": results}, finding, fig, out_dir, "glm")
