"""Inverses, determinants and linear solves, each with its vjp: inv, inv_ex, det, slogdet,
solve, solve_ex, solve_triangular, cholesky, cholesky_ex, tensorinv, tensorsolve.

A and its inverse are (*, n, n) stacks; the batch dimensions of A and B broadcast. For
X = A^{-1} B the vjps are gB = A^{-T} g and gA = -gB X^T, which give those of inv
(B = I) and, with the transpose, of det and slogdet: d log|det A| / dA = A^{-T}."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..ops import movedim, reshape, swapaxes
from ..tensor import Tensor, unbroadcast
from ._common import (LinAlgError, batch_label, constant, float_input, lu_info, matrices, mT,
                      same_dtype, substitute)

__all__ = ["inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "solve_triangular",
           "cholesky", "cholesky_ex", "tensorinv", "tensorsolve"]


class InvEx(NamedTuple):
    inverse: Tensor
    info: Tensor


class Slogdet(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class SolveEx(NamedTuple):
    result: Tensor
    info: Tensor


class CholeskyEx(NamedTuple):
    L: Tensor
    info: Tensor


def _transposed(x: Tensor) -> Tensor:
    return swapaxes(x, -1, -2)


def _singular(op: str, info: np.ndarray) -> LinAlgError:
    """PyTorch's error for the first singular matrix of a stack."""
    if not info.any():   # LAPACK's rounding met a zero pivot that lu_info's did not
        return LinAlgError(f"{op}: the input matrix is singular.")
    first = int(np.flatnonzero(info.ravel())[0])
    return LinAlgError(f"{op}: {batch_label(first, info.ndim > 0)}The diagonal element "
                       f"{info.ravel()[first]} is zero, the inversion could not be completed "
                       f"because the input matrix is singular.")


def _inverse_backward(inverse: np.ndarray):
    """d A^{-1} = -A^{-1} dA A^{-1}, so gA = -A^{-T} g A^{-T}."""
    return lambda g: (-(mT(inverse) @ g @ mT(inverse)),)


def _inverse_or_nan(a: np.ndarray, info: np.ndarray) -> np.ndarray:
    """A^{-1} of each invertible matrix (info 0), nan for the singular ones."""
    inverse = np.full(a.shape, np.nan, dtype=a.dtype)
    fine = info == 0
    inverse[fine] = np.linalg.inv(a[fine])
    return inverse


def inv(A: Any) -> Tensor:
    """A^{-1} of each matrix; a LinAlgError for an exactly singular one (a zero pivot in
    its LU factorisation), as PyTorch's.  gA = -A^{-T} g A^{-T}."""
    A = matrices("linalg.inv", A)
    try:
        inverse = np.linalg.inv(A._data)
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", lu_info(A._data)) from None
    return Tensor._make(inverse, (A,), _inverse_backward(inverse))


def inv_ex(A: Any, *, check_errors: bool = False) -> InvEx:
    """(inverse, info): info (int32, one per matrix) is 0, or 1 + the index of the first
    zero pivot of a singular matrix, whose inverse is nan (PyTorch's is undefined).
    ``check_errors=True`` raises inv's LinAlgError instead."""
    A = matrices("linalg.inv_ex", A)
    try:
        inverse, info = np.linalg.inv(A._data), np.zeros(A.shape[:-2], dtype=np.int32)
    except np.linalg.LinAlgError:   # only then the pivots, a loop of n steps
        info = lu_info(A._data)
        inverse = _inverse_or_nan(A._data, info)
    if check_errors and info.any():
        raise _singular("linalg.inv_ex", info)
    return InvEx(Tensor._make(inverse, (A,), _inverse_backward(inverse)), constant(info))


def _products_of_others(s: np.ndarray) -> np.ndarray:
    """prod_{j != i} s_j for each i along the last axis, without dividing (s may hold 0)."""
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return before * after


def det(A: Any) -> Tensor:
    """det A of each matrix.  Its gradient is the cofactor matrix, det(A) A^{-T} where A is
    invertible; to be right where it is not, it is taken from the SVD A = U S Vh:

        d det / dA = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh."""
    A = matrices("linalg.det", A)
    a = A._data

    def backward(g: np.ndarray) -> tuple:
        u, s, vh = np.linalg.svd(a)
        sign = np.linalg.det(u) * np.linalg.det(vh)
        cofactors = (u * _products_of_others(s)[..., None, :]) @ vh
        return ((g * sign)[..., None, None] * cofactors,)
    return Tensor._make(np.linalg.det(a), (A,), backward)


def slogdet(A: Any) -> Slogdet:
    """(sign, logabsdet) with det A = sign exp(logabsdet): sign 0 and logabsdet -inf for a
    singular matrix. sign has no gradient;  d logabsdet / dA = A^{-T}."""
    A = matrices("linalg.slogdet", A)
    sign, logabsdet = np.linalg.slogdet(A._data)

    def backward(g: np.ndarray) -> tuple:
        return (g[..., None, None] * mT(np.linalg.inv(A._data)),)
    return Slogdet(constant(sign.astype(A.dtype)),
                   Tensor._make(logabsdet.astype(A.dtype), (A,), backward))


def _is_vector(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if 1-D or of A's shape less its last axis."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def _solve_op(op: str, A: Tensor, B: Tensor, ex: bool) -> tuple[Tensor, np.ndarray]:
    """(X = A^{-1} B, inv_ex's info), B a matrix stack or (``_is_vector``) a vector stack,
    the batch dimensions broadcast;  gB = A^{-T} g, gA = -gB X^T. A singular A raises a
    LinAlgError, or with ``ex`` (solve_ex) gets nan for its solution."""
    vector = _is_vector(A, B)
    a, b = A._data, (B._data[..., None] if vector else B._data)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({a.shape[-2]}x{a.shape[-1]} and "
                           f"{'x'.join(map(str, B.shape[-2:]))})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dimensions of A {A.shape} and B {B.shape} do not "
                           f"broadcast") from None
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    try:
        x, info = np.linalg.solve(a, b), np.zeros(A.shape[:-2], dtype=np.int32)
    except np.linalg.LinAlgError:
        if not ex:
            raise LinAlgError(f"{op}: The solver failed because the input matrix is "
                              f"singular.") from None
        info = lu_info(A._data)
        x = _inverse_or_nan(a, np.broadcast_to(info, batch)) @ b

    def backward(g: np.ndarray) -> tuple:
        g = g[..., None] if vector else g
        grad_b = np.linalg.solve(mT(a), g)
        grad_a = unbroadcast(-grad_b @ mT(x), A.shape) if A.requires_grad else None
        grad_b = grad_b[..., 0] if vector else grad_b
        return grad_a, unbroadcast(grad_b, B.shape) if B.requires_grad else None
    return Tensor._make(x[..., 0] if vector else x, (A, B), backward), info


def _solve(op: str, A: Any, B: Any, left: bool, ex: bool) -> tuple[Tensor, np.ndarray]:
    """solve's and solve_ex's shared part; left=False solves X A = B as A^T X^T = B^T."""
    A, B = matrices(op, A), float_input(op, B)
    same_dtype(op, A, B)
    if left:
        return _solve_op(op, A, B, ex)
    if _is_vector(A, B):
        return _solve_op(op, _transposed(A), B, ex)
    x, info = _solve_op(op, _transposed(A), _transposed(B), ex)
    return _transposed(x), info


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:
    """X with A X = B (X A = B if ``left=False``); B of shape (*, n, k), or (*, n) for
    vectors; a LinAlgError for a singular A.  gB = A^{-T} g, gA = -gB X^T."""
    return _solve("linalg.solve", A, B, left, ex=False)[0]


def solve_ex(A: Any, B: Any, *, left: bool = True, check_errors: bool = False) -> SolveEx:
    """(result, info), info as inv_ex's; the result of a singular A is nan."""
    x, info = _solve("linalg.solve_ex", A, B, left, ex=True)
    if check_errors and info.any():
        raise _singular("linalg.solve_ex", info)
    return SolveEx(x, constant(info))


def _triangle_mask(n: int, upper: bool, unitriangular: bool) -> np.ndarray:
    ones = np.ones((n, n), dtype=bool)
    return np.triu(ones, int(unitriangular)) if upper else np.tril(ones, -int(unitriangular))


def _solve_triangular_op(A: Tensor, B: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """X = T^{-1} B, T the upper or lower triangle of A (unit diagonal if unitriangular):
    gB = T^{-T} g (the other triangle's substitution), gA = -gB X^T on T's triangle."""
    n = A.shape[-1]
    mask = _triangle_mask(n, upper, unitriangular)
    t = np.where(mask, A._data, 0) + (np.eye(n, dtype=A.dtype) if unitriangular else 0)
    x = substitute(t, B._data, upper)

    def backward(g: np.ndarray) -> tuple:
        grad_b = substitute(mT(t), g, not upper)
        grad_a = unbroadcast(np.where(mask, -grad_b @ mT(x), 0), A.shape) \
            if A.requires_grad else None
        return grad_a, unbroadcast(grad_b, B.shape) if B.requires_grad else None
    return Tensor._make(x, (A, B), backward)


def solve_triangular(A: Any, B: Any, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with T X = B (X T = B if ``left=False``), T the upper or lower triangle of A (the
    other triangle is not read), with ones on the diagonal if ``unitriangular``; B (*, n, k).
    A zero on T's diagonal gives inf or nan, no error, as PyTorch's."""
    op = "linalg.solve_triangular"
    A, B = matrices(op, A), matrices(op, B, "B", square=False)
    same_dtype(op, A, B)
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if left:
        return _solve_triangular_op(A, B, upper, unitriangular)
    return _transposed(_solve_triangular_op(_transposed(A), _transposed(B), not upper,
                                            unitriangular))


def _not_positive_definite(op: str, a: np.ndarray, info: np.ndarray) -> LinAlgError:
    first = int(np.flatnonzero(info.ravel())[0])
    return LinAlgError(f"{op}: {batch_label(first, a.ndim > 2)}The factorization could not be "
                       f"completed because the input is not positive-definite (the leading "
                       f"minor of order {info.ravel()[first]} is not positive-definite).")


def _positive_definite(a: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return False
    return True


def _cholesky_info(a: np.ndarray) -> np.ndarray:
    """LAPACK potrf's info per matrix: the order of the first leading minor that is not
    positive-definite, 0 for a positive-definite matrix. The leading minors of a matrix
    are positive-definite up to that order and not from it on, so it is found by
    bisection, with log2(n) factorisations."""
    flat = a.reshape(math.prod(a.shape[:-2]), *a.shape[-2:])
    info = np.zeros(len(flat), dtype=np.int32)
    if _positive_definite(a):
        return info.reshape(a.shape[:-2])
    for i, matrix in enumerate(flat):
        if _positive_definite(matrix):
            continue
        low, high = 1, a.shape[-1]   # the first failing order lies in [low, high]
        while low < high:
            middle = (low + high) // 2
            low, high = (middle + 1, high) if _positive_definite(
                matrix[:middle, :middle]) else (low, middle)
        info[i] = low
    return info.reshape(a.shape[:-2])


def _cholesky_op(A: Tensor, info: np.ndarray | None) -> Tensor:
    """L L^T = A from A's lower triangle. With P = tril(L^T gL) (Murray, 2016),

        gA = L^{-T} (P + tril(P, -1)^T) / 2 L^{-1},

    symmetric, as PyTorch's: the gradient of the symmetric matrix A stands for."""
    if info is None:
        try:
            low = np.linalg.cholesky(A._data)
        except np.linalg.LinAlgError:
            raise _not_positive_definite("linalg.cholesky", A._data,
                                         _cholesky_info(A._data)) from None
    else:
        low = np.full(A.shape, np.nan, dtype=A.dtype)
        low[info == 0] = np.linalg.cholesky(A._data[info == 0])

    def backward(g: np.ndarray) -> tuple:
        p = np.tril(mT(low) @ g)
        middle = (p + mT(np.tril(p, -1))) / 2
        left = substitute(mT(low), middle, upper=True)                 # L^{-T} middle
        return (mT(substitute(mT(low), mT(left), upper=True)),)        # (...) L^{-1}
    return Tensor._make(low, (A,), backward)


def cholesky(A: Any, *, upper: bool = False) -> Tensor:
    """L, lower triangular with a positive diagonal, L L^T = A, from A's lower triangle (its
    upper triangle and ``U = L^T``, U^T U = A, if ``upper``); a LinAlgError naming the first
    leading minor that is not positive-definite."""
    A = matrices("linalg.cholesky", A)
    return _transposed(_cholesky_op(_transposed(A), None)) if upper else _cholesky_op(A, None)


def cholesky_ex(A: Any, *, upper: bool = False, check_errors: bool = False) -> CholeskyEx:
    """(L, info): info (int32) the order of the first leading minor that is not
    positive-definite, 0 where A is; that matrix's L is nan (PyTorch's is partial)."""
    A = matrices("linalg.cholesky_ex", A)
    factored = _transposed(A) if upper else A   # its lower triangle is the one read
    info = _cholesky_info(factored._data)
    if check_errors and info.any():
        raise _not_positive_definite("linalg.cholesky_ex", A._data, info)
    low = _cholesky_op(factored, info)
    return CholeskyEx(_transposed(low) if upper else low, constant(info))


def tensorinv(A: Any, ind: int = 2) -> Tensor:
    """The inverse of A as a map from its last dimensions to its first ``ind``: A reshaped
    to a square matrix, inverted, reshaped to A.shape[ind:] + A.shape[:ind]."""
    A = float_input("linalg.tensorinv", A)
    rows, columns = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if ind <= 0 or rows != columns:
        raise RuntimeError(f"linalg.tensorinv: Expected ind > 0 and prod(A.shape[:ind]) == "
                           f"prod(A.shape[ind:]), not ind={ind} for shape {A.shape}")
    return reshape(inv(reshape(A, (rows, columns))), A.shape[ind:] + A.shape[:ind])


def tensorsolve(A: Any, B: Any, dims: Any = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B: A's ``dims`` moved to the end, A reshaped to a
    (B.numel(), X.numel()) matrix, solve, X of shape A.shape[B.ndim:]."""
    A, B = float_input("linalg.tensorsolve", A), float_input("linalg.tensorsolve", B)
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    shape = A.shape[B.ndim:]
    if math.prod(A.shape[:B.ndim]) != B._data.size or math.prod(shape) != B._data.size:
        raise RuntimeError(f"linalg.tensorsolve: A of shape {A.shape} does not fit B of shape "
                           f"{B.shape}")
    return reshape(solve(reshape(A, (B._data.size, -1)), reshape(B, (-1,))), shape)
