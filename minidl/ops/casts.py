"""Casts between dtypes: ``x.to(dtype)`` and its short forms ``x.float()``, ``x.long()``, ...

A dtype is anything ``numpy.dtype`` accepts: ``np.float64``, ``"float32"``, ``int``.
A cast between float dtypes is differentiable (d/dx = 1, the gradient cast back
to x's dtype); a cast to an integer or bool dtype cuts the graph, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["to"]


def _dtype(op: str, dtype: Any) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype") from None
    if resolved.kind not in "biuf":
        raise TypeError(f"{op}: tensors hold bool, integer or float data, not {resolved}")
    return resolved


def to(x: Tensor, dtype: Any) -> Tensor:
    """x as ``dtype``; x itself when it already has that dtype (as PyTorch).

    ``to("cpu")`` is accepted and returns x: minidl's tensors live on the CPU."""
    if isinstance(dtype, str) and dtype == "cpu":
        return x
    dtype = _dtype("to", dtype)
    if dtype == x.dtype:
        return x
    out = x._data.astype(dtype)
    if dtype.kind != "f" or x.dtype.kind != "f":
        return Tensor(out, dtype=dtype)
    return Tensor._make(out, (x,), lambda g: (g.astype(x.dtype),))


def float(x: Tensor) -> Tensor:
    """x as float32."""
    return to(x, np.float32)


def double(x: Tensor) -> Tensor:
    """x as float64."""
    return to(x, np.float64)


def half(x: Tensor) -> Tensor:
    """x as float16."""
    return to(x, np.float16)


def int(x: Tensor) -> Tensor:
    """x as int32 (PyTorch's int)."""
    return to(x, np.int32)


def long(x: Tensor) -> Tensor:
    """x as int64."""
    return to(x, np.int64)


def bool(x: Tensor) -> Tensor:
    """x as bool: nonzero is True."""
    return to(x, np.bool_)


def type(x: Tensor, dtype: Any = None) -> Tensor | str:
    """``x.type(dtype)`` casts like ``to``; ``x.type()`` names the dtype (``"float32"``)."""
    return str(x.dtype) if dtype is None else to(x, dtype)
