"""Inverses, determinants and linear solves, each with its vjp: inv, inv_ex, det, slogdet,
solve, solve_ex, solve_triangular, tensorinv, tensorsolve.

A and its inverse are (*, n, n) stacks; the batch dimensions of A and B broadcast. For
X = A^{-1} B the vjps are gB = A^{-T} g and gA = -gB X^T, which give those of inv
(B = I) and, with the transpose, of det and slogdet: d log|det A| / dA = A^{-T}."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..ops import movedim, reshape
from ..tensor import Tensor, unbroadcast
from ._common import (LinAlgError, batch_label, constant, float_input, lu_info, matrices, mT,
                      same_dtype, substitute, transposed)

__all__ = ["inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "solve_triangular",
           "tensorinv", "tensorsolve"]


class InvEx(NamedTuple):
    inverse: Tensor
    info: Tensor


class Slogdet(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class SolveEx(NamedTuple):
    result: Tensor
    info: Tensor


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
    if _is_vector(A, B):   # PyTorch's X A = B takes no vector B
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation XA = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-1]}x1)")
    x, info = _solve_op(op, transposed(A), transposed(B), ex)
    return transposed(x), info


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:
    """X with A X = B (X A = B if ``left=False``); B of shape (*, n, k), or (*, n) for
    vectors where ``left``; a LinAlgError for a singular A.  gB = A^{-T} g, gA = -gB X^T."""
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
    return transposed(_solve_triangular_op(transposed(A), transposed(B), not upper,
                                            unitriangular))


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
