"""TransformedDistribution(base, transforms): y = t_n(... t_1(x)), x drawn from ``base``,
the transforms elementwise bijections (transforms.py). By the change of variables,

    log p(y) = log p_base(x) - sum_i ln |dt_i/dx_i|,   x_i = t_i^-1(...) back from y,

the Jacobian terms summed over the event dims. A Normal through ExpTransform is a
log-normal; through TanhTransform, the squashed Gaussian of soft actor-critic.
"""
from __future__ import annotations

from typing import Any

from ..grad_mode import no_grad
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .independent import sum_rightmost
from .transforms import Transform

__all__ = ["TransformedDistribution"]


class TransformedDistribution(Distribution):
    arg_constraints: dict[str, constraints.Constraint] = {}

    def __init__(self, base_distribution: Distribution, transforms: Transform | list[Transform],
                 validate_args: bool | None = None):
        self.transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)
        if not all(isinstance(t, Transform) for t in self.transforms):
            raise ValueError(f"transforms must be a Transform or a list of Transforms, but "
                             f"was {transforms}")
        self.base_dist = base_distribution
        super().__init__(base_distribution.batch_shape, base_distribution.event_shape,
                         validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def support(self) -> constraints.Constraint:
        codomain = self.transforms[-1].codomain if self.transforms else self.base_dist.support
        if not self.event_shape:
            return codomain
        return constraints.independent(codomain, len(self.event_shape))

    def expand(self, batch_shape: Any, _instance: Any = None) -> TransformedDistribution:
        return self._expanded(TransformedDistribution(self.base_dist.expand(batch_shape),
                                                      self.transforms, validate_args=False))

    def _forward(self, x: Tensor) -> Tensor:
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            return self._forward(self.base_dist.sample(sample_shape))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self._forward(self.base_dist.rsample(sample_shape))

    def _monotonize_cdf(self, value: Tensor) -> Tensor:
        """P(Y <= y) from P(X <= x): 1 - it where the transforms decrease."""
        sign = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        return value if isinstance(sign, int) and sign == 1 else sign * (value - 0.5) + 0.5

    def cdf(self, value: Tensor) -> Tensor:
        for transform in reversed(self.transforms):
            value = transform.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value: Tensor) -> Tensor:
        return self._forward(self.base_dist.icdf(self._monotonize_cdf(value)))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        event_dims = len(self.event_shape)
        log_prob, y = 0.0, value
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            log_prob = log_prob - sum_rightmost(transform.log_abs_det_jacobian(x, y), event_dims)
            y = x
        return log_prob + self.base_dist.log_prob(y)
