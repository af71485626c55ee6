"""conv3d / conv_transpose1d / conv_transpose3d, the 1-D and 3-D pools, max unpooling, pixel
(un)shuffle, every interpolate mode and F.pad's negative widths, against torch: values, the
gradients of every input (and second derivatives), float32 and float64, odd sizes, groups,
dilation and stride combinations, non-contiguous inputs, integer inputs, the layers' default
initialisation and repr, and torch's error types."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from oracle import check

DTYPES = [np.float32, np.float64]


def _x(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- conv3d
CONV3D = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(1, 2, 1), padding=(0, 1, 2), dilation=(2, 1, 1)),
    dict(padding="same", dilation=(1, 2, 1)),
    dict(padding="valid", groups=2),
    dict(stride=(2, 1, 3), groups=2, dilation=2, padding=2),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kw", CONV3D, ids=str)
def test_conv3d_vs_torch(kw, dtype):
    x, w, b = _x(2, 4, 5, 6, 5, dtype=dtype), _x(6, 4 // kw.get("groups", 1), 2, 3, 2, dtype=dtype,
                                                 seed=1), _x(6, dtype=dtype, seed=2)
    check(lambda x, w, b: F.conv3d(x, w, b, **kw), lambda x, w, b: TF.conv3d(x, w, b, **kw),
          x, w, b, double=dtype == np.float64, scale=10 if dtype == np.float32 else 1)


def test_conv3d_unbatched_no_bias_and_non_contiguous():
    check(lambda x, w: F.conv3d(x, w, padding=1), lambda x, w: TF.conv3d(x, w, padding=1),
          _x(2, 3, 4, 5), _x(3, 2, 2, 2, 2, seed=1), double=True)
    # a transposed view as input (strides not C-contiguous)
    check(lambda x, w: F.conv3d(x.transpose(-1, -3), w, stride=(1, 2, 1)),
          lambda x, w: TF.conv3d(x.transpose(-1, -3), w, stride=(1, 2, 1)),
          _x(1, 2, 5, 4, 3), _x(3, 2, 2, 2, 3, seed=1), double=True)


# --------------------------------------------------------------------------- transposed
CONVT = [
    dict(),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=3, padding=1, output_padding=2, dilation=2),
    dict(groups=2, stride=2, dilation=3, output_padding=2),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kw", CONVT, ids=str)
def test_conv_transpose1d_vs_torch(kw, dtype):
    x, w, b = _x(2, 4, 5, dtype=dtype), _x(4, 3, 3, dtype=dtype, seed=1), \
        _x(3 * kw.get("groups", 1), dtype=dtype, seed=2)
    check(lambda x, w, b: F.conv_transpose1d(x, w, b, **kw),
          lambda x, w, b: TF.conv_transpose1d(x, w, b, **kw), x, w, b, scale=10 if dtype == np.float32 else 1,
          double=dtype == np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kw", CONVT, ids=str)
def test_conv_transpose3d_vs_torch(kw, dtype):
    x, w, b = _x(2, 4, 3, 2, 3, dtype=dtype), _x(4, 2, 3, 2, 2, dtype=dtype, seed=1), \
        _x(2 * kw.get("groups", 1), dtype=dtype, seed=2)
    check(lambda x, w, b: F.conv_transpose3d(x, w, b, **kw),
          lambda x, w, b: TF.conv_transpose3d(x, w, b, **kw), x, w, b, scale=10 if dtype == np.float32 else 1,
          double=dtype == np.float64)


def test_conv_transpose_unbatched_and_non_contiguous():
    check(lambda x, w: F.conv_transpose1d(x, w, stride=2), lambda x, w: TF.conv_transpose1d(x, w, stride=2),
          _x(4, 5), _x(4, 2, 3, seed=1), double=True)
    check(lambda x, w: F.conv_transpose3d(x.transpose(-1, -2), w, padding=(1, 0, 0)),
          lambda x, w: TF.conv_transpose3d(x.transpose(-1, -2), w, padding=(1, 0, 0)),
          _x(1, 2, 3, 4, 2), _x(2, 3, 2, 2, 2, seed=1), double=True)


def test_conv_errors_as_torch():
    x, w = cr.zeros(1, 2, 2, 2, 2), cr.zeros(3, 2, 3, 3, 3)
    with pytest.raises(RuntimeError, match=r"conv3d: Calculated padded input size per channel: "
                                           r"\(2 x 2 x 2\). Kernel size: \(3 x 3 x 3\)"):
        F.conv3d(x, w)
    with pytest.raises(RuntimeError):
        TF.conv3d(torch.zeros(1, 2, 2, 2, 2), torch.zeros(3, 2, 3, 3, 3))
    with pytest.raises(RuntimeError, match="conv3d: expected 4D .* or 5D"):
        F.conv3d(cr.zeros(2, 2), w)
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided"):
        F.conv3d(cr.zeros(1, 2, 4, 4, 4), w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="conv3d: input has 2 channels"):
        F.conv3d(cr.zeros(1, 2, 4, 4, 4), cr.zeros(4, 2, 1, 1, 1), groups=2)
    with pytest.raises(RuntimeError, match="expected stride to be a single integer value or a list of 3"):
        F.conv3d(cr.zeros(1, 2, 4, 4, 4), w, stride=(1, 2))
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose3d(cr.zeros(1, 2, 2, 2, 2), cr.zeros(2, 1, 2, 2, 2), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="conv_transpose1d: .* Output size is too small"):
        F.conv_transpose1d(cr.zeros(1, 2, 1), cr.zeros(2, 1, 1), padding=1)
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv3d(cr.zeros(1, 2, 4, 4, 4, dtype=cr.float32), cr.zeros(3, 2, 1, 1, 1, dtype=cr.float64))
    with pytest.raises(RuntimeError, match=r"bias must have shape \(3,\)"):
        F.conv3d(cr.zeros(1, 2, 4, 4, 4), cr.zeros(3, 2, 1, 1, 1), cr.zeros(4))


# --------------------------------------------------------------------------- conv layers
@pytest.mark.parametrize("make", [
    lambda m: m.Conv3d(4, 6, 3, padding=1, groups=2),
    lambda m: m.Conv3d(2, 3, (1, 2, 3), stride=(1, 2, 1), bias=False),
    lambda m: m.Conv3d(2, 3, 3, padding="same", padding_mode="circular"),
    lambda m: m.Conv3d(2, 3, 2, padding=1, padding_mode="reflect", dilation=2),
    lambda m: m.ConvTranspose1d(2, 4, 3, stride=2, output_padding=1),
    lambda m: m.ConvTranspose3d(2, 4, (1, 2, 3), groups=2, bias=False),
    lambda m: m.ConvTranspose3d(2, 3, 2, stride=2, padding=1, dilation=2),
], ids=range(7))
def test_conv_layers_init_repr_and_values_as_torch(make):
    torch.manual_seed(5)
    ref = make(torch.nn)
    cr.manual_seed(5)
    mine = make(nn)
    assert repr(mine) == repr(ref)
    for (n1, p1), (n2, p2) in zip(ref.named_parameters(), mine.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p2.detach().numpy(), p1.detach().numpy())  # bit-identical
    shape = (2, mine.in_channels) + (5,) * len(mine.kernel_size)
    x = _x(*shape, dtype=np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oc, ot = mine(xc), ref(xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-5, atol=1e-5)
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mine.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv_transpose_layer_output_size():
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose3d(2, 3, 3, stride=2)
    cr.manual_seed(0)
    mine = nn.ConvTranspose3d(2, 3, 3, stride=2)
    x = _x(1, 2, 3, 3, 3, dtype=np.float32)
    oc, ot = mine(cr.tensor(x), output_size=(8, 7, 8)), ref(torch.tensor(x), output_size=(8, 7, 8))
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="requested an output size of"):
        mine(cr.tensor(x), output_size=(9, 7, 7))
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        nn.ConvTranspose1d(2, 2, 2, padding_mode="reflect")


# --------------------------------------------------------------------------- 1-D / 3-D pools
POOL3D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, ceil_mode=True),
          dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=1),
          dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1), ceil_mode=True)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kw", POOL3D, ids=str)
def test_pool3d_vs_torch(kw, dtype):
    x = _x(2, 2, 5, 6, 7, dtype=dtype)
    double = dtype == np.float64
    check(lambda a: F.max_pool3d(a, **kw), lambda a: TF.max_pool3d(a, **kw), x, double=double)
    check(lambda a: F.max_pool3d(a, dilation=(1, 2, 1), **kw),
          lambda a: TF.max_pool3d(a, dilation=(1, 2, 1), **kw), x, double=double)
    check(lambda a: F.avg_pool3d(a, **kw), lambda a: TF.avg_pool3d(a, **kw), x, double=double)
    check(lambda a: F.avg_pool3d(a, count_include_pad=False, **kw),
          lambda a: TF.avg_pool3d(a, count_include_pad=False, **kw), x, double=double)
    check(lambda a: F.avg_pool3d(a, divisor_override=5, **kw),
          lambda a: TF.avg_pool3d(a, divisor_override=5, **kw), x, double=double)
    _, ic = F.max_pool3d(cr.tensor(x), return_indices=True, dilation=(2, 1, 1), **kw)
    _, it = TF.max_pool3d(torch.tensor(x), return_indices=True, dilation=(2, 1, 1), **kw)
    assert ic.dtype is cr.int64 and ic.tolist() == it.tolist()


POOL1D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
          dict(kernel_size=3, stride=1, padding=1)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("kw", POOL1D, ids=str)
def test_pool1d_vs_torch(kw, dtype):
    x = _x(2, 3, 9, dtype=dtype)
    double = dtype == np.float64
    check(lambda a: F.max_pool1d(a, **kw), lambda a: TF.max_pool1d(a, **kw), x, double=double)
    check(lambda a: F.max_pool1d(a, dilation=2, **kw), lambda a: TF.max_pool1d(a, dilation=2, **kw),
          x, double=double)
    check(lambda a: F.avg_pool1d(a, **kw), lambda a: TF.avg_pool1d(a, **kw), x, double=double)
    check(lambda a: F.avg_pool1d(a, count_include_pad=False, **kw),
          lambda a: TF.avg_pool1d(a, count_include_pad=False, **kw), x[0], double=double)
    ic = F.max_pool1d(cr.tensor(x[0]), return_indices=True, **kw)[1]
    assert ic.tolist() == TF.max_pool1d(torch.tensor(x[0]), return_indices=True, **kw)[1].tolist()


def test_pool3d_unbatched_ties_nan_and_non_contiguous():
    check(lambda a: F.max_pool3d(a, 2, padding=1), lambda a: TF.max_pool3d(a, 2, padding=1),
          _x(2, 3, 4, 5), double=True)
    check(lambda a: F.avg_pool3d(a.transpose(-1, -3), 2), lambda a: TF.avg_pool3d(a.transpose(-1, -3), 2),
          _x(1, 2, 5, 4, 4), double=True)
    ties = np.round(_x(1, 1, 4, 4, 4)).clip(0, 1)                  # many equal maxima
    check(lambda a: F.max_pool3d(a, 2, 1), lambda a: TF.max_pool3d(a, 2, 1), ties)
    nan = _x(1, 1, 4, 4, 4)
    nan[0, 0, 1, 2, 3] = np.nan
    oc, ot = F.max_pool3d(cr.tensor(nan), 2), TF.max_pool3d(torch.tensor(nan), 2)
    np.testing.assert_array_equal(oc.numpy(), ot.numpy())


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_integer_max_pool_as_torch(dtype):
    x = np.random.default_rng(0).integers(-100, 100, (2, 3, 5, 7)).astype(dtype)
    for f, tf, a in [(F.max_pool2d, TF.max_pool2d, x), (F.max_pool3d, TF.max_pool3d, x[None])]:
        oc, ic = f(cr.tensor(a), 3, 2, 1, return_indices=True, ceil_mode=True)
        ot, it = tf(torch.tensor(a), 3, 2, 1, return_indices=True, ceil_mode=True)
        assert oc.dtype is getattr(cr, dtype) and not oc.requires_grad
        np.testing.assert_array_equal(oc.numpy(), ot.numpy())
        np.testing.assert_array_equal(ic.numpy(), it.numpy())
    with pytest.raises(NotImplementedError, match="max_pool1d_impl"):
        F.max_pool1d(cr.tensor(x[0]), 2)
    with pytest.raises(NotImplementedError):
        TF.max_pool1d(torch.tensor(x[0]), 2)


@pytest.mark.parametrize("op, dims, kw", [
    ("avg_pool2d", 2, dict(kernel_size=2)),
    ("avg_pool2d", 2, dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", 2, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", 2, dict(kernel_size=2, divisor_override=-3)),
    ("avg_pool3d", 3, dict(kernel_size=(1, 3, 3), stride=2, padding=(0, 1, 1),
                           count_include_pad=False)),
    ("avg_pool3d", 3, dict(kernel_size=(1, 2, 2), divisor_override=5)),
    ("avg_pool1d", 1, dict(kernel_size=3, padding=1, stride=2)),
], ids=str)
def test_int64_avg_pool_truncates_as_torch(op, dims, kw):
    x = (np.arange(-20, 25, dtype=np.int64) * 7).reshape((1,) * dims + (5, 9))   # signs mixed
    ours, ref = getattr(F, op)(cr.tensor(x), **kw), getattr(TF, op)(torch.tensor(x), **kw)
    assert ours.dtype is cr.int64
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_pool_errors_as_torch():
    with pytest.raises(RuntimeError, match=r"max_pool3d: Given input size: \(1, 2, 2, 2\). "
                                           r"Calculated output size: \(1, 0, 0, 0\)"):
        F.max_pool3d(cr.zeros(1, 1, 2, 2, 2), 3)
    with pytest.raises(RuntimeError):
        TF.max_pool3d(torch.zeros(1, 1, 2, 2, 2), 3)
    with pytest.raises(RuntimeError, match="avg_pool1d: Given input size"):
        F.avg_pool1d(cr.zeros(1, 1, 2), 3)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool3d(cr.zeros(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError,
                       match="kernel_size must either be a single int, or a tuple of three ints"):
        F.avg_pool3d(cr.zeros(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(RuntimeError, match="max_pool3d: Expected 4D or 5D"):
        F.max_pool3d(cr.zeros(4, 4, 4), 2)
    with pytest.raises(NotImplementedError, match="\"avg_pool3d\" not implemented for 'Int'"):
        F.avg_pool3d(cr.zeros(1, 1, 4, 4, 4, dtype=cr.int32), 2)
    with pytest.raises(NotImplementedError, match="\"avg_pool2d\" not implemented for 'Byte'"):
        F.avg_pool2d(cr.zeros(1, 1, 4, 4, dtype=cr.uint8), 2)
    with pytest.raises(NotImplementedError, match="\"max_pool2d\" not implemented for 'Bool'"):
        F.max_pool2d(cr.zeros(1, 1, 4, 4, dtype=cr.bool), 2)


# --------------------------------------------------------------------------- unpooling
def test_max_unpool_vs_torch():
    for f, tf, pool, x, kw in [
            (F.max_unpool1d, TF.max_unpool1d, TF.max_pool1d, _x(2, 3, 9), dict(kernel_size=2)),
            (F.max_unpool2d, TF.max_unpool2d, TF.max_pool2d, _x(2, 3, 6, 7),
             dict(kernel_size=3, stride=2, padding=1)),
            (F.max_unpool3d, TF.max_unpool3d, TF.max_pool3d, _x(1, 2, 4, 6, 5), dict(kernel_size=2)),
            (F.max_unpool2d, TF.max_unpool2d, TF.max_pool2d, _x(3, 6, 8), dict(kernel_size=2))]:
        o, i = pool(torch.tensor(x), return_indices=True, **kw)
        ic = cr.tensor(i.numpy())
        try:
            tf(o, i, **kw)
        except RuntimeError:     # the default output size cannot hold the indices: both refuse
            with pytest.raises(RuntimeError, match="Found an invalid max index"):
                f(cr.tensor(o.numpy()), ic, **kw)
        else:
            check(lambda v: f(v, ic, **kw), lambda v: tf(v, i, **kw), o.numpy(), double=True)
        size = x.shape[-(x.ndim - 2 if x.ndim > 3 or f is F.max_unpool1d else 2):]
        check(lambda v: f(v, ic, output_size=size, **kw), lambda v: tf(v, i, output_size=size, **kw),
              o.numpy(), double=True)


def test_max_unpool_errors_and_modules():
    o, i = TF.max_pool2d(torch.tensor(_x(1, 1, 5, 5)), 2, return_indices=True)
    with pytest.raises(RuntimeError, match="Found an invalid max index"):
        F.max_unpool2d(cr.tensor(o.numpy()), cr.tensor(i.numpy()) + 100, 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(cr.tensor(o.numpy()), cr.tensor(i.numpy()), 2, output_size=(9, 9))
    with pytest.raises(ValueError):
        TF.max_unpool2d(o, i, 2, output_size=(9, 9))
    for make in (lambda m: m.MaxUnpool1d(2), lambda m: m.MaxUnpool2d(2), lambda m: m.MaxUnpool3d(2, 1, 0)):
        assert repr(make(nn)) == repr(make(torch.nn))
    mine = nn.MaxUnpool2d(2)(cr.tensor(o.numpy()), cr.tensor(i.numpy()), output_size=(5, 5))
    np.testing.assert_array_equal(mine.numpy(), torch.nn.MaxUnpool2d(2)(o, i, output_size=(5, 5)).numpy())


# --------------------------------------------------------------------------- adaptive pools
def test_adaptive_pools_vs_torch():
    check(lambda a: F.adaptive_avg_pool3d(a, (2, 3, None)), lambda a: TF.adaptive_avg_pool3d(a, (2, 3, None)),
          _x(2, 2, 5, 6, 7), double=True)
    check(lambda a: F.adaptive_avg_pool3d(a, 1), lambda a: TF.adaptive_avg_pool3d(a, 1), _x(2, 5, 6, 7),
          double=True)
    check(lambda a: F.adaptive_avg_pool3d(a, (3, 4, 2)), lambda a: TF.adaptive_avg_pool3d(a, (3, 4, 2)),
          _x(1, 2, 5, 6, 7, dtype=np.float32))
    for op in ("adaptive_avg_pool1d", "adaptive_max_pool1d"):
        check(lambda a: getattr(F, op)(a, 4), lambda a: getattr(TF, op)(a, 4), _x(2, 3, 7), double=True)
    x = _x(3, 7)
    assert F.adaptive_max_pool1d(cr.tensor(x), 3, True)[1].tolist() == \
        TF.adaptive_max_pool1d(torch.tensor(x), 3, True)[1].tolist()
    x = _x(3, 5, 7)
    ic = F.adaptive_max_pool2d(cr.tensor(x), (2, 3), return_indices=True)[1]
    assert ic.dtype is cr.int64
    assert ic.tolist() == TF.adaptive_max_pool2d(torch.tensor(x), (2, 3), return_indices=True)[1].tolist()
    for size in [(2, 3, 4), (3, None, 2), 1]:
        check(lambda a: F.adaptive_max_pool3d(a, size), lambda a: TF.adaptive_max_pool3d(a, size),
              _x(2, 2, 5, 6, 7), double=True)
        x = _x(2, 5, 6, 7, dtype=np.float32)
        check(lambda a: F.adaptive_max_pool3d(a, size), lambda a: TF.adaptive_max_pool3d(a, size), x)
        assert F.adaptive_max_pool3d(cr.tensor(x), size, True)[1].tolist() == \
            TF.adaptive_max_pool3d(torch.tensor(x), size, True)[1].tolist()
    with pytest.raises(RuntimeError, match="adaptive_avg_pool3d: output_size must be 3"):
        F.adaptive_avg_pool3d(cr.zeros(1, 1, 4, 4, 4), (2, 2))


# --------------------------------------------------------------------------- pixel shuffle
def test_pixel_shuffle_vs_torch():
    check(lambda a: F.pixel_shuffle(a, 2), lambda a: TF.pixel_shuffle(a, 2), _x(2, 8, 3, 5), double=True)
    check(lambda a: F.pixel_shuffle(a, 3), lambda a: TF.pixel_shuffle(a, 3), _x(9, 2, 3, dtype=np.float32))
    check(lambda a: F.pixel_unshuffle(a, 2), lambda a: TF.pixel_unshuffle(a, 2), _x(2, 1, 3, 4, 6),
          double=True)
    check(lambda a: F.pixel_unshuffle(a.transpose(-1, -2), 2),
          lambda a: TF.pixel_unshuffle(a.transpose(-1, -2), 2), _x(1, 2, 6, 4), double=True)
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(cr.zeros(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="expects width to be divisible by downscale_factor"):
        F.pixel_unshuffle(cr.zeros(1, 1, 4, 3), 2)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(cr.zeros(4, 4), 2)
    assert repr(nn.PixelShuffle(2)) == repr(torch.nn.PixelShuffle(2))
    assert repr(nn.PixelUnshuffle(3)) == repr(torch.nn.PixelUnshuffle(3))


# --------------------------------------------------------------------------- interpolate
_SHAPES = {3: (2, 3, 7), 4: (2, 2, 7, 5), 5: (1, 2, 4, 5, 3)}
_LINEAR = {3: ["linear"], 4: ["bilinear", "bicubic"], 5: ["trilinear"]}
INTERP = []
for _nd in (3, 4, 5):
    for _mode in ["nearest", "nearest-exact", "area"] + _LINEAR[_nd]:
        for _kw in [dict(scale_factor=2), dict(scale_factor=0.6), dict(size=11), dict(size=3),
                    dict(scale_factor=1.7, recompute_scale_factor=True)]:
            for _ac in ([None] if _mode in ("nearest", "nearest-exact", "area") else [False, True]):
                _k = dict(_kw, mode=_mode)
                if _ac is not None:
                    _k["align_corners"] = _ac
                INTERP.append((_nd, _k))


@pytest.mark.parametrize("nd, kw", INTERP, ids=[f"{n}d-{k}" for n, k in INTERP])
def test_interpolate_vs_torch(nd, kw):
    check(lambda a: F.interpolate(a, **kw), lambda a: TF.interpolate(a, **kw), _x(*_SHAPES[nd]),
          double=True)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
def test_interpolate_float32_and_non_contiguous(mode):
    check(lambda a: F.interpolate(a, size=(9, 4), mode=mode),
          lambda a: TF.interpolate(a, size=(9, 4), mode=mode), _x(1, 2, 6, 7, dtype=np.float32),
          scale=4)
    check(lambda a: F.interpolate(a.transpose(-1, -2), scale_factor=(1.5, 0.5), mode=mode),
          lambda a: TF.interpolate(a.transpose(-1, -2), scale_factor=(1.5, 0.5), mode=mode),
          _x(1, 2, 6, 7), double=True)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("kw", [dict(size=(3, 2)), dict(size=(11, 4)), dict(scale_factor=0.4),
                                dict(scale_factor=0.5, align_corners=True)], ids=str)
def test_interpolate_antialias_vs_torch(mode, kw):
    check(lambda a: F.interpolate(a, mode=mode, antialias=True, **kw),
          lambda a: TF.interpolate(a, mode=mode, antialias=True, **kw), _x(2, 3, 9, 8), double=True)


UINT8 = [(mode, aa, kw) for mode in ["nearest", "nearest-exact", "bilinear", "bicubic"]
         for aa in ([False] if mode.startswith("nearest") else [False, True])
         for kw in [dict(size=(9, 4)), dict(size=(3, 13)), dict(scale_factor=2.5),
                    dict(scale_factor=0.37), dict(size=(5, 7))]
         + ([] if mode.startswith("nearest") else [dict(size=(7, 9), align_corners=True)])]


@pytest.mark.parametrize("mode, antialias, kw", UINT8, ids=[str(c) for c in UINT8])
def test_interpolate_uint8_bit_exact(mode, antialias, kw):
    x = np.random.default_rng(0).integers(0, 256, (2, 3, 7, 7)).astype(np.uint8)
    out = F.interpolate(cr.tensor(x), mode=mode, antialias=antialias, **kw)
    ref = TF.interpolate(torch.tensor(x), mode=mode, antialias=antialias, **kw)
    assert out.dtype is cr.uint8
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_interpolate_errors_as_torch():
    x4, x3 = cr.zeros(1, 1, 4, 4), cr.zeros(1, 1, 4)
    cases = [
        (lambda m: m.interpolate(x4), ValueError, "either size or scale_factor should be defined"),
        (lambda m: m.interpolate(x4, 2, 2), ValueError, "only one of size or scale_factor"),
        (lambda m: m.interpolate(x3, 8, mode="bilinear"), NotImplementedError,
         "Got 3D input, but bilinear mode needs 4D input"),
        (lambda m: m.interpolate(x4, 8, mode="trilinear"), NotImplementedError,
         "Got 4D input, but trilinear mode needs 5D input"),
        (lambda m: m.interpolate(x3, 8, mode="bicubic"), NotImplementedError, "Only 3D, 4D and 5D"),
        (lambda m: m.interpolate(x4, 8, mode="foo"), NotImplementedError, "Only 3D, 4D and 5D"),
        (lambda m: m.interpolate(x4, 8, align_corners=True), ValueError, "align_corners option"),
        (lambda m: m.interpolate(x4, 8, recompute_scale_factor=True), ValueError,
         "recompute_scale_factor is not meaningful"),
        (lambda m: m.interpolate(x4, (2, 2, 2)), ValueError, "same number of spatial dimensions"),
        (lambda m: m.interpolate(x4, 0), RuntimeError, "Input and output sizes should be greater than 0"),
        (lambda m: m.interpolate(x4, 2, mode="nearest", antialias=True), ValueError, "Anti-alias option"),
        (lambda m: m.interpolate(cr.zeros(1, 1, 4, 4, dtype=cr.int64), 2), NotImplementedError,
         "compute_indices_weights_nearest"),
        (lambda m: m.interpolate(cr.zeros(1, 1, 4, 4, dtype=cr.uint8), 2, mode="area"),
         NotImplementedError, "adaptive_avg_pool2d"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call(F)
    for call, kind, _ in cases:    # torch raises the same types on the same calls
        with pytest.raises(kind):
            call(_TorchF)


class _TorchF:
    """torch.nn.functional on chainrule-shaped zero inputs, for the error table above."""

    @staticmethod
    def interpolate(x, *args, **kw):
        return TF.interpolate(torch.tensor(x.numpy()), *args, **kw)


def test_deprecated_upsample_functions_warn_and_match_torch():
    x = _x(1, 2, 3, 4)
    for name, kw in [("upsample", dict(scale_factor=2, mode="bicubic")),
                     ("upsample_nearest", dict(size=(5, 7))),
                     ("upsample_bilinear", dict(scale_factor=1.5))]:
        with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
            ours = getattr(F, name)(cr.tensor(x), **kw)
        with pytest.warns(UserWarning):
            ref = getattr(TF, name)(torch.tensor(x), **kw)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_upsample_layers_as_torch():
    for make, shape in [
            (lambda m: m.Upsample(scale_factor=2, mode="bicubic", align_corners=True), (1, 2, 3, 4)),
            (lambda m: m.Upsample(size=3), (1, 2, 5)),
            (lambda m: m.Upsample(scale_factor=(2, 1.5), mode="nearest-exact"), (1, 2, 3, 4)),
            (lambda m: m.Upsample(scale_factor=1.5, mode="trilinear", recompute_scale_factor=True),
             (1, 1, 3, 4, 2)),
            (lambda m: m.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 4)),
            (lambda m: m.UpsamplingBilinear2d(size=(3, 4)), (1, 2, 5, 6))]:
        mine, ref = make(nn), make(torch.nn)
        assert repr(mine) == repr(ref)
        x = _x(*shape, dtype=np.float32)
        np.testing.assert_allclose(mine(cr.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_pool_layers_as_torch():
    for make, shape in [
            (lambda m: m.MaxPool1d(3, 2, 1), (2, 3, 8)), (lambda m: m.MaxPool3d(2), (1, 2, 4, 4, 6)),
            (lambda m: m.AvgPool1d(3, ceil_mode=True), (2, 3, 8)),
            (lambda m: m.AvgPool3d(2, divisor_override=3), (1, 2, 4, 4, 6)),
            (lambda m: m.AdaptiveAvgPool1d(2), (2, 3, 8)),
            (lambda m: m.AdaptiveAvgPool3d((2, None, 3)), (1, 2, 4, 4, 6)),
            (lambda m: m.AdaptiveMaxPool1d(3), (2, 3, 8)),
            (lambda m: m.AdaptiveMaxPool3d((2, None, 3)), (1, 2, 4, 4, 6))]:
        mine, ref = make(nn), make(torch.nn)
        assert repr(mine) == repr(ref)
        x = _x(*shape, dtype=np.float32)
        np.testing.assert_allclose(mine(cr.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(),
                                   rtol=1e-6, atol=1e-6)
    o, i = nn.MaxPool3d(2, return_indices=True)(cr.tensor(_x(1, 1, 4, 4, 4)))
    assert i.dtype is cr.int64 and tuple(i.shape) == (1, 1, 2, 2, 2)


# --------------------------------------------------------------------------- pad
_PADS = {
    3: [(-1, 2), (2, -1), (-2, -1), (3, -2), (1, 1)],
    4: [(-1, 2, 1, -2), (2, -1, 0, 0), (-1, -1, -1, -1), (0, 0, -1, 2)],
    5: [(-1, 2, 1, -2, 1, -1), (2, -1, 0, 0, 0, 0), (0, 0, 0, 0, -1, 2)],
}
PAD_CASES = [(m, nd, p) for m in ["constant", "reflect", "replicate", "circular"]
             for nd in (3, 4, 5) for p in _PADS[nd]]


@pytest.mark.parametrize("mode, nd, widths", PAD_CASES, ids=[str(c) for c in PAD_CASES])
def test_pad_negative_widths_vs_torch(mode, nd, widths):
    shape = {3: (2, 3, 5), 4: (2, 3, 4, 5), 5: (1, 2, 4, 5, 4)}[nd]
    check(lambda a: F.pad(a, widths, mode=mode), lambda a: TF.pad(a, widths, mode=mode),
          _x(*shape), double=True)
    check(lambda a: F.pad(a, widths, mode=mode), lambda a: TF.pad(a, widths, mode=mode),
          _x(*shape[1:], dtype=np.float32))          # unbatched


def test_pad_errors_as_torch():
    y = cr.zeros(2, 3, 5, 5)
    cases = [
        (lambda m, t: m.pad(t, (1, 1), mode="foo"), NotImplementedError, "Unrecognised padding mode foo"),
        (lambda m, t: m.pad(t, (1,)), RuntimeError, "Padding length must be divisible by 2"),
        (lambda m, t: m.pad(t, (1, 1) * 5), RuntimeError, "Padding length should be less than or equal"),
        (lambda m, t: m.pad(t, (1, 1, 1, 1), mode="reflect", value=2.0), RuntimeError,
         "doesn't take in value argument"),
        (lambda m, t: m.pad(t, (0, 5, 0, 0), mode="reflect"), RuntimeError,
         r"Padding size should be less than the corresponding input dimension, but got: "
         r"padding \(0, 5\) at dimension 3"),
        (lambda m, t: m.pad(t, (-2, 5, 0, 0), mode="reflect"), RuntimeError, "Padding size should be less"),
        (lambda m, t: m.pad(t, (6, 0, 0, 0), mode="circular"), RuntimeError,
         "Padding value causes wrapping around more than once"),
        (lambda m, t: m.pad(t, (-6, 0, 0, 0), mode="circular"), RuntimeError,
         "Negative padding value is resulting in an empty dimension"),
        (lambda m, t: m.pad(t, (1, 1), mode="reflect"), NotImplementedError,
         "Padding size 2 is not supported for 4D input tensor"),
        (lambda m, t: m.pad(t[0], (1, 1) * 3, mode="replicate"), NotImplementedError,
         "Padding size 6 is not supported for 3D input tensor"),
        (lambda m, t: m.pad(t, (-3, -3, 0, 0), mode="replicate"), RuntimeError, "negative"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call(F, y)
        with pytest.raises(kind):
            call(TF, torch.zeros(2, 3, 5, 5))
    with pytest.raises(RuntimeError, match="non-zero dimensions"):
        F.pad(cr.zeros(2, 0, 4), (1, 1), mode="reflect")
    with pytest.raises(TypeError, match="must be tuple of ints"):
        F.pad(y, (1.5, 1))


# --------------------------------------------------------------------------- empty and size-1
@pytest.mark.parametrize("call, shapes", [
    (lambda m, x, w: m.conv3d(x, w), [(0, 2, 3, 3, 3), (4, 2, 2, 2, 2)]),
    (lambda m, x, w: m.conv_transpose3d(x, w, stride=2), [(0, 2, 3, 3, 3), (2, 4, 2, 2, 2)]),
    (lambda m, x, w: m.conv_transpose1d(x, w), [(0, 2, 3), (2, 4, 2)]),
    (lambda m, x: m.max_pool3d(x, 2), [(0, 2, 4, 4, 4)]),
    (lambda m, x: m.avg_pool3d(x, 2), [(0, 2, 4, 4, 4)]),
    (lambda m, x: m.adaptive_max_pool3d(x, 2), [(0, 2, 4, 4, 4)]),
    (lambda m, x: m.interpolate(x, scale_factor=2, mode="bilinear"), [(0, 2, 4, 4)]),
    (lambda m, x: m.pad(x, (-1, 1), mode="reflect"), [(0, 2, 4)]),
    (lambda m, x: m.pixel_shuffle(x, 2), [(0, 4, 2, 2)]),
    (lambda m, x: m.max_pool3d(x, 1), [(1, 1, 1, 1, 1)]),
    (lambda m, x: m.avg_pool3d(x, (1, 2, 1), ceil_mode=True), [(1, 1, 1, 3, 1)]),
    (lambda m, x: m.interpolate(x, size=5, mode="bicubic", align_corners=True), [(1, 2, 1, 1)]),
    (lambda m, x: m.interpolate(x, size=1, mode="linear", align_corners=True), [(1, 2, 4)]),
], ids=range(13))
def test_empty_batches_and_size_one_dims(call, shapes):
    arrays = [_x(*s, seed=i) for i, s in enumerate(shapes)]
    ours = call(F, *[cr.tensor(a, requires_grad=True) for a in arrays])
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ref = call(TF, *ts)
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.sum().backward()              # the backward of an empty or size-1 case runs too
