"""Pooling: max and average over windows, and global (adaptive) average pooling.

For x (N, C, H, W), a window of size (KH, KW), stride (sh, sw) and padding:

    max_pool2d:  y[n, c, i, j] = max over the window at (i sh, j sw) of xp
    avg_pool2d:  y[n, c, i, j] = sum over that window of xp / (KH KW)

where xp is x padded with -inf (max) or zeros (average; the padding counts in the
mean, PyTorch's default ``count_include_pad=True``). The max's gradient goes to
the element each window chose (as PyTorch: the first of equal maxima, and in a
window holding NaN, which gives NaN, the last NaN), the
average's to every element of the window, divided by KH KW. Padding may be at
most half the kernel, so that every window holds a real element. The kernels are
``minidl.kernels.nn.cpu``; 1-d pooling is 2-d pooling of height 1.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .conv import _kernels, as_tuple
from .module import Module

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
           "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _float_tensor(x: Any) -> Tensor:
    """x as a Tensor; integer data and arrays as float32."""
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        x = Tensor(x, dtype=np.float32)
    return x


def _pool2d(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any,
            maximum: bool) -> Tensor:
    """max_pool2d (``maximum``) or avg_pool2d: check, pad, run the kernels, record backward."""
    x = _float_tensor(x)
    if x.ndim == 3:   # one unbatched image
        y = _pool2d(op, ops.reshape(x, 1, *x.shape), kernel_size, stride, padding, maximum)
        return ops.reshape(y, y.shape[1:])
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got shape "
                         f"{x.shape}")
    kernel = as_tuple("kernel_size", kernel_size, 2)
    stride = kernel if stride is None else as_tuple("stride", stride, 2)
    padding = as_tuple("padding", padding, 2, minimum=0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size "
                         f"{kernel}")
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ValueError(f"{op}: kernel_size {kernel} is larger than the padded input "
                         f"{padded} (input of shape {x.shape}, padding {padding})")
    data = x._data
    if any(padding):
        fill = -np.inf if maximum else 0
        data = np.pad(data, [(0, 0), (0, 0), *((p, p) for p in padding)], constant_values=fill)
    data = np.ascontiguousarray(data)
    inside = (slice(None), slice(None), *(slice(p, p + n) for p, n in zip(padding, x.shape[2:])))
    if maximum:
        out, choice = _kernels().max_pool2d(data, kernel, stride)

        def backward(g: np.ndarray):
            return (_kernels().max_pool2d_grad(np.ascontiguousarray(g), choice, padded, kernel,
                                               stride)[inside],)
    else:
        out = _kernels().avg_pool2d(data, kernel, stride)

        def backward(g: np.ndarray):
            return (_kernels().avg_pool2d_grad(np.ascontiguousarray(g), padded, kernel,
                                            stride)[inside],)
    return Tensor._make(out, (x,), backward)


def _pool1d(op: str, x: Any, kernel_size: Any, stride: Any, padding: Any,
            maximum: bool) -> Tensor:
    """The 2-d pooling of x (N, C, L) or (C, L) seen as height 1."""
    x = _float_tensor(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (C, L), got shape "
                         f"{x.shape}")
    y = _pool2d(op, ops.reshape(x, *x.shape[:-1], 1, x.shape[-1]),
                (1, *as_tuple("kernel_size", kernel_size, 1)),
                None if stride is None else (1, *as_tuple("stride", stride, 1)),
                (0, *as_tuple("padding", padding, 1, minimum=0)), maximum)
    return ops.reshape(y, *y.shape[:-2], y.shape[-1])


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """The largest value of each window (stride defaults to kernel_size)."""
    return _pool2d("max_pool2d", input, kernel_size, stride, padding, maximum=True)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """The mean of each window, padding counted (stride defaults to kernel_size)."""
    return _pool2d("avg_pool2d", input, kernel_size, stride, padding, maximum=False)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """``max_pool2d`` along the last axis of (N, C, L)."""
    return _pool1d("max_pool1d", input, kernel_size, stride, padding, maximum=True)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """``avg_pool2d`` along the last axis of (N, C, L)."""
    return _pool1d("avg_pool1d", input, kernel_size, stride, padding, maximum=False)


def _bins(size: int, out: int) -> list[tuple[int, int]]:
    """Adaptive pooling's windows along an axis: [floor(i size / out), ceil((i+1) size / out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over an output_size grid of windows that cover (H, W), as PyTorch:
    window i spans rows floor(i H / OH) to ceil((i + 1) H / OH) - 1 (columns likewise).
    ``output_size`` 1 is global average pooling; a None entry keeps that size."""
    x = _float_tensor(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected input of shape (N, C, H, W) or "
                         f"(C, H, W), got shape {x.shape}")
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"Invalid output_size: {output_size!r} (needs an int or a pair)")
    sizes = tuple(n if s is None else as_tuple("output_size", s, 1)[0]
                  for s, n in zip(sizes, x.shape[-2:]))
    if sizes == (1, 1):
        return ops.mean(x, axis=(-2, -1), keepdims=True)
    cells = [(rows, cols) for rows in _bins(x.shape[-2], sizes[0])
             for cols in _bins(x.shape[-1], sizes[1])]
    out = np.stack([x._data[..., r0:r1, c0:c1].mean(axis=(-2, -1)) for (r0, r1), (c0, c1)
                    in cells], axis=-1).reshape(*x.shape[:-2], *sizes).astype(x.dtype)

    def backward(g: np.ndarray):
        grad = np.zeros_like(x._data)
        flat = g.reshape(*g.shape[:-2], -1)
        for k, ((r0, r1), (c0, c1)) in enumerate(cells):
            grad[..., r0:r1, c0:c1] += (flat[..., k] / ((r1 - r0) * (c1 - c0)))[..., None, None]
        return (grad,)
    return Tensor._make(out, (x,), backward)


class _Pool(Module):
    """What the pooling layers share: kernel_size, stride (default kernel_size), padding."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        dims = 2 if type(self).__name__.endswith("2d") else 1
        as_tuple("kernel_size", kernel_size, dims)
        as_tuple("padding", padding, dims, minimum=0)
        if stride is not None:
            as_tuple("stride", stride, dims)

    def forward(self, input: Tensor) -> Tensor:
        return type(self).pool(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """The largest value of each window of (N, C, H, W) input: see ``max_pool2d``."""
    pool = staticmethod(max_pool2d)


class AvgPool2d(_Pool):
    """The mean of each window of (N, C, H, W) input: see ``avg_pool2d``."""
    pool = staticmethod(avg_pool2d)


class MaxPool1d(_Pool):
    """The largest value of each window of (N, C, L) input: see ``max_pool1d``."""
    pool = staticmethod(max_pool1d)


class AvgPool1d(_Pool):
    """The mean of each window of (N, C, L) input: see ``avg_pool1d``."""
    pool = staticmethod(avg_pool1d)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size``: see ``adaptive_avg_pool2d``."""

    def __init__(self, output_size: Any):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
