"""Loss functions (``torch.nn.functional``). ``reduction`` is 'mean' | 'sum' | 'none'.

Cross-entropy goes through log_softmax, i.e. the log-sum-exp trick: log p_c = z_c − log Σ_j e^{z_j}
computed with the max subtracted, so logits of magnitude 1e4 give finite, exact losses.
"""
from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from ... import ops
from ..._graph import Node
from ..._modes import is_grad_enabled
from ...backends.namespace import ArrayOps
from ...ops._util import check_tensor
from ...ops.reduction import accumulated_sum
from ...ops.softmax import log_softmax
from ._optional import given, optional
from .activation import LogSigmoid
from .pooling import scalar_name
from ...tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def legacy_get_string(size_average, reduce, emit_warning=True) -> str:
    """The ``reduction`` that torch's deprecated ``size_average`` / ``reduce`` flags stand for
    (``torch.nn._reduction.legacy_get_string``): None counts as True; reduce=False gives 'none',
    else size_average picks 'mean' (True) or 'sum' (False). Warns as torch does."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _legacy(size_average, reduce, reduction, extra=()):
    """The reduction a loss uses: torch's legacy ``size_average``/``reduce`` when given, else
    ``reduction``, checked first, before any other argument (as torch's ``get_enum``)."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    if reduction not in _REDUCTIONS + tuple(extra):
        raise ValueError(f"{reduction} is not a valid value for reduction: reduction must be "
                         f"one of {_REDUCTIONS + tuple(extra)}")
    return reduction


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


_VALUE_ERROR_ON_SIZE = ("binary_cross_entropy", "binary_cross_entropy_with_logits")


def _same_shape(input, target, op):
    """Input and target of an elementwise loss must have one shape. torch broadcasts them with
    a warning ("will likely lead to incorrect results"); chainrule refuses, never a wrong
    broadcast: a RuntimeError, torch's type where the shapes don't broadcast (ValueError for the
    binary cross-entropies, as torch)."""
    check_tensor(input, op)
    check_tensor(target, op, "target")
    if input.shape != target.shape:
        exc = ValueError if op in _VALUE_ERROR_ON_SIZE else RuntimeError
        raise exc(f"{op}: target size {tuple(target.shape)} must be the same as input size "
                  f"{tuple(input.shape)} (they would broadcast to the wrong loss)")


class _PointwiseLoss(Node):
    """ℓ = reduce(f(x, y)) for an elementwise loss f, as one node (torch's ``MseLossBackward0``,
    ...). A loss declares ``f(xp, x, y)`` and its partials ``df(xp, x, y) -> (∂f/∂x, ∂f/∂y)``;
    ``reduction`` is 'none', 'sum' or 'mean' (over all n elements), ``weight`` an optional
    constant factor array (broadcast to x).

    VJP: x̄ = spread(ḡ)·∂f/∂x, ȳ = spread(ḡ)·∂f/∂y, where spread copies ḡ to every element
    (÷ n for the mean).  JVP: ℓ̇ = reduce(ẋ·∂f/∂x + ẏ·∂f/∂y).
    """

    params = ("reduction", "weight")

    def forward(self, x, y):
        f = self.f(ArrayOps, x, y)
        if self.weight is not None:
            f = f * self.weight
        return np.asarray(self._reduce(ArrayOps, f), dtype=x.dtype)

    def _reduce(self, xp, f):
        if self.reduction == "none":
            return f
        if xp.recording:
            return f.mean() if self.reduction == "mean" else f.sum()
        with np.errstate(invalid="ignore"):   # the mean of nothing is nan
            # float16 accumulates in float32 (torch's mean of 1e4-sized float16 losses is finite)
            return accumulated_sum(f, None, False, f.size if self.reduction == "mean" else None)

    def _weighted(self, xp, v):
        return v if self.weight is None else v * xp.const(self.weight)

    def vjp(self, xp, g, x, y):
        # torch's order: ḡ·∂f/∂x, then the weight, then ÷ n for the mean
        dx, dy = self.df(xp, x, y)
        n = xp.data(x).size if self.reduction == "mean" else 0
        if self.reduction != "none":
            g = xp.expand(g, tuple(x.shape))
        need_x, need_y = self.needs_input_grad
        grads = []
        for need, d in ((need_x, dx), (need_y, dy)):
            v = self._weighted(xp, g * d) if need else None
            grads.append(v / n if need and n else v)
        return grads

    def jvp(self, xp, tangents, x, y):
        dx, dy = self.df(xp, x, y)
        terms = [t * d for t, d in zip(tangents, (dx, dy)) if t is not None]
        total = terms[0] if len(terms) == 1 else terms[0] + terms[1]
        return self._reduce(xp, self._weighted(xp, total))


class MseLoss(_PointwiseLoss):
    """f = (x − y)²;  ∂f/∂x = 2(x − y) = −∂f/∂y."""

    def f(self, xp, x, y):
        d = x - y
        return d * d

    def df(self, xp, x, y):
        d = 2 * (x - y)
        return d, -d


class L1Loss(_PointwiseLoss):
    """f = |x − y|;  ∂f/∂x = sign(x − y) = −∂f/∂y."""

    def f(self, xp, x, y):
        return xp.abs(x - y)

    def df(self, xp, x, y):
        s = xp.sign(x - y)
        return s, -s


class HuberLoss(_PointwiseLoss):
    """f = ½d² if |d| < δ else δ(|d| − ½δ), d = x − y;  ∂f/∂x = clamp(d, −δ, δ) = −∂f/∂y."""

    params = _PointwiseLoss.params + ("delta",)

    def f(self, xp, x, y):
        d = xp.abs(x - y)
        return xp.where(xp.data(d) < self.delta, 0.5 * d * d, self.delta * (d - 0.5 * self.delta))

    def df(self, xp, x, y):
        s = xp.clamp(x - y, -self.delta, self.delta)
        return s, -s


class SmoothL1Loss(_PointwiseLoss):
    """f = ½d²/β if |d| < β else |d| − ½β (Huber ÷ β);  ∂f/∂x = clamp(d/β, −1, 1) (sign d at β = 0)."""

    params = _PointwiseLoss.params + ("beta",)

    def f(self, xp, x, y):
        d = xp.abs(x - y)
        if self.beta == 0:
            return d
        return xp.where(xp.data(d) < self.beta, 0.5 * d * d / self.beta, d - 0.5 * self.beta)

    def df(self, xp, x, y):
        d = x - y
        s = xp.sign(d) if self.beta == 0 else xp.clamp(d / self.beta, -1.0, 1.0)
        return s, -s


_BCE_EPS = float(np.float32(1e-12))


class BinaryCrossEntropy(_PointwiseLoss):
    """f = (y − 1)·max(log(1 − p), −100) − y·max(log p, −100) (torch clamps the logs, and
    evaluates it in this order, with log1p);  ∂f/∂p = (p − y) / max((1 − p)·p, ε) with torch's
    ε = float32(1e-12) — finite at p = 0 and 1;  ∂f/∂y = max(log(1 − p), −100) − max(log p, −100).
    """

    def f(self, xp, p, y):
        log_p, log_q = self._logs(xp, p)
        return (y - 1) * log_q - y * log_p

    def _logs(self, xp, p):
        with np.errstate(divide="ignore"):   # log 0 = −inf, clamped to −100
            return xp.clamp(xp.log(p), -100.0, None), xp.clamp(xp.log1p(-p), -100.0, None)

    def df(self, xp, p, y):
        log_p, log_q = self._logs(xp, p)
        with np.errstate(divide="ignore", invalid="ignore"):   # float16: ε rounds to 0, as torch's
            return (p - y) / xp.clamp((1 - p) * p, _BCE_EPS, None), log_q - log_p


class BinaryCrossEntropyWithLogits(_PointwiseLoss):
    """f = (1 − y)·z − (1 + (p_w − 1)·y)·log σ(z), log σ(z) = min(z, 0) − log(1 + e^{−|z|}) (never
    overflows);  ∂f/∂z = σ(z) − y, or ((p_w·y + 1 − y)·σ(z) − p_w·y) with p_w;
    ∂f/∂y = −z − (p_w − 1)·log σ(z).  Written in torch's order of operations."""

    params = _PointwiseLoss.params + ("pos_weight",)

    def f(self, xp, z, y):
        log_sigmoid = xp.apply(LogSigmoid, z)
        if self.pos_weight is not None:
            log_sigmoid = log_sigmoid * ((xp.const(self.pos_weight) - 1) * y + 1)
        return (1 - y) * z - log_sigmoid

    def df(self, xp, z, y):
        if self.pos_weight is None:
            return xp.sigmoid(z) - y, -z
        pw = xp.const(self.pos_weight)
        t = pw * y
        return ((t + 1) - y) * xp.sigmoid(z) - t, -z - (pw - 1) * xp.apply(LogSigmoid, z)


def _broadcast_factor(factor, input, op, name):
    """A constant factor (``weight``, ``pos_weight``) as an array of the input's shape and dtype;
    one that does not broadcast to the input is torch's RuntimeError, naming the op."""
    check_tensor(factor, op, name)
    try:
        return np.broadcast_to(factor._data.astype(input._data.dtype), input._data.shape)
    except ValueError:
        raise RuntimeError(f"{op}: {name} of shape {tuple(factor.shape)} cannot be broadcast to "
                           f"the input's shape {tuple(input.shape)}") from None


def refuse_grad(t, op, name):
    """torch's losses take class and element weights as constants: one that requires grad
    raises (rather than silently getting no gradient)."""
    if t is not None and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{op}' is not differentiable with respect to argument "
                           f"'{name}'. This input cannot have requires_grad True.")


def _pointwise(loss, input, target, reduction, op, weight=None, **params):
    refuse_grad(weight, op, "weight")
    _same_shape(input, target, op)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    input, target = ops.elementwise.operands(input, target, op)
    if input._data.dtype.kind != "f":
        # torch has no integer kernel ("mse_cpu" not implemented for 'Long')
        raise NotImplementedError(f"{op}: not implemented for '{scalar_name(input)}' input and "
                                  f"target (expected floating point)")
    if weight is not None:
        weight = _broadcast_factor(weight, input, op, "weight")
    return loss.apply(input, target, reduction=reduction, weight=weight, **params)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """ℓ = (x − y)², reduced.  Shapes: input (*), target (*) (same shape). ``size_average`` /
    ``reduce``: torch's deprecated spelling of ``reduction`` (see :func:`legacy_get_string`)."""
    reduction = _legacy(size_average, reduce, reduction)
    return _pointwise(MseLoss, input, target, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """ℓ = |x − y|, reduced (``size_average`` / ``reduce``: the legacy spelling of reduction)."""
    reduction = _legacy(size_average, reduce, reduction)
    return _pointwise(L1Loss, input, target, reduction, "l1_loss")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    if not delta > 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got "
                           f"delta={delta}")
    """ℓ = ½(x−y)² if |x−y| < δ else δ(|x−y| − ½δ): quadratic near 0, linear in the tails."""
    return _pointwise(HuberLoss, input, target, reduction, "huber_loss", delta=delta)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """ℓ = ½(x−y)²/β if |x−y| < β else |x−y| − ½β (Huber divided by β)."""
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got "
                           f"beta={beta}")
    return _pointwise(SmoothL1Loss, input, target, reduction, "smooth_l1_loss", beta=beta)


def _class_last(input, target, op):
    """(N, C, d1, ...) logits and (N, d1, ...) targets -> (M, C) and (M,)."""
    if input.ndim < 1:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:  # a single sample (C,)
        if target.ndim > 1 or target.numel() != 1:
            raise ValueError(f"{op}: For 1D input, 1D target must have size 1, but got target "
                             f"of shape {tuple(target.shape)} for input of shape "
                             f"{tuple(input.shape)}")
        return input.unsqueeze(0), target.reshape(1)
    c = input.shape[1]
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if input.ndim == 2 and tuple(target.shape) == expected:
        return input, target
    if tuple(target.shape) != expected:
        if target.ndim and target.shape[0] != input.shape[0]:
            raise ValueError(f"{op}: Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({target.shape[0]}); target of shape "
                             f"{tuple(target.shape)} for input of shape {tuple(input.shape)}")
        raise RuntimeError(f"{op}: expected target of shape {expected} for input of shape "
                           f"{tuple(input.shape)}, got {tuple(target.shape)} (multi-target not "
                           "supported)")
    if input.ndim > 2:
        input = input.permute(0, *range(2, input.ndim), 1)
    return input.reshape(-1, c), target.reshape(-1)


class NllLoss(Node):
    """ℓ_i = −w_i · logp[i, y_i], reduced: 'sum', 'mean' (÷ Σ w_i) or 'none', where
    w_i = weight[y_i] (1 without class weights) and 0 for a target equal to ``ignore_index``.
    Linear in logp (the targets and weights are constants): the VJP puts −w_i ḡ_i (÷ Σ w_i) back
    at [i, y_i], zeros elsewhere, and the JVP picks −w_i ṫ[i, y_i] (÷ Σ w_i) the same way.

    The targets and class weights are inputs (with no edge, as torch's node has none for them),
    so a captured graph (``chainrule.fx``) reads each call's targets; the bounds check runs in
    the forward for the same reason. Shapes: logp (M, C), target (M,), weight (C,) -> () or (M,).
    """

    params = ("ignore_index", "reduction")
    non_differentiable = ("target", "weight")

    def forward(self, logp, target, weight):
        m, c = logp.shape
        t = target.astype(np.int64, copy=False)
        keep = t != self.ignore_index
        bad = keep & ((t < 0) | (t >= c))
        if np.logical_or.reduce(bad, None):   # (ufuncs' reduce: ndarray.any's wrapper costs more)
            raise IndexError(f"nll_loss: target {int(t[bad][0])} is out of bounds for {c} classes")
        self.in_shape, self.rows, self.target = logp.shape, np.arange(m), np.where(keep, t, 0)
        if given(weight):
            w = weight.astype(logp.dtype, copy=False)
            self.weights = np.where(keep, w[self.target], 0).astype(logp.dtype)
        else:
            self.weights = keep.astype(logp.dtype)
        losses = -logp[self.rows, self.target] * self.weights
        if self.reduction == "none":
            return losses
        total = np.add.reduce(losses)
        return np.asarray(total / np.add.reduce(self.weights) if self.reduction == "mean"
                          else total, dtype=logp.dtype)

    def _picks(self, dtype):
        """The (M, C) coefficients of ℓ in logp: −w_i (÷ Σ w for 'mean') at [i, y_i], else 0.
        With every target ignored (Σ w = 0) the mean loss is 0/0 = nan, as torch's, but its
        gradient is zero, as torch's: one all-padding batch must not put nan in the weights."""
        total = np.add.reduce(self.weights)
        scale = -self.weights / total if self.reduction == "mean" and total else -self.weights
        out = np.zeros(self.in_shape, dtype)
        out[self.rows, self.target] = scale
        return out

    def vjp(self, xp, g):
        if not xp.recording:
            out = self._picks(g.dtype)
            out *= g.reshape(-1, 1) if self.reduction == "none" else g
            return out, None, None
        column = g if self.reduction == "none" else xp.expand(g, (len(self.rows),))
        return xp.const(self._picks(xp.data(g).dtype)) * xp.reshape(column, (-1, 1)), None, None

    def jvp(self, xp, tangents):
        t = tangents[0]
        if t is None:
            return None
        picked = xp.sum(t * xp.const(self._picks(xp.data(t).dtype)), (1,), False)
        return picked if self.reduction == "none" else xp.sum(picked, (0,), False)


def _check_class_weight(weight, c):
    if weight is not None and tuple(weight.shape) != (c,):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")


def _check_class_targets(input, target, weight, op):
    """torch's dtype rules for class-index targets: log-probabilities of a floating dtype, targets
    of int64 (Long) or uint8 (Byte) only, class weights of the input's dtype."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for '{scalar_name(input)}' input "
                                  f"(expected floating-point log-probabilities or logits)")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte, but got "
                           f"{scalar_name(target)} (class indices; use target.long())")
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}: expected scalar type {scalar_name(input)} but found "
                           f"{scalar_name(weight)} (the class weight must have the input's dtype)")


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """ℓ_i = −w_{y_i} · input[i, y_i] for log-probabilities ``input``; 'mean' divides by Σ w_{y_i}
    over non-ignored samples.  Shapes: input (N, C) or (N, C, d1, ...), target (N) or
    (N, d1, ...) of class indices; output scalar, or target's shape for 'none'."""
    reduction = _legacy(size_average, reduce, reduction)
    check_tensor(input, "nll_loss")
    check_tensor(target, "nll_loss", "target")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"nll_loss: expected target of integer class indices (Long), got "
                           f"{target.dtype}")
    _check_class_targets(input, target, weight, "nll_loss")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    out_shape = tuple(target.shape)
    logp, tgt = _class_last(input, target, "nll_loss")
    c = logp.shape[1]
    _check_class_weight(weight, c)
    refuse_grad(weight, "nll_loss_forward", "weight")
    loss = NllLoss.apply(logp, tgt, optional(weight), ignore_index=ignore_index,
                         reduction=reduction)
    return loss.reshape(out_shape) if reduction == "none" else loss


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits against class indices or class probabilities:
    ℓ_i = −Σ_c w_c q_ic log softmax(z_i)_c — for binary targets the deck's
    L = −[I(y=0) log p₀ + I(y=1) log p₁]. log softmax uses the log-sum-exp trick (stable).

    Shapes: input (N, C) or (N, C, d1, ...) logits; target (N) / (N, d1, ...) int class indices,
    or the input's shape of probabilities. ``label_smoothing`` ε mixes the target with uniform:
    q = (1−ε) q + ε/C. ``size_average`` / ``reduce``: the legacy spelling of ``reduction``.
    """
    reduction = _legacy(size_average, reduce, reduction)
    check_tensor(input, "cross_entropy")
    check_tensor(target, "cross_entropy", "target")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                           f"{label_smoothing}")
    if input.ndim == 0:
        raise RuntimeError("cross_entropy: input must have a class dimension (C,), (N, C) or "
                           "(N, C, d1, ...), got a 0-d tensor")
    class_dim = 0 if input.ndim == 1 else 1
    c = input.shape[class_dim]
    _check_class_weight(weight, c)
    logp = log_softmax(input, class_dim)
    wshape = [1] * input.ndim
    wshape[class_dim] = c
    if target._data.dtype.kind == "f":  # class probabilities
        if target.shape != input.shape:
            if (input.ndim > 1 and target.ndim == input.ndim - 1
                    and target.shape[0] != input.shape[0]):
                # torch reads targets of another shape as class indices: the batch check first
                raise ValueError(f"cross_entropy: Expected input batch_size ({input.shape[0]}) "
                                 f"to match target batch_size ({target.shape[0]})")
            raise RuntimeError(f"cross_entropy: probability targets must have the input's "
                               f"shape {tuple(input.shape)}, got {tuple(target.shape)}")
        if ignore_index != -100:
            raise RuntimeError(f"cross_entropy: ignore_index is not supported for floating point "
                               f"(class probability) targets, got ignore_index={ignore_index}")
        q = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / c
        terms = logp * q
        if weight is not None:
            terms = terms * weight.reshape(wshape)
        loss = -terms.sum(class_dim)
        if reduction == "mean":
            return loss.sum() / max(loss.numel(), 1) if loss.ndim else loss
        return _reduce(loss, reduction, "cross_entropy")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
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
        if not denom._data:   # every target ignored: the terms are all 0; ÷ 1 keeps their
            denom = denom + 1  # gradient 0 (the nll part makes the loss nan, as torch's)
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """ℓ = −w[y log p + (1 − y) log(1 − p)] for probabilities p; logs clamped at −100 (as torch).
    Shapes: input (*), target (*), weight broadcastable to (*)."""
    reduction = _legacy(size_average, reduce, reduction)
    _same_shape(input, target, "binary_cross_entropy")
    if input._data.dtype.kind != "f" and target._data.dtype == input._data.dtype:
        raise NotImplementedError(f"binary_cross_entropy: not implemented for "
                                  f"'{scalar_name(input)}' input (expected probabilities of a "
                                  f"floating dtype)")
    # written as not-inside so that a nan (a diverged sigmoid) is refused too, as torch's
    if not np.all((input._data >= 0) & (input._data <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"binary_cross_entropy: Found dtype {target.dtype} but expected "
                           f"{input.dtype} (the target must have the input's dtype)")
    if not np.all((target._data >= 0) & (target._data <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1")
    return _pointwise(BinaryCrossEntropy, input, target, reduction, "binary_cross_entropy", weight)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable expression:
    ℓ = (1 − y) z + (1 + (p_w − 1) y) · (log(1 + e^{−|z|}) + max(−z, 0)), never overflowing.
    Shapes: input (*), target (*); weight broadcastable to (*); pos_weight (C,) for the last dim."""
    reduction = _legacy(size_average, reduce, reduction)
    op = "binary_cross_entropy_with_logits"
    check_tensor(input, op)
    check_tensor(target, op, "target")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for '{scalar_name(input)}' input "
                                  f"(expected floating-point logits)")
    if target._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: result type Float can't be cast to the desired output type "
                           f"{scalar_name(target)} (the target must be floating point; use "
                           f"target.float())")
    if pos_weight is not None:
        refuse_grad(pos_weight, op, "pos_weight")
        pos_weight = _broadcast_factor(pos_weight, input, op, "pos_weight")
    return _pointwise(BinaryCrossEntropyWithLogits, input, target, reduction, op, weight,
                      pos_weight=pos_weight)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target ‖ exp(input)) pointwise: y log y − y x (0 where y = 0), x log-probabilities.
    'batchmean' divides the sum by the batch size (the true KL divergence)."""
    reduction = _legacy(size_average, reduce, reduction, extra=("batchmean",))
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    _same_shape(input, target, "kl_div")
    if input._data.dtype.kind != "f" or target._data.dtype.kind != "f":
        raise RuntimeError(f"kl_div: Integral inputs not supported (got input {input.dtype} and "
                           f"target {target.dtype})")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # torch's form: 0 where y = 0, nan where y < 0 or either side is nan
        loss = ops.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of y ~ Poisson(λ): λ − y log λ (+ Stirling term when ``full``);
    with ``log_input`` the input is log λ, so ℓ = e^x − y x."""
    reduction = _legacy(size_average, reduce, reduction)
    _same_shape(input, target, "poisson_nll_loss")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        # Stirling's y log y − y + ½ log 2πy where y > 1, differentiable in y (as torch's); the
        # other entries read y = 1, so neither the value nor the gradient sees a log of y ≤ 0
        big = target > 1
        y = ops.where(big, target, 1.0)
        stirling = y * y.log() - y + 0.5 * (2 * math.pi * y).log()
        loss = loss + ops.where(big, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of y ~ N(μ, σ²): ½(log max(σ², eps) + (μ − y)²/max(σ², eps))
    (+ ½ log 2π when ``full``). ``var`` has the input's shape, or lacks its last dim, or is 1
    in one dim where the input is not (it broadcasts there)."""
    check_tensor(input, "gaussian_nll_loss")
    if var.shape != input.shape:
        if var.ndim == input.ndim - 1 and var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        # torch's rule: one dim where var differs from input, and var is 1 there (any dim)
        elif not (var.ndim == input.ndim and builtins.sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {tuple(var.shape)} is incompatible "
                             f"with input of shape {tuple(input.shape)}")
    if var._data.dtype.kind != "f" or target._data.dtype.kind != "f" and \
            input._data.dtype.kind != "f":   # torch clamps var in place: a float result
        raise RuntimeError(f"gaussian_nll_loss: result type Float can't be cast to the desired "
                           f"output type {var.dtype if var._data.dtype.kind != 'f' else target.dtype}"
                           f" (var and the target must be floating point)")
    if np.any(var._data < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    # torch clamps var in place under no_grad: the gradient passes through as if unclamped
    var = var + Tensor._make(np.maximum(var._data, eps) - var._data)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")
