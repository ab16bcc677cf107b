"""PyTorch's Tensor methods that name what minidl already has: sizes, copies,
``new_*`` constructors, ``*_as`` forms, and devices.

``t.size`` is both: numpy's element count (``t.size == 6``, which minidl's own
code reads) and PyTorch's method (``t.size()`` the shape, ``t.size(0)`` one
dimension) as a ``minidl.Size``; ``t.shape`` stays numpy's plain tuple, which
compares equal to it (minidl's own code and messages read it). ``clone`` is
differentiable (its gradient is g). Memory layout: ``stride()`` (in elements) and
``storage_offset()`` describe the numpy array under the tensor, which matches
PyTorch's for its views (slices, ``t()``, ``expand``; a ``flip`` is a view with
negative strides here, a copy in PyTorch); ``contiguous()`` copies (in the graph)
only when ``is_contiguous()`` is False. Devices: see ``minidl/devices.py``;
``t.device`` is always the cpu.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import CPU, check_device, device, to_arguments
from ..tensor import Tensor
from ..typeinfo import Size
from ._common import _tensor_arguments
from .casts import to as cast
from .shape import expand, reshape, swapaxes

__all__ = ["numel", "is_tensor", "is_floating_point", "is_complex", "clone", "detach"]


class ElementCount(int):
    """The number of elements (numpy's ``size``) that is also PyTorch's ``size(dim=None)``."""

    shape: tuple[int, ...]

    def __new__(cls, array: np.ndarray) -> ElementCount:
        count = super().__new__(cls, array.size)
        count.shape = array.shape
        return count

    def __call__(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or its entry ``dim`` (negative counts from the end)."""
        if dim is None:
            return Size(self.shape)
        return self.shape[_dim_index("size", dim, len(self.shape))]


def _dim_index(op: str, dim: Any, ndim: int) -> int:
    """``dim`` checked against ``ndim`` dimensions as PyTorch checks it (a 0-d tensor
    takes 0 and -1)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be an int, not {type(dim).__name__} {dim!r}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})")
    return int(dim)


def dim(x: Tensor) -> int:
    """The number of dimensions."""
    return x.ndim


def nelement(x: Tensor) -> int:
    """The number of elements (PyTorch's alias of ``numel``)."""
    return int(x._data.size)


def matrix_transpose(x: Tensor) -> Tensor:
    """``x.mT``: the last two dimensions exchanged."""
    if x.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {x.ndim}-D tensor.")
    return swapaxes(x, -2, -1)


def clone(x: Tensor) -> Tensor:
    """A copy of x's data that stays in the graph: d clone / dx = 1."""
    return Tensor._make(_tensor("clone", x)._data.copy(), (x,), lambda g: (g,))


def tolist(x: Tensor) -> Any:
    """The values as nested Python lists (a number for a 0-d tensor)."""
    return x._data.tolist()


def contiguous(x: Tensor) -> Tensor:
    """x itself if its elements lie in row-major order, else a copy that does (``clone``)."""
    return x if x._data.flags.c_contiguous else clone(x)


def is_contiguous(x: Tensor) -> bool:
    """Whether x's elements lie in memory in row-major order without gaps (sizes of 1
    ignored, as PyTorch ignores them)."""
    return bool(x._data.flags.c_contiguous)


def stride(x: Tensor, dim: int | None = None) -> tuple[int, ...] | int:
    """The steps, in elements, from one index to the next along each dimension (or
    along ``dim``): row-major (3, 1) for a fresh 2x3 tensor, (1, 3) for its ``t()``."""
    steps = tuple(step // x._data.itemsize for step in x._data.strides)
    return steps if dim is None else steps[_dim_index("stride", dim, x.ndim)]


def storage_offset(x: Tensor) -> int:
    """Where x's first element lies in its base's memory, in elements (0 for a tensor
    that views no other)."""
    base = x._base
    if base is None:
        return 0
    start = x._data.__array_interface__["data"][0] - base._data.__array_interface__["data"][0]
    return start // x._data.itemsize


def element_size(x: Tensor) -> int:
    """The bytes of one element."""
    return x._data.itemsize


def _nbytes(x: Tensor) -> int:
    """The bytes of all the elements."""
    return x._data.nbytes


def numel(input: Tensor) -> int:
    """The number of elements."""
    return int(_tensor("numel", input)._data.size)


def is_tensor(obj: Any) -> bool:
    """Whether obj is a minidl Tensor."""
    return isinstance(obj, Tensor)


def is_complex(input: Tensor) -> bool:
    """False: minidl has no complex dtypes."""
    _tensor("is_complex", input)
    return False


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: the same storage, cut from the graph."""
    return _tensor("detach", input).detach()


def _tensor(op: str, value: Any) -> Tensor:
    """``value``, which must be a Tensor: PyTorch's TypeError otherwise."""
    _tensor_arguments(op, input=value)
    return value


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, other.shape)


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, other.shape)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, other.shape)


def type_as(x: Tensor, other: Tensor) -> Tensor:
    """x cast to other's dtype."""
    return cast(x, other.dtype)


def is_floating_point(input: Tensor) -> bool:
    """Whether input holds floats."""
    return _tensor("is_floating_point", input).dtype.kind == "f"


def _size(size: tuple) -> tuple:
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size


def new_full(x: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A new tensor of ``size`` filled with ``fill_value``, in x's dtype unless given."""
    if device is not None:
        check_device("new_full", device)
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    dtype = x.dtype if dtype is None else dtype
    return Tensor(np.full(size, fill_value, dtype=dtype), requires_grad, dtype)


def new_zeros(x: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Zeros of ``size`` (``new_zeros(2, 3)`` or ``new_zeros((2, 3))``) in x's dtype."""
    return new_full(x, _size(size), 0, dtype=dtype, device=device, requires_grad=requires_grad)


def new_ones(x: Tensor, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """Ones of ``size`` in x's dtype."""
    return new_full(x, _size(size), 1, dtype=dtype, device=device, requires_grad=requires_grad)


def new_empty(x: Tensor, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` in x's dtype (zeros here; write before reading)."""
    return new_zeros(x, *size, dtype=dtype, device=device, requires_grad=requires_grad)


def new_tensor(x: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A new leaf holding a copy of ``data``, in x's dtype unless given."""
    if device is not None:
        check_device("new_tensor", device)
    values = np.array(data._data if isinstance(data, Tensor) else data)
    dtype = x.dtype if dtype is None else dtype
    return Tensor(values, requires_grad, dtype)


def to(x: Tensor, *args: Any, dtype: Any = None, device: Any = None,
       non_blocking: bool = False, copy: bool = False) -> Tensor:
    """PyTorch's forms: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
    ``to(other)`` (other's dtype), and ``dtype=``/``device=`` by name. x itself when
    nothing changes (a copy with ``copy=True``); a float-to-float cast is
    differentiable."""
    args = tuple(arg.dtype if isinstance(arg, Tensor) else arg for arg in args)
    dtype = to_arguments("to", args, dtype, device)
    out = x if dtype is None else cast(x, dtype)
    return clone(out) if copy and out is x else out


def cpu(x: Tensor) -> Tensor:
    """x itself: minidl's tensors live in host memory."""
    return x


def cuda(x: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    """x itself when a usable GPU is there (the data stays in host memory, see
    minidl/devices.py); a RuntimeError saying what is missing otherwise."""
    check_device("cuda", "cuda" if device is None else device)
    return x


def device_of(x: Tensor) -> device:
    """``t.device``: always ``device(type='cpu')``."""
    return CPU


def bind() -> None:
    """Bind these functions to Tensor under PyTorch's names."""
    for function in (dim, nelement, clone, tolist, contiguous, reshape_as, view_as, expand_as,
                     type_as, is_floating_point, new_full, new_zeros, new_ones, new_empty,
                     new_tensor, to, cpu, cuda, is_contiguous, stride, storage_offset,
                     element_size, is_complex):
        setattr(Tensor, function.__name__, function)
    Tensor.nbytes = property(_nbytes, doc=_nbytes.__doc__)
    Tensor.itemsize = property(element_size, doc=element_size.__doc__)
    Tensor.size = property(lambda self: ElementCount(self._data),
                           doc=ElementCount.__doc__)
    Tensor.mT = property(matrix_transpose, doc=matrix_transpose.__doc__)
    Tensor.device = property(device_of, doc=device_of.__doc__)
