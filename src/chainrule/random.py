"""Random number generation: one seeded default generator, so runs are reproducible.

``chainrule.manual_seed(0)`` reseeds it; functions that draw random numbers (``rand``,
``randn``, ``randint``, ``randperm``, ``normal``, dropout, initialisers, DataLoader shuffling)
take an optional ``generator=`` and otherwise use the default one. The stream is NumPy's PCG64,
so values differ from torch's for the same seed; reproducibility is within chainrule.
"""
from __future__ import annotations

import json

import numpy as np

from ._rng import DEFAULT as _DEFAULT_STREAM, DEFAULT_SEED, stream as _rng  # noqa: F401
from .tensor import Tensor


class Generator:
    """A random number generator (``torch.Generator``) backed by NumPy's PCG64."""

    def __init__(self, device="cpu"):
        self._initial_seed = DEFAULT_SEED
        self.rng = np.random.Generator(np.random.PCG64(self._initial_seed))

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
        self._initial_seed = seed
        # in place: the default generator's stream is shared with tensor methods (see _rng)
        self.rng.bit_generator.state = np.random.PCG64(seed).state
        return self

    def seed(self) -> int:
        """Reseed from OS entropy and return the new seed."""
        seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self):
        """The generator state as a uint8 tensor (serialisable in checkpoints)."""
        blob = json.dumps(self.rng.bit_generator.state).encode()
        return Tensor._make(np.frombuffer(blob, dtype=np.uint8).copy())

    def set_state(self, state) -> "Generator":
        blob = np.asarray(state, dtype=np.uint8).tobytes()
        try:
            self.rng.bit_generator.state = json.loads(blob.decode())
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"Generator.set_state: not a state from get_state(): {e}") from None
        return self


default_generator = Generator()
default_generator.rng = _DEFAULT_STREAM   # the stream tensor methods (x.uniform_()) draw from


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)

