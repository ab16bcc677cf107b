"""Learning-rate schedulers, with PyTorch's ``torch.optim.lr_scheduler`` semantics.

A scheduler only ever rewrites ``group["lr"]`` in its optimizer's
``param_groups``; the optimizer picks the new value up at its next step.
Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.

Like PyTorch's, the epoch-based schedulers are *chainable*: each step
multiplies the current ``group["lr"]`` by a factor, rather than recomputing it
from the initial lr, so two schedulers on one optimizer compose. Without other
interference the results equal the closed forms given in each docstring (up to
float rounding), where ``t`` is ``last_epoch``, the number of ``step()`` calls
so far, and ``lr_0`` is the lr each group had when the scheduler was built.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

from ..tensor import Tensor
from .optimizer import Optimizer, check_number


class LRScheduler:
    """Base of the epoch-based schedulers: ``step()`` sets every group's lr to
    ``get_lr()``. Building one records ``initial_lr`` in each group and makes
    the initial step (t = 0), which leaves the lrs as they are."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def get_lr(self) -> list[float]:
        """The lrs for epoch ``last_epoch`` >= 1, from the current ones."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new lrs into the param groups."""
        self.last_epoch += 1
        lrs = self._current_lrs() if self.last_epoch == 0 else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs the last ``step()`` set, one per param group."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (save that with the optimizer's own)."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        unknown = set(state_dict) - set(self.__dict__)
        if unknown:
            raise ValueError(f"unknown entries {sorted(unknown)} in the state dict "
                             f"of a {type(self).__name__}")
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

        lr_t = lr_0 * gamma ** (t // step_size)
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        _check_positive_int(step_size, "step_size")
        check_number(gamma, "Invalid gamma value")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch.

        lr_t = lr_0 * gamma ** t
    """

    def __init__(self, optimizer: Optimizer, gamma: float):
        check_number(gamma, "Invalid gamma value")
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Anneal the lr from lr_0 to ``eta_min`` along half a cosine over ``T_max`` epochs.

        lr_t = eta_min + (lr_0 - eta_min) * (1 + cos(pi * t / T_max)) / 2

    Past T_max the cosine continues: the lr climbs back to lr_0 at 2 T_max,
    and so on (SGDR without restarts, Loshchilov and Hutter, 2017). Each step
    applies the ratio of consecutive closed-form values,

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T)),

    except at the bottom of the cosine (where that ratio is 0 / 0), which adds
    (lr_0 - eta_min) * (1 - cos(pi / T)) / 2, as PyTorch does.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        _check_positive_int(T_max, "T_max")
        check_number(eta_min, "Invalid eta_min value")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, period, low = self.last_epoch, self.T_max, self.eta_min
        if (t - 1 - period) % (2 * period) == 0:
            return [lr + (base - low) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [low + ratio * (lr - low) for lr in self._current_lrs()]


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when a metric has stopped improving.

    ``step(metric)`` once per epoch. A metric is an improvement on the best so
    far when (mode "min"; "max" mirrors it)

        rel:  metric < best * (1 - threshold)        abs:  metric < best - threshold

    After more than ``patience`` epochs in a row without improvement, each
    group's lr becomes max(lr * factor, min_lr) (unless that changes it by no
    more than ``eps``), and the next ``cooldown`` epochs are not counted.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0, eps: float = 1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"Invalid mode value: {mode!r} (expected 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"Invalid threshold_mode value: {threshold_mode!r} "
                             f"(expected 'rel' or 'abs')")
        check_number(factor, "Invalid factor value", high=1.0, high_open=True)
        _check_count(patience, "patience")
        _check_count(cooldown, "cooldown")
        check_number(threshold, "Invalid threshold value")
        check_number(eps, "Invalid eps value")
        groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(min_lrs) != groups:
            raise ValueError(f"Invalid min_lr value: {min_lr!r} (expected one number or "
                             f"{groups}, one per param group)")
        for value in min_lrs:
            check_number(value, "Invalid min_lr value")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lrs, self.eps = cooldown, min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, metric: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return metric < best * (1 - self.threshold)
            return metric < best - self.threshold
        if self.threshold_mode == "rel":
            return metric > best * (1 + self.threshold)
        return metric > best + self.threshold

    def step(self, metrics: float | Tensor) -> None:
        """Record this epoch's metric (a number, or a one-element Tensor such as
        a loss); reduce the lrs after a plateau."""
        current = float(metrics.item() if isinstance(metrics, Tensor) else metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    get_last_lr = LRScheduler.get_last_lr
    state_dict = LRScheduler.state_dict
    load_state_dict = LRScheduler.load_state_dict


def _check_positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Invalid {name} value: {value!r} (expected an int >= 1)")


def _check_count(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Invalid {name} value: {value!r} (expected an int >= 0)")
