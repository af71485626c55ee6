"""The process group and its collectives (``torch.distributed.distributed_c10d``), over MPI.

One process per rank, started by an MPI launcher (``python -m chainrule.distributed.run -n 2
train.py`` or ``mpiexec -n 2 python train.py``); rank and world size come from it. Every
collective is an MPI non-blocking call (``Iallreduce``, ``Ibcast``, ...) driven to completion
by :func:`chainrule.distributed._work.wait_requests`, so

- ``async_op=True`` returns a :class:`Work` at once and the collective overlaps with Python;
- every wait has a deadline, the process group's ``timeout``: a rank whose peer died or never
  arrived raises a one-line :class:`DistBackendError` (a RuntimeError) naming the collective and
  the rank(s) that did not respond, instead of hanging. The ranks exchange their process ids at
  ``init_process_group``, so a peer on the same host that is gone is named at once (checked
  every 0.2 s), without waiting for the timeout.

When a rank dies, Open MPI's launcher ends the whole job: it sends SIGTERM to the other ranks.
``init_process_group`` installs a SIGTERM handler that turns that into a one-line message
naming the lost rank(s) on stderr and exit status 1 (``destroy_process_group`` restores the
previous handler).

Tensors are chainrule Tensors; collectives write their results into them in place, as torch's
do, whatever their strides (a non-contiguous tensor is packed, sent, and written back).
"""
from __future__ import annotations

import atexit
import enum
import os
import signal
import socket
import subprocess
import sys
import zlib
from datetime import timedelta

import numpy as np

from .._tensor_base import TensorBase
from . import _mpi
from ._objects import decode as _decode, encode as _encode
from ._work import DistBackendError, Work, _seconds, pid_alive, wait_requests

__all__ = ["init_process_group", "destroy_process_group", "is_available", "is_initialized",
           "is_mpi_available", "get_rank", "get_world_size", "get_backend", "barrier",
           "ReduceOp", "Backend", "ProcessGroup", "group", "GroupMember", "Work",
           "DistBackendError", "all_reduce", "broadcast", "reduce", "all_gather",
           "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather",
           "scatter", "send", "recv", "isend", "irecv", "all_gather_object",
           "broadcast_object_list", "default_pg_timeout", "new_group",
           "get_process_group_ranks", "get_global_rank", "get_group_rank"]

default_pg_timeout = timedelta(minutes=30)     # torch's default for the CPU backends


class Backend(str):
    """Backend names (``torch.distributed.Backend``); chainrule has one, ``"mpi"``."""
    MPI = "mpi"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise TypeError(f"Backend name must be a string, but got: {name!r}")
        value = name.lower()
        if value != cls.MPI:
            raise ValueError(f"init_process_group: chainrule's only backend is 'mpi' (it runs "
                             f"over mpi4py and Open MPI), got backend {name!r}")
        return str.__new__(cls, value)


class ReduceOp(enum.Enum):
    """How ``all_reduce`` / ``reduce`` / ``reduce_scatter`` combine the ranks' tensors
    elementwise: ``SUM`` Σᵣ xᵣ, ``AVG`` (1/R)·Σᵣ xᵣ, ``PRODUCT`` Πᵣ xᵣ, ``MIN``, ``MAX``, and the
    bitwise ``BAND`` / ``BOR`` / ``BXOR`` (integer tensors). ``AVG`` of integer tensors divides
    with truncation toward zero."""
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7

    def __repr__(self):
        return f"<ReduceOp.{self.name}: {self.value}>"


_MPI_OP = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD",
           ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND",
           ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}
# dtypes MPI reduces natively (through mpi4py's buffer typing)
_REDUCIBLE = {np.dtype(t) for t in ("float32", "float64", "int8", "int16", "int32", "int64",
                                    "uint8")}


class ProcessGroup:
    """A group of ranks and its MPI communicator (``torch.distributed.ProcessGroup``): the
    default group (all ranks, ``group.WORLD``) or one made by :func:`new_group`."""

    def __init__(self, MPI, comm, timeout: float, pids, hosts, ranks=None):
        self._MPI = MPI
        self._comm = comm
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()
        self.timeout = timeout
        self._pids = pids          # group rank → process id
        self._hosts = hosts        # group rank → a hash of the host name
        self._ranks = list(range(self._size)) if ranks is None else list(ranks)  # → global rank
        self._broken = False       # a wait failed: MPI's state is unknown, so never Finalize

    def rank(self) -> int:
        """This process's rank in the group."""
        return self._rank

    def size(self) -> int:
        """The number of ranks in the group."""
        return self._size

    def name(self) -> str:
        return "mpi"

    def _me(self) -> str:
        if self._ranks == list(range(self._size)):
            return f"rank {self._rank} of {self._size}"
        return f"rank {self._ranks[self._rank]} (rank {self._rank} of the group {self._ranks})"

    def _lost_peers(self):
        """Ranks on this host whose process no longer exists."""
        me = self._hosts[self._rank]
        return [r for r in range(self._size) if r != self._rank and self._hosts[r] == me
                and not pid_alive(self._pids[r])]

    def _describe_lost(self, lost) -> str:
        pids = ", ".join(str(self._pids[r]) for r in lost)
        ranks = ", ".join(str(self._ranks[r]) for r in lost)
        if len(lost) == 1:
            return f"rank {ranks} (pid {pids}) is gone (its process exited or was killed)"
        return f"ranks {ranks} (pids {pids}) are gone (their processes exited or were killed)"

    def _describe_silent(self) -> str:
        others = [self._ranks[r] for r in range(self._size) if r != self._rank]
        remote = [self._ranks[r] for r in range(self._size)
                  if self._hosts[r] != self._hosts[self._rank]]
        text = (f"every peer process is alive, so rank(s) {', '.join(map(str, others))} did not "
                f"all reach this collective (stuck, or calling a different one)")
        if remote:
            text += f"; ranks {', '.join(map(str, remote))} are on other hosts and not checked"
        return text

    def __repr__(self):
        return f"ProcessGroup(backend='mpi', ranks={self._ranks}, rank={self._rank})"


class GroupMember:
    """``group.WORLD``: the default process group once initialised (None before)."""
    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


group = GroupMember

_STATE = {"pg": None, "groups": [], "sigterm": None, "atexit": False}


def is_available() -> bool:
    """Whether ``chainrule.distributed`` can run: mpi4py (and so Open MPI) is installed."""
    return _mpi.available()


def is_mpi_available() -> bool:
    """Same as :func:`is_available`: MPI is chainrule's backend."""
    return _mpi.available()


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run (and no :func:`destroy_process_group` since)."""
    return _STATE["pg"] is not None


def _default_pg(what: str | None = None) -> ProcessGroup:
    pg = _STATE["pg"]
    if pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return pg


def _group(g, what: str) -> ProcessGroup | None:
    """The group a call names; None on a rank outside it (the call then does nothing)."""
    pg = _default_pg(what)
    if g is None or g is pg:
        return pg
    if isinstance(g, int) and not isinstance(g, bool) and g == GroupMember.NON_GROUP_MEMBER:
        return None
    if isinstance(g, ProcessGroup) and any(g is h for h in _STATE["groups"]):
        return g
    raise ValueError(f"{what}: group must be None, group.WORLD or a live group from new_group, "
                     f"got {g!r}")


# ------------------------------------------------------------------------------ init
_WATCHDOG = r"""
import os, select, signal, sys
ready, _, _ = select.select([sys.stdin], [], [], float(sys.argv[1]))
if not ready:
    sys.stderr.write(sys.argv[2] + "\n"); sys.stderr.flush()
    import time; time.sleep(0.3)    # let the launcher forward the line before the job ends
    os.kill(int(sys.argv[3]), signal.SIGKILL)
"""


def _init_mpi_watched(MPI, timeout: float, rank_hint: str):
    """``MPI_Init`` waits (inside C, unreachable from Python) until every rank has called it.
    A watchdog process ends this one with a one-line message if that takes over ``timeout``."""
    msg = (f"RuntimeError: chainrule.distributed.init_process_group: timed out after "
           f"{timeout:g} s on rank {rank_hint} waiting for all ranks to start MPI (a rank "
           f"exited or never called init_process_group)")
    dog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(timeout), msg, str(os.getpid())],
                           stdin=subprocess.PIPE, env={"PATH": os.environ.get("PATH", "")})
    try:
        MPI.Init_thread(MPI.THREAD_MULTIPLE)
    finally:
        dog.stdin.write(b"x")
        dog.stdin.close()
        dog.wait()


def _env_int(name):
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"init_process_group: environment variable {name} must be an integer, "
                         f"got {value!r}") from None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job's default process group (``torch.distributed.init_process_group``).

    Every rank calls it once, before any collective. Rank and world size come from the MPI
    launcher (``python -m chainrule.distributed.run -n N script.py`` or ``mpiexec -n N``).
    torch's ``env://`` variables ``RANK`` and ``WORLD_SIZE``, and the ``rank`` / ``world_size``
    arguments, are honoured as checks: when given they must equal MPI's.

    Args:
        backend (str, optional): ``"mpi"`` (the default and only backend).
        init_method (str, optional): None or ``"env://"``; MPI's launcher is the rendezvous.
        timeout (timedelta, optional): how long any collective (and this rendezvous) may wait
            for the other ranks before raising; default 30 minutes (torch's).
        world_size (int): -1, or the number of ranks expected.
        rank (int): -1, or the rank this process expects to have.
        store, group_name, pg_options, device_id: accepted for torch's signature; a store is
            refused (MPI does the rendezvous).

    Raises:
        ValueError: called twice; another backend or init_method; RANK / WORLD_SIZE / rank /
            world_size that disagree with MPI's.
        ImportError: mpi4py is missing (``pip install chainrule[distributed]``).
        DistBackendError: a rank did not arrive within ``timeout``.

    Example::

        >>> import chainrule.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> dist.get_rank(), dist.get_world_size()
        (0, 2)
    """
    if _STATE["pg"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    Backend("mpi" if backend is None else backend)
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: the MPI launcher does the rendezvous, so "
                         f"init_method must be None or 'env://', got {init_method!r}")
    if store is not None:
        raise ValueError("init_process_group: a store is not used with the MPI backend; pass "
                         "store=None")
    seconds = _seconds(default_pg_timeout if timeout is None else timeout)
    if seconds <= 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    MPI = _mpi.MPI()
    if not MPI.Is_initialized():
        hint = os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMIX_RANK", "?"))
        _init_mpi_watched(MPI, seconds, hint)
    if not _STATE["atexit"]:
        atexit.register(_finalize_at_exit)
        _chain_excepthook()
        _STATE["atexit"] = True
    mpi_rank, mpi_size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    for what, given, actual in (("environment variable RANK", _env_int("RANK"), mpi_rank),
                                ("environment variable WORLD_SIZE", _env_int("WORLD_SIZE"),
                                 mpi_size),
                                ("rank", None if rank == -1 else rank, mpi_rank),
                                ("world_size", None if world_size == -1 else world_size,
                                 mpi_size)):
        if given is not None and given != actual:
            raise ValueError(f"init_process_group: {what} is {given}, but the MPI launcher gave "
                             f"this process rank {mpi_rank} of world size {mpi_size}; unset it "
                             f"or launch with matching values")
    pg = _rendezvous(MPI, seconds)
    _STATE["pg"] = pg
    GroupMember.WORLD = pg
    _install_sigterm(pg)


def _rendezvous(MPI, seconds: float) -> ProcessGroup:
    """A private communicator, and every rank's (pid, host) — sent point to point, so that when
    someone does not arrive, the ranks that did not answer are known by name."""
    world = MPI.COMM_WORLD
    me, size = world.Get_rank(), world.Get_size()
    host = zlib.crc32(socket.gethostname().encode()) & 0x7FFFFFFF
    mine = np.array([os.getpid(), host], np.int64)
    table = np.zeros((size, 2), np.int64)
    table[me] = mine
    tag = 31_337
    recvs = {r: world.Irecv(table[r], source=r, tag=tag) for r in range(size) if r != me}
    sends = [world.Isend(mine, dest=r, tag=tag) for r in range(size) if r != me]
    probe = ProcessGroup(MPI, world, seconds, [0] * size, [-1] * size)
    probe._hosts[me] = host
    try:
        wait_requests(MPI, list(recvs.values()) + sends, probe, "init_process_group", seconds)
    except DistBackendError:
        silent = [r for r, q in recvs.items() if not q.Test()]
        _STATE["broken_init"] = True
        raise DistBackendError(
            f"init_process_group: timed out after {seconds:g} s on rank {me} of {size}: rank(s) "
            f"{', '.join(map(str, silent))} did not join") from None
    comm, req = world.Idup()
    wait_requests(MPI, [req], probe, "init_process_group", seconds)
    return ProcessGroup(MPI, comm, seconds, table[:, 0].tolist(), table[:, 1].tolist())


def _install_sigterm(pg: ProcessGroup):
    """Open MPI's launcher ends the job with SIGTERM when a rank dies; say which, in one line."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return

    def on_sigterm(signum, frame):
        lost = pg._lost_peers()
        why = pg._describe_lost(lost) if lost else "no peer process on this host has exited"
        sys.stderr.write(f"RuntimeError: chainrule.distributed: {pg._me()} "
                         f"stopped by the MPI launcher (SIGTERM): {why}\n")
        sys.stderr.flush()
        os._exit(1)

    _STATE["sigterm"] = (signal.getsignal(signal.SIGTERM),)
    signal.signal(signal.SIGTERM, on_sigterm)


def _chain_excepthook():
    """Remember an uncaught exception, so that the exit skips ``MPI_Finalize`` (see below)."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        _STATE["failed"] = True
        previous(kind, value, tb)
    sys.excepthook = hook


def _finalize_at_exit():
    """``MPI_Finalize`` waits for every rank. After an uncaught exception or a failed collective
    (a peer gone) the others may never get there, so then the process ends at once with status
    1 and without it: Open MPI's launcher sees a rank fail and stops the job, and the other
    ranks say so in one line (their SIGTERM handler) instead of waiting for their timeout."""
    try:
        from mpi4py import MPI
    except ImportError:
        return
    pg = _STATE["pg"]
    if (pg is not None and pg._broken) or any(_STATE.get(k) for k in ("broken", "broken_init",
                                                                       "failed")):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    if MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.Finalize()


def destroy_process_group(group=None):
    """Leave a process group (``torch.distributed.destroy_process_group``): with ``group=None``
    the default group and every group from :func:`new_group`; it frees their communicators and
    restores the SIGTERM handler. MPI itself stays up until the process exits, so
    :func:`init_process_group` may be called again."""
    pg = _group(group, "destroy_process_group")
    if pg is None:
        return
    if group is not None and pg is not _STATE["pg"]:
        _STATE["groups"] = [g for g in _STATE["groups"] if g is not pg]
        if not pg._broken:
            pg._comm.Free()
        return
    for g in _STATE["groups"] + [pg]:
        if g._broken:
            _STATE["broken"] = True
        else:
            g._comm.Free()
    _STATE["pg"] = None
    _STATE["groups"] = []
    GroupMember.WORLD = None
    if _STATE["sigterm"] is not None:
        signal.signal(signal.SIGTERM, _STATE["sigterm"][0])
        _STATE["sigterm"] = None


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None,
              sort_ranks=True):
    """A process group of some of the ranks (``torch.distributed.new_group``); every rank must
    call it, with the same ``ranks``.

    Args:
        ranks (list of int, optional): the global ranks of the group (default: all), in group
            rank order once sorted (``sort_ranks=True``).
        timeout (timedelta, optional): its collectives' timeout (default: the default group's).

    Returns:
        the group (pass it as ``group=`` to collectives; ``src`` / ``dst`` stay global ranks,
        ``group_src`` / ``group_dst`` are ranks within it), or ``GroupMember.NON_GROUP_MEMBER``
        on the ranks outside it, where collectives on it do nothing and return None and
        ``get_rank`` / ``get_world_size`` return -1.

    Example::

        >>> evens = dist.new_group([0, 2])           # on every rank
        >>> if dist.get_rank() in (0, 2):
        ...     dist.all_reduce(t, group=evens)
    """
    world = _default_pg("new_group")
    Backend("mpi" if backend is None else backend)
    ranks = list(range(world._size)) if ranks is None else [int(r) for r in ranks]
    if any(not 0 <= r < world._size for r in ranks) or len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct ranks in [0, {world._size - 1}], got "
                         f"{ranks}")
    if sort_ranks:
        ranks = sorted(ranks)
    seconds = world.timeout if timeout is None else _seconds(timeout)
    # MPI's communicator split blocks without a deadline: meet at a barrier first, which has one
    Work(world, [world._comm.Ibarrier()], "new_group").wait()
    me = world._rank
    member = me in ranks
    color = 0 if member else world._MPI.UNDEFINED
    comm = world._comm.Split(color, ranks.index(me) if member else 0)
    if not member:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(world._MPI, comm, seconds, [world._pids[r] for r in ranks],
                      [world._hosts[r] for r in ranks], ranks)
    _STATE["groups"].append(pg)
    return pg


def get_process_group_ranks(group) -> list:
    """The global ranks of ``group``, in group rank order."""
    pg = _group(group, "get_process_group_ranks")
    if pg is None:
        raise ValueError("get_process_group_ranks: this rank is not in the group")
    return list(pg._ranks)


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of ``group``'s rank ``group_rank``."""
    return get_process_group_ranks(group)[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    """``group``'s rank of the global rank ``global_rank``."""
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"get_group_rank: global rank {global_rank} is not part of the group "
                         f"{ranks}")
    return ranks.index(global_rank)


def get_rank(group=None) -> int:
    """This process's rank in ``0 .. world_size − 1``."""
    pg = _group(group, "get_rank")
    return -1 if pg is None else pg._rank


def get_world_size(group=None) -> int:
    """The number of processes in the job."""
    pg = _group(group, "get_world_size")
    return -1 if pg is None else pg._size


def get_backend(group=None) -> str:
    """The backend's name: ``"mpi"``."""
    _group(group, "get_backend")
    return Backend.MPI


# ------------------------------------------------------------------------------ helpers
def _tensor(t, what: str, name: str = "tensor") -> np.ndarray:
    if not isinstance(t, TensorBase):
        raise TypeError(f"{what}: {name} must be a chainrule Tensor, got {type(t).__name__}")
    return t._data


def _reducible(a: np.ndarray, op, what: str):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{what}: op must be a ReduceOp (e.g. ReduceOp.SUM), got {op!r}")
    if a.dtype not in _REDUCIBLE:
        raise TypeError(f"{what}: reducing tensors of dtype {a.dtype} is not supported; use "
                        f"float32, float64 or an integer dtype")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and a.dtype.kind == "f":
        raise TypeError(f"{what}: {op.name} needs an integer tensor, got dtype {a.dtype}")


def _as_bytes(a: np.ndarray) -> np.ndarray:
    """A contiguous array MPI can move whatever the dtype (bool, float16, ...), as raw bytes."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _writable_contiguous(a: np.ndarray) -> bool:
    return a.flags.c_contiguous and a.flags.writeable


def _store(t, values: np.ndarray):
    """Write ``values`` into tensor ``t`` in place (through any view) and bump its version."""
    t._data[...] = values.reshape(t._data.shape)
    t._version_box[0] += 1


def _average(buf: np.ndarray, n: int):
    if buf.dtype.kind == "f":
        buf /= n
    else:  # integers: truncation toward zero, like C's integer division
        np.copyto(buf, (np.abs(buf) // n) * np.sign(buf))


def _run(pg, what, requests, finish, async_op, result=None):
    work = Work(pg, requests, what, finish, result)
    if async_op:
        return work
    work.wait()
    return None


def _check_rank(r, pg, what, name):
    if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or not 0 <= r < pg._size:
        raise ValueError(f"{what}: {name} must be a rank in [0, {pg._size - 1}], got {r!r}")
    return int(r)


def _peer(pg, rank, group_rank, what, name, default=None) -> int:
    """The group rank of a peer named by its global ``rank`` or its ``group_rank``."""
    if group_rank is not None:
        if rank is not None:
            raise ValueError(f"{what}: give {name} or group_{name}, not both")
        return _check_rank(group_rank, pg, what, f"group_{name}")
    rank = default if rank is None else rank
    if pg._ranks == list(range(pg._size)):
        return _check_rank(rank, pg, what, name)
    if not isinstance(rank, (int, np.integer)) or isinstance(rank, bool) \
            or int(rank) not in pg._ranks:
        raise ValueError(f"{what}: {name} must be a global rank of the group {pg._ranks}, got "
                         f"{rank!r}")
    return pg._ranks.index(int(rank))


# ------------------------------------------------------------------------------ collectives
def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank has reached the barrier."""
    pg = _group(group, "barrier")
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    work = Work(pg, [pg._comm.Ibarrier()], "barrier")
    if async_op:
        return work
    work.wait(timeout)
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across all ranks, in place on every rank:
    ``tensor ← op(tensor₀, tensor₁, ..., tensor_{R−1})`` elementwise (any shape).

    Args:
        tensor (Tensor): input and output, the same shape and dtype on every rank.
        op (ReduceOp): SUM (default), AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR.
        group: None (the default group).
        async_op (bool): return a :class:`Work` at once instead of waiting.

    Returns:
        a :class:`Work` if ``async_op``, else None.

    Example::

        >>> t = cr.tensor([1.0, 2.0]) * (dist.get_rank() + 1)
        >>> dist.all_reduce(t)          # 2 ranks: t == [3.0, 6.0] on both
    """
    what = "all_reduce"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    a = _tensor(tensor, what)
    _reducible(a, op, what)
    mop = getattr(pg._MPI, _MPI_OP[op])
    if _writable_contiguous(a):
        buf = a
        req = pg._comm.Iallreduce(pg._MPI.IN_PLACE, buf, mop)
    else:
        send = np.ascontiguousarray(a)
        buf = np.empty_like(send)
        req = pg._comm.Iallreduce(send, buf, mop)

    def finish():
        if op is ReduceOp.AVG:
            _average(buf, pg._size)
        if buf is a:
            tensor._version_box[0] += 1
        else:
            _store(tensor, buf)
    return _run(pg, what, [req], finish, async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank (same shape and dtype)."""
    what = "broadcast"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    src = _peer(pg, src, group_src, what, "src")
    a = _tensor(tensor, what)
    direct = _writable_contiguous(a)
    buf = a.reshape(-1).view(np.uint8) if direct else _as_bytes(a)
    req = pg._comm.Ibcast(buf, root=src)

    def finish():
        if pg._rank != src:
            if direct:
                tensor._version_box[0] += 1
            else:
                _store(tensor, buf.view(a.dtype))
    return _run(pg, what, [req], finish, async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Combine ``tensor`` across ranks into rank ``dst``'s ``tensor`` (in place there; the other
    ranks' tensors are left as they were)."""
    what = "reduce"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    dst = _peer(pg, dst, group_dst, what, "dst")
    a = _tensor(tensor, what)
    _reducible(a, op, what)
    send = np.ascontiguousarray(a)
    buf = np.empty_like(send) if pg._rank == dst else None
    req = pg._comm.Ireduce(send, buf, getattr(pg._MPI, _MPI_OP[op]), root=dst)

    def finish():
        if buf is not None:
            if op is ReduceOp.AVG:
                _average(buf, pg._size)
            _store(tensor, buf)
    return _run(pg, what, [req], finish, async_op)


def _same(tensors, like: np.ndarray, what: str, name: str, count: int):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != count:
        n = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{what}: {name} must be a list of world_size={count} tensors, got {n}")
    for i, t in enumerate(tensors):
        a = _tensor(t, what, f"{name}[{i}]")
        if a.shape != like.shape or a.dtype != like.dtype:
            raise ValueError(f"{what}: {name}[{i}] has shape {tuple(a.shape)} and dtype "
                             f"{a.dtype}; expected shape {tuple(like.shape)} and dtype "
                             f"{like.dtype} (the input's)")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's ``tensor`` into ``tensor_list`` on every rank:
    ``tensor_list[r] ← tensor of rank r`` (R tensors of the input's shape and dtype)."""
    what = "all_gather"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    a = _tensor(tensor, what)
    _same(tensor_list, a, what, "tensor_list", pg._size)
    send = _as_bytes(a)
    buf = np.empty((pg._size, send.size), np.uint8)
    req = pg._comm.Iallgather(send, buf)

    def finish():
        for r, t in enumerate(tensor_list):
            _store(t, buf[r].view(a.dtype))
    return _run(pg, what, [req], finish, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor`` concatenated (rank order) into ``output_tensor``: shape
    ``(R·n₀, ...)`` (concatenated) or ``(R, n₀, ...)`` (stacked) for an input of ``(n₀, ...)``."""
    what = "all_gather_into_tensor"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    a = _tensor(input_tensor, what, "input_tensor")
    out = _tensor(output_tensor, what, "output_tensor")
    if out.dtype != a.dtype or out.size != pg._size * a.size:
        raise ValueError(f"{what}: output_tensor must hold world_size={pg._size} times the "
                         f"input ({a.size} elements of {a.dtype}), got {out.size} elements of "
                         f"{out.dtype}")
    send = _as_bytes(a)
    direct = _writable_contiguous(out)
    buf = out.reshape(-1).view(np.uint8) if direct else np.empty(out.nbytes, np.uint8)
    req = pg._comm.Iallgather(send, buf)

    def finish():
        if direct:
            output_tensor._version_box[0] += 1
        else:
            _store(output_tensor, buf.view(out.dtype))
    return _run(pg, what, [req], finish, async_op)


def _reduce_scatter(pg, what, out_t, out, send, op, async_op):
    _reducible(send, op, what)
    buf = np.empty(out.size, out.dtype)
    req = pg._comm.Ireduce_scatter_block(send.reshape(-1), buf, getattr(pg._MPI, _MPI_OP[op]))

    def finish():
        if op is ReduceOp.AVG:
            _average(buf, pg._size)
        _store(out_t, buf)
    return _run(pg, what, [req], finish, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce across ranks, then scatter: ``output on rank r ← op over ranks of
    input_list[r]`` (``input_list``: R tensors of ``output``'s shape and dtype)."""
    what = "reduce_scatter"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    out = _tensor(output, what, "output")
    _same(input_list, out, what, "input_list", pg._size)
    send = np.stack([t._data for t in input_list])
    return _reduce_scatter(pg, what, output, out, send, op, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """:func:`reduce_scatter` with the inputs as one tensor: ``input`` of shape ``(R·n₀, ...)``
    (or ``(R, n₀, ...)``), rank r receives the reduction of its r-th block of ``output``'s size."""
    what = "reduce_scatter_tensor"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    out = _tensor(output, what, "output")
    a = _tensor(input, what, "input")
    if a.dtype != out.dtype or a.size != pg._size * out.size:
        raise ValueError(f"{what}: input must hold world_size={pg._size} times the output "
                         f"({out.size} elements of {out.dtype}), got {a.size} elements of "
                         f"{a.dtype}")
    return _reduce_scatter(pg, what, output, out, np.ascontiguousarray(a), op, async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (``gather_list[r] ←
    tensor of rank r``); the other ranks pass ``gather_list=None``."""
    what = "gather"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    dst = _peer(pg, dst, group_dst, what, "dst", default=0)
    a = _tensor(tensor, what)
    if pg._rank == dst:
        _same(gather_list, a, what, "gather_list", pg._size)
    elif gather_list:
        raise ValueError(f"{what}: Argument ``gather_list`` must NOT be specified on non-"
                         f"destination ranks (this is rank {pg._rank}, dst is {dst})")
    send = _as_bytes(a)
    buf = np.empty((pg._size, send.size), np.uint8) if pg._rank == dst else None
    req = pg._comm.Igather(send, buf, root=dst)

    def finish():
        if buf is not None:
            for r, t in enumerate(gather_list):
                _store(t, buf[r].view(a.dtype))
    return _run(pg, what, [req], finish, async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src``'s ``scatter_list[r]`` into ``tensor`` on rank r (every rank, ``src``
    included); the other ranks pass ``scatter_list=None``."""
    what = "scatter"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    src = _peer(pg, src, group_src, what, "src", default=0)
    a = _tensor(tensor, what)
    if pg._rank == src:
        _same(scatter_list, a, what, "scatter_list", pg._size)
        send = np.stack([_as_bytes(t._data) for t in scatter_list])
    else:
        if scatter_list:
            raise ValueError(f"{what}: Argument ``scatter_list`` must NOT be specified on non-"
                             f"source ranks (this is rank {pg._rank}, src is {src})")
        send = None
    buf = np.empty(a.nbytes, np.uint8)
    req = pg._comm.Iscatter(send, buf, root=src)
    return _run(pg, what, [req], lambda: _store(tensor, buf.view(a.dtype)), async_op)


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns a :class:`Work` (wait before changing
    the tensor)."""
    what = "isend"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    dst = _peer(pg, dst, group_dst, what, "dst")
    if dst == pg._rank:
        raise ValueError(f"{what}: Invalid destination rank: should not be the same as the rank "
                         f"of the current process ({dst})")
    send = _as_bytes(_tensor(tensor, what))
    return Work(pg, [pg._comm.Isend(send, dest=dst, tag=tag)], what, None, send)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None); returns a
    :class:`Work` whose ``source_rank()`` is the sender once it has completed."""
    what = "irecv"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    source = (pg._MPI.ANY_SOURCE if src is None and group_src is None else
              _peer(pg, src, group_src, what, "src"))
    a = _tensor(tensor, what)
    buf = np.empty(a.nbytes, np.uint8)
    work = Work(pg, [pg._comm.Irecv(buf, source=source, tag=tag)], what)
    work._finish = lambda: _store(tensor, buf.view(a.dtype))
    return work


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` and wait until it is sent."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work._source_rank()


# ------------------------------------------------------------------------------ objects
def all_gather_object(object_list, obj, group=None):
    """Every rank's ``obj`` into ``object_list`` (``object_list[r] ← obj of rank r``, a list
    of world_size entries). ``obj`` must be data — None, bool, int, float, str, Tensor, NumPy
    array, or lists / tuples / dicts of these: chainrule serialises without pickle, so no rank
    can make another run code. Anything else raises TypeError."""
    what = "all_gather_object"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    if not isinstance(object_list, list) or len(object_list) != pg._size:
        raise ValueError(f"{what}: object_list must be a list of world_size={pg._size} entries")
    data = np.frombuffer(_encode(obj, what), np.uint8)
    sizes = np.zeros(pg._size, np.int64)
    Work(pg, [pg._comm.Iallgather(np.array([data.size], np.int64), sizes)], what).wait()
    buf = np.empty(int(sizes.sum()), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    req = pg._comm.Iallgatherv(data, [buf, sizes.tolist(), offsets.tolist(), pg._MPI.BYTE])
    Work(pg, [req], what).wait()
    for r in range(pg._size):
        object_list[r] = _decode(buf[offsets[r]:offsets[r] + sizes[r]])


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Rank ``src``'s ``object_list`` entries into ``object_list`` on every rank (in place; the
    same length everywhere). Data only, as :func:`all_gather_object`."""
    what = "broadcast_object_list"
    pg = _group(group, what)
    if pg is None:          # this rank is not in the group: nothing to do
        return None
    src = _peer(pg, src, group_src, what, "src", default=0)
    if not isinstance(object_list, list):
        raise TypeError(f"{what}: object_list must be a list, got {type(object_list).__name__}")
    data = np.frombuffer(_encode(object_list, what), np.uint8) if pg._rank == src else None
    size = np.array([0 if data is None else data.size], np.int64)
    Work(pg, [pg._comm.Ibcast(size, root=src)], what).wait()
    buf = data.copy() if data is not None else np.empty(int(size[0]), np.uint8)
    Work(pg, [pg._comm.Ibcast(buf, root=src)], what).wait()
    if pg._rank != src:
        values = _decode(buf)
        if len(values) != len(object_list):
            raise ValueError(f"{what}: object_list has {len(object_list)} entries on rank "
                             f"{pg._rank} but {len(values)} on rank {src}")
        object_list[:] = values
