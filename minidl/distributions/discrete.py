"""Discrete distributions: Bernoulli, Categorical and OneHotCategorical, each given
either ``probs`` or ``logits`` (the other is computed on first use).

    Bernoulli:    log p(x) = x l - softplus(l),   l = logit(probs), x in {0, 1}
    Categorical:  log p(k) = logits_k - logsumexp(logits), k in {0 .. K-1}

They have no ``rsample``: a discrete draw has no gradient. Draws invert the CDF of
a uniform from minidl's generator.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..creation import arange
from ..ops import gather, one_hot
from ..random import generator as numpy_generator
from ..tensor import Tensor
from ..typeinfo import Size
from . import constraints
from .distribution import (Distribution, broadcast_all, lazy_property, logits_to_probs,
                           probs_to_logits)

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical"]


def _softplus(x: Tensor) -> Tensor:
    """ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), without overflow."""
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


def _one_of(probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or sigmoid(``logits``)), else 0."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None):
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        param = self.probs if probs is not None else self.logits
        super().__init__(param.shape, validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    def _parameters(self) -> list[str]:
        return ["probs" if "probs" in vars(self) else "logits"]

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        """1 where probs > 1/2, 0 below, NaN at 1/2."""
        p = self.probs._data
        return Tensor(np.where(p == 0.5, np.nan, p > 0.5), dtype=self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        draws = numpy_generator().random(tuple(shape)) < self.probs._data
        return Tensor(draws, dtype=self.probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return logits * value - _softplus(logits)

    def entropy(self) -> Tensor:
        """softplus(l) - l p: the binary cross-entropy of probs with itself."""
        return _softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(2, dtype=self._dtype()).reshape((2,) + (1,) * len(self.batch_shape))
        return values.expand((2,) + tuple(self.batch_shape)) if expand else values


class Categorical(Distribution):
    """k in {0 .. K-1} with probability probs[..., k] (probs normalised over the last dim,
    or softmax of ``logits``); the batch is every dim but the last."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None):
        _one_of(probs, logits)
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


class OneHotCategorical(Distribution):
    """A Categorical draw as a one-hot vector of length K (the event shape)."""
    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None):
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    def expand(self, batch_shape: Any, _instance: Any = None) -> OneHotCategorical:
        categorical = self._categorical.expand(batch_shape)
        name = categorical._parameters()[0]
        return self._expanded(OneHotCategorical(**{name: getattr(categorical, name)},
                                                validate_args=False))

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return one_hot(self.probs.argmax(-1), self.event_shape[-1]).to(self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        index = self._categorical.sample(sample_shape)
        return one_hot(index, self.event_shape[-1]).to(self.probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        k = self.event_shape[-1]
        values = Tensor(np.eye(k), dtype=self.probs.dtype).reshape(
            (k,) + (1,) * len(self.batch_shape) + (k,))
        return values.expand((k,) + tuple(self.batch_shape) + (k,)) if expand else values
