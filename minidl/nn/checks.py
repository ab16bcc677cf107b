"""Argument checks that functions and layers share (imports nothing from minidl.nn).

Exception types follow PyTorch's. Where PyTorch refuses bad input with an
AssertionError (``MultiheadAttention``'s shape and mask checks), minidl raises
``InputAssertionError``: an AssertionError, so code written for PyTorch catches
it, and the ValueError that minidl raises for every other bad value.
"""
from __future__ import annotations

import numbers

__all__ = ["InputAssertionError", "check_probability"]


class InputAssertionError(ValueError, AssertionError):
    """Bad input where PyTorch raises an AssertionError: both that and a ValueError."""


def check_probability(p: float, name: str = "p", error: type[Exception] = ValueError) -> None:
    """A dropout probability must be a number in [0, 1] (``error`` otherwise: PyTorch's
    modules raise a ValueError, ``scaled_dot_product_attention`` a RuntimeError)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise error(f"Invalid dropout probability: {name}={p!r} (needs 0 <= {name} <= 1)")
