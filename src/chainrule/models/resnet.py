"""Residual networks (He et al. 2016): blocks learn a residual F(x) = H(x) − x and output
F(x) + x.

The identity shortcut gives the gradient a path that no weight matrix shrinks:
∂out/∂x = I + ∂F/∂x, so very deep stacks still train, where the same stack without shortcuts
(``plain=True``) trains worse than a shallower one — the degradation problem.
Module names follow torchvision (conv1, bn1, layer1.0.conv1, ..., downsample.0/1, fc), so
state_dict keys equal torch's for the same architecture.
"""
from __future__ import annotations

from .. import nn


def _conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def _projection(cin, cout, stride):
    """1×1 convolution + BatchNorm: the shortcut when the shape changes (option B)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    """Output = relu(F(x) + shortcut(x)), F = conv3×3 → BN → relu → conv3×3 → BN.

    The shortcut is the identity, or a 1×1 conv + BN projection when stride or width changes;
    ``plain=True`` drops it (Output = relu(F(x))).
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, plain: bool = False):
        super().__init__()
        self.plain = plain
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        needs_projection = stride != 1 or inplanes != planes
        self.downsample = _projection(inplanes, planes, stride) if needs_projection and not plain else None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.plain:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """Output = relu(F(x) + shortcut(x)), F = 1×1 reduce → 3×3 → 1×1 expand (×4), each with BN."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, plain: bool = False):
        super().__init__()
        self.plain = plain
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = _conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        needs_projection = stride != 1 or inplanes != planes * 4
        self.downsample = _projection(inplanes, planes * 4, stride) if needs_projection and not plain else None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if not self.plain:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class ResNet(nn.Module):
    """A residual network: stem → stages of blocks → global average pool → fc.

    Args:
        block: BasicBlock or Bottleneck.  layers: blocks per stage, e.g. [3, 3, 3].
        num_classes, in_channels.  widths: channels per stage (16/32/64 for CIFAR-style,
        64/128/256/512 for ImageNet-style).  stem: 'cifar' (3×3 conv) or 'imagenet'
        (7×7 stride-2 conv + 3×3 max pool).  plain: drop every shortcut.
    Shapes: (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, block, layers, num_classes: int = 10, in_channels: int = 3,
                 widths=(64, 128, 256, 512), stem: str = "imagenet", plain: bool = False):
        super().__init__()
        if len(widths) != len(layers):
            raise ValueError(f"ResNet: {len(layers)} stages need {len(layers)} widths, got {widths}")
        self.inplanes, self.plain = widths[0], plain
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False)
        elif stem == "cifar":
            self.conv1 = _conv3x3(in_channels, widths[0])
        else:
            raise ValueError(f"ResNet: stem must be 'imagenet' or 'cifar', got {stem!r}")
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        if stem == "imagenet":
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        for i, (width, count) in enumerate(zip(widths, layers)):
            setattr(self, f"layer{i + 1}", self._stage(block, width, count, 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)
        self.num_stages = len(layers)
        for m in self.modules():  # He initialisation, as torchvision
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _stage(self, block, planes, blocks, stride):
        layers = [block(self.inplanes, planes, stride, self.plain)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, self.plain) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if "maxpool" in self._modules:
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def _cifar(depth, num_classes, in_channels, plain):
    if (depth - 2) % 6:
        raise ValueError(f"CIFAR ResNet depth must be 6n + 2, got {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, [n, n, n], num_classes, in_channels, widths=(16, 32, 64),
                  stem="cifar", plain=plain)


def resnet20(num_classes: int = 10, in_channels: int = 3, plain: bool = False) -> ResNet:
    """CIFAR-style ResNet-20 (He et al. 2016, §4.2): 3 stages × 3 BasicBlocks, 16/32/64 channels."""
    return _cifar(20, num_classes, in_channels, plain)


def resnet32(num_classes: int = 10, in_channels: int = 3, plain: bool = False) -> ResNet:
    """CIFAR-style ResNet-32: 3 stages × 5 BasicBlocks."""
    return _cifar(32, num_classes, in_channels, plain)


def resnet56(num_classes: int = 10, in_channels: int = 3, plain: bool = False) -> ResNet:
    """CIFAR-style ResNet-56: 3 stages × 9 BasicBlocks."""
    return _cifar(56, num_classes, in_channels, plain)


def resnet18(num_classes: int = 1000, in_channels: int = 3, plain: bool = False) -> ResNet:
    """ImageNet-style ResNet-18 (torchvision's layout): 4 stages × 2 BasicBlocks, 64–512 channels."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, in_channels, plain=plain)
