"""Differences from torch found by running torch's own OpInfo samples through chainrule
(tools/opinfo_sweep.py), each fixed and pinned here against torch.

Each case is one function of the library module (chainrule or torch) and its tensors, so the
same line runs under both; ``check`` compares values, dtypes and gradients."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check, to_np

RNG = np.random.default_rng(0)
F64 = lambda *s: RNG.standard_normal(s)                       # noqa: E731
I64 = lambda *s: RNG.integers(-4, 5, s)                        # noqa: E731
B = lambda *s: RNG.random(s) > 0.5                             # noqa: E731


def F(m):
    return m.nn.functional


CASES = {
    # the add-product family on integer operands: float scalars truncate toward zero
    "addmv int": (lambda m, i, a, v: m.addmv(i, a, v, beta=1.7, alpha=2.6), I64(5), I64(5, 3),
                  I64(3)),
    "addmm int": (lambda m, i, a, b: m.addmm(i, a, b, beta=0.2, alpha=3.9), I64(2, 4), I64(2, 3),
                  I64(3, 4)),
    "baddbmm int": (lambda m, i, a, b: m.baddbmm(i, a, b, beta=2.5), I64(2, 3, 4), I64(2, 3, 5),
                    I64(2, 5, 4)),
    "addbmm int": (lambda m, i, a, b: m.addbmm(i, a, b, alpha=1.5), I64(3, 4), I64(2, 3, 5),
                   I64(2, 5, 4)),
    "addr bool": (lambda m, i, a, b: m.addr(i, a, b, beta=3, alpha=2), B(4, 5), B(4), B(5)),
    "addr bool alpha 0": (lambda m, i, a, b: m.addr(i, a, b, alpha=0), B(4, 5), B(4), B(5)),
    "addr int": (lambda m, i, a, b: m.addr(i, a, b, beta=2, alpha=-3), I64(4, 5), I64(4),
                 I64(5)),
    # one variable: torch squeezes the covariance to 0-d
    "cov one row": (lambda m, x: m.cov(x), F64(1, 6)),
    "cov one row weights": (lambda m, x, w: m.cov(x, aweights=w), F64(1, 6), RNG.random(6)),
    "corrcoef one row": (lambda m, x: m.corrcoef(x), F64(1, 6)),
    "diff n=0 ignores the ends": (lambda m, x, p: m.diff(x, n=0, dim=0, prepend=p), F64(3, 4),
                                  F64(2, 4)),
    "gradient spacing None": (lambda m, x: m.gradient(x, spacing=None)[0], F64(6)),
    "index_select 0-d": (lambda m, x, i: m.index_select(x, 0, i), F64(), np.array([0])),
    "index_fill 0-d": (lambda m, x, i: m.index_fill(x, -1, i, 2.5), F64(), np.array([-1])),
    "take_along_dim negative": (lambda m, x, i: m.take_along_dim(x, i, 1), F64(2, 5),
                                np.array([[-5, -1, 2]])),
    "std unbiased positional": (lambda m, x: m.std(x, False), F64(3, 4)),
    "var unbiased positional": (lambda m, x: m.var(x, True), F64(3, 4)),
    "var_mean unbiased positional": (lambda m, x: m.var_mean(x, False)[0], F64(3, 4)),
    "std_mean unbiased positional": (lambda m, x: m.std_mean(x, True)[1], F64(3, 4)),
    "prod bool dtype": (lambda m, x: m.prod(x, 1, dtype=m.bool), B(4, 3)),
    "sum bool dtype": (lambda m, x: m.sum(x, 0, dtype=m.bool), B(4, 3)),
    "prod 0-d bool dtype": (lambda m, x: m.prod(x, 0, dtype=m.bool), np.array(True)),
    "scatter_add 0-d bool": (lambda m, x, i, s: m.scatter_add(x, 0, i, s), np.array(True),
                             np.array(0), np.array(True)),
    "tensordot size-1 contracted": (lambda m, a, b: m.tensordot(a, b, ([0, 1], [2, 0])),
                                    F64(1, 1, 1), F64(2, 1, 2)),
    "tensordot size-1 other side": (lambda m, a, b: m.tensordot(a, b, ([1], [0])),
                                    F64(2, 3), F64(1, 4)),
    "matmul empty k": (lambda m, a, b: m.matmul(a, b), F64(5, 5, 0), F64(0, 5)),
    "gather empty index": (lambda m, x, i: m.gather(x, 0, i), F64(5), np.zeros((2, 0), np.int64)),
    # torch's 1-D and 2-D transposed convolutions add the bias in place: the output keeps
    # the input's dtype
    "conv_transpose2d float64 bias": (lambda m, x, w, b: F(m).conv_transpose2d(x, w, b),
                                      F64(1, 2, 3, 3).astype(np.float32),
                                      F64(2, 1, 2, 2).astype(np.float32), F64(1)),
    "conv_transpose1d float64 bias": (lambda m, x, w, b: F(m).conv_transpose1d(x, w, b),
                                      F64(1, 2, 3).astype(np.float32),
                                      F64(2, 1, 2).astype(np.float32), F64(1)),
    # torch's kl_div is xlogy(y, y) − y·x: nan for a negative or nan target (was 0)
    "kl_div negative and nan targets": (
        lambda m, x, y: F(m).kl_div(x, y, reduction="none"),
        np.array([0.3, -0.2, 0.5, np.nan, 0.1, 0.7]), np.array([0., 0.4, -0.3, 0.2, np.nan, 0.])),
    "kl_div sum": (lambda m, x, y: F(m).kl_div(x, y, reduction="sum"), F64(3, 4),
                   RNG.random((3, 4))),
    # gaussian_nll_loss: var may be 1 in any one dim where the input is not
    "gaussian_nll_loss var (1, 3)": (lambda m, x, y, v: F(m).gaussian_nll_loss(x, y, v),
                                     F64(4, 3), F64(4, 3), RNG.random((1, 3)) + 0.5),
    "gaussian_nll_loss var (4, 1, 5)": (lambda m, x, y, v: F(m).gaussian_nll_loss(x, y, v),
                                        F64(4, 2, 5), F64(4, 2, 5), RNG.random((4, 1, 5)) + 0.5),
    # erfcx of a large negative number is +inf (the e^{x²} correction term made it −inf)
    "erfcx far left": (lambda m, x: m.special.erfcx(x), np.array([-1e20, -1e10, -27.0, -26.0])),
    # multi_margin_loss of a 0-d input (one class) raised IndexError
    "multi_margin_loss 0-d": (lambda m, x, y: F(m).multi_margin_loss(
        x, y, weight=m.tensor([2.0], dtype=m.float64), reduction="none"), F64(), np.array(0)),
    "multi_margin_loss 1-D": (lambda m, x, y: F(m).multi_margin_loss(x, y, p=2), F64(4),
                              np.array(2)),
    "multi_margin_loss 1-D, target (1,)": (lambda m, x, y: F(m).multi_margin_loss(
        x, y, reduction="none"), F64(5), np.array([3])),
    "mvlgamma below its domain": (lambda m, x: m.mvlgamma(x, 2), np.array([0.2, 0.5, 3.0])),
    # torch differentiates nextafter: 1 for input, 0 for other
    "nextafter gradients": (lambda m, a, b: m.nextafter(a, b), F64(3, 4), F64(4)),
    "narrow tensor start": (lambda m, x, s: m.narrow(x, 0, s, 2), F64(5), np.array(1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_like_torch(name):
    fn, *arrays = CASES[name]
    arrays = [np.asarray(a) for a in arrays]
    check(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), *arrays)


@pytest.mark.parametrize("args", [(4.3, -3, 50), (0, 10, 7), (-2.7, 2.7, 6), (5, 5, 3), (1, 2, 1)])
def test_integer_linspace(args):
    assert cr.linspace(*args, dtype=cr.int64).tolist() == \
        torch.linspace(*args, dtype=torch.int64).tolist()


@pytest.mark.parametrize("args", [(0, 1.2, 4), (0, 1.2, 2, 5.0), (-1, 3.9, 5, 2.0), (0, 2, 1)])
def test_integer_logspace(args):
    assert cr.logspace(*args, dtype=cr.int64).tolist() == \
        torch.logspace(*args, dtype=torch.int64).tolist()


def test_logspace_float32_tensor_end_in_float64():
    # the 0-d tensor's float32 value, then float64 arithmetic, as torch
    c = cr.logspace(0, cr.tensor(1.7), 3, dtype=cr.float64)
    t = torch.logspace(0, torch.tensor(1.7), 3, dtype=torch.float64)
    np.testing.assert_allclose(to_np(c), t.numpy(), rtol=1e-14)


def test_two_python_numbers():
    # torch's add, sub, mul, div, floor_divide read the first number as a 0-d tensor
    for name, args, kwargs in [("add", (2.0, 3), {}), ("add", (2, 3), dict(alpha=2)),
                               ("sub", (2, 3.5), {}), ("mul", (True, 3), {}),
                               ("div", (7, 2), {}), ("div", (7, 2), dict(rounding_mode="floor")),
                               ("true_divide", (2.0, 3), {}), ("floor_divide", (7.5, 2), {})]:
        c, t = getattr(cr, name)(*args, **kwargs), getattr(torch, name)(*args, **kwargs)
        assert c.item() == t.item() and str(c.dtype) == str(t.dtype).replace("torch", "chainrule")


ERRORS = {
    "hstack of nothing": lambda m: m.hstack([]),
    "vstack of nothing": lambda m: m.vstack(()),
    "dstack of nothing": lambda m: m.dstack([]),
    "column_stack of nothing": lambda m: m.column_stack([]),
    "isclose negative rtol": lambda m: m.isclose(m.ones(2), m.ones(2), rtol=-1),
    "isclose negative atol": lambda m: m.isclose(m.ones(2), m.ones(2), atol=-1e-3),
    "addr float beta on ints": lambda m: m.addr(m.ones(2, 2, dtype=m.int64),
                                                m.ones(2, dtype=m.int64),
                                                m.ones(2, dtype=m.int64), beta=0.5),
    "index_select 0-d two indices": lambda m: m.index_select(m.tensor(3.), 0, m.tensor([0, 0])),
    "conv2d bias dtype": lambda m: F(m).conv2d(m.ones(1, 1, 4, 4), m.ones(1, 1, 2, 2),
                                               m.ones(1, dtype=m.float64)),
    "conv2d int input, float64 bias": lambda m: F(m).conv2d(
        m.ones(1, 1, 4, 4, dtype=m.int64), m.ones(1, 1, 2, 2, dtype=m.int64),
        m.ones(1, dtype=m.float64)),
    "conv1d bias dtype": lambda m: F(m).conv1d(m.ones(1, 1, 4), m.ones(1, 1, 2),
                                               m.ones(1, dtype=m.float64)),
    "conv3d bias dtype": lambda m: F(m).conv3d(m.ones(1, 1, 3, 3, 3), m.ones(1, 1, 2, 2, 2),
                                               m.ones(1, dtype=m.float64)),
    "conv_transpose2d float bias on ints": lambda m: F(m).conv_transpose2d(
        m.ones(1, 1, 3, 3, dtype=m.int64), m.ones(1, 1, 2, 2, dtype=m.int64),
        m.ones(1, dtype=m.float64)),
    "conv_transpose1d float bias on ints": lambda m: F(m).conv_transpose1d(
        m.ones(1, 1, 3, dtype=m.int64), m.ones(1, 1, 2, dtype=m.int64),
        m.ones(1, dtype=m.float64)),
    "conv_transpose3d bias dtype": lambda m: F(m).conv_transpose3d(
        m.ones(1, 1, 3, 3, 3), m.ones(1, 1, 2, 2, 2), m.ones(1, dtype=m.float64)),
    "adaptive_avg_pool2d 2-D input, pair": lambda m: F(m).adaptive_avg_pool2d(m.ones(2, 2),
                                                                             (2, 2)),
    "adaptive_max_pool2d empty output_size": lambda m: F(m).adaptive_max_pool2d(
        m.ones(1, 2, 3, 4), ()),
    "adaptive_avg_pool3d 3-D input, triple": lambda m: F(m).adaptive_avg_pool3d(
        m.ones(2, 2, 2), (2, 2, 2)),
    "narrow 0-d": lambda m: m.narrow(m.tensor(1.), 0, 0, 1),
    # pooling: only the batch dim may be empty
    "max_pool1d no channels": lambda m: F(m).max_pool1d(m.zeros(0, 10), 1),
    "max_pool3d empty depth": lambda m: F(m).max_pool3d(m.zeros(0, 1, 2, 10), 1),
    "atan2 of two numbers": lambda m: m.atan2(2.0, 3.0),
    # torch's loss weights are constants: one requiring grad raises (it had no gradient)
    "bce_with_logits weight requiring grad": lambda m: F(m).binary_cross_entropy_with_logits(
        m.zeros(3, 4), m.ones(3, 4), weight=m.ones(4, requires_grad=True)),
    "bce_with_logits pos_weight requiring grad": lambda m: F(m).binary_cross_entropy_with_logits(
        m.zeros(3, 4), m.ones(3, 4), pos_weight=m.ones(4, requires_grad=True)),
    # the reduction is checked first, as torch's get_enum; a float target is named as such
    "multi_margin_loss bad reduction": lambda m: F(m).multi_margin_loss(
        m.zeros(5, 4), m.zeros(5), reduction="abc"),
    "multilabel_margin_loss float target": lambda m: F(m).multilabel_margin_loss(
        m.zeros(5, 4), m.zeros(5, 4)),
    "multilabel_margin_loss empty vector": lambda m: F(m).multilabel_margin_loss(
        m.zeros(0), m.zeros(0, dtype=m.int64)),
    "kl_div bad reduction": lambda m: F(m).kl_div(m.zeros(3), m.zeros(3), reduction="avg"),
    "bce weight requiring grad": lambda m: F(m).binary_cross_entropy(
        m.full((3, 4), 0.5), m.ones(3, 4), weight=m.ones(4, requires_grad=True)),
    "gaussian_nll_loss var 1 in two dims": lambda m: F(m).gaussian_nll_loss(
        m.ones(4, 3), m.ones(4, 3), m.ones(1, 1)),
    "narrow bool start": lambda m: m.narrow(m.ones(5), 0, m.tensor(True), 2),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_like_torch(name):
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch)
    with pytest.raises(expected.type):
        ERRORS[name](cr)


@pytest.mark.parametrize("kwargs", [dict(weight_decay=0.5), dict(weight_decay=0.1, maximize=True),
                                    dict(momentum=0.9, weight_decay=0.1),
                                    dict(momentum=0.9, nesterov=True, weight_decay=0.1), {}])
def test_sgd_on_a_0d_parameter(kwargs):
    # torch.optim's optim_db: SGD's weight decay on a learnable scalar raised TypeError
    values = {}
    for m in (cr, torch):
        p = m.tensor(1.5, dtype=m.float64, requires_grad=True)
        opt = m.optim.SGD([p], lr=0.1, **kwargs)
        for target in (0.3, -0.2, 0.9, 0.1):
            opt.zero_grad()
            ((p - target) ** 2).backward()
            opt.step()
        values[m] = p.item()
    assert values[cr] == pytest.approx(values[torch], rel=1e-14)


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_jvp_through_a_0d_float64_operand(name):
    # the rule I(a > b) + ½·I(a = b) came out float32 and rounded the 0-d operand's tangent
    a, b = F64(5), np.array(0.2)
    ta, tb = F64(5), np.array(0.123456789012345)
    out = {}
    for m in (cr, torch):
        fn = getattr(m, name)
        out[m] = m.func.jvp(fn, (m.tensor(a), m.tensor(b)), (m.tensor(ta), m.tensor(tb)))[1]
    np.testing.assert_allclose(to_np(out[cr]), to_np(out[torch]), rtol=1e-15)


@pytest.mark.parametrize("args, dtype", [((0.0, -8.000001, -4.0), "int32"),
                                         ((1.0, 5.000001, 2.0), "int32"),
                                         ((0.2, 7.9, 2.6), "int64"), ((0, 5, 2.5), "int64"),
                                         ((5, 1.5, -1), "uint8"), ((2**62, 2**62 + 7, 3), "int64")])
def test_integer_arange_length(args, dtype):
    # int64 takes its length from the truncated ends, narrower integer dtypes from the given
    # values (torch's kernel); pure ints in exact integer arithmetic
    assert cr.arange(*args, dtype=getattr(cr, dtype)).tolist() == \
        torch.arange(*args, dtype=getattr(torch, dtype)).tolist()


def test_negative_alpha_on_unsigned_wraps():
    # torch converts alpha to the dtype as C does (−3 as uint8 is 253); NumPy 2 raised
    x, y = np.array([1, 2, 3], np.uint8), np.array([5, 6, 7], np.uint8)
    for name, kw in [("add", dict(alpha=-3)), ("sub", dict(alpha=-2))]:
        assert getattr(cr, name)(cr.tensor(x), cr.tensor(y), **kw).tolist() == \
            getattr(torch, name)(torch.tensor(x), torch.tensor(y), **kw).tolist()
    c = cr.zeros(3, dtype=cr.uint8).index_add(0, cr.tensor([0, 1]), cr.tensor(y[:2]), alpha=-1)
    t = torch.zeros(3, dtype=torch.uint8).index_add(0, torch.tensor([0, 1]),
                                                    torch.tensor(y[:2]), alpha=-1)
    assert c.tolist() == t.tolist()


@pytest.mark.parametrize("ord", [2, 6, 1, 0.5])
def test_half_vector_norm_accumulates_in_float32(ord):
    # Σ|x|^ord of these float16 values overflows float16; torch accumulates in float32
    x = np.array([300.0, 200.0, 10.0], np.float16)
    c = cr.linalg.vector_norm(cr.tensor(x), ord)
    t = torch.linalg.vector_norm(torch.tensor(x), ord)
    assert c.dtype == cr.float16 and c.item() == t.item()


@pytest.mark.parametrize("eq, shapes, dtype", [
    ("i->", [(3,)], np.int32), ("ij->i", [(2, 3)], np.int32), ("ii->", [(2, 2)], np.int32),
    ("i->", [(3,)], np.bool_), ("ij->j", [(2, 3)], np.uint8),
    ("ik,j->ij", [(2, 3), (3,)], np.int32),
    ("ij->ij", [(2, 3)], np.int32), ("ii->i", [(2, 2)], np.int32),
    ("ij,kj->ik", [(2, 3), (2, 3)], np.int32), ("ij->ji", [(2, 3)], np.bool_)])
def test_einsum_integer_sums_count_in_int64(eq, shapes, dtype):
    # an index only one operand has is summed out first with torch's sum: int64
    arrays = [RNG.integers(0, 3, s).astype(dtype) for s in shapes]
    c = cr.einsum(eq, *[cr.tensor(a) for a in arrays])
    t = torch.einsum(eq, *[torch.tensor(a) for a in arrays])
    assert str(c.dtype).split(".")[1] == str(t.dtype).split(".")[1] and c.tolist() == t.tolist()
