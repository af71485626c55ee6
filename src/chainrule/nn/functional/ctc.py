"""Connectionist temporal classification (``torch.nn.functional.ctc_loss``, Graves et al. 2006).

A target l of length S is read through its extended sequence l' = (b, l₁, b, l₂, …, b, l_S, b)
of length 2S + 1 (b the blank). A frame-by-frame path through l' may stay on a symbol, step to
the next, or jump over a blank between two different labels; the loss is −log of the summed
probability of every such path that ends on one of the last two symbols. Both recursions run in
log space with the log-sum-exp trick, vectorized over the batch and over l' (the only Python loop
is over time), with the order of operations of torch's CPU kernel (``LossCTC.cpp``).
"""
from __future__ import annotations

import operator
import warnings

import numpy as np

from ..._graph import Node
from ...ops._util import check_tensor
from ...tensor import Tensor
from .pooling import scalar_name

_NEG_INF = -np.inf
_REDUCTION_ENUM = {"none": 0, "mean": 1, "sum": 2}


def _log_add(*terms):
    """log Σ eᵃ as torch's kernel writes it: m = max (0 where every term is −inf, so that
    −inf − m is never −inf + inf), then log Σ e^{a − m} + m."""
    m = np.maximum(terms[0], terms[1])
    for a in terms[2:]:
        m = np.maximum(m, a)
    m[m == _NEG_INF] = 0
    total = np.exp(terms[0] - m)
    for a in terms[1:]:
        total += np.exp(a - m)
    return np.log(total) + m


def _shifted(a, k):
    """a[..., s − k] (−inf for s < k): the symbol k places back in l'."""
    out = np.full_like(a, _NEG_INF)
    out[..., k:] = a[..., :a.shape[-1] - k]
    return out


def _ahead(a, k):
    """a[..., s + k] (−inf past the end): the symbol k places on in l'."""
    out = np.full_like(a, _NEG_INF)
    out[..., :a.shape[-1] - k] = a[..., k:]
    return out


class CtcLoss(Node):
    """Per-sample CTC loss ℓ_n = −log p(l_n | x_n), torch's ``_ctc_loss`` (``CtcLossBackward0``).

    Forward (α recursion over the extended labels l', y_t(c) = exp(log_probs[t, n, c])):
    α_0(0) = y_0(b), α_0(1) = y_0(l'₁); α_t(s) = (α_{t−1}(s) + α_{t−1}(s−1)
    + [l'_s ≠ l'_{s−2}] α_{t−1}(s−2)) · y_t(l'_s); p = α_{T_n−1}(2S) + α_{T_n−1}(2S−1).

    Backward: β runs the same recursion from the end (β_{T_n−1}(2S) = y(b), β_{T_n−1}(2S−1) =
    y(l_S)), and with both including the frame's own y, Σ_{s: l'_s = c} α_t(s)β_t(s) / y_t(c) = p ·
    ∂p/∂y_t(c). torch's gradient (checked against finite differences of torch's own loss) is

        ∂ℓ/∂log_probs[t, n, c] = exp(lp) − exp(log Σ_{s: l'_s = c} α_t(s)β_t(s) + ℓ_n − lp)

    for t < T_n, and 0 for t ≥ T_n. The second term is the true derivative of ℓ in log_probs; the
    first, exp(lp), is not: torch returns the gradient with respect to the logits z of
    log_probs = log_softmax(z). For normalized log_probs the two agree after log_softmax's
    backward (Σ_c exp(lp) = 1 and Σ_c ∂ℓ/∂lp = −1 per frame, so the correction it subtracts is
    zero); for log_probs used directly they differ from finite differences by exp(lp). chainrule
    returns torch's value (also torch's last-frame term for a last label equal to the blank, see
    ``gradient``). An impossible alignment (ℓ = inf) gives NaN gradients, or zeros with
    ``zero_infinity``. The gradient is not differentiable again, as torch's: the rule records a
    node whose backward raises (torch: "derivative for aten::_ctc_loss_backward is not
    implemented"), and forward mode raises NotImplementedError, as torch's.

    Shapes: log_probs (T, N, C); targets (N, S) padded or (Σ S_n,) concatenated, int64;
    input_lengths, target_lengths (N,) int64 -> (N,).
    """

    params = ("blank", "zero_infinity")
    non_differentiable = ("targets", "input_lengths", "target_lengths")

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        t_max, n, c = log_probs.shape
        il, tl = input_lengths, target_lengths
        s_max = int(tl.max()) if n else 0
        # the targets, padded to (N, S_max): a padded row's tail past its length is never read
        k = np.arange(s_max)
        used = k < tl[:, None]
        if targets.ndim == 1:
            starts = np.concatenate(([0], np.cumsum(tl)[:-1]))
            picked = targets[np.where(used, starts[:, None] + k, 0)] if targets.size else \
                np.zeros(used.shape, np.int64)
        else:
            picked = targets[:, :s_max]
        picked = np.where(used, picked, self.blank)
        bad = (picked < 0) | (picked >= c)
        if bad.any():
            raise RuntimeError(f"ctc_loss: targets must be class indices in [0, {c}) for "
                               f"log_probs with {c} classes, got {int(picked[bad][0])}")
        length = 2 * s_max + 1
        labels = np.full((n, length), self.blank, np.int64)
        labels[:, 1::2] = picked
        s = np.arange(length)
        valid = s <= 2 * tl[:, None]                       # l' of sample n has 2 S_n + 1 symbols
        skip = np.zeros((n, length), bool)                 # the step s − 2 -> s is allowed
        skip[:, 2:] = labels[:, 2:] != labels[:, :-2]
        rows = np.arange(n)
        emit = log_probs[:, rows[:, None], labels]          # (T, N, L): log y_t(l'_s)
        alpha = np.full((t_max, n, length), _NEG_INF, log_probs.dtype)
        alpha[0] = np.where(valid & (s < 2), emit[0], _NEG_INF)
        for t in range(1, t_max):
            prev = alpha[t - 1]
            step = _log_add(prev, _shifted(prev, 1), np.where(skip, _shifted(prev, 2), _NEG_INF))
            alpha[t] = np.where(valid, step + emit[t], _NEG_INF)
        last = alpha[np.maximum(il - 1, 0), rows]            # (N, L): α at each one's last frame
        end = last[rows, 2 * tl]
        before = last[rows, np.maximum(2 * tl - 1, 0)]
        both = _log_add(end, np.where(tl > 0, before, _NEG_INF))
        nll = -np.where(tl > 0, both, end)
        # no frames: only the empty target is reachable (probability 1)
        nll = np.where(il == 0, np.where(tl == 0, 0.0, np.inf), nll).astype(log_probs.dtype)
        self.state = (alpha, emit, labels, valid, skip, il, tl, nll)
        return nll

    def gradient(self, g, log_probs):
        """torch's ``_ctc_loss_backward`` on arrays: ḡ_n · (exp(lp) − exp(log Σ αβ + ℓ_n − lp)),
        zero past each sample's length (and for an infinite loss with ``zero_infinity``)."""
        alpha, emit, labels, valid, skip, il, tl, nll = self.state
        t_max, n = log_probs.shape[:2]
        length = labels.shape[1]
        s = np.arange(length)
        end_rows = (s == 2 * tl[:, None]) | (s == 2 * tl[:, None] - 1)
        ahead_skip = np.zeros_like(skip)                   # the step s -> s + 2 is allowed
        ahead_skip[:, :-2] = skip[:, 2:]
        beta = np.full_like(alpha, _NEG_INF)
        nxt = beta[0]
        for t in range(t_max - 1, -1, -1):
            step = _log_add(nxt, _ahead(nxt, 1), np.where(ahead_skip, _ahead(nxt, 2), _NEG_INF))
            here = (t == il - 1)[:, None]
            inside = (t < il - 1)[:, None]
            beta[t] = np.where(here & end_rows, emit[t],
                               np.where(inside & valid, step + emit[t], _NEG_INF))
            nxt = beta[t]
        # log Σ_{s: l'_s = c} α_t(s) β_t(s), collected per class
        collected = np.full(log_probs.shape, _NEG_INF, log_probs.dtype)
        frames, rows = np.arange(t_max)[:, None, None], np.arange(n)[None, :, None]
        np.logaddexp.at(collected, (frames, rows, labels[None]), alpha + beta)
        # torch's kernel assigns, not adds, the last frame's two terms (l'_{2S} = blank and
        # l'_{2S−1} = l_S, "different" symbols): a last label equal to the blank keeps only its
        # own term there. Kept, so that the gradients match torch's for such targets too.
        rows = np.flatnonzero((tl > 0) & (il > 0))
        rows = rows[labels[rows, 2 * tl[rows] - 1] == self.blank]
        last = il[rows] - 1
        collected[last, rows, self.blank] = (alpha[last, rows, 2 * tl[rows] - 1]
                                             + beta[last, rows, 2 * tl[rows] - 1])
        gr = np.asarray(g, log_probs.dtype).reshape(1, n, 1)
        out = (np.exp(log_probs) - np.exp(collected + nll[None, :, None] - log_probs)) * gr
        keep = np.arange(t_max)[:, None] < il[None, :]
        if self.zero_infinity:
            keep = keep & (nll != np.inf)[None, :]
        return np.where(keep[:, :, None], out, 0).astype(log_probs.dtype, copy=False)

    def vjp(self, xp, g, log_probs):
        if not xp.recording:
            return self.gradient(g, log_probs), None, None, None
        return CtcLossGrad.apply(g, log_probs, loss=self), None, None, None

    def jvp(self, xp, tangents):
        raise NotImplementedError("Trying to use forward AD with _ctc_loss that does not support "
                                  "it because it has not been implemented yet.")


class CtcLossGrad(Node):
    """torch's ``_ctc_loss_backward`` as a value of a recorded graph (``create_graph=True``):
    the gradient of :class:`CtcLoss`, which torch does not differentiate again; its node, named
    as torch's (``NotImplemented``), raises when a backward reaches it."""

    backward_name = "NotImplemented"
    params = ("loss",)

    def forward(self, g, log_probs):
        return self.loss.gradient(g, log_probs)

    def vjp(self, xp, g):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")

    def jvp(self, xp, tangents):
        raise NotImplementedError("Trying to use forward AD with _ctc_loss_backward that does not "
                                  "support it because it has not been implemented yet.")


def _reduction_enum(reduction) -> int:
    """torch's ``_Reduction.get_enum``: 'none' 0, 'mean' 1, 'sum' 2 ('elementwise_mean', the
    old name of 'mean', with its warning)."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", UserWarning, stacklevel=3)
        return 1
    if isinstance(reduction, str) and reduction in _REDUCTION_ENUM:
        return _REDUCTION_ENUM[reduction]
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _is_int(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, Tensor):
        return v.ndim == 0 and v._data.dtype.kind in "iu"
    try:
        operator.index(v)
        return True
    except TypeError:
        return False


def _lengths(input_lengths, target_lengths):
    """Both lengths as int64 arrays: both Tensors of an integer dtype (any shape; read flat, as
    torch's), or both sequences of ints — torch's two overloads, and its TypeError for a mix."""
    if isinstance(input_lengths, Tensor) and isinstance(target_lengths, Tensor):
        for t, name in ((input_lengths, "input_lengths"), (target_lengths, "target_lengths")):
            if t._data.dtype.kind not in "iu":
                raise RuntimeError(f"ctc_loss: {name} must be integral, got {t.dtype}")
        return (input_lengths._data.astype(np.int64).reshape(-1),
                target_lengths._data.astype(np.int64).reshape(-1))
    if all(isinstance(v, (tuple, list)) and all(_is_int(x) for x in v)
           for v in (input_lengths, target_lengths)):
        return (np.array([int(x) for x in input_lengths], np.int64),
                np.array([int(x) for x in target_lengths], np.int64))
    raise TypeError(f"ctc_loss: input_lengths and target_lengths must be both Tensors or both "
                    f"tuples of ints, got {type(input_lengths).__name__} and "
                    f"{type(target_lengths).__name__}")


def _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction: int,
              zero_infinity):
    """torch.ctc_loss, with ``reduction`` as torch's enum (0 'none', 1 'mean', 2 'sum')."""
    op = "ctc_loss"
    check_tensor(log_probs, op, "log_probs")
    check_tensor(targets, op, "targets")
    if not _is_int(blank) or isinstance(blank, Tensor):
        raise TypeError(f"ctc_loss: blank must be an int, got {type(blank).__name__}")
    if not isinstance(zero_infinity, bool):
        raise TypeError(f"ctc_loss: zero_infinity must be a bool, got "
                        f"{type(zero_infinity).__name__}")
    il, tl = _lengths(input_lengths, target_lengths)
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    if lp._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for \'{scalar_name(lp)}\' '
                                  f"(log_probs must be float32 or float64)")
    if lp.numel() == 0:
        raise RuntimeError(f"ctc_loss: log_probs tensor must not be empty, got shape "
                           f"{tuple(log_probs.shape)}")
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs of shape (T, N, C) or unbatched (T, C), "
                           f"got a {log_probs.ndim}-dimensional tensor of shape "
                           f"{tuple(log_probs.shape)}")
    if targets.ndim not in (1, 2):
        raise RuntimeError(f"ctc_loss: expected targets of 1 (concatenated) to 2 (padded, (N, S)) "
                           f"dimensions, got a {targets.ndim}-dimensional tensor")
    t_max, n, c = lp.shape
    blank = int(blank)
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {c}), got {blank}")
    for lengths, name in ((il, "input_lengths"), (tl, "target_lengths")):
        if lengths.size != n:
            raise RuntimeError(f"ctc_loss: {name} must be of size batch_size ({n}), got "
                               f"{lengths.size} values")
    if (tl < 0).any():
        raise RuntimeError(f"ctc_loss: Expected target_lengths to have value at least 0, but "
                           f"got value {int(tl[tl < 0][0])}")
    if targets.ndim == 1:
        if targets.shape[0] != int(tl.sum()):
            raise RuntimeError(f"ctc_loss: concatenated targets must hold sum(target_lengths) = "
                               f"{int(tl.sum())} labels, got {targets.shape[0]}")
    else:
        if targets.shape[0] != n:
            raise RuntimeError(f"ctc_loss: padded targets must have batch size {n} at dimension "
                               f"0, got shape {tuple(targets.shape)}")
        if targets.shape[1] < int(tl.max()):
            raise RuntimeError(f"ctc_loss: Expected targets to have size at least "
                               f"{int(tl.max())} (the longest target length) at dimension 1, "
                               f"but got size {targets.shape[1]}")
    if (il < 0).any():
        raise RuntimeError(f"ctc_loss: Expected input_lengths to have value at least 0, but got "
                           f"value {int(il[il < 0][0])}")
    if (il > t_max).any():
        raise RuntimeError(f"ctc_loss: Expected input_lengths to have value at most {t_max}, but "
                           f"got value {int(il[il > t_max][0])}")
    # torch reads the targets as int64 (a float target is truncated, as its .to(kLong))
    tgt = Tensor._make(targets._data.astype(np.int64))
    res = CtcLoss.apply(lp, tgt, Tensor._make(il), Tensor._make(tl), blank=blank,
                        zero_infinity=zero_infinity)
    if zero_infinity:
        res = res.where(res != float("inf"), 0.0)
    if reduction == 1:
        return (res / Tensor._make(np.maximum(tl, 1).astype(res._data.dtype))).mean()
    if reduction == 2:
        return res.sum()
    return res if batched else res.squeeze(0)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss: ℓ_n = −log Σ_{π ∈ B⁻¹(l_n)} Π_t y_t(π_t),
    summed over every frame-level path π that the collapse B (merge repeats, then drop blanks)
    maps to the target l_n, computed by the α recursion in log space (see :class:`CtcLoss`).

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities (e.g. ``log_softmax(z, 2)``);
            T frames, N samples, C classes including the blank.
        targets: (N, S) padded (only the first ``target_lengths[n]`` of row n are read) or
            (sum(target_lengths),) concatenated class indices; none may be the blank for a
            meaningful loss (torch does not check it, nor does chainrule).
        input_lengths, target_lengths: (N,) integer Tensors, or tuples/lists of ints; each
            input length ≤ T.
        blank: the blank's class index. reduction: 'none' ((N,), or () unbatched) | 'mean'
            (each loss ÷ max(its target length, 1), then the batch mean) | 'sum'.
        zero_infinity: an impossible alignment (too few frames) gives ℓ = inf, or 0 with a zero
            gradient when True.

    The gradient is torch's: with respect to the logits behind normalized log_probs (it adds
    exp(log_probs) to the plain derivative; see :class:`CtcLoss`), not differentiable again.

    Example::

        >>> lp = chainrule.randn(50, 16, 20).log_softmax(2).requires_grad_()
        >>> y = chainrule.randint(1, 20, (16, 30))
        >>> F.ctc_loss(lp, y, chainrule.full((16,), 50), chainrule.randint(10, 30, (16,)))
    """
    return _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                     _reduction_enum(reduction), zero_infinity)
