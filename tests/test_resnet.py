"""cr.models' convolutional networks against copies written in torch: state_dict keys, logits
in train and eval mode, running statistics and gradients; LeNet-5; the plain (no-shortcut)
switch; and a small CNN that learns sklearn's 8×8 digits."""
import numpy as np
import pytest
import torch
from torch import nn as tnn

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.models import BasicBlock, Bottleneck, LeNet5, ResNet

RNG = np.random.default_rng(3)


# --------------------------------------------------------------------------- torch copies
class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inp, planes, stride=1, plain=False):
        super().__init__()
        self.plain = plain
        self.conv1 = tnn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = None
        if (stride != 1 or inp != planes) and not plain:
            self.downsample = tnn.Sequential(tnn.Conv2d(inp, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if not self.plain:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inp, planes, stride=1, plain=False):
        super().__init__()
        self.plain = plain
        self.conv1 = tnn.Conv2d(inp, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = None
        if (stride != 1 or inp != planes * 4) and not plain:
            self.downsample = tnn.Sequential(tnn.Conv2d(inp, planes * 4, 1, stride, bias=False),
                                             tnn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if not self.plain:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class TorchResNet(tnn.Module):
    """torchvision's layout (conv1, bn1, relu, [maxpool], layer1..k, avgpool, fc)."""

    def __init__(self, block, layers, num_classes=10, in_channels=3, widths=(64, 128, 256, 512),
                 stem="imagenet", plain=False):
        super().__init__()
        if stem == "imagenet":
            self.conv1 = tnn.Conv2d(in_channels, widths[0], 7, 2, 3, bias=False)
        else:
            self.conv1 = tnn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(widths[0])
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1) if stem == "imagenet" else None
        inp = widths[0]
        self.stages = len(layers)
        for i, (width, count) in enumerate(zip(widths, layers)):
            blocks = []
            for j in range(count):
                blocks.append(block(inp, width, 2 if (i and not j) else 1, plain))
                inp = width * block.expansion
            setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(inp, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def _copy(mine, ref):
    """Keys must be equal (same order); then torch gets chainrule's weights and buffers."""
    assert list(mine.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})


def _same_logits(mine, ref, x, rtol=1e-4, atol=1e-4):
    for mode in ("train", "eval"):
        getattr(mine, mode)()
        getattr(ref, mode)()
        oc, ot = mine(cr.tensor(x)), ref(torch.tensor(x))
        np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=rtol, atol=atol, err_msg=mode)


# --------------------------------------------------------------------------- residual networks
def test_resnet20_matches_a_torch_copy_logits_statistics_and_gradients():
    mine, ref = cr.models.resnet20(), TorchResNet(TorchBasicBlock, [3, 3, 3], widths=(16, 32, 64), stem="cifar")
    _copy(mine, ref)
    x = RNG.standard_normal((4, 3, 32, 32)).astype(np.float32)
    y = RNG.integers(0, 10, 4)
    lc = F.cross_entropy(mine(cr.tensor(x)), cr.tensor(y))
    lt = tnn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
    np.testing.assert_allclose(lc.item(), lt.item(), rtol=1e-5)
    lc.backward()
    lt.backward()
    for (name, p), q in zip(mine.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=2e-4, err_msg=name)
    for (name, b), c in zip(mine.named_buffers(), ref.buffers()):      # running statistics moved alike
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    _same_logits(mine, ref, x)


def test_resnet18_keys_and_logits_equal_torchvisions_layout():
    mine = cr.models.resnet18(num_classes=10)
    ref = TorchResNet(TorchBasicBlock, [2, 2, 2, 2])
    keys = list(mine.state_dict())
    assert len(keys) == 122     # torchvision's resnet18 has 122 state_dict entries
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.num_batches_tracked", "layer4.1.bn2.bias", "fc.weight", "fc.bias"} <= set(keys)
    _copy(mine, ref)
    _same_logits(mine, ref, RNG.standard_normal((2, 3, 40, 36)).astype(np.float32))
    assert cr.models.resnet18().fc.out_features == 1000


def test_bottleneck_resnet_matches_a_torch_copy():
    mine = ResNet(Bottleneck, [1, 2, 1], num_classes=5, in_channels=2, widths=(8, 16, 32), stem="imagenet")
    ref = TorchResNet(TorchBottleneck, [1, 2, 1], num_classes=5, in_channels=2, widths=(8, 16, 32))
    _copy(mine, ref)
    assert "layer1.0.downsample.0.weight" in mine.state_dict()    # 8 -> 32 channels: projection
    assert "layer2.1.downsample.0.weight" not in mine.state_dict()
    _same_logits(mine, ref, RNG.standard_normal((2, 2, 24, 20)).astype(np.float32))


def test_plain_networks_drop_every_shortcut_and_match_a_torch_copy():
    mine = cr.models.resnet20(plain=True)
    ref = TorchResNet(TorchBasicBlock, [3, 3, 3], widths=(16, 32, 64), stem="cifar", plain=True)
    assert not any("downsample" in k for k in mine.state_dict())
    _copy(mine, ref)
    _same_logits(mine, ref, RNG.standard_normal((2, 3, 16, 16)).astype(np.float32))
    plain18 = cr.models.resnet18(plain=True)
    assert not any("downsample" in k for k in plain18.state_dict()) and len(plain18.state_dict()) == 122 - 3 * 6


def test_basic_block_outputs_f_of_x_plus_x():
    """With F's last BatchNorm scaled to zero, F(x) = 0 and the block is relu(x) (the identity
    shortcut); the plain block gives relu(0) = 0."""
    x = cr.tensor(RNG.standard_normal((2, 4, 6, 6)).astype(np.float32))
    for plain, expected in ((False, F.relu(x)), (True, cr.zeros(2, 4, 6, 6))):
        block = BasicBlock(4, 4, plain=plain).eval()
        with cr.no_grad():
            block.bn2.weight.fill_(0.0)
        np.testing.assert_allclose(block(x).detach().numpy(), expected.numpy(), atol=1e-6)


def test_cifar_depths_and_parameter_counts():
    """He et al. 2016, §4.2: 6n + 2 layers, 16/32/64 channels; 0.27M / 0.46M / 0.85M parameters
    (the paper's option A shortcuts add none; option B's two projections add ~3k)."""
    for make, n, millions in ((cr.models.resnet20, 3, 0.27), (cr.models.resnet32, 5, 0.46),
                              (cr.models.resnet56, 9, 0.85)):
        model = make()
        assert [len(model.layer1), len(model.layer2), len(model.layer3)] == [n, n, n]
        count = sum(p.numel() for p in model.parameters())
        assert abs(count / 1e6 - millions) < 0.015, (make.__name__, count)
    assert cr.models.resnet20(num_classes=100, in_channels=1)(cr.randn(2, 1, 32, 32)).shape == (2, 100)


def test_resnet_errors():
    with pytest.raises(ValueError, match=r"depth must be 6n \+ 2, got 21"):
        cr.models.resnet._cifar(21, 10, 3, False)
    with pytest.raises(ValueError, match="3 stages need 3 widths"):
        ResNet(BasicBlock, [1, 1, 1])
    with pytest.raises(ValueError, match="stem must be 'imagenet' or 'cifar'"):
        ResNet(BasicBlock, [1], widths=(8,), stem="vgg")


# --------------------------------------------------------------------------- LeNet-5
class TorchLeNet5(tnn.Module):
    def __init__(self, input_size=28, act=tnn.ReLU, pool=tnn.MaxPool2d):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2 if input_size == 28 else 0), act(), pool(2),
                                       tnn.Conv2d(6, 16, 5), act(), pool(2))
        self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), act(), tnn.Linear(120, 84), act(),
                                         tnn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


@pytest.mark.parametrize("size,act,pool", [(28, "relu", "max"), (32, "tanh", "avg")])
def test_lenet5_matches_a_torch_copy(size, act, pool):
    mine = LeNet5(input_size=size, activation=act, pool=pool)
    ref = TorchLeNet5(size, {"relu": tnn.ReLU, "tanh": tnn.Tanh}[act], {"max": tnn.MaxPool2d, "avg": tnn.AvgPool2d}[pool])
    _copy(mine, ref)
    x = RNG.standard_normal((3, 1, size, size)).astype(np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oc, ot = mine(xc), ref(xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-5, atol=1e-6)
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match=f"LeNet5: expected input \\(N, C, {size}, {size}\\)"):
        mine(cr.zeros(1, 1, 30, 30))


# --------------------------------------------------------------------------- learning
def test_cnn_on_digits_reaches_97_percent():
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    n = 1400
    # with torch's random stream, seeds 0-3 end at 96.2 / 97.2 / 97.7 / 98.2 % test accuracy
    cr.manual_seed(2)
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
