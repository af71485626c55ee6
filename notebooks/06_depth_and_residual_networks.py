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
# # 6 · Depth: vanishing and exploding gradients, residual networks
#
# Backpropagation multiplies one local Jacobian per layer. Through L layers the gradient
# reaching the first one is a product of L factors:
#
# * factors < 1 — small weights, or saturated activations (σ' ≤ ¼) — make it **vanish**;
# * factors > 1 — large weights — make it **explode**;
# * a **residual block** Output = F(x) + x has Jacobian I + ∂F/∂x: the identity carries the
#   gradient back whatever F does, so very deep nets keep training.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import datasets, nn, optim
from chainrule.nn.utils import clip_grad_norm_

cr.manual_seed(0)
X, y = datasets.load_digits()
X = X / 16.0
Xs, ys = X[:256], y[:256]


def layer_gradient_norms(model):
    """‖∂L/∂W‖ of every Linear layer, input side first."""
    model.zero_grad()
    nn.CrossEntropyLoss()(model(Xs), ys).backward()
    return [float(m.weight.grad.norm()) for m in model if isinstance(m, nn.Linear)]


def backward_signal_norms(model):
    """‖∂L/∂aₗ‖ at the output aₗ of every Linear layer, input side first: the signal that
    backpropagation carries down (‖∂L/∂Wₗ‖ also multiplies it by the forward activations)."""
    h, outs = Xs, []
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.Linear):
            h.retain_grad()
            outs.append(h)
    nn.CrossEntropyLoss()(h, ys).backward()
    return [float(a.grad.norm()) for a in outs]


def deep_mlp(depth, width, activation, gain=None):
    layers, d = [], 64
    for _ in range(depth):
        lin = nn.Linear(d, width)
        if gain is not None:                      # He initialisation scaled by `gain`
            nn.init.normal_(lin.weight, 0.0, gain * math.sqrt(2.0 / d))
            nn.init.zeros_(lin.bias)
        layers += [lin, activation()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, 10))


# %% [markdown]
# ## Vanishing: a deep sigmoid net against a deep ReLU net
#
# 15 hidden layers each. With sigmoids the first layers get gradients orders of magnitude
# smaller than the last; ReLU's derivative is 1 where active, and the gradient survives.

# %%
sig = layer_gradient_norms(deep_mlp(15, 32, nn.Sigmoid))
relu = layer_gradient_norms(deep_mlp(15, 32, nn.ReLU, gain=1.0))
print(f"first/last layer gradient: sigmoid {sig[0] / sig[-1]:.1e}, ReLU {relu[0] / relu[-1]:.1e}")
assert sig[0] < 1e-3 * sig[-1]
assert relu[0] > 0.1 * relu[-1]

# %% [markdown]
# ## Exploding: the same ReLU net with weights twice too large
#
# Each layer now multiplies the backward signal ∂L/∂aₗ by about 2: after 15 layers by ~2¹⁵
# (and with weights half as large it shrinks by ~2¹⁵). One SGD
# step with such gradients throws the loss to infinity; clipping the gradient norm
# (`clip_grad_norm_`) keeps training stable.

# %%
big = backward_signal_norms(deep_mlp(15, 32, nn.ReLU, gain=2.0))
small = backward_signal_norms(deep_mlp(15, 32, nn.ReLU, gain=0.5))
print(f"first/last: gain 2 → {big[0] / big[-1]:.1e}, gain 0.5 → {small[0] / small[-1]:.1e}")
assert big[0] > 100 * big[-1] and small[0] < 1e-2 * small[-1]


def train_steps(model, steps, lr, clip=None):
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            loss = nn.CrossEntropyLoss()(model(Xs), ys)
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                break
            opt.zero_grad()
            loss.backward()
            if clip is not None:
                clip_grad_norm_(model.parameters(), clip)
            opt.step()
    return losses


cr.manual_seed(1)
unclipped = train_steps(deep_mlp(15, 32, nn.ReLU, gain=2.0), 20, lr=0.01)
cr.manual_seed(1)
clipped = train_steps(deep_mlp(15, 32, nn.ReLU, gain=2.0), 20, lr=0.01, clip=1.0)
print(f"unclipped: {unclipped[:4]} ...; clipped: {clipped[0]:.2f} → {clipped[-1]:.2f}")
assert not all(math.isfinite(v) and v < 1e3 for v in unclipped)   # blew up
assert all(math.isfinite(v) for v in clipped) and clipped[-1] < clipped[0]

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for name, norms in (("sigmoid", sig), ("ReLU", relu)):
    axes[0].semilogy(range(1, len(norms) + 1), norms, "o-", ms=3, label=name)
axes[0].set_xlabel("layer (input side first)"), axes[0].set_ylabel("‖∂L/∂Wₗ‖")
axes[0].legend(fontsize=8), axes[0].set_title("vanishing: 15 sigmoid layers")
ax = axes[1]
for name, norms in (("ReLU, 2× He", big), ("ReLU, He", backward_signal_norms(
        deep_mlp(15, 32, nn.ReLU, gain=1.0))), ("ReLU, 0.5× He", small)):
    ax.semilogy(range(1, len(norms) + 1), norms, "o-", ms=3, label=name)
ax.set_xlabel("layer (input side first)"), ax.set_ylabel("‖∂L/∂aₗ‖"), ax.legend(fontsize=8)
ax.set_title("backward signal per layer at initialisation")
plt.show()

# %% [markdown]
# ## Residual connections
#
# Two 30-layer nets with the same layers: a plain stack, and the layers grouped in blocks
# x ↦ ReLU(F(x) + x). The shortcut gives the first layer a far larger gradient at
# initialisation, and after the same training the residual net's loss is lower — the plain one
# suffers the degradation problem although it could represent the same functions.

# %%
class Block(nn.Module):
    def __init__(self, width, shortcut):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)
        self.shortcut = shortcut

    def forward(self, x):
        f = self.fc2(nn.functional.relu(self.fc1(x)))
        return nn.functional.relu(f + x if self.shortcut else f)


def deep_net(shortcut, blocks=14, width=32):
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(),
                         *[Block(width, shortcut) for _ in range(blocks)], nn.Linear(width, 10))


curves, first_grad = {}, {}
for name, shortcut in (("plain", False), ("residual", True)):
    cr.manual_seed(0)
    model = deep_net(shortcut)
    first_grad[name] = layer_gradient_norms(model)[0]
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    curves[name] = []
    for epoch in range(6):
        for i in range(0, 768, 64):
            loss = nn.CrossEntropyLoss()(model(X[i:i + 64]), y[i:i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with cr.no_grad():
            curves[name].append(nn.CrossEntropyLoss()(model(X[:768]), y[:768]).item())
print("first-layer gradient at init:", {k: f"{v:.1e}" for k, v in first_grad.items()})
print("training loss after 6 epochs:", {k: round(c[-1], 3) for k, c in curves.items()})
assert first_grad["residual"] > 10 * first_grad["plain"]
assert curves["residual"][-1] < curves["plain"][-1]

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, c in curves.items():
    ax.semilogy(range(1, len(c) + 1), c, "o-", label=name)
ax.set_xlabel("epoch"), ax.set_ylabel("training loss"), ax.legend()
ax.set_title("same depth, with and without shortcuts")
plt.show()
