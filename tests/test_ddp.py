"""DistributedDataParallel and SyncBatchNorm on real MPI jobs (2 ranks started with mpiexec).

Each job runs a script on both ranks; the ranks write their results to .npz files and the
checks run here. Every rank also trains a plain (undistributed) copy of the model on the whole
global batch, which is what one process would do: DDP on 2 ranks × 32 must give the same
losses and weights as that copy on 64.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import _launcher

torch = pytest.importorskip("torch")

SRC = str(Path(cr.__file__).resolve().parents[1])
try:
    MPIEXEC = _launcher.find_mpiexec()
except FileNotFoundError:
    MPIEXEC = None
pytestmark = pytest.mark.skipif(not (dist.is_available() and MPIEXEC),
                                reason="needs mpi4py and mpiexec (pip install chainrule[distributed])")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SRC, env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def _mpirun(tmp_path, script, n=2, timeout=120, args=(), name="job"):
    """Run ``script`` (given the output folder as argv[1], then ``args``) on ``n`` ranks; the
    output folder."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(script))
    out = tmp_path / f"out_{name}"
    out.mkdir(exist_ok=True)
    cmd = _launcher.mpiexec_command(n, [str(path), str(out), *args], mpiexec=MPIEXEC)
    if "--oversubscribe" not in cmd:
        cmd.insert(1, "--oversubscribe")
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(),
                         cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out


# ----------------------------------------------------------------------------- job 1
EQUIVALENCE = r'''
import copy, json, sys
import numpy as np
import chainrule as cr
import chainrule.distributed as dist
import chainrule.nn.functional as F
from chainrule.nn.parallel import DistributedDataParallel as DDP

out = sys.argv[1]
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
res = {}
rng = np.random.default_rng(7)


def train(make, dtype, shape, steps, lr=0.05, classes=10, sync_bn=False):
    """(DDP losses, DDP weights, plain losses, plain weights) over `steps` SGD steps."""
    cr.manual_seed(100 + rank)             # different on each rank: DDP broadcasts rank 0's
    model = make().to(dtype)
    cr.manual_seed(100)                    # the plain copy starts from rank 0's weights
    plain = make().to(dtype)
    ddp_model = cr.nn.SyncBatchNorm.convert_sync_batchnorm(model) if sync_bn else model
    ddp = DDP(ddp_model)
    opt = cr.optim.SGD(ddp.parameters(), lr=lr, momentum=0.9)
    popt = cr.optim.SGD(plain.parameters(), lr=lr, momentum=0.9)
    B = 64 // world
    losses, plosses = [], []
    for step in range(steps):
        X = cr.tensor(rng.standard_normal((64,) + shape)).to(dtype)
        Y = cr.tensor(rng.integers(0, classes, 64))
        opt.zero_grad()
        loss = F.cross_entropy(ddp(X[rank * B:(rank + 1) * B]), Y[rank * B:(rank + 1) * B])
        loss.backward()
        opt.step()
        # the loss of the global batch is the mean of the ranks' losses
        t = loss.detach().clone(); dist.all_reduce(t, op=dist.ReduceOp.AVG)
        losses.append(float(t))
        popt.zero_grad()
        ploss = F.cross_entropy(plain(X), Y)
        ploss.backward()
        popt.step()
        plosses.append(float(ploss))
    w = np.concatenate([v.numpy().ravel().astype(np.float64) for v in model.state_dict().values()])
    pw = np.concatenate([v.numpy().ravel().astype(np.float64) for v in plain.state_dict().values()])
    return losses, w, plosses, pw


def make_mlp():
    return cr.nn.Sequential(cr.nn.Linear(20, 64), cr.nn.ReLU(), cr.nn.Linear(64, 64),
                            cr.nn.ReLU(), cr.nn.Linear(64, 10))

for name, make, shape, steps, sync in [
        ("mlp", make_mlp, (20,), 20, False),
        ("lenet", cr.models.LeNet5, (1, 28, 28), 20, False),
        ("resnet20", lambda: cr.models.resnet20(num_classes=10, in_channels=3), (3, 8, 8), 3, True)]:
    for dtype in ((cr.float64, cr.float32) if name != "resnet20" else (cr.float64,)):
        l, w, pl, pw = train(make, dtype, shape, steps, sync_bn=sync)
        key = f"{name}_{str(dtype).split('.')[-1]}"
        np.savez(f"{out}/{key}_{rank}.npz", l=l, w=w, pl=pl, pw=pw)

# -- no_sync: two micro-batches per rank, the first without all-reduce
cr.manual_seed(3)
model = make_mlp().double()
plain = copy.deepcopy(model)
ddp = DDP(model)
X = cr.tensor(rng.standard_normal((64, 20))); Y = cr.tensor(rng.integers(0, 10, 64))
mine = X[rank * 32:(rank + 1) * 32], Y[rank * 32:(rank + 1) * 32]
with ddp.no_sync():
    F.cross_entropy(ddp(mine[0][:16]), mine[1][:16]).backward()
local = model[0].weight.grad.numpy().copy()
everyone = [None] * world
dist.all_gather_object(everyone, local)
res["no_sync_local_differs"] = bool(not np.allclose(everyone[0], everyone[1]))
F.cross_entropy(ddp(mine[0][16:]), mine[1][16:]).backward()
(2 * F.cross_entropy(plain(X), Y)).backward()
res["no_sync_err"] = max(float(np.abs(p.grad.numpy() - q.grad.numpy()).max())
                         for p, q in zip(model.parameters(), plain.parameters()))

# -- overlap: the first bucket's all-reduce starts before backward reaches the first layer
events = []
real = dist.all_reduce
def logged(tensor, *a, **k):
    events.append(("allreduce", int(tensor.numel())))
    return real(tensor, *a, **k)
dist.all_reduce = logged
model = make_mlp().double()
ddp = DDP(model, bucket_cap_mb=0.004)
res["buckets"] = [[int(p.numel()) for p in b.params] for b in ddp._buckets]
# the gradient of the first layer's output is ready just before that layer's backward runs
def probe(module, inputs, output):
    output.register_hook(lambda g: events.append(("first layer", 0)))
model[0].register_forward_hook(probe)
F.cross_entropy(ddp(mine[0]), mine[1]).backward()
dist.all_reduce = real
res["events"] = events
res["state_dict_keys"] = list(ddp.state_dict())
res["module_keys"] = list(model.state_dict())

# -- find_unused_parameters: rank 1 does not use `extra`; `never` is unused everywhere
class Branchy(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.extra, self.never = cr.nn.Linear(4, 2), cr.nn.Linear(4, 2), cr.nn.Linear(4, 2)
    def forward(self, x):
        y = self.body(x)
        return y + self.extra(x) if rank == 0 else y
cr.manual_seed(5)
b = Branchy().double()
ddp = DDP(b, find_unused_parameters=True)
x = cr.tensor(np.full((3, 4), 1.0 + rank))
ddp(x).sum().backward()
res["extra_grad"] = b.extra.weight.grad.numpy().tolist()
res["never_grad_is_none"] = b.never.weight.grad is None
res["body_grad"] = b.body.weight.grad.numpy().tolist()
ddp2 = DDP(Branchy().double())
try:
    ddp2(x).sum().backward()
    res["unused_error"] = ""
except RuntimeError as e:
    res["unused_error"] = str(e)

# -- SyncBatchNorm alone, on uneven shards: rank 0 has 3 samples, rank 1 has 5
bn = cr.nn.SyncBatchNorm(4, momentum=0.3).double()
with cr.no_grad():
    bn.weight.copy_(cr.tensor([1.0, 2.0, -1.0, 0.5])); bn.bias.copy_(cr.tensor([0.0, 1.0, 2.0, 3.0]))
xs = np.random.default_rng(11).standard_normal((8, 4, 3, 2)) * 3 + 1
gs = np.random.default_rng(12).standard_normal((8, 4, 3, 2))
part = slice(0, 3) if rank == 0 else slice(3, 8)
x = cr.tensor(xs[part], requires_grad=True)
y = bn(x)
y.backward(cr.tensor(gs[part]))
np.savez(f"{out}/syncbn_{rank}.npz", y=y.detach().numpy(), gx=x.grad.numpy(),
         gw=bn.weight.grad.numpy(), gb=bn.bias.grad.numpy(), rm=bn.running_mean.numpy(),
         rv=bn.running_var.numpy(), xs=xs, gs=gs)
bn.eval()
np.save(f"{out}/syncbn_eval_{rank}.npy", bn(cr.tensor(xs[part])).detach().numpy())

# -- errors
for kwargs, mod in (({"device_ids": [0]}, cr.nn.Linear(2, 2)), ({}, cr.nn.Linear(2, 2).requires_grad_(False)),
                    ({}, "not a module")):
    try:
        DDP(mod, **kwargs)
        res.setdefault("errors", []).append(None)
    except (ValueError, RuntimeError, TypeError) as e:
        res.setdefault("errors", []).append([type(e).__name__, str(e)])

with open(f"{out}/res_{rank}.json", "w") as f:
    json.dump(res, f)
'''


@pytest.fixture(scope="module")
def job1(tmp_path_factory):
    return _mpirun(tmp_path_factory.mktemp("ddp"), EQUIVALENCE)


def _res(out, rank):
    return json.loads((out / f"res_{rank}.json").read_text())


@pytest.mark.parametrize("key,rtol", [("mlp_float64", 1e-10), ("mlp_float32", 1e-5),
                                      ("lenet_float64", 1e-10), ("lenet_float32", 1e-5),
                                      ("resnet20_float64", 1e-9)])
def test_ddp_on_two_ranks_equals_one_process_on_the_whole_batch(job1, key, rtol):
    r0, r1 = (np.load(job1 / f"{key}_{r}.npz") for r in (0, 1))
    np.testing.assert_array_equal(r0["w"], r1["w"])          # replicas stay identical
    np.testing.assert_allclose(r0["l"], r0["pl"], rtol=rtol)
    np.testing.assert_allclose(r0["w"], r0["pw"], rtol=rtol, atol=rtol)
    assert len(r0["l"]) == (3 if key.startswith("resnet") else 20)
    assert r0["l"][-1] != r0["l"][0]                           # it did train


def test_no_sync_accumulates_locally_then_averages_the_sum(job1):
    for rank in (0, 1):
        res = _res(job1, rank)
        assert res["no_sync_local_differs"]
        assert res["no_sync_err"] < 1e-12


def test_first_bucket_is_all_reduced_before_backward_reaches_the_first_layer(job1):
    res = _res(job1, 0)
    # reverse registration order: the last layer's bias and weight come first
    assert res["buckets"][0] == [10, 640]
    assert res["buckets"] == [[10, 640], [64, 4096], [64, 1280]]
    names = [e[0] for e in res["events"]]
    assert names.count("allreduce") == len(res["buckets"])
    first_layer = names.index("first layer")
    assert names.index("allreduce") < first_layer
    assert names[first_layer + 1:] == ["allreduce"]            # only the first layer's bucket after
    assert res["events"][0] == ["allreduce", 650]


def test_state_dict_keys_carry_the_module_prefix(job1):
    res = _res(job1, 0)
    assert res["state_dict_keys"] == ["module." + k for k in res["module_keys"]]
    assert res["state_dict_keys"][:2] == ["module.0.weight", "module.0.bias"]


def test_find_unused_parameters(job1):
    r0, r1 = _res(job1, 0), _res(job1, 1)
    # `extra` is used on rank 0 only (gradient 3 × x = 3 per entry): the average is 1.5 on both
    assert r0["extra_grad"] == r1["extra_grad"] == [[1.5] * 4] * 2
    assert r0["never_grad_is_none"] and r1["never_grad_is_none"]
    # `body` sees x = 1 on rank 0 and x = 2 on rank 1: mean of 3 and 6
    assert r0["body_grad"] == r1["body_grad"] == [[4.5] * 4] * 2
    for r in (r0, r1):
        assert "find_unused_parameters=True" in r["unused_error"]
        assert "never.weight" in r["unused_error"]


def test_sync_batchnorm_equals_torch_batchnorm_on_the_concatenated_batch(job1):
    r0, r1 = (np.load(job1 / f"syncbn_{r}.npz") for r in (0, 1))
    xs, gs = r0["xs"], r0["gs"]
    bn = torch.nn.BatchNorm2d(4, momentum=0.3).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 2.0, -1.0, 0.5]))
        bn.bias.copy_(torch.tensor([0.0, 1.0, 2.0, 3.0]))
    x = torch.tensor(xs, requires_grad=True)
    y = bn(x)
    y.backward(torch.tensor(gs))
    np.testing.assert_allclose(np.concatenate([r0["y"], r1["y"]]), y.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([r0["gx"], r1["gx"]]), x.grad.numpy(), rtol=1e-9, atol=1e-12)
    # γ̄, β̄ are per rank (DDP averages them): their sum is torch's
    np.testing.assert_allclose(r0["gw"] + r1["gw"], bn.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(r0["gb"] + r1["gb"], bn.bias.grad.numpy(), rtol=1e-10)
    for r in (r0, r1):
        np.testing.assert_allclose(r["rm"], bn.running_mean.numpy(), rtol=1e-10)
        np.testing.assert_allclose(r["rv"], bn.running_var.numpy(), rtol=1e-10)
    bn.eval()
    ev = bn(torch.tensor(xs)).detach().numpy()
    np.testing.assert_allclose(np.load(job1 / "syncbn_eval_0.npy"), ev[:3], rtol=1e-10)
    np.testing.assert_allclose(np.load(job1 / "syncbn_eval_1.npy"), ev[3:], rtol=1e-10)


def test_ddp_argument_errors_as_torch(job1):
    errors = _res(job1, 0)["errors"]
    assert errors[0][0] == "ValueError" and "device_ids" in errors[0][1]
    assert errors[1] == ["RuntimeError", "DistributedDataParallel is not needed when a module "
                         "doesn't have any parameter that requires a gradient."]
    assert errors[2][0] == "TypeError" and "str" in errors[2][1]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sync_batchnorm_without_a_process_group_is_batchnorm(dtype):
    """No process group here (pytest's own process): SyncBatchNorm is BatchNorm, as torch's
    in evaluation or with one rank; convert_sync_batchnorm keeps the state_dict."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5)).astype(dtype)
    ours = cr.nn.SyncBatchNorm(3, momentum=0.2).to(getattr(cr, dtype))
    ref = torch.nn.BatchNorm1d(3, momentum=0.2).to(getattr(torch, dtype))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = ours(xc), ref(xt)
    (yc * yc).sum().backward()
    (yt * yt).sum().backward()
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.running_var.numpy(), ref.running_var.numpy(), rtol=tol)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        ours(cr.ones(3))
    model = cr.nn.Sequential(cr.nn.Conv2d(1, 2, 3), cr.nn.BatchNorm2d(2), cr.nn.ReLU(),
                             cr.nn.Sequential(cr.nn.BatchNorm2d(2)))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    synced = cr.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(synced[1], cr.nn.SyncBatchNorm) and isinstance(synced[3][0], cr.nn.SyncBatchNorm)
    after = synced.state_dict()
    assert list(after) == list(before)
    assert all(np.array_equal(after[k].numpy(), before[k]) for k in before)
    tm = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                            torch.nn.Sequential(torch.nn.BatchNorm2d(2))))
    assert list(tm.state_dict()) == list(after)


# ----------------------------------------------------------------------------- job 2
TRAINER = r"""
import sys
import numpy as np
import chainrule as cr
import chainrule.distributed as dist
from chainrule.train import ModelCheckpoint, Trainer
from chainrule.utils.data import DataLoader, TensorDataset

out, mode, ckdir = sys.argv[1], sys.argv[2], sys.argv[3]
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(0)
X = cr.tensor(rng.standard_normal((96, 6)))
Y = cr.tensor(rng.integers(0, 3, 96))
cr.manual_seed(1)
model = cr.nn.Sequential(cr.nn.Linear(6, 16), cr.nn.Tanh(), cr.nn.Linear(16, 3)).double()
opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
# a DataLoader's batch_size is per rank under DDP: the global batch is 32
loader = DataLoader(TensorDataset(X, Y), batch_size=32 // world, shuffle=True,
                    generator=cr.Generator().manual_seed(5))
ckpt = ModelCheckpoint(ckdir + "/epoch{epoch}.npz") if mode == "full" else ModelCheckpoint(out + "/again{epoch}.npz")
trainer = Trainer(model, cr.nn.CrossEntropyLoss(), opt, metrics=["accuracy"], callbacks=[ckpt],
                  progress=False)
assert trainer.distributed and trainer.world_size == world
resume = ckdir + "/epoch1.npz" if mode == "resume" else None
history = trainer.fit(loader, epochs=3, resume=resume)
np.savez(f"{out}/final_{rank}.npz", w=np.concatenate([v.numpy().ravel() for v in model.state_dict().values()]),
         loss=np.array(history["loss"]), acc=np.array(history["accuracy"]),
         keys=np.array(list(trainer.state_dict()["model"])))
"""


def test_trainer_checkpoint_of_a_two_rank_run_resumes_on_one_and_two_ranks(tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir()
    full = _mpirun(tmp_path, TRAINER, 2, args=("full", str(ck)), name="full")
    assert sorted(p.name for p in ck.iterdir()) == ["epoch1.npz", "epoch2.npz", "epoch3.npz"]
    two = _mpirun(tmp_path, TRAINER, 2, args=("resume", str(ck)), name="two")
    one = _mpirun(tmp_path, TRAINER, 1, args=("resume", str(ck)), name="one")
    f0, f1 = np.load(full / "final_0.npz"), np.load(full / "final_1.npz")
    np.testing.assert_array_equal(f0["w"], f1["w"])
    assert list(f0["keys"])[0] == "0.weight"          # the bare model's keys, no "module."
    t0 = np.load(two / "final_0.npz")
    np.testing.assert_array_equal(t0["w"], f0["w"])   # resumed on 2 ranks: bit-identical
    np.testing.assert_array_equal(t0["loss"], f0["loss"])
    o0 = np.load(one / "final_0.npz")                 # on 1 rank: the same global batches
    np.testing.assert_allclose(o0["w"], f0["w"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(o0["loss"], f0["loss"], rtol=1e-10)
    np.testing.assert_allclose(o0["acc"], f0["acc"])
    assert len(f0["loss"]) == 3 and f0["loss"][2] < f0["loss"][0]


# ----------------------------------------------------------------------------- the CLI
def _cli(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=_env())


def test_cli_train_on_two_ranks_writes_one_run_folder_and_resumes(tmp_path):
    run = tmp_path / "run"
    common = ("--model", "mlp", "--dataset", "iris", "--batch-size", "16", "--no-figures",
              "--quiet")
    done = _cli("train", "--nproc", "2", "--epochs", "2", "--out", run, *common)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test metrics") == 1             # rank 0 alone prints
    hist = json.loads((run / "history.json").read_text())
    assert hist["epoch"] == [1, 2]
    assert json.loads((run / "config.json").read_text())["batch_size"] == "16"   # global
    # continue the run to 3 epochs on 2 ranks: the first two epochs are kept as they were
    config = json.loads((run / "config.json").read_text())
    config["epochs"] = 3
    (run / "config.json").write_text(json.dumps(config))
    again = _cli("train", "--resume", run, "--nproc", "2", "--quiet", "--no-figures")
    assert again.returncode == 0, again.stderr[-3000:]
    hist3 = json.loads((run / "history.json").read_text())
    assert hist3["epoch"] == [1, 2, 3] and hist3["loss"][:2] == hist["loss"]


def test_cli_nproc_errors():
    bad = _cli("train", "--nproc", "2", "--batch-size", "15", "--epochs", "1", "--model", "mlp",
               "--dataset", "iris", "--out", "/tmp/never-written-ddp")
    assert bad.returncode == 2
    assert "--batch-size 15 does not split over --nproc 2 ranks" in bad.stderr
    zero = _cli("train", "--nproc", "0", "--epochs", "1")
    assert zero.returncode == 2 and "--nproc must be a positive number of ranks" in zero.stderr


def test_cli_run_experiment_on_two_ranks(tmp_path):
    out = tmp_path / "exp"                  # the example shipped in the package, by name
    done = _cli("run", "iris_mlp", "--nproc", "2", "--epochs", "2", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("5-fold CV") == 1               # rank 0 alone prints
    results = json.loads((out / "results.json").read_text())
    assert len(results["folds"]) == 5 and "accuracy" in results["test"]
    assert json.loads((out / "history.json").read_text())["epoch"] == [1, 2]


NAN = r"""
import sys
import numpy as np
import chainrule as cr
import chainrule.distributed as dist
from chainrule.train import NonFiniteError, Trainer
from chainrule.utils.data import DataLoader, TensorDataset

out = sys.argv[1]
dist.init_process_group("mpi")
rank = dist.get_rank()
X = np.ones((8, 3, 2, 2))
X[0, 0, 0, 0] = np.nan                     # sample 0: on rank 0's shard only (no shuffle)
for sync in (True, False):
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Conv2d(3, 4, 1), cr.nn.BatchNorm2d(4), cr.nn.Flatten(),
                             cr.nn.Linear(16, 2)).double()
    if sync:
        model = cr.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    trainer = Trainer(model, cr.nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1),
                      progress=False)
    loader = DataLoader(TensorDataset(cr.tensor(X), cr.zeros(8, dtype=cr.int64)), batch_size=2)
    try:
        trainer.fit(loader, epochs=1)
        message = "no error"
    except NonFiniteError as e:
        message = str(e)
    open(f"{out}/msg_{rank}_{sync}.txt", "w").write(message)
"""


def test_a_non_finite_loss_on_one_rank_stops_every_rank_at_the_same_step(tmp_path):
    out = _mpirun(tmp_path, NAN, 2, name="nan", timeout=90)
    m0, m1 = ((out / f"msg_{r}_True.txt").read_text() for r in (0, 1))
    # SyncBatchNorm spreads rank 0's NaN into both ranks' statistics: both diagnose it
    assert "step 1" in m0 and "step 1" in m1
    assert "input batch contains NaN/Inf" in m0
    assert "NaN/Inf first appeared in the output of layer '1' (SyncBatchNorm)" in m1
    m0, m1 = ((out / f"msg_{r}_False.txt").read_text() for r in (0, 1))
    # BatchNorm: rank 1's loss is finite, and it stops too, naming rank 0
    assert "input batch contains NaN/Inf" in m0 and "step 1" in m0
    assert "non-finite loss on rank(s) 0 at epoch 1, step 1" in m1 and "this is rank 1" in m1
