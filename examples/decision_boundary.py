"""Decision boundaries of a small MLP on two 2-D toy problems: moons and circles.

A 2-32-32-2 ReLU network, trained with RMSprop on each dataset, splits the
plane into two regions. The plot shows P(class 1 | x) = softmax(f(x))_1 on a
grid, the boundary P = 1/2, and the test points; the table gives train
accuracy (as ``fit`` measures it: on the last epoch's mini-batches, while the
weights still move) and test accuracy. Neither problem is linearly separable:
the hidden layers bend the boundary. The script checks this against a linear
model, a 2-2 network without hidden layers trained the same way, whose
boundary can only be a straight line.

    python examples/decision_boundary.py [--epochs 30] [--out examples/out]
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

import minidl
import minidl.datasets
import minidl.nn as nn
from common import parser, pyplot, save_figure, table, verdict
from minidl.datasets import Split
from minidl.optim import RMSprop
from minidl.train import History

DATASETS = {"moons": {"n_samples": 1000, "noise": 0.2},
            "circles": {"n_samples": 1000, "noise": 0.1, "factor": 0.5}}


def class_one_probability(model: nn.Module, points: np.ndarray) -> np.ndarray:
    """softmax(f(x))_1 for each row x of ``points``."""
    logits = minidl.predict(model, points)
    return minidl.softmax(minidl.tensor(logits), axis=1).numpy()[:, 1]


def train(sizes: Sequence[int], split: Split, epochs: int, seed: int
          ) -> tuple[nn.Module, History]:
    """nn.mlp(sizes) trained with RMSprop on ``split``; return it and its History."""
    minidl.manual_seed(seed)
    model = nn.mlp(sizes)
    optimizer = RMSprop(model.parameters(), lr=1e-2)
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (split.X_train, split.y_train),
                         (split.X_test, split.y_test), epochs=epochs, batch_size=32,
                         progress=False, seed=seed)
    return model, history


def main() -> None:
    args = parser(__doc__, epochs=30).parse_args()
    plt = pyplot()
    rows, panels = [], []
    for name, options in DATASETS.items():
        split = minidl.datasets.load(name, seed=args.seed, **options)
        model, history = train([2, 32, 32, 2], split, args.epochs, args.seed)
        _, linear_history = train([2, 2], split, args.epochs, args.seed)
        rows.append([name, args.epochs, history.accuracy[-1], history.val_accuracy[-1],
                     linear_history.val_accuracy[-1]])
        panels.append((name, model, split))

    print(table(["dataset", "epochs", "train accuracy", "test accuracy",
                 "linear model's test accuracy"], rows))
    bends = all(mlp_accuracy > linear_accuracy for *_, mlp_accuracy, linear_accuracy in rows)
    print(f"The hidden layers bend the boundary: on both datasets the MLP beats the linear "
          f"model ({verdict(bends)})")
    if plt is None:
        return
    from matplotlib.lines import Line2D

    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5),
                                layout="constrained")
    for axis, (name, model, split) in zip(axes, panels):
        X = np.concatenate([split.X_train, split.X_test])
        low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
        xs, ys = np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200))
        grid = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float32)
        probability = class_one_probability(model, grid).reshape(xs.shape)
        shading = axis.contourf(xs, ys, probability, levels=np.linspace(0, 1, 11),
                                cmap="RdBu_r", alpha=0.6)
        figure.colorbar(shading, ax=axis, label="P(class 1 | x) = softmax(f(x))_1")
        axis.contour(xs, ys, probability, levels=[0.5], colors="k", linewidths=1.5)
        for label, colour, marker in ((0, "tab:blue", "o"), (1, "tab:red", "s")):
            points = split.X_test[split.y_test == label]
            axis.scatter(*points.T, color=colour, marker=marker, edgecolors="k", s=18,
                         label=f"class {label} (test)")
        boundary = Line2D([], [], color="k", linewidth=1.5, label="boundary P = 1/2")
        axis.legend(handles=[*axis.get_legend_handles_labels()[0], boundary], loc="upper right")
        axis.set(title=f"{name}: P(class 1 | x), test points", xlabel="x_1 (standardised)",
                 ylabel="x_2 (standardised)")
    save_figure(figure, args.out, "decision_boundary.png")


if __name__ == "__main__":
    main()
