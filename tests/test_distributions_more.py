"""torch.distributions' families beyond Normal/Uniform/Bernoulli/Categorical, and the transforms:
each case runs the same code with torch and with chainrule (the generators seeded alike) and
compares samples, scores, moments, gradients, shapes, constraints and error messages."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr


@pytest.fixture(autouse=True)
def _torch_validates_distributions():
    """Another test's torch.compile may turn torch's validation off process-wide."""
    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(before)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(a, b, rtol=1e-5, atol=1e-6):
    if a is None or b is None:
        assert a is None and b is None, (a, b)
        return
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (a.dtype, b.dtype)
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _both(fn):
    """fn(lib) with torch and with chainrule, the global generator seeded alike."""
    torch.manual_seed(0)
    theirs = fn(torch)
    cr.manual_seed(0)
    mine = fn(cr)
    return mine, theirs


def _raises_like_torch(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as mine:
        fn(cr)
    return str(mine.value), str(theirs.value)


LOC = np.array([[0.0, 1.5, -2.0]])
SCALE = np.array([[1.0], [0.5]])
RATE = np.array([[0.5, 2.0, 1.0]])
X_REAL = np.array([[0.3, -1.2, 2.5], [1.0, 0.1, -0.7]])
X_POS = np.abs(X_REAL) + 0.1
PROBS = np.array([[0.1, 0.5, 0.9], [0.3, 0.7, 0.05]])
X_UNIT = np.array([[0.2, 0.55, 0.9], [0.05, 0.5, 0.7]])
SIMPLEX = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])

# name -> (constructor from (D, params), parameter arrays, a value in the support)
FAMILIES = {
    "Exponential": (lambda D, p: D.Exponential(*p), [RATE], X_POS),
    "Laplace": (lambda D, p: D.Laplace(*p), [LOC, SCALE], X_REAL),
    "Cauchy": (lambda D, p: D.Cauchy(*p), [LOC, SCALE], X_REAL),
    "Gumbel": (lambda D, p: D.Gumbel(*p), [LOC, SCALE], X_REAL),
    "HalfNormal": (lambda D, p: D.HalfNormal(*p), [SCALE], X_POS),
    "LogNormal": (lambda D, p: D.LogNormal(*p), [LOC, SCALE], X_POS),
    "HalfCauchy": (lambda D, p: D.HalfCauchy(*p), [SCALE], X_POS),
    "Pareto": (lambda D, p: D.Pareto(*p), [SCALE * 0.1, RATE + 2], X_POS),
    "Weibull": (lambda D, p: D.Weibull(*p), [SCALE, RATE + 0.5], X_POS),
    "Kumaraswamy": (lambda D, p: D.Kumaraswamy(*p), [SCALE + 0.5, RATE + 1], X_UNIT),
}


def _or_none(fn):
    """fn(), or None where the family does not implement it (NotImplementedError)."""
    try:
        return fn()
    except NotImplementedError:
        return None


def _grads(lib, out, params):
    return lib.autograd.grad(out.sum(), params, retain_graph=True, allow_unused=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_matches_torch(name, dtype):
    make, arrays, x = FAMILIES[name]

    def run(lib):
        params = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        d = make(lib.distributions, params)
        s, r = d.sample((4,)), d.rsample((2,))
        value = lib.tensor(x.astype(dtype))
        lp, cdf = d.log_prob(value), d.cdf(value)
        icdf, ent = d.icdf(lib.tensor(PROBS.astype(dtype))), d.entropy()
        out = [s, r, lp, cdf, icdf, ent, d.mean, d.mode, d.variance, d.stddev, d.log_prob(s)]
        quantities = (r, lp, cdf, icdf, ent, d.mean, d.variance)
        for q in quantities:
            out += list(_grads(lib, q, params)) if q.requires_grad else [None] * len(params)
        info = ([q.requires_grad for q in quantities], tuple(d.batch_shape), tuple(d.event_shape),
                d.has_rsample, repr(d.support).replace("torch.", "chainrule."),
                {k: repr(v) for k, v in d.arg_constraints.items()}, s.requires_grad,
                r.requires_grad, repr(d).replace("torch.", "chainrule."))
        return out, info
    mine, theirs = _both(run)
    for i, (a, b) in enumerate(zip(mine[0], theirs[0])):
        tol = 1e-5 if dtype == "float32" else 1e-10
        _same(a, b, rtol=tol, atol=tol)
    assert mine[1] == theirs[1]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_expand_and_number_parameters(name):
    make, arrays, x = FAMILIES[name]

    def run(lib):
        d = make(lib.distributions, [lib.tensor(a[..., :1, :1].astype("float32")) for a in arrays])
        e = d.expand((4, 2, 3))
        scalar = make(lib.distributions, [float(a.ravel()[0]) for a in arrays])
        value = lib.tensor(x.astype("float32"))
        return (e.log_prob(value), e.sample((5,)), e.rsample(), scalar.log_prob(value),
                scalar.sample((3,)), tuple(e.batch_shape), tuple(scalar.batch_shape),
                scalar.mean.dtype == lib.float32, type(e).__name__)
    mine, theirs = _both(run)
    for a, b in zip(mine[:5], theirs[:5]):
        _same(a, b)
    assert mine[5:] == theirs[5:]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_log_prob_gradcheck_float64(name):
    make, arrays, x = FAMILIES[name]
    value = cr.tensor(x)
    params = tuple(cr.tensor(a, requires_grad=True) for a in arrays)
    assert cr.autograd.gradcheck(lambda *p: make(cr.distributions, p).log_prob(value), params)
    assert cr.autograd.gradcheck(lambda *p: make(cr.distributions, p).entropy(), params)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_invalid_parameter_and_value_raise_like_torch(name):
    make, arrays, x = FAMILIES[name]
    bad = [-np.abs(a) - 1 for a in arrays]     # every scale / rate negative
    mine, theirs = _raises_like_torch(lambda lib: make(lib.distributions,
                                                       [lib.tensor(a) for a in bad]))
    assert mine.splitlines()[0] == theirs.splitlines()[0].replace("torch", "chainrule")
    if name in ("Exponential", "HalfNormal", "LogNormal", "HalfCauchy", "Weibull"):
        mine, theirs = _raises_like_torch(
            lambda lib: make(lib.distributions,
                             [lib.tensor(a) for a in arrays]).log_prob(lib.tensor(-x)))
        assert mine.split(" of the distribution")[0] == theirs.split(" of the distribution")[0]
    off = make(cr.distributions, [cr.tensor(a) for a in arrays])
    off_t = make(torch.distributions, [torch.tensor(a) for a in arrays])
    assert repr(off.support) == repr(off_t.support).replace("torch.", "chainrule.")


# ------------------------------------------------------------------------------ transforms
T_CASES = {
    "exp": lambda T, lib: T.ExpTransform(),
    "affine_num": lambda T, lib: T.AffineTransform(1.5, -2.0),
    "affine_tensor": lambda T, lib: T.AffineTransform(lib.tensor([0.5, -1.0, 2.0]),
                                                      lib.tensor([2.0, -0.5, 1.0])),
    "affine_event": lambda T, lib: T.AffineTransform(0.0, lib.tensor([2.0, 0.5, 3.0]), event_dim=1),
    "sigmoid": lambda T, lib: T.SigmoidTransform(),
    "softplus": lambda T, lib: T.SoftplusTransform(),
    "tanh": lambda T, lib: T.TanhTransform(),
    "power": lambda T, lib: T.PowerTransform(lib.tensor([2.0, 0.5, -1.0])),
    "exp_inv": lambda T, lib: T.ExpTransform().inv,
    "compose": lambda T, lib: T.ComposeTransform([T.AffineTransform(0.0, 2.0), T.SigmoidTransform(),
                                                  T.AffineTransform(-1.0, 2.0)]),
    "indep_tanh": lambda T, lib: T.IndependentTransform(T.TanhTransform(), 1),
    "stick_breaking": lambda T, lib: T.StickBreakingTransform(),
    "reshape": lambda T, lib: T.ReshapeTransform((3,), (3, 1)),
}


@pytest.mark.parametrize("case", list(T_CASES))
def test_transform_call_inverse_log_det_and_gradients_match_torch(case):
    def run(lib):
        t = T_CASES[case](lib.distributions.transforms, lib)
        raw = X_POS if case in ("power", "exp_inv") else X_REAL
        x = lib.tensor(raw, requires_grad=True)
        y = t(x)
        back = t.inv(y.detach())
        ladj = t.log_abs_det_jacobian(x, y)
        g = lib.autograd.grad((y.sum() + ladj.sum()), [x])[0]
        sign = _or_none(lambda: t.sign)
        return ((y, back, ladj, g, sign if not isinstance(sign, int) else None),
                (t.bijective, repr(t.domain), repr(t.codomain), t.domain.event_dim,
                 t.codomain.event_dim, isinstance(sign, int) and sign, t.inv.inv is t, repr(t),
                 tuple(t.forward_shape((2, 3))), tuple(t.inverse_shape(tuple(y.shape)))))
    mine, theirs = _both(run)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b, rtol=1e-9, atol=1e-9)
    assert mine[1] == tuple(v.replace("torch", "chainrule") if isinstance(v, str) else v
                            for v in theirs[1])


def test_transform_cache_equality_and_errors_match_torch():
    T = cr.distributions.transforms
    t = T.TanhTransform(cache_size=1)
    x = cr.tensor([20.0, -0.5])
    y = t(x)
    assert t.inv(y) is x and t(x) is y                        # the cache returns the pre-image
    assert bool((T.TanhTransform().inv(y) != x).any())        # atanh(1.0) = inf without it
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    assert T.identity_transform(x) is x
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.transforms.ExpTransform(cache_size=2))
    assert mine == theirs
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.transforms.AbsTransform().sign)
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.TransformedDistribution(lib.distributions.Normal(0.0, 1.0),
                                                              "exp"))
    assert mine == theirs
    mine, theirs = _raises_like_torch(
        lambda lib: lib.distributions.TransformedDistribution(lib.distributions.Normal(0.0, 1.0),
                                                              [1]))
    assert mine == theirs
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(0.0, 1.0), lib.distributions.transforms.SoftmaxTransform()))
    assert mine == theirs.replace("torch", "chainrule")


@pytest.mark.parametrize("cache", [0, 1])
def test_tanh_squashed_gaussian_policy_matches_torch(cache):
    """The SAC policy: a = tanh(u), u ~ N(μ, σ); log π(a) and its gradients."""
    def run(lib):
        D = lib.distributions
        mu = lib.tensor([[0.1, -0.4], [2.0, 0.3]], requires_grad=True)
        log_std = lib.tensor([[-0.5, 0.2], [0.0, -1.0]], requires_grad=True)
        pi = D.TransformedDistribution(D.Normal(mu, log_std.exp()),
                                       [D.transforms.TanhTransform(cache_size=cache)])
        a = pi.rsample((3,))
        logp = pi.log_prob(a).sum(-1)
        g = lib.autograd.grad((logp.sum() + a.pow(2).sum()), [mu, log_std])
        fixed = pi.log_prob(lib.tensor([[0.5, -0.9], [0.0, 0.99]]))
        return (a, logp, g[0], g[1], fixed, pi.sample().shape, pi.has_rsample, repr(pi.support),
                pi.cdf(lib.tensor([0.5, -0.2])), pi.icdf(lib.tensor([0.1, 0.7])))
    mine, theirs = _both(run)
    for a, b in zip(mine[:5], theirs[:5]):
        _same(a, b, rtol=2e-5, atol=2e-5)
    assert (tuple(mine[5]), mine[6], mine[7]) == (tuple(theirs[5]), theirs[6], theirs[7])
    _same(mine[8], theirs[8])
    _same(mine[9], theirs[9])


def test_transformed_distribution_shapes_decreasing_cdf_and_expand_match_torch():
    def run(lib):
        D, T = lib.distributions, lib.distributions.transforms
        scale = lib.tensor([2.0, -0.5, 1.0], requires_grad=True)
        base = D.Normal(lib.zeros(3), lib.ones(3))
        flip = D.TransformedDistribution(base, [T.AffineTransform(1.0, scale)])
        vec = D.TransformedDistribution(base, T.AffineTransform(0.0, scale, event_dim=1))
        wide = D.TransformedDistribution(D.Normal(0.0, 1.0),
                                         [T.AffineTransform(lib.zeros(2, 1), scale)])
        soft = D.TransformedDistribution(D.Normal(lib.zeros(4), 1.0), [T.SoftmaxTransform()])
        x = lib.tensor([0.3, 1.7, -0.4])
        e = vec.expand((5, 2))
        lp = vec.log_prob(x)
        g = lib.autograd.grad(lp + flip.cdf(x).sum(), [scale])[0]
        return ((flip.cdf(x), flip.icdf(lib.tensor([0.2, 0.5, 0.9])), lp, g, e.log_prob(x),
                 soft.sample((2,)), flip.log_prob(x)),
                [tuple(d.batch_shape) + (None,) + tuple(d.event_shape)
                 for d in (flip, vec, wide, soft, e)],
                repr(vec.support), repr(soft.support), type(e).__name__)
    mine, theirs = _both(run)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b)
    assert mine[1:] == theirs[1:]


def test_distributions_namespace_exports_transforms_module():
    import chainrule.distributions.transforms as crt
    assert cr.distributions.transforms is crt
    for name in torch.distributions.transforms.__all__:
        if name in crt.__all__:
            assert getattr(cr.distributions, name) is getattr(crt, name)
    for name in ("Exponential", "Laplace", "Cauchy", "Gumbel", "HalfNormal", "LogNormal",
                 "TransformedDistribution"):
        assert name in cr.distributions.__all__ and hasattr(torch.distributions, name)


# ------------------------------------------------------------------ gamma family, Poisson
CONC = np.array([[0.3, 2.0, 9.5]])
RATE2 = np.array([[1.0], [2.5]])
COUNTS = np.array([[0.0, 3.0, 12.0], [1.0, 2.0, 7.0]])

# name -> (constructor, parameter arrays, a value in the support)
FAMILIES2 = {
    "Gamma": (lambda D, p: D.Gamma(*p), [CONC, RATE2], X_POS),
    "Chi2": (lambda D, p: D.Chi2(*p), [CONC * 3], X_POS),
    "Beta": (lambda D, p: D.Beta(*p), [CONC, RATE2], X_UNIT),
    "Dirichlet": (lambda D, p: D.Dirichlet(p[0] * p[1]), [CONC, RATE2], SIMPLEX),
    "StudentT": (lambda D, p: D.StudentT(*p), [CONC * 2, LOC, SCALE], X_REAL),
    "Poisson": (lambda D, p: D.Poisson(p[0] * p[1]), [CONC, RATE2 * 4], COUNTS),
    "Geometric": (lambda D, p: D.Geometric(p[0] * p[1]), [CONC / 10, RATE2 / 2.5], COUNTS),
    "GeometricLogits": (lambda D, p: D.Geometric(logits=p[0] - p[1]), [CONC, RATE2], COUNTS),
    "Binomial": (lambda D, p: D.Binomial(12, p[0] * p[1]), [CONC / 10, RATE2 / 2.5], COUNTS),
    "BinomialLogits": (lambda D, p: D.Binomial(COUNTS.max(), logits=p[0] - p[1]), [CONC, RATE2],
                       COUNTS),
    "NegativeBinomial": (lambda D, p: D.NegativeBinomial(p[0] * 3, p[1] / 3), [CONC, RATE2],
                         COUNTS),
    "NegBinomialLogits": (lambda D, p: D.NegativeBinomial(p[1] * 2, logits=p[0] - 1), [CONC, RATE2],
                          COUNTS),
    "InverseGamma": (lambda D, p: D.InverseGamma(p[0] + 2, p[1]), [CONC, RATE2], X_POS),
    "FisherSnedecor": (lambda D, p: D.FisherSnedecor(p[0] * 3 + 1, p[1] * 4), [CONC, RATE2], X_POS),
    "LogisticNormal": (lambda D, p: D.LogisticNormal(p[0][..., :2] - 1, p[1]), [CONC, RATE2],
                       SIMPLEX),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(FAMILIES2))
def test_gamma_family_matches_torch(name, dtype):
    """Samples equal torch's (the same rejection samplers on the same stream); scores, moments
    and the implicit reparameterisation gradients of rsample agree."""
    make, arrays, x = FAMILIES2[name]

    def run(lib):
        params = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        d = make(lib.distributions, params)
        s = d.sample((3,))
        after = lib.rand(2, dtype=getattr(lib, dtype))  # the stream is left where torch leaves it
        value = lib.tensor(x.astype(dtype))
        lp = d.log_prob(value)
        # torch has no moments / entropy for some families: then neither has chainrule
        mean, var, ent = _or_none(lambda: d.mean), _or_none(lambda: d.variance), _or_none(d.entropy)
        out = [s, after, lp, mean, var, ent, _or_none(lambda: d.mode), d.log_prob(s)]
        quantities = [q for q in (lp, mean, var, ent) if q is not None]
        if d.has_rsample:
            r = d.rsample((2,))
            out += [r]
            quantities += [r * lib.arange(r.numel(), dtype=r.dtype).reshape(r.shape).cos()]
        for q in quantities:
            out += list(_grads(lib, q, params)) if q.requires_grad else [None] * len(params)
        info = (tuple(d.batch_shape), tuple(d.event_shape), d.has_rsample,
                repr(d.support).replace("torch.", "chainrule."),
                {k: repr(v) for k, v in d.arg_constraints.items()}, s.requires_grad,
                repr(d).replace("torch.", "chainrule."))
        return out, info
    mine, theirs = _both(run)
    tol = 2e-5 if dtype == "float32" else 1e-9
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b, rtol=tol, atol=tol)
    assert mine[1] == theirs[1]


@pytest.mark.parametrize("name", list(FAMILIES2))
def test_gamma_family_expand_numbers_and_gradcheck(name):
    make, arrays, x = FAMILIES2[name]

    def run(lib):
        d = make(lib.distributions, [lib.tensor(a[..., :1, :1].astype("float32")) for a in arrays])
        e = d.expand((4, 2))
        value = lib.tensor(x[:1, :2].astype("float32"))
        return (e.sample((2,)), e.log_prob(value), tuple(e.batch_shape), tuple(e.event_shape),
                type(e).__name__)
    if name == "Dirichlet":
        mine, theirs = _both(lambda lib: (
            lib.distributions.Dirichlet(lib.tensor([0.5, 2.0])).expand((4,)).sample((2,)),
            lib.distributions.Beta(0.5, 2.0).sample((3,)),
            lib.distributions.Beta(0.5, 2.0).mean))
        for a, b in zip(mine, theirs):
            _same(a, b)
    elif name == "LogisticNormal":
        mine, theirs = _both(lambda lib: (
            lib.distributions.LogisticNormal(lib.zeros(2), 1.0).expand((4,)).sample((2,)),
            lib.distributions.LogisticNormal(0.5, 2.0).rsample((3,)),
            lib.distributions.LogisticNormal(lib.zeros(2), 1.0).expand((4,)).log_prob(
                lib.tensor(SIMPLEX[:1]).float())))
        for a, b in zip(mine, theirs):
            _same(a, b)
    else:
        mine, theirs = _both(run)
        for a, b in zip(mine[:2], theirs[:2]):
            _same(a, b)
        assert mine[2:] == theirs[2:]
    value = cr.tensor(x)
    params = tuple(cr.tensor(a, requires_grad=True) for a in arrays)
    assert cr.autograd.gradcheck(lambda *p: make(cr.distributions, p).log_prob(value), params)
    if _or_none(make(cr.distributions, params).entropy) is not None:
        assert cr.autograd.gradcheck(lambda *p: make(cr.distributions, p).entropy(), params)


def test_implicit_gamma_and_beta_gradients_satisfy_the_quantile_identity():
    """An oracle independent of torch: dx/dα = −(∂F/∂α)(x; α) / p(x; α), F from SciPy, its
    α-derivative by central differences (float64)."""
    from scipy import special, stats
    alpha = np.array([0.05, 0.4, 1.0, 3.0, 7.5, 20.0, 150.0])
    cr.manual_seed(1)
    a = cr.tensor(np.repeat(alpha, 40), requires_grad=True)
    x = cr.distributions.Gamma(a, 1.0).rsample()
    (g,) = cr.autograd.grad(x.sum(), [a])
    xa, av = x.detach().numpy(), a.detach().numpy()
    h = 1e-6 * av
    dF = (special.gammainc(av + h, xa) - special.gammainc(av - h, xa)) / (2 * h)
    np.testing.assert_allclose(g.numpy(), -dF / stats.gamma.pdf(xa, av), rtol=2e-3, atol=1e-6)
    c1 = cr.tensor(np.repeat([0.5, 2.0, 8.0, 30.0], 30), requires_grad=True)
    c0 = cr.tensor(np.tile([0.7, 3.0, 12.0], 40), requires_grad=True)
    y = cr.distributions.Beta(c1, c0).rsample()
    (g1,) = cr.autograd.grad(y.sum(), [c1])
    ya, p1, p0 = y.detach().numpy(), c1.detach().numpy(), c0.detach().numpy()
    h = 1e-6 * p1
    dF = (special.betainc(p1 + h, p0, ya) - special.betainc(p1 - h, p0, ya)) / (2 * h)
    np.testing.assert_allclose(g1.numpy(), -dF / stats.beta.pdf(ya, p1, p0), rtol=5e-3, atol=1e-5)


def test_gamma_family_samples_have_the_right_moments():
    """20000 draws: sample mean within 4 standard errors of the distribution's mean."""
    cr.manual_seed(7)
    for d in (cr.distributions.Gamma(cr.tensor([0.3, 4.0]), cr.tensor([2.0, 0.5])),
              cr.distributions.Beta(cr.tensor([0.5, 5.0]), cr.tensor([2.0, 1.5])),
              cr.distributions.Poisson(cr.tensor([0.7, 25.0])),
              cr.distributions.StudentT(cr.tensor([5.0, 9.0]))):
        s = d.sample((20000,)).double()
        se = (d.variance.double() / 20000).sqrt()
        assert bool(((s.mean(0) - d.mean.double()).abs() < 4 * se).all()), type(d).__name__


def test_poisson_function_and_gamma_family_errors_match_torch():
    mine, theirs = _both(lambda lib: (lib.poisson(lib.tensor([[0.0, 4.0], [11.0, 300.0]])),
                                      lib.poisson(lib.tensor([3.0, 30.0], dtype=lib.float64))))
    for a, b in zip(mine, theirs):
        _same(a, b, rtol=0, atol=0)
    for bad in (lambda lib: lib.distributions.Gamma(lib.tensor([1.0, -1.0]), 1.0),
                lambda lib: lib.distributions.Beta(lib.tensor([1.0]), lib.tensor([0.0])),
                lambda lib: lib.distributions.Dirichlet(lib.tensor([[1.0, -0.5]])),
                lambda lib: lib.distributions.StudentT(lib.tensor([-1.0])),
                lambda lib: lib.distributions.Poisson(lib.tensor([-0.5])),
                lambda lib: lib.distributions.Chi2(lib.tensor([0.0])),
                lambda lib: lib.distributions.Geometric(lib.tensor([0.0, 0.5])),
                lambda lib: lib.distributions.Geometric(lib.tensor([1.5]))):
        mine, theirs = _raises_like_torch(bad)
        assert mine.splitlines()[0] == theirs.splitlines()[0].replace("torch", "chainrule")
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.Dirichlet(lib.tensor(1.0)))
    assert mine == theirs
    for bad in (lambda lib: lib.distributions.Poisson(lib.tensor([2.0])).log_prob(
                    lib.tensor([1.5])),
                lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, 2.0])).log_prob(
                    lib.tensor([0.5, 0.6])),
                lambda lib: lib.distributions.Beta(1.0, 2.0).log_prob(lib.tensor([1.5])),
                lambda lib: lib.distributions.Pareto(lib.tensor([1.0]), 2.0).log_prob(
                    lib.tensor([0.5]))):
        mine, theirs = _raises_like_torch(bad)
        assert mine.split(" of the distribution")[0] == theirs.split(" of the distribution")[0]


# ----------------------------------------------------------------------------- KL pairs
def _kl_dists(lib, params):
    """Every family with parameters built from the leaves in ``params``; a, b in (0.3, 3)."""
    D = lib.distributions
    a, b = params
    return {
        "Normal": D.Normal(a - 1, b), "Uniform": D.Uniform(a - 2, a + b),
        "Exponential": D.Exponential(a),
        "Gamma": D.Gamma(a, b), "Chi2": D.Chi2(a * 2), "Beta": D.Beta(a, b),
        "Gumbel": D.Gumbel(a - 1, b),
        "Laplace": D.Laplace(1 - a, b), "Cauchy": D.Cauchy(a, b), "HalfNormal": D.HalfNormal(b),
        "LogNormal": D.LogNormal(a - 1, b), "Poisson": D.Poisson(a * 3),
        "Bernoulli": D.Bernoulli(a / 4),
        "UnitUniform": D.Uniform(a * b * 0 + 0.1, a * b * 0 + 0.9),
        "Pareto": D.Pareto(b, a + 0.8), "Geometric": D.Geometric(a / 3),
        "Binomial": D.Binomial(12, a / 3), "Binomial9": D.Binomial(9, b / 3),
        "Dirichlet": D.Dirichlet(lib.stack(lib.broadcast_tensors(a, b, a * b), -1)),
    }


KL_PAIRS = [("Beta", "Beta"), ("Dirichlet", "Dirichlet"), ("Exponential", "Exponential"),
            ("Gamma", "Gamma"), ("Chi2", "Chi2"), ("Gamma", "Chi2"), ("Gumbel", "Gumbel"),
            ("HalfNormal", "HalfNormal"), ("Laplace", "Laplace"), ("Poisson", "Poisson"),
            ("Cauchy", "Cauchy"), ("LogNormal", "LogNormal"), ("Beta", "Exponential"),
            ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"), ("Beta", "UnitUniform"),
            ("Exponential", "Beta"), ("Exponential", "Uniform"), ("Exponential", "Gamma"),
            ("Exponential", "Gumbel"), ("Exponential", "Normal"), ("Gamma", "Beta"),
            ("Gamma", "Uniform"), ("Gamma", "Exponential"), ("Gamma", "Gumbel"),
            ("Gamma", "Normal"),
            ("Gumbel", "Beta"), ("Gumbel", "Exponential"), ("Gumbel", "Gamma"),
            ("Gumbel", "Uniform"),
            ("Gumbel", "Normal"), ("Laplace", "Beta"), ("Laplace", "Exponential"),
            ("Laplace", "Gamma"),
            ("Laplace", "Uniform"), ("Laplace", "Normal"), ("Normal", "Beta"),
            ("Normal", "Exponential"),
            ("Normal", "Gamma"), ("Normal", "Gumbel"), ("Normal", "Laplace"),
            ("Poisson", "Bernoulli"),
            ("UnitUniform", "Beta"), ("Uniform", "Beta"), ("Uniform", "Exponential"),
            ("Uniform", "Gamma"), ("Uniform", "Gumbel"), ("Geometric", "Geometric"),
            ("Pareto", "Pareto"), ("Beta", "Pareto"), ("Pareto", "Beta"), ("Pareto", "Uniform"),
            ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
            ("Uniform", "Pareto"), ("Exponential", "Pareto"), ("Gamma", "Pareto"),
            ("Gumbel", "Pareto"), ("Laplace", "Pareto"), ("Normal", "Pareto"),
            ("Binomial", "Binomial"), ("Binomial", "Binomial9"), ("Poisson", "Binomial")]


@pytest.mark.parametrize("pair", KL_PAIRS, ids=["-".join(p) for p in KL_PAIRS])
def test_kl_divergence_pairs_match_torch(pair):
    pa = np.array([[0.4, 1.3, 2.7]])
    pb = np.array([[0.8], [2.2]])
    qa, qb = pa[:, ::-1] + 0.25, pb * 0.7

    def run(lib):
        leaves = [lib.tensor(v, requires_grad=True) for v in (pa, pb, qa.copy(), qb)]
        p = _kl_dists(lib, leaves[:2])[pair[0]]
        q = _kl_dists(lib, leaves[2:])[pair[1]]
        kl = lib.distributions.kl_divergence(p, q)
        finite = kl.isfinite()
        grads = _grads(lib, kl[finite], leaves) if kl[finite].requires_grad else [None] * 4
        return [kl] + [None if g is None else g for g in grads]
    mine, theirs = _both(run)
    _same(mine[0], theirs[0], rtol=1e-9, atol=1e-9)
    for a, b in zip(mine[1:], theirs[1:]):     # torch's trigamma is good to ~5e-10 only
        _same(a, b, rtol=1e-7, atol=1e-9)


def test_kl_divergence_without_a_closed_form_raises_like_torch():
    for p, q in (("Cauchy", "Normal"), ("Gumbel", "Laplace"), ("LogNormal", "Gamma")):
        mine, theirs = _raises_like_torch(lambda lib: lib.distributions.kl_divergence(
            _kl_dists(lib, [lib.tensor([1.0]), lib.tensor([2.0])])[p],
            _kl_dists(lib, [lib.tensor([1.0]), lib.tensor([2.0])])[q]))
        assert mine == theirs
    T = torch.distributions
    with pytest.raises(NotImplementedError):
        cr.distributions.kl_divergence(
            cr.distributions.TransformedDistribution(cr.distributions.Normal(0.0, 1.0),
                                                     cr.distributions.ExpTransform()),
            cr.distributions.TransformedDistribution(cr.distributions.Normal(0.0, 1.0),
                                                     cr.distributions.TanhTransform()))
    with pytest.raises(NotImplementedError):
        T.kl_divergence(T.TransformedDistribution(T.Normal(0.0, 1.0), T.ExpTransform()),
                        T.TransformedDistribution(T.Normal(0.0, 1.0), T.TanhTransform()))


# ------------------------------------------------------------------ incomplete gamma, Gamma.cdf
def test_incomplete_gamma_matches_scipy_and_torch_and_gamma_cdf():
    from scipy import special
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0.01, 5, 300), rng.uniform(5, 300, 300)])
    x = a * rng.uniform(0.2, 2.0, a.size)
    p = cr.special.gammainc(cr.tensor(a), cr.tensor(x)).numpy()
    q = cr.igammac(cr.tensor(a), cr.tensor(x)).numpy()
    np.testing.assert_allclose(p, special.gammainc(a, x), rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(q, special.gammaincc(a, x), rtol=1e-11, atol=1e-300)
    # torch's own values are good to ~2e-9 for large a
    np.testing.assert_allclose(p, torch.special.gammainc(torch.tensor(a), torch.tensor(x)).numpy(),
                               rtol=1e-8)
    np.testing.assert_array_equal(cr.tensor(a).igamma(cr.tensor(x)).numpy(), p)
    xs = cr.tensor([0.3, 2.5, 41.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(
        lambda v: cr.igammac(cr.tensor([0.5, 3.0, 40.0], dtype=cr.float64), v), (xs,))
    edges = ([0., 0., -1., 1., 2., math.inf, 3.0, 2.0],
             [0., 1., 1., -1., 0., 1., math.inf, math.nan])
    for f in ("gammainc", "gammaincc"):
        _same(getattr(cr.special, f)(*map(cr.tensor, edges)),
              getattr(torch.special, f)(*map(torch.tensor, edges)))

    def run(lib):
        conc = lib.tensor([[0.5, 2.0, 9.0]], requires_grad=True)
        rate = lib.tensor([[1.0], [3.0]], requires_grad=True)
        value = lib.tensor([[0.2, 1.5, 4.0], [0.7, 0.1, 3.0]], requires_grad=True)
        d = lib.distributions.Gamma(conc.detach(), rate)
        cdf = d.cdf(value)
        chi = lib.distributions.Chi2(conc.detach() * 4).cdf(value)
        return ((cdf, chi, lib.igamma(conc.detach(), value).float())
                + tuple(_grads(lib, cdf + chi, [rate, value])))
    mine, theirs = _both(run)
    for a_, b_ in zip(mine, theirs):
        _same(a_, b_, rtol=1e-5, atol=1e-6)
    for lib_name in ("igamma", "igammac"):
        mine, theirs = _raises_like_torch(lambda lib: getattr(lib, lib_name)(
            lib.tensor([2.0], requires_grad=True), lib.tensor([1.0])).sum().backward())
        assert mine == theirs
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.Gamma(
        lib.tensor([2.0], requires_grad=True), 1.0).cdf(lib.tensor([1.0])).sum().backward())
    assert mine == theirs


# ------------------------------------------------------------------ exponential families
def test_exponential_family_entropy_and_bregman_kl_match_torch():
    def run(lib):
        D = lib.distributions
        qloc = lib.tensor(1.0, requires_grad=True)
        ps = [D.Normal(lib.tensor([0.3, 1.0]), lib.tensor([2.0, 0.5])),
              D.Gamma(lib.tensor([0.5, 3.0]), 2.0),
              D.Exponential(lib.tensor([0.5, 3.0])), D.Bernoulli(lib.tensor([0.2, 0.7])),
              D.Beta(lib.tensor([0.5, 3.0]), 2.0), D.Dirichlet(lib.tensor([[0.5, 3.0, 1.0]])),
              D.Poisson(lib.tensor([0.5, 3.0]))]
        qs = [D.Normal(qloc, 3.0), D.Gamma(2.0, 1.0), D.Exponential(2.0), D.Bernoulli(0.4),
              D.Beta(1.5, 0.5), D.Dirichlet(lib.tensor([[1.0, 2.0, 2.0]])), D.Poisson(2.0)]
        ent = [D.ExponentialFamily.entropy(p) for p in ps[:4]]
        kl = [D.kl._kl_expfamily_expfamily(p, q) for p, q in zip(ps, qs)]
        g = lib.autograd.grad(kl[0].sum(), [qloc])
        return ent + kl + list(g), [isinstance(p, D.ExponentialFamily)
                                    for p in ps + [D.Laplace(0.0, 1.0)]]
    mine, theirs = _both(run)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b, rtol=1e-5, atol=1e-5)
    assert mine[1] == theirs[1]
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Normal(0.0, 1.0), lib.distributions.Poisson(1.0)))
    assert mine == theirs
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.Poisson(1.0).entropy())


# ------------------------------------------------------------------ mixtures
def test_mixture_same_family_gaussian_mixture_matches_torch():
    def run(lib):
        D = lib.distributions
        w = lib.tensor([[0.2, 1.0, -0.5], [0.3, -0.1, 0.4]], requires_grad=True)
        mu = lib.tensor([[-1.0, 0.5, 2.0], [0.0, 1.0, 3.0]], requires_grad=True)
        sd = lib.tensor([0.7, 1.3, 0.4], requires_grad=True)
        gmm = D.MixtureSameFamily(D.Categorical(logits=w), D.Normal(mu, sd))
        x = lib.tensor([[0.1, 1.2], [2.0, -3.0]])
        lp = gmm.log_prob(x)
        g = _grads(lib, lp, [w, mu, sd])
        vec = D.MixtureSameFamily(D.Categorical(probs=lib.tensor([0.3, 0.7])),
                                  D.Independent(D.Normal(mu.detach(), 1.0), 1))
        e = vec.expand((4,))
        return ((gmm.sample((5,)), lp, *g, gmm.mean, gmm.variance, gmm.cdf(x), vec.sample((3,)),
                 vec.log_prob(lib.ones(3, 3)), vec.mean, vec.variance, e.log_prob(lib.zeros(3))),
                (tuple(gmm.batch_shape), tuple(vec.event_shape), tuple(e.batch_shape),
                 repr(gmm.support), repr(vec.support), repr(gmm).replace("torch.", "chainrule."),
                 gmm.has_rsample))
    mine, theirs = _both(run)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b)
    assert mine[1] == theirs[1]
    D = cr.distributions
    for bad in (lambda lib: lib.distributions.MixtureSameFamily(
                    lib.distributions.Normal(0.0, 1.0),
                    lib.distributions.Normal(lib.zeros(2), 1.0)),
                lambda lib: lib.distributions.MixtureSameFamily(
                    lib.distributions.Categorical(logits=lib.zeros(3)),
                    lib.distributions.Normal(lib.zeros(2), 1.0)),
                lambda lib: lib.distributions.MixtureSameFamily(
                    lib.distributions.Categorical(logits=lib.zeros(3, 2)),
                    lib.distributions.Normal(lib.zeros(4, 2), 1.0))):
        mine, theirs = _raises_like_torch(bad)
        assert mine == theirs.replace("torch", "chainrule")
    assert D.MixtureSameFamily(D.Categorical(logits=cr.zeros(2)),
                               D.Exponential(cr.ones(2))).support.check(
        cr.tensor([1.0, -1.0])).tolist() == [True, False]


def test_binomial_function_and_errors_match_torch():
    count = np.array([[0.0, 5.0, 40.0, 300.0], [12.0, 7.0, 1000.0, 3.0]])
    prob = np.array([[0.5, 0.02, 0.6, 0.97], [1.0, 0.0, 0.45, 0.3]])
    for dt in ("float32", "float64"):
        mine, theirs = _both(lambda lib: (lib.binomial(lib.tensor(count.astype(dt)),
                                                       lib.tensor(prob.astype(dt))),
                                          lib.rand(3)))
        for a, b in zip(mine, theirs):
            _same(a, b, rtol=0, atol=0)
    for bad in (lambda lib: lib.distributions.Binomial(lib.tensor([2.5]), lib.tensor([0.5])),
                lambda lib: lib.distributions.Binomial(3, lib.tensor([1.5]))):
        mine, theirs = _raises_like_torch(bad)
        assert mine.splitlines()[0] == theirs.splitlines()[0].replace("torch", "chainrule")
    for bad in (lambda lib: lib.distributions.Binomial(3, lib.tensor([0.5])).log_prob(
                    lib.tensor([4.0])),
                lambda lib: lib.distributions.Binomial(lib.tensor([3.0, 4.0]),
                                                       lib.tensor([0.5, 0.5])).entropy(),
                lambda lib: lib.distributions.Binomial(probs=lib.tensor([0.5]),
                                                       logits=lib.tensor([0.0])),
                lambda lib: lib.distributions.kl_divergence(
                    lib.distributions.Binomial(3, lib.tensor([0.5])),
                    lib.distributions.Binomial(4, lib.tensor([0.5])))):
        mine, theirs = _raises_like_torch(bad)
        assert mine.split(" of the distribution")[0] == theirs.split(" of the distribution")[0]


def test_lazy_parameters_first_read_under_no_grad_keep_their_graph():
    """sample() reads probs from logits under no_grad; the cached probs must still depend on
    the logits (torch computes lazy properties with grad enabled)."""
    for lib in (torch, cr):
        w = lib.tensor([0.3, -1.0, 0.5], requires_grad=True)
        for d in (lib.distributions.Categorical(logits=w), lib.distributions.Bernoulli(logits=w),
                  lib.distributions.Geometric(logits=w), lib.distributions.Binomial(4, logits=w)):
            d.sample()
            assert d.probs.requires_grad, (lib.__name__, type(d).__name__)


# ------------------------------------------------------------------ relaxed, multinomial
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relaxed_and_multinomial_match_torch(dtype):
    def run(lib):
        D = lib.distributions
        dt = getattr(lib, dtype)
        w = lib.tensor([[0.3, -1.0, 0.5], [1.0, 0.0, -2.0]], dtype=dt, requires_grad=True)
        t = lib.tensor(0.7, dtype=dt, requires_grad=True)
        cat = D.RelaxedOneHotCategorical(t, logits=w)
        x = cat.rsample((2,))
        lp = cat.log_prob(x.detach())
        bern = D.RelaxedBernoulli(t, probs=w.sigmoid())
        y = bern.rsample()
        lpb = bern.log_prob(y.detach())
        m = D.Multinomial(7, logits=w)
        s = m.sample((2,))
        lpm = m.log_prob(s)
        ent = m.entropy()
        mp = D.Multinomial(5, probs=lib.tensor([0.0, 0.3, 0.7], dtype=dt))
        out = [x, lp, y, lpb, s, lpm, ent, m.mean, m.variance,
               mp.log_prob(lib.tensor([0.0, 2.0, 3.0], dtype=dt))]
        for q in (x * lib.arange(3, dtype=dt), lp, y, lpb, lpm, ent):
            out += list(_grads(lib, q, [w, t])) if q.requires_grad else [None, None]
        exp_cat = D.relaxed_categorical.ExpRelaxedCategorical(
            t, probs=lib.tensor([0.2, 0.8], dtype=dt))
        logit_b = D.relaxed_bernoulli.LogitRelaxedBernoulli(
            t, logits=lib.tensor([0.4, -0.3], dtype=dt))
        out += [exp_cat.rsample(), logit_b.rsample((2,)),
                exp_cat.log_prob(lib.tensor([-0.5, -1.0], dtype=dt)),
                logit_b.log_prob(lib.tensor([1.5, -2.0], dtype=dt)), cat.expand((3, 2)).rsample(),
                m.expand((4, 2)).sample()]
        info = [(tuple(d.batch_shape), tuple(d.event_shape), d.has_rsample, repr(d.support))
                for d in (cat, bern, m, exp_cat, logit_b)]
        return out, info
    mine, theirs = _both(run)
    tol = 2e-5 if dtype == "float32" else 1e-10
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b, rtol=tol, atol=tol)
    assert mine[1] == theirs[1]
    for bad in (lambda lib: lib.distributions.Multinomial(2.5, probs=lib.tensor([0.5, 0.5])),
                lambda lib: lib.distributions.Multinomial(3, probs=lib.tensor([-0.5, 1.5])),
                lambda lib: lib.distributions.RelaxedBernoulli(lib.tensor(0.5),
                                                               probs=lib.tensor([1.5])),
                lambda lib: lib.distributions.RelaxedOneHotCategorical(lib.tensor(0.5))):
        mine, theirs = _raises_like_torch(bad)
        assert mine.splitlines()[0] == theirs.splitlines()[0].replace("torch", "chainrule")
    mine, theirs = _raises_like_torch(lambda lib: lib.distributions.Multinomial(
        3, probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([2.0, 2.0])))
    assert mine.split(" of the distribution")[0] == theirs.split(" of the distribution")[0]


def test_gamma_and_dirichlet_samplers_edge_values_match_torch():
    from chainrule.distributions import _reparam
    a = [math.nan, 2.0, 0.0, math.inf, 1e-4, 3e3]
    mine, theirs = _both(lambda lib: (
        (_reparam._standard_gamma if lib is cr else torch._standard_gamma)(lib.tensor(a)),
        (_reparam._sample_dirichlet if lib is cr else torch._sample_dirichlet)(
            lib.tensor([[math.nan, 2.0], [0.5, 0.5], [1e-3, 1e-3]])),
        lib.rand(3)))
    for x, y in zip(mine, theirs):
        _same(x, y, rtol=0, atol=0)
