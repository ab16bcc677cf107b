"""A plan: the buffer table and the list of calls that replay one traced step.

From a ``Trace`` the builder numbers every value the step touched (a slot):
the step's inputs, the parameters (read as ``p._data`` at each call, so an
optimizer that rebinds them is followed), and one preallocated buffer per op
output and per gradient. The events become the plan's stages:

    forward     each op's compiled form, in traced order     (forms.py); a ReLU
                after a linear runs inside it (bias, ReLU and mask in one loop)
    zero_grad   the optimizer's (or module's) own zero_grad   (eager code)
    backward    the forms' backward in reverse, writing parameter gradients
                straight into the optimizer's flat grad buffer
    clip        nn.utils.clip_grad_norm_ / clip_grad_value_   (eager code)
    step        the optimizer's own step(): one kernel call per group on its flat
                buffers (kernels/rules.py), reading lr & co at each call
    scheduler   an LR scheduler's own step(), when the step function calls it

Replaying needs no graph, no closures and no allocation beyond the returned
values, which are copies (the buffers are reused by the next call).
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..nn.module import Parameter
from ..tensor import Tensor
from . import forms
from .forms import Unsupported
from .trace import Trace


class Slots:
    """Numbers the values of a trace and records, per slot, where its array
    comes from at each call and whether a gradient flows to it."""

    def __init__(self, inputs: list[Any]):
        self.values: list[Any] = []          # per slot: the traced object
        self.kinds: list[str] = []           # "input", "param" or "buffer"
        self.grad: list[bool] = []           # whether the backward reaches this slot
        self.index: dict[int, int] = {}
        for value in inputs:
            if isinstance(value, Tensor) and value.requires_grad:
                raise Unsupported("an input of the step requires grad (the plan computes "
                                  "the gradients of parameters only)")
            self._add(value, "input", False)

    def _add(self, value: Any, kind: str, grad: bool) -> int:
        self.index[id(value)] = len(self.values)
        self.values.append(value)
        self.kinds.append(kind)
        self.grad.append(grad)
        return len(self.values) - 1

    def slot(self, value: Any) -> int:
        """The slot of an op's input: a step input, a parameter, or an op output."""
        if id(value) in self.index:
            return self.index[id(value)]
        if isinstance(value, Tensor) and value.is_leaf and (
                value.requires_grad or isinstance(value, Parameter)):
            if value._grad_hooks:
                raise Unsupported("a parameter has a gradient hook: the plan does not run "
                                  "Python hooks")
            return self._add(value, "param", value.requires_grad)
        if isinstance(value, Tensor) and not value.is_leaf:
            raise Unsupported("an op reads a tensor made outside the step by other ops")
        raise Unsupported(f"an op reads a {type(value).__name__} that is neither an input of "
                          f"the step nor a parameter")

    def output(self, value: Any) -> int:
        """A new slot for an op's output."""
        if not isinstance(value, Tensor):
            raise Unsupported(f"an op returned a {type(value).__name__}")
        if value._grad_hooks:
            raise Unsupported("a tensor in the step has a gradient hook")
        return self._add(value, "buffer", value.requires_grad)

    def needs_grad(self, slot: int) -> bool:
        return self.grad[slot]


class Plan:
    """The replayable form of one trace; ``str(plan)`` is the text ``step.plan`` shows."""

    def __init__(self, trace: Trace, inputs: list[Any], names: dict[int, str],
                 returned: set[int]):
        self.slots = slots = Slots(inputs)
        self.stages: list[tuple] = []
        self.forms: list[forms.Form] = []
        self.names = names
        for event in trace.events:
            kind = event[0]
            if kind == "op":
                form = forms.build(event[1], slots)
                self.forms.append(form)
                if self.stages and self.stages[-1][0] == "forward":
                    self.stages[-1][1].append(form)
                else:
                    self.stages.append(("forward", [form]))
            elif kind == "backward":
                self.stages.append(("backward", self._backward(event[1], event[2])))
            else:
                self.stages.append(_call(*event))
        self._fuse(returned)
        self.values: list[Any] = [None] * len(slots.values)
        self.grads: list[Any] = [None] * len(slots.values)
        self.made_by = {form.output: form.made_by for form in self.forms if form.made_by}
        for slot, (value, kind) in enumerate(zip(slots.values, slots.kinds)):
            if kind == "buffer":
                if slot not in self.made_by:
                    self.values[slot] = np.empty_like(value._data)
                if slots.grad[slot]:
                    self.grads[slot] = np.empty_like(value._data)
        self.params = [(slot, value) for slot, (value, kind) in
                       enumerate(zip(slots.values, slots.kinds)) if kind == "param"]
        self.scratch = {slot: np.empty_like(value._data) for slot, value in self.params
                        if slots.grad[slot]}
        self.seeds = {stage[1][0]: np.ones_like(slots.values[stage[1][0]]._data)
                      for stage in self.stages if stage[0] == "backward"}   # dloss = 1
        self.checks = [form for form in self.forms if type(form).holds is not forms.Form.holds]
        self.calls = [call for stage in self.stages for call in self._calls(stage)]

    def _fuse(self, returned: set[int]) -> None:
        """A ReLU whose input is a linear's output, read by nothing else (no other
        form, not ``returned`` by the step: ids of tensors), runs inside the linear."""
        readers: dict[int, list] = {}
        for form in self.forms:
            for slot in form.inputs:
                readers.setdefault(slot, []).append(form)
        for form in self.forms:
            after = readers.get(form.output, [])
            if (isinstance(form, forms.Linear) and form.has_bias and len(after) == 1
                    and isinstance(after[0], forms.ReLU)
                    and id(self.slots.values[form.output]) not in returned):
                form.fuse_relu(after[0])

    def _backward(self, loss: Any, arguments: dict) -> tuple:
        """The forms on the way from ``loss`` to the parameters, in reverse order."""
        if any(arguments.get(name) is not None and arguments.get(name) is not False
               for name in ("gradient", "retain_graph", "create_graph", "inputs")):
            raise Unsupported("backward() with arguments (gradient, retain_graph, inputs): "
                              "the plan takes loss.backward() of a scalar loss")
        if id(loss) not in self.slots.index or self.slots.kinds[self.slots.slot(loss)] != "buffer":
            raise Unsupported("backward() of a tensor no traced op made")
        reached = {self.slots.slot(loss)}
        path, writers = [], {}
        for form in reversed(self.forms):
            if form.output in reached:
                path.append(form)
                for slot, needed in zip(form.inputs, form.needs):
                    if needed:
                        if slot in writers:
                            raise Unsupported("a tensor feeds two ops on the way to the loss "
                                              "(the plan keeps one gradient per tensor)")
                        writers[slot] = form
                        reached.add(slot)
        return self.slots.slot(loss), path

    # -- replay -------------------------------------------------------------------
    def holds(self, arrays: list) -> bool:
        """Load this call's inputs and parameters; False when a form's check
        sends the call to eager execution (e.g. a target equal to ignore_index)."""
        v = self.values
        v[:len(arrays)] = arrays
        for slot, param in self.params:
            v[slot] = param._data
        return all([form.holds(v) for form in self.checks])

    def _calls(self, stage: tuple) -> list[Callable[[], None]]:
        """The calls of no arguments that replay one stage."""
        kind = stage[0]
        if kind == "forward":
            return [functools.partial(form.forward, self.values) for form in stage[1]]
        if kind == "backward":
            return [functools.partial(self._run_backward, *stage[1])]
        return [functools.partial(stage[1], **stage[2])]

    def run(self) -> None:
        """Replay the stages on the inputs ``holds`` loaded."""
        for call in self.calls:
            call()

    def _run_backward(self, loss: int, path: list) -> None:
        g = self.grads
        g[loss] = self.seeds[loss]          # read by the loss's form, never written
        arrived, accumulate = [], []
        for slot, param in self.params:
            if not self.slots.grad[slot]:
                continue
            if param._grad is None and param._grad_view is not None:
                g[slot] = param._grad_view          # straight into the flat grad buffer
                arrived.append(param)
            else:
                g[slot] = self.scratch[slot]
                accumulate.append((param, slot))
        for form in path:
            form.backward(self.values, g)
        for param in arrived:
            param._grad = param._grad_view
            param._owner.grad_arrived(param)
        for param, slot in accumulate:
            param._accumulate_grad(self.scratch[slot])

    # -- text ---------------------------------------------------------------------
    def name(self, slot: int) -> str:
        kind, value = self.slots.kinds[slot], self.slots.values[slot]
        if kind == "input":
            return f"in{slot}"
        if kind == "param":
            return self.names.get(id(value), f"p{slot}")
        return f"b{slot}"

    def __str__(self) -> str:
        lines = ["buffers:"]
        for slot, (value, kind) in enumerate(zip(self.slots.values, self.slots.kinds)):
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            grad = "  + grad buffer" if kind == "buffer" and self.slots.grad[slot] else ""
            where = {"input": "step input", "param": "parameter (its flat buffer view)",
                     "buffer": "preallocated"}[kind]
            where = self.made_by.get(slot, where)
            lines.append(f"  {self.name(slot):<10} {str(array.dtype):<8} "
                         f"{str(array.shape):<15} {where}{grad}")
        for stage in self.stages:
            kind = stage[0]
            if kind == "forward":
                lines.append("forward:")
                lines += [f"  {form.kind:<14} {form.describe(self.name)[0]}"
                          for form in stage[1]]
            elif kind == "backward":
                loss, path = stage[1]
                lines.append(f"backward of {self.name(loss)} (d{self.name(loss)} = 1), "
                             f"parameter grads written into the flat grad buffer:")
                lines += [f"  {form.kind:<14} {form.describe(self.name)[1]}" for form in path
                          if form.describe(self.name)[1]]
            else:
                lines.append(stage[3])
        return "\n".join(lines)


def _call(kind: str, obj: Any, arguments: dict) -> tuple:
    """A recorded effect as a stage ("call", function, its arguments, its line of text):
    eager code, called again with the traced arguments."""
    shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items() if k != "parameters")
    if kind == "step":
        if arguments["closure"] is not None:
            raise Unsupported("optimizer.step(closure): the plan replays no closure")
        return ("call", _method(obj, "step"), {}, f"step: {type(obj).__name__}.step(): one "
                f"{obj._kernel_name} kernel call per param group (kernels.{obj.device}), "
                f"lr read at each call")
    if kind == "scheduler":
        if any(isinstance(value, Tensor) for value in arguments.values()):
            raise Unsupported(f"{type(obj).__name__}.step() on a tensor's value: step it "
                              f"outside the compiled step")
        return ("call", _method(obj, "step"), arguments,
                f"scheduler: {type(obj).__name__}.step({shown})")
    if kind == "zero_grad":
        return ("call", _method(obj, "zero_grad"), arguments,
                f"zero_grad: {type(obj).__name__}({shown})")
    return ("call", obj, arguments, f"clip: {obj.__name__}({shown})")     # clip_grad_*_


def _method(obj: Any, name: str) -> Callable[..., Any]:
    """``obj.name(...)`` looked up at each call, as the step function looks it up: a
    wrapper set on the object later (``minidl.monitor.OptimizerStats``) is called too."""
    return lambda **arguments: getattr(obj, name)(**arguments)


def check_outputs(result: Any, plan: Plan) -> Callable[[], Any]:
    """A function that rebuilds ``result`` (what the traced call returned) from
    the plan's buffers: each tensor a copy, None and tuples of them as they were."""
    if result is None:
        return lambda: None
    if isinstance(result, (tuple, list)):
        parts = [check_outputs(part, plan) for part in result]
        return lambda: type(result)(part() for part in parts)
    if isinstance(result, Tensor) and id(result) in plan.slots.index:
        slot = plan.slots.index[id(result)]
        values = plan.values
        return lambda: Tensor(values[slot].copy(), dtype=values[slot].dtype)
    raise Unsupported(f"the step returns a {type(result).__name__} that is not a tensor the "
                      f"plan computes")
