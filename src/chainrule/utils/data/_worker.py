"""DataLoader workers, emulated in the calling process.

torch loads with ``num_workers=N`` in N processes. Each worker w seeds its own random states
— ``torch.manual_seed(base_seed + w)``, ``random.seed(base_seed + w)`` and NumPy's global
state from a hash of (base_seed, w) —, calls ``worker_init_fn(w)``, sees
``get_worker_info()``, and works on its own copy of the dataset; the main process's random
states are never touched by what the dataset draws. chainrule keeps one set of those states
per virtual worker and swaps it in around each batch that worker would have produced, so
random augmentations, ``worker_init_fn`` seeding recipes and sharded ``IterableDataset``s
give torch's batches and leave the main generator where torch leaves it."""
from __future__ import annotations

import contextlib
import copy
import random
from dataclasses import dataclass

import numpy as np

from ..._rng import DEFAULT, Stream

__all__ = ["WorkerInfo", "get_worker_info"]


@dataclass(frozen=True)
class WorkerInfo:
    """Information about the current DataLoader worker.

    Attributes:
        id: the worker id (0 to num_workers − 1).
        num_workers: the number of workers.
        seed: the random seed of this worker (base_seed + id).
        dataset: this worker's copy of the dataset.
    """
    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The :class:`WorkerInfo` of the DataLoader worker running the calling code, or ``None``
    in the main process — e.g. to shard an ``IterableDataset``'s stream by ``id``."""
    return _worker_info


def _generate_state(base_seed, worker_id):
    """The 4 × 32-bit seed torch gives NumPy's global state in worker ``worker_id`` (a mixing
    hash of the worker id and the 64-bit base seed, torch.utils.data._utils.worker)."""
    INIT_A, MULT_A, INIT_B, MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R, XSHIFT, MASK32 = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    hash_const_a = INIT_A

    def hash_(value):
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & MASK32
        hash_const_a = (hash_const_a * MULT_A) & MASK32
        value = (value * hash_const_a) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32)
        result &= MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    pool = [hash_(e) for e in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    hash_const_b = INIT_B
    state = []
    for value in pool:
        value = (value ^ hash_const_b) & MASK32
        hash_const_b = (hash_const_b * MULT_B) & MASK32
        value = (value * hash_const_b) & MASK32
        state.append((value ^ (value >> XSHIFT)) & MASK32)
    return state


def _swap_streams(a, b):
    for slot in Stream.__slots__:
        va, vb = getattr(a, slot), getattr(b, slot)
        setattr(a, slot, vb)
        setattr(b, slot, va)


def _dataset_copy(dataset):
    """The worker's own copy of the dataset (torch's workers get one by fork or pickle); the
    dataset itself where it cannot be copied."""
    try:
        return copy.deepcopy(dataset)
    except Exception:    # open files, generators, locks: share the object, as threads would
        return dataset


class VirtualWorker:
    """One emulated worker: its random states, its dataset, its ``worker_init_fn`` call."""

    def __init__(self, worker_id, num_workers, base_seed, dataset, init_fn, copy_dataset):
        seed = base_seed + worker_id
        self.info = WorkerInfo(worker_id, num_workers, seed,
                               _dataset_copy(dataset) if copy_dataset else dataset)
        self.stream = Stream(seed)
        self.py_state = random.Random(seed).getstate()
        self.np_state = np.random.RandomState(_generate_state(base_seed, worker_id)).get_state()
        self.init_fn = init_fn
        self.started = False
        self.iterator = None     # an IterableDataset worker's stream for the current epoch

    @contextlib.contextmanager
    def active(self):
        """Run the block as this worker: its random states and worker info are current, the
        main process's are restored afterwards (also when the block raises)."""
        global _worker_info
        main_py, main_np, main_info = random.getstate(), np.random.get_state(), _worker_info
        _swap_streams(DEFAULT, self.stream)
        random.setstate(self.py_state)
        np.random.set_state(self.np_state)
        _worker_info = self.info
        try:
            if not self.started:
                self.started = True
                if self.init_fn is not None:
                    self.init_fn(self.info.id)
            yield self
        finally:
            self.py_state, self.np_state = random.getstate(), np.random.get_state()
            _swap_streams(DEFAULT, self.stream)
            random.setstate(main_py)
            np.random.set_state(main_np)
            _worker_info = main_info
