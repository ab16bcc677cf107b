"""A convolutional network on digits, beside the MLP, both trained with RMSprop.

scikit-learn's digits are 8x8 images of handwritten digits. The CNN sees them as
(N, 1, 8, 8) images (``minidl.datasets.load("digits", images=True)``):

    Conv2d(1, 16, 3, padding=1) - ReLU - MaxPool2d(2)     8x8 -> 16 maps of 4x4
    Conv2d(16, 32, 3, padding=1) - ReLU - MaxPool2d(2)    4x4 -> 32 maps of 2x2
    Flatten - Linear(128, 10)

and the MLP 64-128-128-10 sees the same pixels as 64 features. Both train with
RMSprop(lr=1e-3), batch 64, on the same 80/20 split; the table gives their test
accuracy, parameter count and training time. With matplotlib it saves the 16
learned first-layer filters, the CNN's confusion matrix on the test split, and
the test digits it gets wrong.

    python examples/digits_cnn.py [--epochs 30] [--seed 0] [--out DIR]
"""
from __future__ import annotations

import time

import numpy as np

import minidl
import minidl.datasets
import minidl.nn as nn
from common import parser, pyplot, save_figure, table
from minidl.optim import RMSprop


def cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(128, 10))


def train(model: nn.Module, split: minidl.datasets.Split, epochs: int, seed: int
          ) -> tuple[float, float]:
    """Fit ``model`` on the split's training part; return (test accuracy, seconds)."""
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    minidl.fit(model, loss_fn, RMSprop(model.parameters(), lr=1e-3),
               (split.X_train, split.y_train), epochs=epochs, batch_size=64, progress=False,
               seed=seed)
    seconds = time.perf_counter() - start
    return minidl.evaluate(model, loss_fn, (split.X_test, split.y_test))["accuracy"], seconds


def plot_filters(plt, weight: np.ndarray):
    """The first layer's 3x3 filters, one panel each, on one colour scale."""
    figure, axes = plt.subplots(2, 8, figsize=(8, 2.4), layout="constrained")
    limit = np.abs(weight).max()
    for index, axis in enumerate(axes.flat):
        axis.imshow(weight[index, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axis.set_title(f"filter {index}", fontsize=7)
        axis.axis("off")
    figure.suptitle("learned first-layer filters (red positive, blue negative)")
    return figure


def plot_confusion(plt, targets: np.ndarray, predicted: np.ndarray):
    """Counts of (true class, predicted class) over the test split."""
    matrix = np.zeros((10, 10), dtype=np.int64)
    np.add.at(matrix, (targets, predicted), 1)
    figure, axis = plt.subplots(figsize=(5, 4.5), layout="constrained")
    axis.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            axis.text(col, row, str(count), ha="center", va="center", fontsize=7,
                      color="white" if count > matrix.max() / 2 else "black")
    axis.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true",
             title="CNN confusion matrix, test split")
    return figure


def plot_mistakes(plt, images: np.ndarray, targets: np.ndarray, predicted: np.ndarray):
    """The test digits the CNN gets wrong, titled true -> predicted."""
    wrong = np.flatnonzero(predicted != targets)
    columns = max(1, min(len(wrong), 8))
    rows = max(1, -(-len(wrong) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows + 0.4),
                                squeeze=False, layout="constrained")
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, wrong):
        axis.imshow(images[index, 0], cmap="gray_r")
        axis.set_title(f"{targets[index]} -> {predicted[index]}", fontsize=8)
    figure.suptitle(f"misclassified test digits ({len(wrong)} of {len(targets)}): "
                    f"true -> predicted", fontsize=9)
    return figure


def main() -> None:
    args = parser(__doc__, epochs=30).parse_args()
    images = minidl.datasets.load("digits", seed=args.seed, images=True)
    features = minidl.datasets.load("digits", seed=args.seed)

    minidl.manual_seed(args.seed)
    model = cnn()
    cnn_accuracy, cnn_seconds = train(model, images, args.epochs, args.seed)
    minidl.manual_seed(args.seed)
    mlp = nn.mlp([64, 128, 128, 10])
    mlp_accuracy, mlp_seconds = train(mlp, features, args.epochs, args.seed)

    def count(module: nn.Module) -> int:
        return sum(p.size for p in module.parameters())
    print(f"digits: {len(images.y_train)} train / {len(images.y_test)} test images, "
          f"RMSprop lr=1e-3, batch 64, {args.epochs} epochs, seed {args.seed}")
    print(table(["model", "parameters", "train s", "test accuracy"],
                [["CNN 16-32 conv + linear", count(model), cnn_seconds, cnn_accuracy],
                 ["MLP 64-128-128-10", count(mlp), mlp_seconds, mlp_accuracy]]))

    plt = pyplot()
    if plt is None:
        return
    predicted = minidl.predict(model, images.X_test).argmax(axis=1)
    save_figure(plot_filters(plt, model[0].weight.numpy()), args.out, "digits_cnn_filters.png")
    save_figure(plot_confusion(plt, images.y_test, predicted), args.out,
                "digits_cnn_confusion.png")
    save_figure(plot_mistakes(plt, images.X_test, images.y_test, predicted), args.out,
                "digits_cnn_misclassified.png")


if __name__ == "__main__":
    main()
