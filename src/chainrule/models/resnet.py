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


def _conv3x3(cin, cout, stride=1, groups=1, dilation=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, groups=groups, bias=False,
                     dilation=dilation)


def _projection(cin, cout, stride, norm_layer):
    """1×1 convolution + norm: the shortcut when the shape changes (option B)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), norm_layer(cout))


def _shortcut(block, inplanes, planes, stride, downsample, norm_layer, plain):
    # torchvision's blocks take ``downsample`` from ResNet; a block built on its own with a
    # change of shape gets the projection it needs (torchvision's would fail in its addition)
    if plain or downsample is not None:
        return None if plain else downsample
    if stride != 1 or inplanes != planes * block.expansion:
        return _projection(inplanes, planes * block.expansion, stride, norm_layer)
    return None


class BasicBlock(nn.Module):
    """Output = relu(F(x) + shortcut(x)), F = conv3×3 → BN → relu → conv3×3 → BN.

    torchvision's signature: ``downsample`` is the shortcut module (None: the identity, or a
    1×1 conv + BN projection built here when stride or width changes); ``groups`` must be 1,
    ``base_width`` 64 and ``dilation`` 1 (ValueError / NotImplementedError otherwise, as
    torchvision); ``norm_layer`` defaults to ``nn.BatchNorm2d``. ``plain=True`` drops the
    shortcut (Output = relu(F(x))).
    Shapes: (N, inplanes, H, W) -> (N, planes, ⌈H/stride⌉, ⌈W/stride⌉).
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1, norm_layer=None, *,
                 plain: bool = False):
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.plain = plain
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = _shortcut(self, inplanes, planes, stride, downsample, norm_layer, plain)
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.plain:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """Output = relu(F(x) + shortcut(x)), F = 1×1 reduce → 3×3 → 1×1 expand (×4), each with BN.

    torchvision's signature (ResNet v1.5: the stride sits on the 3×3 convolution). The inner
    width is ``int(planes · base_width / 64) · groups`` (ResNeXt: ``groups`` > 1; wide ResNets:
    ``base_width`` 128); ``dilation`` dilates the 3×3 convolution. ``downsample`` and ``plain``
    as in :class:`BasicBlock`.
    Shapes: (N, inplanes, H, W) -> (N, 4·planes, ⌈H/stride⌉, ⌈W/stride⌉).
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1, norm_layer=None, *,
                 plain: bool = False):
        super().__init__()
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.plain = plain
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = norm_layer(width)
        self.conv2 = _conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(self, inplanes, planes, stride, downsample, norm_layer, plain)
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if not self.plain:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class ResNet(nn.Module):
    """A residual network: stem → stages of blocks → global average pool → fc.

    torchvision's signature and layout (``ResNet(block, layers, num_classes=1000,
    zero_init_residual=False, groups=1, width_per_group=64, replace_stride_with_dilation=None,
    norm_layer=None)``): state_dict keys, shapes and initialisation equal torchvision's
    (Kaiming-normal fan_out convolutions, norm weights 1 and biases 0; ``zero_init_residual``
    zeroes each block's last norm weight so every block starts as the identity).

    Args:
        block: BasicBlock or Bottleneck.  layers: blocks per stage, e.g. [2, 2, 2, 2].
        replace_stride_with_dilation: one bool per stage after the first: dilate that stage
            instead of striding it.
        in_channels, widths, stem, plain (keyword-only, chainrule's additions): input
            channels; channels per stage (16/32/64 for CIFAR-style, 64/128/256/512 for
            ImageNet-style); 'imagenet' (7×7 stride-2 conv + 3×3 max pool) or 'cifar'
            (3×3 conv); drop every shortcut.
    Shapes: (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False,
                 groups: int = 1, width_per_group: int = 64, replace_stride_with_dilation=None,
                 norm_layer=None, *, in_channels: int = 3, widths=(64, 128, 256, 512),
                 stem: str = "imagenet", plain: bool = False):
        super().__init__()
        if len(widths) != len(layers):
            raise ValueError(f"ResNet: {len(layers)} stages need {len(layers)} widths, got {widths}")
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False] * (len(layers) - 1)
        if len(replace_stride_with_dilation) != len(layers) - 1:
            raise ValueError("replace_stride_with_dilation should be None or a "
                             f"{len(layers) - 1}-element tuple, got {replace_stride_with_dilation}")
        self._norm_layer = norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes, self.dilation, self.plain = widths[0], 1, plain
        self.groups, self.base_width = groups, width_per_group
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False)
        elif stem == "cifar":
            self.conv1 = _conv3x3(in_channels, widths[0])
        else:
            raise ValueError(f"ResNet: stem must be 'imagenet' or 'cifar', got {stem!r}")
        self.bn1 = norm_layer(widths[0])
        self.relu = nn.ReLU(inplace=True)
        if stem == "imagenet":
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        for i, (width, count) in enumerate(zip(widths, layers)):
            stage = (self._make_layer(block, width, count) if i == 0 else self._make_layer(
                block, width, count, stride=2, dilate=replace_stride_with_dilation[i - 1]))
            setattr(self, f"layer{i + 1}", stage)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)
        self.num_stages = len(layers)
        for m in self.modules():  # He initialisation, as torchvision
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:  # each residual branch starts at zero: every block is the identity
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        """One stage (torchvision's ``_make_layer``): the first block strides (or, with
        ``dilate``, dilates by the stride instead) and projects the shortcut when needed."""
        norm_layer, downsample, previous_dilation = self._norm_layer, None, self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if (stride != 1 or self.inplanes != planes * block.expansion) and not self.plain:
            downsample = _projection(self.inplanes, planes * block.expansion, stride, norm_layer)
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer, plain=self.plain)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                         dilation=self.dilation, norm_layer=norm_layer, plain=self.plain)
                   for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if "maxpool" in self._modules:
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))

    def forward(self, x):
        return self._forward_impl(x)


def _cifar(depth, num_classes, in_channels, plain):
    if (depth - 2) % 6:
        raise ValueError(f"CIFAR ResNet depth must be 6n + 2, got {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, [n, n, n], num_classes, in_channels=in_channels,
                  widths=(16, 32, 64), stem="cifar", plain=plain)


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
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, in_channels=in_channels, plain=plain)
