"""MuonWithAuxAdamW: Muon on the weight matrices, AdamW on every other parameter."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np

from .. import kernels
from ..tensor import Tensor
from .adam import AdamW
from .flat import common_dtype
from .muon import NS_COEFFICIENTS, Muon
from .optimizer import Closure, Optimizer, check_flag, check_no_strays, checked_groups


class MuonWithAuxAdamW(Optimizer):
    """Muon for the 2-D weight matrices and AdamW for the rest, as one optimizer.

    Muon orthogonalises the update of a matrix, so it has nothing to say about
    a bias, a norm's gain or a convolution's 4-D filters; PyTorch's Muon
    refuses them and its documentation, like Keller Jordan's reference package
    (``muon.MuonWithAuxAdam``), hands them to AdamW. This class is that pair
    behind the interface of one optimizer (``fit``, the CLI, the estimators and
    the LR schedulers take it as any other):

        2-D params      minidl.optim.Muon(lr, momentum, weight_decay, nesterov, ...)
        all the others  minidl.optim.AdamW(adamw_lr, adamw_betas, adamw_eps, weight_decay)

    Each step is exactly a step of those two optimizers (see their docstrings
    for the math). ``params`` is an iterable of Tensors, split by ``p.ndim``,
    or of dicts, each with ``"use_muon": True`` or ``False`` as in the
    reference, so that an embedding or an output layer may go to AdamW too;
    a dict's other keys override that side's hyperparameters
    (``{"params": head, "use_muon": False, "lr": 1e-3}``).

    ``param_groups`` lists every group in order (Muon's keys and
    ``use_muon=True``, or AdamW's and ``use_muon=False``), each with its own
    ``lr``. A scheduler therefore moves each group's lr from that group's
    initial value: StepLR's gamma scales Muon's lr and AdamW's alike and keeps
    their ratio. ``state_dict()`` has PyTorch's layout over those groups (the
    params numbered across them in order), and loads only into a pair with
    the same groups.

    Defaults: those of the reference ``MuonWithAuxAdam`` (Muon lr 0.02,
    momentum 0.95; Adam lr 3e-4, betas (0.9, 0.95), eps 1e-10; no weight
    decay), with torch.optim.Muon's remaining options (Nesterov momentum,
    5 Newton-Schulz steps, ``adjust_lr_fn=None``: lr * sqrt(max(1, rows/cols))).
    torch.optim.Muon alone defaults to lr 1e-3 and weight_decay 0.1; the pair
    keeps the reference's numbers, the recipe this class reproduces. One
    ``weight_decay`` serves both sides, decoupled on each (p *= 1 - lr *
    weight_decay, with that side's lr); a group of its own may set another.
    A conv filter (4-D) goes to AdamW: the reference's Muon would flatten it.
    """

    _kernel_name = "muon or adam"   # each group's own (what a compiled step's plan says)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 0.02,
                 momentum: float = 0.95, weight_decay: float = 0.0, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: str | None = None,
                 adamw_lr: float = 3e-4, adamw_betas: tuple[float, float] = (0.9, 0.95),
                 adamw_eps: float = 1e-10, device: str = "auto"):
        self.defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                             nesterov=nesterov, ns_coefficients=ns_coefficients, eps=eps,
                             ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn, adamw_lr=adamw_lr,
                             adamw_betas=adamw_betas, adamw_eps=adamw_eps)
        self._options = {
            True: dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov,
                       ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                       adjust_lr_fn=adjust_lr_fn),
            False: dict(lr=adamw_lr, betas=adamw_betas, eps=adamw_eps,
                        weight_decay=weight_decay)}
        self.device = kernels.resolve(device)
        self._sides: dict[bool, Optimizer | None] = {True: None, False: None}
        self._order: list[tuple[bool, int]] = []    # (use_muon, index in that side's groups)
        groups = _split(params)
        self._check_groups(groups)
        for use_muon in (True, False):   # Muon first: it refuses params that are not 2-D
            mine = [group for group in groups if group["use_muon"] is use_muon]
            if mine:
                self._sides[use_muon] = _SIDES[use_muon](mine, **self._options[use_muon],
                                                         device=self.device)
        counts = {True: 0, False: 0}
        for group in groups:
            self._order.append((group["use_muon"], counts[group["use_muon"]]))
            counts[group["use_muon"]] += 1

    def _check_groups(self, groups: list[dict[str, Any]]) -> None:
        """Everything either side could refuse, before any param is bound: each
        side's hyperparameters (built once on a stand-in param of each group's
        dtype), each group's ``use_muon``, and params that are not leaves or appear
        twice (in one side or across the two, where neither side would see it)."""
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for group in groups:
            if "use_muon" not in group:
                raise ValueError("a param group of MuonWithAuxAdamW needs 'use_muon': True "
                                 "(Muon, 2-D params only) or False (AdamW)")
            check_flag(group["use_muon"], "use_muon")
            group["use_muon"] = bool(group["use_muon"])
            for param in group["params"]:
                if not isinstance(param, Tensor):
                    raise TypeError(f"optimizer can only optimize Tensors, "
                                    f"but one of the params is {type(param).__name__}")
                if not param.is_leaf:
                    raise ValueError("can't optimize a non-leaf Tensor")
                if id(param) in seen:
                    raise ValueError("some parameters appear more than once, in this param "
                                     "group or in two param groups; each parameter may "
                                     "appear only once")
                seen.add(id(param))
        for use_muon in (True, False):
            mine = [group for group in groups if group["use_muon"] is use_muon] or [{}]
            stand_ins = [{**group, "params": [_stand_in(group.get("params", []))]}
                         for group in mine]
            try:
                _SIDES[use_muon](stand_ins, **self._options[use_muon], device=self.device)
            except ValueError as error:
                raise ValueError(f"{_SIDE_NAMES[use_muon]}: {error}") from None

    # -- the optimizer interface, over the two sides -------------------------------
    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """Every group of both sides, in the order they were given."""
        return [self._sides[use_muon].param_groups[index] for use_muon, index in self._order]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group with ``"use_muon"`` (True: Muon, False: AdamW); the keys it
        leaves out take that side's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        group = _split([param_group])[0]
        self._check_groups([group])
        side = self._sides[group["use_muon"]]
        if side is None:
            side = _SIDES[group["use_muon"]]([group], **self._options[group["use_muon"]],
                                             device=self.device)
            self._sides[group["use_muon"]] = side
        else:
            side.add_param_group(group)
        self._order.append((group["use_muon"], len(side.param_groups) - 1))

    def step(self, closure: Closure | None = None) -> Any:
        """One step of Muon, then one of AdamW; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for side in self._present():
            side.step()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        for side in self._present():
            side.zero_grad(set_to_none)

    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        return {param: entry for side in self._present() for param, entry in side.state.items()}

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout over ``param_groups``: each side's state dict, its
        params renumbered across all groups in order."""
        inner = {use_muon: side.state_dict() for use_muon, side in self._sides.items()
                 if side is not None}
        state: dict[int, dict[str, Any]] = {}
        groups = []
        for use_muon, index in self._order:
            group = inner[use_muon]["param_groups"][index]
            start = sum(len(g["params"]) for g in groups)
            for offset, old in enumerate(group["params"]):
                if old in inner[use_muon]["state"]:
                    state[start + offset] = inner[use_muon]["state"][old]
            groups.append({**group, "params": list(range(start, start + len(group["params"])))})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a ``state_dict()`` of a pair with the same groups (the same
        ``use_muon`` in each); all or nothing, as every optimizer's."""
        saved_groups = checked_groups(state_dict, len(self._order))
        parts: dict[bool, dict[str, Any]] = {use_muon: {"state": {}, "param_groups": []}
                                             for use_muon, side in self._sides.items()
                                             if side is not None}
        for g, (saved, (use_muon, _)) in enumerate(zip(saved_groups, self._order)):
            flag = saved.get("use_muon")
            if not isinstance(flag, (bool, np.bool_)) or bool(flag) is not use_muon:
                raise ValueError(f"loaded parameter group {g} has use_muon="
                                 f"{flag!r}, this optimizer's has {use_muon}")
            part = parts[use_muon]
            for index in saved["params"]:   # kept as saved: the side renumbers nothing
                if index in state_dict["state"]:
                    part["state"][index] = state_dict["state"][index]
            part["param_groups"].append(saved)
        check_no_strays(saved_groups, state_dict["state"])
        before = {use_muon: self._sides[use_muon].state_dict() for use_muon in parts}
        loaded: list[bool] = []
        try:
            for use_muon, part in parts.items():
                self._sides[use_muon].load_state_dict(part)
                loaded.append(use_muon)
        except BaseException:
            for use_muon in loaded:   # the load refused: undo the side that took it
                self._sides[use_muon].load_state_dict(before[use_muon])
            raise

    def _present(self) -> list[Optimizer]:
        return [side for side in (self._sides[True], self._sides[False]) if side is not None]


_SIDES: dict[bool, Callable[..., Optimizer]] = {True: Muon, False: AdamW}
_SIDE_NAMES = {True: "Muon (the use_muon=True groups; lr, momentum, weight_decay, nesterov, "
                     "ns_coefficients, eps, ns_steps, adjust_lr_fn)",
               False: "AdamW (the use_muon=False groups; adamw_lr, adamw_betas, adamw_eps, "
                      "weight_decay)"}


def _split(params: Iterable[Tensor] | Iterable[dict]) -> list[dict[str, Any]]:
    """Param groups: dicts as given (copied), or Tensors split into a Muon group of
    the 2-D ones and an AdamW group of the rest (each left out when empty)."""
    if isinstance(params, Tensor) or not isinstance(params, Iterable):
        raise TypeError("params argument given to the optimizer should be an iterable "
                        f"of Tensors or dicts, but got {type(params).__name__}")
    items = list(params)
    if not items:
        raise ValueError("optimizer got an empty parameter list")
    if isinstance(items[0], dict):
        return [{**group, "params": _as_list(group.get("params"))} for group in items]
    matrices = [p for p in items if getattr(p, "ndim", None) == 2]
    others = [p for p in items if getattr(p, "ndim", None) != 2]
    return [group for group in ({"params": matrices, "use_muon": True},
                                {"params": others, "use_muon": False}) if group["params"]]


def _as_list(params: Any) -> list[Any]:
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, (set, frozenset)) or params is None:
        raise TypeError("a param group's 'params' must be an ordered collection of "
                        f"Tensors, got {type(params).__name__}")
    return list(params)


def _stand_in(params: list[Tensor]) -> Tensor:
    """A 1x1 zero param of the group's dtype: building a side on it checks that
    side's hyperparameters (and their range in that dtype) without binding anything."""
    return Tensor(np.zeros((1, 1), common_dtype(params)), requires_grad=True)
