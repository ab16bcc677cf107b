"""Grad mode: whether ops record the graph that ``backward`` walks.

As in PyTorch, the mode is per thread (every thread starts enabled), and each
switch works both as a context manager and as a decorator:

    with minidl.no_grad(): ...          @minidl.no_grad()
    with minidl.enable_grad(): ...      @minidl.enable_grad()
    with minidl.inference_mode(): ...   @minidl.inference_mode()
    minidl.set_grad_enabled(False)      # also as a plain call: sets the mode now

``inference_mode`` is ``no_grad`` here: minidl keeps no extra autograd
bookkeeping that inference mode could skip.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """One flag per thread: a thread's ``no_grad`` leaves the graphs that
    other threads record alone."""
    enabled = True
    inference = False


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """False inside a ``no_grad()`` block of this thread."""
    return _mode.enabled


def is_inference_mode_enabled() -> bool:
    """True inside an ``inference_mode()`` block of this thread."""
    return _mode.inference


class _Switch:
    """Set grad mode to ``self.mode`` inside a ``with`` block or a decorated
    function, and put the previous mode back after it. A new switch is made for
    each call of a decorated function, so recursion and threads are safe."""

    mode: bool

    def __enter__(self) -> None:
        self._previous = (_mode.enabled, _mode.inference)
        _mode.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _mode.enabled, _mode.inference = self._previous

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def switched(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(*self._arguments()):
                return function(*args, **kwargs)
        return switched  # type: ignore[return-value]

    def _arguments(self) -> tuple:
        return ()


class _BareDecorator(_Switch):
    """A switch that also decorates without parentheses: ``@minidl.no_grad``."""

    def __new__(cls, function: Callable | None = None) -> Any:
        switch = super().__new__(cls)
        return switch if function is None else switch(function)

    def __init__(self, function: Callable | None = None) -> None:
        pass


class no_grad(_BareDecorator):
    """Ops record no graph inside: their outputs never require grad."""
    mode = False


class enable_grad(_BareDecorator):
    """Ops record the graph again, inside a ``no_grad`` block too."""
    mode = True


class inference_mode(_Switch):
    """``inference_mode(mode=True)``: ``no_grad``, and ``is_inference_mode_enabled()``
    is True inside; ``mode=False`` changes nothing."""

    def __init__(self, mode: bool = True) -> None:
        self._on = bool(mode)

    def __enter__(self) -> None:
        self._previous = (_mode.enabled, _mode.inference)
        if self._on:
            _mode.enabled, _mode.inference = False, True

    def _arguments(self) -> tuple:
        return (self._on,)


class set_grad_enabled(_Switch):
    """``set_grad_enabled(mode)``: sets grad mode at once, as PyTorch's does, and
    as a ``with`` block or decorator puts the previous mode back afterwards."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): mode must be True or False, not "
                            f"{type(mode).__name__} {mode!r}")
        self.mode = mode
        self._previous = (_mode.enabled, _mode.inference)
        _mode.enabled = mode

    def __enter__(self) -> None:   # __init__ has set the mode already
        pass

    def __call__(self, function: F) -> F:
        _mode.enabled, _mode.inference = self._previous   # as a decorator: no change now
        return super().__call__(function)

    def _arguments(self) -> tuple:
        return (self.mode,)
