"""minidl.utils.data, PyTorch's data loading (issue 16): datasets, samplers,
DataLoader and default_collate with PyTorch's defaults, errors and dtypes
(from tests/data/torchns_vectors.npz, made by make_torchns_vectors.py)."""
from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.utils.data
from minidl.utils.data import (BatchSampler, DataLoader, Dataset, RandomSampler,
                               SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                               default_collate, random_split)

VECTORS = np.load(Path(__file__).parent / "data" / "torchns_vectors.npz")


class Squares(Dataset):
    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return np.array([i, i * i], dtype=np.float32), i % 2


def test_import_forms() -> None:
    assert minidl.utils.data.DataLoader is DataLoader


def test_default_loader_is_sequential_batches_of_one() -> None:
    loader = DataLoader(Squares(3))
    assert loader.dataset.n == 3 and loader.batch_size == 1 and len(loader) == 3
    batches = list(loader)
    assert [y.tolist() for _, y in batches] == [[0], [1], [0]]
    assert batches[2][0].tolist() == [[2.0, 4.0]] and batches[2][0].dtype == np.float32


@pytest.mark.parametrize("n, batch_size, drop_last, lengths", [
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]), (8, 4, False, [4, 4]),
    (3, 5, False, [3]), (3, 5, True, [])])
def test_batch_counts(n: int, batch_size: int, drop_last: bool, lengths: list[int]) -> None:
    loader = DataLoader(Squares(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(lengths)
    assert [len(y) for _, y in loader] == lengths


def test_shuffle_visits_every_item_once_and_the_generator_repeats_it() -> None:
    data = TensorDataset(minidl.arange(20.0).reshape(10, 2), minidl.arange(10))

    def epoch(seed: int) -> list[int]:
        loader = DataLoader(data, batch_size=3, shuffle=True,
                            generator=minidl.Generator().manual_seed(seed))
        return [i for _, y in loader for i in y.tolist()]
    assert sorted(epoch(0)) == list(range(10)) and epoch(0) == epoch(0)
    assert epoch(0) != epoch(1) and epoch(0) != list(range(10))
    loader = DataLoader(data, batch_size=10, shuffle=True)
    minidl.manual_seed(2)
    first = next(iter(loader))[1].tolist()
    minidl.manual_seed(2)
    assert next(iter(loader))[1].tolist() == first


def test_a_tensor_dataset_batch_is_the_collated_items() -> None:
    x, y = minidl.randn(7, 2, 3), minidl.arange(7)
    data = TensorDataset(x, y)
    assert len(data) == 7 and data[3][1].item() == 3
    fast = list(DataLoader(data, batch_size=3))
    slow = list(DataLoader(data, batch_size=3, collate_fn=default_collate))
    for (fx, fy), (sx, sy) in zip(fast, slow, strict=True):
        assert np.array_equal(fx.numpy(), sx.numpy()) and np.array_equal(fy.numpy(), sy.numpy())
        assert fx.dtype == np.float32 and fy.dtype == np.int64
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(minidl.zeros(3), minidl.zeros(4))


@pytest.mark.parametrize("case", ["floats", "ints", "bools", "float32_arrays", "int_arrays"])
def test_default_collate_makes_torchs_dtypes(case: str) -> None:
    batches = {"floats": [0.5, 1.5], "ints": [1, 2], "bools": [True, False],
               "float32_arrays": [np.ones(2, np.float32), np.zeros(2, np.float32)],
               "int_arrays": [np.arange(2), np.arange(2)]}
    out = default_collate(batches[case])
    assert str(out.dtype) == str(VECTORS[f"collate_{case}_dtype"])
    assert np.array_equal(out.numpy(), VECTORS[f"collate_{case}_value"])


def test_default_collate_of_structures() -> None:
    Pair = namedtuple("Pair", "a b")
    out = default_collate([{"x": np.ones(2), "name": "a", "pair": Pair(1, 2.0)},
                           {"x": np.zeros(2), "name": "b", "pair": Pair(3, 4.0)}])
    assert out["x"].shape == (2, 2) and out["name"] == ["a", "b"]
    assert isinstance(out["pair"], Pair) and out["pair"].a.tolist() == [1, 3]
    items = default_collate([(minidl.ones(2), 0), (minidl.zeros(2), 1)])
    assert isinstance(items, list) and items[0].shape == (2, 2) and items[1].tolist() == [0, 1]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object()])


def test_samplers() -> None:
    data = list(range(5))
    assert list(SequentialSampler(data)) == [0, 1, 2, 3, 4]
    g = minidl.Generator().manual_seed(0)
    assert sorted(RandomSampler(data, generator=g)) == data
    drawn = list(RandomSampler(data, replacement=True, num_samples=50, generator=g))
    assert len(drawn) == 50 and set(drawn) <= set(data) and len(set(drawn)) > 1
    longer = list(RandomSampler(data, num_samples=7, generator=g))
    assert len(longer) == 7 and sorted(longer[:5]) == data
    assert sorted(SubsetRandomSampler([4, 1, 3], generator=g)) == [1, 3, 4]
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(range(5), 2, drop_last=True)) == 2
    loader = DataLoader(Squares(5), batch_sampler=BatchSampler(range(5), 2, False))
    assert [y.tolist() for _, y in loader] == [[0, 1], [0, 1], [0]]
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(data, num_samples=0)


def test_batch_size_none_yields_the_items() -> None:
    items = list(DataLoader(Squares(2), batch_size=None))
    assert items[1][1] == 1 and items[1][0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("case, arguments", [
    ("sampler_shuffle", {"sampler": [0, 1], "shuffle": True}),
    ("batch_sampler", {"batch_sampler": [[0]], "batch_size": 2}),
    ("batch_size_none", {"batch_size": None, "drop_last": True})])
def test_conflicting_arguments_raise_torchs_errors(case: str, arguments: dict) -> None:
    with pytest.raises(ValueError) as raised:
        DataLoader(Squares(4), **arguments)
    assert str(raised.value) == str(VECTORS[f"error_{case}"])


@pytest.mark.parametrize("n, fractions", [(10, (0.7, 0.3)), (10, (0.33, 0.33, 0.34)),
                                          (7, (0.5, 0.5)), (11, (0.25,) * 4)])
def test_random_split_by_fractions_gives_torchs_lengths(n: int, fractions: tuple) -> None:
    parts = random_split(range(n), list(fractions), generator=minidl.Generator().manual_seed(0))
    key = ("split_" + "_".join(str(v) for v in (n, *fractions))).replace(".", "p")
    assert [len(p) for p in parts] == VECTORS[key].tolist()
    assert sorted(i for part in parts for i in part) == list(range(n))


def test_random_split_by_lengths_and_subset() -> None:
    train, test = random_split(Squares(10), [8, 2], generator=minidl.Generator().manual_seed(1))
    assert isinstance(train, Subset) and len(train) == 8 and len(test) == 2
    assert sorted(train.indices + test.indices) == list(range(10))
    assert train[0][0].tolist() == Squares(10)[train.indices[0]][0].tolist()
    again, _ = random_split(Squares(10), [8, 2], generator=minidl.Generator().manual_seed(1))
    assert again.indices == train.indices
    with pytest.raises(ValueError) as raised:
        random_split(range(5), [2, 2])
    assert str(raised.value) == str(VECTORS["error_split_sum"])
    assert len(list(DataLoader(test, batch_size=1))) == 2
