"""Forward-mode AD: every primitive's JVP rule against torch.func.jvp, the dual-tensor API
(dual_level, make_dual, unpack_dual), forward-over-reverse through every VJP rule, and the
properties that make it true forward mode (one pass, no backward, no graph)."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfwd

import chainrule as cr
from ad_cases import ALL_CASES, CORE_CASES, NN_CASES, to_np
from test_ops import BINARY, UNARY
from chainrule.autograd import forward_ad as fwd
from chainrule.autograd import Node

R = np.random.default_rng(7)
IDS = lambda c: c[0]


def _close(a, b, tol=1e-9):
    np.testing.assert_allclose(to_np(a), to_np(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", ALL_CASES, ids=IDS)
def test_jvp_of_every_primitive_matches_torch_func(case):
    """ẏ = Σ_i J_i ẋ_i in one forward pass, same inputs and tangents as torch.func.jvp."""
    _, fc, ft, arrays = case
    tangents = [R.standard_normal(v.shape) for v in arrays]
    out_c, jvp_c = cr.func.jvp(fc, tuple(cr.tensor(v) for v in arrays), tuple(cr.tensor(t) for t in tangents))
    out_t, jvp_t = torch.func.jvp(ft, tuple(torch.tensor(v) for v in arrays),
                                  tuple(torch.tensor(t) for t in tangents))
    _close(out_c, out_t, 1e-10)
    _close(jvp_c, jvp_t)
    assert jvp_c.dtype == cr.float64 and tuple(jvp_c.shape) == tuple(jvp_t.shape)


@pytest.mark.parametrize("case", [c for c in CORE_CASES if c[0] in
                                  ("exp", "div", "matmul_batched", "softmax", "sum_dim", "gather")], ids=IDS)
def test_jvp_in_float32_stays_float32(case):
    _, fc, ft, arrays = case
    arrays = [v.astype(np.float32) for v in arrays]
    tangents = [R.standard_normal(v.shape).astype(np.float32) for v in arrays]
    _, jvp_c = cr.func.jvp(fc, tuple(cr.tensor(v) for v in arrays), tuple(cr.tensor(t) for t in tangents))
    _, jvp_t = torch.func.jvp(ft, tuple(torch.tensor(v) for v in arrays), tuple(torch.tensor(t) for t in tangents))
    assert jvp_c.dtype == cr.float32
    np.testing.assert_allclose(to_np(jvp_c), to_np(jvp_t), rtol=1e-4, atol=1e-5)


# torch 2.13's double backward of conv_transpose2d rejects output_padding, and of logcumsumexp
# gives nan (its backward takes the log of the incoming gradient): their oracle is torch's own
# forward-over-reverse, torch.func.jvp of torch.func.grad
TORCH_DOUBLE_BACKWARD_FAILS = {"conv_transpose2d", "logcumsumexp", "logcumsumexp_dim0"}


@pytest.mark.parametrize("case", ALL_CASES, ids=IDS)
def test_forward_over_reverse_through_every_vjp_rule(case):
    """H·v of s(x) = Σ c ⊙ sin(f(x)) by a JVP of the gradient: the backward pass runs inside the
    dual level, so the JVP rules of the ops each VJP rule is written with carry the tangents
    (IndexAdd for indexing, ConvTranspose/ConvWeight for conv, Fold for unfold, ...). The oracle
    is torch's reverse-over-reverse hvp."""
    _, fc, ft, arrays = case
    c = R.standard_normal(np.shape(to_np(ft(*[torch.tensor(v) for v in arrays]))))
    sc = lambda *xs: (fc(*xs).sin() * cr.tensor(c)).sum()
    st = lambda *xs: (ft(*xs).sin() * torch.tensor(c)).sum()
    vs = [R.standard_normal(v.shape) for v in arrays]
    value, hv = cr.func.hvp(sc, tuple(cr.tensor(v) for v in arrays), tuple(cr.tensor(v) for v in vs))
    tx, tv = tuple(torch.tensor(v) for v in arrays), tuple(torch.tensor(v) for v in vs)
    if case[0] in TORCH_DOUBLE_BACKWARD_FAILS:
        value_t = st(*tx)
        _, hv_t = torch.func.jvp(torch.func.grad(st, argnums=tuple(range(len(tx)))), tx, tv)
    else:
        value_t, hv_t = torch.autograd.functional.hvp(st, tx, tv)
    _close(value, value_t, 1e-10)
    for got, want in zip(hv if isinstance(hv, tuple) else (hv,), hv_t):
        _close(got, want, 1e-8)


ELEMENTWISE = [c for c in CORE_CASES if c[0] in {u[0] for u in UNARY + BINARY}
               and not any(k in c[0] for k in ("matmul", "mm", "mv", "dot", "outer"))]


@pytest.mark.parametrize("shape", [(), (0,), (2, 0)], ids=["0d", "empty", "empty2d"])
@pytest.mark.parametrize("case", ELEMENTWISE, ids=IDS)
def test_jvp_of_elementwise_ops_on_0d_and_empty_inputs(case, shape):
    _, fc, ft, arrays = case
    arrays = [np.asarray(np.abs(R.standard_normal(shape)) + 0.5) for _ in arrays]  # arrays, not scalars
    tangents = [np.asarray(R.standard_normal(shape)) for _ in arrays]
    out_c, jvp_c = cr.func.jvp(fc, tuple(cr.tensor(v) for v in arrays), tuple(cr.tensor(t) for t in tangents))
    out_t, jvp_t = torch.func.jvp(ft, tuple(torch.tensor(v) for v in arrays),
                                  tuple(torch.tensor(t) for t in tangents))
    assert tuple(out_c.shape) == tuple(out_t.shape) and tuple(jvp_c.shape) == tuple(jvp_t.shape)
    _close(out_c, out_t, 1e-10)
    _close(jvp_c, jvp_t)


def test_every_primitive_jvp_rule_is_exercised(monkeypatch):
    """The cases above reach the JVP rule of every primitive chainrule defines (directly, or
    inside a VJP rule during forward-over-reverse): a new primitive needs a case here."""
    seen = set()
    for cls in _all_subclasses(Node):
        if "jvp" in cls.__dict__:
            def recording(self, *tangents, _orig=cls.__dict__["jvp"], _cls=cls):
                seen.add(_cls)
                return _orig(self, *tangents)
            monkeypatch.setattr(cls, "jvp", recording)
    for _, fc, _, arrays in ALL_CASES:
        scalar = lambda *xs: (fc(*xs).sin() ** 2).sum()
        cr.func.hvp(scalar, tuple(cr.tensor(v) for v in arrays), tuple(cr.tensor(v) for v in arrays))
    cr.func.jvp(lambda v: cr.nn.functional.heaviside(v, cr.tensor(0.5, dtype=cr.float64)),
                (cr.ones(2, dtype=cr.float64),), (cr.ones(2, dtype=cr.float64),))
    with pytest.raises(RuntimeError, match="not differentiable"):   # (a rule that refuses)
        cr.func.jvp(lambda v: cr.linalg.qr(v, mode="complete").Q, (cr.ones(3, 2),),
                    (cr.ones(3, 2),))
    # torch's refusals: CTC's loss and its gradient, the LDL factorization and its solve
    F = cr.nn.functional
    lp = cr.randn(6, 2, 4).log_softmax(2).requires_grad_()
    ctc = lambda v: F.ctc_loss(v, cr.tensor([[1, 2], [3, 1]]), (6, 6), (2, 2), reduction="none")
    with pytest.raises(NotImplementedError, match="forward AD with _ctc_loss that"):
        cr.func.jvp(ctc, (lp.detach(),), (cr.ones(6, 2, 4),))
    loss = ctc(lp)
    with pytest.raises(NotImplementedError, match="forward AD with _ctc_loss_backward"):
        cr.func.jvp(lambda v: cr.autograd.grad(loss, lp, grad_outputs=v, create_graph=True)[0],
                    (cr.ones(2),), (cr.ones(2),))
    sym = cr.tensor([[4.0, 1.0], [1.0, 3.0]])
    with pytest.raises(RuntimeError, match="linalg_ldl_factor_ex is not implemented"):
        cr.func.jvp(lambda v: cr.linalg.ldl_factor(v).LD, (sym,), (cr.ones(2, 2),))
    ld, pivots = cr.linalg.ldl_factor(sym)
    with pytest.raises(RuntimeError, match="linalg_ldl_solve is not implemented"):
        cr.func.jvp(lambda b: cr.linalg.ldl_solve(ld, pivots, b), (cr.ones(2, 1),),
                    (cr.ones(2, 1),))
    with pytest.raises(NotImplementedError, match="derivative for 'geqrf'"):
        cr.func.jvp(lambda v: cr.geqrf(v).a, (sym,), (cr.ones(2, 2),))
    # rules whose values are checked against finite differences in their own files
    # (test_aten_aliases.py, test_linalg_legacy.py): here only reached
    cr.func.jvp(lambda v: cr.as_strided(v, (2, 2), (1, 2)), (cr.ones(6),), (cr.ones(6),))
    spd = cr.tensor(np.diag(np.arange(1.0, 13.0)) + 0.1)
    cr.func.jvp(lambda v: cr.lobpcg(v, k=1, niter=5)[0], (spd,), (cr.ones(12, 12),))
    cr.func.jvp(lambda v: cr.lobpcg(v, k=1, niter=5)[1], (spd,), (cr.ones(12, 12),))
    missing = {c.__name__ for c in _all_subclasses(Node) if "jvp" in c.__dict__} - {c.__name__ for c in seen}
    assert not missing, f"JVP rules never exercised by a case: {sorted(missing)}"


def test_heaviside_has_zero_tangent():
    x = cr.tensor(R.standard_normal(5))
    _, t = cr.func.jvp(lambda v: cr.nn.functional.heaviside(v, cr.tensor(0.5, dtype=cr.float64)),
                       (x,), (cr.ones_like(x),))
    assert t.tolist() == [0.0] * 5


# ---------------------------------------------------------------------------- the dual API
def test_dual_level_make_dual_unpack_dual():
    p, t = cr.tensor([1.0, 2.0], dtype=cr.float64), cr.tensor([0.5, -1.0], dtype=cr.float64)
    with fwd.dual_level() as level:
        assert level == 0
        d = fwd.make_dual(p, t)
        y = (d * d).exp()
        primal, tangent = fwd.unpack_dual(y)
        _close(primal, (p * p).exp())
        _close(tangent, 2 * p * t * (p * p).exp())   # ẏ = 2x·ẋ·e^{x²}
        assert fwd.unpack_dual(p).tangent is None    # the primal itself carries no tangent
        assert fwd.unpack_dual(d).tangent is t
    assert fwd.unpack_dual(y).tangent is None        # tangents end with the level
    assert y.grad_fn is None                          # forward mode recorded no graph
    level = fwd.enter_dual_level()
    try:
        assert fwd.unpack_dual(fwd.make_dual(p, t).sin()).tangent is not None
    finally:
        fwd.exit_dual_level(level=level)


def test_dual_api_errors():
    p = cr.tensor([1.0, 2.0], dtype=cr.float64)
    with pytest.raises(RuntimeError, match="inside a `with dual_level\\(\\):` block"):
        fwd.make_dual(p, p)
    with fwd.dual_level():
        with pytest.raises(ValueError, match="tangent must match the primal"):
            fwd.make_dual(p, cr.zeros(3, dtype=cr.float64))
        with pytest.raises(ValueError, match="tangent must match the primal"):
            fwd.make_dual(p, cr.zeros(2))
        with pytest.raises(ValueError, match="floating-point primal"):
            fwd.make_dual(cr.tensor([1, 2]), cr.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="nested dual levels are not supported"):
            fwd.enter_dual_level()
    with pytest.raises(RuntimeError, match="no dual level is open"):
        fwd.exit_dual_level()


def test_make_dual_of_a_leaf_keeps_reverse_mode():
    """Reverse-over-forward: the tangent J·v is itself differentiable w.r.t. the primal."""
    xv, vv = R.standard_normal(4), R.standard_normal(4)
    f = lambda z: (z.sin() * z.exp()).sum()
    x = cr.tensor(xv, requires_grad=True)
    with fwd.dual_level():
        jv = fwd.unpack_dual(f(fwd.make_dual(x, cr.tensor(vv)))).tangent
        jv.backward()
    xt = torch.tensor(xv, requires_grad=True)
    with tfwd.dual_level():
        tfwd.unpack_dual(f(tfwd.make_dual(xt, torch.tensor(vv)))).tangent.backward()
    _close(x.grad, xt.grad)   # ∇_x (∇f·v) = H·v


def test_forward_mode_is_one_pass_with_no_backward_and_no_graph(monkeypatch):
    """JVPs come from the JVP rules alone: with every VJP rule disabled forward mode still works."""
    def refuse(self, grad):
        raise AssertionError(f"{type(self).__name__}.backward ran during forward mode")
    for cls in _all_subclasses(Node):
        if "backward" in cls.__dict__:
            monkeypatch.setattr(cls, "backward", refuse)
    W, X = R.standard_normal((3, 4)), R.standard_normal((5, 4))
    f = lambda lib, w: (lib.tensor(X) @ w.T).tanh().log_softmax(1).sum()
    wv = R.standard_normal((3, 4))
    out, jv = cr.func.jvp(lambda w: f(cr, w), (cr.tensor(W),), (cr.tensor(wv),))
    _, jv_t = torch.func.jvp(lambda w: f(torch, w), (torch.tensor(W),), (torch.tensor(wv),))
    _close(jv, jv_t)
    assert out.grad_fn is None and jv.grad_fn is None


def _all_subclasses(cls):
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _all_subclasses(sub)
    return out


def test_backward_inside_a_dual_level_propagates_tangents():
    """Forward-over-reverse with the low-level API: ∇f computed inside the level carries H·v,
    also when gradients from two consumers are summed and through batch norm's fused VJP."""
    import chainrule.nn.functional as F
    import torch.nn.functional as TF
    xv, vv = R.standard_normal((4, 3)), R.standard_normal((4, 3))
    f = lambda lib, F_, z: (F_.batch_norm(z, None, None, training=True).sin() * z).sum() + (z * z.exp()).sum()
    x = cr.tensor(xv, requires_grad=True)
    with fwd.dual_level():
        d = fwd.make_dual(x, cr.tensor(vv))
        (g,) = cr.autograd.grad(f(cr, F, d), d)   # create_graph=False: a plain backward
        hv = fwd.unpack_dual(g).tangent
    _, hv_t = torch.autograd.functional.hvp(lambda z: f(torch, TF, z), torch.tensor(xv), torch.tensor(vv))
    _close(hv, hv_t, 1e-8)


def test_tangents_do_not_outlive_their_level():
    """A graph recorded inside one level and differentiated inside a later one must not pick up
    the old level's tangents (saved outputs, detached gradients, aux values)."""
    x = cr.tensor([0.5, 1.0], dtype=cr.float64, requires_grad=True)
    with fwd.dual_level():
        y = fwd.make_dual(x, cr.tensor([1.0, 1.0], dtype=cr.float64)).exp()
        (g_in,) = cr.autograd.grad(y.sum(), x, retain_graph=True)
    _, _, aux = cr.func.jvp(lambda z: (z.sin(), z.cos()), (x.detach(),), (cr.ones(2, dtype=cr.float64),),
                            has_aux=True)
    with fwd.dual_level():
        (g,) = cr.autograd.grad(y.sum(), x)
        assert fwd.unpack_dual(g).tangent is None
        assert fwd.unpack_dual(g_in).tangent is None
        assert fwd.unpack_dual(aux).tangent is None


def test_inplace_updates_and_setitem_carry_tangents_like_torch():
    xv, vv = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 0.5])
    results = []
    for lib, F_ in ((cr, fwd), (torch, tfwd)):
        with F_.dual_level():
            d = F_.make_dual(lib.tensor(xv), lib.tensor(vv)).clone()
            d.mul_(2.0)
            d.add_(d.sin())
            z = lib.zeros(5, dtype=lib.float64)
            z[1:4] = F_.make_dual(lib.tensor(xv), lib.tensor(vv))
            z[2] = 7.0
            results.append((F_.unpack_dual(d).tangent, F_.unpack_dual(z).tangent))
    for got, want in zip(*results):
        _close(got, want)


def test_custom_function_jvp_rule_is_used():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            ctx.save_for_backward(v)
            return v ** 3

        @staticmethod
        def backward(ctx, g):
            (v,) = ctx.saved_tensors
            return 3 * v * v * g

        @staticmethod
        def jvp(ctx, t):
            (v,) = ctx.saved_tensors
            return 3 * v * v * t
    xv, vv = R.standard_normal(3), R.standard_normal(3)
    _, jv = cr.func.jvp(lambda z: Cube.apply(z).sin(), (cr.tensor(xv),), (cr.tensor(vv),))
    _close(jv, np.cos(xv ** 3) * 3 * xv ** 2 * vv)


@pytest.mark.parametrize("case", [c for c in NN_CASES if c[0] in ("conv2d", "linear", "batch_norm_train")], ids=IDS)
def test_jacfwd_equals_jacrev_for_nn_primitives(case):
    """Columns by n JVPs and rows by m VJPs build the same Jacobian."""
    _, fc, _, arrays = case
    args = tuple(cr.tensor(v) for v in arrays)
    nums = tuple(range(len(args)))
    for fw, rv in zip(cr.func.jacfwd(fc, nums)(*args), cr.func.jacrev(fc, nums)(*args)):
        _close(fw, rv)


@pytest.mark.parametrize("case", ELEMENTWISE + [c for c in CORE_CASES if c[0] in
                                                ("matmul_2d", "softmax", "sum_dim", "var", "gather")], ids=IDS)
def test_jvp_on_non_contiguous_inputs_matches_torch_func(case):
    """Primals and tangents that are transposed, strided views (cr.as_tensor keeps the strides)."""
    _, fc, ft, arrays = case
    def strided(v):   # the same values laid out transposed and with a step of 2
        big = np.zeros(v.shape[::-1] + (2,))
        big[..., 0] = v.T
        return big[..., 0].T
    prim = [strided(v) for v in arrays]
    tang = [strided(R.standard_normal(v.shape)) for v in arrays]
    assert all(p.ndim < 2 or not p.flags.c_contiguous for p in prim)
    out_c, jvp_c = cr.func.jvp(fc, tuple(map(cr.as_tensor, prim)), tuple(map(cr.as_tensor, tang)))
    out_t, jvp_t = torch.func.jvp(ft, tuple(map(torch.as_tensor, prim)), tuple(map(torch.as_tensor, tang)))
    _close(out_c, out_t, 1e-10)
    _close(jvp_c, jvp_t)
