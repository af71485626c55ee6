"""Distances between vectors: cosine similarity, p-norm distances (pairwise and all pairs)."""
from __future__ import annotations

import numpy as np

from ...ops._util import check_tensor
from ...ops.matrix import vector_norm
from ...tensor import Tensor


def _l2_norm(x, dim, keepdim):
    """‖x‖₂ along ``dim`` with torch's gradient at a zero vector (0, not 0/0 = nan)."""
    sq = (x * x).sum(dim, keepdim=keepdim)
    zero = sq == 0
    return (sq + zero.to(sq.dtype)).sqrt() * (~zero).to(sq.dtype)


def _p_norm(d, p, dim, keepdim):
    """‖d‖_p along ``dim``: p = 2 exactly, ∞ (max |d|), 0 (count of nonzeros), else
    (Σ|d|^p)^(1/p)."""
    if p == 2:
        return _l2_norm(d, dim, keepdim)
    a = d.abs()
    if p == float("inf"):
        return a.amax(dim, keepdim=keepdim)
    if p == 0:   # (in the graph, with torch's zero gradient)
        return vector_norm(d, 0, dim, keepdim)
    return (a ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos θ = Σ (x₁/max(‖x₁‖, ε)) · (x₂/max(‖x₂‖, ε)) along ``dim`` (x₁, x₂ broadcast).

    Each input is divided by its norm first (torch's order, which keeps |cos θ| ≤ 1); the clamp
    at ε changes the values only, as torch's (the gradient is that of the unclamped norm).
    Shapes: (*, D, *) and broadcastable -> the broadcast shape without ``dim``."""
    check_tensor(x1, "cosine_similarity", "x1")
    check_tensor(x2, "cosine_similarity", "x2")
    if x1._data.dtype.kind != "f" and x2._data.dtype.kind != "f":
        raise RuntimeError(f"cosine_similarity: expected common dtype to be floating point, yet "
                           f"common dtype is {x1.dtype} and {x2.dtype}")
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"cosine_similarity: the size of tensor a {tuple(x1.shape)} must match "
                           f"the size of tensor b {tuple(x2.shape)} (broadcastable)") from None
    # integer inputs compute in the default float dtype; mixed floats promote in the product
    x1, x2 = (x if x.is_floating_point() else x.float() for x in (x1, x2))
    # broadcast before the norms, as torch: a size-1 dim along ``dim`` counts once per copy
    x1, x2 = x1.expand(shape), x2.expand(shape)

    def scaled(x):
        n = _l2_norm(x, dim, True)
        clamped = n.detach().clamp_min(eps)
        return x / (n + (clamped - n.detach()))
    return (scaled(x1) * scaled(x2)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x₁ − x₂ + ε‖_p along the last dim (x₁, x₂ broadcast; ε keeps the gradient finite when
    the two are equal). Shapes: (N, D) or (D,) each -> (N,) or ()."""
    check_tensor(x1, "pairwise_distance", "x1")
    check_tensor(x2, "pairwise_distance", "x2")
    last = max(x1.ndim, x2.ndim) - 1
    return _p_norm(x1 - x2 + eps, p, last, keepdim)


def pdist(input, p: float = 2.0) -> Tensor:
    """The p-norm distances between every pair of rows i < j of ``input``, in row-major order
    of the upper triangle. Shapes: (N, M) -> (N(N−1)/2,)."""
    check_tensor(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    left = input.index_select(0, Tensor._make(i.astype(np.int64)))
    right = input.index_select(0, Tensor._make(j.astype(np.int64)))
    return _p_norm(left - right, p, 1, False)
