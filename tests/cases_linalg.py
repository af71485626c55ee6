"""The linalg breadth ops' cases for the shared tables of `ad_cases` (forward mode, gradcheck,
node names): (id, chainrule fn, torch fn, float64 arrays), the form of `ad_cases.NN_CASES`."""
import numpy as np
import torch

import chainrule as cr

R = np.random.default_rng(31)
_A = R.standard_normal((3, 3))
_SPD = _A @ _A.T + 3 * np.eye(3)
_WELL = R.standard_normal((3, 3)) + 3 * np.eye(3)

# cholesky and eigh read one triangle of A: as functions of a symmetric matrix they have one
# derivative, so the cases symmetrize their input (torch and chainrule alike)
_sym = lambda f: (lambda a: f((a + a.mT) / 2))

CASES = [
    ("linalg_inv", cr.linalg.inv, torch.linalg.inv, [_WELL]),
    ("linalg_det", cr.linalg.det, torch.linalg.det, [_WELL]),
    ("linalg_logabsdet", lambda a: cr.linalg.slogdet(a)[1], lambda a: torch.linalg.slogdet(a)[1], [_WELL]),
    ("linalg_solve", cr.linalg.solve, torch.linalg.solve, [_WELL, R.standard_normal((3, 2))]),
    ("linalg_cholesky", _sym(cr.linalg.cholesky), _sym(torch.linalg.cholesky), [_SPD]),
    ("linalg_qr_Q", lambda a: cr.linalg.qr(a).Q, lambda a: torch.linalg.qr(a).Q, [R.standard_normal((4, 3))]),
    ("linalg_qr_R", lambda a: cr.linalg.qr(a).R, lambda a: torch.linalg.qr(a).R, [R.standard_normal((4, 3))]),
    ("linalg_eigvalsh", _sym(cr.linalg.eigvalsh), _sym(torch.linalg.eigvalsh), [_SPD]),
    ("linalg_eigh_vectors", _sym(lambda a: cr.linalg.eigh(a).eigenvectors ** 2),
     _sym(lambda a: torch.linalg.eigh(a).eigenvectors ** 2), [_SPD]),
    ("linalg_svdvals", cr.linalg.svdvals, torch.linalg.svdvals, [R.standard_normal((4, 3))]),
    ("linalg_svd_U", lambda a: cr.linalg.svd(a, full_matrices=False).U ** 2,
     lambda a: torch.linalg.svd(a, full_matrices=False).U ** 2, [R.standard_normal((4, 3))]),
    ("linalg_svd_Vh", lambda a: cr.linalg.svd(a, full_matrices=False).Vh ** 2,
     lambda a: torch.linalg.svd(a, full_matrices=False).Vh ** 2, [R.standard_normal((3, 4))]),
    ("linalg_pinv_tall", cr.linalg.pinv, torch.linalg.pinv, [R.standard_normal((4, 3))]),
    ("linalg_pinv_wide", cr.linalg.pinv, torch.linalg.pinv, [R.standard_normal((2, 3, 5))]),
]

# the LU, Cholesky-solve and exponential primitives; lu_solve's pivots are held fixed (torch's,
# for its own factor), cholesky_solve reads one triangle of its factor (so the cases pass tril)
_LU, _PIV = torch.linalg.lu_factor(torch.tensor(R.standard_normal((3, 3))))
_CHOL = np.linalg.cholesky(_SPD)
CASES += [
    ("linalg_lu_factor", lambda a: cr.linalg.lu_factor(a).LU,
     lambda a: torch.linalg.lu_factor(a).LU, [_WELL]),
    ("linalg_lu_factor_tall", lambda a: cr.linalg.lu_factor(a).LU,
     lambda a: torch.linalg.lu_factor(a).LU,
     [R.standard_normal((4, 3))]),
    ("linalg_lu_factor_wide", lambda a: cr.linalg.lu_factor(a).LU,
     lambda a: torch.linalg.lu_factor(a).LU,
     [R.standard_normal((2, 3, 5))]),
    ("linalg_lu_solve", lambda lu, b: cr.linalg.lu_solve(lu, cr.tensor(_PIV.numpy()), b),
     lambda lu, b: torch.linalg.lu_solve(lu, _PIV, b), [_LU.numpy(), R.standard_normal((3, 2))]),
    ("cholesky_solve", lambda b, l: cr.cholesky_solve(b, l.tril()),
     lambda b, l: torch.cholesky_solve(b, l.tril()),
     [R.standard_normal((3, 2)), _CHOL]),
    ("linalg_matrix_exp", cr.linalg.matrix_exp, torch.linalg.matrix_exp,
     [R.standard_normal((2, 3, 3))]),
]
