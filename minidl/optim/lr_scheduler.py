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

``LambdaLR``, ``OneCycleLR``, ``CyclicLR`` and ``CosineAnnealingWarmRestarts``
compute the lr from lr_0 (or base_lr) instead (they overwrite what other
schedulers did). ``OneCycleLR`` and ``CyclicLR`` are stepped once per *batch*.
``SequentialLR`` runs schedulers one after another, e.g. a ``LinearLR``
warm-up and then a cosine annealing; ``ChainedScheduler`` steps several at once.

Every scheduler is also a ``fit`` callback: in ``fit(..., callbacks=[scheduler])``
it steps once per epoch, after the epoch's validation, and
``ReduceLROnPlateau`` gets the epoch's ``val_loss`` (its training ``loss``
when ``fit`` has no validation data).
"""
from __future__ import annotations

import bisect
import math
import numbers
from collections import Counter
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..tensor import Tensor
from .optimizer import Optimizer, check_number


class LRScheduler:
    """Base of the epoch-based schedulers: ``step()`` sets every group's lr to
    ``get_lr()``. Building one records ``initial_lr`` in each group and makes
    the initial step (t = 0), which leaves the lrs as they are."""

    def __init__(self, optimizer: Optimizer):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def get_lr(self) -> list[float]:
        """The lrs for epoch ``last_epoch`` >= 1, from the current ones."""
        raise NotImplementedError

    def _start_lrs(self, restart: bool) -> list[float]:
        """The lrs at t = 0. Built, a chainable scheduler keeps the current lrs;
        restarted (by SequentialLR at its milestone) it starts from lr_0."""
        return list(self.base_lrs) if restart else self._current_lrs()

    def step(self) -> None:
        """Advance one epoch and write the new lrs into the param groups."""
        self.last_epoch += 1
        self._set_lrs(self._start_lrs(restart=False) if self.last_epoch == 0 else self.get_lr())

    def _restart(self) -> None:
        """Go back to t = 0 and its closed-form lrs (SequentialLR's milestones)."""
        self.last_epoch = 0
        self._set_lrs(self._start_lrs(restart=True))

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        """As a ``fit`` callback: ``step()`` once per epoch; never stops training."""
        self.step()
        return False

    def get_last_lr(self) -> list[float]:
        """The lrs the last ``step()`` set, one per param group."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    _not_saved: tuple[str, ...] = ("optimizer",)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (save that with the optimizer's own)."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in self.__dict__.items() if key not in self._not_saved}

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


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each of the ``milestones`` (epochs; a
    milestone listed n times multiplies by gamma ** n).

        lr_t = lr_0 * gamma ** (number of milestones <= t)
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1):
        milestones = list(milestones)
        for milestone in milestones:
            _check_count(milestone, "milestones")
        check_number(gamma, "Invalid gamma value")
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        times = self.milestones[self.last_epoch]   # gamma ** 0 = 1 leaves the lr exact
        return [lr * self.gamma ** times for lr in self._current_lrs()]

    def _start_lrs(self, restart: bool) -> list[float]:
        """A milestone at epoch 0 applies at t = 0 too."""
        times = self.milestones[0]
        return [lr * self.gamma ** times for lr in super()._start_lrs(restart)]

    def state_dict(self) -> dict[str, Any]:
        """``milestones`` as a plain dict {epoch: times} (PyTorch's is a Counter)."""
        return {**super().state_dict(), "milestones": dict(self.milestones)}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(epoch): int(times)
                                   for epoch, times in self.milestones.items()})


class ConstantLR(LRScheduler):
    """Scale the lr by ``factor`` for the first ``total_iters`` epochs, then restore it.

        lr_t = lr_0 * (factor if t < total_iters else 1)

    Chainable: building it multiplies the current lr by ``factor``, and step
    ``total_iters`` divides by it (with factor 0 it sets lr_0 back instead).
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5):
        check_number(factor, "Invalid factor value", high=1.0)
        _check_count(total_iters, "total_iters")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        if self.factor == 0:  # PyTorch divides by zero here; lr_0 is what it means
            return list(self.base_lrs)
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _start_lrs(self, restart: bool) -> list[float]:
        return [lr * self.factor for lr in super()._start_lrs(restart)]


class PolynomialLR(LRScheduler):
    """Decay the lr to 0 along a polynomial of degree ``power`` over ``total_iters`` epochs.

        lr_t = lr_0 * (1 - min(t, total_iters) / total_iters) ** power

    Each step multiplies by the ratio of consecutive closed-form values.
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0):
        _check_positive_int(total_iters, "total_iters")
        check_number(power, "Invalid power value")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, total = self.last_epoch, self.total_iters
        if t > total:
            return self._current_lrs()
        ratio = ((1.0 - t / total) / (1.0 - (t - 1) / total)) ** self.power
        return [lr * ratio for lr in self._current_lrs()]


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


class LambdaLR(LRScheduler):
    """The lr is lr_0 times a function of the epoch:

        lr_t = lr_0 * lr_lambda(t)

    ``lr_lambda`` is one function for every group, or a list of one per group.
    Not chainable: it overwrites what other schedulers set. Its ``state_dict``
    leaves the functions out (rebuild the scheduler with them, then load).
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]):
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * function(self.last_epoch)
                for function, base in zip(self.lr_lambdas, self.base_lrs)]

    def _start_lrs(self, restart: bool) -> list[float]:
        return self.get_lr()


class MultiplicativeLR(LambdaLR):
    """Multiply the lr by ``lr_lambda(t)`` at every step t >= 1:

        lr_t = lr_{t-1} * lr_lambda(t)

    ``lr_lambda`` is one function for every group, or a list of one per group;
    as for LambdaLR the ``state_dict`` leaves the functions out. Chainable.
    """

    def _start_lrs(self, restart: bool) -> list[float]:
        """Built, the current lrs. Restarted by SequentialLR, as PyTorch's: the
        current lrs times lr_lambda(0) (no closed form leads back to lr_0)."""
        return self.get_lr() if restart else self._current_lrs()

    def get_lr(self) -> list[float]:
        return [lr * function(self.last_epoch)
                for function, lr in zip(self.lr_lambdas, self._current_lrs())]


class LinearLR(LRScheduler):
    """Scale lr_0 by a factor that moves linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs, then stays: a warm-up.

        lr_t = lr_0 * (start + (end - start) * min(t, total_iters) / total_iters)

    Chainable: building it multiplies the current lr by ``start_factor``; each
    step multiplies it by the ratio of consecutive closed-form factors,
    1 + (end - start) / (total_iters * start + (t - 1) * (end - start)).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5):
        real = isinstance(start_factor, numbers.Real) and not isinstance(start_factor, bool)
        if not (real and 0 < start_factor <= 1):  # nan fails too; 0 would divide by zero
            raise ValueError(f"Invalid start_factor value: {start_factor!r} "
                             f"(expected a number in (0, 1])")
        check_number(end_factor, "Invalid end_factor value", high=1.0)
        _check_positive_int(total_iters, "total_iters")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_iters:
            return self._current_lrs()
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor + (t - 1) * change)
        return [lr * ratio for lr in self._current_lrs()]

    def _start_lrs(self, restart: bool) -> list[float]:
        return [lr * self.start_factor for lr in super()._start_lrs(restart)]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2018), stepped once per *batch*.

    The lr climbs from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``), then
    anneals to ``max_lr / div_factor / final_div_factor``; within a phase
    running from step a to step b, with q = (t - a) / (b - a),

        cos:    lr_t = end + (start - end) * (1 + cos(pi q)) / 2
        linear: lr_t = start + (end - start) * q

    Phase ends are pct_start * total - 1 and total - 1 (``three_phase``: up to
    max_lr, back down to the initial lr by 2 pct_start * total - 2, then down
    to the minimum). With ``cycle_momentum`` the momentum (or Adam's beta1)
    moves the opposite way, between ``max_momentum`` and ``base_momentum``.
    Writes ``initial_lr``, ``max_lr``, ``min_lr`` (and ``max_momentum``,
    ``base_momentum``) into each param group, as PyTorch does. Stepping more
    than ``total_steps`` times raises ValueError. In ``fit`` it steps once per
    epoch: there give it ``total_steps=epochs``.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False):
        _check_optimizer(optimizer)
        if total_steps is not None:
            _check_positive_int(total_steps, "total_steps")
        elif epochs is not None and steps_per_epoch is not None:
            _check_positive_int(epochs, "epochs")
            _check_positive_int(steps_per_epoch, "steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
        check_number(pct_start, "Invalid pct_start value", high=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"Invalid anneal_strategy value: {anneal_strategy!r} "
                             f"(expected 'cos' or 'linear')")
        check_number(div_factor, "Invalid div_factor value")
        check_number(final_div_factor, "Invalid final_div_factor value")
        if div_factor == 0 or final_div_factor == 0:
            raise ValueError("Invalid div_factor or final_div_factor value: 0 (expected > 0)")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                             "base_momentum", "max_momentum"),
                            (total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                             "max_momentum")]
        else:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (total_steps - 1, "max_lr", "min_lr", "base_momentum",
                             "max_momentum")]
        groups = optimizer.param_groups
        self.cycle_momentum = bool(cycle_momentum)
        self.use_beta1 = "betas" in optimizer.defaults
        if self.cycle_momentum and not self.use_beta1 and "momentum" not in optimizer.defaults:
            raise ValueError(f"cycle_momentum=True needs an optimizer with momentum or betas; "
                             f"{type(optimizer).__name__} has neither (pass "
                             f"cycle_momentum=False)")
        per_group = {"max_lr": _per_group(max_lr, "max_lr", len(groups))}
        if self.cycle_momentum:
            per_group["max_momentum"] = _per_group(max_momentum, "max_momentum", len(groups))
            per_group["base_momentum"] = _per_group(base_momentum, "base_momentum",
                                                    len(groups))
        for i, group in enumerate(groups):
            group["initial_lr"] = per_group["max_lr"][i] / div_factor
            group["max_lr"] = per_group["max_lr"][i]
            group["min_lr"] = group["initial_lr"] / final_div_factor
            if self.cycle_momentum:
                group["max_momentum"] = per_group["max_momentum"][i]
                group["base_momentum"] = per_group["base_momentum"][i]
                _set_momentum(group, group["max_momentum"])
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR stepped {t} times, more than its total_steps "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, momentum_from, momentum_to) in enumerate(self._phases):
                if t <= end or i == len(self._phases) - 1:
                    fraction = (t - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], fraction))
                    if self.cycle_momentum:
                        _set_momentum(group, self._anneal(
                            group[momentum_from], group[momentum_to], fraction))
                    break
                start = end
        return lrs

    def _start_lrs(self, restart: bool) -> list[float]:
        return self.get_lr()


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), stepped once per *batch*: the lr
    climbs from ``base_lr`` to ``max_lr`` over ``step_size_up`` steps and comes
    back down over ``step_size_down`` (default: the same), again and again.
    With c = floor(1 + t / total) the cycle and x = 1 + t / total - c in [0, 1),

        h  = x / up_ratio                  while x <= up_ratio,
             (x - 1) / (up_ratio - 1)      after
        lr_t = base_lr + (max_lr - base_lr) * h * scale(c or t)

    where ``mode`` picks the scale: "triangular" 1, "triangular2" 1 / 2 ** (c - 1)
    (the amplitude halves every cycle), "exp_range" ``gamma`` ** t; or
    ``scale_fn`` of the cycle (``scale_mode="cycle"``) or of t ("iterations").
    With ``cycle_momentum`` the momentum (SGD's, RMSprop's, or Adam's beta1)
    moves the opposite way: max_momentum - (max_momentum - base_momentum) * h * scale.
    Building it sets each group's lr to ``base_lr`` and writes ``max_momentum``
    and ``base_momentum`` into the groups, as PyTorch does. The state dict
    leaves ``scale_fn`` out.
    """

    _not_saved = ("optimizer", "_scale_fn_custom")

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float],
                 max_lr: float | list[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.8,
                 max_momentum: float | list[float] = 0.9):
        _check_optimizer(optimizer)
        groups = optimizer.param_groups
        base_lrs = _per_group(base_lr, "base_lr", len(groups))
        self.max_lrs = _per_group(max_lr, "max_lr", len(groups))
        _check_positive_int(step_size_up, "step_size_up")
        if step_size_down is not None:
            _check_positive_int(step_size_down, "step_size_down")
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"Invalid mode value: {mode!r} (expected 'triangular', "
                             f"'triangular2' or 'exp_range', or give scale_fn)")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"Invalid scale_fn: {scale_fn!r} is not callable")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"Invalid scale_mode value: {scale_mode!r} "
                             f"(expected 'cycle' or 'iterations')")
        check_number(gamma, "Invalid gamma value")
        self.cycle_momentum = bool(cycle_momentum)
        self.use_beta1 = "betas" in optimizer.defaults
        if self.cycle_momentum:
            if not self.use_beta1 and "momentum" not in optimizer.defaults:
                raise ValueError(f"cycle_momentum=True needs an optimizer with momentum or "
                                 f"betas; {type(optimizer).__name__} has neither (pass "
                                 f"cycle_momentum=False)")
            self.base_momentums = _per_group(base_momentum, "base_momentum", len(groups))
            self.max_momentums = _per_group(max_momentum, "max_momentum", len(groups))
        up = float(step_size_up)
        self.total_size = up + (float(step_size_down) if step_size_down is not None else up)
        self.step_ratio = up / self.total_size
        self.mode, self.gamma, self._scale_fn_custom = mode, gamma, scale_fn
        self.scale_mode = (scale_mode if scale_fn is not None
                           else "iterations" if mode == "exp_range" else "cycle")
        for i, group in enumerate(groups):
            group["lr"] = base_lrs[i]
            if self.cycle_momentum:
                group["max_momentum"] = self.max_momentums[i]
                group["base_momentum"] = self.base_momentums[i]
                _set_momentum(group, self.max_momentums[i])
        super().__init__(optimizer)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        height = (x / self.step_ratio if x <= self.step_ratio
                  else (x - 1) / (self.step_ratio - 1))
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                _set_momentum(group, high - (high - low) * height * scale)
        return [low + (high - low) * height * scale
                for low, high in zip(self.base_lrs, self.max_lrs)]

    def _start_lrs(self, restart: bool) -> list[float]:
        return self.get_lr()


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov and Hutter, 2017): cosine annealing from lr_0 to
    ``eta_min`` over T_i epochs, then a restart at lr_0, with T_0 = ``T_0``
    and T_{i+1} = ``T_mult`` * T_i:

        lr = eta_min + (lr_0 - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    where T_cur counts the epochs since the last restart. ``step(epoch)`` may
    also be given the (fractional) epoch, e.g. ``step(epoch + i / batches)``
    after batch i, to anneal within epochs.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0):
        _check_positive_int(T_0, "T_0")
        _check_positive_int(T_mult, "T_mult")
        check_number(eta_min, "Invalid eta_min value")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur: float = 0
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]

    def _start_lrs(self, restart: bool) -> list[float]:
        self.T_cur, self.T_i = 0, self.T_0
        return self.get_lr()

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one epoch, or go to ``epoch`` (a number >= 0, may be fractional)."""
        if epoch is None and self.last_epoch >= 0:
            self.last_epoch += 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            epoch = 0 if epoch is None else epoch
            check_number(epoch, "Invalid epoch value")
            self.T_cur, self.T_i = self._position(epoch)
            self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

    def _position(self, epoch: float) -> tuple[float, int]:
        """(T_cur, T_i) at ``epoch``: cycle n starts at T_0 (T_mult^n - 1) / (T_mult - 1)."""
        if epoch < self.T_0:
            return epoch, self.T_0
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        return (epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1),
                self.T_0 * self.T_mult ** n)


class _Composite(LRScheduler):
    """A scheduler that drives other schedulers (``_schedulers``) of its optimizer."""

    _not_saved = ("optimizer", "_schedulers")
    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        """Its own entries, and ``_schedulers``: the state dict of each scheduler."""
        return {**super().state_dict(),
                "_schedulers": [scheduler.state_dict() for scheduler in self._schedulers]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        states = list(state_dict.get("_schedulers", ()))
        if len(states) != len(self._schedulers):
            raise ValueError(f"the state dict holds {len(states)} schedulers, this "
                             f"{type(self).__name__} has {len(self._schedulers)}")
        super().load_state_dict({key: value for key, value in state_dict.items()
                                 if key != "_schedulers"})
        for scheduler, state in zip(self._schedulers, states):
            scheduler.load_state_dict(state)


class SequentialLR(_Composite):
    """Run ``schedulers`` one after another: scheduler k drives the epochs from
    ``milestones[k-1]`` up to ``milestones[k]``, and starts afresh (t = 0, from
    lr_0; MultiplicativeLR from the lr it finds) at its milestone. For example a
    5-epoch warm-up, then cosine:

        SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5),
                           CosineAnnealingLR(opt, T_max=45)], milestones=[5])

    Building it resets each group's lr to its ``initial_lr`` and replays the
    first scheduler's t = 0, undoing what building the others did.
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int]):
        _check_optimizer(optimizer)
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError("SequentialLR needs at least one scheduler")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, _Composite):
                raise TypeError(f"SequentialLR: schedulers[{i}] is a "
                                f"{type(scheduler).__name__}; expected an epoch-based "
                                f"scheduler (not ReduceLROnPlateau, SequentialLR or "
                                f"ChainedScheduler)")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{i}] "
                                 f"({type(scheduler).__name__}) belongs to another optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need "
                             f"{len(schedulers) - 1} milestones, got {len(milestones)}")
        for milestone in milestones:
            _check_positive_int(milestone, "milestones")
        if milestones != sorted(milestones):
            raise ValueError(f"Invalid milestones value: {milestones} (expected increasing)")
        self.optimizer, self._schedulers, self._milestones = optimizer, schedulers, milestones
        self.last_epoch = 0
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        schedulers[0].step()
        self._last_lr = schedulers[0].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers of one optimizer together: ``step()`` steps each
    in turn, so their factors multiply (a warm-up and a decay at once)."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None):
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, "
                             "but got no scheduler.")
        optimizer = optimizer if optimizer is not None else getattr(
            schedulers[0], "optimizer", None)
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"ChainedScheduler: schedulers[{i}] is a ReduceLROnPlateau, "
                                 f"whose step needs a metric")
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"ChainedScheduler: schedulers[{i}] is a "
                                f"{type(scheduler).__name__}, not a scheduler")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"ChainedScheduler: schedulers[{i}] "
                                 f"({type(scheduler).__name__}) belongs to another optimizer")
        self.optimizer, self._schedulers = optimizer, schedulers
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


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
        _check_optimizer(optimizer)
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
        min_lrs = _per_group(min_lr, "min_lr", groups)
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
        current = metrics.item() if isinstance(metrics, Tensor) else metrics
        try:  # a str such as "0.5" would convert, but is a caller's mistake
            if isinstance(current, (str, bytes, bool)):
                raise TypeError
            current = float(current)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number or a "
                            f"one-element Tensor, not {type(metrics).__name__} "
                            f"{metrics!r}") from None
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

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> bool:
        """As a ``fit`` callback: ``step(val_loss)``, or ``step(loss)`` when fit
        has no validation data; never stops training."""
        self.step(logs["val_loss"] if "val_loss" in logs else logs["loss"])
        return False

    _not_saved = LRScheduler._not_saved
    get_last_lr = LRScheduler.get_last_lr
    state_dict = LRScheduler.state_dict
    load_state_dict = LRScheduler.load_state_dict


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _lambdas_per_group(optimizer: Optimizer,
                       lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]
                       ) -> list[Callable[[int], float]]:
    """One function per param group: a list of them, or one for all."""
    _check_optimizer(optimizer)
    groups = len(optimizer.param_groups)
    lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
    if len(lambdas) != groups:
        raise ValueError(f"Invalid lr_lambda: expected {groups} functions, one per param "
                         f"group, got {len(lambdas)}")
    for function in lambdas:
        if not callable(function):
            raise TypeError(f"Invalid lr_lambda: {function!r} is not callable")
    return lambdas


def _set_momentum(group: dict[str, Any], momentum: float) -> None:
    """Write a scheduled momentum: Adam's beta1, or SGD's (RMSprop's) momentum, by the
    group's own keys (MuonWithAuxAdamW has groups of each kind)."""
    if "betas" in group:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _per_group(value: float | Sequence[float], name: str, groups: int) -> list[float]:
    """One number per param group: a list of ``groups`` numbers, or one for all."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(f"Invalid {name} value: {value!r} (expected one number or "
                         f"{groups}, one per param group)")
    for number in values:
        check_number(number, f"Invalid {name} value")
    return values


def _check_positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Invalid {name} value: {value!r} (expected an int >= 1)")


def _check_count(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Invalid {name} value: {value!r} (expected an int >= 0)")
