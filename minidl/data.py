"""Mini-batches: the DataLoader of ``fit``, the scikit-learn estimators and the CLI.

It takes arrays ``DataLoader(X, y, batch_size=32, shuffle=True)`` and slices them.
PyTorch's item-by-item ``DataLoader(dataset, batch_size=1, ...)``, with samplers
and collation, is ``minidl.utils.data.DataLoader``.

An epoch visits every sample once. With ``shuffle`` it first draws a random
permutation pi of 0..n-1; batch b holds the samples

    pi[b * B], ..., pi[min((b + 1) * B, n) - 1]        (B = batch_size)

so there are ceil(n / B) batches, the last one of n mod B samples when B does
not divide n; ``drop_last`` drops that short batch, leaving floor(n / B).
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .random import generator
from .tensor import Tensor

Batch = Tensor | tuple[Tensor, Tensor]


class DataLoader:
    """Iterate over ``X`` (and ``y``) in mini-batches of ``batch_size`` rows.

    Yields ``(Tensor X, Tensor y)``, or ``Tensor X`` alone when ``y`` is None.
    Samples are the rows of X along its first axis, of any trailing shape: images
    (n, C, H, W) give batches (B, C, H, W).
    ``X`` may also be a dataset object, as in PyTorch: ``len(X)`` items, item
    ``X[i]`` an ``(x, y)`` pair (or ``x`` alone); its items are read once, here,
    and stacked into arrays.
    X becomes ``dtype`` (float32 unless asked otherwise, as for a Tensor);
    integer labels become int64, float targets ``dtype`` too. Shuffling draws from the loader's own
    generator when ``seed`` is given (each epoch a new permutation, the whole
    sequence the same for the same seed), else from minidl's global generator
    (``minidl.manual_seed``), read at the start of each epoch.
    """

    def __init__(self, X: Any, y: Any = None, batch_size: int = 32, shuffle: bool = True,
                 drop_last: bool = False, seed: int | None = None, dtype: Any = np.float32):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"Invalid batch_size: {batch_size!r} (needs a positive int)")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"Invalid seed: {seed!r} (needs a non-negative int or None)")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"Invalid dtype: {dtype} (needs float32 or float64)")
        if is_dataset(X):
            if y is not None:
                raise ValueError("y must be None when X is a dataset object: its items "
                                 "are (x, y) pairs")
            X, y = _from_dataset(X)
        self.X = _features(X, "X", dtype)
        self.y = None if y is None else _targets(y, dtype)
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"X and y have different lengths: len(X)={len(self.X)}, "
                             f"len(y)={len(self.y)}")
        if drop_last and batch_size > len(self.X):
            raise ValueError(f"drop_last=True with batch_size={batch_size} larger than the "
                             f"{len(self.X)} samples leaves no batch")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    @property
    def generator(self) -> np.random.Generator | None:
        """The loader's own shuffling generator when ``seed`` was given, else None
        (it then shuffles with minidl's global generator). Read-only; checkpoints
        save and restore its state."""
        return self._generator

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        n, size = len(self.X), self.batch_size
        return n // size if self.drop_last else -(-n // size)

    def __iter__(self) -> Iterator[Batch]:
        """One epoch. Its order is drawn here, when the epoch starts."""
        n = len(self.X)
        if not self.shuffle:
            return self._batches(np.arange(n))
        shuffler = generator() if self._generator is None else self._generator
        return self._batches(shuffler.permutation(n))

    def _batches(self, order: np.ndarray) -> Iterator[Batch]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            rows = order[start:start + self.batch_size]
            X = Tensor(self.X[rows], dtype=self.X.dtype)
            yield X if self.y is None else (X, Tensor(self.y[rows], dtype=self.y.dtype))

    def __repr__(self) -> str:
        return (f"DataLoader(n={len(self.X)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")


def _features(data: Any, argument: str, dtype: np.dtype) -> np.ndarray:
    """Floats, integers and booleans as ``dtype``."""
    array = np.asarray(data._data if isinstance(data, Tensor) else data)
    if array.ndim == 0:
        raise ValueError(f"{argument} must be at least 1-D, got a scalar: {array!r}")
    if len(array) == 0:
        raise ValueError(f"{argument} is empty: shape {array.shape}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{argument} must hold numbers, not dtype {array.dtype}")
    return array.astype(dtype, copy=False)


def _targets(data: Any, dtype: np.dtype) -> np.ndarray:
    """Integer and boolean labels become int64; float targets ``dtype``."""
    array = np.asarray(data._data if isinstance(data, Tensor) else data)
    if array.ndim >= 1 and array.dtype.kind in "iub":
        return array.astype(np.int64, copy=False)
    return _features(array, "y", dtype)


def is_dataset(data: Any) -> bool:
    """A PyTorch-style dataset: ``__len__`` and ``__getitem__``, but not an array,
    a list, a tuple or anything else numpy reads as an array (``__array__``)."""
    return (hasattr(data, "__len__") and hasattr(data, "__getitem__")
            and not hasattr(data, "__array__")
            and not isinstance(data, (np.ndarray, Tensor, list, tuple, str, bytes, dict)))


def _from_dataset(dataset: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Every item of ``dataset``, stacked: (X, y) from (x, y) items, (X, None) from x items."""
    items = [dataset[i] for i in range(len(dataset))]
    if not items:
        raise ValueError(f"X is an empty dataset: len({type(dataset).__name__}) is 0")
    paired = isinstance(items[0], tuple)
    for i, item in enumerate(items):
        if isinstance(item, tuple) != paired or (paired and len(item) != 2):
            raise ValueError(f"dataset item {i} is {type(item).__name__} {item!r:.80}; every "
                             f"item must be an (x, y) tuple, or every item x alone")
    if not paired:
        return _stack(items, "x"), None
    xs, ys = zip(*items)
    return _stack(xs, "x"), _stack(ys, "y")


def _stack(values: Any, name: str) -> np.ndarray:
    arrays = [np.asarray(v._data if isinstance(v, Tensor) else v) for v in values]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"the dataset's items give {name} of different shapes "
                         f"{sorted(shapes)[:3]}; every {name} needs the same shape")
    return np.stack(arrays)
