"""``torch.nn.DataParallel`` as torch's CPU-only build has it: the wrapped module runs as it is."""
from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Single-process data parallelism over GPUs in torch; chainrule has no GPU, so, as torch
    on a machine without one, ``device_ids`` is left empty and ``forward`` calls ``module``
    directly. The wrapper keeps torch's surface — ``.module``, state-dict keys prefixed
    ``module.`` — so scripts written for GPUs run and their checkpoints load. (Data
    parallelism over processes: :class:`~chainrule.nn.parallel.DistributedDataParallel`.)

    Args:
        module: the module to wrap. device_ids, output_device, dim: accepted and unused.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
