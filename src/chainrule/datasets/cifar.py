"""CIFAR-10 from the standard python batches, read through a restricted unpickler."""
from __future__ import annotations

import os
import tarfile

import numpy as np

from .._io import atomic_open
from ..tensor import Tensor
from ..utils.data import Dataset
from ._download import download as _fetch
from ._safe_pickle import safe_loads

FOLDER, ARCHIVE = "cifar-10-batches-py", "cifar-10-python.tar.gz"


def load_batch(data: bytes, source: str, owner: str = "CIFAR10"):
    """One pickled batch → (images (N, 3, 32, 32) uint8, labels (N,) int64), checked: a dict
    with b'data' an (N, 3072) uint8 array (1024 red, 1024 green, 1024 blue values per image,
    rows of 32) and b'labels' N ints in 0..9."""
    batch = safe_loads(data, source, owner)
    if not isinstance(batch, dict):
        raise ValueError(f"{owner}: {source} holds a {type(batch).__name__}, not a batch dict")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{owner}: {source} lacks the 'data' or 'labels' entry "
                         f"(has {sorted(map(str, batch))})")
    images, labels = batch["data"], batch["labels"]
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 \
            or images.shape[1] != 3072:
        got = f"{images.dtype} array of shape {images.shape}" if isinstance(images, np.ndarray) \
            else type(images).__name__
        raise ValueError(f"{owner}: {source}: 'data' must be a uint8 array of shape (N, 3072), "
                         f"got {got}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {source}: 'labels' must be a list of ints") from None
    if labels.shape != (len(images),):
        raise ValueError(f"{owner}: {source} has {len(images)} images but labels of shape "
                         f"{labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{owner}: {source}: labels must be in 0..9, got "
                         f"{int(labels.min())}..{int(labels.max())}")
    return images.reshape(-1, 3, 32, 32), labels


class CIFAR10(Dataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32×32 in 10 classes.

    ``root`` holds ``cifar-10-batches-py/`` (``data_batch_1`` … ``data_batch_5`` for
    ``train=True``, ``test_batch`` for ``train=False``) or the ``cifar-10-python.tar.gz``
    archive. ``dataset[i]`` is (image, label): a float32 tensor (3, 32, 32) of x/255 ∈ [0, 1] —
    or ``transform(x)`` of the uint8 array (32, 32, 3) —, and an int. ``.data`` (N, 32, 32, 3)
    uint8 and ``.targets`` (N,) int64 hold the split, as torchvision's.

    The batches are pickles; they are read with an unpickler that rebuilds only dicts, lists,
    strings, numbers and NumPy arrays and refuses anything else (a crafted file cannot run
    code). ``download=True`` fetches the archive (md5-checked) and extracts the batches.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root, train: bool = True, download: bool = False, transform=None,
                 target_transform=None):
        self.root, self.train = os.fspath(root), bool(train)
        self.transform, self.target_transform = transform, target_transform
        names = self.train_list if self.train else self.test_list
        folder = os.path.join(self.root, FOLDER)
        archive = os.path.join(self.root, ARCHIVE)
        if not os.path.isdir(folder) and not os.path.isfile(archive):
            if not download:
                raise RuntimeError(f"CIFAR10: {folder!r} not found. {self._where()}, or pass "
                                   "download=True.")
            self._download(archive)
        blobs = self._read(folder, archive, names)
        parts = [load_batch(blobs[n], os.path.join(folder, n)) for n in names]
        self.data = np.concatenate([p[0] for p in parts]).transpose(0, 2, 3, 1)
        self.targets = np.concatenate([p[1] for p in parts])

    def _where(self):
        return (f"Put the extracted {FOLDER}/ folder (data_batch_1..data_batch_5, test_batch) or "
                f"{ARCHIVE} in {self.root!r}")

    def _download(self, archive):
        try:
            _fetch([self.url], self.root, ARCHIVE, self.md5)
        except RuntimeError as e:
            raise RuntimeError(f"CIFAR10: {e}\nWithout network access: {self._where()}.") from None
        _extract(archive, os.path.join(self.root, FOLDER), self.train_list + self.test_list)

    def _read(self, folder, archive, names):
        """{name: bytes} from the folder when it has them all, else from the archive."""
        missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
        if not missing:
            blobs = {}
            for n in names:
                with open(os.path.join(folder, n), "rb") as f:
                    blobs[n] = f.read()
            return blobs
        if os.path.isfile(archive):
            return _members(archive, names)
        raise RuntimeError(f"CIFAR10: {', '.join(missing)} missing from {folder!r}; "
                           f"{self._where()}")

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.data[index]
        if self.transform is None:
            image = Tensor._make((image.transpose(2, 0, 1) / np.float32(255.0)).astype(np.float32))
        else:
            image = self.transform(image)
        target = int(self.targets[index])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        return (f"Dataset CIFAR10\n    Number of datapoints: {len(self)}\n    Root location: "
                f"{self.root}\n    Split: {'Train' if self.train else 'Test'}")


def _members(archive, names):
    """The named batches' bytes from the archive, without extracting anything else."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            out = {}
            for n in names:
                try:
                    member = tar.getmember(f"{FOLDER}/{n}")
                except KeyError:
                    raise RuntimeError(f"CIFAR10: {archive} has no {FOLDER}/{n}") from None
                if not member.isfile():
                    raise ValueError(f"CIFAR10: {archive}: {FOLDER}/{n} is not a regular file")
                out[n] = tar.extractfile(member).read()
            return out
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f"CIFAR10: {archive} is corrupt or not a .tar.gz ({e})") from None


def _extract(archive, folder, names):
    """Write the named batches from the archive into ``folder``, each atomically."""
    for n, blob in _members(archive, names).items():
        with atomic_open(os.path.join(folder, n)) as f:
            f.write(blob)
