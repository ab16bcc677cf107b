"""Binary elementwise math beyond + - * /: rounded division, remainders, lerp,
logaddexp, copysign, atan2, hypot, xlogy, fmax, fmin. All broadcast like numpy; integer
operands stay integer where PyTorch keeps them so (``//``, ``%``, ``fmod``).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import _broadcasting, _operands, _tensor_arguments

__all__ = ["floor_divide", "remainder", "fmod", "lerp", "logaddexp", "copysign", "atan2",
           "hypot", "xlogy", "fmax", "fmin", "heaviside"]


def _float_operands(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Operands already promoted together; integer or bool ones become float32 (PyTorch's
    default dtype) for the ops whose result is always a float: / and copysign."""
    if a.dtype.kind == "f":
        return a, b
    return Tensor(a._data, dtype=np.float32), Tensor(b._data, dtype=np.float32)


def _integer_divisor(op: str, a: Tensor, b: Tensor) -> None:
    """Integer division by zero has no answer: raise as PyTorch does, where numpy gives 0."""
    if a.dtype.kind != "f" and b.dtype.kind != "f" and np.any(b._data == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero")


def _rounded_quotient(op: str, a: Any, b: Any,
                      quotient: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Tensor:
    """A rounded a / b: piecewise constant, so its gradient is zero (PyTorch's too)."""
    a, b = _operands(a, b)
    _integer_divisor(op, a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _broadcasting(op, quotient, a._data, b._data)
    return Tensor._make(out, (a, b), lambda g: (
        np.zeros(a.shape, g.dtype) if a.requires_grad else None,
        np.zeros(b.shape, g.dtype) if b.requires_grad else None))


def floor_divide(a: Any, b: Any) -> Tensor:
    """a // b = floor(a / b);  d/da = d/db = 0."""
    return _rounded_quotient("floor_divide", a, b, np.floor_divide)


def _toward_zero(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return np.trunc(a / b)
    # Integers: floor, then step back up by one where the quotient was negative and inexact.
    return np.floor_divide(a, b) + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))


def trunc_divide(a: Any, b: Any) -> Tensor:
    """trunc(a / b), rounded toward zero: ``div(a, b, rounding_mode="trunc")``;  zero gradient."""
    return _rounded_quotient("div", a, b, _toward_zero)


def _modulo(op: str, a: Any, b: Any, mod: np.ufunc,
            rounding: Callable[[np.ndarray], np.ndarray]) -> Tensor:
    """a - b * round(a / b) with ``rounding``;  d/da = 1, d/db = -round(a / b)."""
    a, b = _operands(a, b)
    _integer_divisor(op, a, b)
    out = _broadcasting(op, mod, a._data, b._data)

    def backward(g: np.ndarray):
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(-g * rounding(a._data / b._data), b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def remainder(a: Any, b: Any) -> Tensor:
    """a % b = a - b floor(a / b), the sign of b (Python's %);  d/da = 1, d/db = -floor(a / b)."""
    return _modulo("remainder", a, b, np.remainder, np.floor)


def fmod(a: Any, b: Any) -> Tensor:
    """a - b trunc(a / b), the sign of a (C's fmod);  d/da = 1, d/db = -trunc(a / b)."""
    return _modulo("fmod", a, b, np.fmod, np.trunc)


def lerp(start: Any, end: Any, weight: Any) -> Tensor:
    """start + w (end - start);  d/dstart = 1 - w, d/dend = w, d/dw = end - start."""
    start, end = _operands(start, end)
    _, w = _operands(start, weight)
    a, b, c = start._data, end._data, w._data
    out = _broadcasting("lerp", lambda a, b, c: a + c * (b - a), a, b, c)

    def backward(g: np.ndarray):
        return (unbroadcast(g * (1 - c), a.shape) if start.requires_grad else None,
                unbroadcast(g * c, b.shape) if end.requires_grad else None,
                unbroadcast(g * (b - a), c.shape) if w.requires_grad else None)
    return Tensor._make(out, (start, end, w), backward)


def logaddexp(a: Any, b: Any) -> Tensor:
    """log(e^a + e^b);  d/da = e^a / (e^a + e^b) = e^(a - out), d/db = e^(b - out)."""
    a, b = _operands(a, b)
    out = _broadcasting("logaddexp", np.logaddexp, a._data, b._data)

    def backward(g: np.ndarray):
        return (unbroadcast(g * np.exp(a._data - out), a.shape) if a.requires_grad else None,
                unbroadcast(g * np.exp(b._data - out), b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def copysign(a: Any, b: Any) -> Tensor:
    """|a| with the sign of b (its sign bit: -0.0 counts as negative);
    d/da = out / a (+-1; 0 where a = 0, as in PyTorch), d/db = 0."""
    a, b = _float_operands(*_operands(a, b))
    out = _broadcasting("copysign", np.copysign, a._data, b._data)

    def backward(g: np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(a._data == 0, 0, out / a._data)
        return (unbroadcast(g * ratio, a.shape) if a.requires_grad else None,
                np.zeros(b.shape, g.dtype) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def atan2(a: Any, b: Any) -> Tensor:
    """The angle of the point (b, a) in (-pi, pi];  d/da = b / (a^2 + b^2),
    d/db = -a / (a^2 + b^2). Integer operands give float32."""
    a, b = _float_operands(*_operands(a, b))
    out = _broadcasting("atan2", np.arctan2, a._data, b._data)

    def backward(g: np.ndarray):
        r2 = a._data**2 + b._data**2
        return (unbroadcast(g * b._data / r2, a.shape) if a.requires_grad else None,
                unbroadcast(-g * a._data / r2, b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def hypot(a: Any, b: Any) -> Tensor:
    """sqrt(a^2 + b^2) without overflow;  d/da = a / out, d/db = b / out."""
    a, b = _operands(a, b)
    out = _broadcasting("hypot", np.hypot, a._data, b._data)

    def backward(g: np.ndarray):
        return (unbroadcast(g * a._data / out, a.shape) if a.requires_grad else None,
                unbroadcast(g * b._data / out, b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def xlogy(x: Any, y: Any) -> Tensor:
    """x ln y, and 0 where x = 0 (even for y = 0), unless y is NaN;
    d/dx = ln y (0 where x = 0 and y <= 0, PyTorch's), d/dy = x / y."""
    x, y = _float_operands(*_operands(x, y))
    a, b = x._data, y._data
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _broadcasting("xlogy", lambda a, b: np.where((a == 0) & ~np.isnan(b), 0,
                                                             a * np.log(b)), a, b)

    def backward(g: np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (unbroadcast(g * np.where((a == 0) & (b <= 0), 0, np.log(b)), a.shape)
                    if x.requires_grad else None,
                    unbroadcast(g * a / b, b.shape) if y.requires_grad else None)
    return Tensor._make(out.astype(a.dtype, copy=False), (x, y), backward)


def _nan_ignoring(op: str, a: Any, b: Any, pick: np.ufunc, wins: np.ufunc) -> Tensor:
    """fmax/fmin: the larger (smaller), NaN counting as missing; the gradient goes to a where
    a wins or ties or b is NaN, else to b (PyTorch's)."""
    a, b = _operands(a, b)
    out = _broadcasting(op, pick, a._data, b._data)

    def backward(g: np.ndarray):
        to_a = wins(a._data, b._data) | (a._data == b._data)
        if b.dtype.kind == "f":
            to_a = to_a | np.isnan(b._data)
        return (unbroadcast(g * to_a, a.shape) if a.requires_grad else None,
                unbroadcast(g * ~to_a, b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def fmax(a: Any, b: Any) -> Tensor:
    """max(a, b), NaN only where both are NaN;  d/da = 1 where a >= b or b is NaN."""
    return _nan_ignoring("fmax", a, b, np.fmax, np.greater)


def fmin(a: Any, b: Any) -> Tensor:
    """min(a, b), NaN only where both are NaN;  d/da = 1 where a <= b or b is NaN."""
    return _nan_ignoring("fmin", a, b, np.fmin, np.less)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 where input < 0, ``values`` where input == 0, 1 where
    input > 0 (and 0 at nan, as PyTorch's). Both are tensors of one dtype, as PyTorch
    requires. It has no derivative: ``backward`` through it raises, as in PyTorch."""
    _tensor_arguments("heaviside", input=input, values=values)
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes: input {input.dtype}, values {values.dtype}")
    x = input._data
    out = _broadcasting("heaviside", lambda x, v: np.where(x == 0, v, (x > 0).astype(x.dtype)),
                        x, values._data)

    def backward(g: np.ndarray):
        raise RuntimeError("the derivative for 'heaviside' is not implemented")
    return Tensor._make(out, (input, values), backward)
