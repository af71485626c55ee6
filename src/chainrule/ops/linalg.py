"""Matrix products. For C = A B:  Ā = C̄ Bᵀ,  B̄ = Aᵀ C̄ (VJP);  Ċ = Ȧ B + A Ḃ (JVP)."""
from __future__ import annotations

import numpy as np

from .._graph import Node
from ..backends.namespace import matmul as _matmul
from ._util import check_tensor
from .elementwise import operands


class MatMul(Node):
    """Batched matrix product of ≥2-d arrays; batch dims broadcast (the engine sums the
    gradients back over them)."""

    grad_reads = ((1,), (0,))

    def forward(self, a, b):
        return _matmul(a, b)

    def vjp(self, xp, g, a, b):
        na, nb = self.needs_input_grad
        ga = xp.matmul(g, xp.mT(b)) if na else None
        gb = None
        if nb:
            if b.ndim == 2 and a.ndim > 2:  # shared weight: one big GEMM instead of a batch + sum
                rows = int(np.prod(a.shape[:-1]))   # not -1: k may be 0
                gb = xp.matmul(xp.mT(xp.reshape(a, (rows, a.shape[-1]))),
                               xp.reshape(g, (rows, g.shape[-1])))
            else:
                gb = xp.matmul(xp.mT(a), g)
        return ga, gb

    def jvp(self, xp, tangents, a, b):
        return bilinear_jvp(lambda p, q: p @ q, a, b, *tangents)


def bilinear_jvp(op, a, b, ta, tb):
    """The JVP of a bilinear op: op(ȧ, b) + op(a, ḃ), leaving out an absent tangent (None)."""
    out = None if ta is None else op(ta, b)
    if tb is not None:
        term = op(a, tb)
        out = term if out is None else out + term
    return out


class Addmm(Node):
    """y = b + A B (torch's addmm; a Linear layer is addmm(bias, x, Wᵀ), as torch records it).

    Shapes: b broadcastable to (m, p), A (m, n), B (n, p) -> y (m, p).
    VJP: b̄ = ȳ (summed back over broadcast rows by the engine), Ā = ȳ Bᵀ, B̄ = Aᵀ ȳ.
    JVP: ẏ = ḃ + Ȧ B + A Ḃ.
    """

    grad_reads = ((), (2,), (1,))

    def forward(self, b, a, m):
        out = _matmul(a, m)
        out += b   # in place: no second (m, p) temporary
        return out

    def vjp(self, xp, g, a, m):
        need_b, need_a, need_m = self.needs_input_grad
        ga = xp.matmul(g, xp.mT(m)) if need_a else None
        # B̄ as the transpose of ȳᵀA: when B = Wᵀ, W̄ = ȳᵀA comes out C-contiguous
        gm = xp.mT(xp.matmul(xp.mT(g), a)) if need_m else None
        return (g if need_b else None), ga, gm

    def jvp(self, xp, tangents, a, m):
        tb, ta, tm = tangents
        out = bilinear_jvp(lambda p, q: p @ q, a, m, ta, tm)
        if tb is not None:
            out = tb.expand(tuple(self._out.shape)) if out is None else out + tb
        return out


class Dot(Node):
    """y = a·b = Σᵢ aᵢbᵢ of two vectors (n,) -> ().
    VJP: ā = ȳ·b, b̄ = ȳ·a.  JVP: ẏ = ȧ·b + a·ḃ."""

    grad_reads = ((1,), (0,))

    def forward(self, a, b):
        return np.asarray(np.dot(a, b))

    def vjp(self, xp, g, a, b):
        na, nb = self.needs_input_grad
        return (g * b if na else None), (g * a if nb else None)

    def jvp(self, xp, tangents, a, b):
        return bilinear_jvp(Dot.apply, a, b, *tangents)


class Mv(Node):
    """y = A v, a matrix (m, n) times a vector (n,) -> (m,).
    VJP: Ā = ȳ vᵀ (an outer product), v̄ = Aᵀ ȳ.  JVP: ẏ = Ȧ v + A v̇."""

    grad_reads = ((1,), (0,))

    def forward(self, m, v):
        return np.matmul(m, v)

    def vjp(self, xp, g, m, v):
        nm, nv = self.needs_input_grad
        gm = xp.reshape(g, (-1, 1)) * xp.reshape(v, (1, -1)) if nm else None
        gv = xp.matmul(xp.mT(m), g) if nv else None
        return gm, gv

    def jvp(self, xp, tangents, m, v):
        return bilinear_jvp(Mv.apply, m, v, *tangents)


# torch's names for the matrix product by the operands' ranks
_Mm, _Bmm = MatMul.named("MmBackward0"), MatMul.named("BmmBackward0")


def matmul(input, other):
    """Matrix product with NumPy/torch semantics: 1-d operands are promoted to a row (left) or a
    column (right) and the added dim removed; batch dims broadcast.

    Shapes: (n,)·(n,) -> (); (m, n)·(n, p) -> (m, p); (*, m, n)·(*, n, p) -> (*, m, p).
    """
    check_tensor(input, "matmul")
    check_tensor(other, "matmul", "other")
    if input._data.dtype != other._data.dtype:   # torch promotes nothing here
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got "
                           f"{input.dtype} and {other.dtype}")
    if input._data.dtype == np.bool_:   # torch has no bool kernel (NumPy would compute "or")
        raise NotImplementedError("matmul: \"addmm_impl_cpu_\" not implemented for 'Bool' "
                                  "(convert the operands with .float() or .long())")
    a, b = operands(input, other, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a._data.shape[-1] != b._data.shape[-2 if b.ndim > 1 else 0]:
        raise RuntimeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned "
                           f"({a._data.shape[-1]} != {b._data.shape[-2 if b.ndim > 1 else 0]})")
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)}"
                               " cannot be broadcast together") from None
    if b.ndim == 1 and a.ndim <= 2:   # one node each, as torch: DotBackward0, MvBackward0
        return (Dot if a.ndim == 1 else Mv).apply(a, b)
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    out = (_Mm if a2.ndim == 2 and b2.ndim == 2 else _Bmm).apply(a2, b2)
    if b.ndim == 1:
        return out.squeeze(-1)
    return out.squeeze(-2) if a.ndim == 1 else out


def mm(input, mat2):
    """Product of two 2-d matrices: (n, m)·(m, p) -> (n, p)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-d tensors, got shapes {tuple(input.shape)} and "
                           f"{tuple(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of 3-d tensors: (b, n, m)·(b, m, p) -> (b, n, p)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: expected 3-d tensors with equal batch sizes, got shapes "
                           f"{tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def mv(input, vec):
    """Matrix-vector product: (n, m)·(m,) -> (n,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a 2-d matrix and a 1-d vector, got shapes "
                           f"{tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


def dot(input, other):
    """Inner product of two 1-d tensors of equal length."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)


def outer(input, vec2):
    """Outer product of 1-d tensors: out[i, j] = input[i]·vec2[j]."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: 1D tensors expected, got shapes {tuple(input.shape)} and "
                           f"{tuple(vec2.shape)}")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta·input + alpha·(mat1 @ mat2) — one node (torch's ``AddmmBackward0``) when beta = alpha
    = 1.  Shapes: input broadcastable to (n, p), mat1 (n, m), mat2 (m, p) -> (n, p)."""
    check_tensor(input, "addmm")
    beta, alpha = integral_scalars(mat1.dtype, beta, alpha, "addmm")
    if (beta != 1 or alpha != 1 or mat1.ndim != 2 or mat2.ndim != 2 or input.ndim > 2
            or not input._data.dtype == mat1._data.dtype == mat2._data.dtype
            or mat1._data.shape[1] != mat2._data.shape[0]):
        prod = mm(mat1, mat2 if alpha == 1 else mat2 * alpha)   # checks, promotes, or raises
        _check_fits(input, prod._data.shape)
        if alpha == 0:   # as BLAS, torch reads neither matrix then: their nan and inf vanish
            prod = prod._make(np.zeros_like(prod._data))
        if beta == 0:    # ... and beta = 0 ignores input (torch's documented rule)
            return prod
        return prod + (input if beta == 1 else input * beta)
    _check_fits(input, (mat1._data.shape[0], mat2._data.shape[1]))
    return Addmm.apply(input, mat1, mat2)


def integral_scalars(dtype, beta, alpha, op, allow_float=True):
    """torch's scalars of the add-product family on integer or bool operands: a float beta or
    alpha truncates toward zero (addmm, addmv, baddbmm, addbmm) or raises (addr)."""
    if dtype.is_floating_point:
        return beta, alpha
    for name, value in (("beta", beta), ("alpha", alpha)):
        if not allow_float and isinstance(value, float):
            raise RuntimeError(f"{op}: for integral input tensors, argument {name} must not be "
                               f"a floating point number (got {value})")
    return int(beta), int(alpha)


def _check_fits(input, out_shape):
    try:
        if np.broadcast_shapes(input._data.shape, out_shape) != out_shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"addmm: input of shape {tuple(input.shape)} does not broadcast to the "
                           f"product's shape {out_shape}") from None
