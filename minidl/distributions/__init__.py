"""minidl.distributions, PyTorch's torch.distributions: probability distributions to
sample from (``rsample`` differentiably) and to score (``log_prob``), for VAEs and
policy gradients.

    distribution.py          the Distribution base: shapes, validation, sample/rsample
    constraints.py           real, positive, simplex, ...: the sets parameters and samples live in
    utils.py                 broadcast_all, probs_to_logits, logits_to_probs, lazy_property
    normal.py, laplace.py, uniform.py, exponential.py   one real variable, rsample a transform
                             of noise from minidl's generator
    gamma.py, beta.py        Gamma and Beta, rsample by implicit reparameterisation
    bernoulli.py, categorical.py, one_hot_categorical.py   discrete, from probs or logits
    multivariate_normal.py   MultivariateNormal (through the Cholesky factor)
    independent.py           Independent: batch dims reinterpreted as event dims
    transforms.py            Exp, Affine, Sigmoid and Tanh transforms
    transformed_distribution.py   TransformedDistribution: a base distribution through them
    kl.py                    kl_divergence and register_kl

The files are PyTorch's, so ``from torch.distributions.normal import Normal`` works with
its import rewritten.
"""
from . import constraints, transforms, utils  # noqa: F401  (torch.distributions.utils)
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma",
           "Independent", "Laplace", "MultivariateNormal", "Normal", "OneHotCategorical",
           "TransformedDistribution", "Uniform", "constraints", "kl_divergence", "register_kl",
           "transforms"]
