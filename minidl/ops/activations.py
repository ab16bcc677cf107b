"""Activations beyond relu, leaky_relu, sigmoid, tanh and gelu (in elementwise.py):
the exponential-linear family, the smooth and the hard (piecewise linear) ones.

At a kink the gradient takes PyTorch's one-sided value, named in each docstring.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import _float_input, _floating
from .softmax import softmax

__all__ = ["elu", "celu", "selu", "silu", "mish", "softplus", "softsign", "hardtanh", "relu6",
           "hardsigmoid", "hardswish", "logsigmoid", "softmin"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _exponential_linear(op: str, x: Tensor, alpha: float, scale: float,
                        input_scale: float) -> Tensor:
    """s x for x > 0, s a (e^(c x) - 1) otherwise (s = scale, a = alpha, c = input_scale);
    d/dx = s for x > 0, else s a c e^(c x) (the left slope at 0)."""
    data = _float_input(op, x)
    positive = data > 0
    e = np.exp(np.minimum(data, 0) * input_scale)
    out = scale * np.where(positive, data, alpha * (e - 1))
    slope = np.where(positive, scale, scale * alpha * input_scale * e).astype(data.dtype)
    return Tensor._make(out.astype(data.dtype, copy=False), (x,), lambda g: (g * slope,))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, a (e^x - 1) otherwise;  d/dx = 1 for x > 0, else a e^x."""
    return _exponential_linear("elu", x, alpha, 1.0, 1.0)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, a (e^(x/a) - 1) otherwise;  d/dx = 1 for x > 0, else e^(x/a)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return _exponential_linear("celu", x, alpha, 1.0, 1.0 / alpha)


def selu(x: Tensor) -> Tensor:
    """s x for x > 0, s a (e^x - 1) otherwise, with the self-normalising constants
    a = 1.6733, s = 1.0507;  d/dx = s for x > 0, else s a e^x."""
    return _exponential_linear("selu", x, _SELU_ALPHA, _SELU_SCALE, 1.0)


def _sigmoid(data: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow on either tail."""
    e = np.exp(-np.abs(data))
    return np.where(data >= 0, 1, e) / (1 + e)


def _softplus(data: np.ndarray) -> np.ndarray:
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), finite for any x."""
    return np.maximum(data, 0) + np.log1p(np.exp(-np.abs(data)))


def silu(x: Tensor) -> Tensor:
    """x s(x), s the sigmoid (also called swish);  d/dx = s (1 + x (1 - s))."""
    data = _float_input("silu", x)
    s = _sigmoid(data)
    return Tensor._make(data * s, (x,), lambda g: (g * s * (1 + data * (1 - s)),))


def mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x));  d/dx = t + x s(x) (1 - t^2), t = tanh(softplus(x))."""
    data = _float_input("mish", x)
    t = np.tanh(_softplus(data))
    return Tensor._make(data * t, (x,),
                        lambda g: (g * (t + data * _sigmoid(data) * (1 - t**2)),))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(b x)) / b, and x itself where b x > threshold;
    d/dx = s(b x) (1 beyond the threshold)."""
    data = _float_input("softplus", x)
    scaled = data * beta
    linear = scaled > threshold
    out = np.where(linear, data, _softplus(scaled) / beta).astype(data.dtype, copy=False)
    slope = np.where(linear, 1, _sigmoid(scaled)).astype(data.dtype, copy=False)
    return Tensor._make(out, (x,), lambda g: (g * slope,))


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|);  d/dx = 1 / (1 + |x|)^2."""
    data = _floating(x._data)
    denominator = 1 + np.abs(data)
    return Tensor._make(data / denominator, (x,), lambda g: (g / denominator**2,))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val];  d/dx = 1 strictly inside, 0 elsewhere (ends too).
    An integer x keeps its dtype, as in PyTorch."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    data = x._data
    inside = (data > min_val) & (data < max_val)
    out = np.clip(data, min_val, max_val).astype(data.dtype, copy=False)
    return Tensor._make(out, (x,), lambda g: (g * inside,))


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6);  d/dx = 1 for 0 < x < 6, else 0."""
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x: Tensor) -> Tensor:
    """relu6(x + 3) / 6;  d/dx = 1/6 for -3 < x < 3, else 0."""
    data = _float_input("hardsigmoid", x)
    inside = (data > -3) & (data < 3)
    out = (np.clip(data, -3, 3) + 3) / 6
    return Tensor._make(out, (x,), lambda g: (g * inside / 6,))


def hardswish(x: Tensor) -> Tensor:
    """x relu6(x + 3) / 6;  d/dx = 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 for x > 3."""
    data = _float_input("hardswish", x)
    out = data * (np.clip(data, -3, 3) + 3) / 6
    slope = np.where(data < -3, 0, np.where(data <= 3, data / 3 + 0.5, 1)).astype(data.dtype)
    return Tensor._make(out, (x,), lambda g: (g * slope,))


def logsigmoid(x: Tensor) -> Tensor:
    """log s(x) = -softplus(-x);  d/dx = 1 - s(x) = s(-x)."""
    data = _float_input("logsigmoid", x)
    return Tensor._make(-_softplus(-data), (x,), lambda g: (g * _sigmoid(-data),))


def softmin(x: Tensor, axis: int = -1, *, dim: int | None = None, dtype: Any = None) -> Tensor:
    """softmax(-x) along axis (or ``dim``, PyTorch's name), x first cast to ``dtype`` if
    given: the smallest entries get the most weight."""
    return softmax(-x, axis if dim is None else dim, dtype=dtype)
