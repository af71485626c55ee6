"""Sampling speed: chainrule (torch's numbers, reproduced in NumPy) vs torch vs NumPy's own
generator.

chainrule draws torch's mt19937 stream in bulk (NumPy's MT19937 ``random_raw``) and applies
torch's transforms vectorised; NumPy's column is ``np.random.default_rng`` (PCG64, its own
algorithms), the speed a NumPy program gets when it does not care about torch's numbers.

    python benchmarks/sampling.py [--repeat 5]

Each cell is the best of ``--repeat`` calls, in milliseconds. Not a test: only ratios from the
same run mean anything.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import chainrule as cr

try:
    import torch
except ImportError:   # the table then has no torch column
    torch = None


def _best(fn, repeat):
    fn()   # warm-up
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def cases(n_big=1_000_000):
    rng = np.random.default_rng(0)
    f32, f64 = np.float32, np.float64
    rows = [
        ("rand float32", n_big, lambda: cr.rand(n_big), lambda: torch.rand(n_big),
         lambda: rng.random(n_big, dtype=f32)),
        ("rand float64", n_big, lambda: cr.rand(n_big, dtype=cr.float64),
         lambda: torch.rand(n_big, dtype=torch.float64), lambda: rng.random(n_big, dtype=f64)),
        ("randn float32", n_big, lambda: cr.randn(n_big), lambda: torch.randn(n_big),
         lambda: rng.standard_normal(n_big, dtype=f32)),
        ("randn float64", n_big, lambda: cr.randn(n_big, dtype=cr.float64),
         lambda: torch.randn(n_big, dtype=torch.float64),
         lambda: rng.standard_normal(n_big, dtype=f64)),
        ("randn float32 (8 values)", 8, lambda: cr.randn(8), lambda: torch.randn(8),
         lambda: rng.standard_normal(8, dtype=f32)),
        ("randint [0, 10)", n_big, lambda: cr.randint(0, 10, (n_big,)),
         lambda: torch.randint(0, 10, (n_big,)), lambda: rng.integers(0, 10, n_big)),
        ("randperm", 60_000, lambda: cr.randperm(60_000), lambda: torch.randperm(60_000),
         lambda: rng.permutation(60_000)),
        ("randperm", n_big, lambda: cr.randperm(n_big), lambda: torch.randperm(n_big),
         lambda: rng.permutation(n_big)),
    ]
    return rows


def run(repeat=5):
    out = []
    for name, n, ours, theirs, numpy_fn in cases():
        out.append((name, n, _best(ours, repeat),
                    _best(theirs, repeat) if torch is not None else float("nan"),
                    _best(numpy_fn, repeat)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if torch is not None:
        torch.set_num_threads(1)   # torch's samplers are serial; keep its other work on one core
    print("| function | n | chainrule ms | torch ms | NumPy (PCG64) ms | ÷torch | ÷NumPy |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, a, b, c in run(args.repeat):
        print(f"| {name} | {n:,} | {a:.3f} | {b:.3f} | {c:.3f} | {a / b:.1f} | {a / c:.1f} |")


if __name__ == "__main__":
    main()
