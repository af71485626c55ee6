"""Margin and embedding losses (``torch.nn.functional``): ranking, hinge, soft-margin,
multi-class and multi-label margins, cosine and triplet embeddings.

Each is torch's definition written with chainrule's ops, so its gradients come from the
primitives' rules; ``reduction`` is 'mean' | 'sum' | 'none' (``size_average`` / ``reduce``: torch's
deprecated spelling, see :func:`chainrule.nn.functional.loss.legacy_get_string`).
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...ops._util import check_tensor
from ...tensor import Tensor
from .activation import logsigmoid
from .distance import pairwise_distance
from .loss import _legacy, _reduce


def _zeros_like(x):
    return Tensor._make(np.zeros(x._data.shape, x._data.dtype))


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """ℓ = max(0, −y·(x₁ − x₂) + margin), y ∈ {1, −1} saying which input should rank higher.
    Shapes: (N,) or () each (broadcastable)."""
    reduction = _legacy(size_average, reduce, reduction)
    for t, name in ((input1, "input1"), (input2, "input2"), (target, "target")):
        check_tensor(t, "margin_ranking_loss", name)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {tuple(input1.shape)}, input2: "
                           f"{tuple(input2.shape)}, target: {tuple(target.shape)} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction,
                   "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """ℓ = x where y = 1, max(0, margin − x) where y = −1 (x a distance). Shapes: (*) each."""
    reduction = _legacy(size_average, reduce, reduction)
    check_tensor(input, "hinge_embedding_loss")
    zeros = _zeros_like(input)
    out = (ops.where(target != 1, (margin - input).clamp_min(0), zeros)
           + ops.where(target != -1, input, zeros))
    return _reduce(out, reduction, "hinge_embedding_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """ℓ = log(1 + e^{−y·x}), y ∈ {1, −1} (a smooth hinge). Shapes: (*) each."""
    reduction = _legacy(size_average, reduce, reduction)
    check_tensor(input, "soft_margin_loss")
    check_tensor(target, "soft_margin_loss", "target")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        shape = None
    if shape != tuple(input.shape):   # torch writes into the input's shape: no wrong broadcast
        raise RuntimeError(f"soft_margin_loss: target of shape {tuple(target.shape)} does not "
                           f"broadcast to the input's shape {tuple(input.shape)}"
                           + (f" (it would give {shape})" if shape else ""))
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"soft_margin_loss: result type Float can't be cast to the desired "
                           f"output type {input.dtype} (expected a floating-point input)")
    return _reduce((-input * target).exp().log1p(), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """ℓ(x, y) = −(1/C) Σ_c w_c [y_c log σ(x_c) + (1 − y_c) log σ(−x_c)], one binary
    logistic loss per class. Shapes: input (N, C) or (C,), target the same."""
    reduction = _legacy(size_average, reduce, reduction)
    check_tensor(input, "multilabel_soft_margin_loss")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


_EPSILON = 1e-12   # torch's guard in the norms of cosine_embedding_loss


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """ℓ = 1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1, with
    cos = Σx₁x₂ / √((Σx₁² + ε)(Σx₂² + ε)). Shapes: (N, D) or (D,) each, target (N,) or ()."""
    reduction = _legacy(size_average, reduce, reduction)
    for t, name in ((input1, "input1"), (input2, "input2"), (target, "target")):
        check_tensor(t, "cosine_embedding_loss", name)
    if target.ndim not in (0, 1) or input1.ndim != target.ndim + 1 or input2.ndim != input1.ndim:
        raise RuntimeError(f"cosine_embedding_loss: expected 1D target with 2D inputs or 0D "
                           f"target with 1D inputs, got target {tuple(target.shape)}, inputs "
                           f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    denom = (((input1 * input1).sum(dim) + _EPSILON) * ((input2 * input2).sum(dim) + _EPSILON)).sqrt()
    cos = dot / denom
    zeros = _zeros_like(cos)
    out = ops.where(target == 1, 1 - cos, zeros) + ops.where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(out, reduction, "cosine_embedding_loss")


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge: ℓ(x, y) = (1/C) Σ_{i≠y} w_y · max(0, margin − x_y + x_i)^p, p ∈ {1, 2}.
    Shapes: input (N, C), (C,) or (), target (N,) or () class indices."""
    reduction = _legacy(size_average, reduce, reduction)
    check_tensor(input, "multi_margin_loss")
    check_tensor(target, "multi_margin_loss", "target")
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"multi_margin_loss: weight must be one-dimensional, got shape "
                         f"{tuple(weight.shape)}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"multi_margin_loss: \"multi_margin_loss_cpu_kernel\" not "
                                  f"implemented for {input.dtype} input")
    if target._data.dtype != np.int64:
        raise RuntimeError(f"multi_margin_loss: expected scalar type Long but found "
                           f"{target.dtype} (class indices; use target.long())")
    classes = input.shape[-1] if input.ndim else 1   # a 0-d input is one class's score
    if weight is not None and weight.shape[0] != classes:
        raise RuntimeError(f"multi_margin_loss: inconsistent weight size, expected "
                           f"{classes} but got {list(weight.shape)}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    y = target.reshape(-1)
    if y.shape[0] != x.shape[0] or (y.numel() and (y._data.min() < 0 or y._data.max() >= x.shape[1])):
        raise RuntimeError(f"multi_margin_loss: inconsistent target size {tuple(target.shape)} or "
                           f"class index out of range for input of size {tuple(input.shape)}")
    x_y = x.gather(1, y.reshape(-1, 1))
    terms = (margin - x_y + x).clamp_min(0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * weight[y].reshape(-1, 1)
    others = Tensor._make((np.arange(x.shape[1]) != y._data[:, None]).astype(x._data.dtype))
    loss = (terms * others).sum(1) / x.shape[1]
    loss = loss if input.ndim == 2 else loss.reshape(tuple(target.shape))   # () or (1,)
    return _reduce(loss, reduction, "multi_margin_loss")


def multilabel_margin_loss(input, target, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """ℓ(x, y) = (1/C) Σ_j Σ_{i ∉ y} max(0, 1 − (x_{y_j} − x_i)), the target classes y_j being
    ``target``'s entries before its first −1. Shapes: input (N, C) or (C,), target the same
    (int64)."""
    reduction = _legacy(size_average, reduce, reduction)
    check_tensor(input, "multilabel_margin_loss")
    check_tensor(target, "multilabel_margin_loss", "target")
    if input.ndim > 2 or input.numel() == 0 and input.ndim < 2:
        raise RuntimeError(f"multilabel_margin_loss: Expected non-empty vector or matrix with "
                           f"optional 0-dim batch size, but got: {list(input.shape)}")
    if target._data.dtype != np.int64:
        raise RuntimeError(f"multilabel_margin_loss: expected scalar type Long but found "
                           f"{target.dtype} (class indices; use target.long())")
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                           f"{tuple(target.shape)} for input of size: {tuple(input.shape)}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = target._data.reshape(x.shape)
    n, c = x.shape
    # the targets of a row are its entries before the first −1
    valid = np.cumprod(t >= 0, axis=1).astype(bool)
    index = np.where(valid, t, 0)
    is_target = np.zeros((n, c), bool)
    for row in range(n):
        is_target[row, index[row][valid[row]]] = True
    x_t = x.gather(1, Tensor._make(index.astype(np.int64)))                # (N, J)
    hinge = (1 - x_t.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)            # (N, J, C)
    mask = Tensor._make((valid[:, :, None] & ~is_target[:, None, :]).astype(x._data.dtype))
    loss = (hinge * mask).sum((1, 2)) / c
    loss = loss if input.ndim == 2 else loss.reshape(())
    return _reduce(loss, reduction, "multilabel_margin_loss")


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """ℓ = max(0, d(a, p) − d(a, n) + margin) with d the p-norm ``pairwise_distance`` (``swap``:
    d(a, n) replaced by min(d(a, n), d(p, n))). Shapes: (N, D) or (D,) each."""
    reduction = _legacy(size_average, reduce, reduction)
    for t, name in ((anchor, "anchor"), (positive, "positive"), (negative, "negative")):
        check_tensor(t, "triplet_margin_loss", name)
    if not margin > 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = lambda a, b: pairwise_distance(a, b, p, eps)
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """:func:`triplet_margin_loss` with any ``distance_function(a, b)`` (default: the L2
    ``pairwise_distance``)."""
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin,
                    swap, reduction)
