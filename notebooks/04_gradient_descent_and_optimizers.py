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
# # 4 · Gradient descent and its variants, adaptive optimizers
#
# Plain gradient descent θₜ₊₁ = θₜ − ηₜ gₜ, then:
#
# * **batch / mini-batch / stochastic**: how many samples estimate gₜ;
# * **momentum**: vₜ = γ vₜ₋₁ + ηₜ gₜ, θₜ₊₁ = θₜ − vₜ;
# * **Adagrad**: sₜ = Σ gₜ² per parameter, step η gₜ / √sₜ — which only shrinks;
# * **RMSprop**: a decaying average of gₜ² instead of the sum; **Adam**: decaying first and
#   second moments.
#
# Each update rule is written out by hand and checked against `chainrule.optim`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.utils.data import DataLoader, TensorDataset

cr.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The update rules, by hand and by `chainrule.optim`
#
# A small least-squares loss; ten steps of each rule, written with the deck's formulas, land
# on the same parameters as the library's optimizer. (PyTorch's SGD keeps v/η instead of v;
# with a constant η the trajectory is the same.)

# %%
A = cr.tensor(rng.standard_normal((20, 3)))
b = cr.tensor(rng.standard_normal(20))


def loss_of(theta):
    return ((A @ theta - b) ** 2).mean()


def grad_of(theta_np):
    t = cr.tensor(theta_np, requires_grad=True)
    loss_of(t).backward()
    return t.grad.numpy()


def library(opt_cls, steps=10, **kw):
    theta = cr.zeros(3, dtype=cr.float64, requires_grad=True)
    opt = opt_cls([theta], **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss_of(theta).backward()
        opt.step()
    return theta.detach().numpy()


eta, gamma = 0.1, 0.9
th = np.zeros(3)                                   # plain gradient descent
for _ in range(10):
    th = th - eta * grad_of(th)
assert np.allclose(th, library(optim.SGD, lr=eta), atol=1e-12)

th, v = np.zeros(3), np.zeros(3)                   # momentum
for _ in range(10):
    v = gamma * v + eta * grad_of(th)
    th = th - v
assert np.allclose(th, library(optim.SGD, lr=eta, momentum=gamma), atol=1e-12)

th, s = np.zeros(3), np.zeros(3)                   # Adagrad
for _ in range(10):
    g = grad_of(th)
    s = s + g ** 2
    th = th - eta * g / (np.sqrt(s) + 1e-10)
assert np.allclose(th, library(optim.Adagrad, lr=eta), atol=1e-10)

th, m, s = np.zeros(3), np.zeros(3), np.zeros(3)   # Adam
b1, b2 = 0.9, 0.999
for t in range(1, 11):
    g = grad_of(th)
    m, s = b1 * m + (1 - b1) * g, b2 * s + (1 - b2) * g ** 2
    th = th - eta * (m / (1 - b1 ** t)) / (np.sqrt(s / (1 - b2 ** t)) + 1e-8)
assert np.allclose(th, library(optim.Adam, lr=eta), atol=1e-10)
print("SGD, momentum, Adagrad and Adam match their formulas")

# %% [markdown]
# ## Batch, mini-batch and stochastic gradient descent
#
# Linear regression on 512 samples, 5 epochs each. Per epoch, full batch makes one update,
# mini-batches of 32 make 16, stochastic makes 512: more updates reach a lower loss in the same
# epochs, but single samples cannot use vectorised hardware, so an epoch takes far longer and the
# path is erratic.

# %%
n, d = 512, 10
Xr = cr.tensor(rng.standard_normal((n, d)).astype(np.float32))
w_true = cr.tensor(rng.standard_normal((d, 1)).astype(np.float32))
yr = Xr @ w_true + 0.1 * cr.randn(n, 1)


def run_gd(batch_size, epochs=5, lr=0.05):
    cr.manual_seed(1)
    model = nn.Linear(d, 1)
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(Xr, yr), batch_size=batch_size, shuffle=True)
    curve, t0 = [], time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = nn.functional.mse_loss(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            curve.append(loss.item())
    with cr.no_grad():
        final = nn.functional.mse_loss(model(Xr), yr).item()
    return curve, final, (time.perf_counter() - t0) / epochs


results = {name: run_gd(bs) for name, bs in
           (("full batch", n), ("mini-batch (32)", 32), ("stochastic (1)", 1))}
for name, (curve, final, per_epoch) in results.items():
    print(f"{name:16s} updates {len(curve):5d}  final loss {final:.4f}  "
          f"{per_epoch * 1e3:.1f} ms/epoch")
final = {k: r[1] for k, r in results.items()}
per_epoch = {k: r[2] for k, r in results.items()}
assert final["mini-batch (32)"] < final["full batch"]
assert final["stochastic (1)"] < final["full batch"]
assert per_epoch["stochastic (1)"] > 3 * per_epoch["full batch"]

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, (curve, _, _) in results.items():
    ax.semilogy(np.linspace(0, 5, len(curve)), curve, lw=1, label=name)
ax.set_xlabel("epoch"), ax.set_ylabel("batch loss"), ax.legend()
plt.show()

# %% [markdown]
# ## Optimizers on a convex bowl and a non-convex surface
#
# f(x, y) = ½(x² + 10y²) is an elongated valley: plain SGD zig-zags across it, momentum
# accelerates along it. Adagrad's step shrinks as sₜ grows — its drawback — while RMSprop's
# decaying average keeps it alive. On the non-convex double well (x² − 1)² + 0.3x + ½y² the
# basin reached depends on where we start: a local minimum is not the global one.

# %%
def bowl(p):
    return 0.5 * (p[0] ** 2 + 10 * p[1] ** 2)


def well(p):
    return (p[0] ** 2 - 1) ** 2 + 0.3 * p[0] + 0.5 * p[1] ** 2


def descend(fn, start, opt_cls, steps=150, **kw):
    p = cr.tensor(start, requires_grad=True)
    opt = opt_cls([p], **kw)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        fn(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


configs = {"SGD": (optim.SGD, {"lr": 0.02}), "momentum": (optim.SGD, {"lr": 0.02, "momentum": 0.9}),
           "Adagrad": (optim.Adagrad, {"lr": 0.5}), "RMSprop": (optim.RMSprop, {"lr": 0.05}),
           "Adam": (optim.Adam, {"lr": 0.1})}
paths = {k: descend(bowl, [-4.0, 1.5], c, **kw) for k, (c, kw) in configs.items()}
final_loss = {k: float(bowl(cr.tensor(p[-1]))) for k, p in paths.items()}
print({k: f"{v:.1e}" for k, v in final_loss.items()})
assert final_loss["momentum"] < 1e-3 < final_loss["SGD"]          # momentum accelerates
assert final_loss["Adam"] < 1e-2 and final_loss["RMSprop"] < 1e-2
# the effective learning rate of x: η/√sₜ, from the gradients g = (x, 10y) along each path
def ema(values, alpha):
    out, acc = [], 0.0
    for v in values:
        acc = alpha * acc + (1 - alpha) * v
        out.append(acc)
    return np.array(out)


g2 = {k: paths[k][:-1, 0] ** 2 for k in ("Adagrad", "RMSprop")}
rate = {"Adagrad": 0.5 / (np.sqrt(np.cumsum(g2["Adagrad"])) + 1e-10),
        "RMSprop": 0.05 / (np.sqrt(ema(g2["RMSprop"], 0.99)) + 1e-8)}
print(f"effective rate, first → last step: Adagrad {rate['Adagrad'][0]:.3f} → "
      f"{rate['Adagrad'][-1]:.1e}, RMSprop {rate['RMSprop'][0]:.3f} → {rate['RMSprop'][-1]:.1e}")
assert np.all(np.diff(rate["Adagrad"]) <= 0)                   # Adagrad's only ever falls
assert rate["RMSprop"][-1] > 1.5 * rate["RMSprop"].min()      # RMSprop's recovers

left = descend(well, [-0.5, 1.0], optim.SGD, lr=0.05)[-1]
right = descend(well, [0.5, 1.0], optim.SGD, lr=0.05)[-1]
print("from x=−0.5 ends at", left.round(3), "; from x=+0.5 ends at", right.round(3))
assert left[0] < -0.9 and right[0] > 0.9                       # two different minima
assert float(well(cr.tensor(left))) < float(well(cr.tensor(right)))   # only one is global

gx, gy = np.meshgrid(np.linspace(-4.5, 1.5, 100), np.linspace(-2, 2, 100))
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].contour(gx, gy, 0.5 * (gx ** 2 + 10 * gy ** 2), levels=20, colors="0.8")
for k, p in paths.items():
    axes[0].plot(p[:, 0], p[:, 1], ".-", ms=2, lw=1, label=k)
axes[0].legend(fontsize=8), axes[0].set_title("convex bowl")
for k, r in rate.items():
    axes[1].semilogy(r, label=k)
axes[1].set_xlabel("step"), axes[1].set_ylabel("η / √sₜ  (x coordinate)")
axes[1].legend(fontsize=8)
axes[1].set_title("effective learning rate: Adagrad's only shrinks")
plt.show()
