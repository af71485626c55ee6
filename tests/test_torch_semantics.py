"""torch behaviours that code ported by changing the import relies on, each checked against torch:
``out=``, NumPy's ``axis=`` / ``keepdims=``, the legacy ``size_average`` / ``reduce`` of losses,
``Variable`` and ``Tensor.new_*``, ``inference_mode``, default dtype / device and the accelerator
queries, optimizer state moving both ways, torch's advanced-indexing order, ``pow`` gradients at
a zero base, and the exception types of a table of misuses."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops import _OUT_OPS
from test_misuse import C, F, _equal, _normalise, _run

RNG = np.random.default_rng(0)


def _both(fn, *arrays):
    """fn(lib, *tensors) for torch and chainrule on the same arrays."""
    return (fn(torch, *[torch.tensor(a) for a in arrays]),
            fn(cr, *[cr.tensor(a) for a in arrays]))


def _np(t):
    return np.asarray(t.detach().numpy())


# ============================================================================ 1. out=
_BOOL_RESULT = {"eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal",
                "less_equal", "not_equal", "isneginf", "isposinf", "all", "any"}
_IN_UNIT = {"erfinv", "acos", "asin", "arccos", "arcsin", "atanh", "arctanh"}
_ARGS = {   # (lib, a) -> positional arguments, a being a (3, 3) float tensor in [0.5, 1.5)
    "cat": lambda L, a: ([a, a],), "concat": lambda L, a: ([a, a], 1), "stack": lambda L, a: ([a, a],),
    "where": lambda L, a: (a > 1, a, -a),
    "gather": lambda L, a: (a, 1, L.tensor([[0, 2], [1, 1], [2, 0]])),
    "index_select": lambda L, a: (a, 1, L.tensor([2, 0])),
    "dot": lambda L, a: (a[0], a[1]), "outer": lambda L, a: (a[0], a[1]),
    "ger": lambda L, a: (a[0], a[1]), "mv": lambda L, a: (a, a[0]),
    "addmm": lambda L, a: (a, a, a.T), "bmm": lambda L, a: (a[None], a[None]),
    "lerp": lambda L, a: (a, a.flip(0), 0.3),
    "clamp": lambda L, a: (a, 0.7, 1.2), "clip": lambda L, a: (a, 0.7),
    "pow": lambda L, a: (a, 2.5), "tril": lambda L, a: (a,), "triu": lambda L, a: (a, 1),
    "max": lambda L, a: (a,), "min": lambda L, a: (a,),
    "concatenate": lambda L, a: ([a, a],), "matrix_power": lambda L, a: (a, 3),
    "quantile": lambda L, a: (a, 0.3, 1), "nanquantile": lambda L, a: (a, 0.3, 1),
    "renorm": lambda L, a: (a, 2, 0, 1.0), "erfc": lambda L, a: (a,),
    "gcd": lambda L, a: ((a * 10).long(), (a * 7).long()),
    "lcm": lambda L, a: ((a * 10).long(), (a * 7).long()),
}
_DIM_ARG = {"cumsum", "cumprod", "logcumsumexp", "logsumexp", "argmax", "argmin", "mean", "std",
            "var", "amax", "amin", "sum", "prod"}
_UNARY = {"abs", "absolute", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
          "arctanh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "erf", "erfinv",
          "exp", "exp2", "expm1", "fix", "floor", "frac", "isneginf", "isposinf", "log", "log10",
          "log1p", "log2", "neg", "negative", "round", "rsqrt", "sigmoid", "sign", "sin", "sinh",
          "sqrt", "square", "tan", "tanh", "trunc", "all", "any", "i0"}


def _out_args(name, lib, x):
    a = lib.tensor(x * 0.5 if name in _IN_UNIT else (x + 0.6 if "acosh" in name else x))
    if name.startswith(("bitwise", "logical")):
        b = lib.tensor(x > 1)
        return (b,) if name.endswith("not") else (b, lib.tensor(x < 1.2))
    if name in _ARGS:
        return _ARGS[name](lib, a)
    if name in _DIM_ARG:
        return (a, 1)
    if name in _UNARY:
        return (a,)
    return (a, lib.tensor(x.T.copy()))


@pytest.mark.parametrize("name", _OUT_OPS)
def test_out_writes_torch_values_into_the_given_tensor(name):
    x = (RNG.random((3, 3)) + 0.5).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch.ger's deprecation
        expected = getattr(torch, name)(*_out_args(name, torch, x))
    out = cr.empty(0, dtype=str(expected.dtype).split(".")[1])
    got = getattr(cr, name)(*_out_args(name, cr, x), out=out)
    assert got is out
    assert tuple(out.shape) == tuple(expected.shape) and str(out.dtype) == str(expected.dtype).replace("torch", "chainrule")
    np.testing.assert_allclose(_np(out), expected.numpy(), rtol=2e-6, atol=1e-6)


def test_out_resizes_like_torch_with_its_warning():
    a = np.ones((2, 3), np.float32)
    msgs = {}
    for lib in (torch, cr):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            empty, wrong = lib.empty(0), lib.zeros(5)
            lib.add(lib.tensor(a), 1, out=empty)
            assert not caught                     # an empty out is resized silently
            lib.add(lib.tensor(a), 1, out=wrong)
        assert tuple(empty.shape) == tuple(wrong.shape) == (2, 3)
        assert float(wrong.sum()) == 12.0
        msgs[lib] = [str(w.message).split(" (Triggered internally")[0] for w in caught
                     if issubclass(w.category, UserWarning)]
    assert msgs[cr] == msgs[torch] and len(msgs[cr]) == 1


def test_out_same_shape_writes_in_place_so_views_see_it():
    out = cr.zeros(2, 3)
    row = out[0]
    cr.mul(cr.ones(2, 3), 4.0, out=out)
    assert row.tolist() == [4.0, 4.0, 4.0]
    assert out._version == 1


def test_out_casts_within_a_kind_and_refuses_float_into_int_like_torch():
    for lib in (torch, cr):
        out = lib.zeros(2, dtype=lib.float64)
        lib.add(lib.ones(2), 1, out=out)
        assert out.dtype == lib.float64 and out.tolist() == [2.0, 2.0]
        eq = lib.zeros(2)
        lib.eq(lib.ones(2), 1, out=eq)      # bool into float: allowed
        assert eq.tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
            lib.add(lib.ones(2), 1, out=lib.zeros(2, dtype=lib.int64))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
        cr.add(cr.ones(2), 1, out=[1])


def test_out_refuses_autograd_like_torch():
    msg = "functions with out=... arguments don't support automatic differentiation"
    for lib in (torch, cr):
        with pytest.raises(RuntimeError, match=msg):
            lib.add(lib.ones(2), 1, out=lib.zeros(2, requires_grad=True))
        with pytest.raises(RuntimeError, match=msg):
            lib.mul(lib.ones(2, requires_grad=True), 2, out=lib.zeros(2))
        with pytest.raises(RuntimeError, match=msg):
            lib.cat([lib.ones(2, requires_grad=True)], out=lib.zeros(2))
        with lib.no_grad():                   # outside grad mode it is a plain write
            out = lib.zeros(2, requires_grad=True)
            lib.add(lib.ones(2, requires_grad=True), 1, out=out)
        assert out.tolist() == [2.0, 2.0] and out.grad_fn is None


def test_max_min_with_dim_take_a_values_indices_out_pair():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    for op in ("max", "min"):
        t = getattr(torch, op)(torch.tensor(x), 1, out=(torch.empty(0), torch.empty(0, dtype=torch.long)))
        vals, idx = cr.empty(0), cr.empty(0, dtype=cr.int64)
        c = getattr(cr, op)(cr.tensor(x), 1, keepdim=True, out=(vals, idx))
        assert c.values is vals and c.indices is idx and c[0] is vals
        np.testing.assert_array_equal(_np(vals)[:, 0], t.values.numpy())
        np.testing.assert_array_equal(_np(idx)[:, 0], t.indices.numpy())
    for lib in (torch, cr):
        with pytest.raises(RuntimeError, match="Expected out tensor to have dtype"):
            lib.max(lib.tensor(x), 1, out=(lib.empty(0), lib.empty(0)))


def test_methods_take_no_out_as_in_torch():
    for lib in (torch, cr):
        with pytest.raises(TypeError):
            lib.ones(2).add(1, out=lib.zeros(2))


@pytest.mark.parametrize("make", [
    lambda lib, out: lib.zeros(2, 3, out=out), lambda lib, out: lib.ones((2, 2), out=out),
    lambda lib, out: lib.full((3,), 7, out=out), lambda lib, out: lib.arange(5, out=out),
    lambda lib, out: lib.arange(1, 7, 2, out=out), lambda lib, out: lib.empty(2, out=out).fill_(1),
    lambda lib, out: lib.eye(3, out=out), lambda lib, out: lib.linspace(0, 1, 5, out=out),
], ids=["zeros", "ones", "full", "arange", "arange-step", "empty", "eye", "linspace"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_creation_out_takes_outs_dtype(make, dtype):
    t_out, c_out = torch.empty(0, dtype=getattr(torch, dtype)), cr.empty(0, dtype=dtype)
    t, c = make(torch, t_out), make(cr, c_out)
    assert c is c_out
    assert str(c.dtype).split(".")[1] == str(t.dtype).split(".")[1] == dtype
    np.testing.assert_array_equal(_np(c), t.numpy())


@pytest.mark.parametrize("fn", ["rand", "randn"])
def test_random_creation_out_draws_torchs_numbers(fn):
    for dtype in ("float32", "float64"):
        torch.manual_seed(3)
        cr.manual_seed(3)
        t = getattr(torch, fn)(2, 3, out=torch.empty(0, dtype=getattr(torch, dtype)))
        c = getattr(cr, fn)(2, 3, out=cr.empty(0, dtype=dtype))
        assert str(c.dtype) == f"chainrule.{dtype}"
        np.testing.assert_allclose(_np(c), t.numpy(), rtol=1e-6)


def test_creation_out_with_another_dtype_raises_like_torch():
    for lib in (torch, cr):
        with pytest.raises(RuntimeError, match="does not match dtype of out parameter"):
            lib.zeros(2, dtype=lib.float64, out=lib.empty(2, dtype=lib.int64))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.zeros(2, out=lib.empty(2, requires_grad=True))


# ============================================================================ 2. axis= / keepdims=
_REDUCTIONS = ["sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var", "any", "all",
               "argmax", "argmin", "logsumexp", "cumsum", "cumprod", "logcumsumexp",
               "count_nonzero"]


@pytest.mark.parametrize("name", _REDUCTIONS)
def test_numpy_axis_and_keepdims_spellings(name):
    x = (RNG.random((3, 4)) + 0.1).astype(np.float32)
    keep = name not in ("cumsum", "cumprod", "logcumsumexp", "count_nonzero")
    kwargs = [dict(axis=1), dict(axis=-2)] + ([dict(axis=0, keepdims=True),
                                                dict(dim=1, keepdims=True)] if keep else [])
    for kw in kwargs:
        for call in (lambda lib, a: getattr(lib, name)(a, **kw),
                     lambda lib, a: getattr(a, name)(**kw)):
            t, c = _both(call, x)
            _equal(_normalise(t), _normalise(c))
    for lib in (torch, cr):
        with pytest.raises(TypeError):
            getattr(lib, name)(lib.tensor(x), dim=1, axis=1)


def test_keepdims_positional_dim():
    t, c = _both(lambda lib, a: lib.sum(a, 1, keepdims=True), np.ones((2, 3), np.float32))
    assert tuple(c.shape) == tuple(t.shape) == (2, 1)


# ============================================================================ 3. legacy loss flags
def _loss_inputs(lib):
    g = np.random.default_rng(1)
    x = g.random((4, 3)).astype(np.float32) * 0.8 + 0.1
    y = g.random((4, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2])
    return lib.tensor(x), lib.tensor(y), lib.tensor(labels)


_LOSSES = {   # name: (functional call, module)
    "mse_loss": (lambda F, x, y, k, kw: F.mse_loss(x, y, **kw), "MSELoss"),
    "l1_loss": (lambda F, x, y, k, kw: F.l1_loss(x, y, **kw), "L1Loss"),
    "smooth_l1_loss": (lambda F, x, y, k, kw: F.smooth_l1_loss(x, y, **kw), "SmoothL1Loss"),
    "binary_cross_entropy": (lambda F, x, y, k, kw: F.binary_cross_entropy(x, y, **kw), "BCELoss"),
    "binary_cross_entropy_with_logits": (
        lambda F, x, y, k, kw: F.binary_cross_entropy_with_logits(x, y, **kw), "BCEWithLogitsLoss"),
    "cross_entropy": (lambda F, x, y, k, kw: F.cross_entropy(x, k, **kw), "CrossEntropyLoss"),
    "nll_loss": (lambda F, x, y, k, kw: F.nll_loss(x.log(), k, **kw), "NLLLoss"),
    "kl_div": (lambda F, x, y, k, kw: F.kl_div(x.log(), y, **kw), "KLDivLoss"),
    "poisson_nll_loss": (lambda F, x, y, k, kw: F.poisson_nll_loss(x, y, **kw), "PoissonNLLLoss"),
}
_FLAGS = [dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True),
          dict(size_average=False, reduce=True), dict(reduce=False, reduction="sum"),
          dict(size_average=None, reduce=None, reduction="sum")]


@pytest.mark.parametrize("flags", _FLAGS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
@pytest.mark.parametrize("name", list(_LOSSES))
def test_legacy_size_average_and_reduce_map_to_reduction_as_torch(name, flags):
    call, module = _LOSSES[name]
    for kind in ("functional", "module"):
        results = {}
        for lib in (torch, cr):
            x, y, k = _loss_inputs(lib)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if kind == "functional":
                    value = call(lib.nn.functional, x, y, k, flags)
                else:
                    mod = getattr(lib.nn, module)(**flags)
                    value = call(_ModuleAsF(mod), x, y, k, {})
            results[lib] = (value, [str(w.message) for w in caught
                                    if "size_average" in str(w.message)])
        (t, t_warn), (c, c_warn) = results[torch], results[cr]
        assert c_warn == t_warn, kind
        np.testing.assert_allclose(_np(c), t.detach().numpy(), rtol=1e-5, err_msg=kind)
    if flags.get("size_average") is not None or flags.get("reduce") is not None:
        assert t_warn
    else:
        assert not t_warn


class _ModuleAsF:
    """A loss module standing in for the functional namespace in the table's calls."""

    def __init__(self, mod):
        self.mod = mod

    def __getattr__(self, name):
        return lambda *args, **kw: self.mod(*args)


def test_legacy_get_string_is_torchs():
    from chainrule.nn.functional.loss import legacy_get_string
    from torch.nn._reduction import legacy_get_string as torch_get
    for sa in (None, True, False):
        for red in (None, True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert legacy_get_string(sa, red) == torch_get(sa, red)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy_get_string(False, None, emit_warning=False)
    assert not caught


# ============================================================================ 4. Variable, new_*, inference_mode
def test_variable_returns_a_detached_tensor_as_torch():
    from chainrule.autograd import Variable
    for lib, V in ((torch, torch.autograd.Variable), (cr, Variable)):
        x = lib.ones(2) * 3
        v = V(x, requires_grad=True)
        assert type(v) is lib.Tensor and v.requires_grad and v.is_leaf and v is not x
        (v * v).sum().backward()
        assert v.grad.tolist() == [6.0, 6.0]
        assert not V(x).requires_grad and isinstance(x, V)
        y = lib.ones(2, requires_grad=True) * 2
        assert V(y).grad_fn is None
        with pytest.raises(TypeError, match="Variable data has to be a tensor"):
            V([1.0])
        with pytest.raises(RuntimeError):
            V(lib.ones(2, dtype=lib.int64), requires_grad=True)
    shared = cr.zeros(2)
    Variable(shared)[0] = 5.0            # shares memory, as torch's
    assert shared.tolist() == [5.0, 0.0]


@pytest.mark.parametrize("src_dtype", ["float64", "int64", "float32"])
def test_new_tensor_family_inherits_dtype(src_dtype):
    calls = [
        lambda s: s.new_tensor([1, 2]), lambda s: s.new_tensor([1.5, 2.5]),
        lambda s: s.new_tensor(3.0, dtype=cr.float32 if isinstance(s, cr.Tensor) else torch.float32),
        lambda s: s.new_zeros(2, 3), lambda s: s.new_zeros((2, 3)),
        lambda s: s.new_ones([4]), lambda s: s.new_full((2,), 3),
        lambda s: s.new_full([2, 1], 2.5), lambda s: s.new_empty(2, 0).shape,
        lambda s: s.new_zeros(2, dtype=cr.int32 if isinstance(s, cr.Tensor) else torch.int32),
    ]
    for call in calls:
        t = call(torch.ones(3, dtype=getattr(torch, src_dtype)))
        c = call(cr.ones(3, dtype=src_dtype))
        _equal(_normalise(t), _normalise(c))


def test_new_tensor_requires_grad_and_warns_on_a_tensor():
    s = cr.ones(2)
    z = s.new_zeros(2, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    with pytest.warns(UserWarning, match="recommended to use sourceTensor.detach"):
        n = s.new_tensor(cr.tensor([1.0, 2.0]))
    assert n.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        s.new_zeros(2, device="cuda")


def test_inference_mode_as_torch():
    for lib in (torch, cr):
        assert not lib.is_inference_mode_enabled()
        w = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
            x = lib.ones(2) * 2
            y = w * 3
            assert x.is_inference() and y.grad_fn is None and not y.requires_grad
            with lib.inference_mode(False):
                assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
                assert not lib.ones(1).is_inference()
        assert lib.is_grad_enabled() and not lib.ones(1).is_inference()
        with lib.no_grad(), lib.inference_mode(False):
            assert lib.is_grad_enabled()              # torch turns grad mode on here
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            w * x
        with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
            x.requires_grad_()
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside"):
            x.add_(1)
        (w * x.clone()).sum().backward()          # a clone is a normal tensor
        assert w.grad.tolist() == x.tolist()


@pytest.mark.parametrize("op", [
    lambda lib, w, x: w + x, lambda lib, w, x: w - x, lambda lib, w, x: lib.cat([w, x]),
    lambda lib, w, x: w * x, lambda lib, w, x: w @ x, lambda lib, w, x: w / x,
    lambda lib, w, x: x.sum() * w, lambda lib, w, x: lib.exp(x) + w,
], ids=["add", "sub", "cat", "mul", "matmul", "div", "sum-then-mul", "exp-then-add"])
def test_inference_tensors_are_refused_where_torch_refuses_them(op):
    raised = {}
    for lib in (torch, cr):
        w = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            x = lib.ones(2) * 2
        try:
            op(lib, w, x)
            raised[lib] = False
        except RuntimeError as e:
            assert "Inference tensors cannot be saved for backward" in str(e)
            raised[lib] = True
    assert raised[cr] == raised[torch]


def test_inference_mode_as_decorator():
    for lib in (torch, cr):
        @lib.inference_mode()
        def called():
            return lib.is_inference_mode_enabled(), lib.is_grad_enabled()

        @lib.inference_mode
        def bare():
            return lib.is_inference_mode_enabled()

        @lib.inference_mode(False)
        def off():
            return lib.is_inference_mode_enabled()

        assert called() == (True, False) and bare() is True
        with lib.inference_mode():
            assert off() is False
        assert not lib.is_inference_mode_enabled()


# ============================================================================ 5. defaults, accelerator
def test_accelerator_queries():
    assert cr.accelerator.is_available() is False
    assert cr.accelerator.current_accelerator() is None
    assert cr.accelerator.device_count() == 0


def test_set_default_device_cpu_only():
    cr.set_default_device("cpu")
    cr.set_default_device(cr.device("cpu"))
    cr.set_default_device(None)
    assert cr.get_default_device() == cr.device("cpu")
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        cr.set_default_device("cuda")


@pytest.fixture
def restore_default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    cr.set_default_dtype(cr.float32)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_default_dtype_drives_creation_and_python_floats(dtype, restore_default_dtype):
    torch.set_default_dtype(getattr(torch, dtype))
    cr.set_default_dtype(getattr(cr, dtype))
    assert str(cr.get_default_dtype()) == f"chainrule.{dtype}"
    for call in (lambda lib: lib.tensor(1.5), lambda lib: lib.tensor([1.0, 2.0]),
                 lambda lib: lib.zeros(2), lambda lib: lib.ones(2, 2), lambda lib: lib.rand(2),
                 lambda lib: lib.randn(2), lambda lib: lib.full((2,), 1.5),
                 lambda lib: lib.arange(0.0, 2.0), lambda lib: lib.linspace(0, 1, 3),
                 lambda lib: lib.tensor([1, 2]) * 1.5, lambda lib: lib.tensor([1, 2]).sqrt(),
                 lambda lib: lib.tensor([1, 2]) / 2, lambda lib: lib.tensor(1),
                 lambda lib: lib.ones(2, dtype=lib.float32) * 2.5):
        assert str(call(cr).dtype).split(".")[1] == str(call(torch).dtype).split(".")[1]


def test_python_types_as_dtypes():
    for lib in (torch, cr):
        assert lib.ones(2, dtype=float).dtype == lib.float64
        assert lib.ones(2).to(float).dtype == lib.float64
        assert lib.ones(2, dtype=int).dtype == lib.int64
        assert lib.zeros(2, dtype=bool).dtype == lib.bool


def test_set_default_dtype_refuses_integers(restore_default_dtype):
    for lib in (torch, cr):
        with pytest.raises(TypeError):
            lib.set_default_dtype(lib.int64)


# ============================================================================ 6. optimizer state
def _train(lib, model, opt, steps):
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    y = lib.tensor(np.linspace(0, 1, 8, dtype=np.float32).reshape(4, 2))
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("opt_name,kwargs", [
    ("Adam", dict(lr=0.05)), ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05)), ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("RMSprop", dict(lr=0.01, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)), ("Adamax", dict(lr=0.05)), ("NAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05)), ("Adadelta", dict(lr=0.5)), ("ASGD", dict(lr=0.05)),
], ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={x}" for k, x in v.items()))
@pytest.mark.parametrize("direction", ["torch-to-chainrule", "chainrule-to-torch"])
def test_optimizer_state_moves_between_torch_and_chainrule(opt_name, kwargs, direction):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    cm = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 2))
    cm.load_state_dict(tm.state_dict())
    t_opt = getattr(torch.optim, opt_name)(tm.parameters(), **kwargs)
    c_opt = getattr(cr.optim, opt_name)(cm.parameters(), **kwargs)
    if direction == "torch-to-chainrule":
        _train(torch, tm, t_opt, 3)
        cm.load_state_dict(tm.state_dict())
        c_opt.load_state_dict(t_opt.state_dict())
    else:
        _train(cr, cm, c_opt, 3)
        tm.load_state_dict(cr.utils.to_torch(cm.state_dict()))
        t_opt.load_state_dict(cr.utils.to_torch(c_opt.state_dict()))
        if opt_name != "SGD":
            step = t_opt.state_dict()["state"][0]["step"]
            assert isinstance(step, torch.Tensor) and step.dtype == torch.float32 and step.ndim == 0
    _train(torch, tm, t_opt, 3)
    _train(cr, cm, c_opt, 3)
    for (k, t), c in zip(tm.state_dict().items(), cm.state_dict().values()):
        np.testing.assert_allclose(_np(c), t.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_to_torch_converts_nested_containers():
    from collections import OrderedDict
    obj = OrderedDict(a=cr.ones(2, dtype=cr.float64), b=[cr.tensor(3), (cr.zeros(1), "x")],
                      c={"d": 1.5, "e": cr.ones(1, requires_grad=True)})
    out = cr.utils.to_torch(obj)
    assert type(out) is OrderedDict
    assert out["a"].dtype == torch.float64 and out["b"][0].dtype == torch.int64
    assert isinstance(out["b"][1], tuple) and out["b"][1][1] == "x" and out["c"]["d"] == 1.5
    assert out["c"]["e"].requires_grad
    out["a"][0] = 7.0
    assert obj["a"].tolist() == [1.0, 1.0]          # a copy


# ============================================================================ 7a. indexing order
_KEYS = {
    "0,:,t": lambda L: (0, slice(None), L.tensor([0, 1])),
    "t,:,0": lambda L: (L.tensor([0, 1]), slice(None), 0),
    "0,t": lambda L: (0, L.tensor([0, 2])),
    ":,0,:,t": lambda L: (slice(None), 0, slice(None), L.tensor([0, 1])),
    "0,:,:,t": lambda L: (0, slice(None), slice(None), L.tensor([0, 1])),
    "t,:,t": lambda L: (L.tensor([0, 1]), slice(None), L.tensor([1, 0])),
    "0,t,0": lambda L: (0, L.tensor([0, 1]), 0),
    "...,0,t": lambda L: (Ellipsis, 0, L.tensor([0, 1])),
    "0,...,t": lambda L: (0, Ellipsis, L.tensor([0, 1])),
    "0,None,t": lambda L: (0, None, L.tensor([0, 1])),
    ":,t,:,0": lambda L: (slice(None), L.tensor([0, 1]), slice(None), 0),
    "t2d,:,0": lambda L: (L.tensor([[0, 1], [1, 0]]), slice(None), 0),
    "0,1:,t": lambda L: (0, slice(1, None), L.tensor([0, 1])),
    "mask,:,0": lambda L: (L.tensor([True, False]), slice(None), 0),
    "0,:,mask2d": lambda L: (0, slice(None), L.tensor([[True, False] * 2 + [False]] * 4)),
    "0,:,list": lambda L: (0, slice(None), [0, 1]),
    "0,:,t0d": lambda L: (0, slice(None), L.tensor(1)),
    "t0d,:,t": lambda L: (L.tensor(1), slice(None), L.tensor([0, 1])),
    "0,:,0,t": lambda L: (0, slice(None), 0, L.tensor([0, 1])),
    ":,0,t": lambda L: (slice(None), 0, L.tensor([0, 1])),
    "0,t,:,0": lambda L: (0, L.tensor([0, 1]), slice(None), 0),
    "-1,:,t,1": lambda L: (-1, slice(None), L.tensor([3, 0, 3]), 1),
    "t": lambda L: L.tensor([1, 0, 1]),
    "0,1": lambda L: (0, 1),
    # a list holding tensors, sequences, slices, None or ... is read as a tuple (torch 2.13's
    # legacy rule, with its deprecation warning); a list of ints or bools is one index
    "[t,t]": lambda L: [L.tensor([0, 1]), L.tensor([2, 0])],
    "[[0,1],[1,2]]": lambda L: [[0, 1], [1, 2]],
    "[[0,1]]": lambda L: [[0, 1]],
    "[0,:]": lambda L: [0, slice(None)],
    "[None,0]": lambda L: [None, 0],
    "[...,1]": lambda L: [Ellipsis, 1],
    "[t0d,t0d]": lambda L: [L.tensor(1), L.tensor(2)],
    "[0,True]": lambda L: [0, True],
    "[1,0,1]": lambda L: [1, 0, 1],
    "32 lists": lambda L: [[0, 1]] * 32,
}
_X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)


@pytest.mark.filterwarnings("ignore:.*(non-tuple sequence|indexing with a list)")
@pytest.mark.parametrize("name", list(_KEYS))
def test_getitem_follows_torchs_index_order(name):
    t = torch.tensor(_X, dtype=torch.float64, requires_grad=True)
    c = cr.tensor(_X, dtype=cr.float64, requires_grad=True)
    ty, cy = t[_KEYS[name](torch)], c[_KEYS[name](cr)]
    assert tuple(cy.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(_np(cy), ty.detach().numpy())
    w = np.random.default_rng(2).standard_normal(tuple(ty.shape))
    (ty * torch.tensor(w)).sum().backward()
    (cy * cr.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(c.grad), t.grad.numpy())


@pytest.mark.filterwarnings("ignore:.*(non-tuple sequence|indexing with a list)")
# (not "32 lists": its index repeats positions, and which repeated write wins is unspecified)
@pytest.mark.parametrize("name", [name for name in _KEYS if name != "32 lists"])
def test_setitem_follows_torchs_index_order(name):
    t, c = torch.tensor(_X), cr.tensor(_X)
    shape = tuple(t[_KEYS[name](torch)].shape)
    value = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) + 1000
    t[_KEYS[name](torch)] = torch.tensor(value)
    c[_KEYS[name](cr)] = cr.tensor(value)
    np.testing.assert_array_equal(_np(c), t.numpy())
    t[_KEYS[name](torch)] = -1.0
    c[_KEYS[name](cr)] = -1.0
    np.testing.assert_array_equal(_np(c), t.numpy())


def test_a_list_read_as_a_tuple_warns_as_torch():
    x = cr.zeros(2, 3)
    with pytest.warns(UserWarning, match="x\\[tuple\\(seq\\)\\]"):
        x[[0, slice(None)]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x[[0, 1]]        # one index array: no warning


def test_the_brief_example():
    assert tuple(cr.zeros(2, 3, 4)[0, :, cr.tensor([0, 1])].shape) == (3, 2)


# ============================================================================ 7b. pow at a zero base
def _grads(lib, fn, arrays):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    first = lib.autograd.grad(fn(*xs).sum(), xs, create_graph=True)
    total = sum(g.sum() for g in first)
    second = (lib.autograd.grad(total, xs, allow_unused=True) if total.requires_grad
              else [None] * len(xs))
    second = [np.zeros_like(a) if g is None else _np(g) for g, a in zip(second, arrays)]
    return [_np(g) for g in first], second


def _same_where_torch_is_a_number(t, c, what):
    """Equal where torch's value is not NaN (inf included); chainrule may be finite where torch's
    own double backward gives NaN (0·∞ in its formula), never NaN where torch is not."""
    known = ~np.isnan(t)
    np.testing.assert_array_equal(np.isnan(c[known]), False, err_msg=what)
    np.testing.assert_allclose(c[known], t[known], rtol=1e-10, err_msg=what)


_BASES = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -2.0, 0.5, 0.0])
_EXPONENTS = np.array([0.0, 1.0, 2.0, -1.0, 0.5, 0.0, 3.0, 0.5, -2.5])


@pytest.mark.parametrize("case", [
    *[(f"x**{c}", (lambda c: lambda x: x ** c)(c), [np.array([0.0, 1.0, -2.0, 0.5])])
      for c in (0, 1, 2, 3, 0.5, 1.5, -1, -0.5, 2.5)],
    *[(f"{c}**x", (lambda c: lambda x: c ** x)(c), [np.array([0.0, 1.0, -2.0, 0.5, 2.0])])
      for c in (0.0, 0, 2.0, 0.5)],
    ("a**b", lambda a, b: a ** b, [_BASES, _EXPONENTS]),
    ("pow(a, b)", lambda a, b: a.pow(b), [_BASES[:5], _EXPONENTS[:5]]),
], ids=lambda case: case[0])
def test_pow_gradients_at_zero_base_match_torch(case):
    name, fn, arrays = case
    (t1, t2), (c1, c2) = _grads(torch, fn, arrays), _grads(cr, fn, arrays)
    for i in range(len(arrays)):
        np.testing.assert_allclose(c1[i], t1[i], rtol=1e-10, equal_nan=True,
                                   err_msg=f"{name} first derivative, input {i}")
        _same_where_torch_is_a_number(t2[i], c2[i], f"{name} second derivative, input {i}")


def test_zero_to_the_zero_has_zero_gradient():
    for lib in (torch, cr):
        a = lib.zeros(1, dtype=lib.float64, requires_grad=True)
        b = lib.zeros(1, dtype=lib.float64, requires_grad=True)
        (a ** b).sum().backward()
        assert a.grad.tolist() == [0.0] and b.grad.tolist() == [0.0]


# ============================================================================ 7c-e. misuse types
def _set_grad(lib, value):
    x = lib.ones(2, requires_grad=True)
    x.grad = value(lib) if callable(value) else value


MISUSES = [
    # wrong dtypes
    C("dtype", "matmul int by float", lambda lib: lib.matmul(lib.ones(2, 2, dtype=lib.int64), lib.ones(2, 2)), "int64"),
    C("dtype", "mm float64 by float32", lambda lib: lib.mm(lib.ones(2, 2, dtype=lib.float64), lib.ones(2, 2)), "same dtype"),
    C("dtype", "bmm mixed", lambda lib: lib.bmm(lib.ones(1, 2, 2, dtype=lib.float64), lib.ones(1, 2, 2)), "same dtype"),
    C("dtype", "mean of int", lambda lib: lib.ones(3, dtype=lib.int64).mean(), "mean"),
    C("dtype", "std of int", lambda lib: lib.ones(3, dtype=lib.int64).std(), "std"),
    C("dtype", "index_select float index", lambda lib: lib.index_select(lib.ones(3), 0, lib.tensor([0.0])), "integer"),
    C("dtype", "index_select 2-d index", lambda lib: lib.index_select(lib.ones(3), 0, lib.tensor([[0]])), "1-d"),
    C("dtype", "index_select list index", lambda lib: lib.index_select(lib.ones(3), 0, [0]), "list"),
    C("dtype", "gather float index", lambda lib: lib.gather(lib.ones(2, 2), 1, lib.tensor([[0.0]])), "integer"),
    C("dtype", "gather list index", lambda lib: lib.gather(lib.ones(2, 2), 1, [[0]]), "list"),
    C("dtype", "where float condition", lambda lib: lib.where(lib.ones(2), lib.ones(2), lib.zeros(2)), "bool"),
    C("dtype", "masked_fill float mask", lambda lib: lib.ones(2).masked_fill(lib.ones(2), 0.0), "bool"),
    C("dtype", "bitwise_and floats", lambda lib: lib.bitwise_and(lib.ones(2), lib.ones(2)), "integer"),
    C("dtype", "int to a negative power", lambda lib: lib.tensor([2]) ** -1, "negative"),
    C("dtype", "requires_grad on int", lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(), "floating point"),
    # wrong shapes
    C("shape", "mm of 3-d", lambda lib: lib.mm(lib.ones(2, 2, 2), lib.ones(2, 2)), "mm"),
    C("shape", "mm mismatch", lambda lib: lib.mm(lib.ones(2, 3), lib.ones(2, 3)), "not aligned"),
    C("shape", "bmm of 2-d", lambda lib: lib.bmm(lib.ones(2, 2), lib.ones(2, 2)), "bmm"),
    C("shape", "bmm batch mismatch", lambda lib: lib.bmm(lib.ones(2, 2, 2), lib.ones(3, 2, 2)), "bmm"),
    C("shape", "dot of 2-d", lambda lib: lib.dot(lib.ones(2, 2), lib.ones(2, 2)), "dot"),
    C("shape", "dot lengths", lambda lib: lib.dot(lib.ones(2), lib.ones(3)), "not aligned"),
    C("shape", "mv mismatch", lambda lib: lib.mv(lib.ones(2, 3), lib.ones(2)), "not aligned"),
    C("shape", "cat rank mismatch", lambda lib: lib.cat([lib.ones(2, 2), lib.ones(2)]), "cat"),
    C("shape", "stack shapes", lambda lib: lib.stack([lib.ones(2), lib.ones(3)]), "stack"),
    C("shape", "stack of nothing", lambda lib: lib.stack([]), "non-empty"),
    C("shape", "cat of nothing", lambda lib: lib.cat([]), "non-empty"),
    C("shape", "cat of a tensor", lambda lib: lib.cat(lib.ones(2)), "sequence"),
    C("shape", "view incompatible", lambda lib: lib.ones(2, 3).view(4), "invalid for input of size 6"),
    C("shape", "reshape two -1", lambda lib: lib.ones(6).reshape(-1, -1), "reshape"),
    C("shape", "expand smaller", lambda lib: lib.ones(3).expand(2), "expand"),
    C("shape", "permute repeated", lambda lib: lib.ones(2, 3).permute(0, 0), "permute"),
    C("shape", "transpose out of range", lambda lib: lib.ones(2, 3).transpose(0, 2), "range"),
    C("shape", "broadcast fails", lambda lib: lib.ones(2, 3) + lib.ones(4), "4"),
    C("shape", "narrow past the end", lambda lib: lib.ones(3).narrow(0, 2, 2), "exceeds"),
    C("shape", "narrow negative length", lambda lib: lib.ones(3).narrow(0, 0, -1), "non-negative"),
    C("shape", "narrow start out of range", lambda lib: lib.ones(3).narrow(0, -5, 1), "start"),
    C("shape", "mask shape", lambda lib: lib.ones(3)[lib.tensor([True, False])], "boolean index"),
    C("shape", "too many indices", lambda lib: lib.ones(3)[0, 0], "indices"),
    # wrong argument types and values
    C("args", "reshape by floats", lambda lib: lib.ones(4).reshape((2.0, 2)), "float"),
    C("args", "permute by floats", lambda lib: lib.ones(2, 2).permute((1.0, 0)), "float"),
    C("args", "ones of a float size", lambda lib: lib.ones(2.5), "size"),
    C("args", "add a string", lambda lib: lib.ones(2) + "a", "str"),
    C("args", "mul by None", lambda lib: lib.ones(2) * None, "None"),
    C("args", "clamp without bounds", lambda lib: lib.clamp(lib.ones(2)), "clamp"),
    C("args", "tensor of strings", lambda lib: lib.tensor(["a"]), "tensor"),
    C("args", "tensor ragged", lambda lib: lib.tensor([[1, 2], [3]]), "tensor"),
    C("args", "tensor of an object", lambda lib: lib.tensor(object()), "tensor"),
    C("args", "div rounding_mode", lambda lib: lib.div(lib.ones(2), 2, rounding_mode="bad"), "rounding_mode"),
    C("args", "gather negative index", lambda lib: lib.gather(lib.ones(2, 3), 1, lib.tensor([[-1]])), "out of bounds"),
    C("args", "gather index too large", lambda lib: lib.gather(lib.ones(2, 3), 1, lib.tensor([[3]])), "out of bounds"),
    C("args", "scatter_add negative index", lambda lib: lib.zeros(2, 3).scatter_add(1, lib.tensor([[-1]]), lib.ones(1, 1)), "out of bounds"),
    C("args", "dropout p > 1", lambda lib: F(lib).dropout(lib.ones(2), p=1.5), "dropout"),
    C("args", "item of many", lambda lib: lib.ones(2).item(), "item"),
    C("args", "backward of non-scalar", lambda lib: lib.ones(2, requires_grad=True).mul(2).backward(), "grad"),
    C("args", "grad set to a list", lambda lib: _set_grad(lib, [1.0, 2.0]), "list"),
    C("args", "grad set to an ndarray", lambda lib: _set_grad(lib, np.ones(2, np.float32)), "ndarray"),
    C("args", "grad set to a float", lambda lib: _set_grad(lib, 1.0), "float"),
    C("args", "grad set to a wrong shape", lambda lib: _set_grad(lib, lambda L: L.ones(3)), "size"),
    C("args", "grad set to a wrong dtype", lambda lib: _set_grad(lib, lambda L: L.ones(2, dtype=L.float64)), "type"),
    C("args", "out not a tensor", lambda lib: lib.add(lib.ones(2), 1, out=[1]), "out"),
    C("args", "axis with dim", lambda lib: lib.ones(2).sum(dim=0, axis=0), "axis"),
    C("args", "Variable of a list", lambda lib: lib.autograd.Variable([1.0]), "tensor"),
    C("args", "new_zeros negative", lambda lib: lib.ones(2).new_zeros(-1), "negative"),
    C("args", "new_full of an int size", lambda lib: lib.ones(2).new_full(3, 1.0), "tuple of ints"),
    C("args", "inference tensor in autograd", lambda lib: _inference_misuse(lib), "Inference tensors"),
]


def _inference_misuse(lib):
    with lib.inference_mode():
        x = lib.ones(2)
    return (lib.ones(2, requires_grad=True) * x).sum()


def test_misuse_table_is_named_once():
    names = [c.name for c in MISUSES]
    assert len(names) == len(set(names)) and len(names) >= 40


@pytest.mark.parametrize("case", MISUSES, ids=[f"{c.category}:{c.name}" for c in MISUSES])
def test_misuse_raises_torchs_exception_type(case):
    t_exc, t_val, _ = _run(case.fn, torch)
    c_exc, c_val, _ = _run(case.fn, cr)
    assert t_exc is not None, f"torch returned {t_val!r}: the case is not a misuse"
    assert c_exc is not None, f"torch raises {type(t_exc).__name__}: {t_exc}; chainrule returned {c_val!r}"
    assert isinstance(c_exc, type(t_exc)), (
        f"torch raises {type(t_exc).__name__} ({str(t_exc)[:200]}), chainrule "
        f"{type(c_exc).__name__}: {c_exc}")
    assert case.match.lower() in str(c_exc).lower(), f"{str(c_exc)!r} lacks {case.match!r}"


# ============================================================================ ints, sizes, scans
# Each case: fn(lib) -> a value; torch's and chainrule's must agree in value, dtype and type
RNG_SCAN = np.random.default_rng(1).uniform(0.5, 1.5, 300).astype(np.float32)
_INT_TENSOR_CASES = {
    "arange(n)": lambda L: L.arange(L.tensor(3)),
    "arange(t1, n)": lambda L: L.arange(L.tensor(1), L.tensor(4)),
    "arange(float t)": lambda L: L.arange(L.tensor(2.5)),
    "arange(end=)": lambda L: L.arange(end=3),
    "slice [:n]": lambda L: L.arange(5)[:L.tensor(3)],
    "slice [n:]": lambda L: L.arange(5)[L.tensor(3):],
    "index by arange(n)": lambda L: L.arange(10.)[L.arange(L.tensor(3))],
    "zeros(n)": lambda L: L.zeros(L.tensor(3)),
    "full((n,), v)": lambda L: L.full((L.tensor(2),), 1.5),
    "narrow(0, n, 2)": lambda L: L.arange(6).narrow(0, L.tensor(3), 2),
    "select(0, n)": lambda L: L.arange(6).select(0, L.tensor(3)),
    "sum(dim=n)": lambda L: L.ones(2, 3).sum(L.tensor(1)),
    "chunk(n)": lambda L: L.arange(5).chunk(L.tensor(3)),
    "split(n)": lambda L: L.arange(5).split(L.tensor(2)),
    "roll(n)": lambda L: L.arange(5).roll(L.tensor(2)),
    "empty chunk": lambda L: L.zeros(0).chunk(2),
    "empty 2-d chunk": lambda L: L.zeros(0, 3).chunk(3),
    "t() of 1-d": lambda L: L.arange(3.).t(),
    "t() of 0-d": lambda L: L.tensor(2.).t(),
    "== None": lambda L: L.ones(2) == None,   # noqa: E711  (what is tested)
    "!= None": lambda L: L.ones(2) != None,   # noqa: E711
    "== str": lambda L: L.ones(2) == "a",
    "in (None, 'x')": lambda L: L.ones(1) in (None, "x"),
    "sign of nan": lambda L: L.tensor([1., float("nan"), -2., 0.]).sign(),
    "sgn of nan": lambda L: L.sgn(L.tensor([float("nan"), -3.])),
    "cumsum float32 in float64": lambda L: L.full((10 ** 5,), 0.1).cumsum(0)[-1],
    "cumsum float16 in float32": lambda L: L.full((3000,), 0.1, dtype=L.float16).cumsum(0),
    "cumprod float32 in float64": lambda L: L.tensor(RNG_SCAN).cumprod(0),
    "tensor of float64 arrays": lambda L: _quietly(L.tensor, [np.ones(2), np.zeros(2)]),
    "tensor of float64 scalars": lambda L: L.tensor([np.float64(1.5), 2.0]),
    "tensor of float64 tensors": lambda L: L.tensor([L.tensor(1., dtype=L.float64)] * 2),
    "full with a 0-d tensor": lambda L: L.full((2,), L.tensor(3.)),
    "prod of uint8": lambda L: L.tensor([3, 200], dtype=L.uint8).prod(),
    "prod of bool along a dim": lambda L: L.tensor([[True, False]]).prod(1),
}


def _quietly(fn, *args):
    """fn(*args) without warnings (torch warns that a list of arrays is slow to convert)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if isinstance(a, torch.Tensor):
        assert isinstance(b, cr.Tensor) and str(a.dtype)[6:] == str(b.dtype)[10:]
        assert a.shape == tuple(b.shape) and np.array_equal(_np(a), _np(b), equal_nan=True)
        return
    assert type(a) is type(b) and a == b


@pytest.mark.parametrize("case", list(_INT_TENSOR_CASES))
def test_integer_tensors_count_as_ints_and_small_semantics_match_torch(case):
    fn = _INT_TENSOR_CASES[case]
    _same(fn(torch), fn(cr))


def test_a_size_stays_a_size_when_sliced_added_or_repeated():
    for lib in (torch, cr):
        s = lib.ones(2, 3, 4).shape
        for value in (s[1:], s + (1,), (1,) + s, s * 2, 2 * s):
            assert isinstance(value, lib.Size), (lib.__name__, value)
        assert s[1:].numel() == 12 and s[0] == 2 and type(s[0]) is int


def test_abs_gradient_at_nan_is_zero_as_torch():
    x, t = cr.tensor([float("nan"), -1.], requires_grad=True), torch.tensor([float("nan"), -1.], requires_grad=True)
    x.abs().sum().backward()
    t.abs().sum().backward()
    np.testing.assert_array_equal(_np(x.grad), _np(t.grad))


def test_a_float_or_multi_element_tensor_is_not_an_int():
    with pytest.raises(TypeError, match="chunk"):
        cr.arange(4).chunk(cr.tensor(2.))
    with pytest.raises(TypeError, match="zeros"):
        cr.zeros(cr.tensor([2, 3]))


# ============================================================================ index assignment with gradients
_SETITEM_CASES = {   # fn(lib, x) -> a scalar to differentiate; x = [1, 2, 3] requires grad
    "into a clone": lambda L, x: _put(x.clone(), 0, 0.0).sum(),
    "by a mask": lambda L, x: (_put(x * 2, (x * 2) > 3, 0.0) * L.tensor([1., 2, 3])).sum(),
    "a grad value into zeros": lambda L, x: _put(_put(L.zeros(3), 0, x[1] * 2), 2, x[0] ** 2).sum(),
    "a row, broadcast column": lambda L, x: (_put(_put(L.zeros(2, 3), 1, x), (slice(None), 0), x[2])
                                             * L.arange(6.).reshape(2, 3)).sum(),
    "advanced indices": lambda L, x: (_put(L.zeros(2, 3), (L.tensor([1, 0]), L.tensor([2, 2])), x[:2])
                                      * L.arange(6.).reshape(2, 3)).sum(),
    "float64 value into float32": lambda L, x: _put(x * 1, 1, x[0].double() * 3).sum(),
}


def _put(t, key, value):
    t[key] = value
    return t


@pytest.mark.parametrize("case", list(_SETITEM_CASES))
def test_index_assignment_carries_gradients_as_torch(case):
    grads = []
    for lib in (torch, cr):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        out = _SETITEM_CASES[case](lib, x)
        out.backward()
        grads.append((out.item(), x.grad.numpy()))
    assert grads[0][0] == pytest.approx(grads[1][0])
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-6)


_KEYWORD_CASES = {   # torch's keyword names for sizes and dims given as one argument
    "zeros(size=)": lambda L: L.zeros(size=(2, 3)),
    "ones(size=)": lambda L: L.ones(size=(2,)),
    "empty(size=).shape": lambda L: L.empty(size=(2, 1)).shape,
    "rand(size=).shape": lambda L: L.rand(size=(3,)).shape,
    "randn(size=).shape": lambda L: L.randn(size=(3,)).shape,
    "view(size=)": lambda L: L.arange(6.).view(size=(3, 2)),
    "reshape(shape=)": lambda L: L.arange(6.).reshape(shape=(3, 2)),
    "torch.reshape(x, shape=)": lambda L: L.reshape(L.arange(6.), shape=(2, 3)),
    "permute(dims=)": lambda L: L.arange(6.).reshape(2, 3).permute(dims=(1, 0)),
    "expand(size=)": lambda L: L.arange(3.).expand(size=(2, 3)),
    "repeat(repeats=)": lambda L: L.arange(3.).repeat(repeats=(2, 1)),
    "squeeze(axis=)": lambda L: L.ones(1, 2).squeeze(axis=0),
    "split(split_size=)": lambda L: L.arange(5.).split(split_size=2),
    "new_zeros(size=)": lambda L: L.ones(2).new_zeros(size=(2, 2)),
}


@pytest.mark.parametrize("case", list(_KEYWORD_CASES))
def test_sizes_and_dims_by_torchs_keyword(case):
    _same(_KEYWORD_CASES[case](torch), _KEYWORD_CASES[case](cr))


def test_a_size_given_twice_is_torchs_type_error():
    for lib in (torch, cr):
        with pytest.raises(TypeError, match="multiple values for argument 'size'"):
            lib.zeros((2, 3), size=(2, 3))


def test_autograd_grad_materialize_grads_and_batched_grad_outputs_as_torch():
    out = []
    for lib in (torch, cr):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        y = lib.ones(2, requires_grad=True)
        batched = lib.autograd.grad(x ** 2, [x, y], lib.eye(3), is_grads_batched=True,
                                    allow_unused=True)
        zeros = lib.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)
        with pytest.raises(ValueError, match="allow_unused"):
            lib.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True, allow_unused=False)
        out.append((batched[0].tolist(), batched[1], [t.tolist() for t in zeros]))
    assert out[0] == out[1]


def test_relu_passes_the_gradient_of_a_nan_on_as_torch():
    grads = []
    for lib in (torch, cr):
        x = lib.tensor([float("nan"), -1., 0., 2.], requires_grad=True)
        lib.nn.functional.relu(x).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [1.0, 0.0, 0.0, 1.0]


def test_in_place_change_of_a_value_no_rule_reads_is_no_error():
    """torch saves for backward only the values a derivative reads: y = d·c with c constant
    reads c, so changing d in place afterwards is fine; y = d·d or exp's saved output is not."""
    for lib in (cr, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        d = a * 1.5
        y = d * 2 + d * lib.tensor([3.0, 4.0])
        d += 1
        y.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), [7.5, 9.0])
        d = a * 1.5
        for y in (d * d, d.exp()):
            d2 = y if y.grad_fn.name() == "ExpBackward0" else d
            d2.add_(1)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                y.sum().backward()
            d = a * 1.5


def test_remainder_integer_powers_bool_sign_and_unbatched_unfold_as_torch():
    for lib in (cr, torch):
        x = lib.tensor([5.5, -3.2], requires_grad=True)
        y = lib.tensor([2.0, 1.5], requires_grad=True)
        (x % y + lib.remainder(x, 2.0)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
        np.testing.assert_allclose(y.grad.numpy(), [-2.0, 3.0])
        np.testing.assert_array_equal(
            (lib.tensor([2, -1, 1, 0, 3]) ** lib.tensor([-2, -3, -5, 1, 0])).numpy(), [0, -1, 1, 0, 1])
        np.testing.assert_array_equal((2 ** lib.tensor([-2, 1])).numpy(), [0, 2])
        np.testing.assert_array_equal(lib.tensor([True, False]).sign().numpy(), [True, False])
        cols = lib.nn.functional.unfold(lib.arange(75.0).reshape(3, 5, 5), 3)
        assert tuple(cols.shape) == (27, 9)
        back = lib.nn.functional.fold(cols, (5, 5), 3)
        assert tuple(back.shape) == (3, 5, 5)
    np.testing.assert_array_equal(
        cr.nn.functional.fold(cr.nn.functional.unfold(cr.ones(2, 4, 4), 2), (4, 4), 2).numpy(),
        torch.nn.functional.fold(torch.nn.functional.unfold(torch.ones(2, 4, 4), 2), (4, 4), 2).numpy())


def test_a_view_reads_its_history_again_after_its_base_changes_in_place():
    """torch rebases a view whose base (or another view of it) was modified in place: its
    gradient is that of the values it now shows (it used to be that of the old values, silently)."""
    def cases(lib):
        x = lib.ones(3, requires_grad=True)
        a = x * 1
        v = a[0:2]
        a.mul_(2)
        v.sum().backward()
        yield x.grad
        x = lib.ones(3, requires_grad=True)
        a = x * 1
        v, w = a[0:2], a[1:]
        w.mul_(3)
        (v * 1).sum().backward()
        yield x.grad
        x = lib.ones(2, 3, requires_grad=True)
        a = x * 1
        v = a.t()
        a.add_(1)
        v.backward(lib.ones(3, 2) * 2)
        yield x.grad
    for mine, theirs in zip(cases(cr), cases(torch)):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_relu_inplace_overwrites_a_recorded_input_as_torch():
    """F.relu(h, inplace=True) and nn.ReLU(inplace=True) overwrite h also while recording (they
    returned a new tensor and left h as it was): h's history ends in the ReLU, whose saved
    output is h itself, so a later in-place change of h is caught."""
    for lib in (cr, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        h = x * 1 - 2
        assert lib.nn.functional.relu(h, inplace=True) is h
        np.testing.assert_array_equal(h.detach().numpy(), [0.0, 0.0, 1.0])
        (h * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 3.0])
        h = x * 1
        lib.nn.ReLU(inplace=True)(h)
        h.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.sum().backward()


def test_a_numpy_array_beside_a_tensor_is_a_tensor_of_its_dtype():
    """torch.ones(2) + np.ones(2) is a float64 tensor (it was a TypeError here)."""
    for a, b in ((np.ones(2), np.float64), (np.ones(2, np.float32), np.float32)):
        mine, theirs = cr.ones(2) + a, torch.ones(2) + a
        assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert (cr.ones(2, dtype=cr.int64) * np.ones(2, np.int32)).dtype == cr.int64
    x = cr.ones(2, requires_grad=True)
    (x * np.array([2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])


def test_register_buffer_over_an_attribute_and_module_type_as_torch():
    for lib in (cr, torch):
        m = lib.nn.Linear(2, 2)
        with pytest.raises(KeyError, match="already exists"):
            m.register_buffer("weight", lib.ones(1))
        m.register_buffer("foo", lib.ones(1))
        m.register_buffer("foo", lib.zeros(1))          # a buffer may be registered again
        assert m.foo.tolist() == [0.0]
        for dst in (lib.float64, lib.DoubleTensor, "torch.DoubleTensor"):
            assert str(lib.nn.Linear(2, 2).type(dst).weight.dtype).endswith("float64")


def test_norm_pool_and_transposed_conv_refusals_as_torch():
    for lib in (cr, torch):
        F_ = lib.nn.functional
        with pytest.raises(RuntimeError, match="evaluation mode"):
            F_.batch_norm(lib.ones(2, 3), None, None, training=False)
        with pytest.raises(RuntimeError):
            F_.conv_transpose2d(lib.ones(1, 2, 3, 3, dtype=lib.float64), lib.ones(2, 2, 3, 3))
        for pool in (F_.adaptive_avg_pool2d, F_.adaptive_max_pool2d):
            with pytest.raises(RuntimeError):      # torch's message differs between the two
                pool(lib.ones(1, 2, 3, 3), (2, -2))
            assert tuple(pool(lib.ones(1, 2, 3, 3), (0, 2)).shape) == (1, 2, 0, 2)
            assert tuple(pool(lib.ones(1, 2, 3, 3), (None, 2)).shape) == (1, 2, 3, 2)


def test_requires_grad_assignment_is_checked_as_torch():
    """Setting ``requires_grad`` on a non-leaf or True on an integer tensor raised nothing
    (the flag changed silently); torch refuses both."""
    for lib in (cr, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        for value in (False, True):
            with pytest.raises(RuntimeError, match="leaf variables"):
                y.requires_grad = value
        with pytest.raises(RuntimeError, match="floating point"):
            lib.ones(2, dtype=lib.int64).requires_grad = True
        with pytest.raises(RuntimeError, match="must be a bool"):
            x.requires_grad = "yes"
        n = lib.ones(2, dtype=lib.int64)
        n.requires_grad = False
        w = lib.ones(3)
        w.requires_grad = True
        (w * 2).sum().backward()
        assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_equality_with_other_objects_and_allclose_checks_as_torch():
    for lib in (cr, torch):
        x = lib.tensor([[1.0, 3.0], [2.0, 0.0]])
        assert (x.max(1) == x) is False and (x == [1.0, 3.0]) is False and (x != "a") is True
        with pytest.raises(RuntimeError):
            lib.allclose(x, x.double())
        with pytest.raises(RuntimeError):
            lib.allclose(x, lib.ones(3))
        assert lib.allclose(x, x + 1e-9) and not lib.allclose(x, lib.ones(2))


def test_load_state_dict_assign_takes_the_values_themselves():
    """assign=True makes the checkpoint's tensors the module's (their dtype and memory; a
    parameter keeps requires_grad); it used to copy into the old float32 arrays."""
    for lib in (cr, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        m[0].weight.requires_grad_(False)
        sd = {k: v.double() for k, v in m.state_dict().items()}
        m.load_state_dict(sd, assign=True)
        assert str(m[0].weight.dtype).endswith("float64") and not m[0].weight.requires_grad
        assert m[0].bias.requires_grad and isinstance(m[0].bias, lib.nn.Parameter)
        assert m[0].weight.data_ptr() == sd["0.weight"].data_ptr()
        assert m[1].running_mean.data_ptr() == sd["1.running_mean"].data_ptr()
        assert len(list(m.parameters())) == 4


def test_norm_functions_refuse_or_keep_dtypes_as_torch():
    for lib in (cr, torch):
        F_ = lib.nn.functional
        with pytest.raises(RuntimeError, match="mixed dtype"):
            F_.layer_norm(lib.ones(2, 3, dtype=lib.float64), (3,), lib.ones(3), lib.zeros(3))
        with pytest.raises(RuntimeError, match="mixed dtype"):
            F_.group_norm(lib.ones(2, 4, 3, dtype=lib.float64), 2, lib.ones(4), lib.zeros(4))
        half = lib.ones(2, 4, 3, dtype=lib.float16)       # torch's one mixed case
        for out in (F_.layer_norm(half, (3,), lib.ones(3), lib.zeros(3)),
                    F_.group_norm(half, 2, lib.ones(4), lib.zeros(4)),
                    F_.batch_norm(half, lib.zeros(4), lib.ones(4), lib.ones(4), lib.zeros(4))):
            assert str(out.dtype).endswith("float16")
        with pytest.raises(RuntimeError):
            F_.normalize(lib.tensor([[1, 2]]), dim=1)
        with pytest.raises(RuntimeError, match="2-D"):
            F_.embedding(lib.tensor([0, 1]), lib.ones(3))
        with pytest.raises(NotImplementedError):
            lib.tensor([True, False]).abs()


def test_tensor_of_numpy_integer_scalars_keeps_their_width():
    for data in ([np.int32(1), np.int32(2)], [[np.int16(1)], [np.int16(2)]], [np.uint8(1)],
                 [np.int32(1), 2], [2, np.int32(1)], [np.int32(1), np.int16(2)],
                 [np.array([1, 2], np.int32)]):
        assert str(cr.tensor(data).dtype).split(".")[1] == str(torch.tensor(data).dtype).split(".")[1]


def test_bilinear_ops_check_only_the_operand_their_gradient_reads():
    """torch saves for a product only the operand the other's gradient needs: changing the
    input of linear/@ in place after the product is fine when the weight needs no gradient."""
    for lib in (cr, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        d = a * 1.5
        y = lib.nn.functional.linear(d, lib.ones(3, 2)) + (d @ lib.ones(2, 2)).sum()
        d += 1
        y.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), [13.5, 13.5])
        w = lib.ones(2, 2, requires_grad=True)
        d = a * 1.5
        y = d @ w
        d.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


# ============================================================================ method / function pairs
_IN_PLACE_FUNCTIONS = {   # torch.<name>(x, *args) == x.<name>(*args), written into x
    "acos_": (), "asinh_": (), "atan_": (), "cosh_": (), "log2_": (), "exp2_": (), "erfc_": (),
    "fix_": (), "negative_": (), "clip_": (-0.2, 0.3), "deg2rad_": (), "sinc_": (),
    "logit_": (), "nan_to_num_": (), "xlogy_": (2.0,),
}


@pytest.mark.parametrize("name", list(_IN_PLACE_FUNCTIONS))
def test_in_place_functions_write_into_their_input_as_torch(name):
    values = np.array([0.25, 0.5, 0.75], np.float32)
    t, c = torch.tensor(values), cr.tensor(values)
    rt = getattr(torch, name)(t, *_IN_PLACE_FUNCTIONS[name])
    rc = getattr(cr, name)(c, *_IN_PLACE_FUNCTIONS[name])
    assert rc is c
    np.testing.assert_allclose(_np(c), t.numpy(), rtol=1e-6)
    np.testing.assert_allclose(_np(rc), rt.numpy(), rtol=1e-6)


def test_methods_of_functions_that_had_none_as_torch():
    a, b = [True, False, True, False], [True, True, False, False]
    for lib in (torch, cr):
        x = lib.tensor(a)
        assert x.logical_xor(lib.tensor(b)).tolist() == [False, True, True, False]
        assert x.logical_xor_(lib.tensor(b)) is x and x.tolist() == [False, True, True, False]
        assert lib.tensor([1., 2.]).ger(lib.tensor([3., 4.])).tolist() == [[3., 4.], [6., 8.]]
        y = lib.tensor([1.0], requires_grad=True) * 2
        assert not lib.detach(y).requires_grad and lib.get_device(y) == -1
        assert lib.is_inference(y) is False


def test_data_parallel_without_gpus_is_the_module_itself_as_torch():
    cr.manual_seed(0)
    inner = cr.nn.Linear(3, 2)
    wrapped = cr.nn.DataParallel(inner, device_ids=[0, 1])
    assert wrapped.module is inner and wrapped.device_ids == []
    assert list(wrapped.state_dict()) == ["module.weight", "module.bias"]   # torch's keys
    x = cr.randn(4, 3)
    np.testing.assert_array_equal(wrapped(x).detach().numpy(), inner(x).detach().numpy())
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in wrapped.state_dict().items()})
    np.testing.assert_allclose(t(torch.tensor(x.numpy())).detach().numpy(),
                               wrapped(x).detach().numpy(), rtol=1e-6)


def test_autograd_grad_accepts_torchs_deprecated_only_inputs():
    x = cr.ones(2, requires_grad=True)
    assert cr.autograd.grad((x * x).sum(), x, only_inputs=True)[0].tolist() == [2.0, 2.0]
    with pytest.warns(FutureWarning, match="only_inputs"):
        cr.autograd.grad((x * x).sum(), x, only_inputs=False)
    leaf = (x * 2).sum().grad_fn.next_functions[0][0].next_functions[0][0]
    assert repr(leaf).startswith("<AccumulateGrad object at")      # torch's repr
