"""torchvision's ResNet builders: ``torchvision.models.resnet18`` →
``chainrule.vision.models.resnet18``.

Each builder has torchvision's signature ``resnetXX(*, weights=None, progress=True, **kwargs)``;
the keyword arguments go to :class:`chainrule.models.ResNet` (``num_classes``,
``zero_init_residual``, ``groups``, ``width_per_group``, ``replace_stride_with_dilation``,
``norm_layer``), whose modules, state_dict keys, shapes and initialisation are torchvision's.
chainrule downloads no pretrained weights: ``weights`` (or the legacy ``pretrained=True``)
raises, saying how to load converted weights with ``cr.load``.
"""
from __future__ import annotations

import warnings

from ...models.resnet import BasicBlock, Bottleneck, ResNet

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
           "wide_resnet50_2", "wide_resnet101_2"]


def _resnet(arch, block, layers, weights, progress, kwargs, **fixed):
    if "pretrained" in kwargs:  # torchvision < 0.13's keyword, still accepted there with a warning
        pretrained = kwargs.pop("pretrained")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in "
                      "the future, please use 'weights' instead.", UserWarning, stacklevel=3)
        if pretrained and weights is None:
            weights = "DEFAULT"
    if weights is not None:
        raise RuntimeError(
            f"{arch}: chainrule cannot download pretrained weights (weights={weights!r}). Build "
            f"the model with weights=None and load a state_dict converted once in torch: "
            f"from safetensors.torch import save_file; save_file(torchvision.models.{arch}("
            f"weights='DEFAULT').state_dict(), '{arch}.safetensors'); then in chainrule: "
            f"model.load_state_dict(cr.load('{arch}.safetensors'))")
    for key, value in fixed.items():
        if key in kwargs and kwargs[key] != value:
            raise ValueError(f"The parameter '{key}' expected value {value} but got "
                             f"{kwargs[key]} instead.")
        kwargs[key] = value
    return ResNet(block, layers, **kwargs)


def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18 (He et al. 2016): BasicBlocks [2, 2, 2, 2], 11.7M parameters.
    (N, 3, H, W) -> (N, num_classes); ``kwargs`` go to :class:`ResNet`."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, progress, kwargs)


def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34: BasicBlocks [3, 4, 6, 3], 21.8M parameters. (N, 3, H, W) -> (N, num_classes)."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, progress, kwargs)


def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50 (v1.5, stride on the 3×3 convolution): Bottlenecks [3, 4, 6, 3], 25.6M
    parameters. (N, 3, H, W) -> (N, num_classes)."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, progress, kwargs)


def resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101: Bottlenecks [3, 4, 23, 3], 44.5M parameters. (N, 3, H, W) -> (N, num_classes)."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], weights, progress, kwargs)


def resnet152(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-152: Bottlenecks [3, 8, 36, 3], 60.2M parameters. (N, 3, H, W) -> (N, num_classes)."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], weights, progress, kwargs)


def resnext50_32x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-50 32×4d (Xie et al. 2017): ResNet-50 with 32 groups of width 4 in each 3×3."""
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3], weights, progress, kwargs,
                   groups=32, width_per_group=4)


def resnext101_32x8d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 32×8d: ResNet-101 with 32 groups of width 8 in each 3×3."""
    return _resnet("resnext101_32x8d", Bottleneck, [3, 4, 23, 3], weights, progress, kwargs,
                   groups=32, width_per_group=8)


def resnext101_64x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNeXt-101 64×4d: ResNet-101 with 64 groups of width 4 in each 3×3."""
    return _resnet("resnext101_64x4d", Bottleneck, [3, 4, 23, 3], weights, progress, kwargs,
                   groups=64, width_per_group=4)


def wide_resnet50_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-50-2 (Zagoruyko & Komodakis 2016): ResNet-50 with twice the 3×3 width."""
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3], weights, progress, kwargs,
                   width_per_group=128)


def wide_resnet101_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """Wide ResNet-101-2: ResNet-101 with twice the 3×3 width."""
    return _resnet("wide_resnet101_2", Bottleneck, [3, 4, 23, 3], weights, progress, kwargs,
                   width_per_group=128)
