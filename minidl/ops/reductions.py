"""Reductions over axes: sum, mean, max, min, var, std, prod, argmax, argmin, median, and
PyTorch's amax, amin, aminmax, count_nonzero, nansum, nanmean, var_mean, std_mean.

Every reduction takes numpy's ``axis=``/``keepdims=`` and PyTorch's ``dim=``/
``keepdim=`` as aliases. A 0-d tensor reduces over axis 0 or -1, as in PyTorch.
``max``, ``min`` and ``median`` given ``dim=`` return PyTorch's
``(values, indices)`` pair, the gradient going to the index; given ``axis=``
(or positionally) they return the values alone, numpy's way.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, NamedTuple

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import (Axis, _alias, _count, _expand, _float_dtype, _floating, _reduction_axes,
                      _shape_arg, _tensor_arguments)
from .casts import to
from .elementwise import maximum, minimum, where
from .indexing import take_along_dim

__all__ = ["sum", "mean", "max", "min", "var", "std", "prod", "argmax", "argmin", "median",
           "amax", "amin", "aminmax", "count_nonzero", "nansum", "nanmean", "var_mean",
           "std_mean", "sum_to_size"]


class MinMax(NamedTuple):
    """PyTorch's return of aminmax."""
    min: Tensor
    max: Tensor


class ValuesIndices(NamedTuple):
    """PyTorch's return of max/min/median(dim=), sort, topk, cummax, cummin."""
    values: Tensor
    indices: Tensor


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
        keepdim: bool = False, dtype: Any = None) -> Tensor:
    """sum of x over axis, accumulated in ``dtype`` if given;  d/dx_i = 1."""
    axes = _reduction_axes("sum", _alias("sum", axis, dim), x.ndim)
    keepdims = keepdims or keepdim
    if dtype is None:
        return Tensor._make(np.sum(x._data, axis=axes, keepdims=keepdims), (x,),
                            lambda g: (_expand(g, axes, keepdims, x.shape),))
    return Tensor._make(np.sum(x._data, axis=axes, keepdims=keepdims, dtype=dtype), (x,),
                        lambda g: (_expand(g.astype(x.dtype), axes, keepdims, x.shape),))


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
         keepdim: bool = False, dtype: Any = None) -> Tensor:
    """sum of x over axis / n, n the count of summed elements, x first cast to ``dtype`` if
    given;  d/dx_i = 1 / n. An integer x gives float32 (PyTorch refuses it)."""
    x = x if dtype is None else to(x, dtype)
    axes = _reduction_axes("mean", _alias("mean", axis, dim), x.ndim)
    keepdims = keepdims or keepdim
    data = _floating(x._data)
    n = _count(x.shape, axes)
    return Tensor._make(np.sum(data, axis=axes, keepdims=keepdims) / n, (x,),
                        lambda g: (_expand(g / n, axes, keepdims, x.shape),))


def _extreme(op: str, reduce: Callable, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    """max/min: the gradient is split evenly among the elements that tie for the extreme."""
    axes = _reduction_axes(op, axis, x.ndim)
    if any(x.shape[a] == 0 for a in axes):   # PyTorch: IndexError when the dim is named
        raise (RuntimeError if axis is None else IndexError)(
            f"{op}: a tensor of shape {x.shape} has no elements to reduce over axis {axis}")
    return _shared(x, reduce(x._data, axis=axes, keepdims=True), axes, keepdims)


def _shared(x: Tensor, chosen: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    """``chosen`` (one of x's values per lane, kept dims) as an output whose gradient is
    split evenly among the elements equal to it, NaN counting as equal to NaN."""
    def backward(g: np.ndarray):
        winners = x._data == chosen
        if x.dtype.kind == "f" and np.isnan(chosen).any():
            winners |= np.isnan(x._data) & np.isnan(chosen)
        share = winners / np.sum(winners, axis=axes, keepdims=True, dtype=_float_dtype(x._data))
        return (_expand(g, axes, keepdims, x.shape) * share,)
    return Tensor._make(chosen if keepdims else np.squeeze(chosen, axis=axes), (x,), backward)


def _selected(x: Tensor, index: np.ndarray, dim: int, keepdim: bool) -> ValuesIndices:
    """(x at ``index`` along dim, index): ``index`` keeps dim with size 1."""
    values = take_along_dim(x, Tensor(index), dim) if x.ndim else x.reshape(())
    if not keepdim and x.ndim:
        values, index = values.squeeze(dim), np.squeeze(index, axis=dim)
    return ValuesIndices(values, Tensor(index))


def _one_axis(op: str, axis: Any, ndim: int) -> tuple[int | None]:
    """The one axis an op takes, as (axis,), or (None,) for a 0-d tensor's axis 0 or -1."""
    axes = _reduction_axes(op, axis, ndim)
    if len(axes) > 1 or (ndim and not axes):
        raise TypeError(f"{op}: dim must be one int, not {axis!r}")
    return axes or (None,)


def _arg_extreme(op: str, pick: Callable, x: Tensor, axis: Axis, keepdims: bool) -> np.ndarray:
    """argmax/argmin as an int64 array; axis None searches the flattened tensor."""
    if axis is None:
        if x._data.size == 0:
            raise RuntimeError(f"{op}: a tensor of shape {x.shape} has no elements")
        return np.asarray(pick(x._data, keepdims=keepdims), dtype=np.int64)
    (a,) = _one_axis(op, axis, x.ndim)
    if a is None:   # a 0-d tensor
        return np.zeros((), dtype=np.int64)
    if x.shape[a] == 0:
        raise RuntimeError(f"{op}: a tensor of shape {x.shape} has no elements along axis {axis}")
    return pick(x._data, axis=a, keepdims=keepdims).astype(np.int64, copy=False)


def max(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: int | None = None,
        keepdim: bool = False) -> Tensor | ValuesIndices:
    """max of x over axis;  d/dx_i = 1 / k for each of the k elements that equal the max, else 0.

    With ``dim=`` (PyTorch): ``(values, indices)``, the first maximum's index
    along dim, which alone gets the gradient. Given a tensor for axis, PyTorch's
    ``max(x, other)``: the elementwise ``maximum``."""
    if isinstance(axis, Tensor):
        return maximum(x, axis)
    if dim is None:
        return _extreme("max", np.max, x, axis, keepdims or keepdim)
    index = _arg_extreme("max", np.argmax, x, _alias("max", axis, dim), True)
    return _selected(x, index, dim, keepdims or keepdim)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: int | None = None,
        keepdim: bool = False) -> Tensor | ValuesIndices:
    """min of x over axis;  d/dx_i = 1 / k for each of the k elements that equal the min, else 0.

    With ``dim=`` (PyTorch): ``(values, indices)``, as ``max``; ``min(x, other)`` is the
    elementwise ``minimum``."""
    if isinstance(axis, Tensor):
        return minimum(x, axis)
    if dim is None:
        return _extreme("min", np.min, x, axis, keepdims or keepdim)
    index = _arg_extreme("min", np.argmin, x, _alias("min", axis, dim), True)
    return _selected(x, index, dim, keepdims or keepdim)


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False, *,
           dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum along axis (of the flattened tensor if None); int64, no grad."""
    return Tensor(_arg_extreme("argmax", np.argmax, x, _alias("argmax", axis, dim),
                               keepdims or keepdim))


def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False, *,
           dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum along axis (of the flattened tensor if None); int64, no grad."""
    return Tensor(_arg_extreme("argmin", np.argmin, x, _alias("argmin", axis, dim),
                               keepdims or keepdim))


def _median_index(data: np.ndarray, axis: int) -> np.ndarray:
    """The index of the lower median along axis (kept as size 1), or of the first NaN."""
    order = np.argsort(data, axis=axis, kind="stable")
    index = np.take(order, [(data.shape[axis] - 1) // 2], axis=axis)
    if data.dtype.kind == "f":
        nan = np.isnan(data)
        index = np.where(nan.any(axis=axis, keepdims=True),
                         np.argmax(nan, axis=axis, keepdims=True), index)
    return index


def median(x: Tensor, axis: int | None = None, keepdims: bool = False, *,
           dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """The lower median along axis, PyTorch's: element (n - 1) // 2 in sorted order, NaN if the
    lane holds one. Not numpy's mean of the two middles. The gradient goes to that element;
    over the whole tensor (axis None) it is split among the elements equal to it, as max's.

    With ``dim=``: ``(values, indices)``; otherwise the values alone."""
    axis = _alias("median", axis, dim)
    if axis is None:
        if x._data.size == 0:
            raise RuntimeError(f"median: a tensor of shape {x.shape} has no elements")
        flat = x._data.reshape(-1)
        chosen = flat[_median_index(flat, 0)].reshape((1,) * x.ndim)
        return _shared(x, chosen, tuple(range(x.ndim)), keepdims)
    (a,) = _one_axis("median", axis, x.ndim)
    if a is None:
        index = np.zeros((), dtype=np.int64)
    elif x.shape[a] == 0:
        raise RuntimeError(f"median: a tensor of shape {x.shape} has no elements along "
                           f"axis {axis}")
    else:
        index = _median_index(x._data, a)
    selected = _selected(x, index, a if a is not None else 0, keepdims or keepdim)
    return selected if dim is not None else selected.values


def _moments(op: str, x: Tensor, axis: Axis, keepdims: bool, ddof: int | None,
             correction: int | None, unbiased: bool | None) -> tuple:
    """What var and std share: axes, x - mean, sum of squares and the divisor n - ddof.

    The divisor is max(0, n - ddof), as PyTorch's: with no degrees of freedom
    left the result is nan (or inf) and a RuntimeWarning says why."""
    if isinstance(axis, bool):   # PyTorch's var(x, unbiased) overload
        axis, unbiased = None, axis if unbiased is None else unbiased
    given = {k: v for k, v in (("ddof", ddof), ("correction", correction),
                               ("unbiased", unbiased)) if v is not None}
    if len(given) > 1:
        raise TypeError(f"{op}: give one of ddof, correction and unbiased, not {given}")
    ddof = correction if ddof is None else ddof
    if unbiased is not None:
        ddof = int(bool(unbiased))
    ddof = 0 if ddof is None else ddof
    axes = _reduction_axes(op, axis, x.ndim)
    n = _count(x.shape, axes)
    divisor = n - ddof
    if divisor <= 0:
        warnings.warn(f"{op}: correction={ddof} leaves no degrees of freedom for {n} elements; "
                      f"the result is nan or inf", RuntimeWarning, stacklevel=3)
        divisor = 0
    data = _floating(x._data)
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = data - np.mean(data, axis=axes, keepdims=True) if n else data
    squares = np.sum(centred**2, axis=axes, keepdims=keepdims)
    return axes, centred, squares, np.asarray(divisor, dtype=data.dtype)


def var(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int | None = None, *,
        correction: int | None = None, unbiased: bool | None = None, dim: Axis = None,
        keepdim: bool = False) -> Tensor:
    """sum (x_i - mean)^2 / (n - ddof) over axis;  d/dx_i = 2 (x_i - mean) / (n - ddof).

    ``ddof`` (numpy's name) and ``correction`` (PyTorch's) are the same number;
    PyTorch's older ``unbiased=True``/``False`` means correction 1/0.
    The default is numpy's 0, the biased population variance, as minidl always had;
    PyTorch's default is 1, the unbiased sample variance: pass ``correction=1``."""
    keepdims = keepdims or keepdim
    axes, centred, squares, divisor = _moments("var", x, _alias("var", axis, dim), keepdims,
                                               ddof, correction, unbiased)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = squares / divisor

    def backward(g: np.ndarray):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (_expand(g, axes, keepdims, x.shape) * centred * (2 / divisor),)
    return Tensor._make(out, (x,), backward)


def std(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int | None = None, *,
        correction: int | None = None, unbiased: bool | None = None, dim: Axis = None,
        keepdim: bool = False) -> Tensor:
    """sqrt(var(x));  d/dx_i = (x_i - mean) / ((n - ddof) std), taken as 0 where std is 0
    (PyTorch's choice). Defaults as ``var`` (ddof=0)."""
    keepdims = keepdims or keepdim
    axes, centred, squares, divisor = _moments("std", x, _alias("std", axis, dim), keepdims,
                                               ddof, correction, unbiased)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(squares / divisor)

    def backward(g: np.ndarray):
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.divide(g, divisor * out, out=np.zeros_like(out), where=out != 0)
        return (_expand(scale, axes, keepdims, x.shape) * centred,)
    return Tensor._make(out, (x,), backward)


def prod(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
         keepdim: bool = False, dtype: Any = None) -> Tensor:
    """product of x over axis;  d/dx_i = product of the other x_j in its lane.

    The product of the others is computed as (product before i) * (product after i),
    two cumulative products, so zeros in x give exact gradients (no division)."""
    axes = _reduction_axes("prod", _alias("prod", axis, dim), x.ndim)
    keepdims = keepdims or keepdim
    out = np.prod(x._data, axis=axes, keepdims=keepdims, dtype=dtype)

    def backward(g: np.ndarray):
        if x._data.size == 0:
            return (np.zeros_like(x._data),)
        kept = x.ndim - len(axes)
        lanes = np.moveaxis(x._data, axes, range(kept, x.ndim))
        flat = lanes.reshape(lanes.shape[:kept] + (-1,))
        ones = np.ones_like(flat[..., :1])
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = np.moveaxis((before * after).reshape(lanes.shape), range(kept, x.ndim), axes)
        return (_expand(g.astype(x.dtype, copy=False), axes, keepdims, x.shape) * others,)
    return Tensor._make(out, (x,), backward)


# -- PyTorch's reductions beyond numpy's names --------------------------------------
def amax(x: Tensor, dim: Axis = (), keepdim: bool = False) -> Tensor:
    """max over ``dim`` (every axis for the default ()), the values alone;  the gradient is
    split evenly among the elements that tie for the max, as PyTorch's."""
    return _extreme("amax", np.max, x, _alias("amax", None, dim), keepdim)


def amin(x: Tensor, dim: Axis = (), keepdim: bool = False) -> Tensor:
    """min over ``dim`` (every axis for the default ()), as ``amax``."""
    return _extreme("amin", np.min, x, _alias("amin", None, dim), keepdim)


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """(amin, amax) over one dim or every axis, as PyTorch's named pair (min, max)."""
    return MinMax(amin(x, () if dim is None else dim, keepdim),
                  amax(x, () if dim is None else dim, keepdim))


def count_nonzero(x: Tensor, dim: Axis = None) -> Tensor:
    """The number of non-zero elements over dim (all if None), int64; no gradient."""
    axes = _reduction_axes("count_nonzero", _alias("count_nonzero", None, dim), x.ndim)
    return Tensor(np.count_nonzero(x._data, axis=axes).astype(np.int64))


def nansum(x: Tensor, dim: Axis = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """sum over dim with NaN counted as 0;  d/dx_i = 1, 0 at a NaN."""
    present = where(np.isnan(x._data), 0, x) if x.dtype.kind == "f" else x
    return sum(present, dim=dim, keepdim=keepdim, dtype=dtype)


def nanmean(x: Tensor, dim: Axis = None, keepdim: bool = False) -> Tensor:
    """The mean of the non-NaN elements over dim (nan where there are none);
    d/dx_i = 1 / n, n the count of non-NaN elements in x_i's lane, 0 at a NaN."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"nanmean: needs a float tensor, not dtype {x.dtype}")
    axes = _reduction_axes("nanmean", _alias("nanmean", None, dim), x.ndim)
    count = np.sum(~np.isnan(x._data), axis=axes, keepdims=keepdim, dtype=x.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return nansum(x, dim=axes, keepdim=keepdim) / Tensor(count, dtype=x.dtype)


def _spread_mean(op: str, spread: Callable, x: Tensor, dim: Any, correction: int | None,
                 unbiased: bool | None, keepdim: bool) -> tuple[Tensor, Tensor]:
    """(spread, mean) over dim with PyTorch's default correction of 1; ``unbiased``, or a
    bool in dim's place (PyTorch's older overload), chooses 1 or 0."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: give correction or unbiased, not both")
        correction = int(unbiased)
    correction = 1 if correction is None else correction
    return (spread(x, dim=dim, correction=correction, keepdim=keepdim),
            mean(x, dim=dim, keepdim=keepdim))


def var_mean(x: Tensor, dim: Axis = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: int | None = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over dim, with PyTorch's default correction=1 (the unbiased variance)."""
    return _spread_mean("var_mean", var, x, dim, correction, unbiased, keepdim)


def std_mean(x: Tensor, dim: Axis = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: int | None = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over dim, with PyTorch's default correction=1."""
    return _spread_mean("std_mean", std, x, dim, correction, unbiased, keepdim)


def sum_to_size(x: Tensor, *size: Any) -> Tensor:
    """x summed down to ``size``, a shape that broadcasts to x's (the adjoint of
    ``expand``): over the leading axes size lacks and where size has a 1; the gradient is
    g expanded back. As in PyTorch, x itself when size is its shape, and bool and
    integer tensors sum in int64 (as ``sum``)."""
    _tensor_arguments("sum_to_size", input=x)
    size = tuple(_shape_arg(size))
    trailing = x.shape[x.ndim - len(size):] if size else ()
    if len(size) > x.ndim or any(s not in (n, 1) for s, n in zip(size, trailing)):
        raise RuntimeError(f"sum_to_size: size {{{list(size)}}} is not expandable to size "
                           f"{{{list(x.shape)}}}.")
    if size == x.shape:
        return x
    dtype = np.int64 if x.dtype.kind in "biu" else x.dtype
    out = unbroadcast(x._data.astype(dtype, copy=False), size)
    return Tensor._make(out, (x,), lambda g: (np.broadcast_to(g, x.shape),))
