"""The Distribution base class, as torch.distributions.Distribution.

A distribution's shape has two parts: ``batch_shape``, independent distributions
with their own parameters, and ``event_shape``, the shape of one draw of one of
them (() for scalars, (k,) for a k-dimensional normal). ``sample(sample_shape)``
returns sample_shape + batch_shape + event_shape; ``log_prob(value)`` returns one
log density per event. ``rsample`` draws through a differentiable function of the
parameters (the reparameterisation trick), ``sample`` draws without a graph.

Draws come from minidl's global generator (``minidl.manual_seed`` makes them
repeatable); they are not PyTorch's values. With ``validate_args`` (the default,
as PyTorch's under ``__debug__``) the parameters and every ``log_prob`` value are
checked against their constraints and refused with PyTorch's ValueError.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..grad_mode import no_grad
from ..random import generator as numpy_generator
from ..tensor import Tensor
from ..typeinfo import Size
from . import constraints
from .utils import broadcast_all

__all__ = ["Distribution", "LocationScale"]


def _size(shape: Any) -> Size:
    return Size((shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))


class Distribution:
    """The interface every distribution shares; subclasses set ``arg_constraints``,
    ``support`` and ``has_rsample`` and implement what they have."""
    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict[str, constraints.Constraint] = {}
    support: constraints.Constraint | None = None
    _validate_default = True

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Whether distributions made without ``validate_args`` check their arguments."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_default = value

    def __init__(self, batch_shape: Any = (), event_shape: Any = (),
                 validate_args: bool | None = None):
        self._batch_shape, self._event_shape = _size(batch_shape), _size(event_shape)
        self._validate_args = (Distribution._validate_default if validate_args is None
                               else validate_args)
        if self._validate_args:
            for name, constraint in self.arg_constraints.items():
                if isinstance(constraint, constraints.Dependent) or name not in vars(self):
                    continue   # a dependent parameter, or the form (probs/logits) not given
                value = getattr(self, name)
                if not np.all(constraint.check(value)):
                    raise ValueError(
                        f"Expected parameter {name} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{value}")

    # -- shapes --------------------------------------------------------------------
    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> Size:
        return Size(_size(sample_shape) + self._batch_shape + self._event_shape)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The same distribution with its parameters broadcast to ``batch_shape``."""
        batch_shape = _size(batch_shape)
        params = {name: getattr(self, name).expand(batch_shape + self._param_event_shape(name))
                  for name in self._parameters()}
        return self._expanded(type(self)(**params, validate_args=False))

    def _expanded(self, new: Distribution) -> Distribution:
        """``new``, made without checking the parameters again, validating values as this
        distribution does."""
        new._validate_args = self._validate_args
        return new

    def _parameters(self) -> list[str]:
        """The names of the parameters the constructor takes back in ``expand``."""
        return [name for name in self.arg_constraints if name in vars(self)]

    def _param_event_shape(self, name: str) -> Size:
        return Size(())

    # -- drawing -------------------------------------------------------------------
    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A draw of shape sample_shape + batch_shape + event_shape, outside the graph."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """A draw that is a differentiable function of the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (has_rsample is False)")

    def _noise(self, sample_shape: Any, draw: str, **kwargs: Any) -> Tensor:
        """numpy's ``draw`` of the extended shape from minidl's generator, as a constant
        Tensor in the parameters' dtype."""
        shape = self._extended_shape(sample_shape)
        values = getattr(numpy_generator(), draw)(size=tuple(shape), **kwargs)
        return Tensor(values, dtype=self._dtype())

    def _dtype(self) -> np.dtype:
        return getattr(self, self._parameters()[0]).dtype

    # -- densities -----------------------------------------------------------------
    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def _validate_sample(self, value: Any) -> None:
        """PyTorch's checks of a log_prob value: a Tensor, its event shape, broadcastable
        with the batch, within the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = len(value.shape) - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{Size(value.shape)} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(value.shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{Size(value.shape)} vs {Size(expected)}.")
        if not np.all(self.support.check(value)):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({self.support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def __repr__(self) -> str:
        values = {n: vars(self)[n] for n in self.arg_constraints if n in vars(self)}
        args = ", ".join(f"{n}: {v if v.numel() == 1 else v.size()}" for n, v in values.items())
        return f"{type(self).__name__}({args})"


class LocationScale(Distribution):
    """The shared part of Normal and Laplace, draws of loc + scale * (a standard draw):
    real-valued, reparameterised, mean and mode at loc."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc
