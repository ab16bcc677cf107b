"""Adadelta: RMSprop whose steps carry the units of the parameters."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import Optimizer, check_common, check_number


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), PyTorch's ``torch.optim.Adadelta``.

    RMSprop's step ``lr * g / RMS(g)`` has no units: whatever the units of p,
    it is lr times a pure number. Adadelta multiplies it by the RMS of the
    past *updates* instead of a learning rate, so the step has the units of p
    and (with lr = 1) no learning rate needs tuning:

        g     = -grad if maximize else grad
        g     = g + weight_decay * p
        v     = rho * v + (1 - rho) * g * g                   (square_avg)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u     = rho * u + (1 - rho) * delta * delta           (acc_delta)
        p     = p - lr * delta

    u starts at 0, so the first steps are about sqrt(eps) / RMS(g) * g: small,
    growing as u accumulates. State per parameter: ``step``, ``square_avg``,
    ``acc_delta``. The update runs as ``minidl.kernels.<backend>.adadelta``
    (rule: ``minidl.kernels.rules.adadelta``).
    """

    _kernel_name = "adadelta"
    _state_names = ("square_avg", "acc_delta")
    _takes_step = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1.0,
                 rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 maximize: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_common(group)
        check_number(group["rho"], "Invalid rho value", high=1.0)
        check_number(group["eps"], "Invalid epsilon value")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"square_avg": 0.0, "acc_delta": 0.0}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        return (float(group["lr"]), float(group["rho"]), float(group["eps"]),
                float(group["weight_decay"]), bool(group["maximize"]))
