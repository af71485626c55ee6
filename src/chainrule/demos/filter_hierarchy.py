"""The filter hierarchy of a trained CNN (card "Filter Hierarchy"): first-layer units see 3×3
patches (strokes, edges), second-layer units see 8×8 — the whole digit — and combine the
first layer's maps into parts of shapes.

Measured: how much each layer's features say about the class. Each feature map is averaged
over space (one number per channel), and a nearest-class-mean classifier on those numbers is
scored on the test set; the second layer's pooled features separate the digits far better.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr

from ._common import report, subplots
from ._data import accuracy, digits, fit_classifier
from .cnn_vs_mlp import cnn


def _features(model, X, upto):
    with cr.no_grad():
        h = cr.from_numpy(np.ascontiguousarray(X))
        for layer in list(model)[:upto]:
            h = layer(h)
    return h.numpy()


def nearest_mean_accuracy(Ftr, ytr, Fte, yte) -> float:
    mu, sd = Ftr.mean(0), Ftr.std(0) + 1e-6
    Ftr, Fte = (Ftr - mu) / sd, (Fte - mu) / sd
    means = np.stack([Ftr[ytr == c].mean(0) for c in range(10)])
    d = ((Fte[:, None, :] - means[None]) ** 2).sum(-1)
    return float(np.mean(d.argmin(1) == yte))


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    (Xtr, ytr), (Xte, yte) = digits()
    cr.manual_seed(0)
    model = cnn()
    fit_classifier(model, Xtr, ytr, epochs=6 if fast else 20, lr=3e-3)
    model.eval()
    test_acc = accuracy(model, Xte, yte)
    # layer indices in cnn(): 0 conv1, 1 relu, 2 pool, 3 conv2, 4 relu, 5 pool
    probe = {}
    maps = {}
    for name, upto in (("layer 1", 2), ("layer 2", 5)):
        Ftr, Fte = _features(model, Xtr, upto), _features(model, Xte, upto)
        maps[name] = Fte[0]
        probe[name] = nearest_mean_accuracy(Ftr.mean((2, 3)), ytr, Fte.mean((2, 3)), yte)

    k1 = model[0].weight.detach().numpy()[:, 0]
    fig, axes = subplots(3, 9, figsize=(13, 4.6))
    axes[0, 0].imshow(Xte[0, 0], cmap="gray_r"), axes[0, 0].set_title(f"input ({yte[0]})", fontsize=8)
    for j in range(8):
        axes[0, j + 1].imshow(k1[j], cmap="RdBu_r"), axes[0, j + 1].set_title(f"kernel {j}", fontsize=8)
    for row, name in ((1, "layer 1"), (2, "layer 2")):
        axes[row, 0].text(0.5, 0.5, f"{name}\nmaps", ha="center", va="center")
        axes[row, 0].axis("off")
        for j in range(8):
            axes[row, j + 1].imshow(maps[name][j], cmap="viridis")
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])

    finding = (f"filter-hierarchy: CNN test accuracy {test_acc * 100:.1f}%; nearest-class-mean "
               f"accuracy from spatially averaged feature maps: layer 1 (3x3 receptive field) "
               f"{probe['layer 1'] * 100:.1f}%, layer 2 (8x8) {probe['layer 2'] * 100:.1f}%")
    return report({"test_accuracy": test_acc, "probe_accuracy": probe,
                   "receptive_field": {"layer 1": 3, "layer 2": 8}},
                   finding, fig, out_dir, "filter-hierarchy")
