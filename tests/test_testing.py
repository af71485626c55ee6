"""chainrule.testing against torch.testing: assert_close raises (and says) what torch's raises for
the same inputs, the default tolerances hold to the last bit at their boundary, and make_tensor
draws torch's numbers for the same seed."""
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.testing import assert_allclose, assert_close, make_tensor

T = cr.tensor
nan, inf = math.nan, math.inf


def to_torch(x):
    """The same input for torch: chainrule Tensors become torch tensors sharing the memory (so
    strides agree), containers are converted element by element, the rest passes unchanged."""
    if isinstance(x, cr.Tensor):
        t = torch.from_numpy(x.detach().numpy())
        if isinstance(x, cr.nn.Parameter):
            return torch.nn.Parameter(t, requires_grad=x.requires_grad)
        return t.requires_grad_(x.requires_grad)
    if isinstance(x, (list, tuple)):
        return type(x)(to_torch(v) for v in x)
    if isinstance(x, dict):
        return type(x)((k, to_torch(v)) for k, v in x.items())
    return x


def outcome(fn, actual, expected, **kwargs):
    """(exception type name or None, message)."""
    try:
        fn(actual, expected, **kwargs)
    except Exception as error:   # noqa: BLE001  (the type is the result)
        return type(error).__name__, str(error)
    return None, ""


def same_as_torch(actual, expected, **kwargs):
    """chainrule's assert_close fails exactly when torch's does, with the same exception type and,
    for AssertionError and ValueError, the same message (torch.X read as chainrule.X)."""
    mine = outcome(assert_close, actual, expected, **kwargs)
    theirs = outcome(torch.testing.assert_close, to_torch(actual), to_torch(expected), **kwargs)
    assert mine[0] == theirs[0], (mine, theirs)
    if theirs[0] in ("AssertionError", "ValueError"):
        assert mine[1] == theirs[1].replace("torch.", "chainrule."), (mine[1], theirs[1])
    return mine


def _view_t():
    return cr.arange(6.0).reshape(2, 3).t()


# (actual, expected, kwargs) built lazily, so an error in one case fails only that case
CASES = {
    # equal and close values
    "equal_f32": lambda: (T([1.0, 2.0]), T([1.0, 2.0]), {}),
    "close_f32": lambda: (T([1.0, 2.0]), T([1.0, 2.0 + 1e-6]), {}),
    "far_f32": lambda: (T([1.0, 2.0, 3.0]), T([1.0, 4.0, 5.0]), {}),
    "far_2d": lambda: (T([[1.0, 2.0], [3.0, 4.0]]), T([[1.0, 2.5], [3.0, 4.0]]), {}),
    "ties_first_index": lambda: (T([3.0, 1.0, 3.0]), T([1.0, 1.0, 1.0]), {}),
    "expected_zero": lambda: (T([1.0, 3.0]), T([1.0, 0.0]), {}),
    "actual_zero": lambda: (T([1.0, 0.0]), T([1.0, 2.0]), {}),
    "f64": lambda: (T([1.0, 2.0], dtype=cr.float64), T([1.0, 2.0001], dtype=cr.float64), {}),
    "f16": lambda: (T([1.0, 2.0], dtype=cr.float16), T([1.0, 2.01], dtype=cr.float16), {}),
    "int_exact": lambda: (T([1, 2, 3]), T([1, 2, 4]), {}),
    "int8": lambda: (T([1, 2, 3], dtype=cr.int8), T([1, 2, -4], dtype=cr.int8), {}),
    "uint8": lambda: (T([1, 200], dtype=cr.uint8), T([1, 100], dtype=cr.uint8), {}),
    "bool": lambda: (T([True, False]), T([True, True]), {}),
    "int_with_tol": lambda: (T([1, 2]), T([1, 5]), dict(rtol=0.1, atol=1)),
    "int_within_tol": lambda: (T([1, 2]), T([1, 3]), dict(rtol=0.0, atol=1)),
    "int_as_float32": lambda: (T([2**24 + 1]), T([2**24]), dict(rtol=0.0, atol=0.5)),
    "uint8_no_wrap": lambda: (T([0], dtype=cr.uint8), T([250], dtype=cr.uint8),
                              dict(rtol=0.0, atol=251.0)),
    "int8_no_wrap": lambda: (T([110], dtype=cr.int8), T([-18], dtype=cr.int8),
                             dict(rtol=0.1, atol=1.0)),
    "np_complex_tol": lambda: (np.array([1 + 1j]), np.array([1.1 + 1j]), dict(rtol=0.0, atol=0.2)),
    "empty": lambda: (cr.zeros(0), cr.zeros(0), {}),
    "empty_2d": lambda: (cr.zeros(2, 0), cr.zeros(2, 0), {}),
    # 0-d tensors give the scalar message
    "0d_far": lambda: (T(1.0), T(2.0), {}),
    "0d_expected_zero": lambda: (T(2.0), T(0.0), {}),
    "0d_int": lambda: (T(2), T(3), {}),
    "0d_nan": lambda: (T(nan), T(nan), {}),
    "0d_nan_equal": lambda: (T(nan), T(nan), dict(equal_nan=True)),
    # NaN and inf
    "nan": lambda: (T([nan, 1.0]), T([nan, 1.0]), {}),
    "nan_equal": lambda: (T([nan, 1.0]), T([nan, 1.0]), dict(equal_nan=True)),
    "nan_vs_number": lambda: (T([nan, 1.0]), T([1.0, 1.0]), dict(equal_nan=True)),
    "inf_equal": lambda: (T([inf, -inf, 1.0]), T([inf, -inf, 1.0]), {}),
    "inf_sign": lambda: (T([inf, 1.0]), T([-inf, 1.0]), {}),
    "inf_vs_big": lambda: (T([inf]), T([3e38]), dict(rtol=1.0, atol=1e38)),
    "inf_and_nan": lambda: (T([inf, 1.0]), T([1.0, nan]), {}),
    "inf_f16_overflow": lambda: (T([60000.0], dtype=cr.float16), T([-60000.0], dtype=cr.float16), {}),
    # explicit tolerances
    "tol_pass": lambda: (T([1.0, 2.0]), T([1.0, 2.1]), dict(rtol=0.1, atol=0.0)),
    "tol_fail": lambda: (T([1.0, 2.0]), T([1.0, 2.5]), dict(rtol=0.1, atol=0.0)),
    "zero_tol": lambda: (T([1.0, 2.0]), T([1.0, 2.0 + 1e-6]), dict(rtol=0, atol=0)),
    "only_rtol": lambda: (T([1.0]), T([1.0]), dict(rtol=1e-3)),
    "only_atol": lambda: (T([1.0]), T([1.0]), dict(atol=1e-3)),
    "only_rtol_no_numbers": lambda: ([True], [True], dict(rtol=1e-3)),
    # attributes
    "shape": lambda: (T([1.0, 2.0]), T([1.0, 2.0, 3.0]), {}),
    "shape_2d": lambda: (T([[1.0], [2.0]]), T([1.0, 2.0]), {}),
    "dtype": lambda: (T([1.0, 2.0]), T([1.0, 2.0], dtype=cr.float64), {}),
    "dtype_int_float": lambda: (T([1, 2]), T([1.0, 2.0]), {}),
    "dtype_unchecked": lambda: (T([1, 2]), T([1.0, 2.0]), dict(check_dtype=False)),
    "dtype_unchecked_far": lambda: (T([1, 2]), T([1.0, 2.1]), dict(check_dtype=False)),
    "dtype_unchecked_f16_f32": lambda: (T([1.0], dtype=cr.float16), T([1.0005]),
                                        dict(check_dtype=False)),
    "dtype_unchecked_f32_f64": lambda: (T([1.0]), T([1.0 + 1e-6], dtype=cr.float64),
                                        dict(check_dtype=False)),
    "dtype_unchecked_bool_int": lambda: (T([True, False]), T([1, 1]), dict(check_dtype=False)),
    "shape_before_dtype": lambda: (T([1.0]), T([1, 2]), {}),
    "stride": lambda: (_view_t(), _view_t().contiguous(), dict(check_stride=True)),
    "stride_unchecked": lambda: (_view_t(), _view_t().contiguous(), {}),
    "check_device_layout_off": lambda: (T([1.0]), T([1.0]), dict(check_device=False,
                                                                 check_layout=False)),
    # grad, subclasses and unrelated types
    "requires_grad": lambda: (T([1.0, 2.0], requires_grad=True), T([1.0, 2.0]), {}),
    "requires_grad_far": lambda: (T([1.0, 2.0], requires_grad=True), T([1.0, 3.0]), {}),
    "parameter": lambda: (cr.nn.Parameter(T([1.0, 2.0])), T([1.0, 2.0]), {}),
    "parameter_strict": lambda: (cr.nn.Parameter(T([1.0, 2.0])), T([1.0, 2.0]),
                                 dict(allow_subclasses=False)),
    "tensor_vs_float": lambda: (T(1.0), 1.0, {}),
    "tensor_vs_int": lambda: (T([1]), 1, {}),
    "tensor_vs_array": lambda: (T([1.0, 2.0]), np.array([1.0, 2.0], np.float32), {}),
    "tensor_vs_list": lambda: (T([1.0, 2.0]), [1.0, 2.0], {}),
    "strings": lambda: ("a", "a", {}),
    "objects": lambda: (object(), object(), {}),
    # NumPy arrays
    "np_equal": lambda: (np.array([1.0, 2.0]), np.array([1.0, 2.0]), {}),
    "np_far": lambda: (np.array([1.0, 2.0]), np.array([1.0, 2.0001]), {}),
    "np_dtype": lambda: (np.array([1.0], np.float32), np.array([1.0]), {}),
    "np_complex": lambda: (np.array([1 + 1j, 2j]), np.array([1 + 1j, 2.001j]), {}),
    "np_complex_close": lambda: (np.array([1 + 1j], np.complex64),
                                 np.array([1 + 1.000001j], np.complex64), {}),
    "np_0d": lambda: (np.array(1.5), np.array(2.5), {}),
    "np_uint16": lambda: (np.array([1, 7], np.uint16), np.array([1, 9], np.uint16), {}),
    "np_scalar_vs_0d_array": lambda: (np.float64(1.0), np.array(1.0), {}),
    # Python and NumPy scalars
    "float_equal": lambda: (1.0, 1.0, {}),
    "float_close": lambda: (1.0, 1.0 + 1e-8, {}),
    "float_far": lambda: (1e-9, 1e-10, dict(rtol=0, atol=0)),
    "float_expected_zero": lambda: (2.0, 0.0, {}),
    "float_nan": lambda: (nan, nan, {}),
    "float_nan_equal": lambda: (nan, nan, dict(equal_nan=True)),
    "float_inf": lambda: (inf, inf, {}),
    "float_inf_sign": lambda: (inf, -inf, {}),
    "int_float": lambda: (1, 1.0, {}),
    "int_float_unchecked": lambda: (1, 1.0, dict(check_dtype=False)),
    "ints": lambda: (1, 2, {}),
    "complex": lambda: (1j, 1j + 1e-6, {}),
    "np_float32_scalar": lambda: (np.float32(1.0), np.float32(1.0000001), {}),
    "np_float_vs_float": lambda: (np.float64(1.5), 1.5, {}),
    "np_int_vs_int": lambda: (np.int64(3), 3, {}),
    "bools": lambda: (True, True, {}),
    "bools_mismatch": lambda: (True, False, {}),
    "np_bool": lambda: (np.bool_(True), True, {}),
    "none": lambda: (None, None, {}),
    "none_mismatch": lambda: (None, 1, {}),
    # containers
    "list_tuple": lambda: ([T([1.0]), 2.0, np.array(3.0)], (T([1.0]), 2.0, np.array(3.0)), {}),
    "list_length": lambda: ([1, 2], [1, 2, 3], {}),
    "list_length_msg_unused": lambda: ([1, 2], [1, 2, 3], dict(msg="ignored for structure")),
    "nested_item": lambda: ({"a": [T([1.0, 2.0]), 2]}, {"a": [T([1.0, 2.0]), 3]}, {}),
    "nested_tensor_item": lambda: ([T([1.0, 2.0])], [T([1.0, 3.0])], {}),
    "nested_deep": lambda: ((1, [2.0, {"k": None, "t": T([1, 2])}]),
                            [1, (2.0, {"k": None, "t": T([1, 3])})], {}),
    "nested_close": lambda: ((1, [2.0, {"k": None, "t": T([1.0])}]),
                             [1, (2.0, {"k": None, "t": T([1.0 + 1e-7])})], {}),
    "dict_keys": lambda: ({"a": 1, "c": 2}, {"b": 1, "c": 2}, {}),
    "dict_order": lambda: (OrderedDict([("foo", T(1.0)), ("bar", 2.0)]),
                           {"bar": 2.0, "foo": T(1.0)}, {}),
    "dict_sorted_first_failure": lambda: ({"b": 1, "a": 1}, {"b": 2, "a": 2}, {}),
    "structure_error_first": lambda: ([T([1.0]), [1]], [T([2.0]), [1, 2]], {}),
    "type_error_after_mismatch": lambda: ([T([1.0]), T(1.0)], [T([2.0]), 1.0], {}),
    "rtol_error_in_list": lambda: ([1.0], [1.0], dict(rtol=1e-3)),
    "list_vs_tensor": lambda: ([1.0], T([1.0]), {}),
    "bytes": lambda: (b"ab", b"ac", {}),
    "range_vs_list": lambda: (range(3), [0, 1, 2], {}),
    # msg
    "msg_str": lambda: (T([1.0, 2.0]), T([1.0, 3.0]), dict(msg="Argh, not close!")),
    "msg_callable": lambda: (T([1.0, 2.0]), T([1.0, 3.0]),
                             dict(msg=lambda m: f"Header\n\n{m}\n\nFooter")),
    "msg_callable_item": lambda: ([T([1.0, 2.0])], [T([1.0, 3.0])],
                                  dict(msg=lambda m: "X" + m + "Y")),
    "msg_dtype": lambda: (T([1.0]), T([1.0], dtype=cr.float64), dict(msg="custom")),
    "msg_scalar": lambda: (1.0, 2.0, dict(msg=lambda m: m.upper())),
}


@pytest.mark.parametrize("name", list(CASES))
def test_assert_close_matches_torch(name):
    actual, expected, kwargs = CASES[name]()
    same_as_torch(actual, expected, **kwargs)


def test_message_content():
    with pytest.raises(AssertionError) as info:
        assert_close(T([1.0, 2.0, 3.0]), T([1.0, 2.0, 3.5]))
    assert str(info.value) == ("Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
                               "Greatest absolute difference: 0.5 at index (2,) (up to 1e-05 allowed)\n"
                               "Greatest relative difference: 0.1428571492433548 at index (2,) "
                               "(up to 1.3e-06 allowed)")   # 0.5 / 3.5 in float32
    with pytest.raises(AssertionError, match=r"The values for attribute 'shape' do not match: "
                       r"chainrule\.Size\(\[2\]\) != chainrule\.Size\(\[3\]\)\."):
        assert_close(cr.zeros(2), cr.zeros(3))
    with pytest.raises(AssertionError, match=r"The values for attribute 'dtype' do not match: "
                       r"chainrule\.float32 != chainrule\.float64\."):
        assert_close(cr.zeros(2), cr.zeros(2, dtype=cr.float64))
    with pytest.raises(AssertionError, match=r"^Tensor-likes are not equal!\n\nMismatched elements: "
                       r"1 / 4 \(25\.0%\)\nGreatest absolute difference: 5 at index \(1, 0\)\n"):
        assert_close(T([[1, 2], [3, 4]]), T([[1, 2], [-2, 4]]))
    with pytest.raises(AssertionError, match=r"\n\nThe failure occurred for item \['w'\]\[1\]$"):
        assert_close({"w": [1, T([1.0])]}, {"w": [1, T([2.0])]})
    with pytest.raises(AssertionError, match=r"^Argh$"):
        assert_close(T([1.0]), T([2.0]), msg="Argh")
    with pytest.raises(AssertionError, match=r"^<Scalars are not close!\n\nExpected 2\.0 but got 1\.0\."):
        assert_close(T(1.0), T(2.0), msg=lambda m: f"<{m}>")


def _boundary_arrays(np_dtype, rtol, atol, n=2000, seed=0):
    """expected over several decades and signs, actual at about ±(1 + ε) times the allowed error
    away: a mix of elements just inside and just outside the tolerance, rounded to the dtype."""
    rng = np.random.default_rng(seed)
    expected = (rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-6, 4, n)).astype(np_dtype)
    allowed = atol + rtol * np.abs(expected.astype(np.float64))
    factor = 1 + rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-4, -1, n)
    actual = (expected + rng.choice([-1, 1], n) * allowed * factor).astype(np_dtype)
    return actual, expected


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_default_tolerance_boundary(dtype):
    """Thousands of elements just inside and just outside the dtype's default tolerance: the same
    mismatches as torch (count, greatest differences and where)."""
    rtol, atol = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5),
                  "float64": (1e-7, 1e-7)}[dtype]
    actual, expected = _boundary_arrays(np.dtype(dtype), rtol, atol)
    kind, msg = same_as_torch(cr.from_numpy(actual), cr.from_numpy(expected))
    assert kind == "AssertionError" and f"(up to {atol} allowed)" in msg
    mismatched = int(msg.split("Mismatched elements: ")[1].split(" /")[0])
    assert 0 < mismatched < actual.size   # both sides of the boundary are exercised
    # each element alone agrees too (a sample: the 0-d path and its message)
    for i in range(0, actual.size, 97):
        same_as_torch(cr.from_numpy(actual[i:i + 1].reshape(())),
                      cr.from_numpy(expected[i:i + 1].reshape(())))


@pytest.mark.parametrize("dtype,rtol,atol", [(cr.float16, 1e-3, 1e-5), (cr.float32, 1.3e-6, 1e-5),
                                             (cr.float64, 1e-7, 1e-7)])
def test_default_tolerance_just_inside_and_outside(dtype, rtol, atol):
    for e in (1.0, 100.0, -3.0):
        allowed = atol + rtol * abs(e)
        inside = T([e + 0.9 * allowed], dtype=dtype)
        outside = T([e + 1.5 * allowed], dtype=dtype)
        expected = T([e], dtype=dtype)
        assert_close(inside, expected)
        with pytest.raises(AssertionError, match="Tensor-likes are not close!"):
            assert_close(outside, expected)
        same_as_torch(inside, expected)
        same_as_torch(outside, expected)


def test_explicit_tolerances_agree_with_torch_isclose():
    """The closeness test itself against torch.isclose for integer, bool and float arrays with
    explicit tolerances (including the int8 wrap-around torch computes)."""
    rng = np.random.default_rng(3)
    arrays = [rng.integers(-128, 128, (2, 300)).astype(np.int8),
              rng.integers(-9, 10, (2, 300)), rng.integers(0, 2, (2, 300)).astype(bool),
              rng.standard_normal((2, 300)).astype(np.float16)]
    for pair in arrays:
        for rtol, atol in [(0.0, 0.0), (0.1, 1.0), (0.5, 0.0), (0.0, 3.0)]:
            same_as_torch(cr.from_numpy(pair[0]), cr.from_numpy(pair[1]), rtol=rtol, atol=atol)


def test_requires_grad_is_compared_by_value():
    x = cr.ones(3, requires_grad=True)
    assert_close(x * 2, T([2.0, 2.0, 2.0]))
    assert_close(x, cr.nn.Parameter(cr.ones(3)))


def test_bool_and_int_scalars_are_a_type_error():
    """Not mirrored: torch fails with an internal RuntimeError here; chainrule says TypeError."""
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(True, 1)
    with pytest.raises(RuntimeError):
        torch.testing.assert_close(True, 1)


def test_assert_allclose_matches_torch():
    cases = [(T([1.0, 2.0]), T([1.0, 2.00001]), {}), (T([1.0, 2.0]), T([1.0, 2.01]), {}),
             (T([1.0, nan]), T([1.0, nan]), {}), (T([1.0, 2.0]), [1.0, 2.0], {}),
             (T([1, 2]), T([1.0, 2.0]), {}), (T([1.0]), T([1.1]), dict(rtol=0.2, atol=0.0)),
             (T([1.0]), T([2.0]), dict(msg="custom")), (T([1.0], dtype=cr.float16),
                                                        T([1.0009], dtype=cr.float16), {})]
    for actual, expected, kwargs in cases:
        with pytest.warns(FutureWarning):
            mine = outcome(assert_allclose, actual, expected, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            theirs = outcome(torch.testing.assert_allclose, to_torch(actual), to_torch(expected),
                             **kwargs)
        assert mine[0] == theirs[0]
        assert mine[1] == theirs[1].replace("torch.", "chainrule.")


# ---------------------------------------------------------------------------------- make_tensor
MAKE_CASES = [
    ((3, 4), dict(dtype="float32")),
    ((2, 5), dict(dtype="float64", low=-1, high=1)),
    ((7,), dict(dtype="float16")),
    (((2, 3),), dict(dtype="float32")),          # the shape as one sequence
    (([4],), dict(dtype="int64")),
    ((3, 4), dict(dtype="int8")),
    ((3, 4), dict(dtype="int16", low=100, high=200)),
    ((3, 4), dict(dtype="int32", low=-0.5, high=2.5)),
    ((5, 5), dict(dtype="uint8")),
    ((5, 5), dict(dtype="uint8", low=-100, high=1000)),
    ((4, 4), dict(dtype="bool")),
    ((3, 4), dict(dtype="float32", noncontiguous=True)),
    ((3, 1), dict(dtype="int64", noncontiguous=True)),
    ((1,), dict(dtype="float32", noncontiguous=True)),
    ((6, 6), dict(dtype="int8", low=-1, high=2, exclude_zero=True)),
    ((6, 6), dict(dtype="bool", exclude_zero=True)),
    ((6, 6), dict(dtype="float32", low=0, high=1e-44, exclude_zero=True)),
    ((3, 3), dict(dtype="float32", low=-1e39, high=1e39)),   # clamped, drawn by halves
    ((3, 3), dict(dtype="float64", requires_grad=True)),
    ((0, 3), dict(dtype="float32")),
    ((), dict(dtype="float32")),
]


@pytest.mark.parametrize("shape,kwargs", MAKE_CASES, ids=[str(i) for i in range(len(MAKE_CASES))])
def test_make_tensor_matches_torch(shape, kwargs):
    """Same seed, same numbers, shape, dtype, strides and requires_grad as torch's make_tensor."""
    mine_kwargs = dict(kwargs, dtype=getattr(cr, kwargs["dtype"]))
    theirs_kwargs = dict(kwargs, dtype=getattr(torch, kwargs["dtype"]), device="cpu")
    cr.manual_seed(1234)
    mine = make_tensor(*shape, **mine_kwargs)
    torch.manual_seed(1234)
    theirs = torch.testing.make_tensor(*shape, **theirs_kwargs)
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert mine.dtype is mine_kwargs["dtype"]
    assert mine.requires_grad == theirs.requires_grad
    assert mine.is_contiguous() == theirs.is_contiguous()
    np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())


@pytest.mark.parametrize("dtype,low,high", [(cr.float16, -9, 9), (cr.float32, -9, 9),
                                            (cr.float64, -9, 9), (cr.int8, -9, 9), (cr.int16, -9, 9),
                                            (cr.int32, -9, 9), (cr.int64, -9, 9), (cr.uint8, 0, 9),
                                            (cr.bool, 0, 1)])
def test_make_tensor_default_ranges(dtype, low, high):
    x = make_tensor(40, 50, dtype=dtype).numpy()
    assert x.dtype == dtype.np and x.shape == (40, 50)
    assert x.min() >= low and x.max() <= high
    if dtype.is_floating_point:
        assert x.max() < 9 and x.min() < -8 and x.max() > 8   # spread over [-9, 9)
    else:
        assert x.min() == low and x.max() == high              # every end value is drawn


def test_make_tensor_options():
    x = make_tensor(3, 4, dtype=cr.float32, low=2, high=3, requires_grad=True)
    assert x.requires_grad and x.is_leaf and float(x.min()) >= 2 and float(x.max()) < 3
    assert not make_tensor(2, dtype=cr.float32).requires_grad
    y = make_tensor(3, 4, dtype=cr.float32, noncontiguous=True)
    assert tuple(y.shape) == (3, 4) and not y.is_contiguous()
    z = make_tensor(50, dtype=cr.int64, low=0, high=2, exclude_zero=True)
    assert (z.numpy() == 1).all()
    assert make_tensor((2, 3), dtype=cr.int32, device="cpu").shape == (2, 3)


def test_make_tensor_errors_match_torch():
    cases = [dict(dtype="int64", requires_grad=True), dict(dtype="float32", low=2, high=1),
             dict(dtype="int8", low=3, high=3), dict(dtype="float32", low=nan, high=1),
             dict(dtype="uint8", low=-10, high=-1), dict(dtype="int8", low=200, high=300)]
    for kwargs in cases:
        mine_kwargs = dict(kwargs, dtype=getattr(cr, kwargs["dtype"]))
        theirs_kwargs = dict(kwargs, dtype=getattr(torch, kwargs["dtype"]), device="cpu")
        with pytest.raises(ValueError) as mine:
            make_tensor(2, 2, **mine_kwargs)
        with pytest.raises(ValueError) as theirs:
            torch.testing.make_tensor(2, 2, **theirs_kwargs)
        assert str(mine.value) == str(theirs.value).replace("torch.", "chainrule."), kwargs
    with pytest.warns(FutureWarning, match="low==high"):
        x = make_tensor(3, dtype=cr.float32, low=1.0, high=1.0)
    assert (x.numpy() == 1.0).all()
    with pytest.raises(TypeError, match="dtype"):
        make_tensor(3, dtype=np.float32)
    with pytest.raises(RuntimeError):
        make_tensor(3, dtype=cr.float32, device="cuda")


def test_public_functions_are_documented():
    for fn in (assert_close, assert_allclose, make_tensor):
        assert fn.__doc__ and len(fn.__doc__) > 200
    assert cr.testing.assert_close is assert_close
