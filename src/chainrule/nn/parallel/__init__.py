"""``torch.nn.parallel``: :class:`DistributedDataParallel` (one model replica per rank, gradients
averaged over the ranks by all-reduce during backward)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
