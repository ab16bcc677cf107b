"""Rprop: steps of a size of their own per coordinate, in the direction of the gradient's sign."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import Optimizer, check_flag, check_number


class Rprop(Optimizer):
    """Rprop (Riedmiller and Braun, 1993), PyTorch's ``torch.optim.Rprop``.

    Rprop ignores the gradient's size and uses only its sign. Each coordinate
    keeps a step size of its own, which grows by ``etaplus`` while the gradient
    keeps its sign (the step is going the right way: go faster) and shrinks by
    ``etaminus`` when the sign flips (the last step jumped over a minimum):

        g = -grad if maximize else grad
        at t = 1:  prev = 0,  step_size = lr
        if g * prev > 0:  step_size = step_size * etaplus
        if g * prev < 0:  step_size = step_size * etaminus, and g = 0 (no move now)
        step_size = clamp(step_size, step_size_min, step_size_max)
        p    = p - sign(g) * step_size
        prev = g

    Made for full-batch training: on mini-batches the sign flips from batch to
    batch by noise alone, so the step sizes collapse. RMSprop was introduced
    as the mini-batch version of this idea: divide the gradient by a running
    RMS of its size, which keeps "sign times a step size" on average without
    trusting a single batch. ``lr`` only sets the initial step size (changing
    it later has no effect, as in PyTorch). State per parameter: ``step``,
    ``prev``, ``step_size``. No weight_decay, as in PyTorch. The update runs
    as ``minidl.kernels.<backend>.rprop`` (rule: ``minidl.kernels.rules.rprop``).
    """

    _kernel_name = "rprop"
    _state_names = ("prev", "step_size")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), maximize: bool = False,
                 device: str = "auto"):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Invalid learning rate")
        check_flag(group["maximize"], "maximize")
        etas, sizes = group["etas"], group["step_sizes"]
        for name, pair in (("eta", etas), ("step_sizes", sizes)):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"Invalid {name} values: {pair!r} (expected a pair)")
            for value in pair:
                check_number(value, f"Invalid {name} values")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]} (expected "
                             f"0 < etaminus < 1 < etaplus)")
        if sizes[0] > sizes[1]:
            raise ValueError(f"Invalid step_sizes values: {sizes[0]}, {sizes[1]} (expected "
                             f"step_size_min <= step_size_max)")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {"prev": 0.0, "step_size": 0.0}   # the kernel sets step_size = lr at t = 1

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        etaminus, etaplus = group["etas"]
        size_min, size_max = group["step_sizes"]
        return (float(group["lr"]), float(etaminus), float(etaplus), float(size_min),
                float(size_max), bool(group["maximize"]))
