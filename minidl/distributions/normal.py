"""Normal(loc, scale): rsample is loc + scale * z, z ~ N(0, 1) from minidl's generator."""
from __future__ import annotations

import math
from typing import Any

from ..ops import erf, erfinv
from ..tensor import Tensor
from .distribution import LocationScale

__all__ = ["Normal"]

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


class Normal(LocationScale):
    """N(loc, scale^2):  log p(x) = -(x - loc)^2 / (2 scale^2) - ln scale - ln sqrt(2 pi)."""

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.loc + self._noise(sample_shape, "standard_normal") * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() \
            - _LOG_SQRT_2PI

    def cdf(self, value: Tensor) -> Tensor:
        """(1 + erf((x - loc) / (scale sqrt 2))) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value: Tensor) -> Tensor:
        """loc + scale sqrt(2) erfinv(2 p - 1)."""
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        """1/2 + ln sqrt(2 pi) + ln scale."""
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()
