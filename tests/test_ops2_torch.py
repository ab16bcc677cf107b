"""The reductions, scans, shape and indexing ops against PyTorch: values, dtypes and
gradients in float32 and float64, from tests/data/ops2_vectors.npz (written by
tests/data/make_ops2_vectors.py with torch 2.13; this test needs no torch).

Each case is one expression that both frameworks evaluate as written; see the
generator for the inputs. Tolerances: float64 rtol 1e-10, atol 1e-12; float32
rtol 1e-5, atol 1e-6 (values that PyTorch and minidl both compute in float32,
by different summation orders), or else at least as close to PyTorch's float64
value as PyTorch's float32 value is. Integer outputs (indices) must be equal,
NaN must sit where PyTorch's NaN sits.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl import Tensor

VECTORS = np.load(Path(__file__).parent / "data" / "ops2_vectors.npz", allow_pickle=False)
CASES = json.loads(str(VECTORS["cases"]))
TOLERANCES = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def _assert_close(actual: np.ndarray, name: str, dtype: str, key: str, what: str) -> None:
    """Within tolerance of PyTorch in this dtype; a float32 value also passes when it is at
    least as close to PyTorch's float64 value as PyTorch's float32 value is."""
    expected = VECTORS[f"{name}/{dtype}/{key}"]
    close = np.isclose(actual, expected, equal_nan=True, **TOLERANCES[dtype])
    if dtype == "float32" and not close.all():
        exact = VECTORS[f"{name}/float64/{key}"]
        close |= np.abs(actual - exact) <= np.abs(expected - exact) + TOLERANCES[dtype]["atol"]
    if not close.all():
        np.testing.assert_allclose(actual, expected, **TOLERANCES[dtype], err_msg=what)


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


@pytest.fixture
def gradient_dtypes(monkeypatch) -> list:
    """Every backward closure's gradients are checked to have their input's dtype (float32
    must stay float32); the mismatches are collected in the returned list."""
    mismatches = []
    make = Tensor._make

    def checked_make(data, parents, backward):
        def checked(g):
            grads = backward(g)
            mismatches.extend((p.dtype, np.asarray(d).dtype) for p, d in zip(parents, grads)
                              if d is not None and p.requires_grad and
                              np.asarray(d).dtype != p.dtype)
            return grads
        return make(data, parents, checked)
    monkeypatch.setattr(Tensor, "_make", staticmethod(checked_make))
    return mismatches


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_pytorch(case: dict, dtype: str, gradient_dtypes: list) -> None:
    name = case["name"]
    arrays = [VECTORS[f"{name}/in{j}"] for j in range(len(case["inputs"]))]
    xs = [Tensor(a.astype(dtype), requires_grad=True, dtype=dtype) if a.dtype.kind == "f"
          else Tensor(a) for a in arrays]
    fn = eval(f"lambda lib, F, f64, {', '.join(f'x{j}' for j in range(len(xs)))}: "
              f"{case['expr']}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # no degrees of freedom, on purpose
        outs = _outputs(fn(minidl, F, np.float64, *xs))
    loss = None
    for k, out in enumerate(outs):
        expected = VECTORS[f"{name}/{dtype}/out{k}"]
        assert out.shape == expected.shape, f"output {k}"
        assert out.dtype == expected.dtype, f"output {k}"
        if expected.dtype.kind == "f":
            _assert_close(out.numpy(), name, dtype, f"out{k}", f"output {k}")
        else:
            np.testing.assert_array_equal(out.numpy(), expected, err_msg=f"output {k}")
        if out.requires_grad:
            term = (out * Tensor(VECTORS[f"{name}/cot{k}"], dtype=out.dtype)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    assert not gradient_dtypes, f"gradients of (input dtype, gradient dtype): {gradient_dtypes}"
    for j, x in enumerate(xs):
        key = f"{name}/{dtype}/grad{j}"
        if key in VECTORS.files:
            grad = x.grad if x.grad is not None else np.zeros_like(x.numpy())
            _assert_close(grad, name, dtype, f"grad{j}", f"grad {j}")
