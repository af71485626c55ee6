"""The hand-tuned array kernels against torch: batch norm's training forward and plain backward
(per-channel sums as BLAS dot products, coefficients as (C, L) rows) and ReLU against a cached
buffer of zeros. Their readable references are the recorded rules (tests/test_fast_paths.py
checks the two agree); here the values and gradients meet torch's on the inputs where a
shortcut could go wrong: offset data, every rank, non-contiguous and half-precision inputs."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import elementwise

RNG = np.random.default_rng(20)
SHAPES = [(6, 3), (4, 3, 7), (4, 3, 5, 6), (2, 3, 2, 3, 4), (32, 16, 32, 32)]


def _batch_norm_both(x, affine, dtype, running=True):
    """(chainrule, torch) outputs and gradients of training batch norm on the same arrays."""
    c = x.shape[1]
    w, b = RNG.standard_normal(c).astype(dtype), RNG.standard_normal(c).astype(dtype)
    g = RNG.standard_normal(x.shape).astype(dtype)
    out = []
    for lib, make in ((cr, cr.tensor), (torch, torch.tensor)):
        xs = make(x.copy(), requires_grad=True)
        ws, bs = (make(w, requires_grad=True), make(b, requires_grad=True)) if affine else (None, None)
        rm = make(np.zeros(c, dtype)) if running else None
        rv = make(np.ones(c, dtype)) if running else None
        fn = F.batch_norm if lib is cr else torch.nn.functional.batch_norm
        y = fn(xs, rm, rv, ws, bs, training=True)
        y.backward(make(g))
        grads = [t.grad.numpy() for t in ([xs, ws, bs] if affine else [xs])]
        out.append([y.detach().numpy()] + grads + ([rm.numpy(), rv.numpy()] if running else []))
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_training_matches_torch(shape, affine, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    for mine, ref in zip(*_batch_norm_both(x, affine, dtype)):
        np.testing.assert_allclose(mine, ref, **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_keeps_precision_on_offset_data(dtype):
    """Mean 1000, spread 1: a one-pass Σx² − nμ² variance would lose every float32 digit;
    the two passes (x − μ first) keep torch's accuracy."""
    x = (1000 + RNG.standard_normal((8, 4, 6, 6))).astype(dtype)
    tol = dict(rtol=1e-9, atol=1e-9) if dtype == np.float64 else dict(rtol=5e-3, atol=5e-3)
    for mine, ref in zip(*_batch_norm_both(x, True, dtype)):
        np.testing.assert_allclose(mine, ref, **tol)


def test_batch_norm_non_contiguous_input_matches_torch():
    x = RNG.standard_normal((5, 6, 4, 3)).transpose(0, 3, 2, 1)      # (5, 3, 4, 6), strided
    for mine, ref in zip(*_batch_norm_both(x, True, np.float64, running=False)):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-10)


def test_batch_norm_half_precision_computes_in_float32_like_torch():
    x = (3 * RNG.standard_normal((4, 3, 5, 5)) + 2).astype(np.float16)
    mine, ref = _batch_norm_both(x, False, np.float16, running=False)
    assert mine[0].dtype == np.float16 and mine[1].dtype == np.float16
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=4e-3, rtol=4e-3)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_eval_matches_torch(shape):
    c = shape[1]
    x = RNG.standard_normal(shape).astype(np.float32)
    stats = [RNG.standard_normal(c).astype(np.float32), RNG.random(c).astype(np.float32) + 0.5,
             RNG.standard_normal(c).astype(np.float32), RNG.standard_normal(c).astype(np.float32)]
    mine = F.batch_norm(cr.tensor(x), *[cr.tensor(s) for s in stats], training=False)
    ref = torch.nn.functional.batch_norm(torch.tensor(x), *[torch.tensor(s) for s in stats])
    np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)


def test_relu_against_the_zeros_buffer_matches_torch():
    """NaN stays NaN, −inf goes to 0, every shape and dtype (the buffer grows, is never
    written) and strided inputs give torch's values."""
    for shape in [(3000,), (7, 600), (40, 50, 3), (2, 2)]:
        for dtype in (np.float32, np.float64):
            x = RNG.standard_normal(shape).astype(dtype)
            x.flat[:3] = [np.nan, -np.inf, np.inf]
            for view in (x, x.T):
                np.testing.assert_array_equal(cr.tensor(view).relu().numpy(),
                                              torch.tensor(view).relu().numpy())
    for buf in elementwise._ZEROS.values():
        assert not buf.flags.writeable and not buf.any()
    ints = np.arange(-3000, 3000, dtype=np.int64)
    np.testing.assert_array_equal(cr.tensor(ints).relu().numpy(), torch.tensor(ints).relu().numpy())
