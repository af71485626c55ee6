"""Per-layer convolution times: oneDNN through ``chainrule.backends.onednn`` vs torch vs
chainrule's NumPy kernels (``nn.functional.conv_kernels``), for the conv layers of LeNet-5
(batch 64, 1×28×28) and CIFAR resnet20 (batch 32, 3×32×32): forward, backward-data and
backward-weights, at 1 and 2 threads. Not a timed test: a table to read.

    python benchmarks/onednn_layers.py                  # the table, 1 and 2 threads
    python benchmarks/onednn_layers.py --threads 1 --breakdown   # + reorder share (ONEDNN_VERBOSE)
    python benchmarks/onednn_layers.py --bias           # forward with bias fused vs added after

Each cell is the minimum over rounds in which the implementations take turns (a busy machine
inflates some rounds; the minimum is the least disturbed). The NumPy kernels run inside
``backends.cpu.tuned()``, as in training (their chunks on a pool of one-BLAS-thread workers).
The oneDNN column is the steady state: its plans (primitives, chosen layout) are built at a
first call, outside the timing.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict

import numpy as np
import torch

import chainrule as cr
from chainrule.backends import cpu, onednn
from chainrule.nn.functional import conv_kernels
from chainrule.nn.functional.conv import Geometry

# name, x shape, w shape, stride, padding, bias
LAYERS = [
    ("lenet.conv1", (64, 1, 28, 28), (6, 1, 5, 5), 1, 2, True),
    ("lenet.conv2", (64, 6, 14, 14), (16, 6, 5, 5), 1, 0, True),
    ("r20.stem", (32, 3, 32, 32), (16, 3, 3, 3), 1, 1, False),
    ("r20.16→16", (32, 16, 32, 32), (16, 16, 3, 3), 1, 1, False),
    ("r20.16→32/2", (32, 16, 32, 32), (32, 16, 3, 3), 2, 1, False),
    ("r20.32→32", (32, 32, 16, 16), (32, 32, 3, 3), 1, 1, False),
    ("r20.1×1 16→32/2", (32, 16, 32, 32), (32, 16, 1, 1), 2, 0, False),
    ("r20.32→64/2", (32, 32, 16, 16), (64, 32, 3, 3), 2, 1, False),
    ("r20.64→64", (32, 64, 8, 8), (64, 64, 3, 3), 1, 1, False),
    ("r20.1×1 32→64/2", (32, 32, 16, 16), (64, 32, 1, 1), 2, 0, False),
]
KINDS = ("forward", "backward_data", "backward_weights")


def minimum_time(fns, rounds, budget):
    """{name: min seconds} over ``rounds`` rounds in which every fn runs once, in turn."""
    for fn in fns.values():       # warm-up: plans, JIT, page faults
        fn()
        fn()
    best = {name: float("inf") for name in fns}
    deadline = time.perf_counter() + budget
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return best


def layer_fns(x_shape, w_shape, s, p, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32) if bias else None
    geo = Geometry((s, s), (p, p), (1, 1), 1, w_shape[2:])
    ho, wo = geo.out_size(*x_shape[2:])
    gy = rng.standard_normal((x_shape[0], w_shape[0], ho, wo)).astype(np.float32)
    tx, tw, tgy = torch.tensor(x), torch.tensor(w), torch.tensor(gy)
    tb = None if b is None else torch.tensor(b)

    def numpy_weight():
        gw = conv_kernels.conv_weight(x, gy, geo, w_shape)
        return gw, (gy.sum((0, 2, 3)) if bias else None)

    def on_numpy(fn):   # conv_kernels sends a float32 conv to oneDNN while it is enabled
        def run():
            with onednn.flags(enabled=False):
                return fn()
        return run

    return {
        "forward": {
            "torch": lambda: torch.nn.functional.conv2d(tx, tw, tb, s, p),
            "onednn": lambda: onednn.conv2d_forward(x, w, b, s, p),
            "numpy": on_numpy(lambda: conv_kernels.conv(x, w, geo, ho, wo, b)),
        },
        "backward_data": {
            "torch": lambda: torch.nn.grad.conv2d_input(x_shape, tw, tgy, s, p),
            "onednn": lambda: onednn.conv2d_backward_data(gy, w, x_shape, s, p),
            "numpy": on_numpy(lambda: conv_kernels.conv_transpose(gy, w, geo, x_shape)),
        },
        "backward_weights": {
            # torch's weight (and bias) gradient as autograd computes it
            "torch": lambda: torch.ops.aten.convolution_backward(
                tgy, tx, tw, [w_shape[0]] if bias else None, [s, s], [p, p], [1, 1], False,
                [0, 0], 1, [False, True, bias]),
            "onednn": lambda: onednn.conv2d_backward_weights(x, gy, w_shape, s, p, with_bias=bias),
            "numpy": on_numpy(numpy_weight),
        },
    }


def table(threads, rounds, budget):
    cr.set_num_threads(threads)
    torch.set_num_threads(threads)
    print(f"\n## {threads} thread{'s' * (threads > 1)}: µs per call (min over rounds); ratios < 1 "
          "mean oneDNN is faster")
    print(f"{'layer':18} {'op':17} {'torch':>8} {'onednn':>8} {'numpy':>8} {'dnn/torch':>9} "
          f"{'dnn/numpy':>9}  onednn implementation")
    totals = defaultdict(float)
    with cpu.tuned():
        for name, xs, ws, s, p, bias in LAYERS:
            fns = layer_fns(xs, ws, s, p, bias)
            for kind in KINDS:
                t = minimum_time(fns[kind], rounds, budget)
                for k, v in t.items():
                    totals[k] += v
                impl = onednn.implementation(kind, xs, ws, s, p, with_bias=bias)
                print(f"{name:18} {kind:17} {t['torch'] * 1e6:8.0f} {t['onednn'] * 1e6:8.0f} "
                      f"{t['numpy'] * 1e6:8.0f} {t['onednn'] / t['torch']:9.2f} "
                      f"{t['onednn'] / t['numpy']:9.2f}  {impl}", flush=True)
    print(f"{'all layers':18} {'all three':17} {totals['torch'] * 1e6:8.0f} {totals['onednn'] * 1e6:8.0f} "
          f"{totals['numpy'] * 1e6:8.0f} {totals['onednn'] / totals['torch']:9.2f} "
          f"{totals['onednn'] / totals['numpy']:9.2f}")


def bias_fusion(rounds, budget):
    """Forward with the bias inside the convolution (oneDNN adds it in the kernel's epilogue)
    vs without bias plus a NumPy add."""
    print("\n## forward: bias in the kernel vs added after (µs)")
    for name, xs, ws, s, p, _ in LAYERS:
        rng = np.random.default_rng(0)
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)

        def added():
            y = onednn.conv2d_forward(x, w, None, s, p)
            y += b[:, None, None]
            return y

        t = minimum_time({"fused": lambda: onednn.conv2d_forward(x, w, b, s, p), "added": added},
                         rounds, budget)
        print(f"{name:18} fused {t['fused'] * 1e6:7.0f}   added after {t['added'] * 1e6:7.0f}")


def breakdown(threads):
    """Share of each call spent in reorders (NCHW ↔ blocked), from oneDNN's own timings:
    rerun this script with ONEDNN_VERBOSE=1 and sum the 'exec' lines per layer and op."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    out = subprocess.run([sys.executable, __file__, "--verbose-child", "--threads", str(threads)],
                         env=env, capture_output=True, text=True, check=True).stdout
    print(f"\n## where a blocked-layout call's time goes ({threads} thread(s), oneDNN's timings, µs)")
    print(f"{'layer':18} {'op':17} {'conv':>8} {'reorders':>9} {'share':>6}  weights reorder")
    layer = None
    sums = defaultdict(lambda: defaultdict(list))
    for line in out.splitlines():
        if line.startswith("@@ "):
            layer = tuple(line[3:].split("|"))
        elif line.startswith("onednn_verbose") and ",exec," in line and layer is not None:
            fields = line.split(",")
            ms = float(fields[-1])
            prim = fields[3]
            is_weights = prim == "reorder" and re.search(r"blocked:AB", line) is not None  # OIhw16i16o
            sums[layer]["conv" if prim == "convolution" else "wreorder" if is_weights else "reorder"].append(ms)
    for (name, kind), parts in sums.items():
        conv = np.median(parts["conv"]) * 1e3 if parts["conv"] else 0.0
        n = max(1, len(parts["conv"]))
        reorders = (sum(parts["reorder"]) + sum(parts["wreorder"])) / n * 1e3
        weights = sum(parts["wreorder"]) / n * 1e3
        print(f"{name:18} {kind:17} {conv:8.0f} {reorders:9.0f} {reorders / (conv + reorders):6.0%}  {weights:6.1f}")


def verbose_child(threads):
    cr.set_num_threads(threads)
    onednn.autotune = False
    onednn._heuristic = lambda kind, args, geo: "blocked"
    for name, xs, ws, s, p, bias in LAYERS:
        fns = layer_fns(xs, ws, s, p, bias)
        for kind in KINDS:
            fns[kind]["onednn"]()                      # plan built, JIT warm
            print(f"@@ {name}|{kind}", flush=True)
            for _ in range(5):
                fns[kind]["onednn"]()
            sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget per layer and op")
    parser.add_argument("--layers", default="", help="only layers whose name contains this")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--bias", action="store_true")
    parser.add_argument("--verbose-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    LAYERS[:] = [layer for layer in LAYERS if args.layers in layer[0]]
    if args.verbose_child:
        return verbose_child(threads[0])
    if not onednn.is_available():
        sys.exit(f"oneDNN is not available: {onednn._dnnl.load_error()}")
    print(f"oneDNN {'.'.join(map(str, onednn._dnnl.version()))}, torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    for n in threads:
        table(n, args.rounds, args.seconds)
        if args.bias:
            bias_fusion(args.rounds, args.seconds)
        if args.breakdown:
            breakdown(n)


if __name__ == "__main__":
    main()
