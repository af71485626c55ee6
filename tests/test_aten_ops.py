"""chainrule.ops.aten / .prims / .prim against torch.ops': each case calls the same operator
(packet or overload) with the same arguments in both libraries and compares every output."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from oracle import to_np

rng = np.random.default_rng(0)


def f32(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape).astype(np.float32)


def f64(*shape):
    return rng.standard_normal(shape)


def ints(*shape, high=3):
    return rng.integers(0, high, shape)


def _convert(value, lib):
    if isinstance(value, np.ndarray):
        return lib.tensor(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_convert(v, lib) for v in value)
    if isinstance(value, dict):
        return {k: _convert(v, lib) for k, v in value.items()}
    if isinstance(value, torch.layout) and lib is cr:
        return cr.strided
    if isinstance(value, torch.dtype) and lib is cr:
        return getattr(cr, str(value).split(".")[-1])
    return value


def _op(lib, namespace, path):
    op = getattr(lib.ops, namespace)
    for part in path.split("."):
        op = getattr(op, part)
    return op


def _compare(mine, ref, rtol, atol):
    if isinstance(ref, (tuple, list)):
        assert len(mine) == len(ref)
        for m, r in zip(mine, ref):
            _compare(m, r, rtol, atol)
    elif isinstance(ref, torch.Tensor):
        assert tuple(mine.shape) == tuple(ref.shape)
        assert str(mine.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
        np.testing.assert_allclose(to_np(mine), to_np(ref), rtol=rtol, atol=atol)
    elif ref is None:
        assert mine is None
    else:
        assert type(mine) is type(ref) and (mine == ref or math.isclose(mine, ref)), (mine, ref)


def same(path, *args, namespace="aten", rtol=1e-5, atol=1e-6, **kwargs):
    ref = _op(torch, namespace, path)(*_convert(args, torch), **_convert(kwargs, torch))
    mine = _op(cr, namespace, path)(*_convert(args, cr), **_convert(kwargs, cr))
    _compare(mine, ref, rtol, atol)


x4 = f32(2, 3, 5, 5)
w4 = f32(4, 3, 3, 3)
CASES = [
    # resolved to the function or method of the same name
    ("mm", (f32(3, 4), f32(4, 2)), {}),
    ("add.Tensor", (f32(3), f32(3)), {"alpha": 2}),
    ("sum.dim_IntList", (f32(3, 4), [1]), {"keepdim": True}),
    ("var.correction", (f32(3, 4), [1]), {"correction": 0}),
    ("max.dim", (f32(3, 4), 1), {}),
    ("linalg_vector_norm", (f32(3, 4), 2, [1]), {}),
    ("transpose.int", (f32(3, 4), 0, 1), {}),
    ("new_zeros", (f32(2), [3, 2]), {}),
    ("clamp_min", (f32(5), 0.5), {}),
    ("where.self", (f32(4) > 0, f32(4), f32(4)), {}),
    # ATen-only schemas
    ("index.Tensor", (f32(3, 4, 5), [None, ints(2, high=4)]), {}),
    ("index.Tensor", (f32(3, 4, 5), [ints(2), None, ints(2, high=5)]), {}),
    ("index_put", (f32(3, 4), [None, np.array([0, 2, 2])], f32(3)), {}),
    ("index_put", (f32(3, 4), [np.array([0, 0, 1])], f32(4)), {"accumulate": True}),
    ("slice.Tensor", (f32(5, 6), 1, 1, 100, 2), {}),
    ("convolution", (x4, w4, f32(4), [2, 1], [1, 0], [1, 1], False, [0, 0], 1), {}),
    ("convolution", (x4, f32(3, 2, 3, 3), None, [2, 2], [1, 1], [1, 1], True, [1, 0], 1), {}),
    ("_convolution", (x4, w4, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, False, False,
                      False, False), {}),
    ("max_pool2d_with_indices", (f32(2, 3, 6, 6), [2, 2]), {}),
    ("max_pool1d_with_indices", (f32(2, 3, 7), [3], [2]), {}),
    ("nll_loss_forward", (f32(4, 3), np.array([0, 1, 2, 2]), None, 1, 2), {}),
    ("nll_loss_forward", (f32(4, 3), np.array([0, 1, 2, 2]), f32(3, low=0), 2, -100), {}),
    ("nll_loss_forward", (f32(4, 3), np.array([0, 1, 2, 2]), None, 0, 2), {}),
    ("nll_loss_forward", (f32(3), np.array(1), f32(3, low=0), 0, 2), {}),
    ("cross_entropy_loss", (f32(4, 3), np.array([0, 1, 2, 2]), None, 2, -100, 0.1), {}),
    ("mse_loss", (f32(3, 2), f32(3, 2), 0), {}),
    ("l1_loss", (f32(3, 2), f32(3, 2)), {}),
    ("nll_loss", (f32(4, 3), np.array([0, 1, 2, 2]), f32(3, low=0), 2, 1), {}),
    ("smooth_l1_loss", (f32(3, 2), f32(3, 2), 0, 0.5), {}),
    ("huber_loss", (f32(3, 2), f32(3, 2)), {"reduction": 2, "delta": 0.3}),
    ("binary_cross_entropy", (f32(4, low=0.1, high=0.9), f32(4, low=0, high=1), f32(4), 0), {}),
    ("binary_cross_entropy_with_logits", (f32(4), f32(4, low=0, high=1), None, None, 2), {}),
    ("kl_div", (f32(3, 2), f32(3, 2, low=0.1, high=1)), {"reduction": 2}),
    ("_softmax", (f32(3, 4), 1, False), {}),
    ("_log_softmax", (f32(3, 4), 0, False), {}),
    ("_safe_softmax", (np.array([[0., 1.], [-np.inf, -np.inf]], np.float32), 1), {}),
    ("_to_copy", (f32(3),), {"dtype": torch.float64}),
    ("to.dtype", (f32(3), 4), {}),
    ("to.device", (f32(3), "cpu", torch.int32), {}),
    ("to.dtype_layout", (f32(3),), {"dtype": torch.float64, "layout": torch.strided,
                                    "device": "cpu", "pin_memory": False, "copy": True}),
    ("new_zeros", (f32(2), [3]), {"layout": 0}),
    ("unfold", (f32(8), 0, 3, 2), {}),
    ("_unsafe_view", (f32(2, 6), [3, 4]), {}),
    ("_reshape_alias", (f32(2, 6), [6, 2], [1, 6]), {}),
    ("numpy_T", (f32(2, 3, 4),), {}),
    ("_trilinear", (f32(2, 3), f32(4, 3, 5), f32(2, 5), [1, 3], [0], [1, 2], [2, 3]), {}),
    ("elu", (f32(3, 5), 0.5, 2.0, 1.5), {}),
    ("reflection_pad2d", (f32(1, 2, 4, 4), [1, 2, 0, 1]), {}),
    ("replication_pad1d", (f32(2, 3, 4), [2, 1]), {}),
    ("reflection_pad3d", (f32(1, 1, 3, 3, 3), [1, 1, 1, 1, 1, 1]), {}),
    ("upsample_nearest2d.vec", (f32(1, 2, 3, 3), [6, 5], None), {}),
    ("upsample_nearest2d", (f32(1, 2, 3, 3), [6, 6]), {}),
    ("scalar_tensor", (2.5,), {}),
    ("frobenius_norm.dim", (f32(3, 4), [1]), {}),
    ("grid_sampler", (f32(1, 2, 4, 4), f32(1, 3, 3, 2, low=-1, high=1), 0, 1, False), {}),
    ("_weight_norm_interface", (f32(4, 3), f32(4, 1)), {}),
    ("_int_mm", (rng.integers(-8, 8, (16, 32)).astype(np.int8),
                 rng.integers(-8, 8, (32, 8)).astype(np.int8)), {}),
    ("fake_quantize_per_tensor_affine", (f32(10), 0.1, 3, 0, 20), {}),
    # the *_backward operators
    ("threshold_backward", (f32(5), f32(5), 0.1), {}),
    ("threshold_backward", (ints(5), f32(5), 0.1), {}),
    ("tanh_backward", (f32(4), f32(4, low=-1, high=1)), {}),
    ("sigmoid_backward", (f32(4), f32(4, low=0, high=1)), {}),
    ("gelu_backward", (f32(4), f32(4)), {"approximate": "tanh"}),
    ("softplus_backward", (f32(4), f32(4), 2.0, 1.0), {}),
    ("hardtanh_backward", (f32(6), f32(6), -0.5, 1.0), {}),
    ("elu_backward", (f32(6), 1.0, 1.0, 1.0, False, f32(6)), {}),
    ("elu_backward", (f32(6), 0.5, 2.0, 1.5, True, f32(6)), {}),
    ("leaky_relu_backward", (f32(6), f32(6), 0.2, False), {}),
    ("_softmax_backward_data", (f32(3, 4), f32(3, 4, low=0, high=1), 1, 6), {}),
    ("_log_softmax_backward_data", (f32(3, 4), f32(3, 4, high=0), 1, torch.float32), {}),
    ("convolution_backward", (f32(2, 4, 3, 3), x4, w4, [4], [1, 1], [0, 0], [1, 1], False,
                              [0, 0], 1, [True, True, True]), {}),
    ("convolution_backward", (f32(2, 4, 3, 3), x4, w4, None, [1, 1], [0, 0], [1, 1], False,
                              [0, 0], 1, [False, True, False]), {}),
    ("nll_loss_backward", (f32(), f32(4, 3), np.array([0, 1, 2, 2]), None, 1, 2,
                           np.array(3.0, np.float32)), {}),
    ("nll_loss_backward", (f32(4), f32(4, 3), np.array([0, 1, 2, 2]), f32(3), 0, -100,
                           np.array(0.0, np.float32)), {}),
    ("nll_loss_backward", (f32(1), f32(3), np.array([2, 3, 0]), None, 2, 10,
                           np.array(3.0, np.float32)), {}),
    ("native_group_norm_backward", (f32(2, 6, 4), f32(2, 6, 4), f32(2, 3), f32(2, 3, low=0.5),
                                    f32(6), 2, 6, 4, 3, [True, True, True]), {}),
    ("upsample_nearest2d_backward", (f32(1, 2, 6, 6), [6, 6], [1, 2, 3, 3]), {}),
    # overloads on Python numbers and lists
    ("sqrt.int", (4,), {}),
    ("ceil.float", (2.5,), {}),
    ("ge.int", (1, 2), {}),
    ("floordiv.int", (7, 2), {}),
    ("any.bool", ([False, True],), {}),
    ("__contains__.int_list", ([1, 2], 2), {}),
    ("__and__.bool", (True, False), {}),
    ("Int.Tensor", (np.array(3.7, np.float32),), {}),
    ("Float.Scalar", (3,), {}),
]


@pytest.mark.parametrize("path, args, kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_aten(path, args, kwargs):
    same(path, *args, **kwargs)


def test_max_pool_backward_uses_the_given_indices():
    x = f32(2, 3, 6, 6)
    _, idx = torch.ops.aten.max_pool2d_with_indices(torch.tensor(x), [2, 2])
    shuffled = idx.flip(-1).numpy()    # not the windows' own maxima: torch scatters to them
    same("max_pool2d_with_indices_backward", f32(2, 3, 3, 3), x, [2, 2], [2, 2], [0, 0],
         [1, 1], False, shuffled)


def test_max_unpool_takes_the_output_size():
    x = f32(2, 3, 4, 4)
    y, idx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    same("max_unpool2d", y.numpy(), idx.numpy(), [4, 4])


def test_embedding_bag_outputs():
    w, idx, off = f32(10, 3), np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 5])
    for mode in (0, 1, 2):
        same("_embedding_bag", w, idx, off, False, mode)
    same("_embedding_bag", w, idx, off, False, 1, False, None, False, 4)


@pytest.mark.parametrize("path, args, kwargs", [
    ("collapse", (f32(2, 3, 4, 5), 1, 2), {}),
    ("split_dim", (f32(6, 4), 0, 3), {}),
    ("squeeze", (f32(1, 2, 1), [0, 2]), {}),
    ("sum", (f32(2, 3, 4), (0, 2)), {}),
    ("prod", (f32(2, 3, 4), (2, 0)), {}),
    ("convert_element_type", (f32(3), torch.int64), {}),
    ("view_of", (f32(2, 3),), {}),
    ("iota", (5,), {"start": 2, "step": 3, "dtype": torch.int64, "device": "cpu",
                    "requires_grad": False}),
])
def test_prims(path, args, kwargs):
    same(path, *args, namespace="prims", **kwargs)


@pytest.mark.parametrize("path, args", [("NumToTensor", (5,)), ("NumToTensor", (5.0,)),
                                        ("max", (3, 4)), ("min", (1, -1))])
def test_prim(path, args):
    same(path, *args, namespace="prim")


def test_backward_operators_are_differentiable():
    """convolution_backward's weight gradient, differentiated again, as torch's."""
    x, w, g = f64(1, 2, 5, 5), f64(3, 2, 3, 3), f64(1, 3, 3, 3)
    grads = []
    for lib in (torch, cr):
        xs, ws, gs = (lib.tensor(a, requires_grad=True) for a in (x, w, g))
        gx, gw, _ = lib.ops.aten.convolution_backward(gs, xs, ws, None, [1, 1], [0, 0], [1, 1],
                                                      False, [0, 0], 1, [True, True, False])
        grads.append(lib.autograd.grad((gx * gx).sum() + (gw * gw).sum(), [xs, ws, gs]))
    for mine, ref in zip(grads[1], grads[0]):
        np.testing.assert_allclose(to_np(mine), to_np(ref), rtol=1e-10, atol=1e-10)


def test_weight_norm_interface_norm_is_outside_the_graph():
    v = cr.randn(4, 3, requires_grad=True)
    w, norm = cr.ops.aten._weight_norm_interface(v, cr.randn(4, 1))
    assert w.requires_grad and not norm.requires_grad      # as torch's


def test_packets_and_overloads():
    add = cr.ops.aten.add
    assert repr(add) == "<OpOverloadPacket(op='aten.add')>"
    assert add.Tensor.name() == "aten::add.Tensor" and add.default.name() == "aten::add"
    assert add.Tensor.overloadpacket is add and "Tensor" in add.overloads()
    assert repr(cr.ops.prims.collapse.default) == \
        "<OpOverload(op='prims.collapse', overload='default')>"
    with pytest.raises(AttributeError, match="'aten' object has no attribute 'no_such_op'"):
        cr.ops.aten.no_such_op
    with pytest.raises(TypeError, match="ScalarType 10"):
        cr.ops.aten.to(cr.ones(2), 10)     # complex128: not a chainrule dtype
    assert not hasattr(cr, "aten") and not hasattr(cr, "prims")
