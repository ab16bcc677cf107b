"""Argument checks that functions and layers share (imports nothing from minidl.nn)."""
from __future__ import annotations

import numbers

__all__ = ["check_probability"]


def check_probability(p: float) -> None:
    """Dropout's p must be a number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"Invalid dropout probability: p={p!r} (needs 0 <= p <= 1)")
