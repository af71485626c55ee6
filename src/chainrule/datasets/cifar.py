"""CIFAR-10 from the standard python batches, read without unpickling arbitrary objects."""
from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset
from ._download import download as _fetch


class _RestrictedUnpickler(pickle.Unpickler):
    """Accepts only what the CIFAR batches contain: dicts, lists, strings/bytes, numbers and NumPy
    arrays. Anything else — a class or function a crafted file names — is refused."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"),
               ("_codecs", "encode")}  # protocol-2 pickles spell bytes as encode(str, 'latin1')

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"CIFAR10: refusing to load {module}.{name} from a data batch "
                                     "(only arrays, lists, dicts and strings are allowed)")


def load_batch(data: bytes, source: str):
    try:
        batch = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError:
        raise
    except Exception as e:  # noqa: BLE001 — any parse failure is a corrupt file
        raise ValueError(f"CIFAR10: {source} is not a CIFAR python batch ({e})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR10: {source} does not hold a dict")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"CIFAR10: {source} lacks the 'data' or 'labels' entry")
    images = np.asarray(batch["data"], np.uint8)
    labels = np.asarray(batch["labels"], np.int64)
    if images.ndim != 2 or images.shape[1] != 3072 or len(images) != len(labels):
        raise ValueError(f"CIFAR10: {source}: expected (N, 3072) images and N labels, got "
                         f"{images.shape} and {labels.shape}")
    return images.reshape(-1, 3, 32, 32), labels


class CIFAR10(Dataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32×32 in 10 classes.

    ``root`` holds ``cifar-10-batches-py/`` (data_batch_1..5, test_batch) or the
    ``cifar-10-python.tar.gz`` archive. Items are (image (3, 32, 32) float32 in [0, 1] or
    ``transform(image)``, label int); ``.data`` is (N, 32, 32, 3) uint8 like torchvision's.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    md5 = "c58f30108f718f92721af3b95e74349a"

    def __init__(self, root, train: bool = True, download: bool = False, transform=None,
                 target_transform=None):
        self.root, self.train = str(root), train
        self.transform, self.target_transform = transform, target_transform
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        folder = os.path.join(self.root, "cifar-10-batches-py")
        archive = os.path.join(self.root, "cifar-10-python.tar.gz")
        if not os.path.isdir(folder) and not os.path.exists(archive):
            if not download:
                raise RuntimeError(f"CIFAR10: {folder!r} not found. Put the extracted "
                                   f"cifar-10-batches-py/ folder (data_batch_1..5, test_batch) or "
                                   f"cifar-10-python.tar.gz in {self.root!r}, or pass download=True.")
            _fetch([self.url], self.root, "cifar-10-python.tar.gz", self.md5)
        parts = [load_batch(self._read(folder, archive, n), n) for n in names]
        images = np.concatenate([p[0] for p in parts])
        self.data = images.transpose(0, 2, 3, 1)
        self.targets = np.concatenate([p[1] for p in parts])

    @staticmethod
    def _read(folder, archive, name):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                return f.read()
        if os.path.exists(archive):
            with tarfile.open(archive, "r:gz") as tar:
                return tar.extractfile(f"cifar-10-batches-py/{name}").read()
        raise RuntimeError(f"CIFAR10: batch {name!r} missing from {folder!r}")

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.data[index]
        image = (Tensor._make((image.transpose(2, 0, 1) / np.float32(255.0)).astype(np.float32))
                 if self.transform is None else self.transform(image))
        target = int(self.targets[index])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
