"""The classic MNIST LeNet-5 epoch, chainrule vs torch: one script, the library swapped.

    python benchmarks/mnist_lenet_epoch.py [--data ../shared/data/mnist] [--threads 1,2]

LeNet-5 with 5×5 convolutions (conv 6 → pool → conv 16 → pool → 120 → 84 → 10, ReLU, max
pooling), Adam (lr 1e-3), batch 64, one shuffled epoch over the 60,000 training images, then the
test accuracy. The same code runs with ``lib = chainrule`` and ``lib = torch``; with the same
seed both start from the same weights and draw the same batches (chainrule reproduces torch's
random streams), so the epoch's mean loss agrees too. chainrule runs inside
``backends.cpu.tuned()`` and, where the ``onednn`` extra is installed, its convolutions on
oneDNN. Reports seconds per epoch for each library and thread count (issue 20's target: ≤
torch's). The data folder is for benchmark runs only; tests never read it.
"""
from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import torch

import chainrule as cr
from chainrule.backends import cpu
from mnist_mlp import DEFAULT_DATA, load_mnist


def lenet5(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def epoch(lib, data, threads, seed=0):
    """Train one epoch; returns (seconds, mean training loss, test accuracy)."""
    xtr, ytr, xte, yte = data
    lib.set_num_threads(threads)
    lib.manual_seed(seed)
    model = lenet5(lib.nn)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loader = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.tensor(xtr), lib.tensor(ytr)), batch_size=64, shuffle=True)
    losses = []
    tuned = cpu.tuned() if lib is cr else contextlib.nullcontext()
    with tuned:
        start = time.perf_counter()
        for x, y in loader:
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        seconds = time.perf_counter() - start
        with lib.no_grad():
            accuracy = float((model(lib.tensor(xte)).argmax(1) == lib.tensor(yte)).float().mean())
    return seconds, float(np.mean(losses)), accuracy


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args(argv)
    xtr, ytr, xte, yte = load_mnist(args.data)
    prep = lambda x: ((x.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None]  # noqa: E731
    data = (prep(xtr), ytr, prep(xte), yte)
    print(f"{'library':10s} {'threads':>7s} {'s/epoch':>8s} {'mean loss':>10s} {'test acc':>9s}")
    for threads in (int(t) for t in args.threads.split(",")):
        for lib in (cr, torch):
            seconds, loss, accuracy = epoch(lib, data, threads)
            print(f"{lib.__name__:10s} {threads:7d} {seconds:8.1f} {loss:10.4f} {accuracy:9.2%}")


if __name__ == "__main__":
    main()
