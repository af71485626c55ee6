"""chainrule.data against scikit-learn (and torch for one_hot): train/test and train/val/test
splits (index for index with an int seed, stratified proportions, types kept), KFold and
StratifiedKFold (the same folds), StandardScaler and MinMaxScaler (fitted on training rows),
one_hot; and the errors on bad input."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import data

ms = pytest.importorskip("sklearn.model_selection")
pre = pytest.importorskip("sklearn.preprocessing")


def same(a, b):
    return [np.asarray(x).tolist() for x in a] == [np.asarray(x).tolist() for x in b]


# ------------------------------------------------------------------------------------ splits
@pytest.mark.parametrize("test_size, train_size", [(None, None), (0.25, None), (0.33, None), (7, None),
                                                   (None, 0.6), (None, 30), (0.2, 0.5), (5, 20)])
@pytest.mark.parametrize("stratified", [False, True])
def test_train_test_split_matches_sklearn_index_for_index(test_size, train_size, stratified):
    r = np.random.default_rng(0)
    X, y = r.standard_normal((47, 3)), r.integers(0, 3, 47)
    kw = dict(test_size=test_size, train_size=train_size, stratify=y if stratified else None)
    for seed in (0, 1, 123):
        assert same(data.train_test_split(X, y, random_state=seed, **kw),
                    ms.train_test_split(X, y, random_state=seed, **kw))


def test_train_test_split_keeps_types_and_partitions_the_rows():
    r = np.random.default_rng(1)
    X = r.standard_normal((50, 3)).astype(np.float32)
    y = np.arange(50)
    names = [f"s{i}" for i in range(50)]
    Xt = cr.tensor(X, requires_grad=True)
    X_tr, X_te, y_tr, y_te, n_tr, n_te = data.train_test_split(Xt, y, names, test_size=0.2,
                                                               random_state=3)
    assert isinstance(X_tr, cr.Tensor) and X_tr.dtype == cr.float32 and tuple(X_tr.shape) == (40, 3)
    assert isinstance(y_tr, np.ndarray) and isinstance(n_te, list) and len(n_te) == 10
    np.testing.assert_array_equal(X_tr.detach().numpy(), X[y_tr])          # rows stay aligned
    assert n_tr == [f"s{i}" for i in y_tr]
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(50))   # disjoint, complete
    t_tr, t_te = data.train_test_split(cr.tensor(y), random_state=3, test_size=0.2)
    assert isinstance(t_te, cr.Tensor) and t_te.tolist() == y_te.tolist()
    assert same(data.train_test_split(y, shuffle=False, test_size=5), [np.arange(45), np.arange(45, 50)])
    assert same(data.train_test_split(y, shuffle=False, test_size=5),
                ms.train_test_split(y, shuffle=False, test_size=5))


def test_train_test_split_reproducibility_and_random_state_kinds():
    y = np.arange(40)
    a = data.train_test_split(y, random_state=7)
    assert same(a, data.train_test_split(y, random_state=np.int64(7)))
    assert not same(a, data.train_test_split(y, random_state=8))
    # a RandomState instance: sklearn's stream, advancing between calls
    r1, r2 = np.random.RandomState(5), np.random.RandomState(5)
    for _ in range(2):
        assert same(data.train_test_split(y, random_state=r1), ms.train_test_split(y, random_state=r2))
    # None follows chainrule's default generator: manual_seed makes it reproducible
    cr.manual_seed(0)
    first = data.train_test_split(y)
    cr.manual_seed(0)
    assert same(first, data.train_test_split(y))
    assert not same(first, data.train_test_split(y))
    g1, g2 = cr.Generator().manual_seed(4), cr.Generator().manual_seed(4)
    assert same(data.train_test_split(y, random_state=g1), data.train_test_split(y, random_state=g2))
    assert same(data.train_test_split(y, random_state=np.random.default_rng(2)),
                data.train_test_split(y, random_state=np.random.default_rng(2)))
    with pytest.raises(TypeError, match="random_state must be"):
        data.train_test_split(y, random_state="seed")


def test_stratified_split_keeps_class_proportions():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    tr, te = data.train_test_split(y, test_size=0.2, stratify=y, random_state=0)
    assert np.bincount(te).tolist() == [12, 6, 2] and np.bincount(tr).tolist() == [48, 24, 8]
    labels = np.array(["cat"] * 9 + ["dog"] * 21)
    tr, te = data.train_test_split(labels, test_size=10, stratify=cr.tensor(labels == "cat"),
                                   random_state=1)
    assert (te == "cat").sum() == 3 and (tr == "cat").sum() == 6


def test_train_val_test_split_three_ways():
    r = np.random.default_rng(2)
    X, y = r.standard_normal((100, 2)), np.array([0] * 60 + [1] * 30 + [2] * 10)
    parts = data.train_val_test_split(X, y, val_size=0.1, test_size=0.2, stratify=y, random_state=0)
    X_tr, X_va, X_te, y_tr, y_va, y_te = parts
    assert [len(p) for p in (y_tr, y_va, y_te)] == [70, 10, 20]
    assert [np.bincount(p).tolist() for p in (y_tr, y_va, y_te)] == [[42, 21, 7], [6, 3, 1], [12, 6, 2]]
    rows = np.concatenate([X_tr, X_va, X_te])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, X.tolist()))   # a partition
    # = two scikit-learn splits with the same seed: test from all, then val from the rest
    X_rest, X_te2, y_rest, y_te2 = ms.train_test_split(X, y, test_size=20, stratify=y, random_state=0)
    X_tr2, X_va2 = ms.train_test_split(X_rest, test_size=10, stratify=y_rest, random_state=0)
    assert same([X_tr, X_va, X_te], [X_tr2, X_va2, X_te2])
    unshuffled = data.train_val_test_split(np.arange(20), val_size=3, test_size=5, shuffle=False)
    assert same(unshuffled, [np.arange(12), np.arange(12, 15), np.arange(15, 20)])
    t = data.train_val_test_split(cr.tensor(X), random_state=1)
    assert all(isinstance(p, cr.Tensor) for p in t) and [len(p) for p in t] == [70, 15, 15]
    cr.manual_seed(3)
    again = data.train_val_test_split(np.arange(30))
    cr.manual_seed(3)
    assert same(again, data.train_val_test_split(np.arange(30)))


def test_split_errors():
    y = np.arange(10)
    with pytest.raises(ValueError, match=r"train_test_split: test_size=1.5 should be a fraction in \(0, 1\)"):
        data.train_test_split(y, test_size=1.5)
    with pytest.raises(ValueError, match="test_size=10 should be a count between 1 and 9"):
        data.train_test_split(y, test_size=10)
    with pytest.raises(ValueError, match=r"train_size \(8\) \+ test_size \(5\) = 13 samples is more than the 10"):
        data.train_test_split(y, test_size=5, train_size=8)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[10, 9\]"):
        data.train_test_split(y, y[:-1])
    with pytest.raises(ValueError, match="at least one array"):
        data.train_test_split()
    with pytest.raises(ValueError, match=r"least populated class in stratify \(\[2\]\) has only 1 member"):
        data.train_test_split(np.arange(5), stratify=[0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match=r"the test part \(2 samples\) must be at least the number of classes \(3\)"):
        data.train_test_split(np.arange(9), test_size=2, stratify=[0, 0, 0, 1, 1, 1, 2, 2, 2])
    with pytest.raises(ValueError, match="stratified splitting needs shuffle=True"):
        data.train_test_split(y, shuffle=False, stratify=y % 2)
    with pytest.raises(ValueError, match=r"stratify must hold 10 labels, got shape \(3,\)"):
        data.train_test_split(y, stratify=[0, 1, 0])
    with pytest.raises(ValueError, match=r"train_val_test_split: val_size \(5\) \+ test_size \(5\) leave no training samples out of 10"):
        data.train_val_test_split(y, val_size=5, test_size=0.5)


# ------------------------------------------------------------------------------------- folds
@pytest.mark.parametrize("shuffle_seed", [None, 0, 7])
def test_kfold_and_stratified_kfold_match_sklearn(shuffle_seed):
    r = np.random.default_rng(3)
    X = np.zeros((23, 2))
    y = r.permutation(np.array([2] * 12 + [0] * 8 + [1] * 3))       # classes in order of appearance
    shuffle = shuffle_seed is not None
    for k in (2, 3, 5):
        for mine, ref in [(data.KFold(k, shuffle=shuffle, random_state=shuffle_seed),
                           ms.KFold(k, shuffle=shuffle, random_state=shuffle_seed)),
                          (data.StratifiedKFold(k, shuffle=shuffle, random_state=shuffle_seed),
                           ms.StratifiedKFold(k, shuffle=shuffle, random_state=shuffle_seed))]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")                      # k=5 > 3 members of class 1
                got, want = list(mine.split(cr.tensor(X), y)), list(ref.split(X, y))
            assert mine.get_n_splits() == k and len(got) == k
            assert all(same(g, w) for g, w in zip(got, want))
            tests = np.concatenate([te for _, te in got])
            assert sorted(tests.tolist()) == list(range(23))          # each sample tested once
            assert all(len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 23 for tr, te in got)


def test_stratified_kfold_keeps_proportions_and_string_labels():
    y = np.array(["b"] * 40 + ["a"] * 20 + ["c"] * 10)
    X = np.zeros((70, 1))
    for _, te in data.StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        assert [(y[te] == c).sum() for c in "bac"] == [8, 4, 2]
    assert same(list(data.StratifiedKFold(5).split(X, y))[0],
                list(ms.StratifiedKFold(5).split(X, y))[0])


def test_fold_shuffling_is_reproducible_per_seed_and_generator():
    X = np.zeros((30, 1))
    folds = lambda cv: [te.tolist() for _, te in cv.split(X)]
    assert folds(data.KFold(3, shuffle=True, random_state=1)) == folds(data.KFold(3, shuffle=True, random_state=1))
    assert folds(data.KFold(3, shuffle=True, random_state=1)) != folds(data.KFold(3, shuffle=True, random_state=2))
    assert folds(data.KFold(3)) == [list(range(10)), list(range(10, 20)), list(range(20, 30))]
    cv = data.KFold(3, shuffle=True, random_state=np.random.RandomState(0))
    assert folds(cv) != folds(cv)                  # a generator moves on between split calls


def test_fold_errors():
    with pytest.raises(ValueError, match="n_splits must be an integer of at least 2, got 1"):
        data.KFold(1)
    with pytest.raises(ValueError, match="random_state has no effect without shuffle=True"):
        data.StratifiedKFold(3, random_state=0)
    with pytest.raises(ValueError, match="cannot have n_splits=5 greater than the number of samples n=3"):
        list(data.KFold(5).split(np.zeros((3, 1))))
    with pytest.raises(ValueError, match=r"n_splits=4 is greater than the number of members of every class \(\[3, 2\]\)"):
        list(data.StratifiedKFold(4).split(np.zeros((5, 1)), [0, 0, 0, 1, 1]))
    with pytest.warns(UserWarning, match="least populated class in y has only 2 members"):
        list(data.StratifiedKFold(3).split(np.zeros((8, 1)), [0, 0, 0, 0, 0, 0, 1, 1]))
    with pytest.raises(ValueError, match="split needs the labels y"):
        list(data.StratifiedKFold(2).split(np.zeros((4, 1)), None))


# ----------------------------------------------------------------------------------- scalers
def scaler_pairs():
    return [(data.StandardScaler(), pre.StandardScaler()),
            (data.StandardScaler(with_mean=False), pre.StandardScaler(with_mean=False)),
            (data.StandardScaler(with_std=False), pre.StandardScaler(with_std=False)),
            (data.MinMaxScaler(), pre.MinMaxScaler()),
            (data.MinMaxScaler((-1, 2)), pre.MinMaxScaler((-1, 2))),
            (data.MinMaxScaler((0, 1), clip=True), pre.MinMaxScaler((0, 1), clip=True))]


def test_scalers_match_sklearn_fitted_on_the_training_split():
    r = np.random.default_rng(4)
    X_train = r.standard_normal((30, 5)) * [1, 5, 0, 2, 0] + [0, 3, 7, -1, 1234.567]   # 2 constant
    X_test = r.standard_normal((10, 5)) * 3
    for mine, ref in scaler_pairs():
        mine.fit(cr.tensor(X_train))
        ref.fit(X_train)
        out = mine.transform(cr.tensor(X_test))
        assert isinstance(out, cr.Tensor) and out.dtype == cr.float64
        np.testing.assert_allclose(out.numpy(), ref.transform(X_test), atol=1e-12)
        np.testing.assert_allclose(mine.fit_transform(X_train), ref.fit_transform(X_train), atol=1e-12)
        np.testing.assert_allclose(mine.inverse_transform(ref.transform(X_test)),
                                   ref.inverse_transform(ref.transform(X_test)), atol=1e-12)
        for attr in ("mean_", "var_", "scale_", "data_min_", "data_max_", "min_"):
            if getattr(ref, attr, None) is not None:
                np.testing.assert_allclose(getattr(mine, attr), getattr(ref, attr), atol=1e-12)
    roundtrip = data.StandardScaler().fit(X_train)
    assert np.abs(roundtrip.transform(X_train)).max() < 10      # 1234.567 ± rounding stays constant
    np.testing.assert_allclose(roundtrip.inverse_transform(roundtrip.transform(X_test)), X_test, atol=1e-12)


def test_scalers_keep_float32_and_treat_nan_as_missing():
    r = np.random.default_rng(5)
    X = r.standard_normal((20, 3)).astype(np.float32)
    for mine, ref in scaler_pairs()[::3]:
        out = mine.fit_transform(cr.tensor(X))
        assert out.dtype == cr.float32
        np.testing.assert_allclose(out.numpy(), ref.fit_transform(X), rtol=1e-5, atol=1e-6)
    Xn = r.standard_normal((20, 3))
    Xn[[1, 5], 0] = np.nan
    for mine, ref in scaler_pairs()[::3]:
        np.testing.assert_allclose(mine.fit_transform(Xn), ref.fit_transform(Xn), atol=1e-12)
    ints = np.arange(12).reshape(4, 3)                       # integers become float64
    assert data.MinMaxScaler().fit_transform(ints).dtype == np.float64


def test_scaler_errors():
    X = np.ones((4, 3))
    with pytest.raises(RuntimeError, match="StandardScaler.transform: this scaler is not fitted; call fit on the training split"):
        data.StandardScaler().transform(X)
    with pytest.raises(ValueError, match="MinMaxScaler.transform: X has 2 features, the scaler was fitted on 3"):
        data.MinMaxScaler().fit(X).transform(X[:, :2])
    with pytest.raises(ValueError, match=r"expected X of shape \(n_samples, n_features\), got \(4,\)"):
        data.StandardScaler().fit(X[:, 0])
    with pytest.raises(ValueError, match="feature_range must be"):
        data.MinMaxScaler((1, 0))
    with pytest.raises(ValueError, match="contains infinity"):
        data.StandardScaler().fit(np.array([[1.0], [np.inf]]))


# ----------------------------------------------------------------------------------- one_hot
def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    for labels, k in [([[0, 3], [2, 1]], -1), ([1], 4), (2, 5), ([], 3), ([[4]], -1)]:
        ours = data.one_hot(cr.tensor(labels, dtype=cr.int64), k)
        ref = torch.nn.functional.one_hot(torch.tensor(labels, dtype=torch.long), k)
        assert ours.dtype == cr.int64 and tuple(ours.shape) == tuple(ref.shape)
        assert ours.tolist() == ref.tolist()
    assert data.one_hot(np.array([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]      # arrays, lists
    assert data.one_hot([1, 0], 2).tolist() == [[0, 1], [1, 0]]
    assert cr.nn.functional.one_hot(cr.tensor([0]), 2).tolist() == [[1, 0]]
    with pytest.raises(RuntimeError, match=r"class values must be smaller than num_classes \(3\), got 5"):
        data.one_hot(cr.tensor([5]), 3)
    with pytest.raises(RuntimeError, match="class values must be non-negative, got -1"):
        data.one_hot(cr.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="expected integer class labels, got dtype float32"):
        data.one_hot(cr.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="cannot infer the number of classes from empty labels"):
        data.one_hot(cr.tensor([], dtype=cr.int64))
