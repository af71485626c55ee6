"""Dropout: randomly zero activations while training (inverted scaling keeps expectations)."""
from __future__ import annotations

import numpy as np

from ... import _sampling
from ..._modes import TRACE
from ..._rng import stream as _stream
from ...ops._util import check_tensor
from ...tensor import Tensor


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None) -> Tensor:
    """Zero each element with probability p and scale survivors by 1/(1−p), so E[out] = input;
    the identity when not training. Shapes: (*) -> (*)."""
    check_tensor(input, "dropout")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input._data.dtype.kind != "f":   # the 1/(1 − p) scaling has no integer result
        raise RuntimeError(f"dropout: result type Float can't be cast to the desired output type "
                           f"{input.dtype} (dropout of an integer or bool tensor)")
    out = input * dropout_mask(input._data, p, generator)
    return input.copy_(out) if inplace else out


def dropout_mask(like: np.ndarray, p: float, generator=None) -> Tensor:
    """The multiplier of dropout over an array shaped as ``like``: 0 with probability p, else
    1/(1 − p) — torch's ``empty_like(x).bernoulli_(1 − p).div_(1 − p)``, the same draws; all 0
    at p = 1. A graph capture records it as a source of fresh draws at every replay."""
    if p == 1.0:
        mask = Tensor._make(np.zeros(like.shape, like.dtype))
    else:
        mask = Tensor._make(_sampling.dropout_noise(_stream(generator), like, p))
    if TRACE.recorder is not None:   # a captured graph draws a new mask at every call
        shape, dtype = like.shape, like.dtype
        TRACE.recorder.source(mask, lambda: _sampling.dropout_noise(
            _stream(generator), np.empty(shape, dtype), p))
    return mask


# SELU's fixed point: scale · alpha, the negative saturation value λα of a SELU unit
_SELU_SATURATION = 1.7580993408473766


def _alpha_dropout(input, p, training, inplace, generator, op, feature):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    dtype = input._data.dtype
    if p == 1.0:
        out = input * Tensor._make(np.zeros((), dtype))
        return input.copy_(out) if inplace else out
    shape = (tuple(input.shape[:2]) + (1,) * (input.ndim - 2)) if feature else input._data.shape
    like = np.empty(shape, dtype) if feature else input._data
    keep = _sampling.bernoulli_scalar(_stream(generator), _sampling.dense_like(like), 1.0 - p)
    # torch's affine correction: out = x·(a·m) + b keeps mean 0 and variance 1 for SELU inputs
    alpha = _SELU_SATURATION
    a = 1.0 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = (keep - 1) * (alpha * a) + alpha * a * p
    out = input * Tensor._make((keep * a).astype(dtype)) + Tensor._make(b.astype(dtype))
    return input.copy_(out) if inplace else out


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False,
                  generator=None) -> Tensor:
    """Dropout for SELU networks: dropped units are set to SELU's saturation −λα and an affine
    map x ↦ a·x + b restores mean 0 and variance 1:
    a = ((λα)² p + 1)(1 − p))^(−1/2), b = a·λα·p − a·λα·(1 − m). Shapes: (*) -> (*)."""
    return _alpha_dropout(input, p, training, inplace, generator, "alpha_dropout", False)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False,
                          generator=None) -> Tensor:
    """:func:`alpha_dropout` with one draw per channel (n, c). Shapes: (N, C, *) -> same."""
    return _alpha_dropout(input, p, training, inplace, generator, "feature_alpha_dropout", True)
