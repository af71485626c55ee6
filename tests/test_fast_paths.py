"""The performance fast paths agree with the general ones they shortcut.

* In a plain backward (no create_graph, no forward tangents) every rule runs on NumPy arrays;
  with ``create_graph=True`` the same rule runs as differentiable Tensor ops. Both must give the
  same gradients bit for bit (the same arithmetic), for every primitive, and match torch —
  except where the array side is a tuned kernel (``TUNED``): there the same equations in
  another order of summation, equal to float64 rounding.
* ``broadcast_view`` builds np.broadcast_to's view without its Python wrapper.
* A fresh weight gradient from Linear's VJP is adopted as ``.grad`` without a copy; hooks that
  keep a gradient, shared weights and repeated backward passes must not see aliasing.
"""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from ad_cases import ALL_CASES
from chainrule.backends.namespace import broadcast_view


def _grads(fn, arrays, create_graph):
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    seed = np.random.default_rng(7).standard_normal(out.shape).astype(arrays[0].dtype)
    grads = cr.autograd.grad(out, xs, cr.tensor(seed), create_graph=create_graph)
    return [g.detach().numpy() for g in grads], out.detach().numpy(), seed


def _torch_grads(fn, arrays, seed):
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    return [g.numpy() for g in torch.autograd.grad(out, xs, torch.tensor(seed))], out.detach().numpy()


CASES = {
    "mul_broadcast": (lambda a, b: a * b, lambda a, b: a * b, [(3, 1, 4), (5, 1)]),
    "mul_0d": (lambda a, b: a * b, lambda a, b: a * b, [(), (2, 3)]),
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [(4, 1), (3,)]),
    "sum_dims": (lambda a: a.sum((0, 2)), lambda a: a.sum((0, 2)), [(2, 3, 4)]),
    "sum_keepdim": (lambda a: a.sum(1, keepdim=True), lambda a: a.sum(1, keepdim=True), [(2, 3, 4)]),
    "mean_all": (lambda a: a.mean() * a, lambda a: a.mean() * a, [(3, 5)]),
    "relu": (lambda a: a.relu(), lambda a: a.relu(), [(4, 6)]),
    "linear_bias": (F.linear, torch.nn.functional.linear, [(5, 3), (4, 3), (4,)]),
    "linear_nobias": (F.linear, torch.nn.functional.linear, [(5, 3), (4, 3)]),
    "linear_3d": (F.linear, torch.nn.functional.linear, [(2, 5, 3), (4, 3), (4,)]),
}


# cases whose plain backward runs a hand-tuned array kernel instead of the declared rule
# BatchNormTrain._array_vjp: BLAS dot sums; a convolution's bias gradient: BLAS sums; a
# recurrent layer's backprop through time on arrays sums the weights' gradients over all steps
# in one product, its recorded rule differentiates the per-step composition
TUNED = {"batch_norm_train", "instance_norm", "conv2d", "conv3d", "conv_transpose1d",
         "conv_transpose2d", "conv_transpose3d", "lstm_layer", "lstm_layer_reverse_no_bias",
         "gru_layer", "gru_layer_reverse", "rnn_tanh_layer", "rnn_relu_layer_reverse"}


@pytest.mark.parametrize("case", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_every_rule_gives_the_same_gradient_on_arrays_and_recorded(case):
    """One rule, two namespaces: ArrayOps in a plain backward, TensorOps under create_graph."""
    _, fn, _, arrays = case

    def grads(create_graph):
        xs = [cr.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
        wrt = [x for x in xs if x.requires_grad]
        out = fn(*xs)
        out = out[0] if isinstance(out, tuple) else out
        if not wrt or not out.requires_grad:
            return []
        seed = cr.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)))
        got = cr.autograd.grad(out, wrt, seed.to(out.dtype), create_graph=create_graph,
                               allow_unused=True)
        return [None if g is None else g.detach().numpy() for g in got]

    for p, c in zip(grads(False), grads(True)):
        assert (p is None) == (c is None)
        if p is not None and case[0] in TUNED:
            np.testing.assert_allclose(p, c, rtol=1e-12, atol=1e-12)
        elif p is not None:
            np.testing.assert_array_equal(p, c)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_backward_equals_differentiable_rules_and_torch(name, dtype):
    cr_fn, torch_fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    plain, out, seed = _grads(cr_fn, arrays, create_graph=False)
    composed, _, _ = _grads(cr_fn, arrays, create_graph=True)
    for p, c in zip(plain, composed):
        np.testing.assert_array_equal(p, c)
    expected, tout = _torch_grads(torch_fn, arrays, seed)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, tout, **tol)
    for p, e in zip(plain, expected):
        np.testing.assert_allclose(p, e, **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("big", [False, True])
def test_cross_entropy_plain_backward_equals_differentiable_rule_and_torch(reduction, big):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 5)).astype(np.float32) * (1e4 if big else 1.0)
    y = rng.integers(0, 5, 6)
    results = []
    for create_graph in (False, True):
        zc = cr.tensor(z, requires_grad=True)
        loss = F.cross_entropy(zc, cr.tensor(y), reduction=reduction)
        (g,) = cr.autograd.grad(loss * 3.0, [zc], create_graph=create_graph)
        results.append((loss.item(), g.detach().numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    zt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(zt, torch.tensor(y), reduction=reduction)
    (gt,) = torch.autograd.grad(lt * 3.0, [zt])
    np.testing.assert_allclose(results[0][0], lt.item(), rtol=1e-5)
    np.testing.assert_allclose(results[0][1], gt.numpy(), rtol=1e-5, atol=1e-6)


def test_cross_entropy_with_infinite_logit_takes_the_recomputing_path():
    """A non-finite loss leaves no cached softmax: the array rule recomputes it exactly as the
    differentiable rule does (inf logits give the same nan/0 pattern either way)."""
    z = np.array([[0.0, np.inf, 1.0], [1.0, 2.0, 3.0]], np.float32)
    y = cr.tensor(np.array([1, 2]))
    grads = []
    for create_graph in (False, True):
        zc = cr.tensor(z, requires_grad=True)
        with np.errstate(invalid="ignore"):
            (g,) = cr.autograd.grad(F.cross_entropy(zc, y), [zc], create_graph=create_graph)
        grads.append(g.detach().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    assert np.isnan(grads[0][0, 1]) and np.isfinite(grads[0][1]).all()


def test_forward_over_reverse_keeps_tangents_through_fast_rules():
    """Inside a dual level the fast array rules must not run (they would drop tangents):
    the Hessian-vector product of a Linear + ReLU + cross-entropy loss matches torch."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    w0, v = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    y = np.array([0, 4, 2, 1])

    def loss_cr(w):
        return F.cross_entropy(F.linear(cr.tensor(x), w).relu() * cr.tensor(x).sum(1, keepdim=True),
                               cr.tensor(y))

    def loss_t(w):
        return torch.nn.functional.cross_entropy(
            torch.nn.functional.linear(torch.tensor(x), w).relu() * torch.tensor(x).sum(1, keepdim=True),
            torch.tensor(y))

    _, hvp_cr = cr.func.jvp(cr.func.grad(loss_cr), (cr.tensor(w0),), (cr.tensor(v),))
    _, hvp_t = torch.func.jvp(torch.func.grad(loss_t), (torch.tensor(w0),), (torch.tensor(v),))
    np.testing.assert_allclose(hvp_cr.numpy(), hvp_t.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("make, shape", [
    (lambda: np.arange(3, dtype=np.float32), (4, 3)),
    (lambda: np.array(2.5, np.float32), (2, 3)),
    (lambda: np.arange(6.0).reshape(2, 1, 3), (4, 2, 5, 3)),
    (lambda: np.arange(6.0).reshape(3, 2).T, (5, 2, 3)),          # F-contiguous
    (lambda: np.arange(12.0).reshape(3, 4)[:, ::2][:1], (3, 1, 2)),  # not contiguous: fallback
    (lambda: np.zeros((0, 3)), (2, 0, 3)),                        # empty: fallback
])
def test_broadcast_view_is_np_broadcast_to(make, shape):
    x = make()
    v = broadcast_view(x, shape)
    np.testing.assert_array_equal(v, np.broadcast_to(x, shape))
    assert v.shape == shape and v.dtype == x.dtype
    assert not v.flags.writeable
    if x.size:
        assert np.shares_memory(v, x)


def test_adopted_weight_gradient_does_not_alias_a_hook_copy_or_a_second_backward():
    layer = cr.nn.Linear(3, 2)
    x = cr.randn(4, 3)
    seen = []
    layer.bias.register_hook(lambda g: seen.append(g))   # keeps the gradient it is shown
    layer(x).sum().backward()
    first_w, first_b = layer.weight.grad.numpy().copy(), layer.bias.grad.numpy().copy()
    kept = seen[0].numpy().copy()
    layer(x).sum().backward()                             # accumulates in place into .grad
    np.testing.assert_array_equal(seen[0].numpy(), kept)  # the hook's tensor is untouched
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * first_w, rtol=1e-6)
    np.testing.assert_allclose(layer.bias.grad.numpy(), 2 * first_b, rtol=1e-6)
    assert not np.shares_memory(layer.weight.grad.numpy(), layer.bias.grad.numpy())


def test_linear_weight_gradient_is_adopted_without_a_copy(monkeypatch):
    """W̄ reaches the leaf as TBackward0's C-contiguous view of Addmm's new ȳᵀx: .grad takes it
    as it is (a copy of every Linear weight's gradient cost an MLP step ~5%)."""
    from chainrule import _memory_format
    layer = cr.nn.Linear(5, 3)
    x = cr.randn(4, 5)
    copies = []
    real = _memory_format.copy
    monkeypatch.setattr(_memory_format, "copy", lambda *a, **k: copies.append(a) or real(*a, **k))
    layer(x).sum().backward()
    assert copies == []
    assert layer.weight.grad.is_contiguous()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.tile(x.numpy().sum(0), (3, 1)),
                               rtol=1e-6)


def test_a_new_gradient_in_another_layout_than_its_leaf_is_copied_into_the_leafs():
    """A fresh gradient that reaches a leaf transposed (here through x.t()) is not adopted as
    it lies: .grad is laid out as the leaf, as torch's AccumulateGrad."""
    x = cr.randn(3, 4, requires_grad=True)
    w = cr.randn(4, 3)
    (x.t() * w).sum().backward()
    assert x.grad.is_contiguous()
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy().T)


def test_shared_weight_used_twice_gets_the_sum_vs_torch():
    rng = np.random.default_rng(3)
    w, x = rng.standard_normal((3, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    wc = cr.tensor(w, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    (F.linear(F.linear(cr.tensor(x), wc).relu(), wc) ** 2).sum().backward()
    (torch.nn.functional.linear(torch.nn.functional.linear(torch.tensor(x), wt).relu(), wt) ** 2).sum().backward()
    np.testing.assert_allclose(wc.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-6)
    g_before = wc.grad.numpy().copy()
    other = cr.tensor(w, requires_grad=True)
    F.linear(cr.tensor(x), other).sum().backward()
    np.testing.assert_array_equal(wc.grad.numpy(), g_before)   # no aliasing across leaves


def test_fresh_gradient_seen_by_an_intermediate_hook_is_not_adopted():
    """Mul's fresh gradient for u passes through u's node (where a hook keeps it) before
    reaching the leaf a: only a gradient delivered straight to a leaf may become its .grad."""
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = cr.tensor([4.0, 5.0, 6.0])
    kept = []
    for _ in range(2):
        u = a.clone()
        u.register_hook(lambda g: kept.append(g))
        (u * b).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(a.grad.numpy(), [8.0, 10.0, 12.0])


def test_mul_gradient_is_adopted_by_a_leaf_and_accumulates_correctly():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    for _ in range(3):
        (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [9.0, 12.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 6.0])
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())


def test_the_two_rule_namespaces_agree_function_by_function():
    """Each function of ArrayOps gives on arrays what TensorOps gives on Tensors."""
    from chainrule.backends.namespace import ArrayOps, TensorOps
    rng = np.random.default_rng(3)
    x, y = rng.random((2, 3)) + 0.5, rng.standard_normal((2, 3))
    cond = x > 1
    calls = {
        "exp": (x,), "log": (x,), "sqrt": (x,), "sin": (y,), "cos": (y,), "tanh": (y,),
        "sigmoid": (y,), "sign": (y,), "abs": (y,), "where": (cond, x, y), "matmul": (x, y.T),
        "sum": (y, (0,), True), "reshape": (y, (3, 2)), "permute": (y, (1, 0)),
        "expand": (y[:1], (4, 3)), "mT": (y,), "zeros_like": (y,), "ones_like": (y,),
        "affine": (x, 2.0, y, x[:1], 0.5), "unbroadcast": (np.ones((4, 2, 3)), (2, 1)),
        "clamp": (y, -0.5, None), "log1p": (x,), "sinh": (y,), "cosh": (y,),
    }
    public = {n for n in vars(ArrayOps) if not n.startswith("_")} - {"recording", "apply",
                                                                     "const", "data"}
    assert public == set(calls), public ^ set(calls)
    tensor_ops = TensorOps(cr.tensor(x))
    for name, args in calls.items():
        on_tensors = [cr.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        want = getattr(ArrayOps, name)(*args)
        got = getattr(tensor_ops, name)(*on_tensors)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [(7,), (8, 16, 9)])   # under and over the zeros-buffer cutoff
def test_unrecorded_relu_writes_in_place_as_torch(dtype, size):
    """relu_ with nothing to record writes straight into the tensor's memory: the same values
    as torch (nan kept, −0 → 0), through a transposed view into its base, one version bump."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(size).astype(dtype)
    a.flat[:3] = [np.nan, -0.0, -np.inf]
    base, ref = cr.tensor(a.copy()), torch.tensor(a.copy())
    view, tview = base.transpose(0, -1), ref.transpose(0, -1)
    version = base._version
    assert view.relu_() is view
    tview.relu_()
    np.testing.assert_array_equal(base.numpy(), ref.numpy())
    assert base._version == version + 1
    leaf = cr.tensor(a.copy(), requires_grad=True)
    with cr.no_grad():
        leaf.relu_()
    np.testing.assert_array_equal(leaf.detach().numpy(), ref.numpy())
    assert leaf.grad_fn is None


@pytest.mark.parametrize("size", [(2,), (8, 16, 9)])
def test_recorded_relu_in_place_still_records(size):
    """A recorded relu_ runs in the tensor's own memory (no second buffer, no copy) and still
    records ReluBackward0 over it; writing the tensor again before backward is torch's error."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(size).astype(np.float32)
    a.flat[:2] = [-1.0, 2.0]
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x * 1, xt * 1
    memory = y._data
    assert y.relu_() is y and y._data is memory
    yt.relu_()
    assert y.grad_fn.name() == "ReluBackward0" and y.grad_fn._out is memory
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    y = x * 1
    y.relu_()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_recorded_relu_in_place_allocates_no_second_buffer():
    import tracemalloc
    y = cr.tensor(np.random.default_rng(2).standard_normal((256, 1024)).astype(np.float32),
                  requires_grad=True) * 1     # 1 MiB
    tracemalloc.start()
    try:
        y.relu_()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < y._data.nbytes // 4, peak


def _bits(a):
    """An array's bytes, so -0.0 and NaN payloads count (assert_array_equal takes -0.0 == 0)."""
    a = np.ascontiguousarray(a)
    return a.dtype, a.shape, a.tobytes()


# split's pieces write their gradients into one buffer (_backprop._write_piece): the gradient
# torch's SplitBackward0 concatenates, bit for bit, -0.0 included, zeros where a piece got none
SPLIT_CASES = {
    "split_all": (lambda x: x.split(2, dim=1), [0, 1, 2]),
    "split_first_last": (lambda x: x.split(2, dim=1), [0, 2]),
    "split_middle": (lambda x: x.split(2, dim=1), [1]),
    "chunk_uneven_dim0": (lambda x: x.chunk(3, 0), [0, 1, 2]),
    "chunk_last_dim": (lambda x: x.chunk(2, -1), [1, 0]),
    "split_sizes": (lambda x: x.split([1, 4, 1], dim=1), [2, 0]),
    "unbind": (lambda x: x.unbind(1), [5, 0, 3]),
    "unbind_all": (lambda x: x.unbind(0), [0, 1, 2, 3, 4]),
    "overlapping_views": (lambda x: (x[:, :4], x[:, 2:]), [0, 1]),
    "two_dims": (lambda x: (x[:2], x[:, 3:]), [0, 1]),
    "strided": (lambda x: (x[:, ::2], x[:, 1::2]), [0, 1]),
    "with_dense_use": (lambda x: x.split(3, dim=1) + (x * 2,), [0, 2]),
    "dense_first": (lambda x: (x * 2,) + x.split(3, dim=1), [0, 1]),
    "split_of_a_split": (lambda x: x.split(3, dim=1)[0].split(1, dim=1), [0, 2]),
}


@pytest.mark.parametrize("name", sorted(SPLIT_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_pieces_gradient_is_torchs_concatenation_bit_for_bit(name, dtype):
    fn, used = SPLIT_CASES[name]
    rng = np.random.default_rng(5)
    a = rng.standard_normal((5, 6, 3)).astype(dtype)
    grads = {}
    for lib in (cr, torch):
        x = lib.tensor(a, requires_grad=True)
        pieces = fn(x)
        outs = [pieces[i] for i in used]
        gs = []
        for k, p in enumerate(outs):
            g = rng.standard_normal(tuple(p.shape)).astype(dtype) if lib is cr else grads[k]
            if lib is cr:
                g.reshape(-1)[::3] = -0.0
                g.reshape(-1)[1::7] = np.nan
                grads[k] = g
            gs.append(lib.tensor(g))
        lib.autograd.backward(outs, gs)
        grads[lib] = x.grad.numpy()
    assert _bits(grads[cr]) == _bits(grads[torch])


def test_split_pieces_buffer_through_autograd_grad_and_create_graph():
    a = np.random.default_rng(6).standard_normal((4, 6)).astype(np.float32)
    results = []
    for lib in (cr, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x * 3                                  # an intermediate: the buffer feeds MulBackward
        p, q, r = y.split(2, dim=1)
        loss = (p * p).sum() + (r * -0.0).sum()    # q gets no gradient: zeros there
        gx, = lib.autograd.grad(loss, [x], retain_graph=True)
        gy, = lib.autograd.grad(loss, [y], create_graph=True)
        results.append((gx.detach().numpy(), gy.detach().numpy()))
    (gx, gy), (tgx, tgy) = results
    assert _bits(gx) == _bits(tgx)
    # recorded (create_graph), the pieces' gradients are still zeros written at each piece
    # and added up: equal values, but a −0.0 of a piece comes out +0.0 (torch: −0.0)
    np.testing.assert_array_equal(gy, tgy)


def test_a_piece_with_a_node_hook_takes_the_ordinary_path():
    # (chainrule records one node per piece: the hook sees that piece's gradient alone, in
    # zeros, where torch's one SplitBackward0 node shows the whole concatenation)
    x = cr.tensor(np.ones((2, 4), np.float32), requires_grad=True)
    p, q = x.split(2, dim=1)
    seen = []
    q.grad_fn.register_hook(lambda gi, go: seen.append(gi[0].detach().numpy().copy()))
    (p.sum() + 2 * q.sum()).backward()
    np.testing.assert_array_equal(seen[0], [[0, 0, 2, 2]] * 2)
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1, 2, 2]] * 2)


def test_split_pieces_gradient_taking_the_leaf_without_a_copy_accumulates():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = cr.tensor(a, requires_grad=True)
    for _ in range(2):
        p, q = x.split(2, dim=1)
        (p.sum() + 2 * q.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile([2, 2, 4, 4], (3, 1)))


def _skewed_index(rng, n, V):
    """Half the terms on one row, the rest spread (some rows hit many times, most a few)."""
    idx = np.concatenate([np.full(n // 2, 3), rng.integers(0, V, n - n // 2)])
    return idx[rng.permutation(n)]


ROWS_AT_INDICES = {   # (rows of the table, index): embedding-backward patterns
    "uniform": (88, lambda rng: rng.integers(0, 88, (16, 128))),
    "positions": (128, lambda rng: np.tile(np.arange(128), (16, 1))),
    "all_distinct": (3000, lambda rng: rng.permutation(3000)[:2500]),
    "one_row_1000_times": (5000, lambda rng: np.concatenate(
        [np.full(1000, 7), np.arange(1000, 3000)])[rng.permutation(3000)]),
    "skewed": (300, lambda rng: _skewed_index(rng, 4000, 300)),
    "zipf": (1000, lambda rng: rng.zipf(1.3, 4096) % 1000),
    "one_row": (4, lambda rng: np.zeros(700, np.int64)),
    "negative": (88, lambda rng: rng.integers(-88, 88, 2048)),
    "uint16_wide_table": (70000, lambda rng: rng.integers(0, 70000, 3000).astype(np.uint16)),
    "below_cutoff": (10, lambda rng: rng.integers(0, 10, 40)),
    "empty": (10, lambda rng: np.zeros((0, 3), np.int64)),
}


def _edge_gradient(rng, shape, dtype):
    """Values of all sizes, with −0.0, ±∞ (so NaN from ∞ − ∞) among them."""
    g = (rng.standard_normal(shape) * np.exp(rng.uniform(-20, 20, shape))).astype(dtype)
    g.reshape(-1)[::5] = -0.0
    g.reshape(-1)[1::97] = np.inf
    g.reshape(-1)[2::89] = -np.inf
    return g


@pytest.mark.parametrize("name", sorted(ROWS_AT_INDICES))
@pytest.mark.parametrize("dtype, D", [(np.float32, 128), (np.float64, 3), (np.float32, 2)])
def test_index_add_fast_path_is_np_add_at_bit_for_bit(name, dtype, D):
    from chainrule.ops.indexing import IndexAdd
    V, make = ROWS_AT_INDICES[name]
    rng = np.random.default_rng(3)
    idx = make(rng)
    g = _edge_gradient(rng, idx.shape + (D,), dtype)
    want = np.zeros((V, D), dtype)
    with np.errstate(invalid="ignore"):
        np.add.at(want, idx, g)
        got = IndexAdd.run(g, key=idx, shape=(V, D), basic=False)
    assert _bits(got) == _bits(want)


@pytest.mark.parametrize("name", ["uniform", "positions", "one_row_1000_times", "skewed",
                                  "all_distinct"])
def test_embedding_backward_is_torchs_bit_for_bit(name):
    V, make = ROWS_AT_INDICES[name]
    rng = np.random.default_rng(4)
    idx = make(rng).astype(np.int64)
    w = rng.standard_normal((V, 16)).astype(np.float32)
    g = _edge_gradient(rng, idx.shape + (16,), np.float32)
    grads = []
    for lib in (cr, torch):
        weight = lib.tensor(w, requires_grad=True)
        lib.nn.functional.embedding(lib.tensor(idx), weight).backward(lib.tensor(g))
        grads.append(weight.grad.numpy())
    assert _bits(grads[0]) == _bits(grads[1])
    t = torch.zeros(V, 16).index_add_(0, torch.tensor(idx.reshape(-1)),
                                      torch.tensor(g.reshape(-1, 16)))
    assert _bits(grads[0]) == _bits(t.numpy())


def test_index_add_fast_path_leaves_other_keys_and_errors_to_np_add_at():
    from chainrule.ops.indexing import IndexAdd, _add_rows_at
    g = np.ones((100, 4), np.float32)
    assert not _add_rows_at(np.zeros((5, 4), np.float16), np.zeros(100, np.int64),
                            g.astype(np.float16))                       # float16
    assert not _add_rows_at(np.zeros((5, 1), np.float32), np.zeros(100, np.int64),
                            g[:, :1])                                   # rows of one element
    assert not _add_rows_at(np.zeros((5, 4), np.float32), np.zeros(100, bool), g)  # a mask
    assert not _add_rows_at(np.zeros((5, 4, 4), np.float32),
                            (np.zeros(100, np.int64), np.zeros(100, np.int64)), g)  # two arrays
    with pytest.raises(IndexError, match="out of bounds"):
        IndexAdd.run(g, key=np.full(100, 5), shape=(5, 4), basic=False)
    with pytest.raises(IndexError, match="out of bounds"):
        IndexAdd.run(g, key=np.full(100, -6), shape=(5, 4), basic=False)
    # a 1-tuple key, and a table of more dims (rows of 2 × 2)
    idx = np.random.default_rng(0).integers(-5, 5, 100)
    want = np.zeros((5, 2, 2), np.float32)
    np.add.at(want, idx, g.reshape(100, 2, 2))
    got = IndexAdd.run(g.reshape(100, 2, 2), key=(idx,), shape=(5, 2, 2), basic=False)
    assert _bits(got) == _bits(want)


def _all_bit_patterns(shape, seed=0):
    """float32 values of random bits: NaNs with payloads (signaling too), ±∞, subnormals, ±0."""
    bits = np.random.default_rng(seed).integers(0, 2 ** 32, shape, dtype=np.uint64)
    return bits.astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("threads", [1, 2])
def test_large_products_are_numpys_bits(threads):
    before = cr.get_num_threads()
    x, y = _all_bit_patterns((4, 128, 256)), _all_bit_patterns((4, 128, 256), 1)
    try:
        cr.set_num_threads(threads)
        with np.errstate(all="ignore"):
            for c in [0.17, -0.0, np.inf, 1e-40, 3e38, -1.0, float("nan"),
                      float(np.uint32(0x7FC01234).view(np.float32))]:
                want = x * np.float32(c)
                assert _bits((cr.tensor(x) * c).numpy()) == _bits(want), c
                assert _bits((c * cr.tensor(x)).numpy()) == _bits(np.float32(c) * x), c
            assert _bits((cr.tensor(x) * cr.tensor(y)).numpy()) == _bits(x * y)
    finally:
        cr.set_num_threads(before)
    a = np.random.default_rng(2).standard_normal((256, 512)).astype(np.float32)
    assert _bits((cr.tensor(a) * 0.17).numpy()) == _bits((torch.tensor(a) * 0.17).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8"])
@pytest.mark.parametrize("value", [float("-inf"), -0.0, float("nan"), 7, 2.5, True, 2 ** 60 + 1])
def test_masked_fill_under_a_broadcast_mask_is_wheres_bits(monkeypatch, dtype, value):
    from chainrule.ops import elementwise
    calls = []
    fill_bits = elementwise._fill_bits
    monkeypatch.setattr(elementwise, "_fill_bits", lambda *a: calls.append(1) or fill_bits(*a))
    if dtype.startswith("float"):
        with np.errstate(over="ignore"):
            x = _all_bit_patterns((8, 4, 64, 64)).astype(dtype)
    else:
        x = np.random.default_rng(3).integers(0, 100, (8, 4, 64, 64)).astype(dtype)
    masks = [~np.tril(np.ones((64, 64), bool)), np.ones((1, 1, 64), bool),
             np.zeros((), bool), np.random.default_rng(5).random((4, 1, 64)) < 0.5]
    for mask in masks:
        with np.errstate(all="ignore"):
            try:
                got = cr.tensor(x).masked_fill(cr.tensor(mask), value).numpy()
            except RuntimeError:    # a value the integer dtype does not hold: torch's error
                assert dtype[0] in "iu" and not float(value).is_integer() or value == 2 ** 60 + 1
                return
            want = np.where(mask, value, x).astype(x.dtype, copy=False)
        assert _bits(got) == _bits(want), mask.shape
    # the bits path runs wherever where's result keeps x's dtype
    assert len(calls) == (0 if dtype[0] in "iu" and isinstance(value, float) else 4)


def test_masked_fill_broadcast_mask_matches_torch():
    x = np.random.default_rng(4).standard_normal((16, 4, 32, 32)).astype(np.float32)
    mask = ~np.tril(np.ones((32, 32), bool))
    got = cr.tensor(x).masked_fill(cr.tensor(mask), float("-inf"))
    want = torch.tensor(x).masked_fill(torch.tensor(mask), float("-inf"))
    assert _bits(got.numpy()) == _bits(want.numpy())


# ---------------------------------------------------------------- array kernels vs NumPy's own
def _specials(dtype, n=40000, seed=5):
    """Random values over several scales, with ±0, ±inf, NaN and subnormals among them."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.standard_normal(n // 4) * s for s in (1e-3, 1, 10, 1e3)])
    x[:9] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 88.7, -88.7]
    with np.errstate(over="ignore"):
        return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_where_by_the_bits_is_numpys_where(dtype):
    from chainrule.backends.namespace import where
    a = _specials(dtype)
    b = _specials(dtype, seed=6)
    cond = np.random.default_rng(7).random(a.shape) > 0.5
    for args in [(cond, a, b), (cond, a, 2.5), (cond, -1.0, b), (cond[:1], a, b),
                 (cond.reshape(200, 200), a.reshape(200, 200), b[:200])]:
        got, want = where(*args), np.where(*args)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_and_leaky_relu_give_the_where_formulas_bits(dtype):
    from chainrule.backends.namespace import sigmoid
    x = _specials(dtype)
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        want = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(dtype)
        np.testing.assert_array_equal(sigmoid(x).view(np.uint8), want.view(np.uint8))
        for slope in (0.01, 0.2, 1.0, 0.0, 1.5, -0.3):
            got = F.leaky_relu(cr.tensor(x), slope).numpy()
            want = np.where(x > 0, x, x * dtype(slope))
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8), err_msg=slope)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_is_logaddexp_within_three_ulp(dtype):
    from chainrule.backends.namespace import softplus
    x = _specials(dtype)
    with np.errstate(all="ignore"):
        want = np.logaddexp(dtype(0), x)
    got = softplus(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    ulp = np.spacing(np.abs(want[finite])).astype(np.float64)
    assert (np.abs(got[finite].astype(np.float64) - want[finite]) <= 3 * ulp).all()


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_through_scipy_gives_maths_float32_values(name, monkeypatch):
    """float16/float32 erf and erfc through SciPy (where installed) equal Python's math
    functions per element, rounded; without SciPy they are those functions."""
    from chainrule.ops import elementwise as ew
    fn = getattr(ew, "_" + name)
    x = _specials(np.float32)
    fast = fn(x)
    monkeypatch.setattr(ew, "_SCIPY_SPECIAL", [None])
    np.testing.assert_array_equal(fast, fn(x))
    assert fn(np.float32(0.5).reshape(())).shape == ()
