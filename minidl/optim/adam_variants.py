"""Adamax, NAdam and RAdam: Adam with another norm, Nesterov momentum, or a warm-up."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .adam import check_betas
from .optimizer import Optimizer, check_common, check_flag, check_number


class _AdamFamily(Optimizer):
    """The checks and state these three share with Adam: betas, eps, exp_avg."""

    _second_moment = "exp_avg_sq"

    def _check(self, group: Mapping[str, Any]) -> None:
        check_common(group)
        check_number(group["eps"], "Invalid epsilon value")
        check_betas(group["betas"])
        if "decoupled_weight_decay" in group:
            check_flag(group["decoupled_weight_decay"], "decoupled_weight_decay")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"exp_avg": 0.0, self._second_moment: 0.0}


class Adamax(_AdamFamily):
    """Adamax (Kingma and Ba, 2015, section 7.1), PyTorch's ``torch.optim.Adamax``.

    Adam's second moment is an average of g^2 (an L2 norm over time); Adamax
    takes the limit of the Lp norm as p -> inf, an exponentially weighted
    maximum of |g|, which needs no bias correction:

        g = -grad if maximize else grad
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g                       (exp_avg)
        u = max(beta2 * u, |g| + eps)                         (exp_inf)
        p = p - lr / (1 - beta1^t) * (m / u)

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``. The update runs as
    ``minidl.kernels.<backend>.adamax`` (rule: ``minidl.kernels.rules.adamax``).
    """

    _kernel_name = "adamax"
    _state_names = ("exp_avg", "exp_inf")
    _second_moment = "exp_inf"

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, maximize: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults, device)

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        beta1, beta2 = group["betas"]
        return (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), bool(group["maximize"]))


class NAdam(_AdamFamily):
    """NAdam (Dozat, 2016), PyTorch's ``torch.optim.NAdam``: Adam with Nesterov momentum.

    Nesterov's idea: step with the momentum you are *about to* have, not the
    one you had. With Dozat's momentum schedule
    mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)), which warms up
    towards beta1, and P_t = mu_1 * ... * mu_t:

        p = p * (1 - lr * weight_decay)                       (decoupled_weight_decay)
        g = ±grad + weight_decay * p                          (otherwise)
        m = beta1 * m + (1 - beta1) * g                       (exp_avg)
        v = beta2 * v + (1 - beta2) * g * g                   (exp_avg_sq)
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / denom
        p = p - lr * mu_{t+1} / (1 - P_{t+1}) * m / denom

    State per parameter, as PyTorch's: ``step``, ``mu_product`` (P_t),
    ``exp_avg``, ``exp_avg_sq``. minidl computes P_t from the step and the
    group's beta1 and momentum_decay (in float64; PyTorch keeps a float32
    scalar unless its default dtype is float64) rather than storing it: a
    loaded ``mu_product`` is ignored, and changing beta1 or momentum_decay
    mid-run recomputes the product as if they had always had their new values
    (PyTorch keeps the old factors). The update runs as
    ``minidl.kernels.<backend>.nadam`` (rule: ``minidl.kernels.rules.nadam``).
    """

    _kernel_name = "nadam"
    _state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, maximize: bool = False,
                 device: str = "auto"):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        super()._check(group)
        check_number(group["momentum_decay"], "Invalid momentum_decay value")

    def _state_out(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        from ..kernels.rules import nadam_mu_product   # here: rules.py loads numba

        beta1 = float(group["betas"][0])
        mu_product = nadam_mu_product(beta1, float(group["momentum_decay"]), entry["step"])
        return {"step": entry["step"], "mu_product": mu_product,
                **{key: value for key, value in entry.items() if key != "step"}}

    def _state_in(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        entry.pop("mu_product", None)
        return entry

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        beta1, beta2 = group["betas"]
        return (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), float(group["momentum_decay"]),
                bool(group["decoupled_weight_decay"]), bool(group["maximize"]))


class RAdam(_AdamFamily):
    """RAdam (Liu et al., 2020), PyTorch's ``torch.optim.RAdam``: Adam with a built-in warm-up.

    In its first steps Adam divides by a second-moment estimate made from a
    handful of gradients, whose variance is large, so the first steps are
    erratic (hence the usual lr warm-up). RAdam measures how many steps the
    estimate effectively averages (rho_t, approaching rho_inf) and, until that
    exceeds 5, takes plain momentum steps; after, Adam's step times a
    rectification r_t < 1 that shrinks it while the estimate is still noisy:

        p = p * (1 - lr * weight_decay)                       (decoupled_weight_decay)
        g = ±grad + weight_decay * p                          (otherwise)
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        m_hat = m / (1 - beta1^t)
        p = p - m_hat * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t   if rho_t > 5
        p = p - m_hat * lr                                                 otherwise
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    With beta2 = 0.999 the first 5 steps are momentum steps. State per
    parameter: ``step``, ``exp_avg``, ``exp_avg_sq``. The update runs as
    ``minidl.kernels.<backend>.radam`` (rule: ``minidl.kernels.rules.radam``).
    """

    _kernel_name = "radam"
    _state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False,
                 maximize: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults, device)

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        beta1, beta2 = group["betas"]
        return (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), bool(group["decoupled_weight_decay"]),
                bool(group["maximize"]))
