"""chainrule.library against torch.library: the same operator code, written after PyTorch's
"Python Custom Operators" tutorial, run with ``lib`` = torch and ``lib`` = chainrule; values,
gradients, schemas, opcheck results and errors must agree."""
import warnings
from typing import List, Optional, Sequence

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule._device import DeviceUnavailableError
from oracle import to_np

LIBS = [torch, cr]
rng = np.random.default_rng(0)


def both(build):
    """``build(lib)`` run with torch and with chainrule."""
    return [build(lib) for lib in LIBS]


def tutorial(lib, ns):
    """The tutorial's numpy_sin, with its fake kernel and gradient formula."""
    @lib.library.custom_op(f"{ns}::numpy_sin", mutates_args=())
    def numpy_sin(x: lib.Tensor) -> lib.Tensor:
        return lib.from_numpy(np.sin(x.numpy()))

    @numpy_sin.register_fake
    def _(x):
        return lib.empty_like(x)

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.cos()
    numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


def test_tutorial_values_gradients_and_opcheck():
    a = rng.standard_normal(5)
    out = []
    for lib in LIBS:
        op = tutorial(lib, "crt_tut")
        x = lib.tensor(a, requires_grad=True)
        ys = [op(x), lib.ops.crt_tut.numpy_sin(x), lib.ops.crt_tut.numpy_sin.default(x)]
        sum(y.sum() for y in ys).backward()
        packet = lib.ops.crt_tut.numpy_sin
        out.append(([to_np(y) for y in ys], to_np(x.grad), lib.library.opcheck(op, (x,)),
                    repr(op), str(packet), repr(packet.default), packet.overloads(),
                    packet.default.name(), str(packet.default._schema),
                    repr(ys[0]).replace("chainrule.", "torch.")))
    (ty, tg, *tmeta), (cy, cg, *cmeta) = out
    for a_, b_ in zip(ty, cy):
        np.testing.assert_allclose(b_, a_, rtol=1e-12)
    np.testing.assert_allclose(cg, tg, rtol=1e-12)
    np.testing.assert_allclose(cg, 3 * np.cos(a), rtol=1e-12)
    assert cmeta == tmeta


def test_backward_without_autograd_registration_raises_at_backward():
    msgs = []
    for lib in LIBS:
        @lib.library.custom_op("crt_noag::sin", mutates_args=())
        def sin(x: lib.Tensor) -> lib.Tensor:
            return lib.from_numpy(np.sin(x.detach().numpy()))
        y = sin(lib.ones(2, requires_grad=True))
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="no autograd formula was registered") as e:
            y.sum().backward()
        msgs.append(str(e.value))
        assert not sin(lib.ones(2)).requires_grad   # nothing requires grad: a plain call
    assert msgs[0] == msgs[1]


def test_inferred_schemas_match_torch():
    def schemas(lib):
        T = lib.Tensor

        @lib.library.custom_op("crt_sch::many", mutates_args=())
        def many(x: T, y: Optional[T], n: int, f: float, b: bool, ts: List[T],
                 s: Sequence[int], st: str, sc: int | float | bool, *, k: int = 3,
                 e: float = 1e-5, w: str = "hi", h: float = 2.0) -> tuple[T, T]:
            return x.clone(), x + n

        @lib.library.custom_op("crt_sch::mut", mutates_args={"x"})
        def mut(x: T, y: T) -> None:
            x.add_(y)

        def plain(x: T, y: Optional[T], n: int = 2) -> T:
            return x

        @lib.library.custom_op("crt_sch::unk", mutates_args="unknown")
        def unk(x: T, y: T, z: List[T]) -> List[T]:
            return [x + y]
        return [str(getattr(lib.ops.crt_sch, n).default._schema) for n in ("many", "mut", "unk")
                ] + [lib.library.infer_schema(plain, mutates_args={"y"}, op_name="ns::u"),
                     lib.library.infer_schema(plain, mutates_args=())]
    t, c = both(schemas)
    assert c == t


def test_list_input_keyword_only_and_tuple_output_gradients():
    a, b = rng.standard_normal(2), rng.standard_normal(3)

    def run(lib):
        T = lib.Tensor

        @lib.library.custom_op("crt_many::cat_scale", mutates_args=())
        def cat_scale(xs: List[T], k: float, *, shift: float = 0.0) -> tuple[T, T]:
            y = lib.cat(xs) * k + shift
            return y, y.sin()

        def setup(ctx, inputs, output, keyword_only_inputs):
            ctx.k, ctx.sizes = inputs[1], [len(t) for t in inputs[0]]
            ctx.save_for_backward(*output)
            assert keyword_only_inputs == {"shift": 0.5}

        def backward(ctx, gy, gs):
            y, _ = ctx.saved_tensors
            g = (gy + gs * y.cos()) * ctx.k
            return list(g.split(ctx.sizes)), None
        cat_scale.register_autograd(backward, setup_context=setup)
        xs = [lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)]
        y, s = cat_scale(xs, 2.0, shift=0.5)
        (y.sum() + (s * s).sum()).backward()
        check = lib.library.opcheck(cat_scale, ([x.detach().requires_grad_() for x in xs], 2.0),
                                    {"shift": 0.5}, test_utils=("test_schema",
                                                                "test_autograd_registration"))
        return [to_np(y), to_np(s), to_np(xs[0].grad), to_np(xs[1].grad)], check
    (t, tcheck), (c, ccheck) = both(run)
    for u, v in zip(t, c):
        np.testing.assert_allclose(v, u, rtol=1e-12)
    assert ccheck == tcheck


def test_mutating_op_and_opcheck_catches_undeclared_mutation():
    def run(lib):
        @lib.library.custom_op("crt_mut::add_into", mutates_args={"x"})
        def add_into(x: lib.Tensor, y: lib.Tensor) -> None:
            x.add_(y)

        @lib.library.custom_op("crt_mut::sneaky", mutates_args=())
        def sneaky(x: lib.Tensor) -> lib.Tensor:
            x.add_(1)
            return x.clone()
        sneaky.register_fake(lambda x: lib.empty_like(x))
        add_into.register_fake(lambda x, y: None)
        x = lib.zeros(2)
        assert add_into(x, lib.ones(2)) is None
        sneaky(x)   # an undeclared mutation is not caught at run time, as in torch
        with pytest.raises(RuntimeError, match="Cannot register autograd formula for "
                                               "non-functional operator"):
            add_into.register_autograd(lambda ctx, g: g)
        res = lib.library.opcheck(sneaky, (lib.zeros(2),), test_utils="test_schema",
                                  raise_exception=False)
        with pytest.raises(Exception, match="test_schema failed with Argument x is not defined "
                                            "as mutable but was mutated") as e:
            lib.library.opcheck(sneaky, (lib.zeros(2),))
        assert type(e.value).__name__ == "OpCheckError"
        ok = lib.library.opcheck(add_into, (lib.zeros(2), lib.ones(2)),
                                 test_utils=("test_schema", "test_faketensor"))
        return to_np(x).tolist(), {k: str(v) for k, v in res.items()}, ok
    t, c = both(run)
    assert c == t


def test_opcheck_results_without_fake_and_without_grad():
    def run(lib):
        @lib.library.custom_op("crt_oc::double", mutates_args=())
        def double(x: lib.Tensor) -> lib.Tensor:
            return x * 2
        res = lib.library.opcheck(double, (lib.randn(3),), raise_exception=False)
        with pytest.raises(ValueError, match="expected test_utils to be subset of"):
            lib.library.opcheck(double, (lib.randn(3),), test_utils="bogus")
        lib.library.register_fake("crt_oc::double")(lambda x: lib.empty_like(x))
        lib.library.register_autograd("crt_oc::double", lambda ctx, g: g * 2)
        x = lib.randn(3, dtype=lib.float64, requires_grad=True)
        return {k: str(v) for k, v in res.items()}, lib.library.opcheck(double, (x,))
    t, c = both(run)
    assert c == t


def test_opcheck_checks_the_gradient_formula_against_finite_differences():
    # chainrule's opcheck goes beyond torch's (which only checks that a formula is registered)
    for lib in LIBS:
        @lib.library.custom_op("crt_fd::triple", mutates_args=())
        def triple(x: lib.Tensor) -> lib.Tensor:
            return x * 3
        triple.register_fake(lambda x: lib.empty_like(x))
        triple.register_autograd(lambda ctx, g: g * 2)   # wrong: should be g * 3
        x = lib.randn(3, dtype=lib.float64, requires_grad=True)
        if lib is torch:
            assert torch.library.opcheck(triple, (x,))["test_autograd_registration"] == "SUCCESS"
        else:
            with pytest.raises(cr.library.OpCheckError, match="test_autograd_registration "
                                                              "failed with gradcheck"):
                cr.library.opcheck(triple, (x,))


@pytest.mark.parametrize("name, exc, match", [
    ("noname", ValueError, ""), ("a::b::c", ValueError, ""),
    ("my lib::f", RuntimeError, ""), ("::f", RuntimeError, ""), ("mylib::", RuntimeError, "")])
def test_bad_names_raise_as_torch(name, exc, match):
    for lib in LIBS:
        with pytest.raises(exc):
            lib.library.custom_op(name, _identity(lib.Tensor), mutates_args=())


@pytest.mark.parametrize("case, match", [
    ("no_annotation", "Parameter x must have a type annotation"),
    ("no_return", "No return type annotation was provided"),
    ("dict_arg", "Parameter d has unsupported type"),
    ("bad_mutates", "in mutates_args were not found in the custom op's signature")])
def test_schema_inference_errors_as_torch(case, match):
    for lib in LIBS:
        T = lib.Tensor
        fns = {"no_annotation": lambda: (lambda x: x),
               "no_return": lambda: _no_return(T),
               "dict_arg": lambda: _dict_arg(T), "bad_mutates": lambda: _identity(T)}
        mutates = ("y",) if case == "bad_mutates" else ()
        with pytest.raises(ValueError, match=match):
            lib.library.custom_op("crt_err::f", fns[case](), mutates_args=mutates)
    with pytest.raises(TypeError, match="mutates_args"):
        cr.library.custom_op("crt_err::g", _identity(cr.Tensor))
    for lib in LIBS:
        def kw_tensor(x: lib.Tensor, *, o: Optional[lib.Tensor] = None) -> lib.Tensor:
            return x.clone()
        with pytest.raises(NotImplementedError, match="custom_op with kwarg-only Tensor args"):
            lib.library.custom_op("crt_err::kw", kw_tensor, mutates_args=())


def _no_return(T):
    def f(x: T):
        return x
    return f


def _dict_arg(T):
    def f(x: T, d: dict) -> T:
        return x
    return f


def _identity(T):
    def f(x: T) -> T:
        return x.clone()
    return f


def test_call_errors_as_torch():
    msgs = []
    for lib in LIBS:
        @lib.library.custom_op("crt_call::ident", mutates_args=())
        def ident(x: lib.Tensor) -> lib.Tensor:
            return x   # aliases its input: refused on each call

        @lib.library.custom_op("crt_call::plus", mutates_args=())
        def plus(x: lib.Tensor) -> lib.Tensor:
            return x + 1
        with pytest.raises(RuntimeError, match="must not also be an input to this custom "
                                               "operator"):
            ident(lib.ones(1))
        with pytest.raises(RuntimeError, match="expected at most 1 argument") as e:
            plus(lib.ones(1), 3)
        msgs.append(str(e.value))
        with pytest.raises(RuntimeError, match="Expected a value of type 'Tensor' for "
                                               "argument 'x'"):
            plus(3)
        with pytest.raises(AttributeError, match="has no overload name 'Tensor'"):
            lib.ops.crt_call.plus.Tensor
        with pytest.raises(AttributeError, match="'_OpNamespace' 'crt_call' object has no "
                                                 "attribute 'minus'"):
            lib.ops.crt_call.minus
    assert msgs[0] == msgs[1]
    with pytest.raises(AttributeError, match="has no attribute 'crt_never_defined'"):
        cr.ops.crt_never_defined


def test_redefining_a_custom_op_replaces_it_as_torch():
    def run(lib):
        T = lib.Tensor

        @lib.library.custom_op("crt_redef::f", mutates_args=())
        def f(x: T) -> T:
            return x + 1
        old = lib.ops.crt_redef.f(lib.zeros(1))

        @lib.library.custom_op("crt_redef::f", mutates_args=())
        def f2(x: T, k: int) -> T:
            return x + k
        return (to_np(old), to_np(lib.ops.crt_redef.f(lib.zeros(1), 5)),
                str(lib.ops.crt_redef.f.default._schema))
    t, c = both(run)
    assert str(c) == str(t)


def test_register_kernel_cpu_and_refuses_other_devices():
    def run(lib):
        @lib.library.custom_op("crt_kern::f", mutates_args=(), device_types="cpu")
        def f(x: lib.Tensor) -> lib.Tensor:
            return x * 2
        first = to_np(f(lib.ones(1)))
        f.register_kernel("cpu")(lambda x: x * 7)
        second = to_np(f(lib.ones(1)))
        f.register_kernel(None, lambda x: x * 9)   # the device-specific kernel still wins
        lib.library.register_kernel("crt_kern::f", "cpu", lambda x: x * 8)
        return first, second, to_np(f(lib.ones(1)))
    t, c = both(run)
    assert str(c) == str(t)
    op = cr.library.custom_op("crt_kern::g", _identity(cr.Tensor), mutates_args=())
    with pytest.raises(DeviceUnavailableError, match="'cuda' is not available: chainrule runs "
                                                     "on the CPU only"):
        op.register_kernel("cuda", lambda x: x)
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.library.custom_op("crt_kern::h", _identity(cr.Tensor), mutates_args=(),
                             device_types=("cpu", "cuda"))


def test_library_define_impl_and_errors_as_torch():
    schema = ("foo(Tensor x, int[] s, Tensor[] ts, Scalar a, str m, Tensor? w=None, "
              "float eps=1e-5, bool b=False) -> (Tensor, Tensor)")
    a = rng.standard_normal(3)

    def run(lib):
        L = lib.library
        lib3 = L.Library("crt_libdef", "DEF")
        with pytest.raises(RuntimeError, match="Only a single TORCH_LIBRARY"):
            L.Library("crt_libdef", "DEF")
        with pytest.raises(ValueError, match="Unsupported kind: XYZ"):
            L.Library("crt_libdef", "XYZ")
        with pytest.raises(RuntimeError, match="Cannot define an operator inside of a "
                                               "TORCH_LIBRARY_IMPL block"):
            L.Library("crt_libdef", "IMPL").define("g(Tensor x) -> Tensor")
        assert lib3.define("mul3(Tensor x) -> Tensor") == "mul3"
        with pytest.raises(RuntimeError, match="with the same name and overload name multiple "
                                               "times"):
            lib3.define("mul3(Tensor x) -> Tensor")
        with pytest.raises(NotImplementedError, match="Could not run 'crt_libdef::mul3'"):
            lib.ops.crt_libdef.mul3(lib.ones(1))
        lib3.impl("mul3", lambda x: x * 3, "CPU")
        lib3.define(schema)
        L.impl(lib3, "foo", "CPU")(lambda x, s, ts, a, m, w=None, eps=1e-5, b=False:
                                   (x + a + sum(ts), x * eps))
        L.define("crt_libdef::bar", "(Tensor x) -> Tensor")

        @L.impl("crt_libdef::bar", "cpu")
        def bar(x):
            return x * x
        assert bar is None   # torch's decorator returns None

        @L.register_fake("crt_libdef::bar")
        def _(x):
            return lib.empty_like(x)
        L.register_autograd("crt_libdef::bar", lambda ctx, g: g * 2 * ctx.x,
                            setup_context=lambda ctx, inputs, output:
                            setattr(ctx, "x", inputs[0]))
        x = lib.tensor(a, requires_grad=True)
        with pytest.warns(UserWarning, match="an autograd kernel was not registered"):
            m3 = lib.ops.crt_libdef.mul3(x)   # a CPU kernel: recorded as it runs, as torch
            y = lib.ops.crt_libdef.bar.default(x)
            (m3.sum() + y.sum()).backward()
        f1, f2 = lib.ops.crt_libdef.foo(x.detach(), [1], [lib.ones(3)], 2, "s")
        check = L.opcheck(lib.ops.crt_libdef.bar, (lib.tensor(a, requires_grad=True),),
                          test_utils=("test_schema", "test_autograd_registration",
                                      "test_faketensor"))
        bad = L.opcheck(lib.ops.crt_libdef.mul3, (lib.tensor(a, requires_grad=True),),
                        test_utils="test_autograd_registration", raise_exception=False)
        assert "does not have an autograd kernel" in str(bad["test_autograd_registration"])
        lib3.define("inc(Tensor(a!) x, Tensor(b!)[] y, Tensor(c)? z) -> ()")
        lib3.impl("inc", _increment, "CPU")
        v = lib.zeros(2)
        assert lib.ops.crt_libdef.inc(v, [], None) is None and v.tolist() == [1.0, 1.0]
        lib3.define("same(Tensor x) -> Tensor")
        lib3.impl("same", lambda x: x, "CompositeExplicitAutograd")
        assert lib.ops.crt_libdef.same(x) is x   # a Library kernel's aliasing: not checked
        with pytest.raises(Exception, match="test_schema failed with Argument x is not "
                                            "defined to alias output but was aliasing"):
            L.opcheck(lib.ops.crt_libdef.same, (lib.ones(1),), test_utils="test_schema")
        return ([to_np(t) for t in (m3, y, x.grad, f1, f2)], repr(lib3),
                str(lib.ops.crt_libdef.foo.default._schema),
                str(lib.ops.crt_libdef.inc.default._schema), check)
    t, c = both(run)
    for u, v in zip(t[0], c[0]):
        np.testing.assert_allclose(v, u, rtol=1e-12)
    assert c[1:] == t[1:]


def test_custom_op_in_a_module_trains_one_step_as_torch():
    w0, b0 = rng.standard_normal((3, 4)).astype(np.float32), np.zeros(3, np.float32)
    xs = rng.standard_normal((5, 4)).astype(np.float32)

    def run(lib):
        op = tutorial(lib, "crt_mod")

        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(4, 3)

            def forward(self, x):
                return op(self.fc(x)).pow(2).mean()
        net = Net()
        with lib.no_grad():
            net.fc.weight.copy_(lib.tensor(w0))
            net.fc.bias.copy_(lib.tensor(b0))
        opt = lib.optim.SGD(net.parameters(), lr=0.5)
        loss = net(lib.tensor(xs))
        loss.backward()
        opt.step()
        return [to_np(loss), to_np(net.fc.weight), to_np(net.fc.bias)]
    for t, c in zip(*both(run)):
        np.testing.assert_allclose(c, t, rtol=1e-5, atol=1e-6)


def test_compile_falls_back_for_a_numpy_kernel_and_captures_a_chainrule_one():
    op = tutorial(cr, "crt_comp")
    twice = cr.library.custom_op("crt_comp::twice", _twice, mutates_args=())
    x = cr.randn(4)
    f = cr.compile(lambda t: op(t) + 1)
    with pytest.warns(UserWarning, match="runs eagerly: numpy"):
        first = f(x)
    np.testing.assert_allclose(to_np(first), np.sin(to_np(x)) + 1, rtol=1e-6)
    g = cr.compile(lambda t: twice(t).exp())
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # captured: no fallback warning
        for t in (x, x * 3, x * 3):
            np.testing.assert_allclose(to_np(g(t)), np.exp(2 * to_np(t)), rtol=1e-6)


def _twice(x: cr.Tensor) -> cr.Tensor:
    return x * 2


def _increment(x, y, z):
    x.add_(1)


def test_a_namespace_cannot_shadow_chainrule_ops():
    # chainrule.ops also holds the built-in functions and aten: a clash is refused, not hidden
    def mine(x: cr.Tensor) -> cr.Tensor:
        return x.clone()
    with pytest.raises(ValueError, match="taken by chainrule.ops.aten"):
        cr.library.custom_op("aten::mine", mine, mutates_args=())
