"""Activation Modules beyond ReLU, LeakyReLU, Tanh, Sigmoid, GELU and Softmax (in
layers.py): each holds its settings and calls the function of the same name in
``minidl.ops`` (also ``F.<name>``), whose docstring gives the math."""
from __future__ import annotations

import numbers
from typing import Any, Callable

from .. import ops
from ..tensor import Tensor
from .module import Module


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid {name}: {value!r} (needs a number)")
    return value


class _Activation(Module):
    """``forward(x) = function(x, **settings)``, the settings named in ``settings``."""

    function: Callable[..., Tensor]
    settings: tuple[str, ...] = ()

    def forward(self, input: Tensor) -> Tensor:
        return type(self).function(input, **{name: getattr(self, name) for name in self.settings})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self.settings)


class ELU(_Activation):
    """y = x for x > 0, alpha (e^x - 1) otherwise."""
    function, settings = ops.elu, ("alpha",)

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = _number("alpha", alpha)


class CELU(_Activation):
    """y = x for x > 0, alpha (e^(x/alpha) - 1) otherwise."""
    function, settings = ops.celu, ("alpha",)

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        if _number("alpha", alpha) == 0:
            raise ValueError("Invalid alpha: 0 (CELU divides by alpha)")
        self.alpha = alpha


class SELU(_Activation):
    """y = scale * elu(x, alpha), with the self-normalising alpha and scale."""
    function = ops.selu


class SiLU(_Activation):
    """y = x sigmoid(x) (swish)."""
    function = ops.silu


class Mish(_Activation):
    """y = x tanh(softplus(x))."""
    function = ops.mish


class Softplus(_Activation):
    """y = log(1 + e^(beta x)) / beta, linear where beta x > threshold."""
    function, settings = ops.softplus, ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        if not _number("beta", beta) > 0:
            raise ValueError(f"Invalid beta: {beta!r} (needs beta > 0)")
        self.beta, self.threshold = beta, _number("threshold", threshold)


class Softsign(_Activation):
    """y = x / (1 + |x|)."""
    function = ops.softsign


class Hardtanh(_Activation):
    """y = x clipped to [min_val, max_val]."""
    function, settings = ops.hardtanh, ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0):
        super().__init__()
        if _number("min_val", min_val) > _number("max_val", max_val):
            raise ValueError(f"Invalid bounds: min_val {min_val} is greater than "
                             f"max_val {max_val}")
        self.min_val, self.max_val = min_val, max_val


class ReLU6(_Activation):
    """y = min(max(x, 0), 6)."""
    function = ops.relu6


class Hardsigmoid(_Activation):
    """y = relu6(x + 3) / 6."""
    function = ops.hardsigmoid


class Hardswish(_Activation):
    """y = x relu6(x + 3) / 6."""
    function = ops.hardswish


class LogSigmoid(_Activation):
    """y = log sigmoid(x) = -softplus(-x)."""
    function = ops.logsigmoid


class Softmin(_Activation):
    """y = softmax(-x) along ``dim``."""
    function, settings = ops.softmin, ("axis",)

    def __init__(self, dim: int = -1):
        super().__init__()
        self.axis = dim

    def extra_repr(self) -> str:
        return f"dim={self.axis}"
