"""Where a training step's time goes, chainrule beside torch, on the models and batches of
``paired_steps.py`` (same weights, same batch):

    python benchmarks/step_profile.py [--model resnet20] [--threads 2] [--steps 10] [--infer]

Three tables, each the mean over ``--steps`` steps after three warm-up steps:

1. the phases of a step (``zero_grad``, forward and loss, ``backward``, the optimizer's
   ``step``), both frameworks, their steps alternating (``--infer``: the eval forward alone);
2. chainrule's primitives: the time in each node type's forward and in its backward rule
   (a rule that calls other primitives counts their time too, so the rows overlap);
3. each module type's forward (forward hooks: ``Conv2d``, ``BatchNorm2d``, ``ReLU``, ...),
   both frameworks.

Tables 2 and 3 come from instrumented steps (a timer around every call), which run a little
slower than plain ones: read them as shares of a step, and table 1 for the step's time. Not a
timed test; the issue-20 closing notes' profiles "outside the convolutions" come from here.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict

HOOKED = ("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Linear", "AdaptiveAvgPool2d")


def phase_steps(name, infer):
    """(chainrule phases, torch phases): functions running one step and returning the seconds
    of each phase, on ``paired_steps.build``'s models and batch."""
    import numpy as np
    import torch
    import chainrule as cr
    import chainrule.nn.functional as F
    from paired_steps import build
    mine, ref = (f.model for f in build(name, infer=infer))
    rng = np.random.default_rng(0)     # paired_steps.build's batch
    shape = {"mlp": (128, 784), "lenet": (64, 1, 28, 28), "resnet20": (32, 3, 32, 32)}[name]
    x, y = rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, shape[0])

    def phases(lib, model, loss_fn, X, Y):
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def run():
            if infer:
                t0 = time.perf_counter()
                with lib.no_grad():
                    loss_fn(model(X), Y).item()
                return [time.perf_counter() - t0]
            t0 = time.perf_counter()
            opt.zero_grad()
            t1 = time.perf_counter()
            loss = loss_fn(model(X), Y)
            t2 = time.perf_counter()
            loss.backward()
            t3 = time.perf_counter()
            opt.step()
            t4 = time.perf_counter()
            loss.item()
            return [t1 - t0, t2 - t1, t3 - t2, t4 - t3]
        return run
    return (phases(cr, mine, F.cross_entropy, cr.tensor(x), cr.tensor(y)),
            phases(torch, ref, torch.nn.functional.cross_entropy, torch.tensor(x), torch.tensor(y)))


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def instrument_nodes(times):
    """Time every Node type's forward and backward rule into ``times[(type, "forward" |
    "backward")]``; returns a function that takes the timers out again."""
    from chainrule._graph import Node
    undo = []

    def wrap(cls, attr, kind):
        raw = cls.__dict__[attr]
        static = isinstance(raw, staticmethod)
        fn = raw.__func__ if static else raw

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:   # a static forward is timed under its class, a rule under its node's type
                owner = cls if static else type(args[0])
                times[(owner.__name__, kind)] += time.perf_counter() - start
        setattr(cls, attr, staticmethod(timed) if static else timed)
        undo.append((cls, attr, raw))

    for cls in [Node, *_subclasses(Node)]:
        if "forward" in cls.__dict__ and cls is not Node:
            wrap(cls, "forward", "forward")
        if "_vjp" in cls.__dict__:
            wrap(cls, "_vjp", "backward")

    def restore():
        for cls, attr, raw in reversed(undo):
            setattr(cls, attr, raw)
    return restore


def hook_modules(model, times):
    """Time each module type of ``HOOKED`` in ``model`` (either framework) by forward hooks."""
    handles = []
    for module in model.modules():
        kind = type(module).__name__
        if kind in HOOKED:
            def pre(m, args):
                m._profile_start = time.perf_counter()

            def post(m, args, out, kind=kind):
                times[kind] += time.perf_counter() - m._profile_start
            handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    return handles


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet20", choices=("mlp", "lenet", "resnet20"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--infer", action="store_true", help="the eval-mode forward instead")
    args = ap.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS", str(args.threads)) != str(args.threads):
        raise SystemExit("OPENBLAS_NUM_THREADS differs from --threads; set it (or leave it unset "
                         "and this script sets it) before Python starts")
    import numpy as np
    import torch
    from chainrule.backends import cpu
    from paired_steps import build
    torch.set_num_threads(args.threads)
    n = args.steps
    print(f"{args.model}, {'inference' if args.infer else 'training'}, {args.threads} thread(s), "
          f"mean of {n} steps; torch {torch.__version__}, numpy {np.__version__}")
    with cpu.tuned():
        ours, theirs = phase_steps(args.model, args.infer)
        for _ in range(3):
            ours(), theirs()
        totals = [np.zeros(1 if args.infer else 4), np.zeros(1 if args.infer else 4)]
        for _ in range(n):
            totals[0] += ours()
            totals[1] += theirs()
        names = ["forward"] if args.infer else ["zero_grad", "forward", "backward", "step"]
        print("\n1. phases (ms)      " + "".join(f"{p:>11}" for p in names) + "      total")
        for label, t in zip(("chainrule", "torch"), totals):
            print(f"   {label:16s}" + "".join(f"{v / n * 1e3:11.2f}" for v in t)
                  + f"{t.sum() / n * 1e3:11.2f}")

        mine, ref = build(args.model, infer=args.infer)
        node_times, module_times = defaultdict(float), (defaultdict(float), defaultdict(float))
        for _ in range(3):
            mine(), ref()
        restore = instrument_nodes(node_times)
        handles = [*hook_modules(mine.model, module_times[0]),
                   *hook_modules(ref.model, module_times[1])]
        try:
            start = time.perf_counter()
            for _ in range(n):
                mine()
            instrumented = time.perf_counter() - start
            for _ in range(n):
                ref()
        finally:
            restore()
            for h in handles:
                h.remove()
        print(f"\n2. chainrule's nodes, by torch's grad_fn name (ms per step; the "
              f"instrumented step took {instrumented / n * 1e3:.2f} ms)")
        for (kind, phase), t in sorted(node_times.items(), key=lambda kv: -kv[1]):
            if t / n >= 5e-5:
                print(f"   {kind:32s} {phase:9s}{t / n * 1e3:9.2f}")
        print("\n3. modules' forward (ms per step)    chainrule      torch")
        for kind in HOOKED:
            if kind in module_times[0] or kind in module_times[1]:
                print(f"   {kind:32s}{module_times[0][kind] / n * 1e3:10.2f}"
                      f"{module_times[1][kind] / n * 1e3:11.2f}")


if __name__ == "__main__":
    threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)    # before NumPy loads OpenBLAS
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
