"""torch.lobpcg: the k largest (or smallest) eigenpairs of a symmetric positive-definite
(generalized) eigenproblem A x = λ B x by LOBPCG, torch's algorithm step for step (Knyazev
2001, "basic"; Stathopoulos & Wu 2002 and Duersch et al. 2018, "ortho", the default).

The iteration runs on NumPy arrays (nothing in it is differentiated); its random start is
:func:`chainrule.randn` from the global stream, torch's numbers for the same seed. The
result's gradient is the eigenpairs' own (see :class:`~chainrule.ops.decompositions.
LobpcgValues`), taken, as torch's, through the symmetrized A → (A + Aᵀ)/2.
"""
from __future__ import annotations

import math

import numpy as np

from ._dtype import float32
from ._tensor_base import TensorBase
from .creation import from_numpy, randn
from .ops import decompositions as _d

__all__ = ["lobpcg", "LOBPCG"]


def _mm(A, B):
    """A @ B, with A = None read as the identity (torch's _linalg_utils.matmul)."""
    return B if A is None else A @ B


def _qform(A, S):
    return S.T @ _mm(A, S)


def _symeig(A, largest=False):
    """Eigenpairs of the upper triangle of A, ascending (descending when ``largest``)."""
    E, Z = np.linalg.eigh(A, "U")
    return (E[::-1].copy(), Z[:, ::-1].copy()) if largest else (E, Z)


def _basis(A):
    return np.linalg.qr(A)[0]


class LOBPCG:
    """The worker of :func:`lobpcg` (torch's ``LOBPCG``): the parameters (``iparams``,
    ``fparams``, ``bparams``), the iteration's state (``ivars``, ``fvars``, ``bvars``,
    ``tvars``) and the iterates ``E`` (n,), ``X`` (m, n), ``R`` (m, n), ``S`` (m, 3n) that a
    ``tracker`` reads (as Tensors sharing the worker's memory); a tracker that sets
    ``bvars['force_stop'] = True`` stops the iteration."""

    def __init__(self, A, B, X, iK, iparams, fparams, bparams, method, tracker):
        self.A, self.B, self.iK = A, B, iK   # arrays, or None for the identity
        self.iparams, self.fparams, self.bparams = iparams, fparams, bparams
        self.method, self.tracker = method, tracker
        m, n = iparams["m"], iparams["n"]
        self._X = X
        self._E = np.zeros((n,), X.dtype)
        self._R = np.zeros((m, n), X.dtype)
        self._S = np.zeros((m, 3 * n), X.dtype)
        self.tvars = {}
        self.ivars = {"istep": 0}
        self.fvars = {"_": 0.0}
        self.bvars = {"_": False}

    E = property(lambda self: from_numpy(self._E))
    X = property(lambda self: from_numpy(self._X))
    R = property(lambda self: from_numpy(self._R))
    S = property(lambda self: from_numpy(self._S))

    def update(self):
        """One step: the first sets the norms the convergence test scales by."""
        if self.ivars["istep"] == 0:
            X_norm = float(np.linalg.norm(self._X))
            A_norm = float(np.linalg.norm(_mm(self.A, self._X))) / X_norm
            B_norm = float(np.linalg.norm(_mm(self.B, self._X))) / X_norm
            self.fvars.update(X_norm=X_norm, A_norm=A_norm, B_norm=B_norm)
            self.ivars.update(iterations_left=self.iparams["niter"], converged_count=0,
                              converged_end=0)
        if self.method == "ortho":
            self._update_ortho()
        else:
            self._update_basic()
        self.ivars["iterations_left"] -= 1
        self.ivars["istep"] += 1

    def update_residual(self):
        """R = A X − B X diag(E)."""
        self._R = _mm(self.A, self._X) - _mm(self.B, self._X) * self._E

    def update_converged_count(self):
        """The number of leading eigenpairs with the backward-stable relative residual
        ‖rᵢ‖ / (‖xᵢ‖ (‖A‖ + |λᵢ| ‖B‖)) below tol (Duersch et al. 2018, §4.3)."""
        prev = self.ivars["converged_count"]
        E, X, R = self._E, self._X, self._R
        rerr = np.linalg.norm(R, 2, 0) / (np.linalg.norm(X, 2, 0) * (
            self.fvars["A_norm"] + np.abs(E[:X.shape[-1]]) * self.fvars["B_norm"]))
        count = 0
        for b in rerr < self.fparams["tol"]:
            if not b:
                break
            count += 1
        if count < prev:
            raise AssertionError(f"the number of converged eigenpairs (was {prev}, got {count}) "
                                 "cannot decrease")
        self.ivars["converged_count"] = count
        self.tvars["rerr"] = from_numpy(rerr)
        return count

    def stop_iteration(self):
        return (self.bvars.get("force_stop", False) or self.ivars["iterations_left"] == 0
                or self.ivars["converged_count"] >= self.iparams["k"])

    def run(self):
        """Iterate until k pairs converge, niter steps are done, or a tracker stops it."""
        self.update()
        if self.tracker is not None:
            self.call_tracker()
        while not self.stop_iteration():
            self.update()
            if self.tracker is not None:
                self.call_tracker()

    def call_tracker(self):
        self.tracker(self)

    def _update_basic(self):
        ns, nc = self.ivars["converged_end"], self.ivars["converged_count"]
        n, largest = self.iparams["n"], self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._get_rayleigh_ritz_transform(self._X)
            E, Z = _symeig(_qform(_qform(self.A, self._X), Ri), largest)
            self._X[:] = self._X @ (Ri @ Z)
            self._E[:] = E
            np_ = 0
            self.update_residual()
            nc = self.update_converged_count()
            self._S[..., :n] = self._X
            W = _mm(self.iK, self._R)
        else:
            S_ = self._S[:, nc:ns]
            Ri = self._get_rayleigh_ritz_transform(S_)
            E_, Z = _symeig(_qform(_qform(self.A, S_), Ri), largest)
            self._X[:, nc:] = S_ @ (Ri @ Z[:, :n - nc])
            self._E[nc:] = E_[:n - nc]
            P = S_ @ (Ri @ Z[:, n:2 * n - nc])
            np_ = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self._S[..., :n] = self._X
            self._S[:, n:n + np_] = P
            W = _mm(self.iK, self._R[:, nc:])
        self.ivars["converged_end"] = ns = n + np_ + W.shape[-1]
        self._S[:, n + np_:ns] = W

    def _update_ortho(self):
        ns, nc = self.ivars["converged_end"], self.ivars["converged_count"]
        n, largest = self.iparams["n"], self.bparams["largest"]
        if self.ivars["istep"] == 0:
            Ri = self._get_rayleigh_ritz_transform(self._X)
            _, Z = _symeig(_qform(_qform(self.A, self._X), Ri), largest)
            # (as torch: E stays 0 until the second step)
            self._X = self._X @ (Ri @ Z)
            self.update_residual()
            np_ = 0
            nc = self.update_converged_count()
            self._S[:, :n] = self._X
            W = self._get_ortho(self._R, self._X)
        else:
            S_ = self._S[:, nc:ns]
            E_, Z = _symeig(_qform(self.A, S_), largest)
            self._X[:, nc:] = S_ @ Z[:, :n - nc]
            self._E[nc:] = E_[:n - nc]
            P = S_ @ (Z[:, n - nc:] @ _basis(Z[:n - nc, n - nc:].T))
            np_ = P.shape[-1]
            self.update_residual()
            nc = self.update_converged_count()
            self._S[:, :n] = self._X
            self._S[:, n:n + np_] = P
            W = self._get_ortho(self._R[:, nc:], self._S[:, :n + np_])
        ns = self.ivars["converged_end"] = n + np_ + W.shape[-1]
        self._S[:, n + np_:ns] = W

    def _get_rayleigh_ritz_transform(self, S):
        """Ri, upper-triangular, reducing (SᵀAS) C = (SᵀBS) C E to the standard problem
        (Riᵀ SᵀAS Ri) Z = Z E, C = Ri Z: Ri = R⁻¹ diag(d), d = diag(SᵀBS)^(−½), RᵀR the
        Cholesky factorization of diag(d) SᵀBS diag(d)."""
        SBS = _qform(self.B, S)
        d_row = np.diagonal(SBS) ** -0.5
        d_col = d_row.reshape(-1, 1)
        R = np.linalg.cholesky((SBS * d_row) * d_col).T
        # X R = diag(d)  ⟺  Rᵀ Xᵀ = diag(d)
        return np.linalg.solve(R.T, np.diag(d_row)).T

    def _get_svqb(self, U, drop, tau):
        """B-orthonormal columns spanning U's (Duersch 2015, Algorithm 4): columns with zero
        B-norm are dropped; with ``drop`` also those whose contribution is below tau."""
        if U.size == 0:
            return U
        UBU = _qform(self.B, U)
        d = np.diagonal(UBU)
        nz = np.nonzero(np.abs(d) != 0.0)[0]
        if len(nz) < len(d):
            U = U[:, nz]
            if U.size == 0:
                return U
            UBU = _qform(self.B, U)
            d = np.diagonal(UBU)
        d_col = (d ** -0.5).reshape(-1, 1)
        E, Z = _symeig((UBU * d_col) * d_col.T)
        t = tau * np.abs(E).max()
        if drop:
            keep = np.nonzero(E > t)[0]
            E, Z, d_col = E[keep], Z[:, keep], d_col[keep]
        else:
            E[E < t] = t
        return (U * d_col.T) @ (Z * E ** -0.5)

    def _get_ortho(self, U, V):
        """B-orthonormal columns spanning U's, B-orthogonal to V's (Duersch 2015, Algorithm
        3; Algorithm 6 with ``bparams['ortho_use_drop']``); empty when U lies in V's span."""
        m = self.iparams["m"]
        tau_ortho = self.fparams["ortho_tol"]
        tau_drop = self.fparams["ortho_tol_drop"]
        tau_replace = self.fparams["ortho_tol_replace"]
        i_max, j_max = self.iparams["ortho_i_max"], self.iparams["ortho_j_max"]
        use_drop = self.bparams["ortho_use_drop"]
        for key in [k for k in self.fvars if k.startswith("ortho_") and k.endswith("_rerr")]:
            self.fvars.pop(key)
        self.ivars.pop("ortho_i", 0)
        self.ivars.pop("ortho_j", 0)
        BV_norm = np.linalg.norm(_mm(self.B, V))
        BU = _mm(self.B, U)
        VBU = V.T @ BU
        i = j = 0
        for i in range(i_max):
            U = U - V @ VBU
            drop = False
            tau_svqb = tau_drop
            for j in range(j_max):
                if use_drop:
                    U = self._get_svqb(U, drop, tau_svqb)
                    drop, tau_svqb = True, tau_replace
                else:
                    U = self._get_svqb(U, False, tau_replace)
                if U.size == 0:
                    self.ivars["ortho_i"], self.ivars["ortho_j"] = i, j
                    return U
                BU = _mm(self.B, U)
                UBU = U.T @ BU
                rerr = float(np.linalg.norm(UBU - np.eye(UBU.shape[-1], dtype=UBU.dtype))) * float(
                    np.linalg.norm(BU) * np.linalg.norm(U)) ** -1
                self.fvars[f"ortho_UBUmI_rerr[{i}, {j}]"] = rerr
                if rerr < tau_ortho:
                    break
            VBU = V.T @ BU
            rerr = float(np.linalg.norm(VBU)) * float(BV_norm * np.linalg.norm(U)) ** -1
            self.fvars[f"ortho_VBU_rerr[{i}]"] = rerr
            if rerr < tau_ortho:
                break
            if m < U.shape[-1] + V.shape[-1]:
                cols = m if self.B is None else self.B.shape[-1]
                raise ValueError(f"Overdetermined shape of U: #B-cols(={cols}) >= "
                                 f"#U-cols(={U.shape[-1]}) + #V-cols(={V.shape[-1]}) must hold")
        self.ivars["ortho_i"], self.ivars["ortho_j"] = i, j
        return U


def _solve(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams,
           ortho_fparams, ortho_bparams):
    """(E (…, k), X (…, m, k)) as arrays: torch's _lobpcg on each matrix of the batch."""
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {tuple(A.shape)}")
    if B is not None and tuple(A.shape) != tuple(B.shape):
        raise AssertionError(f"A and B must have same shape, got {tuple(A.shape)} vs "
                             f"{tuple(B.shape)}")
    dtype = A.dtype if A._data.dtype.kind == "f" else float32
    npdtype = np.float64 if A._data.dtype == np.float64 else np.float32
    if tol is None:
        tol = {np.float32: 1.2e-07, np.float64: 2.23e-16}[npdtype] ** 0.5
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m}) "
                         f"is smaller than 3 x the number of requested eigenpairs (={n})")
    method = "ortho" if method is None else method
    iparams = {"m": m, "n": n, "k": k, "niter": 1000 if niter is None else niter}
    fparams = {"tol": tol}
    bparams = {"largest": True if largest is None else largest}
    if method == "ortho":
        iparams.update(ortho_iparams or {})
        fparams.update(ortho_fparams or {})
        bparams.update(ortho_bparams or {})
        iparams.setdefault("ortho_i_max", 3)
        iparams.setdefault("ortho_j_max", 3)
        for key in ("ortho_tol", "ortho_tol_drop", "ortho_tol_replace"):
            fparams.setdefault(key, tol)
        bparams.setdefault("ortho_use_drop", False)

    def arr(t, i):
        return None if t is None else t._data.reshape((-1,) + tuple(t.shape[-2:]))[i]

    batch = tuple(A.shape[:-2])
    N = math.prod(batch)
    bE = np.empty((N, k), npdtype)
    bX = np.empty((N, m, k), npdtype)
    for i in range(N):
        X_ = randn(m, n, dtype=dtype)._data if X is None else arr(X, i).astype(npdtype)
        if X_.shape != (m, n):
            raise AssertionError(f"X shape mismatch: got {X_.shape}, expected {(m, n)}")
        if batch:
            iparams["batch_index"] = i
        # (iK is not split over the batch: torch hands every matrix the same one)
        worker = LOBPCG(arr(A, i), arr(B, i), X_.copy(), None if iK is None else iK._data,
                        iparams, fparams, bparams, method, tracker)
        worker.run()
        bE[i], bX[i] = worker._E[:k], worker._X[:, :k]
    return bE.reshape(batch + (k,)), bX.reshape(batch + (m, k))


def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None,
           method=None, tracker=None, ortho_iparams=None, ortho_fparams=None,
           ortho_bparams=None):
    """The k largest (``largest``, the default) or smallest eigenpairs (E (…, k), X (…, m, k))
    of A x = λ B x for symmetric A (…, m, m) and positive-definite B (the identity when
    None), by LOBPCG with a block of n ≥ k vectors (m ≥ 3n): X is the start (…, m, n)
    (default: a normal draw of n = k columns), iK a preconditioner, niter the step limit
    (default 1000; −1: until convergence), tol the relative residual (√ε by default),
    method 'ortho' (default, robust) or 'basic'; ``tracker(worker)`` is called after each
    step (see :class:`LOBPCG`). Differentiable in A when B is None (A → (A + Aᵀ)/2 first,
    as torch): Ā = U diag(Ē) Uᵀ + Σᵢ Σⱼ vⱼ vⱼᵀ Ūᵢ uᵢᵀ / (λᵢ − μⱼ) over A's other
    eigenpairs (μⱼ, vⱼ)."""
    if not isinstance(A, TensorBase):
        raise TypeError(f"lobpcg(): argument 'A' must be Tensor, not {type(A).__name__}")
    # (a gradient or a forward-mode tangent to carry: the differentiable path)
    grad = any(t is not None and (t.requires_grad or getattr(t, "_fw_tangent", None) is not None)
               for t in (A, B))
    if grad:
        A = (A + A.mT) / 2
        B = None if B is None else (B + B.mT) / 2
    values, vectors = _solve(A, k, B, X, n, iK, niter, tol, largest, method, tracker,
                             ortho_iparams, ortho_fparams, ortho_bparams)
    if not grad:
        return A._make(values), A._make(vectors)
    params = dict(values=values, vectors=vectors, largest=True if largest is None else largest,
                  generalized=B is not None)
    inputs = (A,) if B is None else (A, B)
    return _d.LobpcgValues.apply(*inputs, **params), _d.LobpcgVectors.apply(*inputs, **params)
