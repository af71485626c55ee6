"""chainrule.distributed against NumPy, on real MPI jobs started from pytest.

Few jobs, each testing many things: every rank runs a script written into tmp_path, builds its
inputs from its rank (so pytest can rebuild every rank's inputs), runs the collectives and
writes what it got to ``rank<r>.npz`` / ``rank<r>.json``; pytest compares with NumPy on the
gathered inputs. Jobs run with 2 ranks, and 3 (uneven splits, --oversubscribe on 2 cores).
The fault tests use small timeouts: a rank that never arrives, a rank killed mid-loop.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import _launcher, _objects
from chainrule.utils.data import DistributedSampler

torch = pytest.importorskip("torch")

SRC = str(Path(cr.__file__).resolve().parents[1])
HAVE_MPI = dist.is_available()
try:
    MPIEXEC = _launcher.find_mpiexec()
except FileNotFoundError:
    MPIEXEC = None
needs_mpi = pytest.mark.skipif(not (HAVE_MPI and MPIEXEC), reason="needs mpi4py and mpiexec "
                               "(pip install chainrule[distributed])")

DTYPES = ("float32", "float64", "int64")
OPS = ("SUM", "AVG", "PRODUCT", "MIN", "MAX")

# -------------------------------------------------------------------------- the rank's script
COMMON = '''
import json, os, sys, time
from datetime import timedelta
import numpy as np
import chainrule as cr
import chainrule.distributed as dist

OUT = sys.argv[1]

def inp(rank, dtype, shape=(3, 4), salt=0):
    """What rank ``rank`` contributes: small integers, so sums and products are exact."""
    a = np.random.default_rng(1000 * salt + rank).integers(-3, 4, size=shape)
    a[a == 0] = 1
    return a.astype(dtype)

def tensor(a, layout):
    """A tensor holding ``a``: contiguous ("c") or a transposed, non-contiguous view ("t")."""
    if layout == "c":
        return cr.tensor(a)
    t = cr.tensor(np.ascontiguousarray(a.T)).t()
    assert not t.numpy().flags.c_contiguous
    return t
'''

COLLECTIVES = COMMON + '''
dist.init_process_group("mpi", timeout=timedelta(seconds=30))
r, n = dist.get_rank(), dist.get_world_size()
res, info = {}, {"rank": r, "world": n, "initialized": dist.is_initialized(),
                 "backend": dist.get_backend(), "world_group": dist.group.WORLD is not None}
for dt in ("float32", "float64", "int64"):
    for layout in ("c", "t"):
        for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
            t = tensor(inp(r, dt), layout)
            v = t._version
            assert dist.all_reduce(t, op=getattr(dist.ReduceOp, op)) is None
            assert t._version > v and str(t.dtype) == "chainrule." + dt
            res[f"all_reduce-{dt}-{op}-{layout}"] = t.numpy()
            t = tensor(inp(r, dt), layout)
            dist.reduce(t, dst=n - 1, op=getattr(dist.ReduceOp, op))
            res[f"reduce-{dt}-{op}-{layout}"] = t.numpy()
        t = tensor(inp(r, dt), layout)
        dist.broadcast(t, src=n - 1)
        res[f"broadcast-{dt}-{layout}"] = t.numpy()
        outs = [tensor(np.zeros((3, 4), dt), layout) for _ in range(n)]
        dist.all_gather(outs, tensor(inp(r, dt), layout))
        res[f"all_gather-{dt}-{layout}"] = np.stack([o.numpy() for o in outs])
        cat = cr.zeros(3 * n, 4, dtype=getattr(cr, dt))
        dist.all_gather_into_tensor(cat, tensor(inp(r, dt), layout))
        stacked = cr.zeros(4, n, 3, dtype=getattr(cr, dt)).permute(1, 2, 0)   # (n, 3, 4) view
        dist.all_gather_into_tensor(stacked, tensor(inp(r, dt), layout))
        res[f"all_gather_into_tensor-{dt}-{layout}"] = cat.numpy()
        res[f"all_gather_into_tensor_stacked-{dt}-{layout}"] = stacked.numpy()
        for op in ("SUM", "AVG", "MAX"):
            out = tensor(np.zeros((3, 4), dt), layout)
            dist.reduce_scatter(out, [tensor(inp(r, dt, salt=k + 1), layout) for k in range(n)],
                                op=getattr(dist.ReduceOp, op))
            res[f"reduce_scatter-{dt}-{op}-{layout}"] = out.numpy()
            out = tensor(np.zeros((3, 4), dt), layout)
            big = np.concatenate([inp(r, dt, salt=k + 1) for k in range(n)])
            dist.reduce_scatter_tensor(out, tensor(big, layout) if layout == "c" else
                                       cr.tensor(np.ascontiguousarray(big.T)).t(),
                                       op=getattr(dist.ReduceOp, op))
            res[f"reduce_scatter_tensor-{dt}-{op}-{layout}"] = out.numpy()
        dst = 1 % n
        got = [tensor(np.zeros((3, 4), dt), layout) for _ in range(n)] if r == dst else None
        dist.gather(tensor(inp(r, dt), layout), got, dst=dst)
        if r == dst:
            res[f"gather-{dt}-{layout}"] = np.stack([g.numpy() for g in got])
        src = n - 1
        t = tensor(np.zeros((3, 4), dt), layout)
        dist.scatter(t, [tensor(inp(src, dt, salt=k + 1), layout) for k in range(n)]
                     if r == src else None, src=src)
        res[f"scatter-{dt}-{layout}"] = t.numpy()
        # a ring: send to the next rank, receive from the previous one
        t = tensor(np.zeros((3, 4), dt), layout)
        if r % 2 == 0:
            dist.send(tensor(inp(r, dt), layout), dst=(r + 1) % n)
            sender = dist.recv(t, src=(r - 1) % n)
        else:
            sender = dist.recv(t)                     # any source
            dist.send(tensor(inp(r, dt), layout), dst=(r + 1) % n)
        info[f"sender-{dt}-{layout}"] = sender
        res[f"ring-{dt}-{layout}"] = t.numpy()

# 0-d, empty, and dtypes that only move (bool, float16)
z = cr.tensor(float(r + 1))
dist.all_reduce(z)
res["zero_d"] = z.numpy()
e = cr.zeros(0, 3)
dist.all_reduce(e)
res["empty"] = e.numpy()
b = cr.tensor([r == 0, r != 0])
dist.broadcast(b, src=0)
res["bool"] = b.numpy()
hs = [cr.zeros(2, dtype=cr.float16) for _ in range(n)]
dist.all_gather(hs, cr.full((2,), r + 0.5, dtype=cr.float16))
res["float16"] = np.stack([h.numpy() for h in hs])

# async: several collectives in flight at once, waited in another order
ts = [cr.tensor(inp(r, "float64", salt=k)) for k in range(4)]
works = [dist.all_reduce(t, async_op=True) for t in ts[:2]]
works.append(dist.broadcast(ts[2], src=0, async_op=True))
outs = [cr.zeros(3, 4, dtype=cr.float64) for _ in range(n)]
works.append(dist.all_gather(outs, ts[3], async_op=True))
info["work_types"] = sorted({type(w).__name__ for w in works})
for w in reversed(works):
    assert w.wait() is True
    assert w.is_completed()
for k in range(3):
    res[f"async-{k}"] = ts[k].numpy()
res["async-3"] = np.stack([o.numpy() for o in outs])
w = dist.all_reduce(cr.ones(5), async_op=True)
deadline = time.time() + 20
while not w.is_completed():        # polling alone drives it to completion
    assert time.time() < deadline
w = dist.barrier(async_op=True)
w.wait(timeout=timedelta(seconds=10))
sends = [dist.isend(cr.full((2,), float(r)), dst=q, tag=7) for q in range(n) if q != r]
recvs = {q: cr.zeros(2) for q in range(n) if q != r}
rw = [dist.irecv(t, src=q, tag=7) for q, t in recvs.items()]
for w in sends + rw:
    w.wait()
res["isend"] = np.stack([recvs[q].numpy() for q in sorted(recvs)])

# groups: the first and the last rank; and the last rank alone
pair = dist.new_group([n - 1, 0])
solo = dist.new_group([n - 1])
info["pair"] = [dist.get_rank(pair), dist.get_world_size(pair)]
info["solo"] = [dist.get_rank(solo), dist.get_world_size(solo)]
t = cr.tensor(inp(r, "float64"))
info["pair_all_reduce"] = dist.all_reduce(t, group=pair) is None
res["pair_all_reduce"] = t.numpy()
t = cr.tensor(inp(r, "int64"))
dist.broadcast(t, src=n - 1, group=pair)             # a global rank
res["pair_broadcast"] = t.numpy()
t = cr.tensor(inp(r, "int64"))
dist.broadcast(t, group_src=0, group=pair)           # a rank within the group: global 0
res["pair_broadcast_group_src"] = t.numpy()
objs = [None] * max(dist.get_world_size(pair), 0)
dist.all_gather_object(objs, r, group=pair)
info["pair_objects"] = objs
t = cr.ones(2)
dist.all_reduce(t, group=solo)
res["solo"] = t.numpy()
if r in (0, n - 1):
    info["pair_ranks"] = dist.get_process_group_ranks(pair)
    info["pair_global_of_1"] = dist.get_global_rank(pair, 1)
    dist.barrier(group=pair)
    if r == 0:
        dist.send(cr.full((3,), 5.0), dst=n - 1, group=pair)
    else:
        info["pair_sender"] = dist.recv(t3 := cr.zeros(3), group=pair)
        res["pair_recv"] = t3.numpy()
dist.destroy_process_group(pair)
try:
    dist.all_reduce(cr.ones(1), group=pair)
except ValueError as e:
    info["destroyed_group"] = str(e)

# objects: data only
objs = [None] * n
dist.all_gather_object(objs, {"rank": r, "x": cr.arange(3) * r, "t": (1, 2.5, None),
                              7: [True, "s" * r], "a": np.full(2, r, np.float32)})
info["objects"] = [{"rank": o["rank"], "x": o["x"].tolist(), "xdtype": str(o["x"].dtype),
                    "t": list(o["t"]), "is_tuple": isinstance(o["t"], tuple), "7": o[7],
                    "a": o["a"].tolist(), "adtype": str(o["a"].dtype)} for o in objs]
lst = [{"lr": 0.1, "w": cr.ones(2, 2) * 3}, "cfg", float("inf")] if r == 0 else [None] * 3
dist.broadcast_object_list(lst, src=0)
info["broadcast_object_list"] = [lst[0]["lr"], lst[0]["w"].tolist(), lst[1], repr(lst[2])]
try:
    dist.all_gather_object([None] * n, object())
except TypeError as e:
    info["object_error"] = str(e)

# errors
errors = {}
def expect(name, fn):
    try:
        fn()
    except Exception as e:
        errors[name] = [type(e).__name__, str(e)]
expect("twice", lambda: dist.init_process_group("mpi"))
expect("bad_op", lambda: dist.all_reduce(cr.ones(2), op="sum"))
expect("float_band", lambda: dist.all_reduce(cr.ones(2), op=dist.ReduceOp.BAND))
expect("not_tensor", lambda: dist.all_reduce(np.ones(2)))
expect("bad_src", lambda: dist.broadcast(cr.ones(2), src=n))
expect("short_list", lambda: dist.all_gather([cr.ones(2)], cr.ones(2)))
expect("bad_shape", lambda: dist.all_gather([cr.ones(3)] * n, cr.ones(2)))
expect("into_size", lambda: dist.all_gather_into_tensor(cr.ones(3), cr.ones(2)))
expect("other_group", lambda: dist.all_reduce(cr.ones(2), group="g"))
expect("self_send", lambda: dist.send(cr.ones(2), dst=r))
info["errors"] = errors
dist.barrier()
dist.destroy_process_group()
info["initialized_after"] = dist.is_initialized()
np.savez(os.path.join(OUT, f"rank{r}.npz"), **res)
with open(os.path.join(OUT, f"rank{r}.json"), "w") as f:
    json.dump(info, f)
'''


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SRC, env.get("PYTHONPATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _launch(tmp_path, script, n, *, timeout=90, env=None, raw=False):
    """Run ``script`` on ``n`` ranks (through chainrule's launcher, or plain mpiexec when
    ``raw``); (completed process, seconds)."""
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    if raw:
        cmd = [MPIEXEC] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
        cmd += ["-n", str(n), sys.executable, str(path), str(out)]
    else:
        cmd = [sys.executable, "-m", "chainrule.distributed.run", "-n", str(n), str(path),
               str(out)]
    start = time.monotonic()
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                         env={**_env(), **(env or {})}, cwd=tmp_path)
    return run, time.monotonic() - start, out


def _inp(rank, dtype, shape=(3, 4), salt=0):
    a = np.random.default_rng(1000 * salt + rank).integers(-3, 4, size=shape)
    a[a == 0] = 1
    return a.astype(dtype)


def _reduce(xs, op, dtype):
    xs = np.stack(xs)
    if op == "SUM":
        return xs.sum(0).astype(dtype)
    if op == "AVG":
        s = xs.sum(0)
        if np.dtype(dtype).kind == "f":
            return (s / len(xs)).astype(dtype)
        return (np.abs(s) // len(xs) * np.sign(s)).astype(dtype)
    if op == "PRODUCT":
        return xs.prod(0).astype(dtype)
    return (xs.min(0) if op == "MIN" else xs.max(0)).astype(dtype)


def _close(got, want, dtype):
    assert got.dtype == np.dtype(dtype) and got.shape == want.shape, (got.dtype, got.shape)
    if np.dtype(dtype) == np.float32:
        np.testing.assert_allclose(got, want, rtol=1e-6)
    else:
        np.testing.assert_array_equal(got, want)


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_every_collective_every_op_and_dtype_against_numpy(tmp_path, n):
    run, _, out = _launch(tmp_path, COLLECTIVES, n)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    res = [dict(np.load(out / f"rank{r}.npz")) for r in range(n)]
    info = [json.loads((out / f"rank{r}.json").read_text()) for r in range(n)]
    for r in range(n):
        assert info[r]["rank"] == r and info[r]["world"] == n
        assert info[r]["initialized"] and not info[r]["initialized_after"]
        assert info[r]["backend"] == "mpi" and info[r]["world_group"]
    for dt in DTYPES:
        ins = [_inp(q, dt) for q in range(n)]
        for layout in ("c", "t"):
            for op in OPS:
                want = _reduce(ins, op, dt)
                for r in range(n):
                    _close(res[r][f"all_reduce-{dt}-{op}-{layout}"], want, dt)
                    # reduce: the result on dst only; the others keep their input
                    _close(res[r][f"reduce-{dt}-{op}-{layout}"], want if r == n - 1 else ins[r],
                           dt)
            for r in range(n):
                key = f"-{dt}-{layout}"
                _close(res[r]["broadcast" + key], ins[n - 1], dt)
                _close(res[r]["all_gather" + key], np.stack(ins), dt)
                _close(res[r]["all_gather_into_tensor" + key], np.concatenate(ins), dt)
                _close(res[r]["all_gather_into_tensor_stacked" + key], np.stack(ins), dt)
                for op in ("SUM", "AVG", "MAX"):
                    # rank r receives the reduction over ranks of their block r
                    want = _reduce([_inp(q, dt, salt=r + 1) for q in range(n)], op, dt)
                    _close(res[r][f"reduce_scatter-{dt}-{op}-{layout}"], want, dt)
                    _close(res[r][f"reduce_scatter_tensor-{dt}-{op}-{layout}"], want, dt)
                _close(res[r]["scatter" + key], _inp(n - 1, dt, salt=r + 1), dt)
                _close(res[r]["ring" + key], ins[(r - 1) % n], dt)
                assert info[r]["sender" + key] == (r - 1) % n
            _close(res[1 % n][f"gather-{dt}-{layout}"], np.stack(ins), dt)
            assert not any(f"gather-{dt}-{layout}" in res[r] for r in range(n) if r != 1 % n)
    for r in range(n):
        _close(res[r]["zero_d"], np.array(n * (n + 1) / 2, np.float32), "float32")
        assert res[r]["empty"].shape == (0, 3)
        np.testing.assert_array_equal(res[r]["bool"], [True, False])
        _close(res[r]["float16"], np.repeat(np.arange(n) + 0.5, 2).reshape(n, 2)
               .astype(np.float16), "float16")
        f64 = [[_inp(q, "float64", salt=k) for q in range(n)] for k in range(4)]
        _close(res[r]["async-0"], np.sum(f64[0], 0), "float64")
        _close(res[r]["async-1"], np.sum(f64[1], 0), "float64")
        _close(res[r]["async-2"], f64[2][0], "float64")
        _close(res[r]["async-3"], np.stack(f64[3]), "float64")
        assert info[r]["work_types"] == ["Work"]
        _close(res[r]["isend"], np.repeat([float(q) for q in range(n) if q != r], 2)
               .reshape(-1, 2).astype(np.float32), "float32")
        objs = info[r]["objects"]
        assert [o["rank"] for o in objs] == list(range(n))
        assert [o["x"] for o in objs] == [[0, q, 2 * q] for q in range(n)]
        assert {o["xdtype"] for o in objs} == {"chainrule.int64"}
        assert all(o["t"] == [1, 2.5, None] and o["is_tuple"] for o in objs)
        assert [o["7"] for o in objs] == [[True, "s" * q] for q in range(n)]
        assert [o["a"] for o in objs] == [[q, q] for q in range(n)]
        assert {o["adtype"] for o in objs} == {"float32"}
        assert info[r]["broadcast_object_list"] == [0.1, [[3.0, 3.0], [3.0, 3.0]], "cfg", "inf"]
        assert "all_gather_object: cannot send an object of type object" in \
            info[r]["object_error"]
        members = (0, n - 1)
        pair_sum = sum(_inp(q, "float64") for q in set(members))
        if r in members:
            assert info[r]["pair"] == [sorted(set(members)).index(r), len(set(members))]
            _close(res[r]["pair_all_reduce"], pair_sum, "float64")
            _close(res[r]["pair_broadcast"], _inp(n - 1, "int64"), "int64")
            _close(res[r]["pair_broadcast_group_src"], _inp(0, "int64"), "int64")
            assert info[r]["pair_objects"] == sorted(set(members))
            assert info[r]["pair_ranks"] == [0, n - 1] and info[r]["pair_global_of_1"] == n - 1
        else:   # outside the group: calls do nothing
            assert info[r]["pair"] == [-1, -1] and info[r]["pair_all_reduce"]
            _close(res[r]["pair_all_reduce"], _inp(r, "float64"), "float64")
            _close(res[r]["pair_broadcast"], _inp(r, "int64"), "int64")
            assert info[r]["pair_objects"] == []
        if r == n - 1:
            assert info[r]["pair_sender"] == 0
            _close(res[r]["pair_recv"], np.full(3, 5.0, np.float32), "float32")
        assert info[r]["solo"] == ([0, 1] if r == n - 1 else [-1, -1])
        _close(res[r]["solo"], np.ones(2, np.float32), "float32")
        if r in members:
            assert "group must be None, group.WORLD or a live group from new_group" in \
                info[r]["destroyed_group"]
        else:
            assert "destroyed_group" not in info[r]
        err = info[r]["errors"]
        assert err["twice"] == ["ValueError",
                                "trying to initialize the default process group twice!"]
        assert err["bad_op"][0] == "TypeError" and "must be a ReduceOp" in err["bad_op"][1]
        assert err["float_band"][0] == "TypeError" and "BAND needs an integer" in \
            err["float_band"][1]
        assert err["not_tensor"] == ["TypeError", "all_reduce: tensor must be a chainrule "
                                     "Tensor, got ndarray"]
        assert err["bad_src"] == ["ValueError", f"broadcast: src must be a rank in [0, {n - 1}], "
                                  f"got {n}"]
        assert err["short_list"][0] == "ValueError" and \
            f"list of world_size={n} tensors, got 1" in err["short_list"][1]
        assert err["bad_shape"][0] == "ValueError" and "has shape (3,)" in err["bad_shape"][1]
        assert err["into_size"][0] == "ValueError" and "world_size=" in err["into_size"][1]
        assert err["other_group"][0] == "ValueError" and "group must be None, group.WORLD" in \
            err["other_group"][1]
        assert err["self_send"][0] == "ValueError" and "same as the rank" in \
            err["self_send"][1]


# ------------------------------------------------------------------------------ faults
STALL = COMMON + '''
dist.init_process_group("mpi", timeout=timedelta(seconds=float(os.environ["T"])))
t = cr.ones(4)
dist.all_reduce(t)                      # both ranks arrive once
if dist.get_rank() == 1:
    time.sleep(60)                      # then rank 1 never reaches the next one
if os.environ["MODE"] == "work":
    dist.all_reduce(t, async_op=True).wait(timeout=timedelta(seconds=1))
else:
    dist.all_reduce(t)
'''

KILL = COMMON + '''
import signal
r = int(os.environ["OMPI_COMM_WORLD_RANK"])
# this rank's stderr into a file: Open MPI may end the job before it forwards the last lines
err = open(os.path.join(OUT, f"err{r}.txt"), "w")
os.dup2(err.fileno(), 2)
dist.init_process_group("mpi", timeout=timedelta(seconds=float(os.environ["T"])))
t = cr.ones(1000)
for i in range(100000):
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    if r == 1 and i == 20:
        os.kill(os.getpid(), signal.SIGKILL)
'''

NEVER = COMMON + '''
if int(os.environ["OMPI_COMM_WORLD_RANK"]) == 1:
    time.sleep(60)                      # never calls init_process_group
dist.init_process_group("mpi", timeout=timedelta(seconds=float(os.environ["T"])))
'''

ENV_MISMATCH = COMMON + '''
try:
    dist.init_process_group("mpi", timeout=timedelta(seconds=20))
except ValueError as e:
    print("ERR", e)
'''


def _one_line(stderr: str, needle: str) -> str:
    lines = [ln for ln in stderr.splitlines() if needle in ln]
    assert lines, stderr[-3000:]
    return lines[0]


@needs_mpi
@pytest.mark.parametrize("mode", ["blocking", "work"])
def test_a_rank_that_never_reaches_a_collective_times_out_with_one_line(tmp_path, mode):
    # blocking: the group's timeout (2 s); work: Work.wait(timeout=1 s) within a group of 60 s
    run, seconds, _ = _launch(tmp_path, STALL, 2, env={"T": "2" if mode == "blocking" else "60",
                                                       "MODE": mode})
    limit = 2 if mode == "blocking" else 1
    assert run.returncode != 0
    assert seconds < limit + 20, seconds
    line = _one_line(run.stderr, f"all_reduce: timed out after {limit} s on rank 0 of 2")
    assert line.startswith("chainrule.distributed.DistBackendError: all_reduce")
    assert line.endswith("every peer process is alive, so rank(s) 1 did not all reach this "
                         "collective (stuck, or calling a different one)"), line


@needs_mpi
def test_a_rank_that_never_starts_makes_init_fail_within_the_timeout(tmp_path):
    run, seconds, _ = _launch(tmp_path, NEVER, 2, env={"T": "2"})
    assert run.returncode != 0
    assert seconds < 2 + 20, seconds
    _one_line(run.stderr, "init_process_group: timed out after 2 s on rank 0 waiting for all "
                          "ranks to start MPI")


@needs_mpi
@pytest.mark.parametrize("raw", [False, True], ids=["launcher", "mpiexec"])
def test_a_killed_rank_is_named_and_the_others_exit_within_the_timeout(tmp_path, raw):
    start = time.time()
    run, seconds, out = _launch(tmp_path, KILL, 2, env={"T": "5"}, raw=raw)
    assert run.returncode != 0
    assert seconds < 5 + 20, seconds
    # rank 0 says which rank is gone: its liveness check saw the pid vanish, or Open MPI's
    # launcher ended the job with SIGTERM first
    line = _one_line((out / "err0.txt").read_text(), "rank 1 (pid ")
    assert line.startswith(("RuntimeError: chainrule.distributed: rank 0 of 2 stopped by the "
                            "MPI launcher (SIGTERM): rank 1 (pid",
                            "chainrule.distributed.DistBackendError: all_reduce: rank 1 (pid")), \
        line
    assert line.endswith("is gone (its process exited or was killed)"), line
    assert (out / "err0.txt").stat().st_mtime < start + 5 + 20
    if not raw:   # chainrule's launcher condenses Open MPI's notice into one line
        assert "prterun" not in run.stderr, run.stderr
        assert _one_line(run.stderr, "chainrule.distributed.run: rank 1 (pid").endswith(
            "was killed by signal 9 (Killed)")


def test_the_launcher_condenses_open_mpis_notices():
    import io
    text = ("hello\n" + "-" * 74 + "\nprterun noticed that process rank 1 with PID 4242 on node "
            "vm exited on\nsignal 9 (Killed).\n" + "-" * 74 + "\n" + "-" * 74 + "\nprterun "
            "detected that one or more processes exited with non-zero status,\nthus causing "
            "the job to be terminated. The first process to do so was:\n\n   Process name: "
            "[prterun-vm-2209@1,1]\n   Exit code:    3\n" + "-" * 74 + "\n" + "-" * 74 +
            "\nsomething else\n" + "-" * 74 + "\nbye\n")
    out = io.StringIO()
    _launcher._forward_stderr(io.StringIO(text), out)
    assert out.getvalue().splitlines() == [
        "hello", "chainrule.distributed.run: rank 1 (pid 4242) was killed by signal 9 (Killed)",
        "chainrule.distributed.run: rank 1 exited with status 3; the other ranks were stopped",
        "-" * 74, "something else", "-" * 74, "bye"]


@needs_mpi
@pytest.mark.parametrize("var,value", [("WORLD_SIZE", "4"), ("RANK", "5")])
def test_env_rank_and_world_size_must_agree_with_mpi(tmp_path, var, value):
    run, _, _ = _launch(tmp_path, ENV_MISMATCH, 2, env={var: value})
    assert run.returncode == 0, run.stderr[-3000:]
    errs = sorted(ln for ln in run.stdout.splitlines() if ln.startswith("ERR"))
    assert errs == [f"ERR init_process_group: environment variable {var} is {value}, but the "
                    f"MPI launcher gave this process rank {r} of world size 2; unset it or "
                    f"launch with matching values" for r in range(2)]


SINGLE = COMMON + '''
dist.init_process_group("mpi", timeout=timedelta(seconds=20))
t = cr.arange(4.0)
dist.all_reduce(t)
objs = [None]
dist.all_gather_object(objs, "solo")
print("ONE", dist.get_rank(), dist.get_world_size(), t.tolist(), objs)
'''


@needs_mpi
def test_a_script_run_without_a_launcher_is_a_world_of_one(tmp_path):
    path = tmp_path / "single.py"
    path.write_text(textwrap.dedent(SINGLE))
    run = subprocess.run([sys.executable, str(path), str(tmp_path)], capture_output=True,
                         text=True, timeout=60, env=_env(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ONE 0 1 [0.0, 1.0, 2.0, 3.0] ['solo']" in run.stdout


# ------------------------------------------------------------------------ without MPI jobs
def test_before_init_the_group_queries_raise_like_torch():
    assert not dist.is_initialized()
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier,
               lambda: dist.all_reduce(cr.ones(2))):
        with pytest.raises(ValueError, match="Default process group has not been initialized, "
                                             "please make sure to call init_process_group."):
            fn()
    assert dist.is_available() is HAVE_MPI


def test_init_refuses_other_backends_and_init_methods():
    with pytest.raises(ValueError, match="chainrule's only backend is 'mpi'.*got backend 'gloo'"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="init_method must be None or 'env://', got "
                                         "'tcp://127.0.0.1:23456'"):
        dist.init_process_group("mpi", init_method="tcp://127.0.0.1:23456")
    with pytest.raises(TypeError, match="timeout must be a datetime.timedelta"):
        dist.init_process_group("mpi", timeout="5")
    assert not dist.is_initialized()


def test_reduce_op_members_match_torch():
    names = {"SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"}
    assert {op.name for op in dist.ReduceOp} == names
    assert all(hasattr(torch.distributed.ReduceOp, n) for n in names)


def test_objects_round_trip_without_pickle_and_refuse_code():
    obj = {"a": [1, 2.5, float("nan"), None, True, "x"], 3: (cr.ones(2, 3), np.arange(4)),
           (1, "k"): {"deep": cr.tensor(2.0, requires_grad=True)}, "big": 2 ** 70}
    back = _objects.decode(_objects.encode(obj, "test"))
    assert back["a"][:2] == [1, 2.5] and np.isnan(back["a"][2]) and back["a"][3:] == [None, True,
                                                                                        "x"]
    assert isinstance(back[3], tuple) and back[3][0].shape == (2, 3)
    assert isinstance(back[3][0], cr.Tensor) and isinstance(back[3][1], np.ndarray)
    assert back[(1, "k")]["deep"].requires_grad and back["big"] == 2 ** 70


def test_objects_refuse_what_is_not_data():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    for bad, kind in ((Evil(), "Evil"), (print, "builtin_function_or_method"),
                      ({"k": {1, 2}}, "set")):
        with pytest.raises(TypeError, match=f"all_gather_object: cannot send an object of type "
                                            f"{kind} at obj"):
            _objects.encode(bad, "all_gather_object")


def test_launcher_command_line():
    cmd = _launcher.mpiexec_command(3, ["train.py", "--lr", "0.1"], mpiexec="/x/mpiexec")
    assert cmd[0] == "/x/mpiexec" and cmd[-4:] == [sys.executable, "train.py", "--lr", "0.1"]
    assert cmd[cmd.index("-n") + 1] == "3"
    assert ("--allow-run-as-root" in cmd) == (os.geteuid() == 0)
    assert ("--oversubscribe" in cmd) == (3 > os.cpu_count())
    assert "--oversubscribe" not in _launcher.mpiexec_command(1, ["a.py"], mpiexec="m")
    with pytest.raises(ValueError, match="launch: n must be a positive number of ranks, got 0"):
        _launcher.mpiexec_command(0, ["a.py"], mpiexec="m")
    with pytest.raises(ValueError, match="launch: give the script to run"):
        _launcher.mpiexec_command(2, [], mpiexec="m")


# ------------------------------------------------------------------------ DistributedSampler
@pytest.mark.parametrize("n,replicas", [(10, 3), (12, 4), (7, 2), (5, 8), (1, 2), (100, 7)])
@pytest.mark.parametrize("shuffle,drop_last", [(True, False), (True, True), (False, False),
                                               (False, True)])
def test_distributed_sampler_equals_torchs(n, replicas, shuffle, drop_last):
    data = list(range(n))
    for seed, epoch in ((0, 0), (3, 5)):
        for rank in range(replicas):
            ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=shuffle,
                                      seed=seed, drop_last=drop_last)
            theirs = torch.utils.data.DistributedSampler(data, num_replicas=replicas, rank=rank,
                                                         shuffle=shuffle, seed=seed,
                                                         drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs)
            assert (ours.num_samples, ours.total_size) == (theirs.num_samples,
                                                           theirs.total_size)


def test_distributed_sampler_in_a_dataloader_and_errors():
    from chainrule.utils.data import DataLoader, TensorDataset
    from chainrule.utils.data.distributed import DistributedSampler as Same
    assert Same is DistributedSampler
    ds = TensorDataset(cr.arange(10))
    s = DistributedSampler(ds, num_replicas=2, rank=1, seed=1)
    got = [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=s)]
    assert sum(got, []) == list(s)
    s.set_epoch(1)
    assert sum([b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=s)], []) == list(s)
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(ds, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(ds)
