"""Transposed convolution: ``conv_transpose1d``, ``conv_transpose2d`` and their layers.

The transposed convolution is the adjoint of the convolution: with C_w the
convolution by w (``conv2d``, stride, padding, dilation, groups), of input (N, O, H',
W') and output (N, C, H, W),

    conv_transpose2d(x, w) = C_w^T x        w of shape (C, O / groups, KH, KW)

so it maps each input pixel to a KH x KW patch of the output, scaled by the weight
and summed where patches overlap ("fractionally strided"). Its size along an axis is

    H' = (H - 1) s - 2 p + d (K - 1) + output_padding + 1

where ``output_padding`` (smaller than the stride or the dilation) picks among the
sizes that a stride-s convolution maps back to H. Being the adjoint, its
gradients are the convolution's own pieces (g = dL/dy):

    dL/dx = C_w g           (the forward convolution of g)
    dL/dw = the convolution's weight gradient, at input g and output gradient x
    dL/db = sum of g over n, i, j

All three run on the convolution kernels of ``minidl.kernels.nn.cpu``: the
forward is col2im of w^T x (``conv2d_input_grad``), the backward ``conv2d`` and
``conv2d_grad``. A 1-d transposed convolution is the 2-d one on height 1.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..tensor import Tensor
from . import init
from .conv import _kernels, as_float_input, as_tuple, check_layer_arguments
from .module import Module, Parameter

__all__ = ["conv_transpose1d", "conv_transpose2d", "ConvTranspose1d", "ConvTranspose2d"]


def transposed_size(op: str, size: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                    padding: Sequence[int], dilation: Sequence[int],
                    output_padding: Sequence[int]) -> tuple[int, ...]:
    """H' = (H - 1) s - 2 p + d (K - 1) + output_padding + 1 per axis, checked."""
    out = []
    for n, k, s, p, d, extra in zip(size, kernel, stride, padding, dilation, output_padding):
        if extra >= s and extra >= d:
            raise RuntimeError(f"{op}: output_padding {tuple(output_padding)} must be smaller "
                               f"than either stride {tuple(stride)} or dilation "
                               f"{tuple(dilation)}")
        out.append((n - 1) * s - 2 * p + d * (k - 1) + extra + 1)
        if out[-1] < 1:
            raise RuntimeError(f"{op}: input of spatial size {tuple(size)} gives an output of "
                               f"size {out[-1]} (padding {tuple(padding)} too large)")
    return tuple(out)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """The transposed convolution of input (N, C, H, W) or (C, H, W) with weight
    (C, O / groups, KH, KW), plus bias (O,): see the module docstring."""
    x = as_float_input("conv_transpose2d", input, weight)
    if x.ndim == 3:   # one unbatched image
        y = conv_transpose2d(ops.reshape(x, 1, *x.shape), weight, bias, stride, padding,
                             output_padding, groups, dilation)
        return ops.reshape(y, *y.shape[1:])
    if x.ndim != 4 or weight.ndim != 4:
        raise RuntimeError(f"conv_transpose2d: expected input (N, C, H, W) or (C, H, W) and "
                           f"weight (C, O / groups, KH, KW), got shapes {x.shape} and "
                           f"{weight.shape}")
    as_tuple("groups", groups, 1)
    channels, group_outputs, kh, kw = weight.shape
    if x.shape[1] != channels or channels % groups:
        raise RuntimeError(f"conv_transpose2d: input of shape {x.shape} has {x.shape[1]} "
                           f"channels; weight of shape {weight.shape} with groups={groups} "
                           f"expects {channels}, a multiple of groups")
    outputs = group_outputs * groups
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (outputs,)):
        raise RuntimeError(f"conv_transpose2d: bias must be a Tensor of shape ({outputs},), "
                           f"got {getattr(bias, 'shape', type(bias).__name__)}")
    stride, dilation = as_tuple("stride", stride, 2), as_tuple("dilation", dilation, 2)
    padding = as_tuple("padding", padding, 2, minimum=0)
    output_padding = as_tuple("output_padding", output_padding, 2, minimum=0)
    out_hw = transposed_size("conv_transpose2d", x.shape[2:], (kh, kw), stride, padding,
                             dilation, output_padding)
    pads = tuple((p, p) for p in padding)
    w = np.ascontiguousarray(weight._data)
    out = _kernels().conv2d_input_grad(np.ascontiguousarray(x._data), w,
                                       (x.shape[0], outputs, *out_hw), stride, dilation, groups,
                                       pads)
    if bias is not None:
        out += bias._data[:, None, None]

    def backward(g: np.ndarray):
        grad_x = grad_w = None
        if x.requires_grad or weight.requires_grad:
            # C_w g; with output_padding >= stride (dilated) it has extra trailing positions
            conv, context = _kernels().conv2d(np.ascontiguousarray(g), w, stride, dilation,
                                              groups, pads)
            grad_x = np.ascontiguousarray(conv[:, :, :x.shape[2], :x.shape[3]])
            if weight.requires_grad:
                extra = [(0, 0), (0, 0)] + [(0, c - n) for c, n in zip(conv.shape[2:],
                                                                       x.shape[2:])]
                _, grad_w, _ = _kernels().conv2d_grad(
                    np.ascontiguousarray(np.pad(x._data, extra)), context, False, True, False)
        if bias is None:
            return grad_x, grad_w
        return grad_x, grad_w, g.sum(axis=(0, 2, 3)) if bias.requires_grad else None
    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._make(out, parents, backward)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """The transposed convolution of input (N, C, L) or (C, L) with weight (C, O / groups, K):
    ``conv_transpose2d`` on inputs of height 1."""
    x = as_float_input("conv_transpose1d", input, weight)
    if x.ndim not in (2, 3) or weight.ndim != 3:
        raise RuntimeError(f"conv_transpose1d: expected input (N, C, L) or (C, L) and weight "
                           f"(C, O / groups, K), got shapes {x.shape} and {weight.shape}")
    y = conv_transpose2d(ops.reshape(x, *x.shape[:-1], 1, x.shape[-1]),
                         ops.reshape(weight, *weight.shape[:2], 1, weight.shape[2]), bias,
                         (1, *as_tuple("stride", stride, 1)),
                         (0, *as_tuple("padding", padding, 1, minimum=0)),
                         (0, *as_tuple("output_padding", output_padding, 1, minimum=0)),
                         groups, (1, *as_tuple("dilation", dilation, 1)))
    return ops.reshape(y, *y.shape[:-2], y.shape[-1])


class _ConvTransposeNd(Module):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's arguments, a weight of
    shape (in_channels, out_channels / groups, *kernel_size), initialisation."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = np.float32):
        super().__init__()
        n = self.dims
        check_layer_arguments(type(self).__name__, in_channels, out_channels, groups, dtype)
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported, "
                             f"as in PyTorch, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_tuple("kernel_size", kernel_size, n)
        self.stride = as_tuple("stride", stride, n)
        self.padding = as_tuple("padding", padding, n, minimum=0)
        self.output_padding = as_tuple("output_padding", output_padding, n, minimum=0)
        self.dilation = as_tuple("dilation", dilation, n)
        self.padding_mode = padding_mode
        self.weight = Parameter(np.empty((in_channels, out_channels // groups,
                                          *self.kernel_size), dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """As PyTorch: kaiming_uniform_(weight, a=sqrt(5)), with fan_in = weight.shape[1] *
        prod(kernel_size) = out_channels / groups * prod(kernel_size), and the bias from
        U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.out_channels // self.groups * math.prod(self.kernel_size)
            init.uniform_(self.bias, -1.0 / math.sqrt(fan_in), 1.0 / math.sqrt(fan_in))

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """``output_padding``, or what gives the spatial ``output_size`` (which must lie
        within a stride of the smallest size)."""
        if output_size is None:
            return self.output_padding
        size = tuple(int(n) for n in output_size)[-self.dims:]
        smallest = transposed_size(type(self).__name__, x.shape[-self.dims:], self.kernel_size,
                                   self.stride, self.padding, self.dilation, (0,) * self.dims)
        if len(size) != self.dims or any(not m <= n < m + s for n, m, s in zip(
                size, smallest, self.stride)):
            raise ValueError(f"{type(self).__name__}: requested output_size {tuple(output_size)} "
                             f"is not between {smallest} and the sizes a stride "
                             f"{self.stride} more")
        return tuple(n - m for n, m in zip(size, smallest))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        weight = self.weight   # read once: a parametrized weight is computed at each read
        x = as_float_input(type(self).__name__, input, weight)
        convolve = conv_transpose2d if self.dims == 2 else conv_transpose1d
        return convolve(x, weight, self.bias, self.stride, self.padding,
                        self._output_padding(x, output_size), self.groups, self.dilation)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        for name, default in (("padding", (0,) * self.dims), ("output_padding", (0,) * self.dims),
                              ("dilation", (1,) * self.dims), ("groups", 1)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)!r}"
        return text + ("" if self.bias is not None else ", bias=False")


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution over (N, C, H, W) input: see ``conv_transpose2d``."""

    dims = 2


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution over (N, C, L) input: see ``conv_transpose1d``."""

    dims = 1
