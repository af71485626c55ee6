# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%

# %% [markdown]
# # 3 · Generalized linear models and basis functions
#
# A **GLM** wraps a linear combination η = wᵀx + b in an exponential-family density
#
# $$p(y_n \mid x_n, w, \sigma^2) = \exp\Big[\frac{y_n \eta_n - A(\eta_n)}{\sigma^2}
#   + \log h(y_n, \sigma^2)\Big]$$
#
# (Gaussian: A = η²/2, identity link; Bernoulli: A = log(1 + e^η), logit link; Poisson:
# A = e^η, log link). A **basis-function model** replaces x by features with their own
# parameters: f(x; θ) = W φ(x; θ₂) + b.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import datasets, models, nn, optim

cr.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## Gaussian GLM = least squares
#
# With the identity link and A = η²/2, maximising the likelihood is minimising Σ(y − η)²:
# the GLM's coefficients equal NumPy's least-squares solution on the diabetes data.

# %%
Xd, yd = datasets.load_diabetes()
Xd, yd = Xd.numpy().astype(np.float64), yd.numpy().astype(np.float64)
gauss = models.GLM("gaussian").fit(Xd, yd)
A1 = np.hstack([Xd, np.ones((len(Xd), 1))])
lstsq = np.linalg.lstsq(A1, yd, rcond=None)[0]
print("GLM coef[:3]", gauss.coef_[:3], " lstsq", lstsq[:3])
assert np.allclose(np.append(gauss.coef_, gauss.intercept_), lstsq, rtol=1e-6, atol=1e-6)

# %% [markdown]
# ## Bernoulli GLM (logistic regression) and the deck's density
#
# At the maximum the score equations hold: Σₙ (yₙ − μₙ) xₙ = 0 with μ = σ(η). The model's
# log-likelihood equals the density above summed over the data, with A(η) = log(1 + e^η),
# σ² = 1 and h = 1.

# %%
Xb, yb = datasets.load_breast_cancer()
Xb, yb = Xb.numpy().astype(np.float64)[:, :5], yb.numpy().astype(np.float64)
Xb = (Xb - Xb.mean(0)) / Xb.std(0)
perm = rng.permutation(len(yb))
train, test = perm[:400], perm[400:]
logit = models.GLM("bernoulli").fit(Xb[train], yb[train])
mu = logit.predict(Xb[train])
score = Xb[train].T @ (yb[train] - mu)
print("max |score| at the fit:", np.abs(score).max(), " Newton iterations:", logit.n_iter_)
assert np.abs(score).max() < 1e-6
assert abs((yb[train] - mu).sum()) < 1e-6              # the intercept's score equation

eta = logit.linear_predictor(Xb[train])
density = np.exp(yb[train] * eta - np.log1p(np.exp(eta)))     # p(yₙ | xₙ) from the card
assert np.isclose(np.log(density).sum(), logit.log_likelihood(Xb[train], yb[train]))
bernoulli_accuracy = float(np.mean((logit.predict(Xb[test]) >= 0.5) == yb[test]))
print("held-out accuracy:", bernoulli_accuracy)
assert bernoulli_accuracy > 0.85

# %% [markdown]
# ## Poisson GLM recovers the rate of simulated counts
#
# Counts y ~ Poisson(exp(0.5 + 0.8x₁ − 0.4x₂)); the fitted coefficients come back.

# %%
Xp = rng.standard_normal((3000, 2))
w_true, b_true = np.array([0.8, -0.4]), 0.5
yp = rng.poisson(np.exp(Xp @ w_true + b_true)).astype(np.float64)
pois = models.GLM("poisson").fit(Xp, yp)
print("w", pois.coef_, "b", pois.intercept_)
assert np.allclose(pois.coef_, w_true, atol=0.05) and abs(pois.intercept_ - b_true) < 0.05

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].hist([logit.predict(Xb[test])[yb[test] == k] for k in (0, 1)], bins=15,
             label=["y = 0", "y = 1"])
axes[0].set_xlabel("μ = σ(η)"), axes[0].legend(), axes[0].set_title("Bernoulli GLM (held out)")
axes[1].scatter(Xp[:300] @ w_true + b_true, yp[:300], s=6, alpha=0.5, label="counts")
grid = np.linspace(-2.5, 3, 50)
axes[1].plot(grid, np.exp(grid), "k", label="exp(η)")
axes[1].set_xlabel("η"), axes[1].legend(), axes[1].set_title("Poisson GLM")
plt.show()

# %% [markdown]
# ## Basis functions: f(x; θ) = W φ(x; θ₂) + b
#
# A straight line cannot follow y = x² − x; degree-2 polynomial features make it a linear
# problem in φ(x) = (x, x²), solved exactly. Gaussian RBFs φₖ(x) = exp(−(x − cₖ)²/2sₖ²), whose
# centres and widths θ₂ are trained too, fit a wiggly curve that neither can.

# %%
x = cr.linspace(-2, 2, 120).reshape(-1, 1)
y_quad = x ** 2 - x
y_wave = cr.sin(3 * x) * cr.exp(-(x ** 2) / 2)


def fit(model, y, steps=300, lr=0.05):
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with cr.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


line = nn.Linear(1, 1)
poly = models.basis_model(models.PolynomialFeatures(2), 1, in_features=1)
mse_line, mse_poly = fit(line, y_quad), fit(poly, y_quad, steps=600)
print(f"x² − x: linear MSE {mse_line:.3f}, polynomial-basis MSE {mse_poly:.2e}")
assert mse_poly < 1e-3 < mse_line

rbf = models.basis_model(models.RBF(1, 12), 1, in_features=1)
with cr.no_grad():                       # spread the centres over the interval to start
    rbf[0].centers.copy_(cr.linspace(-2, 2, 12).reshape(-1, 1))
    rbf[0].log_widths.fill_(math.log(0.4))
mse_rbf, mse_line_wave = fit(rbf, y_wave, steps=400), fit(nn.Linear(1, 1), y_wave)
print(f"wave: RBF MSE {mse_rbf:.2e}, linear MSE {mse_line_wave:.3f}")
assert mse_rbf < mse_line_wave / 20

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
with cr.no_grad():
    for ax, y, fits in ((axes[0], y_quad, {"linear": line, "poly φ": poly}),
                        (axes[1], y_wave, {"RBF φ": rbf})):
        ax.plot(x.numpy(), y.numpy(), "k", lw=3, alpha=0.3, label="target")
        for name, m in fits.items():
            ax.plot(x.numpy(), m(x).numpy(), label=name)
        ax.legend(fontsize=8)
axes[0].set_title("y = x² − x"), axes[1].set_title("y = sin 3x · e^(−x²/2)")
plt.show()
