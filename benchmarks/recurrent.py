"""nn.LSTM / nn.GRU / nn.RNN layers, chainrule vs torch in one process: a forward and backward
(training) and an eval forward under no_grad (inference), same weights and batch, rounds
alternating between the two frameworks, best round reported.

    python benchmarks/recurrent.py [--modes LSTM,GRU,RNN] [--threads 2] [--layers 2]
                                   [--hidden 200] [--steps 35] [--batch 20] [--rounds 5]

The default size is pytorch/examples' word-level language model (200 features, 2 layers,
35 steps of 20 sequences). chainrule runs inside ``backends.cpu.tuned()``.
"""
from __future__ import annotations

import argparse
import os
import time
import warnings


def build(mode, layers, hidden, steps, batch):
    """(chainrule train, torch train, chainrule infer, torch infer) on the same weights and
    input; the first outputs are compared before timing."""
    import numpy as np
    import torch
    import chainrule as cr
    mine = getattr(cr.nn, mode)(hidden, hidden, layers)
    ref = getattr(torch.nn, mode)(hidden, hidden, layers)
    ref.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in mine.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((steps, batch, hidden)).astype(np.float32)
    X, XT = cr.tensor(x), torch.tensor(x)
    gap = np.abs(mine(X)[0].detach().numpy() - ref(XT)[0].detach().numpy()).max()
    if gap > 1e-4:
        raise SystemExit(f"{mode}: outputs differ by {gap}")

    def train_chainrule():
        mine.zero_grad()
        mine(X)[0].sum().backward()

    def train_torch():
        ref.zero_grad()
        ref(XT)[0].sum().backward()

    def infer_chainrule():
        with cr.no_grad():
            mine(X)

    def infer_torch():
        with torch.no_grad():
            ref(XT)
    return train_chainrule, train_torch, infer_chainrule, infer_torch


def best_ms(fns, rounds, seconds=0.5):
    """Each function's best round (ms per call), the rounds alternating between them."""
    best = [float("inf")] * len(fns)
    for fn in fns:
        fn()
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            calls, start = 0, time.perf_counter()
            while calls < 2 or time.perf_counter() - start < seconds:
                fn()
                calls += 1
            best[i] = min(best[i], (time.perf_counter() - start) / calls * 1e3)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="LSTM,GRU,RNN")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--steps", type=int, default=35)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    import numpy as np
    import torch
    import chainrule as cr
    from chainrule.backends import cpu
    torch.set_num_threads(args.threads)
    cr.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    print(f"threads={args.threads}  torch {torch.__version__}  numpy {np.__version__}  "
          f"{args.layers} layers × {args.hidden}, {args.steps} steps × batch {args.batch}\n")
    print(f"{'layer':6} {'':9} {'chainrule':>10} {'torch':>8} {'÷torch':>7}")
    with cpu.tuned():
        for mode in args.modes.split(","):
            train_c, train_t, infer_c, infer_t = build(mode, args.layers, args.hidden,
                                                       args.steps, args.batch)
            for what, pair in (("train", (train_c, train_t)), ("inference", (infer_c, infer_t))):
                c, t = best_ms(pair, args.rounds)
                print(f"{mode:6} {what:9} {c:8.2f}ms {t:6.2f}ms {t / c:7.2f}")


if __name__ == "__main__":
    main()
