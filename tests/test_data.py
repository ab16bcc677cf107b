"""minidl.data.DataLoader: epochs, batch sizes, reproducible shuffling, types, errors."""
from __future__ import annotations

import numpy as np
import pytest

import minidl
from minidl import datasets
from minidl.data import DataLoader
from minidl.tensor import Tensor


def numbered(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row i of X is (i, -i) and its label is i, so a batch shows which rows it holds."""
    rows = np.arange(n)
    return np.column_stack([rows, -rows]).astype(np.float32), rows


def epoch_order(loader: DataLoader) -> np.ndarray:
    """The sample indices of one epoch, in the order the loader gives them."""
    return np.concatenate([y.numpy() for _, y in loader])


def test_each_epoch_visits_every_sample_once_with_rows_kept_together() -> None:
    X, y = numbered(103)
    loader = DataLoader(X, y, batch_size=10, seed=0)
    for _ in range(3):
        order = []
        for X_batch, y_batch in loader:
            np.testing.assert_array_equal(X_batch.numpy()[:, 0], y_batch.numpy())
            np.testing.assert_array_equal(X_batch.numpy()[:, 1], -y_batch.numpy())
            order.append(y_batch.numpy())
        np.testing.assert_array_equal(np.sort(np.concatenate(order)), np.arange(103))


@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (10, 3, False, [3, 3, 3, 1]),
    (10, 3, True, [3, 3, 3]),
    (9, 3, False, [3, 3, 3]),
    (9, 3, True, [3, 3, 3]),
    (5, 8, False, [5]),
    (1, 1, True, [1]),
])
def test_batch_sizes_and_len(n: int, batch_size: int, drop_last: bool, sizes: list[int]) -> None:
    loader = DataLoader(*numbered(n), batch_size=batch_size, drop_last=drop_last, seed=1)
    assert [len(y) for _, y in loader] == sizes
    assert len(loader) == len(sizes)


def test_drop_last_drops_distinct_samples_that_change_per_epoch() -> None:
    loader = DataLoader(*numbered(10), batch_size=4, drop_last=True, seed=2)
    epochs = [epoch_order(loader) for _ in range(5)]
    for order in epochs:
        assert len(order) == 8 and len(np.unique(order)) == 8
    assert len({tuple(np.setdiff1d(np.arange(10), order)) for order in epochs}) > 1


def test_without_shuffle_the_order_is_the_data_order() -> None:
    loader = DataLoader(*numbered(25), batch_size=7, shuffle=False)
    np.testing.assert_array_equal(epoch_order(loader), np.arange(25))
    np.testing.assert_array_equal(epoch_order(loader), np.arange(25))


def test_same_seed_same_sequence_of_epochs_and_each_epoch_new() -> None:
    X, y = numbered(50)
    first, again = DataLoader(X, y, seed=11), DataLoader(X, y, seed=11)
    orders = [epoch_order(first) for _ in range(3)]
    for order in orders:
        np.testing.assert_array_equal(epoch_order(again), order)
    assert not np.array_equal(orders[0], np.arange(50))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(epoch_order(DataLoader(X, y, seed=12)), orders[0])


def test_a_seeded_loader_ignores_the_global_generator() -> None:
    X, y = numbered(50)
    minidl.manual_seed(0)
    first = epoch_order(DataLoader(X, y, seed=4))
    minidl.manual_seed(1)
    np.testing.assert_array_equal(epoch_order(DataLoader(X, y, seed=4)), first)


def test_without_seed_manual_seed_makes_shuffling_repeatable() -> None:
    X, y = numbered(50)
    minidl.manual_seed(5)
    loader = DataLoader(X, y)
    orders = [epoch_order(loader) for _ in range(2)]
    assert not np.array_equal(orders[0], orders[1])
    minidl.manual_seed(5)
    loader = DataLoader(X, y)
    for order in orders:
        np.testing.assert_array_equal(epoch_order(loader), order)
    minidl.manual_seed(5)
    np.testing.assert_array_equal(epoch_order(loader), orders[0])


def test_the_order_is_drawn_when_the_epoch_starts() -> None:
    X, y = numbered(30)
    reference = DataLoader(X, y, seed=3)
    first_order, second_order = epoch_order(reference), epoch_order(reference)
    loader = DataLoader(X, y, seed=3)
    first, second = iter(loader), iter(loader)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in second]), second_order)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in first]), first_order)


@pytest.mark.parametrize("X_dtype", [np.float32, np.float64, np.float16, np.int64, np.uint8,
                                     np.bool_])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_features_become_the_loader_dtype(X_dtype: type, dtype: type) -> None:
    X = np.ones((6, 3), dtype=X_dtype)
    default = next(iter(DataLoader(X, batch_size=4, seed=0)))
    assert isinstance(default, Tensor)
    assert default.dtype == np.float32 and default.shape == (4, 3)
    assert not default.requires_grad
    assert next(iter(DataLoader(X, batch_size=4, seed=0, dtype=dtype))).dtype == dtype


def test_loader_dtype_must_be_float32_or_float64() -> None:
    with pytest.raises(ValueError, match="Invalid dtype: int64"):
        DataLoader(np.ones((2, 2)), dtype=np.int64)


@pytest.mark.parametrize("y_dtype, expected", [
    (np.int32, np.int64), (np.int64, np.int64), (np.uint8, np.int64), (np.bool_, np.int64),
    (np.float32, np.float32), (np.float64, np.float32),
])
def test_target_types(y_dtype: type, expected: type) -> None:
    y = np.arange(6).astype(y_dtype)
    _, y_batch = next(iter(DataLoader(np.zeros((6, 2)), y, batch_size=6, shuffle=False)))
    assert y_batch.dtype == expected
    np.testing.assert_array_equal(y_batch.numpy(), y)


def test_lists_tensors_and_1d_features_are_accepted() -> None:
    loader = DataLoader(Tensor([[1.0], [2.0], [3.0]]), [0, 1, 2], batch_size=2, shuffle=False)
    (X0, y0), (X1, y1) = loader
    np.testing.assert_array_equal(X0.numpy(), [[1.0], [2.0]])
    np.testing.assert_array_equal(y1.numpy(), [2])
    assert y0.dtype == np.int64
    X_batch = next(iter(DataLoader(np.arange(5.0), batch_size=5, shuffle=False)))
    assert X_batch.shape == (5,) and X_batch.dtype == np.float32


def test_loader_over_a_dataset_split() -> None:
    split = datasets.load("iris")
    loader = DataLoader(split.X_train, split.y_train, batch_size=32, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader) == 4
    assert batches[0][0].shape == (32, 4) and batches[-1][0].shape == (24, 4)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    assert repr(loader) == ("DataLoader(n=120, batch_size=32, shuffle=True, "
                            "drop_last=False, batches=4)")


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "8", True, None])
def test_bad_batch_size(batch_size: object) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros((4, 2)), batch_size=batch_size)


def test_lengths_of_x_and_y_must_match() -> None:
    with pytest.raises(ValueError, match=r"len\(X\)=5, len\(y\)=4"):
        DataLoader(np.zeros((5, 2)), np.zeros(4))


@pytest.mark.parametrize("X, error, message", [
    (np.float32(1.0), ValueError, "at least 1-D"),
    (np.zeros((0, 3)), ValueError, "X is empty"),
    (np.array(["a", "b"]), TypeError, "dtype"),
])
def test_bad_features(X: np.ndarray, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        DataLoader(X)


def test_bad_targets() -> None:
    with pytest.raises(ValueError, match="y must be at least 1-D"):
        DataLoader(np.zeros((3, 2)), 1)
    with pytest.raises(TypeError, match="y must hold numbers"):
        DataLoader(np.zeros((2, 2)), np.array(["a", "b"]))


@pytest.mark.parametrize("seed", [-1, 0.5, "1", True])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        DataLoader(np.zeros((4, 2)), seed=seed)


def test_drop_last_that_leaves_no_batch_is_an_error() -> None:
    with pytest.raises(ValueError, match="batch_size=8.*3 samples"):
        DataLoader(np.zeros((3, 2)), batch_size=8, drop_last=True)


def test_the_generator_property_is_the_loaders_own_and_read_only() -> None:
    X, y = numbered(20)
    assert DataLoader(X, y).generator is None
    loader = DataLoader(X, y, seed=6)
    expected = np.random.default_rng(6)
    state = loader.generator.bit_generator.state
    assert state == expected.bit_generator.state
    np.testing.assert_array_equal(epoch_order(loader), expected.permutation(20))
    assert loader.generator.bit_generator.state != state  # each epoch draws from it
    with pytest.raises(AttributeError):
        loader.generator = np.random.default_rng(0)
