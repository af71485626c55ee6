"""Selecting data: train/test and train/validation/test splits (optionally stratified).

With an integer ``random_state`` the splits are scikit-learn's, index for index (the same
algorithm on NumPy's ``RandomState`` stream), so results carry over between the two libraries.
"""
from __future__ import annotations

import math

import numpy as np

from ._inputs import as_numpy, n_samples, random_state_of, take


def _count(value, n, name, op, round_up):
    """A size given as a fraction in (0, 1) or a count in [1, n − 1] → a count."""
    kind = np.asarray(value).dtype.kind
    if kind == "f":
        if not 0 < value < 1:
            raise ValueError(f"{op}: {name}={value} should be a fraction in (0, 1) or a count "
                             f"between 1 and {n - 1}")
        return math.ceil(value * n) if round_up else math.floor(value * n)
    if kind in "iu":
        if not 0 < value < n:
            raise ValueError(f"{op}: {name}={value} should be a count between 1 and {n - 1} "
                             f"(there are {n} samples) or a fraction in (0, 1)")
        return int(value)
    raise ValueError(f"{op}: {name} must be a fraction or a count, got {value!r}")


def split_sizes(n, test_size, train_size, op="train_test_split", default_test=0.25):
    """(n_train, n_test) by scikit-learn's rules: a fraction of n rounds the test part up and
    the train part down; the part not given is the rest."""
    if test_size is None and train_size is None:
        test_size = default_test
    n_test = None if test_size is None else _count(test_size, n, "test_size", op, True)
    n_train = None if train_size is None else _count(train_size, n, "train_size", op, False)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"{op}: train_size ({n_train}) + test_size ({n_test}) = "
                         f"{n_train + n_test} samples is more than the {n} there are")
    if n_train == 0 or n_test == 0:
        raise ValueError(f"{op}: with {n} samples, test_size={test_size} and "
                         f"train_size={train_size} one part would be empty")
    return n_train, n_test


def approximate_mode(class_counts, n_draws, rng):
    """Per-class counts summing to ``n_draws`` in proportion to ``class_counts``: the floors of
    n_draws·count/Σcount, then one more for the largest remainders (ties broken at random) —
    the most likely outcome of drawing without replacement (scikit-learn's rule)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (candidates,) = np.where(remainder == value)
            add = min(len(candidates), need)
            floored[rng.choice(candidates, size=add, replace=False)] += 1
            need -= add
            if need == 0:
                break
    return floored.astype(int)


def stratified_indices(y, n_train, n_test, rng, op="train_test_split"):
    """(train, test) index arrays that keep the class proportions of the labels ``y``."""
    classes, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(f"{op}: the least populated class in stratify "
                         f"({classes[counts < 2].tolist()[:5]}) has only 1 member; every class "
                         "needs at least 2")
    for part, size in (("train", n_train), ("test", n_test)):
        if size < len(classes):
            raise ValueError(f"{op}: the {part} part ({size} samples) must be at least the number "
                             f"of classes ({len(classes)}) to hold every class")
    members = np.split(np.argsort(y_idx, kind="stable"), np.cumsum(counts)[:-1])
    n_i = approximate_mode(counts, n_train, rng)
    t_i = approximate_mode(counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(len(classes)):
        perm = members[i].take(rng.permutation(counts[i]), mode="clip")
        train.extend(perm[:n_i[i]])
        test.extend(perm[n_i[i]:n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True,
                     stratify=None):
    """Split arrays of n samples into a training and a test part, at the same random rows.

    ``arrays``: tensors, NumPy arrays or lists, each with n samples along the first axis;
    returns [a_train, a_test, b_train, b_test, ...], each of the type it was given (tensors stay
    tensors). ``test_size`` / ``train_size``: a fraction in (0, 1) (n_test = ⌈f·n⌉,
    n_train = ⌊f·n⌋) or a count; by default test = 0.25 and train = the rest.
    ``stratify`` (n,): labels whose class proportions both parts keep (each class needs 2
    members). ``random_state``: an int (the same split as scikit-learn's for that int), a
    NumPy ``RandomState``/``Generator``, a ``chainrule.Generator``, or None (chainrule's default
    generator, so ``chainrule.manual_seed`` makes it reproducible). ``shuffle=False`` takes the
    first n_train rows for training and the next n_test for testing.
    """
    op = "train_test_split"
    n = n_samples(arrays, op)
    n_train, n_test = split_sizes(n, test_size, train_size, op)
    y = None if stratify is None else _class_keys(stratify, n, op)
    train, test = _split_indices(n, n_train, n_test, random_state, shuffle, y, op)
    return [part for a in arrays for part in (take(a, train), take(a, test))]


def _split_indices(n, n_train, n_test, random_state, shuffle, y, op):
    """(train, test) row indices: scikit-learn's ShuffleSplit / StratifiedShuffleSplit draw."""
    if not shuffle:
        if y is not None:
            raise ValueError(f"{op}: stratified splitting needs shuffle=True")
        return np.arange(n_train), np.arange(n_train, n_train + n_test)
    rng = random_state_of(random_state)
    if y is not None:
        return stratified_indices(y, n_train, n_test, rng, op)
    perm = rng.permutation(n)
    return perm[n_test:n_test + n_train], perm[:n_test]


def _class_keys(stratify, n, op):
    """Stratification labels (n,): as given, or one class per distinct row of an (n, k) array."""
    y = as_numpy(stratify)
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"{op}: stratify must hold {n} labels, got shape {y.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1:
        return y
    return np.array([" ".join(row.astype(str)) for row in y.reshape(n, -1)])


def train_val_test_split(*arrays, val_size=0.15, test_size=0.15, random_state=None, shuffle=True,
                         stratify=None):
    """Split arrays of n samples three ways: returns [a_train, a_val, a_test, b_train, ...], each
    of the type it was given.

    ``val_size`` / ``test_size``: fractions of the whole n (⌈f·n⌉ samples) or counts; training
    gets the rest. ``stratify`` (n,) keeps the class proportions in all three parts (each class
    needs 2 members in each of the two draws). Done as two :func:`train_test_split` draws: the
    test part from all n,
    then the validation part from the rest, with the same ``random_state`` (an int gives
    scikit-learn's two splits). Fit scalers and models on the training part only; tune on the
    validation part; report the test part once.
    """
    op = "train_val_test_split"
    n = n_samples(arrays, op)
    n_test = _count(test_size, n, "test_size", op, True)
    n_val = _count(val_size, n, "val_size", op, True)
    if n_val + n_test >= n:
        raise ValueError(f"{op}: val_size ({n_val}) + test_size ({n_test}) leave no training "
                         f"samples out of {n}")
    y = None if stratify is None else _class_keys(stratify, n, op)
    # an int seeds both draws alike (scikit-learn's two calls); a generator runs on through both
    rs = random_state if isinstance(random_state, (int, np.integer)) or not shuffle \
        else random_state_of(random_state)
    rest, test = _split_indices(n, n - n_test, n_test, rs, shuffle, y, op)
    train, val = _split_indices(len(rest), len(rest) - n_val, n_val, rs, shuffle,
                                None if y is None else y[rest], op)
    train, val = rest[train], rest[val]
    return [part for a in arrays for part in (take(a, train), take(a, val), take(a, test))]
