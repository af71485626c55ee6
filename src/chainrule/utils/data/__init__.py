"""Data loading (``torch.utils.data``): datasets, samplers, ``DataLoader``, ``random_split``.

The deck's "select data" step: a :class:`Dataset` holds samples, a sampler orders them, and a
:class:`DataLoader` batches them — ``batch_size=len(dataset)`` for full-batch, ``1`` for
stochastic, ``m`` for mini-batch gradient descent.
"""
from ._collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                      Subset, TensorDataset, random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .distributed import DistributedSampler
from ._worker import WorkerInfo, get_worker_info

__all__ = ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset",
           "ConcatDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "default_collate", "default_convert", "StackDataset",
           "ChainDataset", "WeightedRandomSampler", "get_worker_info", "DistributedSampler"]

