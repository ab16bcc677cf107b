"""Lion: the sign of an interpolated momentum, with no second moment at all."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import NoStepInState, Optimizer, check_flag, check_number


def check_lion_betas(betas: Any) -> None:
    """ValueError unless ``betas`` is a pair of numbers in [0, 1], lion-pytorch's range."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas value: {betas!r} (expected a pair (beta1, beta2))")
    for index, beta in enumerate(betas):
        check_number(beta, f"Invalid beta parameter at index {index}", high=1.0)


class Lion(NoStepInState, Optimizer):
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"),
    the update of its authors' package ``lion-pytorch``.

    RMSprop divides the gradient by its RMS so that every coordinate moves by
    about lr; Lion takes that to the limit: each coordinate moves by exactly lr,
    in the direction of the sign of a momentum interpolated with the gradient:

        p = p * (1 - lr * weight_decay)                       (decoupled decay)
        p = p - lr * sign(beta1 * m + (1 - beta1) * g)
        m = beta2 * m + (1 - beta2) * g                       (exp_avg)

    One state buffer (``exp_avg``, Adam has two) and no step count. With
    ``decoupled_weight_decay=True`` the decay is ``weight_decay / lr0``, lr0 the
    lr given to the constructor, as in the package. Since every step has the
    size lr, Lion wants an lr 3-10x smaller than AdamW's (default 1e-4).

    Differences from lion-pytorch: bad hyperparameters raise ValueError naming
    the value (the package asserts ``lr > 0`` and betas in [0, 1]); there is
    no ``use_triton`` (the update is a ``minidl.kernels`` kernel: rule
    ``rules.lion``). State per parameter: ``exp_avg``, as the package's.
    """

    _kernel_name = "lion"
    _state_names = ("exp_avg",)
    _first_buffer = "exp_avg"
    _takes_step = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Invalid learning rate")
        if group["lr"] == 0:
            raise ValueError("Invalid learning rate: 0 (Lion needs lr > 0)")
        check_lion_betas(group["betas"])
        check_number(group["weight_decay"], "Invalid weight_decay value")
        check_flag(group["decoupled_weight_decay"], "decoupled_weight_decay")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"exp_avg": 0.0}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        beta1, beta2 = group["betas"]
        weight_decay = float(group["weight_decay"])
        if group["decoupled_weight_decay"]:
            weight_decay /= float(self.defaults["lr"])
        return float(group["lr"]), float(beta1), float(beta2), weight_decay
