"""k-fold cross-validation: KFold and StratifiedKFold, index for index scikit-learn's folds
(with shuffling, for an integer ``random_state``)."""
from __future__ import annotations

import warnings

import numpy as np

from ._inputs import as_numpy, n_samples, random_state_of


class KFold:
    """k-fold cross-validation: the n samples are cut into k consecutive folds (shuffled first
    when ``shuffle=True``); ``split(X)`` yields k pairs (train_idx, test_idx) — each fold is the
    test part once while the other k − 1 train. Fold sizes are ⌊n/k⌋ + 1 for the first n mod k
    folds and ⌊n/k⌋ for the rest; index arrays are sorted.

    ``random_state`` (only with ``shuffle=True``): an int (scikit-learn's folds for that int, the
    same on every ``split``), a NumPy ``RandomState``/``Generator`` or ``chainrule.Generator``
    (new folds on each ``split``), or None (chainrule's default generator).
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, random_state=None):
        name = type(self).__name__
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
            raise ValueError(f"{name}: n_splits must be an integer of at least 2, got {n_splits!r}")
        if not shuffle and random_state is not None:
            raise ValueError(f"{name}: random_state has no effect without shuffle=True; leave it "
                             "None or set shuffle=True")
        self.n_splits, self.shuffle, self.random_state = int(n_splits), bool(shuffle), random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of folds k."""
        return self.n_splits

    def __repr__(self):
        return (f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
                f"random_state={self.random_state!r})")

    def _check_n(self, n):
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: cannot have n_splits={self.n_splits} greater "
                             f"than the number of samples n={n}")

    def _test_folds(self, X, y):
        """The fold (0..k−1) of each sample."""
        n = n_samples([X], type(self).__name__)
        self._check_n(n)
        order = np.arange(n)
        if self.shuffle:
            random_state_of(self.random_state).shuffle(order)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        folds = np.empty(n, np.int64)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds

    def split(self, X, y=None, groups=None):
        """Yield (train_idx, test_idx) for each of the k folds. X: anything with n rows."""
        folds = self._test_folds(X, y)
        index = np.arange(len(folds))
        for k in range(self.n_splits):
            yield index[folds != k], index[folds == k]


class StratifiedKFold(KFold):
    """k folds that each keep the class proportions of ``y`` (n,): the samples, sorted by class,
    are dealt round-robin to count how many of each class each fold gets; each class's samples
    then fill its folds in order (in random order with ``shuffle=True``). Classes are taken in
    the order they first appear in y (scikit-learn's rule)."""

    def _test_folds(self, X, y):
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name}: split needs the labels y")
        labels = as_numpy(y)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise ValueError(f"{name}: y must be 1-d class labels, got shape {labels.shape}")
        n = n_samples([X, labels], name)
        self._check_n(n)
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        _, by_appearance = np.unique(first, return_inverse=True)
        encoded = by_appearance[inverse.reshape(-1)]
        counts = np.bincount(encoded)
        if np.all(self.n_splits > counts):
            raise ValueError(f"{name}: n_splits={self.n_splits} is greater than the number of "
                             f"members of every class ({counts.tolist()})")
        if self.n_splits > counts.min():
            warnings.warn(f"{name}: the least populated class in y has only {counts.min()} "
                          f"members, fewer than n_splits={self.n_splits}", UserWarning,
                          stacklevel=3)
        ordered = np.sort(encoded)
        allocation = np.array([np.bincount(ordered[i::self.n_splits], minlength=len(counts))
                               for i in range(self.n_splits)])
        rng = random_state_of(self.random_state) if self.shuffle else None
        folds = np.empty(n, np.int64)
        for c in range(len(counts)):
            fold_of_member = np.repeat(np.arange(self.n_splits), allocation[:, c])
            if rng is not None:
                rng.shuffle(fold_of_member)
            folds[encoded == c] = fold_of_member
        return folds

    def split(self, X, y, groups=None):
        """Yield (train_idx, test_idx) for each of the k folds; y (n,) class labels."""
        return super().split(X, y, groups)
