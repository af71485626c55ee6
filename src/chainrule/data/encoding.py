"""One-hot encoding of class labels."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """e_y: a int64 tensor of shape (*, num_classes) with a 1 at each label's index
    (``torch.nn.functional.one_hot``). num_classes = -1 means max(label) + 1."""
    labels = tensor.numpy() if isinstance(tensor, Tensor) else np.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class labels, got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError("one_hot: class values must be non-negative")
    n = int(labels.max()) + 1 if num_classes == -1 and labels.size else num_classes
    if num_classes != -1 and labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes ({num_classes}), "
                         f"got {int(labels.max())}")
    return Tensor._make(np.eye(max(n, 0), dtype=np.int64)[labels])
