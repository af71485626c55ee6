"""Why MLPs are poorly suited to images, and what weight sharing assumes (cards "Why are
standard MLPs poorly suited for computer vision", "Weight Sharing").

The same fixed random permutation of the 64 pixels is applied to every 8×8 digit. An MLP sees
a flat vector either way — permuting its inputs only permutes its first layer's columns — so
its accuracy stays put. A CNN slides the same small kernels over neighbouring pixels (weight
sharing): that only pays when neighbours belong together, so destroying the spatial layout
costs it accuracy. Both models train with Adam for the same epochs on both versions, on a
small training set (300 digits; 600 in the full run), where the CNN's built-in assumption
matters most. Accuracies are means over 2 seeds (3 in the full run).
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule import nn

from ._common import report, subplots
from ._data import accuracy, digits, fit_classifier


def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    n_train, epochs = (300, 15) if fast else (600, 30)
    (Xtr, ytr), (Xte, yte) = digits()
    Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    perm = np.random.default_rng(0).permutation(64)

    def permute(X):
        return X.reshape(len(X), 64)[:, perm].reshape(X.shape)

    seeds = (0, 1) if fast else (0, 1, 2)      # averaged: one seed's noise is ±1 point
    acc = {}
    for name, make in (("CNN", cnn), ("MLP", mlp)):
        for variant, (A, B) in (("original", (Xtr, Xte)), ("permuted", (permute(Xtr), permute(Xte)))):
            scores = []
            for seed in seeds:
                cr.manual_seed(seed)
                model = make()
                fit_classifier(model, A, ytr, epochs, lr=3e-3, seed=seed)
                scores.append(accuracy(model, B, yte))
            acc[(name, variant)] = float(np.mean(scores))
    drop = {m: acc[(m, "original")] - acc[(m, "permuted")] for m in ("CNN", "MLP")}

    fig, axes = subplots(1, 3, figsize=(11, 3.5))
    axes[0].imshow(Xte[0, 0], cmap="gray_r"), axes[0].set_title(f"a digit ({yte[0]})")
    axes[1].imshow(permute(Xte[:1])[0, 0], cmap="gray_r"), axes[1].set_title("the same, pixels permuted")
    for a in axes[:2]:
        a.set_xticks([]), a.set_yticks([])
    xs = np.arange(2)
    for k, variant in enumerate(("original", "permuted")):
        axes[2].bar(xs + 0.35 * k, [acc[("CNN", variant)], acc[("MLP", variant)]], 0.35,
                    label=variant)
    axes[2].set_xticks(xs + 0.175, ["CNN", "MLP"]), axes[2].set_ylim(0.5, 1.0)
    axes[2].set_ylabel("test accuracy"), axes[2].legend(loc="lower right")

    finding = (f"cnn-vs-mlp: trained on {n_train} digits, test accuracy original → permuted "
               f"pixels: CNN "
               f"{acc[('CNN', 'original')] * 100:.1f}% → {acc[('CNN', 'permuted')] * 100:.1f}%, "
               f"MLP {acc[('MLP', 'original')] * 100:.1f}% → {acc[('MLP', 'permuted')] * 100:.1f}% "
               f"(drops {drop['CNN'] * 100:.1f} vs {drop['MLP'] * 100:.1f} points)")
    return report({"accuracy": {f"{m} {v}": a for (m, v), a in acc.items()}, "drop": drop,
                   "epochs": epochs, "n_train": n_train}, finding, fig, out_dir, "cnn-vs-mlp")
