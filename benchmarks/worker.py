"""One benchmark workload for one framework, in its own process; prints one JSON line.

    python benchmarks/worker.py --workload mlp --framework chainrule --seconds 3

Every framework gets the same data and initial weights (NumPy, seeded), so the first loss
must agree across frameworks — that shows the same model is being trained.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------- shared data
def mlp_setup(rng):
    sizes = [784, 256, 256, 10]
    ws = [(rng.uniform(-1, 1, (o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    return ws, bs, x, y


def image_setup(rng, shape, classes=10):
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, classes, shape[0])


# ---------------------------------------------------------------------------- chainrule
def chainrule_workload(name, rng):
    import chainrule as cr
    import chainrule.nn.functional as F
    from chainrule import nn
    if name == "tiny":
        a, b, c = (cr.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True) for _ in range(3))

        def step():
            out = (a * b + c).sum()
            out.backward()
            a.grad = b.grad = c.grad = None
            return out
        return step
    if name.startswith("mlp"):
        ws, bs, x, y = mlp_setup(rng)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        model.load_state_dict({f"{2 * i}.{k}": v for i, (w, b) in enumerate(zip(ws, bs))
                               for k, v in (("weight", w), ("bias", b))})
    elif name.startswith("lenet"):
        x, y = image_setup(rng, (64, 1, 28, 28))
        cr.manual_seed(0)
        model = cr.models.LeNet5()
        model.load_state_dict(_reference_weights(model.state_dict(), rng))
    else:
        x, y = image_setup(rng, (32, 3, 32, 32))
        model = cr.models.resnet20()
        model.load_state_dict(_reference_weights(model.state_dict(), rng))
    X, Y = cr.tensor(x), cr.tensor(y)
    if name.endswith("_infer"):
        model.eval()

        def infer():
            with cr.no_grad():
                return F.cross_entropy(model(X), Y)
        return infer
    opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        opt.step()
        return loss
    return train


def _reference_weights(state, rng):
    """Deterministic weights for every entry of a state_dict (shared by chainrule and torch)."""
    out = {}
    for k, v in state.items():
        arr = v.numpy()
        if k.endswith("running_var"):
            out[k] = np.ones_like(arr)
        elif k.endswith(("running_mean", "num_batches_tracked")):
            out[k] = np.zeros_like(arr)
        elif arr.ndim >= 2:
            fan_in = int(np.prod(arr.shape[1:]))
            out[k] = (rng.uniform(-1, 1, arr.shape) * np.sqrt(3.0 / fan_in)).astype(arr.dtype)
        elif k.endswith("weight"):
            out[k] = np.ones_like(arr)
        else:
            out[k] = np.zeros_like(arr)
    return out


# ---------------------------------------------------------------------------- torch
def torch_workload(name, rng, threads):
    import torch
    import torch.nn.functional as F
    from torch import nn
    torch.set_num_threads(threads)
    if name == "tiny":
        a, b, c = (torch.tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True) for _ in range(3))

        def step():
            out = (a * b + c).sum()
            out.backward()
            a.grad = b.grad = c.grad = None
            return out
        return step
    if name.startswith("mlp"):
        ws, bs, x, y = mlp_setup(rng)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        model.load_state_dict({f"{2 * i}.{k}": torch.tensor(v) for i, (w, b) in enumerate(zip(ws, bs))
                               for k, v in (("weight", w), ("bias", b))})
    else:
        import chainrule as cr  # only to build the same architecture's state_dict layout
        if name.startswith("lenet"):
            x, y = image_setup(rng, (64, 1, 28, 28))
            ref = cr.models.LeNet5()
            model = _torch_lenet()
        else:
            x, y = image_setup(rng, (32, 3, 32, 32))
            ref = cr.models.resnet20()
            model = _torch_resnet20()
        weights = _reference_weights(ref.state_dict(), rng)
        model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    X, Y = torch.tensor(x), torch.tensor(y)
    if name.endswith("_infer"):
        model.eval()

        def infer():
            with torch.no_grad():
                return F.cross_entropy(model(X), Y)
        return infer
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        opt.step()
        return loss
    return train


def _torch_lenet():
    from torch import nn

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                                            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(self.features(x))
    return LeNet5()


def _torch_resnet20():
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
                self.downsample = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

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


# ---------------------------------------------------------------------------- hand-written NumPy
def numpy_workload(name, rng):
    if name == "tiny":
        a, b, c = (rng.standard_normal(8).astype(np.float32) for _ in range(3))

        def step():
            out = (a * b + c).sum()
            ga, gb, gc = b.copy(), a.copy(), np.ones_like(c)   # the VJPs, by hand
            return out + 0 * (ga[0] + gb[0] + gc[0])
        return step
    if not name.startswith("mlp"):
        return None
    ws, bs, x, y = mlp_setup(rng)
    ws = [w.T.copy() for w in ws]   # (in, out) for x @ W
    vel = [np.zeros_like(p) for p in ws + bs]
    onehot = np.eye(10, dtype=np.float32)[y]

    def forward():
        acts, h = [x], x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if i < 2:
                h = np.maximum(h, 0)
            acts.append(h)
        z = h - h.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return acts, logp, -(logp * onehot).sum() / len(y)

    if name.endswith("_infer"):
        return lambda: forward()[2]

    def train():
        acts, logp, loss = forward()
        g = (np.exp(logp) - onehot) / len(y)
        grads = [None] * 6
        for i in (2, 1, 0):
            grads[i] = acts[i].T @ g
            grads[3 + i] = g.sum(0)
            if i:
                g = (g @ ws[i].T) * (acts[i] > 0)
        for p, v, gr in zip(ws + bs, vel, grads):
            v *= 0.9
            v += gr
            p -= 0.01 * v
        return loss
    return train


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True)
    ap.add_argument("--framework", required=True, choices=["chainrule", "torch", "numpy"])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    if args.framework == "chainrule":
        step = chainrule_workload(args.workload, rng)
    elif args.framework == "torch":
        step = torch_workload(args.workload, rng, args.threads)
    else:
        step = numpy_workload(args.workload, rng)
    if step is None:
        print(json.dumps({"skipped": "no hand-written reference for this workload"}))
        return
    rss0 = rss_mb()
    first = float(step())
    for _ in range(3):
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        step()
        n += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"first_loss": first, "steps_per_s": n / elapsed, "us_per_step": 1e6 * elapsed / n,
                      "rss_growth_mb": rss_mb("VmHWM") - rss0, "steps": n,
                      "pid_threads": os.environ.get("OMP_NUM_THREADS")}))


if __name__ == "__main__":
    main()
