"""``torch.nn.SyncBatchNorm``: batch norm with the statistics of the whole global batch."""
from __future__ import annotations

from ..._modes import no_grad
from . import _functions
from .normalization import _BatchNorm


def _dist():
    # chainrule.distributed sits above nn (it leaves the process); imported when first needed
    from ... import distributed
    return distributed


class SyncBatchNorm(_BatchNorm):
    r"""Batch norm over the batches of all ranks together (``torch.nn.SyncBatchNorm``).

    .. math:: y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}\,\gamma + \beta,\qquad
              \mu = \frac{1}{N}\sum_{r}\sum_{i\in r} x_i,\quad
              \sigma^2 = \frac{1}{N}\sum_{r}\sum_{i\in r} x_i^2 - \mu^2

    per channel, N the number of values per channel over every rank. In training under an
    initialised process group of more than one rank, each forward all-reduces the per-channel
    sums (Σx, Σx², count) and each backward the two sums Σḡ and Σḡ·(x − μ), so that R ranks with
    batches of B compute what one process computes with BatchNorm on the concatenated batch of
    R·B (then DistributedDataParallel averages γ̄, β̄). In evaluation, or without a process group
    (or with one rank), it is plain BatchNorm. The running statistics are updated with the
    global μ and unbiased σ², identically on every rank.

    Args: as BatchNorm2d, plus ``process_group`` (default the world).
    Shape: input (N, C, ...) with at least 2 dims; output the same.
    """

    _expected_ndims = tuple(range(2, 9))     # any input of 2 dims or more, as torch's

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected input with {self.num_features} channels "
                             f"(dim 1), got shape {tuple(input.shape)}")
        dist = _dist()
        distributed = (self.training and dist.is_available() and dist.is_initialized()
                       and dist.get_world_size(self.process_group) > 1)
        if not distributed:
            return self._plain_forward(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            with no_grad():   # an in-place op, so that a captured graph replays it
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.item())
        track = self.track_running_stats
        return _functions.SyncBatchNorm.apply(
            input, self.weight, self.bias, self.running_mean if track else None,
            self.running_var if track else None, self.eps, momentum, self.process_group)

    def _plain_forward(self, input):
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Return ``module`` with every BatchNorm*d replaced by a SyncBatchNorm holding the same
        parameters and buffers (so ``state_dict()`` keys and values are unchanged)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    if module.bias is None:
                        out.register_parameter("bias", None)
                    else:
                        out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in list(module.named_children()):
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
