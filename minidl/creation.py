"""Functions that make new leaf tensors."""
from __future__ import annotations

from typing import Any

import numpy as np

from .ops import _shape_arg
from .random import generator
from .tensor import Tensor


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf Tensor: float32 unless ``dtype`` asks otherwise (see ``Tensor``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """A Tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return Tensor(np.zeros(_shape_arg(shape), dtype=dtype), requires_grad, dtype)


def ones(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """A Tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return Tensor(np.ones(_shape_arg(shape), dtype=dtype), requires_grad, dtype)


def _random(op: str, draw: Any, shape: tuple, dtype: Any, requires_grad: bool) -> Tensor:
    """Samples from ``draw`` (a method of minidl's generator) in a float ``dtype``."""
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"{op}: dtype must be a floating-point dtype, got {np.dtype(dtype)}")
    return Tensor(draw(_shape_arg(shape)), requires_grad, dtype)


def randn(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from minidl's seeded generator."""
    return _random("randn", generator().standard_normal, shape, dtype, requires_grad)


def rand(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from minidl's seeded generator."""
    return _random("rand", generator().random, shape, dtype, requires_grad)
