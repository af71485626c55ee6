"""MNIST and Fashion-MNIST from the standard IDX files (gz or raw), torchvision-style."""
from __future__ import annotations

import os

import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset
from ._download import download as _fetch
from .idx import read_idx

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049      # unsigned bytes in 3 and in 1 dimensions


class MNIST(Dataset):
    """Handwritten digits 0–9: 60,000 training and 10,000 test grey images of 28×28 pixels.

    ``root`` holds the IDX files — ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``
    (``train=True``) or ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, raw or ``.gz`` —
    directly or under ``root/MNIST/raw``. ``dataset[i]`` is (image, label): the image a float32
    tensor (1, 28, 28) of x/255 ∈ [0, 1] — or ``transform(x)`` of the uint8 array (28, 28) —,
    the label an int (or ``target_transform(label)``). ``.data`` (N, 28, 28) uint8 and
    ``.targets`` (N,) int64 hold the whole split; ``tensors()`` gives them as model inputs.

    Files are checked: magic numbers (2051 images, 2049 labels), 28×28 images, the data length
    against the header, as many labels as images, labels 0–9. ``download=True`` fetches missing
    files from the public mirrors into ``root/MNIST/raw``, keeping them only if their md5 matches.
    """

    folder = "MNIST"
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    files = {  # name: md5 of name.gz as the mirrors serve it
        "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, download: bool = False, transform=None,
                 target_transform=None):
        self.root, self.train = os.fspath(root), bool(train)
        self.transform, self.target_transform = transform, target_transform
        prefix = "train" if self.train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        paths = {n: self._locate(n) for n in names}
        missing = [n for n, p in paths.items() if p is None]
        if missing and download:
            for n in missing:
                paths[n] = self._download(n, names)
        elif missing:
            raise RuntimeError(f"{self._name}: {', '.join(m + '[.gz]' for m in missing)} not found. "
                               f"{self._where(names)}, or pass download=True.")
        images, labels = paths[names[0]], paths[names[1]]
        self.data = read_idx(images, IMAGES_MAGIC)
        self.targets = read_idx(labels, LABELS_MAGIC).astype(np.int64)
        if self.data.shape[1:] != (28, 28):
            raise ValueError(f"{self._name}: {images} holds images of "
                             f"{'×'.join(map(str, self.data.shape[1:]))} pixels, expected 28×28")
        if len(self.data) != len(self.targets):
            raise ValueError(f"{self._name}: {images} has {len(self.data)} images but "
                             f"{labels} has {len(self.targets)} labels; the files do not belong "
                             "together or one is truncated")
        if len(self.targets) and self.targets.max() >= len(self.classes):
            raise ValueError(f"{self._name}: {labels} holds label {int(self.targets.max())}, "
                             f"expected 0..{len(self.classes) - 1}")

    @property
    def _name(self):
        return type(self).__name__

    @property
    def raw_folder(self) -> str:
        """``root/MNIST/raw`` (or ``root/FashionMNIST/raw``): where downloads go."""
        return os.path.join(self.root, self.folder, "raw")

    def _where(self, names):
        return (f"Put {' and '.join(n + '.gz' for n in names)} (or the uncompressed files) in "
                f"{self.root!r} or {self.raw_folder!r}")

    def _locate(self, name):
        for d in (self.root, self.raw_folder):
            for candidate in (name, name + ".gz"):
                path = os.path.join(d, candidate)
                if os.path.isfile(path):
                    return path
        return None

    def _download(self, name, names):
        try:
            return _fetch([m + name + ".gz" for m in self.mirrors], self.raw_folder, name + ".gz",
                          self.files[name])
        except RuntimeError as e:
            raise RuntimeError(f"{self._name}: {e}\nWithout network access: "
                               f"{self._where(names)}.") from None

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.data[index]
        if self.transform is None:
            image = Tensor._make((image[None] / np.float32(255.0)).astype(np.float32))
        else:
            image = self.transform(image)
        target = int(self.targets[index])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def tensors(self):
        """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64) as two tensors."""
        return (Tensor._make((self.data[:, None] / np.float32(255.0)).astype(np.float32)),
                Tensor._make(self.targets.copy()))

    def __repr__(self):
        return (f"Dataset {self._name}\n    Number of datapoints: {len(self)}\n    Root location: "
                f"{self.root}\n    Split: {'Train' if self.train else 'Test'}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28×28 grey images of 10 kinds of clothing, 60,000 for training
    and 10,000 for testing, in MNIST's file names and format (files directly in ``root`` or
    under ``root/FashionMNIST/raw``)."""

    folder = "FashionMNIST"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    files = {
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
