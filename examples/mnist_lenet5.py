"""LeNet-5 on MNIST (the accuracy run of issue 6).

    python examples/mnist_lenet5.py --data ../shared/data/mnist [--epochs 8]

Reads the four IDX files with chainrule.datasets.MNIST, trains with Adam and a step decay of
the learning rate, and prints test accuracy and wall time per epoch.
"""
import argparse
import time

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F


def evaluate(model, X, y, batch=1000):
    model.eval()
    correct = 0
    with cr.no_grad():
        for i in range(0, len(y), batch):
            correct += int((model(X[i:i + batch]).argmax(1).numpy() == y[i:i + batch]).sum())
    model.train()
    return correct / len(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cr.manual_seed(args.seed)
    Xtr, ytr = cr.datasets.MNIST(args.data, train=True).tensors()
    Xte, yte = cr.datasets.MNIST(args.data, train=False).tensors()
    mean, std = 0.1307, 0.3081
    Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    y_test = yte.numpy()
    model = cr.models.LeNet5()
    opt = cr.optim.Adam(model.parameters(), lr=args.lr)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.3)
    rng = np.random.default_rng(args.seed)
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(ytr))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        acc = evaluate(model, Xte, y_test)
        print(f"epoch {epoch}: train loss {total / len(order):.4f}  test accuracy {acc * 100:.2f}%  "
              f"wall {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
