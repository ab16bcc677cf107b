"""minidl.linalg: PyTorch's torch.linalg on numpy's LAPACK, with gradients.

    _common.py     input checks, LinAlgError, triangular substitution
    solvers.py     inv inv_ex det slogdet solve solve_ex solve_triangular tensorinv
                   tensorsolve
    cholesky.py    cholesky cholesky_ex
    spectral.py    qr svd svdvals eigh eigvalsh pinv lstsq matrix_rank
    products.py    matmul multi_dot matrix_power matrix_exp vander
    norms.py       vector_norm matrix_norm norm cond vecdot cross diagonal
    torch_names.py minidl.det, inverse, slogdet, logdet, matrix_power, matrix_exp,
                   pinverse, cholesky, qr, svd and the Tensor methods of those names

Every function takes stacks of matrices (*, m, n), the leading dimensions a batch, and
float32 or float64 (float16 too where PyTorch takes it: vector_norm, vecdot, the matrix
norms not of singular values; integer input is refused with PyTorch's RuntimeError); a
singular or not positive-definite matrix raises ``LinAlgError`` where PyTorch does. Each
op computes with numpy and defines its vjp beside it, or is composed of ops that have
theirs.
Not here: eig, eigvals, lu, lu_factor, ldl_factor, householder_product (complex results
or factorisations minidl does not use), and the ``out=`` arguments.
"""
from ._common import LinAlgError
from .cholesky import cholesky, cholesky_ex
from .norms import cond, cross, diagonal, matrix_norm, norm, vecdot, vector_norm
from .products import matmul, matrix_exp, matrix_power, multi_dot, vander
from .solvers import (det, inv, inv_ex, slogdet, solve, solve_ex, solve_triangular, tensorinv,
                      tensorsolve)
from .spectral import eigh, eigvalsh, lstsq, matrix_rank, pinv, qr, svd, svdvals
from . import torch_names  # noqa: E402, F401  (binds the Tensor methods)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "inv", "inv_ex", "lstsq", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve",
           "vander", "vecdot", "vector_norm"]
