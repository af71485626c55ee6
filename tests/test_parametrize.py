"""nn.utils.parametrize, parametrizations.weight_norm / spectral_norm and the older hook-based
nn.utils.weight_norm, against torch: values, gradients, buffers, state-dict keys, assignment,
removal and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr


def _copy(theirs, mine):
    mine.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def _np(t):
    return t.detach().numpy()


def _both(make, seed=0):
    torch.manual_seed(seed)
    cr.manual_seed(seed)
    return make(torch), make(cr)


_LAYERS = {"linear": (lambda L: L.nn.Linear(4, 3).double(), (5, 4)),
           "conv2d": (lambda L: L.nn.Conv2d(2, 3, 3).double(), (2, 2, 6, 6)),
           "conv_transpose2d": (lambda L: L.nn.ConvTranspose2d(2, 3, 3).double(), (2, 2, 5, 5))}


@pytest.mark.parametrize("layer", list(_LAYERS))
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_as_torch(layer, dim):
    make, shape = _LAYERS[layer]
    t, c = _both(lambda L: L.nn.utils.parametrizations.weight_norm(make(L), dim=dim))
    assert list(c.state_dict()) == list(t.state_dict())
    assert type(c).__name__ == type(t).__name__ == f"Parametrized{type(make(cr)).__name__}"
    _copy(t, c)
    x = np.random.default_rng(0).standard_normal(shape)
    yt, yc = t(torch.tensor(x)), c(cr.tensor(x))
    yt.pow(2).sum().backward()
    yc.pow(2).sum().backward()
    np.testing.assert_allclose(_np(yc), _np(yt), rtol=1e-12)
    for i in (0, 1):
        np.testing.assert_allclose(_np(getattr(c.parametrizations.weight, f"original{i}").grad),
                                   _np(getattr(t.parametrizations.weight, f"original{i}").grad),
                                   rtol=1e-10)
    with torch.no_grad():                      # assignment goes through right_inverse
        t.weight = torch.ones_like(t.weight)
    with cr.no_grad():
        c.weight = cr.ones_like(c.weight)
    np.testing.assert_allclose(_np(c.parametrizations.weight.original0),
                               _np(t.parametrizations.weight.original0), rtol=1e-12)
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    cr.nn.utils.parametrize.remove_parametrizations(c, "weight")
    assert type(c) is type(make(cr)) and list(c.state_dict()) == list(t.state_dict())
    assert not cr.nn.utils.parametrize.is_parametrized(c)
    np.testing.assert_allclose(_np(c.weight), _np(t.weight), rtol=1e-12)


def test_old_style_weight_norm_hook_and_its_checkpoints_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        t, c = _both(lambda L: L.nn.utils.weight_norm(L.nn.Conv2d(2, 3, 3).double()))
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        cr.nn.utils.weight_norm(cr.nn.Linear(2, 2))
    assert list(c.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    _copy(t, c)
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 5))
    yt, yc = t(torch.tensor(x)), c(cr.tensor(x))
    yt.sum().backward()
    yc.sum().backward()
    np.testing.assert_allclose(_np(yc), _np(yt), rtol=1e-12)
    np.testing.assert_allclose(_np(c.weight_g.grad), _np(t.weight_g.grad), rtol=1e-10)
    np.testing.assert_allclose(_np(c.weight_v.grad), _np(t.weight_v.grad), rtol=1e-10)
    # a checkpoint of the old form loads into the parametrization (torch's load hook)
    new = cr.nn.utils.parametrizations.weight_norm(cr.nn.Conv2d(2, 3, 3).double())
    new.load_state_dict(c.state_dict())
    np.testing.assert_allclose(_np(new(cr.tensor(x))), _np(yt), rtol=1e-12)
    torch.nn.utils.remove_weight_norm(t)
    cr.nn.utils.remove_weight_norm(c)
    assert list(c.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(_np(c.weight), _np(t.weight), rtol=1e-12)
    with pytest.raises(ValueError, match="not found"):
        cr.nn.utils.remove_weight_norm(c)


@pytest.mark.parametrize("layer", list(_LAYERS))
def test_spectral_norm_power_iteration_as_torch(layer):
    """The same seed draws the same u, v (torch's RNG stream); each training read advances
    them one step, evaluation leaves them."""
    make, shape = _LAYERS[layer]
    t, c = _both(lambda L: L.nn.utils.parametrizations.spectral_norm(make(L)))
    assert list(c.state_dict()) == list(t.state_dict())
    pt, pc = t.parametrizations.weight, c.parametrizations.weight
    np.testing.assert_allclose(_np(pc[0]._u), _np(pt[0]._u), rtol=1e-10, atol=1e-12)
    x = np.random.default_rng(2).standard_normal(shape)
    for _ in range(3):
        yt, yc = t(torch.tensor(x)), c(cr.tensor(x))
        yt.sum().backward()
        yc.sum().backward()
    np.testing.assert_allclose(_np(yc), _np(yt), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(pc[0]._u), _np(pt[0]._u), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(_np(pc.original.grad), _np(pt.original.grad), rtol=1e-8,
                               atol=1e-10)
    t.eval(), c.eval()
    u = _np(pc[0]._u).copy()
    np.testing.assert_allclose(_np(c(cr.tensor(x))), _np(t(torch.tensor(x))), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(_np(pc[0]._u), u)
    w = _np(c.weight)
    rows = w if layer != "conv_transpose2d" else w.transpose(1, 0, 2, 3)
    assert abs(np.linalg.svd(rows.reshape(rows.shape[0], -1), compute_uv=False)[0] - 1) < 0.05


class _Symmetric(cr.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).mT

    def right_inverse(self, a):
        return a.triu()


class _Scale(cr.nn.Module):
    def forward(self, x):
        return 2 * x

    def right_inverse(self, a):
        return a / 2


def test_custom_parametrizations_compose_train_and_cache():
    P = cr.nn.utils.parametrize
    layer = cr.nn.Linear(3, 3)
    other = cr.nn.Linear(3, 3)
    P.register_parametrization(layer, "weight", _Symmetric())
    P.register_parametrization(layer, "weight", _Scale())
    w = _np(layer.weight)
    np.testing.assert_array_equal(w, w.T)
    assert type(other) is cr.nn.Linear and P.type_before_parametrizations(layer) is cr.nn.Linear
    opt = cr.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        layer(cr.randn(4, 3)).pow(2).sum().backward()
        opt.step()
    w = _np(layer.weight)
    np.testing.assert_allclose(w, w.T)                # still symmetric after training
    with cr.no_grad():
        layer.weight = cr.eye(3) * 4                  # through both right inverses
    np.testing.assert_allclose(_np(layer.weight), 4 * np.eye(3))
    with P.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight
    P.remove_parametrizations(layer, "weight")
    assert type(layer) is cr.nn.Linear and "weight" in dict(layer.named_parameters())
    np.testing.assert_allclose(_np(layer.weight), 4 * np.eye(3))


def test_parametrize_errors_as_torch():
    P = cr.nn.utils.parametrize
    with pytest.raises(ValueError, match="does not have a parameter"):
        P.register_parametrization(cr.nn.Linear(2, 2), "weights", _Scale())

    class Shrink(cr.nn.Module):
        def forward(self, x):
            return x[:1]
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(cr.nn.Linear(2, 2), "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(cr.nn.Linear(2, 2), "weight")
    layer = cr.nn.utils.parametrizations.weight_norm(cr.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(layer, "weight", leave_parametrized=False)
