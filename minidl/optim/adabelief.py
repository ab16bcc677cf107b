"""AdaBelief: RMSprop's g**2 replaced by (g - m)**2, the belief in the gradient."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .adam import check_betas
from .optimizer import Optimizer, check_flag, check_number

FLAGS = ("amsgrad", "weight_decouple", "fixed_decay", "rectify", "degenerated_to_sgd")


class AdaBelief(Optimizer):
    """AdaBelief (Zhuang et al., NeurIPS 2020), the update of its authors'
    package ``adabelief-pytorch`` (0.2).

    Adam divides the momentum m by the RMS of the gradients. AdaBelief divides
    by the RMS of the gradients' deviation from m, its "belief": where the
    gradients agree with their average the denominator is small and the step
    large; where they are noisy the step is small.

        p = p * (1 - lr * weight_decay)       (weight_decouple; 1 - weight_decay
                                               with fixed_decay)
        g = grad + weight_decay * p           (otherwise)
        m = beta1 * m + (1 - beta1) * g                           (exp_avg)
        s = beta2 * s + (1 - beta2) * (g - m)^2 + eps             (exp_avg_var)
        rectify=False:  p = p - lr / (1 - beta1^t) * m / (sqrt(s / (1 - beta2^t)) + eps)
        rectify=True:   RAdam's rectified step once N_sma >= 5, before it an SGD
                        step p = p - lr / (1 - beta1^t) * m (degenerated_to_sgd)
                        or no step

    The package's defaults differ from Adam's and minidl keeps them: eps=1e-16
    (added twice: into s, where it is stored, and to the denominator),
    ``weight_decouple=True`` and ``rectify=True``. With amsgrad the
    unrectified step divides by max(s) (``max_exp_avg_var``), the rectified
    one, as in the package, by s. The package prints a change log of its
    defaults and the options it enabled when built; minidl prints nothing
    (``print_change_log`` is accepted and has no effect). Its options are
    param-group entries here (the package keeps the flags on the optimizer).

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_var`` and, with
    amsgrad, ``max_exp_avg_var``. The update runs as
    ``minidl.kernels.<backend>.adabelief`` (rule: ``rules.adabelief``).
    """

    _kernel_name = "adabelief"
    _state_names = ("exp_avg", "exp_avg_var", "max_exp_avg_var")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-16,
                 weight_decay: float = 0, amsgrad: bool = False, weight_decouple: bool = True,
                 fixed_decay: bool = False, rectify: bool = True,
                 degenerated_to_sgd: bool = True, print_change_log: bool = True,
                 device: str = "auto"):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, weight_decouple=weight_decouple,
                        fixed_decay=fixed_decay, rectify=rectify,
                        degenerated_to_sgd=degenerated_to_sgd)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Invalid learning rate")
        check_number(group["eps"], "Invalid epsilon value")
        check_betas(group["betas"])
        check_number(group["weight_decay"], "Invalid weight_decay value")
        for flag in FLAGS:
            check_flag(group[flag], flag)

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        buffers = {"exp_avg": 0.0, "exp_avg_var": 0.0}
        return {**buffers, "max_exp_avg_var": 0.0} if group["amsgrad"] else buffers

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """``Optimizer.load_state_dict``; a group's ``buffer`` (the package's cache of
        the rectification per step) is dropped, so the package's state dicts load."""
        if isinstance(state_dict, Mapping) and "param_groups" in state_dict:
            groups = [{key: value for key, value in group.items() if key != "buffer"}
                      for group in state_dict["param_groups"]]
            state_dict = {**state_dict, "param_groups": groups}
        super().load_state_dict(state_dict)

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        beta1, beta2 = group["betas"]
        return (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), *(bool(group[flag]) for flag in FLAGS))
