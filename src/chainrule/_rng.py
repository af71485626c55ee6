"""The random stream: PyTorch's CPU generator, reproduced draw for draw, in a leaf module.

torch's CPU generator is a 32-bit Mersenne Twister (mt19937) plus one cached normal sample:

* seeding: the 64-bit seed is kept (``initial_seed``), but the twister is initialised from its
  low 32 bits with the standard ``init_genrand`` recurrence
  ``x₀ = seed mod 2³²,  xᵢ = 1812433253·(xᵢ₋₁ ⊕ (xᵢ₋₁ ≫ 30)) + i  (mod 2³²)``, so seeds
  ``7`` and ``2**40 + 7`` give the same numbers and different ``initial_seed()``;
* ``random()`` is one 32-bit output; ``random64()`` joins two, the first as the high word;
* the scalar Box–Muller path caches its second (sine) sample and returns it on the next scalar
  normal draw; reseeding clears the cache.

NumPy's ``MT19937`` bit generator is the same twister, so :class:`Stream` keeps one whose state
is set from the recurrence above, and draws in bulk with ``random_raw`` (each value a 32-bit
output). The sampling algorithms built on these draws live in :mod:`chainrule._sampling`.

``Stream.get_state`` writes torch's 5056-byte state layout (``torch.Generator.get_state()``), so
states move between the two libraries in both directions.

Tensor methods such as ``x.uniform_()`` draw from :data:`DEFAULT`; :mod:`chainrule.random`
(above the Tensor) wraps the same object as ``chainrule.default_generator``. Like torch's
default generator it is seeded from OS entropy once per process.
"""
from __future__ import annotations

import os
import struct

import numpy as np

DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator() (and of a new chainrule.Generator)
_N = 624                       # mt19937's state words
_U64 = 1 << 64

# torch's CPUGeneratorImplState, x86-64 layout: legacy part (seed, left, seeded, next,
# state[624] as uint64, normal_x, normal_y, normal_rho, normal_is_valid + padding), then the
# float normal cache and its flag (+ padding): 5056 bytes
_HEAD = struct.Struct("<Qii Q")                  # the_initial_seed, left, seeded, next
_TAIL = struct.Struct("<ddd i 4x f ? 3x")        # normal_x, normal_y, normal_rho, valid, float, valid
STATE_BYTES = _HEAD.size + 8 * _N + _TAIL.size
assert STATE_BYTES == 5056


def check_seed(seed, op: str = "manual_seed") -> int:
    """The seed as torch stores it: an int in [0, 2⁶⁴), negative ones (≥ −2⁶³) wrapped."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{op}: expected an integer seed, got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed < _U64:
        raise ValueError(f"{op}: seed must be in [-2**63, 2**64), got {seed}")
    return seed % _U64


def entropy_seed() -> int:
    """A fresh 64-bit seed from the OS (torch's getNonDeterministicRandom)."""
    return int.from_bytes(os.urandom(8), "little")


def _init_genrand(seed32: int) -> np.ndarray:
    """The 624 state words of mt19937 seeded with ``seed32`` (init_genrand)."""
    key = np.empty(_N, np.uint32)
    x = seed32
    key[0] = x
    for i in range(1, _N):   # serial recurrence; 624 steps, once per seeding
        x = (1812433253 * (x ^ (x >> 30)) + i) & 0xFFFFFFFF
        key[i] = x
    return key


class Stream:
    """torch's CPU generator state: an mt19937 twister, the seed, the cached normal samples.

    ``random(n)`` / ``random64(n)`` return the next ``n`` 32-bit / 64-bit draws as uint64 arrays.
    """

    __slots__ = ("bits", "seed", "next_double_normal", "next_float_normal", "_fresh_key", "_numpy")

    def __init__(self, seed: int = DEFAULT_SEED):
        self.bits = np.random.MT19937()
        self._numpy = None
        self.manual_seed(seed)

    # -------------------------------------------------------------------- seeding
    def manual_seed(self, seed) -> None:
        seed = check_seed(seed)
        key = _init_genrand(seed & 0xFFFFFFFF)
        self.bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": _N}}
        self.seed = seed
        self._fresh_key = key    # to write torch's "not yet twisted" marker (next = 0) in get_state
        self.next_double_normal = None
        self.next_float_normal = None

    # -------------------------------------------------------------------- draws
    def random(self, n: int) -> np.ndarray:
        """``n`` 32-bit draws (torch's ``random()``), as uint64."""
        return self.bits.random_raw(int(n))

    def random32(self, n: int) -> np.ndarray:
        """``n`` 32-bit draws, as ``random(n)`` but as uint32: NumPy's full-range uint32
        ``integers`` takes one raw 32-bit draw per element (no rejection at a range of 2³²),
        writing half the bytes of ``random_raw``'s uint64 (2M draws: 5.1 vs 7.7 ms)."""
        return self.numpy.integers(0, 1 << 32, size=int(n), dtype=np.uint32)

    def random64(self, n: int) -> np.ndarray:
        """``n`` 64-bit draws (torch's ``random64()``): two 32-bit draws, the first high."""
        raw = self.bits.random_raw(2 * int(n))
        return (raw[0::2] << np.uint64(32)) | raw[1::2]

    @property
    def numpy(self) -> np.random.Generator:
        """A NumPy ``Generator`` on the same twister (for NumPy-API consumers such as the
        scikit-learn-style splitters); its draws advance this stream, with NumPy's algorithms."""
        if self._numpy is None:
            self._numpy = np.random.Generator(self.bits)
        return self._numpy

    # -------------------------------------------------------------------- state
    def get_state(self) -> bytes:
        """torch's 5056-byte generator state."""
        st = self.bits.state["state"]
        key, pos = st["key"], int(st["pos"])
        # torch counts ``left`` down to the next twist; a freshly seeded twister reads next = 0
        fresh = pos == _N and np.array_equal(key, self._fresh_key)
        left, nxt = (1, 0) if fresh else (_N + 1 - pos, pos)
        dbl, flt = self.next_double_normal, self.next_float_normal
        return b"".join([
            _HEAD.pack(self.seed, left, 1, nxt),
            key.astype("<u8").tobytes(),
            _TAIL.pack(0.0, 0.0 if dbl is None else dbl, 0.0, dbl is not None,
                       0.0 if flt is None else flt, flt is not None)])

    def set_state(self, blob: bytes, op: str = "set_state") -> None:
        if len(blob) != STATE_BYTES:
            raise ValueError(f"{op}: expected a generator state of {STATE_BYTES} bytes (torch's "
                             f"CPU generator layout), got {len(blob)}")
        seed, left, seeded, nxt = _HEAD.unpack_from(blob, 0)
        words = np.frombuffer(blob, "<u8", _N, _HEAD.size)
        _, dbl, _, dbl_ok, flt, flt_ok = _TAIL.unpack_from(blob, _HEAD.size + 8 * _N)
        if not seeded or not 1 <= left <= _N or nxt > _N or (words >> np.uint64(32)).any():
            raise ValueError(f"{op}: invalid mt19937 state (seeded={seeded}, left={left}, "
                             f"next={nxt})")
        key = words.astype(np.uint32)
        pos = _N if left == 1 else int(nxt)   # left == 1: the next draw twists first
        self.bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self.seed = seed
        self._fresh_key = key if (left == 1 and nxt == 0) else None
        self.next_double_normal = float(dbl) if dbl_ok else None
        self.next_float_normal = float(np.float32(flt)) if flt_ok else None

    def clone(self) -> "Stream":
        other = Stream.__new__(Stream)
        other.bits = np.random.MT19937()
        other._numpy = None
        other.bits.state = self.bits.state
        other.seed, other._fresh_key = self.seed, self._fresh_key
        other.next_double_normal, other.next_float_normal = (self.next_double_normal,
                                                             self.next_float_normal)
        return other


DEFAULT = Stream(entropy_seed())   # torch seeds its default generator from OS entropy per process


def stream(generator) -> Stream:
    """The stream to draw from: ``generator``'s (a chainrule.Generator), or the default."""
    if generator is None:
        return DEFAULT
    s = getattr(generator, "_stream", None)
    if not isinstance(s, Stream):
        raise TypeError(f"generator must be a chainrule.Generator, got {type(generator).__name__}")
    return s
