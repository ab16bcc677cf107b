"""Watch an optimizer work: per-layer gradient norms, update sizes and learning rates.

``OptimizerStats`` is a ``fit`` callback (also ``minidl.train.OptimizerStats``).
For each layer (the parameters of one module: ``0.weight`` and ``0.bias`` are
layer ``0``) and each epoch it records, as the mean over the epoch's steps,

    grad_norm       ||g||, the layer's gradient
    update_ratio    ||p_new - p_old|| / ||p_old||, the update to weight ratio

and at the epoch's end, for the optimizers that have one, quantiles of the
*effective learning rate*: the per-coordinate factor that multiplies the
gradient (Adam: the first moment m) in the update,

    SGD        lr                                    (one number for every coordinate)
    Adagrad    lr_t / (sqrt(s) + eps),   lr_t = lr / (1 + (t - 1) lr_decay)
    RMSprop    lr / (sqrt(v) + eps)                  (v - m^2 when centered)
    Adam(W)    lr / (1 - beta1^t) / (sqrt(v / (1 - beta2^t)) + eps)
    Adamax     lr / (1 - beta1^t) / u                (u: exp_inf)
    RAdam      Adam's, times the rectification r_t   (lr / (1 - beta1^t) while rho_t <= 5)
    Adadelta   lr sqrt(acc_delta + eps) / sqrt(v + eps)
    Rprop      step_size                             (it multiplies sign(g), not g)
    ASGD       eta                                   (the param's decaying step size)
    Lion       lr                                    (it multiplies sign(c), not g)
    AdaBelief  lr / (1 - beta1^t) / (sqrt(s / (1 - beta2^t)) + eps)   (s: the belief);
               rectified: the step's lr / (sqrt(s) + eps), or the lr alone before N_sma >= 5
    AdamWScheduleFree   lr_k / (sqrt(v / (1 - beta2^k)) + eps)   of the z sequence
    SGDScheduleFree     lr_k                                     of the z sequence
               (lr_k the warmed-up lr, k the group's step; the params, y, move by a
               mix of that step and an interpolation towards z)

    Adafactor  max(eps2, RMS(p)) min(lr, 1 / sqrt(t)) / sqrt(max(V, eps1^2)),
               V = R C / mean(R) rebuilt from the row and column statistics
               (the update's clipping by max(1, RMS(U) / d) left out: it needs g)

Momentum (SGD's, RMSprop's) is left out: the factor is the one applied before it.
NAdam has no rule (its factor mixes g and m); add one as below. Muon and LBFGS
have none by their nature: Muon's step is an orthogonalised matrix, not g
times a factor per coordinate, and L-BFGS multiplies g by a full inverse
Hessian estimate, whose diagonal alone says little. MuonWithAuxAdamW has none
either: its matrices step as Muon's, and the AdamW rates of its biases alone
would stand for each layer.

This is where Adagrad's shrinking steps (s only grows) and RMSprop's steady
ones (v forgets) show up on a real network. Another optimizer joins by a
method ``effective_lr(group, state) -> array`` on its class (with a third
argument ``param`` when it needs the parameter's values), or by an entry in
``EFFECTIVE_LR`` (class name -> the same function); one without either is
recorded without the learning-rate keys.

The numbers are kept in ``stats.history`` (a ``minidl.history.History``), keyed
``<layer>.grad_norm``, ``<layer>.update_ratio`` and ``<layer>.lr_q10`` (one
per quantile), beside the epoch's ``loss``. Measuring costs a copy of the parameters per step.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .history import History

__all__ = ["OptimizerStats", "EFFECTIVE_LR", "effective_lr"]

EffectiveLR = Callable[[Mapping[str, Any], Mapping[str, Any]], np.ndarray]


def _sgd(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    return np.asarray(group["lr"])


def _adagrad(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
    return lr / (np.sqrt(state["sum"]) + group["eps"])


def _rmsprop(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    d = state["square_avg"]
    if group["centered"]:
        d = np.maximum(d - state["grad_avg"] ** 2, 0)
    if group["eps_in_sqrt"]:
        return group["lr"] / np.sqrt(d + group["eps"])
    return group["lr"] / (np.sqrt(d) + group["eps"])


def _adam(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    beta1, beta2 = group["betas"]
    t = state["step"]
    v = state["max_exp_avg_sq"] if group["amsgrad"] else state["exp_avg_sq"]
    return group["lr"] / (1 - beta1**t) / (np.sqrt(v / (1 - beta2**t)) + group["eps"])


def _adamax(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    return group["lr"] / (1 - group["betas"][0] ** state["step"]) / state["exp_inf"]


def _radam(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    beta1, beta2 = group["betas"]
    t = state["step"]
    lr = group["lr"] / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho <= 5:
        return np.asarray(lr)
    r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return lr * math.sqrt(1 - beta2**t) / (np.sqrt(state["exp_avg_sq"]) + group["eps"]) * r


def _adadelta(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    eps = group["eps"]
    return group["lr"] * np.sqrt(state["acc_delta"] + eps) / np.sqrt(state["square_avg"] + eps)


def _rprop(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    return state["step_size"]


def _asgd(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    return np.asarray(state["eta"])


def _adabelief(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    from .kernels.reference import adabelief_step_size

    beta1, beta2 = group["betas"]
    t = state["step"]
    step_lr, adaptive = adabelief_step_size(group["lr"], beta1, beta2, group["rectify"],
                                            group["degenerated_to_sgd"], t)
    if not adaptive:
        return np.asarray(step_lr)
    s = state["max_exp_avg_var"] if group["amsgrad"] and not group["rectify"] else \
        state["exp_avg_var"]
    scale = 1.0 if group["rectify"] else math.sqrt(1 - beta2**t)
    return step_lr / (np.sqrt(s) / scale + group["eps"])


def _schedule_free(group: Mapping[str, Any], state: Mapping[str, Any]) -> np.ndarray:
    lr = group["scheduled_lr"]
    if "exp_avg_sq" not in state:
        return np.asarray(lr)
    beta2 = group["betas"][1]
    return lr / (np.sqrt(state["exp_avg_sq"] / (1 - beta2 ** group["k"])) + group["eps"])


EFFECTIVE_LR: dict[str, EffectiveLR] = {
    "SGD": _sgd, "Adagrad": _adagrad, "RMSprop": _rmsprop, "Adam": _adam,
    "Adamax": _adamax, "RAdam": _radam, "Adadelta": _adadelta, "Rprop": _rprop,
    "ASGD": _asgd, "Lion": _sgd, "AdaBelief": _adabelief,
    "AdamWScheduleFree": _schedule_free, "SGDScheduleFree": _schedule_free}


def effective_lr(optimizer: Any, param: Any) -> np.ndarray | None:
    """The effective learning rate of each coordinate of ``param``, shaped like it;
    None for an optimizer without a rule (see above), or before the first step
    of one whose rule reads its state (SGD's does not: it may keep no state)."""
    rule = getattr(optimizer, "effective_lr", None)
    if rule is None:
        rule = next((EFFECTIVE_LR[c.__name__] for c in type(optimizer).__mro__
                     if c.__name__ in EFFECTIVE_LR), None)
    state = optimizer.state.get(param)
    if rule is None or (state is None and rule is not _sgd):
        return None
    group = next(g for g in optimizer.param_groups if any(p is param for p in g["params"]))
    extra = (param,) if "param" in inspect.signature(rule).parameters else ()
    lr = np.asarray(rule(group, state or {}, *extra), dtype=np.float64)
    return np.broadcast_to(lr, param.shape)


class OptimizerStats:
    """A ``fit`` callback recording per-layer optimizer statistics each epoch (see above).

    ``OptimizerStats(optimizer, quantiles=(0.1, 0.5, 0.9))``; pass it in
    ``fit(..., callbacks=[stats])`` with the same optimizer, then read
    ``stats.history``. While training it wraps ``optimizer.step`` to see each
    update; ``on_train_end`` unwraps it.
    """

    def __init__(self, optimizer: Any, quantiles: Sequence[float] = (0.1, 0.5, 0.9)):
        quantiles = tuple(quantiles)
        if not quantiles or not all(isinstance(q, (int, float)) and not isinstance(q, bool)
                                    and 0 <= q <= 1 for q in quantiles):
            raise ValueError(f"Invalid quantiles: {quantiles!r} (numbers in [0, 1])")
        if not hasattr(optimizer, "param_groups") or not hasattr(optimizer, "step"):
            raise TypeError(f"OptimizerStats needs an optimizer, not {type(optimizer).__name__}")
        self.optimizer, self.quantiles = optimizer, quantiles
        self.history = History()
        self.layers: dict[str, list[Any]] = {}
        self._sums: dict[str, float] = {}
        self._steps = 0

    # -- the callback protocol ----------------------------------------------------------
    def on_train_begin(self, model: Any) -> None:
        names = {id(p): name for name, p in model.named_parameters()} \
            if hasattr(model, "named_parameters") else {}
        self.layers = {}
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        for i, param in enumerate(params):
            name = names.get(id(param), f"param{i}")
            self.layers.setdefault(name.rpartition(".")[0] or name, []).append(param)
        self._reset()
        self.optimizer.step = _MeasuredStep(self)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        record = {"loss": logs["loss"]} if "loss" in logs else {}
        record.update((key, total / max(self._steps, 1)) for key, total in self._sums.items())
        for layer, params in self.layers.items():
            rates = [effective_lr(self.optimizer, p) for p in params]
            rates = [r.ravel() for r in rates if r is not None]
            if rates:
                values = np.quantile(np.concatenate(rates), self.quantiles)
                record.update((f"{layer}.lr_q{_percent(q)}", float(v))
                              for q, v in zip(self.quantiles, values))
        self.history.append(record)
        self._reset()
        return False

    def on_train_end(self, model: Any) -> None:
        self.optimizer.__dict__.pop("step", None)

    # -- measuring a step ---------------------------------------------------------------
    def _reset(self) -> None:
        self._sums = {f"{layer}.{key}": 0.0 for layer in self.layers
                      for key in ("grad_norm", "update_ratio")}
        self._steps = 0

    def _measured(self, closure: Any) -> Any:
        before = {layer: [p._data.copy() for p in params] for layer, params in self.layers.items()}
        grads = {layer: math.sqrt(sum(float(np.sum(np.square(p._grad, dtype=np.float64)))
                                      for p in params if p._grad is not None))
                 for layer, params in self.layers.items()}
        result = type(self.optimizer).step(self.optimizer, closure)
        for layer, params in self.layers.items():
            moved = sum(float(np.sum(np.square(p._data - old, dtype=np.float64)))
                        for p, old in zip(params, before[layer]))
            size = sum(float(np.sum(np.square(old, dtype=np.float64))) for old in before[layer])
            self._sums[f"{layer}.grad_norm"] += grads[layer]
            self._sums[f"{layer}.update_ratio"] += math.sqrt(moved) / max(math.sqrt(size), 1e-12)
        self._steps += 1
        return result

    def __repr__(self) -> str:
        return (f"OptimizerStats({type(self.optimizer).__name__}, layers={list(self.layers)}, "
                f"epochs={self.history.epochs})")


class _MeasuredStep:
    """``optimizer.step`` while an OptimizerStats watches: the class's step, measured.
    A plain object rather than a lambda, so the optimizer still pickles meanwhile."""

    def __init__(self, stats: OptimizerStats) -> None:
        self.stats = stats

    def __call__(self, closure: Any = None) -> Any:
        return self.stats._measured(closure)


def _percent(q: float) -> str:
    """0.1 -> '10', 0.5 -> '50', 0.999 -> '99.9'."""
    return f"{q * 100:g}"
