"""minidl.distributions beyond PyTorch's vectors: draws (their shapes, and their moments
with a fixed seed, within six standard errors), gradchecks of rsample with fixed noise
and of log_prob in the parameters, the implicit Gamma gradient, validation switches,
expand, enumerate_support and register_kl; and gradchecks of minidl.special's new ops.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import minidl
import minidl.special as S
from minidl import Tensor, gradcheck
from minidl import distributions as D
from minidl.distributions.gamma import _implicit_gradient

RNG = np.random.default_rng(11)


def _param(values, dtype=np.float64) -> Tensor:
    return Tensor(np.asarray(values, dtype), requires_grad=True, dtype=dtype)


def _real(*shape: int) -> Tensor:
    return _param(RNG.standard_normal(shape))


def _positive(*shape: int) -> Tensor:
    return _param(0.5 + 2 * RNG.random(shape))


def _unit(*shape: int) -> Tensor:
    return _param(0.1 + 0.8 * RNG.random(shape))


def _lower(k: int) -> Tensor:
    """A Cholesky factor; the functions take its ``tril()``, as gradcheck nudges every element."""
    return _param(np.tril(0.3 * RNG.standard_normal((k, k)), -1) + np.diag(0.5 + RNG.random(k)))


# -- draws: shapes, dtypes and moments --------------------------------------------------
DRAWN = {   # distribution, its mean, its variance (numpy, per batch element)
    "normal": (lambda: D.Normal(Tensor([0.5, -1.0]), Tensor([1.0, 2.0])), [0.5, -1.0], [1, 4]),
    "laplace": (lambda: D.Laplace(Tensor([0.5, -1.0]), Tensor([1.0, 2.0])), [0.5, -1], [2, 8]),
    "uniform": (lambda: D.Uniform(Tensor([0.0, -1.0]), Tensor([1.0, 3.0])), [0.5, 1.0],
                [1 / 12, 16 / 12]),
    "exponential": (lambda: D.Exponential(Tensor([0.5, 2.0])), [2.0, 0.5], [4.0, 0.25]),
    "gamma": (lambda: D.Gamma(Tensor([0.5, 3.0]), Tensor([1.0, 2.0])), [0.5, 1.5],
              [0.5, 0.75]),
    "beta": (lambda: D.Beta(Tensor([0.5, 2.0]), Tensor([0.5, 3.0])), [0.5, 0.4],
             [1 / 8, 6 / 150]),
    "bernoulli": (lambda: D.Bernoulli(probs=Tensor([0.2, 0.7])), [0.2, 0.7], [0.16, 0.21]),
    "bernoulli_logits": (lambda: D.Bernoulli(logits=Tensor([0.0, 2.0])),
                         [0.5, 1 / (1 + np.exp(-2))], [0.25, 0.1049936]),
    "categorical": (lambda: D.Categorical(probs=Tensor([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]])),
                    [1.3, 0.4], [0.61, 0.24]),
}


@pytest.mark.parametrize("name", DRAWN)
def test_draws_have_the_shape_and_moments(name: str) -> None:
    make, mean, variance = DRAWN[name]
    minidl.manual_seed(0)
    dist = make()
    draws = dist.sample((40000,))
    assert draws.shape == (40000, 2) and not draws.requires_grad
    assert draws.dtype == (np.int64 if name == "categorical" else np.float32)
    values = np.asarray(draws, np.float64)
    standard_error = np.sqrt(np.asarray(variance) / len(values))
    assert np.all(np.abs(values.mean(0) - mean) < 6 * standard_error)
    assert np.allclose(values.var(0), variance, rtol=0.08, atol=1e-3)   # >= 4 standard errors
    if name != "categorical":
        assert np.allclose(np.asarray(dist.mean), mean, rtol=1e-6)
        assert np.allclose(np.asarray(dist.variance), variance, rtol=1e-6)
    assert np.all(dist.support.check(draws))


def test_categorical_draws_follow_probs_and_never_an_impossible_class() -> None:
    minidl.manual_seed(1)
    draws = np.asarray(D.Categorical(probs=Tensor([0.1, 0.0, 0.6, 0.3])).sample((20000,)))
    counts = np.bincount(draws, minlength=4) / 20000
    assert counts[1] == 0
    assert np.all(np.abs(counts - [0.1, 0, 0.6, 0.3]) < 6 * np.sqrt(0.25 / 20000))


def test_multivariate_normal_draws_have_its_covariance() -> None:
    minidl.manual_seed(2)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    dist = D.MultivariateNormal(Tensor([1.0, -1.0]), covariance_matrix=Tensor(cov))
    draws = np.asarray(dist.sample((50000,)), np.float64)
    assert np.allclose(draws.mean(0), [1, -1], atol=6 * np.sqrt(2 / 50000))
    assert np.allclose(np.cov(draws.T), cov, atol=0.05)


def test_one_hot_draws_are_one_hot_rows() -> None:
    minidl.manual_seed(3)
    draws = D.OneHotCategorical(probs=Tensor([[0.2, 0.8], [0.5, 0.5]])).sample((3, 4))
    assert draws.shape == (3, 4, 2, 2) and draws.dtype == np.float32
    assert np.all(np.asarray(draws).sum(-1) == 1)


def test_manual_seed_repeats_draws_and_shapes_compose() -> None:
    dist = D.Normal(minidl.zeros(2, 3), 1.0)
    minidl.manual_seed(5)
    first = np.asarray(dist.rsample((4,)))
    minidl.manual_seed(5)
    assert np.array_equal(first, np.asarray(dist.rsample((4,))))
    assert dist.sample().shape == (2, 3) and dist.sample(4).shape == (4, 2, 3)
    assert dist.batch_shape == minidl.Size([2, 3]) and dist.event_shape == minidl.Size([])
    mvn = D.MultivariateNormal(minidl.zeros(5, 3), scale_tril=minidl.eye(3))
    assert mvn.rsample((2,)).shape == (2, 5, 3)
    assert (mvn.batch_shape, mvn.event_shape) == ((5,), (3,))


def test_float64_parameters_give_float64_draws() -> None:
    dist = D.Normal(Tensor([0.0], dtype=np.float64), 1.0)
    assert dist.scale.dtype == np.float64 and dist.rsample((3,)).dtype == np.float64
    assert D.Normal(0.0, 1.0).loc.dtype == np.float32


# -- gradients: rsample with fixed noise, log_prob in the parameters ---------------------
def _seeded(draw):
    """The draw with the same noise at every call, as gradcheck needs."""
    def fn(*params):
        minidl.manual_seed(7)
        return draw(*params)
    return fn


RSAMPLES = {
    "normal": (lambda loc, scale: D.Normal(loc, scale).rsample((3,)), [_real(2), _positive(2)]),
    "laplace": (lambda loc, scale: D.Laplace(loc, scale).rsample((3,)),
                [_real(2), _positive(2)]),
    "uniform": (lambda low, width: D.Uniform(low, low + width).rsample((3,)),
                [_real(2), _positive(2)]),
    "exponential": (lambda rate: D.Exponential(rate).rsample((3,)), [_positive(2)]),
    "gamma_rate": (lambda rate: D.Gamma(Tensor([1.5, 3.0], dtype=np.float64), rate)
                   .rsample((3,)), [_positive(2)]),
    "mvn": (lambda loc, L: D.MultivariateNormal(loc, scale_tril=L.tril()).rsample((2,)),
            [_real(3), _lower(3)]),
    "independent": (lambda loc, scale: D.Independent(D.Normal(loc, scale), 1).rsample(),
                    [_real(2, 3), _positive(2, 3)]),
    "tanh_normal": (lambda loc, scale: D.TransformedDistribution(
        D.Normal(loc, scale), [D.transforms.TanhTransform()]).rsample((3,)),
        [_real(2), _positive(2)]),
}


@pytest.mark.parametrize("name", RSAMPLES)
def test_rsample_gradcheck(name: str) -> None:
    draw, params = RSAMPLES[name]
    assert gradcheck(_seeded(draw), *params)


LOG_PROBS = {
    "normal": (lambda loc, scale: D.Normal(loc, scale).log_prob(Tensor(np.ones(2))),
               [_real(2), _positive(2)]),
    "laplace": (lambda loc, scale: D.Laplace(loc, scale).log_prob(Tensor([3.0, -3.0])),
                [_real(2), _positive(2)]),
    "exponential": (lambda rate: D.Exponential(rate).log_prob(Tensor([0.5, 2.0])),
                    [_positive(2)]),
    "gamma": (lambda a, rate: D.Gamma(a, rate).log_prob(Tensor([0.5, 2.0])),
              [_positive(2), _positive(2)]),
    "beta": (lambda a, b: D.Beta(a, b).log_prob(Tensor([0.3, 0.9])), [_positive(2), _positive(2)]),
    "bernoulli_probs": (lambda p: D.Bernoulli(probs=p).log_prob(Tensor([1.0, 0.0])), [_unit(2)]),
    "bernoulli_logits": (lambda l: D.Bernoulli(logits=l).log_prob(Tensor([1.0, 0.0])),
                         [_real(2)]),
    "categorical": (lambda l: D.Categorical(logits=l).log_prob(Tensor([2, 0])), [_real(2, 3)]),
    "mvn_tril": (lambda loc, L: D.MultivariateNormal(loc, scale_tril=L.tril()).log_prob(
        Tensor(np.ones(3))), [_real(3), _lower(3)]),
    "mvn_precision": (lambda loc, P: D.MultivariateNormal(
        loc, precision_matrix=P @ P.mT + minidl.eye(3, dtype=np.float64)).log_prob(
        Tensor(np.ones(3))), [_real(3), _real(3, 3)]),
    "entropy_beta": (lambda a, b: D.Beta(a, b).entropy(), [_positive(2), _positive(2)]),
    "kl_mvn": (lambda L, M: D.kl_divergence(
        D.MultivariateNormal(minidl.zeros(3, dtype=np.float64), scale_tril=L.tril()),
        D.MultivariateNormal(minidl.ones(3, dtype=np.float64), scale_tril=M.tril())),
               [_lower(3), _lower(3)]),
}


@pytest.mark.parametrize("name", LOG_PROBS)
def test_log_prob_gradcheck(name: str) -> None:
    fn, params = LOG_PROBS[name]
    assert gradcheck(fn, *params)


def test_gamma_implicit_gradient_is_that_of_the_inverse_cdf() -> None:
    """x(alpha) = P^-1(alpha, u) for a fixed u: dx/dalpha by central differences of
    scipy's gammaincinv, in both tails and for small and large alpha."""
    alpha = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 200.0])
    for u in (0.01, 0.5, 0.99):
        x = sp.gammaincinv(alpha, u)
        h = 1e-6 * alpha
        numeric = (sp.gammaincinv(alpha + h, u) - sp.gammaincinv(alpha - h, u)) / (2 * h)
        assert np.allclose(_implicit_gradient(alpha, x), numeric, rtol=1e-5)


def test_gamma_and_beta_rsample_gradients_average_to_those_of_their_means() -> None:
    """E[dx/da] = dE[x]/da: 1 / rate for Gamma, b / (a + b)^2 for Beta's first
    concentration (six standard errors of the mean gradient)."""
    minidl.manual_seed(4)
    a = Tensor([0.5, 3.0], requires_grad=True)
    draws = D.Gamma(a, Tensor([1.0, 2.0])).rsample((20000,))
    draws.sum().backward()
    assert np.allclose(np.asarray(a.grad) / 20000, [1.0, 0.5], rtol=0.03)
    c1 = Tensor([0.5, 2.0], requires_grad=True)
    c0 = np.array([0.5, 3.0])
    D.Beta(c1, Tensor(c0)).rsample((20000,)).sum().backward()
    assert np.allclose(np.asarray(c1.grad) / 20000, c0 / (np.array([0.5, 2.0]) + c0) ** 2,
                       rtol=0.05)


def test_log_normal_draws_and_their_log_prob() -> None:
    """Normal(0.5, 0.4) through exp: the median is e^0.5, and log_prob is the log-normal
    density (its Jacobian term is -ln y)."""
    minidl.manual_seed(6)
    log_normal = D.TransformedDistribution(D.Normal(0.5, 0.4), D.transforms.ExpTransform())
    draws = np.asarray(log_normal.sample((20000,)), np.float64)
    assert draws.min() > 0 and abs(np.median(draws) - np.exp(0.5)) < 0.03
    y = np.array([0.5, 1.0, 3.0])
    density = np.exp(-(np.log(y) - 0.5) ** 2 / (2 * 0.16)) / (y * 0.4 * np.sqrt(2 * np.pi))
    assert np.allclose(np.asarray(log_normal.log_prob(Tensor(y))), np.log(density), rtol=1e-5)
    assert log_normal.support.check(Tensor(y)).all() and log_normal.has_rsample
    with pytest.raises(ValueError):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [np.exp])


def test_discrete_distributions_have_no_rsample() -> None:
    for dist in (D.Bernoulli(0.3), D.Categorical(Tensor([0.5, 0.5]))):
        assert not dist.has_rsample
        with pytest.raises(NotImplementedError):
            dist.rsample()


# -- validation, expand, enumerate_support, register_kl -----------------------------------
def test_validate_args_false_accepts_what_validation_refuses() -> None:
    dist = D.Normal(0.0, -1.0, validate_args=False)
    assert float(dist.scale) == -1.0
    assert np.isclose(float(D.Bernoulli(0.3, validate_args=False).log_prob(Tensor(0.5))),
                      0.5 * np.log(0.3) + 0.5 * np.log(0.7))
    D.Distribution.set_default_validate_args(False)
    try:
        D.Exponential(-1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Exponential(-1.0)


def test_expand_broadcasts_the_parameters() -> None:
    for dist in (D.Normal(Tensor([0.0, 1.0]), 1.0), D.Bernoulli(logits=Tensor([0.0, 1.0])),
                 D.Gamma(Tensor([1.0, 2.0]), 1.0)):
        wide = dist.expand((3, 2))
        assert wide.batch_shape == (3, 2) and wide.sample().shape == (3, 2)
        assert np.allclose(np.asarray(wide.mean)[2], np.asarray(dist.mean))
    with pytest.raises(ValueError):   # the expanded distribution validates values too
        D.Exponential(Tensor([1.0])).expand((3,)).log_prob(Tensor([-1.0]))
    categorical = D.Categorical(logits=Tensor([0.0, 1.0, 2.0])).expand((4,))
    assert categorical.batch_shape == (4,) and categorical.probs.shape == (4, 3)
    mvn = D.MultivariateNormal(minidl.zeros(3), scale_tril=minidl.eye(3)).expand((2,))
    assert mvn.covariance_matrix.shape == (2, 3, 3)
    independent = D.Independent(D.Normal(minidl.zeros(2, 3), 1.0), 1).expand((5, 2))
    assert independent.batch_shape == (5, 2) and independent.event_shape == (3,)


def test_enumerate_support() -> None:
    values = D.Categorical(probs=minidl.ones(2, 3) / 3).enumerate_support()
    assert values.shape == (3, 2) and np.array_equal(np.asarray(values)[:, 1], [0, 1, 2])
    assert D.Bernoulli(Tensor([0.3, 0.5])).enumerate_support(expand=False).shape == (2, 1)
    assert D.OneHotCategorical(probs=minidl.ones(3) / 3).enumerate_support().shape == (3, 3)


def test_register_kl_adds_a_pair_and_the_closest_pair_wins() -> None:
    class WideNormal(D.Normal):
        pass

    assert np.allclose(np.asarray(D.kl_divergence(WideNormal(0.0, 1.0), D.Normal(0.0, 1.0))), 0)

    @D.register_kl(WideNormal, D.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    assert float(D.kl_divergence(WideNormal(0.0, 1.0), D.Normal(0.0, 1.0))) == 42.0
    assert float(D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(0.0, 1.0))) == 0.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


def test_lazy_probs_and_logits_and_repr() -> None:
    dist = D.Bernoulli(logits=Tensor([0.0]))
    assert "probs" not in vars(dist) and float(dist.probs) == 0.5 and "probs" in vars(dist)
    assert repr(D.Normal(Tensor([0.0, 1.0]), 1.0)).startswith("Normal(loc: ")
    assert np.isclose(float(D.Normal(0.0, 1.0).perplexity()), np.exp(0.5 + 0.5 * np.log(2 * np.pi)))


# -- minidl.special: gradchecks of the new ops ---------------------------------------------
SPECIAL = {
    "entr": (S.entr, [_positive(5)]),
    "ndtr": (S.ndtr, [_real(5)]),
    "log_ndtr": (S.log_ndtr, [_param([-30.0, -5.0, 0.0, 2.0, 8.0])]),
    "ndtri": (S.ndtri, [_unit(5)]),
    "erfcx": (S.erfcx, [_real(5)]),
    "xlog1py": (S.xlog1py, [_real(5), _positive(5)]),
    "i0": (S.i0, [_real(5)]),
    "i0e": (S.i0e, [_real(5)]),
    "i1": (S.i1, [_real(5)]),
    "i1e": (S.i1e, [_real(5)]),
    "polygamma": (lambda x: S.polygamma(2, x), [_positive(5)]),
    "multigammaln": (lambda x: S.multigammaln(x + 2, 4), [_positive(5)]),
    "gammainc": (lambda x: S.gammainc(Tensor([0.7, 2.0], dtype=np.float64), x),
                 [_positive(2)]),
    "gammaincc": (lambda x: S.gammaincc(Tensor([0.7, 2.0], dtype=np.float64), x),
                  [_positive(2)]),
}


@pytest.mark.parametrize("name", SPECIAL)
def test_special_gradcheck(name: str) -> None:
    fn, inputs = SPECIAL[name]
    assert gradcheck(fn, *inputs)


def test_special_at_the_edges() -> None:
    assert np.array_equal(np.asarray(S.entr(Tensor([0.0, -1.0]))), [0.0, -np.inf])
    x = Tensor([0.0], requires_grad=True, dtype=np.float64)
    S.i1(x).backward()
    assert float(x.grad) == 0.5
    assert np.asarray(S.xlog1py(Tensor([0.0]), Tensor([-1.0])))[0] == 0
    assert S.expit is minidl.sigmoid and S.gammaln is minidl.lgamma and S.psi is minidl.digamma
    with pytest.raises(RuntimeError):
        S.polygamma(-1, Tensor([1.0]))
    with pytest.raises(RuntimeError):
        S.multigammaln(Tensor([0.5]), 3)


def test_modules_have_pytorchs_names() -> None:
    """``from torch.distributions.normal import Normal`` and the like, rewritten to minidl."""
    from minidl.distributions.bernoulli import Bernoulli
    from minidl.distributions.categorical import Categorical
    from minidl.distributions.kl import kl_divergence
    from minidl.distributions.normal import Normal
    from minidl.distributions.one_hot_categorical import OneHotCategorical
    from minidl.distributions.transformed_distribution import TransformedDistribution
    from minidl.distributions.utils import broadcast_all, probs_to_logits
    assert (Bernoulli, Categorical, Normal, OneHotCategorical, TransformedDistribution,
            kl_divergence) == (D.Bernoulli, D.Categorical, D.Normal, D.OneHotCategorical,
                               D.TransformedDistribution, D.kl_divergence)
    loc, scale = broadcast_all(Tensor([0.0, 1.0]), 2.0)
    assert scale.shape == (2,) and scale.dtype == np.float32
    assert np.allclose(np.asarray(probs_to_logits(Tensor([0.5, 0.25]), is_binary=True)),
                       [0.0, np.log(1 / 3)])
