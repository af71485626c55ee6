"""Selecting data: train/test and train/validation/test splits (optionally stratified) and
k-fold cross-validation. Splits are reproducible from ``random_state``."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor


def _n_samples(arrays, op):
    if not arrays:
        raise ValueError(f"{op}: at least one array is required")
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"{op}: arrays have inconsistent numbers of samples: {sorted(lengths)}")
    return lengths.pop()


def _take(a, idx):
    if isinstance(a, Tensor):
        return a[idx] if a.ndim else a
    if isinstance(a, list):
        return [a[i] for i in idx]
    return np.asarray(a)[idx]


def _labels(y):
    return y.detach().numpy() if isinstance(y, Tensor) else np.asarray(y)


def _sizes(n, test_size, train_size, op):
    """(n_train, n_test) by scikit-learn's rules: fractions round test up, train down."""
    if test_size is None and train_size is None:
        test_size = 0.25
    def count(v, name, up):
        if v is None:
            return None
        if isinstance(v, float):
            if not 0 < v < 1:
                raise ValueError(f"{op}: {name}={v} should be in (0, 1) as a fraction")
            return math.ceil(v * n) if up else math.floor(v * n)
        if not 0 < v < n:
            raise ValueError(f"{op}: {name}={v} should be between 1 and {n - 1} samples")
        return int(v)
    n_test, n_train = count(test_size, "test_size", True), count(train_size, "train_size", False)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n or n_train <= 0 or n_test <= 0:
        raise ValueError(f"{op}: train_size {n_train} + test_size {n_test} do not fit {n} samples")
    return n_train, n_test


def _stratified_indices(y, n_train, n_test, rng):
    """Allocate each class to train/test in proportion to its frequency (largest remainders)."""
    classes, y_idx = np.unique(y, return_inverse=True)
    counts = np.bincount(y_idx)
    if counts.min() < 2:
        raise ValueError("train_test_split: the least populated class in stratify has only 1 "
                         "member; every class needs at least 2")
    def allocate(total, weights):
        exact = weights / weights.sum() * total
        base = np.floor(exact).astype(int)
        rest = total - base.sum()
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:rest]] += 1
        return base
    test_counts = allocate(n_test, counts.astype(float))
    train_counts = allocate(n_train, (counts - test_counts).astype(float))
    train, test = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y_idx == c))
        test.extend(members[:test_counts[c]])
        train.extend(members[test_counts[c]:test_counts[c] + train_counts[c]])
    return rng.permutation(train), rng.permutation(test)


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True,
                     stratify=None):
    """Split arrays (tensors, NumPy arrays or lists of equal length) into train and test parts:
    returns [a_train, a_test, b_train, b_test, ...], each of the type it was given.

    test_size / train_size: a fraction in (0, 1) or a count (default test 0.25). ``stratify``:
    labels whose class proportions both parts keep. Reproducible from ``random_state``.
    """
    n = _n_samples(arrays, "train_test_split")
    n_train, n_test = _sizes(n, test_size, train_size, "train_test_split")
    rng = np.random.default_rng(random_state)
    if stratify is not None:
        if not shuffle:
            raise ValueError("train_test_split: stratified splitting needs shuffle=True")
        train, test = _stratified_indices(_labels(stratify).reshape(-1), n_train, n_test, rng)
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train, test = order[:n_train], order[n_train:n_train + n_test]
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def train_val_test_split(*arrays, val_size=0.15, test_size=0.15, random_state=None,
                         shuffle=True, stratify=None):
    """Three-way split: returns [a_train, a_val, a_test, b_train, ...]. Sizes are fractions of
    the whole (or counts); ``stratify`` keeps class proportions in all three parts."""
    n = _n_samples(arrays, "train_val_test_split")
    count = lambda v: math.ceil(v * n) if isinstance(v, float) else int(v)
    strat = None if stratify is None else _labels(stratify).reshape(-1)
    rest, test = train_test_split(np.arange(n), test_size=count(test_size),
                                  random_state=random_state, shuffle=shuffle, stratify=strat)
    train, val = train_test_split(rest, test_size=count(val_size), random_state=random_state,
                                  shuffle=shuffle, stratify=None if strat is None else strat[rest])
    return [part for a in arrays for part in (_take(a, train), _take(a, val), _take(a, test))]


class KFold:
    """k-fold cross-validation: ``split(X)`` yields (train_idx, test_idx) k times; each sample is
    in exactly one test fold. The first n % k folds get one extra sample (as scikit-learn)."""

    def __init__(self, n_splits: int = 5, shuffle: bool = False, random_state=None):
        if n_splits < 2:
            raise ValueError(f"KFold: n_splits must be at least 2, got {n_splits}")
        self.n_splits, self.shuffle, self.random_state = n_splits, shuffle, random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X, y=None, groups=None):
        n = len(X)
        if self.n_splits > n:
            raise ValueError(f"KFold: cannot have n_splits={self.n_splits} greater than the number "
                             f"of samples {n}")
        order = np.random.default_rng(self.random_state).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            test = order[start:start + size]
            yield np.sort(np.setdiff1d(order, test)), np.sort(test)
            start += size


class StratifiedKFold(KFold):
    """k folds that each keep the class proportions of ``y``: each class's samples are dealt
    round-robin over the folds."""

    def split(self, X, y, groups=None):
        labels = _labels(y).reshape(-1)
        n = len(labels)
        _, y_idx = np.unique(labels, return_inverse=True)
        counts = np.bincount(y_idx)
        if self.n_splits > counts.max():
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} is greater than the number "
                             f"of members in each class")
        rng = np.random.default_rng(self.random_state)
        fold_of = np.empty(n, np.int64)
        offset = 0
        for c in range(len(counts)):
            members = np.flatnonzero(y_idx == c)
            if self.shuffle:
                members = rng.permutation(members)
            fold_of[members] = (np.arange(len(members)) + offset) % self.n_splits
            offset += len(members)   # continue the deal so small classes spread over folds
        for k in range(self.n_splits):
            test = np.flatnonzero(fold_of == k)
            yield np.flatnonzero(fold_of != k), test
