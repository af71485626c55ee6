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
from .distributed_c10d import *  # noqa: F401,F403  (torch.distributed's names: its __all__)
from .distributed_c10d import __all__ as _names
from ._launcher import launch

__all__ = _names + ["launch"]
