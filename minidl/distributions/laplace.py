"""Laplace(loc, scale): rsample is loc - scale * sign(u) * ln(1 - |u|), u ~ U(-1, 1)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from .distribution import LocationScale

__all__ = ["Laplace"]


class Laplace(LocationScale):
    """Laplace(loc, scale):  log p(x) = -ln(2 scale) - |x - loc| / scale."""

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = float(np.finfo(self._dtype()).eps)
        u = self._noise(sample_shape, "uniform", low=eps - 1, high=1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        """1/2 - sign(x - loc) expm1(-|x - loc| / scale) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() \
            * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        """loc - scale sign(p - 1/2) ln(1 - 2 |p - 1/2|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        """1 + ln(2 scale)."""
        return 1 + (2 * self.scale).log()
