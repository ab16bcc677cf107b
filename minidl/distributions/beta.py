"""Beta(concentration1, concentration0): rsample is x / (x + y) of two Gamma draws, each
with its implicit reparameterisation gradient (gamma.py)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import digamma, lgamma, stack, where, xlogy
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .gamma import standard_gamma
from .utils import broadcast_all

__all__ = ["Beta"]


class Beta(Distribution):
    """Beta(a, b) on [0, 1], a = concentration1, b = concentration0:
    log p(x) = (a - 1) ln x + (b - 1) ln(1 - x) - ln B(a, b)."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any,
                 validate_args: bool | None = None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        """(a - 1) / (a + b - 2), with a - 1 and b - 1 clamped at 0; 1 where both a and b
        are below 1 (a U-shaped density, both ends modes: PyTorch picks 1)."""
        a, b = self.concentration1, self.concentration0
        am1, bm1 = (a - 1).clamp(min=0), (b - 1).clamp(min=0)
        both_below = (a._data < 1) & (b._data < 1)
        return where(both_below, 1.0, am1 / (am1 + bm1).where(~both_below, 1.0))

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration1.expand(shape))
        y = standard_gamma(self.concentration0.expand(shape))
        finfo = np.finfo(self._dtype())
        return (x / (x + y)).clamp(float(finfo.tiny), float(1 - finfo.eps))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) + lgamma(a + b) - lgamma(a) \
            - lgamma(b)

    def entropy(self) -> Tensor:
        """ln B(a, b) - (a - 1) digamma(a) - (b - 1) digamma(b) + (a + b - 2) digamma(a + b)."""
        a, b = self.concentration1, self.concentration0
        concentrations = stack([a, b], -1)
        total = a + b
        return lgamma(concentrations).sum(-1) - lgamma(total) + (total - 2) * digamma(total) \
            - ((concentrations - 1) * digamma(concentrations)).sum(-1)
