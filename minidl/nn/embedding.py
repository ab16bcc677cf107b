"""Embedding: a lookup table of learned vectors, indexed by integers.

    y[..., :] = weight[index[...], :]

Its gradient adds g into the rows that were looked up, once per lookup, so an
index that appears k times in a batch receives the sum of its k gradients (a
scatter-add, not a plain assignment, which would keep only the last): the njit
loop ``minidl.kernels.nn.cpu.embedding_grad``, about 10x faster than
``np.add.at`` on a makemore batch. The row ``padding_idx``, if given, starts at
zero and never receives a gradient.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import init
from .conv import _kernels
from .module import Module, Parameter

__all__ = ["embedding", "Embedding"]


def _padding_index(padding_idx: int | None, num_embeddings: int) -> int | None:
    """padding_idx in [0, num_embeddings) (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if (isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer))
            or not -num_embeddings <= padding_idx < num_embeddings):
        raise ValueError(f"Invalid padding_idx: {padding_idx!r} (needs an int in "
                         f"[-{num_embeddings}, {num_embeddings}))")
    return int(padding_idx) % num_embeddings


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """The rows of weight (num_embeddings, embedding_dim) at the integer ``input``:
    output shape input.shape + (embedding_dim,)."""
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must have shape (num_embeddings, embedding_dim), "
                         f"got shape {weight.shape}")
    index = np.asarray(input._data if isinstance(input, Tensor) else input)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integer indices, not dtype {index.dtype}")
    count = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= count):
        bad = index[(index < 0) | (index >= count)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {count} embeddings "
                         f"(weight of shape {weight.shape}, input of shape {index.shape})")
    padding = _padding_index(padding_idx, count)

    def backward(g: np.ndarray):
        grad = _kernels().embedding_grad(index.reshape(-1).astype(np.int64, copy=False),
                                         g.reshape(-1, weight.shape[1]), count)
        if padding is not None:
            grad[padding] = 0
        return (grad,)
    return Tensor._make(weight._data[index], (weight,), backward)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised from
    N(0, 1) as in PyTorch (the ``padding_idx`` row, if any, to zeros)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype: Any = np.float32):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Invalid {name}: {value!r} (needs a positive int)")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings)
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Any) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
