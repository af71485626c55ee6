"""Forward vs reverse mode on the gradient of a scalar loss (the deck's cards "Forward-Mode
Differentiation", "Why is Reverse-Mode highly efficient", "VJPs").

Table 1: ∇L for L: Rⁿ → R by forward mode (jacfwd: n JVPs, one per input direction) and by
reverse mode (one VJP). Forward mode's cost grows with n; reverse mode's stays flat.

Table 2: peak memory of backprop through a 10-layer MLP (a chain of VJPs: vectors only) vs
building each layer's full Jacobian and multiplying them (matrices of width × batch·width).

    python benchmarks/forward_vs_reverse.py [--max-n 10000]
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import chainrule as cr


def loss_fn(w):
    """A scalar loss of n parameters: a small two-layer computation on fixed data."""
    return ((w.tanh() * 0.5 + w * w).sum()).log1p()


def time_it(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def forward_vs_reverse(sizes):
    rows = []
    for n in sizes:
        w = cr.tensor(np.random.default_rng(0).standard_normal(n))
        rev = time_it(lambda: cr.func.grad(loss_fn)(w), repeat=3)
        fwd = time_it(lambda: cr.func.jacfwd(loss_fn)(w))
        g_rev = cr.func.grad(loss_fn)(w).numpy()
        if n <= 1000:   # both give the same gradient
            np.testing.assert_allclose(cr.func.jacfwd(loss_fn)(w).numpy(), g_rev, rtol=1e-9)
        rows.append((n, fwd, rev, fwd / rev))
    return rows


def mlp_layers(depth=10, width=64, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(depth)]
    return Ws, rng.standard_normal((batch, width))


def backprop_peak(Ws, x):
    tracemalloc.start()
    params = [cr.tensor(W, requires_grad=True) for W in Ws]
    h = cr.tensor(x, requires_grad=True)
    for W in params:
        h = (h @ W).tanh()
    h.sum().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def full_jacobian_peak(Ws, x):
    """∂out/∂input of the whole net as a product of per-layer Jacobians (batch·width)²."""
    tracemalloc.start()
    h = x
    J = None
    for W in Ws:
        z = h @ W
        h = np.tanh(z)
        # layer Jacobian of vec(h_out) w.r.t. vec(h_in): block-diagonal over the batch
        local = np.kron(np.eye(x.shape[0]), W.T) * (1 - h * h).reshape(-1, 1)
        J = local if J is None else local @ J
    grad = np.ones(h.size) @ J
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, grad


def main():
    ap = argparse.ArgumentParser(description="forward vs reverse mode")
    ap.add_argument("--max-n", type=int, default=10_000)
    args = ap.parse_args()
    sizes = [n for n in (10, 100, 1_000, 10_000) if n <= args.max_n]
    print("Gradient of a scalar loss of n inputs")
    print(f"{'n':>7} {'forward (n JVPs) s':>20} {'reverse (1 VJP) s':>19} {'forward/reverse':>16}")
    for n, f, r, ratio in forward_vs_reverse(sizes):
        print(f"{n:>7} {f:>20.4f} {r:>19.5f} {ratio:>16.1f}")
    Ws, x = mlp_layers()
    bp = backprop_peak(Ws, x)
    fj, _ = full_jacobian_peak(Ws, x)
    print("\nPeak memory, 10-layer tanh MLP (width 64, batch 16), gradient w.r.t. the input")
    print(f"{'method':<34}{'peak MiB':>10}")
    print(f"{'backprop (chain of VJPs)':<34}{bp / 2**20:>10.2f}")
    print(f"{'full Jacobians multiplied':<34}{fj / 2**20:>10.2f}")
    print(f"{'ratio':<34}{fj / bp:>10.1f}")


if __name__ == "__main__":
    main()
