"""Checking an estimator's parameters in ``fit``, as scikit-learn does, on public API only.

scikit-learn's own ``_parameter_constraints`` / ``Interval`` / ``StrOptions``
live in the private ``sklearn.utils._param_validation``, which may change in any
release. Each rule here is a predicate and the words that describe it; a value
that breaks its rule raises ``InvalidParameterError`` with scikit-learn's wording:

    The 'epochs' parameter of MLPClassifier must be an int >= 1. Got 0 instead.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Callable

import numpy as np

Rule = tuple[Callable[[Any], bool], str]


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or out of range (catchable as either, as in sklearn)."""


def _real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) \
        and math.isfinite(value)


def _int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def real(low: float, high: float | None = None, *, low_open: bool = False,
         high_open: bool = True) -> Rule:
    """A finite real number in the interval given (``high`` None: no upper bound)."""
    def rule(value: Any) -> bool:
        return _real(value) and (value > low if low_open else value >= low) and (
            high is None or (value < high if high_open else value <= high))
    left, right = "(" if low_open else "[", ")" if high is None or high_open else "]"
    return rule, f"a finite real number in {left}{low:g}, {'inf' if high is None else f'{high:g}'}{right}"


def integer(low: int) -> Rule:
    return (lambda value: _int(value) and value >= low), f"an int >= {low}"


def options(*allowed: str) -> Rule:
    return (lambda value: isinstance(value, str) and value in allowed,
            f"a str among {sorted(allowed)}")


def either(*rules: Rule) -> Rule:
    return (lambda value: any(check(value) for check, _ in rules),
            " or ".join(words for _, words in rules))


BOOLEAN: Rule = (lambda value: isinstance(value, (bool, np.bool_)), "a bool")
VERBOSE: Rule = either(BOOLEAN, integer(0))
RANDOM_STATE: Rule = (
    lambda value: value is None or isinstance(value, np.random.RandomState)
    or (_int(value) and 0 <= value <= 2**32 - 1),
    "None, an int in [0, 2**32 - 1] or a numpy RandomState")
ARRAY_LIKE: Rule = (lambda value: hasattr(value, "__len__") or hasattr(value, "__array__"),
                    "an array-like")


def check_parameters(estimator: Any, rules: dict[str, Rule]) -> None:
    """InvalidParameterError for the first parameter of ``estimator`` that breaks its rule."""
    for name, (check, words) in rules.items():
        value = getattr(estimator, name)
        if not check(value):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be {words}. "
                f"Got {value!r} instead.")
