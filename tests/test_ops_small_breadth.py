"""Small torch names added in one pass (rsub, ldexp, nextafter, put/put_, Tensor.H/mH,
channel_shuffle, lp_pool1d/2d with their modules, linalg.solve_triangular), each against torch:
values, dtypes, gradients and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr

RNG = np.random.default_rng(0)


def both(fn, *arrays, grad=True):
    """fn(lib, *tensors) under chainrule and torch: values equal, and (``grad``) the gradients
    of the sum with respect to every floating input."""
    outs, grads = [], []
    for lib in (cr, torch):
        ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *ts)
        outs.append(out)
        if grad:
            out.sum().backward()
            grads.append([t.grad for t in ts if t.requires_grad])
    mine, theirs = outs
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7)
    for g, h in zip(*grads) if grad else ():
        np.testing.assert_allclose(g.numpy(), h.numpy(), rtol=1e-6, atol=1e-7)


def test_rsub_ldexp_nextafter():
    x = RNG.standard_normal(5)
    both(lambda L, a: L.rsub(a, 3.0, alpha=2), x)
    both(lambda L, a, e: L.ldexp(a, e), x, np.array([2, 5, 0, 3, 1]))
    # a negative integer exponent: torch's value is x/2, its gradient 0 (its derivative takes
    # an integer power of 2); chainrule's is the true 1/2
    both(lambda L, a, e: L.ldexp(a, e), x, np.array([2, -1, 0, 3, 1]), grad=False)
    both(lambda L, a, e: L.ldexp(a, e), np.array([1, 2]), np.array([2, 3]), grad=False)
    both(lambda L, a, b: L.nextafter(a, b), np.float32([1, 2, 0]), np.float32([2, 1, -1]), grad=False)
    with pytest.raises(RuntimeError, match="nextafter"):
        cr.nextafter(cr.tensor([1, 2]), cr.tensor([2, 1]))


def test_put_and_put_():
    a = RNG.standard_normal((2, 3))
    both(lambda L, x, s: x.put(L.tensor([0, -1, 4]), s), a, RNG.standard_normal(3))
    both(lambda L, x, s: L.put(x, L.tensor([[1, 1]]), s, accumulate=True), a,
         RNG.standard_normal((1, 2)))
    for lib in (cr, torch):
        t = lib.zeros(2, 2)
        t.put_(lib.tensor([3]), lib.tensor([5.0]))
        assert t.tolist() == [[0.0, 0.0], [0.0, 5.0]]
        with pytest.raises(IndexError):
            t.put(lib.tensor([4]), lib.tensor([1.0]))
        with pytest.raises(IndexError, match="same number of elements"):
            t.put(lib.tensor([0, 1]), lib.tensor([1.0]))


def test_conjugate_transposes():
    for lib in (cr, torch):
        m = lib.arange(6.0).reshape(2, 3)
        assert tuple(m.H.shape) == (3, 2) and tuple(m.mH.shape) == (3, 2)
        assert tuple(lib.ones(4, 2, 3).mH.shape) == (4, 3, 2)
        with pytest.raises(RuntimeError, match="mH"):
            lib.ones(4, 2, 3).H


def test_channel_shuffle():
    both(lambda L, x: L.nn.functional.channel_shuffle(x, 3), RNG.standard_normal((2, 6, 2, 3)))
    both(lambda L, x: L.nn.ChannelShuffle(2)(x), RNG.standard_normal((2, 4, 5)))
    for lib in (cr, torch):
        with pytest.raises(RuntimeError, match="divisible by groups"):
            lib.nn.functional.channel_shuffle(lib.ones(1, 5, 2, 2), 2)
        with pytest.raises(RuntimeError, match="> 2 dims"):
            lib.nn.functional.channel_shuffle(lib.ones(2, 4), 2)
    assert repr(cr.nn.ChannelShuffle(2)) == repr(torch.nn.ChannelShuffle(2))


@pytest.mark.parametrize("p", [1, 2, 1.5])
def test_lp_pool(p):
    x = np.abs(RNG.standard_normal((2, 3, 7, 6))) + 0.1
    both(lambda L, a: L.nn.functional.lp_pool2d(a, p, 2), x)
    both(lambda L, a: L.nn.functional.lp_pool2d(a, p, (3, 2), stride=(2, 1), ceil_mode=True), x)
    both(lambda L, a: L.nn.LPPool1d(p, 3, 2)(a), x[:, :, 0])
    assert repr(cr.nn.LPPool2d(p, 3)) == repr(torch.nn.LPPool2d(p, 3))
    v = np.abs(RNG.standard_normal((2, 2, 5, 4, 6))) + 0.1
    both(lambda L, a: L.nn.functional.lp_pool3d(a, p, 2), v)
    both(lambda L, a: L.nn.LPPool3d(p, (3, 2, 2), stride=(1, 2, 3), ceil_mode=True)(a), v)
    assert repr(cr.nn.LPPool3d(p, 3)) == repr(torch.nn.LPPool3d(p, 3))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(upper, left, unit):
    a = RNG.standard_normal((2, 4, 4)) + 4 * np.eye(4)
    b = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))
    both(lambda L, A, B: L.linalg.solve_triangular(A, B, upper=upper, left=left,
                                                   unitriangular=unit), a, b)
    with pytest.raises(RuntimeError, match="at least 2"):
        cr.linalg.solve_triangular(cr.tensor(a[0]), cr.tensor(b[0, 0]), upper=upper)
