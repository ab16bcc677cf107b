"""PyTorch's matrix products and their relatives: mm, bmm, mv, dot, addmm, baddbmm, kron,
tensordot, trace, cross, cdist, inner, addmv. Each checks the shapes PyTorch requires and is then
composed of matmul, reshape, permute, diagonal, sum and norm, whose gradients it uses.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ..tensor import Tensor
from ._common import _one_dim, _sequence_operands
from .arithmetic import add, matmul, mul, sub
from .linalg import norm
from .reductions import sum
from .shape import _dims, _permuted, diagonal, reshape, stack, unsqueeze

__all__ = ["mm", "bmm", "mv", "dot", "addmm", "baddbmm", "kron", "tensordot", "trace", "cross",
           "cdist", "inner", "addmv"]


def _ndims(op: str, tensors: Sequence[Tensor], ndims: Sequence[int]) -> None:
    for t, n in zip(tensors, ndims):
        if t.ndim != n:
            raise RuntimeError(f"{op}: expects tensors of {tuple(ndims)} dimensions, not shapes "
                               f"{tuple(t.shape for t in tensors)}")


def _product(op: str, a: Any, b: Any, ndims: tuple[int, int]) -> Tensor:
    """a @ b for operands of exactly ``ndims`` dimensions, batches of equal size."""
    a, b = _sequence_operands(op, [a, b])
    _ndims(op, (a, b), ndims)
    if ndims == (3, 3) and a.shape[0] != b.shape[0]:
        raise RuntimeError(f"{op}: batch sizes of shapes {a.shape} and {b.shape} differ")
    return matmul(a, b)


def mm(input: Any, mat2: Any) -> Tensor:
    """The matrix product of two 2-D tensors."""
    return _product("mm", input, mat2, (2, 2))


def bmm(input: Any, mat2: Any) -> Tensor:
    """The matrix products of two batches of matrices, (b, n, m) @ (b, m, p), no broadcasting."""
    return _product("bmm", input, mat2, (3, 3))


def mv(input: Any, vec: Any) -> Tensor:
    """A 2-D tensor times a 1-D one."""
    return _product("mv", input, vec, (2, 1))


def dot(input: Any, other: Any) -> Tensor:
    """sum_i a_i b_i for two 1-D tensors of one length, a 0-d tensor."""
    return _product("dot", input, other, (1, 1))


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta input + alpha mat1 @ mat2, input broadcast to the product's shape."""
    return add(mul(input, beta), mul(mm(mat1, mat2), alpha))


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """beta input + alpha batch1 @ batch2 (bmm), input broadcast to the product's shape."""
    return add(mul(input, beta), mul(bmm(batch1, batch2), alpha))


def addmv(input: Any, mat: Any, vec: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta input + alpha mat @ vec (mv), input broadcast to the product's length; with
    beta = 0 input is ignored (nan and inf in it too), and on integer tensors beta and
    alpha are truncated to integers, as in PyTorch."""
    product = mv(mat, vec)
    if product.dtype.kind in "iub":
        beta, alpha = int(beta), int(alpha)
    shape = getattr(input, "shape", ())
    if len(shape) > 1 or (shape and shape[0] not in (1, len(product))):
        raise RuntimeError(f"addmv: size mismatch, got input {tuple(shape)}, mat "
                           f"{tuple(mat.shape)}, vec {tuple(vec.shape)}")
    if beta == 0:
        return mul(product, alpha)
    return add(mul(input, beta), mul(product, alpha))


def inner(input: Any, other: Any) -> Tensor:
    """sum over the last dimension of input[..., k] * other[..., k], for every pair of
    their leading indices (shape input.shape[:-1] + other.shape[:-1]); a 0-d operand
    multiplies. Both must have one dtype, as in PyTorch."""
    a, b = _sequence_operands("inner", [input, other])
    if getattr(input, "dtype", a.dtype) != getattr(other, "dtype", b.dtype):
        raise RuntimeError(f"inner: both inputs should have same dtype, got {input.dtype} "
                           f"and {other.dtype}")
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a.shape)} and {list(b.shape)}")
    rows = matmul(reshape(a, (-1, a.shape[-1])), reshape(b, (-1, b.shape[-1])).T)
    return reshape(rows, a.shape[:-1] + b.shape[:-1])


def kron(input: Any, other: Any) -> Tensor:
    """The Kronecker product: block (i, j, ...) is a[i, j, ...] * b. The shorter shape is
    padded with leading 1s; a is laid out as (a0, 1, a1, 1, ...) and b as (1, b0, 1, b1, ...)
    so that their product, reshaped, interleaves the blocks."""
    a, b = _sequence_operands("kron", [input, other])
    n = max(a.ndim, b.ndim)
    sa, sb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
    spread_a = reshape(a, [d for s in sa for d in (s, 1)])
    spread_b = reshape(b, [d for s in sb for d in (1, s)])
    return reshape(mul(spread_a, spread_b), [p * q for p, q in zip(sa, sb)])


def tensordot(a: Any, b: Any, dims: Any = 2) -> Tensor:
    """The sum over the paired axes ``dims`` of a and b (the last n of a with the first n of
    b for an int n), the remaining axes of a then of b: a permute, a reshape to matrices,
    one matmul."""
    a, b = _sequence_operands("tensordot", [a, b])
    if isinstance(dims, int):
        pairs = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    else:
        pairs = tuple([d] if isinstance(d, int) else list(d) for d in dims)
    axes_a, axes_b = _dims("tensordot", pairs[0], a.ndim), _dims("tensordot", pairs[1], b.ndim)
    if [a.shape[i] for i in axes_a] != [b.shape[j] for j in axes_b]:
        raise RuntimeError(f"tensordot: the sizes of axes {axes_a} of {a.shape} and {axes_b} "
                           f"of {b.shape} differ")
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [j for j in range(b.ndim) if j not in axes_b]
    inner = math.prod(a.shape[i] for i in axes_a)
    left = reshape(_permuted(a, tuple(free_a + list(axes_a))),
                   (math.prod(a.shape[i] for i in free_a), inner))
    right = reshape(_permuted(b, tuple(list(axes_b) + free_b)),
                    (inner, math.prod(b.shape[j] for j in free_b)))
    return reshape(matmul(left, right), [a.shape[i] for i in free_a] +
                   [b.shape[j] for j in free_b])


def trace(input: Tensor) -> Tensor:
    """The sum of a 2-D tensor's main diagonal."""
    _ndims("trace", (input,), (2,))
    return sum(diagonal(input))


def cross(input: Any, other: Any, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along dim (the first axis of size 3 if None, as
    torch.cross), the operands broadcast together: (a1 b2 - a2 b1, a2 b0 - a0 b2,
    a0 b1 - a1 b0)."""
    a, b = _sequence_operands("cross", [input, other])
    if a.ndim != b.ndim:
        raise RuntimeError(f"cross: shapes {a.shape} and {b.shape} differ in dimensions")
    if dim is None:
        dim = next((i for i, (m, n) in enumerate(zip(a.shape, b.shape)) if m == n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no axis of size 3 in shapes {a.shape} and {b.shape}")
    dim = _one_dim("cross", dim, a.ndim)
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f"cross: axis {dim} of shapes {a.shape} and {b.shape} must have "
                           f"size 3")
    lead = (slice(None),) * dim
    ai, bi = ([t[lead + (i,)] for i in range(3)] for t in (a, b))
    return stack([sub(mul(ai[1], bi[2]), mul(ai[2], bi[1])),
                  sub(mul(ai[2], bi[0]), mul(ai[0], bi[2])),
                  sub(mul(ai[0], bi[1]), mul(ai[1], bi[0]))], dim)


def cdist(x1: Any, x2: Any, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distance between each row of x1 (.., P, M) and each row of x2 (.., R, M):
    an output (.., P, R), the batch axes broadcast;  the gradient is norm's (0 where a
    distance is 0). ``compute_mode`` is accepted for PyTorch's sake: minidl always takes
    the differences (PyTorch may use a matrix product for p = 2, equal up to rounding)."""
    a, b = _sequence_operands("cdist", [x1, x2])
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"cdist: needs x1 (.., P, M) and x2 (.., R, M), not shapes "
                           f"{a.shape} and {b.shape}")
    if p < 0:
        raise RuntimeError(f"cdist: p must be >= 0, not {p}")
    return norm(sub(unsqueeze(a, -2), unsqueeze(b, -3)), p, dim=-1)
