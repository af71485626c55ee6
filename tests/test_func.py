"""Forward mode, cr.func transforms, autograd.functional and gradcheck against torch.func."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import forward_ad as fwd
from test_ops import BINARY, INDEX, REDUCTIONS, SHAPE, UNARY, x

R = np.random.default_rng(5)
ALL_CASES = [(c[0], c[1], c[2], c[3]) for c in UNARY + BINARY] + \
    [(c[0], c[1], c[2], [x(2, 3, 4)]) for c in REDUCTIONS + SHAPE + INDEX]


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c[0])
def test_jvp_of_every_primitive_matches_torch_func(case):
    _, fc, ft, arrays = case
    floats = [a.astype(np.float64) for a in arrays]
    tangents = [R.standard_normal(a.shape) for a in floats]
    out_c, jvp_c = cr.func.jvp(fc, tuple(cr.tensor(a) for a in floats), tuple(cr.tensor(t) for t in tangents))
    out_t, jvp_t = torch.func.jvp(ft, tuple(torch.tensor(a) for a in floats), tuple(torch.tensor(t) for t in tangents))
    np.testing.assert_allclose(_np(out_c), _np(out_t), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(_np(jvp_c), _np(jvp_t), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c[0] not in ("sign", "maximum_ties")],
                         ids=lambda c: c[0])
def test_gradcheck_with_forward_ad_passes_for_every_builtin_op(case):
    _, fc, _, arrays = case
    inputs = tuple(cr.tensor(a.astype(np.float64), requires_grad=True) for a in arrays)
    assert cr.autograd.gradcheck(fc, inputs, check_forward_ad=True)


def test_dual_level_api():
    p, t = cr.tensor([1.0, 2.0], dtype=cr.float64), cr.tensor([0.5, -1.0], dtype=cr.float64)
    with fwd.dual_level():
        d = fwd.make_dual(p, t)
        y = (d * d).exp()
        primal, tangent = fwd.unpack_dual(y)
        np.testing.assert_allclose(tangent.numpy(), (2 * p * t * (p * p).exp()).numpy())
        assert fwd.unpack_dual(p).tangent is None
    assert fwd.unpack_dual(y).tangent is None   # tangents end with the level
    with pytest.raises(RuntimeError, match="inside a `with dual_level\\(\\):` block"):
        fwd.make_dual(p, t)
    with fwd.dual_level(), pytest.raises(ValueError, match="tangent must match the primal"):
        fwd.make_dual(p, cr.zeros(3, dtype=cr.float64))


# ------------------------------------------------------------------ transforms vs torch.func
W5 = R.standard_normal((3, 5))
B3 = R.standard_normal(3)


MLP_X, MLP_Y = R.standard_normal((6, 4)), R.integers(0, 2, 6)


def mlp_loss(lib):
    """A 4-3-2 MLP's scalar loss as a function of its flattened parameters (26 numbers)."""
    X, y = lib.tensor(MLP_X), lib.tensor(MLP_Y)

    def loss(theta):
        W1, b1 = theta[:12].reshape(3, 4), theta[12:15]
        W2, b2 = theta[15:21].reshape(2, 3), theta[21:23]
        h = (X @ W1.T + b1).tanh()
        logits = h @ W2.T + b2
        return -logits.log_softmax(1).gather(1, y.reshape(-1, 1)).mean() + (theta[23:] ** 2).sum()
    return loss


FUNCTIONS = {
    "mlp_loss": (mlp_loss, lambda: [R.standard_normal(26) * 0.5]),
    "r5_to_r3": (lambda lib: (lambda v: (lib.tensor(W5) @ v).sin() * v[:3]), lambda: [R.standard_normal(5)]),
    "softmax": (lambda lib: (lambda v: v.softmax(0)), lambda: [R.standard_normal(4)]),
    "matmul_broadcast": (lambda lib: (lambda m: (m @ lib.tensor(W5.T) + lib.tensor(B3)).tanh().sum(0)),
                         lambda: [R.standard_normal((2, 5))]),
}


def _close(a, b, tol=1e-8):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_jacobians_match_torch_func(name):
    make, args = FUNCTIONS[name]
    fc, ft = make(cr), make(torch)
    a = args()
    ca, ta = [cr.tensor(v) for v in a], [torch.tensor(v) for v in a]
    _close(cr.func.jacrev(fc)(*ca), torch.func.jacrev(ft)(*ta))
    _close(cr.func.jacfwd(fc)(*ca), torch.func.jacfwd(ft)(*ta))
    _close(cr.autograd.functional.jacobian(fc, ca[0]), torch.autograd.functional.jacobian(ft, ta[0]))
    _close(cr.autograd.functional.jacobian(fc, ca[0], strategy="forward-mode"),
           torch.autograd.functional.jacobian(ft, ta[0], strategy="forward-mode", vectorize=True))
    scalar_c = (lambda *z: fc(*z).sum()) if name != "mlp_loss" else fc
    scalar_t = (lambda *z: ft(*z).sum()) if name != "mlp_loss" else ft
    _close(cr.func.hessian(scalar_c)(*ca), torch.func.hessian(scalar_t)(*ta), 1e-7)
    _close(cr.autograd.functional.hessian(scalar_c, ca[0]), torch.autograd.functional.hessian(scalar_t, ta[0]), 1e-7)
    v = R.standard_normal(a[0].shape)
    for mine, ref in [(cr.func.hvp, torch.autograd.functional.hvp), (cr.func.vhp, torch.autograd.functional.vhp),
                      (cr.autograd.functional.hvp, torch.autograd.functional.hvp)]:
        out_c, hv_c = mine(scalar_c, ca[0], cr.tensor(v))
        out_t, hv_t = ref(scalar_t, ta[0], torch.tensor(v))
        _close(out_c, out_t)
        _close(hv_c, hv_t, 1e-7)
    g_c, val_c = cr.func.grad_and_value(scalar_c)(*ca)
    g_t, val_t = torch.func.grad_and_value(scalar_t)(*ta)
    _close(g_c, g_t)
    _close(val_c, val_t)


def test_two_arguments_with_argnums_tuple():
    fc = lambda a, b: (a.unsqueeze(1) * b).sin().sum() + (a ** 2).sum() * b.sum()
    a, b = R.standard_normal(3), R.standard_normal(4)
    ca, cb, ta, tb = cr.tensor(a), cr.tensor(b), torch.tensor(a), torch.tensor(b)
    for tr in ("grad", "jacrev", "jacfwd", "hessian"):
        got = getattr(cr.func, tr)(fc, argnums=(0, 1))(ca, cb)
        want = getattr(torch.func, tr)(fc, argnums=(0, 1))(ta, tb)
        flat_g = [g for row in got for g in (row if isinstance(row, tuple) else (row,))]
        flat_w = [w for row in want for w in (row if isinstance(row, tuple) else (row,))]
        for g, w in zip(flat_g, flat_w):
            _close(g, w, 1e-7)
    vec = lambda a, b: (a.unsqueeze(1) * b).tanh()
    for g, w in zip(cr.func.jacrev(vec, argnums=(0, 1))(ca, cb), torch.func.jacrev(vec, argnums=(0, 1))(ta, tb)):
        _close(g, w)
    out_c, fn_c = cr.func.vjp(vec, ca, cb)
    out_t, fn_t = torch.func.vjp(vec, ta, tb)
    v = R.standard_normal((3, 4))
    for g, w in zip(fn_c(cr.tensor(v)), fn_t(torch.tensor(v))):
        _close(g, w)
    _, jc = cr.func.jvp(vec, (ca, cb), (cr.tensor(a), cr.tensor(b)))
    _, jt = torch.func.jvp(vec, (ta, tb), (torch.tensor(a), torch.tensor(b)))
    _close(jc, jt)
    _, vj = cr.autograd.functional.vjp(vec, (ca, cb), cr.tensor(v))
    _, vjt = torch.autograd.functional.vjp(vec, (ta, tb), torch.tensor(v))
    for g, w in zip(vj, vjt):
        _close(g, w)


def test_has_aux_and_errors():
    g, aux = cr.func.grad(lambda v: ((v ** 2).sum(), "aux"), has_aux=True)(cr.tensor([1.0, 2.0]))
    assert g.tolist() == [2.0, 4.0] and aux == "aux"
    with pytest.raises(RuntimeError, match="f must return a scalar tensor"):
        cr.func.grad(lambda v: v * 2)(cr.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="argnums 2 out of range"):
        cr.func.grad(lambda v: v.sum(), argnums=2)(cr.tensor([1.0]))
    with pytest.raises(ValueError, match="got 1 primals but 2 tangents"):
        cr.func.jvp(lambda v: v, (cr.tensor([1.0]),), (cr.tensor([1.0]), cr.tensor([1.0])))


def test_reverse_over_reverse_composes():
    f = lambda v: (v.sin() * v.exp()).sum()
    xv = R.standard_normal(4)
    _close(cr.func.jacrev(cr.func.jacrev(f))(cr.tensor(xv)), torch.func.hessian(f)(torch.tensor(xv)), 1e-7)


# ------------------------------------------------------------------ gradcheck
class WrongSin(cr.autograd.Function):
    """sin with a deliberately wrong VJP (cos(x) + 0.1) and a correct JVP."""

    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return v.sin()

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        return g * (v.cos() + 0.1)

    @staticmethod
    def jvp(ctx, t):
        (v,) = ctx.saved_tensors
        return t * v.cos()


def test_gradcheck_catches_a_wrong_vjp_and_names_the_pair():
    inp = cr.tensor(R.standard_normal(3), requires_grad=True)
    with pytest.raises(cr.autograd.GradcheckError, match=r"output 0 with respect to input 0 \(reverse mode\)(.|\n)*numerical(.|\n)*analytical"):
        cr.autograd.gradcheck(WrongSin.apply, (inp,))
    assert cr.autograd.gradcheck(WrongSin.apply, (inp,), raise_exception=False) is False
    # forward mode alone is right
    assert cr.autograd.gradcheck(WrongSin.apply, (inp,), check_forward_ad=True, check_backward_ad=False)


def test_gradcheck_warns_on_float32_and_gradgradcheck():
    with pytest.warns(UserWarning, match="not float64"):
        cr.autograd.gradcheck(lambda v: v * 2, (cr.ones(2, requires_grad=True),), atol=1e-2, rtol=1e-2, eps=1e-2)
    inp = cr.tensor(R.standard_normal((2, 3)), requires_grad=True)
    w = cr.tensor(R.standard_normal((3, 2)), requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda a, b: (a @ b).tanh(), (inp, w))
    assert cr.autograd.gradgradcheck(lambda a: a.softmax(1) * a.exp(), (inp,))
