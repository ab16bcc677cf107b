"""Functions that make new leaf tensors.

Each takes PyTorch's ``device=``, checked as ``Tensor.to`` checks it
(minidl/devices.py): "cpu" always, "cuda" where a usable GPU is; the tensor
lives in host memory either way."""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from .devices import check_device
from .ops import _shape_arg
from .tensor import Tensor


def _takes_device(make: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``make`` with PyTorch's ``device=`` keyword, checked (see the module docstring)."""
    @functools.wraps(make)
    def with_device(*args: Any, device: Any = None, **kwargs: Any) -> Tensor:
        if device is not None:
            check_device(make.__name__, device)
        return make(*args, **kwargs)
    return with_device


@_takes_device
def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf Tensor on a copy of ``data``, as PyTorch's ``torch.tensor``. Its
    dtype: ``dtype`` if given; else that of a numpy array or a Tensor (float64 stays
    float64, unlike ``Tensor(array)``, which, as ``torch.Tensor``, makes float32);
    else from Python numbers: float32 if any is a float, int64 for ints, bool."""
    if dtype is None and isinstance(data, (np.ndarray, np.generic, Tensor)):
        dtype = data.dtype
    copied = np.array(data._data if isinstance(data, Tensor) else data, dtype=dtype)
    return Tensor(copied, requires_grad=requires_grad, dtype=dtype)


@_takes_device
def zeros(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """A Tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return Tensor(np.zeros(_shape_arg(shape), dtype=dtype), requires_grad, dtype)


@_takes_device
def ones(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """A Tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return Tensor(np.ones(_shape_arg(shape), dtype=dtype), requires_grad, dtype)


# -- more constructors, named and typed as in PyTorch --------------------------------
def _default_dtype(*values: Any) -> np.dtype:
    """PyTorch's inference from Python values: float32 if any is a float, else int64
    (bool if all are bools)."""
    kinds = {np.asarray(v).dtype.kind for v in values}
    if not kinds <= set("biuf"):
        value = next(v for v in values if np.asarray(v).dtype.kind not in "biuf")
        raise TypeError(f"expected a number (bool, int or float), got "
                        f"{type(value).__name__} {value!r}")
    if kinds & {"f"}:
        return np.dtype(np.float32)
    return np.dtype(bool) if kinds == {"b"} else np.dtype(np.int64)


@_takes_device
def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to but excluding end; ``arange(n)`` is 0 .. n-1.
    int64 for integer arguments, float32 if any is a float, unless ``dtype``.

    An integer ``dtype`` with float arguments follows PyTorch: the values are
    int(start) + i * int(step); for int64 the count comes from the truncated start, end
    and step too, for the other integer dtypes from the float ones."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    dtype = np.dtype(_default_dtype(start, end, step) if dtype is None else dtype)
    if dtype.kind not in "iu":
        return Tensor(np.arange(start, end, step, dtype=np.float64), requires_grad, dtype)
    first, stride = int(start), int(step)
    if dtype == np.int64:
        if stride == 0:
            raise ValueError(f"arange: step {step} is 0 as an int64")
        count = -(-(int(end) - first) // stride)
    else:
        count = math.ceil((end - start) / step)
    return Tensor((first + np.arange(max(count, 0)) * stride).astype(dtype), requires_grad, dtype)


@_takes_device
def linspace(start: float, end: float, steps: int, *, dtype: Any = np.float32,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included. An integer ``dtype``
    truncates start and end to integers, then each value, as PyTorch does: value i is
    start + i * step in the first half and end - (steps - 1 - i) * step in the second."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    if np.dtype(dtype).kind not in "iu":
        return Tensor(np.linspace(start, end, steps), requires_grad, dtype)
    start, end = int(start), int(end)
    i = np.arange(steps)
    step = (end - start) / max(steps - 1, 1)
    values = np.where(i < steps // 2, start + i * step, end - (steps - 1 - i) * step)
    values = values if steps != 1 else np.array([start])
    return Tensor(np.trunc(values).astype(dtype), requires_grad, dtype)


@_takes_device
def eye(n: int, m: int | None = None, *, dtype: Any = np.float32,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default)."""
    return Tensor(np.eye(n, m), requires_grad, dtype)


@_takes_device
def full(size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of ``size`` filled with ``fill_value``; the dtype follows the value
    (float32, int64 or bool) unless given."""
    dtype = _default_dtype(fill_value) if dtype is None else dtype
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return Tensor(np.full(size, fill_value, dtype=dtype), requires_grad, dtype)


@_takes_device
def empty(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """A Tensor whose values are whatever memory held: write before reading."""
    return Tensor(np.empty(_shape_arg(shape), dtype=dtype), requires_grad, dtype)


@_takes_device
def full_like(x: Tensor, fill_value: Any, *, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    """A Tensor of x's shape filled with ``fill_value``, in x's dtype unless given."""
    dtype = x.dtype if dtype is None else dtype
    return Tensor(np.full(x.shape, fill_value, dtype=dtype), requires_grad, dtype)


@_takes_device
def zeros_like(x: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of x's shape, in x's dtype unless given."""
    return full_like(x, 0, dtype=dtype, requires_grad=requires_grad)


@_takes_device
def ones_like(x: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of x's shape, in x's dtype unless given."""
    return full_like(x, 1, dtype=dtype, requires_grad=requires_grad)


@_takes_device
def logspace(start: float, end: float, steps: int, base: float = 10.0, *,
             dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``, computed in float64 and then converted
    to ``dtype`` (an integer dtype truncates), as PyTorch's."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"logspace(): argument 'steps' (position 3) must be int, not "
                        f"{type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps!r}")
    values = np.power(float(base), np.linspace(start, end, steps))
    return Tensor(values, requires_grad, dtype)


@_takes_device
def empty_like(x: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A Tensor of x's shape and dtype (unless given) whose values are whatever memory
    held: write before reading."""
    dtype = x.dtype if dtype is None else dtype
    return Tensor(np.empty(x.shape, dtype=dtype), requires_grad, dtype)


def _triangle_indices(op: str, row: int, col: int, offset: int, dtype: Any,
                      device: Any, numpy_indices: Callable[..., tuple]) -> Tensor:
    if device is not None:
        check_device(op, device)
    for position, (name, value) in enumerate((("row", row), ("col", col), ("offset", offset)), 1):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{op}(): argument '{name}' (position {position}) must be int, "
                            f"not {type(value).__name__}")
        if value < 0 and name != "offset":
            raise RuntimeError(f"{op}: {name} must be non-negative, got {value}")
    if np.dtype(dtype).kind not in "iu":
        raise NotImplementedError(f"{op}: not implemented for dtype {np.dtype(dtype)}; "
                                  f"the indices are integers (int64 or int32)")
    return Tensor(np.stack(numpy_indices(row, offset, col)).astype(dtype), dtype=dtype)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64,
                 device: Any = None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a row x col matrix, row by row:
    the (i, j) with j - i <= offset."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, np.tril_indices)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64,
                 device: Any = None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a row x col matrix, row by row:
    the (i, j) with j - i >= offset."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, np.triu_indices)


@_takes_device
def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a Tensor, sharing memory where it can: a Tensor of that dtype is
    returned as it is (else ``data.to(dtype)``, in the graph), and a numpy array keeps
    its memory and dtype (as ``from_numpy``) unless another dtype is asked; anything
    else is copied as ``tensor(data, dtype=dtype)`` copies it."""
    if isinstance(data, Tensor):
        return data if dtype is None or np.dtype(dtype) == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor that shares ``array``'s memory and keeps its dtype: writes to one show
    in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    return Tensor(array, dtype=array.dtype)
