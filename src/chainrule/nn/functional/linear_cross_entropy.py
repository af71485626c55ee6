"""Cross-entropy of a linear projection's logits (torch 2.13's ``linear_cross_entropy``) and the
options record torch uses to pick its chunked kernel.

chainrule always takes torch's reference path, logits = x·Wᵀ + b then ``cross_entropy``: the
chunked kernel only trades memory (and rounding) for the same loss, and chainrule's autograd
keeps every chunk's softmax for backward anyway, so chunking here would save nothing. An
``options`` record is checked and, where torch would fall back to its reference path, torch's
warning is given; the loss is torch's either way.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

from ... import _dtype
from ...ops._util import check_tensor
from .linear import linear
from .loss import cross_entropy


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """torch's configuration of the chunked ``linear_cross_entropy`` (``batch_chunk_size``
    rows per chunk or a ``chunking_method`` heuristic, an accumulation policy and dtype).
    Validated as torch validates it; chainrule computes the reference path for any options
    (see the module's note)."""

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in {"auto", "accurate", "balanced", "compact"}:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            factor = factor if sep else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if not (self.batch_chunk_size is None
                or (isinstance(self.batch_chunk_size, int) and self.batch_chunk_size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got "
                             f"{self.batch_chunk_size!r}")
        allowed = {_dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64}
        if self.acc_dtype is not None and self.acc_dtype not in allowed:
            raise ValueError(f"acc_dtype must be one of {{None, float16, bfloat16, float32, "
                             f"float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the "
                             f"op pick automatically.")


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    r"""Cross-entropy of the logits of a linear map, ``cross_entropy(linear(input, W, b),
    target, ...)``:

    .. math:: \ell_n = -\sum_c w_c\, q_{nc} \log \operatorname{softmax}(x_n W^\top + b)_c

    Shapes: input (F) or (N, F); ``linear_weight`` (C, F) or (C, d₁, …, d_K, F) for a
    K-dimensional loss (batched input only); ``linear_bias`` (C, d₁, …, d_K); target (), (N)
    or (N, d₁, …) class indices, or the logits' shape (C, d₁, …) of probabilities. The
    ``ignore_index`` default None means −100 for indices and must stay None for
    probabilities. ``options`` (:class:`LinearCrossEntropyOptions`) select torch's chunked
    kernel, which gives the same loss; chainrule computes the reference path."""
    check_tensor(input, "linear_cross_entropy")
    check_tensor(linear_weight, "linear_cross_entropy", "linear_weight")
    check_tensor(target, "linear_cross_entropy", "target")
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(f"expected equal input and linear_weight last dimensions "
                           f"(in_features), got {input.shape[-1]} and "
                           f"{linear_weight.shape[-1]}, respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, "
                           f"(N, {in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None and (out_features or reduction not in {"mean", "sum", "none"}
                                or label_smoothing != 0.0 or target.dtype != _dtype.int64):
        warnings.warn(f"linear_cross_entropy: ``options`` ignored; chunked path needs reduction "
                      f"in {{'mean','sum','none'}}, label_smoothing == 0, target.dtype == int64, "
                      f"out_features == (). Got reduction={reduction!r}, "
                      f"label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                      f"out_features={out_features}", stacklevel=2)
    if out_features:
        rows = math.prod(out_features, start=classes)
        linear_weight = linear_weight.reshape(rows, in_features)
        linear_bias = linear_bias.reshape(rows) if linear_bias is not None else None
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)
