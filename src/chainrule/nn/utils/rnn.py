"""Variable-length sequences for the recurrent layers (``torch.nn.utils.rnn``).

A batch of sequences of different lengths is either *padded* — one (T, B, *) tensor, shorter
sequences filled up to the longest length T — or *packed*: only the real time steps, stored time
step by time step with the sequences sorted longest first,

    data = [x_1 of every sequence, x_2 of every sequence still running, …],
    batch_sizes[t] = how many sequences are longer than t,

so an RNN fed a :class:`PackedSequence` never computes on padding and its final state h_n is
each sequence's state at its own last step. Packing and unpacking are single gathers (advanced
indexing), so gradients flow through both.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import creation
from ...ops import cat
from ...ops._util import check_tensor
from ...tensor import Tensor

__all__ = [
    "PackedSequence",
    "unpad_sequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """Sequences packed time step by time step (build one with :func:`pack_padded_sequence` or
    :func:`pack_sequence`, never by hand).

    data: (Σ batch_sizes, *) the real time steps; batch_sizes: int64 (T,) how many sequences are
    active at each step; sorted_indices: int64 (B,) the order (longest first) the packing put the
    batch in, or None if it already was; unsorted_indices: its inverse permutation.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data.to(*args, **kwargs)`` (indices stay int64)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def float(self):
        return self.to("float32")

    def double(self):
        return self.to("float64")


def invert_permutation(permutation):
    """The permutation q with q[p[i]] = i (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation)
    inverse = np.empty_like(p, dtype=np.int64)
    inverse[p] = np.arange(p.size, dtype=np.int64)
    return creation.tensor(inverse)


def _lengths_array(lengths, batch):
    arr = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if arr.ndim == 1 and arr.dtype.kind == "f" and np.all(np.isfinite(arr)):
        arr = arr.astype(np.int64)   # torch reads lengths as int64, so float lengths are taken
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(f"pack_padded_sequence: lengths must be a 1-D list or tensor of ints, "
                        f"got {arr.dtype} of shape {arr.shape}")
    arr = arr.astype(np.int64)
    if arr.size != batch:
        raise RuntimeError(f"pack_padded_sequence: Expected `len(lengths)` to be equal to "
                           f"batch_size, but got {arr.size} (batch_size={batch})")
    return arr


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch: input (T, B, *) — (B, T, *) with ``batch_first`` — and the
    ``lengths`` (B,) of its sequences. With ``enforce_sorted`` the lengths must already be
    decreasing; otherwise the batch is sorted here (stably) and the order kept in the result."""
    check_tensor(input, "pack_padded_sequence")
    if input.dim() < 2:
        raise ValueError(f"pack_padded_sequence: input must have at least 2 dimensions "
                         f"(T, B, *), got {input.dim()}")
    t_dim, b_dim = (1, 0) if batch_first else (0, 1)
    steps, batch = input.shape[t_dim], input.shape[b_dim]
    lengths = _lengths_array(lengths, batch)
    if batch and lengths.min() <= 0:
        raise RuntimeError("pack_padded_sequence: Length of all samples has to be greater than 0,"
                           " but found an element in 'lengths' that is <= 0")
    if batch and lengths.max() > steps:
        raise ValueError(f"pack_padded_sequence: a length of {lengths.max()} exceeds the "
                         f"{steps} time steps of the padded input")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in "
                               "decreasing order when `enforce_sorted` is True. You can pass "
                               "`enforce_sorted=False` to pack_padded_sequence and/or "
                               "pack_sequence to sidestep this requirement if you do not need "
                               "ONNX exportability.")
        order, sorted_indices = np.arange(batch), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = creation.tensor(order.astype(np.int64))
    sorted_lengths = lengths[order]
    batch_sizes = (sorted_lengths[None, :] > np.arange(sorted_lengths.max())[:, None]).sum(1)
    # one gather: time step t takes the first batch_sizes[t] sequences of the sorted batch
    t_idx = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    b_idx = order[np.concatenate([np.arange(b) for b in batch_sizes])]
    data = input[(b_idx, t_idx) if batch_first else (t_idx, b_idx)]
    return PackedSequence(data, creation.tensor(batch_sizes.astype(np.int64)), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: returns the padded batch (T, B, *) — (B, T, *) with
    ``batch_first`` — in the caller's original order, and the int64 lengths (B,). Padding gets
    ``padding_value``; ``total_length`` pads T further (it must be ≥ the longest length)."""
    data, batch_sizes = sequence.data, np.asarray(sequence.batch_sizes._data, np.int64)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError("pad_packed_sequence: Expected total_length to be at least the "
                             "length of the longest sequence in input, but got "
                             f"total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    batch = int(batch_sizes[0])
    # row of data holding (t, sorted position b); padding reads one extra row of padding_value
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)])
    t, b = np.meshgrid(np.arange(steps), np.arange(batch), indexing="ij")
    valid = (t < batch_sizes.size) & (b < batch_sizes[np.minimum(t, batch_sizes.size - 1)])
    rows = np.where(valid, offsets[np.minimum(t, batch_sizes.size - 1)] + b, offsets[-1])
    if sequence.unsorted_indices is not None:
        rows = rows[:, np.asarray(sequence.unsorted_indices._data)]
    pad = creation.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = cat([data, pad])[rows.T if batch_first else rows]
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    if sequence.unsorted_indices is not None:
        lengths = lengths[np.asarray(sequence.unsorted_indices._data)]
    return padded, creation.tensor(lengths.astype(np.int64))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right"):
    """Stack tensors of shapes (L_i, *) into one (max L_i, B, *) tensor — (B, max L_i, *) with
    ``batch_first`` — filling with ``padding_value`` on the right (or the ``'left'``)."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    try:
        sequences = list(sequences)
    except TypeError:
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}") from None
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: Expected padding_side to be one of left or right, but "
                         f"got {padding_side}.")
    for i, s in enumerate(sequences):
        check_tensor(s, "pad_sequence", f"sequences[{i}]")
        if s.dim() < 1 or s.shape[1:] != sequences[0].shape[1:]:
            raise RuntimeError(f"pad_sequence: every sequence must have shape (L, "
                               f"{', '.join(map(str, sequences[0].shape[1:]))}), sequence {i} "
                               f"has shape {tuple(s.shape)}")
    lengths = np.array([s.shape[0] for s in sequences], np.int64)
    steps, total = int(lengths.max()), int(lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(steps)[None, :]                     # (1, T)
    if padding_side == "left":
        t = t - (steps - lengths)[:, None]            # sequence b starts at steps − L_b
    valid = (t >= 0) & (t < lengths[:, None])
    rows = np.where(valid, starts[:, None] + t, total)  # (B, T); `total` = the padding row
    data = cat([cat(sequences), creation.full((1,) + tuple(sequences[0].shape[1:]),
                                              padding_value, dtype=sequences[0].dtype)])
    return data[rows if batch_first else rows.T]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) directly: ``pack_padded_sequence(pad_sequence(s), L)``."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of tensors (L_i, *) a :class:`PackedSequence` holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :int(n)] for i, n in enumerate(lengths._data)]


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """The inverse of :func:`pad_sequence`: the list of tensors (L_i, *) cut from the padded
    (T, B, *) — (B, T, *) with ``batch_first`` — at their ``lengths``."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in
            enumerate(np.asarray(getattr(lengths, "_data", lengths)))]
