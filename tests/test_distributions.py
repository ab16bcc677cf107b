"""minidl.distributions and minidl.special against PyTorch's: values, dtypes and gradients
of log_prob, cdf, icdf, entropy, the moments, kl_divergence and the special functions in
float32 and float64, from tests/data/distributions_vectors.npz (written by
tests/data/make_distributions_vectors.py with torch 2.13; this test needs no torch), and
PyTorch's refusals with their exception types and messages.

Tolerances: float64 rtol 1e-8, atol 1e-10 (scipy.special and PyTorch compute the special
functions by different series; 1e-6 for KL(Gamma || Gamma)'s gradient); float32 rtol 1e-4, atol 1e-5, or else at least as close
to PyTorch's float64 value as PyTorch's float32 value is.
"""
from __future__ import annotations

import builtins
import json
import re
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl import Tensor
from minidl.distributions.gamma import _implicit_gradient

VECTORS = np.load(Path(__file__).parent / "data" / "distributions_vectors.npz",
                  allow_pickle=False)
CASES = json.loads(str(VECTORS["cases"]))
TOLERANCES = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-8, atol=1e-10)}
# PyTorch's trigamma (digamma's derivative) is a short series, good to about 5e-10 relative,
# and KL(Gamma || Gamma)'s gradient takes a difference of such terms: compared at 1e-6.
FLOAT64_TOLERANCES = {"kl_gamma": dict(rtol=1e-6)}
# PyTorch's Beta checks its parameters through a Dirichlet of stacked concentrations, so
# its message names "concentration" of a Dirichlet; minidl's names concentration1 of Beta.
MESSAGE_DIFFERS = {"refuse_beta"}


def _assert_close(actual: np.ndarray, name: str, dtype: str, key: str) -> None:
    expected = VECTORS[f"{name}/{dtype}/{key}"]
    tolerance = TOLERANCES[expected.dtype.name] | FLOAT64_TOLERANCES.get(name, {})
    close = np.isclose(actual, expected, equal_nan=True, **tolerance)
    if dtype == "float32" and not close.all():
        exact = VECTORS[f"{name}/float64/{key}"]
        close |= np.abs(actual - exact) <= np.abs(expected - exact) + tolerance["atol"]
    if not close.all():
        np.testing.assert_allclose(actual, expected, **tolerance, err_msg=f"{name} {key}")


def _message_head(message: str) -> str:
    """A refusal's first line (the invalid values follow), up to " of distribution " where
    it names a parameter (the distribution's repr follows), with Size's module dropped."""
    head = message.split(" of distribution ")[0].split("\n")[0]
    return re.sub(r"(torch|minidl)\.Size", "Size", head)


def _run(case: dict, dtype: str) -> tuple[list[Tensor], object]:
    arrays = [VECTORS[f"{case['name']}/in{j}"] for j in range(len(case["inputs"]))]
    xs = [Tensor(a.astype(dtype), requires_grad=True, dtype=dtype) if a.dtype.kind == "f"
          else Tensor(a) for a in arrays]
    fn = eval(f"lambda lib, F, f64, i32, i64, {''.join(f'x{j}, ' for j in range(len(xs)))}: "
              f"{case['expr']}")
    return xs, lambda: fn(minidl, F, np.float64, np.int32, np.int64, *xs)


@pytest.mark.filterwarnings("ignore:(divide by zero|invalid value) encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_pytorch(case: dict, dtype: str) -> None:
    name = case["name"]
    xs, call = _run(case, dtype)
    if f"{name}/error" in VECTORS.files:
        with pytest.raises(getattr(builtins, str(VECTORS[f"{name}/error"]))) as refused:
            call()
        if name not in MESSAGE_DIFFERS:
            assert _message_head(str(refused.value)) == \
                _message_head(str(VECTORS[f"{name}/message"]))
        return
    out = call()
    expected = VECTORS[f"{name}/{dtype}/out0"]
    assert (out.shape, out.dtype) == (expected.shape, expected.dtype)
    if expected.dtype.kind == "f":
        _assert_close(np.asarray(out), name, dtype, "out0")
    else:
        np.testing.assert_array_equal(np.asarray(out), expected)
    if out.requires_grad:
        (out * Tensor(VECTORS[f"{name}/cot0"], dtype=out.dtype)).sum().backward()
    for j, x in enumerate(xs):
        if f"{name}/{dtype}/grad{j}" in VECTORS.files:
            grad = np.asarray(x.grad) if x.grad is not None else np.zeros(x.shape, x.dtype)
            assert grad.dtype == x.dtype
            _assert_close(grad, name, dtype, f"grad{j}")


def test_every_refusal_keeps_its_message() -> None:
    refused = [c["name"] for c in CASES if f"{c['name']}/error" in VECTORS.files]
    assert len(refused) == 26
    assert all(f"{name}/message" in VECTORS.files for name in refused)


def test_gamma_implicit_gradient_matches_pytorchs() -> None:
    """minidl's dx/dalpha (central differences of scipy's incomplete gamma function) beside
    PyTorch's (series and asymptotic approximations, good to about 1e-3 relative)."""
    alpha, x = VECTORS["gamma_grad/alpha"], VECTORS["gamma_grad/x"]
    assert np.allclose(_implicit_gradient(alpha, x), VECTORS["gamma_grad/torch"], rtol=1e-3)
