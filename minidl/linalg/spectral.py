"""Factorisations and what is built on them, each with its vjp: qr, svd, svdvals, eigh,
eigvalsh, pinv, lstsq, matrix_rank.

Singular vectors and eigenvectors are defined up to sign (a column of U with the same row
of Vh), so only a function that does not depend on the signs has a well-defined gradient,
as in PyTorch. The gradients of svd and eigh divide by s_j^2 - s_i^2 and by
lambda_j - lambda_i: they are finite only for distinct singular values and eigenvalues,
and inf or nan for repeated ones where the loss depends on the vectors (PyTorch's
documented degenerate case). svdvals and eigvalsh alone have gradients everywhere."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..ops import cat, matmul, squeeze, sum, unsqueeze
from ..ops._common import _several_outputs
from ..tensor import Tensor
from ._common import constant, float_input, matrices, mT, substitute, transposed

__all__ = ["qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv", "lstsq", "matrix_rank"]


class QR(NamedTuple):
    Q: Tensor
    R: Tensor


class SVD(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


class Eigh(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class Lstsq(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def _zeros_if_none(g: np.ndarray | None, like: np.ndarray) -> np.ndarray:
    return np.zeros_like(like) if g is None else g


def _qr_tall(A: Tensor) -> QR:
    """The reduced QR of m >= n matrices. With M = R gR^T - gQ^T Q and
    copyltu(M) = tril(M) + tril(M, -1)^T (the symmetric matrix with M's lower triangle),

        gA = (gQ + Q copyltu(M)) R^{-T}."""
    q, r = np.linalg.qr(A._data, mode="reduced")

    def backward(grads: list) -> tuple:
        g_q, g_r = _zeros_if_none(grads[0], q), _zeros_if_none(grads[1], r)
        m = r @ mT(g_r) - mT(g_q) @ q
        copyltu = np.tril(m) + mT(np.tril(m, -1))
        right = g_q + q @ copyltu                        # (gQ + Q copyltu(M)), times R^{-T}:
        return (mT(substitute(r, mT(right), upper=True)),)
    return QR(*_several_outputs([q, r], (A,), backward))


def _not_differentiable(message: str):
    def backward(g: np.ndarray) -> tuple:
        raise RuntimeError(message)
    return backward


def qr(A: Any, mode: str = "reduced") -> QR:
    """A = Q R, Q with orthonormal columns, R upper triangular: (*, m, k) and (*, k, n),
    k = min(m, n), for ``mode="reduced"``; (*, m, m) and (*, m, n) for "complete"; "r"
    computes R alone and returns an empty Q. Differentiable for "reduced" (and "complete"
    where m <= n, the same factorisation): for m < n, A = [X | Y] with X square gives
    Q, R1 = qr(X) and R = [R1 | Q^T Y], whose gradient follows from the m >= n case's."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    A = matrices("linalg.qr", A, square=False)
    m, n = A.shape[-2:]
    if mode == "r":
        r = np.linalg.qr(A._data, mode="r")
        return QR(constant(np.zeros(0, A.dtype)), Tensor._make(r, (A,), _not_differentiable(
            "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
            "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
            "through linalg.qr.")))
    if mode == "complete" and m > n:
        q, r = np.linalg.qr(A._data, mode="complete")
        backward = _not_differentiable("The QR decomposition is not differentiable when "
                                       "mode='complete' and nrows > ncols.")
        return QR(Tensor._make(q, (A,), backward), Tensor._make(r, (A,), backward))
    if m >= n:
        return _qr_tall(A)
    q, r_left = _qr_tall(A[..., :m])
    return QR(q, cat([r_left, matmul(transposed(q), A[..., m:])], -1))


def _svd_backward(u: np.ndarray, s: np.ndarray, vh: np.ndarray, g_u: np.ndarray | None,
                  g_s: np.ndarray | None, g_vh: np.ndarray | None) -> np.ndarray:
    """PyTorch's svd_backward for the thin SVD A = U S Vh (U (m, k), Vh (k, n)). With
    skew(X) = X - X^T and E_ij = s_j^2 - s_i^2 (1 on the diagonal),

        gA = U [(skew(U^T gU) S + S skew(Vh gVh^T)) / E + diag(gS)] Vh
             + (I - U U^T) gU S^{-1} Vh       (m > k)
             + U S^{-1} gVh (I - Vh^T Vh)     (n > k)."""
    if g_u is None and g_vh is None:
        return (u * _zeros_if_none(g_s, s)[..., None, :]) @ vh
    squares = s * s
    e = squares[..., None, :] - squares[..., :, None]
    k = s.shape[-1]
    e[..., range(k), range(k)] = 1
    inner = np.zeros(e.shape, dtype=u.dtype)
    if g_u is not None:
        uu = mT(u) @ g_u
        inner += (uu - mT(uu)) * s[..., None, :]
    if g_vh is not None:
        vv = vh @ mT(g_vh)
        inner += s[..., :, None] * (vv - mT(vv))
    inner /= e
    if g_s is not None:
        inner[..., range(k), range(k)] += g_s
    grad = u @ inner @ vh
    m, n = u.shape[-2], vh.shape[-1]
    if m > k and g_u is not None:
        scaled = g_u / s[..., None, :]
        grad += (scaled - u @ (mT(u) @ scaled)) @ vh
    if n > k and g_vh is not None:
        scaled = g_vh / s[..., :, None]
        grad += u @ (scaled - (scaled @ mT(vh)) @ vh)
    return grad


def svd(A: Any, full_matrices: bool = True, *, driver: str | None = None) -> SVD:
    """A = U diag(S) Vh, S descending: U (*, m, m), Vh (*, n, n) if ``full_matrices``,
    else (*, m, k) and (*, k, n), k = min(m, n). The gradient is ``_svd_backward``'s; the
    columns of U and rows of Vh past k (full_matrices) get none, as in PyTorch. ``driver``
    is CUDA's choice in PyTorch: accepted and unused."""
    A = matrices("linalg.svd", A, square=False)
    u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices)
    k = s.shape[-1]

    def backward(grads: list) -> tuple:
        g_u, g_s, g_vh = grads
        return (_svd_backward(u[..., :k], s, vh[..., :k, :],
                              None if g_u is None else g_u[..., :k], g_s,
                              None if g_vh is None else g_vh[..., :k, :]),)
    return SVD(*_several_outputs([u, s, vh], (A,), backward))


def svdvals(A: Any, *, driver: str | None = None) -> Tensor:
    """The singular values, descending;  gA = U diag(g) Vh, defined also where they repeat."""
    A = matrices("linalg.svdvals", A, square=False)

    def backward(g: np.ndarray) -> tuple:
        u, _, vh = np.linalg.svd(A._data, full_matrices=False)
        return ((u * g[..., None, :]) @ vh,)
    return Tensor._make(np.linalg.svd(A._data, compute_uv=False), (A,), backward)


def _uplo(op: str, UPLO: str) -> str:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO


def eigh(A: Any, UPLO: str = "L") -> Eigh:
    """The eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices, read
    from the lower (``UPLO="L"``) or upper triangle. With E_ij = lambda_j - lambda_i,

        gA = V (diag(gL) + (V^T gV - gV^T V) / 2 / E) V^T   (off the diagonal of E),

    symmetric, as PyTorch's."""
    A = matrices("linalg.eigh", A)
    values, vectors = np.linalg.eigh(A._data, UPLO=_uplo("linalg.eigh", UPLO))

    def backward(grads: list) -> tuple:
        g_values, g_vectors = grads
        inner = np.zeros(A.shape, dtype=A.dtype)
        if g_vectors is not None:
            vv = mT(vectors) @ g_vectors
            gaps = values[..., None, :] - values[..., :, None]
            n = values.shape[-1]
            gaps[..., range(n), range(n)] = 1
            inner = (vv - mT(vv)) / 2 / gaps
            inner[..., range(n), range(n)] = 0
        if g_values is not None:
            inner += g_values[..., None] * np.eye(A.shape[-1], dtype=A.dtype)
        return (vectors @ inner @ mT(vectors),)
    return Eigh(*_several_outputs([values, vectors], (A,), backward))


def eigvalsh(A: Any, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of symmetric matrices;  gA = V diag(g) V^T."""
    A = matrices("linalg.eigvalsh", A)
    values, vectors = np.linalg.eigh(A._data, UPLO=_uplo("linalg.eigvalsh", UPLO))
    return Tensor._make(values, (A,), lambda g: ((vectors * g[..., None, :]) @ mT(vectors),))


def _tolerance(s_max: np.ndarray, shape: tuple[int, ...], atol: Any,
               rtol: Any) -> np.ndarray:
    """PyTorch's cut-off for a singular value: max(atol, rtol * s_max), rtol defaulting to
    eps * max(m, n) when neither is given and to 0 when only atol is."""
    eps = np.finfo(s_max.dtype).eps
    atol_value = np.asarray(0.0 if atol is None else atol, dtype=s_max.dtype)
    if rtol is None:
        rtol = eps * max(shape[-2:]) if atol is None or np.all(atol_value <= 0) else 0.0
    return np.maximum(atol_value, np.asarray(rtol, dtype=s_max.dtype) * s_max)


def _pinv_backward(a: np.ndarray, pinv_a: np.ndarray):
    """PyTorch's pinv_backward, for A of constant rank (Golub and Pereyra, 1973): with
    P = A^+, for m <= n, K = g^T P:

        gA = -(P K)^T + K P^T - A P K P^T + P^T P (g^T - K A),  transposed;

    for m > n the same with the roles of the two sides exchanged."""
    def backward(g: np.ndarray) -> tuple:
        m, n = a.shape[-2:]
        p, g_t = pinv_a, mT(g)
        if m <= n:
            k = g_t @ p
            kp = k @ mT(p)
            grad = -mT(p @ k) + kp - (a @ p) @ kp + (mT(p) @ p) @ (g_t - k @ a)
        else:
            k = p @ g_t
            pk = mT(p) @ k
            grad = -mT(k @ p) + (g_t - a @ k) @ p @ mT(p) + pk - pk @ p @ a
        return (grad,)
    return backward


def _old_tolerance(op: str, old: str, value: Any, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's older positional form, ``pinv(A, rcond)`` (rtol alone) or
    ``matrix_rank(A, tol)`` (atol alone), as (atol, rtol); not together with atol or rtol."""
    if value is None:
        return atol, rtol
    if atol is not None or rtol is not None:
        raise TypeError(f"{op}: give {old} or atol/rtol, not both")
    return (None, value) if old == "rcond" else (value, 0.0)


def pinv(A: Any, rcond: Any = None, hermitian: bool = False, *, atol: Any = None,
         rtol: Any = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse V diag(1/s) U^T over the singular values above
    max(atol, rtol s_max) (``_tolerance``; ``rcond`` is PyTorch's older name of rtol);
    with ``hermitian`` from eigh, over |lambda|. Its gradient is PyTorch's formula, right
    where the rank does not change."""
    atol, rtol = _old_tolerance("linalg.pinv", "rcond", rcond, atol, rtol)
    A = matrices("linalg.pinv", A, square=hermitian)
    a = A._data
    if hermitian:
        values, vectors = np.linalg.eigh(a)
        magnitude = np.abs(values)
        kept = magnitude > _tolerance(magnitude.max(-1, keepdims=True, initial=0),
                                      a.shape, atol, rtol)
        inverse = np.where(kept, 1 / np.where(kept, values, 1), 0)
        pinv_a = (vectors * inverse[..., None, :]) @ mT(vectors)
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        kept = s > _tolerance(s[..., :1], a.shape, atol, rtol)
        inverse = np.where(kept, 1 / np.where(kept, s, 1), 0)
        pinv_a = (mT(vh) * inverse[..., None, :]) @ mT(u)
    return Tensor._make(pinv_a.astype(a.dtype), (A,), _pinv_backward(a, pinv_a))


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, atol: Any = None,
                rtol: Any = None) -> Tensor:
    """The number of singular values (|eigenvalues| if ``hermitian``) above
    max(atol, rtol s_max) (``tol`` is PyTorch's older form of atol, with rtol 0), int64,
    without gradient."""
    atol, rtol = _old_tolerance("linalg.matrix_rank", "tol", tol, atol, rtol)
    A = matrices("linalg.matrix_rank", A, square=hermitian)
    s = (np.abs(np.linalg.eigvalsh(A._data)) if hermitian
         else np.linalg.svd(A._data, compute_uv=False))
    s_max = s.max(-1, keepdims=True, initial=0)
    return constant(np.sum(s > _tolerance(s_max, A.shape, atol, rtol),
                         axis=-1).astype(np.int64))


_DRIVERS = (None, "gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Any, B: Any, rcond: float | None = None, *, driver: str | None = None) -> Lstsq:
    """The least-squares solution X = A^+ B (minimum norm), B (*, m, k) or (*, m): pinv
    and matmul, so its gradient is PyTorch's (which differentiates the same A^+ B).
    As PyTorch's CPU drivers: ``rank`` for all but "gels"; ``residuals`` (the squared
    norms of A X - B per column) where m > n, A has full rank and the driver is not
    "gelsy" (the default); ``singular_values`` for "gelsd" and "gelss"; else empty.
    rcond (eps * max(m, n) by default) is pinv's rtol."""
    op = "torch.linalg.lstsq"
    if driver not in _DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss)")
    A, B = matrices(op, A, square=False), float_input(op, B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    vector = B.ndim == A.ndim - 1
    if B.ndim < A.ndim - 1 or B.ndim > A.ndim or B.shape[-1 if vector else -2] != A.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-2), shapes "
                           f"{A.shape} and {B.shape}")
    m, n = A.shape[-2:]
    columns = unsqueeze(B, -1) if vector else B   # residuals keep the 1 column, as PyTorch's
    solution = matmul(pinv(A, rtol=rcond), columns)
    empty = constant(np.zeros(0, A.dtype))
    ranks = matrix_rank(A, rtol=rcond)
    rank = ranks if driver != "gels" else constant(np.zeros(0, np.int64))
    full_rank = bool(np.all(ranks._data == n))
    residuals = empty
    if driver not in (None, "gelsy") and m > n and full_rank:
        misfit = matmul(A, solution) - columns
        residuals = sum(misfit * misfit, dim=-2)
    singular_values = svdvals(A).detach() if driver in ("gelsd", "gelss") else empty
    return Lstsq(squeeze(solution, -1) if vector else solution, residuals, rank,
                 singular_values)
