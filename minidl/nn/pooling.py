"""Pooling: max and average over windows, and their inverse ``max_unpool``.

For x (N, C, H, W), a window of size (KH, KW), stride (sh, sw), padding and, for
max pooling, dilation (dh, dw):

    max_pool2d:  y[n, c, i, j] = max over p, q of xp[n, c, i sh + p dh, j sw + q dw]
    avg_pool2d:  y[n, c, i, j] = sum over the window of xp / divisor[i, j]

where xp is x padded with -inf (max; the smallest integer for integer input) or zeros
(average). Along an axis of size n with padding pad the output has

    out = floor((n + 2 pad - d (k - 1) - 1) / s) + 1     (ceil instead with ``ceil_mode``)

positions; with ``ceil_mode`` the last window may run past the padding, but must
start inside the input or the left padding (PyTorch's rule). The average's divisor is
KH KW, the part of the window inside the padded input when ``ceil_mode`` cuts it,
the count of real elements with ``count_include_pad=False``, or ``divisor_override``.
Integer input keeps its dtype, its average truncated toward zero, as in PyTorch.

The max's gradient goes to the element each window chose (as PyTorch: the first of
equal maxima, and in a window holding NaN, which gives NaN, the last NaN),
``return_indices`` gives that element's flat index h W + w in its input plane, and
``max_unpool2d`` puts each value back at its index. Padding may be at most half the
(dilated) kernel, so that every window holds a real element. The kernels are
``minidl.kernels.nn.cpu``; 1-d pooling is 2-d pooling of height 1.

The power-average pooling ``lp_pool2d`` is the p-norm of each window,

    y = (sum over the window of x^p) ^ (1 / p)

computed as PyTorch computes it, from ``avg_pool2d`` of x^p times the window's size
(so its gradient is theirs). Adaptive pooling is in ``adaptive_pooling.py``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .conv import _kernels, as_tuple
from .module import Module

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "max_unpool1d",
           "max_unpool2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "MaxUnpool1d",
           "MaxUnpool2d", "lp_pool1d", "lp_pool2d", "LPPool1d", "LPPool2d"]


def _pool_input(op: str, x: Any, integers: bool = True) -> Tensor:
    """x as a Tensor of a dtype the pooling kernels take: float32 or float64, and integers
    where PyTorch pools them (``integers``); anything else raises as PyTorch does."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    kind = x.dtype.kind
    if kind == "f" and x.dtype.itemsize < 4:
        raise TypeError(f"{op}: input of dtype {x.dtype} is not supported (float32 or float64)")
    if kind == "b" or (kind in "iu" and not integers):
        raise NotImplementedError(f"{op}: input of dtype {x.dtype} is not supported, as in "
                                  f"PyTorch (float32 or float64)")
    return x


def _as_batch(op: str, x: Tensor, dims: int) -> tuple[Tensor, bool]:
    """x (N, C, *spatial) as it is, or (C, *spatial) with a batch of one; and whether it was
    unbatched."""
    if x.ndim not in (dims + 1, dims + 2):
        shape = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
        raise RuntimeError(f"{op}: expected input of shape {shape}, got shape {x.shape}")
    if x.ndim == dims + 1:
        return ops.reshape(x, 1, *x.shape), True
    return x, False


def _output_length(op: str, size: int, kernel: int, stride: int, pad: int, dilation: int,
                   ceil_mode: bool) -> int:
    """Positions a window takes along an axis (PyTorch's pooling_output_shape)."""
    span = dilation * (kernel - 1) + 1
    out = (size + 2 * pad - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1   # the last window would start in the right padding
    if out < 1:
        raise RuntimeError(f"{op}: the window of size {kernel} (dilation {dilation}) does not "
                           f"fit the input of size {size} with padding {pad}: output size "
                           f"{out} is too small")
    return out


class _Windows:
    """The geometry of one pooling: per spatial axis kernel, stride, padding, dilation,
    output length and the extra padding after that ``ceil_mode`` needs."""

    def __init__(self, op: str, shape_hw: tuple[int, int], kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, ceil_mode: bool):
        self.kernel = as_tuple("kernel_size", kernel_size, 2)
        self.stride = self.kernel if stride is None or stride == [] or stride == () \
            else as_tuple("stride", stride, 2)
        self.padding = as_tuple("padding", padding, 2, minimum=0)
        self.dilation = as_tuple("dilation", dilation, 2)
        for k, p, d in zip(self.kernel, self.padding, self.dilation):
            if p > (d * (k - 1) + 1) // 2:
                raise RuntimeError(f"{op}: padding {self.padding} must be at most half of the "
                                   f"effective kernel size {self.kernel} (dilation "
                                   f"{self.dilation})")
        self.out = tuple(_output_length(op, n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(
            shape_hw, self.kernel, self.stride, self.padding, self.dilation))
        self.extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)) for o, n, k, s, p, d
                           in zip(self.out, shape_hw, self.kernel, self.stride, self.padding,
                                  self.dilation))
        self.input_hw = shape_hw
        self.padded = tuple(n + 2 * p + e for n, p, e in zip(shape_hw, self.padding, self.extra))

    def pad(self, data: np.ndarray, fill: Any) -> np.ndarray:
        """data (N, C, H, W) padded before by the padding, after by padding + extra."""
        if any(self.padding) or any(self.extra):
            data = np.pad(data, [(0, 0), (0, 0), *((p, p + e) for p, e in
                                                   zip(self.padding, self.extra))],
                          constant_values=fill)
        return np.ascontiguousarray(data)

    def crop(self, grad: np.ndarray) -> np.ndarray:
        """The gradient of the padded input without the padding."""
        (top, left), (h, w) = self.padding, self.input_hw
        return grad[:, :, top:top + h, left:left + w]


def _max_pool(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:
    """max_pool2d on (N, C, H, W): check, pad, run the kernels, record backward."""
    win = _Windows(op, x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    out, choice = _kernels().max_pool2d(win.pad(x._data, fill), win.kernel, win.stride,
                                        win.dilation)

    def backward(g: np.ndarray):
        return (win.crop(_kernels().max_pool2d_grad(np.ascontiguousarray(g), choice,
                                                    win.padded, win.kernel, win.stride,
                                                    win.dilation)),)
    y = Tensor._make(out, (x,), backward)
    if not return_indices:
        return y
    p, q = np.divmod(choice.astype(np.int64), win.kernel[1])
    rows = np.arange(win.out[0])[:, None] * win.stride[0] + p * win.dilation[0] - win.padding[0]
    cols = np.arange(win.out[1])[None, :] * win.stride[1] + q * win.dilation[1] - win.padding[1]
    return y, Tensor(rows * x.shape[3] + cols)


def _avg_divisor(win: _Windows, count_include_pad: bool, divisor_override: int | None
                 ) -> np.ndarray | None:
    """The divisor of each output (OH, OW), or None where it is KH KW everywhere."""
    if divisor_override is not None:
        return np.full(win.out, float(divisor_override))
    if count_include_pad and not any(win.extra):   # every window whole: KH KW
        return None
    counts = []
    for o, n, k, s, p in zip(win.out, win.input_hw, win.kernel, win.stride, win.padding):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    divisor = (counts[0][:, None] * counts[1][None, :]).astype(np.float64)
    return None if (divisor == win.kernel[0] * win.kernel[1]).all() else divisor


def _avg_pool(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None) -> Tensor:
    """avg_pool2d on (N, C, H, W): the kernel's window means, rescaled where the divisor is
    not KH KW; integer input summed exactly and divided with truncation."""
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(
            divisor_override, (int, np.integer)) or divisor_override == 0):
        raise RuntimeError(f"{op}: divisor_override must be a non-zero int, got "
                           f"{divisor_override!r}")
    win = _Windows(op, x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    divisor = _avg_divisor(win, count_include_pad, divisor_override)
    data = win.pad(x._data, 0)
    area = win.kernel[0] * win.kernel[1]
    if x.dtype.kind != "f":
        windows = [data[..., p:p + win.stride[0] * (win.out[0] - 1) + 1:win.stride[0],
                        q:q + win.stride[1] * (win.out[1] - 1) + 1:win.stride[1]]
                   for p in range(win.kernel[0]) for q in range(win.kernel[1])]
        total = np.sum(windows, axis=0, dtype=np.int64)
        count = np.int64(area) if divisor is None else divisor.astype(np.int64)
        return Tensor((np.sign(total) * (np.abs(total) // count)).astype(x.dtype))
    scale = None if divisor is None else (area / divisor).astype(x.dtype)
    out = _kernels().avg_pool2d(data, win.kernel, win.stride)
    if scale is not None:
        out *= scale

    def backward(g: np.ndarray):
        g = g if scale is None else g * scale
        return (win.crop(_kernels().avg_pool2d_grad(np.ascontiguousarray(g), win.padded,
                                                    win.kernel, win.stride)),)
    return Tensor._make(out, (x,), backward)


def _pool(op: str, input: Any, dims: int, integers: bool, pool: Any, kernel_size: Any,
          stride: Any, padding: Any, *settings: Any) -> Any:
    """``pool`` (``_max_pool`` or ``_avg_pool``) on input of ``dims`` spatial axes, batched or
    not; 1-d input is pooled as height 1: kernel 1, stride 1 and padding 0 along H."""
    x, unbatched = _as_batch(op, _pool_input(op, input, integers), dims)
    if dims == 1:
        x = ops.reshape(x, *x.shape[:2], 1, x.shape[2])
        kernel_size = (1, *as_tuple("kernel_size", kernel_size, 1))
        stride = None if stride is None else (1, *as_tuple("stride", stride, 1))
        padding = (0, *as_tuple("padding", padding, 1, minimum=0))
        if pool is _max_pool:
            settings = ((1, *as_tuple("dilation", settings[0], 1)), *settings[1:])
    result = pool(op, x, kernel_size, stride, padding, *settings)
    if dims == 2 and not unbatched:
        return result
    outputs = []
    for y in result if isinstance(result, tuple) else (result,):
        shape = y.shape[1:] if unbatched else y.shape
        outputs.append(ops.reshape(y, *shape[:-2], shape[-1]) if dims == 1 else
                       ops.reshape(y, *shape))
    return tuple(outputs) if isinstance(result, tuple) else outputs[0]


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value of each window (stride defaults to kernel_size); with
    ``return_indices`` also each choice's flat index h W + w in its input plane."""
    return _pool("max_pool2d", input, 2, True, _max_pool, kernel_size, stride, padding, dilation,
                 ceil_mode, return_indices)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Tensor | tuple[Tensor, Tensor]:
    """``max_pool2d`` along the last axis of (N, C, L); PyTorch refuses integer input."""
    return _pool("max_pool1d", input, 1, False, _max_pool, kernel_size, stride, padding, dilation,
                 ceil_mode, return_indices)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window (stride defaults to kernel_size): see the module docstring."""
    return _pool("avg_pool2d", input, 2, True, _avg_pool, kernel_size, stride, padding, ceil_mode,
                 count_include_pad, divisor_override)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """``avg_pool2d`` along the last axis of (N, C, L)."""
    return _pool("avg_pool1d", input, 1, True, _avg_pool, kernel_size, stride, padding, ceil_mode,
                 count_include_pad, None)


def _lp_pool(op: str, input: Any, norm_type: float, kernel_size: Any, stride: Any,
             ceil_mode: bool, dims: int) -> Tensor:
    size = int(np.prod(as_tuple("kernel_size", kernel_size, dims)))
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.number)) \
            or norm_type == 0:
        raise ValueError(f"{op}: norm_type must be a non-zero number, got {norm_type!r}")
    x = input if isinstance(input, Tensor) else Tensor(input)
    pool = avg_pool2d if dims == 2 else avg_pool1d
    out = pool(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    return (ops.sign(out) * ops.relu(ops.abs(out)) * size) ** (1.0 / norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each window of (N, C, H, W): see the module docstring."""
    return _lp_pool("lp_pool2d", input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """``lp_pool2d`` along the last axis of (N, C, L)."""
    return _lp_pool("lp_pool1d", input, norm_type, kernel_size, stride, ceil_mode, 1)


# -- max_unpool ------------------------------------------------------------------------------
def _unpool(op: str, x: Tensor, indices: Any, out_hw: tuple[int, int]) -> Tensor:
    """y (N, C, OH, OW), zero but y[n, c].flat[indices[n, c, k]] = x[n, c].flat[k]."""
    index = np.asarray(indices)
    if index.dtype.kind not in "iu" or index.size != x.size:
        raise RuntimeError(f"{op}: indices must be integers of the input's shape {x.shape}, "
                           f"got {index.dtype} of shape {index.shape}")
    size = out_hw[0] * out_hw[1]
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = int(index.min() if index.min() < 0 else index.max())
        raise RuntimeError(f"{op}: found an invalid max index {bad} for an output of size "
                           f"{out_hw}")
    planes = index.reshape(x.shape[0] * x.shape[1], x.shape[2] * x.shape[3])
    rows = np.arange(planes.shape[0])[:, None]
    out = np.zeros((planes.shape[0], size), x.dtype)
    out[rows, planes] = x._data.reshape(planes.shape)

    def backward(g: np.ndarray):
        return (g.reshape(planes.shape[0], size)[rows, planes].reshape(x.shape),)
    return Tensor._make(out.reshape(*x.shape[:2], *out_hw), (x,), backward)


def _unpool_size(op: str, shape: tuple[int, ...], kernel: tuple[int, ...],
                 stride: tuple[int, ...], padding: tuple[int, ...], output_size: Any
                 ) -> tuple[int, ...]:
    """The output's spatial size: (n - 1) s - 2 p + k per axis, or ``output_size``."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(shape, kernel, stride,
                                                                   padding))
    if output_size is None:
        return default
    size = tuple(int(n) for n in output_size)[-len(default):]
    if any(not d - s < n < d + s for n, d, s in zip(size, default, stride)):
        raise RuntimeError(f"{op}: output_size {tuple(output_size)} must be within one stride "
                           f"{stride} of the default size {default}")
    return size


def _max_unpool(op: str, input: Any, indices: Any, dims: int, kernel_size: Any, stride: Any,
                padding: Any, output_size: Any) -> Tensor:
    """max_unpool of ``dims`` spatial axes, batched or not; 1-d as height 1."""
    kernel = as_tuple("kernel_size", kernel_size, dims)
    stride = kernel if stride is None else as_tuple("stride", stride, dims)
    x, unbatched = _as_batch(op, _pool_input(op, input), dims)
    out = _unpool_size(op, x.shape[2:], kernel, stride,
                       as_tuple("padding", padding, dims, minimum=0), output_size)
    if dims == 1:
        y = _unpool(op, ops.reshape(x, *x.shape, 1), indices, (out[0], 1))
        y = ops.reshape(y, *y.shape[:3])
    else:
        y = _unpool(op, x, indices, out)
    return ops.reshape(y, *y.shape[1:]) if unbatched else y


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of ``max_pool2d(..., return_indices=True)``: each value put back at its
    index, zeros elsewhere; output (n - 1) s - 2 p + k per axis, or ``output_size``."""
    return _max_unpool("max_unpool2d", input, indices, 2, kernel_size, stride, padding,
                       output_size)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """``max_unpool2d`` along the last axis of (N, C, L)."""
    return _max_unpool("max_unpool1d", input, indices, 1, kernel_size, stride, padding,
                       output_size)


# -- modules ---------------------------------------------------------------------------------
class _Pool(Module):
    """A pooling layer: its settings, checked once, passed to ``function``."""

    dims = 2
    settings: tuple[str, ...] = ()
    shown: tuple[str, ...] | None = None     # in the repr, as PyTorch's (default: settings)

    def forward(self, input: Tensor) -> Tensor:
        return type(self).function(input, **{name: getattr(self, name)
                                             for name in self.settings})

    def _check_geometry(self) -> None:
        as_tuple("kernel_size", self.kernel_size, self.dims)
        as_tuple("padding", self.padding, self.dims, minimum=0)
        if self.stride is not None:
            as_tuple("stride", self.stride, self.dims)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in self.shown or self.settings)


class MaxPool2d(_Pool):
    """The largest value of each window of (N, C, H, W) input: see ``max_pool2d``."""
    function = staticmethod(max_pool2d)
    settings = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
    shown = settings[:5]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        self._check_geometry()
        as_tuple("dilation", dilation, self.dims)


class MaxPool1d(MaxPool2d):
    """The largest value of each window of (N, C, L) input: see ``max_pool1d``."""
    function, dims = staticmethod(max_pool1d), 1


class AvgPool2d(_Pool):
    """The mean of each window of (N, C, H, W) input: see ``avg_pool2d``."""
    function = staticmethod(avg_pool2d)
    settings = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                "divisor_override")
    shown = settings[:3]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override
        self._check_geometry()


class AvgPool1d(_Pool):
    """The mean of each window of (N, C, L) input: see ``avg_pool1d``."""
    function, dims = staticmethod(avg_pool1d), 1
    settings = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
    shown = settings[:3]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self._check_geometry()


class MaxUnpool2d(_Pool):
    """The inverse of MaxPool2d given its indices: see ``max_unpool2d``."""
    function = staticmethod(max_unpool2d)
    settings = ("kernel_size", "stride", "padding")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self._check_geometry()

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return type(self).function(input, indices, self.kernel_size, self.stride, self.padding,
                                   output_size)


class MaxUnpool1d(MaxUnpool2d):
    """The inverse of MaxPool1d given its indices: see ``max_unpool1d``."""
    function, dims = staticmethod(max_unpool1d), 1


class LPPool2d(_Pool):
    """The ``norm_type``-norm of each window of (N, C, H, W) input: see ``lp_pool2d``."""
    function = staticmethod(lp_pool2d)
    settings = ("norm_type", "kernel_size", "stride", "ceil_mode")

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode
        as_tuple("kernel_size", kernel_size, self.dims)
        if stride is not None:
            as_tuple("stride", stride, self.dims)


class LPPool1d(LPPool2d):
    """The ``norm_type``-norm of each window of (N, C, L) input: see ``lp_pool1d``."""
    function, dims = staticmethod(lp_pool1d), 1
