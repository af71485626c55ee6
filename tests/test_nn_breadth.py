"""The nn breadth ops against torch: the remaining activations (functional and modules), normalize,
group and instance norm, scaled dot-product and multi-head attention, and the Transformer encoder
— values, gradients, second derivatives, state_dict keys, initialisation after the same seed,
train/eval behaviour and error types."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from oracle import check

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RNG = np.random.default_rng(7)
DTYPES = [np.float32, np.float64]


def _x(*shape, scale=1.0, dtype=np.float64):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def _np(t):
    return t.detach().numpy()


def _close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _torch_to_mine(mine, ref):
    """Copy torch's weights into chainrule's module (as arrays), after checking the keys agree."""
    assert list(mine.state_dict()) == list(ref.state_dict())
    mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})


def _same_init(make):
    """Both libraries seeded alike build bit-identical parameters, under the same keys."""
    cr.manual_seed(3)
    torch.manual_seed(3)
    mine, ref = make(cr), make(torch)
    assert list(mine.state_dict()) == list(ref.state_dict())
    for (k, a), b in zip(mine.state_dict().items(), ref.state_dict().values()):
        assert a.dtype.itemsize == b.dtype.itemsize, k
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    return mine, ref


# ------------------------------------------------------------------ activations (functional)
# (id, chainrule fn, torch fn, second derivative compared, input scale)
ACTS = [
    ("celu", lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), True, 2),
    ("celu_default", F.celu, TF.celu, True, 2),
    ("selu", F.selu, TF.selu, True, 2),
    ("relu6", F.relu6, TF.relu6, True, 5),
    ("hardswish", F.hardswish, TF.hardswish, True, 3),
    # torch implements no derivative of hardsigmoid's backward
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, False, 3),
    ("mish", F.mish, TF.mish, True, 3),
    ("silu", F.silu, TF.silu, True, 3),
    ("softsign", F.softsign, TF.softsign, True, 3),
    ("glu_last", F.glu, TF.glu, True, 1),
    ("glu_dim0", lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0), True, 1),
    ("softmin", lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1), True, 1),
    ("softmin_dtype", lambda x: F.softmin(x, -1, dtype=cr.float64),
     lambda x: TF.softmin(x, -1, dtype=torch.float64), True, 1),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid, True, 3),
    ("hardshrink", F.hardshrink, TF.hardshrink, True, 2),
    ("hardshrink_lambd", lambda x: F.hardshrink(x, 1.2), lambda x: TF.hardshrink(x, 1.2), True, 2),
    ("softshrink", lambda x: F.softshrink(x, 0.3), lambda x: TF.softshrink(x, 0.3), True, 2),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink, True, 2),
    ("threshold", lambda x: F.threshold(x, 0.2, -1.5), lambda x: TF.threshold(x, 0.2, -1.5), True, 2),
    ("elu_alpha", lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), True, 2),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), True, 2),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: TF.gelu(x, approximate="tanh"), True, 2),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0), True, 2),
    ("softplus", lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), True, 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cid, cf, tf, double, scale", ACTS, ids=[a[0] for a in ACTS])
def test_activation_matches_torch(cid, cf, tf, double, scale, dtype):
    check(cf, tf, _x(4, 6, scale=scale, dtype=dtype), double=double)
    # a transposed (non-contiguous) view, and a size-1 dim
    check(lambda x: cf(x.transpose(0, 1)), lambda x: tf(x.transpose(0, 1)),
          _x(6, 4, scale=scale, dtype=dtype), double=double)
    check(cf, tf, _x(2, 1, 2, scale=scale, dtype=dtype), double=double)


@pytest.mark.parametrize("cid, cf, tf, double, scale",
                         [a for a in ACTS if not a[0].startswith(("glu", "softmin"))],
                         ids=[a[0] for a in ACTS if not a[0].startswith(("glu", "softmin"))])
def test_activation_0d_and_empty(cid, cf, tf, double, scale):
    check(cf, tf, np.array(0.7), double=double)
    check(cf, tf, np.zeros((0, 3)), double=double)


def test_activations_at_their_kinks_take_torchs_side():
    x = np.array([-3.0, 3.0, -0.5, 0.5, 0.0, 6.0, 0.2, -1.2, 1.2])
    for cf, tf in [(F.hardswish, TF.hardswish), (F.hardsigmoid, TF.hardsigmoid),
                   (F.hardshrink, TF.hardshrink), (F.softshrink, TF.softshrink),
                   (F.relu6, TF.relu6), (lambda t: F.threshold(t, 0.2, 9.0),
                                         lambda t: TF.threshold(t, 0.2, 9.0)),
                   (F.celu, TF.celu), (F.selu, TF.selu)]:
        check(cf, tf, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_matches_torch(dtype):
    x, w = _x(2, 3, 4, scale=2, dtype=dtype), _x(3, dtype=dtype)
    check(F.prelu, TF.prelu, x, w, double=True)
    check(F.prelu, TF.prelu, x, w[:1], double=True)
    check(F.prelu, TF.prelu, _x(5, scale=2, dtype=dtype), w[:1], double=True)
    check(F.prelu, TF.prelu, _x(2, 3, 2, 2, scale=2, dtype=dtype), w, double=True)


def test_activation_nodes_are_named_as_torchs():
    x = cr.tensor(_x(3, 4, dtype=np.float32), requires_grad=True)
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    w, tw = cr.tensor([0.25], requires_grad=True), torch.tensor([0.25], requires_grad=True)
    for cf, tf in [(F.celu, TF.celu), (F.selu, TF.selu), (F.relu6, TF.relu6),
                   (F.hardswish, TF.hardswish), (F.hardsigmoid, TF.hardsigmoid),
                   (F.mish, TF.mish), (F.glu, TF.glu), (F.hardshrink, TF.hardshrink),
                   (F.softshrink, TF.softshrink), (lambda v: F.threshold(v, 0.1, 2.0),
                                                   lambda v: TF.threshold(v, 0.1, 2.0)),
                   (F.softsign, TF.softsign), (F.tanhshrink, TF.tanhshrink),
                   (lambda v: F.softmin(v, 1), lambda v: TF.softmin(v, 1)),
                   (lambda v: F.prelu(v, w), lambda v: TF.prelu(v, tw))]:
        mine, theirs = cf(x).grad_fn, tf(t).grad_fn
        assert mine.name() == theirs.name()
        assert [n.name() if n else None for n, _ in mine.next_functions] == \
            [n.name() if n else None for n, _ in theirs.next_functions]


INPLACE = [
    ("celu", lambda x: F.celu(x, 0.8, inplace=True), lambda x: TF.celu(x, 0.8, inplace=True)),
    ("selu", lambda x: F.selu(x, inplace=True), lambda x: TF.selu(x, inplace=True)),
    ("relu6", lambda x: F.relu6(x, inplace=True), lambda x: TF.relu6(x, inplace=True)),
    ("hardswish", lambda x: F.hardswish(x, inplace=True), lambda x: TF.hardswish(x, inplace=True)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x, inplace=True),
     lambda x: TF.hardsigmoid(x, inplace=True)),
    ("mish", lambda x: F.mish(x, inplace=True), lambda x: TF.mish(x, inplace=True)),
    ("threshold", lambda x: F.threshold(x, 0.1, -2.0, inplace=True),
     lambda x: TF.threshold(x, 0.1, -2.0, inplace=True)),
]


@pytest.mark.parametrize("cid, cf, tf", INPLACE, ids=[a[0] for a in INPLACE])
def test_inplace_forms_write_into_the_input_and_keep_the_graph(cid, cf, tf):
    data = _x(3, 4, scale=3)
    # no graph: the input itself is overwritten and returned
    a, b = cr.tensor(data), torch.tensor(data)
    ra = cf(a)
    tf(b)
    assert ra is a
    _close(a, b)
    # recorded: an in-place update of a non-leaf, with torch's node name and gradient
    ca, tb = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ya, yb = cf(ca * 1.0), tf(tb * 1.0)
    assert ya.grad_fn.name() == yb.grad_fn.name()
    _close(ya, yb)
    g = _x(3, 4)
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    _close(ca.grad, tb.grad)


# ------------------------------------------------------------------ activation modules
MODULES = [
    lambda lib: lib.nn.CELU(0.6), lambda lib: lib.nn.SELU(), lambda lib: lib.nn.ReLU6(),
    lambda lib: lib.nn.ReLU6(inplace=True), lambda lib: lib.nn.Hardswish(),
    lambda lib: lib.nn.Hardsigmoid(), lambda lib: lib.nn.Mish(), lambda lib: lib.nn.SiLU(),
    lambda lib: lib.nn.Softsign(), lambda lib: lib.nn.GLU(), lambda lib: lib.nn.GLU(0),
    lambda lib: lib.nn.Softmin(1), lambda lib: lib.nn.LogSigmoid(),
    lambda lib: lib.nn.Hardshrink(0.3), lambda lib: lib.nn.Softshrink(), lambda lib: lib.nn.Tanhshrink(),
    lambda lib: lib.nn.Threshold(0.1, 20.0), lambda lib: lib.nn.Threshold(0.1, 2.0, True),
    lambda lib: lib.nn.Hardtanh(-2.0, 3.0), lambda lib: lib.nn.ELU(0.5), lambda lib: lib.nn.CELU(inplace=True),
    lambda lib: lib.nn.PReLU(), lambda lib: lib.nn.PReLU(4, init=0.1),
]


@pytest.mark.parametrize("make", MODULES)
def test_activation_modules_match_torch(make):
    mine, ref = _same_init(make)
    assert repr(mine) == repr(ref)
    data = _x(2, 4, 6, scale=3, dtype=np.float32)
    xa, xb = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ya, yb = mine(xa * 1.0), ref(xb * 1.0)
    _close(ya, yb)
    g = _x(*yb.shape, dtype=np.float32)
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    _close(xa.grad, xb.grad)
    for pa, pb in zip(mine.parameters(), ref.parameters()):
        _close(pa.grad, pb.grad, rtol=1e-4, atol=1e-5)


def test_prelu_module_parameter_and_training():
    mine, ref = _same_init(lambda lib: lib.nn.PReLU(3, init=0.3))
    assert list(mine.state_dict()) == ["weight"]
    ref.weight.data.copy_(torch.tensor([0.1, -0.2, 0.5]))
    _torch_to_mine(mine, ref)
    x = _x(4, 3, 5, dtype=np.float32)
    ya, yb = mine(cr.tensor(x)), ref(torch.tensor(x))
    (ya * ya).sum().backward()
    (yb * yb).sum().backward()
    _close(mine.weight.grad, ref.weight.grad, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ normalize, group/instance norm
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"p": 1.0}, {"p": 3.0, "dim": -1}, {"dim": 0, "eps": 0.5}])
def test_normalize_matches_torch(kw, dtype):
    check(lambda x: F.normalize(x, **kw), lambda x: TF.normalize(x, **kw), _x(3, 4, 2, dtype=dtype),
          double=True)


def test_normalize_zero_vector_has_torchs_gradient():
    x = _x(3, 4)
    x[1] = 0
    check(F.normalize, TF.normalize, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_group_norm_matches_torch(dtype):
    x, w, b = _x(2, 6, 3, 2, dtype=dtype), _x(6, dtype=dtype), _x(6, dtype=dtype)
    for g in (1, 2, 3, 6):
        check(lambda x, w, b, g=g: F.group_norm(x, g, w, b),
              lambda x, w, b, g=g: TF.group_norm(x, g, w, b), x, w, b, double=True, scale=10)
    check(lambda x: F.group_norm(x, 2, eps=1e-3), lambda x: TF.group_norm(x, 2, eps=1e-3),
          _x(3, 4, 5, dtype=dtype), double=True, scale=10)
    check(lambda x, w: F.group_norm(x, 2, w), lambda x, w: TF.group_norm(x, 2, w),
          _x(3, 4, dtype=dtype), _x(4, dtype=dtype), double=True, scale=10)
    # a non-contiguous input (channels last, viewed back as (N, C, L))
    check(lambda x, w: F.group_norm(x.transpose(1, 2), 2, w),
          lambda x, w: TF.group_norm(x.transpose(1, 2), 2, w),
          _x(2, 3, 4, dtype=dtype), _x(4, dtype=dtype), double=True, scale=10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_norm_matches_torch(dtype):
    x, w, b = _x(2, 3, 5, dtype=dtype), _x(3, dtype=dtype), _x(3, dtype=dtype)
    check(F.instance_norm, TF.instance_norm, x, double=True, scale=10)
    check(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
          lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), x, w, b, double=True, scale=10)
    rm, rv = _x(3, dtype=dtype), np.abs(_x(3, dtype=dtype)) + 0.5
    check(lambda x: F.instance_norm(x, cr.tensor(rm), cr.tensor(rv), use_input_stats=False),
          lambda x: TF.instance_norm(x, torch.tensor(rm), torch.tensor(rv), use_input_stats=False),
          _x(2, 3, 2, 2, dtype=dtype), double=True)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.GroupNorm(2, 4), lambda lib: lib.nn.GroupNorm(4, 4, affine=False),
    lambda lib: lib.nn.GroupNorm(1, 4, eps=1e-3, bias=False),
    lambda lib: lib.nn.InstanceNorm1d(4), lambda lib: lib.nn.InstanceNorm1d(4, affine=True),
    lambda lib: lib.nn.InstanceNorm1d(4, affine=True, track_running_stats=True, momentum=0.3),
    lambda lib: lib.nn.InstanceNorm1d(4, track_running_stats=True, momentum=None),
])
def test_group_and_instance_norm_modules_train_and_eval(make):
    mine, ref = _same_init(make)
    assert repr(mine) == repr(ref)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape))
    _torch_to_mine(mine, ref)
    for mode in ("train", "train", "eval"):
        mine.train(mode == "train")
        ref.train(mode == "train")
        x = _x(3, 4, 5, dtype=np.float32)
        xa, xb = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yb = mine(xa), ref(xb)
        _close(ya, yb, rtol=1e-4, atol=1e-5)
        g = _x(3, 4, 5, dtype=np.float32)
        ya.backward(cr.tensor(g))
        yb.backward(torch.tensor(g))
        _close(xa.grad, xb.grad, rtol=1e-4, atol=1e-4)
        for pa, pb in zip(mine.parameters(), ref.parameters()):
            _close(pa.grad, pb.grad, rtol=1e-4, atol=1e-4)
    for (k, a), b in zip(mine.state_dict().items(), ref.state_dict().values()):
        _close(a, b, rtol=1e-5, atol=1e-6)


def test_instance_norm2d_unbatched_and_channel_warning():
    mine, ref = nn.InstanceNorm2d(3), torch.nn.InstanceNorm2d(3)
    x = _x(3, 4, 5, dtype=np.float32)     # (C, H, W): one sample
    _close(mine(cr.tensor(x)), ref(torch.tensor(x)), rtol=1e-4, atol=1e-5)
    with pytest.warns(UserWarning, match="does not match num_features"):
        mine(cr.tensor(_x(2, 5, 4, 4, dtype=np.float32)))


# ------------------------------------------------------------------ scaled dot-product attention
SDPA = [
    ("plain", {}, None),
    ("causal", {"is_causal": True}, None),
    ("causal_scale", {"is_causal": True, "scale": 0.3}, None),
    ("bool_mask", {}, "bool"),
    ("float_mask", {}, "float"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cid, kw, mask", SDPA, ids=[s[0] for s in SDPA])
def test_sdpa_matches_torch(cid, kw, mask, dtype):
    q, k, v = _x(2, 2, 3, 4, dtype=dtype), _x(2, 2, 5, 4, dtype=dtype), _x(2, 2, 5, 3, dtype=dtype)
    if mask is None:
        check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw),
              lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kw), q, k, v,
              double=True, scale=10)
    elif mask == "bool":
        m = RNG.random((3, 5)) > 0.4
        m[:, 0] = True
        m[1] = False   # a query with every key masked: 0 out, 0 gradient
        check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cr.tensor(m), **kw),
              lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(m), **kw),
              q, k, v, double=True, scale=10)
    else:
        check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, **kw),
              lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m, **kw),
              q, k, v, _x(2, 1, 3, 5, dtype=dtype), double=True, scale=10)


def test_sdpa_grouped_query_and_batch_broadcast():
    q, k, v = _x(2, 4, 3, 4), _x(2, 2, 5, 4), _x(2, 2, 5, 2)
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True), q, k, v,
          double=True, scale=10)
    check(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, _x(3, 4), _x(5, 4),
          _x(5, 2), double=True, scale=10)


def test_sdpa_dropout_is_inverted_dropout_of_the_weights():
    q, k, v = (cr.tensor(_x(1, 1, 64, 8)) for _ in range(3))
    cr.manual_seed(0)
    full = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert np.all(full.numpy() == 0)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ref = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == ref.shape and not np.allclose(out.numpy(), ref.numpy())
    # and with torch's draws from the same seed
    arrays = [_x(2, 2, 6, 8, dtype=np.float32) for _ in range(3)]
    grads = []
    for lib, fn in ((cr, F), (torch, TF)):
        lib.manual_seed(4)
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = fn.scaled_dot_product_attention(*xs, dropout_p=0.4, is_causal=True)
        out.backward(lib.tensor(arrays[0]))
        grads.append([out] + [x.grad for x in xs])
    for mine, ref in zip(*grads):
        _close(mine, ref)


# ------------------------------------------------------------------ multi-head attention
MHA = [
    {}, {"batch_first": True}, {"bias": False}, {"add_bias_kv": True},
    {"add_zero_attn": True, "add_bias_kv": True}, {"kdim": 3, "vdim": 5},
]


def _qkv(kw, L=3, S=5, N=2, E=4, dtype=np.float32):
    q = _x(L, N, E, dtype=dtype)
    k, v = _x(S, N, kw.get("kdim", E), dtype=dtype), _x(S, N, kw.get("vdim", E), dtype=dtype)
    if kw.get("batch_first"):
        q, k, v = (a.transpose(1, 0, 2).copy() for a in (q, k, v))
    return q, k, v


@pytest.mark.parametrize("kw", MHA, ids=[str(k) for k in MHA])
def test_multihead_attention_matches_torch(kw):
    mine, ref = _same_init(lambda lib: lib.nn.MultiheadAttention(4, 2, **kw))
    assert repr(mine) == repr(ref)
    q, k, v = _qkv(kw)
    kpm = np.zeros((2, 5), bool)
    kpm[0, 3:] = True
    am = RNG.random((3, 5)) > 0.8
    cases = [{}, {"key_padding_mask": kpm}, {"attn_mask": am},
             {"key_padding_mask": kpm, "attn_mask": am.astype(np.float32) * -2.0},
             {"average_attn_weights": False}]
    for extra in cases:
        for need in (True, False):
            for p in list(mine.parameters()) + [*ref.parameters()]:
                p.grad = None
            ca = [cr.tensor(a, requires_grad=True) for a in (q, k, v)]
            ta = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
            ea = {n: cr.tensor(m) for n, m in extra.items() if not isinstance(m, bool)}
            eb = {n: torch.tensor(m) for n, m in extra.items() if not isinstance(m, bool)}
            flags = {n: m for n, m in extra.items() if isinstance(m, bool)}
            oa, wa = mine(*ca, need_weights=need, **ea, **flags)
            ob, wb = ref(*ta, need_weights=need, **eb, **flags)
            _close(oa, ob, rtol=1e-4, atol=1e-5)
            assert (wa is None) == (wb is None)
            if wb is not None:
                _close(wa, wb, rtol=1e-4, atol=1e-5)
            g = _x(*ob.shape, dtype=np.float32)
            oa.backward(cr.tensor(g))
            ob.backward(torch.tensor(g))
            for a, b in zip(ca, ta):
                _close(a.grad, b.grad, rtol=1e-4, atol=1e-4)
            for (name, pa), pb in zip(mine.named_parameters(), ref.parameters()):
                _close(pa.grad, pb.grad, rtol=1e-4, atol=1e-4)


def test_multihead_attention_from_torch_weights_train_and_eval_unbatched_float64():
    ref = torch.nn.MultiheadAttention(6, 3, dropout=0.0, dtype=torch.float64)
    mine = nn.MultiheadAttention(6, 3, dropout=0.0, dtype=cr.float64)
    with torch.no_grad():
        ref.in_proj_bias.copy_(torch.randn(18))
    _torch_to_mine(mine, ref)
    q, kv = _x(4, 6), _x(7, 6)
    for mode in (True, False):
        mine.train(mode)
        ref.train(mode)
        for need in (True, False):
            oa, wa = mine(cr.tensor(q), cr.tensor(kv), cr.tensor(kv), need_weights=need)
            ob, wb = ref(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), need_weights=need)
            _close(oa, ob, rtol=1e-10, atol=1e-12)
            if need:
                _close(wa, wb, rtol=1e-10, atol=1e-12)
    # the functional form with the module's tensors, causal hint and mask
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    x = _x(4, 2, 6)
    args_a = (6, 3, mine.in_proj_weight, mine.in_proj_bias, None, None, False, 0.0,
              mine.out_proj.weight, mine.out_proj.bias)
    args_b = (6, 3, ref.in_proj_weight, ref.in_proj_bias, None, None, False, 0.0,
              ref.out_proj.weight, ref.out_proj.bias)
    xa, xb = cr.tensor(x), torch.tensor(x)
    oa, _ = F.multi_head_attention_forward(xa, xa, xa, *args_a, attn_mask=cr.tensor(mask),
                                           is_causal=True, need_weights=False)
    ob, _ = TF.multi_head_attention_forward(xb, xb, xb, *args_b, attn_mask=torch.tensor(mask),
                                            is_causal=True, need_weights=False)
    _close(oa, ob, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ Transformer encoder
ENC = [
    {}, {"batch_first": True, "norm_first": True, "activation": "gelu"}, {"bias": False},
    {"activation": "gelu", "layer_norm_eps": 1e-3},
]


@pytest.mark.parametrize("kw", ENC, ids=[str(k) for k in ENC])
def test_transformer_encoder_matches_torch(kw):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)
        return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8),
                                         enable_nested_tensor=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, ref = _same_init(make)
    assert repr(mine.layers[0]) == repr(ref.layers[0])
    x = _x(5, 3, 8, dtype=np.float32)
    if kw.get("batch_first"):
        x = x.transpose(1, 0, 2).copy()
    kpm = np.zeros((3, 5), bool)
    kpm[0, 3:] = True
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    for mode in (True, False):
        mine.train(mode)
        ref.train(mode)
        for extra in ({}, {"mask": causal}, {"mask": causal, "src_key_padding_mask": kpm},
                      {"mask": causal, "is_causal": True}):
            for p in list(mine.parameters()) + list(ref.parameters()):
                p.grad = None
            xa, xb = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            ea = {n: cr.tensor(m) if isinstance(m, np.ndarray) else m for n, m in extra.items()}
            eb = {n: torch.tensor(m) if isinstance(m, np.ndarray) else m for n, m in extra.items()}
            ya, yb = mine(xa, **ea), ref(xb, **eb)
            _close(ya, yb, rtol=1e-4, atol=1e-4)
            g = _x(*yb.shape, dtype=np.float32)
            ya.backward(cr.tensor(g))
            yb.backward(torch.tensor(g))
            _close(xa.grad, xb.grad, rtol=1e-3, atol=1e-4)
            for pa, pb in zip(mine.parameters(), ref.parameters()):
                _close(pa.grad, pb.grad, rtol=1e-3, atol=1e-4)


def test_encoder_layers_are_copies_of_the_given_layer():
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    enc = nn.TransformerEncoder(layer, 3)
    assert len(enc.layers) == 3 and enc.layers[0] is not layer
    w = [m.linear1.weight for m in enc.layers]
    assert w[0] is not w[1]
    np.testing.assert_array_equal(w[0].detach().numpy(), layer.linear1.weight.detach().numpy())


def test_transformer_composes_with_embedding_and_layernorm():
    """A small sequence classifier: Embedding -> TransformerEncoder -> LayerNorm -> Linear; the
    same seed gives the same model, and one SGD step moves both alike."""
    def make(lib):
        return lib.nn.ModuleDict({
            "emb": lib.nn.Embedding(10, 8),
            "enc": lib.nn.TransformerEncoder(
                lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 1,
                enable_nested_tensor=False),
            "norm": lib.nn.LayerNorm(8), "head": lib.nn.Linear(8, 3)})

    def run(lib, model, tokens):
        h = model["enc"](model["emb"](tokens))
        return model["head"](model["norm"](h).mean(1))

    mine, ref = _same_init(make)
    tokens = RNG.integers(0, 10, (2, 6))
    labels = np.array([0, 2])
    opt_a = cr.optim.SGD(mine.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(2):
        la = F.cross_entropy(run(cr, mine, cr.tensor(tokens)), cr.tensor(labels))
        lb = TF.cross_entropy(run(torch, ref, torch.tensor(tokens)), torch.tensor(labels))
        _close(la, lb, rtol=1e-5, atol=1e-6)
        opt_a.zero_grad()
        opt_b.zero_grad()
        la.backward()
        lb.backward()
        opt_a.step()
        opt_b.step()
    for a, b in zip(mine.state_dict().values(), ref.state_dict().values()):
        _close(a, b, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ errors (torch's types)
def _both_raise(exc, fn_cr, fn_torch, match):
    with pytest.raises(exc, match=match):
        fn_cr()
    with pytest.raises(exc):
        fn_torch()


def test_errors_match_torchs_types():
    x, t = cr.zeros(2, 5), torch.zeros(2, 5)
    _both_raise(RuntimeError, lambda: F.glu(x), lambda: TF.glu(t), "Halving dimension must be even")
    _both_raise(IndexError, lambda: F.glu(x, 2), lambda: TF.glu(t, 2), "Dimension out of range")
    _both_raise(RuntimeError, lambda: F.glu(cr.tensor(1.0)), lambda: TF.glu(torch.tensor(1.0)),
                "does not support scalars")
    _both_raise(RuntimeError, lambda: F.softshrink(x, -1.0), lambda: TF.softshrink(t, -1.0),
                "lambda must be in range")
    _both_raise(RuntimeError, lambda: F.celu(x, 0.0), lambda: TF.celu(t, 0.0), "alpha cannot be 0")
    _both_raise(RuntimeError, lambda: F.prelu(cr.zeros(2, 4, 3), cr.zeros(3)),
                lambda: TF.prelu(torch.zeros(2, 4, 3), torch.zeros(3)),
                "Mismatch of parameter numbers and input channel size")
    _both_raise(RuntimeError, lambda: F.prelu(cr.zeros(2, 4, 3), cr.zeros(2, 2)),
                lambda: TF.prelu(torch.zeros(2, 4, 3), torch.zeros(2, 2)), "scalar or 1D")
    _both_raise(RuntimeError, lambda: F.prelu(cr.zeros(2, 4), cr.zeros(4, dtype=cr.float64)),
                lambda: TF.prelu(torch.zeros(2, 4), torch.zeros(4, dtype=torch.float64)),
                "Type promoting not supported")
    _both_raise(AssertionError, lambda: nn.Hardtanh(1.0, 0.0), lambda: torch.nn.Hardtanh(1.0, 0.0),
                "must be greater than min_val")
    _both_raise(RuntimeError, lambda: F.group_norm(cr.zeros(2, 4, 3), 3),
                lambda: TF.group_norm(torch.zeros(2, 4, 3), 3), "divisible by num_groups")
    _both_raise(RuntimeError, lambda: F.group_norm(cr.zeros(2, 4, 3), 2, cr.ones(3)),
                lambda: TF.group_norm(torch.zeros(2, 4, 3), 2, torch.ones(3)),
                "weight to be a vector of size equal to the number of channels")
    _both_raise(ValueError, lambda: nn.GroupNorm(3, 4), lambda: torch.nn.GroupNorm(3, 4),
                r"num_channels \(4\) must be divisible by num_groups \(3\)")
    _both_raise(ValueError, lambda: F.instance_norm(cr.zeros(1, 3, 1)),
                lambda: TF.instance_norm(torch.zeros(1, 3, 1)), "more than 1 spatial element")
    _both_raise(ValueError, lambda: nn.InstanceNorm1d(3, affine=True)(cr.zeros(2, 4, 5)),
                lambda: torch.nn.InstanceNorm1d(3, affine=True)(torch.zeros(2, 4, 5)),
                "to match num_features")
    _both_raise(ValueError, lambda: nn.InstanceNorm1d(3)(cr.zeros(2, 3, 4, 5)),
                lambda: torch.nn.InstanceNorm1d(3)(torch.zeros(2, 3, 4, 5)), "expected 2D or 3D")


def test_attention_errors_match_torchs_types():
    _both_raise(AssertionError, lambda: nn.MultiheadAttention(5, 2),
                lambda: torch.nn.MultiheadAttention(5, 2), "divisible by num_heads")
    _both_raise(ValueError, lambda: nn.MultiheadAttention(0, 2),
                lambda: torch.nn.MultiheadAttention(0, 2), "must be greater than 0")
    mine, ref = nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)
    x, t = cr.zeros(3, 2, 4), torch.zeros(3, 2, 4)
    _both_raise(RuntimeError, lambda: mine(x, x, x, attn_mask=cr.zeros(3, 4)),
                lambda: ref(t, t, t, attn_mask=torch.zeros(3, 4)), "shape of the 2D attn_mask")
    _both_raise(AssertionError, lambda: mine(x, x, x, attn_mask=cr.zeros(1, 1, 3, 3)),
                lambda: ref(t, t, t, attn_mask=torch.zeros(1, 1, 3, 3)), "2-D or 3-D")
    _both_raise(AssertionError, lambda: mine(cr.zeros(2, 3, 2, 4), x, x),
                lambda: ref(torch.zeros(2, 3, 2, 4), t, t), "unbatched 2D or batched 3D")
    _both_raise(AssertionError, lambda: mine(x, x, x, key_padding_mask=cr.zeros(2, 3, dtype=cr.int64)),
                lambda: ref(t, t, t, key_padding_mask=torch.zeros(2, 3, dtype=torch.int64)),
                "only bool and floating types")
    _both_raise(RuntimeError, lambda: mine(x, x, x, is_causal=True),
                lambda: ref(t, t, t, is_causal=True), "Need attn_mask")
    _both_raise(RuntimeError, lambda: nn.TransformerEncoderLayer(4, 2, activation="tanh"),
                lambda: torch.nn.TransformerEncoderLayer(4, 2, activation="tanh"),
                "activation should be relu/gelu")
    q = cr.zeros(1, 2, 3, 4)
    # torch's math kernel refuses both (its fused CPU kernels, taken without grad, combine them)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, cr.ones(3, 3, dtype=cr.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="query's last dim"):
        F.scaled_dot_product_attention(q, cr.zeros(1, 2, 5, 3), cr.zeros(1, 2, 5, 3))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(q, q, q, cr.zeros(3, 3, dtype=cr.int64))


# ------------------------------------------------------------------ in-place spellings, RMSNorm, Softmax2d
@pytest.mark.parametrize("name, args", [("relu_", ()), ("leaky_relu_", (0.2,)),
                                        ("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.1, -3.0)),
                                        ("elu_", (0.5,)), ("celu_", (0.5,)), ("selu_", ())])
def test_trailing_underscore_functions_work_in_place(name, args):
    data = _x(3, 4, scale=2)
    a, b = cr.tensor(data), torch.tensor(data)
    assert getattr(F, name)(a, *args) is a
    getattr(TF, name)(b, *args)
    _close(a, b)
    ca, tb = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ya, yb = getattr(F, name)(ca * 1.0, *args), getattr(TF, name)(tb * 1.0, *args)
    assert ya.grad_fn.name() == yb.grad_fn.name()
    ya.sum().backward()
    yb.sum().backward()
    _close(ca.grad, tb.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rms_norm_matches_torch(dtype):
    x, w = _x(2, 3, 4, dtype=dtype), _x(4, dtype=dtype)
    check(lambda x, w: F.rms_norm(x, (4,), w), lambda x, w: TF.rms_norm(x, (4,), w), x, w,
          double=True)
    check(lambda x: F.rms_norm(x, (3, 4), eps=1e-3), lambda x: TF.rms_norm(x, (3, 4), eps=1e-3),
          x, double=True)
    _both_raise(RuntimeError, lambda: F.rms_norm(cr.zeros(2, 3), (4,)),
                lambda: TF.rms_norm(torch.zeros(2, 3), (4,)), "expected input with shape")


@pytest.mark.parametrize("make", [lambda lib: lib.nn.RMSNorm(4),
                                  lambda lib: lib.nn.RMSNorm([3, 4], eps=1e-4),
                                  lambda lib: lib.nn.RMSNorm(4, elementwise_affine=False),
                                  lambda lib: lib.nn.Softmax2d()])
def test_rmsnorm_and_softmax2d_modules(make):
    mine, ref = _same_init(make)
    assert repr(mine) == repr(ref)
    x = _x(2, 3, 4, dtype=np.float32)
    xa, xb = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = mine(xa), ref(xb)
    _close(ya, yb)
    g = _x(2, 3, 4, dtype=np.float32)
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    _close(xa.grad, xb.grad, rtol=1e-4, atol=1e-5)


def test_softmax2d_rejects_other_ranks():
    _both_raise(ValueError, lambda: nn.Softmax2d()(cr.zeros(3, 4)),
                lambda: torch.nn.Softmax2d()(torch.zeros(3, 4)), "expected input to be 3D or 4D")


# ------------------------------------------------------------------ Transformer decoder, Transformer
DEC = [{}, {"batch_first": True, "norm_first": True, "activation": "gelu"}, {"bias": False}]


@pytest.mark.parametrize("kw", DEC, ids=[str(k) for k in DEC])
def test_transformer_matches_torch(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, ref = _same_init(lambda lib: lib.nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, **kw))
    src, tgt = _x(5, 3, 8, dtype=np.float32), _x(4, 3, 8, dtype=np.float32)
    if kw.get("batch_first"):
        src, tgt = (a.transpose(1, 0, 2).copy() for a in (src, tgt))
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).numpy(), causal)
    kpm = np.zeros((3, 5), bool)
    kpm[1, 4] = True
    for mode in (True, False):
        mine.train(mode)
        ref.train(mode)
        for extra in ({}, {"tgt_mask": causal, "memory_key_padding_mask": kpm},
                      {"tgt_mask": causal, "tgt_is_causal": True}):
            for p in list(mine.parameters()) + list(ref.parameters()):
                p.grad = None
            ca = [cr.tensor(a, requires_grad=True) for a in (src, tgt)]
            ta = [torch.tensor(a, requires_grad=True) for a in (src, tgt)]
            ea = {n: cr.tensor(m) if isinstance(m, np.ndarray) else m for n, m in extra.items()}
            eb = {n: torch.tensor(m) if isinstance(m, np.ndarray) else m for n, m in extra.items()}
            ya, yb = mine(*ca, **ea), ref(*ta, **eb)
            _close(ya, yb, rtol=1e-4, atol=1e-4)
            g = _x(*yb.shape, dtype=np.float32)
            ya.backward(cr.tensor(g))
            yb.backward(torch.tensor(g))
            for a, b in zip(ca, ta):
                _close(a.grad, b.grad, rtol=1e-3, atol=1e-4)
            for pa, pb in zip(mine.parameters(), ref.parameters()):
                _close(pa.grad, pb.grad, rtol=1e-3, atol=1e-4)


def test_decoder_stack_matches_torch_after_copying_weights():
    def make(lib):
        layer = lib.nn.TransformerDecoderLayer(6, 3, 12, dropout=0.0)
        return lib.nn.TransformerDecoder(layer, 2, norm=lib.nn.LayerNorm(6))
    mine, ref = _same_init(make)
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.1 * torch.randn(p.shape))
    _torch_to_mine(mine, ref)
    tgt, mem = _x(4, 2, 6, dtype=np.float32), _x(3, 2, 6, dtype=np.float32)
    _close(mine(cr.tensor(tgt), cr.tensor(mem)), ref(torch.tensor(tgt), torch.tensor(mem)),
           rtol=1e-4, atol=1e-5)


def test_transformer_errors_match_torchs_types():
    mine, ref = nn.Transformer(4, 2, 1, 1, 8), torch.nn.Transformer(4, 2, 1, 1, 8)
    _both_raise(RuntimeError, lambda: mine(cr.zeros(3, 2, 4), cr.zeros(3, 1, 4)),
                lambda: ref(torch.zeros(3, 2, 4), torch.zeros(3, 1, 4)),
                "batch number of src and tgt must be equal")
    _both_raise(RuntimeError, lambda: mine(cr.zeros(3, 2, 4), cr.zeros(3, 2, 5)),
                lambda: ref(torch.zeros(3, 2, 4), torch.zeros(3, 2, 5)),
                "feature number of src and tgt must be equal to d_model")


# ------------------------------------------------------------------ rrelu, local response norm
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rrelu_draws_torchs_slopes_and_keeps_the_stream_in_step(dtype):
    x = torch.randn(4, 5, dtype=dtype)
    for training in (True, False):
        torch.manual_seed(11)
        cr.manual_seed(11)
        xa, xb = cr.tensor(x.numpy(), requires_grad=True), x.clone().requires_grad_(True)
        ya, yb = F.rrelu(xa, 0.1, 0.4, training), TF.rrelu(xb, 0.1, 0.4, training)
        np.testing.assert_array_equal(_np(ya), _np(yb))
        np.testing.assert_array_equal(cr.rand(3).numpy(), torch.rand(3).numpy())
        assert ya.grad_fn.name() == yb.grad_fn.name()
        g = _x(4, 5, dtype=_np(yb).dtype)
        ya.backward(cr.tensor(g))
        yb.backward(torch.tensor(g))
        np.testing.assert_array_equal(_np(xa.grad), _np(xb.grad))


def test_rrelu_module_and_inplace():
    mine, ref = nn.RReLU(0.2, 0.3, inplace=True), torch.nn.RReLU(0.2, 0.3, inplace=True)
    assert repr(mine) == repr(ref) and repr(nn.RReLU()) == repr(torch.nn.RReLU())
    x = _x(3, 4, dtype=np.float32)
    a, b = cr.tensor(x), torch.tensor(x)
    cr.manual_seed(2)
    torch.manual_seed(2)
    assert mine(a) is a
    ref(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    mine.eval()
    ref.eval()
    _close(mine(cr.tensor(x)), ref(torch.tensor(x)))
    _both_raise(RuntimeError, lambda: F.rrelu(cr.zeros(2), 0.5, 0.2, True),
                lambda: TF.rrelu(torch.zeros(2), 0.5, 0.2, True), "Lower bound should be less")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, size", [((2, 5, 3), 3), ((2, 6, 2, 3), 4), ((1, 3, 2, 2, 2), 2),
                                         ((2, 4, 3), 1)])
def test_local_response_norm_matches_torch(shape, size, dtype):
    check(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.8, k=2.0),
          lambda x: TF.local_response_norm(x, size, alpha=0.5, beta=0.8, k=2.0),
          _x(*shape, dtype=dtype), double=True, scale=10)


def test_local_response_norm_module_and_errors():
    mine, ref = nn.LocalResponseNorm(3), torch.nn.LocalResponseNorm(3)
    assert repr(mine) == repr(ref)
    x = _x(2, 5, 4, 4, scale=10, dtype=np.float32)
    _close(mine(cr.tensor(x)), ref(torch.tensor(x)))
    _both_raise(ValueError, lambda: F.local_response_norm(cr.zeros(2, 3), 2),
                lambda: TF.local_response_norm(torch.zeros(2, 3), 2), "Expected 3D or higher")


def test_attention_dropout_draws_torchs_masks():
    """Dropout inside attention (on the weights, then in the encoder block) takes torch's draws
    from the same seed: training outputs agree, not only in expectation."""
    x = _x(5, 3, 8, dtype=np.float32)
    mine, ref = _same_init(lambda lib: lib.nn.MultiheadAttention(8, 2, dropout=0.5))
    cr.manual_seed(1)
    torch.manual_seed(1)
    (oa, wa), (ob, wb) = mine(*[cr.tensor(x)] * 3), ref(*[torch.tensor(x)] * 3)
    _close(oa, ob, rtol=1e-5, atol=1e-6)
    _close(wa, wb, rtol=1e-5, atol=1e-6)
    mine, ref = _same_init(lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3))
    cr.manual_seed(1)
    torch.manual_seed(1)
    _close(mine(cr.tensor(x)), ref(torch.tensor(x)), rtol=1e-5, atol=1e-5)


def test_encoder_inference_with_padding_zeroes_the_padded_positions_as_torch():
    """torch's TransformerEncoder runs batch-first inference with a key padding mask on nested
    tensors and pads the result with zeros; chainrule gives the same tensor."""
    make = lambda lib: lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2, norm=lib.nn.LayerNorm(8))
    mine, ref = _same_init(make)
    mine.eval()
    ref.eval()
    x = _x(3, 5, 8, dtype=np.float32)
    kpm = np.zeros((3, 5), bool)
    kpm[0, 3:] = True
    with cr.no_grad(), torch.no_grad():
        ya, yb = mine(cr.tensor(x), src_key_padding_mask=cr.tensor(kpm)), \
            ref(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    _close(ya, yb, rtol=1e-4, atol=1e-5)
    assert np.all(ya.numpy()[0, 3:] == 0)
    # while recording a gradient, neither takes that path: the padded rows keep their values
    ya = mine(cr.tensor(x), src_key_padding_mask=cr.tensor(kpm))
    yb = ref(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    _close(ya, yb, rtol=1e-4, atol=1e-5)
    assert np.all(_np(ya)[0, 3:] != 0)
    with pytest.warns(UserWarning, match="use_nested_tensor is False because"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)


@pytest.mark.parametrize("make", [lambda lib: lib.nn.BatchNorm3d(3),
                                  lambda lib: lib.nn.InstanceNorm3d(3, affine=True,
                                                                    track_running_stats=True)])
def test_3d_batch_and_instance_norm(make):
    mine, ref = _same_init(make)
    assert repr(mine) == repr(ref)
    for mode in (True, True, False):
        mine.train(mode)
        ref.train(mode)
        x = _x(2, 3, 2, 3, 2, dtype=np.float32)
        xa, xb = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yb = mine(xa), ref(xb)
        _close(ya, yb, rtol=1e-4, atol=1e-5)
        ya.sum().backward()
        yb.sum().backward()
        _close(xa.grad, xb.grad, rtol=1e-4, atol=1e-4)
    for a, b in zip(mine.state_dict().values(), ref.state_dict().values()):
        _close(a, b)
    with pytest.raises(ValueError):
        mine(cr.zeros(2, 3, 4, 4))


def test_mha_functional_with_static_keys_and_values():
    ref = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    mine = nn.MultiheadAttention(4, 2, dtype=cr.float64)
    _torch_to_mine(mine, ref)
    q = _x(3, 2, 4)
    sk, sv = _x(4, 6, 2), _x(4, 6, 2)     # (N·heads, S, head_dim)

    def run(lib, fn, m):
        t = lib.tensor
        return fn(t(q), t(q), t(q), 4, 2, m.in_proj_weight, m.in_proj_bias, None, None, True,
                  0.0, m.out_proj.weight, m.out_proj.bias, static_k=t(sk), static_v=t(sv))
    (oa, wa), (ob, wb) = run(cr, F.multi_head_attention_forward, mine), \
        run(torch, TF.multi_head_attention_forward, ref)
    _close(oa, ob, rtol=1e-10, atol=1e-12)
    _close(wa, wb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gumbel_softmax_takes_torchs_noise(hard, dtype):
    x = _x(3, 5, dtype=dtype)
    cr.manual_seed(0)
    torch.manual_seed(0)
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = F.gumbel_softmax(a, 0.5, hard), TF.gumbel_softmax(b, 0.5, hard)
    _close(ya, yb, rtol=1e-5, atol=1e-6)
    g = _x(3, 5, dtype=dtype)
    ya.backward(cr.tensor(g))
    yb.backward(torch.tensor(g))
    _close(a.grad, b.grad, rtol=1e-4, atol=1e-5)
    if hard:
        assert np.all(_np(ya).sum(-1) == 1)


# ------------------------------------------------------------------ EmbeddingBag
BAGS = [{"mode": "sum"}, {"mode": "mean"}, {"mode": "max"},
        {"mode": "mean", "include_last_offset": True}, {"mode": "mean", "padding_idx": 4},
        {"mode": "max", "padding_idx": 4}, {"mode": "sum", "include_last_offset": True}]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", BAGS, ids=[str(k) for k in BAGS])
def test_embedding_bag_matches_torch(kw, dtype):
    w = _x(6, 3, dtype=dtype)
    idx, offsets = np.array([1, 2, 4, 4, 3, 5, 0]), np.array([0, 2, 2, 5])
    if kw.get("include_last_offset"):
        offsets = np.array([0, 2, 2, 5, 7])   # the last one the input's length, as torch asks
    check(lambda w: F.embedding_bag(cr.tensor(idx), w, cr.tensor(offsets), **kw),
          lambda w: TF.embedding_bag(torch.tensor(idx), w, torch.tensor(offsets), **kw), w)
    if not kw.get("include_last_offset"):
        batch = RNG.integers(0, 6, (3, 4))
        check(lambda w: F.embedding_bag(cr.tensor(batch), w, **kw),
              lambda w: TF.embedding_bag(torch.tensor(batch), w, **kw), w)


def test_embedding_bag_per_sample_weights_and_max_norm():
    idx, offsets = np.array([1, 2, 4, 4, 3, 5, 0]), np.array([0, 3])
    check(lambda w, p: F.embedding_bag(cr.tensor(idx), w, cr.tensor(offsets), mode="sum",
                                       per_sample_weights=p),
          lambda w, p: TF.embedding_bag(torch.tensor(idx), w, torch.tensor(offsets), mode="sum",
                                        per_sample_weights=p), _x(6, 3), _x(7))
    w = _x(6, 3, scale=3)
    wa, wb = cr.tensor(w.copy()), torch.tensor(w.copy())
    _close(F.embedding_bag(cr.tensor(idx), wa, cr.tensor(offsets), max_norm=0.5),
           TF.embedding_bag(torch.tensor(idx), wb, torch.tensor(offsets), max_norm=0.5))
    _close(wa, wb)    # the referenced rows renormalised in place, as torch


def test_embedding_bag_module_and_errors():
    for kw in ({}, {"mode": "sum", "padding_idx": 1}, {"mode": "max", "max_norm": 1.0}):
        mine, ref = _same_init(lambda lib, kw=kw: lib.nn.EmbeddingBag(5, 3, **kw))
        assert repr(mine) == repr(ref)
    mine, ref = _same_init(lambda lib: lib.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=1))
    idx = np.array([[0, 1, 4], [2, 2, 1]])
    ya, yb = mine(cr.tensor(idx)), ref(torch.tensor(idx))
    _close(ya, yb)
    ya.sum().backward()
    yb.sum().backward()
    _close(mine.weight.grad, ref.weight.grad)
    i, o = np.array([1, 2]), np.array([0, 1])
    _both_raise(NotImplementedError,
                lambda: F.embedding_bag(cr.tensor(i), cr.zeros(3, 2), cr.tensor(o), mode="mean",
                                        per_sample_weights=cr.ones(2)),
                lambda: TF.embedding_bag(torch.tensor(i), torch.zeros(3, 2), torch.tensor(o),
                                         mode="mean", per_sample_weights=torch.ones(2)),
                "only supported for mode='sum'")
    _both_raise(ValueError, lambda: F.embedding_bag(cr.tensor(idx), cr.zeros(5, 2), cr.tensor(o)),
                lambda: TF.embedding_bag(torch.tensor(idx), torch.zeros(5, 2), torch.tensor(o)),
                "offsets has to be None")
    _both_raise(ValueError, lambda: F.embedding_bag(cr.tensor(i), cr.zeros(3, 2)),
                lambda: TF.embedding_bag(torch.tensor(i), torch.zeros(3, 2)),
                "offsets has to be a 1D Tensor")


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}], ids=["plain", "padding"])
def test_scale_grad_by_freq_divides_each_row_by_its_count_like_torch(kw):
    """weight̄[k] = Σ ȳ_i / count(k) over the entries i that read row k; embedding_bag the same
    in 'sum' and 'mean' modes (by the documented rule: see below) and torch's ValueError in
    'max'. The backward is linear in ȳ and
    its derivative there is checked by finite differences, not against torch: torch's
    (embedding_dense_double_backward) leaves the 1/count out, so it is not the adjoint of its
    own backward. (In w no finite difference applies: the scaling is a choice, not the
    forward's derivative, and every pass back through the lookup makes it again.)"""
    idx = np.array([[0, 2, 2, 5], [2, 1, 0, 2]])
    check(lambda w: F.embedding(cr.tensor(idx), w, scale_grad_by_freq=True, **kw),
          lambda w: TF.embedding(torch.tensor(idx), w, scale_grad_by_freq=True, **kw), _x(6, 3))
    w = cr.tensor(_x(6, 3), requires_grad=True)

    def scaled_gradient(v):     # the backward itself, as a function of ȳ to differentiate
        out = F.embedding(cr.tensor(idx), w, scale_grad_by_freq=True, **kw) ** 3
        return cr.autograd.grad(out, w, v, create_graph=True)[0]
    assert cr.autograd.gradcheck(scaled_gradient, (cr.tensor(_x(2, 4, 3), requires_grad=True),))
    # bags: torch 2.13's CPU embedding_bag divides by the wrong index's count (pytorch#190063,
    # fixed after 2.13), so the oracle is torch's embedding summed or averaged over each bag
    for mode in ("sum", "mean") if not kw else ():
        check(lambda w: F.embedding_bag(cr.tensor(idx), w, mode=mode, scale_grad_by_freq=True),
              lambda w: getattr(TF.embedding(torch.tensor(idx), w, scale_grad_by_freq=True), mode)(1),
              _x(6, 3))
    mine, ref = _same_init(lambda lib: lib.nn.Embedding(6, 3, scale_grad_by_freq=True))
    mine(cr.tensor(idx)).sum().backward()
    ref(torch.tensor(idx)).sum().backward()
    _close(mine.weight.grad, ref.weight.grad)
    _both_raise(ValueError,
                lambda: F.embedding_bag(cr.tensor(idx), cr.zeros(6, 2), mode="max",
                                        scale_grad_by_freq=True),
                lambda: TF.embedding_bag(torch.tensor(idx), torch.zeros(6, 2), mode="max",
                                         scale_grad_by_freq=True),
                "max mode does not support scaling the gradient by the frequency")


def test_embedding_max_norm_renormalises_like_torch():
    w = _x(6, 3, scale=3)
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    wa, wb = cr.tensor(w.copy()), torch.tensor(w.copy())
    _close(F.embedding(cr.tensor(idx), wa, max_norm=1.0, norm_type=1.5),
           TF.embedding(torch.tensor(idx), wb, max_norm=1.0, norm_type=1.5))
    _close(wa, wb)
    mine, ref = _same_init(lambda lib: lib.nn.Embedding(6, 3, max_norm=0.8))
    _close(mine(cr.tensor(idx)), ref(torch.tensor(idx)))
    _close(mine.weight, ref.weight)


def test_embedding_repr_names_its_options():
    for kw in ({}, {"max_norm": 0.8}, {"padding_idx": 1, "norm_type": 3.0, "sparse": True}):
        assert repr(nn.Embedding(6, 3, **kw)) == repr(torch.nn.Embedding(6, 3, **kw))


def test_repr_of_stacks_matches_torch():
    """ModuleList prints runs of equal layers once, as torch ("(0-1): 2 x ..."), so a whole
    Transformer prints the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for make in (lambda lib: lib.nn.Transformer(8, 2, 2, 3, 16),
                     lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2),
                                                    lib.nn.ReLU(), lib.nn.Linear(2, 3)]),
                     lambda lib: lib.nn.ModuleList()):
            assert repr(make(cr)) == repr(make(torch))


# ------------------------------------------------------------------ AdaptiveLogSoftmaxWithLoss
def test_adaptive_log_softmax_matches_torch():
    mine, ref = _same_init(lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(
        16, 20, [4, 10], div_value=2.0, head_bias=True))
    assert repr(mine) == repr(ref)
    with torch.no_grad():   # make the cluster tokens win for some rows, so predict uses the tail
        ref.head.bias.copy_(torch.tensor([0.0] * 4 + [3.0, 3.0]))
    _torch_to_mine(mine, ref)
    x, t = _x(6, 16, dtype=np.float32), np.array([0, 5, 12, 3, 19, 9])
    xa, xb = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oa, ob = mine(xa, cr.tensor(t)), ref(xb, torch.tensor(t))
    _close(oa.output, ob.output, rtol=1e-5, atol=1e-5)
    _close(oa.loss, ob.loss, rtol=1e-5, atol=1e-6)
    oa.loss.backward()
    ob.loss.backward()
    _close(xa.grad, xb.grad, rtol=1e-4, atol=1e-6)
    for pa, pb in zip(mine.parameters(), ref.parameters()):
        _close(pa.grad, pb.grad, rtol=1e-4, atol=1e-6)
    _close(mine.log_prob(cr.tensor(x)), ref.log_prob(torch.tensor(x)), rtol=1e-5, atol=1e-5)
    pa, pb = mine.predict(cr.tensor(x)), ref.predict(torch.tensor(x))
    np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    assert pa.dtype == cr.int64 and (pb.numpy() >= 4).any()
    one_a, one_b = mine(cr.tensor(x[0]), cr.tensor(12)), ref(torch.tensor(x[0]), torch.tensor(12))
    assert tuple(one_a.output.shape) == ()
    _close(one_a.output, one_b.output, rtol=1e-5, atol=1e-5)


def test_adaptive_log_softmax_errors():
    _both_raise(ValueError, lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]),
                lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]), "cutoffs should be")
    _both_raise(ValueError, lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, []),
                lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, []), "length larger than 0")
    mine, ref = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4]), torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4])
    _both_raise(RuntimeError, lambda: mine(cr.zeros(2, 8), cr.tensor([1, 10])),
                lambda: ref(torch.zeros(2, 8), torch.tensor([1, 10])), "Target values should be in")
    _both_raise(RuntimeError, lambda: mine(cr.zeros(3, 8), cr.tensor([1, 2])),
                lambda: ref(torch.zeros(3, 8), torch.tensor([1, 2])), "same size in the batch")


def test_mha_merge_masks_as_torch():
    mine, ref = nn.MultiheadAttention(4, 2, batch_first=True), \
        torch.nn.MultiheadAttention(4, 2, batch_first=True)
    q = _x(3, 5, 4, dtype=np.float32)
    am, kpm, am3 = _x(5, 5, dtype=np.float32), _x(3, 5, dtype=np.float32), _x(6, 5, 5, dtype=np.float32)
    for a, k in ((None, None), (None, kpm), (am, None), (am, kpm), (am3, kpm)):
        wrap_c = [None if v is None else cr.tensor(v) for v in (a, k)]
        wrap_t = [None if v is None else torch.tensor(v) for v in (a, k)]
        ma, ta = mine.merge_masks(*wrap_c, cr.tensor(q))
        mb, tb = ref.merge_masks(*wrap_t, torch.tensor(q))
        assert ta == tb
        assert (ma is None) == (mb is None)
        if mb is not None:
            _close(ma, mb)
