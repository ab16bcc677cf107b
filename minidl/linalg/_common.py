"""What the linear algebra functions share: PyTorch's input checks and its LinAlgError,
the matrix transpose and triangular substitution (an op with several outputs:
``ops._common._several_outputs``)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops import swapaxes
from ..tensor import Tensor

# PyTorch's names of the dtypes that torch.linalg refuses, for its messages.
_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool", "float16": "Half"}


class LinAlgError(RuntimeError):
    """A matrix the function cannot factor: singular (inv, solve) or not positive-definite
    (cholesky). A RuntimeError, as ``torch.linalg.LinAlgError``."""


def constant(array: np.ndarray) -> Tensor:
    """A result without gradient (info, rank, sign, I) as a Tensor of the array's dtype."""
    return Tensor(array, dtype=array.dtype)


def float_input(op: str, x: Any, half: bool = False) -> Tensor:
    """x as a float32 or float64 Tensor, or float16 if ``half``; anything else (integers,
    bool, float16 unless ``half``) is refused with PyTorch's RuntimeError."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype == np.float16 and not half:
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {_TORCH_NAMES.get(x.dtype.name, x.dtype.name)}")
    return x


def matrices(op: str, x: Any, name: str = "A", square: bool = True,
             half: bool = False) -> Tensor:
    """x as a float Tensor of matrices (*, m, n), square ones unless ``square=False``
    (float16 too if ``half``)."""
    x = float_input(op, x, half)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    return x


def same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of "
                           f"type {a.dtype} and B of type {b.dtype} instead.")


def mT(a: np.ndarray) -> np.ndarray:
    """The transpose of each matrix in a stack."""
    return np.swapaxes(a, -1, -2)


def transposed(x: Tensor) -> Tensor:
    """The transpose of each matrix in a stack of Tensors, an op with its gradient."""
    return swapaxes(x, -1, -2)


def batch_label(index: int, batched: bool) -> str:
    """PyTorch's "(Batch element i): " before the message about one matrix of a stack."""
    return f"(Batch element {index}): " if batched else ""


def substitute(t: np.ndarray, b: np.ndarray, upper: bool) -> np.ndarray:
    """X with T X = B for triangular T (*, n, n) and B (*, n, k), the batch dimensions
    broadcast: back substitution (forward for lower T), row by row,

        x_i = (b_i - sum_{j on the solved side of i} t_ij x_j) / t_ii,

    so a zero on the diagonal gives inf or nan, as LAPACK's trsm (no error)."""
    batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = np.broadcast_to(t, batch + t.shape[-2:])
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(t, b))
    n = t.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            solved = slice(i + 1, n) if upper else slice(0, i)
            x[..., i, :] -= np.einsum("...j,...jk->...k", t[..., i, solved], x[..., solved, :])
            x[..., i, :] /= t[..., i, i, None]
    return x


def lu_info(a: np.ndarray) -> np.ndarray:
    """LAPACK getrf's info for each matrix of a stack (int32, the batch shape): 1 + the
    index of the first exactly zero pivot of the LU factorisation with partial pivoting,
    0 where there is none (the matrix is invertible)."""
    n = a.shape[-1]
    lu = np.array(a.reshape(math.prod(a.shape[:-2]), n, n))
    rows = np.arange(len(lu))
    info = np.zeros(len(lu), dtype=np.int32)
    for k in range(n):
        pivot_row = k + np.argmax(np.abs(lu[:, k:, k]), axis=1)
        lu[rows, k], lu[rows, pivot_row] = lu[rows, pivot_row], lu[rows, k].copy()
        pivot = lu[:, k, k]
        info[(info == 0) & (pivot == 0)] = k + 1
        factors = np.divide(lu[:, k + 1:, k], pivot[:, None], where=pivot[:, None] != 0,
                            out=np.zeros_like(lu[:, k + 1:, k]))
        lu[:, k + 1:, k:] -= factors[:, :, None] * lu[:, None, k, k:]
    return info.reshape(a.shape[:-2])
