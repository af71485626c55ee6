"""torch.distributions' remaining names: constraint_registry (biject_to / transform_to), the
matrix constraints and transforms (Cat/Stack/CorrCholesky/LowerCholesky/PositiveDefinite/
CumulativeDistribution), and ContinuousBernoulli, GeneralizedPareto, VonMises,
LowRankMultivariateNormal, OneHotCategoricalStraightThrough, Wishart, LKJCholesky. Each case
runs the same code with torch and with chainrule (generators seeded alike) and compares values,
gradients, shapes and errors."""

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.fixture(autouse=True)
def _torch_validates_distributions():
    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(before)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(a, b, rtol=1e-6, atol=1e-7):
    if a is None or b is None:
        assert a is None and b is None, (a, b)
        return
    if isinstance(a, (bool, int, float, str, tuple, list)):
        assert a == b, (a, b)
        return
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (a.dtype, b.dtype)
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _both(fn):
    torch.manual_seed(0)
    theirs = fn(torch)
    cr.manual_seed(0)
    mine = fn(cr)
    return mine, theirs


def _all_same(fn, rtol=1e-6, atol=1e-7):
    mine, theirs = _both(fn)
    assert len(mine) == len(theirs)
    for i, (a, b) in enumerate(zip(mine, theirs)):
        try:
            _same(a, b, rtol, atol)
        except AssertionError as e:
            raise AssertionError(f"output {i}: {e}") from None


def _raises_like_torch(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as mine:
        fn(cr)
    assert str(mine.value).replace("chainrule", "torch") == str(theirs.value)


def _grad(lib, out, params):
    if not out.requires_grad or not params:
        return [None] * len(params)
    return list(lib.autograd.grad(out.sum(), params, retain_graph=True, allow_unused=True))


# ----------------------------------------------------------------------- constraint registry
CONSTRAINTS = {
    "real": lambda C: C.real, "positive": lambda C: C.positive,
    "nonnegative": lambda C: C.nonnegative, "greater_than": lambda C: C.greater_than(2.0),
    "greater_than_eq": lambda C: C.greater_than_eq(-1.0),
    "less_than": lambda C: C.less_than(3.0), "interval": lambda C: C.interval(-2.0, 5.0),
    "unit_interval": lambda C: C.unit_interval,
    "half_open_interval": lambda C: C.half_open_interval(0.0, 1.0),
    "simplex": lambda C: C.simplex, "real_vector": lambda C: C.real_vector,
    "independent": lambda C: C.independent(C.positive, 2),
    "lower_cholesky": lambda C: C.lower_cholesky,
    "positive_definite": lambda C: C.positive_definite,
    "positive_semidefinite": lambda C: C.positive_semidefinite,
    "corr_cholesky": lambda C: C.corr_cholesky,
    "cat": lambda C: C.cat([C.positive, C.interval(0.0, 2.0)], -1, [1, 2]),
    "stack": lambda C: C.stack([C.positive, C.real, C.less_than(1.0)], -1),
}
X3 = np.array([[0.3, -1.2, 2.5], [1.0, 0.1, -0.7], [-0.4, 0.8, 0.2]])


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_registry_transform_matches_torch(name, registry):
    def run(lib):
        D = lib.distributions
        c = CONSTRAINTS[name](D.constraints)
        try:
            t = getattr(D, registry)(c)
        except NotImplementedError as e:
            return [str(e).replace("chainrule", "torch")]
        x = lib.tensor(X3, requires_grad=True)
        y = t(x)
        out = [y, bool(c.check(y).all()), t.bijective, type(t).__name__,
               tuple(t.forward_shape(x.shape)), _grad(lib, y, [x])[0]]
        if t.bijective:
            ladj = t.log_abs_det_jacobian(x, y)
            out += [t.inv(y.detach()), ladj, _grad(lib, ladj, [x])[0]]
        return out
    _all_same(run, 1e-9, 1e-9)


def test_registry_is_the_same_object_from_both_paths_and_registers():
    D = cr.distributions
    assert D.biject_to is D.constraint_registry.biject_to
    assert D.transform_to is D.constraint_registry.transform_to
    reg = D.constraint_registry.ConstraintRegistry()
    reg.register(D.constraints.positive, lambda c: D.transforms.SoftplusTransform())
    assert isinstance(reg(D.constraints.greater_than(0.0)), D.transforms.SoftplusTransform)
    for bad in (3, int):
        _raises_like_torch(lambda lib: lib.distributions.constraint_registry.ConstraintRegistry()
                           .register(bad, lambda c: None))
    _raises_like_torch(lambda lib: lib.distributions.biject_to(
        lib.distributions.constraints.lower_cholesky))


def test_registry_unconstrained_parameter_optimisation_like_torch():
    # a pyro-style loop: a positive parameter kept as exp(u), stepped by SGD
    def run(lib):
        D = lib.distributions
        t = D.transform_to(D.constraints.positive)
        u = t.inv(lib.tensor([0.5, 2.0])).detach().requires_grad_()
        opt = lib.optim.SGD([u], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            loss = -D.Normal(0.0, t(u)).log_prob(lib.tensor([1.0, -3.0])).sum()
            loss.backward()
            opt.step()
        return [u, t(u)]
    _all_same(run)


# ----------------------------------------------------------------------- constraints
MATS = {
    "eye": np.eye(3), "sym_indef": np.array([[1.0, 2.0], [2.0, 1.0]]),
    "nonsym": np.array([[1.0, 0.5], [0.0, 1.0]]), "psd": np.array([[1.0, 1.0], [1.0, 1.0]]),
    "nonsquare": np.ones((2, 3)), "corr": np.array([[1.0, 0.0], [0.6, 0.8]]),
    "batch": np.stack([np.eye(2), np.array([[2.0, 0.0], [1.0, -1.0]])]),
    "batch_sym": np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]]),
}


@pytest.mark.parametrize("mat", list(MATS))
def test_matrix_constraints_check_like_torch(mat):
    names = ["lower_triangular", "lower_cholesky", "corr_cholesky", "square", "symmetric",
             "positive_semidefinite", "positive_definite"]
    _all_same(lambda lib: [getattr(lib.distributions.constraints, n).check(lib.tensor(MATS[mat]))
                           for n in names])


def test_integer_and_functor_constraints_like_torch():
    def run(lib):
        C = lib.distributions.constraints
        v = lib.tensor([[-1.0, 0.0, 1.5], [2.0, 3.0, 1.0]])
        cat_c = C.cat([C.positive_integer, C.real], 1, [2, 1])
        stack_c = C.stack([C.real, C.positive_integer], 0)
        return [C.positive_integer.check(v), cat_c.check(v), stack_c.check(v), cat_c.event_dim,
                stack_c.event_dim, cat_c.is_discrete, repr(C.positive_integer),
                repr(C.corr_cholesky), repr(C.positive_definite)]
    _all_same(run)
    _raises_like_torch(lambda lib: lib.distributions.constraints.cat(
        [lib.distributions.constraints.real], 0, [1, 2]))
    _raises_like_torch(lambda lib: lib.distributions.constraints.stack([1]))


# ----------------------------------------------------------------------- transforms
def _cases(T, lib):
    normal = lib.distributions.Normal(lib.tensor([0.5, -1.0, 0.0]), lib.tensor([1.0, 2.0, 0.5]))
    return {
        "corr_cholesky": (T.CorrCholeskyTransform(), np.array([[0.3, -1.2, 2.5], [1, 0.1, -4]])),
        "lower_cholesky": (T.LowerCholeskyTransform(), X3),
        "positive_definite": (T.PositiveDefiniteTransform(), X3),
        "cat": (T.CatTransform([T.ExpTransform(), T.TanhTransform()], 1, [2, 1]), X3),
        "cat_event": (T.CatTransform([T.IndependentTransform(T.ExpTransform(), 1),
                                      T.IndependentTransform(T.TanhTransform(), 1)], 0, [1, 2]),
                      X3),
        "cat_event_sum": (T.CatTransform([T.IndependentTransform(T.ExpTransform(), 1),
                                          T.IndependentTransform(T.TanhTransform(), 1)], -1,
                                         [2, 1]), X3),
        "stack": (T.StackTransform([T.ExpTransform(), T.SigmoidTransform(),
                                    T.AffineTransform(1.0, 3.0)], 1), X3),
        "cdf": (T.CumulativeDistributionTransform(normal), X3),
    }


@pytest.mark.parametrize("case", ["corr_cholesky", "lower_cholesky", "positive_definite", "cat",
                                  "cat_event", "cat_event_sum", "stack", "cdf"])
def test_new_transforms_match_torch(case):
    def run(lib):
        t, raw = _cases(lib.distributions.transforms, lib)[case]
        x = lib.tensor(raw, requires_grad=True)
        y = t(x)
        out = [y, t.inv(y.detach()), _grad(lib, y, [x])[0], t.bijective,
               repr(t.codomain).replace("torch.", "") if case != "cdf" else None,
               bool(t.codomain.check(y).all()), bool(t.domain.check(x).all())]
        if t.bijective:
            ladj = t.log_abs_det_jacobian(x, y)
            out += [ladj, _grad(lib, ladj, [x])[0]]
        if case == "corr_cholesky":
            out += [tuple(t.forward_shape((4, 6))), tuple(t.inverse_shape((4, 4, 4)))]
        return out
    _all_same(run, 1e-9, 1e-9)


def test_new_transforms_cache_eq_and_errors_like_torch():
    T = cr.distributions.transforms
    cat = T.CatTransform([T.ExpTransform()], 0, [2], cache_size=1)
    x = cr.tensor([0.1, 0.2])
    y = cat(x)
    assert cat.inv(y) is x and cat.with_cache(1) is cat and cat.with_cache(0)._cache_size == 0
    assert T.LowerCholeskyTransform() == T.LowerCholeskyTransform()
    assert T.PositiveDefiniteTransform() != T.LowerCholeskyTransform()
    _raises_like_torch(lambda lib: lib.distributions.transforms.CatTransform(
        [lib.distributions.transforms.ExpTransform()], 0, [2])(lib.ones(3)))
    _raises_like_torch(lambda lib: lib.distributions.transforms.StackTransform(
        [lib.distributions.transforms.ExpTransform()], 0)(lib.ones(3)))
    _raises_like_torch(lambda lib: lib.distributions.transforms.CorrCholeskyTransform()
                       .forward_shape((4,)))
    _raises_like_torch(lambda lib: lib.distributions.transforms.CatTransform([1]))


def test_corr_cholesky_transform_gradcheck_float64():
    T = cr.distributions.transforms.CorrCholeskyTransform()
    x = cr.tensor([[0.3, -1.2, 2.5, 0.4, -0.1, 0.9]], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda v: T.log_abs_det_jacobian(v, T(v)) + T(v).sum(), (x,))


# ----------------------------------------------------------------------- families
P = np.array([[0.1, 0.4995, 0.9], [0.3, 0.7, 0.02]])
U = np.array([[0.2, 0.55, 0.9], [0.05, 0.5, 0.7]])


def _score(lib, d, value, params, extra=()):
    """Draws, scores, moments and their gradients; ``extra`` names more methods on value."""
    r = d.rsample((2,)) if d.has_rsample else None
    s = d.sample((3,))
    out = [s, r, d.log_prob(value), d.log_prob(s), d.entropy(), d.mean, d.variance,
           tuple(d.batch_shape), tuple(d.event_shape), tuple(s.shape)]
    out += [getattr(d, m)(value) for m in extra]
    for q in [r, d.log_prob(value), d.entropy(), d.mean, d.variance] + out[10:]:
        out += _grad(lib, q, params) if q is not None else [None] * len(params)
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_continuous_bernoulli_matches_torch(param, dtype):
    def run(lib):
        raw = P if param == "probs" else np.log(P / (1 - P))
        p = lib.tensor(raw.astype(dtype), requires_grad=True)
        d = lib.distributions.ContinuousBernoulli(**{param: p})
        v = lib.tensor(U.astype(dtype))
        return _score(lib, d, v, [p], ("cdf", "icdf")) + [d.stddev, d.expand((4, 2, 3)).sample()]
    tol = 2e-5 if dtype == "float32" else 1e-10
    _all_same(run, tol, tol)


def test_continuous_bernoulli_validation_number_and_exp_family_like_torch():
    CB = "ContinuousBernoulli"
    _raises_like_torch(lambda lib: getattr(lib.distributions, CB)(
        lib.tensor([0.5, 1.5]), validate_args=True))
    _raises_like_torch(lambda lib: getattr(lib.distributions, CB)(0.3, 0.1))
    _raises_like_torch(lambda lib: getattr(lib.distributions, CB)(0.3).log_prob(
        lib.tensor([1.5])))

    def run(lib):
        D = lib.distributions
        d, q = D.ContinuousBernoulli(0.3), D.ContinuousBernoulli(lib.tensor([0.8, 0.5]))
        return [d.log_prob(lib.tensor(0.25)), tuple(d.batch_shape), D.kl_divergence(q, d),
                super(D.ContinuousBernoulli, q).entropy()]
    _all_same(run, 1e-5, 1e-6)


@pytest.mark.parametrize("conc", [0.3, 0.0, -0.4])
def test_generalized_pareto_matches_torch(conc):
    def run(lib):
        loc = lib.tensor([[0.0, 1.0, -0.5]], requires_grad=True)
        scale = lib.tensor([[1.0], [2.0]], requires_grad=True)
        xi = lib.tensor(conc, requires_grad=True)
        d = lib.distributions.GeneralizedPareto(loc, scale, xi)
        v = loc.detach() + lib.tensor([[0.1], [0.9]])
        out = _score(lib, d, v, [loc, scale, xi], ("cdf", "log_cdf", "log_survival_function"))
        return out + [d.icdf(lib.tensor(U)), d.mode, repr(d.support).split("(")[0]]
    _all_same(run, 2e-5, 2e-6)


def test_generalized_pareto_nan_moments_support_and_errors_like_torch():
    def run(lib):
        d = lib.distributions.GeneralizedPareto(0.0, 1.0, lib.tensor([0.2, 0.7, 1.5]))
        e = lib.distributions.GeneralizedPareto(1.0, 2.0, 0.5)
        return [d.mean, d.variance, tuple(e.batch_shape), e.sample((2,)),
                d.expand((2, 3)).rsample()]
    _all_same(run)
    _raises_like_torch(lambda lib: lib.distributions.GeneralizedPareto(0.0, -1.0, 0.1))
    _raises_like_torch(lambda lib: lib.distributions.GeneralizedPareto(0.0, 1.0, -0.5).log_prob(
        lib.tensor(3.0)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_von_mises_matches_torch_samples_included(dtype):
    def run(lib):
        loc = lib.tensor(np.array([0.5, -2.0, 3.0]).astype(dtype), requires_grad=True)
        k = lib.tensor(np.array([[0.05], [1.0], [20.0]]).astype(dtype), requires_grad=True)
        d = lib.distributions.VonMises(loc, k)
        v = lib.tensor(np.array([0.1, -3.0, 2.0]).astype(dtype))
        lp = d.log_prob(v)
        return [d.sample((500,)), d.expand((2, 3, 3)).sample(), lp, d.variance, d.mean, d.mode,
                *_grad(lib, lp, [loc, k]), *_grad(lib, d.variance, [k]),
                tuple(d.batch_shape), d.has_rsample, d.sample().dtype == lib.float64]
    tol = 1e-5 if dtype == "float32" else 1e-10
    _all_same(run, tol, tol)
    _raises_like_torch(lambda lib: lib.distributions.VonMises(0.0, -1.0))


def test_von_mises_sample_statistics():
    cr.manual_seed(1)
    s = cr.distributions.VonMises(cr.tensor(1.0), cr.tensor(4.0)).sample((20000,)).numpy()
    # E[cos(x − μ)] = I₁(κ)/I₀(κ) ≈ 0.8635 for κ = 4
    assert abs(np.mean(np.cos(s - 1.0)) - 0.8635) < 0.01 and abs(np.mean(np.sin(s - 1.0))) < 0.01


def _lowrank(lib, dtype="float64"):
    rng = np.random.RandomState(0)
    loc = lib.tensor(rng.randn(2, 3).astype(dtype), requires_grad=True)
    W = lib.tensor(rng.randn(3, 2).astype(dtype), requires_grad=True)
    d = lib.tensor((rng.rand(1, 3) + 0.5).astype(dtype), requires_grad=True)
    return lib.distributions.LowRankMultivariateNormal(loc, W, d), [loc, W, d]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lowrank_multivariate_normal_matches_torch(dtype):
    def run(lib):
        d, params = _lowrank(lib, dtype)
        v = lib.tensor(np.array([[0.3, -1.0, 2.0]]).astype(dtype))
        out = _score(lib, d, v, params)
        mats = [d.covariance_matrix, d.precision_matrix, d.scale_tril]
        for m in mats:
            out += [m] + _grad(lib, m, params)
        e = d.expand((4, 2))
        return out + [e.rsample(), e.log_prob(v), d.mode, tuple(e.batch_shape)]
    tol = 1e-4 if dtype == "float32" else 1e-10
    _all_same(run, tol, tol)


def test_lowrank_multivariate_normal_errors_and_kl_like_torch():
    D = "distributions"
    _raises_like_torch(lambda lib: getattr(lib, D).LowRankMultivariateNormal(
        lib.zeros(3), lib.ones(2, 1), lib.ones(3)))
    _raises_like_torch(lambda lib: getattr(lib, D).LowRankMultivariateNormal(
        lib.zeros(3), lib.ones(3, 1), lib.ones(2)))
    _raises_like_torch(lambda lib: getattr(lib, D).LowRankMultivariateNormal(
        lib.zeros(2, 3), lib.ones(3, 3, 1), lib.ones(3)))
    _raises_like_torch(lambda lib: getattr(lib, D).LowRankMultivariateNormal(
        lib.zeros(3), 0.1 * lib.ones(3, 1), lib.tensor([-1.0, 1.0, 1.0])))
    _raises_like_torch(lambda lib: getattr(lib, D).LowRankMultivariateNormal(
        lib.zeros(()), lib.ones(3, 1), lib.ones(3)))


def test_one_hot_categorical_straight_through_matches_torch():
    def run(lib):
        logits = lib.tensor([[0.1, 2.0, -1.0], [0.5, 0.5, 0.0]], requires_grad=True)
        d = lib.distributions.OneHotCategoricalStraightThrough(logits=logits)
        r = d.rsample((4,))
        w = lib.tensor([1.0, -2.0, 3.0])
        return [r, *_grad(lib, r * w, [logits]), d.has_rsample, tuple(r.shape),
                d.log_prob(r.detach()), d.expand((3, 2)).rsample()]
    _all_same(run)


@pytest.mark.parametrize("param", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_matches_torch(param):
    def run(lib):
        A = lib.tensor([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]], dtype=lib.float64)
        m = lib.linalg.cholesky(A) if param == "scale_tril" else A
        m = m.clone().requires_grad_()
        df = lib.tensor([4.0, 6.5], dtype=lib.float64, requires_grad=True)
        d = lib.distributions.Wishart(df, **{param: m})
        v = A + lib.eye(3, dtype=lib.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if lib is torch:
                # torch's rsample cannot backpropagate with a batch (it edits the mask it
                # indexed with in place); its value is the second Bartlett draw
                d._bartlett_sampling((2,))
                r = d._bartlett_sampling((2,))
            else:
                r = d.rsample((2,))
            s = d.sample((3,))
            e = d.expand((3, 2))
            out = [r, s, d.log_prob(v), d.log_prob(s), d.entropy(), d.mean, d.variance,
                   tuple(s.shape), e.rsample(), e.log_prob(v), tuple(e.batch_shape)]
        for q in (r, d.log_prob(v), d.entropy(), d.mean, d.variance):
            out += _grad(lib, q, [df, m])
        return out + [d.mode, d.covariance_matrix, d.precision_matrix, d.scale_tril]
    _all_same(run, 1e-8, 1e-8)


def test_wishart_warnings_errors_and_exp_family_like_torch():
    def run(lib):
        d = lib.distributions.Wishart(lib.tensor(2.5), lib.eye(2))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.distributions.Wishart(lib.tensor(1.5), lib.eye(2))
            d.rsample()
        return [[str(x.message) for x in w], d.mode,
                lib.distributions.ExponentialFamily.entropy(d)]
    _all_same(run, 1e-5, 1e-5)
    _raises_like_torch(lambda lib: lib.distributions.Wishart(lib.tensor(0.5), lib.eye(2)))
    _raises_like_torch(lambda lib: lib.distributions.Wishart(2.0, lib.eye(2), lib.eye(2)))
    _raises_like_torch(lambda lib: lib.distributions.Wishart(2.0, lib.ones(2)))
    _raises_like_torch(lambda lib: lib.distributions.Wishart(3.0, lib.eye(2)).log_prob(
        lib.tensor([[1.0, 2.0], [2.0, 1.0]])))


@pytest.mark.parametrize("dim,conc", [(2, 0.5), (3, 1.0), (4, 2.5)])
def test_lkj_cholesky_matches_torch(dim, conc):
    def run(lib):
        eta = lib.tensor([conc, conc + 1.0], dtype=lib.float64, requires_grad=True)
        d = lib.distributions.LKJCholesky(dim, eta)
        s = d.sample((3,))
        lp = d.log_prob(s)
        return [s, lp, *_grad(lib, lp, [eta]), tuple(d.batch_shape), tuple(d.event_shape),
                d.expand((4, 2)).sample(), bool(lib.distributions.constraints.corr_cholesky
                                                .check(s).all())]
    _all_same(run, 1e-10, 1e-10)
    _raises_like_torch(lambda lib: lib.distributions.LKJCholesky(1, 1.0))
    _raises_like_torch(lambda lib: lib.distributions.LKJCholesky(dim, -1.0))
    _raises_like_torch(lambda lib: lib.distributions.LKJCholesky(dim, 1.0).log_prob(
        lib.ones(dim, dim)))


# ----------------------------------------------------------------------- KL
def _kl_pairs(lib, leaves):
    D = lib.distributions

    def t(a):
        leaves.append(lib.tensor(a, dtype=lib.float64, requires_grad=True))
        return leaves[-1]
    cb = D.ContinuousBernoulli(t([0.2, 0.4999, 0.8]))
    cb2 = D.ContinuousBernoulli(logits=t([1.5, -0.3, 0.0]))
    lr, lr_params = _lowrank(lib)
    leaves += lr_params
    lr2 = D.LowRankMultivariateNormal(t([[0.1, 0.0, -0.2]]), t(np.ones((2, 3, 1)) * 0.3),
                                      t([1.0, 2.0, 0.5]))
    A = t([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])
    mvn = D.MultivariateNormal(t([0.5, 0.0, 1.0]), A)
    W = D.Wishart(t([4.0, 5.0]), A)
    W2 = D.Wishart(t(6.0), lib.eye(3, dtype=lib.float64) * 2)
    return [(cb, cb2), (cb2, cb), (D.Beta(t(2.0), t(3.0)), cb), (cb, D.Exponential(t(1.5))),
            (cb, D.Normal(t(0.3), t(2.0))),
            (cb, D.Uniform(t([-0.5, 0.2, -1.0]), t([1.5, 1.0, 2.0]))),
            (D.Uniform(t([0.1, 0.0, 0.2]), t([0.9, 0.5, 1.0])), cb), (cb, D.Pareto(t(1.0), t(2.0))),
            (D.Normal(t(0.0), t(1.0)), cb), (D.Gamma(t(2.0), t(1.0)), cb),
            (D.Exponential(t(1.0)), cb), (D.Pareto(t(1.0), t(2.0)), cb),
            (D.Laplace(t(0.0), t(1.0)), cb), (D.Gumbel(t(0.0), t(1.0)), cb),
            (lr, lr2), (lr2, lr), (mvn, lr), (lr2, mvn), (W, W2),
            (D.Bernoulli(t([0.2, 0.7])), D.Poisson(t([1.5, 0.3])))]


@pytest.mark.parametrize("i", range(20))
def test_kl_pairs_match_torch(i):
    def run(lib):
        params = []
        p, q = _kl_pairs(lib, params)[i]
        kl = lib.distributions.kl_divergence(p, q)
        return [kl] + _grad(lib, kl, params)
    _all_same(run, 1e-9, 1e-9)


def test_kl_lowrank_event_shape_mismatch_raises_like_torch():
    def mk(lib, n):
        return lib.distributions.LowRankMultivariateNormal(lib.zeros(n), lib.ones(n, 1),
                                                           lib.ones(n))
    _raises_like_torch(lambda lib: lib.distributions.kl_divergence(mk(lib, 2), mk(lib, 3)))
    _raises_like_torch(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)), mk(lib, 3)))


GRADCHECK = {
    "ContinuousBernoulli": (lambda D, p: D.ContinuousBernoulli(p[0]), [[0.2, 0.45, 0.8]],
                            [0.3, 0.5, 0.9]),
    "GeneralizedPareto": (lambda D, p: D.GeneralizedPareto(p[0], p[1], p[2]),
                          [[0.0, -0.5], [1.0, 2.0], [0.3, -0.2]], [0.5, 1.0]),
    "VonMises": (lambda D, p: D.VonMises(p[0], p[1]), [[0.5, -1.0], [0.7, 5.0]], [0.1, 2.0]),
    "LowRankMultivariateNormal": (lambda D, p: D.LowRankMultivariateNormal(p[0], p[1], p[2]),
                                  [[0.1, 0.2], [[1.0], [0.5]], [1.0, 2.0]], [0.3, -1.0]),
    "Wishart": (lambda D, p: D.Wishart(p[0], scale_tril=p[1].tril()),
                [[3.5], [[1.0, 0.0], [0.4, 1.5]]], [[2.0, 0.3], [0.3, 1.0]]),
    "LKJCholesky": (lambda D, p: D.LKJCholesky(2, p[0]), [[0.5, 2.0]], [[1.0, 0.0], [0.6, 0.8]]),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_log_prob_gradcheck_float64(name):
    make, arrays, x = GRADCHECK[name]
    value = cr.tensor(x, dtype=cr.float64)
    params = tuple(cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays)
    assert cr.autograd.gradcheck(lambda *p: make(cr.distributions, p).log_prob(value), params)
    if name not in ("VonMises", "LKJCholesky"):
        assert cr.autograd.gradcheck(lambda *p: make(cr.distributions, p).entropy(), params)
