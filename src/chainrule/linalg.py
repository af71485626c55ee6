"""``chainrule.linalg`` — torch.linalg's interface: norms, inverses, solves, factorizations,
each differentiable with its published rule. The functions live in
:mod:`chainrule.ops.matrix` (the primitives in :mod:`chainrule.ops.decompositions`)."""
from .ops.matrix import (LinAlgError, cholesky, cross, det, diagonal, eigh, eigvalsh, inv,
                         lstsq, matmul, matrix_norm, matrix_power, matrix_rank, multi_dot, norm,
                         pinv, qr, slogdet, solve, solve_triangular, svd, svdvals, vecdot,
                         vector_norm)
from .ops.matrix import (cholesky_ex, householder_product, inv_ex, lu, lu_factor, lu_factor_ex,
                         lu_solve, matrix_exp, solve_ex, tensorinv, tensorsolve, vander)
from .ops.matrix import cond, ldl_factor, ldl_factor_ex, ldl_solve

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "solve",
           "solve_triangular",
           "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "lstsq", "matmul",
           "vecdot", "cross", "multi_dot", "matrix_power", "matrix_rank", "diagonal",
           "solve_ex", "inv_ex", "cholesky_ex", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
           "matrix_exp", "vander", "tensorinv", "tensorsolve", "householder_product",
           "ldl_factor", "ldl_factor_ex", "ldl_solve", "cond"]
