"""The digits CNN: accuracy on fixed seeds, image-shaped data, trailing batch shapes.

(tests/test_examples.py runs examples/digits_cnn.py.)

Training runs with one BLAS thread: the result then does not depend on how a
machine's BLAS splits the matmuls, and on a small machine it is also faster.
"""
from __future__ import annotations

import numpy as np
import pytest
import threadpoolctl

import minidl
import minidl.datasets
import minidl.nn as nn
from minidl.data import DataLoader
from minidl.optim import RMSprop


def digits_cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(128, 10))


def cnn_accuracy(seed: int, epochs: int = 30) -> float:
    split = minidl.datasets.load("digits", seed=0, images=True)
    minidl.manual_seed(seed)
    model = digits_cnn()
    with threadpoolctl.threadpool_limits(1):
        minidl.fit(model, nn.CrossEntropyLoss(), RMSprop(model.parameters(), lr=1e-3),
                   (split.X_train, split.y_train), epochs=epochs, batch_size=64,
                   progress=False, seed=seed)
        return minidl.evaluate(model, nn.CrossEntropyLoss(), (split.X_test, split.y_test))[
            "accuracy"]


def test_digits_cnn_reaches_98_percent():
    """Seeds 0-4 (initialisation and shuffling) on split 0: the mean is at least 0.98
    and no seed falls below 0.97 (measured 0.983, 0.981, 0.983, 0.989, 0.978)."""
    scores = [cnn_accuracy(seed) for seed in range(5)]
    assert np.mean(scores) >= 0.98, scores
    assert min(scores) >= 0.97, scores


def test_an_untrained_cnn_is_at_chance():
    assert cnn_accuracy(0, epochs=0) < 0.3


def test_digits_as_images():
    flat = minidl.datasets.load("digits")
    images = minidl.datasets.load("digits", images=True)
    assert images.X_train.shape == (len(flat.y_train), 1, 8, 8)
    assert images.X_test.shape == (len(flat.y_test), 1, 8, 8)
    assert images.X_train.dtype == np.float32
    np.testing.assert_array_equal(images.y_train, flat.y_train)
    # one mean and std over all training pixels, so every position keeps its scale
    assert abs(images.X_train.mean()) < 1e-5 and abs(images.X_train.std() - 1) < 1e-5
    raw = minidl.datasets.load("digits", images=True, standardize=False)
    assert raw.X_train.max() == 16 and raw.X_train.shape[1:] == (1, 8, 8)
    with pytest.raises(ValueError, match="images=True needs an image dataset.*'moons'"):
        minidl.datasets.load("moons", images=True)


def test_data_loader_keeps_trailing_shapes():
    X = np.arange(5 * 2 * 3 * 4, dtype=np.float32).reshape(5, 2, 3, 4)
    y = np.arange(5)
    batches = list(DataLoader(X, y, batch_size=2, shuffle=True, seed=0))
    assert [b.shape for b, _ in batches] == [(2, 2, 3, 4), (2, 2, 3, 4), (1, 2, 3, 4)]
    for X_batch, y_batch in batches:
        np.testing.assert_array_equal(X_batch.numpy(), X[y_batch.numpy()])
