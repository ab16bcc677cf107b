"""Shape and indexing: reshape, transpose, flatten, getitem, concatenate, stack; and
PyTorch's cat, view, permute, movedim, swapaxes, t, ravel, squeeze, unsqueeze, unflatten,
expand, flip, roll, repeat, repeat_interleave, split, chunk, tril, triu, diagonal, diag.

``getitem`` is numpy's indexing, and where basic and advanced indices mix numpy's
shape rule holds: advanced indices (integer arrays, masks) next to each other
replace their axes in place; separated by a slice, their broadcast axes go first.
PyTorch agrees, except that it counts a plain int as a basic index: on shape
(3, 4, 5), ``x[0, :, [0, 1]]`` has shape (2, 4) in minidl and numpy, (4, 2) in
PyTorch. Write ``x[0][:, [0, 1]]`` for PyTorch's.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import _axes, _one_dim, _sequence_operands, _shape_arg, _tensor_arguments

__all__ = ["reshape", "transpose", "flatten", "getitem", "concatenate", "stack",
           "cat", "view", "permute", "movedim", "swapaxes", "t", "ravel", "squeeze", "unsqueeze",
           "unflatten", "expand",
           "flip", "roll", "repeat", "repeat_interleave", "split", "chunk", "tril", "triu",
           "diagonal", "diag", "split_with_sizes"]


def reshape(x: Tensor, *shape: int) -> Tensor:
    """x with a new shape (one entry may be -1);  the gradient is g reshaped back."""
    shape = _shape_arg(shape)
    try:
        out = x._data.reshape(shape)
    except ValueError:
        raise RuntimeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                           f"into shape {shape}") from None
    return Tensor._make(out, (x,), lambda g: (g.reshape(x.shape),))


def transpose(x: Tensor, *axes: int) -> Tensor:
    """x with its axes permuted;  the gradient is g permuted by the inverse permutation.

    Three forms: ``x.transpose()`` reverses the axes (numpy's ``.T``);
    ``x.transpose(dim0, dim1)`` exchanges two axes, as PyTorch's does (also on a
    2-D tensor, where numpy would read ``(0, 1)`` as the identity); any other
    number of axes is numpy's full permutation, the new order of all the axes."""
    axes = _shape_arg(axes)
    if not axes:   # all axes reversed: its own inverse
        return Tensor._make(x._data.T, (x,), lambda g: (g.T,))
    if len(axes) == 2:
        return swapaxes(x, *axes)
    if len(_axes("transpose", axes, x.ndim)) != x.ndim:
        raise RuntimeError(f"transpose: axes {axes} are not a permutation of the {x.ndim} "
                           f"axes of shape {x.shape}")
    return _permuted(x, tuple(int(a) % x.ndim for a in axes))


def _permuted(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """x._data.transpose(axes) for a full permutation ``axes`` of x's axes, >= 0."""
    inverse = tuple(np.argsort(axes))
    return Tensor._make(x._data.transpose(axes), (x,), lambda g: (g.transpose(inverse),))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions start_dim..end_dim (inclusive) merged into one, as torch.flatten."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _axes("flatten", start_dim, x.ndim)[0], _axes("flatten", end_dim, x.ndim)[0]
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                           f"for shape {x.shape}")
    return reshape(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def _plain_index(index: Any) -> Any:
    """Tensors inside an index (masks, integer arrays) as their numpy arrays."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index] with numpy's indexing (ints, slices, None, ..., bool masks, integer
    arrays);  the gradient scatters g back, adding up repeated indices (np.add.at,
    or for one integer array, a lookup table's rows as in ``C[X]``, the embedding
    kernel: ``minidl.kernels.nn.cpu.embedding_grad``)."""
    index = _plain_index(index)
    out = x._data[index]

    def backward(g: np.ndarray):
        if (isinstance(index, np.ndarray) and index.dtype.kind in "iu" and x.ndim >= 1
                and index.size):   # an empty index has no rows to add
            from ..kernels.nn import cpu   # numba, loaded on first use
            rows = (index.reshape(-1) % len(x._data)).astype(np.int64, copy=False)
            grad = cpu.embedding_grad(rows, g.reshape(rows.size, -1), len(x._data))
            return (grad.reshape(x.shape),)
        grad = np.zeros_like(x._data)
        np.add.at(grad, index, g)
        return (grad,)
    return Tensor._make(out, (x,), backward)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along an existing axis;  each gets its slice of g."""
    tensors = _sequence_operands("concatenate", tensors)
    axis = _axes("concatenate", axis, tensors[0].ndim)[0]
    shapes = [t.shape for t in tensors]
    if len({s[:axis] + s[axis + 1:] for s in shapes}) > 1 or len({len(s) for s in shapes}) > 1:
        raise RuntimeError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    ends = np.cumsum([s[axis] for s in shapes])[:-1]
    return Tensor._make(np.concatenate([t._data for t in tensors], axis=axis), tuple(tensors),
                        lambda g: tuple(np.split(g, ends, axis=axis)))


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along a new axis;  each gets its slice g[..., i, ...]."""
    tensors = _sequence_operands("stack", tensors)
    shapes = [t.shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise RuntimeError(f"stack: all shapes must be equal, got {shapes}")
    axis = _axes("stack", axis, tensors[0].ndim + 1)[0]
    return Tensor._make(np.stack([t._data for t in tensors], axis=axis), tuple(tensors),
                        lambda g: tuple(np.moveaxis(g, axis, 0)))


# -- PyTorch's shape ops: they take ``dim``/``dims``, as PyTorch names them ---------
def _dims(op: str, dims: Any, ndim: int) -> tuple[int, ...]:
    """An int or a sequence of ints as axes >= 0, in the order given."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return tuple(_one_dim(op, d, ndim) for d in dims)


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """PyTorch's name for ``concatenate`` (it takes ``axis=`` too, as PyTorch's does)."""
    return concatenate(tensors, axis=dim if axis is None else axis)


def view(x: Tensor, *shape: int) -> Tensor:
    """PyTorch's name for ``reshape`` (minidl has no strides, so any tensor can be viewed;
    the result never shares memory with x)."""
    return reshape(x, *shape)


def permute(x: Tensor, *dims: int) -> Tensor:
    """x with its axes in the order ``dims``: numpy's ``transpose(x, dims)``."""
    dims = _shape_arg(dims)
    if len(_axes("permute", dims, x.ndim)) != x.ndim:
        raise RuntimeError(f"permute: dims {dims} are not a permutation of the {x.ndim} "
                           f"axes of shape {x.shape}")
    return _permuted(x, tuple(int(d) % x.ndim for d in dims))


def movedim(x: Tensor, source: Any, destination: Any) -> Tensor:
    """x with the axes ``source`` (an int or a sequence) moved to ``destination``, the other
    axes keeping their order: numpy's moveaxis, as a permute."""
    source, destination = _dims("movedim", source, x.ndim), _dims("movedim", destination, x.ndim)
    if len(source) != len(destination) or len(set(source)) != len(source) or \
            len(set(destination)) != len(destination):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must be "
                           f"as many distinct axes")
    order = [a for a in range(x.ndim) if a not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return _permuted(x, tuple(order))


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """x with two axes exchanged: PyTorch's ``transpose(dim0, dim1)``, numpy's ``swapaxes``.
    A 0-d tensor takes axes 0 and -1, as PyTorch's."""
    order = list(range(x.ndim))
    a, b = _one_dim("swapaxes", axis0, max(x.ndim, 1)), _one_dim("swapaxes", axis1, max(x.ndim, 1))
    if x.ndim == 0:
        return reshape(x, ())
    order[a], order[b] = b, a
    return _permuted(x, tuple(order))


def t(x: Tensor) -> Tensor:
    """A 2-D x transposed; a 0-d or 1-D x as it is (PyTorch's ``t``)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D "
                           f"(shape {x.shape})")
    return swapaxes(x, 0, -1) if x.ndim == 2 else reshape(x, x.shape)


def ravel(x: Tensor) -> Tensor:
    """x as a 1-D tensor (its elements in row-major order)."""
    return reshape(x, -1)


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """x without its size-1 axes (only those among ``dim`` if given; a named axis that is
    not of size 1 stays, as in PyTorch);  the gradient is g reshaped back."""
    named = range(x.ndim) if dim is None or x.ndim == 0 else _dims("squeeze", dim, x.ndim)
    drop = {a for a in named if x.shape[a] == 1}
    return reshape(x, tuple(n for a, n in enumerate(x.shape) if a not in drop))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """x with a new size-1 axis at ``dim`` (-1 appends);  the gradient is g reshaped back."""
    dim = _one_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Axis ``dim`` split into the axes ``sizes`` (one may be -1);  g is reshaped back."""
    dim = _one_dim("unflatten", dim, x.ndim)
    return reshape(x, x.shape[:dim] + tuple(sizes) + x.shape[dim + 1:])


def expand(x: Tensor, *sizes: int) -> Tensor:
    """x broadcast to ``sizes`` (-1 keeps an axis, new axes go in front);  the gradient is g
    summed back over the broadcast axes."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: {len(sizes)} sizes {sizes} for a tensor of {x.ndim} "
                           f"dimensions, shape {x.shape}")
    shape = tuple(x.shape[a - lead] if n == -1 and a >= lead else n for a, n in enumerate(sizes))
    try:
        out = np.broadcast_to(x._data, shape)
    except ValueError:
        raise RuntimeError(f"expand: a tensor of shape {x.shape} cannot expand to "
                           f"{sizes}") from None
    return Tensor._make(out, (x,), lambda g: (unbroadcast(g, x.shape),))


def flip(x: Tensor, dims: Any) -> Tensor:
    """x reversed along ``dims``;  the gradient is g reversed the same way."""
    dims = _dims("flip", dims, x.ndim)
    return Tensor._make(np.flip(x._data, dims), (x,), lambda g: (np.flip(g, dims),))


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """x shifted cyclically by ``shifts`` along ``dims`` (the flattened x if None);  the
    gradient is g rolled back by -shifts."""
    items = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in items):
        raise TypeError(f"roll: shifts must be an int or a tuple of ints, not {shifts!r}")
    if dims is not None:
        dims = _dims("roll", dims, x.ndim)
        if len(dims) != len(items):
            raise RuntimeError(f"roll: {len(items)} shifts {shifts!r} for {len(dims)} dims")
        back = tuple(-s for s in shifts) if isinstance(shifts, (tuple, list)) else -shifts
    elif isinstance(shifts, (tuple, list)):
        raise RuntimeError(f"roll: shifts {shifts!r} name several axes: give dims as well")
    else:
        back = -shifts
    return Tensor._make(np.roll(x._data, shifts, dims), (x,),
                        lambda g: (np.roll(g, back, dims),))


def repeat(x: Tensor, *repeats: int) -> Tensor:
    """x tiled ``repeats[a]`` times along each axis a (numpy's tile; extra repeats add leading
    axes);  the gradient sums g over the copies of each element."""
    repeats = _shape_arg(repeats)
    lead = len(repeats) - x.ndim
    if lead < 0:
        raise RuntimeError(f"repeat: {len(repeats)} repeats {repeats} for a tensor of {x.ndim} "
                           f"dimensions; give at least one per dimension")
    shape = (1,) * lead + x.shape

    def backward(g: np.ndarray):
        split = [n for pair in zip(repeats, shape) for n in pair]   # (r0, n0, r1, n1, ...)
        return (g.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(x.shape),)
    return Tensor._make(np.tile(x._data.reshape(shape), repeats), (x,), backward)


def repeat_interleave(x: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each element (each slice along dim) repeated ``repeats`` times in place, numpy's
    ``repeat``; the flattened x when dim is None. ``index_select`` at the repeated indices,
    so the gradient sums g over the copies."""
    from .indexing import index_select
    if dim is None:
        x, dim = reshape(x, -1), 0
    dim = _one_dim("repeat_interleave", dim, x.ndim)
    counts = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu" or np.any(counts < 0):
        raise ValueError(f"repeat_interleave: repeats must be integers >= 0, not {repeats!r}")
    return index_select(x, dim, np.repeat(np.arange(x.shape[dim]), counts))


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """x cut along dim into pieces of ``split_size_or_sections`` each (the last may be
    smaller), or into pieces of the listed sizes; each piece is a slice of x."""
    dim = _one_dim("split", dim, x.ndim)
    n = x.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, not {split_size_or_sections}")
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        sizes += [n % split_size_or_sections] if n % split_size_or_sections or not n else []
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split: sections {sizes} do not add up to the size {n} of "
                               f"axis {dim}")
    starts = np.cumsum([0] + sizes)
    lead = (slice(None),) * dim
    return tuple(getitem(x, lead + (slice(a, b),)) for a, b in zip(starts[:-1], starts[1:]))


def split_with_sizes(x: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """x cut along dim into pieces of the listed sizes, which must add up to its size
    there (``split`` with a list)."""
    _tensor_arguments("split_with_sizes", input=x)
    sizes = list(split_sizes)
    n = x.shape[_one_dim("split_with_sizes", dim, x.ndim)]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                           f"entries, but got split_sizes={sizes}")
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {dim}), but got split_sizes={sizes}")
    return split(x, sizes, dim)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """x split along dim into ``chunks`` pieces of ceil(n / chunks) (fewer if n runs out)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, not {chunks}")
    n = x.shape[_one_dim("chunk", dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


def _diagonal_number(op: str, diagonal: Any) -> int:
    if not isinstance(diagonal, (int, np.integer)) or isinstance(diagonal, bool):
        raise TypeError(f"{op}: diagonal must be an int, not {diagonal!r}")
    return int(diagonal)


def _triangle(op: str, keep: Any, x: Tensor, diagonal: int) -> Tensor:
    diagonal = _diagonal_number(op, diagonal)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: needs a tensor of at least 2 dimensions, not shape {x.shape}")
    return Tensor._make(keep(x._data, diagonal), (x,), lambda g: (keep(g, diagonal),))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """x with the elements above the given diagonal of the last two axes set to 0;  the
    gradient is g masked the same way."""
    return _triangle("tril", np.tril, x, diagonal)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """x with the elements below the given diagonal of the last two axes set to 0;  the
    gradient is g masked the same way."""
    return _triangle("triu", np.triu, x, diagonal)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of x over axes dim1 and dim2, as a new last axis (numpy's diagonal);
    the gradient puts g back on that diagonal of zeros."""
    offset = _diagonal_number("diagonal", offset)
    dim1, dim2 = _dims("diagonal", (dim1, dim2), x.ndim)
    if dim1 == dim2:
        raise RuntimeError(f"diagonal: dim1 and dim2 are the same axis {dim1}")

    def backward(g: np.ndarray):
        grad = np.zeros_like(x._data)
        square = np.moveaxis(grad, (dim1, dim2), (-2, -1))
        i = np.arange(g.shape[-1])
        square[..., i + max(-offset, 0), i + max(offset, 0)] = g
        return (grad,)
    return Tensor._make(np.diagonal(x._data, offset, dim1, dim2).copy(), (x,), backward)


_diagonal_of = diagonal   # diag's argument ``diagonal`` hides the function


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D x as the given diagonal of a square matrix of zeros; a 2-D x's given diagonal
    as a 1-D tensor. Either way the gradient is the other one applied to g."""
    diagonal = _diagonal_number("diag", diagonal)
    if x.ndim == 2:
        return _diagonal_of(x, diagonal)
    if x.ndim != 1:
        raise RuntimeError(f"diag: needs a 1-D or 2-D tensor, not shape {x.shape}")
    return Tensor._make(np.diag(x._data, diagonal), (x,),
                        lambda g: (np.diagonal(g, diagonal).copy(),))
