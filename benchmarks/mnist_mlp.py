"""Accuracy run: a 784-512-10 MLP on real MNIST with chainrule's Trainer.

    python benchmarks/mnist_mlp.py [--data ../shared/data/mnist] [--epochs 12] [--seed 0]

Reads the four standard IDX files (gz or raw) with ``chainrule.datasets.MNIST``, standardises
the pixels with the training split's statistics, and trains
Linear(784, 512) → ReLU → Dropout(0.2) → Linear(512, 10) with cross-entropy, Adam (lr 1e-3)
and a cosine learning-rate schedule on mini-batches of 128, reporting test accuracy after every
epoch and the wall time, inside ``chainrule.backends.cpu.tuned()`` (off with
CHAINRULE_CPU_TUNING=0). The data folder is for benchmark and accuracy runs only; tests never
read it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.backends import cpu
from chainrule.datasets import MNIST
from chainrule.train import Trainer
from chainrule.utils.data import DataLoader, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


def load_mnist(root: str):
    """(X_train, y_train, X_test, y_test): uint8 images (N, 28, 28) and int64 labels."""
    train, test = MNIST(root, train=True), MNIST(root, train=False)
    return (np.asarray(train.data), np.asarray(train.targets).astype(np.int64),
            np.asarray(test.data), np.asarray(test.targets).astype(np.int64))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    t_load = time.perf_counter()
    Xtr, ytr, Xte, yte = load_mnist(args.data)
    mean, std = Xtr.mean() / 255.0, Xtr.std() / 255.0          # statistics of the train split
    prep = lambda X: ((X.reshape(len(X), -1).astype(np.float32) / 255.0 - mean) / std  # noqa: E731
                      ).astype(np.float32)
    Xtr, Xte = prep(Xtr), prep(Xte)
    t_load = time.perf_counter() - t_load

    cr.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
    train_loader = DataLoader(TensorDataset(cr.tensor(Xtr), cr.tensor(ytr)),
                              batch_size=args.batch_size, shuffle=True,
                              generator=cr.Generator().manual_seed(args.seed))
    test_loader = DataLoader(TensorDataset(cr.tensor(Xte), cr.tensor(yte)), batch_size=1000)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, scheduler=scheduler,
                      metrics=["accuracy"], progress=False)

    print(f"chainrule {cr.__version__}  numpy {np.__version__}  python {sys.version.split()[0]}")
    print(f"data: {len(Xtr)} train / {len(Xte)} test images from {args.data} "
          f"(loaded in {t_load:.1f} s)")
    print(f"model: 784-512-10 MLP (ReLU, dropout 0.2), Adam lr {args.lr}, cosine schedule, "
          f"batch {args.batch_size}, seed {args.seed}")
    start = time.perf_counter()
    with cpu.tuned():
        for epoch in range(1, args.epochs + 1):
            trainer.fit(train_loader, test_loader, epochs=epoch)
            h = trainer.history
            print(f"epoch {epoch:2d}  loss {h['loss'][-1]:.4f}  train acc {h['accuracy'][-1]:.4f}  "
                  f"test loss {h['val_loss'][-1]:.4f}  test acc {h['val_accuracy'][-1]:.4f}  "
                  f"({h['time'][-1]:.1f} s)", flush=True)
    wall = time.perf_counter() - start
    acc = trainer.history["val_accuracy"][-1]
    print(f"final test accuracy {acc:.4f} after {args.epochs} epochs; training wall time "
          f"{wall:.1f} s ({wall / args.epochs:.1f} s/epoch)")
    return acc


if __name__ == "__main__":
    main()
