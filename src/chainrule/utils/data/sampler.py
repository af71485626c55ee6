"""Samplers (``torch.utils.data.sampler``): the order in which a DataLoader visits a dataset.

A sampler yields dataset indices; :class:`BatchSampler` groups them into batches. Each
sampler also has ``_index_chunks()``, the epoch's order as NumPy arrays drawn with exactly the
same random numbers as iteration, so the DataLoader can slice batches without a Python loop
over samples; they come lazily (``RandomSampler(replacement=True, num_samples=10**10)``, an
endless stream in minGPT's trainer, draws only what is used).

The random samplers make torch's draws: with no ``generator``, an epoch starts by drawing one
int64 seed from the default generator (``empty((), int64).random_()``) and seeding a fresh
generator with it; permutations are ``randperm(n)``, draws with replacement ``randint`` in
chunks of 32. So after the same ``manual_seed`` the order — and the default generator's state
after the epoch — equal torch's.
"""
from __future__ import annotations

import itertools

import numpy as np

from ... import _sampling
from ..._rng import Stream, stream as _stream
from ...random import Generator
__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        return itertools.chain.from_iterable(chunk.tolist() for chunk in self._index_chunks())

    def _index_chunks(self):
        # abstract: subclasses give the epoch's indices as arrays (or override __iter__)
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _has_index_chunks(sampler) -> bool:
    """True for chainrule samplers whose iteration is their _index_chunks (not overridden)."""
    return (isinstance(sampler, Sampler) and type(sampler).__iter__ is Sampler.__iter__
            and type(sampler)._index_chunks is not Sampler._index_chunks)


def _generator(generator):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator must be a chainrule.Generator, got "
                        f"{type(generator).__name__}")
    return generator


def _epoch_stream(generator) -> Stream:
    """torch's rule: with no generator, each epoch seeds a fresh generator from one int64 draw
    of the default generator — so ``chainrule.manual_seed`` fixes the whole sequence of epochs."""
    if generator is not None:
        return _stream(generator)
    seed = int(_sampling.random_bits(_stream(None), np.empty((), np.int64)))
    return Stream(seed)


class SequentialSampler(Sampler):
    """Indices 0, 1, …, N − 1 in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_chunks(self):
        return (np.arange(len(self.data_source)),)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order each epoch: a permutation of 0..N − 1 (without replacement), repeated
    until ``num_samples`` indices are drawn, or ``num_samples`` uniform draws (with
    replacement). ``generator`` makes the order reproducible."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _generator(generator)
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_chunks(self):
        n, k = len(self.data_source), self.num_samples
        s = _epoch_stream(self.generator)
        if self.replacement:   # torch draws randint(n) in chunks of 32, then the remainder
            for start in range(0, k // 32, 64):   # 64 of them to an array
                yield np.concatenate([_sampling.random_from_to(s, np.empty(32, np.int64), 0, n)
                                      for _ in range(min(64, k // 32 - start))])
            yield _sampling.random_from_to(s, np.empty(k % 32, np.int64), 0, n)
        else:
            for _ in range(k // n):
                yield _sampling.randperm(s, n)
            yield _sampling.randperm(s, n)[:k % n]   # torch draws it even when k % n == 0

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each epoch (without replacement)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = _generator(generator)

    def _index_chunks(self):
        # torch: randperm(len(indices), generator=generator) — the default generator itself when
        # none is given (no fresh per-epoch generator here)
        order = _sampling.randperm(_stream(self.generator), len(self.indices))
        return (np.asarray(self.indices)[order],)

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability ∝ ``weights[i]`` (with replacement by
    default): torch's ``multinomial`` on the float64 weights, from ``generator`` (the default
    generator itself when none is given), so the draws equal torch's after the same seed."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        data = getattr(weights, "_data", weights)
        self.weights = np.asarray(data, dtype=np.float64)
        if self.weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(self.weights.shape)}")
        self.num_samples, self.replacement = num_samples, replacement
        self.generator = _generator(generator)

    def _index_chunks(self):
        if not self.replacement and self.num_samples > self.weights.size:
            raise RuntimeError(f"multinomial: cannot sample n_sample ({self.num_samples}) > "
                               f"prob_dist.size(-1) ({self.weights.size}) samples without "
                               "replacement")
        w = self.weights
        if not np.all(np.isfinite(w) & (w >= 0)):   # torch's multinomial refuses them
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution: the "
                               "weights contain `inf`, `nan` or an element < 0")
        if not w.sum() > 0:
            raise RuntimeError("WeightedRandomSampler: invalid multinomial distribution (sum of "
                               "probabilities <= 0)")
        return (_sampling.multinomial(_stream(self.generator), w, self.num_samples,
                                      self.replacement),)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``; the last, shorter batch is
    dropped when ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, but "
                             f"got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _index_batches(self):
        """The epoch's batches as NumPy index arrays (fast when the sampler has _index_chunks)."""
        if _has_index_chunks(self.sampler):
            return _rebatch(self.sampler._index_chunks(), self.batch_size, self.drop_last)
        return (np.asarray(batch, dtype=np.int64) for batch in self._list_batches())

    def _list_batches(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self):
        if _has_index_chunks(self.sampler):
            return (b.tolist() for b in self._index_batches())
        return self._list_batches()

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _rebatch(chunks, size, drop_last):
    """Index arrays of ``size`` from a stream of index arrays of any lengths; the last, shorter
    one unless ``drop_last``."""
    pending = np.empty(0, np.int64)
    for chunk in chunks:
        pending = np.concatenate((pending, chunk)) if len(pending) else chunk
        stop = len(pending) - len(pending) % size
        for i in range(0, stop, size):
            yield pending[i:i + size]
        pending = pending[stop:]
    if len(pending) and not drop_last:
        yield pending
