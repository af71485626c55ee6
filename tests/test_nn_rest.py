"""The rest of torch.nn / functional and small top-level names, each against torch 2.13:
fractional max pooling (values, indices, gradients; torch's default samples under one seed),
CrossMapLRN2d, NLLLoss2d, linear_cross_entropy, top-level nn aliases (embedding_bag's 4-tuple,
feature_dropout, adaptive 1-d pools), Tensor.resize / output_nr / igamma_, autograd and CPU
flags, func.replace_all_batch_norm_modules_, empty_permuted."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import assert_close, check, check_jvp, finite_difference_check, to_np

CF, TF = cr.nn.functional, torch.nn.functional
RNG = np.random.default_rng(0)


def _errors_alike(cr_call, torch_call, match=None):
    """Both calls raise the same exception type (and chainrule's message contains ``match``)."""
    with pytest.raises(Exception) as te:
        torch_call()
    with pytest.raises(type(te.value), match=match):
        cr_call()


def _pair(fn, lib):
    return getattr(lib.nn.functional, fn)


# ---- fractional max pooling ----------------------------------------------------------------

FMP = [  # (fn, input shape, kernel, keyword arguments)
    ("fractional_max_pool2d", (2, 3, 9, 8), 3, dict(output_size=(4, 5))),
    ("fractional_max_pool2d", (2, 3, 9, 8), (2, 3), dict(output_size=(7, 6))),
    ("fractional_max_pool2d", (3, 11, 7), 2, dict(output_size=3)),
    ("fractional_max_pool2d", (2, 2, 10, 9), 2, dict(output_ratio=(0.5, 0.7))),
    ("fractional_max_pool3d", (2, 3, 6, 7, 8), 2, dict(output_size=(4, 5, 6))),
    ("fractional_max_pool3d", (2, 5, 6, 9), (2, 3, 1), dict(output_size=(3, 3, 8))),
    ("fractional_max_pool3d", (1, 2, 7, 8, 9), 3, dict(output_ratio=0.5)),
]


def _samples(shape, fn, dtype):
    dims = 2 if fn.endswith("2d") else 3
    n = shape[0] if len(shape) == dims + 2 else 1
    return RNG.random((n, shape[-dims - 1], dims)).astype(dtype)


@pytest.mark.parametrize("fn,shape,k,kw", FMP)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fractional_max_pool_values_indices_grads(fn, shape, k, kw, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    x[..., 0, 0] = x[..., 1, 1]                          # ties: the first maximum wins
    u = _samples(shape, fn, dtype)
    ct, tt = cr.tensor(u), torch.tensor(u)
    check(lambda a: _pair(fn, cr)(a, k, _random_samples=ct, **kw),
          lambda a: _pair(fn, torch)(a, k, _random_samples=tt, **kw), x, double=True)
    (cy, ci), (ty, ti) = (_pair(fn, cr)(cr.tensor(x), k, return_indices=True, _random_samples=ct,
                                        **kw),
                          _pair(fn, torch)(torch.tensor(x), k, return_indices=True,
                                           _random_samples=tt, **kw))
    assert np.array_equal(to_np(ci), to_np(ti)) and ci.dtype == cr.int64
    assert np.array_equal(to_np(cy), to_np(ty))


@pytest.mark.parametrize("fn,shape,k,kw", FMP[:1] + FMP[4:5])
def test_fractional_max_pool_same_seed_same_windows(fn, shape, k, kw):
    x = RNG.standard_normal(shape).astype(np.float32)
    torch.manual_seed(11)
    cr.manual_seed(11)
    ty, ti = _pair(fn, torch)(torch.tensor(x), k, return_indices=True, **kw)
    cy, ci = _pair(fn, cr)(cr.tensor(x), k, return_indices=True, **kw)
    assert np.array_equal(to_np(ci), to_np(ti)) and np.array_equal(to_np(cy), to_np(ty))
    # the modules draw fresh samples each call, from the same stream
    name = "FractionalMaxPool2d" if fn.endswith("2d") else "FractionalMaxPool3d"
    tm, cm = getattr(torch.nn, name)(k, **kw), getattr(cr.nn, name)(k, **kw)
    for _ in range(2):
        assert np.array_equal(to_np(cm(cr.tensor(x))), to_np(tm(torch.tensor(x))))


def test_fractional_max_pool_nan_and_gradients_fd():
    x = RNG.standard_normal((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = np.nan               # torch's loop keeps the last NaN
    u = RNG.random((1, 2, 2))
    ty, ti = TF.fractional_max_pool2d(torch.tensor(x), 2, 3, return_indices=True,
                                      _random_samples=torch.tensor(u))
    cy, ci = CF.fractional_max_pool2d(cr.tensor(x), 2, 3, return_indices=True,
                                      _random_samples=cr.tensor(u))
    assert np.array_equal(to_np(ci), to_np(ti))
    np.testing.assert_array_equal(to_np(cy), to_np(ty))
    check_jvp(lambda a: CF.fractional_max_pool2d(a, 2, 3, _random_samples=cr.tensor(u)),
              lambda a: TF.fractional_max_pool2d(a, 2, 3, _random_samples=torch.tensor(u)),
              RNG.standard_normal((1, 2, 6, 6)))
    us = cr.tensor(RNG.random((2, 2, 3)))
    finite_difference_check(lambda a: CF.fractional_max_pool3d(a, 2, (2, 3, 3),
                                                               _random_samples=us),
                            RNG.standard_normal((2, 2, 4, 5, 5)))


def test_fractional_max_pool_module_buffer_and_unbatched():
    u = RNG.random((1, 3, 2)).astype(np.float32)
    x = RNG.standard_normal((3, 9, 8)).astype(np.float32)
    tm = torch.nn.FractionalMaxPool2d(3, output_size=4, return_indices=True,
                                      _random_samples=torch.tensor(u))
    cm = cr.nn.FractionalMaxPool2d(3, output_size=4, return_indices=True,
                                   _random_samples=cr.tensor(u))
    (cy, ci), (ty, ti) = cm(cr.tensor(x)), tm(torch.tensor(x))
    assert np.array_equal(to_np(cy), to_np(ty)) and np.array_equal(to_np(ci), to_np(ti))
    assert list(cm.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    assert repr(cm) == repr(tm) == "FractionalMaxPool2d()"
    assert tuple(CF.fractional_max_pool2d(cr.zeros(2, 3, 9, 8), 3, 0).shape) == (2, 3, 0, 0)


@pytest.mark.parametrize("args,kw,match", [
    ((3,), {}, "either an output_size or an output_ratio"),
    ((3, 8), {}, "pool height 3 too large relative to input height 9"),
    ((3, (7, 7)), {}, "pool width 3 too large"),
    (((3, 3, 3), 4), {}, "kernel_size must either be a single Int"),
    ((3, (4, 4, 4)), {}, "output_size must either be a single Int"),
    ((3,), dict(output_ratio=(0.5, 0.5, 0.5)), "output_ratio to either be"),
    ((3, 4), dict(_random_samples=np.float64), "same dtype as input"),
    ((3, 4), dict(_random_samples=(1, 3, 2)), "no less then input batch size"),
    ((3, 4), dict(_random_samples=(2, 2, 2)), "equals to input channel size"),
    ((3, 4), dict(_random_samples=(2, 3, 3)), "equals to 2; got 3"),
    ((3, 4), dict(_random_samples=(2, 3)), "to have 3 dimensions, got 2"),
    ((3, -1), {}, "negative dimension -1"),
])
def test_fractional_max_pool2d_errors(args, kw, match):
    x = RNG.standard_normal((2, 3, 9, 8)).astype(np.float32)

    def call(lib):
        extra = dict(kw)
        s = extra.get("_random_samples")
        if s is np.float64:
            extra["_random_samples"] = lib.rand(2, 3, 2, dtype=lib.float64)
        elif s is not None:
            extra["_random_samples"] = lib.rand(*s)
        return lambda: lib.nn.functional.fractional_max_pool2d(lib.tensor(x), *args, **extra)
    _errors_alike(call(cr), call(torch), match)


def test_fractional_max_pool_other_errors():
    y = RNG.standard_normal((2, 3, 6, 7, 8)).astype(np.float32)
    for size, match in [((6, 3, 3), "pool time 2"), ((4, 6, 3), "pool height 2"),
                        ((4, 5, 7), "pool width 2")]:       # the 3-D kernel needs one more
        _errors_alike(lambda: CF.fractional_max_pool3d(cr.tensor(y), 2, size),
                      lambda: TF.fractional_max_pool3d(torch.tensor(y), 2, size), match)
    _errors_alike(lambda: CF.fractional_max_pool3d(cr.tensor(y), (2, 2), 3),
                  lambda: TF.fractional_max_pool3d(torch.tensor(y), (2, 2), 3), "three Ints")
    _errors_alike(lambda: CF.fractional_max_pool2d(cr.zeros(2, 0, 9, 8), 3, 4),
                  lambda: TF.fractional_max_pool2d(torch.zeros(2, 0, 9, 8), 3, 4),
                  "dimension 1 being empty")
    _errors_alike(lambda: CF.fractional_max_pool2d(cr.zeros(9, 8), 3, 4),
                  lambda: TF.fractional_max_pool2d(torch.zeros(9, 8), 3, 4), "out of range")
    u = torch.rand(2, 3, 2).long()
    _errors_alike(lambda: CF.fractional_max_pool2d(cr.zeros(2, 3, 9, 8, dtype=cr.int64), 3, 4,
                                                   _random_samples=cr.tensor(u.numpy())),
                  lambda: TF.fractional_max_pool2d(torch.zeros(2, 3, 9, 8).long(), 3, 4,
                                                   _random_samples=u), "not implemented for 'Long'")
    for kw, match in [({}, "requires specifying either"),
                      (dict(output_size=3, output_ratio=0.5), "only one of"),
                      (dict(output_ratio=1.5), "between 0 and 1")]:
        _errors_alike(lambda: cr.nn.FractionalMaxPool2d(2, **kw),
                      lambda: torch.nn.FractionalMaxPool2d(2, **kw), match)
    with pytest.raises(RuntimeError, match="kernel_size must be greater than zero"):
        CF.fractional_max_pool2d(cr.zeros(1, 1, 5, 5), 0, 2)   # torch reads out of bounds


# ---- CrossMapLRN2d, NLLLoss2d ----------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 9])
def test_cross_map_lrn2d(size):
    # torch's legacy forward, quirks included; its hand-written backward is not the exact
    # derivative of that forward, so gradients are checked by finite differences, not vs torch
    x = RNG.standard_normal((2, 7, 3, 2))
    for dtype in (np.float64, np.float32):
        c = cr.nn.CrossMapLRN2d(size, 0.3, 0.75, 1.5)(cr.tensor(x.astype(dtype)))
        t = torch.nn.CrossMapLRN2d(size, 0.3, 0.75, 1.5)(torch.tensor(x.astype(dtype)))
        np.testing.assert_allclose(to_np(c), t.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert cr.autograd.gradcheck(lambda a: cr.nn.CrossMapLRN2d(size, 0.3, 0.75, 1.5)(a),
                                 (cr.tensor(x, requires_grad=True),))
    assert repr(cr.nn.CrossMapLRN2d(size)) == repr(torch.nn.CrossMapLRN2d(size))


def test_cross_map_lrn2d_errors():
    _errors_alike(lambda: cr.nn.CrossMapLRN2d(3)(cr.zeros(2, 3, 4)),
                  lambda: torch.nn.CrossMapLRN2d(3)(torch.zeros(2, 3, 4)),
                  "Expected input to be 4D")


def test_nll_loss_2d():
    x = RNG.standard_normal((2, 4, 3, 3))
    y = RNG.integers(0, 4, (2, 3, 3))
    y[0, 0, 0] = 1
    w = RNG.random(4)
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        cm = cr.nn.NLLLoss2d(cr.tensor(w), ignore_index=1)
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        tm = torch.nn.NLLLoss2d(torch.tensor(w), ignore_index=1)
    check(lambda a, t: cm(a, t), lambda a, t: tm(a, t), x, y)
    assert isinstance(cm, cr.nn.NLLLoss)


# ---- linear_cross_entropy --------------------------------------------------------------------

LCE = [  # (input, weight, bias, target, keyword arguments)
    ((4, 5), (3, 5), None, RNG.integers(0, 3, 4), {}),
    ((4, 5), (3, 5), (3,), np.array([0, 2, -100, 1]), dict(reduction="sum")),
    ((4, 5), (3, 5), (3,), np.array([0, 2, 1, 2]), dict(ignore_index=2, label_smoothing=0.2)),
    ((4, 5), (3, 5), None, RNG.integers(0, 3, 4), dict(reduction="none", weight=True)),
    ((5,), (3, 5), (3,), np.array(1), {}),
    ((4, 5), (3, 2, 5), (3, 2), RNG.integers(0, 3, (4, 2)), dict(weight=True)),
    ((4, 5), (3, 5), None, RNG.random((4, 3)), dict(label_smoothing=0.1)),
    ((4, 5), (3, 2, 5), None, RNG.random((4, 3, 2)), dict(reduction="none")),
]


@pytest.mark.parametrize("xs,ws,bs,target,kw", LCE)
def test_linear_cross_entropy(xs, ws, bs, target, kw):
    arrays = [RNG.standard_normal(xs), RNG.standard_normal(ws)]
    arrays += [RNG.standard_normal(bs)] if bs else []
    cw = RNG.random(ws[0]) if kw.get("weight") else None

    def call(lib):
        def f(x, w, *b):
            extra = dict(kw, weight=lib.tensor(cw) if cw is not None else None)
            return lib.nn.functional.linear_cross_entropy(
                x, w, lib.tensor(target), linear_bias=b[0] if b else None, **extra)
        return f
    check(call(cr), call(torch), *arrays)
    finite_difference_check(call(cr), *arrays)


def test_linear_cross_entropy_options_and_errors():
    x, w, y = RNG.standard_normal((4, 5)), RNG.standard_normal((3, 5)), RNG.integers(0, 3, 4)
    opts = cr.nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    ref = TF.linear_cross_entropy(torch.tensor(x), torch.tensor(w), torch.tensor(y))
    assert_close(CF.linear_cross_entropy(cr.tensor(x), cr.tensor(w), cr.tensor(y), options=opts),
                 ref)
    with pytest.warns(UserWarning, match="``options`` ignored"):
        CF.linear_cross_entropy(cr.tensor(x), cr.tensor(w), cr.tensor(y), options=opts,
                                label_smoothing=0.1)
    for kw, match in [(dict(acc_policy="fast"), "invalid acc_policy"),
                      (dict(chunking_method="aspect_ratio:0"), "invalid chunking_method"),
                      (dict(batch_chunk_size=0), "batch_chunk_size must be positive"),
                      (dict(acc_dtype="int8"), "acc_dtype must be one of")]:
        _errors_alike(lambda: cr.nn.LinearCrossEntropyOptions(**kw),
                      lambda: torch.nn.LinearCrossEntropyOptions(**kw), match)
    bad = [((4, 5, 1), (3, 5), (4,), {}, "dimensionality 1 or 2"),
           ((4, 5), (5,), (4,), {}, "at least 2"),
           ((4, 6), (3, 5), (4,), {}, "equal input and linear_weight last dimensions"),
           ((4, 5), (3, 5), (4,), dict(linear_bias=(2,)), "expected linear_bias shape"),
           ((5,), (3, 2, 5), (), {}, "requires batched input"),
           ((4, 5), (3, 5), "p", dict(ignore_index=0), "ignore_index cannot be specified")]
    for xs, ws, ts, kw, match in bad:
        def call(lib, xs=xs, ws=ws, ts=ts, kw=kw):
            t = lib.rand(4, 3) if ts == "p" else lib.zeros(ts, dtype=lib.int64)
            extra = {k: lib.zeros(v) for k, v in kw.items() if k == "linear_bias"}
            extra.update({k: v for k, v in kw.items() if k != "linear_bias"})
            return lambda: lib.nn.functional.linear_cross_entropy(lib.zeros(xs), lib.zeros(ws), t,
                                                                  **extra)
        _errors_alike(call(cr), call(torch), match)


def test_linear_cross_entropy_loss_module():
    x, y = RNG.standard_normal((4, 5)).astype(np.float32), RNG.integers(0, 3, (4, 2))
    torch.manual_seed(3)
    cr.manual_seed(3)
    tm = torch.nn.LinearCrossEntropyLoss(5, 3, out_features=(2,), bias=True, ignore_index=1)
    cm = cr.nn.LinearCrossEntropyLoss(5, 3, out_features=(2,), bias=True, ignore_index=1)
    assert repr(cm) == repr(tm) and list(cm.state_dict()) == list(tm.state_dict())
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tl, cl = tm(torch.tensor(x), torch.tensor(y)), cm(cr.tensor(x), cr.tensor(y))
    tl.backward()
    cl.backward()
    assert_close(cl, tl, np.float32)
    assert_close(cm.linear.weight.grad, tm.linear.weight.grad, np.float32)
    assert_close(cm.linear.bias.grad, tm.linear.bias.grad, np.float32)
    for kw, match in [(dict(weight=cr.ones(2)), "expected weight shape"),
                      (dict(label_smoothing=1.5), "label_smoothing to be in range")]:
        tkw = {k: torch.ones(2) if k == "weight" else v for k, v in kw.items()}
        _errors_alike(lambda: cr.nn.LinearCrossEntropyLoss(5, 3, **kw),
                      lambda: torch.nn.LinearCrossEntropyLoss(5, 3, **tkw), match)


# ---- top-level nn aliases --------------------------------------------------------------------

def test_top_level_adaptive_pools_1d():
    x = RNG.standard_normal((2, 3, 7))
    check(lambda a: cr.adaptive_avg_pool1d(a, 3), lambda a: torch.adaptive_avg_pool1d(a, 3), x)
    check(lambda a: cr.adaptive_max_pool1d(a, 3)[0], lambda a: torch.adaptive_max_pool1d(a, 3)[0],
          x)
    assert np.array_equal(to_np(cr.adaptive_max_pool1d(cr.tensor(x), (3,))[1]),
                          to_np(torch.adaptive_max_pool1d(torch.tensor(x), (3,))[1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offsets", [[0, 4], [0, 3, 3]])
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("pad", [None, 2, -1])
def test_top_level_embedding_bag_four_results(dtype, offsets, mode, pad):
    w, i = RNG.standard_normal((10, 3)).astype(dtype), np.array([1, 2, 4, 5, 4, 3, 2, 9])
    args = (False, mode, False, None, False, pad)
    cs = cr.embedding_bag(cr.tensor(w), cr.tensor(i), cr.tensor(offsets), *args)
    ts = torch.embedding_bag(torch.tensor(w), torch.tensor(i), torch.tensor(offsets), *args)
    for c, t in zip(cs, ts):
        assert tuple(c.shape) == tuple(t.shape) and str(c.dtype)[10:] == str(t.dtype)[6:]
        np.testing.assert_allclose(to_np(c), to_np(t), rtol=1e-6)
    check(lambda a: cr.embedding_bag(a, cr.tensor(i), cr.tensor(offsets), *args)[0],
          lambda a: torch.embedding_bag(a, torch.tensor(i), torch.tensor(offsets), *args)[0], w)


def test_top_level_embedding_bag_last_offset_and_int32():
    w, i = RNG.standard_normal((10, 3)), np.array([1, 2, 4, 5, 4, 3, 2, 9], np.int32)
    off = np.array([0, 4, 4, 8], np.int32)
    for mode in (0, 1, 2):
        cs = cr.embedding_bag(cr.tensor(w), cr.tensor(i), cr.tensor(off), False, mode, False,
                              None, True)
        ts = torch.embedding_bag(torch.tensor(w), torch.tensor(i), torch.tensor(off), False, mode,
                                 False, None, True)
        for c, t in zip(cs, ts):
            assert c.dtype in (cr.float64, cr.int32)
            np.testing.assert_allclose(to_np(c), to_np(t))


def test_feature_dropout_same_seed_same_mask():
    x = RNG.standard_normal((3, 4, 2, 2)).astype(np.float32)
    torch.manual_seed(5)
    cr.manual_seed(5)
    check(lambda a: cr.feature_dropout(a, 0.4, True), lambda a: torch.feature_dropout(a, 0.4, True),
          x)
    cx, tx = cr.tensor(x), torch.tensor(x)
    assert cr.feature_dropout_(cx, 0.5, True) is cx and torch.feature_dropout_(tx, 0.5, True) is tx
    assert np.array_equal(to_np(cx), to_np(tx))
    assert cr.feature_dropout(cx, 0.5, False) is cx
    for call, match in [(lambda lib: lib.feature_dropout(lib.zeros(3), 0.5, True), "2 dimensions"),
                        (lambda lib: lib.feature_dropout(lib.zeros(3, 2), 1.5, True), "between 0"),
                        (lambda lib: lib.feature_dropout(lib.zeros(3, 2, dtype=lib.int64), 0.5,
                                                         True), "can't be cast")]:
        _errors_alike(lambda: call(cr), lambda: call(torch), match)


def test_split_with_sizes_i0_and_igamma_in_place():
    x = RNG.standard_normal((2, 6))
    for c, t in zip(cr.split_with_sizes(cr.tensor(x), [2, 4], 1),
                    torch.split_with_sizes(torch.tensor(x), [2, 4], 1)):
        assert_close(c, t)
    check(lambda a: cr.split_with_sizes(a, [1, 1], dim=0)[1],
          lambda a: torch.split_with_sizes(a, [1, 1], dim=0)[1], x)
    for sizes, match in [([2, 3], "sum exactly to 6"), ([2, -1, 5], "non-negative entries")]:
        _errors_alike(lambda: cr.split_with_sizes(cr.tensor(x), sizes, 1),
                      lambda: torch.split_with_sizes(torch.tensor(x), sizes, 1), match)
    cx, tx = cr.tensor(x), torch.tensor(x)
    assert cr.i0_(cx) is cx and torch.i0_(tx) is tx
    assert_close(cx, tx)
    a, b = RNG.random(5) + 0.5, RNG.random(5) * 3
    for name in ("igamma_", "igammac_"):
        ca, ta = cr.tensor(a), torch.tensor(a)
        assert getattr(ca, name)(cr.tensor(b)) is ca and getattr(ta, name)(torch.tensor(b)) is ta
        assert_close(ca, ta)


# ---- Tensor.resize, output_nr ----------------------------------------------------------------

def test_resize_and_resize_as():
    x = RNG.standard_normal(6)
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        check(lambda a: a.resize(2, 3), lambda a: a.resize(2, 3), x)
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        check(lambda a: a.resize_as(cr.zeros(3, 2)), lambda a: a.resize_as(torch.zeros(3, 2)), x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _errors_alike(lambda: cr.tensor(x).resize(4, 3), lambda: torch.tensor(x).resize(4, 3),
                      "requested resize to 4x3 \\(12 elements in total\\)")


def test_output_nr():
    def nrs(lib):
        a = lib.arange(6., requires_grad=True).view(2, 3)
        f = type("F2", (lib.autograd.Function,), dict(
            forward=staticmethod(lambda ctx, x: (x * 2, x * 3)),
            backward=staticmethod(lambda ctx, g1, g2: g1 * 2 + g2 * 3)))
        u = f.apply(a * 1)[1]
        u.mul_(2)
        with lib.no_grad():
            plain = [t.output_nr for t in a.unbind(0)]
        return ([t.output_nr for t in a.unbind(0)], [t.output_nr for t in a.split([1, 2], 1)],
                [t.output_nr for t in a.chunk(3, 1)], [t.output_nr for t in f.apply(a)],
                a.output_nr, u.output_nr, a.unbind(0)[1].detach().output_nr, plain)
    assert nrs(cr) == nrs(torch)


# ---- autograd, func and CPU flags ------------------------------------------------------------

def test_is_tensor_like_and_autograd_flags():
    class Like:
        @classmethod
        def __torch_function__(cls, *a):
            return -1
    for obj, want in [(cr.ones(1), True), (cr.nn.Parameter(cr.ones(1)), True), (3, False),
                      (None, False), (Like(), True)]:
        assert cr.autograd.is_tensor_like(obj) is want
    for lib in (cr, torch):
        ag = lib.autograd
        seen = [ag.is_multithreading_enabled()]
        with ag.set_multithreading_enabled(False):
            seen.append(ag.is_multithreading_enabled())
        seen.append(ag.is_multithreading_enabled())
        ag.set_multithreading_enabled(False)
        seen.append(ag.is_multithreading_enabled())

        @ag.set_multithreading_enabled(True)
        def f():
            return ag.is_multithreading_enabled()
        seen += [ag.is_multithreading_enabled(), f(), ag.is_multithreading_enabled()]
        ag.set_multithreading_enabled(True)
        seen.append(ag.is_view_replay_enabled())
        if lib is cr:
            mine = seen
    assert mine == seen == [True, False, True, False, True, True, True, False]


def test_replace_all_batch_norm_modules_():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4),
                                 lib.nn.Sequential(lib.nn.BatchNorm1d(4, affine=False)),
                                 lib.nn.InstanceNorm1d(4, track_running_stats=True))
    cm, tm = build(cr), build(torch)
    assert cr.func.replace_all_batch_norm_modules_(cm) is cm
    torch.func.replace_all_batch_norm_modules_(tm)
    assert list(cm.state_dict()) == list(tm.state_dict())
    assert [m.track_running_stats for m in cm.modules() if hasattr(m, "track_running_stats")] == \
        [m.track_running_stats for m in tm.modules() if hasattr(m, "track_running_stats")]
    x = RNG.standard_normal((5, 4, 3)).astype(np.float32)
    cm[1:3].eval()
    tm[1:3].eval()
    assert_close(cm[1:3](cr.tensor(x[..., 0])), tm[1:3](torch.tensor(x[..., 0])), np.float32)


def test_warn_always_and_interop_threads():
    assert cr.is_warn_always_enabled() is torch.is_warn_always_enabled() is False
    try:
        cr.set_warn_always(True)
        assert cr.is_warn_always_enabled() is True
    finally:
        cr.set_warn_always(False)
    _errors_alike(lambda: cr.set_warn_always("a"), lambda: torch.set_warn_always("a"),
                  "expects a bool")
    n = cr.get_num_interop_threads()
    assert isinstance(n, int) and n >= 1
    try:
        cr.set_num_interop_threads(3)
        assert cr.get_num_interop_threads() == 3
    finally:
        cr.set_num_interop_threads(n)
    _errors_alike(lambda: cr.set_num_interop_threads(0), lambda: torch.set_num_interop_threads(0),
                  "positive integer")


def test_set_flush_denormal():
    tiny = np.array([1e-323])
    torch_ok = torch.set_flush_denormal(False)
    try:
        got = cr.set_flush_denormal(True)
        assert got == torch_ok                  # supported where torch's is (x86-64 here)
        if got:   # the calling thread's CPU mode: NumPy and torch both read 1e-323 as 0
            assert (tiny * 1.0)[0] == 0.0
            assert to_np(cr.tensor(tiny) * 1.0)[0] == 0.0
            assert to_np(torch.tensor(tiny) * 1.0)[0] == 0.0
    finally:
        assert cr.set_flush_denormal(False) == torch_ok
    assert (tiny * 1.0)[0] > 0.0
    _errors_alike(lambda: cr.set_flush_denormal(1), lambda: torch.set_flush_denormal(1),
                  "expects a bool")


def test_empty_permuted():
    for size, layout in [((2, 3, 4), (0, 2, 1)), ((2, 3, 4, 5), (0, 2, 3, 1)),
                         ((2, 0, 4), (2, 0, 1)), ((), ())]:
        c, t = cr.empty_permuted(size, layout), torch.empty_permuted(size, layout)
        assert tuple(c.shape) == tuple(t.shape) and c.stride() == t.stride()
        assert c.dtype == cr.float32
    c = cr.empty_permuted((2, 3), (1, 0), dtype=cr.float64, requires_grad=True)
    assert c.dtype == cr.float64 and c.requires_grad and c.stride() == (1, 2)
    for layout, match in [((0, 0), "Duplicate dim"), ((0,), "does not match the length"),
                          ((-1, 0), "negative dims not currently supported")]:
        _errors_alike(lambda: cr.empty_permuted((2, 3), layout),
                      lambda: torch.empty_permuted((2, 3), layout), match)
