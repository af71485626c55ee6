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


def _channel_dropout(input, p, training, inplace, generator, op, spatial):
    """Zero whole channels: one Bernoulli(1 − p) draw per (n, c), broadcast over the
    ``spatial`` trailing dims; an unbatched input (one dim fewer) is one sample."""
    check_tensor(input, op)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: result type Float can't be cast to the desired output type "
                           f"{input.dtype} (dropout of an integer or bool tensor)")
    batched = input.ndim == spatial + 2
    shape = ((tuple(input.shape[:2]) if batched else (input.shape[0],)) + (1,) * spatial)
    dtype = input._data.dtype
    if p == 1.0:
        mask = np.zeros(shape, dtype)
    else:
        # torch's mask: bernoulli_(1 − p) on an (N, C, 1, …) tensor, divided by (1 − p)
        mask = _sampling.dropout_noise(_stream(generator), np.empty(shape, dtype), p)
    out = input * Tensor._make(mask)
    return input.copy_(out) if inplace else out


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero each channel (a whole length-L row) with probability p; scale the rest by 1/(1−p).

    out[n, c] = x[n, c] · m[n, c] / (1 − p),  m[n, c] ~ Bernoulli(1 − p).
    Shapes: (N, C, L) or (C, L) -> same. The identity when not training.
    """
    if getattr(input, "ndim", None) not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a "
                           f"{getattr(input, 'ndim', '?')}D input. Note that dropout1d exists to "
                           "provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D "
                           "inputs).")
    return _channel_dropout(input, p, training, inplace, generator, "dropout1d", 1)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero each channel (a whole D×H×W volume) with probability p; scale the rest by
    1/(1−p). Shapes: (N, C, D, H, W) or (C, D, H, W) -> same. The identity when not training."""
    if getattr(input, "ndim", None) not in (4, 5):
        warnings.warn(f"dropout3d: Received a {getattr(input, 'ndim', '?')}-D input to dropout3d, "
                      "which is deprecated and will result in an error in a future release. To "
                      "retain the behavior and silence this warning, please use dropout instead. "
                      "Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    return _channel_dropout(input, p, training, inplace, generator, "dropout3d", 3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Zero each channel (a whole H×W map) with probability p; scale the rest by 1/(1−p).

    out[n, c] = x[n, c] · m[n, c] / (1 − p),  m[n, c] ~ Bernoulli(1 − p).
    Shapes: (N, C, H, W) -> same. A 3-D input is read as (N, C, L), one mask value per
    (n, c) row, with torch's warning (torch will change that to (C, H, W) in a future release).
    The identity when not training.
    """
    check_tensor(input, "dropout2d")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
                      "or 4D inputs).", UserWarning, stacklevel=2)
        if input.ndim < 2:
            raise RuntimeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the "
                               f"input, got shape {tuple(input.shape)}")
        # torch's feature dropout: one draw per (n, c), whatever the trailing dims
        return _channel_dropout(input, p, training, inplace, generator, "dropout2d", input.ndim - 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim.", UserWarning, stacklevel=2)
        return _channel_dropout(input, p, training, inplace, generator, "dropout2d", 1)
    return _channel_dropout(input, p, training, inplace, generator, "dropout2d", 2)
