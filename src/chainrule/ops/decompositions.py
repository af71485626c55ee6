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


class Pinv(Node):
    """P = A⁺, the values σ ≤ ``cutoff`` (per matrix, (…, 1)) dropped; ``hermitian``: from
    the eigendecomposition of A's lower triangle. VJP (Golub & Pereyra's derivative of A⁺,
    where the rank is locally constant; torch's rule, finite at repeated singular values):
    Ā = −Pᵀ P̄ Pᵀ + (I − A P) P̄ᵀ P Pᵀ + Pᵀ P P̄ᵀ (I − P A)."""

    params = ("cutoff", "hermitian")
    backward_name = "LinalgPinvBackward0"

    def forward(self, a):
        if self.hermitian:
            w, v = np.linalg.eigh(_lower_symmetric(a))
            inv = np.where(np.abs(w) > self.cutoff, 1 / np.where(w == 0, 1, w), 0)
            return np.matmul(v * inv[..., None, :], np.swapaxes(v, -1, -2)).astype(a.dtype)
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        inv = np.where(s > self.cutoff, 1 / np.where(s == 0, 1, s), 0)
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


def _eigh_e(xp, l):
    """E[i, j] = λⱼ − λᵢ with ones on the diagonal (no division by zero there)."""
    e = xp.reshape(l, xp.data(l).shape[:-1] + (1, -1)) - xp.reshape(l, xp.data(l).shape + (1,))
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
        return (xp.matmul(v * xp.reshape(g, xp.data(g).shape[:-1] + (1, -1)), xp.mT(v)),)

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
    e = xp.reshape(s2, shape[:-1] + (1, -1)) - xp.reshape(s2, shape + (1,))
    return e + xp.const(np.eye(shape[-1], dtype=xp.data(s).dtype))


class SvdS(Node):
    """Singular values (descending) of the thin SVD A = U diag(S) Vᴴ;  VJP Ā = U diag(S̄) Vᴴ;
    JVP Ṡ = diag(Uᵀ Ȧ V)."""

    backward_name = "LinalgSvdBackward0"

    def forward(self, a):
        return np.linalg.svd(a, compute_uv=False)

    def vjp(self, xp, g, a):
        u, vh = xp.apply(SvdU, a), xp.apply(SvdVh, a)
        return (xp.matmul(u * xp.reshape(g, xp.data(g).shape[:-1] + (1, -1)), vh),)

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
        srow = xp.reshape(s, xp.data(s).shape[:-1] + (1, -1))
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
    srow = xp.reshape(s, xp.data(s).shape[:-1] + (1, -1))
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
