"""Adaptive pooling: max and average over an output_size grid of windows.

The windows cover (H, W): window i spans rows floor(i H / OH) to ceil((i + 1) H / OH) - 1
(columns likewise), so they overlap where OH does not divide H, and repeat rows where
OH > H. Both the mean and the max over such a window are separable: along W, then
along H, each a vectorised gather of the windows, so even an output much larger than
the input (3000 x 3000 from 8 x 8) takes one pass. The max follows PyTorch's rule (the
first of equal maxima, the last NaN) and ``return_indices`` gives the flat index
h W + w of each choice in its input plane. ``weighted_gather``, the mean's step, is
also interpolation's (``resampling.py``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .conv import as_tuple
from .pooling import _Pool, _pool_input

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "weighted_gather", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def _adaptive_sizes(op: str, x: Tensor, output_size: Any, dims: int) -> tuple[int, ...]:
    """The output's spatial size: ints >= 0, None keeping the input's size; checked before
    anything is allocated, and the input's spatial sizes must not be empty."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(sizes) != dims:
        raise TypeError(f"{op}: output_size must be an int or a tuple of {dims}, got "
                        f"{output_size!r}")
    if any(isinstance(s, (int, np.integer)) and s < 0 for s in sizes):
        raise RuntimeError(f"{op}: elements of output_size must be >= 0, got {output_size!r}")
    sizes = tuple(n if s is None else as_tuple("output_size", s, 1, minimum=0)[0]
                  for s, n in zip(sizes, x.shape[-dims:]))
    if 0 in x.shape[-dims:]:
        raise RuntimeError(f"{op}: expected input with non-empty spatial dimensions, got shape "
                           f"{x.shape}")
    return sizes


def _bin_edges(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive pooling's windows along an axis: [floor(i size / out), ceil((i+1) size / out))."""
    i = np.arange(out, dtype=np.int64)
    return i * size // out, -(-(i + 1) * size // out)


def weighted_gather(x: Tensor, axis: int, index: np.ndarray, weight: np.ndarray) -> Tensor:
    """y[..., o, ...] = sum over l of weight[o, l] x[..., index[o, l], ...] along ``axis``
    (index and weight of shape (out, L)): adaptive averaging and resampling along one axis.
    A zero weight skips its element, so that an inf elsewhere does not turn into NaN.

    dL/dx[..., k, ...] = sum over the (o, l) with index[o, l] = k of weight[o, l] g[..., o, ...].

    The sum runs one l at a time on x as rows (in, rest), so that an output much larger
    than the input needs memory for the output and one term, not for L of them; the
    backward adds whole rows, one group of outputs that read the same input row at a time.
    """
    rows = np.moveaxis(x._data, axis, 0)
    rest = rows.shape[1:]
    rows = rows.reshape(rows.shape[0], math.prod(rest))
    weight = weight.astype(x.dtype)
    out = np.zeros((index.shape[0], rows.shape[1]), x.dtype)
    for l in range(index.shape[1]):
        term = rows[index[:, l]]
        term[weight[:, l] == 0] = 0
        term *= weight[:, l, None]
        out += term

    def backward(g: np.ndarray):
        g_rows = np.moveaxis(g, axis, 0).reshape(index.shape[0], rows.shape[1])
        grad = np.zeros(rows.shape, g.dtype)
        for l in range(index.shape[1]):
            # the outputs with a weight, grouped by the input row they read: each group
            # summed as one block of rows (np.add.at and reduceat go an element at a time)
            used = np.flatnonzero(weight[:, l])
            if not used.size:
                continue
            used = used[np.argsort(index[used, l], kind="stable")]
            targets, terms = index[used, l], g_rows[used] * weight[used, l, None]
            bounds = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1], True])
            for start, end in zip(bounds[:-1], bounds[1:]):
                grad[targets[start]] += terms[start:end].sum(axis=0)
        return (np.moveaxis(grad.reshape(grad.shape[0], *rest), 0, axis),)
    return Tensor._make(np.moveaxis(out.reshape(index.shape[0], *rest), 0, axis), (x,), backward)


def _window_weights(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """The adaptive windows along an axis as ``weighted_gather``'s (index, weight): each
    window's positions (the shorter ones padded with weight 0) and 1 / its length."""
    start, end = _bin_edges(size, out)
    length = int((end - start).max()) if out else 1
    index = start[:, None] + np.arange(length)
    inside = index < end[:, None]
    return np.where(inside, index, 0), inside / (end - start)[:, None]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over an output_size grid of windows that cover (H, W): the mean of each
    window along W, then along H (see the module docstring). ``output_size`` 1 is global
    average pooling; None keeps that size."""
    x = _pool_input("adaptive_avg_pool2d", input, integers=False)
    if x.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected input of shape (N, C, H, W) or "
                           f"(C, H, W), got shape {x.shape}")
    oh, ow = _adaptive_sizes("adaptive_avg_pool2d", x, output_size, 2)
    x = weighted_gather(x, x.ndim - 1, *_window_weights(x.shape[-1], ow))
    return weighted_gather(x, x.ndim - 2, *_window_weights(x.shape[-2], oh))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """``adaptive_avg_pool2d`` along the last axis of (N, C, L) or (C, L)."""
    x = _pool_input("adaptive_avg_pool1d", input, integers=False)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d: expected input of shape (N, C, L) or (C, L), "
                           f"got shape {x.shape}")
    (length,) = _adaptive_sizes("adaptive_avg_pool1d", x, output_size, 1)
    y = adaptive_avg_pool2d(ops.reshape(x, *x.shape[:-1], 1, x.shape[-1]), (1, length))
    return ops.reshape(y, *x.shape[:-1], length)


def _max_along(x: np.ndarray, size: int, out: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """The adaptive windows' max along ``axis`` and the position chosen in each window, by
    PyTorch's rule: scanning a window in order, a value replaces the best so far when it
    is larger or NaN (so the first of equal maxima, and the last NaN). The scan runs one
    window offset at a time over all windows, on x as rows (size, rest)."""
    start, end = _bin_edges(size, out)
    rows = np.moveaxis(x, axis, 0)
    rest = rows.shape[1:]
    rows = rows.reshape(size, math.prod(rest))
    best = rows[start]
    position = np.broadcast_to(start[:, None], best.shape).copy()
    for offset in range(1, int((end - start).max()) if out else 0):
        # shorter windows repeat their last element, which changes neither rule's choice
        candidate = np.minimum(start + offset, end - 1)
        value = rows[candidate]
        better = (value > best) | np.isnan(value)
        best = np.where(better, value, best)
        position = np.where(better, candidate[:, None], position)
    return (np.moveaxis(best.reshape(out, *rest), 0, axis),
            np.moveaxis(position.reshape(out, *rest), 0, axis))


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor | tuple[Tensor, Tensor]:
    """The max over an output_size grid of windows covering (H, W) (as ``adaptive_avg_pool2d``);
    with ``return_indices`` also the flat index h W + w of each choice."""
    x = _pool_input("adaptive_max_pool2d", input, integers=False)
    if x.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d: expected input of shape (N, C, H, W) or "
                           f"(C, H, W), got shape {x.shape}")
    height, width = x.shape[-2:]
    oh, ow = _adaptive_sizes("adaptive_max_pool2d", x, output_size, 2)
    row_max, col = _max_along(x._data, width, ow, x.ndim - 1)       # (..., H, OW)
    out, row = _max_along(row_max, height, oh, x.ndim - 2)           # (..., OH, OW)
    index = row * width + np.take_along_axis(col, row, axis=-2)

    def backward(g: np.ndarray):
        # each g to its chosen element, summed where windows overlap: a bincount over
        # the elements' positions in x, plane p's element k at p H W + k
        planes = x.size // (height * width)
        position = index.reshape(planes, oh * ow) + np.arange(planes)[:, None] * (height * width)
        grad = np.bincount(position.ravel(), weights=g.ravel(), minlength=x.size)
        return (grad.astype(g.dtype).reshape(x.shape),)
    y = Tensor._make(out, (x,), backward)
    return (y, Tensor(index.astype(np.int64))) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False
                        ) -> Tensor | tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d`` along the last axis of (N, C, L) or (C, L)."""
    x = _pool_input("adaptive_max_pool1d", input, integers=False)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d: expected input of shape (N, C, L) or (C, L), "
                           f"got shape {x.shape}")
    (length,) = _adaptive_sizes("adaptive_max_pool1d", x, output_size, 1)
    y, index = adaptive_max_pool2d(ops.reshape(x, *x.shape[:-1], 1, x.shape[-1]), (1, length),
                                   return_indices=True)
    y = ops.reshape(y, *x.shape[:-1], length)
    return (y, Tensor(index._data.reshape(y.shape))) if return_indices else y


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed ``output_size``: see ``adaptive_avg_pool2d``."""
    function, settings = staticmethod(adaptive_avg_pool2d), ("output_size",)

    def __init__(self, output_size: Any):
        super().__init__()
        self.output_size = output_size


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling to a fixed length: see ``adaptive_avg_pool1d``."""
    function = staticmethod(adaptive_avg_pool1d)


class AdaptiveMaxPool2d(_Pool):
    """Max pooling to a fixed ``output_size``: see ``adaptive_max_pool2d``."""
    function = staticmethod(adaptive_max_pool2d)
    settings, shown = ("output_size", "return_indices"), ("output_size",)

    def __init__(self, output_size: Any, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling to a fixed length: see ``adaptive_max_pool1d``."""
    function = staticmethod(adaptive_max_pool1d)
