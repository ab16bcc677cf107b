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


# -- the rest of torch.nn's losses ------------------------------------------------------------
# Each is composed from ops, so the engine derives the gradients; the arguments are
# PyTorch's, the deprecated size_average and reduce left out (reduction is keyword-only).
def _float_operand(name: str, value: Any, like: Tensor) -> Tensor:
    """``value`` as a Tensor: arrays, numbers and integer data take ``like``'s dtype."""
    if not isinstance(value, Tensor) or value.dtype.kind != "f":
        value = Tensor(np.asarray(value._data if isinstance(value, Tensor) else value),
                       dtype=like.dtype)
    return value


def _input(name: str, input: Any) -> Tensor:
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a float tensor, got dtype {x.dtype}")
    return x


def _shapes_match(name: str, *tensors: Tensor) -> None:
    if len({t.shape for t in tensors}) > 1:
        raise RuntimeError(f"{name}: the inputs' shapes {[t.shape for t in tensors]} differ")


def _clamp_min(x: Tensor, low: float) -> Tensor:
    """max(x, low), the gradient passing where x >= low (PyTorch's clamp_min)."""
    keep = x._data >= low
    out = np.where(keep, x._data, x.dtype.type(low))
    return Tensor._make(out, (x,), lambda g: (np.where(keep, g, 0).astype(g.dtype),))


def smooth_l1_loss(input: Tensor, target: Any, *, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Quadratic near zero, linear beyond ``beta``; d_i = x_i - y_i:

        l_i = 0.5 d_i^2 / beta       if |d_i| < beta
        l_i = |d_i| - 0.5 beta       otherwise

    (``huber_loss`` divided by beta; beta = 0 is the L1 loss).
    """
    _check_reduction(reduction)
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be a number >= 0, got {beta!r}")
    x = _input("smooth_l1_loss", input)
    diff = x - _same_shape_target("smooth_l1_loss", x, target)
    size = ops.abs(diff)
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(ops.where(size._data < beta, 0.5 * diff * diff / beta, size - 0.5 * beta),
                   reduction)


def kl_div(input: Tensor, target: Any, *, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence of the target from the input, both over the same
    events, the input as log-probabilities:

        l_i = y_i (log y_i - x_i)       (0 where y_i = 0)
        l_i = e^(y_i) (y_i - x_i)       with ``log_target`` (y as log-probabilities)

    ``reduction="batchmean"`` divides the sum by the batch size, the true KL divergence
    per sample; "mean" divides by the number of elements, as PyTorch.
    """
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"Invalid reduction: {reduction!r} (expected 'mean', 'batchmean', "
                         f"'sum' or 'none')")
    x = _input("kl_div", input)
    y = _float_operand("kl_div", target, x)
    if log_target:
        loss = ops.exp(y) * (y - x)
    else:
        positive = y._data > 0
        loss = ops.where(positive, y * ops.log(ops.where(positive, y, 1.0)), 0.0) - y * x
    if reduction == "batchmean":
        return ops.sum(loss) / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Any, log_input: bool = True, full: bool = False,
                     *, eps: float = 1e-8, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of targets y under Poisson(rate), up to log(y!):

        l_i = e^(x_i) - y_i x_i                 (x the log-rate, ``log_input``)
        l_i = x_i - y_i log(x_i + eps)          (x the rate)

    ``full`` adds Stirling's approximation of log(y!), y log y - y + 0.5 log(2 pi y),
    where y > 1.
    """
    _check_reduction(reduction)
    x = _input("poisson_nll_loss", input)
    y = _float_operand("poisson_nll_loss", target, x)
    loss = ops.exp(x) - y * x if log_input else x - y * ops.log(x + eps)
    if full:
        above = y._data > 1
        safe = ops.where(above, y, 1.0)
        stirling = safe * ops.log(safe) - safe + 0.5 * ops.log(2 * np.pi * safe)
        loss = loss + ops.where(above, stirling, 0.0)
    return _reduce(loss, reduction)


def _clamped_variance(var: Tensor, eps: float) -> Tensor:
    """max(var, eps), the gradient passed through unchanged (PyTorch clamps under no_grad)."""
    return Tensor._make(np.maximum(var._data, var.dtype.type(eps)), (var,), lambda g: (g,))


def gaussian_nll_loss(input: Tensor, target: Any, var: Any, full: bool = False,
                      eps: float = 1e-6, *, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of targets y under N(x, var), up to a constant:

        l_i = 0.5 (log max(var_i, eps) + (x_i - y_i)^2 / max(var_i, eps))

    (+ 0.5 log(2 pi) with ``full``). ``var`` has the input's shape, or lacks its last
    dimension, or has size 1 in one dimension (one variance shared along it).
    """
    _check_reduction(reduction)
    x = _input("gaussian_nll_loss", input)
    y = _float_operand("gaussian_nll_loss", target, x)
    v = _float_operand("gaussian_nll_loss", var, x)
    if v.ndim == 0 and not isinstance(var, Tensor):
        v = v * Tensor(np.ones(x.shape, x.dtype))
    if (v._data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entries")
    if v.shape != x.shape:
        if v.shape == x.shape[:-1]:
            v = ops.reshape(v, *v.shape, 1)
        elif v.ndim != x.ndim or sum(b for a, b in zip(x.shape, v.shape) if a != b) != 1:
            raise ValueError(f"gaussian_nll_loss: var of shape {v.shape} does not fit the "
                             f"input's shape {x.shape}")
    v = _clamped_variance(v, eps)
    diff = x - y
    loss = 0.5 * (ops.log(v) + diff * diff / v)
    if full:
        loss = loss + 0.5 * np.log(2 * np.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        *, reduction: str = "mean") -> Tensor:
    """l_i = max(0, -y_i (x1_i - x2_i) + margin): x1 should rank above x2 where y = 1,
    below where y = -1, by at least the margin."""
    _check_reduction(reduction)
    x1 = _input("margin_ranking_loss", input1)
    x2 = _float_operand("margin_ranking_loss", input2, x1)
    y = _float_operand("margin_ranking_loss", target, x1)
    _shapes_match("margin_ranking_loss", x1, x2, y)
    return _reduce(_clamp_min(-y * (x1 - x2) + margin, 0.0), reduction)


def hinge_embedding_loss(input: Tensor, target: Any, margin: float = 1.0, *,
                         reduction: str = "mean") -> Tensor:
    """l_i = x_i where y_i = 1, max(0, margin - x_i) where y_i = -1 (x a distance: small for
    similar pairs, at least the margin for dissimilar ones)."""
    _check_reduction(reduction)
    x = _input("hinge_embedding_loss", input)
    y = np.asarray(target._data if isinstance(target, Tensor) else target)
    margin_part = ops.where(y != 1, _clamp_min(margin - x, 0.0), 0.0)
    return _reduce(margin_part + ops.where(y != -1, x, 0.0), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                          *, reduction: str = "mean") -> Tensor:
    """With cos_i the cosine of rows x1_i and x2_i (1-d inputs: one row),

        l_i = 1 - cos_i                  where y_i = 1
        l_i = max(0, cos_i - margin)     where y_i = -1

    cos = x1 . x2 / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)), as PyTorch.
    """
    _check_reduction(reduction)
    x1 = _input("cosine_embedding_loss", input1)
    x2 = _float_operand("cosine_embedding_loss", input2, x1)
    _shapes_match("cosine_embedding_loss", x1, x2)
    if x1.ndim not in (1, 2):
        raise RuntimeError(f"cosine_embedding_loss: expected 1-d or 2-d inputs, got shape "
                           f"{x1.shape}")
    y = np.asarray(target._data if isinstance(target, Tensor) else target)
    axis = x1.ndim - 1
    dot = ops.sum(x1 * x2, axis=axis)
    norms = (ops.sum(x1 * x1, axis=axis) + 1e-12) * (ops.sum(x2 * x2, axis=axis) + 1e-12)
    cos = dot / ops.sqrt(norms)
    loss = ops.where(y == 1, 1 - cos, 0.0) + ops.where(y == -1, _clamp_min(cos - margin, 0.0),
                                                        0.0)
    return _reduce(loss, reduction)


def _distance(a: Tensor, b: Tensor, p: float, eps: float) -> Tensor:
    """PyTorch's pairwise_distance: ||a - b + eps||_p along the last axis."""
    diff = a - b + eps
    if p == 2:
        return ops.sqrt(ops.sum(diff * diff, axis=-1))
    return ops.sum(ops.abs(diff) ** p, axis=-1) ** (1.0 / p)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, *, reduction: str = "mean") -> Tensor:
    """l_i = max(0, d(a_i, p_i) - d(a_i, n_i) + margin), d the p-norm distance of
    ``pairwise_distance`` (eps added to the difference); ``swap`` uses the smaller of
    d(a, n) and d(p, n) as the negative distance."""
    _check_reduction(reduction)
    a = _input("triplet_margin_loss", anchor)
    pos = _float_operand("triplet_margin_loss", positive, a)
    neg = _float_operand("triplet_margin_loss", negative, a)
    if not (a.ndim == pos.ndim == neg.ndim) or a.ndim not in (1, 2):
        raise RuntimeError(f"triplet_margin_loss: expected anchor, positive and negative of "
                           f"one shape (N, D) or (D,), got {a.shape}, {pos.shape}, {neg.shape}")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    distance_negative = _distance(a, neg, p, eps)
    if swap:
        distance_negative = ops.minimum(distance_negative, _distance(pos, neg, p, eps))
    return _reduce(_clamp_min(margin + _distance(a, pos, p, eps) - distance_negative, 0.0),
                   reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Any, weight: Any = None, *,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of logits per class, averaged over the C classes of a sample:

        l_n = -(1/C) sum_c w_c (y_nc log sigmoid(x_nc) + (1 - y_nc) log sigmoid(-x_nc))
    """
    _check_reduction(reduction)
    x = _input("multilabel_soft_margin_loss", input)
    y = _float_operand("multilabel_soft_margin_loss", target, x)
    loss = -(y * ops.logsigmoid(x) + (1 - y) * ops.logsigmoid(-x))
    if weight is not None:
        loss = loss * _float_operand("multilabel_soft_margin_loss", weight, x)
    classes = x.shape[-1] if x.ndim else 1
    return _reduce(ops.sum(loss, axis=-1) / classes if x.ndim else loss, reduction)


def _rows_of(name: str, x: Tensor) -> Tensor:
    """Scores (C,) or (N, C) as (N, C)."""
    if x.ndim not in (1, 2):
        raise RuntimeError(f"{name}: expected input of shape (C,) or (N, C), got {x.shape}")
    return ops.reshape(x, 1, -1) if x.ndim == 1 else x


def multilabel_margin_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """A hinge between every target class j of a sample and every other class i:

        l_n = sum_j sum_{i not a target} max(0, 1 - (x_nj - x_ni)) / C

    ``target`` (the input's shape) lists the sample's target classes, ended by the first -1.
    """
    _check_reduction(reduction)
    x = _input("multilabel_margin_loss", input)
    rows = _rows_of("multilabel_margin_loss", x)
    labels = np.asarray(target._data if isinstance(target, Tensor) else target)
    if labels.shape != x.shape or labels.dtype.kind not in "iu":
        raise RuntimeError(f"multilabel_margin_loss: target must be integers of the input's "
                           f"shape {x.shape}, got {labels.dtype} of shape {labels.shape}")
    labels = labels.reshape(rows.shape)
    classes = rows.shape[1]
    if ((labels < -1) | (labels >= classes)).any():
        raise RuntimeError(f"multilabel_margin_loss: target classes must lie in [-1, "
                           f"{classes}), got {labels.min()} .. {labels.max()}")
    listed = np.cumprod(labels != -1, axis=1).astype(bool)     # before the first -1
    counts = np.zeros(rows.shape)
    for n, row in enumerate(labels):
        np.add.at(counts[n], row[listed[n]], 1)
    others = (counts == 0).astype(x.dtype)
    hinge = _clamp_min(1 - (ops.unsqueeze(rows, 2) - ops.unsqueeze(rows, 1)), 0.0)
    pairs = hinge * Tensor((counts[:, :, None] * others[:, None, :]).astype(x.dtype))
    loss = ops.sum(pairs, axis=(1, 2)) / classes
    return _reduce(loss if x.ndim == 2 else ops.reshape(loss, ()), reduction)


def multi_margin_loss(input: Tensor, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Any = None, *, reduction: str = "mean") -> Tensor:
    """The multi-class hinge: with y_n the sample's class,

        l_n = sum_{i != y_n} w_{y_n} max(0, margin - x_{n y_n} + x_ni)^p / C     (p 1 or 2)
    """
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p!r}")
    x = _input("multi_margin_loss", input)
    rows = _rows_of("multi_margin_loss", x)
    labels = np.asarray(target._data if isinstance(target, Tensor) else target).reshape(-1)
    classes = rows.shape[1]
    if labels.shape != (rows.shape[0],) or labels.dtype.kind not in "iu" or (
            labels.size and (labels.min() < 0 or labels.max() >= classes)):
        raise RuntimeError(f"multi_margin_loss: target must hold {rows.shape[0]} classes in "
                           f"[0, {classes}), got {labels}")
    picked = ops.take_along_dim(rows, labels[:, None], dim=1)
    hinge = _clamp_min(margin - picked + rows, 0.0)
    if p == 2:
        hinge = hinge * hinge
    others = np.ones(rows.shape, x.dtype)
    others[np.arange(rows.shape[0]), labels] = 0
    if weight is not None:
        w = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=x.dtype)
        others = others * w[labels][:, None]
    loss = ops.sum(hinge * Tensor(others), axis=1) / classes
    return _reduce(loss if x.ndim == 2 else ops.reshape(loss, ()), reduction)


def soft_margin_loss(input: Tensor, target: Any, *, reduction: str = "mean") -> Tensor:
    """The two-class logistic loss with targets y = +-1: l_i = log(1 + e^(-y_i x_i))."""
    _check_reduction(reduction)
    x = _input("soft_margin_loss", input)
    y = _same_shape_target("soft_margin_loss", x, target)
    return _reduce(ops.log1p(ops.exp(-y * x)), reduction)


class _ReducedLoss(_Loss):
    """A loss Module whose ``reduction`` is keyword-only (PyTorch's positional arguments
    before it are the deprecated size_average and reduce): ``function(*inputs, **settings,
    reduction=...)``."""

    function: Any
    settings: tuple[str, ...] = ()

    def _loss(self, *inputs: Any) -> Tensor:
        values = {name: getattr(self, name) for name in self.settings}
        return type(self).function(*inputs, **values, reduction=self.reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._loss(input, target)


class SmoothL1Loss(_ReducedLoss):
    """Squared error below ``beta``, absolute error beyond: see ``smooth_l1_loss``."""
    function, settings = staticmethod(smooth_l1_loss), ("beta",)

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta


class KLDivLoss(_ReducedLoss):
    """The Kullback-Leibler divergence: see ``kl_div``."""
    function, settings = staticmethod(kl_div), ("log_target",)

    def __init__(self, *, reduction: str = "mean", log_target: bool = False):
        Module.__init__(self)
        if reduction not in REDUCTIONS + ("batchmean",):
            raise ValueError(f"Invalid reduction: {reduction!r}")
        self.reduction, self.log_target = reduction, log_target


class PoissonNLLLoss(_ReducedLoss):
    """Poisson negative log-likelihood: see ``poisson_nll_loss``."""
    function, settings = staticmethod(poisson_nll_loss), ("log_input", "full", "eps")

    def __init__(self, log_input: bool = True, full: bool = False, *, eps: float = 1e-8,
                 reduction: str = "mean"):
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        return self._loss(log_input, target)


class GaussianNLLLoss(_ReducedLoss):
    """Gaussian negative log-likelihood, ``loss(input, target, var)``: see
    ``gaussian_nll_loss``."""
    function, settings = staticmethod(gaussian_nll_loss), ("full", "eps")

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Any, var: Any) -> Tensor:
        return self._loss(input, target, var)


class MarginRankingLoss(_ReducedLoss):
    """``loss(x1, x2, y)``: see ``margin_ranking_loss``."""
    function, settings = staticmethod(margin_ranking_loss), ("margin",)

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return self._loss(input1, input2, target)


class HingeEmbeddingLoss(MarginRankingLoss):
    """``loss(x, y)``: see ``hinge_embedding_loss``."""
    function = staticmethod(hinge_embedding_loss)

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean"):
        super().__init__(margin, reduction=reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return self._loss(input, target)


class CosineEmbeddingLoss(MarginRankingLoss):
    """``loss(x1, x2, y)``: see ``cosine_embedding_loss``."""
    function = staticmethod(cosine_embedding_loss)


class TripletMarginLoss(_ReducedLoss):
    """``loss(anchor, positive, negative)``: see ``triplet_margin_loss``."""
    function = staticmethod(triplet_margin_loss)
    settings = ("margin", "p", "eps", "swap")

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, *, reduction: str = "mean"):
        super().__init__(reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return self._loss(anchor, positive, negative)


class _ReducedWeightedLoss(_ReducedLoss, _WeightedLoss):
    """A keyword-reduction loss with an optional per-class ``weight`` buffer."""

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self._weights(weight=weight)


class MultiLabelSoftMarginLoss(_ReducedWeightedLoss):
    """Per-class binary cross-entropy of logits: see ``multilabel_soft_margin_loss``."""
    function, settings = staticmethod(multilabel_soft_margin_loss), ("weight",)

    def __init__(self, weight: Any = None, *, reduction: str = "mean"):
        super().__init__(weight, reduction)


class MultiLabelMarginLoss(_ReducedLoss):
    """A hinge between the target classes and the others: see ``multilabel_margin_loss``."""
    function = staticmethod(multilabel_margin_loss)

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)


class MultiMarginLoss(_ReducedWeightedLoss):
    """The multi-class hinge: see ``multi_margin_loss``."""
    function, settings = staticmethod(multi_margin_loss), ("p", "margin", "weight")

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None, *,
                 reduction: str = "mean"):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p!r}")
        self.p, self.margin = p, margin


class SoftMarginLoss(MultiLabelMarginLoss):
    """The two-class logistic loss: see ``soft_margin_loss``."""
    function = staticmethod(soft_margin_loss)
