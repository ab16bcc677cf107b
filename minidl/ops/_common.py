"""What every op shares: operands as Tensors, axes, dtypes, broadcasting errors."""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from ..tensor import Tensor

Axis = int | Sequence[int] | None


def _constant(value: Any, like: np.dtype) -> Tensor:
    """A non-Tensor operand as a constant Tensor, in the float dtype ``like``."""
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot use {type(value).__name__} {value!r} as a Tensor operand")
    if like.kind == "f":
        array = array.astype(like, copy=False)
    elif not isinstance(value, np.ndarray) and array.dtype.kind == "f":
        array = array.astype(np.float32)  # PyTorch: int tensor + Python float is float32
    elif not isinstance(value, np.ndarray) and like.kind in "iu" and array.dtype.kind in "iub":
        array = array.astype(like)        # PyTorch: int32 tensor + Python int is int32
    return Tensor(array, dtype=array.dtype)


def _tensor_arguments(op: str, **arguments: Any) -> None:
    """PyTorch's TypeError for an argument, given by name in its position, that is not a
    Tensor: ``op(): argument 'other' (position 2) must be Tensor, not float``."""
    for position, (name, value) in enumerate(arguments.items(), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {position}) must be "
                            f"Tensor, not {type(value).__name__}")


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as Tensors; at least one already is.

    An integer or bool Tensor beside a float one takes the float's dtype, as in
    PyTorch (numpy would widen int64 + float32 to float64)."""
    if isinstance(a, Tensor):
        b = _constant(b, a.dtype)
    elif isinstance(b, Tensor):
        a = _constant(a, b.dtype)
    else:
        a = Tensor(a)
        b = _constant(b, a.dtype)
    if (a.dtype.kind == "f") != (b.dtype.kind == "f"):
        if a.dtype.kind == "f":
            b = Tensor(b._data.astype(a.dtype), dtype=a.dtype)
        else:
            a = Tensor(a._data.astype(b.dtype), dtype=b.dtype)
    return a, b


def _sequence_operands(op: str, items: Sequence[Any]) -> list[Tensor]:
    """The items of cat/stack/einsum/outer as Tensors; non-Tensors take the first Tensor's
    dtype, and integer or bool Tensors beside float ones take the floats' dtype, as in
    ``_operands`` (numpy would widen int64 + float32 to float64)."""
    items = list(items)
    if not items:
        raise ValueError(f"{op}: needs at least one tensor, got an empty sequence")
    first = next((t for t in items if isinstance(t, Tensor)), None)
    like = (first if first is not None else Tensor(items[0])).dtype
    tensors = [_constant(t, like) for t in items]
    floats = [t.dtype for t in tensors if t.dtype.kind == "f"]
    if floats and len(floats) < len(tensors):
        to = np.result_type(*floats)
        tensors = [t if t.dtype.kind == "f" else Tensor(t._data.astype(to), dtype=to)
                   for t in tensors]
    return tensors


def _broadcasting(op: str, fn: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``fn(*arrays)``, after checking that the shapes broadcast: PyTorch's RuntimeError
    naming the shapes if they do not."""
    try:
        np.broadcast_shapes(*(np.shape(a) for a in arrays))
    except ValueError:
        listed = " and ".join(str(np.shape(a)) for a in arrays)
        raise RuntimeError(f"{op}: shapes {listed} do not broadcast together") from None
    return fn(*arrays)


def _float_dtype(array: np.ndarray) -> np.dtype:
    """The dtype of a float result from ``array``: its own if float, else float32."""
    return array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)


def _floating(array: np.ndarray) -> np.ndarray:
    """Integer and bool data become float32; float data keeps its dtype."""
    return array.astype(_float_dtype(array), copy=False)


def _float_input(op: str, x: Tensor) -> np.ndarray:
    """x's float array; an integer or bool x is refused with PyTorch's NotImplementedError,
    for the functions that PyTorch defines on floats only (most activations)."""
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not defined for a tensor of dtype {x.dtype}, as in "
                                  f"PyTorch; convert it first, e.g. x.float()")
    return x._data


def _axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, negatives allowed) as sorted axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    requested = ((axis,) if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
                 else _axis_tuple(op, axis))
    for a in requested:
        if not -ndim <= a < ndim:
            raise IndexError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions")
    axes = sorted(int(a) % ndim for a in requested)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: axis {axis} names the same dimension twice")
    return tuple(axes)


def _expand(g: np.ndarray, axes: tuple[int, ...], keepdims: bool,
            shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast the gradient of a reduction over ``axes`` back to ``shape``."""
    return np.broadcast_to(g if keepdims else np.expand_dims(g, axes), shape)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return math.prod(shape[a] for a in axes)


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept ``f(x, 2, 3)`` and ``f(x, (2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _axis_tuple(op: str, axis: Any) -> tuple[int, ...]:
    """A tuple or list of int axes as a tuple; anything else is refused by name."""
    if isinstance(axis, (tuple, list)) and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
        return tuple(axis)
    raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, "
                    f"not {type(axis).__name__} {axis!r}")


def _alias(op: str, axis: Any, dim: Any) -> Any:
    """PyTorch's ``dim=`` as an alias of minidl's ``axis=``; giving both is an error.
    ``dim=()`` or ``[]`` is PyTorch's every axis (None); ``axis=()`` stays numpy's none."""
    if dim is None:
        return axis
    if axis is not None:
        raise TypeError(f"{op}: give axis or dim, not both (axis={axis!r}, dim={dim!r})")
    return None if isinstance(dim, (tuple, list)) and not dim else dim


def _reduction_axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``_axes`` for a reduction, plus PyTorch's rule for a 0-d tensor: it has one
    element, and axis 0 or -1 reduces over it (a no-op), so the axes are ()."""
    if ndim == 0 and axis is not None:
        requested = ((axis,) if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
                     else _axis_tuple(op, axis))
        if all(a in (0, -1) for a in requested):
            return ()
    return _axes(op, axis, ndim)


def _one_dim(op: str, dim: Any, ndim: int) -> int:
    """``dim``, one int axis (negatives allowed), as an axis >= 0."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, not {type(dim).__name__} {dim!r}")
    return _axes(op, dim, ndim)[0]


def _several_outputs(arrays: Sequence[np.ndarray], parents: tuple[Tensor, ...],
                     backward: Callable[[list], tuple], name: str | None = None
                     ) -> list[Tensor]:
    """The float outputs of one op (svd's U, S, Vh; a custom ``autograd.Function``'s),
    each its own Tensor, with one backward. A hidden one-element node stands for the op:
    each output's closure keeps the output's gradient and passes it a 0, and the hidden
    node's closure, which the engine runs after them all, calls ``backward(grads)`` with
    one gradient per output, None for an output that no gradient reached (its term of
    the vjp is 0). ``grad_fn`` names the public op that called this, or ``name``."""
    reached: dict[int, np.ndarray] = {}

    def _joined_backward(g: np.ndarray) -> tuple:
        grads = [reached.pop(i, None) for i in range(len(arrays))]
        return backward(grads)
    joined = Tensor._make(np.zeros(1, dtype=arrays[0].dtype), parents, _joined_backward)
    joined._grad_fn_name = name or joined._grad_fn_name

    def _output(i: int, array: np.ndarray) -> Tensor:
        def _to_joined(g: np.ndarray) -> tuple:
            reached[i] = g
            return (np.zeros(1, joined.dtype),)
        output = Tensor._make(array, (joined,), _to_joined)
        output._grad_fn_name = name or output._grad_fn_name
        return output
    outputs = []
    for i, array in enumerate(arrays):   # a loop, not a comprehension: grad_fn names the op
        outputs.append(_output(i, array))
    return outputs
