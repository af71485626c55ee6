"""chainrule.datasets: the bundled scikit-learn sets; MNIST / Fashion-MNIST and CIFAR-10 read
from small files the tests write (IDX raw and gz; CIFAR batches pickled as Python 2 wrote them,
in a folder or the .tar.gz); corrupt, truncated and mismatched files; a pickled callable;
downloads from file:// mirrors (checksums, atomic writes, the message when offline).
Nothing here touches the network or the real datasets on disk: every file is written here."""
import gzip
import hashlib
import io
import os
import pickle
import struct
import sys
import tarfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets


# ------------------------------------------------------------------------------- IDX helpers
def idx_bytes(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype({0x08: np.uint8, 0x0D: ">f4"}[code]).tobytes()


def write(path, blob):
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with (gzip.open if path.endswith(".gz") else open)(path, "wb") as f:
        f.write(blob)


def write_mnist(root, n_train=6, n_test=4, gz=True, sub="", seed=0):
    r = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = r.integers(0, 256, (n, 28, 28)), r.integers(0, 10, n)
        arrays[prefix] = (images, labels)
        for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            write(os.path.join(root, sub, f"{prefix}-{kind}" + (".gz" if gz else "")), idx_bytes(arr))
    return arrays


# ------------------------------------------------------------------------------------ MNIST
@pytest.mark.parametrize("cls, gz, sub", [(datasets.MNIST, True, ""), (datasets.MNIST, False, ""),
                                          (datasets.MNIST, True, "MNIST/raw"),
                                          (datasets.FashionMNIST, False, "FashionMNIST/raw")])
def test_mnist_round_trip(tmp_path, cls, gz, sub):
    arrays = write_mnist(str(tmp_path), gz=gz, sub=sub)
    ds = cls(tmp_path, train=True)                                  # a pathlib root works too
    assert len(ds) == 6 and ds.data.dtype == np.uint8 and ds.data.shape == (6, 28, 28)
    np.testing.assert_array_equal(ds.data, arrays["train"][0])
    np.testing.assert_array_equal(ds.targets, arrays["train"][1])
    assert ds.targets.dtype == np.int64
    image, label = ds[2]
    assert isinstance(image, cr.Tensor) and image.dtype == cr.float32 and tuple(image.shape) == (1, 28, 28)
    assert isinstance(label, int) and label == arrays["train"][1][2]
    np.testing.assert_allclose(image.numpy()[0], arrays["train"][0][2] / 255.0, rtol=1e-6)
    assert 0.0 <= image.numpy().min() and image.numpy().max() <= 1.0
    test = cls(str(tmp_path), train=False, transform=lambda im: int(im.sum()),
               target_transform=lambda y: y + 100)
    assert len(test) == 4 and test[0] == (int(arrays["t10k"][0][0].sum()), int(arrays["t10k"][1][0]) + 100)
    X, y = test.tensors()
    assert tuple(X.shape) == (4, 1, 28, 28) and X.dtype == cr.float32 and y.dtype == cr.int64
    assert isinstance(ds, cr.utils.data.Dataset) and "Number of datapoints: 6" in repr(ds)
    xb, yb = next(iter(cr.utils.data.DataLoader(ds, batch_size=4)))
    assert tuple(xb.shape) == (4, 1, 28, 28) and yb.tolist() == arrays["train"][1][:4].tolist()


def corrupt_cases(good_images, good_labels):
    """(file to overwrite, bytes, error type, message fragment)."""
    five = idx_bytes(np.zeros((5, 28, 28)))
    return [
        ("images", good_labels, ValueError, r"wrong magic number 2049 \(0x00000801\), expected 2051 \(unsigned bytes in 3 dimensions\)"),
        ("labels", good_images, ValueError, r"wrong magic number 2051 .*expected 2049 \(unsigned bytes in 1 dimension\)"),
        ("images", idx_bytes(np.zeros((6, 28, 28)), code=0x0D), ValueError, r"wrong magic number 3331"),
        ("images", b"PK\x03\x04rubbish", ValueError, "wrong magic number"),
        ("images", b"\x00\x00", ValueError, "too short for an IDX header"),
        ("images", good_images[:10], ValueError, "truncated header"),
        ("images", good_images[:-100], ValueError, r"header says shape \(6, 28, 28\) \(4704 bytes of data\) but the file holds 4604; it is truncated"),
        ("images", good_images + b"\x00", ValueError, "longer than its header says"),
        ("images", idx_bytes(np.zeros((6, 28, 27))), ValueError, "holds images of 28×27 pixels, expected 28×28"),
        ("labels", idx_bytes(np.array([1, 2, 3, 10, 0, 0])), ValueError, "holds label 10, expected 0..9"),
        ("images", five, ValueError, "has 5 images but .*train-labels-idx1-ubyte has 6 labels"),
    ]


def test_mnist_corrupt_raw_files_raise_clear_errors(tmp_path):
    root = str(tmp_path)
    write_mnist(root, gz=False)
    paths = {k: os.path.join(root, f"train-{k}-idx{3 if k == 'images' else 1}-ubyte") for k in ("images", "labels")}
    good = {k: open(p, "rb").read() for k, p in paths.items()}
    for which, blob, err, message in corrupt_cases(good["images"], good["labels"]):
        with open(paths[which], "wb") as f:
            f.write(blob)
        with pytest.raises(err, match=message):
            datasets.MNIST(root)
        with open(paths[which], "wb") as f:
            f.write(good[which])
    assert len(datasets.MNIST(root)) == 6                           # restored: loads again


def test_mnist_corrupt_gzip_files(tmp_path):
    root = str(tmp_path)
    write_mnist(root, gz=True)
    path = os.path.join(root, "train-images-idx3-ubyte.gz")
    packed = open(path, "rb").read()
    for blob in (packed[: len(packed) // 2], packed[:-4] + b"\xff\xff\xff\xff", b"\x1f\x8bnot gzip"):
        with open(path, "wb") as f:
            f.write(blob)
        with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: cannot be read .*corrupt or truncated"):
            datasets.MNIST(root)
    write(path, idx_bytes(np.zeros((6, 28, 28)))[:-1])               # valid gzip of a truncated file
    with pytest.raises(ValueError, match="truncated"):
        datasets.MNIST(root)


def test_mnist_missing_files_say_which_files_to_put_where(tmp_path):
    with pytest.raises(RuntimeError, match=r"FashionMNIST: t10k-images-idx3-ubyte\[.gz\], "
                                           r"t10k-labels-idx1-ubyte\[.gz\] not found. Put "
                                           r"t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
                                           r"\(or the uncompressed files\) in .* or .*FashionMNIST/raw"):
        datasets.FashionMNIST(str(tmp_path / "nothing"), train=False)
    write_mnist(str(tmp_path), n_test=0)
    os.remove(tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(RuntimeError, match=r"MNIST: train-labels-idx1-ubyte\[.gz\] not found"):
        datasets.MNIST(str(tmp_path))
    assert len(datasets.MNIST(str(tmp_path), train=False)) == 0     # an empty split is valid


# ------------------------------------------------------------------------- MNIST downloads
def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local mirror (file:// URL) with the four gz files; MNIST's checksums point at them."""
    site = tmp_path / "mirror"
    arrays = write_mnist(str(site), gz=True)
    files = {n: md5(site / (n + ".gz")) for n in datasets.MNIST.files}
    monkeypatch.setattr(datasets.MNIST, "files", files)
    return site, arrays


def test_mnist_download_from_a_mirror(tmp_path, monkeypatch, mirror):
    site, arrays = mirror
    monkeypatch.setattr(datasets.MNIST, "mirrors", [(tmp_path / "down").as_uri() + "/", site.as_uri() + "/"])
    root = tmp_path / "root"
    ds = datasets.MNIST(str(root), train=False, download=True)      # first mirror fails, second works
    np.testing.assert_array_equal(ds.data, arrays["t10k"][0])
    raw = root / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    monkeypatch.setattr(datasets.MNIST, "mirrors", [])               # now served from disk
    assert len(datasets.MNIST(str(root), train=False, download=True)) == 4


def test_mnist_download_checksum_mismatch_and_offline(tmp_path, monkeypatch, mirror):
    site, _ = mirror
    monkeypatch.setattr(datasets.MNIST, "mirrors", [site.as_uri() + "/"])
    bad = dict(datasets.MNIST.files, **{"train-images-idx3-ubyte": "0" * 32})
    monkeypatch.setattr(datasets.MNIST, "files", bad)
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match=r"(?s)could not download train-images-idx3-ubyte.gz.*md5 .* != "
                                           r"expected 0{32}.*Without network access: Put "
                                           r"train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz"):
        datasets.MNIST(str(root), download=True)
    raw = root / "MNIST" / "raw"
    assert not raw.exists() or os.listdir(raw) == []                # nothing half-written is left
    monkeypatch.setattr(datasets.MNIST, "mirrors", [(tmp_path / "offline").as_uri() + "/"])
    with pytest.raises(RuntimeError, match=r"(?s)MNIST: could not download t10k-images-idx3-ubyte.gz.*"
                                           r"Without network access: Put t10k-images-idx3-ubyte.gz"):
        datasets.MNIST(str(root), train=False, download=True)


# ----------------------------------------------------------------------------------- CIFAR-10
class Py2Pickler(pickle._Pickler):
    """Pickles as Python 2's cPickle wrote the CIFAR batches: protocol 2, every str and bytes
    as a byte string (SHORT_BINSTRING/BINSTRING), NumPy named numpy.core.multiarray."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_string(self, obj):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        n = len(raw)
        self.write(pickle.SHORT_BINSTRING + bytes([n]) + raw if n < 256
                   else pickle.BINSTRING + struct.pack("<i", n) + raw)
        self.memoize(obj)

    dispatch[bytes] = save_string
    dispatch[str] = save_string


def py2_pickle(obj):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def cifar_batch(n, seed):
    r = np.random.default_rng(seed)
    return {"batch_label": "training batch", "labels": r.integers(0, 10, n).tolist(),
            "data": r.integers(0, 256, (n, 3072)).astype(np.uint8),
            "filenames": [f"img_{i}.png" for i in range(n)]}


def cifar_files(sizes=(3, 3, 2, 3, 1), n_test=4):
    batches = {f"data_batch_{i + 1}": cifar_batch(n, i) for i, n in enumerate(sizes)}
    batches["test_batch"] = cifar_batch(n_test, 9)
    return batches


def write_cifar(root, batches, encode=py2_pickle):
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    for name, obj in batches.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(obj if isinstance(obj, bytes) else encode(obj))


def check_cifar(root, batches):
    train = datasets.CIFAR10(root)
    assert len(train) == 12 and train.data.shape == (12, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets.tolist() == sum((batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    image, label = train[4]                                         # the 2nd image of data_batch_2
    expected = batches["data_batch_2"]["data"][1].reshape(3, 32, 32)
    assert isinstance(image, cr.Tensor) and image.dtype == cr.float32 and tuple(image.shape) == (3, 32, 32)
    np.testing.assert_allclose(image.numpy(), expected / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(train.data[4], expected.transpose(1, 2, 0))    # HWC, as torchvision
    assert label == batches["data_batch_2"]["labels"][1]
    test = datasets.CIFAR10(root, train=False, transform=lambda im: im.shape, target_transform=str)
    assert len(test) == 4 and test[0] == ((32, 32, 3), str(batches["test_batch"]["labels"][0]))


@pytest.mark.parametrize("encode", [py2_pickle, lambda o: pickle.dumps(o, protocol=3),
                                    lambda o: pickle.dumps(o, protocol=4)], ids=["python2", "p3", "p4"])
def test_cifar10_round_trip(tmp_path, encode):
    batches = cifar_files()
    write_cifar(str(tmp_path), batches, encode)
    check_cifar(str(tmp_path), batches)


def make_archive(path, batches):
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in batches.items():
            blob = py2_pickle(obj)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def test_cifar10_from_the_archive_and_a_download(tmp_path, monkeypatch):
    batches = cifar_files()
    make_archive(tmp_path / "cifar-10-python.tar.gz", batches)
    check_cifar(str(tmp_path), batches)                             # read from the .tar.gz
    site = tmp_path / "site"
    site.mkdir()
    make_archive(site / "cifar-10-python.tar.gz", batches)
    monkeypatch.setattr(datasets.CIFAR10, "url", (site / "cifar-10-python.tar.gz").as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "md5", md5(site / "cifar-10-python.tar.gz"))
    root = tmp_path / "root"
    datasets.CIFAR10(str(root), download=True)
    assert sorted(os.listdir(root / "cifar-10-batches-py")) == sorted(batches)   # extracted
    check_cifar(str(root), batches)
    monkeypatch.setattr(datasets.CIFAR10, "md5", "f" * 32)
    with pytest.raises(RuntimeError, match=r"(?s)could not download cifar-10-python.tar.gz.*md5.*"
                                           r"Without network access: Put the extracted cifar-10-batches-py/"):
        datasets.CIFAR10(str(tmp_path / "other"), download=True)
    assert not (tmp_path / "other" / "cifar-10-python.tar.gz").exists()


class Evil:
    """Unpickling this runs os.system(command) — unless the unpickler refuses it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


@pytest.mark.parametrize("where", ["labels", "data", "top"])
def test_cifar10_refuses_a_pickled_callable(tmp_path, where):
    marker = tmp_path / "pwned"
    batch = cifar_batch(2, 0)
    if where == "top":
        batch = Evil(str(marker))
    else:
        batch[where] = Evil(str(marker))
    write_cifar(str(tmp_path), {"test_batch": py2_pickle(batch)})
    with pytest.raises(pickle.UnpicklingError, match=r"CIFAR10: refusing to load (posix|nt|os)\.system "
                                                     r"from .*test_batch: a data batch may only hold"):
        datasets.CIFAR10(str(tmp_path), train=False)
    assert not marker.exists()                                      # the command never ran


def test_cifar10_refuses_other_globals(tmp_path):
    for obj, name in [(EvalEvil(), r"(__builtin__|builtins)\.eval"), ({"data": {1, 2}}, r"(__builtin__|builtins)\.set"),
                      ({"data": np.zeros(2)}, r"numpy\._core\.numeric\._frombuffer")]:
        protocol = 5 if name.startswith("numpy") else 2             # protocol 5 arrays use _frombuffer
        write_cifar(str(tmp_path), {"test_batch": pickle.dumps(obj, protocol=protocol)})
        with pytest.raises(pickle.UnpicklingError, match=f"refusing to load {name}"):
            datasets.CIFAR10(str(tmp_path), train=False)


def test_cifar10_corrupt_and_missing_batches(tmp_path):
    root = str(tmp_path)
    good = cifar_batch(3, 0)
    cases = [
        (b"not a pickle at all", ValueError, "test_batch is corrupt or not a pickled data batch"),
        (py2_pickle(good)[:-50], ValueError, "test_batch is corrupt or not a pickled data batch"),
        (py2_pickle([1, 2, 3]), ValueError, "holds a list, not a batch dict"),
        (py2_pickle({"data": good["data"]}), ValueError, "lacks the 'data' or 'labels' entry"),
        (py2_pickle(dict(good, data=good["data"][:, :100])), ValueError,
         r"'data' must be a uint8 array of shape \(N, 3072\), got uint8 array of shape \(3, 100\)"),
        (py2_pickle(dict(good, data=good["data"].astype(np.float32))), ValueError, "got float32 array"),
        (py2_pickle(dict(good, labels=[1, 2])), ValueError, r"has 3 images but labels of shape \(2,\)"),
        (py2_pickle(dict(good, labels=[1, 2, 10])), ValueError, r"labels must be in 0..9, got 1..10"),
    ]
    for blob, err, message in cases:
        write_cifar(root, {"test_batch": blob})
        with pytest.raises(err, match=message):
            datasets.CIFAR10(root, train=False)
    write_cifar(root, {"data_batch_1": good, "data_batch_2": good})
    with pytest.raises(RuntimeError, match=r"data_batch_3, data_batch_4, data_batch_5 missing from .*cifar-10-batches-py"):
        datasets.CIFAR10(root)
    with pytest.raises(RuntimeError, match=r"CIFAR10: .*cifar-10-batches-py' not found. Put the extracted "
                                           r"cifar-10-batches-py/ folder .* or cifar-10-python.tar.gz in"):
        datasets.CIFAR10(str(tmp_path / "empty"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(ValueError, match="cifar-10-python.tar.gz is corrupt or not a .tar.gz"):
        datasets.CIFAR10(str(tmp_path / "bad"))


# ------------------------------------------------------------------------ scikit-learn's sets
def test_bundled_datasets_are_sklearns_as_tensors():
    skd = pytest.importorskip("sklearn.datasets")
    for loader, n, d in [(datasets.load_digits, 1797, 64), (datasets.load_iris, 150, 4),
                         (datasets.load_breast_cancer, 569, 30)]:
        X, y = loader()
        assert tuple(X.shape) == (n, d) and X.dtype == cr.float32 and y.dtype == cr.int64
        ref = getattr(skd, loader.__name__)()
        np.testing.assert_array_equal(X.numpy(), ref.data.astype(np.float32))
        np.testing.assert_array_equal(y.numpy(), ref.target)
    images, y = datasets.load_digits(images=True)
    assert tuple(images.shape) == (1797, 1, 8, 8) and images.numpy().max() == 16.0
    X, y = datasets.load_diabetes()
    assert tuple(X.shape) == (442, 10) and y.dtype == cr.float32


def test_bundled_datasets_without_sklearn_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[datasets\]"):
        datasets.load_iris()
