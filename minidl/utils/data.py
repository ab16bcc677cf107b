"""``torch.utils.data`` with PyTorch's names, defaults and errors: Dataset,
TensorDataset, Subset, ConcatDataset, StackDataset, random_split, the
iterable-style IterableDataset and ChainDataset, the samplers (WeightedRandomSampler
too) and DataLoader.

A DataLoader turns a dataset into batches in three steps:

    sampler         yields indices i of the dataset (in order, or shuffled)
    batch_sampler   groups them into lists of batch_size (the last one shorter
                    unless drop_last)
    collate_fn      turns [dataset[i] for i in a batch] into one batch: by default
                    Tensors, arrays and numbers are stacked along a new first axis,
                    tuples and dicts are collated field by field

so an epoch yields ceil(n / batch_size) batches (floor with drop_last). An
IterableDataset has no indices: the loader takes batch_size items at a time from
its iterator and collates them (no sampler, batch_sampler or shuffle). Shuffling
draws from ``generator`` (a ``minidl.Generator``), else from the global generator
that ``minidl.manual_seed`` seeds. ``num_workers`` and the other worker and
memory-pinning arguments are accepted and ignored: the batches are made in the
calling process.

minidl's own loader, ``minidl.data.DataLoader(X, y, batch_size=32, shuffle=True)``,
which ``fit``, the scikit-learn estimators and the CLI use, stays as it was: it
stacks the whole dataset once and slices arrays, where this one follows PyTorch's
item-by-item protocol (a TensorDataset is sliced in one step too).
"""
from __future__ import annotations

import bisect
import itertools
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..random import Generator, default_generator, generator as numpy_generator
from ..sampling import multinomial
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "DataLoader", "default_collate", "ConcatDataset", "StackDataset",
           "IterableDataset", "ChainDataset", "WeightedRandomSampler", "get_worker_info"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """An iterable-style dataset: subclasses define ``__iter__``, yielding the
    items (a stream; ``__len__`` is optional)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Item i is ``tuple(t[i] for t in tensors)``: the tensors share their first size."""

    def __init__(self, *tensors: Tensor):
        if any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError(f"Size mismatch between tensors: first sizes "
                             f"{[len(t) for t in tensors]}")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor(t._data[index], dtype=t.dtype) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0]) if self.tensors else 0


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def get_worker_info() -> None:
    """None: minidl's DataLoader makes every batch in the calling process, as
    PyTorch's does with ``num_workers=0`` (an IterableDataset that shards its
    stream per worker reads None as "the whole stream")."""
    return None


class ConcatDataset(Dataset):
    """The items of ``datasets`` one dataset after another: item i is item
    i - cumulative_sizes[k-1] of dataset k, the first k with i < cumulative_sizes[k]."""

    def __init__(self, datasets: Iterable[Any]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        k = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]


class StackDataset(Dataset):
    """Item i of several datasets of one length together: ``StackDataset(a, b)[i]``
    is ``(a[i], b[i])``, ``StackDataset(x=a, y=b)[i]`` is ``{"x": a[i], "y": b[i]}``."""

    def __init__(self, *args: Any, **kwargs: Any):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        datasets = list(args or kwargs.values())
        self._length = len(datasets[0])
        if any(len(dataset) != self._length for dataset in datasets):
            raise ValueError("Size mismatch between datasets")
        self.datasets: tuple[Any, ...] | dict[str, Any] = args or kwargs

    def __getitem__(self, index: int) -> tuple[Any, ...] | dict[str, Any]:
        if isinstance(self.datasets, dict):
            return {key: dataset[index] for key, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __len__(self) -> int:
        return self._length


class ChainDataset(IterableDataset):
    """The items of several IterableDatasets, one stream after another."""

    def __init__(self, datasets: Iterable[Any]):
        self.datasets = datasets

    def _checked(self) -> Iterator[Any]:
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield dataset

    def __iter__(self) -> Iterator[Any]:
        for dataset in self._checked():
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self._checked())


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: Generator | None = default_generator) -> list[Subset]:
    """Disjoint random Subsets of the given lengths, or of the given fractions
    (summing to 1: each gets floor(fraction * n), and the remainder goes one by one
    to the first subsets, as in PyTorch)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= fraction <= 1 for fraction in lengths):
            raise ValueError(f"Fraction at index {[not 0 <= f <= 1 for f in lengths].index(True)}"
                             f" is not between 0 and 1: {list(lengths)}")
        counts = [int(math.floor(n * fraction)) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = numpy_generator(generator).permutation(n).tolist()
    ends = np.cumsum(lengths)
    return [Subset(dataset, order[end - length:end]) for length, end in zip(lengths, ends)]


# -- samplers: which indices, in which order ---------------------------------------------
class Sampler:
    """Yields dataset indices; ``len`` is how many."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices each epoch, or ``num_samples`` indices
    drawn with ``replacement``."""

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if num_samples is not None:
            _check_positive_int(num_samples, "num_samples")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        rng, n = numpy_generator(self.generator), len(self.data_source)
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        whole, part = divmod(self.num_samples, n)
        return iter(np.concatenate([rng.permutation(n) for _ in range(whole)]
                                   + [rng.permutation(n)[:part]]).tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None):
        self.indices, self.generator = indices, generator

    def __iter__(self) -> Iterator[int]:
        order = numpy_generator(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order)

    def __len__(self) -> int:
        return len(self.indices)


class _InfiniteConstantSampler(Sampler):
    """None, forever: an IterableDataset's sampler (its items carry no index)."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``
    (``minidl.multinomial``), with ``replacement`` or without."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None):
        _check_positive_int(num_samples, "num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights_array = np.asarray(weights._data if isinstance(weights, Tensor) else weights,
                                   dtype=np.float64)
        if weights_array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_array.shape)}")
        self.weights = Tensor(weights_array, dtype=np.float64)
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self) -> Iterator[int]:
        drawn = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        return iter(drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last may be shorter
    unless ``drop_last``."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool):
        _check_positive_int(batch_size, "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _check_positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


# -- collation: a list of items into one batch -------------------------------------------
def default_collate(batch: list[Any]) -> Any:
    """PyTorch's rules: Tensors and arrays are stacked (keeping their dtype); Python
    floats become a float64 Tensor, ints int64, bools bool; strings stay a list;
    dicts collate per key, tuples and lists per position (as a list; a namedtuple
    keeps its type)."""
    first = batch[0]
    if isinstance(first, Tensor):
        return Tensor(np.stack([item._data for item in batch]), dtype=first.dtype)
    if isinstance(first, (np.ndarray, np.generic)):
        if first.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found {first.dtype}")
        return Tensor(np.stack(batch), dtype=first.dtype)
    if isinstance(first, (bool, np.bool_)):
        return Tensor(np.array(batch, dtype=bool), dtype=bool)
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64), dtype=np.int64)
    if isinstance(first, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64), dtype=np.float64)
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, Mapping):
        return {key: default_collate([item[key] for item in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):   # a namedtuple
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, Sequence):
        if any(len(item) != len(first) for item in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first).__name__}")


class DataLoader:
    """Batches of a map-style dataset, as PyTorch's DataLoader (see the module
    docstring). ``len(loader)`` is the number of batches of an epoch."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 multiprocessing_context: Any = None, in_order: bool = True):
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if sampler is None:
            sampler = (_InfiniteConstantSampler() if iterable
                       else RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers = num_workers
        self.collate_fn = default_collate if collate_fn is None else collate_fn

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            yield from self._iterable_batches()
            return
        if self.batch_sampler is None:   # batch_size=None: single items, not batched
            for index in self.sampler:
                yield self.dataset[index]
            return
        sliceable = (isinstance(self.dataset, TensorDataset)
                     and self.collate_fn is default_collate)
        for indices in self.batch_sampler:
            if sliceable:   # the same batch as collating the items, in one step
                yield list(self.dataset[np.asarray(indices, dtype=np.int64)])
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def _iterable_batches(self) -> Iterator[Any]:
        """batch_size items at a time from the dataset's iterator, collated (a
        shorter last batch unless drop_last); with batch_size=None the items."""
        items = iter(self.dataset)
        if self.batch_size is None:
            yield from items
            return
        while batch := list(itertools.islice(items, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        """Batches per epoch; for an IterableDataset, from its ``len`` (TypeError
        without one)."""
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.sampler if self.batch_sampler is None else self.batch_sampler)
