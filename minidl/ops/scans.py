"""Scans and orderings along one axis: cumsum, cumprod, cummax, cummin, logcumsumexp,
sort, argsort, topk.

These take PyTorch's ``dim`` (a 0-d tensor is a lane of one element, dim 0 or -1).
``cumsum``, ``cumprod`` and ``logcumsumexp`` read the flattened tensor when dim is
None, as numpy's cumsum does; PyTorch requires dim. Orderings return PyTorch's
``(values, indices)``; the values are x read at the indices, so their gradient
goes back to those places (see ``take_along_dim``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import _floating, _one_dim
from .indexing import take_along_dim
from .reductions import ValuesIndices

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk"]


def _lanes(op: str, x: Tensor, dim: int | None) -> tuple[np.ndarray, int]:
    """x's data with at least one axis, and dim as an axis >= 0 of it (0 when None,
    after flattening)."""
    if dim is None:
        return x._data.reshape(-1), 0
    data = x._data.reshape(1) if x.ndim == 0 else x._data
    return data, _one_dim(op, dim, data.ndim)


def _reverse_cumsum(g: np.ndarray, axis: int) -> np.ndarray:
    """sum over k >= i of g_k, for every i along axis."""
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def cumsum(x: Tensor, dim: int | None = None, *, dtype: Any = None) -> Tensor:
    """y_i = sum over j <= i of x_j along dim;  the vjp is the reversed cumulative sum of g."""
    data, axis = _lanes("cumsum", x, dim)
    out = np.cumsum(data, axis=axis, dtype=dtype)
    return Tensor._make(out.reshape(x.shape) if dim is not None else out, (x,), lambda g: (
        _reverse_cumsum(g.reshape(data.shape), axis).astype(x.dtype, copy=False)
        .reshape(x.shape),))


def cumprod(x: Tensor, dim: int | None = None, *, dtype: Any = None) -> Tensor:
    """y_i = product over j <= i of x_j along dim;  d y_k / d x_i = y_k / x_i for k >= i.

    So the vjp is sum over k >= i of g_k y_k / x_i where x_i != 0. Past a lane's first
    zero z every y_k is 0; at z itself the vjp is y_(z-1) * sum over k >= z of g_k times
    the product of x_(z+1..k), computed lane by lane."""
    data, axis = _lanes("cumprod", x, dim)
    out = np.cumprod(data, axis=axis, dtype=dtype)

    def backward(g: np.ndarray):
        if x._data.size == 0:
            return (np.zeros_like(x._data),)
        g = g.reshape(data.shape)
        xs, ys, gs = (np.moveaxis(a, axis, -1).reshape(-1, data.shape[axis])
                      for a in (data, out, g))
        with np.errstate(invalid="ignore", divide="ignore"):
            grad = _reverse_cumsum(gs * ys, 1) / xs
        for lane in np.flatnonzero((xs == 0).any(axis=1)):
            z = np.flatnonzero(xs[lane] == 0)[0]
            before = ys[lane, z - 1] if z else 1
            after = np.cumprod(np.concatenate([[1], xs[lane, z + 1:]]))
            grad[lane, z:] = 0
            grad[lane, z] = before * np.sum(gs[lane, z:] * after)
        grad = np.moveaxis(grad.reshape(np.moveaxis(data, axis, -1).shape), -1, axis)
        return (grad.astype(x.dtype, copy=False).reshape(x.shape),)
    return Tensor._make(out.reshape(x.shape) if dim is not None else out, (x,), backward)


def _running(op: str, accumulate: np.ufunc, x: Tensor, dim: int) -> ValuesIndices:
    """cummax/cummin: the running extreme and the index where it was last reached (a tie
    takes the later index, as PyTorch's)."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, not {dim!r}")
    data, axis = _lanes(op, x, dim)
    running = accumulate.accumulate(data, axis=axis)
    shape = [1] * data.ndim
    shape[axis] = -1
    positions = np.arange(data.shape[axis]).reshape(shape)
    reached = (data == running) | (np.isnan(data) if data.dtype.kind == "f" else False)
    index = np.maximum.accumulate(np.where(reached, positions, 0), axis=axis)
    values = take_along_dim(x.reshape(data.shape), Tensor(index), axis)
    return ValuesIndices(values.reshape(x.shape), Tensor(index.reshape(x.shape)))


def cummax(x: Tensor, dim: int) -> ValuesIndices:
    """(running max along dim, its index);  the gradient of each value goes to its index."""
    return _running("cummax", np.maximum, x, dim)


def cummin(x: Tensor, dim: int) -> ValuesIndices:
    """(running min along dim, its index);  the gradient of each value goes to its index."""
    return _running("cummin", np.minimum, x, dim)


def logcumsumexp(x: Tensor, dim: int | None = None) -> Tensor:
    """y_i = log sum over j <= i of e^(x_j) along dim (np.logaddexp.accumulate, stable);
    d y_k / d x_i = e^(x_i - y_k) for k >= i.

    The vjp, sum over k >= i of g_k e^(x_i - y_k), is summed in log space, for the positive
    and the negative part of g apart, so that no e^(-y_k) overflows:
    e^(x_i + L+_i) - e^(x_i + L-_i), L+-_i = log sum over k >= i of g+-_k e^(-y_k)."""
    data, axis = _lanes("logcumsumexp", x, dim)
    data = _floating(data)
    out = np.logaddexp.accumulate(data, axis=axis)

    def backward(g: np.ndarray):
        g = g.reshape(data.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts = [np.flip(np.logaddexp.accumulate(np.flip(np.log(part) - out, axis),
                                                     axis=axis), axis)
                     for part in (np.maximum(g, 0), np.maximum(-g, 0))]
            grad = np.exp(data + parts[0]) - np.exp(data + parts[1])
        return (grad.reshape(x.shape),)
    return Tensor._make(out.reshape(x.shape) if dim is not None else out, (x,), backward)


def _order(op: str, x: Tensor, dim: int, descending: bool) -> tuple[np.ndarray, int]:
    """The int64 indices that sort x's lanes along dim (x as at least 1-D), and that axis.

    Stable, NaN last (first when descending): a descending sort is the stable
    ascending sort of the reversed lane, read backwards."""
    data, axis = _lanes(op, x, dim)
    if not descending:
        index = np.argsort(data, axis=axis, kind="stable")
    else:
        index = data.shape[axis] - 1 - np.flip(
            np.argsort(np.flip(data, axis), axis=axis, kind="stable"), axis)
    return index.astype(np.int64, copy=False), axis


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The int64 indices that sort x along dim; NaN sorts as the largest value, and equal
    values keep their order (always stable; ``stable`` is accepted for PyTorch's sake)."""
    return Tensor(_order("argsort", x, dim, descending)[0].reshape(x.shape))


def sort(x: Tensor, dim: int = -1, descending: bool = False,
         stable: bool = False) -> ValuesIndices:
    """(x sorted along dim, the indices it came from);  the gradient goes back to them."""
    index, axis = _order("sort", x, dim, descending)
    if x.ndim == 0:
        return ValuesIndices(x.reshape(()), Tensor(index.reshape(())))
    return ValuesIndices(take_along_dim(x, index, axis), Tensor(index))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> ValuesIndices:
    """The k largest (smallest if not ``largest``) elements along dim and their indices,
    always in sorted order;  the gradient goes back to those places."""
    index, axis = _order("topk", x, dim, descending=largest)
    if not 0 <= k <= index.shape[axis]:
        raise RuntimeError(f"topk: k={k} is out of range for a dimension of size "
                           f"{index.shape[axis]}")
    index = np.take(index, np.arange(k), axis=axis)
    if x.ndim == 0:   # one lane of one element: k is 1 (a 0-d result) or 0
        shape = () if k else (0,)
        return ValuesIndices(take_along_dim(x.reshape(1), index, 0).reshape(shape),
                             Tensor(index.reshape(shape)))
    return ValuesIndices(take_along_dim(x, index, axis), Tensor(index))
