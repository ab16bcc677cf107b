"""Batches of sequences of different lengths, as ``torch.nn.utils.rnn``.

A PackedSequence holds a batch's sequences time step by time step, longest
first, without the padding: ``data`` stacks the elements of step 0 of every
sequence, then those of step 1 of every sequence still running, and so on;
``batch_sizes[t]`` counts the sequences running at step t. For lengths 3, 2, 1:

    data = [a0, b0, c0, a1, b1, a2],   batch_sizes = [3, 2, 1]

The recurrent layers take a PackedSequence and step each sequence only over
its own length (so a reverse direction starts at each sequence's own last
element), and return their output packed the same way. ``sorted_indices``
lists the batch in the order packed (longest first) when ``enforce_sorted``
was False, and ``unsorted_indices`` undoes it; hidden states are in the
batch's own order.

Packing and unpacking gather and scatter rows; the gradient of each is the other.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from ... import ops
from ...tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence"]


class PackedSequence(NamedTuple):
    """A packed batch: see the module docstring. ``batch_sizes``, ``sorted_indices`` and
    ``unsorted_indices`` are int64 Tensors (the last two None for a batch packed sorted)."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def packed_positions(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(step, batch row) of each row of packed data, in the packed order."""
    steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    starts = np.repeat(np.cumsum(batch_sizes) - batch_sizes, batch_sizes)
    return steps, np.arange(len(steps)) - starts


def gather_rows(x: Tensor, index: tuple[np.ndarray, ...]) -> Tensor:
    """x[index] for an index that reads each element at most once; g scatters back."""
    def backward(g: np.ndarray):
        grad = np.zeros_like(x._data)
        grad[index] = g
        return (grad,)
    return Tensor._make(x._data[index], (x,), backward)


def scatter_rows(x: Tensor, index: tuple[np.ndarray, ...], shape: tuple[int, ...],
                 fill: float = 0.0) -> Tensor:
    """An array of ``shape`` filled with ``fill``, x written at ``index``; g gathers back."""
    out = np.full(shape, fill, x.dtype)
    out[index] = x._data
    return Tensor._make(out, (x,), lambda g: (g[index],))


def _lengths(lengths: Any, batch: int, steps: int) -> np.ndarray:
    """lengths as int64, checked with PyTorch's exception types: a RuntimeError for a
    shape or a value that does not fit; a TypeError for lengths that are not ints (PyTorch
    truncates floats to ints)."""
    array = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if array.ndim != 1 or len(array) != batch:
        raise RuntimeError(f"pack_padded_sequence: lengths must be a 1-D sequence of one "
                           f"length per sequence of the batch (batch size {batch}), got "
                           f"{array.tolist()}")
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"pack_padded_sequence: lengths must be ints, got {array.tolist()} of "
                        f"dtype {array.dtype}")
    if array.size and (array.min() < 1 or array.max() > steps):
        raise RuntimeError(f"pack_padded_sequence: lengths must lie in [1, {steps}] (the "
                           f"input's sequence length), got {array.tolist()}")
    return array.astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) if ``batch_first``) whose sequence b has
    ``lengths[b]`` steps. With ``enforce_sorted`` the lengths must not increase."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise IndexError(f"pack_padded_sequence: input must have a time and a batch dimension, "
                         f"got shape {x.shape}")
    batch_axis = 0 if batch_first else 1
    lengths = _lengths(lengths, x.shape[batch_axis], x.shape[1 - batch_axis])
    sorted_indices = unsorted_indices = None
    order = np.arange(len(lengths))
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(f"pack_padded_sequence: lengths {lengths.tolist()} must be sorted "
                               f"in decreasing order when enforce_sorted is True; pass "
                               f"enforce_sorted=False to pack an unsorted batch")
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices, unsorted_indices = Tensor(order), Tensor(np.argsort(order))
    batch_sizes = (lengths[:, None] > np.arange(lengths.max() if lengths.size else 0)).sum(0)
    steps, rows = packed_positions(batch_sizes)
    index = (order[rows], steps) if batch_first else (steps, order[rows])
    return PackedSequence(gather_rows(x, index), Tensor(batch_sizes.astype(np.int64)),
                          sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """(padded batch (T, B, *) or (B, T, *), lengths): the inverse of pack_padded_sequence,
    the batch in its original order; T = ``total_length`` if given, else the longest."""
    batch_sizes = np.asarray(sequence.batch_sizes._data)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is less than "
                             f"the longest sequence, {steps}")
        steps = total_length
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    order = (np.arange(batch) if sequence.sorted_indices is None
             else np.asarray(sequence.sorted_indices._data))
    time, rows = packed_positions(batch_sizes)
    data = sequence.data
    index = (order[rows], time) if batch_first else (time, order[rows])
    shape = (batch, steps) if batch_first else (steps, batch)
    lengths = np.zeros(batch, np.int64)
    lengths[order] = (batch_sizes[:, None] > np.arange(batch)).sum(0)
    return scatter_rows(data, index, shape + data.shape[1:], padding_value), Tensor(lengths)


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0) -> Tensor:
    """Tensors of shapes (L_b, *) stacked into (T, B, *) ((B, T, *) if ``batch_first``),
    T the longest L_b, the rest filled with ``padding_value``."""
    tensors = [s if isinstance(s, Tensor) else Tensor(s) for s in sequences]
    if not tensors:
        raise ValueError("pad_sequence: sequences is empty")
    steps = max(t.shape[0] for t in tensors)
    padded = [t if t.shape[0] == steps else ops.concatenate(
        [t, Tensor(np.full((steps - t.shape[0], *t.shape[1:]), padding_value, t.dtype))])
        for t in tensors]
    return ops.stack(padded, axis=0 if batch_first else 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """pack_padded_sequence(pad_sequence(sequences), their lengths, enforce_sorted)."""
    lengths = [len(s) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
