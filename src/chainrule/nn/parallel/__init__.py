"""``torch.nn.parallel``: :class:`DistributedDataParallel` (one model replica per rank, gradients
averaged over the ranks by all-reduce during backward) and :class:`DataParallel` (on a machine
without GPUs, as torch's: the module itself)."""
from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
