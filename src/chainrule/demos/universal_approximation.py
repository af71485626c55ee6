"""Universal approximation: one hidden layer of tanh units, y = W₂ tanh(W₁x + b₁) + b₂, fits a
continuous function better as the layer gets wider (cards "Universal Function Approximator of
MLP", "The Baseline Equation": tanh(Σ x_k w_k)).

Targets: sin(x) on [−π, π] and |x| on [−1, 1] (a kink). The hidden units' weights and biases
start uniform in [−8, 8] (inputs scaled to [−1, 1]), so their bends are spread over the whole
interval — the constructive picture behind the theorem: more units, more bends to place. Each
width is fitted full-batch with Adam for the same number of steps from a fixed seed; the error
is the mean squared error on the 200 grid points.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.optim  # noqa: F401
from chainrule import models, nn

from ._common import report, subplots

TARGETS = {"sin(x) on [-π, π]": (np.sin, np.pi), "|x| on [-1, 1]": (np.abs, 1.0)}


def fit(width, fn, half, steps, seed=0, n=200):
    cr.manual_seed(seed)
    x = np.linspace(-half, half, n, dtype=np.float32)[:, None]
    y = fn(x).astype(np.float32)
    xs = x / half                                    # inputs scaled to [-1, 1]
    model = models.MLP(1, [width], 1, activation="tanh")
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    nn.init.uniform_(first.weight, -8.0, 8.0)
    nn.init.uniform_(first.bias, -8.0, 8.0)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    X, Y = cr.tensor(xs), cr.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(X) - Y) ** 2).mean()
        loss.backward()
        opt.step()
    with cr.no_grad():
        pred = model(X).numpy()
    return float(np.mean((pred - y) ** 2)), x[:, 0], pred[:, 0]


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    widths = [2, 8, 32, 128]
    steps = 600 if fast else 2000
    errors, curves = {}, {}
    for tname, (fn, half) in TARGETS.items():
        errors[tname], curves[tname] = [], []
        for w in widths:
            mse, x, pred = fit(w, fn, half, steps)
            errors[tname].append(mse)
            curves[tname].append((x, pred))

    fig, axes = subplots(1, 3, figsize=(14, 4))
    for ax, (tname, (fn, half)) in zip(axes[:2], TARGETS.items()):
        x = curves[tname][0][0]
        ax.plot(x, fn(x), "k", lw=3, alpha=0.3, label="target")
        for w, (_, pred) in zip(widths, curves[tname]):
            ax.plot(x, pred, lw=1, label=f"width {w}")
        ax.set_title(tname), ax.legend(fontsize=7)
    for tname in TARGETS:
        axes[2].loglog(widths, errors[tname], "o-", label=tname)
    axes[2].set_xlabel("hidden width"), axes[2].set_ylabel("mean squared error")
    axes[2].set_title("error vs width"), axes[2].legend(fontsize=8)

    finding = "universal-approximation: MSE for widths " + "/".join(map(str, widths)) + ": " + \
        "; ".join(f"{t.split(' ')[0]} " + " → ".join(f"{e:.1e}" for e in errs)
                  for t, errs in errors.items())
    return report({"widths": widths, "mse": errors, "steps": steps},
                  finding, fig, out_dir, "universal-approximation")
