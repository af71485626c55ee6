"""MNIST and Fashion-MNIST from the standard IDX files (gz or raw), torchvision-style."""
from __future__ import annotations

import os

import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset
from ._download import download as _fetch
from .idx import read_idx


class MNIST(Dataset):
    """Handwritten digits 0–9: 60,000 training and 10,000 test images of 28×28.

    ``root`` holds the four IDX files (``train-images-idx3-ubyte[.gz]`` and friends), directly
    or under ``root/MNIST/raw``. Items are (image, label): the image a float32 tensor
    (1, 28, 28) in [0, 1] (or ``transform(image)``), the label an int. ``.data`` (N, 28, 28)
    uint8 and ``.targets`` (N,) int64 hold the whole set. With ``download=True`` missing files
    are fetched from the public mirrors and checked by md5.
    """

    folder = "MNIST"
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    files = {  # name: md5 of the .gz
        "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
    }

    def __init__(self, root, train: bool = True, download: bool = False, transform=None,
                 target_transform=None):
        self.root, self.train = str(root), train
        self.transform, self.target_transform = transform, target_transform
        prefix = "train" if train else "t10k"
        images = self._find(f"{prefix}-images-idx3-ubyte", download)
        labels = self._find(f"{prefix}-labels-idx1-ubyte", download)
        self.data = read_idx(images, expected_ndim=3)
        self.targets = read_idx(labels, expected_ndim=1).astype(np.int64)
        if len(self.data) != len(self.targets):
            raise ValueError(f"{type(self).__name__}: {images} has {len(self.data)} images but "
                             f"{labels} has {len(self.targets)} labels")

    def _find(self, name, download):
        dirs = [self.root, os.path.join(self.root, self.folder, "raw")]
        for d in dirs:
            for candidate in (name, name + ".gz"):
                path = os.path.join(d, candidate)
                if os.path.exists(path):
                    return path
        if download:
            return _fetch([m + name + ".gz" for m in self.mirrors], dirs[1], name + ".gz",
                          self.files[name])
        raise RuntimeError(f"{type(self).__name__}: {name}[.gz] not found. Put the four IDX files "
                           f"({', '.join(self.files)}, raw or .gz) in {self.root!r} or "
                           f"{dirs[1]!r}, or pass download=True.")

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.data[index]
        image = (Tensor._make((image[None] / np.float32(255.0)).astype(np.float32))
                 if self.transform is None else self.transform(image))
        target = int(self.targets[index])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def tensors(self):
        """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64) as two tensors."""
        return (Tensor._make((self.data[:, None] / np.float32(255.0)).astype(np.float32)),
                Tensor._make(self.targets))


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28×28 images of 10 kinds of clothing, MNIST's file format."""

    folder = "FashionMNIST"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    files = {
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    }
