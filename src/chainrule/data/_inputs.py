"""What the data-selection functions accept: tensors, NumPy arrays and lists of samples, and
the several kinds of ``random_state``."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ..random import Generator, default_generator


def as_numpy(x) -> np.ndarray:
    """The NumPy array behind a tensor, an array or a list."""
    if isinstance(x, Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def n_samples(arrays, op) -> int:
    """The common length n of ``arrays`` (their first axis)."""
    if not arrays:
        raise ValueError(f"{op}: at least one array is required")
    lengths = []
    for a in arrays:
        if (a.ndim if isinstance(a, Tensor) else np.ndim(a)) == 0:
            raise ValueError(f"{op}: expected arrays of samples (at least 1-d), got a scalar")
        lengths.append(len(a))
    if len(set(lengths)) != 1:
        raise ValueError(f"{op}: arrays have inconsistent numbers of samples: {lengths}")
    return lengths[0]


def take(a, idx):
    """The rows ``idx`` of ``a``, of ``a``'s own type (tensor, array, list or tuple)."""
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(a, Tensor):
        return a[idx]
    if isinstance(a, (list, tuple)):
        return type(a)(a[i] for i in idx.tolist())
    return np.asarray(a)[idx]


def random_state_of(random_state):
    """A NumPy random generator with ``permutation``/``choice``/``shuffle``: an int seeds a
    ``RandomState`` (scikit-learn's stream); a ``RandomState`` or ``Generator`` is used as is; a
    ``chainrule.Generator`` gives its stream; None gives chainrule's default generator."""
    if random_state is None:
        return default_generator.rng
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"random_state must be an int, a generator or None, got {random_state!r}")
    if isinstance(random_state, (int, np.integer)):
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        return random_state
    if isinstance(random_state, Generator):
        return random_state.rng
    raise TypeError(f"random_state must be an int, a NumPy RandomState/Generator, a "
                    f"chainrule.Generator or None, got {type(random_state).__name__}")
