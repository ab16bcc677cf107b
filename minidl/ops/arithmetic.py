"""Arithmetic: + - * / ** negation and matrix product, with numpy broadcasting; and the
compositions of them that PyTorch names: float_power, addcmul, addcdiv."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import _broadcasting, _constant, _floating, _operands
from .binary import _float_operands, floor_divide, trunc_divide
from .casts import to

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "matmul", "float_power", "addcmul",
           "addcdiv"]


def add(a: Any, b: Any) -> Tensor:
    """a + b;  d/da = 1, d/db = 1."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(g, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("add", np.add, a._data, b._data), (a, b), backward)


def sub(a: Any, b: Any) -> Tensor:
    """a - b;  d/da = 1, d/db = -1."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(-g, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("sub", np.subtract, a._data, b._data), (a, b), backward)


def mul(a: Any, b: Any) -> Tensor:
    """a * b;  d/da = b, d/db = a."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g * b._data, a.shape) if a.requires_grad else None,
                unbroadcast(g * a._data, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("mul", np.multiply, a._data, b._data), (a, b), backward)


def div(a: Any, b: Any, rounding_mode: str | None = None) -> Tensor:
    """a / b;  d/da = 1 / b, d/db = -a / b^2. Integer operands give float32.

    ``rounding_mode="floor"`` is ``floor_divide``, ``"trunc"`` rounds toward
    zero; both have zero gradient, as in PyTorch."""
    if rounding_mode is not None:
        if rounding_mode not in _ROUNDED:
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', "
                             f"got {rounding_mode!r}")
        return _ROUNDED[rounding_mode](a, b)
    a, b = _float_operands(*_operands(a, b))

    def backward(g: np.ndarray):
        return (unbroadcast(g / b._data, a.shape) if a.requires_grad else None,
                unbroadcast(-g * a._data / b._data**2, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("div", np.divide, a._data, b._data), (a, b), backward)


_ROUNDED = {"floor": floor_divide, "trunc": trunc_divide}


def pow(x: Any, exponent: Any) -> Tensor:
    """x ** p;  d/dx = p x^(p-1) (0 where p = 0), d/dp = x^p ln x (0 where x = 0 and p >= 0,
    as in PyTorch). Either side may be a Tensor: ``x ** 2``, ``x ** y``, ``2 ** x``."""
    if not isinstance(exponent, Tensor) and isinstance(exponent, numbers.Real):
        return _scalar_pow(x, exponent)
    x, p = _operands(x, exponent)
    out = _broadcasting("pow", _integer_power if p.dtype.kind in "iu" else np.power,
                        x._data, p._data)

    def backward(g: np.ndarray):
        grad_x = grad_p = None
        with np.errstate(divide="ignore", invalid="ignore"):  # 0^-1, log 0: inf as PyTorch
            if x.requires_grad:
                slope = np.where(p._data == 0, 0, p._data * x._data ** (p._data - 1))
                grad_x = unbroadcast(g * slope, x.shape)
            if p.requires_grad:
                slope = np.where((x._data == 0) & (p._data >= 0), 0, out * np.log(x._data))
                grad_p = unbroadcast(g * slope, p.shape)
        return grad_x, grad_p
    return Tensor._make(out, (x, p), backward)


def _scalar_pow(x: Any, exponent: numbers.Real) -> Tensor:
    """x ** p for a Python or numpy scalar p;  d/dx = p x^(p-1)."""
    p = int(exponent) if isinstance(exponent, numbers.Integral) else float(exponent)
    x = _constant(x, np.dtype(np.float32))
    _check_integer_power(x._data, np.asarray(p))
    data = x._data if isinstance(p, int) else _floating(x._data)

    def backward(g: np.ndarray):
        return (g * p * data ** (p - 1) if p != 0 else np.zeros_like(g),)
    return Tensor._make(data**p, (x,), backward)


def _check_integer_power(base: np.ndarray, exponent: np.ndarray) -> None:
    """PyTorch's refusal of an integer tensor to a negative integer number."""
    if base.dtype.kind in "iu" and exponent.dtype.kind in "iu" and (exponent < 0).any():
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed "
                           f"(exponent {exponent[exponent < 0].flat[0]}); use a float base")


def _integer_power(base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """base ** exponent for integer tensors, PyTorch's: a negative exponent gives the integer
    part of the true power, 1 / base^|p| (1 or -1 for a base of 1 or -1, else 0)."""
    if base.dtype.kind not in "iu" or not (exponent < 0).any():
        return np.power(base, exponent)
    negative = exponent < 0
    magnitude = np.power(base, np.where(negative, -exponent, exponent))
    return np.where(negative & (np.abs(base) != 1), 0, magnitude).astype(magnitude.dtype)


def neg(x: Tensor) -> Tensor:
    """-x;  d/dx = -1. A bool x is refused, as in PyTorch (use ~x or logical_not)."""
    if x.dtype == np.bool_:
        raise RuntimeError("neg: negation of a bool tensor is not defined; use ~x or "
                           "logical_not(x)")
    return Tensor._make(-x._data, (x,), lambda g: (-g,))


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with numpy's rules (1-D operands, batch broadcasting);
    d/da = g @ b^T, d/db = a^T @ g (transposing the last two axes)."""
    a, b = _operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: operands need at least one dimension, "
                           f"got shapes {a.shape} and {b.shape}")
    # A 1-D operand is a row (left) or a column (right) whose extra axis drops out of the result.
    a2 = a._data[None, :] if a.ndim == 1 else a._data
    b2 = b._data[:, None] if b.ndim == 1 else b._data
    if a2.shape[-1] != b2.shape[-2]:
        raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} do not match: "
                           f"inner dimensions {a2.shape[-1]} and {b2.shape[-2]} differ")
    try:
        np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} do not match: "
                           f"their batch dimensions do not broadcast") from None
    out2 = a2 @ b2
    # Drop the axes that the 1-D operands gained above.
    out_shape = out2.shape[:-2] + (out2.shape[-2:-1] if a.ndim > 1 else ()) \
        + (out2.shape[-1:] if b.ndim > 1 else ())

    def backward(g: np.ndarray):
        g2 = g.reshape(out2.shape)
        grad_a = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) \
            if a.requires_grad else None
        grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape) \
            if b.requires_grad else None
        return grad_a, grad_b
    return Tensor._make(out2.reshape(out_shape), (a, b), backward)


def float_power(x: Any, exponent: Any) -> Tensor:
    """x ** exponent in float64, whatever the operands' dtypes (PyTorch's);  the gradients
    are pow's, cast back to each operand's dtype."""
    return pow(*(to(v, np.float64) if isinstance(v, Tensor) else np.float64(v)
                 for v in (x, exponent)))


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
    """input + value * tensor1 * tensor2, composed of mul and add (their gradients)."""
    return add(input, mul(mul(tensor1, tensor2), value))


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
    """input + value * tensor1 / tensor2, composed of div, mul and add (their gradients)."""
    return add(input, mul(div(tensor1, tensor2), value))
