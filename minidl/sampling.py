"""Random tensors, with PyTorch's signatures: rand, randn, randint, randperm,
normal, bernoulli, multinomial and the ``*_like`` forms.

Each takes ``generator=`` (a ``minidl.Generator``); without one it draws from the
global generator that ``minidl.manual_seed`` seeds. ``device=`` is checked as
``to(device)`` checks it (see device.py). ``normal`` with Tensor mean or std is
differentiable in them, as in PyTorch: out = mean + std * z, z ~ N(0, 1).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .devices import check_device
from .ops import _shape_arg
from .random import Generator, generator as numpy_generator
from .tensor import Tensor

__all__ = ["rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
           "rand_like", "randn_like", "randint_like"]


def _float_dtype(op: str, dtype: Any) -> np.dtype:
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating-point dtype, got {dtype}")
    return dtype


def _leaf(op: str, values: np.ndarray, dtype: Any, requires_grad: bool, device: Any) -> Tensor:
    if device is not None:
        check_device(op, device)
    return Tensor(values, requires_grad, dtype)


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1): ``rand(2, 3)`` or ``rand((2, 3))``."""
    dtype = _float_dtype("rand", dtype)
    return _leaf("rand", numpy_generator(generator).random(_shape_arg(size)), dtype,
                 requires_grad, device)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples: ``randn(2, 3)`` or ``randn((2, 3))``."""
    dtype = _float_dtype("randn", dtype)
    return _leaf("randn", numpy_generator(generator).standard_normal(_shape_arg(size)), dtype,
                 requires_grad, device)


def randint(*args: Any, low: int | None = None, high: int | None = None, size: Any = None,
            generator: Generator | None = None, dtype: Any = np.int64, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)`` (size a tuple), positional or by name, as in PyTorch."""
    rest = list(args)
    if size is None and rest:
        size = rest.pop()
    if high is None and rest:
        high = rest.pop()
    if low is None:
        low = rest.pop() if rest else 0
    if rest or high is None or size is None:
        raise TypeError("randint: give randint(high, size) or randint(low, high, size)")
    if not high > low:
        raise ValueError(f"randint: high must be greater than low, got low={low}, high={high}")
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return _leaf("randint", numpy_generator(generator).integers(low, high, size), dtype,
                 requires_grad, device)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = np.int64,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"randperm: n must be a non-negative int, got {n!r}")
    return _leaf("randperm", numpy_generator(generator).permutation(n), dtype,
                 requires_grad, device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: Generator | None = None, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2): mean and std numbers with ``size``, or Tensors
    (broadcast together; the result is differentiable in them)."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number mean and std, give size")
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        values = numpy_generator(generator).normal(mean, std, _shape_arg((size,)))
        return _leaf("normal", values, _float_dtype("normal", dtype), requires_grad, device)
    if size is not None:
        raise TypeError("normal: size goes with number mean and std, not Tensors")
    if isinstance(std, Tensor) and (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = np.broadcast_shapes(*(np.shape(np.asarray(v)) for v in (mean, std)))
    dtype = tensors[0].dtype
    z = Tensor(numpy_generator(generator).standard_normal(shape), dtype=dtype)
    return mean + std * z


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """1 with probability ``input`` (or ``p``, for every element), else 0, in
    input's dtype; no gradient."""
    probability = np.asarray(input._data if p is None else p)
    if ((probability < 0) | (probability > 1) | np.isnan(probability)).any():
        raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
    draws = numpy_generator(generator).random(input.shape) < probability
    return Tensor(draws, dtype=input.dtype)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Indices drawn from the rows of ``input`` (1-D or 2-D), each row weights
    proportional to the probabilities (not necessarily summing to 1); int64,
    shape (num_samples,) or (rows, num_samples)."""
    weights = np.asarray(input._data, dtype=np.float64)
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {input.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples <= 0:
        raise RuntimeError(f"multinomial: num_samples must be a positive int, "
                           f"got {num_samples!r}")
    rows = np.atleast_2d(weights)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan "
                           "or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution "
                           "(sum of probabilities <= 0)")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples} without "
                           f"replacement from a row with fewer nonzero probabilities")
    rng = numpy_generator(generator)
    drawn = np.stack([rng.choice(len(row), num_samples, replace=replacement, p=row / row.sum())
                      for row in rows])
    return Tensor(drawn if weights.ndim == 2 else drawn[0], dtype=np.int64)


def rand_like(input: Tensor, *, generator: Generator | None = None, dtype: Any = None,
              device: Any = None, requires_grad: bool = False) -> Tensor:
    """``rand`` of input's shape, in input's dtype unless given."""
    return rand(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator: Generator | None = None, dtype: Any = None,
               device: Any = None, requires_grad: bool = False) -> Tensor:
    """``randn`` of input's shape, in input's dtype unless given."""
    return randn(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                 device=device, requires_grad=requires_grad)


def randint_like(input: Tensor, *args: Any, generator: Generator | None = None,
                 dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``: of input's
    shape, in input's dtype unless given."""
    if len(args) not in (1, 2):
        raise TypeError("randint_like: give randint_like(input, high) or "
                        "randint_like(input, low, high)")
    low, high = (0, *args) if len(args) == 1 else args
    return randint(low, high, input.shape, generator=generator,
                   dtype=input.dtype if dtype is None else dtype, device=device,
                   requires_grad=requires_grad)
