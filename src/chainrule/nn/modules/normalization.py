"""BatchNorm1d/2d/3d (statistics over the batch, running estimates for evaluation), LayerNorm, RMSNorm,
GroupNorm, InstanceNorm1d/2d/3d and LocalResponseNorm."""
from __future__ import annotations

import warnings

import numpy as np

from ... import creation
from ..._device import check_device
from ..._modes import TRACE, no_grad
from ..._dtype import int64
from ...ops.einsum import einsum
from .. import functional as F
from ..functional.normalization import check_dtypes as _check_dtypes
from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module


class _BatchNorm(Module):
    """y = (x − μ)/√(σ² + ε)·γ + β per channel; μ, σ² from the batch in training (and folded into
    running estimates with ``momentum``; ``momentum=None`` is a cumulative average), from the
    running estimates in evaluation."""

    _expected_ndims: tuple = ()
    _version = 2   # the state_dict format with num_batches_tracked

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        check_device(device, type(self).__name__)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = bias
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(0, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # format version 2 added num_batches_tracked (torch 0.4.1): an older checkpoint, or a
        # dict with no _metadata (say, built key by key), loads with the module's own count
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats \
                and key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        """Running statistics to (0, 1, count 0) and, if affine, γ = 1, β = 0 (torch's)."""
        self.reset_running_stats()
        if self.affine:
            self.weight._data[...] = 1
            if self.bias is not None:
                self.bias._data[...] = 0

    def forward(self, input):
        if input.ndim not in self._expected_ndims:
            raise ValueError(f"{type(self).__name__}: expected {' or '.join(f'{n}D' for n in self._expected_ndims)} "
                             f"input, got {input.ndim}D input of shape {tuple(input.shape)}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            count = self.num_batches_tracked
            if TRACE.recorder is None:
                # the count's += 1 on its array: the in-place op's general path costs 7 µs (30
                # in a training step, the kernels having evicted the interpreter's data)
                count._check_inplace("add_")
                count._data += 1
                count._version_box[0] += 1
            else:
                with no_grad():   # an in-place op, so that a captured graph replays it
                    count.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or not self.track_running_stats
        # F.batch_norm checks the dtypes after the count, as torch's kernel (the refused batch
        # is counted there too)
        return F.batch_norm(
            input,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight, self.bias, use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.affine and self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs."""

    _expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs (per channel, over N, H and W)."""

    _expected_ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) inputs (per channel, over N, D, H and W)."""

    _expected_ndims = (5,)


class _LazyNormBase(LazyModuleMixin, _BatchNorm):
    """The lazy batch and instance norms: ``num_features`` is the first input's dim 1; then γ,
    β and the running statistics are created as the eager layer's. Note that, as torch's,
    the lazy instance norms default to ``affine=True, track_running_stats=True``."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats, self.use_bias = affine, track_running_stats, bias
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = creation.tensor(0, dtype=int64)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Materialize γ, β, running mean and variance as (input.shape[1],) and initialize
        them."""
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            if self.affine:
                self.weight.materialize((self.num_features,))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase):
    """A :class:`BatchNorm1d` whose ``num_features`` is inferred from the first input (N, C) or
    (N, C, L); it then becomes a BatchNorm1d. Args: BatchNorm1d's, less ``num_features``."""

    cls_to_become = BatchNorm1d
    _expected_ndims = BatchNorm1d._expected_ndims


class LazyBatchNorm2d(_LazyNormBase):
    """A :class:`BatchNorm2d` whose ``num_features`` is inferred from the first input
    (N, C, H, W); it then becomes a BatchNorm2d. Args: BatchNorm2d's, less ``num_features``."""

    cls_to_become = BatchNorm2d
    _expected_ndims = BatchNorm2d._expected_ndims


class LazyBatchNorm3d(_LazyNormBase):
    """A :class:`BatchNorm3d` whose ``num_features`` is inferred from the first input
    (N, C, D, H, W); it then becomes a BatchNorm3d. Args: BatchNorm3d's, less
    ``num_features``."""

    cls_to_become = BatchNorm3d
    _expected_ndims = BatchNorm3d._expected_ndims


class LayerNorm(Module):
    """y = (x − μ)/√(σ² + ε)·γ + β with μ, σ² over the trailing ``normalized_shape`` dims."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        check_device(device, "LayerNorm")
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*shape, dtype=dtype))
            self.bias = Parameter(creation.zeros(*shape, dtype=dtype)) if bias else None
            if not bias:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        weight, bias = self.weight, self.bias   # (read once: parametrized ones are computed)
        _check_dtypes("layer_norm", input, weight, bias)
        return F.layer_norm(input, self.normalized_shape, weight, bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
                f", bias={self.bias is not None}")


class GroupNorm(Module):
    """y = (x − μ_g)/√(σ²_g + ε)·γ + β with μ_g, σ²_g over each sample's group of
    num_channels/num_groups channels (see ``F.group_norm``). weight (C,) = 1, bias (C,) = 0.
    Shapes: (N, C, *) -> same."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        check_device(device, "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                      eps, affine)
        self.use_bias = bias
        if affine:
            self.weight = Parameter(creation.ones(num_channels, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.zeros(num_channels, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        weight, bias = self.weight, self.bias   # (read once: parametrized ones are computed)
        _check_dtypes("group_norm", input, weight, bias)
        return F.group_norm(input, self.num_groups, weight, bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.affine and self.use_bias}")


class _InstanceNorm(_BatchNorm):
    """y = (x − μ_nc)/√(σ²_nc + ε)·γ + β per sample and channel (see ``F.instance_norm``); the
    same parameters and buffers as batch norm, but affine=False and track_running_stats=False
    by default. An input without the batch dim is treated as one sample."""

    _batch_ndim = 3

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        _check_dtypes("instance_norm", input, self.weight, self.bias, self.running_mean)
        name, nb = type(self).__name__, self._batch_ndim
        if input.ndim not in (nb - 1, nb):
            raise ValueError(f"{name}: expected {nb - 1}D or {nb}D input (got {input.ndim}D input)")
        unbatched = input.ndim == nb - 1
        channels = input.shape[0 if unbatched else 1]
        if channels != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={0 if unbatched else 1} "
                                 f"to match num_features ({self.num_features}), but got: "
                                 f"{channels}.")
            warnings.warn(f"input's size at dim={0 if unbatched else 1} does not match "
                          "num_features. You can silence this warning by not passing in "
                          "num_features, which is not used because affine=False", stacklevel=2)
        if unbatched:
            input = input.unsqueeze(0)
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats, self.momentum
                              if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (N, C, L) or (C, L) inputs (per sample and channel, over L)."""

    _batch_ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) or (C, H, W) inputs (per sample and channel, over H, W)."""

    _batch_ndim = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance norm over (N, C, D, H, W) or (C, D, H, W) inputs."""

    _batch_ndim = 5


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):
    """An :class:`InstanceNorm1d` whose ``num_features`` is inferred from the first input's
    dim 1 (N, C, L); it then becomes an InstanceNorm1d. Defaults (torch's):
    ``affine=True, track_running_stats=True``."""

    cls_to_become = InstanceNorm1d
    _batch_ndim = InstanceNorm1d._batch_ndim


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):
    """An :class:`InstanceNorm2d` whose ``num_features`` is inferred from the first input's
    dim 1 (N, C, H, W); it then becomes an InstanceNorm2d. Defaults (torch's):
    ``affine=True, track_running_stats=True``."""

    cls_to_become = InstanceNorm2d
    _batch_ndim = InstanceNorm2d._batch_ndim


class LazyInstanceNorm3d(_LazyNormBase, _InstanceNorm):
    """An :class:`InstanceNorm3d` whose ``num_features`` is inferred from the first input's
    dim 1 (N, C, D, H, W); it then becomes an InstanceNorm3d. Defaults (torch's):
    ``affine=True, track_running_stats=True``."""

    cls_to_become = InstanceNorm3d
    _batch_ndim = InstanceNorm3d._batch_ndim


class RMSNorm(Module):
    """y = x / √(mean(x²) + ε)·γ over the trailing ``normalized_shape`` dims (see
    ``F.rms_norm``); weight γ (normalized_shape) = 1; eps=None means the dtype's epsilon."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        check_device(device, "RMSNorm")
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.elementwise_affine:
            self.weight._data[...] = 1

    def forward(self, input):
        _check_dtypes("rms_norm", input)   # torch computes a float64 input with float32 weights
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """y_c = x_c / (k + α/n·Σ_{c′ near c} x_{c′}²)^β over n = ``size`` neighbouring channels
    (see ``F.local_response_norm``). No parameters. Shapes: (N, C, *) -> same."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(Module):
    r"""torch's legacy cross-channel local response norm over (N, C, H, W) inputs, with torch's
    forward quirk for quirk: y_c = x_c · s_c^{−β}, s_c = k + α/n · Σ_{j ∈ W(c)} x_j², where
    torch's running-sum loop makes W(c) = [0, c + p − 1] minus [1, c − p]
    (p = ⌊(n − 1)/2⌋ + 1, clipped to the channels), so channel 0 stays in every later window.

    The gradient is this forward's exact derivative (autograd through the ops). torch's
    hand-written backward is not (its own gradcheck fails), so gradients differ from torch's;
    prefer :class:`LocalResponseNorm`, whose window is the symmetric one.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             f"instead.")
        c = input.shape[1]
        pre = int((self.size - 1) / 2 + 1)
        j, row = np.arange(c)[None, :], np.arange(c)[:, None]
        window = (j <= np.minimum(row + pre - 1, c - 1)) & ~((j >= 1) & (j <= row - pre))
        window = creation.tensor(window.astype(input.dtype.np))
        scale = einsum("cj,njhw->nchw", window, input * input) * (self.alpha / self.size) + self.k
        return input * scale ** -self.beta

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
