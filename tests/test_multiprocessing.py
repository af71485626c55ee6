"""chainrule.multiprocessing and shared tensors: one model updated in place by several
processes (Hogwild), under each start method, as torch.multiprocessing does."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.multiprocessing as mp


def _add_rank(rank, model, queue, done, lock):
    with lock, cr.no_grad():   # one read-modify-write at a time: racing ones may lose an update
        model.weight.add_(rank + 1)
    queue.put(cr.full((2,), float(rank)))
    done.wait()          # a sender stays alive until its tensor is received (as torch's)


def _fails(rank):
    if rank == 1:
        raise ValueError(f"worker {rank} failed")


def _write_ones(rank, tensor):
    tensor[rank] = 1.0


def test_share_memory_keeps_values_and_is_idempotent():
    x = cr.arange(12.).reshape(3, 4)
    assert not x.is_shared()
    data = x.share_memory_()._data
    assert x.is_shared() and x[1:].is_shared()
    np.testing.assert_array_equal(x.numpy(), np.arange(12.).reshape(3, 4))
    assert x.share_memory_()._data is data
    model = cr.nn.BatchNorm1d(3).share_memory()
    assert all(t.is_shared() for t in (*model.parameters(), *model.buffers()))
    assert torch.zeros(2).share_memory_().is_shared()      # torch's names, the same meaning


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_processes_update_one_model(method):
    model = cr.nn.Linear(3, 2)
    model.share_memory()       # needed under fork (args are inherited, not sent); as torch
    before = model.weight.detach().clone()
    ctx = mp.get_context(method)
    queue, done, lock = ctx.Queue(), ctx.Event(), ctx.Lock()
    workers = [ctx.Process(target=_add_rank, args=(r, model, queue, done, lock)) for r in range(2)]
    for p in workers:
        p.start()
    received = sorted(queue.get().tolist()[0] for _ in workers)
    done.set()
    for p in workers:
        p.join()
    assert received == [0.0, 1.0]
    np.testing.assert_allclose((model.weight - before).detach().numpy(), 3.0, rtol=1e-6)


def test_a_tensor_sent_to_a_process_is_shared_not_copied():
    x = cr.zeros(2)            # not shared yet: sending it moves it to shared memory
    mp.spawn(_write_ones, args=(x,), nprocs=2)
    assert x.is_shared() and x.tolist() == [1.0, 1.0]


def test_spawn_reports_a_workers_exception():
    with pytest.raises(mp.ProcessRaisedException, match="ValueError: worker 1 failed"):
        mp.spawn(_fails, nprocs=2)
    assert mp.spawn(_fails, nprocs=1) is None


def test_the_multiprocessing_api_is_there():
    for name in ("Process", "Queue", "Pool", "get_context", "set_start_method", "Event",
                 "spawn", "start_processes", "get_all_sharing_strategies"):
        assert hasattr(mp, name) and hasattr(torch.multiprocessing, name)
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    with pytest.raises(ValueError, match="set_sharing_strategy"):
        mp.set_sharing_strategy("bogus")
