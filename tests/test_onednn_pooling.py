"""Max pooling through oneDNN (float32, the ``onednn`` extra) against torch: values, gradients,
ties, every window geometry torch takes (stride, padding, dilation, ceil_mode, unbatched), the
winners a JVP or double backward asks for afterwards, and the cases kept on NumPy (NaN, float64,
return_indices, deterministic mode)."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.autograd.forward_ad as fwd
import chainrule.nn.functional as F
from chainrule.backends import onednn

RNG = np.random.default_rng(3)

GEOMETRIES = [   # (input shape, kernel, keyword arguments)
    ((4, 3, 8, 8), 2, {}),
    ((2, 3, 9, 7), 3, dict(stride=2, padding=1)),
    ((2, 2, 9, 9), (3, 2), dict(stride=(2, 1), dilation=(2, 1))),
    ((2, 3, 10, 7), 3, dict(stride=2, ceil_mode=True)),
    ((3, 7, 7), 2, dict(stride=1)),                                  # unbatched
    ((64, 6, 28, 28), 2, {}),                                        # LeNet-5's first pooling
    # N·C a multiple of 16, C not: pooled as images of 16 channels (onednn._pool_shapes)
    ((16, 3, 9, 7), 3, dict(stride=2, padding=1)),
    ((8, 2, 9, 9), (3, 2), dict(stride=(2, 1), dilation=(2, 1))),
    ((16, 3, 10, 7), 3, dict(stride=2, ceil_mode=True)),
    ((4, 24, 6, 6), 2, {}),
]


def test_pooling_regroups_planes_into_blocks_of_16_channels():
    cl = cr.channels_last
    assert onednn._pool_shapes((64, 6, 28, 28), (64, 6, 14, 14), None) == (
        (24, 16, 28, 28), (24, 16, 14, 14))
    assert onednn._pool_shapes((4, 24, 6, 6), (4, 24, 3, 3), None) == ((6, 16, 6, 6), (6, 16, 3, 3))
    for shape in [(64, 16, 10, 10), (2, 3, 9, 7)]:   # 16 channels already; 6 planes: as they are
        assert onednn._pool_shapes(shape, shape[:2] + (4, 4), None) == (shape, shape[:2] + (4, 4))
    assert onednn._pool_shapes((64, 6, 28, 28), (64, 6, 14, 14), cl) == (
        (64, 6, 28, 28), (64, 6, 14, 14))               # channels-last: the channels are innermost


def _ran_on_onednn(fn):
    before = onednn.cache_info()
    out = fn()
    after = onednn.cache_info()
    return out, after["hits"] + after["misses"] > before["hits"] + before["misses"]


@pytest.mark.parametrize("shape,k,kw", GEOMETRIES, ids=[str(g[2]) + str(g[0]) for g in GEOMETRIES])
def test_max_pool2d_on_onednn_matches_torch(shape, k, kw):
    x = RNG.standard_normal(shape).astype(np.float32)
    x.flat[:4] = 2.5            # ties: the first maximum in window order wins, as torch
    xa, xb = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, ran = _ran_on_onednn(lambda: F.max_pool2d(xa, k, **kw))
    assert ran, "oneDNN did not pool"
    yb = torch.nn.functional.max_pool2d(xb, k, **kw)
    np.testing.assert_array_equal(ya.detach().numpy(), yb.detach().numpy())
    g = RNG.standard_normal(tuple(yb.shape)).astype(np.float32)
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_winners_after_onednn_serve_double_backward_and_jvp():
    x = RNG.standard_normal((2, 3, 6, 6))
    t = RNG.standard_normal(x.shape)
    xa = cr.tensor(x.astype(np.float32), requires_grad=True)
    ga, = cr.autograd.grad(F.max_pool2d(xa, 2, stride=1).pow(2).sum(), xa, create_graph=True)
    (ga * ga).sum().backward()
    xb = torch.tensor(x.astype(np.float32), requires_grad=True)
    gb, = torch.autograd.grad(torch.nn.functional.max_pool2d(xb, 2, stride=1).pow(2).sum(), xb,
                              create_graph=True)
    (gb * gb).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-5, atol=1e-5)
    with fwd.dual_level():
        out = F.max_pool2d(fwd.make_dual(cr.tensor(x.astype(np.float32)),
                                         cr.tensor(t.astype(np.float32))), 3, stride=2)
        tangent = fwd.unpack_dual(out).tangent.numpy()
    _, expected = torch.func.jvp(lambda v: torch.nn.functional.max_pool2d(v, 3, stride=2),
                                 (torch.tensor(x.astype(np.float32)),),
                                 (torch.tensor(t.astype(np.float32)),))
    np.testing.assert_allclose(tangent, expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("case", ["nan", "-inf", "float64", "indices", "deterministic"])
def test_what_stays_on_numpy_still_matches_torch(case):
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float64 if case == "float64" else np.float32)
    if case == "nan":
        x[0, 1, 2, 3] = np.nan     # oneDNN's maximum would drop it; torch's propagates it
    if case == "-inf":             # a window of -inf: oneDNN would give -FLT_MAX, torch -inf
        x[1, 2, :2, :2] = -np.inf
    kw = dict(return_indices=True) if case == "indices" else {}
    cr.use_deterministic_algorithms(case == "deterministic")
    try:
        ya, ran = _ran_on_onednn(lambda: F.max_pool2d(cr.tensor(x), 2, **kw))
    finally:
        cr.use_deterministic_algorithms(False)
    yb = torch.nn.functional.max_pool2d(torch.tensor(x), 2, **kw)
    assert not ran
    if case == "indices":
        np.testing.assert_array_equal(ya[1].numpy(), yb[1].numpy())
        ya, yb = ya[0], yb[0]
    np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_switched_off_pools_on_numpy():
    x = cr.tensor(RNG.standard_normal((2, 3, 4, 4)).astype(np.float32))
    with onednn.flags(enabled=False):
        _, ran = _ran_on_onednn(lambda: F.max_pool2d(x, 2))
    assert not ran
    assert "float32" in onednn.pool_unsupported((2, 3, 4, 4), np.float64)
    with pytest.raises(ValueError, match="the workspace of this geometry's forward"):
        onednn.max_pool2d_backward(np.zeros((1, 1, 2, 2), np.float32), None, (1, 1, 4, 4),
                                   (2, 2), (2, 2), (1, 1), (0, 0, 0, 0))
