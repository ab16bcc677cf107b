"""minidl.distributions, PyTorch's torch.distributions: probability distributions to
sample from (``rsample`` differentiably) and to score (``log_prob``), for VAEs and
policy gradients.

    distribution.py          the Distribution base: shapes, validation, sample/rsample
    constraints.py           real, positive, simplex, ...: the sets parameters and samples live in
    univariate.py            Normal, Laplace, Uniform, Exponential
    gamma.py                 Gamma, Beta (implicit reparameterisation gradients)
    discrete.py              Bernoulli, Categorical, OneHotCategorical
    multivariate_normal.py   MultivariateNormal (through the Cholesky factor)
    independent.py           Independent: batch dims reinterpreted as event dims
    transforms.py            Exp, Affine, Sigmoid and Tanh transforms
    transformed.py           TransformedDistribution: a base distribution through transforms
    kl.py                    kl_divergence and register_kl
"""
from . import constraints, transforms
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .gamma import Beta, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .transformed import TransformedDistribution
from .univariate import Exponential, Laplace, Normal, Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma",
           "Independent", "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical",
           "TransformedDistribution", "Uniform", "constraints", "kl_divergence", "register_kl",
           "transforms"]
