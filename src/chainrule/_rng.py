"""The default random stream, in a leaf module.

Tensor methods such as ``x.uniform_()`` draw from it, and :mod:`chainrule.random` (which sits
above the Tensor: its ``get_state`` returns one) wraps the same stream as
``chainrule.default_generator``; reseeding resets the stream in place, so both always agree.
"""
from __future__ import annotations

import numpy as np

DEFAULT_SEED = 67280421310721  # torch's default seed
DEFAULT = np.random.Generator(np.random.PCG64(DEFAULT_SEED))


def stream(generator) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s (a chainrule.Generator), or the default."""
    if generator is None:
        return DEFAULT
    rng = getattr(generator, "rng", None)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"generator must be a chainrule.Generator, got {type(generator).__name__}")
    return rng
