"""chainrule.profiler and chainrule.autograd.profiler: torch.profiler's interface over the engine
(torch is the oracle for the schedule, the step at which traces are handed over, and the
table's layout)."""
import json
import warnings

import pytest
import torch

import chainrule as cr
from chainrule._graph import Node
from chainrule.profiler import (ProfilerAction, ProfilerActivity, profile, record_function,
                                schedule, tensorboard_trace_handler)


def _step(lib):
    x = lib.ones(8, 4, requires_grad=True)
    w = lib.ones(4, 3, requires_grad=True)
    with (cr.profiler if lib is cr else torch.profiler).record_function("forward"):
        y = (x @ w).relu().sum()
    y.backward()


def test_ops_forward_and_backward_are_events_with_self_and_total_times():
    with profile(record_shapes=True) as prof:
        _step(cr)
    names = [e.name for e in prof.events()]
    assert names[:4] == ["forward", "chainrule::MatMul", "chainrule::Relu", "chainrule::Sum"]
    assert {"SumBackward0", "ReluBackward0", "MmBackward0"} <= set(names)
    forward = prof.events()[0]
    assert forward.is_user_annotation and [c.name for c in forward.cpu_children] == names[1:4]
    assert forward.cpu_time_total >= sum(c.cpu_time_total for c in forward.cpu_children)
    assert forward.self_cpu_time_total == pytest.approx(
        forward.cpu_time_total - sum(c.cpu_time_total for c in forward.cpu_children))
    matmul = prof.events()[1]
    assert matmul.input_shapes == [[8, 4], [4, 3]] and matmul.cpu_parent is forward
    averages = prof.key_averages()
    assert sum(a.count for a in averages) == len(names)
    assert averages.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total
                                                             for e in prof.events()))


@pytest.mark.parametrize("memory", [False, True])
@pytest.mark.parametrize("by_shape", [False, True])
def test_table_has_torchs_columns(memory, by_shape):
    tables = []
    for lib in (torch, cr):
        with lib.profiler.profile(record_shapes=True, profile_memory=memory) as prof:
            _step(lib)
        tables.append(prof.key_averages(group_by_input_shape=by_shape).table(
            sort_by="self_cpu_time_total", row_limit=3))
    mine, ref = (t.splitlines() for t in tables[::-1])
    # header line: the same column titles; rule, header, rule, 3 rows, rule, total
    assert [c.strip() for c in mine[1].split("  ") if c.strip()] == \
        [c.strip() for c in ref[1].split("  ") if c.strip()]
    assert len([line for line in mine if line]) == len([line for line in ref if line]) == 8
    assert mine[-1].startswith("Self CPU time total: ") and ref[-1].startswith("Self CPU time")
    assert all(r.split()[1].endswith("%") for r in mine[3:6])


def test_table_sorts_and_limits():
    with profile() as prof:
        for _ in range(3):
            _step(cr)
    averages = prof.key_averages()
    table = averages.table(sort_by="count", row_limit=2).splitlines()
    assert len(table) == 7 and table[3].split()[-1] == "3"
    with pytest.raises(AttributeError, match="no attribute 'cuda_memory'"):
        averages.table(sort_by="cuda_memory")
    in_ms = averages.table(time_unit="ms").splitlines()
    assert all(line.split()[2].endswith("ms") for line in in_ms[3:-2])
    assert in_ms[-1].startswith("Self CPU time total: ") and in_ms[-1].endswith("ms")
    with pytest.raises(ValueError, match="time_unit must be one of"):
        averages.table(time_unit="ns")
    total = prof.events().total_average()
    assert total.key == "Total" and total.count == len(prof.events())


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=1, active=1,
                                                                         repeat=2),
                                dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3)])
def test_schedule_equals_torchs(kw):
    mine, ref = schedule(**kw), torch.profiler.schedule(**kw)
    assert [mine(i).name for i in range(20)] == [ref(i).name for i in range(20)]
    assert ProfilerAction.RECORD_AND_SAVE.value == \
        torch.profiler.ProfilerAction.RECORD_AND_SAVE.value


def test_scheduled_traces_are_handed_over_at_torchs_steps():
    seen = {}
    for lib in (torch, cr):
        calls = []
        steps = []

        def ready(prof, calls=calls):
            calls.append(prof.step_num)
            steps.append(sum(1 for e in prof.events() if e.name == "forward"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
        with lib.profiler.profile(schedule=sched, on_trace_ready=ready) as prof:
            for _ in range(10):
                _step(lib)
                prof.step()
        seen[lib.__name__] = (calls, steps)
    assert seen["chainrule"] == seen["torch"]
    assert seen["chainrule"][0] == [4, 8]   # each trace holds the two active steps' ranges
    kept = []
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=3), acc_events=True,
                 on_trace_ready=lambda p: kept.append(len(p.events()))) as prof:
        for _ in range(6):
            _step(cr)
            prof.step()
    assert kept == [kept[0], 2 * kept[0], 3 * kept[0]]


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    with profile(record_shapes=True) as prof:
        _step(cr)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert len(events) == len(prof.events()) and all(e["ph"] == "X" for e in events)
    assert events[1]["name"] == "chainrule::MatMul" and events[1]["args"]["Input Dims"] == [[8, 4],
                                                                                             [4, 3]]
    for gz in (False, True):
        out = tmp_path / f"tb{int(gz)}"
        with profile(on_trace_ready=tensorboard_trace_handler(str(out), "w0", use_gzip=gz)):
            _step(cr)
        files = list(out.iterdir())
        assert len(files) == 1 and files[0].name.startswith("w0.")
        assert files[0].name.endswith(".pt.trace.json.gz" if gz else ".pt.trace.json")


def test_the_engine_is_put_back_and_profiles_do_not_nest():
    apply, vjp = Node.__dict__["apply"], Node._vjp
    with pytest.raises(ValueError, match="boom"):
        with profile():
            assert Node.__dict__["apply"] is not apply
            raise ValueError("boom")
    assert Node.__dict__["apply"].__func__ is apply.__func__ and Node._vjp is vjp
    with profile():
        with pytest.raises(RuntimeError, match="already recording"):
            profile().start()
    _step(cr)   # and nothing is recorded (or broken) after


def test_record_function_as_decorator_and_outside_a_profile():
    @record_function("my_block")
    def block():
        return (cr.ones(3) * 2).sum()

    assert block().item() == 6.0    # no profile: a no-op
    with profile() as prof:
        block()
    assert [e.name for e in prof.events()] == ["my_block", "chainrule::Mul", "chainrule::Sum"]
    with pytest.raises(TypeError, match="name must be a str"):
        record_function(3)


def test_an_optimizer_step_is_a_range_named_as_torchs():
    names = []
    for lib in (torch, cr):
        w = lib.nn.Parameter(lib.ones(3))
        opt = lib.optim.AdamW([w])
        w.sum().backward()
        with lib.profiler.profile() as prof:
            opt.step()
        names.append({e.name for e in prof.events() if e.name.startswith("Optimizer.")})
    assert names[1] == names[0] == {"Optimizer.step#AdamW.step"}


def test_legacy_autograd_profiler():
    with cr.autograd.profiler.profile(record_shapes=True) as prof:
        _step(cr)
    assert "chainrule::MatMul" in prof.table(sort_by="cpu_time_total")
    assert len(prof.function_events) == len(prof.events()) > 0
    assert prof.self_cpu_time_total == pytest.approx(prof.events().self_cpu_time_total)
    with cr.autograd.profiler.profile(enabled=False) as off:
        _step(cr)
    assert len(off.function_events) == 0


def test_accelerator_activities_warn():
    with pytest.warns(UserWarning, match="only ProfilerActivity.CPU is recorded"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    with pytest.raises(ValueError, match="active must be positive"):
        schedule(wait=1, warmup=1, active=0)
