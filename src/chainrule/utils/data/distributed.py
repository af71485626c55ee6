"""``torch.utils.data.distributed``: :class:`DistributedSampler`, a shard of a dataset per rank."""
from __future__ import annotations

import math

import numpy as np

from ... import _sampling
from ..._rng import Stream
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    r"""The indices of a dataset that one of ``num_replicas`` processes visits, torch's rule
    exactly (same arguments → the same index lists as ``torch.utils.data.DistributedSampler``).

    With N = ``len(dataset)`` and R = ``num_replicas``:

    1. the epoch's order: ``randperm(N)`` from a generator seeded with ``seed + epoch``
       (``shuffle=True``), else ``0, 1, ..., N − 1``;
    2. made divisible by R: padded by repeating the order from its start up to
       ``total_size = R·⌈N / R⌉`` (``drop_last=False``), or cut to ``R·⌈(N − R) / R⌉``
       (``drop_last=True`` when R does not divide N);
    3. rank r takes every R-th index from position r: ``indices[r : total_size : R]``, so each
       rank gets ``num_samples = total_size / R`` indices and the ranks' shards are disjoint
       (up to the padding).

    Args:
        dataset: anything with ``len()``.
        num_replicas (int, optional): the number of processes; default
            ``chainrule.distributed.get_world_size()``.
        rank (int, optional): this process's rank in ``[0, num_replicas − 1]``; default
            ``chainrule.distributed.get_rank()``.
        shuffle (bool): a new random order each epoch (default ``True``).
        seed (int): the shuffle's seed, the same on every rank (default 0).
        drop_last (bool): drop the tail instead of padding (default ``False``).

    Call :meth:`set_epoch` before each epoch, or every epoch has the same order.

    Example::

        >>> sampler = DistributedSampler(dataset)       # after init_process_group
        >>> loader = DataLoader(dataset, batch_size=32, sampler=sampler)
        >>> for epoch in range(10):
        ...     sampler.set_epoch(epoch)
        ...     for x, y in loader: ...
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist   # the process group, only when asked for
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _index_chunks(self):
        n = len(self.dataset)
        if self.shuffle:   # torch: Generator().manual_seed(seed + epoch); randperm(n, generator=g)
            indices = _sampling.randperm(Stream(self.seed + self.epoch), n)
        else:
            indices = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                indices = np.concatenate([indices, np.resize(indices, padding)])
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match "
                                 f"total_size ({self.total_size})")
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match "
                                 f"num_samples ({self.num_samples})")
        return (indices,)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: with ``shuffle=True`` it seeds the order (``seed + epoch``), so all
        ranks draw the same permutation and it changes from epoch to epoch."""
        self.epoch = epoch
