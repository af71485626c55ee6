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

import os

import numpy as np

from .. import datasets as _readers
from .. import random as _random
from ..creation import randint, randn
from ..tensor import Tensor
from .transforms import ToPILImage

_UNSET = object()
_PIL = _UNSET   # PIL.Image, imported on first use (import chainrule stays light)

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "FakeData", "DatasetFolder", "ImageFolder",
           "IMG_EXTENSIONS", "default_loader", "pil_loader", "find_classes", "make_dataset",
           "has_file_allowed_extension"]


def _pil_image_module():
    """PIL.Image, or None without Pillow (imported on first use)."""
    global _PIL
    if _PIL is _UNSET:
        try:
            from PIL import Image as _PIL
        except ImportError:   # pragma: no cover - Pillow is optional
            _PIL = None
    return _PIL


def _image(array):
    """uint8 array (H, W) or (H, W, 3) → PIL Image when Pillow is there, else the array."""
    Image = _pil_image_module()
    return Image.fromarray(array) if Image is not None else array


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


IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions) -> bool:
    """Whether ``filename`` ends (case-insensitively) with one of ``extensions``."""
    return filename.lower().endswith(extensions if isinstance(extensions, str)
                                     else tuple(extensions))


def find_classes(directory):
    """(sorted sub-folder names, {name: index}) of ``directory``: one class per folder."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty: bool = False):
    """[(path, class index)] of the files under ``directory/<class>/`` (walked in sorted order,
    following links) that ``is_valid_file`` accepts or that end in one of ``extensions``
    (exactly one of the two must be given). A class without files raises FileNotFoundError
    unless ``allow_empty``."""
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)
    instances, found = [], set()
    for target_class in sorted(class_to_idx):
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_to_idx[target_class]))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += ("Supported extensions are: "
                    f"{extensions if isinstance(extensions, str) else ', '.join(extensions)}")
        raise FileNotFoundError(msg)
    return instances


def pil_loader(path):
    """The image file at ``path`` as an RGB PIL image (needs Pillow)."""
    Image = _pil_image_module()
    if Image is None:
        raise RuntimeError(f"ImageFolder: reading {path} needs Pillow (pip install pillow), or "
                           "pass loader= a function that reads a file into an image")
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def default_loader(path):
    """torchvision's default image loader: :func:`pil_loader`."""
    return pil_loader(path)


class DatasetFolder:
    """Samples in class folders: ``root/<class>/**/<file>`` (torchvision's ``DatasetFolder``).

    Classes are the sorted sub-folder names (``classes``, ``class_to_idx``); ``samples`` the
    sorted [(path, class index)] (see :func:`make_dataset`), ``targets`` their indices.
    ``dataset[i]`` = (transform(loader(path)), target_transform(index)).
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty: bool = False):
        self.root = os.fspath(root) if isinstance(root, os.PathLike) else root
        self.transform, self.target_transform = transform, target_transform
        classes, class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, class_to_idx, extensions, is_valid_file,
                                         allow_empty=allow_empty)
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = classes, class_to_idx
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty: bool = False):
        """See :func:`make_dataset` (a subclass may override it)."""
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory):
        """See :func:`find_classes` (a subclass may override it)."""
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self):
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}")


class ImageFolder(DatasetFolder):
    """Images in class folders, ``root/dog/x.png``, ``root/cat/y.jpg`` (torchvision's
    ``ImageFolder``): a :class:`DatasetFolder` of the files with an image extension
    (:data:`IMG_EXTENSIONS`) read as RGB PIL images by ``loader`` (Pillow needed for the
    default one). ``imgs`` = ``samples``."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty: bool = False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
