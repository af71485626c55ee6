"""``torch.ops.aten`` (and ``.prims``, ``.prim``): ATen's operators by their schema names, as
torch exposes them to Python; ``chainrule/__init__`` puts them on ``chainrule.ops``.

    chainrule.ops.aten.mm(a, b)                  # an OpOverloadPacket: the overload is picked
    chainrule.ops.aten.add.Tensor(a, b, alpha=2) # from the arguments; ``.default``, ``.Tensor``,
    chainrule.ops.aten.sum.dim_IntList(x, [1])   # ``.Scalar``, ... name one overload

Most ATen operators have the signature of the torch function, ``nn.functional`` function or
Tensor method of the same name (``aten.linalg_vector_norm`` is ``linalg.vector_norm``), and
resolve to it. ``_SCHEMAS`` gives those whose schema differs: losses whose ``reduction`` is an
int (0 none, 1 mean, 2 sum), operators that return a tuple torch's Python function does not
(``max_pool2d_with_indices``, ``nll_loss_forward``), ATen's indexing operators (``index`` and
``index_put`` take a list of optional index tensors, ``None`` for a whole dim), and the
``*_backward`` operators — the vector-Jacobian products of the forward operator, computed here
by the forward's own VJP rules (``_vjp``), so they agree with ``backward()`` by construction.
An overload's name is accepted without checking it against ATen's list: the arguments decide,
as they do for the packet.
"""
from __future__ import annotations

import math
import operator
import sys
import types

from .nn import functional as F

_REDUCTIONS = ("none", "mean", "sum")   # ATen's at::Reduction enum
# ATen's ScalarType codes, which its schemas accept for a dtype (``aten.to(x, 6)`` is float32)
_SCALAR_TYPES = ("uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
                 "complex32", "complex64", "complex128", "bool")
# the overloads on Python numbers and lists (``aten.sqrt.int``, ``aten.ge.int``, ``aten.any.bool``)
_ON_NUMBERS = {
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log10": math.log10,
    "log1p": math.log1p, "sin": math.sin, "cos": math.cos, "tan": math.tan, "tanh": math.tanh,
    "asin": math.asin, "acos": math.acos, "atan": math.atan, "ceil": math.ceil,
    "floor": math.floor, "round": lambda a: float(round(a)), "neg": operator.neg,
    "pow": lambda a, b: float(a ** b), "remainder": operator.mod, "floordiv": operator.floordiv,
    "fmod": math.fmod, "gcd": math.gcd, "eq": operator.eq, "ne": operator.ne,
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "any": any,
    "all": all, "len": len, "__contains__": lambda container, item: item in container,
    "__and__": operator.and_, "__or__": operator.or_, "__xor__": operator.xor,
    "__not__": operator.not_, "__getitem__": operator.getitem,
}


def _cr():
    # the package's top-level functions (where, zeros, ...): chainrule imports this module
    # last, so the names are there by the time an operator runs
    return sys.modules["chainrule"]


def _dtype(value):
    """A dtype given as ATen's ScalarType code."""
    if isinstance(value, int) and not isinstance(value, bool):
        name = _SCALAR_TYPES[value] if 0 <= value < len(_SCALAR_TYPES) else f"code {value}"
        if not hasattr(_cr(), name):
            raise TypeError(f"aten: ScalarType {value} ({name}) is not a chainrule dtype")
        return getattr(_cr(), name)
    return value


def _reduction(value):
    return _REDUCTIONS[value] if isinstance(value, int) else value


def _index_key(indices):
    """ATen's ``Tensor?[] indices``: one entry per leading dim, ``None`` keeping the dim."""
    return tuple(slice(None) if i is None else i for i in indices)


def _vjp(forward, primals, cotangent):
    """The gradients of ⟨forward(*primals), cotangent⟩ with respect to each primal (a primal
    that is None or not floating gets None); they carry a graph when an input requires grad."""
    cr = _cr()
    differentiable = cr.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (*primals, cotangent))
    with cr.enable_grad():
        leaves = [p if p is None or not p.is_floating_point() or p.requires_grad
                  else p.detach().requires_grad_() for p in primals]
        out = forward(*leaves)
        wrt = [p for p in leaves if p is not None and p.requires_grad]
        grads = iter(cr.autograd.grad(out, wrt, cotangent, allow_unused=True,
                                      create_graph=differentiable))
    result = []
    for p in leaves:
        g = next(grads) if p is not None and p.requires_grad else None
        result.append(cr.zeros_like(p) if g is None and p is not None
                      and p.is_floating_point() else g)
    return result


def _pool_with_indices(dims):
    def pool(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return getattr(F, f"max_pool{dims}d")(self, kernel_size, stride or None, padding,
                                                 dilation, ceil_mode, return_indices=True)
    return pool


def _pool_backward(dims):
    def backward(grad_output, self, kernel_size, stride, padding, dilation, ceil_mode, indices):
        """x̄ scattered from ȳ by the given ``indices`` (flat offsets within each plane), as
        torch's kernel: the window geometry is not used again."""
        planes = self.shape[:self.ndim - dims]   # (N, C) or (C,)
        flat = grad_output.new_zeros((math.prod(planes), math.prod(self.shape[-dims:])))
        flat = flat.scatter_add(1, indices.reshape(flat.shape[0], -1),
                                grad_output.reshape(flat.shape[0], -1))
        return flat.reshape(self.shape)
    return backward


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """aten::convolution: conv{1,2,3}d, or conv_transpose{1,2,3}d when ``transposed``."""
    dims = weight.ndim - 2
    if transposed:
        return getattr(F, f"conv_transpose{dims}d")(input, weight, bias, stride, padding,
                                                    output_padding, groups, dilation)
    return getattr(F, f"conv{dims}d")(input, weight, bias, stride, padding, dilation, groups)


def convolution_backward(grad_output, input, weight, bias_sizes, stride, padding, dilation,
                         transposed, output_padding, groups, output_mask):
    """(input gradient, weight gradient, bias gradient), each None where ``output_mask`` says;
    the bias gradient is ȳ summed over every dim but the channels (``bias_sizes`` unused)."""
    gx, gw = _vjp(lambda x, w: convolution(x, w, None, stride, padding, dilation, transposed,
                                           output_padding, groups),
                  [input, weight], grad_output)
    gb = grad_output.sum([d for d in range(grad_output.ndim) if d != 1])
    return tuple(g if wanted else None for g, wanted in zip((gx, gw, gb), output_mask))


def nll_loss_forward(self, target, weight, reduction, ignore_index):
    """(loss, total weight): the total weight is Σ w[target] over the targets not ignored (for
    reduction 'none' on a batch, 0 as torch)."""
    cr = _cr()
    loss = F.nll_loss(self, target, weight, ignore_index=ignore_index,
                      reduction=_reduction(reduction))
    if _reduction(reduction) == "none" and self.ndim > 1:
        return loss, cr.zeros((), dtype=self.dtype)
    kept = target != ignore_index
    w = cr.ones(self.shape[1 if self.ndim > 1 else 0], dtype=self.dtype) if weight is None \
        else weight
    safe = cr.where(kept, target, cr.zeros_like(target))
    return loss, (w.detach()[safe] * kept.to(self.dtype)).sum()


def nll_loss_backward(grad_output, self, target, weight, reduction, ignore_index,
                      total_weight):
    """torch's kernel: x̄[i, t_i] = −w[t_i]·ȳ (ȳ_i for 'none'; divided by the given
    ``total_weight`` for 'mean'), 0 elsewhere and where t_i is ``ignore_index``. A 1-D input is
    one sample (its target's first entry)."""
    cr = _cr()
    classes = self.shape[0] if self.ndim == 1 else self.shape[1]
    t = target.reshape(-1)[:1].reshape(()) if self.ndim == 1 else target
    kept = t != ignore_index
    safe = cr.where(kept, t, cr.zeros((), dtype=t.dtype))
    w = cr.ones(classes, dtype=self.dtype) if weight is None else weight
    coef = -w[safe] * kept.to(self.dtype)
    if _reduction(reduction) == "none":
        coef = coef * grad_output.reshape(coef.shape)
    else:
        coef = coef * grad_output.reshape(())
        if _reduction(reduction) == "mean":
            coef = coef / total_weight
    grad = F.one_hot(safe, classes).to(self.dtype) * coef.unsqueeze(-1)
    return grad if self.ndim <= 2 else grad.movedim(-1, 1)


def _trilinear(i1, i2, i3, expand1, expand2, expand3, sumdim, unroll_dim=1):
    """Σ over ``sumdim`` of i1·i2·i3, each first unsqueezed at its ``expand`` dims."""
    cr = _cr()
    a, b, c = i1, i2, i3
    for d in sorted(expand1):
        a = a.unsqueeze(d)
    for d in sorted(expand2):
        b = b.unsqueeze(d)
    for d in sorted(expand3):
        c = c.unsqueeze(d)
    out = a * b * c
    return out.sum(dim=list(sumdim)) if sumdim else out + cr.zeros((), dtype=out.dtype)


def _upsample_nearest(input, output_size, scale_factors=None, *scales, **named_scales):
    if isinstance(scale_factors, (list, tuple)) or scale_factors is None:
        return F.interpolate(input, size=output_size, scale_factor=scale_factors,
                             mode="nearest")
    # the non-vec overload: (input, output_size, scales...) with one float per dim
    return F.interpolate(input, size=output_size, mode="nearest")


def _upsample_nearest_backward(grad_output, output_size, input_size, *scales, **named_scales):
    cr = _cr()
    x = cr.zeros(input_size, dtype=grad_output.dtype)
    return _vjp(lambda t: F.interpolate(t, size=output_size, mode="nearest"), [x],
                grad_output)[0]


def _softmax_backward_data(grad_output, output, dim, input_dtype):
    """x̄ = y·(ȳ − Σ_dim ȳ·y) for y = softmax(x)."""
    return (output * (grad_output - (grad_output * output).sum(dim, keepdim=True))
            ).to(_dtype(input_dtype))


def _log_softmax_backward_data(grad_output, output, dim, input_dtype):
    """x̄ = ȳ − e^y·Σ_dim ȳ for y = log_softmax(x)."""
    return (grad_output - output.exp() * grad_output.sum(dim, keepdim=True)).to(
        _dtype(input_dtype))


def _safe_softmax(self, dim, dtype=None):
    """softmax, with 0 (not NaN) along a slice that is all −∞ (fully masked attention rows),
    and a zero gradient there."""
    cr = _cr()
    masked = (self == -math.inf).all(dim, keepdim=True)
    out = cr.softmax(cr.where(masked, 0.0, self), dim, dtype=dtype)
    return cr.where(masked, cr.zeros((), dtype=out.dtype), out)


def _native_group_norm_backward(grad_out, input, mean, rstd, weight, N, C, HxW, group,
                                output_mask):
    """torch's kernel, from the given ``mean`` and ``rstd`` (N, G): with ds = Σ ȳ·x and
    db = Σ ȳ per (n, c), M = C/G·HxW elements a group and γ per channel,
    x̄ = γ·rstd·ȳ + c₂·x + c₃, c₂ = (Σ_g db·γ·μ − Σ_g ds·γ)·rstd³/M, c₃ = −c₂·μ − Σ_g db·γ·rstd/M;
    γ̄ = Σ_n (ds − db·μ)·rstd;  β̄ = Σ_n db."""
    cr = _cr()
    x = input.reshape(N, group, C // group, HxW)
    dy = grad_out.reshape(x.shape)
    ds, db = (dy * x).sum(-1), dy.sum(-1)                      # (N, G, C/G)
    gamma = (cr.ones(C, dtype=input.dtype) if weight is None else weight
             ).reshape(1, group, C // group)
    mu, r = mean.reshape(N, group, 1), rstd.reshape(N, group, 1)
    m = C // group * HxW
    gx = gw = gb = None
    if output_mask[0]:
        ds_g = (ds * gamma).sum(-1, keepdim=True)
        db_g = (db * gamma).sum(-1, keepdim=True)
        c2 = (db_g * mu - ds_g) * r ** 3 / m
        c3 = -c2 * mu - db_g * r / m
        gx = (gamma.unsqueeze(-1) * r.unsqueeze(-1) * dy + c2.unsqueeze(-1) * x
              + c3.unsqueeze(-1)).reshape(input.shape)
    if output_mask[1] and weight is not None:
        gw = ((ds - db * mu) * r).sum(0).reshape(C)
    if output_mask[2]:
        gb = db.sum(0).reshape(C)
    return gx, gw, gb


def _elementwise_backward(forward):
    """An activation's ``*_backward(grad_output, self, *args)``: the VJP of forward(self, *args)."""
    def backward(grad_output, self, *args):
        return _vjp(lambda x: forward(x, *args), [self], grad_output)[0]
    return backward


def _elu_backward(grad_output, alpha, scale, input_scale, is_result, self_or_result):
    """ELU(x) = scale·(x if x > 0 else α(e^{x·input_scale} − 1)); from the input or, with
    ``is_result``, the output y (then x < 0 ⇔ y < 0 and the slope is input_scale·(y + α·scale))."""
    cr = _cr()
    x = self_or_result
    if is_result:
        slope = cr.where(x > 0, cr.full((), scale, dtype=x.dtype),
                         input_scale * (x + alpha * scale))
    else:
        slope = cr.where(x > 0, cr.full((), scale, dtype=x.dtype),
                         scale * alpha * input_scale * (x * input_scale).exp())
    return grad_output * slope


def _leaky_relu_backward(grad_output, self, negative_slope, self_is_result):
    return grad_output * _cr().where(self > 0, 1.0, negative_slope).to(grad_output.dtype)


def _rrelu_with_noise_backward(grad_output, self, noise, lower, upper, training, self_is_result):
    if training and upper - lower > 1e-6:
        return grad_output * noise
    return _leaky_relu_backward(grad_output, self, (lower + upper) / 2, self_is_result)


def _rrelu_with_noise_functional(self, noise, lower=0.125, upper=1 / 3, training=False,
                                 generator=None):
    cr = _cr()
    if not training:
        slope = (lower + upper) / 2
        return cr.where(self >= 0, self, self * slope), noise
    a = cr.empty_like(self).uniform_(lower, upper, generator=generator)
    noise_out = cr.where(self >= 0, cr.ones_like(self), a)
    return self * noise_out, noise_out


def _embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                   per_sample_weights=None, include_last_offset=False, padding_idx=-1):
    """(bags, offset2bag, bag_size, max_indices), torch's CPU outputs: for 'sum' (mode 0) the
    last three are empty / zeros; for 'mean' and 'max' offset2bag is each index's bag and
    bag_size each bag's count of indices other than ``padding_idx``; max_indices is, for
    'max', the row chosen in each bag and feature, for 'mean' bag_size again."""
    cr = _cr()
    padding = None if padding_idx is None or padding_idx < 0 else padding_idx
    out = F.embedding_bag(indices, weight, offsets, mode=("sum", "mean", "max")[mode],
                          per_sample_weights=per_sample_weights,
                          include_last_offset=include_last_offset, padding_idx=padding)
    bags = out.shape[0]
    if mode == 0:
        zeros = cr.zeros(bags, dtype=indices.dtype)
        return out, cr.zeros(0, dtype=indices.dtype), zeros, zeros.clone()
    starts = offsets[:bags]
    positions = cr.arange(indices.numel())
    offset2bag = (positions.unsqueeze(1) >= starts.unsqueeze(0)).sum(1).to(indices.dtype) - 1
    counted = (indices != padding).to(indices.dtype) if padding is not None \
        else cr.ones_like(indices)
    bag_size = cr.zeros(bags, dtype=indices.dtype).index_add(0, offset2bag, counted)
    if mode == 1:
        return out, offset2bag, bag_size, bag_size.clone()
    rows = weight[indices].detach()                                 # (n, D)
    chosen = cr.full(out.shape, -1, dtype=indices.dtype)
    for b in range(bags):
        members = (offset2bag == b) & (counted > 0)
        if members.any():
            picked = rows[members].argmax(0)                         # first maximum, as torch
            chosen[b] = indices[members][picked]
    return out, offset2bag, bag_size, chosen


def _to_copy(self, *, dtype=None, layout=None, device=None, pin_memory=None,
             non_blocking=False, memory_format=None):
    out = self.to(dtype=dtype or self.dtype, copy=True)
    return out if memory_format is None else out.contiguous(memory_format=memory_format)


def _to(self, *args, dtype=None, layout=None, device=None, pin_memory=None, non_blocking=False,
        copy=False, memory_format=None):
    """aten::to's overloads: (dtype), (device, dtype), (other) positionally, or the tensor
    options as keywords (``to.dtype_layout``), checked as a factory's."""
    from ._device import check_factory
    check_factory("aten.to", None, layout, pin_memory)
    if dtype is not None or device is not None:
        args = (*args, *(a for a in (device, dtype) if a is not None))
    options = {} if memory_format is None else {"memory_format": memory_format}
    return self.to(*(_dtype(a) for a in args), non_blocking=non_blocking, copy=copy, **options)


def _as_number(kind):
    def convert(a):
        return kind(a.item()) if hasattr(a, "item") else kind(a)
    return convert


def _reshape_alias(self, size, stride):
    return self.as_strided(size, stride)


def _aten_loss(name, *params):
    """A loss called by ATen's schema: (self, target, *params) by position or name, its
    ``reduction`` an int (the functional's legacy size_average/reduce are not in the schema)."""
    def loss(self, target, *args, **kwargs):
        kwargs.update(zip(params, args))
        if "reduction" in kwargs:
            kwargs["reduction"] = _reduction(kwargs["reduction"])
        return getattr(F, name)(self, target, **kwargs)
    return loss


def _index_put(self, indices, values, accumulate=False):
    """aten::index_put: ``self`` with values put at ``self[indices]`` (summed into it with
    ``accumulate``, repeated positions adding up). ``None`` in ``indices`` keeps a whole dim, so
    the indexed positions are read off an arange of ``self``'s shape with NumPy's rules."""
    cr = _cr()
    positions = cr.arange(self.numel()).reshape(self.shape)[_index_key(indices)]
    values = values.to(self.dtype).expand(positions.shape)
    return self.flatten().index_put((positions.flatten(),), values.flatten(),
                                    accumulate).reshape(self.shape)


def _index_put_(self, indices, values, accumulate=False, unsafe=False):
    return self.copy_(_index_put(self, indices, values, accumulate))


def _grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    return F.grid_sample(input, grid, ("bilinear", "nearest", "bicubic")[interpolation_mode],
                         ("zeros", "border", "reflection")[padding_mode], align_corners)


def _weight_norm_interface(v, g, dim=0):
    """(v·g/‖v‖, ‖v‖): the norm over every dim but ``dim``; the norm is returned outside the
    graph, as torch's (its gradient reaches v only through the first output)."""
    dims = [d for d in range(v.ndim) if d != dim % v.ndim]
    norm = v.norm(dim=dims, keepdim=True) if dims else v.abs()
    return v * (g / norm), norm.detach()


def _assert_scalar(self, assert_msg):
    if not self:
        raise RuntimeError(assert_msg)


def _fake_quantize(self, scale, zero_point, quant_min, quant_max):
    """y = (clamp(round(x/s) + z, q_min, q_max) − z)·s; its gradient passes where round(x/s) + z
    is within [q_min, q_max] and is 0 elsewhere (torch's straight-through estimator)."""
    q = (self / scale).round() + zero_point
    inside = ((q >= quant_min) & (q <= quant_max)).to(self.dtype)
    y = (q.clamp(quant_min, quant_max) - zero_point) * scale
    return y.detach() + (self - self.detach()) * inside


def _pad(mode):
    def pad(self, padding):
        return F.pad(self, padding, mode=mode)
    return pad


def _max_unpool(self, indices, output_size, stride=None, padding=None):
    """aten::max_unpool2d/3d: ``self`` scattered to the flat ``indices`` of planes of
    ``output_size`` (stride and padding only describe the pooling)."""
    planes = self.shape[:self.ndim - len(output_size)]
    flat = self.new_zeros((math.prod(planes), math.prod(output_size)))
    flat = flat.scatter(1, indices.reshape(flat.shape[0], -1), self.reshape(flat.shape[0], -1))
    return flat.reshape(*planes, *output_size)


_SCHEMAS = {
    "index": lambda self, indices: self[_index_key(indices)],
    "index_put": _index_put,
    "index_put_": _index_put_,
    "_index_put_impl_": _index_put_,
    "_unsafe_index_put": _index_put,
    "_unsafe_index": lambda self, indices: self[_index_key(indices)],
    "slice": lambda self, dim=0, start=None, end=None, step=1:
        self[(slice(None),) * (dim % self.ndim) + (slice(start, end, step),)],
    "convolution": convolution,
    "_convolution": lambda input, weight, bias, stride, padding, dilation, transposed,
    output_padding, groups, benchmark=False, deterministic=False, cudnn_enabled=False,
    allow_tf32=False: convolution(input, weight, bias, stride, padding, dilation, transposed,
                                  output_padding, groups),
    "elu": lambda self, alpha=1, scale=1, input_scale=1: _cr().where(
        self > 0, self * scale, (self * input_scale).expm1() * (alpha * scale)),
    "convolution_backward": convolution_backward,
    "max_pool1d_with_indices": _pool_with_indices(1),
    "max_pool2d_with_indices": _pool_with_indices(2),
    "max_pool3d_with_indices": _pool_with_indices(3),
    "max_pool2d_with_indices_backward": _pool_backward(2),
    "max_pool3d_with_indices_backward": _pool_backward(3),
    "nll_loss_forward": nll_loss_forward,
    "nll_loss2d_forward": nll_loss_forward,
    "nll_loss_backward": nll_loss_backward,
    "nll_loss2d_backward": nll_loss_backward,
    "nll_loss": _aten_loss("nll_loss", "weight", "reduction", "ignore_index"),
    "nll_loss_nd": _aten_loss("nll_loss", "weight", "reduction", "ignore_index"),
    "cross_entropy_loss": _aten_loss("cross_entropy", "weight", "reduction", "ignore_index",
                                     "label_smoothing"),
    "mse_loss": _aten_loss("mse_loss", "reduction"),
    "l1_loss": _aten_loss("l1_loss", "reduction"),
    "smooth_l1_loss": _aten_loss("smooth_l1_loss", "reduction", "beta"),
    "huber_loss": _aten_loss("huber_loss", "reduction", "delta"),
    "binary_cross_entropy": _aten_loss("binary_cross_entropy", "weight", "reduction"),
    "binary_cross_entropy_with_logits": _aten_loss("binary_cross_entropy_with_logits", "weight",
                                                   "pos_weight", "reduction"),
    "threshold_backward": lambda grad_output, self, threshold: _cr().where(
        self <= threshold, 0, grad_output).to(_cr().promote_types(grad_output.dtype, self.dtype)),
    "tanh_backward": lambda grad_output, output: grad_output * (1 - output * output),
    "sigmoid_backward": lambda grad_output, output: grad_output * output * (1 - output),
    "gelu_backward": lambda grad_output, self, approximate="none":
        _vjp(lambda x: F.gelu(x, approximate=approximate), [self], grad_output)[0],
    "softplus_backward": lambda grad_output, self, beta=1, threshold=20: _vjp(
        lambda x: F.softplus(x, beta, threshold), [self], grad_output)[0],
    "hardtanh_backward": lambda grad_output, self, min_val=-1, max_val=1: _vjp(
        lambda x: F.hardtanh(x, min_val, max_val), [self], grad_output)[0],
    "hardswish_backward": _elementwise_backward(lambda x: F.hardswish(x)),
    "hardsigmoid_backward": _elementwise_backward(lambda x: F.hardsigmoid(x)),
    "silu_backward": _elementwise_backward(lambda x: F.silu(x)),
    "mish_backward": _elementwise_backward(lambda x: F.mish(x)),
    "elu_backward": _elu_backward,
    "leaky_relu_backward": _leaky_relu_backward,
    "rrelu_with_noise_backward": _rrelu_with_noise_backward,
    "rrelu_with_noise_functional": _rrelu_with_noise_functional,
    "upsample_nearest1d": _upsample_nearest,
    "upsample_nearest2d": _upsample_nearest,
    "upsample_nearest3d": _upsample_nearest,
    "upsample_nearest2d_backward": _upsample_nearest_backward,
    "_softmax": lambda self, dim, half_to_float: _cr().softmax(self, dim),
    "_log_softmax": lambda self, dim, half_to_float: _cr().log_softmax(self, dim),
    "_softmax_backward_data": _softmax_backward_data,
    "_log_softmax_backward_data": _log_softmax_backward_data,
    "_safe_softmax": _safe_softmax,
    "native_group_norm_backward": _native_group_norm_backward,
    "_trilinear": _trilinear,
    "reflection_pad1d": _pad("reflect"),
    "reflection_pad2d": _pad("reflect"),
    "reflection_pad3d": _pad("reflect"),
    "replication_pad1d": _pad("replicate"),
    "replication_pad2d": _pad("replicate"),
    "replication_pad3d": _pad("replicate"),
    "max_unpool2d": _max_unpool,
    "max_unpool3d": _max_unpool,
    "_to_copy": _to_copy,
    "to": _to,
    "unfold": lambda self, dimension, size, step: self.unfold(dimension, size, step),
    "_unsafe_view": lambda self, size: self.reshape(size),
    "_reshape_alias": _reshape_alias,
    "numpy_T": lambda self: self.permute(*reversed(range(self.ndim))),
    "lift_fresh_copy": lambda self: self.clone(),
    "lift_fresh": lambda self: self,
    "scalar_tensor": lambda s, *, dtype=None, layout=None, device=None, pin_memory=None:
        _cr().tensor(s, dtype=dtype or _cr().get_default_dtype()),
    "Int": _as_number(int),
    "Float": _as_number(float),
    "Bool": _as_number(bool),
    "IntImplicit": _as_number(int),
    "FloatImplicit": _as_number(float),
    "ScalarImplicit": lambda a: a.item(),
    "_cast_Long": lambda self, non_blocking=False: self.long(),
    "_cast_Float": lambda self, non_blocking=False: self.float(),
    "_cast_Double": lambda self, non_blocking=False: self.double(),
    "_cast_Int": lambda self, non_blocking=False: self.int(),
    "grid_sampler": _grid_sampler,
    "_embedding_bag": _embedding_bag,
    "_weight_norm_interface": _weight_norm_interface,
    "frobenius_norm": lambda self, dim=(), keepdim=False:
        _cr().linalg.vector_norm(self, 2, dim or None, keepdim),
    "uniform": lambda self, from_=0.0, to=1.0, *, generator=None:
        _cr().empty_like(self).uniform_(from_, to, generator=generator),
    "normal_functional": lambda self, mean=0.0, std=1.0, *, generator=None:
        _cr().empty_like(self).normal_(mean, std, generator=generator),
    "exponential": lambda self, lambd=1.0, *, generator=None:
        _cr().empty_like(self).exponential_(lambd, generator=generator),
    "_assert_scalar": _assert_scalar,
    "sym_constrain_range": lambda size, *, min=None, max=None: None,
    "sym_constrain_range_for_size": lambda size, *, min=None, max=None: None,
    "fake_quantize_per_tensor_affine": _fake_quantize,
    "_int_mm": lambda self, mat2: self.to(_cr().int32) @ mat2.to(_cr().int32),
    "size": lambda self, dim=None: self.shape if dim is None else self.shape[dim],
    "len": len,
    "numel": lambda self: self.numel(),
    "dim": lambda self: self.ndim,
}

def _collapse(a, start, end):
    """prims.collapse: dims start..end (inclusive) merged into one."""
    return a.reshape(*a.shape[:start], math.prod(a.shape[start:end + 1]), *a.shape[end + 1:])


def _split_dim(a, dim, outer_length):
    """prims.split_dim: dim split into (outer_length, size // outer_length)."""
    return a.reshape(*a.shape[:dim], outer_length, a.shape[dim] // outer_length,
                     *a.shape[dim + 1:])


def _iota(length, *, start, step, dtype, device=None, requires_grad=False):
    return _cr().arange(start, start + length * step, step, dtype=dtype,
                        requires_grad=requires_grad)


# torch.ops.prims (PrimTorch's primitives) and torch.ops.prim (TorchScript's): their own names,
# resolved from these tables only
_PRIMS = {
    "collapse": _collapse,
    "split_dim": _split_dim,
    "iota": _iota,
    "squeeze": lambda a, dimensions: a.squeeze(tuple(dimensions)) if dimensions else a.view(
        a.shape),
    "sum": lambda a, dims, *, output_dtype=None: a.sum(tuple(dims), dtype=output_dtype),
    "prod": lambda a, dims, *, output_dtype=None: _cr().prod(
        _collapse(a.movedim(tuple(dims), tuple(range(a.ndim - len(dims), a.ndim))),
                  a.ndim - len(dims), a.ndim - 1), -1, dtype=output_dtype)
    if dims else a.to(output_dtype or a.dtype),
    "convert_element_type": lambda a, dtype: a.to(_dtype(dtype)),
    "view_of": lambda a: a.view(a.shape),
}
_PRIM = {
    "NumToTensor": lambda n: _cr().tensor(n, dtype=_cr().float64 if isinstance(n, float)
                                          else None),
    "max": max,
    "min": min,
}

_NAMESPACES = (("linalg_", "linalg"), ("special_", "special"), ("fft_", "fft"))


def _resolve(name):
    """The chainrule callable ATen's ``name`` stands for, or None."""
    fn = _resolve_tensor_op(name)
    on_numbers = _ON_NUMBERS.get(name)
    if on_numbers is None:
        return fn
    tensor = _cr().Tensor

    def either(*args, **kwargs):
        if fn is None or not kwargs and not any(isinstance(a, tensor) for a in args):
            return on_numbers(*args, **kwargs)
        return fn(*args, **kwargs)
    return either


def _resolve_tensor_op(name):
    if name in _SCHEMAS:
        return _SCHEMAS[name]
    cr = _cr()
    for prefix, namespace in _NAMESPACES:
        if name.startswith(prefix) and hasattr(cr, namespace):
            fn = getattr(getattr(cr, namespace), name[len(prefix):], None)
            if callable(fn):
                return fn
    if not name.endswith("_"):   # in-place and dunder names: the Tensor method
        for namespace in (cr, F, cr.special):
            fn = getattr(namespace, name, None)
            if callable(fn) and not isinstance(fn, type):
                return fn
    method = getattr(cr.Tensor, name, None)
    if callable(method):
        return lambda self, *args, **kwargs: getattr(self, name)(*args, **kwargs)
    return None


class OpOverload:
    """One overload of an ATen operator (``aten.add.Tensor``); it runs as its packet does."""

    def __init__(self, packet, overload):
        self._packet, self._overloadname = packet, overload
        self.__name__ = f"{packet.__name__}.{overload}"

    def __call__(self, *args, **kwargs):
        return self._packet(*args, **kwargs)

    def name(self):
        return f"{self._packet._namespace}::{self._packet.__name__}" + (
            "" if self._overloadname == "default" else f".{self._overloadname}")

    @property
    def overloadpacket(self):
        return self._packet

    def __repr__(self):
        return (f"<OpOverload(op='{self._packet._namespace}.{self._packet.__name__}', "
                f"overload='{self._overloadname}')>")


class OpOverloadPacket:
    """An ATen operator with all its overloads (``aten.add``); calling it lets the arguments
    pick the overload, as torch does."""

    def __init__(self, name, fn, namespace="aten"):
        self.__name__, self._fn, self._namespace = name, fn, namespace

    def __call__(self, *args, **kwargs):
        for key in ("dtype", "input_dtype"):
            if key in kwargs:
                kwargs[key] = _dtype(kwargs[key])
        if isinstance(kwargs.get("layout"), int):    # ATen's Layout code: 0 is strided
            from ._device import strided
            kwargs["layout"] = strided if kwargs["layout"] == 0 else kwargs["layout"]
        return self._fn(*args, **kwargs)

    def __getattr__(self, overload):
        if overload.startswith("__"):
            raise AttributeError(overload)
        op = OpOverload(self, overload)
        setattr(self, overload, op)   # cached: the next lookup is a plain attribute
        return op

    def overloads(self):
        return [name for name, value in vars(self).items() if isinstance(value, OpOverload)]

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self._namespace}.{self.__name__}')>"


class _OpNamespace(types.ModuleType):
    """``ops.aten``, ``ops.prims``, ``ops.prim``: attribute access builds (and caches) the
    operator's packet."""

    def __init__(self, name, resolve, packet_type=OpOverloadPacket):
        super().__init__(name)
        self._resolve, self._packet_type = resolve, packet_type

    def __getattr__(self, name):
        if name.startswith("__") and name not in _ON_NUMBERS:   # not an operator: __path__, ...
            raise AttributeError(name)
        fn = self._resolve(name)
        if fn is None:
            raise AttributeError(f"'_OpNamespace' '{self.__name__}' object has no attribute "
                                 f"'{name}' (chainrule has no operator of that name)")
        packet = self._packet_type(name, fn, self.__name__)
        setattr(self, name, packet)
        return packet


aten = _OpNamespace("aten", _resolve)
prims = _OpNamespace("prims", _PRIMS.get)
prim = _OpNamespace("prim", _PRIM.get)
