"""Same seed, same numbers as PyTorch: every sampling function against torch (CPU) as the oracle.

After the same seed, chainrule and torch must give bit-identical arrays, and leave their
generators in the same state — compared as torch's 5056-byte state layout, which covers the
mt19937 words, the position in them, and the cached Box–Muller sample.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

SEEDS = [0, 1, 42, 2 ** 31, 2 ** 40 + 7]
SHAPES = [(), (1,), (5,), (15,), (16,), (17,), (4, 8), (3, 17, 5)]
DTYPES = [(cr.float32, torch.float32), (cr.float64, torch.float64)]


def same_bits(a, b) -> bool:
    a = a.numpy() if hasattr(a, "numpy") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return np.array_equal(np.ascontiguousarray(a).reshape(-1).view(np.uint8),
                          np.ascontiguousarray(b).reshape(-1).view(np.uint8))


def pair(seed):
    return cr.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)


def in_sync(g, tg) -> bool:
    return bytes(g.get_state().numpy()) == bytes(tg.get_state().numpy())


def check(g, tg, ours, theirs, what):
    assert same_bits(ours, theirs), what
    assert in_sync(g, tg), f"{what}: generator states differ after the call"


# ------------------------------------------------------------------------ the generator itself
@pytest.mark.parametrize("seed", SEEDS + [2 ** 64 - 1, -1])
def test_seeding_and_raw_draws_match(seed):
    g, tg = pair(seed)
    assert g.initial_seed() == tg.initial_seed()
    assert in_sync(g, tg)   # freshly seeded: the same bytes, "not yet twisted" included
    for _ in range(3):      # 32-bit draws (range < 2**28) and 64-bit draws (range >= 2**28)
        check(g, tg, cr.randint(0, 1000, (700,), generator=g),
              torch.randint(0, 1000, (700,), generator=tg), "randint 32-bit")
        check(g, tg, cr.randint(-2 ** 40, 2 ** 40, (3,), generator=g),
              torch.randint(-2 ** 40, 2 ** 40, (3,), generator=tg), "randint 64-bit")


def test_default_generator_and_functions():
    cr.manual_seed(123)
    torch.manual_seed(123)
    assert cr.initial_seed() == torch.initial_seed() == 123
    assert same_bits(cr.randn(20), torch.randn(20))
    assert bytes(cr.get_rng_state().numpy()) == bytes(torch.get_rng_state().numpy())
    state = cr.get_rng_state()
    a = cr.rand(7)
    cr.set_rng_state(state)
    assert same_bits(cr.rand(7), a)


def test_states_move_between_chainrule_and_torch():
    g, tg = pair(7)
    torch.randn(3, generator=tg)                 # scalar path: leaves a cached normal sample
    g.set_state(cr.tensor(tg.get_state().numpy()))
    assert in_sync(g, tg)
    check(g, tg, cr.randn(5, dtype=cr.float64, generator=g),
          torch.randn(5, dtype=torch.float64, generator=tg), "after a torch state")
    cr.rand(1000, generator=g)                   # and back: a chainrule state into torch
    tg.set_state(torch.from_numpy(g.get_state().numpy()))
    check(g, tg, cr.randn(3, generator=g), torch.randn(3, generator=tg), "after our state")
    for n in (624 * 2, 1):                       # a whole number of twists, then one more
        cr.randint(0, 10, (n,), generator=g)
        torch.randint(0, 10, (n,), generator=tg)
        assert in_sync(g, tg)


def test_generator_seed_clone_and_errors():
    g = cr.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    s = g.seed()
    assert g.initial_seed() == s
    tg = torch.Generator().manual_seed(s)
    check(g, tg, cr.rand(5, generator=g), torch.rand(5, generator=tg), "after seed()")
    c = g.clone_state()
    assert same_bits(cr.rand(4, generator=c), cr.rand(4, generator=g))
    with pytest.raises(ValueError, match=r"manual_seed: seed must be in \[-2\*\*63, 2\*\*64\)"):
        g.manual_seed(2 ** 64)
    with pytest.raises(TypeError, match="manual_seed: expected an integer seed, got float"):
        g.manual_seed(1.5)
    with pytest.raises(ValueError, match="expected a generator state of 5056 bytes"):
        g.set_state(cr.zeros(10, dtype=cr.uint8))
    bad = g.get_state().numpy().copy()
    bad[12] = 0                                  # "seeded" flag off, as torch rejects
    with pytest.raises(ValueError, match="invalid mt19937 state"):
        g.set_state(cr.tensor(bad))


def test_fresh_default_seed_per_process():
    code = "import chainrule as cr; print(cr.initial_seed(), cr.rand(2).tolist())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(outs) == 2


# ------------------------------------------------------------------------ floating-point fills
FILLS = {
    "uniform_": (lambda t, g: t.uniform_(generator=g), lambda t, g: t.uniform_(generator=g)),
    "uniform_(a, b)": (lambda t, g: t.uniform_(-0.3, 1.9, generator=g),
                       lambda t, g: t.uniform_(-0.3, 1.9, generator=g)),
    "normal_": (lambda t, g: t.normal_(generator=g), lambda t, g: t.normal_(generator=g)),
    "normal_(m, s)": (lambda t, g: t.normal_(0.5, 3.0, generator=g),
                      lambda t, g: t.normal_(0.5, 3.0, generator=g)),
    "exponential_": (lambda t, g: t.exponential_(2.5, generator=g),
                     lambda t, g: t.exponential_(2.5, generator=g)),
    "bernoulli_(p)": (lambda t, g: t.bernoulli_(0.3, generator=g),
                      lambda t, g: t.bernoulli_(0.3, generator=g)),
    "random_(from, to)": (lambda t, g: t.random_(-5, 7, generator=g),
                          lambda t, g: t.random_(-5, 7, generator=g)),
    "random_(to)": (lambda t, g: t.random_(9, generator=g), lambda t, g: t.random_(9, generator=g)),
    "random_()": (lambda t, g: t.random_(generator=g), lambda t, g: t.random_(generator=g)),
    "cauchy_": (lambda t, g: t.cauchy_(0.3, 2.0, generator=g),
                lambda t, g: t.cauchy_(0.3, 2.0, generator=g)),
    "log_normal_": (lambda t, g: t.log_normal_(0.2, 0.5, generator=g),
                    lambda t, g: t.log_normal_(0.2, 0.5, generator=g)),
    "geometric_": (lambda t, g: t.geometric_(0.3, generator=g),
                   lambda t, g: t.geometric_(0.3, generator=g)),
}


@pytest.mark.parametrize("name", list(FILLS))
@pytest.mark.parametrize("seed", SEEDS)
def test_in_place_fills_match_contiguous_and_not(name, seed):
    ours, theirs = FILLS[name]
    g, tg = pair(seed)
    for dt, tdt in DTYPES:
        for shape in SHAPES:
            t, tt = cr.empty(*shape, dtype=dt), torch.empty(shape, dtype=tdt)
            check(g, tg, ours(t, g), theirs(tt, tg), f"{name} {dt} {shape}")
        # non-contiguous: a transpose (filled in memory order), a strided slice, a permutation
        views = [(lambda x: x.t(), (5, 7)), (lambda x: x[:, ::2], (6, 9)),
                 (lambda x: x.permute(2, 0, 1), (3, 4, 5)), (lambda x: x.t(), (9, 40))]
        for view, shape in views:
            base, tbase = cr.zeros(*shape, dtype=dt), torch.zeros(shape, dtype=tdt)
            check(g, tg, ours(view(base), g), theirs(view(tbase), tg),
                  f"{name} {dt} view of {shape}")
            assert same_bits(base, tbase), f"{name}: the base buffer differs"


# ------------------------------------------------------------------------ creation functions
@pytest.mark.parametrize("seed", SEEDS)
def test_creation_functions_match(seed):
    g, tg = pair(seed)
    for dt, tdt in DTYPES:
        for shape in SHAPES:
            check(g, tg, cr.rand(*shape, dtype=dt, generator=g),
                  torch.rand(shape, dtype=tdt, generator=tg), f"rand {dt} {shape}")
            check(g, tg, cr.randn(*shape, dtype=dt, generator=g),
                  torch.randn(shape, dtype=tdt, generator=tg), f"randn {dt} {shape}")
            check(g, tg, cr.normal(0.5, 2.0, shape, dtype=dt, generator=g),
                  torch.normal(0.5, 2.0, shape, dtype=tdt, generator=tg), f"normal {shape}")
        check(g, tg, cr.randint(3, 10, (3, 17, 5), dtype=dt, generator=g),
              torch.randint(3, 10, (3, 17, 5), dtype=tdt, generator=tg), f"randint {dt}")
        mean = cr.linspace(-1, 1, 20, dtype=dt)
        std = cr.linspace(0.1, 2, 20, dtype=dt)
        tmean, tstd = torch.from_numpy(mean.numpy()), torch.from_numpy(std.numpy())
        check(g, tg, cr.normal(mean, std, generator=g), torch.normal(tmean, tstd, generator=tg),
              "normal(T, T)")
        check(g, tg, cr.normal(mean, 2.5, generator=g), torch.normal(tmean, 2.5, generator=tg),
              "normal(T, f)")
        check(g, tg, cr.normal(0.5, std[:5], generator=g),
              torch.normal(0.5, tstd[:5], generator=tg), "normal(f, T) below 16")
        # *_like keep the input's dense layout, as torch's empty_like
        x = cr.zeros(9, 40, dtype=dt).t()
        tx = torch.zeros(9, 40, dtype=tdt).t()
        for f, tf in [(cr.rand_like, torch.rand_like), (cr.randn_like, torch.randn_like)]:
            check(g, tg, f(x, generator=g), tf(tx, generator=tg), f"{f.__name__} {dt}")
        check(g, tg, cr.randint_like(x, 2, 9, generator=g),
              torch.randint_like(tx, 2, 9, generator=tg), "randint_like")
        p = cr.rand(3, 17, 5, dtype=dt, generator=g)
        tp = torch.rand((3, 17, 5), dtype=tdt, generator=tg)
        check(g, tg, cr.bernoulli(p, generator=g), torch.bernoulli(tp, generator=tg),
              f"bernoulli(p tensor) {dt}")
        check(g, tg, cr.bernoulli(p, 0.7, generator=g), torch.bernoulli(tp, 0.7, generator=tg),
              "bernoulli(input, p)")
        check(g, tg, cr.empty(3, 17, 5).bernoulli_(p, generator=g),
              torch.empty(3, 17, 5).bernoulli_(tp, generator=tg), "bernoulli_(p tensor)")


@pytest.mark.parametrize("seed", SEEDS)
def test_randperm_and_multinomial_match(seed):
    g, tg = pair(seed)
    for n in (0, 1, 2, 3, 16, 17, 100, 5000):
        check(g, tg, cr.randperm(n, generator=g), torch.randperm(n, generator=tg),
              f"randperm {n}")
    for dt, tdt in DTYPES:
        w = cr.rand(4, 30, dtype=dt, generator=g)
        tw = torch.rand((4, 30), dtype=tdt, generator=tg)
        w[:, 3] = 0                                   # a category that can never be drawn
        tw[:, 3] = 0
        for k, repl in [(1, False), (5, False), (30, False), (1, True), (50, True)]:
            check(g, tg, cr.multinomial(w, k, repl, generator=g),
                  torch.multinomial(tw, k, repl, generator=tg), f"multinomial {k} {repl} {dt}")
        check(g, tg, cr.multinomial(w[0], 7, True, generator=g),
              torch.multinomial(tw[0], 7, True, generator=tg), "multinomial 1-d")


def test_randperm_without_the_swap_loop_equals_the_loop():
    from chainrule import _rng, _sampling
    for seed, n in [(0, 2), (1, 50), (2, 3000)]:
        s = _rng.Stream(seed)
        draws = _rng.Stream(seed).random(n - 1)
        a = list(range(n))
        for i in range(n - 1):          # the reference: torch's loop, one swap per step
            j = i + int(draws[i]) % (n - i)
            a[i], a[j] = a[j], a[i]
        assert _sampling.randperm(s, n).tolist() == a


# ------------------------------------------------------------------------ dropout and init
@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.0101, 0.9])
def test_dropout_masks_match(p):
    x = np.abs(np.random.default_rng(0).standard_normal((4, 6, 5, 5))).astype(np.float32) + 0.1
    cr.manual_seed(3)
    torch.manual_seed(3)
    assert same_bits(cr.nn.functional.dropout(cr.tensor(x), p),
                     torch.nn.functional.dropout(torch.from_numpy(x), p))
    assert same_bits(cr.nn.functional.dropout2d(cr.tensor(x), p),
                     torch.nn.functional.dropout2d(torch.from_numpy(x), p))
    assert same_bits(cr.get_rng_state(), torch.get_rng_state())



def _u53_reference(seed, n):
    """The 53-bit uniforms of n 64-bit draws, as _u53 computes them (the float64 path that
    bernoulli and dropout compare against p without building since)."""
    from chainrule import _rng
    z = _rng.Stream(seed).random64(n)
    return (z & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0 ** -53


@pytest.mark.parametrize("seed", [0, 5])
def test_bernoulli_integer_threshold_is_the_uniform_comparison_at_its_boundaries(seed):
    from chainrule import _rng, _sampling
    n = 5000
    u = _u53_reference(seed, n)
    like = np.empty(n, np.float32)
    # p exactly at drawn values (u < p false there), one step of 2⁻⁵³ above and below (the
    # high words tie the threshold's), and the ends
    ps = [0.0, 1.0, 0.5, 0.3, 1 - 2.0 ** -53, 2.0 ** -53, 2.0 ** -60, 1e-300]
    for v in u[:20:4]:
        ps += [v, v + 2.0 ** -53, v - 2.0 ** -53, float(np.nextafter(v, 1)),
               float(np.nextafter(v, 0))]
    for p in ps:
        if not 0 <= p <= 1:
            continue
        want = (u < p).astype(np.float32)
        got = _sampling.bernoulli_scalar(_rng.Stream(seed), like, p)
        assert got.tobytes() == want.tobytes(), p
    # the stream moves on by n 64-bit draws, as torch's
    s, ref = _rng.Stream(seed), _rng.Stream(seed)
    _sampling.bernoulli_scalar(s, like, 0.4)
    ref.random64(n)
    assert s.get_state() == ref.get_state()


def test_random32_is_the_raw_32_bit_stream():
    from chainrule import _rng
    a, b = _rng.Stream(9), _rng.Stream(9)
    assert np.array_equal(a.random32(1001), b.random(1001))
    assert a.random32(3).dtype == np.uint32
    b.random(3)
    assert a.get_state() == b.get_state()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_dropout_large_and_transposed_masks_match(p, dtype):
    x = (np.abs(np.random.default_rng(1).standard_normal((64, 40, 33))) + 0.1).astype(dtype)
    for view in (lambda a: a, lambda a: a.permute(2, 0, 1)):
        cr.manual_seed(11)
        torch.manual_seed(11)
        assert same_bits(cr.nn.functional.dropout(view(cr.tensor(x)), p),
                         torch.nn.functional.dropout(view(torch.from_numpy(x)), p))
        t = view(torch.from_numpy(x)).clone()
        c = view(cr.tensor(x)).clone()
        assert same_bits(c.bernoulli_(p), t.bernoulli_(p))
        assert same_bits(cr.get_rng_state(), torch.get_rng_state())


INITS = [
    ("uniform_", lambda m, t, g: m.uniform_(t, -0.3, 0.7, generator=g)),
    ("normal_", lambda m, t, g: m.normal_(t, 0.1, 0.02, generator=g)),
    ("trunc_normal_", lambda m, t, g: m.trunc_normal_(t, std=0.02, generator=g)),
    ("trunc_normal_ wide", lambda m, t, g: m.trunc_normal_(t, 0.0, 1.0, -1.0, 1.0, generator=g)),
    ("trunc_normal_ narrow", lambda m, t, g: m.trunc_normal_(t, 0.0, 1.0, 1.5, 2.5, generator=g)),
    ("xavier_uniform_", lambda m, t, g: m.xavier_uniform_(t, gain=1.3, generator=g)),
    ("xavier_normal_", lambda m, t, g: m.xavier_normal_(t, generator=g)),
    ("kaiming_uniform_", lambda m, t, g: m.kaiming_uniform_(t, a=0.1, generator=g)),
    ("kaiming_normal_", lambda m, t, g: m.kaiming_normal_(t, mode="fan_out",
                                                          nonlinearity="relu", generator=g)),
]


@pytest.mark.parametrize("name, init", INITS, ids=[n for n, _ in INITS])
def test_init_functions_match(name, init):
    for seed in (0, 42):
        g, tg = pair(seed)
        for shape in [(7, 5), (16, 3, 3, 3), (64, 300)]:
            for dt, tdt in DTYPES:
                w, tw = cr.empty(*shape, dtype=dt), torch.empty(shape, dtype=tdt)
                init(cr.nn.init, w, g)
                init(torch.nn.init, tw, tg)
                check(g, tg, w, tw, f"{name} {shape} {dt}")


def test_orthogonal_and_sparse_draw_like_torch():
    g, tg = pair(5)
    w, tw = cr.empty(6, 10), torch.empty(6, 10)
    cr.nn.init.orthogonal_(w, generator=g)
    torch.nn.init.orthogonal_(tw, generator=tg)
    # the same Gaussian matrix; the QR comes from different LAPACKs, equal up to rounding
    np.testing.assert_allclose(w.numpy(), tw.numpy(), atol=1e-5)
    assert in_sync(g, tg)
    cr.manual_seed(1)
    torch.manual_seed(1)
    w, tw = cr.empty(10, 6), torch.empty(10, 6)
    assert same_bits(cr.nn.init.sparse_(w, 0.3), torch.nn.init.sparse_(tw, 0.3))
    assert same_bits(cr.get_rng_state(), torch.get_rng_state())


def _params(module):
    return {k: v.numpy() for k, v in module.state_dict().items()}


def _same_params(ours, theirs):
    a, b = _params(ours), {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert a.keys() == b.keys()
    for k in a:
        assert same_bits(a[k], b[k]), k


@pytest.mark.parametrize("make", [
    lambda nn: nn.Linear(20, 7), lambda nn: nn.Linear(3, 1, bias=False),
    lambda nn: nn.Conv2d(3, 8, 3, padding=1), lambda nn: nn.Conv2d(4, 6, (3, 5), groups=2),
    lambda nn: nn.BatchNorm2d(5), lambda nn: nn.Embedding(11, 4),
    lambda nn: nn.Embedding(11, 4, padding_idx=2)],
    ids=["linear", "linear-nobias", "conv2d", "conv2d-groups", "batchnorm2d", "embedding",
         "embedding-padding"])
def test_default_module_init_matches(make):
    cr.manual_seed(0)
    torch.manual_seed(0)
    _same_params(make(cr.nn), make(torch.nn))
    assert same_bits(cr.get_rng_state(), torch.get_rng_state())


# torch twins of chainrule.models, built in the same order (torch has no resnet20 or LeNet-5)
def _torch_lenet5():
    nn = torch.nn
    m = nn.Module()
    m.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
    m.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                                 nn.ReLU(), nn.Linear(84, 10))
    m.forward = lambda x: m.classifier(m.features(x))
    return m


def _torch_resnet20():
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                             nn.BatchNorm2d(cout))
                               if stride != 1 or cin != cout else None)

    m = nn.Module()
    m.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
    m.bn1 = nn.BatchNorm2d(16)
    m.relu = nn.ReLU(inplace=True)
    cin = 16
    for i, width in enumerate((16, 32, 64)):
        blocks = []
        for j in range(3):
            blocks.append(Block(cin, width, 2 if i and not j else 1))
            cin = width
        setattr(m, f"layer{i + 1}", nn.Sequential(*blocks))
    m.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    m.fc = nn.Linear(64, 10)
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
    return m


@pytest.mark.parametrize("ours, theirs", [
    (lambda: cr.models.LeNet5(), _torch_lenet5), (lambda: cr.models.resnet20(), _torch_resnet20)],
    ids=["lenet5", "resnet20"])
def test_model_init_matches_torch_twin(ours, theirs):
    cr.manual_seed(0)
    torch.manual_seed(0)
    _same_params(ours(), theirs())
    assert same_bits(cr.get_rng_state(), torch.get_rng_state())


# ------------------------------------------------------------------------ data pipeline
def test_dataloader_shuffling_and_random_split_match():
    x = np.arange(103, dtype=np.float32)[:, None]
    cr.manual_seed(0)
    torch.manual_seed(0)
    ours = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(cr.tensor(x)), 10, shuffle=True)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x)), 10,
                                         shuffle=True)
    for _ in range(2):
        a = [b[0].numpy().ravel().tolist() for b in ours]
        b = [b[0].numpy().ravel().tolist() for b in theirs]
        assert a == b
        assert same_bits(cr.get_rng_state(), torch.get_rng_state())
    g, tg = pair(4)    # an explicit generator: base seed and permutation both come from it
    ours = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(cr.tensor(x)), 10, shuffle=True,
                                    generator=g)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x)), 10,
                                         shuffle=True, generator=tg)
    for _ in range(2):
        assert [b[0].numpy().tolist() for b in ours] == [b[0].numpy().tolist() for b in theirs]
        assert in_sync(g, tg)
    sampler = cr.utils.data.RandomSampler(range(50), replacement=True, num_samples=70)
    tsampler = torch.utils.data.RandomSampler(range(50), replacement=True, num_samples=70)
    assert list(sampler) == list(tsampler)
    assert list(cr.utils.data.SubsetRandomSampler([5, 9, 2, 7])) == \
        list(torch.utils.data.SubsetRandomSampler([5, 9, 2, 7]))
    splits = cr.utils.data.random_split(range(30), [0.3, 0.3, 0.4])
    tsplits = torch.utils.data.random_split(range(30), [0.3, 0.3, 0.4])
    assert [list(s.indices) for s in splits] == [list(s.indices) for s in tsplits]
    assert same_bits(cr.get_rng_state(), torch.get_rng_state())


def test_lenet5_training_from_the_same_seed_gives_torch_losses():
    """No weights copied: the same seed builds the same LeNet-5 and the same shuffling, so 20 SGD
    steps give torch's losses up to float32 rounding of the forward and backward passes."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 80)
    cr.manual_seed(0)
    torch.manual_seed(0)
    model, tmodel = cr.models.LeNet5(), _torch_lenet5()
    opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.05, momentum=0.9)
    loader = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(cr.tensor(X), cr.tensor(y)),
                                      batch_size=8, shuffle=True)
    tloader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=8,
        shuffle=True)
    losses, tlosses = [], []
    for _ in range(2):   # 2 epochs × 10 batches
        for (xb, yb), (txb, tyb) in zip(loader, tloader):
            opt.zero_grad()
            loss = cr.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            topt.zero_grad()
            tloss = torch.nn.functional.cross_entropy(tmodel(txb), tyb)
            tloss.backward()
            topt.step()
            losses.append(loss.item())
            tlosses.append(tloss.item())
    assert len(losses) == 20
    np.testing.assert_allclose(losses, tlosses, rtol=1e-5)


def test_float16_fills_match():
    g, tg = pair(3)
    for shape in [(5,), (16,), (37,), (3, 17, 5)]:
        check(g, tg, cr.rand(*shape, dtype=cr.float16, generator=g),
              torch.rand(shape, dtype=torch.float16, generator=tg), f"rand half {shape}")
        check(g, tg, cr.empty(*shape, dtype=cr.float16).normal_(0.5, 2.0, generator=g),
              torch.empty(shape, dtype=torch.float16).normal_(0.5, 2.0, generator=tg),
              f"normal_ half {shape}")
