"""Tracing: run a step once, eagerly, and record what it did.

While ``Tracer`` is active (in the thread that started it), the functions that
have a compiled form (``forms.py``) and the effects a plan can replay are
wrapped, and everything else that could make a replay differ from running the
step again is watched:

    recorded ops      linear, relu, cross_entropy, mse_loss, conv2d, max/avg_pool2d,
                      flatten, dropout: every name that holds them (F.relu, minidl.relu,
                      ...); BatchNorm1d/2d's forward (it also moves the running stats)
    recorded effects  optimizer.zero_grad(), module.zero_grad(), loss.backward(),
                      optimizer.step(), nn.utils.clip_grad_norm_ and clip_grad_value_
                      (not its halves get_total_norm and clip_grads_with_norm_),
                      an LR scheduler's step()
    refused           any other op (Tensor._make), reading a value in Python
                      (.item(), float(t), bool(t), .tolist(), .numpy(), np.asarray(t)),
                      in-place writes, new tensors from Python data, module hooks,
                      tensor hooks, optimizer internals reached by another path

The step runs normally either way (tracing is the first eager step). A refusal
is kept as ``reason`` (the first one wins), or raised as ``CompileError`` at once
when the tracer was made with ``strict=True``.
"""
from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import sys

from .. import ops
from ..nn import (conv, functional, layers, losses, module as module_mod, pooling,
                  utils as nn_utils)
from ..ops import elementwise, shape
from ..optim import flat as flat_mod, lr_scheduler
from ..optim.optimizer import Optimizer
from ..tensor import Tensor


class CompileError(RuntimeError):
    """What a plan cannot hold, raised by ``minidl.compile(fn, fallback=False)``."""


@dataclass
class OpRecord:
    """One call of an op that has a compiled form: its arguments as given
    (bound to the parameter names, defaults filled in) and its output."""
    kind: str
    args: dict[str, Any]
    output: Any


@dataclass
class Trace:
    """What one traced step did, in order: ("op", OpRecord), ("zero_grad", obj,
    set_to_none), ("backward", loss), ("step", optimizer), ("clip", function,
    arguments), ("scheduler", scheduler, arguments). ``modules`` are the
    modules called, in order of first call."""
    events: list[tuple] = field(default_factory=list)
    modules: list[Any] = field(default_factory=list)
    reason: str | None = None


# The ops with a compiled form: kind -> (module, name) of the function. Every
# module below that holds the same function object gets the wrapper, so that the
# op is recorded by whichever name calls it (F.relu, minidl.relu, ReLU's F.relu).
RECORDED_OPS = {"linear": (functional, "linear"), "relu": (elementwise, "relu"),
                "cross_entropy": (losses, "cross_entropy"), "conv2d": (conv, "conv2d"),
                "max_pool": (pooling, "_max_pool"), "avg_pool": (pooling, "_avg_pool"),
                "flatten": (shape, "flatten"),
                "mse_loss": (losses, "mse_loss"), "dropout": (functional, "dropout"),
                "batch_norm": (layers.BatchNorm1d, "forward")}   # BatchNorm2d inherits it
HOLDERS = (functional, losses, conv, pooling, ops, elementwise, shape, layers.BatchNorm1d)
# Reading a tensor's value in Python: the plan would bake in one call's value.
VALUE_READS = ["item", "__float__", "__int__", "__bool__", "tolist", "numpy", "__array__"]

_lock = threading.Lock()   # one trace at a time: the wrappers are process-wide


class Tracer:
    """``with Tracer(strict) as trace: fn(*args)`` records ``trace``."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.trace = Trace()
        self.thread = threading.get_ident()
        self.depth = 0            # > 0 inside a recorded op or effect
        self._saved: list[tuple[Any, str, Any]] = []

    # -- the switch -------------------------------------------------------------
    def __enter__(self) -> Trace:
        _lock.acquire()
        try:
            self._install()
        except BaseException:
            self._uninstall()
            _lock.release()
            raise
        return self.trace

    def __exit__(self, *exc: Any) -> None:
        self._uninstall()
        _lock.release()

    def _patch(self, owner: Any, name: str, wrapper: Any) -> None:
        self._saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, wrapper)

    def _uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)

    def _install(self) -> None:
        holders = HOLDERS + (sys.modules["minidl"],)
        for kind, (home, name) in RECORDED_OPS.items():
            original = getattr(home, name)
            wrapper = self._recorded_op(kind, original)
            for holder in holders:
                for attribute, value in list(vars(holder).items()):
                    if value is original:
                        self._patch(holder, attribute, wrapper)
        for optimizer in dict.fromkeys((Optimizer, *_subclasses(Optimizer))):  # the outermost
            for name in ("zero_grad", "step"):    # call is recorded (a pair's own step)
                if name in vars(optimizer):
                    self._patch(optimizer, name, self._effect(name, vars(optimizer)[name]))
        self._patch(module_mod.Module, "zero_grad",
                    self._effect("zero_grad", module_mod.Module.zero_grad))
        self._patch(Tensor, "backward", self._effect("backward", Tensor.backward))
        self._patch(module_mod.Module, "__call__", self._module_call(module_mod.Module.__call__))
        self._patch(Tensor, "_make", staticmethod(self._watch(
            Tensor._make, lambda data, parents, backward: f"the op {_op_name(backward)} has "
                                                          f"no compiled form")))
        self._patch(Tensor, "__init__", self._watch(
            Tensor.__init__, lambda *a, **k: "the step makes a tensor from Python data "
                                              "(minidl.tensor, randn, ...): pass it as an input"))
        self._patch(Tensor, "_written", self._watch(
            Tensor._written, lambda *a: "the step writes into a tensor in place"))
        for scheduler in vars(lr_scheduler).values():    # each class with a step of its own
            if (isinstance(scheduler, type) and scheduler.__module__ == lr_scheduler.__name__
                    and "step" in vars(scheduler)):
                self._patch(scheduler, "step", self._effect("scheduler", scheduler.step))
        for name in ("clip_grad_norm_", "clip_grad_value_"):
            self._patch(nn_utils, name, self._clip(getattr(nn_utils, name)))
        for name in ("get_total_norm", "clip_grads_with_norm_"):
            self._patch(nn_utils, name, self._watch(
                getattr(nn_utils, name), lambda *a, name=name, **k: f"nn.utils.{name}: "
                f"the plan records clip_grad_norm_, which does both halves, not the halves"))
        self._patch(nn_utils, "_grad_arrays", self._watch(
            nn_utils._grad_arrays, lambda *a: "gradients were clipped by a path the plan "
            "cannot record (clip_grad_norm_ imported by name before tracing?)"))
        for name in VALUE_READS:
            self._patch(Tensor, name, self._watch(
                getattr(Tensor, name), lambda *a, name=name: f"the step reads a tensor's "
                f"value in Python ({name}): the plan cannot follow Python that depends on it"))
        for name in ("step", "zero_grad"):
            self._patch(flat_mod.FlatGroup, name, self._watch(
                getattr(flat_mod.FlatGroup, name), lambda *a, name=name: f"an optimizer's "
                f"{name} ran by a path the plan cannot record (a bound method saved before "
                f"tracing?)"))

    # -- wrappers ---------------------------------------------------------------
    def _here(self) -> bool:
        """Recording applies: this thread, outside any recorded call."""
        return self.depth == 0 and threading.get_ident() == self.thread

    def refuse(self, reason: str) -> None:
        """Keep the first reason; raise it when strict."""
        if self.trace.reason is None:
            self.trace.reason = reason
        if self.strict:
            raise CompileError(reason)

    def _inside(self, function: Callable, args: tuple, kwargs: dict) -> Any:
        self.depth += 1
        try:
            return function(*args, **kwargs)
        finally:
            self.depth -= 1

    def _watch(self, original: Callable, reason: Callable[..., str]) -> Callable:
        def watched(*args: Any, **kwargs: Any) -> Any:
            if self._here():
                self.refuse(reason(*args, **kwargs))
            return original(*args, **kwargs)
        return watched

    def _recorded_op(self, kind: str, original: Callable) -> Callable:
        signature = inspect.signature(original)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            if not self._here():
                return original(*args, **kwargs)
            output = self._inside(original, args, kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            self.trace.events.append(("op", OpRecord(kind, dict(bound.arguments), output)))
            return output
        return recorded

    def _effect(self, kind: str, original: Callable) -> Callable:
        signature = inspect.signature(original)

        def effect(obj: Any, *args: Any, **kwargs: Any) -> Any:
            if not self._here():
                return original(obj, *args, **kwargs)
            bound = signature.bind(obj, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(signature.parameters)))   # self
            self.trace.events.append((kind, obj, arguments))
            return self._inside(original, (obj, *args), kwargs)
        return effect

    def _clip(self, original: Callable) -> Callable:
        signature = inspect.signature(original)

        def clip(parameters: Any, *args: Any, **kwargs: Any) -> Any:
            if not self._here():
                return original(parameters, *args, **kwargs)
            parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
            bound = signature.bind(parameters, *args, **kwargs)
            self.trace.events.append(("clip", original, dict(bound.arguments)))
            return self._inside(original, (parameters, *args), kwargs)
        return clip

    def _module_call(self, original: Callable) -> Callable:
        def call(module: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == self.thread:
                if module_mod.has_call_hooks(module):
                    self.refuse(f"{type(module).__name__} has a forward hook or a full "
                                f"backward hook: the plan does not run Python hooks")
                if all(module is not m for m in self.trace.modules):
                    self.trace.modules.append(module)
            return original(module, *args, **kwargs)
        return call


def _subclasses(cls: type) -> list[type]:
    """Every subclass of ``cls``, at any depth."""
    return [sub for child in cls.__subclasses__() for sub in (child, *_subclasses(child))]


def _op_name(backward: Callable) -> str:
    """The op's name, from its backward closure: ``relu.<locals>.<lambda>`` -> relu."""
    return getattr(backward, "__qualname__", "?").split(".<locals>")[0]
