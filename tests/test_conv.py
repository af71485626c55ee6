"""Convolution (conv1d, conv2d, conv_transpose2d, unfold/fold) and the conv modules against
torch: forward values, every gradient and the double backward over a grid of strides, paddings
(ints, pairs, 'same', 'valid'), dilations, groups, kernel and input sizes; JVPs against
torch.func.jvp; finite differences; module reprs, state_dicts and padding modes.

The grid tests run on both paths (the ``path`` fixture): the NumPy kernels in float64, and
oneDNN's kernels (the ``onednn`` extra, float32 only) with a check that oneDNN really ran."""
import itertools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import forward_ad as fwd
from chainrule.backends import cpu, onednn
from chainrule.nn.functional import conv, conv_kernels

from oracle import check

RNG = np.random.default_rng(0)


def _x(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


class _Path:
    """Which kernels run: arrays of the path's dtype, the tolerance scale for its rounding
    (float32 sums of ~100 products), and whether oneDNN may hand the case back to NumPy."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype
        self.scale = 1.0 if dtype == np.float64 else 10.0
        self.falls_back = False

    def x(self, *shape):
        return _x(*shape, dtype=self.dtype)


@pytest.fixture(params=["numpy", "onednn"])
def path(request):
    """Run the test on NumPy's kernels (float64) or on oneDNN's (float32), and for oneDNN check
    that its kernels ran (its primitive cache was used)."""
    if request.param == "numpy":
        with onednn.flags(enabled=False):
            yield _Path("numpy", np.float64)
        return
    assert onednn.is_available(), "the test extra installs onednn-cpu-gomp"
    before = onednn.cache_info()
    with onednn.flags(enabled=True):
        chosen = _Path("onednn", np.float32)
        yield chosen
    after = onednn.cache_info()
    ran = after["hits"] + after["misses"] > before["hits"] + before["misses"]
    assert ran or chosen.falls_back, "oneDNN never ran"


# --------------------------------------------------------------------------- conv2d
# (input shape, weight shape, keyword arguments): odd and non-square images and kernels
CONV2D_GRID = [
    ((2, 4, 7, 6), (6, 4, 3, 3), {}),
    ((2, 4, 7, 6), (6, 4, 3, 3), dict(stride=2)),
    ((2, 4, 7, 6), (6, 4, 3, 3), dict(padding=1)),
    ((2, 4, 7, 6), (6, 4, 2, 4), dict(padding=(2, 0), stride=(1, 2))),
    ((1, 3, 9, 5), (2, 3, 3, 2), dict(dilation=2, padding=2)),
    ((1, 3, 9, 8), (4, 3, 3, 3), dict(dilation=(1, 3), stride=(2, 1), padding=(1, 3))),
    ((2, 4, 7, 6), (6, 2, 3, 3), dict(groups=2)),
    ((2, 4, 7, 6), (8, 1, 3, 3), dict(groups=4, stride=2, padding=1)),          # depthwise ×2
    ((2, 6, 6, 7), (9, 2, 2, 3), dict(groups=3, dilation=2, padding=(1, 2))),
    ((2, 4, 7, 6), (6, 4, 3, 3), dict(padding="same")),
    ((2, 4, 7, 6), (6, 4, 2, 4), dict(padding="same")),                         # odd total pad
    ((2, 4, 7, 6), (6, 4, 2, 3), dict(padding="same", dilation=(3, 2))),
    ((1, 4, 8, 5), (4, 2, 4, 2), dict(padding="same", groups=2)),
    ((2, 4, 7, 6), (6, 4, 3, 3), dict(padding="valid")),
    ((2, 4, 7, 6), (5, 4, 1, 1), {}),
    ((2, 4, 7, 6), (5, 4, 1, 1), dict(stride=3, padding=1)),                    # pad > kernel
    ((3, 2, 5, 5), (3, 2, 5, 5), {}),                                            # kernel = image
    ((1, 1, 1, 1), (2, 1, 1, 1), {}),
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("xs,ws,kw", CONV2D_GRID, ids=[str(c[2]) + str(c[1][2:]) for c in CONV2D_GRID])
def test_conv2d_vs_torch_with_double_backward(path, xs, ws, kw, bias):
    arrays = [path.x(*xs), path.x(*ws)] + ([path.x(ws[0])] if bias else [])
    check(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), *arrays, double=True,
          scale=path.scale)


@pytest.mark.parametrize("xs,ws,kw", [
    ((5, 4, 7, 6), (6, 2, 3, 3), dict(groups=2, stride=2, padding=1)),
    ((4, 3, 6, 6), (5, 3, 3, 3), dict(padding=1)),                  # stride 1: correlation route
    ((3, 2, 5, 6), (4, 2, 2, 3), dict(dilation=(2, 1))),            # GEMM + col2im route
], ids=["groups-stride", "same", "col2im"])
def test_conv2d_in_chunks_of_images_matches_torch(monkeypatch, xs, ws, kw):
    """Columns are built a few images at a time; with a budget of one byte every image is its
    own chunk, so the batch loops (forward, weight gradient, input gradient) all run."""
    monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", 1)
    assert len(conv_kernels._batches(xs[0], 1, conv.Geometry((1, 1), (0, 0), (1, 1), 1, (1, 1)),
                                     1, 1, 8)) == xs[0]
    check(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), _x(*xs), _x(*ws),
          _x(ws[0]), double=True)
    check(lambda y, w: F.conv_transpose2d(y, w, stride=2), lambda y, w: TF.conv_transpose2d(y, w, stride=2),
          _x(3, 4, 3, 4), _x(4, 2, 3, 3), double=True)


@pytest.mark.parametrize("by_pixel", [True, False], ids=["pixel-rows", "channel-rows"])
def test_both_column_layouts_match_torch_over_the_grid(monkeypatch, by_pixel):
    """conv and its weight gradient pick one of two column layouts by the layer's shape; forced
    to each, every ungrouped geometry of the grid (strides, dilations, asymmetric 'same'
    padding, 1×1 and whole-image kernels), in chunks of one image and whole, matches torch."""
    monkeypatch.setattr(conv_kernels, "_by_pixel", lambda c, wo, geo: by_pixel and geo.groups == 1)
    for chunk in (1, conv_kernels.CHUNK_BYTES):
        monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", chunk)
        for xs, ws, kw in CONV2D_GRID:
            if kw.get("groups", 1) == 1:
                check(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), _x(*xs), _x(*ws),
                      _x(ws[0]), double=True)


# --------------------------------------------------------------------------- fast kernels vs reference
# (x shape, w shape, stride, pads (top, bottom, left, right), dilation, groups)
KERNEL_GRID = [
    ((1, 3, 7, 6), (4, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),      # one image, 'same'
    ((5, 4, 9, 8), (6, 4, 3, 2), (2, 1), (0, 2, 1, 0), (1, 2), 1),      # asymmetric pads, stride, dilation
    ((4, 6, 8, 7), (9, 2, 3, 3), (1, 2), (2, 1, 0, 1), (2, 1), 3),      # groups
    ((3, 4, 6, 6), (8, 1, 3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 4),      # depthwise ×2
    ((6, 2, 5, 5), (3, 2, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),      # 1×1
    ((2, 8, 4, 4), (5, 8, 3, 3), (1, 1), (2, 0, 0, 2), (1, 1), 1),      # kw·C > Wo: pixel rows by default
    ((3, 2, 6, 9), (4, 2, 4, 2), (3, 2), (3, 3, 1, 1), (1, 3), 1),      # pads ≥ stride, kernel rows missed
    ((0, 3, 5, 5), (4, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),      # empty batch
]
KERNEL_MODES = {"whole-batch": (None, False), "per-image": (1, False), "threads": (1, True)}


@pytest.mark.parametrize("mode", KERNEL_MODES)
@pytest.mark.parametrize("by_pixel", [True, False], ids=["pixel-rows", "channel-major"])
@pytest.mark.parametrize("xs,ws,stride,pads,dilation,groups", KERNEL_GRID,
                         ids=[f"{c[0]}-s{c[2]}-p{c[3]}-d{c[4]}-g{c[5]}" for c in KERNEL_GRID])
def test_fast_kernels_agree_with_the_reference(monkeypatch, mode, by_pixel, xs, ws, stride, pads,
                                               dilation, groups):
    """conv, conv_transpose (both its routes), conv_weight, im2col and col2im of conv_kernels
    against the few-line reference in conv.py, float64: forced to each column layout, with
    the whole batch in one chunk, one image per chunk, and chunks on two threads."""
    chunk_bytes, threaded = KERNEL_MODES[mode]
    monkeypatch.setattr(conv_kernels, "_by_pixel", lambda c, wo, geo: by_pixel and geo.groups == 1)
    if chunk_bytes is not None:
        monkeypatch.setattr(conv_kernels, "CHUNK_BYTES", chunk_bytes)
    before = cr.get_num_threads()
    geo = conv.Geometry(stride, pads, dilation, groups, ws[2:])
    ho, wo = geo.out_size(*xs[2:])
    x, w, b, gy = _x(*xs), _x(*ws), _x(ws[0]), _x(xs[0], ws[0], ho, wo)
    try:
        cr.set_num_threads(2 if threaded else before)
        with cpu.tuned(enabled=threaded):
            fast = [conv_kernels.conv(x, w, geo, ho, wo, b), conv_kernels.conv(x, w, geo, ho, wo),
                    conv_kernels.conv_transpose(gy, w, geo, xs), conv_kernels.conv_weight(x, gy, geo, ws)]
    finally:
        cr.set_num_threads(before)
    ref = [conv.reference_conv(x, w, geo, ho, wo, b), conv.reference_conv(x, w, geo, ho, wo),
           conv.reference_conv_transpose(gy, w, geo, xs), conv.reference_conv_weight(x, gy, geo, ws)]
    for name, f, r in zip(["conv+bias", "conv", "conv_transpose", "conv_weight"], fast, ref):
        assert f.shape == r.shape, name
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-12, err_msg=name)
    cols = conv.im2col(x, geo, ho, wo)
    np.testing.assert_array_equal(conv_kernels.im2col(x, geo, ho, wo), cols)
    np.testing.assert_allclose(conv_kernels.col2im(cols, xs, geo, ho, wo),
                               conv.col2im(cols, xs, geo, ho, wo), rtol=1e-12, atol=1e-12)


def test_the_reference_is_torchs_convolution():
    """The reference itself, on one geometry of each kind, against torch: what the fast
    kernels are held to is right."""
    for xs, ws, stride, pads, dilation, groups in KERNEL_GRID:
        geo = conv.Geometry(stride, pads, dilation, groups, ws[2:])
        ho, wo = geo.out_size(*xs[2:])
        x, w = _x(*xs), _x(*ws)
        t, b_, l, r = pads
        xt = TF.pad(torch.tensor(x), (l, r, t, b_))
        ref = TF.conv2d(xt, torch.tensor(w), stride=stride, dilation=dilation, groups=groups)
        np.testing.assert_allclose(conv.reference_conv(x, w, geo, ho, wo), ref.numpy(), rtol=1e-10,
                                   atol=1e-12)
        gy = _x(*ref.shape)
        xg, wg = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        out = TF.conv2d(TF.pad(xg, (l, r, t, b_)), wg, stride=stride, dilation=dilation, groups=groups)
        gx_ref, gw_ref = torch.autograd.grad(out, [xg, wg], torch.tensor(gy))
        np.testing.assert_allclose(conv.reference_conv_transpose(gy, w, geo, xs), gx_ref.numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(conv.reference_conv_weight(x, gy, geo, ws), gw_ref.numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_conv_on_an_empty_batch_matches_torch():
    w = _x(4, 3, 3, 3)
    for fc, ft, xs in [
        (lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), (0, 3, 5, 5)),
        (lambda x, w: F.conv_transpose2d(x, w, stride=2), lambda x, w: TF.conv_transpose2d(x, w, stride=2),
         (0, 4, 5, 5))]:
        check(fc, ft, _x(*xs), w)           # shapes, and a weight gradient of zeros


def test_conv2d_float32_stays_float32_and_matches_torch():
    x, w, b = _x(4, 3, 10, 9, dtype=np.float32), _x(5, 3, 3, 3, dtype=np.float32), _x(5, dtype=np.float32)
    # the weight gradient sums N·Ho·Wo = 80 products of products: float32 rounding in another
    # summation order than torch's reaches ~2e-6, so the float32 tolerance is scaled by 10
    check(lambda *a: F.conv2d(*a, stride=2, padding=1), lambda *a: TF.conv2d(*a, stride=2, padding=1),
          x, w, b, scale=10)
    xc, wc = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    out = F.conv2d(xc, wc, cr.tensor(b), padding="same")
    out.sum().backward()
    assert out.dtype == cr.float32 and xc.grad.dtype == cr.float32 and wc.grad.dtype == cr.float32


def test_strided_same_padding_is_refused_like_torch():
    x, w = torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="same"):
        TF.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(cr.zeros(1, 1, 5, 5), cr.zeros(1, 1, 3, 3), stride=2, padding="same")


def test_conv2d_backward_twice_with_retain_graph_and_weight_only():
    """The forward's columns are reused by the first backward and rebuilt for a second one."""
    x, w = _x(2, 3, 6, 6), _x(4, 3, 3, 3)
    xc, wc = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    oc, ot = F.conv2d(xc, wc, padding=1), TF.conv2d(xt, wt, padding=1)
    g = _x(*ot.shape)
    first = cr.autograd.grad(oc, [wc], cr.tensor(g), retain_graph=True)[0]
    second = cr.autograd.grad(oc, [xc, wc], cr.tensor(g))
    ref = torch.autograd.grad(ot, [xt, wt], torch.tensor(g))
    np.testing.assert_allclose(first.numpy(), ref[1].numpy(), rtol=1e-10)
    np.testing.assert_allclose(second[1].numpy(), ref[1].numpy(), rtol=1e-10)
    np.testing.assert_allclose(second[0].numpy(), ref[0].numpy(), rtol=1e-10)
    # the weight gradient alone, input not requiring grad
    wc2 = cr.tensor(w, requires_grad=True)
    F.conv2d(cr.tensor(x), wc2, padding=1).backward(cr.tensor(g))
    np.testing.assert_allclose(wc2.grad.numpy(), ref[1].numpy(), rtol=1e-10)


def test_conv2d_input_modified_in_place_after_forward_is_detected():
    x = cr.tensor(_x(1, 2, 5, 5), requires_grad=True)
    h = x * 1.0
    out = F.conv2d(h, cr.tensor(_x(3, 2, 3, 3), requires_grad=True))
    with cr.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# --------------------------------------------------------------------------- conv_transpose2d
CONVT_GRID = [
    ((2, 4, 5, 4), (4, 3, 3, 2), {}),
    ((2, 4, 5, 4), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 5, 4), (4, 3, 3, 2), dict(stride=(2, 3), dilation=(1, 2), padding=(0, 1))),
    ((2, 4, 5, 4), (4, 3, 3, 2), dict(groups=2, stride=2)),
    ((2, 4, 5, 4), (4, 3, 3, 2), dict(output_padding=(0, 1), stride=2)),
    ((1, 6, 4, 5), (6, 1, 2, 3), dict(groups=3, dilation=2, padding=1, output_padding=1, stride=(1, 2))),
    ((2, 3, 4, 4), (3, 2, 3, 3), dict(padding=1)),                  # stride 1: the correlation route
    ((2, 3, 6, 5), (3, 2, 1, 1), dict(stride=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CONVT_GRID, ids=[str(c[2]) for c in CONVT_GRID])
def test_conv_transpose2d_vs_torch_with_double_backward(path, xs, ws, kw):
    b = path.x(ws[1] * kw.get("groups", 1))
    # output_padding ≥ 1 makes an output size the geometry does not give: oneDNN declines the
    # transposed conv itself (the rest of the graph may still run on it)
    path.falls_back = path.name == "onednn" and kw.get("output_padding", 0) != 0
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
          lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw), path.x(*xs), path.x(*ws), b,
          double=True, scale=path.scale)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """⟨conv(x, w), y⟩ = ⟨x, convT(y, w)⟩ for the same geometry."""
    x, w = _x(2, 3, 9, 8), _x(4, 3, 3, 2)
    kw = dict(stride=2, padding=1, dilation=(1, 2))
    y = F.conv2d(cr.tensor(x), cr.tensor(w), **kw)
    v = _x(*y.shape)
    xt = F.conv_transpose2d(cr.tensor(v), cr.tensor(w), output_padding=(0, 1), **kw)
    assert xt.shape == x.shape
    np.testing.assert_allclose((y.numpy() * v).sum(), (x * xt.numpy()).sum(), rtol=1e-10)


# --------------------------------------------------------------------------- conv1d
CONV1D_GRID = [
    dict(), dict(stride=2, padding=1, dilation=2), dict(padding="same"), dict(padding="same", dilation=3),
    dict(padding="valid", stride=3), dict(groups=3, padding=2),
]


@pytest.mark.parametrize("kw", CONV1D_GRID, ids=str)
def test_conv1d_vs_torch_with_double_backward(path, kw):
    w = path.x(6, 6 // kw.get("groups", 1), 4)
    check(lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: TF.conv1d(x, w, b, **kw),
          path.x(2, 6, 11), w, path.x(6), double=True, scale=path.scale)


# --------------------------------------------------------------------------- forward mode
def _jvp(fn_cr, fn_t, primals, tangents):
    with fwd.dual_level():
        out = fn_cr(*[fwd.make_dual(cr.tensor(p), cr.tensor(t)) for p, t in zip(primals, tangents)])
        tangent = fwd.unpack_dual(out).tangent
    ref = torch.func.jvp(fn_t, tuple(map(torch.tensor, primals)), tuple(map(torch.tensor, tangents)))[1]
    tol = dict(rtol=1e-9, atol=1e-10) if primals[0].dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tangent.numpy(), ref.numpy(), **tol)


def test_conv_jvps_vs_torch_func(path):
    x, w, b = path.x(2, 4, 6, 5), path.x(6, 2, 3, 3), path.x(6)
    kw = dict(stride=2, padding=1, groups=2)
    _jvp(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
         [x, w, b], [path.x(*x.shape), path.x(*w.shape), path.x(*b.shape)])
    y, wt = path.x(2, 4, 3, 3), path.x(4, 3, 3, 2)
    kwt = dict(stride=2, padding=1, output_padding=1)
    _jvp(lambda y, w: F.conv_transpose2d(y, w, **kwt), lambda y, w: TF.conv_transpose2d(y, w, **kwt),
         [y, wt], [path.x(*y.shape), path.x(*wt.shape)])
    _jvp(lambda x, w: F.conv1d(x, w, padding="same"), lambda x, w: TF.conv1d(x, w, padding="same"),
         [path.x(2, 3, 9), path.x(4, 3, 4)], [path.x(2, 3, 9), path.x(4, 3, 4)])


def test_conv_gradients_by_finite_differences():
    x, w, w2 = _x(1, 2, 5, 4), _x(3, 2, 3, 2), _x(2, 3, 3, 2)
    for fn in (lambda x: F.conv2d(x, cr.tensor(w), stride=2, padding=1, dilation=(1, 2)),
               lambda x: F.conv_transpose2d(x, cr.tensor(w2), stride=2, output_padding=1)):
        xt = cr.tensor(x, requires_grad=True)
        out = fn(xt)
        v = _x(*out.shape)
        (out * cr.tensor(v)).sum().backward()
        eps, num = 1e-6, np.zeros_like(x)
        for idx in itertools.product(*map(range, x.shape)):
            d = np.zeros_like(x)
            d[idx] = eps
            num[idx] = ((fn(cr.tensor(x + d)).numpy() - fn(cr.tensor(x - d)).numpy()) * v).sum() / (2 * eps)
        np.testing.assert_allclose(xt.grad.numpy(), num, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- unfold / fold
@pytest.mark.parametrize("kw", [dict(kernel_size=(2, 3), padding=1, stride=(2, 1), dilation=(1, 2)),
                                dict(kernel_size=3), dict(kernel_size=(1, 2), stride=2)], ids=str)
def test_unfold_vs_torch_with_double_backward(kw):
    check(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), _x(2, 3, 6, 7), double=True)


def test_fold_vs_torch_and_fold_unfold_counts_overlaps():
    check(lambda c: F.fold(c, (5, 6), 2, stride=2, padding=1),
          lambda c: TF.fold(c, (5, 6), 2, stride=2, padding=1), _x(2, 12, 12), double=True)
    check(lambda c: F.fold(c, (4, 5), (2, 3), dilation=(1, 2)),
          lambda c: TF.fold(c, (4, 5), (2, 3), dilation=(1, 2)), _x(1, 12, 3))
    # fold(unfold(1)) counts how many blocks cover each pixel
    ones = cr.ones(1, 1, 4, 4)
    counts = F.fold(F.unfold(ones, 3, padding=1), (4, 4), 3, padding=1)
    ref = TF.fold(TF.unfold(torch.ones(1, 1, 4, 4), 3, padding=1), (4, 4), 3, padding=1)
    assert counts.tolist() == ref.tolist()


# --------------------------------------------------------------------------- modules
def _copy_into_torch(mine, ref):
    assert list(mine.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})


def _module_matches(mine, ref, x, rtol=1e-5, atol=1e-5):
    assert repr(mine) == repr(ref)
    _copy_into_torch(mine, ref)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oc, ot = mine(xc), ref(xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=rtol, atol=atol)
    g = _x(*ot.shape, dtype=np.float32)
    oc.backward(cr.tensor(g))
    ot.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    for (name, p), q in zip(mine.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same", "valid"], ids=str)
def test_conv2d_module_padding_modes_vs_torch(mode, padding):
    make = lambda lib: lib.nn.Conv2d(3, 4, (3, 2), padding=padding, padding_mode=mode,
                                     dilation=(1, 2) if padding == "same" else 1)
    _module_matches(make(cr), make(torch), _x(2, 3, 6, 7, dtype=np.float32))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv1d_module_vs_torch(mode):
    for kw in (dict(padding=2, dilation=2), dict(padding="same", bias=False), dict(stride=2, groups=3)):
        make = lambda lib: lib.nn.Conv1d(3, 6, 3, padding_mode=mode, **kw)
        _module_matches(make(cr), make(torch), _x(2, 3, 9, dtype=np.float32))


def test_conv_transpose2d_module_vs_torch():
    for kw in (dict(stride=2, output_padding=1), dict(stride=(2, 1), padding=1, groups=3, bias=False),
               dict(dilation=2, padding=(1, 2))):
        make = lambda lib: lib.nn.ConvTranspose2d(3, 6, (3, 2), **kw)
        _module_matches(make(cr), make(torch), _x(2, 3, 5, 4, dtype=np.float32))


def test_conv2d_default_init_matches_torchs_distribution():
    """kaiming_uniform_(a=√5): W ~ U(±1/√fan_in), b ~ U(±1/√fan_in), as torch."""
    cr.manual_seed(0)
    conv = nn.Conv2d(8, 64, 3)
    bound = 1 / np.sqrt(8 * 9)
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    assert conv.weight.dtype == cr.float32


def test_conv_errors():
    with pytest.raises(RuntimeError, match=r"conv2d: expected 3D \(unbatched\) or 4D \(batched\) input of shape \(N, C, H, W\), got input of shape \(3, 4\)"):
        F.conv2d(cr.zeros(3, 4), cr.zeros(1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="input has 3 channels but the weight"):
        F.conv2d(cr.zeros(1, 3, 5, 5), cr.zeros(2, 2, 3, 3))
    with pytest.raises(RuntimeError, match="larger than the padded input"):
        F.conv2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="must be divisible by groups"):
        F.conv2d(cr.zeros(1, 3, 5, 5), cr.zeros(2, 1, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"bias must have shape \(2,\)"):
        F.conv2d(cr.zeros(1, 1, 5, 5), cr.zeros(2, 1, 3, 3), cr.zeros(3))
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv2d(cr.zeros(1, 1, 5, 5), cr.zeros(1, 1, 3, 3, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="padding must be an int, a pair, 'same' or 'valid'"):
        F.conv2d(cr.zeros(1, 1, 5, 5), cr.zeros(1, 1, 3, 3), padding="full")
    with pytest.raises(RuntimeError, match="output_padding"):
        F.conv_transpose2d(cr.zeros(1, 1, 3, 3), cr.zeros(1, 1, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"conv1d: expected input \(N, C, L\)"):
        F.conv1d(cr.zeros(1, 1, 5, 5), cr.zeros(1, 1, 3))
    with pytest.raises(RuntimeError, match=r"fold: expected L = 4 blocks"):
        F.fold(cr.zeros(1, 4, 5), (3, 3), 2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Conv2d(3, 4, 3, padding="same")(cr.zeros(1, 3, 5, 5))   # no warning on the normal path
