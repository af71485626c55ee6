"""Inference through ONNX Runtime: ``chainrule.compile(model, backend="onnxruntime")`` against
torch eager, chainrule eager and ``chainrule.compile(model)`` (the chainrule backend), on the
same weights and batch, in one process, alternating rounds.

    python benchmarks/compile_onnxruntime.py [--models lenet,resnet20] [--seconds 2]

The models are the ones `make bench` times (``worker.build_chainrule_model`` and the torch
twin with the same state_dict keys, ``worker.build_torch_model``): LeNet-5 on a batch of 64
1×28×28 images, resnet20 on 32 3×32×32 images, eval mode, no gradients. torch keeps its
default threads (``torch.set_num_threads`` untouched) and ONNX Runtime its default (one
intra-op thread per physical core); chainrule eager runs inside ``backends.cpu.tuned()``.
Outputs are checked against torch's before timing. The table gives each runner's time per
batch (the best round's mean) and its speed relative to torch eager (>1: faster).
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def runners(name, seed=0):
    """{runner: fn() -> output array} for workload ``name``, all on the same weights and batch."""
    import numpy as np
    import torch
    from worker import build_chainrule_model, build_torch_model

    import chainrule as cr
    shape = {"lenet": (64, 1, 28, 28), "resnet20": (32, 3, 32, 32)}.get(name)
    if shape is None:
        raise SystemExit(f"unknown model {name!r}: lenet or resnet20")
    rng = np.random.default_rng(seed)
    cr.manual_seed(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    mine, ref = build_chainrule_model(name).eval(), build_torch_model(name).eval()
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    X, XT = cr.tensor(x), torch.tensor(x)
    ort_model = cr.compile(mine, backend="onnxruntime")
    replayed = cr.compile(mine)

    def torch_eager():
        with torch.no_grad():
            return ref(XT).numpy()

    def under_no_grad(model):
        def run():
            with cr.no_grad():
                return model(X).numpy()
        return run
    return {"torch eager": torch_eager, "chainrule eager": under_no_grad(mine),
            "compile onnxruntime": under_no_grad(ort_model),
            "compile chainrule": under_no_grad(replayed)}


def time_per_call(fn, seconds):
    """Mean seconds per call over ``seconds`` of calls (after 3 warm-up calls)."""
    for _ in range(3):
        fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="lenet,resnet20")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import numpy as np
    import onnxruntime
    import torch

    from chainrule.backends import cpu
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime "
          f"{onnxruntime.__version__}, {os.cpu_count()} CPUs")
    print(f"{'model':10s} {'runner':20s} {'ms/batch':>10s} {'× torch':>8s} {'max |Δ| vs torch':>17s}")
    for name in args.models.split(","):
        fns = runners(name)
        with cpu.tuned():
            want = fns["torch eager"]()
            diffs = {k: float(np.abs(f() - want).max()) for k, f in fns.items()}
            best = {k: float("inf") for k in fns}
            for _ in range(args.rounds):          # alternate: drift hits every runner alike
                for k, f in fns.items():
                    best[k] = min(best[k], time_per_call(f, args.seconds))
        for k in fns:
            print(f"{name:10s} {k:20s} {best[k] * 1e3:10.2f} {best['torch eager'] / best[k]:8.2f} "
                  f"{diffs[k]:17.2e}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
