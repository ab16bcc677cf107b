"""Gamma(concentration, rate), drawn with implicit reparameterisation (Beta uses it too).

A Gamma(alpha, 1) draw x comes from numpy's rejection sampler, which is no smooth
function of alpha. Its gradient is the implicit one (Figurnov et al. 2018): x is
where the CDF P(alpha, x) equals a fixed uniform u, so

    dx/dalpha = -(dP/dalpha)(alpha, x) / p(x; alpha),   p(x) = x^(alpha-1) e^-x / Gamma(alpha),

dP/dalpha a central difference of scipy's regularized incomplete gamma function
(of its complement Q = 1 - P in the right tail, where P is close to 1). Then
Gamma(alpha, rate) = x / rate and Beta(a, b) = x_a / (x_a + x_b).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import digamma, lgamma, xlogy
from ..random import generator as numpy_generator
from ..special import gammainc
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Gamma", "standard_gamma"]


def _implicit_gradient(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/dalpha of a Gamma(alpha, 1) draw x, in float64."""
    import scipy.special as sp   # at first use: it takes 0.1 s to import
    alpha, x = alpha.astype(np.float64), x.astype(np.float64)
    h = 1e-5 * np.maximum(alpha, 1e-3)
    right_tail = x > alpha
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d_lower = (sp.gammainc(alpha + h, x) - sp.gammainc(alpha - h, x)) / (2 * h)
        d_upper = -(sp.gammaincc(alpha + h, x) - sp.gammaincc(alpha - h, x)) / (2 * h)
        density = np.exp((alpha - 1) * np.log(x) - x - sp.gammaln(alpha))
        return np.where(density > 0, -np.where(right_tail, d_upper, d_lower) / density, 0)


def standard_gamma(concentration: Tensor) -> Tensor:
    """A Gamma(concentration, 1) draw per element, from minidl's generator; its gradient
    is the implicit one above."""
    alpha = concentration._data
    x = numpy_generator().standard_gamma(alpha).astype(alpha.dtype)
    np.maximum(x, np.finfo(alpha.dtype).tiny, out=x)
    return Tensor._make(x, (concentration,), lambda g: (
        g * _implicit_gradient(alpha, x).astype(alpha.dtype),))


class Gamma(Distribution):
    """Gamma(concentration, rate):  log p(x) = a ln rate + (a - 1) ln x - rate x - lgamma(a)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        a, rate = self.concentration, self.rate
        return xlogy(a, rate) + xlogy(a - 1, value) - rate * value - lgamma(a)

    def cdf(self, value: Tensor) -> Tensor:
        """P(a, rate x); no gradient in the concentration (nor has PyTorch's)."""
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        """a - ln rate + lgamma(a) + (1 - a) digamma(a)."""
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1 - a) * digamma(a)
