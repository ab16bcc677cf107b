"""Matrix products inside njit loops, cut to the size of OpenBLAS's small-matrix kernels.

    gemm(a, b, out, beta)          out = a @ b + beta out
    small_gemm(a, b, out, beta)    the same, as products of at most SMALL multiply-adds each

a (m, k), b (k, n) and out (m, n) are 2-D float32 or float64 views whose rows
are contiguous, at any row stride (column slices of a bigger array; another
layout, a transposed view say, raises ValueError), so a product writes, or
adds, straight into a slice of a kept buffer: no temporary, no copy. Both
call the BLAS that numba's own ``np.dot`` calls (scipy's, through
``numba_xxgemm``, the C helper that numba's linear algebra is built on, reached
as numba's ``np.linalg`` code reaches it: ``numba.np.linalg._BLAS``, an internal
name that a numba release may move), with beta, which ``np.dot`` does not expose.

Why cut: OpenBLAS (0.3.17 and later, on its SkylakeX kernels) computes a product
of m n k <= 10**6 multiply-adds, neither operand transposed, directly from the
arrays; a larger one first copies both operands into packed panels. In a
recurrent layer's step, batch 32, the copy of W_hh^T costs more than it saves.
Measured, one thread, float32, 50 products in a row under load (us per product;
the ``np.dot`` of numba):

    h (32, 128) @ W^T (128, 512)     np.dot 65    4 column blocks of 128: 39
    dG (32, 512) @ W (512, 128)      np.dot 60    4 blocks of 128 of k:    37
    h (32, 64)  @ W^T (64, 256)      np.dot 11    (m n k = 524288: one product already)

A block's width is a power of two (from 16 up: widths in between measured
slower), the widest within SMALL; ``small_gemm`` cuts n, or k where k is the
longer (then the first block applies beta and the others add).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba calls: loaded now, see threads.py)
from numba.extending import overload
from numba.np.linalg import _BLAS, get_blas_kind

from ..jit import njit

SMALL = 10**6   # OpenBLAS's limit on m n k for its direct small-matrix kernels


def gemm(a, b, out, beta):
    """out = a @ b + beta out inside njit code (see the module docstring)."""
    out[...] = a @ b if beta == 0 else a @ b + beta * out


@overload(gemm, jit_options={"error_model": "numpy"})
def _gemm(a, b, out, beta):
    xxgemm = _BLAS().numba_xxgemm(a.dtype)
    kind = ord(get_blas_kind(a.dtype, "gemm"))
    notrans = ord("n")

    def gemm_rows(a, b, out, beta):
        # BLAS is column-major: a row-major (m, n) product is the column-major
        # out^T (n, m) = b^T a^T, with each row stride as its leading dimension
        m, k = a.shape
        n = b.shape[1]
        item = a.itemsize
        if ((k > 1 and a.strides[1] != item) or (n > 1 and b.strides[1] != item)
                or (n > 1 and out.strides[1] != item)):
            raise ValueError("gemm: every operand's rows must be contiguous (BLAS is "
                             "given the row strides only); pass np.ascontiguousarray")
        scalars = np.empty(2, a.dtype)   # alpha, beta: BLAS takes them by pointer
        scalars[0] = 1
        scalars[1] = beta
        xxgemm(kind, notrans, notrans, n, m, k, scalars[:1].ctypes, b.ctypes,
               max(b.strides[0] // item, n, 1), a.ctypes, max(a.strides[0] // item, k, 1),
               scalars[1:].ctypes, out.ctypes, max(out.strides[0] // item, n, 1))
    return gemm_rows


@njit
def _width(length, rest):
    """The widest power of two from 16 with rest * width <= SMALL, at most length."""
    width = 16
    while width * 2 * rest <= SMALL and width < length:
        width *= 2
    return min(width, length)


@njit
def small_gemm(a, b, out, beta):
    """out = a @ b + beta out, as products of at most SMALL multiply-adds."""
    m, k = a.shape
    n = b.shape[1]
    if k > n:
        width = _width(k, m * n)
        for j in range(0, k, width):
            gemm(a[:, j:j + width], b[j:j + width], out, beta if j == 0 else 1)
    else:
        width = _width(n, m * k)
        for j in range(0, n, width):
            gemm(a, b[:, j:j + width], out[:, j:j + width], beta)
