"""Norms and the small vector functions: vector_norm, matrix_norm, norm, cond, vecdot,
cross, diagonal. Each is composed of ops (norm, abs, sum, amax, svdvals, inv_ex, where), whose
gradients it uses: the gradient of a max or a min is split among the elements that tie."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from ._common import float_input, matrices
from .solvers import inv_ex
from .spectral import svdvals

__all__ = ["vector_norm", "matrix_norm", "norm", "cond", "vecdot", "cross", "diagonal"]

_MATRIX_ORDS = ("fro", "nuc", float("inf"), float("-inf"), 1, -1, 2, -2)


def _cast(op: str, x: Any, dtype: Any, half: bool) -> Tensor:
    """x as a float Tensor (float16 too if ``half``), converted to ``dtype`` if given."""
    x = float_input(op, x, half)
    return x if dtype is None else float_input(op, x.to(dtype), half)


def vector_norm(x: Any, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """(sum |x_i|^ord)^(1/ord) over ``dim`` (every element if None): minidl.norm's vector
    p-norm (inf, -inf, 0 and negative ord too), computed in ``dtype`` if given."""
    if not isinstance(ord, numbers.Real) or isinstance(ord, bool):
        raise TypeError(f"linalg.vector_norm: argument 'ord' must be a number, not "
                        f"{type(ord).__name__} {ord!r}")
    x = _cast("linalg.vector_norm", x, dtype, half=True)
    dim = (dim,) if isinstance(dim, int) else dim
    return ops.norm(x, ord, dim=None if dim is None else tuple(dim), keepdim=keepdim)


def _matrix_norm_last(A: Tensor, ord: Any) -> Tensor:
    """The matrix norm of each matrix in the last two dimensions."""
    if ord == "fro":
        return ops.norm(A, 2, dim=(-2, -1))
    if ord == "nuc":
        return ops.sum(svdvals(A), dim=-1)
    if ord in (2, -2):
        return (ops.amax if ord == 2 else ops.amin)(svdvals(A), dim=-1)
    # 1: the largest column sum of |a_ij|, inf: the largest row sum; -1, -inf the smallest
    sums = ops.sum(ops.abs(A), dim=-2 if abs(ord) == 1 else -1)
    return (ops.amax if ord > 0 else ops.amin)(sums, dim=-1)


def matrix_norm(A: Any, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The matrix norm over the two dimensions ``dim``: "fro" sqrt(sum a_ij^2), "nuc" the
    sum of the singular values, 2 (-2) the largest (smallest) singular value, 1 (-1) the
    largest (smallest) column sum of |a_ij|, inf (-inf) the same of the row sums. float16
    is taken by all but those of the singular values, as in PyTorch."""
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    half = ord not in ("nuc", 2, -2)
    A = matrices("linalg.matrix_norm", _cast("linalg.matrix_norm", A, dtype, half),
                 square=False, half=half)
    dims = sorted(d % A.ndim for d in dim)
    if len(dim) != 2 or dims[0] == dims[1]:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of different "
                           f"dimensions, not {dim}")
    out = _matrix_norm_last(ops.movedim(A, tuple(dim), (-2, -1)), ord)
    if keepdim:
        for d in dims:
            out = ops.unsqueeze(out, d)
    return out


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """vector_norm or matrix_norm, as PyTorch chooses: an int ``dim`` (or a 1-D input when
    dim is None) is a vector norm, a 2-tuple ``dim`` (or a 2-D input) a matrix norm; with
    neither ord nor dim, the 2-norm of all the elements."""
    A = A if isinstance(A, Tensor) else Tensor(A)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {A.ndim}D.")
        dim = tuple(range(A.ndim))
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: ord {ord!r} needs a matrix: give a 2-D input or a "
                           f"2-tuple dim")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cond(A: Any, p: Any = None) -> Tensor:
    """The condition number: s_max / s_min for p None or 2 (s_min / s_max for -2), any
    matrix shape; else matrix_norm(A, p) * matrix_norm(inv(A), p), square A only, inf
    for a singular A (as PyTorch's)."""
    A = matrices("linalg.cond", A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        ratio = s[..., 0] / s[..., -1]
        return ratio if p != -2 else 1 / ratio
    inverse, info = inv_ex(A)
    singular = info._data > 0     # their inverse is nan: the identity in its place, then inf
    inverse = ops.where(singular[..., None, None], np.eye(A.shape[-1], dtype=A.dtype), inverse)
    return ops.where(singular, np.inf, matrix_norm(A, p) * matrix_norm(inverse, p))


def vecdot(x: Any, y: Any, *, dim: int = -1) -> Tensor:
    """sum_i x_i y_i along ``dim``, the other dimensions broadcast; x and y are float
    tensors of one dtype, as in PyTorch."""
    x, y = (float_input("linalg.vecdot", t, half=True) for t in (x, y))
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but "
                           f"found x of type {x.dtype} and y of type {y.dtype} instead.")
    return ops.sum(ops.mul(x, y), dim=dim)


def cross(input: Any, other: Any, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (the last by default, unlike
    minidl.cross's first axis of size 3); the other dimensions broadcast, but the two
    tensors must have as many dimensions, as in PyTorch."""
    a, b = (t if isinstance(t, Tensor) else Tensor(t) for t in (input, other))
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, "
                           f"not shapes {a.shape} and {b.shape}")
    if not -a.ndim <= dim < a.ndim:
        raise IndexError(f"linalg.cross: dim {dim} is out of range for {a.ndim} dimensions")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3, not "
                           f"shapes {a.shape} and {b.shape}")
    a, b = ops.broadcast_tensors(a, b)
    return ops.cross(a, b, dim=dim)


def diagonal(A: Any, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of each matrix in the dimensions dim1, dim2 (the last two by default),
    as a new last dimension."""
    return ops.diagonal(A, offset, dim1, dim2)
