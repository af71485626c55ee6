"""Fixes found by porting user scripts (tests/ports/p13+): each case runs the same code with
torch and with chainrule and compares values, gradients, printouts and error types.

What the ports found missing or different, by section below: ``chainrule.distributions``
(REINFORCE / actor-critic / VAE scripts failed at import); ``func.functional_call`` and
``stack_module_state``, ``grad`` over a dict of parameters (per-sample gradients, ensembles,
MAML); ``autograd.grad`` over ``params.values()``; DataLoader workers (random augmentation,
``worker_init_fn``, sharded ``IterableDataset``, ``persistent_workers``); ``optim.swa_utils``;
``linspace`` one ulp off torch's; ``F.affine_grid`` / ``F.grid_sample``; ``retain_grad`` before
``register_hook``; ``utils.checkpoint``; ``SiLU``/``Mish`` reprs; ``return_types`` printing;
``set_float32_matmul_precision``, ``random.fork_rng``; ``autograd.Function`` with several
outputs; ``MultivariateNormal``; torch's top-level nn functions; calls of old scripts."""
import importlib
import math
import random
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.fixture(autouse=True)
def _torch_validates_distributions():
    """torch.compile (another test's port) turns torch's distribution validation off for the
    whole process; these comparisons need torch's default, on."""
    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(before)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(a, b, rtol=1e-5, atol=1e-6):
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (a.dtype, b.dtype)
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _both(fn):
    """fn(lib) run with torch and with chainrule, the global generator seeded alike."""
    torch.manual_seed(0)
    theirs = fn(torch)
    cr.manual_seed(0)
    mine = fn(cr)
    return mine, theirs


# ------------------------------------------------------------------------------ Normal
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_sample_rsample_log_prob_entropy_cdf_match_torch(dtype):
    loc = np.array([[0.0, 1.5, -2.0]], dtype)
    scale = np.array([[1.0], [0.5]], dtype)

    def run(lib):
        mu = lib.tensor(loc, requires_grad=True)
        sigma = lib.tensor(scale, requires_grad=True)
        d = lib.distributions.Normal(mu, sigma)
        s = d.sample((4,))
        r = d.rsample()
        lp = d.log_prob(r)
        (lp.sum() + d.entropy().sum() + d.cdf(r).sum()).backward()
        return (s, r, lp, d.entropy(), d.cdf(r), d.icdf(lib.full_like(r.detach(), 0.3)),
                d.mean, d.stddev, d.variance, mu.grad, sigma.grad,
                tuple(d.batch_shape), tuple(d.event_shape), s.requires_grad, r.requires_grad)
    mine, theirs = _both(run)
    for a, b in zip(mine[:11], theirs[:11]):
        _same(a, b)
    assert mine[11:] == theirs[11:]


def test_normal_of_python_numbers_is_a_scalar_distribution():
    mine, theirs = _both(lambda lib: lib.distributions.Normal(0.0, 2.0))
    assert tuple(mine.batch_shape) == tuple(theirs.batch_shape) == ()
    assert mine.loc.dtype == cr.float32
    _same(mine.log_prob(cr.tensor(1.0)), theirs.log_prob(torch.tensor(1.0)))
    _same(mine.sample((3,)), theirs.sample((3,)))
    assert repr(mine) == repr(theirs).replace("torch", "chainrule")


def test_normal_expand_and_independent_diagonal_gaussian():
    def run(lib):
        D = lib.distributions
        base = D.Normal(lib.zeros(3), lib.ones(3)).expand((2, 3))
        ind = D.Independent(base, 1)
        x = lib.arange(6.).view(2, 3) / 4
        return (ind.log_prob(x), ind.entropy(), tuple(ind.batch_shape), tuple(ind.event_shape),
                ind.rsample((5,)).shape, repr(ind).replace("torch.", "chainrule."))
    mine, theirs = _both(run)
    _same(mine[0], theirs[0])
    _same(mine[1], theirs[1])
    assert (mine[2], mine[3], tuple(mine[4])) == (theirs[2], theirs[3], tuple(theirs[4])) == ((2,), (3,), (5, 2, 3))
    assert mine[5] == theirs[5]


# ------------------------------------------------------------------------- Categorical
def test_categorical_probs_and_logits_sample_log_prob_entropy_match_torch():
    probs = np.array([[0.2, 0.5, 0.3], [0.0, 0.25, 0.75]], np.float32)

    def run(lib):
        p = lib.tensor(probs * 2, requires_grad=True)     # unnormalised weights
        logits = lib.tensor(np.log(probs + 0.1), requires_grad=True)
        d1 = lib.distributions.Categorical(probs=p)
        d2 = lib.distributions.Categorical(logits=logits)
        a = d1.sample()
        b = d2.sample((3, 2))
        lp = d1.log_prob(lib.tensor([1, 2])) + d2.log_prob(lib.tensor([0, 2]))
        ent = d1.entropy() + d2.entropy()
        (lp.sum() + ent.sum()).backward()
        return (a, b, lp, ent, d1.probs, d2.logits, d2.probs, d1.mode, p.grad, logits.grad,
                d1.enumerate_support(), d1.perplexity())
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


def test_categorical_batched_log_prob_broadcasts_values_like_torch():
    def run(lib):
        d = lib.distributions.Categorical(logits=lib.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 0.3]]))
        return d.log_prob(lib.tensor([[0], [2], [1]])), d.sample((4,)).shape, d.mean, d.variance
    mine, theirs = _both(run)
    _same(mine[0], theirs[0])
    assert tuple(mine[1]) == tuple(theirs[1])
    assert mine[2].shape == theirs[2].shape and np.isnan(_np(mine[2])).all()


def test_one_hot_categorical_matches_torch():
    def run(lib):
        d = lib.distributions.OneHotCategorical(probs=lib.tensor([0.1, 0.6, 0.3]))
        s = d.sample((4,))
        return s, d.log_prob(s), d.entropy(), d.mode, d.enumerate_support(), d.variance
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


# --------------------------------------------------------------------- Bernoulli, Uniform
def test_bernoulli_probs_logits_sample_log_prob_entropy_match_torch():
    def run(lib):
        p = lib.tensor([0.1, 0.5, 0.9], requires_grad=True)
        logits = lib.tensor([-2.0, 0.0, 3.0], requires_grad=True)
        d1, d2 = lib.distributions.Bernoulli(probs=p), lib.distributions.Bernoulli(logits=logits)
        s = d1.sample((2,))
        lp = d1.log_prob(s) + d2.log_prob(lib.tensor([1.0, 0.0, 1.0]))
        (lp.sum() + d1.entropy().sum() + d2.entropy().sum()).backward()
        return (s, lp, d1.entropy(), d2.probs, d1.logits, d1.variance, p.grad, logits.grad,
                lib.distributions.Bernoulli(0.3).sample((3,)))
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


def test_uniform_rsample_log_prob_outside_support_and_cdf_match_torch():
    def run(lib):
        low = lib.tensor([0.0, -1.0], requires_grad=True)
        high = lib.tensor([2.0, 1.0], requires_grad=True)
        d = lib.distributions.Uniform(low, high)
        r = d.rsample((3,))
        r.sum().backward()
        off = lib.distributions.Uniform(low, high, validate_args=False)
        return (r, d.log_prob(lib.tensor([0.5, 0.5])), off.log_prob(lib.tensor([3.0, 0.0])),
                d.cdf(lib.tensor([1.0, 0.0])), d.entropy(), d.mean, d.stddev, low.grad, high.grad)
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


# ---------------------------------------------------------------------------------- KL
def test_kl_divergence_closed_forms_match_torch():
    def run(lib):
        D = lib.distributions
        n1 = D.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0]))
        n2 = D.Normal(lib.tensor([0.5, -1.0]), lib.tensor([0.7, 1.0]))
        c1 = D.Categorical(probs=lib.tensor([0.2, 0.8, 0.0]))
        c2 = D.Categorical(probs=lib.tensor([0.5, 0.25, 0.25]))
        b1, b2 = D.Bernoulli(lib.tensor([0.3, 0.0])), D.Bernoulli(lib.tensor([0.6, 0.5]))
        u1, u2 = D.Uniform(0.0, 1.0), D.Uniform(-1.0, 2.0)
        return (D.kl_divergence(n1, n2), D.kl_divergence(c1, c2), D.kl_divergence(c2, c1),
                D.kl_divergence(b1, b2), D.kl_divergence(u1, u2), D.kl_divergence(u2, u1),
                D.kl_divergence(D.Independent(n1, 1), D.Independent(n2, 1)))
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


def test_kl_divergence_gradient_matches_torch_in_a_vae_loss():
    def run(lib):
        mu = lib.tensor([[0.3, -0.2], [1.0, 0.5]], requires_grad=True)
        logvar = lib.tensor([[0.1, -0.4], [0.0, 0.2]], requires_grad=True)
        q = lib.distributions.Normal(mu, (0.5 * logvar).exp())
        p = lib.distributions.Normal(lib.zeros_like(mu), lib.ones_like(mu))
        kl = lib.distributions.kl_divergence(q, p).sum()
        kl.backward()
        return kl, mu.grad, logvar.grad
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


def test_kl_divergence_of_multivariate_normals_and_normal_uniform_pairs_matches_torch():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3, 3))
    cov_p = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    b = rng.standard_normal((3, 3))
    cov_q, mu_p, mu_q = b @ b.T + 3 * np.eye(3), rng.standard_normal((2, 3)), rng.standard_normal(3)

    def run(lib):
        D = lib.distributions
        C = lib.tensor(cov_p, requires_grad=True)
        M = lib.tensor(mu_q, requires_grad=True)
        p = D.MultivariateNormal(lib.tensor(mu_p), covariance_matrix=C)
        q = D.MultivariateNormal(M, scale_tril=lib.linalg.cholesky(lib.tensor(cov_q)))
        kl = D.kl_divergence(p, q)
        kl.sum().backward()
        n = D.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0]))
        u = D.Uniform(lib.tensor([-1.0, 0.0]), lib.tensor([1.0, 3.0]))
        return kl, C.grad, M.grad, D.kl_divergence(n, u), D.kl_divergence(u, n)
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


def test_register_kl_dispatches_to_the_most_specific_pair():
    class MyNormal(cr.distributions.Normal):
        pass

    @cr.distributions.register_kl(MyNormal, cr.distributions.Normal)
    def _mine(p, q):
        return cr.tensor(42.0)
    a, b = MyNormal(0.0, 1.0), cr.distributions.Normal(0.0, 1.0)
    assert cr.distributions.kl_divergence(a, b).item() == 42.0
    assert cr.distributions.kl_divergence(b, a).item() == 0.0     # falls back to Normal-Normal


# --------------------------------------------------------------------------- error paths
def _raises_like_torch(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as mine:
        fn(cr)
    return str(mine.value), str(theirs.value)


def test_invalid_parameters_raise_value_error_like_torch():
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.Normal(lib.zeros(2), -lib.ones(2)))
    assert mine.splitlines()[0] == theirs.splitlines()[0].replace("torch", "chainrule")
    assert "GreaterThan(lower_bound=0.0)" in mine
    _raises_like_torch(lambda lib: lib.distributions.Categorical(probs=lib.tensor([-0.5, 1.5])))
    _raises_like_torch(lambda lib: lib.distributions.Bernoulli(lib.tensor([1.5])))
    _raises_like_torch(lambda lib: lib.distributions.Uniform(1.0, 0.0))
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.Categorical())
    assert mine == theirs
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.Categorical(lib.tensor(0.5)))
    assert mine == theirs


def test_values_outside_the_support_or_shape_raise_value_error_like_torch():
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.Categorical(logits=lib.zeros(3)).log_prob(lib.tensor(3)))
    assert mine.split(" of the distribution")[0] == theirs.split(" of the distribution")[0]
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.Bernoulli(lib.tensor(0.5)).log_prob(lib.tensor(0.5)))
    assert "Boolean()" in mine
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)))
    assert mine == theirs.replace("torch", "chainrule")
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(0.5))
    assert mine == theirs
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.kl_divergence(lib.distributions.Normal(0.0, 1.0),
                                                    lib.distributions.Categorical(lib.ones(2))))
    assert mine == theirs


def test_validate_args_false_skips_the_checks():
    d = cr.distributions.Normal(cr.zeros(2), -cr.ones(2), validate_args=False)
    t = torch.distributions.Normal(torch.zeros(2), -torch.ones(2), validate_args=False)
    _same(d.log_prob(cr.ones(2)), t.log_prob(torch.ones(2)))


def test_constraints_check_and_repr_match_torch():
    def run(lib):
        C = lib.distributions.constraints
        v = lib.tensor([[0.2, 0.8], [0.5, 0.6]])
        return ([C.simplex.check(v), C.real_vector.check(v), C.positive.check(v - 0.5),
                 C.unit_interval.check(v * 2), C.integer_interval(0, 3).check(lib.tensor([0., 1.5, 3., 4.])),
                 C.boolean.check(lib.tensor([0., 1., 2.])), C.one_hot.check(lib.tensor([[0., 1.], [1., 1.]]))],
                [repr(c) for c in (C.simplex, C.real_vector, C.positive, C.unit_interval,
                                   C.integer_interval(0, 3), C.less_than(2.0), C.boolean)])
    mine, theirs = _both(run)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b)
    assert mine[1] == theirs[1]


def test_reinforce_step_matches_torch():
    """The pytorch/examples REINFORCE update: sample actions, sum −log π(a)·R, step."""
    def run(lib):
        lib.manual_seed(3)
        policy = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2),
                                   lib.nn.Softmax(dim=1))
        opt = lib.optim.Adam(policy.parameters(), lr=1e-2)
        states = lib.randn(6, 4)
        m = lib.distributions.Categorical(policy(states))
        actions = m.sample()
        returns = lib.linspace(1.0, -1.0, 6)
        loss = (-m.log_prob(actions) * returns).sum() - 0.01 * m.entropy().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return actions, loss.detach(), policy[0].weight.detach()
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)
    assert math.isfinite(mine[1].item())


# ------------------------------------------------------- torch.func.functional_call & co.
# (per-sample gradients, model ensembling and MAML scripts import these; they were missing,
# and grad/vmap refused a dict of parameters)
def _mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))


def test_functional_call_uses_the_given_tensors_and_restores_the_module():
    def run(lib):
        model = _mlp(lib)
        x = lib.randn(5, 3)
        before = model(x)
        params = {k: v.detach() * 2 for k, v in model.named_parameters()}
        out = lib.func.functional_call(model, params, (x,))
        partial = lib.func.functional_call(model, {"2.bias": lib.ones(2)}, x)
        return out, partial, model(x) - before, type(model[0].weight).__name__
    mine, theirs = _both(run)
    for a, b in zip(mine[:3], theirs[:3]):
        _same(a, b)
    assert mine[3] == theirs[3] == "Parameter"


def test_per_sample_gradients_with_vmap_of_grad_over_a_params_dict_match_torch():
    def run(lib):
        model = _mlp(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}
        x, t = lib.randn(6, 3), lib.tensor([0, 1, 1, 0, 1, 0])

        def loss(p, sample, target):
            out = lib.func.functional_call(model, p, (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))
        per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x, t)
        whole = lib.func.grad(loss)(params, x[0], t[0])
        return per_sample, whole
    mine, theirs = _both(run)
    for part in (0, 1):
        assert list(mine[part]) == list(theirs[part])
        for k in theirs[part]:
            _same(mine[part][k], theirs[part][k])


def test_grad_of_a_tuple_argument_returns_a_tuple_like_torch():
    def run(lib):
        f = lambda xy, z: (xy[0] * xy[1] * z).sum()
        x, y, z = lib.tensor([1.0, 2.0]), lib.tensor([3.0, -1.0]), lib.tensor(2.0)
        g = lib.func.grad(f)((x, y), z)
        g2 = lib.func.grad(f, argnums=(0, 1))((x, y), z)
        return g, g2
    mine, theirs = _both(run)
    assert isinstance(mine[0], tuple) and len(mine[0]) == 2
    for a, b in zip(mine[0] + (mine[1][1],), theirs[0] + (theirs[1][1],)):
        _same(a, b)


def test_maml_inner_step_through_functional_call_matches_torch():
    """Second-order MAML: adapted = θ − α∇L(θ) (create_graph), outer loss through them."""
    def run(lib):
        model = _mlp(lib)
        x, y = lib.randn(4, 3), lib.randn(4, 2)
        params = dict(model.named_parameters())
        inner = lib.nn.functional.mse_loss(lib.func.functional_call(model, params, (x,)), y)
        grads = lib.autograd.grad(inner, list(params.values()), create_graph=True)
        adapted = {k: v - 0.1 * g for (k, v), g in zip(params.items(), grads)}
        outer = lib.nn.functional.mse_loss(lib.func.functional_call(model, adapted, (x,)), y)
        outer.backward()
        return outer, model[0].weight.grad, model[2].bias.grad
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


def test_stack_module_state_ensemble_under_vmap_matches_torch():
    def run(lib):
        lib.manual_seed(1)
        models = [lib.nn.Linear(3, 2) for _ in range(3)]
        params, buffers = lib.func.stack_module_state(models)
        x = lib.randn(4, 3)
        out = lib.func.vmap(lambda p, b, xx: lib.func.functional_call(models[0], (p, b), (xx,)),
                            in_dims=(0, 0, None))(params, buffers, x)
        return out, params["weight"].shape, params["weight"].requires_grad, params["weight"].is_leaf
    mine, theirs = _both(run)
    _same(mine[0], theirs[0])
    assert (tuple(mine[1]), mine[2], mine[3]) == (tuple(theirs[1]), theirs[2], theirs[3])


def test_functional_call_ties_weights_like_torch():
    def run(lib):
        lib.manual_seed(0)
        emb = lib.nn.Embedding(5, 3)
        head = lib.nn.Linear(3, 5, bias=False)
        head.weight = emb.weight
        model = lib.nn.Sequential(emb, head)
        out = lib.func.functional_call(model, {"0.weight": lib.ones(5, 3)}, (lib.tensor([1, 2]),))
        untied = lib.func.functional_call(model, {"0.weight": lib.ones(5, 3)}, (lib.tensor([1, 2]),),
                                          tie_weights=False)
        return out, untied
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


def test_functional_call_errors_match_torch():
    def strict(lib):
        lib.func.functional_call(_mlp(lib), {"0.weight": lib.ones(4, 3)}, (lib.ones(1, 3),), strict=True)

    def repeated(lib):
        m = _mlp(lib)
        lib.func.functional_call(m, ({"0.bias": lib.ones(4)}, {"0.bias": lib.ones(4)}), (lib.ones(1, 3),))

    def empty(lib):
        lib.func.stack_module_state([])
    mine, theirs = _raises_like_torch(strict)
    assert "Missing key(s)" in mine and "Missing key(s)" in theirs
    _raises_like_torch(repeated)
    mine, theirs = _raises_like_torch(empty)
    assert mine == theirs


def test_autograd_grad_takes_any_iterable_of_inputs_like_torch():
    """``torch.autograd.grad(loss, params.values())`` (MAML scripts) and generators of inputs
    and outputs: chainrule took only lists and tuples and raised 'input 0 does not require grad'."""
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        params = dict(model.named_parameters())
        loss = model(lib.randn(4, 3)).pow(2).sum()
        g1 = lib.autograd.grad(loss, params.values(), retain_graph=True)
        g2 = lib.autograd.grad((o for o in [loss]), (p for p in model.parameters()), retain_graph=True)
        g3 = lib.autograd.grad(loss, params["bias"])
        return g1 + g2 + g3
    mine, theirs = _both(run)
    assert len(mine) == len(theirs) == 5
    for a, b in zip(mine, theirs):
        _same(a, b)


# --------------------------------------------------------- DataLoader workers (num_workers > 0)
# torch's workers have their own random states (seeded base_seed + id), call worker_init_fn,
# answer get_worker_info() and iterate their own copy of an IterableDataset. chainrule ignored
# all of it (loading in the main process with the main generator): random augmentations, the
# worker_init_fn seeding recipe, sharded iterable datasets and persistent_workers all gave other
# batches, and the main generator ended elsewhere. Now the workers are emulated in-process.


def _noisy_dataset(lib):
    class Noisy(lib.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return (lib.tensor(float(i)) + lib.rand(()), int(np.random.randint(0, 1000)),
                    random.randint(0, 1000))
    return Noisy()


def _loader_rows(loader, epochs=1):
    return [[(x.tolist(), a.tolist(), b.tolist()) for x, a, b in loader] for _ in range(epochs)]


def _both_seeded(fn):
    """fn(lib) with torch then chainrule, each from the same global torch/NumPy/random seeds."""
    out = []
    for lib in (torch, cr):
        lib.manual_seed(0)
        np.random.seed(0)
        random.seed(0)
        out.append(fn(lib))
    return out[1], out[0]


def _flat(x):
    return [v for item in x for v in _flat(item)] if isinstance(x, (list, tuple)) else [x]


def _close(mine, theirs):
    assert len(_flat(mine)) == len(_flat(theirs))
    np.testing.assert_allclose(np.asarray(_flat(mine), dtype=float),
                               np.asarray(_flat(theirs), dtype=float), rtol=1e-6, atol=1e-6)


def test_random_augmentation_in_workers_matches_torch_and_spares_the_main_generator():
    def run(lib):
        loader = lib.utils.data.DataLoader(_noisy_dataset(lib), batch_size=3, num_workers=2)
        rows = _loader_rows(loader)
        return rows, lib.rand(3).tolist(), int(np.random.randint(0, 10**6)), random.random()
    with pytest.warns(UserWarning, match="emulates the workers"):
        mine, theirs = _both_seeded(run)
    assert [[r[1:] for r in e] for e in mine[0]] == [[r[1:] for r in e] for e in theirs[0]]
    _close([[r[0] for r in e] for e in mine[0]], [[r[0] for r in e] for e in theirs[0]])
    _close(mine[1], theirs[1])
    assert mine[2:] == theirs[2:]


def test_worker_init_fn_seeding_recipe_and_worker_info_match_torch():
    """The reproducibility recipe of torch's docs: seed NumPy and random from
    torch.initial_seed() in worker_init_fn, shuffle with a seeded generator."""
    def run(lib):
        infos = []

        def seed_worker(worker_id):
            info = lib.utils.data.get_worker_info()
            infos.append((worker_id, info.id, info.num_workers, info.seed == lib.initial_seed()))
            worker_seed = lib.initial_seed() % 2 ** 32
            np.random.seed(worker_seed)
            random.seed(worker_seed)
        g = lib.Generator().manual_seed(0)
        loader = lib.utils.data.DataLoader(_noisy_dataset(lib), batch_size=3, num_workers=3,
                                           worker_init_fn=seed_worker, generator=g, shuffle=True)
        rows = _loader_rows(loader, epochs=2)
        return rows, lib.utils.data.get_worker_info(), lib.rand(2).tolist()
    mine, theirs = _both_seeded(run)
    assert [[r[1:] for r in e] for e in mine[0]] == [[r[1:] for r in e] for e in theirs[0]]
    _close([[v for r in e for v in r[0]] for e in mine[0]], [[v for r in e for v in r[0]] for e in theirs[0]])
    assert mine[1] is None and theirs[1] is None
    _close(mine[2], theirs[2])


def test_persistent_workers_keep_their_state_across_epochs_like_torch():
    def run(lib):
        loader = lib.utils.data.DataLoader(_noisy_dataset(lib), batch_size=4, shuffle=True,
                                           num_workers=2, persistent_workers=True)
        rows = _loader_rows(loader, epochs=3)
        return rows, lib.rand(2).tolist()
    mine, theirs = _both_seeded(run)
    assert [[r[1:] for r in e] for e in mine[0]] == [[r[1:] for r in e] for e in theirs[0]]
    _close([[v for r in e for v in r[0]] for e in mine[0]], [[v for r in e for v in r[0]] for e in theirs[0]])
    _close(mine[1], theirs[1])


def test_iterable_dataset_per_worker_streams_interleave_like_torch():
    def run(lib):
        class Shards(lib.utils.data.IterableDataset):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                info = lib.utils.data.get_worker_info()
                if info is None:
                    return iter(range(self.n))
                return iter(range(info.id, self.n, info.num_workers * 2 - info.id))

        class Naive(lib.utils.data.IterableDataset):   # no sharding: each worker yields it all
            def __iter__(self):
                info = lib.utils.data.get_worker_info()
                for _ in range(3):
                    yield (info.id if info else -1), lib.randint(0, 100, ()).item()

        DL = lib.utils.data.DataLoader
        return ([b.tolist() for b in DL(Shards(11), batch_size=2, num_workers=3)],
                [b.tolist() for b in DL(Shards(11), batch_size=2, num_workers=3, drop_last=True)],
                [int(b) for b in DL(Shards(7), batch_size=None, num_workers=2)],
                [tuple(int(t) for t in s) for s in DL(Naive(), batch_size=None, num_workers=2)],
                [[t.tolist() for t in s] for s in DL(Naive(), batch_size=2, num_workers=2)],
                lib.rand(1).item())
    mine, theirs = _both_seeded(run)
    assert mine[:5] == theirs[:5]
    _close(mine[5], theirs[5])


def test_worker_options_without_workers_raise_value_error_like_torch():
    def persistent(lib):
        lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.ones(3)), persistent_workers=True)

    def prefetch(lib):
        lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.ones(3)), prefetch_factor=2)
    for fn in (persistent, prefetch):
        mine, theirs = _raises_like_torch(fn)
        assert mine == theirs


def test_worker_init_fn_runs_once_per_worker_on_the_tensor_dataset_fast_path():
    calls = []
    ds = cr.utils.data.TensorDataset(cr.arange(10.))
    loader = cr.utils.data.DataLoader(ds, batch_size=2, num_workers=3, persistent_workers=True,
                                      worker_init_fn=lambda w: calls.append((w, cr.initial_seed())))
    first = [b[0].tolist() for b in loader]
    second = [b[0].tolist() for b in loader]
    assert first == second == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0]]
    base = loader._base_seed
    assert calls == [(0, base), (1, base + 1), (2, base + 2)]


# -------------------------------------------------------------- torch.optim.swa_utils
# (SWA / EMA training scripts import AveragedModel, SWALR, update_bn; the module was missing)
def _swa_run(lib, **averaged_kwargs):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                              lib.nn.Linear(4, 1))
    averaged = lib.optim.swa_utils.AveragedModel(model, **averaged_kwargs)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x, y = lib.randn(8, 3), lib.randn(8, 1)
    for _ in range(4):
        opt.zero_grad()
        lib.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        averaged.update_parameters(model)
    averaged.eval()
    return ([p.detach() for p in averaged.parameters()] + [b.detach() for b in averaged.buffers()]
            + [averaged(x).detach()])


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema", "use_buffers", "swa_buffers", "swa_multi"])
def test_averaged_model_matches_torch(kind):
    def run(lib):
        su = lib.optim.swa_utils
        kwargs = {"swa": {}, "ema_multi": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9)},
                  "ema": {"avg_fn": su.get_ema_avg_fn(0.8)},
                  "use_buffers": {"use_buffers": True, "multi_avg_fn": su.get_ema_multi_avg_fn(0.5)},
                  "swa_buffers": {"use_buffers": True},
                  "swa_multi": {"multi_avg_fn": su.get_swa_multi_avg_fn()}}[kind]
        return _swa_run(lib, **kwargs)
    mine, theirs = _both(run)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        _same(a, b)


@pytest.mark.parametrize("strategy,anneal", [("cos", 3), ("linear", 2), ("cos", 0)])
def test_swalr_schedule_matches_torch(strategy, anneal):
    def run(lib):
        model = lib.nn.Linear(2, 1)
        opt = lib.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.5}], lr=1.0)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.1], anneal_epochs=anneal,
                                          anneal_strategy=strategy)
        lrs = [sched.get_last_lr()]
        for _ in range(5):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        state = sched.state_dict()
        return lrs, sorted(k for k in state if not k.startswith("_")), state["anneal_epochs"]
    mine, theirs = _both(run)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-12)
    assert mine[2] == theirs[2]
    assert set(theirs[1]) <= set(mine[1]) | {"_get_lr_called_within_step"}


def test_update_bn_recomputes_running_statistics_like_torch():
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4, momentum=0.3))
        data = lib.utils.data.TensorDataset(lib.randn(10, 3), lib.randn(10))
        model.eval()
        lib.optim.swa_utils.update_bn(lib.utils.data.DataLoader(data, batch_size=4), model)
        bn = model[1]
        return bn.running_mean, bn.running_var, bn.num_batches_tracked, bn.momentum, model.training
    mine, theirs = _both(run)
    for a, b in zip(mine[:3], theirs[:3]):
        _same(a, b)
    assert mine[3:] == theirs[3:] == (0.3, False)


def test_swa_utils_errors_match_torch():
    mine, theirs = _raises_like_torch(lambda lib: lib.optim.swa_utils.SWALR(
        lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1), swa_lr=0.01, anneal_strategy="exp"))
    assert mine == theirs
    mine, theirs = _raises_like_torch(lambda lib: lib.optim.swa_utils.SWALR(
        lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1), swa_lr=0.01, anneal_epochs=-1))
    assert mine == theirs
    mine, theirs = _raises_like_torch(lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(1.5))
    assert mine == theirs


# ------------------------------------------------------------------------- linspace
def test_linspace_is_bit_identical_to_torch():
    """torch rounds each half with a fused multiply-add from its own end; chainrule's
    float64 np.linspace rounded to float32 differed by an ulp, which moved points sampled at
    pixel centres across a cell border (the spatial-transformer tutorial's gradients)."""
    for dtype in ("float32", "float64"):
        for a, b in [(-1, 1), (0, 1), (-3.14159, 3.14159), (2.5, -7.25), (1e-3, 5.0)]:
            for n in [0, 1, 2, 3, 7, 12, 31, 32, 33, 100, 161, 500, 4096]:
                theirs = torch.linspace(a, b, n, dtype=getattr(torch, dtype)).numpy()
                mine = cr.linspace(a, b, n, dtype=getattr(cr, dtype)).numpy()
                assert mine.dtype == theirs.dtype
                np.testing.assert_array_equal(mine, theirs, err_msg=f"{dtype} {a} {b} {n}")


# ----------------------------------------------------------- affine_grid / grid_sample
# (the spatial transformer tutorial; both were missing)
@pytest.mark.parametrize("mode,padding,align", [
    ("bilinear", "zeros", False), ("bilinear", "border", True), ("bilinear", "reflection", False),
    ("nearest", "zeros", True), ("nearest", "reflection", False), ("bicubic", "zeros", False),
    ("bicubic", "border", True), ("bicubic", "reflection", False)])
def test_grid_sample_4d_values_and_gradients_match_torch(mode, padding, align):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    g = (rng.standard_normal((2, 3, 4, 2)) * 0.8).astype(np.float32)
    g[0, 0, 0] = [1.7, -1.3]                  # outside [-1, 1]: the padding mode matters
    out = []
    for lib in (torch, cr):
        xi, gi = lib.tensor(x, requires_grad=True), lib.tensor(g, requires_grad=True)
        y = lib.nn.functional.grid_sample(xi, gi, mode=mode, padding_mode=padding, align_corners=align)
        (y * lib.linspace(-1, 1, y.numel()).reshape(y.shape)).sum().backward()
        out.append((y, xi.grad, gi.grad))
    for a, b in zip(out[1], out[0]):
        _same(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode,padding", [("bilinear", "zeros"), ("bilinear", "reflection"),
                                          ("nearest", "border")])
def test_grid_sample_5d_matches_torch(mode, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 3, 4, 5))
    g = rng.standard_normal((1, 2, 3, 2, 3)) * 0.9
    out = []
    for lib in (torch, cr):
        xi, gi = lib.tensor(x, requires_grad=True), lib.tensor(g, requires_grad=True)
        y = lib.nn.functional.grid_sample(xi, gi, mode=mode, padding_mode=padding, align_corners=False)
        y.pow(2).sum().backward()
        out.append((y, xi.grad, gi.grad))
    for a, b in zip(out[1], out[0]):
        _same(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("size,align", [((2, 3, 4, 5), False), ((2, 3, 4, 5), True),
                                        ((2, 1, 3, 4, 2), False), ((1, 1, 1, 6), True)])
def test_affine_grid_values_and_theta_gradient_match_torch(size, align):
    rng = np.random.default_rng(2)
    th = rng.standard_normal((size[0], 2, 3) if len(size) == 4 else (size[0], 3, 4)).astype(np.float32)
    out = []
    for lib in (torch, cr):
        t = lib.tensor(th, requires_grad=True)
        with pytest.warns(UserWarning) if align and min(size[2:]) == 1 else _nothing():
            grid = lib.nn.functional.affine_grid(t, size, align_corners=align)
        (grid * grid).sum().backward()
        out.append((grid, t.grad))
    for a, b in zip(out[1], out[0]):
        _same(a, b, rtol=1e-5, atol=1e-6)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_spatial_transformer_training_step_matches_torch():
    """Identity-initialised θ samples exactly at pixel centres: a one-ulp difference in the
    grid changes the interpolation cell, so this needs torch's grid to the bit."""
    def run(lib):
        lib.manual_seed(0)
        nn, F = lib.nn, lib.nn.functional
        loc = nn.Sequential(nn.Conv2d(1, 4, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
        fc = nn.Sequential(nn.Linear(64, 8), nn.ReLU(True), nn.Linear(8, 6))
        fc[2].weight.data.zero_()
        fc[2].bias.data.copy_(lib.tensor([1, 0, 0, 0, 1, 0], dtype=lib.float))
        x = lib.rand(6, 1, 12, 12)
        theta = fc(loc(x).view(-1, 64)).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        y = F.grid_sample(x, grid, align_corners=False)
        (y * lib.linspace(0, 1, y.numel()).view(y.shape)).sum().backward()
        return y, fc[2].bias.grad, loc[0].weight.grad
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b, rtol=1e-4, atol=1e-4)


def test_grid_sample_and_affine_grid_errors_match_torch():
    x, g = (lambda lib: lib.zeros(1, 1, 3, 3)), (lambda lib: lib.zeros(1, 2, 2, 2))
    cases = [
        lambda lib: lib.nn.functional.grid_sample(x(lib), g(lib), mode="area", align_corners=False),
        lambda lib: lib.nn.functional.grid_sample(x(lib), g(lib), padding_mode="wrap", align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3, dtype=lib.long), (1, 1, 2, 2), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 3, 3), (1, 1, 2, 2), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), (1, 2, 2), align_corners=False),
    ]
    for fn in cases:
        mine, theirs = _raises_like_torch(fn)
        assert mine == theirs.replace("torch.", "chainrule.")
    for fn in (lambda lib: lib.nn.functional.grid_sample(x(lib), lib.zeros(1, 2, 2, 3), align_corners=False),
               lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 2, 2, 2), lib.zeros(1, 1, 1, 1, 3),
                                                         mode="bicubic", align_corners=False)):
        _raises_like_torch(fn)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        cr.nn.functional.grid_sample(x(cr), g(cr))


def test_retained_grad_sees_the_tensor_hooks_registered_after_retain_grad():
    """torch runs a tensor's retain_grad hook after its other hooks, whatever the
    registration order; chainrule stored the gradient before a later hook changed it."""
    def run(lib):
        a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        b = a * 2
        b.retain_grad()
        h = b.register_hook(lambda g: g * 10)
        c = a * 3
        c.register_hook(lambda g: g + 1)
        c.retain_grad()
        ((b ** 2).sum() + (c ** 2).sum()).backward(retain_graph=True)
        first = (b.grad.clone(), c.grad.clone(), a.grad.clone())
        h.remove()
        b.grad = None
        (b ** 2).sum().backward()
        return first + (b.grad,)
    mine, theirs = _both(run)
    for x, y in zip(mine, theirs):
        _same(x, y)


# ------------------------------------------------------------------ torch.utils.checkpoint
# (memory-saving training scripts and the tutorials' checkpointed blocks; it was missing)
@pytest.mark.parametrize("reentrant", [False, True])
@pytest.mark.parametrize("x_grad", [False, True])
def test_checkpoint_gradients_dropout_replay_and_rng_match_torch(reentrant, x_grad):
    def run(lib):
        lib.manual_seed(0)
        block = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Dropout(0.3), lib.nn.Tanh(),
                                  lib.nn.Linear(8, 4))
        head = lib.nn.Linear(4, 1)
        x = lib.randn(5, 4, requires_grad=x_grad)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # reentrant without grad inputs warns, as torch
            h = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=reentrant)
        y = head(h).pow(2).sum()
        y.backward()
        grads = [p.grad for p in block.parameters()] + [x.grad, head.weight.grad]
        return y, h.requires_grad, grads, lib.rand(3)
    mine, theirs = _both(run)
    _same(mine[0], theirs[0])
    assert mine[1] == theirs[1]
    for a, b in zip(mine[2], theirs[2]):
        assert (a is None) == (b is None)
        if a is not None:
            _same(a, b)
    _same(mine[3], theirs[3])


def test_checkpoint_recomputes_instead_of_keeping_the_segment_graph():
    calls = []

    def segment(x):
        calls.append(1)
        return (x * 2).sin() * 3
    x = cr.randn(4, requires_grad=True)
    y = cr.utils.checkpoint.checkpoint(segment, x, use_reentrant=False)
    assert type(y.grad_fn).__name__ != "MulBackward0"     # one node for the whole segment
    y.sum().backward()
    assert len(calls) == 2                                 # forward + recomputation
    _same(x.grad, torch.tensor(x.detach().numpy()).mul(2).cos().mul(6))


def test_checkpoint_tuple_outputs_autograd_grad_and_sequential_match_torch():
    def run(lib):
        cp = lib.utils.checkpoint

        def f(a, b):
            return a * b, (a + b).sin(), 3
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([0.5, -1.0], requires_grad=True)
        p, q, k = cp.checkpoint(f, a, b, use_reentrant=False)
        g = lib.autograd.grad((p * q).sum(), (a, b))
        p2, q2, _ = cp.checkpoint(f, a, b, use_reentrant=True)
        (p2 * q2).sum().backward()
        lib.manual_seed(1)
        seq = lib.nn.Sequential(*[lib.nn.Linear(3, 3) for _ in range(4)])
        x = lib.randn(2, 3, requires_grad=True)
        out = cp.checkpoint_sequential(seq, 2, x, use_reentrant=False)
        out.sum().backward()
        return (k,) + tuple(g) + (a.grad, out, seq[0].weight.grad, x.grad)
    mine, theirs = _both(run)
    assert mine[0] == theirs[0] == 3
    for x, y in zip(mine[1:], theirs[1:]):
        _same(x, y)


def test_checkpoint_argument_errors_and_warning_match_torch():
    f = lambda t: t * 2     # noqa: E731
    mine, theirs = _raises_like_torch(
        lambda lib: lib.utils.checkpoint.checkpoint(f, lib.ones(1), use_reentrant=True, foo=1))
    assert mine == theirs
    mine, theirs = _raises_like_torch(
        lambda lib: lib.utils.checkpoint.checkpoint(f, lib.ones(1), use_reentrant=True, debug=True))
    assert mine == theirs
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        cr.utils.checkpoint.checkpoint(f, cr.ones(1, requires_grad=True))


def test_inplace_silu_and_mish_print_like_torch():
    for name in ("SiLU", "Mish"):
        for inplace in (False, True):
            mine = repr(getattr(cr.nn, name)(inplace=inplace))
            assert mine == repr(getattr(torch.nn, name)(inplace=inplace))


def test_named_results_print_like_torch_return_types():
    """``print(torch.max(outputs, 1))`` is in many scripts; chainrule printed
    ``values_indices(values=..., indices=...)``."""
    data = [[1.0, 3.0, 2.0], [2.0, 0.0, 5.0]]

    def run(lib):
        x = lib.tensor(data)
        results = [lib.max(x, 1), lib.min(x, dim=0), x.max(1, keepdim=True), lib.sort(x),
                   lib.topk(x, 2), lib.kthvalue(x, 2), lib.median(x, 1), lib.nanmedian(x, 1),
                   lib.mode(x, 1), lib.cummax(x, 1), lib.cummin(x, 1), lib.aminmax(x)]
        return [repr(r) for r in results], [type(r).__name__ for r in results]
    mine, theirs = _both(run)
    assert mine[0] == [r.replace("torch.", "chainrule.") for r in theirs[0]]
    assert mine[1] == theirs[1]
    values, indices = cr.max(cr.tensor(data), 1)
    assert isinstance(cr.max(cr.tensor(data), 1), tuple) and indices.tolist() == [1, 2]


def test_float32_matmul_precision_setting_matches_torch():
    before = torch.get_float32_matmul_precision()
    try:
        for value in ("high", "medium", "highest"):
            torch.set_float32_matmul_precision(value)
            cr.set_float32_matmul_precision(value)
            assert cr.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            cr.set_float32_matmul_precision("bogus")
        assert cr.get_float32_matmul_precision() == "highest"
        mine, theirs = _raises_like_torch(lambda lib: lib.set_float32_matmul_precision(3))
        assert mine == theirs
    finally:
        torch.set_float32_matmul_precision(before)
        cr.set_float32_matmul_precision("highest")


def test_fork_rng_restores_the_default_generator_like_torch():
    def run(lib):
        lib.manual_seed(3)
        with lib.random.fork_rng():
            inside = lib.rand(2)
            lib.manual_seed(11)
            lib.randn(5)
        after = lib.rand(2)
        with lib.random.fork_rng(enabled=False):
            lib.rand(1)
        return inside, after, lib.rand(1)
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b)


# ------------------------------------------------------- autograd.Function, several outputs
# (custom ops returning (values, indices) or (out, aux): chainrule took one Tensor only, and
# had no once_differentiable, mark_non_differentiable effect, set_materialize_grads or
# setup_context-style forward)
def _custom_functions(lib):
    Function = lib.autograd.Function
    once = importlib.import_module(lib.__name__ + ".autograd.function").once_differentiable

    class SortWithIndices(Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort(dim=-1)
            ctx.save_for_backward(idx)
            ctx.mark_non_differentiable(idx)
            return values, idx

        @staticmethod
        @once
        def backward(ctx, grad_values, grad_idx):
            (idx,) = ctx.saved_tensors
            ctx.seen = (grad_idx.dtype, grad_idx.abs().sum().item())
            return lib.zeros_like(grad_values).scatter_(-1, idx, grad_values)

    class SinCos(Function):
        @staticmethod
        def forward(x, scale):
            return (x * scale).sin(), (x * scale).cos()

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.save_for_backward(x)
            ctx.scale = scale
            ctx.set_materialize_grads(False)

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            out = 0
            if gs is not None:
                out = out + gs * (x * ctx.scale).cos() * ctx.scale
            if gc is not None:
                out = out - gc * (x * ctx.scale).sin() * ctx.scale
            return out, None
    return SortWithIndices, SinCos




def test_custom_function_with_several_outputs_matches_torch():
    def run(lib):
        SortWithIndices, SinCos = _custom_functions(lib)
        x = lib.tensor([[3.0, 1.0, 2.0], [0.5, -1.0, 4.0]], requires_grad=True)
        v, i = SortWithIndices.apply(x)
        (v * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        seen = v.grad_fn.name(), i.requires_grad, i.dtype == lib.int64, repr(v).split("grad_fn=")[1]
        g1 = x.grad.clone()
        x.grad = None
        s, c = SinCos.apply(x, 2.0)
        s.sum().backward(retain_graph=True)         # only one output used: the other gets None
        g2 = x.grad.clone()
        (gx,) = lib.autograd.grad((s * c).sum(), x, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.sum(), x)      # through the backward, twice
        return (v, i, g1, g2, gx, ggx), seen
    mine, theirs = _both(run)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b)
    assert mine[1] == theirs[1]


def test_multivariate_normal_matches_torch():
    """PPO-style continuous policies: MultivariateNormal(mean, cov) sample, log_prob, entropy."""
    def run(lib):
        D = lib.distributions
        loc = lib.tensor([[0.5, -1.0, 0.2], [1.0, 0.0, 0.3]], requires_grad=True)
        A = lib.tensor([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]], requires_grad=True)
        m = D.MultivariateNormal(loc, covariance_matrix=A)
        s = m.rsample((4,))
        lp = m.log_prob(s)
        (lp.sum() + m.entropy().sum()).backward()
        m2 = D.MultivariateNormal(lib.zeros(3), scale_tril=lib.tensor([[1.0, 0, 0], [0.5, 2.0, 0], [0.1, 0.2, 0.3]]))
        m3 = D.MultivariateNormal(lib.zeros(2), precision_matrix=lib.tensor([[2.0, 0.5], [0.5, 1.0]]))
        cov = lib.diag_embed(lib.full((2, 2), 0.25))
        m4 = D.MultivariateNormal(lib.zeros(2, 2), cov)
        return (s, lp, m.entropy(), loc.grad, A.grad, m2.sample(), m2.variance, m2.covariance_matrix,
                m2.log_prob(lib.ones(3)), m3.scale_tril, m3.log_prob(lib.tensor([0.3, -0.2])),
                m3.precision_matrix, m4.sample((2,)), m4.log_prob(lib.ones(2, 2)), m4.entropy())
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b, rtol=1e-5, atol=1e-5)
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]])))
    assert mine.split(" of distribution")[0] == theirs.split(" of distribution")[0]
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)))
    assert mine == theirs


def test_top_level_nn_functions_and_random_methods_match_torch():
    """``torch.conv2d(img, kernel)`` (hand-made filters), ``torch.dropout(x, p, train)``,
    ``torch.embedding(weight, idx)``, ``probs.multinomial(1)``, ``p.bernoulli()``: missing."""
    def run(lib):
        lib.manual_seed(0)
        x = lib.randn(1, 2, 6, 6)
        w = lib.randn(3, 2, 3, 3)
        seq = lib.randn(2, 3, 8)
        outs = [lib.conv2d(x, w, None, 1, 1), lib.conv1d(seq, lib.randn(4, 3, 3), padding=1),
                lib.conv_transpose2d(x, lib.randn(2, 3, 2, 2), stride=2),
                lib.max_pool2d(x, 2), lib.max_pool2d(x, kernel_size=3, stride=1, padding=1),
                lib.max_pool1d(seq, 2), lib.avg_pool1d(seq, 3, 2),
                lib.dropout(x, 0.5, True), lib.dropout(x, p=0.5, train=False),
                lib.layer_norm(x, [6]), lib.rms_norm(x, [6]),
                lib.embedding(lib.randn(5, 3), lib.tensor([[1, 4], [0, 2]])),
                lib.selu(x), lib.celu(x, alpha=2.0), lib.threshold(x, 0.1, 20.0),
                lib.hardshrink(x, 0.3), lib.prelu(x, lib.tensor([0.1, 0.2])),
                lib.pixel_shuffle(lib.randn(1, 4, 2, 2), 2), lib.pixel_unshuffle(x, 2),
                lib.bilinear(lib.randn(2, 3), lib.randn(2, 4), lib.randn(5, 3, 4)),
                lib.rrelu(x), lib.alpha_dropout(x, 0.2, True)]
        probs = lib.tensor([[0.1, 0.7, 0.2], [0.3, 0.3, 0.4]])
        outs += [probs.multinomial(4, replacement=True), probs.multinomial(2),
                 probs.bernoulli(), lib.full((4,), 0.5).bernoulli(0.9)]
        return outs
    mine, theirs = _both(run)
    for a, b in zip(mine, theirs):
        _same(a, b, rtol=1e-5, atol=1e-5)
    mine, theirs = _raises_like_torch(lambda lib: lib.dropout(lib.ones(2), 0.5))
    assert type(mine) is type(theirs)


def test_legacy_calls_of_old_scripts_match_torch():
    """``torch.range``, ``x.new(...)``, ``torch.set_default_tensor_type``, ``unravel_index``."""
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = [lib.range(1, 4), lib.range(0, 1, 0.25), lib.range(1, 4, dtype=lib.int64),
                 lib.range(5, 1, -1.5)]
            before = lib.get_default_dtype()
            lib.set_default_tensor_type(lib.DoubleTensor)
            d64 = lib.ones(1).dtype == lib.float64
            lib.set_default_tensor_type("torch.FloatTensor")
            restored = lib.get_default_dtype() == before
        x = lib.ones(2, dtype=lib.float64)
        new = [x.new(), x.new(2, 3).shape, x.new([1, 2]), x.new(lib.Size([2, 2])).shape, x.new(3).shape]
        u = lib.unravel_index(lib.tensor([4, 7, -1, 9]), (2, 4)) + lib.unravel_index(lib.tensor(5), (3, 2))
        return r, [w.category.__name__ for w in caught], d64, restored, new, u
    mine, theirs = _both(run)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b)
    assert set(mine[1]) == set(theirs[1]) == {"UserWarning"}
    assert mine[2] == theirs[2] is True and mine[3] == theirs[3] is True
    _same(mine[4][0], theirs[4][0])
    _same(mine[4][2], theirs[4][2])
    assert [tuple(s) for s in mine[4][1::2]] == [tuple(s) for s in theirs[4][1::2]]
    for a, b in zip(mine[5], theirs[5]):
        _same(a, b)
    mine, theirs = _raises_like_torch(lambda lib: lib.ones(2).new(2.5))
    assert mine == theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [3.0, 3, -2.0, -0.5, 2.0, -1.0])
def test_pow_by_the_numbers_torch_computes_as_products_is_bit_equal(exponent, dtype):
    """minGPT's GELU takes x³ with torch.pow(x, 3.0): torch's kernel multiplies (x·x·x), and
    takes 1/(x·x) and 1/√x for −2 and −0.5, bits NumPy's pow does not give."""
    x = np.random.default_rng(1).standard_normal(4000).astype(dtype) * 3
    np.testing.assert_array_equal((cr.tensor(x) ** exponent).numpy(),
                                  torch.pow(torch.tensor(x), exponent).numpy())
