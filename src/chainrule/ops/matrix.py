"""torch.linalg's functions (published as ``chainrule.linalg``): norms, inverses, solves and
factorizations, and ``torch.norm``'s legacy interface.

All functions batch over leading dims (matrices are the last two) and are differentiable with
the published rules (see :mod:`chainrule.ops.decompositions`); norms and pseudo-inverses are
compositions of those primitives and of the elementwise ops.
"""
from __future__ import annotations

import math
import warnings
from collections import namedtuple

import numpy as np

from .._tensor_base import TensorBase, normalize_dim
from . import decompositions as _d
from ._util import check_tensor
from .elementwise import where
from .linalg import matmul
from .reduction import amax, amin, sum as _sum
from .shape import cat, stack

LinAlgError = _d.LinAlgError

def _matrices(a, op, square=False, floating=True):
    check_tensor(a, f"linalg.{op}", "A")
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    if floating and a._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as input. "
                           f"Got {str(a.dtype).split('.')[-1].capitalize()}")
    if floating and a._data.dtype == np.float16:   # LAPACK has no half precision (nor torch's CPU)
        raise RuntimeError(f"linalg.{op}: Low precision dtypes not supported. Got Half; call "
                           f".float() first")
    return a


# ---------------------------------------------------------------------------- norms
def _dims(x, dim):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(normalize_dim(d, x.ndim, "linalg.vector_norm") for d in dims)


def _abs_max(x, dims, keepdim, smallest=False):
    a = x.abs()
    reduce = amin if smallest else amax
    return reduce(a, dims if dims is not None else (), keepdim)


def safe_sqrt(sq):
    """√sq for sq ≥ 0 whose gradient is 0 where sq = 0 (a norm's at 0, as torch's), not 1/0:
    the root is taken of a safe argument there."""
    zero = sq == 0
    return (sq + zero.to(sq.dtype)).sqrt() * (~zero).to(sq.dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """‖x‖_ord over ``dim`` (all elements when None): (Σ|xᵢ|^ord)^(1/ord); ord = ∞: max |xᵢ|,
    −∞: min |xᵢ|, 0: the number of nonzeros. The gradient at x = 0 is 0 (as torch's)."""
    check_tensor(x, "linalg.vector_norm")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {str(x.dtype).split('.')[-1].capitalize()}")
    if x._data.dtype == np.float16 and ord not in (0, float("inf"), -float("inf")):
        # torch accumulates half-precision norms in float32 (Σ x² of 300s overflows float16)
        return vector_norm(x.float(), ord, dim, keepdim).to(x.dtype)
    dims = _dims(x, dim)
    if ord == float("inf"):
        return _abs_max(x, dims, keepdim)
    if ord == -float("inf"):
        return _abs_max(x, dims, keepdim, smallest=True)
    if ord == 0:   # sign|x| keeps the graph, with torch's zero gradient; nan counts as nonzero
        return _sum(x.abs().sign() + (x != x).to(x.dtype), dims, keepdim)
    if ord == 1:
        return _sum(x.abs(), dims, keepdim)
    if ord == 2:
        return safe_sqrt(_sum(x * x, dims, keepdim))
    # |x|^ord with zeros read as 1, then put back (0, or ∞ for ord < 0): |x|^ord's slope at 0 is
    # infinite for ord < 1, and 0·∞ = NaN would reach x's gradient (torch's is 0 there)
    nonzero = x != 0
    powered = where(nonzero, where(nonzero, x.abs(), 1.0) ** ord, 0.0 if ord > 0 else math.inf)
    total = _sum(powered, dims, keepdim)
    zero = total == 0
    return (total + zero.to(total.dtype)) ** (1.0 / ord) * (~zero).to(total.dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norms over the two dims ``dim``: 'fro' √Σ a², 'nuc' Σ σ, 2 / −2 the largest /
    smallest singular value, 1 / −1 the max / min column sum of |a|, ∞ / −∞ the max / min row
    sum. A max over no values (2 of an empty matrix, 1 with no columns, ∞ with no rows) is 0
    and not differentiable, as torch's; a min over none raises IndexError."""
    check_tensor(A, "linalg.matrix_norm", "A")
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    d0, d1 = (normalize_dim(d, A.ndim, "linalg.matrix_norm") for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    reduced = {2: min(A.shape[d0], A.shape[d1]), 1: A.shape[d1], float("inf"): A.shape[d0]}
    if reduced.get(ord, 1) == 0:   # a max over nothing: torch's 0 (outside the graph)
        shape = [1 if i in (d0, d1) else k for i, k in enumerate(A.shape)
                 if keepdim or i not in (d0, d1)]
        return A._make(np.zeros(shape, A._data.dtype))
    if ord in ("nuc", 2, -2):
        moved = A.movedim((d0, d1), (-2, -1))
        s = svdvals(moved)
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    if ord in (1, -1, float("inf"), -float("inf")):
        along, across = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(along, keepdim=True)
        reduce = amax if ord in (1, float("inf")) else amin
        out = reduce(sums, (across,), True)
        return out if keepdim else out.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm or a matrix norm, as torch.linalg.norm: with ``dim`` an int (or 1-D
    input) a vector norm, with two dims (or 2-D input and an ``ord``) a matrix norm; with
    neither ``ord`` nor ``dim``, the 2-norm of all elements."""
    check_tensor(A, "linalg.norm", "A")
    vector = (len((dim,) if isinstance(dim, int) else tuple(dim)) == 1 if dim is not None
              else ord is not None and A.ndim == 1)
    if vector and isinstance(ord, str):   # 'fro' / 'nuc' name matrix norms
        raise RuntimeError(f"linalg.norm: ord={ord!r} is a matrix norm: linalg.matrix_norm: The "
                           f"input tensor A must have at least 2 dimensions (got a vector norm "
                           f"over a {A.ndim}-D input{'' if dim is None else f' and dim={dim}'})")
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or "
                       f"2D. Got {A.ndim}D.")


def tensor_norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm`` / ``Tensor.norm``, the legacy interface: p = 'fro' (the 2-norm over
    ``dim``, all elements by default), 'nuc' (nuclear, over two dims), or a number (a vector
    norm over ``dim``)."""
    check_tensor(input, "norm")
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    order = 2 if p == "fro" or p is None else p
    if isinstance(p, str) and p != "fro":
        raise RuntimeError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
    return vector_norm(input, order, dim, keepdim, dtype=dtype)


# ---------------------------------------------------------------------------- inverses, solves
def inv(A):
    """A⁻¹ (batched). Raises :class:`LinAlgError` for a singular matrix."""
    return _d.Inv.apply(_matrices(A, "inv", square=True))


def det(A):
    """det A (batched)."""
    return _d.Det.apply(_matrices(A, "det", square=True))


slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])


def slogdet(A):
    """(sign, log|det A|): the determinant without overflow; A (…, n, n) → (…), (…). The sign
    is piecewise constant: its gradient is zero (it is in the graph as torch's)."""
    A = _matrices(A, "slogdet", square=True)
    sign = A._make(np.linalg.slogdet(A._data)[0].astype(A._data.dtype))
    if A.requires_grad:
        sign = where(A._make(np.ones(sign._data.shape, np.bool_)), sign, A.sum((-2, -1)))
    return slogdet_result(sign, _d.LogAbsDet.apply(A))


def logdet(A):
    """log det A of each square matrix: log|det A| where det A > 0, nan where it is negative,
    −inf where it is 0 (torch.logdet). The gradient is A⁻ᵀ where det A > 0, 0 where it is
    negative (torch's). Shapes: (*, m, m) -> (*)."""
    sign, logabsdet = slogdet(A)
    return logabsdet.where(sign != -1, math.nan)


def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B). B is a vector (or batch of vectors) when it
    has one dim fewer than A and matches A's leading shape, as torch decides."""
    A = _matrices(A, "solve", square=True)
    check_tensor(B, "linalg.solve", "B")
    if B.dtype != A.dtype:
        name = {"float16": "Half", "float32": "Float", "float64": "Double"}
        a, b = (str(t.dtype).split(".")[-1] for t in (A, B))
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of "
                           f"type {name.get(a, a)} and B of type {name.get(b, b)} instead")
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(b.shape[:-2]))
    a = A.expand(*batch, *A.shape[-2:]) if tuple(A.shape[:-2]) != batch else A
    b = b.expand(*batch, *b.shape[-2:]) if tuple(b.shape[:-2]) != batch else b
    x = _d.Solve.apply(a, b)
    return x.squeeze(-1) if vector else x


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B for a triangular A (``left=False``: X A = B): only A's upper (``upper``)
    or lower triangle is read, and with ``unitriangular`` not its diagonal either (taken as
    ones). A (*, n, n); B (*, n, k) (left) or (*, k, n), batch dims broadcast. The gradient
    with respect to A lies in the triangle read."""
    A = _matrices(A, "solve_triangular", square=True)
    check_tensor(B, "linalg.solve_triangular", "B")
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    offset = 1 if unitriangular else 0
    T = A.triu(offset) if upper else A.tril(-offset)
    if unitriangular:
        T = T + _eye_like(A)
    return solve(T, B, left=left)


def _eye_like(A):
    """The identity of A's matrix size and dtype (broadcasting over A's batch)."""
    n = A.shape[-1]
    return A._make(np.eye(n, dtype=A._data.dtype))


def cholesky(A, *, upper=False):
    """L lower-triangular with A = L Lᵀ (``upper``: U = Lᵀ with A = UᵀU). Raises
    :class:`LinAlgError` when A is not positive-definite."""
    L = _d.Cholesky.apply(_matrices(A, "cholesky", square=True))
    return L.mT if upper else L


qr_result = namedtuple("qr", ["Q", "R"])


def qr(A, mode="reduced"):
    """(Q, R) with A = QR, Q orthonormal columns, R upper-triangular: 'reduced' (k = min(m, n)
    columns), 'complete' (Q square), 'r' (R only, Q empty). Differentiable, as torch, for
    'reduced' and for 'complete' with m ≤ n (with m < n, A = [X | Y], X square: Q, R_X from
    X's QR and R = [R_X | QᵀY], so the rule is X's); differentiating the other cases raises
    (in backward: the forward runs)."""
    A = _matrices(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = A.shape[-2:]
    if mode == "reduced" and m >= n:
        return qr_result(_d.QrQ.apply(A), _d.QrR.apply(A))
    if mode != "r" and m < n or mode == "complete" and m == n:
        X, Y = A[..., :m], A[..., m:]
        Q = _d.QrQ.apply(X)
        return qr_result(Q, cat([_d.QrR.apply(X), matmul(Q.mT, Y)], -1))
    R = _d.QrUndifferentiable.apply(A, mode=mode, part=1)
    if mode == "r":
        return qr_result(A._make(np.empty((0,), A._data.dtype)), R)
    return qr_result(_d.QrUndifferentiable.apply(A, mode=mode, part=0), R)


def qr_legacy(input, some=True):
    """torch.qr / Tensor.qr, deprecated there for linalg.qr: (Q, R) with A = QR; ``some``
    gives the reduced factors (Q (…, m, k), R (…, k, n), k = min(m, n)), else the complete
    ones (Q (…, m, m), R (…, m, n)), that is ``linalg.qr(A, 'reduced' if some else
    'complete')``, gradients included."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a "
                  "future PyTorch release.\nThe boolean parameter 'some' has been replaced with "
                  "a string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced "
                  "with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
                  UserWarning, stacklevel=2)
    return qr(input, "reduced" if some else "complete")


geqrf_result = namedtuple("geqrf", ["a", "tau"])


def geqrf(input):
    """LAPACK's geqrf: A = QR packed as (a, tau), A (…, m, n). R is on and above a's diagonal;
    below it, column i holds the Householder vector vᵢ = (0…0, 1, a[i+1:, i]), and
    Q = H₁ ⋯ H_k, Hᵢ = I − τᵢ vᵢ vᵢᵀ, tau (…, k), k = min(m, n) — LAPACK's own values and
    signs (R's diagonal may be negative). Feed (a, tau) to :func:`orgqr` for Q or to
    :func:`ormqr` to multiply by it. Not differentiable (as torch's)."""
    A = _matrices(input, "geqrf")
    a, tau = _d.geqrf(A._data)
    return geqrf_result(_d.Geqrf.apply(A, value=a), _d.Geqrf.apply(A, value=tau))


def orgqr(input, tau):
    """torch.orgqr, an alias of :func:`householder_product`: the first n columns of
    Q = H₁ ⋯ H_k from :func:`geqrf`'s (a, tau); input (…, m, n), tau (…, k)."""
    return householder_product(input, tau)


def ormqr(input, tau, other, left=True, transpose=False):
    """op(Q)·C (``left``) or C·op(Q), op(Q) = Qᵀ with ``transpose``, for Q = H₁ ⋯ H_k given
    by Householder vectors (input (…, mn, k) as :func:`geqrf` leaves it, tau (…, min(mn, k)))
    and C = ``other`` (…, m, n); Q is m × m (left) or n × n, never formed: each Hᵢ applies as
    C − τᵢ vᵢ (vᵢᵀ C). Differentiable in all three tensors (a product of differentiable ops)."""
    op = "torch.ormqr"
    for t, name in ((input, "input"), (tau, "tau"), (other, "other")):
        check_tensor(t, op, name)
    for t, name in ((input, "input"), (other, "other")):
        if t.ndim < 2:
            raise RuntimeError(f"{op}: {name} must have at least 2 dimensions.")
    if tau.ndim != input.ndim - 1:
        raise RuntimeError(f"{op}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.ndim} and input.ndim is equal to {input.ndim}")
    if other.ndim != input.ndim:
        raise RuntimeError(f"{op}: Expected other to have the same number of dimensions as "
                           f"input, but got other.ndim equal to {other.ndim} and input.ndim is "
                           f"equal to {input.ndim}")
    if tuple(tau.shape[:-1]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    if tuple(other.shape[:-2]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of other to be equal to "
                           f"input.shape[:-2], but got {list(other.shape[:-2])}")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{op}: other.shape[{side}] must be equal to input.shape[-2]")
    k = tau.shape[-1]
    if k != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"{op}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           f"input.shape[-1])")
    names = {"float32": "Float", "float64": "Double"}
    for t, name in ((tau, "tau"), (other, "other")):
        if t.dtype != input.dtype:
            a, b = (str(x.dtype).split(".")[-1] for x in (input, t))
            raise RuntimeError(f"{op}: Expected input and {name} to have the same dtype, but "
                               f"input has dtype{names.get(a, a)} and {name} has dtype "
                               f"{names.get(b, b)}")
    _matrices(input, "ormqr")
    mn = input.shape[-2]
    V = input.tril(-1)[..., :, :k] + input._make(np.eye(mn, k, dtype=input._data.dtype))
    C = other
    # Q = H₁ ⋯ H_k: Q C and C Qᵀ apply H_k first, Qᵀ C and C Q apply H₁ first
    for i in (range(k) if left == bool(transpose) else reversed(range(k))):
        v, t = V[..., :, i:i + 1], tau[..., i:i + 1].unsqueeze(-1)
        C = C - t * matmul(v, matmul(v.mT, C)) if left else C - t * matmul(matmul(C, v), v.mT)
    return C


eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def eigh(A, UPLO="L"):
    """(λ ascending, V) with A = V diag(λ) Vᵀ for symmetric A, reading the ``UPLO`` triangle."""
    A = _matrices(A, "eigh", square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return eigh_result(_d.EighValues.apply(A, uplo=UPLO), _d.EighVectors.apply(A, uplo=UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of symmetric A."""
    return eigh(A, UPLO).eigenvalues


svd_result = namedtuple("svd", ["U", "S", "Vh"])


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. ``full_matrices=False`` gives the thin
    factors (k = min(m, n)); with the full ones of a non-square A, the columns (rows) past k
    complete an orthonormal basis and carry no gradient (not unique: torch drops their
    gradients too)."""
    A = _matrices(A, "svd")
    m, n = A.shape[-2:]
    if full_matrices and m != n and not A.requires_grad:   # (one SVD: nothing to record)
        u, s, vh = np.linalg.svd(A._data, full_matrices=True)
        return svd_result(A._make(u), A._make(s), A._make(vh))
    U, S, Vh = _d.SvdU.apply(A), _d.SvdS.apply(A), _d.SvdVh.apply(A)
    if full_matrices and m != n:
        u, _, vh = np.linalg.svd(A._data, full_matrices=True)
        if m > n:
            U = cat([U, A._make(u[..., n:])], -1)
        else:
            Vh = cat([Vh, A._make(vh[..., m:, :])], -2)
    return svd_result(U, S, Vh)


svd_uv_result = namedtuple("svd", ["U", "S", "V"])


def svd_uv(input, some=True, compute_uv=True):
    """torch.svd, the older interface: (U, S, V) with A = U diag(S) Vᵀ — V itself, where
    ``linalg.svd`` returns Vh = Vᵀ. ``some``: the thin factors (k = min(m, n) columns), else
    the full ones. ``compute_uv=False``: S alone is computed, and U, V are zero-filled
    (m, m) and (n, n) matrices, as torch's. Shapes: input (..., m, n)."""
    if not compute_uv:
        A = _matrices(input, "svd")
        m, n = A.shape[-2:]
        zeros = lambda k: A._make(np.zeros(A.shape[:-2] + (k, k), A._data.dtype))  # noqa: E731
        return svd_uv_result(zeros(m), svdvals(A), zeros(n))
    U, S, Vh = svd(input, full_matrices=not some)
    return svd_uv_result(U, S, Vh.mT)


def svdvals(A):
    """The singular values of A, descending."""
    return _d.SvdS.apply(_matrices(A, "svdvals"))


def _tolerances(a, atol, rtol):
    """(atol, rtol) per matrix, (…, 1) arrays or numbers: atol defaults to 0; rtol to
    max(m, n)·ε where atol is unset or not positive, else 0 (elementwise, as torch's);
    atol and rtol numbers or tensors of the batch shape."""
    m, n = a.shape[-2:]
    atol, rtol = (v._data[..., None] if isinstance(v, TensorBase) else v for v in (atol, rtol))
    if rtol is None:
        default = max(m, n) * np.finfo(a.dtype).eps
        rtol = default if atol is None else np.where(np.asarray(atol) > 0, 0.0, default)
    return 0.0 if atol is None else atol, rtol


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore–Penrose pseudo-inverse V diag(1/σ) Uᵀ, singular values at or below
    max(atol, rtol·σ_max) treated as zero, so rtol ≥ 1 gives zeros (rtol defaults to
    max(m, n)·ε where atol is unset or 0; ``rcond``, torch's older name, is rtol).
    ``hermitian``: A is symmetric, and only its lower triangle is read (eigendecomposition,
    σ = |λ|). atol/rtol: numbers or tensors of the batch shape. A (…, m, n) → (…, n, m).
    The gradient is the pseudo-inverse's own rule, finite at repeated singular values."""
    A = _matrices(A, "pinv")
    if rcond is not None:
        rtol = rcond
    atol, rtol = _tolerances(A._data, atol, rtol)
    return _d.Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))


lstsq_result = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of min ‖AX − B‖ (the minimum-norm one when A is rank
    deficient), as torch's CPU default driver 'gelsy': (solution, residuals — the squared
    residuals when m > n, A has full rank and the driver is not 'gelsy', else empty —, the
    rank, and the singular values for the drivers 'gelsd' and 'gelss', else empty)."""
    A = _matrices(A, "lstsq")
    check_tensor(B, "linalg.lstsq", "B")
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError(f"torch.linalg.lstsq parameter driver='{driver}' is not supported on "
                           "CPU; it must be one of 'gels', 'gelsy', 'gelsd', 'gelss'")
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    vector = B.ndim == A.ndim - 1
    if A.shape[-2] != B.shape[-1 if vector else -2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size("
                           f"{-1 if vector else -2}) (got {A.shape[-2]} and "
                           f"{B.shape[-1 if vector else -2]})")
    if B.dtype != A.dtype:
        name = {"float32": "Float", "float64": "Double"}
        a, b = (str(t.dtype).split(".")[-1] for t in (A, B))
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {name.get(a, a)} and other's dtype "
                           f"{name.get(b, b)}")
    b = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2:]
    eps = np.finfo(A._data.dtype).eps
    tol = (max(m, n) * eps) if rcond is None else rcond
    pseudo = pinv(A, rtol=tol)
    x = matmul(pseudo, b)
    s = np.linalg.svd(A._data, compute_uv=False)
    rank = (s > tol * s.max(-1, keepdims=True, initial=0.0)).sum(-1).astype(np.int64)
    if m > n and np.all(rank == n) and driver not in (None, "gelsy"):
        residuals = ((matmul(A, x) - b) ** 2).sum(-2)
    else:   # empty, yet in the graph as torch's (it requires grad when A or B does)
        residuals = (A.reshape(-1)[:0] + b.reshape(-1)[:0]).to(A.dtype)
    values = A._make(s) if driver in ("gelsd", "gelss") else A._make(np.empty((0,), A._data.dtype))
    if driver == "gels":   # gels computes no rank
        rank = np.empty((0,), np.int64)
    return lstsq_result(x.squeeze(-1) if vector else x, residuals, A._make(rank), values)


def cond(A, p=None):
    """The condition number κ_p(A) = ‖A‖_p ‖A⁻¹‖_p of each matrix (torch.linalg.cond).
    p = None or 2: σ_max / σ_min, −2: σ_min / σ_max (any shape (…, m, n)); 'nuc':
    Σσ · Σ1/σ; 'fro', ±1, ±∞: through :func:`matrix_norm` of A and A⁻¹ (square A only). A
    singular matrix gives inf (nan for ±2 of a zero matrix, as torch's); an empty matrix 0.
    Differentiable as its composition. Shapes: (…, m, n) → (…)."""
    check_tensor(A, "linalg.cond", "A")
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p not in (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc") or isinstance(p, bool):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if isinstance(p, str):   # torch checks the shape of these before the empty case
        _matrices(A, f"cond(ord={p})", square=True)
    if A.numel() == 0:   # NumPy leaves κ of a 0 × 0 matrix undefined; torch gives 0
        return A._make(np.zeros(A.shape[:-2], A._data.dtype))
    if p in (None, 2, -2, "nuc"):
        s = svdvals(A)
        if p == "nuc":
            return s.sum(-1) * s.reciprocal().sum(-1)
        largest, smallest = s[..., 0], s[..., -1]
        return smallest / largest if p == -2 else largest / smallest
    _matrices(A, f"cond(ord={p})", square=True)
    inverse, info = inv_ex(A)
    inverse = where(info._make(info._data[..., None, None] > 0), math.inf, inverse)
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    return where(result != result, math.inf, result)   # 0 · ∞ of a singular A: ∞, as torch


# ---------------------------------------------------------------------------- products
def vecdot(x, y, *, dim=-1):
    """Σ x·y along ``dim`` (broadcasting)."""
    return (x * y).sum(dim)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (broadcasting)."""
    check_tensor(input, "linalg.cross")
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    d = normalize_dim(dim, len(shape), "linalg.cross")
    if shape[d] != 3 or input.shape[d - len(shape)] != 3 or other.shape[d - len(shape)] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d - len(shape)]} and {other.shape[d - len(shape)]}")
    input, other = input.expand(*shape), other.expand(*shape)
    a = [input.select(d, i) for i in range(3)]
    b = [other.select(d, i) for i in range(3)]
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                  a[0] * b[1] - a[1] * b[0]], d)


def multi_dot(tensors):
    """A₁ A₂ ⋯ Aₙ (the first may be a vector, as the last), multiplied in the cheapest order
    for three or more matrices is not searched: left to right."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


def matrix_power(A, n):
    """Aⁿ = A·A⋯A (n factors) of each square matrix, by repeated squaring; n < 0 gives
    (A⁻¹)⁻ⁿ (floating A only), n = 0 the identity. Integer matrices stay integer.
    Shapes: (*, m, m) -> (*, m, m)."""
    A = _matrices(A, "matrix_power", square=True, floating=False)
    if n < 0:
        A, n = inv(A), -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    if result is None:   # n = 0: the identity written over A, as torch (a zero gradient to A)
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A._data.shape).copy()
        return where(A._make(np.ones(A._data.shape, np.bool_)), A._make(eye), A)
    return result


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values above max(atol, rtol·σ_max) (rtol defaults to
    max(m, n)·ε when atol is unset; ``tol``, torch's older argument, is atol with rtol 0).
    ``hermitian``: |eigenvalues| of A's lower triangle. Not differentiable."""
    A = _matrices(A, "matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    s = _d.singular_values(A._data, hermitian)
    cutoff = _d.rank_cutoff(s, *_tolerances(A._data, atol, rtol))
    return A._make((s > cutoff).sum(-1).astype(np.int64))


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of each matrix (as ``chainrule.diagonal`` with matrix defaults)."""
    return A.diagonal(offset, dim1, dim2)


# ---------------------------------------------------------------------------- the *_ex variants
def _raise_info(info, op, describe, is_matrix):
    """Raise :class:`LinAlgError` for the first matrix whose LAPACK ``info`` is positive, with
    torch's text: "op: (Batch element i): <describe(info)>" (no batch part for one matrix)."""
    flat = np.asarray(info).reshape(-1)
    bad = np.flatnonzero(flat > 0)
    if bad.size:
        where_ = "" if is_matrix else f"(Batch element {bad[0]}): "
        raise LinAlgError(f"{op}: {where_}{describe(int(flat[bad[0]]))}")


def _no_info(A):
    return A._make(np.zeros(A.shape[:-2], np.int32))


solve_ex_result = namedtuple("linalg_solve_ex", ["result", "info"])


def solve_ex(A, B, *, left=True, check_errors=False):
    """(X, info): :func:`solve` without raising for a singular A: info (…) int32 is LAPACK
    getrf's (i > 0: U[i−1, i−1] of A's LU is exactly zero, and X holds the inf/nan the
    substitution gives, as torch's). ``check_errors``: raise :class:`LinAlgError` instead."""
    A = _matrices(A, "solve_ex", square=True)
    try:
        return solve_ex_result(solve(A, B, left=left), _no_info(A))
    except LinAlgError:   # a singular matrix in the batch: the LU path, info per matrix
        pass
    LU, pivots, info = lu_factor_ex(A)
    if check_errors:
        _raise_info(info._data, "torch.linalg.solve_ex",
                    lambda i: "The solver failed because the input matrix is singular.",
                    A.ndim == 2)
    vector = left and (B.ndim == 1
                       or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])))
    x = lu_solve(LU, pivots, B.unsqueeze(-1) if vector else B, left=left)
    return solve_ex_result(x.squeeze(-1) if vector else x, info)


inv_ex_result = namedtuple("linalg_inv_ex", ["inverse", "info"])


def inv_ex(A, *, check_errors=False):
    """(A⁻¹, info): :func:`inv` without raising for a singular A: info (…) int32 is getrf's
    (i > 0: U[i−1, i−1] is zero, and the inverse holds inf/nan, as torch's). ``check_errors``:
    raise :class:`LinAlgError` instead."""
    A = _matrices(A, "inv_ex", square=True)
    try:
        return inv_ex_result(inv(A), _no_info(A))
    except LinAlgError:
        pass
    LU, pivots, info = lu_factor_ex(A)
    if check_errors:
        _raise_info(info._data, "linalg.inv_ex", lambda i: f"The diagonal element {i} is zero, "
                    "the inversion could not be completed because the input matrix is singular.",
                    A.ndim == 2)
    return inv_ex_result(lu_solve(LU, pivots, _eye_like(A).expand(*A.shape)), info)


cholesky_ex_result = namedtuple("linalg_cholesky_ex", ["L", "info"])


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): :func:`cholesky` without raising: info (…) int32 is LAPACK potrf's, the
    order of the first leading minor of A that is not positive-definite (0: none). A failed
    matrix's L holds what LAPACK's unblocked potf2 leaves (its columns up to the failure) and
    gets no gradient; the others' gradients are :func:`cholesky`'s. ``check_errors``: raise
    :class:`LinAlgError` instead."""
    A = _matrices(A, "cholesky_ex", square=True)
    try:
        return cholesky_ex_result(cholesky(A, upper=upper), _no_info(A))
    except LinAlgError:
        pass
    partial, info = _d.potrf(A._data)
    if check_errors:
        _raise_info(info, "linalg.cholesky_ex", lambda i: "The factorization could not be "
                    f"completed because the input is not positive-definite (the leading minor of "
                    f"order {i} is not positive-definite).", A.ndim == 2)
    failed = A._make((info > 0)[..., None, None])
    # the factored matrices through the differentiable Cholesky, the failed ones replaced by I
    L = where(failed, A._make(partial), cholesky(where(failed, _eye_like(A), A)))
    return cholesky_ex_result(L.mT if upper else L, A._make(info))


# ---------------------------------------------------------------------------- LU
lu_factor_ex_result = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_factor_result = namedtuple("linalg_lu_factor", ["LU", "pivots"])
lu_result = namedtuple("linalg_lu", ["P", "L", "U"])
lu_unpack_result = namedtuple("lu_unpack", ["P", "L", "U"])


def _u_zero(i):
    return (f"U[{i},{i}] is zero and using it on lu_solve would result in a division by zero. "
            "If you still want to perform the factorization, consider calling linalg.lu(A, "
            "pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info) of A = P L U with partial pivoting, A (…, m, n), as LAPACK getrf:
    LU (…, m, n) packs L's multipliers (unit diagonal implied) below the diagonal and U on
    and above it; pivots (…, min(m, n)) int32, 1-based: row i was swapped with row
    pivots[i] − 1; info (…) int32, i > 0 when U[i−1, i−1] is exactly zero. Differentiable in
    LU (torch's rule). ``check_errors``: raise :class:`LinAlgError` for a zero pivot."""
    A = _matrices(A, "lu_factor_ex")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, pivots, info = _d.getrf(A._data)
    P = _d.permutation_matrix(_d.pivots_to_permutation(pivots, A.shape[-2]), lu.dtype)
    LU = _d.LuFactor.apply(A, factor=(lu, P))
    if check_errors:
        _raise_info(info, "torch.linalg.lu_factor_ex", _u_zero, A.ndim == 2)
    return lu_factor_ex_result(LU, A._make(pivots), A._make(info))


def lu_factor(A, *, pivot=True):
    """(LU, pivots) of :func:`lu_factor_ex`, raising :class:`LinAlgError` when U has a zero
    on its diagonal (A singular), as torch.linalg.lu_factor."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    _raise_info(info._data, "torch.linalg.lu_factor", _u_zero, A.ndim == 2)
    return lu_factor_result(LU, pivots)


def _permutation(LU, pivots, op):
    """The row permutation of getrf's ``pivots`` for ``LU``, checked as torch's ``op``
    ('lu_unpack' or 'lu_solve') checks them."""
    check_tensor(pivots, op, "LU_pivots")
    piv = pivots._data
    m = LU.shape[-2]
    if op == "lu_solve":
        if piv.dtype != np.int32:
            raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type "
                               "torch.int32")
        if piv.ndim == 0 or piv.shape[-1] != LU.shape[-1]:
            raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as "
                               "the dimension of the matrix")
    elif piv.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")
    if piv.size and (piv.min() < 1 or piv.max() > m):
        raise RuntimeError(f"pivots passed to {op} must be between 1 and LU.size(-2) = {m} "
                           f"inclusive (got {piv.min()}…{piv.max()}). Did you properly pass the "
                           "result of lu_factor?")
    return _d.pivots_to_permutation(piv, m)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) with A = P L U from :func:`lu_factor`'s packed LU (…, m, n) and pivots:
    P (…, m, m), L (…, m, k) unit lower-triangular, U (…, k, n), k = min(m, n). L and U are
    differentiable in LU. Without ``unpack_data`` L and U are empty, without
    ``unpack_pivots`` P is."""
    LU = _matrices(LU_data, "lu_unpack")
    m, n = LU.shape[-2:]
    k = min(m, n)
    empty = LU._make(np.empty((0,), LU._data.dtype))
    P = empty
    if unpack_pivots:
        P = LU._make(_d.permutation_matrix(_permutation(LU, LU_pivots, "lu_unpack"),
                                           LU._data.dtype))
    if not unpack_data:
        return lu_unpack_result(P, empty, empty)
    L = LU.tril(-1)[..., :, :k] + LU._make(np.eye(m, k, dtype=LU._data.dtype))
    return lu_unpack_result(P, L, LU.triu()[..., :k, :])


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U, A (…, m, n): P (…, m, m) a permutation (partial pivoting,
    LAPACK's pivots), L (…, m, k) unit lower-triangular, U (…, k, n) upper, k = min(m, n).
    Differentiable (torch's rule, through the packed LU)."""
    _matrices(A, "lu")
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    LU, pivots, _ = lu_factor_ex(A)
    return lu_result(*lu_unpack(LU, pivots))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (``adjoint``: Aᵀ X = B; ``left=False``: X A = B, X Aᵀ = B) for A = P L U
    given by :func:`lu_factor`'s (LU, pivots); B (…, n, r) (left) or (…, r, n), batch dims
    broadcast. Differentiable in LU and B (torch's rules)."""
    LU = _matrices(LU, "lu_solve", square=True)
    check_tensor(B, "linalg.lu_solve", "B")
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if B.dtype != LU.dtype:
        name = {"float32": "Float", "float64": "Double"}
        a, b = (str(t.dtype).split(".")[-1] for t in (LU, B))
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found "
                           f"LU of type {name.get(a, a)} and B of type {name.get(b, b)} instead")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    perm = _permutation(LU, pivots, "lu_solve")
    if not left:   # X A = B ⟺ Aᵀ Xᵀ = Bᵀ
        return _d.LuSolve.apply(LU, B.mT, perm=perm, adjoint=not adjoint).mT
    return _d.LuSolve.apply(LU, B, perm=perm, adjoint=adjoint)


def lu_solve_legacy(b, LU_data, LU_pivots):
    """torch.lu_solve(b, LU_data, LU_pivots), the older order of :func:`lu_solve`'s
    arguments: A⁻¹ b."""
    return lu_solve(LU_data, LU_pivots, b)


lu_with_info_result = namedtuple("_lu_with_info", ["LU", "pivots", "info"])


def lu_legacy(A, pivot=True, get_infos=False):
    """torch.lu: (LU, pivots) of :func:`lu_factor_ex` (with its info as a third, for
    ``get_infos``); a singular A does not raise."""
    LU, pivots, info = lu_factor_ex(A, pivot=pivot)
    return lu_with_info_result(LU, pivots, info) if get_infos else (LU, pivots)


# ---------------------------------------------------------------------------- Cholesky solves
def _same_dtype_as_A(b, A):
    """torch's check that a solve's right-hand side has its matrix's dtype."""
    if b.dtype != A.dtype:
        name = {"float32": "Float", "float64": "Double"}
        p, q = (str(t.dtype).split(".")[-1] for t in (b, A))
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{name.get(p, p)} and A of type {name.get(q, q)} instead.")


def _cholesky_operands(b, L, op):
    check_tensor(b, op, "input")
    check_tensor(L, op, "input2")
    for t in (b, L):
        if t.ndim < 2:
            raise RuntimeError(f"{op}: The input tensor must have at least 2 dimensions.")
    if L.shape[-1] != L.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {L.shape[-2]} by "
                           f"{L.shape[-1]} matrices")
    if L.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for {op}: each A matrix is {L.shape[-1]} by "
                           f"{L.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    _same_dtype_as_A(b, L)
    _matrices(L, op, square=True)


def cholesky_solve(input, input2, upper=False):
    """X = A⁻¹ B for A = L Lᵀ given its Cholesky factor ``input2`` (``upper``: A = Uᵀ U),
    B = ``input`` (…, n, k), batch dims broadcast; only the factor's triangle is read. The
    gradient with respect to the factor is torch's: that of (L Lᵀ)⁻¹ B in every entry."""
    _cholesky_operands(input, input2, "cholesky_solve")
    return _d.CholeskySolve.apply(input, input2, upper=bool(upper))


def cholesky_inverse(input, upper=False):
    """A⁻¹ = (L Lᵀ)⁻¹ from the Cholesky factor L = ``input`` (``upper``: (Uᵀ U)⁻¹), (…, n, n);
    the gradient as :func:`cholesky_solve`'s with B = I (torch's)."""
    check_tensor(input, "cholesky_inverse")
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError("cholesky_inverse: A must be batches of square matrices, but they are "
                           f"{input.shape[-2] if input.ndim > 1 else 1} by {input.shape[-1]} "
                           "matrices")
    return cholesky_solve(_eye_like(input).expand(*input.shape), input, upper)


def cholesky_legacy(input, upper=False):
    """torch.cholesky (deprecated there for linalg.cholesky): L with A = L Lᵀ (``upper``:
    U with A = Uᵀ U)."""
    return cholesky(input, upper=upper)


triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """(X, A's copy) with A X = b for triangular A (``transpose``: Aᵀ X = b), reading only the
    ``upper`` (or lower) triangle, its diagonal taken as ones for ``unitriangular``; b
    (…, n, k), batch dims broadcast (torch.triangular_solve, deprecated there for
    linalg.solve_triangular)."""
    check_tensor(b, "triangular_solve", "b")
    A = _matrices(A, "triangular_solve", square=True)
    if b.ndim < 2 or b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{A.shape[-1]} by {A.shape[-1]} but each b matrix is "
                           f"{b.shape[-2] if b.ndim > 1 else 1} by {b.shape[-1]}")
    coefficient = A.mT if transpose else A
    x = solve_triangular(coefficient, b, upper=upper != bool(transpose),
                         unitriangular=unitriangular)
    return triangular_solve_result(x, A.clone())


# ---------------------------------------------------------------------------- matrix functions
def matrix_exp(A):
    """e^A = Σₖ Aᵏ/k! of each square matrix (…, n, n), by scaling and squaring with a Padé
    approximant (Higham 2005). The gradient is exact: Ā = [exp([[Aᵀ, Ȳ], [0, Aᵀ]])]₁₂."""
    return _d.MatrixExp.apply(_matrices(A, "matrix_exp", square=True))


def vander(x, *, N=None):
    """The Vandermonde matrix of increasing powers: out[…, i, j] = x[…, i]ʲ, j < N (default
    x.shape[-1]); x (…, n) → (…, n, N). Built as a cumulative product, as torch's (so
    are its gradients); integer inputs give int64."""
    check_tensor(x, "linalg.vander", "x")
    kind = x._data.dtype
    if kind == np.bool_ or kind == np.float16 or kind.kind not in "fiu":
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           f"but got {str(x.dtype).split('.')[-1].capitalize()}")
    x = x.unsqueeze(-1) if x.ndim == 0 else x
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    powers = x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)
    ones = powers._make(np.ones(tuple(x.shape) + (1,), powers._data.dtype))
    return cat([ones, powers], -1)


def tensorinv(A, ind=2):
    """The tensor inverse: X with tensordot(X, A, ind) = I, for A of shape (i₁…i_ind,
    j₁…j_r) with Π i = Π j; X has shape (j…, i…). Computed as inv of A as a square matrix."""
    check_tensor(A, "linalg.tensorinv", "A")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(*shape[ind:], *shape[:ind])


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A (B.shape…, X.shape…), Π B.shape = Π X.shape;
    ``dims``, dims of A moved to the end first. Computed by :func:`solve` on A as a square
    matrix."""
    check_tensor(A, "linalg.tensorsolve", "A")
    check_tensor(B, "linalg.tensorsolve", "B")
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        A = A.movedim(dims, tuple(range(A.ndim - len(dims), A.ndim)))
    shape = tuple(A.shape)
    result_shape = shape[B.ndim:]
    rows, cols = math.prod(shape[:B.ndim]), math.prod(result_shape)
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:]) "
                           f"== prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(*result_shape)


def householder_product(A, tau):
    """Q's first n columns, Q = H₁ H₂ ⋯ H_k, Hᵢ = I − τᵢ vᵢ vᵢᵀ with vᵢ = (0…0, 1, A[i+1:, i])
    (LAPACK orgqr; A as geqrf leaves it): A (…, m, n), m ≥ n, tau (…, k), k ≤ n → (…, m, n).
    A product of differentiable ops, so its gradients are those of the same function."""
    op = "torch.linalg.householder_product"
    check_tensor(A, op, "input")
    check_tensor(tau, op, "tau")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]")
    k = tau.shape[-1] if tau.ndim else 1
    if n < k:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tau.ndim != A.ndim - 1 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2]"
                           f", but got {list(tau.shape[:-1])}")
    _matrices(A, "householder_product")
    dtype = A._data.dtype
    V = A.tril(-1)[..., :, :k] + A._make(np.eye(m, k, dtype=dtype))
    Q = A._make(np.broadcast_to(np.eye(m, dtype=dtype), tuple(A.shape[:-2]) + (m, m)).copy())
    if k == 0:   # Q = I, yet in the graph as torch's (zero gradients to A and tau)
        inputs = A.sum((-2, -1), keepdim=True) + tau.sum(-1)[..., None, None]
        Q = where(A._make(np.ones(Q._data.shape, np.bool_)), Q, inputs)
    for i in range(k):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i:i + 1].unsqueeze(-1) * matmul(matmul(Q, v), v.mT)
    return Q[..., :, :n]


# ---------------------------------------------------------------------------- LDLᵀ
ldl_factor_ex_result = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
ldl_factor_result = namedtuple("linalg_ldl_factor", ["LD", "pivots"])


def _d_zero(i):
    return (f"D[{i},{i}] is zero: the factorization was completed, but the block-diagonal D "
            "is exactly singular, so the input matrix is singular")


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """(LD, pivots, info) of A = P L D Lᵀ Pᵀ for symmetric A (…, n, n), reading its lower
    triangle, with Bunch–Kaufman pivoting (LAPACK sytrf): L unit lower-triangular, D block
    diagonal with 1×1 and 2×2 blocks, packed in LD; pivots (…, n) int32 as LAPACK's (a 2×2
    block shows as a pair of equal negative entries); info (…) int32, i > 0 when D[i−1, i−1]
    is exactly zero. ``hermitian`` is the same for real matrices. Not differentiable (as
    torch's). ``check_errors``: raise :class:`LinAlgError` for a singular D."""
    A = _matrices(A, "ldl_factor_ex", square=True)
    ld, pivots, info = _d.sytrf(A._data)
    if check_errors:
        _raise_info(info, "torch.linalg.ldl_factor_ex", _d_zero, A.ndim == 2)
    return ldl_factor_ex_result(_d.LdlFactor.apply(A, factor=ld), A._make(pivots), A._make(info))


def ldl_factor(A, *, hermitian=False):
    """(LD, pivots) of :func:`ldl_factor_ex`, raising :class:`LinAlgError` when D is exactly
    singular (torch stops there with an internal assertion)."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    _raise_info(info._data, "torch.linalg.ldl_factor", _d_zero, A.ndim == 2)
    return ldl_factor_result(LD, pivots)


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X = A⁻¹ B for A given by :func:`ldl_factor`'s (LD, pivots) (LAPACK sytrs); B (…, n, k),
    batch dims broadcast. Not differentiable (as torch's)."""
    op = "torch.linalg.ldl_solve"
    LD = _matrices(LD, "ldl_solve", square=True)
    check_tensor(pivots, op, "pivots")
    check_tensor(B, op, "B")
    if B.ndim < 2:
        raise RuntimeError(f"{op}: B should have at least 2 dimensions, but has {B.ndim} "
                           "dimensions instead")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {op}: each A matrix is {n} by {n} but "
                           f"each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    _same_dtype_as_A(B, LD)
    piv = pivots._data
    if piv.dtype.kind not in "iu" or tuple(piv.shape) != tuple(LD.shape[:-1]) or (
            piv.size and (np.abs(piv).min() < 1 or np.abs(piv).max() > n)):
        raise RuntimeError(f"{op}: pivots must be the integer (…, {n}) tensor ldl_factor returns "
                           f"for LD of shape {tuple(LD.shape)}, with entries ±1…±{n}; got "
                           f"{pivots.dtype} of shape {tuple(piv.shape)}")
    return _d.LdlSolve.apply(LD, B, pivots=piv.astype(np.int32))


# ---------------------------------------------------------------------------- chain_matmul
def chain_matmul(*matrices, out=None):
    """torch.chain_matmul, deprecated there for linalg.multi_dot: A₁ A₂ ⋯ Aₙ of 2-D matrices
    given as separate arguments (one matrix: a copy of it). Differentiable."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for t in matrices:
        check_tensor(t, "chain_matmul", "matrices")
        if t.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t.ndim}, expected 2 instead.")
    result = matrices[0].clone() if len(matrices) == 1 else multi_dot(list(matrices))
    if out is not None:
        out.copy_(result)
        return out
    return result


# ---------------------------------------------------------------------------- removed functions
# torch keeps these names only to say what replaced them (torch/_linalg_utils.py): the same
# RuntimeError, with torch's guidance.
_REMOVED = "This function was deprecated since version 1.9 and is now removed. "


def solve_removed(input, A, *, out=None):
    """torch.solve / Tensor.solve: removed in torch 1.9; raises RuntimeError naming its
    replacement, ``linalg.solve(A, B)`` (arguments reversed)."""
    raise RuntimeError(
        _REMOVED + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. "
        "`torch.linalg.solve` has its arguments reversed and does not return the LU "
        "factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used with "
        "`torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be "
        "replaced with:\nX = torch.linalg.solve(A, B)")


def lstsq_removed(input, A, *, out=None):
    """torch.lstsq / Tensor.lstsq: removed in torch 1.9; raises RuntimeError naming its
    replacement, ``linalg.lstsq(A, B)`` (arguments reversed)."""
    raise RuntimeError(
        _REMOVED + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
        "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition "
        "in the returned tuple (although it returns other information about the problem).\n\n"
        "To get the QR decomposition consider using `torch.linalg.qr`.\n\nThe returned "
        "solution in `torch.lstsq` stored the residuals of the solution in the last m - n "
        "columns of the returned value whenever m > n. In torch.linalg.lstsq, the residuals are "
        "in the field 'residuals' of the returned named tuple.\n\nThe unpacking of the "
        "solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced "
        "with:\nX = torch.linalg.lstsq(A, B).solution")


def eig_removed(self, eigenvectors=False, *, e=None, v=None):
    """torch.eig / Tensor.eig: removed in torch 1.9; raises RuntimeError naming its
    replacements (torch.linalg.eig / eigvals, complex-valued, which chainrule lacks: it has
    no complex dtype; for a symmetric A, ``linalg.eigh``)."""
    raise RuntimeError(
        _REMOVED + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` "
        "rather than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
        "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, "
        "eigenvectors=True) should be replaced with:\nL_complex, V_complex = "
        "torch.linalg.eig(A)\n\n(chainrule has no complex dtype; for a symmetric A use "
        "linalg.eigh / linalg.eigvalsh)")


def matrix_rank_removed(input, tol=None, symmetric=False, *, out=None):
    """torch.matrix_rank: removed in torch 1.9; raises RuntimeError naming its replacement,
    ``linalg.matrix_rank`` (``symmetric`` became ``hermitian``)."""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed.\nPlease use the "
        "`torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed in "
        "`torch.linalg.matrix_rank()` to 'hermitian'.")


def symeig_removed(input, eigenvectors=False, upper=True, *, out=None):
    """torch.symeig / Tensor.symeig: removed in torch 1.9; raises RuntimeError naming its
    replacements, ``linalg.eigvalsh`` / ``linalg.eigh`` (which read the lower triangle by
    default)."""
    raise RuntimeError(
        _REMOVED + "The default behavior has changed from using the upper triangular portion "
        "of the matrix by default to using the lower triangular portion.\n\nL, _ = "
        "torch.symeig(A, upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, "
        "UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) "
        "should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")
