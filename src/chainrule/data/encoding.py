"""One-hot encoding of class labels (``torch.nn.functional.one_hot``)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """e_y: for integer labels y of shape (*), an int64 tensor of shape (*, num_classes) with
    out[..., j] = 1 if y = j else 0. num_classes = −1 means max(y) + 1. Labels may be a tensor,
    an array or a list of non-negative integers below num_classes.
    """
    labels = tensor.detach().numpy() if isinstance(tensor, Tensor) else np.asarray(tensor)
    if labels.size == 0 and not isinstance(tensor, Tensor):
        labels = labels.astype(np.int64)                  # an empty list holds no dtype
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: expected integer class labels, got dtype {labels.dtype}")
    # torch's error types: TypeError for a num_classes that is no int, RuntimeError for values
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if num_classes < -1:
        raise RuntimeError(f"one_hot: num_classes must be -1 or a non-negative int, got {num_classes}")
    if labels.size and labels.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(labels.min())}")
    if num_classes == -1:
        if labels.size == 0:
            raise RuntimeError("one_hot: cannot infer the number of classes from empty labels; "
                               "pass num_classes")
        num_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes ({num_classes}), "
                           f"got {int(labels.max())}")
    out = np.zeros(labels.shape + (int(num_classes),), np.int64)
    if labels.size:
        np.put_along_axis(out, labels.astype(np.int64)[..., None], 1, axis=-1)
    return Tensor._make(out)
