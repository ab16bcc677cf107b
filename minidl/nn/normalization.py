"""Normalisation layers beside BatchNorm1d (layers.py): BatchNorm2d and LayerNorm.

BatchNorm2d normalises each channel of (N, C, H, W) input over its N H W values,
with ``F.batch_norm`` and the running statistics of BatchNorm1d. LayerNorm
normalises each sample over its last dimensions (``normalized_shape``):

    y = (x - mean) / sqrt(var + eps) * weight + bias

with mean and the biased var over those dimensions, and weight (ones) and bias
(zeros) of shape ``normalized_shape`` when ``elementwise_affine``. The graph
runs through mean and var, so the gradient is exact, built from ``minidl.ops``.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..tensor import Tensor
from .layers import BatchNorm1d, _check_positive_float
from .module import Module, Parameter

__all__ = ["layer_norm", "BatchNorm2d", "LayerNorm"]


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
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - ops.mean(x, axis=axes, keepdims=True)
    var = ops.mean(centered * centered, axis=axes, keepdims=True)
    y = centered / ops.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


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

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
