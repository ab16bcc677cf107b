"""Facts about dtypes and shapes under PyTorch's names: ``Size``, ``finfo``, ``iinfo``,
``get_default_dtype``, ``promote_types``, ``can_cast`` and ``result_type``.

The dtypes are numpy's scalar types (``minidl.float32`` is ``np.float32``, see
devices.py); these functions take them, or ``np.dtype`` objects, and return them.
PyTorch's promotion differs from numpy's where an integer meets a float: the
float wins whatever its size (int64 with float32 is float32; numpy says float64),
and ``result_type`` ranks its operands in three categories, tensors with
dimensions above 0-d tensors above Python numbers: a lower category changes the
result only when it is of a higher kind (bool < integer < float), so
``result_type(int32 tensor, 5)`` is int32 and ``result_type(int32 tensor, 2.5)``
is float32, the default float dtype.

The default dtype is float32: minidl's creation functions and layers make
float32 unless told otherwise, and there is no ``set_default_dtype``, since
the float32 default is written into them (and into the Python-float operand
rule of every op) rather than read from one setting.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable

import numpy as np

from .devices import DTYPES
from .tensor import Tensor

_KNOWN = {np.dtype(t) for t in DTYPES.values()}


class Size(tuple):
    """A shape, as ``torch.Size``: a tuple of ints (``t.size()`` returns one) with
    ``numel()``; slicing it, adding or multiplying it gives a Size again."""

    def __new__(cls, sizes: Iterable[Any] = ()) -> Size:
        items = tuple(sizes)
        for i, item in enumerate(items):
            if isinstance(item, Tensor) and item._data.size == 1 and item.dtype.kind in "iub":
                continue
            if not isinstance(item, (numbers.Integral, np.integer)):
                raise TypeError(f"Size() takes an iterable of 'int' (item {i} is "
                                f"'{type(item).__name__}')")
        return super().__new__(cls, (int(item) for item in items))

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other: Any) -> Size:
        return Size(super().__add__(other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(other + tuple(self))

    def __mul__(self, times: Any) -> Size:
        return Size(super().__mul__(times))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"minidl.Size({list(self)})"

    __str__ = __repr__


def _dtype(op: str, argument: str, value: Any) -> np.dtype:
    """``value`` as one of minidl's dtypes; TypeError naming the argument otherwise
    (a string too, as PyTorch refuses one)."""
    try:
        dtype = None if isinstance(value, str) else np.dtype(value)
    except TypeError:
        dtype = None
    if dtype not in _KNOWN:
        raise TypeError(f"{op}(): argument '{argument}' must be a minidl dtype "
                        f"(minidl.float32, minidl.int64, ...), not {type(value).__name__} "
                        f"{value!r}")
    return dtype


def get_default_dtype() -> type:
    """The dtype of float tensors made without one: float32 (see the module docstring)."""
    return np.float32


class finfo:
    """The limits of a float dtype (float32 by default), as ``torch.finfo``: ``bits``,
    ``eps`` (1.0's distance to the next float), ``max``, ``min``, ``tiny`` and
    ``smallest_normal`` (the smallest positive normal number), ``resolution``
    (10^-digits) and ``dtype``, its name."""

    def __init__(self, type: Any = np.float32):
        dtype = _dtype("finfo", "type", type)
        if dtype.kind != "f":
            raise TypeError(f"minidl.finfo() requires a floating point input type, not "
                            f"{dtype}. Use minidl.iinfo to handle '{dtype}'")
        info = np.finfo(dtype)
        self.bits, self.dtype = info.bits, dtype.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision

    def __repr__(self) -> str:
        fields = ("resolution", "min", "max", "eps", "smallest_normal", "tiny")
        return "finfo(" + ", ".join(f"{name}={getattr(self, name):.6g}" for name in fields) \
            + f", dtype={self.dtype})"


class iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min`` and
    ``dtype``, its name; bool is refused."""

    def __init__(self, type: Any):
        dtype = _dtype("iinfo", "type", type)
        if dtype.kind not in "iu":
            raise TypeError(f"minidl.iinfo() requires an integer input type, not {dtype}. "
                            f"Use minidl.finfo to handle '{dtype}'")
        info = np.iinfo(dtype)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), \
            dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promotion table: bool yields to anything, a float beats any integer,
    the wider float wins, and integers promote as numpy's (uint8 with int8 is int16)."""
    if a.kind == "b" or a == b:
        return b
    if b.kind == "b":
        return a
    if (a.kind == "f") != (b.kind == "f"):
        return a if a.kind == "f" else b
    return np.promote_types(a, b)


def promote_types(type1: Any, type2: Any) -> type:
    """The smallest dtype that both dtypes convert to without losing their kind."""
    return _promote(_dtype("promote_types", "type1", type1),
                    _dtype("promote_types", "type2", type2)).type


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's in-place ops may write ``from_`` values into a ``to`` tensor:
    never a float into an integer, nor anything but bool into bool."""
    source, target = _dtype("can_cast", "from_", from_), _dtype("can_cast", "to", to)
    if source.kind == "f" and target.kind in "iu":
        return False
    return not (target.kind == "b" and source.kind != "b")


def _operand_dtype(value: Any, argument: str) -> tuple[int, np.dtype]:
    """(category, dtype) of a ``result_type`` operand: 0 a tensor with dimensions, 1 a
    0-d tensor, 2 a Python number (bool, int64, or the default float dtype)."""
    if isinstance(value, Tensor):
        return (0 if value.ndim else 1), value.dtype
    if isinstance(value, (bool, np.bool_)):
        return 2, np.dtype(bool)
    if isinstance(value, (numbers.Integral, np.integer)):
        return 2, np.dtype(np.int64)
    if isinstance(value, (numbers.Real, np.floating)):
        return 2, np.dtype(get_default_dtype())
    raise TypeError(f"result_type(): argument '{argument}' must be a Tensor or a number, "
                    f"not {type(value).__name__} {value!r}")


def result_type(tensor: Any, other: Any) -> type:
    """The dtype that PyTorch's arithmetic on ``tensor`` and ``other`` gives (see the
    module docstring for the categories)."""
    best: list[np.dtype | None] = [None, None, None]
    for argument, value in (("tensor", tensor), ("other", other)):
        category, dtype = _operand_dtype(value, argument)
        best[category] = dtype if best[category] is None else _promote(best[category], dtype)
    result = best[2]
    for higher in (best[1], best[0]):
        if higher is None:
            continue
        if result is not None and (higher.kind == "b" or
                                   (result.kind == "f" and higher.kind != "f")):
            higher = _promote(higher, result)
        result = higher
    return result.type
