"""Matrix products. For C = A B:  Ā = C̄ Bᵀ,  B̄ = Aᵀ C̄ (VJP);  Ċ = Ȧ B + A Ḃ (JVP)."""
from __future__ import annotations

import numpy as np

from .._graph import Node
from ._util import check_tensor
from .elementwise import operands


class MatMul(Node):
    """Batched matrix product of ≥2-d arrays; batch dims broadcast (the engine sums the
    gradients back over them)."""

    def forward(self, a, b):
        return np.matmul(a, b)

    def vjp(self, xp, g, a, b):
        na, nb = self.needs_input_grad
        ga = xp.matmul(g, xp.mT(b)) if na else None
        gb = None
        if nb:
            if b.ndim == 2 and a.ndim > 2:  # shared weight: one big GEMM instead of a batch + sum
                k, m = a.shape[-1], g.shape[-1]
                gb = xp.matmul(xp.mT(xp.reshape(a, (-1, k))), xp.reshape(g, (-1, m)))
            else:
                gb = xp.matmul(xp.mT(a), g)
        return ga, gb

    def jvp(self, xp, tangents, a, b):
        ta, tb = tangents
        out = None if ta is None else ta @ b
        if tb is not None:
            out = a @ tb if out is None else out + a @ tb
        return out


def matmul(input, other):
    """Matrix product with NumPy/torch semantics: 1-d operands are promoted to a row (left) or a
    column (right) and the added dim removed; batch dims broadcast.

    Shapes: (n,)·(n,) -> (); (m, n)·(n, p) -> (m, p); (*, m, n)·(*, n, p) -> (*, m, p).
    """
    check_tensor(input, "matmul")
    check_tensor(other, "matmul", "other")
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
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    out = MatMul.apply(a2, b2)
    if a.ndim == 1 and b.ndim == 1:
        return out.reshape(())
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
    """beta·input + alpha·(mat1 @ mat2)."""
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta)
