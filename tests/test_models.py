"""The deck's models: perceptron, hand-wired XOR, MLP, GLM (vs scikit-learn and SciPy),
basis functions, universal approximation."""
import copy
import pickle
import warnings
from collections import OrderedDict

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


def test_mlp_state_dict_keys_match_torch_named_sequential():
    """MLP's layers are named as ``torch.nn.Sequential(OrderedDict(fc1=..., act1=..., ...))``:
    same keys, same children, and weights move to torch and give the same outputs."""
    torch = pytest.importorskip("torch")
    mlp = models.MLP(3, [5, 4], 2, activation="relu", output_activation="softmax")
    ref = torch.nn.Sequential(OrderedDict([
        ("fc1", torch.nn.Linear(3, 5)), ("act1", torch.nn.ReLU()),
        ("fc2", torch.nn.Linear(5, 4)), ("act2", torch.nn.ReLU()),
        ("fc3", torch.nn.Linear(4, 2)), ("out_act", torch.nn.Softmax(-1))]))
    assert list(mlp.state_dict()) == list(ref.state_dict()) == [
        "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert [n for n, _ in mlp.named_children()] == [n for n, _ in ref.named_children()]
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mlp.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(mlp(cr.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    # Sequential's list behaviour is kept: indexing, negative indexing, slices keep the names
    assert mlp[0] is mlp.fc1 and mlp[2] is mlp.fc2 and mlp[-1] is mlp.out_act and len(mlp) == 6
    assert list(mlp) == [mlp.fc1, mlp.act1, mlp.fc2, mlp.act2, mlp.fc3, mlp.out_act]
    assert [n for n, _ in mlp[2:5].named_children()] == [n for n, _ in ref[2:5].named_children()]
    # no hidden layer, no output activation: just fc1
    assert list(models.MLP(3, [], 2).state_dict()) == ["fc1.weight", "fc1.bias"]
    assert [n for n, _ in models.MLP(3, [4], 2).named_children()] == ["fc1", "act1", "fc2"]


def _numbered(sd):
    """A state dict as saved when MLP was a plain Sequential (children "0", "1", ...)."""
    index = {"fc1": "0", "fc2": "2", "fc3": "4"}
    return OrderedDict((index[k.split(".")[0]] + "." + k.split(".", 1)[1], v.numpy() + 1.0)
                       for k, v in sd.items())


def test_mlp_loads_checkpoints_saved_with_the_old_numbered_keys():
    """Run folders and checkpoints saved before the layers had names hold "0.weight",
    "2.weight", ...: index i of the Sequential is mapped to its name."""
    src = models.MLP(3, [5, 4], 2)
    old = _numbered(src.state_dict())
    assert list(old) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    mlp = models.MLP(3, [5, 4], 2)
    assert repr(mlp.load_state_dict(old)) == "<All keys matched successfully>"
    assert next(iter(old)) == "0.weight"                       # the caller's dict is untouched
    for (k, v), a in zip(mlp.state_dict().items(), old.values()):
        np.testing.assert_array_equal(v.numpy(), a, err_msg=k)
    # nested (the CLI's image model is Sequential(Flatten(), MLP)): prefixes are respected
    net = nn.Sequential(nn.Flatten(), models.MLP(3, [5, 4], 2))
    nested = OrderedDict(("1." + k, v) for k, v in old.items())
    assert repr(net.load_state_dict(nested)) == "<All keys matched successfully>"
    np.testing.assert_array_equal(net[1].fc3.bias.detach().numpy(), old["4.bias"])
    # the new names still load, and the mapping survives pickling and deepcopy
    again = copy.deepcopy(mlp)
    again.load_state_dict(OrderedDict((k, v.numpy() * 0) for k, v in src.state_dict().items()))
    assert float(again.fc1.weight.abs().sum()) == 0.0 and float(mlp.fc1.weight.abs().sum()) > 0
    restored = pickle.loads(pickle.dumps(mlp))
    restored.load_state_dict(OrderedDict((k, v * 0) for k, v in old.items()))
    assert float(restored.fc2.weight.abs().sum()) == 0.0 and float(mlp.fc2.weight.abs().sum()) > 0
    # a numbered key that names no layer, or a wrong shape, is still an error
    bad = OrderedDict(old, **{"9.weight": old["0.weight"]})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "9.weight"'):
        mlp.load_state_dict(bad)
    bad = OrderedDict(old, **{"2.weight": old["0.weight"]})
    with pytest.raises(RuntimeError, match="size mismatch for fc2.weight"):
        mlp.load_state_dict(bad)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc3.bias"'):
        mlp.load_state_dict(OrderedDict((k, v) for k, v in old.items() if k != "4.bias"))


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
