"""Adam, AMSGrad and AdamW: momentum plus RMSprop's scaling, bias corrected."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import Optimizer, check_common, check_flag, check_number


def check_betas(betas: Any) -> None:
    """ValueError unless ``betas`` is a pair of numbers in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas value: {betas!r} (expected a pair (beta1, beta2))")
    for index, beta in enumerate(betas):
        check_number(beta, f"Invalid beta parameter at index {index}", high=1.0, high_open=True)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), PyTorch's ``torch.optim.Adam``.

    For each parameter p with gradient grad, at its step t = 1, 2, ...:

        g     = -grad if maximize else grad
        g     = g + weight_decay * p                  (Adam: an L2 penalty in g)
        m     = beta1 * m + (1 - beta1) * g           (exp_avg: momentum)
        v     = beta2 * v + (1 - beta2) * g * g       (exp_avg_sq: RMSprop's mean square)
        if amsgrad:  vmax = max(vmax, v), used below in place of v
        m_hat = m / (1 - beta1 ** t),   v_hat = v / (1 - beta2 ** t)
        p     = p - lr * m_hat / (sqrt(v_hat) + eps)

    m and v start at 0, so early on they are biased towards 0; the divisions
    by 1 - beta ** t undo that. The update runs as
    ``minidl.kernels.<backend>.adam`` (see ``minidl.kernels.reference.adam``
    for the exact operation order, which is PyTorch's).
    """

    _kernel_name = "adam"
    _state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled_weight_decay = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False,
                 device: str = "auto"):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_common(group)
        check_number(group["eps"], "Invalid eps value")
        check_betas(group["betas"])
        check_flag(group["amsgrad"], "amsgrad")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        init = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
        return {**init, "max_exp_avg_sq": 0.0} if group["amsgrad"] else init

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        beta1, beta2 = group["betas"]
        return (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                float(group["weight_decay"]), self._decoupled_weight_decay,
                bool(group["amsgrad"]), bool(group["maximize"]))


class AdamW(Adam):
    """AdamW (Loshchilov and Hutter, 2019), PyTorch's ``torch.optim.AdamW``.

    Adam with the weight decay taken out of the gradient and applied to the
    parameter directly ("decoupled"), before the Adam step:

        p = p * (1 - lr * weight_decay)
        ... then Adam's update with g = -grad if maximize else grad

    In Adam, ``weight_decay * p`` enters m and v and so gets rescaled by
    1 / sqrt(v_hat): heavily-updated coordinates are barely decayed. AdamW
    decays every coordinate by the same factor.
    """

    _decoupled_weight_decay = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False,
                 device: str = "auto"):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, device=device)
