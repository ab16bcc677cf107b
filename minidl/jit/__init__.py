"""``minidl.compile``: trace a step once, replay it as a plan.

    step = minidl.compile(train_step)    # train_step(x, y): forward, loss,
    loss = step(x, y)                    # zero_grad, backward, step; returns the loss

The first call with inputs of a new kind runs ``fn`` eagerly under a tracer
(``trace.py``) and builds a ``Plan`` from what it recorded (``plan.py``);
later calls of that kind replay the plan without running ``fn``. A call's kind
is its key: the inputs' types, shapes, dtypes and requires_grad, the grad mode,
and for every module the step called, its training flag, whether it has hooks
and which parameters and submodules it holds (a layer swapped for another is a
new key), and for every parameter the plan reads, its requires_grad. A new key gets
a plan of its own (the last, smaller batch of an epoch; ``eval()``; ``no_grad``).

Whatever a plan cannot hold makes that key run eagerly, with a warning naming
the reason, once per reason; ``fallback=False`` raises ``CompileError``
instead, at the point of tracing where the reason shows. As with ``jax.jit``,
a plan holds the objects ``fn`` used when it was traced: Python side effects of
``fn`` other than the recorded ones (printing, appending to a list) happen at
the tracing call only, and Python values it reads (a flag passed as
``F.dropout(x, training=flag)``) are those of the tracing call. A compiled step
runs one call at a time: its plans' buffers are shared between calls.
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np

from .. import grad_mode
from ..nn.module import Module, has_call_hooks
from ..tensor import Tensor
from .forms import Unsupported
from .plan import Plan, check_outputs
from .trace import CompileError, Tracer

__all__ = ["compile", "CompiledStep", "CompileError"]


class _Eager:
    """The entry of a key whose calls run eagerly, and why."""

    def __init__(self, reason: str):
        self.reason = reason


class _Entry:
    """A plan with what it needs at each call: the modules and parameters whose
    flags are in the key, and the rebuilder of ``fn``'s result."""

    def __init__(self, plan: Plan, modules: list, result: Callable[[], Any]):
        self.plan, self.modules, self.result = plan, modules, result


class CompiledStep:
    """``fn`` traced once per key and replayed (see the module docstring)."""

    def __init__(self, fn: Callable[..., Any], fallback: bool = True):
        if not callable(fn):
            raise TypeError(f"minidl.compile expects a function, got {type(fn).__name__}")
        if not isinstance(fallback, bool):
            raise TypeError(f"fallback must be True or False, not {fallback!r}")
        self.fn, self.fallback = fn, fallback
        self._entries: dict[tuple, _Entry | _Eager] = {}
        self._modules: list = []     # every module any trace called: their flags key the plans
        self._params: list = []      # every parameter any plan reads
        self._warned: set[str] = set()
        self._last: _Entry | _Eager | None = None
        functools.update_wrapper(self, fn)

    def _key(self, args: tuple) -> tuple:
        inputs = tuple((type(a), a.shape, a.dtype, a._requires_grad) if isinstance(a, Tensor)
                       else (type(a), a.shape, a.dtype) if isinstance(a, np.ndarray)
                       else (type(a), a) for a in args)
        modules = tuple([(m.training, has_call_hooks(m),
                          *map(id, m._parameters.values()), *map(id, m._modules.values()))
                         for m in self._modules])
        params = tuple([p._requires_grad for p in self._params])
        return inputs, grad_mode._mode.enabled, modules, params

    def __call__(self, *args: Any) -> Any:
        try:
            key = self._key(args)
            entry = self._entries.get(key)     # hashes the key once: no separate hash()
        except TypeError:
            return self._eager(args, "an input is neither an array, a tensor nor a hashable "
                                     "constant")
        if entry is None:
            return self._trace(key, args)
        self._last = entry
        if isinstance(entry, _Eager):
            return self._eager(args, entry.reason)
        plan = entry.plan
        if not plan.holds([a._data if isinstance(a, Tensor) else a for a in args]):
            return self.fn(*args)             # e.g. a target holding ignore_index: eager
        plan.run()
        return entry.result()

    def _trace(self, key: tuple, args: tuple) -> Any:
        tracer = Tracer(strict=not self.fallback)
        with tracer as trace:
            result = self.fn(*args)
        reason = trace.reason
        entry: _Entry | _Eager
        if reason is None:
            try:
                names = {}
                for module in trace.modules:
                    for name, param in module.named_parameters():
                        names.setdefault(id(param), name)
                plan = Plan(trace, list(args), names, _tensor_ids(result))
                entry = _Entry(plan, trace.modules, check_outputs(result, plan))
            except Unsupported as error:
                reason = str(error)
        if reason is not None:
            if not self.fallback:
                raise CompileError(reason)
            entry = _Eager(reason)
            self._warn(reason)
        else:
            self._modules += [m for m in entry.modules if all(m is not k for k in self._modules)]
            self._params += [p for _, p in entry.plan.params
                             if all(p is not k for k in self._params)]
            key = self._key(args)      # the key now covers these modules and parameters
        self._entries[key] = entry
        self._last = entry
        return result

    def _eager(self, args: tuple, reason: str) -> Any:
        self._warn(reason)
        return self.fn(*args)

    def _warn(self, reason: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"minidl.compile: {getattr(self.fn, '__name__', 'fn')} runs eagerly: "
                          f"{reason}", RuntimeWarning, stacklevel=3)

    @property
    def plan(self) -> str:
        """The plan of the last call, as text (its reason when that call ran eagerly)."""
        if self._last is None:
            return "no plan yet: call the step once to trace it"
        if isinstance(self._last, _Eager):
            return f"eager (no plan): {self._last.reason}"
        return str(self._last.plan)

    def __repr__(self) -> str:
        return f"minidl.compile({getattr(self.fn, '__name__', self.fn)!r}, " \
               f"{len(self._entries)} plan(s))"


def _tensor_ids(result: Any) -> set[int]:
    """The ids of the tensors in what the step returned (a tensor, or tuples of them)."""
    if isinstance(result, (tuple, list)):
        return set().union(*map(_tensor_ids, result)) if result else set()
    return {id(result)}


def compile(fn: Callable[..., Any] | None = None, fallback: bool = True, *,
            fullgraph: bool = False, dynamic: bool | None = None, backend: Any = "inductor",
            mode: str | None = None, options: dict | None = None, disable: bool = False) -> Any:
    """``fn`` traced on its first call per key and replayed as a plan afterwards;
    ``fallback=False`` raises ``CompileError`` where eager execution would be used.

    PyTorch's forms of ``torch.compile`` work too: as a decorator, ``@compile`` or
    ``@compile(...)``; ``fullgraph=True`` is ``fallback=False`` (a break in the
    graph raises); ``disable=True`` returns ``fn``; and ``compile(model)`` of a
    Module returns the module itself, unchanged (no ``_orig_mod.`` in its
    state_dict): minidl compiles a whole step, forward, backward and update, which
    a module alone does not hold. ``dynamic``, ``backend``, ``mode`` and
    ``options`` choose among torch's compilers and change nothing here."""
    if fn is None:
        return functools.partial(compile, fallback=fallback, fullgraph=fullgraph,
                                 disable=disable)
    for name, value in (("fallback", fallback), ("fullgraph", fullgraph), ("disable", disable)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, not {value!r}")
    if disable or isinstance(fn, Module):
        return fn
    return CompiledStep(fn, False if fullgraph else fallback)
