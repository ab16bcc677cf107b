"""Normalisation layers beside BatchNorm1d (layers.py): BatchNorm2d, LayerNorm,
InstanceNorm1d/2d, LocalResponseNorm, RMSNorm and GroupNorm.

BatchNorm2d normalises each channel of (N, C, H, W) input over its N H W values,
with ``F.batch_norm`` and the running statistics of BatchNorm1d. LayerNorm
normalises each sample over its last dimensions (``normalized_shape``):

    y = (x - mean) / sqrt(var + eps) * weight + bias

with mean and the biased var over those dimensions, and weight (ones) and bias
(zeros) of shape ``normalized_shape`` when ``elementwise_affine``; ``F.layer_norm``
is one op with its own backward. InstanceNorm normalises each channel of each sample
over its positions; LocalResponseNorm divides by the energy of the neighbouring
channels; RMSNorm scales by the root mean square; GroupNorm normalises groups of
channels. The functions behind the layers are in ``functional.py`` (``F.layer_norm``,
``F.instance_norm``, ``F.local_response_norm``, ``F.rms_norm``, ``F.group_norm``):
the layers import them, never the reverse.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..tensor import Tensor
from . import functional as F
from .layers import BatchNorm1d, _check_divisible, _check_positive_float
from .module import Module, Parameter

__all__ = ["BatchNorm2d", "LayerNorm", "InstanceNorm1d", "InstanceNorm2d", "LocalResponseNorm",
           "RMSNorm", "GroupNorm"]


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
        self.normalized_shape = F.as_normalized_shape(normalized_shape)
        _check_positive_float("eps", eps)
        if not isinstance(elementwise_affine, (bool, numbers.Integral)):
            raise ValueError(f"Invalid elementwise_affine: {elementwise_affine!r} (a bool)")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) \
            if affine and bias else None

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class _InstanceNorm(BatchNorm1d):
    """Instance normalisation: see ``F.instance_norm``. PyTorch's arguments and defaults
    (``affine=False``, ``track_running_stats=False``); with running statistics, training
    updates them (``num_batches_tracked`` stays 0, as in PyTorch) and eval uses them."""

    dims = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 dtype: Any = np.float32):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self.dims + 1}-d (unbatched) "
                             f"or {self.dims + 2}-d input, got shape {x.shape}")
        if x.shape[-self.dims - 1] != self.num_features and (self.affine or
                                                             self.track_running_stats):
            raise ValueError(f"{type(self).__name__}({self.num_features}): input of shape "
                             f"{x.shape} has {x.shape[-self.dims - 1]} channels")

    def forward(self, input: Tensor) -> Tensor:
        x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else \
            Tensor(input, dtype=np.float32)
        self._check_input(x)
        unbatched = x.ndim == self.dims + 1
        if unbatched:
            x = ops.reshape(x, 1, *x.shape)
        use_input_stats = self.training or not self.track_running_stats
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats, 0.0 if self.momentum is None else self.momentum,
                            self.eps)
        return ops.reshape(y, *y.shape[1:]) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) input over L."""

    dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) input over H and W."""

    dims = 2


class LocalResponseNorm(Module):
    """Each channel divided by the energy of its ``size`` neighbours: see
    ``F.local_response_norm``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"Invalid size: {size!r} (needs a positive int)")
        self.size, self.alpha, self.beta, self.k = int(size), alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """RMS normalisation over the last dimensions, with a learned ``weight`` (ones) when
    ``elementwise_affine``: see ``rms_norm``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, dtype: Any = np.float32):
        super().__init__()
        self.normalized_shape = F.as_normalized_shape(normalized_shape)
        if eps is not None:
            _check_positive_float("eps", eps)
        if not isinstance(elementwise_affine, (bool, numbers.Integral)):
            raise ValueError(f"Invalid elementwise_affine: {elementwise_affine!r} (a bool)")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) \
            if self.elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group normalisation of (N, C, *) input, with per-channel ``weight`` (ones) and
    ``bias`` (zeros) when ``affine``: see ``group_norm``. As in PyTorch, input with
    other than ``num_channels`` channels is refused by the weight's shape (RuntimeError);
    without ``affine`` any C that ``num_groups`` divides passes."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = np.float32):
        super().__init__()
        _check_divisible("num_channels", num_channels, "num_groups", num_groups)
        _check_positive_float("eps", eps)
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, bool(affine)
        self.weight = Parameter(np.ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, dtype=dtype)) if affine else None

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
