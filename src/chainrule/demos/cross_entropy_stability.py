"""Cross-entropy the naive way overflows; the log-sum-exp trick does not (cards "Cross-Entropy
Loss" and "Log-Sum-Exp trick").

Naive:   L = −log( e^{z_y} / Σ_j e^{z_j} )   — e^{z} overflows float32 once z > 88.7, giving
         inf/inf = NaN (or log 0 = −inf when the true class underflows).
Stable:  L = logsumexp(z) − z_y,  logsumexp(z) = m + log Σ_j e^{z_j − m},  m = max_j z_j
         — every exponent is ≤ 0, so nothing overflows, and the largest term is exactly 1.

The demo scales a fixed set of logits by s = 1 … 10⁴ and records both losses and the gradient
of the stable one; the exact loss is computed in float64 with Python's math, term by term.
"""
from __future__ import annotations

import math

import numpy as np

import chainrule as cr

from ._common import report, subplots


def _naive(z, y):
    p = z.exp() / z.exp().sum(dim=1, keepdim=True)           # softmax without the shift
    return -(p.log().gather(1, y.unsqueeze(1))).mean()


def _stable(z, y):
    return -(cr.log_softmax(z, dim=1).gather(1, y.unsqueeze(1))).mean()


def _exact(z, y):
    """The loss of float64 logits, by the LSE identity in exact Python floats."""
    total = 0.0
    for row, t in zip(z.tolist(), y.tolist()):
        m = max(row)
        total += m + math.log(sum(math.exp(v - m) for v in row)) - row[t]
    return total / len(z)


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((8, 5)).astype(np.float32)
    y = cr.tensor(rng.integers(0, 5, size=8))
    scales = np.logspace(0, 4, 9 if fast else 25)
    naive, stable, exact, grad_finite = [], [], [], []
    for s in scales:
        z = cr.tensor(base * np.float32(s), requires_grad=True)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # the point
            naive.append(_naive(z, y).item())
        loss = _stable(z, y)
        loss.backward()
        stable.append(loss.item())
        grad_finite.append(bool(np.isfinite(z.grad.numpy()).all()))
        exact.append(_exact(base.astype(np.float64) * s, y.numpy()))
    naive, stable, exact = map(np.array, (naive, stable, exact))
    first_bad = next((float(s) for s, v in zip(scales, naive) if not np.isfinite(v)), None)
    rel_err = float(np.max(np.abs(stable - exact) / np.maximum(np.abs(exact), 1.0)))

    fig, ax = subplots(figsize=(6, 4))
    ax.loglog(scales, exact, "k-", lw=3, alpha=0.3, label="exact (float64)")
    ax.loglog(scales, stable, "o-", ms=3, label="log-sum-exp (cr.log_softmax)")
    finite = np.isfinite(naive)
    ax.loglog(scales[finite], naive[finite], "x--", label="naive −log(softmax)")
    if first_bad is not None:
        ax.axvline(first_bad, color="r", ls=":", label=f"naive gives NaN/inf from s = {first_bad:.0f}")
    ax.set_xlabel("logit scale s"), ax.set_ylabel("cross-entropy loss")
    ax.set_title("Cross-entropy on logits s·z (float32)")
    ax.legend(fontsize=8)

    finding = (f"cross-entropy-stability: naive softmax-then-log is non-finite from logit scale "
               f"{first_bad:.0f}; log-sum-exp stays finite up to {scales[-1]:.0f} "
               f"(max rel. error vs exact {rel_err:.1e}, gradients finite: {all(grad_finite)})")
    return report({"scales": scales.tolist(), "naive": naive.tolist(), "stable": stable.tolist(),
                   "exact": exact.tolist(), "naive_first_nonfinite_scale": first_bad,
                   "stable_all_finite": bool(np.isfinite(stable).all()),
                   "stable_max_rel_error": rel_err, "grad_all_finite": all(grad_finite)},
                  finding, fig, out_dir, "cross-entropy-stability")
