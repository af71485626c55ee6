"""Ops torch names on their own that chainrule composes from its primitives.

Each function here is its definition and nothing more: the gradients (VJP, JVP and every higher
order) come from the rules of the primitives it is built of, so there is no rule to get wrong.
Where torch's derivative at a special point (a zero, a nan, a tie) differs from what the naive
composition would give, the composition is arranged so that it agrees, and the comment says so.
"""
from __future__ import annotations

import builtins
import itertools
import math
import warnings

import numpy as np

from .. import _dtype, _memory_format, return_types
from .._argcompat import torch_type_name
from .._mathfun import linspace_like_torch
from .._tensor_base import TensorBase, normalize_dim
from ..backends.namespace import reduced_axes
from ._util import check_tensor
from .elementwise import (Logit, as_operand, ceil, clamp, div, exp2, floor, ge, isfinite, isnan,
                          le, lerp, logical_or, mul, operands, pow, round, sin, sub, to_float,
                          where)
from .elementwise import Nextafter, _apply_binary, _predicate
from .indexing import gather, index_select, write_at
from .linalg import bmm, integral_scalars, matmul, mv, outer
from .matrix import cross as linalg_cross, safe_sqrt, vector_norm
from .reduction import amax, any, cumprod, cumsum, sum
from .scatter import index_put
from .rearrange import diagonal, unfold
from .shape import (alias, as_strided, cat, expand, narrow, pad, permute, reshape, split,
                    squeeze, stack, transpose, unbind, unsqueeze)
from .shape import t as _t
from .sorting import sort


# ---------------------------------------------------------------------------- pointwise
def reciprocal(input):
    """out = 1 / input (integers give the default float dtype)."""
    check_tensor(input, "reciprocal")
    return div(1, input)


def positive(input):
    """out = +input: ``input`` itself (torch raises for bool)."""
    check_tensor(input, "positive")
    if input._data.dtype == np.bool_:
        raise TypeError("positive: the `+` operator, on a bool tensor is not supported.")
    return input


def sgn(input):
    """sign(input) for real tensors (torch's complex-aware sign)."""
    return input.sign()


signbit = _predicate(np.signbit, "signbit", "True where the sign bit is set (also for −0.0).")


def logit(input, eps=None):
    """out = log(z / (1 − z)), z = clamp(input, eps, 1 − eps) when ``eps`` is given (then the
    gradient is 0 outside [eps, 1 − eps], as torch's)."""
    check_tensor(input, "logit")
    return Logit.apply(to_float(input), eps=None if eps is None else float(eps))


def sinc(input):
    """out = sin(πx) / (πx), and 1 at x = 0 (where the gradient is 0)."""
    check_tensor(input, "sinc")
    x = to_float(input)
    zero = x == 0
    # a safe denominator at 0: where() would pass 0·(0/0) = nan back through the unused branch
    safe = where(zero, as_operand(1, x.dtype, x), x) * math.pi
    return where(zero, as_operand(1, x.dtype, x), sin(safe) / safe)


def deg2rad(input):
    """out = input · π / 180."""
    check_tensor(input, "deg2rad")
    return to_float(input) * (math.pi / 180)


def rad2deg(input):
    """out = input · 180 / π."""
    check_tensor(input, "rad2deg")
    return to_float(input) * (180 / math.pi)


def _nan_ignoring(a, b, keep_a, op):
    a, b = operands(a, b, op)
    if a._data.dtype.kind not in "fiub":
        raise TypeError(f"{op}: unsupported dtype {a.dtype}")
    # a wins where it is kept or b is nan; the gradient follows the winner (torch's rule)
    return where(logical_or(keep_a(a, b), isnan(b)), a, b)


def fmax(input, other):
    """Elementwise maximum that ignores nan: out = max(a, b), the other where one is nan."""
    return _nan_ignoring(input, other, ge, "fmax")


def fmin(input, other):
    """Elementwise minimum that ignores nan: out = min(a, b), the other where one is nan."""
    return _nan_ignoring(input, other, le, "fmin")


def float_power(input, exponent):
    """out = input ** exponent computed in float64 (both operands promoted)."""
    if isinstance(input, TensorBase):
        input = input.to(_dtype.float64)
    if isinstance(exponent, TensorBase):
        exponent = exponent.to(_dtype.float64)
    elif isinstance(input, TensorBase):
        exponent = float(exponent)
    return pow(input, exponent)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan → ``nan``, +inf → ``posinf`` (default: the dtype's largest), −inf → ``neginf``
    (default: its lowest). The gradient is 0 at the replaced elements."""
    check_tensor(input, "nan_to_num")
    data = input._data
    if data.dtype.kind != "f":
        return input.clone()
    info = np.finfo(data.dtype)
    fixed = np.nan_to_num(data, nan=nan, posinf=info.max if posinf is None else posinf,
                          neginf=info.min if neginf is None else neginf)
    return where(isfinite(input), input, input._make(fixed.astype(data.dtype, copy=False)))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Σ over ``dim`` treating nan as 0 (its gradient there is 0)."""
    check_tensor(input, "nansum")
    if input._data.dtype.kind == "f":
        input = where(isnan(input), as_operand(0, input.dtype, input), input)
    return sum(input, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` of the elements that are not nan."""
    check_tensor(input, "nanmean")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got "
                           f"{input.dtype}")
    count = sum((~isnan(input)).to(input.dtype), dim, keepdim, dtype=dtype)
    return nansum(input, dim, keepdim, dtype=dtype) / count


def renorm(input, p, dim, maxnorm):
    """Each slice ``input.select(dim, i)`` whose p-norm exceeds ``maxnorm`` scaled down to norm
    maxnorm: out = x · maxnorm / (‖x‖_p + 10⁻⁷) there, x elsewhere (torch's formula and
    gradient). Shapes: (*) with at least 2 dims -> (*)."""
    check_tensor(input, "renorm")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           "dimensions")
    d = normalize_dim(dim, input.ndim, "renorm")
    norm = vector_norm(input, p, tuple(i for i in range(input.ndim) if i != d), keepdim=True)
    return input * (maxnorm / (norm + 1e-7)).where(norm > maxnorm, 1.0)


def clamp_min(input, min):
    """out = max(input, min)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """out = min(input, max)."""
    return clamp(input, max=max)


# ---------------------------------------------------------------------------- fused arithmetic
def addcmul(input, tensor1, tensor2, *, value=1):
    """out = input + value · tensor1 · tensor2 (broadcasting)."""
    return input + (tensor1 * value if value != 1 else tensor1) * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    """out = input + value · tensor1 / tensor2 (broadcasting; floating tensors only)."""
    if tensor1._data.dtype.kind in "iub" and tensor2._data.dtype.kind in "iub":
        raise RuntimeError("addcdiv: integer division with addcdiv is no longer supported; "
                           "divide with torch.div's rounding_mode instead")
    return input + (tensor1 * value if value != 1 else tensor1) / tensor2


def _scaled_sum(input, product, beta, alpha, op):
    """beta · input + alpha · product, where beta = 0 ignores input (nan and inf too)."""
    check_tensor(input, op)
    out_shape = tuple(product.shape)
    try:
        fits = np.broadcast_shapes(tuple(input.shape), out_shape) == out_shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} cannot be broadcast to the "
                           f"product's shape {out_shape}")
    beta, alpha = integral_scalars(product.dtype, beta, alpha, op, allow_float=op != "addr")
    if product.dtype is _dtype.bool_:   # torch's logical form: (beta ∧ input) ∨ (alpha ∧ product)
        term = product if alpha else product._make(np.zeros_like(product._data))
        return logical_or(input, term) if beta else term
    term = product if alpha == 1 else product * alpha
    if beta == 0:
        return term
    return (input if beta == 1 else input * beta) + term


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """out = β·input + α·(mat @ vec). Shapes: mat (n, m), vec (m,), input broadcastable to (n,)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha, "addmv")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """out = β·input + α·(vec1 ⊗ vec2). Shapes: vec1 (n,), vec2 (m,), input to (n, m)."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha, "addr")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """out = β·input + α·(batch1 @ batch2). Shapes: (b, n, k) @ (b, k, m), input to (b, n, m)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """out = β·input + α·Σ_b batch1[b] @ batch2[b]. Shapes: (b, n, k), (b, k, m) -> (n, m)."""
    return _scaled_sum(input, sum(bmm(batch1, batch2), 0), beta, alpha, "addbmm")


# ---------------------------------------------------------------------------- shape
def _tensors_arg(tensors, op, non_empty=False):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if non_empty and not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    for t in tensors:
        check_tensor(t, op, "each input")
    return tensors


def _at_least(op, ndim, place):
    def fn(*tensors):
        args = _tensors_arg(tensors, op)
        out = tuple(t if t.ndim >= ndim else reshape(t, place(tuple(t.shape))) for t in args)
        return out[0] if len(tensors) == 1 and isinstance(tensors[0], TensorBase) else out
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = (f"Each input viewed with at least {ndim} dims (tensors with more are returned "
                  "as they are); one tensor in, one out; several (or a sequence) in, a tuple out.")
    return fn


atleast_1d = _at_least("atleast_1d", 1, lambda s: (1,) if not s else s)
atleast_2d = _at_least("atleast_2d", 2, lambda s: (1, 1) if not s else (1,) + s)
atleast_3d = _at_least("atleast_3d", 3, lambda s: (1, 1, 1) if not s else
                       (1,) + s + (1,) if len(s) == 1 else s + (1,))


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D inputs), after :func:`atleast_1d`."""
    ts = atleast_1d(*_tensors_arg((tensors,), "hstack", True))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0 after :func:`atleast_2d` (1-D inputs become rows)."""
    return cat(atleast_2d(*_tensors_arg((tensors,), "vstack", True)), 0)


row_stack = vstack


def dstack(tensors):
    """Concatenate along dim 2 after :func:`atleast_3d`."""
    return cat(atleast_3d(*_tensors_arg((tensors,), "dstack", True)), 2)


def column_stack(tensors):
    """0-d and 1-D inputs become columns (n, 1); then concatenate along dim 1."""
    ts = _tensors_arg((tensors,), "column_stack", True)
    return cat([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts], 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into views along ``dim``: an int n gives n parts (the first size % n one longer,
    like ``np.array_split``); a sequence of indices gives the parts between them."""
    check_tensor(input, "tensor_split")
    d = normalize_dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    if isinstance(indices_or_sections, TensorBase):
        indices_or_sections = (indices_or_sections.item() if indices_or_sections.ndim == 0
                               else indices_or_sections.tolist())
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {n}")
        q, r = divmod(size, n)
        bounds = list(itertools.accumulate([0] + [q + 1] * r + [q] * (n - r)))
    else:
        points = [min(max(int(i) if i >= 0 else size + int(i), 0), size)
                  for i in indices_or_sections]
        bounds = [0] + points + [size]
    return tuple(narrow(input, d, a, max(b - a, 0)) for a, b in zip(bounds, bounds[1:]))


def _named_split(op, dim, min_ndim):
    def fn(input, indices_or_sections):
        check_tensor(input, op)
        if input.ndim < min_ndim:
            raise RuntimeError(f"torch.{op} requires a tensor with at least {min_ndim} dimension, "
                               f"but got a tensor with {input.ndim} dimensions!")
        d = 0 if (op == "hsplit" and input.ndim == 1) else dim
        if isinstance(indices_or_sections, int) and (
                indices_or_sections == 0 or input.shape[d] % indices_or_sections):
            raise RuntimeError(f"torch.{op} attempted to split along dimension {d}, but the size "
                               f"of the dimension {input.shape[d]} is not divisible by the split_size "
                               f"{indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f":func:`tensor_split` along dim {dim}; an int must divide that dim evenly."
    return fn


hsplit = _named_split("hsplit", 1, 1)
vsplit = _named_split("vsplit", 0, 2)
dsplit = _named_split("dsplit", 2, 3)


def tile(input, dims):
    """Repeat ``input`` ``dims[i]`` times along each dim; missing leading dims count as 1 (on
    either side)."""
    check_tensor(input, "tile")
    if isinstance(dims, int) or not hasattr(dims, "__iter__"):
        raise TypeError(f"tile(): argument 'dims' must be tuple of ints, not {type(dims).__name__}")
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return input.repeat(*dims)


def movedim(input, source, destination):
    """Move the dims ``source`` to the positions ``destination`` (the others keep their order)."""
    check_tensor(input, "movedim")
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    n = input.ndim
    src = [normalize_dim(d, n, "movedim") for d in src]
    dst = [normalize_dim(d, n, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in `source` or `destination`")
    rest = iter(d for d in range(n) if d not in src)
    where_from = dict(zip(dst, src))
    return permute(input, tuple(where_from[i] if i in where_from else next(rest) for i in range(n)))


moveaxis = movedim


def swapdims(input, dim0, dim1):
    """Alias of :func:`transpose`."""
    return transpose(input, dim0, dim1)


def ravel(input):
    """The elements as a 1-D tensor (a view when the layout allows)."""
    check_tensor(input, "ravel")
    return reshape(input, (-1,))


def select(input, dim, index):
    """``input`` indexed at ``index`` along ``dim`` (that dim removed): a view."""
    check_tensor(input, "select")
    d = normalize_dim(dim, input.ndim, "select")
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{tuple(input.shape)} at dimension {dim}")
    return squeeze(narrow(input, d, index % size, 1), d)


def adjoint(input):
    """The conjugate transpose of each matrix, as a view; for real tensors the transpose of
    the last two dims. Shapes: (*, m, n) -> (*, n, m)."""
    check_tensor(input, "adjoint")
    if input.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input.ndim}-D tensor.")
    return transpose(input, -2, -1)


def sum_to_size(input, *size):
    """``input`` summed down to ``size``: over the leading dims ``size`` lacks and over the dims
    where ``size`` is 1 (the reverse of :meth:`expand`, as gradients are reduced). ``input``
    itself when the shapes agree. Shapes: (*) -> size, which must expand to input's shape."""
    check_tensor(input, "sum_to_size")
    if not size:
        raise TypeError("sum_to_size() missing 1 required positional argument: 'size'")
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    have = tuple(input.shape)
    if len(shape) > len(have) or builtins.any(
            s not in (1, h) for s, h in zip(reversed(shape), reversed(have))):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(have)}}}.")
    axes = reduced_axes(have, shape)
    return reshape(sum(input, axes, keepdim=True), shape) if axes else input


def rsub(input, other, *, alpha=1):
    """out = other − alpha·input: ``sub`` with its operands swapped (torch.rsub)."""
    check_tensor(input, "rsub")
    return sub(other, input, alpha=alpha)


def ldexp(input, other):
    """out = input · 2^other, floating: torch's input · pow(2.0, other), so the dtype is that
    product's (an integer input times a float64 0-d ``other`` is float64)."""
    check_tensor(input, "ldexp")
    return mul(input, exp2(other) if isinstance(other, TensorBase) else 2.0 ** other)


def nextafter(input, other):
    """The next floating-point value after each element of ``input`` towards ``other``
    (elementwise, broadcasting). Gradients as torch's: 1 for input, 0 for other."""
    a, b = operands(input, other, "nextafter")
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"nextafter: expected floating tensors, got {a.dtype}")
    return _apply_binary(Nextafter, a, b, "nextafter")


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with the entries at ``index`` of its flattened view replaced by
    ``source`` (also read flat; ``accumulate``: added, repeats adding up). Negative indices
    count from the end. Differentiable in input (ḡ with the written entries zeroed unless
    accumulating) and source (ḡ at index)."""
    check_tensor(input, "put")
    check_tensor(index, "put", "index")
    check_tensor(source, "put", "source")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"put(): Expected a long tensor for index, but got {index.dtype}")
    if index.numel() != source.numel():
        raise IndexError(f"put(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    n = input.numel()
    idx = index._data.reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"put(): index {bad} out of range for tensor of size "
                         f"{tuple(input.shape)}.")
    flat_index = index._make(np.where(idx < 0, idx + n, idx).astype(np.int64))
    out = index_put(reshape(input, (-1,)), (flat_index,), reshape(source, (-1,)), accumulate)
    return reshape(out, tuple(input.shape))


def take(input, index):
    """``input`` treated as 1-D, read at ``index``; the result has index's shape. Negative
    indices count from the end."""
    check_tensor(input, "take")
    check_tensor(index, "take", "index")
    n = input.numel()
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].flat[0]
        raise IndexError(f"take(): index {bad} out of range for tensor of size "
                         f"{tuple(input.shape)}.")
    flat_index = index._make(np.where(idx < 0, idx + n, idx).reshape(-1).astype(np.int64))
    return reshape(index_select(reshape(input, (-1,)), 0, flat_index), tuple(index.shape))


def take_along_dim(input, indices, dim=None):
    """Values at ``indices`` along ``dim`` (input and indices broadcast in the other dims);
    with ``dim=None``, along the flattened input."""
    check_tensor(input, "take_along_dim")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of "
                           f"dimensions, but got {input.ndim} and {indices.ndim}")
    shape_in = list(np.broadcast_shapes(*[tuple(1 if i == d else s for i, s in enumerate(t.shape))
                                          for t in (input, indices)]))
    shape_idx = list(shape_in)
    shape_in[d], shape_idx[d] = input.shape[d], indices.shape[d]
    if indices._data.size and indices._data.min() < 0:   # along a dim, torch counts from the end
        indices = indices._make(np.where(indices._data < 0, indices._data + input.shape[d],
                                         indices._data))
    return gather(expand(input, *shape_in), d, expand(indices, *shape_idx))


# ---------------------------------------------------------------------------- products
def tensordot(a, b, dims=2):
    """Σ over the contracted dims: out[i…, j…] = Σ_k a[i…, k…] · b[k…, j…]. ``dims``: an int n
    (a's last n dims with b's first n) or two lists of dims."""
    check_tensor(a, "tensordot", "a")
    check_tensor(b, "tensordot", "b")
    if isinstance(dims, TensorBase):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [normalize_dim(d, a.ndim, "tensordot") for d in da]
    db = [normalize_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db):
        raise RuntimeError("tensordot: both dimension lists should have same length")
    for i, j in zip(da, db):
        # torch broadcasts a contracted dim of size 1: the other side is summed over it first
        if a.shape[i] == 1 and b.shape[j] != 1:
            b = sum(b, j, keepdim=True)
        elif b.shape[j] == 1 and a.shape[i] != 1:
            a = sum(a, i, keepdim=True)
        elif a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has "
                               f"size {a.shape[i]} in dim {i} and second has size {b.shape[j]} "
                               f"in dim {j}")
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    left = reshape(permute(a, tuple(free_a + da)), (-1, k))
    right = reshape(permute(b, tuple(db + free_b)), (k, -1))
    return reshape(matmul(left, right), tuple(a.shape[d] for d in free_a) +
                   tuple(b.shape[d] for d in free_b))


def inner(input, other):
    """Σ over the last dims: out[i…, j…] = Σ_k input[i…, k] · other[j…, k] (a product for 0-d)."""
    check_tensor(input, "inner")
    check_tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {tuple(input.shape)} and {tuple(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def vdot(input, other):
    """Σ_i input[i] · other[i] of two 1-D tensors (real: the same as :func:`dot`)."""
    check_tensor(input, "vdot")
    if input.ndim != 1 or getattr(other, "ndim", None) != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and "
                           f"{getattr(other, 'ndim', '?')}D tensors")
    return input.dot(other)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (input and other broadcast):
    a × b = (a₂b₃ − a₃b₂, a₃b₁ − a₁b₃, a₁b₂ − a₂b₁). Without ``dim``, the first dim of size 3
    of ``input``, with torch's deprecation warning (:func:`chainrule.linalg.cross` takes
    dim=−1). Shapes: both (*) with the same number of dims, size 3 along ``dim`` -> (*)."""
    check_tensor(input, "cross")
    check_tensor(other, "cross", "other")
    if dim is None:
        warnings.warn("Using cross without specifying the dim arg is deprecated. Please either "
                      "pass the dim explicitly or simply use linalg.cross. The default value of "
                      "dim will change to agree with that of linalg.cross in a future release.",
                      UserWarning, stacklevel=2)
        dim = next((i for i, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


def dist(input, other, p=2):
    """‖input − other‖_p over all elements (the two broadcast): (Σ |aᵢ − bᵢ|^p)^(1/p); p = ∞
    the largest |aᵢ − bᵢ|, p = 0 the number that differ. Shapes: broadcastable -> ()."""
    return vector_norm(input - other, p)


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 and each row of x2:
    out[…, i, j] = ‖x1[…, i, :] − x2[…, j, :]‖_p (p ≥ 0; ∞ the largest |difference|).
    For p = 2 with more than 25 rows on a side (or ``compute_mode='use_mm_for_euclid_dist'``)
    as torch: √(‖x1ᵢ‖² + ‖x2ⱼ‖² − 2 x1ᵢ·x2ⱼ) by one matrix product — faster, less exact for
    near points; ``'donot_use_mm_for_euclid_dist'`` never. The gradient at a zero distance is
    0, as torch's. Shapes: x1 (B*, P, M), x2 (B*, R, M), batch dims broadcast -> (B*, P, R)."""
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{torch_type_name(x.dtype)}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"cdist: expected both inputs of one dtype, got {x1.dtype} and "
                           f"{x2.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p == 2 and (compute_mode == _CDIST_MODES[1] or compute_mode == _CDIST_MODES[0]
                   and builtins.max(x1.shape[-2], x2.shape[-2]) > 25):
        squared = ((x1 * x1).sum(-1).unsqueeze(-1) + (x2 * x2).sum(-1).unsqueeze(-2)
                   - 2 * matmul(x1, x2.mT))
        return safe_sqrt(clamp(squared, min=0))
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p != math.inf:
        return vector_norm(diff, p, -1)
    # torch's gradient of the ∞-norm: the whole ḡ to each tied largest |difference| (amax
    # would share it): the value is the detached max, the gradient that of the ties' sum
    a = diff.abs()
    top = amax(a, -1, keepdim=True).detach()
    return squeeze(top, -1) + where(a == top, a - top, 0.0).sum(-1)


def kron(input, other):
    """Kronecker product: out[i·m + k, …] = input[i, …] · other[k, …] over every dim (the
    shorter operand gets leading 1s)."""
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other")
    n = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (n - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (n - other.ndim) + tuple(other.shape))
    # interleave: a as (a0, 1, a1, 1, …), b as (1, b0, 1, b1, …); their product, merged pairwise
    pa = reshape(a, tuple(x for s in a.shape for x in (s, 1)))
    pb = reshape(b, tuple(x for s in b.shape for x in (1, s)))
    return reshape(pa * pb, tuple(x * y for x, y in zip(a.shape, b.shape)))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along ``dim``: out[i] = x[i+1] − x[i], applied n times, after
    concatenating ``prepend`` and ``append``."""
    check_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:   # range(n) would return the input unchanged
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = normalize_dim(dim, input.ndim, "diff")
    if n == 0:   # torch returns the input as it is, prepend and append unused
        return input
    parts = [t for t in (prepend, input, append) if t is not None]
    parts = [t if isinstance(t, TensorBase) else input._make(np.asarray(t, input._data.dtype))
             for t in parts]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        if x.shape[d] == 0:
            break
        later, earlier = _neighbours(x, d)
        x = later != earlier if x._data.dtype == np.bool_ else later - earlier
    return x


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative of samples f along each dim by finite differences (NumPy's ``gradient``):
    central in the interior, one-sided at the two ends, of order ``edge_order`` (1 or 2) there.

    Uniform spacing h: f′ᵢ ≈ (fᵢ₊₁ − fᵢ₋₁)/2h; ends (f₁ − f₀)/h, or (−3f₀ + 4f₁ − f₂)/2h at
    order 2. Coordinates x (a 1-D tensor per dim, one value per sample): with hₗ = xᵢ − xᵢ₋₁ and
    hᵣ = xᵢ₊₁ − xᵢ, f′ᵢ ≈ (hₗ²fᵢ₊₁ − hᵣ²fᵢ₋₁ + (hᵣ² − hₗ²)fᵢ)/(hₗhᵣ(hₗ + hᵣ)), second order
    for uneven steps too. ``spacing``: a scalar (every dim), a list of scalars or of coordinate
    tensors (one per dim of ``dim``); ``dim``: an int, a list, or None (every dim). Returns a
    tuple with one tensor of input's shape per dim; integer input gives the default float
    dtype. Differentiable (slices and arithmetic)."""
    check_tensor(input, "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = range(input.ndim) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    dims = [normalize_dim(d, input.ndim, "gradient") for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"gradient: dim {dims} has a dimension more than once")
    if spacing is None:   # torch's default, unit steps
        spacing = 1
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar, or a list of "
                f"length equal to {len(dims)} (the dims taken), but got a list of length "
                f"{len(spacing)}")
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    x = input if input._data.dtype.kind == "f" else input.to(_dtype.get_default_dtype())
    for d in dims:
        if x.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               f"edge_order+1 (dim {d} has size {x.shape[d]})")
    return tuple(_gradient_along(x, d, h, edge_order) for d, h in zip(dims, steps))


def _gradient_along(f, d, h, edge_order):
    """``gradient`` along one dim ``d``, h a scalar step or a tensor of coordinates."""
    n = f.shape[d]

    def part(t, start, length):   # t[start : start + length] along d, start < 0 from the end
        return narrow(t, d, start % t.shape[d], length)
    if isinstance(h, TensorBase) and h.ndim == 0:
        h = h.item()
    if not isinstance(h, TensorBase):
        interior = (part(f, 2, n - 2) - part(f, 0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (part(f, 1, 1) - part(f, 0, 1)) / h
            last = (part(f, -1, 1) - part(f, -2, 1)) / h
        else:
            first = (-1.5 * part(f, 0, 1) + 2 * part(f, 1, 1) - 0.5 * part(f, 2, 1)) / h
            last = (0.5 * part(f, -3, 1) - 2 * part(f, -2, 1) + 1.5 * part(f, -1, 1)) / h
        return cat([first, interior, last], d)
    if h.ndim != 1 or h.shape[0] != n:
        raise RuntimeError(f"gradient: the coordinates of dim {d} must be a 1-D tensor of its "
                           f"size {n}, got shape {tuple(h.shape)}")
    # the steps, shaped to broadcast along dim d
    dx = reshape(diff(h.to(f.dtype)), tuple(n - 1 if i == d else 1 for i in range(f.ndim)))
    hl, hr = part(dx, 0, n - 2), part(dx, 1, n - 2)
    interior = (-hr / (hl * (hl + hr)) * part(f, 0, n - 2)
                + (hr - hl) / (hl * hr) * part(f, 1, n - 2)
                + hl / (hr * (hl + hr)) * part(f, 2, n - 2))
    if edge_order == 1:
        first = (part(f, 1, 1) - part(f, 0, 1)) / part(dx, 0, 1)
        last = (part(f, -1, 1) - part(f, -2, 1)) / part(dx, -1, 1)
    else:
        a, b = part(dx, 0, 1), part(dx, 1, 1)
        first = (-(2 * a + b) / (a * (a + b)) * part(f, 0, 1) + (a + b) / (a * b) * part(f, 1, 1)
                 - a / (b * (a + b)) * part(f, 2, 1))
        a, b = part(dx, -2, 1), part(dx, -1, 1)
        last = (b / (a * (a + b)) * part(f, -3, 1) - (a + b) / (a * b) * part(f, -2, 1)
                + (2 * b + a) / (b * (a + b)) * part(f, -1, 1))
    return cat([first, interior, last], d)


def _neighbours(t, d):
    """t[1:] and t[:-1] along dim ``d`` (both empty when t is)."""
    k = builtins.max(t.shape[d] - 1, 0)
    return narrow(t, d, builtins.min(t.shape[d], 1), k), narrow(t, d, 0, k)


def vander(x, N=None, increasing=False):
    """Vandermonde matrix: out[i, j] = x[i]^j (columns reversed unless ``increasing``).
    Built as a cumulative product, as torch does, so its gradients are torch's."""
    check_tensor(x, "vander")
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    N = x.shape[0] if N is None else N
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    dt = _dtype.int64 if x._data.dtype.kind in "bui" else x.dtype
    x = x.to(dt)
    ones = x._make(np.ones((x.shape[0], min(N, 1)), dt.np))
    if N > 1:
        powers = cumprod(expand(unsqueeze(x, 1), x.shape[0], N - 1), 1)
        out = cat([ones, powers], 1)
    else:
        out = ones
    return out if increasing else out.flip(1)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D input, as rows (n₁·…·n_k, k); one input
    is returned as it is."""
    ts = _tensors_arg(tensors, "cartesian_prod")
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    sizes = tuple(t.shape[0] for t in ts)
    grids = []
    for i, t in enumerate(ts):
        shape = tuple(s if j == i else 1 for j, s in enumerate(sizes))
        grids.append(reshape(expand(reshape(t, shape), *sizes), (-1,)))
    return stack(grids, 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-D tensor's elements, as rows, in itertools' order."""
    check_tensor(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input._make(np.empty((0,), input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return reshape(index_select(input, 0, input._make(rows.reshape(-1))), (rows.shape[0], r))


def block_diag(*tensors):
    """The inputs (0-d, 1-D as one row, 2-D) on the diagonal of a zero matrix."""
    ts = [t if t.ndim == 2 else reshape(t, (1, -1) if t.ndim == 1 else (1, 1))
          for t in _tensors_arg(tensors, "block_diag")]
    for t, original in zip(ts, tensors):
        if original.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input has {original.ndim} dimensions")
    if not ts:
        raise RuntimeError("block_diag: expected at least one tensor")
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    width = builtins.sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        right = width - left - t.shape[1]
        rows.append(pad(t.to(dt), (left, right)))
        left += t.shape[1]
    return cat(rows, 0)


# ---------------------------------------------------------------------------- statistics
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (observations in the columns):
    C = Σ_i w_i (x_i − x̄)(x_i − x̄)ᵀ / (Σw − correction·Σ(w·a)/Σw) with w = fweights·aweights."""
    check_tensor(input, "cov")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    x = to_float(reshape(input, (1, -1)) if input.ndim < 2 else input)
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        total = n
        mean = x.mean(1, keepdim=True)
        norm = total - correction
    else:
        total = w.sum()
        mean = (x * w).sum(1, keepdim=True) / total
        norm = total - (correction * (w * aweights.to(x.dtype)).sum() / total
                        if aweights is not None and correction else correction)
    centred = x - mean
    weighted = centred if w is None else centred * w
    c = matmul(weighted, centred.mT) / (clamp(norm, min=0) if isinstance(norm, TensorBase)
                                        else max(norm, 0))
    return squeeze(c)   # torch squeezes: one variable (1-D or a single row) gives a 0-d result


def corrcoef(input):
    """Pearson correlation of the rows: R_ij = C_ij / √(C_ii C_jj), clipped to [−1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    n = c.shape[0]
    idx = c._make(np.arange(n))
    sd = c[idx, idx].sqrt()
    return clamp(c / sd[:, None] / sd[None, :], -1, 1)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    check_tensor(input, op)
    if input._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if isinstance(q, TensorBase):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
    elif isinstance(q, (int, float)) and not isinstance(q, bool):
        q = input._make(np.asarray(q, input._data.dtype))
    else:
        raise TypeError(f"{op}(): q must be a float or a Tensor, got {type(q).__name__}")
    if input.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, midpoint "
                           f"or nearest, but got {interpolation}")
    outside = ~((q._data >= 0) & (q._data <= 1))
    if outside.any():
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got "
                           f"{q._data[outside].flat[0]}")
    if dim is None:
        x = reshape(input, (-1,))
    else:
        d = normalize_dim(dim, input.ndim, op)
        x = movedim(input, d, -1) if input.ndim else reshape(input, (1,))
    s = sort(x, -1).values                           # (…, n), nan last
    n = s.shape[-1]
    if ignore_nan:   # ranks among the numbers; all nan: rank 0, which reads a nan
        ranks = reshape(q, (-1,)) * (sum(~isnan(s), -1, keepdim=True) - 1)
        ranks = ranks.where(ranks >= 0, 0.0)
    else:            # a nan in the lane: the last rank, which reads it
        ranks = (reshape(q, (-1,)) * (n - 1)).where(~any(isnan(s), -1, keepdim=True), n - 1.0)
    if interpolation in ("lower", "higher", "nearest"):
        ranks = {"lower": floor, "higher": ceil, "nearest": round}[interpolation](ranks)
    below = floor(ranks)
    out = gather(s, -1, s._make(below._data.astype(np.int64)))
    if interpolation in ("linear", "midpoint"):
        above = gather(s, -1, s._make(np.ceil(ranks._data).astype(np.int64)))
        out = lerp(out, above, 0.5 if interpolation == "midpoint" else ranks - below)
    out = squeeze(out, -1) if q.ndim == 0 else movedim(out, -1, 0)   # the q dim first
    if keepdim and input.ndim:
        out = (reshape(out, tuple(out.shape[:q.ndim]) + (1,) * input.ndim) if dim is None
               else unsqueeze(out, d + q.ndim))
    return out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles of ``input`` along ``dim`` (of all elements when None): with the
    values sorted, v₀ ≤ … ≤ vₙ₋₁, and r = q·(n − 1), 'linear' gives v_⌊r⌋ + (r − ⌊r⌋)·(v_⌈r⌉ −
    v_⌊r⌋); 'lower' v_⌊r⌋, 'higher' v_⌈r⌉, 'midpoint' (v_⌊r⌋ + v_⌈r⌉)/2, 'nearest' v at r
    rounded half to even. A nan in a lane makes its quantiles nan. Differentiable in input
    and (linear) in q, as torch. Shapes: q a number or (Q,) in [0, 1]; input float32/64 (*)
    -> (*) without ``dim`` (size 1 with ``keepdim``), with Q first when q is a tensor of 1 dim."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """:func:`quantile` ignoring nan: the ranks are those among the lane's numbers (all nan:
    nan). Shapes as quantile's."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# ---------------------------------------------------------------------------- integration
def _trapezoid_areas(y, x, dx, dim, op):
    """The areas (x[i+1] − x[i])·(y[i] + y[i+1])/2 of the trapezoids between neighbouring
    samples along ``dim`` (spacing ``dx``, default 1, without x), and that dim."""
    check_tensor(y, op, "y")
    if x is not None and dx is not None:
        raise TypeError(f"{op}(): pass either x or dx, not both")
    if y.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    for t in (y, x if x is None else check_tensor(x, op, "x")):
        if t is not None and t._data.dtype == np.bool_:
            raise RuntimeError(f"{op}: received a bool input for `x` or `y`, but bool is not "
                               "supported")
    if isinstance(dx, bool):
        raise RuntimeError(f"{op}: Currently, we only support dx as a real number.")
    d = normalize_dim(dim, y.ndim, op)
    n = y.shape[d]
    right, left = _neighbours(y, d)
    if x is None:
        return (right + left) * ((1 if dx is None else dx) / 2), d
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        x = reshape(x, tuple(n if i == d else 1 for i in range(y.ndim)))
    elif x.ndim < y.ndim:
        x = reshape(x, (1,) * (y.ndim - x.ndim) + tuple(x.shape))
    x_right, x_left = _neighbours(x, d)
    return (x_right - x_left) * (right + left) / 2, d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """∫ y along ``dim`` by the trapezoidal rule: Σᵢ (x[i+1] − x[i])·(y[i] + y[i+1])/2, the
    samples at ``x`` (1-D, one per sample; or broadcasting with y) or ``dx`` apart (default 1).
    0 for no samples. Shapes: y (*) -> (*) without ``dim``."""
    areas, d = _trapezoid_areas(y, x, dx, dim, "trapezoid")
    return sum(areas, d)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along ``dim``: out[k] = Σ_{i≤k} (x[i+1] − x[i])·(y[i] +
    y[i+1])/2 (``dx`` apart, default 1, without x). Shapes: y (*) -> (*) with ``dim`` one
    shorter."""
    areas, d = _trapezoid_areas(y, x, dx, dim, "cumulative_trapezoid")
    return cumsum(areas, d)


# ---------------------------------------------------------------------------- counting, search
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` occurs in ``test_elements`` (either may be a
    number)."""
    if not isinstance(elements, TensorBase) and not isinstance(test_elements, TensorBase):
        raise TypeError("isin: expected at least one Tensor")
    like = elements if isinstance(elements, TensorBase) else test_elements
    a = elements._data if isinstance(elements, TensorBase) else np.asarray(elements)
    b = test_elements._data if isinstance(test_elements, TensorBase) else np.asarray(test_elements)
    return like._make(np.asarray(np.isin(a, b, assume_unique=assume_unique, invert=invert)))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """For each value, the index i of its bucket in the sorted 1-D ``boundaries``:
    boundaries[i−1] < x ≤ boundaries[i] (with ``right``: boundaries[i−1] ≤ x < boundaries[i])."""
    check_tensor(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    values = input._data if isinstance(input, TensorBase) else np.asarray(input)
    idx = np.searchsorted(boundaries._data, values, side="right" if right else "left")
    return boundaries._make(np.asarray(idx, np.int32 if out_int32 else np.int64))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where ``input`` would be inserted into the innermost dim of ``sorted_sequence``
    to keep it sorted (``side='left'``: first such index; ``'right'``: last)."""
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                               f"{side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, -1)
    values = input._data if isinstance(input, TensorBase) else np.asarray(input)
    side = "right" if right else "left"
    if seq.ndim == 1:
        idx = np.searchsorted(seq, values, side=side)
    else:
        if values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                               f"the first N-1 dimensions of boundaries tensor and input value "
                               f"tensor must match, but we got boundaries tensor "
                               f"{list(seq.shape)} and input value tensor {list(values.shape)}")
        idx = np.empty(values.shape, np.int64)
        for lead in np.ndindex(seq.shape[:-1]):
            idx[lead] = np.searchsorted(seq[lead], values[lead], side=side)
    return sorted_sequence._make(np.asarray(idx, np.int32 if out_int32 else np.int64))


def histc(input, bins=100, min=0, max=0):
    """Histogram of ``bins`` equal-width bins over [min, max] (the data's range when
    min = max = 0); elements outside are ignored, max falls in the last bin."""
    check_tensor(input, "histc")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                  f"'{str(input.dtype).split('.')[1].capitalize()}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    data = input._data.ravel()
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc(): max must be larger than min")
    inside = data[(data >= lo) & (data <= hi)]
    pos = ((inside.astype(np.float64) - lo) * bins / (hi - lo)).astype(np.int64)
    counts = np.bincount(np.minimum(pos, bins - 1), minlength=bins)
    return input._make(counts.astype(input._data.dtype))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """Histogram of the elements of ``input`` (any shape, read flat).

    ``bins`` an int: that many equal-width bins over ``range`` = (min, max) (default the data's
    range; a range of width 0 is widened by ½ each side, an empty input's range is (0, 1)).
    ``bins`` a 1-D tensor of input's dtype: the bin edges, increasing. Bin i counts the x with
    edgeᵢ ≤ x < edgeᵢ₊₁, the last bin also its right edge; values outside are ignored.
    ``weight`` (same number of elements): each element adds its weight instead of 1.
    ``density``: hist / (Σ hist · bin width), so that the histogram integrates to 1.
    Returns ``(hist, bin_edges)`` (``return_types.histogram``), shapes (B,) and (B + 1,), both
    of input's floating dtype. Not differentiable."""
    check_tensor(input, "histogram")
    dt = input._data.dtype
    if dt not in (np.float32, np.float64):
        raise NotImplementedError(f"\"histogramdd\" not implemented for "
                                  f"'{torch_type_name(input.dtype)}'")
    data = input._data.ravel()
    if isinstance(bins, TensorBase):
        if range is not None:
            raise TypeError("histogram(): range can only be given with an int bins (torch's "
                            "overloads: (input, Tensor bins, *, weight, density) and (input, int "
                            "bins, *, range, weight, density))")
        if bins._data.dtype != dt:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the "
                               f"same dtype, but got input with dtype {input.dtype} and bins for "
                               f"dimension 0 with dtype {bins.dtype}")
        if bins.ndim != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but got "
                               f"{bins.ndim} dimensions in the bins tensor for dimension 0")
        if bins._data.size < 2:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got "
                               f"{bins._data.size - 1} for dimension 0")
        edges = bins._data.copy()
    else:
        if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool):
            raise TypeError(f"histogram(): argument 'bins' must be an int or a Tensor, not "
                            f"{type(bins).__name__}")
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} "
                               f"for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif data.size:
            lo, hi = float(data.min()), float(data.max())
        else:
            lo, hi = 0.0, 1.0
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] "
                               f"is not finite")
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo:g} "
                               f"max {hi:g} for dimension 0")
        if lo == hi:   # as NumPy: widen an empty range, so that the bins have a width
            lo, hi = lo - 0.5, hi + 0.5
        edges = linspace_like_torch(lo, hi, bins + 1, dt.type)
    nbins = edges.size - 1
    w = None
    if weight is not None:
        check_tensor(weight, "histogram", "weight")
        if weight._data.dtype != dt:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, input tensor and "
                               f"weight tensor should have the same dtype, but got "
                               f"input({torch_type_name(input.dtype).lower()}), and "
                               f"weight({torch_type_name(weight.dtype).lower()})")
        if weight._data.size != data.size:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have "
                               f"the same shape as the input tensor excluding its innermost "
                               f"dimension, but got input with shape {[data.size, 1]} and weight "
                               f"with shape {[weight._data.size]}")
        w = weight._data.ravel()
    inside = (data >= edges[0]) & (data <= edges[-1])
    pos = np.searchsorted(edges, data[inside], side="right") - 1
    pos = np.minimum(pos, nbins - 1)   # the last bin holds its right edge
    hist = np.bincount(pos, None if w is None else w[inside], minlength=nbins)[:nbins].astype(dt)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = (hist / (hist.sum(dtype=dt) * np.diff(edges))).astype(dt)
    return return_types.histogram(input._make(hist), input._make(edges))


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """N-dimensional histogram of the points in ``input`` (…, N): all but the last dim are
    flattened into P points of N coordinates; each coordinate is binned on its own dim's
    edges (every bin holds its left edge, the last also its right one) and a point counts
    in the N-dimensional bin of its N bins, or nowhere when any coordinate is outside.

    ``bins``: an int (that many equal-width bins in every dim), N ints, or N increasing 1-D
    tensors of edges (input's dtype). Equal-width bins span ``range`` = (min₀, max₀, min₁,
    max₁, …) (default each dim's data range; width 0 is widened by ½ each side, no points
    give (0, 1)). ``weight`` (input.shape[:-1]): each point adds its weight instead of 1.
    ``density``: hist / Σ hist / the bin's volume. Returns ``(hist, bin_edges)``
    (``return_types.histogramdd``): hist of shape (B₀, …, B_{N−1}), bin_edges a tuple of N
    tensors (Bᵢ + 1,), all of input's floating dtype. Not differentiable."""
    op = "torch.histogramdd"
    check_tensor(input, "histogramdd")
    dt = input._data.dtype
    if dt not in (np.float32, np.float64):
        raise NotImplementedError(f"\"histogramdd\" not implemented for "
                                  f"'{torch_type_name(input.dtype)}'")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor should have at least 2 dimensions")
    n = input.shape[-1]
    points = input._data.reshape(-1, n)
    if isinstance(bins, TensorBase) or isinstance(bins, (int, np.integer)) and not isinstance(
            bins, bool):
        bins = [bins] * n if not isinstance(bins, TensorBase) else [bins]
    bins = list(bins)
    explicit = builtins.any(isinstance(b, TensorBase) for b in bins)
    if explicit and len(bins) != n:
        raise RuntimeError(f"{op}: expected {n} sequences of bin edges for a {n}-dimensional "
                           f"histogram but got {len(bins)}")
    if not explicit and len(bins) != n:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    if explicit and range is not None:
        raise TypeError("histogramdd(): range can only be given with int bins (torch's "
                        "overloads take it with int or int[] bins)")
    if range is not None and len(range) != 2 * n:
        raise RuntimeError(f"{op}: for a {n}-dimensional histogram range should have {2 * n} "
                           f"elements, but got {len(range)}")
    edges = []
    for d, b in enumerate(bins):
        if isinstance(b, TensorBase):
            if b._data.dtype != dt:
                raise RuntimeError(f"{op}: input tensor and bins tensors should have the same "
                                   f"dtype, but got input with dtype "
                                   f"{torch_type_name(input.dtype).lower()} and bins for "
                                   f"dimension {d} with dtype {torch_type_name(b.dtype).lower()}")
            if b.ndim != 1 or b._data.size < 1:
                raise RuntimeError(f"{op}: bins tensor should have one dimension and at least "
                                   f"one edge, but got shape {tuple(b.shape)} for dimension {d}")
            edges.append(b._data.copy())
            continue
        if not isinstance(b, (int, np.integer)) or isinstance(b, bool):
            raise TypeError(f"histogramdd(): argument 'bins' must be an int, a sequence of ints "
                            f"or a sequence of Tensors, not {type(b).__name__}")
        if b <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {b} for "
                               f"dimension {d}")
        if range is not None:
            lo, hi = float(range[2 * d]), float(range[2 * d + 1])
        elif points.shape[0]:
            lo, hi = float(points[:, d].min()), float(points[:, d].max())
        else:
            lo, hi = 0.0, 1.0
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"{op}: dimension {d}'s range [{lo:g}, {hi:g}] is not finite")
        if lo > hi:
            raise RuntimeError(f"{op}: min should not exceed max, but got min {lo:g} max {hi:g} "
                               f"for dimension {d}")
        if lo == hi:   # as torch: widen an empty range, so that the bins have a width
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(linspace_like_torch(lo, hi, b + 1, dt.type))
    w = None
    if weight is not None:
        check_tensor(weight, "histogramdd", "weight")
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError(f"{op}: if weight tensor is provided it should have the same "
                               f"shape as the input tensor excluding its innermost dimension, "
                               f"but got input with shape {list(input.shape)} and weight with "
                               f"shape {list(weight.shape)}")
        if weight._data.dtype != dt:
            raise RuntimeError(f"{op}: if weight tensor is provided, input tensor and weight "
                               f"tensor should have the same dtype, but got "
                               f"input({torch_type_name(input.dtype).lower()}), and "
                               f"weight({torch_type_name(weight.dtype).lower()})")
        w = weight._data.reshape(-1)
    shape = tuple(max(e.size - 1, 0) for e in edges)
    inside = np.ones(points.shape[0], bool)
    index = []
    for d, e in enumerate(edges):
        x = points[:, d]
        inside &= (x >= e[0]) & (x <= e[-1])
        index.append(np.clip(np.searchsorted(e, x, side="right") - 1, 0, max(e.size - 2, 0)))
    size = math.prod(shape)
    if size:
        flat = np.ravel_multi_index(tuple(i[inside] for i in index), shape)
        hist = np.bincount(flat, None if w is None else w[inside], minlength=size)
    else:
        hist = np.zeros(0)
    hist = hist.astype(dt).reshape(shape)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum(dtype=dt)
            for d, e in enumerate(edges):   # torch's order: the total, then each dim's widths
                widths = np.diff(e).reshape([-1 if k == d else 1 for k in builtins.range(n)])
                hist = hist / widths
        hist = hist.astype(dt)
    return return_types.histogramdd(input._make(hist), tuple(input._make(e) for e in edges))


def fill(input, value):
    """A tensor of input's shape and dtype with every element ``value`` (a number, or a 0-d
    tensor cast to input's dtype): the out-of-place ``input.fill_(value)``. Gradient: 0 for
    input, and Σ ḡ for a tensor ``value``."""
    check_tensor(input, "fill")
    if isinstance(value, TensorBase):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        src = expand(value.to(input.dtype), tuple(input.shape))
        return write_at("FillBackward1", input, src, Ellipsis)
    if not isinstance(value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"fill(): argument 'value' must be a Number or a Tensor, not "
                        f"{type(value).__name__}")
    src = input._make(np.full(input._data.shape, value, input._data.dtype))
    return write_at("FillBackward0", input, src, Ellipsis) if input.requires_grad else src


def bincount(input, weights=None, minlength=0):
    """Counts of each non-negative integer in the 1-D ``input`` (sums of ``weights`` there)."""
    check_tensor(input, "bincount")
    if input._data.dtype.kind not in "iu":   # torch has no float or bool kernel
        raise NotImplementedError(f"bincount: \"bincount_cpu\" not implemented for "
                                  f"{input.dtype} (expected non-negative integers)")
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if input.numel() and input._data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return input._make(np.bincount(input._data, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.shape != input._data.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, "
                           f"got weights of shape {tuple(weights.shape)} for input of shape "
                           f"{tuple(input.shape)}")
    out_dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return input._make(np.bincount(input._data, w.astype(np.float64), minlength).astype(out_dtype))


# ---------------------------------------------------------------------------- predicates
def is_nonzero(input) -> bool:
    """The truth of a one-element tensor (torch's errors for none or several elements)."""
    check_tensor(input, "is_nonzero")
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()))


def isreal(input):
    """True where an element is real: everywhere, as chainrule has no complex dtypes. A bool
    tensor of input's shape (not differentiable)."""
    check_tensor(input, "isreal")
    return input._make(np.ones(input._data.shape, np.bool_))


def is_same_size(input, other) -> bool:
    """True when both tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input) -> bool:
    """True for signed dtypes (floats and signed integers), False for uint8 and bool."""
    return input._data.dtype.kind in "fic"



# ---------------------------------------------------------------------------- conjugation
# chainrule has no complex dtypes: on a real tensor torch's conj family is the identity and
# returns the tensor itself (``torch.conj(x) is x``), with no conj or neg bit to resolve.
def conj(input):
    """The complex conjugate: ``input`` itself for a real tensor (as torch)."""
    check_tensor(input, "conj")
    return input


conj_physical = resolve_conj = resolve_neg = conj


def is_conj(input) -> bool:
    """Whether the conjugate bit is set: never, for real tensors."""
    check_tensor(input, "is_conj")
    return False


def is_neg(input) -> bool:
    """Whether the negative bit is set: never, for real tensors."""
    check_tensor(input, "is_neg")
    return False


# ---------------------------------------------------------------------------- *_copy variants
def slice_copy(input, dim=0, start=None, end=None, step=1):
    """A copy of ``input[..., start:end:step, ...]`` along ``dim`` (ATen's slice)."""
    check_tensor(input, "slice_copy")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    d = normalize_dim(dim, input.ndim, "slice_copy")
    return input[(slice(None),) * d + (slice(start, end, step),)].clone(
        memory_format=_memory_format.contiguous_format)


def _copy_variant(view_fn, name):
    """``name``: the view ``view_fn`` gives, copied into new contiguous memory (writing to
    the result leaves the input alone); differentiable as ``view_fn``."""
    def fn(input, *args, **kwargs):
        out = view_fn(input, *args, **kwargs)
        if isinstance(out, tuple):
            return tuple(o.clone(memory_format=_memory_format.contiguous_format) for o in out)
        return out.clone(memory_format=_memory_format.contiguous_format)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Like ``{view_fn.__name__}``, but the result is a copy, not a view (torch."
                  f"{name}); gradients as ``{view_fn.__name__}``'s.")
    return fn


def _narrow_checked(input, dim, start, length):
    """narrow, with torch.narrow_copy's RuntimeError for a 0-d input or a dim past the last
    (one below -ndim stays an IndexError, as torch's)."""
    if input.ndim == 0 or dim >= input.ndim:
        raise RuntimeError(f"narrow_copy: dim {dim} out of range for a tensor of "
                           f"{input.ndim} dims" if input.ndim else
                           "narrow() cannot be applied to a 0-dim tensor.")
    return narrow(input, dim, start, length)


def _view_to(input, size):
    """torch.view_copy's size: one sequence of ints, or a dtype (not varargs)."""
    return input.view(size)


(alias_copy, as_strided_copy, detach_copy, diagonal_copy, expand_copy, narrow_copy,
 permute_copy, select_copy, split_copy, split_with_sizes_copy, squeeze_copy, t_copy,
 transpose_copy, unbind_copy, unfold_copy, unsqueeze_copy, view_copy) = (
    _copy_variant(fn, name) for fn, name in (
        (alias, "alias_copy"), (as_strided, "as_strided_copy"),
        (lambda x: x.detach(), "detach_copy"), (diagonal, "diagonal_copy"),
        (expand, "expand_copy"), (_narrow_checked, "narrow_copy"), (permute, "permute_copy"),
        (select, "select_copy"), (split, "split_copy"),
        (lambda x, split_sizes, dim=0: x.split_with_sizes(split_sizes, dim),
         "split_with_sizes_copy"),
        (squeeze, "squeeze_copy"), (_t, "t_copy"), (transpose, "transpose_copy"),
        (unbind, "unbind_copy"), (unfold, "unfold_copy"), (unsqueeze, "unsqueeze_copy"),
        (_view_to, "view_copy")))
