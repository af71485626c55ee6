"""Dropout: randomly zero activations while training (inverted scaling keeps expectations)."""
from __future__ import annotations

import numpy as np

from ... import _sampling
from ..._rng import stream as _stream
from ...tensor import Tensor


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None) -> Tensor:
    """Zero each element with probability p and scale survivors by 1/(1−p), so E[out] = input;
    the identity when not training. Shapes: (*) -> (*)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = np.zeros(input.shape, input._data.dtype)
    else:
        # torch's mask: bernoulli_(1 − p) on an empty_like(input), divided by (1 − p)
        mask = _sampling.dropout_noise(_stream(generator), input._data, p)
    out = input * Tensor._make(mask)
    return input.copy_(out) if inplace else out
