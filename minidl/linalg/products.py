"""Products of matrices: matmul, multi_dot, matrix_power, matrix_exp, vander. All but
matrix_exp are composed of matmul, inv and cumprod, whose gradients they use."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..ops import cat, cumprod, expand, reshape, unsqueeze
from ..tensor import Tensor
from ._common import constant, matrices, mT
from .solvers import inv

__all__ = ["matmul", "multi_dot", "matrix_power", "matrix_exp", "vander"]


def matmul(input: Any, other: Any) -> Tensor:
    """input @ other: minidl.matmul under PyTorch's argument names."""
    return ops.matmul(input, other)


def multi_dot(tensors: Sequence[Any]) -> Tensor:
    """The product of two or more matrices, left to right; the first may be a 1-D row and
    the last a 1-D column, as PyTorch's (which may group the products otherwise: equal up
    to rounding)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if np.ndim(t) not in allowed:
            raise RuntimeError(f"multi_dot(): tensor {i} must be "
                               f"{' or '.join(f'{d}D' for d in allowed)} but got "
                               f"{np.ndim(t)}D")
    product = tensors[0]
    for t in tensors[1:]:
        product = ops.matmul(product, t)
    return product


def matrix_power(A: Any, n: int) -> Tensor:
    """A^n by repeated squaring (matmuls), A^-n = inv(A)^n. As in PyTorch, A^1 is a copy
    of A (``clone``) and A^0 = I is in the graph with a zero gradient."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an int, not {type(n).__name__} {n!r}")
    A = A if isinstance(A, Tensor) else Tensor(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are of shape {A.shape}")
    if n == 0:
        identity = np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy()
        return Tensor._make(identity, (A,), lambda g: (np.zeros_like(A._data),))
    if n == 1:
        return ops.clone(A)
    power, base, n = None, inv(A) if n < 0 else A, abs(int(n))
    while n:
        if n & 1:
            power = base if power is None else ops.matmul(power, base)
        n >>= 1
        if n:
            base = ops.matmul(base, base)
    return power


def _expm(a: np.ndarray) -> np.ndarray:
    """exp(A) by scaling and squaring: exp(A) = exp(A / 2^s)^(2^s), with s chosen so that
    ||A / 2^s||_1 <= 1/2, where 18 terms of the Taylor series are exact to rounding."""
    norm = np.max(np.sum(np.abs(a), axis=-2), initial=0.0)
    squarings = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0 else 0
    scaled = a / 2.0 ** squarings
    term = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    total = term.copy()
    for k in range(1, 19):
        term = term @ scaled / k
        total += term
    for _ in range(squarings):
        total = total @ total
    return total


def matrix_exp(A: Any) -> Tensor:
    """exp(A) = sum_k A^k / k!.  Its vjp is the Frechet derivative at A^T in the direction g,
    the upper right block of exp([[A^T, g], [0, A^T]]) (Mathias, 1996)."""
    A = matrices("linalg.matrix_exp", A)
    a, n = A._data, A.shape[-1]

    def backward(g: np.ndarray) -> tuple:
        block = np.zeros(g.shape[:-2] + (2 * n, 2 * n), dtype=a.dtype)
        block[..., :n, :n] = block[..., n:, n:] = mT(a)
        block[..., :n, n:] = g
        return (_expm(block)[..., :n, n:],)
    return Tensor._make(_expm(a), (A,), backward)


def vander(x: Any, *, N: int | None = None) -> Tensor:
    """Columns x^0, x^1, ..., x^(N-1) (increasing powers, unlike numpy's vander), N =
    x.shape[-1] by default (a 0-d x is one element): the cumulative product of
    [1, x, x, ...], so that x = 0 has a gradient."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    x = reshape(x, (1,)) if x.ndim == 0 else x
    N = x.shape[-1] if N is None else N
    if N <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1, not {N}")
    column = unsqueeze(x, -1)
    ones = constant(np.ones(column.shape, column.dtype))
    return cumprod(cat([ones, expand(column, *x.shape, N - 1)], -1), -1)
