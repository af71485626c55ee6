"""Randomized low-rank SVD and PCA (torch.svd_lowrank, torch.pca_lowrank), after Halko,
Martinsson & Tropp, "Finding structure with randomness" (2009), Algorithms 4.4 and 5.1.

The random test matrix is drawn with :func:`chainrule.randn` from the global stream, which
gives torch's numbers for the same seed, so after ``manual_seed(s)`` the results equal
torch's. Everything is built from differentiable ops (matmul, linalg.qr, linalg.svd), so
gradients flow as through torch's own composition.
"""
from __future__ import annotations

from ._dtype import float32
from ._tensor_base import TensorBase
from .creation import randn
from .ops.linalg import matmul
from .ops.matrix import qr, svd

__all__ = ["svd_lowrank", "pca_lowrank"]


def _floating(A):
    """torch's _linalg_utils.get_floating_dtype: A's dtype if floating, else float32."""
    return A.dtype if A._data.dtype.kind == "f" else float32


def _approximate_basis(A, q, niter=2, M=None):
    """Q (…, m, q') with orthonormal columns such that Q Qᵀ (A − M) ≈ A − M: the range of
    (A − M)·R for a normal R (n, q), refined by ``niter`` subspace iterations."""
    niter = 2 if niter is None else niter
    R = randn(A.shape[-1], q, dtype=_floating(A))
    X = matmul(A, R)
    if M is not None:
        X = X - matmul(M, R)
    Q = qr(X).Q
    for _ in range(niter):
        X = matmul(A.mT, Q)
        if M is not None:
            X = X - matmul(M.mT, Q)
        Q = qr(X).Q
        X = matmul(A, Q)
        if M is not None:
            X = X - matmul(M, Q)
        Q = qr(X).Q
    return Q


def _check(A, op):
    if not isinstance(A, TensorBase):
        raise TypeError(f"{op}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: A must have at least 2 dimensions, but got {A.ndim}")


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A − M ≈ U diag(S) Vᵀ (M = 0 when None; it broadcasts to A), of rank
    q' ≤ q: Q from :math:`q` random directions and ``niter`` subspace iterations, then
    B = Qᵀ(A − M) = Û S Vᵀ exactly and U = QÛ. A (…, m, n) → U (…, m, q'), S (…, q'),
    V (…, n, q'). Randomized (torch.randn's draws: seed for repeatable results)."""
    _check(A, "svd_lowrank")
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(tuple(A.shape))
    if m < n:   # the basis of the smaller side
        A = A.mT
        M = None if M is None else M.mT
    Q = _approximate_basis(A, q, niter=niter, M=M)
    B = matmul(Q.mT, A)
    if M is not None:
        B = B - matmul(Q.mT, M)
    U, S, Vh = svd(B, full_matrices=False)
    V = Vh.mT
    U = matmul(Q, U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal components of the data matrix A (…, m samples, n features): (U, S, V) of
    :func:`svd_lowrank` on A minus its column means (``center``), q = min(6, m, n) by
    default. V's columns are the principal directions, S²/(m − 1) the covariance's leading
    eigenvalues, A V[:, :k] the data in the first k components."""
    _check(A, "pca_lowrank")
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    return svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter=niter, M=None)
