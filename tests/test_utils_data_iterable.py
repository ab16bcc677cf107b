"""minidl.utils.data: ConcatDataset, StackDataset, IterableDataset (and the
DataLoader over one), ChainDataset and WeightedRandomSampler, with PyTorch's
behaviour and error texts (read off torch 2.13 and written here)."""
from __future__ import annotations

import numpy as np
import pytest

import minidl
from minidl.utils.data import (ChainDataset, ConcatDataset, DataLoader, Dataset,
                               IterableDataset, StackDataset, TensorDataset,
                               WeightedRandomSampler, get_worker_info)


class Count(IterableDataset):
    def __init__(self, n: int):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


class Sharded(IterableDataset):
    """PyTorch's documented pattern: each worker takes its share of range(start, end)."""

    def __init__(self, start: int, end: int):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:                    # the main process: the whole range
            return iter(range(self.start, self.end))
        share = -(-(self.end - self.start) // info.num_workers)
        first = self.start + info.id * share
        return iter(range(first, min(first + share, self.end)))


class Stream(IterableDataset):
    """No __len__: a stream of (feature row, label) pairs."""

    def __iter__(self):
        for i in range(5):
            yield np.array([i, -i], np.float32), i % 2


def test_concat_dataset_indexes_across_its_parts():
    data = ConcatDataset([[1, 2], TensorDataset(minidl.arange(3)), [6]])
    assert len(data) == 6 and data.cumulative_sizes == [2, 5, 6]
    assert [data[i] if i in (0, 1, 5) else data[i][0].item() for i in range(6)] == \
        [1, 2, 0, 1, 2, 6]
    assert data[-1] == 6 and data[-6] == 1
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset"):
        data[-7]
    with pytest.raises(IndexError):
        data[6]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([[1], Count(2)])


def test_adding_datasets_concatenates_or_chains_them():
    class Pair(Dataset):
        def __getitem__(self, i):
            return i * 10

        def __len__(self):
            return 2

    both = Pair() + Pair()
    assert isinstance(both, ConcatDataset) and [both[i] for i in range(4)] == [0, 10, 0, 10]
    chain = Count(2) + Count(3)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5


def test_a_loader_over_a_concat_dataset_shuffles_all_items():
    data = ConcatDataset([TensorDataset(minidl.arange(4.0)), TensorDataset(minidl.arange(4.0, 9))])
    seen = [x for (batch,) in DataLoader(data, batch_size=3, shuffle=True) for x in batch.tolist()]
    assert sorted(seen) == list(range(9))


def test_stack_dataset_gives_tuples_or_dicts():
    data = StackDataset([1, 2], ["a", "b"])
    assert len(data) == 2 and data[1] == (2, "b")
    named = StackDataset(x=[1, 2], y=[3, 4])
    assert named[0] == {"x": 1, "y": 3}
    batch = next(iter(DataLoader(named, batch_size=2)))
    assert batch["x"].tolist() == [1, 2] and batch["y"].dtype == np.int64
    with pytest.raises(ValueError, match=r"Supported either ``tuple``- \(via ``args``\) or"
                                         r"``dict``- \(via ``kwargs``\) like input/output, "
                                         r"but both types are given."):
        StackDataset([1], x=[1])
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset([1], [1, 2])


def test_chain_dataset_refuses_map_style_parts_when_used():
    chain = ChainDataset([Count(1), [1]])
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(chain)
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        len(chain)


@pytest.mark.parametrize("drop_last, expected", [(False, [[0, 1, 2], [3, 4, 5], [6]]),
                                                  (True, [[0, 1, 2], [3, 4, 5]])])
def test_loader_batches_an_iterable_dataset(drop_last, expected):
    loader = DataLoader(Count(7), batch_size=3, drop_last=drop_last)
    batches = list(loader)
    assert [batch.tolist() for batch in batches] == expected
    assert all(batch.dtype == np.int64 for batch in batches)
    assert len(loader) == len(expected)
    assert [batch.tolist() for batch in loader] == expected          # a second epoch


def test_loader_collates_a_stream_without_length():
    loader = DataLoader(Stream(), batch_size=2)
    (x, y), *_, (last_x, last_y) = list(loader)
    assert x.tolist() == [[0, 0], [1, -1]] and x.dtype == np.float32
    assert y.tolist() == [0, 1] and last_x.shape == (1, 2) and last_y.tolist() == [0]
    with pytest.raises(TypeError, match="has no len"):
        len(loader)
    assert list(DataLoader(Count(3), batch_size=None)) == [0, 1, 2]
    assert len(DataLoader(Count(3), batch_size=None)) == 3
    joined = DataLoader(Count(3), batch_size=2, collate_fn=lambda items: "+".join(map(str, items)))
    assert list(joined) == ["0+1", "2"]


def test_a_sharded_stream_is_read_whole_with_workers_accepted():
    loader = DataLoader(Sharded(3, 10), batch_size=4, num_workers=2)
    assert [batch.tolist() for batch in loader] == [[3, 4, 5, 6], [7, 8, 9]]


@pytest.mark.parametrize("arguments, message", [
    ({"shuffle": True}, "DataLoader with IterableDataset: expected unspecified shuffle option, "
                        "but got shuffle=True"),
    ({"sampler": [0]}, "DataLoader with IterableDataset: expected unspecified sampler option, "
                       "but got sampler=[0]"),
    ({"batch_sampler": [[0]]}, "DataLoader with IterableDataset: expected unspecified "
                               "batch_sampler option, but got batch_sampler=[[0]]"),
    ({"batch_size": 0}, "batch_size should be a positive integer value, but got batch_size=0"),
])
def test_loader_refuses_what_an_iterable_dataset_cannot_do(arguments, message):
    with pytest.raises(ValueError) as raised:
        DataLoader(Count(3), **arguments)
    assert str(raised.value) == message
    assert list(DataLoader(Count(2), shuffle=False)) != []           # shuffle=False is fine


def test_weighted_sampler_draws_by_weight():
    sampler = WeightedRandomSampler([0.0, 1.0, 3.0], 4000,
                                    generator=minidl.Generator().manual_seed(0))
    drawn = np.array(list(sampler))
    assert len(sampler) == 4000 and len(drawn) == 4000 and 0 not in drawn
    assert abs((drawn == 2).mean() - 0.75) < 0.03                     # 0.75 +- 4.4 sigma
    again = WeightedRandomSampler(minidl.tensor([0.0, 1.0, 3.0]), 4000,
                                  generator=minidl.Generator().manual_seed(0))
    assert list(again) == drawn.tolist()
    unique = list(WeightedRandomSampler([1, 1, 1, 5], 4, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3]
    data = TensorDataset(minidl.arange(4.0))
    loader = DataLoader(data, batch_size=5, sampler=WeightedRandomSampler([0, 0, 0, 1], 5))
    assert [batch.tolist() for (batch,) in loader] == [[3.0] * 5]


@pytest.mark.parametrize("args, error, message", [
    (([1.0, 2.0], 0), ValueError, "num_samples should be a positive integer value, but got "
                                  "num_samples=0"),
    (([1.0, 2.0], 2, "yes"), ValueError, "replacement should be a boolean value, but got "
                                         "replacement=yes"),
    (([[1.0, 2.0]], 2), ValueError, r"weights should be a 1d sequence but given weights have "
                                    r"shape \(1, 2\)"),
])
def test_weighted_sampler_refuses_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        WeightedRandomSampler(*args)


def test_weighted_sampler_without_replacement_refuses_too_many_when_iterated():
    sampler = WeightedRandomSampler([1.0, 2.0], 3, replacement=False)
    with pytest.raises(RuntimeError, match="cannot sample n_sample=3 without replacement"):
        list(sampler)
