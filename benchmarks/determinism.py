"""The cost of ``chainrule.use_deterministic_algorithms(True)`` (part of ``make bench``).

    python benchmarks/determinism.py [--seconds 3]

Times LeNet-5 (batch 64) and resnet20 (batch 32) SGD training steps at 1 and 2 threads inside
``backends.cpu.tuned()``, with the default chunking of the convolution kernels (sized by the
thread count, and oneDNN's kernels where installed) and with the deterministic one (NumPy
kernels, chunks sized as for 2 threads whatever the count).
That the deterministic weights agree bit for bit across thread counts is a test
(tests/test_determinism.py).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import chainrule as cr
from chainrule.backends import cpu

MODELS = {"lenet5": (cr.models.LeNet5, (64, 1, 28, 28)), "resnet20": (cr.models.resnet20, (32, 3, 32, 32))}


def steps_per_second(name, threads, deterministic, seconds):
    build, shape = MODELS[name]
    cr.use_deterministic_algorithms(deterministic)
    with cpu.tuned():
        cr.set_num_threads(threads)
        cr.manual_seed(0)
        model = build()
        opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(0)
        x = cr.tensor(rng.standard_normal(shape).astype(np.float32))
        y = cr.tensor(rng.integers(0, 10, shape[0]))

        def step():
            opt.zero_grad()
            cr.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        step()
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            step()
            count += 1
        rate = count / (time.perf_counter() - start)
    cr.use_deterministic_algorithms(False)
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(f"{'model':9s} {'threads':>7s} {'default':>10s} {'determ.':>10s} {'cost':>7s}")
    for name in MODELS:
        for threads in (1, 2):
            default = steps_per_second(name, threads, False, args.seconds)
            det = steps_per_second(name, threads, True, args.seconds)
            print(f"{name:9s} {threads:7d} {default:8.2f}/s {det:8.2f}/s {default / det - 1:+6.1%}")


if __name__ == "__main__":
    main()
