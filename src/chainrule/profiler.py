"""Where the time goes: ``torch.profiler``'s interface over chainrule's engine.

    with chainrule.profiler.profile(record_shapes=True) as prof:
        with chainrule.profiler.record_function("model_inference"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

Every primitive run forward (``Node.apply``, an event named ``chainrule::<Primitive>``, e.g.
``chainrule::MatMul``) and every gradient rule run backward (the node's torch name,
``MmBackward0``) is an event with its wall-clock interval on the CPU; ``record_function``
ranges are events too. An event's *CPU total* is its interval, its *self CPU* that interval
less the events recorded inside it (a range's self time is the Python between its ops). With
``profile_memory`` an event counts the bytes of the arrays it returns (*CPU Mem*, its own and
those of the events inside; *Self CPU Mem*, its own): chainrule frees memory through Python's
reference counting, so frees are not attributed to ops as torch's allocator does.

Recording replaces the engine's two entry points with timed ones while a profile is active,
and puts them back after: nothing is paid when no profile runs. A compiled replay
(``chainrule.compile``) runs its ops without the engine and shows as the ``record_function``
ranges around it only. There is one CPU activity (``ProfilerActivity.CPU``); asking for an
accelerator's warns and records the CPU.
"""
from __future__ import annotations

import contextlib
import enum
import json
import os
import socket
import threading
import time
import warnings
from collections import OrderedDict

from ._graph import Node
from ._io import atomic_write_bytes

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler", "EventList", "FunctionEvent",
           "FunctionEventAvg"]


class ProfilerActivity(enum.Enum):
    """What a profile records: chainrule has the CPU only (the others are torch's names)."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities() -> set:
    """The activities chainrule can record: ``{ProfilerActivity.CPU}``."""
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    """What a step of a scheduled profile does."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0):
    """torch's step schedule: after ``skip_first`` steps, cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps (the last one saves the trace: the profile's
    ``on_trace_ready`` runs), ``repeat`` cycles (0: until the profile stops).
    Returns ``step -> ProfilerAction``."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError(f"schedule: invalid profiler schedule arguments (wait={wait}, "
                         f"warmup={warmup}, active={active}, repeat={repeat}, "
                         f"skip_first={skip_first}): active must be positive, the rest >= 0")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results")
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


# ---------------------------------------------------------------------------- events
_UNITS = {"s": 1e6, "ms": 1e3, "us": 1.0}


def _format_time(us: float, unit=None) -> str:
    """torch's: the largest unit that keeps the number ≥ 1, or ``unit`` ('s', 'ms', 'us')."""
    if unit is None:
        unit = "s" if us >= 1e6 else "ms" if us >= 1e3 else "us"
    return f"{us / _UNITS[unit]:.3f}{unit}"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


class FunctionEvent:
    """One recorded interval: ``name``, ``time_range`` (start, end in µs since the profile
    began), ``thread``, ``input_shapes`` (with ``record_shapes``), ``cpu_parent`` and
    ``cpu_children`` (the events recorded inside it), ``is_user_annotation`` (a
    ``record_function`` range) and the bytes it returned (``self_cpu_memory_usage``)."""

    def __init__(self, id, name, thread, start_us, input_shapes=(), is_user_annotation=False):
        self.id, self.name, self.key, self.thread = id, name, name, thread
        self.start_us, self.end_us = start_us, start_us
        self.input_shapes = list(input_shapes)
        self.is_user_annotation = is_user_annotation
        self.cpu_parent = None
        self.cpu_children = []
        self.self_cpu_memory_usage = 0
        self.count = 1

    @property
    def time_range(self):
        return self.start_us, self.end_us

    @property
    def cpu_time_total(self) -> float:
        """The event's interval, µs."""
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        """The interval less the events recorded inside it, µs."""
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    cpu_time = cpu_time_total

    @property
    def cpu_memory_usage(self) -> int:
        """Bytes returned by the event and the events inside it."""
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time="
                f"{_format_time(self.cpu_time_total)} start_us={self.start_us:.3f} "
                f"end_us={self.end_us:.3f} input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """The events of one name (and input shapes, when grouped by them), summed: ``key``,
    ``count``, ``cpu_time_total``, ``self_cpu_time_total``, ``cpu_time`` (the mean),
    ``cpu_memory_usage``, ``self_cpu_memory_usage``, ``input_shapes``."""

    def __init__(self, key, input_shapes=None, is_user_annotation=False):
        self.key, self.input_shapes = key, input_shapes
        self.is_user_annotation = is_user_annotation
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0

    def add(self, event):
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time="
                f"{_format_time(self.self_cpu_time_total)} cpu_time={_format_time(self.cpu_time)} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of events (or of averages) with torch's summary table."""

    def __init__(self, events=(), profile_memory=False):
        super().__init__(events)
        self._profile_memory = profile_memory

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of every event's self time, µs: the profiled time, counted once."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False) -> "EventList":
        """The events summed by name (and by input shapes when ``group_by_input_shape``), in
        the order each key first appears."""
        groups = OrderedDict()
        for e in self:
            shapes = str(e.input_shapes) if group_by_input_shape else None
            key = (e.key, shapes)
            if key not in groups:
                groups[key] = FunctionEventAvg(e.key, shapes, e.is_user_annotation)
            groups[key].add(e)
        averages = EventList(groups.values(), self._profile_memory)
        averages._by_shape = group_by_input_shape
        return averages

    def total_average(self) -> FunctionEventAvg:
        """Every event summed into one (key ``Total``)."""
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def table(self, sort_by=None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header=None,
              top_level_events_only=False, time_unit=None) -> str:
        """torch's summary table: one row per event (or average), sorted by the attribute
        ``sort_by`` (``"cpu_time_total"``, ``"self_cpu_time_total"``, ``"cpu_time"``,
        ``"count"``, ``"cpu_memory_usage"``, ``"self_cpu_memory_usage"``; largest first), at
        most ``row_limit`` rows, then the profiled time (the sum of the self times); times in
        ``time_unit`` ('s', 'ms', 'us') when given. (No source column: stacks are not
        recorded.)"""
        if time_unit is not None and time_unit not in _UNITS:
            raise ValueError(f"table: time_unit must be one of 's', 'ms', 'us', got {time_unit!r}")
        rows = [e for e in self if not top_level_events_only or getattr(e, "cpu_parent", None)
                is None]
        if sort_by is not None:
            if rows and not hasattr(rows[0], sort_by):
                raise AttributeError(f"table: events have no attribute {sort_by!r} to sort by")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        rows = rows[:row_limit] if row_limit is not None and row_limit >= 0 else rows
        total = self.self_cpu_time_total or 1.0
        name_width = max([len("Name")] + [len(e.key) for e in rows]) + 4
        name_width = min(name_width, max_name_column_width)
        headers = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
        if self._profile_memory:
            headers += ["CPU Mem", "Self CPU Mem"]
        headers.append("# of Calls")
        widths = [name_width] + [12] * len(headers)
        by_shape = getattr(self, "_by_shape", False)
        if by_shape:
            headers.append("Input Shapes")
            widths.append(min(max_shapes_column_width, max(
                [len("Input Shapes")] + [len(str(e.input_shapes)) for e in rows]) + 4))

        def line(cells):
            return "".join(f"{c:>{w}}  " for c, w in zip(cells, widths))

        rule = "".join("-" * w + "  " for w in widths)
        out = [rule, line(["Name"] + headers), rule]
        for e in rows:
            name = e.key if len(e.key) <= name_width else e.key[:name_width - 3] + "..."
            cells = [name, f"{e.self_cpu_time_total / total * 100:.2f}%",
                     _format_time(e.self_cpu_time_total, time_unit),
                     f"{e.cpu_time_total / total * 100:.2f}%",
                     _format_time(e.cpu_time_total, time_unit),
                     _format_time(e.cpu_time_total / e.count if e.count else 0.0, time_unit)]
            if self._profile_memory:
                cells += [_format_memory(e.cpu_memory_usage),
                          _format_memory(e.self_cpu_memory_usage)]
            cells.append(str(e.count))
            if by_shape:
                shapes = str(e.input_shapes)
                cells.append(shapes if len(shapes) <= widths[-1] else
                             shapes[:widths[-1] - 3] + "...")
            out.append(line(cells))
        out += [rule, "Self CPU time total: "
                + _format_time(self.self_cpu_time_total, time_unit), ""]
        if header:
            out.insert(0, header)
        return "\n".join(out)

    def export_chrome_trace(self, path) -> None:
        """The events as a Chrome trace (``chrome://tracing``, Perfetto), written atomically."""
        pid = os.getpid()
        events = [{"ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                   "name": e.name, "pid": pid, "tid": e.thread, "ts": e.start_us,
                   "dur": e.cpu_time_total,
                   "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
                  for e in self]
        atomic_write_bytes(path, json.dumps({"traceEvents": events, "displayTimeUnit": "ms"},
                                            indent=1).encode())

    def __str__(self):
        return self.table()


# ---------------------------------------------------------------------------- recording
class _Recording:
    """The events of one trace, with a stack of the open ones per thread."""

    def __init__(self, record_shapes, profile_memory):
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.origin = time.perf_counter_ns()
        self.events = []
        self.open = {}     # thread -> stack of open events
        self.lock = threading.Lock()

    def begin(self, name, inputs=(), user=False):
        thread = threading.get_ident()
        shapes = ([list(getattr(t, "shape", ())) for t in inputs] if self.record_shapes
                  else ())
        start = (time.perf_counter_ns() - self.origin) / 1e3
        with self.lock:
            event = FunctionEvent(len(self.events), name, thread, start, shapes, user)
            stack = self.open.setdefault(thread, [])
            if stack:
                event.cpu_parent = stack[-1]
                stack[-1].cpu_children.append(event)
            stack.append(event)
            self.events.append(event)
        return event

    def end(self, event, outputs=()):
        event.end_us = (time.perf_counter_ns() - self.origin) / 1e3
        if self.profile_memory:
            event.self_cpu_memory_usage = sum(getattr(getattr(t, "_data", t), "nbytes", 0)
                                              for t in outputs if t is not None)
        with self.lock:
            stack = self.open.get(event.thread)
            if stack and stack[-1] is event:
                stack.pop()


_ACTIVE = None   # the recording in progress, or None
_APPLY = Node.__dict__["apply"].__func__
_VJP = Node._vjp


def _timed_apply(cls, *inputs, **params):
    recording = _ACTIVE
    if recording is None:
        return _APPLY(cls, *inputs, **params)
    event = recording.begin("chainrule::" + cls.__name__, inputs)
    out = None
    try:
        out = _APPLY(cls, *inputs, **params)
        return out
    finally:
        recording.end(event, out if isinstance(out, (tuple, list)) else (out,))


def _timed_vjp(self, xp, g):
    recording = _ACTIVE
    if recording is None:
        return _VJP(self, xp, g)
    event = recording.begin(type(self).__name__, (g,))
    grads = ()
    try:
        grads = _VJP(self, xp, g)
        return grads
    finally:
        recording.end(event, grads)


def _install(recording):
    global _ACTIVE
    if _ACTIVE is not None:
        raise RuntimeError("chainrule.profiler: a profile is already recording (profiles do "
                           "not nest; stop the other one first)")
    _ACTIVE = recording
    Node.apply = classmethod(_timed_apply)
    Node._vjp = _timed_vjp


def _uninstall():
    global _ACTIVE
    _ACTIVE = None
    Node.apply = classmethod(_APPLY)
    Node._vjp = _VJP


class record_function(contextlib.ContextDecorator):
    """A named range in the profile (``with record_function("forward"): ...`` or as a
    decorator): an event holding the ops run inside it; nothing when no profile records."""

    def __init__(self, name: str, args=None):
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name, self.args = name, args
        self._events = []

    def __enter__(self):
        recording = _ACTIVE
        self._events.append(None if recording is None else
                            (recording, recording.begin(self.name, user=True)))
        return self

    def __exit__(self, *exc):
        entry = self._events.pop()
        if entry is not None:
            entry[0].end(entry[1])
        return False


class profile:
    """Record the ops run inside the block (or between ``start()`` and ``stop()``).

    ``activities``: what to record (``ProfilerActivity.CPU``, the default; others warn);
    ``schedule``: ``step -> ProfilerAction`` (:func:`schedule`), advanced by ``step()``; with
    none, everything between start and stop is one trace; ``on_trace_ready(prof)`` runs when a
    trace is complete (the end of a scheduled cycle, or ``stop()``); ``record_shapes``: each
    op's input shapes (``key_averages(group_by_input_shape=True)``); ``profile_memory``: the
    bytes each op returns; ``acc_events``: a scheduled profile keeps the events of every
    cycle (else each trace holds its own cycle's). ``with_stack``, ``with_flops``,
    ``with_modules`` and the accelerator options are accepted and not recorded.
    Results: ``events()``, ``key_averages()``, ``export_chrome_trace(path)``."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None):
        activities = set(activities) if activities is not None else supported_activities()
        if use_cuda:
            activities.add(ProfilerActivity.CUDA)
        if activities - supported_activities():
            names = ", ".join(sorted(a.name for a in activities - supported_activities()))
            warnings.warn(f"chainrule.profiler: only ProfilerActivity.CPU is recorded "
                          f"(chainrule computes on the CPU), not {names}")
        self.activities = activities
        self.schedule = schedule if schedule is not None else _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes, self.profile_memory = bool(record_shapes), bool(profile_memory)
        self.acc_events = bool(acc_events)
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._recording = None
        self._events = EventList((), self.profile_memory)

    # ------------------------------------------------------------------ control
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.step_num = 0
        self.current_action = self.schedule(0)
        if self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._begin()

    def stop(self):
        if self._recording is not None:
            self._finish()
        self.current_action = ProfilerAction.NONE

    def step(self):
        """Mark the end of a step (a training iteration): the schedule decides what the next
        one does."""
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if previous is ProfilerAction.RECORD_AND_SAVE and self._recording is not None:
            self._finish()
        if (self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
                and self._recording is None):
            self._begin()

    def _begin(self):
        self._recording = _Recording(self.record_shapes, self.profile_memory)
        _install(self._recording)

    def _finish(self):
        _uninstall()
        kept = list(self._events) if self.acc_events else []
        self._events = EventList(kept + self._recording.events, self.profile_memory)
        self._recording = None
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # ------------------------------------------------------------------ results
    def events(self) -> EventList:
        """The last complete trace's events, in the order they began."""
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The last trace's events summed by name (and input shapes)."""
        return self._events.key_averages(group_by_input_shape)

    def export_chrome_trace(self, path) -> None:
        """The last trace as a Chrome trace JSON file, written atomically."""
        self._events.export_chrome_trace(path)


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip: bool = False):
    """An ``on_trace_ready`` that writes each trace into ``dir_name`` as
    ``<worker_name>.<time_ns>.pt.trace.json`` (``.gz`` with ``use_gzip``), the files
    TensorBoard's profiler plugin reads; ``worker_name`` defaults to ``<host>_<pid>``."""
    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        path = os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json")
        if use_gzip:
            import gzip
            import tempfile
            with tempfile.TemporaryDirectory() as tmp:
                plain = os.path.join(tmp, "trace.json")
                prof.export_chrome_trace(plain)
                with open(plain, "rb") as f:
                    atomic_write_bytes(path + ".gz", gzip.compress(f.read()))
        else:
            prof.export_chrome_trace(path)
    return handler
