"""All-reduce bandwidth between 2 ranks on one host (shared memory): chainrule vs mpi4py vs torch.

    python benchmarks/allreduce_bandwidth.py [--ranks 2] [--sizes-mb 1 10 100] [--seconds 0.5]

Relaunches itself under ``chainrule.distributed.launch`` (mpiexec of the Open MPI wheel). For
float32 tensors of each size it times, per call:

- ``chainrule``        ``dist.all_reduce(t)`` (Iallreduce polled to completion, in place)
- ``chainrule async``  ``dist.all_reduce(t, async_op=True).wait()``
- ``mpi4py Allreduce`` the blocking MPI call on the same buffer, in place (MPI's own speed)
- ``torch gloo``       ``torch.distributed.all_reduce`` with the gloo backend over loopback TCP
  (when torch is installed)

and prints the algorithm bandwidth (bytes / time) and the bus bandwidth (NCCL's convention:
algbw · 2(R − 1)/R, the bytes each rank moves). Not a test: timings depend on the machine and on
its load.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _time(fn, seconds):
    fn()                                   # warm up (buffers, connections)
    from chainrule import distributed as dist
    dist.barrier()
    reps, start = 0, time.perf_counter()
    while True:
        fn()
        reps += 1
        # every rank must run the same number of calls: rank 0 decides when to stop
        elapsed = time.perf_counter() - start
        stop = [elapsed >= seconds]
        dist.broadcast_object_list(stop, src=0)
        if stop[0]:
            break
    return (time.perf_counter() - start) / reps   # includes the tiny stop broadcast


def worker(args):
    import chainrule as cr
    from chainrule import distributed as dist
    dist.init_process_group("mpi")
    from mpi4py import MPI
    rank, world = dist.get_rank(), dist.get_world_size()
    comm = MPI.COMM_WORLD
    torch_dist = None
    if not args.no_torch:
        try:
            import torch
            import torch.distributed as torch_dist
            port = [29500 + (os.getpid() % 1000) if rank == 0 else 0]
            dist.broadcast_object_list(port, src=0)
            torch_dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port[0]}",
                                          rank=rank, world_size=world)
        except ImportError:
            torch_dist = None
    rows = []
    for mb in args.sizes_mb:
        n = int(mb * 2 ** 20 // 4)
        t = cr.ones(n)
        a = np.ones(n, np.float32)
        cases = {
            "chainrule": lambda: dist.all_reduce(t),
            "chainrule async": lambda: dist.all_reduce(t, async_op=True).wait(),
            "mpi4py Allreduce": lambda: comm.Allreduce(MPI.IN_PLACE, a, MPI.SUM),
        }
        if torch_dist is not None:
            tt = torch.ones(n)
            cases["torch gloo"] = lambda: torch_dist.all_reduce(tt)
        for name, fn in cases.items():
            sec = _time(fn, args.seconds)
            algbw = n * 4 / sec / 1e9
            rows.append((mb, name, sec * 1e3, algbw, algbw * 2 * (world - 1) / world))
    if torch_dist is not None:
        torch_dist.destroy_process_group()
    dist.destroy_process_group()
    if rank == 0:
        print(f"all_reduce (SUM) of float32 tensors, {world} ranks on one host")
        print(f"{'size MB':>8} {'implementation':<18} {'ms/call':>9} {'algbw GB/s':>11} "
              f"{'busbw GB/s':>11}")
        for mb, name, ms, alg, bus in rows:
            print(f"{mb:>8g} {name:<18} {ms:>9.2f} {alg:>11.2f} {bus:>11.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--sizes-mb", type=float, nargs="+", default=[1, 10, 100])
    p.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    p.add_argument("--no-torch", action="store_true", help="skip torch's gloo backend")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return 0
    from chainrule.distributed import launch
    return launch(args.ranks, [os.path.abspath(__file__), "--worker"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
