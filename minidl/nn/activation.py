"""Activation Modules beyond ReLU, LeakyReLU, Tanh, Sigmoid, GELU and Softmax (in
layers.py): each holds its settings and calls the function of the same name in
``minidl.ops`` (also ``F.<name>``), whose docstring gives the math.

The activations that PyTorch has only in ``torch.nn.functional`` (the shrinkages,
``threshold``, ``glu``, ``prelu`` with its learned slope, ``rrelu`` with its random one)
are written at the end of this file, beside their Modules; ``F`` re-exports them.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from .. import ops
from ..random import generator
from ..ops.inplace import in_place
from ..tensor import Tensor
from .module import Module, Parameter


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid {name}: {value!r} (needs a number)")
    return value


class _Activation(Module):
    """``forward(x) = function(x, **settings)``, the settings named in ``settings``;
    with ``inplace`` (PyTorch's flag) the result is written into x's own array."""

    function: Callable[..., Tensor]
    settings: tuple[str, ...] = ()
    inplace = False

    def forward(self, input: Tensor) -> Tensor:
        settings = {name: getattr(self, name) for name in self.settings}
        if self.inplace:
            return in_place(type(self).function, input, **settings)
        return type(self).function(input, **settings)

    def extra_repr(self) -> str:
        shown = [f"{name}={getattr(self, name)!r}" for name in self.settings]
        return ", ".join(shown + (["inplace=True"] if self.inplace else []))


class _InPlaceActivation(_Activation):
    """An activation without settings whose PyTorch Module takes ``inplace``."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class ELU(_Activation):
    """y = x for x > 0, alpha (e^x - 1) otherwise."""
    function, settings = ops.elu, ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = _number("alpha", alpha), inplace


class CELU(_Activation):
    """y = x for x > 0, alpha (e^(x/alpha) - 1) otherwise."""
    function, settings = ops.celu, ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        if _number("alpha", alpha) == 0:
            raise ValueError("Invalid alpha: 0 (CELU divides by alpha)")
        self.alpha, self.inplace = alpha, inplace


class SELU(_InPlaceActivation):
    """y = scale * elu(x, alpha), with the self-normalising alpha and scale."""
    function = ops.selu


class SiLU(_InPlaceActivation):
    """y = x sigmoid(x) (swish)."""
    function = ops.silu


class Mish(_InPlaceActivation):
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

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if _number("min_val", min_val) > _number("max_val", max_val):
            raise ValueError(f"Invalid bounds: min_val {min_val} is greater than "
                             f"max_val {max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class ReLU6(_InPlaceActivation):
    """y = min(max(x, 0), 6)."""
    function = ops.relu6


class Hardsigmoid(_InPlaceActivation):
    """y = relu6(x + 3) / 6."""
    function = ops.hardsigmoid


class Hardswish(_InPlaceActivation):
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


# -- the activations of torch.nn.functional, with their Modules -------------------------------
def _as_float(op: str, x: Any) -> Tensor:
    """x as a Tensor; these activations are defined on floats only, as in PyTorch."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: input of dtype {x.dtype} is not supported (a float "
                                  f"dtype)")
    return x


def _masked(x: Tensor, out: np.ndarray, passes: np.ndarray) -> Tensor:
    """An op y = out whose derivative is 1 where ``passes``, else 0."""
    return Tensor._make(out, (x,), lambda g: (np.where(passes, g, 0).astype(g.dtype),))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """y = x where x > threshold, else value;  dy/dx = 1 where x > threshold, else 0.
    ``inplace`` writes y into x's own array."""
    if inplace:
        return in_place(_threshold, input, threshold, value)
    return _threshold(input, threshold, value)


def _threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    x = _as_float("threshold", input)
    passes = x._data > threshold
    return _masked(x, np.where(passes, x._data, x.dtype.type(value)), passes)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x where |x| > lambd, else 0;  dy/dx = 1 where |x| > lambd, else 0."""
    x = _as_float("hardshrink", input)
    passes = (x._data < -lambd) | (x._data > lambd)
    return _masked(x, np.where(passes, x._data, x.dtype.type(0)), passes)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x - lambd where x > lambd, x + lambd where x < -lambd, else 0 (x moved toward 0
    by lambd);  dy/dx = 1 outside [-lambd, lambd], else 0."""
    x = _as_float("softshrink", input)
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambd must be >= 0, got {lambd}")
    data, step = x._data, x.dtype.type(lambd)
    out = np.where(data > step, data - step, np.where(data < -step, data + step, 0))
    return _masked(x, out.astype(x.dtype), (data < -step) | (data > step))


def tanhshrink(input: Tensor) -> Tensor:
    """y = x - tanh(x)."""
    x = _as_float("tanhshrink", input)
    return x - ops.tanh(x)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: x split in halves a, b along ``dim``, y = a sigmoid(b)."""
    x = _as_float("glu", input)
    if x.ndim == 0 or x.shape[dim] % 2:
        raise RuntimeError(f"glu: halving dimension {dim} of input of shape {x.shape} must "
                           f"be even")
    a, b = ops.chunk(x, 2, dim=dim)
    return a * ops.sigmoid(b)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """y = x where x > 0, else a x, the slope a learned: one for all channels, or one per
    channel (axis 1, or axis 0 of 1-d input);  dy/da = x where x <= 0."""
    x = _as_float("prelu", input)
    count = weight.size
    channels = 1 if x.ndim == 0 else x.shape[1 if x.ndim >= 2 else 0]
    if weight.ndim > 1 or count not in (1, channels):
        raise RuntimeError(f"prelu: weight of shape {weight.shape} must hold 1 or {channels} "
                           f"slopes (the channels of input of shape {x.shape})")
    slope = weight
    if count > 1 and x.ndim >= 2:
        slope = ops.reshape(weight, count, *([1] * (x.ndim - 2)))
    return ops.where(x._data > 0, x, slope * x)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU: y = x where x > 0, else a x, with a ~ U(lower, upper) drawn per
    element (from minidl's seeded generator) in training, and (lower + upper) / 2 in eval.
    ``inplace`` writes y into x's own array."""
    if inplace:
        return in_place(rrelu, input, lower, upper, training)
    x = _as_float("rrelu", input)
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: needs 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        return ops.leaky_relu(x, (lower + upper) / 2)
    slopes = generator().uniform(lower, upper, x.shape).astype(x.dtype)
    noise = np.where(x._data > 0, x.dtype.type(1), slopes)
    return Tensor._make(x._data * noise, (x,), lambda g: (g * noise,))


def _softmax_dim(ndim: int) -> int:
    """PyTorch's implicit softmax dim for ``dim=None``: 0 for 0-, 1- and 3-d input, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


class Threshold(_Activation):
    """y = x where x > threshold, else value: see ``threshold``."""
    function, settings = staticmethod(threshold), ("threshold", "value")

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value = _number("threshold", threshold), _number("value", value)
        self.inplace = inplace


class Hardshrink(_Activation):
    """y = x where |x| > lambd, else 0: see ``hardshrink``."""
    function, settings = staticmethod(hardshrink), ("lambd",)

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = _number("lambd", lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x moved toward 0 by lambd: see ``softshrink``."""
    function = staticmethod(softshrink)


class Tanhshrink(_Activation):
    """y = x - tanh(x)."""
    function = staticmethod(tanhshrink)


class GLU(_Activation):
    """The gated linear unit along ``dim``: see ``glu``."""
    function, settings = staticmethod(glu), ("dim",)

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim


class RReLU(_Activation):
    """Randomised leaky ReLU, random slopes in training: see ``rrelu``."""
    settings = ("lower", "upper")

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper = _number("lower", lower), _number("upper", upper)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)


class PReLU(Module):
    """y = x where x > 0, else a x, with ``num_parameters`` learned slopes a (1, or one per
    channel), each starting at ``init``: see ``prelu``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = np.float32):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) \
                or num_parameters < 1:
            raise ValueError(f"Invalid num_parameters: {num_parameters!r} (needs a positive int)")
        self.num_parameters, self.init = int(num_parameters), _number("init", init)
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dtype))

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class LogSoftmax(_Activation):
    """y = log softmax(x) along ``dim`` (None: PyTorch's implicit choice, 1 for 2-d and 4-d
    input, else 0)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        x = _as_float("LogSoftmax", input)
        return ops.log_softmax(x, _softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(_Activation):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input, at every position."""

    def forward(self, input: Tensor) -> Tensor:
        x = _as_float("Softmax2d", input)
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input of shape (N, C, H, W) or (C, H, W), "
                             f"got shape {x.shape}")
        return ops.softmax(x, -3)
