"""Elementwise functions and activations, and the ops that pick between operands."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import (_broadcasting, _float_dtype, _float_input, _floating, _operands,
                      _sequence_operands)

__all__ = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "gelu", "clip",
           "clamp", "clamp_min", "clamp_max", "maximum", "minimum", "where"]


def exp(x: Tensor) -> Tensor:
    """e^x;  d/dx = e^x."""
    out = np.exp(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (g * out,))


def log(x: Tensor) -> Tensor:
    """ln x;  d/dx = 1 / x."""
    data = _floating(x._data)
    return Tensor._make(np.log(data), (x,), lambda g: (g / data,))


def sqrt(x: Tensor) -> Tensor:
    """sqrt(x);  d/dx = 1 / (2 sqrt(x))."""
    out = np.sqrt(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (g / (2 * out),))


def abs(x: Tensor) -> Tensor:
    """|x|;  d/dx = sign(x) (0 at x = 0)."""
    return Tensor._make(np.abs(x._data), (x,), lambda g: (g * np.sign(x._data),))


def tanh(x: Tensor) -> Tensor:
    """tanh x;  d/dx = 1 - tanh^2 x."""
    out = np.tanh(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (g * (1 - out**2),))


def sigmoid(x: Tensor) -> Tensor:
    """s(x) = 1 / (1 + e^-x);  d/dx = s (1 - s) = e / (1 + e)^2 with e = e^-|x|.

    Stable for large |x|: as e = e^-|x| <= 1, s = 1 / (1 + e) for x >= 0 and
    e / (1 + e) for x < 0 never overflow, and the derivative written in e keeps
    its precision on both tails (1 - s would round to 0 for large x)."""
    data = _floating(x._data)
    e = np.exp(-np.abs(data))
    out = np.where(data >= 0, 1, e) / (1 + e)
    return Tensor._make(out, (x,), lambda g: (g * e / (1 + e) ** 2,))


def relu(x: Tensor) -> Tensor:
    """max(x, 0);  d/dx = 1 if x > 0 else 0."""
    positive = x._data > 0
    out = np.zeros(x.shape, np.result_type(x._data, 0))
    np.maximum(x._data, out, out=out)   # against an array of zeros numpy's SIMD loop runs:
    return Tensor._make(out, (x,), lambda g: (g * positive,))   # 2-3x the scalar 0's speed


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else a x;  d/dx = 1 if x > 0 else a (a = negative_slope)."""
    data = _float_input("leaky_relu", x)
    slope = np.where(data > 0, 1, negative_slope).astype(data.dtype)
    return Tensor._make(data * slope, (x,), lambda g: (g * slope,))


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF;  d/dx = Phi(x) + x phi(x).

    ``approximate="none"``: Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = e^(-x^2/2) / sqrt(2 pi).
    ``approximate="tanh"``: Phi(x) ~ (1 + t) / 2 with t = tanh(u),
    u = sqrt(2/pi) (x + 0.044715 x^3),
    so d/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2."""
    data = _float_input("gelu", x)
    if approximate == "none":
        from scipy.special import erf  # a ufunc; scipy comes with scikit-learn, loaded on first use
        cdf = (1 + erf(data / math.sqrt(2))) / 2

        def slope() -> np.ndarray:
            return cdf + data * np.exp(-data**2 / 2) / math.sqrt(2 * math.pi)
    elif approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (data + 0.044715 * data**3))
        cdf = (1 + t) / 2

        def slope() -> np.ndarray:
            return cdf + data * (1 - t**2) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * data**2) / 2
    else:
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Tensor._make(data * cdf, (x,), lambda g: (g * slope(),))


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """min(max(x, min), max): x limited to [min, max], PyTorch's clamp. The bounds may be
    numbers or tensors that broadcast with x; the dtype is PyTorch's promotion of the three.

    d/dx = 1 where min <= x <= max, else 0;  d/dmin = 1 where x < min (and min < max);
    d/dmax = 1 where x > max, or everywhere max < min, where max wins (as PyTorch's)."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    given = [bound for bound in (min, max) if bound is not None]
    x, *bounds = _sequence_operands("clip", [x, *given])
    low = bounds.pop(0) if min is not None else None
    high = bounds.pop(0) if max is not None else None
    out = x._data if low is None else _broadcasting("clip", np.maximum, x._data, low._data)
    out = out if high is None else _broadcasting("clip", np.minimum, out, high._data)

    def backward(g: np.ndarray):
        data = x._data
        above_low = True if low is None else data >= low._data
        below_high = True if high is None else data <= high._data
        grads = [unbroadcast(g * (above_low & below_high), x.shape) if x.requires_grad else None]
        if low is not None:
            active = data < low._data
            if high is not None:
                active = active & (low._data < high._data)
            grads.append(unbroadcast(g * active, low.shape) if low.requires_grad else None)
        if high is not None:
            active = data > high._data
            if low is not None:
                active = active | (high._data < low._data)
            grads.append(unbroadcast(g * active, high.shape) if high.requires_grad else None)
        return tuple(grads)
    parents = (x,) + tuple(b for b in (low, high) if b is not None)
    return Tensor._make(out, parents, backward)


clamp = clip   # PyTorch's name


def clamp_min(x: Tensor, min: Any) -> Tensor:
    """max(x, min): ``clamp(x, min=min)``."""
    return clip(x, min=min)


def clamp_max(x: Tensor, max: Any) -> Tensor:
    """min(x, max): ``clamp(x, max=max)``."""
    return clip(x, max=max)


def _select(op: str, a: Any, b: Any, pick: np.ufunc) -> Tensor:
    """maximum/minimum: the winner of each pair gets the gradient, a tie splits it."""
    a, b = _operands(a, b)
    out = _broadcasting(op, pick, a._data, b._data)

    def backward(g: np.ndarray):
        share_a = np.where(a._data == b._data, 0.5, a._data == out).astype(_float_dtype(out))
        return (unbroadcast(g * share_a, a.shape) if a.requires_grad else None,
                unbroadcast(g * (1 - share_a), b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def maximum(a: Any, b: Any) -> Tensor:
    """max(a, b) elementwise;  d/da = 1 where a > b, 1/2 where a = b, else 0."""
    return _select("maximum", a, b, np.maximum)


def minimum(a: Any, b: Any) -> Tensor:
    """min(a, b) elementwise;  d/da = 1 where a < b, 1/2 where a = b, else 0."""
    return _select("minimum", a, b, np.minimum)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where condition else b;  d/da = condition, d/db = not condition."""
    cond = np.asarray(condition._data if isinstance(condition, Tensor) else condition)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor or array, not dtype {cond.dtype}")
    a, b = _operands(a, b)
    out = _broadcasting("where", np.where, cond, a._data, b._data)

    def backward(g: np.ndarray):
        return (unbroadcast(np.where(cond, g, 0), a.shape) if a.requires_grad else None,
                unbroadcast(np.where(cond, 0, g), b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)
