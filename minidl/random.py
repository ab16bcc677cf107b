"""One seeded random generator for everything in minidl that draws numbers.

``manual_seed(s)`` makes ``randn``, ``rand``, weight initialisation, Dropout and
shuffling repeatable, as ``torch.manual_seed`` does.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import numpy as np

_generator = np.random.default_rng()
_local = threading.local()   # .generator: this thread's override inside ``seeded``


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed minidl's generator and return it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator() -> np.random.Generator:
    """The generator in use now: this thread's inside ``seeded``, else the global one."""
    override = getattr(_local, "generator", None)
    return _generator if override is None else override


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[np.random.Generator]:
    """Inside the block this thread draws from its own ``default_rng(seed)``; the
    global generator, and every other thread, are left as they were."""
    previous = getattr(_local, "generator", None)
    _local.generator = np.random.default_rng(seed)
    try:
        yield _local.generator
    finally:
        _local.generator = previous
