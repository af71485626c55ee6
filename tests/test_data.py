"""cr.data (splits, folds, scalers, one_hot) vs scikit-learn; cr.datasets loaders on files the
tests write (IDX gz/raw, CIFAR batches), corrupt files and a malicious pickle."""
import gzip
import os
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, datasets

R = np.random.default_rng(0)


def test_train_test_split_sizes_types_and_reproducibility():
    X, y = R.standard_normal((50, 3)), np.arange(50)
    Xt = cr.tensor(X)
    a_tr, a_te, y_tr, y_te = data.train_test_split(Xt, y, test_size=0.2, random_state=3)
    assert isinstance(a_tr, cr.Tensor) and isinstance(y_tr, np.ndarray)
    assert a_tr.shape == (40, 3) and len(y_te) == 10
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(50))
    again = data.train_test_split(Xt, y, test_size=0.2, random_state=3)
    assert again[3].tolist() == y_te.tolist()
    assert data.train_test_split(y, test_size=0.2, random_state=4)[1].tolist() != y_te.tolist()
    from sklearn.model_selection import train_test_split as sk
    for ts, tr in [(0.25, None), (0.33, None), (7, None), (None, 0.6), (0.2, 0.5)]:
        mine = data.train_test_split(y, test_size=ts, train_size=tr, random_state=0)
        ref = sk(y, test_size=ts, train_size=tr, random_state=0)
        assert [len(p) for p in mine] == [len(p) for p in ref]
    assert data.train_test_split(y, shuffle=False, test_size=5)[1].tolist() == [45, 46, 47, 48, 49]


def test_stratified_splits_keep_class_proportions():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    tr, te = data.train_test_split(y, test_size=0.2, stratify=y, random_state=0)
    assert np.bincount(te).tolist() == [12, 6, 2] and np.bincount(tr).tolist() == [48, 24, 8]
    parts = data.train_val_test_split(y, val_size=0.1, test_size=0.2, stratify=y, random_state=0)
    assert [np.bincount(p).tolist() for p in parts] == [[42, 21, 7], [6, 3, 1], [12, 6, 2]]
    with pytest.raises(ValueError, match="least populated class"):
        data.train_test_split(np.arange(3), stratify=np.array([0, 1, 1]))


def test_kfold_and_stratified_kfold_vs_sklearn():
    from sklearn.model_selection import KFold, StratifiedKFold
    X = np.zeros((23, 2))
    y = np.array([0] * 12 + [1] * 8 + [2] * 3)
    for mine, ref in [(data.KFold(5), KFold(5)), (data.StratifiedKFold(3), StratifiedKFold(3))]:
        got = list(mine.split(X, y))
        want = list(ref.split(X, y))
        assert [len(te) for _, te in got] == [len(te) for _, te in want]
        if isinstance(mine, data.StratifiedKFold):
            assert [np.bincount(y[te], minlength=3).tolist() for _, te in got] == \
                [np.bincount(y[te], minlength=3).tolist() for _, te in want]
        else:
            assert [te.tolist() for _, te in got] == [te.tolist() for _, te in want]
        seen = np.concatenate([te for _, te in got])
        assert sorted(seen.tolist()) == list(range(23))
        assert all(len(np.intersect1d(tr, te)) == 0 for tr, te in got)
    shuffled = [te.tolist() for _, te in data.KFold(4, shuffle=True, random_state=1).split(X)]
    assert shuffled == [te.tolist() for _, te in data.KFold(4, shuffle=True, random_state=1).split(X)]
    with pytest.raises(ValueError, match="n_splits must be at least 2"):
        data.KFold(1)


def test_scalers_vs_sklearn_fitted_on_training_split():
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    X_train = R.standard_normal((30, 4)) * [1, 5, 0, 2] + [0, 3, 7, -1]
    X_test = R.standard_normal((10, 4))
    for mine, ref in [(data.StandardScaler(), StandardScaler()),
                      (data.MinMaxScaler((-1, 2)), MinMaxScaler((-1, 2)))]:
        mine.fit(cr.tensor(X_train))
        ref.fit(X_train)
        out = mine.transform(cr.tensor(X_test))
        assert isinstance(out, cr.Tensor)
        np.testing.assert_allclose(out.numpy(), ref.transform(X_test), atol=1e-12)
        np.testing.assert_allclose(mine.inverse_transform(mine.transform(X_test)), X_test, atol=1e-12)
        np.testing.assert_allclose(mine.fit_transform(X_train), ref.fit_transform(X_train), atol=1e-12)
    with pytest.raises(RuntimeError, match="call fit on the training split first"):
        data.StandardScaler().transform(X_test)
    with pytest.raises(ValueError, match="X has 3 features, the scaler was fitted on 4"):
        data.StandardScaler().fit(X_train).transform(X_test[:, :3])


def test_one_hot_vs_torch():
    torch = pytest.importorskip("torch")
    labels = np.array([[0, 3], [2, 1]])
    assert data.one_hot(cr.tensor(labels)).tolist() == torch.nn.functional.one_hot(torch.tensor(labels)).tolist()
    assert data.one_hot(cr.tensor([1]), 4).tolist() == [[0, 1, 0, 0]]
    assert cr.nn.functional.one_hot(cr.tensor([0]), 2).dtype == cr.int64
    with pytest.raises(ValueError, match="smaller than num_classes"):
        data.one_hot(cr.tensor([5]), 3)


# ------------------------------------------------------------------ loaders
def _idx_bytes(array, dtype_code=0x08):
    header = bytes([0, 0, dtype_code, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist(root, n_train=6, n_test=4, compress=True, sub=""):
    d = os.path.join(root, sub)
    os.makedirs(d, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = R.integers(0, 256, (n, 28, 28))
        labels = R.integers(0, 10, n)
        arrays[prefix] = (imgs, labels)
        for kind, arr in (("images-idx3-ubyte", imgs), ("labels-idx1-ubyte", labels)):
            blob = _idx_bytes(arr)
            name = f"{prefix}-{kind}" + (".gz" if compress else "")
            with (gzip.open if compress else open)(os.path.join(d, name), "wb") as f:
                f.write(blob)
    return arrays


@pytest.mark.parametrize("compress, sub", [(True, ""), (False, ""), (True, "MNIST/raw")])
def test_mnist_round_trip(tmp_path, compress, sub):
    arrays = _write_mnist(str(tmp_path), compress=compress, sub=sub)
    ds = datasets.MNIST(str(tmp_path), train=True)
    assert len(ds) == 6 and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data, arrays["train"][0])
    image, label = ds[2]
    assert image.shape == (1, 28, 28) and label == arrays["train"][1][2]
    np.testing.assert_allclose(image.numpy()[0], arrays["train"][0][2] / 255.0, rtol=1e-6)
    test = datasets.MNIST(str(tmp_path), train=False, transform=lambda im: im.sum())
    assert len(test) == 4 and test[0][0] == arrays["t10k"][0][0].sum()
    X, y = test.tensors()
    assert X.shape == (4, 1, 28, 28) and y.dtype == cr.int64
    loader = cr.utils.data.DataLoader(ds, batch_size=4)
    xb, yb = next(iter(loader))
    assert tuple(xb.shape) == (4, 1, 28, 28)


def test_mnist_corrupt_files_raise_clear_errors(tmp_path):
    root = str(tmp_path)
    _write_mnist(root, compress=False)
    path = os.path.join(root, "train-images-idx3-ubyte")
    good = open(path, "rb").read()
    open(path, "wb").write(b"\x00\x00\x08\x01" + good[4:])          # wrong magic (1-d)
    with pytest.raises(ValueError, match="magic number 2049 means a 1-d array, expected 3-d"):
        datasets.MNIST(root)
    open(path, "wb").write(good[:-100])                              # truncated
    with pytest.raises(ValueError, match="truncated or corrupt"):
        datasets.MNIST(root)
    open(path, "wb").write(b"PK\x03\x04rubbish")
    with pytest.raises(ValueError, match="bad magic number"):
        datasets.MNIST(root)
    open(path, "wb").write(_idx_bytes(R.integers(0, 256, (5, 28, 28))))   # 5 images, 6 labels
    with pytest.raises(ValueError, match="has 5 images but .* has 6 labels"):
        datasets.MNIST(root)
    with pytest.raises(RuntimeError, match="not found. Put the four IDX files"):
        datasets.FashionMNIST(str(tmp_path / "nothing"))


def _write_cifar(root, batches):
    d = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(d, exist_ok=True)
    for name, obj in batches.items():
        with open(os.path.join(d, name), "wb") as f:
            pickle.dump(obj, f, protocol=2)


def _cifar_batch(n):
    return {b"data": R.integers(0, 256, (n, 3072)).astype(np.uint8), b"labels": R.integers(0, 10, n).tolist(),
            b"batch_label": b"testing", b"filenames": [b"x.png"] * n}


def test_cifar10_round_trip(tmp_path):
    batches = {f"data_batch_{i}": _cifar_batch(3) for i in range(1, 6)}
    batches["test_batch"] = _cifar_batch(4)
    _write_cifar(str(tmp_path), batches)
    train = datasets.CIFAR10(str(tmp_path))
    assert len(train) == 15 and train.data.shape == (15, 32, 32, 3)
    image, label = train[4]
    expected = batches["data_batch_2"][b"data"][1].reshape(3, 32, 32) / 255.0
    np.testing.assert_allclose(image.numpy(), expected, rtol=1e-6)
    assert label == batches["data_batch_2"][b"labels"][1]
    assert len(datasets.CIFAR10(str(tmp_path), train=False)) == 4


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_cifar10_refuses_a_pickled_callable(tmp_path):
    bad = _cifar_batch(2)
    bad[b"labels"] = _Evil()
    _write_cifar(str(tmp_path), {"test_batch": bad})
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .*system"):
        datasets.CIFAR10(str(tmp_path), train=False)
    with pytest.raises(RuntimeError, match="cifar-10-batches-py"):
        datasets.CIFAR10(str(tmp_path / "empty"))


def test_sklearn_toy_datasets():
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == cr.float32 and y.dtype == cr.int64
    assert datasets.load_digits(images=True)[0].shape == (1797, 1, 8, 8)
    assert datasets.load_iris()[0].shape == (150, 4)
    assert datasets.load_breast_cancer()[0].shape == (569, 30)
    assert datasets.load_diabetes()[1].dtype == cr.float32
