"""Dropout: randomly zero activations while training (inverted scaling keeps expectations)."""
from __future__ import annotations

import numpy as np

from ...random import _rng
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
        keep = _rng(generator).random(input.shape, dtype=np.float32) >= p
        mask = keep.astype(input._data.dtype) * input._data.dtype.type(1.0 / (1.0 - p))
    out = input * Tensor._make(mask)
    return input.copy_(out) if inplace else out
