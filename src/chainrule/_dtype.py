"""Data types and torch-style type promotion.

chainrule has torch's dtypes (`chainrule.float32`, `chainrule.int64`, ...), each a thin
wrapper of a NumPy dtype. Promotion follows torch's rules, not NumPy's:

* categories are ordered bool < integer < floating;
* operands are grouped as dimensioned tensors, zero-dim tensors and Python scalars; a later
  group changes the result only when it is of a *higher category*, so
  ``float32_tensor * 2.5 -> float32`` and ``int64_tensor * 2.5 -> float32`` (the default
  float dtype), never a silent float64.
"""
from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type, e.g. ``chainrule.float32``."""

    __slots__ = ("name", "np", "category", "itemsize")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category  # 0 bool, 1 integer, 2 floating
        self.itemsize = self.np.itemsize

    @property
    def is_floating_point(self) -> bool:
        return self.category == 2

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):  # pickles as the module-level singleton
        return (_lookup_name, (self.name,))


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)

# torch's bfloat16 as a name only: NumPy has no bfloat16 type, so no tensor takes this dtype
# (``as_dtype`` refuses it, saying so); it exists for what names it without making tensors of
# it: ``autocast(device_type="cpu", dtype=bfloat16)`` (torch's CPU autocast dtype, a region
# that computes in full precision here) and comparisons such as ``x.dtype == torch.bfloat16``
bfloat16 = object.__new__(dtype)
bfloat16.name, bfloat16.np, bfloat16.category, bfloat16.itemsize = "bfloat16", None, 2, 2
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
                 "short": int16})


def _lookup_name(name: str) -> dtype:
    return bfloat16 if name == "bfloat16" else _BY_NAME[name]


class _Default:
    dtype = float32


_DEFAULT = _Default()


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created from Python floats and of floating creation
    functions (``zeros``, ``rand``, ...) without ``dtype``: float32 unless changed."""
    return _DEFAULT.dtype


def set_default_dtype(d) -> None:
    """Make ``d`` (float32, float64 or float16) the default floating dtype (torch's
    ``set_default_dtype``): used by creation functions without ``dtype``, by tensors made from
    Python floats, by Python floats in arithmetic with integer tensors, and by floating ops on
    integer tensors. Any other dtype raises TypeError, as torch."""
    d = as_dtype(d)
    if d.category != 2:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {d}")
    _DEFAULT.dtype = d


def from_numpy_dtype(np_dtype) -> dtype:
    """Map a NumPy dtype to chainrule's; raise TypeError for unsupported ones (complex, str...)."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"chainrule does not support NumPy dtype {np_dtype!r}; supported: "
                        + ", ".join(d.name for d in ALL)) from None


def as_dtype(d) -> dtype:
    """Accept a chainrule dtype, a NumPy dtype or type, a name, or the Python types float/int/bool
    (float64, int64, bool, as torch)."""
    if d is bfloat16 or isinstance(d, str) and d == "bfloat16":
        raise TypeError("chainrule has no bfloat16 tensors (NumPy has no bfloat16 type): use "
                        "float16 or float32")
    if isinstance(d, dtype):
        return d
    if d is float:      # Python's float is a double: torch maps dtype=float to float64
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    return from_numpy_dtype(d)


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both a and b convert to without losing their category (torch.promote_types)."""
    if a is b:
        return a
    if a is bfloat16 or b is bfloat16:
        as_dtype(bfloat16)   # (raises: no bfloat16 tensors)
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        return hi
    return from_numpy_dtype(np.promote_types(a.np, b.np))


def scalar_dtype(x) -> dtype:
    """The dtype a Python scalar takes in promotion: bool, int64 or the default float dtype."""
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, (int, np.integer)):
        return int64
    if isinstance(x, (float, np.floating)):
        return _DEFAULT.dtype
    raise TypeError(f"expected a Tensor or a Python number, got {type(x).__name__}")


def result_type(*operands) -> dtype:
    """torch.result_type for Tensors and Python scalars (see the module docstring)."""
    groups = ([], [], [])  # dimensioned tensors, zero-dim tensors, Python scalars
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            groups[0 if x.ndim else 1].append(d)
        else:
            groups[2].append(scalar_dtype(x))
    result = None
    for group in groups:
        if not group:
            continue
        g = group[0]
        for d in group[1:]:
            g = promote_types(g, d)
        if result is None:
            result = g
        elif g.category > result.category:
            result = promote_types(result, g)
    return result


class finfo:
    """Machine limits of a floating dtype (torch.finfo): bits, eps, max, min, tiny
    (= smallest_normal), resolution."""

    def __init__(self, type=None):
        t = get_default_dtype() if type is None else as_dtype(type)
        if t.category != 2:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{t}'")
        info = np.finfo(t.np)
        self.dtype, self.bits = t.name, info.bits
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -info.precision   # torch's: 10^(−decimal digits)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (torch.iinfo): bits, min, max."""

    def __init__(self, type):
        t = as_dtype(type)
        if t.category != 1:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to "
                            f"handle '{t}'")
        info = np.iinfo(t.np)
        self.dtype, self.bits, self.min, self.max = t.name, info.bits, int(info.min), int(info.max)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def can_cast(from_, to) -> bool:
    """torch.can_cast: False only when the cast lowers the category (float → integer, a number
    → bool); any cast within a category (even narrowing) is allowed."""
    return as_dtype(from_).category <= as_dtype(to).category
