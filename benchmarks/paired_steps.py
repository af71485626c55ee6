"""MLP 784-256-256-10 (batch 128), LeNet-5 (batch 64) and resnet20 (batch 32) SGD training
steps: chainrule vs torch, one process; the convolution models also with chainrule's
convolutions on the NumPy kernels ("no-onednn") when oneDNN is installed; ``--infer`` times
the eval-mode forward pass and loss under no_grad instead.

    python benchmarks/paired_steps.py [--models mlp,lenet,resnet20] [--threads 2] [--seconds 3]
                                      [--rounds 3] [--cpu-time] [--infer] [--channels-last]

Both frameworks get the same weights (chainrule's initialisation copied into a torch model with
the same state_dict keys) and the same batch, so the first losses must agree ("no-onednn" trains
chainrule's model, so its first loss is that of the model one step later). Rounds alternate
between the two so that a change in machine load hits both; the best round of each is
reported. ``--cpu-time`` measures process CPU time instead of wall time: on a machine shared
with other jobs and one thread per framework, it is the stable measure of the work done (with
two threads it would count both threads' time and is refused). ``--channels-last`` converts both
models and both batches with ``.to(memory_format=channels_last)`` (the convolution models).

The whole run is inside ``chainrule.backends.cpu.tuned()``, chainrule's CPU settings for
training loops; set ``CHAINRULE_CPU_TUNING=0`` to time it without them. Their malloc part
is process-wide, so torch's steps run with it too.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

# NumPy is imported inside the functions: OPENBLAS_NUM_THREADS must be set before it loads


def build(name, seed=0, infer=False, channels_last=False):
    """(chainrule step, torch step) on the same batch and weights; ``infer``: the eval-mode
    forward and loss under no_grad instead of a training step; ``channels_last``: models and
    batches converted to that memory format. Each step function carries its model as
    ``.model`` (for ``step_profile.py``'s module hooks)."""
    import numpy as np
    import torch
    import chainrule as cr
    import chainrule.nn.functional as F
    from worker import build_chainrule_model, build_torch_model     # the same models as `make bench`
    rng = np.random.default_rng(seed)
    cr.manual_seed(seed)
    shape = {"mlp": (128, 784), "lenet": (64, 1, 28, 28), "resnet20": (32, 3, 32, 32)}.get(name)
    if shape is None:
        raise SystemExit(f"unknown model {name!r}: mlp, lenet or resnet20")
    x, y = rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, shape[0])
    mine, ref = build_chainrule_model(name), build_torch_model(name)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    X, Y, XT, YT = cr.tensor(x), cr.tensor(y), torch.tensor(x), torch.tensor(y)
    if channels_last and name != "mlp":
        mine, X = mine.to(memory_format=cr.channels_last), X.to(memory_format=cr.channels_last)
        ref, XT = ref.to(memory_format=torch.channels_last), XT.to(memory_format=torch.channels_last)
    opt_c = cr.optim.SGD(mine.parameters(), lr=0.01, momentum=0.9)
    opt_t = torch.optim.SGD(ref.parameters(), lr=0.01, momentum=0.9)
    if infer:
        mine.eval(), ref.eval()

        def infer_chainrule():
            with cr.no_grad():
                return F.cross_entropy(mine(X), Y).item()

        def infer_torch():
            with torch.no_grad():
                return torch.nn.functional.cross_entropy(ref(XT), YT).item()
        infer_chainrule.model, infer_torch.model = mine, ref
        return infer_chainrule, infer_torch

    def step_chainrule():
        opt_c.zero_grad()
        loss = F.cross_entropy(mine(X), Y)
        loss.backward()
        opt_c.step()
        return loss.item()

    def step_torch():
        opt_t.zero_grad()
        loss = torch.nn.functional.cross_entropy(ref(XT), YT)
        loss.backward()
        opt_t.step()
        return loss.item()
    step_chainrule.model, step_torch.model = mine, ref
    return step_chainrule, step_torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mlp,lenet,resnet20")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu-time", action="store_true")
    ap.add_argument("--infer", action="store_true", help="time eval-mode forward passes instead")
    ap.add_argument("--channels-last", action="store_true",
                    help="both frameworks' models and batches in the channels_last memory format")
    args = ap.parse_args()
    if args.cpu_time and args.threads != 1:
        raise SystemExit("--cpu-time needs --threads 1 (CPU time adds up every thread's time)")
    if os.environ.get("OPENBLAS_NUM_THREADS", str(args.threads)) != str(args.threads):
        raise SystemExit("OPENBLAS_NUM_THREADS differs from --threads; set it (or leave it unset "
                         "and this script sets it) before Python starts")
    import numpy as np
    import torch
    from chainrule.backends import cpu
    torch.set_num_threads(args.threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    warnings.filterwarnings("ignore")
    print(f"threads={args.threads}  clock={'process CPU time' if args.cpu_time else 'wall'}  "
          f"torch {torch.__version__}  numpy {np.__version__}")
    with cpu.tuned():
        print(f"chainrule CPU settings (backends.cpu.tuned): {'on' if cpu.is_tuned() else 'off'}")
        for name in args.models.split(","):
            compare(name, args.rounds, args.seconds, clock, args.infer, args.channels_last)


def _without_onednn(step):
    """The same step with chainrule's convolutions on the NumPy kernels."""
    from chainrule.backends import onednn

    def step_numpy_kernels():
        with onednn.flags(enabled=False):
            return step()
    return step_numpy_kernels


def compare(name, rounds, seconds, clock, infer=False, channels_last=False):
    """Time the frameworks' steps of one model in alternating rounds and print the best; a
    model with convolutions runs chainrule twice: on oneDNN ("chainrule", where installed) and
    on the NumPy kernels ("no-onednn")."""
    from chainrule.backends import onednn
    mine, ref = build(name, infer=infer, channels_last=channels_last)
    steps = {"chainrule": mine, "torch": ref}
    if name != "mlp" and onednn.is_available():
        steps["no-onednn"] = _without_onednn(mine)
    first = {k: f() for k, f in steps.items()}
    for f in steps.values():
        f()
    rates = {k: [] for k in steps}
    for _ in range(rounds):
        for k, f in steps.items():
            n, start = 0, clock()
            while clock() - start < seconds:
                f()
                n += 1
            rates[k].append(n / (clock() - start))
    for k, r in rates.items():
        print(f"{name:9s} {k:10s} first loss {first[k]:.6f}  best {max(r):8.2f} steps/s  "
              f"rounds {[round(v, 2) for v in r]}")
    for k in rates:
        if k != "torch":
            print(f"{name:9s} {k} / torch (best rounds): {max(rates[k]) / max(rates['torch']):.2f}")


if __name__ == "__main__":
    threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)    # before NumPy loads OpenBLAS
    main()
