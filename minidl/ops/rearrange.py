"""PyTorch's further shape ops, each composed of getitem, reshape, permute, expand, flip
and cat (so each gradient is theirs): narrow, select, unbind, unfold, tile,
tensor_split, hsplit, vsplit, rot90, fliplr, flipud, atleast_1d/2d/3d, broadcast_to,
broadcast_tensors, hstack, vstack, dstack, column_stack; and diag_embed, diagflat.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor
from ._common import _one_dim, _sequence_operands, _shape_arg, _tensor_arguments
from .shape import (_dims, _permuted, cat, diag, expand, flip, getitem, movedim, repeat, reshape,
                    swapaxes)

__all__ = ["narrow", "select", "unbind", "unfold", "tile", "tensor_split", "hsplit", "vsplit",
           "dsplit",
           "rot90", "fliplr", "flipud", "atleast_1d", "atleast_2d", "atleast_3d",
           "broadcast_to", "broadcast_tensors", "hstack", "vstack", "dstack", "column_stack",
           "diag_embed", "diagflat"]


def _along(dim: int, index: Any) -> tuple:
    """The getitem index that applies ``index`` to axis ``dim``."""
    return (slice(None),) * dim + (index,)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice start .. start + length - 1 of x along dim (start may be negative)."""
    if x.ndim == 0:
        raise RuntimeError("narrow: a 0-d tensor has no dimension to narrow")
    dim = _one_dim("narrow", dim, x.ndim)
    n = x.shape[dim]
    start = start + n if -n <= start < 0 else start
    if not (0 <= start <= n and 0 <= length <= n - start):
        raise RuntimeError(f"narrow: start {start} and length {length} do not fit a dimension "
                           f"of size {n}")
    return getitem(x, _along(dim, slice(start, start + length)))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """The slice of x at ``index`` along dim, that axis removed: ``x[:, index]`` for dim 1."""
    dim = _one_dim("select", dim, x.ndim)
    if not -x.shape[dim] <= index < x.shape[dim]:
        raise IndexError(f"select: index {index} is out of range for a dimension of size "
                         f"{x.shape[dim]}")
    return getitem(x, _along(dim, index))


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Every slice of x along dim, as a tuple: ``select(x, dim, i)`` for each i."""
    dim = _one_dim("unbind", dim, x.ndim)
    return tuple(select(x, dim, i) for i in range(x.shape[dim]))


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """The windows of ``size`` elements along ``dimension``, one every ``step``: that axis
    becomes the window count, and a new last axis runs over each window (Tensor.unfold)."""
    dim = _one_dim("unfold", dimension, max(x.ndim, 1))
    data_shape = x.shape if x.ndim else (1,)
    if size < 0 or size > data_shape[dim] or step <= 0:
        raise RuntimeError(f"unfold: size {size} and step {step} do not fit a dimension of "
                           f"size {data_shape[dim]}")
    if x.ndim == 0:   # PyTorch: a 0-d tensor gives its one window, of shape (size,)
        return reshape(x, (1,))[:size]
    starts = np.arange(0, data_shape[dim] - size + 1, step)
    windows = getitem(x, _along(dim, starts[:, None] + np.arange(size)))
    return movedim(windows, dim + 1, -1)


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """x repeated dims[a] times along each axis; fewer dims than axes count as leading 1s."""
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def tensor_split(x: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """x cut along dim into n near-equal pieces (the first n % size one longer), or at the
    given indices; pieces may be empty, unlike ``split``."""
    dim = _one_dim("tensor_split", dim, x.ndim)
    n = x.shape[dim]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"tensor_split: sections must be positive, not {sections}")
        sizes = [n // sections + (i < n % sections) for i in range(sections)]
        bounds = np.cumsum([0] + sizes).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return tuple(getitem(x, _along(dim, slice(a, max(a, b))))
                 for a, b in zip(bounds[:-1], bounds[1:]))


def _even_split(op: str, x: Tensor, sections: Any, dim: int) -> tuple[Tensor, ...]:
    if isinstance(sections, (int, np.integer)) and (sections <= 0 or x.shape[dim] % sections):
        raise RuntimeError(f"{op}: a dimension of size {x.shape[dim]} does not split into "
                           f"{sections} equal parts")
    return tensor_split(x, sections, dim)


def hsplit(x: Tensor, sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along axis 1 (axis 0 of a 1-D x), into equal parts if an int."""
    if x.ndim == 0:
        raise RuntimeError("hsplit: needs a tensor of at least 1 dimension")
    return _even_split("hsplit", x, sections, 1 if x.ndim > 1 else 0)


def vsplit(x: Tensor, sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along axis 0 of an x of at least 2 dimensions."""
    if x.ndim < 2:
        raise RuntimeError(f"vsplit: needs a tensor of at least 2 dimensions, not shape {x.shape}")
    return _even_split("vsplit", x, sections, 0)


def dsplit(x: Tensor, sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along axis 2 of an x of at least 3 dimensions."""
    _tensor_arguments("dsplit", input=x)
    if x.ndim < 3:
        raise RuntimeError(f"dsplit: needs a tensor of at least 3 dimensions, not shape {x.shape}")
    return _even_split("dsplit", x, sections, 2)


def rot90(x: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """x rotated k quarter turns in the plane of ``dims``, from the first axis toward the
    second: a flip and a transpose."""
    if len(dims) != 2 or x.ndim < 2:
        raise RuntimeError(f"rot90: needs two dims and a tensor of at least 2 dimensions, not "
                           f"dims {tuple(dims)} and shape {x.shape}")
    d0, d1 = _dims("rot90", dims, x.ndim)
    if d0 == d1:
        raise RuntimeError(f"rot90: dims {tuple(dims)} name the same axis")
    k %= 4
    if k == 1:
        return swapaxes(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return swapaxes(flip(x, d0), d0, d1)
    return reshape(x, x.shape)


def fliplr(x: Tensor) -> Tensor:
    """x reversed along axis 1 (left-right), for x of at least 2 dimensions."""
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: needs a tensor of at least 2 dimensions, not shape {x.shape}")
    return flip(x, 1)


def flipud(x: Tensor) -> Tensor:
    """x reversed along axis 0 (up-down), for x of at least 1 dimension."""
    if x.ndim < 1:
        raise RuntimeError("flipud: needs a tensor of at least 1 dimension")
    return flip(x, 0)


def _at_least(x: Tensor, ndim: int) -> Tensor:
    """x with axes of size 1 added to reach ``ndim``: (n,) -> (1, n) -> (1, n, 1), numpy's."""
    shape = x.shape
    if len(shape) == 0:
        shape = (1,)
    if len(shape) == 1 and ndim >= 2:
        shape = (1,) + shape
    if len(shape) == 2 and ndim >= 3:
        shape = shape + (1,)
    return reshape(x, shape)


def _each(ndim: int, tensors: tuple) -> Tensor | tuple[Tensor, ...]:
    """atleast_nd of one tensor (a tensor back), or of several or a sequence (a tuple)."""
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = tuple(_at_least(t, ndim) for t in items)
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out


def atleast_1d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least 1 dimension (a 0-d one becomes shape (1,))."""
    return _each(1, tensors)


def atleast_2d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least 2 dimensions: (n,) becomes (1, n)."""
    return _each(2, tensors)


def atleast_3d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least 3 dimensions: (n,) becomes (1, n, 1), (m, n) (m, n, 1)."""
    return _each(3, tensors)


def broadcast_to(x: Tensor, size: Any) -> Tensor:
    """x broadcast to ``size`` (-1 keeps an axis): ``expand``."""
    return expand(x, *_shape_arg((size,)))


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        raise RuntimeError(f"broadcast_tensors: shapes {[t.shape for t in tensors]} do not "
                           f"broadcast together") from None
    return tuple(expand(t, shape) for t in tensors)


def _stackable(op: str, tensors: Sequence[Any]) -> list[Tensor]:
    """The tensors of hstack and its kin; none is PyTorch's RuntimeError."""
    if not len(tensors):
        raise RuntimeError(f"{op}: needs at least one tensor, got an empty sequence")
    return _sequence_operands(op, tensors)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors joined along axis 1 (axis 0 if they are 1-D)."""
    tensors = [_at_least(t, 1) for t in _stackable("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors as at least 2-D, joined along axis 0."""
    return cat([_at_least(t, 2) for t in _stackable("vstack", tensors)], 0)


def dstack(tensors: Sequence[Any]) -> Tensor:
    """The tensors as at least 3-D, joined along axis 2."""
    return cat([_at_least(t, 3) for t in _stackable("dstack", tensors)], 2)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """The tensors as columns: 0-d and 1-D ones become (n, 1), then joined along axis 1."""
    tensors = _stackable("column_stack", tensors)
    return cat([reshape(t, (t.size, 1)) if t.ndim < 2 else t for t in tensors], 1)


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each last-axis vector of x on the ``offset`` diagonal of a square matrix of zeros,
    the matrices' axes at dim1 and dim2 of the result;  the gradient reads that diagonal."""
    n = x.shape[-1] + abs(offset)
    d1, d2 = _dims("diag_embed", (dim1, dim2), x.ndim + 1)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 are the same axis {d1}")
    rows, cols = np.arange(x.shape[-1]) + max(-offset, 0), np.arange(x.shape[-1]) + max(offset, 0)
    out = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
    out[..., rows, cols] = x._data
    inner = Tensor._make(out, (x,), lambda g: (g[..., rows, cols],))
    order = list(range(x.ndim - 1))
    for axis, source in sorted(((d1, x.ndim - 1), (d2, x.ndim))):
        order.insert(axis, source)
    return _permuted(inner, tuple(order))


def diagflat(x: Tensor, offset: int = 0) -> Tensor:
    """The flattened x on the ``offset`` diagonal of a square matrix of zeros."""
    return diag(reshape(x, -1), offset)
