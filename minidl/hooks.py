"""Hooks: functions that a Tensor or a Module calls at a fixed point, and the
handle that takes one off again (PyTorch's ``RemovableHandle``).

A hook lives in an ordered dict of its owner under a fresh integer key, so the
hooks run in the order they were registered and ``handle.remove()`` deletes
exactly the one it was given for, once.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

_keys = itertools.count()


class RemovableHandle:
    """``handle.remove()`` (or leaving ``with handle:``) unregisters the hook."""

    def __init__(self, hooks: dict[int, Callable[..., Any]], hook: Callable[..., Any]):
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__} {hook!r}")
        self.id = next(_keys)
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        """Unregister the hook; removing it twice is harmless."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"RemovableHandle(id={self.id}, active={self.id in self._hooks})"
