"""softmax through oneDNN (the last dim of float32 arrays of at least onednn.ELEMENTWISE_MIN
elements, the ``onednn`` extra) against torch: values and gradients with attention's masks
(rows with some −inf), 1 and 2 threads, the rows kept on NumPy (a NaN, +inf, only −inf) with
torch's NaN, other dims, double backward; log_softmax (cross-entropy) stays on NumPy."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.backends import onednn
from spies import record_calls

pytestmark = pytest.mark.skipif(not onednn.is_available(), reason="the onednn extra is not installed")
RNG = np.random.default_rng(12)


@pytest.fixture
def calls(monkeypatch):
    """The names of oneDNN's softmax functions as they run."""
    return record_calls(monkeypatch, onednn, ["softmax_forward", "softmax_backward"])


def _masked(shape):
    x = (RNG.standard_normal(shape) * 5).astype(np.float32)
    x[..., 1::7] = -np.inf                      # a mask: some −inf in every row
    x.reshape(-1, shape[-1])[3, 5:] = -np.inf   # and a row with one finite value
    x.reshape(-1)[:4] = [1e4, -1e4, 80.0, -80.0]   # the log-sum-exp trick's case
    return x


def _both(op, x, dim=-1):
    g = RNG.standard_normal(x.shape).astype(np.float32)
    out = []
    for lib in (cr, torch):
        xs = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional if lib is torch else F, op)(xs, dim=dim)
        y.backward(lib.tensor(g))
        out.append((y.detach().numpy(), xs.grad.numpy()))
    return out


@pytest.mark.parametrize("threads", [1, 2])
def test_softmax_on_onednn_matches_torch(calls, threads):
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(threads)
        (y, gx), (yt, gxt) = _both("softmax", _masked((32, 4, 64, 64)))
    finally:
        cr.set_num_threads(before)
    assert calls == ["softmax_forward", "softmax_backward"]
    np.testing.assert_array_equal(np.isneginf(y), np.isneginf(yt))
    np.testing.assert_allclose(y, yt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx, gxt, rtol=1e-4, atol=1e-5)


def test_cross_entropy_over_many_classes_stays_on_numpy(calls):
    logits = RNG.standard_normal((256, 1000)).astype(np.float32)
    target = RNG.integers(0, 1000, 256)
    losses = []
    for lib, fn in ((cr, F.cross_entropy), (torch, torch.nn.functional.cross_entropy)):
        x = lib.tensor(logits, requires_grad=True)
        loss = fn(x, lib.tensor(target))
        loss.backward()
        losses.append((loss.item(), x.grad.numpy()))
    assert calls == []    # log_softmax: NumPy's exact log-sum-exp
    assert abs(losses[0][0] - losses[1][0]) < 1e-6
    np.testing.assert_allclose(losses[0][1], losses[1][1], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("special", [np.nan, np.inf, "row of -inf"])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_rows_with_nan_inf_or_only_minus_inf_stay_on_numpy(calls, op, special):
    x = _masked((64, 32, 64))
    if special == "row of -inf":
        x[5, 7] = -np.inf
    else:
        x[5, 7, 9] = special
    (y, gx), (yt, gxt) = _both(op, x)
    assert "softmax_forward" not in calls
    np.testing.assert_array_equal(np.isnan(y), np.isnan(yt))
    np.testing.assert_allclose(y, yt, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(gx), np.isnan(gxt))


def _every_row_max_finite(x):
    """The definition ``_on_onednn`` checks in two cheaper passes."""
    return bool(np.isfinite(np.maximum.reduce(x, axis=-1)).all())


@pytest.mark.parametrize("case", [
    "plain", "mask", "causal", "nan", "nan in a masked row", "-nan", "+inf", "all -inf row",
    "all -inf row but one NaN", "first and last -inf", "all +inf row", "all -inf array",
    "first col -inf everywhere", "last row all -inf"])
def test_onednn_check_is_every_row_having_a_finite_max(case):
    from chainrule.ops.softmax import _on_onednn
    x = (RNG.standard_normal((16, 64, 64)) * 5).astype(np.float32)   # onednn's least size
    rows = x.reshape(-1, 64)
    edit = {
        "mask": lambda: rows.__setitem__((slice(None), slice(1, None, 7)), -np.inf),
        "causal": lambda: rows.__setitem__(np.triu(np.ones((1024, 64), bool), 1), -np.inf),
        "nan": lambda: rows.__setitem__((40, 9), np.nan),
        "nan in a masked row": lambda: (rows.__setitem__((3, slice(None, 60)), -np.inf),
                                        rows.__setitem__((3, 63), np.nan)),
        "-nan": lambda: rows.__setitem__((40, 0), -np.nan),
        "+inf": lambda: rows.__setitem__((1023, 63), np.inf),
        "all -inf row": lambda: rows.__setitem__(77, -np.inf),
        "all -inf row but one NaN": lambda: (rows.__setitem__(77, -np.inf),
                                             rows.__setitem__((77, 30), np.nan)),
        "first and last -inf": lambda: rows.__setitem__((slice(None), [0, 63]), -np.inf),
        "all +inf row": lambda: rows.__setitem__(5, np.inf),
        "all -inf array": lambda: rows.__setitem__(slice(None), -np.inf),
        "first col -inf everywhere": lambda: rows.__setitem__((slice(None), 0), -np.inf),
        "last row all -inf": lambda: rows.__setitem__(-1, -np.inf),
    }.get(case, lambda: None)
    edit()
    assert _on_onednn(x, 2) == _every_row_max_finite(x)
    assert not _on_onednn(x, 1)


def test_other_dims_and_double_backward_keep_numpys_rule(calls):
    x = _masked((64, 64, 32))
    (y, gx), (yt, gxt) = _both("softmax", x.swapaxes(1, 2).copy(), dim=1)
    assert calls == []
    np.testing.assert_allclose(y, yt, rtol=1e-5, atol=1e-6)
    xs = cr.tensor(np.nan_to_num(x, neginf=-30.0), requires_grad=True)
    xt = torch.tensor(xs.detach().numpy(), requires_grad=True)
    grads = []
    for lib, t in ((cr, xs), (torch, xt)):
        y = (F if lib is cr else torch.nn.functional).softmax(t, dim=-1)
        g, = (cr.autograd.grad if lib is cr else torch.autograd.grad)((y * y).sum(), [t],
                                                                        create_graph=True)
        (g * g).sum().backward()
        grads.append((g.detach().numpy(), t.grad.numpy()))
    assert calls.count("softmax_forward") == 1
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)


def test_the_array_functions_refuse_what_they_do_not_take():
    x = np.ones((512, 128), np.float32)
    for bad in (x.T, x.astype(np.float64), np.ones((8, 16), np.float32)):
        with pytest.raises(ValueError, match=r"onednn\.softmax_forward: expected"):
            onednn.softmax_forward(bad)
    with pytest.raises(ValueError, match=r"onednn\.softmax_backward: expected"):
        onednn.softmax_backward(x[:, :64].copy(), x)
