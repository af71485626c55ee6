"""chainrule.vision's torchvision interface against torch: the ResNet builders (state_dict keys,
shapes, seeded initialisation, logits, gradients) against a torch copy of torchvision's
architecture; make_grid / save_image against torch re-implementations of torchvision's code
(PNG read back by a small decoder here and by Pillow); FakeData against torch's generator and
ToTensor(ToPILImage(img)) computed in torch."""

import functools
import math
import io
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from torch import nn as tnn

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.vision import datasets, models, transforms, utils

RNG = np.random.default_rng(7)


# ------------------------------------------------------------ torch copy of torchvision's ResNet
def _t3x3(cin, cout, stride=1, groups=1, dilation=1):
    return tnn.Conv2d(cin, cout, 3, stride, dilation, groups=groups, bias=False, dilation=dilation)


class TBasic(tnn.Module):
    expansion = 1

    def __init__(self, inp, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or tnn.BatchNorm2d
        self.conv1, self.bn1 = _t3x3(inp, planes, stride), norm_layer(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2, self.bn2 = _t3x3(planes, planes), norm_layer(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class TBottle(tnn.Module):
    expansion = 4

    def __init__(self, inp, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or tnn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1, self.bn1 = tnn.Conv2d(inp, width, 1, bias=False), norm_layer(width)
        self.conv2, self.bn2 = _t3x3(width, width, stride, groups, dilation), norm_layer(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = norm_layer(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class TResNet(tnn.Module):
    def __init__(
        self,
        block,
        layers,
        num_classes=1000,
        zero_init_residual=False,
        groups=1,
        width_per_group=64,
        replace_stride_with_dilation=None,
        norm_layer=None,
    ):
        super().__init__()
        self._norm = norm_layer = norm_layer or tnn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = 64, 1, groups, width_per_group
        dil = replace_stride_with_dilation or [False] * 3
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1, self.relu, self.maxpool = (
            norm_layer(64),
            tnn.ReLU(inplace=True),
            tnn.MaxPool2d(3, 2, 1),
        )
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2, dil[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, dil[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, dil[2])
        self.avgpool, self.fc = (
            tnn.AdaptiveAvgPool2d((1, 1)),
            tnn.Linear(512 * block.expansion, num_classes),
        )
        for m in self.modules():
            if isinstance(m, tnn.Conv2d):
                tnn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (tnn.BatchNorm2d, tnn.GroupNorm)):
                tnn.init.constant_(m.weight, 1)
                tnn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                tnn.init.constant_(
                    m.bn3.weight if isinstance(m, TBottle) else m.bn2.weight, 0
                ) if isinstance(m, (TBottle, TBasic)) else None

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        downsample, previous = None, self.dilation
        if dilate:
            self.dilation, stride = self.dilation * stride, 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = tnn.Sequential(
                tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                self._norm(planes * block.expansion),
            )
        layers = [
            block(
                self.inplanes,
                planes,
                stride,
                downsample,
                self.groups,
                self.base_width,
                previous,
                self._norm,
            )
        ]
        self.inplanes = planes * block.expansion
        layers += [
            block(
                self.inplanes,
                planes,
                groups=self.groups,
                base_width=self.base_width,
                dilation=self.dilation,
                norm_layer=self._norm,
            )
            for _ in range(1, blocks)
        ]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


ARCH = {
    "resnet18": (TBasic, [2, 2, 2, 2]),
    "resnet34": (TBasic, [3, 4, 6, 3]),
    "resnet50": (TBottle, [3, 4, 6, 3]),
    "resnet101": (TBottle, [3, 4, 23, 3]),
    "resnet152": (TBottle, [3, 8, 36, 3]),
}


def _both(name, seed=0, ckw=None, tkw=None, **kw):
    """The chainrule and torch models built under one seed (torch's random stream in both)."""
    cr.manual_seed(seed)
    mine = models.__dict__[name](**kw, **(ckw or {}))
    torch.manual_seed(seed)
    block, layers = ARCH.get(name, ARCH["resnet50"])
    return mine, TResNet(block, layers, **kw, **(tkw or {}))


def _same_state(mine, ref, exact=True):
    a, b = mine.state_dict(), ref.state_dict()
    assert list(a) == list(b)
    for k in a:
        assert tuple(a[k].shape) == tuple(b[k].shape), k
        if exact:
            np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)


def _same_eval_logits(mine, ref, x, tol=2e-4):
    mine.eval(), ref.eval()
    with cr.no_grad(), torch.no_grad():
        np.testing.assert_allclose(
            mine(cr.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(), rtol=tol, atol=tol
        )


@pytest.mark.parametrize("name,params", [("resnet18", 11689512), ("resnet50", 25557032)])
def test_resnets_equal_torchvisions_keys_shapes_seeded_init_and_eval_logits(name, params):
    mine, ref = _both(name)
    _same_state(mine, ref)  # same keys in the same order, shapes, and values under one seed
    assert sum(p.numel() for p in mine.parameters()) == params  # torchvision's counts
    _same_eval_logits(mine, ref, RNG.standard_normal((1, 3, 32, 32)).astype(np.float32), tol=1e-3)


def test_resnet18_training_step_gradients_and_statistics_match_torch():
    """In float64: layer4's batch norm sees 2 values per channel, which float32 rounding would
    swamp."""
    mine, ref = _both("resnet18", seed=3, num_classes=7)
    mine, ref = mine.double(), ref.double()
    x, y = RNG.standard_normal((2, 3, 36, 32)), RNG.integers(0, 7, 2)
    lc = F.cross_entropy(mine(cr.tensor(x)), cr.tensor(y))
    lt = tnn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
    np.testing.assert_allclose(lc.item(), lt.item(), rtol=1e-10)
    lc.backward(), lt.backward()
    for (name, p), q in zip(mine.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=name
        )
    for (name, b), c in zip(mine.named_buffers(), ref.buffers()):
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def _tiny(block, tblock, seed, ckw=None, tkw=None, **kw):
    """One block per stage: torchvision's options on a small network."""
    cr.manual_seed(seed)
    mine = models.ResNet(block, [1, 1, 1, 1], **kw, **(ckw or {}))
    torch.manual_seed(seed)
    return mine, TResNet(tblock, [1, 1, 1, 1], **kw, **(tkw or {}))


@pytest.mark.parametrize(
    "kw",
    [
        dict(zero_init_residual=True),
        dict(groups=4, width_per_group=8),
        dict(replace_stride_with_dilation=[False, True, True]),
        dict(num_classes=3),
    ],
    ids=["zero-init", "grouped", "dilated", "classes"],
)
def test_bottleneck_options_match_torch(kw):
    mine, ref = _tiny(models.Bottleneck, TBottle, 1, **kw)
    _same_state(mine, ref)
    _same_eval_logits(mine, ref, RNG.standard_normal((1, 3, 24, 24)).astype(np.float32), tol=1e-3)
    if kw.get("zero_init_residual"):
        assert all(
            float(m.bn3.weight.abs().sum()) == 0
            for m in mine.modules()
            if isinstance(m, models.Bottleneck)
        )


def test_norm_layer_and_zero_init_with_basic_blocks_match_torch():
    mine, ref = _tiny(
        models.BasicBlock,
        TBasic,
        2,
        ckw=dict(norm_layer=functools.partial(nn.GroupNorm, 4)),
        tkw=dict(norm_layer=functools.partial(tnn.GroupNorm, 4)),
        zero_init_residual=True,
    )
    _same_state(mine, ref)
    assert (
        isinstance(mine.layer2[0].downsample[1], nn.GroupNorm)
        and float(mine.layer1[0].bn2.weight.abs().sum()) == 0
    )
    _same_eval_logits(mine, ref, RNG.standard_normal((2, 3, 32, 32)).astype(np.float32))


@pytest.mark.parametrize(
    "name,block,layers,fixed",
    [
        ("resnet18", "BasicBlock", [2, 2, 2, 2], {}),
        ("resnet34", "BasicBlock", [3, 4, 6, 3], {}),
        ("resnet50", "Bottleneck", [3, 4, 6, 3], {}),
        ("resnet101", "Bottleneck", [3, 4, 23, 3], {}),
        ("resnet152", "Bottleneck", [3, 8, 36, 3], {}),
        ("resnext50_32x4d", "Bottleneck", [3, 4, 6, 3], dict(groups=32, width_per_group=4)),
        ("resnext101_32x8d", "Bottleneck", [3, 4, 23, 3], dict(groups=32, width_per_group=8)),
        ("resnext101_64x4d", "Bottleneck", [3, 4, 23, 3], dict(groups=64, width_per_group=4)),
        ("wide_resnet50_2", "Bottleneck", [3, 4, 6, 3], dict(width_per_group=128)),
        ("wide_resnet101_2", "Bottleneck", [3, 4, 23, 3], dict(width_per_group=128)),
    ],
)
def test_builders_pass_torchvisions_blocks_layers_and_settings(
    monkeypatch, name, block, layers, fixed
):
    """Each builder is ResNet(block, layers, **kwargs) with torchvision's settings (the two
    block types are checked against torch above; more blocks per stage change nothing else)."""
    built = []
    monkeypatch.setattr(models.resnet, "ResNet", lambda *a, **k: built.append((a, k)))
    models.get_model(name, num_classes=2)
    assert built == [((getattr(models, block), layers), dict(num_classes=2, **fixed))]
    for key in fixed:
        with pytest.raises(
            ValueError, match=f"The parameter '{key}' expected value {fixed[key]} but got 1"
        ):
            models.get_model(name, **{key: 1})


def test_model_lookup_as_the_imagenet_example_does():
    names = sorted(
        n
        for n in models.__dict__
        if n.islower() and not n.startswith("__") and callable(models.__dict__[n])
    )
    assert {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"} <= set(names)
    assert models.list_models(include="resnet*") == [
        "resnet101",
        "resnet152",
        "resnet18",
        "resnet34",
        "resnet50",
    ]
    assert (
        models.list_models(module=models) == models.list_models()
        and "wide_resnet50_2" in models.list_models()
    )
    assert (
        models.get_model_builder("ResNet18") is models.resnet18
        and models.ResNet is cr.models.ResNet
    )
    assert isinstance(models.__dict__["resnet18"](num_classes=4).fc, nn.Linear)


def test_weights_and_option_errors():
    for call in (
        lambda: models.resnet18(weights="DEFAULT"),
        lambda: models.resnet50(weights="IMAGENET1K_V2"),
    ):
        with pytest.raises(
            RuntimeError, match=r"cannot download pretrained weights.*cr\.load\('resnet"
        ):
            call()
    with (
        pytest.warns(UserWarning, match="'pretrained' is deprecated"),
        pytest.raises(RuntimeError, match="resnet34"),
    ):
        models.resnet34(pretrained=True)
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        assert models.resnet18(pretrained=False, num_classes=3).fc.out_features == 3
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1 and base_width=64"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="should be None or a 3-element tuple, got"):
        models.resnet50(replace_stride_with_dilation=[True])
    with pytest.raises(ValueError, match="Unknown model vgg11"):
        models.get_model("vgg11")
    with pytest.raises(TypeError):
        models.resnet18(3)  # keyword-only, as torchvision's


# --------------------------------------------------------------------------- make_grid / save_image
def torch_make_grid(
    tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0
):
    """torchvision's make_grid, written here in torch."""
    if isinstance(tensor, list):
        tensor = torch.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        tensor = tensor.clone()

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t):
            norm_ip(t, *value_range) if value_range is not None else norm_ip(
                t, float(t.min()), float(t.max())
            )

        for t in tensor if scale_each is True else [tensor]:
            norm_range(t)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = -(-nmaps // xmaps)
    height, width = tensor.size(2) + padding, tensor.size(3) + padding
    grid = tensor.new_full(
        (tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value
    )
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid.narrow(1, y * height + padding, height - padding).narrow(
            2, x * width + padding, width - padding
        ).copy_(tensor[k])
    return grid


GRID_CASES = [
    ((5, 1, 4, 6), dict(nrow=2)),
    ((3, 3, 5, 5), dict(padding=0)),
    ((9, 3, 3, 4), dict(pad_value=0.7)),
    ((4, 2, 3, 3), dict(nrow=3, padding=1)),
    ((7, 1, 5, 5), dict(normalize=True)),
    ((6, 3, 4, 4), dict(normalize=True, value_range=(-0.5, 0.5))),
    ((6, 3, 4, 4), dict(normalize=True, scale_each=True)),
    ((6, 3, 4, 4), dict(normalize=True, value_range=(-1, 2), scale_each=True)),
    ((1, 3, 4, 5), {}),
    ((1, 5, 6), dict(normalize=True)),
    ((5, 6), {}),
    ((3, 4, 6), {}),
    ((10, 4, 2, 2), dict(nrow=20)),
]


@pytest.mark.parametrize("shape,kw", GRID_CASES, ids=[f"{s}-{sorted(k)}" for s, k in GRID_CASES])
def test_make_grid_matches_torchvision(shape, kw):
    x = (RNG.standard_normal(shape) * 2).astype(np.float32)
    out = utils.make_grid(cr.tensor(x), **kw)
    np.testing.assert_array_equal(out.numpy(), torch_make_grid(torch.tensor(x), **kw).numpy())
    assert out.dtype == cr.float32 and not out.requires_grad


def test_make_grid_lists_integers_input_untouched_and_errors():
    imgs = [RNG.standard_normal((3, 4, 5)).astype(np.float32) for _ in range(3)]
    np.testing.assert_array_equal(
        utils.make_grid([cr.tensor(i) for i in imgs], nrow=2).numpy(),
        torch_make_grid([torch.tensor(i) for i in imgs], nrow=2).numpy(),
    )
    u8 = RNG.integers(0, 256, (3, 1, 4, 4), dtype=np.uint8)
    out = utils.make_grid(cr.tensor(u8), pad_value=255)
    assert out.dtype == cr.uint8 and np.array_equal(
        out.numpy(), torch_make_grid(torch.tensor(u8), pad_value=255).numpy()
    )
    x = cr.tensor(imgs[0], requires_grad=True)
    before = x.detach().numpy().copy()
    utils.make_grid(x[None].expand(2, 3, 4, 5), normalize=True)
    np.testing.assert_array_equal(x.detach().numpy(), before)
    with pytest.raises(
        TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"
    ):
        utils.make_grid(imgs[0])
    with pytest.raises(TypeError, match="got a list containing <class 'numpy.ndarray'>"):
        utils.make_grid(imgs)
    with pytest.raises(RuntimeError, match="make_grid: normalize needs a floating point tensor"):
        utils.make_grid(cr.tensor(u8), normalize=True)   # torch: Float can't be cast to Byte
    with pytest.raises(RuntimeError):
        torch_make_grid(torch.tensor(u8), normalize=True)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(cr.tensor(imgs[0]), normalize=True, value_range=[0, 1])
    with pytest.raises(
        ValueError, match=r"make_grid: expected images .* got shape \(2, 2, 2, 2, 2\)"
    ):
        utils.make_grid(cr.zeros(2, 2, 2, 2, 2))


def _read_png(data):
    """A minimal PNG decoder (8-bit, non-interlaced, all five filter types)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + n]
        assert (
            struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])[0]
            == zlib.crc32(kind + body) & 0xFFFFFFFF
        )
        header = struct.unpack(">IIBBBBB", body) if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + n
    w, h, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0
    c = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c).astype(np.int32)
    out, prev = np.zeros((h, w * c), np.int32), np.zeros(w * c, np.int32)
    for r in range(h):
        f, line = raw[r, 0], raw[r, 1:]
        cur = np.zeros(w * c, np.int32)
        for i in range(w * c):
            a, b = (cur[i - c] if i >= c else 0), prev[i]
            cc = prev[i - c] if i >= c else 0
            p = a + b - cc
            pred = [
                0,
                a,
                b,
                (a + b) // 2,
                a
                if abs(p - a) <= min(abs(p - b), abs(p - cc))
                else (b if abs(p - b) <= abs(p - cc) else cc),
            ][f]
            cur[i] = (line[i] + pred) & 255
        out[r], prev = cur, cur
    return out.reshape(h, w, c).astype(np.uint8)


def _torch_saved_array(x, **kw):
    grid = torch_make_grid(torch.tensor(x), **kw)
    return grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", torch.uint8).numpy()


@pytest.mark.parametrize(
    "shape,kw",
    [
        ((6, 1, 5, 7), dict(nrow=4)),
        ((3, 3, 4, 4), dict(normalize=True)),
        ((1, 2, 4, 4), {}),
        ((4, 4, 3, 3), dict(padding=1, pad_value=1.0)),
    ],
    ids=["grey-batch", "rgb-normalized", "grey-alpha", "rgba"],
)
def test_save_image_writes_torchvisions_pixels_as_png(tmp_path, shape, kw):
    x = RNG.uniform(-0.2, 1.2, shape).astype(np.float32)  # outside [0, 1] too: clamped
    path = tmp_path / "out.png"
    utils.save_image(cr.tensor(x), path, **kw)
    expected = _torch_saved_array(x, **kw)
    np.testing.assert_array_equal(_read_png(path.read_bytes()), expected)
    assert os.listdir(tmp_path) == ["out.png"]  # written through a temporary file, renamed
    Image = pytest.importorskip("PIL.Image")
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im).reshape(expected.shape), expected)


def test_save_image_file_objects_other_formats_and_errors(tmp_path):
    x = RNG.uniform(0, 1, (2, 3, 4, 4)).astype(np.float32)
    buf = io.BytesIO()
    utils.save_image(cr.tensor(x), buf, format="PNG")
    np.testing.assert_array_equal(_read_png(buf.getvalue()), _torch_saved_array(x))
    Image = pytest.importorskip("PIL.Image")
    utils.save_image(cr.tensor(x), tmp_path / "out.bmp")  # Pillow writes the other formats
    with Image.open(tmp_path / "out.bmp") as im:
        assert im.format == "BMP" and np.array_equal(np.asarray(im), _torch_saved_array(x))
    with pytest.raises(
        TypeError, match=r"save_image: cannot write an image of shape \(10, 10, 5\)"
    ):
        utils.save_image(cr.zeros(1, 5, 10, 10), tmp_path / "five.png")
    assert not (tmp_path / "five.png").exists()


# --------------------------------------------------------------------------- FakeData
def _torch_fake(index, image_size, num_classes, offset=0):
    """torchvision's FakeData item through ToPILImage then ToTensor, computed in torch."""
    state = torch.get_rng_state()
    torch.manual_seed(index + offset)
    img = torch.randn(*image_size)
    target = torch.randint(0, num_classes, size=(1,), dtype=torch.long)[0]
    torch.set_rng_state(state)
    img = img if img.dim() == 3 else img[None]
    return img.mul(255).byte().float().div(255), target.item()


@pytest.mark.parametrize("pil", [True, False], ids=["pil", "arrays"])
@pytest.mark.parametrize(
    "image_size,offset", [((3, 12, 10), 0), ((1, 9, 9), 5), ((7, 6), 11), ((4, 5, 5), 2)]
)
def test_fakedata_matches_torchvisions_images_and_targets(monkeypatch, pil, image_size, offset):
    if not pil:
        monkeypatch.setattr(transforms, "_PILImage", None)
    ds = datasets.FakeData(6, image_size, 13, transforms.ToTensor(), random_offset=offset)
    cr.manual_seed(123)
    state = cr.get_rng_state().numpy().copy()
    for i in (0, 3, 5):
        img, target = ds[i]
        ref_img, ref_target = _torch_fake(i, image_size, 13, offset)
        assert target == ref_target and type(target) is int
        np.testing.assert_array_equal(img.numpy(), ref_img.numpy())
    np.testing.assert_array_equal(cr.get_rng_state().numpy(), state)  # the global stream untouched
    raw, _ = datasets.FakeData(2, image_size)[1]
    assert isinstance(raw, np.ndarray) != pil and np.asarray(raw).size == np.prod(image_size)


def test_fakedata_loader_target_transform_and_errors():
    ds = datasets.FakeData(
        5, (3, 4, 4), 3, transform=transforms.ToTensor(), target_transform=lambda t: t + 10
    )
    assert len(ds) == 5 and ds[2][1] == _torch_fake(2, (3, 4, 4), 3)[1] + 10
    xb, yb = next(iter(cr.utils.data.DataLoader(ds, batch_size=4)))
    assert tuple(xb.shape) == (4, 3, 4, 4) and yb.dtype == cr.int64
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]
    with pytest.raises(ValueError, match="ToPILImage: pic should not have > 4 channels. Got 5"):
        datasets.FakeData(1, (5, 2, 2))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "Number of datapoints: 5" in repr(ds)


def test_tensor_device_flags_are_torchs_for_a_cpu_tensor():
    """Scripts branch on them (dcgan: ``input.is_cuda or input.is_xpu``)."""
    flags = ["is_cpu", "is_cuda", "is_mps", "is_xpu", "is_xla", "is_ipu", "is_mtia", "is_maia",
             "is_vulkan", "is_meta", "is_mkldnn", "is_quantized", "is_nested", "is_sparse",
             "is_sparse_csr"]
    t, c = torch.zeros(2), cr.zeros(2)
    assert [getattr(c, f) for f in flags] == [getattr(t, f) for f in flags]


# --------------------------------------------------------------------------- ToPILImage
def test_to_pil_image_scales_floats_as_torch_and_picks_torchvisions_modes(monkeypatch):
    pytest.importorskip("PIL.Image")
    x = (RNG.standard_normal((3, 5, 4)) * 300).astype(np.float32)  # far outside [0, 1]: wraps
    expected = torch.tensor(x).mul(255).byte().permute(1, 2, 0).numpy()
    img = transforms.ToPILImage()(cr.tensor(x))
    assert img.mode == "RGB" and np.array_equal(np.asarray(img), expected)
    cases = [
        (cr.tensor(x[:1]), None, "L", expected[:, :, 0]),
        (RNG.integers(0, 256, (4, 3), dtype=np.uint8), None, "L", None),
        (RNG.integers(0, 999, (4, 3)).astype(np.int16), None, "I;16", None),
        (RNG.integers(-99, 99, (4, 3)).astype(np.int32), None, "I", None),
        (x[0], "F", "F", x[0]),
        (RNG.integers(0, 256, (4, 3, 2), dtype=np.uint8), None, "LA", None),
        (RNG.integers(0, 256, (4, 3, 4), dtype=np.uint8), None, "RGBA", None),
        (RNG.integers(0, 256, (4, 3, 3), dtype=np.uint8), "YCbCr", "YCbCr", None),
        (RNG.integers(0, 256, (4, 3, 4), dtype=np.uint8), "CMYK", "CMYK", None),
    ]
    for pic, mode, want, values in cases:
        out = transforms.ToPILImage(mode)(pic)
        values = pic if values is None else values
        assert out.mode == want and np.array_equal(np.asarray(out), values), want
    monkeypatch.setattr(transforms, "_PILImage", None)  # without Pillow: the image's array
    np.testing.assert_array_equal(transforms.ToPILImage()(cr.tensor(x)), expected)
    assert repr(transforms.ToPILImage("F")) == "ToPILImage(mode=F)"


@pytest.mark.parametrize("pic,mode,error,match", [
    ([[1.0]], None, TypeError, "pic should be Tensor or ndarray. Got <class 'list'>"),
    (np.zeros((1, 2, 2, 3), np.uint8), None, ValueError, "should be 2/3 dimensional. Got 4"),
    (np.zeros((2, 2, 6), np.uint8), None, ValueError, "should not have > 4 channels. Got 6"),
    (np.zeros((2, 2), np.uint8), "RGB", ValueError, r"Incorrect mode \(RGB\) .* Should be L"),
    (np.zeros((2, 2, 3), np.uint8), "RGBA", ValueError, r"Only modes \['RGB', 'YCbCr', 'HSV'\]"),
    (np.zeros((2, 2, 3), np.int32), None, TypeError, "Input type int32 is not supported")])
def test_to_pil_image_errors(pic, mode, error, match):
    with pytest.raises(error, match=match):
        transforms.ToPILImage(mode)(pic)


# --------------------------------------------------------------------------- RandomResizedCrop
def torch_rrc_params(height, width, scale, ratio):
    """torchvision's RandomResizedCrop.get_params, in torch."""
    area = height * width
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            i = torch.randint(0, height - h + 1, size=(1,)).item()
            j = torch.randint(0, width - w + 1, size=(1,)).item()
            return i, j, h, w
    in_ratio = float(width) / float(height)
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


@pytest.mark.parametrize("hw,scale,ratio", [
    ((50, 70), (0.08, 1.0), (3 / 4, 4 / 3)), ((224, 300), (0.5, 1.0), (0.2, 5.0)),
    ((4, 90), (0.9, 1.0), (3 / 4, 4 / 3)), ((90, 4), (0.9, 1.0), (3 / 4, 4 / 3)),
    ((6, 6), (2.0, 3.0), (1.0, 1.0))], ids=["default", "wide-ratio", "fallback-wide",
                                            "fallback-tall", "fallback-whole"])
def test_random_resized_crop_draws_torchvisions_windows(hw, scale, ratio):
    for seed in range(40):
        torch.manual_seed(seed)
        cr.manual_seed(seed)
        ours = transforms.RandomResizedCrop.get_params(cr.zeros(3, *hw), scale, ratio)
        assert ours == torch_rrc_params(*hw, scale, ratio), seed
        assert same_state()


def same_state():
    return np.array_equal(cr.get_rng_state().numpy(), torch.get_rng_state().numpy())


def test_random_resized_crop_crops_and_resizes_each_image_kind():
    Image = pytest.importorskip("PIL.Image")
    arr = RNG.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    t = transforms.RandomResizedCrop((12, 10))
    for seed in range(5):
        torch.manual_seed(seed)
        i, j, h, w = torch_rrc_params(30, 40, t.scale, t.ratio)
        expected = Image.fromarray(arr).crop((j, i, j + w, i + h)).resize((10, 12), Image.BILINEAR)
        cr.manual_seed(seed)
        out = t(Image.fromarray(arr))
        assert out.size == (10, 12) and np.array_equal(np.asarray(out), np.asarray(expected))
        cr.manual_seed(seed)
        chw = cr.tensor(arr.transpose(2, 0, 1).astype(np.float32))
        resized = transforms.Resize((12, 10))(chw[:, i:i + h, j:j + w])
        np.testing.assert_array_equal(t(chw).numpy(), resized.numpy())
        cr.manual_seed(seed)
        assert t(arr).shape == (12, 10, 3)
    assert transforms.RandomResizedCrop(8).size == (8, 8)
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        transforms.RandomResizedCrop(8, scale=(1.0, 0.5))
    with pytest.raises(TypeError, match="Scale and ratio should be sequences"):
        transforms.RandomResizedCrop(8, scale=0.5)


# --------------------------------------------------------------------------- ImageFolder
def _tree(root):
    """root/cat/..., root/dog/... PNGs written by save_image (and two files to skip)."""
    images = {}
    for rel in ["cat/b.png", "cat/a.png", "cat/sub/c.png", "dog/z.PNG", "dog/d.png"]:
        x = RNG.integers(0, 256, (3, 4, 5)).astype(np.float32) / 255
        utils.save_image(cr.tensor(x), root / rel, format="png")
        images[rel] = np.round(x * 255).astype(np.uint8)
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "readme.md").write_text("a file, not a class")
    return images


def test_image_folder_lists_classes_and_samples_as_torchvision(tmp_path):
    pytest.importorskip("PIL.Image")
    images = _tree(tmp_path)
    ds = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    order = ["cat/a.png", "cat/b.png", "cat/sub/c.png", "dog/d.png", "dog/z.PNG"]
    assert ds.samples == [(os.path.join(tmp_path, p), p.startswith("dog")) for p in order]
    assert ds.imgs is ds.samples and ds.targets == [0, 0, 0, 1, 1] and len(ds) == 5
    for k, rel in enumerate(order):
        img, target = ds[k]
        assert target == ds.targets[k]
        np.testing.assert_array_equal(img.numpy(), images[rel].astype(np.float32) / 255)
    only_b = datasets.ImageFolder(tmp_path, is_valid_file=lambda p: p.endswith("b.png"),
                                  allow_empty=True)
    assert [os.path.basename(p) for p, _ in only_b.samples] == ["b.png"]
    assert datasets.ImageFolder(tmp_path)[0][0].mode == "RGB"
    folder = datasets.DatasetFolder(tmp_path, loader=lambda p: p, extensions=".txt",
                                    allow_empty=True)
    assert folder[0] == (os.path.join(tmp_path, "dog", "notes.txt"), 1)


def test_image_folder_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    _tree(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"Found no valid file for the classes empty\. "
                                                r"Supported extensions are: \.jpg, \.jpeg"):
        datasets.ImageFolder(tmp_path)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None"):
        datasets.DatasetFolder(tmp_path, loader=print)
    with pytest.raises(ValueError, match="'class_to_index' must have at least one entry"):
        datasets.make_dataset(tmp_path, {}, extensions=".png")
    monkeypatch.setattr(datasets, "_PIL", None)
    ds = datasets.ImageFolder(tmp_path, allow_empty=True)
    with pytest.raises(RuntimeError, match=r"ImageFolder: reading .*a\.png needs Pillow"):
        ds[0]
