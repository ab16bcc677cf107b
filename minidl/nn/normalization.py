"""Normalisation layers beside BatchNorm1d (layers.py): BatchNorm2d, LayerNorm,
RMSNorm and GroupNorm.

BatchNorm2d normalises each channel of (N, C, H, W) input over its N H W values,
with ``F.batch_norm`` and the running statistics of BatchNorm1d. LayerNorm
normalises each sample over its last dimensions (``normalized_shape``):

    y = (x - mean) / sqrt(var + eps) * weight + bias

with mean and the biased var over those dimensions, and weight (ones) and bias
(zeros) of shape ``normalized_shape`` when ``elementwise_affine``. It is one op
(a Transformer runs it twice a layer), whose backward, with x^ the normalised x,
r = 1 / sqrt(var + eps), g^ = g * weight and means over the normalised values, is

    dL/dx = r * (g^ - mean(g^) - x^ * mean(g^ x^))
    dL/dweight = sum of g x^ over the other axes,   dL/dbias = sum of g

RMSNorm (``rms_norm``) and GroupNorm (``group_norm``) are built from ``minidl.ops``,
so their graphs run through the mean and the variance and the gradient is exact.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..tensor import Tensor
from .layers import BatchNorm1d, _check_divisible, _check_positive_float
from .module import Module, Parameter

__all__ = ["layer_norm", "BatchNorm2d", "LayerNorm", "rms_norm", "RMSNorm", "group_norm",
           "GroupNorm"]


def _normalized_shape(value: Any) -> tuple[int, ...]:
    shape = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if not shape or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1
                        for n in shape):
        raise ValueError(f"Invalid normalized_shape: {value!r} (needs a positive int or a "
                         f"non-empty tuple of them)")
    return tuple(int(n) for n in shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) dimensions: see the module docstring."""
    shape = _normalized_shape(normalized_shape)
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    if x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end in "
                         f"normalized_shape {shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.shape != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape}, got shape "
                             f"{value.shape}")
    rows = x._data.reshape(-1, math.prod(shape))      # one row per normalised group
    average = np.full(rows.shape[1], 1 / rows.shape[1], dtype=rows.dtype)

    def row_means(a: np.ndarray) -> np.ndarray:      # a BLAS matrix-vector product: much
        return (a @ average)[:, None]                # faster than a.mean(axis=1) on short rows
    centered = rows - row_means(rows)
    inverse_std = 1 / np.sqrt(row_means(centered * centered) + x.dtype.type(eps))
    normalized = centered * inverse_std
    scale = None if weight is None else weight._data.reshape(-1)
    out = normalized if scale is None else normalized * scale
    if bias is not None:
        out += bias._data.reshape(-1)

    def backward(g: np.ndarray):
        g = g.reshape(rows.shape)
        g_normalized = g if scale is None else g * scale
        grad_x = inverse_std * (g_normalized - row_means(g_normalized)
                                - normalized * row_means(g_normalized * normalized))
        ones = np.ones(rows.shape[0], dtype=g.dtype)
        grads = [grad_x.reshape(x.shape) if x.requires_grad else None]
        if weight is not None:
            grads.append((ones @ (g * normalized)).reshape(shape) if weight.requires_grad
                         else None)
        if bias is not None:
            grads.append((ones @ g).reshape(shape) if bias.requires_grad else None)
        return tuple(grads)
    parents = (x,) + tuple(p for p in (weight, bias) if p is not None)
    return Tensor._make(out.reshape(x.shape), parents, backward)


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of each channel of (N, C, H, W) input over N, H and W: the
    arguments, buffers and train/eval behaviour of BatchNorm1d (and PyTorch)."""

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}) expects input of shape "
                             f"(N, {self.num_features}, H, W), got shape {x.shape}")


class LayerNorm(Module):
    """Layer normalisation over the last dimensions: see ``layer_norm``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = np.float32):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        _check_positive_float("eps", eps)
        if not isinstance(elementwise_affine, (bool, numbers.Integral)):
            raise ValueError(f"Invalid elementwise_affine: {elementwise_affine!r} (a bool)")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) \
            if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the last len(normalized_shape) dimensions
    (Zhang & Sennrich 2019), LayerNorm without the centring and the bias:

        y = x / sqrt(mean(x^2) + eps) * weight

    eps=None is the machine epsilon of x's dtype, as in PyTorch."""
    shape = _normalized_shape(normalized_shape)
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    if x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"rms_norm: input of shape {x.shape} does not end in "
                         f"normalized_shape {shape}")
    if weight is not None and weight.shape != shape:
        raise ValueError(f"rms_norm: weight must have shape {shape}, got shape {weight.shape}")
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    y = x * ops.rsqrt(ops.mean(x * x, axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight


class RMSNorm(Module):
    """RMS normalisation over the last dimensions, with a learned ``weight`` (ones) when
    ``elementwise_affine``: see ``rms_norm``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, dtype: Any = np.float32):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        if eps is not None:
            _check_positive_float("eps", eps)
        if not isinstance(elementwise_affine, (bool, numbers.Integral)):
            raise ValueError(f"Invalid elementwise_affine: {elementwise_affine!r} (a bool)")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) \
            if self.elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He 2018) of (N, C, *) input: the C channels fall into
    ``num_groups`` groups of C / G, and each sample's group is normalised over its
    channels and positions, then each channel c gets its own affine map:

        y = (x - mean_group) / sqrt(var_group + eps) * weight_c + bias_c

    (var biased). G = 1 is LayerNorm over (C, *); G = C is InstanceNorm."""
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    if x.ndim < 2:
        raise ValueError(f"group_norm expects input of shape (N, C, *), got shape {x.shape}")
    channels = x.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) \
            or num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups!r} must be a positive int that "
                         f"divides the {channels} channels of input of shape {x.shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise ValueError(f"group_norm: {name} must have shape ({channels},) for input of "
                             f"shape {x.shape}, got shape {value.shape}")
    grouped = ops.reshape(x, (x.shape[0], num_groups, -1))
    centered = grouped - ops.mean(grouped, axis=2, keepdims=True)
    var = ops.mean(centered * centered, axis=2, keepdims=True)
    y = ops.reshape(centered / ops.sqrt(var + eps), x.shape)
    per_channel = (channels,) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * ops.reshape(weight, per_channel)
    if bias is not None:
        y = y + ops.reshape(bias, per_channel)
    return y


class GroupNorm(Module):
    """Group normalisation of (N, C, *) input, with per-channel ``weight`` (ones) and
    ``bias`` (zeros) when ``affine``: see ``group_norm``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = np.float32):
        super().__init__()
        _check_divisible("num_channels", num_channels, "num_groups", num_groups)
        _check_positive_float("eps", eps)
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, bool(affine)
        self.weight = Parameter(np.ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, dtype=dtype)) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}) expects input "
                             f"of shape (N, {self.num_channels}, *), got shape {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
