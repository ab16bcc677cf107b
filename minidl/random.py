"""One seeded random generator for everything in minidl that draws numbers.

``manual_seed(s)`` makes ``randn``, ``rand``, weight initialisation, Dropout and
shuffling repeatable, as ``torch.manual_seed`` does.
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed minidl's generator and return it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator() -> np.random.Generator:
    """The generator in use now."""
    return _generator
