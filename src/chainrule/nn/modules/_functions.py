"""The autograd Function behind :class:`~chainrule.nn.SyncBatchNorm` (torch keeps its own in
``torch.nn.modules._functions``): batch norm whose statistics, and whose backward's two
per-channel sums, are all-reduced over the ranks."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...tensor import Tensor


def _dist():
    # chainrule.distributed sits above nn (it leaves the process); imported when first needed
    from ... import distributed
    return distributed


class SyncBatchNorm(Function):
    r"""y = (x − μ)·r·γ + β, with μ and σ² over the batch of every rank (N = Σᵣ Nᵣ values per
    channel): one all-reduce of the per-channel (Σx, Σx², Nᵣ) gives

    .. math:: \mu = \frac{1}{N}\sum x, \qquad \sigma^2 = \frac{1}{N}\sum x^2 - \mu^2,
              \qquad r = (\sigma^2 + \epsilon)^{-1/2}

    (summed in float64). Backward all-reduces the two per-channel sums that couple the ranks,
    Σ ḡ and Σ ḡ·(x − μ), and gives x̄ = γ·r·(ḡ − Σḡ/N − (x − μ)·r²·Σḡ(x − μ)/N); γ̄ = r·Σ ḡ(x − μ)
    and β̄ = Σ ḡ over this rank's samples only (DistributedDataParallel averages them).
    Shapes: input (N, C, ...), weight, bias, running stats (C,). Not differentiable twice.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, momentum, group):
        dist = _dist()
        x = input._data
        c = x.shape[1]
        dims = (0,) + tuple(range(2, x.ndim))
        shape = (1, c) + (1,) * (x.ndim - 2)
        local = np.empty(2 * c + 1, np.float64)
        local[:c] = x.sum(axis=dims, dtype=np.float64)
        local[c:2 * c] = np.square(x, dtype=np.float64).sum(axis=dims) if x.dtype != np.float64 \
            else (x * x).sum(axis=dims)
        local[2 * c] = x.size // c
        stats = Tensor._make(local)
        dist.all_reduce(stats, group=group)
        total, n = stats._data[:2 * c], stats._data[2 * c]
        if n <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when "
                             f"training, got {int(n)} over all ranks")
        mean = total[:c] / n
        var = np.maximum(total[c:] / n - mean * mean, 0.0)
        inv_std = 1.0 / np.sqrt(var + eps)
        scale = inv_std * weight._data if weight is not None else inv_std
        shift = -mean * scale + (bias._data if bias is not None else 0.0)
        out = x * scale.astype(x.dtype).reshape(shape) + shift.astype(x.dtype).reshape(shape)
        if running_mean is not None:
            running_mean._data *= (1 - momentum)
            running_mean._data += (momentum * mean).astype(running_mean._data.dtype)
            running_mean._version_box[0] += 1
        if running_var is not None:
            running_var._data *= (1 - momentum)
            running_var._data += (momentum * var * (n / (n - 1))).astype(running_var._data.dtype)
            running_var._version_box[0] += 1
        ctx.save_for_backward(input, weight)
        ctx.mean = mean.astype(x.dtype).reshape(shape)
        ctx.inv_std = inv_std.astype(x.dtype).reshape(shape)
        ctx.n, ctx.dims, ctx.group = n, dims, group
        return Tensor._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g, x = grad_output._data, input._data
        c, dims, shape = x.shape[1], ctx.dims, ctx.mean.shape
        xmu = x - ctx.mean
        sum_dy = g.sum(axis=dims)
        sum_dy_xmu = (g * xmu).sum(axis=dims)
        grad_input = None
        if need_x:
            both = Tensor._make(np.concatenate([sum_dy, sum_dy_xmu]))
            _dist().all_reduce(both, group=ctx.group)
            mean_dy = (both._data[:c] / ctx.n).astype(x.dtype).reshape(shape)
            mean_dy_xmu = (both._data[c:] / ctx.n).astype(x.dtype).reshape(shape)
            r = ctx.inv_std
            scale = r * weight._data.reshape(shape) if weight is not None else r
            grad_input = Tensor._make((g - mean_dy - xmu * (r * r) * mean_dy_xmu) * scale)
        grad_weight = (Tensor._make((sum_dy_xmu * ctx.inv_std.reshape(c)).astype(x.dtype))
                       if weight is not None and need_w else None)
        grad_bias = Tensor._make(sum_dy.astype(x.dtype)) if need_b else None
        return grad_input, grad_weight, grad_bias, None, None, None, None, None
