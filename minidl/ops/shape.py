"""Shape and indexing: reshape, transpose, flatten, getitem, concatenate, stack."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor
from ._common import _axes, _sequence_operands, _shape_arg

__all__ = ["reshape", "transpose", "flatten", "getitem", "concatenate", "stack"]


def reshape(x: Tensor, *shape: int) -> Tensor:
    """x with a new shape (one entry may be -1);  the gradient is g reshaped back."""
    shape = _shape_arg(shape)
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"into shape {shape}") from None
    return Tensor._make(out, (x,), lambda g: (g.reshape(x.shape),))


def transpose(x: Tensor, *axes: int) -> Tensor:
    """x with its axes permuted (reversed when none are given);  the gradient is g
    permuted by the inverse permutation. As numpy's ``transpose``, ``axes`` is the
    new order of all the axes, not two axes to swap (torch's ``transpose(0, 1)``)."""
    axes = _shape_arg(axes)
    if not axes:   # all axes reversed: its own inverse
        return Tensor._make(x.data.T, (x,), lambda g: (g.T,))
    if len(_axes("transpose", axes, x.ndim)) != x.ndim:
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} "
                         f"axes of shape {x.shape}")
    axes = tuple(int(a) % x.ndim for a in axes)
    inverse = tuple(np.argsort(axes))
    return Tensor._make(x.data.transpose(axes), (x,), lambda g: (g.transpose(inverse),))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions start_dim..end_dim (inclusive) merged into one, as torch.flatten."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _axes("flatten", start_dim, x.ndim)[0], _axes("flatten", end_dim, x.ndim)[0]
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for shape {x.shape}")
    return reshape(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def _plain_index(index: Any) -> Any:
    """Tensors inside an index (masks, integer arrays) as their numpy arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index] with numpy's indexing (ints, slices, None, ..., bool masks, integer
    arrays);  the gradient scatters g back, adding up repeated indices (np.add.at)."""
    index = _plain_index(index)
    out = x.data[index]

    def backward(g: np.ndarray):
        grad = np.zeros_like(x.data)
        np.add.at(grad, index, g)
        return (grad,)
    return Tensor._make(out, (x,), backward)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along an existing axis;  each gets its slice of g."""
    tensors = _sequence_operands("concatenate", tensors)
    axis = _axes("concatenate", axis, tensors[0].ndim)[0]
    shapes = [t.shape for t in tensors]
    if len({s[:axis] + s[axis + 1:] for s in shapes}) > 1 or len({len(s) for s in shapes}) > 1:
        raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    ends = np.cumsum([s[axis] for s in shapes])[:-1]
    return Tensor._make(np.concatenate([t.data for t in tensors], axis=axis), tuple(tensors),
                        lambda g: tuple(np.split(g, ends, axis=axis)))


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along a new axis;  each gets its slice g[..., i, ...]."""
    tensors = _sequence_operands("stack", tensors)
    shapes = [t.shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all shapes must be equal, got {shapes}")
    axis = _axes("stack", axis, tensors[0].ndim + 1)[0]
    return Tensor._make(np.stack([t.data for t in tensors], axis=axis), tuple(tensors),
                        lambda g: tuple(np.moveaxis(g, axis, 0)))
