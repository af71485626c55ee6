"""Differences from torch found by running torch-mlir's end-to-end op suite through chainrule
(tools/mlir_suite.py), each fixed and pinned here against torch."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, to_np

RNG = np.random.default_rng(0)
F64 = lambda *s: RNG.standard_normal(s)                       # noqa: E731
BIG = np.array([9223372036854775806, -9223372036854775807, 1073741824, -3, 8589934591 * 3, -7])


def same(c, t):
    """Equal values, shape and dtype (exactly: integer results)."""
    assert str(c.dtype).split(".")[1] == str(t.dtype).split(".")[1], (c.dtype, t.dtype)
    assert tuple(c.shape) == tuple(t.shape), (c.shape, t.shape)
    np.testing.assert_array_equal(to_np(c), to_np(t))


def both(fn, *arrays):
    """``fn`` run on chainrule and on torch with the same arrays; the two results compared."""
    same(fn(cr, *(cr.tensor(a) for a in arrays)), fn(torch, *(torch.tensor(a) for a in arrays)))


# ------------------------------------------------------------------ exact integer division
INT_DIV = {
    "trunc by scalar": lambda m, a: m.div(a, 1073741824, rounding_mode="trunc"),
    "trunc by 3": lambda m, a: m.div(a, 3, rounding_mode="trunc"),
    "trunc by -3": lambda m, a: m.div(a, -3, rounding_mode="trunc"),
    "trunc by tensor": lambda m, a: m.div(a, m.tensor([7, -7, 3, 2, -5, 1]), rounding_mode="trunc"),
    "floor by -3": lambda m, a: m.div(a, -3, rounding_mode="floor"),
    "floor_divide": lambda m, a: m.floor_divide(a, 5),
    "remainder": lambda m, a: m.remainder(a, -7),
    "fmod": lambda m, a: m.fmod(a, -7),
    "int8 trunc": lambda m, a: m.div((a % 100).to(m.int8), m.tensor(-7, dtype=m.int8),
                                     rounding_mode="trunc"),
}


@pytest.mark.parametrize("name", list(INT_DIV))
def test_integer_division_exact(name):
    both(INT_DIV[name], BIG)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_integer_division_errors(mode):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        cr.div(cr.tensor([4, 5]), cr.tensor([1, 0]), rounding_mode=mode)
    with pytest.raises(NotImplementedError, match=f"div_{mode}_cpu.*Bool"):
        cr.div(cr.tensor([True]), cr.tensor([True]), rounding_mode=mode)


# ------------------------------------------------------------------ repeat_interleave dtypes
@pytest.mark.parametrize("fn", [
    lambda m: m.repeat_interleave(m.tensor([1, 0, 3], dtype=m.int32)),
    lambda m: m.repeat_interleave(m.tensor([1, 0, 3])),
    lambda m: m.repeat_interleave(m.tensor([1, 2], dtype=m.int16), m.tensor([2, 1], dtype=m.int32)),
    lambda m: m.repeat_interleave(m.tensor([[1., 2.]]), 2, dim=1),
])
def test_repeat_interleave_dtype(fn):
    same(fn(cr), fn(torch))


def test_repeat_interleave_errors():
    for counts in (cr.tensor([1, 2], dtype=cr.uint8), cr.tensor([1., 2.])):
        with pytest.raises(NotImplementedError, match="repeat_interleave_cpu"):
            cr.repeat_interleave(counts)
    with pytest.raises(NotImplementedError, match="'Char'"):
        cr.repeat_interleave(cr.tensor([1., 2.]), cr.tensor([1, 2], dtype=cr.int8))
    with pytest.raises(RuntimeError, match="1D vector"):
        cr.repeat_interleave(cr.tensor(3))


# ------------------------------------------------------------------ factory options
X = lambda m: m.zeros(2, 3)                                    # noqa: E731
FACTORIES = {
    "empty": lambda m, **k: m.empty(2, 3, **k), "zeros": lambda m, **k: m.zeros(2, 3, **k),
    "ones": lambda m, **k: m.ones(size=(2,), **k), "full": lambda m, **k: m.full((2,), 1.5, **k),
    "arange": lambda m, **k: m.arange(0, 5, 2, **k), "eye": lambda m, **k: m.eye(3, 2, **k),
    "linspace": lambda m, **k: m.linspace(0, 1, 3, **k),
    "logspace": lambda m, **k: m.logspace(0, 1, 3, **k),
    "randint": lambda m, **k: m.randint(0, 5, (3,), **k), "rand": lambda m, **k: m.rand(2, **k),
    "randn": lambda m, **k: m.randn(2, **k), "randperm": lambda m, **k: m.randperm(4, **k),
    "empty_like": lambda m, **k: m.empty_like(X(m), **k),
    "zeros_like": lambda m, **k: m.zeros_like(X(m), **k),
    "ones_like": lambda m, **k: m.ones_like(X(m), **k),
    "full_like": lambda m, **k: m.full_like(X(m), 2., **k),
    "rand_like": lambda m, **k: m.rand_like(X(m), **k),
    "randn_like": lambda m, **k: m.randn_like(X(m), **k),
    "randint_like": lambda m, **k: m.randint_like(X(m), 0, 4, **k),
    "empty_strided": lambda m, **k: m.empty_strided((2, 3), (3, 1), **k),
    "empty_permuted": lambda m, **k: m.empty_permuted((2, 3), (1, 0), **k),
    "scalar_tensor": lambda m, **k: m.scalar_tensor(2, **k),
    "tril_indices": lambda m, **k: m.tril_indices(3, 3, **k),
    "hann_window": lambda m, **k: m.hann_window(4, **k),
    "new_empty": lambda m, **k: X(m).new_empty((2,), **k),
    "new_zeros": lambda m, **k: X(m).new_zeros(2, **k),
    "new_ones": lambda m, **k: X(m).new_ones((2,), **k),
    "new_full": lambda m, **k: X(m).new_full((2,), 3., **k),
    "new_empty_strided": lambda m, **k: X(m).new_empty_strided((2,), (1,), **k),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factory_layout_and_pin_memory(name):
    fn = FACTORIES[name]
    for kw in (dict(layout=None), dict(pin_memory=False, requires_grad=False, device="cpu")):
        c, t = fn(cr, **kw), fn(torch, **kw)
        assert tuple(c.shape) == tuple(t.shape) and str(c.dtype)[10:] == str(t.dtype)[6:]
    c = fn(cr, layout=cr.strided, pin_memory=None)
    assert c.layout is cr.strided and fn(torch, layout=torch.strided).layout is torch.strided
    with pytest.raises(RuntimeError, match="pin_memory=True requires a CUDA"):
        fn(torch, pin_memory=True)
    with pytest.raises(RuntimeError, match=f"{name}: pin_memory=True requires a CUDA"):
        fn(cr, pin_memory=True)
    with pytest.raises(RuntimeError, match=f"{name}: layout chainrule.sparse_coo is not supp"):
        fn(cr, layout=cr.layout("sparse_coo"))


def test_tensor_pin_memory():
    assert cr.tensor([1.], pin_memory=False).tolist() == [1.]
    with pytest.raises(RuntimeError, match="pin_memory=True"):
        cr.tensor([1.], pin_memory=True)
    assert repr(cr.strided) == "chainrule.strided" and cr.zeros(1).layout is cr.strided


# ------------------------------------------------------------------ range factories' out=
@pytest.mark.parametrize("fn", [
    lambda m, o: m.arange(start=1, end=13, out=o),
    lambda m, o: m.arange(12, out=o.t()),
    lambda m, o: m.linspace(0, 11, 12, out=o),
    lambda m, o: m.logspace(0, 1, 12, out=o),
    lambda m, o: m.linspace(0, 1, 9, out=o),
])
def test_range_out_keeps_shape(fn):
    c, t = cr.zeros(3, 4, dtype=cr.float64), torch.zeros(3, 4, dtype=torch.float64)
    rc, rt = fn(cr, c), fn(torch, t)
    np.testing.assert_allclose(to_np(rc), to_np(rt), rtol=1e-12)
    assert tuple(rc.shape) == tuple(rt.shape)


def test_arange_out_resized_warns():
    for m in (cr, torch):
        o = m.zeros(3, 4, dtype=m.int64)
        with pytest.warns(UserWarning, match="out tensor will be resized to a tensor of shape"):
            m.arange(1, 10, out=o)
        assert tuple(o.shape) == (9,) and o.tolist() == list(range(1, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cr.arange(1, 13, out=cr.zeros(3, 4, dtype=cr.int64))


# ------------------------------------------------------------------ as_strided on views
AS_STRIDED = {
    "nested explicit offset": lambda m, x: m.as_strided(m.as_strided(x, (2,), (1,), 2),
                                                         (2,), (1,), 0),
    "nested own offset": lambda m, x: m.as_strided(m.as_strided(x, (3,), (2,), 3), (2,), (1,)),
    "slice, own offset": lambda m, x: m.as_strided(x[3:], (2,), (2,)),
    "slice, absolute offset": lambda m, x: m.as_strided(x[3:], (3,), (2,), 1),
    "expanded view": lambda m, x: m.as_strided(x[:4].expand(2, 4), (2, 2), (1, 3), 1),
    "narrow 2-d": lambda m, x: m.as_strided(x.reshape(2, 5).narrow(1, 1, 2), (2, 3), (5, 1)),
    "method": lambda m, x: x[2:].as_strided((2, 2), (1, 2), 4),
}


@pytest.mark.parametrize("name", list(AS_STRIDED))
def test_as_strided_of_views(name):
    check(lambda x: AS_STRIDED[name](cr, x), lambda x: AS_STRIDED[name](torch, x), F64(10))


def test_as_strided_storage_offset():
    for m in (cr, torch):
        v = m.as_strided(m.arange(10.), (2,), (1,), 2)
        assert v.storage_offset() == 2 and v.as_strided((1,), (1,)).tolist() == [2.]


# ------------------------------------------------------------------ half-precision norms
HALF_NORMS = {
    "instance_norm": lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b),
    "instance_norm no affine": lambda m, x, w, b: m.nn.functional.instance_norm(x, eps=1e-3),
    "batch_norm": lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, True),
    "batch_norm eval": lambda m, x, w, b: m.nn.functional.batch_norm(x, w, b + 0.5, b, w,
                                                                     eps=0.5),
    "batch_norm eval 4-d": lambda m, x, w, b: m.nn.functional.batch_norm(
        x.reshape(x.shape[0], x.shape[1], -1, 1), w, b, eps=1e-5),
}


@pytest.mark.parametrize("name", list(HALF_NORMS))
@pytest.mark.parametrize("shape", [(2, 4, 3000), (1, 3, 70000), (3, 2, 5)])
def test_half_precision_norm_bit_for_bit(name, shape):
    # torch rounds μ and 1/σ to float16 and fuses x·a + t: its values exactly
    x = (RNG.random(shape) * 3 - 1).astype(np.float16)
    w, b = (RNG.random(shape[1]).astype(np.float16) for _ in range(2))
    c = HALF_NORMS[name](cr, *(cr.tensor(a) for a in (x, w, b)))
    same(c, HALF_NORMS[name](torch, *(torch.tensor(a) for a in (x, w, b))))


def test_half_precision_instance_norm_backward():
    x = (RNG.random((2, 3, 50)) * 2).astype(np.float16)
    w, g = RNG.random(3).astype(np.float16), RNG.standard_normal((2, 3, 50)).astype(np.float16)
    grads = []
    for m in (cr, torch):
        xs, ws = m.tensor(x, requires_grad=True), m.tensor(w, requires_grad=True)
        m.nn.functional.instance_norm(xs, weight=ws).backward(m.tensor(g))
        grads.append([to_np(t.grad).astype(np.float32) for t in (xs, ws)])
    for a, e in zip(*grads):
        np.testing.assert_allclose(a, e, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("make", [lambda m: m.linspace(5, 10, 3, dtype=m.bool),
                                  lambda m: m.logspace(5, 10, 3, dtype=m.bool),
                                  lambda m: m.arange(3, dtype=m.bool)])
def test_bool_ranges_refused(make):
    # torch has no bool kernel for a range (tinygrad's test_linspace expects the error)
    with pytest.raises(NotImplementedError) as expected:
        make(torch)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'") as got:
        make(cr)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("stride, padding", [((1,), [1]), ([2], (0,))])
def test_conv2d_one_element_lists(stride, padding):
    # ATen expands a one-element stride/padding to every spatial dim (torch-mlir's case)
    x, w = RNG.standard_normal((1, 2, 6, 6)), RNG.standard_normal((3, 2, 3, 3))
    for conv in ("conv2d", "conv_transpose2d"):
        weight = w if conv == "conv2d" else w.transpose(1, 0, 2, 3).copy()
        c, t = (getattr(m.nn.functional, conv)(m.tensor(x), m.tensor(weight), stride=stride,
                                                 padding=padding) for m in (cr, torch))
        assert tuple(c.shape) == tuple(t.shape)
        np.testing.assert_allclose(to_np(c), to_np(t), rtol=1e-10, atol=1e-10)
