"""Convolution, pooling, vision filters and residual networks against torch, SciPy and
finite differences."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.standard_normal(shape)


def _check(fc, ft, *arrays, double=False, rtol=1e-9, atol=1e-9):
    """Forward, every gradient, and (optionally) double backward vs torch in float64."""
    cs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    oc, ot = fc(*cs), ft(*ts)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=rtol, atol=atol)
    g = RNG.standard_normal(tuple(ot.shape))
    gc = cr.autograd.grad(oc, cs, cr.tensor(g), create_graph=double)
    gt = torch.autograd.grad(ot, ts, torch.tensor(g), create_graph=double)
    for a, b in zip(gc, gt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    if double:
        sc = sum((a * a * a).sum() for a in gc)
        st = sum((a * a * a).sum() for a in gt)
        for a, b in zip(cr.autograd.grad(sc, cs, allow_unused=True),
                        torch.autograd.grad(st, ts, allow_unused=True)):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-7)


CONV_GRID = [
    dict(), dict(stride=2), dict(padding=1), dict(padding=(2, 0), stride=(1, 2)),
    dict(dilation=2, padding=2), dict(groups=2), dict(groups=4, stride=2, padding=1),
    dict(padding="same"), dict(padding="same", dilation=(2, 1)), dict(padding="valid"),
]


@pytest.mark.parametrize("kw", CONV_GRID, ids=str)
@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (1, 1)])
def test_conv2d_vs_torch_with_double_backward(kw, kernel):
    if kw.get("padding") == "same" and kw.get("stride", 1) != 1:
        pytest.skip("'same' needs stride 1 (torch forbids it too)")
    out_channels = 8 if kw.get("groups") == 4 else 6
    x, w, b = _x(2, 4, 7, 6), _x(out_channels, 4 // kw.get("groups", 1), *kernel), _x(out_channels)
    _check(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
           x, w, b, double=True)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=(2, 3), dilation=(1, 2), padding=(0, 1)),
                                dict(groups=2, stride=2), dict(output_padding=(0, 1), stride=2)], ids=str)
def test_conv_transpose2d_vs_torch(kw):
    x, w, b = _x(2, 4, 5, 4), _x(4, 3, 3, 2), _x(3 * kw.get("groups", 1))
    _check(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
           lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw), x, w, b, double=True)


def test_conv1d_vs_torch():
    _check(lambda x, w: F.conv1d(x, w, stride=2, padding=1, dilation=2),
           lambda x, w: TF.conv1d(x, w, stride=2, padding=1, dilation=2), _x(2, 3, 11), _x(5, 3, 3))


def test_conv_jvp_vs_torch():
    x, w = _x(2, 3, 6, 5), _x(4, 3, 3, 3)
    tx, tw = _x(*x.shape), _x(*w.shape)
    from chainrule.autograd import forward_ad as fwd
    with fwd.dual_level():
        out = F.conv2d(fwd.make_dual(cr.tensor(x), cr.tensor(tx)), fwd.make_dual(cr.tensor(w), cr.tensor(tw)),
                       stride=2, padding=1)
        tangent = fwd.unpack_dual(out).tangent
    ref = torch.func.jvp(lambda a, b: TF.conv2d(a, b, stride=2, padding=1),
                         (torch.tensor(x), torch.tensor(w)), (torch.tensor(tx), torch.tensor(tw)))[1]
    np.testing.assert_allclose(tangent.numpy(), ref.numpy(), rtol=1e-9, atol=1e-9)


def test_conv_gradient_by_finite_differences():
    x, w = _x(1, 2, 5, 5), _x(3, 2, 3, 3)
    xt = cr.tensor(x, requires_grad=True)
    F.conv2d(xt, cr.tensor(w), stride=2, padding=1).sum().backward()
    eps, num = 1e-6, np.zeros_like(x)
    for idx in itertools.product(*map(range, x.shape)):
        d = np.zeros_like(x)
        d[idx] = eps
        num[idx] = (F.conv2d(cr.tensor(x + d), cr.tensor(w), stride=2, padding=1).sum().item()
                    - F.conv2d(cr.tensor(x - d), cr.tensor(w), stride=2, padding=1).sum().item()) / (2 * eps)
    np.testing.assert_allclose(xt.grad.numpy(), num, rtol=1e-6, atol=1e-7)


def test_unfold_fold_vs_torch():
    _check(lambda x: F.unfold(x, (2, 3), padding=1, stride=(2, 1), dilation=(1, 2)),
           lambda x: TF.unfold(x, (2, 3), padding=1, stride=(2, 1), dilation=(1, 2)), _x(2, 3, 6, 7))
    _check(lambda c: F.fold(c, (5, 6), 2, stride=2, padding=1),
           lambda c: TF.fold(c, (5, 6), 2, stride=2, padding=1), _x(2, 12, 12))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=2, stride=1, dilation=2),
                                dict(kernel_size=(3, 2), stride=(2, 3), padding=1, ceil_mode=True)], ids=str)
def test_max_pool2d_vs_torch(kw):
    _check(lambda x: F.max_pool2d(x, **kw), lambda x: TF.max_pool2d(x, **kw), _x(2, 3, 9, 8))
    out, idx = F.max_pool2d(cr.tensor(_x(1, 2, 6, 6)), 2, return_indices=True)
    assert idx.dtype == cr.int64 and idx.shape == (1, 2, 3, 3)


def test_max_pool2d_ties_like_torch():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0], [0, 0, 0, 0], [0, 0, 0, 0]]]])
    _check(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), x)
    assert F.max_pool2d(cr.tensor(x), 2, return_indices=True)[1].tolist() == \
        TF.max_pool2d(torch.tensor(x), 2, return_indices=True)[1].tolist()


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=False),
                                dict(kernel_size=2, divisor_override=3)], ids=str)
def test_avg_pool2d_vs_torch(kw):
    _check(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), _x(2, 3, 9, 8))


@pytest.mark.parametrize("size", [1, (3, 5), (4, 4), (9, 2)])
def test_adaptive_pools_vs_torch(size):
    _check(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size), _x(2, 3, 9, 8))
    _check(lambda x: F.adaptive_max_pool2d(x, size), lambda x: TF.adaptive_max_pool2d(x, size), _x(2, 3, 9, 8))


@pytest.mark.parametrize("kw", [dict(size=(5, 7)), dict(scale_factor=2),
                                dict(size=(13, 5), mode="bilinear", align_corners=False),
                                dict(size=(13, 5), mode="bilinear", align_corners=True),
                                dict(scale_factor=0.5, mode="bilinear")], ids=str)
def test_interpolate_vs_torch(kw):
    _check(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), _x(2, 3, 9, 8))


def test_dropout2d_zeroes_whole_channels():
    out = F.dropout2d(cr.ones(50, 40, 3, 3), 0.5).numpy()
    per_channel = out.reshape(50, 40, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.4 < (per_channel[..., 0] == 0).mean() < 0.6
    assert nn.Dropout2d(0.5).eval()(cr.ones(1, 2, 2, 2)).tolist() == cr.ones(1, 2, 2, 2).tolist()


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_modules_vs_torch(mode):
    for make in (lambda lib: lib.nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=1, padding_mode=mode),
                 lambda lib: lib.nn.Conv1d(3, 4, 3, padding=2, padding_mode=mode, dilation=2)):
        mine, ref = make(cr), make(torch)
        assert repr(mine) == repr(ref)
        ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
        x = _x(2, 3, 6, 7) if isinstance(mine, nn.Conv2d) else _x(2, 3, 9)
        x = x.astype(np.float32)
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        oc, ot = mine(xc), ref(xt)
        np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-5, atol=1e-5)
        oc.sum().backward()
        ot.sum().backward()
        np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(mine.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_pool_and_transpose_modules_repr_and_output():
    pairs = [(nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
             (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
             (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
             (nn.AdaptiveMaxPool2d(2), torch.nn.AdaptiveMaxPool2d(2))]
    x = _x(2, 3, 8, 8).astype(np.float32)
    for mine, ref in pairs:
        np.testing.assert_allclose(mine(cr.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    ct, tct = nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1), torch.nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1)
    assert repr(ct) == repr(tct)
    tct.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ct.state_dict().items()})
    np.testing.assert_allclose(ct(cr.tensor(x)).detach().numpy(), tct(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_conv_errors():
    with pytest.raises(ValueError, match=r"conv2d: expected input of shape \(N, C, H, W\), got \(3, 4\)"):
        F.conv2d(cr.zeros(3, 4), cr.zeros(1, 1, 1, 1))
    with pytest.raises(ValueError, match="input has 3 channels but the weight"):
        F.conv2d(cr.zeros(1, 3, 5, 5), cr.zeros(2, 2, 3, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="pad should be at most half"):
        F.max_pool2d(cr.zeros(1, 1, 4, 4), 2, padding=2)


# ------------------------------------------------------------------ vision
def test_convolve_and_correlate_vs_scipy():
    signal = pytest.importorskip("scipy.signal")
    for ks in [(3, 3), (2, 4), (5, 1)]:
        im, k = _x(7, 9), _x(*ks)
        for mode in ("full", "same", "valid"):
            np.testing.assert_allclose(cr.vision.convolve2d(im, k, mode).numpy(),
                                       signal.convolve2d(im, k, mode), atol=1e-12)
            np.testing.assert_allclose(cr.vision.correlate2d(im, k, mode).numpy(),
                                       signal.correlate2d(im, k, mode), atol=1e-12)
    # convolution flips the kernel: a true convolution of an impulse returns the kernel itself
    impulse = np.zeros((5, 5))
    impulse[2, 2] = 1
    k = _x(3, 3)
    np.testing.assert_allclose(cr.vision.convolve2d(impulse, k, "same").numpy()[1:4, 1:4], k)
    np.testing.assert_allclose(cr.vision.correlate2d(impulse, k, "same").numpy()[1:4, 1:4], k[::-1, ::-1])


def _photo():
    try:
        from skimage import data
        return data.camera()[::4, ::4].astype(np.float64) / 255.0   # 128×128 of the real photo
    except ImportError:
        pytest.skip("scikit-image (test extra) is needed for the camera photo")


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "wrap", "constant"])
def test_filters_vs_scipy_ndimage_on_camera(mode):
    ndi = pytest.importorskip("scipy.ndimage")
    img = _photo()
    v = cr.vision
    np.testing.assert_allclose(v.sobel(img, -1, mode).numpy(), ndi.sobel(img, axis=1, mode=mode), atol=1e-12)
    np.testing.assert_allclose(v.sobel(img, -2, mode).numpy(), ndi.sobel(img, axis=0, mode=mode), atol=1e-12)
    np.testing.assert_allclose(v.laplacian(img, 4, mode).numpy(), ndi.laplace(img, mode=mode), atol=1e-12)
    np.testing.assert_allclose(v.laplacian(img, 8, mode).numpy(),
                               ndi.correlate(img, v.LAPLACIAN_8.numpy().astype(float), mode=mode), atol=1e-12)
    np.testing.assert_allclose(v.gaussian_blur(img, 1.7, mode=mode).numpy(),
                               ndi.gaussian_filter(img, 1.7, mode=mode), atol=1e-12)
    mag = np.hypot(ndi.sobel(img, 1, mode=mode), ndi.sobel(img, 0, mode=mode))
    np.testing.assert_allclose(v.gradient_magnitude(img, mode).numpy(), mag, atol=1e-12)


def test_filter_kernels_are_the_decks_and_filters_accept_batches():
    v = cr.vision
    assert v.SOBEL_X.tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert v.SOBEL_Y.tolist() == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert v.LAPLACIAN_4.tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert v.LAPLACIAN_8.tolist() == [[1, 1, 1], [1, -8, 1], [1, 1, 1]]
    batch = cr.tensor(_x(2, 3, 10, 12), requires_grad=True)
    out = v.gradient_magnitude(batch)
    assert out.shape == batch.shape
    out.sum().backward()   # differentiable
    assert batch.grad.shape == batch.shape
    single = v.sobel(batch.detach()[1, 2].numpy())
    np.testing.assert_allclose(v.sobel(batch.detach())[1, 2].numpy(), single.numpy(), atol=1e-6)
    step = np.zeros((8, 8))
    step[:, 4:] = 1.0            # a vertical edge: G_x responds, G_y does not
    assert np.abs(v.sobel(step, -1).numpy()).max() == 4 and np.abs(v.sobel(step, -2).numpy()).max() == 0
    assert v.edges(step, 1.0).numpy()[:, 3:5].all()
    with pytest.raises(ValueError, match="neighbours must be 4 or 8"):
        v.laplacian(step, 6)


# ------------------------------------------------------------------ models
class TorchBlock(torch.nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(planes)
        self.relu = torch.nn.ReLU(inplace=True)
        self.conv2 = torch.nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inp != planes:
            self.downsample = torch.nn.Sequential(torch.nn.Conv2d(inp, planes, 1, stride, bias=False),
                                                  torch.nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet20(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(16)
        self.relu = torch.nn.ReLU(inplace=True)
        inp, stages = 16, []
        for i, planes in enumerate((16, 32, 64)):
            blocks = []
            for j in range(3):
                blocks.append(TorchBlock(inp, planes, 2 if (i and not j) else 1))
                inp = planes
            setattr(self, f"layer{i + 1}", torch.nn.Sequential(*blocks))
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def test_resnet20_matches_a_torch_copy():
    mine, ref = cr.models.resnet20(), TorchResNet20()
    assert list(mine.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    x = _x(4, 3, 32, 32).astype(np.float32)
    for mode in ("train", "eval"):
        getattr(mine, mode)()
        getattr(ref, mode)()
        np.testing.assert_allclose(mine(cr.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-3, atol=1e-3)


def test_resnet_variants_and_plain_switch():
    tv_keys = {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
               "layer2.0.downsample.1.running_var", "layer4.1.bn2.bias", "fc.weight"}
    keys = set(cr.models.resnet18().state_dict())
    assert tv_keys <= keys and len(keys) == 122   # torchvision's resnet18 has 122 entries
    plain = cr.models.resnet20(plain=True)
    assert not any("downsample" in k for k in plain.state_dict())
    assert cr.models.resnet32().layer1.__len__() == 5 and len(cr.models.resnet56().layer3) == 9
    out = cr.models.ResNet(cr.models.Bottleneck, [1, 1], num_classes=3, widths=(8, 16), stem="cifar")(
        cr.randn(2, 3, 8, 8))
    assert out.shape == (2, 3)
    assert cr.models.LeNet5(input_size=32)(cr.randn(2, 1, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="6n \\+ 2"):
        cr.models.resnet20.__wrapped__ if False else cr.models.resnet._cifar(21, 10, 3, False)


def test_cnn_on_digits_reaches_97_percent():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    n = 1400
    cr.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
    opt = cr.optim.Adam(model.parameters(), lr=3e-3)
    Xtr, ytr = cr.tensor(X[:n]), cr.tensor(y[:n])
    for epoch in range(12):
        perm = np.random.default_rng(epoch).permutation(n)
        for i in range(0, n, 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(model(Xtr[idx]), ytr[idx]).backward()
            opt.step()
    model.eval()
    with cr.no_grad():
        acc = (model(cr.tensor(X[n:])).argmax(1).numpy() == y[n:]).mean()
    assert acc >= 0.97, acc
