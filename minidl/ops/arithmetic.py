"""Arithmetic: + - * / ** negation and matrix product, with numpy broadcasting."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import _broadcasting, _constant, _operands

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "matmul"]


def add(a: Any, b: Any) -> Tensor:
    """a + b;  d/da = 1, d/db = 1."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(g, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("add", np.add, a.data, b.data), (a, b), backward)


def sub(a: Any, b: Any) -> Tensor:
    """a - b;  d/da = 1, d/db = -1."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(-g, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("sub", np.subtract, a.data, b.data), (a, b), backward)


def mul(a: Any, b: Any) -> Tensor:
    """a * b;  d/da = b, d/db = a."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g * b.data, a.shape) if a.requires_grad else None,
                unbroadcast(g * a.data, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("mul", np.multiply, a.data, b.data), (a, b), backward)


def div(a: Any, b: Any) -> Tensor:
    """a / b;  d/da = 1 / b, d/db = -a / b^2."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g / b.data, a.shape) if a.requires_grad else None,
                unbroadcast(-g * a.data / b.data**2, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("div", np.divide, a.data, b.data), (a, b), backward)


def pow(x: Tensor, exponent: float) -> Tensor:
    """x ** p for a scalar p;  d/dx = p x^(p-1)."""
    if isinstance(exponent, Tensor) or not isinstance(exponent, numbers.Real):
        raise TypeError(f"pow: the exponent must be a real scalar, not {type(exponent).__name__}")
    p = int(exponent) if isinstance(exponent, numbers.Integral) else float(exponent)
    x = _constant(x, np.dtype(np.float32))

    def backward(g: np.ndarray):
        return (g * p * x.data ** (p - 1) if p != 0 else np.zeros_like(g),)
    return Tensor._make(x.data**p, (x,), backward)


def neg(x: Tensor) -> Tensor:
    """-x;  d/dx = -1."""
    return Tensor._make(-x.data, (x,), lambda g: (-g,))


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with numpy's rules (1-D operands, batch broadcasting);
    d/da = g @ b^T, d/db = a^T @ g (transposing the last two axes)."""
    a, b = _operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands need at least one dimension, "
                         f"got shapes {a.shape} and {b.shape}")
    # A 1-D operand is a row (left) or a column (right) whose extra axis drops out of the result.
    a2 = a.data[None, :] if a.ndim == 1 else a.data
    b2 = b.data[:, None] if b.ndim == 1 else b.data
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match: "
                         f"inner dimensions {a2.shape[-1]} and {b2.shape[-2]} differ")
    try:
        np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match: "
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
