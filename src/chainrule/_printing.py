"""Printing a tensor exactly as torch does: ``repr``/``str``, ``set_printoptions``, ``printoptions``.

The options (torch's defaults): ``precision=4`` digits after the point, ``threshold=1000``
elements before a tensor is summarised, ``edgeitems=3`` items kept at each end of a summarised
dimension, ``linewidth=80`` characters, ``sci_mode=None`` (choose automatically).

torch's rules, which this module follows to the character:

* **What is formatted.** A tensor with more than ``threshold`` elements is *summarised*: along
  every dimension longer than ``2·edgeitems`` only the first and last ``edgeitems`` entries are
  shown, with ``...`` between. All widths and the choice of notation below come from the *shown*
  elements only, so hidden values never change how the shown ones look.
* **One width for all.** Every element is right-aligned to the widest formatted shown element
  (at least 1).

  - bool and integer tensors: ``str`` of each value (``True``, ``-12``).
  - floating tensors look only at the shown values ``v`` that are finite and non-zero (zeros,
    nan and ±inf never widen the column). With none of those the tensor prints in integer mode,
    width 1. Otherwise:

    * *integer mode* if every such ``v`` is whole: ``f"{v:.0f}."`` (``2.``, ``-0.``; nan and inf
      get no point);
    * *scientific notation* when ``max|v| / min|v| > 1000`` or ``max|v| > 1e8`` or
      ``min|v| < 1e-4`` (unless ``sci_mode`` forces it on or off): ``f"{v:.{precision}e}"``;
    * otherwise fixed point: ``f"{v:.{precision}f}"``.

    Values are formatted as Python floats (float16/float32 widened exactly to float64), and the
    ratio and bounds are computed in float64.
* **Rows.** A 1-d row holds ``max(1, (linewidth - indent) // (width + 2))`` elements per line
  (``, `` is the 2); a continuation line is indented one past the opening bracket. The indent
  starts at ``len("tensor(") = 7`` and grows by one per nesting level.
* **Nesting.** Slices of an n-d tensor are separated by ``,`` plus ``n - 1`` newlines (a blank
  line between the matrices of a 3-d tensor) and the indent.
* **Suffixes**, in this order: ``size=(...)`` for an empty tensor that is not 1-d, or whenever
  ``edgeitems`` is 0; ``dtype=...`` unless the dtype is the default float dtype, int64 or bool
  (an empty tensor shows every dtype but the default float one, since no element betrays it);
  ``grad_fn=<Name>`` for a graph output, else ``requires_grad=True`` for a leaf that needs grad;
  ``tangent=tensor(...)`` for a dual tensor inside a forward-AD level. A suffix goes on a new
  line, indented to the contents, when the current line would pass ``linewidth``; a suffix is
  measured as torch spells it (``torch.float64``), so a line breaks exactly where
  torch's does and the two texts differ only by the library's name.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np

from . import _dtype
from ._modes import FORWARD

_PREFIX = "tensor("


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTIONS = _PrintOptions()

# profile name -> (precision, threshold, edgeitems, linewidth), as in torch
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print (torch.set_printoptions).

    Args:
        precision: digits after the decimal point for floating values (default 4).
        threshold: a tensor with more elements than this is summarised (default 1000).
        edgeitems: items shown at the start and end of each summarised dimension (default 3).
        linewidth: characters per line before a row wraps (default 80).
        profile: ``"default"``, ``"short"`` (precision 2, edgeitems 2) or ``"full"`` (never
            summarise); applied first, so the other arguments override it.
        sci_mode: True or False forces scientific notation on or off; None (the default)
            lets the values decide. Unlike the other options it is always set, so a call
            without it returns to automatic.

    Example::

        >>> chainrule.set_printoptions(precision=2)
        >>> chainrule.tensor([1.12345])
        tensor([1.12])
        >>> chainrule.set_printoptions(threshold=5)
        >>> chainrule.arange(10)
        tensor([0, 1, 2,  ..., 7, 8, 9])
        >>> chainrule.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:   # torch ignores an unknown profile; a typo should not pass
            raise ValueError(f"set_printoptions: profile must be one of "
                             f"{', '.join(map(repr, _PROFILES))}, got {profile!r}")
        (_OPTIONS.precision, _OPTIONS.threshold,
         _OPTIONS.edgeitems, _OPTIONS.linewidth) = _PROFILES[profile]
    if precision is not None:
        _OPTIONS.precision = precision
    if threshold is not None:
        _OPTIONS.threshold = threshold
    if edgeitems is not None:
        _OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTIONS.linewidth = linewidth
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options as a dict that ``set_printoptions(**d)`` accepts
    (torch._tensor_str.get_printoptions)."""
    return dataclasses.asdict(_OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Set print options for the duration of a ``with`` block (torch._tensor_str.printoptions)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Formats single values of one tensor to a common width, chosen from ``shown`` (the values
    that will be printed) by the rules in the module docstring."""

    def __init__(self, shown: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not floating:
            self.width = max(map(len, map(str, shown.ravel().tolist())), default=1)
            return
        values = shown[np.isfinite(shown) & (shown != 0)]
        if values.size == 0:
            return
        self.int_mode = bool(np.all(values == np.ceil(values)))
        magnitudes = np.abs(values).astype(np.float64)
        hi, lo = float(magnitudes.max()), float(magnitudes.min())   # Python floats: hi / lo
        # may overflow to inf (1e308 / 1e-300), which still means "spread > 1000", silently
        auto = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        self.sci_mode = auto if _OPTIONS.sci_mode is None else _OPTIONS.sci_mode
        p = _OPTIONS.precision
        if self.sci_mode:
            lengths = (len(f"{v:.{p}e}") for v in values.tolist())
        elif self.int_mode:
            lengths = (len(f"{v:.0f}") + 1 for v in values.tolist())   # + 1: the trailing point
        else:
            lengths = (len(f"{v:.{p}f}") for v in values.tolist())
        self.width = max(lengths)

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{_OPTIONS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("." if math.isfinite(value) else "")
        else:
            text = f"{value:.{_OPTIONS.precision}f}"
        return text.rjust(self.width)


def _shown_values(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows, flattened (what the formatter measures)."""
    e = _OPTIONS.edgeitems
    if a.ndim == 0:
        return a.reshape(1)
    if not e:             # the whole tensor prints as [...]: nothing is shown
        return a.reshape(-1)[:0]
    rows = np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if a.ndim == 1:
        return rows
    return np.concatenate([_shown_values(r) for r in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = _OPTIONS.edgeitems
    per_line = max(1, math.floor((_OPTIONS.linewidth - indent) / (fmt.width + 2)))
    if summarize and not e:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        items = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                 + [fmt.format(v) for v in a[-e:].tolist()])
    else:
        items = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e, n = _OPTIONS.edgeitems, a.shape[0]
    if summarize and n > 2 * e:
        slices = ([_nested_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                  + [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        slices = [_nested_str(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _contents(a: np.ndarray, indent: int) -> str:
    """The bracketed values of a non-empty array, as torch prints them at ``indent``."""
    summarize = a.size > _OPTIONS.threshold
    fmt = _Formatter(_shown_values(a) if summarize else a, a.dtype.kind == "f")
    return _nested_str(a, indent, summarize, fmt)


def _torch_len(suffix: str) -> int:
    """The length the suffix has in torch's text, where dtypes are spelled ``torch.float64``."""
    return len(suffix) - suffix.count("chainrule.") * (len("chainrule.") - len("torch."))


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    # Lines break where torch's break, so the two texts differ only by the library's name:
    # suffixes are measured as torch spells them, and torch's count of the current line
    # (2 more than the line holds) is kept as it is.
    line_len = len(text) - text.rfind("\n") + 1
    parts = [text]
    for suffix in suffixes:
        if line_len + _torch_len(suffix) + 2 > _OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_len = indent + _torch_len(suffix)
        else:
            parts.append(", " + suffix)
            line_len += _torch_len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t) -> str:
    """``repr(t)``: torch's text for the same values, dtype and autograd state."""
    data = t._data
    default_float = _dtype.get_default_dtype()
    suffixes = []
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if t.dtype is not default_float:
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if not _OPTIONS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")
        if t.dtype not in (default_float, _dtype.int64, _dtype.bool_):
            suffixes.append(f"dtype={t.dtype!r}")
        body = _contents(data, len(_PREFIX))
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    if FORWARD.level is not None and t._fw_tangent is not None:
        suffixes.append(f"tangent={t._fw_tangent!r}")
    return _add_suffixes(_PREFIX + body, suffixes, len(_PREFIX))
