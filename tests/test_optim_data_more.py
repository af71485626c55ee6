"""The long tail of optim, lr_scheduler, nn.init and utils.data against torch: Rprop, SGDR and
chained schedules (same weights and learning rates step by step), dirac_ and the deprecated
init names, WeightedRandomSampler's draws, StackDataset and ChainDataset."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr


def train(lib, make_opt, make_sched=None, steps=12, epochs=None):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    opt = make_opt(lib, model.parameters())
    sched = make_sched(lib, opt) if make_sched else None
    x = lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3).astype(np.float32))
    lrs = []
    for i in range(steps):
        loss = (model(x) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step() if epochs is None else sched.step(epochs[i])
        lrs.append(opt.param_groups[0]["lr"])
    return model.weight.detach().numpy(), lrs


RUNS = [
    ("rprop", lambda l, p: l.optim.Rprop(p, lr=0.05), None),
    ("rprop_options", lambda l, p: l.optim.Rprop(p, lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2),
                                                 maximize=True), None),
    ("warm_restarts", lambda l, p: l.optim.SGD(p, lr=0.1),
     lambda l, o: l.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 2, 0.01)),
    ("chained", lambda l, p: l.optim.SGD(p, lr=0.1),
     lambda l, o: l.optim.lr_scheduler.ChainedScheduler([l.optim.lr_scheduler.ConstantLR(o, 0.5, 4),
                                                          l.optim.lr_scheduler.ExponentialLR(o, 0.9)])),
]


@pytest.mark.parametrize("name, make_opt, make_sched", RUNS, ids=[r[0] for r in RUNS])
def test_optimizer_and_schedule_match_torch(name, make_opt, make_sched):
    mine, theirs = train(cr, make_opt, make_sched), train(torch, make_opt, make_sched)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-12)


def test_warm_restarts_with_fractional_epochs_match_torch():
    epochs = [0.5, 1.0, 1.5, 2.25, 3.0, 5.5, 7.0, 9.75, 10.0, 20.5]
    make = lambda l, o: l.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 2, 3, 0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = train(cr, lambda l, p: l.optim.SGD(p, lr=0.1), make, len(epochs), epochs)[1]
        theirs = train(torch, lambda l, p: l.optim.SGD(p, lr=0.1), make, len(epochs), epochs)[1]
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_rprop_state_and_errors():
    p = cr.nn.Parameter(cr.ones(3))
    opt = cr.optim.Rprop([p])
    p.grad = cr.ones(3)
    opt.step()
    assert sorted(opt.state[p]) == ["prev", "step", "step_size"]
    with pytest.raises(ValueError, match="eta"):
        cr.optim.Rprop([p], etas=(1.5, 1.2))
    with pytest.raises(ValueError, match="T_0"):
        cr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 0)
    with pytest.raises(ValueError, match="at least one"):
        cr.optim.lr_scheduler.ChainedScheduler([])


@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 1), ((6, 2, 3, 3), 2), ((2, 4, 3, 3, 3), 1)])
def test_dirac_matches_torch(shape, groups):
    mine = cr.nn.init.dirac_(cr.empty(*shape), groups)
    theirs = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_deprecated_init_names_warn_and_draw_the_same_numbers():
    for name in ("uniform", "normal", "xavier_uniform", "kaiming_normal", "orthogonal", "eye"):
        cr.manual_seed(1)
        torch.manual_seed(1)
        with pytest.warns(FutureWarning, match=f"nn.init.{name}_"):
            mine = getattr(cr.nn.init, name)(cr.empty(3, 4))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(torch.nn.init, name)(torch.empty(3, 4))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
    with pytest.warns(FutureWarning, match="nn.init.dirac_"):
        mine = cr.nn.init.dirac(cr.empty(4, 2, 3))
    np.testing.assert_array_equal(mine.numpy(), torch.nn.init.dirac_(torch.empty(4, 2, 3)).numpy())


@pytest.mark.parametrize("weights, n, replacement", [([0.1, 0.9, 0.4, 0.0, 2.0], 12, True),
                                                     ([1.0, 2.0, 3.0, 4.0], 3, False)])
def test_weighted_random_sampler_draws_torchs_indices(weights, n, replacement):
    def draws(lib, generator):
        lib.manual_seed(0)
        g = lib.Generator().manual_seed(5) if generator else None
        sampler = lib.utils.data.WeightedRandomSampler(weights, n, replacement, generator=g)
        return list(sampler), list(sampler), lib.rand(1).item(), len(sampler)
    for generator in (False, True):
        assert draws(cr, generator) == draws(torch, generator)


def test_weighted_sampler_in_a_dataloader_and_errors():
    ds = cr.utils.data.TensorDataset(cr.arange(5))
    sampler = cr.utils.data.WeightedRandomSampler([0, 0, 1, 0, 0], 4)
    assert [b[0].tolist() for b in cr.utils.data.DataLoader(ds, batch_size=2, sampler=sampler)] == [[2, 2], [2, 2]]
    with pytest.raises(ValueError, match="num_samples"):
        cr.utils.data.WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="1d sequence"):
        cr.utils.data.WeightedRandomSampler([[1.0]], 1)


def test_stack_and_chain_datasets_like_torch():
    for lib in (cr, torch):
        data = lib.utils.data
        stacked = data.StackDataset(data.TensorDataset(lib.arange(3)), [10, 11, 12])
        named = data.StackDataset(x=[1, 2], y=["a", "b"])
        assert len(stacked) == 3 and stacked[1][1] == 11 and int(stacked[1][0][0]) == 1
        assert named[1] == {"x": 2, "y": "b"}
        with pytest.raises(ValueError, match="Size mismatch"):
            data.StackDataset([1], [1, 2])

        class Count(data.IterableDataset):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                return iter(range(self.n))

            def __len__(self):
                return self.n
        chain = data.ChainDataset([Count(2), Count(3)])
        assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
        assert data.get_worker_info() is None
