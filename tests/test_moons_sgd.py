"""End to end: a two-layer network learns the moons with a hand-written SGD loop.

Full-batch gradient descent, p <- p - lr * dL/dp, with nothing but Module,
Linear, ReLU, CrossEntropyLoss and backward: if any of them computes a wrong
value or gradient, the network does not reach 95% training accuracy.
"""
from __future__ import annotations

from sklearn.datasets import make_moons

import minidl
import minidl.nn as nn


def test_mlp_fits_moons_with_plain_sgd() -> None:
    X, y = make_moons(n_samples=1000, noise=0.2, random_state=0)
    X = minidl.tensor((X - X.mean(axis=0)) / X.std(axis=0))
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    loss_fn = nn.CrossEntropyLoss()
    lr = 1.0

    losses = []
    for step in range(500):
        loss = loss_fn(model(X), y)
        model.zero_grad()
        loss.backward()
        with minidl.no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad
        losses.append(loss.item())

    with minidl.no_grad():
        accuracy = (model(X).numpy().argmax(axis=1) == y).mean()
    assert losses[0] > 0.5 and losses[-1] < 0.15, f"loss {losses[0]:.3f} -> {losses[-1]:.3f}"
    assert accuracy >= 0.95, f"training accuracy {accuracy:.3f}"
