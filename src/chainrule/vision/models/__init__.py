"""torchvision's model zoo interface: ``torchvision.models`` → ``chainrule.vision.models``.

The ResNet family (resnet18 … resnet152, ResNeXt, wide ResNets) with torchvision's builders,
signatures and state_dict keys; ``models.__dict__[name]()`` and listing the lowercase callables
of ``models.__dict__`` work as the ImageNet example uses them. :func:`get_model` and
:func:`list_models` look builders up by name, as torchvision's.
"""
from . import resnet
from .resnet import (BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101,
                     resnet152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d,
                     wide_resnet50_2, wide_resnet101_2)

_BUILDERS = {name: globals()[name] for name in resnet.__all__ if name.islower()}


def list_models(module=None, include=None, exclude=None):
    """Sorted names of the registered model builders (torchvision's ``list_models``):
    those defined in ``module`` (a module, e.g. ``chainrule.vision.models``) when given;
    ``include`` / ``exclude``: fnmatch patterns (a string or a list of them)."""
    import fnmatch
    names = {n for n, f in _BUILDERS.items()
             if module is None or f.__module__.startswith(module.__name__)}
    if include:
        patterns = [include] if isinstance(include, str) else include
        names = {n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)}
    if exclude:
        patterns = [exclude] if isinstance(exclude, str) else exclude
        names = {n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)}
    return sorted(names)


def get_model(name: str, **config):
    """The model ``name`` built with ``config`` (torchvision's ``get_model``): ``get_model(
    "resnet50", num_classes=10)`` = ``resnet50(num_classes=10)``."""
    name = name.lower()
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model {name}")
    return _BUILDERS[name](**config)


def get_model_builder(name: str):
    """The builder function of model ``name`` (torchvision's ``get_model_builder``)."""
    name = name.lower()
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model {name}")
    return _BUILDERS[name]
