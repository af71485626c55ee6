"""F.ctc_loss / nn.CTCLoss against torch: values and gradients over random shapes, dtypes, target
layouts, reductions and edge cases (repeats that need a blank between them, empty targets,
impossible alignments, unbatched input), torch's gradient convention, and the error cases."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import finite_difference_check

import chainrule as cr
import chainrule.nn.functional as F

TOL = {np.float32: {"rtol": 2e-4, "atol": 2e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-10}}


def _lengths(lib, v, kind):
    return lib.tensor(np.asarray(v)) if kind == "tensor" else kind(int(x) for x in v)


def _both(lp, targets, il, tl, lengths="tensor", seed=0, unit=False, **kw):
    """Loss and gradient (random upstream) from torch and chainrule on the same inputs; returns
    (loss, grad) arrays of chainrule's (upstream 1 with ``unit``). NaN entries must agree too."""
    lt = torch.tensor(lp, requires_grad=True)
    lc = cr.tensor(lp, requires_grad=True)
    ot = TF.ctc_loss(lt, torch.tensor(targets), _lengths(torch, il, lengths),
                     _lengths(torch, tl, lengths), **kw)
    oc = F.ctc_loss(lc, cr.tensor(targets), _lengths(cr, il, lengths), _lengths(cr, tl, lengths),
                    **kw)
    assert (tuple(oc.shape) == tuple(ot.shape)
            and str(oc.dtype) == str(ot.dtype).replace("torch", "chainrule"))
    g = np.random.default_rng(seed).standard_normal(tuple(ot.shape)).astype(lp.dtype)
    g = np.ones_like(g) if unit else g
    ot.backward(torch.tensor(g))
    oc.backward(cr.tensor(g))
    tol = TOL[lp.dtype.type]
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), **tol)
    np.testing.assert_allclose(lc.grad.numpy(), lt.grad.numpy(), **tol)
    return oc.detach().numpy(), lc.grad.numpy()


def _case(seed, normalized=True):
    """Random (T ≤ 30, N ≤ 4, C ≤ 6) log-probs, targets from few classes (so repeats occur),
    lengths including 0 and the full T."""
    rng = np.random.default_rng(seed)
    t, n, c = int(rng.integers(1, 31)), int(rng.integers(1, 5)), int(rng.integers(2, 7))
    x = rng.standard_normal((t, n, c)) * 2
    if normalized:
        x = x - np.log(np.exp(x).sum(-1, keepdims=True))
    s = int(rng.integers(0, 8))
    targets = rng.integers(1, min(c, 3), (n, s))
    tl = rng.integers(0, s + 1, n)
    il = rng.integers(0, t + 1, n)
    il[0] = t
    return x, targets, il, tl


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_random_padded_and_concatenated(seed, dtype, reduction):
    x, targets, il, tl = _case(seed)
    zi = seed % 2 == 0    # a random case may be impossible: a finite loss to compare gradients
    _both(x.astype(dtype), targets, il, tl, reduction=reduction, zero_infinity=zi)
    flat = np.concatenate([targets[i, :tl[i]] for i in range(len(tl))]).astype(np.int64)
    _both(x.astype(dtype), flat, il, tl, reduction=reduction, zero_infinity=zi)


@pytest.mark.parametrize("seed", [104, 112, 116, 118])   # cases with every alignment possible
def test_unnormalized_log_probs_gradient_is_torchs(seed):
    # torch returns ∂ℓ/∂lp + exp(lp) (the gradient w.r.t. the logits behind a log_softmax)
    x, targets, il, tl = _case(seed, normalized=False)
    loss, grad = _both(x, targets, il, tl, unit=True, reduction="sum")
    assert np.isfinite(loss) and tl.any()
    eps, plain = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        f = [F.ctc_loss(cr.tensor(x + s * d), cr.tensor(targets), cr.tensor(il), cr.tensor(tl),
                        reduction="sum").item() for s in (1, -1)]
        plain[idx] = (f[0] - f[1]) / (2 * eps)
    frames = np.arange(x.shape[0])[:, None, None] < il[None, :, None]
    np.testing.assert_allclose(grad, np.where(frames, plain + np.exp(x), 0), atol=1e-6)


def test_finite_differences_through_log_softmax():
    # with normalized log-probs the gradient with respect to the logits is exact
    rng = np.random.default_rng(7)
    z = rng.standard_normal((6, 2, 4))
    tg, il, tl = cr.tensor([[1, 1, 2], [3, 0, 0]]), cr.tensor([6, 5]), cr.tensor([3, 1])
    finite_difference_check(lambda z: F.ctc_loss(z.log_softmax(2), tg, il, tl, reduction="none"), z)


@pytest.mark.parametrize("t,expected_inf", [(2, True), (3, False)])
def test_repeated_label_needs_a_blank(t, expected_inf):
    x = np.log(np.full((t, 1, 3), 1 / 3))
    for zi in (False, True):
        loss, grad = _both(x, np.array([[1, 1]]), [t], [2], reduction="none", zero_infinity=zi)
        assert np.isinf(loss).all() == (expected_inf and not zi)
        assert np.isnan(grad).all() == (expected_inf and not zi)   # torch's nan, or 0 with zi
        if expected_inf and zi:
            assert (grad == 0).all() and (loss == 0).all()
    if not expected_inf:   # the only path is 1, blank, 1
        np.testing.assert_allclose(loss, 3 * np.log(3))


def test_empty_targets_zero_input_length_and_blank_in_targets():
    x, _, _, _ = _case(3)
    t, n = x.shape[:2]
    _both(x, np.zeros((n, 0), np.int64), [t] * n, [0] * n, reduction="none")
    _both(x, np.zeros((0,), np.int64), [t] * n, [0] * n, reduction="mean")
    lp = np.log(np.full((4, 2, 3), 1 / 3))
    loss, _ = _both(lp, np.array([[1], [0]]), [0, 0], [0, 1], reduction="none")
    assert loss.tolist() == [0.0, np.inf]
    # targets holding the blank are not checked by torch: same values and gradients
    _both(x, np.array([[0, 1, 0]] * n), [t] * n, [3] * n, reduction="sum")
    _both(x, np.array([[1, 0]] * n), [t] * n, [2] * n, reduction="sum", blank=0)


@pytest.mark.parametrize("lengths", ["tensor", tuple, list])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_lengths_kinds_and_unbatched(lengths, reduction):
    x, targets, il, tl = _case(5)
    _both(x, targets, il, tl, lengths=lengths, reduction=reduction, zero_infinity=True)
    x1 = x[:, 0]
    _both(x1, targets[0, :tl[0]], il[:1], tl[:1], lengths=lengths, reduction=reduction)
    _both(x1, targets[:1], il[:1], tl[:1], lengths=lengths, reduction=reduction)
    _both(x1, targets[0, :tl[0]], il[0], tl[0], reduction=reduction)   # 0-d length tensors


def test_blank_other_than_zero_float_targets_and_int32_lengths():
    x, targets, il, tl = _case(9)
    c = x.shape[2]
    _both(x, np.where(targets == c - 1, 0, targets), il, tl, blank=c - 1, reduction="sum")
    lt = TF.ctc_loss(torch.tensor(x), torch.tensor(targets + 0.5),
                     torch.tensor(il, dtype=torch.int32),
                     torch.tensor(tl, dtype=torch.int16), reduction="none")
    lc = F.ctc_loss(cr.tensor(x), cr.tensor(targets + 0.5), cr.tensor(il.astype(np.int32)),
                    cr.tensor(tl.astype(np.int16)), reduction="none")
    np.testing.assert_allclose(lc.numpy(), lt.numpy(), rtol=1e-10)


def test_graph_double_backward_and_forward_mode_as_torch():
    x = cr.tensor(np.log(np.full((5, 2, 3), 1 / 3)), requires_grad=True)
    tg, il, tl = cr.tensor([[1, 2], [2, 2]]), cr.tensor([5, 5]), cr.tensor([2, 2])
    loss = F.ctc_loss(x, tg, il, tl, reduction="none")
    assert loss.grad_fn.name() == "CtcLossBackward0" and len(loss.grad_fn.next_functions) == 1
    (g,) = cr.autograd.grad(loss.sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn.name() == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not impl"):
        g.sum().backward()
    with pytest.raises(NotImplementedError, match="forward AD with _ctc_loss"):
        cr.func.jvp(lambda a: F.ctc_loss(a, tg, il, tl), (x.detach(),), (cr.ones_like(x),))


def test_module():
    x, targets, il, tl = _case(11)
    m, mt = cr.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True), torch.nn.CTCLoss(
        blank=0, reduction="sum", zero_infinity=True)
    args = (targets, il, tl)
    out = m(cr.tensor(x), *map(cr.tensor, args))
    np.testing.assert_allclose(out.item(), mt(torch.tensor(x), *map(torch.tensor, args)).item())
    assert repr(m) == repr(mt) == "CTCLoss()" and m.state_dict() == {}


_X = np.log(np.full((4, 2, 4), 0.25))
_T, _IL, _TL = np.array([[1, 1, 2], [2, 3, 0]]), np.array([4, 4]), np.array([3, 2])
ERRORS = [  # (log_probs, targets, input_lengths, target_lengths, kwargs, type, chainrule message)
    (_X, _T, [5, 4], _TL, {}, RuntimeError, "input_lengths to have value at most 4"),
    (_X, _T, [-1, 4], _TL, {}, RuntimeError, "input_lengths to have value at least 0"),
    (_X, _T, _IL, [4, 0], {}, RuntimeError, "size at least 4"),
    (_X, _T, _IL, [-1, 0], {}, RuntimeError, "target_lengths to have value at least 0"),
    (_X, _T, [4, 4, 4], _TL, {}, RuntimeError, "input_lengths must be of size batch_size"),
    (_X, _T, _IL, [3, 1, 1], {}, RuntimeError, "target_lengths must be of size batch_size"),
    (_X, _T[:1], _IL, _TL, {}, RuntimeError, "batch size 2"),
    (_X, np.array([1, 1, 2, 2]), _IL, _TL, {}, RuntimeError, "sum\\(target_lengths\\) = 5"),
    (_X, _T[None], _IL, _TL, {}, RuntimeError, "targets of 1 .* to 2"),
    (_X[None], _T, _IL, _TL, {}, RuntimeError, "log_probs of shape \\(T, N, C\\)"),
    (_X[:0], _T, [0, 0], _TL, {}, RuntimeError, "must not be empty"),
    (_X, _T, _IL, _TL, {"blank": 4}, RuntimeError, "blank must be in label range"),
    (_X, _T, _IL, _TL, {"blank": -1}, RuntimeError, "blank must be in label range"),
    (_X, _T, _IL, _TL, {"reduction": "avg"}, ValueError, "avg is not a valid value"),
    (_X, _T, _IL.astype(np.float64), _TL, {}, RuntimeError, "input_lengths must be integral"),
    (_X.astype(np.float16), _T, _IL, _TL, {}, NotImplementedError, "not implemented for 'Half'"),
    (_X, _T, tuple(_IL), _TL, {}, TypeError, "both Tensors or both tuples of ints"),
    (_X, _T, 4, 3, {}, TypeError, "both Tensors or both tuples of ints"),
    (_X, _T, (4.0, 4), (3, 2), {}, TypeError, "both Tensors or both tuples of ints"),
    (_X, _T, _IL, _TL, {"blank": 1.0}, TypeError, "blank must be an int"),
    (_X, _T, _IL, _TL, {"zero_infinity": 1}, TypeError, "zero_infinity must be a bool"),
]


@pytest.mark.parametrize("x,targets,il,tl,kw,exc,msg", ERRORS)
def test_errors_as_torch(x, targets, il, tl, kw, exc, msg):
    def conv(lib, v):
        return lib.tensor(v) if isinstance(v, np.ndarray) else v
    with pytest.raises(exc):
        TF.ctc_loss(torch.tensor(x), torch.tensor(targets),
                    conv(torch, il) if not isinstance(il, list)
                    else torch.tensor(il), conv(torch, tl) if not isinstance(tl, list)
                    else torch.tensor(tl), **kw)
    with pytest.raises(exc, match=msg):
        F.ctc_loss(cr.tensor(x), cr.tensor(targets), conv(cr, il) if not isinstance(il, list)
                   else cr.tensor(il), conv(cr, tl) if not isinstance(tl, list) else cr.tensor(tl),
                   **kw)


def test_out_of_range_targets_refused():
    # torch reads past the class axis (undefined behaviour); chainrule refuses, naming the value
    with pytest.raises(RuntimeError, match=r"class indices in \[0, 4\).*got 5"):
        F.ctc_loss(cr.tensor(_X), cr.tensor([[1, 1, 5], [2, 3, 0]]), cr.tensor(_IL), cr.tensor(_TL))
    # the padding past a target's length is never read, as torch's
    _both(_X, np.array([[1, 1, 2], [2, 3, -1]]), _IL, _TL, reduction="none")
