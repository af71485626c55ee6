"""Vanishing gradients: per-layer gradient norms of a deep sigmoid net vs the same net with
ReLU (cards "Vanishing Gradient problem", "Sigmoid": σ' ≤ 1/4 saturates).

Backpropagation multiplies, layer by layer, by Wᵀ diag(f'(a)). With sigmoid, f' ≤ 1/4 and
Xavier-scaled weights give a factor well below 1 per layer, so the first layers' gradients are
exponentially smaller than the last ones'. ReLU with He initialization (Var W = 2/fan_in) keeps
the factor near 1. Both nets: the same depth and width, the same batch and loss; the norms are
‖∂L/∂W_l‖ of each Linear layer after one backward pass.
"""
from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule import nn

from ._common import report, subplots


def deep_net(depth, width, activation, in_features=64, classes=10):
    layers, d = [], in_features
    for _ in range(depth):
        lin = nn.Linear(d, width)
        if activation == "sigmoid":
            nn.init.xavier_normal_(lin.weight)
        else:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.Sigmoid() if activation == "sigmoid" else nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, classes))
    return nn.Sequential(*layers)


def layer_grad_norms(model, x, y):
    """‖∂L/∂W‖ of each Linear layer, input side first, after one backward pass."""
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x), y).backward()
    return [float(np.linalg.norm(m.weight.grad.numpy())) for m in model.modules()
            if isinstance(m, nn.Linear)]


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    depth, width = (10, 64) if fast else (20, 64)
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((128, 64)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, 128))
    norms = {}
    for act in ("sigmoid", "relu"):
        cr.manual_seed(0)
        norms[act] = layer_grad_norms(deep_net(depth, width, act), x, y)
    ratio = {a: n[0] / n[-1] for a, n in norms.items()}

    fig, ax = subplots(figsize=(6, 4))
    for act, n in norms.items():
        ax.semilogy(range(1, len(n) + 1), n, "o-", ms=3, label=f"{act} (first/last {ratio[act]:.1e})")
    ax.set_xlabel("layer (1 = input side)"), ax.set_ylabel("‖∂L/∂W‖")
    ax.set_title(f"Gradient norms through {depth + 1} layers"), ax.legend()

    finding = (f"vanishing-gradients: {depth + 1}-layer nets, first-layer/last-layer gradient "
               f"norm: sigmoid {ratio['sigmoid']:.1e}, ReLU {ratio['relu']:.1e}")
    return report({"depth": depth + 1, "norms": norms, "first_over_last": ratio}, finding,
                  fig, out_dir, "vanishing-gradients")
