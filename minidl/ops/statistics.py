"""Statistics with PyTorch's names: quantile, nanquantile, mode, kthvalue, diff, cov,
corrcoef, bincount, histc.

The differentiable ones are composed of sort, take_along_dim and arithmetic, so their
gradients are those ops' gradients: a quantile's gradient goes to the one or two
sorted elements it interpolates between, with weights 1 - w and w.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import _constant, _one_dim, _tensor_arguments
from .arithmetic import matmul
from .elementwise import clip, sqrt
from .indexing import take_along_dim
from .casts import to
from .reductions import ValuesIndices, sum
from .scans import cumsum, sort
from .shape import cat, getitem, movedim, reshape, stack, unsqueeze

__all__ = ["quantile", "nanquantile", "mode", "kthvalue", "diff", "cov", "corrcoef",
           "bincount", "histc", "trapezoid", "trapz", "cumulative_trapezoid"]

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(op: str, x: Tensor, q: Any, dim: int | None, keepdim: bool,
              interpolation: str, ignore_nan: bool) -> Tensor:
    """What quantile and nanquantile share. Each lane is sorted (NaN last); the q-quantile
    sits at rank r = q (n - 1) among the n values (the non-NaN ones for nanquantile) and
    is v[floor r] + w (v[ceil r] - v[floor r]), w = r - floor r for "linear", 0 or 1 for
    "lower"/"higher"/"nearest", 1/2 for "midpoint" (when floor r < ceil r)."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: needs a float tensor, not dtype {x.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}: interpolation must be one of {_INTERPOLATIONS}, "
                           f"not {interpolation!r}")
    qs = np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64)
    if qs.ndim > 1 or ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{op}: q must be a number or 1-D tensor in [0, 1], not {q!r}")
    axis = None if dim is None else _one_dim(op, dim, max(x.ndim, 1))
    lanes = reshape(x, -1) if axis is None or x.ndim == 0 else movedim(x, axis, -1)
    if lanes.shape[-1] == 0:
        raise RuntimeError(f"{op}: the input of shape {x.shape} has no elements to reduce")
    ordered = sort(lanes, dim=-1).values
    missing = np.isnan(ordered._data)
    last = lanes.shape[-1] - 1
    if ignore_nan:
        count = np.sum(~missing, axis=-1, keepdims=True)
    else:
        count = np.where(missing.any(axis=-1, keepdims=True), 1, last + 1)
    results = []
    for value in qs.reshape(-1):
        rank = value * (count - 1.0)
        if not ignore_nan:
            rank = np.where(missing.any(axis=-1, keepdims=True), last, rank)
        rank = np.maximum(rank, 0)
        below, above = np.floor(rank).astype(np.int64), np.ceil(rank).astype(np.int64)
        weight = {"linear": rank - below, "lower": 0 * rank, "higher": (above > below) * 1.0,
                  "midpoint": (above > below) * 0.5,
                  "nearest": (np.round(rank) > below) * 1.0}[interpolation]
        low, high = take_along_dim(ordered, below, -1), take_along_dim(ordered, above, -1)
        results.append(low + Tensor(weight.astype(x.dtype), dtype=x.dtype) * (high - low))
    out = results[0] if qs.ndim == 0 else stack(results, 0)
    if not keepdim or x.ndim == 0:
        return out.squeeze(-1)
    if axis is None:
        return reshape(out, out.shape[:-1] + (1,) * x.ndim)
    return movedim(out, -1, axis - x.ndim)


def quantile(x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-quantiles of x along dim (of the flattened x if None); a lane holding NaN gives
    NaN. A 1-D q puts its axis first in the result."""
    return _quantile("quantile", x, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(x: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the non-NaN values of each lane (NaN where a lane has none)."""
    return _quantile("nanquantile", x, q, dim, keepdim, interpolation, ignore_nan=True)


def _picked(x: Tensor, index: np.ndarray, axis: int, keepdim: bool) -> ValuesIndices:
    """(x at ``index``, a kept axis of size 1, and the index), the axis dropped unless
    ``keepdim``: the gradient goes to the picked element."""
    if x.ndim == 0:
        return ValuesIndices(reshape(x, ()), Tensor(np.zeros((), np.int64)))
    values = take_along_dim(x, index, axis)
    if not keepdim:
        values, index = values.squeeze(axis), np.squeeze(index, axis)
    return ValuesIndices(values, Tensor(index))


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """(the most frequent value of each lane, the smallest of them if several are, and the
    index of its last occurrence), PyTorch's CPU choice;  the gradient goes to that index."""
    axis = _one_dim("mode", dim, max(x.ndim, 1))
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"mode: dim {dim} of shape {x.shape} has no elements")
    lanes = np.moveaxis(np.atleast_1d(x._data), axis, -1)
    index = np.empty(lanes.shape[:-1] + (1,), np.int64)
    for lane in np.ndindex(lanes.shape[:-1]):
        values, counts = np.unique(lanes[lane], return_counts=True)   # sorted, NaN last
        value = values[np.argmax(counts)]             # the first of the most frequent
        same = (lanes[lane] == value) | (np.isnan(lanes[lane]) & np.isnan(value))
        index[lane] = np.flatnonzero(same)[-1]
    return _picked(x, np.moveaxis(index, -1, axis), axis, keepdim)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """(the k-th smallest value of each lane, k from 1, and its index);  the gradient goes
    to that index."""
    axis = _one_dim("kthvalue", dim, max(x.ndim, 1))
    n = x.shape[axis] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: k={k} is out of range for a dimension of size {n}")
    order = np.argsort(np.atleast_1d(x._data), axis=axis, kind="stable")
    return _picked(x, np.take(order, [k - 1], axis=axis).astype(np.int64), axis, keepdim)


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """The n-th forward difference along dim, out[i] = x[i + 1] - x[i] applied n times,
    after joining ``prepend`` and ``append``; bool tensors give logical xor, as PyTorch's."""
    axis = _one_dim("diff", dim, x.ndim)
    if n < 0:
        raise RuntimeError(f"diff: n must be >= 0, not {n}")
    parts = [t for t in (prepend, x, append) if t is not None]
    joined = cat(parts, axis) if len(parts) > 1 else x
    lead = (slice(None),) * axis
    for _ in range(n):
        later, earlier = getitem(joined, lead + (slice(1, None),)), getitem(
            joined, lead + (slice(None, -1),))
        if joined.dtype == np.bool_:
            joined = Tensor(later._data ^ earlier._data)
        else:
            joined = later - earlier
    return joined


def _trapezoids(op: str, y: Tensor, x: Any, dx: Any, dim: int) -> tuple[Tensor, int]:
    """The areas of the trapezoids between neighbouring samples of y along dim, and dim
    as an axis >= 0: (y[i] + y[i + 1]) / 2 times the spacing, x[i + 1] - x[i] or dx."""
    _tensor_arguments(op, y=y)
    if x is not None:
        _tensor_arguments(op, y=y, x=x)
    if x is not None and dx is not None:
        raise TypeError(f"{op}: give the sample points x or the spacing dx, not both")
    axis = _one_dim(op, dim, y.ndim)
    y = y if y.dtype.kind == "f" else to(y, np.float32)
    lead, n = (slice(None),) * axis, y.shape[axis]
    pairs = getitem(y, lead + (slice(1, None),)) + getitem(y, lead + (slice(None, max(n - 1, 0)),))
    if x is None:
        return pairs * ((1 if dx is None else dx) / 2), axis
    if x.ndim == 1:
        if len(x) != n:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point: "
                               f"{len(x)} x values for {n} samples along dim {dim}")
        x = reshape(x, [-1 if a == axis else 1 for a in range(y.ndim)])
    return pairs * diff(x, dim=axis) / 2, axis


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The integral of y along dim by the trapezoidal rule: the sum over i of
    (y[i] + y[i + 1]) / 2 * (x[i + 1] - x[i]), or times dx (1 by default) without x; 0 for
    fewer than two samples. Integer y gives float32."""
    areas, axis = _trapezoids("trapezoid", y, x, dx, dim)
    return sum(areas, axis)


trapz = trapezoid   # PyTorch's older name


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoidal integral of y along dim: entry i is ``trapezoid`` of the
    samples 0 .. i + 1, so dim has one entry fewer than y's."""
    areas, axis = _trapezoids("cumulative_trapezoid", y, x, dx, dim)
    return cumsum(areas, axis)


def cov(x: Tensor, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Tensor:
    """The covariance matrix of the variables in x's rows (observations in the columns; a
    1-D x is one variable): C = (x - m) W (x - m)^T / f, with m the weighted mean of each
    row, W = diag(w), w = fweights * aweights (ones if neither), and
    f = sum(w) - correction * sum(w a) / sum(w) (sum(w) - correction without aweights).
    Composed of ops, so the gradient reaches x and float aweights; the result is squeezed,
    so one variable gives a 0-d tensor (PyTorch's)."""
    if x.ndim > 2:
        raise RuntimeError(f"cov: expects a tensor of at most 2 dimensions, not shape {x.shape}")
    rows = reshape(x, 1, -1) if x.ndim < 2 else x
    rows = rows if rows.dtype.kind == "f" else Tensor(rows._data, dtype=np.float32)
    if fweights is not None and np.asarray(getattr(fweights, "_data", fweights)).dtype.kind \
            not in "iu":
        raise RuntimeError("cov: fweights must hold integers (the count of each observation)")
    given = [_constant(w, rows.dtype) for w in (fweights, aweights) if w is not None]
    if any(w.shape != (rows.shape[1],) for w in given):
        raise RuntimeError(f"cov: fweights and aweights must be 1-D with one weight for each "
                           f"of the {rows.shape[1]} observations, not of shapes "
                           f"{[w.shape for w in given]}")
    w = given[0] * given[1] if len(given) == 2 else given[0] if given else \
        Tensor(np.ones(rows.shape[1], rows.dtype), dtype=rows.dtype)
    total = sum(w)
    centred = rows - sum(rows * w, dim=1, keepdim=True) / total
    factor = total - (correction * sum(w * _constant(aweights, rows.dtype)) / total
                      if aweights is not None else correction)
    if factor.item() <= 0:
        warnings.warn(f"cov: correction={correction} leaves no degrees of freedom",
                      RuntimeWarning, stacklevel=2)
        factor = factor * 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return (matmul(centred * w, centred.T) / factor).squeeze()


def corrcoef(x: Tensor) -> Tensor:
    """Pearson's correlation matrix of x's rows: cov(x) / (s s^T), s the rows' standard
    deviations, clipped to [-1, 1] as PyTorch's."""
    c = cov(x)
    if c.ndim == 0:
        return c / c
    s = sqrt(c.diagonal())
    return clip(c / unsqueeze(s, 1) / unsqueeze(s, 0), -1, 1)


def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in the 1-D non-negative integer x (the sum of
    their weights if given); at least ``minlength`` bins. No gradient, as PyTorch's."""
    data = np.asarray(x._data if isinstance(x, Tensor) else x)
    if data.ndim != 1 or data.dtype.kind not in "iu" or (data.size and data.min() < 0):
        raise RuntimeError(f"bincount: needs a 1-D tensor of non-negative integers, not "
                           f"shape {data.shape} of dtype {data.dtype}")
    if weights is None:
        return Tensor(np.bincount(data, minlength=minlength).astype(np.int64))
    w = np.asarray(weights._data if isinstance(weights, Tensor) else weights)
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor(np.bincount(data, w, minlength=minlength).astype(dtype), dtype=dtype)


def histc(x: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of x in ``bins`` equal bins over [min, max] (x's own range when they are
    equal); elements outside are left out, max falls in the last bin. No gradient."""
    data = x._data
    if data.dtype.kind != "f":
        raise RuntimeError(f"histc: needs a float tensor, not dtype {data.dtype}")
    low, high = (float(min), float(max)) if min != max else (
        (float(data.min()), float(data.max())) if data.size else (0.0, 0.0))
    if low == high:
        low, high = low - 1, high + 1
    inside = data[(data >= low) & (data <= high)]
    index = np.minimum(((inside - low) * bins / (high - low)).astype(np.int64), bins - 1)
    return Tensor(np.bincount(index, minlength=bins).astype(data.dtype), dtype=data.dtype)
