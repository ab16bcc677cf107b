"""Schedule-free SGD and AdamW: no learning-rate schedule, an average of iterates instead."""
from __future__ import annotations

import operator
from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .adam import check_betas
from .flat import FlatGroup
from .optimizer import Closure, NoStepInState, Optimizer, check_number

# Param-group entries the schedule keeps, as the schedulefree package does; not arguments.
COUNTERS = dict(k=0, train_mode=False, weight_sum=0.0, lr_max=-1.0, scheduled_lr=0.0)
NOT_IN_TRAIN_MODE = ("Optimizer was not in train mode when step is called. Please insert "
                     ".train() and .eval() calls on the optimizer. See documentation for "
                     "details.")


class _ScheduleFree(NoStepInState, Optimizer):
    """The schedule and the train()/eval() switch both schedule-free optimizers share.

    Three sequences: z takes plain (SGD or AdamW) steps; x, the weighted
    average of the z's, is what is evaluated; y = (1 - beta1) z + beta1 x, an
    interpolation of the two, is where gradients are taken. The parameters
    hold y in train mode and x in eval mode; ``train()`` and ``eval()`` switch
    them (``p.lerp_(z, 1 - beta1)`` and ``p.lerp_(z, 1 - 1/beta1)``), and
    ``step()`` refuses to run in eval mode. The optimizer starts in eval mode,
    as the package's: call ``optimizer.train()`` before training (``minidl.fit``
    does, and ``optimizer.eval()`` before it evaluates or returns).

    At the group's k-th step (k = 1, 2, ...): lr_k = lr * min(1, k / warmup_steps),
    lr_max = the largest lr_k so far, the step's weight in the average
    w_k = k^r * lr_max^weight_lr_power, and ckp1 = w_k / (w_1 + ... + w_k).
    Then, per element, with g the gradient at y:

        y = y + ckp1 * (z - y) + lr_k * (beta1 * (1 - ckp1) - 1) * g
        z = z - lr_k * g

    which moves x to (1 - ckp1) x + ckp1 z without storing it. ``k``,
    ``weight_sum``, ``lr_max``, ``scheduled_lr`` and ``train_mode`` are
    param-group entries, as in the package (so the bias correction counts
    the group's steps, not a parameter's). The update runs as
    ``minidl.kernels.<backend>.schedule_free`` (rule: ``rules.schedule_free``).
    """

    _kernel_name = "schedule_free"
    _state_names = ("z", "exp_avg_sq")
    _first_buffer = "z"

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any],
                 device: str):
        super().__init__(params, defaults, device)
        # the counters change every step: step() passes them on without re-checking the group
        self._hyper = operator.itemgetter(*(key for key in defaults if key not in COUNTERS))

    def _check_schedule(self, group: Mapping[str, Any]) -> None:
        check_number(group["weight_decay"], "Invalid weight_decay value")
        warmup = group["warmup_steps"]
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"Invalid warmup_steps value: {warmup!r} (expected an int >= 0)")
        check_number(group["r"], "Invalid r value")
        check_number(group["weight_lr_power"], "Invalid weight_lr_power value")

    def _beta1(self, group: Mapping[str, Any]) -> float:
        raise NotImplementedError

    def _adaptive(self, group: Mapping[str, Any]) -> tuple[float, float]:
        """(beta2, eps) of the AdamW normaliser; SGD has none."""
        return 0.0, 0.0

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        """The kernel's arguments for the group's next step, k + 1."""
        k = group["k"] + 1
        ckp1 = 0.0     # the package's value when weight_sum is 0 (also before any step)
        if group["weight_sum"] and group["lr_max"] >= 0:
            weight = k ** group["r"] * group["lr_max"] ** group["weight_lr_power"]
            ckp1 = weight / group["weight_sum"]
        beta2, eps = self._adaptive(group)
        return (float(group["scheduled_lr"]), self._beta1(group), beta2, eps,
                float(group["weight_decay"]), float(ckp1), k)

    def step(self, closure: Closure | None = None) -> Any:
        """One step of every group: its schedule moves on, then the kernel runs."""
        if not self.param_groups[0]["train_mode"]:
            raise RuntimeError(NOT_IN_TRAIN_MODE)
        for group, flat in zip(self.param_groups, self._flat):
            if self._hyper(group) != flat.hyper:      # a changed value is checked before
                self._configure(group, flat)          # the schedule moves on
        for group in self.param_groups:
            k = group["k"] + 1
            warmup = group["warmup_steps"]
            lr = group["lr"] * (k / warmup if k <= warmup else 1.0)
            group["scheduled_lr"] = lr
            group["lr_max"] = max(lr, group["lr_max"])
            group["weight_sum"] += k ** group["r"] * group["lr_max"] ** group["weight_lr_power"]
        for group, flat in zip(self.param_groups, self._flat):
            flat.scalar_args = self._scalars(group)   # the counters change at every step
        loss = super().step(closure)
        for group in self.param_groups:
            group["k"] += 1
        return loss

    def train(self) -> None:
        """Put y in the parameters (from x): the point where gradients are taken."""
        for group, flat in zip(self.param_groups, self._flat):
            if not group["train_mode"]:
                self._switch(flat, 1 - self._beta1(group))
                group["train_mode"] = True

    def eval(self) -> None:
        """Put x, the average, in the parameters (from y): the point to evaluate and save."""
        for group, flat in zip(self.param_groups, self._flat):
            if group["train_mode"]:
                self._switch(flat, 1 - 1 / self._beta1(group))
                group["train_mode"] = False

    def _switch(self, flat: FlatGroup, weight: float) -> None:
        """p = p + weight * (z - p) for every param that has a z (has taken a step)."""
        backend, z = flat.backend, flat.state["z"]
        if not backend.on_host and flat.host_dirty:
            backend.copy_from_host(flat.device_data, flat.data)
        stepped = flat.step_counts() > 0
        if stepped.all():
            backend.interpolate(flat.device_data, z, weight)
        else:
            for (lo, hi), has_z in zip(flat.slices(), stepped):
                if has_z and hi > lo:
                    backend.interpolate(flat.device_data[lo:hi], z[lo:hi], weight)
        if not backend.on_host:
            backend.synchronize()
            backend.copy_to_host(flat.device_data, flat.data)
            flat.host_dirty = False

    def __reduce__(self) -> tuple:
        """Rebuild from the constructor's arguments: the counters travel in the groups."""
        rebuild, (cls, groups, defaults, device, state) = super().__reduce__()
        arguments = {key: value for key, value in defaults.items() if key not in COUNTERS}
        return rebuild, (cls, groups, arguments, device, state)


class SGDScheduleFree(_ScheduleFree):
    """Schedule-free SGD (Defazio et al., 2024), the ``schedulefree`` package's
    ``SGDScheduleFree``: SGD with momentum, without a learning-rate schedule.

    The z step is plain SGD, ``z = z - lr_k * (grad + weight_decay * y)``, and
    ``momentum`` plays beta1's part (see ``_ScheduleFree`` for the schedule and
    the train()/eval() switch). Defaults are the package's: lr=1.0,
    momentum=0.9, warmup_steps=0, r=0, weight_lr_power=2. State per
    parameter: ``z``, as the package's.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1.0,
                 momentum: float = 0.9, weight_decay: float = 0, warmup_steps: int = 0,
                 r: float = 0.0, weight_lr_power: float = 2.0, device: str = "auto"):
        defaults = dict(lr=lr, momentum=momentum, r=r, warmup_steps=warmup_steps,
                        weight_lr_power=weight_lr_power, weight_decay=weight_decay, **COUNTERS)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Invalid learning rate")
        momentum = group["momentum"]
        check_number(momentum, "Invalid momentum value")
        if not 0 < momentum < 1:
            raise ValueError(f"Momentum must be between 0 and 1 exclusive: {momentum}")
        self._check_schedule(group)

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"z": 0.0}

    def _beta1(self, group: Mapping[str, Any]) -> float:
        return float(group["momentum"])


class AdamWScheduleFree(_ScheduleFree):
    """Schedule-free AdamW (Defazio et al., 2024), the ``schedulefree`` package's
    ``AdamWScheduleFree``; it won the self-tuning track of the AlgoPerf benchmark.

    The z step is RMSprop's: the gradient divided by the root of a bias
    corrected running mean square (no first moment: the averaging plays
    momentum's part), with decoupled weight decay taken at y:

        v = beta2 * v + (1 - beta2) * g * g                       (exp_avg_sq)
        g = g / (sqrt(v / (1 - beta2^k)) + eps) + weight_decay * y
        z = z - lr_k * g

    See ``_ScheduleFree`` for the schedule and the train()/eval() switch.
    Defaults are the package's: lr=0.0025, betas=(0.9, 0.999), eps=1e-8,
    warmup_steps=0, r=0, weight_lr_power=2. State per parameter: ``z`` and
    ``exp_avg_sq``, as the package's. The package validates nothing; minidl
    checks each value as torch.optim.AdamW does.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 0.0025,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, warmup_steps: int = 0, r: float = 0.0,
                 weight_lr_power: float = 2.0, device: str = "auto"):
        defaults = dict(lr=lr, betas=betas, eps=eps, r=r, warmup_steps=warmup_steps,
                        weight_lr_power=weight_lr_power, weight_decay=weight_decay, **COUNTERS)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Invalid learning rate")
        check_number(group["eps"], "Invalid epsilon value")
        check_betas(group["betas"])
        if group["betas"][0] == 0:
            raise ValueError("Invalid beta parameter at index 0: 0 (eval() divides by beta1)")
        self._check_schedule(group)

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"z": 0.0, "exp_avg_sq": 0.0}

    def _beta1(self, group: Mapping[str, Any]) -> float:
        return float(group["betas"][0])

    def _adaptive(self, group: Mapping[str, Any]) -> tuple[float, float]:
        return float(group["betas"][1]), float(group["eps"])
