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
        raise RuntimeError(f"{name}: target shape {target.shape} does not match "
                           f"input shape {input.shape}")
    return target


def _rows(x: np.ndarray) -> np.ndarray:
    """Class scores (C,), (N, C) or (N, C, d1, ...) as rows (M, C): the class axis last."""
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]) if x.ndim > 2 else x.reshape(-1, x.shape[-1])


def _unrows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``_rows``: rows (M, C) back to ``shape``."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    return np.moveaxis(rows.reshape(shape[0], *shape[2:], shape[1]), -1, 1)


def _samples_shape(name: str, input: Tensor) -> tuple[int, ...]:
    """The shape of the per-sample losses: input's without the class axis."""
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have shape (N, C), (C,) or (N, C, d1, ...), "
                         f"got a 0-d tensor")
    return () if input.ndim == 1 else (input.shape[0], *input.shape[2:])


def _class_targets(name: str, input: Tensor, target: Any, ignore_index: int = -100
                   ) -> np.ndarray:
    """``target`` as an int array of the samples' shape (N,), () or (N, d1, ...), every
    value in [0, C) or equal to ``ignore_index``; C = input.shape[1] (shape[0] if 1-D)."""
    classes = np.asarray(target._data if isinstance(target, Tensor) else target)
    samples = _samples_shape(name, input)
    if input.ndim == 1 and classes.ndim != 0:
        raise ValueError(f"{name}: input must have shape (N, C), or (C,) with a 0-d target, "
                         f"got input shape {input.shape} and target shape {classes.shape}")
    if classes.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices (or, for "
                        f"cross_entropy, class probabilities of the input's shape), "
                        f"got dtype {classes.dtype}")
    if input.ndim >= 2 and classes.shape[:1] != samples[:1]:
        raise ValueError(f"{name}: input batch size {samples[0]} does not match "
                         f"target batch size {classes.shape[0] if classes.ndim else '()'}")
    if classes.shape != samples:
        form = "(N,)" if input.ndim == 2 else "(N, d1, ...)"
        raise ValueError(f"{name}: target must have shape {form}, one class index per "
                         f"sample, here {samples}, got shape {classes.shape}")
    n_classes = input.shape[1 if input.ndim > 1 else 0]
    outside = (classes < 0) | (classes >= n_classes)
    if outside.any() and (outside & (classes != ignore_index)).any():
        i = tuple(np.argwhere(outside & (classes != ignore_index))[0])
        where = ", ".join(str(int(k)) for k in i)
        raise ValueError(f"{name}: target[{where}] = {classes[i]} is out of range: class "
                         f"indices must be in [0, {n_classes - 1}] for {n_classes} classes")
    return classes


def _class_weight(name: str, weight: Any, input: Tensor) -> np.ndarray | None:
    """The per-class ``weight`` as an array (C,) of input's dtype, or None."""
    if weight is None:
        return None
    n_classes = input.shape[1 if input.ndim > 1 else 0]
    array = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
    if array.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have shape ({n_classes},), one per class, "
                         f"got shape {array.shape}")
    return array


def _picked(classes: np.ndarray, weight: np.ndarray | None, ignore_index: int,
            dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the target class (0 where ignored) and its weight w_{t_i} (0 where ignored)."""
    classes = classes.reshape(-1)
    kept = classes != ignore_index
    picked = np.where(kept, classes, 0)
    weights = kept.astype(dtype) if weight is None else weight[picked] * kept
    return picked, weights


def _weighted_mean(loss: Tensor, reduction: str, total_weight: float,
                   kept: np.ndarray | None = None) -> Tensor:
    """"mean" is the sum over the total weight of the targets, as PyTorch's class losses.

    A total weight of 0 (every target ignored, or weighted 0) gives PyTorch's 0 / 0 = nan,
    and its gradient: nan for the samples ``kept``, 0 for the ignored ones (not 0 * inf)."""
    if reduction != "mean":
        return _reduce(loss, reduction)
    if total_weight == 0:
        kept = np.ones(loss.shape, bool) if kept is None else kept.reshape(loss.shape)
        return Tensor._make(np.array(np.nan, loss.dtype), (loss,),
                            lambda g: (np.where(kept, np.nan, 0).astype(loss.dtype),))
    return ops.sum(loss) / total_weight


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


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean", *, weight: Any = None,
                  ignore_index: int = -100, label_smoothing: float = 0.0) -> Tensor:
    """Softmax then negative log-likelihood, for logits x of shape (N, C), (C,) or
    (N, C, d1, ...), the class axis second. Each sample i has a target distribution
    q_i over the C classes, and

        l_i = -sum_c q_ic log p_ic,     log p_ic = s_ic - log sum_k exp(s_ik)

    with s_ic = x_ic - max_k x_ik, so every exponent is <= 0 (stable). The target is

    - integer classes t (N,) or (N, d1, ...): q_ic = w_c ((1 - e) [c = t_i] + e / C),
      with e = ``label_smoothing`` and w = ``weight`` (ones if None); q_i = 0 where
      t_i = ``ignore_index``. "mean" divides by sum_i w_{t_i} over the kept samples;
    - class probabilities y of x's shape: q_ic = w_c ((1 - e) y_ic + e / C). "mean"
      divides by the number of samples.

    The gradient, from the same exponentials (softmax p_i sums to 1):

        d l_i / d x_ic = p_ic sum_k q_ik - q_ic,    d l_i / d y_ic = -(1 - e) w_c log p_ic

    Plain class targets (no weight, smoothing or ignored sample) take a sparse path:
    l_i = log sum_k exp(s_ik) - s_{i, t_i}, gradient p_i - onehot(t_i), with the
    reduction inside the op: its graph node is ``cross_entropy``, with no ``mean``
    after it (PyTorch's is likewise one node, NllLossBackward0).
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing!r}")
    samples = _samples_shape("cross_entropy", input)
    w = _class_weight("cross_entropy", weight, input)
    probabilities = _probability_targets(input, target, ignore_index)
    x = _rows(input._data)
    n_rows, n_classes = x.shape
    smoothing = np.asarray(label_smoothing / n_classes, dtype=x.dtype)
    if probabilities is not None:
        q = _rows(probabilities._data) * (1 - label_smoothing) + smoothing
        return _soft_cross_entropy(input, samples, q if w is None else q * w, reduction,
                                   float(n_rows), probabilities, (1 - label_smoothing) * (
                                       1 if w is None else w))
    classes = _class_targets("cross_entropy", input, target, ignore_index).reshape(-1)
    rows = np.arange(n_rows)
    if w is not None or label_smoothing or (classes == ignore_index).any():
        picked, picked_weight = _picked(classes, w, ignore_index, x.dtype)
        q = np.zeros_like(x)
        q[rows, picked] = (1 - label_smoothing) * picked_weight
        if label_smoothing:
            q += smoothing * (1 if w is None else w) * (classes != ignore_index)[:, None]
        return _soft_cross_entropy(input, samples, q, reduction, float(picked_weight.sum()),
                                   kept=classes != ignore_index)
    shifted = x - x.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    totals = exps.sum(axis=1, keepdims=True)
    losses = np.log(totals[:, 0]) - shifted[rows, classes]
    # The reduction is part of this op, as in PyTorch's nll_loss: one node, not two.
    if reduction == "none":
        loss, per_row = losses.reshape(samples), lambda g: g.reshape(-1, 1)
    else:
        divisor = n_rows if reduction == "mean" else 1
        loss, per_row = np.asarray(losses.sum() / divisor, x.dtype), lambda g: g / divisor

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = exps / totals
        grad[rows, classes] -= 1.0
        grad *= per_row(g)
        return (_unrows(grad, input.shape),)

    return Tensor._make(loss, (input,), backward)


def _soft_cross_entropy(input: Tensor, samples: tuple[int, ...], q: np.ndarray, reduction: str,
                        total_weight: float, target: Tensor | None = None,
                        target_scale: Any = None, kept: np.ndarray | None = None) -> Tensor:
    """l_i = -sum_c q_ic log softmax(x_i)_c for rows q (M, C) of target weights; the
    gradient of ``target`` (class probabilities), if given, is -target_scale log p.
    ``kept``: the samples not ignored (all if None), for ``_weighted_mean``."""
    x = _rows(input._data)
    shifted = x - x.max(axis=1, keepdims=True, initial=-np.inf)
    exps = np.exp(shifted)
    totals = exps.sum(axis=1, keepdims=True)
    log_p = shifted - np.log(totals)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        g = g.reshape(-1, 1)
        grad = (exps / totals * q.sum(axis=1, keepdims=True) - q) * g
        grad_target = None
        if target is not None and target.requires_grad:
            grad_target = _unrows(-target_scale * log_p * g, input.shape)
        return _unrows(grad, input.shape), grad_target

    loss = -(q * log_p).sum(axis=1).reshape(samples)
    parents = (input,) if target is None else (input, target)
    return _weighted_mean(Tensor._make(loss, parents, backward), reduction, total_weight, kept)


def _probability_targets(input: Tensor, target: Any, ignore_index: int) -> Tensor | None:
    """A float ``target`` of the input's shape as a Tensor of class probabilities, else None."""
    is_tensor = isinstance(target, Tensor)
    dtype = (target._data if is_tensor else np.asarray(target)).dtype
    if dtype.kind != "f" or np.shape(target._data if is_tensor else target) != input.shape:
        return None
    if ignore_index >= 0:
        raise ValueError(f"cross_entropy: ignore_index ({ignore_index}) is not supported "
                         f"with class-probability targets")
    return target if is_tensor else Tensor(np.asarray(target), dtype=input.dtype)


def nll_loss(input: Tensor, target: Any, reduction: str = "mean", *, weight: Any = None,
             ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood of log-probabilities x of shape (N, C), (C,) or
    (N, C, d1, ...), and integer classes t of shape (N,), () or (N, d1, ...):

        l_i = -w_{t_i} x_{i, t_i},    d l_i / d x_ic = -w_{t_i} [c = t_i]

    w = ``weight`` (ones if None); l_i = 0 where t_i = ``ignore_index``. "mean"
    divides by sum_i w_{t_i} over the kept samples.
    """
    _check_reduction(reduction)
    classes = _class_targets("nll_loss", input, target, ignore_index)
    w = _class_weight("nll_loss", weight, input)
    x = _rows(input._data)
    rows = np.arange(len(x))
    picked, picked_weight = _picked(classes, w, ignore_index, x.dtype)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = np.zeros_like(x)
        grad[rows, picked] = -g.reshape(-1) * picked_weight
        return (_unrows(grad, input.shape),)

    loss = (-x[rows, picked] * picked_weight).reshape(classes.shape)
    return _weighted_mean(Tensor._make(loss, (input,), backward), reduction,
                          float(picked_weight.sum()), classes != ignore_index)


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean", *,
                         weight: Any = None) -> Tensor:
    """Binary cross-entropy of probabilities x in [0, 1] and targets y in [0, 1]:

        l_i = -w_i [y_i log x_i + (1 - y_i) log(1 - x_i)]

    with each log clamped at -100, as PyTorch does, so x = 0 or 1 gives a finite
    loss. ``weight`` broadcasts against x. Gradients (the first with x (1 - x)
    held at least 1e-12):

        d l_i / d x_i = w_i (x_i - y_i) / (x_i (1 - x_i)),
        d l_i / d y_i = w_i (log(1 - x_i) - log x_i)

    Prefer ``binary_cross_entropy_with_logits`` on logits: it is stabler.
    """
    _check_reduction(reduction)
    target = _same_shape_target("binary_cross_entropy", input, target)
    x, y = input._data, target._data
    _check_unit_interval("binary_cross_entropy", "input", x)
    _check_unit_interval("binary_cross_entropy", "target", y)
    w = 1 if weight is None else np.asarray(
        weight._data if isinstance(weight, Tensor) else weight, dtype=x.dtype)
    with np.errstate(divide="ignore"):  # log 0 = -inf, clamped to -100 next
        log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
    loss = -w * (y * log_x + (1 - y) * log_1mx)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        grad_x = g * w * (x - y) / np.maximum(x * (1 - x), 1e-12)
        grad_y = g * w * (log_1mx - log_x) if target.requires_grad else None
        return grad_x.astype(x.dtype, copy=False), grad_y

    return _reduce(Tensor._make(np.broadcast_to(loss, x.shape).astype(x.dtype), (input, target),
                                backward), reduction)


def _check_unit_interval(name: str, what: str, values: np.ndarray) -> None:
    """Raise naming the first element of ``values`` outside [0, 1]; nan is outside too."""
    bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
    if bad.size:
        i = np.unravel_index(bad[0], values.shape)
        where = ", ".join(str(int(k)) for k in i)
        raise ValueError(f"{name}: {what}[{where}] = {values[i]} is out of range: "
                         f"{what}s must be in [0, 1]")


def binary_cross_entropy_with_logits(input: Tensor, target: Any, reduction: str = "mean", *,
                                     weight: Any = None, pos_weight: Any = None) -> Tensor:
    """Sigmoid then binary cross-entropy, for logits x and targets y in [0, 1]:

        l_i = -[y_i log sigmoid(x_i) + (1 - y_i) log(1 - sigmoid(x_i))]
            = max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|))

    The second form never exponentiates a positive number, so logits of
    +-1e4 give finite values. Gradients:

        d l_i / d x_i = sigmoid(x_i) - y_i,     d l_i / d y_i = -x_i

    ``pos_weight`` p (broadcast along the last axis: one per class) scales the
    positive term and ``weight`` w scales the whole loss; with sp(z) = log(1 + e^z),

        l_i = w [(1 - y_i) x_i + (1 + (p - 1) y_i) sp(-x_i)]
        d l_i / d x_i = w [1 - y_i - (1 + (p - 1) y_i) sigmoid(-x_i)]
        d l_i / d y_i = w [-x_i + (p - 1) sp(-x_i)]
    """
    _check_reduction(reduction)
    target = _same_shape_target("binary_cross_entropy_with_logits", input, target)
    x, y = input._data, target._data
    _check_unit_interval("binary_cross_entropy_with_logits", "target", y)
    if weight is not None or pos_weight is not None:
        return _reduce(_weighted_bce_with_logits(input, target, weight, pos_weight), reduction)
    decay = np.exp(-np.abs(x))
    loss = np.maximum(x, 0) - x * y + np.log1p(decay)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        sigmoid_x = np.where(x >= 0, 1.0 / (1.0 + decay), decay / (1.0 + decay))
        return g * (sigmoid_x - y), (-g * x if target.requires_grad else None)

    return _reduce(Tensor._make(loss.astype(x.dtype, copy=False), (input, target), backward),
                   reduction)


def _weighted_bce_with_logits(input: Tensor, target: Tensor, weight: Any, pos_weight: Any
                              ) -> Tensor:
    """The per-element loss of ``binary_cross_entropy_with_logits`` with weight and pos_weight."""
    x, y = input._data, target._data
    w, p = (1 if v is None else np.asarray(v._data if isinstance(v, Tensor) else v, dtype=x.dtype)
            for v in (weight, pos_weight))
    decay = np.exp(-np.abs(x))
    softplus_minus_x = np.log1p(decay) + np.maximum(-x, 0)
    positive = 1 + (p - 1) * y
    loss = w * ((1 - y) * x + positive * softplus_minus_x)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        sigmoid_minus_x = np.where(x >= 0, decay, 1.0) / (1.0 + decay)
        grad_x = g * w * (1 - y - positive * sigmoid_minus_x)
        grad_y = g * w * (-x + (p - 1) * softplus_minus_x) if target.requires_grad else None
        return grad_x, grad_y

    try:
        loss = np.broadcast_to(loss, x.shape)
    except ValueError:
        raise ValueError(f"binary_cross_entropy_with_logits: weight and pos_weight must "
                         f"broadcast to the input's shape {x.shape}") from None
    return Tensor._make(loss.astype(x.dtype), (input, target), backward)


class _Loss(Module):
    """A loss as a Module: ``loss_fn(input, target)`` with a fixed ``reduction``."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with weights (``weight``, ``pos_weight``) kept as buffers, so that they are in
    ``state_dict`` and follow ``to(dtype)``, as PyTorch's; a weight of None stays an
    attribute, as PyTorch leaves it out of ``state_dict``."""

    def _weights(self, **weights: Any) -> None:
        for name, value in weights.items():
            if value is None:
                setattr(self, name, None)
            else:
                self.register_buffer(name, value)


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


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits (N, C) and integer classes (N,) or class probabilities:
    see ``cross_entropy`` (also for ``weight``, ``ignore_index``, ``label_smoothing``)."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        self._weights(weight=weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return cross_entropy(input, target, self.reduction, weight=self.weight,
                             ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C): see ``nll_loss``."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self._weights(weight=weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return nll_loss(input, target, self.reduction, weight=self.weight,
                        ignore_index=self.ignore_index)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities: see ``binary_cross_entropy``."""

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self._weights(weight=weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy(input, target, self.reduction, weight=self.weight)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of logits: see ``binary_cross_entropy_with_logits``."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__(reduction)
        self._weights(weight=weight, pos_weight=pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.reduction,
                                                weight=self.weight, pos_weight=self.pos_weight)
