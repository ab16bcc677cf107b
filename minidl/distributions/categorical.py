"""Categorical(probs | logits): k in {0 .. K-1} with probability probs[..., k];
log p(k) = logits_k - logsumexp(logits). Draws invert the CDF of a uniform from
minidl's generator; no rsample."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..creation import arange
from ..ops import gather
from ..random import generator as numpy_generator
from ..tensor import Tensor
from ..typeinfo import Size
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, one_of, probs_to_logits

__all__ = ["Categorical"]


class Categorical(Distribution):
    """k in {0 .. K-1} with probability probs[..., k] (probs normalised over the last dim,
    or softmax of ``logits``); the batch is every dim but the last."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None):
        one_of(probs, logits)
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        param = self.probs if probs is not None else self.logits
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self) -> Size:
        return Size(self.batch_shape + (self._num_events,))

    def _parameters(self) -> list[str]:
        return ["probs" if "probs" in vars(self) else "logits"]

    def _param_event_shape(self, name: str) -> Size:
        return Size((self._num_events,))

    @property
    def mean(self) -> Tensor:
        return Tensor(np.full(tuple(self.batch_shape), np.nan), dtype=self._dtype())

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return self.mean

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        cdf = np.cumsum(self.probs._data.astype(np.float64), -1)
        u = numpy_generator().random(tuple(shape) + (1,)) * cdf[..., -1:]
        index = np.minimum((u >= cdf).sum(-1), self._num_events - 1)
        return Tensor(index, dtype=np.int64)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        index = np.asarray(value._data, np.int64)[..., None]
        shape = np.broadcast_shapes(index.shape, self.logits.shape)
        logits = self.logits.expand(shape)
        return gather(logits, -1, np.broadcast_to(index, shape[:-1] + (1,))).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum_k p_k ln p_k (logits clamped at the dtype's lowest, so 0 ln 0 = 0)."""
        logits = self.logits.clamp(min=float(np.finfo(self._dtype()).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand((-1,) + tuple(self.batch_shape)) if expand else values
