"""Full-batch vs mini-batch vs stochastic gradient descent: loss against epochs and against
wall time (cards "trade-offs of SGD / Batch / Mini-Batch Gradient Descent").

The same 64-32-10 MLP (same initial weights) is trained on the 8×8 digits with plain SGD,
its data fed by ``chainrule.utils.data.DataLoader`` with ``batch_size`` the size of the whole
training set (batch GD, one deterministic step per epoch), ``32`` (mini-batch) and ``1``
(stochastic: one noisy step per example). Each variant uses a learning rate that suits it.
"""
from __future__ import annotations

import time


import chainrule as cr
import chainrule.optim  # noqa: F401
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

from ._common import report, subplots
from ._data import digits

# (batch size, learning rate); None: the whole training set
VARIANTS = {"full batch": (None, 0.5), "mini-batch (32)": (32, 0.1), "stochastic (1)": (1, 0.01)}


def make_model():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    epochs = 3 if fast else 10
    (Xtr, ytr), _ = digits(flat=True)
    if fast:
        Xtr, ytr = Xtr[:600], ytr[:600]
    X, Y = cr.tensor(Xtr), cr.tensor(ytr)
    loss_fn = nn.CrossEntropyLoss()
    curves, times, steps = {}, {}, {}
    for name, (bs, lr) in VARIANTS.items():
        model = make_model()
        opt = cr.optim.SGD(model.parameters(), lr=lr)
        dl = DataLoader(TensorDataset(X, Y), batch_size=bs or len(X), shuffle=True,
                        generator=cr.Generator().manual_seed(0))
        with cr.no_grad():
            losses, clock, n = [loss_fn(model(X), Y).item()], [0.0], 0
        t = 0.0
        for _ in range(epochs):
            t0 = time.perf_counter()
            for xb, yb in dl:
                opt.zero_grad()
                loss_fn(model(xb), yb).backward()
                opt.step()
                n += 1
            t += time.perf_counter() - t0
            with cr.no_grad():
                losses.append(loss_fn(model(X), Y).item())
            clock.append(t)
        curves[name], times[name], steps[name] = losses, clock, n
    per_epoch = {n: times[n][-1] / epochs for n in VARIANTS}
    final = {n: curves[n][-1] for n in VARIANTS}

    fig, axes = subplots(1, 2, figsize=(11, 4))
    for name in VARIANTS:
        axes[0].plot(range(epochs + 1), curves[name], "o-", ms=3, label=name)
        axes[1].plot(times[name], curves[name], "o-", ms=3, label=name)
    axes[0].set_xlabel("epoch"), axes[1].set_xlabel("wall time (s)")
    for ax in axes:
        ax.set_ylabel("training loss (whole set)"), ax.set_yscale("log"), ax.legend()
    axes[0].set_title("loss vs epochs"), axes[1].set_title("loss vs wall time")

    finding = (f"gd-variants: after {epochs} epochs on {len(Xtr)} digits, training loss "
               + ", ".join(f"{n} {final[n]:.3f}" for n in VARIANTS)
               + "; seconds per epoch " + ", ".join(f"{n.split(' ')[0]} {per_epoch[n]:.3f}"
                                                     for n in VARIANTS))
    return report({"epochs": epochs, "loss_curves": curves, "times": times, "steps": steps,
                   "final_loss": final, "seconds_per_epoch": per_epoch},
                   finding, fig, out_dir, "gd-variants")
