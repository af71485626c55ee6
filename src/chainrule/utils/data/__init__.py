"""Data loading (``torch.utils.data``): datasets, samplers, ``DataLoader``, ``random_split``.

The deck's "select data" step: a :class:`Dataset` holds samples, a sampler orders them, and a
:class:`DataLoader` batches them — ``batch_size=None`` for full-batch, ``1`` for stochastic,
``m`` for mini-batch gradient descent.
"""
from ._collate import default_collate
from .dataloader import DataLoader
from .dataset import (ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler)
from .distributed import DistributedSampler

__all__ = ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset",
           "ConcatDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "default_collate",
           "DistributedSampler"]
