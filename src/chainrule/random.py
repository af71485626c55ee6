"""Random number generation with torch's numbers: same seed, same draws, same values.

``chainrule.manual_seed(0)`` seeds the default generator; functions that draw random numbers
(``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``,
``Tensor.uniform_`` and friends, dropout, ``nn.init``, DataLoader shuffling, ``random_split``)
take an optional ``generator=`` and otherwise use the default one.

The generator *is* torch's CPU generator, reproduced: an mt19937 twister seeded like torch's,
the same cached Box–Muller sample, and torch's sampling algorithms on top
(:mod:`chainrule._rng`, :mod:`chainrule._sampling`). After the same ``manual_seed``, chainrule
and torch (2.13, CPU) produce bit-identical tensors and leave their generators in the same state;
``get_state()`` is torch's 5056-byte layout, so states move between the libraries.
What is reproduced and what is not is listed in ``docs/random.md``.

Without ``manual_seed`` the default generator starts from a fresh seed drawn from OS entropy in
every process (as torch's); ``initial_seed()`` reports it.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ._rng import DEFAULT as _DEFAULT_STREAM, DEFAULT_SEED, Stream, entropy_seed, stream as _rng  # noqa: F401
from .tensor import Tensor


class Generator:
    """A random number generator (``torch.Generator``): torch's CPU mt19937 generator.

    ``Generator().manual_seed(s)`` draws exactly what ``torch.Generator().manual_seed(s)``
    draws. A new generator starts from torch's default seed, 67280421310721.
    """

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise RuntimeError(f"Generator: chainrule runs on the CPU only, got device={device!r}")
        self._stream = Stream(DEFAULT_SEED)

    @property
    def device(self):
        return "cpu"

    @property
    def rng(self) -> np.random.Generator:
        """A NumPy ``Generator`` over the same mt19937 twister, for NumPy-API consumers (e.g.
        the scikit-learn-style splitters in :mod:`chainrule.data`); it uses NumPy's algorithms,
        not torch's, but advances this generator's stream."""
        return self._stream.numpy

    def manual_seed(self, seed) -> "Generator":
        """Seed the generator (an int in [−2⁶³, 2⁶⁴); negative seeds wrap, as torch)."""
        self._stream.manual_seed(seed)
        return self

    def seed(self) -> int:
        """Reseed from OS entropy and return the new seed."""
        seed = entropy_seed()
        self._stream.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._stream.seed

    def get_state(self) -> Tensor:
        """The generator state as a uint8 tensor of 5056 bytes (torch's layout)."""
        return Tensor._make(np.frombuffer(self._stream.get_state(), np.uint8).copy())

    def set_state(self, state) -> "Generator":
        """Restore a state from :meth:`get_state` (or from ``torch.Generator.get_state()``)."""
        data = state._data if isinstance(state, Tensor) else np.asarray(state)
        if data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError(f"Generator.set_state: expected a 1-d uint8 tensor, got dtype "
                            f"{data.dtype} and shape {data.shape}")
        self._stream.set_state(data.tobytes(), "Generator.set_state")
        return self

    def clone_state(self) -> "Generator":
        """A new generator in the same state (torch's ``Generator.clone_state``)."""
        other = Generator()
        other._stream = self._stream.clone()
        return other

    def __repr__(self):
        return f"<chainrule.Generator, initial_seed={self.initial_seed()}>"


default_generator = Generator()
default_generator._stream = _DEFAULT_STREAM   # the stream tensor methods (x.uniform_()) draw from


def manual_seed(seed) -> Generator:
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from OS entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed (drawn from OS entropy at start unless set)."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Run the block with the default generator's state saved and restored afterwards
    (``torch.random.fork_rng``): draws inside do not move the stream outside. chainrule has
    only the CPU generator, so ``devices`` and ``device_type`` select nothing more.
    ``enabled=False`` runs the block without forking."""
    if not enabled:
        yield
        return
    state = default_generator._stream.clone()
    try:
        yield
    finally:
        stream = default_generator._stream
        for slot in type(stream).__slots__:
            setattr(stream, slot, getattr(state, slot))
