"""Data-parallel training over MPI with ``torch.distributed``'s interface.

One process per rank, started by an MPI launcher::

    python -m chainrule.distributed.run -n 2 train.py --epochs 3

and in ``train.py``::

    import chainrule.distributed as dist
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    t = cr.ones(3) * rank
    dist.all_reduce(t, op=dist.ReduceOp.SUM)      # in place, on every rank
    work = dist.all_reduce(t, async_op=True)      # overlaps; t holds the sum after wait()
    work.wait()

Collectives (all in place on chainrule Tensors, blocking or ``async_op=True``):
``all_reduce``, ``broadcast``, ``reduce``, ``all_gather``, ``all_gather_into_tensor``,
``reduce_scatter``, ``reduce_scatter_tensor``, ``gather``, ``scatter``, ``send`` / ``recv`` /
``isend`` / ``irecv``, ``barrier``, and ``all_gather_object`` / ``broadcast_object_list`` (data
only, never pickle). Every wait ends within the process group's ``timeout`` with a one-line
RuntimeError naming the rank(s) that did not respond. mpi4py is imported on first use only
(``pip install chainrule[distributed]``); see docs/distributed.md.
"""
from .distributed_c10d import (Backend, DistBackendError, GroupMember, ProcessGroup, ReduceOp,
                               Work, all_gather, all_gather_into_tensor, all_gather_object,
                               all_reduce, barrier, broadcast, broadcast_object_list,
                               default_pg_timeout, destroy_process_group, gather, get_backend,
                               get_rank, get_world_size, group, init_process_group, irecv,
                               is_available, is_initialized, is_mpi_available, isend, recv,
                               reduce, reduce_scatter, reduce_scatter_tensor, scatter, send,
                               new_group, get_process_group_ranks, get_global_rank,
                               get_group_rank)
from ._launcher import launch

__all__ = ["init_process_group", "destroy_process_group", "is_available", "is_initialized",
           "is_mpi_available", "get_rank", "get_world_size", "get_backend", "barrier",
           "ReduceOp", "Backend", "ProcessGroup", "group", "GroupMember", "Work",
           "DistBackendError", "all_reduce", "broadcast", "reduce", "all_gather",
           "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather",
           "scatter", "send", "recv", "isend", "irecv", "all_gather_object",
           "broadcast_object_list", "default_pg_timeout", "launch", "new_group",
           "get_process_group_ranks", "get_global_rank", "get_group_rank"]
