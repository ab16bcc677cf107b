"""Convolution: ``pad``, ``conv1d``, ``conv2d`` and the ``Conv1d``, ``Conv2d`` layers.

A 2-d convolution of x (N, C, H, W) with a weight w (O, C / G, KH, KW) is

    y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] xp[n, g(o) C/G + c, i sh + p dh, j sw + q dw]

where xp is x padded, (sh, sw) the stride, (dh, dw) the dilation and g(o) the
group of output channel o (G groups split the channels into G independent
convolutions). Its gradients (see ``minidl.kernels.nn``) are again sums over
the same windows: dL/dx scatters g back through them, dL/dw correlates g with
them, dL/db sums g over n, i, j. The kernels run as numba loops and a BLAS
matmul (``minidl.kernels.nn.cpu``, which also pads with zeros and adds the
bias); this file checks the arguments and ties the kernels into the autograd
graph. A 1-d convolution is the 2-d one on inputs of height 1.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


@functools.cache
def _kernels() -> Any:
    """``minidl.kernels.nn.cpu``, imported on first use: it loads numba, which
    ``import minidl`` leaves out to start quickly."""
    from ..kernels.nn import cpu
    return cpu


__all__ = ["pad", "conv1d", "conv2d", "Conv1d", "Conv2d"]

PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
             "circular": "wrap"}
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
                 "circular": "circular"}


def as_tuple(name: str, value: Any, n: int, minimum: int = 1) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, each >= ``minimum``, as an n-tuple."""
    # the usual cases first, fast (``type(v) is int`` leaves bool out)
    if type(value) is int and value >= minimum:
        return (value,) * n
    if type(value) is tuple and len(value) == n and all(type(v) is int and v >= minimum
                                                         for v in value):
        return value
    values = (value,) * n if isinstance(value, (int, np.integer)) else value
    if (not isinstance(values, (tuple, list)) or len(values) != n
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                   for v in values)):
        raise ValueError(f"Invalid {name}: {value!r} (needs an int >= {minimum} or a tuple of "
                         f"{n} such ints)")
    return tuple(int(v) for v in values)


KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_input(op: str, x: Any, like: Tensor) -> Tensor:
    """x as a float Tensor: arrays and integer data take ``like``'s dtype, the weight's,
    which must be a float32 or float64 Tensor (the kernels' dtypes; TypeError otherwise)."""
    if not isinstance(like, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, got {type(like).__name__}")
    for name, dtype in (("weight", like.dtype), ("input", getattr(x, "dtype", None))):
        if dtype is not None and dtype not in KERNEL_DTYPES and (name == "weight" or
                                                                  dtype.kind == "f"):
            raise TypeError(f"{op}: {name} of dtype {dtype} is not supported (float32 or "
                            f"float64)")
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        x = Tensor(x, dtype=like.dtype)
    if x.dtype != like.dtype:
        raise TypeError(f"{op}: input of dtype {x.dtype} and weight of dtype {like.dtype} "
                        f"differ")
    return x


# -- pad -----------------------------------------------------------------------------------
def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """x padded as torch.nn.functional.pad: ``pad`` = (left, right) for the last axis,
    then (top, bottom) for the one before, and so on. A negative amount crops that side
    first; the padding then extends what is left.

    ``mode``: "constant" (``value``), "reflect" (mirror without repeating the edge:
    needs pad < size), "replicate" (repeat the edge, any width), "circular" (wrap
    around: needs pad <= size). The constant mode's gradient is g cropped; the others
    gather x by an index per axis, and their gradient adds g back to the elements
    each output copied.
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: invalid mode {mode!r}; expected one of {', '.join(PAD_MODES)}")
    pad = tuple(pad)
    if (len(pad) % 2 or len(pad) // 2 > x.ndim
            or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in pad)):
        raise ValueError(f"pad: pad must hold pairs of ints, at most one pair per "
                         f"dimension of the input of shape {x.shape}, got {pad}")
    # pairs[a] pads axis a: the pairs of ``pad`` start at the last axis.
    pairs = [(0, 0)] * (x.ndim - len(pad) // 2) + [
        (int(pad[2 * k]), int(pad[2 * k + 1])) for k in reversed(range(len(pad) // 2))]
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        for axis, ((lo, hi), n) in enumerate(zip(pairs, x.shape)):
            if n + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError(f"pad: cropping ({lo}, {hi}) of dimension {axis} needs at "
                                   f"least {-min(lo, 0) - min(hi, 0)} elements, it has {n} "
                                   f"(input of shape {x.shape})")
        x = x[tuple(slice(-min(lo, 0), n + min(hi, 0)) for (lo, hi), n in zip(pairs, x.shape))]
        pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if mode == "constant":
        inside = tuple(slice(lo, lo + n) for (lo, _), n in zip(pairs, x.shape))
        out = np.pad(x._data, pairs, constant_values=np.asarray(value, x.dtype))
        return Tensor._make(out, (x,), lambda g: (g[inside],))
    for axis, ((lo, hi), n) in enumerate(zip(pairs, x.shape)):
        limit = {"reflect": n - 1, "circular": n}.get(mode, max(lo, hi))
        if (lo or hi) and (max(lo, hi) > limit or n == 0):
            raise ValueError(f"pad: {mode} padding ({lo}, {hi}) of dimension {axis} needs "
                             f"{'<' if mode == 'reflect' else '<='} its size {n} "
                             f"(input of shape {x.shape})")
    # index[a][k] = which element of axis a output position k copies
    index = np.ix_(*(np.pad(np.arange(n), pair, mode=PAD_MODES[mode])
                     for pair, n in zip(pairs, x.shape)))

    def backward(g: np.ndarray):
        grad = np.zeros_like(x._data)
        np.add.at(grad, index, g)
        return (grad,)
    return Tensor._make(x._data[index], (x,), backward)


# -- convolution -----------------------------------------------------------------------------
def conv_padding(padding: Any, kernel: Sequence[int], stride: Sequence[int],
                 dilation: Sequence[int]) -> list[tuple[int, int]]:
    """(before, after) per spatial axis for ``padding``: ints, "valid" (none) or "same"
    (output size = input size: d (k - 1) in all, the odd one after, as PyTorch)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * n
        if padding != "same":
            raise ValueError(f"Invalid padding: {padding!r} (expected 'same', 'valid', an int "
                             f"or a tuple of {n} ints)")
        if any(s != 1 for s in stride):
            raise ValueError(f"padding='same' needs stride 1, got stride {tuple(stride)}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in as_tuple("padding", padding, n, minimum=0)]


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The 2-d convolution of input (N, C, H, W) or (C, H, W) with weight (O, C/groups, KH, KW),
    plus bias (O,): see the module docstring. ``padding`` pads with zeros: an int, a
    pair, "valid" or "same"."""
    x = as_float_input("conv2d", input, weight)
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"conv2d: bias must be a Tensor or None, got {type(bias).__name__}")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must have shape (out_channels, in_channels / groups, "
                         f"kH, kW), got shape {weight.shape}")
    if x.ndim == 3:   # one unbatched image
        y = conv2d(ops.reshape(x, 1, *x.shape), weight, bias, stride, padding, dilation, groups)
        return ops.reshape(y, y.shape[1:])
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected input of shape (N, C, H, W) or (C, H, W), got "
                         f"shape {x.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: invalid groups: {groups!r} (needs a positive int)")
    out_channels, group_channels, kh, kw = weight.shape
    if out_channels % groups:
        raise ValueError(f"conv2d: groups={groups} does not divide the {out_channels} output "
                         f"channels of weight of shape {weight.shape}")
    if x.shape[1] != group_channels * groups:
        raise ValueError(f"conv2d: input of shape {x.shape} has {x.shape[1]} channels, but "
                         f"weight of shape {weight.shape} with groups={groups} expects "
                         f"{group_channels * groups}")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"conv2d: bias must have shape ({out_channels},) for weight of shape "
                         f"{weight.shape}, got shape {bias.shape}")
    stride, dilation = as_tuple("stride", stride, 2), as_tuple("dilation", dilation, 2)
    pads = conv_padding(padding, (kh, kw), stride, dilation)
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)]
    reach = [d * (k - 1) + 1 for k, d in zip((kh, kw), dilation)]
    if padded[0] < reach[0] or padded[1] < reach[1]:
        raise ValueError(f"conv2d: the kernel ({kh}, {kw}) with dilation {dilation} spans "
                         f"{tuple(reach)}, more than the padded input {tuple(padded)} "
                         f"(input of shape {x.shape}, padding {padding!r})")

    out, context = _kernels().conv2d(np.ascontiguousarray(x._data),
                                     np.ascontiguousarray(weight._data), stride, dilation,
                                     groups, pads, None if bias is None else bias._data)

    def backward(g: np.ndarray):
        grad_x, grad_w, grad_b = _kernels().conv2d_grad(
            np.ascontiguousarray(g), context, x.requires_grad, weight.requires_grad,
            bias is not None and bias.requires_grad)
        return (grad_x, grad_w) if bias is None else (grad_x, grad_w, grad_b)
    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._make(out, parents, backward)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The 1-d convolution of input (N, C, L) or (C, L) with weight (O, C/groups, K), plus
    bias (O,): ``conv2d`` on inputs of height 1."""
    x = as_float_input("conv1d", input, weight)
    if x.ndim not in (2, 3):
        raise ValueError(f"conv1d: expected input of shape (N, C, L) or (C, L), got shape "
                         f"{x.shape}")
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must have shape (out_channels, in_channels / groups, "
                         f"k), got shape {weight.shape}")
    if not isinstance(padding, str):
        padding = (0, *as_tuple("padding", padding, 1, minimum=0))
    y = conv2d(ops.reshape(x, *x.shape[:-1], 1, x.shape[-1]),
               ops.reshape(weight, *weight.shape[:2], 1, weight.shape[2]), bias,
               (1, *as_tuple("stride", stride, 1)), padding,
               (1, *as_tuple("dilation", dilation, 1)), groups)
    return ops.reshape(y, *y.shape[:-2], y.shape[-1])


# -- layers ----------------------------------------------------------------------------------
def check_layer_arguments(name: str, in_channels: int, out_channels: int, groups: int,
                          dtype: Any) -> None:
    """A convolution layer's channels and groups are positive ints, groups divides both
    channel counts, and its parameters are float32 or float64 (RuntimeError otherwise,
    as PyTorch: only float tensors can require gradients)."""
    for argument, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):
        as_tuple(argument, value, 1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                         f"and out_channels={out_channels}")
    if np.dtype(dtype) not in KERNEL_DTYPES:
        raise RuntimeError(f"{name}: invalid dtype {np.dtype(dtype)}: only float32 and "
                           f"float64 parameters can require gradients")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, initialisation, padding modes."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = np.float32):
        super().__init__()
        n = self.dims
        check_layer_arguments(type(self).__name__, in_channels, out_channels, groups, dtype)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Invalid padding_mode: {padding_mode!r}; expected one of "
                             f"{', '.join(PADDING_MODES)}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_tuple("kernel_size", kernel_size, n)
        self.stride = as_tuple("stride", stride, n)
        self.dilation = as_tuple("dilation", dilation, n)
        self.padding = padding if isinstance(padding, str) else \
            as_tuple("padding", padding, n, minimum=0)
        self._pads = conv_padding(self.padding, self.kernel_size, self.stride, self.dilation)
        self.padding_mode = padding_mode
        self.weight = Parameter(np.empty((out_channels, in_channels // groups,
                                          *self.kernel_size), dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """As PyTorch: kaiming_uniform_(weight, a=sqrt(5)), which is U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) with fan_in = in_channels / groups * prod(kernel_size), and the
        bias from the same U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_channels // self.groups * math.prod(self.kernel_size))
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        convolve = conv2d if self.dims == 2 else conv1d
        weight = self.weight   # read once: a parametrized weight is computed at each read
        input, padding = as_float_input(type(self).__name__, input, weight), self.padding
        # other modes pad here, batched or not; a wrong shape is left to convolve to name
        if self.padding_mode != "zeros" and input.ndim in (self.dims + 1, self.dims + 2):
            pairs = [p for pair in reversed(self._pads) for p in pair]
            input, padding = pad(input, pairs, PADDING_MODES[self.padding_mode]), 0
        return convolve(input, weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", (0,) * self.dims), ("dilation", (1,) * self.dims),
                              ("groups", 1), ("padding_mode", "zeros")):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)!r}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-d convolution over (N, C, H, W) input, PyTorch's arguments: see ``conv2d``.

    ``padding``: an int, a pair, "valid" or "same" (stride 1 only; an odd total
    puts the extra row or column after). ``padding_mode``: "zeros", "reflect",
    "replicate" or "circular".
    """

    dims = 2


class Conv1d(_ConvNd):
    """1-d convolution over (N, C, L) input, PyTorch's arguments: see ``conv1d``."""

    dims = 1
