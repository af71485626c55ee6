"""The graph engine, Tensor behaviour and every error path of the core."""
import gc
import shutil

import numpy as np
import pytest
import torch

import chainrule as cr


# ------------------------------------------------------------------ engine
def test_long_chain_backpropagates_without_recursion():
    x = cr.tensor([1.0], dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.00001 ** 100_000, rel=1e-9)
    del y
    gc.collect()


def test_gradients_accumulate_into_leaves():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    (a * 3).sum().backward()
    (a * a).sum().backward()
    assert a.grad.tolist() == [5.0, 7.0]


def test_shared_subexpression_sums_all_paths():
    xc, xt = cr.tensor([0.5, -1.0], requires_grad=True), torch.tensor([0.5, -1.0], requires_grad=True)
    for x, lib in ((xc, cr), (xt, torch)):
        h = x.tanh()
        (h * h + h.exp() * x).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_freed_graph_raises_and_retain_graph_allows_twice():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert a.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_higher_derivatives_with_create_graph():
    x = cr.tensor(2.0, requires_grad=True)
    y = x ** 4
    (d1,) = cr.autograd.grad(y, x, create_graph=True)
    (d2,) = cr.autograd.grad(d1, x, create_graph=True)
    (d3,) = cr.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)
    x.grad = None
    z = (x.sin() * x).sum()
    z.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(2 * np.cos(2.0) - 2.0 * np.sin(2.0))


def test_autograd_grad_options():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0], requires_grad=True)
    h = a * 2           # a non-leaf input
    out = h * h
    ga, gh = cr.autograd.grad(out, (a, h), grad_outputs=cr.tensor([1.0, 0.5]))
    assert ga.tolist() == [8.0, 8.0] and gh.tolist() == [4.0, 4.0]
    assert a.grad is None   # grad() never touches .grad
    with pytest.raises(RuntimeError, match="not to have been used in the graph.*allow_unused=True"):
        cr.autograd.grad((a * 2).sum(), (a, b))
    assert cr.autograd.grad((a * 2).sum(), (a, b), allow_unused=True)[1] is None


def test_retain_grad_and_hooks():
    a = cr.tensor([1.0, -2.0], requires_grad=True)
    h = a * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = a.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, -12.0] and seen == [[6.0, -12.0]]
    assert a.grad.tolist() == [180.0, -360.0]
    handle.remove()
    a.grad = None
    (a * 1).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_no_grad_enable_grad_set_grad_enabled():
    a = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        b = a * 2
        with cr.enable_grad():
            c = a * 2
    assert b.grad_fn is None and not b.requires_grad and c.grad_fn is not None

    @cr.no_grad()
    def f(t):
        return t * 2
    assert f(a).grad_fn is None
    with cr.set_grad_enabled(False):
        assert (a * 2).grad_fn is None
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    assert not cr.is_grad_enabled()
    cr.set_grad_enabled(True)

    @cr.set_grad_enabled(False)
    def g(t):
        return t * 2
    assert cr.is_grad_enabled() and g(a).grad_fn is None


def test_tensors_that_need_no_grad_record_nothing():
    a, b = cr.randn(3), cr.randn(3)
    assert (a * b + a).grad_fn is None


def test_version_counter_detects_inplace_change_of_a_saved_tensor():
    a = cr.randn(3, requires_grad=True)
    b = a.exp()
    b += 1          # exp saved its output
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version 1; expected version 0"):
        b.sum().backward()
    c = a * 1
    d = c * c
    c.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        d.sum().backward()


def test_inplace_on_non_leaf_matches_torch():
    def run(lib):
        a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        b = a * 2
        b += a
        b *= 3
        b -= 1
        b /= 2
        b.relu_()
        (b * b).sum().backward()
        return a.grad.numpy(), b.detach().numpy()
    for got, want in zip(run(cr), run(torch)):
        np.testing.assert_allclose(got, want)


def test_inplace_on_leaf_that_requires_grad_raises():
    a = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place"):
        a += 1
    with cr.no_grad():
        a -= 0.5      # the optimizer's update path
    assert a.tolist() == [0.5, 0.5] and a.is_leaf


def test_custom_function():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2 * ctx.k, None

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]


def test_backward_inputs_argument_and_gradient_argument():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a * b).backward(cr.tensor([1.0, 0.5]), inputs=[a])
    assert a.grad.tolist() == [3.0, 2.0] and b.grad is None


def test_to_dot_names_ops_and_shapes(tmp_path):
    w = cr.randn(3, 2, requires_grad=True)
    loss = (cr.randn(4, 3) @ w).relu().sum()
    dot = cr.viz.to_dot(loss)
    for needle in ("SumBackward0", "ReluBackward0", "MmBackward0", "leaf\\n(3, 2)", "(4, 2)"):
        assert needle in dot
    path = cr.viz.render(loss, str(tmp_path / "g.dot"))
    assert open(path).read() == dot
    if shutil.which("dot"):
        cr.viz.render(loss, str(tmp_path / "g.svg"))
        assert (tmp_path / "g.svg").read_text().lstrip().startswith("<")
    else:
        with pytest.raises(RuntimeError, match="Graphviz's `dot` program is not installed"):
            cr.viz.render(loss, str(tmp_path / "g.svg"))


# ------------------------------------------------------------------ Tensor
@pytest.mark.parametrize("a, b", [
    ("f32", 2), ("f32", 2.5), ("i64", 2.5), ("i64", 2), ("i32", "i64"), ("f32", "f64"), ("b", 1),
    ("b", "i64"), ("f32", "f64_0d"), ("i64", "f32_0d"), ("f32_0d", "f64_0d"), ("u8", "i64"),
    ("b", 2.5), ("f16", 2.5), (2.5, "f32"), ("f32_0d", 3), (1, "f64_0d"), ("f16_0d", 2), (True, "f16"),
    ("f32", np.float64(2.5)), ("f16", -0.0)])
def test_type_promotion_matches_torch(a, b):
    def make(lib, spec):
        if not isinstance(spec, str):
            return spec
        dt = {"f16": "float16", "f32": "float32", "f64": "float64", "i64": "int64",
              "i32": "int32", "b": "bool", "u8": "uint8"}[spec.split("_")[0]]
        shape = () if spec.endswith("0d") else (2,)
        return lib.ones(shape, dtype=getattr(lib, dt))
    got = (make(cr, a) + make(cr, b)).dtype if not (a == "b" and b in ("b",)) else None
    want = (make(torch, a) + make(torch, b)).dtype
    assert str(got).split(".")[1] == str(want).split(".")[1]
    assert str(cr.result_type(make(cr, a), make(cr, b))).split(".")[1] == \
        str(torch.result_type(make(torch, a), make(torch, b))).split(".")[1]


def test_creation_functions():
    assert cr.tensor([1.5]).dtype == cr.float32 and cr.tensor([1]).dtype == cr.int64
    assert cr.tensor([True]).dtype == cr.bool and cr.tensor(np.zeros(2)).dtype == cr.float64
    assert cr.zeros(2, 3).shape == (2, 3) and cr.ones((2,)).tolist() == [1.0, 1.0]
    assert cr.full((2,), 7).dtype == cr.int64 and cr.full((1,), 1.5).tolist() == [1.5]
    assert cr.arange(5).tolist() == torch.arange(5).tolist()
    np.testing.assert_allclose(cr.arange(0, 1, 0.3).numpy(), torch.arange(0, 1, 0.3).numpy())
    np.testing.assert_allclose(cr.linspace(-1, 1, 5).numpy(), torch.linspace(-1, 1, 5).numpy())
    assert cr.eye(2, 3).tolist() == torch.eye(2, 3).tolist()
    assert cr.zeros_like(cr.ones(2, dtype=cr.float64)).dtype == cr.float64
    assert cr.full_like(cr.ones(2), 3).tolist() == [3.0, 3.0]
    arr = np.arange(3.0)
    shared = cr.from_numpy(arr)
    arr[0] = 10
    assert shared[0].item() == 10 and cr.as_tensor(arr)._data is arr
    assert cr.tensor(arr)._data is not arr
    cr.manual_seed(3)
    first = (cr.rand(3).tolist(), cr.randn(2).tolist(), cr.randint(0, 10, (4,)).tolist(),
             cr.normal(0.0, 1.0, (2,)).tolist(), cr.randperm(5).tolist())
    cr.manual_seed(3)
    second = (cr.rand(3).tolist(), cr.randn(2).tolist(), cr.randint(0, 10, (4,)).tolist(),
              cr.normal(0.0, 1.0, (2,)).tolist(), cr.randperm(5).tolist())
    assert first == second
    g1, g2 = cr.Generator().manual_seed(1), cr.Generator().manual_seed(1)
    assert cr.randn(3, generator=g1).tolist() == cr.randn(3, generator=g2).tolist()
    assert cr.rand_like(cr.zeros(2, dtype=cr.float64)).dtype == cr.float64
    assert cr.randn_like(cr.zeros(2, 2)).shape == (2, 2)
    state = cr.get_rng_state()
    a = cr.rand(2).tolist()
    cr.set_rng_state(state)
    assert cr.rand(2).tolist() == a


def test_bool_to_an_integer_power_is_int64_like_torch():
    for e in (0, 2):
        got, want = cr.tensor([True, False]) ** e, torch.tensor([True, False]) ** e
        assert got.dtype == cr.int64 and got.tolist() == want.tolist() and want.dtype == torch.int64


@pytest.mark.parametrize("data", [np.float64(1.5), np.float32(2), np.int32(3), np.int64(3),
                                  np.bool_(True), np.array(1.5), [1.5, 2], 1.5, [1, 2], True])
def test_tensor_dtype_inference_matches_torch(data):
    assert str(cr.tensor(data).dtype).split(".")[1] == str(torch.tensor(data).dtype).split(".")[1]


def test_tensor_properties():
    a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert a.is_leaf and a.ndim == 2 and a.dim() == 2 and a.numel() == 4 and a.size() == (2, 2)
    assert a.size(-1) == 2 and a.T.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    b = a * 2
    assert not b.is_leaf and b.grad_fn.name() == "MulBackward0"
    d = b.detach()
    assert d.grad_fn is None and not d.requires_grad and d._data is b._data
    assert a.sum().item() == 10.0 and a.detach().numpy().dtype == np.float32
    assert a.double().dtype == cr.float64 and a.long().dtype == cr.int64 and a.float() is a
    assert cr.ones(1).requires_grad_().requires_grad
    assert float(cr.tensor(2.5)) == 2.5 and int(cr.tensor(3)) == 3
    assert len(cr.zeros(4, 2)) == 4 and [t.shape for t in cr.zeros(2, 3)] == [(3,), (3,)]
    assert np.asarray(cr.ones(2)).tolist() == [1.0, 1.0]
    assert (cr.tensor([1, 2]) == cr.tensor([1, 3])).tolist() == [True, False]
    assert (cr.tensor([1.0, 2.0]) < 1.5).dtype == cr.bool
    assert (~(cr.tensor([1, 2]) > 1)).tolist() == [True, False]
    c = cr.zeros(2, 3)
    c[0, 1:] = 5
    c[cr.tensor([False, True])] = cr.tensor([1.0, 2.0, 3.0])
    assert c.tolist() == [[0, 5, 5], [1, 2, 3]]
    assert (7 - cr.tensor([1.0])).tolist() == [6.0] and (2 ** cr.tensor([3.0])).tolist() == [8.0]
    assert (cr.tensor([7]) // 2).tolist() == [3] and (cr.tensor([7]) % 3).tolist() == [1]


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1.5, 2.0, -3.25]),
    lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
    lambda lib: lib.tensor([1, 2, 3]),
    lambda lib: lib.tensor([True, False]),
    lambda lib: lib.tensor(3.5),
    lambda lib: lib.tensor([1e-5, 1.0]),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64),
    lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    lambda lib: lib.zeros(0, 3),
])
def test_repr_like_torch(make):
    assert repr(make(cr)).replace("chainrule.", "torch.") == repr(make(torch))


def test_repr_of_non_leaf_names_the_backward_node():
    assert repr(cr.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward0>)"


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("action, exc, message", [
    (lambda: cr.ones(3, 4) @ cr.ones(5, 2), RuntimeError, r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned \(4 != 5\)"),
    (lambda: cr.ones(2, 3, 4) @ cr.ones(3, 4, 2), RuntimeError, "batch dimensions"),
    (lambda: cr.ones(()) @ cr.ones(2), RuntimeError, "at least 1 dimension"),
    (lambda: cr.ones(3) + cr.ones(4), RuntimeError, r"add: shapes \(3,\) and \(4,\) cannot be broadcast"),
    (lambda: cr.ones(3) * cr.ones(2, 4), RuntimeError, "mul: shapes"),
    (lambda: cr.ones(3) + "a", TypeError, "add: unsupported operand type str"),
    (lambda: cr.ones(2, 3).sum(2), IndexError, r"sum: dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda: cr.ones(2, 3).reshape(4, 2), RuntimeError, r"reshape: shape \[4, 2\] is invalid for input of size 6"),
    (lambda: cr.ones(2, 3).permute(0, 0), RuntimeError, "permute: repeated dim"),
    (lambda: cr.ones(2, 3).expand(4, 3), RuntimeError, "expand: the expanded size"),
    (lambda: cr.cat([cr.ones(2, 3), cr.ones(2, 4)]), RuntimeError, "cat: sizes of tensors must match except in dimension 0"),
    (lambda: cr.stack([cr.ones(2), cr.ones(3)]), RuntimeError, "stack: expects each tensor to be equal size"),
    (lambda: cr.ones(3)[5], IndexError, "__getitem__: index 5 is out of bounds"),
    (lambda: cr.ones(3)[::-1], ValueError, "step must be greater than zero"),
    (lambda: cr.ones(3).gather(0, cr.tensor([4])), RuntimeError, "gather: index 4 is out of bounds for dimension 0 with size 3"),
    (lambda: cr.ones(3).gather(0, cr.tensor([0.5])), RuntimeError, "gather: index must be an integer tensor"),
    (lambda: cr.ones(2, 2).masked_fill(cr.ones(2, 2), 0.0), RuntimeError, "masked_fill: mask must be a bool tensor"),
    (lambda: cr.where(cr.ones(2), cr.ones(2), cr.ones(2)), RuntimeError, "where: expected condition to be a bool tensor"),
    (lambda: cr.pad(cr.ones(2), (1,)), RuntimeError, "pad: padding length must be even"),
    (lambda: cr.pad(cr.ones(2), (-3, 1)), RuntimeError, "pad: cropping .* removes more than"),
    (lambda: cr.tensor([3]) // cr.tensor([0]), RuntimeError, "floor_divide: ZeroDivisionError"),
    (lambda: cr.tensor([True]) - 1, RuntimeError, "sub: not supported for bool tensors"),
    (lambda: 1.5 - cr.tensor([True]), RuntimeError, "sub: not supported for bool tensors"),
    (lambda: cr.tensor([True]) // cr.tensor([True]), NotImplementedError, "floor_divide: not supported for bool"),
    (lambda: cr.tensor([True]) % cr.tensor([True]), NotImplementedError, "remainder: not supported for bool"),
    (lambda: cr.tensor([True]) ** cr.tensor([True]), NotImplementedError, "pow: not supported for bool"),
    (lambda: cr.tensor([3, 4]) % 0, RuntimeError, "remainder: ZeroDivisionError"),
    (lambda: cr.div(cr.tensor([3]), cr.tensor([0]), rounding_mode="trunc"), RuntimeError,
     "div: ZeroDivisionError"),
    (lambda: cr.pad(cr.ones(2, 3), (-1, 1), mode="reflect"), ValueError, "supported in 'constant' mode only"),
    (lambda: cr.tril(cr.ones(3)), RuntimeError, "tril: input tensor must have at least 2 dimensions"),
    (lambda: cr.tensor([1, 2]).mean(), RuntimeError, "mean: could not infer output dtype"),
    (lambda: cr.tensor([1, 2]).requires_grad_(), RuntimeError, "only Tensors of floating point dtype can require gradients"),
    (lambda: cr.ones(2, requires_grad=True).numpy(), RuntimeError, r"Use tensor.detach\(\).numpy\(\)"),
    (lambda: cr.ones(2).item(), RuntimeError, "a Tensor with 2 elements cannot be converted to a Python scalar"),
    (lambda: bool(cr.ones(2)), RuntimeError, "ambiguous"),
    (lambda: cr.ones(2).backward(), RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"),
    (lambda: (cr.ones(2, requires_grad=True) * 2).backward(), RuntimeError, r"grad can be implicitly created only for scalar outputs.*out.sum\(\).backward\(\)"),
    (lambda: (cr.ones(2, requires_grad=True) * 2).backward(cr.ones(3)), RuntimeError, r"gradient has shape \(3,\) but the output has shape \(2,\)"),
    (lambda: cr.tensor("abc"), TypeError, "tensor: expected numbers"),
    (lambda: cr.zeros(-1), RuntimeError, "zeros: Trying to create tensor with negative dimension -1"),
    (lambda: cr.arange(0, 5, 0), RuntimeError, "arange: step must be nonzero"),
    (lambda: cr.randint(5, 2, (3,)), RuntimeError, "randint: expected low < high"),
    (lambda: cr.ones(2, requires_grad=True).__setitem__(0, 1.0), RuntimeError, "__setitem__: a leaf Variable that requires grad"),
    (lambda: cr.zeros(4).unfold(0, 2, 1).__setitem__(0, cr.ones(2, requires_grad=True) * 2), RuntimeError, "__setitem__: writing a value that requires grad into this view"),
    (lambda: (cr.ones(2, 3, requires_grad=True) * 1).__setitem__((0, cr.tensor([1, 2])), 0.0), RuntimeError, "__setitem__: with a gradient through it, a key mixing"),
    (lambda: cr.autograd.grad(cr.ones(1, requires_grad=True) * 2, cr.ones(1)), RuntimeError, "input 0 does not require grad"),
    (lambda: cr.tensor([1]).neg() if False else -cr.tensor([True]), RuntimeError, "neg: negation of a bool tensor"),
    (lambda: cr.zeros(2, 3).T.view(6), RuntimeError, r"view: size \(6,\) is not compatible .* Use .reshape"),
    (lambda: cr.ones(3).__setitem__(slice(None), cr.ones(2)), RuntimeError, r"__setitem__: could not broadcast .*\(2,\)"),
    (lambda: cr.eye(-1), RuntimeError, "eye: Trying to create tensor with negative dimension -1"),
    (lambda: cr.full((2,), "a"), TypeError, "full: fill_value must be a number, got str"),
    (lambda: cr.ones_like([1.0]), TypeError, "ones_like: expected a Tensor, got list"),
    (lambda: cr.randn_like(np.ones(2)), TypeError, "randn_like: expected a Tensor, got ndarray"),
    (lambda: cr.ones(0, 3).max(0), IndexError, r"max: expected reduction dim to have non-zero size; input has shape \(0, 3\)"),
    (lambda: cr.ones(0).min(), RuntimeError, r"min: Expected reduction dim to be specified for input.numel\(\) == 0"),
    (lambda: cr.tensor(2.0).flatten(1), IndexError, r"flatten: dimension out of range \(expected to be in range of \[-1, 0\]"),
    (lambda: cr.ones(2, 3).softmax(2), IndexError, r"softmax: dimension out of range"),
    (lambda: cr.ones(2, 3).squeeze(5), IndexError, r"squeeze: dimension out of range"),
    (lambda: cr.ones(2, 3).transpose(0, 3), IndexError, r"transpose: dimension out of range"),
    (lambda: cr.ones(2, 3).permute(0), RuntimeError, "permute: number of dims don't match"),
    (lambda: cr.ones(2, 3).repeat(2), RuntimeError, "repeat: number of repeat dims"),
    (lambda: cr.ones(2, 3).split([1, 1], 1), RuntimeError, "split: split_with_sizes expects split_sizes to sum exactly to 3"),
    (lambda: cr.ones(2, 3).chunk(0), RuntimeError, "chunk: chunk expects `chunks` to be greater than 0"),
    (lambda: cr.ones(2, 3).index_select(0, cr.tensor([0.5])), RuntimeError, "index_select: index must be a 1-d integer tensor"),
    (lambda: cr.ones(2, 3).gather(0, cr.tensor([0])), RuntimeError, "gather: index tensor must have the same number of dimensions"),
    (lambda: cr.outer(cr.ones(2, 3), cr.ones(2)), RuntimeError, r"outer: 1D tensors expected, got shapes \(2, 3\) and \(2,\)"),
    (lambda: cr.cat([]), ValueError, "cat: expected a non-empty sequence of Tensors"),
    (lambda: cr.maximum(cr.ones(2), cr.ones(3)), RuntimeError, r"maximum: shapes \(2,\) and \(3,\) cannot be broadcast"),
    (lambda: cr.where(cr.ones(2) > 0, cr.ones(3), cr.ones(2)), RuntimeError, "where: shapes"),
    (lambda: cr.ones(2, 3).masked_fill(cr.ones(3, 3) > 0, 1.0), RuntimeError, r"masked_fill: mask of shape \(3, 3\)"),
    (lambda: cr.ones(2, 3).expand(3), RuntimeError, "expand: the number of sizes provided"),
    (lambda: cr.broadcast_to(cr.ones(2, 3), (4, 3)), RuntimeError, "expanded size of the tensor"),
    (lambda: cr.ones(2, 3).mean((0, 0)), RuntimeError, r"mean: dim \(0, 0\) appears multiple times"),
    (lambda: cr.ones(0, 3).amax(0), IndexError, "amax: expected reduction dim to have non-zero size"),
    (lambda: cr.ones(0).argmax(), IndexError, r"argmax: Expected reduction dim to be specified for input.numel\(\) == 0"),
    (lambda: cr.bmm(cr.ones(2, 3), cr.ones(3, 2)), RuntimeError, r"bmm: expected 3-d tensors"),
    (lambda: cr.mm(cr.ones(2, 2, 3), cr.ones(3, 2)), RuntimeError, r"mm: expected 2-d tensors"),
    (lambda: cr.dot(cr.ones(2, 2), cr.ones(2, 2)), RuntimeError, "dot: 1D tensors expected"),
    (lambda: cr.ones(3) @ cr.ones(4), RuntimeError, r"matmul: shapes \(3,\) and \(4,\) are not aligned"),
    (lambda: cr.ones(2).clamp(), RuntimeError, "clamp: at least one of 'min' or 'max' must not be None"),
    (lambda: cr.tensor([2]) ** -1, RuntimeError, "pow: integers to negative integer powers are not allowed"),
    (lambda: cr.ones(3)[cr.tensor([0.5])], IndexError, "__getitem__: tensors used as indices must be long, int, byte or bool"),
    (lambda: cr.ones(3)[cr.tensor([True, False])], IndexError, "__getitem__: boolean index did not match"),
    (lambda: cr.ones(6).reshape(-1, -1), RuntimeError, r"reshape: shape \[-1, -1\] is invalid"),
    (lambda: cr.ones(0).item(), RuntimeError, "item: a Tensor with 0 elements cannot be converted"),
    (lambda: cr.from_numpy([1, 2]), TypeError, "from_numpy: expected np.ndarray, got list"),
    (lambda: cr.autograd.grad(cr.ones(2, requires_grad=True) * 2, cr.ones(2, requires_grad=True)), RuntimeError,
     r"autograd.grad: grad can be implicitly created only for scalar outputs.*Pass grad"),
    (lambda: cr.tensor([1.0]).backward(), RuntimeError, r"does not require grad.*Create the leaves with requires_grad=True"),
])
def test_error_paths(action, exc, message):
    with pytest.raises(exc, match=message):
        action()


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "argmax", "softmax", "logsumexp", "var", "prod", "cumsum"])
def test_out_of_range_dim_on_a_0d_tensor_raises_like_torch(op):
    with pytest.raises(IndexError):
        getattr(torch.tensor(2.5), op)(1)
    with pytest.raises(IndexError, match=f"{op}: dimension out of range"):
        getattr(cr.tensor(2.5), op)(1)


def test_operators_reflected_inplace_and_comparisons_match_torch():
    """Every Python operator on (tensor, tensor), (tensor, scalar) and (scalar, tensor), with
    float, int and bool operands: same values and dtype as torch."""
    import operator as op
    a, b = np.array([[1.5, -2.0, 0.0], [3.0, 2.0, -0.5]], np.float32), np.array([2.0, -2.0, 0.5], np.float32)
    i = np.array([1, 2, 3])
    binary = [op.add, op.sub, op.mul, op.truediv, op.pow, op.floordiv, op.mod,
              op.lt, op.le, op.gt, op.ge, op.eq, op.ne]
    for fn in binary:
        for make in [lambda L: (L.tensor(a), L.tensor(b)), lambda L: (L.tensor(a), 2), lambda L: (2.5, L.tensor(np.abs(a) + 1)),
                     lambda L: (L.tensor(i), 2), lambda L: (3, L.tensor(i)), lambda L: (L.tensor(i), 2.5)]:
            got, want = fn(*make(cr)), fn(*make(torch))
            assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1], (fn, got.dtype, want.dtype)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    for fn in (op.and_, op.or_, op.xor, op.eq, op.ne):
        got, want = fn(cr.tensor([True, False]), cr.tensor([True, True])), fn(torch.tensor([True, False]), torch.tensor([True, True]))
        assert got.tolist() == want.tolist() and got.dtype == cr.bool
    for name in ("__iadd__", "__isub__", "__imul__", "__itruediv__"):
        for rhs in (2, 2.5, b):
            got, want = cr.tensor(a), torch.tensor(a)
            keep = got
            got = getattr(got, name)(cr.tensor(rhs) if isinstance(rhs, np.ndarray) else rhs)
            want = getattr(want, name)(torch.tensor(rhs) if isinstance(rhs, np.ndarray) else rhs)
            assert got is keep                                   # in place: the same tensor
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    for fn in (lambda L: -L.tensor(a), lambda L: +L.tensor(a), lambda L: abs(L.tensor(a)),
               lambda L: L.tensor(a) @ L.tensor(b), lambda L: L.tensor(b) @ L.tensor(a).T):
        np.testing.assert_allclose(fn(cr).numpy(), fn(torch).numpy(), rtol=1e-6)


def test_empty_ones_like_and_enable_grad_as_decorator():
    assert cr.empty(2, 3).shape == (2, 3) and cr.empty(2, dtype=cr.float64).dtype == cr.float64
    assert cr.ones_like(cr.zeros(2, dtype=cr.int64)).tolist() == [1, 1]
    assert cr.ones_like(cr.zeros(2), dtype=cr.float64).dtype == cr.float64
    a = cr.tensor([1.0], requires_grad=True)

    @cr.enable_grad()
    def f(t):
        return t * 2
    with cr.no_grad():
        assert f(a).grad_fn is not None and (a * 2).grad_fn is None


def test_custom_function_saved_output_is_differentiable_as_torch():
    """A saved output is, in backward, the output with its grad_fn: a double backward through
    ``grad * result`` reaches the input (it came out 0 when the unrecorded tensor was saved)."""
    def make(lib):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, i):
                result = i.exp()
                ctx.save_for_backward(result)
                return result

            @staticmethod
            def backward(ctx, grad_output):
                result, = ctx.saved_tensors
                return grad_output * result

        class ExpAndTwice(lib.autograd.Function):   # a tuple output, each saved
            @staticmethod
            def forward(ctx, i):
                a, b = i.exp(), i * 2
                ctx.save_for_backward(a, b)
                return a, b

            @staticmethod
            def backward(ctx, ga, gb):
                a, b = ctx.saved_tensors
                return ga * a + gb * b
        return Exp, ExpAndTwice

    x = np.array([0.3, -1.2, 0.7])
    second = []
    for lib in (cr, torch):
        Exp, ExpAndTwice = make(lib)
        t = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(Exp.apply(t).sum(), t, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), t)
        a, b = ExpAndTwice.apply(t)
        h, = lib.autograd.grad((a + b).sum(), t, create_graph=True)
        hh, = lib.autograd.grad(h.sum(), t)
        second.append([gg.detach().numpy(), hh.detach().numpy()])
        assert lib.autograd.gradgradcheck(Exp.apply, (t,))
    np.testing.assert_allclose(second[0], second[1], rtol=1e-12)


def test_custom_function_save_for_forward_as_torch():
    """``ctx.save_for_forward``: inside ``jvp``, ``ctx.saved_tensors`` is what it saved (the
    backward still sees what ``save_for_backward`` saved)."""
    def make(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, = inputs
                ctx.save_for_backward(x)
                ctx.save_for_forward(3 * x ** 2)   # the local derivative, only for jvp

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * x ** 2 * g

            @staticmethod
            def jvp(ctx, t):
                d, = ctx.saved_tensors
                return d * t
        return Cube

    x, t = np.array([0.5, -1.5, 2.0]), np.array([1.0, 2.0, -0.5])
    results = []
    for lib in (cr, torch):
        Cube = make(lib)
        _, jv = lib.func.jvp(Cube.apply, (lib.tensor(x),), (lib.tensor(t),))
        xs = lib.tensor(x, requires_grad=True)
        g, = lib.autograd.grad(Cube.apply(xs).sum(), xs)
        results.append([jv.numpy(), g.numpy()])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    with pytest.raises(AssertionError, match="save_for_forward expects all arguments to be"):
        cr.autograd.function.FunctionCtx().save_for_forward(3.0)


def test_numpy_of_a_requires_grad_tensor_under_no_grad_as_torch():
    """torch refuses numpy() of a tensor requiring grad only while grad mode is on: a custom
    Function's forward (run without grad) may hand its input to NumPy."""
    for lib in (cr, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            assert x.numpy().tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="numpy"):
            x.numpy()

        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return lib.tensor(t.numpy() * 2)

            @staticmethod
            def backward(ctx, g):
                return g * 2
        y = Double.apply(x)
        y.sum().backward()
        assert y.tolist() == [2.0, 2.0] and x.grad.tolist() == [2.0, 2.0]


def test_custom_function_jvp_of_several_outputs_as_torch():
    """A Function returning a tuple gets each output's tangent from its ``jvp`` (they came out
    zero: only single-output Functions ran the rule); a non-differentiable output gets none."""
    def make(lib):
        class SinCosArg(lib.autograd.Function):
            generate_vmap_rule = True

            @staticmethod
            def forward(x):
                return x.sin(), x.cos(), x.argmax()

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, = inputs
                ctx.mark_non_differentiable(output[2])
                ctx.save_for_forward(x)

            @staticmethod
            def backward(ctx, gs, gc, _):
                raise AssertionError("forward mode only")

            @staticmethod
            def jvp(ctx, t):
                x, = ctx.saved_tensors
                return x.cos() * t, -x.sin() * t, None
        return SinCosArg

    x, t = np.array([0.3, -1.0, 2.0]), np.array([1.0, 0.5, -2.0])
    results = []
    for lib in (cr, torch):
        f = make(lib)
        outs, tangents = lib.func.jvp(lambda v: f.apply(v)[:2], (lib.tensor(x),),
                                      (lib.tensor(t),))
        jac = lib.func.jacfwd(lambda v: f.apply(v)[1])(lib.tensor(x))
        results.append([o.numpy() for o in outs + tangents] + [jac.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_custom_function_mark_dirty_as_torch():
    """mark_dirty: the input modified in place comes back as the same tensor, its history the
    Function's node; a leaf requiring grad is refused, as torch."""
    def make(lib):
        class MulTwo_(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        class AddOneAndCopy(lib.autograd.Function):   # a dirty output beside another
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x, x.clone() * 3

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 + 3 * g2
        return MulTwo_, AddOneAndCopy

    got = []
    for lib in (cr, torch):
        MulTwo_, AddOneAndCopy = make(lib)
        a = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        b = a * 1.5
        version = b._version
        c = MulTwo_.apply(b)
        assert c is b and type(c.grad_fn).__name__ == "MulTwo_Backward"
        assert b._version == version + 2
        d = a * 3   # (exp would save its output, which the Function then overwrites)
        e, f = AddOneAndCopy.apply(d)
        assert e is d
        (c * c).sum().add((e * f).sum()).backward()
        got.append([c.detach().numpy(), e.detach().numpy(), a.grad.numpy()])
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            MulTwo_.apply(lib.ones(2, requires_grad=True))
        assert MulTwo_.apply(lib.ones(2)).tolist() == [2.0, 2.0]
    for x, y in zip(*got):
        np.testing.assert_allclose(x, y, rtol=1e-6)
