"""One parameter group as flat buffers: a step is one kernel call, not a loop.

A ``FlatGroup`` lays its parameters end to end in ONE contiguous array and
binds each parameter's ``.data`` and ``.grad`` to views of it (see
``Tensor._bind``); every optimizer state quantity (``square_avg``, ``exp_avg``,
...) is one more array of the same length. Parameter ``i`` owns the slice
``offsets[i]:offsets[i + 1]`` of every buffer:

    data  [ w1 ........ | b1 .. | w2 ...... | b2 . ]
    grad  [ dw1 ....... | db1 . | dw2 ..... | db2  ]
    state [ v(w1) ..... | v(b1) | v(w2) ... | v(b2)]

so the update of the whole group is one call of a kernel on flat arrays.

A few updates also keep a scalar per parameter (ASGD's ``eta`` and ``mu``):
``scalar_names`` gives them a row per parameter in ``scalars`` (float64), which
the kernel receives after the step count. The optimizer sets the rows
(``set_scalars``); a step still makes one call while all rows agree
(``common_scalars``), and otherwise splits the runs below where they differ.

Parameters whose grad is None are skipped as in PyTorch (no update, no state
change, their step count stays). The group counts the parameters holding a
grad (the tensors report through ``grad_arrived`` / ``grad_cleared``), so the
common case, every parameter has a grad and all step counts agree, is checked
in O(1); otherwise the kernel runs once per contiguous run of parameters that
have a grad and share a step count.

On a device backend (``on_host`` False) the flat params and all state live on
the device: a step uploads the flat grads, launches, and downloads the flat
params into the host buffer the parameter views point into. Host-side
assignments to ``.data`` mark the group dirty, so the next step uploads the
params first. The params are downloaded only after every launch succeeded: a
failed step leaves the host params as they were and marks them dirty (the
optimizer state of any run that did launch may have moved on).

Updates that need each parameter's shape (Adafactor's row and column
statistics, Muon's matrix products) see it through ``table``, one row of
integers per parameter that a compiled kernel walks: its offset, size, ndim
and its (batch, rows, cols) as a stack of matrices (a vector is one row), so
that ``buffer[offset:offset + size].reshape(batch, rows, cols)`` is the
parameter's matrices, a view of the flat buffer (no copy).
A state quantity need not have the parameter's shape: ``state_shapes`` maps a
parameter to the shape of its piece of each state buffer (None: this
parameter has none), so Adafactor's ``row_var`` of an (n, m) matrix takes n
numbers, not n * m; each state buffer then has its own ``Layout``, and its
offsets are columns of ``table`` too. ``step_shaped(kernel)`` is the one call
per group of such an update: it passes the table and each parameter's new
step count, 0 for a parameter without a grad, which the kernel skips.

Every write through minidl marks the group dirty: assigning ``p.data = x``,
and any in-place op on ``p``, ``p.data`` or a view of them (``p.data.zero_()``,
``p[0] = 1`` under ``no_grad``). Only a write through numpy into the raw array
(``np.asarray(p)[...] = x``) goes unseen, and on a device backend the next step
would overwrite it: follow it with ``p.data = p.data``. Host backends have no
copy to go stale and see every edit.

The params of a group share one version counter (``Tensor._version``), which
each step advances: a graph that read the params before the step refuses to
run ``backward()`` after it, as PyTorch's does.
"""
from __future__ import annotations

import math
from types import ModuleType
from typing import Any, Callable, Collection, Mapping, Sequence

import numpy as np

from ..kernels.reference import FLOAT_DTYPES
from ..tensor import Tensor
from ..versions import Version, bump


Shape = tuple[int, ...]
StateShapes = Callable[[Tensor], Mapping[str, "Shape | None"]]


class Layout:
    """Where each parameter's piece of one flat buffer lies, and its shape.

    ``shapes[i]`` is the shape of parameter i's piece, or None when it has
    none (a zero-length piece); piece i is ``offsets[i]:offsets[i + 1]``.
    """

    def __init__(self, shapes: Sequence[Shape | None]):
        self.shapes = list(shapes)
        sizes = [0 if shape is None else math.prod(shape) for shape in self.shapes]
        self.offsets = np.cumsum([0] + sizes)
        self.size = int(self.offsets[-1])

    def bounds(self, i: int) -> tuple[int, int]:
        """(start, stop) of piece i."""
        return int(self.offsets[i]), int(self.offsets[i + 1])

    def view(self, buffer: np.ndarray, i: int) -> np.ndarray:
        """Piece i of ``buffer`` in its shape: a view, no copy."""
        lo, hi = self.bounds(i)
        return buffer[lo:hi].reshape(self.shapes[i])


def _as_matrices(shape: Shape) -> tuple[int, int, int]:
    """(batch, rows, cols) of a parameter seen as a stack of matrices over its last
    two axes; a vector or a scalar is one row."""
    if len(shape) < 2:
        return 1, 1, math.prod(shape)
    return math.prod(shape[:-2]), shape[-2], shape[-1]


class FlatGroup:
    """Flat data, grad and state buffers for the parameters of one group.

    ``state_names`` lists every state buffer the update kernel takes, in the
    kernel's argument order; ``takes_step`` says whether the kernel's last
    argument is the 1-based step count. ``state_shapes(param)`` gives the shape
    of each state buffer's piece for ``param`` where it is not the param's own
    (see ``Layout``).
    """

    def __init__(self, params: list[Tensor], backend: ModuleType,
                 state_names: tuple[str, ...], takes_step: bool,
                 state_shapes: StateShapes | None = None,
                 scalar_names: tuple[str, ...] = ()):
        self.params = params
        self.backend = backend
        self.state_names = state_names
        self.takes_step = takes_step
        self.scalar_names = scalar_names
        self.scalars = np.zeros((len(params), len(scalar_names)))
        self.common_scalars: tuple[float, ...] | None = (0.0,) * len(scalar_names)
        self.dtype = common_dtype(params)
        self.layout = Layout([p.shape for p in params])
        self.offsets, self.size = self.layout.offsets, self.layout.size
        shapes = [dict(state_shapes(p)) if state_shapes else {} for p in params]
        self.layouts = {name: Layout([own.get(name, p.shape) for p, own in zip(params, shapes)])
                        for name in state_names}
        self.table = np.array([[lo, p.size, p.ndim, *_as_matrices(p.shape),
                                *(int(self.layouts[name].offsets[i]) for name in state_names)]
                               for i, (p, lo) in enumerate(zip(params, self.offsets[:-1]))],
                              np.int64).reshape(len(params), 6 + len(state_names))
        self.data = np.empty(self.size, self.dtype)
        self.grad = np.zeros(self.size, self.dtype)
        # Step counts: while every param has taken the same number of steps that
        # number is ``uniform_step`` (and ``steps`` is not kept up to date: see
        # ``step_counts``); after a partial step ``uniform_step`` is None.
        self.uniform_step: int | None = 0
        self.steps = np.zeros(len(params), np.int64)
        self.grads_present = 0
        self.host_dirty = False
        self.taken_over: str | None = None
        self.state: dict[str, Any] = {}       # name -> backend array
        self.state_init: dict[str, float] = {}
        self.empty = backend.zeros(0, self.dtype)
        self.hyper: tuple | None = None       # the hyperparameters the cache below was built for
        self.state_args: tuple = ()
        self.scalar_args: tuple = ()
        self.prepared: tuple | None = None    # (kernel, scalar_args, their call): see step
        self.version = Version()              # the params' one version counter (Tensor._bind)
        for param, (lo, hi) in zip(params, self.slices()):
            if param._owner is not None:
                param._owner.released(param)
            param._bind(self.data[lo:hi].reshape(param.shape),
                        self.grad[lo:hi].reshape(param.shape), self, self.version)
        if backend.on_host:
            self.device_data, self.device_grad = self.data, self.grad
        else:
            self.device_data = backend.to_device(self.data)
            self.device_grad = backend.zeros(self.size, self.dtype)

    def slices(self) -> list[tuple[int, int]]:
        """(start, stop) of each parameter in the flat buffers."""
        return [(int(lo), int(hi)) for lo, hi in zip(self.offsets[:-1], self.offsets[1:])]

    # -- the owner protocol of Tensor._bind ----------------------------------
    def grad_arrived(self, param: Tensor) -> None:
        self.grads_present += 1

    def grad_cleared(self, param: Tensor) -> None:
        self.grads_present -= 1

    def data_assigned(self, param: Tensor) -> None:
        self.host_dirty = True

    def released(self, param: Tensor) -> None:
        """Another optimizer bound ``param``: this group can no longer step."""
        self.taken_over = (f"a parameter of shape {param.shape} was taken over by another "
                           f"optimizer built on it later; make a new optimizer for these "
                           f"parameters instead of stepping this one")

    # -- configuration: hyperparameters -> cached kernel arguments -----------
    def configure(self, hyper: tuple, state_init: Mapping[str, float],
                  scalar_args: tuple) -> None:
        """Cache the kernel's arguments for the hyperparameters ``hyper``.

        ``state_init`` maps each state buffer these hyperparameters use to its
        initial value; a buffer used for the first time is allocated here (a
        buffer not used is passed as a zero-length array).
        """
        for name, value in state_init.items():
            if name not in self.state:
                self.state[name] = self.backend.full(self.layouts[name].size, value, self.dtype)
                self.state_init[name] = value
        self.state_args = tuple(self.state[name] if name in state_init else self.empty
                                for name in self.state_names)
        self.scalar_args = scalar_args
        self.hyper = hyper
        self.prepared = None

    # -- the update ------------------------------------------------------------
    def step(self, kernel: Callable[..., None]) -> None:
        """Update every parameter that has a grad: one kernel call when all do.

        An update whose arguments stay from call to call (no step count, no
        per-parameter scalars) on a backend that can ``prepare`` it is checked
        and cast once per ``configure``, and then only called."""
        if self.taken_over is not None:
            raise RuntimeError(self.taken_over)
        if self.grads_present == 0:
            return

        def run() -> None:
            if (self.grads_present == len(self.params) and self.uniform_step is not None
                    and self.common_scalars is not None):
                step = self.uniform_step + 1
                if self.takes_step or self.scalar_names or not hasattr(kernel, "prepare"):
                    step_arg = (step,) if self.takes_step else ()
                    kernel(self.device_data, self.device_grad, *self.state_args,
                           *self.scalar_args, *step_arg, *self.common_scalars)
                else:
                    if self.prepared is None or self.prepared[:2] != (kernel, self.scalar_args):
                        self.prepared = (kernel, self.scalar_args, kernel.prepare(
                            self.device_data, self.device_grad, *self.state_args,
                            *self.scalar_args))
                    self.prepared[2]()
                self.uniform_step = step
            else:
                self._step_runs(kernel)
        self._on_device(run)

    def step_shaped(self, kernel: Callable[..., None]) -> None:
        """One call of an update that sees each param's shape:

            kernel(data, grad, *state buffers, table, steps, *scalars)

        ``steps[i]`` is param i's new 1-based step count, 0 when it has no grad
        (the kernel leaves it and its state alone)."""
        if self.taken_over is not None:
            raise RuntimeError(self.taken_over)
        if self.grads_present == 0:
            return
        active = np.array([param._grad is not None for param in self.params])
        steps = np.where(active, self.step_counts() + 1, 0)
        self._on_device(lambda: kernel(self.device_data, self.device_grad, *self.state_args,
                                       self.table, steps, *self.scalar_args))
        self.steps[:] = np.where(active, steps, self.steps)
        self._refresh_uniform_step()

    def _on_device(self, run: Callable[[], None]) -> None:
        """``run()`` the update; on a device backend upload the grads (and the params
        if the host changed them) first, download the params after."""
        on_host = self.backend.on_host
        if not on_host:
            if self.host_dirty:
                self.backend.copy_from_host(self.device_data, self.data)
            self.backend.copy_from_host(self.device_grad, self.grad)
        try:
            run()
            if not on_host:
                self.backend.synchronize()
        except BaseException:
            if not on_host:   # the device params may be half updated: resend the host's
                self.host_dirty = True
            raise
        if not on_host:
            self.backend.copy_to_host(self.device_data, self.data)
            self.host_dirty = False
        bump(self.version)   # a graph that read the old params can no longer backward

    def step_counts(self) -> np.ndarray:
        """The number of steps each param has taken."""
        if self.uniform_step is not None:
            self.steps.fill(self.uniform_step)
        return self.steps

    def _step_runs(self, kernel: Callable[..., None]) -> None:
        """One kernel call per run of adjacent params with a grad and one step count."""
        steps = self.step_counts()
        self.uniform_step = None
        for first, stop in self._runs():
            lo, hi = int(self.offsets[first]), int(self.offsets[stop])
            step_arg = (int(steps[first]) + 1,) if self.takes_step else ()
            if hi > lo:
                kernel(self.device_data[lo:hi], self.device_grad[lo:hi],
                       *(buffer[lo:hi] for buffer in self.state_args),
                       *self.scalar_args, *step_arg, *self.scalars[first].tolist())
            steps[first:stop] += 1
        self._refresh_uniform_step()

    def set_scalars(self, values: tuple[float, ...], index: int | None = None) -> None:
        """Set the per-parameter scalars of param ``index``, or of every param."""
        if index is None:
            self.scalars[:] = values
            self.common_scalars = tuple(values)
        else:
            self.scalars[index] = values
            self.common_scalars = None   # until the next set of every param

    def _runs(self) -> list[tuple[int, int]]:
        """(first, stop) param index ranges: adjacent params with grads, equal steps
        and equal per-parameter scalars."""
        runs: list[tuple[int, int]] = []
        first = None
        for i, param in enumerate(self.params):
            if param._grad is None:
                if first is not None:
                    runs.append((first, i))
                first = None
            elif first is None:
                first = i
            elif (self.steps[i] != self.steps[first]
                  or (self.scalars[i] != self.scalars[first]).any()):
                runs.append((first, i))
                first = i
        if first is not None:
            runs.append((first, len(self.params)))
        return runs

    def _refresh_uniform_step(self) -> None:
        """Set ``uniform_step`` from ``steps``: their common value, else None."""
        steps = self.steps
        equal = len(steps) == 0 or bool((steps == steps[0]).all())
        self.uniform_step = (int(steps[0]) if len(steps) else 0) if equal else None

    def zero_grad(self, set_to_none: bool) -> None:
        """set_to_none: every grad becomes None; else one fill of the flat grads."""
        if set_to_none:
            for param in self.params:
                param.grad = None
        else:
            self.grad.fill(0)

    def complete_grad(self) -> np.ndarray | None:
        """The flat grad buffer when every param holds a grad, so that it is exactly
        their grads (minidl.nn.utils clips it in one pass); else None, since a
        param whose grad is None may leave stale values in its slice."""
        return self.grad if self.grads_present == len(self.params) else None

    # -- state as per-parameter numpy arrays -----------------------------------
    def host_state(self, name: str) -> np.ndarray:
        """A state buffer on the host: the buffer itself on host backends, else a copy."""
        buffer = self.state[name]
        if self.backend.on_host:
            return buffer
        host = np.empty(self.layouts[name].size, self.dtype)
        self.backend.copy_to_host(buffer, host)
        return host

    def param_states(self, copy: bool) -> list[dict[str, Any] | None]:
        """Per parameter: {"step": n, name: array shaped like the param}, or None
        before its first step. ``copy=False`` gives views of the live state on
        host backends; on a device backend the arrays are always host copies."""
        hosts = {name: self.host_state(name) for name in self.state}
        copy = copy and self.backend.on_host   # host_state already copied device state
        steps = self.step_counts()
        states: list[dict[str, Any] | None] = []
        for i in range(len(self.params)):
            if steps[i] == 0:
                states.append(None)
                continue
            entry: dict[str, Any] = {"step": int(steps[i])}
            for name, value in zip(self.scalar_names, self.scalars[i]):
                entry[name] = np.array(value, self.dtype)
            for name, host in hosts.items():
                if self.layouts[name].shapes[i] is None:
                    continue
                view = self.layouts[name].view(host, i)
                entry[name] = view.copy() if copy else view
            states.append(entry)
        return states

    def load_states(self, states: list[Mapping[str, Any] | None], where: Callable[[int], str],
                    required: Collection[str]) -> Callable[[], None]:
        """Check per-parameter states (as ``param_states`` gives them; None resets a
        param to its initial state) and return the function that writes them.
        A param that has taken steps must bring every buffer of ``required`` (those
        its hyperparameters use): resetting a missing one would silently make the
        resumed run diverge from the saved one.

        Checking everything before writing anything keeps a failed load from
        leaving the optimizer half loaded. ``where(i)`` names param ``i`` in errors.
        """
        known = set(self.state_names) | set(self.scalar_names)
        names = list(self.state)
        steps = np.zeros(len(self.params), np.int64)
        scalars = np.zeros_like(self.scalars)
        for i, (param, entry) in enumerate(zip(self.params, states)):
            if entry is None:
                continue
            unknown = set(entry) - known - {"step"}
            if unknown:
                raise ValueError(f"state of {where(i)} has unknown entries {sorted(unknown)}; "
                                 f"expected 'step' and some of {sorted(known)}")
            if "step" not in entry:
                raise ValueError(f"state of {where(i)} has no 'step'")
            steps[i] = _step_count(entry["step"], where(i))
            missing = [name for name in required if name not in entry
                       and (name not in self.layouts or self.layouts[name].shapes[i] is not None)]
            if steps[i] > 0 and missing:
                raise ValueError(f"state of {where(i)} has taken {steps[i]} steps but has no "
                                 f"{', '.join(map(repr, missing))}; a resumed run would "
                                 f"restart that buffer from its initial value")
            for j, name in enumerate(self.scalar_names):
                if name in entry:
                    scalars[i, j] = _scalar(entry[name], name, where(i))
            for name in set(entry) - {"step"} - set(self.scalar_names):
                shape, expected = np.shape(entry[name]), self.layouts[name].shapes[i]
                if expected is None:
                    raise ValueError(f"state of {where(i)} has an entry '{name}', which a "
                                     f"parameter of shape {param.shape} does not have")
                if shape != expected:
                    raise ValueError(f"state '{name}' of {where(i)} has shape {shape}, "
                                     f"expected {expected} (the parameter has shape "
                                     f"{param.shape})")
                kind = np.asarray(entry[name]).dtype
                if kind.kind not in "fiu":
                    raise TypeError(f"state '{name}' of {where(i)} has dtype {kind}, "
                                    f"expected real numbers (the parameter is {self.dtype})")
                if name not in names:
                    names.append(name)

        def write() -> None:
            for name in names:
                layout = self.layouts[name]
                if name not in self.state:
                    self.state[name] = self.backend.zeros(layout.size, self.dtype)
                    self.state_init[name] = 0.0
                host = self.host_state(name)
                for i, entry in enumerate(states):
                    lo, hi = layout.bounds(i)
                    if entry is not None and name in entry:
                        host[lo:hi] = np.asarray(entry[name], dtype=self.dtype).reshape(-1)
                    else:
                        host[lo:hi] = self.state_init[name]
                self.backend.copy_from_host(self.state[name], host)
            self.steps[:] = steps
            self.scalars[...] = scalars
            rows_equal = len(scalars) == 0 or bool((scalars == scalars[0]).all())
            common = scalars[0].tolist() if len(scalars) else [0.0] * len(self.scalar_names)
            self.common_scalars = tuple(common) if rows_equal else None
            self._refresh_uniform_step()
            self.hyper = None   # re-derive the kernel arguments at the next step
        return write


def common_dtype(params: list[Tensor]) -> np.dtype:
    """The one dtype of a group's params, float32 or float64 (the kernels'
    dtypes); ValueError naming a mix or another dtype."""
    dtypes: dict[np.dtype, list[int]] = {}
    for i, param in enumerate(params):
        dtypes.setdefault(param.dtype, []).append(i)
    if len(dtypes) > 1:
        listing = "; ".join(f"{dtype}: params {indices}" for dtype, indices in dtypes.items())
        raise ValueError(f"all parameters of a param group must share one dtype, got {listing}; "
                         f"put parameters of different dtypes in separate param groups")
    dtype = next(iter(dtypes), np.dtype(np.float32))
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"optimizer can only optimize float32 or float64 parameters, "
                         f"got dtype {dtype}")
    return dtype


# The largest step count loaded: every whole number up to it is exact in float64
# (PyTorch saves the step as a float), and counting on from it never overflows int64.
MAX_STEP = 2**53


def _step_count(value: Any, where: str) -> int:
    """A loaded 'step': a whole number in [0, MAX_STEP] (PyTorch saves it as a float)."""
    try:
        number = float(np.asarray(value))
    except (TypeError, ValueError):
        number = math.nan
    if not number.is_integer() or not 0 <= number <= MAX_STEP:
        raise ValueError(f"state of {where} has an invalid step: {value!r} (expected a whole "
                         f"number from 0 to 2**53)")
    return int(number)


def _scalar(value: Any, name: str, where: str) -> float:
    """A loaded per-parameter scalar (a number or a one-element array) as a float."""
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "fiu":
        raise ValueError(f"state '{name}' of {where} must be one real number, got {value!r}")
    return float(array.reshape(-1)[0])
