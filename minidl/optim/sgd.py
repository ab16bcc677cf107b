"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import NoStepInState, Optimizer, check_common, check_flag, check_number


class SGD(NoStepInState, Optimizer):
    """Stochastic gradient descent, PyTorch's ``torch.optim.SGD``.

    For each parameter p with gradient grad, at its step t = 1, 2, ...:

        g   = -grad if maximize else grad
        g   = g + weight_decay * p                          (L2 penalty)
        if momentum != 0:
            b = g                                           at t = 1
            b = momentum * b + (1 - dampening) * g          for t > 1
            g = g + momentum * b   if nesterov   else   g = b
        p   = p - lr * g

    The buffer b is ``state["momentum_buffer"]``, the only state, as in
    PyTorch (no ``"step"``; with momentum 0 a param has no state at all). The
    update runs as ``minidl.kernels.<backend>.sgd`` (see
    ``minidl.kernels.reference.sgd``). The flat group counts steps internally,
    to start b at t = 1; a loaded state with a ``momentum_buffer`` counts as
    past t = 1, one without as before it, which is PyTorch's "is there a
    buffer yet". Known difference: momentum switched on mid-run
    (``group["momentum"]`` set after some steps) starts from b = 0, i.e.
    b = (1 - dampening) * g, where PyTorch starts from b = g: the two agree
    unless dampening != 0.
    """

    _kernel_name = "sgd"
    _state_names = ("momentum_buffer",)
    _first_buffer = "momentum_buffer"

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, maximize: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_common(group)
        check_number(group["momentum"], "Invalid momentum value")
        check_number(group["dampening"], "Invalid dampening value", high=1.0)
        check_flag(group["nesterov"], "nesterov")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Invalid nesterov value: True: Nesterov momentum requires "
                             f"momentum > 0 and dampening = 0, got momentum="
                             f"{group['momentum']!r} and dampening={group['dampening']!r}")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"momentum_buffer": 0.0} if group["momentum"] != 0 else {}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        return (float(group["lr"]), float(group["momentum"]), float(group["dampening"]),
                float(group["weight_decay"]), bool(group["nesterov"]), bool(group["maximize"]))
