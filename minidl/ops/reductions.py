"""Reductions over axes: sum, mean, max, min, var."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..tensor import Tensor
from ._common import Axis, _axes, _count, _expand, _float_dtype, _floating

__all__ = ["sum", "mean", "max", "min", "var"]


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """sum of x over axis;  d/dx_i = 1."""
    axes = _axes("sum", axis, x.ndim)
    return Tensor._make(np.sum(x.data, axis=axes, keepdims=keepdims), (x,),
                        lambda g: (_expand(g, axes, keepdims, x.shape),))


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """sum of x over axis / n, n the count of summed elements;  d/dx_i = 1 / n."""
    axes = _axes("mean", axis, x.ndim)
    data = _floating(x.data)
    n = _count(x.shape, axes)
    return Tensor._make(np.sum(data, axis=axes, keepdims=keepdims) / n, (x,),
                        lambda g: (_expand(g / n, axes, keepdims, x.shape),))


def _extreme(op: str, reduce: Callable, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    """max/min: the gradient is split evenly among the elements that tie for the extreme."""
    axes = _axes(op, axis, x.ndim)
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: a tensor of shape {x.shape} has no elements "
                         f"to reduce over axis {axis}")
    extreme = reduce(x.data, axis=axes, keepdims=True)

    def backward(g: np.ndarray):
        winners = x.data == extreme
        share = winners / np.sum(winners, axis=axes, keepdims=True, dtype=_float_dtype(x.data))
        return (_expand(g, axes, keepdims, x.shape) * share,)
    return Tensor._make(extreme if keepdims else np.squeeze(extreme, axis=axes), (x,), backward)


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """max of x over axis;  d/dx_i = 1 / k for each of the k elements that equal the max, else 0."""
    return _extreme("max", np.max, x, axis, keepdims)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """min of x over axis;  d/dx_i = 1 / k for each of the k elements that equal the min, else 0."""
    return _extreme("min", np.min, x, axis, keepdims)


def var(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """sum (x_i - mean)^2 / (n - ddof) over axis;  d/dx_i = 2 (x_i - mean) / (n - ddof).

    numpy's convention: ``ddof=0`` (the default) is the biased, population
    variance; ``ddof=1`` the unbiased sample variance (torch's default)."""
    axes = _axes("var", axis, x.ndim)
    n = _count(x.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {n} elements")
    data = _floating(x.data)
    centred = data - np.mean(data, axis=axes, keepdims=True)
    out = np.sum(centred**2, axis=axes, keepdims=keepdims) / (n - ddof)
    return Tensor._make(out, (x,), lambda g: (
        _expand(g, axes, keepdims, x.shape) * centred * (2 / (n - ddof)),))
