"""cr.func (vjp, jvp, grad, grad_and_value, jacrev, jacfwd, hessian, hvp, vhp) and
cr.autograd.functional against torch.func / torch.autograd.functional on the same inputs."""
import tracemalloc

import numpy as np
import pytest
import torch

import chainrule as cr
from ad_cases import to_np

R = np.random.default_rng(5)


def _close(a, b, tol=1e-8):
    np.testing.assert_allclose(to_np(a), to_np(b), rtol=tol, atol=tol)


def _close_tree(a, b, tol=1e-8):
    if isinstance(b, (tuple, list)):
        assert isinstance(a, tuple) and len(a) == len(b), (type(a), len(a) if isinstance(a, tuple) else a)
        for x, y in zip(a, b):
            _close_tree(x, y, tol)
    else:
        assert isinstance(a, cr.Tensor) and tuple(a.shape) == tuple(b.shape)
        _close(a, b, tol)


W5, B3 = R.standard_normal((3, 5)), R.standard_normal(3)
MLP_X, MLP_Y = R.standard_normal((6, 4)), R.integers(0, 2, 6)


def mlp_loss(lib):
    """A 4-3-2 MLP's cross-entropy loss (+ an L2 term) as a function of its 26 flattened
    parameters θ: W1 (3×4), b1 (3), W2 (2×3), b2 (2), and 3 extra weights in the penalty."""
    X, y = lib.tensor(MLP_X), lib.tensor(MLP_Y)

    def loss(theta):
        W1, b1 = theta[:12].reshape(3, 4), theta[12:15]
        W2, b2 = theta[15:21].reshape(2, 3), theta[21:23]
        h = (X @ W1.T + b1).tanh()
        logits = h @ W2.T + b2
        return -logits.log_softmax(1).gather(1, y.reshape(-1, 1)).mean() + (theta[23:] ** 2).sum()
    return loss


FUNCTIONS = {   # name: (lib -> f, input shape); f maps one tensor to a tensor
    "mlp_loss": (mlp_loss, (26,)),
    "r5_to_r3": (lambda lib: (lambda v: (lib.tensor(W5) @ v).sin() * v[:3]), (5,)),
    "softmax": (lambda lib: (lambda v: v.softmax(-1)), (2, 4)),
    "matmul_broadcast": (lambda lib: (lambda m: (m @ lib.tensor(W5.T) + lib.tensor(B3)).tanh() * m[:, :1]),
                         (2, 5)),
}


def _pair(name):
    make, shape = FUNCTIONS[name]
    xv = R.standard_normal(shape) * 0.5
    return make(cr), make(torch), cr.tensor(xv), torch.tensor(xv)


def _scalar(f):
    return lambda *z: (f(*z) * f(*z)).sum()   # a scalar with a non-trivial Hessian


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_jacobians_match_torch(name):
    fc, ft, xc, xt = _pair(name)
    want = torch.func.jacrev(ft)(xt)
    _close_tree(cr.func.jacrev(fc)(xc), want)
    _close_tree(cr.func.jacfwd(fc)(xc), torch.func.jacfwd(ft)(xt))
    _close_tree(cr.autograd.functional.jacobian(fc, xc), torch.autograd.functional.jacobian(ft, xt))
    _close_tree(cr.autograd.functional.jacobian(fc, xc, strategy="forward-mode"),
                torch.autograd.functional.jacobian(ft, xt, strategy="forward-mode", vectorize=True))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_hessian_hvp_vhp_match_torch(name):
    fc, ft, xc, xt = _pair(name)
    sc, st = (fc, ft) if name == "mlp_loss" else (_scalar(fc), _scalar(ft))
    _close_tree(cr.func.hessian(sc)(xc), torch.func.hessian(st)(xt), 1e-7)
    _close_tree(cr.autograd.functional.hessian(sc, xc), torch.autograd.functional.hessian(st, xt), 1e-7)
    v = R.standard_normal(tuple(xt.shape))
    hv_t = torch.autograd.functional.hvp(st, xt, torch.tensor(v))
    vh_t = torch.autograd.functional.vhp(st, xt, torch.tensor(v))
    for mine, want in [(cr.func.hvp, hv_t), (cr.autograd.functional.hvp, hv_t),
                       (cr.func.vhp, vh_t), (cr.autograd.functional.vhp, vh_t)]:
        value, res = mine(sc, xc, cr.tensor(v))
        _close(value, want[0])
        _close(res, want[1], 1e-7)
    g_c, val_c = cr.func.grad_and_value(sc)(xc)
    g_t, val_t = torch.func.grad_and_value(st)(xt)
    _close(g_c, g_t)
    _close(val_c, val_t)
    _close(cr.func.grad(sc)(xc), g_t)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_vjp_and_jvp_match_torch(name):
    fc, ft, xc, xt = _pair(name)
    out_c, fn_c = cr.func.vjp(fc, xc)
    out_t, fn_t = torch.func.vjp(ft, xt)
    _close(out_c, out_t)
    u = R.standard_normal(tuple(out_t.shape))
    _close_tree(fn_c(cr.tensor(u)), fn_t(torch.tensor(u)))
    v = R.standard_normal(tuple(xt.shape))
    _close_tree(cr.func.jvp(fc, (xc,), (cr.tensor(v),)), torch.func.jvp(ft, (xt,), (torch.tensor(v),)))
    _close_tree(cr.autograd.functional.vjp(fc, xc, cr.tensor(u)), torch.autograd.functional.vjp(ft, xt, torch.tensor(u)))
    _close_tree(cr.autograd.functional.jvp(fc, xc, cr.tensor(v)), torch.autograd.functional.jvp(ft, xt, torch.tensor(v)))


def two_args(lib):
    return lambda a, b: (a.unsqueeze(1) * b).sin().sum() + (a ** 2).sum() * b.sum() + (a @ lib.tensor(W5[:, :4]) * b).sum() ** 2


def test_two_tensor_arguments_with_argnums_tuple():
    fc, ft = two_args(cr), two_args(torch)
    av, bv = R.standard_normal(3), R.standard_normal(4)
    ca, cb, ta, tb = cr.tensor(av), cr.tensor(bv), torch.tensor(av), torch.tensor(bv)
    for tr in ("grad", "jacrev", "jacfwd", "hessian"):
        _close_tree(getattr(cr.func, tr)(fc, argnums=(0, 1))(ca, cb), getattr(torch.func, tr)(ft, argnums=(0, 1))(ta, tb), 1e-7)
    for tr in ("jacrev", "jacfwd", "hessian"):    # one argnum of two, negative (torch 2.13's
        # jacfwd returns zeros for a negative argnums, so the oracle is given the positive one)
        _close_tree(getattr(cr.func, tr)(fc, argnums=-1)(ca, cb), getattr(torch.func, tr)(ft, argnums=1)(ta, tb), 1e-7)
    _close_tree(cr.func.grad_and_value(fc, argnums=(1, 0))(ca, cb), torch.func.grad_and_value(ft, argnums=(1, 0))(ta, tb))
    _close_tree(cr.autograd.functional.hessian(fc, (ca, cb)), torch.autograd.functional.hessian(ft, (ta, tb)), 1e-7)
    _close_tree(cr.autograd.functional.jacobian(fc, (ca, cb)), torch.autograd.functional.jacobian(ft, (ta, tb)))
    va, vb = R.standard_normal(3), R.standard_normal(4)
    want = torch.autograd.functional.hvp(ft, (ta, tb), (torch.tensor(va), torch.tensor(vb)))
    for mine in (cr.func.hvp, cr.autograd.functional.hvp, cr.func.vhp, cr.autograd.functional.vhp):
        _close_tree(mine(fc, (ca, cb), (cr.tensor(va), cr.tensor(vb))), want, 1e-7)


def test_tuple_outputs_and_two_inputs():
    """Vector-valued f(a, b) -> (y1, y2): nested (per output, per input) Jacobians like torch."""
    f = lambda a, b: ((a.unsqueeze(1) * b).tanh(), (a.exp().sum() * b))
    av, bv = R.standard_normal(3), R.standard_normal(4)
    ca, cb, ta, tb = cr.tensor(av), cr.tensor(bv), torch.tensor(av), torch.tensor(bv)
    for tr in ("jacrev", "jacfwd"):
        _close_tree(getattr(cr.func, tr)(f, argnums=(0, 1))(ca, cb), getattr(torch.func, tr)(f, argnums=(0, 1))(ta, tb))
        _close_tree(getattr(cr.func, tr)(f)(ca, cb), getattr(torch.func, tr)(f)(ta, tb))
    _close_tree(cr.autograd.functional.jacobian(f, (ca, cb)), torch.autograd.functional.jacobian(f, (ta, tb)))
    (out_c, fn_c), (out_t, fn_t) = cr.func.vjp(f, ca, cb), torch.func.vjp(f, ta, tb)
    _close_tree(out_c, out_t)
    u1, u2 = R.standard_normal((3, 4)), R.standard_normal(4)
    _close_tree(fn_c((cr.tensor(u1), cr.tensor(u2))), fn_t((torch.tensor(u1), torch.tensor(u2))))
    v1, v2 = R.standard_normal(3), R.standard_normal(4)
    _close_tree(cr.func.jvp(f, (ca, cb), (cr.tensor(v1), cr.tensor(v2))),
                torch.func.jvp(f, (ta, tb), (torch.tensor(v1), torch.tensor(v2))))
    _close_tree(cr.autograd.functional.vjp(f, (ca, cb), (cr.tensor(u1), cr.tensor(u2))),
                torch.autograd.functional.vjp(f, (ta, tb), (torch.tensor(u1), torch.tensor(u2))))


def test_linearize_as_torch():
    f = lambda a, b: ((a.unsqueeze(1) * b).tanh(), (a.exp().sum() * b))
    av, bv = R.standard_normal(3), R.standard_normal(4)
    (out_c, fn_c) = cr.func.linearize(f, cr.tensor(av), cr.tensor(bv))
    (out_t, fn_t) = torch.func.linearize(f, torch.tensor(av), torch.tensor(bv))
    _close_tree(out_c, out_t)
    for _ in range(2):   # the same linear map for every tangent
        u, v = R.standard_normal(3), R.standard_normal(4)
        _close_tree(fn_c(cr.tensor(u), cr.tensor(v)), fn_t(torch.tensor(u), torch.tensor(v)))
    out_c, fn_c = cr.func.linearize(lambda x: x.sin(), cr.zeros(3, 3))
    assert fn_c(cr.ones(3, 3)).tolist() == [[1.0] * 3] * 3
    for bad in ((cr.ones(3),), (cr.ones(3, 3, dtype=cr.float64),)):
        with pytest.raises(RuntimeError, match="tangent:0 with"):
            fn_c(*bad)
    with pytest.raises(RuntimeError, match="expected 1 tangents"):
        fn_c(cr.ones(3, 3), cr.ones(3, 3))


def test_has_aux():
    g, aux = cr.func.grad(lambda v: ((v ** 2).sum(), "aux"), has_aux=True)(cr.tensor([1.0, 2.0]))
    assert g.tolist() == [2.0, 4.0] and aux == "aux"
    (g, (value, aux)) = cr.func.grad_and_value(lambda v: ((v ** 3).sum(), v * 2), has_aux=True)(cr.tensor([1.0, 2.0]))
    assert g.tolist() == [3.0, 12.0] and value.item() == 9.0 and aux.tolist() == [2.0, 4.0]
    h = lambda v: (v.sin(), v.cos())
    xv = R.standard_normal(3)
    jac, aux = cr.func.jacrev(h, has_aux=True)(cr.tensor(xv))
    jac_f, aux_f = cr.func.jacfwd(h, has_aux=True)(cr.tensor(xv))
    _close(jac, np.diag(np.cos(xv)))
    _close(jac_f, np.diag(np.cos(xv)))
    _close(aux, np.cos(xv))
    _close(aux_f, np.cos(xv))
    out, fn, aux = cr.func.vjp(h, cr.tensor(xv), has_aux=True)
    _close(fn(cr.ones(3, dtype=cr.float64))[0], np.cos(xv))
    _, jv, aux = cr.func.jvp(h, (cr.tensor(xv),), (cr.ones(3, dtype=cr.float64),), has_aux=True)
    _close(jv, np.cos(xv))


def test_transforms_compose():
    """grad of grad, jacrev of jacrev (reverse-over-reverse), jacrev of jacfwd (reverse-over-
    forward) and jacfwd of jacrev (forward-over-reverse) all give torch's Hessian; grad of a vjp
    and grad of a jvp differentiate through the inner transform."""
    f = lambda v: (v.sin() * v.exp()).sum() + (v[:2] * v[1:]).prod()
    xv = R.standard_normal(3)
    want = torch.func.hessian(f)(torch.tensor(xv))
    for got in (cr.func.jacrev(cr.func.jacrev(f))(cr.tensor(xv)),
                cr.func.jacrev(cr.func.jacfwd(f))(cr.tensor(xv)),
                cr.func.jacfwd(cr.func.jacrev(f))(cr.tensor(xv)),
                cr.func.jacrev(cr.func.grad(f))(cr.tensor(xv))):
        _close(got, want, 1e-7)
    v = R.standard_normal(3)
    third = lambda g: (lambda z: g(z).sum())
    _close(cr.func.grad(third(cr.func.grad(f)))(cr.tensor(xv)),
           torch.func.grad(third(torch.func.grad(f)))(torch.tensor(xv)))
    vjp_sum = lambda lib, z: lib.func.vjp(lambda w: w.tanh() * w, z)[1](lib.tensor(v))[0].sum()
    _close(cr.func.grad(lambda z: vjp_sum(cr, z))(cr.tensor(xv)), torch.func.grad(lambda z: vjp_sum(torch, z))(torch.tensor(xv)))
    jvp_sum = lambda lib, z: lib.func.jvp(lambda w: w.tanh() * w, (z,), (lib.tensor(v),))[1].sum()
    _close(cr.func.grad(lambda z: jvp_sum(cr, z))(cr.tensor(xv)), torch.func.grad(lambda z: jvp_sum(torch, z))(torch.tensor(xv)))


def test_hvp_never_builds_the_hessian():
    """For n = 4,000 a Hessian is n² float64s = 122 MiB; H·v by forward-over-reverse stays O(n)."""
    n = 4000
    f = lambda v: (v.sin() * v).sum() + (v * v).sum() ** 2
    xv, vv = R.standard_normal(n), R.standard_normal(n)
    tracemalloc.start()
    try:
        _, hv = cr.func.hvp(f, cr.tensor(xv), cr.tensor(vv))
        _, vh = cr.func.vhp(f, cr.tensor(xv), cr.tensor(vv))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2 ** 20, f"hvp/vhp peaked at {peak / 2 ** 20:.1f} MiB"
    # H = diag(2cos x − x sin x) + 4(v·v) I + 8 x xᵀ for f = Σ x sin x + (x·x)²
    expected = (2 * np.cos(xv) - xv * np.sin(xv)) * vv + 4 * (xv @ xv) * vv + 8 * xv * (xv @ vv)
    _close(hv, expected, 1e-7)
    _close(vh, expected, 1e-7)


def test_functional_create_graph_and_strict():
    f = lambda v: (v ** 3).sum()
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    out, g = cr.autograd.functional.vjp(f, x)
    assert not out.requires_grad and not g.requires_grad         # detached without create_graph
    out, g = cr.autograd.functional.vjp(f, x, create_graph=True)
    (gg,) = cr.autograd.grad(g.sum(), x)                          # d/dx Σ 3x² = 6x
    assert gg.tolist() == [6.0, 12.0]
    h = cr.autograd.functional.hessian(f, x, create_graph=True)
    (h3,) = cr.autograd.grad(h.sum(), x)                          # d/dx Σ diag(6x) = 6
    assert h3.tolist() == [6.0, 6.0]
    _, hv = cr.autograd.functional.hvp(f, x, cr.ones(2, dtype=cr.float64), create_graph=True)
    assert hv.requires_grad and hv.tolist() == [6.0, 12.0]
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64)
    indep = lambda a, b: a * 2
    with pytest.raises(RuntimeError, match="output 0 of the user-provided function is independent of input 1"):
        cr.autograd.functional.jacobian(indep, (x.detach(), x.detach()), strict=True)
    with pytest.raises(RuntimeError):   # torch raises as well
        torch.autograd.functional.jacobian(indep, (xt, xt), strict=True)
    with pytest.raises(RuntimeError, match="gradient block 0 of the user-provided function is independent of input 0"):
        cr.autograd.functional.hessian(lambda v: (v * 2).sum(), x.detach(), strict=True)
    _close(cr.autograd.functional.jacobian(lambda v: v.exp(), x.detach(), strict=True), np.diag(np.exp([1.0, 2.0])))
    out, g = cr.autograd.functional.vjp(lambda v: v.sum(), x.detach())   # v omitted: one element
    assert g.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="v can only be omitted"):
        cr.autograd.functional.vjp(lambda v: v * 2, x.detach())
    with pytest.raises(ValueError, match="strategy must be"):
        cr.autograd.functional.jacobian(f, x, strategy="sideways")


def test_errors_name_the_transform():
    one = cr.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad: f must return a scalar tensor"):
        cr.func.grad(lambda v: v * 2)(one)
    with pytest.raises(RuntimeError, match="argnums 2 out of range"):
        cr.func.grad(lambda v: v.sum(), argnums=2)(one)
    with pytest.raises(RuntimeError, match="repeats an argument"):
        cr.func.jacrev(lambda a, b: a + b, argnums=(0, -2))(one, one)
    with pytest.raises(ValueError, match="got 1 primals but 2 tangents"):
        cr.func.jvp(lambda v: v, (one,), (one, one))
    with pytest.raises(ValueError, match=r"tangent of shape \(3,\) for a primal of shape \(2,\)"):
        cr.func.jvp(lambda v: v, (one,), (cr.ones(3),))
    with pytest.raises(RuntimeError, match="must be floating point"):
        cr.func.vjp(lambda v: v, cr.tensor([1, 2]))
    _, fn = cr.func.vjp(lambda v: v * 2, one)
    with pytest.raises(ValueError, match=r"cotangent of shape \(3,\) for an output of shape \(2,\)"):
        fn(cr.ones(3))
    with pytest.raises(ValueError, match="has_aux=True needs f to return"):
        cr.func.grad(lambda v: v.sum(), has_aux=True)(one)


def test_outputs_independent_of_inputs_give_zeros():
    x = cr.tensor(R.standard_normal(3))
    c = cr.tensor(R.standard_normal(2))
    assert cr.func.jacrev(lambda v: c * 1.0)(x).tolist() == [[0.0] * 3] * 2
    assert cr.func.jacfwd(lambda v: c * 1.0)(x).tolist() == [[0.0] * 3] * 2
    assert cr.func.grad(lambda v: c.sum())(x).tolist() == [0.0] * 3
    assert cr.func.hessian(lambda v: v.sum())(x).tolist() == [[0.0] * 3] * 3


def test_forward_mode_inside_forward_mode_as_torch():
    """jacfwd(jacfwd(f)) and jvp of a jvp (the inner one done as a double VJP)."""
    x, u, w = R.standard_normal(4), R.standard_normal(4), R.standard_normal((3, 4))

    def f(lib):
        W = lib.tensor(w)
        return lambda v: (W @ v.sin()).tanh() * v[0]
    for lib in (cr, torch):   # the Hessian of each output, forward over forward
        got = lib.func.jacfwd(lib.func.jacfwd(f(lib)))(lib.tensor(x))
        if lib is cr:
            mine = got
    _close(mine, got)
    _close(cr.func.jacfwd(cr.func.jacfwd(f(cr)))(cr.tensor(x)),
           cr.func.jacrev(cr.func.jacrev(f(cr)))(cr.tensor(x)))

    def nested(lib):   # d/dt of J(x + t·u)·u: a second directional derivative
        inner = lambda v: lib.func.jvp(f(lib), (v,), (lib.tensor(u),))[1]
        return lib.func.jvp(inner, (lib.tensor(x),), (lib.tensor(u),))
    for a, b in zip(nested(cr), nested(torch)):
        _close(a, b)
    two = lambda lib: lib.func.jacfwd(lib.func.jacfwd(lambda a, b: (a * b.exp()).sum(), (0, 1)),
                                      (0, 1))(lib.tensor(x), lib.tensor(u))
    _close_tree(two(cr), two(torch))


def test_vjp_jvp_jacrev_of_pytree_primals_as_torch():
    """A dict of parameters as the primal (the neural-tangent-kernel tutorial's use)."""
    p = {"w": R.standard_normal((2, 3)), "b": R.standard_normal(2)}
    x, v, t = R.standard_normal(3), R.standard_normal(2), {k: R.standard_normal(a.shape)
                                                            for k, a in p.items()}

    def run(lib):
        params = {k: lib.tensor(a) for k, a in p.items()}
        fn = lambda q: (q["w"] @ lib.tensor(x) + q["b"]).sin()
        out, vjp_fn = lib.func.vjp(fn, params)
        tangent = {k: lib.tensor(a) for k, a in t.items()}
        (g,) = vjp_fn(lib.tensor(v))
        _, jv = lib.func.jvp(fn, (params,), (tangent,))
        jac = lib.func.jacrev(lambda q, y: fn(q) * y, argnums=(0, 1))(params, lib.tensor(x[:2]))
        return [out, g["w"], g["b"], jv, jac[0]["w"], jac[0]["b"], jac[1]]
    mine, theirs = run(cr), run(torch)
    for a, b in zip(mine, theirs):
        _close(a, b)
    with pytest.raises(RuntimeError, match="same python structure"):
        cr.func.jvp(lambda q: q["w"], ({"w": cr.ones(2)},), ({"v": cr.ones(2)},))


def test_torch_vmap_is_func_vmap():
    assert cr.vmap is cr.func.vmap and torch.vmap is torch.func.vmap


def test_jacfwd_hessian_and_pytree_outputs_as_torch():
    """Dict arguments for jacfwd/hessian (nested dict blocks) and dict/list outputs for
    vjp, jvp and jacfwd, in torch.func's structure."""
    x, y = R.standard_normal(3), R.standard_normal(2)

    def run(lib):
        a, b = lib.tensor(x), lib.tensor(y)
        f = lambda d: d["a"].sin().sum() * d["b"].exp().sum()
        h = lib.func.hessian(f)({"a": a, "b": b})
        g = lib.func.jacfwd(lambda t: {"s": t.sin(), "c": (t.cos(),)})(a)
        out, fn = lib.func.vjp(lambda t: {"s": t.sin(), "c": t * 2}, a)
        (v,) = fn({"s": a, "c": a})
        _, jv = lib.func.jvp(lambda t: {"s": t.sin(), "c": [t * 2]}, (a,), (a.cos(),))
        assert isinstance(g["c"], tuple) and isinstance(jv["c"], list)
        return [h["a"]["a"], h["a"]["b"], h["b"]["a"], h["b"]["b"], g["s"], g["c"][0], v,
                jv["s"], jv["c"][0], out["s"]]
    for a, b in zip(run(cr), run(torch)):
        _close(a, b)


@pytest.mark.parametrize("op", ["vjp", "jvp", "jacobian", "hvp", "vhp", "hessian"])
def test_autograd_functional_refuses_pytree_outputs_as_torch(op):
    """torch.func takes dict/list outputs; torch.autograd.functional does not (TypeError)."""
    for lib in (cr, torch):
        f = getattr(lib.autograd.functional, op)
        x = lib.ones(2)
        args = (x,) if op in ("jacobian", "hessian") else (x, x)
        with pytest.raises(TypeError, match=f"outputs of the user-provided function given to {op}"):
            f(lambda t: {"a": (t * 2).sum()}, *args)


def test_vmap_refuses_a_batch_dim_on_a_non_tensor_as_torch():
    for lib in (cr, torch):
        with pytest.raises(ValueError, match="in_dim=0 for an input but the input is of type"):
            lib.vmap(lambda x, k: x * k)(lib.ones(2, 3), 2)
        assert lib.vmap(lambda x, k: x * k, in_dims=(0, None))(lib.ones(2, 3), 2).shape == (2, 3)


def test_transform_keywords_as_torch():
    """jacrev's chunk_size, jacfwd's randomness and jvp's strict, with torch's checks."""
    x = R.standard_normal(3)
    for lib in (cr, torch):
        t = lib.tensor(x)
        _close(lib.func.jacrev(lib.sin, chunk_size=2)(t), torch.func.jacrev(torch.sin)(
            torch.tensor(x)))
        _close(lib.func.jacfwd(lib.sin, randomness="same")(t), np.diag(np.cos(x)))
        with pytest.raises(ValueError, match="`chunk_size` should be greater than 0"):
            lib.func.jacrev(lib.sin, chunk_size=0)(t)
        with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
            lib.func.jacfwd(lib.sin, randomness="x")(t)
        with pytest.raises(RuntimeError, match="independent of the inputs"):
            lib.func.jvp(lambda v: lib.ones(2), (t,), (t,), strict=True)
        assert lib.func.jvp(lambda v: lib.ones(2), (t,), (t,))[1].tolist() == [0.0, 0.0]


def test_grad_and_vmap_pass_keyword_arguments_through_as_torch():
    x = R.standard_normal(3)
    got = []
    for lib in (cr, torch):
        f = lambda v, scale=1.0: (v * scale).sin().sum()
        g = lambda v, scale=1.0: (v * scale).sin()
        t = lib.tensor(x)
        got.append([lib.func.grad(f)(t, scale=2.0), lib.func.grad_and_value(f)(t, scale=2.0)[1],
                    lib.vmap(g)(lib.stack([t, t * 2]), scale=3.0)])
    for a, b in zip(*got):
        _close(a, b)
