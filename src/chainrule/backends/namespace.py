"""The two namespaces a derivative rule is written against.

A rule in :mod:`chainrule.ops` is written once, as ``xp.cos(x)``, ``g * y``, ``xp.sum(g, dims)``.
The engine runs it with

* :class:`ArrayOps` on the NumPy arrays, when nothing needs the derivative's own derivative (a
  plain ``backward()``): the rule is then ordinary NumPy, with no graph and no per-op Tensor
  overhead — the fast path;
* :class:`TensorOps` on Tensors, when it does (``create_graph=True``, forward mode): the same
  rule is then recorded like any other computation, so it can be differentiated again.

Operators (``+ - * / ** @``, comparisons) work on both kinds of operand as they are; the few
functions a rule calls go through ``xp``. ``xp.apply(Rule, ...)`` runs another primitive: its
forward on arrays, or a recorded application on Tensors — how a linear op's transpose is
written (the VJP of a gather is a scatter-add, of a convolution a transposed convolution).
Both namespaces take the same arguments and give the same values; a test checks that.
"""
from __future__ import annotations

from operator import methodcaller

import numpy as np

from .._modes import DETERMINISM
from . import onednn
from .blas import get_num_threads
from .cpu import SMALL_PRODUCT, for_product, is_tuned


def broadcast_view(x: np.ndarray, shape) -> np.ndarray:
    """``np.broadcast_to(x, shape)``: a read-only view, stride 0 along the copied dims.

    np.broadcast_to spends ~4 µs in Python per call, more than the whole VJP of a small sum;
    for a contiguous ``x`` the same view is built directly by the ndarray constructor over x's
    memory. ``shape`` must be a valid broadcast target of ``x.shape`` (callers check).
    """
    if x.ndim == 0:   # a full reduction's gradient: every stride 0
        out = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    if x.size == 0 or not (x.flags.c_contiguous or x.flags.f_contiguous):
        return np.broadcast_to(x, shape)
    lead = len(shape) - x.ndim
    strides = (0,) * lead + tuple([0 if n == 1 else st for n, st in zip(x.shape, x.strides)])
    out = np.ndarray(shape, x.dtype, x, 0, strides)
    out.flags.writeable = False
    return out


def reduced_axes(shape, target) -> tuple:
    """The axes of ``shape`` that broadcasting ``target`` up to it added or stretched."""
    lead = len(shape) - len(target)
    return tuple(range(lead)) + tuple(lead + i for i, s in enumerate(target)
                                      if s == 1 and shape[lead + i] != 1)


def sign(x):
    """np.sign with torch's 0 at NaN (sign and sgn of NaN are 0 in torch, NaN in NumPy)."""
    out = np.sign(x)
    if out.dtype.kind == "f":
        out = np.where(np.isnan(out), out.dtype.type(0), out)
    return out


def sigmoid(x):
    """σ(x) = 1/(1 + e⁻ˣ) that never overflows: with e = e^{−|x|} ∈ [0, 1], σ = 1/(1 + e) for
    x ≥ 0 and e/(1 + e) below, exact for |x| up to 1e4 and beyond, NaN kept. The numerator is
    picked without a branch as max(e, [x ≥ 0]) (1 or e): NumPy's ``where`` on mixed signs is a
    branchy loop, 3× the time of the whole σ (16,000 float32: 88 → 26 µs), same bits."""
    e = np.exp(-np.abs(x))
    num = np.maximum(e, x >= 0)
    if np.ndim(e) == 0:   # (a 0-d input's ufuncs give scalars, which take no out=)
        return np.asarray(num / (1 + e))
    return np.divide(num, np.add(1, e, out=e), out=num)


def softplus(x):
    """log(1 + eˣ) that never overflows: max(x, 0) + log1p(e^{−|x|}), the formula of NumPy's
    ``logaddexp(0, x)`` (within 3 ulp: NumPy's vectorized exp and log1p instead of the scalar
    ones its logaddexp calls), 7× faster (1M float32: 16.4 → 2.4 ms)."""
    out = np.exp(-np.abs(x))
    if np.ndim(out) == 0:   # (a 0-d input's ufuncs give scalars, which take no out=)
        return np.asarray(np.log1p(out) + np.maximum(x, 0))
    np.log1p(out, out=out)
    out += np.maximum(x, 0)
    return out


def matmul(a, b):
    """a @ b: on oneDNN's matmul where it takes the arrays (``onednn.matmul_supported``: large
    float32 products, 2-D or batches of one batch shape, oneDNN enabled; on chainrule's
    threads), else NumPy's, a small 2-D product on one BLAS thread inside ``cpu.tuned()``
    (``cpu.for_product``: OpenBLAS's threads would spin on after it). Not in deterministic
    mode, as the convolutions: oneDNN may split a product's work differently for another
    thread count.

    At more than one thread oneDNN also takes the products that NumPy's BLAS would split over
    its own thread pool (``onednn.BLAS_SPLIT_MIN`` multiply-adds and more, whatever the
    shape), all but the small 2-D ones that ``tuned()`` runs on one BLAS thread. That pool's
    threads spin on after a product while oneDNN's OpenMP threads wait for the same cores: a
    LeNet-5 training step at 2 threads took 47 ms instead of 4.5 (its 84×120 layer's products,
    645,120 multiply-adds each), an MLP's evaluation at batch 1000 10 ms instead of 2 (its
    256→10 layer), an attention step's batched products made it 2× slower than with oneDNN
    off. Operands whose strides oneDNN cannot read (a transposed batch times a matrix, a
    broadcast gradient's zero strides) are made contiguous for it then, as NumPy's matmul
    would copy them for its BLAS anyway (a token-mixing step, ``x.transpose(1, 2) @ W``
    after a convolution: 68 → 237 steps/s at 2 threads; oneDNN off 152, 1 thread 216)."""
    if DETERMINISM.enabled:
        c = None
    else:
        one_blas_thread = get_num_threads() == 1 or (
            is_tuned() and a.ndim == b.ndim == 2 and a.shape[0] * b.size < SMALL_PRODUCT)
        c = onednn.try_matmul(a, b, not one_blas_thread)
        if c is None and not one_blas_thread and a.dtype == b.dtype == np.float32 and (
                not a.flags.c_contiguous or not b.flags.c_contiguous):
            c = onednn.try_matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), True)
    if c is not None:
        return c
    if a.ndim == b.ndim == 2:
        if a.shape[1] == 1:
            # an outer product (a Linear weight's gradient at batch 1): NumPy's matmul takes a
            # slow loop for an inner dimension of 1 ((120, 1) @ (1, 400): 54 µs, the broadcast
            # product 19 µs, the same values)
            return np.multiply(a, b)
        with for_product(a.shape[0] * b.size):
            return np.matmul(a, b)
    return np.matmul(a, b)


# unsigned integers of each float/int width: the bits of an array, to choose them
_BITS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
# below this many elements NumPy's where costs about as much as the three passes below
WHERE_BITS_MIN = 1 << 13
_NUMBERS = (bool, int, float)


def where(cond, a, b):
    """``np.where(cond, a, b)``; for a bool array ``cond`` and arrays a and b of one dtype, of
    8,192 elements or more (broadcast), by the bits, b ⊕ ((a ⊕ b)·cond): three passes that
    copy the chosen operand's bits exactly, where NumPy's where on a mixed mask runs a branchy
    loop at ~4 ns an element (1M float32: 4.5 ms, this 1.1 ms; float64 4.6 and 2.2). A Python
    number beside a float array takes the array's dtype first, as NumPy's where gives it (a
    rule's ``where(m, 1.0, d)``); anything else is NumPy's where."""
    if type(a) in _NUMBERS and type(b) is np.ndarray and b.dtype.kind == "f":
        a = np.asarray(a, b.dtype)
    elif type(b) in _NUMBERS and type(a) is np.ndarray and a.dtype.kind == "f":
        b = np.asarray(b, a.dtype)
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype
            and a.dtype.itemsize in _BITS and getattr(cond, "dtype", None) == np.bool_):
        shape = np.broadcast_shapes(np.shape(cond), a.shape, b.shape)
        if len(shape) and np.prod(shape) >= WHERE_BITS_MIN:
            bits = _BITS[a.dtype.itemsize]
            out, b_bits = np.empty(shape, bits), b.view(bits)
            np.bitwise_xor(a.view(bits), b_bits, out=out)
            np.multiply(out, cond, out=out)
            return np.bitwise_xor(out, b_bits, out=out).view(a.dtype)
    return np.where(cond, a, b)


def product_with(b, rows):
    """``a ↦ matmul(a, b)`` for many (rows, K) arrays a and one b (K, N): where oneDNN takes the
    product (as :func:`matmul` would, not in deterministic mode), b is packed once into its
    kernel's layout (:class:`~chainrule.backends.onednn.PackedMatmul`: a recurrent layer's
    state times W_hhᵀ at every time step, 1.6× faster); else :func:`matmul` on each a."""
    packed = None if DETERMINISM.enabled else onednn.packed_matmul(b, rows)
    if packed is None:
        return lambda a: matmul(a, b)
    return lambda a: packed(np.ascontiguousarray(a))


class ArrayOps:
    """Rules on NumPy arrays (a plain backward: nothing will differentiate the result)."""

    recording = False
    exp, log, log1p, sqrt, sin, cos, tanh, abs = (np.exp, np.log, np.log1p, np.sqrt, np.sin,
                                                  np.cos, np.tanh, np.abs)
    sign = staticmethod(sign)
    sinh, cosh = np.sinh, np.cosh
    sigmoid = staticmethod(sigmoid)
    where, matmul, clamp = staticmethod(where), staticmethod(matmul), staticmethod(np.clip)
    zeros_like, ones_like = staticmethod(np.zeros_like), staticmethod(np.ones_like)
    sum = staticmethod(lambda x, dims, keepdim=False: np.add.reduce(x, axis=dims, keepdims=keepdim))
    reshape = staticmethod(lambda x, shape: x.reshape(shape))
    permute = staticmethod(lambda x, dims: x.transpose(dims))
    expand = staticmethod(broadcast_view)
    mT = staticmethod(lambda x: x.swapaxes(-1, -2))
    data = staticmethod(lambda x: x)           # the array behind a value, for decisions
    const = staticmethod(lambda array: array)  # an array computed in forward (a mask) as a value
    apply = staticmethod(lambda rule, *xs, **params: rule.run(*xs, **params))

    @staticmethod
    def affine(g, a, x, b, c):
        """g·a + x·b + c in one output buffer (g and x large, a, b, c broadcast coefficients)."""
        out = np.multiply(g, a)
        out += np.multiply(x, b)
        out += c
        return out

    @staticmethod
    def unbroadcast(g, shape):
        """Sum ``g`` over the axes broadcasting added or stretched, giving back ``shape``: the
        VJP of a copy is a sum."""
        axes = reduced_axes(g.shape, shape)
        if axes:
            g = np.add.reduce(g, axis=axes)
        return g.reshape(shape) if g.shape != shape else g


class TensorOps:
    """The same functions on Tensors, recorded, so the rule itself is differentiable.

    An instance carries ``like``, a Tensor of the computation, to make new Tensors with
    (``like._make(array)``): this module sits below the Tensor class and never names it."""

    recording = True

    def __init__(self, like):
        self.like = like

    exp, log, log1p, sqrt, sin, cos, tanh, sign, abs, sigmoid, sinh, cosh = (   # the Tensor methods
        staticmethod(methodcaller(name)) for name in
        ("exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sign", "abs", "sigmoid", "sinh",
         "cosh"))
    # Tensor.where(condition, other) is torch's where(condition, self, other)
    where = staticmethod(lambda cond, a, b: a.where(cond, b) if hasattr(a, "_data")
                         else b.where(~cond, a))
    matmul = staticmethod(lambda a, b: a @ b)
    clamp = staticmethod(lambda x, lo, hi: x.clamp(lo, hi))
    sum = staticmethod(lambda x, dims, keepdim=False: x.sum(dims, keepdim))
    reshape = staticmethod(lambda x, shape: x.reshape(shape))
    permute = staticmethod(lambda x, dims: x.permute(dims))
    expand = staticmethod(lambda x, shape: x.expand(tuple(shape)))
    mT = staticmethod(lambda x: x.mT)
    data = staticmethod(lambda x: x._data)
    apply = staticmethod(lambda rule, *xs, **params: rule.apply(*xs, **params))
    affine = staticmethod(lambda g, a, x, b, c: g * a + x * b + c)

    def const(self, array):
        return self.like._make(array)

    def zeros_like(self, x):
        return self.like._make(np.zeros_like(x._data))

    def ones_like(self, x):
        return self.like._make(np.ones_like(x._data))

    @staticmethod
    def unbroadcast(g, shape):
        axes = reduced_axes(g._data.shape, shape)
        if axes:
            g = g.sum(axes)
        return g.reshape(shape) if g._data.shape != shape else g
