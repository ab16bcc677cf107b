"""Padding Modules: ``ZeroPad1d/2d``, ``ConstantPad1d/2d``, ``ReflectionPad1d/2d``,
``ReplicationPad1d/2d`` and ``CircularPad1d/2d``, each ``F.pad`` with its mode.

``padding`` is an int (every side) or a tuple (left, right) for the 1-d Modules,
(left, right, top, bottom) for the 2-d ones, kept as that tuple (``.padding``) as in
PyTorch; a negative amount crops. The 1-d Modules take (C, L) or (N, C, L) input, the
2-d ones (C, H, W) or (N, C, H, W); the zero and constant ones take any input with
enough dimensions, as PyTorch's. Input of another rank raises PyTorch's exception
(NotImplementedError for reflection and replication, ValueError otherwise).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .conv import pad
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
           "CircularPad2d"]


def _as_padding(value: Any, count: int) -> tuple[int, ...]:
    """An int or ``count`` ints as a ``count``-tuple; a TypeError for anything else."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * count
    if (isinstance(value, (tuple, list)) and len(value) == count and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        return tuple(int(v) for v in value)
    raise TypeError(f"Invalid padding: {value!r} (needs an int or a tuple of {count} ints)")


class _PadNd(Module):
    """``F.pad(input, padding, mode, value)``, for input of ``dims`` spatial dimensions."""

    mode = "constant"
    dims = 1

    def __init__(self, padding: Any, value: float = 0.0):
        super().__init__()
        self.padding = _as_padding(padding, 2 * self.dims)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        ndim = np.ndim(input._data if isinstance(input, Tensor) else input)
        low = self.dims if self.mode == "constant" else self.dims + 1
        high = None if self.mode == "constant" else self.dims + 2
        if ndim < low or (high is not None and ndim > high):
            wanted = f"{low}D or {high}D" if high else f"at least {low}D"
            error = NotImplementedError if self.mode in ("reflect", "replicate") else ValueError
            raise error(f"{type(self).__name__}: expected {wanted} input, got input of "
                             f"shape {np.shape(input)}")
        return pad(input, self.padding, self.mode, self.value)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pads the last dimension with ``value``."""

    def __init__(self, padding: Any, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    """Pads the last two dimensions with ``value``."""
    dims = 2


class ZeroPad1d(_PadNd):
    """Pads the last dimension with zeros."""

    def __init__(self, padding: Any):
        super().__init__(padding)


class ZeroPad2d(ZeroPad1d):
    """Pads the last two dimensions with zeros."""
    dims = 2


class ReflectionPad1d(ZeroPad1d):
    """Pads the last dimension with its mirror image, the edge not repeated (needs
    padding < size)."""
    mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Pads the last two dimensions with their mirror images."""
    dims = 2


class ReplicationPad1d(ZeroPad1d):
    """Pads the last dimension by repeating its edge values."""
    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Pads the last two dimensions by repeating their edge values."""
    dims = 2


class CircularPad1d(ZeroPad1d):
    """Pads the last dimension by wrapping around (needs padding <= size)."""
    mode = "circular"


class CircularPad2d(CircularPad1d):
    """Pads the last two dimensions by wrapping around."""
    dims = 2
