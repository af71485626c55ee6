"""Bags of embeddings: ``embedding_bag`` sums, averages or takes the max of the rows of an
embedding table picked by each bag of indices, without building the (bags × length × dim) tensor
of rows first."""
from __future__ import annotations

import numpy as np

from ...data.encoding import one_hot as _encode
from ...ops._util import check_tensor
from ...ops.indexing import IndexAdd
from ...ops.shape import stack
from ...tensor import Tensor
from .normalization import Embedding, _renorm_


def _bags(input, offsets, include_last_offset):
    """(flat indices, the bag of each position (−1: in none), the number of bags)."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as input "
                             "is treated is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets).__name__}")
        b, n = input.shape
        return input._data.reshape(-1), np.repeat(np.arange(b), n), b
    if input.ndim != 1:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {input.ndim}")
    if offsets is None or offsets.ndim != 1:
        raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor but got "
                         f"{None if offsets is None else f'a {offsets.ndim}D Tensor'}")
    if offsets._data.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag: expected offsets of an integer type, got {offsets.dtype}")
    idx, starts = input._data, offsets._data.astype(np.int64)
    t = idx.size
    if include_last_offset:
        # the last offset is the end of the last bag (torch documents it equal to the input's
        # length; where it is not, torch's float32 kernel stops there, as here)
        starts, ends = starts[:-1], starts[1:]
    else:
        ends = np.append(starts[1:], t)
    if starts.size and (starts[0] != 0 or np.any(np.diff(starts) < 0) or ends[-1] > t):
        raise RuntimeError(f"embedding_bag: offsets must start at 0, be non-decreasing and stay "
                           f"within the input's {t} indices, got {offsets._data.tolist()}")
    bag = np.full(t, -1, np.int64)
    for i, (s, e) in enumerate(zip(starts, ends)):
        bag[s:e] = i
    return idx, bag, starts.size


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None) -> Tensor:
    """out[b] = reduce_{i ∈ bag b} w_i·weight[input[i]], reduce = sum, mean or max (w the
    ``per_sample_weights``, 'sum' only; 1 otherwise); entries equal to ``padding_idx`` are left
    out (of the mean's count too); an empty bag gives zeros.

    Bags: the rows of a 2-D ``input`` (B, N), or the runs of a 1-D ``input`` starting at
    ``offsets`` (B,) (with ``include_last_offset``: B + 1 offsets, the last one the input's
    length).
    ``max_norm`` renormalises the referenced rows of ``weight`` in place first, as torch;
    ``scale_grad_by_freq`` divides each entry's gradient by how often its index occurs in the
    bags (not in 'max' mode, as torch).
    Gradients: the sum's and mean's are those of a scatter-add of the rows; the max's reach each
    bag's maximal entries. Shapes: weight (V, D) -> out (B, D)."""
    check_tensor(input, "embedding_bag")
    check_tensor(weight, "embedding_bag", "weight")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("embedding_bag: max mode does not support scaling the gradient by the "
                         "frequency")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag: expected indices of type Long or Int, got {input.dtype}")
    idx, bag, nbags = _bags(input, offsets, include_last_offset)
    v, d = weight.shape
    if idx.size and (idx.min() < 0 or idx.max() >= v):   # torch: RuntimeError
        raise RuntimeError(f"embedding_bag: index out of range for a table of {v} rows (indices in "
                         f"[{int(idx.min())}, {int(idx.max())}])")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: per_sample_weights {tuple(per_sample_weights.shape)} "
                         f"must have the input's shape {tuple(input.shape)}")
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    keep = bag >= 0
    if padding_idx is not None:
        keep &= idx != padding_idx % v
    sel = np.flatnonzero(keep)
    rows = Embedding.apply(weight, index=idx[sel], padding_idx=None,          # (T', D)
                           scale_grad_by_freq=bool(scale_grad_by_freq))
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1)[sel].unsqueeze(1)
    bag_sel = bag[sel]
    if mode == "max":
        parts = []
        for b in range(nbags):
            mine = np.flatnonzero(bag_sel == b)
            parts.append(rows[mine].amax(0) if mine.size else
                         Tensor._make(np.zeros(d, weight._data.dtype)))
        return stack(parts) if parts else Tensor._make(np.zeros((0, d), weight._data.dtype))
    out = IndexAdd.apply(rows, key=bag_sel, shape=(nbags, d), basic=False)
    if mode == "mean":
        counts = np.bincount(bag_sel, minlength=nbags).astype(weight._data.dtype)
        out = out / Tensor._make(np.maximum(counts, 1)[:, None])
    return out


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """torch.nn.functional.one_hot: out[..., j] = 1 if tensor[...] = j else 0, int64, of shape
    (*, num_classes); num_classes = −1 means max(tensor) + 1.

    torch's rules, stricter than :func:`chainrule.data.one_hot` (which also takes lists, arrays
    and other integer dtypes): ``tensor`` an int64 Tensor, labels in [0, num_classes); every
    violation a RuntimeError (a TypeError for an argument of the wrong type)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot: argument 'input' must be a Tensor, not {type(tensor).__name__}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: argument 'num_classes' must be int, not "
                        f"{type(num_classes).__name__}")
    labels = tensor._data
    if labels.dtype != np.int64:
        raise RuntimeError(f"one_hot: only applicable to an index tensor of type LongTensor, got "
                           f"{tensor.dtype} (use tensor.long())")
    if labels.size == 0:
        if num_classes <= 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor; "
                               "pass num_classes")
    elif labels.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got {int(labels.min())}")
    elif num_classes != -1 and labels.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {int(labels.max())}")
    return _encode(tensor, num_classes)
