"""nn.RNN / LSTM / GRU, their cells and nn.utils.rnn packing, with torch as the oracle.

Torch's weights are copied in through ``load_state_dict``; outputs, final states and the
gradients of one scalar loss w.r.t. the input, the initial states and every parameter must agree
(float64 to 1e-10, float32 to 1e-5). Finite differences check the gradients on their own,
forward mode and double backward included.
"""
from __future__ import annotations

import itertools
import math
import time
import warnings

import numpy as np
import pytest
import torch
from oracle import TOL, check
from torch.nn.utils import rnn as trnn

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import rnn as crnn

# kind -> (class name, extra constructor arguments)
KINDS = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "lstm_proj": ("LSTM", {"proj_size": 3}),
    "gru": ("GRU", {}),
}
H_IN, H = 4, 5
SEQ, BATCH = 3, 2


@pytest.fixture(autouse=True, scope="module")
def _torch_single_thread():
    """Torch's thread pool only costs time on these tiny sizes (and stalls on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _np(t):
    return t.detach().numpy()


def _close(a, b, dtype, what=""):
    tol = TOL[np.dtype(dtype).type]
    np.testing.assert_allclose(_np(a), _np(b), err_msg=what, **tol)


def _pair(cls_name, dtype=np.float64, **kwargs):
    """The same layer in torch and chainrule, chainrule holding torch's weights."""
    tm = getattr(torch.nn, cls_name)(**kwargs, dtype=getattr(torch, np.dtype(dtype).name))
    cm = getattr(nn, cls_name)(**kwargs, dtype=np.dtype(dtype).name)
    cm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return cm, tm


def _both(arrays):
    """Each array as a chainrule and a torch leaf that require grad."""
    return ([cr.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _flatten(out):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n(, c_n)]."""
    y, state = out
    return [y] + (list(state) if isinstance(state, tuple) else [state])


def _compare(cm, tm, arrays, call, dtype, rng):
    """Run ``call(module, *tensors)`` on both sides; compare every result and the gradient of
    Σ ⟨result, random weights⟩ w.r.t. each input array and each parameter."""
    cs, ts = _both(arrays)
    oc, ot = call(cm, *cs), call(tm, *ts)
    assert len(oc) == len(ot)
    weights = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in ot]
    for i, (a, b) in enumerate(zip(oc, ot)):
        assert tuple(a.shape) == tuple(b.shape), (i, a.shape, b.shape)
        _close(a, b, dtype, f"result {i}")
    sum((o * cr.tensor(w)).sum() for o, w in zip(oc, weights)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(ot, weights)).backward()
    for i, (a, b) in enumerate(zip(cs, ts)):
        _close(a.grad, b.grad, dtype, f"grad of input {i}")
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        _close(p.grad, tp[name].grad, dtype, f"grad of {name}")


def _inputs(kind, tm, batched, batch_first, with_h0, rng, dtype):
    """Input and (optionally) initial states in the layout the configuration expects."""
    x_shape = (SEQ, H_IN) if not batched else ((BATCH, SEQ, H_IN) if batch_first else
                                               (SEQ, BATCH, H_IN))
    arrays = [rng.standard_normal(x_shape).astype(dtype)]
    if with_h0:
        layers = tm.num_layers * (2 if tm.bidirectional else 1)
        lead = (layers, BATCH) if batched else (layers,)
        h_out = tm.proj_size if getattr(tm, "proj_size", 0) else H
        arrays.append(rng.standard_normal(lead + (h_out,)).astype(dtype))
        if kind.startswith("lstm"):
            arrays.append(rng.standard_normal(lead + (H,)).astype(dtype))
    return arrays


def _call_layer(m, x, *state):
    if len(state) == 2:
        return _flatten(m(x, tuple(state)))
    return _flatten(m(x, state[0]) if state else m(x))


# ------------------------------------------------------------------------------ layers vs torch
GRID = list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (True, False),
                              (False, True)))


@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,batched,with_h0", GRID)
def test_layer_matches_torch_float64(kind, num_layers, bidirectional, batch_first, batched,
                                     with_h0):
    cls_name, extra = KINDS[kind]
    rng = np.random.default_rng(len(GRID))
    cm, tm = _pair(cls_name, input_size=H_IN, hidden_size=H, num_layers=num_layers,
                   bidirectional=bidirectional, batch_first=batch_first, **extra)
    arrays = _inputs(kind, tm, batched, batch_first, with_h0, rng, np.float64)
    _compare(cm, tm, arrays, _call_layer, np.float64, rng)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_layer_matches_torch_float32(kind, bias):
    cls_name, extra = KINDS[kind]
    rng = np.random.default_rng(3)
    cm, tm = _pair(cls_name, np.float32, input_size=H_IN, hidden_size=H, num_layers=2,
                   bidirectional=True, bias=bias, **extra)
    arrays = _inputs(kind, tm, True, False, True, rng, np.float32)
    _compare(cm, tm, arrays, _call_layer, np.float32, rng)
    assert cm(cr.tensor(arrays[0]))[0].dtype == cr.float32


def test_state_dict_moves_both_ways():
    cm = nn.LSTM(H_IN, H, num_layers=2, bidirectional=True, proj_size=2)
    tm = torch.nn.LSTM(H_IN, H, num_layers=2, bidirectional=True, proj_size=2)
    assert list(cm.state_dict()) == list(tm.state_dict())
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in cm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((SEQ, BATCH, H_IN)).astype(np.float32)
    for a, b in zip(_flatten(cm(cr.tensor(x))), _flatten(tm(torch.tensor(x)))):
        _close(a, b, np.float32)


# ------------------------------------------------------------------------------ cells vs torch
CELLS = {"rnn_tanh": ("RNNCell", {}), "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
         "lstm": ("LSTMCell", {}), "gru": ("GRUCell", {})}


def _call_cell(m, x, *state):
    out = m(x, tuple(state) if len(state) == 2 else state[0]) if state else m(x)
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cell_matches_torch(kind, batched, with_h0, dtype):
    cls_name, extra = CELLS[kind]
    rng = np.random.default_rng(5)
    cm, tm = _pair(cls_name, dtype, input_size=H_IN, hidden_size=H, **extra)
    lead = (BATCH,) if batched else ()
    arrays = [rng.standard_normal(lead + (H_IN,)).astype(dtype)]
    if with_h0:
        arrays += [rng.standard_normal(lead + (H,)).astype(dtype)
                   for _ in range(2 if kind == "lstm" else 1)]
    _compare(cm, tm, arrays, _call_cell, dtype, rng)


def test_cell_without_bias_matches_torch():
    rng = np.random.default_rng(6)
    for cls_name in ("RNNCell", "LSTMCell", "GRUCell"):
        cm, tm = _pair(cls_name, input_size=H_IN, hidden_size=H, bias=False)
        assert [n for n, _ in cm.named_parameters()] == ["weight_ih", "weight_hh"]
        _compare(cm, tm, [rng.standard_normal((BATCH, H_IN))], _call_cell, np.float64, rng)


def test_cells_unrolled_equal_the_layer():
    """A layer is its cell applied step by step: LSTMCell with the layer's weights."""
    rng = np.random.default_rng(7)
    layer = nn.LSTM(H_IN, H, dtype="float64")
    cell = nn.LSTMCell(H_IN, H, dtype="float64")
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = cr.tensor(rng.standard_normal((SEQ, BATCH, H_IN)))
    out, (h_n, c_n) = layer(x)
    h = c = cr.zeros(BATCH, H, dtype=cr.float64)
    for t in range(SEQ):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(_np(h), _np(out[t]), rtol=1e-12)
    np.testing.assert_allclose(_np(h), _np(h_n[0]), rtol=1e-12)
    np.testing.assert_allclose(_np(c), _np(c_n[0]), rtol=1e-12)


# ------------------------------------------------------------------------------ derivatives
def _functional(m, names):
    """f(x, h0, *params) calling ``m`` with ``params`` in place of its parameters (to hand
    the weights to gradcheck as inputs)."""
    def f(x, h, *params):
        saved = dict(m._parameters)
        m._parameters.update(zip(names, params))
        try:
            out = m(x, h)
        finally:
            m._parameters.update(saved)
        return tuple(_flatten(out))
    return f


@pytest.mark.parametrize("cls_name,kwargs", [("LSTM", dict(proj_size=1)), ("GRU", {})])
def test_gradcheck_tiny_layer_weights(cls_name, kwargs):
    """Finite differences vs reverse mode for the input, the initial state and every weight."""
    rng = np.random.default_rng(8)
    m = getattr(nn, cls_name)(2, 2, dtype="float64", **kwargs)
    names = [n for n, _ in m.named_parameters()]
    params = [cr.tensor(p.detach().numpy().copy(), requires_grad=True) for p in m.parameters()]
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = cr.tensor(rng.standard_normal((1, 2, m.proj_size or 2)), requires_grad=True)
    f = _functional(m, names)
    if cls_name == "LSTM":
        c0 = cr.tensor(rng.standard_normal((1, 2, 2)), requires_grad=True)
        assert cr.autograd.gradcheck(lambda x, h, c, *ps: f(x, (h, c), *ps), (x, h0, c0, *params))
    else:
        assert cr.autograd.gradcheck(f, (x, h0, *params))


@pytest.mark.parametrize("cls_name", ["LSTM", "GRU"])
def test_gradcheck_stacked_bidirectional_forward_and_reverse(cls_name):
    """Both modes through two bidirectional layers, w.r.t. the input and the initial states."""
    rng = np.random.default_rng(15)
    m = getattr(nn, cls_name)(2, 2, num_layers=2, bidirectional=True, dtype="float64")
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    states = [cr.tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
              for _ in range(2 if cls_name == "LSTM" else 1)]
    fn = lambda x, *s: tuple(_flatten(m(x, tuple(s) if len(s) == 2 else s[0])))
    assert cr.autograd.gradcheck(fn, (x, *states), check_forward_ad=True)


def test_gradgradcheck_tiny_gru_cell():
    rng = np.random.default_rng(9)
    cell = nn.GRUCell(2, 2, dtype="float64")
    x = cr.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    h = cr.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert cr.autograd.gradgradcheck(lambda x, h: cell(x, h), (x, h))


@pytest.mark.parametrize("kind", ["lstm_proj", "gru", "rnn_tanh"])
def test_double_backward_matches_torch(kind):
    cls_name, extra = KINDS[kind]
    cm, tm = _pair(cls_name, input_size=3, hidden_size=4, bidirectional=True, **extra)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 2, 3))
    check(lambda x: cm(x)[0], lambda x: tm(x)[0], x, double=True)


def test_forward_mode_matches_central_differences():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, dtype="float64")
    rng = np.random.default_rng(11)
    x, v = rng.standard_normal((2, 3, 2, 3))
    _, jv = cr.func.jvp(lambda x: m(x)[0], (cr.tensor(x),), (cr.tensor(v),))
    eps = 1e-6
    fd = (_np(m(cr.tensor(x + eps * v))[0]) - _np(m(cr.tensor(x - eps * v))[0])) / (2 * eps)
    np.testing.assert_allclose(_np(jv), fd, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------------------ one node per layer
FUSED_KINDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def _composed(monkeypatch):
    """Make the layers run their composed steps (the general path) instead of RecurrentLayer."""
    monkeypatch.setattr(nn.RNNBase, "_fused", lambda self, data, batch_sizes: False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", FUSED_KINDS)
def test_fused_layer_equals_the_composed_steps(kind, dtype, monkeypatch):
    """Outputs, final states and every gradient of the one-node layers equal those of the same
    layers composed of per-step ops (to rounding: the input projection is one product)."""
    cls_name, extra = KINDS[kind]
    cm, _ = _pair(cls_name, dtype, input_size=H_IN, hidden_size=6, num_layers=2,
                  bidirectional=True, **extra)
    rng = np.random.default_rng(20)
    x = rng.standard_normal((4, 3, H_IN)).astype(dtype)
    states = [rng.standard_normal((4, 3, 6)).astype(dtype)
              for _ in range(2 if kind == "lstm" else 1)]
    weights = None
    results = []
    for fused in (True, False):
        if not fused:
            _composed(monkeypatch)
        cm.zero_grad()
        xs = [cr.tensor(a, requires_grad=True) for a in [x] + states]
        outs = _call_layer(cm, *xs)
        if weights is None:
            weights = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in outs]
        sum((o * cr.tensor(w)).sum() for o, w in zip(outs, weights)).backward()
        results.append([_np(o) for o in outs] + [_np(t.grad) for t in xs]
                       + [_np(p.grad) for p in cm.parameters()])
    assert cm.weight_ih_l0.grad is not None
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **TOL[np.dtype(dtype).type])


def test_fused_layer_is_one_node_per_layer_and_direction():
    m = nn.LSTM(H_IN, H, num_layers=2, bidirectional=True)
    y, _ = m(cr.randn(SEQ, BATCH, H_IN))
    seen, stack, names = set(), [y.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name())
        stack.extend(n for n, _ in node.next_functions)
    assert names.count("MkldnnRnnLayerBackward0") == 4     # torch's name for its LSTM layer node
    assert "SigmoidBackward0" not in names


def test_fused_layer_needs_its_output_unchanged_and_frees_what_it_kept():
    m = nn.GRU(H_IN, H)
    y, h = m(cr.randn(SEQ, BATCH, H_IN))
    with cr.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y, h = m(cr.randn(SEQ, BATCH, H_IN))
    (y.sum() + h.sum()).backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_dropout_between_fused_layers_draws_torch_masks():
    """Dropout is drawn over each layer's whole (L, N, D·H) output, as torch's: the same seed
    gives torch's masks."""
    for cls_name in ("LSTM", "GRU"):
        cm, tm = _pair(cls_name, input_size=H_IN, hidden_size=H, num_layers=3, dropout=0.4,
                       bidirectional=True)
        x = np.random.default_rng(21).standard_normal((SEQ + 2, BATCH, H_IN))
        cr.manual_seed(5)
        torch.manual_seed(5)
        _close(cm(cr.tensor(x))[0], tm(torch.tensor(x))[0], np.float64, cls_name)


@pytest.mark.parametrize("kind", ["lstm", "rnn_relu"])
def test_double_backward_through_fused_layers_matches_torch(kind):
    cls_name, extra = KINDS[kind]
    cm, tm = _pair(cls_name, input_size=3, hidden_size=4, num_layers=2, **extra)
    x = np.random.default_rng(22).standard_normal((3, 2, 3))
    check(lambda x: cm(x)[0], lambda x: tm(x)[0], x, double=True)


def test_gradcheck_fused_lstm_weights_and_states():
    rng = np.random.default_rng(23)
    m = nn.LSTM(2, 3, dtype="float64")
    names = [n for n, _ in m.named_parameters()]
    params = [cr.tensor(p.detach().numpy().copy(), requires_grad=True) for p in m.parameters()]
    x = cr.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0, c0 = (cr.tensor(rng.standard_normal((1, 2, 3)), requires_grad=True) for _ in range(2))
    f = _functional(m, names)
    assert cr.autograd.gradcheck(lambda x, h, c, *ps: f(x, (h, c), *ps), (x, h0, c0, *params))
    assert cr.autograd.gradgradcheck(lambda x, h, c: f(x, (h, c), *params), (x, h0, c0))


def test_fused_layers_of_a_real_size_match_torch_in_float32():
    """A two-layer LSTM and GRU at a language model's size (oneDNN's packed products at every
    step where installed): outputs and gradients as torch's, to float32 rounding of sums over
    224 rows (relative 1e-4)."""
    rng = np.random.default_rng(24)
    for cls_name in ("LSTM", "GRU"):
        cm, tm = _pair(cls_name, np.float32, input_size=48, hidden_size=64, num_layers=2)
        (xc,), (xt,) = _both([rng.standard_normal((7, 32, 48)).astype(np.float32)])
        oc, ot = _call_layer(cm, xc), _call_layer(tm, xt)
        weights = [rng.standard_normal(tuple(o.shape)).astype(np.float32) for o in ot]
        sum((o * cr.tensor(w)).sum() for o, w in zip(oc, weights)).backward()
        sum((o * torch.tensor(w)).sum() for o, w in zip(ot, weights)).backward()
        tp = dict(tm.named_parameters())
        pairs = list(zip(oc, ot)) + [(xc.grad, xt.grad)] + [
            (p.grad, tp[name].grad) for name, p in cm.named_parameters()]
        for a, b in pairs:
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-4, atol=2e-5, err_msg=cls_name)


# ------------------------------------------------------------------------------ structure
CONFIGS = [("RNN", dict(num_layers=2, nonlinearity="relu", bias=False)),
           ("LSTM", dict(num_layers=3, bidirectional=True, proj_size=2)),
           ("LSTM", dict(num_layers=2, bias=False, proj_size=3, batch_first=True)),
           ("GRU", dict(num_layers=2, bidirectional=True, dropout=0.25)),
           ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", dict(bias=False)),
           ("GRUCell", {})]


@pytest.mark.parametrize("cls_name,kwargs", CONFIGS)
def test_parameter_names_shapes_order_and_repr_equal_torch(cls_name, kwargs):
    cm = getattr(nn, cls_name)(H_IN, H, **kwargs)
    tm = getattr(torch.nn, cls_name)(H_IN, H, **kwargs)
    assert [(n, tuple(p.shape)) for n, p in cm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert repr(cm) == repr(tm)
    if not cls_name.endswith("Cell"):
        assert cm._flat_weights_names == tm._flat_weights_names
        assert [[tuple(p.shape) for p in ps] for ps in cm.all_weights] == \
            [[tuple(p.shape) for p in ps] for ps in tm.all_weights]
        assert cm._flat_weights[0] is cm.weight_ih_l0


@pytest.mark.parametrize("cls_name,kwargs", CONFIGS)
def test_reset_parameters_draws_like_torch(cls_name, kwargs, monkeypatch):
    """Every parameter, in registration order, gets one uniform_(−1/√H, 1/√H) draw — torch's
    calls exactly, so a generator that reproduces torch's stream gives torch's weights."""
    calls = {"cr": [], "torch": []}
    monkeypatch.setattr(nn.init, "uniform_",
                        lambda t, a, b, generator=None: calls["cr"].append((tuple(t.shape), a, b)))
    monkeypatch.setattr(torch.nn.init, "uniform_",
                        lambda t, a, b, generator=None: calls["torch"].append((tuple(t.shape), a, b)))
    getattr(nn, cls_name)(H_IN, H, **kwargs)
    getattr(torch.nn, cls_name)(H_IN, H, **kwargs)
    assert calls["cr"] == calls["torch"]
    assert calls["cr"][0][1:] == (-1 / math.sqrt(H), 1 / math.sqrt(H))


def test_default_weights_follow_the_uniform_bounds():
    for p in nn.GRU(H_IN, 16, num_layers=2).parameters():
        assert np.abs(p.detach().numpy()).max() <= 0.25 and p.detach().numpy().std() > 0.1


def test_default_weights_equal_torch_when_the_streams_agree():
    cr.manual_seed(0)
    torch.manual_seed(0)
    if not np.array_equal(cr.rand(5).numpy(), torch.rand(5).numpy()):
        pytest.skip("chainrule's generator does not reproduce torch's stream (yet)")
    cr.manual_seed(3)
    torch.manual_seed(3)
    cm, tm = nn.LSTM(H_IN, H, num_layers=2, proj_size=2), torch.nn.LSTM(H_IN, H, num_layers=2,
                                                                       proj_size=2)
    for (n, a), (_, b) in zip(cm.named_parameters(), tm.named_parameters()):
        np.testing.assert_array_equal(_np(a), _np(b), err_msg=n)


def test_to_float64_casts_weights_the_forward_uses():
    m = nn.GRU(H_IN, H).double()
    out, h = m(cr.randn(SEQ, BATCH, H_IN, dtype=cr.float64))
    assert out.dtype == h.dtype == cr.float64


# ------------------------------------------------------------------------------ dropout, training
def test_dropout_between_layers_only_in_training():
    cm, tm = _pair("LSTM", input_size=H_IN, hidden_size=H, num_layers=2, dropout=0.5)
    tm.eval()
    x = np.random.default_rng(12).standard_normal((SEQ, BATCH, H_IN))
    cm.train()
    cr.manual_seed(0)
    a = cm(cr.tensor(x))[0]
    b = cm(cr.tensor(x))[0]
    assert not np.allclose(_np(a), _np(b))  # fresh masks each call
    cm.eval()
    _close(cm(cr.tensor(x))[0], tm(torch.tensor(x))[0], np.float64)
    one = nn.GRU(H_IN, H, num_layers=1)  # (warns, as torch) and never drops the output
    one.dropout = 0.5
    x32 = cr.tensor(x.astype(np.float32))
    _close(one(x32)[0], one.eval()(x32)[0], np.float32)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(2, 3, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(2, 3, num_layers=2, dropout=0.5)


def test_lstm_learns_a_sine_wave():
    """Predict sin(t + dt) from the sine up to t: a few hundred Adam steps on a tiny LSTM."""
    cr.manual_seed(0)
    t = np.linspace(0, 4 * np.pi, 41, dtype=np.float32)
    phases = np.linspace(0, 2 * np.pi, 8, endpoint=False, dtype=np.float32)
    wave = np.sin(t[None, :] + phases[:, None])[..., None]  # (8 sequences, 41, 1)
    x, y = cr.tensor(wave[:, :-1]), cr.tensor(wave[:, 1:])
    lstm, head = nn.LSTM(1, 12, batch_first=True), nn.Linear(12, 1)
    opt = cr.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.02)
    loss_fn = nn.MSELoss()
    start = time.perf_counter()
    first = None
    for _ in range(100):
        opt.zero_grad()
        loss = loss_fn(head(lstm(x)[0]), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 5e-3 < first, (first, loss.item())
    assert time.perf_counter() - start < 10  # a loose guard against a pathological slowdown


# ------------------------------------------------------------------------------ packing
def test_pack_and_pad_utilities_match_torch():
    rng = np.random.default_rng(13)
    lengths = [2, 5, 3, 5]
    x = rng.standard_normal((5, 4, 3))
    for batch_first in (False, True):
        xb = x.transpose(1, 0, 2).copy() if batch_first else x
        pc = crnn.pack_padded_sequence(cr.tensor(xb), lengths, batch_first, enforce_sorted=False)
        pt = trnn.pack_padded_sequence(torch.tensor(xb), lengths, batch_first,
                                       enforce_sorted=False)
        for a, b in zip(pc, pt):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        for total in (None, 7):
            (a, la), (b, lb) = (crnn.pad_packed_sequence(pc, batch_first, -1.0, total),
                                trnn.pad_packed_sequence(pt, batch_first, -1.0, total))
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(la.numpy(), lb.numpy())
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    for batch_first, side in itertools.product((False, True), ("right", "left")):
        np.testing.assert_array_equal(
            crnn.pad_sequence([cr.tensor(s) for s in seqs], batch_first, 9.0, side).numpy(),
            trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first, 9.0, side).numpy())
    pc = crnn.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False)
    pt = trnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(pc.data.numpy(), pt.data.numpy())
    for a, s in zip(crnn.unpack_sequence(pc), seqs):
        np.testing.assert_array_equal(a.numpy(), s)
    sorted_pack = crnn.pack_sequence([cr.tensor(seqs[i]) for i in (2, 0, 1)])
    assert sorted_pack.sorted_indices is None and sorted_pack.unsorted_indices is None


def _call_packed(lib, rnn_utils, lengths):
    def call(m, x, *state):
        packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False)
        if state:
            out, hidden = m(packed, tuple(state) if len(state) == 2 else state[0])
        else:
            out, hidden = m(packed)
        padded, _ = rnn_utils.pad_packed_sequence(out)
        return _flatten((padded, hidden))
    return call


@pytest.mark.parametrize("kind", ["lstm_proj", "gru", "rnn_relu"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_packed_sequence_through_layers_matches_torch(kind, with_h0):
    cls_name, extra = KINDS[kind]
    rng = np.random.default_rng(14)
    cm, tm = _pair(cls_name, input_size=H_IN, hidden_size=H, num_layers=2, bidirectional=True,
                   **extra)
    lengths = [2, 4, 1]
    arrays = [rng.standard_normal((4, 3, H_IN))]
    if with_h0:
        h_out = extra.get("proj_size", H)
        arrays.append(rng.standard_normal((4, 3, h_out)))
        if cls_name == "LSTM":
            arrays.append(rng.standard_normal((4, 3, H)))
    cs, ts = _both(arrays)
    oc = _call_packed(cr, crnn, lengths)(cm, *cs)
    ot = _call_packed(torch, trnn, lengths)(tm, *ts)
    for a, b in zip(oc, ot):
        _close(a, b, np.float64)
    weights = [rng.standard_normal(tuple(o.shape)) for o in ot]
    sum((o * cr.tensor(w)).sum() for o, w in zip(oc, weights)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(ot, weights)).backward()
    for a, b in zip(cs, ts):
        _close(a.grad, b.grad, np.float64)
    tp = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        _close(p.grad, tp[name].grad, np.float64, name)


def test_packed_sequence_errors():
    x = cr.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        crnn.pack_padded_sequence(x, [2, 3, 1])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        crnn.pack_padded_sequence(x, [2, 0, 1], enforce_sorted=False)
    with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to batch_size"):
        crnn.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="exceeds the 4 time steps"):
        crnn.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        crnn.pad_packed_sequence(crnn.pack_padded_sequence(x, [3, 2, 1]), total_length=2)
    with pytest.raises(ValueError, match="padding_side"):
        crnn.pad_sequence([x[0]], padding_side="middle")
    with pytest.raises(RuntimeError, match="sequence 1 has shape"):
        crnn.pad_sequence([cr.zeros(2, 3), cr.zeros(2, 4)])
    packed = crnn.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h_0, c_0\)"):
        nn.LSTM(2, 4)(packed, cr.zeros(1, 3, 4))
    with pytest.raises(RuntimeError, match=r"GRU: Expected hidden size \(1, 3, 4\), got \[1, 2, 4\]"):
        nn.GRU(2, 4)(packed, cr.zeros(1, 2, 4))
    with pytest.raises(RuntimeError, match="GRU: input.size"):
        nn.GRU(3, 4)(packed)


# ------------------------------------------------------------------------------ errors
def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


def test_constructor_errors():
    _raises(ValueError, "Unknown nonlinearity 'gelu'", lambda: nn.RNN(3, 4, nonlinearity="gelu"))
    _raises(ValueError, "proj_size argument is only supported for LSTM",
            lambda: nn.GRU(3, 4, proj_size=2))
    _raises(ValueError, "proj_size argument is only supported for LSTM",
            lambda: nn.RNN(3, 4, proj_size=2))
    _raises(ValueError, "proj_size has to be smaller than hidden_size",
            lambda: nn.LSTM(3, 4, proj_size=4))
    _raises(ValueError, "proj_size should be a positive integer or zero",
            lambda: nn.LSTM(3, 4, proj_size=-1))
    _raises(ValueError, "dropout should be a number in range", lambda: nn.GRU(3, 4, dropout=1.5))
    _raises(ValueError, "dropout should be a number in range", lambda: nn.GRU(3, 4, dropout=True))
    _raises(TypeError, "hidden_size should be of type int", lambda: nn.LSTM(3, 4.0))
    _raises(ValueError, "input_size must be greater than zero", lambda: nn.LSTM(0, 4))
    _raises(ValueError, "num_layers must be greater than zero", lambda: nn.LSTM(3, 4, 0))
    _raises(TypeError, "batch_first should be of type bool", lambda: nn.LSTM(3, 4, batch_first=1))
    _raises(TypeError, "unexpected keyword argument 'bogus'", lambda: nn.RNN(3, 4, bogus=1))


def test_forward_errors_name_the_module_and_torch_wording():
    lstm, gru = nn.LSTM(3, 4, 2), nn.GRU(3, 4)
    z = cr.zeros
    _raises(ValueError, r"LSTM: Expected input to be 2D or 3D, got 4D",
            lambda: lstm(z(5, 2, 3, 1)))
    _raises(RuntimeError, r"LSTM: input.size\(-1\) must be equal to input_size. Expected 3, got 4",
            lambda: lstm(z(5, 2, 4)))
    _raises(RuntimeError, r"Expected hidden\[1\] size \(2, 2, 4\), got \[2, 2, 5\]",
            lambda: lstm(z(5, 2, 3), (z(2, 2, 4), z(2, 2, 5))))
    _raises(RuntimeError, r"Expected hidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]",
            lambda: lstm(z(5, 2, 3), (z(1, 2, 4), z(2, 2, 4))))
    _raises(RuntimeError, "For unbatched 2-D input, hx and cx should also be 2-D but got "
            r"\(3-D, 3-D\)", lambda: lstm(z(5, 3), (z(2, 2, 4), z(2, 2, 4))))
    _raises(RuntimeError, "For batched 3-D input, hx and cx should also be 3-D",
            lambda: lstm(z(5, 2, 3), (z(2, 4), z(2, 4))))
    _raises(TypeError, r"LSTM: hx must be a tuple \(h_0, c_0\)", lambda: lstm(z(5, 2, 3), z(2, 2, 4)))
    _raises(ValueError, r"input dtype \(chainrule.float64\) does not match weight dtype",
            lambda: lstm(z(5, 2, 3, dtype=cr.float64)))
    _raises(RuntimeError, "Expected sequence length to be larger than 0", lambda: gru(z(0, 2, 3)))
    _raises(RuntimeError, r"GRU: Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]",
            lambda: gru(z(5, 2, 3), z(1, 3, 4)))
    _raises(RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D",
            lambda: gru(z(5, 2, 3), z(2, 4)))
    _raises(RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got 3-D",
            lambda: gru(z(5, 3), z(1, 2, 4)))
    _raises(TypeError, "GRU: hx must be a Tensor, got tuple", lambda: gru(z(5, 2, 3), (z(1, 2, 4),)))
    _raises(TypeError, "GRU: input must be a Tensor, got ndarray", lambda: gru(np.zeros((5, 2, 3))))
    # an empty batch is fine (as torch)
    assert tuple(gru(z(5, 0, 3))[0].shape) == (5, 0, 4)


def test_cell_errors():
    lstm, gru, rnn = nn.LSTMCell(3, 4), nn.GRUCell(3, 4), nn.RNNCell(3, 4, nonlinearity="gelu")
    z = cr.zeros
    _raises(ValueError, "LSTMCell: Expected input to be 1D or 2D, got 3D", lambda: lstm(z(1, 2, 3)))
    _raises(ValueError, r"LSTMCell: Expected hx\[1\] to be 1D or 2D, got 3D",
            lambda: lstm(z(2, 3), (z(2, 4), z(1, 2, 4))))
    _raises(RuntimeError, "input has inconsistent input_size: got 5 expected 3",
            lambda: lstm(z(2, 5)))
    _raises(RuntimeError, "hidden1 has inconsistent hidden_size: got 5, expected 4",
            lambda: lstm(z(2, 3), (z(2, 4), z(2, 5))))
    _raises(RuntimeError, "Input batch size 2 doesn't match hidden0 batch size 3",
            lambda: lstm(z(2, 3), (z(3, 4), z(3, 4))))
    _raises(TypeError, r"LSTMCell: hx must be a tuple \(h, c\)", lambda: lstm(z(2, 3), z(2, 4)))
    _raises(ValueError, "GRUCell: Expected hidden to be 1D or 2D, got 3D",
            lambda: gru(z(2, 3), z(1, 2, 4)))
    _raises(RuntimeError, "hidden0 has inconsistent hidden_size: got 5, expected 4",
            lambda: gru(z(2, 3), z(2, 5)))
    _raises(RuntimeError, "GRUCell: for 1-D input, hidden0 should also be 1-D but got 2-D",
            lambda: gru(z(3), z(2, 4)))
    _raises(RuntimeError, r"GRUCell: input dtype \(chainrule.float64\) does not match",
            lambda: gru(z(2, 3, dtype=cr.float64)))
    _raises(RuntimeError, "RNNCell: Unknown nonlinearity: gelu", lambda: rnn(z(2, 3)))
