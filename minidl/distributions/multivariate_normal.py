"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril).

Everything goes through the Cholesky factor L of the covariance (L L^T = Sigma):

    rsample      loc + L z,  z ~ N(0, I)
    log_prob     -(k ln(2 pi) + |L^-1 (x - loc)|^2) / 2 - sum ln diag(L)
    entropy      k (1 + ln(2 pi)) / 2 + sum ln diag(L)

L^-1 (x - loc) is a triangular solve (minidl.linalg.solve_triangular), never an inverse.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..linalg import cholesky, inv, solve_triangular
from ..tensor import Tensor
from ..typeinfo import Size
from . import constraints
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["MultivariateNormal", "batch_mahalanobis"]


def batch_mahalanobis(scale_tril: Tensor, x: Tensor) -> Tensor:
    """|L^-1 x|^2 over the last dim, L and x broadcast over their batch dims."""
    return (solve_triangular(scale_tril, x.unsqueeze(-1), upper=False) ** 2).sum((-2, -1))


def half_log_det(scale_tril: Tensor) -> Tensor:
    """ln sqrt(det Sigma) = sum ln diag(L)."""
    return scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors of length k (the event shape), given Sigma, its inverse
    or its lower Cholesky factor; batches of loc and the matrix broadcast together."""
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {"scale_tril": scale_tril, "covariance_matrix": covariance_matrix,
                 "precision_matrix": precision_matrix}
        given = {name: value for name, value in given.items() if value is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        (name, matrix), = given.items()
        if matrix.ndim < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = np.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(batch_shape + matrix.shape[-2:]))
        self.loc = loc.expand(batch_shape + loc.shape[-1:])
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(inv(precision_matrix))

    def expand(self, batch_shape: Any, _instance: Any = None) -> MultivariateNormal:
        batch_shape = Size(batch_shape)
        k = self.event_shape[0]
        return self._expanded(MultivariateNormal(
            self.loc.expand(batch_shape + (k,)),
            scale_tril=self._unbroadcasted_scale_tril.expand(batch_shape + (k, k)),
            validate_args=False))

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self.batch_shape + self.event_shape + self.event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return inv(L @ L.mT).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(
            tuple(self.batch_shape + self.event_shape))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = self._noise(sample_shape, "standard_normal")
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _dtype(self) -> np.dtype:
        return self.loc.dtype

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        M = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        k = self.event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + M) \
            - half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self) -> Tensor:
        k = self.event_shape[0]
        H = 0.5 * k * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return H.expand(tuple(self.batch_shape))
