"""An optimizer's hooks, as PyTorch's: around ``step``, ``state_dict`` and
``load_state_dict``, each registration returning a removable handle.

    register_step_pre_hook(hook)              hook(optimizer, args, kwargs) -> None, or
                                              (new_args, new_kwargs) for the step
    register_step_post_hook(hook)             hook(optimizer, args, kwargs) -> None
    register_state_dict_pre_hook(hook)        hook(optimizer) -> None
    register_state_dict_post_hook(hook)       hook(optimizer, state_dict) -> None, or
                                              the state dict to return instead
    register_load_state_dict_pre_hook(hook)   hook(optimizer, state_dict) -> None, or
                                              the state dict to load instead (it gets
                                              a shallow copy of the caller's)
    register_load_state_dict_post_hook(hook)  hook(optimizer) -> None

The three methods are wrapped once per class that defines them (``__init_subclass__``),
so an optimizer whose ``step`` calls ``super().step()`` runs its hooks once: a
wrapped method called inside another of the same name runs bare. The hooks
belong to the optimizer object: a pickled or deep-copied optimizer has none.
A compiled step (``minidl.compile``) replays ``optimizer.step()`` through this
wrapper, so step hooks run at every call, added before or after tracing.
"""
from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any, Callable, Mapping

from ..hooks import RemovableHandle

Hook = Callable[..., Any]


class OptimizerHooks:
    """The registration methods, and the wrapping of step / state_dict / load_state_dict."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, runner in _RUNNERS.items():
            if name in vars(cls):
                setattr(cls, name, _hooked(name, runner, vars(cls)[name]))

    def _hooks(self, kind: str) -> OrderedDict[int, Hook]:
        return self.__dict__.setdefault(f"_optimizer_{kind}_hooks", OrderedDict())

    def _register(self, kind: str, hook: Hook, prepend: bool = False) -> RemovableHandle:
        hooks = self._hooks(kind)
        handle = RemovableHandle(hooks, hook)
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook: Hook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``."""
        return self._register("step_pre", hook)

    def register_step_post_hook(self, hook: Hook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return self._register("step_post", hook)

    def register_state_dict_pre_hook(self, hook: Hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` before ``state_dict`` (first, with ``prepend``)."""
        return self._register("state_dict_pre", hook, prepend)

    def register_state_dict_post_hook(self, hook: Hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` after ``state_dict``."""
        return self._register("state_dict_post", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Hook,
                                          prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` before ``load_state_dict``."""
        return self._register("load_state_dict_pre", hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Hook,
                                           prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` after ``load_state_dict``."""
        return self._register("load_state_dict_post", hook, prepend)


def _hooked(name: str, runner: Callable[..., Any], method: Callable[..., Any]
            ) -> Callable[..., Any]:
    """``method`` running its hooks through ``runner``, unless called inside itself."""
    @functools.wraps(method)
    def wrapper(self: OptimizerHooks, *args: Any, **kwargs: Any) -> Any:
        running = self.__dict__.setdefault("_hooked_methods_running", set())
        if name in running:
            return method(self, *args, **kwargs)
        running.add(name)
        try:
            return runner(self, method, args, kwargs)
        finally:
            running.discard(name)
    return wrapper


def _step(self: OptimizerHooks, method: Callable[..., Any], args: tuple,
          kwargs: dict[str, Any]) -> Any:
    for hook in list(self._hooks("step_pre").values()):
        result = hook(self, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{hook} must return None or a tuple of (new_args, "
                                   f"new_kwargs), but got {result}.")
            args, kwargs = result
    out = method(self, *args, **kwargs)
    for hook in list(self._hooks("step_post").values()):
        hook(self, args, kwargs)
    return out


def _state_dict(self: OptimizerHooks, method: Callable[..., Any], args: tuple,
                kwargs: dict[str, Any]) -> Any:
    for hook in list(self._hooks("state_dict_pre").values()):
        hook(self)
    state_dict = method(self, *args, **kwargs)
    for hook in list(self._hooks("state_dict_post").values()):
        result = hook(self, state_dict)
        if result is not None:
            state_dict = result
    return state_dict


def _load_state_dict(self: OptimizerHooks, method: Callable[..., Any], args: tuple,
                     kwargs: dict[str, Any]) -> Any:
    pre_hooks = list(self._hooks("load_state_dict_pre").values())
    if pre_hooks:
        (state_dict,) = args or (kwargs.pop("state_dict"),)
        state_dict = dict(state_dict) if isinstance(state_dict, Mapping) else state_dict
        for hook in pre_hooks:
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        args = (state_dict,)
    method(self, *args, **kwargs)
    for hook in list(self._hooks("load_state_dict_post").values()):
        hook(self)


_RUNNERS = {"step": _step, "state_dict": _state_dict, "load_state_dict": _load_state_dict}
