"""Adagrad: per-coordinate step sizes from the sum of all past squared gradients."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import Optimizer, check_common, check_number


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan and Singer, 2011), PyTorch's ``torch.optim.Adagrad``.

    For each parameter p with gradient grad, at its step t = 1, 2, ...:

        g     = -grad if maximize else grad
        g     = g + weight_decay * p
        clr   = lr / (1 + (t - 1) * lr_decay)
        s     = s + g * g                         (s starts at initial_accumulator_value)
        p     = p - clr * g / (sqrt(s) + eps)

    A coordinate that has seen large gradients takes small steps from then on;
    since s only grows, the steps only shrink (RMSprop replaces the sum by a
    moving average). s is ``state["sum"]``. The update runs as
    ``minidl.kernels.<backend>.adagrad`` (see ``minidl.kernels.reference``).
    """

    _kernel_name = "adagrad"
    _state_names = ("sum",)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 maximize: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_common(group)
        check_number(group["lr_decay"], "Invalid lr_decay value")
        check_number(group["initial_accumulator_value"],
                     "Invalid initial_accumulator_value value")
        check_number(group["eps"], "Invalid eps value")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"sum": float(group["initial_accumulator_value"])}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        return (float(group["lr"]), float(group["lr_decay"]), float(group["weight_decay"]),
                float(group["eps"]), bool(group["maximize"]))
