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

# %% [markdown]
# # 1 · Tensors, computational graphs, reverse and forward mode
#
# The deck's first part: a network is a **computational graph** — nodes are operations
# (+, ∗, dot product, tanh …), edges carry tensors forward. Training needs the derivative of a
# scalar loss with respect to every parameter, and there are two ways to push the chain rule
# through the graph:
#
# * **forward mode** carries a tangent J·u from the inputs upwards: one pass per input direction;
# * **reverse mode** (backpropagation) carries a cotangent vᵀJ from the loss downwards: one pass
#   per output — and a loss has a single output.
#
# Every claim below is checked with an `assert`, so this notebook doubles as a test.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD

cr.manual_seed(0)

# %% [markdown]
# ## Tensors
#
# A `chainrule.Tensor` is an n-dimensional array (NumPy underneath) with PyTorch's API:
# shapes, dtypes, broadcasting and methods read like `torch`.

# %%
a = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = cr.arange(3, dtype=cr.float32)
c = a * b + 1            # b broadcasts over the rows: (2, 3) * (3,) -> (2, 3)
print(a.shape, a.dtype, c)
assert tuple(c.shape) == (2, 3) and c.dtype == cr.float32
assert np.allclose(c.numpy(), a.numpy() * b.numpy() + 1)
assert np.allclose((a @ a.T).numpy(), a.numpy() @ a.numpy().T)

# %% [markdown]
# ## The baseline equation as a graph
#
# y = f(x·W) = tanh(Σₖ xₖ wₖ). With `requires_grad=True` every operation records a node;
# `grad_fn` is the last one and `next_functions` lead back to the leaves.

# %%
x = cr.randn(4, dtype=cr.float64, requires_grad=True)
W = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
y = cr.tanh(x @ W)
loss = y.sum()

node, names = loss.grad_fn, []
while node is not None:
    names.append(node.name())
    nxt = [f for f, _ in node.next_functions if f is not None and "AccumulateGrad" not in f.name()]
    node = nxt[0] if nxt else None
print(" <- ".join(names))
# read from the loss back: sum, tanh, then the vector-matrix product (as torch records it:
# unsqueeze x to a 1×4 matrix, matrix-multiply, squeeze back)
assert names[:2] == ["SumBackward0", "TanhBackward0"]
assert names[-2:] == ["MmBackward0", "UnsqueezeBackward0"]

# %%
cr.viz.graph(loss, params={"x": x, "W": W})    # drawn inline (SVG)

# %% [markdown]
# ## Reverse mode: `backward()` against finite differences
#
# ∂L/∂W by one backward pass, checked entry by entry against the central difference
# (L(W + h·eᵢⱼ) − L(W − h·eᵢⱼ)) / 2h in float64.

# %%
loss.backward()
grad = W.grad.numpy()


def L(Wn):
    return np.tanh(x.detach().numpy() @ Wn).sum()


h, Wn = 1e-6, W.detach().numpy()
finite_diff = np.zeros_like(Wn)
for i in range(Wn.shape[0]):
    for j in range(Wn.shape[1]):
        E = np.zeros_like(Wn)
        E[i, j] = h
        finite_diff[i, j] = (L(Wn + E) - L(Wn - E)) / (2 * h)
print("max |backprop − finite difference| =", np.abs(grad - finite_diff).max())
assert np.abs(grad - finite_diff).max() < 1e-6
# the analytic answer: ∂L/∂W = x ⊗ (1 − tanh²(xW))
assert np.allclose(grad, np.outer(x.detach().numpy(), 1 - np.tanh(x.detach().numpy() @ Wn) ** 2))

# %% [markdown]
# ## Forward mode: dual numbers
#
# A dual tensor carries (value, tangent); every operation also propagates the tangent, so the
# output's tangent is the directional derivative J·u — here along u = ∂W/∂W₀₀, giving the
# same number as the reverse-mode gradient's entry [0, 0].

# %%
u = cr.zeros(4, 3, dtype=cr.float64)
u[0, 0] = 1.0
with fwAD.dual_level():
    Wd = fwAD.make_dual(W.detach(), u)
    out = cr.tanh(x.detach() @ Wd).sum()
    directional = fwAD.unpack_dual(out).tangent.item()
print("forward-mode dL/dW[0,0] =", directional, " reverse mode:", grad[0, 0])
assert abs(directional - grad[0, 0]) < 1e-12

# %% [markdown]
# ## Jacobians, VJPs and JVPs
#
# For f: Rⁿ → Rᵐ the Jacobian J_f(x) = ∂f/∂x is m×n. `jacrev` builds it from m vector-Jacobian
# products (one backward pass per output), `jacfwd` from n Jacobian-vector products (one forward
# pass per input). Both agree.

# %%
def f(v):
    return cr.tanh(v @ W.detach())        # R⁴ -> R³


J_rev = cr.func.jacrev(f)(x.detach())
J_fwd = cr.func.jacfwd(f)(x.detach())
print(tuple(J_rev.shape))
assert tuple(J_rev.shape) == (3, 4)
assert np.allclose(J_rev.numpy(), J_fwd.numpy(), atol=1e-12)

# %% [markdown]
# ## Why backpropagation: a scalar loss of many parameters
#
# For a loss of n parameters (m = 1), reverse mode needs **one** pass while forward mode needs
# **n**. Count the evaluations of the loss each mode makes, and time them.

# %%
calls = {"n": 0}
A = cr.randn(50, 50, dtype=cr.float64)


def scalar_loss(theta):
    calls["n"] += 1
    return (cr.tanh(A @ theta) ** 2).sum()


sizes = [10, 25, 50]
counts, seconds = {"forward": [], "reverse": []}, {"forward": [], "reverse": []}
for n in sizes:
    A = cr.randn(50, n, dtype=cr.float64)
    theta = cr.randn(n, dtype=cr.float64)
    for mode, jac in (("forward", cr.func.jacfwd), ("reverse", cr.func.jacrev)):
        calls["n"] = 0
        t0 = time.perf_counter()
        g = jac(scalar_loss)(theta)
        seconds[mode].append(time.perf_counter() - t0)
        counts[mode].append(calls["n"])
    assert np.allclose(cr.func.jacfwd(scalar_loss)(theta).numpy(), g.numpy())
print("loss evaluations:", counts)
assert counts["forward"] == sizes          # one forward pass per parameter
assert counts["reverse"] == [1, 1, 1]      # one pass, whatever n is

fig, ax = plt.subplots(figsize=(5, 3.2))
for mode in seconds:
    ax.plot(sizes, seconds[mode], "o-", label=f"{mode} mode")
ax.set_xlabel("number of parameters n"), ax.set_ylabel("seconds for ∂L/∂θ"), ax.legend()
ax.set_title("Gradient of a scalar loss")
plt.show()
