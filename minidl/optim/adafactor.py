"""Adafactor: RMSprop's second moment, factored into row and column statistics."""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_flag, check_number


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018), PyTorch's ``torch.optim.Adafactor``.

    The idea. RMSprop keeps v, an average of g^2, as large as the parameter:
    for an (n, m) weight matrix n * m more numbers. Adafactor keeps only the
    row means R (n numbers) and the column means C (m numbers) of that
    average, and rebuilds each coordinate's estimate as a rank-1 outer product,
    V_ij = R_i C_j / mean(R): O(n + m) state per matrix instead of O(nm).
    Vectors (biases) keep a full v, as RMSprop. With step t and
    beta2_t = 1 - t^beta2_decay (so the average grows longer as training goes):

        g     = -grad if maximize else grad
        alpha = max(eps2, RMS(p)) * min(lr, 1 / sqrt(t))     (a relative step size)
        p     = p * (1 - lr * weight_decay)
        matrix: R = beta2_t R + (1 - beta2_t) mean_j g^2      (row_var, shape (..., n, 1))
                C = beta2_t C + (1 - beta2_t) mean_i g^2      (col_var, shape (..., 1, m))
                V = R C / max(mean_i R, eps1)
        vector: V = beta2_t V + (1 - beta2_t) g^2             (variance)
        U     = g / sqrt(max(V, eps1^2))
        p     = p - alpha / max(1, RMS(U) / d) * U           (the update clipped at RMS d)

    A param of more than two axes is a stack of matrices over its last two.
    eps is ``(eps1, eps2)``; eps1 None is the dtype's machine epsilon. lr
    bounds the relative step size and scales the decoupled weight decay
    (PyTorch's choice; the paper has no lr). State per parameter, as PyTorch's:
    ``step`` and ``row_var`` and ``col_var`` (matrices) or ``variance``.

    The update is ``minidl.kernels.<backend>.adafactor``, one call per group:
    on the cpu one njit loop over the group's params (each param's reductions
    inside its turn), on cuda one launch with a block per param (its reductions
    inside the block), both with the elementwise math of
    ``rules.adafactor_scaled`` and ``rules.decayed_step``; in ``reference``
    numpy.
    """

    _kernel_name = "adafactor"
    _state_names = ("row_var", "col_var", "variance")
    _shaped = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 beta2_decay: float = -0.8, eps: tuple[float | None, float] = (None, 1e-3),
                 d: float = 1.0, weight_decay: float = 0.0, *, maximize: bool = False,
                 device: str = "auto"):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Learning rate should be >= 0 but is")
        check_number(group["beta2_decay"], "beta2_decay should be <= 0 but is",
                     low=-float("inf"), high=0.0)
        eps = group["eps"]
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ValueError(f"Invalid eps value: {eps!r} (expected a pair (eps1, eps2), "
                             f"eps1 None or a number)")
        if eps[0] is not None:
            check_number(eps[0], "epsilon1 should be >= 0 but is")
        check_number(eps[1], "epsilon2 should be >= 0 but is")
        check_number(group["d"], "Clipping threshold d should be >= 1 but is", low=1.0)
        check_number(group["weight_decay"], "weight_decay should be >= 0 but is")
        check_flag(group["maximize"], "maximize")

    def _state_shapes(self, param: Tensor) -> dict[str, tuple[int, ...] | None]:
        shape = param.shape
        if param.ndim > 1:
            return {"row_var": (*shape[:-1], 1), "col_var": (*shape[:-2], 1, shape[-1]),
                    "variance": None}
        return {"row_var": None, "col_var": None}

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"row_var": 0.0, "col_var": 0.0, "variance": 0.0}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        eps1, eps2 = group["eps"]
        return (float(group["lr"]), float(group["beta2_decay"]),
                None if eps1 is None else float(eps1), float(eps2), float(group["d"]),
                float(group["weight_decay"]), bool(group["maximize"]))

    def effective_lr(self, group: Mapping[str, Any], state: Mapping[str, Any],
                     param: Tensor) -> np.ndarray:
        """The factor on each coordinate's g (for ``minidl.monitor.OptimizerStats``):
        alpha / sqrt(max(V, eps1^2)), leaving out the clipping by max(1, RMS(U) / d)."""
        p = np.asarray(param._data, np.float64)
        eps1, eps2 = group["eps"]
        eps1 = np.finfo(param.dtype).eps if eps1 is None else eps1
        rms = math.sqrt(float(np.mean(p * p))) if p.size else 0.0
        alpha = max(eps2, rms) * min(group["lr"], 1 / math.sqrt(state["step"]))
        if "variance" in state:
            estimate = np.asarray(state["variance"], np.float64)
        else:
            rows = np.asarray(state["row_var"], np.float64)
            estimate = rows * state["col_var"] / np.maximum(rows.mean(axis=-2, keepdims=True),
                                                             eps1)
        return alpha / np.sqrt(np.maximum(estimate, eps1 * eps1))
