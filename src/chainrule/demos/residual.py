"""Residual connections against the degradation problem (cards "What structural problem do
Residual Connections fix?", "Residual Block": Output = F(x) + x, "Why do Residual Connections
eliminate the vanishing gradient problem?").

Two nets of the same depth on the 8×8 digits: a plain stack of ``2·blocks`` Linear+ReLU layers,
and the same layers grouped into blocks with an identity shortcut, x ↦ x + F(x) with
F = Linear∘ReLU∘Linear. Both start from torch's default initialization and train with the same
SGD-with-momentum settings. Measured: the training loss after the same number of epochs (the
plain net trains worse — degradation — although it could represent everything the residual one
can), and the first layer's gradient norm at initialization (the shortcut carries the
gradient back unshrunk: ∂(x + F(x))/∂x = I + ∂F/∂x).
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.optim  # noqa: F401
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

from ._common import report, subplots
from ._data import digits


class Block(nn.Module):
    """F(x) = W₂ ReLU(W₁ x + b₁) + b₂; output ReLU(F(x) + x) with the shortcut, ReLU(F(x))
    without."""

    def __init__(self, width, shortcut):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.shortcut = shortcut

    def forward(self, x):
        f = self.fc2(nn.functional.relu(self.fc1(x)))
        return nn.functional.relu(f + x if self.shortcut else f)


def deep_net(blocks, width, shortcut):
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(),
                         *[Block(width, shortcut) for _ in range(blocks)],
                         nn.Linear(width, 10))


def first_layer_grad(model, X, y):
    model.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    return float(np.linalg.norm(model[0].weight.grad.numpy()))


def train(model, X, y, epochs, lr=0.02):
    opt = cr.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    dl = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True,
                    generator=cr.Generator().manual_seed(0))
    loss_fn, losses = nn.CrossEntropyLoss(), []
    for _ in range(epochs):
        for xb, yb in dl:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        with cr.no_grad():
            losses.append(loss_fn(model(X), y).item())
    return losses


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    blocks, width, epochs = (10, 32, 8) if fast else (20, 64, 30)
    (Xtr, ytr), _ = digits(flat=True)
    X, y = cr.tensor(Xtr), cr.tensor(ytr)
    curves, grads = {}, {}
    for name, shortcut in (("plain", False), ("residual", True)):
        cr.manual_seed(0)
        model = deep_net(blocks, width, shortcut)
        grads[name] = first_layer_grad(model, X, y)
        curves[name] = train(model, X, y, epochs)
    final = {n: c[-1] for n, c in curves.items()}
    depth = 2 * blocks + 2

    fig, ax = subplots(figsize=(6, 4))
    for name, c in curves.items():
        ax.semilogy(range(1, epochs + 1), c, "o-", ms=3,
                    label=f"{name} ({depth} layers; first-layer ‖g‖ at init {grads[name]:.1e})")
    ax.set_xlabel("epoch"), ax.set_ylabel("training loss"), ax.legend(fontsize=8)
    ax.set_title("Same depth, with and without shortcuts")

    finding = (f"residual: {depth}-layer nets after {epochs} epochs, training loss plain "
               f"{final['plain']:.3f} vs residual {final['residual']:.3f}; first-layer gradient "
               f"norm at init plain {grads['plain']:.1e} vs residual {grads['residual']:.1e}")
    return report({"depth": depth, "epochs": epochs, "loss_curves": curves,
                   "final_loss": final, "first_layer_grad_at_init": grads},
                   finding, fig, out_dir, "residual")
