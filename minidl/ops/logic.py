"""Comparisons, tests and logic: they return bool Tensors, which never require
grad (a step function has no useful gradient), and so record no graph.

``logical_*`` treat any nonzero as True and work on every dtype; ``bitwise_*``
(the operators ``~ & | ^``) work on bool and integer tensors, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import Axis, _alias, _broadcasting, _operands, _reduction_axes, _tensor_arguments

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf", "isfinite", "isclose",
           "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_not",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
           "bitwise_right_shift", "any", "all", "allclose", "equal"]


def _compare(op: str, ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    a, b = _operands(a, b)
    return Tensor(_broadcasting(op, ufunc, a._data, b._data))


def eq(a: Any, b: Any) -> Tensor:
    """a == b elementwise."""
    return _compare("eq", np.equal, a, b)


def ne(a: Any, b: Any) -> Tensor:
    """a != b elementwise."""
    return _compare("ne", np.not_equal, a, b)


def lt(a: Any, b: Any) -> Tensor:
    """a < b elementwise."""
    return _compare("lt", np.less, a, b)


def le(a: Any, b: Any) -> Tensor:
    """a <= b elementwise."""
    return _compare("le", np.less_equal, a, b)


def gt(a: Any, b: Any) -> Tensor:
    """a > b elementwise."""
    return _compare("gt", np.greater, a, b)


def ge(a: Any, b: Any) -> Tensor:
    """a >= b elementwise."""
    return _compare("ge", np.greater_equal, a, b)


def isnan(x: Tensor) -> Tensor:
    """True where x is NaN."""
    return Tensor(np.isnan(x._data))


def isinf(x: Tensor) -> Tensor:
    """True where x is +inf or -inf."""
    return Tensor(np.isinf(x._data))


def isfinite(x: Tensor) -> Tensor:
    """True where x is neither NaN nor infinite."""
    return Tensor(np.isfinite(x._data))


def isclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """|a - b| <= atol + rtol |b| elementwise (PyTorch's and numpy's defaults)."""
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol and atol must be >= 0, not rtol={rtol}, atol={atol}")
    a, b = _operands(a, b)
    return Tensor(_broadcasting("isclose", lambda a, b: np.isclose(
        a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), a._data, b._data))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """Whether ``isclose`` holds everywhere (the shapes broadcast); as in PyTorch the
    two tensors must have one dtype."""
    _tensor_arguments("allclose", input=input, other=other)
    if input.dtype != other.dtype:
        raise RuntimeError(f"allclose: dtype {input.dtype} of input did not match dtype "
                           f"{other.dtype} of other")
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether the two tensors have the same shape and the same values (nan equals
    nothing); the dtypes may differ."""
    _tensor_arguments("equal", input=input, other=other)
    return bool(np.array_equal(input._data, other._data))


def logical_not(x: Tensor) -> Tensor:
    """not x (nonzero counts as True)."""
    return Tensor(np.logical_not(x._data))


def logical_and(a: Any, b: Any) -> Tensor:
    """a and b elementwise (nonzero counts as True)."""
    return _compare("logical_and", np.logical_and, a, b)


def logical_or(a: Any, b: Any) -> Tensor:
    """a or b elementwise (nonzero counts as True)."""
    return _compare("logical_or", np.logical_or, a, b)


def logical_xor(a: Any, b: Any) -> Tensor:
    """a xor b elementwise (nonzero counts as True)."""
    return _compare("logical_xor", np.logical_xor, a, b)


def _integral(op: str, *tensors: Tensor) -> None:
    for t in tensors:
        if t.dtype.kind not in "biu":
            raise TypeError(f"{op}: works on bool and integer tensors, not dtype {t.dtype}")


def bitwise_not(x: Tensor) -> Tensor:
    """~x: logical not of a bool tensor, bitwise not (-x - 1) of an integer one."""
    _integral("bitwise_not", x)
    return Tensor(np.invert(x._data))


def _bitwise(op: str, ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    a, b = _operands(a, b)
    _integral(op, a, b)
    return Tensor(_broadcasting(op, ufunc, a._data, b._data))


def bitwise_and(a: Any, b: Any) -> Tensor:
    """a & b: and of bools, bitwise and of integers."""
    return _bitwise("bitwise_and", np.bitwise_and, a, b)


def bitwise_or(a: Any, b: Any) -> Tensor:
    """a | b: or of bools, bitwise or of integers."""
    return _bitwise("bitwise_or", np.bitwise_or, a, b)


def bitwise_xor(a: Any, b: Any) -> Tensor:
    """a ^ b: xor of bools, bitwise xor of integers."""
    return _bitwise("bitwise_xor", np.bitwise_xor, a, b)


def bitwise_left_shift(a: Any, b: Any) -> Tensor:
    """a << b: the integers a shifted left by b bits."""
    return _bitwise("bitwise_left_shift", np.left_shift, a, b)


def bitwise_right_shift(a: Any, b: Any) -> Tensor:
    """a >> b: the integers a shifted right by b bits (arithmetic: the sign stays)."""
    return _bitwise("bitwise_right_shift", np.right_shift, a, b)


def any(x: Tensor, axis: Axis = None, keepdims: bool = False, *,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:
    """True where any element over axis (``dim``) is nonzero; an empty one gives False."""
    axes = _reduction_axes("any", _alias("any", axis, dim), x.ndim)
    return Tensor(np.any(x._data, axis=axes, keepdims=keepdims if keepdim is None else keepdim))


def all(x: Tensor, axis: Axis = None, keepdims: bool = False, *,
        dim: Axis = None, keepdim: bool | None = None) -> Tensor:
    """True where every element over axis (``dim``) is nonzero; an empty one gives True."""
    axes = _reduction_axes("all", _alias("all", axis, dim), x.ndim)
    return Tensor(np.all(x._data, axis=axes, keepdims=keepdims if keepdim is None else keepdim))
