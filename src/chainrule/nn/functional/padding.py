"""``F.pad`` as torch's: every mode takes negative widths (a crop), and the checks and errors of
torch's padding kernels (which modes pad how many dims of which inputs, reflect widths below the
size, circular wrapping at most once).

Non-negative widths go to ``ops.pad`` (one node per mode, torch's ``ReflectionPad2DBackward0``
...). With a negative width, reflect and replicate index the original input as torch's kernels
do, out[i] = x[reflect(i − left)] or x[clamp(i − left)] per padded axis — a gather along each
axis, recorded as one linear node under torch's name (its transpose adds the gradient back);
circular wraps the cropped input (torch's too: a slice, then the wrap), so it is a slice followed
by ``ops.pad``.
"""
from __future__ import annotations

import numpy as np

from ...ops import pad as _pad
from ...ops._util import check_tensor
from ...tensor import Tensor
from .vision import Resample

_GATHERS = {}


def _source_index(size, lo, hi, mode):
    """For each output position along one axis, the input position torch's kernel reads."""
    i = np.arange(size + lo + hi) - lo
    if mode == "replicate":
        return np.clip(i, 0, size - 1)
    i = np.abs(i)                                   # reflect about 0 ...
    return np.where(i > size - 1, 2 * (size - 1) - i, i)   # ... and about size − 1


def _gather_pad(input, widths, mode):
    """reflect/replicate with some negative widths: one gather per padded axis, one node."""
    k = len(widths) // 2
    name = f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{k}DBackward0"
    if name not in _GATHERS:
        _GATHERS[name] = Resample.named(name)
    ops = []
    for i in reversed(range(k)):                     # the first padded axis first
        size = input.shape[input.ndim - 1 - i]
        ops.append(("take", _source_index(size, widths[2 * i], widths[2 * i + 1], mode), size))
    return _GATHERS[name].apply(input, ops=ops)

_MODES = ("constant", "reflect", "replicate", "circular")


def _crop(x, widths):
    """x with ``-w`` entries removed from each side whose width w is negative (pad order)."""
    index = [slice(None)] * x.ndim
    changed = False
    for i in range(len(widths) // 2):
        lo, hi = widths[2 * i], widths[2 * i + 1]
        if lo < 0 or hi < 0:
            size = x.shape[x.ndim - 1 - i]
            index[x.ndim - 1 - i] = slice(max(-lo, 0), size - max(-hi, 0))
            changed = True
    return x[tuple(index)] if changed else x


def pad(input, pad, mode="constant", value=None) -> Tensor:
    """Pad (or, with negative widths, crop) the last dims.

    ``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)``; a negative width removes
    that many entries from its side. Modes, as torch:

    * 'constant': fill with ``value`` (default 0); any input, any number of padded dims;
    * 'reflect': mirror without repeating the edge, out[i] = x[|i − left|] reflected at both
      ends (each width below the size of its dim);
    * 'replicate': repeat the edge, out[i] = x[clamp(i − left, 0, n − 1)];
    * 'circular': wrap around, out[i] = x[(i − left) mod n] (the cropped n; at most one wrap).

    The non-constant modes pad the last 1, 2 or 3 dims of a (batched or unbatched) input: a pad of
    length 2 takes 2-D or 3-D inputs, 4 takes 3-D or 4-D, 6 takes 4-D or 5-D.

    Example:
        >>> pad(chainrule.arange(5.).reshape(1, 1, 5), (-1, 2), mode='reflect')
        tensor([[[1., 2., 3., 4., 3., 2.]]])
    """
    check_tensor(input, "pad")
    widths = tuple(pad)
    for i, w in enumerate(widths):
        if isinstance(w, bool) or not isinstance(w, int) and not hasattr(w, "__index__"):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found "
                            f"element of type {type(w).__name__} at pos {i}")
    widths = tuple(int(w) for w in widths)
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(widths) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(widths) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(widths)} and input of "
                           f"dimension {input.ndim}")
    if mode == "constant":
        return _pad(input, widths, mode="constant", value=value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(widths) // 2
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(widths)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    shape = tuple(input.shape)
    if any(s == 0 for s in (shape[1:] if input.ndim == k + 2 else shape)):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{list(shape)}")
    for i in range(k):
        lo, hi = widths[2 * i], widths[2 * i + 1]
        dim = input.ndim - 1 - i
        size = shape[dim]
        out = size + lo + hi
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{dim} of input {list(shape)}")
        if mode == "circular":
            cropped = size + min(lo, 0) + min(hi, 0)
            if cropped <= 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            if max(lo, 0) > cropped or max(hi, 0) > cropped:
                raise RuntimeError("Padding value causes wrapping around more than once.")
        if out < 0:
            raise RuntimeError(f"pad: input size {size} at dimension {dim} with padding "
                               f"({lo}, {hi}) gives a negative output size {out}")
    if not any(w < 0 for w in widths):
        return _pad(input, widths, mode=mode)
    if mode == "circular":
        positive = tuple(max(w, 0) for w in widths)
        cropped = _crop(input, widths)
        return _pad(cropped, positive, mode=mode) if any(positive) else cropped
    return _gather_pad(input, widths, mode)
