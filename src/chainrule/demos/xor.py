"""XOR: a single perceptron fails, the hand-wired AND/OR network and a trained MLP succeed
(cards "Perceptron", "Multilayer Perceptron", and the XOR problem).

* ``chainrule.models.Perceptron`` — f(x) = H(wᵀx + b), the perceptron learning rule: it can only
  draw one line, so on XOR it never converges and stays below 4/4;
* ``chainrule.models.xor_network()`` — the deck's 2-2-1 net: h₁ = AND, h₂ = OR, y = h₂ AND NOT h₁;
* ``chainrule.models.MLP(2, [4], 2, activation='tanh')`` trained by gradient descent (Adam).
"""
from __future__ import annotations

import warnings

import numpy as np

import chainrule as cr
import chainrule.optim  # noqa: F401
from chainrule import models, nn

from ._common import report, subplots

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([0, 1, 1, 0], dtype=np.int64)


def _np(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def train_mlp(seed=0, steps=500):
    cr.manual_seed(seed)
    mlp = models.MLP(2, [4], 2, activation="tanh")
    opt = cr.optim.Adam(mlp.parameters(), lr=0.05)
    x, y = cr.tensor(X), cr.tensor(Y)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(mlp(x), y)
        loss.backward()
        opt.step()
    return mlp, float(loss.item())


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    x = cr.tensor(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        perceptron = models.Perceptron(max_epochs=20 if fast else 100)
        perceptron.fit(x, cr.tensor(Y))
    p_pred = _np(perceptron.predict(x)).reshape(-1).astype(int)
    p_acc = float(np.mean(p_pred == Y))
    p_warned = any("converge" in str(w.message).lower() for w in caught)

    net = models.xor_network()
    with cr.no_grad():
        h_pred = _np(net(x)).reshape(-1).round().astype(int)
    h_acc = float(np.mean(h_pred == Y))

    mlp, mlp_loss = train_mlp(steps=300 if fast else 1000)
    with cr.no_grad():
        m_pred = _np(mlp(x)).argmax(axis=1)
    m_acc = float(np.mean(m_pred == Y))

    g = np.linspace(-0.5, 1.5, 161, dtype=np.float32)
    G = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    with cr.no_grad():
        gt = cr.tensor(G)
        regions = {
            f"perceptron ({p_acc * 4:.0f}/4)": _np(perceptron.predict(gt)).reshape(-1),
            f"hand-wired AND/OR net ({h_acc * 4:.0f}/4)": _np(net(gt)).reshape(-1),
            f"trained MLP 2-4-2 ({m_acc * 4:.0f}/4)": _np(mlp(gt)).argmax(axis=1),
        }
    fig, axes = subplots(1, 3, figsize=(12, 4))
    for ax, (title, r) in zip(axes, regions.items()):
        ax.contourf(g, g, r.reshape(len(g), len(g)), levels=[-0.5, 0.5, 1.5],
                    colors=["#dde8f5", "#f5dede"])
        ax.scatter(X[:, 0], X[:, 1], c=["C0" if t == 0 else "C3" for t in Y], s=120,
                   edgecolors="k")
        ax.set_title(title), ax.set_aspect("equal")

    solved = "XOR solved" if h_acc == m_acc == 1.0 else "XOR NOT solved"
    finding = (f"xor: {solved} — perceptron {p_acc * 100:.0f}% (did not converge: {p_warned}), hand-wired "
               f"AND/OR net {h_acc * 100:.0f}%, trained MLP {m_acc * 100:.0f}% "
               f"(final loss {mlp_loss:.4f})")
    return report({"perceptron_accuracy": p_acc, "perceptron_warned": p_warned,
                   "hand_wired_accuracy": h_acc, "hand_wired_predictions": h_pred.tolist(),
                   "mlp_accuracy": m_acc, "mlp_loss": mlp_loss}, finding, fig, out_dir, "xor")
