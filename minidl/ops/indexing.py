"""Indexing by integer tensors and masks: gather, scatter, scatter_add, take_along_dim,
index_select, masked_fill, masked_select, nonzero, one_hot.

The gradient of every op that reads x at indices is the scatter-add of g back to
those indices (``np.add.at``, so an index read twice gets both contributions);
the gradient of a scatter is the gather of g. Indices follow PyTorch: an integer
tensor, array or list, with ``dim`` naming the axis they index.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import _broadcasting, _constant, _one_dim

__all__ = ["gather", "scatter", "scatter_add", "take_along_dim", "index_select",
           "masked_fill", "masked_select", "nonzero", "one_hot"]


# The ops for which PyTorch reports an index out of range as a RuntimeError (the others,
# index_select and its kin, raise IndexError).
_GATHERING = ("gather", "scatter", "scatter_add", "scatter_reduce", "take_along_dim")


def _indices(op: str, index: Any, size: int, negative: bool = False) -> np.ndarray:
    """``index`` as an int64 array whose entries index an axis of ``size``."""
    array = np.asarray(index._data if isinstance(index, Tensor) else index)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{op}: index must hold integers, not {array.dtype}")
    array = array.astype(np.int64, copy=False)
    low = -size if negative else 0
    if array.size and (array.min() < low or array.max() >= size):
        bad = array[(array < low) | (array >= size)].flat[0]
        raise (RuntimeError if op in _GATHERING else IndexError)(
            f"{op}: index {bad} is out of range for a dimension of size {size}")
    return array


def _mask(op: str, mask: Any) -> np.ndarray:
    array = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if array.dtype != np.bool_:   # PyTorch's type for this refusal
        raise RuntimeError(f"{op}: mask must be a bool tensor, not {array.dtype}")
    return array


def _data(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


def _lanes(op: str, index: np.ndarray, dim: int, shape: tuple[int, ...]) -> tuple:
    """The numpy index that reads ``x[i0, ..., index[i0, ..., ik], ..., ik]`` for every
    position of ``index``: PyTorch's gather pattern, where ``index`` may be smaller
    than x along every axis but ``dim``."""
    if index.ndim != len(shape):
        raise RuntimeError(f"{op}: index has {index.ndim} dimensions, the tensor {len(shape)}")
    for a, (n, m) in enumerate(zip(index.shape, shape)):
        if a != dim and n > m:
            raise RuntimeError(f"{op}: index of shape {index.shape} is larger than the tensor's "
                               f"shape {shape} along axis {a}")
    grids = list(np.ix_(*(np.arange(n) for n in index.shape))) if index.ndim else []
    grids[dim] = index
    return tuple(grids)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i, j, k] = x[i, index[i, j, k], k] (for dim=1);  the gradient adds g back there.

    As in PyTorch, a 0-d x or index counts as 1-D, and an empty index gives an empty
    result of its shape whatever the shapes."""
    if x.ndim == 0:
        _one_dim("gather", dim, 1)
        return gather(x.reshape(1), 0, index)
    dim = _one_dim("gather", dim, x.ndim)
    index = _indices("gather", index, x.shape[dim])
    if index.size == 0:
        return Tensor._make(np.zeros(index.shape, x.dtype), (x,),
                            lambda g: (np.zeros_like(x._data),))
    lanes = _lanes("gather", index.reshape(-1) if index.ndim == 0 else index, dim, x.shape)

    def backward(g: np.ndarray):
        grad = np.zeros_like(x._data)
        np.add.at(grad, lanes, g.reshape(x._data[lanes].shape))
        return (grad,)
    return Tensor._make(x._data[lanes].reshape(index.shape), (x,), backward)


def _scatter(op: str, x: Tensor, dim: int, index: Any, src: Any,
             accumulate: np.ufunc | None) -> Tensor:
    """What scatter and scatter_add share: src (a tensor, read over index's shape, or a
    scalar) written to the indexed places, or accumulated into them by the ufunc
    ``accumulate`` (np.add; np.multiply for scatter's reduce="multiply", whose gradient
    PyTorch does not define either). A 0-d x or index counts as 1-D, as in PyTorch."""
    if x.ndim == 0:
        _one_dim(op, dim, 1)
        return _scatter(op, x.reshape(1), 0, index, src, accumulate).reshape(())
    dim = _one_dim(op, dim, x.ndim)
    index = _indices(op, index, x.shape[dim])
    if index.ndim == 0:
        index = index.reshape(1)
        src = src.reshape(1) if isinstance(src, Tensor) and src.ndim == 0 else src
    lanes = _lanes(op, index, dim, x.shape)
    src = _constant(src, x.dtype)
    if src.ndim:
        if src.ndim != index.ndim or any(s < n for s, n in zip(src.shape, index.shape)):
            raise RuntimeError(f"{op}: src of shape {src.shape} is smaller than index of shape "
                               f"{index.shape}")
        window = tuple(slice(0, n) for n in index.shape)
    else:
        window = ()
    if src.ndim and src.dtype != x.dtype:   # PyTorch casts a scalar, never a tensor src
        raise RuntimeError(f"{op}: src has dtype {src.dtype}, the tensor {x.dtype}: they must "
                           f"match")
    values = np.broadcast_to(src._data[window].astype(x.dtype, copy=False), index.shape)
    out = np.array(x._data)
    if accumulate is None:
        out[lanes] = values
    else:
        accumulate.at(out, lanes, values)

    def backward(g: np.ndarray):
        if accumulate not in (None, np.add):
            raise RuntimeError(f"{op}: the derivative of reduce='multiply' is not defined, as "
                               f"in PyTorch; use scatter_reduce(..., 'prod')")
        grad_x = grad_src = None
        if x.requires_grad:
            grad_x = g
            if accumulate is None:
                grad_x = g.copy()
                grad_x[lanes] = 0
        if src.requires_grad:
            grad_src = np.zeros_like(src._data)
            if src.ndim:
                grad_src[window] = g[lanes]
            else:
                grad_src[...] = g[lanes].sum()
        return grad_x, grad_src
    return Tensor._make(out, (x, src), backward)


_SCATTER_REDUCTIONS = {None: None, "add": np.add, "multiply": np.multiply}


def scatter(x: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of x with out[i, index[i, j], ...] = src[i, j, ...] (for dim=1); src may be a
    scalar (or ``value=``). Where an index repeats, which write wins is unspecified, as in
    PyTorch. Gradients: g with the overwritten places zeroed for x, g gathered for src.

    PyTorch's older ``reduce="add"`` or ``"multiply"`` accumulates instead of writing
    (scatter_reduce is the newer form); "add" has scatter_add's gradient, "multiply" none
    (PyTorch defines neither)."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src and value")
    if reduce not in _SCATTER_REDUCTIONS:
        raise RuntimeError(f"scatter: reduce must be 'add' or 'multiply', not {reduce!r}")
    return _scatter("scatter", x, dim, index, value if src is None else src,
                    _SCATTER_REDUCTIONS[reduce])


def scatter_add(x: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of x with src[i, j, ...] added to out[i, index[i, j], ...] (for dim=1), repeats
    adding up;  d/dx = 1, and src's gradient is g gathered at index."""
    return _scatter("scatter_add", x, dim, index, src, np.add)


def take_along_dim(x: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """x read at ``indices`` along dim, the other axes broadcast (numpy's take_along_axis);
    dim None reads the flattened x. The gradient adds g back at the indices."""
    if dim is None:
        return take_along_dim(x.reshape(-1), np.reshape(_data(indices), -1), 0)
    dim = _one_dim("take_along_dim", dim, x.ndim)
    index = _indices("take_along_dim", indices, x.shape[dim], negative=True)
    if index.ndim != x.ndim:
        raise RuntimeError(f"take_along_dim: indices have {index.ndim} dimensions, "
                           f"the tensor {x.ndim}")
    shape = list(np.broadcast_shapes(*((s[:dim] + (1,) + s[dim + 1:])
                                      for s in (x.shape, index.shape))))
    x_shape, index_shape = list(shape), list(shape)
    x_shape[dim], index_shape[dim] = x.shape[dim], index.shape[dim]
    data, index = np.broadcast_to(x._data, x_shape), np.broadcast_to(index, index_shape)

    def backward(g: np.ndarray):
        grad = np.zeros(x_shape, dtype=x.dtype)
        np.add.at(grad, _lanes("take_along_dim", index, dim, x_shape), g)
        return (unbroadcast(grad, x.shape),)
    return Tensor._make(np.take_along_axis(data, index, axis=dim), (x,), backward)


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The slices of x at the 1-D ``index`` along dim;  the gradient adds g back there.
    A 0-d x takes one index (0-d or of shape (1,)) and gives a 0-d result, as PyTorch's."""
    dim = _one_dim("index_select", dim, max(x.ndim, 1))
    data = x._data.reshape(1) if x.ndim == 0 else x._data
    index = _indices("index_select", index, data.shape[dim])
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be 0-d or 1-D, not of shape {index.shape}")
    if x.ndim == 0 and index.size != 1:
        raise RuntimeError(f"index_select: a 0-d tensor takes one index, not {index.size}")
    where = (slice(None),) * dim + (index.reshape(-1),)

    def backward(g: np.ndarray):
        grad = np.zeros_like(data)
        np.add.at(grad, where, g.reshape(data[where].shape))
        return (grad.reshape(x.shape),)
    out = data[where]
    return Tensor._make(out if x.ndim else out.reshape(()), (x,), backward)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """value where mask is True, else x, the two broadcast together (the result may be
    larger than x, as in PyTorch's out-of-place form);  the gradient is g where the mask is
    False for x (summed back to x's shape), and the sum of g where it is True for a tensor
    value."""
    mask = _mask("masked_fill", mask)
    value = _constant(value, x.dtype)
    if value.ndim:
        raise RuntimeError(f"masked_fill: value must be a scalar or 0-d tensor, "
                           f"not of shape {value.shape}")
    out = _broadcasting("masked_fill", np.where, mask, value._data, x._data)
    out = out.astype(x.dtype, copy=False)   # x's dtype
    return Tensor._make(out, (x, value), lambda g: (
        unbroadcast(np.where(mask, 0, g), x.shape) if x.requires_grad else None,
        np.sum(g, where=np.broadcast_to(mask, g.shape)).astype(value.dtype)
        if value.requires_grad else None))


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The 1-D tensor of x's elements where mask is True (the two broadcast together);
    the gradient puts g back at those places."""
    mask = _mask("masked_select", mask)
    mask, data = _broadcasting("masked_select", np.broadcast_arrays, mask, x._data)

    def backward(g: np.ndarray):
        grad = np.zeros(mask.shape, dtype=x.dtype)
        grad[mask] = g
        return (unbroadcast(grad, x.shape),)
    return Tensor._make(data[mask], (x,), backward)


def nonzero(x: Tensor, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the non-zero elements: an int64 tensor of shape (count, ndim), or with
    ``as_tuple`` one 1-D tensor per axis (numpy's nonzero). No gradient."""
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(data)))
    return Tensor(np.argwhere(data).astype(np.int64))


def one_hot(x: Any, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape x.shape + (num_classes,): 1 at each class index, else 0;
    num_classes -1 means max(x) + 1. No gradient."""
    data = np.asarray(_data(x))
    if data.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class indices must be integers, not {data.dtype}")
    if num_classes == -1:
        if data.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(data.max()) + 1
    if data.size and (data.min() < 0 or data.max() >= num_classes):
        bad = data[(data < 0) | (data >= num_classes)].flat[0]
        raise IndexError(f"one_hot: class index {bad} is out of range for "
                         f"num_classes={num_classes}")
    return Tensor((data[..., None] == np.arange(num_classes)).astype(np.int64))
