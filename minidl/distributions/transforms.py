"""Elementwise bijections for TransformedDistribution, as torch.distributions.transforms:
``t(x)`` is y, ``t.inv(y)`` is x, ``t.log_abs_det_jacobian(x, y)`` is ln |dy/dx|:

    ExpTransform             y = e^x               ln |dy/dx| = x
    AffineTransform(m, s)    y = m + s x           ln |s|
    SigmoidTransform         y = 1 / (1 + e^-x)    -softplus(-x) - softplus(x)
    TanhTransform            y = tanh x            2 (ln 2 - x - softplus(-2 x))
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops import sigmoid, softplus
from ..tensor import Tensor
from . import constraints

__all__ = ["Transform", "ExpTransform", "AffineTransform", "SigmoidTransform", "TanhTransform"]


class Transform:
    """A bijection from ``domain`` to ``codomain``; ``inv`` is its inverse, a Transform."""
    domain: constraints.Constraint = constraints.real
    codomain: constraints.Constraint = constraints.real
    bijective = True
    event_dim = 0
    sign: Any = 1   # of dy/dx: +1 where y increases with x

    @property
    def inv(self) -> Transform:
        return _Inverse(self)

    def __call__(self, x: Tensor) -> Tensor:
        return self._call(x)

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _Inverse(Transform):
    """y -> x of ``transform``; its log |det J| is minus the forward one's."""

    def __init__(self, transform: Transform):
        self._inv = transform
        self.domain, self.codomain = transform.codomain, transform.domain
        self.sign = transform.sign

    @property
    def inv(self) -> Transform:
        return self._inv

    def _call(self, x: Tensor) -> Tensor:
        return self._inv._inverse(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self._inv._call(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)


class ExpTransform(Transform):
    codomain = constraints.positive

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class AffineTransform(Transform):
    """y = loc + scale x, loc and scale numbers or Tensors broadcast with x."""

    def __init__(self, loc: Any, scale: Any):
        self.loc, self.scale = loc, scale
        self.sign = scale.sign() if isinstance(scale, Tensor) else (1 if scale > 0 else -1)

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if isinstance(self.scale, Tensor):
            return self.scale.abs().log().expand(np.broadcast_shapes(x.shape, self.scale.shape))
        return x * 0 + math.log(abs(self.scale))


class SigmoidTransform(Transform):
    """y in [tiny, 1 - eps] of x's dtype, so that the inverse stays finite (PyTorch's)."""
    codomain = constraints.unit_interval

    def _call(self, x: Tensor) -> Tensor:
        finfo = np.finfo(x.dtype)
        return sigmoid(x).clamp(float(finfo.tiny), float(1 - finfo.eps))

    def _inverse(self, y: Tensor) -> Tensor:
        finfo = np.finfo(y.dtype)
        y = y.clamp(float(finfo.tiny), float(1 - finfo.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """The squashing of a tanh-Gaussian policy (SAC)."""
    codomain = constraints.Interval(-1.0, 1.0)

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.atanh()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))
