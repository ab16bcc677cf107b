"""Constraints: the sets a distribution's parameters and samples live in, as
torch.distributions.constraints. ``check(value)`` is a bool array, True where a
value (or, with ``event_dim`` > 0, an event) satisfies the constraint; ``repr``
gives PyTorch's name, which validation errors quote.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Constraint", "real", "real_vector", "positive", "nonnegative", "unit_interval",
           "boolean", "simplex", "one_hot", "lower_cholesky", "positive_definite",
           "integer_interval", "interval", "greater_than", "less_than", "half_open_interval",
           "independent", "dependent"]


def _array(value: Any) -> np.ndarray:
    return np.asarray(value._data if hasattr(value, "_data") else value)


class Constraint:
    """A set of values; ``event_dim`` is how many rightmost dims one element spans."""
    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Dependent(Constraint):
    """A parameter whose set depends on the others (Uniform's low and high): not checked."""

    def check(self, value: Any) -> np.ndarray:
        raise ValueError("Cannot determine validity of dependent constraint")


class Real(Constraint):
    """Every real number (NaN is not)."""

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        return value == value


class GreaterThan(Constraint):
    """x > lower_bound."""

    def __init__(self, lower_bound: float):
        self.lower_bound = lower_bound

    def check(self, value: Any) -> np.ndarray:
        return _array(value) > _array(self.lower_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lower_bound={self.lower_bound})"


class LessThan(Constraint):
    """x < upper_bound."""

    def __init__(self, upper_bound: Any):
        self.upper_bound = upper_bound

    def check(self, value: Any) -> np.ndarray:
        return _array(value) < _array(self.upper_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(upper_bound={self.upper_bound})"


class GreaterThanEq(GreaterThan):
    """x >= lower_bound."""

    def check(self, value: Any) -> np.ndarray:
        return _array(value) >= _array(self.lower_bound)


class Interval(Constraint):
    """lower_bound <= x <= upper_bound."""

    def __init__(self, lower_bound: Any, upper_bound: Any):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        return (_array(self.lower_bound) <= value) & (value <= _array(self.upper_bound))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class HalfOpenInterval(Interval):
    """lower_bound <= x < upper_bound."""

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        return (_array(self.lower_bound) <= value) & (value < _array(self.upper_bound))


class IntegerInterval(Interval):
    """The integers lower_bound .. upper_bound."""
    is_discrete = True

    def check(self, value: Any) -> np.ndarray:
        return super().check(value) & (_array(value) % 1 == 0)


class Boolean(Constraint):
    """0 or 1."""
    is_discrete = True

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        return (value == 0) | (value == 1)


class Simplex(Constraint):
    """Non-negative vectors summing to 1 (within 1e-6)."""
    event_dim = 1

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        return (value >= 0).all(-1) & (np.abs(value.sum(-1) - 1) < 1e-6)


class OneHot(Constraint):
    """Vectors of zeros with a single one."""
    is_discrete = True
    event_dim = 1

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal."""
    event_dim = 2

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        lower = (np.tril(value) == value).all((-2, -1))
        return lower & (np.diagonal(value, axis1=-2, axis2=-1) > 0).all(-1)


class PositiveDefinite(Constraint):
    """Symmetric matrices with positive eigenvalues."""
    event_dim = 2

    def check(self, value: Any) -> np.ndarray:
        value = _array(value)
        symmetric = np.isclose(value, np.swapaxes(value, -1, -2), atol=1e-6).all((-2, -1))
        finite = np.isfinite(value).all((-2, -1))
        identity = np.eye(value.shape[-1])
        smallest = np.linalg.eigvalsh(np.where(finite[..., None, None], value, identity))[..., 0]
        return symmetric & finite & (smallest > 0)


class IndependentConstraint(Constraint):
    """``base`` with its rightmost ``reinterpreted_batch_ndims`` dims counted as one event."""

    def __init__(self, base: Constraint, reinterpreted_batch_ndims: int):
        self.base_constraint = base
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.is_discrete = base.is_discrete
        self.event_dim = base.event_dim + reinterpreted_batch_ndims

    def check(self, value: Any) -> np.ndarray:
        ok = self.base_constraint.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            ok = ok.all(-1)
        return ok

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


dependent = Dependent()
real = Real()
real_vector = IndependentConstraint(real, 1)
positive = GreaterThan(0.0)
nonnegative = GreaterThanEq(0.0)
unit_interval = Interval(0.0, 1.0)
boolean = Boolean()
simplex = Simplex()
one_hot = OneHot()
lower_cholesky = LowerCholesky()
positive_definite = PositiveDefinite()
integer_interval = IntegerInterval
interval = Interval
greater_than = GreaterThan
less_than = LessThan
half_open_interval = HalfOpenInterval
independent = IndependentConstraint
