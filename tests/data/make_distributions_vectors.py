"""Write tests/data/distributions_vectors.npz: PyTorch's values, gradients and refusals
for torch.distributions and torch.special, the oracle of tests/test_distributions.py
(which needs no torch).

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_distributions_vectors.py

The format is make_ops2_vectors.py's (``lib`` is torch or minidl), with these input
kinds beside its own and make_linalg_vectors.py's (every float input requires grad):

    p     positive floats in [0.5, 2.5)         u     floats in [0.05, 0.95)
    s     rows on the simplex (the last dim)    o     one-hot rows (floats)
    bin   0.0 or 1.0                            w     normal floats times 4
    l     lower-triangular with a diagonal in [0.5, 1.5)

Refusals also keep their message: ``<name>/message`` is PyTorch's text, which the test
compares up to the first " of distribution " (the rest prints tensors). ``gamma_grad/*``
holds PyTorch's implicit gradient of Gamma draws (torch._standard_gamma_grad).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from make_linalg_vectors import make_linalg_input
from make_ops2_vectors import write

OUT = Path(__file__).with_name("distributions_vectors.npz")
SEED = 20261208
D = "lib.distributions."
S = "lib.special."
T = "lib.distributions.transforms."


def make(spec: str, rng: np.random.Generator) -> np.ndarray:
    kind, shape_text, *_ = spec.split(":")
    shape = tuple(int(n) for n in shape_text.split(",") if n)
    if kind == "p":
        return 0.5 + 2 * rng.random(shape)
    if kind == "u":
        return 0.05 + 0.9 * rng.random(shape)
    if kind == "w":
        return 4 * rng.standard_normal(shape)
    if kind == "bin":
        return (rng.random(shape) < 0.5).astype(np.float64)
    if kind == "s":
        x = rng.random(shape) + 0.1
        return x / x.sum(-1, keepdims=True)
    if kind == "o":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    if kind == "l":
        x = np.tril(0.3 * rng.standard_normal(shape), -1)
        return x + np.eye(shape[-1]) * (0.5 + rng.random(shape[:-1]))[..., None]
    return make_linalg_input(spec, rng)


def _family(name: str, make_dist: str, specs: list[str], value: str,
            methods: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    """One case per method: the distribution ``make_dist`` of inputs x0 .. x(n-1), with
    the input spec ``value`` last for log_prob, cdf and icdf."""
    n = len(specs)
    cases = []
    for method in methods:
        if method in ("log_prob", "cdf", "icdf"):
            cases.append((f"{name}_{method}", f"{make_dist}.{method}(x{n})", specs + [value]))
        elif method == "entropy":
            cases.append((f"{name}_entropy", f"{make_dist}.entropy()", specs))
        else:
            cases.append((f"{name}_{method}", f"{make_dist}.{method}", specs))
    return cases


MOMENTS = ("mean", "mode", "variance", "stddev")
CASES = [
    *_family("normal", f"{D}Normal(x0, x1)", ["f:3,4", "p:4"], "f:2,3,4",
             ("log_prob", "cdf", "entropy", *MOMENTS)),
    ("normal_icdf", f"{D}Normal(x0, x1).icdf(x2)", ["f:3,4", "p:4", "u:3,4"]),
    ("normal_numbers", f"{D}Normal(0.5, 2.0).log_prob(x0)", ["f:5"]),
    *_family("laplace", f"{D}Laplace(x0, x1)", ["f:3,4", "p:3,4"], "f:3,4",
             ("log_prob", "cdf", "entropy", *MOMENTS)),
    ("laplace_icdf", f"{D}Laplace(x0, x1).icdf(x2)", ["f:3,4", "p:3,4", "u:3,4"]),
    *_family("uniform", f"{D}Uniform(x0, x0 + x1)", ["f:3,4", "p:3,4"], "u:3,4",
             ("entropy", "mean", "variance", "stddev")),
    ("uniform_log_prob", f"{D}Uniform(x0, x0 + x1).log_prob(x0 + x2 * x1)",
     ["f:3,4", "p:3,4", "u:3,4"]),
    ("uniform_log_prob_outside", f"{D}Uniform(x0.detach(), x0.detach() + x1.detach(), "
     "validate_args=False).log_prob(x0.detach() + x2.detach() * 3 - 1)",
     ["f:3,4", "p:3,4", "u:3,4"]),
    ("uniform_cdf", f"{D}Uniform(x0, x0 + x1).cdf(x0 + x2 * x1)", ["f:3,4", "p:3,4", "u:3,4"]),
    ("uniform_icdf", f"{D}Uniform(x0, x0 + x1).icdf(x2)", ["f:3,4", "p:3,4", "u:3,4"]),
    *_family("exponential", f"{D}Exponential(x0)", ["p:3,4"], "p:2,3,4",
             ("log_prob", "cdf", "icdf", "entropy", *MOMENTS)),
    ("exponential_icdf", f"{D}Exponential(x0).icdf(x1)", ["p:3,4", "u:3,4"]),
    *_family("gamma", f"{D}Gamma(x0, x1)", ["p:3,4", "p:4"], "p:3,4",
             ("log_prob", "entropy", *MOMENTS)),
    ("gamma_cdf", f"{D}Gamma(x0.detach(), x1).cdf(x2)", ["p:3,4", "p:4", "p:3,4"]),
    ("gamma_mode_zero", f"{D}Gamma(x0 * 0.4, x1).mode", ["p:3,4", "p:3,4"]),
    *_family("beta", f"{D}Beta(x0, x1)", ["p:3,4", "p:3,4"], "u:3,4",
             ("log_prob", "entropy", "mean", "variance", "stddev")),
    ("beta_mode", f"{D}Beta(x0 * 0.7, x1 * 0.7).mode", ["p:3,4", "p:3,4"]),
    *_family("bernoulli_probs", f"{D}Bernoulli(probs=x0)", ["u:3,4"], "bin:3,4",
             ("log_prob", "entropy", "mean", "variance", "mode")),
    ("bernoulli_probs_logits", f"{D}Bernoulli(probs=x0).logits", ["u:3,4"]),
    *_family("bernoulli_logits", f"{D}Bernoulli(logits=x0)", ["w:3,4"], "bin:2,3,4",
             ("log_prob", "entropy", "mean", "variance")),
    ("bernoulli_logits_probs", f"{D}Bernoulli(logits=x0).probs", ["w:3,4"]),
    *_family("categorical_probs", f"{D}Categorical(probs=x0)", ["s:3,5"], "i:2,3:5",
             ("log_prob", "entropy", "mode")),
    ("categorical_probs_logits", f"{D}Categorical(probs=x0).logits", ["s:3,5"]),
    ("categorical_unnormalised", f"{D}Categorical(probs=x0 * 3).probs", ["s:3,5"]),
    *_family("categorical_logits", f"{D}Categorical(logits=x0)", ["f:3,5"], "i:3:5",
             ("log_prob", "entropy")),
    ("categorical_logits_probs", f"{D}Categorical(logits=x0).probs", ["f:3,5"]),
    ("categorical_mean", f"{D}Categorical(logits=x0).mean", ["f:3,5"]),
    *_family("onehot", f"{D}OneHotCategorical(probs=x0)", ["s:3,5"], "o:2,3,5",
             ("log_prob", "entropy", "mean", "mode", "variance")),
    *_family("mvn_tril", f"{D}MultivariateNormal(x0, scale_tril=x1)", ["f:2,3", "l:2,3,3"],
             "f:4,2,3", ("log_prob", "entropy", "mean", "variance", "covariance_matrix",
                         "precision_matrix")),
    *_family("mvn_cov", f"{D}MultivariateNormal(x0, covariance_matrix=x1)", ["f:3", "spd:2,3,3"],
             "f:2,3", ("log_prob", "entropy", "scale_tril")),
    ("mvn_precision", f"{D}MultivariateNormal(x0, precision_matrix=x1).log_prob(x2)",
     ["f:2,3", "spd:3,3", "f:2,3"]),
    *_family("independent", f"{D}Independent({D}Normal(x0, x1), 1)", ["f:3,4", "p:3,4"],
             "f:3,4", ("log_prob", "entropy", "mean", "variance")),
    ("transformed_exp", f"{D}TransformedDistribution({D}Normal(x0, x1), "
     f"[{T}ExpTransform()]).log_prob(x2)", ["f:3,4", "p:3,4", "p:3,4"]),
    ("transformed_affine_sigmoid", f"{D}TransformedDistribution({D}Normal(x0, x1), "
     f"[{T}AffineTransform(x2, x3), {T}SigmoidTransform()]).log_prob(x4)",
     ["f:3,4", "p:3,4", "f:4", "p:4", "u:3,4"]),
    ("transformed_affine_numbers", f"{D}TransformedDistribution({D}Laplace(x0, x1), "
     f"{T}AffineTransform(1.5, -2.0)).log_prob(x2)", ["f:3,4", "p:3,4", "f:3,4"]),
    ("transformed_tanh", f"{D}TransformedDistribution({D}Normal(x0, x1), "
     f"[{T}TanhTransform()]).log_prob(x2 - 0.5)", ["f:3,4", "p:3,4", "u:3,4"]),
    ("transformed_independent", f"{D}TransformedDistribution({D}Independent({D}Normal(x0, x1), "
     f"1), [{T}ExpTransform()]).log_prob(x2)", ["f:3,4", "p:3,4", "p:2,3,4"]),
    ("transformed_exp_cdf", f"{D}TransformedDistribution({D}Normal(x0, x1), "
     f"[{T}ExpTransform()]).cdf(x2)", ["f:3,4", "p:3,4", "p:3,4"]),
    ("transformed_exp_icdf", f"{D}TransformedDistribution({D}Normal(x0, x1), "
     f"[{T}ExpTransform()]).icdf(x2)", ["f:3,4", "p:3,4", "u:3,4"]),
    ("transformed_decreasing_cdf", f"{D}TransformedDistribution({D}Laplace(x0, x1), "
     f"[{T}AffineTransform(1.5, -2.0), {T}ExpTransform()]).cdf(x2)",
     ["f:3,4", "p:3,4", "p:3,4"]),
    ("transformed_tensor_scale_icdf", f"{D}TransformedDistribution({D}Normal(x0, x1), "
     f"[{T}AffineTransform(x2, x3)]).icdf(x4)", ["f:3,4", "p:3,4", "f:4", "f:4", "u:3,4"]),
    ("transform_tanh_jacobian", f"{T}TanhTransform().log_abs_det_jacobian(x0, x0.tanh())",
     ["w:3,4"]),
    ("transform_sigmoid_inverse", f"{T}SigmoidTransform().inv(x0)", ["u:3,4"]),
    # -- kl_divergence -------------------------------------------------------------------
    ("kl_normal", f"{D}kl_divergence({D}Normal(x0, x1), {D}Normal(x2, x3))",
     ["f:3,4", "p:3,4", "f:4", "p:3,4"]),
    ("kl_laplace", f"{D}kl_divergence({D}Laplace(x0, x1), {D}Laplace(x2, x3))",
     ["f:3,4", "p:3,4", "f:3,4", "p:3,4"]),
    ("kl_uniform", f"{D}kl_divergence({D}Uniform(x0, x0 + x1), {D}Uniform(x0 - x2, x0 + x1 "
     "+ x3))", ["f:3,4", "p:3,4", "p:3,4", "p:3,4"]),
    ("kl_uniform_outside", f"{D}kl_divergence({D}Uniform(x0.detach(), x0.detach() + 1), "
     f"{D}Uniform(x1.detach(), x1.detach() + 1))", ["f:3,4", "f:3,4"]),
    ("kl_exponential", f"{D}kl_divergence({D}Exponential(x0), {D}Exponential(x1))",
     ["p:3,4", "p:3,4"]),
    ("kl_gamma", f"{D}kl_divergence({D}Gamma(x0, x1), {D}Gamma(x2, x3))",
     ["p:3,4", "p:3,4", "p:3,4", "p:4"]),
    ("kl_beta", f"{D}kl_divergence({D}Beta(x0, x1), {D}Beta(x2, x3))",
     ["p:3,4", "p:3,4", "p:3,4", "p:3,4"]),
    ("kl_bernoulli", f"{D}kl_divergence({D}Bernoulli(probs=x0), {D}Bernoulli(logits=x1))",
     ["u:3,4", "f:3,4"]),
    ("kl_categorical", f"{D}kl_divergence({D}Categorical(probs=x0), "
     f"{D}Categorical(logits=x1))", ["s:3,5", "f:3,5"]),
    ("kl_onehot", f"{D}kl_divergence({D}OneHotCategorical(logits=x0), "
     f"{D}OneHotCategorical(probs=x1))", ["f:3,5", "s:3,5"]),
    ("kl_mvn", f"{D}kl_divergence({D}MultivariateNormal(x0, scale_tril=x1), "
     f"{D}MultivariateNormal(x2, covariance_matrix=x3))", ["f:2,3", "l:2,3,3", "f:3",
                                                          "spd:2,3,3"]),
    ("kl_independent", f"{D}kl_divergence({D}Independent({D}Normal(x0, x1), 1), "
     f"{D}Independent({D}Normal(x2, x3), 1))", ["f:3,4", "p:3,4", "f:3,4", "p:3,4"]),
    # -- torch.special -------------------------------------------------------------------
    ("entr", f"{S}entr(x0)", ["p:3,4"]),
    ("ndtr", f"{S}ndtr(x0)", ["w:3,4"]),
    ("log_ndtr", f"{S}log_ndtr(x0)", ["w:3,4"]),
    ("ndtri", f"{S}ndtri(x0)", ["u:3,4"]),
    ("erfcx", f"{S}erfcx(x0)", ["w:3,4"]),
    ("xlog1py", f"{S}xlog1py(x0, x1)", ["z:3,4", "p:4"]),
    ("xlogy", f"{S}xlogy(x0, x1)", ["z:3,4", "p:4"]),
    ("i0", f"{S}i0(x0)", ["w:3,4"]),
    ("i0e", f"{S}i0e(x0)", ["w:3,4"]),
    ("i1", f"{S}i1(x0)", ["w:3,4"]),
    ("i1e", f"{S}i1e(x0)", ["w:3,4"]),
    ("polygamma1", f"{S}polygamma(1, x0)", ["p:3,4"]),
    ("polygamma3", f"{S}polygamma(3, x0)", ["p:3,4"]),
    ("multigammaln", f"{S}multigammaln(x0 + 1, 3)", ["p:3,4"]),
    ("gammainc", f"{S}gammainc(x0.detach(), x1)", ["p:3,4", "p:3,4"]),
    ("gammaincc", f"{S}gammaincc(x0.detach(), x1)", ["p:3,4", "p:3,4"]),
    ("expit", f"{S}expit(x0)", ["w:3,4"]),
    ("gammaln", f"{S}gammaln(x0)", ["p:3,4"]),
    ("psi", f"{S}psi(x0)", ["p:3,4"]),
    ("digamma", f"{S}digamma(x0)", ["p:3,4"]),
    ("logit", f"{S}logit(x0)", ["u:3,4"]),
    ("logsumexp", f"{S}logsumexp(x0, 1)", ["f:3,4"]),
    ("softmax", f"{S}softmax(x0, 0)", ["f:3,4"]),
    ("log_softmax", f"{S}log_softmax(x0, 1)", ["f:3,4"]),
    ("sinc", f"{S}sinc(x0)", ["f:3,4"]),
    ("round", f"{S}round(x0 * 3)", ["f:3,4"]),
    ("exp2", f"{S}exp2(x0)", ["f:3,4"]),
    ("expm1", f"{S}expm1(x0)", ["f:3,4"]),
    ("log1p", f"{S}log1p(x0)", ["p:3,4"]),
    ("erf", f"{S}erf(x0)", ["f:3,4"]),
    ("erfc", f"{S}erfc(x0)", ["f:3,4"]),
    ("erfinv", f"{S}erfinv(x0 - 0.5)", ["u:3,4"]),
    # -- refusals, with PyTorch's exception types and messages ----------------------------
    ("refuse_negative_scale", f"{D}Normal(x0, -x1)", ["f:3", "p:3"]),
    ("refuse_nan_loc", f"{D}Normal(x0 / 0 * 0, x1)", ["f:3", "p:3"]),
    ("refuse_probs_above_one", f"{D}Bernoulli(probs=x0 + 1)", ["u:3"]),
    ("refuse_bernoulli_neither", f"{D}Bernoulli()", []),
    ("refuse_bernoulli_both", f"{D}Bernoulli(probs=x0, logits=x0)", ["u:3"]),
    ("refuse_categorical_0d", f"{D}Categorical(probs=x0[0])", ["s:3"]),
    ("refuse_categorical_not_simplex", f"{D}Categorical(probs=x0 * 0)", ["s:2,3"]),
    ("refuse_value_shape", f"{D}Normal(x0, x1).log_prob(x2)", ["f:3", "p:3", "f:4"]),
    ("refuse_value_not_tensor", f"{D}Normal(x0, x1).log_prob(1.0)", ["f:3", "p:3"]),
    ("refuse_value_outside_support", f"{D}Bernoulli(probs=x0).log_prob(x0)", ["u:3"]),
    ("refuse_categorical_value", f"{D}Categorical(probs=x0).log_prob(x1)", ["s:3", "i:4:9"]),
    ("refuse_exponential_value", f"{D}Exponential(x0).log_prob(-x0)", ["p:3"]),
    ("refuse_onehot_value", f"{D}OneHotCategorical(probs=x0).log_prob(x0)", ["s:3"]),
    ("refuse_event_shape", f"{D}MultivariateNormal(x0, covariance_matrix=x1).log_prob(x2)",
     ["f:3", "spd:3,3", "f:2,4"]),
    ("refuse_mvn_no_matrix", f"{D}MultivariateNormal(x0)", ["f:3"]),
    ("refuse_mvn_two_matrices", f"{D}MultivariateNormal(x0, covariance_matrix=x1, "
     "scale_tril=x1)", ["f:3", "spd:3,3"]),
    ("refuse_mvn_0d_loc", f"{D}MultivariateNormal(x0[0], scale_tril=x1)", ["f:3", "l:3,3"]),
    ("refuse_mvn_not_tril", f"{D}MultivariateNormal(x0, scale_tril=x1)", ["f:3", "spd:3,3"]),
    ("refuse_mvn_not_pd", f"{D}MultivariateNormal(x0, covariance_matrix=x1)", ["f:3", "npd:3,3"]),
    ("refuse_uniform_low_high", f"{D}Uniform(x0, x0 - x1)", ["f:3", "p:3"]),
    ("refuse_gamma_rate", f"{D}Gamma(x0, -x1)", ["p:3", "p:3"]),
    ("refuse_beta", f"{D}Beta(-x0, x1)", ["p:3", "p:3"]),
    ("refuse_independent_ndims", f"{D}Independent({D}Normal(x0, x1), 3)", ["f:3,4", "p:3,4"]),
    ("refuse_transformed_support", f"{D}TransformedDistribution({D}Normal(x0, x1), "
     f"[{T}ExpTransform()]).log_prob(-x1)", ["f:3", "p:3"]),
    ("refuse_kl_pair", f"{D}kl_divergence({D}Bernoulli(probs=x0), {D}Categorical(probs=x0))",
     ["u:3"]),
    ("refuse_gammainc_grad_a", f"{S}gammainc(x0, x1).sum().backward()", ["p:3", "p:3"]),
]


def gamma_gradients() -> dict[str, np.ndarray]:
    """PyTorch's implicit reparameterisation gradient dx/dalpha of Gamma(alpha, 1) draws x,
    at the 1%, 50% and 99% quantiles of small to large alphas (float64)."""
    import scipy.special
    alpha = np.tile([0.05, 0.3, 1.0, 2.5, 10.0, 200.0], 3)
    x = scipy.special.gammaincinv(alpha, np.repeat([0.01, 0.5, 0.99], 6))
    grad = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy()
    return {"gamma_grad/alpha": alpha, "gamma_grad/x": x, "gamma_grad/torch": grad}


def messages(cases: list) -> dict[str, np.ndarray]:
    """PyTorch's message for every refused case, in float64."""
    rng = np.random.default_rng(SEED)
    found = {}
    for name, expr, specs in cases:
        arrays = [make(spec, rng) for spec in specs]
        inputs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        fn = eval(f"lambda lib, {''.join(f'x{j}, ' for j in range(len(inputs)))}: {expr}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(torch, *inputs)
        except Exception as error:   # noqa: BLE001  (the refusal is the oracle)
            found[f"{name}/message"] = np.array(str(error))
    return found


if __name__ == "__main__":
    write(CASES, OUT, SEED, make)
    with np.load(OUT, allow_pickle=False) as stored:
        arrays = dict(stored)
    arrays.update(messages([case for case in CASES if case[0].startswith("refuse_")]))
    arrays.update(gamma_gradients())
    np.savez_compressed(OUT, **arrays)
