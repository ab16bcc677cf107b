"""The Cholesky factorisation L L^T = A of symmetric positive-definite matrices, with its
vjp: cholesky, cholesky_ex. Both read one triangle of A (the lower, or the upper for
``upper=True``, factored as the lower triangle of A^T); a matrix that is not
positive-definite raises a LinAlgError naming its first such leading minor, as LAPACK's
potrf reports it, or gives that order as cholesky_ex's info."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Tensor
from ._common import LinAlgError, batch_label, constant, matrices, mT, substitute, transposed

__all__ = ["cholesky", "cholesky_ex"]


class CholeskyEx(NamedTuple):
    L: Tensor
    info: Tensor


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
    return transposed(_cholesky_op(transposed(A), None)) if upper else _cholesky_op(A, None)


def cholesky_ex(A: Any, *, upper: bool = False, check_errors: bool = False) -> CholeskyEx:
    """(L, info): info (int32) the order of the first leading minor that is not
    positive-definite, 0 where A is; that matrix's L is nan (PyTorch's is partial)."""
    A = matrices("linalg.cholesky_ex", A)
    factored = transposed(A) if upper else A   # its lower triangle is the one read
    info = _cholesky_info(factored._data)
    if check_errors and info.any():
        raise _not_positive_definite("linalg.cholesky_ex", A._data, info)
    low = _cholesky_op(factored, info)
    return CholeskyEx(transposed(low) if upper else low, constant(info))
