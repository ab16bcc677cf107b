"""Functions that make new leaf tensors."""
from __future__ import annotations

from typing import Any

import numpy as np

from .random import generator
from .tensor import Tensor



def _shape(shape: tuple) -> tuple[int, ...]:
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad, dtype)


def ones(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad, dtype)


def randn(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from minidl's seeded generator."""
    return Tensor(generator().standard_normal(_shape(shape)), requires_grad, dtype)


def rand(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from minidl's seeded generator."""
    return Tensor(generator().random(_shape(shape)), requires_grad, dtype)
