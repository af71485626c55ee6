"""One benchmark workload for one framework, in its own process; prints one JSON line.

    python benchmarks/worker.py --workload mlp --framework chainrule --seconds 3 --threads 2

``benchmarks/run.py`` starts one of these per (workload, framework) with the thread variables
already set. Every framework gets the same data and initial weights — drawn by NumPy from
seeds, one generator per state_dict key, so the layout of each framework's state_dict does not
matter — and the first loss must therefore agree across frameworks: the same model is trained.

Each workload is an entry of ``WORKLOADS``: a description and one builder per framework
(``chainrule``, ``torch``, ``numpy``). A builder returns ``step()``, one training step (or one
inference) returning the loss, or ``None`` when that framework has no implementation of it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import time
import zlib

import numpy as np

SEED = 0


# ============================================================================ shared inputs
def data(shape, classes=10, seed=SEED):
    """Inputs x ~ N(0, 1) of ``shape`` (float32) and labels y in [0, classes)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, classes, shape[0])


def init_state(shapes):
    """{key: array} for a {key: shape} state_dict layout. Each array comes from a generator
    seeded by its key, so every framework gets the same values whatever order it lists its
    entries in. Weights (≥ 2-d): uniform with variance 1/fan_in; biases: uniform in ±1/√n
    (n their size); norm layers (1-d weight): weight 1, bias 0, running mean 0, running var 1."""
    norm = {k.rsplit(".", 1)[0] for k, s in shapes.items() if k.endswith("weight") and len(s) == 1}
    out = {}
    for key, shape in shapes.items():
        shape = tuple(shape)
        prefix, leaf = key.rsplit(".", 1) if "." in key else ("", key)
        rng = np.random.default_rng([SEED, zlib.crc32(key.encode())])
        if leaf == "num_batches_tracked":
            out[key] = np.zeros(shape, np.int64)
        elif leaf == "running_var" or (prefix in norm and leaf == "weight"):
            out[key] = np.ones(shape, np.float32)
        elif leaf == "running_mean" or (prefix in norm and leaf == "bias"):
            out[key] = np.zeros(shape, np.float32)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            out[key] = (rng.uniform(-1, 1, shape) * np.sqrt(3.0 / fan_in)).astype(np.float32)
        else:
            out[key] = (rng.uniform(-1, 1, shape) / np.sqrt(max(shape[0], 1))).astype(np.float32)
    return out


MLP_SIZES = (784, 256, 256, 10)
MLP_BATCH = 128
LENET_BATCH = 64
RESNET_BATCH = 32
LR, MOMENTUM = 0.01, 0.9


def mlp_shapes():
    shapes = {}
    for i, (fan_in, fan_out) in enumerate(zip(MLP_SIZES[:-1], MLP_SIZES[1:])):
        shapes[f"{2 * i}.weight"] = (fan_out, fan_in)
        shapes[f"{2 * i}.bias"] = (fan_out,)
    return shapes


LENET_SHAPES = {
    "features.0.weight": (6, 1, 5, 5), "features.0.bias": (6,),
    "features.3.weight": (16, 6, 5, 5), "features.3.bias": (16,),
    "classifier.1.weight": (120, 400), "classifier.1.bias": (120,),
    "classifier.3.weight": (84, 120), "classifier.3.bias": (84,),
    "classifier.5.weight": (10, 84), "classifier.5.bias": (10,),
}


# ============================================================================ chainrule
def build_chainrule_model(name):
    """chainrule's model of workload ``name`` ('mlp', 'lenet', else resnet20)."""
    import chainrule as cr
    from chainrule import nn
    if name == "mlp":
        layers = []
        for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])
    if name == "lenet":
        return cr.models.LeNet5()
    return cr.models.resnet20()


def chainrule_tiny(compiled=False):
    import chainrule as cr
    a, b, c = (cr.tensor(x, requires_grad=True) for x in data((3, 8))[0])

    def forward_backward(a, b, c):
        out = (a * b + c).sum()
        out.backward()
        return out
    run = cr.compile(forward_backward, fullgraph=True) if compiled else forward_backward

    def step():
        out = run(a, b, c)
        a.grad = b.grad = c.grad = None
        return out.detach()
    return step


def chainrule_model(name, infer, compiled=False):
    """Build the model with the real API users run: nn modules, F.cross_entropy, optim.SGD;
    ``compiled``: the same step through ``chainrule.compile`` (captured once, then replayed)."""
    import chainrule as cr
    import chainrule.nn.functional as F
    model = build_chainrule_model(name)
    state = model.state_dict()
    model.load_state_dict(init_state({k: tuple(v.shape) for k, v in state.items()}))
    x, y = data(INPUT_SHAPES[name])
    X, Y = cr.tensor(x), cr.tensor(y)
    if infer:
        model.eval()

        def forward(x, y):
            return F.cross_entropy(model(x), y)
        run = cr.compile(forward, fullgraph=True) if compiled else forward

        def infer_step():
            with cr.no_grad():
                return run(X, Y)
        return infer_step
    opt = cr.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def train(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    run = cr.compile(train, fullgraph=True) if compiled else train

    def train_step():
        return run(X, Y).detach()
    return train_step


# ============================================================================ torch
def build_torch_model(name):
    """The torch model of workload ``name`` ('mlp', 'lenet', else resnet20), with the same
    state_dict keys as chainrule's."""
    from torch import nn
    if name == "mlp":
        layers = []
        for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])
    if name == "lenet":
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

    class Block(nn.Module):   # torchvision's BasicBlock with the CIFAR layout of resnet20
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


def torch_tiny():
    import torch
    a, b, c = (torch.tensor(x, requires_grad=True) for x in data((3, 8))[0])

    def step():
        out = (a * b + c).sum()
        out.backward()
        a.grad = b.grad = c.grad = None
        return out
    return step


def torch_model(name, infer):
    import torch
    import torch.nn.functional as F
    model = build_torch_model(name)
    state = model.state_dict()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in
                           init_state({k: tuple(t.shape) for k, t in state.items()}).items()})
    x, y = data(INPUT_SHAPES[name])
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    if infer:
        model.eval()

        def infer_step():
            with torch.no_grad():
                return F.cross_entropy(model(X), Y)
        return infer_step
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def train_step():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        opt.step()
        return loss
    return train_step


# ============================================================================ hand-written NumPy
def numpy_tiny():
    a, b, c = data((3, 8))[0]

    def step():
        out = (a * b + c).sum()
        ga, gb, gc = b * 1, a * 1, np.ones_like(c)   # the VJPs: ∂/∂a = b, ∂/∂b = a, ∂/∂c = 1
        return out + 0 * (ga[0] + gb[0] + gc[0])
    return step


class _SGD:
    """p ← p − lr·v, v ← μ v + g (torch's SGD with momentum, dampening 0), in place."""

    def __init__(self, params):
        self.params = params
        self.velocity = None

    def step(self, grads):
        if self.velocity is None:   # torch: the first step sets v = g
            self.velocity = [g.copy() for g in grads]
        else:
            for v, g in zip(self.velocity, grads):
                v *= MOMENTUM
                v += g
        for p, v in zip(self.params, self.velocity):
            p -= LR * v


def _softmax_xent(z, y):
    """Mean cross-entropy of logits z (N, C) against labels y, and ∂loss/∂z."""
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    s = e.sum(1, keepdims=True)
    n = len(y)
    loss = (np.log(s[:, 0]) - z[np.arange(n), y]).mean()
    g = e / s
    g[np.arange(n), y] -= 1
    g /= n
    return loss, g


def numpy_mlp(infer):
    """The MLP by hand: weights kept transposed (in, out) so each layer is one GEMM x @ W."""
    st = init_state(mlp_shapes())
    ws = [np.ascontiguousarray(st[f"{2 * i}.weight"].T) for i in range(3)]
    bs = [st[f"{2 * i}.bias"] for i in range(3)]
    x, y = data((MLP_BATCH, MLP_SIZES[0]))

    def forward():
        acts, h = [x], x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w
            h += b
            if i < 2:
                np.maximum(h, 0, out=h)
            acts.append(h)
        return acts

    if infer:
        return lambda: _softmax_xent(forward()[-1], y)[0]
    opt = _SGD(ws + bs)

    def train():
        acts = forward()
        loss, g = _softmax_xent(acts[-1], y)
        gw, gb = [None] * 3, [None] * 3
        for i in (2, 1, 0):
            gw[i] = acts[i].T @ g
            gb[i] = g.sum(0)
            if i:
                g = g @ ws[i].T
                g *= acts[i] > 0
        opt.step(gw + gb)
        return loss
    return train


def _im2col(x, k):
    """x (N, H, W, C) -> columns (N·Ho·Wo, C·k·k) for a k×k valid convolution: one copy of a
    strided view of the windows."""
    n, h, w, c = x.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))   # (N, Ho, Wo, C, k, k)
    return win.reshape(n * (h - k + 1) * (w - k + 1), c * k * k), (n, h - k + 1, w - k + 1)


def _col2im(cols, out_shape, x_shape, k):
    """The adjoint of _im2col: scatter-add columns back; one strided slice-add per kernel offset."""
    n, ho, wo = out_shape
    c = x_shape[3]
    cols = cols.reshape(n, ho, wo, c, k, k)
    dx = np.zeros(x_shape, cols.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i:i + ho, j:j + wo, :] += cols[..., i, j]
    return dx


def _maxpool2(x):
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _maxpool2_backward(x, y, g):
    n, h, w, c = x.shape
    mask = x.reshape(n, h // 2, 2, w // 2, 2, c) == y[:, :, None, :, None, :]
    # ties only occur at 0 after a ReLU, where the ReLU's VJP zeroes the gradient anyway
    return (mask * g[:, :, None, :, None, :]).reshape(x.shape)


def numpy_lenet(infer):
    """LeNet-5 by hand, channels-last (N, H, W, C) so that each convolution is one im2col copy
    and one GEMM whose output is already in layout; the first dense layer's columns are permuted
    once so that flattening (H, W, C) matches torch's (C, H, W)."""
    st = init_state(LENET_SHAPES)
    x, y = data((LENET_BATCH, 1, 28, 28))
    x = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2))).transpose(0, 2, 3, 1))
    k1 = st["features.0.weight"].reshape(6, -1).T.copy()      # (C·k·k, O)
    k2 = st["features.3.weight"].reshape(16, -1).T.copy()
    f1 = st["classifier.1.weight"].reshape(120, 16, 5, 5).transpose(2, 3, 1, 0).reshape(400, 120).copy()
    f2 = st["classifier.3.weight"].T.copy()
    f3 = st["classifier.5.weight"].T.copy()
    params = [k1, st["features.0.bias"], k2, st["features.3.bias"], f1, st["classifier.1.bias"],
              f2, st["classifier.3.bias"], f3, st["classifier.5.bias"]]
    c1 = _im2col(x, 5)   # the input is constant: its columns are computed once

    def forward():
        k1, b1, k2, b2, f1, fb1, f2, fb2, f3, fb3 = params
        cols1, s1 = c1
        a1 = cols1 @ k1
        a1 += b1
        np.maximum(a1, 0, out=a1)
        a1 = a1.reshape(*s1, 6)                       # (N, 28, 28, 6)
        p1 = _maxpool2(a1)                            # (N, 14, 14, 6)
        cols2, s2 = _im2col(p1, 5)
        a2 = cols2 @ k2
        a2 += b2
        np.maximum(a2, 0, out=a2)
        a2 = a2.reshape(*s2, 16)                      # (N, 10, 10, 16)
        p2 = _maxpool2(a2)                            # (N, 5, 5, 16)
        h0 = p2.reshape(len(p2), 400)
        h1 = h0 @ f1
        h1 += fb1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ f2
        h2 += fb2
        np.maximum(h2, 0, out=h2)
        z = h2 @ f3
        z += fb3
        return z, (a1, p1, cols2, s2, a2, p2, h0, h1, h2)

    if infer:
        return lambda: _softmax_xent(forward()[0], y)[0]
    opt = _SGD(params)

    def train():
        k1, b1, k2, b2, f1, fb1, f2, fb2, f3, fb3 = params
        z, (a1, p1, cols2, s2, a2, p2, h0, h1, h2) = forward()
        loss, g = _softmax_xent(z, y)
        gf3, gfb3 = h2.T @ g, g.sum(0)
        g = g @ f3.T
        g *= h2 > 0
        gf2, gfb2 = h1.T @ g, g.sum(0)
        g = g @ f2.T
        g *= h1 > 0
        gf1, gfb1 = h0.T @ g, g.sum(0)
        g = (g @ f1.T).reshape(p2.shape)
        g = _maxpool2_backward(a2, p2, g)
        g *= a2 > 0
        g = g.reshape(-1, 16)
        gk2, gb2 = cols2.T @ g, g.sum(0)
        g = _col2im(g @ k2.T, s2, p1.shape, 5)
        g = _maxpool2_backward(a1, p1, g)
        g *= a1 > 0
        g = g.reshape(-1, 6)
        gk1, gb1 = c1[0].T @ g, g.sum(0)
        opt.step([gk1, gb1, gk2, gb2, gf1, gfb1, gf2, gfb2, gf3, gfb3])
        return loss
    return train


# ============================================================================ the registry
INPUT_SHAPES = {"mlp": (MLP_BATCH, MLP_SIZES[0]), "lenet": (LENET_BATCH, 1, 28, 28),
                "resnet20": (RESNET_BATCH, 3, 32, 32)}


CONV_MODELS = ("lenet", "resnet20")   # where "no-onednn" (the NumPy conv kernels) differs


def _models(name, what, numpy_builder=None, infer=False):
    return {
        "what": what,
        "chainrule": lambda: chainrule_model(name, infer),
        "compiled": lambda: chainrule_model(name, infer, compiled=True),
        # chainrule with its convolutions on the NumPy kernels (main() turns oneDNN off)
        "no-onednn": (lambda: chainrule_model(name, infer)) if name in CONV_MODELS else None,
        "torch": lambda: torch_model(name, infer),
        "numpy": (lambda: numpy_builder(infer)) if numpy_builder else None,
    }


def _infer(name, what, numpy_builder=None):
    return _models(name, what, numpy_builder, infer=True)


# Add a workload here: a description and one zero-argument builder per framework that returns
# step() -> loss (None where a framework has no implementation).
WORKLOADS = {
    "tiny": {"what": "forward+backward of (a*b+c).sum() on shape-(8,) tensors: per-op overhead",
             "chainrule": chainrule_tiny, "compiled": lambda: chainrule_tiny(compiled=True),
             "no-onednn": None, "torch": torch_tiny, "numpy": numpy_tiny},
    "mlp": _models("mlp", "784-256-256-10 ReLU MLP, batch 128: forward, softmax cross-entropy, "
                          "backward, SGD momentum 0.9", numpy_mlp),
    "mlp_infer": _infer("mlp", "the MLP's forward + loss under no_grad", numpy_mlp),
    "lenet": _models("lenet", "LeNet-5 (conv5-pool-conv5-pool-120-84-10, ReLU, max pool) on "
                              "1x28x28, batch 64, one SGD-momentum training step", numpy_lenet),
    "lenet_infer": _infer("lenet", "LeNet-5 forward + loss under no_grad, eval mode", numpy_lenet),
    "resnet20": _models("resnet20", "CIFAR ResNet-20 (16/32/64 channels, BatchNorm) on 3x32x32, "
                                    "batch 32, one SGD-momentum training step"),
    "resnet20_infer": _infer("resnet20", "ResNet-20 forward + loss under no_grad, eval mode"),
}


# ============================================================================ measuring
def _status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) / 1024   # kB -> MiB
    return out


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs), so that the peak measured
    is the training loop's, not the import's or the set-up's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{k: d.get(k) for k in ("internal_api", "num_threads", "architecture", "version")}
            for d in threadpool_info()]


def measure(step, seconds):
    """First loss, then warm-up (≥ 2 steps and ≥ 10% of the time), then steps for ``seconds``."""
    rss0 = _status()["VmRSS"]
    peak_reset = _reset_peak()
    first = float(step())
    t0 = time.perf_counter()
    n = 0
    while n < 2 or time.perf_counter() - t0 < 0.1 * seconds:
        step()
        n += 1
    grown = _status()["VmHWM"] - rss0          # the set-up steps' peak (a capture's included)
    rss1 = _status()["VmRSS"]
    _reset_peak()                              # then the peak of the timed steps alone
    steps, start = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    st = _status()
    return {"first_loss": first, "steps_per_s": steps / elapsed, "us_per_step": 1e6 * elapsed / steps,
            "steps": steps, "rss_growth_mb": max(grown, st["VmHWM"] - rss0),
            "step_peak_mb": st["VmHWM"] - rss1 if peak_reset else None, "peak_reset": peak_reset}


def settings(framework):
    """The context the timed steps run in: chainrule's CPU settings for training loops
    (``backends.cpu.tuned()``; off with CHAINRULE_CPU_TUNING=0) for chainrule, nothing for
    the others."""
    if framework not in ("chainrule", "compiled", "no-onednn"):
        return contextlib.nullcontext()
    from chainrule.backends import cpu
    return cpu.tuned()


def main():
    ap = argparse.ArgumentParser(description="one benchmark workload in this process")
    ap.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    ap.add_argument("--framework", required=True,
                    choices=["chainrule", "compiled", "no-onednn", "torch", "numpy"])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    builder = WORKLOADS[args.workload][args.framework]
    if builder is None:
        print(json.dumps({"skipped": f"no {args.framework} implementation of {args.workload}"}))
        return
    if args.framework == "torch":
        import torch
        torch.set_num_threads(args.threads)
    if args.framework == "no-onednn":
        from chainrule.backends import onednn
        onednn.enabled = False
    with settings(args.framework):   # from the start: malloc's settings shape the heap the
        step = builder()              # model is built in (tuning only the loop measured 3-5%
        result = measure(step, args.seconds)   # slower resnet20 steps at 2 threads)
    result["blas"] = _blas_info()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
