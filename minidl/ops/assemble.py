"""Tensors assembled from the elements of others: block_diag, cartesian_prod,
combinations, vander. Each is composed of cat, stack, meshgrid, indexing and cumprod,
whose gradients it uses."""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import _sequence_operands
from .linalg import meshgrid
from .scans import cumprod
from .shape import cat, expand, flip, getitem, reshape, stack

__all__ = ["block_diag", "cartesian_prod", "combinations", "vander"]


def block_diag(*tensors: Any) -> Tensor:
    """The tensors placed along the diagonal of a matrix of zeros, the first top left; a
    0-d tensor is a 1x1 block and a 1-D one a row. The dtypes promote as in ``cat``."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag: input {i} must be a Tensor, not {type(t).__name__}")
        if t.ndim > 2:
            raise RuntimeError(f"block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t.ndim} dimensions")
    if not tensors:
        return Tensor(np.zeros((1, 0), np.float32))
    blocks = [reshape(t, (1,) * (2 - t.ndim) + t.shape) for t in _sequence_operands(
        "block_diag", tensors)]
    dtype, width, left = blocks[0].dtype, sum(b.shape[1] for b in blocks), 0
    rows = []
    for block in blocks:
        height, columns = block.shape
        rows.append(cat([Tensor(np.zeros((height, left), dtype)), block,
                         Tensor(np.zeros((height, width - left - columns), dtype))], dim=1))
        left += columns
    return cat(rows, dim=0)


def _vector(op: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, not {type(x).__name__}")
    if x.ndim != 1:
        raise RuntimeError(f"{op}: Expect a 1D vector, but got shape {list(x.shape)}")
    return x


def cartesian_prod(*tensors: Any) -> Tensor:
    """Every tuple (a_i, b_j, ...) of the 1-D tensors' elements, the last varying fastest,
    as the rows of an (N, k) tensor (one tensor is returned as it is). The tensors must
    share a dtype, as in PyTorch."""
    tensors = tuple(_vector("cartesian_prod", t) for t in tensors)
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError(f"cartesian_prod: expects all tensors to have the same dtype, got "
                           f"{[str(t.dtype) for t in tensors]}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([reshape(grid, (-1,)) for grid in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The r-element combinations of a 1-D tensor's elements in lexicographic order of
    their positions, as rows (itertools.combinations, or with replacement); r = 0 gives an
    empty 1-D tensor. Each row indexes input, so the gradient gathers back."""
    _vector("combinations", input)
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got r={r}")
    if r == 0:
        return Tensor(np.empty(0, input.dtype), dtype=input.dtype)
    choose = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    chosen = list(choose(range(len(input)), r))
    index = np.array(chosen, dtype=np.int64).reshape(len(chosen), r)
    return getitem(input, index)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix: column j holds x ** (N - 1 - j), or x ** j if increasing
    (N = len(x) by default). A cumulative product of [1, x, x, ...], as PyTorch's; integer
    and bool x give int64."""
    _vector("vander", x)
    n = len(x) if N is None else N
    if n < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {n}")
    if x.dtype.kind in "biu":
        x = Tensor(x._data.astype(np.int64), dtype=np.int64)
    ones = Tensor(np.ones((len(x), min(n, 1)), x.dtype))
    columns = cat([ones, expand(reshape(x, (-1, 1)), (len(x), max(n - 1, 0)))], dim=1)
    powers = cumprod(columns, dim=1)
    return powers if increasing else flip(powers, [1])
