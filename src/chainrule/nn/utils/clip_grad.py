"""Gradient clipping — the standard remedy for exploding gradients.

When gradients grow exponentially on their way back through many layers (the deck's
"exploding gradient problem"), a single step can throw the weights far away. Clipping bounds
the step: :func:`clip_grad_norm_` rescales all gradients together so their joint norm is at
most ``max_norm`` (the direction is kept); :func:`clip_grad_value_` clamps each entry.
"""
from __future__ import annotations

import warnings

import numpy as np

from ...tensor import Tensor


def _params(parameters, op) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(f"{op}: parameters must be a Tensor or an iterable of Tensors, got "
                        f"{type(parameters).__name__}") from None
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors, got {type(p).__name__}")
    return params


def _vector_norm(a: np.ndarray, p: float) -> np.ndarray:
    """‖a‖_p of a flattened array, as a 0-d array of a's dtype (BLAS dot for p = 2)."""
    flat = a.reshape(-1)
    if p == 2.0:
        if not flat.size:
            return np.zeros((), a.dtype)
        with np.errstate(over="ignore"):
            sq = np.dot(flat, flat)
        if not np.isfinite(sq) and a.dtype.itemsize < 8:  # g² overflowed: accumulate wider
            wide = flat.astype(np.float64)
            return np.asarray(np.sqrt(np.dot(wide, wide)), a.dtype)
        return np.sqrt(sq)
    if p == np.inf:
        return np.abs(flat).max() if flat.size else np.zeros((), a.dtype)
    if p == -np.inf:
        return np.abs(flat).min() if flat.size else np.full((), np.inf, a.dtype)
    if p == 0:
        return np.asarray(np.count_nonzero(flat), a.dtype)
    if p == 1.0:
        return np.abs(flat).sum(dtype=a.dtype)
    return (np.abs(flat) ** p).sum(dtype=a.dtype) ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """The p-norm of the norms of ``tensors`` — the norm of all entries as one vector:
    ‖(‖t_1‖_p, …, ‖t_k‖_p)‖_p. Returns a 0-d tensor."""
    tensors = _params(tensors, "get_total_norm")
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.zeros((), np.float32))
    norms = [np.asarray(_vector_norm(t._data, norm_type)) for t in tensors]
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    total = np.asarray(_vector_norm(np.array(norms, dtype=dtype), norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return Tensor._make(total)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None) -> Tensor:
    """Rescale the gradients of ``parameters`` in place so their total norm is ≤ ``max_norm``.

    With N = ‖(g_1, …, g_k)‖_p (all gradients as one vector) every gradient is multiplied by
    min(1, max_norm / (N + 10⁻⁶)) — the direction of the step is unchanged, only its length is
    capped. Parameters without a gradient are skipped.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped.
        max_norm (float): the largest allowed total norm.
        norm_type (float): p (2 by default; ``inf`` for the max-norm).
        error_if_nonfinite (bool): raise if N is nan or inf (otherwise the gradients become nan).

    Returns:
        The total norm N before clipping, a 0-d tensor.

    Example::

        loss.backward()
        chainrule.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    """
    params = _params(parameters, "clip_grad_norm_")
    total = get_total_norm([p.grad for p in params if p.grad is not None], norm_type,
                           error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by min(1, max_norm / (total_norm + 10⁻⁶))
    — the second half of :func:`clip_grad_norm_`, for a ``total_norm`` computed elsewhere
    (:func:`get_total_norm`, or a norm gathered across processes)."""
    grads = [p.grad for p in _params(parameters, "clip_grads_with_norm_") if p.grad is not None]
    if not grads:
        return
    n = np.asarray(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    if n.dtype.kind != "f":
        n = n.astype(grads[0]._data.dtype)
    # computed in the norm's dtype, as torch: max_norm / (N + 1e-6), clamped at 1
    coef = np.minimum(n.dtype.type(max_norm) / (n + n.dtype.type(1e-6)), n.dtype.type(1.0))
    for g in grads:
        g._data *= coef
        g._version_box[0] += 1


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None) -> Tensor:
    """Deprecated: :func:`clip_grad_norm_` (warns, as torch's)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp every gradient entry of ``parameters`` into [−clip_value, clip_value], in place."""
    params = _params(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    for p in params:
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._version_box[0] += 1
