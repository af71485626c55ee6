"""torch's top-level nn functions chainrule exposes too (torch.kl_div, torch.batch_norm, ...), under
torch's top-level signatures: losses take ``reduction`` as an int (0 none, 1 mean, 2 sum, other
ints none), normalizations take ATen's argument order; values and gradients against torch."""
import numpy as np
import pytest
import torch

import chainrule as cr

R = np.random.default_rng(0)
X, Y, Z = (R.standard_normal((4, 6, 3)) for _ in range(3))
SIGN = np.array([1.0, -1.0, 1.0, -1.0])
PROBS = np.exp(Y) / np.exp(Y).sum(-1, keepdims=True)


def _same(name, *arrays, args=(), kwargs=None, grad=True):
    """cr.<name>(*arrays, *args) == torch.<name>(...) in value and in every float input's gradient
    (arrays in ``args`` become constant tensors)."""
    kwargs = kwargs or {}
    at, ac = ([lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
              for lib in (torch, cr))
    ts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    cs = [cr.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ot, oc = getattr(torch, name)(*ts, *at, **kwargs), getattr(cr, name)(*cs, *ac, **kwargs)
    assert tuple(oc.shape) == tuple(ot.shape)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    if grad:
        g = R.standard_normal(tuple(ot.shape))
        ot.backward(torch.tensor(g))
        oc.backward(cr.tensor(g))
        for c, t in zip(cs, ts):
            if t.requires_grad:   # (no gradient where torch's is zeros: a target in a where)
                cg = np.zeros(c.shape) if c.grad is None else c.grad.numpy()
                tg = np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy()
                np.testing.assert_allclose(cg, tg, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", [0, 1, 2, 3, -1])
def test_losses_with_int_reduction(reduction):
    a, b = X[:, :, 0], Y[:, :, 0]
    _same("hinge_embedding_loss", a, np.sign(b), args=(0.7, reduction))
    _same("margin_ranking_loss", a[:, 0], b[:, 0], SIGN, args=(0.2, reduction))
    _same("cosine_embedding_loss", a, b, SIGN, args=(0.1, reduction))
    _same("triplet_margin_loss", a, b, Z[:, :, 0], args=(1.0, 2.0, 1e-6, True, reduction))
    _same("kl_div", X, PROBS, args=(reduction,))
    _same("kl_div", X, np.log(PROBS), args=(reduction,), kwargs={"log_target": True})
    _same("binary_cross_entropy_with_logits", X, PROBS, args=(Z ** 2, np.abs(Y[0, 0]), reduction))
    _same("poisson_nll_loss", X, np.abs(Y), args=(True, True, 1e-8, reduction))
    _same("poisson_nll_loss", np.abs(X), np.abs(Y), args=(False, False, 1e-8, reduction))


def test_ctc_loss_int_reduction():
    lp = np.log(np.full((5, 2, 3), 1 / 3))
    for reduction in (0, 1, 2):
        _same("ctc_loss", lp, np.array([[1, 2], [2, 2]]), np.array([5, 4]), np.array([2, 1]),
              args=(0, reduction, False))
    out = cr.ctc_loss(cr.tensor(lp), cr.tensor([[1, 2], [2, 2]]), (5, 4), [2, 1], 0, 0, True)
    ref = torch.ctc_loss(torch.tensor(lp), torch.tensor([[1, 2], [2, 2]]), (5, 4), [2, 1], 0, 0,
                         True)
    np.testing.assert_allclose(out.numpy(), ref.numpy())


@pytest.mark.parametrize("name,args", [("kl_div", (X, PROBS, "mean")),
                                       ("hinge_embedding_loss", (X, np.sign(Y), 1.0, True))])
def test_string_or_bool_reduction_is_a_type_error(name, args):
    with pytest.raises(TypeError):
        getattr(torch, name)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    with pytest.raises(TypeError, match="argument 'reduction' .* must be int"):
        getattr(cr, name)(*[cr.tensor(a) if isinstance(a, np.ndarray) else a for a in args])


def test_normalizations_in_aten_order():
    w, b = R.standard_normal(6), R.standard_normal(6)
    _same("batch_norm", X, w, b, args=(None, None, True, 0.1, 1e-5, False))
    _same("instance_norm", X, w, b, args=(None, None, True, 0.1, 1e-5, False))
    _same("group_norm", X, args=(3,))
    _same("group_norm", X, args=(2, w, b, 1e-3, True))
    # running statistics updated in place, as torch's
    rm_t, rv_t = torch.zeros(6, dtype=torch.float64), torch.ones(6, dtype=torch.float64)
    rm_c, rv_c = cr.zeros(6, dtype=cr.float64), cr.ones(6, dtype=cr.float64)
    torch.batch_norm(torch.tensor(X), None, None, rm_t, rv_t, True, 0.3, 1e-5, False)
    cr.batch_norm(cr.tensor(X), None, None, rm_c, rv_c, True, 0.3, 1e-5, False)
    np.testing.assert_allclose(rm_c.numpy(), rm_t.numpy())
    np.testing.assert_allclose(rv_c.numpy(), rv_t.numpy())
    _same("batch_norm", X, w, b, args=(rm_t.numpy(), rv_t.numpy(), False, 0.1, 1e-5, True))


def test_channel_shuffle_and_in_place_forms():
    x = np.arange(2 * 6 * 2, dtype=np.float64).reshape(2, 6, 2)
    _same("channel_shuffle", x, args=(3,))
    _same("channel_shuffle", x, args=(2,))
    for name, args in [("celu_", (0.7,)), ("selu_", ()), ("threshold_", (0.1, -2.0)),
                       ("rrelu_", (0.1, 0.3, False)), ("dropout_", (0.5, False)),
                       ("alpha_dropout_", (0.5, False)), ("feature_alpha_dropout_", (0.5, False))]:
        t, c = torch.tensor(X), cr.tensor(X)
        rt, rc = getattr(torch, name)(t, *args), getattr(cr, name)(c, *args)
        assert rc is c and rt is t   # in place: the input itself comes back
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-12, err_msg=name)
    c = cr.tensor(np.ones((200, 50)))
    assert cr.dropout_(c, 0.5, True) is c
    assert set(np.unique(c.numpy())) == {0.0, 2.0}   # dropped, the survivors scaled by 1/(1 − p)
