"""Muon: momentum orthogonalised by a Newton-Schulz iteration, per weight matrix."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import Optimizer, check_flag, check_number

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
ADJUST_LR_FNS = {None: 0, "original": 0, "match_rms_adamw": 1}


class Muon(Optimizer):
    """Muon (Jordan et al., 2024), PyTorch's ``torch.optim.Muon``, for 2-D params.

    The idea. The momentum B of a weight matrix is dominated by a few large
    singular directions; Muon replaces it by the nearest semi-orthogonal
    matrix (every singular value about 1), so each step moves all directions
    of the matrix alike, the small ones too. A quintic Newton-Schulz
    iteration gets there with matrix products only, no SVD:

        B = momentum * B + (1 - momentum) * g              (momentum_buffer, a lerp)
        U = g + momentum * (B - g)  if nesterov else B
        X = U / max(||U||_F, eps)      (transposed while tall, so X X^T is the small Gram)
        repeat ns_steps times:  A = X X^T;  X = a X + (b A + c A A) X
        p = p * (1 - lr * weight_decay) - lr' * X

    with lr' = lr * sqrt(max(1, rows / cols)) ("original", the default) or
    lr * 0.2 * sqrt(max(rows, cols)) ("match_rms_adamw", Moonshot's: AdamW's lr
    and weight decay carry over). Muon is for the hidden layers' matrices: as
    PyTorch, it refuses a param that is not 2-D (``ValueError``); give biases,
    embeddings and the last layer to AdamW.

    Differences from PyTorch: PyTorch runs the iteration in bfloat16, minidl
    in the params' dtype (float32 or float64), so its steps are PyTorch's to
    bfloat16's rounding (about 3 digits), not to the last bit. State per
    parameter, as PyTorch's: ``momentum_buffer`` only (no ``step``).

    The update is ``minidl.kernels.<backend>.muon``: the momentum of the whole
    group in one call (``rules.muon_momentum``: an njit loop on the cpu, one
    launch on cuda), then per matrix the iteration's matmuls: numpy's BLAS on
    the cpu, a plain GEMM kernel on cuda (a thread per element of the result),
    and the step (``rules.decayed_step``).
    """

    _kernel_name = "muon"
    _state_names = ("momentum_buffer",)
    _shaped = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 weight_decay: float = 0.1, momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None,
                 device: str = "auto"):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                        nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
                        ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults, device)

    def _checked_group(self, param_group: dict[str, Any], pending: list[dict[str, Any]]
                       ) -> dict[str, Any]:
        """The base class's checks, and PyTorch's refusal of params that are not 2-D
        (in the constructor and in ``add_param_group`` alike)."""
        group = super()._checked_group(param_group, pending)
        for param in group["params"]:
            if param.ndim != 2:
                raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                 f"parameter with size: {param.shape}")
        return group

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Learning rate should be >= 0 but is")
        check_number(group["momentum"], "momentum should be >= 0 but is")
        check_number(group["weight_decay"], "weight decay should be >= 0 but is")
        check_number(group["eps"], "Invalid eps value")
        check_flag(group["nesterov"], "nesterov")
        if group["adjust_lr_fn"] not in ADJUST_LR_FNS:
            raise ValueError(f"Adjust learning rate function {group['adjust_lr_fn']} "
                             f"is not supported")
        steps = group["ns_steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"Invalid ns_steps value: {steps!r} (expected an int >= 0)")
        if steps >= 100:
            raise ValueError("Number of steps must be less than 100 for computational "
                             "efficiency")
        coefficients = group["ns_coefficients"]
        if not isinstance(coefficients, (tuple, list)) or len(coefficients) != 3:
            raise ValueError("Coefficients must be a tuple of exactly 3 values")
        for value in coefficients:
            check_number(value, "Invalid ns_coefficients value", low=-float("inf"))

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"momentum_buffer": 0.0}

    def _state_out(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in entry.items() if key != "step"}

    def _state_in(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        """PyTorch's entry has no step: a param with a momentum buffer has stepped."""
        return {"step": 1, **entry}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        a, b, c = group["ns_coefficients"]
        return (float(group["lr"]), float(group["weight_decay"]), float(group["momentum"]),
                bool(group["nesterov"]), float(a), float(b), float(c), float(group["eps"]),
                int(group["ns_steps"]), ADJUST_LR_FNS[group["adjust_lr_fn"]])
