"""Matrix functions and factorizations as primitives, with the published derivative rules.

Every op here works on the last two dims and batches over the rest. A factorization with
several outputs (QR, eigh, SVD) is one primitive per output: the VJP of the whole is linear in
the outputs' gradients, so it is the sum of the outputs' own VJPs — each rule below is torch's
formula (FunctionsManual.cpp) with the other outputs' gradients set to zero. The rules use the
primitives themselves through ``xp``, so they are differentiable again.

References: Giles, "An extended collection of matrix derivative results" (2008); Murray,
"Differentiation of the Cholesky decomposition" (2016); Townsend, "Differentiating the singular
value decomposition" (2016); Walter & Lehmann, "Algorithmic differentiation of linear algebra
functions with application in optimum experimental design" (QR, 2018).
"""
from __future__ import annotations

import numpy as np

from .._graph import Node


class LinAlgError(RuntimeError):
    """A matrix without the property an op needs (singular, not positive-definite), as torch's
    ``torch.linalg.LinAlgError`` (a RuntimeError)."""


def _sym_tril(xp, x, diagonal_scale):
    """tril(x) with its diagonal multiplied by ``diagonal_scale``."""
    lower = xp.apply(Tril, x, k=-1)
    diag = xp.apply(Tril, x, k=0) - lower
    return lower + diag * diagonal_scale


class Tril(Node):
    """y = tril(x, k) over the last two dims (linear; its own mask as transpose)."""

    linear = True
    params = ("k",)

    def forward(self, x):
        return np.tril(x, self.k)

    def transpose(self, xp, g):
        return xp.apply(Tril, g, k=self.k)


class Inv(Node):
    """Y = A⁻¹;  VJP Ā = −Yᵀ Ȳ Yᵀ;  JVP Ẏ = −Y Ȧ Y."""

    backward_name = "LinalgInvExBackward0"

    def forward(self, a):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.inv: The diagonal element is zero, the inversion could not "
                              "be completed because the input matrix is singular.") from None

    def vjp(self, xp, g, out):
        yt = xp.mT(out)
        return (-xp.matmul(yt, xp.matmul(g, yt)),)

    def jvp(self, xp, tangents, out):
        return -xp.matmul(out, xp.matmul(tangents[0], out))


class Solve(Node):
    """X = A⁻¹B (B a matrix or a batch of them);  VJP B̄ = A⁻ᵀ X̄, Ā = −B̄ Xᵀ;
    JVP Ẋ = A⁻¹(Ḃ − Ȧ X)."""

    backward_name = "LinalgSolveExBackward0"

    def forward(self, a, b):
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.solve: The solver failed because the input matrix is "
                              "singular.") from None

    def vjp(self, xp, g, a, out):
        gb = xp.apply(Solve, xp.mT(a), g)
        return -xp.matmul(gb, xp.mT(out)), gb

    def jvp(self, xp, tangents, a, out):
        ta, tb = tangents
        rhs = tb if ta is None else (-xp.matmul(ta, out) if tb is None else tb - xp.matmul(ta, out))
        return xp.apply(Solve, a, rhs)


class LogAbsDet(Node):
    """y = log |det A|;  VJP Ā = ȳ A⁻ᵀ;  JVP ẏ = tr(A⁻¹ Ȧ)."""

    backward_name = "LinalgSlogdetBackward0"

    def forward(self, a):
        return np.linalg.slogdet(a)[1]

    def vjp(self, xp, g, a):
        return (xp.reshape(g, xp.data(g).shape + (1, 1)) * xp.mT(xp.apply(Inv, a)),)

    def jvp(self, xp, tangents, a):
        return xp.sum(xp.apply(Inv, a) * xp.mT(tangents[0]), (-2, -1))


def _cofactors(a):
    """det(A)·A⁻ᵀ (the cofactor matrix), for singular A too: with A = U S Vᵀ it is
    det(U)·det(V)·U diag(Π_{j≠i} σⱼ) Vᵀ."""
    try:
        return np.linalg.det(a)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)
    except np.linalg.LinAlgError:   # a singular matrix in the batch
        u, s, vh = np.linalg.svd(a)
        others = np.stack([np.prod(np.delete(s, i, -1), -1) for i in range(s.shape[-1])], -1)
        sign = np.linalg.det(u) * np.linalg.det(vh)
        return sign[..., None, None] * np.matmul(u * others[..., None, :], vh)


class Det(Node):
    """y = det A (NaN for a matrix holding a NaN);  VJP Ā = ȳ · det A · A⁻ᵀ, the cofactor
    matrix, finite for a singular A too (a plain backward; a recorded one, for higher
    derivatives, goes through A⁻¹);  JVP ẏ = det A · tr(A⁻¹ Ȧ)."""

    backward_name = "LinalgDetBackward0"

    def forward(self, a):
        out = np.linalg.det(a)
        nan = np.isnan(a).any((-2, -1))   # (LAPACK's pivoting can hide a NaN: det 0)
        return np.where(nan, np.nan, out).astype(out.dtype) if nan.any() else out

    def vjp(self, xp, g, a, out):
        if not xp.recording:
            return (xp.reshape(g, xp.data(g).shape + (1, 1)) * _cofactors(a),)
        scale = xp.reshape(g * out, xp.data(g).shape + (1, 1))
        return (scale * xp.mT(xp.apply(Inv, a)),)

    def jvp(self, xp, tangents, a, out):
        return out * xp.sum(xp.apply(Inv, a) * xp.mT(tangents[0]), (-2, -1))


def _lower_symmetric(a):
    """The symmetric matrix of a's lower triangle (what ``hermitian=True`` reads, as torch)."""
    low = np.tril(a)
    return low + np.swapaxes(np.tril(a, -1), -1, -2)


def singular_values(a, hermitian=False):
    """σ of each matrix, descending; ``hermitian``: |eigenvalues| of its lower triangle's
    symmetric matrix."""
    if hermitian:
        return np.sort(np.abs(np.linalg.eigvalsh(_lower_symmetric(a))), -1)[..., ::-1]
    return np.linalg.svd(a, compute_uv=False)


def rank_cutoff(s, atol, rtol):
    """max(atol, rtol·σ_max) per matrix (…, 1) for singular values ``s`` (…, k), σ_max taken
    from ``s`` itself, so σ_max > cutoff exactly when rtol < 1 (torch's rule: σ > cutoff)."""
    return np.maximum(atol, rtol * s.max(-1, keepdims=True, initial=0.0))


class Pinv(Node):
    """P = A⁺, the values σ ≤ max(atol, rtol·σ_max) (per matrix: ``atol``/``rtol`` (…, 1))
    dropped, σ from the same decomposition that builds P; ``hermitian``: from the
    eigendecomposition of A's lower triangle, σ = |λ|. VJP (Golub & Pereyra's derivative of
    A⁺, where the rank is locally constant; torch's rule, finite at repeated singular values):
    Ā = −Pᵀ P̄ Pᵀ + (I − A P) P̄ᵀ P Pᵀ + Pᵀ P P̄ᵀ (I − P A)."""

    params = ("atol", "rtol", "hermitian")
    backward_name = "LinalgPinvBackward0"

    def forward(self, a):
        if self.hermitian:
            w, v = np.linalg.eigh(_lower_symmetric(a))
            keep = np.abs(w) > rank_cutoff(np.abs(w), self.atol, self.rtol)
            inv = np.where(keep, 1 / np.where(w == 0, 1, w), 0)
            return np.matmul(v * inv[..., None, :], np.swapaxes(v, -1, -2)).astype(a.dtype)
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        inv = np.where(s > rank_cutoff(s, self.atol, self.rtol), 1 / np.where(s == 0, 1, s), 0)
        return np.matmul(np.swapaxes(vh, -1, -2) * inv[..., None, :],
                         np.swapaxes(u, -1, -2)).astype(a.dtype)

    def vjp(self, xp, g, a, out):
        pt, gt = xp.mT(out), xp.mT(g)
        x = xp.matmul(gt, xp.matmul(out, pt))          # P̄ᵀ P Pᵀ
        y = xp.matmul(xp.matmul(pt, out), gt)          # Pᵀ P P̄ᵀ
        # (I − A P) x and y (I − P A) without forming the identities
        return (-xp.matmul(pt, xp.matmul(g, pt)) + x - xp.matmul(a, xp.matmul(out, x))
                + y - xp.matmul(xp.matmul(y, out), a),)

    def jvp(self, xp, tangents, a, out):
        """Ṗ = −P Ȧ P + P Pᵀ Ȧᵀ (I − A P) + (I − P A) Ȧᵀ Pᵀ P."""
        pt, tt = xp.mT(out), xp.mT(tangents[0])
        u = xp.matmul(out, xp.matmul(pt, tt))          # P Pᵀ Ȧᵀ
        v = xp.matmul(tt, xp.matmul(pt, out))          # Ȧᵀ Pᵀ P
        return (-xp.matmul(out, xp.matmul(tangents[0], out)) + u
                - xp.matmul(xp.matmul(u, a), out) + v - xp.matmul(out, xp.matmul(a, v)))


class Cholesky(Node):
    """L with A = L Lᵀ, L lower-triangular. VJP (torch's): P = Φ(Lᵀ L̄), Ā = L⁻ᵀ ½(P + Pᵀ
    strictly-lower part) L⁻¹ with Φ = tril; JVP L̇ = L Φ½(L⁻¹ Ȧ L⁻ᵀ), Φ½ = tril with the
    diagonal halved (Murray 2016)."""

    backward_name = "LinalgCholeskyExBackward0"

    def forward(self, a):
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed because "
                              "the input is not positive-definite.") from None

    def vjp(self, xp, g, out):
        p = xp.apply(Tril, xp.matmul(xp.mT(out), g), k=0)
        p = (p + xp.mT(xp.apply(Tril, p, k=-1))) * 0.5
        left = xp.apply(Solve, xp.mT(out), p)                     # L⁻ᵀ P
        return (xp.mT(xp.apply(Solve, xp.mT(out), xp.mT(left))),)  # (L⁻ᵀ P) L⁻¹

    def jvp(self, xp, tangents, out):
        inner = xp.apply(Solve, out, xp.mT(xp.apply(Solve, out, xp.mT(tangents[0]))))
        return xp.matmul(out, _sym_tril(xp, inner, 0.5))


def _copyltu(xp, m):
    """The symmetric matrix with m's lower triangle: tril(m, −1) + tril(m, −1)ᵀ + diag(m)."""
    low = xp.apply(Tril, m, k=-1)
    return xp.apply(Tril, m, k=0) + xp.mT(low)


def _qr_vjp(xp, q, r, m, inner):
    """Ā = (inner + Q copyltu(M)) R⁻ᵀ: torch's rule, m ≥ n, M = R R̄ᵀ − Q̄ᵀ Q."""
    x = xp.matmul(q, _copyltu(xp, m))
    if inner is not None:
        x = x + inner
    return xp.mT(xp.apply(Solve, r, xp.mT(x)))


class QrQ(Node):
    """Q of the reduced QR A = QR (m ≥ n); VJP with R̄ = 0: Ā = (Q̄ + Q copyltu(−Q̄ᵀQ)) R⁻ᵀ."""

    backward_name = "LinalgQrBackward0"

    def forward(self, a):
        return np.linalg.qr(a, mode="reduced")[0]

    def vjp(self, xp, g, a, out):
        r = xp.apply(QrR, a)
        return (_qr_vjp(xp, out, r, -xp.matmul(xp.mT(g), out), g),)

    def jvp(self, xp, tangents, a, out):
        return _qr_jvp(xp, tangents[0], out, xp.apply(QrR, a))[0]


class QrR(Node):
    """R of the reduced QR A = QR (m ≥ n); VJP with Q̄ = 0: Ā = Q copyltu(R R̄ᵀ) R⁻ᵀ."""

    backward_name = "LinalgQrBackward0"

    def forward(self, a):
        return np.linalg.qr(a, mode="reduced")[1]

    def vjp(self, xp, g, a, out):
        q = xp.apply(QrQ, a)
        return (_qr_vjp(xp, q, out, xp.matmul(out, xp.mT(g)), None),)

    def jvp(self, xp, tangents, a, out):
        return _qr_jvp(xp, tangents[0], xp.apply(QrQ, a), out)[1]


class QrUndifferentiable(Node):
    """Q (``part`` 0) or R (1) of a QR that torch does not differentiate: mode 'r' (no Q to
    differentiate with) and 'complete' with more rows than columns (Q's extra columns are not
    unique). The forward runs; a derivative raises torch's error."""

    params = ("mode", "part")
    backward_name = "LinalgQrBackward0"

    def forward(self, a):
        return np.linalg.qr(a, mode="complete" if self.mode == "complete" else "reduced")[self.part]

    def vjp(self, xp, g):
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")

    jvp = vjp


def _qr_jvp(xp, ta, q, r):
    """(Q̇, Ṙ) for A = QR, m ≥ n: X = Qᵀ Ȧ R⁻¹, Ω = X_low − X_lowᵀ, Ṙ = (X − Ω) R,
    Q̇ = Ȧ R⁻¹ − Q (X − Ω)."""
    ar = xp.mT(xp.apply(Solve, xp.mT(r), xp.mT(ta)))               # Ȧ R⁻¹
    x = xp.matmul(xp.mT(q), ar)
    low = xp.apply(Tril, x, k=-1)
    upper = x - (low - xp.mT(low))
    return ar - xp.matmul(q, upper), xp.matmul(upper, r)


def _row(xp, x):
    """x (…, k) as rows (…, 1, k), spelled with k so that an empty batch reshapes too."""
    shape = xp.data(x).shape
    return xp.reshape(x, shape[:-1] + (1, shape[-1]))


def _eigh_e(xp, l):
    """E[i, j] = λⱼ − λᵢ with ones on the diagonal (no division by zero there)."""
    e = _row(xp, l) - xp.reshape(l, xp.data(l).shape + (1,))
    n = xp.data(l).shape[-1]
    return e + xp.const(np.eye(n, dtype=xp.data(l).dtype))


class EighValues(Node):
    """λ of A = V diag(λ) Vᵀ (ascending; the ``uplo`` triangle is read);  VJP Ā = V diag(λ̄) Vᵀ;
    JVP λ̇ = diag(Vᵀ Ȧ V)."""

    backward_name = "LinalgEighBackward0"

    params = ("uplo",)

    def forward(self, a):
        return np.linalg.eigh(a, self.uplo)[0]

    def vjp(self, xp, g, a):
        v = xp.apply(EighVectors, a, uplo=self.uplo)
        return (xp.matmul(v * _row(xp, g), xp.mT(v)),)

    def jvp(self, xp, tangents, a):
        v = xp.apply(EighVectors, a, uplo=self.uplo)
        return xp.sum(v * xp.matmul(tangents[0], v), (-2,))


class EighVectors(Node):
    """V of A = V diag(λ) Vᵀ;  VJP Ā = V (skew(Vᵀ V̄)/2 ⊘ E) Vᵀ with E[i, j] = λⱼ − λᵢ (torch's
    rule; V's sign is a gauge, so only sign-invariant losses have meaningful gradients);
    JVP V̇ = V (Vᵀ Ȧ V ⊘ E, zero diagonal)."""

    backward_name = "LinalgEighBackward0"

    params = ("uplo",)

    def forward(self, a):
        return np.linalg.eigh(a, self.uplo)[1]

    def vjp(self, xp, g, a, out):
        e = _eigh_e(xp, xp.apply(EighValues, a, uplo=self.uplo))
        vg = xp.matmul(xp.mT(out), g)
        inner = (vg - xp.mT(vg)) * 0.5 / e
        return (xp.matmul(out, xp.matmul(inner, xp.mT(out))),)

    def jvp(self, xp, tangents, a, out):
        e = _eigh_e(xp, xp.apply(EighValues, a, uplo=self.uplo))
        n = xp.data(out).shape[-1]
        off = xp.const(1 - np.eye(n, dtype=xp.data(out).dtype))
        inner = xp.matmul(xp.mT(out), xp.matmul(tangents[0], out)) * off / e
        return xp.matmul(out, inner)


def _svd(a):
    return np.linalg.svd(a, full_matrices=False)


def _svd_parts(xp, a):
    return (xp.apply(SvdU, a), xp.apply(SvdS, a), xp.apply(SvdVh, a))


def _svd_e(xp, s):
    s2 = s * s
    shape = xp.data(s).shape
    e = xp.reshape(s2, shape[:-1] + (1, shape[-1])) - xp.reshape(s2, shape + (1,))
    return e + xp.const(np.eye(shape[-1], dtype=xp.data(s).dtype))


class SvdS(Node):
    """Singular values (descending) of the thin SVD A = U diag(S) Vᴴ;  VJP Ā = U diag(S̄) Vᴴ;
    JVP Ṡ = diag(Uᵀ Ȧ V)."""

    backward_name = "LinalgSvdBackward0"

    def forward(self, a):
        return np.linalg.svd(a, compute_uv=False)

    def vjp(self, xp, g, a):
        u, vh = xp.apply(SvdU, a), xp.apply(SvdVh, a)
        return (xp.matmul(u * _row(xp, g), vh),)

    def jvp(self, xp, tangents, a):
        u, vh = xp.apply(SvdU, a), xp.apply(SvdVh, a)
        return xp.sum(u * xp.matmul(tangents[0], xp.mT(vh)), (-2,))


class SvdU(Node):
    """U of the thin SVD; VJP: torch's svd_backward with S̄ = V̄ = 0:
    Ā = [U (skew(UᵀŪ) S ⊘ E) + (I − UUᵀ) Ū S⁻¹] Vᴴ, E[i, j] = S_j² − S_i²."""

    backward_name = "LinalgSvdBackward0"

    def forward(self, a):
        return _svd(a)[0]

    def vjp(self, xp, g, a, out):
        s, vh = xp.apply(SvdS, a), xp.apply(SvdVh, a)
        uhgu = xp.matmul(xp.mT(out), g)
        uhgu = uhgu - xp.mT(uhgu)
        srow = _row(xp, s)
        ga = xp.matmul(out, uhgu * (srow / _svd_e(xp, s)))
        m, n = xp.data(a).shape[-2:]
        if m > n:
            gsinv = g / srow
            ga = ga + gsinv - xp.matmul(out, xp.matmul(xp.mT(out), gsinv))
        return (xp.matmul(ga, vh),)

    def jvp(self, xp, tangents, a, out):
        return _svd_jvp(xp, tangents[0], a)[0]


class SvdVh(Node):
    """Vᴴ of the thin SVD; VJP: torch's svd_backward with Ū = S̄ = 0:
    Ā = U [(S skew(Vᴴ V̄ᴴᵀ) ⊘ E) Vᴴ + S⁻¹ (V̄ᴴ − V̄ᴴ V Vᴴ)]."""

    backward_name = "LinalgSvdBackward0"

    def forward(self, a):
        return _svd(a)[2]

    def vjp(self, xp, g, a, out):
        u, s = xp.apply(SvdU, a), xp.apply(SvdS, a)
        vhgv = xp.matmul(out, xp.mT(g))
        vhgv = vhgv - xp.mT(vhgv)
        scol = xp.reshape(s, xp.data(s).shape + (1,))
        ga = xp.matmul(scol * (vhgv / _svd_e(xp, s)), out)
        m, n = xp.data(a).shape[-2:]
        if m < n:
            sinvg = g / scol
            ga = ga + sinvg - xp.matmul(xp.matmul(sinvg, xp.mT(out)), out)
        return (xp.matmul(u, ga),)

    def jvp(self, xp, tangents, a, out):
        return _svd_jvp(xp, tangents[0], a)[2]


def _svd_jvp(xp, ta, a):
    """(U̇, Ṡ, V̇ᴴ) of the thin SVD (torch's linalg_svd_jvp, real case)."""
    u, s, vh = _svd_parts(xp, a)
    m, n = xp.data(a).shape[-2:]
    k = xp.data(s).shape[-1]
    v = xp.mT(vh)
    dp = xp.matmul(xp.mT(u), xp.matmul(ta, v))                # Uᵀ Ȧ V  (k × k)
    ds = xp.sum(dp * xp.const(np.eye(k, dtype=xp.data(s).dtype)), (-1,))
    e = _svd_e(xp, s)
    scol = xp.reshape(s, xp.data(s).shape + (1,))
    srow = _row(xp, s)
    off = xp.const(1 - np.eye(k, dtype=xp.data(s).dtype))
    # dU = U ((dP S + S dPᵀ) ⊘ E) (zero diagonal), dV = V ((S dP + dPᵀ S) ⊘ E)
    du = xp.matmul(u, (dp * srow + scol * xp.mT(dp)) * off / e)
    dv = xp.matmul(v, (scol * dp + xp.mT(dp) * srow) * off / e)
    if m > n:   # the part of Ȧ outside U's columns
        du = du + (xp.matmul(ta, v) - xp.matmul(u, xp.matmul(xp.mT(u), xp.matmul(ta, v)))) / srow
    if m < n:
        extra = xp.matmul(xp.mT(ta), u) - xp.matmul(v, xp.matmul(vh, xp.matmul(xp.mT(ta), u)))
        dv = dv + extra / srow
    return du, ds, xp.mT(dv)


# ---------------------------------------------------------------------------- LU
def getrf(a):
    """LAPACK getrf on arrays: the LU factorization with partial pivoting A = P L U of each
    (m, n) matrix, by Doolittle's elimination with the pivot the largest |a| in its column (the
    first such, as LAPACK's idamax). Returns (LU packed as LAPACK's — L's multipliers below the
    diagonal, U on and above —, pivots (…, k) 1-based int32: row i was swapped with row
    pivots[i] − 1, info (…) int32: the 1-based index of U's first zero diagonal entry, else 0).
    A zero pivot column is left unscaled and unswapped, as LAPACK leaves it."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    count = int(np.prod(batch, dtype=np.int64))
    lu = np.array(a, copy=True).reshape((count, m, n))
    pivots = np.empty((count, k), np.int32)
    info = np.zeros(count, np.int32)
    rows = np.arange(count)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        pivot = lu[rows, p, j]
        nonzero = pivot != 0
        p = np.where(nonzero, p, j)   # (LAPACK swaps only for a nonzero pivot)
        pivots[:, j] = p + 1
        swap = lu[rows, p].copy()
        lu[rows, p] = lu[:, j]
        lu[:, j] = swap
        info[(~nonzero) & (info == 0)] = j + 1
        lu[:, j + 1:, j] /= np.where(nonzero, lu[:, j, j], 1)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), pivots.reshape(batch + (k,)), info.reshape(batch)


def pivots_to_permutation(pivots, m):
    """perm with (Pᵀ A)[i] = A[perm[i]] from getrf's 1-based row swaps (…, k), for m rows."""
    batch = pivots.shape[:-1]
    count = int(np.prod(batch, dtype=np.int64))
    piv = pivots.reshape((count, pivots.shape[-1])).astype(np.intp) - 1
    perm = np.broadcast_to(np.arange(m), (count, m)).copy()
    rows = np.arange(piv.shape[0])
    for i in range(piv.shape[1]):
        swap = perm[rows, piv[:, i]].copy()
        perm[rows, piv[:, i]] = perm[:, i]
        perm[:, i] = swap
    return perm.reshape(batch + (m,))


def permutation_matrix(perm, dtype):
    """P with P[perm[i], i] = 1, so A = P L U (…, m, m)."""
    m = perm.shape[-1]
    p = np.zeros(perm.shape + (m,), dtype)
    np.put_along_axis(p, perm[..., :, None], 1, -1)
    return np.swapaxes(p, -1, -2)


def _substitute(t, b, lower):
    """T⁻¹ B for triangular T (…, n, n), B (…, n, r) broadcast, by substitution row by row:
    IEEE values (inf, nan) where T has a zero diagonal entry, as LAPACK's trsm gives, where
    np.linalg.solve raises."""
    n = t.shape[-1]
    shape = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    x = np.array(np.broadcast_to(b, shape + b.shape[-2:]), dtype=np.result_type(t, b))
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        done = slice(0, i) if lower else slice(i + 1, n)
        x[..., i, :] -= np.einsum("...j,...jr->...r", t[..., i, done], x[..., done, :])
        x[..., i, :] /= t[..., i, i, None]
    return x


def _triangular_solve(t, b, lower):
    """T⁻¹ B for triangular T (the other triangle zero): LAPACK's solve where T is
    nonsingular, substitution (inf/nan, as trsm) where it is not."""
    try:
        return np.linalg.solve(t, b)
    except np.linalg.LinAlgError:
        return _substitute(t, b, lower)


def getrs(lu, perm, b, adjoint=False):
    """A⁻¹ B (``adjoint``: A⁻ᵀ B) for A = P L U given by getrf's packed ``lu`` (…, n, n) and
    the row permutation ``perm``; B (…, n, r), batch dims broadcast."""
    shape = np.broadcast_shapes(lu.shape[:-2], b.shape[:-2])
    lu = np.broadcast_to(lu, shape + lu.shape[-2:])
    perm = np.broadcast_to(perm, shape + perm.shape[-1:])
    b = np.broadcast_to(b, shape + b.shape[-2:])
    unit_lower = np.tril(lu, -1) + np.eye(lu.shape[-1], dtype=lu.dtype)
    upper = np.triu(lu)
    if not adjoint:   # U⁻¹ L⁻¹ Pᵀ B
        y = np.linalg.solve(unit_lower, np.take_along_axis(b, perm[..., :, None], -2))
        return _triangular_solve(upper, y, False)
    # Aᵀ = Uᵀ Lᵀ Pᵀ: A⁻ᵀ B = P L⁻ᵀ U⁻ᵀ B
    y = np.linalg.solve(np.swapaxes(unit_lower, -1, -2),
                        _triangular_solve(np.swapaxes(upper, -1, -2), b, True))
    out = np.empty_like(y)
    np.put_along_axis(out, perm[..., :, None], y, -2)
    return out


def _lu_parts(xp, lu, k, unit=True):
    """(L (…, m, k) lower — with ones on its diagonal for ``unit`` —, U (…, k, n) upper) of a
    packed LU (of its gradient, ``unit=False``)."""
    low = xp.apply(Tril, lu, k=-1)
    up = (lu - low)[..., :k, :]
    low = low[..., :, :k]
    if unit:
        low = low + xp.const(np.eye(xp.data(lu).shape[-2], k, dtype=xp.data(lu).dtype))
    return low, up


def _solve_right(xp, z, t):
    """Z T⁻¹ = (T⁻ᵀ Zᵀ)ᵀ."""
    return xp.mT(xp.apply(Solve, xp.mT(t), xp.mT(z)))


def _pad(xp, parts, axis, like):
    """[X | Y] (axis −1) or [X ; Y] (axis −2) from matrix products with embeddings of the
    identity, which both namespaces differentiate."""
    sizes = [xp.data(p).shape[axis] for p in parts]
    total, start, out = sum(sizes), 0, None
    dtype = xp.data(like).dtype
    for p, s in zip(parts, sizes):
        e = xp.const(np.eye(s, total, start, dtype=dtype))
        term = xp.matmul(p, e) if axis == -1 else xp.matmul(xp.mT(e), p)
        out = term if out is None else out + term
        start += s
    return out


class LuFactor(Node):
    """The packed LU of A = P L U, A (…, m, n), computed by the caller with :func:`getrf`
    (``factor`` = (packed LU, P as a matrix), the pivots are wanted too). VJP (torch's
    linalg_lu_backward, written here per shape; L̄ = tril(Ḡ, −1)'s first k columns, Ū = triu(Ḡ)'s
    first k rows, k = min(m, n)):
    m ≤ n: Z = tril(Lᵀ L̄ − Ū₂ U₂ᵀ, −1) + triu(Ū₁ U₁ᵀ), Ā = P L⁻ᵀ [Z U₁⁻ᵀ | Ū₂];
    m > n: Z = tril(L₁ᵀ L̄₁, −1) + triu(Ū Uᵀ − L₂ᵀ L̄₂), Ā = P [L₁⁻ᵀ Z ; L̄₂] U⁻ᵀ.
    JVP, Ẋ = L₁⁻¹ (PᵀȦ)₁ U₁⁻¹: L̇₁ = L₁ tril(Ẋ, −1), U̇₁ = triu(Ẋ) U₁, and U̇₂ = L⁻¹((PᵀȦ)₂ −
    L̇ U₂) (wide) or L̇₂ = ((PᵀȦ)₂ − L₂ U̇) U⁻¹ (tall)."""

    params = ("factor",)
    data_params = ("factor",)   # A's own factors: a graph capture cannot replay them
    backward_name = "LinalgLuFactorExBackward0"

    def forward(self, a):
        return self.factor[0]

    def vjp(self, xp, g, out):
        m, n = xp.data(out).shape[-2:]
        k = min(m, n)
        l, u = _lu_parts(xp, out, k)
        lg, ug = _lu_parts(xp, g, k, unit=False)
        p = xp.const(self.factor[1])
        if m <= n:
            u1, ug1 = u[..., :, :m], ug[..., :, :m]
            inner = xp.matmul(xp.mT(l), lg)
            if m < n:
                inner = inner - xp.matmul(ug[..., :, m:], xp.mT(u[..., :, m:]))
            z = xp.apply(Tril, inner, k=-1) + _triu(xp, xp.matmul(ug1, xp.mT(u1)))
            z = _solve_right(xp, z, xp.mT(u1))
            if m < n:
                z = _pad(xp, [z, ug[..., :, m:]], -1, out)
            return (xp.matmul(p, xp.apply(Solve, xp.mT(l), z)),)
        l1, lg1, l2, lg2 = l[..., :n, :], lg[..., :n, :], l[..., n:, :], lg[..., n:, :]
        z = (xp.apply(Tril, xp.matmul(xp.mT(l1), lg1), k=-1)
             + _triu(xp, xp.matmul(ug, xp.mT(u)) - xp.matmul(xp.mT(l2), lg2)))
        z = _pad(xp, [xp.apply(Solve, xp.mT(l1), z), lg2], -2, out)
        return (xp.matmul(p, _solve_right(xp, z, xp.mT(u))),)

    def jvp(self, xp, tangents, out):
        m, n = xp.data(out).shape[-2:]
        k = min(m, n)
        l, u = _lu_parts(xp, out, k)
        pa = xp.matmul(xp.const(np.swapaxes(self.factor[1], -1, -2)), tangents[0])   # Pᵀ Ȧ
        l1, u1 = l[..., :k, :], u[..., :, :k]
        x = _solve_right(xp, xp.apply(Solve, l1, pa[..., :k, :k]), u1)
        dl1 = xp.matmul(l1, xp.apply(Tril, x, k=-1))
        du1 = xp.matmul(_triu(xp, x), u1)
        if m < n:
            du2 = xp.apply(Solve, l1, pa[..., :, m:] - xp.matmul(dl1, u[..., :, m:]))
            return _pad(xp, [dl1 + du1, du2], -1, out)
        if m > n:
            dl2 = _solve_right(xp, pa[..., n:, :] - xp.matmul(l[..., n:, :], du1), u1)
            return _pad(xp, [dl1 + du1, dl2], -2, out)
        return dl1 + du1


def _triu(xp, x):
    return x - xp.apply(Tril, x, k=-1)


class LuSolve(Node):
    """X = A⁻¹ B (``adjoint``: A⁻ᵀ B) for A = P L U given as getrf's packed ``lu`` (…, n, n)
    and the row permutation ``perm`` (a parameter: pivots carry no gradient); B (…, n, r),
    batch dims broadcast. A zero on U's diagonal gives inf/nan, as LAPACK's getrs. VJP:
    B̄ = A⁻ᵀ X̄ (A⁻¹ X̄ for ``adjoint``), M = Pᵀ B̄ Xᵀ (Pᵀ X B̄ᵀ),
    L̄U = −(tril(M Uᵀ, −1) + triu(Lᵀ M)); JVP, Ȧ = P (L̇ U + L U̇):
    Ẋ = A⁻¹ (Ḃ − Ȧ X) (A⁻ᵀ (Ḃ − Ȧᵀ X))."""

    params = ("perm", "adjoint")
    data_params = ("perm",)   # the pivots tensor's values
    backward_name = "LinalgLuSolveBackward0"

    def forward(self, lu, b):
        return getrs(lu, self.perm, b, self.adjoint)

    def _p(self, xp, lu):
        return xp.const(permutation_matrix(self.perm, xp.data(lu).dtype))

    def vjp(self, xp, g, lu, out):
        gb = xp.apply(LuSolve, lu, g, perm=self.perm, adjoint=not self.adjoint)
        glu = None
        if self.needs_input_grad[0]:
            n = xp.data(lu).shape[-1]
            l, u = _lu_parts(xp, lu, n)
            pt = xp.mT(self._p(xp, lu))
            m = xp.matmul(pt, xp.matmul(out, xp.mT(gb)) if self.adjoint
                          else xp.matmul(gb, xp.mT(out)))
            glu = -(xp.apply(Tril, xp.matmul(m, xp.mT(u)), k=-1)
                    + _triu(xp, xp.matmul(xp.mT(l), m)))
        return glu, gb

    def jvp(self, xp, tangents, lu, out):
        tlu, tb = tangents
        rhs = tb
        if tlu is not None:
            n = xp.data(lu).shape[-1]
            l, u = _lu_parts(xp, lu, n)
            dl, du = xp.apply(Tril, tlu, k=-1), _triu(xp, tlu)
            da = xp.matmul(self._p(xp, lu), xp.matmul(dl, u) + xp.matmul(l, du))
            term = -xp.matmul(xp.mT(da) if self.adjoint else da, out)
            rhs = term if rhs is None else rhs + term
        return xp.apply(LuSolve, lu, rhs, perm=self.perm, adjoint=self.adjoint)


# ---------------------------------------------------------------------------- Cholesky solves
def potrf(a):
    """LAPACK's unblocked Cholesky (potf2) on arrays, reading the lower triangle: (L, info),
    info (…) int32 the order of the first leading minor that is not positive-definite, else
    0. A failed matrix keeps what potf2 leaves: its columns before the failure factored, the
    failing diagonal entry a_jj − Σ l_jk², and the rest of its lower triangle as given."""
    n = a.shape[-1]
    l = np.tril(a).reshape((int(np.prod(a.shape[:-2], dtype=np.int64)), n, n))
    info = np.zeros(l.shape[0], np.int32)
    active = np.ones(l.shape[0], bool)
    for j in range(n):
        d = l[:, j, j] - np.einsum("bk,bk->b", l[:, j, :j], l[:, j, :j])
        bad = active & ~(d > 0)   # (a NaN fails too)
        info[bad] = j + 1
        l[bad, j, j] = d[bad]
        active &= ~bad
        root = np.sqrt(np.where(active, d, 1))
        col = ((l[:, j + 1:, j] - np.einsum("bik,bk->bi", l[:, j + 1:, :j], l[:, j, :j]))
               / root[:, None])
        l[active, j, j] = root[active]
        l[active, j + 1:, j] = col[active]
    return l.reshape(a.shape), info.reshape(a.shape[:-2])



class CholeskySolve(Node):
    """X = A⁻¹ B for A = L Lᵀ (``upper``: A = Uᵀ U), only L's triangle read; B (…, n, r),
    batch dims broadcast. VJP (torch's, which differentiates A = L Lᵀ in every entry of the
    given L): B̄ = A⁻¹ X̄, C = B̄ Xᵀ + X B̄ᵀ, L̄ = −C L (upper: −U C);
    JVP Ẋ = A⁻¹ (Ḃ − (K + Kᵀ) X), K = L̇ Lᵀ (upper: U̇ᵀ U)."""

    params = ("upper",)
    backward_name = "CholeskySolveBackward0"

    def forward(self, b, l):
        t = np.triu(l) if self.upper else np.tril(l)
        first = _triangular_solve(np.swapaxes(t, -1, -2) if self.upper else t, b, True)
        return _triangular_solve(t if self.upper else np.swapaxes(t, -1, -2), first, False)

    def vjp(self, xp, g, l, out):
        gb = xp.apply(CholeskySolve, g, l, upper=self.upper)
        gl = None
        if self.needs_input_grad[1]:
            c = xp.matmul(gb, xp.mT(out))
            c = c + xp.mT(c)
            gl = -(xp.matmul(l, c) if self.upper else xp.matmul(c, l))
        return gb, gl

    def jvp(self, xp, tangents, l, out):
        tb, tl = tangents
        rhs = tb
        if tl is not None:
            k = xp.matmul(xp.mT(tl), l) if self.upper else xp.matmul(tl, xp.mT(l))
            term = -xp.matmul(k + xp.mT(k), out)
            rhs = term if rhs is None else rhs + term
        return xp.apply(CholeskySolve, rhs, l, upper=self.upper)


# ---------------------------------------------------------------------------- matrix exponential
# Higham (2005), "The scaling and squaring method for the matrix exponential revisited": Padé
# degrees and the largest ‖A‖₁ each is accurate to the unit roundoff for, per precision
_PADE = {
    3: (120, 60, 12, 1),
    5: (30240, 15120, 3360, 420, 30, 1),
    7: (17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1),
    9: (17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1),
    13: (64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800,
         129060195264000, 10559470521600, 670442572800, 33522128640, 1323241920, 40840800,
         960960, 16380, 182, 1),
}
_THETA = {np.float64: ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1),
                       (7, 9.504178996162932e-1), (9, 2.097847961257068e0),
                       (13, 5.371920351148152e0)),
          np.float32: ((3, 4.258730016922831e-1), (5, 1.880152677804762e0),
                       (7, 3.925724783138660e0))}


def _pade(a, m):
    """(U, V), the odd and even parts of the degree-m Padé numerator: r_m(A) = (V−U)⁻¹(V+U)."""
    b = _PADE[m]
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    a2 = a @ a
    if m == 13:   # Higham's evaluation: six products instead of twelve
        a4 = a2 @ a2
        a6 = a4 @ a2
        u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4
                 + b[3] * a2 + b[1] * eye)
        v = (a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2
             + b[0] * eye)
        return u, v
    powers = [eye, a2]
    while len(powers) <= m // 2:
        powers.append(powers[-1] @ a2)
    u = a @ sum(b[2 * i + 1] * p for i, p in enumerate(powers))
    v = sum(b[2 * i] * p for i, p in enumerate(powers))
    return u, v


def expm(a):
    """e^A of each square matrix by scaling and squaring: e^A = r_m(A / 2ˢ)^(2ˢ) with the
    cheapest Padé degree m accurate for the batch's largest ‖A‖₁ (Higham 2005), s per matrix."""
    if a.size == 0:
        return np.array(a, copy=True)
    thetas = _THETA[np.float32 if a.dtype == np.float32 else np.float64]
    norms = np.abs(a).sum(-2).max(-1)
    largest = norms.max()
    s = np.zeros(norms.shape, np.int64)
    for m, theta in thetas:
        if largest <= theta:
            break
    else:   # the highest degree, each matrix scaled into its range
        ratio = np.nan_to_num(norms / theta, nan=1.0, posinf=1.0)
        s = np.maximum(0, np.ceil(np.log2(np.maximum(ratio, 1e-300)))).astype(np.int64)
    scaled = a / np.exp2(s).astype(a.dtype)[..., None, None]
    u, v = _pade(scaled, m)
    r = np.linalg.solve(v - u, v + u).astype(a.dtype)
    for i in range(int(s.max(initial=0))):
        r = np.where((s > i)[..., None, None], r @ r, r)
    return r


def _exp_upper_right(xp, top_left, corner):
    """The upper-right block of exp([[X, C], [0, X]]) = ∫₀¹ e^{(1−t)X} C e^{tX} dt: the
    derivative of e^X along C (Mathias 1996), exact and differentiable again."""
    n = xp.data(top_left).shape[-1]
    row = _pad(xp, [top_left, corner], -1, top_left)
    low = _pad(xp, [xp.zeros_like(top_left), top_left], -1, top_left)
    return xp.apply(MatrixExp, _pad(xp, [row, low], -2, top_left))[..., :n, n:]


class MatrixExp(Node):
    """Y = e^A = Σ Aᵏ/k!; VJP Ā = [exp([[Aᵀ, Ȳ], [0, Aᵀ]])]₁₂; JVP Ẏ = [exp([[A, Ȧ], [0, A]])]₁₂."""

    backward_name = "LinalgMatrixExpBackward0"

    def forward(self, a):
        return expm(a)

    def vjp(self, xp, g, a):
        return (_exp_upper_right(xp, xp.mT(a), g),)

    def jvp(self, xp, tangents, a):
        return _exp_upper_right(xp, a, tangents[0])


# ---------------------------------------------------------------------------- LDLᵀ (Bunch–Kaufman)
_BK_ALPHA = (1 + np.sqrt(17)) / 8   # Bunch–Kaufman's growth bound


def _swap(x, i, j):
    x[[i, j]] = x[[j, i]]


def _sytf2(a):
    """One matrix's LDLᵀ in place (its lower triangle), LAPACK's unblocked dsytf2 with
    UPLO='L': (pivots 1-based, negative pairs for 2×2 blocks, info)."""
    n = a.shape[-1]
    pivots = np.empty(n, np.int32)
    info, k = 0, 0
    while k < n:
        step, absakk = 1, abs(a[k, k])
        imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k]))) if k < n - 1 else k
        colmax = abs(a[imax, k]) if k < n - 1 else 0.0
        kp = k
        if max(absakk, colmax) == 0 or np.isnan(absakk):
            info = info or k + 1
        else:
            if absakk < _BK_ALPHA * colmax:
                rowmax = np.max(np.abs(a[imax, k:imax]))
                if imax < n - 1:
                    rowmax = max(rowmax, np.max(np.abs(a[imax + 1:, imax])))
                if absakk >= _BK_ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif abs(a[imax, imax]) >= _BK_ALPHA * rowmax:
                    kp = imax
                else:
                    kp, step = imax, 2
            kk = k + step - 1
            if kp != kk:   # interchange rows and columns kk and kp of the trailing lower triangle
                a[kp + 1:, [kk, kp]] = a[kp + 1:, [kp, kk]]
                col, row = a[kk + 1:kp, kk].copy(), a[kp, kk + 1:kp].copy()
                a[kk + 1:kp, kk], a[kp, kk + 1:kp] = row, col
                a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
                if step == 2:
                    a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
            if step == 1 and k < n - 1:
                d11 = 1 / a[k, k]
                x = a[k + 1:, k].copy()
                a[k + 1:, k + 1:] -= np.tril(d11 * np.outer(x, x))
                a[k + 1:, k] = x * d11
            elif step == 2 and k < n - 2:
                d21 = a[k + 1, k]
                d11, d22 = a[k + 1, k + 1] / d21, a[k, k] / d21
                d21 = 1 / (d11 * d22 - 1) / d21
                ak, ak1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                wk, wkp1 = d21 * (d11 * ak - ak1), d21 * (d22 * ak1 - ak)
                a[k + 2:, k + 2:] -= np.tril(np.outer(ak, wk) + np.outer(ak1, wkp1))
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
        pivots[k:k + step] = kp + 1 if step == 1 else -(kp + 1)
        k += step
    return pivots, info


def sytrf(a):
    """LAPACK sytrf (lower, unblocked) on arrays: A = P L D Lᵀ Pᵀ with Bunch–Kaufman pivoting,
    reading A's lower triangle. Returns (LD (…, n, n): L's multipliers below the diagonal, D's
    1×1 and 2×2 blocks on and just below it, zeros above; pivots (…, n) int32 as LAPACK's:
    k > 0 a 1×1 block with rows k−1 and pivots[k]−1 swapped, a pair of equal negative entries
    −p a 2×2 block with rows k+1 and p−1 swapped; info (…) int32: i > 0 when D[i−1, i−1]
    is exactly zero). The pivot choices differ per matrix: the batch is a loop."""
    n = a.shape[-1]
    count = int(np.prod(a.shape[:-2], dtype=np.int64))
    ld = np.tril(a).reshape((count, n, n))
    pivots = np.empty((count, n), np.int32)
    info = np.zeros(count, np.int32)
    for i in range(count):
        pivots[i], info[i] = _sytf2(ld[i])
    return ld.reshape(a.shape), pivots.reshape(a.shape[:-1]), info.reshape(a.shape[:-2])


def sytrs(ld, pivots, b):
    """LAPACK sytrs (lower) on arrays: A⁻¹ B for A given by :func:`sytrf`'s (LD, pivots);
    B (…, n, r), batch dims broadcast."""
    n, r = ld.shape[-1], b.shape[-1]
    shape = np.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
    count = int(np.prod(shape, dtype=np.int64))   # (not −1: the size may be 0)
    lds = np.broadcast_to(ld, shape + (n, n)).reshape((count, n, n))
    pivs = np.broadcast_to(pivots, shape + (n,)).reshape((count, n))
    x = np.array(np.broadcast_to(b, shape + (n, r)),
                 dtype=np.result_type(ld, b)).reshape((count, n, r))
    for a, p, y in zip(lds, pivs, x):
        k = 0
        while k < n:   # L D Y = Pᵀ B
            if p[k] > 0:
                _swap(y, k, p[k] - 1)
                y[k + 1:] -= np.outer(a[k + 1:, k], y[k])
                y[k] /= a[k, k]
                k += 1
                continue
            _swap(y, k + 1, -p[k] - 1)
            y[k + 2:] -= np.outer(a[k + 2:, k], y[k]) + np.outer(a[k + 2:, k + 1], y[k + 1])
            akm1k = a[k + 1, k]
            akm1, ak = a[k, k] / akm1k, a[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1
            bkm1, bk = y[k] / akm1k, y[k + 1] / akm1k
            y[k], y[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
            k += 2
        k = n - 1
        while k >= 0:   # Lᵀ Pᵀ X = Y
            y[k] -= a[k + 1:, k] @ y[k + 1:]
            if p[k] > 0:
                _swap(y, k, p[k] - 1)
                k -= 1
                continue
            y[k - 1] -= a[k + 1:, k - 1] @ y[k + 1:]
            _swap(y, k, -p[k] - 1)
            k -= 2
    return x.reshape(shape + (n, r))


class LdlFactor(Node):
    """LD of :func:`sytrf`, computed by the caller (``factor``, with its pivots); torch has no
    derivative for it, and differentiating raises torch's error."""

    params = ("factor",)
    data_params = ("factor",)   # A's own factor: a graph capture cannot replay it
    backward_name = "LinalgLdlFactorExBackward0"

    def forward(self, a):
        return self.factor

    def vjp(self, xp, g):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")

    jvp = vjp


class LdlSolve(Node):
    """A⁻¹ B from :func:`sytrf`'s LD and ``pivots`` (:func:`sytrs`); torch has no derivative
    for it, and differentiating raises torch's error."""

    params = ("pivots",)
    data_params = ("pivots",)   # the pivots tensor's values
    backward_name = "LinalgLdlSolveBackward0"

    def forward(self, ld, b):
        return sytrs(ld, self.pivots, b)

    def vjp(self, xp, g):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")

    jvp = vjp


def geqrf(a):
    """(a, tau) of LAPACK's geqrf for (…, m, n) arrays: NumPy's ``qr(mode='raw')`` is that
    call, with a transposed (LAPACK's column-major result)."""
    h, tau = np.linalg.qr(a, mode="raw")
    return np.ascontiguousarray(np.swapaxes(h, -1, -2)), tau


class Geqrf(Node):
    """``a`` or ``tau`` of LAPACK's geqrf (:func:`geqrf`), computed by the caller once for
    both (``value``): torch has no derivative for it, and differentiating raises torch's
    error."""

    params = ("value",)
    data_params = ("value",)   # A's own factorization: a graph capture cannot replay it
    backward_name = "GeqrfBackward0"

    def forward(self, a):
        return self.value

    def vjp(self, xp, g):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")

    jvp = vjp


def _lobpcg_check(node):
    if node.generalized:
        raise ValueError("lobpcg.backward does not support backward with B != I yet.")


def _lobpcg_others(xp, node, a):
    """(V, C): A's eigenvectors V (…, m, m) and C[j, i] = 1/(λᵢ − μⱼ) for λᵢ the i-th found
    eigenvalue and μⱼ A's j-th, 0 where μⱼ is λᵢ itself (index m−1−i for the largest, i for
    the smallest: eigh ascends)."""
    v, mu = xp.apply(EighVectors, a, uplo="L"), xp.apply(EighValues, a, uplo="L")
    lam = xp.apply(LobpcgValues, a, values=node.values, vectors=node.vectors,
                   largest=node.largest, generalized=False)
    m, k = node.vectors.shape[-2:]
    own = np.zeros((m, k), node.values.dtype)
    own[(m - 1 - np.arange(k)) if node.largest else np.arange(k), np.arange(k)] = 1
    shape = xp.data(mu).shape
    diff = xp.reshape(lam, shape[:-1] + (1, k)) - xp.reshape(mu, shape + (1,))
    return v, xp.const(1 - own) / (diff + xp.const(own))


class LobpcgValues(Node):
    """The eigenvalues λ (…, k) that :func:`chainrule.lobpcg` found (``values``, with their
    eigenvectors U, ``vectors``) of the symmetric A: VJP Ā = U diag(λ̄) Uᵀ, JVP λ̇ᵢ = uᵢᵀ Ȧ uᵢ
    (torch's rule; with a B, differentiating raises torch's error)."""

    params = ("values", "vectors", "largest", "generalized")
    data_params = ("values", "vectors")   # the iteration's result: a replay cannot rerun it
    backward_name = "LOBPCGAutogradFunctionBackward"

    def forward(self, *xs):
        return self.values

    def _u(self, xp, xs):
        return xp.apply(LobpcgVectors, *xs, values=self.values, vectors=self.vectors,
                        largest=self.largest, generalized=self.generalized)

    def vjp(self, xp, g, *xs):
        _lobpcg_check(self)
        u = self._u(xp, xs)
        grad = xp.matmul(u * _row(xp, g), xp.mT(u))
        return (grad,) + (None,) * (len(xs) - 1)

    def jvp(self, xp, tangents, *xs):
        _lobpcg_check(self)
        u = self._u(xp, xs)
        return xp.sum(u * xp.matmul(tangents[0], u), (-2,))


class LobpcgVectors(Node):
    """The eigenvectors U (…, m, k) that :func:`chainrule.lobpcg` found: with A's own
    eigenpairs (μⱼ, vⱼ), VJP Ā = Σᵢ Σⱼ vⱼ vⱼᵀ Ūᵢ uᵢᵀ / (λᵢ − μⱼ) = V (C ∘ Vᵀ Ū) Uᵀ, JVP
    U̇ = V (C ∘ Vᵀ Ȧ U), j running over the pairs other than uᵢ's own — torch's rule for a
    partial eigenspace, computed from A's full eigendecomposition instead of torch's
    characteristic-polynomial series (equal for converged, simple eigenpairs)."""

    params = ("values", "vectors", "largest", "generalized")
    data_params = ("values", "vectors")
    backward_name = "LOBPCGAutogradFunctionBackward"

    def forward(self, *xs):
        return self.vectors

    def vjp(self, xp, g, out, *xs):
        _lobpcg_check(self)
        v, c = _lobpcg_others(xp, self, xs[0])
        grad = xp.matmul(xp.matmul(v, c * xp.matmul(xp.mT(v), g)), xp.mT(out))
        return (grad,) + (None,) * (len(xs) - 1)

    def jvp(self, xp, tangents, out, *xs):
        _lobpcg_check(self)
        v, c = _lobpcg_others(xp, self, xs[0])
        return xp.matmul(v, c * xp.matmul(xp.mT(v), xp.matmul(tangents[0], out)))
