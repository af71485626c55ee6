"""DataLoader (``torch.utils.data.DataLoader``): iterate a dataset in batches.

The batch size chooses the deck's three flavours of gradient descent:

- ``batch_size=len(dataset)`` — **full-batch** (batch) gradient descent: one batch holding
  the whole dataset per epoch; deterministic, stable gradient, slow on large data.
- ``batch_size=1`` — **stochastic** gradient descent: one sample per step; fast, noisy updates
  that can escape poor minima, but no use of vectorised hardware.
- ``batch_size=m`` — **mini-batch** gradient descent: the usual compromise, m a hyperparameter.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np

from ... import _sampling
from ..._rng import stream as _stream
from ._collate import default_collate, default_convert
from ._worker import VirtualWorker
from .dataset import IterableDataset
from .sampler import (BatchSampler, RandomSampler, SequentialSampler,
                      _has_index_chunks)

__all__ = ["DataLoader"]

_DONE = object()


class _BaseDataLoaderIter:
    """What ``iter(loader)`` gives: one epoch's batches, under torch's iterator class names.

    A bare generator worked for ``for batch in loader`` and ``next(it)``, but old scripts call
    ``it.next()`` (gone from torch's iterators) and ``len(it)``; with torch's class the first
    fails with torch's own message ("'_SingleProcessDataLoaderIter' object has no attribute
    'next'") and the second works."""

    def __init__(self, loader, batches):
        self._loader, self._batches = loader, batches
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __next__(self):
        batch = next(self._batches)
        self._num_yielded += 1
        return batch

    def __len__(self):
        return len(self._loader)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """``num_workers=0``: batches loaded in this process."""


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """``num_workers>0``: batches loaded by the (virtual) workers."""


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__``, ``__len__``) or an
            :class:`IterableDataset`.
        batch_size (int or None): samples per batch (default 1). ``None`` turns batching off,
            as torch: each sample the sampler picks (or the iterable dataset yields) is passed
            to ``collate_fn`` alone — :func:`default_convert` by default, which only turns
            NumPy arrays into tensors —, no batch dimension added (for a dataset that yields
            whole batches itself, or a ``sampler`` that yields lists of indices). For one
            batch of the whole dataset use ``batch_size=len(dataset)``.
        shuffle (bool): a new random order every epoch (a :class:`RandomSampler`).
        sampler: a :class:`Sampler` (or iterable of indices) giving the order; excludes shuffle.
        batch_sampler: yields lists of indices, one per batch; excludes batch_size, shuffle,
            sampler and drop_last.
        num_workers (int): how many worker processes torch would load with. chainrule loads
            in this process but emulates the workers' observable behaviour: each virtual
            worker has its own random states, seeded as torch seeds its workers
            (``base_seed + id``), runs ``worker_init_fn(id)`` once, answers
            ``get_worker_info()``, and produces every ``num_workers``-th batch (an
            ``IterableDataset`` is iterated per worker, on its own copy, the batches taken
            round robin). So random augmentations give torch's batches, and draws made while
            loading do not move the main generator. ``persistent_workers`` keeps the virtual
            workers (and their random states) across epochs; ``prefetch_factor`` sets how
            many index batches are drawn ahead when an epoch starts. The remaining options
            (``timeout``, ``multiprocessing_context``, ``pin_memory``, ``pin_memory_device``,
            ``in_order``) are accepted and have no effect.
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        drop_last (bool): drop the last batch when it is smaller than ``batch_size``.
        generator: a :class:`chainrule.Generator` for shuffling; with the same seed two loaders
            give the same order. Without it each epoch draws its seed from the global
            generator, so ``chainrule.manual_seed`` also makes shuffling reproducible.

    Random draws are torch's, in torch's order: ``iter(loader)`` draws one int64 (torch's
    ``_base_seed`` for worker processes, from ``generator`` or the default generator), and
    the first batch of a shuffled epoch draws the sampler's seed and permutation. So with the
    same seed the batches, and the generators' states after each epoch, equal torch's.

    A :class:`TensorDataset` (or a :class:`Subset` of one) with the default ``collate_fn`` is
    batched by one fancy index per tensor — ``X[indices]`` — instead of indexing and stacking
    sample by sample; the batches are the same.

    Example::

        loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True,
                            generator=chainrule.Generator().manual_seed(0))
        for xb, yb in loader:   # xb: (64, d), yb: (64,); the last batch may be smaller
            ...
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if batch_size is not None and (not isinstance(batch_size, int)
                                       or isinstance(batch_size, bool) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None (no "
                             f"batching), got {batch_size!r}")
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, "
                             f"got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError(f"DataLoader: prefetch_factor option should be non-negative, got "
                             f"{prefetch_factor!r}")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if num_workers > 0:
            warnings.warn(f"DataLoader: num_workers={num_workers}: chainrule emulates the workers "
                          "in the main process (torch's batches and random streams, no parallel "
                          "speed-up)", UserWarning, stacklevel=2)
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self._workers = None     # the virtual workers kept across epochs (persistent_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None and not self._iterable and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        # torch's "auto-collation": batches of samples; without it, samples one by one
        self._batched = batch_sampler is not None or (self._iterable and batch_size is not None)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        self.collate_fn = collate_fn if collate_fn is not None else \
            default_collate if self._batched else default_convert

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # raises TypeError if the stream has no length, as torch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self._batched else len(self.sampler)

    def __iter__(self):
        if self.num_workers > 0 and self.persistent_workers and self._workers is not None:
            workers = self._workers           # torch keeps its iterator: no new base seed
        else:
            # torch's iterator draws a base seed for its workers when it is created (also with
            # no workers): the same draw keeps the random streams in step with torch's
            self._base_seed = int(_sampling.random_bits(_stream(self.generator),
                                                        np.empty((), np.int64)))
            workers = [VirtualWorker(w, self.num_workers, self._base_seed, self.dataset,
                                     self.worker_init_fn, copy_dataset=self._iterable)
                       for w in range(self.num_workers)]
            if self.persistent_workers:
                self._workers = workers
        if workers:
            batches = self._iter_stream_workers(workers) if self._iterable \
                else self._iter_map_workers(workers)
            return _MultiProcessingDataLoaderIter(self, batches)
        batches = self._iter_stream() if self._iterable else self._iter_map()
        return _SingleProcessDataLoaderIter(self, batches)

    def _index_batches(self):
        """What the sampler hands out: index batches (lists, or index arrays on the fast path),
        or single indices when batching is off."""
        if not self._batched:
            return iter(self.sampler), lambda index: self.collate_fn(self.dataset[index])
        fetch = getattr(self.dataset, "_fetch_batch", None) if self._default_collate else None
        batch_sampler = self.batch_sampler
        if fetch is not None and isinstance(batch_sampler, BatchSampler) \
                and _has_index_chunks(batch_sampler.sampler):
            return batch_sampler._index_batches(), fetch
        getitems = getattr(self.dataset, "__getitems__", None)

        def load(indices):
            indices = list(indices)
            if fetch is not None:
                return fetch(np.asarray(indices, dtype=np.int64))
            if getitems is not None:
                return self.collate_fn(getitems(indices))
            return self.collate_fn([self.dataset[i] for i in indices])
        return iter(batch_sampler), load

    def _iter_map_workers(self, workers):
        """Batch i loaded by virtual worker i mod N. torch's workers start with
        prefetch_factor·N index batches in hand, so the sampler starts (and draws its seed) when
        the epoch's iterator is created, before the first batch is asked for."""
        batches, load = self._index_batches()
        ahead = list(itertools.islice(batches, self.prefetch_factor * len(workers)))
        # a TensorDataset gathered by the default collate runs no user code and draws nothing:
        # its workers need only start (worker_init_fn), not their random states per batch
        plain = load == getattr(self.dataset, "_fetch_batch", None)

        def run():
            for i, indices in enumerate(itertools.chain(ahead, batches)):
                worker = workers[i % len(workers)]
                if plain and worker.started:
                    yield load(indices)
                    continue
                with worker.active():
                    batch = load(indices)
                yield batch
        return run()

    def _iter_stream_workers(self, workers):
        """Each virtual worker iterates its own copy of the dataset and batches its own stream
        (its last batch may be short); batches are taken round robin from the workers still
        running, the order torch's in-order loader yields them in."""
        def next_batch(worker):
            if worker.iterator is None:
                worker.iterator = iter(worker.info.dataset)
            if not self._batched:
                return self.collate_fn(next(worker.iterator))
            batch = list(itertools.islice(worker.iterator, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                raise StopIteration
            return self.collate_fn(batch)

        def run():
            for w in workers:
                w.iterator = None            # a new epoch: every worker iterates afresh
            running = [True] * len(workers)
            w = 0
            while any(running):
                while not running[w]:
                    w = (w + 1) % len(workers)
                with workers[w].active():
                    try:
                        batch = next_batch(workers[w])
                    except StopIteration:
                        batch = _DONE
                if batch is _DONE:
                    running[w] = False
                else:
                    yield batch
                w = (w + 1) % len(workers)
        return run()

    def _iter_map(self):
        if not self._batched:   # each index the sampler gives (an int, or a list) on its own
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        fetch = getattr(self.dataset, "_fetch_batch", None) if self._default_collate else None
        batch_sampler = self.batch_sampler
        if fetch is not None and isinstance(batch_sampler, BatchSampler) \
                and _has_index_chunks(batch_sampler.sampler):
            # fast path: index arrays sliced from the epoch's order, one gather per tensor
            for indices in batch_sampler._index_batches():
                yield fetch(indices)
            return
        getitems = getattr(self.dataset, "__getitems__", None)
        for indices in batch_sampler:
            indices = list(indices)
            if fetch is not None:
                yield fetch(np.asarray(indices, dtype=np.int64))
            elif getitems is not None:
                yield self.collate_fn(getitems(indices))
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def _iter_stream(self):
        if not self._batched:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)
