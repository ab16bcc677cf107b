"""Channel dropout and alpha dropout: ``dropout1d/2d/3d``, ``alpha_dropout``,
``feature_alpha_dropout`` and their Modules (``Dropout`` itself is in layers.py).

Channel (feature) dropout zeros whole channels: one keep bit m[n, c] ~ Bernoulli(1 - p)
per sample and channel of (N, C, *) input, shared by all positions,

    y[n, c, ...] = x[n, c, ...] * m[n, c] / (1 - p),

which suits convolutional features, whose neighbours are correlated (Tompson et al.
2015). Alpha dropout (Klambauer et al. 2017) keeps a SELU network's mean and variance:
a dropped value becomes SELU's negative saturation -alpha' = -1.7581 instead of 0, and
an affine map a y + b restores zero mean and unit variance,

    y = a (x m + alpha' (m - 1)) + alpha' a p,   a = 1 / sqrt((alpha'^2 p + 1)(1 - p)),

per element (``alpha_dropout``) or per channel (``feature_alpha_dropout``). The masks
come from minidl's global generator, as ``F.dropout``'s; dy/dx = the factor applied to
x. Outside ``training`` (or p = 0) each is the identity, and p = 1 zeros everything, as
in PyTorch. ``inplace`` writes y into x's own array.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..ops.inplace import in_place
from ..random import generator
from ..tensor import Tensor
from .checks import check_probability
from .module import Module

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]

SELU_SATURATION = 1.7580993408473766   # SELU's scale * alpha: -SELU(-inf)


def _keep_mask(x: Tensor, p: float, per_channel: bool) -> np.ndarray:
    """Bernoulli(1 - p) keep bits, as floats, of x's shape or (N, C, 1, ...) per channel."""
    if per_channel and x.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got "
                           f"input of shape {x.shape}")
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if per_channel else x.shape
    return (generator().random(shape) >= p).astype(x.dtype)


def _apply_mask(x: Tensor, keep: np.ndarray, p: float, alpha: bool) -> Tensor:
    """y = x * scale + shift for the keep bits ``keep`` (broadcasting to x): inverted
    dropout's scale m / (1 - p), or alpha dropout's a m and shift a alpha' (m - 1 + p)."""
    if alpha:
        a = 1.0 / math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
        scale = keep * x.dtype.type(a)
        shift = (keep - 1 + x.dtype.type(p)) * x.dtype.type(SELU_SATURATION * a)
        out = x._data * scale + shift
    else:
        scale = keep / np.asarray(1.0 - p, dtype=x.dtype)
        out = x._data * scale
    return Tensor._make(out.astype(x.dtype, copy=False), (x,), lambda g: (g * scale,))


def _dropout(x: Any, p: float, training: bool, inplace: bool, per_channel: bool,
             alpha: bool) -> Tensor:
    check_probability(p)
    x = x if isinstance(x, Tensor) else Tensor(x)
    if not training or p == 0 or x._data.size == 0:
        return x
    if inplace:
        return in_place(_dropout, x, p, training, False, per_channel, alpha)
    if p == 1:
        return _apply_mask(x, np.zeros((), dtype=x.dtype), 0.0, alpha=False)
    return _apply_mask(x, _keep_mask(x, p, per_channel), p, alpha)


def _check_dims(op: str, x: Any, spatial: int) -> bool:
    """Whether (C, *spatial) input lacks its batch axis; a RuntimeError unless it has
    ``spatial`` spatial dimensions, a channel axis and perhaps a batch axis."""
    ndim = np.ndim(x._data if isinstance(x, Tensor) else x)
    if ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: Expected {spatial + 1}D or {spatial + 2}D input, but "
                           f"received a {ndim}D input. Note that {op} exists to provide "
                           f"channel-wise dropout on inputs with {spatial} spatial "
                           f"dimension{'s' if spatial > 1 else ''}, a channel dimension, and "
                           f"an optional batch dimension.")
    return ndim == spatial + 1


def _unbatched_channel_dropout(x: Any, p: float, training: bool, inplace: bool) -> Tensor:
    """Channel dropout of (C, *) input: the batch axis added for the mask only."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if inplace:
        return in_place(_unbatched_channel_dropout, x, p, training, False)
    batched = _dropout(x.reshape((1,) + x.shape), p, training, False, True, False)
    return batched.reshape(x.shape)


def _channel_dropout(op: str, input: Any, p: float, training: bool, inplace: bool,
                     spatial: int) -> Tensor:
    check_probability(p)
    if _check_dims(op, input, spatial):
        return _unbatched_channel_dropout(input, p, training, inplace)
    return _dropout(input, p, training, inplace, per_channel=True, alpha=False)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, L) or (C, L) input: see the module docstring."""
    return _channel_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, H, W) input. As PyTorch's, 3-D input is taken as
    (N, C, L) (with its warning: use ``dropout1d``), and other ranks with a warning."""
    ndim = np.ndim(input._data if isinstance(input, Tensor) else input)
    if ndim != 4:
        warnings.warn(f"dropout2d: received a {ndim}-D input; as PyTorch, axis 0 is taken as "
                      f"the batch and axis 1 as the channels (dropout2d is meant for (N, C, "
                      f"H, W) input: use dropout1d for (N, C, L), dropout for others)",
                      UserWarning, stacklevel=2)
    return _dropout(input, p, training, inplace, per_channel=True, alpha=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, D, H, W) or (C, D, H, W) input."""
    return _channel_dropout("dropout3d", input, p, training, inplace, 3)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Alpha dropout of each element: see the module docstring. ``training`` defaults
    to False, as in PyTorch."""
    return _dropout(input, p, training, inplace, per_channel=False, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of (N, C, *) input."""
    return _dropout(input, p, training, inplace, per_channel=True, alpha=True)


class _DropoutNd(Module):
    """A dropout Module: ``function(input, p, training, inplace)``."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        check_probability(p)
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self).function(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zeros whole channels of (N, C, L) input in training: see ``dropout1d``."""
    function = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Zeros whole channels of (N, C, H, W) input in training: see ``dropout2d``."""
    function = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Zeros whole channels of (N, C, D, H, W) input in training: see ``dropout3d``."""
    function = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """Alpha dropout in training, for SELU networks: see ``alpha_dropout``."""
    function = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels in training: see ``feature_alpha_dropout``."""
    function = staticmethod(feature_alpha_dropout)
