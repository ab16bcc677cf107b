"""ASGD: SGD whose answer is the average of its iterates."""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np

from ..tensor import Tensor
from .flat import FlatGroup
from .optimizer import Closure, Optimizer, check_common, check_number


class ASGD(Optimizer):
    """Averaged SGD (Polyak and Juditsky, 1992), PyTorch's ``torch.optim.ASGD``.

    SGD with a step size eta that decays with the step count, and beside the
    parameter a running average ``ax`` of its iterates, the answer that
    averaging theory is about (``ax`` is only kept, never used for the step):

        g   = -grad if maximize else grad
        g   = g + weight_decay * p
        p   = p * (1 - lambd * eta) - eta * g
        ax  = ax + mu * (p - ax)       (ax = p while mu = 1)
        then, for the next step t + 1:
        eta = lr / (1 + lambd * lr * t)^alpha
        mu  = 1 / max(1, t - t0)

    eta starts at the group's lr and mu at 1, so the averaging begins after t0
    steps (1e6 by default: by default ``ax`` is the parameter). As in PyTorch,
    eta and mu are per-parameter state set after each step with that step's
    lr, so an lr changed between steps acts one step later. They are kept in
    the parameters' dtype (PyTorch keeps them in its default dtype).

    State per parameter: ``step``, ``eta``, ``mu`` (numbers) and ``ax``. The
    update runs as ``minidl.kernels.<backend>.asgd`` (rule: ``rules.asgd``),
    one call per group while every parameter has the same eta and mu.
    """

    _kernel_name = "asgd"
    _state_names = ("ax",)
    _takes_step = False
    _scalar_names = ("eta", "mu")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, maximize: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_common(group)
        for name in ("lambd", "alpha", "t0"):
            check_number(group[name], f"Invalid {name} value", low=-math.inf)

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"ax": 0.0}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        return float(group["lambd"]), float(group["weight_decay"]), bool(group["maximize"])

    def step(self, closure: Closure | None = None) -> Any:
        """One ASGD step; then eta and mu of every parameter that stepped move on."""
        for group, flat in zip(self.param_groups, self._flat):
            start = (float(flat.dtype.type(group["lr"])), 1.0)   # eta and mu of a new param
            if flat.uniform_step == 0:
                flat.set_scalars(start)
            elif flat.uniform_step is None:
                for i in np.flatnonzero(flat.step_counts() == 0):
                    flat.set_scalars(start, int(i))
        loss = super().step(closure)
        for group, flat in zip(self.param_groups, self._flat):
            if flat.grads_present == len(flat.params) and flat.uniform_step is not None:
                flat.set_scalars(self._next_scalars(group, flat, flat.uniform_step))
                continue
            for i, (param, count) in enumerate(zip(flat.params, flat.step_counts())):
                if param._grad is not None:
                    flat.set_scalars(self._next_scalars(group, flat, int(count)), i)
        return loss

    @staticmethod
    def _next_scalars(group: Mapping[str, Any], flat: FlatGroup, t: int) -> tuple[float, float]:
        """(eta, mu) after a parameter's step t, in Python floats as PyTorch computes
        them, then rounded to the parameters' dtype."""
        lr, lambd = float(group["lr"]), float(group["lambd"])
        eta = lr / ((1 + lambd * lr * t) ** float(group["alpha"]))
        mu = 1 / max(1, t - float(group["t0"]))
        return float(flat.dtype.type(eta)), float(flat.dtype.type(mu))
