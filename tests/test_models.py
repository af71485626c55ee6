"""The deck's models: perceptron, hand-wired XOR, MLP, GLM (vs scikit-learn and SciPy),
basis functions, universal approximation."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, nn

XOR_X = cr.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
XOR_Y = [0, 1, 1, 0]


def test_perceptron_converges_on_separable_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = (X @ np.array([2.0, -1.0]) + 0.3 > 0).astype(int)
    p = models.Perceptron(max_epochs=1000).fit(cr.tensor(X), cr.tensor(y))
    assert p.converged_ and p.errors_[-1] == 0 and p.score(X, y) == 1.0


def test_perceptron_fails_on_xor_and_says_so():
    with pytest.warns(models.ConvergenceWarning, match="did not converge"):
        p = models.Perceptron(max_epochs=25).fit(XOR_X, cr.tensor(XOR_Y))
    assert not p.converged_ and p.n_epochs_ == 25
    assert p.score(XOR_X, XOR_Y) < 1.0


def test_perceptron_errors():
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        models.Perceptron().fit(XOR_X, [0, 2, 1, 0])
    with pytest.raises(RuntimeError, match="call fit"):
        models.Perceptron().predict(XOR_X)


def test_hand_wired_xor_network():
    out = models.xor_network()(XOR_X).reshape(-1).tolist()
    assert out == XOR_Y
    hidden = models.xor_network()[:2](XOR_X).tolist()   # h1 = AND, h2 = OR
    assert [h[0] for h in hidden] == [0, 0, 0, 1] and [h[1] for h in hidden] == [0, 1, 1, 1]


@pytest.mark.parametrize("seed", range(5))
def test_mlp_learns_xor_from_random_init(seed):
    cr.manual_seed(seed)
    mlp = models.MLP(2, [8], 1, activation="tanh")
    opt = cr.optim.Adam(mlp.parameters(), lr=0.05)
    y = cr.tensor([[0.], [1.], [1.], [0.]])
    for _ in range(400):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(mlp(XOR_X), y)
        loss.backward()
        opt.step()
    assert ((mlp(XOR_X) > 0).reshape(-1).long().tolist()) == XOR_Y


def test_mlp_state_dict_keys_match_torch_sequential():
    torch = pytest.importorskip("torch")
    mlp = models.MLP(3, [5, 4], 2, activation="relu", output_activation="softmax")
    ref = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4),
                              torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Softmax(-1))
    assert list(mlp.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mlp.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(mlp(cr.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def glm_data():
    sk = pytest.importorskip("sklearn.datasets")
    d = sk.load_diabetes()
    Xd = (d.data - d.data.mean(0)) / d.data.std(0)
    b = sk.load_breast_cancer()
    Xb = ((b.data - b.data.mean(0)) / b.data.std(0))[:, :10]   # well-conditioned, not separable
    counts = np.random.default_rng(0).poisson(np.exp(0.5 + Xd @ np.linspace(-0.3, 0.3, 10)))
    return {"gaussian": (Xd, d.target.astype(float)), "bernoulli": (Xb, b.target.astype(float)),
            "poisson": (Xd, counts.astype(float))}


def _sklearn(family, X, y):
    from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor
    if family == "gaussian":
        m = LinearRegression().fit(X, y)
        return m.coef_, m.intercept_
    if family == "bernoulli":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            m = LogisticRegression(penalty=None, tol=1e-12, max_iter=100000).fit(X, y)
        return m.coef_[0], m.intercept_[0]
    m = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=10000).fit(X, y)
    return m.coef_, m.intercept_


@pytest.mark.parametrize("family", ["gaussian", "bernoulli", "poisson"])
def test_glm_matches_sklearn_and_scipy(glm_data, family):
    st = pytest.importorskip("scipy.stats")
    X, y = glm_data[family]
    glm = models.GLM(family).fit(cr.tensor(X), cr.tensor(y))
    coef, intercept = _sklearn(family, X, y)
    mine = np.append(glm.coef_, glm.intercept_)
    ref = np.append(coef, intercept)
    assert np.max(np.abs(mine - ref) / np.maximum(np.abs(ref), 1e-3)) < 1e-4
    mu = glm.predict(X)
    expected = {"gaussian": lambda: st.norm.logpdf(y, mu, np.sqrt(glm.scale_)).sum(),
                "bernoulli": lambda: st.bernoulli.logpmf(y, mu).sum(),
                "poisson": lambda: st.poisson.logpmf(y, mu).sum()}[family]()
    assert glm.log_likelihood(X, y) == pytest.approx(expected, rel=1e-9)
    assert glm.deviance(X, y) >= 0


def test_glm_errors():
    with pytest.raises(ValueError, match="family must be one of"):
        models.GLM("binomial")
    with pytest.raises(ValueError, match="canonical link"):
        models.GLM("poisson", link="identity")
    with pytest.raises(ValueError, match="0/1 targets"):
        models.GLM("bernoulli").fit(np.zeros((3, 1)), [0, 1, 2])


def test_polynomial_features():
    x = cr.tensor([[2.0, 3.0]])
    assert models.PolynomialFeatures(2)(x).tolist() == [[2.0, 3.0, 4.0, 6.0, 9.0]]


def _fit_rbf(trainable, steps=300):
    cr.manual_seed(0)
    x = cr.linspace(-3, 3, 120).reshape(-1, 1)
    y = (2 * x).sin() * (-(x ** 2) / 4).exp()
    model = models.basis_model(models.RBF(1, 6, trainable=trainable), 1, 1)
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return loss.item()


def test_trainable_rbf_beats_frozen_centres():
    trained, frozen = _fit_rbf(True), _fit_rbf(False)
    assert trained < 0.5 * frozen


def test_fourier_features_shape_and_grad():
    f = models.FourierFeatures(2, 5)
    out = f(cr.randn(4, 2))
    assert out.shape == (4, 10)
    out.sum().backward()
    assert f.frequencies.grad is not None


@pytest.mark.parametrize("fn, half", [(lambda x: x.sin(), np.pi), (lambda x: x.abs(), 1.0)])
def test_universal_approximation_error_falls_with_width(fn, half):
    x = cr.linspace(-half, half, 200)
    errors = [models.fit_universal_approximator(fn, w, x, steps=150)[1] for w in (2, 8, 32, 128)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors


# ---------------------------------------------------------------------- audit additions (issue 4)
@pytest.mark.parametrize("family", ["gaussian", "bernoulli", "poisson"])
def test_glm_deviance_predictions_and_scale_vs_sklearn(glm_data, family):
    """deviance = n · sklearn's mean deviance of the same μ (squared error, 2·log loss, Poisson
    deviance); predict / predict_proba equal the fitted sklearn model's to 1e-6."""
    from sklearn import metrics as skm
    from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor
    X, y = glm_data[family]
    glm = models.GLM(family).fit(X, y)
    mu = glm.predict(X)
    n = len(y)
    ref_dev = {"gaussian": lambda: n * skm.mean_squared_error(y, mu),
               "bernoulli": lambda: 2 * n * skm.log_loss(y, mu),
               "poisson": lambda: n * skm.mean_poisson_deviance(y, mu)}[family]()
    assert glm.deviance(X, y) == pytest.approx(ref_dev, rel=1e-9)
    if family == "gaussian":
        sk = LinearRegression().fit(X, y)
        np.testing.assert_allclose(mu, sk.predict(X), rtol=1e-6)
        assert glm.scale_ == pytest.approx(np.mean((y - sk.predict(X)) ** 2), rel=1e-6)
    elif family == "bernoulli":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            sk = LogisticRegression(penalty=None, tol=1e-12, max_iter=100000).fit(X, y)
        np.testing.assert_allclose(glm.predict_proba(X), sk.predict_proba(X), atol=1e-6)
    else:
        sk = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=10000).fit(X, y)
        np.testing.assert_allclose(mu, sk.predict(X), rtol=1e-5)
    if family == "gaussian":                    # the saturated model has zero deviance
        assert glm.deviance(X, mu) == pytest.approx(0.0, abs=1e-9)


def test_mlp_options_and_perceptron_never_hangs():
    mlp = models.MLP(3, [4, 5], 2, activation="gelu", output_activation="sigmoid")
    assert [type(m).__name__ for m in mlp] == ["Linear", "GELU", "Linear", "GELU", "Linear", "Sigmoid"]
    out = mlp(cr.randn(7, 3))
    out = out.detach().numpy()
    assert out.shape == (7, 2) and ((out > 0) & (out < 1)).all()
    with pytest.raises(ValueError):
        models.MLP(2, [3], 1, activation="no_such_activation")
    # XOR with a large max_epochs still ends, after exactly max_epochs epochs of the rule
    with pytest.warns(models.ConvergenceWarning):
        p = models.Perceptron(max_epochs=2000).fit(XOR_X, cr.tensor(XOR_Y))
    assert p.n_epochs_ == 2000 and len(p.errors_) == 2000 and min(p.errors_) > 0
