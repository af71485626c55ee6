"""The neural-network functions torch also exposes at its top level (``torch.conv2d``,
``torch.max_pool2d``, ``torch.dropout(x, p, train)``, ``torch.embedding(weight, indices)``, ...):
the functions of :mod:`chainrule.nn.functional`, under torch's top-level signatures where
those differ (a required ``train`` flag, ``stride=()`` for "the kernel size", the embedding's
weight first and ``padding_idx=-1`` for none)."""
from __future__ import annotations

import functools
import warnings

import numpy as np

from . import _sampling
from ._rng import stream as _stream
from .nn import functional as F
from .tensor import Tensor
from .nn.functional.ctc import _ctc_loss
from .creation import tensor as _tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "embedding_bag", "feature_dropout",
           "feature_dropout_", "alpha_dropout", "alpha_dropout_", "avg_pool1d", "batch_norm",
           "bilinear",
           "binary_cross_entropy_with_logits", "celu", "celu_", "channel_shuffle", "conv1d",
           "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "cosine_embedding_loss", "ctc_loss", "dropout", "dropout_", "embedding",
           "feature_alpha_dropout", "feature_alpha_dropout_", "group_norm", "hardshrink",
           "hinge_embedding_loss", "instance_norm", "kl_div", "layer_norm", "margin_ranking_loss",
           "max_pool1d", "max_pool2d", "max_pool3d", "native_batch_norm", "native_dropout",
           "native_group_norm", "native_layer_norm", "pixel_shuffle",
           "pixel_unshuffle", "poisson_nll_loss", "prelu", "rms_norm", "rrelu", "rrelu_", "selu",
           "selu_", "threshold", "threshold_", "triplet_margin_loss"]

conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = (F.conv_transpose1d, F.conv_transpose2d,
                                                        F.conv_transpose3d)
pixel_shuffle, pixel_unshuffle, bilinear, prelu = (F.pixel_shuffle, F.pixel_unshuffle, F.bilinear,
                                                   F.prelu)


def _pool(fn):
    def pool(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return fn(input, kernel_size, stride if stride not in ((), []) else None, padding,
                  dilation, ceil_mode)
    pool.__name__ = pool.__qualname__ = fn.__name__
    pool.__doc__ = (f"``{fn.__name__}`` at torch's top level: ``nn.functional.{fn.__name__}`` "
                    "(an empty ``stride`` means the kernel size).")
    return pool


max_pool1d, max_pool2d, max_pool3d = _pool(F.max_pool1d), _pool(F.max_pool2d), _pool(F.max_pool3d)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """``nn.functional.avg_pool1d``."""
    return F.avg_pool1d(input, kernel_size, stride if stride not in ((), []) else None, padding,
                        ceil_mode, count_include_pad)


def dropout(input, p, train):
    """``nn.functional.dropout(input, p, training=train)``: ``train`` is required."""
    return F.dropout(input, p, train)


def alpha_dropout(input, p, train):
    """``nn.functional.alpha_dropout(input, p, training=train)``."""
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    """``nn.functional.feature_alpha_dropout(input, p, training=train)``."""
    return F.feature_alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """``nn.functional.layer_norm`` (``cudnn_enable`` has no effect)."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``nn.functional.rms_norm``."""
    return F.rms_norm(input, normalized_shape, weight, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``nn.functional.embedding(indices, weight)``: torch's top level takes the weight first
    and ``padding_idx=-1`` for none."""
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def celu(input, alpha=1.0):
    """``nn.functional.celu``."""
    return F.celu(input, alpha)


def selu(input):
    """``nn.functional.selu``."""
    return F.selu(input)


def threshold(input, threshold, value):
    """``nn.functional.threshold``."""
    return F.threshold(input, threshold, value)


def hardshrink(input, lambd=0.5):
    """``nn.functional.hardshrink``."""
    return F.hardshrink(input, lambd)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``nn.functional.rrelu`` (the slope drawn from the default generator)."""
    if generator is not None:
        raise TypeError("rrelu: generator= is not supported; seed the default generator instead")
    return F.rrelu(input, lower, upper, training)


# ---------------------------------------------------------------- losses with torch's int reduction
def _reduction(reduction, op: str, position: int) -> str:
    """torch's top-level losses take ``reduction`` as its enum (``torch.nn._reduction``): 1 'mean',
    2 'sum', any other int 'none' (the unreduced loss, as ATen's ``apply_loss_reduction``); a
    string or bool is torch's TypeError."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{op}(): argument 'reduction' (position {position}) must be int, not "
                        f"{type(reduction).__name__}")
    return {1: "mean", 2: "sum"}.get(reduction, "none")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    """``nn.functional.ctc_loss`` with ``reduction`` as an int (0 none, 1 mean, 2 sum)."""
    _reduction(reduction, "ctc_loss", 6)
    return _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                     zero_infinity)


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    """``nn.functional.hinge_embedding_loss`` with an int ``reduction``."""
    return F.hinge_embedding_loss(input, target, margin,
                                  reduction=_reduction(reduction, "hinge_embedding_loss", 4))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    """``nn.functional.margin_ranking_loss`` with an int ``reduction``."""
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss", 5))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    """``nn.functional.cosine_embedding_loss`` with an int ``reduction``."""
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss", 5))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction=1):
    """``nn.functional.triplet_margin_loss`` with an int ``reduction``."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss", 8))


def kl_div(input, target, reduction=1, *, log_target=False):
    """``nn.functional.kl_div`` with an int ``reduction`` (no 'batchmean'; 'mean' averages over
    every element, without the functional's warning about it)."""
    name = _reduction(reduction, "kl_div", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(input, target, reduction=name, log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """``nn.functional.binary_cross_entropy_with_logits``: ``pos_weight`` before an int
    ``reduction``."""
    return F.binary_cross_entropy_with_logits(
        input, target, weight,
        reduction=_reduction(reduction, "binary_cross_entropy_with_logits", 5),
        pos_weight=pos_weight)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``nn.functional.poisson_nll_loss``: every argument required, ``reduction`` an int."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss", 6))


# ---------------------------------------------------------------- normalizations, in ATen's order
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """``nn.functional.batch_norm`` with ATen's argument order (weight and bias first; every
    argument required; ``cudnn_enabled`` has no effect)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled):
    """``nn.functional.instance_norm`` with ATen's argument order (``cudnn_enabled`` has no
    effect)."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """``nn.functional.group_norm`` (``cudnn_enabled`` has no effect)."""
    return F.group_norm(input, num_groups, weight, bias, eps)


# ATen's native_* forms also return the statistics they normalized with: μ and
# 1/√(σ² + ε) (biased σ²), computed in float64 and given in the input's dtype, not
# differentiable (torch's are outputs without gradient)
def _statistics(x: np.ndarray, axes, eps, keepdims=True):
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=axes, keepdims=keepdims), x64.var(axis=axes, keepdims=keepdims)
    return (Tensor._make(mean.astype(x.dtype)),
            Tensor._make((1.0 / np.sqrt(var + eps)).astype(x.dtype)))


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """:func:`layer_norm` returning ``(out, mean, rstd)``; mean and rstd have the input's
    shape with the normalized dims set to 1 (``(N, 1)`` for ``(N, D)``)."""
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    if k == 0:
        raise RuntimeError("native_layer_norm: Expected normalized_shape to be at least "
                           "1-dimensional, i.e., containing at least one element, but got "
                           "normalized_shape = []")
    out = F.layer_norm(input, normalized_shape, weight, bias, eps)
    return (out,) + _statistics(input._data, tuple(range(input.ndim - k, input.ndim)), eps)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """:func:`group_norm` over ``group`` groups of an (N, C, *) input of N·C·HxW elements,
    returning ``(out, mean, rstd)`` with mean and rstd of shape (N, group), both
    differentiable (as torch's)."""
    if input.numel() != N * C * HxW or input.ndim < 2 or tuple(input.shape[:2]) != (N, C):
        raise RuntimeError(f"native_group_norm: expected an input of shape (N={N}, C={C}, *) "
                           f"with N*C*HxW = {N * C * HxW} elements, got {tuple(input.shape)}")
    out = F.group_norm(input, group, weight, bias, eps)
    # differentiable, as torch's (native_layer_norm's are not)
    grouped = input.reshape(N, group, (C // group) * HxW)   # not -1: N may be 0
    return out, grouped.mean(-1), (grouped.var(-1, correction=0) + eps).rsqrt()


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """:func:`batch_norm` returning ``(out, save_mean, save_invstd)``: in training, the batch's
    per-channel mean and 1/√(σ² + ε) (shape (C,)); in evaluation, two empty tensors (as
    torch's CPU kernel). Running statistics are updated as ``batch_norm`` does."""
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = Tensor._make(np.zeros(0, input._data.dtype))
        return out, empty, Tensor._make(np.zeros(0, input._data.dtype))
    axes = (0,) + tuple(range(2, input.ndim))
    return (out,) + _statistics(input._data, axes, eps, keepdims=False)


def native_dropout(input, p, train):
    """Dropout returning ``(out, mask)``: while training (``train`` True or None) each element
    is kept with probability 1 − p (``mask``, bool) and scaled by 1/(1 − p) (0 when p = 1);
    otherwise ``out`` is a copy of ``input`` and ``mask`` all True."""
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.numel() == 0:
        return input, Tensor._make(np.empty(input._data.shape, input._data.dtype))
    if train is not None and not train:
        return input.clone(), Tensor._make(np.ones(input._data.shape, np.bool_))
    keep = 1.0 - p
    hit = _sampling.bernoulli_scalar(_stream(None), _sampling.dense_like(input._data), keep)
    scale = 0.0 if keep == 0 else 1.0 / keep
    return input * Tensor._make(hit) * scale, Tensor._make(hit.astype(np.bool_))


# ---------------------------------------------------------------- shuffles and in-place forms
def channel_shuffle(input, groups):
    """``nn.functional.channel_shuffle``: (N, g·k, *) -> channels reordered as (k, g)."""
    return F.channel_shuffle(input, groups)


def dropout_(input, p, train):
    """``nn.functional.dropout(input, p, train, inplace=True)``."""
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p, train):
    """``nn.functional.alpha_dropout(input, p, train, inplace=True)``."""
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input, p, train):
    """``nn.functional.feature_alpha_dropout(input, p, train, inplace=True)``."""
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def celu_(input, alpha=1.0):
    """``nn.functional.celu_``."""
    return F.celu_(input, alpha)


def selu_(input):
    """``nn.functional.selu_``."""
    return F.selu_(input)


def threshold_(input, threshold, value):
    """``nn.functional.threshold_``."""
    return F.threshold_(input, threshold, value)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``nn.functional.rrelu_`` (the slopes drawn from the default generator)."""
    if generator is not None:
        raise TypeError("rrelu_: generator= is not supported; seed the default generator instead")
    return F.rrelu_(input, lower, upper, training)


def adaptive_avg_pool1d(input, output_size):
    """``nn.functional.adaptive_avg_pool1d``: (N, C, L) or (C, L) -> (…, O)."""
    return F.adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """``nn.functional.adaptive_max_pool1d(..., return_indices=True)``: torch's top-level form
    always returns (values, indices), each (…, O)."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def _feature_dropout(input, p, train, inplace, op):
    from .nn.functional.dropout2d import _channel_dropout
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input")
    return _channel_dropout(input, p, train, inplace, None, op, input.ndim - 2)


def feature_dropout(input, p, train):
    """Zero each feature map x[n, c] (all trailing dims) with probability p while ``train``,
    scaling the rest by 1/(1 − p): torch's mask, one Bernoulli(1 − p) per (n, c) from the same
    stream. Shapes: (N, C, *) -> same (as ``F.dropout2d`` for 4-D inputs)."""
    return _feature_dropout(input, p, train, False, "feature_dropout")


def feature_dropout_(input, p, train):
    """:func:`feature_dropout` written into ``input``."""
    return _feature_dropout(input, p, train, True, "feature_dropout_")


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """ATen's ``embedding_bag``: ``nn.functional.embedding_bag`` with the weight first, ``mode``
    0 / 1 / 2 for sum / mean / max, and torch's four results (output, offset2bag, bag_size,
    max_indices): offset2bag the bag of each index (empty for a float32 sum without
    ``padding_idx``, torch's fast path), bag_size each bag's count of non-padding indices
    (zeros for sum), max_indices the weight row of each bag's maximum per column for max
    (B, D), the bag sizes for mean, zeros for sum. Shapes: weight (V, D), indices (T,),
    offsets (B,) -> output (B, D)."""
    import numpy as np
    from .nn.functional.sparse import _bags
    from .tensor import Tensor
    names = {0: "sum", 1: "mean", 2: "max"}
    if mode not in names:
        raise RuntimeError(f"embedding_bag: mode has to be 0 (sum), 1 (mean) or 2 (max), "
                           f"got {mode!r}")
    out = F.embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                          mode=names[mode], sparse=sparse,
                          per_sample_weights=per_sample_weights,
                          include_last_offset=include_last_offset, padding_idx=padding_idx)
    idx, bag, nbags = _bags(indices, offsets, include_last_offset)
    itype = np.result_type(indices._data.dtype,
                           offsets._data.dtype if offsets is not None else indices._data.dtype)
    v = weight.shape[0]
    keep = bag >= 0
    if padding_idx is not None:
        keep &= idx != padding_idx % v
    sizes = np.bincount(bag[keep], minlength=nbags)[:nbags].astype(itype)
    fast = mode == 0 and padding_idx is None and weight._data.dtype == np.float32
    offset2bag = np.zeros(0, itype) if fast else np.maximum(bag, 0).astype(itype)
    if mode == 2:
        maxi = np.zeros((nbags, weight.shape[1]), itype)
        w = weight._data
        for b in range(nbags):
            rows = idx[keep & (bag == b)]
            if rows.size:
                maxi[b] = rows[w[rows].argmax(0)]   # the first maximum, as torch's strict >
    else:
        # sum: zeros, one per offset (include_last_offset's extra one too), as torch
        zeros = np.zeros(offsets.shape[0] if offsets is not None else nbags, itype)
        maxi = sizes.copy() if mode == 1 else zeros
    bag_size = sizes if mode else maxi.copy()
    return (out, Tensor._make(offset2bag), Tensor._make(bag_size), Tensor._make(maxi))


def takes_two_numbers(fn):
    """``fn`` (a binary function) also taking two Python numbers, as torch's add, sub, mul,
    div and floor_divide do: the first is read as a 0-d tensor (``torch.add(2.0, 3)`` is
    ``tensor(5.)``, float32; ``torch.add(2, 3)`` int64). torch's other binary functions
    refuse two numbers, and so do chainrule's."""
    @functools.wraps(fn)
    def wrapper(input, other, *args, **kwargs):
        if isinstance(input, (bool, int, float)) and isinstance(other, (bool, int, float)):
            input = _tensor(input)
        return fn(input, other, *args, **kwargs)
    return wrapper
