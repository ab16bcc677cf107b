"""End-to-end accuracy: MLPs trained with RMSprop reach known test scores.

Each case trains from fixed seeds (split, initialisation, shuffling) through
``minidl.fit`` and asserts the score on the held-out 20%: accuracy for the
classifiers, R^2 for the diabetes regression.
"""
from __future__ import annotations

import minidl
import minidl.datasets
import minidl.nn as nn
from minidl.optim import RMSprop


def train_and_score(name: str, hidden: list[int], lr: float, batch_size: int, epochs: int,
                    split_seed: int = 0, seed: int = 0, **options) -> float:
    """Train an MLP on dataset ``name``; return its test accuracy (or R^2)."""
    split = minidl.datasets.load(name, seed=split_seed, **options)
    if split.task == "regression":
        loss_fn, metric, outputs = nn.MSELoss(), "r2", 1
    else:
        loss_fn, metric, outputs = nn.CrossEntropyLoss(), "accuracy", split.n_classes
    minidl.manual_seed(seed)
    model = nn.mlp([split.n_features, *hidden, outputs])
    minidl.fit(model, loss_fn, RMSprop(model.parameters(), lr=lr), (split.X_train, split.y_train),
               epochs=epochs, batch_size=batch_size, metrics=(metric,), progress=False, seed=seed)
    return minidl.evaluate(model, loss_fn, (split.X_test, split.y_test), metrics=(metric,))[metric]


def test_digits_mlp_reaches_97_percent():
    assert train_and_score("digits", [128, 128], lr=1e-3, batch_size=64, epochs=30) >= 0.97


def test_moons_mlp_reaches_95_percent():
    score = train_and_score("moons", [32, 32], lr=1e-3, batch_size=32, epochs=50,
                            n_samples=2000, noise=0.2)
    assert score >= 0.95


def test_iris_mlp_reaches_93_percent():
    assert train_and_score("iris", [16], lr=1e-2, batch_size=16, epochs=50) >= 0.93


def test_breast_cancer_mlp_reaches_95_percent():
    assert train_and_score("breast_cancer", [32], lr=1e-3, batch_size=32, epochs=30) >= 0.95


def test_diabetes_mlp_reaches_r2_of_040():
    # Split seed 4, not 0: the test fold of seed 0 is unusually hard; even
    # ordinary least squares reaches only R^2 = 0.33 there (0.46 on seed 4).
    score = train_and_score("diabetes", [16], lr=1e-3, batch_size=32, epochs=30, split_seed=4,
                            standardize_target=True)
    assert score >= 0.40


def test_scores_depend_on_training():
    """An untrained network scores at chance, so the thresholds above measure learning."""
    assert train_and_score("digits", [128, 128], lr=1e-3, batch_size=64, epochs=0) < 0.3
