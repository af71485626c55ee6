"""Pooling (max, average, adaptive), channel dropout and interpolation against torch: values,
indices, gradients and double backward in float64; ties and NaN like torch; JVPs; modules."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import forward_ad as fwd

from oracle import check

RNG = np.random.default_rng(1)


def _x(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- max pooling
MAX_GRID = [
    dict(kernel_size=2),
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=1, dilation=2),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=1, ceil_mode=True),
    dict(kernel_size=(2, 4), stride=(1, 2), padding=(1, 2), dilation=(2, 1)),
    dict(kernel_size=3, stride=3, padding=1, ceil_mode=True),
    dict(kernel_size=1, stride=2),
]


@pytest.mark.parametrize("kw", MAX_GRID, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (1, 2, 7, 11)], ids=str)
def test_max_pool2d_vs_torch_with_double_backward(kw, shape):
    check(lambda x: F.max_pool2d(x, **kw), lambda x: TF.max_pool2d(x, **kw), _x(*shape), double=True)
    x = _x(*shape)
    (oc, ic), (ot, it) = F.max_pool2d(cr.tensor(x), return_indices=True, **kw), \
        TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    assert ic.dtype == cr.int64 and ic.tolist() == it.tolist()
    np.testing.assert_array_equal(oc.numpy(), ot.numpy())


def test_max_pool2d_ties_go_to_the_first_maximum_like_torch():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 1.0, 2.0, 2.0],
                    [0.0, 0.0, 3.0, 0.0],
                    [0.0, 0.0, 0.0, 3.0]]]])
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=2, stride=1)):
        check(lambda a: F.max_pool2d(a, **kw), lambda a: TF.max_pool2d(a, **kw), x)
        assert F.max_pool2d(cr.tensor(x), return_indices=True, **kw)[1].tolist() == \
            TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)[1].tolist()
    # a constant image: every window ties everywhere
    const = np.zeros((1, 2, 6, 5))
    check(lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: TF.max_pool2d(a, 3, 2, 1), const)
    # rounded data: many ties in a larger grid
    rounded = np.round(_x(2, 3, 8, 8), 0)
    check(lambda a: F.max_pool2d(a, 3, 1, 1), lambda a: TF.max_pool2d(a, 3, 1, 1), rounded)


def test_max_pool2d_nan_propagates_like_torch():
    x = _x(1, 2, 4, 6)
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = x[0, 1, 3, 5] = np.nan
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        oc, ic = F.max_pool2d(cr.tensor(x), return_indices=True, **kw)
        ot, it = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(oc.numpy(), ot.numpy())      # NaN in the same places
        assert ic.tolist() == it.tolist()


def test_max_pool2d_unbatched_and_float32():
    x = _x(3, 7, 6, dtype=np.float32)
    check(lambda a: F.max_pool2d(a, 2, padding=1), lambda a: TF.max_pool2d(a, 2, padding=1), x)
    assert F.max_pool2d(cr.tensor(x), 2).dtype == cr.float32


# --------------------------------------------------------------------------- average pooling
AVG_GRID = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), ceil_mode=True),
    dict(kernel_size=2, divisor_override=3),
    dict(kernel_size=3, stride=1, padding=1, divisor_override=2),
]


@pytest.mark.parametrize("kw", AVG_GRID, ids=str)
def test_avg_pool2d_vs_torch_with_double_backward(kw):
    check(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), _x(2, 3, 9, 8), double=True)
    check(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), _x(3, 7, 10))  # unbatched


# --------------------------------------------------------------------------- adaptive pooling
@pytest.mark.parametrize("size", [1, (3, 5), (4, 4), (9, 2), (None, 3), (7, 7)], ids=str)
def test_adaptive_pools_vs_torch(size):
    x = _x(2, 3, 9, 8)
    check(lambda a: F.adaptive_avg_pool2d(a, size), lambda a: TF.adaptive_avg_pool2d(a, size), x, double=True)
    check(lambda a: F.adaptive_max_pool2d(a, size), lambda a: TF.adaptive_max_pool2d(a, size), x, double=True)
    assert F.adaptive_max_pool2d(cr.tensor(x), size, return_indices=True)[1].tolist() == \
        TF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)[1].tolist()


# --------------------------------------------------------------------------- forward mode
def test_pooling_jvps_vs_torch_func():
    x, t = _x(2, 3, 7, 6), _x(2, 3, 7, 6)
    for fc, ft in [(lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: TF.max_pool2d(a, 3, 2, 1)),
                   (lambda a: F.max_pool2d(a, 2, 1), lambda a: TF.max_pool2d(a, 2, 1)),
                   (lambda a: F.avg_pool2d(a, 3, 2, 1, ceil_mode=True), lambda a: TF.avg_pool2d(a, 3, 2, 1, ceil_mode=True)),
                   (lambda a: F.adaptive_avg_pool2d(a, (2, 4)), lambda a: TF.adaptive_avg_pool2d(a, (2, 4))),
                   (lambda a: F.interpolate(a, (5, 9), mode="bilinear"),
                    lambda a: TF.interpolate(a, (5, 9), mode="bilinear"))]:
        with fwd.dual_level():
            tangent = fwd.unpack_dual(fc(fwd.make_dual(cr.tensor(x), cr.tensor(t)))).tangent
        ref = torch.func.jvp(ft, (torch.tensor(x),), (torch.tensor(t),))[1]
        np.testing.assert_allclose(tangent.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- dropout2d
def test_dropout2d_zeroes_whole_channels_and_keeps_the_mean():
    cr.manual_seed(0)
    out = F.dropout2d(cr.ones(200, 50, 3, 3), 0.3).numpy().reshape(200, 50, 9)
    assert np.all((out == 0).all(-1) | np.isclose(out, 1 / 0.7).all(-1))
    dropped = (out[..., 0] == 0).mean()
    assert abs(dropped - 0.3) < 0.02                 # 10,000 channels: 4.6 standard deviations
    assert abs(out.mean() - 1.0) < 0.03
    x = cr.tensor(_x(2, 3, 4, 4), requires_grad=True)
    out = F.dropout2d(x, 0.5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (out.detach().numpy() != 0) * 2.0)


def test_dropout2d_modes_seeds_and_3d_input_like_torch():
    x = cr.ones(1, 2, 2, 2)
    assert nn.Dropout2d(0.5).eval()(x) is x
    assert F.dropout2d(x, 0.0) is x
    assert F.dropout2d(x, 1.0).tolist() == torch.zeros(1, 2, 2, 2).tolist()
    g1, g2 = cr.Generator().manual_seed(3), cr.Generator().manual_seed(3)
    assert F.dropout2d(cr.ones(4, 8, 2, 2), generator=g1).tolist() == \
        F.dropout2d(cr.ones(4, 8, 2, 2), generator=g2).tolist()
    # torch reads a 3-D input as (N, C, L): one draw per (n, c) row, with a warning
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        out = F.dropout2d(cr.ones(30, 40, 5), 0.5).numpy()
    assert np.all((out == 0).all(-1) | (out == 2).all(-1)) and 0 < (out == 0).mean() < 1
    assert repr(nn.Dropout2d(0.3)) == repr(torch.nn.Dropout2d(0.3))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout2d(x, 1.5)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):   # as torch
        assert F.dropout2d(cr.ones(2, 2), 0.5).shape == (2, 2)


# --------------------------------------------------------------------------- interpolate
INTERP_GRID = [
    dict(size=(5, 7)), dict(size=(20, 3)), dict(scale_factor=2), dict(scale_factor=(0.5, 1.5)),
    dict(size=(13, 5), mode="bilinear", align_corners=False),
    dict(size=(13, 5), mode="bilinear", align_corners=True),
    dict(size=(4, 1), mode="bilinear", align_corners=True),
    dict(scale_factor=0.5, mode="bilinear"), dict(scale_factor=(3, 1.7), mode="bilinear"),
]


@pytest.mark.parametrize("kw", INTERP_GRID, ids=str)
def test_interpolate_2d_vs_torch(kw):
    check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), _x(2, 3, 9, 8), double=True)


@pytest.mark.parametrize("kw", [dict(size=13), dict(scale_factor=0.6), dict(size=17, mode="linear"),
                                dict(scale_factor=2, mode="linear", align_corners=True)], ids=str)
def test_interpolate_1d_vs_torch(kw):
    check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), _x(2, 3, 9))


def test_interpolate_errors():
    """torch's error types and wording for misuse of interpolate."""
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(cr.zeros(1, 1, 4, 4))
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(cr.zeros(1, 1, 4), 8, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(cr.zeros(1, 1, 4, 4), 8, align_corners=True)
    with pytest.raises(NotImplementedError, match=r"Only 3D, 4D and 5D input Tensors supported \(got 2D\)"):
        F.interpolate(cr.zeros(4, 4), 8)


# --------------------------------------------------------------------------- modules
def test_pool_and_upsample_modules_vs_torch():
    pairs = [(nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
             (nn.MaxPool2d(2, ceil_mode=True), torch.nn.MaxPool2d(2, ceil_mode=True)),
             (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
             (nn.AvgPool2d(3, 1, 1, count_include_pad=False), torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)),
             (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
             (nn.AdaptiveMaxPool2d(2), torch.nn.AdaptiveMaxPool2d(2)),
             (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
             (nn.Upsample(size=(5, 11), mode="bilinear"), torch.nn.Upsample(size=(5, 11), mode="bilinear"))]
    x = _x(2, 3, 9, 8, dtype=np.float32)
    for mine, ref in pairs:
        assert repr(mine) == repr(ref)
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        oc, ot = mine(xc), ref(xt)
        np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-6, atol=1e-6)
        oc.sum().backward()
        ot.sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    out, idx = nn.MaxPool2d(2, return_indices=True)(cr.tensor(x))
    assert idx.tolist() == torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))[1].tolist()


def test_pooling_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(cr.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"max_pool2d: expected input \(N, C, H, W\) or \(C, H, W\)"):
        F.max_pool2d(cr.zeros(4, 4), 2)
    with pytest.raises(RuntimeError, match="too small"):
        F.max_pool2d(cr.zeros(1, 1, 2, 2), 3)
    # integer max pooling is supported, as torch's on CPU (tests/test_nn_conv_more.py)
    assert F.max_pool2d(cr.zeros(1, 1, 4, 4, dtype=cr.int64), 2).dtype is cr.int64
    with pytest.raises(RuntimeError, match="kernel_size must either be a single int, or a tuple of two ints"):
        F.avg_pool2d(cr.zeros(1, 1, 4, 4), (2, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.max_pool2d(cr.zeros(1, 1, 4, 4), 2)
