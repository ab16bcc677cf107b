"""Writes and searches by index, with PyTorch's names: index_add, index_copy, index_fill,
scatter_reduce, masked_scatter, take, put, argwhere, searchsorted, bucketize, unique, isin.

As in indexing.py, a gradient that reads at indices is a scatter-add (``np.add.at``)
and the gradient of a write is g with the overwritten places zeroed. The searches
return int64 (or int32) indices and have no gradient.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import _constant, _one_dim, _tensor_arguments
from .indexing import _data, _indices, _lanes, _mask, nonzero
from .shape import getitem, reshape

__all__ = ["index_add", "index_copy", "index_fill", "scatter_reduce", "masked_scatter", "take",
           "argwhere", "searchsorted", "bucketize", "unique", "isin", "put"]


def _index_slices(op: str, x: Tensor, dim: int, index: Any) -> tuple:
    """The numpy index of the slices of x (as at least 1-D) at the 1-D ``index`` along dim."""
    dim = _one_dim(op, dim, max(x.ndim, 1))
    index = _indices(op, index, x.shape[dim] if x.ndim else 1).reshape(-1)
    return (slice(None),) * dim + (index,)


def _source(op: str, x: Tensor, source: Any, where: tuple) -> Tensor:
    source = _constant(source, x.dtype)
    shape = np.zeros(x.shape or (1,), bool)[where].shape
    if source.shape != shape and not (x.ndim == 0 and source.size == 1):
        raise RuntimeError(f"{op}: source of shape {source.shape} does not fit the "
                           f"{shape} slices it is written to")
    return source


def index_add(x: Tensor, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:
    """A copy of x with alpha * source[i] added to the slice index[i] along dim (repeats add
    up);  d/dx = 1, and source's gradient is alpha * g read at the slices."""
    where = _index_slices("index_add", x, dim, index)
    source = _source("index_add", x, source, where)
    out = np.array(x._data).reshape(x.shape or (1,))
    np.add.at(out, where, (alpha * source._data.reshape(out[where].shape)).astype(x.dtype))
    return Tensor._make(out.reshape(x.shape), (x, source), lambda g: (
        g, (alpha * g.reshape(out.shape)[where]).reshape(source.shape).astype(source.dtype)))


def index_copy(x: Tensor, dim: int, index: Any, source: Any) -> Tensor:
    """A copy of x with source[i] written to the slice index[i] along dim;  x's gradient is g
    with those slices zeroed, source's is g read there."""
    where = _index_slices("index_copy", x, dim, index)
    source = _source("index_copy", x, source, where)
    out = np.array(x._data).reshape(x.shape or (1,))
    out[where] = source._data.reshape(out[where].shape)

    def backward(g: np.ndarray):
        kept = np.array(g).reshape(out.shape)
        read = kept[where].reshape(source.shape)
        kept[where] = 0
        return kept.reshape(x.shape), read
    return Tensor._make(out.reshape(x.shape), (x, source), backward)


def index_fill(x: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of x with the slices at ``index`` along dim set to value;  x's gradient is g with
    them zeroed, a tensor value's is the sum of g over them."""
    where = _index_slices("index_fill", x, dim, index)
    value = _constant(value, x.dtype)
    if value.ndim:
        raise RuntimeError(f"index_fill: value must be a number or 0-d tensor, not of shape "
                           f"{value.shape}")
    out = np.array(x._data).reshape(x.shape or (1,))
    filled = np.zeros(out.shape, bool)
    filled[where] = True
    out[filled] = value._data

    def backward(g: np.ndarray):
        g = g.reshape(out.shape)
        return (np.where(filled, 0, g).reshape(x.shape),
                np.asarray(g[filled].sum(), value.dtype))
    return Tensor._make(out.reshape(x.shape), (x, value), backward)


_REDUCTIONS = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce: str, dtype: np.dtype) -> Any:
    """The value a reduction starts from: 0, 1, or the dtype's lowest (highest) value."""
    if reduce in ("sum", "mean", "prod"):
        return int(reduce == "prod")
    if dtype == np.bool_:
        return reduce == "amin"
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    return np.iinfo(dtype).min if reduce == "amax" else np.iinfo(dtype).max


def scatter_reduce(x: Tensor, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of x where each src[i, j] (for dim=1) is reduced into out[i, index[i, j]] by
    ``reduce``: "sum", "prod", "mean", "amax" or "amin"; with ``include_self=False`` the
    places written to start from the reduction's identity instead of x. "mean" divides by
    the number of values reduced into each place.

    Gradients: "sum" g (x) and g read at index (src); "mean" the same divided by the
    counts; "amax"/"amin" g shared evenly among the values equal to the result (x's value
    too when included), as PyTorch's; "prod" out / value (the values must not be 0)."""
    if reduce not in (*_REDUCTIONS, "mean"):
        raise RuntimeError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or "
                           f"'amin', not {reduce!r}")
    if x.ndim == 0:   # counts as 1-D, its index and src too, as in PyTorch
        _one_dim("scatter_reduce", dim, 1)
        src = reshape(src, -1) if isinstance(src, Tensor) else src
        return reshape(scatter_reduce(reshape(x, 1), 0, np.reshape(_data(index), -1), src,
                                      reduce, include_self=include_self), ())
    dim = _one_dim("scatter_reduce", dim, x.ndim)
    index = _indices("scatter_reduce", index, x.shape[dim])
    lanes = _lanes("scatter_reduce", index, dim, x.shape)
    src = _constant(src, x.dtype)
    values = src._data[tuple(slice(0, n) for n in index.shape)]
    counts = np.zeros(x.shape, np.int64)
    np.add.at(counts, lanes, 1)
    written = counts > 0
    ufunc = _REDUCTIONS["sum" if reduce == "mean" else reduce]
    out = np.array(x._data)
    if not include_self:
        out[written] = _identity(reduce, x.dtype)
    ufunc.at(out, lanes, values)
    divisor = counts + (include_self if reduce == "mean" else 0)
    if reduce == "mean":
        out = np.where(written, out / np.maximum(divisor, 1), out).astype(x.dtype)

    def backward(g: np.ndarray):
        if reduce in ("sum", "mean"):
            scale = g / np.maximum(divisor, 1) if reduce == "mean" else g
            grad_x = np.where(written & (not include_self), 0, scale)
            grad_values = scale[lanes]
        elif reduce == "prod":
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_x = np.where(written & (not include_self), 0, g * out / x._data)
                grad_values = (g * out)[lanes] / values
        else:
            ties = np.zeros(x.shape, x.dtype)
            np.add.at(ties, lanes, values == out[lanes])
            from_x = (x._data == out) & (include_self | ~written)
            share = g / (ties + from_x)
            grad_x, grad_values = np.where(from_x, share, 0), np.where(
                values == out[lanes], share[lanes], 0)
        grad_src = np.zeros(src.shape, src.dtype)
        grad_src[tuple(slice(0, n) for n in index.shape)] = grad_values
        return grad_x.astype(x.dtype), grad_src
    return Tensor._make(out, (x, src), backward)


def masked_scatter(x: Tensor, mask: Any, source: Any) -> Tensor:
    """A copy of x (broadcast with mask) whose places where mask is True take source's first
    elements in order;  x's gradient is g where the mask is False, source's is g at the
    masked places in that order, 0 for the source elements not used."""
    mask = np.broadcast_to(_mask("masked_scatter", mask), np.broadcast_shapes(
        np.shape(_data(mask)), x.shape))
    source = _constant(source, x.dtype)
    k = int(mask.sum())
    if source.size < k:
        raise RuntimeError(f"masked_scatter: source has {source.size} elements, the mask "
                           f"selects {k}")
    out = np.array(np.broadcast_to(x._data, mask.shape))
    out[mask] = source._data.reshape(-1)[:k]

    def backward(g: np.ndarray):
        grad_source = np.zeros(source.size, source.dtype)
        grad_source[:k] = g[mask]
        return unbroadcast(np.where(mask, 0, g), x.shape), grad_source.reshape(source.shape)
    return Tensor._make(out, (x, source), backward)


def take(x: Tensor, index: Any) -> Tensor:
    """x read at ``index`` as if x were 1-D; the result has index's shape."""
    index = _indices("take", index, x.size, negative=True)
    return getitem(reshape(x, -1), index)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input, read as 1-D, with ``source``'s values written at ``index`` (added
    there with ``accumulate``); negative indices count from the end. The gradient is g
    to input (zeroed where written, unless accumulated) and g read at index to source."""
    _tensor_arguments("put", input=input, index=index, source=source)
    index_array = np.asarray(_data(index))
    if index_array.dtype.kind not in "iu":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{index_array.dtype}")
    if index_array.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {index_array.size}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {input.dtype} and source.dtype = {source.dtype}")
    flat = _indices("put_", index_array, input._data.size, negative=True).reshape(-1)
    out = input._data.copy()
    values = source._data.reshape(-1)
    if accumulate:
        np.add.at(out.reshape(-1), flat, values)
    else:
        out.reshape(-1)[flat] = values

    def backward(g: np.ndarray):
        g_input = g
        if input.requires_grad and not accumulate:
            g_input = g.copy()
            g_input.reshape(-1)[flat] = 0
        return g_input, g.reshape(-1)[flat].reshape(source.shape)
    return Tensor._make(out, (input, source), backward)


def argwhere(x: Tensor) -> Tensor:
    """The indices of the non-zero elements, (count, ndim), int64: ``nonzero``."""
    return nonzero(x)


def searchsorted(sorted_sequence: Any, values: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value, the index where it would be inserted into its lane of the sorted
    sequence (the 1-D sequence, or the matching leading lane): before equal entries, or after
    them with ``right`` (``side="right"``). int64, or int32 with ``out_int32``."""
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise RuntimeError(f"searchsorted: side must be 'left' or 'right', not {side!r}")
        right = side == "right"
    sequence = np.asarray(_data(sorted_sequence))
    query = np.asarray(_data(values))
    if sorter is not None:
        sequence = np.take_along_axis(sequence, np.asarray(_data(sorter)), -1)
    side = "right" if right else "left"
    if sequence.ndim <= 1:
        out = np.searchsorted(sequence, query, side)
    else:
        if sequence.shape[:-1] != query.shape[:-1]:
            raise RuntimeError(f"searchsorted: the leading shapes of {sequence.shape} and "
                               f"{query.shape} differ")
        out = np.empty(query.shape, np.int64)
        for lane in np.ndindex(sequence.shape[:-1]):
            out[lane] = np.searchsorted(sequence[lane], query[lane], side)
    return Tensor(np.asarray(out).astype(np.int32 if out_int32 else np.int64))


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value among the 1-D sorted ``boundaries``: ``searchsorted``."""
    if np.ndim(_data(boundaries)) != 1:
        raise RuntimeError("bucketize: boundaries must be 1-D")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unique(x: Any, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
    """The distinct values of x in ascending order (always sorted, as PyTorch on the CPU), or
    the distinct slices along dim; with the inverse (where each element or slice went) and
    the counts, as asked. No gradient."""
    data = np.asarray(_data(x))
    if dim is not None:
        dim = _one_dim("unique", dim, data.ndim)
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True,
                                        axis=dim)
    shape = data.shape if dim is None else (data.shape[dim],)
    out = (Tensor(values, dtype=values.dtype),)
    if return_inverse:
        out += (Tensor(inverse.reshape(shape).astype(np.int64)),)
    if return_counts:
        out += (Tensor(counts.astype(np.int64)),)
    return out[0] if len(out) == 1 else out


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """A bool tensor of elements' shape: whether each element is among test_elements."""
    return Tensor(np.isin(np.asarray(_data(elements)), np.asarray(_data(test_elements)),
                          assume_unique=assume_unique, invert=invert))
