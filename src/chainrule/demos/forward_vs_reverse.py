"""Forward mode vs reverse mode: the cost of a gradient as the input dimension grows (cards
"Forward-Mode Differentiation", "Reverse-Mode Differentiation", "Why is Reverse-Mode highly
efficient", "VJPs").

For a scalar loss L: Rⁿ → R, L(x) = Σ tanh(xA)² with A ∈ R^{n×16}:
* forward mode pushes one tangent ẋ through the graph per pass and gets one directional
  derivative ∂L/∂x · ẋ; the full gradient takes n passes with ẋ = e₁ … eₙ — cost O(n) passes;
* reverse mode pulls the single cotangent L̄ = 1 back through the graph as a chain of
  vector-Jacobian products and gets all n partial derivatives in one pass.
Both use chainrule's own rules (each primitive's ``jvp`` and ``backward``) and must agree.
"""
from __future__ import annotations

import time

import numpy as np

import chainrule as cr
from chainrule.autograd import forward_ad as fwAD

from ._common import best_time, report, subplots


def _loss(x, A):
    return (x @ A).tanh().pow(2).sum()


def forward_mode_gradient(x, A):
    """∇L by n forward-mode passes, one per basis tangent."""
    n = x.shape[0]
    eye = np.eye(n, dtype=np.float32)
    g = np.empty(n, dtype=np.float32)
    with fwAD.dual_level():
        for i in range(n):
            dual = fwAD.make_dual(x, cr.from_numpy(eye[i]))
            g[i] = fwAD.unpack_dual(_loss(dual, A)).tangent.item()
    return g


def reverse_mode_gradient(x, A):
    """∇L by one backward pass (a chain of VJPs)."""
    xr = x.detach().requires_grad_()
    _loss(xr, A).backward()
    return xr.grad.numpy()


def run(fast: bool = False, out_dir: str | None = None) -> dict:
    sizes = [10, 100, 1000] if fast else [10, 100, 1000, 3000]
    rng = np.random.default_rng(0)
    t_fwd, t_rev, max_diff = [], [], []
    for n in sizes:
        x = cr.tensor(rng.standard_normal(n).astype(np.float32))
        A = cr.tensor((rng.standard_normal((n, 16)) / np.sqrt(n)).astype(np.float32))
        t0 = time.perf_counter()
        gf = forward_mode_gradient(x, A)
        tf = time.perf_counter() - t0
        if n <= 100:                          # cheap: take the best of 3 like reverse mode
            tf = min(tf, best_time(lambda: forward_mode_gradient(x, A), repeat=2))
        gr = reverse_mode_gradient(x, A)
        tr = best_time(lambda: reverse_mode_gradient(x, A), repeat=5)
        t_fwd.append(tf), t_rev.append(tr)
        max_diff.append(float(np.max(np.abs(gf - gr))))
    ratio = [f / r for f, r in zip(t_fwd, t_rev)]

    fig, ax = subplots(figsize=(6, 4))
    ax.loglog(sizes, t_fwd, "o-", label="forward mode (n JVP passes)")
    ax.loglog(sizes, t_rev, "s-", label="reverse mode (one VJP pass)")
    ax.set_xlabel("input dimension n"), ax.set_ylabel("time for the full gradient (s)")
    ax.set_title("Gradient of a scalar loss: forward vs reverse mode")
    ax.legend()

    i = sizes.index(1000)
    finding = (f"forward-vs-reverse: at n = 1,000 forward mode takes {t_fwd[i] * 1e3:.1f} ms, "
               f"reverse mode {t_rev[i] * 1e3:.2f} ms ({ratio[i]:.0f}x); gradients agree to "
               f"{max(max_diff):.1e}")
    return report({"sizes": sizes, "forward_s": t_fwd, "reverse_s": t_rev, "ratio": ratio,
                   "max_abs_diff": max(max_diff)}, finding, fig, out_dir, "forward-vs-reverse")
