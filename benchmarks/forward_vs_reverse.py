"""Forward vs reverse mode on the gradient of a scalar loss (the deck's cards "Forward-Mode
Differentiation", "Why is Reverse-Mode highly efficient", "Jacobian Matrix", "VJPs").

For L: Rⁿ → R the Jacobian J = ∂L/∂w is 1×n and the gradient is its only row.

* Forward mode (``cr.func.jacfwd``) gets J one column at a time: J·e_k is one JVP, a forward
  pass carrying the tangent e_k, so the gradient takes n passes — cost ≈ n · cost(L).
* Reverse mode (``cr.func.grad``) gets the row in one VJP, 1ᵀJ: one forward and one backward
  pass — cost ≈ c · cost(L) with a small constant c, whatever n is.

Table 1 times both for n = 10 … 10,000: forward-mode time grows with n (≈ n² here, since each
pass itself touches n numbers), reverse mode's stays within a small multiple of one evaluation.

Table 2 is the memory side ("How does backprop avoid the massive cost of computing full
Jacobians?"): the input gradient of a 10-layer tanh MLP, h_{l+1} = tanh(h_l W_l), batch B,
width d. Backprop keeps each layer's activations (B·d numbers) and passes a B·d cotangent
through each layer's VJP, ḡ_l = ((1 − h²_{l+1}) ⊙ ḡ_{l+1}) W_lᵀ. Building each layer's full
Jacobian ∂vec(h_{l+1})/∂vec(h_l) (a (B·d)×(B·d) matrix, block diagonal over the batch) and
multiplying them holds (B·d)² numbers at once. Peak memory is measured with tracemalloc.

    python benchmarks/forward_vs_reverse.py [--max-n 10000]

Importable: ``forward_vs_reverse(sizes)`` and ``memory_table(widths)`` return the rows,
``run()`` returns both tables as a dict (for ``benchmarks/run.py``). Both run inside
``chainrule.backends.cpu.tuned()`` (off with CHAINRULE_CPU_TUNING=0).
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import chainrule as cr
from chainrule.backends import cpu


def loss_fn(w):
    """A scalar loss of n parameters: L(w) = log(1 + Σ_k (½ tanh w_k + w_k²))."""
    return ((w.tanh() * 0.5 + w * w).sum()).log1p()


def _best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def forward_vs_reverse(sizes=(10, 100, 1_000, 10_000)):
    """Rows (n, one evaluation s, forward mode s, reverse mode s): the gradient of ``loss_fn``
    by n JVPs and by one VJP; both gradients are checked equal."""
    rows = []
    for n in sizes:
        w = cr.tensor(np.random.default_rng(0).standard_normal(n))
        evaluate = _best_time(lambda: loss_fn(w), 5)
        reverse = _best_time(lambda: cr.func.grad(loss_fn)(w), 5)
        forward = _best_time(lambda: cr.func.jacfwd(loss_fn)(w), 3 if n <= 1000 else 1)
        np.testing.assert_allclose(cr.func.jacfwd(loss_fn)(w).numpy() if n <= 1000 else
                                   _forward_gradient_sample(w),
                                   cr.func.grad(loss_fn)(w).numpy()[: 1000 if n > 1000 else n],
                                   rtol=1e-9, atol=1e-12)
        rows.append((n, evaluate, forward, reverse))
    return rows


def _forward_gradient_sample(w):
    """The first 1,000 gradient entries by forward mode (J·e_k for k < 1000), to check large n."""
    out = []
    for k in range(1000):
        e = np.zeros(w.numel())
        e[k] = 1.0
        out.append(cr.func.jvp(loss_fn, (w,), (cr.tensor(e),))[1].item())
    return np.array(out)


def mlp(depth=10, width=64, batch=16, seed=0):
    """Weights W_l (d×d, scaled 1/√d) and an input batch (B×d)."""
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(depth)]
    return Ws, rng.standard_normal((batch, width))


def backprop_input_gradient(Ws, x):
    """∂(Σ h_L)/∂x by reverse mode through chainrule: one VJP per layer, vectors only."""
    xt = cr.tensor(x, requires_grad=True)
    h = xt
    for W in Ws:
        h = (h @ cr.tensor(W)).tanh()
    h.sum().backward()
    return xt.grad.numpy()


def full_jacobian_input_gradient(Ws, x):
    """The same gradient as 1ᵀ J_L ⋯ J_1, each J_l = ∂vec(h_l)/∂vec(h_{l−1}) built in full:
    J_l = diag(1 − h_l²) · (I_B ⊗ W_lᵀ), a (B·d)×(B·d) matrix."""
    h, J = x, None
    for W in Ws:
        h = np.tanh(h @ W)
        local = np.kron(np.eye(x.shape[0]), W.T) * (1 - h * h).reshape(-1, 1)
        J = local if J is None else local @ J
    return (np.ones(h.size) @ J).reshape(x.shape)


def _peak(fn, *args):
    """fn's result, the peak bytes traced while it ran, and its best time untraced."""
    tracemalloc.start()
    try:
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak, _best_time(lambda: fn(*args), 3)


def memory_table(widths=(16, 32, 64), depth=10, batch=16):
    """Rows (width, backprop peak bytes, full-Jacobian peak bytes, backprop s, Jacobian s);
    both gradients are checked equal."""
    rows = []
    for d in widths:
        Ws, x = mlp(depth, d, batch)
        g_bp, peak_bp, t_bp = _peak(backprop_input_gradient, Ws, x)
        g_fj, peak_fj, t_fj = _peak(full_jacobian_input_gradient, Ws, x)
        np.testing.assert_allclose(g_bp, g_fj, rtol=1e-9, atol=1e-12)
        rows.append((d, peak_bp, peak_fj, t_bp, t_fj))
    return rows


def run(max_n=10_000, widths=(16, 32, 64)):
    sizes = [n for n in (10, 100, 1_000, 10_000) if n <= max_n]
    with cpu.tuned():
        return {"forward_vs_reverse": [dict(n=n, eval_s=e, forward_s=f, reverse_s=r)
                                       for n, e, f, r in forward_vs_reverse(sizes)],
                "memory": [dict(width=d, backprop_bytes=b, full_jacobian_bytes=j, backprop_s=tb,
                                full_jacobian_s=tj) for d, b, j, tb, tj in memory_table(widths)]}


def main():
    ap = argparse.ArgumentParser(description="forward vs reverse mode")
    ap.add_argument("--max-n", type=int, default=10_000)
    args = ap.parse_args()
    with cpu.tuned():
        print_tables(args.max_n)


def print_tables(max_n):
    sizes = [n for n in (10, 100, 1_000, 10_000) if n <= max_n]
    print("Gradient of a scalar loss L: R^n -> R (best of repeats; same gradient both ways)")
    head = (f"{'n':>7} {'one eval ms':>12} {'forward: n JVPs ms':>19} {'reverse: 1 VJP ms':>18} "
            f"{'fwd/rev':>9} {'fwd/eval':>9} {'rev/eval':>9}")
    print(head)
    print("-" * len(head))
    for n, e, f, r in forward_vs_reverse(sizes):
        print(f"{n:>7} {e * 1e3:>12.3f} {f * 1e3:>19.1f} {r * 1e3:>18.3f} {f / r:>9.0f} "
              f"{f / e:>9.0f} {r / e:>9.1f}")
    print("\nPeak memory (tracemalloc) for the input gradient of a 10-layer tanh MLP, batch 16")
    head = (f"{'width':>6} {'backprop (VJPs) MiB':>20} {'full Jacobians MiB':>19} {'ratio':>7} "
            f"{'backprop ms':>12} {'Jacobians ms':>13}")
    print(head)
    print("-" * len(head))
    for d, b, j, tb, tj in memory_table():
        print(f"{d:>6} {b / 2**20:>20.3f} {j / 2**20:>19.2f} {j / b:>7.0f} {tb * 1e3:>12.1f} "
              f"{tj * 1e3:>13.1f}")


if __name__ == "__main__":
    main()
