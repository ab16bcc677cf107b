"""torch.linalg's functions under their older top-level names, and as Tensor methods.

    minidl.det(A)          linalg.det          A.det()
    minidl.inverse(A)      linalg.inv          A.inverse()
    minidl.slogdet(A)      linalg.slogdet      A.slogdet()
    minidl.logdet(A)       log det A: nan where det A < 0, -inf where it is 0
    minidl.matrix_power    linalg.matrix_power A.matrix_power(n)
    minidl.matrix_exp      linalg.matrix_exp   A.matrix_exp()
    minidl.pinverse(A, rcond=1e-15)            A.pinverse()
    minidl.cholesky(A, upper=False)            A.cholesky()
    minidl.qr(A, some=True)     linalg.qr, "reduced" or "complete"
    minidl.svd(A, some=True, compute_uv=True)  (U, S, V): V, not linalg.svd's Vh
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..ops import where
from ..tensor import Tensor
from .cholesky import cholesky as _cholesky
from .products import matrix_exp, matrix_power
from .solvers import det, inv, slogdet
from .spectral import pinv, qr as _qr, svd as _svd, svdvals

__all__ = ["det", "inverse", "slogdet", "logdet", "matrix_power", "matrix_exp", "pinverse",
           "cholesky", "qr", "svd"]

inverse = inv


def logdet(A: Any) -> Tensor:
    """log det A: sign * exp(logabsdet) as a log, nan for a negative determinant."""
    sign, logabsdet = slogdet(A)
    return where(sign._data < 0, np.nan, logabsdet)


def pinverse(input: Any, rcond: float = 1e-15) -> Tensor:
    """linalg.pinv with singular values below rcond * the largest left out."""
    return pinv(input, rtol=rcond)


def cholesky(input: Any, upper: bool = False) -> Tensor:
    """L with A = L L^T (or U with A = U^T U when ``upper``): linalg.cholesky."""
    return _cholesky(input, upper=upper)


def qr(input: Any, some: bool = True) -> Any:
    """(Q, R): linalg.qr in its "reduced" mode, or "complete" when not ``some``."""
    return _qr(input, "reduced" if some else "complete")


class SVD(NamedTuple):
    U: Tensor
    S: Tensor
    V: Tensor


def svd(input: Any, some: bool = True, compute_uv: bool = True) -> SVD:
    """(U, S, V) with A = U diag(S) V^T (linalg.svd returns Vh = V^T); ``some``
    gives the reduced factors. Without ``compute_uv``, as in PyTorch, ``some`` is
    ignored, U and V are zeros of shapes (*, m, m) and (*, n, n), and S (svdvals)
    carries the gradient."""
    if not compute_uv:
        s = svdvals(input)
        *batch, m, n = np.shape(input)
        return SVD(Tensor(np.zeros((*batch, m, m), s.dtype)), s,
                   Tensor(np.zeros((*batch, n, n), s.dtype)))
    u, s, vh = _svd(input, full_matrices=not some)
    return SVD(u, s, vh.mT)


for _name in ("det", "inverse", "slogdet", "logdet", "matrix_power", "matrix_exp", "pinverse",
              "cholesky", "qr", "svd"):
    setattr(Tensor, _name, globals()[_name])
