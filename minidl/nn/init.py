"""Weight initialisation, with PyTorch's names and formulas.

Each function overwrites a tensor's values in place (so a parameter that lives
in an optimizer's flat buffer stays there), draws from ``generator`` (a
``minidl.Generator``) or else minidl's global seeded generator, and returns the
tensor. For a weight of shape (out, in, *kernel):

    fan_in  = in  * prod(kernel)        fan_out = out * prod(kernel)

    xavier (Glorot):  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming (He):     std = gain / sqrt(fan),  fan = fan_in or fan_out (``mode``)

and a uniform draw on [-bound, bound] with bound = sqrt(3) * std has that std.
``trunc_normal_`` redraws the samples outside [a, b] until none is left;
``orthogonal_`` takes Q of the QR decomposition of a normal matrix, its columns'
signs fixed by R's diagonal, so Q is uniformly distributed (as PyTorch's).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..random import Generator, generator as numpy_generator
from ..tensor import Tensor
from .module import copy_into

_REDRAWS = 1000   # trunc_normal_: where [a, b] holds 2% of the mass, 0.98^1000 = 2e-9 stay out

_LINEAR_GAINS = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
                 "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity``.

    linear/identity/sigmoid/conv*: 1,  tanh: 5/3,  relu: sqrt(2),
    leaky_relu: sqrt(2 / (1 + negative_slope^2)) (``param``, default 0.01),  selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, numbers.Real):
            raise ValueError(f"Invalid negative_slope for leaky_relu: {slope!r} (a number)")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    raise ValueError(f"Unsupported nonlinearity: {nonlinearity!r}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, "
                         f"not shape {tensor.shape}")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with draws from U(a, b)."""
    copy_into(tensor, numpy_generator(generator).uniform(a, b, tensor.shape))
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with draws from N(mean, std^2)."""
    copy_into(tensor, numpy_generator(generator).normal(mean, std, tensor.shape))
    return tensor


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with draws from N(mean, std^2) truncated to [a, b]: each draw outside is
    drawn again, at most ``_REDRAWS`` times (ValueError when [a, b] lies so far in
    the tail that draws keep missing it)."""
    if not a < b:
        raise ValueError(f"trunc_normal_: needs a < b, got a={a}, b={b}")
    rng = numpy_generator(generator)
    values = rng.normal(mean, std, tensor.shape)
    for _ in range(_REDRAWS):
        outside = (values < a) | (values > b)
        if not outside.any():
            copy_into(tensor, values)
            return tensor
        values[outside] = rng.normal(mean, std, int(outside.sum()))
    raise ValueError(f"trunc_normal_: [{a}, {b}] is too far in the tail of N({mean}, {std}^2) "
                     f"for redrawing; move mean closer to [a, b]")


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    copy_into(tensor, np.full(tensor.shape, value))
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, not shape "
                         f"{tensor.shape}")
    copy_into(tensor, np.eye(*tensor.shape))
    return tensor


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight (out, in, *kernel) so that the
    convolution is the identity: per group, weight[g*o + d, d, centre] = 1 for
    d < min(out / groups, in)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported, not shape "
                         f"{tensor.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 \
            or tensor.shape[0] % groups:
        raise ValueError(f"dim 0 must be divisible by groups, got shape {tensor.shape} "
                         f"and groups={groups!r}")
    out_per_group = tensor.shape[0] // groups
    values = np.zeros(tensor.shape)
    centre = tuple(size // 2 for size in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d, *centre)] = 1
    copy_into(tensor, values)
    return tensor


def orthogonal_(tensor: Tensor, gain: float = 1.0,
                generator: Generator | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``: the tensor seen as
    (rows, numel / rows) has orthonormal rows or columns, whichever are fewer."""
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported, not shape "
                         f"{tensor.shape}")
    rows = tensor.shape[0]
    columns = tensor.numel() // rows if rows else 0
    flat = numpy_generator(generator).standard_normal((rows, columns))
    if rows < columns:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < columns:
        q = q.T
    copy_into(tensor, gain * q.reshape(tensor.shape))
    return tensor


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Invalid mode: {mode!r} (expected 'fan_in' or 'fan_out')")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """U(-bound, bound) with bound = sqrt(3) * gain(nonlinearity, a) / sqrt(fan)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain(nonlinearity, a) / sqrt(fan)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
