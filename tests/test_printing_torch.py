"""Tensor printing against torch: ``repr``/``str`` equal character for character (with ``torch``
renamed ``chainrule``), under every print option, on a generated corpus and on named cases."""
import math

import numpy as np
import pytest
import torch
import torch._tensor_str
from hypothesis import HealthCheck, given, settings, strategies as st

import chainrule as cr
from chainrule import _printing

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])


def both_reprs(a: np.ndarray, requires_grad=False):
    """(torch's repr with torch -> chainrule, chainrule's repr, chainrule's str) of one array."""
    ref = torch.from_numpy(a.copy()).requires_grad_(requires_grad)
    mine = cr.tensor(a, requires_grad=requires_grad)
    return repr(ref).replace("torch", "chainrule"), repr(mine), str(mine)


def with_options(options, fn):
    """Run fn with the same print options set on both sides; restore both afterwards."""
    saved_torch = torch._tensor_str.get_printoptions()
    saved_mine = _printing.get_printoptions()
    try:
        torch.set_printoptions(**options)
        cr.set_printoptions(**options)
        return fn()
    finally:
        torch.set_printoptions(**saved_torch)
        cr.set_printoptions(**saved_mine)


def assert_same(a, options=None, requires_grad=False):
    expected, got, got_str = with_options(options or {}, lambda: both_reprs(a, requires_grad))
    assert got == expected, f"\nchainrule:\n{got}\ntorch:\n{expected}"
    assert got_str == got


# ------------------------------------------------------------------ the generated corpus
def make_array(dtype, shape, seed, kind, lo_exp, hi_exp, special_frac):
    """Values of one dtype and shape, from a seeded stream (fast to draw, rich in cases)."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    if dtype == "bool":
        return (rng.random(n) < 0.5).reshape(shape)
    np_dtype = np.dtype(dtype)
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        bound = min(int(info.max), 10 ** hi_exp) if kind != "wide" else int(info.max)
        low = 0 if np_dtype.kind == "u" else -bound
        return rng.integers(low, bound, size=n, endpoint=True, dtype=np_dtype).reshape(shape)
    sign = rng.choice([-1.0, 1.0], size=n)
    if kind == "whole":       # integers stored as floats: integer mode
        values = np.round(sign * 10 ** rng.uniform(0, max(hi_exp, 0), size=n))
    elif kind == "uniform":
        values = sign * rng.random(n) * 10.0 ** hi_exp
    elif kind == "few":       # a handful of distinct values, repeated
        values = rng.choice([0.5, 1.0, 2.0, 100.0, -3.25, 1e-3], size=n)
    else:                     # log-uniform magnitudes between 10**lo_exp and 10**hi_exp
        values = sign * 10.0 ** rng.uniform(min(lo_exp, hi_exp), max(lo_exp, hi_exp), size=n)
    special = rng.random(n) < special_frac
    values[special] = rng.choice(SPECIALS, size=int(special.sum()))
    with np.errstate(over="ignore"):      # float16 overflows to inf, as it does in torch
        return values.astype(np_dtype).reshape(shape)


small_dim = st.integers(0, 5) | st.just(1)
shapes = st.one_of(
    st.lists(small_dim, min_size=0, max_size=4).map(tuple),          # 0-d .. 4-d, empty, size-1
    st.tuples(st.integers(0, 40)),                                     # long rows that wrap
    st.tuples(st.integers(1, 12), st.integers(1, 30)),
    st.sampled_from([(1001,), (3, 400), (2, 3, 200), (1100, 1), (2000,)]),  # past the threshold
)
options = st.fixed_dictionaries({}, optional={
    "precision": st.integers(0, 8),
    "threshold": st.integers(0, 60) | st.sampled_from([1000, math.inf]),
    "edgeitems": st.integers(0, 5),
    "linewidth": st.integers(5, 160),
    "sci_mode": st.sampled_from([None, True, False]),
    "profile": st.sampled_from(["default", "short", "full"]),
})


@settings(max_examples=2400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(dtype=st.sampled_from(DTYPES + ["float16", "float32", "float32", "float64"] * 2), shape=shapes, seed=st.integers(0, 2**32 - 1),
       kind=st.sampled_from(["log", "log", "whole", "uniform", "few", "wide"]),
       lo_exp=st.integers(-10, 10), hi_exp=st.integers(-10, 10),
       special_frac=st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0]),
       options=options, requires_grad=st.booleans())
def test_repr_matches_torch_on_a_generated_corpus(dtype, shape, seed, kind, lo_exp, hi_exp,
                                                  special_frac, options, requires_grad):
    a = make_array(dtype, shape, seed, kind, lo_exp, hi_exp, special_frac)
    assert_same(a, options, requires_grad=requires_grad and a.dtype.kind == "f")


# ------------------------------------------------------------------ named cases
@pytest.mark.parametrize("values", [
    [102.4, 1024.0, 0.1024],                  # ratio > 1000: scientific notation
    [float(i) + 0.5 for i in range(9)],       # 9 numbers of width 6: 9 per line, no wrap
    [float(i) + 0.5 for i in range(20)],      # wraps at 9 per line
    [1e-10, 1e10, -1e-5],
    [0.0, -0.0, float("nan"), float("inf"), -float("inf")],
    [-0.0, 1.0],
    [1e8, 1.0],
    [123456789.0],
    [1.5],
    3.5,
])
def test_named_values(values):
    assert_same(np.array(values, np.float32))


def test_summarised_tensor_is_formatted_from_the_shown_values_only():
    a = np.arange(2000, dtype=np.float32) + 0.5       # hidden values are not whole numbers...
    a[:3], a[-3:] = [1, 2, 3], [4, 5, 6]              # ...but the shown ones are
    assert repr(cr.tensor(a)) == "tensor([1., 2., 3.,  ..., 4., 5., 6.])"
    assert_same(a)


def test_integer_bool_and_empty_tensors():
    assert_same(np.arange(-5, 40, dtype=np.int64).reshape(3, 15))
    assert_same(np.array([True, False, True]))
    assert_same(np.array(7, np.uint8))
    for dtype in DTYPES:
        assert_same(np.zeros((0,), dtype))
        assert_same(np.zeros((2, 0, 3), dtype))
    assert repr(cr.zeros(0, 3)) == "tensor([], size=(0, 3))"


def test_three_d_blank_lines_and_float64_suffix():
    a = np.linspace(-1, 1, 24).reshape(2, 3, 4)
    assert_same(a)
    assert repr(cr.tensor(a)).endswith("dtype=chainrule.float64)")
    assert "\n\n" in repr(cr.tensor(a))


def test_requires_grad_and_grad_fn_suffixes():
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(y) == f"tensor([2., 4.], grad_fn=<{y.grad_fn.name()}>)"
    # a long grad_fn suffix moves to its own line exactly where torch moves it
    x = np.linspace(0, 1, 60, dtype=np.float32).reshape(6, 10)
    ref = torch.from_numpy(x.copy()).requires_grad_() * 2
    mine = cr.tensor(x, requires_grad=True) * 2
    expected = repr(ref).replace(f"<{type(ref.grad_fn).__name__}>", f"<{mine.grad_fn.name()}>")
    assert repr(mine) == expected


def test_parameter_repr():
    ref = torch.nn.Parameter(torch.tensor([[0.25, -1.5], [2.0, 3.0]]))
    mine = cr.nn.Parameter(cr.tensor([[0.25, -1.5], [2.0, 3.0]]))
    assert repr(mine) == repr(ref)
    assert repr(mine).startswith("Parameter containing:\ntensor(")


def test_dual_tensor_shows_its_tangent():
    fwd = cr.autograd.forward_ad
    with fwd.dual_level():
        dual = fwd.make_dual(cr.tensor([1.0, 2.0]), cr.tensor([0.5, 0.25]))
        text = repr(dual)
    with torch.autograd.forward_ad.dual_level():
        ref = torch.autograd.forward_ad.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.25]))
        assert text == repr(ref)


# ------------------------------------------------------------------ the options themselves
def test_set_printoptions_profiles_and_overrides_follow_torch():
    saved = _printing.get_printoptions()
    try:
        for kwargs in [dict(profile="short"), dict(profile="full", precision=6), dict(edgeitems=1),
                       dict(sci_mode=True), dict(), dict(profile="default", linewidth=40)]:
            torch.set_printoptions(**kwargs)
            cr.set_printoptions(**kwargs)
            assert _printing.get_printoptions() == torch._tensor_str.get_printoptions()
    finally:
        torch.set_printoptions(profile="default")
        cr.set_printoptions(**saved)


def test_printoptions_context_manager_restores():
    before = _printing.get_printoptions()
    with _printing.printoptions(precision=1, sci_mode=False):
        assert repr(cr.tensor([1.25, 3.0])) == "tensor([1.2, 3.0])"
    assert _printing.get_printoptions() == before
    assert repr(cr.tensor([1.25, 3.0])) == "tensor([1.2500, 3.0000])"


def test_unknown_profile_is_an_error():
    before = _printing.get_printoptions()
    with pytest.raises(ValueError, match="profile must be one of 'default', 'short', 'full', got 'ful'"):
        cr.set_printoptions(profile="ful")
    assert _printing.get_printoptions() == before


def test_format_as_torch():
    """f"{t}" of a 0-d tensor is its number (f"loss {loss:.3f}" in every training loop)."""
    for value in (3.5, 2, True, 0.123456):
        for spec in ("", ".3f", ">8"):
            if isinstance(value, bool) and spec == ".3f":
                continue
            assert format(cr.tensor(value), spec) == format(torch.tensor(value), spec)
    assert format(cr.tensor([3.5])) == format(torch.tensor([3.5]))
    with pytest.raises(TypeError, match="unsupported format string"):
        format(cr.tensor([1.0]), ">20")
