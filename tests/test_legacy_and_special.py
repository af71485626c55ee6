"""The rest of torch's everyday surface against torch: legacy constructors and type names,
dtype limits, strides, in-place view ops, fill_diagonal_, apply_/map_, where(condition),
trace, the in-place functions, and the gamma family with torch.special's names."""
import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import check


def same(a, b):
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("make", [lambda m: m.Tensor([1, 2]), lambda m: m.Tensor(2, 3).zero_(),
                                  lambda m: m.Tensor(), lambda m: m.FloatTensor([[1, 2]]),
                                  lambda m: m.LongTensor([1.7, 2]), lambda m: m.DoubleTensor(3).zero_(),
                                  lambda m: m.BoolTensor([1, 0]), lambda m: m.ByteTensor([3]),
                                  lambda m: m.Tensor(m.Size([2, 1])).zero_()])
def test_legacy_constructors(make):
    same(make(cr), make(torch))


def test_legacy_type_names_and_checks():
    x, t = cr.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert x.type().split(".")[1] == t.type().split(".")[1] == "FloatTensor"
    assert cr.tensor([1]).type() == "chainrule.LongTensor"
    same(x.type(cr.LongTensor), t.type(torch.LongTensor))
    same(x.type("torch.DoubleTensor"), t.type("torch.DoubleTensor"))
    assert isinstance(x, cr.FloatTensor) and not isinstance(x, cr.LongTensor)


def test_dtype_limits():
    for dt in ("float16", "float32", "float64"):
        a, b = cr.finfo(getattr(cr, dt)), torch.finfo(getattr(torch, dt))
        assert (a.eps, a.max, a.min, a.tiny, a.bits, a.resolution) == (b.eps, b.max, b.min, b.tiny, b.bits, b.resolution)
    for dt in ("uint8", "int8", "int16", "int32", "int64"):
        a, b = cr.iinfo(getattr(cr, dt)), torch.iinfo(getattr(torch, dt))
        assert (a.min, a.max, a.bits) == (b.min, b.max, b.bits)
    for f in ("float32", "int64", "bool", "uint8"):
        for t in ("float64", "int32", "bool"):
            assert cr.can_cast(getattr(cr, f), getattr(cr, t)) == torch.can_cast(getattr(torch, f), getattr(torch, t))
    with pytest.raises(TypeError):
        cr.finfo(cr.int32)


def test_strides_and_in_place_view_ops():
    a, b = cr.ones(2, 3, 4), torch.ones(2, 3, 4)
    assert a.stride() == b.stride() and a.transpose(0, 2).stride() == b.transpose(0, 2).stride()
    assert a.stride(-1) == b.stride(-1)
    for op, args in [("t_", ()), ("unsqueeze_", (1,)), ("squeeze_", ()), ("transpose_", (0, 1))]:
        x, y = cr.ones(2, 1) * cr.tensor([[1.0], [2.0]]), torch.ones(2, 1) * torch.tensor([[1.0], [2.0]])
        assert getattr(x, op)(*args) is x
        getattr(y, op)(*args)
        same(x, y)
    leaf = cr.ones(2, 3, requires_grad=True)
    y = leaf * 2
    y.unsqueeze_(0)
    y.sum().backward()
    assert tuple(y.shape) == (1, 2, 3) and leaf.grad.tolist() == [[2.0] * 3] * 2
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.t_()


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((4, 2), True), ((4, 2), False),
                                         ((2, 4), False), ((2, 2, 2), False)])
def test_fill_diagonal(shape, wrap):
    same(cr.zeros(*shape).fill_diagonal_(5, wrap), torch.zeros(*shape).fill_diagonal_(5, wrap))


def test_apply_map_where_trace_and_in_place_functions():
    same(cr.arange(4.0).apply_(lambda v: v * v), torch.arange(4.0).apply_(lambda v: v * v))
    same(cr.arange(3.0).map_(cr.ones(3), lambda a, b: a - b), torch.arange(3.0).map_(torch.ones(3), lambda a, b: a - b))
    c = np.array([[True, False], [False, True]])
    for p, q in zip(cr.where(cr.tensor(c)), torch.where(torch.tensor(c))):
        same(p, q)
    same(cr.tensor([[1, 2], [3, 4]]).trace(), torch.tensor([[1, 2], [3, 4]]).trace())
    check(lambda t: t.trace(), lambda t: t.trace(), np.random.default_rng(0).standard_normal((3, 3)))
    for name in ("abs_", "relu_", "sigmoid_", "exp_", "floor_", "zero_"):
        x, y = cr.tensor([-1.5, 0.5]), torch.tensor([-1.5, 0.5])
        getattr(cr, name)(x)
        getattr(torch, name)(y)
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-6)


X = np.array([0.1, 0.5, 1.0, 2.5, 7.0, 15.0, 40.0, -0.3, -2.5])


@pytest.mark.parametrize("name, fn", [
    ("lgamma", lambda m, t: m.lgamma(t)), ("digamma", lambda m, t: m.digamma(t)),
    ("polygamma1", lambda m, t: m.polygamma(1, t)), ("polygamma2", lambda m, t: t.polygamma(2)),
    ("polygamma3", lambda m, t: m.special.polygamma(3, t)), ("gammaln", lambda m, t: m.special.gammaln(t)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gamma_family_matches_torch(name, fn, dtype):
    # torch's trigamma is accurate to ~1e-9 (chainrule's to ~1e-11): compare at that level
    check(lambda t: fn(cr, t), lambda t: fn(torch, t), X.astype(dtype), double=True,
          scale=1e3 if dtype == np.float64 else 10)


def test_gamma_family_poles_and_mvlgamma():
    poles = np.array([0.0, -1.0, -2.0, np.inf])
    for name in ("lgamma", "digamma"):
        np.testing.assert_array_equal(getattr(cr, name)(cr.tensor(poles)).numpy(),
                                      getattr(torch, name)(torch.tensor(poles)).numpy())
    check(lambda t: cr.mvlgamma(t, 3), lambda t: torch.mvlgamma(t, 3), np.array([1.5, 2.0, 4.0]), double=True)
    outside = np.array([0.5, -0.3, 1.0])   # below (p − 1)/2: torch 2.13 gives the values
    np.testing.assert_allclose(cr.mvlgamma(cr.tensor(outside), 3).numpy(),
                               torch.mvlgamma(torch.tensor(outside), 3).numpy(), rtol=1e-14)
    with pytest.raises(RuntimeError, match="negative n"):
        cr.polygamma(-1, cr.ones(2))


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "expit", "logit", "exp2", "expm1", "log1p",
                                  "sinc", "entr", "ndtr", "ndtri", "log_ndtr", "psi", "round"])
def test_special_namespace_matches_torch(name):
    x = np.array([0.1, 0.3, 0.5, 0.9])
    np.testing.assert_allclose(getattr(cr.special, name)(cr.tensor(x)).numpy(),
                               getattr(torch.special, name)(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-14)


def test_anomaly_mode_names_the_node_that_made_nan():
    for lib in (cr, torch):
        x = lib.tensor([-1.0, 1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output"):
            with lib.autograd.detect_anomaly():
                x.sqrt().sum().backward()
    x = cr.tensor([-1.0, 1.0], requires_grad=True)
    x.sqrt().sum().backward()                     # off: nan flows into .grad silently, as torch
    assert np.isnan(x.grad.numpy()[0]) and not cr.is_anomaly_enabled()
    with cr.autograd.set_detect_anomaly(True):
        assert cr.is_anomaly_enabled()
    assert not cr.is_anomaly_enabled()

    @cr.autograd.detect_anomaly()
    def f():
        return cr.is_anomaly_enabled()
    assert f()


@pytest.mark.parametrize("in_dims, out_dims", [(0, 0), ((1, 1), 1), ((0, 0), -1)])
def test_vmap_matches_torch(in_dims, out_dims):
    x, w = np.random.default_rng(1).standard_normal((4, 3)), np.random.default_rng(2).standard_normal((4, 3))
    fn = lambda m: (lambda a, b: m.outer(a, b) * 2)
    mine = cr.func.vmap(fn(cr), in_dims, out_dims)(cr.tensor(x), cr.tensor(w))
    theirs = torch.func.vmap(fn(torch), in_dims, out_dims)(torch.tensor(x), torch.tensor(w))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="same size"):
        cr.func.vmap(fn(cr), (0, 1))(cr.tensor(x), cr.tensor(w))


def test_module_casts_and_gpu_backend_switches():
    m = cr.nn.Linear(2, 3)
    assert m.half().weight.dtype == cr.float16 and m.double().weight.dtype == cr.float64
    assert m.float().weight.dtype == cr.float32
    cr.backends.cudnn.benchmark = True          # scripts set it; it has no effect here
    assert not cr.backends.cudnn.is_available() and not cr.backends.mps.is_available()
