"""Convolution layers: one small filter bank slid over the whole input (weight sharing)."""
from __future__ import annotations

import math

from ... import creation
from ..._device import check_device
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, dtype, dims, transposed=False, output_padding=0, device=None):
        super().__init__()
        check_device(device, type(self).__name__)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{type(self).__name__}: groups must be a positive integer, got "
                             f"{groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{type(self).__name__}: padding_mode must be one of "
                             f"{sorted(_PADDING_MODES)}, got {padding_mode!r}")
        tup = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * dims
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in tup(stride)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = tup(kernel_size), tup(stride), tup(dilation)
        self.padding = padding if isinstance(padding, str) else tup(padding)
        self.output_padding = tup(output_padding)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, transposed
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(creation.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """torch's default: kaiming_uniform_(a=√5) for W, U(−1/√fan_in, 1/√fan_in) for b."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def _padded(self, x):
        """Non-zero padding modes pad explicitly (F.pad order: last dim first), then convolve
        unpadded; 'same' splits d(k − 1) per dim with any odd unit on the far side, as torch."""
        if self.padding == "valid":
            return x
        if self.padding == "same":
            per_dim = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                       for d, k in zip(self.dilation, self.kernel_size)]
        else:
            per_dim = [(p, p) for p in self.padding]
        widths = []
        for lo, hi in reversed(per_dim):
            widths += [lo, hi]
        return F.pad(x, tuple(widths), mode=self.padding_mode)   # (its checks: sizes, wraps)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.kernel_size):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer: (N, C_in, H, W) -> (N, C_out, Ho, Wo); see ``functional.conv2d``.

    Weight (C_out, C_in/groups, kh, kw) is shared over every position of the input: the same
    edge detector applies everywhere (the deck's "weight sharing").
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype, 2, device=device)

    def forward(self, input):
        if self.padding_mode != "zeros":
            return F.conv2d(self._padded(input), self.weight, self.bias, self.stride, 0,
                            self.dilation, self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class Conv1d(_ConvNd):
    """1-D convolution layer: (N, C_in, L) -> (N, C_out, Lo)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype, 1, device=device)

    def forward(self, input):
        if self.padding_mode != "zeros":
            return F.conv1d(self._padded(input), self.weight, self.bias, self.stride, 0,
                            self.dilation, self.groups)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class _ConvTransposeNd(_ConvNd):
    """The transposed layers: ``forward(input, output_size=None)``, where an ``output_size``
    picks the output_padding that reaches it (torch's ``_output_padding``)."""

    _dims = 2
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype, self._dims, transposed=True,
                         output_padding=output_padding, device=device)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        d = self._dims
        output_size = tuple(output_size)[-d:] if len(output_size) in (d + 1, d + 2) \
            else tuple(output_size)
        if len(output_size) != d:
            raise ValueError(f"ConvTranspose{d}D: for {input.ndim}D input, output_size must "
                             f"have {d} or {d + 2} elements (got {len(output_size)})")
        spatial = tuple(input.shape[-d:])
        out = []
        for i in range(d):
            smallest = ((spatial[i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            if not smallest <= output_size[i] < smallest + self.stride[i]:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {smallest} to {smallest + self.stride[i] - 1} (for "
                                 f"an input of {spatial})")
            out.append(output_size[i] - smallest)
        return tuple(out)

    def forward(self, input, output_size=None):
        weight = self.weight   # (read once: a parametrized weight is computed at each read)
        dt = getattr(getattr(input, "_data", None), "dtype", None)
        if dt is not None and dt != weight._data.dtype:   # torch's check (else float64 out)
            raise RuntimeError(f"{type(self).__name__}: expected scalar type {weight.dtype} "
                               f"but found {input.dtype} (the input must have the weight's dtype)")
        return type(self)._fn(input, weight, self.bias, self.stride, self.padding,
                              self._output_padding(input, output_size), self.groups,
                              self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution layer (the adjoint of Conv1d): (N, C_in, L) -> (N, C_out, Lo),
    Lo = (L − 1)s − 2p + d(k − 1) + output_padding + 1. Weight (C_in, C_out/groups, k)."""

    _dims = 1
    _fn = staticmethod(F.conv_transpose1d)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution layer (the adjoint of Conv3d): (N, C_in, D, H, W) ->
    (N, C_out, Do, Ho, Wo). Weight (C_in, C_out/groups, kd, kh, kw)."""

    _dims = 3
    _fn = staticmethod(F.conv_transpose3d)


class Conv3d(_ConvNd):
    """3-D convolution layer: (N, C_in, D, H, W) -> (N, C_out, Do, Ho, Wo); see
    ``functional.conv3d``. Weight (C_out, C_in/groups, kd, kh, kw), torch's default init."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype, 3, device=device)

    def forward(self, input):
        if self.padding_mode != "zeros":
            return F.conv3d(self._padded(input), self.weight, self.bias, self.stride, 0,
                            self.dilation, self.groups)
        return F.conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed convolution layer (the adjoint of Conv2d): (N, C_in, H, W) -> (N, C_out, Ho, Wo).
    Weight (C_in, C_out/groups, kh, kw)."""

    _dims = 2
    _fn = staticmethod(F.conv_transpose2d)


class _LazyConvXdMixin(LazyModuleMixin):
    """The lazy convolutions: ``in_channels`` is the first input's channel dim (dim 1, or dim 0
    for an unbatched input); then the weight is drawn as the eager layer's."""

    _spatial = 2

    def _lazy_init(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """Materialize the weight ((C_out, C_in/groups, *k), or (C_in, C_out/groups, *k)
        transposed) and bias (C_out,) from the input's channels, then initialize them."""
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _get_in_channels(self, input):
        unbatched = self._spatial + 1
        if input.dim() not in (unbatched, unbatched + 1):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) "
                               f"input to {type(self).__name__}, but got input of size: "
                               f"{input.shape}")
        return input.shape[1] if input.dim() == unbatched + 1 else input.shape[0]


def _lazy_conv_init(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                    bias=True, padding_mode="zeros", device=None, dtype=None):
    """A lazy Conv{1,2,3}d: the eager layer's arguments less ``in_channels``."""
    LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                             padding_mode, device=device, dtype=dtype)
    self._lazy_init(out_channels, bias, device, dtype)


def _lazy_conv_transpose_init(self, out_channels, kernel_size, stride=1, padding=0,
                              output_padding=0, groups=1, bias=True, dilation=1,
                              padding_mode="zeros", device=None, dtype=None):
    """A lazy ConvTranspose{1,2,3}d: the eager layer's arguments less ``in_channels``."""
    LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups,
                             False, dilation, padding_mode, device=device, dtype=dtype)
    self._lazy_init(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    """A :class:`Conv1d` whose ``in_channels`` is inferred from the first input (N, C_in, L);
    it then becomes a Conv1d. Args: Conv1d's, less ``in_channels``."""

    cls_to_become = Conv1d
    _spatial = 1
    __init__ = _lazy_conv_init


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    """A :class:`Conv2d` whose ``in_channels`` is inferred from the first input
    (N, C_in, H, W); it then becomes a Conv2d. Args: Conv2d's, less ``in_channels``."""

    cls_to_become = Conv2d
    _spatial = 2
    __init__ = _lazy_conv_init


class LazyConv3d(_LazyConvXdMixin, Conv3d):
    """A :class:`Conv3d` whose ``in_channels`` is inferred from the first input
    (N, C_in, D, H, W); it then becomes a Conv3d. Args: Conv3d's, less ``in_channels``."""

    cls_to_become = Conv3d
    _spatial = 3
    __init__ = _lazy_conv_init


class LazyConvTranspose1d(_LazyConvXdMixin, ConvTranspose1d):
    """A :class:`ConvTranspose1d` whose ``in_channels`` is inferred from the first input;
    it then becomes a ConvTranspose1d. Args: ConvTranspose1d's, less ``in_channels``."""

    cls_to_become = ConvTranspose1d
    _spatial = 1
    __init__ = _lazy_conv_transpose_init


class LazyConvTranspose2d(_LazyConvXdMixin, ConvTranspose2d):
    """A :class:`ConvTranspose2d` whose ``in_channels`` is inferred from the first input;
    it then becomes a ConvTranspose2d. Args: ConvTranspose2d's, less ``in_channels``."""

    cls_to_become = ConvTranspose2d
    _spatial = 2
    __init__ = _lazy_conv_transpose_init


class LazyConvTranspose3d(_LazyConvXdMixin, ConvTranspose3d):
    """A :class:`ConvTranspose3d` whose ``in_channels`` is inferred from the first input;
    it then becomes a ConvTranspose3d. Args: ConvTranspose3d's, less ``in_channels``."""

    cls_to_become = ConvTranspose3d
    _spatial = 3
    __init__ = _lazy_conv_transpose_init
