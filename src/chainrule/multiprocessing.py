"""``torch.multiprocessing``: Python's :mod:`multiprocessing`, plus ``spawn``.

Everything :mod:`multiprocessing` has (``Process``, ``Queue``, ``Pool``, ``get_context``,
``set_start_method``, ...) is here under the same name, as in torch, and a tensor sent to
another process — a ``Process`` argument under "spawn" or "forkserver", an item put on a
``Queue`` — travels as a handle to shared memory, not as a copy: it is first moved there
(:meth:`Tensor.share_memory_`, as torch does) and the receiver maps the same segment. A forked
process inherits the shared memory directly. So one model trains in several processes at
once, each updating the same parameters in place — Hogwild, as in pytorch/examples'
``mnist_hogwild``::

    model.share_memory()
    workers = [mp.Process(target=train, args=(rank, model)) for rank in range(4)]
    for p in workers: p.start()
    for p in workers: p.join()
"""
from __future__ import annotations

import multiprocessing as _mp
import sys
import traceback
from multiprocessing import *  # noqa: F401,F403  (torch.multiprocessing re-exports it all)
from multiprocessing.reduction import DupFd, ForkingPickler

import numpy as np

from ._tensor_base import SHARED_FDS, shared_array, shared_root
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = list(_mp.__all__) + [
    "spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
    "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
    "get_all_sharing_strategies"]

_STRATEGIES = {"file_descriptor", "file_system"}
_strategy = "file_descriptor"


def get_all_sharing_strategies() -> set:
    """The sharing strategies torch names; chainrule's tensors share by forked memory under
    either."""
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    return _strategy


def set_sharing_strategy(new_strategy: str) -> None:
    """Record the strategy (torch's two names; forked shared memory works the same)."""
    global _strategy
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy: expected one of {sorted(_STRATEGIES)}, got "
                         f"{new_strategy!r}")
    _strategy = new_strategy


class ProcessRaisedException(Exception):
    """A spawned process raised: the message holds its traceback."""

    def __init__(self, msg: str, error_index: int, error_pid: int):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, error_pid


class ProcessExitedException(Exception):
    """A spawned process exited with a nonzero code without raising (a signal, os._exit)."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name=None):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, error_pid
        self.exit_code, self.signal_name = exit_code, signal_name


def _reduce_tensor(tensor):
    """How a tensor crosses to another process: a duplicate of its shared memory's file
    descriptor and where in that memory it lies (moved to shared memory first, as torch)."""
    tensor.share_memory_()
    data = tensor._data
    root = shared_root(data)
    offset = data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return (_rebuild_shared, (type(tensor), DupFd(SHARED_FDS[id(root)]), root.nbytes,
                              data.dtype.str, data.shape, data.strides, offset,
                              tensor.requires_grad))


def _rebuild_shared(cls, fd, nbytes, dtype, shape, strides, offset, requires_grad):
    root = shared_array(fd.detach(), nbytes, dtype)
    data = np.ndarray(shape, dtype, buffer=root, offset=offset, strides=strides)
    if cls is Parameter:
        return Parameter(Tensor._make(data), requires_grad)
    tensor = Tensor._make(data)
    return tensor.requires_grad_() if requires_grad else tensor


for _cls in (Tensor, Parameter):   # multiprocessing's own pickler only: plain pickle copies
    ForkingPickler.register(_cls, _reduce_tensor)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes of one :func:`start_processes` call; :meth:`join` waits for them."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None) -> bool:
        """Wait for every process (at most ``timeout`` seconds each); True when all ended.
        Raises :class:`ProcessRaisedException` with the traceback of the first that raised,
        :class:`ProcessExitedException` if one exited with a nonzero code, after terminating
        the others (as torch)."""
        for p in self.processes:
            p.join(timeout)
        for i, (p, queue) in enumerate(zip(self.processes, self.error_queues)):
            if p.exitcode not in (None, 0):
                for other in self.processes:
                    if other.is_alive():
                        other.terminate()
                if not queue.empty():
                    raise ProcessRaisedException(
                        f"\n\n-- Process {i} terminated with the following error:\n"
                        f"{queue.get()}", i, p.pid)
                raise ProcessExitedException(f"process {i} terminated with exit code "
                                             f"{p.exitcode}", i, p.pid, p.exitcode)
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(i, *args)`` for i = 0 … nprocs−1, each in a new process started with
    ``start_method``; with ``join`` wait for them all (errors raised as in
    :meth:`ProcessContext.join`), else return the :class:`ProcessContext`."""
    context = _mp.get_context(start_method)
    queues, processes = [], []
    for i in range(nprocs):
        queue = context.SimpleQueue()
        process = context.Process(target=_wrap, args=(fn, i, args, queue), daemon=daemon)
        process.start()
        queues.append(queue)
        processes.append(process)
    processes_context = ProcessContext(processes, queues)
    if not join:
        return processes_context
    while not processes_context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """:func:`start_processes` (torch.multiprocessing.spawn): ``fn(i, *args)`` in ``nprocs``
    processes; ``fn`` must be importable (a module-level function) under "spawn"."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
