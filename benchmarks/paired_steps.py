"""MLP 784-256-256-10 (batch 128), LeNet-5 (batch 64) and resnet20 (batch 32) SGD training
steps: chainrule vs torch, one process.

    python benchmarks/paired_steps.py [--models mlp,lenet,resnet20] [--threads 2] [--seconds 3]
                                      [--rounds 3] [--cpu-time]

Both frameworks get the same weights (chainrule's initialisation copied into a torch model with
the same state_dict keys) and the same batch, so the first losses must agree. Rounds alternate
between the two so that a change in machine load hits both; the best round of each is
reported. ``--cpu-time`` measures process CPU time instead of wall time: on a machine shared
with other jobs and one thread per framework, it is the stable measure of the work done (with
two threads it would count both threads' time and is refused).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

# NumPy is imported inside the functions: OPENBLAS_NUM_THREADS must be set before it loads


def torch_lenet5():
    from torch import nn
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                      nn.Linear(84, 10)))


def torch_resnet20():
    from torch import nn

    class Block(nn.Module):
        def __init__(self, inp, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inp != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False),
                                                nn.BatchNorm2d(planes))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet20(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU(inplace=True)
            inp = 16
            for i, planes in enumerate((16, 32, 64)):
                blocks = []
                for j in range(3):
                    blocks.append(Block(inp, planes, 2 if (i and not j) else 1))
                    inp = planes
                setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(self.avgpool(x).flatten(1))
    return ResNet20()


def build(name, seed=0):
    """(chainrule step, torch step) on the same batch and weights."""
    import numpy as np
    import torch
    import chainrule as cr
    import chainrule.nn.functional as F
    rng = np.random.default_rng(seed)
    cr.manual_seed(seed)
    if name == "mlp":
        x, y = rng.standard_normal((128, 784)).astype(np.float32), rng.integers(0, 10, 128)
        mine = cr.nn.Sequential(cr.nn.Linear(784, 256), cr.nn.ReLU(), cr.nn.Linear(256, 256),
                                cr.nn.ReLU(), cr.nn.Linear(256, 10))
        ref = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                  torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
        rename = lambda k: k
    elif name == "lenet":
        x, y = rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
        mine, ref = cr.models.LeNet5(), torch_lenet5()
        rename = lambda k: k.replace("features.", "0.").replace("classifier.", "1.")
    elif name == "resnet20":
        x, y = rng.standard_normal((32, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, 32)
        mine, ref = cr.models.resnet20(), torch_resnet20()
        rename = lambda k: k
    else:
        raise SystemExit(f"unknown model {name!r}: mlp, lenet or resnet20")
    ref.load_state_dict({rename(k): torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    X, Y, XT, YT = cr.tensor(x), cr.tensor(y), torch.tensor(x), torch.tensor(y)
    opt_c = cr.optim.SGD(mine.parameters(), lr=0.01, momentum=0.9)
    opt_t = torch.optim.SGD(ref.parameters(), lr=0.01, momentum=0.9)

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
    return step_chainrule, step_torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mlp,lenet,resnet20")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu-time", action="store_true")
    args = ap.parse_args()
    if args.cpu_time and args.threads != 1:
        raise SystemExit("--cpu-time needs --threads 1 (CPU time adds up every thread's time)")
    if os.environ.get("OPENBLAS_NUM_THREADS", str(args.threads)) != str(args.threads):
        raise SystemExit("OPENBLAS_NUM_THREADS differs from --threads; set it (or leave it unset "
                         "and this script sets it) before Python starts")
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    clock = time.process_time if args.cpu_time else time.perf_counter
    warnings.filterwarnings("ignore")
    print(f"threads={args.threads}  clock={'process CPU time' if args.cpu_time else 'wall'}  "
          f"torch {torch.__version__}  numpy {np.__version__}")
    for name in args.models.split(","):
        steps = dict(zip(("chainrule", "torch"), build(name)))
        first = {k: f() for k, f in steps.items()}
        for f in steps.values():
            f()
        rates = {k: [] for k in steps}
        for _ in range(args.rounds):
            for k, f in steps.items():
                n, start = 0, clock()
                while clock() - start < args.seconds:
                    f()
                    n += 1
                rates[k].append(n / (clock() - start))
        for k, r in rates.items():
            print(f"{name:9s} {k:10s} first loss {first[k]:.6f}  best {max(r):8.2f} steps/s  "
                  f"rounds {[round(v, 2) for v in r]}")
        print(f"{name:9s} chainrule / torch (best rounds): {max(rates['chainrule']) / max(rates['torch']):.2f}")


if __name__ == "__main__":
    threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)    # before NumPy loads OpenBLAS
    main()
