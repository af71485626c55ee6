"""cr.autograd.gradcheck / gradgradcheck: pass for every built-in op (reverse and forward mode,
float64), and catch deliberately wrong VJP, JVP and double-backward rules, naming the pair."""
import numpy as np
import pytest
import torch

import chainrule as cr
from ad_cases import ALL_CASES
from chainrule.autograd import GradcheckError, gradcheck, gradgradcheck

R = np.random.default_rng(3)


def _inputs(arrays):
    return tuple(cr.tensor(v, requires_grad=True) for v in arrays)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c[0])
def test_gradcheck_passes_for_every_builtin_op_in_both_modes(case):
    """Including sign (derivative 0) and maximum at ties, where the central difference
    (a+ε − a)/2ε = ½ matches the rule's even split of the gradient."""
    _, fc, _, arrays = case
    assert gradcheck(fc, _inputs(arrays), check_forward_ad=True, eps=EPS.get(case[0], 1e-6))


# a round trip through float32 rounds f to ~1e-7 relative: a larger step keeps the central
# difference (exact for this quadratic) above the rounding noise
EPS = {"cast_roundtrip": 1e-3}


SECOND_ORDER = ["exp", "log", "sqrt", "tanh", "sigmoid", "erf", "pow", "div", "matmul_broadcast",
                "prod_dim", "logsumexp", "softmax", "log_softmax", "var", "gather", "int_tensor_2d",
                "scatter_add", "pad_reflect", "cumsum", "conv2d", "linear", "batch_norm_train",
                "layer_norm", "cross_entropy_indices", "softplus_beta", "sdpa_float_mask",
                "sdpa_dead_row", "sdpa_causal_scaled"]


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c[0] in SECOND_ORDER], ids=lambda c: c[0])
def test_gradgradcheck_reverse_and_forward_over_reverse(case):
    _, fc, _, arrays = case
    assert gradgradcheck(fc, _inputs(arrays), check_fwd_over_rev=True)


def test_second_order_selection_is_real():
    assert len([c for c in ALL_CASES if c[0] in SECOND_ORDER]) == len(SECOND_ORDER)


def test_gradcheck_heaviside_step_has_zero_derivative_away_from_zero():
    x = cr.tensor(R.standard_normal(4), requires_grad=True)
    step = lambda v: cr.nn.functional.heaviside(v, cr.tensor(0.5, dtype=cr.float64)) * v
    assert gradcheck(step, (x,), check_forward_ad=True)


# ---------------------------------------------------------------------------- wrong rules
class WrongMul(cr.autograd.Function):
    """a·b whose VJP for b is off by 10% (∂/∂b should be g·a); its JVP is right."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a * 1.1

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return ta * b + a * tb


class WrongJvpSin(cr.autograd.Function):
    """sin with a right VJP and a wrong JVP (sign flipped)."""

    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return v.sin()

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        return g * v.cos()

    @staticmethod
    def jvp(ctx, t):
        (v,) = ctx.saved_tensors
        return -t * v.cos()


class FrozenSin(cr.autograd.Function):
    """sin whose VJP is right but not differentiable w.r.t. x (cos of a detached x), so its
    second derivative misses −sin(x): gradcheck passes, gradgradcheck must not."""

    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return v.sin()

    @staticmethod
    def backward(ctx, g):
        (v,) = ctx.saved_tensors
        return g * v.detach().cos()


def test_gradcheck_catches_a_wrong_vjp_and_names_the_pair():
    a, b = _inputs([R.standard_normal(3), R.standard_normal(3)])
    two_outputs = lambda x, y: (x.exp(), WrongMul.apply(x, y))
    with pytest.raises(GradcheckError) as err:
        gradcheck(two_outputs, (a, b))
    msg = str(err.value)
    assert "Jacobian mismatch for output 1 with respect to input 1 (reverse mode)" in msg
    assert "numerical:" in msg and "analytical:" in msg
    # the worst entry: numerical ∂(ab)_k/∂b_k = a_k, analytical 1.1·a_k
    k = int(np.argmax(np.abs(a.detach().numpy())))
    assert f"∂output1[{k}] / ∂input1[{k}]: numerical {a.detach().numpy()[k]:.6g}, analytical {1.1 * a.detach().numpy()[k]:.6g}" in msg
    assert gradcheck(two_outputs, (a, b), raise_exception=False) is False
    # the JVP is right: forward mode alone passes
    assert gradcheck(two_outputs, (a, b), check_forward_ad=True, check_backward_ad=False)
    # input 0 alone is differentiated correctly
    assert gradcheck(two_outputs, (a, b.detach()))


def test_gradcheck_catches_a_wrong_jvp():
    v = _inputs([R.standard_normal(4)])
    assert gradcheck(WrongJvpSin.apply, v)
    with pytest.raises(GradcheckError, match=r"output 0 with respect to input 0 \(forward mode\)"):
        gradcheck(WrongJvpSin.apply, v, check_forward_ad=True)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    v = _inputs([R.standard_normal(4)])
    assert gradcheck(FrozenSin.apply, v)
    with pytest.raises(GradcheckError, match=r"gradgradcheck: Jacobian mismatch for output 0 with respect to input 0"):
        gradgradcheck(FrozenSin.apply, v)
    assert gradgradcheck(lambda x: x.sin(), v)


def test_gradcheck_flags_a_nondeterministic_backward():
    class Noisy(cr.autograd.Function):
        calls = [0]

        @staticmethod
        def forward(ctx, v):
            return v * 2

        @staticmethod
        def backward(ctx, g):
            Noisy.calls[0] += 1
            return g * 2 + Noisy.calls[0] * 1e-9
    with pytest.raises(GradcheckError, match="Backward is not reentrant for output 0 with respect to input 0"):
        gradcheck(Noisy.apply, _inputs([R.standard_normal(3)]))
    assert gradcheck(Noisy.apply, _inputs([R.standard_normal(3)]), nondet_tol=1e-6)


# ---------------------------------------------------------------------------- inputs
def test_float32_inputs_warn():
    with pytest.warns(UserWarning, match="input 0 requires grad and is chainrule.float32, not float64"):
        gradcheck(lambda v: v * 2, (cr.ones(2, requires_grad=True),), atol=1e-2, rtol=1e-2, eps=1e-2)


def test_non_contiguous_non_tensor_and_integer_arguments():
    base = R.standard_normal((4, 3))
    t = cr.tensor(base).T.detach().requires_grad_()   # a transposed view: not C-contiguous
    assert not t._data.flags["C_CONTIGUOUS"]
    assert gradcheck(lambda v, k: (v.exp() * k, v.argmax()), (t, 3), check_forward_ad=True)
    np.testing.assert_array_equal(t.detach().numpy(), base.T)   # perturbations undone
    with pytest.raises(GradcheckError, match="output 0 with respect to input 0"):
        gradcheck(lambda v: WrongMul.apply(v, v), (t,))
    fixed = cr.tensor(R.standard_normal(3))                    # not differentiated
    assert gradcheck(lambda v, w: (v * w).sum(), (_inputs([R.standard_normal(3)])[0], fixed))
    with pytest.raises(ValueError, match="at least one input must be a Tensor with requires_grad=True"):
        gradcheck(lambda v: v, (fixed,))


def test_gradgradcheck_draws_its_grad_outputs_as_torch():
    """Random grad_outputs come from the global generator as torch's (make_tensor on [-1, 1)),
    so a seeded script draws the same numbers after a gradgradcheck as under torch."""
    drawn = []
    for lib in (cr, torch):
        lib.manual_seed(0)
        x = lib.randn(3, 2, dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda t: (t.sin(), t.exp()[0]), (x,))
        assert lib.autograd.gradgradcheck(lambda t: t.sin().t(), (x,),
                                          gen_non_contig_grad_outputs=True)
        drawn.append(lib.randn(4).numpy())
    np.testing.assert_array_equal(drawn[0], drawn[1])


def test_check_batched_grad_draws_and_checks_as_torch():
    """check_batched_grad runs (two random cotangents per output, drawn as torch draws them)."""
    drawn = []
    for lib in (cr, torch):
        lib.manual_seed(0)
        x = lib.randn(3, 2, dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda t: (t.sin(), t.sum()), (x,), check_batched_grad=True)
        assert lib.autograd.gradgradcheck(lambda t: t.exp(), (x,), check_batched_grad=True)
        drawn.append(lib.randn(4).numpy())
    np.testing.assert_array_equal(drawn[0], drawn[1])
