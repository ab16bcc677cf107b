"""Distances and similarities: ``cosine_similarity``, ``pairwise_distance``, ``pdist``
and the ``CosineSimilarity`` and ``PairwiseDistance`` Modules, composed of ops (their
gradients are those ops', as in PyTorch).

    cosine_similarity(x1, x2) = sum_d (x1 / max(|x1|, eps)) (x2 / max(|x2|, eps))
    pairwise_distance(x1, x2) = ||x1 - x2 + eps||_p over the last dimension
    pdist(x)                  = ||x_i - x_j||_p for every pair of rows i < j

The clamp to eps in ``cosine_similarity`` changes the value only: the gradient is the
unclamped norm's, as PyTorch's (which clamps under no_grad).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .module import Module

__all__ = ["cosine_similarity", "pairwise_distance", "pdist", "CosineSimilarity",
           "PairwiseDistance"]


def _as_float(x: Any) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x if x.dtype.kind == "f" else Tensor(x._data, dtype=np.float32)


def _broadcast(op: str, x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    """Both inputs as float Tensors of their common shape; PyTorch's RuntimeError when
    the shapes do not broadcast."""
    x1, x2 = _as_float(x1), _as_float(x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the shapes of x1 {x1.shape} and x2 {x2.shape} do not "
                           f"broadcast") from None
    return ops.broadcast_to(x1, shape), ops.broadcast_to(x2, shape)


def _at_least(x: Tensor, eps: float) -> Tensor:
    """max(x, eps) whose gradient is x's: a clamp that the backward pass does not see."""
    return Tensor._make(np.maximum(x._data, x.dtype.type(eps)), (x,), lambda g: (g,))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along ``dim`` (broadcast first)."""
    x1, x2 = _broadcast("cosine_similarity", x1, x2)
    norm1 = _at_least(ops.norm(x1, 2, dim=dim, keepdim=True), eps)
    norm2 = _at_least(ops.norm(x2, 2, dim=dim, keepdim=True), eps)
    return ops.sum((x1 / norm1) * (x2 / norm2), axis=dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps over the last dimension (broadcast first; of two
    0-d inputs, |x1 - x2 + eps|)."""
    x1, x2 = _broadcast("pairwise_distance", x1, x2)
    return ops.norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between the rows of (N, M) input, pairs (i, j) with i < j in
    row-major order: N (N - 1) / 2 values."""
    x = _as_float(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D (input of shape "
                           f"{x.shape})")
    if not p >= 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got p={p!r}")
    first, second = np.triu_indices(x.shape[0], 1)
    return ops.norm(x[first] - x[second], p, dim=1)


class CosineSimilarity(Module):
    """``cosine_similarity(x1, x2, dim, eps)``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``pairwise_distance(x1, x2, p, eps, keepdim)``."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
