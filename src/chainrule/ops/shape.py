"""Shape primitives: reshape/view, permute, expand, cat, pad, tril/triu, flip — and the
composites built on them (squeeze, unsqueeze, flatten, transpose, stack, split, repeat...).

All are linear maps that only move or copy elements: each is declared linear (its JVP is the op
on the tangent) with its transpose (its VJP): reshape back, the inverse permutation, the sum
over copies (the engine's unbroadcast), slicing back into pieces, cropping.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype, _memory_format
from .._graph import Node
from .._argcompat import numpy_aliases, variadic
from .._tensor_base import Size, TensorBase, index_value, memory_root, normalize_dim
from ..backends.namespace import broadcast_view
from ._util import check_tensor
from .elementwise import operands
from .indexing import Gather as _Gather, ScatterAdd, _getitem


class Reshape(Node):
    linear, is_view = True, True
    params = ("shape",)
    backward_name = "ViewBackward0"     # torch records view and (contiguous) reshape alike

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def transpose(self, xp, g):
        return xp.reshape(g, self.in_shape)


class Permute(Node):
    linear, is_view = True, True
    params = ("dims",)

    def forward(self, x):
        return np.transpose(x, self.dims)

    def transpose(self, xp, g):
        return xp.permute(g, tuple(np.argsort(self.dims)))


class BroadcastTo(Node):
    """Copy x along new leading dims and size-1 dims; the transpose sums the copies (the engine
    sums a gradient back to its input's shape)."""

    linear, is_view = True, True
    params = ("shape",)
    backward_name = "ExpandBackward0"

    def forward(self, x):
        return broadcast_view(x, self.shape)

    def transpose(self, xp, g):
        return g


class Alias(Node):
    """The identity, as a view (used by forward_ad.make_dual / unpack_dual)."""

    linear, is_view = True, True
    backward_name = "AliasBackward0"

    def forward(self, x):
        return x.view()

    def transpose(self, xp, g):
        return g


class Clone(Node):
    """A copy with its own memory, laid out in ``memory_format``; the identity for
    differentiation."""

    linear = True
    params = ("memory_format",)
    memory_format = _memory_format.preserve_format

    def forward(self, x):
        return _memory_format.copy(x, self.memory_format)

    def transpose(self, xp, g):
        return g


class Cat(Node):
    """Concatenate along ``dim``; the transpose slices the gradient back into the pieces."""

    linear = True
    params = ("dim",)

    def forward(self, *xs):
        self.sizes = [x.shape[self.dim] for x in xs]
        return np.concatenate(xs, axis=self.dim)

    def transpose(self, xp, g):
        grads, start, lead = [], 0, (slice(None),) * self.dim
        for size, need in zip(self.sizes, self.needs_input_grad):
            grads.append(g[lead + (slice(start, start + size),)] if need else None)
            start += size
        return grads


class Pad(Node):
    """Constant padding by ``widths`` ((before, after) per dim; a negative width crops), filled
    with ``value`` — affine in x: the VJP is the same padding with the widths negated (crop what
    was added, zero-fill what was cropped), the JVP the padding of the tangent with zeros."""

    params = ("widths", "value")
    backward_name = "ConstantPadNdBackward0"
    value = 0

    def forward(self, x):
        shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, self.widths))
        out = np.full(shape, self.value, x.dtype)
        src = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(x.shape, self.widths))
        dst = tuple(slice(max(lo, 0), n - max(hi, 0)) for n, (lo, hi) in zip(shape, self.widths))
        out[dst] = x[src]
        return out

    def vjp(self, xp, g):
        return xp.apply(Pad, g, widths=tuple((-lo, -hi) for lo, hi in self.widths), value=0)

    def jvp(self, xp, tangents):
        return xp.apply(Pad, tangents[0], widths=self.widths, value=0)


class Repeat(Node):
    """Tile x ``repeats`` times per dim (x viewed with leading 1s up to len(repeats) dims): linear;
    its transpose sums the copies — ḡ viewed as (r₀, s₀, r₁, s₁, …), summed over the r axes."""

    linear = True
    params = ("repeats",)

    def forward(self, x):
        self.in_shape = x.shape
        return np.tile(x.reshape(self._padded_shape()), self.repeats)

    def _padded_shape(self):
        return (1,) * (len(self.repeats) - len(self.in_shape)) + tuple(self.in_shape)

    def transpose(self, xp, g):
        interleaved = [n for pair in zip(self.repeats, self._padded_shape()) for n in pair]
        copies = xp.sum(xp.reshape(g, tuple(interleaved)), tuple(range(0, len(interleaved), 2)))
        return xp.reshape(copies, self.in_shape)


class ModePad(Node):
    """Reflect / replicate / circular (any np.pad mode) padding. Each output element is a copy of
    one input element, so the transpose scatter-adds the gradient back to its source, found by
    padding an index map the same way."""

    linear = True
    params = ("widths", "mode")

    def forward(self, x):
        self.in_shape = x.shape
        return np.pad(x, self.widths, mode=self.mode)

    def transpose(self, xp, g):
        size = int(np.prod(self.in_shape))
        source = np.pad(np.arange(size).reshape(self.in_shape), self.widths, mode=self.mode)
        flat = xp.apply(ScatterAdd, xp.reshape(g, (-1,)), dim=0, index=source.reshape(-1),
                        shape=(size,))
        return xp.reshape(flat, self.in_shape)


class Tri(Node):
    """tril/triu: keep the lower/upper triangle — a mask, its own transpose."""

    linear = True
    params = ("lower", "diagonal")

    def forward(self, x):
        return (np.tril if self.lower else np.triu)(x, self.diagonal)

    def transpose(self, xp, g):
        return xp.apply(Tri, g, lower=self.lower, diagonal=self.diagonal)


class Flip(Node):
    """Reverse the order along ``dims`` — its own transpose."""

    linear = True
    params = ("dims",)

    def forward(self, x):
        return np.flip(x, self.dims).copy()

    def transpose(self, xp, g):
        return xp.apply(Flip, g, dims=self.dims)


# torch's names for the same primitive called as another operation
_Squeeze = {"all": Reshape.named("SqueezeBackward0"), "dim": Reshape.named("SqueezeBackward1"),
            "dims": Reshape.named("SqueezeBackward2")}
_Unsqueeze = Reshape.named("UnsqueezeBackward0")
_UnsafeView = Reshape.named("UnsafeViewBackward0")
_Transpose = Permute.named("TransposeBackward0")
_T = Permute.named("TBackward0")
_Tril, _Triu = Tri.named("TrilBackward0"), Tri.named("TriuBackward0")
_Stack = Cat.named("StackBackward0")
_ModePad = {(mode, k): ModePad.named(f"{name}Pad{k}DBackward0")   # by mode and padded dims
            for mode, name in (("reflect", "Reflection"), ("edge", "Replication"),
                               ("wrap", "Circular")) for k in (1, 2, 3)}


# ---------------------------------------------------------------------------- public functions
def _shape_arg(shape, op="reshape"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:   # int() would accept 2.0 (and truncate 2.5); torch refuses both
        if isinstance(s, bool) or not (isinstance(s, (int, np.integer)) or hasattr(s, "__index__")):
            raise TypeError(f"{op}: shape must be a tuple of ints, but found element of type "
                            f"{type(s).__name__}")
    return tuple(int(s) for s in shape)


@variadic("shape", first=1)
def reshape(input, *shape, _as=Reshape):
    """The same elements in a new shape; one dim may be -1 (inferred)."""
    check_tensor(input, "reshape")
    shape = _shape_arg(shape)
    numel = input._data.size
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (
            -1 not in shape and known != numel) or (-1 in shape and (known == 0 or numel % known)):
        raise RuntimeError(f"reshape: shape {list(shape)} is invalid for input of size {numel} "
                           f"(shape {tuple(input.shape)})")
    return _as.apply(input, shape=shape)   # a new view even for the same shape, as torch


def _view_as_dtype(input, dt):
    """The same bytes read as dtype ``dt`` (not differentiable): the last dim scales by the
    ratio of the item sizes, and must be contiguous when it changes."""
    data = input._data
    new = np.dtype(dt.np)
    if new.itemsize != data.itemsize:
        if data.ndim == 0:
            raise RuntimeError("self.dim() cannot be 0 to view "
                               f"{input.dtype} as {dt} (different element sizes)")
        if data.strides[-1] != data.itemsize and data.shape[-1] != 1:
            raise RuntimeError("self.stride(-1) must be 1 to view "
                               f"{input.dtype} as {dt} (different element sizes)")
        if new.itemsize > data.itemsize and (data.shape[-1] * data.itemsize) % new.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by {new.itemsize // data.itemsize}"
                               f" to view {input.dtype} as {dt} (different element sizes), but got "
                               f"{data.shape[-1]}")
    return input._make(data.view(new))


@variadic("size", first=1)
def view(input, *shape):
    """``reshape`` that never copies: the result shares the input's memory, and a shape its
    strides cannot express (e.g. flattening a transposed tensor) raises, as torch's view.
    ``view(dtype)`` reads the same memory as another dtype."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_as_dtype(input, shape[0])
    out = reshape(input, *shape)
    # NumPy's reshape copies exactly when no view exists; a copy never overlaps its source
    if out is not input and out._data.size and not np.may_share_memory(out._data, input._data):
        raise RuntimeError(f"view: size {tuple(out.shape)} is not compatible with the input's size "
                           f"{tuple(input.shape)} and stride (at least one dimension spans across "
                           "two contiguous subspaces). Use .reshape(...) instead.")
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    s = normalize_dim(start_dim, input.ndim, "flatten")   # validated on 0-d inputs too
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if input.ndim == 0:
        return reshape(input, 1)
    if s > e:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    shp = input._data.shape
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(input, dim, sizes):
    d = normalize_dim(dim, input.ndim, "unflatten")
    shp = input._data.shape
    return reshape(input, shp[:d] + tuple(sizes) + shp[d + 1:])


@numpy_aliases
def squeeze(input, dim=None):
    """Remove size-1 dims (all of them, or those in ``dim``; others are left alone, as torch)."""
    shp = input._data.shape
    if dim is None:
        dims = {i for i, s in enumerate(shp) if s == 1}
    else:
        ds = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {normalize_dim(d, input.ndim, "squeeze") for d in ds}
        dims = {d for d in dims if input.ndim and shp[d] == 1}
    kind = "all" if dim is None else "dims" if isinstance(dim, (tuple, list)) else "dim"
    return reshape(input, tuple(s for i, s in enumerate(shp) if i not in dims), _as=_Squeeze[kind])


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim`` (in [-ndim-1, ndim])."""
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    d = dim % n
    shp = input._data.shape
    return reshape(input, shp[:d] + (1,) + shp[d:], _as=_Unsqueeze)


@variadic("dims", first=1)
def permute(input, *dims, _as=Permute):
    """Reorder dims: output dim i is input dim ``dims[i]``."""
    dims = _shape_arg(dims, "permute")
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute: number of dims don't match: input has {input.ndim} dims, "
                           f"got {len(dims)} ({dims})")
    norm = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return _as.apply(input, dims=norm)


def transpose(input, dim0, dim1, _as=_Transpose):
    """Swap two dims."""
    n = input.ndim
    if n < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return _as.apply(input, dims=tuple(range(n)))
    d0, d1 = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, dims, _as=_as)


swapaxes = transpose


def t(input):
    """Transpose of a ≤2-d tensor; a 0-d or 1-d tensor is returned as it is (torch)."""
    n = input.ndim
    if n > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but input has {n}")
    # dims given directly, not through transpose's argument handling (every Linear layer's
    # call transposes its weight); ≤ 1-d: a view of itself
    return _T.apply(input, dims=(1, 0) if n == 2 else tuple(range(n)))


def broadcast_to(input, shape):
    """View ``input`` as ``shape`` by broadcasting (size-1 dims and new leading dims are copied)."""
    shape = tuple(int(s) for s in shape)
    src = input._data.shape
    lead = len(shape) - len(src)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(src)})")
    if any(s < 0 for s in shape[:lead]):
        bad = next(s for s in shape[:lead] if s < 0)
        raise RuntimeError(f"expand: the expanded size of the tensor ({bad}) isn't allowed in a "
                           f"leading, non-existing dimension; target sizes {list(shape)}")
    target = tuple(src[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(shape))
    if any(s < 0 for s in target):   # only -1 (keep the size) is meaningful
        raise RuntimeError(f"expand: the expanded size {min(target)} is negative (only -1, keep "
                           f"the size, is allowed); target sizes {list(shape)}, tensor sizes "
                           f"{list(src)}")
    for i, s in enumerate(src):
        if s != 1 and s != target[lead + i]:
            raise RuntimeError(f"expand: the expanded size of the tensor ({target[lead + i]}) must "
                               f"match the existing size ({s}) at non-singleton dimension "
                               f"{lead + i}; target sizes {list(shape)}, tensor sizes {list(src)}")
    return BroadcastTo.apply(input, shape=target)


@variadic("size", first=1)
def expand(input, *sizes):
    """Like :func:`broadcast_to`; -1 keeps a dim's size."""
    return broadcast_to(input, _shape_arg(sizes, "expand"))


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to, computed without tensors: dims are
    matched from the right, each pair equal or one of them 1; an int is a 1-D shape.
    ``broadcast_shapes((2, 1), (3,))`` is ``Size([2, 3])``."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    for s in shapes:
        for d in s:
            if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
                raise TypeError(f"broadcast_shapes: sizes must be ints, got {s}")
            if d < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {', '.join(map(str, shapes))} cannot be "
                           "broadcast together") from None


def broadcast_tensors(*tensors):
    """The tensors expanded (as views) to their common broadcast shape."""
    shape = broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


def alias(input):
    return Alias.apply(input)


def clone(input, *, memory_format=_memory_format.preserve_format):
    """A copy with its own memory; gradients flow through unchanged. ``memory_format``: the
    copy's layout (``preserve_format``: channels-last stays channels-last, anything else is
    C-ordered; ``contiguous_format``; ``channels_last`` for 4-D tensors)."""
    check_tensor(input, "clone")
    if memory_format is _memory_format.preserve_format:
        return Clone.apply(input)
    return Clone.apply(input, memory_format=_memory_format._checked(memory_format, input.ndim, "clone"))


@numpy_aliases
def cat(tensors, dim=0, _as=Cat):
    """Concatenate tensors along an existing ``dim``; other dims must match."""
    if isinstance(tensors, TensorBase) or not len(tensors):
        # torch: a Tensor in place of the list is a TypeError, an empty list a ValueError
        raise (TypeError if isinstance(tensors, TensorBase) else ValueError)(
            "cat: expected a non-empty sequence of Tensors")
    tensors = list(tensors)
    dt = tensors[0]
    for x in tensors[1:]:
        dt, _ = operands(dt, x, "cat")
    tensors = [x.to(dt.dtype) for x in tensors]
    # torch's legacy rule: an empty 1-d tensor (the ``acc = torch.tensor([])`` of an accumulating
    # loop) joins tensors of any shape; it becomes an empty slab of their shape
    legacy = [x.ndim == 1 and x._data.size == 0 for x in tensors]
    first = legacy.index(False) if not all(legacy) else 0
    nd = tensors[first].ndim
    if nd == 0:
        raise RuntimeError("cat: zero-dimensional tensor cannot be concatenated")
    d = normalize_dim(dim, nd, "cat")
    ref = tensors[first]._data.shape
    if nd != 1 and any(legacy):
        slab = tuple(0 if j == d else n for j, n in enumerate(ref))
        tensors = [x.reshape(slab) if e else x for x, e in zip(tensors, legacy)]
    for i, x in enumerate(tensors):
        s = x._data.shape
        if len(s) != nd or any(a != b for j, (a, b) in enumerate(zip(s, ref)) if j != d):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}; "
                               f"tensor 0 has shape {tuple(ref)}, tensor {i} has shape {tuple(s)}")
    return _as.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join same-shape tensors along a new ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty sequence of Tensors")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got {tuple(shape)}"
                               f" at entry 0 and {tuple(x.shape)} at entry {i}")
    n = len(shape) + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dimension out of range (expected to be in range of [{-n}, "
                         f"{n - 1}], but got {dim})")
    return cat([unsqueeze(x, dim) for x in tensors], dim, _as=_Stack)


def narrow(input, dim, start, length, _kind=None):
    """The slice [start, start+length) of ``dim`` (a view); ``start`` may be a 0-d integer
    tensor."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, TensorBase):
        if start.ndim != 0 or start._data.dtype.kind not in "iu":
            raise RuntimeError(f"narrow: start must be an 0-dim integral Tensor, got "
                               f"{start.dtype} of shape {tuple(start.shape)}.")
        start = int(start._data)
    d = normalize_dim(dim, input.ndim, "narrow")
    n = input._data.shape[d]
    if not -n <= start <= n:   # torch's types: a bad start IndexError, a bad length RuntimeError
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], "
                         f"but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    if start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                           f"({n})")
    return _getitem(input, (slice(None),) * d + (slice(start, start + length),), True, _kind)


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes
    (``split_size=`` is Tensor.split's name for the argument in torch)."""
    if (split_size_or_sections is None) == (split_size is None):
        raise TypeError("split() expects one of split_size_or_sections or split_size")
    if split_size_or_sections is None:
        split_size_or_sections = split_size
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, TensorBase) and split_size_or_sections.ndim == 0:
        split_size_or_sections = index_value(split_size_or_sections, "split", "split_size")
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split: split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got {sizes}")
    out, start = [], 0
    kind = "split" if isinstance(split_size_or_sections, int) else "split_sizes"
    for s in sizes:
        out.append(narrow(tensor, d, start, s, kind))
        out[-1]._output_nr = (out[-1].grad_fn, len(out) - 1)   # torch: one node, n outputs
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of size ⌈n/chunks⌉ (fewer if n is small; ``chunks`` empty
    pieces of an empty dim), as torch."""
    if isinstance(chunks, TensorBase):
        chunks = index_value(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input.ndim, "chunk")
    n = input._data.shape[d]
    if n == 0:
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


def unbind(input, dim=0):
    """Remove ``dim``, returning the slices along it."""
    d = normalize_dim(dim, input.ndim, "unbind")
    out = tuple(_getitem(input, (slice(None),) * d + (i,), True, "unbind")
                for i in range(input._data.shape[d]))
    for i, t in enumerate(out):
        t._output_nr = (t.grad_fn, i)   # Tensor.output_nr: torch's one node has n outputs
    return out


@variadic("repeats", first=1)
def repeat(input, *repeats):
    """Tile the tensor: output dim i has size input_i × repeats_i (leading repeats add dims)."""
    reps = _shape_arg(repeats, "repeat")
    if len(reps) < input.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller than "
                           f"number of dimensions of tensor ({input.ndim})")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats can not be negative, got {list(reps)}")
    return Repeat.apply(input, repeats=reps)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pad the last dims: ``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)``.

    mode: 'constant' (``value``, default 0), 'reflect' (mirror without repeating the edge),
    'replicate' (repeat the edge) or 'circular' (wrap around), as torch. In 'constant' mode a
    negative width crops that side.
    """
    if mode != "constant" and mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                                  f"'circular', got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding length must be even and at most 2×ndim "
                           f"({2 * input.ndim}), got {len(pad)}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    for d, ((lo, hi), size) in enumerate(zip(widths, input.shape)):
        if size + min(lo, 0) + min(hi, 0) < 0:   # torch crops first, then pads
            raise RuntimeError(f"pad: cropping {(lo, hi)} removes more than dimension {d} of size "
                               f"{size} holds")
    if mode != "constant":
        if any(p < 0 for p in pad):
            raise ValueError(f"pad: negative padding (cropping) is supported in 'constant' mode "
                             f"only, got {tuple(pad)} with mode {mode!r}")
        padded = max(1, min(3, len(pad) // 2))   # torch's ReflectionPad2D etc.
        return _ModePad[_PAD_MODES[mode], padded].apply(input, widths=tuple(widths),
                                                         mode=_PAD_MODES[mode])
    return Pad.apply(input, widths=tuple(widths), value=0 if value is None else value)


def tril(input, diagonal=0):
    """Lower triangle (elements with column − row ≤ diagonal), others zero."""
    if input.ndim < 2:
        raise RuntimeError(f"tril: input tensor must have at least 2 dimensions, got {input.ndim}")
    return _Tril.apply(input, lower=True, diagonal=diagonal)


def triu(input, diagonal=0):
    """Upper triangle (elements with column − row ≥ diagonal), others zero."""
    if input.ndim < 2:
        raise RuntimeError(f"triu: input tensor must have at least 2 dimensions, got {input.ndim}")
    return _Triu.apply(input, lower=False, diagonal=diagonal)


def flip(input, dims):
    """Reverse the order of elements along ``dims``."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    normalized = tuple(normalize_dim(d, input.ndim, "flip") for d in dims)
    if len(set(normalized)) != len(normalized):
        raise RuntimeError(f"flip: dims {list(dims)} has a dim appearing multiple times in the "
                           "list of dims")
    if input.ndim == 0:   # a 0-d tensor has dim 0 / -1 (torch's wrap), and nothing to reverse
        normalized = ()
    return Flip.apply(input, dims=normalized)


# ------------------------------------------------------ torch's ATen-level names (unsafe_*, pad)
def unsafe_split(tensor, split_size_or_sections, dim=0):
    """:func:`split` (torch's variant whose pieces autograd does not track as views; here the
    same pieces, views of ``tensor``)."""
    return split(tensor, split_size_or_sections, dim)


def unsafe_chunk(input, chunks, dim=0):
    """:func:`chunk` (torch's variant whose pieces autograd does not track as views)."""
    return chunk(input, chunks, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes``: pieces of the given sizes along ``dim`` (summing to its size)."""
    return input.split_with_sizes(split_sizes, dim)


_pad = pad


def constant_pad_nd(input, pad, value=0):
    """ATen's constant padding: ``nn.functional.pad(input, pad, 'constant', value)`` —
    ``pad = (left_last, right_last, left_2nd_last, ...)``, negative widths crop."""
    return _pad(input, pad, "constant", value)


def _storage(a: np.ndarray):
    """The 1-d array of the whole memory ``a`` views (its root owner, in ``a``'s dtype)."""
    root = memory_root(a)
    flat = root.ravel(order="K")
    if root.size and not np.shares_memory(flat, root):
        raise RuntimeError("as_strided: the input's memory is not one contiguous block")
    return flat.view(np.uint8).view(a.dtype) if flat.dtype != a.dtype else flat


def _positions(shape, stride, offset) -> np.ndarray:
    """The storage index of every element of a (shape, stride, offset) geometry."""
    pos = np.full(tuple(shape), offset, np.int64)
    for d, (n, s) in enumerate(zip(shape, stride)):
        pos += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - d - 1))
    return pos


class AsStrided(Node):
    """A view of ``size`` with element steps ``stride`` from ``storage_offset`` over the memory
    the input views. VJP as torch's: ḡ scatter-added into a zero storage at the output's
    positions (divided by how many input elements share a location, where the input's own
    geometry overlaps), then read at the input's positions. JVP: the tangent laid into storage
    the same way, read at the output's positions."""

    is_view = True
    params = ("size", "stride", "storage_offset")

    def forward(self, x):
        flat, item = _storage(x), x.itemsize
        offset = (self.storage_offset if self.storage_offset is not None else
                  (x.__array_interface__["data"][0] - flat.__array_interface__["data"][0]) // item)
        self.out_pos = _positions(self.size, self.stride, offset).reshape(-1)
        self.in_pos = _positions(x.shape, [s // item for s in x.strides],
                                 (x.__array_interface__["data"][0]
                                  - flat.__array_interface__["data"][0]) // item).reshape(-1)
        self.room = int(max(self.out_pos.max(initial=-1), self.in_pos.max(initial=-1))) + 1
        counts = np.bincount(self.in_pos, minlength=self.room)
        self.share = 1.0 / np.maximum(counts, 1) if counts.max(initial=0) > 1 else None
        out = np.lib.stride_tricks.as_strided(flat[offset:], self.size,
                                              [s * item for s in self.stride],
                                              writeable=x.flags.writeable)
        return out

    def _move(self, xp, v, src, dst, shape):
        flat = xp.apply(ScatterAdd, xp.reshape(v, (-1,)), dim=0, index=src, shape=(self.room,))
        if self.share is not None:
            flat = flat * xp.const(self.share.astype(flat.dtype))
        return xp.reshape(xp.apply(_Gather, flat, dim=0, index=dst), shape)

    def vjp(self, xp, g):
        return self._move(xp, g, self.out_pos, self.in_pos, self.in_shapes[0])

    def jvp(self, xp, tangents):
        return self._move(xp, tangents[0], self.in_pos, self.out_pos, tuple(self.size))


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s memory with shape ``size``: element ``(i₀, i₁, …)`` is storage
    element ``storage_offset + Σ iₖ·stride[k]`` (``storage_offset`` defaults to the input's).
    Out-of-range geometries raise; negative strides are refused, as torch."""
    check_tensor(input, "as_strided")
    size, stride = _shape_arg((size,), "as_strided"), _shape_arg((stride,), "as_strided")
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"as_strided: negative size in {list(size)}")
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    item = input._data.itemsize
    need = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    have = _storage(input._data).size
    if need > have:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size {have * item}")
    return AsStrided.apply(input, size=size, stride=stride, storage_offset=offset)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` written into the :func:`as_strided` view
    ``(size, stride, storage_offset)`` of the copy. Gradients: ``input`` gets ḡ with those
    positions zeroed, ``src`` gets ḡ read through the same view."""
    check_tensor(input, "as_strided_scatter")
    out = clone(input)
    window = as_strided(out, size, stride, storage_offset)
    if tuple(window.shape) != tuple(src.shape):
        raise RuntimeError(f"as_strided_scatter: expected src to have a size equal to the slice "
                           f"of self. src size = {list(src.shape)}, slice size = {list(size)}")
    window.copy_(src)
    return out
