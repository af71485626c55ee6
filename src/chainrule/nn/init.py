"""Weight initialisation (``torch.nn.init``). Each function fills a tensor in place, without
recording a graph, and returns it. Fan-in/fan-out follow torch: for a weight of shape
(out, in, *kernel), fan_in = in·Πkernel and fan_out = out·Πkernel.

The draws are torch's: each function makes the same sampling calls, in the same order, with
bounds computed by the same floating-point expressions as ``torch.nn.init``, so after the same
``manual_seed`` a chainrule layer starts from bit-identical weights (``orthogonal_`` draws the
same Gaussian matrix; its QR factorisation comes from NumPy's LAPACK, equal to torch's up to
rounding).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _sampling
from .._rng import stream as _stream


def calculate_gain(nonlinearity: str, param=None) -> float | int:
    """The recommended std scale for an activation: 1 (linear, sigmoid), 5/3 (tanh), √2 (relu),
    √(2/(1+slope²)) (leaky_relu), 3/4 (selu)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1   # an int, as torch's
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    tensor._data[...] = values
    tensor._version_box[0] += 1
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with U(a, b)."""
    return _fill(tensor, _sampling.uniform(_stream(generator), tensor._data, a, b))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with N(mean, std²)."""
    return _fill(tensor, _sampling.normal(_stream(generator), tensor._data, mean, std))


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) restricted to [a, b], by rejection (torch's two regimes).

    When [a, b] holds more than 30 % of the mass: draw N(mean, std²) for the whole tensor, and
    redraw a whole tensor's worth for as long as some value lies outside, keeping the new draw
    only where the old one was rejected. Otherwise: propose U(a, b) and accept x when
    ln u < −½((x − mean)/std)² + ½((mode − mean)/std)², u ~ U(0, 1).
    """
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    s = _stream(generator)
    data = tensor._data
    dt = data.dtype.type
    mass = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    if mass > 0.3:
        lo, hi = dt(a), dt(b)                 # the bounds as the tensor's dtype represents them
        out = _sampling.normal(s, data, mean, std)
        while True:
            bad = (out < lo) | (out > hi)
            if not bad.any():
                break
            out = np.where(bad, _sampling.normal(s, _sampling.dense_like(data), mean, std), out)
        return _fill(tensor, out)
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2
    buf = _sampling.dense_like(data)

    def log_density(x):   # in the tensor's dtype, one rounded step at a time, as torch
        d = (x - dt(mean)) / dt(std)
        return (d * d) * dt(-0.5) - dt(log_peak)

    def reject(x):        # log of a uniform (NumPy's log: may differ from torch's in the last bit)
        with np.errstate(divide="ignore"):
            return np.log(_sampling.uniform(s, buf)) > log_density(x)

    out = _sampling.uniform(s, data, a, b)
    pending = reject(out)
    while pending.any():
        cand = _sampling.uniform(s, buf, a, b)
        out = np.where(pending, cand, out)
        pending = np.where(pending, reject(cand), pending)
    return _fill(tensor, out)


def constant_(tensor, val: float):
    return _fill(tensor, val)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def eye_(tensor):
    if tensor.ndim != 2:
        raise ValueError("eye_: only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups: int = 1):
    """The identity convolution: zeros with w[g·k + d, d, centre] = 1 for each of ``groups``
    groups of k = out_channels/groups filters, so conv(x, w) = x on min(k, in) channels.
    Shapes: 3-, 4- or 5-D (out, in, *kernel)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    values = np.zeros(tensor.shape, tensor._data.dtype)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(−a, a) with a = √3·gain·√(2/(fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std      # torch's expression: the same bound to the last bit
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std²) with std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """U(−b, b) with b = √3·gain/√fan (He et al. 2015), gain = calculate_gain(nonlinearity, a)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std  # torch's expression: the same bound to the last bit
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    """N(0, std²) with std = gain/√fan."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix (Saxe et al.)."""
    if tensor.ndim < 2:
        raise ValueError("orthogonal_: only tensors with 2 or more dimensions are supported")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _sampling.normal(_stream(generator), np.empty((rows, cols), tensor._data.dtype))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, q.reshape(tensor.shape) * tensor._data.dtype.type(gain))


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """N(0, std²), then in each column ⌈sparsity·rows⌉ entries set to zero (Martens 2010).
    As torch, the zeroed rows come from ``randperm`` on the *default* generator."""
    if tensor.ndim != 2:
        raise ValueError("sparse_: only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    normal_(tensor, 0.0, std, generator)
    default = _stream(None)
    for col in range(cols):
        tensor._data[_sampling.randperm(default, rows)[:zeros], col] = 0
    return tensor


def _deprecated(init):
    """torch's old names without the trailing underscore: the same function, with its warning."""
    old = init.__name__[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{init.__name__}`.",
                      FutureWarning, stacklevel=2)
        return init(*args, **kwargs)
    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    deprecated_init.__doc__ = f"Deprecated: use :func:`{init.__name__}`."
    return deprecated_init


uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)
eye, dirac = _deprecated(eye_), _deprecated(dirac_)
