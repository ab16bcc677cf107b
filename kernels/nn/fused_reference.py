"""The fused steps of a compiled step (``minidl.compile``) in plain numpy: the
test oracle of ``fused_cpu``, written as the eager ops compute them
(``nn/functional.py``'s linear, ``ops/elementwise.py``'s relu,
``nn/losses.py``'s cross_entropy)."""
from __future__ import annotations

import numpy as np

name = "reference"


def bias_relu(out: np.ndarray, bias: np.ndarray, mask: np.ndarray) -> None:
    """out <- max(out + bias, 0), mask <- out + bias > 0, in place."""
    out += bias
    np.greater(out, 0, out=mask)
    np.maximum(out, 0, out=out)


def column_sums(a: np.ndarray, out: np.ndarray) -> None:
    """out <- the sum of a's rows."""
    np.sum(a, axis=0, out=out)


def relu_bias_grad(grad: np.ndarray, mask: np.ndarray, out: np.ndarray,
                   bias_grad: np.ndarray) -> None:
    """out <- grad * mask, bias_grad <- the sum of out's rows."""
    np.multiply(grad, mask, out=out)
    np.sum(out, axis=0, out=bias_grad)


def shift_rows(x: np.ndarray, shifted: np.ndarray) -> None:
    """shifted <- x - the max of its row."""
    np.subtract(x, x.max(axis=1, keepdims=True), out=shifted)


def row_sums(a: np.ndarray, out: np.ndarray) -> None:
    """out <- the sum of each row of a."""
    np.sum(a, axis=1, out=out)


def cross_entropy_loss(logs: np.ndarray, shifted: np.ndarray, classes: np.ndarray,
                       divisor: int, losses: np.ndarray, loss: np.ndarray) -> None:
    """losses <- logs - shifted[i, classes[i]];  loss <- losses.sum() / divisor."""
    losses[...] = logs - shifted[np.arange(len(classes)), classes]
    loss[...] = losses.sum() / divisor


def cross_entropy_grad(exps: np.ndarray, totals: np.ndarray, classes: np.ndarray,
                       scale: np.floating, grad: np.ndarray) -> None:
    """grad <- (exps / totals[:, None] - onehot(classes)) * scale."""
    np.divide(exps, totals[:, None], out=grad)
    grad[np.arange(len(classes)), classes] -= 1.0
    grad *= scale


def classes_in_range(classes: np.ndarray, n_classes: int) -> bool:
    """Whether every class index lies in [0, n_classes)."""
    return len(classes) == 0 or bool(classes.min() >= 0 and classes.max() < n_classes)
