"""Exploding gradients: with weights initialized too large, gradients grow exponentially on
their way back to the first layers, and plain SGD blows up; clipping the gradient norm
(``chainrule.nn.utils.clip_grad_norm_``) keeps the steps bounded (card "Exploding Gradient").

A deep ReLU net with W ~ N(0, g²·2/fan_in) for gains g = 0.5, 1 (He init) and 2: each layer
multiplies the backward signal δ_l = ∂L/∂a_l (the gradient at layer l's pre-activation) by
about g on its way back, so ‖δ₁‖ / ‖δ_L‖ ≈ g^(L−1). (The weight gradients ∂L/∂W_l = δ_l h_{l−1}ᵀ
of such a homogeneous net are all large together, since the forward activations h grow by g
per layer too.) Then the g = 2 net is trained with SGD, with and without clipping.
"""
from __future__ import annotations

import math

import numpy as np

import chainrule as cr
import chainrule.optim  # noqa: F401
from chainrule import nn
from chainrule.nn.utils import clip_grad_norm_

from ._common import report, subplots


def backward_signal_norms(model, x, y):
    """‖∂L/∂a_l‖ at the output a_l of each Linear layer, input side first."""
    h, outs = x, []
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.Linear):
            h.retain_grad()
            outs.append(h)
    nn.CrossEntropyLoss()(h, y).backward()
    return [float(np.linalg.norm(a.grad.numpy())) for a in outs]


def deep_relu(depth, width, gain, in_features=64, classes=10):
    layers, d = [], in_features
    for _ in range(depth):
        lin = nn.Linear(d, width)
        nn.init.normal_(lin.weight, 0.0, gain * math.sqrt(2.0 / d))
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, classes))
    return nn.Sequential(*layers)


def train(model, x, y, steps, lr, clip=None):
    opt = cr.optim.SGD(model.parameters(), lr=lr)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):   # overflowing is what is shown
        _steps(model, opt, x, y, steps, clip, losses)
    return losses


def _steps(model, opt, x, y, steps, clip, losses):
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
        loss.backward()
        if clip is not None:
            clip_grad_norm_(model.parameters(), clip)
        opt.step()


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    depth, width = (10, 64) if fast else (16, 64)
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((128, 64)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, 128))
    norms = {}
    for gain in (0.5, 1.0, 2.0):
        cr.manual_seed(0)
        norms[gain] = backward_signal_norms(deep_relu(depth, width, gain), x, y)
    ratio = {g: n[0] / n[-1] for g, n in norms.items()}
    steps = 30 if fast else 60
    cr.manual_seed(1)
    plain = train(deep_relu(depth, width, 2.0), x, y, steps, lr=1e-2)
    cr.manual_seed(1)
    clipped = train(deep_relu(depth, width, 2.0), x, y, steps, lr=1e-2, clip=1.0)
    plain_blew_up = (not math.isfinite(plain[-1])) or plain[-1] > 10 * plain[0]

    fig, axes = subplots(1, 2, figsize=(11, 4))
    for g, n in norms.items():
        axes[0].semilogy(range(1, len(n) + 1), n, "o-", ms=3, label=f"gain {g} (first/last {ratio[g]:.1e})")
    axes[0].set_xlabel("layer (1 = input side)"), axes[0].set_ylabel("‖∂L/∂a_l‖ (backward signal)")
    axes[0].set_title(f"{depth + 1}-layer ReLU nets, W ~ N(0, g²·2/fan_in)"), axes[0].legend(fontsize=8)
    fin = [v for v in plain if math.isfinite(v)]
    axes[1].semilogy(range(len(fin)), fin, label="SGD, gain 2" + (" (→ inf/NaN)" if len(fin) < len(plain) else ""))
    axes[1].semilogy(range(len(clipped)), clipped, label="SGD, gain 2, clip_grad_norm_(1.0)")
    axes[1].set_xlabel("step"), axes[1].set_ylabel("training loss"), axes[1].legend(fontsize=8)

    finding = ("exploding-gradients: backward signal ‖∂L/∂a‖ first/last layer for init gains "
               "0.5/1/2: "
               + " / ".join(f"{ratio[g]:.1e}" for g in norms)
               + f"; SGD at gain 2: loss {plain[0]:.3g} → {plain[-1]:.3g} unclipped, "
               f"{clipped[0]:.3g} → {clipped[-1]:.3g} with clip_grad_norm_")
    return report({"depth": depth + 1, "norms": {str(g): n for g, n in norms.items()},
                   "first_over_last": {str(g): r for g, r in ratio.items()},
                   "sgd_losses": plain, "clipped_losses": clipped,
                   "unclipped_blew_up": bool(plain_blew_up)},
                   finding, fig, out_dir, "exploding-gradients")
