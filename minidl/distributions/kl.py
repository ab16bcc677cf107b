"""kl_divergence(p, q) = E_p[ln p(x) - ln q(x)], in closed form for registered pairs of
types; ``register_kl(P, Q)`` adds one. The lookup takes the most specific registered
pair (by the types' method resolution orders), as PyTorch's does.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..linalg import solve_triangular
from ..ops import digamma, lgamma, softplus, where
from ..tensor import Tensor
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent, sum_rightmost
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal, batch_mahalanobis, half_log_det
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = ["kl_divergence", "register_kl"]

_REGISTRY: dict[tuple[type, type], Callable[[Distribution, Distribution], Tensor]] = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator: ``@register_kl(Normal, Normal) def kl(p, q): ...``."""
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun: Callable) -> Callable:
        _REGISTRY[type_p, type_q] = fun
        return fun
    return decorator


def _lookup(type_p: type, type_q: type) -> Callable | None:
    """The registered function of the closest pair of superclasses of (type_p, type_q)."""
    matches = [(type_p.__mro__.index(p) + type_q.__mro__.index(q), fun)
               for (p, q), fun in _REGISTRY.items()
               if issubclass(type_p, p) and issubclass(type_q, q)]
    return min(matches, key=lambda match: match[0])[1] if matches else None


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q), one value per batch element; NotImplementedError for an unregistered pair."""
    fun = _lookup(type(p), type(q))
    if fun is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return fun(p, q)


def _infinite_where(mask: np.ndarray, value: Tensor) -> Tensor:
    return where(mask, np.inf, value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    """(r + ((mu_p - mu_q) / s_q)^2 - 1 - ln r) / 2,  r = (s_p / s_q)^2."""
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    """p (softplus(-l_q) - softplus(-l_p)) + (1 - p) (softplus(l_q) - softplus(l_p))."""
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    # p = 0 or 1 exactly: that term is 0 (0 ln 0), whatever the logits say.
    t1 = where(p.probs._data == 0, 0.0, t1)
    t2 = where(p.probs._data == 1, 0.0, t2)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    """sum_k p_k (ln p_k - ln q_k); inf where q_k = 0 < p_k, 0 terms where p_k = 0."""
    t = p.probs * (p.logits - q.logits)
    shape = t.shape
    t = _infinite_where(np.broadcast_to(q.probs._data == 0, shape), t)
    t = where(np.broadcast_to(p.probs._data == 0, shape), 0.0, t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: OneHotCategorical,
                                            q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p: MultivariateNormal,
                                              q: MultivariateNormal) -> Tensor:
    """ln(|L_q| / |L_p|) + (|L_q^-1 L_p|_F^2 + |L_q^-1 (mu_q - mu_p)|^2 - k) / 2."""
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different "
                         "event shapes cannot be computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = half_log_det(Lq) - half_log_det(Lp)
    term2 = (solve_triangular(Lq, Lp, upper=False) ** 2).sum((-2, -1))
    term3 = batch_mahalanobis(Lq, q.loc - p.loc)
    out = half_term1 + 0.5 * (term2 + term3 - p.event_shape[0])
    return out.expand(tuple(np.broadcast_shapes(p.batch_shape, q.batch_shape)))


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    """ln((high_q - low_q) / (high_p - low_p)); inf where p's interval leaves q's."""
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _infinite_where((q.low._data > p.low._data) | (q.high._data < p.high._data), result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    """r - 1 - ln r,  r = rate_q / rate_p."""
    rate_ratio = q.rate / p.rate
    return rate_ratio - 1 - rate_ratio.log()


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    """-ln r + |mu_p - mu_q| / b_q + r e^(-|mu_p - mu_q| / b_p) - 1,  r = b_p / b_q."""
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_abs_diff / q.scale \
        + scale_ratio * (-loc_abs_diff / p.scale).exp() - 1


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    """ln B(a_q, b_q) - ln B(a_p, b_p) + (a_p - a_q) psi(a_p) + (b_p - b_q) psi(b_p)
    + (a_q - a_p + b_q - b_p) psi(a_p + b_p)."""
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = lgamma(q.concentration1) + lgamma(q.concentration0) + lgamma(sum_p)
    t2 = lgamma(p.concentration1) + lgamma(p.concentration0) + lgamma(sum_q)
    t3 = (p.concentration1 - q.concentration1) * digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * digamma(p.concentration0)
    t5 = (sum_q - sum_p) * digamma(sum_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    """a_q ln(r_p / r_q) + lgamma(a_q) - lgamma(a_p) + (a_p - a_q) psi(a_p)
    + (r_q - r_p) a_p / r_p."""
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = lgamma(q.concentration) - lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
