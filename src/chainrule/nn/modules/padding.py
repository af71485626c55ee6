"""Padding layers: ``F.pad`` with a fixed mode and widths, one class per torch name."""
from __future__ import annotations

from .. import functional as F
from .module import Module


class _PadNd(Module):
    mode, dims = "constant", 1

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.dims)
        padding = tuple(padding)
        if len(padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a {2 * self.dims}-"
                             f"tuple (left, right{', top, bottom' if self.dims > 1 else ''}"
                             f"{', front, back' if self.dims > 2 else ''}), got {padding}")
        self.padding, self.value = padding, value

    def forward(self, input):
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


def _pad_class(name, mode, dims, doc):
    return type(name, (_PadNd,), {"mode": mode, "dims": dims, "__doc__": doc,
                                  "__module__": __name__})


_SHAPES = {1: "(N, C, W) or (C, W)", 2: "(N, C, H, W) or (C, H, W)",
           3: "(N, C, D, H, W) or (C, D, H, W)"}
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (
    _pad_class(f"ReflectionPad{d}d", "reflect", d,
               f"Pad the last {d} dim(s) with their mirror image (the edge not repeated). "
               f"``padding``: an int or a {2 * d}-tuple. Shapes: {_SHAPES[d]}.") for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _pad_class(f"ReplicationPad{d}d", "replicate", d,
               f"Pad the last {d} dim(s) by repeating the edge values. ``padding``: an int or a "
               f"{2 * d}-tuple. Shapes: {_SHAPES[d]}.") for d in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (
    _pad_class(f"CircularPad{d}d", "circular", d,
               f"Pad the last {d} dim(s) by wrapping around (periodic). ``padding``: an int or a "
               f"{2 * d}-tuple. Shapes: {_SHAPES[d]}.") for d in (1, 2, 3))


class _ConstantPadNd(_PadNd):
    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


ConstantPad1d, ConstantPad2d, ConstantPad3d = (
    type(f"ConstantPad{d}d", (_ConstantPadNd,), {
        "dims": d, "__module__": __name__,
        "__doc__": f"Pad the last {d} dim(s) with ``value``. ``padding``: an int or a "
                   f"{2 * d}-tuple. Shapes: {_SHAPES[d]}."}) for d in (1, 2, 3))
ZeroPad1d, ZeroPad2d, ZeroPad3d = (
    type(f"ZeroPad{d}d", (_ZeroPadNd,), {
        "dims": d, "__module__": __name__,
        "__doc__": f"Pad the last {d} dim(s) with zeros. ``padding``: an int or a "
                   f"{2 * d}-tuple. Shapes: {_SHAPES[d]}."}) for d in (1, 2, 3))
