"""Data-parallel scaling of chainrule's DistributedDataParallel on one machine.

    python benchmarks/ddp_scaling.py [--steps 20] [--batch 64] [--image 32]

Trains LeNet-5 (1×28×28) and resnet20 (3×image×image; with BatchNorm, and converted to
SyncBatchNorm, which adds two small all-reduces per BN layer per step) with SGD on random data, the global batch
fixed, at 1 rank × 1 thread and at 2 ranks × 1 thread each (OMP_NUM_THREADS=1, launched through
mpiexec), and prints samples/s and the speed-up (ideal 2×). Then resnet20's step time on 2 ranks
with DDP's bucketed all-reduce overlapping backward vs one all-reduce of all gradients after
backward. Not a test: numbers depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")


def worker(args):
    import numpy as np
    import chainrule as cr
    import chainrule.distributed as dist
    import chainrule.nn.functional as F
    from chainrule.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    cr.manual_seed(0)
    if args.model == "lenet":
        model, shape = cr.models.LeNet5(), (1, 28, 28)
    else:
        model, shape = cr.models.resnet20(), (3, args.image, args.image)
        if args.model == "resnet20-syncbn" and args.mode != "local":   # local: no communication
            model = cr.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    per_rank = args.batch // world
    rng = np.random.default_rng(rank)
    X = cr.tensor(rng.standard_normal((per_rank,) + shape).astype(np.float32))
    Y = cr.tensor(rng.integers(0, 10, per_rank))
    net = DDP(model) if args.mode == "overlap" else model
    params = [p for p in model.parameters() if p.requires_grad]
    opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        F.cross_entropy(net(X), Y).backward()
        if args.mode == "after" and world > 1:    # one all-reduce of every gradient at the end
            flat = cr.tensor(np.concatenate([p.grad.numpy().ravel() for p in params]))
            dist.all_reduce(flat, op=dist.ReduceOp.AVG)
            off = 0
            for p in params:
                n = p.numel()
                p.grad.numpy()[...] = flat.numpy()[off:off + n].reshape(p.grad.shape)
                off += n
        opt.step()

    for _ in range(3):
        step()
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    dist.barrier()
    seconds = time.perf_counter() - t0
    if rank == 0:
        with open(args.result, "w") as f:
            json.dump({"step_s": seconds / args.steps,
                       "samples_per_s": args.batch * args.steps / seconds}, f)


def run(n, model, mode, args):
    from chainrule.distributed._launcher import mpiexec_command
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "r.json")
        cmd = mpiexec_command(n, [os.path.abspath(__file__), "--worker", "--model", model,
                                  "--mode", mode, "--steps", str(args.steps), "--batch",
                                  str(args.batch), "--image", str(args.image), "--result",
                                  result])
        if "--oversubscribe" not in cmd:
            cmd.insert(1, "--oversubscribe")
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   MKL_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
        subprocess.run(cmd, check=True, env=env)
        with open(result) as f:
            return json.load(f)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=64, help="global batch (split over the ranks)")
    p.add_argument("--image", type=int, default=32, help="resnet20 image side")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model", default="lenet", help=argparse.SUPPRESS)
    p.add_argument("--mode", default="overlap", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    print(f"global batch {args.batch}, {args.steps} timed SGD steps, 1 thread per rank, "
          f"resnet20 on {args.image}x{args.image}")
    print("(2 ranks, no all-reduce: the same two processes without communication, i.e. what "
          "the machine's free cores allow)")
    print(f"{'model':<16}{'1 rank samples/s':>18}{'2 ranks samples/s':>19}{'speed-up':>10}"
          f"{'2 ranks, no all-reduce':>24}")
    for model in ("lenet", "resnet20", "resnet20-syncbn"):
        one = run(1, model, "overlap", args)["samples_per_s"]
        two = run(2, model, "overlap", args)["samples_per_s"]
        alone = run(2, model, "local", args)["samples_per_s"]
        print(f"{model:<16}{one:>18.1f}{two:>19.1f}{two / one:>9.2f}x"
              f"{alone:>17.1f} ({alone / one:.2f}x)")
    overlap = run(2, "resnet20", "overlap", args)["step_s"]
    after = run(2, "resnet20", "after", args)["step_s"]
    print(f"resnet20 on 2 ranks, ms/step: bucketed all-reduce overlapping backward "
          f"{overlap * 1e3:.1f}, one all-reduce after backward {after * 1e3:.1f} "
          f"({after / overlap:.2f}x)")


if __name__ == "__main__":
    main()
