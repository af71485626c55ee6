"""Loss functions (``torch.nn.functional``). ``reduction`` is 'mean' | 'sum' | 'none'.

Cross-entropy goes through log_softmax, i.e. the log-sum-exp trick: log p_c = z_c − log Σ_j e^{z_j}
computed with the max subtracted, so logits of magnitude 1e4 give finite, exact losses.
"""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ..._graph import Node
from ...ops._util import check_tensor
from ...ops.softmax import Softmax, log_softmax
from .activation import Softplus
from ...tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(input, target, op):
    check_tensor(input, op)
    check_tensor(target, op, "target")
    if input.shape != target.shape:
        raise ValueError(f"{op}: target size {tuple(target.shape)} must be the same as input "
                         f"size {tuple(input.shape)}")


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """ℓ = (x − y)², reduced.  Shapes: input (*), target (*) (same shape)."""
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """ℓ = |x − y|, reduced."""
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """ℓ = ½(x−y)² if |x−y| < δ else δ(|x−y| − ½δ): quadratic near 0, linear in the tails."""
    _same_shape(input, target, "huber_loss")
    d = (input - target).abs()
    small = Tensor._make(d._data < delta)
    return _reduce(ops.where(small, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """ℓ = ½(x−y)²/β if |x−y| < β else |x−y| − ½β (Huber divided by β)."""
    _same_shape(input, target, "smooth_l1_loss")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction, "smooth_l1_loss")
    small = Tensor._make(d._data < beta)
    return _reduce(ops.where(small, 0.5 * d * d / beta, d - 0.5 * beta), reduction, "smooth_l1_loss")


def _class_last(input, target, op):
    """(N, C, d1, ...) logits and (N, d1, ...) targets -> (M, C) and (M,)."""
    if input.ndim < 1:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:  # a single sample (C,)
        return input.unsqueeze(0), target.reshape(1)
    c = input.shape[1]
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input of shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    if input.ndim > 2:
        input = input.permute(0, *range(2, input.ndim), 1)
    return input.reshape(-1, c), target.reshape(-1)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """ℓ_i = −w_{y_i} · input[i, y_i] for log-probabilities ``input``; 'mean' divides by Σ w_{y_i}
    over non-ignored samples.  Shapes: input (N, C) or (N, C, d1, ...), target (N) or
    (N, d1, ...) of class indices; output scalar, or target's shape for 'none'."""
    check_tensor(input, "nll_loss")
    check_tensor(target, "nll_loss", "target")
    if target._data.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: expected target of integer class indices, got {target.dtype}")
    out_shape = tuple(target.shape)
    logp, tgt = _class_last(input, target, "nll_loss")
    c = logp.shape[1]
    t = tgt._data.astype(np.int64)
    keep = t != ignore_index
    bad = (t[keep] < 0) | (t[keep] >= c)
    if bad.any():
        raise IndexError(f"nll_loss: target {int(t[keep][bad][0])} is out of bounds for {c} classes")
    safe = np.where(keep, t, 0)
    picked = logp.gather(1, Tensor._make(safe[:, None])).reshape(-1)
    w = np.ones(c, logp._data.dtype) if weight is None else weight._data.astype(logp._data.dtype)
    wi = np.where(keep, w[safe], 0).astype(logp._data.dtype)
    loss = -picked * Tensor._make(wi)
    if reduction == "none":
        return loss.reshape(out_shape)
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / Tensor._make(np.asarray(wi.sum(), wi.dtype))
    raise ValueError(f"nll_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


class _CrossEntropyIndices(Node):
    """ℓ = mean or sum over i of logsumexp(z_i) − z_i[y_i], fused for the common case (2-d logits,
    class indices, no weights, smoothing or ignored targets).

    VJP: z̄ = ḡ (softmax(z) − onehot(y)) / n (or without the 1/n for 'sum');
    JVP: ℓ̇ = Σ_i (softmax(z_i)·ż_i − ż_i[y_i]) / n.
    """

    params = ("target", "mean")

    def forward(self, z):
        # ufunc reductions called directly: the ndarray methods' Python wrappers cost more than
        # the arithmetic at classifier sizes
        m = np.maximum.reduce(z, axis=1, keepdims=True)
        e = np.exp(z - m)
        s = np.add.reduce(e, axis=1)
        lse = np.log(s) + m[:, 0]
        losses = lse - z[np.arange(len(z)), self.target]
        total = np.add.reduce(losses)
        # softmax(z) = e / s, kept for a plain backward; a finite loss means every row's max
        # was finite, i.e. the same shift as softmax's own
        self._exp_sum = (e, s) if np.isfinite(total) else None
        return np.asarray(total / len(losses) if self.mean else total, dtype=z.dtype)

    def _residual(self, xp, z):
        """(softmax(z) − onehot(y)) / n: ∂ℓ/∂z."""
        if not xp.recording and self._exp_sum is not None:
            e, s = self._exp_sum
            soft = e / s[:, None]
        else:
            soft = xp.apply(Softmax, z, dim=1)
        rows = z.shape[0]
        onehot = np.zeros(tuple(z.shape), xp.data(z).dtype)
        onehot[np.arange(rows), self.target] = 1
        return (soft - xp.const(onehot)) * (1.0 / rows if self.mean else 1.0)

    def vjp(self, xp, g, z):
        return self._residual(xp, z) * g

    def jvp(self, xp, tangents, z):
        return xp.sum(self._residual(xp, z) * tangents[0], None)


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits against class indices or class probabilities:
    ℓ_i = −Σ_c w_c q_ic log softmax(z_i)_c — for binary targets the deck's
    L = −[I(y=0) log p₀ + I(y=1) log p₁]. log softmax uses the log-sum-exp trick (stable).

    Shapes: input (N, C) or (N, C, d1, ...) logits; target (N) / (N, d1, ...) int class indices,
    or the input's shape of probabilities. ``label_smoothing`` ε mixes the target with uniform:
    q = (1−ε) q + ε/C.
    """
    check_tensor(input, "cross_entropy")
    check_tensor(target, "cross_entropy", "target")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if (input.ndim == 2 and target.ndim == 1 and target._data.dtype.kind in "iu" and weight is None
            and label_smoothing == 0 and reduction in ("mean", "sum") and input.is_floating_point()
            and len(target) == input.shape[0] and input.shape[0] > 0):
        t = target._data.astype(np.int64)
        # every label in [0, C) (a negative ignore_index, the default -100, then cannot occur)
        if (np.minimum.reduce(t) >= 0 and np.maximum.reduce(t) < input.shape[1]
                and (ignore_index < 0 or not (t == ignore_index).any())):
            return _CrossEntropyIndices.apply(input, target=t, mean=reduction == "mean")
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    c = input.shape[class_dim]
    wshape = [1] * input.ndim
    wshape[class_dim] = c
    if target._data.dtype.kind == "f":  # class probabilities
        if target.shape != input.shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's shape "
                             f"{tuple(input.shape)}, got {tuple(target.shape)}")
        q = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / c
        terms = logp * q
        if weight is not None:
            terms = terms * weight.reshape(wshape)
        loss = -terms.sum(class_dim)
        if reduction == "mean":
            return loss.sum() / max(loss.numel(), 1) if loss.ndim else loss
        return _reduce(loss, reduction, "cross_entropy")
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    terms = logp if weight is None else logp * weight.reshape(wshape)
    smooth = -terms.sum(class_dim)
    keep = Tensor._make((target._data != ignore_index).astype(smooth._data.dtype))
    smooth = smooth * keep
    if reduction == "mean":
        if weight is None:
            denom = keep.sum()
        else:
            t = np.where(target._data != ignore_index, target._data, 0)
            denom = Tensor._make(np.asarray((weight._data[t] * keep._data).sum(), smooth._data.dtype))
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """ℓ = −w[y log p + (1 − y) log(1 − p)] for probabilities p; logs clamped at −100 (as torch)."""
    _same_shape(input, target, "binary_cross_entropy")
    if np.any((input._data < 0) | (input._data > 1)):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    log_p = ops.clamp(input.log(), min=-100.0)
    log_q = ops.clamp((1 - input).log(), min=-100.0)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression:
    ℓ = (1 − y) z + (1 + (p_w − 1) y) · (log(1 + e^{−|z|}) + max(−z, 0)), never overflowing."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    softplus_neg = Softplus.apply(-input)  # log(1 + e^{−z}), stable and smooth at 0
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def kl_div(input, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target ‖ exp(input)) pointwise: y (log y − x) (0 where y = 0), x log-probabilities.
    'batchmean' divides the sum by the batch size (the true KL divergence)."""
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = Tensor._make(target._data > 0)
        safe_log = ops.where(positive, target, 1.0).log()
        loss = ops.where(positive, target * (safe_log - input), 0.0)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of y ~ Poisson(λ): λ − y log λ (+ Stirling term when ``full``);
    with ``log_input`` the input is log λ, so ℓ = e^x − y x."""
    _same_shape(input, target, "poisson_nll_loss")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        y = target._data
        stirling = np.where(y > 1, y * np.log(np.where(y > 1, y, 1)) - y
                            + 0.5 * np.log(2 * np.pi * np.where(y > 1, y, 1)), 0)
        loss = loss + Tensor._make(stirling.astype(input._data.dtype))
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of y ~ N(μ, σ²): ½(log max(σ², eps) + (μ − y)²/max(σ², eps))
    (+ ½ log 2π when ``full``). ``var`` has the input's shape or one fewer trailing dim of 1."""
    check_tensor(input, "gaussian_nll_loss")
    if var.shape != input.shape:
        if var.ndim == input.ndim - 1 and var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and var.shape[-1] == 1 and var.shape[:-1] == input.shape[:-1]):
            raise ValueError(f"gaussian_nll_loss: var of shape {tuple(var.shape)} is incompatible "
                             f"with input of shape {tuple(input.shape)}")
    if np.any(var._data < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    # torch clamps var in place under no_grad: the gradient passes through as if unclamped
    var = var + Tensor._make(np.maximum(var._data, eps) - var._data)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")
