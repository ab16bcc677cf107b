"""DataLoader and fit take PyTorch-style dataset objects."""
from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn as nn


# -- dataset objects (PyTorch style) ---------------------------------------------------
class _Pairs:
    """A dataset as PyTorch users write them: __len__ and __getitem__ -> (x, y)."""

    def __init__(self, n: int = 10):
        self.X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
        self.y = np.arange(n) % 3

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])


def test_dataloader_takes_a_dataset_object():
    from minidl.data import DataLoader
    loader = DataLoader(_Pairs(10), batch_size=4, shuffle=False)
    batches = list(loader)
    assert len(batches) == 3
    X, y = batches[0]
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X.numpy(), np.arange(8).reshape(4, 2))
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2, 0])


def test_dataset_items_of_tensors_and_features_only():
    import minidl
    from minidl.data import DataLoader

    class Tensors(_Pairs):
        def __getitem__(self, i):
            return minidl.tensor(self.X[i]), minidl.tensor(float(self.y[i]))

    class FeaturesOnly(_Pairs):
        def __getitem__(self, i):
            return self.X[i]

    X, y = next(iter(DataLoader(Tensors(4), batch_size=4, shuffle=False)))
    assert X.shape == (4, 2) and y.dtype == np.float32
    only = next(iter(DataLoader(FeaturesOnly(4), batch_size=4, shuffle=False)))
    assert isinstance(only, minidl.Tensor) and only.shape == (4, 2)


def test_fit_takes_a_dataset_object():
    import minidl
    from minidl import nn, optim
    model = nn.Linear(2, 3)
    history = minidl.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01),
                         _Pairs(12), val_data=_Pairs(6), epochs=2, progress=False)
    assert history.epochs == 2 and "val_loss" in history.keys()


def test_bad_dataset_objects_say_what_is_wrong():
    from minidl.data import DataLoader

    class Ragged(_Pairs):
        def __getitem__(self, i):
            return self.X[i][: 1 + i % 2], 0

    class Mixed(_Pairs):
        def __getitem__(self, i):
            return (self.X[i], 0) if i else self.X[i]

    with pytest.raises(ValueError, match="different shapes"):
        DataLoader(Ragged(4))
    with pytest.raises(ValueError, match="dataset item 1 is tuple"):
        DataLoader(Mixed(4))
    with pytest.raises(ValueError, match="y must be None"):
        DataLoader(_Pairs(4), y=np.zeros(4))
    with pytest.raises(ValueError, match="empty dataset"):
        DataLoader(_Pairs(0))


def test_fit_refuses_a_dataset_whose_items_have_no_targets():
    class Inputs:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.full(2, float(i), np.float32)

    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="has no targets y"):
        minidl.fit(model, nn.CrossEntropyLoss(), minidl.optim.SGD(model.parameters(), lr=0.1),
                   Inputs(), batch_size=2, progress=False)
