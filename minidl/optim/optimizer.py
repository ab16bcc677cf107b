"""The Optimizer base class: param groups, step, zero_grad, state_dict.

The interface is PyTorch's ``torch.optim.Optimizer``; the machinery is not.
Each param group becomes a ``FlatGroup`` (see ``flat.py``): its parameters
and every state quantity live in flat buffers, and ``step()`` calls the update
kernel of the chosen backend (``minidl.kernels``: reference, cpu or cuda) once
per group. A subclass says which kernel, which state buffers, and how a
group's hyperparameters become the kernel's scalar arguments:

    _kernel_name                   "rmsprop"
    _state_names                   the kernel's state buffers, in argument order
    _takes_step                    whether the kernel's last argument is the step
    _scalar_names                  per-parameter scalars passed after it (ASGD's eta, mu)
    _check(group)                  ValueError for an invalid hyperparameter
    _state_init(group)             {buffer these hyperparameters use: initial value}
    _scalars(group)                the kernel's scalar arguments, as floats and bools

An update that needs each parameter's shape (Adafactor, Muon) sets
``_shaped = True``: its kernel is called through ``FlatGroup.step_shaped``
with the group's table of shapes and per-parameter steps, and
``_state_shapes(param)`` gives the shapes of its state where they are not the
param's. An optimizer without a cuda kernel (LBFGS) sets ``_host_only``:
``"auto"`` runs it on the cpu, and ``device="cuda"`` is refused.

The kernel arguments are cached per group and rebuilt (and re-validated) only
when a hyperparameter in ``param_groups`` changed, so setting
``group["lr"]`` takes effect at the next step, costs one comparison per step
while it does not change, and never recompiles a kernel: the scalars always
reach numba as a float64 or a bool.

State buffers are allocated when the optimizer is built (PyTorch allocates
them at the first step); ``state`` and ``state_dict()`` list a parameter only
once it has taken a step, as PyTorch does.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from .. import kernels
from ..tensor import Tensor
from .flat import FlatGroup, common_dtype
from .optimizer_hooks import OptimizerHooks

Closure = Callable[[], Any]


class Optimizer(OptimizerHooks):
    """Base class: ``Optimizer(params, defaults, device="auto")``.

    ``params`` is an iterable of Tensors, or of dicts (param groups) holding
    ``"params"`` and any hyperparameters that override ``defaults`` for that
    group. ``device`` picks the kernel backend (``minidl.kernels.resolve``):
    ``"auto"`` is ``$MINIDL_DEVICE`` when set, else cuda when usable, else cpu.

    Building an optimizer moves each param's ``.data`` and ``.grad`` into views
    of its flat buffers; assigning ``p.data = x`` or ``p.grad = g`` later copies
    into those views, and in-place ops (``p.data.zero_()``, ``p.grad.mul_(2)``)
    write into them. See ``flat.py``.

    Step and state-dict hooks: ``optimizer_hooks.py``.
    """

    _kernel_name: str
    _state_names: tuple[str, ...]
    _takes_step: bool = True
    _shaped: bool = False
    _host_only: bool = False
    _scalar_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any],
                 device: str = "auto"):
        self._check(defaults)
        self.defaults = dict(defaults)
        self._hyper = operator.itemgetter(*defaults)   # group -> tuple of its hyperparameters
        self.device = kernels.resolve(device)
        if self._host_only and self.device == "cuda":
            if device == "cuda":
                raise ValueError(f"Invalid device: 'cuda': {type(self).__name__} has no cuda "
                                 f"kernel in minidl; use device='cpu' (or 'auto', which "
                                 f"runs it on the cpu)")
            self.device = "cpu"
        self._backend = kernels.load(self.device)
        self._kernel = getattr(self._backend, self._kernel_name) if self._kernel_name else None
        self.param_groups: list[dict[str, Any]] = []
        self._flat: list[FlatGroup] = []
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            raise TypeError("params argument given to the optimizer should be an iterable "
                            f"of Tensors or dicts, but got {type(params).__name__}: "
                            f"{_short_repr(params)}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        checked: list[dict[str, Any]] = []
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            checked.append(self._checked_group(group, checked))
        for group in checked:   # every group is valid: only now bind the params
            self._bind_group(group)

    # -- subclass hooks ---------------------------------------------------------
    def _check(self, group: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        raise NotImplementedError

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        raise NotImplementedError

    def _state_shapes(self, param: Tensor) -> dict[str, tuple[int, ...] | None]:
        """The shape of ``param``'s piece of each state buffer whose shape is not
        the param's (None: none for this param); see ``flat.Layout``."""
        return {}

    def _state_out(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        """A param's state as ``state`` and ``state_dict()`` show it, in PyTorch's
        keys (a subclass adds or hides entries; an empty result is not listed)."""
        return entry

    def _state_in(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        """A loaded state entry (PyTorch's keys) as the flat buffers keep it."""
        return entry

    # -- param groups -------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; hyperparameters it leaves out take the defaults.

        Everything is checked before any parameter is bound: a refused group
        leaves its parameters with the optimizer that held them.
        """
        self._bind_group(self._checked_group(param_group, []))

    def _checked_group(self, param_group: dict[str, Any], pending: list[dict[str, Any]]
                       ) -> dict[str, Any]:
        """``param_group`` completed with the defaults and fully validated (params,
        hyperparameters, their kernel arguments in the params' dtype);
        ``pending`` are groups checked but not bound yet. Changes nothing."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)) or params is None:
            raise TypeError("a param group's 'params' must be an ordered collection of "
                            f"Tensors, got {type(params).__name__}")
        params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, "
                                f"but one of the params is {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        seen = {id(p) for group in (*self.param_groups, *pending) for p in group["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError("some parameters appear more than once, in this param group "
                             "or in two param groups; each parameter may appear only once")
        group = {**self.defaults, **param_group, "params": params}
        self._check(group)
        check_representable(group, common_dtype(params))
        self._state_init(group), self._scalars(group)   # what _configure will ask
        return group

    def _bind_group(self, group: dict[str, Any]) -> None:
        """Move a checked group's params into flat buffers of this optimizer."""
        flat = FlatGroup(group["params"], self._backend, self._state_names, self._takes_step,
                         self._state_shapes, self._scalar_names)
        self._configure(group, flat)
        self.param_groups.append(group)
        self._flat.append(flat)

    def _configure(self, group: Mapping[str, Any], flat: FlatGroup) -> None:
        """Validate a group's hyperparameters and cache its kernel arguments.

        The cache is keyed by a snapshot of the hyperparameters; lists in it are
        copies, so that an in-place edit of ``group["betas"]`` shows up as a change.
        """
        self._check(group)
        check_representable(group, flat.dtype)
        snapshot = tuple(list(v) if isinstance(v, list) else v for v in self._hyper(group))
        flat.configure(snapshot, self._state_init(group), self._scalars(group))

    # -- the update ---------------------------------------------------------------
    def step(self, closure: Closure | None = None) -> Any:
        """Update every parameter that has a grad; returns ``closure()`` if given.

        ``closure`` re-evaluates the model and returns the loss (it should zero
        the grads and call ``backward``), as in PyTorch.
        """
        loss = closure() if closure is not None else None
        for group, flat in zip(self.param_groups, self._flat):
            if self._hyper(group) != flat.hyper:
                self._configure(group, flat)
            if self._shaped:
                flat.step_shaped(self._kernel)
            else:
                flat.step(self._kernel)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the grads: to None (the default), or to zeros in place."""
        for flat in self._flat:
            flat.zero_grad(set_to_none)

    # -- state --------------------------------------------------------------------
    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        """{param: {"step": n, buffer name: array shaped like param}} for every
        param that has taken a step. On host backends the arrays are views of
        the live state; on cuda they are host copies."""
        state: dict[Tensor, dict[str, Any]] = {}
        for group, flat in zip(self.param_groups, self._flat):
            for param, entry in zip(flat.params, flat.param_states(copy=False)):
                entry = None if entry is None else self._state_out(group, entry)
                if entry:
                    state[param] = entry
        return state

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout, as numpy arrays and Python numbers (copies):

            {"state": {index: {"step": n, "square_avg": array, ...}},
             "param_groups": [{hyperparameters..., "params": [index, ...]}]}

        Parameters are numbered across the groups in order; a parameter that
        has not taken a step has no entry in "state". Backend-neutral: a state
        saved from one backend loads into any other.
        """
        state: dict[int, dict[str, Any]] = {}
        groups = []
        index = 0
        for group, flat in zip(self.param_groups, self._flat):
            for offset, entry in enumerate(flat.param_states(copy=True)):
                entry = None if entry is None else self._state_out(group, entry)
                if entry:
                    state[index + offset] = entry
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = list(range(index, index + len(flat.params)))
            groups.append(packed)
            index += len(flat.params)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a ``state_dict()``: hyperparameters and state, for these params.

        Saved params are matched to this optimizer's by position. Everything is
        checked (group and parameter counts, hyperparameters, state shapes and
        dtypes) before anything changes.

        A ``torch.optim`` state dict of the same optimizer loads too, once its
        tensors are numpy arrays (``{k: v.numpy() ...}``); its PyTorch-only group
        keys (``foreach``, ``capturable``, ``differentiable``, ``fused``,
        ``param_names``) are dropped. The reverse holds as well: turn the arrays
        into tensors and ``torch_optimizer.load_state_dict`` takes it.
        """
        saved_groups = checked_groups(state_dict, len(self.param_groups))
        saved_state = state_dict["state"]
        new_groups, writers = [], []
        for g, (saved, group, flat) in enumerate(zip(saved_groups, self.param_groups,
                                                     self._flat)):
            indices = list(saved["params"])
            if len(indices) != len(flat.params):
                raise ValueError(f"loaded parameter group {g} has {len(indices)} parameters, "
                                 f"this optimizer's group {g} has {len(flat.params)}")
            new_group = {**group, **{key: value for key, value in saved.items()
                                     if key not in TORCH_ONLY_KEYS}, "params": group["params"]}
            self._check(new_group)
            check_representable(new_group, flat.dtype)
            entries = [saved_state.get(index) for index in indices]
            entries = [None if entry is None else self._state_in(new_group, dict(entry))
                       for entry in entries]
            writers.append(flat.load_states(
                entries, lambda i, ids=indices, g=g: f"parameter {ids[i]} (group {g})",
                required=self._state_init(new_group)))
            new_groups.append(new_group)
        check_no_strays(saved_groups, saved_state)
        for group, new_group, write in zip(self.param_groups, new_groups, writers):
            group.update(new_group)
            write()

    # -- copying and pickling --------------------------------------------------------
    def __reduce__(self) -> tuple:
        """Pickle and ``copy.deepcopy`` rebuild the optimizer from its public state:
        its class, param groups (params and hyperparameters), defaults, device and
        ``state_dict()``. The copy binds the copied params into flat buffers of its
        own and steps on exactly as the original would."""
        groups = [dict(group) for group in self.param_groups]
        state = type(self).state_dict.__wrapped__(self)   # without the state-dict hooks
        return (_rebuild, (type(self), groups, dict(self.defaults), self.device, state))

    # -- display ------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} (", f"Device: {self.device}"]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"


class NoStepInState:
    """A mixin for optimizers whose reference keeps no step count in its state (SGD,
    Lion, schedule-free): ``state`` hides the flat group's count, and a loaded entry
    holding ``_first_buffer`` counts as past the first step (its reference creates
    the buffer then), one without it as before it."""

    _first_buffer: str

    def _state_out(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        entry.pop("step", None)
        return entry

    def _state_in(self, group: Mapping[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
        entry.setdefault("step", 1 if self._first_buffer in entry else 0)
        return entry


def checked_groups(state_dict: Any, count: int) -> list[Mapping[str, Any]]:
    """The param groups of a state dict; ValueError unless it is a mapping of
    exactly "state" and "param_groups" with ``count`` groups."""
    if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
        raise ValueError("a state dict must be a mapping with exactly the keys "
                         "'state' and 'param_groups'")
    saved_groups = list(state_dict["param_groups"])
    if len(saved_groups) != count:
        raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                         f"this optimizer has {count}")
    return saved_groups


def check_no_strays(saved_groups: list[Mapping[str, Any]], saved_state: Mapping) -> None:
    """ValueError for a state entry that no saved param group lists."""
    listed = {index for saved in saved_groups for index in saved["params"]}
    strays = [key for key in saved_state if key not in listed]
    if strays:
        raise ValueError(f"loaded state has entries for parameters {strays[:5]!r}, which "
                         f"no loaded param group lists (keys must be the ints of "
                         f"param_groups[...]['params'])")


def _rebuild(cls: type, groups: list[dict[str, Any]], defaults: dict[str, Any], device: str,
             state: dict[str, Any]) -> Optimizer:
    """The optimizer that ``Optimizer.__reduce__`` describes."""
    optimizer = cls(groups, **defaults, device=device)
    optimizer.load_state_dict(state)
    return optimizer


# -- hyperparameter validation, shared by the optimizers ---------------------------

# Keys of a torch.optim param group that configure PyTorch's implementation, not the update.
TORCH_ONLY_KEYS = frozenset({"foreach", "capturable", "differentiable", "fused", "param_names"})


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_representable(group: Mapping[str, Any], dtype: np.dtype) -> None:
    """ValueError unless every numeric hyperparameter (also inside tuples such as
    ``betas``) is finite in the parameters' dtype: lr=1e39 is a finite float64
    but inf in float32, and would turn float32 parameters into NaN in one step."""
    limit = float(np.finfo(dtype).max)
    for key, value in group.items():
        if key == "params":
            continue
        for item in value if isinstance(value, (tuple, list)) else (value,):
            number = isinstance(item, (int, float, np.integer, np.floating)) and not isinstance(
                item, (bool, np.bool_))
            if number and abs(float(item)) > limit:
                name = "learning rate" if key == "lr" else f"{key} value"
                raise ValueError(f"Invalid {name}: {item!r} (overflows {dtype}, the "
                                 f"parameters' dtype, whose largest value is {limit:.4g})")


def check_number(value: Any, message: str, low: float = 0.0, high: float = math.inf,
                 high_open: bool = False) -> None:
    """ValueError ``"{message}: {value}"`` unless ``value`` is a real number, not
    NaN or infinite, with ``low <= value <= high`` (``< high`` if ``high_open``)."""
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))
    bound = f"[{low:g}, {high:g}{')' if high_open else ']'}"
    if not real or not math.isfinite(value):
        raise ValueError(f"{message}: {value!r} (expected a finite number in {bound})")
    if value < low or value > high or (high_open and value == high):
        raise ValueError(f"{message}: {value!r} (expected a number in {bound})")


def check_flag(value: Any, name: str) -> None:
    """ValueError unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid {name} value: {value!r} (expected True or False)")


def check_common(group: Mapping[str, Any]) -> None:
    """lr, weight_decay and maximize: every optimizer has them."""
    check_number(group["lr"], "Invalid learning rate")
    check_number(group["weight_decay"], "Invalid weight_decay value")
    check_flag(group["maximize"], "maximize")
