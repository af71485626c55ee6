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
# # 2 · Perceptron, XOR, the multilayer perceptron and universal approximation
#
# * **Perceptron**: f(x; θ) = H(wᵀx + b) — one line through input space.
# * **XOR** is not linearly separable, so no perceptron solves it.
# * An **MLP** stacks layers: the deck's hand-wired 2-2-1 net computes h₁ = AND, h₂ = OR,
#   y = h₂ AND NOT h₁; a trained MLP finds its own solution — if its activations are
#   differentiable, because gradient descent needs derivatives.
# * **Universal approximation**: one hidden layer, wide enough, fits any continuous function.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule import models, nn, optim

X = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND = cr.tensor([0, 0, 0, 1])
XOR = cr.tensor([0, 1, 1, 0])

# %% [markdown]
# ## The perceptron learns AND, never XOR
#
# The perceptron rule w ← w + η (y − ŷ) x converges whenever a separating line exists
# (AND), and keeps cycling when none does (XOR): chainrule warns and stops at `max_epochs`.

# %%
p_and = models.Perceptron(max_epochs=50).fit(X, AND)
print("AND:", p_and.predict(X), "converged:", p_and.converged_)
assert p_and.converged_ and p_and.score(X, AND) == 1.0

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    p_xor = models.Perceptron(max_epochs=50).fit(X, XOR)
print("XOR:", p_xor.predict(X), "converged:", p_xor.converged_, "score:", p_xor.score(X, XOR))
assert not p_xor.converged_ and p_xor.score(X, XOR) < 1.0
assert any(issubclass(w.category, models.ConvergenceWarning) for w in caught)

# %% [markdown]
# ## The hand-wired AND/OR network
#
# Its hidden layer maps the four points to (h₁, h₂) = (AND, OR): (0,0) → (0,0), (0,1) and
# (1,0) both → (0,1), (1,1) → (1,1). In that space one line separates the classes.

# %%
net = models.xor_network()
with cr.no_grad():
    hidden = net[1](net[0](X))
    out = net(X).reshape(-1)
print("hidden (AND, OR):", hidden.tolist(), " output:", out.tolist())
assert hidden.tolist() == [[0, 0], [0, 1], [0, 1], [1, 1]]
assert out.tolist() == XOR.tolist()

# %% [markdown]
# ## Training needs differentiable activations
#
# The step function H has derivative 0 almost everywhere: no gradient reaches the weights.
# The sigmoid's derivative is σ' = σ(1 − σ), which autograd reproduces exactly.

# %%
a = cr.linspace(-6, 6, 101, dtype=cr.float64, requires_grad=True)
nn.Heaviside(0.0)(a).sum().backward()
assert float(a.grad.abs().max()) == 0.0          # nothing to descend
a.grad = None
s = cr.sigmoid(a)
s.sum().backward()
sd = s.detach()
assert np.allclose(a.grad.numpy(), (sd * (1 - sd)).numpy(), atol=1e-15)
assert abs(float(a.grad.max()) - 0.25) < 1e-12   # the sigmoid's slope is at most 1/4

# %% [markdown]
# ## A trained MLP solves XOR
#
# The deck's training loop, three steps per iteration: forward pass and loss, backward pass,
# weight update.

# %%
cr.manual_seed(0)
mlp = models.MLP(2, [4], 2, activation="tanh")
opt = optim.Adam(mlp.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()
losses = []
for step in range(300):
    loss = loss_fn(mlp(X), XOR)     # 1. forward
    opt.zero_grad()
    loss.backward()                 # 2. backward
    opt.step()                      # 3. update
    losses.append(loss.item())
with cr.no_grad():
    xor_mlp_accuracy = float((mlp(X).argmax(1) == XOR).float().mean())
print(f"final loss {losses[-1]:.4f}, accuracy {xor_mlp_accuracy}")
assert xor_mlp_accuracy == 1.0
assert losses[-1] < 0.05 * losses[0]

g = np.linspace(-0.5, 1.5, 101, dtype=np.float32)
G = cr.tensor(np.stack(np.meshgrid(g, g), -1).reshape(-1, 2))
with cr.no_grad():
    region = mlp(G).argmax(1).numpy().reshape(len(g), len(g))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].semilogy(losses), axes[0].set_xlabel("step"), axes[0].set_title("training loss")
axes[1].contourf(g, g, region, levels=[-0.5, 0.5, 1.5], colors=["#dde8f5", "#f5dede"])
axes[1].scatter(X[:, 0].numpy(), X[:, 1].numpy(), c=["C0", "C3", "C3", "C0"], s=100,
                edgecolors="k")
axes[1].set_title("MLP decision regions on XOR"), axes[1].set_aspect("equal")
plt.show()

# %% [markdown]
# ## Universal approximation: width buys accuracy
#
# f(x) = Σₖ aₖ tanh(wₖ x + cₖ) + b fitted to sin(2x) + 0.3x² on [−3, 3]: the error falls as
# the hidden layer widens.

# %%
x = cr.linspace(-3, 3, 200)


def target(t):
    return cr.sin(2 * t) + 0.3 * t ** 2


widths, errors, fits = [2, 8, 32], [], {}
for width in widths:
    model, mse = models.fit_universal_approximator(target, width, x, steps=100)
    errors.append(mse)
    with cr.no_grad():
        fits[width] = model(x.reshape(-1, 1)).reshape(-1).numpy()
print(dict(zip(widths, errors)))
assert errors[0] > errors[1] > errors[2]
assert errors[-1] < errors[0] / 10

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(x.numpy(), target(x).numpy(), "k", lw=3, alpha=0.3, label="target")
for width in widths:
    ax.plot(x.numpy(), fits[width], label=f"width {width} (MSE {errors[widths.index(width)]:.1e})")
ax.legend(fontsize=8), ax.set_title("one hidden tanh layer")
plt.show()
