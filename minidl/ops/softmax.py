"""The softmax family, computed from one shifted exponential so nothing overflows."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import Axis, _alias, _expand, _floating, _reduction_axes
from .casts import to

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _exponentials(x: Tensor, axes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """x - c, e = e^(x - c), total = sum of e over axes, and c = max(x) over axes.

    c is taken as 0 where the max is infinite. Every e^(x_i - c) <= 1, so nothing
    overflows, and the shift cancels out of the three ops that share this:
    softmax = e / total, log_softmax = (x - c) - log total, logsumexp = log total + c."""
    data = _floating(x._data)
    peak = np.max(data, axis=axes, keepdims=True, initial=-np.inf)
    peak = np.where(np.isfinite(peak), peak, 0)
    shifted = data - peak
    e = np.exp(shifted)
    return shifted, e, np.sum(e, axis=axes, keepdims=True), peak


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None, dtype: Any = None) -> Tensor:
    """y_i = e^(x_i) / sum_j e^(x_j) along axis, x first cast to ``dtype`` if given;
    the vjp is y * (g - sum_j g_j y_j)."""
    x = x if dtype is None else to(x, dtype)
    axes = _reduction_axes("softmax", axis if dim is None else dim, x.ndim)
    _, e, total, _ = _exponentials(x, axes)
    out = e / total
    return Tensor._make(out, (x,),
                        lambda g: (out * (g - np.sum(g * out, axis=axes, keepdims=True)),))


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None,
                dtype: Any = None) -> Tensor:
    """y_i = x_i - log sum_j e^(x_j) along axis, x first cast to ``dtype`` if given;
    the vjp is g - softmax(x) * sum_j g_j."""
    x = x if dtype is None else to(x, dtype)
    axes = _reduction_axes("log_softmax", axis if dim is None else dim, x.ndim)
    shifted, e, total, _ = _exponentials(x, axes)
    return Tensor._make(shifted - np.log(total), (x,), lambda g: (
        g - e / total * np.sum(g, axis=axes, keepdims=True),))


def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None,
              keepdim: bool = False) -> Tensor:
    """log sum_i e^(x_i) over axis;  d/dx_i = softmax(x)_i."""
    axes = _reduction_axes("logsumexp", _alias("logsumexp", axis, dim), x.ndim)
    keepdims = keepdims or keepdim
    _, e, total, peak = _exponentials(x, axes)
    out = np.log(total) + peak
    return Tensor._make(out if keepdims else np.squeeze(out, axis=axes), (x,),
                        lambda g: (_expand(g, axes, keepdims, x.shape) * (e / total),))
