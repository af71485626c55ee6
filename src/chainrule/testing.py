"""Testing helpers with ``torch.testing``'s names and behaviour.

``assert_close(actual, expected)`` checks that two tensors (or NumPy arrays, Python numbers, or
nested lists / tuples / dicts of them) are close, with per-dtype default tolerances and torch's
error messages; ``make_tensor(*shape, dtype=...)`` makes a random tensor for a test (the numbers
torch's ``make_tensor`` gives for the same seed); ``assert_allclose`` is torch's deprecated
predecessor of ``assert_close``.

How a comparison runs (as torch's ``torch/testing/_comparison.py``): first the two inputs are
walked together, sequences by position and mappings by key, and every leaf pair is checked for a
comparable type (a structure or type error stops here); then the leaf pairs are compared in order
and the first mismatch raises an ``AssertionError``.

    import chainrule as cr
    cr.testing.assert_close(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-7]))
    cr.testing.assert_close({"w": cr.ones(2), "n": 3}, {"w": cr.ones(2), "n": 3})
"""
from __future__ import annotations

import cmath
import collections.abc
import math
import warnings

import numpy as np

from . import _dtype
from .creation import empty, randint, tensor
from .tensor import Size, Tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

# torch's default (rtol, atol) per dtype; every other dtype (integers, bool) is compared exactly.
# chainrule has no bfloat16 (torch: 1.6e-2, 1e-5); complex NumPy arrays get torch's complex rows.
_DTYPE_PRECISIONS = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}
# the dtype a Python number stands for (torch's NumberPair)
_NUMBER_DTYPES = {int: np.dtype(np.int64), float: np.dtype(np.float64),
                  complex: np.dtype(np.complex128)}


class _Failure(Exception):
    """A failed check: the exception type to raise, its message and the item it happened at."""

    def __init__(self, type, msg, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        """The user-facing exception: ``msg`` (a string) replaces the message; a callable gets
        the generated one (with the item's position) and returns the new one."""
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += "\n\nThe failure occurred for item " + "".join(
                    str([item]) for item in self.id)
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


# ---------------------------------------------------------------------------------- tolerances
def _default_tolerances(*dtypes):
    """The loosest (rtol, atol) of the dtypes' defaults (0 for dtypes not in the table)."""
    rtols, atols = zip(*(_DTYPE_PRECISIONS.get(d, (0.0, 0.0)) for d in dtypes))
    return max(rtols), max(atols)


def _tolerances(*dtypes, rtol, atol, id):
    if (rtol is None) != (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                       f"but got no {'rtol' if rtol is None else 'atol'}.", id)
    if rtol is not None:
        return rtol, atol
    return _default_tolerances(*dtypes)


# ---------------------------------------------------------------------------------- messages
def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_line(kind, diff, idx, tol):
        line = (f"{kind.title()} difference: {diff}" if idx is None
                else f"Greatest {kind} difference: {diff} at index {idx}")
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += extra.strip() + "\n"
    msg += diff_line("absolute", abs_diff, abs_idx, atol)
    msg += diff_line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol,
                         rel_diff, None, rtol)


def _array_mismatch_msg(actual, expected, matches, rtol, atol):
    """Counts the mismatches and finds the greatest absolute and relative difference among them
    (computed as torch does: integers and bools in int64, relative differences of integers in the
    default float dtype)."""
    total, mismatched = matches.size, matches.size - int(matches.sum())
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    a, e, m = actual.ravel(), expected.ravel(), matches.ravel()
    if a.dtype.kind not in "fc":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[m] = 0
        denominator = np.abs(e)
        if abs_diff.dtype.kind == "i":   # torch's true division of integers: default float dtype
            float_dt = _dtype.get_default_dtype().np
            rel_diff = abs_diff.astype(float_dt) / denominator.astype(float_dt)
        else:
            rel_diff = abs_diff / denominator
        rel_diff[m] = 0
    i, j = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))   # the first NaN, else the max

    def index(flat):
        return tuple(int(k) for k in np.unravel_index(flat, matches.shape))

    return _mismatch_msg("Tensor-likes", extra, abs_diff[i].item(), index(i), atol,
                         rel_diff[j].item(), index(j), rtol)


# ---------------------------------------------------------------------------------- values
def _isclose(actual, expected, rtol, atol, equal_nan):
    """torch.isclose on two arrays of one dtype, with its arithmetic: integers and bools are first
    converted to the default float dtype, then ``|actual - expected|`` and
    ``atol + |rtol * expected|`` are computed in the arrays' dtype, each step at float32 precision
    or better and rounded back (what torch's float16 kernels do)."""
    close = actual == expected
    if equal_nan and actual.dtype.kind in "fc":
        close |= np.isnan(actual) & np.isnan(expected)
    if rtol == 0 and atol == 0:
        return close
    if actual.dtype.kind not in "fc":
        float_dt = _dtype.get_default_dtype().np
        actual, expected = actual.astype(float_dt), expected.astype(float_dt)
    dt = expected.dtype
    with np.errstate(all="ignore"):
        scaled = np.abs((expected.astype(np.promote_types(dt, np.float32)) * rtol).astype(dt))
        allowed = (scaled.astype(np.promote_types(scaled.dtype, np.float32)) + atol).astype(
            scaled.dtype)
        error = np.abs(actual - expected)
        close |= np.isfinite(error) & (error <= allowed)
    return close


def _dtype_name(np_dtype):
    """chainrule's name for a NumPy dtype (``chainrule.float32``), NumPy's where chainrule has
    none (``complex128``)."""
    try:
        return repr(_dtype.from_numpy_dtype(np_dtype))
    except TypeError:
        return str(np_dtype)


def _promote(a, b):
    """The common dtype of a check_dtype=False comparison: torch's promotion where chainrule has
    both dtypes, NumPy's otherwise (unsigned integers wider than 8 bits count as int64, as
    torch's assert_close treats them)."""
    a, b = (np.dtype(np.int64) if d.kind == "u" and d.itemsize > 1 else d for d in (a, b))
    try:
        return _dtype.promote_types(_dtype.from_numpy_dtype(a), _dtype.from_numpy_dtype(b)).np
    except TypeError:
        return np.promote_types(a, b)


def _strides(array):
    return tuple(s // array.itemsize for s in array.strides)


# ---------------------------------------------------------------------------------- leaf pairs
# Each _*_pair function returns a comparison (a function of no arguments that raises _Failure on
# a mismatch), or None when the inputs are not of its kind, so the next kind is tried.
def _none_pair(actual, expected, id, options):
    if actual is not None and expected is not None:
        return None

    def compare():
        if not (actual is None and expected is None):
            raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", id)
    return compare


def _bool_pair(actual, expected, id, options):
    if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
        return None
    actual, expected = bool(actual), bool(expected)

    def compare():
        if actual is not expected:
            raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}", id)
    return compare


def _is_number(x):
    return isinstance(x, (int, float, complex, np.number)) and not isinstance(x, bool)


def _number_pair(actual, expected, id, options):
    if not (_is_number(actual) and _is_number(expected)):
        return None
    actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
    rtol, atol = _tolerances(*(_NUMBER_DTYPES[type(x)] for x in (actual, expected)),
                             rtol=options["rtol"], atol=options["atol"], id=id)

    def compare():
        if options["check_dtype"] and type(actual) is not type(expected):
            raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != "
                           f"{type(expected)}.", id)
        if actual == expected:
            return
        if options["equal_nan"] and cmath.isnan(actual) and cmath.isnan(expected):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
            return
        raise _Failure(AssertionError, _scalar_mismatch_msg(actual, expected, rtol, atol), id)
    return compare


def _as_array(x):
    """The values of a tensor-like (a Tensor, with or without grad, or a NumPy array of numbers
    or bools); None for anything else."""
    if isinstance(x, Tensor):
        return x.detach().numpy()
    if isinstance(x, np.ndarray) and x.dtype.kind in "biufc":
        return x
    return None


def _tensor_pair(actual, expected, id, options):
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if not related or (not options["allow_subclasses"] and type(actual) is not type(expected)):
        return None
    a, e = _as_array(actual), _as_array(expected)
    if a is None or e is None:
        return None
    rtol, atol = _tolerances(a.dtype, e.dtype, rtol=options["rtol"], atol=options["atol"], id=id)

    def fail(attribute, actual_value, expected_value):
        raise _Failure(AssertionError, f"The values for attribute '{attribute}' do not match: "
                       f"{actual_value} != {expected_value}.", id)

    def compare():
        nonlocal a, e
        if a.shape != e.shape:
            fail("shape", Size(a.shape), Size(e.shape))
        # layout and device always agree: every chainrule tensor is strided and on the CPU
        if options["check_stride"] and _strides(a) != _strides(e):
            fail("stride()", _strides(a), _strides(e))
        if a.dtype != e.dtype:
            if options["check_dtype"]:
                fail("dtype", _dtype_name(a.dtype), _dtype_name(e.dtype))
            common = _promote(a.dtype, e.dtype)
            a, e = a.astype(common), e.astype(common)
        matches = _isclose(a, e, rtol, atol, options["equal_nan"])
        if matches.all():
            return
        if a.ndim == 0:
            msg = _scalar_mismatch_msg(a.item(), e.item(), rtol, atol)
        else:
            msg = _array_mismatch_msg(a, e, matches, rtol, atol)
        raise _Failure(AssertionError, msg, id)
    return compare


_PAIR_KINDS = (_none_pair, _bool_pair, _number_pair, _tensor_pair)


def _originate(actual, expected, id, options):
    """The leaf comparisons of two (possibly nested) inputs, after checking that their structure
    matches and that every leaf pair can be compared."""
    def is_sequence(x):
        return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)

    if is_sequence(actual) and is_sequence(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} "
                           f"!= {len(expected)}", id)
        return [pair for i in range(len(actual))
                for pair in _originate(actual[i], expected[i], (*id, i), options)]

    if isinstance(actual, collections.abc.Mapping) and isinstance(expected,
                                                                  collections.abc.Mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _Failure(AssertionError, (
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}"),
                id)
        try:
            keys = sorted(actual_keys)   # deterministic order where the keys can be sorted
        except TypeError:
            keys = list(actual_keys)
        return [pair for key in keys
                for pair in _originate(actual[key], expected[key], (*id, key), options)]

    for kind in _PAIR_KINDS:
        compare = kind(actual, expected, id, options)
        if compare is not None:
            return [compare]
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type "
                   f"{type(actual)} and {type(expected)}.", id)


# ---------------------------------------------------------------------------------- public API
def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    r"""Asserts that ``actual`` and ``expected`` are close (``torch.testing.assert_close``).

    Two real, finite values are close if

    .. math::
        \lvert \text{actual} - \text{expected} \rvert \le \texttt{atol} + \texttt{rtol} \cdot
        \lvert \text{expected} \rvert

    ``inf`` and ``-inf`` are close only to themselves; ``NaN``'s are equal to each other only if
    ``equal_nan`` is ``True``. Tensors are, in addition, only close if they have the same shape,
    the same ``dtype`` (if ``check_dtype``) and the same strides (if ``check_stride``).

    ``actual`` and ``expected`` can be :class:`Tensor`'s (one that requires grad is compared by
    value), NumPy arrays, Python (or NumPy) scalars and ``None``, or
    :class:`~collections.abc.Sequence`'s and :class:`~collections.abc.Mapping`'s of these, nested
    at will: those are close if their lengths (or sets of keys) match and all their elements are
    close. Except for Python scalars the two inputs of a pair must be of directly related types:
    a Tensor is never compared with a NumPy array, a list or a number (a ``TypeError``, as torch).
    Python scalars of different types (``1`` and ``1.0``) need ``check_dtype=False``.

    Default tolerances by dtype (the loosest of the two when the dtypes differ):

    ============================  ==========  ==========
    ``dtype``                     ``rtol``    ``atol``
    ============================  ==========  ==========
    ``float16``                   ``1e-3``    ``1e-5``
    ``float32``                   ``1.3e-6``  ``1e-5``
    ``float64``                   ``1e-7``    ``1e-7``
    ``complex64`` (NumPy)         ``1.3e-6``  ``1e-5``
    ``complex128`` (NumPy)        ``1e-7``    ``1e-7``
    other (integers, ``bool``)    ``0.0``     ``0.0``
    ============================  ==========  ==========

    A Python ``int`` counts as int64, a ``float`` as float64, a ``complex`` as complex128.

    Args:
        actual (Any): Actual input.
        expected (Any): Expected input.
        allow_subclasses (bool): If ``True`` (default), inputs of directly related types (an
            ``nn.Parameter`` and a ``Tensor``) are compared. Otherwise type equality is required.
        rtol (Optional[float]): Relative tolerance. If given, ``atol`` must be given too. If
            omitted, the dtype's default from the table above.
        atol (Optional[float]): Absolute tolerance. If given, ``rtol`` must be given too. If
            omitted, the dtype's default from the table above.
        equal_nan (bool): If ``True``, two ``NaN`` values are considered equal.
        check_device (bool): Accepted for torch's signature; every chainrule tensor is on the CPU.
        check_dtype (bool): If ``True`` (default), asserts that corresponding tensors have the
            same ``dtype``. If ``False``, tensors of different dtypes are promoted to a common
            dtype (:func:`chainrule.promote_types`) before being compared.
        check_layout (bool): Accepted for torch's signature; every chainrule tensor is strided.
        check_stride (bool): If ``True``, asserts that corresponding tensors have the same strides.
        msg (Optional[Union[str, Callable[[str], str]]]): Error message to use if the values (or
            the attributes) of a pair do not match: a string replaces the generated message, a
            callable is called with it and returns the new one.

    Raises:
        ValueError: If only ``rtol`` or ``atol`` is specified.
        TypeError: If corresponding inputs are not Python scalars and are not directly related
            (or, with ``allow_subclasses=False``, have different types), or are of a kind that
            cannot be compared (strings, arbitrary objects).
        AssertionError: If the inputs are sequences of different lengths or mappings with
            different keys.
        AssertionError: If corresponding tensors do not have the same shape, the same ``dtype``
            (if ``check_dtype``) or the same strides (if ``check_stride``).
        AssertionError: If the values of corresponding inputs are not close. The message counts
            the mismatched elements and gives the greatest absolute and relative difference,
            with their index.

    Example::

        >>> expected = chainrule.tensor([1.0, 2.0, 3.0])
        >>> chainrule.testing.assert_close(chainrule.tensor([1.0, 4.0, 5.0]), expected)
        Traceback (most recent call last):
        ...
        AssertionError: Tensor-likes are not close!
        <BLANKLINE>
        Mismatched elements: 2 / 3 (66.7%)
        Greatest absolute difference: 2.0 at index (1,) (up to 1e-05 allowed)
        Greatest relative difference: 1.0 at index (1,) (up to 1.3e-06 allowed)
    """
    __tracebackhide__ = True   # pytest shows the caller's line, not this function's
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_dtype=check_dtype, check_stride=check_stride)
    try:
        comparisons = _originate(actual, expected, (), options)
    except _Failure as failure:   # structure and type errors keep their own message, as torch's
        raise failure.to_error() from None
    for compare in comparisons:
        try:
            compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated: use :func:`assert_close` (``torch.testing.assert_allclose``, deprecated since
    torch 1.12).

    Converts a non-Tensor ``actual`` with :func:`chainrule.tensor`, and a non-Tensor ``expected``
    to ``actual``'s dtype, then calls :func:`assert_close` with ``check_dtype=False`` and, unless
    given, these looser tolerances: float16 ``rtol=1e-3, atol=1e-3``; float32 ``rtol=1e-4,
    atol=1e-5``; float64 ``rtol=1e-5, atol=1e-8``; other dtypes exact. ``NaN``'s are equal by
    default. Warns with a ``FutureWarning``.
    """
    warnings.warn("`chainrule.testing.assert_allclose()` is deprecated (as torch's, since 1.12). "
                  "Please use `chainrule.testing.assert_close()` instead.", FutureWarning,
                  stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        precisions = {np.dtype(np.float16): (1e-3, 1e-3), np.dtype(np.float32): (1e-4, 1e-5),
                      np.dtype(np.float64): (1e-5, 1e-8)}
        rtol, atol = (max(tols) for tols in zip(*(precisions.get(t.dtype.np, (0.0, 0.0))
                                                   for t in (actual, expected))))
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False):
    """Creates a tensor of the given ``shape`` and ``dtype`` filled with values drawn uniformly
    from ``[low, high)`` (``torch.testing.make_tensor``), with chainrule's random generator: the
    same seed gives torch's numbers.

    If ``low`` or ``high`` lie outside the dtype's finite range they are clamped to it. If
    ``None``, they default to:

    ========================  ========  =========
    ``dtype``                 ``low``   ``high``
    ========================  ========  =========
    ``bool``                  ``0``     ``2``
    ``uint8``                 ``0``     ``10``
    signed integer types      ``-9``    ``10``
    floating types            ``-9``    ``9``
    ========================  ========  =========

    For integer types ``low`` and ``high`` are rounded up (``math.ceil``).

    Args:
        *shape (int or Sequence[int]): The shape, as integers or one sequence.
        dtype (chainrule.dtype): The data type of the returned tensor.
        device: The device (only the CPU).
        low (Optional[Number]): Lower limit (inclusive) of the range.
        high (Optional[Number]): Upper limit (exclusive) of the range.
        requires_grad (bool): If autograd should record operations on the returned tensor.
        noncontiguous (bool): If ``True``, the returned tensor is a non-contiguous view (every
            second element of a tensor twice as long in the last dim). Ignored for fewer than two
            elements.
        exclude_zero (bool): If ``True``, zeros are replaced by 1 for integer and bool types and
            by the dtype's smallest positive normal number (``finfo(dtype).tiny``) for floats.

    Raises:
        ValueError: If ``requires_grad=True`` for an integer or bool dtype.
        ValueError: If ``low >= high`` (``low == high`` for floats only warns, as torch), if
            ``low`` or ``high`` is NaN, or if ``[low, high)`` lies outside the dtype's range.
        TypeError: If ``dtype`` is not a dtype chainrule supports.

    Example::

        >>> chainrule.manual_seed(0)   # torch.manual_seed(0) before torch's gives the same
        >>> chainrule.testing.make_tensor(2, 3, dtype=chainrule.float32, low=-1, high=1)
        tensor([[-0.0075,  0.5364, -0.8230],
                [-0.7359, -0.3852,  0.2682]])
    """
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"make_tensor: dtype must be a chainrule.dtype, got {dtype!r}")
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    is_float = dtype.is_floating_point
    if requires_grad and not is_float:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={dtype}")

    if dtype is _dtype.bool_:
        lowest, highest, default_low, default_high = 0, 2, 0, 2
    elif not is_float:
        info = _dtype.iinfo(dtype)
        # the largest int64 cannot be drawn (randint's bounds are int64), as in torch
        lowest, highest = info.min, info.max + (1 if dtype is not _dtype.int64 else 0)
        default_low, default_high = -9, 10   # uint8: -9 is clamped to 0 below
    else:
        info = _dtype.finfo(dtype)
        lowest, highest, default_low, default_high = info.min, info.max, -9, 9
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and is_float:
        warnings.warn("Passing `low==high` to `make_tensor` for floating types is deprecated (as "
                      "in torch); use `chainrule.full(...)` instead.", FutureWarning,
                      stacklevel=2)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)

    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:   # twice as long in the last dim, so the view skips real values
        shape = (*shape[:-1], 2 * shape[-1])
    if not is_float:
        result = randint(math.ceil(low), math.ceil(high), shape, dtype=dtype, device=device)
    elif high - low >= info.max:   # a range wider than the dtype can hold: draw half, double
        result = empty(shape, dtype=dtype, device=device).uniform_(low / 2, high / 2).mul_(2)
    else:
        result = empty(shape, dtype=dtype, device=device).uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]   # offset by 1 to also catch offset bugs
    if exclude_zero:
        result[result == 0] = info.tiny if is_float else 1
    if is_float:
        result.requires_grad_(requires_grad)
    return result
