"""Channel dropout: zero whole feature maps at random while training.

Neighbouring pixels of a feature map are strongly correlated, so element-wise dropout barely
regularises convolutional layers; dropping entire channels does (Tompson et al. 2015).
"""
from __future__ import annotations

import warnings

import numpy as np

from ...ops._util import check_tensor
from ... import _sampling
from ..._rng import stream as _stream
from ...tensor import Tensor


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero each channel (a whole H×W map) with probability p; scale the rest by 1/(1−p).

    out[n, c] = x[n, c] · m[n, c] / (1 − p),  m[n, c] ~ Bernoulli(1 − p).
    Shapes: (N, C, H, W) -> same. A 3-D input is read as (N, C, L), one mask value per
    (n, c) row, with torch's warning (torch will change that to (C, H, W) in a future release).
    The identity when not training.
    """
    check_tensor(input, "dropout2d")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected (N, C, H, W) or (N, C, L), got {tuple(input.shape)}")
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim.", UserWarning, stacklevel=2)
    if not training or p == 0.0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    dtype = input._data.dtype
    if p == 1.0:
        mask = np.zeros(shape, dtype)
    else:
        # torch's mask: bernoulli_(1 − p) on an (N, C, 1, …) tensor, divided by (1 − p)
        mask = _sampling.dropout_noise(_stream(generator), np.empty(shape, dtype), p)
    out = input * Tensor._make(mask)
    return input.copy_(out) if inplace else out
