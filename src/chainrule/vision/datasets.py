"""torchvision's datasets: ``torchvision.datasets`` → ``chainrule.vision.datasets``.

Thin wrappers over :mod:`chainrule.datasets`' readers (same files, same checks, same
``download=True``) that hand out what torchvision hands out, so a tutorial's
``transforms.Compose([... ToTensor(), Normalize(...)])`` pipeline ports unchanged:

- ``dataset[i]`` is ``(image, target)``. The image is a **PIL Image** (mode 'L' for MNIST,
  'RGB' for CIFAR-10) when Pillow is importable, as torchvision's; without Pillow it is the
  uint8 NumPy array (28, 28) or (32, 32, 3) — every transform in
  :mod:`chainrule.vision.transforms` takes both. The target is an int.
  ``transform`` / ``target_transform`` are applied to them.
- MNIST / FashionMNIST: ``.data`` a uint8 tensor (N, 28, 28), ``.targets`` an int64 tensor (N,).
  CIFAR10: ``.data`` a uint8 NumPy array (N, 32, 32, 3), ``.targets`` a list of ints.
  ``.classes`` the class names. (As torchvision's; :mod:`chainrule.datasets` gives float
  tensors without a transform, these give images.)
"""
from __future__ import annotations

import numpy as np

from .. import datasets as _readers
from .. import random as _random
from ..creation import randint, randn
from ..tensor import Tensor
from .transforms import ToPILImage

_UNSET = object()
_PIL = _UNSET   # PIL.Image, imported on first use (import chainrule stays light)

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "FakeData"]


def _image(array):
    """uint8 array (H, W) or (H, W, 3) → PIL Image when Pillow is there, else the array."""
    global _PIL
    if _PIL is _UNSET:
        try:
            from PIL import Image as _PIL
        except ImportError:   # pragma: no cover - Pillow is optional
            _PIL = None
    return _PIL.fromarray(array) if _PIL is not None else array


class MNIST(_readers.MNIST):
    """MNIST handwritten digits (see :class:`chainrule.datasets.MNIST` for the files ``root``
    must hold). ``dataset[i]`` = (PIL 'L' image 28×28 or uint8 array (28, 28), int label)."""

    def __init__(self, root, train: bool = True, download: bool = False, transform=None,
                 target_transform=None):
        super().__init__(root, train=train, download=download, transform=transform,
                         target_transform=target_transform)
        self._images, self._labels = self.data, self.targets
        self.data, self.targets = Tensor._make(self._images), Tensor._make(self._labels)

    def __getitem__(self, index):
        image, target = _image(self._images[index]), int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self):
        return len(self._labels)

    def tensors(self):
        """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64), no transform."""
        return (Tensor._make((self._images[:, None] / np.float32(255.0)).astype(np.float32)),
                Tensor._make(self._labels.copy()))


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST in MNIST's format (see :class:`chainrule.datasets.FashionMNIST`)."""

    folder = _readers.FashionMNIST.folder
    mirrors = _readers.FashionMNIST.mirrors
    files = _readers.FashionMNIST.files
    classes = _readers.FashionMNIST.classes


class CIFAR10(_readers.CIFAR10):
    """CIFAR-10 (see :class:`chainrule.datasets.CIFAR10` for the files ``root`` must hold).
    ``dataset[i]`` = (PIL 'RGB' image 32×32 or uint8 array (32, 32, 3), int label);
    ``.data`` (N, 32, 32, 3) uint8 array, ``.targets`` a list of ints, as torchvision's."""

    def __init__(self, root, train: bool = True, download: bool = False, transform=None,
                 target_transform=None):
        super().__init__(root, train=train, download=download, transform=transform,
                         target_transform=target_transform)
        self.targets = [int(t) for t in self.targets]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index):
        image, target = _image(self.data[index]), self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class FakeData:
    """Random images and labels, the same for an index every time (torchvision's ``FakeData``).

    Item ``i`` is generated under the seed ``i + random_offset`` (the global generator's state
    is saved and restored around it, so iterating consumes no randomness):
    img = randn(*image_size), target = randint(0, num_classes, (1,))[0], the values torch's
    generator gives under that seed. The image is then what ``ToPILImage()`` makes of it: a PIL
    image ('RGB' for 3 channels, 'L' for 1) of ``uint8(255·img)`` (torch's truncating,
    wrapping cast), or without Pillow the uint8 array (H, W, C) / (H, W) — both go into
    :class:`~chainrule.vision.transforms.ToTensor`.

    Args:
        size: number of items.  image_size: (C, H, W) (C ≤ 4) or (H, W).
        num_classes: labels are drawn from [0, num_classes).
        transform, target_transform: applied to the image and the 0-d int64 target tensor.
        random_offset: added to the index to make the seed.
    ``dataset[i]`` = (image, int label).
    """

    def __init__(self, size: int = 1000, image_size=(3, 224, 224), num_classes: int = 10,
                 transform=None, target_transform=None, random_offset: int = 0):
        self.size, self.num_classes = size, num_classes
        self.image_size, self.random_offset = image_size, random_offset
        self.transform, self.target_transform = transform, target_transform

    def __getitem__(self, index: int):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        state = _random.get_rng_state()
        try:
            _random.manual_seed(index + self.random_offset)
            img = randn(*self.image_size)
            target = randint(0, self.num_classes, size=(1,))[0]
        finally:
            _random.set_rng_state(state)
        img = ToPILImage()(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target.item()

    def __len__(self) -> int:
        return self.size

    def __repr__(self):
        return f"Dataset {type(self).__name__}\n    Number of datapoints: {self.size}"
