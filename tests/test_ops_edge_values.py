"""Edge values where an op's answer is easy to get silently wrong, against torch (and float64
truth): sums over leading dims of many float32 values, variance of offset data."""
import numpy as np
import pytest
import torch

import chainrule as cr


def _offset(shape, dtype=np.float32, seed=0):
    return (1e4 + np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("shape, dim", [((100000, 2), 0), ((3000, 64), 0), ((300, 7, 5), 0),
                                        ((300, 7, 5), (0, 1)), ((40, 30, 8), (0, 1)),
                                        ((257, 3), 0), ((1000, 1), 0)])
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
def test_float32_reductions_over_leading_dims_keep_their_digits(shape, dim, name):
    """NumPy adds along a leading axis one row after another: the mean of 10⁵ values near 10⁴
    came out 7 off (and the variance 56 instead of 1); torch's (cascade sums, float64
    accumulators for var) keep float32's digits, as chainrule must."""
    a = _offset(shape)
    truth = getattr(a.astype(np.float64), name)(dim, **({"ddof": 1} if name in ("var", "std") else {}))
    mine = getattr(cr.tensor(a), name)(dim)
    theirs = getattr(torch.tensor(a), name)(dim).numpy()
    assert mine.dtype == cr.float32 and tuple(mine.shape) == theirs.shape
    scale = np.abs(truth).max()
    mine_error = np.abs(mine.numpy() - truth).max() / scale
    theirs_error = np.abs(theirs - truth).max() / scale
    assert mine_error <= max(4 * theirs_error, 4e-7), (mine_error, theirs_error)


def test_leading_dim_sums_keep_shapes_keepdim_and_float16_accumulation():
    x = np.random.default_rng(1).standard_normal((600, 3, 4)).astype(np.float32)
    for dim, keepdim in [((0,), True), ((0, 1), True), ((0, 1), False), (0, False)]:
        mine, theirs = cr.tensor(x).sum(dim, keepdim=keepdim), torch.tensor(x).sum(dim, keepdim=keepdim)
        assert tuple(mine.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=2e-6, atol=2e-5)
    h = np.random.default_rng(2).random((5000, 4)).astype(np.float16)   # float32 accumulator
    mine, theirs = cr.tensor(h).sum(0), torch.tensor(h).sum(0)
    assert mine.dtype == cr.float16
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_gradients_of_leading_dim_reductions_as_torch():
    a = _offset((700, 3)).astype(np.float64) - 1e4
    for name in ("sum", "mean", "var", "std"):
        t, c = torch.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
        getattr(t, name)(0).pow(2).sum().backward()
        getattr(c, name)(0).pow(2).sum().backward()
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
