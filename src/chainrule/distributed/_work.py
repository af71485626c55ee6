"""Waiting on MPI requests with a deadline, and the one-line errors when a peer is gone."""
from __future__ import annotations

import os
import time
from datetime import timedelta

_LIVENESS_EVERY = 0.2      # seconds between checks that the peers' processes still exist


def _seconds(timeout) -> float:
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return float(timeout)
    raise TypeError(f"timeout must be a datetime.timedelta (or seconds), got "
                    f"{type(timeout).__name__}")


class DistBackendError(RuntimeError):
    """A collective could not complete: a peer process is gone or did not respond in time
    (torch's ``torch.distributed.DistBackendError``, a RuntimeError)."""

    __module__ = "chainrule.distributed"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:       # exists, owned by someone else
        return True
    return True


def wait_requests(MPI, requests, group, what: str, timeout: float, statuses=None):
    """Drive ``requests`` (MPI non-blocking requests) to completion, or raise.

    MPI makes progress only while someone calls into it, so this polls ``Testall``: busily for
    the first millisecond (small collectives finish there), then with sleeps growing to 2 ms
    (a waiting rank leaves the CPU to its peers). Every 0.2 s it checks that the peers'
    processes still exist; past ``timeout`` seconds it raises.

    Raises:
        DistBackendError: one line naming the collective, this rank and the lost rank(s).
    """
    if MPI.Request.Testall(requests, statuses):
        return
    start = time.monotonic()
    deadline = start + timeout
    next_check = start + _LIVENESS_EVERY
    pause = 0.0
    while True:
        if MPI.Request.Testall(requests, statuses):
            return
        now = time.monotonic()
        if now >= next_check:
            lost = group._lost_peers()
            if lost:
                group._broken = True
                raise DistBackendError(f"{what}: {group._describe_lost(lost)}")
            next_check = now + _LIVENESS_EVERY
        if now >= deadline:
            group._broken = True
            raise DistBackendError(
                f"{what}: timed out after {timeout:g} s on {group._me()}; "
                f"{group._describe_silent()}")
        if now - start > 1e-3:
            pause = min(2e-3, pause * 2 if pause else 5e-5)
            time.sleep(pause)


class Work:
    """The handle an ``async_op=True`` collective returns (``torch.distributed.Work``).

    The collective runs in MPI while Python goes on; the tensors it writes hold their result
    once :meth:`wait` returns (or :meth:`is_completed` has returned True).
    """

    def __init__(self, group, requests, what, finish=None, result=None):
        self._group = group
        self._requests = list(requests)
        self._what = what
        self._finish = finish          # copies results into the user's tensors, once
        self._done = False
        self._result = result
        self._statuses = [group._MPI.Status() for _ in self._requests]

    def _complete(self):
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()
                self._finish = None

    def wait(self, timeout=None) -> bool:
        """Block until the operation is done; its tensors then hold the result.

        Args:
            timeout (timedelta or float seconds, optional): default: the process group's.

        Raises:
            DistBackendError (a RuntimeError): a peer is gone, or the time ran out.
        """
        if not self._done:
            limit = self._group.timeout if timeout is None else _seconds(timeout)
            wait_requests(self._group._MPI, self._requests, self._group, self._what, limit,
                          self._statuses)
            self._complete()
        return True

    def is_completed(self) -> bool:
        """Whether the operation has finished (a non-blocking check that also drives MPI)."""
        if not self._done and self._group._MPI.Request.Testall(self._requests,
                                                                self._statuses):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def _source_rank(self) -> int:
        return self._group._ranks[self._statuses[0].Get_source()]   # a global rank

    def source_rank(self) -> int:
        """The sender of a completed ``irecv`` (waits for it)."""
        self.wait()
        return self._source_rank()

    def result(self):
        """The output tensors (torch returns them for some collectives)."""
        self.wait()
        return self._result

    def __repr__(self):
        return f"Work({self._what}, completed={self._done})"
