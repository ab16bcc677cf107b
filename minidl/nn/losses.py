"""Loss functions and their Module forms.

Each loss computes one value l_i per element (per sample for the class losses)
and then reduces them by ``reduction``:

    "mean": (1/n) sum_i l_i      "sum": sum_i l_i      "none": the l_i themselves

The regression losses are composed from ops, so the engine derives their
gradients. Cross-entropy, NLL and BCE-with-logits are fused ops with a
hand-written backward: their stable forms are where the care goes.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from .module import Module

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid reduction: {reduction!r} (expected 'mean', 'sum' or 'none')")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """The l_i reduced by ``reduction`` (already checked by the caller)."""
    if reduction == "mean":
        return ops.mean(loss)
    if reduction == "sum":
        return ops.sum(loss)
    return loss


def _check_delta(delta: float) -> None:
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta > 0:
        raise ValueError(f"Invalid delta: {delta!r} (needs delta > 0)")


def _same_shape_target(name: str, input: Tensor, target: Any) -> Tensor:
    """``target`` as a Tensor (arrays take the input's dtype) of the input's shape."""
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target), dtype=input.dtype)
    if target.shape != input.shape:
        raise ValueError(f"{name}: target shape {target.shape} does not match "
                         f"input shape {input.shape}")
    return target


def _class_targets(name: str, input: Tensor, target: Any) -> np.ndarray:
    """``target`` as an int array of shape (N,) with values in [0, C), for input (N, C)."""
    classes = np.asarray(target.data if isinstance(target, Tensor) else target)
    if input.ndim != 2:
        raise ValueError(f"{name}: input must have shape (N, C), got shape {input.shape}")
    if classes.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, "
                        f"got dtype {classes.dtype}")
    if classes.ndim != 1:
        raise ValueError(f"{name}: target must have shape (N,), one class index per "
                         f"sample, got shape {classes.shape}")
    batch, n_classes = input.shape
    if len(classes) != batch:
        raise ValueError(f"{name}: input batch size {batch} does not match "
                         f"target batch size {len(classes)}")
    bad = np.flatnonzero((classes < 0) | (classes >= n_classes))
    if bad.size:
        i = bad[0]
        raise ValueError(f"{name}: target[{i}] = {classes[i]} is out of range: class "
                         f"indices must be in [0, {n_classes - 1}] for {n_classes} classes")
    return classes


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """l_i = (x_i - y_i)^2."""
    _check_reduction(reduction)
    diff = input - _same_shape_target("mse_loss", input, target)
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """l_i = |x_i - y_i|."""
    _check_reduction(reduction)
    return _reduce(ops.abs(input - _same_shape_target("l1_loss", input, target)), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """Quadratic near zero, linear beyond ``delta``; d_i = x_i - y_i:

        l_i = 0.5 d_i^2                   if |d_i| < delta
        l_i = delta (|d_i| - 0.5 delta)   otherwise

    The two pieces meet with equal value and slope at |d_i| = delta.
    """
    _check_reduction(reduction)
    _check_delta(delta)
    diff = input - _same_shape_target("huber_loss", input, target)
    size = ops.abs(diff)
    loss = ops.where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction)


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax then negative log-likelihood, for logits x (N, C) and classes t (N,):

        l_i = -log softmax(x_i)[t_i] = logsumexp(x_i) - x_{i, t_i}

    Stable: with s_ij = x_ij - max_k x_ik every exponent is <= 0, and

        l_i = log sum_j exp(s_ij) - s_{i, t_i}

    The gradient is softmax minus the one-hot target, from the same exponentials:

        d l_i / d x_ij = exp(s_ij) / sum_k exp(s_ik) - [j = t_i]
    """
    _check_reduction(reduction)
    classes = _class_targets("cross_entropy", input, target)
    rows = np.arange(len(classes))
    shifted = input.data - input.data.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    totals = exps.sum(axis=1, keepdims=True)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = exps / totals
        grad[rows, classes] -= 1.0
        grad *= g[:, None]
        return (grad,)

    loss = np.log(totals[:, 0]) - shifted[rows, classes]
    return _reduce(Tensor._make(loss, (input,), backward), reduction)


def nll_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities x (N, C) and classes t (N,):

        l_i = -x_{i, t_i},    d l_i / d x_ij = -[j = t_i]
    """
    _check_reduction(reduction)
    classes = _class_targets("nll_loss", input, target)
    rows = np.arange(len(classes))

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = np.zeros_like(input.data)
        grad[rows, classes] = -g
        return (grad,)

    return _reduce(Tensor._make(-input.data[rows, classes], (input,), backward), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any,
                                     reduction: str = "mean") -> Tensor:
    """Sigmoid then binary cross-entropy, for logits x and targets y in [0, 1]:

        l_i = -[y_i log sigmoid(x_i) + (1 - y_i) log(1 - sigmoid(x_i))]
            = max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|))

    The second form never exponentiates a positive number, so logits of
    +-1e4 give finite values. Gradients:

        d l_i / d x_i = sigmoid(x_i) - y_i,     d l_i / d y_i = -x_i
    """
    _check_reduction(reduction)
    target = _same_shape_target("binary_cross_entropy_with_logits", input, target)
    x, y = input.data, target.data
    bad = np.flatnonzero(~((y >= 0) & (y <= 1)))  # nan fails both
    if bad.size:
        i = np.unravel_index(bad[0], y.shape)
        where = ", ".join(str(int(k)) for k in i)
        raise ValueError(f"binary_cross_entropy_with_logits: target[{where}] = {y[i]} "
                         f"is out of range: targets must be in [0, 1]")
    decay = np.exp(-np.abs(x))
    loss = np.maximum(x, 0) - x * y + np.log1p(decay)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        sigmoid_x = np.where(x >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay))
        return g * (sigmoid_x - y), (-g * x if target.requires_grad else None)

    return _reduce(Tensor._make(loss.astype(x.dtype, copy=False), (input, target), backward),
                   reduction)


class _Loss(Module):
    """A loss as a Module: ``loss_fn(input, target)`` with a fixed ``reduction``."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error: see ``mse_loss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: see ``l1_loss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """Squared error near zero, absolute error beyond ``delta``: see ``huber_loss``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        _check_delta(delta)
        self.delta = delta

    def extra_repr(self) -> str:
        return f"delta={self.delta}"

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits (N, C) and integer classes (N,): see ``cross_entropy``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return cross_entropy(input, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C): see ``nll_loss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return nll_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits: see ``binary_cross_entropy_with_logits``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.reduction)
