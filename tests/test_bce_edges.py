"""Binary cross-entropy at the edges, against torch: probabilities exactly 0 and 1 (a float32
sigmoid reaches 1.0 above logits ≈ 17), denormal and almost-1 probabilities, logits ±1e4, in
float16, float32 and float64 — values and gradients finite where torch's are, and equal to them
(torch clamps log at −100 and divides the gradient by max((1 − p)·p, 1e-12))."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

DTYPES = {np.float16: torch.float16, np.float32: torch.float32, np.float64: torch.float64}
# rounding of the logs and exps only: the formulas are evaluated in torch's order
TOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-13}


def both(fn_cr, fn_torch, arrays, reduction, dtype, **kw):
    results = []
    for lib, fn, tensor in ((cr, fn_cr, cr.tensor), (torch, fn_torch, torch.tensor)):
        ts = [tensor(a, requires_grad=(i == 0)) for i, a in enumerate(arrays)]
        out = fn(*ts, reduction=reduction, **kw)
        out.backward(tensor(np.ones(tuple(out.shape), dtype)))
        results.append((out.detach().numpy().astype(np.float64),
                        ts[0].grad.numpy().astype(np.float64)))
    (value, grad), (value_t, grad_t) = results
    for a, b in ((value, value_t), (grad, grad_t)):
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(np.isinf(a), np.isinf(b))
        finite = np.isfinite(b)
        np.testing.assert_allclose(a[finite], b[finite], rtol=TOL[dtype], atol=0)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_cross_entropy_at_p_0_1_denormal_and_almost_1(dtype, reduction):
    p = np.array([0.0, 1.0, 1e-45, 1 - 1e-7, 0.0, 1.0, 0.3, 1e-45], dtype)
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0], dtype)
    both(F.binary_cross_entropy, TF.binary_cross_entropy, [p, y], reduction, dtype)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_with_logits_at_logits_1e4(dtype, reduction):
    big = 1e4 if dtype != np.float16 else 6e4
    z = np.array([big, -big, big, -big, 0.0, 17.5, -17.5, 2.0], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5], dtype)
    both(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [z, y],
         reduction, dtype)


def test_bce_of_a_saturated_sigmoid_has_torchs_gradient_not_nan():
    """The issue's case: BCELoss()(sigmoid([20, −3]), [1, 0]) — torch's gradient is [0, 0.0237]."""
    results = []
    for lib in (cr, torch):
        z = lib.tensor([20.0, -3.0], requires_grad=True)
        lib.nn.BCELoss()(z.sigmoid(), lib.tensor([1.0, 0.0])).backward()
        results.append(z.grad.numpy())
    assert np.isfinite(results[0]).all()
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("module", ["BCELoss", "BCEWithLogitsLoss"])
def test_weighted_and_pos_weighted_forms(module):
    rng = np.random.default_rng(0)
    p = rng.random((4, 3)).astype(np.float32)
    p[0, 0], p[1, 1] = 0.0, 1.0
    y = (rng.random((4, 3)) > 0.5).astype(np.float32)
    w = rng.random(3).astype(np.float32) + 0.5
    extra = {"pos_weight": rng.random(3).astype(np.float32) + 0.5} if module == "BCEWithLogitsLoss" else {}
    grads = []
    for lib in (cr, torch):
        x = lib.tensor(p * 8 - 4 if extra else p, requires_grad=True)
        loss = getattr(lib.nn, module)(weight=lib.tensor(w), **{k: lib.tensor(v) for k, v in extra.items()})
        value = loss(x, lib.tensor(y))
        value.backward()
        grads.append((value.item(), x.grad.numpy()))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-6)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-7)
